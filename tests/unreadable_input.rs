//! Input that reads as something it is not (issue 11 item 1, the loader
//! audit): a wrong-shaped or truncated iam.json, a bad entry in it, a role
//! without a trust policy, a missing unique ID, wrong-shaped Block Public
//! Access and ACL files, broken Organizations files. Each must be reported
//! (file, pointer, what was expected) and every answer that rests on the
//! unread part must be `unknown` — it used to be a wrong allow or deny.
//!
//! The snapshot (built in a tempdir by `Snap`), account 111122223333:
//! - `alice`: an inline policy allowing s3:GetObject, s3:PutObject and
//!   s3:DeleteObject on every object;
//! - `bob`: no policy of his own, member of group `readers` (s3:GetObject);
//! - `carol`: may only call sts:AssumeRole on role `reader`;
//! - role `reader`: trusted by carol, reads bucket `data`;
//! - bucket `data`: ACLs disabled, no bucket policy;
//! - bucket `web`: a public-read bucket policy, Block Public Access all on;
//! - bucket `legacy`: ACLs enabled (ObjectWriter), an ACL that grants only
//!   its owner, one listed object `report.csv` owned by the bucket owner.
//!
//! With `with_org`, the account is a member of an organization (management
//! account 999900001111): FullAWSAccess at every level, `DenyDeletes`
//! (Deny s3:DeleteObject) on OU `ou-prod` above the account.

use bucketlog::diag::{Diagnostic, Severity};
use bucketlog::model::{Estate, IamState};
use bucketlog::query::{self, Answer, Options};
use serde_json::{json, Value};
use std::path::PathBuf;

const ACCT: &str = "111122223333";
const MGMT: &str = "999900001111";
const IAM: &str = "accounts/111122223333/iam.json";

// ---------------------------------------------------------------------------
// Building snapshots

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("serialisable")
}

