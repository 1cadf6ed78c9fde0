//! Names as typed in a query, resolved against the estate (cli.md "Names").

use super::ast::Word;
use super::QueryError;
use crate::catalog::{Action, Catalog, ASSUME_ROLE, VERBS};
use crate::facts::{Resource, Subject};
use crate::index::Index;
use crate::model::{arn_fields, is_account_id, Estate, PrincipalKind};

/// A resource scope: one bucket and a key pattern for object actions;
/// through one access point of it, or (`None`) directly and through each.
pub struct Scope {
    pub bucket: usize,
    pub key: String,
    pub access_point: Option<usize>,
}

pub fn subject(estate: &Estate, index: &Index, w: &Word) -> Result<Subject, QueryError> {
    let t = w.text.as_str();
    if t == "anonymous" {
        return Ok(Subject::Anonymous);
    }
    if let Some(s) = t.strip_prefix("service:") {
        return Ok(Subject::Service(s.to_string()));
    }
    if let Some(a) = t.strip_prefix("account:") {
        if !is_account_id(a) {
            return Err(QueryError::at(
                w,
                format!("`{a}` is not an account ID: expected account:<12 digits>"),
            ));
        }
        if estate.is_described(a) {
            return Err(QueryError::at(
                w,
                format!("account {a} is described in the snapshot, so it is never abstract: name one of its principals (user/…, role/…, or arn:aws:iam::{a}:root)"),
            ));
        }
        return Ok(Subject::Outside(a.to_string()));
    }
    let found: Vec<usize> = if t.starts_with("arn:") {
        let hits = index.named.with_arn(t).to_vec();
        if hits.is_empty() {
            if let Some(f) = arn_fields(t).filter(|f| f[5] == "root" && !estate.is_described(f[4]))
            {
                return Ok(Subject::Outside(f[4].to_string()));
            }
        }
        hits
    } else if let Some((kind, name)) = t.split_once('/') {
        let kind = match kind {
            "user" => PrincipalKind::User,
            "role" => PrincipalKind::Role,
            "group" => {
                return Err(QueryError::at(
                    w,
                    "a group is not a principal: ask about one of its members",
                ));
            }
            other => {
                return Err(QueryError::at(w, format!("unknown principal kind `{other}`: expected user/NAME, role/NAME, an ARN, a unique name, anonymous, account:ID or service:NAME")));
            }
        };
        let name = name.rsplit('/').next().unwrap_or(name);
        index
            .named
            .with_name(name)
            .iter()
            .copied()
            .filter(|&i| estate.principals[i].kind == kind)
            .collect()
    } else {
        index
            .named
            .with_name(t)
            .iter()
            .copied()
            .filter(|&i| estate.principals[i].kind != PrincipalKind::Root)
            .collect()
    };
    match found.as_slice() {
        [one] => Ok(Subject::Known(*one)),
        [] => Err(QueryError::at(
            w,
            format!("no principal `{t}` in the snapshot"),
        )),
        many => Err(QueryError::at(
            w,
            format!(
                "`{t}` is ambiguous: {}; name it by ARN",
                many.iter()
                    .map(|&i| estate.principals[i].arn.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

pub fn actions(w: &Word) -> Result<Vec<&'static Action>, QueryError> {
    let found = Catalog::get().expand(&w.text);
    if found.is_empty() {
        let hint = if w.text.contains(':') {
            "no S3 bucket or object action matches it"
        } else {
            "expected a verb or an action such as s3:GetObject"
        };
        return Err(QueryError::at(
            w,
            format!("`{}`: {hint} (verbs: {})", w.text, VERBS.join(", ")),
        ));
    }
    Ok(found)
}

/// What `can` and `why` ask about: S3 actions on a bucket scope, or
/// `sts:AssumeRole` on a role (`can alice sts:AssumeRole role/reader`).
pub fn targets<'a>(
    estate: &Estate,
    index: &Index,
    action: &Word,
    resource: &Word,
) -> Result<super::Targets<'a>, QueryError> {
    if action.text.eq_ignore_ascii_case(ASSUME_ROLE) {
        let assume = Catalog::get()
            .find(ASSUME_ROLE)
            .expect("the catalogue has sts:AssumeRole");
        return match subject(estate, index, resource)? {
            Subject::Known(i) if estate.principals[i].kind == PrincipalKind::Role => {
                Ok(vec![(assume, Resource::Role(i))])
            }
            _ => Err(QueryError::at(
                resource,
                "sts:AssumeRole needs a role of the snapshot: role/NAME or its ARN",
            )),
        };
    }
    Ok(super::s3_targets(
        index,
        &actions(action)?,
        &scope(estate, resource)?,
    ))
}

pub fn scope(estate: &Estate, w: &Word) -> Result<Scope, QueryError> {
    let t = w.text.as_str();
    if let Some(rest) = t.strip_prefix("ap:") {
        return access_point_scope(estate, w, None, rest);
    }
    if let Some(f) = arn_fields(t).filter(|f| f[2] == "s3" && f[5].starts_with("accesspoint/")) {
        let rest = &f[5]["accesspoint/".len()..];
        let rest = match rest.split_once('/') {
            Some((name, tail)) => match tail.strip_prefix("object/") {
                Some(key) => format!("{name}/{key}"),
                None => {
                    return Err(QueryError::at(
                        w,
                        "an access point ARN names objects as …:accesspoint/NAME/object/KEY",
                    ))
                }
            },
            None => rest.to_string(),
        };
        return access_point_scope(estate, w, Some(f[4]), &rest);
    }
    let path = t
        .strip_prefix("s3://")
        .or_else(|| t.strip_prefix("arn:aws:s3:::"))
        .unwrap_or(t);
    let (bucket, key) = match path.split_once('/') {
        Some((b, k)) => (b, if k.is_empty() { "*" } else { k }),
        None => (path, "*"),
    };
    if bucket.contains(['*', '?']) {
        return Err(QueryError::at(
            w,
            "a resource names one bucket: wildcards are for keys (bucket/prefix/*)",
        ));
    }
    match estate.buckets.iter().position(|b| b.name == bucket) {
        Some(i) => Ok(Scope { bucket: i, key: key.to_string(), access_point: None }),
        None => Err(QueryError::at(
            w,
            format!("no bucket `{bucket}` in the snapshot: expected bucket, bucket/key, bucket/prefix/*, s3://… or arn:aws:s3:::…"),
        )),
    }
}

/// `ap:NAME/key` or an access point ARN (its account given): the access
/// point by name — the account inferred when one account has it — and the
/// key pattern (cli.md "Names").
fn access_point_scope(
    estate: &Estate,
    w: &Word,
    account: Option<&str>,
    rest: &str,
) -> Result<Scope, QueryError> {
    let (name, key) = match rest.split_once('/') {
        Some((n, k)) => (n, if k.is_empty() { "*" } else { k }),
        None => (rest, "*"),
    };
    let found: Vec<usize> = (0..estate.access_points.len())
        .filter(|&i| {
            let ap = &estate.access_points[i];
            ap.name == name && account.is_none_or(|a| ap.account == a)
        })
        .collect();
    let ap = match found.as_slice() {
        [one] => *one,
        [] => {
            return Err(QueryError::at(
                w,
                format!("no access point `{name}` in the snapshot: expected ap:NAME/key or arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME/object/key"),
            ))
        }
        many => {
            let accounts: Vec<&str> = many
                .iter()
                .map(|&i| estate.access_points[i].account.as_str())
                .collect();
            return Err(QueryError::at(
                w,
                format!(
                    "access point `{name}` is in several accounts ({}): name it by its ARN",
                    accounts.join(", ")
                ),
            ));
        }
    };
    let point = &estate.access_points[ap];
    match estate.access_point_bucket(point) {
        Some(bucket) => Ok(Scope {
            bucket,
            key: key.to_string(),
            access_point: Some(ap),
        }),
        None => Err(QueryError::at(
            w,
            format!(
                "access point `{name}` serves bucket `{}` of account {}, which the snapshot does not have",
                point.bucket, point.bucket_account
            ),
        )),
    }
}

/// Every bucket of the estate, whole (`what can` without `on`).
pub fn every_bucket(estate: &Estate) -> Vec<Scope> {
    (0..estate.buckets.len())
        .map(|bucket| Scope {
            bucket,
            key: "*".to_string(),
            access_point: None,
        })
        .collect()
}
