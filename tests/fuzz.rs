//! Fuzzing the two parsers with proptest (stable toolchain, no cargo-fuzz):
//! the query language (grammar/query.lalrpop through `query::parse`) and the
//! JSON/policy loader (`load::json`, `policy::parse`, whole snapshots through
//! `load::load_paths`).
//!
//! Inputs come from three sources: arbitrary text or bytes, mutations of valid
//! inputs (insert, delete or replace a character, a token or a JSON fragment),
//! and structured generators (policy-shaped JSON trees, valid policies). The
//! properties are the error contract of cli.md and inputs.md: never panic, and
//! every error says where (a column or line:column inside the input, a JSON
//! pointer into the document) and what was expected.

use bucketlog::datalog::Decision;
use bucketlog::diag::{Diagnostic, Severity};
use bucketlog::load::json::{self, Node, Source};
use bucketlog::model::{Effect, Encryption, PolicyBody, PolicyKind};
use bucketlog::query::{self, Options, QueryError};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};
use std::path::Path;

const CASES: u32 = 256;

/// `cases` cases (scaled by PROPTEST_CASES / 256 when that is set, to fuzz
/// longer), and no proptest-regressions files written into the tree: a
/// failure prints its minimal input; keep that as a named test instead.
fn config(cases: u32) -> ProptestConfig {
    let default = ProptestConfig::default();
    let cases = match std::env::var_os("PROPTEST_CASES") {
        Some(_) => (u64::from(default.cases) * u64::from(cases) / u64::from(CASES)).max(1) as u32,
        None => cases,
    };
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..default
    }
}

// ---------------------------------------------------------------------------
// Mutation: one edit of a sequence (characters, tokens or bytes)

#[derive(Clone, Copy, Debug)]
enum Op {
    Insert,
    Delete,
    Replace,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![Just(Op::Insert), Just(Op::Delete), Just(Op::Replace)]
}

/// Inserts `new` before, deletes, or replaces with `new` the item at `at`
/// (taken modulo the length, so any index is an edit of this sequence).
fn splice<T: Clone>(items: &mut Vec<T>, op: Op, at: usize, new: &[T]) {
    match op {
        Op::Insert => {
            let i = at % (items.len() + 1);
            items.splice(i..i, new.iter().cloned());
        }
        _ if items.is_empty() => {}
        Op::Delete => {
            items.remove(at % items.len());
        }
        Op::Replace => {
            let i = at % items.len();
            items.splice(i..=i, new.iter().cloned());
        }
    }
}

// ---------------------------------------------------------------------------
// The query language

/// Words and punctuation of the query language, names of every shape, and
/// characters the lexer must refuse or count (quotes, brackets, non-ASCII).
const QUERY_TOKENS: &[&str] = &[
    "who",
    "can",
    "why",
    "not",
    "what",
    "do",
    "on",
    "prove",
    "write-only",
    "no-public-access",
    "requires",
    "public",
    "path",
    "to",
    "show",
    "principal",
    "bucket",
    "policy",
    "help",
    "with",
    "absent",
    "=",
    "!=",
    "!",
    "[",
    "]",
    ",",
    "\"",
    "\"\"",
    "\"quoted name\"",
    "\"can\"",
    "alice",
    "role/reader",
    "account:444455556666",
    "s3:GetObject",
    "s3:Get*",
    "read",
    "b/*",
    "s3://b/k",
    "arn:aws:s3:::b/k",
    "aws:SecureTransport",
    "true",
    "10.1.2.3",
    "é",
    "日本",
    "🙂",
    "\t",
    "\n",
    "",
];

const QUERY_CHARS: &[char] = &[
    ' ', '"', '[', ']', ',', '=', '!', '\t', '\n', '\r', '*', '?', '/', ':', 'é', 'ß', '日', '🙂',
    '\u{0}', '\u{feff}', '\u{200b}',
];

/// One valid query of each form of cli.md "Queries" (several for `with`).
const VALID_QUERIES: &[&str] = &[
    "who can read example-upload-bucket/*",
    "who can s3:GetObject s3://b/k with aws:SecureTransport = true",
    "can alice read b/incoming/*",
    "can user/alice s3:Get* arn:aws:s3:::b/k with aws:SourceIp = 10.1.2.3, k absent",
    "can \"public\" write b/* with aws:TagKeys = [a, b, \"c d\"]",
    "why alice read b/k",
    "why not role/reader list b with s3:prefix = incoming/*",
    "what can alice do",
    "what can account:444455556666 do on b/*",
    "prove write-only role/partner-uploader on example-upload-bucket/incoming/*",
    "prove no-public-access example-upload-bucket",
    "prove role/app write uploads/* requires s3:x-amz-server-side-encryption = aws:kms",
    "prove role/app write uploads/* requires aws:SourceVpce StringEquals vpce-1",
    "public",
    "path alice to b/k",
    "show principal alice",
    "show bucket b",
    "show policy \"my policy\"",
    "help",
    // Names need not be ASCII: columns count characters, not bytes.
    "what can josé do on b/ß/*",
    "can \"zoë\" read 日本/報告/* with aws:TagKeys = [é, ü]",
];

#[derive(Clone, Debug)]
enum QueryUnit {
    Char(char),
    Token(&'static str),
}

fn query_edit() -> impl Strategy<Value = (Op, usize, QueryUnit)> {
    let unit = prop_oneof![
        any::<char>().prop_map(QueryUnit::Char),
        select(QUERY_CHARS).prop_map(QueryUnit::Char),
        select(QUERY_TOKENS).prop_map(QueryUnit::Token),
    ];
    (op(), any::<usize>(), unit)
}

/// Applies one edit: a character edit on the characters, a token edit on the
/// space-separated words.
fn edit_query(text: &str, (op, at, unit): &(Op, usize, QueryUnit)) -> String {
    match unit {
        QueryUnit::Char(c) => {
            let mut chars: Vec<char> = text.chars().collect();
            splice(&mut chars, *op, *at, &[*c]);
            chars.into_iter().collect()
        }
        QueryUnit::Token(t) => {
            let mut words: Vec<&str> = text.split(' ').collect();
            splice(&mut words, *op, *at, &[*t]);
            words.join(" ")
        }
    }
}

fn mutated_query() -> impl Strategy<Value = String> {
    (
        select(VALID_QUERIES),
        prop::collection::vec(query_edit(), 1..4),
    )
        .prop_map(|(q, edits)| edits.iter().fold(q.to_string(), |t, e| edit_query(&t, e)))
}

/// Arbitrary text: any Unicode, the query alphabet, or a soup of tokens.
fn arbitrary_query() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z \"\\[\\],=!:/*é日-]{0,40}",
        prop::collection::vec(select(QUERY_TOKENS), 0..12).prop_map(|ts| ts.join(" ")),
    ]
}

