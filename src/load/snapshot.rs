//! The snapshot directory: the AWS CLI's own outputs (inputs.md §1).

use super::json::{Node, Value};
use super::{missing_policy, parse_file, policy_from, record, FileSet};
use crate::diag::{Diagnostic, Span};
use crate::model::{
    is_account_id, Account, Bucket, Encryption, Estate, Group, IamState, ListedObject, ObjectLock,
    Ownership, PolicyKind, Principal, PrincipalKind, PublicAccessBlock,
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
                .and_then(|d| public_access_block_file(&d))
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

    for b in folders(files, &format!("{base}/buckets/")) {
        load_bucket(files, id, b, estate);
    }
    for name in folders(files, &format!("{base}/access-points/")) {
        if name == crate::collect::LIST_ACCESS_POINTS {
            super::access_point::unlisted(files, id, estate);
            continue;
        }
        super::access_point::load(files, id, name, estate);
    }
    for key in folders(files, &format!("{base}/kms/")) {
        if key == crate::collect::LIST_KEYS {
            estate.diagnostics.push(Diagnostic::error(
                Span::file(&files.display(&format!("{base}/kms/{key}"))),
                "the account's KMS keys could not be listed: objects encrypted under them are answered unknown",
            ));
            continue;
        }
        super::kms::load(files, id, key, estate);
    }
}

/// The names directly under a folder of the snapshot (each a bucket, an
/// access point…), in order.
fn folders<'f>(files: &'f FileSet, prefix: &str) -> BTreeSet<&'f str> {
    files
        .files
        .keys()
        .filter_map(|k| k.strip_prefix(prefix))
        .filter_map(|k| k.split('/').next())
        .filter(|n| !n.is_empty())
        .collect()
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
            .and_then(|d| public_access_block_file(&d))
            .map_err(|e| record(e, estate)),
    };
    let versioning = match file("versioning.json") {
        (_, None) => None,
        (shown, Some(bytes)) => Some(parse_file(&shown, bytes).and_then(|d| {
            let span = d.get("MFADelete").unwrap_or(&d).span.clone();
            super::data_protection::versioning_file(&d).map(|v| (v, span))
        })),
    };
    let (versioning, mfa_delete) =
        super::data_protection::bucket_versioning(versioning, name, estate);
    let object_lock = match file("object-lock.json") {
        (_, None) => Ok(ObjectLock::default()),
        (shown, Some(bytes)) => parse_file(&shown, bytes)
            .and_then(|d| super::data_protection::object_lock(&d))
            .map_err(|e| record(e, estate)),
    };
    let encryption = match file("encryption.json") {
        (_, None) => Ok(Encryption::S3Managed),
        (shown, Some(bytes)) => parse_file(&shown, bytes)
            .and_then(|d| super::kms::encryption(&d))
            .map_err(|e| record(e, estate)),
    };
    let acl = match file("acl.json") {
        (_, None) => None,
        (shown, Some(bytes)) => Some(
            parse_file(&shown, bytes)
                .and_then(|d| super::acl::bucket_acl(&d))
                .map_err(|e| record(e, estate)),
        ),
    };
    // A listed object is one with an `.acl.json`, a `.head.json`, or both.
    let objects_dir = format!("{dir}/objects/");
    let mut listed: BTreeMap<String, (Option<String>, Option<String>)> = BTreeMap::new();
    for rel in files.files.keys() {
        let Some(name) = rel.strip_prefix(&objects_dir) else {
            continue;
        };
        if let Some(encoded) = name.strip_suffix(".acl.json") {
            listed.entry(encoded.to_string()).or_default().0 = Some(rel.clone());
        } else if let Some(encoded) = name.strip_suffix(".head.json") {
            listed.entry(encoded.to_string()).or_default().1 = Some(rel.clone());
        }
    }
    let objects = listed
        .into_iter()
        .map(|(encoded, (acl_file, head_file))| {
            let key = percent_encoding::percent_decode_str(&encoded)
                .decode_utf8_lossy()
                .into_owned();
            let acl = match acl_file {
                Some(rel) => parse_file(&files.display(&rel), &files.files[&rel])
                    .and_then(|d| super::acl::object_acl(&d))
                    .map_err(|e| record(e, estate)),
                None => Err(NO_OBJECT_ACL.to_string()),
            };
            let head = head_file.map(|rel| parse_file(&files.display(&rel), &files.files[&rel]));
            let (encryption, version) =
                super::data_protection::listed_head(head, name, &key, estate);
            ListedObject {
                key,
                acl,
                encryption,
                version,
            }
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
        versioning,
        mfa_delete,
        object_lock,
        encryption,
        span: Span::file(&files.display(&dir)),
    });
}

