//! Requests that cannot reach are left out (docs/decisions.md): a cheap,
//! conservative test decided in Rust before any rule runs. It only ever
//! keeps requests; the reference test, not the rules, stands for it.

use super::*;
use crate::classes::reads_callers_name;
use crate::index::StatementShapes;

impl<'e> Built<'e> {
    /// Whether a request may be anything but denied (allowed, conditional
    /// or unknown), as far as cheap facts tell; `false` only when the rules
    /// would surely deny it. It is `false` for an IAM user or role asking on
    /// a bucket or its objects when
    /// - no Allow of its identity policies has an Action and a Resource
    ///   that may meet the request (conditions are not read), every one of
    ///   them readable,
    /// - no Allow of the bucket policy that may meet it names the caller,
    ///   its role or everyone (naming its account grants nothing without an
    ///   identity Allow, R70.2–R70.4), the bucket policy readable,
    /// - the bucket's ACLs can grant nothing alone (`acl_reach`: no grant,
    ///   no ACL's open layer), or nothing but the actions an ACL grant
    ///   speaks to and the action is not one of them (`acl_may_grant`), and
    ///   Block Public Access is settled (no open layer that could add
    ///   access, R70.11).
    ///
    /// Then no `Granted` holds in any object state, nor any open layer
    /// that grants: the request is denied. Queries that report only what
    /// may give access (`who can`, `public`, `what can`, `graph`, and every
    /// chain's role) leave such requests out instead of running the rules
    /// over them; most principals of a large estate have nothing to do with
    /// most buckets (docs/decisions.md "Requests that cannot reach").
    pub fn may_reach(&mut self, subject: &Subject, action: &str, resource: &Resource) -> bool {
        let estate = self.estate;
        let Subject::Known(i) = subject else {
            return true;
        };
        let pr = &estate.principals[*i];
        if !matches!(pr.kind, PrincipalKind::User | PrincipalKind::Role) {
            return true;
        }
        let (Resource::Bucket(b) | Resource::Objects(b, _)) = resource else {
            return true;
        };
        let bucket = &estate.buckets[*b];
        if self.bpa_unsettled(*b) {
            return true;
        }
        match self.acl_reach(*b) {
            AclReach::Nothing => {}
            AclReach::AclActions if !acl_may_grant(action) => {}
            AclReach::AclActions | AclReach::Anything => return true,
        }
        let arn = self.resource_arn(resource);
        if self.identity_may_allow(*i, action, &arn) {
            return true;
        }
        let Some(pol) = bucket.policy else {
            return false;
        };
        let Some(found) = self.allows_meeting(pol, action, &arn) else {
            return true;
        };
        let Ok(body) = &estate.policies[pol].body else {
            return true;
        };
        found.iter().any(|&k| match &body.statements[k].principal {
            Some(set) if !set.negated => set.items.iter().any(|item| {
                principal_match(estate, item, subject).is_some_and(|(c, _)| c != Class::Account)
            }),
            _ => true,
        })
    }

