//! `who can` as text at the size of an organisation (issue 12): one line per
//! principal with its most permissive answer, its condition in words and how
//! many answers are folded under it, then a summary that counts what the
//! JSON output lists; `--limit` caps the lines, `--chains` lists every
//! answer. Checked through the binary against its own JSON answers on a
//! synthetic estate with chains and conditions.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

const QUERY: &str = "who can read bucket-0-0/*";

fn run(snapshot: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_bucketlog"))
        .arg("--env")
        .arg(snapshot)
        .args(args)
        .output()
        .expect("bucketlog runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn estate() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_bucketlog"))
        .args(["synth", "--accounts", "2", "--users", "24", "--roles", "10"])
        .args(["--buckets", "3", "-o"])
        .arg(dir.path())
        .output()
        .expect("synth runs");
    assert!(out.status.success());
    dir
}

/// Each principal's most permissive decision, from the JSON answers.
fn best_decisions(snapshot: &Path) -> (BTreeMap<String, String>, usize) {
    let json: Value =
        serde_json::from_str(&run(snapshot, &["--format", "json", "query", QUERY])).expect("JSON");
    let answers = json["answers"].as_array().expect("answers");
    let rank = |d: &str| {
        ["allow", "conditional", "unknown"]
            .iter()
            .position(|x| *x == d)
    };
    let mut best: BTreeMap<String, String> = BTreeMap::new();
    for a in answers {
        let p = a["principal"].as_str().expect("principal").to_string();
        let d = a["decision"].as_str().expect("decision").to_string();
        let better = best.get(&p).is_none_or(|old| rank(&d) < rank(old));
        if better {
            best.insert(p, d);
        }
    }
    (best, answers.len())
}

/// The principal lines of a folded answer: (decision, principal, rest).
fn lines(text: &str) -> Vec<(String, String, String)> {
    text.lines()
        .skip(1)
        .filter(|l| !l.contains("principal(s)") && !l.trim_start().starts_with("note:"))
        .map(|l| {
            let mut parts = l.split_whitespace();
            let d = parts.next().expect("decision").to_string();
            let p = parts.next().expect("principal").to_string();
            (d, p, l.to_string())
        })
        .collect()
}

#[test]
fn who_can_folds_to_one_line_per_principal_with_a_summary() {
    let dir = estate();
    let (best, total) = best_decisions(dir.path());
    let text = run(dir.path(), &["query", QUERY]);
    let lines = lines(&text);
    let principals: BTreeSet<&str> = lines.iter().map(|(_, p, _)| p.as_str()).collect();
    assert_eq!(
        principals.len(),
        lines.len(),
        "one line per principal:\n{text}"
    );
    assert!(total > lines.len(), "the estate must have answers to fold");
    for (d, p, line) in &lines {
        assert_eq!(Some(d), best.get(p), "{line}");
        if d == "conditional" {
            assert!(
                line.contains(" when ") || line.contains(" under "),
                "a conditional line says its condition in words: {line}"
            );
        }
    }
    let count = |d: &str| best.values().filter(|v| *v == d).count();
    let summary = format!(
        "  {} principal(s): {} allow, {} conditional, {} unknown",
        best.len(),
        count("allow"),
        count("conditional"),
        count("unknown")
    );
    assert!(text.contains(&summary), "{summary}\n{text}");
    let folded: usize = lines
        .iter()
        .filter_map(|(_, _, l)| l.split("(+").nth(1))
        .map(|n| {
            n.trim_end_matches(" more)")
                .parse::<usize>()
                .expect("a count")
        })
        .sum();
    assert!(folded > 0, "{text}");
}

#[test]
fn limit_caps_the_lines_and_chains_lists_every_answer() {
    let dir = estate();
    let (best, total) = best_decisions(dir.path());
    let text = run(dir.path(), &["--limit", "3", "query", QUERY]);
    assert_eq!(lines(&text).len(), 3, "{text}");
    assert!(
        text.contains(&format!(
            "… {} more principal(s) not shown (--limit 3)",
            best.len() - 3
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("  {} principal(s):", best.len())),
        "{text}"
    );
    let full = run(dir.path(), &["--chains", "query", QUERY]);
    let answers = full
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   ") && !l.contains("note:"))
        .count();
    assert_eq!(answers, total, "{full}");
    assert!(full.contains("      via "), "{full}");
}
