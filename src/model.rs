//! The typed estate: accounts, principals, groups, buckets and their policies,
//! as loaded from a snapshot. Knows neither crepe nor Z3; every policy and
//! statement keeps its source span.

use crate::diag::{Diagnostic, Span};
use std::collections::{BTreeMap, HashMap};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Effect {
    Allow,
    Deny,
}

/// Where a policy sits; the rules place its statements in a layer from this.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Inline or managed identity policy of a user, role or group.
    Identity,
    Boundary,
    Bucket,
    Trust,
    /// An Organizations service control policy.
    Scp,
    /// An Organizations resource control policy.
    Rcp,
    /// The ceiling MFA Delete puts on a bucket (`Bucket::mfa_delete`):
    /// written by the loader from `versioning.json`, not by a person.
    MfaDelete,
    /// An S3 access point's resource policy (`get-access-point-policy`).
    AccessPoint,
    /// A KMS key's key policy (`aws kms get-key-policy`).
    Key,
    /// The ceiling a listed version's Object Lock retention puts on
    /// deleting it (`ListedVersion::ceiling`): written by the loader from
    /// its head.json, not by a person.
    ObjectLock,
}

#[derive(Clone, Debug)]
pub struct Policy {
    /// What a person calls it: the policy name, or the bucket for a bucket policy.
    pub name: String,
    pub kind: PolicyKind,
    pub span: Span,
    /// `Err` when the document is invalid: every answer that depends on it is unknown.
    pub body: Result<PolicyBody, String>,
}

#[derive(Clone, Debug)]
pub struct PolicyBody {
    pub version: Option<String>,
    pub statements: Vec<Statement>,
}

#[derive(Clone, Debug)]
pub struct Statement {
    /// The Sid, or the statement's index when it has none.
    pub label: String,
    pub effect: Effect,
    /// `None`: no Principal element (identity policies).
    pub principal: Option<PrincipalSet>,
    pub action: Negatable<String>,
    /// `None`: no Resource element (trust policies).
    pub resource: Option<Negatable<String>>,
    pub condition: Vec<ConditionEntry>,
    /// `Condition: {}`, an operator with no keys or a key with no values:
    /// AWS's own tools disagree on what they mean (semantics.md 3.1).
    pub condition_empty: bool,
    pub span: Span,
}

/// An element that may be written in its `Not` form (NotAction, NotResource, NotPrincipal).
#[derive(Clone, Debug)]
pub struct Negatable<T> {
    pub negated: bool,
    pub items: Vec<T>,
}

#[derive(Clone, Debug)]
pub struct PrincipalSet {
    pub negated: bool,
    pub items: Vec<PrincipalPattern>,
}

/// One entry of a Principal element, parsed (semantics.md 2.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrincipalPattern {
    /// `"*"` or `{"AWS": "*"}`.
    Everyone,
    /// Every principal of an account: `ID`, `arn:aws:iam::ID:root`, or its canonical user ID.
    Account(String),
    CanonicalUser(String),
    /// A user, role, assumed-role session or federated user, by ARN.
    Arn(String),
    /// A unique ID (`AIDA…`, `AROA…`) left when the entity was deleted.
    UniqueId(String),
    Service(String),
    Federated(String),
}

#[derive(Clone, Debug)]
pub struct ConditionEntry {
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalKind {
    User,
    Role,
    Root,
}

#[derive(Clone, Debug)]
pub struct Principal {
    pub arn: String,
    pub account: String,
    pub kind: PrincipalKind,
    pub name: String,
    /// The `UserId`/`RoleId`, matched by unique-ID principal entries.
    pub unique_id: Option<String>,
    /// IAM tags (`Tags`): the values of `aws:PrincipalTag/<key>`; `None`
    /// when they could not be read (every tag key is then free).
    pub tags: Option<Vec<(String, String)>>,
    /// Indices into `Estate::policies`: inline and attached.
    pub policies: Vec<usize>,
    pub groups: Vec<String>,
    pub boundary: Option<usize>,
    pub trust: Option<usize>,
}

impl Principal {
    /// `user/NAME` or `role/NAME`, as queries name it (none for a root user).
    pub fn short_name(&self) -> Option<String> {
        match self.kind {
            PrincipalKind::User => Some(format!("user/{}", self.name)),
            PrincipalKind::Role => Some(format!("role/{}", self.name)),
            PrincipalKind::Root => None,
        }
    }

