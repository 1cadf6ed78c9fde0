//! `show principal|bucket|policy NAME` (cli.md, issue 12 item 3) on the
//! built-in demo estate: what the snapshot holds for one entity, each item
//! with the file and line it was read from, through the library and the
//! JSON contract; names that are not in the snapshot are errors at their
//! column.

use bucketlog::load;
use bucketlog::model::Estate;
use bucketlog::query::{Engine, Options};
use bucketlog::report;

fn demo() -> Estate {
    load::load_paths(&[]).expect("the demo estate loads")
}

/// The (field, value, "file:line") items of one `show`'s only sheet.
fn items(e: &Estate, q: &str) -> Vec<(String, String, String)> {
    let o = Engine::new(e)
        .answer(q, Options::default())
        .expect("answers");
    assert_eq!(o.shown.len(), 1, "{q}");
    o.shown[0]
        .items
        .iter()
        .map(|i| {
            let at = i.source.as_ref().map(|s| format!("{}:{}", s.file, s.line));
            (i.field.to_string(), i.value.clone(), at.unwrap_or_default())
        })
        .collect()
}

fn has(items: &[(String, String, String)], field: &str, value: &str) -> bool {
    items.iter().any(|(f, v, _)| f == field && v == value)
}

#[test]
fn a_principal_shows_its_policies_boundary_and_the_roles_it_can_assume() {
    let e = demo();
    let bot = items(&e, "show principal user/partner-bot");
    assert!(has(&bot, "kind", "user"), "{bot:?}");
    assert!(has(&bot, "boundary", "none"), "{bot:?}");
    let policy = bot
        .iter()
        .find(|(f, _, _)| f == "policy")
        .expect("a policy");
    assert_eq!(policy.1, "identity `inline0`");
    assert!(
        policy.2.ends_with("accounts/111122223333/iam.json:12"),
        "{policy:?}"
    );
    assert!(
        has(
            &bot,
            "can assume",
            "arn:aws:iam::111122223333:role/partner-uploader (allow)"
        ),
        "{bot:?}"
    );
    let role = items(&e, "show principal role/partner-uploader");
    assert!(
        role.iter()
            .any(|(f, v, at)| f == "trust" && v.starts_with("trust `") && !at.is_empty()),
        "{role:?}"
    );
}

#[test]
fn a_bucket_shows_its_policy_ownership_block_public_access_and_acl() {
    let e = demo();
    let b = items(&e, "show bucket example-upload-bucket");
    assert!(has(&b, "owner", "111122223333"), "{b:?}");
    assert!(has(&b, "ownership", "BucketOwnerEnforced"), "{b:?}");
    assert!(
        has(
            &b,
            "bpa",
            "BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets"
        ),
        "{b:?}"
    );
    assert!(
        b.iter().any(|(f, v, at)| f == "acl"
            && v.starts_with("FULL_CONTROL to canonical:")
            && at.ends_with("acl.json:7")),
        "{b:?}"
    );
}

#[test]
fn a_bucket_shows_each_listed_version_and_what_object_lock_keeps_it_from() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/scenarios/object_lock_listed_versions/snapshot"
    );
    let e = load::load_paths(&[dir.into()]).expect("the scenario loads");
    let b = items(&e, "show bucket ledger");
    assert!(has(&b, "object lock", "on, GOVERNANCE 30 days"), "{b:?}");
    for version in [
        "Vq1compliance, compliance retention until 2031-01-01T00:00:00+00:00",
        "Vq2governance, governance retention until 2031-01-01T00:00:00+00:00",
        "Vq3held, legal hold",
        "Vq4free, not locked",
    ] {
        assert!(has(&b, "object version", version), "{version}: {b:?}");
    }
}

#[test]
fn a_policy_shows_every_statement_where_it_was_written() {
    let e = demo();
    let p = items(&e, "show policy AdminAccess");
    let statements: Vec<_> = p.iter().filter(|(f, _, _)| f == "statement").collect();
    assert_eq!(statements.len(), 1, "{p:?}");
    assert_eq!(statements[0].1, "0: Allow; Action *; Resource *");
    assert!(statements[0].2.ends_with("iam.json:226"), "{p:?}");
    let o = Engine::new(&e)
        .answer("show policy AdminAccess", Options::default())
        .expect("answers");
    let json = report::outcome_json(&o);
    assert_eq!(json["kind"], "show");
    assert_eq!(json["shown"][0]["kind"], "policy");
    assert_eq!(json["shown"][0]["items"][2]["line"], 226);
}

#[test]
fn what_is_not_in_the_snapshot_is_an_error_at_its_word() {
    let e = demo();
    let engine = Engine::new(&e);
    for (q, column, says) in [
        ("show policy nope", 13, "no policy named `nope`"),
        (
            "show principal anonymous",
            16,
            "nothing in the snapshot to show",
        ),
        ("show bucket nope", 13, "no bucket `nope`"),
        ("show principal user/nobody", 16, "no principal"),
    ] {
        let err = engine.answer(q, Options::default()).unwrap_err();
        assert_eq!(err.column, column, "{q}: {err:?}");
        assert!(err.message.contains(says), "{q}: {err:?}");
    }
}
