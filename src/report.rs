//! Rendering answers: the JSON wire shape of cli.md and the text output.
//! Only this module knows either format.

use crate::check::{CheckResult, Report};
use crate::datalog::{Decision, Guard};
use crate::diag::Diagnostic;
use crate::diff::Change;
use crate::query::prove::{Proof, ProofResult};
use crate::query::{Answer, Outcome, QueryError, Reason};
use serde_json::{json, Value};

fn reason_json(r: &Reason) -> Value {
    json!({
        "effect": r.effect,
        "layer": r.layer,
        "policy": &*r.policy,
        "statement": r.statement.as_deref(),
        "file": &*r.file,
        "pointer": &*r.pointer,
        "line": r.line,
    })
}

/// The order `why` shows layers in: the ceilings, the principal's side, the resource's side.
const LAYER_ORDER: [&str; 11] = [
    "scp",
    "rcp",
    "boundary",
    "identity",
    "trust",
    "access-point-policy",
    "bucket-policy",
    "acl",
    "bpa",
    "ownership",
    "mfa-delete",
];

fn guard_name(g: Guard) -> &'static str {
    match g {
        Guard::Definite => "applies",
        Guard::Conditional => "conditional",
        Guard::Unknown => "unknown",
    }
}

/// `why`: per layer, the statements that spoke and whether each decided,
/// and whether the layer is one an implicit deny lacked.
fn layers_json(a: &Answer) -> Value {
    let layers: Vec<Value> = LAYER_ORDER
        .iter()
        .filter_map(|&layer| {
            let statements: Vec<Value> = a
                .considered
                .iter()
                .filter(|(r, _)| r.layer == layer)
                .map(|(r, g)| {
                    let mut v = reason_json(r);
                    v["applies"] = json!(guard_name(*g));
                    v["decides"] = json!(a.because.contains(r));
                    v
                })
                .collect();
            let blocked = a.blocked_by.contains(&layer);
            (blocked || !statements.is_empty())
                .then(|| json!({"layer": layer, "blocked": blocked, "statements": statements}))
        })
        .collect();
    json!(layers)
}

fn answer_json(a: &Answer) -> Value {
    let (decision, deny) = a.decision.names();
    let mut because: Vec<Value> = a.because.iter().map(reason_json).collect();
    // An implicit deny names each required layer that did not allow (semantics.md 4.4).
    because.extend(
        a.blocked_by
            .iter()
            .map(|l| json!({"effect": "None", "layer": l, "statement": null})),
    );
    // An allow that needs no statement says why instead.
    because.extend(a.implicit.iter().map(|why| {
        json!({"effect": "Allow", "layer": "identity", "policy": null, "statement": null, "note": why})
    }));
    let mut v = json!({
        "principal": a.principal,
        "action": &*a.action,
        "resource": &*a.resource,
        "decision": decision,
        "deny": deny,
        "allow_witness": a.allow_witness.as_deref(),
        "deny_witness": a.deny_witness.as_deref(),
        "via": a.via,
        "because": because,
        "blocked_by": a.blocked_by,
        "reason": a.reason,
    });
    if let Some(ap) = &a.access_point {
        v["access_point"] = json!(ap);
    }
    if let Some((action, key)) = &a.kms_key {
        v["kms_action"] = json!(action);
        v["kms_key"] = json!(key);
    }
    // Where only part of a glob is granted or denied (conditional answers).
    for side in ["allowed", "denied"] {
        let patterns: Vec<&str> = a
            .partial
            .iter()
            .filter(|(s, _)| *s == side)
            .map(|(_, p)| p.as_str())
            .collect();
        if !patterns.is_empty() {
            v[format!("{side}_under")] = json!(patterns);
        }
    }
    v
}