fn any_query() -> impl Strategy<Value = String> {
    prop_oneof![arbitrary_query(), mutated_query()]
}

/// The error contract of `query::parse`: a message, and a column that points
/// at a character of the query or just past its end (1-based, in characters:
/// what a terminal shows under the caret of main.rs).
fn check_query_error(text: &str, e: &QueryError) -> Result<(), TestCaseError> {
    let len = text.chars().count();
    prop_assert!(!e.message.is_empty(), "no message for {text:?}");
    prop_assert!(
        (1..=len + 1).contains(&e.column),
        "column {} outside 1..={} (characters) for {text:?}: {}",
        e.column,
        len + 1,
        e.message
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// JSON text and policies

const FILE: &str = "fuzz/policy.json";

fn parse_json(text: &str) -> Result<Node, Diagnostic> {
    json::parse(&Source {
        file: FILE,
        outer_pointer: "",
        text,
    })
}

/// The error contract of the JSON loader: an error in `FILE`, at a line and
/// column inside `text` (or just past the end of a line), saying what was
/// expected.
fn check_json_error(text: &str, d: &Diagnostic) -> Result<(), TestCaseError> {
    prop_assert_eq!(d.severity, Severity::Error);
    prop_assert_eq!(&*d.span.file, FILE);
    prop_assert!(
        d.span.line >= 1 && d.span.column >= 1,
        "no position: {d} for {text:?}"
    );
    let lines: Vec<&str> = text.split('\n').collect();
    prop_assert!(
        d.span.line <= lines.len(),
        "line {} past the last line {} of {text:?}",
        d.span.line,
        lines.len()
    );
    let width = lines[d.span.line - 1].chars().count();
    prop_assert!(
        d.span.column <= width + 1,
        "column {} past the end of line {} ({width} characters) of {text:?}",
        d.span.column,
        d.span.line
    );
    prop_assert!(
        ["expected", "invalid JSON", "duplicate"]
            .iter()
            .any(|w| d.message.contains(w)),
        "the message does not say what was expected: {d}"
    );
    Ok(())
}

/// Decodes and parses `bytes` as a file would be; checks any error, and
/// that the parser agrees with serde_json on what is JSON (RFC 8259): both
/// accept the same texts, except that we refuse duplicate keys, serde_json
/// refuses numbers out of f64's range.
fn load_bytes(bytes: &[u8]) -> Result<Option<(String, Node)>, TestCaseError> {
    let text = match json::decode_utf8(FILE, bytes) {
        Ok(t) => t,
        Err(d) => {
            // The position is that of the bad byte in the text before it.
            let good = String::from_utf8_lossy(bytes);
            check_json_error(&good, &d)?;
            return Ok(None);
        }
    };
    let serde = serde_json::from_str::<Value>(&text);
    match parse_json(&text) {
        Ok(node) => {
            if let Err(e) = &serde {
                // Numbers beyond f64 are kept as text (policy values are strings).
                prop_assert!(
                    e.to_string().contains("number out of range"),
                    "accepted what serde_json refuses ({e}): {text:?}"
                );
            }
            Ok(Some((text, node)))
        }
        Err(d) => {
            check_json_error(&text, &d)?;
            prop_assert!(
                serde.is_err() || d.message.contains("duplicate"),
                "refused what serde_json accepts ({d}): {text:?}"
            );
            Ok(None)
        }
    }
}

const KINDS: [PolicyKind; 4] = [
    PolicyKind::Identity,
    PolicyKind::Boundary,
    PolicyKind::Bucket,
    PolicyKind::Trust,
];

/// The error contract of `policy::parse`: an invalid policy has at least one
/// error diagnostic, `Ok` has none, and every diagnostic points into the
/// document with a JSON pointer ("" for the root). With `doc`, the pointer
/// must also resolve in it.
fn check_policy(node: &Node, doc: Option<&Value>) -> Result<(), TestCaseError> {
    for kind in KINDS {
        let (body, diags) = bucketlog::policy::parse(node, kind);
        let errors = diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        match &body {
            Ok(_) => prop_assert_eq!(errors, 0, "Ok with errors ({:?}): {:?}", kind, diags),
            Err(e) => {
                prop_assert!(
                    errors > 0,
                    "Err({e}) without an error diagnostic ({kind:?})"
                );
                prop_assert!(!e.is_empty());
            }
        }
        for d in &diags {
            let p = &d.span.pointer;
            prop_assert!(
                p.is_empty() || p.starts_with('/'),
                "pointer {p:?} is neither the root nor a JSON pointer: {d}"
            );
            prop_assert!(d.span.line >= 1, "no line: {d}");
            if let Some(doc) = doc {
                prop_assert!(
                    doc.pointer(p).is_some(),
                    "pointer {p:?} is not in {doc}: {d}"
                );
            }
        }
    }
    Ok(())
}

/// Fragments that break JSON in interesting ways, or make it valid JSON but a
/// broken policy (duplicate keys, wrong types, JSONC leniencies).
const JSON_FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    "\\",
    "\\u",
    "\\ud800",
    "\\x41",
    "1e999",
    "-0",
    "01",
    "-",
    ".5",
    "+1",
    "0x1F",
    "NaN",
    "Infinity",
    "null",
    "tru",
    "true",
    "'x'",
    "/* c */",
    "//",
    "\n",
    "\r\n",
    "\t",
    "é",
    "\u{feff}",
    "\u{2028}",
    "\"Effect\": \"Allow\", ",
    "\"Sid\": \"dup\", ",
    "\"Statement\": [], ",
    "\"Version\": 1, ",
    "\"\": null, ",
    "\"Action\": \"s3:*\", ",
    "\"Condition\": {\"Bool\": {}}, ",
];

#[derive(Clone, Debug)]
enum JsonEdit {
    /// Insert, delete or replace bytes at a position.
    Bytes(Op, usize, Vec<u8>),
    /// Insert a fragment right after the n-th `{`: duplicate or unknown keys.
    AfterBrace(usize, &'static str),
}

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    // Mostly text; sometimes a byte that is not UTF-8 on its own.
    let bytes = prop_oneof![
        6 => select(JSON_FRAGMENTS).prop_map(|f| f.as_bytes().to_vec()),
        2 => any::<char>().prop_map(|c| c.to_string().into_bytes()),
        1 => select(vec![0xffu8, 0xc3, 0x80]).prop_map(|b| vec![b]),
    ];
    prop_oneof![
        3 => (op(), any::<usize>(), bytes).prop_map(|(o, at, b)| JsonEdit::Bytes(o, at, b)),
        1 => (any::<usize>(), select(JSON_FRAGMENTS)).prop_map(|(n, f)| JsonEdit::AfterBrace(n, f)),
    ]
}

fn edit_json(bytes: &mut Vec<u8>, edit: &JsonEdit) {
    match edit {
        JsonEdit::Bytes(op, at, new) => splice(bytes, *op, *at, new),
        JsonEdit::AfterBrace(n, frag) => {
            let braces: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] == b'{').collect();
            if !braces.is_empty() {
                let at = braces[n % braces.len()] + 1;
                splice(bytes, Op::Insert, at, frag.as_bytes());
            }
        }
    }
}

