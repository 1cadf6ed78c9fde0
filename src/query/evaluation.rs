//! One evaluation: the facts a query's requests need, the rules run over
//! them (twice when conditional answers are made exact), and the derived
//! relations indexed by request, read back into `Answer`s.

use super::assume::{AssumeGraph, Hop, Needed};
use super::{Answer, Engine, Given, Reason, Scope, Stats, Targets, Witness};
use crate::datalog::{self, Decision, EntId, ReqId};
use crate::facts::{Built, Resource, StmtOrigin, Subject};
use crate::index::HeadersRead;
use crate::model::Estate;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

/// A request the query asks, as evaluated: for another member of its
/// principal's class (`classes::Classes`), the answer is that principal's,
/// under the member's name.
#[derive(Clone, Copy, Debug)]
pub(super) struct Asked {
    pub(super) req: ReqId,
    /// The principal asked about, when it is not the one evaluated.
    pub(super) member: Option<usize>,
}

/// What answers share, each built once and before any is copied, on
/// rayon's threads (`Evaluation::copies`): the answers of requests that
/// several members of a class share, and a role's own answer that every
/// chain reaching its request copies.
struct Copies {
    shared: HashMap<ReqId, Vec<Answer>>,
    /// Per request asked that is not an allow, the roles' requests that
    /// its subject's chains reach with the same action on the same
    /// resource, with the chains' best decision (R80.3).
    reached: HashMap<ReqId, Reached>,
    /// A role's answer to a request by the decision of the chains to it,
    /// before it is named for the principal at the head of a chain.
    roles: HashMap<(ReqId, Decision), Answer>,
}

/// The roles' requests that a subject's chains reach, each with the
/// chains' best decision (R80.3).
type Reached = Vec<(ReqId, Decision)>;

/// One evaluation: facts for the S3 requests of `subjects` on `scope` and of
/// the roles their chains reach, with the can-assume edges among them (or,
/// in the can-assume graph, the sts:AssumeRole requests); the derived
/// relations are indexed by request once, so answers are read in constant
/// time.
pub(super) struct Evaluation<'e> {
    pub(super) built: Built<'e>,
    /// Rows of rules/90-sanity.dl's relations, which must stay empty.
    pub(super) sanity_violations: usize,
    /// Input facts of the last run of the rules.
    pub(super) facts: usize,
    pub(super) direct: Vec<Asked>,
    answer: HashMap<ReqId, Decision>,
    because: HashMap<ReqId, Vec<datalog::StmtId>>,
    blocked_by: HashMap<ReqId, Vec<datalog::Layer>>,
    open_layer: HashMap<ReqId, Vec<datalog::Open>>,
    implicit: HashMap<ReqId, Vec<datalog::Implicit>>,
    unknown_because: HashMap<ReqId, Vec<datalog::StmtId>>,
    applicable: HashMap<ReqId, Vec<(datalog::StmtId, datalog::Guard)>>,
    /// The object states of a request on a free-owner scope, with their decisions.
    variants: HashMap<ReqId, Vec<(ReqId, Decision)>>,
    /// A request through an access point: its requests at the access point
    /// and at the bucket (rules/77).
    through: HashMap<ReqId, [ReqId; 2]>,
    /// The request S3 makes to KMS for a read (rules/78), by the read.
    side_requests: HashMap<ReqId, ReqId>,
    /// The can-assume graph the chains were read from (none in the graph's
    /// own evaluations, and in a batch of decisions).
    graph: Option<Arc<AssumeGraph<'e>>>,
    /// What building the graph's new parts for this query cost.
    assume_stats: Stats,
    /// S3 requests a principal reaches through a chain, with the best decision.
    chains: HashMap<EntId, BTreeMap<ReqId, Decision>>,
    /// Per statement, how answers name it, once asked (`reason`).
    reasons: Vec<std::sync::OnceLock<Reason>>,
    /// Chain answers carry each hop's own answer (`why`).
    pub(super) explain: bool,
    /// Answers carry the statements each layer considered (`why`, and
    /// `public`, which names the grants Block Public Access neutralises);
    /// no other query shows them.
    pub(super) layers: bool,
}

fn index<T, K: std::hash::Hash + Eq, V>(
    items: impl IntoIterator<Item = T>,
    kv: impl Fn(T) -> (K, V),
) -> HashMap<K, Vec<V>> {
    let mut out: HashMap<K, Vec<V>> = HashMap::default();
    for item in items {
        let (k, v) = kv(item);
        out.entry(k).or_default().push(v);
    }
    out
}

/// Which of its subjects' answers a query reports.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Reported {
    /// Every answer, denials with what decided them (`can`, `why`).
    Every,
    /// Only answers that may give access (`who can`, `what can`, `public`,
    /// `graph`): requests that cannot reach are left out
    /// (`Built::may_reach`).
    Reaching,
}

pub(super) fn evaluate<'e>(
    engine: &Engine<'e>,
    subjects: &[Subject],
    targets: &Targets,
    given: &Given,
    reported: Reported,
) -> Evaluation<'e> {
    let mut built = built_for(engine, given);
    let leave_out = engine.index.leave_out_unreachable;
    let mut asked: Vec<Subject> = subjects.to_vec();
    asked.sort();
    asked.dedup();
    // One member of each class of users is evaluated: the first asked;
    // the others are answered from its requests.
    let mut first_of: HashMap<usize, usize> = HashMap::default();
    let mut evaluated: Vec<Subject> = Vec::new();
    let mut direct = Vec::new();
    for s in &asked {
        let (who, member) = match s {
            Subject::Known(p) => {
                let first = *first_of
                    .entry(engine.index.classes.class_of(*p))
                    .or_insert(*p);
                (Subject::Known(first), (first != *p).then_some(*p))
            }
            other => (other.clone(), None),
        };
        if member.is_none() {
            evaluated.push(who.clone());
        }
        for (a, res) in targets {
            let req = match leave_out
                && reported == Reported::Reaching
                && !built.may_reach(&who, &a.name, res)
            {
                true => built.left_out(&who, a, res.clone()),
                false => built.request(&who, a, res.clone()),
            };
            direct.push(Asked { req, member });
        }
    }
    // The roles a chain from the subjects may reach, from the can-assume
    // graph of this context (built once, as far as queries need it): the
    // same S3 requests for every role reached, and the edges among them. A
    // chain gives access only through a role's answer that may (R80.3), so
    // a role's requests that cannot reach are left out, and so are the
    // hops that can lead to none that may (`Needed`).
    let needed = match leave_out && reported == Reported::Reaching {
        true => engine.needed(given, &evaluated, |q| {
            targets
                .iter()
                .any(|(a, res)| built.may_reach(&Subject::Known(q), &a.name, res))
        }),
        false => Needed::Every,
    };
    let (graph, reached, assume_stats) = engine.assume_graph(given, &evaluated, &needed);
    for &q in &reached {
        let role = Subject::Known(q);
        for (a, res) in targets {
            if !leave_out || built.may_reach(&role, &a.name, res) {
                built.request(&role, a, res.clone());
            }
        }
    }
    for s in &evaluated {
        built.chain_head(s);
    }
    let sources = evaluated
        .iter()
        .cloned()
        .chain(reached.iter().map(|&q| Subject::Known(q)));
    for s in sources {
        for hop in graph.all_hops(&s).iter().filter(|h| needed.has(h.role)) {
            built.assume_edge(&s, hop.role, hop.decision);
        }
    }
    let mut ev = Evaluation::exact(engine, built, direct);
    ev.graph = Some(graph);
    ev.assume_stats = assume_stats;
    ev
}

