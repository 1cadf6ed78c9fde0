//! The graph written out for its consumers: DOT for Graphviz, GraphML
//! (petgraph-graphml) for yEd, Gephi and NetworkX, node-link JSON (the
//! shape of NetworkX's `node_link_data`), Mermaid for Markdown, and one
//! self-contained HTML page (Cytoscape.js embedded; no network).
//!
//! DOT and Mermaid are written here rather than with `petgraph::dot`, which
//! has no clusters: accounts are clusters in both.

use std::collections::{BTreeMap, HashMap};

use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use serde_json::{json, Value};

use super::{Edge, EdgeKind, Graph, Node, NodeKind};
use crate::datalog::Decision;

/// The colour of a decision, as the REPL colours answers.
fn colour(d: Decision) -> &'static str {
    match d {
        Decision::Allow => "#2e7d32",
        Decision::Conditional => "#b7791f",
        Decision::Unknown => "#8e24aa",
        Decision::DenyImplicit | Decision::DenyExplicit => "#c62828",
    }
}

/// The edge's label: its verb (or kind), then its condition in words.
fn edge_label(e: &Edge) -> String {
    label_with(e, e.kind.label())
}

fn label_with(e: &Edge, verbs: &str) -> String {
    let mut s = verbs.to_string();
    if e.public {
        s.push_str(" (public)");
    }
    if let Some(c) = &e.condition {
        s.push_str(": ");
        s.push_str(c);
    }
    s
}

/// An edge as DOT and Mermaid draw it: parallel access edges that differ
/// only by verb are one line, labelled with every verb.
struct Drawn<'g> {
    from: NodeIndex,
    to: NodeIndex,
    edge: &'g Edge,
    label: String,
}

fn drawn(g: &Graph) -> Vec<Drawn<'_>> {
    let mut out: Vec<(Drawn, Vec<&str>)> = Vec::new();
    let mut at = HashMap::new();
    for e in g.graph.edge_references() {
        let w = e.weight();
        let key = (
            e.source(),
            e.target(),
            w.kind.name(),
            w.decision,
            &w.condition,
            w.public,
        );
        match at.get(&key) {
            Some(&i) => {
                let (_, verbs): &mut (Drawn, Vec<&str>) = &mut out[i];
                verbs.push(w.kind.label());
            }
            None => {
                at.insert(key, out.len());
                let d = Drawn {
                    from: e.source(),
                    to: e.target(),
                    edge: w,
                    label: String::new(),
                };
                out.push((d, vec![w.kind.label()]));
            }
        }
    }
    out.into_iter()
        .map(|(mut d, verbs)| {
            d.label = label_with(d.edge, &verbs.join(", "));
            d
        })
        .collect()
}

fn node_label(n: &Node) -> String {
    match n.kind {
        NodeKind::Bucket | NodeKind::Prefix => format!("s3://{}", n.label),
        _ => n.label.clone(),
    }
}

/// Nodes by the account they belong to (`None`: no account), in node order.
fn clusters(g: &Graph) -> BTreeMap<Option<&str>, Vec<NodeIndex>> {
    let mut out: BTreeMap<Option<&str>, Vec<NodeIndex>> = BTreeMap::new();
    for n in g.graph.node_indices() {
        out.entry(g.graph[n].account.as_deref())
            .or_default()
            .push(n);
    }
    out
}

fn dot_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

