//! The compact environment file (inputs.md §2): one JSON file with everything
//! inline, for examples, tests and bug reports. It loads into the same model
//! as a snapshot directory. Field names are documented in docs/env-file.md.

use super::json::Node;
use super::snapshot::{ownership_value, public_access_block_env};
use super::{policy_from, record};
use crate::diag::Diagnostic;
use crate::model::{
    arn_fields, is_account_id, Account, Bucket, Encryption, Estate, Group, IamState, ListedObject,
    ObjectLock, OrgPolicy, Organization, Ownership, PolicyKind, Principal, PrincipalKind,
    PublicAccessBlock,
};

/// Loads the file into `estate`. A file that is not JSON, or whose shape is
/// wrong outside any policy document, cannot be used at all: that is the
/// error returned. Invalid policies inside it are diagnostics, as in a snapshot.
pub fn load(file: &str, bytes: &[u8], estate: &mut Estate) -> Result<(), Diagnostic> {
    load_doc(&super::parse_file(file, bytes)?, estate)
}

fn account_entry<'e>(estate: &'e mut Estate, id: &str) -> &'e mut Account {
    estate
        .accounts
        .entry(id.to_string())
        .or_insert_with(|| Account {
            id: id.to_string(),
            iam: IamState::Loaded,
            ..Account::default()
        })
}

/// The top-level fields of an environment file (docs/env-file.md).
const FIELDS: [&str; 10] = [
    "accounts",
    "groups",
    "principals",
    "buckets",
    "access_points",
    "kms_keys",
    "account_public_access_block",
    "organization",
    "scps",
    "rcps",
];

/// Recognises what was given before reading it as an environment file: an
/// AWS CLI dump on its own, or any other JSON, is an error that says what it
/// is and what was expected, never an empty estate.
fn recognise(doc: &Node) -> Result<(), Diagnostic> {
    let super::json::Value::Object(props) = &doc.value else {
        return Err(doc.error("an environment file: a JSON object (docs/env-file.md)"));
    };
    let dumps: [(&str, &str); 5] = [
        (
            "UserDetailList",
            "`aws iam get-account-authorization-details` (iam.json)",
        ),
        (
            "RoleDetailList",
            "`aws iam get-account-authorization-details` (iam.json)",
        ),
        ("Buckets", "`aws s3api list-buckets` (list-buckets.json)"),
        ("Policy", "`aws s3api get-bucket-policy` (policy.json)"),
        ("Grants", "`aws s3api get-bucket-acl` (acl.json)"),
    ];
    if let Some((_, what)) = dumps.iter().find(|(k, _)| doc.get(k).is_some()) {
        return Err(Diagnostic::error(
            doc.span.clone(),
            format!(
                "this is the output of {what}, one file of a snapshot: expected a snapshot directory \
                 (put it at DIR/accounts/<account-id>/ and pass --env DIR, docs/inputs.md) or an \
                 environment file (docs/env-file.md)"
            ),
        ));
    }
    if let Some((key, node)) = props.iter().find(|(k, _)| !FIELDS.contains(&k.as_str())) {
        return Err(Diagnostic::error(
            node.span.clone(),
            format!(
                "unknown field `{key}` of an environment file: expected {}",
                FIELDS.map(|f| format!("`{f}`")).join(", ")
            ),
        ));
    }
    Ok(())
}

