//! What keeps a bucket's data from being lost for good: `versioning.json`
//! (`aws s3api get-bucket-versioning`: versioning and MFA Delete, with the
//! ceiling MFA Delete puts on the requests that lose versions,
//! rules/45-mfa-delete.dl) and `object-lock.json` (`aws s3api
//! get-object-lock-configuration`, rules/46-object-lock.dl).

use super::json::{Node, Value};
use super::record;
use crate::diag::{Diagnostic, Span};
use crate::model::{
    ConditionEntry, Effect, Estate, Negatable, ObjectLock, Policy, PolicyBody, PolicyKind,
    Statement, Versioning, VersioningStatus, MFA_DELETE_ACTIONS,
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
    let mfa_delete = match doc.get("MFADelete") {
        None => false,
        Some(n) => match n.as_str() {
            Some("Enabled") => true,
            Some("Disabled") => false,
            _ => return Err(n.error("`MFADelete` as Enabled or Disabled")),
        },
    };
    Ok(Versioning { status, mfa_delete })
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
