//! How certainly a statement's Action, Resource and Condition hold for one
//! request (`Guard`): Resource patterns related to the request's ARN,
//! Conditions and policy variables solved for the keys the request carries
//! (`smt`), each verdict cached by what it depends on.

use super::*;

/// What a statement's verdict for a request depends on: the statement, the
/// caller, the action, the resource ARN, past or present, the way, and the
/// access point the request goes through.
pub(super) type VerdictKey = (
    StmtId,
    Subject,
    String,
    String,
    bool,
    Option<usize>,
    Option<usize>,
);

/// The owned parts of a request's keys (`smt::keys::RequestKeys` borrows them).
struct KeysOf<'b> {
    caller: smt::keys::Caller,
    action: String,
    resource_account: String,
    fixed: &'b smt::keys::Fixed,
    constraints: &'b [smt::keys::Constraint],
    closed: bool,
    org: Option<&'b crate::model::Organization>,
    access_point: Option<smt::keys::AccessPointKeys>,
    kms: Option<smt::keys::KmsKeys>,
}

impl KeysOf<'_> {
    fn keys(&self) -> smt::keys::RequestKeys<'_> {
        smt::keys::RequestKeys {
            caller: self.caller.clone(),
            action: &self.action,
            resource_account: &self.resource_account,
            fixed: self.fixed,
            constraints: self.constraints,
            closed: self.closed,
            org: self.org,
            access_point: self.access_point.as_ref(),
            kms: self.kms.as_ref(),
        }
    }
}

/// The caller as condition keys see it (semantics.md 6).
pub(super) fn caller(estate: &Estate, subject: &Subject) -> smt::keys::Caller {
    use smt::keys::Caller;
    match subject {
        Subject::Known(i) => {
            let p = &estate.principals[*i];
            let (arn, account) = (p.arn.clone(), p.account.clone());
            match p.kind {
                PrincipalKind::User => Caller::User {
                    arn,
                    account,
                    name: p.name.clone(),
                    unique_id: p.unique_id.clone(),
                    tags: p.tags.clone(),
                },
                PrincipalKind::Role => Caller::Role {
                    arn,
                    account,
                    unique_id: p.unique_id.clone(),
                },
                PrincipalKind::Root => Caller::Root { arn, account },
            }
        }
        Subject::Outside(a) => Caller::Outside { account: a.clone() },
        Subject::Anonymous => Caller::Anonymous,
        Subject::Service(name) => Caller::Service { name: name.clone() },
    }
}

/// What, in a statement, bucketlog cannot evaluate: the words for an
/// `unknown` answer that turns on it.
pub fn unknown_reasons(st: &Statement, version: Option<&str>) -> Vec<&'static str> {
    let mut out = Vec::new();
    if st.condition_empty {
        out.push("an empty Condition block, operator or value list (AWS's own tools disagree on its meaning)");
    }
    let variables = version == Some("2012-10-17")
        && st
            .resource
            .as_ref()
            .is_some_and(|r| r.items.iter().any(|i| i.contains("${")));
    if variables {
        out.push("a policy variable in Resource that the solver could not decide");
    }
    if st.principal.as_ref().is_some_and(|p| p.negated) {
        out.push("a NotPrincipal that lists only part of the caller's chain (AWS may check the account first)");
    }
    if st.principal.as_ref().is_some_and(|p| {
        p.items
            .iter()
            .any(|i| matches!(i, PrincipalPattern::CanonicalUser(_)))
    }) {
        out.push("a CanonicalUser principal that maps to no account of the snapshot");
    }
    if st.resource.is_none() {
        out.push("no Resource element");
    }
    if out.is_empty() {
        out.push("something not modelled yet");
    }
    out
}

/// How the entries with policy variables of a Resource element relate to
/// the request's resource, as solved for its keys (`smt`).
fn variables_relation(verdict: Verdict) -> Option<Relation> {
    match verdict {
        Verdict::Always => Some(Relation::Covers),
        Verdict::Sometimes => Some(Relation::Overlaps),
        Verdict::Never => Some(Relation::Disjoint),
        Verdict::Unknown(_) => None,
    }
}

