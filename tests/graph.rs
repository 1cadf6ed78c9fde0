//! `bucketlog graph` (cli.md, issue 12 item 4): the graph is the engine's
//! answers drawn — every access edge is a `who can` answer of its own
//! principal, every can-assume edge a hop's answer — with the filters,
//! the collapsing of identical principals and the cap. The exports are
//! read by their real consumers in tests/graph_consumers.rs.

use std::collections::{BTreeMap, BTreeSet};

use bucketlog::catalog::{Catalog, Target};
use bucketlog::datalog::Decision;
use bucketlog::graph::{self, export, EdgeKind, Graph, NodeKind, Shape};
use bucketlog::load::{self, snapshot};
use bucketlog::model::{Estate, PrincipalKind};
use bucketlog::query::{Engine, Options};
use bucketlog::synth::{self, Size};
use petgraph::visit::EdgeRef;

const VERBS: [&str; 5] = ["read", "write", "list", "delete", "admin"];

fn demo() -> Estate {
    load::load_paths(&[]).expect("the demo estate loads")
}

fn synthetic(seed: u64) -> Estate {
    let mut e = Estate::default();
    snapshot::load(
        &synth::generate(&Size {
            users: 12,
            roles: 6,
            buckets: 2,
            seed,
            ..Size::default()
        }),
        &mut e,
    );
    e
}

const WHOLE: Shape = Shape { max_nodes: 10_000 };

fn draw(e: &Estate, from: Option<&str>, to: Option<&str>, verbs: &[&str], shape: Shape) -> Graph {
    draw_hops(e, from, to, verbs, None, shape)
}

fn draw_hops(
    e: &Estate,
    from: Option<&str>,
    to: Option<&str>,
    verbs: &[&str],
    max_hops: Option<usize>,
    shape: Shape,
) -> Graph {
    let verbs: Vec<String> = verbs.iter().map(|v| v.to_string()).collect();
    let reach = Engine::new(e)
        .reach(from, to, &verbs, max_hops, Options::default())
        .expect("the graph's question resolves");
    assert_eq!(reach.sanity_violations, 0);
    graph::build(e, &reach, shape)
}

/// Every edge as (from id, label, to id) → (decision, condition).
fn edges(g: &Graph) -> BTreeMap<(String, String, String), (Decision, Option<String>)> {
    g.graph
        .edge_references()
        .map(|e| {
            let w = e.weight();
            (
                (
                    g.graph[e.source()].id.clone(),
                    w.kind.label().to_string(),
                    g.graph[e.target()].id.clone(),
                ),
                (w.decision, w.condition.clone()),
            )
        })
        .collect()
}

const BOT: &str = "arn:aws:iam::111122223333:user/partner-bot";
const UPLOADER: &str = "arn:aws:iam::111122223333:role/partner-uploader";

#[test]
fn the_demo_graph_has_the_chain_and_the_prefix_scoped_write() {
    let e = demo();
    let g = draw(&e, None, None, &VERBS, WHOLE);
    let edges = edges(&g);
    let key =
        |from: &str, label: &str, to: &str| (from.to_string(), label.to_string(), to.to_string());
    assert_eq!(
        edges[&key(BOT, "can-assume", UPLOADER)],
        (Decision::Allow, None)
    );
    assert_eq!(
        edges[&key(UPLOADER, "write", "s3:example-upload-bucket/incoming/*")],
        (Decision::Allow, None)
    );
    assert_eq!(
        edges[&key(UPLOADER, "write", "s3:example-upload-bucket")],
        (
            Decision::Conditional,
            Some("allowed under arn:aws:s3:::example-upload-bucket/incoming/*".into())
        )
    );
    // partner-bot reaches the bucket only through the role: no edge of its own.
    assert!(!edges.keys().any(|(f, l, _)| f == BOT && l != "can-assume"));
    // Root users are left out, as in `who can`.
    assert!(g.graph.node_weights().all(|n| n.kind != NodeKind::Root));
    // Buckets are clustered in their owner's account.
    let bucket = g
        .graph
        .node_weights()
        .find(|n| n.id == "s3:example-upload-bucket")
        .expect("bucket node");
    assert_eq!(bucket.account.as_deref(), Some("111122223333"));
}

/// The access edges of a graph, a collapsed node's for each of its
/// members: (principal, verb, scope) → decision.
fn access(g: &Graph) -> BTreeMap<(String, String, String), Decision> {
    let mut out = BTreeMap::new();
    for edge in g.graph.edge_references() {
        let w = edge.weight();
        let EdgeKind::Access(verb) = w.kind else {
            continue;
        };
        let to = g.graph[edge.target()]
            .id
            .trim_start_matches("s3:")
            .to_string();
        for member in &g.graph[edge.source()].members {
            out.insert((member.clone(), verb.to_string(), to.clone()), w.decision);
        }
    }
    out
}

