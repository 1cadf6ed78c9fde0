//! Synthetic estates in the snapshot layout (inputs.md §1), for benchmarks
//! and demos: accounts with users in groups, roles with trust policies,
//! buckets with bucket policies, and identity policies drawn from realistic
//! shapes (prefix grants, wildcards, NotAction denies, cross-account grants).
//! Users mostly get their access through groups' managed policies, as in
//! real organisations, so many of them share a class (`classes`); some are
//! told apart by a trust policy naming them, an `aws:PrincipalArn`
//! condition, a tag a bucket policy reads, or a home-prefix policy with
//! `${aws:username}`. Deterministic for a given seed.

use crate::load::FileSet;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug)]
pub struct Size {
    pub accounts: usize,
    pub users: usize,
    pub roles: usize,
    pub buckets: usize,
    pub statements: usize,
    pub seed: u64,
}

impl Default for Size {
    fn default() -> Size {
        Size {
            accounts: 3,
            users: 20,
            roles: 10,
            buckets: 5,
            statements: 4,
            seed: 1,
        }
    }
}

fn account_id(i: usize) -> String {
    format!("{:012}", 100_000_000_000u64 + i as u64)
}

fn bucket_name(a: usize, b: usize) -> String {
    format!("bucket-{a}-{b}")
}

const ACTIONS: [&str; 8] = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:Get*",
    "s3:*",
    "s3:DeleteObject",
    "s3:GetObjectVersion",
    "s3:PutObjectAcl",
];

fn statement(rng: &mut StdRng, size: &Size, sid: usize) -> Value {
    let (a, b) = (
        rng.gen_range(0..size.accounts),
        rng.gen_range(0..size.buckets),
    );
    let bucket = bucket_name(a, b);
    let resource = match rng.gen_range(0..4) {
        0 => format!("arn:aws:s3:::{bucket}"),
        1 => format!("arn:aws:s3:::{bucket}/*"),
        2 => format!("arn:aws:s3:::{bucket}/prefix-{}/*", rng.gen_range(0..5)),
        _ => "*".to_string(),
    };
    let action = ACTIONS[rng.gen_range(0..ACTIONS.len())];
    let deny = rng.gen_ratio(1, 8);
    let mut st = json!({
        "Sid": format!("S{sid}"),
        "Effect": if deny { "Deny" } else { "Allow" },
        "Action": action,
        "Resource": resource,
    });
    if rng.gen_ratio(1, 6) {
        st["Condition"] = json!({"Bool": {"aws:SecureTransport": "false"}});
    }
    st
}