/// How certainly the Resource entries hold for the scope: `variables` is
/// the relation of the entries with policy variables (`None`: unknown).
pub(super) fn resource_guard(
    items: &[String],
    negated: bool,
    version: Option<&str>,
    scope: &str,
    variables: Option<Relation>,
) -> Option<Guard> {
    let uses_variables = version == Some("2012-10-17");
    let mut best = Relation::Disjoint;
    let mut unknown = false;
    for item in items {
        if uses_variables && item.contains("${") {
            match variables {
                Some(rel) => best = best.min(rel),
                None => unknown = true,
            }
            continue;
        }
        best = best.min(glob::relate_arn(scope, item));
    }
    match (negated, best, unknown) {
        (false, Relation::Covers, _) => Some(Guard::Definite),
        (false, Relation::Overlaps, false) => Some(Guard::Conditional),
        (false, Relation::Disjoint, false) => None,
        (false, _, true) => Some(Guard::Unknown),
        (true, Relation::Covers, _) => None,
        (true, _, true) => Some(Guard::Unknown),
        (true, Relation::Overlaps, false) => Some(Guard::Conditional),
        (true, Relation::Disjoint, false) => Some(Guard::Definite),
    }
}

impl<'e> Built<'e> {
    /// How certainly a statement's Action, Resource and Condition hold for
    /// one request; `None` when they cannot. Conditions and Resource entries
    /// with policy variables are solved for the request's keys (`smt`).
    pub(super) fn element_guard(
        &mut self,
        (policy, index, stmt): (usize, usize, StmtId),
        version: Option<&str>,
        (subject, action, resource): (&Subject, &str, &Resource),
        arn: &str,
        is_trust: bool,
    ) -> Option<Guard> {
        let estate = self.estate;
        let Ok(body) = &estate.policies[policy].body else {
            return Some(Guard::Unknown);
        };
        let st = &body.statements[index];
        if !st.covers_action(action) {
            return None;
        }
        let resource_guard = match &st.resource {
            // Trust policies have no Resource: the role itself is the resource.
            None if is_trust => Guard::Definite,
            None => Guard::Unknown,
            Some(res) => {
                let with_variables: Vec<&str> = res
                    .items
                    .iter()
                    .filter(|i| i.contains("${"))
                    .map(String::as_str)
                    .collect();
                let variables = if version == Some("2012-10-17") && !with_variables.is_empty() {
                    // Variables the request fixes are substituted; the rest go to the solver.
                    let keys = self.request_keys(subject, action, resource);
                    let ground: Option<Vec<Option<String>>> = with_variables
                        .iter()
                        .map(|i| smt::substitute(i, &keys.keys()))
                        .collect();
                    match ground {
                        Some(items) => Some(
                            items
                                .iter()
                                .flatten()
                                .map(|i| glob::relate_arn(arn, i))
                                .min()
                                .unwrap_or(Relation::Disjoint),
                        ),
                        None => variables_relation(self.solve(
                            stmt,
                            subject,
                            action,
                            resource,
                            |keys| smt::resource_with_variables(&with_variables, arn, keys),
                        )),
                    }
                } else {
                    None
                };
                resource_guard(&res.items, res.negated, version, arn, variables)?
            }
        };
        let condition = match (st.condition_empty, st.condition.is_empty()) {
            (true, _) => Guard::Unknown,
            (false, true) => Guard::Definite,
            (false, false) => {
                match self.solve(stmt, subject, action, resource, |keys| {
                    smt::condition(&st.condition, version, keys)
                }) {
                    Verdict::Always => Guard::Definite,
                    Verdict::Never => return None,
                    Verdict::Sometimes => Guard::Conditional,
                    Verdict::Unknown(_) => Guard::Unknown,
                }
            }
        };
        Some(resource_guard.max(condition))
    }

