//! What `bucketlog graph` draws: for many principals and resource scopes,
//! every answer that may give access, each chain with its hops' own
//! sts:AssumeRole answers (the can-assume edges and their conditions).

use std::collections::BTreeSet;

use super::evaluation::evaluate;
use super::resolve::{self, Scope};
use super::who_can::answers_of;
use super::{s3_targets, Answer, Engine, Given, Options, Stats};
use crate::catalog::Action;
use crate::facts::Subject;

/// The scopes a whole-estate graph covers: each bucket whole, and each
/// prefix its policies name (`bucket/a/b/*`), in bucket order.
pub(super) fn scopes(engine: &Engine) -> Vec<Scope> {
    let estate = engine.estate;
    let mut out = resolve::every_bucket(estate);
    for prefix in estate.policy_prefixes() {
        let Some((bucket, key)) = prefix.split_once('/') else {
            continue;
        };
        if let Some(b) = estate.buckets.iter().position(|x| x.name == bucket) {
            out.push(Scope {
                bucket: b,
                key: format!("{key}*"),
            });
        }
    }
    out.sort_by(|a, b| (a.bucket, &a.key).cmp(&(b.bucket, &b.key)));
    out
}

/// The answers of `subjects` for `actions` on the scope that may give
/// access, chains included (with hops) unless longer than `max_hops`. A role a chain acts through that
/// is not itself among the subjects (`graph --from`) is asked too, for its
/// own requests, so each access edge rests on its own principal's answer.
pub(super) fn reach(
    engine: &Engine,
    subjects: &[Subject],
    scope: &Scope,
    actions: &[&Action],
    max_hops: Option<usize>,
    opts: Options,
) -> (Vec<Answer>, Stats) {
    let estate = engine.estate;
    let reaches =
        |a: &Answer| a.decision.reaches() && max_hops.is_none_or(|m| a.via.len() - 1 <= m);
    let targets = s3_targets(actions, scope);
    let mut ev = evaluate(engine, subjects, &targets, &Given::default());
    ev.explain = true;
    let mut stats = ev.stats();
    let mut out = answers_of(&ev, reaches, opts, &mut 0);
    let acting: BTreeSet<Subject> = out
        .iter()
        .flat_map(|a| a.via.iter().skip(1))
        .filter_map(|arn| estate.principals.iter().position(|p| &p.arn == arn))
        .map(Subject::Known)
        .filter(|s| !subjects.contains(s))
        .collect();
    if !acting.is_empty() {
        let acting: Vec<Subject> = acting.into_iter().collect();
        let ev = evaluate(engine, &acting, &targets, &Given::default());
        stats += ev.stats();
        out.extend(answers_of(
            &ev,
            |a| a.via.len() == 1 && reaches(a),
            opts,
            &mut 0,
        ));
    }
    (out, stats)
}
