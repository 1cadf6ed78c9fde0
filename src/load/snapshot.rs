//! The snapshot directory: the AWS CLI's own outputs (inputs.md §1).

use super::json::{Node, Value};
use super::{missing_policy, parse_file, policy_from, record, FileSet};
use crate::diag::{Diagnostic, Span};
use crate::model::{
    is_account_id, Account, Bucket, Estate, Group, IamState, ListedObject, Ownership, PolicyKind,
    Principal, PrincipalKind, PublicAccessBlock,
};
use std::collections::{BTreeMap, BTreeSet};

pub fn load(files: &FileSet, estate: &mut Estate) {
    let accounts: BTreeSet<&str> = files
        .files
        .keys()
        .filter_map(|k| k.strip_prefix("accounts/"))
        .filter_map(|k| k.split('/').next())
        .filter(|a| !a.is_empty())
        .collect();
    for id in accounts {
        let base = format!("accounts/{id}");
        if !is_account_id(id) {
            estate.diagnostics.push(Diagnostic::error(
                Span::file(&files.display(&base)),
                format!("folder `{id}`: expected a 12-digit account ID"),
            ));
            continue;
        }
        load_account(files, id, estate);
    }
    super::org::load(files, estate);
}

fn read<'f>(files: &'f FileSet, rel: &str) -> Option<&'f [u8]> {
    files.files.get(rel).map(Vec::as_slice)
}

fn load_account(files: &FileSet, id: &str, estate: &mut Estate) {
    let base = format!("accounts/{id}");
    let mut account = estate.accounts.remove(id).unwrap_or_else(|| Account {
        id: id.to_string(),
        ..Account::default()
    });
    if let Some(bytes) = read(files, &format!("{base}/list-buckets.json")) {
        let file = files.display(&format!("{base}/list-buckets.json"));
        let owner = parse_file(&file, bytes).and_then(|doc| {
            doc.get("Owner")
                .map(|o| o.str_field("ID").map(str::to_string))
                .transpose()
        });
        match owner {
            Ok(c) => account.canonical_id = c,
            Err(d) => estate.diagnostics.push(d),
        }
    }
    if let Some(bytes) = read(files, &format!("{base}/public-access-block.json")) {
        let file = files.display(&format!("{base}/public-access-block.json"));
        account.account_public_access_block = Some(
            parse_file(&file, bytes)
                .and_then(|d| public_access_block(&d))
                .map_err(|e| record(e, estate)),
        );
    }
    match read(files, &format!("{base}/iam.json")) {
        Some(bytes) => {
            let file = files.display(&format!("{base}/iam.json"));
            account.iam = match parse_file(&file, bytes).and_then(|doc| load_iam(&doc, id, estate)) {
                Ok(()) => IamState::Loaded,
                Err(d) => IamState::Unreadable(record(d, estate)),
            };
        }
        None => estate.diagnostics.push(Diagnostic::warning(
            Span::file(&files.display(&base)),
            "no iam.json: the account's principals are not described, it is treated as an outside account",
        )),
    }
    estate.accounts.insert(id.to_string(), account);

    let prefix = format!("{base}/buckets/");
    let buckets: BTreeSet<&str> = files
        .files
        .keys()
        .filter_map(|k| k.strip_prefix(prefix.as_str()))
        .filter_map(|k| k.split('/').next())
        .filter(|b| !b.is_empty())
        .collect();
    for b in buckets {
        load_bucket(files, id, b, estate);
    }
}

