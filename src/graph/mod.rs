//! The reachability graph of `bucketlog graph`: principals, groups and
//! resource scopes as nodes (clustered by account); member-of, can-assume
//! and access-by-verb edges. Every edge is read from the engine's answers
//! (`Engine::reach`) or the estate's memberships, so the graph decides
//! nothing the rules did not. `export` writes it out.

pub mod export;

use std::collections::{BTreeMap, HashMap, HashSet};

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;

use crate::catalog::Catalog;
use crate::datalog::Decision;
use crate::model::{arn_fields, Estate, PrincipalKind};
use crate::query::{Answer, Reach};
use crate::report::condition_words;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeKind {
    User,
    Role,
    Root,
    Group,
    /// Unsigned requests.
    Anonymous,
    /// An account the snapshot does not describe (`account:ID`).
    Account,
    Service,
    Bucket,
    Prefix,
}

impl NodeKind {
    pub fn name(self) -> &'static str {
        match self {
            NodeKind::User => "user",
            NodeKind::Role => "role",
            NodeKind::Root => "root",
            NodeKind::Group => "group",
            NodeKind::Anonymous => "anonymous",
            NodeKind::Account => "account",
            NodeKind::Service => "service",
            NodeKind::Bucket => "bucket",
            NodeKind::Prefix => "prefix",
        }
    }

    /// Callers outside every zone of trust: their edges are public grants.
    pub fn is_public(self) -> bool {
        matches!(self, NodeKind::Anonymous | NodeKind::Account)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Stable and unique: an ARN, `anonymous`, `account:ID`, `service:NAME`,
    /// `s3:SCOPE`, or `class:` and the first member of a collapsed node.
    pub id: String,
    pub label: String,
    pub kind: NodeKind,
    /// The account the node belongs to (its cluster), when it has one.
    pub account: Option<String>,
    /// The principals the node stands for: one, or every member of a
    /// collapsed node (principals with identical edges).
    pub members: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EdgeKind {
    MemberOf,
    CanAssume,
    /// Access by verb (`read`, `write`, `list`, `delete`, `admin`), or by
    /// action name for an action no verb names.
    Access(&'static str),
}

impl EdgeKind {
    pub fn name(self) -> &'static str {
        match self {
            EdgeKind::MemberOf => "member-of",
            EdgeKind::CanAssume => "can-assume",
            EdgeKind::Access(_) => "access",
        }
    }

    /// What the edge is labelled with: the verb of an access edge.
    pub fn label(self) -> &'static str {
        match self {
            EdgeKind::Access(verb) => verb,
            other => other.name(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Edge {
    pub kind: EdgeKind,
    /// The best decision of the answers behind the edge (`allow` for
    /// member-of); conditional edges are drawn dashed.
    pub decision: Decision,
    /// The condition in words of a conditional or unknown edge.
    pub condition: Option<String>,
    /// An access edge of a caller outside every zone of trust.
    pub public: bool,
    /// The actions the edge stands for, at its decision.
    pub actions: Vec<String>,
}

/// A graph ready to export, with the notes a reader must see (collapsed
/// principals, a cap).
pub struct Graph {
    pub graph: DiGraph<Node, Edge>,
    pub notes: Vec<String>,
}

/// How the graph is drawn.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// At most this many nodes: beyond, the nodes with the most edges are
    /// kept and a note says how many were left out.
    pub max_nodes: usize,
}

/// Nodes and edges by id while they are gathered: sorted maps, so the
/// graph comes out the same every run.
#[derive(Default)]
struct Draft {
    nodes: BTreeMap<String, Node>,
    edges: BTreeMap<(String, String, EdgeKind), Edge>,
}

impl Draft {
    /// Adds an edge, or keeps the better of it and the one already there
    /// (the better decision, its actions joined with those of equal ones).
    fn edge(&mut self, from: &str, to: &str, e: Edge) {
        let key = (from.to_string(), to.to_string(), e.kind);
        match self.edges.get_mut(&key) {
            None => {
                self.edges.insert(key, e);
            }
            Some(old) if e.decision < old.decision => *old = e,
            Some(old) if e.decision == old.decision => {
                for a in e.actions {
                    if !old.actions.contains(&a) {
                        old.actions.push(a);
                    }
                }
                old.actions.sort();
                if old.condition.is_none() {
                    old.condition = e.condition;
                }
            }
            Some(_) => {}
        }
    }
}

/// The graph of the engine's answers (`reach`) over the estate.
pub fn build(estate: &Estate, reach: &Reach, shape: Shape) -> Graph {
    let by_arn: HashMap<&str, usize> = estate
        .principals
        .iter()
        .enumerate()
        .map(|(i, p)| (p.arn.as_str(), i))
        .collect();
    let principal = |id: &str| -> Node {
        let (kind, label, account) = match by_arn.get(id).map(|&i| &estate.principals[i]) {
            Some(p) => {
                let kind = match p.kind {
                    PrincipalKind::User => NodeKind::User,
                    PrincipalKind::Role => NodeKind::Role,
                    PrincipalKind::Root => NodeKind::Root,
                };
                let label = p.short_name().unwrap_or_else(|| "root".into());
                (kind, label, Some(p.account.clone()))
            }
            None if id == "anonymous" => (NodeKind::Anonymous, id.to_string(), None),
            None if id.starts_with("service:") => (NodeKind::Service, id.to_string(), None),
            None => {
                let account = id
                    .strip_prefix("account:")
                    .or_else(|| arn_fields(id).map(|f| f[4]))
                    .map(str::to_string);
                (NodeKind::Account, id.to_string(), account)
            }
        };
        Node {
            id: id.to_string(),
            label,
            kind,
            account,
            members: vec![id.to_string()],
        }
    };
    let catalog = Catalog::get();
    // Answers name an access point by its ARN.
    let points: HashMap<String, &crate::model::AccessPoint> = estate
        .access_points
        .iter()
        .map(|ap| (ap.arn(), ap))
        .collect();
    let mut d = Draft::default();
    for (scope, answers) in &reach.scopes {
        let to = format!("s3:{scope}");
        let bucket = scope.split('/').next().unwrap_or(scope);
        d.nodes.entry(to.clone()).or_insert_with(|| Node {
            id: to.clone(),
            label: scope.clone(),
            kind: if scope.contains('/') {
                NodeKind::Prefix
            } else {
                NodeKind::Bucket
            },
            account: estate.bucket(bucket).map(|b| b.account.clone()),
            members: Vec::new(),
        });
        for a in answers {
            if a.via.len() == 1 {
                let from = d
                    .nodes
                    .entry(a.principal.clone())
                    .or_insert_with(|| principal(&a.principal));
                let verb = match catalog.verb_of(&a.action) {
                    "other" => catalog.find(&a.action).map_or("other", |x| x.name.as_str()),
                    verb => verb,
                };
                let public = from.kind.is_public();
                // Access through an access point ends at the access point,
                // drawn as a scope of the bucket in the access point's account.
                let to = match a.access_point.as_deref().and_then(|arn| points.get(arn)) {
                    Some(ap) => {
                        let id = format!("s3:ap:{}", ap.arn());
                        d.nodes.entry(id.clone()).or_insert_with(|| Node {
                            id: id.clone(),
                            label: format!("{} (ap:{})", ap.bucket, ap.name),
                            kind: NodeKind::Prefix,
                            account: Some(ap.account.clone()),
                            members: Vec::new(),
                        });
                        id
                    }
                    None => to.clone(),
                };
                d.edge(&a.principal, &to, edge(a, EdgeKind::Access(verb), public));
            }
            for hop in &a.hops {
                for id in [hop.principal.as_str(), &hop.resource] {
                    d.nodes
                        .entry(id.to_string())
                        .or_insert_with(|| principal(id));
                }
                d.edge(
                    &hop.principal,
                    &hop.resource,
                    edge(hop, EdgeKind::CanAssume, false),
                );
            }
        }
    }
    // Groups of the users drawn.
    let users: Vec<usize> = d
        .nodes
        .keys()
        .filter_map(|id| by_arn.get(id.as_str()).copied())
        .collect();
    for i in users {
        let p = &estate.principals[i];
        for g in p.groups.iter().filter_map(|g| estate.group(&p.account, g)) {
            d.nodes.entry(g.arn.clone()).or_insert_with(|| Node {
                id: g.arn.clone(),
                label: format!("group/{}", g.name),
                kind: NodeKind::Group,
                account: Some(g.account.clone()),
                members: Vec::new(),
            });
            d.edge(
                &p.arn,
                &g.arn,
                Edge {
                    kind: EdgeKind::MemberOf,
                    decision: Decision::Allow,
                    condition: None,
                    public: false,
                    actions: Vec::new(),
                },
            );
        }
    }
    let mut notes = Vec::new();
    collapse(&mut d, &mut notes);
    let mut graph = to_petgraph(d);
    cap(&mut graph, shape.max_nodes, &mut notes);
    Graph { graph, notes }
}

fn edge(a: &Answer, kind: EdgeKind, public: bool) -> Edge {
    Edge {
        kind,
        decision: a.decision,
        condition: condition_words(a),
        public,
        actions: vec![a.action.to_string()],
    }
}

/// Principals nothing points at, of one kind and account, with identical
/// edges become one node that counts them: on a real estate most users
/// differ only by name.
fn collapse(d: &mut Draft, notes: &mut Vec<String>) {
    let pointed: HashSet<&String> = d.edges.keys().map(|k| &k.1).collect();
    let mut out_edges: BTreeMap<&String, Vec<(&String, &EdgeKind, &Edge)>> = BTreeMap::new();
    for ((from, to, kind), e) in &d.edges {
        out_edges.entry(from).or_default().push((to, kind, e));
    }
    // Principals by what they look like: kind, account and every edge out.
    type Look<'d> = (
        NodeKind,
        Option<&'d String>,
        Vec<(&'d String, &'d EdgeKind, &'d Edge)>,
    );
    let mut alike: BTreeMap<Look, Vec<String>> = BTreeMap::new();
    for (id, n) in &d.nodes {
        let principal = !matches!(
            n.kind,
            NodeKind::Group | NodeKind::Bucket | NodeKind::Prefix
        );
        if principal && !pointed.contains(id) {
            if let Some(edges) = out_edges.get(id) {
                alike
                    .entry((n.kind, n.account.as_ref(), edges.clone()))
                    .or_default()
                    .push(id.clone());
            }
        }
    }
    let classes: Vec<Vec<String>> = alike.into_values().filter(|m| m.len() > 1).collect();
    let mut merged = 0;
    for members in &classes {
        let first = &d.nodes[&members[0]];
        let id = format!("class:{}", first.id);
        let node = Node {
            id: id.clone(),
            label: format!("{} (+{} alike)", first.label, members.len() - 1),
            kind: first.kind,
            account: first.account.clone(),
            members: members.clone(),
        };
        let edges: Vec<((String, String, EdgeKind), Edge)> = d
            .edges
            .range((members[0].clone(), String::new(), EdgeKind::MemberOf)..)
            .take_while(|(k, _)| k.0 == members[0])
            .map(|((_, to, kind), e)| ((id.clone(), to.clone(), *kind), e.clone()))
            .collect();
        for m in members {
            d.nodes.remove(m);
        }
        d.edges.retain(|k, _| !members.contains(&k.0));
        d.edges.extend(edges);
        d.nodes.insert(id, node);
        merged += members.len();
    }
    if merged > 0 {
        notes.push(format!(
            "{merged} principals with identical edges are drawn as {} nodes, each labelled with its count",
            classes.len()
        ));
    }
}

fn to_petgraph(d: Draft) -> DiGraph<Node, Edge> {
    let mut g = DiGraph::new();
    let mut at = HashMap::new();
    for (id, n) in d.nodes {
        at.insert(id, g.add_node(n));
    }
    for ((from, to, _), e) in d.edges {
        g.add_edge(at[&from], at[&to], e);
    }
    g
}

/// Keeps at most `max` nodes, those with the most edges (then by id), and
/// says so: a graph past a few hundred nodes cannot be read.
fn cap(g: &mut DiGraph<Node, Edge>, max: usize, notes: &mut Vec<String>) {
    let total = g.node_count();
    if total <= max {
        return;
    }
    let edges = g.edge_count();
    let mut rank: Vec<_> = g
        .node_indices()
        .map(|n| {
            let degree = g.edges_directed(n, Direction::Outgoing).count()
                + g.edges_directed(n, Direction::Incoming).count();
            (std::cmp::Reverse(degree), &g[n].id, n)
        })
        .collect();
    rank.sort();
    let keep: HashSet<NodeIndex> = rank.iter().take(max).map(|r| r.2).collect();
    *g = g.filter_map(
        |n, w| keep.contains(&n).then(|| w.clone()),
        |_, e| Some(e.clone()),
    );
    notes.push(format!(
        "graph capped at {} of {total} nodes ({} of {edges} edges), those with the most edges: narrow it with --from, --to, --verb or --max-hops, or raise --max-nodes",
        g.node_count(),
        g.edge_count()
    ));
}
