//! What keeps a bucket's data from being lost for good: `versioning.json`
//! (`aws s3api get-bucket-versioning`: versioning and MFA Delete, with the
//! ceiling MFA Delete puts on the requests that lose versions,
//! rules/45-mfa-delete.dl) and `object-lock.json` (`aws s3api
//! get-object-lock-configuration`, rules/46-object-lock.dl).

use super::json::{Node, Value};
use super::record;
use crate::diag::{Diagnostic, Span};
use crate::model::{
    ConditionEntry, Effect, Encryption, Estate, ListedVersion, Negatable, ObjectLock, Policy,
    PolicyBody, PolicyKind, Retention, RetentionMode, Statement, Versioning, VersioningStatus,
    MFA_DELETE_ACTIONS,
};

/// The file as the CLI prints it: `{}` for a bucket never versioned,
/// otherwise `Status` (`Enabled`/`Suspended`) and, once set, `MFADelete`
/// (`Enabled`/`Disabled`). Any other key or value is an error: the state is
/// then unreadable, never "not versioned".
pub(crate) fn versioning_file(doc: &Node) -> Result<Versioning, Diagnostic> {
    let what = "`{\"Status\": \"Enabled\"|\"Suspended\", \"MFADelete\": \"Enabled\"|\"Disabled\"}` as `get-bucket-versioning` prints it (`{}` when never versioned)";
    let Value::Object(props) = &doc.value else {
        return Err(doc.error(what));
    };
    if let Some((key, node)) = props
        .iter()
        .find(|(k, _)| k != "Status" && k != "MFADelete")
    {
        return Err(Diagnostic::error(
            node.span.clone(),
            format!("unknown key `{key}`: expected {what}"),
        ));
    }
    let status = match doc.get("Status") {
        None => VersioningStatus::Never,
        Some(n) => match n.as_str() {
            Some("Enabled") => VersioningStatus::Enabled,
            Some("Suspended") => VersioningStatus::Suspended,
            _ => return Err(n.error("`Status` as Enabled or Suspended")),
        },
    };
    let mfa_delete = switch(doc, "MFADelete", ["Enabled", "Disabled"])?;
    Ok(Versioning { status, mfa_delete })
}

/// An optional field that is either `on` or `off` (as the CLI prints it):
/// whether it is on; left out (or null), off.
fn switch(doc: &Node, key: &str, [on, off]: [&str; 2]) -> Result<bool, Diagnostic> {
    match doc.present(key).map(|n| (n, n.as_str())) {
        None => Ok(false),
        Some((_, Some(v))) if v == on => Ok(true),
        Some((_, Some(v))) if v == off => Ok(false),
        Some((n, _)) => Err(n.error(&format!("`{key}` as {on} or {off}"))),
    }
}

/// The environment file's `versioning` (docs/env-file.md): `"Enabled"`,
/// `"Suspended"` or `"Never"`, or the object the CLI prints.
pub(crate) fn versioning_env(n: &Node) -> Result<Versioning, Diagnostic> {
    match n.as_str() {
        Some("Enabled") => Ok(Versioning {
            status: VersioningStatus::Enabled,
            mfa_delete: false,
        }),
        Some("Suspended") => Ok(Versioning {
            status: VersioningStatus::Suspended,
            mfa_delete: false,
        }),
        Some("Never") => Ok(Versioning::default()),
        Some(_) => Err(n.error(
            "`versioning` as Enabled, Suspended, Never, or the object get-bucket-versioning prints",
        )),
        None => versioning_file(n),
    }
}