fn proof_json(o: &Outcome, p: &Proof) -> Value {
    let counterexample = p.counterexample.as_ref().map(|(a, w)| {
        let mut c = json!({
            "principal": a.principal,
            "action": &*a.action,
            "resource": &*a.resource,
            "context": w,
            "via": a.via,
            "because": a.because.iter().map(reason_json).collect::<Vec<_>>(),
        });
        if let Some(ap) = &a.access_point {
            c["access_point"] = json!(ap);
        }
        c
    });
    let mut v = json!({
        "query": o.query,
        "kind": "prove",
        "property": p.property,
        "result": proof_result(p.result),
        "counterexample": counterexample,
        "reason": p.reason,
    });
    // What the proof leaves outside (a CDN in front of the bucket).
    if !o.notes.is_empty() {
        v["notes"] = json!(o.notes);
    }
    v
}

pub fn proof_result(r: ProofResult) -> &'static str {
    match r {
        ProofResult::Proved => "proved",
        ProofResult::Refuted => "refuted",
        ProofResult::Unknown => "unknown",
    }
}

fn proof_text(p: &Proof) -> String {
    let mut out = format!("  {}\n", proof_result(p.result));
    if let Some((a, w)) = &p.counterexample {
        out.push_str(&format!(
            "      by {} {} {}\n",
            a.principal, a.action, a.resource
        ));
        if a.via.len() > 1 {
            out.push_str(&format!("      via {}\n", a.via.join(" → ")));
        }
        if !w.is_empty() {
            out.push_str(&format!("      with {}\n", witness_text(w)));
        }
        for r in a.because.iter() {
            out.push_str(&format!("      because {}\n", reason_text(r)));
        }
    }
    if let Some(r) = &p.reason {
        out.push_str(&format!("      {r}\n"));
    }
    out
}

pub fn outcome_json(o: &Outcome) -> Value {
    document_json(o).unwrap_or_else(|| {
        json!({
            "query": o.query,
            "kind": o.kind,
            "answers": o.answers.iter().map(|a| listed_answer_json(o, a)).collect::<Vec<_>>(),
        })
    })
}

/// The outcomes that are not a list of answers (a proof, `show`, `path`),
/// as their whole document.
fn document_json(o: &Outcome) -> Option<Value> {
    if let Some(p) = &o.proof {
        return Some(proof_json(o, p));
    }
    if o.kind == "show" {
        let shown: Vec<Value> = o
            .shown
            .iter()
            .map(|s| {
                let items: Vec<Value> = s
                    .items
                    .iter()
                    .map(|i| {
                        let mut v = json!({"field": i.field, "value": i.value});
                        if let Some(span) = &i.source {
                            v["file"] = json!(&*span.file);
                            v["pointer"] = json!(span.pointer);
                            v["line"] = json!(span.line);
                        }
                        v
                    })
                    .collect();
                json!({"kind": s.kind, "name": s.name, "items": items})
            })
            .collect();
        return Some(json!({"query": o.query, "kind": o.kind, "shown": shown}));
    }
    (o.kind == "path").then(|| {
        let answer = o.answers.first();
        json!({
            "query": o.query,
            "kind": o.kind,
            "path": answer.map(|a| &a.via),
            "answer": answer.map(answer_json),
        })
    })
}

/// One answer of a list; `why` and `public` show what spoke to each request.
fn listed_answer_json(o: &Outcome, a: &Answer) -> Value {
    let mut v = answer_json(a);
    if o.kind == "why" || o.kind == "public" {
        v["layers"] = layers_json(a);
        if o.kind == "why" && a.via.len() > 1 {
            v["hops"] = a
                .hops
                .iter()
                .map(|h| {
                    let mut hv = answer_json(h);
                    hv["layers"] = layers_json(h);
                    hv
                })
                .collect();
        }
    }
    v
}

