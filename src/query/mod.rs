//! Queries: parsing (grammar/query.lalrpop), resolving names against the
//! estate, and answering from the derived relations. Answers are data
//! (`Answer`); `report` renders them.

pub mod ast;
pub mod prove;
mod resolve;

use crate::catalog::{Action, Catalog, ASSUME_ROLE};
use crate::datalog::{self, Decision, EntId, ReqId};
use crate::facts::{s3_resource, Built, Resource, StmtOrigin, Subject};
use crate::model::{Estate, PrincipalKind};
use ast::{Query, Word};
use resolve::Scope;
use std::collections::{BTreeMap, HashMap, VecDeque};

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, unused)]
    grammar,
    "/query.rs"
);

/// A query that cannot be answered as written: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    /// 1-based column in the query text (0 when the error is about the whole query).
    pub column: usize,
    pub message: String,
}

impl QueryError {
    /// Turns a column counted in bytes into one counted in characters.
    fn in_chars(mut self, text: &str) -> QueryError {
        if self.column > 0 {
            let byte = text.floor_char_boundary((self.column - 1).min(text.len()));
            self.column = text[..byte].chars().count() + 1;
        }
        self
    }

    fn at(word: &Word, message: impl Into<String>) -> QueryError {
        QueryError {
            column: word.offset + 1,
            message: message.into(),
        }
    }
}

/// Parses one query of the language of docs/cli.md.
///
/// ```
/// let err = bucketlog::query::parse("can alice").unwrap_err();
/// assert_eq!(err.column, 10);
/// assert!(bucketlog::query::parse("who can read b/x/*").is_ok());
/// ```
pub fn parse(text: &str) -> Result<Query, QueryError> {
    parse_bytes(text).map_err(|e| e.in_chars(text))
}

/// Parses; error columns are byte offsets + 1 until `in_chars`.
fn parse_bytes(text: &str) -> Result<Query, QueryError> {
    use lalrpop_util::ParseError as E;
    let expected = |exp: &[String]| {
        let mut names: Vec<String> = exp
            .iter()
            .map(|e| {
                if e.starts_with("r#") {
                    "a name".to_string()
                } else {
                    e.clone()
                }
            })
            .collect();
        names.dedup();
        names.join(", ")
    };
    let ended = |l: usize, t: &str| QueryError {
        column: l + 1,
        message: format!("unexpected `{t}` after the end of the query: expected nothing more"),
    };
    grammar::QueryParser::new().parse(text).map_err(|e| match e {
        E::InvalidToken { location } => QueryError {
            column: location + 1,
            message: format!(
                "unexpected character `{}`: expected a name, a \"quoted name\", `=`, `!=`, `,`, `[` or `]`",
                text[location..].chars().next().unwrap_or(' ')
            ),
        },
        E::UnrecognizedEof { location, expected: exp } => QueryError {
            column: location + 1,
            message: format!("the query ends early: expected {}", expected(&exp)),
        },
        E::UnrecognizedToken { token: (l, t, _), expected: exp } if exp.is_empty() => ended(l, t.1),
        E::UnrecognizedToken { token: (l, t, _), expected: exp } => QueryError {
            column: l + 1,
            message: format!("unexpected `{}`: expected {}", t.1, expected(&exp)),
        },
        E::ExtraToken { token: (l, t, _) } => ended(l, t.1),
        E::User { error } => QueryError {
            column: 0,
            message: error.to_string(),
        },
    })
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// List account root users in `who can` answers.
    pub include_root: bool,
    /// `--closed-context`: keys `with` does not name are absent, not free.
    pub closed_context: bool,
}

