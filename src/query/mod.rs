//! Queries: parsing (grammar/query.lalrpop), resolving names against the
//! estate, and answering from the derived relations. Answers are data
//! (`Answer`); `report` renders them.

mod assume;
pub mod ast;
mod can;
mod evaluation;
pub mod prove;
mod reach;
mod resolve;
pub mod show;
mod uploads;
mod who_can;

use crate::catalog::{Action, Catalog};
use crate::datalog::{self, Decision, ReqId};
use crate::facts::{s3_resource, through_resource, Resource};
use crate::index::Index;
use crate::model::Estate;
use ast::{ContextItem, Query, Word};
use resolve::Scope;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

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
    // Building the parser compiles its lexer's regular expressions: once
    // per process (a batch of 10,000 decisions spent 1.4 s on it).
    static PARSER: std::sync::OnceLock<grammar::QueryParser> = std::sync::OnceLock::new();
    let parser = PARSER.get_or_init(grammar::QueryParser::new);
    parser.parse(text).map_err(|e| match e {
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
    /// `--closed-context`: free keys `with` does not name are absent.
    pub closed_context: bool,
}

/// A policy statement (or an unmet layer) that decided an answer.
///
/// Its text is shared (`Arc<str>`): one statement decides thousands of
/// answers of a large `who can`, each a copy of it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reason {
    /// `Allow`, `Deny`, or `Unknown` for an invalid policy.
    pub effect: &'static str,
    pub layer: &'static str,
    pub policy: Arc<str>,
    pub statement: Option<Arc<str>>,
    pub file: Arc<str>,
    pub pointer: Arc<str>,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub principal: String,
    pub action: Arc<str>,
    pub resource: Arc<str>,
    pub decision: Decision,
    pub via: Vec<String>,
    /// The ARN of the access point the request goes through (semantics.md
    /// 5.8); `resource` then names the object (or the access point) by it.
    pub access_point: Option<String>,
    /// The KMS action S3 asks for the caller (`kms:Decrypt` for a read,
    /// `kms:GenerateDataKey` for an upload) and the ARN of its key
    /// (semantics.md 5.9): its answer is part of this one.
    pub kms_key: Option<(String, String)>,
    /// Shared by every copy of the answer (`copied_as`), as are the
    /// witnesses and `partial`: a large `who can` copies 131,000.
    pub because: Arc<[Reason]>,
    pub blocked_by: Vec<&'static str>,
    /// Why an allow needs no statement (the owner's root user…).
    pub implicit: Vec<&'static str>,
    /// Why the answer is `unknown`.
    pub reason: Option<String>,
    /// The request this answers, within its evaluation.
    pub(crate) request: ReqId,
    /// For a `conditional` answer, a state of the request that is allowed
    /// and one that is denied, as far as bucketlog evaluates them (the
    /// owner and ACL of an object the snapshot does not list).
    pub allow_witness: Option<Arc<Witness>>,
    pub deny_witness: Option<Arc<Witness>>,
    /// Every statement that spoke to the request (for `why`), and how
    /// certainly it applied.
    pub considered: Vec<(Reason, datalog::Guard)>,
    /// For `why` of an answer through a chain: each hop's sts:AssumeRole
    /// answer (its trust statement and identity Allow), in chain order.
    pub hops: Vec<Answer>,
    /// For a conditional answer on a glob: Resource patterns of statements
    /// that applied to part of it only, as ("allowed" | "denied", pattern).
    pub partial: Arc<[(&'static str, String)]>,
}

impl Answer {
    /// This answer for another principal or chain: a copy with `principal`
    /// and `via` as given, the rest cloned. `who can` makes one per class
    /// member and per chain (131,000 on the large estate), so the two
    /// fields it replaces are not cloned first.
    pub(crate) fn copied_as(&self, principal: String, via: Vec<String>) -> Answer {
        Answer {
            principal,
            via,
            action: self.action.clone(),
            resource: self.resource.clone(),
            decision: self.decision,
            access_point: self.access_point.clone(),
            kms_key: self.kms_key.clone(),
            because: self.because.clone(),
            blocked_by: self.blocked_by.clone(),
            implicit: self.implicit.clone(),
            reason: self.reason.clone(),
            request: self.request,
            allow_witness: self.allow_witness.clone(),
            deny_witness: self.deny_witness.clone(),
            considered: self.considered.clone(),
            hops: self.hops.clone(),
            partial: self.partial.clone(),
        }
    }

    /// Orders a principal's answers best first: the most permissive
    /// decision, then the shorter chain (a direct answer before any), then
    /// the bucket's own endpoint before an access point.
    pub fn rank(&self) -> (Decision, usize, bool) {
        (self.decision, self.via.len(), self.access_point.is_some())
    }
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
    /// Input facts the rules ran over, in every evaluation of the query.
    pub facts: usize,
    /// The result of a `prove` query.
    pub proof: Option<prove::Proof>,
    /// The sheets of a `show` query (one per policy of that name).
    pub shown: Vec<show::Shown>,
}

/// An estate compiled for questions: the estate-wide index is built once
/// (per process, or per REPL session) and every query reads it; only what
/// depends on the query's scope is built per query. The can-assume graph
/// is built once per context, as far as the queries so far needed it.
pub struct Engine<'e> {
    pub estate: &'e Estate,
    pub index: Arc<Index>,
    /// The can-assume graph of each context asked so far (`Given::key`).
    assume: Mutex<HashMap<String, Arc<assume::AssumeGraph<'e>>>>,
    /// The roles each principal's trust policies may let it assume, once a
    /// query first needs chains.
    candidates: std::sync::OnceLock<assume::Candidates>,
    /// The upload checks of each scope decided so far (`uploads.rs`).
    uploads: Mutex<uploads::DecidedUploads>,
}

impl<'e> Engine<'e> {
    pub fn new(estate: &'e Estate) -> Engine<'e> {
        Engine {
            estate,
            index: Arc::new(Index::new(estate)),
            assume: Mutex::default(),
            candidates: std::sync::OnceLock::new(),
            uploads: Mutex::default(),
        }
    }

    /// The can-assume graphs kept so far. A poisoned lock (a panic while
    /// it was held) still holds whole graphs: each is inserted complete.
    fn assume_graphs(&self) -> MutexGuard<'_, HashMap<String, Arc<assume::AssumeGraph<'e>>>> {
        self.assume.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Parses and answers one query.
    pub fn answer(&self, text: &str, opts: Options) -> Result<Outcome, QueryError> {
        self.answer_in(text, opts, &[])
    }

    /// Parses and answers one query under a default context (the REPL's
    /// `:set context`): a `can`, `why` or `who can` gets every default
    /// item whose key its own `with` does not name.
    pub fn answer_in(
        &self,
        text: &str,
        opts: Options,
        defaults: &[ContextItem],
    ) -> Result<Outcome, QueryError> {
        answer_bytes(self, text, opts, defaults).map_err(|e| e.in_chars(text))
    }

    /// Concrete decisions in one batch: each `can PRINCIPAL ACTION RESOURCE`
    /// query (no `with`) is decided for the requests its principal makes
    /// itself — the answers `can` gives without the chains — one decision
    /// per action it names and per route (the bucket's endpoint, then each
    /// access point of the bucket), in order.
    pub fn decisions(&self, queries: &[String]) -> Result<Vec<Decision>, QueryError> {
        use rayon::prelude::*;
        // Parsed on rayon's threads: lalrpop's lexer builds its automaton's
        // states afresh for each query (a tenth of a batch on one thread).
        let asked: Vec<Result<Vec<_>, QueryError>> = queries
            .par_iter()
            .map(|text| self.batch_requests(text))
            .collect();
        let mut requests = Vec::new();
        for r in asked {
            requests.extend(r?);
        }
        Ok(evaluation::decide(self, &requests))
    }

    /// The requests of one `can` query of a batch.
    fn batch_requests(
        &self,
        text: &str,
    ) -> Result<Vec<(crate::facts::Subject, &'static Action, Resource)>, QueryError> {
        let Query::Can {
            principal,
            action,
            resource,
            context,
        } = parse(text)?
        else {
            return Err(QueryError {
                column: 1,
                message: format!("expected a `can` query in a batch: `{text}`"),
            });
        };
        if let Some(item) = context.first() {
            return Err(QueryError::at(
                &item.key,
                "a batch decides requests without `with`",
            ));
        }
        let subject = resolve::subject(self.estate, &self.index, &principal)?;
        let targets = resolve::targets(self.estate, &self.index, &action, &resource)?;
        Ok(targets
            .into_iter()
            .map(|(a, r)| (subject.clone(), a, r))
            .collect())
    }
}

/// `bucketlog graph`'s question: which principals may perform the verbs'
/// actions on which scopes, and through which chains.
pub struct Reach {
    /// Each scope asked about (`bucket` whole, or `bucket/prefix/*`) with
    /// the answers on it that may give access, chains with their hops.
    pub scopes: Vec<(String, Vec<Answer>)>,
    pub sanity_violations: usize,
}

impl Engine<'_> {
    /// The answers `bucketlog graph` draws: of one principal (`from`) or
    /// every principal, on one resource (`to`) or every bucket and every
    /// prefix the policies name, for the verbs or actions `verbs` names;
    /// chains of more than `max_hops` role assumptions left out.
    pub fn reach(
        &self,
        from: Option<&str>,
        to: Option<&str>,
        verbs: &[String],
        max_hops: Option<usize>,
        opts: Options,
    ) -> Result<Reach, QueryError> {
        let word = |text: &str| Word {
            text: text.to_string(),
            offset: 0,
        };
        let subjects = match from {
            Some(p) => vec![resolve::subject(self.estate, &self.index, &word(p))?],
            None => self.index.subjects.clone(),
        };
        let (wholes, prefixes) = match to {
            Some(r) => (vec![resolve::scope(self.estate, &word(r))?], Vec::new()),
            None => reach::scopes(self),
        };
        let mut actions: Vec<&Action> = Vec::new();
        for v in verbs {
            for a in resolve::actions(&word(v))? {
                if !actions.iter().any(|x| x.name == a.name) {
                    actions.push(a);
                }
            }
        }
        let (answers, stats) = reach::reach(
            self,
            &subjects,
            (&wholes, &prefixes),
            &actions,
            max_hops,
            opts,
        );
        let scopes = wholes
            .iter()
            .chain(&prefixes)
            .zip(answers)
            .map(|(scope, answers)| {
                let bucket = &self.estate.buckets[scope.bucket].name;
                let name = match scope.key.as_str() {
                    "*" => bucket.clone(),
                    key => format!("{bucket}/{key}"),
                };
                (name, answers)
            })
            .collect();
        Ok(Reach {
            scopes,
            sanity_violations: stats.sanity_violations,
        })
    }
}

/// Parses and answers one query (compiling the estate for it alone).
pub fn answer(estate: &Estate, text: &str, opts: Options) -> Result<Outcome, QueryError> {
    Engine::new(estate).answer(text, opts)
}

/// The items of a context as written after `with` (`aws:SecureTransport =
/// true, k absent`); error columns count from the context's first character.
pub fn parse_context(text: &str) -> Result<Vec<ContextItem>, QueryError> {
    const HEAD: &str = "can anonymous s3:GetObject b with ";
    match parse(&format!("{HEAD}{text}")) {
        Ok(Query::Can { context, .. }) => Ok(context),
        Ok(_) => unreachable!("a `can` query parses as one"),
        Err(e) => Err(QueryError {
            column: e.column.saturating_sub(HEAD.chars().count()).max(1),
            message: e.message,
        }),
    }
}

fn answer_bytes(
    engine: &Engine,
    text: &str,
    opts: Options,
    defaults: &[ContextItem],
) -> Result<Outcome, QueryError> {
    let estate = engine.estate;
    let mut q = parse_bytes(text)?;
    if let Query::Can { context, .. } | Query::Why { context, .. } | Query::WhoCan { context, .. } =
        &mut q
    {
        let named: Vec<String> = context
            .iter()
            .map(|c| c.key.text.to_ascii_lowercase())
            .collect();
        context.extend(
            defaults
                .iter()
                .filter(|d| !named.contains(&d.key.text.to_ascii_lowercase()))
                .cloned(),
        );
    }
    let mut notes = Vec::new();
    if opts.closed_context
        && matches!(
            q,
            Query::Can { .. } | Query::Why { .. } | Query::WhoCan { .. }
        )
    {
        notes.push("closed context: every free key `with` does not name is taken as absent (as the IAM policy simulator does); keys the snapshot fixes keep their values".into());
    }
    let mut proof = None;
    let mut shown = Vec::new();
    let (answers, stats) = match &q {
        Query::Can {
            principal,
            action,
            resource,
            context,
        }
        | Query::Why {
            principal,
            action,
            resource,
            context,
            ..
        } => {
            let subject = resolve::subject(estate, &engine.index, principal)?;
            let targets = resolve::targets(estate, &engine.index, action, resource)?;
            let given = Given {
                context: context.clone(),
                closed: opts.closed_context,
                ..Given::default()
            };
            match q {
                Query::Why { .. } => can::why(engine, &subject, &targets, &given),
                _ => can::can(engine, &subject, &targets, &given),
            }
        }
        Query::WhoCan {
            action,
            resource,
            context,
        } => {
            let actions = resolve::actions(action)?;
            let scope = resolve::scope(estate, resource)?;
            who_can::who_can(
                engine,
                &s3_targets(&engine.index, &actions, &scope),
                &Given {
                    context: context.clone(),
                    closed: opts.closed_context,
                    ..Given::default()
                },
                opts,
                &mut notes,
            )
        }
        Query::Path {
            principal,
            action,
            resource,
        } => {
            let subject = resolve::subject(estate, &engine.index, principal)?;
            let actions = match action {
                Some(a) => resolve::actions(a)?,
                None => Catalog::get().expand("any"),
            };
            let scope = resolve::scope(estate, resource)?;
            can::path(engine, &subject, &actions, &scope)
        }
        Query::WhatCan { principal, on } => {
            let subject = resolve::subject(estate, &engine.index, principal)?;
            let scopes = match on {
                Some(r) => vec![resolve::scope(estate, r)?],
                None => resolve::every_bucket(estate),
            };
            can::what_can(engine, &subject, &scopes)
        }
        Query::Public { bucket } => {
            let scopes = match bucket {
                Some(b) => vec![resolve::scope(estate, b)?],
                None => resolve::every_bucket(estate),
            };
            who_can::public(engine, &scopes, &mut notes)
        }
        Query::ProveWriteOnly {
            principal,
            resource,
        } => {
            let subject = resolve::subject(estate, &engine.index, principal)?;
            let scope = resolve::scope(estate, resource)?;
            proof = Some(prove::write_only(engine, &subject, &scope));
            (Vec::new(), Stats::default())
        }
        Query::ProveNoPublicAccess { bucket } => {
            let scope = resolve::scope(estate, bucket)?;
            let whole = resolve::Scope {
                bucket: scope.bucket,
                key: "*".into(),
                access_point: None,
            };
            who_can::note_cdn_origins(engine, &whole, &mut notes);
            proof = Some(prove::no_public_access(engine, &whole));
            (Vec::new(), Stats::default())
        }
        Query::ProveNoDestroy { bucket } => {
            let scope = resolve::scope(estate, bucket)?;
            let whole = resolve::Scope {
                bucket: scope.bucket,
                key: "*".into(),
                access_point: None,
            };
            proof = Some(prove::no_destroy(engine, &whole, &mut notes));
            (Vec::new(), Stats::default())
        }
        Query::ProveRequires {
            principal,
            action,
            resource,
            key,
            op,
            value,
        } => {
            let subject = resolve::subject(estate, &engine.index, principal)?;
            let targets = resolve::targets(estate, &engine.index, action, resource)?;
            let p = prove::requires(engine, &subject, &targets, &key.text, &op.text, &value.text)
                .map_err(|m| QueryError::at(key, m))?;
            proof = Some(p);
            (Vec::new(), Stats::default())
        }
        Query::Help => (Vec::new(), Stats::default()),
        Query::Show { kind, name } => {
            shown = show::show(engine, *kind, name)?;
            (Vec::new(), Stats::default())
        }
    };
    // Access points whose bucket is unknown may serve any bucket: answers
    // on S3 scopes leave out what goes through them, and a proof cannot
    // stand on that.
    let unread = &estate.unreadable_access_points;
    let s3 = matches!(
        q.kind(),
        "who-can" | "can" | "why" | "what-can" | "public" | "prove"
    );
    if !unread.is_empty() && s3 {
        let why = format!(
            "access point(s) {} could not be read: which bucket they serve is unknown, and requests through them are not evaluated",
            unread.join(", ")
        );
        if let Some(p) = proof
            .as_mut()
            .filter(|p| p.result == prove::ProofResult::Proved)
        {
            p.result = prove::ProofResult::Unknown;
            p.reason = Some(why.clone());
        }
        notes.push(why);
    }
    Ok(Outcome {
        query: text.trim().to_string(),
        kind: q.kind(),
        answers,
        notes,
        sanity_violations: stats.sanity_violations,
        facts: stats.facts,
        proof,
        shown,
    })
}

/// What the evaluations of a query cost and found, summed.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Stats {
    pub sanity_violations: usize,
    pub facts: usize,
}

impl std::ops::AddAssign for Stats {
    fn add_assign(&mut self, o: Stats) {
        self.sanity_violations += o.sanity_violations;
        self.facts += o.facts;
    }
}

/// What a query fixes about its requests: context keys (`with`), and
/// conditions the requests must meet (`prove`).
#[derive(Clone, Default)]
pub(crate) struct Given {
    pub context: Vec<ast::ContextItem>,
    pub constraints: Vec<crate::smt::keys::Constraint>,
    pub closed: bool,
    /// Only public grants count (`Built::public_grants_only`).
    pub public_only: bool,
}

impl Given {
    /// Everything that binds a request, as text: two queries with the same
    /// key share their can-assume graph (`Engine::assume`).
    fn key(&self) -> String {
        let context: Vec<(String, bool, Vec<&str>)> = self
            .context
            .iter()
            .map(|item| {
                let absent = matches!(item.value, ast::ContextValue::Absent);
                (
                    item.key.text.to_ascii_lowercase(),
                    absent,
                    item.value.texts(),
                )
            })
            .collect();
        format!(
            "{:?}",
            (self.closed, self.public_only, &self.constraints, context)
        )
    }
}

/// The requests a query asks about: each action on its resource.
pub(crate) type Targets<'a> = Vec<(&'a Action, Resource)>;

/// Each action on the scope: through its access point, or directly and
/// through each access point of the bucket (semantics.md 5.8).
pub(crate) fn s3_targets<'a>(index: &Index, actions: &[&'a Action], scope: &Scope) -> Targets<'a> {
    let points = match scope.access_point {
        Some(ref ap) => std::slice::from_ref(ap),
        None => index.access_points[scope.bucket].as_slice(),
    };
    let mut out: Targets<'a> = Vec::new();
    if scope.access_point.is_none() {
        out.extend(
            actions
                .iter()
                .filter_map(|a| s3_resource(scope.bucket, &scope.key, a).map(|r| (*a, r))),
        );
    }
    for &ap in points {
        out.extend(
            actions
                .iter()
                .filter_map(|a| through_resource(ap, &scope.key, a).map(|r| (*a, r))),
        );
    }
    out
}
