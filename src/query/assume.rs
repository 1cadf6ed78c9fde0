//! The can-assume graph, once per (estate, context): every sts:AssumeRole
//! request a role chain may take, decided by the rules in evaluations of
//! their own and kept by the engine. A hop does not depend on the scope, so
//! a query's evaluation carries only its S3 requests and the edges
//! (rules/80 R80.1), and `public`, `what can`, `graph` and a REPL session
//! decide each hop once. A query that reports only what may give access
//! grows the graph only by the hops into the roles its chains may need
//! (`Needed`); a later query decides the rest as it needs them.

use super::evaluation::{Apart, Evaluation};
use super::{Engine, Given, Stats};
use crate::catalog::{Catalog, ASSUME_ROLE};
use crate::datalog::{Decision, ReqId};
use crate::facts::{trust_may_name, Alike, Built, Resource, Subject};
use crate::model::PrincipalKind;
use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::borrow::Cow;
use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

/// The principals whose assumptions are decided so far, each with the
/// roles whose trust policy may name it that queries have needed. Grown,
/// never changed: a query that needs hops it does not have adds a part.
#[derive(Default)]
pub(super) struct AssumeGraph<'e> {
    /// The evaluations of the sts:AssumeRole requests: per growth, one of
    /// them all, and one of the conditional ones with their ways.
    parts: Vec<Arc<Evaluation<'e>>>,
    /// Each principal's hops decided so far, in estate order of the roles.
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

/// Per principal of the estate, the roles whose trust policy may name it
/// (the trust index narrows them, `trust_may_name` decides), in estate
/// order; per role, the roles that may so assume it. They do not depend on
/// the context: built once per engine.
pub(super) struct Candidates {
    of: Vec<Vec<usize>>,
    assumed_by: Vec<Vec<usize>>,
}

/// The roles whose hops a query needs. A chain gives access only through
/// the answer of its last role (R80.3), and a query that reports only what
/// may give access leaves out a role's requests that cannot reach
/// (`Built::may_reach`): a hop into a role none of whose requests may
/// reach, and from which no chain of roles whose trust policies may name
/// each other leads to one whose requests may, ends no chain that gives
/// access, and every role of a chain that does is needed.
pub(super) enum Needed {
    Every,
    Roles(Vec<bool>),
}

impl Needed {
    pub(super) fn has(&self, role: usize) -> bool {
        match self {
            Needed::Every => true,
            Needed::Roles(roles) => roles[role],
        }
    }
}

impl<'e> AssumeGraph<'e> {
    /// Every hop of a principal decided so far, whatever its decision (the
    /// rules keep those that may be taken: R80.1).
    pub(super) fn all_hops(&self, s: &Subject) -> &[Hop] {
        self.out.get(s).map(Vec::as_slice).unwrap_or_default()
    }