/// A policy statement (or an unmet layer) that decided an answer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reason {
    /// `Allow`, `Deny`, or `Unknown` for an invalid policy.
    pub effect: &'static str,
    pub layer: &'static str,
    pub policy: String,
    pub statement: Option<String>,
    pub file: String,
    pub pointer: String,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub decision: Decision,
    pub via: Vec<String>,
    pub because: Vec<Reason>,
    pub blocked_by: Vec<&'static str>,
    /// Why an allow needs no statement (the owner's root user…).
    pub implicit: Vec<&'static str>,
    /// Why the answer is `unknown`.
    pub reason: Option<String>,
    /// The request this answers, within its evaluation.
    request: ReqId,
    /// For a `conditional` answer, a state of the request that is allowed
    /// and one that is denied, as far as bucketlog evaluates them (the
    /// owner and ACL of an object the snapshot does not list).
    pub allow_witness: Option<Witness>,
    pub deny_witness: Option<Witness>,
    /// Every statement that spoke to the request (for `why`), and how
    /// certainly it applied.
    pub considered: Vec<(Reason, datalog::Guard)>,
}

/// Values that fix a request: context keys, and the `bucketlog:` pseudo-keys
/// for the object's state (docs/decisions.md "Witnesses").
/// A key maps to `None` when the request does not carry it.
pub type Witness = BTreeMap<String, Option<String>>;

#[derive(Clone, Debug)]
pub struct Outcome {
    pub query: String,
    pub kind: &'static str,
    pub answers: Vec<Answer>,
    /// One-line remarks for the text output (left-out root users, context not evaluated…).
    pub notes: Vec<String>,
    /// Rows of the invariant relations of rules/90-sanity.dl; tests assert none.
    pub sanity_violations: usize,
    /// The result of a `prove` query.
    pub proof: Option<prove::Proof>,
}

/// Parses and answers one query.
pub fn answer(estate: &Estate, text: &str, opts: Options) -> Result<Outcome, QueryError> {
    answer_bytes(estate, text, opts).map_err(|e| e.in_chars(text))
}

fn answer_bytes(estate: &Estate, text: &str, opts: Options) -> Result<Outcome, QueryError> {
    let q = parse_bytes(text)?;
    let mut notes = Vec::new();
    if opts.closed_context
        && matches!(
            q,
            Query::Can { .. } | Query::Why { .. } | Query::WhoCan { .. }
        )
    {
        notes.push("closed context: every key `with` does not name is taken as absent (as the IAM policy simulator does)".into());
    }
    let mut proof = None;
    let (answers, sanity_violations) = match &q {
        Query::Can { principal, action, resource, context }
        | Query::Why { principal, action, resource, context, .. } => {
            let subject = resolve::subject(estate, principal)?;
            let targets = resolve::targets(estate, action, resource)?;
            can(
                estate,
                &subject,
                &targets,
                &Given {
                    context: context.clone(),
                    closed: opts.closed_context,
                    ..Given::default()
                },
            )
        }
        Query::WhoCan { action, resource, context } => {
            let actions = resolve::actions(action)?;
            let scope = resolve::scope(estate, resource)?;
            who_can(
                estate,
                &s3_targets(&actions, &scope),
                &Given {
                    context: context.clone(),
                    closed: opts.closed_context,
                    ..Given::default()
                },
                opts,
                &mut notes,
            )
        }
        Query::Path { principal, resource } => {
            let subject = resolve::subject(estate, principal)?;
            let scope = resolve::scope(estate, resource)?;
            path(estate, &subject, &scope)
        }
        Query::WhatCan { principal, on } => {
            let subject = resolve::subject(estate, principal)?;
            let scopes = match on {
                Some(r) => vec![resolve::scope(estate, r)?],
                None => resolve::every_bucket(estate),
            };
            what_can(estate, &subject, &scopes)
        }
        Query::Public { bucket } => {
            let scopes = match bucket {
                Some(b) => vec![resolve::scope(estate, b)?],
                None => resolve::every_bucket(estate),
            };
            public(estate, &scopes, &mut notes)
        }
        Query::ProveWriteOnly { principal, resource } => {
            let subject = resolve::subject(estate, principal)?;
            let scope = resolve::scope(estate, resource)?;
            proof = Some(prove::write_only(estate, &subject, &scope));
            (Vec::new(), 0)
        }
        Query::ProveNoPublicAccess { bucket } => {
            let scope = resolve::scope(estate, bucket)?;
            let whole = resolve::Scope { bucket: scope.bucket, key: "*".into() };
            proof = Some(prove::no_public_access(estate, &whole));
            (Vec::new(), 0)
        }
        Query::ProveRequires { principal, action, resource, key, op, value } => {
            let subject = resolve::subject(estate, principal)?;
            let targets = resolve::targets(estate, action, resource)?;
            let p = prove::requires(estate, &subject, &targets, &key.text, &op.text, &value.text)
                .map_err(|m| QueryError::at(key, m))?;
            proof = Some(p);
            (Vec::new(), 0)
        }
        Query::Help => (Vec::new(), 0),
        other => {
            return Err(QueryError {
                column: 1,
                message: format!(
                    "`{}` queries parse, but are not built yet: this version answers `can`, `who can`, `why`, `what can`, \
                     `path` and `public` (`prove` comes with conditions and proofs)",
                    other.kind()
                ),
            })
        }
    };
    Ok(Outcome {
        query: text.trim().to_string(),
        kind: q.kind(),
        answers,
        notes,
        sanity_violations,
        proof,
    })
}