pub fn dot(g: &Graph) -> String {
    let mut out = String::from("// bucketlog graph\n");
    for note in &g.notes {
        out.push_str(&format!("// note: {note}\n"));
    }
    out.push_str("digraph bucketlog {\n  graph [rankdir=LR, newrank=true, fontname=\"Helvetica\", fontsize=11");
    if !g.notes.is_empty() {
        out.push_str(&format!(
            ", labelloc=b, labeljust=l, label={}",
            dot_quote(&g.notes.join("\n"))
        ));
    }
    out.push_str("];\n  node [fontname=\"Helvetica\", fontsize=10, style=filled, fillcolor=\"#ffffff\"];\n  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for (account, nodes) in clusters(g) {
        let indent = if account.is_some() { "    " } else { "  " };
        if let Some(a) = account {
            out.push_str(&format!(
                "  subgraph \"cluster_{a}\" {{\n    label=\"account {a}\"; style=rounded; color=\"#9e9e9e\";\n"
            ));
        }
        for n in nodes {
            let w = &g.graph[n];
            let shape = match w.kind {
                NodeKind::User | NodeKind::Root => "ellipse",
                NodeKind::Role => "box",
                NodeKind::Group => "tab",
                NodeKind::Anonymous => "doubleoctagon",
                NodeKind::Account => "house",
                NodeKind::Service => "component",
                NodeKind::Bucket => "cylinder",
                NodeKind::Prefix => "folder",
            };
            let mut attrs = format!(
                "label={}, shape={shape}, tooltip={}",
                dot_quote(&node_label(w)),
                dot_quote(&w.members.join("\n"))
            );
            if w.members.len() > 1 {
                attrs.push_str(", peripheries=2");
            }
            if w.kind.is_public() {
                attrs.push_str(", color=\"#c62828\", fontcolor=\"#c62828\"");
            }
            out.push_str(&format!("{indent}n{} [{attrs}];\n", n.index()));
        }
        if account.is_some() {
            out.push_str("  }\n");
        }
    }
    for d in drawn(g) {
        let w = d.edge;
        let mut attrs = format!(
            "label={}, color=\"{}\", fontcolor=\"{}\"",
            dot_quote(&d.label),
            colour(w.decision),
            colour(w.decision)
        );
        if w.decision != Decision::Allow {
            attrs.push_str(", style=dashed");
        }
        match w.kind {
            EdgeKind::MemberOf => attrs.push_str(", arrowhead=empty, color=\"#757575\""),
            EdgeKind::CanAssume => attrs.push_str(", arrowhead=vee"),
            EdgeKind::Access(_) => {}
        }
        if w.public {
            attrs.push_str(", penwidth=2.5");
        }
        out.push_str(&format!(
            "  n{} -> n{} [{attrs}];\n",
            d.from.index(),
            d.to.index()
        ));
    }
    out.push_str("}\n");
    out
}

fn node_json(n: &Node) -> Value {
    json!({
        "id": n.id,
        "label": node_label(n),
        "kind": n.kind.name(),
        "account": n.account,
        "count": n.members.len().max(1),
        "members": n.members,
    })
}

fn edge_json(e: &Edge) -> Value {
    json!({
        "kind": e.kind.name(),
        "verb": matches!(e.kind, EdgeKind::Access(_)).then(|| e.kind.label()),
        "decision": e.decision.names().0,
        "condition": e.condition,
        "public": e.public,
        "actions": e.actions,
    })
}

/// NetworkX's node-link shape (`networkx.node_link_graph(data)` reads it):
/// a directed multigraph whose edges are keyed by their kind and verb.
pub fn json(g: &Graph) -> String {
    let mut s = serde_json::to_string_pretty(&node_link(g)).expect("JSON of a graph");
    s.push('\n');
    s
}

fn node_link(g: &Graph) -> Value {
    let nodes: Vec<Value> = g.graph.node_weights().map(node_json).collect();
    let links: Vec<Value> = g
        .graph
        .edge_references()
        .map(|e| {
            let mut v = edge_json(e.weight());
            let fields = v.as_object_mut().expect("an edge is an object");
            let mut link = serde_json::Map::new();
            link.insert("source".into(), json!(g.graph[e.source()].id));
            link.insert("target".into(), json!(g.graph[e.target()].id));
            link.insert("key".into(), json!(e.weight().kind.label()));
            link.append(fields);
            Value::Object(link)
        })
        .collect();
    json!({
        "directed": true,
        "multigraph": true,
        "graph": {"name": "bucketlog", "notes": g.notes},
        "nodes": nodes,
        "links": links,
    })
}

