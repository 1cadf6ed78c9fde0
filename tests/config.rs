//! The default context of `query` (issue 12 item 2): the `[context]` table
//! of `bucketlog.toml` in the working directory, then `--context` flags, a
//! query's own `with` over both; a config file that cannot be used stops
//! the run with its name and what was expected. Through the binary, in a
//! working directory of its own and with a home directory of its own (so
//! no user config file is read).

use std::path::Path;
use std::process::{Command, Output};

const ESTATE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/scenarios/secure_transport_deny/snapshot"
);
const CAN: &str = "can user/dev s3:GetObject my-app-uploads/a.png";

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bucketlog"))
        .current_dir(dir)
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .args(["--env", ESTATE, "--format", "json"])
        .args(args)
        .output()
        .expect("bucketlog runs")
}

/// The decision (and deny kind) of a `can` as JSON prints it.
fn decision(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let a = &doc["answers"][0];
    match a["deny"].as_str() {
        Some(kind) => format!("deny ({kind})"),
        None => a["decision"].as_str().expect("a decision").to_string(),
    }
}

#[test]
fn flags_and_the_config_file_give_the_default_context() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    assert_eq!(decision(d, &["query", CAN]), "conditional");
    assert_eq!(
        decision(d, &["--context", "aws:SecureTransport=true", "query", CAN]),
        "allow"
    );
    std::fs::write(
        d.join("bucketlog.toml"),
        "[context]\n\"aws:SecureTransport\" = \"true\"\n",
    )
    .expect("written");
    assert_eq!(decision(d, &["query", CAN]), "allow");
    assert_eq!(
        decision(d, &["--context", "aws:SecureTransport=false", "query", CAN]),
        "deny (explicit)",
        "a flag replaces the file's key"
    );
    let own = format!("{CAN} with aws:SecureTransport = false");
    assert_eq!(
        decision(d, &["query", &own]),
        "deny (explicit)",
        "the query's own with wins"
    );
}

#[test]
fn a_config_file_that_cannot_be_used_stops_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    for (text, says) in [
        (
            "[defaults]\nx = 1\n",
            "unknown `defaults`: expected a [context] table",
        ),
        (
            "[context]\n\"aws:SecureTransport\" = {a = 1}\n",
            "expected a string",
        ),
        ("[context\n", "bucketlog.toml"),
        (
            "[context]\n\"no such key\" = \"x\"\n",
            "context `no such key",
        ),
    ] {
        std::fs::write(d.join("bucketlog.toml"), text).expect("written");
        let out = run(d, &["query", CAN]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{text}: {err}");
        assert!(out.stdout.is_empty(), "{text}: nothing is answered");
    }
}
