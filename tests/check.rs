//! `bucketlog check` (cli.md "Assertion files"): exit statuses, and the
//! text, JSON, SARIF 2.1.0 and JUnit outputs of a failing file.

mod common;

use common::copy_dir;
use serde_json::Value;
use std::process::{Command, Output};

fn bucketlog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bucketlog"))
        .args(args)
        .output()
        .expect("runs the binary")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Two assertions that fail on the demo estate and two that hold.
const FAILING: &str = "\
# comments and blank lines are skipped

assert can role/partner-uploader read example-upload-bucket/incoming/*
assert no-public-access example-upload-bucket
assert prove role/partner-uploader write example-upload-bucket/incoming/* requires aws:SecureTransport = true
assert not can role/partner-uploader read example-upload-bucket/incoming/*
";

fn write(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("assertions.check");
    std::fs::write(&path, text).expect("write the assertion file");
    let name = path.display().to_string();
    (dir, name)
}

#[test]
fn the_shipped_demo_assertions_hold() {
    let out = bucketlog(&["--env", "examples/demo", "check", "examples/demo.check"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("14 passed, 0 failed"), "{text}");
}

#[test]
fn a_failing_file_exits_1_and_names_each_failure() {
    let (_dir, file) = write(FAILING);
    let out = bucketlog(&["check", &file]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("FAILED  line 3: can role/partner-uploader read"),
        "{text}"
    );
    assert!(
        text.contains("ok      line 4: no-public-access example-upload-bucket"),
        "{text}"
    );
    // The refuted requirement names the request that breaks it and the statement that allows it.
    assert!(text.contains("with aws:SecureTransport = false"), "{text}");
    assert!(
        text.contains("Allow identity `inline0` statement 0"),
        "{text}"
    );
    assert!(text.contains("2 passed, 2 failed"), "{text}");
}

#[test]
fn json_lists_every_assertion_with_its_answer() {
    let (_dir, file) = write(FAILING);
    let out = bucketlog(&["--format", "json", "check", &file]);
    let doc: Value = serde_json::from_str(&stdout(&out)).expect("one JSON document");
    assert_eq!(doc["passed"], 2);
    assert_eq!(doc["failed"], 2);
    let statuses: Vec<&str> = doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(statuses, ["failed", "ok", "failed", "ok"]);
    assert_eq!(doc["results"][2]["answer"]["result"], "refuted");
    assert_eq!(
        doc["results"][2]["answer"]["counterexample"]["context"]["aws:SecureTransport"],
        "false"
    );
}

#[test]
fn sarif_has_one_result_per_failure_at_its_line() {
    let (_dir, file) = write(FAILING);
    let out = bucketlog(&["--format", "sarif", "check", &file]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_str(&stdout(&out)).expect("SARIF is JSON");
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "bucketlog");
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["ruleId"], "can");
    assert_eq!(results[1]["ruleId"], "requires");
    let line = &results[1]["locations"][0]["physicalLocation"];
    assert_eq!(line["artifactLocation"]["uri"], file.as_str());
    assert_eq!(line["region"]["startLine"], 5);
    // The policy statement that allows the counterexample is a related location.
    let related = &results[1]["relatedLocations"][0]["physicalLocation"];
    assert!(related["artifactLocation"]["uri"]
        .as_str()
        .is_some_and(|u| u.ends_with("iam.json")));
    assert!(related["region"]["startLine"]
        .as_u64()
        .is_some_and(|l| l > 1));
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert!(
        rules.contains(&"can") && rules.contains(&"requires"),
        "{rules:?}"
    );
}

/// The Python of tests/consumers/venv (`scripts/setup.sh --test`), with
/// jsonschema and junitparser.
fn consumer_python() -> std::path::PathBuf {
    let p =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/consumers/venv/bin/python");
    assert!(
        p.exists(),
        "jsonschema and junitparser are not installed: run `bash scripts/setup.sh --test`"
    );
    p
}

/// Runs a Python snippet of the consumers' venv on `args`; its stdout.
fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new(consumer_python())
        .args(["-c", script])
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out)
}

/// OASIS's SARIF 2.1.0 schema (tests/consumers/sarif-schema-2.1.0.json)
/// accepts every SARIF `check` writes: failures, an input error, all held.
#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let schema = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/consumers/sarif-schema-2.1.0.json"
    );
    let (dir, failing) = write(FAILING);
    let (broken, _) = broken_bucket_policy();
    let broken_env = broken.path().join("snapshot").display().to_string();
    let broken_file = broken.path().join("a.check").display().to_string();
    let runs: [&[&str]; 3] = [
        &["--format", "sarif", "check", &failing],
        &[
            "--env",
            &broken_env,
            "--format",
            "sarif",
            "check",
            &broken_file,
        ],
        &[
            "--env",
            "examples/demo",
            "--format",
            "sarif",
            "check",
            "examples/demo.check",
        ],
    ];
    for (i, args) in runs.iter().enumerate() {
        let out = bucketlog(args);
        let path = dir.path().join(format!("{i}.sarif"));
        std::fs::write(&path, stdout(&out)).unwrap();
        let checked = python(
            "import json, sys, jsonschema\n\
             schema = json.load(open(sys.argv[1]))\n\
             doc = json.load(open(sys.argv[2]))\n\
             jsonschema.Draft7Validator(schema).validate(doc)\n\
             print(len(doc['runs'][0]['results']))",
            &[schema, &path.display().to_string()],
        );
        // The broken policy: the failed assertion and the input error.
        let want = ["2", "2", "0"][i];
        assert_eq!(checked.trim(), want, "{args:?}");
    }
}

/// junitparser reads one test case per assertion; a failure's message is
/// the counterexample, its text the statements that allow it.
#[test]
fn junit_parses_with_junitparser_one_case_per_assertion() {
    let (dir, file) = write(FAILING);
    let out = bucketlog(&["--format", "junit", "check", &file]);
    assert_eq!(out.status.code(), Some(1));
    let path = dir.path().join("report.xml");
    std::fs::write(&path, stdout(&out)).unwrap();
    let parsed = python(
        "import json, sys\n\
         from junitparser import JUnitXml, Failure\n\
         xml = JUnitXml.fromfile(sys.argv[1])\n\
         cases = [c for suite in xml for c in suite]\n\
         print(json.dumps([[c.name, [[r.message, r.text] for r in c.result if isinstance(r, Failure)]] for c in cases]))",
        &[&path.display().to_string()],
    );
    // Each case: its name, and each failure's (message, text).
    type Failures = Vec<(String, Option<String>)>;
    let cases: Vec<(String, Failures)> =
        serde_json::from_str(&parsed).expect("junitparser's reading");
    assert_eq!(cases.len(), 4, "{cases:?}");
    let failed: Vec<_> = cases.iter().filter(|(_, f)| !f.is_empty()).collect();
    assert_eq!(failed.len(), 2, "{cases:?}");
    assert!(failed[0]
        .0
        .starts_with("line 3: assert can role/partner-uploader read"));
    let (name, failures) = failed[1];
    assert!(name.starts_with("line 5: assert prove"), "{name}");
    assert!(
        failures[0].0.contains("aws:SecureTransport = false"),
        "{failures:?}"
    );
    assert!(
        failures[0]
            .1
            .as_deref()
            .is_some_and(|t| t.contains("iam.json")),
        "{failures:?}"
    );
}

#[test]
fn a_line_that_is_not_an_assertion_is_an_input_error_with_its_position() {
    let (_dir, file) = write(
        "assert can role/partner-uploader read example-upload-bucket/x\nassert maybe something\n",
    );
    let out = bucketlog(&["check", &file]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{file}:2:8")), "{err}");
    let (_dir, file) = write("assert can nobody read example-upload-bucket/x\n");
    let out = bucketlog(&["check", &file]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{file}:1:12")) && err.contains("nobody"),
        "{err}"
    );
}

#[test]
fn sarif_and_junit_are_for_check_only() {
    for args in [
        &["--format", "sarif", "query", "help"][..],
        &["--format", "junit", "repl"],
        &["--format", "sarif", "graph"],
    ] {
        let out = bucketlog(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("apply to `check` only"),
            "{args:?}"
        );
    }
}

/// A bucket whose policy (a public read) lost a `}`: issue 11 items 1–2.
fn broken_bucket_policy() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios/soundness_broken_bucket_policy/snapshot");
    let copy = dir.path().join("snapshot");
    copy_dir(&src, &copy);
    std::fs::write(
        dir.path().join("a.check"),
        "assert not can anonymous read web/index.html\n",
    )
    .expect("write");
    let root = dir.path().display().to_string();
    (dir, root)
}

#[test]
fn an_unknown_answer_fails_the_assertion_and_the_load_error_is_on_stderr() {
    let (_dir, root) = broken_bucket_policy();
    let out = bucketlog(&[
        "--env",
        &format!("{root}/snapshot"),
        "check",
        &format!("{root}/a.check"),
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("FAILED  line 1: not can anonymous read web/index.html"),
        "{text}"
    );
    assert!(
        text.contains(": unknown — policy `web` is invalid"),
        "{text}"
    );
    assert!(text.contains("0 passed, 1 failed"), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("web/policy.json:1:127") && err.contains("invalid JSON"),
        "{err}"
    );
}

#[test]
fn strict_fails_on_an_input_that_did_not_load_even_with_no_assertion() {
    let (_dir, root) = broken_bucket_policy();
    std::fs::write(format!("{root}/empty.check"), "# nothing asserted\n").expect("write");
    let env = format!("{root}/snapshot");
    let file = format!("{root}/empty.check");
    let lenient = bucketlog(&["--env", &env, "check", &file]);
    assert_eq!(lenient.status.code(), Some(0), "{}", stdout(&lenient));
    let strict = bucketlog(&["--env", &env, "check", "--strict", &file]);
    let text = stdout(&strict);
    assert_eq!(strict.status.code(), Some(1), "{text}");
    assert!(text.contains("FAILED  input did not load: "), "{text}");
    // SARIF and JUnit are strict by default: the input error is a failed result.
    let sarif = bucketlog(&["--env", &env, "--format", "sarif", "check", &file]);
    assert_eq!(sarif.status.code(), Some(1));
    let doc: Value = serde_json::from_str(&stdout(&sarif)).expect("SARIF");
    let results = doc["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{doc}");
    assert_eq!(results[0]["ruleId"], "input-error");
    assert!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .is_some_and(|u| u.ends_with("buckets/web/policy.json"))
    );
    let junit = bucketlog(&["--env", &env, "--format", "junit", "check", &file]);
    assert_eq!(junit.status.code(), Some(1));
    assert!(
        stdout(&junit).contains("failures=\"1\""),
        "{}",
        stdout(&junit)
    );
}

/// A verb in an assertion (docs/decisions.md, "Proofs and checks"): `can P
/// read R` holds when some action of the verb is allowed, `not can P read R`
/// when none may be. On the demo, analyst2 is granted s3:GetObject but not
/// s3:GetObjectVersion on analytics-data.
#[test]
fn check_verbs_mean_some_action_for_can_and_none_for_not_can() {
    let analyst2 = "arn:aws:iam::444455556666:role/analyst2";
    let run = |line: &str| -> (Option<i32>, String) {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), format!("{line}\n")).expect("writes");
        let path = file.path().to_str().expect("UTF-8 path");
        let out = bucketlog(&["--env", "examples/demo", "check", path]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    for (line, holds) in [
        (format!("assert can {analyst2} read analytics-data/*"), true),
        (
            format!("assert not can {analyst2} read analytics-data/*"),
            false,
        ),
        (
            format!("assert can {analyst2} s3:GetObjectVersion analytics-data/*"),
            false,
        ),
        (
            format!("assert not can {analyst2} s3:GetObjectVersion analytics-data/*"),
            true,
        ),
    ] {
        let (code, out) = run(&line);
        assert_eq!(code, Some(if holds { 0 } else { 1 }), "{line}\n{out}");
    }
}

/// examples/ci/check.sh, as a CI job runs it: green on the demo with its
/// assertions, red on a snapshot with a broken policy (never green because
/// an input did not load), and the SARIF it leaves validates.
#[test]
fn the_ci_example_gates_on_assertions_and_broken_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("out.sarif");
    let run = |snapshot: &str, assertions: &str| {
        Command::new("bash")
            .arg("examples/ci/check.sh")
            .env("BUCKETLOG", env!("CARGO_BIN_EXE_bucketlog"))
            .env("SNAPSHOT", snapshot)
            .env("ASSERTIONS", assertions)
            .env("SARIF", &sarif)
            .output()
            .unwrap()
    };
    let out = run("examples/demo", "examples/demo.check");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let (broken, _) = broken_bucket_policy();
    let out = run(
        &broken.path().join("snapshot").display().to_string(),
        &broken.path().join("a.check").display().to_string(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let schema = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/consumers/sarif-schema-2.1.0.json"
    );
    python(
        "import json, sys, jsonschema\n\
         jsonschema.Draft7Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))",
        &[schema, &sarif.display().to_string()],
    );
}

#[test]
fn no_destroy_is_an_assertion_of_its_own() {
    let (_dir, file) = write("assert no-destroy vault\nassert no-destroy kept\n");
    let env = "tests/scenarios/mfa_delete_and_destroy/snapshot";
    let out = bucketlog(&["--env", env, "check", &file]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("ok      line 1: no-destroy vault"), "{text}");
    assert!(
        text.contains("FAILED  line 2: no-destroy kept")
            && text
                .contains("refuted by arn:aws:iam::111122223333:user/admin s3:DeleteObjectVersion"),
        "{text}"
    );
    let sarif = bucketlog(&["--env", env, "--format", "sarif", "check", &file]);
    let doc: Value = serde_json::from_slice(&sarif.stdout).expect("SARIF is JSON");
    let rules: Vec<&str> = doc["runs"][0]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["ruleId"].as_str())
        .collect();
    assert!(rules.contains(&"no-destroy"), "{rules:?}");
}
