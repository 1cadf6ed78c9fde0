//! Conditions by Z3 (semantics.md 3): a statement's Condition block (and a
//! Resource entry with policy variables) becomes one formula over the
//! request's keys (`keys`); the solver says whether it holds for every value
//! the free keys may take, for none, or for some. A construct that is not
//! modelled becomes an uninterpreted Boolean, so a verdict that turns on it
//! is `Unknown` — never a guess.
//!
//! Strings are limited to ASCII (Z3 4.8's string literals are byte-based);
//! a non-ASCII policy value is unknown.

pub mod keys;

use crate::catalog::KeyType;
use crate::model::ConditionEntry;
use keys::{Availability, RequestKeys};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};
use z3::ast::{Ast, Bool, Int, Real, Regexp, BV};
use z3::{Params, SatResult, Solver};

/// Values of the keys a formula names, as the solver's model has them
/// (`None`: the key is absent).
pub type Context = Vec<(String, Option<String>)>;

/// A statement's Condition block, with its policy's Version (whether its
/// values may hold policy variables).
pub type Block<'a> = (&'a [ConditionEntry], Option<&'a str>);

/// What a guard does for one request, over every value of the free keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Always,
    Never,
    Sometimes,
    Unknown(String),
}

/// The verdict of a whole Condition block (operators, keys and values ANDed).
pub fn condition(entries: &[ConditionEntry], version: Option<&str>, req: &RequestKeys) -> Verdict {
    let variables = version == Some("2012-10-17");
    match ground(entries, variables, req) {
        Grounded::Never => Verdict::Never,
        Grounded::Always if req.constraints.is_empty() => Verdict::Always,
        Grounded::Rest(rest) => solved(&rest, variables, req),
        Grounded::Always | Grounded::Untouched => solved(entries, variables, req),
    }
}

/// What the entries a request decides by itself leave of a block.
enum Grounded {
    /// One of them fails: the block never holds.
    Never,
    /// All entries are decided and hold.
    Always,
    /// These entries are left for the solver (fewer than the block's).
    Rest(Vec<ConditionEntry>),
    /// None is decided here.
    Untouched,
}

/// The entries of a block that test a string or ARN key whose value the
/// request fixes, or that it lacks (the caller's own aws:PrincipalArn,
/// aws:username, …), decided by plain matching. They differ per caller:
/// left in the formula, every caller would cost the solver one formula of
/// its own. Entries the solver treats as unmodelled are never decided here.
fn ground(entries: &[ConditionEntry], variables: bool, req: &RequestKeys) -> Grounded {
    let twice = entries.iter().enumerate().any(|(i, e)| {
        entries[..i].iter().any(|o| {
            o.operator == e.operator && o.key != e.key && o.key.eq_ignore_ascii_case(&e.key)
        })
    });
    if twice {
        return Grounded::Untouched;
    }
    let mut rest = Vec::new();
    for e in entries {
        match ground_entry(e, variables, req) {
            Some(false) => return Grounded::Never,
            Some(true) => {}
            None => rest.push(e.clone()),
        }
    }
    match rest.len() {
        0 => Grounded::Always,
        n if n == entries.len() => Grounded::Untouched,
        _ => Grounded::Rest(rest),
    }
}

/// One entry as `Encoder::try_entry` reads it, when it is a single-valued
/// string or ARN test (no set operator, no policy variable) of a key the
/// request fixes to one value or lacks; `None` otherwise.
fn ground_entry(e: &ConditionEntry, variables: bool, req: &RequestKeys) -> Option<bool> {
    let (base, if_exists) = match e.operator.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (e.operator.as_str(), false),
    };
    let (positive, negated) = positive_of(base);
    let arn = match positive {
        "StringEquals" | "StringLike" => false,
        "ArnEquals" | "ArnLike" => true,
        _ => return None,
    };
    let plain = |t: &str| t.is_ascii() && !t.contains('\0');
    // The solver reads every policy value even for a request that lacks the
    // key: one it cannot read makes the entry unmodelled.
    if e.values.iter().any(|v| {
        !plain(v) || (variables && v.contains("${")) || (arn && v.splitn(6, ':').count() != 6)
    }) {
        return None;
    }
    let (ty, avail) = req.lookup(&e.key);
    let ty = match (ty, &avail) {
        (Some(t), _) => t,
        (None, Availability::Absent) => KeyType::String,
        _ => return None,
    };
    let fits = match arn {
        false => matches!(ty, KeyType::String | KeyType::Arn),
        true => ty == KeyType::Arn,
    };
    if !fits {
        return None;
    }
    let value = match &avail {
        Availability::Absent => return Some(if_exists || negated),
        Availability::Value(v) => match v.as_slice() {
            [one] if plain(one) => one,
            _ => return None,
        },
        // No value that starts with the prefix passes a pattern whose
        // literal head disagrees with it (another account's ARN).
        Availability::Within(prefix) => {
            let passes = |p: &String| {
                let head = crate::glob::literal_head(p);
                head.starts_with(prefix.as_str()) || prefix.starts_with(head)
            };
            return match e.values.iter().any(passes) {
                true => None,
                false => Some(negated),
            };
        }
        _ => return None,
    };
    let any = e.values.iter().any(|p| match positive {
        "StringEquals" => value == p,
        "StringLike" => crate::glob::matches(p, value, false),
        // ArnEquals and ArnLike both glob each field (`arn_regex`).
        _ => {
            let (v, q): (Vec<&str>, Vec<&str>) =
                (value.splitn(6, ':').collect(), p.splitn(6, ':').collect());
            v.len() == 6
                && v.iter()
                    .zip(&q)
                    .all(|(v, q)| crate::glob::matches(q, v, false))
        }
    });
    Some(any != negated)
}

/// A block the solver decides, cached by formula.
fn solved(entries: &[ConditionEntry], variables: bool, req: &RequestKeys) -> Verdict {
    let keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
    cached(&block_text(entries), variables, &keys, req, || {
        let mut enc = Encoder::new(req, variables);
        enc.count(entries);
        enc.constrain();
        let parts: Vec<Bool> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                // One key twice under one operator, in different case, is undocumented (semantics.md 3.1).
                let twice = entries[..i].iter().any(|o| {
                    o.operator == e.operator && o.key != e.key && o.key.eq_ignore_ascii_case(&e.key)
                });
                match twice {
                    true => enc.uninterpreted(format!(
                        "`{}` twice under {}, in different case",
                        e.key, e.operator
                    )),
                    false => enc.entry(e),
                }
            })
            .collect();
        enc.decide(&Bool::and(&parts))
    })
}