    /// The can-assume edges of a principal: its hops that may be taken.
    pub(super) fn hops<'a>(&'a self, s: &Subject) -> impl Iterator<Item = &'a Hop> + 'a {
        self.all_hops(s).iter().filter(|h| h.decision.reaches())
    }

    /// The hop from one principal to a role, if it may be taken (a
    /// chain's answers look up each of their hops: a principal's hops are
    /// in estate order of the roles, and an administrator's are hundreds).
    pub(super) fn hop(&self, from: &Subject, to: &Subject) -> Option<&Hop> {
        let Subject::Known(role) = to else {
            return None;
        };
        let hops = self.all_hops(from);
        let at = hops.binary_search_by_key(role, |h| h.role).ok()?;
        Some(&hops[at]).filter(|h| h.decision.reaches())
    }

    /// The evaluation that decided a hop (its answer, witnesses, reasons).
    pub(super) fn evaluation(&self, hop: &Hop) -> &Evaluation<'e> {
        &self.parts[hop.part]
    }

    /// Whether the graph has every hop of every principal a chain from
    /// `from` could reach: then no query from them needs more, and leaving
    /// hops out (`Needed`) would save nothing.
    fn whole_from(&self, engine: &Engine<'e>, from: &[Subject]) -> bool {
        let mut seen: HashSet<Subject> = from.iter().cloned().collect();
        let mut frontier: VecDeque<Subject> = from.iter().cloned().collect();
        while let Some(s) = frontier.pop_front() {
            let roles = engine.assumable_by(&s);
            // A principal's hops are one per role whose trust may name it.
            if self.all_hops(&s).len() != roles.len() {
                return false;
            }
            for &q in roles.iter() {
                if seen.insert(Subject::Known(q)) {
                    frontier.push_back(Subject::Known(q));
                }
            }
        }
        true
    }

    /// The needed roles a chain from `from` may reach (not those among
    /// `from`), in estate order.
    fn reached(&self, from: &[Subject], needed: &Needed) -> BTreeSet<usize> {
        let mut seen: HashSet<Subject> = from.iter().cloned().collect();
        let mut frontier: VecDeque<Subject> = from.iter().cloned().collect();
        let mut reached = BTreeSet::new();
        while let Some(s) = frontier.pop_front() {
            for hop in self.hops(&s).filter(|h| needed.has(h.role)) {
                if seen.insert(Subject::Known(hop.role)) {
                    reached.insert(hop.role);
                    frontier.push_back(Subject::Known(hop.role));
                }
            }
        }
        reached
    }

    /// The graph grown by the hops into needed roles of every principal a
    /// chain from `from` could reach that it does not have yet — a
    /// breadth-first walk over the needed roles whose trust policy may name
    /// the current principal (`Candidates`) — decided in one evaluation,
    /// the conditional ones made exact in another; `None` when it has them
    /// all.
    fn grown(
        &self,
        engine: &Engine<'e>,
        given: &Given,
        from: &[Subject],
        needed: &Needed,
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
        // Per source with new hops, those hops: one another principal's
        // the graph has, or one pending.
        let mut new_sources: Vec<(Subject, Vec<Result<Hop, usize>>)> = Vec::new();
        let mut seen: HashSet<Subject> = from.iter().cloned().collect();
        let mut frontier: VecDeque<Subject> = from.iter().cloned().collect();
        while let Some(s) = frontier.pop_front() {
            let had = self.all_hops(&s);
            let mut hops = Vec::new();
            for &q in engine.assumable_by(&s).iter() {
                if !needed.has(q) {
                    continue;
                }
                if seen.insert(Subject::Known(q)) {
                    frontier.push_back(Subject::Known(q));
                }
                if had.binary_search_by_key(&q, |h| h.role).is_ok() {
                    continue;
                }
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
            if !hops.is_empty() {
                new_sources.push((s, hops));
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
            let all = out.entry(s).or_default();
            all.extend(hops.into_iter().map(|h| {
                h.unwrap_or_else(|i| decided_hops[i].expect("every pending hop is decided"))
            }));
            all.sort_by_key(|h| h.role);
        }
        Some(AssumeGraph { parts, out, shared })
    }
}

impl<'e> Engine<'e> {
    fn candidates(&self) -> &Candidates {
        self.candidates.get_or_init(|| {
            let estate = self.estate;
            let of: Vec<Vec<usize>> = (0..estate.principals.len())
                .into_par_iter()
                .map(|p| self.assumable_from_trust(&Subject::Known(p)))
                .collect();
            let mut assumed_by = vec![Vec::new(); of.len()];
            for (p, roles) in of.iter().enumerate() {
                if estate.principals[p].kind == PrincipalKind::Role {
                    for &q in roles {
                        assumed_by[q].push(p);
                    }
                }
            }
            Candidates { of, assumed_by }
        })
    }

    fn assumable_from_trust(&self, s: &Subject) -> Vec<usize> {
        let estate = self.estate;
        self.index
            .trust
            .candidates(estate, s)
            .into_iter()
            .filter(|&q| Subject::Known(q) != *s && trust_may_name(estate, q, s))
            .collect()
    }

    /// The roles whose trust policy may name `s`, in estate order.
    fn assumable_by(&self, s: &Subject) -> Cow<'_, [usize]> {
        match s {
            Subject::Known(p) => Cow::Borrowed(&self.candidates().of[*p]),
            other => Cow::Owned(self.assumable_from_trust(other)),
        }
    }

    /// The roles a query from `from` needs the hops into (`Needed`): those
    /// whose own requests may reach its targets (`reaches`), and every role
    /// that may assume a needed one. `Every` when the graph of the query's
    /// context already has every hop from `from` (the scopes of
    /// `per_scope`, which grows it whole first): finding the roles asks
    /// every role of the estate about every target (`public`: hundreds of
    /// actions, per scope), which costs more than it saves there.
    pub(super) fn needed(
        &self,
        given: &Given,
        from: &[Subject],
        mut reaches: impl FnMut(usize) -> bool,
    ) -> Needed {
        let graph = self.assume_graphs().get(&given.key()).cloned();
        if graph.is_some_and(|g| g.whole_from(self, from)) {
            return Needed::Every;
        }
        let estate = self.estate;
        let assumed_by = &self.candidates().assumed_by;
        let mut needed = vec![false; assumed_by.len()];
        let mut stack: Vec<usize> = (0..estate.principals.len())
            .filter(|&q| estate.principals[q].kind == PrincipalKind::Role && reaches(q))
            .collect();
        for &q in &stack {
            needed[q] = true;
        }
        while let Some(q) = stack.pop() {
            for &r in &assumed_by[q] {
                if !std::mem::replace(&mut needed[r], true) {
                    stack.push(r);
                }
            }
        }
        Needed::Roles(needed)
    }

    /// The can-assume graph of a query's context with the hops into the
    /// roles `needed` of every principal a chain from `from` may reach, the
    /// needed roles reached, and what growing the graph for it cost
    /// (nothing when it had them all).
    pub(super) fn assume_graph(
        &self,
        given: &Given,
        from: &[Subject],
        needed: &Needed,
    ) -> (Arc<AssumeGraph<'e>>, BTreeSet<usize>, Stats) {
        let key = given.key();
        let current = self.assume_graphs().get(&key).cloned().unwrap_or_default();
        let (graph, stats) = match current.grown(self, given, from, needed) {
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
        let reached = graph.reached(from, needed);
        (graph, reached, stats)
    }
}
