//! The engine against its oracle: a compiled estate shared by many queries
//! (its index, and the pattern and formula caches every query fills) must
//! answer exactly as a fresh compilation does for each query alone, and a
//! batch of concrete decisions must agree with `can`'s own answer, request
//! by request; and classes of users must answer as every principal alone.
//! Seeded synthetic estates of several shapes (bucketlog synth: ObjectWriter
//! and BucketOwnerEnforced buckets, groups, chains, conditions).

use bucketlog::classes::Classes;
use bucketlog::load::snapshot;
use bucketlog::model::Estate;
use bucketlog::query::{self, Engine, Options};
use bucketlog::report;
use bucketlog::synth::{self, Size};

fn estate(seed: u64, users: usize) -> Estate {
    let mut e = Estate::default();
    snapshot::load(
        &synth::generate(&Size {
            users,
            roles: users / 2,
            buckets: 3,
            seed,
            ..Size::default()
        }),
        &mut e,
    );
    e
}

/// Every query form, on the estate's first buckets and principals.
fn queries(e: &Estate) -> Vec<String> {
    let b0 = &e.buckets[0].name;
    let b1 = &e.buckets[1].name;
    let mut out = vec![
        format!("who can read {b0}/prefix-1/*"),
        format!("who can write {b1}/prefix-0/*"),
        format!("who can list {b0}"),
        "public".to_string(),
        format!("public {b1}"),
        format!("prove no-public-access {b0}"),
    ];
    for p in e.principals.iter().take(4) {
        let arn = &p.arn;
        out.push(format!("can {arn} read {b0}/prefix-1/k"));
        out.push(format!("can {arn} write {b1}/prefix-0/*"));
        out.push(format!("why {arn} s3:GetObject {b1}/prefix-1/k"));
        out.push(format!("what can {arn} do on {b0}/*"));
        out.push(format!("path {arn} to {b1}/*"));
        out.push(format!("prove write-only {arn} on {b0}/prefix-0/*"));
    }
    out
}

/// An engine whose index one of its switches changes (the oracles below).
fn engine_with<'e>(e: &'e Estate, set: impl FnOnce(&mut bucketlog::index::Index)) -> Engine<'e> {
    let mut engine = Engine::new(e);
    set(std::sync::Arc::get_mut(&mut engine.index).expect("a new engine's index is its own"));
    engine
}

/// A policy document of these statements.
fn doc(statements: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"Version": "2012-10-17", "Statement": statements})
}

/// An identity policy that reads the objects of `bucket`.
fn reads(bucket: &str) -> serde_json::Value {
    doc(
        serde_json::json!([{"Effect": "Allow", "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{bucket}/*")}]),
    )
}