/// A listed object with a head.json and no acl.json: its owner and ACL
/// are not in the snapshot (what they decide is unknown).
pub(crate) const NO_OBJECT_ACL: &str = "the snapshot has no acl.json for the object";

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

/// The four Block Public Access flags, by their AWS names.
const PAB_FLAGS: [&str; 4] = [
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
];

const PAB_WRAPPER: &str = "PublicAccessBlockConfiguration";

/// A `public-access-block.json` of a snapshot, as `aws s3api
/// get-public-access-block` (bucket) and `aws s3control get-public-access-block`
/// (account) print it: `{"PublicAccessBlockConfiguration": {the four flags}}`.
/// The CLI always prints all four, so a missing wrapper, an unknown key (an
/// error document, a misspelt flag) or a missing flag is an error — the
/// settings are unreadable, never "all off".
pub(crate) fn public_access_block_file(doc: &Node) -> Result<PublicAccessBlock, Diagnostic> {
    let what = "`{\"PublicAccessBlockConfiguration\": {…}}` as `get-public-access-block` prints it";
    let Value::Object(props) = &doc.value else {
        return Err(doc.error(what));
    };
    if let Some((key, node)) = props.iter().find(|(k, _)| k != PAB_WRAPPER) {
        return Err(Diagnostic::error(
            node.span.clone(),
            format!("unknown key `{key}`: expected {what}"),
        ));
    }
    let Some(c) = doc.get(PAB_WRAPPER) else {
        return Err(Diagnostic::error(
            doc.span.clone(),
            format!("expected a `{PAB_WRAPPER}` field: {what}"),
        ));
    };
    pab_flags(c, true)
}

/// Block Public Access as the environment file writes it (docs/env-file.md):
/// the bare object of flags (a `get-public-access-block` wrapper is accepted
/// too), each optional and off when left out; an unknown key is an error.
pub(crate) fn public_access_block_env(doc: &Node) -> Result<PublicAccessBlock, Diagnostic> {
    match (&doc.value, doc.get(PAB_WRAPPER)) {
        (Value::Object(props), Some(c)) => {
            if let Some((key, node)) = props.iter().find(|(k, _)| k != PAB_WRAPPER) {
                return Err(Diagnostic::error(
                    node.span.clone(),
                    format!("unknown key `{key}` next to `{PAB_WRAPPER}`: expected only it"),
                ));
            }
            pab_flags(c, false)
        }
        _ => pab_flags(doc, false),
    }
}

/// The four flags as `get-access-point` prints them (all four required).
pub(crate) fn public_access_block_flags(c: &Node) -> Result<PublicAccessBlock, Diagnostic> {
    pab_flags(c, true)
}

fn pab_flags(c: &Node, all_four: bool) -> Result<PublicAccessBlock, Diagnostic> {
    let Value::Object(props) = &c.value else {
        return Err(c.error("a PublicAccessBlockConfiguration object of four true/false flags"));
    };
    let expected = PAB_FLAGS.map(|f| format!("`{f}`")).join(", ");
    if let Some((key, node)) = props.iter().find(|(k, _)| !PAB_FLAGS.contains(&k.as_str())) {
        return Err(Diagnostic::error(
            node.span.clone(),
            format!("unknown key `{key}`: expected {expected} (names are case-sensitive)"),
        ));
    }
    let flag = |k: &str| match c.get(k) {
        None if all_four => Err(Diagnostic::error(
            c.span.clone(),
            format!(
                "expected a `{k}` field: the AWS CLI prints all four flags ({expected}); \
                 a flag left out is not known to be off"
            ),
        )),
        None => Ok(false),
        Some(Node {
            value: Value::Bool(b),
            ..
        }) => Ok(*b),
        Some(n) => Err(n.error(&format!("`{k}` as true or false"))),
    };
    Ok(PublicAccessBlock {
        block_public_acls: flag("BlockPublicAcls")?,
        ignore_public_acls: flag("IgnorePublicAcls")?,
        block_public_policy: flag("BlockPublicPolicy")?,
        restrict_public_buckets: flag("RestrictPublicBuckets")?,
    })
}

/// The four lists of `get-account-authorization-details`.
const IAM_LISTS: [&str; 4] = [
    "UserDetailList",
    "GroupDetailList",
    "RoleDetailList",
    "Policies",
];