/// Bytes that are mostly JSON punctuation and literals, so that the parser
/// gets past the first token more often than with uniform bytes.
fn json_ish_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => select(b"{}[]\":,0123456789.-+eE \n\t\\ntrufals".to_vec()).prop_map(|b| vec![b]),
        2 => select(JSON_FRAGMENTS).prop_map(|f| f.as_bytes().to_vec()),
        1 => any::<char>().prop_map(|c| c.to_string().into_bytes()),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|ps| ps.concat())
}

// --- Policy-shaped JSON trees (valid JSON, mostly invalid policies)

const POLICY_KEYS: &[&str] = &[
    "Version",
    "Statement",
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
    "Id",
];

const OTHER_KEYS: &[&str] = &[
    "AWS",
    "Service",
    "Federated",
    "CanonicalUser",
    "StringEquals",
    "StringLike",
    "Bool",
    "NullIfExists",
    "ForAnyValue:StringLike",
    "ForAllValues:IpAddressIfExists",
    "Bogus",
    "aws:SourceIp",
    "s3:prefix",
    "aws:TagKeys",
    "",
    "a/b~c",
    "effect",
];

const POLICY_STRINGS: &[&str] = &[
    "2012-10-17",
    "2008-10-17",
    "2012-10-18",
    "Allow",
    "Deny",
    "allow",
    "*",
    "s3:GetObject",
    "s3:Get*",
    "s3:",
    ":x",
    "s 3:x",
    "arn:aws:s3:::b/*",
    "arn:aws:s3",
    "arn:aws:s3:::",
    "arn:aws:iam::111122223333:root",
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:iam::11112222333:root",
    "arn:aws:iam::*:root",
    "arn:aws:iam:us-east-1:111122223333:root",
    "arn:aws:sts::111122223333:assumed-role/r/s",
    "arn:aws:sts::111122223333:assumed-role/r",
    "arn:aws:sts::111122223333:federated-user/f",
    "111122223333",
    "AIDAEXAMPLE",
    "AROA",
    "AROA:x",
    "logging.s3.amazonaws.com",
    "true",
    "10.0.0.0/8",
    "",
    "é",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(Value::from),
        4 => select(POLICY_STRINGS).prop_map(Value::from),
        1 => ".{0,6}".prop_map(Value::from),
    ]
}

fn key() -> impl Strategy<Value = &'static str> {
    prop_oneof![select(POLICY_KEYS), select(OTHER_KEYS)]
}

fn object(entries: Vec<(&'static str, Value)>) -> Value {
    Value::Object(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<Map<_, _>>(),
    )
}

/// Any JSON value, its object keys drawn from the policy language.
fn tree() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6).prop_map(object),
        ]
    })
}

/// A value for a statement element: a string, a list of strings, a
/// Principal- or Condition-shaped object, or anything.
fn element_value() -> impl Strategy<Value = Value> {
    let string = || select(POLICY_STRINGS).prop_map(Value::from);
    let strings = || prop::collection::vec(leaf(), 0..4).prop_map(Value::Array);
    let shaped = || {
        prop::collection::vec(
            (select(OTHER_KEYS), prop_oneof![string(), strings(), tree()]),
            0..4,
        )
        .prop_map(object)
    };
    let condition = prop::collection::vec((select(OTHER_KEYS), shaped()), 0..3).prop_map(object);
    prop_oneof![3 => string(), 3 => strings(), 2 => shaped(), 2 => condition, 1 => tree()]
}

fn statement_shaped() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => prop::collection::vec((key(), element_value()), 0..8).prop_map(object),
        1 => tree(),
    ]
}

/// Documents shaped like policies: Version and Statement (an array, one
/// statement, or anything), sometimes with other keys; or any tree.
fn policy_shaped() -> impl Strategy<Value = Value> {
    let statements = prop_oneof![
        4 => prop::collection::vec(statement_shaped(), 0..4).prop_map(Value::Array),
        2 => statement_shaped(),
        1 => leaf(),
    ];
    let doc = (
        prop::option::of(leaf()),
        prop::option::of(statements),
        prop::collection::vec((key(), tree()), 0..2),
    )
        .prop_map(|(version, statements, extra)| {
            let mut entries: Vec<(&str, Value)> = Vec::new();
            entries.extend(version.map(|v| ("Version", v)));
            entries.extend(statements.map(|s| ("Statement", s)));
            entries.extend(extra);
            object(entries)
        });
    prop_oneof![5 => doc, 1 => tree()]
}

// --- Valid policies, kept as what was generated so a round trip can compare

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:Get*",
    "s3:*",
    "*",
    "s3:DeleteObject*",
    "s3:?etObject",
    "sts:AssumeRole",
    "iam:PassRole",
    "kms:Decrypt",
];

const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::b",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/incoming/*",
    "arn:aws:s3:::uploads/a.txt",
    "arn:aws:s3:::reports-2026/2026/??/*",
    "arn:aws:s3:::*/*",
    "arn:aws:iam::111122223333:role/reader",
    "arn:aws:kms:eu-west-1:111122223333:key/k",
];

