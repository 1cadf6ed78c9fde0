//! `prove` (cli.md "Properties that `prove` decides"): each property is a
//! set of `can` questions whose answers must all be denials. An allow — or a
//! conditional answer with a witness that replays as allowed — refutes it
//! with that concrete request; an answer that may allow but has no replayed
//! witness, or an `unknown` one, leaves it `unknown`. Never a guessed
//! `proved`.

use super::can::can;
use super::evaluation::reaching;
use super::resolve::Scope;
use super::{s3_targets, Answer, Engine, Given, Targets, Witness};
use crate::catalog::{Action, Catalog, KeyType, Target};
use crate::datalog::Decision;
use crate::facts::{Resource, Subject};
use crate::model::{ConditionEntry, VersioningStatus, MFA_DELETE_ACTIONS};
use crate::smt::keys::Constraint;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofResult {
    Proved,
    Refuted,
    Unknown,
}

#[derive(Clone, Debug)]
pub struct Proof {
    pub property: &'static str,
    pub result: ProofResult,
    /// The request that breaks the property: an answer that allows it, and
    /// the context (and object state) under which it does.
    pub counterexample: Option<(Answer, Witness)>,
    pub reason: Option<String>,
}

/// What a group of `can` answers says about a property that forbids them.
enum Finding {
    Clear,
    Breaks(Box<(Answer, Witness)>),
    Unknown(String),
}

fn finding(answers: &[Answer]) -> Finding {
    let mut unknown = None;
    for a in answers {
        match a.decision {
            Decision::Allow => return Finding::Breaks(Box::new((a.clone(), Witness::new()))),
            Decision::Conditional => match &a.allow_witness {
                Some(w) => return Finding::Breaks(Box::new((a.clone(), (**w).clone()))),
                None => {
                    unknown.get_or_insert_with(|| {
                        format!(
                            "{} {} on {} is allowed under some conditions, and no concrete request was found",
                            a.principal, a.action, a.resource
                        )
                    });
                }
            },
            Decision::Unknown => {
                unknown.get_or_insert_with(|| {
                    format!(
                        "{} {} on {}: {}",
                        a.principal,
                        a.action,
                        a.resource,
                        a.reason.clone().unwrap_or_default()
                    )
                });
            }
            Decision::DenyImplicit | Decision::DenyExplicit => {}
        }
    }
    unknown.map_or(Finding::Clear, Finding::Unknown)
}

/// `can`'s answers for the subject as a finding, with concrete requests
/// (cli.md: a counterexample replays as a `can`). An answer on an object
/// glob is asked again on concrete keys when it breaks the property (one
/// key inside the glob, so the counterexample names a key), or when it is
/// conditional with no allow witness because only part of the glob is
/// granted or denied (a key inside it, and one under each pattern it is
/// `allowed under`), so that a request some way allows becomes a
/// counterexample.
fn asked(engine: &Engine, who: &Subject, targets: &Targets, given: &Given) -> Finding {
    let answers = can(engine, who, targets, given).0;
    let found = finding(&answers);
    let open: Vec<(&Answer, Vec<&str>)> = match &found {
        Finding::Clear => return found,
        Finding::Breaks(b) => vec![(&b.0, Vec::new())],
        Finding::Unknown(_) => answers
            .iter()
            .filter(|a| a.decision == Decision::Conditional && a.allow_witness.is_none())
            .map(|a| {
                let allowed = a
                    .partial
                    .iter()
                    .filter(|(side, _)| *side == "allowed")
                    .map(|(_, p)| p.as_str())
                    .collect();
                (a, allowed)
            })
            .collect(),
    };
    for (a, patterns) in open {
        if let Some(f) = on_keys(engine, who, targets, given, &a.action, &patterns) {
            return f;
        }
    }
    found
}

