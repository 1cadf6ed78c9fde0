//! `who can` and `public`: every principal (or everyone outside the zone of
//! trust) in one evaluation.

use super::evaluation::{evaluate, per_scope, reaching, Evaluation, Reported};
use super::resolve::Scope;
use super::{s3_targets, Answer, Engine, Given, Options, Stats, Targets};
use crate::catalog::Catalog;
use crate::datalog::Decision;
use crate::facts::Subject;
use crate::model::{PrincipalKind, PrincipalPattern};

/// Answers for many subjects, with their chains, keeping those `keep`
/// wants; root users' answers only with `--include-root` (the text output
/// says how many were left out).
pub(super) fn answers_of(
    ev: &Evaluation,
    keep: impl Fn(&Answer) -> bool,
    opts: Options,
    roots_left_out: &mut usize,
) -> Vec<Answer> {
    let estate = ev.built.estate;
    let mut kept: Vec<Vec<Answer>> = Vec::with_capacity(ev.direct.len());
    for (asked, mut answers) in ev.direct.iter().zip(ev.answers()) {
        let is_root = matches!(ev.built.requests[asked.req.0 as usize].subject, Subject::Known(i) if estate.principals[i].kind == PrincipalKind::Root);
        answers.retain(&keep);
        if is_root && !opts.include_root {
            *roots_left_out += answers.len();
        } else {
            kept.push(answers);
        }
    }
    // Moved once into a list of the right size: a large `who can` has
    // over 100,000 answers of a few hundred bytes each, which a growing
    // list would copy again at every doubling.
    let mut out = Vec::with_capacity(kept.iter().map(Vec::len).sum());
    for answers in kept {
        out.extend(answers);
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

pub(super) fn who_can(
    engine: &Engine,
    targets: &Targets,
    given: &Given,
    opts: Options,
    notes: &mut Vec<String>,
) -> (Vec<Answer>, Stats) {
    let ev = evaluate(
        engine,
        &engine.index.subjects,
        targets,
        given,
        Reported::Reaching,
    );
    let mut roots = 0;
    let out = answers_of(&ev, |a| a.decision.reaches(), opts, &mut roots);
    note_roots(roots, notes);
    (out, ev.stats())
}

/// `public [bucket]`: every S3 action on each bucket (and its objects) that
/// someone outside the zone of trust — anonymous callers, accounts the
/// snapshot does not describe, and a fresh account it does not name — may
/// perform, and each public grant that Block Public Access neutralises.
pub(super) fn public(
    engine: &Engine,
    scopes: &[Scope],
    notes: &mut Vec<String>,
) -> (Vec<Answer>, Stats) {
    let fresh = engine.index.fresh.clone();
    let mut subjects: Vec<Subject> = engine
        .index
        .subjects
        .iter()
        .filter(|s| matches!(s, Subject::Anonymous | Subject::Outside(_)))
        .cloned()
        .collect();
    subjects.push(Subject::Outside(fresh.clone()));
    notes.push(format!(
        "account:{fresh} stands for any account the snapshot does not name"
    ));
    let actions = Catalog::get().expand("any");
    let neutralised =
        |a: &Answer| a.decision == Decision::DenyImplicit && a.blocked_by.contains(&"bpa");
    for scope in scopes {
        note_cdn_origins(engine, scope, notes);
    }
    let (each, mut stats) = per_scope(engine, &subjects, scopes, |scope| {
        let targets = s3_targets(&engine.index, &actions, scope);
        let mut ev = reaching(engine, &subjects, &targets);
        ev.layers = true;
        let answers = answers_of(
            &ev,
            |a| a.decision.reaches() || neutralised(a),
            Options::default(),
            &mut 0,
        );
        (answers, ev.stats())
    });
    let mut out = Vec::new();
    for (answers, s) in each {
        out.extend(answers);
        stats += s;
    }
    (out, stats)
}

/// The CloudFront distributions a bucket's policy lets read it through
/// origin access (S3 is private with a CDN in front; CloudFront Developer
/// Guide, "Restricting access to an Amazon S3 origin"): each Allow naming
/// the `cloudfront.amazonaws.com` service principal, with the
/// distributions its `aws:SourceArn` condition names, and each legacy
/// origin access identity. A grant to the service with neither
/// `aws:SourceArn` nor `aws:SourceAccount` lets any distribution of any
/// account read: said so (the confused-deputy risk AWS warns of).
pub(super) fn note_cdn_origins(engine: &Engine, scope: &Scope, notes: &mut Vec<String>) {
    let estate = engine.estate;
    let bucket = &estate.buckets[scope.bucket];
    let Some(Ok(body)) = bucket.policy.map(|p| &estate.policies[p].body) else {
        return;
    };
    for st in &body.statements {
        let Some(set) = st.principal.as_ref().filter(|s| !s.negated) else {
            continue;
        };
        if st.effect != crate::model::Effect::Allow {
            continue;
        }
        let service = set.items.iter().any(|p| {
            matches!(p, PrincipalPattern::Service(s) if s.eq_ignore_ascii_case("cloudfront.amazonaws.com"))
        });
        let identities: Vec<&str> = set
            .items
            .iter()
            .filter_map(|p| match p {
                PrincipalPattern::Arn(a)
                    if a.contains(":user/CloudFront Origin Access Identity") =>
                {
                    Some(a.as_str())
                }
                _ => None,
            })
            .collect();
        let actions = match st.action.negated {
            false => st.action.items.join(", "),
            true => format!("every action but {}", st.action.items.join(", ")),
        };
        let who = if service {
            let pinned = |key: &str| {
                st.condition
                    .iter()
                    .filter(|c| c.key.eq_ignore_ascii_case(key) && !c.operator.contains("Not"))
                    .flat_map(|c| c.values.iter().map(String::as_str))
                    .collect::<Vec<&str>>()
            };
            let distributions = pinned("aws:SourceArn");
            match (distributions.is_empty(), pinned("aws:SourceAccount").is_empty()) {
                (false, _) => format!("CloudFront distribution {}", distributions.join(", ")),
                (true, false) => format!(
                    "the CloudFront distributions of account {}",
                    pinned("aws:SourceAccount").join(", ")
                ),
                (true, true) => "any CloudFront distribution of any account (no aws:SourceArn or aws:SourceAccount condition)".to_string(),
            }
        } else if !identities.is_empty() {
            format!(
                "CloudFront origin access identity {}",
                identities.join(", ")
            )
        } else {
            continue;
        };
        notes.push(format!(
            "`{}` is private with a CDN in front: bucket-policy statement {} lets {who} perform {actions} for its viewers; who may reach the distribution is outside the snapshot",
            bucket.name, st.label
        ));
    }
}
