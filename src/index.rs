//! The estate compiled for questions, built once per estate and read by
//! every query: everyone a question may be about, and which roles' trust
//! policies could name a given caller, so that role chains need not test
//! every (principal, role) pair.

use crate::catalog::PUT_OBJECT;
use crate::classes::Classes;
use crate::facts::Subject;
use crate::glob::Arn;
use crate::model::{
    arn_fields, Effect, Estate, ListedObject, PolicyKind, PrincipalKind, PrincipalPattern,
};
use std::collections::{BTreeSet, HashMap};

/// A Resource pattern, with the prefix of the object ARNs it is matched
/// against (`Index::resource_patterns`).
pub type PrefixedPattern = (String, String);

/// What every query of one estate shares.
#[derive(Debug)]
pub struct Index {
    /// Everyone `who can` considers (and who may upload unlisted objects).
    pub subjects: Vec<Subject>,
    /// The accounts that may own what the subjects upload, sorted.
    pub uploader_accounts: Vec<String>,
    /// An account ID the snapshot does not name anywhere.
    pub fresh: String,
    pub trust: TrustIndex,
    /// Users that no statement tells apart (`who can` asks one of each).
    pub classes: Classes,
    /// Users that no statement that may cover sts:AssumeRole tells apart
    /// (the can-assume graph decides the hops of one of each).
    pub assume_classes: Classes,
    /// Users and roles that no statement that may cover s3:PutObject tells
    /// apart but their identity policies and boundaries: the uploads made
    /// before a query ask one of each per set of those policies' statements
    /// that meet the scope (`facts::Built::uploaders`).
    pub uploader_classes: Classes,
    /// Statements written alike share a number (`StatementShapes`).
    pub shapes: StatementShapes,
    /// Per principal: whether its identity policies may allow s3:PutObject
    /// at all (an Allow naming it, or a policy that could not be read) — the
    /// only principals that may upload without a grant naming them.
    pub may_put: Vec<bool>,
    /// Per bucket: which ACL headers the policies that may speak to
    /// uploads into it read.
    pub headers_read: Vec<HeadersRead>,
    /// Per bucket: the access points of the snapshot that serve it.
    pub access_points: Vec<Vec<usize>>,
    /// Per access point: the bucket it serves, when the snapshot has it.
    pub access_point_bucket: Vec<Option<usize>>,
    /// Per bucket: its listed objects (`objects/*.json`) by key.
    listed: Vec<HashMap<String, usize>>,
    /// The principals by ARN and by name, in the estate's order: how a
    /// query's words name them (`query::resolve::subject`), without a scan
    /// of every principal per question.
    pub named: PrincipalNames,
    /// Per bucket, once asked: the Resource patterns of the estate that may
    /// match an object of it, by object ARN prefix (`None`: one has a policy
    /// variable).
    patterns: Vec<std::sync::OnceLock<Option<Vec<PrefixedPattern>>>>,
    /// Once asked: every Resource pattern of the estate, once, by literal
    /// head.
    distinct_patterns: std::sync::OnceLock<crate::glob::Heads>,
    /// Whether queries leave out requests that cannot reach
    /// (`facts::Built::may_reach`). Always on; the reference test turns it
    /// off to compare with the plain evaluation of every request.
    pub leave_out_unreachable: bool,
    /// Whether the upload checks of a scope (who may own, and how they may
    /// have encrypted, its unlisted objects) are decided in an evaluation
    /// of their own, once per engine, rather than within each query's
    /// (`facts::WantedUploads`, `query/uploads.rs`). Always on; the
    /// reference test turns it off.
    pub uploads_apart: bool,
    /// How many sts:AssumeRole requests one evaluation of the can-assume
    /// graph decides (large benchmark estate, 36,000 hops, one-shot `who
    /// can`: all in one evaluation 5.0–6.0 s; groups of 4,000 3.6 s; of
    /// 1,500 3.3–3.4 s). A test makes the groups tiny.
    pub hops_per_group: usize,
    /// How many uploaders' checks of a scope one evaluation decides
    /// (`query/uploads.rs`; up to seven checks each where a policy reads
    /// the canned-ACL header). A test makes the groups tiny.
    pub uploaders_per_group: usize,
}

