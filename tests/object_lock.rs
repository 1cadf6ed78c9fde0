//! Object Lock on a listed version (rules/46, semantics.md 5.7), checked
//! exhaustively against a model of S3's documented behaviour: every
//! retention mode, legal hold, identity policy on s3:DeleteObjectVersion
//! and on s3:BypassGovernanceRetention, and every way the query may fix
//! `aws:CurrentTime` and the bypass header. Each answer must be what the
//! model gives over the values the query leaves free, and each witness of
//! a conditional answer must replay to its side.

use bucketlog::load;
use bucketlog::model::Estate;
use bucketlog::query::{self, Options};
use bucketlog::report;
use serde_json::{json, Value};

const UNTIL: &str = "2031-01-01T00:00:00+00:00";
const BEFORE: &str = "2030-06-01T00:00:00Z";
const AFTER: &str = "2031-06-01T00:00:00Z";
const BYPASS: &str = "bucketlog:bypass-governance-retention";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    None,
    Governance,
    Compliance,
}

/// What the caller's identity policy says of an action.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Policy {
    Allow,
    Silent,
    Deny,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Time {
    Before,
    After,
}

/// One estate: user `u`, bucket `vault` (versioned, Object Lock on), and
/// the listed version `v1` of key `k` in the given state.
fn estate(mode: Mode, hold: bool, delete: Policy, bypass: Policy) -> Estate {
    let mut statements = Vec::new();
    for (action, p) in [
        ("s3:DeleteObjectVersion", delete),
        ("s3:BypassGovernanceRetention", bypass),
    ] {
        let effect = match p {
            Policy::Allow => "Allow",
            Policy::Deny => "Deny",
            Policy::Silent => continue,
        };
        statements
            .push(json!({"Effect": effect, "Action": action, "Resource": "arn:aws:s3:::vault/*"}));
    }
    let mut head = json!({"VersionId": "v1", "ServerSideEncryption": "AES256"});
    let mode_name = match mode {
        Mode::None => None,
        Mode::Governance => Some("GOVERNANCE"),
        Mode::Compliance => Some("COMPLIANCE"),
    };
    if let Some(m) = mode_name {
        head["ObjectLockMode"] = json!(m);
        head["ObjectLockRetainUntilDate"] = json!(UNTIL);
    }
    head["ObjectLockLegalHoldStatus"] = json!(if hold { "ON" } else { "OFF" });
    let env = json!({
        "principals": [{"arn": "arn:aws:iam::111122223333:user/u",
                        "policies": [{"Version": "2012-10-17", "Statement": statements}]}],
        "buckets": [{"name": "vault", "account": "111122223333",
                     "ownership": "BucketOwnerEnforced", "versioning": "Enabled",
                     "object_lock": {"ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled"}},
                     "objects": [{"key": "k", "head": head}]}]
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("estate.json");
    std::fs::write(&path, env.to_string()).expect("write");
    let e = load::load_paths(&[path]).expect("loads");
    assert!(e.diagnostics.is_empty(), "{:?}", e.diagnostics);
    e
}

/// S3, as documented: whether the delete of `v1` succeeds at `time`, with
/// or without the bypass header.
fn model(mode: Mode, hold: bool, delete: Policy, bypass: Policy, time: Time, header: bool) -> bool {
    if delete != Policy::Allow || hold {
        return false;
    }
    match mode {
        Mode::None => true,
        Mode::Compliance => time == Time::After,
        // With the header the bypass permission is needed (docs/decisions.md).
        Mode::Governance if header => bypass == Policy::Allow,
        Mode::Governance => time == Time::After,
    }
}

/// The decision over the values a query leaves free: allow when every
/// value allows, deny when none does, conditional otherwise.
fn expected(outcomes: &[bool]) -> &'static str {
    match (outcomes.iter().all(|&o| o), outcomes.iter().any(|&o| o)) {
        (true, _) => "allow",
        (false, true) => "conditional",
        (false, false) => "deny",
    }
}

fn ask(e: &Estate, q: &str) -> Value {
    let o = query::answer(e, q, Options::default()).unwrap_or_else(|err| panic!("{q}: {err:?}"));
    let doc = report::outcome_json(&o);
    assert_eq!(
        doc["answers"].as_array().map(Vec::len),
        Some(1),
        "{q}: {doc}"
    );
    doc["answers"][0].clone()
}

fn kind(decision: &Value) -> &str {
    decision
        .as_str()
        .unwrap_or_default()
        .split(' ')
        .next()
        .unwrap_or_default()
}

#[test]
fn a_listed_version_is_deleted_exactly_as_its_object_lock_state_allows() {
    let modes = [Mode::None, Mode::Governance, Mode::Compliance];
    let policies = [Policy::Allow, Policy::Silent, Policy::Deny];
    let times = [None, Some(Time::Before), Some(Time::After)];
    let headers = [None, Some(false), Some(true)];
    let mut checked = 0;
    for mode in modes {
        for hold in [false, true] {
            for delete in policies {
                for bypass in policies {
                    let e = estate(mode, hold, delete, bypass);
                    for time in times {
                        for header in headers {
                            let mut with = vec!["s3:versionid = v1".to_string()];
                            match time {
                                Some(Time::Before) => {
                                    with.push(format!("aws:CurrentTime = {BEFORE}"))
                                }
                                Some(Time::After) => {
                                    with.push(format!("aws:CurrentTime = {AFTER}"))
                                }
                                None => {}
                            }
                            match header {
                                Some(true) => with.push(format!("{BYPASS} = true")),
                                Some(false) => with.push(format!("{BYPASS} absent")),
                                None => {}
                            }
                            let q = format!(
                                "can user/u s3:DeleteObjectVersion vault/k with {}",
                                with.join(", ")
                            );
                            let outcomes: Vec<bool> = times
                                .iter()
                                .filter_map(|t| *t)
                                .filter(|t| time.is_none_or(|fixed| fixed == *t))
                                .flat_map(|t| {
                                    [false, true]
                                        .into_iter()
                                        .filter(|h| header.is_none_or(|fixed| fixed == *h))
                                        .map(move |h| model(mode, hold, delete, bypass, t, h))
                                })
                                .collect();
                            let a = ask(&e, &q);
                            let want = expected(&outcomes);
                            assert_eq!(kind(&a["decision"]), want, "{q} ({mode:?}, hold {hold}, delete {delete:?}, bypass {bypass:?}): {a}");
                            if want == "conditional" {
                                replay(&e, &q, &a);
                            }
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 486);
}

/// Each witness of a conditional answer, fixed on top of the query,
/// answers its side.
fn replay(e: &Estate, q: &str, a: &Value) {
    for (side, want) in [("allow_witness", "allow"), ("deny_witness", "deny")] {
        let w = a[side]
            .as_object()
            .unwrap_or_else(|| panic!("{q}: no {side}: {a}"));
        let fixed: Vec<String> = w
            .iter()
            .map(|(k, v)| match v.as_str() {
                Some(v) => format!("{k} = {v}"),
                None => format!("{k} absent"),
            })
            .collect();
        let again = format!("{q}, {}", fixed.join(", "));
        let got = ask(e, &again);
        assert_eq!(
            kind(&got["decision"]),
            want,
            "{side} of `{q}` replays in `{again}`: {got}"
        );
    }
}