pub fn graphml(g: &Graph) -> String {
    use petgraph_graphml::GraphMl;
    use std::borrow::Cow;
    let text = |v: Option<&str>| Cow::Owned(v.unwrap_or_default().to_string());
    let xml = GraphMl::new(&g.graph)
        .pretty_print(true)
        .export_node_weights(Box::new(move |n: &Node| {
            vec![
                ("label".into(), Cow::Owned(node_label(n))),
                ("kind".into(), n.kind.name().into()),
                ("account".into(), text(n.account.as_deref())),
                ("count".into(), n.members.len().max(1).to_string().into()),
                ("members".into(), n.members.join(" ").into()),
            ]
        }))
        .export_edge_weights(Box::new(move |e: &Edge| {
            vec![
                ("kind".into(), e.kind.name().into()),
                ("label".into(), e.kind.label().into()),
                ("decision".into(), e.decision.names().0.into()),
                ("condition".into(), text(e.condition.as_deref())),
                ("public".into(), e.public.to_string().into()),
                ("actions".into(), e.actions.join(" ").into()),
            ]
        }))
        .to_string();
    // petgraph-graphml declares the attribute keys in hash order: sorted
    // here (they are consecutive lines), so the same graph is the same bytes.
    let mut lines: Vec<&str> = xml.lines().collect();
    let keys: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].trim_start().starts_with("<key "))
        .collect();
    if let (Some(&first), Some(&last)) = (keys.first(), keys.last()) {
        assert_eq!(last - first + 1, keys.len(), "GraphML keys are one block");
        lines[first..=last].sort_unstable();
    }
    lines.join("\n") + "\n"
}

/// Mermaid escapes quotes in a label as an entity.
fn mermaid_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "#quot;"))
}

pub fn mermaid(g: &Graph) -> String {
    let mut out = String::new();
    for note in &g.notes {
        out.push_str(&format!("%% note: {note}\n"));
    }
    out.push_str("flowchart LR\n");
    for (account, nodes) in clusters(g) {
        let indent = if account.is_some() { "    " } else { "  " };
        if let Some(a) = account {
            out.push_str(&format!("  subgraph account_{a}[\"account {a}\"]\n"));
        }
        for n in nodes {
            let w = &g.graph[n];
            let label = mermaid_quote(&node_label(w));
            let shape = match w.kind {
                NodeKind::Role => format!("[[{label}]]"),
                NodeKind::Group => format!("{{{{{label}}}}}"),
                NodeKind::Bucket | NodeKind::Prefix => format!("[({label})]"),
                NodeKind::Anonymous | NodeKind::Account => format!("((({label})))"),
                _ => format!("([{label}])"),
            };
            out.push_str(&format!("{indent}n{}{shape}\n", n.index()));
        }
        if account.is_some() {
            out.push_str("  end\n");
        }
    }
    for d in drawn(g) {
        let w = d.edge;
        let label = mermaid_quote(&d.label);
        let arrow = match (w.public, w.decision) {
            (true, _) => format!("== {label} ==>"),
            (false, Decision::Allow) => format!("-- {label} -->"),
            (false, _) => format!("-. {label} .->"),
        };
        out.push_str(&format!(
            "  n{} {arrow} n{}\n",
            d.from.index(),
            d.to.index()
        ));
    }
    out
}

const PAGE: &str = include_str!("../../assets/graph.html");
const CYTOSCAPE: &str = include_str!("../../assets/cytoscape.min.js");

/// The page's elements in Cytoscape.js's shape: accounts as compound
/// parents; node and edge data as in the node-link JSON.
fn elements(g: &Graph) -> Value {
    let mut out = Vec::new();
    for (account, _) in clusters(g) {
        if let Some(a) = account {
            out.push(json!({"data": {"id": format!("account:{a}:cluster"), "label": format!("account {a}"), "kind": "cluster"}}));
        }
    }
    for n in g.graph.node_indices() {
        let w = &g.graph[n];
        let mut data = node_json(w);
        data["id"] = json!(format!("n{}", n.index()));
        data["name"] = json!(w.id);
        if let Some(a) = &w.account {
            data["parent"] = json!(format!("account:{a}:cluster"));
        }
        out.push(json!({ "data": data }));
    }
    for e in g.graph.edge_references() {
        let mut data = edge_json(e.weight());
        data["id"] = json!(format!("e{}", e.id().index()));
        data["source"] = json!(format!("n{}", e.source().index()));
        data["target"] = json!(format!("n{}", e.target().index()));
        data["label"] = json!(edge_label(e.weight()));
        out.push(json!({ "data": data }));
    }
    Value::Array(out)
}

/// One page, nothing fetched: the graph's elements and notes as JSON in a
/// script (with `</` escaped so no string can close it), the library inline.
pub fn html(g: &Graph) -> String {
    let data = json!({"elements": elements(g), "notes": g.notes});
    let data = serde_json::to_string(&data)
        .expect("JSON of a graph")
        .replace("</", "<\\/");
    PAGE.replacen("/*@CYTOSCAPE@*/", CYTOSCAPE, 1)
        .replacen("/*@GRAPH@*/null", &data, 1)
}