const PRINCIPALS: &[(&str, &str)] = &[
    ("AWS", "*"),
    ("AWS", "111122223333"),
    ("AWS", "444455556666"),
    ("AWS", "arn:aws:iam::444455556666:root"),
    ("AWS", "arn:aws:iam::111122223333:user/alice"),
    ("AWS", "arn:aws:iam::111122223333:role/reader"),
    (
        "AWS",
        "arn:aws:sts::111122223333:assumed-role/reader/session",
    ),
    ("AWS", "AIDAEXAMPLE"),
    ("Service", "logging.s3.amazonaws.com"),
    ("Federated", "cognito-identity.amazonaws.com"),
    (
        "CanonicalUser",
        "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
    ),
];

const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringEqualsIgnoreCase",
    "ArnLike",
    "IpAddress",
    "NotIpAddress",
    "Bool",
    "NumericLessThan",
    "DateGreaterThan",
    "Null",
    "StringEqualsIfExists",
    "BoolIfExists",
    "ForAnyValue:StringEquals",
    "ForAllValues:StringLike",
];

const CONDITION_KEYS: &[&str] = &[
    "aws:SecureTransport",
    "aws:SourceIp",
    "s3:prefix",
    "s3:x-amz-server-side-encryption",
    "aws:PrincipalOrgID",
    "aws:TagKeys",
    "aws:SourceVpce",
    "aws:CurrentTime",
];

const CONDITION_VALUES: &[&str] = &[
    "true",
    "false",
    "10.0.0.0/8",
    "incoming/*",
    "aws:kms",
    "o-abc",
    "vpce-1",
    "5",
    "2026-01-01T00:00:00Z",
];

/// A list element as written: one string, or an array of them.
#[derive(Clone, Debug)]
struct Listed {
    negated: bool,
    as_array: bool,
    items: Vec<String>,
}

impl Listed {
    fn json(&self) -> Value {
        if self.as_array || self.items.len() != 1 {
            json!(self.items)
        } else {
            json!(self.items[0])
        }
    }
}

fn listed(pool: &'static [&'static str]) -> impl Strategy<Value = Listed> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(select(pool), 1..4),
    )
        .prop_map(|(negated, as_array, items)| Listed {
            negated,
            as_array,
            items: items.into_iter().map(str::to_string).collect(),
        })
}

#[derive(Clone, Debug)]
enum CondValue {
    One(String),
    Many(Vec<String>),
    Bool(bool),
}

#[derive(Clone, Debug)]
struct GenStatement {
    sid: Option<String>,
    effect: Effect,
    action: Listed,
    resource: Option<Listed>,
    /// `"*"` or `{type: [values]}`, and whether it is NotPrincipal.
    principal: Option<(bool, Value)>,
    condition: Vec<(String, Vec<(String, CondValue)>)>,
}

impl GenStatement {
    fn json(&self) -> Value {
        let mut m = Map::new();
        if let Some(sid) = &self.sid {
            m.insert("Sid".into(), json!(sid));
        }
        let effect = match self.effect {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        };
        m.insert("Effect".into(), json!(effect));
        if let Some((negated, p)) = &self.principal {
            let name = if *negated {
                "NotPrincipal"
            } else {
                "Principal"
            };
            m.insert(name.into(), p.clone());
        }
        let name = if self.action.negated {
            "NotAction"
        } else {
            "Action"
        };
        m.insert(name.into(), self.action.json());
        if let Some(r) = &self.resource {
            let name = if r.negated { "NotResource" } else { "Resource" };
            m.insert(name.into(), r.json());
        }
        if !self.condition.is_empty() {
            let ops: Map<String, Value> = self
                .condition
                .iter()
                .map(|(op, entries)| {
                    let keys: Map<String, Value> = entries
                        .iter()
                        .map(|(k, v)| {
                            let v = match v {
                                CondValue::One(s) => json!(s),
                                CondValue::Many(vs) => json!(vs),
                                CondValue::Bool(b) => json!(b),
                            };
                            (k.clone(), v)
                        })
                        .collect();
                    (op.clone(), Value::Object(keys))
                })
                .collect();
            m.insert("Condition".into(), Value::Object(ops));
        }
        Value::Object(m)
    }
}

#[derive(Clone, Debug)]
struct GenPolicy {
    kind: PolicyKind,
    version: bool,
    /// One statement written as an object rather than a one-element array.
    single: bool,
    pretty: bool,
    statements: Vec<GenStatement>,
}

impl GenPolicy {
    fn json(&self) -> Value {
        let mut m = Map::new();
        if self.version {
            m.insert("Version".into(), json!("2012-10-17"));
        }
        let stmts: Vec<Value> = self.statements.iter().map(GenStatement::json).collect();
        let stmts = match (self.single, stmts.as_slice()) {
            (true, [one]) => one.clone(),
            _ => Value::Array(stmts),
        };
        m.insert("Statement".into(), stmts);
        Value::Object(m)
    }

    fn text(&self) -> String {
        let v = self.json();
        if self.pretty {
            serde_json::to_string_pretty(&v)
        } else {
            serde_json::to_string(&v)
        }
        .expect("serialisable")
    }
}

fn principal_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(json!("*")),
        4 => prop::collection::vec(select(PRINCIPALS), 1..4).prop_map(|ps| {
            let mut m = Map::new();
            for (ty, v) in ps {
                let e = m.entry(ty).or_insert_with(|| json!([]));
                e.as_array_mut().expect("an array").push(json!(v));
            }
            Value::Object(m)
        }),
    ]
}

fn condition() -> impl Strategy<Value = Vec<(String, Vec<(String, CondValue)>)>> {
    let value = prop_oneof![
        select(CONDITION_VALUES).prop_map(|v| CondValue::One(v.into())),
        prop::collection::vec(select(CONDITION_VALUES), 1..3)
            .prop_map(|vs| CondValue::Many(vs.into_iter().map(String::from).collect())),
        any::<bool>().prop_map(CondValue::Bool),
    ];
    let keys = prop::collection::btree_map(select(CONDITION_KEYS), value, 1..3);
    prop::collection::btree_map(select(OPERATORS), keys, 0..3).prop_map(|ops| {
        ops.into_iter()
            .map(|(op, keys)| {
                let keys = keys.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                (op.to_string(), keys)
            })
            .collect()
    })
}