/// `outcome_json`, written as it is built: a list of answers one answer at
/// a time, so that the document never lives whole in memory (a large
/// estate's `who can` has 131,000 answers: 1.5 GB as one `Value`). The same
/// bytes as `outcome_json(o).to_string()`.
pub fn write_outcome_json(o: &Outcome, out: &mut impl std::io::Write) -> std::io::Result<()> {
    if let Some(document) = document_json(o) {
        return serde_json::to_writer(out, &document).map_err(Into::into);
    }
    out.write_all(b"{\"query\":")?;
    serde_json::to_writer(&mut *out, &o.query)?;
    out.write_all(b",\"kind\":")?;
    serde_json::to_writer(&mut *out, &o.kind)?;
    out.write_all(b",\"answers\":[")?;
    for (i, a) in o.answers.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, &listed_answer_json(o, a))?;
    }
    out.write_all(b"]}")
}

/// `write_outcome_json` on standard output, then a newline: what `query
/// --format json` and the REPL's JSON mode print.
pub fn print_outcome_json(o: &Outcome) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    write_outcome_json(o, &mut out)
        .and_then(|()| writeln!(out))
        .and_then(|()| out.flush())
        .expect("failed printing to stdout");
}

pub fn query_error_json(e: &QueryError, query: &str) -> Value {
    json!({"error": {"message": e.message, "query": query, "column": e.column}})
}

pub fn diagnostic_json(d: &Diagnostic) -> Value {
    json!({"error": {
        "message": d.message,
        "file": &*d.span.file,
        "pointer": d.span.pointer,
        "line": d.span.line,
        "column": d.span.column,
    }})
}

fn reason_text(r: &Reason) -> String {
    let stmt = r
        .statement
        .as_deref()
        .map(|s| format!(" statement {s}"))
        .unwrap_or_default();
    let at = match (r.file.is_empty(), r.line) {
        (true, _) => String::new(),
        (false, 0) => format!(" ({})", r.file),
        (false, line) => format!(" ({}:{line})", r.file),
    };
    format!("{} {} `{}`{stmt}{at}", r.effect, r.layer, r.policy)
}

/// How answers are laid out as text (issue 12): `who can` folds each
/// principal's answers into one line unless `chains` asks for every answer
/// with its chain and statements; `limit` caps the folded lines.
#[derive(Clone, Copy, Debug, Default)]
pub struct View {
    pub chains: bool,
    pub limit: Option<usize>,
}

