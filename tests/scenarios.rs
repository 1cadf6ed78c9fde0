//! The scenarios of tests/scenarios/ (ported from the shared design's
//! scenarios, with the deciding statements added): each line of an
//! `expect.jsonl` is a query and the answer it must get, checked through the
//! JSON contract of cli.md.
//!
//! A line marked `"pending"` needs a later capability (named there). It must
//! not contradict the expectation — an answer that is not built yet may be an
//! error, `unknown` or `conditional`, never the opposite decision — and it must
//! not already pass in full (then the mark is stale and must go).

use bucketlog::query::{self, Options};
use bucketlog::report;
use serde_json::Value;
use std::path::Path;

/// The answers for requests the principal makes itself; on a bucket scope,
/// those made at the bucket's own endpoint (the ones through its access
/// points are answers of `ap:` scopes).
fn direct_answers(doc: &Value) -> Vec<&Value> {
    let answers = doc["answers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut own: Vec<&Value> = answers
        .iter()
        .filter(|a| a["via"].as_array().is_none_or(|v| v.len() <= 1))
        .collect();
    if own.iter().any(|a| a.get("access_point").is_none()) {
        own.retain(|a| a.get("access_point").is_none());
    }
    own
}

fn granted(doc: &Value) -> Vec<&str> {
    doc["answers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|a| matches!(a["decision"].as_str(), Some("allow" | "conditional")))
        .filter_map(|a| a["principal"].as_str())
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A `because` list as sorted "layer:policy:statement" labels. Layers that
/// did not allow, and notes on allows that need no statement, are not statements.
fn statements(because: &Value) -> Vec<String> {
    let mut out: Vec<String> = because
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["effect"] != "None" && b.get("note").is_none())
        .map(|b| {
            format!(
                "{}:{}:{}",
                b["layer"].as_str().unwrap_or(""),
                b["policy"].as_str().unwrap_or(""),
                b["statement"].as_str().unwrap_or("")
            )
        })
        .collect();
    out.sort();
    out
}

/// Every way the document misses the expectation; empty when it meets it.
fn misses(e: &Value, doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(err) = doc.get("error") {
        return vec![format!("error: {}", err["message"])];
    }
    if let Some(want) = e["decision"].as_str() {
        let answers = direct_answers(doc);
        if answers.is_empty() {
            out.push("no answers".into());
        }
        for a in answers {
            if a["decision"] != want {
                out.push(format!(
                    "decision {} (want {want}) for {}",
                    a["decision"], a["action"]
                ));
            }
            if e.get("deny").is_some() && a["deny"] != e["deny"] {
                out.push(format!("deny kind {} (want {})", a["deny"], e["deny"]));
            }
            if let Some(want) = e.get("because") {
                let got = statements(&a["because"]);
                if got != strings(want) {
                    out.push(format!("because {got:?} (want {want})"));
                }
            }
            // What an `unknown` turns on, as its reason says it.
            if let Some(want) = e.get("reason_contains").and_then(Value::as_str) {
                if !a["reason"].as_str().is_some_and(|r| r.contains(want)) {
                    out.push(format!(
                        "reason {} (want it to contain {want:?})",
                        a["reason"]
                    ));
                }
            }
            // Where only part of a glob is granted or denied.
            for side in ["allowed_under", "denied_under"] {
                if let Some(want) = e.get(side) {
                    if strings(&a[side]) != strings(want) {
                        out.push(format!("{side} {} (want {want})", a[side]));
                    }
                }
            }
            if let Some(want) = e.get("blocked_by") {
                if strings(&a["blocked_by"]) != strings(want) {
                    out.push(format!("blocked_by {} (want {want})", a["blocked_by"]));
                }
            }
            // `why`: each layer as "LAYER blocked" or "LAYER:POLICY:STATEMENT:APPLIES[:decides]".
            if let Some(want) = e.get("layers") {
                let mut got: Vec<String> = Vec::new();
                for l in a["layers"].as_array().into_iter().flatten() {
                    let layer = l["layer"].as_str().unwrap_or_default();
                    if l["blocked"] == true {
                        got.push(format!("{layer} blocked"));
                    }
                    for st in l["statements"].as_array().into_iter().flatten() {
                        let decides = if st["decides"] == true {
                            ":decides"
                        } else {
                            ""
                        };
                        got.push(format!(
                            "{layer}:{}:{}:{}{decides}",
                            st["policy"].as_str().unwrap_or_default(),
                            st["statement"].as_str().unwrap_or_default(),
                            st["applies"].as_str().unwrap_or_default()
                        ));
                    }
                }
                got.sort();
                if got != strings(want) {
                    out.push(format!("layers {got:?} (want {want})"));
                }
            }
            // A witness expectation names the keys it fixes; others may be present.
            for side in ["allow_witness", "deny_witness"] {
                for (k, v) in e.get(side).and_then(Value::as_object).into_iter().flatten() {
                    if a[side].get(k) != Some(v) {
                        out.push(format!("{side} {} (want {k} = {v})", a[side]));
                    }
                }
            }
        }
    }
    // `why` through a chain: each hop's deciding statements, in chain order,
    // on the first answer through a chain.
    if let Some(want) = e.get("hops") {
        let chain = doc["answers"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["via"].as_array().is_some_and(|v| v.len() > 1));
        let got: Vec<Vec<String>> = chain
            .and_then(|a| a["hops"].as_array())
            .into_iter()
            .flatten()
            .map(|h| statements(&h["because"]))
            .collect();
        let want: Vec<Vec<String>> = want.as_array().into_iter().flatten().map(strings).collect();
        if got != want {
            out.push(format!("hops {got:?} (want {want:?})"));
        }
    }
    // A refuted proof names its counterexample's action (and resource) and deciding statements.
    if let Some(want) = e.get("counterexample") {
        let got = &doc["counterexample"];
        if want["action"] != got["action"] {
            out.push(format!(
                "counterexample action {} (want {})",
                got["action"], want["action"]
            ));
        }
        if want.get("resource").is_some_and(|r| *r != got["resource"]) {
            out.push(format!(
                "counterexample resource {} (want {})",
                got["resource"], want["resource"]
            ));
        }
        // The context it replays under, and the chain it acts through.
        for field in ["context", "via"] {
            if want.get(field).is_some_and(|w| *w != got[field]) {
                out.push(format!(
                    "counterexample {field} {} (want {})",
                    got[field], want[field]
                ));
            }
        }
        let because = statements(&got["because"]);
        if want.get("because").is_some_and(|w| strings(w) != because) {
            out.push(format!(
                "counterexample because {because:?} (want {})",
                want["because"]
            ));
        }
    }
    // Each expected part is in some note of the outcome (a proof's notes).
    for part in strings(&e["notes_contain"]) {
        let notes = strings(&doc["notes"]);
        if !notes.iter().any(|n| n.contains(&part)) {
            out.push(format!("no note contains {part:?} (notes: {notes:?})"));
        }
    }
    if let Some(r) = e.get("result") {
        if doc.get("result") != Some(r) {
            out.push(format!("result {:?} (want {r})", doc.get("result")));
        }
    }
    let got = granted(doc);
    for need in strings(&e["includes"]) {
        if !got.contains(&need.as_str()) {
            out.push(format!("missing {need}"));
        }
    }
    for bad in strings(&e["excludes"]) {
        if got.contains(&bad.as_str()) {
            out.push(format!("should not include {bad}"));
        }
    }
    if let Some(p) = e.get("path") {
        if doc.get("path") != Some(p) {
            out.push(format!("path {:?} (want {p})", doc.get("path")));
        }
    }
    out
}

/// For a pending line: whether the answer contradicts the expectation.
fn contradicts(e: &Value, doc: &Value) -> Option<String> {
    let want = e["decision"].as_str()?;
    direct_answers(doc).into_iter().find_map(|a| {
        let got = a["decision"].as_str().unwrap_or("");
        let tolerated = got == want || got == "unknown" || got == "conditional";
        (!tolerated).then(|| format!("answers {got} where {want} is expected"))
    })
}

#[test]
fn scenarios() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("tests/scenarios")
        .map(|e| e.expect("entry").path())
        .collect();
    dirs.sort();
    let (mut checked, mut failures) = (0, Vec::new());
    for dir in dirs {
        let name = dir
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let estate = bucketlog::load::load_paths(&[dir.join("snapshot")]).expect("scenario loads");
        // A scenario about broken input lists, one a line, a part of each
        // load diagnostic it must give; every other scenario gives none.
        let want: Vec<String> = std::fs::read_to_string(dir.join("diagnostics.txt"))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect();
        let got: Vec<String> = estate.diagnostics.iter().map(|d| d.to_string()).collect();
        assert!(
            got.len() == want.len() && want.iter().zip(&got).all(|(w, g)| g.contains(w.as_str())),
            "{name}: load diagnostics {got:?}, want {want:?}"
        );
        let expect = std::fs::read_to_string(dir.join("expect.jsonl")).expect("expect.jsonl");
        for line in expect.lines().filter(|l| !l.trim().is_empty()) {
            let e: Value = serde_json::from_str(line).expect("expect line is JSON");
            let q = e["q"].as_str().expect("q");
            // `"closed_context": true` asks as `--closed-context` does.
            let opts = Options {
                closed_context: e["closed_context"] == true,
                ..Options::default()
            };
            let doc = match query::answer(&estate, q, opts) {
                Ok(o) => {
                    assert_eq!(
                        o.sanity_violations, 0,
                        "{name}: {q}: rules/90-sanity.dl relations are not empty"
                    );
                    report::outcome_json(&o)
                }
                Err(err) => report::query_error_json(&err, q),
            };
            checked += 1;
            let missed = misses(&e, &doc);
            match (e.get("pending"), missed.is_empty()) {
                (None, false) => failures.push(format!("{name}: {q}: {}", missed.join("; "))),
                (Some(p), true) => {
                    failures.push(format!("{name}: {q}: passes now, drop its `pending` ({p})"))
                }
                (Some(_), false) => {
                    if let Some(c) = contradicts(&e, &doc) {
                        failures.push(format!("{name}: {q}: pending line {c}"));
                    }
                }
                (None, true) => {}
            }
        }
    }
    assert!(checked > 30, "only {checked} scenario lines were checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} scenario lines failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