static FORMULAS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many distinct formulas reached the solver in this process (the
/// rest were answered from the cache): for benchmarks.
pub fn formulas_solved() -> usize {
    FORMULAS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Runs a solve whose model bucketlog prints (a witness, a way) in a
/// context of its own, so that it does not depend on what was solved before
/// in the process: the same input gives the same output.
fn fresh<R: Send + Sync>(solve: impl FnOnce() -> R + Send + Sync) -> R {
    z3::with_z3_config(&z3::Config::new(), solve)
}

/// A solver for one formula: Z3's `smt` tactic. The default solver costs
/// about 6.5 ms to set up on each first check (libz3 4.8.12, measured),
/// more than solving a typical Condition block; the `smt` tactic decides
/// the same theories (strings, reals, integers, bit-vectors) in about
/// 0.4 ms for such a block.
fn solver() -> Solver {
    z3::Tactic::new("smt").solver()
}

/// A Condition block as text, for cache keys.
fn block_text(entries: &[ConditionEntry]) -> String {
    let text: Vec<String> = entries
        .iter()
        .map(|e| {
            format!(
                "{}\u{1}{}\u{1}{}",
                e.operator,
                e.key,
                e.values.join("\u{2}")
            )
        })
        .collect();
    text.join("\u{3}")
}

/// Verdicts by formula, so equal formulas are solved once.
fn cached(
    text: &str,
    variables: bool,
    keys: &[&str],
    req: &RequestKeys,
    solve: impl FnOnce() -> Verdict + Send + Sync,
) -> Verdict {
    static CACHE: OnceLock<Mutex<HashMap<String, Verdict>>> = OnceLock::new();
    let key = formula_key(text, variables, keys, req);
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().expect("cache lock").get(&key) {
        return v.clone();
    }
    FORMULAS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // A verdict does not depend on the context's history, but its time
    // does: in a thread's long-lived context Z3 took 100 ms over blocks it
    // decides in 5 ms in a fresh one (libz3 4.8.12, the large estate).
    let v = fresh(solve);
    cache.lock().expect("cache lock").insert(key, v.clone());
    v
}

/// What a formula depends on: the guard's text and what the request
/// carries for every key it names (variables included), the resource's
/// account and the constraints on the request.
fn formula_key(text: &str, variables: bool, keys: &[&str], req: &RequestKeys) -> String {
    let mut named: Vec<String> = keys
        .iter()
        .copied()
        .chain(req.constraints.iter().map(|c| c.entry.key.as_str()))
        .map(str::to_ascii_lowercase)
        .collect();
    if variables {
        named.extend(
            text.split("${")
                .skip(1)
                .filter_map(|rest| rest.split(['}', ',']).next())
                .map(|k| k.trim().to_ascii_lowercase()),
        );
    }
    named.sort();
    named.dedup();
    let availability: Vec<String> = named
        .iter()
        .map(|k| format!("{k}={:?}", req.lookup(k)))
        .collect();
    let constraints: Vec<String> = req
        .constraints
        .iter()
        .map(|c| {
            format!(
                "{}\u{1}{}\u{1}{}\u{1}{}",
                c.holds,
                c.entry.operator,
                c.entry.key,
                c.entry.values.join("\u{2}")
            )
        })
        .collect();
    format!(
        "{text}\u{4}{variables}\u{4}{}\u{4}{}\u{4}{}",
        availability.join("\u{5}"),
        req.resource_account,
        constraints.join("\u{5}")
    )
}

/// The verdict of Resource entries that contain policy variables, for a
/// request on an ARN — or on any ARN of a scope pattern (`b/x/*`): the
/// object key is then a free string the pattern constrains.
pub fn resource_with_variables(items: &[&str], arn: &str, req: &RequestKeys) -> Verdict {
    let text = format!("resource\u{1}{}\u{1}{arn}", items.join("\u{2}"));
    cached(&text, true, &[], req, || resource_verdict(items, arn, req))
}

fn resource_verdict(items: &[&str], arn: &str, req: &RequestKeys) -> Verdict {
    let mut enc = Encoder::new(req, true);
    enc.constrain();
    let target = if arn.contains(['*', '?']) {
        let t = z3::ast::String::new_const("resource");
        match glob_regex(arn, false) {
            Ok(scope) => enc.background.push(t.regex_matches(&scope)),
            Err(why) => return Verdict::Unknown(why),
        }
        t
    } else {
        match literal(arn) {
            Ok(t) => t,
            Err(why) => return Verdict::Unknown(why),
        }
    };
    let parts: Vec<Bool> = items
        .iter()
        .map(|item| match enc.like_with_variables(&target, item, true) {
            Ok(b) => b,
            Err(why) => enc.uninterpreted(why),
        })
        .collect();
    enc.decide(&Bool::or(&parts))
}

/// Values of the keys under which every guard takes its wanted truth value
/// (`(block, version, wanted)`), as the solver's model has them: a candidate
/// witness, to be replayed as a concrete request. `None` when there is none
/// or a guard is not modelled. A key maps to `None` when it is absent.
pub fn witness(
    guards: &[(&[ConditionEntry], Option<&str>, bool)],
    req: &RequestKeys,
) -> Option<Context> {
    fresh(|| model_of(guards, req))
}

fn model_of(
    guards: &[(&[ConditionEntry], Option<&str>, bool)],
    req: &RequestKeys,
) -> Option<Context> {
    let mut enc = Encoder::new(req, true);
    enc.count(guards.iter().flat_map(|(entries, _, _)| entries.iter()));
    enc.constrain();
    let mut parts = Vec::new();
    for (entries, version, wanted) in guards {
        enc.variables = *version == Some("2012-10-17");
        let block: Vec<Bool> = entries.iter().map(|e| enc.entry(e)).collect();
        let b = Bool::and(&block);
        parts.push(if *wanted { b } else { b.not() });
    }
    if !enc.unknown.is_empty() {
        return None;
    }
    let solver = solver();
    for b in enc.background.iter().chain(parts.iter()) {
        solver.assert(b);
    }
    if solver.check() != SatResult::Sat {
        return None;
    }
    let model = solver.get_model()?;
    enc.context(|_| &model)
}

/// Every feasible way the guards can go together (which hold, which fail),
/// each with context values that realise it, from the solver's models:
/// the ways the rules then decide as variants of the request. `None` when a
/// guard is not modelled or there are more than `limit` ways. Cached by
/// formula, as verdicts are.
pub fn assignments(guards: &[Block], req: &RequestKeys, limit: usize) -> Option<Vec<Context>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Vec<Context>>>>> = OnceLock::new();
    // Entries the request decides (they hold: the guards are conditional)
    // leave the atoms as they are; without them, callers that differ only
    // in such keys share one enumeration.
    let reduced: Option<Vec<Vec<ConditionEntry>>> = guards
        .iter()
        .map(
            |(entries, version)| match ground(entries, *version == Some("2012-10-17"), req) {
                Grounded::Never => None,
                Grounded::Always => Some(Vec::new()),
                Grounded::Rest(rest) => Some(rest),
                Grounded::Untouched => Some(entries.to_vec()),
            },
        )
        .collect();
    let reduced: Vec<(&[ConditionEntry], Option<&str>)> = match &reduced {
        Some(r) => r
            .iter()
            .zip(guards)
            .map(|(entries, (_, version))| (entries.as_slice(), *version))
            .collect(),
        None => guards.to_vec(),
    };
    // The ways do not depend on the guards' order: one formula, in the
    // order of its guards' text, whichever order the statements came in.
    let mut texts: Vec<(String, Block)> = reduced
        .iter()
        .map(|g @ (entries, version)| (format!("{version:?}\u{6}{}", block_text(entries)), *g))
        .collect();
    texts.sort_by(|a, b| a.0.cmp(&b.0));
    let (text, guards): (Vec<String>, Vec<_>) = texts.into_iter().unzip();
    let guards = guards.as_slice();
    let variables = guards
        .iter()
        .any(|(_, version)| *version == Some("2012-10-17"));
    let keys: Vec<&str> = guards
        .iter()
        .flat_map(|(entries, _)| entries.iter().map(|e| e.key.as_str()))
        .collect();
    let key = format!(
        "{limit}\u{7}{}",
        formula_key(&text.join("\u{7}"), variables, &keys, req)
    );
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().expect("cache lock").get(&key) {
        return v.clone();
    }
    let v = fresh(|| enumerate(guards, req, limit));
    cache.lock().expect("cache lock").insert(key, v.clone());
    v
}

fn enumerate(guards: &[Block], req: &RequestKeys, limit: usize) -> Option<Vec<Context>> {
    let mut enc = Encoder::new(req, true);
    enc.count(guards.iter().flat_map(|(entries, _)| entries.iter()));
    enc.constrain();
    let mut atoms = Vec::new();
    for (entries, version) in guards {
        enc.variables = *version == Some("2012-10-17");
        let block: Vec<Bool> = entries.iter().map(|e| enc.entry(e)).collect();
        atoms.push(Bool::and(&block));
    }
    if !enc.unknown.is_empty() {
        return None;
    }
    // Guards over keys no formula joins go their ways independently: each
    // set of them is enumerated alone, and the ways of the whole are every
    // combination of theirs. Apart, each solver sees only its own keys
    // (the string solver gets slow on blocking clauses that mix in other
    // keys), and the ways are the same.
    let parts = Parts::of(&enc, &atoms);
    let mut found: Vec<Vec<z3::Model>> = Vec::with_capacity(parts.parts.len());
    let mut combinations = 1usize;
    for part in &parts.parts {
        let models = ways_of(&part.atoms, &part.background, limit)?;
        combinations = combinations.saturating_mul(models.len());
        if combinations > limit {
            return None;
        }
        found.push(models);
    }
    let mut out = Vec::with_capacity(combinations);
    // Each combination in order, the first part's way varying slowest.
    for n in 0..combinations {
        let mut pick = Vec::with_capacity(found.len());
        let mut rest = n;
        for models in found.iter().rev() {
            pick.push(&models[rest % models.len()]);
            rest /= models.len();
        }
        pick.reverse();
        out.push(enc.context(|key| pick[parts.of_slot(key)])?);
    }
    Some(out)
}

/// Every way the atoms can go together under the background facts, each
/// as a model (at most `limit`; `None` beyond, or when the solver cannot
/// say).
fn ways_of(atoms: &[Bool], background: &[Bool], limit: usize) -> Option<Vec<z3::Model>> {
    let solver = solver();
    for b in background {
        solver.assert(b);
    }
    let mut out = Vec::new();
    loop {
        match solver.check() {
            SatResult::Sat => {}
            SatResult::Unsat => return Some(out),
            SatResult::Unknown => return None,
        }
        if out.len() == limit {
            return None;
        }
        let model = solver.get_model()?;
        let mut differs = Vec::new();
        for a in atoms {
            let holds = model.eval(a, true)?.as_bool()?;
            differs.push(if holds { a.not() } else { a.clone() });
        }
        out.push(model);
        // The next model must set some guard the other way.
        solver.assert(Bool::or(&differs));
    }
}

/// A formula's guards and background facts split into parts that share no
/// constant (directly or through one another), so that each part's ways
/// are independent of the others'. A key's constants (whether it is
/// present, its value) stay in one part.
struct Parts {
    parts: Vec<Part>,
    /// Each key's part, by the key's slot name; a key in no formula may
    /// take its value from any part's model (the first).
    slots: HashMap<String, usize>,
}

/// Guards and the background facts on their constants.
#[derive(Default)]
struct Part {
    atoms: Vec<Bool>,
    background: Vec<Bool>,
}

impl Parts {
    fn of(enc: &Encoder, atoms: &[Bool]) -> Parts {
        let mut sets = ConstantSets::default();
        // A key's constants go together, whatever mentions them.
        let slot_roots: Vec<(String, Option<usize>)> = enc
            .slots
            .iter()
            .map(|(key, slot)| {
                let mut names = Vec::new();
                if let Ok(slot) = slot {
                    slot.constants(&enc.made, &mut names);
                }
                (key.clone(), sets.join(&names))
            })
            .collect();
        let atom_roots: Vec<Option<usize>> =
            atoms.iter().map(|a| sets.join_of(a, &enc.made)).collect();
        let background_roots: Vec<Option<usize>> = enc
            .background
            .iter()
            .map(|b| sets.join_of(b, &enc.made))
            .collect();
        let mut out = Parts {
            parts: Vec::new(),
            slots: HashMap::new(),
        };
        // Parts in the order their first atom comes, so the ways keep the
        // guards' order; what mentions no constant goes in the first.
        let mut part_of: HashMap<usize, usize> = HashMap::new();
        let mut part = |out: &mut Parts, root: Option<usize>| -> usize {
            let i = match root {
                None => 0,
                Some(r) => {
                    let next = out.parts.len();
                    *part_of.entry(sets.find(r)).or_insert(next)
                }
            };
            if out.parts.len() <= i {
                out.parts.push(Part::default());
            }
            i
        };
        for (a, root) in atoms.iter().zip(atom_roots) {
            let i = part(&mut out, root);
            out.parts[i].atoms.push(a.clone());
        }
        for (b, root) in enc.background.iter().zip(background_roots) {
            let i = part(&mut out, root);
            out.parts[i].background.push(b.clone());
        }
        for (key, root) in slot_roots {
            // A key no atom or fact mentions takes any model's value.
            let i = root.and_then(|r| part_of.get(&sets.find(r)).copied());
            out.slots.insert(key, i.unwrap_or(0));
        }
        if out.parts.is_empty() {
            out.parts.push(Part::default());
        }
        out
    }

    fn of_slot(&self, key: &str) -> usize {
        self.slots.get(key).copied().unwrap_or(0)
    }
}

/// Union-find over the names of a formula's uninterpreted constants.
#[derive(Default)]
struct ConstantSets {
    index: HashMap<String, usize>,
    parent: Vec<usize>,
}

impl ConstantSets {
    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    /// Joins the constants named into one set; its root, if any was named.
    fn join(&mut self, names: &[String]) -> Option<usize> {
        let mut root = None;
        for name in names {
            let next = self.parent.len();
            let i = *self.index.entry(name.clone()).or_insert(next);
            if i == next {
                self.parent.push(i);
            }
            let i = self.find(i);
            root = Some(match root {
                None => i,
                Some(r) => {
                    self.parent[i] = r;
                    r
                }
            });
        }
        root
    }

    fn join_of(&mut self, e: &impl Ast, made: &HashSet<String>) -> Option<usize> {
        let mut names = Vec::new();
        constants(e, made, &mut names);
        self.join(&names)
    }
}

/// The names of the constants the encoder made (`Encoder::name`, with the
/// suffixes of a key's parts) that an expression mentions. (A literal that
/// happens to read like one only joins parts that could stay apart.)
fn constants(e: &impl Ast, made: &HashSet<String>, out: &mut Vec<String>) {
    if e.kind() != z3::AstKind::App {
        return;
    }
    if e.num_children() == 0 {
        let name = e.decl().name();
        let base = name.rsplit_once('.').map_or(name.as_str(), |(b, _)| b);
        if made.contains(&name) || made.contains(base) {
            out.push(name);
        }
        return;
    }
    for child in e.children() {
        constants(&child, made, out);
    }
}

/// A policy value with its variables replaced by the values the request
/// fixes: `Some(None)` when one is absent without a default (the entry
/// matches nothing, semantics.md 3.5), `None` when one is free or its value
/// holds a wildcard character (the solver must decide).
pub fn substitute(policy: &str, req: &RequestKeys) -> Option<Option<String>> {
    let mut out = String::new();
    for piece in variables(policy).ok()? {
        match piece {
            Piece::Text(t) => out.push_str(&t),
            Piece::Var { key, default } => match (req.lookup(&key).1, default) {
                (Availability::Value(v), _) if v.len() == 1 && !v[0].contains(['*', '?']) => {
                    out.push_str(&v[0])
                }
                (Availability::Absent, Some(d)) if !d.contains(['*', '?']) => out.push_str(&d),
                (Availability::Absent, None) => return Some(None),
                _ => return None,
            },
        }
    }
    Some(Some(out))
}

/// A policy value as a glob that matches at least what the value may once
/// its variables are replaced, whatever their values: each variable a `*`
/// (an escape such as `${*}`, a literal character, stays one too); `None`
/// when its variables cannot be read.
pub fn widened(policy: &str) -> Option<String> {
    let mut out = String::new();
    for piece in variables(policy).ok()? {
        match piece {
            Piece::Text(t) => out.push_str(&t),
            Piece::Var { .. } => out.push('*'),
        }
    }
    Some(out)
}

/// A key's value in the formula.
#[derive(Clone)]
enum Value {
    Str(z3::ast::String),
    Num(Real),
    Date(Int),
    Flag(Bool),
    Ip {
        is4: Bool,
        v4: BV,
        v6: BV,
    },
    /// A multivalued key: the values the query fixes, or `None` when free.
    Set(Option<Vec<String>>),
    /// A free multivalued key: elements that may or may not be in the set.
    /// The entries of a block are ANDed, each true of the set through one
    /// element at most (`ForAnyValue`) or false through one (`ForAllValues`),
    /// so k entries on a key need at most k elements: quantifying over these
    /// is exact.
    Members(Vec<(Bool, z3::ast::String)>),
}

#[derive(Clone)]
struct Slot {
    present: Bool,
    ty: KeyType,
    value: Value,
}

impl Slot {
    /// The names of the constants that stand for the key.
    fn constants(&self, made: &HashSet<String>, out: &mut Vec<String>) {
        constants(&self.present, made, out);
        match &self.value {
            Value::Str(s) => constants(s, made, out),
            Value::Num(n) => constants(n, made, out),
            Value::Date(d) => constants(d, made, out),
            Value::Flag(b) => constants(b, made, out),
            Value::Ip { is4, v4, v6 } => {
                constants(is4, made, out);
                constants(v4, made, out);
                constants(v6, made, out);
            }
            Value::Set(_) => {}
            Value::Members(members) => {
                for (held, s) in members {
                    constants(held, made, out);
                    constants(s, made, out);
                }
            }
        }
    }
}

/// `ForAllValues:` / `ForAnyValue:`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    All,
    Any,
}