pub fn outcome_text(o: &Outcome, view: View) -> String {
    let mut out = format!("{}\n", o.query);
    if o.kind == "help" {
        out.push_str(HELP);
        return out;
    }
    if let Some(p) = &o.proof {
        out.push_str(&proof_text(p));
        for n in &o.notes {
            out.push_str(&format!("  note: {n}\n"));
        }
        return out;
    }
    if o.kind == "show" {
        for s in &o.shown {
            out.push_str(&format!("  {} {}\n", s.kind, s.name));
            for i in &s.items {
                let at = i
                    .source
                    .as_ref()
                    .map(|s| match s.line {
                        0 => format!("  ({})", s.file),
                        n => format!("  ({}:{n})", s.file),
                    })
                    .unwrap_or_default();
                out.push_str(&format!("    {:<13} {}{at}\n", i.field, i.value));
            }
        }
        return out;
    }
    if let (Some(a), "path") = (o.answers.first(), o.kind) {
        out.push_str(&format!("  path: {}\n", a.via.join(" → ")));
    }
    if o.answers.is_empty() {
        out.push_str(if o.kind == "who-can" {
            "  nobody\n"
        } else {
            "  no answer\n"
        });
    }
    if o.kind == "who-can" && !view.chains && !o.answers.is_empty() {
        out.push_str(&folded_text(&o.answers, view.limit));
        for n in &o.notes {
            out.push_str(&format!("  note: {n}\n"));
        }
        return out;
    }
    if o.kind == "what-can" {
        out.push_str(&grouped_text(&o.answers));
        for n in &o.notes {
            out.push_str(&format!("  note: {n}\n"));
        }
        return out;
    }
    for a in &o.answers {
        let (d, kind) = a.decision.names();
        let d = kind.map_or_else(|| d.to_string(), |k| format!("{d} ({k})"));
        out.push_str(&format!(
            "  {d:<16} {}  {}  {}\n",
            a.principal, a.action, a.resource
        ));
        if a.via.len() > 1 {
            out.push_str(&format!("      via {}\n", a.via.join(" → ")));
        }
        if let Some(ap) = &a.access_point {
            out.push_str(&format!("      through access point {ap}\n"));
        }
        if let Some((action, key)) = &a.kms_key {
            out.push_str(&format!("      needs {action} on {key}\n"));
        }
        for r in a.because.iter() {
            out.push_str(&format!("      because {}\n", reason_text(r)));
        }
        for why in &a.implicit {
            out.push_str(&format!("      because {why}\n"));
        }
        if !a.blocked_by.is_empty() {
            out.push_str(&format!("      blocked by: {}\n", a.blocked_by.join(", ")));
        }
        if let Some(r) = &a.reason {
            out.push_str(&format!("      unknown: {r}\n"));
        }
        if o.kind == "why" {
            out.push_str(&layers_text(a, "      "));
            for hop in &a.hops {
                let (d, kind) = hop.decision.names();
                let d = kind.map_or_else(|| d.to_string(), |k| format!("{d} ({k})"));
                out.push_str(&format!(
                    "      hop {} → {}: {d}\n",
                    hop.principal, hop.resource
                ));
                for r in hop.because.iter() {
                    out.push_str(&format!("          because {}\n", reason_text(r)));
                }
                if let Some(r) = &hop.reason {
                    out.push_str(&format!("          unknown: {r}\n"));
                }
                out.push_str(&layers_text(hop, "          "));
            }
        }
        if o.kind == "public" && a.blocked_by.contains(&"bpa") {
            for (r, _) in a.considered.iter().filter(|(r, _)| r.effect == "Allow") {
                out.push_str(&format!(
                    "      neutralised by Block Public Access: {}\n",
                    reason_text(r)
                ));
            }
        }
        for (side, w) in [("allowed", &a.allow_witness), ("denied", &a.deny_witness)] {
            if let Some(w) = w {
                out.push_str(&format!("      {side} when {}\n", witness_text(w)));
            }
        }
        for (side, pattern) in a.partial.iter() {
            out.push_str(&format!("      {side} under {pattern}\n"));
        }
    }
    for n in &o.notes {
        out.push_str(&format!("  note: {n}\n"));
    }
    out
}

/// `who can` at the size of an organisation: one line per principal — its
/// most permissive answer (a direct one before a chain), the actions that
/// share it, the chain it goes through, its condition in words — with how
/// many answers are folded under it, then a summary line.
fn folded_text(answers: &[Answer], limit: Option<usize>) -> String {
    let mut order: Vec<&str> = Vec::new();
    let mut by: std::collections::HashMap<&str, Vec<&Answer>> = Default::default();
    for a in answers {
        let list = by.entry(a.principal.as_str()).or_default();
        if list.is_empty() {
            order.push(a.principal.as_str());
        }
        list.push(a);
    }
    let mut out = String::new();
    let mut counts = [0usize; 3];
    for (i, p) in order.iter().enumerate() {
        let list = &by[p];
        let best = list
            .iter()
            .min_by_key(|a| a.rank())
            .expect("a principal has an answer");
        counts[match best.decision {
            Decision::Allow => 0,
            Decision::Conditional => 1,
            _ => 2,
        }] += 1;
        if limit.is_some_and(|n| i >= n) {
            continue;
        }
        let mut actions: Vec<&str> = Vec::new();
        for a in list.iter().filter(|a| a.decision == best.decision) {
            if !actions.contains(&&*a.action) {
                actions.push(&a.action);
            }
        }
        let mut line = format!(
            "  {:<12} {p}  {}",
            best.decision.names().0,
            actions.join(", ")
        );
        if best.via.len() > 1 {
            line.push_str(&format!("  via {}", best.via[1..].join(" → ")));
        }
        if let Some(ap) = &best.access_point {
            line.push_str(&format!("  through access point {ap}"));
        }
        if let Some(words) = condition_words(best) {
            line.push_str("  ");
            line.push_str(&words);
        }
        let folded = list.len() - actions.len();
        if folded > 0 {
            line.push_str(&format!("  (+{folded} more)"));
        }
        out.push_str(&line);
        out.push('\n');
    }
    if let Some(n) = limit.filter(|&n| n < order.len()) {
        out.push_str(&format!(
            "  … {} more principal(s) not shown (--limit {n})\n",
            order.len() - n
        ));
    }
    let [allow, conditional, unknown] = counts;
    out.push_str(&format!(
        "  {} principal(s): {allow} allow, {conditional} conditional, {unknown} unknown \
         (--chains lists every answer with its chain and statements)\n",
        order.len()
    ));
    out
}