    /// Whether it is a service-linked role: those live under this path,
    /// and SCPs and RCPs do not limit them.
    pub fn is_service_linked(&self) -> bool {
        self.kind == PrincipalKind::Role && self.arn.contains(":role/aws-service-role/")
    }
}

impl Statement {
    /// Whether the statement's Action (or NotAction) covers an action
    /// (semantics.md 2.2: globs compared case-insensitively).
    pub fn covers_action(&self, action: &str) -> bool {
        let named = self
            .action
            .items
            .iter()
            .any(|p| p == "*" || crate::glob::matches(p, action, true));
        named != self.action.negated
    }
}

impl Principal {
    /// The root user of an account.
    pub fn root(account: &str) -> Principal {
        Principal {
            arn: format!("arn:aws:iam::{account}:root"),
            account: account.to_string(),
            kind: PrincipalKind::Root,
            name: "root".to_string(),
            unique_id: None,
            tags: Some(Vec::new()),
            policies: Vec::new(),
            groups: Vec::new(),
            boundary: None,
            trust: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Group {
    pub arn: String,
    pub name: String,
    pub account: String,
    pub policies: Vec<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ownership {
    BucketOwnerEnforced,
    BucketOwnerPreferred,
    ObjectWriter,
}

/// The four Block Public Access flags; `None` when the file could not be read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

/// Who an ACL grant names (S3 User Guide, "Access control list (ACL) overview").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grantee {
    /// A canonical user ID: an account.
    Canonical(String),
    AllUsers,
    AuthenticatedUsers,
    LogDelivery,
    /// A grantee form bucketlog cannot resolve (an e-mail address, an unknown group).
    Unresolved(String),
}

impl Grantee {
    /// As the output names it: `canonical:ID`, `AllUsers`, …
    pub fn name(&self) -> String {
        match self {
            Grantee::Canonical(c) => format!("canonical:{c}"),
            Grantee::AllUsers => "AllUsers".into(),
            Grantee::AuthenticatedUsers => "AuthenticatedUsers".into(),
            Grantee::LogDelivery => "LogDelivery".into(),
            Grantee::Unresolved(u) => u.clone(),
        }
    }

    /// A grant AWS calls public (S3 User Guide, "The meaning of public"):
    /// the one IgnorePublicAcls makes grant nothing.
    pub fn is_public(&self) -> bool {
        matches!(self, Grantee::AllUsers | Grantee::AuthenticatedUsers)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AclPermission {
    Read,
    Write,
    ReadAcp,
    WriteAcp,
    FullControl,
}

impl AclPermission {
    /// As S3 names it: `READ`, `FULL_CONTROL`, …
    pub fn name(self) -> &'static str {
        match self {
            AclPermission::Read => "READ",
            AclPermission::Write => "WRITE",
            AclPermission::ReadAcp => "READ_ACP",
            AclPermission::WriteAcp => "WRITE_ACP",
            AclPermission::FullControl => "FULL_CONTROL",
        }
    }

    /// WRITE or FULL_CONTROL: a grant that lets its grantee write (on a
    /// bucket: upload, and overwrite or delete what it owns).
    pub fn writes(self) -> bool {
        matches!(self, AclPermission::Write | AclPermission::FullControl)
    }
}

#[derive(Clone, Debug)]
pub struct AclGrant {
    pub grantee: Grantee,
    pub permission: AclPermission,
    pub span: Span,
}

/// A bucket or object ACL as `get-bucket-acl` / `get-object-acl` print it.
#[derive(Clone, Debug)]
pub struct Acl {
    /// The owner's canonical user ID.
    pub owner: Option<String>,
    pub grants: Vec<AclGrant>,
}

/// An object the snapshot lists (`objects/<key>.acl.json`): its owner and ACL.
#[derive(Clone, Debug)]
pub struct ListedObject {
    pub key: String,
    pub acl: Result<Acl, String>,
    /// How it is encrypted (`head-object`); `None` when the snapshot has no
    /// head.json for it (the bucket's default encryption is taken).
    pub encryption: Option<Result<Encryption, String>>,
    /// The version its head.json describes (`VersionId`), with that
    /// version's Object Lock state; `None` without a readable head.json
    /// that names a version.
    pub version: Option<ListedVersion>,
}

/// One version of a listed object, as `head-object` describes it: its ID
/// and what Object Lock keeps it from (rules/46-object-lock.dl).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedVersion {
    pub id: String,
    pub retention: Option<Retention>,
    /// `ObjectLockLegalHoldStatus` ON.
    pub legal_hold: bool,
    /// Under retention, the policy that stands for it
    /// (`PolicyKind::ObjectLock`): one Allow of deleting the version once
    /// `aws:CurrentTime` is past the retain-until date.
    pub ceiling: Option<usize>,
}

/// A version's retention period (`ObjectLockMode`,
/// `ObjectLockRetainUntilDate`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retention {
    pub mode: RetentionMode,
    /// As head-object prints it (RFC 3339).
    pub until: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetentionMode {
    /// Deletable before the date with s3:BypassGovernanceRetention and the
    /// x-amz-bypass-governance-retention header.
    Governance,
    /// Deletable by no one before the date, the root user included.
    Compliance,
}

#[derive(Clone, Debug)]
pub struct Bucket {
    pub name: String,
    pub account: String,
    pub policy: Option<usize>,
    /// `Err` with the reason when the ownership controls could not be read.
    pub ownership: Result<Ownership, String>,
    pub public_access_block: Result<PublicAccessBlock, String>,
    /// `None` when the snapshot has no acl.json.
    pub acl: Option<Result<Acl, String>>,
    pub objects: Vec<ListedObject>,
    /// `Err` with the reason when `versioning.json` could not be read.
    pub versioning: Result<Versioning, String>,
    /// Under MFA Delete, the policy that stands for it (`PolicyKind::MfaDelete`).
    pub mfa_delete: Option<usize>,
    /// `Err` with the reason when `object-lock.json` could not be read.
    pub object_lock: Result<ObjectLock, String>,
    /// Default encryption (`encryption.json`; none: SSE-S3, AWS's default
    /// since January 2023). `Err` with the reason when it could not be read.
    pub encryption: Result<Encryption, String>,
    pub span: Span,
}

/// How S3 encrypts what is written without encryption headers
/// (`aws s3api get-bucket-encryption`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Encryption {
    /// SSE-S3 (`AES256`): S3's own keys, no KMS request.
    #[default]
    S3Managed,
    /// SSE-KMS or DSSE-KMS under a KMS key: `key` as the configuration
    /// names it (key ID, key ARN or alias; `None`: the account's AWS
    /// managed key `aws/s3`), and whether S3 Bucket Keys are on (the
    /// encryption context is then the bucket's ARN).
    Kms {
        key: Option<String>,
        bucket_key: bool,
    },
}

/// A KMS key of the snapshot (`kms/<key-id>/`: `describe-key`,
/// `get-key-policy`).
#[derive(Clone, Debug)]
pub struct KmsKey {
    pub id: String,
    pub arn: String,
    pub account: String,
    pub region: String,
    /// `KeyManager: AWS` (an AWS managed key such as `aws/s3`).
    pub aws_managed: bool,
    /// `Enabled` and `KeyState: Enabled`: a disabled key decrypts nothing.
    pub enabled: bool,
    /// The key policy; `None` when the snapshot has no `policy.json`.
    pub policy: Option<usize>,
    /// It has grants (or its `list-grants` could not be read): grants only
    /// add access and are not evaluated yet (rules/78).
    pub grants: bool,
    pub span: Span,
}

impl Bucket {
    /// Whether a version of the bucket may be under Object Lock retention:
    /// Object Lock is on, or its configuration could not be read.
    pub fn may_lock_versions(&self) -> bool {
        self.object_lock.as_ref().map_or(true, |l| l.enabled)
    }
}

/// An S3 access point (`aws s3control get-access-point`): a named way into
/// one bucket with its own policy, network origin and Block Public Access
/// (S3 User Guide, "Managing access to shared datasets with access points").
#[derive(Clone, Debug)]
pub struct AccessPoint {
    pub name: String,
    /// The account that owns the access point (its folder in the snapshot).
    pub account: String,
    pub region: String,
    /// The bucket it serves, by name (`Bucket`), and that bucket's account
    /// (`BucketAccountId`; the access point's own when not printed).
    pub bucket: String,
    pub bucket_account: String,
    /// `NetworkOrigin: VPC`: the VPC its requests must come from.
    pub vpc: Option<String>,
    /// The access point's own Block Public Access.
    pub public_access_block: PublicAccessBlock,
    pub policy: Option<usize>,
    pub span: Span,
}

impl AccessPoint {
    /// `arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME`, as policies name it.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:s3:{}:{}:accesspoint/{}",
            self.region, self.account, self.name
        )
    }
}

/// A bucket's versioning state (`aws s3api get-bucket-versioning`); a
/// bucket that was never versioned prints neither `Status` nor `MFADelete`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Versioning {
    pub status: VersioningStatus,
    pub mfa_delete: bool,
}