/// A trust policy that lets `who` assume the role.
fn trust(who: String) -> serde_json::Value {
    doc(
        serde_json::json!([{"Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"AWS": who}}]),
    )
}

/// An estate of these principals and two buckets of `account`, `data` and
/// `other`.
fn two_buckets(account: &str, principals: serde_json::Value) -> Estate {
    let env = serde_json::json!({
        "principals": principals,
        "buckets": [
            {"name": "data", "account": account, "ownership": "BucketOwnerEnforced"},
            {"name": "other", "account": account, "ownership": "BucketOwnerEnforced"},
        ],
    });
    let mut e = Estate::default();
    bucketlog::load::env_file::load("estate.json", env.to_string().as_bytes(), &mut e)
        .expect("the estate loads");
    e
}

fn json(o: &query::Outcome) -> String {
    report::outcome_json(o).to_string()
}

/// The JSON the command line writes answer by answer is the document
/// `outcome_json` builds whole, byte for byte, for every query form.
#[test]
fn json_written_as_built_is_the_whole_document() {
    let e = estate(1, 6);
    let engine = Engine::new(&e);
    let mut asked = queries(&e);
    asked.push(format!("show bucket {}", e.buckets[0].name));
    asked.push(format!("show principal {}", e.principals[0].arn));
    for q in asked {
        let o = engine.answer(&q, Options::default()).expect("answers");
        let mut written = Vec::new();
        report::write_outcome_json(&o, &mut written).expect("writes to memory");
        assert_eq!(String::from_utf8(written).expect("UTF-8"), json(&o), "{q}");
    }
}

#[test]
fn a_shared_engine_answers_as_a_fresh_one_for_each_query() {
    for (seed, users) in [(1, 6), (2, 10), (3, 14)] {
        let e = estate(seed, users);
        let engine = Engine::new(&e);
        for q in queries(&e) {
            let shared = engine.answer(&q, Options::default()).expect("answers");
            let fresh = query::answer(&e, &q, Options::default()).expect("answers");
            assert_eq!(json(&shared), json(&fresh), "seed {seed}: {q}");
            assert_eq!(shared.sanity_violations, 0, "seed {seed}: {q}");
        }
    }
}

/// The reference test of issue 10: answered through classes of users
/// (`bucketlog::classes`), every query form gives, byte for byte, the
/// answers of the plain evaluation in which every principal is its own
/// class. The estates are built so that classes do merge users and so that
/// some users are told apart only by a trust policy naming them, an
/// `aws:PrincipalArn` condition, a tag a bucket policy reads, or a
/// `${aws:username}` resource; and so that users told apart only by their
/// S3 grants, or by their grants of sts:AssumeRole on other roles, share
/// their hops in the can-assume graph (`Classes::assuming`,
/// `Built::alike_on_hop`).
#[test]
fn classes_answer_as_every_principal_alone() {
    for (seed, users) in [(6, 40), (7, 60)] {
        let e = estate(seed, users);
        let classes = Engine::new(&e);
        let plain = engine_with(&e, |i| {
            i.classes = Classes::singletons(&e);
            i.assume_classes = Classes::singletons(&e);
            i.uploader_classes = Classes::singletons(&e);
        });
        let merged: Vec<usize> = (0..e.principals.len())
            .filter(|&p| classes.index.classes.class_of(p) != p)
            .collect();
        assert!(
            merged.len() >= users / 6,
            "seed {seed}: only {} of {users} users share a class",
            merged.len()
        );
        // Users that only their S3 grants tell apart take the same hops.
        let hop_merged: Vec<usize> = (0..e.principals.len())
            .filter(|&p| {
                let taker = classes.index.assume_classes.class_of(p);
                taker != p && classes.index.classes.class_of(p) != taker
            })
            .collect();
        assert!(
            hop_merged.len() >= users / 6,
            "seed {seed}: only {} of {users} users take another class's hops",
            hop_merged.len()
        );
        // So do users whose grants of sts:AssumeRole differ, on the roles
        // that none of those grants tells apart (`Built::alike_on_hop`).
        let assuming = |p: usize| -> Vec<usize> {
            let mut held = e.identity_policies(&e.principals[p]);
            held.retain(|&i| {
                e.policies[i].body.as_ref().is_ok_and(|b| {
                    b.statements
                        .iter()
                        .any(|st| st.covers_action("sts:AssumeRole"))
                })
            });
            held
        };
        let grants_differ = (0..e.principals.len())
            .filter(|&p| {
                let taker = classes.index.assume_classes.class_of(p);
                taker != p && assuming(p) != assuming(taker)
            })
            .count();
        assert!(
            grants_differ >= users / 6,
            "seed {seed}: only {grants_differ} users share hops with other sts:AssumeRole grants"
        );
        // Roles upload alike too, whatever their policies and trust.
        let uploaders_merged = (0..e.principals.len())
            .filter(|&p| {
                e.principals[p].arn.contains(":role/")
                    && classes.index.uploader_classes.class_of(p) != p
            })
            .count();
        assert!(
            uploaders_merged >= users / 6,
            "seed {seed}: only {uploaders_merged} roles share an uploading class"
        );
        let mut asked = queries(&e);
        for b in &e.buckets {
            asked.push(format!("who can read {}/*", b.name));
            asked.push(format!("who can write {}/home/*", b.name));
        }
        // Home prefixes (`${aws:username}`): each user's own, in its account's first bucket.
        for p in e
            .principals
            .iter()
            .filter(|p| p.arn.contains(":user/"))
            .step_by(3)
        {
            let home = e.buckets.iter().find(|b| b.account == p.account);
            let home = &home.expect("every account has buckets").name;
            asked.push(format!("who can write {home}/home/{}/k", p.name));
        }
        for &p in merged.iter().take(3) {
            let arn = &e.principals[p].arn;
            asked.push(format!("can {arn} read {}/prefix-1/k", e.buckets[0].name));
            asked.push(format!("what can {arn} do on {}/*", e.buckets[0].name));
        }
        // Chains with each hop's own answer, under the name of who takes it.
        for &p in hop_merged.iter().take(4) {
            let arn = &e.principals[p].arn;
            for b in &e.buckets {
                asked.push(format!("why {arn} s3:GetObject {}/prefix-1/k", b.name));
            }
        }
        for q in asked {
            let fast = classes.answer(&q, Options::default()).expect("answers");
            let slow = plain.answer(&q, Options::default()).expect("answers");
            assert_eq!(json(&fast), json(&slow), "seed {seed}: {q}");
        }
    }
}

#[test]
fn batch_decisions_are_cans_direct_answers() {
    for (seed, users) in [(4, 8), (5, 12)] {
        let e = estate(seed, users);
        let engine = Engine::new(&e);
        let mut batch = Vec::new();
        for p in &e.principals {
            for b in &e.buckets {
                for (action, resource) in [
                    ("s3:GetObject", format!("{}/prefix-1/k", b.name)),
                    ("s3:PutObject", format!("{}/prefix-0/new", b.name)),
                    ("s3:ListBucket", b.name.clone()),
                ] {
                    batch.push(format!("can {} {action} {resource}", p.arn));
                }
            }
        }
        let decisions = engine.decisions(&batch).expect("the batch answers");
        // One decision per request the principal makes itself: at the
        // bucket's endpoint, then through each of its access points.
        let mut next = decisions.iter();
        for q in &batch {
            let one = query::answer(&e, q, Options::default()).expect("answers");
            for a in one.answers.iter().filter(|a| a.via.len() == 1) {
                assert_eq!(Some(&a.decision), next.next(), "seed {seed}: {q}");
            }
        }
        assert_eq!(
            next.next(),
            None,
            "seed {seed}: more decisions than requests"
        );
        assert!(
            e.access_points
                .iter()
                .any(|ap| e.buckets.iter().any(|b| b.name == ap.bucket)),
            "seed {seed}: the estate has no access point to go through"
        );
    }
}

/// A request's decision does not depend on what is asked before it: the
/// possible owners of an unlisted object come from uploads made directly
/// (and through each access point, both sides), whichever request first
/// asked for the scope. Asked through an access point alone, a read
/// answers as it does as the access point's part of a read asked on the
/// bucket (which asks the bucket's endpoint first); and a batch decides
/// the same, asked in any order.
#[test]
fn a_decision_does_not_turn_on_what_is_asked_first() {
    for (seed, users) in [(4, 8), (5, 12)] {
        let e = estate(seed, users);
        let engine = Engine::new(&e);
        let mut batch = Vec::new();
        for ap in e
            .access_points
            .iter()
            .filter(|ap| e.buckets.iter().any(|b| b.name == ap.bucket))
        {
            for p in &e.principals {
                for (action, key) in [
                    ("s3:GetObject", "prefix-1/k"),
                    ("s3:PutObject", "prefix-0/new"),
                ] {
                    let through = format!("can {} {action} {}/object/{key}", p.arn, ap.arn());
                    let alone = query::answer(&e, &through, Options::default()).expect("answers");
                    let on_bucket = format!("can {} {action} {}/{key}", p.arn, ap.bucket);
                    let both = query::answer(&e, &on_bucket, Options::default()).expect("answers");
                    let part = both
                        .answers
                        .iter()
                        .find(|a| a.via.len() == 1 && a.access_point == Some(ap.arn()))
                        .expect("a scope on the bucket asks through its access points");
                    assert_eq!(
                        alone.answers[0].decision, part.decision,
                        "seed {seed}: {through}"
                    );
                    batch.push(through);
                    batch.push(on_bucket);
                }
            }
        }
        let forward = engine.decisions(&batch).expect("the batch answers");
        let mut reversed = engine
            .decisions(&batch.iter().rev().cloned().collect::<Vec<_>>())
            .expect("the batch answers");
        // Each query's decisions keep their order within it; only queries are reversed.
        let mut sizes: Vec<usize> = batch
            .iter()
            .map(|q| {
                engine
                    .decisions(std::slice::from_ref(q))
                    .expect("answers")
                    .len()
            })
            .collect();
        let mut back = Vec::new();
        while let Some(n) = sizes.pop() {
            let rest = reversed.split_off(n);
            back.push(std::mem::replace(&mut reversed, rest));
        }
        let back: Vec<_> = back.into_iter().rev().flatten().collect();
        assert_eq!(
            forward, back,
            "seed {seed}: a batch decides alike in any order"
        );
    }
}

#[test]
fn a_batch_refuses_what_is_not_a_concrete_can() {
    let e = estate(1, 4);
    let engine = Engine::new(&e);
    let b = &e.buckets[0].name;
    let err = engine
        .decisions(&[format!("who can read {b}/x")])
        .unwrap_err();
    assert!(err.message.contains("expected a `can` query"), "{err:?}");
    let p = &e.principals[0].arn;
    let err = engine
        .decisions(&[format!(
            "can {p} read {b}/x with aws:SecureTransport = true"
        )])
        .unwrap_err();
    assert!(err.message.contains("without `with`"), "{err:?}");
}

/// Same input, same output (issue 11 item 17): two processes — each with
/// its own hash seeds and solver state — print a `who can` with conditional
/// answers, and their witnesses, byte for byte alike, as text and as JSON.
#[test]
fn two_runs_print_the_same_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snap = dir.path().join("snapshot");
    let bin = env!("CARGO_BIN_EXE_bucketlog");
    let synth = std::process::Command::new(bin)
        .args(["synth", "--accounts", "2", "--users", "30", "--roles", "12"])
        .args(["--buckets", "4", "-o"])
        .arg(&snap)
        .output()
        .expect("synth runs");
    assert!(synth.status.success());
    for format in ["text", "json"] {
        let run = || {
            let out = std::process::Command::new(bin)
                .arg("--env")
                .arg(&snap)
                .args([
                    "--format",
                    format,
                    "query",
                    "who can read bucket-0-0/prefix-1/*",
                ])
                .output()
                .expect("query runs");
            assert!(out.status.success());
            out.stdout
        };
        let first = run();
        assert!(
            String::from_utf8_lossy(&first).contains("conditional"),
            "the question has conditional answers"
        );
        assert!(first == run(), "{format} output differs between two runs");
    }
}

/// The queries both engines answer, each answered alike by them, byte for
/// byte as JSON, with the second engine's outcome.
fn answer_alike<'q>(
    one: &Engine,
    other: &Engine,
    asked: &'q [String],
    at: &str,
) -> Vec<(&'q str, query::Outcome)> {
    let mut out = Vec::new();
    for q in asked {
        let (Ok(a), Ok(b)) = (
            one.answer(q, Options::default()),
            other.answer(q, Options::default()),
        ) else {
            continue;
        };
        assert_eq!(json(&a), json(&b), "{at}: {q}");
        out.push((q.as_str(), b));
    }
    out
}

/// Queries on every bucket of an estate: `public`, `who can` for each verb
/// and versions' deletion, and `what can` for every third principal.
fn on_buckets(e: &Estate) -> Vec<String> {
    let mut out = vec!["public".to_string()];
    for b in &e.buckets {
        out.push(format!("who can read {}/*", b.name));
        out.push(format!("who can write {}/*", b.name));
        out.push(format!("who can list {}", b.name));
        out.push(format!("who can s3:DeleteObjectVersion {}/*", b.name));
    }
    for p in e.principals.iter().step_by(3) {
        out.push(format!("what can {} do", p.arn));
    }
    out
}

/// Every scenario estate of tests/scenarios/ (unreadable policies and Block
/// Public Access, ACLs on and off, access points, chains, KMS, Object Lock),
/// with its own queries and `on_buckets`'.
fn scenario_estates() -> Vec<(String, Estate, Vec<String>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("tests/scenarios")
        .map(|d| d.expect("entry").path())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(e) = bucketlog::load::load_paths(&[dir.join("snapshot")]) else {
            continue;
        };
        let mut asked: Vec<String> = std::fs::read_to_string(dir.join("expect.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["q"].as_str().map(str::to_string))
            .collect();
        asked.extend(on_buckets(&e));
        out.push((dir.display().to_string(), e, asked));
    }
    out
}

/// The reference test of leaving out requests that cannot reach
/// (`facts::Built::may_reach`), of deciding upload checks apart, once
/// per engine (`query/uploads.rs`), and of asking them of one uploader of
/// each that upload alike (`Classes::uploading`): every query form gives,
/// byte for byte, the answers of the plain evaluation that runs the rules
/// over every request, the upload checks of every uploader among them. One engine answers every query
/// of an estate, so later queries read the upload checks earlier ones
/// decided. Over the synthetic estates and every scenario estate
/// (`scenario_estates`); and a batch of decisions of each principal on
/// each bucket.
#[test]
fn the_engine_answers_as_the_plain_evaluation_of_every_request() {
    fn compare(e: &Estate, asked: &[String], at: &str) {
        let fast = Engine::new(e);
        let plain = engine_with(e, |i| {
            i.leave_out_unreachable = false;
            i.uploads_apart = false;
            i.uploader_classes = Classes::singletons(e);
        });
        // A batch of decisions, each principal on each bucket.
        let mut batch = Vec::new();
        for p in e
            .principals
            .iter()
            .filter(|p| p.arn.contains(":user/") || p.arn.contains(":role/"))
        {
            for b in &e.buckets {
                for (action, resource) in [
                    ("s3:GetObject", format!("{}/k", b.name)),
                    ("s3:PutObject", format!("{}/k", b.name)),
                    ("s3:DeleteObject", format!("{}/k", b.name)),
                    ("s3:ListBucket", b.name.clone()),
                ] {
                    batch.push(format!("can {} {action} {resource}", p.arn));
                }
            }
        }
        if let (Ok(a), Ok(b)) = (fast.decisions(&batch), plain.decisions(&batch)) {
            assert_eq!(a, b, "{at}: a batch of decisions");
        }
        for (q, b) in answer_alike(&fast, &plain, asked, at) {
            // No answer twice (an upload made before the query read as a
            // chain's answer was one).
            let answers = report::outcome_json(&b)["answers"].clone();
            let answers = answers.as_array().map_or(&[][..], Vec::as_slice);
            let distinct: std::collections::HashSet<String> =
                answers.iter().map(|a| a.to_string()).collect();
            assert_eq!(distinct.len(), answers.len(), "{at}: {q} repeats an answer");
        }
    }
    for (seed, users) in [(8, 12), (9, 16)] {
        let e = estate(seed, users);
        let mut asked = queries(&e);
        asked.extend(on_buckets(&e));
        compare(&e, &asked, &format!("seed {seed}"));
    }
    for (at, e, asked) in scenario_estates() {
        compare(&e, &asked, &at);
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    // A caller no Allow speaks to, whose KMS request a Deny refuses: its
    // read of the KMS-encrypted bucket is denied explicitly (R72.1), so a
    // batch must ask it.
    let kms = root.join("kms_reader_needs_decrypt/snapshot");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&kms).expect("the scenario")).expect("JSON");
    let eve = "arn:aws:iam::111122223333:user/eve";
    doc["principals"].as_array_mut().expect("principals").push(
        serde_json::json!({"arn": eve, "policies": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}]}]}),
    );
    let file = std::env::temp_dir().join(format!("bucketlog-eve-{}.json", std::process::id()));
    std::fs::write(&file, doc.to_string()).expect("a temporary file");
    let e = bucketlog::load::load_paths(std::slice::from_ref(&file)).expect("loads");
    std::fs::remove_file(&file).expect("removed");
    let read = format!("can {eve} s3:GetObject finance/k");
    let fast = Engine::new(&e);
    assert_eq!(
        fast.decisions(std::slice::from_ref(&read))
            .expect("decides"),
        vec![bucketlog::datalog::Decision::DenyExplicit],
        "{read}"
    );
    compare(&e, &[read], "eve");
}

