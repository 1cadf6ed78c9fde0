//! Bad input (inputs.md "Bad input", cli.md exit status 2): every broken file
//! is reported with its file, a position (JSON pointer and/or line:column) and
//! what was expected; the rest of the estate still answers, and an answer that
//! depends on the broken part is `unknown` with a reason, never allow or deny.
//!
//! Each case is a small snapshot directory built in a tempdir by `Snap`:
//! account 111122223333 with users `alice` (an inline policy allowing
//! s3:GetObject and s3:PutObject on every object) and `bob` (no policy), and
//! buckets `good` (no bucket policy) and `bad` (the broken file goes there),
//! both with ACLs disabled (BucketOwnerEnforced) so ACLs never make an answer
//! unknown.

use bucketlog::diag::{Diagnostic, Severity};
use bucketlog::model::Estate;
use bucketlog::query::{self, Answer, Options};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ACCT: &str = "111122223333";
const OTHER: &str = "444455556666";

// ---------------------------------------------------------------------------
// Building snapshots

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("serialisable")
}

fn user(account: &str, name: &str, inline: Option<Value>) -> Value {
    let policies: Vec<Value> = inline
        .into_iter()
        .map(|doc| json!({"PolicyName": format!("{name}-inline"), "PolicyDocument": doc}))
        .collect();
    json!({
        "Path": "/",
        "UserName": name,
        "UserId": format!("AIDA{}", name.to_uppercase()),
        "Arn": format!("arn:aws:iam::{account}:user/{name}"),
        "CreateDate": "2026-01-01T00:00:00+00:00",
        "UserPolicyList": policies,
        "GroupList": [],
        "AttachedManagedPolicies": [],
        "Tags": []
    })
}

fn reads_and_writes_everything() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ReadWriteAll",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": "arn:aws:s3:::*/*"
        }]
    })
}

fn iam(users: Vec<Value>) -> Value {
    json!({
        "UserDetailList": users,
        "GroupDetailList": [],
        "RoleDetailList": [],
        "Policies": []
    })
}

/// A snapshot directory in a tempdir.
struct Snap {
    dir: tempfile::TempDir,
}

impl Snap {
    /// Account 111122223333: users alice and bob, buckets `good` and `bad`
    /// (neither with a bucket policy yet).
    fn new() -> Snap {
        let snap = Snap {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        snap.account(
            ACCT,
            vec![
                user(ACCT, "alice", Some(reads_and_writes_everything())),
                user(ACCT, "bob", None),
            ],
            &["good", "bad"],
        );
        snap
    }

    /// Writes an account's iam.json, list-buckets.json and one directory per
    /// bucket with its ownership controls.
    fn account(&self, id: &str, users: Vec<Value>, buckets: &[&str]) -> &Snap {
        let base = format!("accounts/{id}");
        self.write(&format!("{base}/iam.json"), pretty(&iam(users)));
        let listed: Vec<Value> = buckets
            .iter()
            .map(|b| json!({"Name": b, "CreationDate": "2026-01-01T00:00:00+00:00"}))
            .collect();
        self.write(
            &format!("{base}/list-buckets.json"),
            pretty(&json!({
                "Buckets": listed,
                "Owner": {"DisplayName": format!("acct{id}"), "ID": format!("{id}{}", "c".repeat(52))}
            })),
        );
        for b in buckets {
            self.write(
                &format!("{base}/buckets/{b}/ownership-controls.json"),
                pretty(&json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}})),
            );
        }
        self
    }

    fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> &Snap {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(&path, bytes).expect("write");
        self
    }

    /// Sets the policy.json of bucket `bad` of account 111122223333.
    fn bad_policy(&self, bytes: impl AsRef<[u8]>) -> &Snap {
        self.write(&format!("accounts/{ACCT}/buckets/bad/policy.json"), bytes)
    }

    fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Loads the snapshot: a bad file is never fatal for a snapshot directory.
    fn load(&self) -> Estate {
        match bucketlog::load::load_paths(&[self.path()]) {
            Ok(e) => e,
            Err(d) => {
                panic!("a snapshot with one bad file must still load, got the fatal error: {d}")
            }
        }
    }
}

/// A valid bucket policy (a bare document, which get-bucket-policy's
/// {"Policy": …} wrapper may be left off) with `stmt` as its only statement.
fn bucket_policy(stmt: Value) -> String {
    pretty(&json!({"Version": "2012-10-17", "Statement": [stmt]}))
}