/// The first concrete key of an action's object glob — one inside it, then
/// one under each of the patterns — under which the subject's request
/// breaks the property. Each key is one evaluation, so few are tried.
fn on_keys(
    engine: &Engine,
    who: &Subject,
    targets: &Targets,
    given: &Given,
    action: &str,
    patterns: &[&str],
) -> Option<Finding> {
    let (action, Resource::Objects(b, glob)) = targets.iter().find(|(a, _)| a.name == action)?
    else {
        return None;
    };
    if !glob.contains(['*', '?']) {
        return None;
    }
    let arn = format!("arn:aws:s3:::{}/", engine.estate.buckets[*b].name);
    let scope = format!("{arn}{glob}");
    let mut keys: Vec<String> = Vec::new();
    for p in std::iter::once(scope.as_str()).chain(patterns.iter().copied()) {
        let key =
            crate::glob::sample(&scope, p).and_then(|k| k.strip_prefix(&arn).map(str::to_string));
        if let Some(k) = key.filter(|k| !keys.contains(k)) {
            keys.push(k);
        }
    }
    keys.into_iter().take(4).find_map(|key| {
        let concrete = vec![(*action, Resource::Objects(*b, key))];
        match finding(&can(engine, who, &concrete, given).0) {
            Finding::Breaks(f) => Some(Finding::Breaks(f)),
            _ => None,
        }
    })
}

/// A counterexample found under constraints (`requires`, a listing's
/// prefix) holds for every value the constraints allow; name one, so that it
/// replays as a concrete request.
fn pin(engine: &Engine, subject: &Subject, targets: &Targets, given: &Given, found: &mut Finding) {
    let Finding::Breaks(found) = found else {
        return;
    };
    let (a, w) = found.as_mut();
    if given.constraints.is_empty() || w.keys().any(|k| !k.starts_with("bucketlog:")) {
        return;
    }
    // The target the counterexample answers: its action, by the same route.
    let Some((action, resource)) = targets
        .iter()
        .find(|(act, r)| *act.name == *a.action && r.route(engine.estate) == a.access_point)
    else {
        return;
    };
    let mut built = crate::facts::Built::new(engine.estate, engine.index.clone());
    for c in &given.constraints {
        built.constrain(c.clone());
    }
    if let Some(values) = built.constraint_model(subject, action, resource.clone()) {
        w.extend(values);
    }
}

/// The first finding that breaks the property, else the first unknown.
fn combine(property: &'static str, findings: Vec<Finding>) -> Proof {
    let mut unknown = None;
    for f in findings {
        match f {
            Finding::Breaks(found) => {
                return Proof {
                    property,
                    result: ProofResult::Refuted,
                    counterexample: Some(*found),
                    reason: None,
                }
            }
            Finding::Unknown(why) => {
                unknown.get_or_insert(why);
            }
            Finding::Clear => {}
        }
    }
    Proof {
        property,
        result: match unknown {
            Some(_) => ProofResult::Unknown,
            None => ProofResult::Proved,
        },
        counterexample: None,
        reason: unknown,
    }
}

fn actions(names: &[&str]) -> Vec<&'static Action> {
    names
        .iter()
        .filter_map(|n| Catalog::get().find(n))
        .collect()
}

fn targets<'a>(actions: &[&'a Action], resource: &Resource) -> Targets<'a> {
    actions.iter().map(|a| (*a, resource.clone())).collect()
}

/// `s3:prefix` values under which a listing could return a key of the scope:
/// absent (the whole bucket), a prefix of the scope's literal head, or the
/// head followed by anything.
fn prefix_reaches(key_glob: &str) -> Constraint {
    let head: String = key_glob
        .chars()
        .take_while(|c| !matches!(c, '*' | '?'))
        .collect();
    let mut values: Vec<String> = (0..=head.len())
        .filter(|&i| head.is_char_boundary(i))
        .map(|i| head[..i].to_string())
        .collect();
    if head.len() < key_glob.len() {
        values.push(format!("{head}*"));
    }
    Constraint {
        entry: ConditionEntry {
            operator: "StringLikeIfExists".into(),
            key: "s3:prefix".into(),
            values,
            span: Default::default(),
        },
        holds: true,
    }
}