struct Encoder<'r> {
    req: &'r RequestKeys<'r>,
    variables: bool,
    slots: HashMap<String, Result<Slot, String>>,
    /// True on a VPC-endpoint request, false on a direct one (semantics.md 6).
    origin: Option<Bool>,
    unknown: Vec<String>,
    /// Constraints every request satisfies (the scope of the object key).
    background: Vec<Bool>,
    /// How many condition entries test each key (lower-case).
    tests: HashMap<String, usize>,
    fresh: usize,
    /// The names of the constants made (`name`).
    made: HashSet<String>,
}

/// Operators whose values are NORed, true on an absent key (semantics.md 3.3).
fn positive_of(op: &str) -> (&str, bool) {
    match op {
        "StringNotEquals" => ("StringEquals", true),
        "StringNotEqualsIgnoreCase" => ("StringEqualsIgnoreCase", true),
        "StringNotLike" => ("StringLike", true),
        "NumericNotEquals" => ("NumericEquals", true),
        "DateNotEquals" => ("DateEquals", true),
        "NotIpAddress" => ("IpAddress", true),
        "ArnNotEquals" => ("ArnEquals", true),
        "ArnNotLike" => ("ArnLike", true),
        other => (other, false),
    }
}

impl<'r> Encoder<'r> {
    fn new(req: &'r RequestKeys<'r>, variables: bool) -> Encoder<'r> {
        Encoder {
            req,
            variables,
            slots: HashMap::new(),
            origin: None,
            unknown: Vec::new(),
            background: Vec::new(),
            tests: HashMap::new(),
            fresh: 0,
            made: HashSet::new(),
        }
    }

    /// The model's values of every key the formula named (`None`: absent),
    /// each key's from the model `model_of` gives for it.
    fn context<'m>(&self, model_of: impl Fn(&str) -> &'m z3::Model) -> Option<Context> {
        let mut out = Vec::new();
        for (key, slot) in &self.slots {
            let Ok(slot) = slot else { return None };
            let model = model_of(key);
            let present = model.eval(&slot.present, true)?.as_bool()?;
            if !present {
                out.push((key.clone(), None));
                continue;
            }
            let text = match &slot.value {
                Value::Str(s) => model.eval(s, true)?.as_string()?,
                Value::Num(n) => {
                    let (num, den) = model.eval(n, true)?.as_rational()?;
                    if den == 1 {
                        num.to_string()
                    } else {
                        format!("{}", num as f64 / den as f64)
                    }
                }
                // A date as ISO 8601 in UTC, which reads (and replays in
                // `with`) as the policies write it; aws:EpochTime as seconds.
                Value::Date(d) => {
                    let secs = model.eval(d, true)?.as_i64()?;
                    match chrono::DateTime::from_timestamp(secs, 0) {
                        Some(t) if key != "aws:epochtime" => {
                            t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
                        }
                        _ => secs.to_string(),
                    }
                }
                Value::Flag(b) => model.eval(b, true)?.as_bool()?.to_string(),
                Value::Ip { is4, v4, v6 } => {
                    if model.eval(is4, true)?.as_bool()? {
                        let v = model.eval(v4, true)?.as_u64()? as u32;
                        std::net::Ipv4Addr::from(v).to_string()
                    } else {
                        let v = model.eval(v6, true)?;
                        let hi = v.extract(127, 64).simplify().as_u64()?;
                        let lo = v.extract(63, 0).simplify().as_u64()?;
                        std::net::Ipv6Addr::from((u128::from(hi) << 64) | u128::from(lo))
                            .to_string()
                    }
                }
                Value::Set(_) | Value::Members(_) => return None,
            };
            out.push((key.clone(), Some(text)));
        }
        // Keys as AWS documents them, for the witness a user reads.
        let catalog = crate::catalog::Catalog::get();
        let mut out: Context = out
            .into_iter()
            .map(|(k, v)| (catalog.key_spelling(&k), v))
            .collect();
        out.sort();
        Some(out)
    }

    /// Counts the entries that test each key, before any slot is made.
    fn count<'e>(&mut self, entries: impl IntoIterator<Item = &'e ConditionEntry>) {
        for e in entries {
            *self.tests.entry(e.key.to_ascii_lowercase()).or_default() += 1;
        }
    }

    /// The query's constraints on the requests, as background facts.
    fn constrain(&mut self) {
        let constraints = self.req.constraints;
        self.count(constraints.iter().map(|c| &c.entry));
        for c in self.req.constraints {
            let b = self.entry(&c.entry);
            self.background.push(if c.holds { b } else { b.not() });
        }
    }

    fn name(&mut self, what: &str) -> String {
        self.fresh += 1;
        let name = format!("{what}#{}", self.fresh);
        self.made.insert(name.clone());
        name
    }

    /// A Boolean the formula cannot interpret; the verdict must not turn on it.
    fn uninterpreted(&mut self, why: impl Into<String>) -> Bool {
        self.unknown.push(why.into());
        let n = self.name("unknown");
        Bool::new_const(n)
    }

    fn decide(&mut self, phi: &Bool) -> Verdict {
        // A guard over keys the request fixes is ground: the rewriter
        // decides it without a solver (the common case of a caller's own
        // aws:PrincipalArn or aws:username, hundreds of times per estate).
        match phi.simplify().as_bool() {
            Some(true) => return Verdict::Always,
            Some(false) => return Verdict::Never,
            None => {}
        }
        let solver = solver();
        let mut params = Params::new();
        params.set_u32("timeout", 5000);
        solver.set_params(&params);
        for b in &self.background {
            solver.assert(b);
        }
        let check = |f: &Bool| {
            solver.push();
            solver.assert(f);
            let r = solver.check();
            solver.pop(1);
            r
        };
        let holds = check(phi);
        let fails = check(&phi.not());
        if holds == SatResult::Unknown || fails == SatResult::Unknown {
            return Verdict::Unknown("the solver could not decide the condition in time".into());
        }
        match (holds, fails) {
            (_, SatResult::Unsat) => Verdict::Always,
            (SatResult::Unsat, _) => Verdict::Never,
            _ if !self.unknown.is_empty() => {
                self.unknown.sort();
                self.unknown.dedup();
                Verdict::Unknown(self.unknown.join("; "))
            }
            _ => Verdict::Sometimes,
        }
    }

    fn origin(&mut self) -> Bool {
        if self.origin.is_none() {
            // A key of either origin that the query fixes decides which one it is.
            let fixed = self
                .req
                .fixed
                .iter()
                .find_map(|(k, v)| keys::origin_keys(k).map(|via_vpc| via_vpc != v.is_empty()));
            self.origin = Some(match fixed {
                Some(via_vpc) => Bool::from_bool(via_vpc),
                None => Bool::new_const(self.name("via-vpc-endpoint")),
            });
        }
        self.origin.clone().expect("set above")
    }

    /// The slot of a key, created on first use.
    fn slot(&mut self, key: &str) -> Result<Slot, String> {
        let lower = key.to_ascii_lowercase();
        if let Some(s) = self.slots.get(&lower) {
            return s.clone();
        }
        let made = self.make_slot(&lower);
        self.slots.insert(lower, made.clone());
        made
    }

    fn make_slot(&mut self, key: &str) -> Result<Slot, String> {
        let (ty, avail) = self.req.lookup(key);
        let ty = match (ty, &avail) {
            (Some(t), _) => t,
            // Another service's key: absent, whatever its type.
            (None, Availability::Absent) => KeyType::String,
            (None, Availability::Unknown(why)) => return Err(format!("`{key}`: {why}")),
            (None, _) => return Err(format!("`{key}`: a key whose type is unknown")),
        };
        let present = match &avail {
            Availability::Unknown(why) => return Err(format!("`{key}`: {why}")),
            Availability::Absent => Bool::from_bool(false),
            Availability::Value(_) | Availability::Free | Availability::Within(_) => {
                Bool::from_bool(true)
            }
            Availability::Unlike(_) => Bool::new_const(self.name(&format!("{key}?"))),
            Availability::Maybe => match keys::origin_keys(key) {
                Some(via_vpc) => {
                    let o = self.origin();
                    if via_vpc {
                        o
                    } else {
                        o.not()
                    }
                }
                None => Bool::new_const(self.name(&format!("{key}?"))),
            },
        };
        let fixed = match &avail {
            Availability::Value(v) => Some(v.clone()),
            _ => None,
        };
        let value = match ty {
            KeyType::Multi if fixed.is_none() && present.as_bool() != Some(false) => {
                let tests = self.tests.get(key).copied().unwrap_or(1).max(2);
                let members = (0..tests)
                    .map(|_| {
                        let n = self.name(key);
                        (
                            Bool::new_const(format!("{n}.in")),
                            z3::ast::String::new_const(n),
                        )
                    })
                    .collect();
                Value::Members(members)
            }
            KeyType::Multi => Value::Set(fixed),
            _ => {
                let one = match fixed.as_deref() {
                    None => None,
                    Some([v]) => Some(v.as_str()),
                    Some(_) => {
                        return Err(format!(
                            "`{key}`: several values fixed for a single-valued key"
                        ))
                    }
                };
                self.scalar(key, ty, one)?
            }
        };
        if let (Availability::Within(prefix), Value::Str(s)) = (&avail, &value) {
            self.background.push(literal(prefix)?.prefix(s));
        }
        if let Availability::Unlike(globs) = &avail {
            let strings: Vec<(Bool, z3::ast::String)> = match &value {
                Value::Str(s) => vec![(present.clone(), s.clone())],
                Value::Members(members) => members.clone(),
                _ => return Err(format!("`{key}`: an organization key of another type")),
            };
            for glob in globs {
                for (held, s) in &strings {
                    let matches = glob_matches(s, glob)?;
                    self.background.push(held.implies(matches.not()));
                }
            }
        }
        Ok(Slot { present, ty, value })
    }

    /// A single value: the fixed one, or a fresh variable of the key's type.
    fn scalar(&mut self, key: &str, ty: KeyType, fixed: Option<&str>) -> Result<Value, String> {
        let bad = |v: &str| format!("`{key}` = `{v}` is not a valid {ty:?} value");
        let n = self.name(key);
        Ok(match (ty, fixed) {
            (KeyType::String | KeyType::Arn, None) => Value::Str(z3::ast::String::new_const(n)),
            (KeyType::String | KeyType::Arn, Some(v)) => Value::Str(literal(v)?),
            (KeyType::Numeric, None) => Value::Num(Real::new_const(n)),
            (KeyType::Numeric, Some(v)) => Value::Num(number(v).ok_or_else(|| bad(v))?),
            (KeyType::Date, None) => Value::Date(Int::new_const(n)),
            (KeyType::Date, Some(v)) => Value::Date(date(v).ok_or_else(|| bad(v))?),
            (KeyType::Bool, None) => Value::Flag(Bool::new_const(n)),
            (KeyType::Bool, Some(v)) => {
                Value::Flag(Bool::from_bool(boolean(v).ok_or_else(|| bad(v))?))
            }
            (KeyType::Ip, None) => Value::Ip {
                is4: Bool::new_const(format!("{n}.is4")),
                v4: BV::new_const(format!("{n}.v4"), 32),
                v6: BV::new_const(format!("{n}.v6"), 128),
            },
            (KeyType::Ip, Some(v)) => {
                let ip: std::net::IpAddr = v.parse().map_err(|_| bad(v))?;
                match ip {
                    std::net::IpAddr::V4(a) => Value::Ip {
                        is4: Bool::from_bool(true),
                        v4: BV::from_u64(u64::from(u32::from(a)), 32),
                        v6: BV::from_u64(0, 128),
                    },
                    std::net::IpAddr::V6(a) => Value::Ip {
                        is4: Bool::from_bool(false),
                        v4: BV::from_u64(0, 32),
                        v6: bv128(u128::from(a)),
                    },
                }
            }
            (KeyType::Multi, _) => unreachable!("multivalued keys are sets"),
        })
    }

    /// One `operator: {key: values}` entry.
    fn entry(&mut self, e: &ConditionEntry) -> Bool {
        match self.try_entry(e) {
            Ok(b) => b,
            Err(why) => self.uninterpreted(format!("{} on `{}`: {why}", e.operator, e.key)),
        }
    }

    fn try_entry(&mut self, e: &ConditionEntry) -> Result<Bool, String> {
        let (set, op) = match e.operator.split_once(':') {
            Some(("ForAllValues", rest)) => (Some(SetOp::All), rest),
            Some(("ForAnyValue", rest)) => (Some(SetOp::Any), rest),
            Some(_) => return Err("an unknown set operator".into()),
            None => (None, e.operator.as_str()),
        };
        let (base, if_exists) = match op.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (op, false),
        };
        let slot = self.slot(&e.key)?;
        if base == "Null" {
            if if_exists {
                return Err("IfExists on Null".into());
            }
            return Ok(match set {
                Some(SetOp::All) => Bool::from_bool(true),
                Some(SetOp::Any) => Bool::from_bool(false),
                None => {
                    let parts = e
                        .values
                        .iter()
                        .map(|v| match boolean(v) {
                            Some(true) => Ok(slot.present.not()),
                            Some(false) => Ok(slot.present.clone()),
                            None => Err(format!("`{v}` is not true or false")),
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    Bool::or(&parts)
                }
            });
        }
        let (positive, negated) = positive_of(base);
        // The single-value test on one request value: any policy value matches (NOR when negated).
        let test = |enc: &mut Encoder, value: &Value| -> Result<Bool, String> {
            let any = e
                .values
                .iter()
                .map(|v| enc.matches(positive, slot.ty, value, v))
                .collect::<Result<Vec<_>, _>>()?;
            let any = Bool::or(&any);
            Ok(if negated { any.not() } else { any })
        };
        let absent = Bool::from_bool(if_exists || (negated && set.is_none()));
        match (&slot.value, set) {
            // An absent multivalued key is the empty set (semantics.md 3.4).
            (Value::Set(None), Some(set)) if slot.present.as_bool() == Some(false) => {
                Ok(Bool::from_bool(if_exists || set == SetOp::All))
            }
            (Value::Set(None), Some(_)) => Err("a multivalued key the query does not fix".into()),
            (Value::Members(members), Some(set)) => {
                let mut parts = Vec::new();
                for (member, element) in members {
                    let t = test(self, &Value::Str(element.clone()))?;
                    parts.push(match set {
                        SetOp::All => member.implies(&t),
                        SetOp::Any => Bool::and(&[member.clone(), t]),
                    });
                }
                let over = match set {
                    SetOp::All => Bool::and(&parts),
                    SetOp::Any => Bool::or(&parts),
                };
                let when_absent = Bool::from_bool(if_exists || set == SetOp::All);
                Ok(slot.present.ite(&over, &when_absent))
            }
            (Value::Members(_), None) => {
                Err("a multivalued key without ForAllValues/ForAnyValue".into())
            }
            (Value::Set(_), None) => {
                Err("a multivalued key without ForAllValues/ForAnyValue".into())
            }
            (Value::Set(Some(values)), Some(set)) => {
                let mut parts = Vec::new();
                for v in values {
                    let value = Value::Str(literal(v)?);
                    parts.push(test(self, &value)?);
                }
                let over = match set {
                    SetOp::All => Bool::and(&parts),
                    SetOp::Any => Bool::or(&parts),
                };
                let when_absent = Bool::from_bool(if_exists || set == SetOp::All);
                Ok(slot.present.ite(&over, &when_absent))
            }
            // A set operator on a single-valued key sees a one-element set (empty if absent).
            (value, Some(set)) => {
                let one = test(self, value)?;
                let when_absent = Bool::from_bool(if_exists || set == SetOp::All);
                Ok(slot.present.ite(&one, &when_absent))
            }
            (value, None) => {
                let one = test(self, value)?;
                Ok(slot.present.ite(&one, &absent))
            }
        }
    }

    /// Whether one request value matches one policy value under a positive operator.
    fn matches(
        &mut self,
        op: &str,
        ty: KeyType,
        value: &Value,
        policy: &str,
    ) -> Result<Bool, String> {
        let has_var = self.variables && policy.contains("${");
        match (op, value) {
            ("StringEquals", Value::Str(s)) if has_var => self.equals_with_variables(s, policy),
            ("StringEquals", Value::Str(s)) => Ok(s.eq(&literal(policy)?)),
            ("StringLike", Value::Str(s)) if has_var => self.like_with_variables(s, policy, false),
            ("StringLike", Value::Str(s)) => glob_matches(s, policy),
            ("StringEqualsIgnoreCase", Value::Str(s)) if !has_var => {
                Ok(s.regex_matches(&ignore_case(policy)?))
            }
            ("ArnEquals" | "ArnLike", Value::Str(s)) if ty == KeyType::Arn && !has_var => {
                Ok(s.regex_matches(&arn_regex(policy)?))
            }
            (_, _) if has_var => Err("a policy variable this operator cannot take".into()),
            (
                "NumericEquals"
                | "NumericLessThan"
                | "NumericLessThanEquals"
                | "NumericGreaterThan"
                | "NumericGreaterThanEquals",
                Value::Num(n),
            ) => {
                let p = number(policy).ok_or_else(|| format!("`{policy}` is not a number"))?;
                Ok(compare(op, n, &p))
            }
            (
                "DateEquals"
                | "DateLessThan"
                | "DateLessThanEquals"
                | "DateGreaterThan"
                | "DateGreaterThanEquals",
                Value::Date(d),
            ) => {
                let p = date(policy).ok_or_else(|| format!("`{policy}` is not a date"))?;
                Ok(compare(op, d, &p))
            }
            ("Bool", Value::Flag(b)) => {
                let p =
                    boolean(policy).ok_or_else(|| format!("`{policy}` is not true or false"))?;
                Ok(b.eq(Bool::from_bool(p)))
            }
            ("IpAddress", Value::Ip { is4, v4, v6 }) => {
                let net = cidr(policy)
                    .ok_or_else(|| format!("`{policy}` is not an IP address or CIDR"))?;
                Ok(match net {
                    ipnet::IpNet::V4(n) => {
                        let mask = BV::from_u64(u64::from(u32::from(n.netmask())), 32);
                        let base = BV::from_u64(u64::from(u32::from(n.network())), 32);
                        Bool::and(&[is4.clone(), v4.bvand(&mask).eq(&base)])
                    }
                    ipnet::IpNet::V6(n) => {
                        let mask = bv128(u128::from(n.netmask()));
                        let base = bv128(u128::from(n.network()));
                        Bool::and(&[is4.not(), v6.bvand(&mask).eq(&base)])
                    }
                })
            }
            // No S3 or STS key is binary: the value never matches (semantics.md 3.2).
            ("BinaryEquals", _) => Ok(Bool::from_bool(false)),
            _ => Err(format!("the operator does not fit a key of type {ty:?}")),
        }
    }

    /// A policy value with `${…}` pieces, as a string term, and when it is defined.
    fn interpolate(&mut self, policy: &str) -> Result<(z3::ast::String, Bool), String> {
        let mut parts = Vec::new();
        let mut defined = Vec::new();
        for piece in variables(policy)? {
            match piece {
                Piece::Text(t) => parts.push(literal(&t)?),
                Piece::Var { key, default } => {
                    let slot = self.slot(&key)?;
                    let Value::Str(v) = slot.value else {
                        return Err(format!("`${{{key}}}` is not a string key"));
                    };
                    match default {
                        Some(d) => parts.push(slot.present.ite(&v, &literal(&d)?)),
                        None => {
                            defined.push(slot.present.clone());
                            parts.push(v);
                        }
                    }
                }
            }
        }
        let text = match parts.len() {
            0 => literal("")?,
            1 => parts.remove(0),
            _ => z3::ast::String::concat(&parts),
        };
        Ok((text, Bool::and(&defined)))
    }

    fn equals_with_variables(&mut self, s: &z3::ast::String, policy: &str) -> Result<Bool, String> {
        let (text, defined) = self.interpolate(policy)?;
        Ok(Bool::and(&[defined, s.eq(&text)]))
    }

    /// A glob with variables: supported when its wildcards are one `*`
    /// between a head and a tail (`home/${aws:username}/*`). ARN globs keep
    /// `*` within one field; a trailing `*` in the resource field is the
    /// common case this covers.
    fn like_with_variables(
        &mut self,
        s: &z3::ast::String,
        policy: &str,
        arn: bool,
    ) -> Result<Bool, String> {
        if !policy.contains("${") {
            let re = if arn {
                arn_regex(policy)?
            } else {
                glob_regex(policy, false)?
            };
            return Ok(s.regex_matches(&re));
        }
        if policy.contains('?') {
            return Err("a `?` wildcard next to a policy variable".into());
        }
        let stars = policy.matches('*').count() - policy.matches("${*}").count();
        match stars {
            0 => self.equals_with_variables(s, policy),
            1 => {
                let at = star_position(policy).ok_or("a `*` inside a variable")?;
                let (head, tail) = (&policy[..at], &policy[at + 1..]);
                if arn && policy[at..].contains(':') {
                    return Err("a `*` before the resource field of an ARN with variables".into());
                }
                // Variables the request fixes leave a plain glob, which the
                // solver's regular expressions handle best.
                if let (Some(Some(hs)), Some(Some(ts))) =
                    (substitute(head, self.req), substitute(tail, self.req))
                {
                    if !hs.contains(['*', '?']) && !ts.contains(['*', '?']) {
                        let glob = format!("{hs}*{ts}");
                        let re = if arn {
                            arn_regex(&glob)?
                        } else {
                            glob_regex(&glob, false)?
                        };
                        return Ok(s.regex_matches(&re));
                    }
                }
                let (h, hd) = self.interpolate(head)?;
                let (t, td) = self.interpolate(tail)?;
                let long_enough = s.length().ge(Int::add(&[h.length(), t.length()]));
                Ok(Bool::and(&[hd, td, h.prefix(s), t.suffix(s), long_enough]))
            }
            _ => Err("several `*` wildcards next to a policy variable".into()),
        }
    }
}

