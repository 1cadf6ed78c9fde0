//! `can`, `what can` and `path`: one principal's requests, with its chains.

use super::evaluation::{evaluate, per_scope, Reported};
use super::resolve::Scope;
use super::{s3_targets, Answer, Engine, Given, Stats, Targets};
use crate::catalog::{Action, Catalog};
use crate::facts::Subject;

pub(crate) fn can(
    engine: &Engine,
    subject: &Subject,
    targets: &Targets,
    given: &Given,
) -> (Vec<Answer>, Stats) {
    answers(engine, subject, targets, given, Reported::Every)
}

fn answers(
    engine: &Engine,
    subject: &Subject,
    targets: &Targets,
    given: &Given,
    reported: Reported,
) -> (Vec<Answer>, Stats) {
    let ev = evaluate(
        engine,
        std::slice::from_ref(subject),
        targets,
        given,
        reported,
    );
    (ev.can_answers(), ev.stats())
}

/// `why`: `can`'s answers, each chain answer with its hops' own answers.
pub(crate) fn why(
    engine: &Engine,
    subject: &Subject,
    targets: &Targets,
    given: &Given,
) -> (Vec<Answer>, Stats) {
    let mut ev = evaluate(
        engine,
        std::slice::from_ref(subject),
        targets,
        given,
        Reported::Every,
    );
    ev.explain = true;
    ev.layers = true;
    (ev.can_answers(), ev.stats())
}

/// Every S3 action the subject may perform on each scope, directly or
/// through a chain: the answers that may give access.
pub(super) fn what_can(
    engine: &Engine,
    subject: &Subject,
    scopes: &[Scope],
) -> (Vec<Answer>, Stats) {
    let actions = Catalog::get().expand("any");
    let (each, mut stats) = per_scope(engine, std::slice::from_ref(subject), scopes, |scope| {
        answers(
            engine,
            subject,
            &s3_targets(&engine.index, &actions, scope),
            &Given::default(),
            Reported::Reaching,
        )
    });
    let mut out = Vec::new();
    for (answers, s) in each {
        out.extend(answers.into_iter().filter(|a| a.decision.reaches()));
        stats += s;
    }
    (out, stats)
}

/// The shortest chain from the subject to a principal that may perform one
/// of the actions (every S3 action when the query names none) on the scope:
/// the subject alone when it may itself. The one
/// answer kept is the best decision among the shortest chains.
pub(super) fn path(
    engine: &Engine,
    subject: &Subject,
    actions: &[&'static Action],
    scope: &Scope,
) -> (Vec<Answer>, Stats) {
    let (found, sanity) = answers(
        engine,
        subject,
        &s3_targets(&engine.index, actions, scope),
        &Given::default(),
        Reported::Reaching,
    );
    let best = found
        .into_iter()
        .filter(|a| a.decision.reaches())
        .min_by_key(|a| (a.via.len(), a.decision, a.action.clone()));
    (best.into_iter().collect(), sanity)
}