/// An ACL grant gives only the actions of S3's ACL table, so on a bucket
/// whose ACLs grant to everyone and to another account (and whose
/// uploaders may grant more), a user no statement speaks to may reach
/// those actions and no other: `what can` leaves the others out before the
/// rules run (`Built::may_reach`) and answers as the plain evaluation of
/// every request.
#[test]
fn acl_grants_reach_only_their_actions() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios/acl_grants_reach_only_their_actions/snapshot");
    let e = bucketlog::load::load_paths(&[dir]).expect("the scenario loads");
    let fast = Engine::new(&e);
    let plain = engine_with(&e, |i| i.leave_out_unreachable = false);
    // The objects' ACL actions, which any uploader may grant on an
    // unlisted object: for both users. The bucket's READ to AllUsers lists
    // it for `viewer`; a user of another account needs an identity Allow
    // for it (R70.4). Bucket WRITE's, to their accounts, needs one for
    // both (R70.2, R70.4; its open layer names neither, R70.11c).
    let objects = [
        "s3:GetObject",
        "s3:GetObjectAcl",
        "s3:GetObjectVersion",
        "s3:GetObjectVersionAcl",
        "s3:PutObjectAcl",
        "s3:PutObjectVersionAcl",
    ];
    let lists = [
        "s3:ListBucket",
        "s3:ListBucketMultipartUploads",
        "s3:ListBucketVersions",
    ];
    let viewer: Vec<&str> = objects.iter().chain(&lists).copied().collect();
    let asked = [
        "what can viewer do".to_string(),
        "what can idle do".to_string(),
    ];
    let want = [viewer, objects.to_vec()];
    for ((q, o), want) in answer_alike(&fast, &plain, &asked, "acl grants")
        .into_iter()
        .zip(want)
    {
        let mut actions: Vec<&str> = o.answers.iter().map(|a| &*a.action).collect();
        actions.sort_unstable();
        actions.dedup();
        let mut want = want;
        want.sort_unstable();
        assert_eq!(actions, want, "{q}");
    }
}