/// One evaluation: facts for the S3 requests of `subjects` on `scope`, plus
/// every sts:AssumeRole request a chain could need; the derived relations are
/// indexed by request once, so answers are read in constant time.
struct Evaluation<'e> {
    built: Built<'e>,
    /// Rows of rules/90-sanity.dl's relations, which must stay empty.
    sanity_violations: usize,
    direct: Vec<ReqId>,
    answer: HashMap<ReqId, Decision>,
    because: HashMap<ReqId, Vec<datalog::StmtId>>,
    blocked_by: HashMap<ReqId, Vec<datalog::Layer>>,
    open_layer: HashMap<ReqId, Vec<datalog::Open>>,
    implicit: HashMap<ReqId, Vec<datalog::Implicit>>,
    unknown_because: HashMap<ReqId, Vec<datalog::StmtId>>,
    applicable: HashMap<ReqId, Vec<(datalog::StmtId, datalog::Guard)>>,
    /// The object states of a request on a free-owner scope, with their decisions.
    variants: HashMap<ReqId, Vec<(ReqId, Decision)>>,
    edges: HashMap<EntId, Vec<EntId>>,
    /// S3 requests a principal reaches through a chain, with the best decision.
    chains: HashMap<EntId, BTreeMap<ReqId, Decision>>,
}

fn index<T, K: std::hash::Hash + Eq, V>(
    items: impl IntoIterator<Item = T>,
    kv: impl Fn(T) -> (K, V),
) -> HashMap<K, Vec<V>> {
    let mut out: HashMap<K, Vec<V>> = HashMap::new();
    for item in items {
        let (k, v) = kv(item);
        out.entry(k).or_default().push(v);
    }
    out
}

/// What a query fixes about its requests: context keys (`with`), and
/// conditions the requests must meet (`prove`).
#[derive(Clone, Default)]
pub(crate) struct Given {
    pub context: Vec<ast::ContextItem>,
    pub constraints: Vec<crate::smt::keys::Constraint>,
    pub closed: bool,
}

/// The requests a query asks about: each action on its resource.
type Targets<'a> = Vec<(&'a Action, Resource)>;

fn s3_targets<'a>(actions: &[&'a Action], scope: &Scope) -> Targets<'a> {
    actions
        .iter()
        .filter_map(|a| s3_resource(scope.bucket, &scope.key, a).map(|r| (*a, r)))
        .collect()
}

