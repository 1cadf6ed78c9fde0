//! Equivalence classes of users (issue 10): users that no statement of the
//! estate can tell apart get the same answer to every question, up to
//! their own name, so `who can` evaluates one of them and reports the
//! answer for each (`query::evaluation`).
//!
//! Two users are in one class when they are in the same account, hold the
//! same identity policies (inline, attached, through groups) among those
//! that speak to the requests asked, the same boundary, carry the same
//! tags, and every string of the estate that such a request compares with
//! the caller's own ARN, name or unique ID — Principal and NotPrincipal
//! entries, values of `aws:PrincipalArn`, `aws:username` and `aws:userid`
//! conditions — matches both or neither. A user that such a string names
//! exactly, or whose policies read `${aws:username}`-like variables in a
//! statement that speaks to those requests, is a class of its own; one such
//! variable in a bucket, trust or organization policy puts every user in a
//! class of its own. For every request (`Classes::new`), roles and root
//! users are their own class: a role is also a target of chains, where its
//! own trust policy tells it apart. Root users always are.
//!
//! A statement speaks to a request when its Action may cover it. The
//! classes for every request bucketlog makes (S3 and STS, `Classes::new`)
//! are finer than those for sts:AssumeRole alone (`Classes::assuming`),
//! which leave identity policies and boundaries out: the can-assume graph
//! tells the members of such a class apart per role, only by the identity
//! and boundary statements that may meet the hop to it
//! (`facts::Built::alike_on_hop`). So users whose policies differ in S3
//! grants, such as a home prefix under `${aws:username}`, or in which
//! other roles they may assume, take the same hop to a role.
//!
//! Uploads made before a query (who may own a scope's unlisted objects)
//! are asked of every user and role, and a role's own upload does not turn
//! on its trust policy: `Classes::uploading` puts users and roles alike but
//! for their policies into one class, and the upload checks of a scope
//! tell its members apart only by the identity and boundary statements
//! that meet the scope (`facts::Built::uploaders`).

use crate::catalog::{ASSUME_ROLE, PUT_OBJECT};
use crate::model::{arn_fields, Estate, PolicyKind, PrincipalKind, PrincipalPattern, Statement};
use std::collections::{HashMap, HashSet};

/// Condition keys whose value is the caller's ARN, name or unique ID
/// (semantics.md 6), lower-case.
const CALLER_KEYS: [&str; 3] = ["aws:principalarn", "aws:username", "aws:userid"];

/// The class of each principal, as the index of its first member.
#[derive(Debug)]
pub struct Classes {
    first: Vec<usize>,
    /// Per trust policy, for the classes of `Classes::assuming`: the
    /// strings its statements compare exactly with the caller's ARN, name
    /// or unique ID, lower-case. They tell a user apart on that role's hop
    /// alone, not on every hop.
    named_by_trust: HashMap<usize, HashSet<String>>,
}

impl Classes {
    /// The principal that stands for `p`'s class: its first member in
    /// estate order (`p` itself when it is alone).
    pub fn class_of(&self, p: usize) -> usize {
        self.first[p]
    }

    /// How many classes the principals fall into.
    pub fn count(&self) -> usize {
        self.first
            .iter()
            .enumerate()
            .filter(|(p, f)| p == *f)
            .count()
    }

    /// Every principal a class of its own: the plain evaluation that the
    /// reference test compares the classes with.
    pub fn singletons(estate: &Estate) -> Classes {
        Classes {
            first: (0..estate.principals.len()).collect(),
            named_by_trust: HashMap::new(),
        }
    }

    /// Whether role `q`'s trust policy names principal `p` exactly, or a
    /// session of role `p` (an `assumed-role` ARN, which names no own
    /// string of the role), so that `p`'s hop to `q` is not its class's
    /// (`Classes::assuming`).
    pub fn trust_names(&self, estate: &Estate, q: usize, p: usize) -> bool {
        let Some(strings) = estate.principals[q]
            .trust
            .and_then(|t| self.named_by_trust.get(&t))
        else {
            return false;
        };
        let p = &estate.principals[p];
        own_strings(p)
            .iter()
            .flatten()
            .any(|s| strings.contains(&s.to_ascii_lowercase()))
            || (p.kind == PrincipalKind::Role && {
                let own = (p.account.to_ascii_lowercase(), p.name.to_ascii_lowercase());
                strings.iter().any(|s| session_of(s).as_ref() == Some(&own))
            })
    }