/// The hops of the can-assume graph and a scope's upload checks are
/// decided in groups, on rayon's threads (`Index::hops_per_group`,
/// `Index::uploaders_per_group`): in groups of two hops and of one
/// uploader, every query form answers as with each in one evaluation, on
/// synthetic estates and every scenario estate.
#[test]
fn deciding_in_groups_changes_no_answer() {
    fn compare(e: &Estate, asked: &[String], at: &str) {
        let whole = engine_with(e, |i| {
            i.hops_per_group = usize::MAX;
            i.uploaders_per_group = usize::MAX;
        });
        let grouped = engine_with(e, |i| {
            i.hops_per_group = 2;
            i.uploaders_per_group = 1;
        });
        answer_alike(&whole, &grouped, asked, at);
    }
    for (seed, users) in [(10, 12), (11, 16)] {
        let e = estate(seed, users);
        let mut asked = queries(&e);
        asked.extend(on_buckets(&e));
        for p in e.principals.iter().step_by(2) {
            asked.push(format!(
                "why {} s3:PutObject {}/prefix-0/k",
                p.arn, e.buckets[2].name
            ));
        }
        compare(&e, &asked, &format!("seed {seed}"));
    }
    for (at, e, asked) in scenario_estates() {
        compare(&e, &asked, &at);
    }
}