/// The bucket's versioning as read (a missing file: never versioned, as
/// the other optional bucket files default, docs/decisions.md), and its
/// MFA Delete ceiling: one Allow of the guarded actions over HTTPS, which
/// the rules grant only to the bucket owner's root user ("Requests that
/// include x-amz-mfa must use HTTPS"). An unreadable file is recorded and
/// leaves every answer MFA Delete could change unknown (rules/45).
pub(crate) fn bucket_versioning(
    read: Option<Result<(Versioning, Span), Diagnostic>>,
    bucket: &str,
    estate: &mut Estate,
) -> (Result<Versioning, String>, Option<usize>) {
    let (v, span) = match read {
        None => return (Ok(Versioning::default()), None),
        Some(Err(d)) => return (Err(record(d, estate)), None),
        Some(Ok((v, _))) if !v.mfa_delete => return (Ok(v), None),
        Some(Ok(read)) => read,
    };
    let statement = Statement {
        label: "MFADelete".into(),
        effect: Effect::Allow,
        principal: None,
        action: Negatable {
            negated: false,
            items: MFA_DELETE_ACTIONS.map(String::from).to_vec(),
        },
        resource: Some(Negatable {
            negated: false,
            items: vec![
                format!("arn:aws:s3:::{bucket}"),
                format!("arn:aws:s3:::{bucket}/*"),
            ],
        }),
        condition: vec![ConditionEntry {
            operator: "Bool".into(),
            key: "aws:SecureTransport".into(),
            values: vec!["true".into()],
            span: span.clone(),
        }],
        condition_empty: false,
        span: span.clone(),
    };
    estate.policies.push(Policy {
        name: bucket.to_string(),
        kind: PolicyKind::MfaDelete,
        span,
        body: Ok(PolicyBody {
            version: Some("2012-10-17".into()),
            statements: vec![statement],
        }),
    });
    (Ok(v), Some(estate.policies.len() - 1))
}

/// `object-lock.json` as `get-object-lock-configuration` prints it:
/// `{"ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled", "Rule":
/// {"DefaultRetention": {"Mode": …, "Days"|"Years": N}}}}`; the
/// environment file takes the same object. Anything else is an error: the
/// configuration is then unreadable, never "off".
pub(crate) fn object_lock(doc: &Node) -> Result<ObjectLock, Diagnostic> {
    let what = "`{\"ObjectLockConfiguration\": {\"ObjectLockEnabled\": \"Enabled\", \"Rule\": …}}` as `get-object-lock-configuration` prints it";
    let Some(c) = doc.get("ObjectLockConfiguration") else {
        return Err(doc.error(what));
    };
    let enabled = match c.get("ObjectLockEnabled") {
        None => false,
        Some(n) if n.as_str() == Some("Enabled") => true,
        Some(n) => return Err(n.error("`ObjectLockEnabled` as Enabled")),
    };
    let default_retention = match c.get("Rule").and_then(|r| r.get("DefaultRetention")) {
        None => None,
        Some(d) => {
            let mode = d.str_field("Mode")?;
            if mode != "GOVERNANCE" && mode != "COMPLIANCE" {
                return Err(d
                    .get("Mode")
                    .unwrap_or(d)
                    .error("`Mode` as GOVERNANCE or COMPLIANCE"));
            }
            let period = ["Days", "Years"]
                .iter()
                .find_map(|unit| d.get(unit).map(|n| (unit.to_lowercase(), n)));
            match period {
                Some((
                    unit,
                    Node {
                        value: Value::Number(n),
                        ..
                    },
                )) => Some(format!("{mode} {n} {unit}")),
                Some((_, n)) => return Err(n.error("a number of days or years")),
                None => return Err(d.error("`Days` or `Years`")),
            }
        }
    };
    Ok(ObjectLock {
        enabled,
        default_retention,
    })
}

