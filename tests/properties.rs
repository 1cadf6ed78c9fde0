//! Property tests over random small estates (two described accounts, one
//! outside account, two to four users and roles, one or two buckets under
//! any Object Ownership setting, with a bucket ACL and possibly a listed
//! object, no RestrictPublicBuckets). Each estate is written as a
//! compact environment file, loaded, and asked every `can` and `who can`
//! question of a fixed grid; the answers are read back through the JSON
//! contract of cli.md.
//!
//! 1. Adding an Allow statement never removes an allowed answer.
//! 2. Adding a Deny statement never adds access.
//! 3. The JSON output parses back and names a deciding statement for every
//!    allow and every explicit deny.
//! 4. Reordering a policy's statements or renaming Sids changes no decision.
//! 5. `who can` agrees with `can` for every principal and action.
//! 6. Every hop of a chain in an answer is itself an `sts:AssumeRole` that
//!    may be allowed, and the chain is no more certain than any hop.
//! 7. A policy that cannot be read decides no answer it could change: such
//!    answers are `unknown` (issue 11).
//!
//! A bucket may have an access point (in the first account, so across
//! accounts when the bucket is the second's) with a policy of its own; the
//! policies may name access points and delegate to them
//! (`s3:DataAccessPointAccount`): every bucket scope is also asked through
//! it (semantics.md 5.8).
//!
//! Properties 1 and 2 run with every bucket under BucketOwnerEnforced: with
//! ACLs enabled the owners an unlisted object may have are those who may
//! upload it under the current policies (semantics.md 5.2), so an added
//! Allow can widen the set of object states and turn an `allow` into a
//! `conditional` — less certainty, not less access.

use bucketlog::model::Estate;
use bucketlog::query::{self, Options};
use bucketlog::report;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{RngSeed, TestCaseError};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Two described accounts and one that the estate only names.
const ACCOUNTS: [&str; 3] = ["111111111111", "222222222222", "333333333333"];
const OUTSIDE: &str = ACCOUNTS[2];
const CANONICAL: [&str; 3] = [
    "9bc7c7add56e7284adbdcbf1d492af4e50d3f1e5b5fb060f0153a22e2499d200",
    "6f20dcc6758d9838b2cceb6f605750870e9bbed98723a702321201612edb544e",
    "c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ff",
];
const OWNERSHIP: [&str; 3] = [
    "BucketOwnerEnforced",
    "ObjectWriter",
    "BucketOwnerPreferred",
];
const S3_ACTIONS: [&str; 6] = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:Get*",
    "s3:*",
    "*",
];
const S3_RESOURCES: [&str; 7] = [
    "arn:aws:s3:::b1/*",
    "arn:aws:s3:::b1/x/*",
    "arn:aws:s3:::b1",
    "*",
    "arn:aws:s3:::b2/*",
    "arn:aws:s3:::b2",
    "arn:aws:s3:us-east-1:111111111111:accesspoint/*",
];
/// What an access point policy names: its objects, part of them, any
/// access point of the account, everything.
const AP_RESOURCES: [&str; 4] = [
    "arn:aws:s3:us-east-1:111111111111:accesspoint/ap1/object/*",
    "arn:aws:s3:us-east-1:111111111111:accesspoint/ap2/object/x/*",
    "arn:aws:s3:us-east-1:111111111111:accesspoint/*",
    "*",
];
/// What a key policy grants, and on what (a key policy's Resource is the key).
const KMS_ACTIONS: [&str; 4] = ["kms:Decrypt", "kms:GenerateDataKey", "kms:*", "*"];
const QUERY_ACTIONS: [&str; 4] = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:DeleteObject",
];
/// At most this many users and roles (statements name them modulo the real count).
const MAX_SLOTS: usize = 4;