/// `get-account-authorization-details`. `Err` when the account's principals
/// cannot be listed (a document of another shape, a truncated listing, a
/// list that is not an array, a user, group or role whose ARN or name cannot
/// be read): the account's IAM is then unreadable and nothing of it is kept.
/// A part of an entity that cannot be read (an inline or attached policy,
/// `Tags`, `GroupList`, a boundary, a trust policy) keeps the entity with an
/// invalid policy in its place, so the answers that depend on it are unknown.
fn load_iam(doc: &Node, account: &str, estate: &mut Estate) -> Result<(), Diagnostic> {
    let (principals, groups) = (estate.principals.len(), estate.groups.len());
    let r = load_iam_entities(doc, account, estate);
    if r.is_err() {
        // Mirror an unparsable iam.json: none of the account's principals or
        // groups are known, `account:ID` stands for them.
        estate.principals.truncate(principals);
        estate.groups.truncate(groups);
    }
    r
}

fn iam_shape(doc: &Node) -> Result<(), Diagnostic> {
    let what = format!(
        "the output of `aws iam get-account-authorization-details`: an object with {}",
        IAM_LISTS.map(|l| format!("`{l}`")).join(", ")
    );
    if !matches!(doc.value, Value::Object(_)) {
        return Err(doc.error(&what));
    }
    if !IAM_LISTS
        .iter()
        .any(|l| matches!(doc.get(l).map(|n| &n.value), Some(Value::Array(_))))
    {
        return Err(Diagnostic::error(
            doc.span.clone(),
            format!("expected {what}, found none of them"),
        ));
    }
    match doc.get("IsTruncated") {
        None
        | Some(Node {
            value: Value::Bool(false),
            ..
        }) => {}
        Some(
            n @ Node {
                value: Value::Bool(true),
                ..
            },
        ) => {
            return Err(Diagnostic::error(
                n.span.clone(),
                "the listing is truncated (`IsTruncated` is true): expected the complete output \
                 of `aws iam get-account-authorization-details` (without --max-items or \
                 --no-paginate); the users, groups, roles and policies after `Marker` are not in \
                 the snapshot",
            ))
        }
        Some(n) => return Err(n.error("`IsTruncated` as true or false")),
    }
    // Only the principals of a list that is there are known (`--filter`
    // prints some lists only): without users or roles the account's
    // principals cannot be listed.
    for l in ["UserDetailList", "RoleDetailList"] {
        if doc.get(l).is_none() {
            return Err(Diagnostic::error(
                doc.span.clone(),
                format!(
                    "expected a `{l}` field (was the file written with --filter?): without it the \
                     account's {} are not known",
                    if l == "UserDetailList" {
                        "users"
                    } else {
                        "roles"
                    }
                ),
            ));
        }
    }
    Ok(())
}

fn load_iam_entities(doc: &Node, account: &str, estate: &mut Estate) -> Result<(), Diagnostic> {
    iam_shape(doc)?;
    let mut parts: BTreeMap<&str, &[Node]> = BTreeMap::new();
    for l in IAM_LISTS {
        parts.insert(l, doc.array_field(l)?);
    }
    for l in ["GroupDetailList", "Policies"] {
        if doc.get(l).is_none() {
            estate.diagnostics.push(Diagnostic::warning(
                doc.span.clone(),
                format!(
                    "no `{l}` field: {} it names are unknown",
                    if l == "Policies" {
                        "the managed policies"
                    } else {
                        "the groups"
                    }
                ),
            ));
        }
    }
    // Managed policies first, by ARN: only the default version is in force.
    let mut managed: BTreeMap<String, usize> = BTreeMap::new();
    for p in parts["Policies"] {
        match managed_policy(p, estate) {
            Ok((arn, idx)) => {
                managed.insert(arn, idx);
            }
            Err((Some(arn), d)) => {
                let name = p.str_field("PolicyName").unwrap_or(&arn).to_string();
                let idx = missing_policy(&name, PolicyKind::Identity, d, estate);
                managed.insert(arn, idx);
            }
            // Without its ARN nothing can attach it: an attachment of it is
            // reported as not in `Policies`.
            Err((None, d)) => estate.diagnostics.push(d),
        }
    }
    for g in parts["GroupDetailList"] {
        let name = g.str_field("GroupName")?.to_string();
        let arn = g.str_field("Arn")?.to_string();
        let policies = entity_policies(g, &name, "GroupPolicyList", &managed, estate);
        estate.groups.push(Group {
            arn,
            name,
            account: account.to_string(),
            policies,
        });
    }
    // A managed policy set as a boundary is one policy of that kind,
    // whoever holds it: principals with the same boundary are told apart by
    // nothing else it brings (`classes`), and its statements are built once.
    let mut boundaries: BTreeMap<usize, usize> = BTreeMap::new();
    for (list, kind, inline) in [
        ("UserDetailList", PrincipalKind::User, "UserPolicyList"),
        ("RoleDetailList", PrincipalKind::Role, "RolePolicyList"),
    ] {
        for e in parts[list] {
            let held = (&managed, &mut boundaries);
            principal(e, (account, kind, inline), held, estate)?;
        }
    }
    estate.principals.push(Principal::root(account));
    Ok(())
}