fn allow_bob_stmt() -> Value {
    json!({
        "Sid": "AllowBob",
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCT}:user/bob")},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::bad/*"
    })
}

// ---------------------------------------------------------------------------
// Asking and checking

/// The one direct answer (not through a role chain) to a `can` query, as
/// the decision as shown (`allow`, `deny (implicit)`, `unknown`…) and the answer.
fn can(estate: &Estate, q: &str) -> (String, Answer) {
    let outcome = query::answer(estate, q, Options::default()).unwrap_or_else(|e| {
        panic!(
            "`{q}` must answer, got the error at column {}: {}",
            e.column, e.message
        )
    });
    let direct: Vec<&Answer> = outcome
        .answers
        .iter()
        .filter(|a| a.via.len() <= 1)
        .collect();
    assert_eq!(
        direct.len(),
        1,
        "`{q}`: expected one direct answer, got {:?}",
        outcome.answers
    );
    let a = direct[0].clone();
    let (d, kind) = a.decision.names();
    let shown = kind.map_or_else(|| d.to_string(), |k| format!("{d} ({k})"));
    (shown, a)
}

fn assert_decision(estate: &Estate, q: &str, want: &str) {
    let (got, a) = can(estate, q);
    assert_eq!(got, want, "`{q}`: {a:?}\ndiagnostics: {}", all(estate));
}

/// Asserts that `q` is `unknown` with a reason that blames the broken policy
/// of `policy` (its name) and that the answer points at `file_suffix`.
fn assert_unknown(estate: &Estate, q: &str, policy: &str, layer: &str, file_suffix: &str) {
    let (got, a) = can(estate, q);
    assert_eq!(got, "unknown", "`{q}` depends on a broken policy: {a:?}");
    let reason = a.reason.clone().unwrap_or_default();
    assert!(
        reason.contains(&format!("policy `{policy}` is invalid")),
        "`{q}`: the reason must name the invalid policy `{policy}`, got {reason:?}"
    );
    let blamed: Vec<_> = a
        .because
        .iter()
        .filter(|r| r.effect == "Unknown" && &*r.policy == policy)
        .collect();
    assert_eq!(
        blamed.len(),
        1,
        "`{q}`: `because` must name the broken policy once: {:?}",
        a.because
    );
    assert_eq!(
        blamed[0].layer, layer,
        "`{q}`: layer of the broken policy: {:?}",
        blamed[0]
    );
    assert!(
        blamed[0].file.ends_with(file_suffix),
        "`{q}`: the broken policy's file {:?} should end with {file_suffix}",
        blamed[0].file
    );
}

fn all(estate: &Estate) -> String {
    estate
        .diagnostics
        .iter()
        .map(|d| format!("\n  {d}"))
        .collect()
}

/// The error diagnostic of the file ending with `file_suffix` at `pointer`.
fn diag<'e>(estate: &'e Estate, file_suffix: &str, pointer: &str) -> &'e Diagnostic {
    estate
        .diagnostics
        .iter()
        .find(|d| {
            d.severity == Severity::Error
                && d.span.file.ends_with(file_suffix)
                && d.span.pointer == pointer
        })
        .unwrap_or_else(|| {
            panic!(
                "no error diagnostic for {file_suffix} at pointer {pointer:?}; got:{}",
                all(estate)
            )
        })
}

/// Checks a diagnostic's position and that it says what was expected.
fn assert_diag(d: &Diagnostic, line: usize, column: usize, words: &[&str]) {
    assert_eq!(
        (d.span.line, d.span.column),
        (line, column),
        "position of {d}"
    );
    let text = d.to_string();
    assert!(
        text.contains(&format!("{}:{line}:{column}", d.span.file)),
        "the rendered diagnostic must show file:line:column: {text}"
    );
    if !d.span.pointer.is_empty() {
        assert!(
            text.contains(&d.span.pointer),
            "the rendered diagnostic must show the pointer: {text}"
        );
    }
    assert!(
        d.message.to_lowercase().contains("expected"),
        "the message must say what was expected: {d}"
    );
    for w in words {
        assert!(
            d.message.contains(w),
            "the message should mention {w:?}: {d}"
        );
    }
}

