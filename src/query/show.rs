//! `show principal|bucket|policy NAME` (cli.md): what the estate holds for
//! one entity, each item with the file and line it was read from — the
//! facts an answer rests on, before any evaluation. The roles a principal
//! can assume are the one derived item: the can-assume edges the rules
//! give for it (one evaluation with no S3 request).

use super::ast::{ShowKind, Word};
use super::evaluation::{evaluate, Reported};
use super::resolve;
use super::{Engine, Given, QueryError};
use crate::diag::Span;
use crate::facts::Subject;
use crate::model::{
    Acl, Effect, ListedVersion, Policy, PrincipalKind, PrincipalPattern, PublicAccessBlock,
    RetentionMode, Statement,
};

/// One entity's sheet: its items in a fixed order.
#[derive(Clone, Debug)]
pub struct Shown {
    /// `principal`, `bucket` or `policy`.
    pub kind: &'static str,
    pub name: String,
    pub items: Vec<Item>,
}

/// One fact: a field name, its value in words, and where it was read.
#[derive(Clone, Debug)]
pub struct Item {
    pub field: &'static str,
    pub value: String,
    pub source: Option<Span>,
}

fn item(field: &'static str, value: impl Into<String>, source: Option<&Span>) -> Item {
    Item {
        field,
        value: value.into(),
        source: source.cloned(),
    }
}

pub(super) fn show(engine: &Engine, kind: ShowKind, name: &Word) -> Result<Vec<Shown>, QueryError> {
    let estate = engine.estate;
    Ok(match kind {
        ShowKind::Principal => vec![principal(
            engine,
            resolve::subject(estate, &engine.index, name)?,
            name,
        )?],
        ShowKind::Bucket => vec![bucket(engine, resolve::scope(estate, name)?.bucket)],
        ShowKind::Policy => {
            let found: Vec<&Policy> = estate
                .policies
                .iter()
                .filter(|p| p.name == name.text)
                .collect();
            if found.is_empty() {
                return Err(QueryError::at(
                    name,
                    format!("no policy named `{}` in the snapshot: expected the name of a managed or inline policy, or a bucket (its bucket policy)", name.text),
                ));
            }
            found.into_iter().map(policy).collect()
        }
    })
}

fn policy_label(p: &Policy) -> String {
    format!("{} `{}`", crate::facts::layer_of(p.kind).name(), p.name)
}

/// A policy item: its name, or why it could not be read.
fn policy_item(field: &'static str, p: &Policy) -> Item {
    let value = match &p.body {
        Ok(_) => policy_label(p),
        Err(e) => format!("{} — unreadable: {e}", policy_label(p)),
    };
    item(field, value, Some(&p.span))
}

fn principal(engine: &Engine, subject: Subject, name: &Word) -> Result<Shown, QueryError> {
    let estate = engine.estate;
    let Subject::Known(i) = subject else {
        return Err(QueryError::at(
            name,
            "an abstract principal (anonymous, account:…, service:…) has nothing in the snapshot to show: name a user or role",
        ));
    };
    let p = &estate.principals[i];
    let kind = match p.kind {
        PrincipalKind::User => "user",
        PrincipalKind::Role => "role",
        PrincipalKind::Root => "account root user",
    };
    let mut items = vec![
        item("kind", kind, None),
        item("account", p.account.clone(), None),
    ];
    if let Some(id) = &p.unique_id {
        items.push(item("unique id", id.clone(), None));
    }
    match &p.tags {
        Some(tags) => {
            for (k, v) in tags {
                items.push(item("tag", format!("{k} = {v}"), None));
            }
        }
        None => items.push(item("tags", "could not be read".to_string(), None)),
    }
    for &pol in &p.policies {
        items.push(policy_item("policy", &estate.policies[pol]));
    }
    for g in &p.groups {
        match estate.group(&p.account, g) {
            Some(group) => {
                items.push(item("group", group.arn.clone(), None));
                for &pol in &group.policies {
                    let mut it = policy_item("group policy", &estate.policies[pol]);
                    it.value = format!("{} (through {g})", it.value);
                    items.push(it);
                }
            }
            None => items.push(item(
                "group",
                format!("{g} — not in the snapshot's groups"),
                None,
            )),
        }
    }
    match p.boundary {
        Some(b) => items.push(policy_item("boundary", &estate.policies[b])),
        None if p.kind != PrincipalKind::Root => items.push(item("boundary", "none", None)),
        None => {}
    }
    if let Some(t) = p.trust {
        items.push(policy_item("trust", &estate.policies[t]));
    }
    // The roles it can assume in one step, as the rules derive them.
    let ev = evaluate(
        engine,
        std::slice::from_ref(&subject),
        &Vec::new(),
        &Given::default(),
        Reported::Every,
    );
    for (role, d) in ev.assumable(&subject) {
        items.push(item(
            "can assume",
            format!("{} ({})", estate.principals[role].arn, d.names().0),
            None,
        ));
    }
    Ok(Shown {
        kind: "principal",
        name: p.arn.clone(),
        items,
    })
}