/// A `Policies` entry: its ARN and the default version's document. On error,
/// the ARN when it could be read.
fn managed_policy(
    p: &Node,
    estate: &mut Estate,
) -> Result<(String, usize), (Option<String>, Diagnostic)> {
    let arn = p.str_field("Arn").map_err(|d| (None, d))?.to_string();
    let fail = |d: Diagnostic| (Some(arn.clone()), d);
    // Some dumps leave out the name (moto's, partial exports): the ARN's
    // last path segment is the name, as IAM builds the ARN from it.
    let name = match p.str_field("PolicyName") {
        Ok(n) => n.to_string(),
        Err(_) => {
            let name = arn.rsplit('/').next().unwrap_or(&arn).to_string();
            estate.diagnostics.push(Diagnostic::warning(
                p.span.clone(),
                format!("no `PolicyName`: named `{name}` after its ARN"),
            ));
            name
        }
    };
    let default = p.str_field("DefaultVersionId").ok().map(str::to_string);
    let versions = p.array_field("PolicyVersionList").map_err(fail)?;
    let chosen = versions.iter().find(|v| match &default {
        Some(d) => v.get("VersionId").and_then(Node::as_str) == Some(d),
        None => matches!(
            v.get("IsDefaultVersion").map(|n| &n.value),
            Some(Value::Bool(true))
        ),
    });
    let Some(doc) = chosen.and_then(|v| v.get("Document")) else {
        return Err(fail(p.error(
            "a `PolicyVersionList` entry for the default version with a `Document`",
        )));
    };
    Ok((arn, policy_from(doc, &name, PolicyKind::Identity, estate)))
}

/// An entity's inline and attached managed policies. A part that cannot be
/// read becomes an invalid policy of the entity, named after it.
fn entity_policies(
    e: &Node,
    owner: &str,
    inline_list: &str,
    managed: &BTreeMap<String, usize>,
    estate: &mut Estate,
) -> Vec<usize> {
    let mut out = Vec::new();
    match e.array_field(inline_list) {
        Err(d) => out.push(missing_policy(
            &format!("{owner} {inline_list}"),
            PolicyKind::Identity,
            d,
            estate,
        )),
        Ok(list) => {
            for (i, ip) in list.iter().enumerate() {
                let name = ip.str_field("PolicyName");
                let label = name
                    .as_ref()
                    .map_or_else(|_| format!("{owner} {inline_list}/{i}"), |n| n.to_string());
                out.push(match (name, ip.get("PolicyDocument")) {
                    (Ok(_), Some(doc)) => policy_from(doc, &label, PolicyKind::Identity, estate),
                    (Err(d), _) => missing_policy(&label, PolicyKind::Identity, d, estate),
                    (Ok(_), None) => missing_policy(
                        &label,
                        PolicyKind::Identity,
                        Diagnostic::error(
                            ip.span.clone(),
                            format!(
                                "expected a `PolicyDocument` field in inline policy `{label}`: \
                                 its content is unknown"
                            ),
                        ),
                        estate,
                    ),
                });
            }
        }
    }
    match e.array_field("AttachedManagedPolicies") {
        Err(d) => out.push(missing_policy(
            &format!("{owner} AttachedManagedPolicies"),
            PolicyKind::Identity,
            d,
            estate,
        )),
        Ok(list) => {
            for (i, mp) in list.iter().enumerate() {
                out.push(match mp.str_field("PolicyArn") {
                    Err(d) => missing_policy(
                        &format!("{owner} AttachedManagedPolicies/{i}"),
                        PolicyKind::Identity,
                        d,
                        estate,
                    ),
                    Ok(arn) => match managed.get(arn) {
                        Some(&i) => i,
                        None => missing_policy(
                            arn,
                            PolicyKind::Identity,
                            Diagnostic::error(mp.span.clone(), format!("attached managed policy `{arn}` is not in the snapshot's `Policies`: its content is unknown")),
                            estate,
                        ),
                    },
                });
            }
        }
    }
    out
}

