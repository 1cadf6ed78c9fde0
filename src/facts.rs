//! From the estate and a query scope to the Datalog program's input facts.
//! Strings are interned to ids here; Action/NotAction are expanded against
//! the catalogue, Resource/NotResource are related to the scope, Principal
//! entries are matched against the requesting principal. This module never
//! decides allow or deny: it says what matches and how certainly (`Guard`).

use crate::catalog::{Action, Target, ASSUME_ROLE};
use crate::datalog::*;
use crate::glob::{self, Relation};
use crate::index::{HeadersRead, Index};
use crate::model::{
    arn_fields, AclGrant, AclPermission, Bucket, ConditionEntry, Effect, Encryption, Estate,
    Grantee, IamState, Ownership, PolicyKind, PrincipalKind, PrincipalPattern, PublicAccessBlock,
    RetentionMode, Statement, MFA_DELETE_ACTIONS,
};
use crate::smt::{self, Verdict};
use std::collections::{HashMap, HashSet};
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

impl Sse {
    /// The id the rules know a chosen encryption by (`SseId`).
    fn id(self) -> Option<SseId> {
        match self {
            Sse::Default => None,
            Sse::S3Managed => Some(SseId(0)),
            Sse::Key(k) => Some(SseId(k as u32 + 1)),
        }
    }
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

/// The owner of an unsigned upload (S3 User Guide, "Overview of managing
/// access": the anonymous canonical ID 65a011a29cdf8ec533ec3d1ccaae921c).
pub const ANONYMOUS_OWNER: &str = "anonymous";

/// The account that owns what a subject uploads (semantics.md 5.2: the
/// writer; an unsigned upload the anonymous user); services upload nothing.
pub(crate) fn uploader_account(estate: &Estate, s: &Subject) -> Option<String> {
    match s {
        Subject::Known(i) => Some(estate.principals[*i].account.clone()),
        Subject::Outside(a) => Some(a.clone()),
        Subject::Anonymous => Some(ANONYMOUS_OWNER.to_string()),
        Subject::Service(_) => None,
    }
}

/// The canned ACLs a PUT may send in `s3:x-amz-acl` (S3 User Guide,
/// "Access control list (ACL) overview", Canned ACL).
const CANNED_ACLS: [&str; 8] = [
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    BUCKET_OWNER_FULL_CONTROL,
    "log-delivery-write",
];
const BUCKET_OWNER_FULL_CONTROL: &str = "bucket-owner-full-control";

/// One upload check of a bucket whose policies read the canned-ACL header.
struct UploadCase {
    check: ReqId,
    /// The `s3:x-amz-acl` it sends; none: absent.
    canned: Option<&'static str>,
    /// The account that writes (and, but for bucket-owner-full-control, owns) the upload.
    writer: String,
}

/// An upload check of a bucket whose policies read the canned-ACL header,
/// decided: what `settle_uploader_acls` reads of it.
#[derive(Clone, Debug)]
pub struct CaseDecided {
    canned: Option<&'static str>,
    writer: String,
    decision: Decision,
}

/// Which upload checks of a scope an evaluation needs: those that say who
/// may own its unlisted objects (R75.1), or those that say how they may be
/// encrypted (R78.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PastKind {
    Owners,
    Encryptions,
}

/// Upload checks a query's facts need, left to an evaluation of their own
/// (`query/uploads.rs`): they happened before the query, so no context of
/// it binds them, and every query on scopes that share them shares their
/// decisions (`Index::uploads_apart`).
#[derive(Clone, Debug)]
pub struct WantedUploads {
    pub kind: PastKind,
    pub bucket: usize,
    /// The scope whose checks they are, as the query's facts know it.
    scope: EntId,
    /// Its pattern under the bucket.
    pub pattern: String,
    /// What makes two scopes' checks the same (`upload_scope`): their
    /// relations to every Resource pattern able to speak to the bucket, or,
    /// where a pattern has a policy variable, the pattern itself.
    pub same_as: Result<Vec<Relation>, String>,
    /// Only public grants count (`public_grants_only`).
    pub public_only: bool,
}

/// What a scope's upload checks decided, in names that outlive their
/// evaluation: the past uploads (account, headers, decision) and
/// encryptions (rules/75 PastUpload, rules/78 PastEncryption), the
/// canned-ACL cases, and how many rows the sanity relations held.
#[derive(Debug, Default)]
pub struct UploadsDecided {
    uploads: Vec<(String, UploadAcl, Decision)>,
    encryptions: Vec<(SseId, Decision)>,
    cases: Vec<CaseDecided>,
    sanity_violations: usize,
}

impl UploadsDecided {
    /// What the checks of a scope decided in groups decided together: the
    /// past uploads are a union over the checks.
    pub fn joined(parts: impl IntoIterator<Item = UploadsDecided>) -> UploadsDecided {
        let mut all = UploadsDecided::default();
        for p in parts {
            all.uploads.extend(p.uploads);
            all.encryptions.extend(p.encryptions);
            all.cases.extend(p.cases);
            all.sanity_violations += p.sanity_violations;
        }
        all.uploads.sort();
        all.uploads.dedup();
        all.encryptions.sort();
        all.encryptions.dedup();
        all
    }
}