fn compare<T: Ast + Clone + Ord3>(op: &str, a: &T, b: &T) -> Bool {
    match op.trim_start_matches("Numeric").trim_start_matches("Date") {
        "Equals" => a.eq(b.clone()),
        "LessThan" => a.lt3(b),
        "LessThanEquals" => a.le3(b),
        "GreaterThan" => b.lt3(a),
        _ => b.le3(a),
    }
}

/// Ordering on the arithmetic sorts the comparisons use.
trait Ord3 {
    fn lt3(&self, other: &Self) -> Bool;
    fn le3(&self, other: &Self) -> Bool;
}

impl Ord3 for Real {
    fn lt3(&self, other: &Self) -> Bool {
        self.lt(other)
    }
    fn le3(&self, other: &Self) -> Bool {
        self.le(other)
    }
}

impl Ord3 for Int {
    fn lt3(&self, other: &Self) -> Bool {
        self.lt(other)
    }
    fn le3(&self, other: &Self) -> Bool {
        self.le(other)
    }
}

fn bv128(v: u128) -> BV {
    let hi = BV::from_u64((v >> 64) as u64, 64);
    let lo = BV::from_u64(v as u64, 64);
    hi.concat(&lo)
}

/// A Z3 string literal for ASCII text (Z3 reads `\` as an escape).
fn literal(text: &str) -> Result<z3::ast::String, String> {
    if !text.is_ascii() || text.contains('\0') {
        return Err(format!("`{text}` is not plain ASCII"));
    }
    let escaped = text.replace('\\', "\\u{5c}");
    z3::ast::String::from_str(&escaped).map_err(|e| e.to_string())
}