/// One user or role. `Err` only when its ARN or name cannot be read.
fn principal(
    e: &Node,
    (account, kind, inline): (&str, PrincipalKind, &str),
    (managed, boundaries): (&BTreeMap<String, usize>, &mut BTreeMap<usize, usize>),
    estate: &mut Estate,
) -> Result<(), Diagnostic> {
    let (name_field, id_field) = if kind == PrincipalKind::User {
        ("UserName", "UserId")
    } else {
        ("RoleName", "RoleId")
    };
    let arn = e.str_field("Arn")?.to_string();
    let name = e.str_field(name_field)?.to_string();
    let unique_id = match e.get(id_field) {
        Some(Node {
            value: Value::String(s),
            ..
        }) => Some(s.clone()),
        other => {
            let span = other.map_or_else(|| e.span.clone(), |n| n.span.clone());
            estate.diagnostics.push(Diagnostic::warning(
                span,
                format!(
                    "expected `{id_field}` as a string: a policy that names `{name}` by its \
                     unique ID (AIDA…/AROA…) will not be matched to it"
                ),
            ));
            None
        }
    };
    let mut policies = entity_policies(e, &name, inline, managed, estate);
    // Tags are the values of aws:PrincipalTag: unreadable, the principal's
    // identity layer is unknown.
    let tags = tags(e).map(Some).unwrap_or_else(|d| {
        policies.push(missing_policy(
            &format!("{name} Tags"),
            PolicyKind::Identity,
            d,
            estate,
        ));
        None
    });
    // Unreadable group memberships: the groups' policies are unknown.
    let groups = e
        .string_list("GroupList", "a group name")
        .unwrap_or_else(|d| {
            policies.push(missing_policy(
                &format!("{name} GroupList"),
                PolicyKind::Identity,
                d,
                estate,
            ));
            Vec::new()
        });
    // A group the listing does not describe: its policies are unknown (kept
    // as a group with an invalid policy, so its members' answers say so).
    for (i, g) in groups.iter().enumerate() {
        let known = estate
            .groups
            .iter()
            .any(|x| x.account == account && x.name == *g);
        if !known {
            let span = e
                .get("GroupList")
                .and_then(|l| match &l.value {
                    Value::Array(items) => items.get(i),
                    _ => None,
                })
                .map_or_else(|| e.span.clone(), |n| n.span.clone());
            let policy = missing_policy(
                g,
                PolicyKind::Identity,
                Diagnostic::error(
                    span,
                    format!(
                        "expected group `{g}` (of `{name}`) in the snapshot's `GroupDetailList`: \
                         its policies are unknown"
                    ),
                ),
                estate,
            );
            estate.groups.push(Group {
                arn: format!("arn:aws:iam::{account}:group/{g}"),
                name: g.clone(),
                account: account.to_string(),
                policies: vec![policy],
            });
        }
    }
    let boundary = e.get("PermissionsBoundary").map(|b| {
        match b.str_field("PermissionsBoundaryArn") {
            Err(d) => missing_policy(
                &format!("{name} PermissionsBoundary"),
                PolicyKind::Boundary,
                d,
                estate,
            ),
            Ok(barn) => match managed.get(barn) {
                Some(&i) => *boundaries.entry(i).or_insert_with(|| {
                    let mut p = estate.policies[i].clone();
                    p.kind = PolicyKind::Boundary;
                    estate.policies.push(p);
                    estate.policies.len() - 1
                }),
                None => missing_policy(
                    barn,
                    PolicyKind::Boundary,
                    Diagnostic::error(b.span.clone(), format!("permissions boundary `{barn}` is not in the snapshot's `Policies`: its content is unknown")),
                    estate,
                ),
            },
        }
    });
    let trust_name = format!("{name} trust policy");
    let trust = match (kind, e.get("AssumeRolePolicyDocument")) {
        (PrincipalKind::Role, Some(doc)) => {
            Some(policy_from(doc, &trust_name, PolicyKind::Trust, estate))
        }
        // Every role has a trust policy: who may assume this one is unknown.
        (PrincipalKind::Role, None) => Some(missing_policy(
            &trust_name,
            PolicyKind::Trust,
            Diagnostic::error(
                e.span.clone(),
                format!(
                    "expected an `AssumeRolePolicyDocument` field in role `{name}`: who may \
                     assume it is unknown"
                ),
            ),
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