/// A number per statement shape: its Action and Resource as written, and
/// whether its policy's Version reads variables — all that decides whether
/// it may meet a request (`facts::Built::statements_meeting`). One template
/// in thousands of principals' inline policies is one shape, matched once
/// per request instead of once per copy; numbered once per estate, so no
/// query hashes statements' text.
#[derive(Debug, Default)]
pub struct StatementShapes {
    /// Per policy, per statement (none where the policy could not be read).
    of: Vec<Vec<u32>>,
}

impl StatementShapes {
    fn new(estate: &Estate) -> StatementShapes {
        type Items<'e> = (&'e [String], bool);
        let mut numbers: rustc_hash::FxHashMap<(Items, Option<Items>, bool), u32> =
            Default::default();
        let of = estate
            .policies
            .iter()
            .map(|pol| {
                let Ok(body) = &pol.body else {
                    return Vec::new();
                };
                let variables = body.version.as_deref() == Some("2012-10-17");
                let statements = body.statements.iter();
                statements
                    .map(|st| {
                        let action = (st.action.items.as_slice(), st.action.negated);
                        let resource = st
                            .resource
                            .as_ref()
                            .map(|r| (r.items.as_slice(), r.negated));
                        let next = numbers.len() as u32;
                        *numbers.entry((action, resource, variables)).or_insert(next)
                    })
                    .collect()
            })
            .collect();
        StatementShapes { of }
    }

    /// The shape of statement `k` of policy `pol` (a policy that was read).
    pub fn of(&self, pol: usize, k: usize) -> u32 {
        self.of[pol][k]
    }
}

/// Principals by ARN and by name (`Index::named`).
#[derive(Debug, Default)]
pub struct PrincipalNames {
    by_arn: HashMap<String, Vec<usize>>,
    by_name: HashMap<String, Vec<usize>>,
}

impl PrincipalNames {
    fn new(estate: &Estate) -> PrincipalNames {
        let mut out = PrincipalNames::default();
        for (i, p) in estate.principals.iter().enumerate() {
            out.by_arn.entry(p.arn.clone()).or_default().push(i);
            out.by_name.entry(p.name.clone()).or_default().push(i);
        }
        out
    }

    /// The principals whose ARN is `arn`.
    pub fn with_arn(&self, arn: &str) -> &[usize] {
        self.by_arn.get(arn).map_or(&[], Vec::as_slice)
    }

    /// The principals named `name` (of every kind), in the estate's order.
    pub fn with_name(&self, name: &str) -> &[usize] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }
}