fn load_bucket(files: &FileSet, account: &str, name: &str, estate: &mut Estate) {
    let dir = format!("accounts/{account}/buckets/{name}");
    let file = |f: &str| {
        (
            files.display(&format!("{dir}/{f}")),
            read(files, &format!("{dir}/{f}")),
        )
    };
    let policy = match file("policy.json") {
        (_, None) => None,
        (shown, Some(bytes)) => Some(match parse_file(&shown, bytes) {
            Ok(doc) => {
                let node = doc.get("Policy").cloned().unwrap_or(doc);
                policy_from(&node, name, PolicyKind::Bucket, estate)
            }
            Err(d) => missing_policy(name, PolicyKind::Bucket, d, estate),
        }),
    };
    let ownership = match file("ownership-controls.json") {
        (_, None) => Ok(Ownership::ObjectWriter),
        (shown, Some(bytes)) => parse_file(&shown, bytes)
            .and_then(|d| ownership(&d))
            .map_err(|e| record(e, estate)),
    };
    let public_access_block = match file("public-access-block.json") {
        (_, None) => Ok(PublicAccessBlock::default()),
        (shown, Some(bytes)) => parse_file(&shown, bytes)
            .and_then(|d| public_access_block(&d))
            .map_err(|e| record(e, estate)),
    };
    if let (shown, Some(bytes)) = file("versioning.json") {
        if let Err(d) = parse_file(&shown, bytes) {
            estate.diagnostics.push(d);
        }
    }
    let acl = match file("acl.json") {
        (_, None) => None,
        (shown, Some(bytes)) => Some(
            parse_file(&shown, bytes)
                .and_then(|d| super::acl::acl(&d))
                .map_err(|e| record(e, estate)),
        ),
    };
    let objects_dir = format!("{dir}/objects/");
    let listed: Vec<(String, String)> = files
        .files
        .keys()
        .filter_map(|rel| {
            let encoded = rel.strip_prefix(&objects_dir)?.strip_suffix(".acl.json")?;
            Some((rel.clone(), encoded.to_string()))
        })
        .collect();
    let objects = listed
        .into_iter()
        .map(|(rel, encoded)| ListedObject {
            key: percent_encoding::percent_decode_str(&encoded)
                .decode_utf8_lossy()
                .into_owned(),
            acl: parse_file(&files.display(&rel), &files.files[&rel])
                .and_then(|d| super::acl::acl(&d))
                .map_err(|e| record(e, estate)),
        })
        .collect();
    estate.buckets.push(Bucket {
        name: name.to_string(),
        account: account.to_string(),
        policy,
        ownership,
        public_access_block,
        acl,
        objects,
        span: Span::file(&files.display(&dir)),
    });
}

pub(crate) fn ownership(doc: &Node) -> Result<Ownership, Diagnostic> {
    let controls = doc.get("OwnershipControls").unwrap_or(doc);
    let rules = controls.array_field("Rules")?;
    let Some(rule) = rules.first() else {
        return Err(controls.error("`Rules` with one `ObjectOwnership` rule"));
    };
    ownership_value(rule.get("ObjectOwnership").unwrap_or(rule))
}

pub(crate) fn ownership_value(n: &Node) -> Result<Ownership, Diagnostic> {
    match n.as_str() {
        Some("BucketOwnerEnforced") => Ok(Ownership::BucketOwnerEnforced),
        Some("BucketOwnerPreferred") => Ok(Ownership::BucketOwnerPreferred),
        Some("ObjectWriter") => Ok(Ownership::ObjectWriter),
        _ => Err(n.error(
            "`ObjectOwnership` as BucketOwnerEnforced, BucketOwnerPreferred or ObjectWriter",
        )),
    }
}

pub(crate) fn public_access_block(doc: &Node) -> Result<PublicAccessBlock, Diagnostic> {
    let c = doc.get("PublicAccessBlockConfiguration").unwrap_or(doc);
    if !matches!(c.value, Value::Object(_)) {
        return Err(c.error("a PublicAccessBlockConfiguration object"));
    }
    let flag = |k: &str| match c.get(k).map(|n| &n.value) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(c.get(k).map_or_else(
            || c.error(k),
            |n| n.error(&format!("`{k}` as true or false")),
        )),
    };
    Ok(PublicAccessBlock {
        block_public_acls: flag("BlockPublicAcls")?,
        ignore_public_acls: flag("IgnorePublicAcls")?,
        block_public_policy: flag("BlockPublicPolicy")?,
        restrict_public_buckets: flag("RestrictPublicBuckets")?,
    })
}

/// `get-account-authorization-details`. Returns whether the account's
/// principals could be listed; per-entity errors are recorded and skipped.
fn load_iam(doc: &Node, account: &str, estate: &mut Estate) -> Result<(), Diagnostic> {
    let lists = [
        "UserDetailList",
        "GroupDetailList",
        "RoleDetailList",
        "Policies",
    ];
    let mut parts: BTreeMap<&str, &[Node]> = BTreeMap::new();
    for l in lists {
        parts.insert(l, doc.array_field(l)?);
    }
    // Managed policies first, by ARN: only the default version is in force.
    let mut managed: BTreeMap<String, usize> = BTreeMap::new();
    for p in parts["Policies"] {
        match managed_policy(p, estate) {
            Ok((arn, idx)) => {
                managed.insert(arn, idx);
            }
            Err(d) => estate.diagnostics.push(d),
        }
    }
    for g in parts["GroupDetailList"] {
        let r = (|| {
            let name = g.str_field("GroupName")?.to_string();
            let arn = g.str_field("Arn")?.to_string();
            let policies = entity_policies(g, "GroupPolicyList", &managed, estate)?;
            estate.groups.push(Group {
                arn,
                name,
                account: account.to_string(),
                policies,
            });
            Ok::<_, Diagnostic>(())
        })();
        if let Err(d) = r {
            estate.diagnostics.push(d);
        }
    }
    for (list, kind, inline) in [
        ("UserDetailList", PrincipalKind::User, "UserPolicyList"),
        ("RoleDetailList", PrincipalKind::Role, "RolePolicyList"),
    ] {
        for e in parts[list] {
            if let Err(d) = principal(e, account, kind, inline, &managed, estate) {
                estate.diagnostics.push(d);
            }
        }
    }
    estate.principals.push(Principal::root(account));
    Ok(())
}