/// Whether a string matches an IAM glob (`*` any run, `?` one character).
/// A glob whose only wildcards are `*` at its ends is a literal, prefix,
/// suffix or infix test, which Z3's word equations decide several times
/// faster than the same glob as a regular expression (libz3 4.8.12:
/// `team-x/*` about 100 ms as a regular expression, 10–30 ms as a prefix);
/// any other glob is the regular expression.
fn glob_matches(s: &z3::ast::String, pattern: &str) -> Result<Bool, String> {
    let inner = pattern.trim_matches('*');
    if inner.contains(['*', '?']) {
        return Ok(s.regex_matches(&glob_regex(pattern, false)?));
    }
    let text = literal(inner)?;
    Ok(match (pattern.starts_with('*'), pattern.ends_with('*')) {
        (false, false) => s.eq(&text),
        (false, true) => text.prefix(s),
        (true, false) => text.suffix(s),
        (true, true) => s.contains(&text),
    })
}

fn glob_regex(pattern: &str, within_field: bool) -> Result<Regexp, String> {
    let star = if within_field {
        not_colon().star()
    } else {
        Regexp::full()
    };
    let mut parts = Vec::new();
    let mut text = String::new();
    let flush = |text: &mut String, parts: &mut Vec<Regexp>| -> Result<(), String> {
        if !text.is_empty() {
            if !text.is_ascii() {
                return Err(format!("`{text}` is not plain ASCII"));
            }
            parts.push(Regexp::literal(&text.replace('\\', "\\u{5c}")));
            text.clear();
        }
        Ok(())
    };
    for c in pattern.chars() {
        match c {
            '*' => {
                flush(&mut text, &mut parts)?;
                parts.push(star.clone());
            }
            '?' => {
                flush(&mut text, &mut parts)?;
                parts.push(if within_field {
                    not_colon()
                } else {
                    any_char()
                });
            }
            c => text.push(c),
        }
    }
    flush(&mut text, &mut parts)?;
    Ok(match parts.len() {
        0 => Regexp::literal(""),
        1 => parts.remove(0),
        _ => Regexp::concat(&parts),
    })
}

