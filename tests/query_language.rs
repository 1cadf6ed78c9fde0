//! The query language of cli.md ("Queries", "Names"), table-driven: every
//! form parses into the expected AST with the expected words, and every
//! broken query fails at the expected column with a message that says what
//! was expected. Then the same contract through the binary (exit status 2,
//! the column on stderr, the JSON error object), with the built-in demo
//! estate (no --env).

use bucketlog::query::ast::{ContextItem, ContextValue, Query, ShowKind, Word};
use bucketlog::query::{self, QueryError};
use serde_json::Value;
use std::process::{Command, Output};

// ---------------------------------------------------------------------------
// Helpers: the AST as one line of text, and the words it holds

/// A word in angle brackets, so that quoted names with blanks stay visible.
fn w(word: &Word) -> String {
    format!("<{}>", word.text)
}

fn context(items: &[ContextItem]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let items: Vec<String> = items
        .iter()
        .map(|i| match &i.value {
            ContextValue::One(v) => format!("{} = {}", w(&i.key), w(v)),
            ContextValue::Set(vs) => {
                let vs: Vec<String> = vs.iter().map(w).collect();
                format!("{} = [{}]", w(&i.key), vs.join(", "))
            }
            ContextValue::Absent => format!("{} absent", w(&i.key)),
        })
        .collect();
    format!(" with {}", items.join(", "))
}

/// The AST variant and its words, e.g. `Can <alice> <read> <b/*> with <k> = <v>`.
fn render(q: &Query) -> String {
    match q {
        Query::WhoCan {
            action,
            resource,
            context: c,
        } => {
            format!("WhoCan {} {}{}", w(action), w(resource), context(c))
        }
        Query::Can {
            principal,
            action,
            resource,
            context: c,
        } => {
            format!(
                "Can {} {} {}{}",
                w(principal),
                w(action),
                w(resource),
                context(c)
            )
        }
        Query::Why {
            not,
            principal,
            action,
            resource,
            context: c,
        } => format!(
            "{} {} {} {}{}",
            if *not { "WhyNot" } else { "Why" },
            w(principal),
            w(action),
            w(resource),
            context(c)
        ),
        Query::WhatCan { principal, on } => match on {
            Some(on) => format!("WhatCan {} on {}", w(principal), w(on)),
            None => format!("WhatCan {}", w(principal)),
        },
        Query::ProveWriteOnly {
            principal,
            resource,
        } => {
            format!("ProveWriteOnly {} on {}", w(principal), w(resource))
        }
        Query::ProveNoPublicAccess { bucket } => format!("ProveNoPublicAccess {}", w(bucket)),
        Query::ProveNoDestroy { bucket } => format!("ProveNoDestroy {}", w(bucket)),
        Query::ProveRequires {
            principal,
            action,
            resource,
            key,
            op,
            value,
        } => format!(
            "ProveRequires {} {} {} requires {} {} {}",
            w(principal),
            w(action),
            w(resource),
            w(key),
            w(op),
            w(value)
        ),
        Query::Public { bucket } => match bucket {
            Some(b) => format!("Public {}", w(b)),
            None => "Public".into(),
        },
        Query::Path {
            principal,
            action,
            resource,
        } => match action {
            Some(a) => format!("Path {} to {} {}", w(principal), w(a), w(resource)),
            None => format!("Path {} to {}", w(principal), w(resource)),
        },
        Query::Show { kind, name } => {
            let kind = match kind {
                ShowKind::Principal => "principal",
                ShowKind::Bucket => "bucket",
                ShowKind::Policy => "policy",
            };
            format!("Show {kind} {}", w(name))
        }
        Query::Help => "Help".into(),
    }
}

