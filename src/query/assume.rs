//! The can-assume graph, once per (estate, context): every sts:AssumeRole
//! request a role chain may take, decided by the rules in evaluations of
//! their own and kept by the engine. It does not depend on the scope, so a
//! query's evaluation carries only its S3 requests and the edges
//! (rules/80 R80.1), and `public`, `what can`, `graph` and a REPL session
//! decide each hop once.

use super::evaluation::{Apart, Evaluation};
use super::{Engine, Given, Stats};
use crate::catalog::{Catalog, ASSUME_ROLE};
use crate::datalog::{Decision, ReqId};
use crate::facts::{trust_may_name, Alike, Built, Resource, Subject};
use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

/// The principals whose assumptions are decided so far, each with every
/// role whose trust policy may name it. Grown, never changed: a query that
/// starts from principals not yet in it adds a part.
#[derive(Default)]
pub(super) struct AssumeGraph<'e> {
    /// The evaluations of the sts:AssumeRole requests: per growth, one of
    /// them all, and one of the conditional ones with their ways.
    parts: Vec<Arc<Evaluation<'e>>>,
    /// Each principal's hops, in estate order of the roles.
    out: HashMap<Subject, Vec<Hop>>,
    /// The hops to a role that members of a class (`Classes::assuming`)
    /// take alike: every member's whose identity and boundary statements
    /// meet the hop alike (`Built::alike_on_hop`) and whom the role's trust
    /// policy does not name (`Classes::trust_names`), whichever member the
    /// graph decided it for.
    shared: HashMap<Shared, Hop>,
}

/// Which hops are one: (class, role, what tells the class's members apart
/// on the hop).
type Shared = (usize, usize, Alike);

/// One principal's sts:AssumeRole request on a role, as the rules decided it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Hop {
    pub role: usize,
    pub decision: Decision,
    part: usize,
    pub req: ReqId,
}

impl<'e> AssumeGraph<'e> {
    /// Every hop of a principal, whatever its decision (the rules keep
    /// those that may be taken: R80.1).
    pub(super) fn all_hops(&self, s: &Subject) -> &[Hop] {
        self.out.get(s).map(Vec::as_slice).unwrap_or_default()
    }