fn doc(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn user(name: &str, inline: Option<Value>, groups: &[&str]) -> Value {
    let policies: Vec<Value> = inline
        .into_iter()
        .map(|d| json!({"PolicyName": format!("{name}-inline"), "PolicyDocument": d}))
        .collect();
    json!({
        "Path": "/",
        "UserName": name,
        "UserId": format!("AIDA{}", name.to_uppercase()),
        "Arn": format!("arn:aws:iam::{ACCT}:user/{name}"),
        "UserPolicyList": policies,
        "GroupList": groups,
        "AttachedManagedPolicies": [],
        "Tags": []
    })
}

fn base_iam() -> Value {
    let alice = doc(json!([{
        "Sid": "ReadWriteAll", "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        "Resource": "arn:aws:s3:::*/*"
    }]));
    let carol = doc(json!([{
        "Sid": "AssumeReader", "Effect": "Allow", "Action": "sts:AssumeRole",
        "Resource": format!("arn:aws:iam::{ACCT}:role/reader")
    }]));
    json!({
        "UserDetailList": [
            user("alice", Some(alice), &[]),
            user("bob", None, &["readers"]),
            user("carol", Some(carol), &[])
        ],
        "GroupDetailList": [{
            "Path": "/",
            "GroupName": "readers",
            "GroupId": "AGPAREADERS",
            "Arn": format!("arn:aws:iam::{ACCT}:group/readers"),
            "GroupPolicyList": [{"PolicyName": "readers-read", "PolicyDocument": doc(json!([{
                "Sid": "GroupRead", "Effect": "Allow", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::data/*"
            }]))}],
            "AttachedManagedPolicies": []
        }],
        "RoleDetailList": [{
            "Path": "/",
            "RoleName": "reader",
            "RoleId": "AROAREADER",
            "Arn": format!("arn:aws:iam::{ACCT}:role/reader"),
            "AssumeRolePolicyDocument": doc(json!([{
                "Sid": "TrustCarol", "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{ACCT}:user/carol")},
                "Action": "sts:AssumeRole"
            }])),
            "RolePolicyList": [{"PolicyName": "reader-read", "PolicyDocument": doc(json!([{
                "Sid": "RoleRead", "Effect": "Allow", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::data/*"
            }]))}],
            "AttachedManagedPolicies": [],
            "Tags": []
        }],
        "Policies": []
    })
}

const CANONICAL: &str = "1111222233330000000000000000000000000000000000000000000000000000";

fn all_on() -> Value {
    json!({"PublicAccessBlockConfiguration": {
        "BlockPublicAcls": true, "IgnorePublicAcls": true,
        "BlockPublicPolicy": true, "RestrictPublicBuckets": true
    }})
}

fn owner_only_acl() -> Value {
    json!({
        "Owner": {"ID": CANONICAL},
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": CANONICAL}, "Permission": "FULL_CONTROL"}]
    })
}

struct Snap {
    dir: tempfile::TempDir,
}

impl Snap {
    fn new() -> Snap {
        let snap = Snap {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        let base = format!("accounts/{ACCT}");
        snap.json(IAM, &base_iam());
        snap.json(
            &format!("{base}/list-buckets.json"),
            &json!({"Buckets": [{"Name": "data"}, {"Name": "web"}, {"Name": "legacy"}],
                    "Owner": {"ID": CANONICAL}}),
        );
        let enforced =
            json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}});
        for b in ["data", "web"] {
            snap.json(
                &format!("{base}/buckets/{b}/ownership-controls.json"),
                &enforced,
            );
        }
        snap.json(
            &format!("{base}/buckets/web/public-access-block.json"),
            &all_on(),
        );
        snap.json(
            &format!("{base}/buckets/web/policy.json"),
            &doc(json!([{
                "Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::web/*"
            }])),
        );
        snap.json(
            &format!("{base}/buckets/legacy/ownership-controls.json"),
            &json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}}),
        );
        snap.json(
            &format!("{base}/buckets/legacy/acl.json"),
            &owner_only_acl(),
        );
        snap.json(
            &format!("{base}/buckets/legacy/objects/report.csv.acl.json"),
            &owner_only_acl(),
        );
        snap
    }

    /// Adds the organization: FullAWSAccess everywhere, DenyDeletes on ou-prod.
    fn with_org(self) -> Snap {
        self.json(
            "org/organization.json",
            &json!({"Organization": {"Id": "o-abc123", "MasterAccountId": MGMT}}),
        );
        self.json(
            "org/accounts.json",
            &json!({"Accounts": [{"Id": ACCT}, {"Id": MGMT}]}),
        );
        self.json(
            "org/tree.json",
            &json!({"r-root": null, "ou-prod": "r-root", ACCT: "ou-prod", MGMT: "r-root"}),
        );
        self.org_policy(
            "p-full",
            "FullAWSAccess",
            json!([{"Sid": "FullAWSAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}]),
        );
        self.targets("p-full", &["r-root", "ou-prod", ACCT, MGMT]);
        self.org_policy(
            "p-nodelete",
            "DenyDeletes",
            json!([{"Sid": "DenyDeletes", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]),
        );
        self.targets("p-nodelete", &["ou-prod"]);
        self
    }

    fn org_policy(&self, id: &str, name: &str, statements: Value) {
        self.json(
            &format!("org/policies/{id}.json"),
            &json!({"Policy": {
                "PolicySummary": {"Id": id, "Name": name, "Type": "SERVICE_CONTROL_POLICY"},
                "Content": doc(statements).to_string()
            }}),
        );
    }

    fn targets(&self, id: &str, targets: &[&str]) {
        let t: Vec<Value> = targets.iter().map(|t| json!({"TargetId": t})).collect();
        self.json(&format!("org/targets/{id}.json"), &json!({"Targets": t}));
    }

    fn json(&self, rel: &str, v: &Value) -> &Snap {
        self.write(rel, pretty(v))
    }

    fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> &Snap {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(&path, bytes).expect("write");
        self
    }

    fn remove(&self, rel: &str) -> &Snap {
        std::fs::remove_file(self.dir.path().join(rel)).expect("remove");
        self
    }

    /// Rewrites iam.json after `edit`.
    fn edit_iam(&self, edit: impl FnOnce(&mut Value)) -> &Snap {
        let mut iam = base_iam();
        edit(&mut iam);
        self.json(IAM, &iam)
    }

    fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    fn load(&self) -> Estate {
        bucketlog::load::load_paths(&[self.path()])
            .unwrap_or_else(|d| panic!("a snapshot with a bad file must still load: {d}"))
    }
}

// ---------------------------------------------------------------------------
// Asking and checking

fn outcome(estate: &Estate, q: &str) -> Vec<Answer> {
    query::answer(estate, q, Options::default())
        .unwrap_or_else(|e| panic!("`{q}` must answer, got: {}", e.message))
        .answers
}

fn shown(a: &Answer) -> String {
    let (d, kind) = a.decision.names();
    kind.map_or_else(|| d.to_string(), |k| format!("{d} ({k})"))
}

/// The one direct answer to a `can` query.
fn can(estate: &Estate, q: &str) -> Answer {
    let direct: Vec<Answer> = outcome(estate, q)
        .into_iter()
        .filter(|a| a.via.len() <= 1)
        .collect();
    assert_eq!(direct.len(), 1, "`{q}`: one direct answer: {direct:?}");
    direct[0].clone()
}

fn assert_decision(estate: &Estate, q: &str, want: &str) -> Answer {
    let a = can(estate, q);
    assert_eq!(shown(&a), want, "`{q}`: {a:?}\ndiagnostics:{}", all(estate));
    a
}

/// `q` is unknown and its reason contains `why`.
fn assert_unknown(estate: &Estate, q: &str, why: &str) -> Answer {
    let a = assert_decision(estate, q, "unknown");
    let reason = a.reason.clone().unwrap_or_default();
    assert!(
        reason.contains(why),
        "`{q}`: reason {reason:?} should contain {why:?}"
    );
    a
}

/// `who can` as (principal, decision, hops) triples: 1 hop is a direct
/// answer, 2 goes through a role.
fn who(estate: &Estate, q: &str) -> Vec<(String, String, usize)> {
    outcome(estate, q)
        .iter()
        .map(|a| (a.principal.clone(), shown(a), a.via.len()))
        .collect()
}

fn all(estate: &Estate) -> String {
    estate
        .diagnostics
        .iter()
        .map(|d| format!("\n  {d}"))
        .collect()
}

/// The diagnostic of `severity` for the file ending with `file` at `pointer`,
/// whose message contains each of `words` (and says what was expected).
fn assert_diag<'e>(
    estate: &'e Estate,
    severity: Severity,
    file: &str,
    pointer: &str,
    words: &[&str],
) -> &'e Diagnostic {
    let d = estate
        .diagnostics
        .iter()
        .find(|d| {
            d.severity == severity && d.span.file.ends_with(file) && d.span.pointer == pointer
        })
        .unwrap_or_else(|| {
            panic!(
                "no {severity:?} for {file} at {pointer:?}; got:{}",
                all(estate)
            )
        });
    let text = d.to_string();
    assert!(text.contains(file), "the diagnostic names the file: {text}");
    // Errors say what was expected (the JSON parser's own words included).
    assert!(
        severity == Severity::Warning
            || d.message.contains("expected")
            || d.message.starts_with("invalid JSON"),
        "the diagnostic says what was expected: {text}"
    );
    for w in words {
        assert!(d.message.contains(w), "{w:?} in: {text}");
    }
    d
}

fn assert_iam_unreadable(estate: &Estate) {
    assert!(
        matches!(
            estate.accounts.get(ACCT).map(|a| &a.iam),
            Some(IamState::Unreadable(_))
        ),
        "the account's IAM must be unreadable: {:?}",
        estate.accounts.get(ACCT).map(|a| &a.iam)
    );
    assert!(
        estate.principals.iter().all(|p| p.account != ACCT),
        "none of the account's principals is kept"
    );
    // Its principals answer as `account:ID`: whether they may read is unknown.
    assert_unknown(
        estate,
        &format!("can account:{ACCT} s3:GetObject data/x"),
        "iam.json that could not be read",
    );
    let who = who(estate, "who can s3:GetObject data/x");
    assert!(
        who.contains(&(format!("account:{ACCT}"), "unknown".into(), 1)),
        "`who can` must not say nobody: {who:?}"
    );
}

// ---------------------------------------------------------------------------
// The baseline: nothing broken

#[test]
fn baseline_snapshot_is_clean_and_answers() {
    let estate = Snap::new().with_org().load();
    assert!(
        estate.diagnostics.is_empty(),
        "diagnostics:{}",
        all(&estate)
    );
    assert_decision(&estate, "can alice s3:GetObject data/x", "allow");
    assert_decision(
        &estate,
        "can alice s3:DeleteObject data/x",
        "deny (explicit)",
    );
    assert_decision(&estate, "can bob s3:GetObject data/x", "allow");
    assert_decision(&estate, "can role/reader s3:GetObject data/x", "allow");
    assert_decision(&estate, "can carol sts:AssumeRole role/reader", "allow");
    assert_decision(
        &estate,
        "can anonymous s3:GetObject web/index.html",
        "deny (implicit)",
    );
    assert_decision(
        &estate,
        "can anonymous s3:ListBucket legacy",
        "deny (implicit)",
    );
    assert_decision(
        &estate,
        "can anonymous s3:GetObject legacy/report.csv",
        "deny (implicit)",
    );
    let who = who(&estate, "who can s3:GetObject data/x");
    for p in ["user/alice", "user/bob", "role/reader"] {
        let arn = format!("arn:aws:iam::{ACCT}:{p}");
        assert!(who.contains(&(arn, "allow".into(), 1)), "{p} in {who:?}");
    }
    let carol = format!("arn:aws:iam::{ACCT}:user/carol");
    assert!(
        who.iter()
            .any(|(p, d, via)| *p == carol && d == "allow" && *via == 2),
        "carol reads through role reader: {who:?}"
    );
}

// ---------------------------------------------------------------------------
// A. iam.json of the wrong shape, or truncated: the account's IAM is unreadable

#[test]
fn iam_json_that_is_an_array_is_unreadable() {
    let snap = Snap::new();
    snap.write(IAM, "[]");
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        IAM,
        "",
        &["get-account-authorization-details", "found an array"],
    );
    assert_iam_unreadable(&estate);
}

#[test]
fn iam_json_with_none_of_the_lists_is_unreadable() {
    let snap = Snap::new();
    snap.json(IAM, &json!({"Users": [], "Roles": []}));
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        IAM,
        "",
        &["UserDetailList", "found none of them"],
    );
    assert_iam_unreadable(&estate);
}

#[test]
fn truncated_iam_json_is_unreadable() {
    let snap = Snap::new();
    snap.edit_iam(|iam| {
        iam["IsTruncated"] = json!(true);
        iam["Marker"] = json!("AAAA");
    });
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        IAM,
        "/IsTruncated",
        &["truncated", "complete output"],
    );
    assert_iam_unreadable(&estate);
}

#[test]
fn iam_json_without_roles_is_unreadable() {
    // `--filter User` prints the users only: the roles are not known.
    let snap = Snap::new();
    snap.edit_iam(|iam| {
        iam.as_object_mut()
            .expect("object")
            .remove("RoleDetailList");
    });
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        IAM,
        "",
        &["RoleDetailList", "roles are not known"],
    );
    assert_iam_unreadable(&estate);
}

// ---------------------------------------------------------------------------
// B. a bad entry keeps its principal, with an invalid policy in place of the
// unreadable part; an entry without ARN or name makes the IAM unreadable

#[test]
fn unreadable_user_tags_decide_nothing() {
    // A bucket-policy Deny that exempts one team: with alice's tags unread,
    // it must not decide her answer as if she had none (it used to: an
    // explicit deny resting on something unread).
    let snap = Snap::new();
    snap.edit_iam(|iam| iam["UserDetailList"][0]["Tags"] = json!({"team": "data"}));
    snap.json(
        &format!("accounts/{ACCT}/buckets/data/policy.json"),
        &doc(json!([{
            "Sid": "OnlyDataTeam", "Effect": "Deny", "Principal": "*",
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*",
            "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "data"}}
        }])),
    );
    let estate = snap.load();
    let a = can(&estate, "can alice s3:GetObject data/x");
    assert!(
        !a.decision.names().0.starts_with("deny"),
        "alice's unread tags decided her read: {}",
        shown(&a)
    );
    assert_unknown(
        &estate,
        "can alice s3:GetObject data/x",
        "policy `alice Tags` is invalid",
    );
}

#[test]
fn role_with_unreadable_tags_is_kept_and_unknown() {
    let snap = Snap::new();
    snap.edit_iam(|iam| iam["RoleDetailList"][0]["Tags"] = json!({"team": "data"}));
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        IAM,
        "/RoleDetailList/0/Tags",
        &["`Tags` as an array"],
    );
    assert!(estate.is_described(ACCT));
    assert_unknown(
        &estate,
        "can role/reader s3:GetObject data/x",
        "policy `reader Tags` is invalid",
    );
    // The role is still in `who can`, and so is the chain through it.
    let who = who(&estate, "who can s3:GetObject data/x");
    let reader = format!("arn:aws:iam::{ACCT}:role/reader");
    let carol = format!("arn:aws:iam::{ACCT}:user/carol");
    assert!(who.contains(&(reader, "unknown".into(), 1)), "{who:?}");
    assert!(who.contains(&(carol, "unknown".into(), 2)), "{who:?}");
    // The rest of the account answers as before.
    assert_decision(&estate, "can alice s3:GetObject data/x", "allow");
}

#[test]
fn inline_policy_without_document_keeps_the_user() {
    let snap = Snap::new();
    snap.edit_iam(|iam| {
        iam["UserDetailList"][0]["UserPolicyList"][0]
            .as_object_mut()
            .expect("object")
            .remove("PolicyDocument");
    });
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        IAM,
        "/UserDetailList/0/UserPolicyList/0",
        &["`PolicyDocument`", "alice-inline"],
    );
    // It used to drop alice: "no principal `alice`".
    assert_unknown(
        &estate,
        "can alice s3:GetObject data/x",
        "policy `alice-inline` is invalid",
    );
    assert_decision(&estate, "can bob s3:GetObject data/x", "allow");
}

#[test]
fn attached_policy_without_arn_keeps_the_user() {
    let snap = Snap::new();
    snap.edit_iam(|iam| {
        iam["UserDetailList"][1]["AttachedManagedPolicies"] = json!([{"PolicyName": "ReadOnly"}])
    });
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        IAM,
        "/UserDetailList/1/AttachedManagedPolicies/0",
        &["`PolicyArn`"],
    );
    assert_unknown(
        &estate,
        "can bob s3:PutObject data/x",
        "policy `bob AttachedManagedPolicies/0` is invalid",
    );
}

#[test]
fn group_with_unreadable_policy_list_is_kept_with_an_invalid_policy() {
    let snap = Snap::new();
    snap.edit_iam(|iam| iam["GroupDetailList"][0]["GroupPolicyList"] = json!({"readers-read": {}}));
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        IAM,
        "/GroupDetailList/0/GroupPolicyList",
        &["`GroupPolicyList` as an array"],
    );
    // It used to drop the group: bob's PutObject was an implicit deny.
    assert_unknown(
        &estate,
        "can bob s3:PutObject data/x",
        "policy `readers GroupPolicyList` is invalid",
    );
}

#[test]
fn group_missing_from_the_listing_is_unknown() {
    let snap = Snap::new();
    snap.edit_iam(|iam| iam["GroupDetailList"] = json!([]));
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        IAM,
        "/UserDetailList/1/GroupList/0",
        &["group `readers`", "GroupDetailList"],
    );
    assert_unknown(
        &estate,
        "can bob s3:GetObject data/x",
        "policy `readers` is invalid",
    );
}

#[test]
fn unreadable_group_list_of_a_user_is_unknown() {
    let snap = Snap::new();
    snap.edit_iam(|iam| iam["UserDetailList"][1]["GroupList"] = json!("readers"));
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        IAM,
        "/UserDetailList/1/GroupList",
        &["as an array"],
    );
    assert_unknown(
        &estate,
        "can bob s3:GetObject data/x",
        "policy `bob GroupList` is invalid",
    );
}

#[test]
fn boundary_without_arn_is_an_invalid_boundary() {
    let snap = Snap::new();
    snap.edit_iam(|iam| {
        iam["UserDetailList"][0]["PermissionsBoundary"] =
            json!({"PermissionsBoundaryType": "Policy"})
    });
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        IAM,
        "/UserDetailList/0/PermissionsBoundary",
        &["`PermissionsBoundaryArn`"],
    );
    assert_unknown(
        &estate,
        "can alice s3:GetObject data/x",
        "policy `alice PermissionsBoundary` is invalid",
    );
}

#[test]
fn role_without_a_name_makes_the_iam_unreadable() {
    let snap = Snap::new();
    snap.edit_iam(|iam| {
        iam["RoleDetailList"][0]
            .as_object_mut()
            .expect("object")
            .remove("RoleName");
    });
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        IAM,
        "/RoleDetailList/0",
        &["`RoleName`"],
    );
    assert_iam_unreadable(&estate);
}

#[test]
fn group_without_a_name_makes_the_iam_unreadable() {
    let snap = Snap::new();
    snap.edit_iam(|iam| iam["GroupDetailList"][0]["GroupName"] = json!(7));
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        IAM,
        "/GroupDetailList/0/GroupName",
        &["as a string"],
    );
    assert_iam_unreadable(&estate);
}

// ---------------------------------------------------------------------------
// C. a role without a trust policy: who may assume it is unknown

#[test]
fn role_without_trust_policy_is_unknown_to_assume() {
    let snap = Snap::new();
    snap.edit_iam(|iam| {
        iam["RoleDetailList"][0]
            .as_object_mut()
            .expect("object")
            .remove("AssumeRolePolicyDocument");
    });
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        IAM,
        "/RoleDetailList/0",
        &["`AssumeRolePolicyDocument`", "role `reader`"],
    );
    // It used to be an implicit deny: nobody could assume the role.
    assert_unknown(
        &estate,
        "can carol sts:AssumeRole role/reader",
        "policy `reader trust policy` is invalid",
    );
    let who = who(&estate, "who can s3:GetObject data/x");
    let carol = format!("arn:aws:iam::{ACCT}:user/carol");
    assert!(who.contains(&(carol, "unknown".into(), 2)), "{who:?}");
    // The role's own access does not depend on its trust policy.
    assert_decision(&estate, "can role/reader s3:GetObject data/x", "allow");
}

// ---------------------------------------------------------------------------
// D. a missing unique ID is reported

#[test]
fn missing_user_id_is_a_warning() {
    let snap = Snap::new();
    snap.edit_iam(|iam| {
        iam["UserDetailList"][0]
            .as_object_mut()
            .expect("object")
            .remove("UserId");
        iam["RoleDetailList"][0]["RoleId"] = json!(null);
    });
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Warning,
        IAM,
        "/UserDetailList/0",
        &["`UserId`", "`alice`"],
    );
    assert_diag(
        &estate,
        Severity::Warning,
        IAM,
        "/RoleDetailList/0/RoleId",
        &["`RoleId`"],
    );
    assert!(
        estate
            .diagnostics
            .iter()
            .all(|d| d.severity == Severity::Warning),
        "{}",
        all(&estate)
    );
    // The principals stay, their answers unchanged.
    assert_decision(&estate, "can alice s3:GetObject data/x", "allow");
    assert_decision(&estate, "can role/reader s3:GetObject data/x", "allow");
}

// ---------------------------------------------------------------------------
// E. Block Public Access files of the wrong shape are unreadable, never "all off"

const WEB_PAB: &str = "buckets/web/public-access-block.json";
const BPA_UNREADABLE: &str = "Block Public Access or ownership settings";

fn check_bucket_pab(v: Value, pointer: &str, words: &[&str]) {
    let snap = Snap::new();
    snap.json(&format!("accounts/{ACCT}/{WEB_PAB}"), &v);
    let estate = snap.load();
    assert_diag(&estate, Severity::Error, WEB_PAB, pointer, words);
    // It used to be an allow: the public policy with every flag off.
    assert_unknown(
        &estate,
        "can anonymous s3:GetObject web/index.html",
        BPA_UNREADABLE,
    );
}

#[test]
fn bucket_pab_with_a_misnamed_wrapper() {
    check_bucket_pab(
        json!({"PublicAccessBlock": all_on()["PublicAccessBlockConfiguration"].clone()}),
        "/PublicAccessBlock",
        &[
            "unknown key `PublicAccessBlock`",
            "PublicAccessBlockConfiguration",
        ],
    );
}

#[test]
fn bucket_pab_without_a_wrapper() {
    check_bucket_pab(
        all_on()["PublicAccessBlockConfiguration"].clone(),
        "/BlockPublicAcls",
        &["unknown key `BlockPublicAcls`"],
    );
}

#[test]
fn bucket_pab_that_is_an_error_document() {
    check_bucket_pab(
        json!({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}),
        "",
        &["the error AWS returned", "AccessDenied: Access Denied"],
    );
}

#[test]
fn bucket_pab_with_a_misspelt_flag() {
    let mut v = all_on();
    let c = v["PublicAccessBlockConfiguration"]
        .as_object_mut()
        .expect("object");
    c.remove("RestrictPublicBuckets");
    c.insert("restrictPublicBuckets".into(), json!(true));
    check_bucket_pab(
        v,
        "/PublicAccessBlockConfiguration/restrictPublicBuckets",
        &["unknown key `restrictPublicBuckets`", "case-sensitive"],
    );
}

#[test]
fn bucket_pab_with_a_flag_left_out() {
    let mut v = all_on();
    v["PublicAccessBlockConfiguration"]
        .as_object_mut()
        .expect("object")
        .remove("RestrictPublicBuckets");
    check_bucket_pab(
        v,
        "/PublicAccessBlockConfiguration",
        &["`RestrictPublicBuckets`", "all four"],
    );
}

#[test]
fn account_pab_of_the_wrong_shape_is_unreadable() {
    let snap = Snap::new();
    // The bucket's own flags are off: only the account's could block.
    let mut off = all_on();
    for f in [
        "BlockPublicAcls",
        "IgnorePublicAcls",
        "BlockPublicPolicy",
        "RestrictPublicBuckets",
    ] {
        off["PublicAccessBlockConfiguration"][f] = json!(false);
    }
    snap.json(&format!("accounts/{ACCT}/{WEB_PAB}"), &off);
    let account_file = format!("accounts/{ACCT}/public-access-block.json");
    snap.json(&account_file, &all_on());
    let estate = snap.load();
    assert_decision(
        &estate,
        "can anonymous s3:GetObject web/index.html",
        "deny (implicit)",
    );
    snap.json(
        &account_file,
        &json!({"PublicAccessBlock": {"RestrictPublicBuckets": true}}),
    );
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        &account_file,
        "/PublicAccessBlock",
        &["unknown key"],
    );
    assert_unknown(
        &estate,
        "can anonymous s3:GetObject web/index.html",
        BPA_UNREADABLE,
    );
}

/// Block Public Access combines the bucket's and the account's flags by
/// OR: when one side is readable and sets every flag the answers read, the
/// other side being unreadable leaves nothing in doubt.
#[test]
fn an_unreadable_side_of_block_public_access_does_not_matter_when_the_other_blocks() {
    let error = json!({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}});
    let account_file = format!("accounts/{ACCT}/public-access-block.json");
    for (bucket, account) in [(all_on(), error.clone()), (error.clone(), all_on())] {
        let snap = Snap::new();
        snap.json(&format!("accounts/{ACCT}/{WEB_PAB}"), &bucket);
        snap.json(&account_file, &account);
        let estate = snap.load();
        assert_decision(
            &estate,
            "can anonymous s3:GetObject web/index.html",
            "deny (implicit)",
        );
    }
    // One flag off on the readable side: the unreadable side decides it.
    let mut partial = all_on();
    partial["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] = json!(false);
    let snap = Snap::new();
    snap.json(&format!("accounts/{ACCT}/{WEB_PAB}"), &partial);
    snap.json(&account_file, &error);
    assert_unknown(
        &snap.load(),
        "can anonymous s3:GetObject web/index.html",
        BPA_UNREADABLE,
    );
}

/// An environment file with bucket `web` (public-read policy) and `pab` as its
/// `public_access_block`, and `account_pab` as `account_public_access_block`.
fn env_estate(pab: Value, account_pab: Value) -> Result<Estate, Diagnostic> {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env = json!({
        "accounts": [{"id": ACCT}],
        "buckets": [{"name": "web", "account": ACCT, "ownership": "BucketOwnerEnforced",
                     "public_access_block": pab,
                     "policy": doc(json!([{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                                           "Action": "s3:GetObject", "Resource": "arn:aws:s3:::web/*"}]))}]
    });
    if !account_pab.is_null() {
        env["account_public_access_block"] = account_pab;
    }
    let file = dir.path().join("env.json");
    std::fs::write(&file, pretty(&env)).expect("write");
    bucketlog::load::load_paths(&[file])
}

#[test]
fn env_file_pab_keeps_optional_flags_and_rejects_unknown_keys() {
    // docs/env-file.md: the bare object, flags left out are off.
    let estate = env_estate(json!({"RestrictPublicBuckets": true}), Value::Null).expect("loads");
    assert!(estate.diagnostics.is_empty(), "{}", all(&estate));
    assert_decision(
        &estate,
        "can anonymous s3:GetObject web/index.html",
        "deny (implicit)",
    );
    let estate =
        env_estate(json!({}), json!({ACCT: {"RestrictPublicBuckets": true}})).expect("loads");
    assert!(estate.diagnostics.is_empty(), "{}", all(&estate));
    assert_decision(
        &estate,
        "can anonymous s3:GetObject web/index.html",
        "deny (implicit)",
    );
    // A misspelt flag used to read as off: allow.
    let estate = env_estate(json!({"restrictPublicBuckets": true}), Value::Null).expect("loads");
    assert_diag(
        &estate,
        Severity::Error,
        "env.json",
        "/buckets/0/public_access_block/restrictPublicBuckets",
        &["unknown key `restrictPublicBuckets`"],
    );
    assert_unknown(
        &estate,
        "can anonymous s3:GetObject web/index.html",
        BPA_UNREADABLE,
    );
    let estate = env_estate(json!({}), json!({ACCT: {"Restrict": true}})).expect("loads");
    assert_diag(
        &estate,
        Severity::Error,
        "env.json",
        &format!("/account_public_access_block/{ACCT}/Restrict"),
        &["unknown key `Restrict`"],
    );
    assert_unknown(
        &estate,
        "can anonymous s3:GetObject web/index.html",
        BPA_UNREADABLE,
    );
}

#[test]
fn env_file_account_pab_that_is_not_an_object_is_an_error() {
    // It used to be ignored: the account's flags read as off.
    let err = env_estate(json!({}), json!([{"RestrictPublicBuckets": true}]))
        .expect_err("a wrong shape outside a policy is fatal in an environment file");
    assert!(err.span.file.ends_with("env.json"), "{err}");
    assert_eq!(err.span.pointer, "/account_public_access_block", "{err}");
    assert!(
        err.message
            .contains("expected `account_public_access_block` as an object"),
        "{err}"
    );
    let err = env_estate(json!({}), json!({"prod": {}})).expect_err("not an account ID");
    assert!(err.message.contains("12-digit account ID"), "{err}");
}

// ---------------------------------------------------------------------------
// F. ACL files of the wrong shape are unreadable, never "no grants"

const LEGACY_ACL: &str = "buckets/legacy/acl.json";
const OBJECT_ACL: &str = "buckets/legacy/objects/report.csv.acl.json";

fn check_bucket_acl(v: &str, words: &[&str]) {
    let snap = Snap::new();
    snap.write(&format!("accounts/{ACCT}/{LEGACY_ACL}"), v);
    let estate = snap.load();
    assert_diag(&estate, Severity::Error, LEGACY_ACL, "", words);
    // It used to be an implicit deny: no grants.
    assert_unknown(&estate, "can anonymous s3:ListBucket legacy", "ACL");
}

#[test]
fn bucket_acl_that_is_an_array() {
    check_bucket_acl("[]", &["get-bucket-acl", "found an array"]);
}

#[test]
fn bucket_acl_without_grants() {
    check_bucket_acl(
        &format!(r#"{{"Owner": {{"ID": "{CANONICAL}"}}}}"#),
        &["`Grants`"],
    );
    check_bucket_acl(
        r#"{"Error": {"Code": "AccessDenied"}}"#,
        &["the error AWS returned", "AccessDenied"],
    );
}

#[test]
fn bucket_acl_with_null_grants() {
    let snap = Snap::new();
    snap.json(
        &format!("accounts/{ACCT}/{LEGACY_ACL}"),
        &json!({"Owner": {"ID": CANONICAL}, "Grants": null}),
    );
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        LEGACY_ACL,
        "/Grants",
        &["`Grants` as an array"],
    );
    assert_unknown(&estate, "can anonymous s3:ListBucket legacy", "ACL");
}

#[test]
fn object_acl_without_owner_or_grants() {
    for v in [
        json!({"Grants": owner_only_acl()["Grants"].clone()}),
        json!({"Owner": {"ID": CANONICAL}}),
        json!([]),
    ] {
        let snap = Snap::new();
        snap.json(&format!("accounts/{ACCT}/{OBJECT_ACL}"), &v);
        let estate = snap.load();
        assert_diag(
            &estate,
            Severity::Error,
            OBJECT_ACL,
            "",
            &["get-object-acl"],
        );
        assert_unknown(
            &estate,
            "can anonymous s3:GetObject legacy/report.csv",
            "could not be read",
        );
    }
}

// ---------------------------------------------------------------------------
// G. Organizations files

#[test]
fn unparsable_scp_is_kept_invalid_at_its_targets() {
    let snap = Snap::new().with_org();
    snap.write(
        "org/policies/p-nodelete.json",
        r#"{"Policy": {"PolicySummary": {"Id": "p-nodelete""#,
    );
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        "org/policies/p-nodelete.json",
        "",
        &["invalid JSON"],
    );
    // It used to be dropped: an allow.
    let a = assert_unknown(
        &estate,
        "can alice s3:DeleteObject data/x",
        "policy `p-nodelete` is invalid",
    );
    // Its type cannot be read either: it stands as an SCP and as an RCP.
    let layers: Vec<&str> = a
        .because
        .iter()
        .filter(|r| &*r.policy == "p-nodelete")
        .map(|r| r.layer)
        .collect();
    assert_eq!(layers, ["rcp", "scp"], "{:?}", a.because);
}

#[test]
fn scp_without_content_keeps_its_type() {
    let snap = Snap::new().with_org();
    snap.json(
        "org/policies/p-nodelete.json",
        &json!({"Policy": {"PolicySummary": {"Id": "p-nodelete", "Name": "DenyDeletes",
                                             "Type": "SERVICE_CONTROL_POLICY"}}}),
    );
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        "org/policies/p-nodelete.json",
        "/Policy",
        &["`Content`"],
    );
    let a = assert_unknown(
        &estate,
        "can alice s3:DeleteObject data/x",
        "policy `p-nodelete` is invalid",
    );
    let layers: Vec<&str> = a
        .because
        .iter()
        .filter(|r| &*r.policy == "p-nodelete")
        .map(|r| r.layer)
        .collect();
    assert_eq!(layers, ["scp"], "{:?}", a.because);
}

const ORG_UNKNOWN: &str = "SCPs and RCPs above it are unknown";

#[test]
fn unreadable_targets_make_every_member_unknown() {
    let snap = Snap::new().with_org();
    snap.json(
        "org/targets/p-nodelete.json",
        &json!({"Targets": {"TargetId": "ou-prod"}}),
    );
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        "org/targets/p-nodelete.json",
        "/Targets",
        &["`Targets` as an array"],
    );
    assert_diag(
        &estate,
        Severity::Warning,
        "org/targets/p-nodelete.json",
        "",
        &["policy `p-nodelete`"],
    );
    // It used to be attached nowhere: an allow.
    assert_unknown(&estate, "can alice s3:DeleteObject data/x", ORG_UNKNOWN);
    assert_unknown(&estate, "can alice s3:GetObject data/x", ORG_UNKNOWN);
    // A deny of another layer stands: SCPs never grant.
    assert_decision(&estate, "can bob s3:PutObject data/x", "deny (implicit)");
}

#[test]
fn missing_targets_file_makes_every_member_unknown() {
    let snap = Snap::new().with_org();
    snap.remove("org/targets/p-nodelete.json");
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        "org/policies/p-nodelete.json",
        "",
        &["org/targets/p-nodelete.json", "list-targets-for-policy"],
    );
    assert_unknown(&estate, "can alice s3:DeleteObject data/x", ORG_UNKNOWN);
}

#[test]
fn targets_of_a_missing_policy_attach_an_invalid_policy() {
    let snap = Snap::new().with_org();
    snap.remove("org/policies/p-nodelete.json");
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        "org/targets/p-nodelete.json",
        "",
        &[
            "org/policies/p-nodelete.json",
            "content and type are unknown",
        ],
    );
    assert_unknown(
        &estate,
        "can alice s3:DeleteObject data/x",
        "policy `p-nodelete` is invalid",
    );
}

#[test]
fn tree_with_a_dangling_parent_is_unreadable() {
    let snap = Snap::new().with_org();
    // ou-prod is left out: the path would stop at the account, losing the
    // root's and the OU's policies.
    snap.json(
        "org/tree.json",
        &json!({"r-root": null, ACCT: "ou-prod", MGMT: "r-root"}),
    );
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        "org/tree.json",
        &format!("/{ACCT}"),
        &["parent `ou-prod`", "not in tree.json"],
    );
    assert_unknown(&estate, "can alice s3:DeleteObject data/x", ORG_UNKNOWN);
}

#[test]
fn unknown_membership_makes_every_account_a_member() {
    let snap = Snap::new().with_org();
    snap.write("org/accounts.json", "{");
    snap.remove("org/tree.json");
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        "org/accounts.json",
        "",
        &["invalid JSON"],
    );
    assert_diag(
        &estate,
        Severity::Warning,
        "org",
        "",
        &["members of the organization is unknown"],
    );
    assert_unknown(&estate, "can alice s3:DeleteObject data/x", ORG_UNKNOWN);
}

#[test]
fn missing_management_account_is_reported() {
    let snap = Snap::new().with_org();
    snap.json(
        "org/organization.json",
        &json!({"Organization": {"Id": "o-abc123"}}),
    );
    let estate = snap.load();
    assert_diag(
        &estate,
        Severity::Error,
        "org/organization.json",
        "/Organization",
        &["`MasterAccountId`", "management account is unknown"],
    );
}

/// A chain that is unknown through a hop says why (issue 11 item 15): the
/// hop's invalid trust policy, not an empty reason.
#[test]
fn a_chain_unknown_through_its_hop_names_the_hop() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios/unreadable_role_trust_missing/snapshot");
    let estate = bucketlog::load::load_paths(&[dir]).expect("loads");
    let o = bucketlog::query::answer(
        &estate,
        "can carol s3:GetObject data/x",
        bucketlog::query::Options::default(),
    )
    .expect("answers");
    let chain = o
        .answers
        .iter()
        .find(|a| a.via.len() == 2)
        .expect("an answer through role/reader");
    assert_eq!(chain.decision, bucketlog::datalog::Decision::Unknown);
    let reason = chain.reason.as_deref().unwrap_or_default();
    assert!(
        reason.contains("policy `reader trust policy` is invalid"),
        "{reason:?}"
    );
}
