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

#[test]
fn a_session_answers_completes_recovers_and_ends() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut s = session(home.path());
    s.expect("bucketlog> ").expect("a prompt");

    s.send_line("who can write example-upload-bucket/incoming/*")
        .expect("typed");
    s.expect("3 principal(s): 3 allow")
        .expect("the who can summary");
    s.expect("bucketlog> ").expect("the prompt again");

    // Tab completes a principal's name.
    s.send("can role/partner-up").expect("typed");
    s.send("\t").expect("tab");
    s.send(" read example-upload-bucket/incoming/x\r")
        .expect("typed");
    s.expect("arn:aws:iam::111122223333:role/partner-uploader  s3:GetObject")
        .expect("the completed name was answered");
    s.expect("bucketlog> ").expect("the prompt again");

    // A malformed query: the caret, the message, and the session goes on.
    s.send_line("can alice").expect("typed");
    s.expect("^ column 10:").expect("a caret under the column");
    s.expect("bucketlog> ").expect("the session is alive");

    // Another estate, then a default context that changes the answer.
    let estate = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/scenarios/secure_transport_deny/snapshot"
    );
    s.send_line(format!(":load {estate}")).expect("typed");
    s.expect("bucketlog> ").expect("loaded");
    s.send_line("who can read my-app-uploads/*").expect("typed");
    s.expect("allowed when aws:SecureTransport = true")
        .expect("conditional");
    s.expect("0 allow, 1 conditional").expect("the summary");
    s.send_line(":set context aws:SecureTransport = true")
        .expect("typed");
    s.expect("context: aws:SecureTransport = true")
        .expect("acknowledged");
    s.send_line("who can read my-app-uploads/*").expect("typed");
    s.expect("1 allow, 0 conditional")
        .expect("the context decides it");
    s.expect("bucketlog> ").expect("the prompt again");

    s.send(ControlCode::EndOfTransmission).expect("Ctrl-D");
    s.expect(expectrl::Eof).expect("the session ends");
}