/// The healthy part of the estate answers as usual.
fn assert_rest_answers(estate: &Estate) {
    assert_decision(
        estate,
        "can user/alice s3:GetObject good/report.csv",
        "allow",
    );
    assert_decision(
        estate,
        "can user/bob s3:GetObject good/report.csv",
        "deny (implicit)",
    );
    let who = query::answer(
        estate,
        "who can s3:GetObject good/report.csv",
        Options::default(),
    )
    .expect("who can answers");
    let names: Vec<(&str, &str)> = who
        .answers
        .iter()
        .map(|a| (a.principal.as_str(), a.decision.names().0))
        .collect();
    assert_eq!(
        names,
        vec![("arn:aws:iam::111122223333:user/alice", "allow")],
        "who can read the healthy bucket"
    );
}

/// Both users' reads of the broken bucket are unknown: alice's identity Allow
/// may meet a Deny of the broken policy, bob may be granted by it.
fn assert_bad_bucket_unknown(estate: &Estate) {
    for u in ["alice", "bob"] {
        assert_unknown(
            estate,
            &format!("can user/{u} s3:GetObject bad/report.csv"),
            "bad",
            "bucket-policy",
            "buckets/bad/policy.json",
        );
    }
}

const BAD_POLICY: &str = "buckets/bad/policy.json";

// ---------------------------------------------------------------------------
// The baseline: nothing broken

#[test]
fn baseline_snapshot_is_clean_and_answers() {
    let snap = Snap::new();
    snap.bad_policy(bucket_policy(allow_bob_stmt()));
    let estate = snap.load();
    assert!(
        estate.diagnostics.is_empty(),
        "diagnostics:{}",
        all(&estate)
    );
    assert_rest_answers(&estate);
    assert_decision(&estate, "can user/bob s3:GetObject bad/report.csv", "allow");
    assert_decision(
        &estate,
        "can user/alice s3:GetObject bad/report.csv",
        "allow",
    );
}

// ---------------------------------------------------------------------------
// 1. invalid JSON

#[test]
fn invalid_json_in_bucket_policy_reports_line_and_column() {
    let snap = Snap::new();
    // The comma after "2012-10-17" is missing: expected at line 2, column 26,
    // right after the string.
    snap.bad_policy("{\n  \"Version\": \"2012-10-17\"\n  \"Statement\": []\n}\n");
    let estate = snap.load();
    let d = diag(&estate, BAD_POLICY, "");
    assert_diag(d, 2, 26, &["comma"]);
    assert!(
        d.span.file.starts_with(&snap.path().display().to_string()),
        "{d}"
    );
    assert_rest_answers(&estate);
    assert_bad_bucket_unknown(&estate);
}

#[test]
fn invalid_json_on_the_command_line_still_answers_the_rest() {
    let snap = Snap::new();
    snap.bad_policy("{\n  \"Version\": \"2012-10-17\"\n  \"Statement\": []\n}\n");
    let out = bucketlog(&[
        "--env",
        &snap.path().display().to_string(),
        "--format",
        "json",
        "query",
        "can user/alice s3:GetObject good/a.txt",
        "can user/alice s3:GetObject bad/a.txt",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("buckets/bad/policy.json:2:26") && l.contains("error")),
        "stderr must report the bad file with line:column: {stderr}"
    );
    let docs: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON lines"))
        .collect();
    assert_eq!(docs.len(), 2, "one JSON document per query");
    assert_eq!(docs[0]["answers"][0]["decision"], "allow");
    assert_eq!(docs[1]["answers"][0]["decision"], "unknown");
    assert!(docs[1]["answers"][0]["reason"]
        .as_str()
        .is_some_and(|r| !r.is_empty()));
}

// ---------------------------------------------------------------------------
// 2. a policy embedded as a JSON string that is itself invalid JSON

/// Writes `contents` as bucket `bad`'s policy.json and checks the
/// diagnostic (pointer, line, column, words), that the rest of the estate
/// still answers and that answers about `bad` are unknown.
fn check_bad_bucket_policy(
    contents: impl AsRef<[u8]>,
    pointer: &str,
    line: usize,
    column: usize,
    words: &[&str],
) {
    let snap = Snap::new();
    snap.bad_policy(contents);
    let estate = snap.load();
    assert_diag(diag(&estate, BAD_POLICY, pointer), line, column, words);
    assert_rest_answers(&estate);
    assert_bad_bucket_unknown(&estate);
}