/// A witness as `with` would fix it: `k = v`, `k absent`.
/// A conditional or unknown answer's condition in words, on one line: the
/// allowed side when it is known, else the denied side (`allowed when
/// aws:SecureTransport = true`); an unknown answer's reason. `who can`'s
/// folded lines and the graph's edge labels read it.
pub fn condition_words(a: &Answer) -> Option<String> {
    let under = |side: &str| a.partial.iter().find(|(s, _)| *s == side);
    let mut words = match (
        &a.allow_witness,
        under("allowed"),
        &a.deny_witness,
        under("denied"),
    ) {
        (Some(w), ..) => Some(format!("allowed when {}", witness_text(w))),
        (None, Some((_, p)), ..) => Some(format!("allowed under {p}")),
        (None, None, Some(w), _) => Some(format!("denied when {}", witness_text(w))),
        (None, None, None, Some((_, p))) => Some(format!("denied under {p}")),
        _ => None,
    };
    if let Some(r) = &a.reason {
        let unknown = format!("unknown: {r}");
        words = Some(match words {
            Some(w) => format!("{w}  {unknown}"),
            None => unknown,
        });
    }
    words
}

fn witness_text(w: &crate::query::Witness) -> String {
    let items: Vec<String> = w
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k} = {v}"),
            None => format!("{k} absent"),
        })
        .collect();
    items.join(", ")
}

/// `why` as a short tree: one branch per layer that spoke or was lacking.
fn layers_text(a: &Answer, indent: &str) -> String {
    let mut lines = Vec::new();
    for layer in LAYER_ORDER {
        for (r, g) in a.considered.iter().filter(|(r, _)| r.layer == layer) {
            let decides = if a.because.contains(r) {
                ", decides"
            } else {
                ""
            };
            lines.push(format!(
                "{layer}: {} — {}{decides}",
                reason_text(r),
                guard_name(*g)
            ));
        }
        if a.blocked_by.contains(&layer) {
            lines.push(format!("{layer}: {}", blocked_text(layer)));
        }
    }
    if lines.is_empty() {
        lines.push("no statement speaks to this request".into());
    }
    let last = lines.len() - 1;
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{indent}{} {l}\n", if i == last { "└─" } else { "├─" }))
        .collect()
}

/// What a layer in `blocked_by` did. Block Public Access and Object
/// Ownership are not grants: they reject a request before authorisation
/// (a public or any ACL header) or neutralise the public grant it needed.
fn blocked_text(layer: &str) -> &'static str {
    match layer {
        "bpa" => "Block Public Access rejects the request (a public ACL header) or neutralises the public grant it needed, so it is denied",
        "ownership" => "Object Ownership (BucketOwnerEnforced) rejects a request that sets an ACL, so it is denied",
        "mfa-delete" => "MFA Delete lets only the bucket owner's root user, with its MFA device over HTTPS, delete a version or change versioning, and rejects a lifecycle configuration, so it is denied",
        _ => "no Allow — required, so the request is denied",
    }
}