/// `evaluate` with no context, reporting only answers that may give
/// access (`public`, `graph`, a proof's subjects).
pub(super) fn reaching<'e>(
    engine: &Engine<'e>,
    subjects: &[Subject],
    targets: &Targets,
) -> Evaluation<'e> {
    evaluate(
        engine,
        subjects,
        targets,
        &Given::default(),
        Reported::Reaching,
    )
}

/// The facts of an evaluation under a query's context, before any request.
pub(super) fn built_for<'e>(engine: &Engine<'e>, given: &Given) -> Built<'e> {
    let mut built = Built::new(engine.estate, engine.index.clone());
    if given.closed {
        built.close_context();
    }
    if given.public_only {
        built.public_grants_only();
    }
    for c in &given.constraints {
        built.constrain(c.clone());
    }
    for item in &given.context {
        let values = item.value.texts().into_iter().map(str::to_string).collect();
        built.fix(&item.key.text, values);
    }
    built
}

/// What `ask` gives on each scope, in the scopes' order, asked on rayon's
/// threads (one evaluation per scope), with what growing the can-assume
/// graph for `subjects` cost. That graph, which they all share, is grown
/// first, so that each scope finds it whole and no two threads grow it
/// (ARCHITECTURE.md, "Where the cost is paid").
pub(super) fn per_scope<T: Send>(
    engine: &Engine,
    subjects: &[Subject],
    scopes: &[Scope],
    ask: impl Fn(&Scope) -> T + Sync + Send,
) -> (Vec<T>, Stats) {
    use rayon::prelude::*;
    let (_, _, stats) = engine.assume_graph(&Given::default(), subjects, &Needed::Every);
    (scopes.par_iter().map(ask).collect(), stats)
}

/// The decisions of concrete requests, each as its principal makes it (no
/// chains): `Engine::decisions`.
pub(super) fn decide(
    engine: &Engine,
    requests: &[(Subject, &crate::catalog::Action, Resource)],
) -> Vec<Decision> {
    use rayon::prelude::*;
    // Each request is decided by its own facts, so the batch splits into
    // parts with the same decisions, run on rayon's threads. Requests on
    // one bucket share its upload checks (who may own its unlisted
    // objects), so the parts follow the buckets. Measured on the large
    // estate (2 cores, 10,000 decisions): parts of 100 took 17 s and 1.0
    // GiB; of 300, 17 s and 1.1 GiB; of 30, 26 s; one part per thread, 26 s
    // and 1.9 GiB; the whole batch in one part, 42–50 s and 1.7–1.9 GiB.
    const PART: usize = 100;
    let mut order: Vec<usize> = (0..requests.len()).collect();
    order.sort_by_key(|&i| sharing(&requests[i].2));
    let part = requests
        .len()
        .div_ceil(rayon::current_num_threads())
        .clamp(1, PART);
    let decided: Vec<Vec<Decision>> = order
        .par_chunks(part)
        .map(|asked| {
            let chunk: Vec<_> = asked.iter().map(|&i| requests[i].clone()).collect();
            let apart = Apart::new(engine, &Given::default(), &chunk);
            (0..chunk.len()).map(|k| apart.decision(k)).collect()
        })
        .collect();
    let mut out = vec![Decision::Unknown; requests.len()];
    for (asked, decisions) in order.chunks(part).zip(decided) {
        for (&i, d) in asked.iter().zip(decisions) {
            out[i] = d;
        }
    }
    out
}

/// What a request's resource belongs to: requests on one bucket (or
/// access point) share the facts of its scopes and uploads.
fn sharing(r: &Resource) -> (u8, usize) {
    match r {
        Resource::Bucket(b) | Resource::Objects(b, _) | Resource::Uploaded(b, ..) => (0, *b),
        Resource::AccessPoint(a, _) | Resource::Through(a, _) => (1, *a),
        Resource::Role(i) => (2, *i),
        Resource::Key(k, _) => (3, *k),
    }
}

/// Requests that each decide by their own facts — no chain joins them (a
/// batch of decisions, the hops of the can-assume graph): the rules run
/// once over them all, then the conditional ones alone are evaluated again
/// and made exact by their ways (`Evaluation::exact`), instead of every
/// request again. Only a conditional answer can change with its ways.
pub(super) struct Apart<'e> {
    pub(super) parts: Vec<Evaluation<'e>>,
    /// Per request asked, the part that decided it and its id there.
    of: Vec<(usize, ReqId)>,
}

impl<'e> Apart<'e> {
    pub(super) fn new(
        engine: &Engine<'e>,
        given: &Given,
        requests: &[(Subject, &crate::catalog::Action, Resource)],
    ) -> Apart<'e> {
        let build = |asked: &mut dyn Iterator<Item = usize>| {
            let mut built = built_for(engine, given);
            let direct: Vec<Asked> = asked
                .map(|i| {
                    let (s, a, r) = &requests[i];
                    Asked {
                        req: built.request(s, a, r.clone()),
                        member: None,
                    }
                })
                .collect();
            (built, direct)
        };
        let (built, direct) = build(&mut (0..requests.len()));
        let first = Evaluation::settled(engine, built, direct);
        let mut of: Vec<(usize, ReqId)> = first.direct.iter().map(|a| (0, a.req)).collect();
        let open: Vec<usize> = (0..requests.len())
            .filter(|&i| first.decision(of[i].1) == Decision::Conditional)
            .collect();
        // Without a way to enumerate, the second run would change nothing.
        let ways = !open.is_empty() && !first.ways_to_add().is_empty();
        let mut parts = vec![first];
        if ways {
            let (built, direct) = build(&mut open.iter().copied());
            let exact = Evaluation::exact(engine, built, direct);
            for (k, &i) in open.iter().enumerate() {
                of[i] = (1, exact.direct[k].req);
            }
            parts.push(exact);
        }
        Apart { parts, of }
    }

    /// The part that decided the request asked at `i`, and its id there.
    pub(super) fn of(&self, i: usize) -> (usize, ReqId) {
        self.of[i]
    }

    pub(super) fn decision(&self, i: usize) -> Decision {
        let (p, r) = self.of[i];
        self.parts[p].decision(r)
    }
}