    /// The classes for every request bucketlog makes.
    pub fn new(estate: &Estate) -> Classes {
        Classes::telling_apart(estate, may_speak_to_s3, Apart::default())
    }

    /// The classes of users and roles for sts:AssumeRole alone (the
    /// can-assume graph): alike but for their identity policies and
    /// boundaries, which the graph compares per role, by the statements
    /// that may meet the hop (`facts::Built::alike_on_hop`). A principal
    /// that a trust policy names exactly, or a session of which it names,
    /// stays in its class: that role's hop is decided for it alone
    /// (`trust_names`), its other hops are shared.
    pub fn assuming(estate: &Estate) -> Classes {
        let apart = Apart {
            trusts: true,
            policies_left: true,
        };
        Classes::telling_apart(estate, |st| st.covers_action(ASSUME_ROLE), apart)
    }

    /// The classes of users and roles for uploads made before a query
    /// (s3:PutObject, without any KMS request): alike but for their
    /// identity policies and boundaries, which the upload checks of each
    /// scope compare statement by statement.
    pub fn uploading(estate: &Estate) -> Classes {
        let apart = Apart {
            policies_left: true,
            ..Apart::default()
        };
        Classes::telling_apart(estate, |st| st.covers_action(PUT_OBJECT), apart)
    }

    /// The classes of users (and roles) that no statement `speaks` to can
    /// tell apart.
    fn telling_apart(
        estate: &Estate,
        speaks: impl Fn(&Statement) -> bool,
        apart: Apart,
    ) -> Classes {
        let Some(strings) = CallerStrings::of(estate, &speaks, apart.trusts) else {
            return Classes::singletons(estate);
        };
        // A policy none of whose statements speak to the requests asked
        // (an unreadable one may) cannot tell its holders apart.
        let speaking = |&i: &usize| match &estate.policies[i].body {
            Ok(body) => body.statements.iter().any(&speaks),
            Err(_) => true,
        };
        let mut first: Vec<usize> = Vec::with_capacity(estate.principals.len());
        let mut seen: HashMap<Key, usize> = HashMap::new();
        for (i, p) in estate.principals.iter().enumerate() {
            let own = own_strings(p);
            let lower = own.map(|s| s.map(str::to_ascii_lowercase));
            let named = lower.iter().flatten().any(|s| strings.exact.contains(s))
                || (p.kind == PrincipalKind::Role && strings.names_a_session_of(p));
            // Where the caller compares identity policies and boundaries
            // itself (and with them the statements that read the caller's
            // name), they are not part of the key.
            let (policies, boundary) = match apart.policies_left {
                true => (Vec::new(), None),
                false => {
                    let mut policies = estate.identity_policies(p);
                    policies.retain(speaking);
                    policies.sort_unstable();
                    policies.dedup();
                    (policies, p.boundary)
                }
            };
            let personal = policies
                .iter()
                .chain(boundary.iter())
                .any(|i| strings.personal.contains(i));
            let grouped = match p.kind {
                PrincipalKind::User => true,
                PrincipalKind::Role => apart.policies_left,
                PrincipalKind::Root => false,
            };
            if !grouped || named || personal {
                first.push(i);
                continue;
            }
            let key = Key {
                account: &p.account,
                kind: p.kind,
                service_linked: p.is_service_linked(),
                policies,
                boundary,
                tags: p
                    .tags
                    .iter()
                    .flatten()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str()))
                    .filter(|(k, _)| strings.tags.as_ref().is_none_or(|read| read.contains(k)))
                    .collect(),
                has_id: p.unique_id.is_some(),
                matches: strings
                    .wildcards
                    .iter()
                    .map(|(w, head)| {
                        let mut bits = 0u8;
                        for (n, s) in own.iter().enumerate() {
                            // Most patterns name roles: their literal head rules users out.
                            let Some(s) = s.filter(|_| {
                                lower[n]
                                    .as_deref()
                                    .is_some_and(|l| l.starts_with(head.as_str()))
                            }) else {
                                continue;
                            };
                            bits |= u8::from(crate::glob::matches(w, s, false)) << (2 * n);
                            bits |= u8::from(crate::glob::matches(w, s, true)) << (2 * n + 1);
                            if n == 0 {
                                bits |= u8::from(crate::glob::arn_matches(w, s)) << 6;
                            }
                        }
                        bits
                    })
                    .collect(),
            };
            first.push(*seen.entry(key).or_insert(i));
        }
        Classes {
            first,
            named_by_trust: strings.named_by_trust,
        }
    }
}