/// Answers that share a resource, a decision and a chain.
type GroupKey<'a> = (&'a str, Decision, &'a [String]);

/// `what can`: one entry per resource, decision and chain, its actions
/// grouped by verb.
fn grouped_text(answers: &[Answer]) -> String {
    let mut groups: Vec<(GroupKey, Vec<&str>)> = Vec::new();
    for a in answers {
        let key = (&*a.resource, a.decision, a.via.as_slice());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, actions)) => actions.push(&a.action),
            None => groups.push((key, vec![&a.action])),
        }
    }
    let mut out = String::new();
    for ((resource, decision, via), actions) in groups {
        let (d, _) = decision.names();
        out.push_str(&format!("  {d:<12} {resource}\n"));
        let catalog = crate::catalog::Catalog::get();
        let mut by_verb: Vec<(&str, Vec<&str>)> = Vec::new();
        for a in actions {
            let verb = catalog.verb_of(a);
            match by_verb.iter_mut().find(|(v, _)| *v == verb) {
                Some((_, list)) => list.push(a),
                None => by_verb.push((verb, vec![a])),
            }
        }
        by_verb.sort_by_key(|(v, _)| {
            crate::catalog::VERBS
                .iter()
                .position(|x| x == v)
                .unwrap_or(9)
        });
        for (verb, list) in by_verb {
            out.push_str(&format!("      {verb}: {}\n", list.join(", ")));
        }
        if via.len() > 1 {
            out.push_str(&format!("      via {}\n", via.join(" → ")));
        }
    }
    out
}