impl<'e> Evaluation<'e> {
    /// Runs the rules, then makes conditional answers exact in the same
    /// evaluation (no replay): every feasible way a conditional request's
    /// conditions go together becomes a variant of it with those keys
    /// fixed, and the rules quantify over them (rules/75) — chains, which
    /// read the answers, become exact with them.
    pub(super) fn exact(
        engine: &Engine<'e>,
        mut built: Built<'e>,
        direct: Vec<Asked>,
    ) -> Evaluation<'e> {
        // The chains read the requests' answers and no answer reads the
        // chains (rules/80), so a first run whose answers only say which
        // requests have ways may leave the can-assume edges out: deriving
        // every chain is most of a `who can`'s run (on the large estate,
        // 36,000 edges for 12,000 requests give 81,000 chain answers), and
        // the second run derives them again. Where the edges are fewer
        // than the requests (`what can`: one principal's chains), the
        // chains cost little, and a first run without them would be a
        // whole run more whenever no request turns out to have ways
        // (medium `what can`: about 5% slower). Without a conditional
        // statement no request has ways, and one run is the last.
        let chains_dominate = built.facts.assume_edges.len() > built.requests.len();
        let set_aside = (chains_dominate && built.may_have_ways())
            .then(|| std::mem::take(&mut built.facts.assume_edges));
        let ev = Evaluation::settled(engine, built, direct);
        let ways = ev.ways_to_add();
        if ways.is_empty() && set_aside.is_none() {
            return ev;
        }
        let (mut built, direct) = ev.into_facts();
        if let Some(edges) = set_aside {
            built.facts.assume_edges = edges;
        }
        for (r, keys) in ways {
            for k in keys {
                built.way_request(r, k);
            }
        }
        Evaluation::derive(engine, built, direct)
    }

    /// Runs the rules; where the ACL uploaders may set turns on the upload
    /// checks' decisions, settles it from this run and derives again
    /// (`facts::settle_uploader_acls`).
    fn settled(engine: &Engine<'e>, built: Built<'e>, direct: Vec<Asked>) -> Evaluation<'e> {
        let mut ev = Evaluation::derive(engine, built, direct);
        if !ev.built.has_unsettled_acls() {
            return ev;
        }
        let answer = std::mem::take(&mut ev.answer);
        let (mut built, direct) = ev.into_facts();
        built.settle_uploader_acls(|u| answer.get(&u).copied().unwrap_or(Decision::Unknown));
        drop(answer);
        Evaluation::derive(engine, built, direct)
    }

    /// The facts and the requests asked, for another run: what this run
    /// derived is freed here, before the next one holds its own (a
    /// binding that only moves `built` out would keep it to the end of
    /// the caller, through the next run).
    fn into_facts(self) -> (Built<'e>, Vec<Asked>) {
        (self.built, self.direct)
    }

    /// Runs the rules over the facts built so far — with what the upload
    /// checks they want decided (`uploads.rs`) — and indexes what they derive.
    fn derive(engine: &Engine<'e>, mut built: Built<'e>, direct: Vec<Asked>) -> Evaluation<'e> {
        engine.decide_uploads(&mut built);
        let d = datalog::run(&built.facts);
        let mut chains: HashMap<EntId, BTreeMap<ReqId, Decision>> = HashMap::default();
        for c in &d.chain_answer {
            let e = chains.entry(c.0).or_default().entry(c.1).or_insert(c.2);
            *e = (*e).min(c.2);
        }
        Evaluation {
            facts: d.facts,
            sanity_violations: d.sanity_two_answers.len()
                + d.sanity_must_not_may.len()
                + d.sanity_implicit_unnamed.len()
                + built.sanity_apart(),
            direct,
            answer: d.answer.iter().map(|a| (a.0, a.1)).collect(),
            because: index(d.because.iter(), |b| (b.0, b.1)),
            blocked_by: index(d.blocked_by.iter(), |b| (b.0, b.1)),
            open_layer: index(d.open_layer.iter(), |o| (o.0, o.1)),
            implicit: index(d.granted_implicitly.iter(), |g| (g.0, g.1)),
            unknown_because: index(d.unknown_because.iter(), |u| (u.0, u.1)),
            variants: index(d.variant_answer.iter(), |v| (v.0, (v.1, v.2))),
            applicable: index(d.applicable.iter(), |a| (a.0, (a.1, a.2))),
            through: built
                .facts
                .through_access_point
                .iter()
                .map(|t| (t.0, [t.1, t.2]))
                .collect(),
            side_requests: built
                .facts
                .side_requests
                .iter()
                .map(|k| (k.0, k.1))
                .collect(),
            graph: None,
            assume_stats: Stats::default(),
            chains,
            reasons: (0..built.stmts.len()).map(|_| Default::default()).collect(),
            built,
            explain: false,
            layers: false,
        }
    }

    /// For each conditional request that stands on its own (not a variant,
    /// not a past upload) or is an unlisted object's state, every feasible
    /// way its conditions go together: a state whose uploader-chosen ACL
    /// and conditions are both open gets its witness from a way.
    fn ways_to_add(&self) -> Vec<(ReqId, Vec<Witness>)> {
        let variants: HashSet<ReqId> = self.built.facts.variant_of.iter().map(|v| v.0).collect();
        let mut conditional: Vec<ReqId> = self
            .answer
            .iter()
            .filter(|(r, d)| {
                let info = &self.built.requests[r.0 as usize];
                let state = matches!(info.resource, Resource::Uploaded(..)) && info.way.is_none();
                // A request through an access point is its two sides, each
                // made exact by its own ways.
                **d == Decision::Conditional
                    && (!variants.contains(r) || state || self.built.is_header_way(**r))
                    && !info.past
                    && !self.through.contains_key(r)
            })
            .map(|(r, _)| *r)
            .collect();
        conditional.sort();
        conditional
            .into_iter()
            .filter_map(|r| self.condition_ways(r).map(|w| (r, w)))
            .collect()
    }
}