fn statement(kind: PolicyKind) -> impl Strategy<Value = GenStatement> {
    let resource_based = matches!(kind, PolicyKind::Bucket | PolicyKind::Trust);
    (
        prop::option::of("[A-Za-z0-9]{1,8}"),
        prop_oneof![Just(Effect::Allow), Just(Effect::Deny)],
        listed(ACTIONS),
        listed(RESOURCES),
        // A trust policy may leave Resource out.
        any::<bool>().prop_map(move |drop| drop && kind == PolicyKind::Trust),
        (any::<bool>(), principal_value()),
        condition(),
    )
        .prop_map(
            move |(sid, effect, action, resource, no_resource, principal, condition)| {
                GenStatement {
                    sid,
                    effect,
                    action,
                    resource: (!no_resource).then_some(resource),
                    principal: resource_based.then_some(principal),
                    condition,
                }
            },
        )
}

fn valid_policy() -> impl Strategy<Value = GenPolicy> {
    select(KINDS.to_vec()).prop_flat_map(|kind| {
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            prop::collection::vec(statement(kind), 1..5),
        )
            .prop_map(move |(version, single, pretty, statements)| GenPolicy {
                kind,
                version,
                single,
                pretty,
                statements,
            })
    })
}

fn mutated_policy_bytes() -> impl Strategy<Value = Vec<u8>> {
    (valid_policy(), prop::collection::vec(json_edit(), 1..4)).prop_map(|(p, edits)| {
        let mut bytes = p.text().into_bytes();
        for e in &edits {
            edit_json(&mut bytes, e);
        }
        bytes
    })
}

/// The parsed body says what the generated policy says, statement by statement.
fn check_round_trip(p: &GenPolicy, body: &PolicyBody) -> Result<(), TestCaseError> {
    prop_assert_eq!(body.statements.len(), p.statements.len());
    prop_assert_eq!(body.version.is_some(), p.version);
    for (i, (got, want)) in body.statements.iter().zip(&p.statements).enumerate() {
        prop_assert_eq!(got.effect, want.effect, "statement {}", i);
        let label = want.sid.clone().unwrap_or_else(|| i.to_string());
        prop_assert_eq!(&got.label, &label);
        prop_assert_eq!(got.action.negated, want.action.negated);
        prop_assert_eq!(&got.action.items, &want.action.items);
        match (&got.resource, &want.resource) {
            (Some(g), Some(w)) => {
                prop_assert_eq!(g.negated, w.negated);
                prop_assert_eq!(&g.items, &w.items);
            }
            (None, None) => {}
            (g, w) => {
                return Err(TestCaseError::fail(format!(
                    "statement {i}: resource {g:?}, generated {w:?}"
                )))
            }
        }
        prop_assert_eq!(
            got.principal.as_ref().map(|p| p.negated),
            want.principal.as_ref().map(|p| p.0)
        );
        let want_cond: Vec<(String, String, Vec<String>)> = want
            .condition
            .iter()
            .flat_map(|(op, entries)| {
                entries.iter().map(move |(k, v)| {
                    let vs = match v {
                        CondValue::One(s) => vec![s.clone()],
                        CondValue::Many(vs) => vs.clone(),
                        CondValue::Bool(b) => vec![b.to_string()],
                    };
                    (op.clone(), k.clone(), vs)
                })
            })
            .collect();
        let got_cond: Vec<(String, String, Vec<String>)> = got
            .condition
            .iter()
            .map(|c| (c.operator.clone(), c.key.clone(), c.values.clone()))
            .collect();
        prop_assert_eq!(got_cond, want_cond);
        prop_assert!(!got.condition_empty);
    }
    Ok(())
}

/// Texts that are not JSON: serde_json refuses them, and so must we.
fn check_refused(texts: &[&str]) {
    let accepted: Vec<&str> = texts
        .iter()
        .copied()
        .filter(|t| {
            assert!(serde_json::from_str::<Value>(t).is_err(), "{t:?} is JSON");
            parse_json(t).is_ok()
        })
        .collect();
    assert!(accepted.is_empty(), "accepted as JSON: {accepted:?}");
}

/// RFC 8259 §7: no unescaped U+0000..U+001F in strings.
#[test]
fn json_is_strict_about_control_characters_in_strings() {
    check_refused(&[
        "{\"Sid\": \"a\u{0}b\"}",
        "{\"Sid\": \"a\nb\"}",
        "{\"Sid\": \"a\tb\"}",
        "[\"\u{1f}\"]",
    ]);
}

/// RFC 8259 §2: only space, tab, LF and CR between tokens.
#[test]
fn json_is_strict_about_whitespace() {
    check_refused(&[
        "{\u{b}}",
        "{\u{c}}",
        "[1,\u{a0}2]",
        "{\u{2028}\"Statement\": []}",
        "{\"Statement\":\u{3000}[]}",
    ]);
}

// ---------------------------------------------------------------------------
// Whole snapshots

const ACCT: &str = "111122223333";

/// How a bucket policy may be written in policy.json (inputs.md §1).
#[derive(Clone, Copy, Debug)]
enum Wrapping {
    Bare,
    String,
    UrlEncoded,
}

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
}

/// A snapshot of one account: user alice with `identity` as her inline
/// policy, bucket `b` with `bucket_policy` as its policy.json.
fn snapshot(root: &Path, identity: &Value, bucket_policy: &[u8], wrapping: Wrapping) {
    let iam = json!({
        "UserDetailList": [{
            "UserName": "alice",
            "UserId": "AIDAALICE",
            "Arn": format!("arn:aws:iam::{ACCT}:user/alice"),
            "UserPolicyList": [{"PolicyName": "alice-inline", "PolicyDocument": identity}],
            "GroupList": [],
            "AttachedManagedPolicies": []
        }],
        "GroupDetailList": [],
        "RoleDetailList": [],
        "Policies": []
    });
    let base = format!("accounts/{ACCT}");
    write(
        root,
        &format!("{base}/iam.json"),
        iam.to_string().as_bytes(),
    );
    write(
        root,
        &format!("{base}/buckets/b/ownership-controls.json"),
        br#"{"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}"#,
    );
    let text = String::from_utf8_lossy(bucket_policy);
    let policy = match wrapping {
        Wrapping::Bare => bucket_policy.to_vec(),
        Wrapping::String => json!({ "Policy": text }).to_string().into_bytes(),
        Wrapping::UrlEncoded => {
            let enc =
                percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC);
            json!({ "Policy": enc.to_string() })
                .to_string()
                .into_bytes()
        }
    };
    write(root, &format!("{base}/buckets/b/policy.json"), &policy);
}