fn condition(i: usize) -> Value {
    [
        json!({"Bool": {"aws:SecureTransport": "true"}}),
        json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
        json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
        json!({"StringLike": {"s3:prefix": "x/*"}}),
        json!({"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}),
        json!({"StringEquals": {"s3:DataAccessPointAccount": ACCOUNTS[0]}}),
    ][i % 6]
        .clone()
}

// ---------------------------------------------------------------- the model

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Identity,
    Trust,
    Bucket,
    AccessPoint,
    Key,
}

#[derive(Clone, Debug)]
enum Who {
    Everyone,
    Account(usize),
    Slot(usize),
}

#[derive(Clone, Debug)]
enum Res {
    Lit(&'static str),
    Role(usize),
}

#[derive(Clone, Debug)]
struct Stmt {
    /// Unique in the estate: the Sid is built from it, so Sids never clash.
    uid: usize,
    allow: bool,
    sid: bool,
    not_action: bool,
    actions: Vec<&'static str>,
    not_resource: bool,
    resources: Vec<Res>,
    principals: Vec<Who>,
    condition: Option<usize>,
}

#[derive(Clone, Debug)]
struct Slot {
    role: bool,
    account: usize,
}

#[derive(Clone, Debug)]
struct BucketSpec {
    account: usize,
    /// BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy (RestrictPublicBuckets stays off).
    block: [bool; 3],
    policy: Vec<Stmt>,
    /// An index into OWNERSHIP.
    ownership: usize,
    /// `x/a.txt` listed with this owner account and, maybe, a READ grant to another.
    listed: Option<(usize, Option<usize>)>,
    /// An access point `ap<n>` of the first account serving the bucket, with its policy.
    access_point: Option<Vec<Stmt>>,
    /// Default encryption under a KMS key `k<n>` of the bucket's account, with its key policy.
    key: Option<Vec<Stmt>>,
}

#[derive(Clone, Debug)]
struct Spec {
    slots: Vec<Slot>,
    identity: Vec<Vec<Stmt>>,
    trust: Vec<Vec<Stmt>>,
    buckets: Vec<BucketSpec>,
    sid_prefix: &'static str,
    /// A policy written so that it cannot be read (property 7).
    broken: Option<Target>,
}

/// A policy of the estate; indices are taken modulo what exists, and the
/// trust policy of a user falls back to its identity policy.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Identity(usize),
    Trust(usize),
    Bucket(usize),
    /// A bucket's access point policy (its bucket policy when it has none).
    AccessPoint(usize),
    /// The key policy of a bucket's key (its bucket policy when it has none).
    Key(usize),
}

/// A statement to add, one drawn for each kind of policy it may land in.
#[derive(Clone, Debug)]
struct Addition {
    target: Target,
    identity: Stmt,
    trust: Stmt,
    bucket: Stmt,
    access_point: Stmt,
    key: Stmt,
}

impl Spec {
    fn arn(&self, i: usize) -> String {
        let i = i % self.slots.len();
        let s = &self.slots[i];
        let (kind, letter) = if s.role { ("role", "r") } else { ("user", "u") };
        format!("arn:aws:iam::{}:{kind}/{letter}{i}", ACCOUNTS[s.account])
    }

    fn principal_json(&self, who: &[Who]) -> Value {
        let names: Vec<String> = who
            .iter()
            .map(|w| match w {
                Who::Everyone => "*".to_string(),
                Who::Account(a) => ACCOUNTS[a % ACCOUNTS.len()].to_string(),
                Who::Slot(i) => self.arn(*i),
            })
            .collect();
        if names == ["*"] {
            json!("*")
        } else {
            json!({ "AWS": names })
        }
    }

    fn stmt_json(&self, s: &Stmt, kind: Kind) -> Value {
        let mut m = Map::new();
        if s.sid {
            m.insert("Sid".into(), json!(format!("{}{}", self.sid_prefix, s.uid)));
        }
        m.insert(
            "Effect".into(),
            json!(if s.allow { "Allow" } else { "Deny" }),
        );
        if kind != Kind::Identity {
            m.insert("Principal".into(), self.principal_json(&s.principals));
        }
        let action = if s.not_action { "NotAction" } else { "Action" };
        m.insert(action.into(), json!(s.actions));
        if kind != Kind::Trust {
            let resources: Vec<String> = s
                .resources
                .iter()
                .map(|r| match r {
                    Res::Lit(l) => l.to_string(),
                    Res::Role(i) => self.arn(*i),
                })
                .collect();
            let key = if s.not_resource {
                "NotResource"
            } else {
                "Resource"
            };
            m.insert(key.into(), json!(resources));
        }
        if let Some(c) = s.condition {
            m.insert("Condition".into(), condition(c));
        }
        Value::Object(m)
    }

    fn policy_json(&self, stmts: &[Stmt], kind: Kind, prefix: &[Value]) -> Value {
        let mut all = prefix.to_vec();
        all.extend(stmts.iter().map(|s| self.stmt_json(s, kind)));
        json!({"Version": "2012-10-17", "Statement": all})
    }

    /// The target a policy is, as `with` resolves it: a user's trust
    /// policy is its identity policy; indices modulo what exists.
    fn resolve(&self, t: Target) -> Target {
        let n = self.slots.len();
        match t {
            Target::Trust(i) if self.slots[i % n].role => Target::Trust(i % n),
            Target::Identity(i) | Target::Trust(i) => Target::Identity(i % n),
            Target::Bucket(i) => Target::Bucket(i % self.buckets.len()),
            Target::AccessPoint(i) => {
                let i = i % self.buckets.len();
                match self.buckets[i].access_point {
                    Some(_) => Target::AccessPoint(i),
                    None => Target::Bucket(i),
                }
            }
            Target::Key(i) => {
                let i = i % self.buckets.len();
                match self.buckets[i].key {
                    Some(_) => Target::Key(i),
                    None => Target::Bucket(i),
                }
            }
        }
    }

    /// `policy_json`, unreadable when it is the broken one: a statement
    /// whose Effect is neither Allow nor Deny makes the whole policy invalid.
    fn maybe_broken(&self, at: Target, stmts: &[Stmt], kind: Kind, prefix: &[Value]) -> Value {
        let mut doc = self.policy_json(stmts, kind, prefix);
        if self.broken.map(|b| self.resolve(b)) == Some(at) {
            let mut bad = json!({"Effect": "Perhaps", "Action": "*", "Resource": "*"});
            if kind != Kind::Identity {
                bad["Principal"] = json!("*");
            }
            doc["Statement"]
                .as_array_mut()
                .expect("statements")
                .push(bad);
        }
        doc
    }

    fn is_broken(&self, at: Target) -> bool {
        self.broken.map(|b| self.resolve(b)) == Some(at)
    }

    /// The compact environment file (src/load/env_file.rs).
    fn render(&self) -> Value {
        let principals: Vec<Value> = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut p = json!({"arn": self.arn(i), "policies": []});
                if !self.identity[i].is_empty() || self.is_broken(Target::Identity(i)) {
                    p["policies"] = json!([self.maybe_broken(
                        Target::Identity(i),
                        &self.identity[i],
                        Kind::Identity,
                        &[]
                    )]);
                }
                if s.role {
                    p["trust"] =
                        self.maybe_broken(Target::Trust(i), &self.trust[i], Kind::Trust, &[]);
                }
                p
            })
            .collect();
        // b1's policy always names the outside account (in a Deny of an action
        // no query asks about), so `who can` always considers `account:OUTSIDE`.
        let anchor = json!({"Sid": "Anchor", "Effect": "Deny", "Principal": {"AWS": OUTSIDE},
                            "Action": "s3:PutBucketPolicy", "Resource": "arn:aws:s3:::b1"});
        let buckets: Vec<Value> = self
            .buckets
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let prefix = if i == 0 { vec![anchor.clone()] } else { vec![] };
                let policy = if prefix.is_empty()
                    && b.policy.is_empty()
                    && !self.is_broken(Target::Bucket(i))
                {
                    Value::Null
                } else {
                    self.maybe_broken(Target::Bucket(i), &b.policy, Kind::Bucket, &prefix)
                };
                let grant = |account: usize, permission: &str| {
                    json!({"Grantee": {"Type": "CanonicalUser", "ID": CANONICAL[account]}, "Permission": permission})
                };
                let acl = |owner: usize, extra: Option<usize>| {
                    let mut grants = vec![grant(owner, "FULL_CONTROL")];
                    grants.extend(extra.map(|a| grant(a, "READ")));
                    json!({"Owner": {"ID": CANONICAL[owner]}, "Grants": grants})
                };
                let objects: Vec<Value> = b
                    .listed
                    .iter()
                    .map(|&(owner, reader)| json!({"key": "x/a.txt", "acl": acl(owner, reader)}))
                    .collect();
                let mut bucket = json!({
                    "name": format!("b{}", i + 1),
                    "account": ACCOUNTS[b.account],
                    "ownership": OWNERSHIP[b.ownership],
                    "acl": acl(b.account, None),
                    "objects": objects,
                    "public_access_block": {
                        "BlockPublicAcls": b.block[0],
                        "IgnorePublicAcls": b.block[1],
                        "BlockPublicPolicy": b.block[2],
                        "RestrictPublicBuckets": false,
                    },
                    "policy": policy,
                });
                if b.key.is_some() {
                    bucket["encryption"] = json!({"ServerSideEncryptionConfiguration": {"Rules": [
                        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn(i, b)}}]}});
                }
                bucket
            })
            .collect();
        let kms_keys: Vec<Value> = self
            .buckets
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                let stmts = b.key.as_ref()?;
                Some(json!({
                    "KeyId": format!("k{}", i + 1),
                    "Arn": key_arn(i, b),
                    "policy": self.maybe_broken(Target::Key(i), stmts, Kind::Key, &[]),
                }))
            })
            .collect();
        let access_points: Vec<Value> = self
            .buckets
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                let stmts = b.access_point.as_ref()?;
                let name = format!("ap{}", i + 1);
                Some(json!({
                    "Name": name,
                    "Bucket": format!("b{}", i + 1),
                    "BucketAccountId": ACCOUNTS[b.account],
                    "AccessPointArn": format!("arn:aws:s3:us-east-1:{}:accesspoint/{name}", ACCOUNTS[0]),
                    "policy": self.maybe_broken(Target::AccessPoint(i), stmts, Kind::AccessPoint, &[]),
                }))
            })
            .collect();
        json!({
            "accounts": [
                {"id": ACCOUNTS[0], "canonical_id": CANONICAL[0]},
                {"id": ACCOUNTS[1], "canonical_id": CANONICAL[1]},
            ],
            "principals": principals,
            "buckets": buckets,
            "access_points": access_points,
            "kms_keys": kms_keys,
        })
    }

    fn policies_mut(&mut self) -> impl Iterator<Item = &mut Vec<Stmt>> {
        self.identity.iter_mut().chain(self.trust.iter_mut()).chain(
            self.buckets.iter_mut().flat_map(|b| {
                std::iter::once(&mut b.policy)
                    .chain(b.access_point.as_mut())
                    .chain(b.key.as_mut())
            }),
        )
    }

    fn number_statements(mut self) -> Spec {
        for (uid, s) in self.policies_mut().flatten().enumerate() {
            s.uid = uid;
        }
        self
    }

    /// The estate with `add`'s statement (its effect forced) in its target policy.
    fn with(&self, add: &Addition, allow: bool) -> Spec {
        let mut out = self.clone();
        let n = out.slots.len();
        let (policy, stmt) = match add.target {
            Target::Trust(i) if out.slots[i % n].role => (&mut out.trust[i % n], &add.trust),
            Target::Identity(i) | Target::Trust(i) => (&mut out.identity[i % n], &add.identity),
            Target::Bucket(i) => {
                let nb = out.buckets.len();
                (&mut out.buckets[i % nb].policy, &add.bucket)
            }
            Target::AccessPoint(i) => {
                let nb = out.buckets.len();
                let b = &mut out.buckets[i % nb];
                match b.access_point.as_mut() {
                    Some(ap) => (ap, &add.access_point),
                    None => (&mut b.policy, &add.bucket),
                }
            }
            Target::Key(i) => {
                let nb = out.buckets.len();
                let b = &mut out.buckets[i % nb];
                match b.key.as_mut() {
                    Some(k) => (k, &add.key),
                    None => (&mut b.policy, &add.bucket),
                }
            }
        };
        policy.push(Stmt {
            allow,
            ..stmt.clone()
        });
        out.number_statements()
    }

    /// Every policy's statements shuffled by `seed`, every Sid renamed.
    fn reordered(&self, seed: u64) -> Spec {
        let mut out = self.clone();
        let mut state = seed;
        for policy in out.policies_mut() {
            for i in (1..policy.len()).rev() {
                state = splitmix(state);
                policy.swap(i, (state % (i as u64 + 1)) as usize);
            }
        }
        out.sid_prefix = "Renamed";
        out
    }

    /// The estate with ACLs disabled on every bucket.
    fn enforced(&self) -> Spec {
        let mut out = self.clone();
        for b in &mut out.buckets {
            b.ownership = 0;
            b.listed = None;
        }
        out
    }

    fn json_text(&self) -> String {
        serde_json::to_string_pretty(&self.render()).expect("serialise the estate")
    }
}