/// An embedded document (as `{"Policy": inner}`) lacking the comma at its
/// line 3, column 26: the error points inside it.
fn embedded_policy_missing_comma(inner: &str) {
    check_bad_bucket_policy(
        pretty(&json!({"Policy": inner})),
        "/Policy",
        3,
        26,
        &["comma"],
    );
}

#[test]
fn invalid_json_inside_an_embedded_policy_string() {
    embedded_policy_missing_comma(
        "{\n  \"Id\": \"p1\",\n  \"Version\": \"2012-10-17\"\n  \"Statement\": []\n}",
    );
}

#[test]
fn invalid_url_encoded_embedded_policy_points_inside_it() {
    // What the raw API returns: URL-encoded.
    embedded_policy_missing_comma(
        "%7B%0A%20%20%22Id%22%3A%20%22p1%22%2C%0A%20%20%22Version%22%3A%20%222012-10-17%22%0A%20%20%22Statement%22%3A%20%5B%5D%0A%7D",
    );
}

// ---------------------------------------------------------------------------
// 3. an unknown Effect

#[test]
fn lower_case_effect_in_bucket_policy() {
    let mut stmt = allow_bob_stmt();
    stmt["Effect"] = json!("allow");
    // serde_json's pretty printer: `{`, `"Version"`, `"Statement": [`, `{`, `"Sid"`, `"Effect"` on line 6.
    check_bad_bucket_policy(
        bucket_policy(stmt),
        "/Statement/0/Effect",
        6,
        17,
        &["allow", "\"Allow\" or \"Deny\""],
    );
}

#[test]
fn lower_case_effect_in_an_inline_identity_policy() {
    let snap = Snap::new();
    let mut doc = reads_and_writes_everything();
    doc["Statement"][0]["Effect"] = json!("allow");
    snap.account(
        ACCT,
        vec![user(ACCT, "alice", Some(doc)), user(ACCT, "bob", None)],
        &["good", "bad"],
    );
    let estate = snap.load();
    let d = diag(
        &estate,
        "accounts/111122223333/iam.json",
        "/UserDetailList/0/UserPolicyList/0/PolicyDocument/Statement/0/Effect",
    );
    assert_diag(d, 17, 27, &["allow"]);
    // bob and his buckets do not depend on alice's policy.
    assert_decision(
        &estate,
        "can user/bob s3:GetObject good/report.csv",
        "deny (implicit)",
    );
    // alice's answers do.
    for b in ["good", "bad"] {
        assert_unknown(
            &estate,
            &format!("can user/alice s3:GetObject {b}/report.csv"),
            "alice-inline",
            "identity",
            "accounts/111122223333/iam.json",
        );
    }
}

// ---------------------------------------------------------------------------
// 4. a Statement of the wrong type

#[test]
fn statement_that_is_a_string_or_a_number() {
    for (value, found) in [
        (json!("Allow everything"), "found a string"),
        (json!(42), "found a number"),
    ] {
        let snap = Snap::new();
        snap.bad_policy(pretty(
            &json!({"Version": "2012-10-17", "Statement": value}),
        ));
        let estate = snap.load();
        let d = diag(&estate, BAD_POLICY, "/Statement");
        assert_diag(
            d,
            3,
            16,
            &["`Statement` as an object or an array of objects", found],
        );
        assert_rest_answers(&estate);
        assert_bad_bucket_unknown(&estate);
    }
}

// ---------------------------------------------------------------------------
// 5. a malformed ARN in Resource

#[test]
fn malformed_resource_arns() {
    // (Resource value, pointer of the bad entry, its line and column, the bad text)
    let cases = [
        (
            json!("arn:aws:s3"),
            "/Statement/0/Resource",
            11,
            19,
            "arn:aws:s3",
        ),
        (
            json!(["arn:aws:s3:::bad/*", "s3:::bucket/*"]),
            "/Statement/0/Resource/1",
            13,
            9,
            "s3:::bucket/*",
        ),
    ];
    for (resource, pointer, line, column, text) in cases {
        let snap = Snap::new();
        let mut stmt = allow_bob_stmt();
        stmt["Resource"] = resource;
        snap.bad_policy(bucket_policy(stmt));
        let estate = snap.load();
        let d = diag(&estate, BAD_POLICY, pointer);
        assert_diag(
            d,
            line,
            column,
            &[
                "malformed ARN",
                text,
                "arn:partition:service:region:account:resource",
            ],
        );
        assert_rest_answers(&estate);
        assert_bad_bucket_unknown(&estate);
    }
}