/// Exactly one character: non-empty and not two non-empty strings
/// (`re.allchar` needs a newer libz3 than Debian's 4.8.12).
fn any_char() -> Regexp {
    let non_empty = Regexp::literal("").complement();
    let two_or_more = Regexp::concat(&[non_empty.clone(), non_empty.clone()]);
    Regexp::intersect(&[non_empty, two_or_more.complement()])
}

fn not_colon() -> Regexp {
    Regexp::intersect(&[any_char(), Regexp::literal(":").complement()])
}

/// ArnLike: six fields globbed separately; a wildcard in the first five stays
/// inside its field (semantics.md 3.2).
fn arn_regex(pattern: &str) -> Result<Regexp, String> {
    let fields: Vec<&str> = pattern.splitn(6, ':').collect();
    if fields.len() != 6 {
        return Err(format!("`{pattern}` is not an ARN"));
    }
    let mut parts = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            parts.push(Regexp::literal(":"));
        }
        parts.push(glob_regex(f, i < 5)?);
    }
    Ok(Regexp::concat(&parts))
}

/// StringEqualsIgnoreCase: each ASCII letter either way.
fn ignore_case(text: &str) -> Result<Regexp, String> {
    if !text.is_ascii() {
        return Err("case folding of non-ASCII letters".into());
    }
    let mut parts: Vec<Regexp> = text
        .chars()
        .map(|c| {
            let (l, u) = (c.to_ascii_lowercase(), c.to_ascii_uppercase());
            let lit = |c: char| Regexp::literal(&c.to_string().replace('\\', "\\u{5c}"));
            if l == u {
                lit(c)
            } else {
                Regexp::union(&[lit(l), lit(u)])
            }
        })
        .collect();
    // Z3 rejects `re.++` of fewer than two arguments.
    Ok(match parts.len() {
        0 => Regexp::literal(""),
        1 => parts.remove(0),
        _ => Regexp::concat(&parts),
    })
}

