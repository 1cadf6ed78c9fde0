//! The REPL driven through a pseudo-terminal (issue 12), as a person uses
//! it: a `who can` answered from the loaded estate; Tab completing a
//! principal's name; a malformed query showing the caret and the session
//! going on; `:load` of another estate and `:set context` changing the next
//! answer; Ctrl-D ending the session.

use expectrl::{ControlCode, Session};
use std::process::Command;
use std::time::Duration;

fn session(home: &std::path::Path) -> Session {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bucketlog"));
    cmd.arg("repl")
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    let mut s = Session::spawn(cmd).expect("the REPL starts in a pseudo-terminal");
    s.set_expect_timeout(Some(Duration::from_secs(60)));
    s
}

/// Types `line` (sent as is: `\t` completes, `\r` submits), then reads each
/// of `seen` in order and the next prompt.
fn ask(s: &mut Session, line: &str, seen: &[&str]) {
    s.send(line)
        .unwrap_or_else(|e| panic!("typing {line:?}: {e}"));
    for text in seen.iter().chain(std::iter::once(&"bucketlog> ")) {
        s.expect(*text)
            .unwrap_or_else(|e| panic!("after {line:?}, expected {text:?}: {e}"));
    }
}

#[test]
fn a_session_answers_completes_recovers_and_ends() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut s = session(home.path());
    s.expect("bucketlog> ").expect("a prompt");
    ask(
        &mut s,
        "who can write example-upload-bucket/incoming/*\r",
        &["3 principal(s): 3 allow"],
    );
    // Tab completes a principal's name.
    ask(
        &mut s,
        "can role/partner-up\t read example-upload-bucket/incoming/x\r",
        &["arn:aws:iam::111122223333:role/partner-uploader  s3:GetObject"],
    );
    // A malformed query: the caret under the column, and the session goes on.
    ask(&mut s, "can alice\r", &["^ column 10:"]);
    // Another estate, then a default context that changes the answer.
    let estate = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/scenarios/secure_transport_deny/snapshot"
    );
    ask(&mut s, &format!(":load {estate}\r"), &[]);
    let query = "who can read my-app-uploads/*\r";
    ask(
        &mut s,
        query,
        &[
            "allowed when aws:SecureTransport = true",
            "0 allow, 1 conditional",
        ],
    );
    ask(
        &mut s,
        ":set context aws:SecureTransport = true\r",
        &["context: aws:SecureTransport = true"],
    );
    ask(&mut s, query, &["1 allow, 0 conditional"]);
    s.send(ControlCode::EndOfTransmission).expect("Ctrl-D");
    s.expect(expectrl::Eof).expect("the session ends");
}