fn document(rng: &mut StdRng, size: &Size) -> Value {
    let statements: Vec<Value> = (0..size.statements)
        .map(|i| statement(rng, size, i))
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// A customer managed policy as `get-account-authorization-details` lists it.
fn managed_json(account: &str, name: &str, doc: &Value) -> Value {
    json!({
        "PolicyName": name, "Arn": format!("arn:aws:iam::{account}:policy/{name}"),
        "DefaultVersionId": "v1",
        "PolicyVersionList": [{"Document": doc, "VersionId": "v1", "IsDefaultVersion": true}]
    })
}

/// An identity policy's document that may also assume one role of the estate.
fn assuming(rng: &mut StdRng, size: &Size) -> Value {
    let mut doc = document(rng, size);
    let target = format!(
        "arn:aws:iam::{}:role/role-{}",
        account_id(rng.gen_range(0..size.accounts)),
        rng.gen_range(0..size.roles.max(1))
    );
    doc["Statement"]
        .as_array_mut()
        .expect("array")
        .push(json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": target}));
    doc
}

fn pretty(v: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(v).expect("JSON values serialise")
}

/// A user's name: every fifth is an administrator, which trust conditions
/// on `aws:PrincipalArn` single out.
fn user_name(u: usize) -> String {
    if u.is_multiple_of(5) {
        format!("admin-{u}")
    } else {
        format!("user-{u}")
    }
}

/// Builds the estate's files.
pub fn generate(size: &Size) -> FileSet {
    let mut rng = StdRng::seed_from_u64(size.seed);
    let mut files = BTreeMap::new();
    let groups = (size.users / 8).max(2);
    for a in 0..size.accounts {
        let id = account_id(a);
        let base = format!("accounts/{id}");
        // One managed policy per group (its grants and a role it may
        // assume), and a home-prefix policy that reads the caller's name.
        let mut managed: Vec<Value> = (0..groups)
            .map(|g| managed_json(&id, &format!("team-{g}"), &assuming(&mut rng, size)))
            .collect();
        // The first team may decrypt with the estate's KMS keys (no draw
        // from `rng`).
        managed[0]["PolicyVersionList"][0]["Document"]["Statement"]
            .as_array_mut()
            .expect("array")
            .push(json!({"Sid": "UseKeys", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}));
        let home = bucket_name(a, 0);
        managed.push(managed_json(&id, "home", &json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": format!("arn:aws:s3:::{home}/home/${{aws:username}}/*")}]})));
        let group_list: Vec<Value> = (0..groups)
            .map(|g| {
                // The first group also has home prefixes.
                let mut attached = vec![json!({"PolicyName": format!("team-{g}"), "PolicyArn": format!("arn:aws:iam::{id}:policy/team-{g}")})];
                if g == 0 {
                    attached.push(json!({"PolicyName": "home", "PolicyArn": format!("arn:aws:iam::{id}:policy/home")}));
                }
                json!({
                    "Path": "/", "GroupName": format!("group-{g}"), "GroupId": format!("AGPA{a:04}{g:08}"),
                    "Arn": format!("arn:aws:iam::{id}:group/group-{g}"), "GroupPolicyList": [],
                    "AttachedManagedPolicies": attached
                })
            })
            .collect();
        let users: Vec<Value> = (0..size.users)
            .map(|u| {
                let name = user_name(u);
                let mut member = vec![json!(format!("group-{}", rng.gen_range(0..groups)))];
                if rng.gen_ratio(1, 3) {
                    member.push(json!(format!("group-{}", rng.gen_range(0..groups))));
                }
                // A few users have an inline policy of their own, or the home policy directly.
                let inline = if rng.gen_ratio(1, 6) {
                    vec![json!({"PolicyName": "inline", "PolicyDocument": assuming(&mut rng, size)})]
                } else {
                    Vec::new()
                };
                let attached = if rng.gen_ratio(1, 8) {
                    vec![json!({"PolicyName": "home", "PolicyArn": format!("arn:aws:iam::{id}:policy/home")})]
                } else {
                    Vec::new()
                };
                json!({
                    "Path": "/", "UserName": name, "UserId": format!("AIDA{a:04}{u:08}"),
                    "Arn": format!("arn:aws:iam::{id}:user/{name}"),
                    "UserPolicyList": inline,
                    "GroupList": member, "AttachedManagedPolicies": attached,
                    "Tags": [{"Key": "team", "Value": format!("t{}", rng.gen_range(0..3))},
                             {"Key": "cost-center", "Value": format!("cc-{}", rng.gen_range(0..50))}]
                })
            })
            .collect();
        let roles: Vec<Value> = (0..size.roles)
            .map(|r| {
                let trusted = account_id(rng.gen_range(0..size.accounts));
                // Trust the account, one named user of it, or its administrators.
                let statement = match rng.gen_range(0..4) {
                    0 => json!({"Effect": "Allow", "Action": "sts:AssumeRole",
                        "Principal": {"AWS": format!("arn:aws:iam::{trusted}:user/{}", user_name(rng.gen_range(0..size.users.max(1))))}}),
                    1 => json!({"Effect": "Allow", "Action": "sts:AssumeRole",
                        "Principal": {"AWS": format!("arn:aws:iam::{trusted}:root")},
                        "Condition": {"ArnLike": {"aws:PrincipalArn": format!("arn:aws:iam::{trusted}:user/admin-*")}}}),
                    _ => json!({"Effect": "Allow", "Action": "sts:AssumeRole",
                        "Principal": {"AWS": format!("arn:aws:iam::{trusted}:root")}}),
                };
                json!({
                    "Path": "/", "RoleName": format!("role-{r}"), "RoleId": format!("AROA{a:04}{r:08}"),
                    "Arn": format!("arn:aws:iam::{id}:role/role-{r}"),
                    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [statement]},
                    "RolePolicyList": [{"PolicyName": "inline", "PolicyDocument": document(&mut rng, size)}],
                    "AttachedManagedPolicies": [], "Tags": []
                })
            })
            .collect();
        let iam = json!({"UserDetailList": users, "GroupDetailList": group_list, "RoleDetailList": roles, "Policies": managed});
        files.insert(format!("{base}/iam.json"), pretty(&iam));
        let names: Vec<Value> = (0..size.buckets)
            .map(|b| json!({"Name": bucket_name(a, b)}))
            .collect();
        files.insert(
            format!("{base}/list-buckets.json"),
            pretty(&json!({"Buckets": names, "Owner": {"ID": format!("{:064x}", a + 1)}})),
        );
        // The account's KMS key: its policy enables IAM policies, and lets
        // the next account decrypt.
        let key_id = format!("00000000-0000-4000-8000-{a:012}");
        let key_arn = format!("arn:aws:kms:us-east-1:{id}:key/{key_id}");
        let partner = account_id((a + 1) % size.accounts);
        files.insert(
            format!("{base}/kms/{key_id}/key.json"),
            pretty(
                &json!({"KeyMetadata": {"AWSAccountId": id, "KeyId": key_id, "Arn": key_arn,
                "Enabled": true, "KeyState": "Enabled", "KeyManager": "CUSTOMER"}}),
            ),
        );
        let key_policy = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "EnableIam", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{id}:root")},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "PartnerDecrypts", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{partner}:root")},
             "Action": "kms:Decrypt", "Resource": "*"}]});
        files.insert(
            format!("{base}/kms/{key_id}/policy.json"),
            pretty(&json!({"Policy": key_policy.to_string()})),
        );
        for b in 0..size.buckets {
            let dir = format!("{base}/buckets/{}", bucket_name(a, b));
            let other = account_id(rng.gen_range(0..size.accounts));
            let mut doc = document(&mut rng, size);
            for st in doc["Statement"].as_array_mut().expect("array") {
                st["Principal"] = json!({"AWS": format!("arn:aws:iam::{other}:root")});
            }
            // Attribute-based access: one team of the bucket's own account
            // may read (a grant to the account alone would need an identity Allow too).
            if rng.gen_ratio(1, 3) {
                doc["Statement"].as_array_mut().expect("array").push(json!({
                    "Sid": "TeamReads", "Effect": "Allow", "Principal": "*",
                    "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{}/*", bucket_name(a, b)),
                    "Condition": {"StringEquals": {"aws:PrincipalTag/team": format!("t{}", rng.gen_range(0..3)), "aws:PrincipalAccount": id}}}));
            }
            // One bucket in four (ACLs on) delegates to its account's access
            // points, and one of them lets the next account read and upload
            // (no draw from `rng`: the rest of the estate stays as it was).
            if b % 4 == 1 {
                let bucket = bucket_name(a, b);
                doc["Statement"].as_array_mut().expect("array").push(json!({
                    "Sid": "DelegateToAccessPoints", "Effect": "Allow", "Principal": {"AWS": "*"},
                    "Action": "*", "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
                    "Condition": {"StringEquals": {"s3:DataAccessPointAccount": id}}}));
                let name = format!("ap-{a}-{b}");
                let arn = format!("arn:aws:s3:us-east-1:{id}:accesspoint/{name}");
                let partner = account_id((a + 1) % size.accounts);
                let apdir = format!("{base}/access-points/{name}");
                files.insert(
                    format!("{apdir}/access-point.json"),
                    pretty(&json!({"Name": name, "Bucket": bucket, "NetworkOrigin": "Internet",
                        "AccessPointArn": arn, "BucketAccountId": id,
                        "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "IgnorePublicAcls": true,
                            "BlockPublicPolicy": true, "RestrictPublicBuckets": true}})),
                );
                let policy = json!({"Version": "2012-10-17", "Statement": [{
                    "Sid": "PartnerExchange", "Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{partner}:root")},
                    "Action": ["s3:GetObject", "s3:PutObject"], "Resource": format!("{arn}/object/*")}]});
                files.insert(
                    format!("{apdir}/policy.json"),
                    pretty(&json!({"Policy": policy.to_string()})),
                );
            }
            files.insert(
                format!("{dir}/policy.json"),
                pretty(&json!({"Policy": doc.to_string()})),
            );
            // One bucket in four (ACLs off) and one in eight (ACLs on)
            // encrypt by default under the account's KMS key.
            if b % 4 == 2 || b % 8 == 3 {
                files.insert(
                    format!("{dir}/encryption.json"),
                    pretty(&json!({"ServerSideEncryptionConfiguration": {"Rules": [
                        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}}]}})),
                );
            }
            // Every other bucket keeps ACLs on (ObjectWriter, the owner's
            // FULL_CONTROL only), so its unlisted objects have free owners.
            let ownership = if b % 2 == 0 {
                "BucketOwnerEnforced"
            } else {
                "ObjectWriter"
            };
            files.insert(
                format!("{dir}/ownership-controls.json"),
                pretty(&json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": ownership}]}})),
            );
            if b % 2 == 1 {
                let owner = format!("{:064x}", a + 1);
                files.insert(
                    format!("{dir}/acl.json"),
                    pretty(&json!({"Owner": {"ID": owner}, "Grants": [
                        {"Grantee": {"Type": "CanonicalUser", "ID": owner}, "Permission": "FULL_CONTROL"}]})),
                );
            }
        }
    }
    FileSet {
        root: format!("<synth seed {}>", size.seed),
        files,
    }
}

/// Writes the files under `dir`.
pub fn write(files: &FileSet, dir: &std::path::Path) -> std::io::Result<()> {
    for (rel, bytes) in &files.files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, bytes)?;
    }
    Ok(())
}