fn evaluate<'e>(
    estate: &'e Estate,
    subjects: &[Subject],
    targets: &Targets,
    given: &Given,
) -> Evaluation<'e> {
    let mut built = Built::new(estate);
    if given.closed {
        built.close_context();
    }
    for c in &given.constraints {
        built.constrain(c.clone());
    }
    for item in &given.context {
        let values = match &item.value {
            ast::ContextValue::One(w) => vec![w.text.clone()],
            ast::ContextValue::Set(ws) => ws.iter().map(|w| w.text.clone()).collect(),
            ast::ContextValue::Absent => Vec::new(),
        };
        built.fix(&item.key.text, values);
    }
    let roles: Vec<usize> = (0..estate.principals.len())
        .filter(|&i| estate.principals[i].kind == PrincipalKind::Role)
        .collect();
    let mut direct = Vec::new();
    let mut s3_subjects: Vec<Subject> = subjects.to_vec();
    s3_subjects.extend(roles.iter().map(|&i| Subject::Known(i)));
    s3_subjects.sort();
    s3_subjects.dedup();
    for s in &s3_subjects {
        for (a, res) in targets {
            let r = built.request(s, a, res.clone());
            if subjects.contains(s) {
                direct.push(r);
            }
        }
    }
    // Only the assumptions a chain from the subjects could take: a breadth-first
    // walk over roles whose trust policy may name the current principal.
    let assume = Catalog::get()
        .find(ASSUME_ROLE)
        .expect("the catalogue has sts:AssumeRole");
    let mut seen: std::collections::HashSet<Subject> = subjects.iter().cloned().collect();
    let mut frontier: VecDeque<Subject> = subjects.iter().cloned().collect();
    while let Some(s) = frontier.pop_front() {
        for &q in &roles {
            if Subject::Known(q) != s && built.trust_may_name(q, &s) {
                built.request(&s, assume, Resource::Role(q));
                if seen.insert(Subject::Known(q)) {
                    frontier.push_back(Subject::Known(q));
                }
            }
        }
    }
    let d = datalog::run(&built.facts);
    let mut edges = index(d.can_assume.iter(), |e| (e.0, e.1));
    for v in edges.values_mut() {
        v.sort();
    }
    let mut chains: HashMap<EntId, BTreeMap<ReqId, Decision>> = HashMap::new();
    for c in &d.chain_answer {
        let e = chains.entry(c.0).or_default().entry(c.1).or_insert(c.2);
        *e = (*e).min(c.2);
    }
    Evaluation {
        sanity_violations: d.sanity_two_answers.len()
            + d.sanity_must_not_may.len()
            + d.sanity_implicit_unnamed.len(),
        direct,
        answer: d.answer.iter().map(|a| (a.0, a.1)).collect(),
        because: index(d.because.iter(), |b| (b.0, b.1)),
        blocked_by: index(d.blocked_by.iter(), |b| (b.0, b.1)),
        open_layer: index(d.open_layer.iter(), |o| (o.0, o.1)),
        implicit: index(d.granted_implicitly.iter(), |g| (g.0, g.1)),
        unknown_because: index(d.unknown_because.iter(), |u| (u.0, u.1)),
        variants: index(d.variant_answer.iter(), |v| (v.0, (v.1, v.2))),
        applicable: index(d.applicable.iter(), |a| (a.0, (a.1, a.2))),
        edges,
        chains,
        built,
    }
}