// ---------------------------------------------------------------------------
// 6. an unknown condition operator

#[test]
fn unknown_condition_operator_in_a_policy_string() {
    let snap = Snap::new();
    let mut stmt = allow_bob_stmt();
    stmt["Condition"] = json!({"StringEqualz": {"aws:SourceVpce": "vpce-1a2b3c4d"}});
    // As get-bucket-policy prints it: the document as a one-line JSON string.
    let doc =
        serde_json::to_string(&json!({"Version": "2012-10-17", "Statement": [stmt]})).unwrap();
    let column = doc.find("{\"aws:SourceVpce\"").expect("present") + 1;
    snap.bad_policy(pretty(&json!({"Policy": doc})));
    let estate = snap.load();
    let d = diag(
        &estate,
        BAD_POLICY,
        "/Policy/Statement/0/Condition/StringEqualz",
    );
    assert_diag(d, 1, column, &["StringEqualz", "StringEquals"]);
    assert_rest_answers(&estate);
    assert_bad_bucket_unknown(&estate);
}

// ---------------------------------------------------------------------------
// 7. a file that is not UTF-8

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xff, 0xfe];
    for unit in text.encode_utf16() {
        out.extend(unit.to_le_bytes());
    }
    out
}

/// Account 111122223333's iam.json as PowerShell's `>` writes it (UTF-16LE);
/// account 444455556666 is healthy: user carol, who reads her bucket `other`.
fn snapshot_with_utf16_iam() -> Snap {
    let snap = Snap::new();
    snap.account(
        OTHER,
        vec![user(OTHER, "carol", Some(reads_and_writes_everything()))],
        &["other"],
    );
    let text = pretty(&iam(vec![user(
        ACCT,
        "alice",
        Some(reads_and_writes_everything()),
    )]));
    snap.write(
        &format!("accounts/{ACCT}/iam.json"),
        utf16le_with_bom(&text),
    );
    snap
}

#[test]
fn iam_json_that_is_not_utf8_leaves_its_account_undescribed() {
    let snap = snapshot_with_utf16_iam();
    let estate = snap.load();
    let d = diag(&estate, "accounts/111122223333/iam.json", "");
    assert_diag(d, 1, 1, &["UTF-8", "offset 0"]);
    assert!(
        !estate.is_described(ACCT),
        "the account's IAM is not loaded"
    );
    assert!(estate.is_described(OTHER));
    // The other account answers as usual.
    assert_decision(&estate, "can user/carol s3:GetObject other/a.txt", "allow");
    assert_decision(
        &estate,
        "can user/carol s3:GetObject good/a.txt",
        "deny (implicit)",
    );
    // The broken account's users are not in the snapshot.
    let err = query::answer(
        &estate,
        "can user/alice s3:GetObject good/a.txt",
        Options::default(),
    )
    .expect_err("alice was in the unreadable file");
    assert_eq!(err.column, 5, "{err:?}");
    assert!(err.message.contains("no principal `user/alice`"), "{err:?}");
}

#[test]
fn not_utf8_in_the_middle_of_a_file_reports_its_line_and_column() {
    let snap = Snap::new();
    let mut bytes = b"{\n  \"UserDetailList\": [],\n  \"x\": \"".to_vec();
    bytes.extend([0xff, 0xfe]);
    bytes.extend(b"\"\n}\n");
    snap.write(&format!("accounts/{ACCT}/iam.json"), bytes);
    let estate = snap.load();
    let d = diag(&estate, "accounts/111122223333/iam.json", "");
    assert_diag(d, 3, 9, &["UTF-8", "offset 34"]);
    assert!(!estate.is_described(ACCT));
}