impl Index {
    /// The object of bucket `b` the snapshot lists under `key`, if any.
    pub fn listed<'e>(&self, estate: &'e Estate, b: usize, key: &str) -> Option<&'e ListedObject> {
        self.listed[b]
            .get(key)
            .map(|&i| &estate.buckets[b].objects[i])
    }

    pub fn new(estate: &Estate) -> Index {
        let subjects = all_subjects(estate);
        let access_point_bucket: Vec<Option<usize>> = estate
            .access_points
            .iter()
            .map(|ap| estate.access_point_bucket(ap))
            .collect();
        let mut access_points = vec![Vec::new(); estate.buckets.len()];
        for (ap, b) in access_point_bucket.iter().enumerate() {
            if let Some(b) = b {
                access_points[*b].push(ap);
            }
        }
        let listed = estate
            .buckets
            .iter()
            .map(|b| {
                let keys = b.objects.iter().enumerate();
                keys.map(|(i, o)| (o.key.clone(), i)).collect()
            })
            .collect();
        let mut uploader_accounts: Vec<String> = subjects
            .iter()
            .filter_map(|s| crate::facts::uploader_account(estate, s))
            .collect();
        uploader_accounts.sort();
        uploader_accounts.dedup();
        Index {
            uploader_accounts,
            listed,
            named: PrincipalNames::new(estate),
            access_points,
            access_point_bucket,
            fresh: fresh_account(estate, &subjects),
            subjects,
            trust: TrustIndex::new(estate),
            classes: Classes::new(estate),
            assume_classes: Classes::assuming(estate),
            uploader_classes: Classes::uploading(estate),
            may_put: may_allow(estate, PUT_OBJECT),
            shapes: StatementShapes::new(estate),
            headers_read: headers_read(estate),
            patterns: estate.buckets.iter().map(|_| Default::default()).collect(),
            distinct_patterns: Default::default(),
            leave_out_unreachable: true,
            uploads_apart: true,
            hops_per_group: 1_500,
            uploaders_per_group: 250,
        }
    }
}

impl Index {
    /// Every Resource/NotResource pattern of the estate once, sorted (many
    /// policies repeat the same few), and indexed by literal head.
    fn distinct_patterns(&self, estate: &Estate) -> &crate::glob::Heads {
        self.distinct_patterns.get_or_init(|| {
            let mut out = BTreeSet::new();
            for pol in &estate.policies {
                let Ok(body) = &pol.body else { continue };
                let items = body
                    .statements
                    .iter()
                    .filter_map(|st| st.resource.as_ref())
                    .flat_map(|r| r.items.iter());
                out.extend(items.cloned());
            }
            crate::glob::Heads::new(out.into_iter().collect())
        })
    }

    /// Every Resource/NotResource pattern of the estate that may match an
    /// object of the bucket, with the prefix of the object ARNs it is
    /// matched against — the bucket's (`arn:aws:s3:::bucket/`), or one of
    /// its access points' (`…:accesspoint/name/object/`), as an upload
    /// through it is — once per bucket; `None` when one of them has a
    /// policy variable (it relates to a key per caller).
    pub fn resource_patterns(&self, estate: &Estate, bucket: usize) -> Option<&[PrefixedPattern]> {
        self.patterns[bucket]
            .get_or_init(|| {
                let mut prefixes = vec![format!("arn:aws:s3:::{}/", estate.buckets[bucket].name)];
                prefixes.extend(
                    self.access_points[bucket]
                        .iter()
                        .map(|&ap| format!("{}/object/", estate.access_points[ap].arn())),
                );
                let patterns = self.distinct_patterns(estate);
                let mut out = Vec::new();
                for prefix in prefixes {
                    let objects = format!("{prefix}*");
                    // Relating 200 buckets to every pattern was a tenth of
                    // a batch of decisions; the heads leave a few each.
                    for item in patterns.may_meet(&objects) {
                        if crate::glob::relate_fields(&objects, item)
                            != crate::glob::Relation::Disjoint
                        {
                            if item.contains("${") {
                                return None;
                            }
                            out.push((prefix.clone(), item.to_string()));
                        }
                    }
                }
                Some(out)
            })
            .as_deref()
    }
}

/// Per principal: whether its identity policies (its own and its groups')
/// may allow the action at all — an Allow whose Action names it, or a
/// policy that could not be read. Without that, only a grant naming the
/// principal itself can let it act.
fn may_allow(estate: &Estate, action: &str) -> Vec<bool> {
    estate
        .principals
        .iter()
        .map(|p| {
            estate
                .identity_policies(p)
                .iter()
                .any(|&i| match &estate.policies[i].body {
                    Err(_) => true,
                    Ok(b) => b
                        .statements
                        .iter()
                        .any(|st| st.effect == Effect::Allow && st.covers_action(action)),
                })
        })
        .collect()
}