/// The actions MFA Delete guards: S3 User Guide, "Deleting an object from
/// an MFA delete-enabled bucket" — "only the root user can permanently
/// delete object versions or change the versioning configuration".
pub const MFA_DELETE_ACTIONS: [&str; 2] = ["s3:DeleteObjectVersion", "s3:PutBucketVersioning"];

/// A bucket's Object Lock configuration (`aws s3api
/// get-object-lock-configuration`): whether it is on, and the retention
/// new versions get by default (`GOVERNANCE 30 days`), as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectLock {
    pub enabled: bool,
    pub default_retention: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VersioningStatus {
    #[default]
    Never,
    Enabled,
    Suspended,
}

/// Whether an account's principals are known.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum IamState {
    Loaded,
    /// No IAM in the snapshot: an outside account, `account:ID` (cli.md).
    #[default]
    Missing,
    /// The IAM file could not be used (the reason): answers about its
    /// principals are unknown.
    Unreadable(String),
}

#[derive(Clone, Debug, Default)]
pub struct Account {
    pub id: String,
    pub canonical_id: Option<String>,
    pub iam: IamState,
    pub account_public_access_block: Option<Result<PublicAccessBlock, String>>,
}

#[derive(Clone, Debug, Default)]
pub struct Estate {
    pub accounts: BTreeMap<String, Account>,
    pub principals: Vec<Principal>,
    pub groups: Vec<Group>,
    pub buckets: Vec<Bucket>,
    pub access_points: Vec<AccessPoint>,
    /// Access points whose `get-access-point` could not be read
    /// (`ACCOUNT/NAME`): which bucket they serve is unknown.
    pub unreadable_access_points: Vec<String>,
    pub kms_keys: Vec<KmsKey>,
    pub policies: Vec<Policy>,
    pub diagnostics: Vec<Diagnostic>,
    /// The organization, when the snapshot has Organizations data.
    pub organization: Option<Organization>,
    /// `groups` by (account, name), built when first asked (`group`).
    group_index: GroupIndex,
}