fn is_object_action(name: &str) -> bool {
    Catalog::get()
        .find(name)
        .is_some_and(|a| a.target == Target::Object)
}

/// Each access edge on a bucket is its principal's own best `who can`
/// answer for the verb on the bucket, and each such reaching answer is an
/// edge. On a prefix the policies name, the principals drawn are those
/// whose own answer on the whole bucket is not an allow for some object
/// action; every other principal's reaching answer on the prefix is an
/// allow (an allow on the bucket holds on its prefixes, a deny on none).
#[test]
fn every_access_edge_is_a_who_can_answer_and_every_answer_an_edge() {
    for e in [demo(), synthetic(6), synthetic(7)] {
        let engine = Engine::new(&e);
        let drawn = access(&draw(&e, None, None, &VERBS, WHOLE));
        let direct = |verb: &str, resource: &str| {
            let o = engine
                .answer(&format!("who can {verb} {resource}"), Options::default())
                .expect("who can");
            o.answers
                .into_iter()
                .filter(|a| a.via.len() == 1)
                .collect::<Vec<_>>()
        };
        let mut expected: BTreeMap<(String, String, String), Decision> = BTreeMap::new();
        let mut best = |k: (String, String, String), d: Decision| {
            let b = expected.entry(k).or_insert(d);
            *b = (*b).min(d);
        };
        // An answer through an access point is an edge to the access point.
        let node = |a: &bucketlog::query::Answer, scope: &str| match &a.access_point {
            Some(arn) => format!("ap:{arn}"),
            None => scope.to_string(),
        };
        let mut open: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for b in &e.buckets {
            for verb in VERBS {
                for a in direct(verb, &format!("{}/*", b.name)) {
                    if is_object_action(&a.action) && a.decision != Decision::Allow {
                        open.entry(b.name.clone())
                            .or_default()
                            .insert(a.principal.clone());
                    }
                    best(
                        (a.principal.clone(), verb.into(), node(&a, &b.name)),
                        a.decision,
                    );
                }
            }
        }
        for prefix in e.policy_prefixes() {
            let (bucket, key) = prefix.split_once('/').unwrap();
            if key.is_empty() {
                continue;
            }
            let bucket = bucket.to_string();
            let scope = format!("{prefix}*");
            for verb in VERBS {
                for a in direct(verb, &scope) {
                    if !is_object_action(&a.action) {
                        continue;
                    }
                    if open.get(&bucket).is_some_and(|o| o.contains(&a.principal)) {
                        best(
                            (a.principal.clone(), verb.into(), node(&a, &scope)),
                            a.decision,
                        );
                    } else {
                        assert_eq!(
                            a.decision,
                            Decision::Allow,
                            "{} {verb} {scope}",
                            a.principal
                        );
                    }
                }
            }
        }
        let missing: Vec<_> = expected
            .iter()
            .filter(|(k, d)| drawn.get(*k) != Some(d))
            .collect();
        let extra: Vec<_> = drawn
            .iter()
            .filter(|(k, d)| expected.get(*k) != Some(d))
            .collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "not drawn: {missing:?}\ndrawn, not answered: {extra:?}"
        );
    }
}

#[test]
fn from_draws_one_principal_its_chains_and_the_roles_own_access() {
    let e = demo();
    let g = draw(&e, Some("user/partner-bot"), None, &VERBS, WHOLE);
    let edges = edges(&g);
    assert!(edges.contains_key(&(BOT.into(), "can-assume".into(), UPLOADER.into())));
    assert!(edges.contains_key(&(
        UPLOADER.into(),
        "write".into(),
        "s3:example-upload-bucket/incoming/*".into()
    )));
    // Nobody else's edges.
    assert!(edges.keys().all(|(f, _, _)| f == BOT || f == UPLOADER));
    // No hop allowed: the chain and the role's access are left out.
    let g = draw_hops(&e, Some("user/partner-bot"), None, &VERBS, Some(0), WHOLE);
    assert_eq!(g.graph.edge_count(), 0);
}