impl Evaluation<'_> {
    fn decision(&self, r: ReqId) -> Decision {
        self.answer.get(&r).copied().unwrap_or(Decision::Unknown)
    }

    fn principal_name(&self, s: &Subject) -> String {
        match s {
            Subject::Known(i) => self.built.estate.principals[*i].arn.clone(),
            Subject::Outside(a) => format!("account:{a}"),
            Subject::Anonymous => "anonymous".into(),
            Subject::Service(n) => format!("service:{n}"),
        }
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
        let mut reasons: Vec<String> = self
            .open_layer
            .get(&r)
            .into_iter()
            .flatten()
            .map(|o| o.reason().to_string())
            .collect();
        for s in list(&self.unknown_because) {
            reasons.push(self.unknown_reason(s));
        }
        reasons.sort();
        reasons.dedup();
        Answer {
            principal: self.principal_name(&info.subject),
            action: info.action.clone(),
            resource: self.built.resource_arn(&info.resource),
            decision,
            via,
            because,
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
                .flatten(),
            deny_witness: (decision == Decision::Conditional)
                .then(|| self.witness(r, false))
                .flatten(),
            considered: self.considered(r),
            request: r,
        }
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
        for &(s, g) in self.applicable.get(&r).into_iter().flatten() {
            if g != datalog::Guard::Conditional {
                continue;
            }
            let StmtOrigin::Policy {
                policy,
                statement: Some(i),
            } = self.built.stmts[s.0 as usize]
            else {
                return None;
            };
            let body = estate.policies[policy].body.as_ref().ok()?;
            let st = &body.statements[i];
            if st.condition.is_empty() {
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
        let own = [r];
        let states: Vec<ReqId> = match self.variants.get(&r) {
            Some(v) => v.iter().map(|(v, _)| *v).collect(),
            None => own.to_vec(),
        };
        let mut out: BTreeMap<Reason, datalog::Guard> = BTreeMap::new();
        for v in states {
            for &(s, g) in self.applicable.get(&v).into_iter().flatten() {
                let e = out.entry(self.reason(s)).or_insert(g);
                *e = (*e).max(g);
            }
        }
        out.into_iter().collect()
    }

    /// An object state under which the request is allowed (or denied): a
    /// variant that decides so outright, else a conditional one, whose
    /// uploader-chosen ACL then grants the caller (or does not).
    fn witness(&self, r: ReqId, allowed: bool) -> Option<Witness> {
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
        let only_acl_open = |v: &ReqId| {
            self.applicable
                .get(v)
                .into_iter()
                .flatten()
                .filter(|(_, g)| *g != datalog::Guard::Definite)
                .all(|(s, _)| {
                    matches!(
                        self.built.stmts[s.0 as usize],
                        StmtOrigin::UploaderAcl { .. }
                    )
                })
        };
        let (v, d) = variants
            .iter()
            .filter(|(v, d)| outright(*d) || (*d == Decision::Conditional && only_acl_open(v)))
            .min_by_key(|(v, d)| (!outright(*d), *v))?;
        let mut w = Witness::new();
        let estate = self.built.estate;
        match &self.built.requests[v.0 as usize].resource {
            Resource::Objects(b, key) => {
                w.insert("bucketlog:object-key".into(), Some(key.clone()));
                let owner = estate.buckets[*b]
                    .objects
                    .iter()
                    .find(|o| o.key == *key)
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
            Resource::Uploaded(b, _, owner) => {
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
            StmtOrigin::UploaderAcl { bucket, .. } => format!(
                "the ACL an uploader may set on objects of `{}`: a policy conditions uploads on the ACL headers \
                 (s3:x-amz-acl, s3:x-amz-grant-*), which is not evaluated yet",
                estate.buckets[bucket].name
            ),
        }
    }

    fn reason(&self, s: datalog::StmtId) -> Reason {
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
                        (effect, Some(st.label.clone()), st.span.clone())
                    }
                    _ => ("Unknown", None, pol.span.clone()),
                };
                Reason {
                    effect,
                    layer,
                    policy: pol.name.clone(),
                    statement,
                    file: span.file,
                    pointer: span.pointer,
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
                    policy,
                    statement: g.map(|g| {
                        format!(
                            "{} to {}",
                            permission_name(g.permission),
                            grantee_name(&g.grantee)
                        )
                    }),
                    file: span.file,
                    pointer: span.pointer,
                    line: span.line,
                }
            }
            StmtOrigin::UploaderAcl { bucket, public } => Reason {
                effect: "Allow",
                layer: "acl",
                policy: format!(
                    "{} object ACL set by the uploader",
                    estate.buckets[bucket].name
                ),
                statement: Some(
                    if public {
                        "a grant to AllUsers"
                    } else {
                        "a grant to the caller's account"
                    }
                    .into(),
                ),
                file: String::new(),
                pointer: String::new(),
                line: 0,
            },
        }
    }

    /// Shortest chain of role assumptions from `from` to `to` over edges that may hold.
    fn path(&self, from: EntId, to: EntId) -> Option<Vec<EntId>> {
        let mut prev: HashMap<EntId, EntId> = HashMap::new();
        let mut queue = VecDeque::from([from]);
        while let Some(n) = queue.pop_front() {
            if n == to {
                let mut path = vec![to];
                let mut cur = to;
                while let Some(&p) = prev.get(&cur) {
                    path.push(p);
                    cur = p;
                }
                path.reverse();
                return Some(path);
            }
            for &m in self.edges.get(&n).map(Vec::as_slice).unwrap_or_default() {
                if m != from && !prev.contains_key(&m) {
                    prev.insert(m, n);
                    queue.push_back(m);
                }
            }
        }
        None
    }

    /// Answers through role chains for `subject`'s request of `action`: one
    /// per reachable role whose own answer may give access.
    fn chain_answers(&self, subject: &Subject, action: &str) -> Vec<Answer> {
        let Some(p) = self.built.subject_id(subject) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (&req, &d) in self.chains.get(&p).into_iter().flatten() {
            if self.built.requests[req.0 as usize].action != action {
                continue;
            }
            let q = self.built.facts.requests[req.0 as usize].1;
            let via = self
                .path(p, q)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|e| self.built.subject_of(e).map(|s| self.principal_name(s)))
                .collect();
            let mut a = self.answer_for(req, via, d);
            a.principal = self.principal_name(subject);
            out.push(a);
        }
        out
    }
}