/// The ARN of bucket `i`'s key, in the bucket's account.
fn key_arn(i: usize, b: &BucketSpec) -> String {
    format!(
        "arn:aws:kms:us-east-1:{}:key/k{}",
        ACCOUNTS[b.account],
        i + 1
    )
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

// ------------------------------------------------------------- strategies

fn who(kind: Kind) -> BoxedStrategy<Who> {
    let account = (0..ACCOUNTS.len()).prop_map(Who::Account);
    let slot = (0..MAX_SLOTS).prop_map(Who::Slot);
    match kind {
        Kind::Bucket | Kind::AccessPoint | Kind::Key => {
            prop_oneof![Just(Who::Everyone), account, slot].boxed()
        }
        _ => prop_oneof![1 => account, 2 => slot].boxed(),
    }
}

type Body = (bool, Vec<&'static str>, bool, Vec<Res>);

fn stmt(kind: Kind) -> BoxedStrategy<Stmt> {
    let s3 = (
        prop::bool::weighted(0.15),
        vec(select(S3_ACTIONS.to_vec()), 1..=2),
        prop::bool::weighted(0.15),
        vec(select(S3_RESOURCES.to_vec()).prop_map(Res::Lit), 1..=2),
    );
    let assume = vec(
        prop_oneof![(0..MAX_SLOTS).prop_map(Res::Role), Just(Res::Lit("*"))],
        1..=2,
    )
    .prop_map(|r| (false, vec!["sts:AssumeRole"], false, r));
    let at_access_point = (
        prop::bool::weighted(0.15),
        vec(select(S3_ACTIONS.to_vec()), 1..=2),
        Just(false),
        vec(select(AP_RESOURCES.to_vec()).prop_map(Res::Lit), 1..=2),
    );
    let at_key = (
        prop::bool::weighted(0.1),
        vec(select(KMS_ACTIONS.to_vec()), 1..=2),
        Just(false),
        Just(vec![Res::Lit("*")]),
    );
    let body: BoxedStrategy<Body> = match kind {
        Kind::Identity => prop_oneof![2 => s3, 1 => assume].boxed(),
        Kind::Bucket => s3.boxed(),
        Kind::AccessPoint => at_access_point.boxed(),
        Kind::Key => at_key.boxed(),
        Kind::Trust => Just((false, vec!["sts:AssumeRole"], false, vec![])).boxed(),
    };
    let principals = match kind {
        Kind::Identity => Just(vec![]).boxed(),
        _ => vec(who(kind), 1..=2).boxed(),
    };
    // Mostly Allows (trust policies nearly always), so that access and chains appear.
    let allow = prop::bool::weighted(if kind == Kind::Trust { 0.9 } else { 0.75 });
    (
        allow,
        any::<bool>(),
        body,
        principals,
        option::weighted(0.2, 0..6usize),
    )
        .prop_map(
            |(
                allow,
                sid,
                (not_action, actions, not_resource, resources),
                principals,
                condition,
            )| Stmt {
                uid: 0,
                allow,
                sid,
                not_action,
                actions,
                not_resource,
                resources,
                principals,
                condition,
            },
        )
        .boxed()
}

fn spec() -> impl Strategy<Value = Spec> {
    let bucket = (
        0..2usize,
        any::<[bool; 3]>(),
        vec(stmt(Kind::Bucket), 0..=3),
        0..OWNERSHIP.len(),
        option::of((0..ACCOUNTS.len(), option::of(0..ACCOUNTS.len()))),
        option::weighted(0.4, vec(stmt(Kind::AccessPoint), 0..=3)),
        option::weighted(0.3, vec(stmt(Kind::Key), 0..=3)),
    )
        .prop_map(
            |(account, block, policy, ownership, listed, access_point, key)| BucketSpec {
                account,
                block,
                policy,
                ownership,
                listed,
                access_point,
                key,
            },
        );
    (
        2..=MAX_SLOTS,
        vec((any::<bool>(), 0..2usize), MAX_SLOTS),
        vec(vec(stmt(Kind::Identity), 0..=3), MAX_SLOTS),
        vec(vec(stmt(Kind::Trust), 1..=2), MAX_SLOTS),
        vec(bucket, 1..=2),
    )
        .prop_map(|(n, kinds, identity, trust, buckets)| {
            let slots = kinds
                .into_iter()
                .take(n)
                .enumerate()
                // at least one user and one role, so that chains can appear
                .map(|(i, (role, account))| Slot {
                    role: (role || i == 1) && i != 0,
                    account,
                })
                .collect();
            Spec {
                slots,
                identity: identity.into_iter().take(n).collect(),
                trust: trust.into_iter().take(n).collect(),
                buckets,
                sid_prefix: "S",
                broken: None,
            }
            .number_statements()
        })
}

fn addition() -> impl Strategy<Value = Addition> {
    let target = prop_oneof![
        (0..MAX_SLOTS).prop_map(Target::Identity),
        (0..MAX_SLOTS).prop_map(Target::Trust),
        (0..2usize).prop_map(Target::Bucket),
        (0..2usize).prop_map(Target::AccessPoint),
        (0..2usize).prop_map(Target::Key),
    ];
    (
        target,
        stmt(Kind::Identity),
        stmt(Kind::Trust),
        stmt(Kind::Bucket),
        stmt(Kind::AccessPoint),
        stmt(Kind::Key),
    )
        .prop_map(
            |(target, identity, trust, bucket, access_point, key)| Addition {
                target,
                identity,
                trust,
                bucket,
                access_point,
                key,
            },
        )
}

// ------------------------------------------------------------- answering

/// One answer row: who, what, the scope queried, and the chain acted through.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    principal: String,
    action: String,
    scope: String,
    via: Vec<String>,
    /// The access point the request goes through, if any.
    access_point: Option<String>,
}

/// (principal, action, scope): the question a row answers.
type Question = (String, String, String);

impl Key {
    fn question(&self) -> Question {
        (
            self.principal.clone(),
            self.action.clone(),
            self.scope.clone(),
        )
    }
    fn direct(&self) -> bool {
        self.via.len() == 1
    }
    fn acting(&self) -> &str {
        self.via.last().map_or("", String::as_str)
    }
}

/// Decision as "allow", "conditional", "unknown", "deny implicit" or "deny explicit".
type Table = BTreeMap<Key, String>;

struct Answers {
    can: Table,
    who: Table,
    /// Every JSON document, with its query.
    docs: Vec<(String, Value)>,
    /// Rows that answered the same (principal, action, scope, via) twice.
    duplicates: Vec<String>,
}

fn rank(decision: &str) -> u8 {
    match decision {
        "allow" => 0,
        "conditional" => 1,
        "unknown" => 2,
        "deny implicit" => 3,
        _ => 4,
    }
}

fn load(spec: &Spec) -> Estate {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("estate.json");
    std::fs::write(&path, spec.json_text()).expect("write the estate");
    let estate = bucketlog::load::load_paths(&[path])
        .unwrap_or_else(|d| panic!("estate does not load: {d:?}\n{}", spec.json_text()));
    assert!(
        estate.diagnostics.is_empty() == spec.broken.is_none(),
        "generated estate has diagnostics {:?}\n{}",
        estate.diagnostics,
        spec.json_text()
    );
    estate
}

fn ask(estate: &Estate, q: &str) -> Value {
    let outcome = query::answer(
        estate,
        q,
        Options {
            include_root: true,
            ..Options::default()
        },
    )
    .unwrap_or_else(|e| panic!("query `{q}` fails: {e:?}"));
    report::outcome_json(&outcome)
}

fn subjects(spec: &Spec) -> Vec<String> {
    let mut out: Vec<String> = (0..spec.slots.len()).map(|i| spec.arn(i)).collect();
    out.extend(
        ACCOUNTS[..2]
            .iter()
            .map(|a| format!("arn:aws:iam::{a}:root")),
    );
    out.push("anonymous".into());
    out.push(format!("account:{OUTSIDE}"));
    out
}

fn scopes(spec: &Spec) -> Vec<&'static str> {
    let mut out = vec!["b1/x/a.txt", "b1/y.txt", "b1/x/*"];
    if spec.buckets.len() > 1 {
        out.push("b2/x/a.txt");
    }
    out
}

