//! What `bucketlog graph` draws: for many principals and resource scopes,
//! every answer that may give access, each chain with its hops' own
//! sts:AssumeRole answers (the can-assume edges and their conditions).

use std::collections::{BTreeMap, BTreeSet};

use super::evaluation::{per_scope, principal_name, reaching};
use super::resolve::{self, Scope};
use super::who_can::answers_of;
use super::{s3_targets, Answer, Engine, Options, Stats};
use crate::catalog::{Action, Target};
use crate::datalog::Decision;
use crate::facts::Subject;

/// The scopes a whole-estate graph covers: each bucket whole, then each
/// prefix its policies name (`bucket/a/b/*`), in bucket order.
pub(super) fn scopes(engine: &Engine) -> (Vec<Scope>, Vec<Scope>) {
    let estate = engine.estate;
    let mut prefixes = Vec::new();
    for prefix in estate.policy_prefixes() {
        let Some((bucket, key)) = prefix.split_once('/').filter(|(_, k)| !k.is_empty()) else {
            continue;
        };
        if let Some(b) = estate.buckets.iter().position(|x| x.name == bucket) {
            prefixes.push(Scope {
                bucket: b,
                key: format!("{key}*"),
                access_point: None,
            });
        }
    }
    prefixes.sort_by(|a, b| (a.bucket, &a.key).cmp(&(b.bucket, &b.key)));
    (resolve::every_bucket(estate), prefixes)
}

/// What one scope asks of `subjects`.
struct Ask<'a> {
    actions: &'a [&'a Action],
    max_hops: Option<usize>,
    opts: Options,
    /// How answers name the subjects of the whole-bucket scopes.
    subject_names: BTreeSet<String>,
}

impl Ask<'_> {
    fn reaches(&self, a: &Answer) -> bool {
        a.decision.reaches() && self.max_hops.is_none_or(|m| a.via.len() - 1 <= m)
    }

    /// The answers of `subjects` on `scope` that may give access, chains
    /// included (with hops) unless longer than `max_hops`, and the own
    /// answers of the roles the chains act through, so each access edge
    /// rests on its own principal's answer. A prefix of the whole-estate
    /// graph is asked its object actions only (`refining`), without
    /// chains: a bucket
    /// action's resource is the bucket whatever the prefix, and the chains
    /// are the whole bucket's.
    fn scope(
        &self,
        engine: &Engine,
        subjects: &[Subject],
        scope: &Scope,
        refining: bool,
    ) -> (Vec<Answer>, Stats) {
        let mut targets = s3_targets(&engine.index, self.actions, scope);
        if refining {
            targets.retain(|(a, _)| a.target == Target::Object);
        }
        let mut ev = reaching(engine, subjects, &targets);
        ev.explain = !refining;
        let stats = ev.stats();
        let mut out = answers_of(&ev, |a| self.reaches(a), self.opts, &mut 0);
        if refining {
            out.retain(|a| a.via.len() == 1);
            return (out, stats);
        }
        // The roles the chains act through, for their own requests, when
        // they are not among the subjects (`graph --from`).
        let own: Vec<Answer> = ev
            .acting_answers(&out)
            .into_iter()
            .filter(|a| !self.subject_names.contains(&a.principal) && self.reaches(a))
            .collect();
        out.extend(own);
        (out, stats)
    }
}

/// The answers of `subjects` for `actions` on each scope of `wholes`, then
/// on each of `prefixes` for the principals whose own answer on the whole
/// bucket is conditional or unknown for an object action: an allow on the
/// whole bucket holds on every prefix of it and a deny on none, so only
/// those answers can differ on a prefix. One list per scope, `wholes` first.
pub(super) fn reach(
    engine: &Engine,
    subjects: &[Subject],
    (wholes, prefixes): (&[Scope], &[Scope]),
    actions: &[&Action],
    max_hops: Option<usize>,
    opts: Options,
) -> (Vec<Vec<Answer>>, Stats) {
    let estate = engine.estate;
    let ask = Ask {
        actions,
        max_hops,
        opts,
        subject_names: subjects.iter().map(|s| principal_name(estate, s)).collect(),
    };
    let (each, mut stats) = per_scope(engine, subjects, wholes, |scope| {
        ask.scope(engine, subjects, scope, false)
    });
    let mut out = Vec::new();
    for (answers, s) in each {
        out.push(answers);
        stats += s;
    }
    // Who may be asked on a prefix: the subjects and the roles their chains
    // act through, each with its name; then, per bucket, those its whole
    // scope leaves open.
    let mut candidates: Vec<Subject> = subjects.to_vec();
    candidates.extend((0..estate.principals.len()).map(Subject::Known));
    candidates.sort();
    candidates.dedup();
    let named: Vec<(String, Subject)> = candidates
        .into_iter()
        .map(|s| (principal_name(estate, &s), s))
        .collect();
    let mut open_by_bucket: BTreeMap<usize, Vec<Subject>> = BTreeMap::new();
    for prefix in prefixes {
        let asked = open_by_bucket.entry(prefix.bucket).or_insert_with(|| {
            let open: BTreeSet<&str> = wholes
                .iter()
                .zip(&out)
                .filter(|(w, _)| w.bucket == prefix.bucket)
                .flat_map(|(_, answers)| answers)
                .filter(|a| a.via.len() == 1 && a.decision != Decision::Allow)
                .filter(|a| {
                    actions
                        .iter()
                        .any(|x| *x.name == *a.action && x.target == Target::Object)
                })
                .map(|a| a.principal.as_str())
                .collect();
            named
                .iter()
                .filter(|(name, _)| open.contains(name.as_str()))
                .map(|(_, s)| s.clone())
                .collect()
        });
        if asked.is_empty() {
            out.push(Vec::new());
            continue;
        }
        let (answers, s) = ask.scope(engine, asked, prefix, true);
        stats += s;
        out.push(answers);
    }
    (out, stats)
}