impl Evaluation<'_> {
    /// The ways of every conditional direct answer (`exact`).
    fn ways(&self, answers: &[Answer]) -> Ways {
        answers
            .iter()
            .enumerate()
            .filter(|(_, a)| a.decision == Decision::Conditional && a.via.len() == 1)
            .filter_map(|(i, a)| {
                let subject = self.built.requests[a.request.0 as usize].subject.clone();
                self.condition_ways(a.request).map(|w| (i, subject, w))
            })
            .collect()
    }

    /// `can`'s answers: every direct answer first (cli.md), then the chains.
    fn can_answers(&self) -> Vec<Answer> {
        let mut direct: Vec<Answer> = Vec::new();
        let mut chains: Vec<Answer> = Vec::new();
        for &r in &self.direct {
            let mut answers = self.answers_with_chains(r, |_| true).into_iter();
            direct.extend(answers.next());
            chains.extend(answers);
        }
        direct.extend(chains);
        direct
    }

    /// The answers for one direct request: the request itself when `keep`
    /// says so, then — unless it is an allow — every chain of role
    /// assumptions through which the same principal may reach the access.
    fn answers_with_chains(&self, r: ReqId, keep: impl Fn(Decision) -> bool) -> Vec<Answer> {
        let info = &self.built.requests[r.0 as usize];
        let d = self.decision(r);
        let mut out = Vec::new();
        if keep(d) {
            out.push(self.answer_for(r, vec![self.principal_name(&info.subject)], d));
        }
        if d != Decision::Allow {
            out.extend(self.chain_answers(&info.subject, &info.action));
        }
        out
    }
}

fn can(
    estate: &Estate,
    subject: &Subject,
    targets: &Targets,
    given: &Given,
) -> (Vec<Answer>, usize) {
    let ev = evaluate(estate, std::slice::from_ref(subject), targets, given);
    let mut answers = ev.can_answers();
    let ways = ev.ways(&answers);
    let sanity = ev.sanity_violations;
    drop(ev);
    exact(estate, &mut answers, ways, targets, given);
    (answers, sanity)
}

/// For each conditional direct answer: its subject and every feasible way
/// its conditions can go together.
type Ways = Vec<(usize, Subject, Vec<Witness>)>;

/// Makes conditional direct answers exact: each way is replayed as a
/// concrete request for the rules to decide, and the answer quantifies over
/// them (`quantify`).
fn exact(estate: &Estate, answers: &mut [Answer], ways: Ways, targets: &Targets, given: &Given) {
    for (i, subject, contexts) in ways {
        let target: Targets = targets
            .iter()
            .filter(|(act, _)| act.name == answers[i].action)
            .cloned()
            .collect();
        let replayed: Option<Vec<(Witness, Answer)>> = contexts
            .into_iter()
            .map(|w| replay(estate, &subject, &target, given, &w, &answers[i]).map(|a| (w, a)))
            .collect();
        if let Some(replayed) = replayed {
            answers[i] = quantify(answers[i].clone(), replayed);
        }
    }
}