/// A valid policy of `kind` with a Version and one or two statements.
fn small_policy(kind: PolicyKind) -> impl Strategy<Value = GenPolicy> {
    prop::collection::vec(statement(kind), 1..3).prop_map(move |statements| GenPolicy {
        kind,
        version: true,
        single: false,
        pretty: true,
        statements,
    })
}

/// What policy.json may hold: a valid bucket policy or a mutated one.
/// `get-access-point` for access point `ap` of bucket `b`, as printed, or
/// with a few bytes or fragments edited.
fn access_point_bytes() -> impl Strategy<Value = Vec<u8>> {
    let valid = format!(
        r#"{{"Name": "ap", "Bucket": "b", "NetworkOrigin": "VPC", "VpcConfiguration": {{"VpcId": "vpc-1"}},
            "PublicAccessBlockConfiguration": {{"BlockPublicAcls": true, "IgnorePublicAcls": true,
            "BlockPublicPolicy": true, "RestrictPublicBuckets": false}},
            "AccessPointArn": "arn:aws:s3:us-east-1:{ACCT}:accesspoint/ap", "BucketAccountId": "{ACCT}"}}"#
    );
    fuzzed(valid)
}

/// A valid file, or it with 1–3 JSON edits.
fn fuzzed(valid: String) -> impl Strategy<Value = Vec<u8>> {
    let edited = valid.clone();
    prop_oneof![
        Just(valid.into_bytes()),
        prop::collection::vec(json_edit(), 1..4).prop_map(move |edits| {
            let mut bytes = edited.clone().into_bytes();
            for e in &edits {
                edit_json(&mut bytes, e);
            }
            bytes
        }),
    ]
}

const KEY_ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/1111aaaa-0000-0000-0000-000000000001";

/// `get-bucket-encryption` under the key, `head-object` of one object,
/// `describe-key`: valid or edited.
fn kms_files() -> impl Strategy<Value = (Vec<u8>, Vec<u8>, Vec<u8>)> {
    (
        fuzzed(format!(
            r#"{{"ServerSideEncryptionConfiguration": {{"Rules": [{{"ApplyServerSideEncryptionByDefault":
                {{"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "{KEY_ARN}"}}, "BucketKeyEnabled": true}}]}}}}"#
        )),
        fuzzed(format!(
            r#"{{"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "{KEY_ARN}", "ContentLength": 3}}"#
        )),
        fuzzed(format!(
            r#"{{"KeyMetadata": {{"AWSAccountId": "{ACCT}", "KeyId": "1111aaaa-0000-0000-0000-000000000001",
                "Arn": "{KEY_ARN}", "Enabled": true, "KeyState": "Enabled", "KeyManager": "CUSTOMER"}}}}"#
        )),
    )
}

/// A fuzzed snapshot directory: it loads, and every diagnostic names a file
/// of it with a position.
fn load_fuzzed(dir: &Path) -> Result<bucketlog::model::Estate, TestCaseError> {
    let estate = bucketlog::load::load_paths(&[dir.to_path_buf()])
        .map_err(|d| TestCaseError::fail(format!("a snapshot directory must load: {d}")))?;
    let root = dir.display().to_string();
    for d in &estate.diagnostics {
        prop_assert!(
            d.span.file.starts_with(&root),
            "diagnostic outside the snapshot: {d}"
        );
        prop_assert!(
            d.span.line >= 1 || !d.span.pointer.is_empty(),
            "diagnostic without a position: {d}"
        );
    }
    Ok(estate)
}

/// A query on a fuzzed estate: answered, no sanity row, every `unknown`
/// with its reason, and every answer as `ok` wants it.
fn answered(
    estate: &bucketlog::model::Estate,
    q: &str,
    ok: impl Fn(&query::Answer) -> Result<(), &'static str>,
) -> Result<query::Outcome, TestCaseError> {
    let o = query::answer(estate, q, Options::default())
        .map_err(|e| TestCaseError::fail(format!("{q}: {e:?}")))?;
    prop_assert_eq!(o.sanity_violations, 0, "{}", q);
    for a in &o.answers {
        prop_assert!(
            a.decision != Decision::Unknown || a.reason.is_some(),
            "unknown without a reason: {a:?}"
        );
        ok(a).map_err(|why| TestCaseError::fail(format!("{q}: {why}: {a:?}")))?;
    }
    Ok(o)
}

fn bucket_policy_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        small_policy(PolicyKind::Bucket).prop_map(|p| p.text().into_bytes()),
        mutated_policy_bytes(),
    ]
}

// ---------------------------------------------------------------------------
// The properties

proptest! {
    #![proptest_config(config(CASES))]

    /// Whatever is typed, `query::parse` returns; an error names a column.
    #[test]
    fn query_parser_never_panics(text in any_query()) {
        if let Err(e) = query::parse(&text) {
            prop_assert!(e.column >= 1, "column 0 for {text:?}: {}", e.message);
        }
    }

    /// The column of a parse error points into the query, counted in characters.
    #[test]
    fn query_error_columns_are_inside_the_query(text in any_query()) {
        if let Err(e) = query::parse(&text) {
            check_query_error(&text, &e)?;
        }
    }

    /// The same for ASCII-only queries, where bytes and characters agree:
    /// keeps exploring the grammar's error paths whatever the column bug does.
    #[test]
    fn query_error_columns_are_inside_ascii_queries(
        text in prop_oneof![
            "[ -~]{0,40}",
            mutated_query().prop_filter("ASCII", |t| t.is_ascii()),
        ]
    ) {
        if let Err(e) = query::parse(&text) {
            check_query_error(&text, &e)?;
        }
    }

    /// Queries the grammar accepts keep being accepted with extra blanks
    /// around the words, and parse to the same kind.
    #[test]
    fn valid_queries_parse_with_any_blanks(q in select(VALID_QUERIES), pad in "[ \t\n]{0,3}") {
        let plain = query::parse(q).map_err(|e| TestCaseError::fail(format!("{q}: {e:?}")))?;
        let padded = format!("{pad}{q}{pad}");
        let again = query::parse(&padded)
            .map_err(|e| TestCaseError::fail(format!("{padded:?}: {e:?}")))?;
        prop_assert_eq!(plain.kind(), again.kind());
    }

    /// Arbitrary bytes: decoding and parsing never panic; errors have a
    /// position inside the text and say what was expected.
    #[test]
    fn json_parser_never_panics_on_bytes(
        bytes in prop_oneof![prop::collection::vec(any::<u8>(), 0..200), json_ish_bytes()]
    ) {
        if let Some((_, node)) = load_bytes(&bytes)? {
            check_policy(&node, None)?;
        }
    }

    /// Valid policy documents with a few bytes or fragments inserted, deleted
    /// or replaced: the same contract, and what still parses as JSON goes
    /// through the policy grammar without panicking.
    #[test]
    fn json_parser_never_panics_on_mutated_policies(bytes in mutated_policy_bytes()) {
        if let Some((text, node)) = load_bytes(&bytes)? {
            // What serde_json reads, the pointers must resolve in (duplicate
            // keys are rejected by our parser, so the two agree on the tree).
            let doc: Option<Value> = serde_json::from_str(&text).ok();
            check_policy(&node, doc.as_ref())?;
        }
    }

    /// Random JSON trees shaped like policies: `policy::parse` never panics;
    /// an invalid policy has error diagnostics whose pointers resolve in the
    /// document.
    #[test]
    fn policy_parser_never_panics_on_policy_shaped_json(doc in policy_shaped()) {
        let text = doc.to_string();
        let node = parse_json(&text)
            .map_err(|d| TestCaseError::fail(format!("serde_json output rejected: {d}: {text}")))?;
        check_policy(&node, Some(&doc))?;
    }

    /// A generated valid policy parses back to what was generated.
    #[test]
    fn valid_policies_round_trip(p in valid_policy()) {
        let text = p.text();
        let (_, node) = load_bytes(text.as_bytes())?
            .ok_or_else(|| TestCaseError::fail(format!("valid JSON rejected: {text}")))?;
        let (body, diags) = bucketlog::policy::parse(&node, p.kind);
        let body = body.map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert!(diags.is_empty(), "diagnostics for a valid policy: {:?}\n{}", diags, text);
        check_round_trip(&p, &body)?;
    }
}