fn load_doc(doc: &Node, estate: &mut Estate) -> Result<(), Diagnostic> {
    recognise(doc)?;
    for a in doc.array_field("accounts")? {
        let id = a.str_field("id")?;
        if !is_account_id(id) {
            return Err(a
                .get("id")
                .unwrap_or(a)
                .error("`id` as a 12-digit account ID"));
        }
        let canonical = a.str_field("canonical_id").ok().map(str::to_string);
        let acct = account_entry(estate, id);
        acct.canonical_id = canonical.or(acct.canonical_id.take());
        // `org_path`: the root and OUs above the account, root first.
        let path = a.string_list("org_path", "a root or OU id")?;
        if !path.is_empty() {
            let org = estate
                .organization
                .get_or_insert_with(Organization::default);
            org.accounts.push(id.to_string());
            let mut parent: Option<String> = None;
            for node in path.iter().chain(std::iter::once(&id.to_string())) {
                org.parent.insert(node.clone(), parent.clone());
                parent = Some(node.clone());
            }
        }
    }
    for g in doc.array_field("groups")? {
        let arn = g.str_field("arn")?.to_string();
        let (account, name) = iam_parts(g, &arn, "group/")?;
        let policies = docs(g, "policies", &name, PolicyKind::Identity, estate)?;
        account_entry(estate, &account);
        estate.groups.push(Group {
            arn,
            name,
            account,
            policies,
        });
    }
    for p in doc.array_field("principals")? {
        let arn = p.str_field("arn")?.to_string();
        let (kind, (account, name)) = if arn.contains(":user/") {
            (PrincipalKind::User, iam_parts(p, &arn, "user/")?)
        } else {
            (PrincipalKind::Role, iam_parts(p, &arn, "role/")?)
        };
        let groups = p.string_list("groups", "a group name")?;
        let policies = docs(p, "policies", &name, PolicyKind::Identity, estate)?;
        let boundary = p
            .present("boundary")
            .map(|b| policy_from(b, &format!("{name} boundary"), PolicyKind::Boundary, estate));
        let trust = p.get("trust").map(|t| {
            policy_from(
                t,
                &format!("{name} trust policy"),
                PolicyKind::Trust,
                estate,
            )
        });
        account_entry(estate, &account);
        estate.principals.push(Principal {
            arn,
            account,
            kind,
            name,
            unique_id: p.str_field("id").ok().map(str::to_string),
            tags: Some(super::snapshot::tags(p)?),
            policies,
            groups,
            boundary,
            trust,
        });
    }
    for b in doc.array_field("buckets")? {
        let name = b.str_field("name")?.to_string();
        let account = b.str_field("account")?.to_string();
        let policy = b
            .present("policy")
            .map(|p| policy_from(p, &name, PolicyKind::Bucket, estate));
        let ownership = match b.get("ownership") {
            None => Ok(Ownership::ObjectWriter),
            Some(o) => ownership_value(o).map_err(|d| record(d, estate)),
        };
        let public_access_block = match b.get("public_access_block") {
            None => Ok(PublicAccessBlock::default()),
            Some(c) => public_access_block_env(c).map_err(|d| record(d, estate)),
        };
        account_entry(estate, &account);
        let acl = b
            .present("acl")
            .map(|a| super::acl::bucket_acl(a).map_err(|d| record(d, estate)));
        let objects = b
            .array_field("objects")?
            .iter()
            .map(|o| {
                let key = o.str_field("key")?.to_string();
                let (acl, head) = (o.present("acl"), o.present("head"));
                if acl.is_none() && head.is_none() {
                    return Err(o.error("an object with `key` and its `acl`, `head` or both"));
                }
                let acl = match acl {
                    Some(a) => super::acl::object_acl(a).map_err(|d| record(d, estate)),
                    None => Err(super::snapshot::NO_OBJECT_ACL.to_string()),
                };
                let (encryption, version) = super::data_protection::listed_head(
                    head.map(|h| Ok(h.clone())),
                    &name,
                    &key,
                    estate,
                );
                Ok(ListedObject {
                    key,
                    acl,
                    encryption,
                    version,
                })
            })
            .collect::<Result<_, Diagnostic>>()?;
        let versioning = b.get("versioning").map(|n| {
            let span = n.get("MFADelete").unwrap_or(n).span.clone();
            super::data_protection::versioning_env(n).map(|v| (v, span))
        });
        let (versioning, mfa_delete) =
            super::data_protection::bucket_versioning(versioning, &name, estate);
        let object_lock = match b.get("object_lock") {
            None => Ok(ObjectLock::default()),
            Some(n) => super::data_protection::object_lock(n).map_err(|d| record(d, estate)),
        };
        let encryption = match b.get("encryption") {
            None => Ok(Encryption::S3Managed),
            Some(n) => super::kms::encryption(n).map_err(|d| record(d, estate)),
        };
        estate.buckets.push(Bucket {
            name,
            account,
            policy,
            ownership,
            public_access_block,
            acl,
            objects,
            versioning,
            mfa_delete,
            object_lock,
            encryption,
            span: b.span.clone(),
        });
    }
    for k in doc.array_field("kms_keys")? {
        // The entry is what `describe-key` prints (its `KeyMetadata`), plus
        // the key's `policy` and, if any, its `grants`; the owning account
        // is the one its `Arn` names.
        let meta = k.get("KeyMetadata").unwrap_or(k);
        let account = meta
            .str_field("Arn")?
            .split(':')
            .nth(4)
            .filter(|acct| is_account_id(acct))
            .ok_or_else(|| k.error("an `Arn` of the form arn:aws:kms:REGION:ACCOUNT:key/KEY-ID"))?
            .to_string();
        let mut key = super::kms::key_metadata(k, &account)?;
        account_entry(estate, &account);
        key.policy = k
            .present("policy")
            .map(|p| policy_from(p, &key.id, PolicyKind::Key, estate));
        key.grants = match k.present("grants") {
            None => false,
            Some(g) => super::kms::has_grants(g)?,
        };
        estate.kms_keys.push(key);
    }
    for a in doc.array_field("access_points")? {
        // The entry is what `get-access-point` prints, plus its `policy`;
        // the owning account is the one its `AccessPointArn` names.
        let arn = a.str_field("AccessPointArn")?;
        let account = crate::model::arn_fields(arn)
            .map(|f| f[4])
            .filter(|acct| is_account_id(acct))
            .ok_or_else(|| {
                a.error(
                    "an `AccessPointArn` of the form arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME",
                )
            })?
            .to_string();
        let mut ap = super::access_point::settings(a, &account, public_access_block_env)?;
        account_entry(estate, &account);
        ap.policy = a
            .present("policy")
            .map(|p| policy_from(p, &ap.name, PolicyKind::AccessPoint, estate));
        estate.access_points.push(ap);
    }
    match doc.get("account_public_access_block") {
        None
        | Some(Node {
            value: super::json::Value::Null,
            ..
        }) => {}
        Some(Node {
            value: super::json::Value::Object(m),
            ..
        }) => {
            for (id, c) in m {
                if !is_account_id(id) {
                    return Err(Diagnostic::error(
                        c.span.clone(),
                        format!(
                            "`account_public_access_block` key `{id}`: expected a 12-digit account ID"
                        ),
                    ));
                }
                let pab = public_access_block_env(c).map_err(|d| record(d, estate));
                account_entry(estate, id).account_public_access_block = Some(pab);
            }
        }
        Some(n) => return Err(n.error(
            "`account_public_access_block` as an object of account ID → Block Public Access flags",
        )),
    }
    load_organization(doc, estate)?;
    let ids: Vec<String> = estate
        .accounts
        .values()
        .filter(|a| a.iam == IamState::Loaded)
        .map(|a| a.id.clone())
        .collect();
    for id in ids {
        let root = Principal::root(&id);
        if !estate.principals.iter().any(|p| p.arn == root.arn) {
            estate.principals.push(root);
        }
    }
    Ok(())
}