    /// The can-assume edges of a principal: its hops that may be taken.
    pub(super) fn hops<'a>(&'a self, s: &Subject) -> impl Iterator<Item = &'a Hop> + 'a {
        self.all_hops(s).iter().filter(|h| h.decision.reaches())
    }

    pub(super) fn hop(&self, from: &Subject, to: &Subject) -> Option<&Hop> {
        let Subject::Known(role) = to else {
            return None;
        };
        self.hops(from).find(|h| h.role == *role)
    }

    /// The evaluation that decided a hop (its answer, witnesses, reasons).
    pub(super) fn evaluation(&self, hop: &Hop) -> &Evaluation<'e> {
        &self.parts[hop.part]
    }

    /// The roles a chain from `from` may reach (not those among `from`),
    /// in estate order.
    fn reached(&self, from: &[Subject]) -> BTreeSet<usize> {
        let mut seen: HashSet<Subject> = from.iter().cloned().collect();
        let mut frontier: VecDeque<Subject> = from.iter().cloned().collect();
        let mut reached = BTreeSet::new();
        while let Some(s) = frontier.pop_front() {
            for hop in self.hops(&s) {
                if seen.insert(Subject::Known(hop.role)) {
                    reached.insert(hop.role);
                    frontier.push_back(Subject::Known(hop.role));
                }
            }
        }
        reached
    }

    /// The graph grown by the hops of every principal a chain from `from`
    /// could reach that it does not have yet — a breadth-first walk over
    /// the roles whose trust policy may name the current principal (the
    /// trust index narrows them, `trust_may_name` decides) — decided in one
    /// evaluation, the conditional ones made exact in another; `None` when
    /// it has them all.
    fn grown(
        &self,
        engine: &Engine<'e>,
        given: &Given,
        from: &[Subject],
    ) -> Option<AssumeGraph<'e>> {
        let estate = engine.estate;
        let assume = Catalog::get()
            .find(ASSUME_ROLE)
            .expect("the catalogue has sts:AssumeRole");
        // The hops to decide, each once: a principal's hop on a role whose
        // trust policy does not name it is shared by the members of its
        // class for sts:AssumeRole (`Classes::assuming`) whose statements
        // meet it alike, decided for the first member that asks.
        let classes = &engine.index.assume_classes;
        let mut meeting = Built::new(estate, engine.index.clone());
        let mut pending: Vec<(Subject, usize)> = Vec::new();
        let mut own_at: HashMap<(Subject, usize), usize> = HashMap::default();
        let mut shared_at: HashMap<Shared, usize> = HashMap::default();
        // Per new source, its roles: a hop the graph has, or one pending.
        let mut new_sources: Vec<(Subject, Vec<Result<Hop, usize>>)> = Vec::new();
        let mut seen: HashSet<Subject> = from.iter().cloned().collect();
        let mut frontier: VecDeque<Subject> = from.iter().cloned().collect();
        while let Some(s) = frontier.pop_front() {
            let roles: Vec<usize> = match self.out.get(&s) {
                Some(hops) => hops.iter().map(|h| h.role).collect(),
                None => {
                    let roles: Vec<usize> = engine
                        .index
                        .trust
                        .candidates(estate, &s)
                        .into_iter()
                        .filter(|&q| Subject::Known(q) != s && trust_may_name(estate, q, &s))
                        .collect();
                    let mut hops = Vec::with_capacity(roles.len());
                    for &q in &roles {
                        let class = match s {
                            Subject::Known(p) if !classes.trust_names(estate, q, p) => meeting
                                .alike_on_hop(p, q)
                                .map(|alike| (classes.class_of(p), q, alike)),
                            _ => None,
                        };
                        if let Some(hop) = class.as_ref().and_then(|k| self.shared.get(k)) {
                            hops.push(Ok(*hop));
                            continue;
                        }
                        let next = pending.len();
                        let at = match class {
                            Some(k) => *shared_at.entry(k).or_insert(next),
                            None => *own_at.entry((s.clone(), q)).or_insert(next),
                        };
                        if at == next {
                            pending.push((s.clone(), q));
                        }
                        hops.push(Err(at));
                    }
                    new_sources.push((s.clone(), hops));
                    roles
                }
            };
            for q in roles {
                if seen.insert(Subject::Known(q)) {
                    frontier.push_back(Subject::Known(q));
                }
            }
        }
        if new_sources.is_empty() {
            return None;
        }
        // Each hop is decided by its own facts, so the hops split into
        // groups with the same decisions, by role (one trust policy's
        // statements are matched once per group), decided on rayon's
        // threads: a run of the rules costs more per request the more it
        // holds (ARCHITECTURE.md, "Where the cost is paid").
        let mut order: Vec<usize> = (0..pending.len()).collect();
        order.sort_by_key(|&i| pending[i].1);
        let groups: Vec<&[usize]> = order.chunks(engine.index.hops_per_group).collect();
        let decided: Vec<Apart<'e>> = groups
            .par_iter()
            .map(|group| {
                let requests: Vec<_> = group
                    .iter()
                    .map(|&i| (pending[i].0.clone(), assume, Resource::Role(pending[i].1)))
                    .collect();
                Apart::new(engine, given, &requests)
            })
            .collect();
        let mut parts = self.parts.clone();
        let mut decided_hops: Vec<Option<Hop>> = vec![None; pending.len()];
        for (group, apart) in groups.into_iter().zip(decided) {
            let base = parts.len();
            for (k, &i) in group.iter().enumerate() {
                let (part, req) = apart.of(k);
                decided_hops[i] = Some(Hop {
                    role: pending[i].1,
                    decision: apart.decision(k),
                    part: base + part,
                    req,
                });
            }
            parts.extend(apart.parts.into_iter().map(Arc::new));
        }
        let mut shared = self.shared.clone();
        for (k, i) in shared_at {
            shared.insert(k, decided_hops[i].expect("every pending hop is decided"));
        }
        let mut out = self.out.clone();
        for (s, hops) in new_sources {
            let mut hops: Vec<Hop> = hops
                .into_iter()
                .map(|h| {
                    h.unwrap_or_else(|i| decided_hops[i].expect("every pending hop is decided"))
                })
                .collect();
            hops.sort_by_key(|h| h.role);
            out.insert(s, hops);
        }
        Some(AssumeGraph { parts, out, shared })
    }
}

impl<'e> Engine<'e> {
    /// The can-assume graph of a query's context with the hops of every
    /// principal a chain from `from` may reach, the roles reached, and what
    /// growing the graph for it cost (nothing when it had them all).
    pub(super) fn assume_graph(
        &self,
        given: &Given,
        from: &[Subject],
    ) -> (Arc<AssumeGraph<'e>>, BTreeSet<usize>, Stats) {
        let key = given.key();
        let current = self.assume_graphs().get(&key).cloned().unwrap_or_default();
        let (graph, stats) = match current.grown(self, given, from) {
            Some(grown) => {
                let mut stats = Stats::default();
                for part in &grown.parts[current.parts.len()..] {
                    stats += part.stats();
                }
                let grown = Arc::new(grown);
                self.assume_graphs().insert(key, grown.clone());
                (grown, stats)
            }
            None => (current, Stats::default()),
        };
        let reached = graph.reached(from);
        (graph, reached, stats)
    }
}