/// A chain's answer is its most certain one (rules/80 R80.2): where a
/// principal reaches a role both through a conditional hop and without
/// one, through the head itself or not, its answer is the certain chain;
/// where the only way is through the conditional hop, that chain is.
#[test]
fn a_chain_answers_by_its_most_certain_way() {
    let account = "111122223333";
    let arn = |name: &str| format!("arn:aws:iam::{account}:{name}");
    let doc = |statements: serde_json::Value| serde_json::json!({"Version": "2012-10-17", "Statement": statements});
    let assume = |roles: &[&str]| {
        doc(
            serde_json::json!([{"Effect": "Allow", "Action": "sts:AssumeRole",
            "Resource": roles.iter().map(|r| arn(&format!("role/{r}"))).collect::<Vec<_>>()}]),
        )
    };
    let trust = |who: &[&str], mfa: bool| {
        let mut st = serde_json::json!({"Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": who.iter().map(|w| arn(w)).collect::<Vec<_>>()}});
        if mfa {
            st["Condition"] = serde_json::json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}});
        }
        doc(serde_json::json!([st]))
    };
    let reads = doc(
        serde_json::json!([{"Effect": "Allow", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::data/*"}]),
    );
    // u → a → c, all certain; a → b only with MFA; b → a, b → c, b → d
    // certain; only c and d read.
    let env = serde_json::json!({
        "principals": [
            {"arn": arn("user/u"), "policies": [assume(&["a"])]},
            {"arn": arn("role/a"), "trust": trust(&["user/u", "role/b"], false),
             "policies": [assume(&["b", "c"])]},
            {"arn": arn("role/b"), "trust": trust(&["role/a"], true),
             "policies": [assume(&["a", "c", "d"])]},
            {"arn": arn("role/c"), "trust": trust(&["role/a", "role/b"], false),
             "policies": [reads.clone()]},
            {"arn": arn("role/d"), "trust": trust(&["role/b"], false),
             "policies": [reads]},
        ],
        "buckets": [{"name": "data", "account": account, "ownership": "BucketOwnerEnforced"}],
    });
    let mut e = Estate::default();
    bucketlog::load::env_file::load("estate.json", env.to_string().as_bytes(), &mut e)
        .expect("the estate loads");
    let engine = Engine::new(&e);
    let o = engine
        .answer("who can read data/*", Options::default())
        .expect("answers");
    let best = |who: &str, through: &str| {
        o.answers
            .iter()
            .filter(|a| a.principal == arn(who) && a.via.last() == Some(&arn(through)))
            .map(|a| (a.decision, a.via.len()))
            .min()
            .map(|(d, hops)| (d.names().0, hops))
    };
    // Through c: certain for every principal that reaches it without the
    // MFA hop (b's own way back through a included).
    for who in ["user/u", "role/a", "role/b"] {
        assert_eq!(
            best(who, "role/c").map(|b| b.0),
            Some("allow"),
            "{who} through c"
        );
    }
    // Through d: only over a → b, so conditional for u and a; b's is certain.
    assert_eq!(best("user/u", "role/d"), Some(("conditional", 4)));
    assert_eq!(best("role/a", "role/d"), Some(("conditional", 3)));
    assert_eq!(best("role/b", "role/d"), Some(("allow", 2)));
}

/// Roles alike but for their policies are one class for sts:AssumeRole
/// (`Classes::assuming`), and a hop to a role is shared by the members
/// whose statements meet it alike (`Built::alike_on_hop`) — unless the
/// role's trust policy names one of them, by its ARN or by a session of
/// it (`Classes::trust_names`). A trust in the same account naming
/// `assumed-role/r1/build` lets r1 reach `t` with no identity Allow
/// (conditionally: the session name is the caller's); it also names the
/// account, which lets no one in without one, so r2, whose only policy
/// grants an S3 read, takes a hop to `t` that is denied. Each answer is the plain evaluation's,
/// every principal alone.
#[test]
fn a_trust_naming_a_session_tells_its_role_apart() {
    let account = "111122223333";
    let arn = |name: &str| format!("arn:aws:iam::{account}:{name}");
    let principals = serde_json::json!([
            {"arn": arn("role/r1"), "trust": trust(arn("root"))},
            {"arn": arn("role/r2"), "trust": trust(arn("root")), "policies": [reads("other")]},
            {"arn": arn("role/t"), "trust": doc(serde_json::json!([{"Effect": "Allow", "Action": "sts:AssumeRole",
                "Principal": {"AWS": [format!("arn:aws:sts::{account}:assumed-role/r1/build"), arn("root")]}}])),
             "policies": [reads("data")]},
    ]);
    let e = two_buckets(account, principals);
    let engine = Engine::new(&e);
    let role = |name: &str| {
        e.principals
            .iter()
            .position(|p| p.arn == arn(name))
            .expect("a principal of the estate")
    };
    let classes = &engine.index.assume_classes;
    assert_eq!(
        classes.class_of(role("role/r2")),
        classes.class_of(role("role/r1")),
        "r1 and r2 are one class for sts:AssumeRole"
    );
    let plain = engine_with(&e, |i| i.assume_classes = Classes::singletons(&e));
    let q = "who can read data/*";
    let o = engine.answer(q, Options::default()).expect("answers");
    assert_eq!(
        json(&o),
        json(&plain.answer(q, Options::default()).expect("answers"))
    );
    let through = |who: &str| {
        o.answers
            .iter()
            .filter(|a| a.principal == arn(who) && a.via == [arn(who), arn("role/t")])
            .map(|a| a.decision.names().0)
            .min()
    };
    assert_eq!(through("role/r1"), Some("conditional"));
    assert_eq!(through("role/r2"), None);
}

/// A `who can` grows the can-assume graph only by the hops into roles its
/// chains may need (`assume::Needed`): those whose requests may reach, and
/// every role a chain from which may lead to one — here `mid`, which reads
/// nothing but may assume `reader`. Queries asked in turn on one engine
/// each need hops the earlier ones left undecided, from sources the graph
/// already has; every answer is the plain evaluation's, which decides
/// every hop (`Index::leave_out_unreachable` off).
#[test]
fn a_query_decides_the_hops_its_chains_may_need() {
    let account = "111122223333";
    let arn = |name: &str| format!("arn:aws:iam::{account}:{name}");
    let assumes = |roles: &str| {
        doc(
            serde_json::json!([{"Effect": "Allow", "Action": "sts:AssumeRole",
            "Resource": arn(roles)}]),
        )
    };
    let principals = serde_json::json!([
            {"arn": arn("user/u"), "policies": [assumes("role/*")]},
            {"arn": arn("role/mid"), "trust": trust(arn("user/u")), "policies": [assumes("role/reader")]},
            {"arn": arn("role/reader"), "trust": trust(arn("role/mid")), "policies": [reads("data")]},
            {"arn": arn("role/other"), "trust": trust(arn("root")), "policies": [reads("other")]},
            {"arn": arn("role/idle"), "trust": trust(arn("root"))},
    ]);
    let e = two_buckets(account, principals);
    let engine = Engine::new(&e);
    let plain = engine_with(&e, |i| i.leave_out_unreachable = false);
    let asked: Vec<String> = [
        "who can read data/*",
        "who can read other/*",
        "what can user/u do",
        "who can read data/*",
    ]
    .map(str::to_string)
    .to_vec();
    let answered = answer_alike(&engine, &plain, &asked, "needed hops");
    assert_eq!(answered.len(), asked.len(), "every query answers");
    let vias = |o: &query::Outcome, who: &str| -> Vec<Vec<String>> {
        let mut v: Vec<Vec<String>> = o
            .answers
            .iter()
            .filter(|a| a.principal == arn(who))
            .map(|a| a.via.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let chain = |names: &[&str]| names.iter().map(|n| arn(n)).collect::<Vec<_>>();
    assert_eq!(
        vias(&answered[0].1, "user/u"),
        vec![chain(&["user/u", "role/mid", "role/reader"])],
        "u reads data through mid, which reads nothing"
    );
    assert_eq!(
        vias(&answered[1].1, "user/u"),
        vec![chain(&["user/u", "role/other"])],
        "the second query decides u's hop into `other`, which the first did not need"
    );
}