impl Evaluation<'_> {
    pub(super) fn stats(&self) -> Stats {
        let mut stats = Stats {
            sanity_violations: self.sanity_violations,
            facts: self.facts,
        };
        stats += self.assume_stats;
        stats
    }

    pub(super) fn decision(&self, r: ReqId) -> Decision {
        self.answer.get(&r).copied().unwrap_or(Decision::Unknown)
    }

    fn principal_name(&self, s: &Subject) -> String {
        principal_name(self.built.estate, s)
    }

    /// What a request's `unknown` turns on: the open layers and the
    /// statements bucketlog cannot evaluate.
    fn unknown_reasons(&self, r: ReqId) -> Vec<String> {
        let mut reasons: Vec<String> = self
            .open_layer
            .get(&r)
            .into_iter()
            .flatten()
            .map(|o| o.reason().to_string())
            .collect();
        for &s in self.unknown_because.get(&r).into_iter().flatten() {
            reasons.push(self.unknown_reason(s));
        }
        reasons.sort();
        reasons.dedup();
        reasons
    }

    fn answer_for(&self, r: ReqId, via: Vec<String>, decision: Decision) -> Answer {
        let info = &self.built.requests[r.0 as usize];
        let list =
            |m: &HashMap<ReqId, Vec<datalog::StmtId>>| m.get(&r).cloned().unwrap_or_default();
        let mut because: Vec<Reason> = list(&self.because)
            .into_iter()
            .map(|s| self.reason(s))
            .collect();
        because.sort();
        because.dedup();
        let mut blocked_by: Vec<&'static str> = self
            .blocked_by
            .get(&r)
            .into_iter()
            .flatten()
            .map(|l| l.name())
            .collect();
        blocked_by.sort();
        let reasons = self.unknown_reasons(r);
        Answer {
            principal: self.principal_name(&info.subject),
            action: info.action.as_str().into(),
            resource: self.built.resource_arn(&info.resource).into(),
            decision,
            via,
            access_point: info.resource.route(self.built.estate),
            kms_key: self.kms_key(r),
            because: because.into(),
            blocked_by,
            implicit: self
                .implicit
                .get(&r)
                .into_iter()
                .flatten()
                .map(|i| i.reason())
                .collect(),
            reason: (decision == Decision::Unknown).then(|| reasons.join("; ")),
            allow_witness: (decision == Decision::Conditional)
                .then(|| self.witness(r, true))
                .flatten()
                .map(Arc::new),
            deny_witness: (decision == Decision::Conditional)
                .then(|| self.witness(r, false))
                .flatten()
                .map(Arc::new),
            considered: match self.layers {
                true => self.considered(r),
                false => Vec::new(),
            },
            hops: Vec::new(),
            partial: match decision {
                Decision::Conditional => self.partial(r).into(),
                _ => Arc::new([]),
            },
            request: r,
        }
    }

    /// The statements that applied to a request and to its side request
    /// (rules/72), each with its guard: both are the request's conditions.
    fn applicable_with_side(
        &self,
        r: ReqId,
    ) -> impl Iterator<Item = &(datalog::StmtId, datalog::Guard)> {
        let side = self.side_requests.get(&r);
        self.applicable
            .get(&r)
            .into_iter()
            .chain(side.and_then(|rs| self.applicable.get(rs)))
            .flatten()
    }

    /// Every feasible way the request's conditional statements can go
    /// together, as contexts (`smt::assignments`); `None` when a statement is
    /// open for something no context decides (a resource pattern, the
    /// object's state) or the solver cannot enumerate them.
    fn condition_ways(&self, r: ReqId) -> Option<Vec<Witness>> {
        if self.variants.contains_key(&r) {
            return None;
        }
        let estate = self.built.estate;
        let mut guards = Vec::new();
        // Its side request (the KMS request S3 makes for it, a governance
        // bypass) carries the caller's context, so its conditions go
        // together with the request's — except those on what only a KMS
        // request carries (`KmsKeys`), which the request's own keys cannot fix.
        for &(s, g) in self.applicable_with_side(r) {
            if g != datalog::Guard::Conditional {
                continue;
            }
            let (policy, i) = match self.built.stmts[s.0 as usize] {
                StmtOrigin::Policy {
                    policy,
                    statement: Some(i),
                } => (policy, i),
                // The object's state, which the ways leave as it is.
                StmtOrigin::UploaderAcl { .. } => continue,
                _ => return None,
            };
            let body = estate.policies[policy].body.as_ref().ok()?;
            let st = &body.statements[i];
            if st.condition.is_empty()
                || st
                    .condition
                    .iter()
                    .any(|c| crate::smt::keys::KmsKeys::only_kms(&c.key))
            {
                return None;
            }
            guards.push((st.condition.as_slice(), body.version.as_deref()));
        }
        let ways = self
            .built
            .with_request_keys(r, |keys| crate::smt::assignments(&guards, keys, 16))?;
        Some(ways.into_iter().map(|w| w.into_iter().collect()).collect())
    }

    /// The statements that applied to the request — to the object states it
    /// stands for, when it has them — each with its weakest guard.
    fn considered(&self, r: ReqId) -> Vec<(Reason, datalog::Guard)> {
        let mut out: BTreeMap<Reason, datalog::Guard> = BTreeMap::new();
        for (s, g) in self.applied(r) {
            let e = out.entry(self.reason(s)).or_insert(g);
            *e = (*e).max(g);
        }
        out.into_iter().collect()
    }

    /// The statements that applied to the request or to the object states
    /// it stands for (the ways of its conditions are the request itself
    /// with keys fixed, so its own guards are the ones shown).
    fn applied(&self, r: ReqId) -> Vec<(datalog::StmtId, datalog::Guard)> {
        if let Some(sides) = self.through.get(&r) {
            return sides.iter().flat_map(|&side| self.applied(side)).collect();
        }
        let mut states: Vec<ReqId> = self
            .variants
            .get(&r)
            .into_iter()
            .flatten()
            .map(|(v, _)| *v)
            .filter(|v| self.built.way_keys(*v).is_none())
            .collect();
        if states.is_empty() {
            states.push(r);
        }
        states
            .into_iter()
            .flat_map(|v| self.applicable.get(&v).into_iter().flatten().copied())
            .collect()
    }

    /// For a conditional answer on an object glob: the Resource patterns of
    /// the statements that applied which cover only part of the glob, as
    /// (effect, pattern) — where it is allowed or denied by key (issue 11
    /// item 13, as iam-lens's `allowedPatterns`).
    fn partial(&self, r: ReqId) -> Vec<(&'static str, String)> {
        if let Some(sides) = self.through.get(&r) {
            let mut out: Vec<(&'static str, String)> =
                sides.iter().flat_map(|&side| self.partial(side)).collect();
            out.sort();
            out.dedup();
            return out;
        }
        let info = &self.built.requests[r.0 as usize];
        let (Resource::Objects(_, key) | Resource::AccessPoint(_, Some(key))) = &info.resource
        else {
            return Vec::new();
        };
        if !key.contains(['*', '?']) {
            return Vec::new();
        }
        let scope = self.built.resource_arn(&info.resource);
        let estate = self.built.estate;
        let mut out = BTreeSet::new();
        for (s, _) in self.applied(r) {
            let StmtOrigin::Policy {
                policy,
                statement: Some(i),
            } = self.built.stmts[s.0 as usize]
            else {
                continue;
            };
            let Ok(body) = &estate.policies[policy].body else {
                continue;
            };
            let st = &body.statements[i];
            let Some(res) = st.resource.as_ref().filter(|r| !r.negated) else {
                continue;
            };
            let effect = match st.effect {
                crate::model::Effect::Allow => "allowed",
                crate::model::Effect::Deny => "denied",
            };
            for p in &res.items {
                if crate::glob::relate_arn(&scope, p) == crate::glob::Relation::Overlaps {
                    out.insert((effect, p.clone()));
                }
            }
        }
        out.into_iter().collect()
    }

    /// The KMS action and key a request needs S3 to use for the caller (at
    /// the bucket, for one through an access point).
    fn kms_key(&self, r: ReqId) -> Option<(String, String)> {
        let at_bucket = self.through.get(&r).map_or(r, |sides| sides[1]);
        let info = &self.built.requests[self.side_requests.get(&at_bucket)?.0 as usize];
        match &info.resource {
            Resource::Key(k, _) => Some((
                info.action.clone(),
                self.built.estate.kms_keys[*k].arn.clone(),
            )),
            _ => None,
        }
    }

    /// How the object of a read's state is encrypted, as a witness names
    /// it (`bucketlog:object-encryption`); `None` for other requests.
    fn encryption_of(&self, v: ReqId) -> Option<String> {
        let info = &self.built.requests[v.0 as usize];
        let (Resource::Objects(b, _) | Resource::Uploaded(b, ..)) = info.resource else {
            return None;
        };
        // Only where encryption may tell the bucket's objects apart.
        let bucket = &self.built.estate.buckets[b];
        let varies = !matches!(bucket.encryption, Ok(crate::model::Encryption::S3Managed))
            || bucket.objects.iter().any(|o| o.encryption.is_some());
        if !varies || !crate::facts::DECRYPTS.contains(&info.action.as_str()) {
            return None;
        }
        let facts = &self.built.facts;
        Some(match self.kms_key(v) {
            Some((_, arn)) => format!("SSE-KMS {arn}"),
            None if facts.aws_managed_key.contains(&datalog::AwsManagedKey(v)) => {
                "SSE-KMS under the AWS managed key aws/s3".into()
            }
            None if facts.key_unresolved.contains(&datalog::KeyUnresolved(v)) => {
                "SSE-KMS under a key the snapshot does not describe".into()
            }
            None => "SSE-S3".into(),
        })
    }

    /// An object state under which the request is allowed (or denied): a
    /// variant that decides so outright, else a conditional one, whose
    /// uploader-chosen ACL then grants the caller (or does not).
    fn witness(&self, r: ReqId, allowed: bool) -> Option<Witness> {
        if let Some(sides) = self.through.get(&r) {
            return self.through_witness(sides, allowed);
        }
        let variants = self.variants.get(&r)?;
        let outright = |d: Decision| {
            if allowed {
                d == Decision::Allow
            } else {
                !d.reaches()
            }
        };
        // A conditional state is a witness only when the uploader's ACL is
        // all that is open in it; otherwise its condition decides, and the
        // object's state alone does not.
        // (A state's KMS request counts: its conditions are the state's.)
        let only_acl_open = |v: &ReqId| {
            self.applicable_with_side(*v)
                .filter(|(_, g)| *g != datalog::Guard::Definite)
                .all(|(s, _)| {
                    matches!(
                        self.built.stmts[s.0 as usize],
                        StmtOrigin::UploaderAcl { .. }
                    )
                })
        };
        let witnesses = |v: &ReqId, d: Decision| {
            outright(d) || (d == Decision::Conditional && only_acl_open(v))
        };
        // A state whose conditions are open too: one of its ways, its keys
        // fixed, with the state.
        let ways_of = |v: &ReqId| {
            self.variants
                .get(v)
                .into_iter()
                .flatten()
                .filter(|(w, d)| self.built.way_keys(*w).is_some() && witnesses(w, *d))
                .min_by_key(|(w, d)| (!outright(*d), *w))
        };
        let (v, d) = variants
            .iter()
            .filter(|(v, d)| witnesses(v, *d))
            .min_by_key(|(v, d)| (!outright(*d), *v))
            .or_else(|| {
                variants
                    .iter()
                    .filter(|(_, d)| *d == Decision::Conditional)
                    .filter_map(|(v, _)| ways_of(v))
                    .min_by_key(|(w, d)| (!outright(*d), *w))
            })?;
        let way = self.built.way_keys(*v).cloned();
        let state = matches!(
            self.built.requests[v.0 as usize].resource,
            Resource::Uploaded(..)
        );
        let mut w = match way {
            Some(keys) if !state => return Some(keys),
            Some(keys) => keys,
            None => Witness::new(),
        };
        let estate = self.built.estate;
        if let Some(e) = self.encryption_of(*v) {
            w.insert("bucketlog:object-encryption".into(), Some(e));
        }
        match &self.built.requests[v.0 as usize].resource {
            Resource::Objects(b, key) => {
                w.insert("bucketlog:object-key".into(), Some(key.clone()));
                let owner = self
                    .built
                    .listed(*b, key)
                    .and_then(|o| o.acl.as_ref().ok())
                    .and_then(|acl| acl.owner.as_deref())
                    .map(|c| {
                        estate
                            .account_of_canonical(c)
                            .map_or_else(|| format!("canonical:{c}"), str::to_string)
                    });
                if let Some(o) = owner {
                    w.insert("bucketlog:object-owner".into(), Some(o));
                }
            }
            Resource::Uploaded(b, _, owner, _) => {
                w.insert("bucketlog:object-owner".into(), Some(owner.clone()));
                // The narrower grant (to the caller's account) when both would do.
                let chosen_acl = self
                    .because
                    .get(v)
                    .into_iter()
                    .flatten()
                    .filter_map(|s| match self.built.stmts[s.0 as usize] {
                        StmtOrigin::UploaderAcl { public, .. } => Some(public),
                        _ => None,
                    })
                    .min();
                if let (Decision::Conditional, Some(public)) = (*d, chosen_acl) {
                    let acl = match (allowed, public) {
                        (true, true) => "public-read (a grant to AllUsers)",
                        (true, false) => "a grant to the caller's account",
                        (false, _) if *owner != estate.buckets[*b].account => {
                            "private (no grant to the caller), uploaded without bucket-owner-full-control"
                        }
                        (false, _) => "private (no grant to the caller)",
                    };
                    w.insert("bucketlog:object-acl".into(), Some(acl.into()));
                }
            }
            _ => {}
        }
        Some(w)
    }

    /// A state of a request through an access point that is allowed: each
    /// conditional side's allow witness, merged where they agree on every
    /// key they share (each holds for every value of the keys it does not
    /// name, and both sides are one request with one context); or that is
    /// denied: a conditional side's deny witness, which denies the whole.
    fn through_witness(&self, sides: &[ReqId; 2], allowed: bool) -> Option<Witness> {
        if !allowed {
            return sides
                .iter()
                .filter(|&&side| self.decision(side) == Decision::Conditional)
                .find_map(|&side| self.witness(side, false));
        }
        merged_allow(sides.iter().map(|&side| (self, side)))
    }

    /// Why a statement with an unknown guard is unknown.
    fn unknown_reason(&self, s: datalog::StmtId) -> String {
        let estate = self.built.estate;
        match self.built.stmts[s.0 as usize] {
            StmtOrigin::Policy { policy, statement } => {
                let pol = &estate.policies[policy];
                match (&pol.body, statement) {
                    (Ok(b), Some(i)) => format!(
                        "statement `{}` of `{}`: {}",
                        b.statements[i].label,
                        pol.name,
                        self.built.solver_reason(s).map_or_else(
                            || {
                                crate::facts::unknown_reasons(
                                    &b.statements[i],
                                    b.version.as_deref(),
                                )
                                .join("; ")
                            },
                            str::to_string
                        )
                    ),
                    (Err(e), _) => format!("policy `{}` is invalid: {e}", pol.name),
                    (Ok(_), None) => format!("policy `{}` is invalid", pol.name),
                }
            }
            StmtOrigin::Acl { .. } => {
                let r = self.reason(s);
                format!(
                    "{} {}: a grantee bucketlog cannot resolve to an account",
                    r.policy,
                    r.statement.unwrap_or_default()
                )
            }
            StmtOrigin::UploaderAcl { bucket, .. }
                if self.built.headers_read(bucket) == HeadersRead::Grants =>
            {
                format!(
                "the ACL an uploader may set on objects of `{}`: a policy conditions uploads on the grant headers \
                 (s3:x-amz-grant-*), which is not evaluated yet",
                    estate.buckets[bucket].name
                )
            }
            StmtOrigin::UploaderAcl { bucket, .. } => format!(
                "the ACL an uploader may set on objects of `{}`: the upload that may set it is itself unknown, or it \
                 sent bucket-owner-full-control, and whether its writer keeps a grant once the bucket owner owns the \
                 object is not documented",
                estate.buckets[bucket].name
            ),
        }
    }

    /// How answers name the statement `s`: made once per evaluation, then
    /// shared by every answer it decides.
    fn reason(&self, s: datalog::StmtId) -> Reason {
        self.reasons[s.0 as usize]
            .get_or_init(|| self.new_reason(s))
            .clone()
    }

    fn new_reason(&self, s: datalog::StmtId) -> Reason {
        let estate = self.built.estate;
        match self.built.stmts[s.0 as usize] {
            StmtOrigin::Policy { policy, statement } => {
                let pol = &estate.policies[policy];
                let layer = crate::facts::layer_of(pol.kind).name();
                let (effect, statement, span) = match (&pol.body, statement) {
                    (Ok(b), Some(i)) => {
                        let st = &b.statements[i];
                        let effect = match st.effect {
                            crate::model::Effect::Allow => "Allow",
                            crate::model::Effect::Deny => "Deny",
                        };
                        (effect, Some(st.label.as_str().into()), &st.span)
                    }
                    _ => ("Unknown", None, &pol.span),
                };
                Reason {
                    effect,
                    layer,
                    policy: pol.name.as_str().into(),
                    statement,
                    file: span.file.clone(),
                    pointer: span.pointer.as_str().into(),
                    line: span.line,
                }
            }
            StmtOrigin::Acl {
                bucket,
                object,
                grant,
            } => {
                let b = &estate.buckets[bucket];
                let (policy, acl) = match object {
                    Some(i) => (
                        format!("{}/{} object ACL", b.name, b.objects[i].key),
                        b.objects[i].acl.as_ref().ok(),
                    ),
                    None => (
                        format!("{} bucket ACL", b.name),
                        b.acl.as_ref().and_then(|a| a.as_ref().ok()),
                    ),
                };
                let g = acl.map(|a| &a.grants[grant]);
                let span = g.map(|g| g.span.clone()).unwrap_or_default();
                Reason {
                    effect: "Allow",
                    layer: "acl",
                    policy: policy.into(),
                    statement: g
                        .map(|g| format!("{} to {}", g.permission.name(), g.grantee.name()).into()),
                    file: span.file,
                    pointer: span.pointer.into(),
                    line: span.line,
                }
            }
            StmtOrigin::UploaderAcl { bucket, public } => Reason {
                effect: "Allow",
                layer: "acl",
                policy: format!(
                    "{} object ACL set by the uploader",
                    estate.buckets[bucket].name
                )
                .into(),
                statement: Some(
                    if public {
                        "a grant to AllUsers"
                    } else {
                        "a grant to the caller's account"
                    }
                    .into(),
                ),
                file: "".into(),
                pointer: "".into(),
                line: 0,
            },
        }
    }

    /// Answers through role chains for `subject`'s request: one per role's
    /// request its chains reach (`reached`, found by `copies`) whose own
    /// answer may give access.
    fn chain_answers(
        &self,
        subject: &Subject,
        reached: &[(ReqId, Decision)],
        roles: &HashMap<(ReqId, Decision), Answer>,
    ) -> Vec<Answer> {
        let Some(graph) = self.graph.as_deref() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let principal = self.principal_name(subject);
        // One search per edge bound serves every role the subject reaches.
        let mut paths: HashMap<Decision, Paths> = HashMap::default();
        let mut path = |to: &Subject, within: Decision| {
            paths
                .entry(within)
                .or_insert_with(|| Paths::new(graph, subject, within))
                .to(to)
        };
        for &(req, d) in reached {
            let role = &self.built.requests[req.0 as usize].subject;
            // A chain of hops that are all allowed makes the role's own
            // answer the chain's, witnesses included; through a conditional
            // hop, the role's allow witness does not fix the hop's keys, so
            // the chain's is the hops' and the role's together (its deny
            // witness still is the role's).
            let definite = path(role, Decision::Allow);
            let allowed = definite.is_some();
            let chain = definite.or_else(|| path(role, d)).unwrap_or_default();
            let via = chain.iter().map(|s| self.principal_name(s)).collect();
            let taken: Vec<(&Subject, &Hop)> = chain
                .windows(2)
                .filter_map(|w| graph.hop(&w[0], &w[1]).map(|h| (&w[0], h)))
                .collect();
            let hops: Vec<&Hop> = taken.iter().map(|&(_, h)| h).collect();
            let mut a = roles[&(req, d)].copied_as(principal.clone(), via);
            if d == Decision::Unknown {
                // The chain may be unknown through a hop, not the role's own answer.
                let mut reasons: Vec<String> =
                    a.reason.iter().filter(|r| !r.is_empty()).cloned().collect();
                for hop in &hops {
                    reasons.extend(graph.evaluation(hop).unknown_reasons(hop.req));
                }
                reasons.dedup();
                a.reason = Some(reasons.join("; "));
            }
            if !allowed {
                a.allow_witness = self.chain_allow_witness(graph, &hops, req).map(Arc::new);
            }
            if self.explain {
                a.hops = taken
                    .iter()
                    .map(|&(from, hop)| graph.evaluation(hop).hop_answer(hop, from))
                    .collect();
            }
            out.push(a);
        }
        out
    }
}