/// `--from P` draws the whole graph's edges of P and of the roles its
/// chains reach, with the same decisions, and every edge of P.
#[test]
fn from_is_the_whole_graph_seen_from_one_principal() {
    let e = synthetic(7);
    let whole = access(&draw(&e, None, None, &VERBS, WHOLE));
    for p in e
        .principals
        .iter()
        .filter(|p| p.kind != PrincipalKind::Root)
        .take(6)
    {
        let from = access(&draw(&e, Some(&p.arn), None, &VERBS, WHOLE));
        for (k, d) in &from {
            assert_eq!(whole.get(k), Some(d), "--from {}: {k:?}", p.arn);
        }
        let own = |m: &BTreeMap<(String, String, String), Decision>| {
            m.iter()
                .filter(|(k, _)| k.0 == p.arn)
                .map(|(k, d)| (k.clone(), *d))
                .collect::<Vec<_>>()
        };
        assert_eq!(own(&from), own(&whole), "--from {}", p.arn);
    }
}

#[test]
fn to_and_verb_narrow_the_graph() {
    let e = demo();
    let g = draw(&e, None, Some("share-bucket"), &["read"], WHOLE);
    for (from, label, to) in edges(&g).keys() {
        assert_eq!(to, "s3:share-bucket", "{from} {label}");
        assert_eq!(label, "read");
    }
    let readers: BTreeSet<&str> = g
        .graph
        .node_weights()
        .filter(|n| n.kind != NodeKind::Bucket)
        .map(|n| n.label.as_str())
        .collect();
    assert_eq!(
        readers,
        BTreeSet::from(["role/partner-reader", "user/owner"])
    );
    let bad = Engine::new(&e).reach(
        None,
        Some("no-such-bucket"),
        &["read".into()],
        None,
        Options::default(),
    );
    assert!(bad.is_err());
    let bad = Engine::new(&e).reach(None, None, &["frobnicate".into()], None, Options::default());
    assert!(bad.is_err());
}

#[test]
fn identical_principals_collapse_into_one_counted_node_and_none_is_lost() {
    let e = synthetic(6);
    let g = draw(&e, None, None, &VERBS, WHOLE);
    let collapsed: Vec<_> = g
        .graph
        .node_weights()
        .filter(|n| n.members.len() > 1)
        .collect();
    assert!(
        !collapsed.is_empty(),
        "the synthetic estate has look-alike users"
    );
    assert!(g.notes.iter().any(|n| n.contains("identical edges")));
    for n in &collapsed {
        assert!(n.id.starts_with("class:"));
        assert!(n
            .label
            .contains(&format!("(+{} alike)", n.members.len() - 1)));
    }
    // Members appear once across the graph.
    let mut seen = BTreeSet::new();
    for n in g.graph.node_weights() {
        for m in &n.members {
            assert!(seen.insert(m.clone()), "{m} drawn twice");
        }
    }
}

#[test]
fn a_cap_keeps_the_busiest_nodes_and_says_so() {
    let e = synthetic(7);
    let g = draw(&e, None, None, &VERBS, Shape { max_nodes: 8 });
    assert_eq!(g.graph.node_count(), 8);
    assert!(
        g.notes
            .iter()
            .any(|n| n.starts_with("graph capped at 8 of ")),
        "{:?}",
        g.notes
    );
    assert!(export::dot(&g).contains("graph capped at 8 of "));
}

#[test]
fn every_export_is_the_same_bytes_every_run() {
    let e = synthetic(6);
    let a = draw(&e, None, None, &VERBS, WHOLE);
    let b = draw(&e, None, None, &VERBS, WHOLE);
    for f in [
        export::dot,
        export::json,
        export::graphml,
        export::mermaid,
        export::html,
    ] {
        assert_eq!(f(&a), f(&b));
    }
}

#[test]
fn mermaid_has_one_subgraph_per_account_and_one_line_per_drawn_edge() {
    let e = demo();
    let g = draw(&e, None, None, &VERBS, WHOLE);
    let m = export::mermaid(&g);
    assert!(m.starts_with("flowchart LR\n"), "{m}");
    assert_eq!(m.matches("\n  subgraph account_").count(), 2);
    assert!(m.contains(" -- \"can-assume\" --> "), "{m}");
    assert!(
        m.contains("-. \"write: allowed under arn:aws:s3:::example-upload-bucket/incoming/*\" .->")
    );
    // The owner's five verbs on share-bucket are one line.
    assert!(
        m.contains("-- \"admin, delete, list, read, write\" -->"),
        "{m}"
    );
}

/// The README's picture is drawn from docs/demo-graph.dot: it is the demo
/// estate's graph as the binary draws it today.
#[test]
fn the_readme_graph_is_the_demo_graph() {
    let e = demo();
    let dot = export::dot(&draw(&e, None, None, &VERBS, Shape { max_nodes: 300 }));
    assert_eq!(
        dot,
        include_str!("../docs/demo-graph.dot"),
        "regenerate docs/demo-graph.dot and docs/demo-graph.svg (README \"Graphs\")"
    );
}