/// Every word of a query, in the order written.
fn words(q: &Query) -> Vec<&Word> {
    fn with<'q>(mut ws: Vec<&'q Word>, items: &'q [ContextItem]) -> Vec<&'q Word> {
        for i in items {
            ws.push(&i.key);
            match &i.value {
                ContextValue::One(v) => ws.push(v),
                ContextValue::Set(vs) => ws.extend(vs),
                ContextValue::Absent => {}
            }
        }
        ws
    }
    match q {
        Query::WhoCan {
            action,
            resource,
            context,
        } => with(vec![action, resource], context),
        Query::Can {
            principal,
            action,
            resource,
            context,
        }
        | Query::Why {
            principal,
            action,
            resource,
            context,
            ..
        } => with(vec![principal, action, resource], context),
        Query::WhatCan { principal, on } => std::iter::once(principal).chain(on).collect(),
        Query::ProveWriteOnly {
            principal,
            resource,
        } => {
            vec![principal, resource]
        }
        Query::Path {
            principal,
            action,
            resource,
        } => std::iter::once(principal)
            .chain(action)
            .chain(std::iter::once(resource))
            .collect(),
        Query::ProveNoPublicAccess { bucket } | Query::ProveNoDestroy { bucket } => vec![bucket],
        Query::ProveRequires {
            principal,
            action,
            resource,
            key,
            op,
            value,
        } => {
            vec![principal, action, resource, key, op, value]
        }
        Query::Show { name, .. } => vec![name],
        Query::Public { bucket } => bucket.iter().collect(),
        Query::Help => vec![],
    }
}

fn parse_ok(text: &str) -> Query {
    query::parse(text).unwrap_or_else(|e| panic!("{text:?} must parse, got {e:?}"))
}

fn parse_err(text: &str) -> QueryError {
    match query::parse(text) {
        Ok(q) => panic!("{text:?} must not parse, got {}", render(&q)),
        Err(e) => e,
    }
}