fn record(table: &mut Table, duplicates: &mut Vec<String>, scope: &str, doc: &Value) {
    for a in doc["answers"].as_array().into_iter().flatten() {
        let s = |k: &str| a[k].as_str().unwrap_or_default().to_string();
        let decision = match a["deny"].as_str() {
            Some(kind) => format!("{} {kind}", s("decision")),
            None => s("decision"),
        };
        let key = Key {
            principal: s("principal"),
            action: s("action"),
            scope: scope.to_string(),
            via: a["via"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            access_point: a["access_point"].as_str().map(str::to_string),
        };
        if let Some(old) = table.insert(key.clone(), decision.clone()) {
            duplicates.push(format!(
                "{}: {key:?} answered {old} and {decision}",
                doc["query"]
            ));
        }
    }
}

/// Every `can` and `who can` question of the grid, answered.
fn answers(spec: &Spec) -> Answers {
    let estate = load(spec);
    let mut out = Answers {
        can: Table::new(),
        who: Table::new(),
        docs: Vec::new(),
        duplicates: Vec::new(),
    };
    for scope in scopes(spec) {
        for action in QUERY_ACTIONS {
            let q = format!("who can {action} {scope}");
            let doc = ask(&estate, &q);
            record(&mut out.who, &mut out.duplicates, scope, &doc);
            out.docs.push((q, doc));
            for p in subjects(spec) {
                let q = format!("can {p} {action} {scope}");
                let doc = ask(&estate, &q);
                record(&mut out.can, &mut out.duplicates, scope, &doc);
                out.docs.push((q, doc));
            }
        }
    }
    out
}

// ------------------------------------------------------------- properties

fn rows_of<'t>(table: &'t Table, q: &Question) -> Vec<(&'t Key, &'t String)> {
    table.iter().filter(|(k, _)| k.question() == *q).collect()
}