/// What a request compares with the caller's own ARN, name and unique ID.
fn own_strings(p: &crate::model::Principal) -> [Option<&str>; 3] {
    [
        Some(p.arn.as_str()),
        Some(p.name.as_str()),
        p.unique_id.as_deref(),
    ]
}

/// What makes classes finer or coarser than those of users by every
/// statement that speaks to the requests asked.
#[derive(Clone, Copy, Default)]
struct Apart {
    /// A trust policy's exact names tell a user apart on that role's hop
    /// alone (`Classes::trust_names`).
    trusts: bool,
    /// Identity policies and boundaries are left for the caller to
    /// compare, by the statements that may meet the one request it asks
    /// (`alike` in facts/reaching.rs), and with them the statements that read
    /// the caller's name; roles are grouped too, since that request does
    /// not turn on their own trust policies (`Classes::assuming`,
    /// `Classes::uploading`).
    policies_left: bool,
}

/// Everything that may tell two users apart.
#[derive(PartialEq, Eq, Hash)]
struct Key<'e> {
    account: &'e str,
    kind: PrincipalKind,
    /// Organization policies do not limit a service-linked role.
    service_linked: bool,
    /// Its identity policies that speak to the requests asked, sorted
    /// (none where the caller compares them itself).
    policies: Vec<usize>,
    boundary: Option<usize>,
    /// The tags some policy reads, by lower-case key.
    tags: Vec<(String, &'e str)>,
    has_id: bool,
    /// Per wildcard string of the estate: which of the ARN, name and
    /// unique ID it matches (case-sensitive and not), and ArnLike on the ARN.
    matches: Vec<u8>,
}

/// The strings of the estate that a request compares with the caller's
/// own ARN, name or unique ID.
struct CallerStrings {
    /// Without wildcards, lower-case: a user they equal is named.
    exact: HashSet<String>,
    /// Of those, the roles whose sessions they name (an `assumed-role`
    /// ARN, which names a session of the role): (account, role name),
    /// lower-case.
    sessions: HashSet<(String, String)>,
    /// Those of trust policies, when they are told apart per role
    /// (`Classes::assuming`), by policy.
    named_by_trust: HashMap<usize, HashSet<String>>,
    /// With `*` or `?`: each tells apart the users it matches; with its
    /// lower-case literal head, which every string it matches starts with.
    wildcards: Vec<(String, String)>,
    /// Identity policies and boundaries that read the caller's name, ARN
    /// or ID through a policy variable: their holders are named.
    personal: HashSet<usize>,
    /// The tag keys (lower-case) that some condition key or policy variable
    /// reads as `aws:PrincipalTag/…`; `None`: one that cannot be told, so
    /// every tag counts.
    tags: Option<HashSet<String>>,
}