/// The answer over every way the conditions can go: allow when each way
/// allows, deny when none does, else conditional with a witness of each —
/// unless a replay is itself undecided, when the answer stays as it was.
fn quantify(original: Answer, replayed: Vec<(Witness, Answer)>) -> Answer {
    if replayed
        .iter()
        .any(|(_, a)| matches!(a.decision, Decision::Conditional | Decision::Unknown))
    {
        return original;
    }
    let allow = replayed.iter().find(|(_, a)| a.decision == Decision::Allow);
    let deny = replayed
        .iter()
        .filter(|(_, a)| !a.decision.reaches())
        .min_by_key(|(_, a)| a.decision);
    match (allow, deny) {
        (Some((w, _)), Some((v, _))) => Answer {
            allow_witness: Some(w.clone()),
            deny_witness: Some(v.clone()),
            ..original
        },
        // One outcome every way: allowed by the statements that allow in
        // some way; denied (explicitly only if every way meets a Deny) with
        // the Denies some ways meet named too (cli.md).
        (Some((_, a)), None) | (None, Some((_, a))) => {
            let allowed = a.decision == Decision::Allow;
            let mut because: Vec<Reason> = a.because.clone();
            for (_, other) in &replayed {
                because.extend(
                    other
                        .because
                        .iter()
                        .filter(|r| allowed || r.effect == "Deny")
                        .cloned(),
                );
            }
            because.sort();
            because.dedup();
            Answer {
                via: original.via.clone(),
                because,
                ..a.clone()
            }
        }
        (None, None) => original,
    }
}

/// The same request with the witness's keys fixed too, answered again.
fn replay(
    estate: &Estate,
    subject: &Subject,
    target: &Targets,
    given: &Given,
    witness: &Witness,
    answer: &Answer,
) -> Option<Answer> {
    let word = |t: &str| Word {
        text: t.to_string(),
        offset: 0,
    };
    let mut fixed = given.clone();
    let items = &mut fixed.context;
    for (k, v) in witness.iter().filter(|(k, _)| !k.starts_with("bucketlog:")) {
        items.retain(|i| !i.key.text.eq_ignore_ascii_case(k));
        items.push(ast::ContextItem {
            key: word(k),
            value: v.as_deref().map_or(ast::ContextValue::Absent, |v| {
                ast::ContextValue::One(word(v))
            }),
        });
    }
    let ev = evaluate(estate, std::slice::from_ref(subject), target, &fixed);
    ev.can_answers()
        .into_iter()
        .find(|a| a.action == answer.action && a.via == answer.via)
}

/// Every S3 action the subject may perform on each scope, directly or
/// through a chain: the answers that may give access.
fn what_can(estate: &Estate, subject: &Subject, scopes: &[Scope]) -> (Vec<Answer>, usize) {
    let actions = Catalog::get().expand("any");
    let mut out = Vec::new();
    let mut sanity = 0;
    for scope in scopes {
        let (answers, s) = can(
            estate,
            subject,
            &s3_targets(&actions, scope),
            &Given::default(),
        );
        sanity += s;
        out.extend(answers.into_iter().filter(|a| a.decision.reaches()));
    }
    (out, sanity)
}

/// The shortest chain from the subject to a principal that may perform some
/// S3 action on the scope: the subject alone when it may itself. The one
/// answer kept is the best decision among the shortest chains.
fn path(estate: &Estate, subject: &Subject, scope: &Scope) -> (Vec<Answer>, usize) {
    let actions = Catalog::get().expand("any");
    let (answers, sanity) = can(
        estate,
        subject,
        &s3_targets(&actions, scope),
        &Given::default(),
    );
    let best = answers
        .into_iter()
        .filter(|a| a.decision.reaches())
        .min_by_key(|a| (a.via.len(), a.decision, a.action.clone()));
    (best.into_iter().collect(), sanity)
}