fn flags(b: &PublicAccessBlock) -> String {
    let on: Vec<&str> = [
        (b.block_public_acls, "BlockPublicAcls"),
        (b.ignore_public_acls, "IgnorePublicAcls"),
        (b.block_public_policy, "BlockPublicPolicy"),
        (b.restrict_public_buckets, "RestrictPublicBuckets"),
    ]
    .iter()
    .filter(|(set, _)| *set)
    .map(|(_, n)| *n)
    .collect();
    if on.is_empty() {
        "all off".into()
    } else {
        on.join(", ")
    }
}

fn acl_items(items: &mut Vec<Item>, field: &'static str, acl: &Acl) {
    if let Some(o) = &acl.owner {
        items.push(item(field, format!("owner canonical:{o}"), None));
    }
    for g in &acl.grants {
        items.push(item(
            field,
            format!("{} to {}", g.permission.name(), g.grantee.name()),
            Some(&g.span),
        ));
    }
}

/// How a bucket's default (or a listed object's) encryption reads, as an
/// item: the key's ARN where the snapshot describes it (rules/78), with
/// where its description was read.
fn encryption(
    estate: &crate::model::Estate,
    field: &'static str,
    account: &str,
    e: &Result<crate::model::Encryption, String>,
) -> Item {
    use crate::model::Encryption;
    match e {
        Ok(Encryption::S3Managed) => item(field, "SSE-S3", None),
        Ok(Encryption::Kms { key, bucket_key }) => {
            let keys = if *bucket_key { ", S3 Bucket Keys" } else { "" };
            let (named, at) = match key.as_deref() {
                None => (
                    "the AWS managed key aws/s3 (not in the snapshot)".to_string(),
                    None,
                ),
                Some(k) => match estate.kms_key_named(account, k) {
                    Some(i) => {
                        let key = &estate.kms_keys[i];
                        let managed = if key.aws_managed {
                            " (AWS managed)"
                        } else {
                            ""
                        };
                        (format!("{}{managed}", key.arn), Some(&key.span))
                    }
                    None => (format!("{k} (not in the snapshot)"), None),
                },
            };
            item(field, format!("SSE-KMS {named}{keys}"), at)
        }
        Err(e) => item(field, format!("unreadable: {e}"), None),
    }
}