fn managed_policy(p: &Node, estate: &mut Estate) -> Result<(String, usize), Diagnostic> {
    let arn = p.str_field("Arn")?.to_string();
    let name = p.str_field("PolicyName")?.to_string();
    let default = p.str_field("DefaultVersionId").ok().map(str::to_string);
    let versions = p.array_field("PolicyVersionList")?;
    let chosen = versions.iter().find(|v| match &default {
        Some(d) => v.get("VersionId").and_then(Node::as_str) == Some(d),
        None => matches!(
            v.get("IsDefaultVersion").map(|n| &n.value),
            Some(Value::Bool(true))
        ),
    });
    let Some(doc) = chosen.and_then(|v| v.get("Document")) else {
        return Err(
            p.error("a `PolicyVersionList` entry for the default version with a `Document`")
        );
    };
    Ok((arn, policy_from(doc, &name, PolicyKind::Identity, estate)))
}

fn entity_policies(
    e: &Node,
    inline_list: &str,
    managed: &BTreeMap<String, usize>,
    estate: &mut Estate,
) -> Result<Vec<usize>, Diagnostic> {
    let mut out = Vec::new();
    for ip in e.array_field(inline_list)? {
        let name = ip.str_field("PolicyName")?.to_string();
        let Some(doc) = ip.get("PolicyDocument") else {
            return Err(ip.error("an inline policy with a `PolicyDocument`"));
        };
        out.push(policy_from(doc, &name, PolicyKind::Identity, estate));
    }
    for mp in e.array_field("AttachedManagedPolicies")? {
        let arn = mp.str_field("PolicyArn")?;
        out.push(match managed.get(arn) {
            Some(&i) => i,
            None => missing_policy(
                arn,
                PolicyKind::Identity,
                Diagnostic::error(mp.span.clone(), format!("attached managed policy `{arn}` is not in the snapshot's `Policies`: its content is unknown")),
                estate,
            ),
        });
    }
    Ok(out)
}

fn principal(
    e: &Node,
    account: &str,
    kind: PrincipalKind,
    inline: &str,
    managed: &BTreeMap<String, usize>,
    estate: &mut Estate,
) -> Result<(), Diagnostic> {
    let arn = e.str_field("Arn")?.to_string();
    let name_field = if kind == PrincipalKind::User {
        "UserName"
    } else {
        "RoleName"
    };
    let name = e.str_field(name_field)?.to_string();
    let id_field = if kind == PrincipalKind::User {
        "UserId"
    } else {
        "RoleId"
    };
    let unique_id = e.str_field(id_field).ok().map(str::to_string);
    let tags = tags(e)?;
    let groups = e.string_list("GroupList", "a group name")?;
    let policies = entity_policies(e, inline, managed, estate)?;
    let boundary = match e.get("PermissionsBoundary") {
        None => None,
        Some(b) => {
            let barn = b.str_field("PermissionsBoundaryArn")?;
            Some(match managed.get(barn) {
                Some(&i) => {
                    let mut p = estate.policies[i].clone();
                    p.kind = PolicyKind::Boundary;
                    estate.policies.push(p);
                    estate.policies.len() - 1
                }
                None => missing_policy(
                    barn,
                    PolicyKind::Boundary,
                    Diagnostic::error(b.span.clone(), format!("permissions boundary `{barn}` is not in the snapshot's `Policies`: its content is unknown")),
                    estate,
                ),
            })
        }
    };
    let trust = match (kind, e.get("AssumeRolePolicyDocument")) {
        (PrincipalKind::Role, Some(doc)) => Some(policy_from(
            doc,
            &format!("{name} trust policy"),
            PolicyKind::Trust,
            estate,
        )),
        _ => None,
    };
    estate.principals.push(Principal {
        arn,
        account: account.to_string(),
        kind,
        name,
        unique_id,
        tags,
        policies,
        groups,
        boundary,
        trust,
    });
    Ok(())
}

/// An entity's `Tags` (`[{"Key": …, "Value": …}]`), as IAM prints them.
pub fn tags(e: &Node) -> Result<Vec<(String, String)>, Diagnostic> {
    e.array_field("Tags")?
        .iter()
        .map(|t| {
            Ok((
                t.str_field("Key")?.to_string(),
                t.str_field("Value")?.to_string(),
            ))
        })
        .collect()
}
