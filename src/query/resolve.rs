//! Names as typed in a query, resolved against the estate (cli.md "Names").

use super::ast::Word;
use super::QueryError;
use crate::catalog::{Action, Catalog, ASSUME_ROLE, VERBS};
use crate::facts::{Resource, Subject};
use crate::model::{arn_fields, is_account_id, Estate, PrincipalKind};

/// A resource scope: one bucket and a key pattern for object actions.
pub struct Scope {
    pub bucket: usize,
    pub key: String,
}

pub fn subject(estate: &Estate, w: &Word) -> Result<Subject, QueryError> {
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
        let hits: Vec<usize> = (0..estate.principals.len())
            .filter(|&i| estate.principals[i].arn == t)
            .collect();
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
        (0..estate.principals.len())
            .filter(|&i| estate.principals[i].kind == kind && estate.principals[i].name == name)
            .collect()
    } else {
        (0..estate.principals.len())
            .filter(|&i| {
                estate.principals[i].kind != PrincipalKind::Root && estate.principals[i].name == t
            })
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
    action: &Word,
    resource: &Word,
) -> Result<super::Targets<'a>, QueryError> {
    if action.text.eq_ignore_ascii_case(ASSUME_ROLE) {
        let assume = Catalog::get()
            .find(ASSUME_ROLE)
            .expect("the catalogue has sts:AssumeRole");
        return match subject(estate, resource)? {
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
        &actions(action)?,
        &scope(estate, resource)?,
    ))
}

pub fn scope(estate: &Estate, w: &Word) -> Result<Scope, QueryError> {
    let t = w.text.as_str();
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
        Some(i) => Ok(Scope { bucket: i, key: key.to_string() }),
        None => Err(QueryError::at(
            w,
            format!("no bucket `{bucket}` in the snapshot: expected bucket, bucket/key, bucket/prefix/*, s3://… or arn:aws:s3:::…"),
        )),
    }
}

/// Every bucket of the estate, whole (`what can` without `on`).
pub fn every_bucket(estate: &Estate) -> Vec<Scope> {
    (0..estate.buckets.len())
        .map(|bucket| Scope {
            bucket,
            key: "*".to_string(),
        })
        .collect()
}