#[test]
fn buckets_of_an_account_whose_iam_could_not_be_read_are_not_denied() {
    // The owner account's principals could not be loaded: who in it may read
    // `good` is not known. cli.md: `unknown` is for what bucketlog "could not
    // load", and is never reported as allow or deny; `account:ID` stands for the
    // undescribed account's principals.
    let snap = snapshot_with_utf16_iam();
    let estate = snap.load();
    let (got, a) = can(&estate, "can account:111122223333 s3:GetObject good/a.txt");
    assert_eq!(
        got, "unknown",
        "the owner account's IAM could not be read, so whether its principals may read is unknown: {a:?}"
    );
    assert!(
        a.reason.as_deref().is_some_and(|r| r.contains("iam.json")),
        "the reason should name the unreadable iam.json: {a:?}"
    );
    let who = query::answer(
        &estate,
        "who can s3:GetObject good/a.txt",
        Options::default(),
    )
    .expect("answers");
    assert!(
        who.answers
            .iter()
            .any(|a| a.principal == "account:111122223333"),
        "`who can` on a bucket of the unreadable account must not say nobody: {:?}",
        who.answers
    );
}

// ---------------------------------------------------------------------------
// 8. an empty file

#[test]
fn empty_bucket_policy_file() {
    check_bad_bucket_policy("", "", 1, 1, &["a JSON document", "empty file"]);
}

// ---------------------------------------------------------------------------
// Compact environment file: a bad policy inside it is not fatal

#[test]
fn env_file_with_a_broken_bucket_policy_still_answers() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = allow_bob_stmt();
    bad["Effect"] = json!("allow");
    let env = json!({
        "accounts": [{"id": ACCT}],
        "principals": [
            {"arn": format!("arn:aws:iam::{ACCT}:user/alice"), "policies": [reads_and_writes_everything()]},
            {"arn": format!("arn:aws:iam::{ACCT}:user/bob"), "policies": []}
        ],
        "buckets": [
            {"name": "good", "account": ACCT, "ownership": "BucketOwnerEnforced"},
            {"name": "bad", "account": ACCT, "ownership": "BucketOwnerEnforced",
             "policy": {"Version": "2012-10-17", "Statement": [bad]}}
        ]
    });
    let file = dir.path().join("env.json");
    std::fs::write(&file, pretty(&env)).unwrap();
    let estate = bucketlog::load::load_paths(std::slice::from_ref(&file)).expect("loads");
    let d = diag(&estate, "env.json", "/buckets/1/policy/Statement/0/Effect");
    assert!(d.span.line > 0 && d.span.column > 0, "{d}");
    assert!(d.message.contains("expected \"Allow\" or \"Deny\""), "{d}");
    assert_rest_answers(&estate);
    for u in ["alice", "bob"] {
        assert_unknown(
            &estate,
            &format!("can user/{u} s3:GetObject bad/report.csv"),
            "bad",
            "bucket-policy",
            "env.json",
        );
    }
}

// ---------------------------------------------------------------------------
// The command line: an unusable --env is exit status 2 with one line

fn bucketlog_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bucketlog"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("runs the binary")
}

fn bucketlog(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    bucketlog_in(dir.path(), args)
}

fn stderr_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn missing_env_path_exits_2_with_one_line() {
    let out = bucketlog(&["--env", "no/such/dir", "query", "who can read b"]);
    assert_eq!(out.status.code(), Some(2));
    let lines = stderr_lines(&out);
    assert_eq!(lines.len(), 1, "exactly one line on stderr: {lines:?}");
    assert!(lines[0].contains("no/such/dir"), "{lines:?}");
    assert!(
        lines[0].contains("expected"),
        "it says what was expected: {lines:?}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn missing_env_path_as_json() {
    let out = bucketlog(&[
        "--env",
        "no/such/dir",
        "--format",
        "json",
        "query",
        "who can read b",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "one JSON document: {stdout}");
    let v: Value = serde_json::from_str(stdout.trim()).expect("JSON on stdout");
    let e = &v["error"];
    assert_eq!(e["file"], "no/such/dir");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("expected")),
        "{v}"
    );
    for k in ["pointer", "line", "column"] {
        assert!(e.get(k).is_some(), "`{k}` present: {v}");
    }
    assert!(e["line"].is_u64() && e["column"].is_u64(), "{v}");
}

const MALFORMED_ENV: &str =
    "{\n  \"accounts\": [\n    {\"id\": \"111122223333\" \"name\": \"prod\"}\n  ]\n}\n";

#[test]
fn malformed_env_file_exits_2_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("estate.json"), MALFORMED_ENV).unwrap();
    let out = bucketlog_in(
        dir.path(),
        &["--env", "estate.json", "query", "who can read b"],
    );
    assert_eq!(out.status.code(), Some(2));
    let lines = stderr_lines(&out);
    assert_eq!(lines.len(), 1, "exactly one line on stderr: {lines:?}");
    // The missing comma: line 3, column 26 (right after the account ID).
    assert!(lines[0].contains("estate.json:3:26"), "{lines:?}");
    assert!(
        lines[0].to_lowercase().contains("expected comma"),
        "{lines:?}"
    );
}