/// Per principal: the Resource patterns under which its identity policies
/// may allow sts:AssumeRole; `None` when they may allow it on any role.
fn assume_targets(estate: &Estate) -> Vec<Option<Vec<String>>> {
    estate
        .principals
        .iter()
        .map(|p| {
            let mut patterns = Vec::new();
            for &i in &estate.identity_policies(p) {
                let Ok(b) = &estate.policies[i].body else {
                    return None;
                };
                for st in b.statements.iter().filter(|st| st.effect == Effect::Allow) {
                    if !st.covers_action("sts:AssumeRole") {
                        continue;
                    }
                    match &st.resource {
                        Some(r) if !r.negated && r.items.iter().all(|i| !i.contains("${")) => {
                            patterns.extend(r.items.iter().cloned())
                        }
                        _ => return None,
                    }
                }
            }
            Some(patterns)
        })
        .collect()
}

/// Roles by what their trust policy's Principal entries name. A superset:
/// `facts::trust_may_name` decides each candidate exactly.
#[derive(Debug, Default)]
pub struct TrustIndex {
    /// Roles whose trust policy may name anyone: `"*"`, a NotPrincipal, a
    /// canonical or unique ID, or a policy that could not be read.
    anyone: Vec<usize>,
    /// By the account an entry names as a whole (`ID`, its root): within
    /// that account such a grant needs an identity Allow of sts:AssumeRole
    /// too, and across accounts every grant does (semantics.md 5.5).
    by_account: HashMap<String, Vec<usize>>,
    /// By the account of a session ARN or another non-IAM ARN an entry names.
    by_arn_other: HashMap<String, Vec<usize>>,
    /// Per principal: the roles of `by_account` for its own account that
    /// the Resource patterns of its identity Allows of sts:AssumeRole may
    /// match (`None`: any role — an unreadable policy, a NotResource, a
    /// policy variable). Principals with the same patterns share one list.
    may_assume: Vec<Option<std::sync::Arc<Vec<usize>>>>,
    /// By the exact IAM user or role ARN an entry names.
    by_arn: HashMap<String, Vec<usize>>,
    /// The roles of `by_arn` again, by the account of the ARN (an outside
    /// account stands for each of its principals).
    by_arn_account: HashMap<String, Vec<usize>>,
    by_service: HashMap<String, Vec<usize>>,
}