    /// What the bucket's ACLs, set or yet to be set, may grant an IAM user
    /// or role alone, or open a layer that could (rules/40, R70.11). Once
    /// per bucket and evaluation.
    ///
    /// - `Nothing`: ACLs off (BucketOwnerEnforced); or on, with every grant
    ///   of the bucket's ACL and its listed objects' to an account's
    ///   canonical user (which then needs an identity Allow, R70.2–R70.4)
    ///   or to the log-delivery group, none of them WRITE to another
    ///   account, no public ACL an uploader may set (BlockPublicAcls), and
    ///   what `AclActions` asks besides.
    /// - `AclActions`: grants to everyone, WRITE to another account, or
    ///   public ACLs uploaders may set: each is a statement that speaks
    ///   only to the actions an ACL grant does (`acl_may_grant`, and the
    ///   open layer of a foreign WRITE grant only to its grantee's
    ///   PutObject and DeleteObject, R70.11). Every ACL readable, every
    ///   listed object's owner known (else an open layer on every action,
    ///   R40.5), no grant of WRITE to everyone, and no other way for the
    ///   anonymous caller to upload, and so own, an object (no access
    ///   point, no bucket-policy Allow of PutObject to everyone): an
    ///   object the anonymous caller owns is open on every action.
    /// - `Anything` otherwise.
    fn acl_reach(&mut self, b: usize) -> AclReach {
        if let Some(&known) = self.acl_reach.get(&b) {
            return known;
        }
        let estate = self.estate;
        let bucket = &estate.buckets[b];
        let owner = estate
            .accounts
            .get(&bucket.account)
            .and_then(|a| a.canonical_id.as_deref());
        // Each ACL, readable with a known owner: whether its grants are
        // only to accounts that need an identity Allow (`quiet`); `None`:
        // a grant opens every action.
        let read = |acl: &crate::model::Acl| -> Option<bool> {
            let known_owner = acl
                .owner
                .as_deref()
                .is_some_and(|o| estate.account_of_canonical(o).is_some());
            let public_write = acl
                .grants
                .iter()
                .any(|g| g.grantee.is_public() && g.permission.writes());
            let quiet = acl.grants.iter().all(|g| match &g.grantee {
                Grantee::Canonical(c) => Some(c.as_str()) == owner || !g.permission.writes(),
                Grantee::LogDelivery => true,
                _ => false,
            });
            (known_owner && !public_write).then_some(quiet)
        };
        let known = match (&bucket.ownership, &bucket.acl) {
            (Err(_), _) => AclReach::Anything,
            (Ok(Ownership::BucketOwnerEnforced), _) => AclReach::Nothing,
            (Ok(_), None) => AclReach::Anything,
            (Ok(_), Some(acl)) => {
                let acls: Option<Vec<bool>> = std::iter::once(acl)
                    .chain(bucket.objects.iter().map(|o| &o.acl))
                    .map(|acl| acl.as_ref().ok().and_then(read))
                    .collect();
                match acls {
                    Some(_) if self.anonymous_may_upload(b) => AclReach::Anything,
                    None => AclReach::Anything,
                    Some(quiet)
                        if quiet.iter().all(|&q| q)
                            && self.bpa_in_force(b, |c| c.block_public_acls) =>
                    {
                        AclReach::Nothing
                    }
                    Some(_) => AclReach::AclActions,
                }
            }
        };
        self.acl_reach.insert(b, known);
        known
    }

    /// Whether the anonymous caller may upload, and so own, an object of
    /// the bucket: through an access point, or by a bucket-policy Allow of
    /// PutObject to everyone (or one that could not be read).
    fn anonymous_may_upload(&mut self, b: usize) -> bool {
        if !self.index.access_points[b].is_empty() {
            return true;
        }
        let Some(pol) = self.estate.buckets[b].policy else {
            return false;
        };
        let objects = self.resource_arn(&Resource::Objects(b, "*".into()));
        let found = self.allows_meeting(pol, PUT_OBJECT, &objects);
        match (found, &self.estate.policies[pol].body) {
            (Some(found), Ok(body)) => found.iter().any(|&k| {
                !matches!(&body.statements[k].principal, Some(set)
                    if !set.negated && !set.items.contains(&PrincipalPattern::Everyone))
            }),
            _ => true,
        }
    }

    /// Whether an Allow of the principal's identity policies has an Action
    /// and a Resource that may meet the request, or one of them could not
    /// be read (conditions are not read).
    pub(super) fn identity_may_allow(&mut self, p: usize, action: &str, arn: &str) -> bool {
        let estate = self.estate;
        // The request's record once, not per policy: `may_have_uploaded`
        // asks this of thousands of principals per scope.
        let known = known_for(&mut self.meeting, arn, action);
        estate
            .each_identity_policy(&estate.principals[p])
            .any(|pol| {
                known.reading(
                    (estate, &self.index.shapes),
                    pol,
                    (action, arn),
                    true,
                    |found| found.is_none_or(|found| !found.is_empty()),
                )
            })
    }

    /// The Allow statements of a policy whose Action and Resource may meet
    /// a request (`may_reach`).
    fn allows_meeting(&mut self, pol: usize, action: &str, arn: &str) -> Option<Vec<usize>> {
        self.statements_meeting(pol, (action, arn), true)
    }

