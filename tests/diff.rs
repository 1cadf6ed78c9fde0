//! `bucketlog diff` (issue 13 item 4): a change to a policy shows as the
//! access it adds or removes, and the exit status gates on added access.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::copy_dir;

/// The demo estate, with partner-uploader's policy also allowing reads.
fn widened(dir: &Path) -> String {
    let new = dir.join("new");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo"),
        &new,
    );
    let file = new.join("accounts/111122223333/iam.json");
    let mut iam: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    for role in iam["RoleDetailList"].as_array_mut().unwrap() {
        if role["RoleName"] == "partner-uploader" {
            role["RolePolicyList"][0]["PolicyDocument"]["Statement"][0]["Action"] =
                serde_json::json!(["s3:PutObject", "s3:GetObject"]);
        }
    }
    std::fs::write(&file, serde_json::to_string_pretty(&iam).unwrap()).unwrap();
    new.display().to_string()
}

fn bucketlog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bucketlog"))
        .args(args)
        .output()
        .unwrap()
}

const QUERY: &str = "who can read example-upload-bucket/incoming/*";

#[test]
fn a_policy_that_adds_a_read_shows_it_and_fails_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    let new = widened(dir.path());
    let out = bucketlog(&["--env", "examples/demo", "diff", "--env-new", &new, QUERY]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("  + allow        arn:aws:iam::111122223333:role/partner-uploader  s3:GetObject  arn:aws:s3:::example-upload-bucket/incoming/*  (was: no access)"),
        "{text}"
    );
    // partner-bot reaches it through the role: the chain is named.
    assert!(
        text.contains("+ allow        arn:aws:iam::111122223333:user/partner-bot  s3:GetObject  arn:aws:s3:::example-upload-bucket/incoming/*  via arn:aws:iam::111122223333:role/partner-uploader"),
        "{text}"
    );
    assert!(text.ends_with("widened, 0 narrowed\n"), "{text}");

    // The other way round, the same requests lose access: no new access, exit 0.
    let out = bucketlog(&[
        "--env",
        &new,
        "--format",
        "json",
        "diff",
        "--env-new",
        "examples/demo",
        QUERY,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["kind"], "diff");
    assert_eq!(doc["widened"], 0);
    let changes = doc["changes"].as_array().unwrap();
    assert!(!changes.is_empty());
    for c in changes {
        assert_eq!(c["after"], "no access", "{c}");
        assert_eq!(c["widens"], false);
    }

    // The same estate on both sides: nothing changes.
    let out = bucketlog(&[
        "--env",
        "examples/demo",
        "diff",
        "--env-new",
        "examples/demo",
        QUERY,
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("  0 widened, 0 narrowed\n"));
}
