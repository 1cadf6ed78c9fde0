//! From the estate and a query scope to the Datalog program's input facts.
//! Strings are interned to ids here; Action/NotAction are expanded against
//! the catalogue, Resource/NotResource are related to the scope, Principal
//! entries are matched against the requesting principal. This module never
//! decides allow or deny: it says what matches and how certainly (`Guard`).
//!
//! This file interns ids and builds requests with the statements that may
//! speak to them; each concern a request may bring in has its own file:
//! `conditions` (Action, Resource and Condition as a `Guard`, through the
//! solver), `principals` (Principal entries), `public` (what makes a
//! statement public), `acl` (ACLs, ownership, Block Public Access),
//! `uploads` (the states of unlisted objects and the upload checks behind
//! them), `encryption` (SSE and the KMS side requests), `object_lock`
//! (retention and legal hold), `reaching` (requests that cannot reach).

mod acl;
mod conditions;
mod encryption;
mod object_lock;
mod principals;
mod public;
mod reaching;
mod uploads;

pub use conditions::unknown_reasons;
pub use encryption::DECRYPTS;
pub use principals::trust_may_name;
pub use reaching::Alike;
pub(crate) use uploads::uploader_account;
pub use uploads::{PastKind, UploadsDecided, WantedUploads};

use acl::{acl_grants_action, acl_may_grant, grantee_match, OWNED_ONLY};
use conditions::{resource_guard, VerdictKey};
use principals::{chain_links, principal_match};
use public::{names_everyone, only_quiet_actions, pins_trust_key};
use uploads::{CaseDecided, UploadCase, ANONYMOUS_OWNER};

use crate::catalog::{Action, Target, ASSUME_ROLE, PUT_OBJECT};
use crate::datalog::*;
use crate::glob::{self, Relation};
use crate::index::{HeadersRead, Index};
use crate::model::{
    arn_fields, AclGrant, AclPermission, Bucket, ConditionEntry, Effect, Encryption, Estate,
    Grantee, IamState, Ownership, PolicyKind, PrincipalKind, PrincipalPattern, PublicAccessBlock,
    RetentionMode, Statement, MFA_DELETE_ACTIONS,
};
use crate::smt::{self, Verdict};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::Arc;

/// Who makes a request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// A user, role (its sessions) or root user of the estate.
    Known(usize),
    /// `account:ID`: any principal of an account the snapshot does not describe.
    Outside(String),
    Anonymous,
    Service(String),
}

/// What a request is made on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    /// A bucket's ARN (bucket actions).
    Bucket(usize),
    /// An object ARN pattern inside a bucket (object actions).
    Objects(usize, String),
    /// A role, for sts:AssumeRole.
    Role(usize),
    /// An object of the pattern the snapshot does not list, uploaded by an
    /// account (or `ANONYMOUS_OWNER`) that owns it, with the ACL and the
    /// encryption it chose.
    Uploaded(usize, String, String, Sse),
    /// An access point (`None`, bucket actions) or an object pattern through
    /// it: the request's authorisation at the access point — its policy,
    /// account and Block Public Access (rules/77).
    AccessPoint(usize, Option<String>),
    /// What a request through an access point asks (`Built::request`): its
    /// answer is the access point's and the bucket's together (rules/77).
    Through(usize, Option<String>),
    /// A KMS key of the estate, as S3 asks KMS to use it for an object:
    /// with the ARN the encryption context names (the object's, or the
    /// bucket's under S3 Bucket Keys) (rules/78).
    Key(usize, String),
}

/// How the uploader of an unlisted object asked S3 to encrypt it (rules/78).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sse {
    /// No encryption headers: the bucket's default encryption.
    Default,
    /// `x-amz-server-side-encryption: AES256`.
    S3Managed,
    /// `aws:kms` with this KMS key of the estate.
    Key(usize),
}