    /// The statements of a policy (with `allows_only`, its Allows) whose
    /// Action and Resource may meet a request; `None`: the policy could not
    /// be read.
    pub(super) fn statements_meeting(
        &mut self,
        pol: usize,
        (action, arn): (&str, &str),
        allows_only: bool,
    ) -> Option<Vec<usize>> {
        known_for(&mut self.meeting, arn, action).reading(
            (self.estate, &self.index.shapes),
            pol,
            (action, arn),
            allows_only,
            |found| found.cloned(),
        )
    }

    /// `alike` for principal `p`'s sts:AssumeRole on role `q`: the members
    /// of a class of `Classes::assuming` that it finds alike take the same
    /// hop to `q` (`query::assume`), unless `q`'s trust policy names one of
    /// them (`Classes::trust_names`).
    pub fn alike_on_hop(&mut self, p: usize, q: usize) -> Option<Alike> {
        let estate = self.estate;
        let arn = self.resource_arn(&Resource::Role(q));
        let known = known_for(&mut self.meeting, &arn, ASSUME_ROLE);
        let shapes = &self.index.shapes;
        alike(estate, p, |pol| {
            let request = (ASSUME_ROLE, arn.as_str());
            known.reading((estate, shapes), pol, request, false, |found| {
                PolicyMeets::of(estate, pol, found.map(Vec::as_slice))
            })
        })
    }

    /// A request that cannot reach (`may_reach`), recorded for the order
    /// of the query's answers and its chains: none of its facts, only that
    /// it was left out, which the rules deny (R75.5).
    pub fn left_out(&mut self, subject: &Subject, action: &Action, resource: Resource) -> ReqId {
        let key = self.request_key(subject, action, &resource);
        if let Some(&r) = self.left_out_ids.get(&key) {
            return r;
        }
        let r = self.record(subject, action, resource, self.via);
        self.facts.left_out.push(LeftOut(r));
        self.left_out_ids.insert(key, r);
        r
    }
}

/// What tells principal `p` apart from the other members of its class
/// (`Classes::assuming`, `Classes::uploading`, which leave identity policies
/// and boundaries out) on a request: its identity policies with a
/// statement that may meet the request, and its boundary, which denies
/// even where none of its statements meets. `None` when one of those
/// statements reads the caller's name (`${aws:username}`): then `p` is
/// told apart by its own name. `meet` reads a policy for the request.
pub(super) fn alike(
    estate: &Estate,
    p: usize,
    mut meet: impl FnMut(usize) -> PolicyMeets,
) -> Option<Alike> {
    let pr = &estate.principals[p];
    let mut identity = Vec::new();
    let mut reads_name = false;
    for pol in estate.each_identity_policy(pr) {
        let m = meet(pol);
        if m.meets {
            identity.push(pol);
            reads_name |= m.reads_name;
        }
    }
    if let Some(b) = pr.boundary {
        reads_name |= meet(b).reads_name;
    }
    if reads_name {
        return None;
    }
    identity.sort_unstable();
    identity.dedup();
    Some(Alike {
        identity,
        boundary: pr.boundary,
    })
}

/// What tells the members of a class apart on a request (`alike`):
/// their identity policies with a statement that may meet it, sorted, and
/// their boundary.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Alike {
    identity: Vec<usize>,
    boundary: Option<usize>,
}

/// How one policy meets a request (`alike`).
#[derive(Clone, Copy)]
pub(super) struct PolicyMeets {
    /// Some statement may meet it, or the policy could not be read.
    meets: bool,
    /// One of those statements may read the caller's name
    /// (`${aws:username}`), so that it tells callers apart; a policy that
    /// could not be read may.
    reads_name: bool,
}

impl PolicyMeets {
    /// `found`: the statements of policy `pol` that may meet the request
    /// (`None`: the policy could not be read).
    pub(super) fn of(estate: &Estate, pol: usize, found: Option<&[usize]>) -> PolicyMeets {
        let reads_name = match (&estate.policies[pol].body, found) {
            (Ok(body), Some(found)) => found
                .iter()
                .any(|&k| reads_callers_name(&body.statements[k])),
            _ => true,
        };
        PolicyMeets {
            meets: found.is_none_or(|f| !f.is_empty()),
            reads_name,
        }
    }
}