/// Each query parses to its rendering; each word's offset is where the word
/// (or its opening quote) starts in the query.
fn check_parses(cases: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for &(text, want) in cases {
        let q = parse_ok(text);
        let got = render(&q);
        if got != want {
            failures.push(format!("{text:?}\n    got  {got}\n    want {want}"));
        }
        for word in words(&q) {
            let at = &text[word.offset..];
            let quoted = format!("\"{}\"", word.text);
            if !(at.starts_with(&quoted) || at.starts_with(&word.text)) {
                failures.push(format!(
                    "{text:?}: word {:?} has offset {}, where the text is {at:?}",
                    word.text, word.offset
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A broken query, the column its error must point at, and words its
/// message must hold besides naming what was expected.
type Broken<'a> = (&'a str, usize, &'a [&'a str]);

fn check_errors(cases: &[Broken]) {
    let mut failures = Vec::new();
    for &(text, column, says) in cases {
        let e = parse_err(text);
        let missing: Vec<&str> = says
            .iter()
            .copied()
            .filter(|s| !e.message.contains(s))
            .collect();
        // "expected" (not "unexpected") followed by something: the message
        // names what was expected.
        let names_expected = e.message.match_indices("expected").any(|(i, w)| {
            !e.message[..i].ends_with("un") && !e.message[i + w.len()..].trim().is_empty()
        });
        if e.column != column || !missing.is_empty() || !names_expected {
            failures.push(format!(
                "{text:?}: column {} (want {column}), message {:?} (missing {missing:?}{})",
                e.column,
                e.message,
                if names_expected {
                    ""
                } else {
                    ", names nothing expected"
                }
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The one-past-the-end column of `text`, in characters.
fn end(text: &str) -> usize {
    text.chars().count() + 1
}

// ---------------------------------------------------------------------------
// Every query form of cli.md

#[test]
fn every_query_form_parses_to_its_ast() {
    check_parses(&[
        ("who can read b/*", "WhoCan <read> <b/*>"),
        (
            "who can s3:GetObject s3://uploads/incoming/a.txt",
            "WhoCan <s3:GetObject> <s3://uploads/incoming/a.txt>",
        ),
        ("can alice read uploads/incoming/a.txt", "Can <alice> <read> <uploads/incoming/a.txt>"),
        (
            "can arn:aws:iam::111122223333:user/alice s3:Get* arn:aws:s3:::b/k",
            "Can <arn:aws:iam::111122223333:user/alice> <s3:Get*> <arn:aws:s3:::b/k>",
        ),
        ("can account:444455556666 write b/?x*", "Can <account:444455556666> <write> <b/?x*>"),
        ("can anonymous list b", "Can <anonymous> <list> <b>"),
        ("who can admin b", "WhoCan <admin> <b>"),
        (
            "can service:logging.s3.amazonaws.com write logs/*",
            "Can <service:logging.s3.amazonaws.com> <write> <logs/*>",
        ),
        ("can canonical:79a59df9 read b/k", "Can <canonical:79a59df9> <read> <b/k>"),
        ("why alice read b/k", "Why <alice> <read> <b/k>"),
        ("why not role/reader delete b/k", "WhyNot <role/reader> <delete> <b/k>"),
        ("what can alice do", "WhatCan <alice>"),
        ("what can group/devs do on reports/*", "WhatCan <group/devs> on <reports/*>"),
        (
            "prove write-only role/partner-uploader on example-upload-bucket/incoming/*",
            "ProveWriteOnly <role/partner-uploader> on <example-upload-bucket/incoming/*>",
        ),
        ("prove no-public-access example-upload-bucket", "ProveNoPublicAccess <example-upload-bucket>"),
        ("prove no-destroy example-upload-bucket", "ProveNoDestroy <example-upload-bucket>"),
        (
            "prove role/app write uploads/* requires s3:x-amz-server-side-encryption = aws:kms",
            "ProveRequires <role/app> <write> <uploads/*> requires <s3:x-amz-server-side-encryption> <=> <aws:kms>",
        ),
        (
            "prove role/app write uploads/* requires aws:SecureTransport != false",
            "ProveRequires <role/app> <write> <uploads/*> requires <aws:SecureTransport> <!=> <false>",
        ),
        (
            "prove role/app any uploads/* requires aws:SourceVpce StringEquals vpce-1a2b",
            "ProveRequires <role/app> <any> <uploads/*> requires <aws:SourceVpce> <StringEquals> <vpce-1a2b>",
        ),
        ("public", "Public"),
        ("public b", "Public <b>"),
        ("path alice to reports/2026/q1.csv", "Path <alice> to <reports/2026/q1.csv>"),
        (
            "path alice to s3:PutObject reports/2026/q1.csv",
            "Path <alice> to <s3:PutObject> <reports/2026/q1.csv>",
        ),
        ("show principal role/reader", "Show principal <role/reader>"),
        ("show bucket example-upload-bucket", "Show bucket <example-upload-bucket>"),
        ("show policy AllowReads", "Show policy <AllowReads>"),
        ("help", "Help"),
        // Blanks around and between words do not matter.
        ("  help\t", "Help"),
        ("who\tcan\n read   b", "WhoCan <read> <b>"),
    ]);
}

#[test]
fn with_contexts_parse_every_item_shape() {
    check_parses(&[
        (
            "who can read b/* with aws:SecureTransport = true",
            "WhoCan <read> <b/*> with <aws:SecureTransport> = <true>",
        ),
        (
            "can alice write uploads/* with aws:SecureTransport = true, aws:SourceIp = 10.1.2.3, s3:x-amz-server-side-encryption = aws:kms",
            "Can <alice> <write> <uploads/*> with <aws:SecureTransport> = <true>, <aws:SourceIp> = <10.1.2.3>, <s3:x-amz-server-side-encryption> = <aws:kms>",
        ),
        (
            "can alice write b/* with aws:TagKeys = [team, cost-center]",
            "Can <alice> <write> <b/*> with <aws:TagKeys> = [<team>, <cost-center>]",
        ),
        ("can alice write b/* with aws:TagKeys = [team]", "Can <alice> <write> <b/*> with <aws:TagKeys> = [<team>]"),
        (
            "why not alice read b/k with aws:SourceVpce absent",
            "WhyNot <alice> <read> <b/k> with <aws:SourceVpce> absent",
        ),
        (
            "why alice read b/k with a = 1,b absent,c=[x,y]",
            "Why <alice> <read> <b/k> with <a> = <1>, <b> absent, <c> = [<x>, <y>]",
        ),
        // No blanks needed around `=`, `,`, `[` and `]`.
        ("can alice read b with k=v", "Can <alice> <read> <b> with <k> = <v>"),
        ("can alice read b with k=[v]", "Can <alice> <read> <b> with <k> = [<v>]"),
    ]);
}

#[test]
fn quoted_names_may_be_keywords_or_hold_blanks() {
    check_parses(&[
        ("can \"public\" read b/*", "Can <public> <read> <b/*>"),
        ("who can read \"bucket\"", "WhoCan <read> <bucket>"),
        // A keyword is only a whole word: longer words that start with one are names.
        ("who can read bucket/k", "WhoCan <read> <bucket/k>"),
        (
            "can alice read public/reports/* with absent-key absent",
            "Can <alice> <read> <public/reports/*> with <absent-key> absent",
        ),
        ("show policy \"my policy\"", "Show policy <my policy>"),
        ("show bucket \"\"", "Show bucket <>"),
        ("can \"can\" \"with\" \"on\"", "Can <can> <with> <on>"),
        (
            "can alice read b with \"k,=[]\" = \"a, b\"",
            "Can <alice> <read> <b> with <k,=[]> = <a, b>",
        ),
        (
            "can alice read b with k = [\"x y\", \"absent\"]",
            "Can <alice> <read> <b> with <k> = [<x y>, <absent>]",
        ),
        ("what can \"josé\" do", "WhatCan <josé>"),
    ]);
}

// ---------------------------------------------------------------------------
// Broken queries: the column and what was expected

#[test]
fn a_query_that_ends_early_points_past_its_end() {
    const CASES: &[&str] = &[
        "can alice",
        "can",
        "who",
        "who can",
        "who can read",
        "why",
        "why not",
        "why not alice read",
        "what can alice",
        "what can alice do on",
        "prove",
        "prove write-only alice",
        "prove write-only alice on",
        "prove no-public-access",
        "prove role/app write uploads/* requires",
        "prove role/app write uploads/* requires k",
        "prove role/app write uploads/* requires k =",
        "path alice",
        "path alice to",
        "show",
        "show bucket",
        "can alice read b with",
        "can alice read b with k",
        "can alice read b with k =",
        "can alice read b with k = [",
        "can alice read b with k = [a",
        "can alice read b with k = [a,",
        "can alice read b with k = v,",
    ];
    let cases: Vec<Broken> = CASES
        .iter()
        .map(|&text| (text, end(text), &["ends early", "expected"][..]))
        .collect();
    check_errors(&cases);
}

#[test]
fn broken_queries_point_at_the_word_and_say_what_was_expected() {
    check_errors(&[
        ("can alice", 10, &["ends early", "expected a name"]),
        ("who read b", 5, &["`read`", "expected \"can\""]),
        (
            "can alice read b with",
            22,
            &["ends early", "expected a name"],
        ),
        (
            "can alice read b with k =",
            26,
            &["ends early", "a name", "\"[\""],
        ),
        ("can alice read b with k", 24, &["\"=\"", "\"absent\""]),
        ("what can alice", 15, &["ends early", "\"do\""]),
        ("prove write-only alice", 23, &["\"on\""]),
        ("path alice", 11, &["\"to\""]),
        (
            "prove",
            6,
            &["\"write-only\"", "\"no-public-access\"", "a name"],
        ),
        ("prove a b c requires k", 23, &["\"=\"", "\"!=\"", "a name"]),
        ("show", 5, &["\"principal\"", "\"bucket\"", "\"policy\""]),
        (
            "show user alice",
            6,
            &["`user`", "\"principal\"", "\"bucket\"", "\"policy\""],
        ),
        ("", 1, &["ends early", "\"who\"", "\"can\"", "\"help\""]),
        (
            "frobnicate b",
            1,
            &["`frobnicate`", "\"who\"", "\"can\"", "\"prove\""],
        ),
        ("WHO can read b", 1, &["`WHO`", "\"who\""]),
        // Keywords are not names unless quoted.
        ("can can read b", 5, &["`can`", "a name"]),
        ("can alice read public", 16, &["`public`", "a name"]),
        ("who can read bucket", 14, &["`bucket`", "a name"]),
        // Context items.
        ("can alice read b with = v", 23, &["`=`", "a name"]),
        (
            "can alice read b with k != v",
            25,
            &["`!=`", "\"=\"", "\"absent\""],
        ),
        ("who can read b with k = []", 26, &["`]`", "a name"]),
        (
            "can alice read b with k = [a b]",
            30,
            &["`b`", "\",\"", "\"]\""],
        ),
        ("can alice read b with k = v w = x", 29, &["`w`", "\",\""]),
        (
            "can alice read b with k absent absent",
            32,
            &["`absent`", "\",\""],
        ),
        ("can alice read b with k = v, ,", 30, &["`,`", "a name"]),
    ]);
}

/// A character no token may start with is named, with what was expected.
#[test]
fn unexpected_characters_say_what_was_expected() {
    check_errors(&[
        ("can \"alice read b", 5, &["\""]),
        ("can alice read b!", 17, &["!"]),
    ]);
}

/// Words after a complete query: the message says the query has ended.
#[test]
fn words_after_a_complete_query_say_the_query_has_ended() {
    check_errors(&[
        ("help me", 6, &["`me`", "end of the query"]),
        ("public b c", 10, &["`c`", "end of the query"]),
        ("show bucket b c", 15, &["`c`", "end of the query"]),
        (
            "prove no-public-access b c",
            26,
            &["`c`", "end of the query"],
        ),
        ("what can alice do on b c", 24, &["`c`", "end of the query"]),
    ]);
}

/// Columns count characters, not bytes, after non-ASCII text too.
#[test]
fn error_columns_count_characters_not_bytes() {
    check_errors(&[
        ("can é", end("can é"), &["ends early"]),
        ("what can josé", end("what can josé"), &["\"do\""]),
        ("can ü read b c", 14, &["`c`"]),
        ("can \"zoë\" read 日本/* with = v", 26, &["`=`", "a name"]),
    ]);
}

// ---------------------------------------------------------------------------
// Through the binary, with the built-in demo estate

fn bucketlog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bucketlog"))
        .args(args)
        .output()
        .expect("runs the binary")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit status 2, and the JSON error object of cli.md on stdout.
fn json_error(query: &str) -> Value {
    let out = bucketlog(&["--format", "json", "query", query]);
    assert_eq!(out.status.code(), Some(2), "{query}: {}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let doc: Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("{query}: stdout is not one JSON document ({e}): {text}"));
    let err = &doc["error"];
    assert!(err["message"].is_string(), "{doc}");
    assert_eq!(err["query"], query, "{doc}");
    assert!(err["column"].is_u64(), "{doc}");
    doc
}

/// Exit status 2; stderr names the column, says `says`, and draws the caret
/// under that column of the query (counted in characters, as a terminal shows it).
fn text_error(query: &str, column: usize, says: &str) {
    let out = bucketlog(&["query", query]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{query}: {err}");
    assert!(out.stdout.is_empty(), "{query}: nothing on stdout");
    assert!(
        err.contains("built-in demo estate"),
        "no --env means the demo estate: {err}"
    );
    assert!(
        err.contains(&format!("query column {column}:")),
        "{query}: want column {column}: {err}"
    );
    assert!(err.contains(says), "{query}: want {says:?}: {err}");
    let lines: Vec<&str> = err.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == query.trim())
        .unwrap_or_else(|| panic!("{query}: the query is not echoed: {err}"));
    let caret = lines.get(at + 1).copied().unwrap_or_default();
    let indent = lines[at].chars().count() - lines[at].trim_start().chars().count();
    assert_eq!(
        caret.chars().position(|c| c == '^'),
        Some(indent + column - 1),
        "{query}: the caret is not under column {column}:\n{}\n{caret}",
        lines[at]
    );
}

#[test]
fn binary_reports_a_parse_error_with_its_column() {
    text_error("can alice", 10, "ends early: expected a name");
    text_error("who read b", 5, "expected \"can\"");
    text_error("can alice read b with k =", 26, "ends early");
}

#[test]
fn binary_reports_a_parse_error_as_json() {
    let doc = json_error("can alice");
    assert_eq!(doc["error"]["column"], 10, "{doc}");
    let message = doc["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("ends early") && message.contains("expected a name"),
        "{doc}"
    );
}

#[test]
fn binary_shows_a_bucket_as_text_and_json() {
    let out = bucketlog(&["query", "show bucket example-upload-bucket"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ownership     BucketOwnerEnforced"), "{text}");
    let out = bucketlog(&[
        "--format",
        "json",
        "query",
        "show bucket example-upload-bucket",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["shown"][0]["name"], "example-upload-bucket", "{doc}");
}

#[test]
fn binary_answers_every_query_and_reports_each_bad_one() {
    let out = bucketlog(&["query", "help", "who can read example-upload-bucket/*"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!out.stdout.is_empty());
    // A bad query in a batch: its error, the others still answered, exit 2.
    let out = bucketlog(&["--format", "json", "query", "can alice", "help", "can bob"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let docs: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(docs.len(), 3, "{docs:?}");
    assert_eq!(docs[0]["error"]["query"], "can alice");
    assert_eq!(docs[1]["kind"], "help");
    assert_eq!(docs[2]["error"]["query"], "can bob");
}

/// Through the binary, the column (and the caret) count characters.
#[test]
fn binary_parse_error_columns_count_characters_not_bytes() {
    text_error("can é", 6, "ends early");
}

/// A name that does not resolve is pointed at in characters too.
#[test]
fn binary_name_error_columns_count_characters_not_bytes() {
    text_error(
        "can service:é read nosuchbucket/x",
        20,
        "no bucket `nosuchbucket`",
    );
}

#[test]
fn binary_answers_path_with_the_shortest_chain() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bucketlog"))
        .args([
            "--format",
            "json",
            "query",
            "path user/partner-bot to example-upload-bucket/incoming/a",
        ])
        .output()
        .expect("bucketlog runs");
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["kind"], "path");
    assert_eq!(
        doc["path"],
        serde_json::json!([
            "arn:aws:iam::111122223333:user/partner-bot",
            "arn:aws:iam::111122223333:role/partner-uploader"
        ])
    );
    assert_eq!(doc["answer"]["decision"], "allow");
    assert_eq!(doc["answer"]["action"], "s3:PutObject");
}

#[test]
fn binary_answers_what_can_with_chains() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bucketlog"))
        .args([
            "--format",
            "json",
            "query",
            "what can user/partner-bot do on example-upload-bucket/incoming/*",
        ])
        .output()
        .expect("bucketlog runs");
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["kind"], "what-can");
    let answers = doc["answers"].as_array().expect("answers");
    let actions: Vec<&str> = answers
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    assert_eq!(actions, ["s3:PutObject"], "{doc}");
    assert_eq!(answers[0]["decision"], "allow");
    assert_eq!(
        answers[0]["via"][1],
        "arn:aws:iam::111122223333:role/partner-uploader"
    );
}

/// `--closed-context`: keys `with` does not name are absent, so a Deny on
/// `aws:SecureTransport = false` cannot fire; without it the key is free and
/// the answer conditional, with witnesses that replay.
#[test]
fn closed_context_takes_unnamed_keys_as_absent() {
    let env = "tests/scenarios/secure_transport_deny/snapshot";
    let q = "can user/dev s3:GetObject my-app-uploads/a.png";
    let answer = |args: &[&str]| -> Value {
        let out = bucketlog(args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        doc["answers"][0].clone()
    };
    let closed = answer(&[
        "--env",
        env,
        "--format",
        "json",
        "--closed-context",
        "query",
        q,
    ]);
    assert_eq!(closed["decision"], "allow", "{closed}");
    let open = answer(&["--env", env, "--format", "json", "query", q]);
    assert_eq!(open["decision"], "conditional", "{open}");
    assert_eq!(
        open["allow_witness"]["aws:SecureTransport"], "true",
        "{open}"
    );
    assert_eq!(
        open["deny_witness"]["aws:SecureTransport"], "false",
        "{open}"
    );
}

#[test]
fn binary_answers_path_to_an_action() {
    let path = |q: &str| -> Value {
        let out = bucketlog(&["--format", "json", "query", q]);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).expect("JSON")
    };
    // partner-bot reaches PutObject through partner-uploader; nothing it
    // reaches may read.
    let write = path("path user/partner-bot to write example-upload-bucket/incoming/a");
    assert_eq!(write["answer"]["action"], "s3:PutObject", "{write}");
    assert_eq!(write["path"].as_array().map(Vec::len), Some(2), "{write}");
    let read = path("path user/partner-bot to read example-upload-bucket/incoming/a");
    assert!(read["answer"].is_null(), "{read}");
}

/// A principal named by a bare name, `user/NAME` or its ARN: two users
/// named alike in two accounts make the name ambiguous (both ARNs listed),
/// and each ARN names one; a role of that name is not a user.
#[test]
fn names_resolve_to_every_principal_of_that_name() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (account, role) in [("111122223333", false), ("444455556666", true)] {
        let d = dir.path().join("accounts").join(account);
        std::fs::create_dir_all(&d).expect("creates the account");
        let user = serde_json::json!({
            "Path": "/", "UserName": "alice", "UserId": format!("AIDA{account}"),
            "Arn": format!("arn:aws:iam::{account}:user/alice"),
            "CreateDate": "2026-01-01T00:00:00+00:00",
            "UserPolicyList": [], "GroupList": [], "AttachedManagedPolicies": []
        });
        let roles = match role {
            true => serde_json::json!([{
                "Path": "/", "RoleName": "bob", "RoleId": format!("AROA{account}"),
                "Arn": format!("arn:aws:iam::{account}:role/bob"),
                "CreateDate": "2026-01-01T00:00:00+00:00",
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
                "InstanceProfileList": [], "RolePolicyList": [], "AttachedManagedPolicies": []
            }]),
            false => serde_json::json!([]),
        };
        let iam = serde_json::json!({
            "UserDetailList": [user], "GroupDetailList": [],
            "RoleDetailList": roles, "Policies": []
        });
        std::fs::write(d.join("iam.json"), iam.to_string()).expect("writes iam.json");
        std::fs::write(d.join("list-buckets.json"), r#"{"Buckets": []}"#)
            .expect("writes list-buckets.json");
    }
    let env = dir.path().to_str().expect("a UTF-8 path");
    let show = |who: &str| {
        bucketlog(&[
            "--env",
            env,
            "--format",
            "json",
            "query",
            &format!("show principal {who}"),
        ])
    };
    for ambiguous in ["alice", "user/alice"] {
        let out = show(ambiguous);
        assert_eq!(out.status.code(), Some(2), "{ambiguous}: {}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("is ambiguous")
                && text.contains("arn:aws:iam::111122223333:user/alice")
                && text.contains("arn:aws:iam::444455556666:user/alice"),
            "{ambiguous}: {text}"
        );
    }
    for arn in [
        "arn:aws:iam::111122223333:user/alice",
        "arn:aws:iam::444455556666:user/alice",
    ] {
        let out = show(arn);
        assert_eq!(out.status.code(), Some(0), "{arn}: {}", stderr(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains(arn), "{arn}");
    }
    assert_eq!(show("bob").status.code(), Some(0));
    assert_eq!(show("role/bob").status.code(), Some(0));
    let out = show("user/bob");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no principal `user/bob`"));
}