/// `write-only P on S`: P can put into S, and neither P (directly or
/// through chains) nor an unsigned caller can read a key of S or list one.
pub fn write_only(engine: &Engine, subject: &Subject, scope: &Scope) -> Proof {
    let none = Given::default();
    let (puts, _) = can(
        engine,
        subject,
        &s3_targets(&engine.index, &actions(&["s3:PutObject"]), scope),
        &none,
    );
    let catalog = Catalog::get();
    let reads: Vec<&Action> = catalog
        .actions
        .iter()
        .filter(|a| {
            a.name.starts_with("s3:")
                && a.target == Target::Object
                && a.access_levels.iter().any(|l| l == "Read")
        })
        .collect();
    let bucket = Resource::Bucket(scope.bucket);
    let listing = Given {
        constraints: vec![prefix_reaches(&scope.key)],
        ..Given::default()
    };
    // P must be able to put: an allow or a conditional answer; an unknown
    // one leaves the proof unknown.
    let mut findings = Vec::new();
    if !puts
        .iter()
        .any(|a| matches!(a.decision, Decision::Allow | Decision::Conditional))
    {
        match puts.iter().find(|a| a.decision == Decision::Unknown) {
            Some(put) => findings.push(Finding::Unknown(put.reason.clone().unwrap_or_default())),
            None => {
                return Proof {
                    property: "write-only",
                    result: ProofResult::Refuted,
                    counterexample: None,
                    reason: Some("the principal can never put an object there".into()),
                }
            }
        }
    }
    let lists = actions(&["s3:ListBucket", "s3:ListBucketVersions"]);
    let list_targets = targets(&lists, &bucket);
    for who in [subject.clone(), Subject::Anonymous] {
        findings.push(asked(
            engine,
            &who,
            &s3_targets(&engine.index, &reads, scope),
            &none,
        ));
        let mut listed = finding(&can(engine, &who, &list_targets, &listing).0);
        pin(engine, &who, &list_targets, &listing, &mut listed);
        findings.push(listed);
        let uploads = actions(&["s3:ListBucketMultipartUploads"]);
        findings.push(finding(
            &can(engine, &who, &targets(&uploads, &bucket), &none).0,
        ));
    }
    combine("write-only", findings)
}

/// `no-public-access B`: neither an unsigned caller nor a fresh account
/// can perform any action on the bucket or its objects through a grant AWS
/// calls public — the ACL an uploader may give one named account on an
/// unlisted object is not one (cli.md).
pub fn no_public_access(engine: &Engine, scope: &Scope) -> Proof {
    let all = Catalog::get().expand("any");
    let fresh = Subject::Outside(engine.index.fresh.clone());
    let public = Given {
        public_only: true,
        ..Given::default()
    };
    let findings = [Subject::Anonymous, fresh]
        .iter()
        .map(|who| {
            asked(
                engine,
                who,
                &s3_targets(&engine.index, &all, scope),
                &public,
            )
        })
        .collect();
    combine("no-public-access", findings)
}