/// Where each group is in `Estate::groups`, by (account, name): a user's
/// groups are looked up for every identity question, and a scan of every
/// group per lookup was a quarter of loading 50,000 users. Built on first
/// use, after loading; a clone starts without it.
#[derive(Default)]
struct GroupIndex(std::sync::OnceLock<HashMap<String, HashMap<String, usize>>>);

impl Clone for GroupIndex {
    fn clone(&self) -> GroupIndex {
        GroupIndex::default()
    }
}

impl std::fmt::Debug for GroupIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupIndex")
    }
}

/// AWS Organizations: the tree from the root through OUs to accounts, and the
/// SCPs and RCPs attached along it.
#[derive(Clone, Debug, Default)]
pub struct Organization {
    pub id: Option<String>,
    pub management_account: Option<String>,
    /// Member accounts (`list-accounts`).
    pub accounts: Vec<String>,
    /// Whether `accounts` is the membership as read (`list-accounts` or the
    /// tree), not a stand-in for an unreadable one.
    pub members_known: bool,
    /// Parent of each root, OU and account id (`None` for the root).
    pub parent: BTreeMap<String, Option<String>>,
    pub policies: Vec<OrgPolicy>,
}

#[derive(Clone, Debug)]
pub struct OrgPolicy {
    pub id: String,
    /// Index into `Estate::policies` (kind Scp or Rcp).
    pub policy: usize,
    /// Roots, OUs and accounts it is attached to.
    pub targets: Vec<String>,
}

impl Organization {
    /// The path from the root down to `node` (root first), or empty when
    /// the tree does not know it.
    pub fn path(&self, node: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = Some(node.to_string());
        while let Some(n) = cur {
            if out.contains(&n) || !self.parent.contains_key(&n) {
                break;
            }
            cur = self.parent[&n].clone();
            out.push(n);
        }
        out.reverse();
        out
    }