/// Whether an object of `owner` may carry an uploader's grant (`public`:
/// to AllUsers; else to the caller's account), given the uploads that may
/// have happened (`settle_uploader_acls`): possibly (conditional), only
/// through something unknown, or not at all (none).
fn possible_grant(
    bucket: &Bucket,
    happened: &[&CaseDecided],
    &(_, owner, public, ref caller, anonymous): &(EntId, &str, bool, Option<String>, bool),
) -> Option<Guard> {
    let ra = bucket.account.as_str();
    let preferred = matches!(bucket.ownership, Ok(Ownership::BucketOwnerPreferred));
    let caller = caller.as_deref();
    happened
        .iter()
        .filter_map(|c| {
            let writer = c.writer.as_str();
            let bfc = c.canned == Some(BUCKET_OWNER_FULL_CONTROL);
            let made = if writer == ra || (bfc && preferred) {
                ra
            } else {
                writer
            };
            if made != owner {
                return None;
            }
            let g = match c.canned {
                None => Guard::Conditional,
                Some("public-read" | "public-read-write") if public => Guard::Conditional,
                Some("authenticated-read") if public && !anonymous => Guard::Conditional,
                Some("bucket-owner-read" | BUCKET_OWNER_FULL_CONTROL)
                    if !public && made != ra && caller == Some(ra) =>
                {
                    Guard::Conditional
                }
                Some(BUCKET_OWNER_FULL_CONTROL)
                    if !public && writer != ra && caller == Some(writer) =>
                {
                    Guard::Unknown
                }
                _ => return None,
            };
            Some(if c.decision == Decision::Unknown {
                Guard::Unknown
            } else {
                g
            })
        })
        .min()
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

/// What a statement's verdict for a request depends on: the statement, the
/// caller, the action, the resource ARN, past or present, the way, and the
/// access point the request goes through.
type VerdictKey = (
    StmtId,
    Subject,
    String,
    String,
    bool,
    Option<usize>,
    Option<usize>,
);

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
    /// Per (policy, action, resource ARN): the Allow statements whose Action
    /// and Resource may meet the request (`may_reach`); `None`: the policy
    /// could not be read.
    allows_meeting: HashMap<(usize, String, String), Option<Vec<usize>>>,
    /// Per bucket: whether its ACLs can grant nothing alone (`may_reach`).
    acls_quiet: HashMap<usize, bool>,
    /// Building the uploads that may have written an unlisted object: they
    /// happened before the query, so its `with` context does not bind them.
    past: bool,
    /// Building a way of a conditional request: its keys and the context they fix.
    way: Option<usize>,
    /// Building the bucket's side of a request through this access point.
    via: Option<usize>,
    ways: Vec<(WayKeys, HashMap<String, Vec<String>>)>,
    no_context: HashMap<String, Vec<String>>,
    /// Context keys the query fixes (lower-case key → values; empty: absent).
    context: HashMap<String, Vec<String>>,
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
            ents: HashMap::new(),
            ent_keys: Vec::new(),
            policy_stmts: HashMap::new(),
            acl_stmts: HashMap::new(),
            uploader_acl: HashMap::new(),
            upload_cases: HashMap::new(),
            cases_decided: HashMap::new(),
            wanted: Vec::new(),
            uploads_here,
            sanity_apart: 0,
            given_uploaders: None,
            unsettled_acl: Vec::new(),
            uploads_requested: Default::default(),
            sse_requested: Default::default(),
            header_way: Default::default(),
            upload_via: HashMap::new(),
            same_as: HashMap::new(),
            upload_scopes: HashMap::new(),
            req_ids: HashMap::new(),
            left_out_ids: HashMap::new(),
            allows_meeting: HashMap::new(),
            acls_quiet: HashMap::new(),
            past: false,
            way: None,
            via: None,
            ways: Vec::new(),
            no_context: HashMap::new(),
            context: HashMap::new(),
            verdicts: HashMap::new(),
            constraints: Vec::new(),
            closed: false,
            public_only: false,
            solver_reasons: HashMap::new(),
            accounts: HashMap::new(),
            account_names: Vec::new(),
            actions: HashMap::new(),
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
                    // Service-linked roles live under this path; SCPs and RCPs do not limit them.
                    if p.arn.contains(":role/aws-service-role/") {
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

    /// Adds one request with the match facts of every statement that could speak to it.
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
    fn fixed(&self) -> &HashMap<String, Vec<String>> {
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
        let v = self.pinned_request(&info.subject, action, info.resource, keys);
        (self.past, self.via, self.way) = outer;
        self.facts.variant_of.push(VariantOf(v, r));
        self.facts.way_variants.push(WayVariant(v));
        v
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

    /// The ways an upload to a bucket encrypted by default under KMS may
    /// ask for its encryption (rules/78): without headers (the default
    /// key), SSE-S3, or each key bucketlog considers for the bucket — each
    /// a way of the request with the headers fixed, whose decision
    /// includes the kms:GenerateDataKey it needs. The query's own `with`
    /// may fix the headers instead.
    fn encryption_ways(
        &mut self,
        r: ReqId,
        subject: &Subject,
        action: &Action,
        resource: &Resource,
    ) {
        let Resource::Objects(b, _) = resource else {
            return;
        };
        let bucket = &self.estate.buckets[*b];
        if action.name != PUT_OBJECT
            || self.past
            || self.way.is_some()
            || matches!(bucket.encryption, Ok(Encryption::S3Managed))
            || self.fixed().contains_key(SSE_HEADER)
        {
            return;
        }
        let default_key = match &bucket.encryption {
            Ok(Encryption::Kms { key: Some(k), .. }) => {
                self.estate.kms_key_named(&bucket.account, k)
            }
            _ => None,
        };
        let mut ways = vec![(None, None), (Some("AES256".to_string()), None)];
        let keys = default_key
            .into_iter()
            .chain(self.sse_choices(*b).into_iter().filter_map(|c| match c {
                Sse::Key(k) => Some(k),
                _ => None,
            }));
        for k in keys {
            ways.push((
                Some("aws:kms".to_string()),
                Some(self.estate.kms_keys[k].arn.clone()),
            ));
        }
        for (sse, key) in ways {
            let keys = WayKeys::from([
                (SSE_HEADER.to_string(), sse),
                (SSE_KEY_HEADER.to_string(), key),
            ]);
            let v = self.pinned_request(subject, action, resource.clone(), keys);
            self.facts.variant_of.push(VariantOf(v, r));
            self.facts.way_variants.push(WayVariant(v));
            self.header_way.insert(v);
        }
    }

    /// The ceiling the retention of the version listed under an object's
    /// key puts on deleting it (`ListedVersion::ceiling`, rules/46).
    fn retention_ceiling(&self, resource: &Resource) -> Option<usize> {
        let Resource::Objects(b, key) = resource else {
            return None;
        };
        self.index
            .listed(self.estate, *b, key)?
            .version
            .as_ref()?
            .ceiling
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

    /// The ACL a PUT carries, as far as the fixed context says.
    fn acl_header(&self) -> Option<AclHeader> {
        let public_group =
            |v: &String| v.contains("/global/AllUsers") || v.contains("/global/AuthenticatedUsers");
        let mut header = None;
        for (k, values) in self.fixed() {
            let h = if k == "s3:x-amz-acl" {
                match values.first().map(String::as_str) {
                    Some("public-read" | "public-read-write" | "authenticated-read") => {
                        AclHeader::Public
                    }
                    Some("bucket-owner-full-control") => AclHeader::OwnerFullControl,
                    Some(_) => AclHeader::Other,
                    None => continue,
                }
            } else if k.starts_with("s3:x-amz-grant-") && !values.is_empty() {
                if values.iter().any(public_group) {
                    AclHeader::Public
                } else {
                    AclHeader::Other
                }
            } else {
                continue;
            };
            // A public part makes the whole request public; any other part
            // makes it more than bucket-owner-full-control.
            let rank = |h: AclHeader| match h {
                AclHeader::OwnerFullControl => 0,
                AclHeader::Other => 1,
                AclHeader::Public => 2,
            };
            if header.is_none_or(|old| rank(h) > rank(old)) {
                header = Some(h);
            }
        }
        header
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
    /// - the bucket's ACLs can grant nothing alone (`acls_grant_nothing_alone`:
    ///   no grant, no ACL's open layer), and Block Public Access is settled
    ///   (no open layer that could add access, R70.11).
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
        if self.bpa_unsettled(*b) || !self.acls_grant_nothing_alone(*b) {
            return true;
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

    /// Whether no ACL of the bucket, set or yet to be set, can grant an IAM
    /// user or role anything alone, nor open a layer that could (rules/40,
    /// R70.11): ACLs off (BucketOwnerEnforced); or on, with every grant of
    /// the bucket's ACL and its listed objects' to an account's canonical
    /// user (which then needs an identity Allow, R70.2–R70.4) or to the
    /// log-delivery group, none of them WRITE to another account, every
    /// listed object's owner known, no public ACL an uploader may set
    /// (BlockPublicAcls), and no way for the anonymous caller to upload,
    /// and so own, an object (no access point, no bucket-policy Allow of
    /// PutObject to everyone). Once per bucket and evaluation.
    fn acls_grant_nothing_alone(&mut self, b: usize) -> bool {
        if let Some(&known) = self.acls_quiet.get(&b) {
            return known;
        }
        let estate = self.estate;
        let bucket = &estate.buckets[b];
        let owner = estate
            .accounts
            .get(&bucket.account)
            .and_then(|a| a.canonical_id.as_deref());
        let quiet = |acl: &crate::model::Acl| {
            acl.owner
                .as_deref()
                .is_some_and(|o| estate.account_of_canonical(o).is_some())
                && acl.grants.iter().all(|g| match &g.grantee {
                    Grantee::Canonical(c) => {
                        Some(c.as_str()) == owner
                            || !matches!(
                                g.permission,
                                AclPermission::Write | AclPermission::FullControl
                            )
                    }
                    Grantee::LogDelivery => true,
                    _ => false,
                })
        };
        let known = match &bucket.ownership {
            Err(_) => false,
            Ok(Ownership::BucketOwnerEnforced) => true,
            Ok(_) => {
                matches!(&bucket.acl, Some(Ok(acl)) if quiet(acl))
                    && bucket
                        .objects
                        .iter()
                        .all(|o| o.acl.as_ref().is_ok_and(quiet))
                    && self.bpa_in_force(b, |c| c.block_public_acls)
                    && self.index.access_points[b].is_empty()
                    && match bucket.policy {
                        None => true,
                        Some(pol) => {
                            let objects = self.resource_arn(&Resource::Objects(b, "*".into()));
                            let body = estate.policies[pol].body.as_ref();
                            match (self.allows_meeting(pol, PUT_OBJECT, &objects), body) {
                                (Some(found), Ok(body)) => found.iter().all(|&k| {
                                    matches!(&body.statements[k].principal, Some(set)
                                        if !set.negated && !set.items.contains(&PrincipalPattern::Everyone))
                                }),
                                _ => false,
                            }
                        }
                    }
            }
        };
        self.acls_quiet.insert(b, known);
        known
    }

    /// Whether an Allow of the principal's identity policies has an Action
    /// and a Resource that may meet the request, or one of them could not
    /// be read (conditions are not read).
    fn identity_may_allow(&mut self, p: usize, action: &str, arn: &str) -> bool {
        let estate = self.estate;
        estate
            .identity_policies(&estate.principals[p])
            .into_iter()
            .any(|pol| {
                self.allows_meeting(pol, action, arn)
                    .is_none_or(|found| !found.is_empty())
            })
    }

    /// The Allow statements of a policy whose Action and Resource may meet
    /// a request (`may_reach`), once per policy, action and resource.
    fn allows_meeting(&mut self, pol: usize, action: &str, arn: &str) -> Option<Vec<usize>> {
        let key = (pol, action.to_string(), arn.to_string());
        if let Some(found) = self.allows_meeting.get(&key) {
            return found.clone();
        }
        let found = self.estate.policies[pol].body.as_ref().ok().map(|body| {
            let version = body.version.as_deref();
            (0..body.statements.len())
                .filter(|&k| {
                    let st = &body.statements[k];
                    st.effect == Effect::Allow
                        && st.covers_action(action)
                        && st.resource.as_ref().is_none_or(|res| {
                            // A Resource with a policy variable may meet anything.
                            res.items.iter().any(|i| i.contains("${"))
                                || resource_guard(&res.items, res.negated, version, arn, None)
                                    .is_some()
                        })
                })
                .collect()
        });
        self.allows_meeting.insert(key, found.clone());
        found
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

    /// A delete of the version a listed object's head.json describes (the
    /// query fixes s3:versionid to its ID) meets that version's Object Lock
    /// state (rules/46) instead of the open of the versions the snapshot
    /// does not describe. Under governance-mode retention it goes two ways:
    /// without the bypass header, under the retention's ceiling; with it,
    /// needing the caller's s3:BypassGovernanceRetention too.
    fn version_lock(&mut self, r: ReqId, subject: &Subject, action: &Action, resource: &Resource) {
        let Resource::Objects(b, key) = resource else {
            return;
        };
        if action.name != DELETE_OBJECT_VERSION || self.past {
            return;
        }
        let listed = self.index.listed(self.estate, *b, key);
        let Some(version) = listed.and_then(|o| o.version.as_ref()) else {
            return;
        };
        let fixed = self.fixed();
        if fixed.get(VERSION_ID_KEY).map(Vec::as_slice) != Some(std::slice::from_ref(&version.id)) {
            return;
        }
        // Sent as `true`; absent, or any other value, bypasses nothing.
        let bypass = fixed
            .get(BYPASS_HEADER)
            .map(|v| v.iter().any(|x| x.eq_ignore_ascii_case("true")));
        self.facts.version_listed.push(VersionListed(r));
        if version.legal_hold {
            self.facts.legal_hold.push(LegalHold(r));
        }
        let Some(retention) = &version.retention else {
            return;
        };
        match (retention.mode, bypass) {
            (RetentionMode::Governance, None) => {
                for value in [None, Some("true".to_string())] {
                    let keys = WayKeys::from([(BYPASS_HEADER.to_string(), value)]);
                    let v = self.pinned_request(subject, action, resource.clone(), keys);
                    self.facts.variant_of.push(VariantOf(v, r));
                    self.facts.way_variants.push(WayVariant(v));
                    self.header_way.insert(v);
                }
            }
            (RetentionMode::Governance, Some(true)) => {
                let bypass = crate::catalog::Catalog::get()
                    .find(BYPASS_GOVERNANCE_RETENTION)
                    .expect("the catalogue has s3:BypassGovernanceRetention");
                let rb = self.request(subject, bypass, resource.clone());
                self.facts.side_requests.push(SideRequest(r, rb));
            }
            _ => self.facts.retained.push(Retained(r)),
        }
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

    /// The request S3 makes to KMS on the caller's behalf for a read of an
    /// object encrypted under a KMS key (rules/78): kms:Decrypt on the key
    /// the object was written with (a listed object's head.json) or, for
    /// the objects the snapshot does not list, the key the bucket's default
    /// encryption names; the object's ARN (the bucket's under S3 Bucket
    /// Keys) is the encryption context. A key the snapshot does not
    /// describe leaves the read open.
    fn key_side(&mut self, r: ReqId, subject: &Subject, action: &Action, resource: &Resource) {
        let (Resource::Objects(b, key) | Resource::Uploaded(b, key, _, _)) = resource else {
            return;
        };
        if action.name == PUT_OBJECT {
            self.upload_key_side(r, subject, *b, resource);
            return;
        }
        if !DECRYPTS.contains(&action.name.as_str()) {
            return;
        }
        let estate = self.estate;
        let bucket = &estate.buckets[*b];
        let listed = match resource {
            Resource::Objects(..) => self.index.listed(estate, *b, key),
            _ => None,
        };
        let encryption = match listed.and_then(|o| o.encryption.as_ref()) {
            Some(e) => e,
            None => &bucket.encryption,
        };
        let (named, bucket_key) = match (resource, encryption) {
            (Resource::Uploaded(_, _, _, Sse::S3Managed), _) => return,
            (Resource::Uploaded(_, _, _, Sse::Key(k)), _) => {
                (Some(estate.kms_keys[*k].arn.as_str()), false)
            }
            (_, Ok(Encryption::S3Managed)) => return,
            (_, Ok(Encryption::Kms { key, bucket_key })) => (key.as_deref(), *bucket_key),
            (_, Err(_)) => (None, false),
        };
        let context = match bucket_key {
            true => self.resource_arn(&Resource::Bucket(*b)),
            false => self.resource_arn(resource),
        };
        let named = named.map(str::to_string);
        let unreadable = encryption.is_err();
        self.kms_side((r, subject, KMS_DECRYPT), *b, named, unreadable, context);
    }

    /// The KMS request S3 makes for the caller (`action` on the key
    /// `named`), as the request's key side; a key the snapshot does not
    /// describe, or an unreadable setting, leaves the request open; the
    /// AWS managed key `aws/s3` (`None`) is for the rules to judge (R78.3b).
    fn kms_side(
        &mut self,
        (r, subject, action): (ReqId, &Subject, &str),
        b: usize,
        named: Option<String>,
        unreadable: bool,
        context: String,
    ) {
        let estate = self.estate;
        let bucket = &estate.buckets[b];
        let named = named.filter(|n| n != AWS_MANAGED_S3_KEY);
        let Some(k) = named
            .as_deref()
            .and_then(|n| estate.kms_key_named(&bucket.account, n))
        else {
            match named.is_some() || unreadable {
                true => self.facts.key_unresolved.push(KeyUnresolved(r)),
                false => self.facts.aws_managed_key.push(AwsManagedKey(r)),
            }
            return;
        };
        let action = crate::catalog::Catalog::get()
            .find(action)
            .expect("the catalogue has S3's KMS actions");
        // KMS requests carry no access point's keys.
        let via = self.via.take();
        let rk = self.request(subject, action, Resource::Key(k, context));
        self.via = via;
        self.facts.side_requests.push(SideRequest(r, rk));
    }

    /// The kms:GenerateDataKey an upload needs (rules/78): under the key
    /// its headers name, or — without them — the bucket's default key;
    /// none under SSE-S3. An upload made to learn who may own unlisted
    /// objects fixes no headers and may always have asked for SSE-S3, so
    /// it has none.
    fn upload_key_side(&mut self, r: ReqId, subject: &Subject, b: usize, resource: &Resource) {
        let fixed = self.fixed();
        let sse = fixed.get(SSE_HEADER).map(|v| v.first().cloned());
        let named_key = fixed.get(SSE_KEY_HEADER).and_then(|v| v.first().cloned());
        let estate = self.estate;
        let bucket = &estate.buckets[b];
        let default = match &bucket.encryption {
            Ok(Encryption::S3Managed) => None,
            Ok(Encryption::Kms { key, .. }) => Some(key.clone()),
            Err(_) => Some(None),
        };
        let unreadable = bucket.encryption.is_err() && !matches!(sse, Some(Some(_)));
        let named: Option<Option<String>> = match sse {
            Some(Some(v)) if v.starts_with("aws:kms") => Some(named_key.or(default.flatten())),
            Some(Some(_)) => None,
            None if self.past => None,
            Some(None) | None => default,
        };
        let Some(named) = named else {
            return;
        };
        let context = self.resource_arn(resource);
        self.kms_side(
            (r, subject, KMS_GENERATE_DATA_KEY),
            b,
            named,
            unreadable,
            context,
        );
    }

    /// Whether the objects of a scope of a bucket without ACLs may differ
    /// in how a read of them is decided: a listed object under it has its
    /// own head.json, or an upload may ask for another encryption than the
    /// default (R78.5), so each is a state of the scope (rules/75).
    fn encryption_varies(&self, b: usize, pattern: &str, action: &Action) -> bool {
        let objects = &self.estate.buckets[b].objects;
        // A listed object is as the snapshot lists it.
        DECRYPTS.contains(&action.name.as_str())
            && self.index.listed(self.estate, b, pattern).is_none()
            && (!self.sse_choices(b).is_empty()
                || objects.iter().any(|o| {
                    o.encryption.is_some()
                        && o.key != pattern
                        && glob::matches(pattern, &o.key, false)
                }))
    }

    /// The encryptions other than the default that an upload to the bucket
    /// may ask for and bucketlog considers (rules/78 R78.5): SSE-S3 where
    /// the default is not, and the KMS keys of the snapshot that the
    /// bucket's listed objects show in use, but the default's. An upload
    /// may name any key; an estate's keys that nothing ties to the bucket
    /// are left out, or every reader without them would be `conditional`
    /// on objects written under keys the bucket never sees
    /// (docs/decisions.md).
    fn sse_choices(&self, b: usize) -> Vec<Sse> {
        let estate = self.estate;
        let bucket = &estate.buckets[b];
        let named = |e: &Encryption| match e {
            Encryption::Kms { key: Some(k), .. } => estate.kms_key_named(&bucket.account, k),
            _ => None,
        };
        let default_key = bucket.encryption.as_ref().ok().and_then(named);
        let mut keys: Vec<usize> = bucket
            .objects
            .iter()
            .filter_map(|o| o.encryption.as_ref()?.as_ref().ok())
            .filter_map(named)
            .filter(|&k| Some(k) != default_key)
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let mut out = Vec::new();
        if !matches!(bucket.encryption, Ok(Encryption::S3Managed)) {
            out.push(Sse::S3Managed);
        }
        out.extend(keys.into_iter().map(Sse::Key));
        out
    }

    /// The uploads that say how unlisted objects of `scope` may be
    /// encrypted (R78.5): a PutObject by each possible uploader asking for
    /// each encryption other than the default, with the
    /// kms:GenerateDataKey an upload under a KMS key needs; once per scope.
    fn sse_checks(&mut self, b: usize, scope: EntId, pattern: &str, choices: &[Sse]) {
        if !self.sse_requested.insert(scope)
            || self.leave_uploads(PastKind::Encryptions, (b, scope, pattern))
        {
            return;
        }
        let put = crate::catalog::Catalog::get()
            .find(PUT_OBJECT)
            .expect("the catalogue has s3:PutObject");
        let objects = Resource::Objects(b, pattern.to_string());
        // Past uploads, made directly: not through the access point, nor
        // under the way, of the request that first asked for the scope.
        let outer = (self.past, self.via, self.way);
        (self.past, self.via, self.way) = (true, None, None);
        for w in self.uploaders(b, pattern) {
            for &c in choices {
                let (sse, key) = match c {
                    Sse::Default => continue,
                    Sse::S3Managed => ("AES256", None),
                    Sse::Key(k) => ("aws:kms", Some(self.estate.kms_keys[k].arn.clone())),
                };
                let keys = WayKeys::from([
                    (SSE_HEADER.to_string(), Some(sse.to_string())),
                    (SSE_KEY_HEADER.to_string(), key),
                ]);
                // Its kms:GenerateDataKey is its key side (`upload_key_side`).
                let u = self.pinned_request(&w, put, objects.clone(), keys);
                if let Some(id) = c.id() {
                    self.facts.sse_checks.push(SseCheck(u, id));
                }
            }
        }
        (self.past, self.via, self.way) = outer;
    }

    /// The unlisted states of a scope for a read: one per owner and
    /// encryption (the default, and each other an upload may ask for).
    fn unlisted_variants(
        &mut self,
        (r, subject, action): (ReqId, &Subject, &Action),
        b: usize,
        pattern: &str,
        owners: Vec<String>,
        choices: &[Sse],
    ) {
        for owner in owners {
            for &sse in std::iter::once(&Sse::Default).chain(choices) {
                let unlisted = Resource::Uploaded(b, pattern.to_string(), owner.clone(), sse);
                let v = self.request(subject, action, unlisted);
                self.facts.variant_of.push(VariantOf(v, r));
                if let Some(id) = sse.id() {
                    self.facts.variant_sse.push(VariantSse(v, id));
                }
            }
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

    /// How certainly a statement's Action, Resource and Condition hold for
    /// one request; `None` when they cannot. Conditions and Resource entries
    /// with policy variables are solved for the request's keys (`smt`).
    fn element_guard(
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

    /// What S3's request to KMS carries about the key and the object.
    fn kms_keys(&self, resource: &Resource) -> Option<smt::keys::KmsKeys> {
        let Resource::Key(k, context) = resource else {
            return None;
        };
        Some(smt::keys::KmsKeys {
            via_service: format!("s3.{}.amazonaws.com", self.estate.kms_keys[*k].region),
            context: context.clone(),
        })
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

    /// Why the solver could not decide a statement's guard, when it could not.
    pub fn solver_reason(&self, stmt: StmtId) -> Option<&str> {
        self.solver_reasons.get(&stmt).map(String::as_str)
    }

    fn grantor_is_bucket_owner(&mut self, action: &str) -> bool {
        let a = self.action(action);
        self.facts
            .grantor_is_owner
            .contains(&GrantorIsBucketOwner(a))
    }

    /// The states an object of a scope may be in (rules/75): each listed
    /// object the pattern matches, and unlisted ones — per account that may
    /// own it (a free-owner scope; otherwise the bucket owner's, R75.1), and
    /// for a read, per encryption it may have (R78.5) — with the upload
    /// requests that say which may occur.
    fn scope_variants(
        &mut self,
        (r, subject, action): (ReqId, &Subject, &Action),
        b: usize,
        pattern: &str,
        (x, free): (EntId, bool),
    ) {
        let estate = self.estate;
        let bucket = &estate.buckets[b];
        // Which scope's uploads stand for this one's is worked out once per
        // scope: relating the bucket's patterns to it is the cost.
        let (via, shared) = match self.upload_via.get(&x) {
            Some(known) => known.clone(),
            None => {
                let (shared, same_as) = self.upload_scope(b, pattern);
                let via = self.entity(EntKey::Resource(Resource::Objects(b, shared.clone())));
                self.same_as.entry(via).or_insert(same_as);
                self.upload_via.insert(x, (via, shared.clone()));
                self.facts.uploads_via.push(UploadsVia(x, via));
                (via, shared)
            }
        };
        let mut owners = vec![bucket.account.clone()];
        if free {
            self.upload_checks(b, via, &shared);
            owners.extend(self.index.uploader_accounts.iter().cloned());
            owners.sort();
            owners.dedup();
        } else {
            self.facts.states_listed.push(StatesListed(x));
        }
        let choices = match DECRYPTS.contains(&action.name.as_str()) {
            true => self.sse_choices(b),
            false => Vec::new(),
        };
        if !choices.is_empty() {
            self.sse_checks(b, via, &shared, &choices);
        }
        for o in &bucket.objects {
            if glob::matches(pattern, &o.key, false) && o.key != pattern {
                let v = self.request(subject, action, Resource::Objects(b, o.key.clone()));
                self.facts.variant_of.push(VariantOf(v, r));
                self.facts.listed_variant.push(ListedVariant(v));
            }
        }
        self.unlisted_variants((r, subject, action), b, pattern, owners, &choices);
    }

    /// The uploads that say who may own the unlisted objects of `scope`
    /// (R75.1): a PutObject by each possible uploader, once per scope.
    fn upload_checks(&mut self, b: usize, scope: EntId, pattern: &str) {
        if !self.uploads_requested.insert(scope)
            || self.leave_uploads(PastKind::Owners, (b, scope, pattern))
        {
            return;
        }
        let uploaders = self.uploaders(b, pattern);
        let put = crate::catalog::Catalog::get()
            .find("s3:PutObject")
            .expect("the catalogue has s3:PutObject");
        let read = self.headers_read(b);
        let bucket_account = &self.estate.buckets[b].account;
        // Past uploads, made directly (or through an access point, below):
        // not through the access point, nor under the way, of the request
        // that first asked for the scope, whichever it was.
        let outer = (self.past, self.via, self.way);
        (self.past, self.via, self.way) = (true, None, None);
        for w in &uploaders {
            let objects = Resource::Objects(b, pattern.to_string());
            if read != HeadersRead::Canned {
                // The bucket's own account may always own (R75.1): its
                // uploads can add no owner, and with no canned ACL to
                // settle they decide nothing else.
                if uploader_account(self.estate, w).as_ref() == Some(bucket_account) {
                    continue;
                }
                let u = self.request(w, put, objects);
                let case = match read {
                    HeadersRead::Grants => UploadAcl::Unsettled,
                    _ => UploadAcl::Unread,
                };
                self.facts.upload_checks.push(UploadCheck(u, case));
                continue;
            }
            let Some(writer) = uploader_account(self.estate, w) else {
                continue;
            };
            for value in std::iter::once(None).chain(CANNED_ACLS.iter().copied().map(Some)) {
                let keys = WayKeys::from([("s3:x-amz-acl".to_string(), value.map(str::to_string))]);
                let u = self.pinned_request(w, put, objects.clone(), keys);
                let case = match value {
                    None => UploadAcl::NoCanned,
                    Some(BUCKET_OWNER_FULL_CONTROL) => UploadAcl::OwnerFullControl,
                    Some(_) => UploadAcl::OtherCanned,
                };
                self.facts.upload_checks.push(UploadCheck(u, case));
                self.upload_cases
                    .entry(scope)
                    .or_default()
                    .push(UploadCase {
                        check: u,
                        canned: value,
                        writer: writer.clone(),
                    });
            }
        }
        // Uploads through the bucket's access points leave objects too
        // (rules/77 R77.4); where the canned-ACL header is read, such an
        // upload may have sent any ACL headers (its case fixes none).
        let index = Arc::clone(&self.index);
        for &ap in &index.access_points[b] {
            for w in &uploaders {
                let writer = uploader_account(self.estate, w);
                let own = writer.as_ref() == Some(bucket_account);
                if own && read != HeadersRead::Canned {
                    continue;
                }
                let through = Resource::Through(ap, Some(pattern.to_string()));
                let u = self.request(w, put, through);
                let case = match read {
                    HeadersRead::None => UploadAcl::Unread,
                    HeadersRead::Grants | HeadersRead::Canned => UploadAcl::Unsettled,
                };
                self.facts.upload_checks.push(UploadCheck(u, case));
                if let (HeadersRead::Canned, Some(writer)) = (read, writer) {
                    self.upload_cases
                        .entry(scope)
                        .or_default()
                        .push(UploadCase {
                            check: u,
                            canned: None,
                            writer,
                        });
                }
            }
        }
        (self.past, self.via, self.way) = outer;
    }

    /// The scope whose uploads stand for those of an unlisted scope of the
    /// bucket: the first one asked that every Resource pattern able to speak
    /// to the bucket relates to exactly as it does — directly, and through
    /// each of its access points. Whether a PutObject is
    /// allowed turns on the key only through those relations, so such scopes
    /// have the same possible owners; a pattern with a policy variable
    /// relates per caller, and then each scope stands for itself. With it,
    /// what makes scopes so related the same (`WantedUploads::same_as`).
    fn upload_scope(&mut self, b: usize, pattern: &str) -> (String, Result<Vec<Relation>, String>) {
        let Some(patterns) = self.index.resource_patterns(self.estate, b) else {
            return (pattern.to_string(), Err(pattern.to_string()));
        };
        let relations: Vec<Relation> = patterns
            .iter()
            .map(|(prefix, p)| glob::relate_fields(&format!("{prefix}{pattern}"), p))
            .collect();
        let shared = self
            .upload_scopes
            .entry((b, relations.clone()))
            .or_insert_with(|| pattern.to_string())
            .clone();
        (shared, Ok(relations))
    }

    /// Who may have uploaded an unlisted object of the bucket: a superset of
    /// the subjects whose PutObject some rule could allow — those whose
    /// identity policies may allow it, those a grant of the bucket policy or
    /// ACL names, and the bucket account's own root and `account:` — or
    /// everyone when a grant is public or cannot be read; of a class of
    /// users, its first member. Every other subject's upload is an implicit
    /// deny, so checking it adds nothing. Those given instead, when they are
    /// (`check_uploads`).
    fn uploaders(&mut self, b: usize, pattern: &str) -> Vec<Subject> {
        if let Some(given) = &self.given_uploaders {
            return given.clone();
        }
        let estate = self.estate;
        let arn = self.resource_arn(&Resource::Objects(b, pattern.to_string()));
        let bucket = &estate.buckets[b];
        // The members of a class upload alike, into one account: the first
        // stands for them all.
        let index = Arc::clone(&self.index);
        let firsts = index.subjects.iter().filter(|s| match s {
            Subject::Known(i) => index.classes.class_of(*i) == *i,
            _ => true,
        });
        let everyone = || firsts.clone().cloned().collect();
        let mut items: Vec<&PrincipalPattern> = Vec::new();
        if let Some(p) = bucket.policy {
            let Ok(body) = &estate.policies[p].body else {
                return everyone();
            };
            for st in body
                .statements
                .iter()
                .filter(|st| st.effect == Effect::Allow)
            {
                match &st.principal {
                    Some(set) if set.negated => return everyone(),
                    Some(set) => items.extend(&set.items),
                    None => {}
                }
            }
        }
        let ignored = self.bpa_in_force(b, |c| c.ignore_public_acls);
        let grants: Vec<&Grantee> = match &bucket.acl {
            Some(Ok(acl)) => acl
                .grants
                .iter()
                .filter(|g| {
                    matches!(
                        g.permission,
                        AclPermission::Write | AclPermission::FullControl
                    ) && !(ignored && g.grantee.is_public())
                })
                .map(|g| &g.grantee)
                .collect(),
            // An ACL that could not be read may grant WRITE to anyone.
            Some(Err(_)) | None => return everyone(),
        };
        // Whose identity may allow the upload into this scope (an upload
        // that cannot reach is left out, as in `may_reach`): where Block
        // Public Access could not be read, everyone's upload is open.
        let narrow = index.leave_out_unreachable && !self.bpa_unsettled(b);
        let mut out = Vec::new();
        for s in firsts {
            let own = match s {
                Subject::Known(i) => {
                    let p = &estate.principals[*i];
                    (index.may_put[*i]
                        && (!narrow || self.identity_may_allow(*i, PUT_OBJECT, &arn)))
                        || (p.kind == PrincipalKind::Root && p.account == bucket.account)
                }
                Subject::Outside(a) => *a == bucket.account,
                _ => false,
            };
            if own
                || items
                    .iter()
                    .any(|i| principal_match(estate, i, s).is_some())
                || grants.iter().any(|g| grantee_match(estate, g, s).is_some())
            {
                out.push(s.clone());
            }
        }
        out
    }

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
                && matches!(
                    grant.permission,
                    AclPermission::Write | AclPermission::FullControl
                )
                && matches!(action.name.as_str(), "s3:PutObject" | "s3:DeleteObject");
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

    /// Settles the ACL uploaders may have set on unlisted objects of
    /// buckets whose policies read the canned-ACL header, from the
    /// decisions of the upload checks (one per value, R75.1): a grant may
    /// be on an object of owner O only if an upload that leaves O the owner
    /// may set it. Without `s3:x-amz-acl` the grant headers may name anyone;
    /// a canned ACL grants what the S3 User Guide's "Canned ACL" table says
    /// (public-read, public-read-write: AllUsers; authenticated-read:
    /// AuthenticatedUsers; bucket-owner-read, bucket-owner-full-control: the
    /// bucket owner). Whether the writer keeps a grant to an object that
    /// bucket-owner-full-control gave the bucket owner is not documented:
    /// unknown. A grant no upload can set goes.
    pub fn settle_uploader_acls(&mut self, decided: impl Fn(ReqId) -> Decision) {
        // The uploads that may have happened, per shared scope, decided once
        // (here, or apart).
        let here: HashMap<EntId, Vec<CaseDecided>> = self
            .upload_cases
            .keys()
            .map(|&via| (via, self.cases_decided_here(via, &decided)))
            .collect();
        let happened: HashMap<EntId, Vec<&CaseDecided>> = here
            .iter()
            .chain(&self.cases_decided)
            .map(|(via, cases)| {
                let may = cases.iter().filter(|c| c.decision.reaches()).collect();
                (*via, may)
            })
            .collect();
        // Many requests share a scope, an owner and a caller's account.
        type Key<'k> = (EntId, &'k str, bool, Option<String>, bool);
        let mut memo: HashMap<Key, Option<Guard>> = HashMap::new();
        let mut settled = Vec::new();
        for &(i, r) in &self.unsettled_acl {
            let Matches(_, s, _) = self.facts.matches[i];
            let info = &self.requests[r.0 as usize];
            let (Resource::Uploaded(b, pattern, owner, _), StmtOrigin::UploaderAcl { public, .. }) =
                (&info.resource, &self.stmts[s.0 as usize])
            else {
                continue;
            };
            let scope = self.ents[&EntKey::Resource(Resource::Objects(*b, pattern.clone()))];
            let Some((via, _)) = self.upload_via.get(&scope) else {
                continue;
            };
            let anonymous = matches!(info.subject, Subject::Anonymous);
            let caller = uploader_account(self.estate, &info.subject);
            let key = (*via, owner.as_str(), *public, caller, anonymous);
            let guard = match memo.get(&key) {
                Some(g) => *g,
                None => {
                    let bucket = &self.estate.buckets[*b];
                    let cases = happened.get(via).map_or(&[][..], Vec::as_slice);
                    let g = possible_grant(bucket, cases, &key);
                    memo.insert(key, g);
                    g
                }
            };
            settled.push((i, r, s, guard));
        }
        self.unsettled_acl.clear();
        let mut gone = HashSet::new();
        for (i, r, s, guard) in settled {
            match guard {
                Some(g) => self.facts.matches[i].2 = g,
                None => {
                    gone.insert((r, s));
                }
            }
        }
        self.facts.matches.retain(|m| !gone.contains(&(m.0, m.1)));
        self.facts
            .principal_matches
            .retain(|m| !gone.contains(&(m.0, m.1)));
    }

    /// The canned-ACL cases of a shared scope's upload checks built into
    /// these facts, with their decisions.
    fn cases_decided_here(
        &self,
        via: EntId,
        decided: impl Fn(ReqId) -> Decision,
    ) -> Vec<CaseDecided> {
        self.upload_cases.get(&via).map_or_else(Vec::new, |cases| {
            cases
                .iter()
                .map(|c| CaseDecided {
                    canned: c.canned,
                    writer: c.writer.clone(),
                    decision: decided(c.check),
                })
                .collect()
        })
    }

    /// Whether the upload checks of `scope` are left to an evaluation of
    /// their own (`WantedUploads`) instead of built here; if so, they are
    /// wanted.
    fn leave_uploads(
        &mut self,
        kind: PastKind,
        (bucket, scope, pattern): (usize, EntId, &str),
    ) -> bool {
        if self.uploads_here {
            return false;
        }
        self.wanted.push(WantedUploads {
            kind,
            bucket,
            scope,
            pattern: pattern.to_string(),
            same_as: self.same_as[&scope].clone(),
            public_only: self.public_only,
        });
        true
    }

    /// The upload checks left to evaluations of their own since the last call.
    pub fn take_wanted(&mut self) -> Vec<WantedUploads> {
        std::mem::take(&mut self.wanted)
    }

    /// Who may have made the uploads `wanted` asks for (`uploaders`).
    pub fn uploaders_of(&mut self, wanted: &WantedUploads) -> Vec<Subject> {
        self.uploaders(wanted.bucket, &wanted.pattern)
    }

    /// Builds the upload checks `wanted` asks for, of the `uploaders`
    /// given (some of `uploaders_of`), into these facts, which are theirs
    /// alone (`query/uploads.rs`); the scope they are on.
    pub fn check_uploads(&mut self, wanted: &WantedUploads, uploaders: &[Subject]) -> EntId {
        self.uploads_here = true;
        self.given_uploaders = Some(uploaders.to_vec());
        if wanted.public_only {
            self.public_grants_only();
        }
        let (b, pattern) = (wanted.bucket, wanted.pattern.as_str());
        let scope = self.entity(EntKey::Resource(Resource::Objects(b, pattern.to_string())));
        match wanted.kind {
            PastKind::Owners => self.upload_checks(b, scope, pattern),
            PastKind::Encryptions => {
                let choices = self.sse_choices(b);
                self.sse_checks(b, scope, pattern, &choices);
            }
        }
        scope
    }

    /// What the upload checks on `scope` (`check_uploads`) decided, read
    /// from the rules' run over these facts.
    pub fn uploads_decided(&self, scope: EntId, derived: &Derived) -> UploadsDecided {
        let mut uploads: Vec<(String, UploadAcl, Decision)> = derived
            .past_upload
            .iter()
            .filter(|u| u.0 == scope)
            .map(|u| (self.account_name(u.1).to_string(), u.2, u.3))
            .collect();
        uploads.sort();
        let mut encryptions: Vec<(SseId, Decision)> = derived
            .past_encryption
            .iter()
            .filter(|e| e.0 == scope)
            .map(|e| (e.1, e.2))
            .collect();
        encryptions.sort();
        UploadsDecided {
            uploads,
            encryptions,
            // Only where a policy reads the canned-ACL header are there cases.
            cases: match self.upload_cases.contains_key(&scope) {
                true => {
                    let answers: HashMap<ReqId, Decision> =
                        derived.answer.iter().map(|a| (a.0, a.1)).collect();
                    self.cases_decided_here(scope, |r| {
                        answers.get(&r).copied().unwrap_or(Decision::Unknown)
                    })
                }
                false => Vec::new(),
            },
            sanity_violations: derived.sanity_two_answers.len()
                + derived.sanity_must_not_may.len()
                + derived.sanity_implicit_unnamed.len(),
        }
    }

    /// What an evaluation of their own decided of the upload checks
    /// `wanted` asked for: as the rules read past uploads (UploadKnown,
    /// SseKnown), and the canned-ACL cases `settle_uploader_acls` reads.
    pub fn uploads_known(&mut self, wanted: &WantedUploads, decided: &UploadsDecided) {
        for (account, case, d) in &decided.uploads {
            let a = self.account(account);
            self.facts
                .upload_known
                .push(UploadKnown(wanted.scope, a, *case, *d));
        }
        for &(c, d) in &decided.encryptions {
            self.facts.sse_known.push(SseKnown(wanted.scope, c, d));
        }
        if !decided.cases.is_empty() {
            self.cases_decided
                .insert(wanted.scope, decided.cases.clone());
        }
        self.sanity_apart += decided.sanity_violations;
    }

    /// Rows the sanity relations (rules/90) held in the evaluations of
    /// the upload checks these facts read decided apart.
    pub fn sanity_apart(&self) -> usize {
        self.sanity_apart
    }

    /// Whether uploader-chosen grants wait for `settle_uploader_acls`.
    pub fn has_unsettled_acls(&self) -> bool {
        !self.unsettled_acl.is_empty()
    }

    /// Which ACL headers the policies that may speak to uploads into the
    /// bucket read.
    pub fn headers_read(&self, bucket: usize) -> HeadersRead {
        self.index.headers_read[bucket]
    }

    /// The ACL facts of a bucket scope: which ACLs hold, who owns the
    /// object, and what is left open (semantics.md 5.1–5.2).
    fn acl_facts(&mut self, id: EntId, b: usize, resource: &Resource) {
        let estate = self.estate;
        let bucket = &estate.buckets[b];
        let owner_account = self.account(&bucket.account);
        let acls_on = match &bucket.ownership {
            Err(_) => {
                self.facts
                    .resource_open
                    .push(ResourceOpen(id, Open::Unreadable));
                return;
            }
            Ok(o) => *o != Ownership::BucketOwnerEnforced,
        };
        let key = match resource {
            Resource::Objects(_, key) => key,
            Resource::Uploaded(_, _, owner, _) if !acls_on => {
                // An unlisted state of a scope without ACLs (`scope_variants`):
                // the bucket owner owns it, ACLs grant nothing.
                let o = self.account(owner);
                self.facts.object_owners.push(ObjectOwner(id, o));
                return;
            }
            Resource::Uploaded(_, _, owner, _) => {
                // Variants of free-owner scopes: ACLs are on.
                self.bucket_acl(id, b);
                let o = self.account(owner);
                self.facts.object_owners.push(ObjectOwner(id, o));
                if owner == ANONYMOUS_OWNER {
                    self.facts
                        .resource_open
                        .push(ResourceOpen(id, Open::AnonymousOwner));
                }
                self.uploader_acl_stmts(id, b);
                return;
            }
            _ => {
                if acls_on {
                    self.bucket_acl(id, b);
                }
                return;
            }
        };
        if !acls_on {
            // BucketOwnerEnforced: the bucket owner owns every object, ACLs grant nothing.
            self.facts
                .object_owners
                .push(ObjectOwner(id, owner_account));
            return;
        }
        self.bucket_acl(id, b);
        let exact = !key.contains(['*', '?']);
        let listed = bucket.objects.iter().position(|o| exact && o.key == *key);
        let owner = listed
            .and_then(|i| bucket.objects[i].acl.as_ref().ok())
            .and_then(|acl| acl.owner.as_deref());
        match (listed, owner) {
            (Some(i), Some(canonical)) => {
                // An owner no account of the snapshot has is still not any
                // account whose canonical ID is known (rules/40 R40.5).
                let owner = match estate.account_of_canonical(canonical) {
                    Some(a) => self.account(a),
                    None => {
                        self.facts.unmapped_owners.push(UnmappedOwner(id));
                        self.account(&format!("canonical:{canonical}"))
                    }
                };
                self.facts.object_owners.push(ObjectOwner(id, owner));
                self.hold_acl(id, b, Some(i));
            }
            // A listed object whose ACL file could not be read.
            (Some(_), None) => self
                .facts
                .resource_open
                .push(ResourceOpen(id, Open::Unreadable)),
            // Objects the snapshot does not list: owner and ACL are free (rules/75).
            (None, _) => {
                self.facts.free_owner.push(FreeOwner(id));
                if matches!(bucket.ownership, Ok(Ownership::BucketOwnerPreferred)) {
                    self.facts.owner_preferred.push(OwnerPreferred(id));
                }
                let bucket_owner = estate
                    .accounts
                    .get(&bucket.account)
                    .and_then(|a| a.canonical_id.as_deref());
                let ignored = self.bpa_in_force(b, |c| c.ignore_public_acls);
                let foreign_write = bucket
                    .acl
                    .as_ref()
                    .and_then(|a| a.as_ref().ok())
                    .is_some_and(|acl| {
                        acl.grants.iter().any(|g| {
                            // Only the logging service is in the log-delivery
                            // group; its writes change nothing for other
                            // callers. A public grant IgnorePublicAcls
                            // neutralises grants nothing (R40.3).
                            matches!(g.permission, AclPermission::Write | AclPermission::FullControl)
                                && !matches!(&g.grantee, Grantee::Canonical(c) if Some(c.as_str()) == bucket_owner)
                                && g.grantee != Grantee::LogDelivery
                                && !(ignored && g.grantee.is_public())
                        })
                    });
                if foreign_write {
                    self.facts
                        .resource_open
                        .push(ResourceOpen(id, Open::ForeignWriteGrant));
                }
            }
        }
    }

    /// The grants an uploader may have set on an unlisted object: to any
    /// account, and to AllUsers unless BlockPublicAcls rejects such uploads
    /// (semantics.md 5.2, "Request validity").
    fn uploader_acl_stmts(&mut self, id: EntId, bucket: usize) {
        let block_public = self.bpa_in_force(bucket, |c| c.block_public_acls);
        let guard = match self.headers_read(bucket) {
            HeadersRead::None => Some(Guard::Conditional),
            HeadersRead::Canned => None,
            HeadersRead::Grants => Some(Guard::Unknown),
        };
        for public in [false, true] {
            if (public && block_public) || (!public && self.public_only) {
                continue;
            }
            let s = StmtId(self.stmts.len() as u32);
            self.stmts.push(StmtOrigin::UploaderAcl { bucket, public });
            self.facts
                .stmts
                .push(StmtFacts(s, Layer::Acl, Effect::Allow));
            self.facts.holds.push(Holds(id, s));
            self.facts.object_acl_stmts.push(ObjectAclStmt(s));
            if public {
                self.facts.public_acl_stmts.push(PublicAclStmt(s));
            }
            self.uploader_acl
                .entry(id)
                .or_default()
                .push((s, public, guard));
        }
    }

    /// An account's Block Public Access configuration, when the snapshot
    /// has one (for its buckets and its access points alike).
    fn account_bpa(&self, account: &str) -> Option<&'e Result<PublicAccessBlock, String>> {
        self.estate
            .accounts
            .get(account)
            .and_then(|x| x.account_public_access_block.as_ref())
    }

    /// A Block Public Access flag as set on the bucket and on its account
    /// (unreadable settings count as unset here; they are `Open::Unreadable`).
    fn bpa(&self, bucket: usize, flag: fn(&PublicAccessBlock) -> bool) -> (bool, bool) {
        let b = &self.estate.buckets[bucket];
        let account = self.account_bpa(&b.account);
        (
            b.public_access_block.as_ref().is_ok_and(flag),
            matches!(account, Some(Ok(c)) if flag(c)),
        )
    }

    /// Whether an unreadable Block Public Access configuration (the
    /// bucket's or its account's) leaves a flag the rules read in doubt: a
    /// flag that the other, readable, configuration sets is in force either
    /// way, since the two combine by OR. (BlockPublicPolicy only refuses new
    /// public policies, which no answer reads.)
    fn bpa_unsettled(&self, bucket: usize) -> bool {
        let b = &self.estate.buckets[bucket];
        let account = self.account_bpa(&b.account);
        let unreadable = b.public_access_block.is_err() || matches!(account, Some(Err(_)));
        let flags: [fn(&PublicAccessBlock) -> bool; 3] = [
            |c| c.block_public_acls,
            |c| c.ignore_public_acls,
            |c| c.restrict_public_buckets,
        ];
        unreadable && flags.iter().any(|&f| !self.bpa_in_force(bucket, f))
    }

    /// Whether a Block Public Access flag is surely in force for the bucket
    /// (its own or its account's configuration; an unreadable one is not sure).
    fn bpa_in_force(&self, bucket: usize, flag: fn(&PublicAccessBlock) -> bool) -> bool {
        let (b, a) = self.bpa(bucket, flag);
        b || a
    }

    fn bucket_acl(&mut self, id: EntId, b: usize) {
        match &self.estate.buckets[b].acl {
            Some(Ok(_)) => self.hold_acl(id, b, None),
            _ => self.facts.resource_open.push(ResourceOpen(id, Open::Acls)),
        }
    }

    /// Makes each grant of an ACL a statement held by the entity.
    fn hold_acl(&mut self, id: EntId, bucket: usize, object: Option<usize>) {
        let b = &self.estate.buckets[bucket];
        let acl = match object {
            Some(i) => b.objects[i].acl.as_ref().ok(),
            None => b.acl.as_ref().and_then(|a| a.as_ref().ok()),
        };
        for (grant, g) in acl
            .map(|a| a.grants.as_slice())
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let s = StmtId(self.stmts.len() as u32);
            self.stmts.push(StmtOrigin::Acl {
                bucket,
                object,
                grant,
            });
            self.facts
                .stmts
                .push(StmtFacts(s, Layer::Acl, Effect::Allow));
            self.facts.holds.push(Holds(id, s));
            if object.is_some() {
                self.facts.object_acl_stmts.push(ObjectAclStmt(s));
            }
            if g.grantee.is_public() {
                self.facts.public_acl_stmts.push(PublicAclStmt(s));
            }
            self.acl_stmts.entry(id).or_default().push((s, g.clone()));
        }
    }

    fn principal_facts(&mut self, r: ReqId, s: StmtId, st: &Statement, subject: &Subject) {
        let Some(set) = &st.principal else { return };
        if set.negated {
            self.facts.not_principal.push(NotPrincipalOf(r, s));
            for item in &set.items {
                if let Some((link, guard)) = names_link(self.estate, item, subject) {
                    self.facts
                        .not_principal_names
                        .push(NotPrincipalNames(r, s, link, guard));
                }
            }
            return;
        }
        for item in &set.items {
            if let Some((class, guard)) = principal_match(self.estate, item, subject) {
                self.facts
                    .principal_matches
                    .push(PrincipalMatch(r, s, class, guard));
            }
        }
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

/// The owned parts of a request's keys (`smt::keys::RequestKeys` borrows them).
struct KeysOf<'b> {
    caller: smt::keys::Caller,
    action: String,
    resource_account: String,
    fixed: &'b HashMap<String, Vec<String>>,
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
fn caller(estate: &Estate, subject: &Subject) -> smt::keys::Caller {
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

/// The S3 actions that read an object's data, for which S3 asks KMS to
/// decrypt an SSE-KMS object (AWS KMS Developer Guide, "How Amazon S3 uses
/// AWS KMS").
pub const DECRYPTS: [&str; 2] = ["s3:GetObject", "s3:GetObjectVersion"];
const KMS_DECRYPT: &str = "kms:Decrypt";
const KMS_GENERATE_DATA_KEY: &str = "kms:GenerateDataKey";
const PUT_OBJECT: &str = "s3:PutObject";
/// How an encryption setting may name the AWS managed key for S3.
const AWS_MANAGED_S3_KEY: &str = "alias/aws/s3";
/// The headers with which an upload asks for an encryption (S3 API
/// Reference, PutObject), as condition keys.
const SSE_HEADER: &str = "s3:x-amz-server-side-encryption";
const SSE_KEY_HEADER: &str = "s3:x-amz-server-side-encryption-aws-kms-key-id";
const DELETE_OBJECT_VERSION: &str = "s3:DeleteObjectVersion";
const VERSION_ID_KEY: &str = "s3:versionid";
const BYPASS_GOVERNANCE_RETENTION: &str = "s3:BypassGovernanceRetention";
/// The header that asks S3 to bypass governance-mode retention (S3 API
/// Reference, DeleteObject), which no condition key names: a witness
/// gives it as a `bucketlog:` pseudo-key.
pub const BYPASS_HEADER: &str = "bucketlog:bypass-governance-retention";

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

/// Whether an ACL permission grants an action (semantics.md 5.1's table).
/// Bucket WRITE's delete and overwrite rights depend on who owns the object:
/// `rules/40-acl-ownership.dl` R40.2b decides them (`OwnedOnly`).
fn acl_grants_action(p: AclPermission, object_acl: bool, action: &str) -> bool {
    use AclPermission::*;
    let names: &[&str] = match (object_acl, p) {
        (false, Read) => &[
            "s3:ListBucket",
            "s3:ListBucketVersions",
            "s3:ListBucketMultipartUploads",
        ],
        (false, Write) => &["s3:PutObject"],
        (false, ReadAcp) => &["s3:GetBucketAcl"],
        (false, WriteAcp) => &["s3:PutBucketAcl"],
        (false, FullControl) => &[
            "s3:ListBucket",
            "s3:ListBucketVersions",
            "s3:ListBucketMultipartUploads",
            "s3:PutObject",
            "s3:GetBucketAcl",
            "s3:PutBucketAcl",
        ],
        (true, Read) => &["s3:GetObject", "s3:GetObjectVersion"],
        (true, Write) => &[],
        (true, ReadAcp) => &["s3:GetObjectAcl", "s3:GetObjectVersionAcl"],
        (true, WriteAcp) => &["s3:PutObjectAcl", "s3:PutObjectVersionAcl"],
        (true, FullControl) => &[
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:GetObjectAcl",
            "s3:GetObjectVersionAcl",
            "s3:PutObjectAcl",
            "s3:PutObjectVersionAcl",
        ],
    };
    names.contains(&action)
}

/// How an ACL grantee names a subject: a canonical ID its account
/// (semantics.md 5.1), AllUsers everyone, AuthenticatedUsers every signed
/// caller, LogDelivery the log delivery service.
fn grantee_match(estate: &Estate, g: &Grantee, subject: &Subject) -> Option<(Class, Guard)> {
    match (g, subject) {
        (Grantee::Canonical(c), _) => {
            principal_match(estate, &PrincipalPattern::CanonicalUser(c.clone()), subject)
        }
        (Grantee::AllUsers, _) => Some((Class::Public, Guard::Definite)),
        (Grantee::AuthenticatedUsers, Subject::Anonymous) => None,
        (Grantee::AuthenticatedUsers, _) => Some((Class::Public, Guard::Definite)),
        (Grantee::LogDelivery, Subject::Service(s)) if s == "logging.s3.amazonaws.com" => {
            Some((Class::Direct, Guard::Definite))
        }
        (Grantee::LogDelivery, _) => None,
        // A grantee bucketlog cannot read may be any group, AllUsers too.
        (Grantee::Unresolved(_), _) => Some((Class::Public, Guard::Unknown)),
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
fn resource_guard(
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

/// A Principal that does not name its principals: everyone, a NotPrincipal,
/// or a Federated identity (S3 User Guide, "The meaning of public").
fn names_everyone(st: &Statement) -> bool {
    st.principal.as_ref().is_some_and(|p| {
        p.negated
            || p.items.iter().any(|i| {
                matches!(
                    i,
                    PrincipalPattern::Everyone | PrincipalPattern::Federated(_)
                )
            })
    })
}

/// Whether a statement grants none of the actions the S3 API reference counts
/// when it calls a policy public (PublicAccessBlockConfiguration).
fn only_quiet_actions(st: &Statement) -> bool {
    let loud = |name: &str| {
        ["s3:Get", "s3:List", "s3:Put", "s3:Delete"]
            .iter()
            .any(|p| name.starts_with(p))
            || name == "s3:AbortMultipartUpload"
            || name == "s3:RestoreObject"
    };
    let named = |a: &str| {
        st.action
            .items
            .iter()
            .any(|p| p == "*" || glob::matches(p, a, true))
    };
    !crate::catalog::Catalog::get()
        .actions
        .iter()
        .any(|a| named(&a.name) != st.action.negated && loud(&a.name))
}

/// Whether a condition entry pins a key that keeps an everyone-statement
/// non-public (S3 User Guide, "The meaning of public"): a listed key under a
/// positive exact operator with fixed values.
fn pins_trust_key(c: &ConditionEntry) -> bool {
    const KEYS: [&str; 11] = [
        "aws:userid",
        "aws:principalorgid",
        "aws:sourcearn",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceowner",
        "aws:sourceaccount",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        "s3:dataaccesspointarn",
        "s3:dataaccesspointaccount",
        "aws:sourceip",
    ];
    let key = c.key.to_ascii_lowercase();
    let exact_op = matches!(
        c.operator.as_str(),
        "StringEquals" | "ArnEquals" | "ArnLike" | "IpAddress"
    );
    let fixed = c
        .values
        .iter()
        .all(|v| !v.contains(['*', '?']) && !v.contains("${"));
    if !(exact_op && fixed && KEYS.contains(&key.as_str())) {
        return false;
    }
    if key == "aws:sourceip" {
        return c.operator == "IpAddress" && c.values.iter().all(|v| narrow_cidr(v));
    }
    c.operator != "IpAddress"
}

/// A CIDR no wider than /8 (IPv4) or /32 (IPv6), or inside RFC 1918.
fn narrow_cidr(v: &str) -> bool {
    let net: Option<ipnet::IpNet> = v
        .parse()
        .ok()
        .or_else(|| v.parse::<std::net::IpAddr>().ok().map(Into::into));
    match net {
        Some(ipnet::IpNet::V4(n)) => n.prefix_len() >= 8 || n.network().is_private(),
        Some(ipnet::IpNet::V6(n)) => n.prefix_len() >= 32,
        None => false,
    }
}

/// The account of an IAM or STS ARN.
fn arn_account(arn: &str) -> Option<&str> {
    arn_fields(arn).map(|f| f[4])
}

/// How a Principal entry names a subject (semantics.md 2.4, 4.3).
fn principal_match(
    estate: &Estate,
    item: &PrincipalPattern,
    subject: &Subject,
) -> Option<(Class, Guard)> {
    let known = |i: &usize| &estate.principals[*i];
    let canonical_account = |id: &str| {
        estate
            .accounts
            .values()
            .find(|a| a.canonical_id.as_deref() == Some(id))
            .map(|a| a.id.clone())
    };
    match (item, subject) {
        (PrincipalPattern::Everyone, _) => Some((Class::Public, Guard::Definite)),
        (PrincipalPattern::Account(a), Subject::Known(i)) if known(i).account == *a => {
            Some((Class::Account, Guard::Definite))
        }
        (PrincipalPattern::Account(a), Subject::Outside(x)) if a == x => {
            Some((Class::Account, Guard::Definite))
        }
        (PrincipalPattern::CanonicalUser(c), Subject::Known(_) | Subject::Outside(_)) => {
            let account = match subject {
                Subject::Known(i) => known(i).account.as_str(),
                Subject::Outside(a) => a.as_str(),
                _ => return None,
            };
            let own = estate
                .accounts
                .get(account)
                .and_then(|a| a.canonical_id.as_deref());
            match (canonical_account(c), own) {
                (Some(a), _) => (a == account).then_some((Class::Account, Guard::Definite)),
                // An ID no account of the snapshot has may be this account's
                // when its own ID is not known.
                (None, None) => Some((Class::Account, Guard::Unknown)),
                (None, Some(_)) => None,
            }
        }
        (PrincipalPattern::Arn(arn), Subject::Known(i)) => {
            let p = known(i);
            if *arn == p.arn {
                let class = if p.kind == PrincipalKind::Role {
                    Class::Role
                } else {
                    Class::Direct
                };
                return Some((class, Guard::Definite));
            }
            // An assumed-role session ARN names one session of the role (no path): the session name is free.
            let f = arn_fields(arn)?;
            let session_of = f[5]
                .strip_prefix("assumed-role/")
                .and_then(|r| r.split('/').next());
            (p.kind == PrincipalKind::Role
                && f[4] == p.account
                && session_of == Some(p.name.as_str()))
            .then_some((Class::Direct, Guard::Conditional))
        }
        // A grant naming one principal of an outside account holds for some of its principals only.
        (PrincipalPattern::Arn(arn), Subject::Outside(x)) if arn_account(arn) == Some(x) => {
            let class = if arn.contains(":role/") {
                Class::Role
            } else {
                Class::Direct
            };
            Some((class, Guard::Conditional))
        }
        (PrincipalPattern::UniqueId(id), Subject::Known(i))
            if known(i).unique_id.as_deref() == Some(id) =>
        {
            let class = if known(i).kind == PrincipalKind::Role {
                Class::Role
            } else {
                Class::Direct
            };
            Some((class, Guard::Definite))
        }
        (PrincipalPattern::Service(s), Subject::Service(x)) if s == x => {
            Some((Class::Direct, Guard::Definite))
        }
        _ => None,
    }
}

/// The links of a subject's chain that a NotPrincipal may list (semantics.md 2.5).
fn chain_links(estate: &Estate, subject: &Subject) -> &'static [Link] {
    match subject {
        Subject::Known(i) => match estate.principals[*i].kind {
            PrincipalKind::User => &[Link::Account, Link::Own],
            PrincipalKind::Role => &[Link::Account, Link::Role, Link::Own],
            PrincipalKind::Root => &[Link::Account],
        },
        // Some principal of the account: its own link stands for that principal.
        Subject::Outside(_) => &[Link::Account, Link::Own],
        Subject::Anonymous => &[],
        Subject::Service(_) => &[Link::Own],
    }
}

/// Which link of the subject's chain a principal entry names, and how
/// certainly: a session ARN names one session of a role, an ARN in an
/// outside account one of its principals.
fn names_link(
    estate: &Estate,
    item: &PrincipalPattern,
    subject: &Subject,
) -> Option<(Link, Guard)> {
    match (item, principal_match(estate, item, subject)?) {
        (PrincipalPattern::Everyone, _) => None,
        (_, (Class::Account, g)) => Some((Link::Account, g)),
        (_, (Class::Role, g)) if matches!(subject, Subject::Known(_)) => Some((Link::Role, g)),
        (_, (_, g)) => Some((Link::Own, g)),
    }
}

/// Whether a role's trust policy could name the subject at all, so that
/// chains need not consider every (principal, role) pair.
pub fn trust_may_name(estate: &Estate, role: usize, subject: &Subject) -> bool {
    let Some(t) = estate.principals[role].trust else {
        return false;
    };
    match &estate.policies[t].body {
        Err(_) => true,
        Ok(b) => b.statements.iter().any(|st| match &st.principal {
            None => false,
            Some(set) if set.negated => true,
            Some(set) => set
                .items
                .iter()
                .any(|i| principal_match(estate, i, subject).is_some()),
        }),
    }
}