proptest! {
    // Each case writes a snapshot and runs the rules twice: fewer cases.
    #![proptest_config(config(CASES / 8))]

    /// Whole snapshots with a valid, broken or randomly wrapped bucket
    /// policy: loading never fails for a snapshot directory, diagnostics name
    /// files of the snapshot with a position, and queries about the bucket
    /// are answered (unknown where the policy is broken) without panicking.
    #[test]
    fn snapshots_with_fuzzed_policies_load_and_answer(
        identity in small_policy(PolicyKind::Identity).prop_map(|p| p.json()),
        policy in bucket_policy_bytes(),
        wrapping in prop_oneof![Just(Wrapping::Bare), Just(Wrapping::String), Just(Wrapping::UrlEncoded)],
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        snapshot(dir.path(), &identity, &policy, wrapping);
        let estate = load_fuzzed(dir.path())?;
        // semantics.md 2.1: an invalid policy's statements are unknown, never
        // ignored; one of them may be a Deny, so nothing on `b` is an allow.
        let bucket_policy_valid = estate
            .policies
            .iter()
            .filter(|p| p.kind == PolicyKind::Bucket)
            .all(|p| p.body.is_ok());
        for q in ["can alice read b/incoming/x.txt", "who can write b/*"] {
            answered(&estate, q, |a| {
                (bucket_policy_valid || a.decision != Decision::Allow)
                    .then_some(())
                    .ok_or("allow despite an invalid bucket policy")
            })?;
        }
    }
}