/// The version a listed object's head.json describes (`VersionId`), with
/// its Object Lock state: `ObjectLockMode` and `ObjectLockRetainUntilDate`
/// together (head-object prints both or neither), and
/// `ObjectLockLegalHoldStatus`. `None` when it names no version (a bucket
/// never versioned). The ceiling is attached by `retention_ceiling`.
pub(crate) fn listed_version(doc: &Node) -> Result<Option<ListedVersion>, Diagnostic> {
    let Some(id) = doc.present("VersionId") else {
        return Ok(None);
    };
    let id = id
        .as_str()
        .ok_or_else(|| id.error("`VersionId` as a string"))?
        .to_string();
    let retention = match (
        doc.present("ObjectLockMode"),
        doc.present("ObjectLockRetainUntilDate"),
    ) {
        (None, None) => None,
        (Some(mode), Some(until)) => {
            let mode = match mode.as_str() {
                Some("GOVERNANCE") => RetentionMode::Governance,
                Some("COMPLIANCE") => RetentionMode::Compliance,
                _ => return Err(mode.error("`ObjectLockMode` as GOVERNANCE or COMPLIANCE")),
            };
            let until = until
                .as_str()
                .filter(|d| chrono::DateTime::parse_from_rfc3339(d).is_ok())
                .ok_or_else(|| {
                    until.error("`ObjectLockRetainUntilDate` as an RFC 3339 date and time (2030-01-01T00:00:00+00:00)")
                })?;
            Some(Retention {
                mode,
                until: until.to_string(),
            })
        }
        (Some(n), None) => {
            return Err(n.error("`ObjectLockRetainUntilDate` beside `ObjectLockMode`"))
        }
        (None, Some(n)) => {
            return Err(n.error("`ObjectLockMode` beside `ObjectLockRetainUntilDate`"))
        }
    };
    let legal_hold = switch(doc, "ObjectLockLegalHoldStatus", ["ON", "OFF"])?;
    Ok(Some(ListedVersion {
        id,
        retention,
        legal_hold,
        ceiling: None,
    }))
}

/// The ceiling a version's retention puts on deleting it (rules/46): one
/// Allow of `s3:DeleteObjectVersion` on the object once `aws:CurrentTime`
/// is past the retain-until date. S3 User Guide, "Locking objects with
/// Object Lock": a retention period "specifies a fixed period of time
/// during which an object version remains locked".
pub(crate) fn retention_ceiling(
    bucket: &str,
    key: &str,
    version: &mut ListedVersion,
    span: Span,
    estate: &mut Estate,
) {
    let Some(retention) = &version.retention else {
        return;
    };
    let statement = Statement {
        label: "RetainUntilDate".into(),
        effect: Effect::Allow,
        principal: None,
        action: Negatable {
            negated: false,
            items: vec!["s3:DeleteObjectVersion".into()],
        },
        resource: Some(Negatable {
            negated: false,
            items: vec![format!("arn:aws:s3:::{bucket}/{key}")],
        }),
        condition: vec![ConditionEntry {
            operator: "DateGreaterThan".into(),
            key: "aws:CurrentTime".into(),
            values: vec![retention.until.clone()],
            span: span.clone(),
        }],
        condition_empty: false,
        span: span.clone(),
    };
    estate.policies.push(Policy {
        name: format!("{bucket}/{key} version {}", version.id),
        kind: PolicyKind::ObjectLock,
        span,
        body: Ok(PolicyBody {
            version: Some("2012-10-17".into()),
            statements: vec![statement],
        }),
    });
    version.ceiling = Some(estate.policies.len() - 1);
}

/// A listed object's head.json as read (`None`: the snapshot has none):
/// how the object is encrypted (load/kms.rs) and the version it describes,
/// with its retention's ceiling. One that does not read is recorded and
/// leaves both unknown.
pub(crate) fn listed_head(
    head: Option<Result<Node, Diagnostic>>,
    bucket: &str,
    key: &str,
    estate: &mut Estate,
) -> (Option<Result<Encryption, String>>, Option<ListedVersion>) {
    let Some(head) = head else {
        return (None, None);
    };
    let read = head.and_then(|d| Ok((super::kms::object_head(&d)?, listed_version(&d)?, d.span)));
    match read {
        Ok((encryption, mut version, span)) => {
            if let Some(v) = &mut version {
                retention_ceiling(bucket, key, v, span, estate);
            }
            (Some(Ok(encryption)), version)
        }
        Err(d) => (Some(Err(record(d, estate))), None),
    }
}