enum Piece {
    Text(String),
    Var {
        key: String,
        default: Option<String>,
    },
}

/// Splits a value into text and `${key}` / `${key, 'default'}` pieces.
fn variables(policy: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut rest = policy;
    let mut text = String::new();
    while let Some(at) = rest.find("${") {
        text.push_str(&rest[..at]);
        let Some(end) = rest[at..].find('}') else {
            return Err("an unterminated `${`".into());
        };
        let inner = rest[at + 2..at + end].trim();
        match inner {
            "*" | "?" | "$" => text.push_str(inner),
            _ => {
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                let (key, default) = match inner.split_once(',') {
                    Some((k, d)) => {
                        let d = d.trim();
                        let d = d
                            .strip_prefix('\'')
                            .and_then(|d| d.strip_suffix('\''))
                            .ok_or("a variable default not in single quotes")?;
                        (k.trim().to_string(), Some(d.to_string()))
                    }
                    None => (inner.to_string(), None),
                };
                out.push(Piece::Var { key, default });
            }
        }
        rest = &rest[at + end + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

/// The byte offset of the one `*` wildcard that is not inside `${…}`.
fn star_position(policy: &str) -> Option<usize> {
    let mut depth = false;
    for (i, c) in policy.char_indices() {
        match c {
            '$' if policy[i..].starts_with("${") => depth = true,
            '}' if depth => depth = false,
            '*' if !depth => return Some(i),
            _ => {}
        }
    }
    None
}

fn number(v: &str) -> Option<Real> {
    let v = v.trim();
    let (neg, digits) = match v.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, v),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty()
        || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let num = format!("{}{int}{frac}", if neg { "-" } else { "" });
    let den = format!("1{}", "0".repeat(frac.len()));
    Real::from_rational_str(num.trim_start_matches('+'), &den)
}

/// ISO 8601 (a date, or a date and time with an offset or `Z`) or epoch seconds.
fn date(v: &str) -> Option<Int> {
    let v = v.trim();
    if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()) {
        return v.parse::<i64>().ok().map(Int::from_i64);
    }
    let secs = chrono::DateTime::parse_from_rfc3339(v)
        .map(|d| d.timestamp())
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%SZ")
                .map(|d| d.and_utc().timestamp())
        })
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").map(|d| {
                d.and_hms_opt(0, 0, 0)
                    .expect("midnight exists")
                    .and_utc()
                    .timestamp()
            })
        })
        .ok()?;
    Some(Int::from_i64(secs))
}

