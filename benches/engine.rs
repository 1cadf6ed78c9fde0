//! One phase of the engine benchmark on one snapshot, timed in-process,
//! printed as one JSON line with the process's peak RSS so far. Driven by
//! `scripts/bench`, which runs each phase in a fresh process so that peak
//! RSS belongs to that phase alone:
//!
//! ```text
//! engine parse DIR              every JSON file of DIR into serde_json::Value (the floor)
//! engine load DIR               load + compile (Engine::new)
//! engine warm DIR QUERY N       the query once cold, then N times warm: the median
//! engine can DIR N              N concrete `can` decisions in one batch
//! engine query DIR QUERY        one query on the compiled estate (what can, public, prove)
//! ```

use bucketlog::query::{Engine, Options};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Peak resident set size of this process, in KiB (Linux `VmHWM`).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("a readable snapshot directory")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

fn load(dir: &str) -> bucketlog::model::Estate {
    bucketlog::load::load_paths(&[PathBuf::from(dir)]).expect("the snapshot loads")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // Memory as the command line gets it (src/memory.rs): measure what runs.
    bucketlog::memory::set_up();
    // `cargo bench` passes `--bench`; the phase and its arguments follow.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some(phase) = args.first() else {
        eprintln!("usage: engine parse|load|warm|can|query DIR [QUERY] [N] (see scripts/bench)");
        return;
    };
    let dir = args.get(1).expect("a snapshot directory");
    let out = match phase.as_str() {
        "parse" => {
            let start = Instant::now();
            let mut files = Vec::new();
            json_files(Path::new(dir), &mut files);
            let mut values = Vec::with_capacity(files.len());
            for f in &files {
                let bytes = std::fs::read(f).expect("readable");
                let v: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
                values.push(v);
            }
            json!({"files": values.len(), "seconds": start.elapsed().as_secs_f64()})
        }
        "load" => {
            let start = Instant::now();
            let estate = load(dir);
            let engine = Engine::new(&estate);
            let seconds = start.elapsed().as_secs_f64();
            let statements: usize = estate
                .policies
                .iter()
                .map(|p| p.body.as_ref().map_or(1, |b| b.statements.len()))
                .sum();
            json!({
                "seconds": seconds,
                "principals": estate.principals.len(),
                "statements": statements,
                "subjects": engine.index.subjects.len(),
            })
        }
        "warm" => {
            let query = args.get(2).expect("a query");
            let n: usize = args.get(3).map_or(5, |n| n.parse().expect("a count"));
            let estate = load(dir);
            let engine = Engine::new(&estate);
            let start = Instant::now();
            let first = engine.answer(query, Options::default()).expect("answers");
            let cold = start.elapsed().as_secs_f64();
            let warm: Vec<f64> = (0..n)
                .map(|_| {
                    let start = Instant::now();
                    engine.answer(query, Options::default()).expect("answers");
                    start.elapsed().as_secs_f64()
                })
                .collect();
            json!({
                "cold_seconds": cold,
                "seconds": median(warm),
                "answers": first.answers.len(),
                "facts": first.facts,
            })
        }
        "can" => {
            let n: usize = args.get(2).map_or(10_000, |n| n.parse().expect("a count"));
            let estate = load(dir);
            let engine = Engine::new(&estate);
            // Deterministic samples: principals of the estate, S3 verbs'
            // actions, keys under each bucket.
            let mut rng = StdRng::seed_from_u64(7);
            let actions = [
                "s3:GetObject",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:ListBucket",
            ];
            let queries: Vec<String> = (0..n)
                .map(|i| {
                    let p = &estate.principals[rng.gen_range(0..estate.principals.len())];
                    let b = &estate.buckets[rng.gen_range(0..estate.buckets.len())];
                    let a = actions[rng.gen_range(0..actions.len())];
                    let resource = match a {
                        "s3:ListBucket" => b.name.clone(),
                        _ => format!("{}/k{}/obj-{i}", b.name, rng.gen_range(0..20)),
                    };
                    format!("can {} {a} {resource}", p.arn)
                })
                .collect();
            let start = Instant::now();
            let decisions = engine.decisions(&queries).expect("the batch answers");
            let seconds = start.elapsed().as_secs_f64();
            json!({
                "seconds": seconds,
                "decisions": decisions.len(),
                "per_second": decisions.len() as f64 / seconds,
            })
        }
        "query" => {
            let query = args.get(2).expect("a query");
            let estate = load(dir);
            let engine = Engine::new(&estate);
            let start = Instant::now();
            let o = engine.answer(query, Options::default()).expect("answers");
            json!({
                "seconds": start.elapsed().as_secs_f64(),
                "answers": o.answers.len(),
                "proof": o.proof.as_ref().map(|p| format!("{:?}", p.result)),
                "facts": o.facts,
            })
        }
        other => panic!("unknown phase `{other}`"),
    };
    let mut out = out;
    out["phase"] = json!(phase);
    out["formulas"] = json!(bucketlog::smt::formulas_solved());
    out["rss_kib"] = json!(peak_rss_kib());
    println!("{out}");
}