#[test]
fn malformed_env_file_as_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("estate.json"), MALFORMED_ENV).unwrap();
    let out = bucketlog_in(
        dir.path(),
        &[
            "--env",
            "estate.json",
            "--format",
            "json",
            "query",
            "who can read b",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(stdout.trim()).expect("one JSON document on stdout");
    assert_eq!(
        v,
        json!({"error": {
            "message": "invalid JSON: Expected comma",
            "file": "estate.json",
            "pointer": "",
            "line": 3,
            "column": 26
        }})
    );
}

#[test]
fn non_utf8_env_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("estate.json"),
        utf16le_with_bom("{\"accounts\": []}"),
    )
    .unwrap();
    let out = bucketlog_in(
        dir.path(),
        &["--env", "estate.json", "query", "who can read b"],
    );
    assert_eq!(out.status.code(), Some(2));
    let lines = stderr_lines(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("estate.json:1:1") && lines[0].contains("expected UTF-8"),
        "{lines:?}"
    );
}

// --env that is not an estate (issue 11 item 3): a clear error, exit 2, for every command

fn assert_not_an_estate(file_text: &str, words: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("given.json"), file_text).unwrap();
    for cmd in [
        &["validate"][..],
        &["query", "who can read b"][..],
        &["check", "given.json"][..],
    ] {
        let mut args = vec!["--env", "given.json"];
        args.extend_from_slice(cmd);
        let out = bucketlog_in(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}");
        let lines = stderr_lines(&out);
        assert_eq!(lines.len(), 1, "one line on stderr for {cmd:?}: {lines:?}");
        assert!(lines[0].contains("given.json"), "{lines:?}");
        for w in words {
            assert!(lines[0].contains(w), "`{w}` in {lines:?}");
        }
        assert!(out.stdout.is_empty(), "{cmd:?} printed nothing on stdout");
    }
}

#[test]
fn an_iam_json_given_as_env_is_named_and_refused() {
    let text = pretty(&iam(vec![user("111122223333", "alice", None)]));
    assert_not_an_estate(
        &text,
        &[
            "get-account-authorization-details",
            "expected a snapshot directory",
        ],
    );
}

#[test]
fn an_unknown_json_object_given_as_env_is_refused() {
    assert_not_an_estate(
        "{\"Users\": []}",
        &[
            "given.json:1:11 (at /Users)",
            "unknown field `Users`",
            "expected `accounts`",
        ],
    );
}

#[test]
fn an_estate_with_no_principals_and_no_buckets_is_refused() {
    assert_not_an_estate("{}", &["no principals and no buckets"]);
    assert_not_an_estate(
        "{\"buckets\": [], \"principals\": null}",
        &["no principals and no buckets"],
    );
}

#[test]
fn object_lock_fields_of_a_head_json_that_do_not_read() {
    let snap = Snap::new();
    let head = format!("accounts/{ACCT}/buckets/bad/objects/ledger.csv.head.json");
    snap.write(
        &head,
        "{\n  \"VersionId\": \"v1\",\n  \"ObjectLockMode\": \"COMPLIANCE\",\n  \"ObjectLockRetainUntilDate\": \"next year\"\n}\n",
    );
    let estate = snap.load();
    let d = diag(
        &estate,
        "ledger.csv.head.json",
        "/ObjectLockRetainUntilDate",
    );
    assert_diag(d, 4, 32, &["ObjectLockRetainUntilDate", "RFC 3339"]);
    // The object's state is then unknown, never the default's.
    let (_, a) = can(&estate, "can user/alice s3:GetObject bad/ledger.csv");
    assert_eq!(a.decision.names().0, "unknown", "{a:#?}");
    assert_rest_answers(&estate);

    // A mode without its date is an error too.
    snap.write(
        &head,
        "{\n  \"VersionId\": \"v1\",\n  \"ObjectLockMode\": \"GOVERNANCE\"\n}\n",
    );
    let estate = snap.load();
    let d = diag(&estate, "ledger.csv.head.json", "/ObjectLockMode");
    assert_diag(d, 3, 21, &["ObjectLockRetainUntilDate"]);
}