impl Evaluation<'_> {
    /// The context under which a chain through conditional hops is allowed:
    /// each conditional hop's allow witness and the role's own, merged. Each
    /// holds for every value of the keys it does not name, and `with` binds
    /// every request of a chain alike, so where they agree on every key they
    /// share, the union allows each request at once (semantics.md 5.5).
    fn chain_allow_witness(
        &self,
        graph: &AssumeGraph,
        hops: &[&Hop],
        req: ReqId,
    ) -> Option<Witness> {
        merged_allow(
            hops.iter()
                .map(|h| (graph.evaluation(h), h.req))
                .chain(std::iter::once((self, req))),
        )
    }

    /// A hop's own answer (`why`): its trust statement and identity Allow,
    /// under the name of the principal that takes it (the graph may have
    /// decided it for another member of that principal's class).
    fn hop_answer(&self, hop: &Hop, from: &Subject) -> Answer {
        let name = self.principal_name(from);
        let mut a = self.answer_for(hop.req, vec![name.clone()], self.decision(hop.req));
        a.principal = name;
        a.considered = self.considered(hop.req);
        a
    }

    /// The roles a subject can assume in one step, with how certainly, in
    /// estate order (`show principal`).
    pub(super) fn assumable(&self, s: &Subject) -> Vec<(usize, Decision)> {
        let Some(graph) = self.graph.as_deref() else {
            return Vec::new();
        };
        graph.hops(s).map(|hop| (hop.role, hop.decision)).collect()
    }

    /// The own answers of the roles `answers`' chains act through, one per
    /// request: each chain answer is the role's own request, so its own
    /// decision is already derived (`graph --from`).
    pub(super) fn acting_answers(&self, answers: &[Answer]) -> Vec<Answer> {
        let mut seen = HashSet::default();
        answers
            .iter()
            .filter(|a| a.via.len() > 1 && seen.insert(a.request))
            .map(|a| {
                let subject = &self.built.requests[a.request.0 as usize].subject;
                let d = self.decision(a.request);
                self.answer_for(a.request, vec![self.principal_name(subject)], d)
            })
            .collect()
    }

    /// `can`'s answers: every direct answer first (cli.md), then the chains.
    pub(super) fn can_answers(&self) -> Vec<Answer> {
        let mut direct: Vec<Answer> = Vec::new();
        let mut chains: Vec<Answer> = Vec::new();
        for answers in self.answers() {
            let mut answers = answers.into_iter();
            direct.extend(answers.next());
            chains.extend(answers);
        }
        direct.extend(chains);
        direct
    }

    /// The answers of every request asked, in order (`answers_for`), built
    /// on rayon's threads: on the large estate a `who can` has 131,000,
    /// most of them copies of a role's answer or a class's.
    pub(super) fn answers(&self) -> Vec<Vec<Answer>> {
        let copies = self.copies();
        each(&self.direct, |asked| self.answers_for(asked, &copies))
    }

    /// What `answers_for` shares, built once: first every role's answer
    /// that a chain from a request asked copies, then the answers of the
    /// requests that members of a class share.
    fn copies(&self) -> Copies {
        // Each subject's chains are grouped by what they ask once, not
        // searched once per request asked (`what can` asks a principal
        // for every action while its chains reach hundreds of roles).
        let mut by_subject: HashMap<EntId, HashMap<(&str, &Resource), Reached>> =
            HashMap::default();
        let mut reached: HashMap<ReqId, Reached> = HashMap::default();
        for asked in &self.direct {
            if reached.contains_key(&asked.req) || self.decision(asked.req) == Decision::Allow {
                continue;
            }
            let info = &self.built.requests[asked.req.0 as usize];
            let Some(p) = self.built.subject_id(&info.subject) else {
                continue;
            };
            let asks = by_subject.entry(p).or_insert_with(|| {
                let mut asks: HashMap<(&str, &Resource), Reached> = HashMap::default();
                for (&req, &d) in self.chains.get(&p).into_iter().flatten() {
                    let role = &self.built.requests[req.0 as usize];
                    asks.entry((role.action.as_str(), &role.resource))
                        .or_default()
                        .push((req, d));
                }
                asks
            });
            let found = asks.get(&(info.action.as_str(), &info.resource));
            reached.insert(asked.req, found.cloned().unwrap_or_default());
        }
        let mut roles: Vec<(ReqId, Decision)> = reached.values().flatten().copied().collect();
        roles.sort();
        roles.dedup();
        let roles: HashMap<(ReqId, Decision), Answer> = each(&roles, |&(r, d)| {
            ((r, d), self.answer_for(r, Vec::new(), d))
        })
        .into_iter()
        .collect();
        let mut shared: Vec<ReqId> = self
            .direct
            .iter()
            .filter(|a| a.member.is_some())
            .map(|a| a.req)
            .collect();
        shared.sort();
        shared.dedup();
        let shared = each(&shared, |&r| {
            (r, self.answers_with_chains(r, &reached, &roles))
        })
        .into_iter()
        .collect();
        Copies {
            shared,
            reached,
            roles,
        }
    }

    /// The answers for one asked request, under the name of the principal
    /// asked about; a request that other members of its class share has
    /// its answers built once (in `copies`) and renamed for each.
    fn answers_for(&self, asked: &Asked, copies: &Copies) -> Vec<Answer> {
        let Some(out) = copies.shared.get(&asked.req) else {
            return self.answers_with_chains(asked.req, &copies.reached, &copies.roles);
        };
        let Some(member) = asked.member else {
            return out.clone();
        };
        let subject = &self.built.requests[asked.req.0 as usize].subject;
        let evaluated = self.principal_name(subject);
        let name = &self.built.estate.principals[member].arn;
        fn renamed(a: &Answer, from: &str, to: &str) -> Answer {
            let name = |s: &String| match s == from {
                true => to.to_string(),
                false => s.clone(),
            };
            let mut copy = a.copied_as(name(&a.principal), a.via.iter().map(name).collect());
            if !a.hops.is_empty() {
                copy.hops = a.hops.iter().map(|h| renamed(h, from, to)).collect();
            }
            copy
        }
        out.iter().map(|a| renamed(a, &evaluated, name)).collect()
    }

    /// The answers for one request: the request itself, then — unless it
    /// is an allow — every chain of role assumptions through which the same
    /// principal may reach the access.
    fn answers_with_chains(
        &self,
        r: ReqId,
        reached: &HashMap<ReqId, Reached>,
        roles: &HashMap<(ReqId, Decision), Answer>,
    ) -> Vec<Answer> {
        let info = &self.built.requests[r.0 as usize];
        let d = self.decision(r);
        let mut out = vec![self.answer_for(r, vec![self.principal_name(&info.subject)], d)];
        if let Some(reached) = reached.get(&r) {
            out.extend(self.chain_answers(&info.subject, reached, roles));
        }
        out
    }
}