fn boolean(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// A CIDR, or a bare address as /32 or /128 (semantics.md 3.2).
fn cidr(v: &str) -> Option<ipnet::IpNet> {
    let v = v.trim();
    v.parse::<ipnet::IpNet>()
        .ok()
        .or_else(|| v.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from))
        .map(|n| n.trunc())
}

#[cfg(test)]
mod tests {
    use super::keys::{Caller, RequestKeys};
    use super::*;

    /// An anonymous GetObject with these keys fixed.
    fn request(fixed: &HashMap<String, Vec<String>>) -> RequestKeys<'_> {
        RequestKeys {
            caller: Caller::Anonymous,
            action: "s3:GetObject",
            resource_account: "111122223333",
            fixed,
            constraints: &[],
            closed: false,
            org: None,
            access_point: None,
            kms: None,
        }
    }

    fn entry(op: &str, key: &str, value: &str) -> ConditionEntry {
        ConditionEntry {
            operator: op.into(),
            key: key.into(),
            values: vec![value.into()],
            span: Default::default(),
        }
    }

    fn verdict(op: &str, key: &str, value: &str, fixed: &[(&str, &str)]) -> Verdict {
        let fixed: HashMap<String, Vec<String>> = fixed
            .iter()
            .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
            .collect();
        condition(
            &[entry(op, key, value)],
            Some("2012-10-17"),
            &request(&fixed),
        )
    }

    /// A glob with `*` only at its ends, as a word equation, matches what
    /// the same glob matches as a regular expression and in `glob`.
    #[test]
    fn globs_as_word_equations_match_as_regular_expressions() {
        let patterns = [
            "", "*", "**", "team-x/*", "team-x/", "*.csv", "*in*", "a*b", "a?*",
        ];
        let texts = [
            "", "team-x/", "team-x/y", "team-y/", "r.csv", "in", "xinx", "ab", "a", "aXb",
        ];
        fresh(|| {
            for p in patterns {
                for t in texts {
                    let s = literal(t).expect("ASCII");
                    let by_word = glob_matches(&s, p).expect("a glob").simplify().as_bool();
                    let regex = glob_regex(p, false).expect("a glob");
                    let by_regex = s.regex_matches(&regex).simplify().as_bool();
                    let expected = crate::glob::matches(p, t, false);
                    assert_eq!(by_word, Some(expected), "`{t}` against `{p}` as words");
                    assert_eq!(by_regex, Some(expected), "`{t}` against `{p}` as a regex");
                }
            }
        });
    }

    /// A one-character value is one regular expression, not a `re.++` of one.
    #[test]
    fn ignore_case_of_one_character() {
        let v = |ua| {
            verdict(
                "StringEqualsIgnoreCase",
                "aws:UserAgent",
                "a",
                &[("aws:useragent", ua)],
            )
        };
        assert_eq!(v("A"), Verdict::Always);
        assert_eq!(v("b"), Verdict::Never);
        assert_eq!(
            verdict("StringEqualsIgnoreCase", "aws:UserAgent", "a", &[]),
            Verdict::Sometimes
        );
    }

    /// CIDR edges: the last address of a range is in it, the next one is not.
    #[test]
    fn cidr_edges() {
        let v = |ip| {
            verdict(
                "IpAddress",
                "aws:SourceIp",
                "10.0.0.0/8",
                &[("aws:sourceip", ip)],
            )
        };
        assert_eq!(v("10.255.255.255"), Verdict::Always);
        assert_eq!(v("11.0.0.0"), Verdict::Never);
    }

    /// Each way `assignments` gives, replayed with its keys fixed: which
    /// guards hold.
    fn replayed(guards: &[Block], ways: &[Context]) -> Vec<Vec<bool>> {
        ways.iter()
            .map(|way| {
                let fixed: HashMap<String, Vec<String>> = way
                    .iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.iter().cloned().collect()))
                    .collect();
                guards
                    .iter()
                    .map(|(entries, version)| {
                        match condition(entries, *version, &request(&fixed)) {
                            Verdict::Always => true,
                            Verdict::Never => false,
                            other => panic!("a way that fixes every key decides: {other:?}"),
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// Guards on keys that no formula joins are enumerated apart, and their
    /// ways combined: every combination once, each realised by its values;
    /// guards on one key go together. The guards' order changes nothing.
    #[test]
    fn ways_of_independent_guards_are_every_combination() {
        let none = HashMap::new();
        let v = Some("2012-10-17");
        let secure = [entry("Bool", "aws:SecureTransport", "true")];
        let agent_a = [entry("StringLike", "aws:UserAgent", "a*")];
        let agent_b = [entry("StringLike", "aws:UserAgent", "*b")];
        let early = [entry(
            "DateLessThan",
            "aws:CurrentTime",
            "2020-01-01T00:00:00Z",
        )];
        let apart: [(&[ConditionEntry], _); 3] = [(&secure, v), (&agent_a, v), (&early, v)];
        let ways = assignments(&apart, &request(&none), 16).expect("enumerable");
        let mut held = replayed(&apart, &ways);
        held.sort();
        held.dedup();
        assert_eq!((ways.len(), held.len()), (8, 8));
        let reversed: [(&[ConditionEntry], _); 3] = [(&early, v), (&agent_a, v), (&secure, v)];
        assert_eq!(assignments(&reversed, &request(&none), 16), Some(ways));
        assert_eq!(assignments(&apart, &request(&none), 7), None);
        let together: [(&[ConditionEntry], _); 2] = [(&agent_a, v), (&agent_b, v)];
        let ways = assignments(&together, &request(&none), 16).expect("enumerable");
        let mut held = replayed(&together, &ways);
        held.sort();
        held.dedup();
        assert_eq!((ways.len(), held.len()), (4, 4));
    }

    proptest::proptest! {
        /// An entry decided without the solver is decided as the solver does.
        #[test]
        fn ground_entries_agree_with_the_solver(
            op in "(String|Arn)(Not)?(Equals|Like)(IfExists)?",
            key in "(aws:PrincipalArn|aws:username|aws:SourceIp)",
            value in proptest::option::of("(arn:aws:iam::1:|a:)[ab:/]{0,3}"),
            policy in "(\\*|arn:aws:iam::[1*?]:[ab*?:/]{0,4}|[ab*?]{0,3})",
        ) {
            let fixed: HashMap<String, Vec<String>> =
                [(key.to_ascii_lowercase(), value.into_iter().collect())].into();
            let req = request(&fixed);
            let entry = entry(&op, &key, &policy);
            if let Some(holds) = ground_entry(&entry, true, &req) {
                let expected = if holds { Verdict::Always } else { Verdict::Never };
                proptest::prop_assert_eq!(solved(&[entry], true, &req), expected);
            }
        }
    }
}