fn bucket(engine: &Engine, b: usize) -> Shown {
    let estate = engine.estate;
    let bucket = &estate.buckets[b];
    let account = estate.accounts.get(&bucket.account);
    let mut items = vec![item("owner", bucket.account.clone(), Some(&bucket.span))];
    match bucket.policy {
        Some(p) => items.push(policy_item("policy", &estate.policies[p])),
        None => items.push(item("policy", "none", None)),
    }
    match &bucket.ownership {
        Ok(o) => items.push(item("ownership", format!("{o:?}"), None)),
        Err(e) => items.push(item("ownership", format!("unreadable: {e}"), None)),
    }
    match &bucket.versioning {
        Ok(v) => {
            let mfa = if v.mfa_delete { ", MFA Delete" } else { "" };
            items.push(item("versioning", format!("{:?}{mfa}", v.status), None));
        }
        Err(e) => items.push(item("versioning", format!("unreadable: {e}"), None)),
    }
    match &bucket.object_lock {
        Ok(l) if l.enabled => {
            let default = l
                .default_retention
                .as_deref()
                .unwrap_or("no default retention");
            items.push(item("object lock", format!("on, {default}"), None));
        }
        Ok(_) => {}
        Err(e) => items.push(item("object lock", format!("unreadable: {e}"), None)),
    }
    items.push(encryption(
        estate,
        "encryption",
        &bucket.account,
        &bucket.encryption,
    ));
    match &bucket.public_access_block {
        Ok(f) => items.push(item("bpa", flags(f), None)),
        Err(e) => items.push(item("bpa", format!("unreadable: {e}"), None)),
    }
    match account.and_then(|a| a.account_public_access_block.as_ref()) {
        Some(Ok(f)) => items.push(item("account bpa", flags(f), None)),
        Some(Err(e)) => items.push(item("account bpa", format!("unreadable: {e}"), None)),
        None => items.push(item("account bpa", "not in the snapshot", None)),
    }
    match &bucket.acl {
        Some(Ok(acl)) => acl_items(&mut items, "acl", acl),
        Some(Err(e)) => items.push(item("acl", format!("unreadable: {e}"), None)),
        None => items.push(item("acl", "not in the snapshot", None)),
    }
    for &i in &engine.index.access_points[b] {
        let ap = &estate.access_points[i];
        let origin = ap
            .vpc
            .as_deref()
            .map_or("Internet".to_string(), |v| format!("VPC {v}"));
        let policy = ap.policy.map_or("no policy".to_string(), |p| {
            policy_label(&estate.policies[p])
        });
        items.push(item(
            "access point",
            format!(
                "{} ({origin}, bpa {}, {policy})",
                ap.arn(),
                flags(&ap.public_access_block)
            ),
            Some(&ap.span),
        ));
    }
    for o in &bucket.objects {
        match &o.acl {
            Ok(acl) => {
                items.push(item("object", o.key.clone(), None));
                acl_items(&mut items, "object acl", acl);
            }
            Err(e) if o.encryption.is_some() => items.push(item(
                "object",
                format!("{} — ACL not in the snapshot: {e}", o.key),
                None,
            )),
            Err(e) => items.push(item(
                "object",
                format!("{} — ACL unreadable: {e}", o.key),
                None,
            )),
        }
        if let Some(e) = &o.encryption {
            items.push(encryption(estate, "object encryption", &bucket.account, e));
        }
        if let Some(v) = &o.version {
            items.push(item("object version", version_lock(v), None));
        }
    }
    Shown {
        kind: "bucket",
        name: bucket.name.clone(),
        items,
    }
}

/// A listed version and what Object Lock keeps it from (rules/46).
fn version_lock(v: &ListedVersion) -> String {
    let mut lock = Vec::new();
    if let Some(r) = &v.retention {
        let mode = match r.mode {
            RetentionMode::Governance => "governance",
            RetentionMode::Compliance => "compliance",
        };
        lock.push(format!("{mode} retention until {}", r.until));
    }
    if v.legal_hold {
        lock.push("legal hold".to_string());
    }
    match lock.is_empty() {
        true => format!("{}, not locked", v.id),
        false => format!("{}, {}", v.id, lock.join(", ")),
    }
}

fn statement_text(st: &Statement) -> String {
    let list = |negated: bool, yes: &str, no: &str, items: &[String]| {
        format!("{} {}", if negated { no } else { yes }, items.join(", "))
    };
    let mut parts = vec![
        match st.effect {
            Effect::Allow => "Allow".to_string(),
            Effect::Deny => "Deny".to_string(),
        },
        list(st.action.negated, "Action", "NotAction", &st.action.items),
    ];
    if let Some(r) = &st.resource {
        parts.push(list(r.negated, "Resource", "NotResource", &r.items));
    }
    if let Some(p) = &st.principal {
        let names: Vec<String> = p
            .items
            .iter()
            .map(|x| match x {
                PrincipalPattern::Everyone => "*".to_string(),
                PrincipalPattern::Account(a) => format!("account {a}"),
                PrincipalPattern::CanonicalUser(c) => format!("canonical:{c}"),
                PrincipalPattern::Arn(a) => a.clone(),
                PrincipalPattern::UniqueId(u) => u.clone(),
                PrincipalPattern::Service(s) => format!("service:{s}"),
                PrincipalPattern::Federated(f) => format!("federated:{f}"),
            })
            .collect();
        parts.push(list(p.negated, "Principal", "NotPrincipal", &names));
    }
    for c in &st.condition {
        parts.push(format!(
            "when {} {} {}",
            c.operator,
            c.key,
            c.values.join(", ")
        ));
    }
    parts.join("; ")
}

fn policy(p: &Policy) -> Shown {
    let mut items = vec![policy_item("policy", p)];
    if let Ok(body) = &p.body {
        items.push(item(
            "version",
            body.version.clone().unwrap_or_else(|| "none".into()),
            None,
        ));
        for st in &body.statements {
            items.push(Item {
                field: "statement",
                value: format!("{}: {}", st.label, statement_text(st)),
                source: Some(st.span.clone()),
            });
        }
    }
    Shown {
        kind: "policy",
        name: p.name.clone(),
        items,
    }
}