/// `f` of each item, in order: on rayon's threads where the evaluation is
/// the query's only one (`who can`, `can`: large warm `who can` 0.55–0.75
/// → 0.35–0.53 s), on this thread where it already runs on one of rayon's
/// (the scopes of `per_scope`, already two at a time). Nested there, a
/// thread that waits for its share may steal another scope's whole
/// evaluation and hold both at once; parallel answers were not measured to
/// win there (medium `what can` was within the noise either way).
fn each<I: Sync, T: Send>(items: &[I], f: impl Fn(&I) -> T + Sync + Send) -> Vec<T> {
    use rayon::prelude::*;
    match rayon::current_thread_index() {
        Some(_) => items.iter().map(f).collect(),
        None => items.par_iter().map(f).collect(),
    }
}

/// The allow witnesses of requests that one context binds alike (a chain's
/// hops and its role's request; the two sides of a request through an
/// access point), merged: each holds for every value of the keys it does
/// not name, so where they agree on every key they share, the union allows
/// each at once. `None` when one of them cannot allow, or two disagree.
fn merged_allow<'a, 'e: 'a>(
    requests: impl IntoIterator<Item = (&'a Evaluation<'e>, ReqId)>,
) -> Option<Witness> {
    let mut merged = Witness::new();
    for (ev, r) in requests {
        let witness = match ev.decision(r) {
            Decision::Allow => continue,
            Decision::Conditional => ev.witness(r, true)?,
            _ => return None,
        };
        for (k, v) in witness {
            if merged.get(&k).is_some_and(|old| *old != v) {
                return None;
            }
            merged.insert(k, v);
        }
    }
    Some(merged)
}