    /// The path of an account's parent as the organization keys carry it
    /// (`r-…/ou-…/`, root first, with a trailing `/`), when the tree places
    /// the account under a root.
    pub fn parent_path(&self, account: &str) -> Option<String> {
        let path = self.path(account);
        let (root, _) = path.split_first()?;
        if path.len() < 2 || self.parent.get(root) != Some(&None) {
            return None;
        }
        Some(
            path[..path.len() - 1]
                .iter()
                .map(|n| format!("{n}/"))
                .collect(),
        )
    }
}

impl Estate {
    pub fn is_described(&self, account: &str) -> bool {
        self.accounts
            .get(account)
            .is_some_and(|a| a.iam == IamState::Loaded)
    }

    pub fn bucket(&self, name: &str) -> Option<&Bucket> {
        self.buckets.iter().find(|b| b.name == name)
    }

    /// The bucket an access point serves, when the snapshot has it.
    pub fn access_point_bucket(&self, ap: &AccessPoint) -> Option<usize> {
        self.buckets
            .iter()
            .position(|b| b.name == ap.bucket && b.account == ap.bucket_account)
    }

    /// The enabled KMS key of the snapshot that an encryption setting of
    /// a bucket of `account` names, by ARN or (in that account) by key ID;
    /// `None` for an alias, a key the snapshot does not describe or a
    /// disabled one.
    pub fn kms_key_named(&self, account: &str, named: &str) -> Option<usize> {
        self.kms_keys
            .iter()
            .position(|k| k.enabled && (k.arn == named || (k.id == named && k.account == account)))
    }

    /// The account whose canonical user ID this is, when the snapshot knows it.
    pub fn account_of_canonical(&self, id: &str) -> Option<&str> {
        self.accounts
            .values()
            .find(|a| a.canonical_id.as_deref() == Some(id))
            .map(|a| a.id.as_str())
    }

    /// A group of an account by name.
    pub fn group(&self, account: &str, name: &str) -> Option<&Group> {
        let index = self.group_index.0.get_or_init(|| {
            let mut index: HashMap<String, HashMap<String, usize>> = HashMap::new();
            for (i, g) in self.groups.iter().enumerate() {
                let names = index.entry(g.account.clone()).or_default();
                names.entry(g.name.clone()).or_insert(i);
            }
            index
        });
        let is = |g: &&Group| g.account == account && g.name == name;
        // A hit is checked against the group itself, and a miss scans: the
        // index may predate a change to `groups` (tests edit estates).
        match index.get(account).and_then(|names| names.get(name)) {
            Some(&i) => self.groups.get(i).filter(is),
            None => None,
        }
        .or_else(|| self.groups.iter().find(is))
    }

    /// The object prefixes the policies name, as `bucket/a/b/` from a
    /// Resource `arn:aws:s3:::bucket/a/b/*` (no wildcard or variable before
    /// the last `/`), sorted and without repeats: what the REPL completes
    /// and the graph draws as prefix scopes.
    pub fn policy_prefixes(&self) -> Vec<String> {
        let mut out = Vec::new();
        for pol in &self.policies {
            let Ok(body) = &pol.body else { continue };
            for r in body.statements.iter().filter_map(|s| s.resource.as_ref()) {
                for item in &r.items {
                    let Some(path) = item.strip_prefix("arn:aws:s3:::") else {
                        continue;
                    };
                    if let Some(end) = path.rfind('/') {
                        let prefix = &path[..=end];
                        if !prefix.contains(['*', '?', '$']) {
                            out.push(prefix.to_string());
                        }
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Every policy whose statements speak for `p`'s identity: its own and its groups'.
    pub fn identity_policies(&self, p: &Principal) -> Vec<usize> {
        self.each_identity_policy(p).collect()
    }

    /// `identity_policies`, without collecting them (a policy held twice
    /// comes twice).
    pub fn each_identity_policy<'a>(
        &'a self,
        p: &'a Principal,
    ) -> impl Iterator<Item = usize> + 'a {
        let groups = p.groups.iter().filter_map(|g| self.group(&p.account, g));
        p.policies
            .iter()
            .chain(groups.flat_map(|g| &g.policies))
            .copied()
    }
}

/// Splits an ARN into its six fields (the sixth keeps any further colons).
pub fn arn_fields(arn: &str) -> Option<[&str; 6]> {
    let mut it = arn.splitn(6, ':');
    let f = [
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    ];
    (f[0] == "arn").then_some(f)
}

pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}