impl TrustIndex {
    pub fn new(estate: &Estate) -> TrustIndex {
        let mut index = TrustIndex::default();
        for (i, p) in estate.principals.iter().enumerate() {
            if p.kind != PrincipalKind::Role {
                continue;
            }
            let Some(t) = p.trust else { continue };
            let Ok(body) = &estate.policies[t].body else {
                index.anyone.push(i);
                continue;
            };
            for set in body
                .statements
                .iter()
                .filter_map(|st| st.principal.as_ref())
            {
                if set.negated {
                    index.anyone.push(i);
                    continue;
                }
                for item in &set.items {
                    index.add(i, item);
                }
            }
        }
        for v in [&mut index.anyone]
            .into_iter()
            .chain(index.by_account.values_mut())
            .chain(index.by_arn_other.values_mut())
            .chain(index.by_arn.values_mut())
            .chain(index.by_arn_account.values_mut())
            .chain(index.by_service.values_mut())
        {
            v.sort_unstable();
            v.dedup();
        }
        // Relating every principal's patterns to every role of its account
        // is principals × roles; principals that share their policies share
        // their patterns, so each distinct (account, patterns) is related once.
        let mut shared: HashMap<(&str, Vec<String>), std::sync::Arc<Vec<usize>>> = HashMap::new();
        // A pattern without a wildcard matches the one role of that ARN
        // (ARNs match case-sensitively, field by field): looked up, not
        // related to every role — 50,000 users with a role each of their
        // own made that principals × roles.
        let role_of: HashMap<&str, usize> = estate
            .principals
            .iter()
            .enumerate()
            .filter(|(_, p)| p.kind == PrincipalKind::Role)
            .map(|(i, p)| (p.arn.as_str(), i))
            .collect();
        // Each principal's ARN split into fields once (roles are what the
        // patterns are matched against).
        let role_arns: Vec<Arn> = estate.principals.iter().map(|p| Arn::new(&p.arn)).collect();
        // The roles of an account that some of its principals' patterns name.
        let related = |account: &str, patterns: &[String]| {
            let roles = index
                .by_account
                .get(account)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let (exact, globs): (Vec<&String>, Vec<&String>) =
                patterns.iter().partition(|p| !p.contains(['*', '?']));
            let globs: Vec<Arn> = globs.iter().map(|p| Arn::new(p)).collect();
            let mut found: Vec<usize> = exact
                .iter()
                .filter_map(|p| role_of.get(p.as_str()).copied())
                .filter(|r| roles.binary_search(r).is_ok())
                .collect();
            if !globs.is_empty() {
                found.extend(
                    roles
                        .iter()
                        .copied()
                        .filter(|&r| globs.iter().any(|pat| pat.matches(&role_arns[r]))),
                );
            }
            found.sort_unstable();
            found.dedup();
            std::sync::Arc::new(found)
        };
        let may_assume = assume_targets(estate)
            .into_iter()
            .zip(&estate.principals)
            .map(|(patterns, p)| {
                let mut patterns = patterns?;
                patterns.sort();
                patterns.dedup();
                let roles = shared
                    .entry((&p.account, patterns))
                    .or_insert_with_key(|(a, pats)| related(a, pats));
                Some(roles.clone())
            })
            .collect();
        index.may_assume = may_assume;
        index
    }

    fn add(&mut self, role: usize, item: &PrincipalPattern) {
        match item {
            PrincipalPattern::Account(a) => {
                self.by_account.entry(a.clone()).or_default().push(role)
            }
            PrincipalPattern::Arn(arn) => match arn_fields(arn) {
                Some(f)
                    if f[2] == "iam"
                        && (f[5].starts_with("user/") || f[5].starts_with("role/")) =>
                {
                    self.by_arn.entry(arn.clone()).or_default().push(role);
                    self.by_arn_account
                        .entry(f[4].to_string())
                        .or_default()
                        .push(role);
                }
                Some(f) => self
                    .by_arn_other
                    .entry(f[4].to_string())
                    .or_default()
                    .push(role),
                None => self.anyone.push(role),
            },
            PrincipalPattern::Service(s) => {
                self.by_service.entry(s.clone()).or_default().push(role)
            }
            PrincipalPattern::Federated(_) => {}
            PrincipalPattern::Everyone
            | PrincipalPattern::CanonicalUser(_)
            | PrincipalPattern::UniqueId(_) => self.anyone.push(role),
        }
    }

    /// The roles whose trust policy may name the subject, in index order.
    pub fn candidates(&self, estate: &Estate, subject: &Subject) -> BTreeSet<usize> {
        let get = |m: &HashMap<String, Vec<usize>>, k: &str| -> Vec<usize> {
            m.get(k).cloned().unwrap_or_default()
        };
        let mut out: BTreeSet<usize> = self.anyone.iter().copied().collect();
        match subject {
            Subject::Known(i) => {
                let p = &estate.principals[*i];
                match &self.may_assume[*i] {
                    None => out.extend(get(&self.by_account, &p.account)),
                    Some(roles) => out.extend(roles.iter().copied()),
                }
                out.extend(get(&self.by_arn_other, &p.account));
                out.extend(get(&self.by_arn, &p.arn));
            }
            Subject::Outside(a) => {
                out.extend(get(&self.by_account, a));
                out.extend(get(&self.by_arn_other, a));
                out.extend(get(&self.by_arn_account, a));
            }
            Subject::Anonymous => {}
            Subject::Service(s) => out.extend(get(&self.by_service, s)),
        }
        out
    }
}