proptest! {
    #![proptest_config(config(CASES / 8))]

    /// SSE-KMS files with JSON edits (the bucket's default encryption, an
    /// object's head, the key's description; the key policy a fuzzed
    /// policy): the snapshot loads with every diagnostic at a position,
    /// and a read through a key that is not loaded, or whose settings or
    /// policy cannot be read, is never an allow.
    #[test]
    fn snapshots_with_fuzzed_kms_files_load_and_answer(
        identity in small_policy(PolicyKind::Identity).prop_map(|p| p.json()),
        (encryption, head, key) in kms_files(),
        key_policy in bucket_policy_bytes(),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        snapshot(dir.path(), &identity, br#"{"Version": "2012-10-17", "Statement": []}"#, Wrapping::Bare);
        let base = format!("accounts/{ACCT}");
        write(dir.path(), &format!("{base}/buckets/b/encryption.json"), &encryption);
        write(dir.path(), &format!("{base}/buckets/b/objects/x.txt.head.json"), &head);
        let kdir = format!("{base}/kms/1111aaaa-0000-0000-0000-000000000001");
        write(dir.path(), &format!("{kdir}/key.json"), &key);
        write(dir.path(), &format!("{kdir}/policy.json"), &key_policy);
        let estate = load_fuzzed(dir.path())?;
        let bucket = &estate.buckets[0];
        // Whether a read under this encryption may be an allow at all.
        let may_allow = |e: &Result<Encryption, String>| match e {
            Ok(Encryption::S3Managed) | Ok(Encryption::Kms { key: None, .. }) => true,
            Ok(Encryption::Kms { key: Some(k), .. }) => estate
                .kms_key_named(ACCT, k)
                .and_then(|i| estate.kms_keys[i].policy)
                .is_some_and(|p| estate.policies[p].body.is_ok()),
            Err(_) => false,
        };
        let listed = bucket.objects.iter().find(|o| o.key == "x.txt");
        let of_x = listed.and_then(|o| o.encryption.as_ref()).unwrap_or(&bucket.encryption);
        for (q, encryption) in [("can alice read b/x.txt", of_x), ("can alice read b/y.txt", &bucket.encryption)] {
            let allowed = may_allow(encryption);
            answered(&estate, q, |a| {
                (allowed || a.decision != Decision::Allow)
                    .then_some(())
                    .ok_or("allow of a read whose key or settings could not be read")
            })?;
        }
        answered(&estate, "who can read b/*", |_| Ok(()))?;
    }

    /// Snapshots with a fuzzed `access-point.json` and access point policy:
    /// loading never fails, diagnostics name a file of the snapshot with a
    /// position, an access point that cannot be read is listed as such (never
    /// dropped silently), and queries are answered — a proof on the bucket
    /// is never `proved` while an access point is unreadable, and nothing
    /// through an access point whose policy is invalid is an allow.
    #[test]
    fn snapshots_with_fuzzed_access_points_load_and_answer(
        identity in small_policy(PolicyKind::Identity).prop_map(|p| p.json()),
        point in access_point_bytes(),
        policy in bucket_policy_bytes(),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        snapshot(dir.path(), &identity, br#"{"Version": "2012-10-17", "Statement": []}"#, Wrapping::Bare);
        write(dir.path(), &format!("accounts/{ACCT}/access-points/ap/access-point.json"), &point);
        write(dir.path(), &format!("accounts/{ACCT}/access-points/ap/policy.json"), &policy);
        let estate = load_fuzzed(dir.path())?;
        prop_assert_eq!(
            estate.access_points.len() + estate.unreadable_access_points.len(),
            1,
            "the access point is neither loaded nor listed as unreadable"
        );
        let policy_valid = estate
            .policies
            .iter()
            .filter(|p| p.kind == PolicyKind::AccessPoint)
            .all(|p| p.body.is_ok());
        for q in ["who can write b/*", "can alice read b/x.txt", "prove no-public-access b"] {
            let o = answered(&estate, q, |a| {
                (policy_valid || a.access_point.is_none() || a.decision != Decision::Allow)
                    .then_some(())
                    .ok_or("allow through an access point whose policy is invalid")
            })?;
            if let Some(p) = &o.proof {
                prop_assert!(
                    estate.unreadable_access_points.is_empty()
                        || p.result != bucketlog::query::prove::ProofResult::Proved,
                    "proved despite an unreadable access point"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Conditions: arbitrary operator/key/value blocks through the solver

mod conditions {
    use super::config;
    use bucketlog::model::ConditionEntry;
    use bucketlog::smt::{self, keys::Caller, keys::RequestKeys, Verdict};
    use proptest::prelude::*;
    use proptest::sample::select;
    use std::collections::HashMap;

    fn operator() -> impl Strategy<Value = String> {
        let base = select(vec![
            "StringEquals",
            "StringNotEquals",
            "StringEqualsIgnoreCase",
            "StringNotEqualsIgnoreCase",
            "StringLike",
            "StringNotLike",
            "NumericEquals",
            "NumericLessThan",
            "NumericGreaterThanEquals",
            "DateEquals",
            "DateLessThan",
            "Bool",
            "BinaryEquals",
            "IpAddress",
            "NotIpAddress",
            "ArnEquals",
            "ArnLike",
            "ArnNotLike",
            "Null",
            "Bogus",
        ]);
        (
            select(vec!["", "ForAllValues:", "ForAnyValue:", "Weird:"]),
            base,
            any::<bool>(),
        )
            .prop_map(|(set, op, if_exists)| {
                format!("{set}{op}{}", if if_exists { "IfExists" } else { "" })
            })
    }

    fn key() -> impl Strategy<Value = String> {
        select(vec![
            "aws:SourceIp",
            "aws:SecureTransport",
            "aws:CurrentTime",
            "aws:EpochTime",
            "aws:username",
            "aws:PrincipalArn",
            "aws:PrincipalTag/team",
            "aws:TagKeys",
            "aws:SourceVpce",
            "s3:prefix",
            "s3:max-keys",
            "s3:x-amz-acl",
            "s3:RequestObjectTagKeys",
            "ec2:Region",
            "aws:NoSuchKey",
            "AWS:SOURCEIP",
            "sts:ExternalId",
        ])
        .prop_map(str::to_string)
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            select(vec![
                "",
                "*",
                "?",
                "true",
                "FALSE",
                "10.0.0.0/8",
                "10.0.0.0/33",
                "::1",
                "2001:db8::/32",
                "2026-11-24T00:00:00Z",
                "2026-13-45",
                "1700000000",
                "12.5",
                "-3",
                "1e9",
                "arn:aws:s3:::b/*",
                "arn:aws:iam::*:role/x?",
                "not-an-arn",
                "${aws:username}",
                "home/${aws:username}/*",
                "${aws:PrincipalTag/team, 'none'}",
                "${",
                "${*}${?}${$}",
                "a\\b",
                "é",
                "x*y*z",
            ])
            .prop_map(str::to_string),
            "[ -~]{0,12}",
        ]
    }

    fn entry() -> impl Strategy<Value = ConditionEntry> {
        (operator(), key(), proptest::collection::vec(value(), 1..3)).prop_map(
            |(operator, key, values)| ConditionEntry {
                operator,
                key,
                values,
                span: Default::default(),
            },
        )
    }

    fn caller() -> impl Strategy<Value = Caller> {
        select(vec![
            Caller::User {
                arn: "arn:aws:iam::111122223333:user/alice".into(),
                account: "111122223333".into(),
                name: "alice".into(),
                unique_id: Some("AIDAALICE".into()),
                tags: Some(vec![("team".into(), "red".into())]),
            },
            Caller::Role {
                arn: "arn:aws:iam::111122223333:role/r".into(),
                account: "111122223333".into(),
                unique_id: None,
            },
            Caller::Anonymous,
            Caller::Outside {
                account: "444455556666".into(),
            },
            Caller::Service {
                name: "logging.s3.amazonaws.com".into(),
            },
        ])
    }

    proptest! {
        #![proptest_config(config(64))]

        /// Any block, for any caller and action, with or without fixed keys:
        /// a verdict, never a panic; and the ways it can go replay its verdict.
        #[test]
        fn condition_blocks_never_panic(
            entries in proptest::collection::vec(entry(), 1..4),
            caller in caller(),
            action in select(vec!["s3:GetObject", "s3:ListBucket", "s3:PutObject", "sts:AssumeRole"]),
            fix in proptest::option::of((key(), proptest::collection::vec(value(), 0..2))),
            version in select(vec![Some("2012-10-17"), Some("2008-10-17"), None]),
        ) {
            let mut fixed = HashMap::new();
            if let Some((k, v)) = fix {
                fixed.insert(k.to_ascii_lowercase(), v);
            }
            let req = RequestKeys {
                caller,
                action,
                resource_account: "111122223333",
                fixed: &fixed,
                constraints: &[],
                closed: false,
                org: None,
                access_point: None,
                kms: None,
            };
            let verdict = smt::condition(&entries, version, &req);
            if let Some(ways) = smt::assignments(&[(entries.as_slice(), version)], &req, 16) {
                // Always and Never have exactly one way; Sometimes has both.
                match verdict {
                    Verdict::Always | Verdict::Never => prop_assert_eq!(ways.len(), 1),
                    Verdict::Sometimes => prop_assert_eq!(ways.len(), 2),
                    Verdict::Unknown(_) => {}
                }
            }
        }
    }
}