/// How answers name a subject (cli.md "Names").
pub(super) fn principal_name(estate: &Estate, s: &Subject) -> String {
    match s {
        Subject::Known(i) => estate.principals[*i].arn.clone(),
        Subject::Outside(a) => format!("account:{a}"),
        Subject::Anonymous => "anonymous".into(),
        Subject::Service(n) => format!("service:{n}"),
    }
}

/// The shortest chains of role assumptions from one principal to every
/// principal it reaches over can-assume edges at least as certain as a
/// bound (a chain that gives that decision): one breadth-first search,
/// its tree read back per target (each principal's edges are in estate
/// order, so the same tree and the same chain every run). Every principal
/// reached is a role, so the tree is kept by role index.
struct Paths {
    from: Subject,
    /// Per role reached, the role it was reached from (`None`: `from`).
    prev: HashMap<usize, Option<usize>>,
}

impl Paths {
    fn new(graph: &AssumeGraph, from: &Subject, within: Decision) -> Paths {
        let mut prev: HashMap<usize, Option<usize>> = HashMap::default();
        let mut queue: VecDeque<Option<usize>> = VecDeque::from([None]);
        while let Some(n) = queue.pop_front() {
            let hops = match n {
                None => graph.hops(from),
                Some(r) => graph.hops(&Subject::Known(r)),
            };
            for hop in hops {
                let m = hop.role;
                if hop.decision <= within && *from != Subject::Known(m) && !prev.contains_key(&m) {
                    prev.insert(m, n);
                    queue.push_back(Some(m));
                }
            }
        }
        Paths {
            from: from.clone(),
            prev,
        }
    }

    fn to(&self, to: &Subject) -> Option<Vec<Subject>> {
        if *to == self.from {
            return Some(vec![self.from.clone()]);
        }
        let Subject::Known(role) = to else {
            return None;
        };
        let mut cur = *self.prev.get(role)?;
        let mut path = vec![to.clone()];
        while let Some(r) = cur {
            path.push(Subject::Known(r));
            cur = self.prev[&r];
        }
        path.push(self.from.clone());
        path.reverse();
        Some(path)
    }
}