/// Answers for many subjects, with their chains, keeping those `keep`
/// wants; root users' answers only with `--include-root` (the text output
/// says how many were left out).
fn answers_of(
    ev: &Evaluation,
    keep: impl Fn(&Answer) -> bool,
    opts: Options,
    roots_left_out: &mut usize,
) -> Vec<Answer> {
    let estate = ev.built.estate;
    let mut out = Vec::new();
    for &r in &ev.direct {
        let is_root = matches!(ev.built.requests[r.0 as usize].subject, Subject::Known(i) if estate.principals[i].kind == PrincipalKind::Root);
        let answers: Vec<Answer> = ev
            .answers_with_chains(r, |_| true)
            .into_iter()
            .filter(&keep)
            .collect();
        if is_root && !opts.include_root {
            *roots_left_out += answers.len();
        } else {
            out.extend(answers);
        }
    }
    out
}

fn note_roots(roots_left_out: usize, notes: &mut Vec<String>) {
    if roots_left_out > 0 {
        notes.push(format!(
            "{roots_left_out} answer(s) for account root users left out (they reach nearly everything in their own account); use --include-root to list them"
        ));
    }
}

fn who_can(
    estate: &Estate,
    targets: &Targets,
    given: &Given,
    opts: Options,
    notes: &mut Vec<String>,
) -> (Vec<Answer>, usize) {
    let subjects = crate::facts::all_subjects(estate);
    let ev = evaluate(estate, &subjects, targets, given);
    let mut roots = 0;
    let mut out = answers_of(&ev, |a| a.decision.reaches(), opts, &mut roots);
    let ways = ev.ways(&out);
    let sanity = ev.sanity_violations;
    drop(ev);
    // The same exact answers as `can` gives, so who-can agrees with it.
    exact(estate, &mut out, ways, targets, given);
    out.retain(|a| a.decision.reaches());
    note_roots(roots, notes);
    (out, sanity)
}

/// `public [bucket]`: every S3 action on each bucket (and its objects) that
/// someone outside the zone of trust — anonymous callers, accounts the
/// snapshot does not describe, and a fresh account it does not name — may
/// perform, and each public grant that Block Public Access neutralises.
fn public(estate: &Estate, scopes: &[Scope], notes: &mut Vec<String>) -> (Vec<Answer>, usize) {
    let fresh = crate::facts::fresh_account(estate);
    let mut subjects: Vec<Subject> = crate::facts::all_subjects(estate)
        .into_iter()
        .filter(|s| matches!(s, Subject::Anonymous | Subject::Outside(_)))
        .collect();
    subjects.push(Subject::Outside(fresh.clone()));
    notes.push(format!(
        "account:{fresh} stands for any account the snapshot does not name"
    ));
    let actions = Catalog::get().expand("any");
    let mut out = Vec::new();
    let mut sanity = 0;
    let neutralised =
        |a: &Answer| a.decision == Decision::DenyImplicit && a.blocked_by.contains(&"bpa");
    for scope in scopes {
        let targets = s3_targets(&actions, scope);
        let ev = evaluate(estate, &subjects, &targets, &Given::default());
        sanity += ev.sanity_violations;
        let mut found = answers_of(
            &ev,
            |a| a.decision.reaches() || neutralised(a),
            Options::default(),
            &mut 0,
        );
        let ways = ev.ways(&found);
        drop(ev);
        exact(estate, &mut found, ways, &targets, &Given::default());
        out.extend(
            found
                .into_iter()
                .filter(|a| a.decision.reaches() || neutralised(a)),
        );
    }
    (out, sanity)
}

fn permission_name(p: crate::model::AclPermission) -> &'static str {
    use crate::model::AclPermission::*;
    match p {
        Read => "READ",
        Write => "WRITE",
        ReadAcp => "READ_ACP",
        WriteAcp => "WRITE_ACP",
        FullControl => "FULL_CONTROL",
    }
}

fn grantee_name(g: &crate::model::Grantee) -> String {
    use crate::model::Grantee::*;
    match g {
        Canonical(c) => format!("canonical:{c}"),
        AllUsers => "AllUsers".into(),
        AuthenticatedUsers => "AuthenticatedUsers".into(),
        LogDelivery => "LogDelivery".into(),
        Unresolved(u) => u.clone(),
    }
}