/// What a bucket's ACLs may grant an IAM user or role alone (`acl_reach`).
#[derive(Clone, Copy)]
pub(super) enum AclReach {
    Nothing,
    /// Only the actions an ACL grant speaks to (`acl_may_grant`).
    AclActions,
    Anything,
}

/// What is known of the policies and statements that may meet one request
/// (`Meets::reading`).
#[derive(Default)]
pub(super) struct Meets {
    /// Per (policy, Allows only): the statements that may meet it; `None`:
    /// the policy could not be read.
    statements: HashMap<(usize, bool), Option<Vec<usize>>>,
    /// Per statement shape (`index::StatementShapes`): whether its Action
    /// and Resource may meet it.
    shapes: HashMap<u32, bool>,
}

impl Meets {
    /// What `read` makes of the statements of `pol` that may meet this
    /// request (`Built::statements_meeting`), found once per policy
    /// (every principal holding a policy asks the same of it), and each
    /// statement's part once per shape: statements written alike (one
    /// template in many principals' inline policies) meet alike.
    fn reading<T>(
        &mut self,
        (estate, shapes): (&Estate, &StatementShapes),
        pol: usize,
        (action, arn): (&str, &str),
        allows_only: bool,
        read: impl FnOnce(Option<&Vec<usize>>) -> T,
    ) -> T {
        if let Some(found) = self.statements.get(&(pol, allows_only)) {
            return read(found.as_ref());
        }
        let found: Option<Vec<usize>> = estate.policies[pol].body.as_ref().ok().map(|body| {
            (0..body.statements.len())
                .filter(|&k| {
                    let st = &body.statements[k];
                    (st.effect == Effect::Allow || !allows_only)
                        && *self.shapes.entry(shapes.of(pol, k)).or_insert_with(|| {
                            st.covers_action(action)
                                && st.resource.as_ref().is_none_or(|res| {
                                    let v = variables_may_meet(&res.items, res.negated, arn);
                                    resource_guard(
                                        &res.items,
                                        res.negated,
                                        body.version.as_deref(),
                                        arn,
                                        v,
                                    )
                                    .is_some()
                                })
                        })
                })
                .collect()
        });
        let out = read(found.as_ref());
        self.statements.insert((pol, allows_only), found);
        out
    }
}

/// What is known per request: by resource ARN, then action.
pub(super) type PerRequest<V> = HashMap<String, HashMap<String, V>>;

/// What is known of requests on `arn` by `action`.
fn known_for<'m, V: Default>(known: &'m mut PerRequest<V>, arn: &str, action: &str) -> &'m mut V {
    if !known.contains_key(arn) {
        known.insert(arn.to_string(), HashMap::default());
    }
    let by_action = known.get_mut(arn).expect("inserted above");
    if !by_action.contains_key(action) {
        by_action.insert(action.to_string(), V::default());
    }
    by_action.get_mut(action).expect("inserted above")
}

/// How the Resource entries with policy variables may relate to `arn`, for
/// a test that asks only whether they may meet it: a variable stands for
/// some string, so with `*` in its place an entry matches at least what it
/// may (and then it is never known to cover). One before the resource
/// field might hold a `:` and match in another field; and of a
/// NotResource, matching more is meeting less: nothing is known of those.
fn variables_may_meet(items: &[String], negated: bool, arn: &str) -> Option<Relation> {
    if negated {
        return None;
    }
    let mut best = Relation::Disjoint;
    for item in items.iter().filter(|i| i.contains("${")) {
        let resource_field = item
            .match_indices(':')
            .nth(4)
            .map_or(item.len(), |(at, _)| at);
        if item[..resource_field].contains("${") {
            return None;
        }
        let widened = smt::widened(item)?;
        if glob::relate_arn(arn, &widened) != Relation::Disjoint {
            best = Relation::Overlaps;
        }
    }
    Some(best)
}
