//! Synthetic estates in the snapshot layout (inputs.md §1), for benchmarks
//! and demos: accounts with users, groups-free roles with trust policies,
//! buckets with bucket policies, and identity policies drawn from realistic
//! shapes (prefix grants, wildcards, NotAction denies, cross-account grants).
//! Deterministic for a given seed.

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

fn pretty(v: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(v).expect("JSON values serialise")
}

/// Builds the estate's files.
pub fn generate(size: &Size) -> FileSet {
    let mut rng = StdRng::seed_from_u64(size.seed);
    let mut files = BTreeMap::new();
    for a in 0..size.accounts {
        let id = account_id(a);
        let base = format!("accounts/{id}");
        let users: Vec<Value> = (0..size.users)
            .map(|u| {
                let target = format!("arn:aws:iam::{}:role/role-{}", account_id(rng.gen_range(0..size.accounts)), rng.gen_range(0..size.roles.max(1)));
                let mut doc = document(&mut rng, size);
                doc["Statement"].as_array_mut().expect("array").push(json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": target}));
                json!({
                    "Path": "/", "UserName": format!("user-{u}"), "UserId": format!("AIDA{a:04}{u:08}"),
                    "Arn": format!("arn:aws:iam::{id}:user/user-{u}"),
                    "UserPolicyList": [{"PolicyName": "inline", "PolicyDocument": doc}],
                    "GroupList": [], "AttachedManagedPolicies": [], "Tags": []
                })
            })
            .collect();
        let roles: Vec<Value> = (0..size.roles)
            .map(|r| {
                let trusted = account_id(rng.gen_range(0..size.accounts));
                json!({
                    "Path": "/", "RoleName": format!("role-{r}"), "RoleId": format!("AROA{a:04}{r:08}"),
                    "Arn": format!("arn:aws:iam::{id}:role/role-{r}"),
                    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{trusted}:root")}, "Action": "sts:AssumeRole"}]},
                    "RolePolicyList": [{"PolicyName": "inline", "PolicyDocument": document(&mut rng, size)}],
                    "AttachedManagedPolicies": [], "Tags": []
                })
            })
            .collect();
        let iam = json!({"UserDetailList": users, "GroupDetailList": [], "RoleDetailList": roles, "Policies": []});
        files.insert(format!("{base}/iam.json"), pretty(&iam));
        let names: Vec<Value> = (0..size.buckets)
            .map(|b| json!({"Name": bucket_name(a, b)}))
            .collect();
        files.insert(
            format!("{base}/list-buckets.json"),
            pretty(&json!({"Buckets": names, "Owner": {"ID": format!("{:064x}", a + 1)}})),
        );
        for b in 0..size.buckets {
            let dir = format!("{base}/buckets/{}", bucket_name(a, b));
            let other = account_id(rng.gen_range(0..size.accounts));
            let mut doc = document(&mut rng, size);
            for st in doc["Statement"].as_array_mut().expect("array") {
                st["Principal"] = json!({"AWS": format!("arn:aws:iam::{other}:root")});
            }
            files.insert(
                format!("{dir}/policy.json"),
                pretty(&json!({"Policy": doc.to_string()})),
            );
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