impl Resource {
    /// The ARN of the access point a request on this resource goes
    /// through, as answers name it (`None`: the bucket's own endpoint).
    pub fn route(&self, estate: &Estate) -> Option<String> {
        match self {
            Resource::Through(ap, _) => Some(estate.access_points[*ap].arn()),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum EntKey {
    Subject(Subject),
    Group(usize),
    Resource(Resource),
    /// A root, OU or account of the organization, as a place policies attach.
    OrgNode(String),
}

/// A statement id's origin.
#[derive(Clone, Copy, Debug)]
pub enum StmtOrigin {
    /// A statement of a policy, or (`None`) a whole invalid policy.
    Policy {
        policy: usize,
        statement: Option<usize>,
    },
    /// A grant of a bucket ACL, or of a listed object's ACL.
    Acl {
        bucket: usize,
        object: Option<usize>,
        grant: usize,
    },
    /// Any grant the uploader of an unlisted object may have set: to a
    /// named account, or (`public`) to AllUsers.
    UploaderAcl { bucket: usize, public: bool },
}

#[derive(Clone, Debug)]
pub struct RequestInfo {
    pub subject: Subject,
    pub action: String,
    pub resource: Resource,
    /// One way a conditional request's conditions go together: the keys
    /// it fixes (`Built::way_request`).
    pub way: Option<usize>,
    /// An upload made before the query (R75.1), or a way of one: the
    /// query's context and constraints do not bind it.
    pub past: bool,
    /// For the bucket's side of a request through an access point: that
    /// access point, whose keys the request carries.
    pub via: Option<usize>,
}

/// The context keys one way fixes, as a witness shows them (`None`: absent).
pub type WayKeys = std::collections::BTreeMap<String, Option<String>>;

/// What makes two requests the same: caller, action, resource, past or
/// present, the way, and the access point of a bucket's side.
type RequestKey = (
    Subject,
    String,
    Resource,
    bool,
    Option<usize>,
    Option<usize>,
);

/// The facts of one query plus the tables that turn ids back into names.
pub struct Built<'e> {
    pub estate: &'e Estate,
    /// Shared with the engine, so that an evaluation may outlive the query
    /// that made it (the can-assume graph, `query::assume`).
    index: Arc<Index>,
    pub facts: Facts,
    pub requests: Vec<RequestInfo>,
    pub stmts: Vec<StmtOrigin>,
    ents: HashMap<EntKey, EntId>,
    ent_keys: Vec<EntKey>,
    policy_stmts: HashMap<usize, Vec<StmtId>>,
    /// ACL grants held by a resource entity, as statements.
    acl_stmts: HashMap<EntId, Vec<(StmtId, AclGrant)>>,
    /// The uploader-chosen ACL of an unlisted object variant: (statement,
    /// public, guard); no guard yet where the upload checks settle it
    /// (`settle_uploader_acls`).
    uploader_acl: HashMap<EntId, Vec<(StmtId, bool, Option<Guard>)>>,
    /// Where a policy reads the canned-ACL header, each upload check of a
    /// shared scope.
    upload_cases: HashMap<EntId, Vec<UploadCase>>,
    /// The same, of a shared scope whose checks were decided apart.
    cases_decided: HashMap<EntId, Vec<CaseDecided>>,
    /// Upload checks left to an evaluation of their own, not yet decided.
    wanted: Vec<WantedUploads>,
    /// Whether upload checks are built into these facts, rather than left
    /// to an evaluation of their own (`wanted`).
    uploads_here: bool,
    /// Rows the sanity relations held in the evaluations of the upload
    /// checks decided apart.
    sanity_apart: usize,
    /// The uploaders whose checks are built, where they are given (a
    /// group of a scope's, `check_uploads`).
    given_uploaders: Option<Vec<Subject>>,
    /// Matches of uploader-chosen grants that wait for the upload checks:
    /// (index in `facts.matches`, request).
    unsettled_acl: Vec<(usize, ReqId)>,
    /// Scopes whose upload requests (R75.1) exist already.
    uploads_requested: std::collections::HashSet<EntId>,
    /// Scopes whose encryption upload checks (R78.5) exist already.
    sse_requested: std::collections::HashSet<EntId>,
    /// The ways a request asks for something by its headers: an upload
    /// its encryption (`encryption_ways`), a delete to bypass governance
    /// retention (`version_lock`).
    header_way: std::collections::HashSet<ReqId>,
    /// The scope each unlisted scope takes its uploads from, and its pattern.
    upload_via: HashMap<EntId, (EntId, String)>,
    /// What makes a shared scope's upload checks the same as another's
    /// (`WantedUploads::same_as`).
    same_as: HashMap<EntId, Result<Vec<Relation>, String>>,
    /// Per bucket and relation to its Resource patterns, the scope whose
    /// upload checks stand for every scope so related (`upload_scope`).
    upload_scopes: HashMap<(usize, Vec<Relation>), String>,
    req_ids: HashMap<RequestKey, ReqId>,
    /// Requests left out because they cannot reach (`left_out`), by key.
    left_out_ids: HashMap<RequestKey, ReqId>,
    /// Per resource ARN and action: the statements that may meet the
    /// request, by policy and by shape (`statements_meeting`).
    meeting: reaching::PerRequest<reaching::Meets>,
    /// Per bucket: what its ACLs may grant alone (`may_reach`).
    acl_reach: HashMap<usize, reaching::AclReach>,
    /// Building the uploads that may have written an unlisted object: they
    /// happened before the query, so its `with` context does not bind them.
    past: bool,
    /// Building a way of a conditional request: its keys and the context they fix.
    way: Option<usize>,
    /// Building the bucket's side of a request through this access point.
    via: Option<usize>,
    ways: Vec<(WayKeys, smt::keys::Fixed)>,
    no_context: smt::keys::Fixed,
    /// Context keys the query fixes (lower-case key → values; empty: absent).
    context: smt::keys::Fixed,
    verdicts: HashMap<VerdictKey, Verdict>,
    /// Conditions the requests in question meet (`prove`).
    constraints: Vec<smt::keys::Constraint>,
    /// `--closed-context`: keys the query does not fix are absent.
    closed: bool,
    /// Only grants AWS calls public count among what an uploader may set
    /// on an unlisted object (`prove no-public-access`).
    public_only: bool,
    solver_reasons: HashMap<StmtId, String>,
    accounts: HashMap<String, AcctId>,
    account_names: Vec<String>,
    actions: HashMap<String, ActId>,
}

impl<'e> Built<'e> {
    pub fn new(estate: &'e Estate, index: Arc<Index>) -> Built<'e> {
        let uploads_here = !index.uploads_apart;
        Built {
            estate,
            index,
            facts: Facts::default(),
            requests: Vec::new(),
            stmts: Vec::new(),
            ents: HashMap::default(),
            ent_keys: Vec::new(),
            policy_stmts: HashMap::default(),
            acl_stmts: HashMap::default(),
            uploader_acl: HashMap::default(),
            upload_cases: HashMap::default(),
            cases_decided: HashMap::default(),
            wanted: Vec::new(),
            uploads_here,
            sanity_apart: 0,
            given_uploaders: None,
            unsettled_acl: Vec::new(),
            uploads_requested: Default::default(),
            sse_requested: Default::default(),
            header_way: Default::default(),
            upload_via: HashMap::default(),
            same_as: HashMap::default(),
            upload_scopes: HashMap::default(),
            req_ids: HashMap::default(),
            left_out_ids: HashMap::default(),
            meeting: HashMap::default(),
            acl_reach: HashMap::default(),
            past: false,
            way: None,
            via: None,
            ways: Vec::new(),
            no_context: smt::keys::Fixed::new(),
            context: smt::keys::Fixed::new(),
            verdicts: HashMap::default(),
            constraints: Vec::new(),
            closed: false,
            public_only: false,
            solver_reasons: HashMap::default(),
            accounts: HashMap::default(),
            account_names: Vec::new(),
            actions: HashMap::default(),
        }
    }

    /// The subject an entity id stands for, when it is one.
    pub fn subject_of(&self, e: EntId) -> Option<&Subject> {
        match &self.ent_keys[e.0 as usize] {
            EntKey::Subject(s) => Some(s),
            _ => None,
        }
    }

    pub fn account_name(&self, a: AcctId) -> &str {
        &self.account_names[a.0 as usize]
    }

    /// A can-assume edge of the query's chains, with the decision the
    /// evaluation of the can-assume graph derived for it (rules/80 R80.1).
    pub fn assume_edge(&mut self, from: &Subject, role: usize, decision: Decision) {
        let p = self.entity(EntKey::Subject(from.clone()));
        let q = self.entity(EntKey::Subject(Subject::Known(role)));
        self.facts.assume_edges.push(AssumeEdge(p, q, decision));
    }

    /// A principal asked, whose chains are answers (R80.2).
    pub fn chain_head(&mut self, s: &Subject) {
        let p = self.entity(EntKey::Subject(s.clone()));
        self.facts.chain_heads.push(ChainHead(p));
    }

    pub fn subject_id(&self, s: &Subject) -> Option<EntId> {
        self.ents.get(&EntKey::Subject(s.clone())).copied()
    }

    fn account(&mut self, id: &str) -> AcctId {
        if let Some(&a) = self.accounts.get(id) {
            return a;
        }
        let a = AcctId(self.accounts.len() as u32);
        self.accounts.insert(id.to_string(), a);
        self.account_names.push(id.to_string());
        let canonical_known = self
            .estate
            .accounts
            .get(id)
            .is_some_and(|x| x.canonical_id.is_some());
        if !canonical_known && !id.starts_with("canonical:") {
            self.facts.canonical_unknown.push(CanonicalUnknown(a));
        }
        if let Some(path) = member_path(self.estate, id) {
            self.facts.org_members.push(OrgMember(a));
            for node in path {
                let level = self.entity(EntKey::OrgNode(node));
                self.facts.account_levels.push(AccountLevel(a, level));
            }
        }
        a
    }

    /// SCPs (of the caller's account) or RCPs (of the resource's account)
    /// attached along the account's path in the organization.
    fn org_policies(&self, account: &str, kind: PolicyKind) -> Vec<usize> {
        let estate = self.estate;
        let (Some(org), Some(path)) = (&estate.organization, member_path(estate, account)) else {
            return Vec::new();
        };
        org.policies
            .iter()
            .filter(|p| {
                estate.policies[p.policy].kind == kind && p.targets.iter().any(|t| path.contains(t))
            })
            .map(|p| p.policy)
            .collect()
    }

    fn action(&mut self, name: &str) -> ActId {
        let n = self.actions.len() as u32;
        let id = *self.actions.entry(name.to_string()).or_insert(ActId(n));
        if id.0 == n {
            if name.starts_with("kms:") {
                self.facts.kms_actions.push(IsKmsAction(id));
            }
            match name {
                ASSUME_ROLE => self.facts.assume_role.push(IsAssumeRole(id)),
                "s3:GetBucketPolicy" | "s3:PutBucketPolicy" | "s3:DeleteBucketPolicy" => self
                    .facts
                    .bucket_policy_actions
                    .push(IsBucketPolicyAction(id)),
                // semantics.md §1 "Grantor": these act on the bucket's namespace or an upload.
                "s3:DeleteObject" | "s3:DeleteObjectVersion" => {
                    self.facts.delete_actions.push(IsDeleteObject(id));
                    self.facts.grantor_is_owner.push(GrantorIsBucketOwner(id))
                }
                "s3:PutObject" | "s3:AbortMultipartUpload" | "s3:ListMultipartUploadParts" => {
                    self.facts.grantor_is_owner.push(GrantorIsBucketOwner(id))
                }
                _ => {}
            }
            if MFA_DELETE_ACTIONS.contains(&name) {
                self.facts.mfa_delete_actions.push(IsMfaDeleteAction(id));
            }
            if name == "s3:DeleteObjectVersion" {
                self.facts.delete_version_actions.push(IsDeleteVersion(id));
            }
            if name == "s3:PutLifecycleConfiguration" {
                self.facts.lifecycle_actions.push(IsLifecycleAction(id));
            }
        }
        id
    }

    fn entity(&mut self, key: EntKey) -> EntId {
        // A role is one entity both as a principal (its sessions) and as the
        // resource of sts:AssumeRole, so that chains compose.
        let key = match key {
            EntKey::Resource(Resource::Role(i)) => EntKey::Subject(Subject::Known(i)),
            k => k,
        };
        if let Some(&id) = self.ents.get(&key) {
            return id;
        }
        let id = EntId(self.ent_keys.len() as u32);
        self.ents.insert(key.clone(), id);
        self.ent_keys.push(key.clone());
        match key {
            EntKey::Subject(s) => self.describe_subject(id, &s),
            EntKey::Group(g) => {
                let pols = self.estate.groups[g].policies.clone();
                self.hold(id, &pols);
            }
            EntKey::Resource(r) => self.describe_resource(id, &r),
            EntKey::OrgNode(node) => {
                let estate = self.estate;
                let attached: Vec<usize> = estate
                    .organization
                    .iter()
                    .flat_map(|o| o.policies.iter())
                    .filter(|p| p.targets.contains(&node))
                    .map(|p| p.policy)
                    .collect();
                self.hold(id, &attached);
            }
        }
        id
    }

    fn describe_subject(&mut self, id: EntId, s: &Subject) {
        let estate = self.estate;
        let (kind, account) = match s {
            Subject::Known(i) => {
                let p = &estate.principals[*i];
                let kind = match p.kind {
                    PrincipalKind::User => PKind::User,
                    PrincipalKind::Role => PKind::Role,
                    PrincipalKind::Root => PKind::Root,
                };
                self.hold(id, &p.policies);
                for g in &p.groups {
                    if let Some(gi) = estate
                        .groups
                        .iter()
                        .position(|x| x.account == p.account && x.name == *g)
                    {
                        let ge = self.entity(EntKey::Group(gi));
                        self.facts.member_of.push(MemberOf(id, ge));
                    }
                }
                if let Some(b) = p.boundary {
                    self.facts.boundaries.push(HasBoundary(id));
                    self.hold(id, &[b]);
                }
                if p.kind == PrincipalKind::Role {
                    self.describe_resource(id, &Resource::Role(*i));
                    if p.is_service_linked() {
                        self.facts.service_linked.push(IsServiceLinkedRole(id));
                    }
                }
                (kind, Some(p.account.clone()))
            }
            Subject::Outside(a) => {
                let unreadable = estate
                    .accounts
                    .get(a)
                    .is_some_and(|x| matches!(x.iam, IamState::Unreadable(_)));
                if unreadable {
                    self.facts
                        .principal_open
                        .push(PrincipalOpen(id, Open::IamUnreadable));
                }
                (PKind::OutsideAccount, Some(a.clone()))
            }
            Subject::Anonymous => (PKind::Anonymous, None),
            Subject::Service(_) => (PKind::Service, None),
        };
        self.facts.kinds.push(PrincipalKindOf(id, kind));
        for &link in chain_links(estate, s) {
            self.facts.chain_links.push(ChainLink(id, link));
        }
        if let Some(a) = &account {
            let a = self.account(a);
            self.facts.principal_accounts.push(PrincipalAccount(id, a));
        }
        if let Some(u) = uploader_account(estate, s) {
            let u = self.account(&u);
            self.facts.uploader_account.push(UploaderAccount(id, u));
        }
    }

    fn describe_resource(&mut self, id: EntId, r: &Resource) {
        let estate = self.estate;
        match r {
            Resource::Bucket(b) | Resource::Objects(b, _) | Resource::Uploaded(b, _, _, _) => {
                let bucket = &estate.buckets[*b];
                let a = self.owned_by(id, &bucket.account, Layer::BucketPolicy, bucket.policy);
                if let Some(p) = bucket.mfa_delete {
                    self.hold(id, &[p]);
                }
                if let Some(p) = self.retention_ceiling(r) {
                    self.hold(id, &[p]);
                }
                if bucket.versioning.is_err() {
                    self.facts
                        .versioning_unreadable
                        .push(VersioningUnreadable(id));
                }
                if bucket.may_lock_versions() {
                    self.facts.object_lock_may.push(ObjectLockMay(id));
                }
                self.acl_facts(id, *b, r);
                if self.bpa_unsettled(*b) {
                    self.facts
                        .resource_open
                        .push(ResourceOpen(id, Open::Unreadable));
                }
                if self.bpa_in_force(*b, |c| c.block_public_acls) {
                    self.facts.blocks_public_acls.push(BlocksPublicAcls(id));
                }
                if matches!(bucket.ownership, Ok(Ownership::BucketOwnerEnforced)) {
                    self.facts.acls_disabled.push(AclsDisabled(id));
                }
                if self.bpa_in_force(*b, |c| c.ignore_public_acls) {
                    self.facts.ignore_public_acls.push(IgnorePublicAcls(id));
                }
                let restrict = self.bpa(*b, |c| c.restrict_public_buckets);
                if restrict.0 {
                    self.facts
                        .bucket_restrict_public
                        .push(BucketRestrictPublic(id));
                }
                if restrict.1 {
                    self.facts
                        .account_restrict_public
                        .push(AccountRestrictPublic(a));
                }
            }
            Resource::Role(i) => {
                let role = &estate.principals[*i];
                self.owned_by(id, &role.account, Layer::Trust, role.trust);
            }
            Resource::Key(k, _) => {
                let key = &estate.kms_keys[*k];
                self.owned_by(id, &key.account, Layer::KeyPolicy, key.policy);
                if key.policy.is_none() {
                    self.facts
                        .resource_open
                        .push(ResourceOpen(id, Open::KeyPolicyMissing));
                }
                if key.grants {
                    self.facts
                        .resource_open
                        .push(ResourceOpen(id, Open::KeyGrants));
                }
            }
            // The access point's side: its policy, account and its own Block
            // Public Access, with its account's (S3 User Guide, "Configuring
            // block public access settings for your access points").
            Resource::AccessPoint(ap, _) | Resource::Through(ap, _) => {
                let ap = &estate.access_points[*ap];
                let a = self.owned_by(id, &ap.account, Layer::AccessPointPolicy, ap.policy);
                if ap.public_access_block.restrict_public_buckets {
                    self.facts
                        .bucket_restrict_public
                        .push(BucketRestrictPublic(id));
                }
                match self.account_bpa(&ap.account) {
                    Some(Ok(c)) if c.restrict_public_buckets => {
                        self.facts
                            .account_restrict_public
                            .push(AccountRestrictPublic(a));
                    }
                    Some(Err(_)) => {
                        self.facts
                            .resource_open
                            .push(ResourceOpen(id, Open::Unreadable));
                    }
                    _ => {}
                }
            }
        }
    }

    /// A resource's account and its own policy (bucket, trust or access
    /// point policy), in the layer the rules read it in.
    fn owned_by(
        &mut self,
        id: EntId,
        account: &str,
        layer: Layer,
        policy: Option<usize>,
    ) -> AcctId {
        let a = self.account(account);
        self.facts.resource_accounts.push(ResourceAccount(id, a));
        self.facts
            .resource_layers
            .push(ResourcePolicyLayer(id, layer));
        if let Some(p) = policy {
            self.hold(id, &[p]);
        }
        a
    }

    /// Statement ids of a policy, created on first use.
    fn policy_statements(&mut self, policy: usize) -> Vec<StmtId> {
        if let Some(ids) = self.policy_stmts.get(&policy) {
            return ids.clone();
        }
        let pol = &self.estate.policies[policy];
        let layer = layer_of(pol.kind);
        let mut ids = Vec::new();
        match &pol.body {
            Ok(body) => {
                for (i, st) in body.statements.iter().enumerate() {
                    let id = StmtId(self.stmts.len() as u32);
                    self.stmts.push(StmtOrigin::Policy {
                        policy,
                        statement: Some(i),
                    });
                    self.facts.stmts.push(StmtFacts(id, layer, st.effect));
                    if matches!(layer, Layer::BucketPolicy | Layer::AccessPointPolicy)
                        && st.effect == Effect::Allow
                        && names_everyone(st)
                    {
                        self.facts.names_everyone.push(StmtNamesEveryone(id));
                        if st.condition.iter().any(pins_trust_key) {
                            self.facts.pins_trust_key.push(StmtPinsTrustKey(id));
                        }
                        if only_quiet_actions(st) {
                            self.facts.only_quiet_actions.push(StmtOnlyQuietActions(id));
                        }
                    }
                    let negated_everyone = st.principal.as_ref().is_some_and(|p| {
                        p.negated && p.items.contains(&PrincipalPattern::Everyone)
                    });
                    if negated_everyone {
                        self.facts
                            .not_principal_everyone
                            .push(NotPrincipalEveryone(id));
                    }
                    ids.push(id);
                }
            }
            Err(_) => {
                let id = StmtId(self.stmts.len() as u32);
                self.stmts.push(StmtOrigin::Policy {
                    policy,
                    statement: None,
                });
                self.facts.stmts.push(StmtFacts(id, layer, Effect::Allow));
                self.facts.stmts.push(StmtFacts(id, layer, Effect::Deny));
                ids.push(id);
            }
        }
        self.policy_stmts.insert(policy, ids.clone());
        ids
    }

    fn hold(&mut self, e: EntId, policies: &[usize]) {
        for &p in policies {
            for s in self.policy_statements(p) {
                self.facts.holds.push(Holds(e, s));
            }
        }
    }

    /// Fixes a context key for every request built after (cli.md `with`);
    /// no values means the key is absent.
    pub fn fix(&mut self, key: &str, values: Vec<String>) {
        self.context.insert(key.to_ascii_lowercase(), values);
    }

    /// Makes every key the query does not fix absent (`--closed-context`).
    pub fn close_context(&mut self) {
        self.closed = true;
    }

    /// Leaves out the grant an uploader may give one named account on an
    /// unlisted object: a grant to a named account is not public (cli.md,
    /// "public"), so it is no counterexample to `no-public-access`.
    pub fn public_grants_only(&mut self) {
        self.public_only = true;
    }

    /// Narrows every request built after to those meeting (or breaking) a condition.
    pub fn constrain(&mut self, c: smt::keys::Constraint) {
        self.constraints.push(c);
    }

    /// The context keys fixed for the requests being built: the way's, the
    /// query's, or none for past uploads.
    fn fixed(&self) -> &smt::keys::Fixed {
        match (self.way, self.past) {
            (Some(w), _) => &self.ways[w].1,
            (None, true) => &self.no_context,
            (None, false) => &self.context,
        }
    }

    /// The same request under one way its conditions go together: the
    /// witness's keys fixed on top of what the request already fixed. The
    /// new request is a variant of `r` (rules/75 quantify over them).
    pub fn way_request(&mut self, r: ReqId, keys: WayKeys) -> ReqId {
        let info = self.requests[r.0 as usize].clone();
        let action = crate::catalog::Catalog::get()
            .find(&info.action)
            .expect("requests name catalogue actions");
        let outer = (self.past, self.via, self.way);
        (self.past, self.via, self.way) = (info.past, info.via, info.way);
        let v = self.way_variant(r, (&info.subject, action, info.resource), keys);
        (self.past, self.via, self.way) = outer;
        v
    }

    /// A way of request `r` with `keys` fixed (`pinned_request`), as a
    /// variant of it.
    fn way_variant(
        &mut self,
        r: ReqId,
        (subject, action, resource): (&Subject, &Action, Resource),
        keys: WayKeys,
    ) -> ReqId {
        let v = self.pinned_request(subject, action, resource, keys);
        self.facts.variant_of.push(VariantOf(v, r));
        self.facts.way_variants.push(WayVariant(v));
        v
    }

    /// A way of request `r` that asks for something by its headers
    /// (`header_way`: its conditions get ways of their own).
    fn header_way_variant(
        &mut self,
        r: ReqId,
        (subject, action, resource): (&Subject, &Action, &Resource),
        keys: WayKeys,
    ) {
        let v = self.way_variant(r, (subject, action, resource.clone()), keys);
        self.header_way.insert(v);
    }

    /// A request with `keys` fixed on top of what requests of its kind
    /// (past or present) fix — or, when one is being built, its way's.
    fn pinned_request(
        &mut self,
        subject: &Subject,
        action: &Action,
        resource: Resource,
        keys: WayKeys,
    ) -> ReqId {
        let (mut all, mut fixed) = match self.way {
            Some(w) => self.ways[w].clone(),
            None => (WayKeys::new(), self.fixed().clone()),
        };
        for (k, v) in keys {
            fixed.insert(k.to_ascii_lowercase(), v.iter().cloned().collect());
            all.insert(k, v);
        }
        self.ways.push((all, fixed));
        let outer = self.way.replace(self.ways.len() - 1);
        let r = self.request(subject, action, resource);
        self.way = outer;
        r
    }

    /// The object of bucket `b` the snapshot lists under `key`, if any.
    pub fn listed(&self, b: usize, key: &str) -> Option<&'e crate::model::ListedObject> {
        self.index.listed(self.estate, b, key)
    }

    /// Whether a request is a way a request asks for something by its
    /// headers (`header_way`): its conditions get ways of their own.
    pub fn is_header_way(&self, r: ReqId) -> bool {
        self.header_way.contains(&r)
    }

    /// The keys a way request fixes, for its witness.
    pub fn way_keys(&self, r: ReqId) -> Option<&WayKeys> {
        self.requests[r.0 as usize].way.map(|w| &self.ways[w].0)
    }

    /// What makes the request being built the same as another.
    fn request_key(&self, subject: &Subject, action: &Action, resource: &Resource) -> RequestKey {
        (
            subject.clone(),
            action.name.clone(),
            resource.clone(),
            self.past,
            self.way,
            self.via,
        )
    }

    /// Requests are interned: asking twice for the same one gives the same id.
    pub fn request(&mut self, subject: &Subject, action: &Action, resource: Resource) -> ReqId {
        let key = self.request_key(subject, action, &resource);
        if let Some(&r) = self.req_ids.get(&key) {
            return r;
        }
        if let Resource::Through(ap, pattern) = &resource {
            let r = self.through_access_point(subject, action, *ap, pattern.clone());
            self.req_ids.insert(key, r);
            return r;
        }
        let r = self.new_request(subject, action, resource.clone());
        self.req_ids.insert(key, r);
        self.key_side(r, subject, action, &resource);
        self.encryption_ways(r, subject, action, &resource);
        self.version_lock(r, subject, action, &resource);
        if let Resource::Objects(b, pattern) = &resource {
            let x = self.ents[&EntKey::Resource(resource.clone())];
            let free = self.facts.free_owner.contains(&FreeOwner(x));
            let varies = match free {
                true => !self.grantor_is_bucket_owner(&action.name),
                false => self.encryption_varies(*b, pattern, action),
            };
            if varies {
                self.scope_variants((r, subject, action), *b, pattern, (x, free));
            }
        }
        r
    }

    /// A new request's id and what it names, under the way and past or
    /// present being built.
    fn record(
        &mut self,
        subject: &Subject,
        action: &Action,
        resource: Resource,
        via: Option<usize>,
    ) -> ReqId {
        let r = ReqId(self.requests.len() as u32);
        self.requests.push(RequestInfo {
            subject: subject.clone(),
            action: action.name.clone(),
            resource,
            way: self.way,
            past: self.past,
            via,
        });
        r
    }

    /// A request through an access point (rules/77): its authorisation at
    /// the access point and, carrying the access point's keys, at the
    /// bucket — each a request of its own — and the request asked, which
    /// no rule decides but by them both (so it is not a `Request` fact).
    fn through_access_point(
        &mut self,
        subject: &Subject,
        action: &Action,
        ap: usize,
        pattern: Option<String>,
    ) -> ReqId {
        let b = self.index.access_point_bucket[ap]
            .expect("requests go only through access points whose bucket the snapshot has");
        let at_ap = self.request(subject, action, Resource::AccessPoint(ap, pattern.clone()));
        let outer = self.via.replace(ap);
        let on_bucket = match &pattern {
            Some(k) => Resource::Objects(b, k.clone()),
            None => Resource::Bucket(b),
        };
        let at_bucket = self.request(subject, action, on_bucket);
        self.via = outer;
        let r = self.record(subject, action, Resource::Through(ap, pattern), None);
        self.facts
            .through_access_point
            .push(ThroughAccessPoint(r, at_ap, at_bucket));
        r
    }

    /// The account that owns a resource: the bucket's, the role's, the
    /// access point's, the key's.
    fn resource_account(&self, resource: &Resource) -> &'e str {
        let estate = self.estate;
        match resource {
            Resource::Bucket(b) | Resource::Objects(b, _) | Resource::Uploaded(b, ..) => {
                &estate.buckets[*b].account
            }
            Resource::Role(i) => &estate.principals[*i].account,
            Resource::AccessPoint(ap, _) | Resource::Through(ap, _) => {
                &estate.access_points[*ap].account
            }
            Resource::Key(k, _) => &estate.kms_keys[*k].account,
        }
    }

    fn grantor_is_bucket_owner(&mut self, action: &str) -> bool {
        let a = self.action(action);
        self.facts
            .grantor_is_owner
            .contains(&GrantorIsBucketOwner(a))
    }

    /// Adds one request with the match facts of every statement that could
    /// speak to it.
    fn new_request(&mut self, subject: &Subject, action: &Action, resource: Resource) -> ReqId {
        let p = self.entity(EntKey::Subject(subject.clone()));
        let x = self.entity(EntKey::Resource(resource.clone()));
        let a = self.action(&action.name);
        let r = self.record(subject, action, resource.clone(), self.via);
        self.facts.requests.push(Request(r, p, x, a));
        // Every PUT that may carry an ACL header (the catalogue lists s3:x-amz-acl for it).
        if (!self.past || self.way.is_some())
            && action.condition_keys.iter().any(|k| k == "s3:x-amz-acl")
        {
            if let Some(h) = self.acl_header() {
                self.facts.puts_acl.push(PutsAcl(r, h));
            }
        }
        let arn = self.resource_arn(&resource);
        let estate = self.estate;
        let mut candidates: Vec<usize> = match subject {
            Subject::Known(i) => {
                let pr = &estate.principals[*i];
                let mut v = estate.identity_policies(pr);
                v.extend(pr.boundary);
                v
            }
            _ => Vec::new(),
        };
        let resource_policy = match &resource {
            Resource::Bucket(b) | Resource::Objects(b, _) | Resource::Uploaded(b, ..) => {
                estate.buckets[*b].policy
            }
            Resource::Role(i) => estate.principals[*i].trust,
            Resource::AccessPoint(ap, _) | Resource::Through(ap, _) => {
                estate.access_points[*ap].policy
            }
            Resource::Key(k, _) => estate.kms_keys[*k].policy,
        };
        candidates.extend(resource_policy);
        // MFA Delete's ceiling: its Action element names what it guards.
        if let Resource::Bucket(b) | Resource::Objects(b, _) | Resource::Uploaded(b, ..) = &resource
        {
            candidates.extend(estate.buckets[*b].mfa_delete);
        }
        // A listed version's retention ceiling (rules/46), on its object.
        candidates.extend(self.retention_ceiling(&resource));
        if let Subject::Known(i) = subject {
            candidates.extend(self.org_policies(&estate.principals[*i].account, PolicyKind::Scp));
        }
        let owner = self.resource_account(&resource);
        candidates.extend(self.org_policies(owner, PolicyKind::Rcp));
        for pol in candidates {
            let ids = self.policy_statements(pol);
            let body = estate.policies[pol].body.as_ref();
            for (k, s) in ids.into_iter().enumerate() {
                match body {
                    Err(_) => {
                        self.facts.matches.push(Matches(r, s, Guard::Unknown));
                        // An unreadable resource policy may name anyone,
                        // `"*"` included: the widest class, so that no
                        // caller's answer (anonymous too) is decided without it.
                        if Some(pol) == resource_policy {
                            self.facts.principal_matches.push(PrincipalMatch(
                                r,
                                s,
                                Class::Public,
                                Guard::Unknown,
                            ));
                        }
                    }
                    Ok(b) => {
                        let st = &b.statements[k];
                        let is_trust = estate.policies[pol].kind == PolicyKind::Trust;
                        let Some(g) = self.element_guard(
                            (pol, k, s),
                            b.version.as_deref(),
                            (subject, &action.name, &resource),
                            &arn,
                            is_trust,
                        ) else {
                            continue;
                        };
                        self.facts.matches.push(Matches(r, s, g));
                        if Some(pol) == resource_policy {
                            self.principal_facts(r, s, st, subject);
                        }
                    }
                }
            }
        }
        let grants = self.acl_stmts.get(&x).cloned().unwrap_or_default();
        for (s, grant) in grants {
            let object_acl = matches!(
                self.stmts[s.0 as usize],
                StmtOrigin::Acl {
                    object: Some(_),
                    ..
                }
            );
            // Bucket WRITE's overwrites and deletes: for the objects the grantee owns (R40.2b).
            let owned_only = !object_acl
                && grant.permission.writes()
                && OWNED_ONLY.contains(&action.name.as_str());
            if !owned_only && !acl_grants_action(grant.permission, object_acl, &action.name) {
                continue;
            }
            if owned_only {
                self.facts.owned_only.push(OwnedOnly(r, s));
            }
            if let Some((class, guard)) = grantee_match(estate, &grant.grantee, subject) {
                self.facts.matches.push(Matches(r, s, Guard::Definite));
                self.facts
                    .principal_matches
                    .push(PrincipalMatch(r, s, class, guard));
            }
        }
        let chosen = self.uploader_acl.get(&x).cloned().unwrap_or_default();
        for (s, public, guard) in chosen {
            if !acl_grants_action(AclPermission::FullControl, true, &action.name) {
                continue;
            }
            // A grant to AllUsers reaches everyone; one to the caller's
            // account means something only when that account does not own
            // the object (the owner's own grant adds nothing, semantics.md 5.1).
            let owner = match &resource {
                Resource::Uploaded(_, _, o, _) => Some(o.as_str()),
                _ => None,
            };
            let account = match subject {
                Subject::Known(i) => Some(estate.principals[*i].account.as_str()),
                Subject::Outside(a) => Some(a.as_str()),
                _ => None,
            };
            let class = match (public, account) {
                (true, _) => Class::Public,
                (false, Some(a)) if Some(a) != owner => Class::Account,
                (false, _) => continue,
            };
            if guard.is_none() {
                self.unsettled_acl.push((self.facts.matches.len(), r));
            }
            self.facts
                .matches
                .push(Matches(r, s, guard.unwrap_or(Guard::Unknown)));
            self.facts
                .principal_matches
                .push(PrincipalMatch(r, s, class, Guard::Definite));
        }
        r
    }

    pub fn resource_arn(&self, r: &Resource) -> String {
        match r {
            Resource::Bucket(b) => format!("arn:aws:s3:::{}", self.estate.buckets[*b].name),
            Resource::Objects(b, key) => {
                format!("arn:aws:s3:::{}/{key}", self.estate.buckets[*b].name)
            }
            Resource::Uploaded(b, key, ..) => {
                format!("arn:aws:s3:::{}/{key}", self.estate.buckets[*b].name)
            }
            Resource::Role(i) => self.estate.principals[*i].arn.clone(),
            Resource::Key(k, _) => self.estate.kms_keys[*k].arn.clone(),
            Resource::AccessPoint(ap, key) | Resource::Through(ap, key) => {
                let arn = self.estate.access_points[*ap].arn();
                match key {
                    Some(k) => format!("{arn}/object/{k}"),
                    None => arn,
                }
            }
        }
    }
}

/// The layer a policy's statements sit in.
pub fn layer_of(kind: PolicyKind) -> Layer {
    match kind {
        PolicyKind::Identity => Layer::Identity,
        PolicyKind::Boundary => Layer::Boundary,
        PolicyKind::Bucket => Layer::BucketPolicy,
        PolicyKind::Trust => Layer::Trust,
        PolicyKind::Scp => Layer::Scp,
        PolicyKind::Rcp => Layer::Rcp,
        PolicyKind::AccessPoint => Layer::AccessPointPolicy,
        PolicyKind::Key => Layer::KeyPolicy,
        PolicyKind::MfaDelete => Layer::MfaDelete,
        PolicyKind::ObjectLock => Layer::ObjectLock,
    }
}

/// The path (root, OUs, account) of a member account of the organization —
/// not its management account — or `None` when SCPs and RCPs do not apply to it.
fn member_path(estate: &Estate, account: &str) -> Option<Vec<String>> {
    let org = estate.organization.as_ref()?;
    if org.management_account.as_deref() == Some(account) {
        return None;
    }
    let path = org.path(account);
    let member = org.accounts.iter().any(|a| a == account) || !path.is_empty();
    member.then_some(path)
}

/// The S3 request for an action on a bucket scope: the bucket ARN for bucket
/// actions, the object pattern for object actions.
pub fn s3_resource(bucket: usize, key: &str, action: &Action) -> Option<Resource> {
    match action.target {
        Target::Bucket => Some(Resource::Bucket(bucket)),
        Target::Object => Some(Resource::Objects(bucket, key.to_string())),
        Target::Other => None,
    }
}

/// The same through an access point, for the actions a request may make
/// through one.
pub fn through_resource(ap: usize, key: &str, action: &Action) -> Option<Resource> {
    if !action.through_access_point {
        return None;
    }
    match action.target {
        Target::Bucket => Some(Resource::Through(ap, None)),
        Target::Object => Some(Resource::Through(ap, Some(key.to_string()))),
        Target::Other => None,
    }
}