/// Account and name of an IAM ARN of the given resource prefix (`user/`, `role/`, `group/`).
fn iam_parts(n: &Node, arn: &str, prefix: &str) -> Result<(String, String), Diagnostic> {
    match arn_fields(arn) {
        Some(f) if f[2] == "iam" && is_account_id(f[4]) && f[5].starts_with(prefix) => {
            let name = f[5].rsplit('/').next().unwrap_or_default().to_string();
            Ok((f[4].to_string(), name))
        }
        _ => Err(n
            .get("arn")
            .unwrap_or(n)
            .error(&format!("`arn` as arn:aws:iam::ACCOUNT:{prefix}NAME"))),
    }
}

fn docs(
    n: &Node,
    key: &str,
    owner: &str,
    kind: PolicyKind,
    estate: &mut Estate,
) -> Result<Vec<usize>, Diagnostic> {
    Ok(n.array_field(key)?
        .iter()
        .enumerate()
        .map(|(i, d)| policy_from(d, &format!("{owner} policy {i}"), kind, estate))
        .collect())
}

/// `organization` (`id`, `management_account`, `accounts`, `parent`), `scps`
/// and `rcps` (each `{"id", "targets", "policy"}`): the same model as a
/// snapshot's `org/`.
fn load_organization(doc: &Node, estate: &mut Estate) -> Result<(), Diagnostic> {
    let mut policies = Vec::new();
    for (key, kind) in [("scps", PolicyKind::Scp), ("rcps", PolicyKind::Rcp)] {
        for p in doc.array_field(key)? {
            let id = p.str_field("id")?.to_string();
            let targets = p.string_list("targets", "a root, OU or account id")?;
            let Some(body) = p.get("policy") else {
                return Err(p.error("a `policy` document"));
            };
            let policy = policy_from(body, &id, kind, estate);
            policies.push(OrgPolicy {
                id,
                policy,
                targets,
            });
        }
    }
    let summary = doc.get("organization");
    if policies.is_empty() && summary.is_none() && estate.organization.is_none() {
        return Ok(());
    }
    let org = estate
        .organization
        .get_or_insert_with(Organization::default);
    org.policies.extend(policies);
    if let Some(o) = summary {
        org.id = o.str_field("id").ok().map(str::to_string);
        org.management_account = o.str_field("management_account").ok().map(str::to_string);
        if o.get("accounts").is_some() {
            org.accounts = o.string_list("accounts", "a member account id")?;
            org.members_known = true;
        }
        if let Some(parents) = o.get("parent") {
            let super::json::Value::Object(m) = &parents.value else {
                return Err(parents.error("an object of id → parent id (null for the root)"));
            };
            for (id, p) in m {
                let parent = match &p.value {
                    super::json::Value::Null => None,
                    super::json::Value::String(s) => Some(s.clone()),
                    _ => return Err(p.error("a parent id, or null for the root")),
                };
                org.parent.insert(id.clone(), parent);
            }
        }
    }
    Ok(())
}