impl CallerStrings {
    /// `None` when a policy that is not the caller's own reads the
    /// caller's name through a variable, or a caller key is compared with
    /// a variable: then no two users are known to be alike.
    fn of(
        estate: &Estate,
        speaks: impl Fn(&Statement) -> bool,
        trusts_apart: bool,
    ) -> Option<CallerStrings> {
        let mut out = CallerStrings {
            exact: HashSet::new(),
            sessions: HashSet::new(),
            named_by_trust: HashMap::new(),
            wildcards: Vec::new(),
            personal: HashSet::new(),
            tags: Some(HashSet::new()),
        };
        let mut wildcards = HashSet::new();
        for (index, pol) in estate.policies.iter().enumerate() {
            let Ok(body) = &pol.body else { continue };
            for st in body.statements.iter().filter(|st| speaks(st)) {
                let mut compared: Vec<&str> = Vec::new();
                for item in st.principal.iter().flat_map(|p| p.items.iter()) {
                    if let PrincipalPattern::Arn(s) | PrincipalPattern::UniqueId(s) = item {
                        compared.push(s);
                    }
                }
                for c in &st.condition {
                    if CALLER_KEYS.contains(&c.key.to_ascii_lowercase().as_str()) {
                        compared.extend(c.values.iter().map(String::as_str));
                    }
                }
                if compared.iter().any(|s| s.contains("${")) {
                    return None;
                }
                for s in compared {
                    if s.contains(['*', '?']) {
                        if wildcards.insert(s) {
                            let head =
                                s[..s.find(['*', '?']).unwrap_or(s.len())].to_ascii_lowercase();
                            out.wildcards.push((s.to_string(), head));
                        }
                    } else if trusts_apart && pol.kind == PolicyKind::Trust {
                        let named = out.named_by_trust.entry(index).or_default();
                        named.insert(s.to_ascii_lowercase());
                    } else {
                        let lower = s.to_ascii_lowercase();
                        if let Some(role) = session_of(&lower) {
                            out.sessions.insert(role);
                        }
                        out.exact.insert(lower);
                    }
                }
                for text in values(st).chain(st.condition.iter().map(|c| &c.key)) {
                    out.read_tags(text);
                }
                if reads_callers_name(st) {
                    match pol.kind {
                        PolicyKind::Identity | PolicyKind::Boundary => {
                            out.personal.insert(index);
                        }
                        _ => return None,
                    }
                }
            }
        }
        Some(out)
    }
}

impl CallerStrings {
    /// Whether one of the strings names a session of role `p`: a Principal
    /// entry matches it (`facts::principals::principal_match`), though it
    /// equals none of the role's own strings.
    fn names_a_session_of(&self, p: &crate::model::Principal) -> bool {
        let key = (p.account.to_ascii_lowercase(), p.name.to_ascii_lowercase());
        self.sessions.contains(&key)
    }

    /// Notes the principal tag keys a condition key or value reads.
    fn read_tags(&mut self, text: &str) {
        const TAG: &str = "aws:principaltag/";
        let lower = text.to_ascii_lowercase();
        let Some(read) = &mut self.tags else { return };
        for (at, _) in lower.match_indices(TAG) {
            let rest = &lower[at + TAG.len()..];
            let key: String = rest
                .chars()
                .take_while(|c| !matches!(c, '}' | ',' | ' ' | '\''))
                .collect();
            if key.is_empty() || key.contains(['$', '*', '?']) {
                self.tags = None;
                return;
            }
            read.insert(key);
        }
    }
}

/// Whether a statement's Action may cover an S3 or STS action, the only
/// requests bucketlog makes; one that cannot (IAM self-service, say) tells
/// no one apart, whatever it reads.
fn may_speak_to_s3(st: &Statement) -> bool {
    st.action.negated
        || st.action.items.iter().any(|item| {
            let service = item.split_once(':').map_or(item.as_str(), |(s, _)| s);
            ["s3", "sts"]
                .iter()
                .any(|s| crate::glob::matches(service, s, true))
        })
}

/// A statement's Resource entries and condition values.
fn values(st: &Statement) -> impl Iterator<Item = &String> {
    st.resource
        .iter()
        .flat_map(|r| r.items.iter())
        .chain(st.condition.iter().flat_map(|c| c.values.iter()))
}

/// Whether a statement has a variable whose value is the caller's ARN,
/// name or unique ID (`${aws:username}`, with or without a default) in a
/// Resource entry or condition value.
pub fn reads_callers_name(st: &Statement) -> bool {
    values(st).any(|v| reads_caller(v))
}

/// Whether a policy value has such a variable.
fn reads_caller(value: &str) -> bool {
    let squeezed: String = value
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    CALLER_KEYS
        .iter()
        .any(|k| squeezed.contains(&format!("${{{k}")))
}

/// The role (account, name) whose session an `assumed-role` ARN names, as
/// `principal_match` reads one.
fn session_of(arn: &str) -> Option<(String, String)> {
    let f = arn_fields(arn)?;
    let name = f[5].strip_prefix("assumed-role/")?.split('/').next()?;
    Some((f[4].to_string(), name.to_string()))
}