fn questions(table: &Table) -> Vec<Question> {
    let mut qs: Vec<Question> = table.keys().map(Key::question).collect();
    qs.dedup();
    qs
}

/// The most permissive decision among a question's rows; "deny implicit" when
/// there is none (a `who can` lists only principals that may reach the data).
fn best(table: &Table, q: &Question) -> String {
    rows_of(table, q)
        .into_iter()
        .map(|(_, d)| d.clone())
        .min_by_key(|d| rank(d))
        .unwrap_or_else(|| "deny implicit".into())
}

fn show(table: &Table, q: &Question) -> String {
    rows_of(table, q)
        .iter()
        .map(|(k, d)| format!("{d} via {}", k.via.join(" -> ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A failed check on question `q`, with the rows of both tables.
fn mismatch(what: &str, q: &Question, left: (&str, &Table), right: (&str, &Table)) -> String {
    let (p, a, r) = q;
    format!(
        "{what} for `can {p} {a} {r}` / `who can {a} {r}`\n  {}: {}\n  {}: {}",
        left.0,
        show(left.1, q),
        right.0,
        show(right.1, q)
    )
}

/// `mismatch` for the tables of one kind of query before and after a change.
fn before_after<'t>(
    name: &'t str,
    before: &'t Table,
    after: &'t Table,
) -> impl Fn(&str, &Question) -> String + 't {
    move |what, q| {
        mismatch(
            &format!("{what} [{name}]"),
            q,
            ("before", before),
            ("after", after),
        )
    }
}

/// Property 1 on one table: every allowed row of `before` is still allowed
/// (through the same acting principal, or directly: chains are only listed
/// when the direct answer is not an allow), and explicit denies stay.
fn allow_kept(name: &str, before: &Table, after: &Table) -> Result<(), String> {
    let differ = before_after(name, before, after);
    for (k, d) in before {
        let q = k.question();
        let after_rows = rows_of(after, &q);
        let kept = after_rows
            .iter()
            .any(|(k2, d2)| *d2 == "allow" && (k2.acting() == k.acting() || k2.direct()));
        if d == "allow" && !kept {
            return Err(differ("an allow was lost", &q));
        }
        // The same request (the bucket's endpoint or one access point).
        let direct_after = after.get(k).map(String::as_str);
        if d == "deny explicit" && k.direct() && direct_after != Some("deny explicit") {
            return Err(differ("an explicit deny was lost", &q));
        }
    }
    Ok(())
}

/// Property 2 on one table: no question gains an allow, and none that was
/// denied starts to reach the data.
fn no_access_added(name: &str, before: &Table, after: &Table) -> Result<(), String> {
    let differ = before_after(name, before, after);
    for q in questions(after) {
        let (b, a) = (rank(&best(before, &q)), rank(&best(after, &q)));
        if a == 0 && b != 0 {
            return Err(differ("an allow appeared", &q));
        }
        if b >= 3 && a < 2 {
            return Err(differ("a denied question now reaches the data", &q));
        }
    }
    for (k, d) in after.iter().filter(|(k, _)| k.direct()) {
        let old = before.get(k).map_or(3, |d| rank(d));
        if (rank(d) == 0 && old != 0) || (old >= 3 && rank(d) < 2) {
            return Err(differ("a direct answer gained access", &k.question()));
        }
    }
    Ok(())
}

/// Property 3 on one document. The grantor's root user (the bucket owner's,
/// or a listed object's owner's) needs no statement (semantics.md 4.3:
/// "root, same account: true"): its allow may instead carry an Allow entry
/// whose `note` says why.
fn deciding_statements(query: &str, doc: &Value) -> Result<(), String> {
    let text = serde_json::to_string(doc).map_err(|e| format!("{query}: {e}"))?;
    let back: Value = serde_json::from_str(&text).map_err(|e| format!("{query}: {e}"))?;
    if back != *doc {
        return Err(format!("{query}: the JSON does not round-trip"));
    }
    let filled = |b: &Value, k: &str| b[k].as_str().is_some_and(|s| !s.is_empty());
    for a in back["answers"].as_array().into_iter().flatten() {
        let want = match (a["decision"].as_str(), a["deny"].as_str()) {
            (Some("allow"), _) => "Allow",
            (Some("deny"), Some("explicit")) => "Deny",
            _ => continue,
        };
        let by_root = want == "Allow"
            && a["via"]
                .as_array()
                .and_then(|v| v.last())
                .and_then(Value::as_str)
                .is_some_and(|p| p.ends_with(":root"));
        let named = a["because"].as_array().into_iter().flatten().any(|b| {
            b["effect"] == want
                && (["file", "policy", "statement"].iter().all(|k| filled(b, k))
                    || (by_root && filled(b, "note")))
        });
        if !named {
            return Err(format!(
                "`{query}`: no {want} statement with file, policy and statement in\n{}",
                serde_json::to_string_pretty(a).unwrap_or_default()
            ));
        }
    }
    Ok(())
}

/// Property 5: every `who can` row is a `can` row with the same decision; the
/// direct rows of `who can` are exactly the `can` rows that may reach the
/// data; where the direct answer is not an allow, both list the same chains.
fn who_agrees_with_can(ans: &Answers) -> Result<(), String> {
    let differ =
        |what: &str, q: &Question| mismatch(what, q, ("can", &ans.can), ("who can", &ans.who));
    let reaching = |d: &str| rank(d) < 3;
    for (k, d) in &ans.who {
        if ans.can.get(k) != Some(d) {
            return Err(differ("who-can says otherwise", &k.question()));
        }
    }
    for (k, d) in ans.can.iter().filter(|(k, _)| k.direct()) {
        let q = k.question();
        let listed = ans.who.contains_key(k);
        if reaching(d) != listed {
            return Err(differ("who-can omits or adds", &q));
        }
        let chains = |t: &Table| -> Vec<(Key, String)> {
            rows_of(t, &q)
                .into_iter()
                .filter(|(k2, _)| !k2.direct())
                .map(|(k2, d2)| (k2.clone(), d2.clone()))
                .collect()
        };
        if d != "allow" && chains(&ans.can) != chains(&ans.who) {
            return Err(differ("the chains differ", &q));
        }
    }
    Ok(())
}

/// Property 6: each hop `a → b` of a chain answer is an `sts:AssumeRole`
/// that `can a sts:AssumeRole b` says may be allowed, and no hop is less
/// certain than the chain's answer.
fn chain_hops_are_allowed(estate: &Estate, ans: &Answers) -> Result<(), String> {
    for (k, d) in ans.can.iter().filter(|(k, _)| !k.direct()) {
        for hop in k.via.windows(2) {
            let q = format!("can {} sts:AssumeRole {}", hop[0], hop[1]);
            let doc = ask(estate, &q);
            let a = &doc["answers"][0];
            let hop_decision = a["decision"].as_str().unwrap_or("missing");
            if rank(hop_decision) >= 3 || rank(hop_decision) > rank(d) {
                return Err(format!(
                    "{k:?} answered {d}, but its hop `{q}` is {hop_decision}: {}",
                    serde_json::to_string(&doc).unwrap_or_default()
                ));
            }
        }
    }
    Ok(())
}

/// Property 4: the same rows with the same decisions.
fn same_answers(before: &Table, after: &Table) -> Result<(), String> {
    let keys: std::collections::BTreeSet<&Key> = before.keys().chain(after.keys()).collect();
    for k in keys {
        if before.get(k) != after.get(k) {
            return Err(mismatch(
                "a decision changed",
                &k.question(),
                ("original", before),
                ("reordered", after),
            ));
        }
    }
    Ok(())
}

fn fail(spec: &Spec, extra: &str, why: String) -> TestCaseError {
    TestCaseError::fail(format!(
        "{why}\n{extra}\nestate (before):\n{}",
        spec.json_text()
    ))
}

fn no_duplicates(ans: &Answers) -> Result<(), String> {
    match ans.duplicates.first() {
        Some(d) => Err(format!("the same row answered twice: {d}")),
        None => Ok(()),
    }
}

/// The `can` questions of the grid only (property 7 asks five estates).
fn can_table(spec: &Spec) -> Table {
    let estate = load(spec);
    let (mut table, mut duplicates) = (Table::new(), Vec::new());
    for scope in scopes(spec) {
        for action in QUERY_ACTIONS {
            for p in subjects(spec) {
                let doc = ask(&estate, &format!("can {p} {action} {scope}"));
                record(&mut table, &mut duplicates, scope, &doc);
            }
        }
    }
    table
}

impl Spec {
    /// The estate with the target policy's statements edited.
    fn edited(&self, target: Target, edit: impl FnOnce(&mut Vec<Stmt>)) -> Spec {
        let mut out = self.clone();
        match out.resolve(target) {
            Target::Identity(i) => edit(&mut out.identity[i]),
            Target::Trust(i) => edit(&mut out.trust[i]),
            Target::Bucket(i) => edit(&mut out.buckets[i].policy),
            Target::AccessPoint(i) => edit(
                out.buckets[i]
                    .access_point
                    .as_mut()
                    .expect("resolve keeps AccessPoint only where there is one"),
            ),
            Target::Key(i) => edit(
                out.buckets[i]
                    .key
                    .as_mut()
                    .expect("resolve keeps Key only where there is one"),
            ),
        }
        out.number_statements()
    }
}

/// Property 7: a policy that cannot be read may hold anything, so an answer
/// it could change — one that differs between the policy as written, with
/// an Allow of everything added, with a Deny of everything added, and
/// emptied — is `unknown` when the policy is unreadable; an answer it cannot
/// change stays what it is (or `unknown`). A denial's kind may differ.
fn unreadable_decides_nothing(spec: &Spec, target: Target) -> Result<(), String> {
    let everything = |allow| Stmt {
        uid: 0,
        allow,
        sid: false,
        not_action: false,
        actions: vec!["*"],
        not_resource: false,
        resources: vec![Res::Lit("*")],
        principals: vec![Who::Everyone],
        condition: None,
    };
    let variants = [
        spec.clone(),
        spec.edited(target, |p| p.push(everything(true))),
        spec.edited(target, |p| p.push(everything(false))),
        spec.edited(target, Vec::clear),
    ];
    let tables: Vec<Table> = variants.iter().map(can_table).collect();
    let broken = can_table(&Spec {
        broken: Some(target),
        ..spec.clone()
    });
    let mut qs: Vec<Question> = tables.iter().chain([&broken]).flat_map(questions).collect();
    qs.sort();
    qs.dedup();
    // Whether the principal may act, over its direct answer and its chains:
    // an allow anywhere allows; else an unknown anywhere may allow. Denied
    // is denied: whether an unreadable policy would have made a denial
    // explicit changes no access, so deny kinds count as one.
    let overall = |t: &Table, q: &Question| -> String {
        let rows: Vec<&String> = rows_of(t, q).into_iter().map(|(_, d)| d).collect();
        ["allow", "unknown", "conditional"]
            .into_iter()
            .find(|d| rows.iter().any(|r| r == d))
            .unwrap_or("deny")
            .to_string()
    };
    for q in qs {
        let could: std::collections::BTreeSet<String> =
            tables.iter().map(|t| overall(t, &q)).collect();
        let got = overall(&broken, &q);
        if got != "unknown" && (could.len() > 1 || !could.contains(&got)) {
            let (p, a, r) = &q;
            return Err(format!(
                "`can {p} {a} {r}` is {got} with {target:?} unreadable; the policy could make it any of {could:?}\n  unreadable: {}",
                show(&broken, &q)
            ));
        }
    }
    Ok(())
}

/// Adds the statement with the given effect and checks `check` on both tables.
fn monotone(
    spec: &Spec,
    add: &Addition,
    allow: bool,
    check: fn(&str, &Table, &Table) -> Result<(), String>,
) -> Result<(), TestCaseError> {
    let spec = &spec.enforced();
    let after_spec = spec.with(add, allow);
    let (before, after) = (answers(spec), answers(&after_spec));
    let added = format!("estate (after):\n{}", after_spec.json_text());
    check("can", &before.can, &after.can)
        .and_then(|()| check("who can", &before.who, &after.who))
        .map_err(|why| fail(spec, &added, why))
}

/// 64 cases (a few seconds in release mode); `PROPTEST_CASES=N` for a longer
/// hunt. The cases come from a fixed seed, so a run is the same run on every
/// machine and CI cannot turn red by luck; `PROPTEST_RNG_SEED=N` hunts with
/// another one. Nothing is written to disk: a failure prints its estate as JSON.
fn config() -> ProptestConfig {
    fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
        std::env::var(name).ok().and_then(|v| v.parse().ok())
    }
    ProptestConfig {
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(env("PROPTEST_RNG_SEED").unwrap_or(20_261_130)),
        ..ProptestConfig::with_cases(env("PROPTEST_CASES").unwrap_or(64))
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn adding_an_allow_never_removes_access(spec in spec(), add in addition()) {
        monotone(&spec, &add, true, allow_kept)?;
    }

    #[test]
    fn adding_a_deny_never_adds_access(spec in spec(), add in addition()) {
        monotone(&spec, &add, false, no_access_added)?;
    }

    #[test]
    fn json_names_the_deciding_statements(spec in spec()) {
        let ans = answers(&spec);
        no_duplicates(&ans).map_err(|why| fail(&spec, "", why))?;
        for (q, doc) in &ans.docs {
            deciding_statements(q, doc).map_err(|why| fail(&spec, "", why))?;
        }
    }

    #[test]
    fn statement_order_and_sids_change_nothing(spec in spec(), seed in any::<u64>()) {
        let other = spec.reordered(seed);
        let (a, b) = (answers(&spec), answers(&other));
        let extra = format!("estate (reordered):\n{}", other.json_text());
        same_answers(&a.can, &b.can)
            .and_then(|()| same_answers(&a.who, &b.who))
            .map_err(|why| fail(&spec, &extra, why))?;
    }

    #[test]
    fn who_can_agrees_with_can(spec in spec()) {
        who_agrees_with_can(&answers(&spec)).map_err(|why| fail(&spec, "", why))?;
    }

    #[test]
    fn an_unreadable_policy_decides_nothing_it_could_change(spec in spec(), add in addition()) {
        unreadable_decides_nothing(&spec, add.target).map_err(|why| fail(&spec, "", why))?;
    }

    #[test]
    fn every_chain_hop_is_an_allowed_assume_role(spec in spec()) {
        chain_hops_are_allowed(&load(&spec), &answers(&spec)).map_err(|why| fail(&spec, "", why))?;
    }
}

// ------------------------------------------------------------- proofs

/// `with` text fixing every key of a witness; `None` when it fixes the
/// object's state, which a query cannot pin.
fn with_clause(context: &Value) -> Option<String> {
    let map = context.as_object()?;
    if map.keys().any(|k| k.starts_with("bucketlog:")) {
        return None;
    }
    let items: Vec<String> = map
        .iter()
        .map(|(k, v)| match v.as_str() {
            Some(v) => format!("{k} = \"{v}\""),
            None => format!("{k} absent"),
        })
        .collect();
    Some(match items.is_empty() {
        true => String::new(),
        false => format!(" with {}", items.join(", ")),
    })
}

/// The decision of the answer with this action and chain, in a `can` document.
/// The decision of the answer for `action` by the chain `via`, through the
/// access point `route` (`null`: the bucket's own endpoint).
fn decision_of(doc: &Value, action: &str, via: &Value, route: &Value) -> Option<String> {
    doc["answers"].as_array()?.iter().find_map(|a| {
        let same_route = a.get("access_point").unwrap_or(&Value::Null) == route;
        (a["action"] == action && a["via"] == *via && same_route).then(|| {
            let d = a["decision"].as_str().unwrap_or_default();
            match a["deny"].as_str() {
                Some(kind) => format!("{d} {kind}"),
                None => d.to_string(),
            }
        })
    })
}

/// Property 7: a refuted proof's counterexample, replayed as `can` with its
/// context fixed, is allowed.
fn counterexamples_replay(estate: &Estate, proof: &str, doc: &Value) -> Result<(), String> {
    if doc["result"] != "refuted" || doc["counterexample"].is_null() {
        return Ok(());
    }
    let c = &doc["counterexample"];
    let Some(with) = with_clause(&c["context"]) else {
        return Ok(());
    };
    let first = c["via"][0].as_str().unwrap_or_default();
    let action = c["action"].as_str().unwrap_or_default();
    let q = format!(
        "can {first} {action} {}{with}",
        c["resource"].as_str().unwrap_or_default()
    );
    let replay = ask(estate, &q);
    let route = c.get("access_point").unwrap_or(&Value::Null);
    match decision_of(&replay, action, &c["via"], route).as_deref() {
        Some("allow") => Ok(()),
        other => Err(format!(
            "`{proof}` refuted by {c}, but `{q}` answers {other:?}"
        )),
    }
}

/// Property 9: the witnesses of a conditional answer replay to allow and
/// deny.
fn witnesses_replay(estate: &Estate, query: &str, doc: &Value) -> Result<(), String> {
    let Some(rest) = query.strip_prefix("can ") else {
        return Ok(());
    };
    for a in doc["answers"].as_array().into_iter().flatten() {
        if a["decision"] != "conditional" {
            continue;
        }
        for (side, want) in [("allow_witness", "allow"), ("deny_witness", "deny")] {
            let Some(with) = with_clause(&a[side]) else {
                continue;
            };
            if with.is_empty() {
                continue;
            }
            // A chain answer's allow witness fixes its hops' keys too: it
            // replays as the chain. Its deny witness is that of the role
            // that acts at its end: it replays as that role's own request.
            let via = a["via"].as_array().cloned().unwrap_or_default();
            let (q, via) = match via.last().and_then(Value::as_str) {
                Some(role) if via.len() > 1 && side == "deny_witness" => {
                    let (_, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                    (format!("can {role} {tail}{with}"), json!([role]))
                }
                _ => (format!("can {rest}{with}"), a["via"].clone()),
            };
            let replay = ask(estate, &q);
            let action = a["action"].as_str().unwrap_or_default();
            let route = a.get("access_point").unwrap_or(&Value::Null);
            let mut got = decision_of(&replay, action, &via, route);
            // A chain's answers follow only when the principal's own is not
            // an allow (cli.md): a chain allow witness under which the
            // principal may act itself replays as that direct allow.
            if got.is_none() && side == "allow_witness" {
                let own = json!([via[0].clone()]);
                got = decision_of(&replay, action, &own, route).filter(|d| d == "allow");
            }
            if !got.as_deref().is_some_and(|g| g.starts_with(want)) {
                return Err(format!(
                    "`{query}`: {side} {} replays as {got:?} in `{q}`",
                    a[side]
                ));
            }
        }
    }
    Ok(())
}

/// Property 8: after a proved write-only, concrete reads and listings by the
/// principal, under sampled context values, are all denied.
fn proved_write_only_denies_samples(
    estate: &Estate,
    principal: &str,
    samples: &[String],
) -> Result<(), String> {
    for with in samples {
        let prefix = match with.is_empty() {
            true => " with s3:prefix = \"x/\"".to_string(),
            false => format!("{with}, s3:prefix = \"x/\""),
        };
        for q in [
            format!("can {principal} s3:GetObject b1/x/a.txt{with}"),
            format!("can {principal} s3:GetObjectVersion b1/x/deep/k{with}"),
            format!("can {principal} s3:ListBucket b1{prefix}"),
        ] {
            let doc = ask(estate, &q);
            if let Some(a) = doc["answers"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| a["decision"] == "allow")
            {
                return Err(format!(
                    "write-only proved for {principal}, but `{q}` allows: {a}"
                ));
            }
        }
    }
    Ok(())
}

fn context_samples() -> impl Strategy<Value = Vec<String>> {
    let one = (any::<bool>(), select(vec!["o-abc123", "o-other"]), select(vec!["10.1.2.3", "192.0.2.7"]))
        .prop_map(|(tls, org, ip)| {
            format!(" with aws:SecureTransport = {tls}, aws:PrincipalOrgID = {org}, aws:SourceIp = {ip}")
        });
    vec(one, 1..=3).prop_map(|mut v| {
        v.push(String::new());
        v
    })
}

/// Proofs cost a few `can` evaluations each: fewer cases by default.
fn proof_config() -> ProptestConfig {
    let cases = config().cases.min(24);
    ProptestConfig { cases, ..config() }
}

proptest! {
    #![proptest_config(proof_config())]

    #[test]
    fn proofs_refute_with_replayable_counterexamples_and_proved_write_only_holds(
        spec in spec(),
        samples in context_samples(),
    ) {
        let estate = load(&spec);
        for i in 0..spec.slots.len() {
            let p = spec.arn(i);
            let q = format!("prove write-only {p} on b1/x/*");
            let doc = ask(&estate, &q);
            counterexamples_replay(&estate, &q, &doc).map_err(|why| fail(&spec, "", why))?;
            if doc["result"] == "proved" {
                proved_write_only_denies_samples(&estate, &p, &samples).map_err(|why| fail(&spec, "", why))?;
            }
        }
        let q = "prove no-public-access b1";
        counterexamples_replay(&estate, q, &ask(&estate, q)).map_err(|why| fail(&spec, "", why))?;
    }

    #[test]
    fn conditional_witnesses_replay(spec in spec()) {
        let estate = load(&spec);
        for p in subjects(&spec) {
            for action in QUERY_ACTIONS {
                let q = format!("can {p} {action} b1/x/a.txt");
                witnesses_replay(&estate, &q, &ask(&estate, &q)).map_err(|why| fail(&spec, "", why))?;
            }
        }
    }
}