/// `no-destroy B`: no principal can lose B's data for good (cli.md). What
/// does depends on versioning (S3 User Guide, "Retaining multiple versions
/// of objects with S3 Versioning"): deleting a version, and a lifecycle
/// configuration (whose expirations delete for good), always; on a bucket
/// that keeps versions, suspending versioning, after which deletes and
/// overwrites replace the null version; on one that does not, deleting or
/// overwriting an object. Everyone is asked — root users, and a fresh
/// account for those the snapshot does not name — in one evaluation; the
/// first principal whose answers break it is asked again alone, so that
/// its counterexample names a key. Under MFA Delete the bucket owner's
/// root user, with its MFA device over HTTPS, is what MFA Delete leaves
/// able to delete versions and change versioning: not counted, and said
/// in a note. Under Object Lock (or an unreadable `object-lock.json`) a
/// version may be under retention, which neither a delete (rules/46) nor a
/// lifecycle expiration can remove, and versioning cannot be suspended:
/// such answers leave the proof `unknown`, not refuted.
pub fn no_destroy(engine: &Engine, scope: &Scope, notes: &mut Vec<String>) -> Proof {
    let bucket = &engine.estate.buckets[scope.bucket];
    let versioning = match &bucket.versioning {
        Ok(v) => v,
        Err(why) => {
            return Proof {
                property: "no-destroy",
                result: ProofResult::Unknown,
                counterexample: None,
                reason: Some(format!(
                    "the bucket's versioning.json could not be read, so what loses data for good is unknown: {why}"
                )),
            }
        }
    };
    let mut names = vec!["s3:DeleteObjectVersion", "s3:PutLifecycleConfiguration"];
    let unkept = match versioning.status {
        VersioningStatus::Enabled => None,
        VersioningStatus::Never => Some("is not versioned"),
        VersioningStatus::Suspended => Some("has versioning suspended"),
    };
    match unkept {
        None => names.push("s3:PutBucketVersioning"),
        Some(state) => {
            names.extend(["s3:DeleteObject", "s3:PutObject"]);
            notes.push(format!(
                "{} {state}: deleting or overwriting an object loses its current data for good",
                bucket.name
            ));
        }
    }
    let lock_may = bucket.may_lock_versions();
    let owner_root = format!("arn:aws:iam::{}:root", bucket.account);
    let exempt = |a: &Answer| {
        bucket.mfa_delete.is_some()
            && a.principal == owner_root
            && MFA_DELETE_ACTIONS.contains(&&*a.action)
    };
    if bucket.mfa_delete.is_some() {
        notes.push(format!(
            "MFA Delete: {owner_root} can still delete versions and change versioning with its MFA device over HTTPS; not counted"
        ));
    }
    let targets = s3_targets(&engine.index, &actions(&names), scope);
    let mut subjects = engine.index.subjects.clone();
    subjects.push(Subject::Outside(engine.index.fresh.clone()));
    // Only an answer that may give access breaks the property.
    let ev = reaching(engine, &subjects, &targets);
    let mut unknown = None;
    for (asked_about, answers) in ev.direct.iter().zip(ev.answers()) {
        let answers: Vec<Answer> = answers.into_iter().filter(|a| !exempt(a)).collect();
        match finding(&answers) {
            Finding::Clear => {}
            Finding::Unknown(why) => {
                unknown.get_or_insert(Finding::Unknown(why));
            }
            Finding::Breaks(found) if lock_may && &*found.0.action != "s3:DeleteObjectVersion" => {
                unknown.get_or_insert(Finding::Unknown(format!(
                    "{} may perform {} on {}, but the bucket has Object Lock on (or its object-lock.json could not be read): versions under retention outlive a lifecycle expiration, and versioning cannot be suspended",
                    found.0.principal, found.0.action, found.0.resource
                )));
            }
            Finding::Breaks(found) => {
                let who = match asked_about.member {
                    Some(m) => Subject::Known(m),
                    None => ev.built.requests[asked_about.req.0 as usize]
                        .subject
                        .clone(),
                };
                let theirs: Targets = targets
                    .iter()
                    .filter(|(a, _)| *a.name == *found.0.action)
                    .cloned()
                    .collect();
                let concrete = asked(engine, &who, &theirs, &Given::default());
                let found = match concrete {
                    Finding::Breaks(_) => concrete,
                    _ => Finding::Breaks(found),
                };
                return combine("no-destroy", vec![found]);
            }
        }
    }
    combine("no-destroy", unknown.into_iter().collect())
}

/// `P A S requires K OP V`: no request by P for A on S that breaks the
/// requirement is allowed. `=` and `!=` take the operator that fits the
/// key's type; an operator name (`StringLike`, `IpAddress`…) is used as is.
pub fn requires(
    engine: &Engine,
    subject: &Subject,
    targets: &Targets,
    key: &str,
    op: &str,
    value: &str,
) -> Result<Proof, String> {
    let ty = Catalog::get()
        .key_type(key)
        .ok_or_else(|| format!("`{key}` is not a condition key of the catalogue"))?;
    let (operator, holds) = match (op, ty) {
        ("=" | "!=", KeyType::Bool) => ("Bool", op == "="),
        ("=" | "!=", KeyType::String | KeyType::Arn) => ("StringEquals", op == "="),
        ("=" | "!=", KeyType::Numeric) => ("NumericEquals", op == "="),
        ("=" | "!=", KeyType::Date) => ("DateEquals", op == "="),
        ("=" | "!=", KeyType::Ip) => ("IpAddress", op == "="),
        ("=" | "!=", KeyType::Multi) => ("ForAllValues:StringEquals", op == "="),
        (other, _) => (other, true),
    };
    let violating = Given {
        constraints: vec![Constraint {
            entry: ConditionEntry {
                operator: operator.to_string(),
                key: key.to_string(),
                values: vec![value.to_string()],
                span: Default::default(),
            },
            holds: !holds,
        }],
        ..Given::default()
    };
    let mut found = asked(engine, subject, targets, &violating);
    pin(engine, subject, targets, &violating, &mut found);
    Ok(combine("requires", vec![found]))
}