/// Which ACL headers the policies that may speak to uploads into a bucket
/// read: none, only the canned one (`s3:x-amz-acl`, settled per value), or
/// the grant headers (not evaluated). Ordered: the grant headers outweigh
/// the canned one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum HeadersRead {
    None,
    Canned,
    Grants,
}

/// Per bucket, what its own policy and every identity, boundary, SCP and
/// RCP policy (any of which may speak to an upload into it) read of the
/// ACL headers in the conditions of statements whose Action may cover
/// s3:PutObject: a statement about any other action never decides an
/// upload, whatever it reads.
fn headers_read(estate: &Estate) -> Vec<HeadersRead> {
    let read = |i: usize| {
        let Ok(body) = &estate.policies[i].body else {
            return HeadersRead::None;
        };
        body.statements
            .iter()
            .filter(|st| st.covers_action(PUT_OBJECT))
            .flat_map(|st| &st.condition)
            .map(|c| {
                let k = c.key.to_ascii_lowercase();
                if k.starts_with("s3:x-amz-grant-") {
                    HeadersRead::Grants
                } else if k == "s3:x-amz-acl" {
                    HeadersRead::Canned
                } else {
                    HeadersRead::None
                }
            })
            .max()
            .unwrap_or(HeadersRead::None)
    };
    let everywhere = (0..estate.policies.len())
        .filter(|&i| {
            !matches!(
                estate.policies[i].kind,
                PolicyKind::Bucket | PolicyKind::Trust
            )
        })
        .map(read)
        .max()
        .unwrap_or(HeadersRead::None);
    estate
        .buckets
        .iter()
        .map(|b| b.policy.map_or(everywhere, |p| everywhere.max(read(p))))
        .collect()
}

/// Everyone `who can` considers: the estate's principals, anonymous, and each
/// outside account that some policy names.
fn all_subjects(estate: &Estate) -> Vec<Subject> {
    let mut outside = BTreeSet::new();
    for pol in &estate.policies {
        let Ok(body) = &pol.body else { continue };
        for st in &body.statements {
            for item in st.principal.iter().flat_map(|p| p.items.iter()) {
                let account = match item {
                    PrincipalPattern::Account(a) => Some(a.as_str()),
                    // A CloudFront origin access identity's ARN has
                    // `cloudfront` for an account: it is in none.
                    PrincipalPattern::Arn(arn) => arn_fields(arn)
                        .map(|f| f[4])
                        .filter(|a| crate::model::is_account_id(a)),
                    _ => None,
                };
                if let Some(a) = account.filter(|a| !estate.is_described(a)) {
                    outside.insert(a.to_string());
                }
            }
        }
    }
    // Accounts whose IAM is missing or unreadable stand in for their principals.
    outside.extend(
        estate
            .accounts
            .values()
            .filter(|a| !estate.is_described(&a.id))
            .map(|a| a.id.clone()),
    );
    let mut out: Vec<Subject> = (0..estate.principals.len()).map(Subject::Known).collect();
    out.push(Subject::Anonymous);
    out.extend(outside.into_iter().map(Subject::Outside));
    out
}

/// An account ID the snapshot does not name anywhere: "a fresh account"
/// (cli.md `no-public-access`), for questions about everyone else.
fn fresh_account(estate: &Estate, subjects: &[Subject]) -> String {
    let named: BTreeSet<String> = subjects
        .iter()
        .filter_map(|s| match s {
            Subject::Outside(a) => Some(a.clone()),
            _ => None,
        })
        .collect();
    (0u64..)
        .map(|n| format!("{n:012}"))
        .find(|id| {
            !estate.accounts.contains_key(id)
                && !named.contains(id)
                && !estate.principals.iter().any(|p| p.account == *id)
        })
        .expect("some 12-digit account ID is unused")
}