pub const HELP: &str = "  who can <action> <resource> [with <context>]
  can <principal> <action> <resource> [with <context>]
  can <principal> sts:AssumeRole <role>
  why [not] <principal> <action> <resource> [with <context>]
  what can <principal> do [on <resource>]
  path <principal> to [<action>] <resource>
  public [<bucket>]
  prove write-only <principal> on <resource>
  prove no-public-access <bucket>
  prove <principal> <action> <resource> requires <key> <op> <value>
  show principal|bucket|policy <name>              (not built yet)
  actions: read write delete list admin any, or s3:GetObject, s3:Get*
  principals: user/alice, role/reader, alice, an ARN, anonymous, account:ID, service:NAME
  resources: bucket, bucket/key, bucket/prefix/*, s3://bucket/key, arn:aws:s3:::bucket/key
  context: with key = value, key = [v1, v2], key absent   (unnamed keys are free)
";

/// `check`, as text: a line per assertion, a line per input error that
/// fails the check (`--strict`), then the tally.
/// The context keys of a refuted proof's counterexample, in words.
fn counterexample_context(r: &CheckResult) -> Option<String> {
    let (_, w) = r.outcome.proof.as_ref()?.counterexample.as_ref()?;
    (!w.is_empty()).then(|| witness_text(w))
}

/// Why an assertion failed, on one line, its counterexample's context
/// included: SARIF's message and JUnit's failure message.
fn failure_line(r: &CheckResult) -> String {
    let why = r.why.clone().unwrap_or_default();
    match counterexample_context(r) {
        Some(w) => format!("{why} with {w}"),
        None => why,
    }
}

pub fn check_text(report: &Report) -> String {
    let results = &report.results;
    let mut out = String::new();
    for r in results {
        let a = &r.assertion;
        match &r.why {
            None => out.push_str(&format!("ok      line {}: {}\n", a.line, a.text)),
            Some(why) => {
                out.push_str(&format!(
                    "FAILED  line {}: {}\n        {why}\n",
                    a.line, a.text
                ));
                if let Some(w) = counterexample_context(r) {
                    out.push_str(&format!("        with {w}\n"));
                }
                for reason in failure_reasons(r) {
                    out.push_str(&format!("        because {}\n", reason_text(reason)));
                }
            }
        }
    }
    for d in &report.input_errors {
        out.push_str(&format!("FAILED  input did not load: {d}\n"));
    }
    let failed = report.failed();
    out.push_str(&format!(
        "{} passed, {failed} failed\n",
        results.len() - failed
    ));
    out
}

/// The statements behind a failure: the counterexample's, or the first
/// answer's that broke a `can`/`not can`.
fn failure_reasons(r: &CheckResult) -> Vec<&Reason> {
    if let Some((a, _)) = r
        .outcome
        .proof
        .as_ref()
        .and_then(|p| p.counterexample.as_ref())
    {
        return a.because.iter().collect();
    }
    r.outcome
        .answers
        .iter()
        .find(|a| a.decision.reaches())
        .or(r.outcome.answers.first())
        .map(|a| a.because.iter().collect())
        .unwrap_or_default()
}

pub fn check_json(report: &Report, file: &str) -> Value {
    let results = &report.results;
    let failed = report.failed();
    json!({
        "kind": "check",
        "file": file,
        "results": results.iter().map(|r| json!({
            "line": r.assertion.line,
            "assertion": r.assertion.text,
            "status": if r.holds { "ok" } else { "failed" },
            "why": r.why,
            "answer": outcome_json(&r.outcome),
        })).collect::<Vec<_>>(),
        "passed": results.len() - failed,
        "failed": failed,
        "input_errors": report.input_errors.iter().map(|d| diagnostic_json(d)["error"].clone()).collect::<Vec<_>>(),
        "holds": report.holds(),
    })
}

/// SARIF 2.1.0: one result per failed assertion, at its line of the
/// assertion file, with the deciding policy statements as related locations
/// and the counterexample in its properties.
pub fn check_sarif(report: &Report, file: &str) -> Value {
    use serde_sarif::sarif::{
        ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation,
        PropertyBag, Region, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif,
        Tool, ToolComponent, SCHEMA_URL,
    };
    let rules = [
        (
            "write-only",
            "The principal can put into the scope but can never read or list what is there.",
        ),
        (
            "no-public-access",
            "Neither anonymous callers nor unnamed accounts can act on the bucket.",
        ),
        (
            "no-destroy",
            "No principal can lose the bucket's data for good.",
        ),
        (
            "requires",
            "Every allowed request satisfies the required condition.",
        ),
        ("can", "The principal can perform the action."),
        ("not-can", "The principal can never perform the action."),
        (
            "input-error",
            "An input of the estate did not load, so answers that depend on it are unknown.",
        ),
    ];
    let at = |uri: &str, line: usize| {
        PhysicalLocation::builder()
            .artifact_location(ArtifactLocation::builder().uri(uri).build())
            .region(Region::builder().start_line(line.max(1) as i64).build())
            .build()
    };
    let text = |t: String| Message::builder().text(t).build();
    let failed = report.results.iter().filter(|r| !r.holds).map(|r| {
        let related: Vec<Location> = failure_reasons(r)
            .iter()
            .enumerate()
            .filter(|(_, reason)| !reason.file.is_empty())
            .map(|(i, reason)| {
                Location::builder()
                    .id(i as i64)
                    .message(text(reason_text(reason)))
                    .physical_location(at(&reason.file, reason.line))
                    .build()
            })
            .collect();
        let mut answer = std::collections::BTreeMap::new();
        answer.insert("answer".to_string(), outcome_json(&r.outcome));
        SarifResult::builder()
            .rule_id(r.assertion.rule())
            .level(ResultLevel::Error)
            .message(text(format!(
                "assert {} — {}",
                r.assertion.text,
                failure_line(r)
            )))
            .locations(vec![Location::builder()
                .physical_location(at(file, r.assertion.line))
                .build()])
            .related_locations(related)
            .properties(PropertyBag::builder().additional_properties(answer).build())
            .build()
    });
    let inputs = report.input_errors.iter().map(|d| {
        SarifResult::builder()
            .rule_id("input-error")
            .level(ResultLevel::Error)
            .message(text(d.to_string()))
            .locations(vec![Location::builder()
                .physical_location(at(&d.span.file, d.span.line))
                .build()])
            .build()
    });
    let driver = ToolComponent::builder()
        .name("bucketlog")
        .version(env!("CARGO_PKG_VERSION"))
        .rules(
            rules
                .iter()
                .map(|(id, t)| {
                    ReportingDescriptor::builder()
                        .id(*id)
                        .short_description(MultiformatMessageString::builder().text(*t).build())
                        .build()
                })
                .collect::<Vec<_>>(),
        )
        .build();
    let sarif = Sarif::builder()
        .schema(SCHEMA_URL)
        .version(json!("2.1.0"))
        .runs(vec![Run::builder()
            .tool(Tool::builder().driver(driver).build())
            .results(failed.chain(inputs).collect::<Vec<_>>())
            .build()])
        .build();
    serde_json::to_value(&sarif).expect("SARIF serialises")
}

/// JUnit XML: one test case per assertion.
pub fn check_junit(report: &Report, file: &str) -> String {
    use quick_junit::{NonSuccessKind, Report as Junit, TestCase, TestCaseStatus, TestSuite};
    let mut suite = TestSuite::new(format!("bucketlog check {file}"));
    for r in &report.results {
        let name = format!("line {}: assert {}", r.assertion.line, r.assertion.text);
        let status = if r.holds {
            TestCaseStatus::success()
        } else {
            let details: Vec<String> = failure_reasons(r).iter().map(|x| reason_text(x)).collect();
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(failure_line(r))
                .set_description(details.join("\n"));
            s
        };
        let mut case = TestCase::new(name, status);
        case.set_classname("bucketlog");
        suite.add_test_case(case);
    }
    // Each input error is a failed test case of its own.
    for d in &report.input_errors {
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
        s.set_message("the input did not load")
            .set_description(d.to_string());
        let mut case = TestCase::new(format!("input {}", d.span), s);
        case.set_classname("bucketlog");
        suite.add_test_case(case);
    }
    let mut junit = Junit::new("bucketlog");
    junit.add_test_suite(suite);
    junit.to_string().expect("JUnit XML serialises")
}

fn decision_word(d: Option<Decision>) -> &'static str {
    d.map_or("no access", |d| d.names().0)
}

/// `diff` as text: one line per changed request, `+` for access the new
/// estate adds (or makes surer), `-` for access it removes (or makes less
/// sure), then a count.
pub fn diff_text(query: &str, changes: &[Change]) -> String {
    let mut out = format!("diff {query}\n");
    for c in changes {
        let sign = if c.widens() { '+' } else { '-' };
        let mut line = format!(
            "  {sign} {:<12} {}  {}  {}",
            decision_word(c.after),
            c.principal,
            c.action,
            c.resource
        );
        if c.via.len() > 1 {
            line.push_str(&format!("  via {}", c.via[1..].join(" → ")));
        }
        line.push_str(&format!("  (was: {})", decision_word(c.before)));
        out.push_str(&line);
        out.push('\n');
    }
    let widened = changes.iter().filter(|c| c.widens()).count();
    out.push_str(&format!(
        "  {widened} widened, {} narrowed\n",
        changes.len() - widened
    ));
    out
}

/// `diff` in JSON: every change with both decisions.
pub fn diff_json(query: &str, changes: &[Change]) -> Value {
    let items: Vec<Value> = changes
        .iter()
        .map(|c| {
            json!({
                "principal": c.principal,
                "action": c.action,
                "resource": c.resource,
                "before": decision_word(c.before),
                "after": decision_word(c.after),
                "via": c.via,
                "widens": c.widens(),
            })
        })
        .collect();
    let widened = changes.iter().filter(|c| c.widens()).count();
    json!({
        "kind": "diff",
        "query": query,
        "changes": items,
        "widened": widened,
        "narrowed": changes.len() - widened,
    })
}