    /// A verdict for one statement and request, cached by what it depends
    /// on; an `Unknown` keeps its reason for the answer.
    fn solve(
        &mut self,
        stmt: StmtId,
        subject: &Subject,
        action: &str,
        resource: &Resource,
        f: impl FnOnce(&smt::keys::RequestKeys) -> Verdict,
    ) -> Verdict {
        let arn = self.resource_arn(resource);
        let key = (
            stmt,
            subject.clone(),
            action.to_string(),
            arn,
            self.past,
            self.way,
            self.via,
        );
        if let Some(v) = self.verdicts.get(&key) {
            return v.clone();
        }
        let v = f(&self.request_keys(subject, action, resource).keys());
        if let Verdict::Unknown(why) = &v {
            self.solver_reasons
                .entry(stmt)
                .or_insert_with(|| why.clone());
        }
        self.verdicts.insert(key, v.clone());
        v
    }

    fn request_keys(&self, subject: &Subject, action: &str, resource: &Resource) -> KeysOf<'_> {
        let resource_account = self.resource_account(resource).to_string();
        KeysOf {
            kms: self.kms_keys(resource),
            caller: caller(self.estate, subject),
            action: action.to_string(),
            resource_account,
            fixed: self.fixed(),
            constraints: if self.past { &[] } else { &self.constraints },
            closed: self.closed && !self.past,
            org: self.estate.organization.as_ref(),
            access_point: self.access_point_keys(self.via, resource),
        }
    }

    /// The access point a request carries the keys of: the one it is made
    /// at, or the one the bucket's side of a request goes through.
    fn access_point_keys(
        &self,
        via: Option<usize>,
        resource: &Resource,
    ) -> Option<smt::keys::AccessPointKeys> {
        let ap = match resource {
            Resource::AccessPoint(ap, _) | Resource::Through(ap, _) => *ap,
            _ => via?,
        };
        let ap = &self.estate.access_points[ap];
        Some(smt::keys::AccessPointKeys {
            arn: ap.arn(),
            account: ap.account.clone(),
            vpc: ap.vpc.clone(),
        })
    }

    /// The keys of a request as the solver sees them, for witnesses.
    pub fn with_request_keys<T>(
        &self,
        r: ReqId,
        f: impl FnOnce(&smt::keys::RequestKeys) -> T,
    ) -> T {
        let info = &self.requests[r.0 as usize];
        let past = info.past;
        let keys = KeysOf {
            fixed: match (info.way, past) {
                (Some(w), _) => &self.ways[w].1,
                (None, true) => &self.no_context,
                (None, false) => &self.context,
            },
            constraints: if past { &[] } else { &self.constraints },
            closed: self.closed && !past,
            access_point: self.access_point_keys(info.via, &info.resource),
            ..self.request_keys(&info.subject, &info.action, &info.resource)
        };
        f(&keys.keys())
    }

    /// Context values that meet the constraints for one request (the keys
    /// they name), for a counterexample that holds for every other value.
    pub fn constraint_model(
        &mut self,
        subject: &Subject,
        action: &Action,
        resource: Resource,
    ) -> Option<smt::Context> {
        let r = self.request(subject, action, resource);
        self.with_request_keys(r, |keys| smt::witness(&[], keys))
    }

    /// Whether some statement may apply to some request only under a
    /// condition: without one, no request has ways to enumerate
    /// (`query::evaluation`'s `Evaluation::exact`).
    pub fn may_have_ways(&self) -> bool {
        let f = &self.facts;
        f.matches.iter().any(|m| m.2 == Guard::Conditional)
            || f.principal_matches
                .iter()
                .any(|m| m.3 == Guard::Conditional)
            || f.not_principal_names
                .iter()
                .any(|m| m.3 == Guard::Conditional)
    }

    /// Why the solver could not decide a statement's guard, when it could not.
    pub fn solver_reason(&self, stmt: StmtId) -> Option<&str> {
        self.solver_reasons.get(&stmt).map(String::as_str)
    }
}
