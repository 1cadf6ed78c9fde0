//! The Datalog program of `rules/`, compiled by crepe (build.rs joins the
//! files), and the id and enum types its relations use. `run` unpacks the
//! output tuple into `Derived`; nothing else touches crepe.

#![allow(clippy::all, clippy::pedantic)]

pub use crate::model::Effect;
use std::collections::HashSet;

macro_rules! id {
    ($($(#[$m:meta])* $name:ident),*) => {$(
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);
    )*};
}

id!(
    /// A request: one (principal, resource, action) this query evaluates.
    ReqId,
    /// A principal, group or resource (bucket scope or role).
    EntId,
    /// One statement (or one invalid policy).
    StmtId,
    AcctId,
    ActId,
    /// An encryption an uploader may choose other than the bucket's
    /// default (rules/78): 0 SSE-S3, k + 1 the estate's KMS key k.
    SseId
);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bound {
    Must,
    May,
}

/// The layers of semantics.md 4.1, as named in `because` and `blocked_by`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    Identity,
    Boundary,
    BucketPolicy,
    Trust,
    Acl,
    Scp,
    Rcp,
    Bpa,
    Ownership,
    /// The bucket's MFA Delete (rules/45).
    MfaDelete,
    /// The policy of the access point a request goes through (rules/77).
    AccessPointPolicy,
    /// The key policy of the KMS key an object is encrypted under (rules/78).
    KeyPolicy,
    /// A listed version's retention or legal hold (rules/46).
    ObjectLock,
}

impl Layer {
    pub fn name(self) -> &'static str {
        match self {
            Layer::Identity => "identity",
            Layer::Boundary => "boundary",
            Layer::BucketPolicy => "bucket-policy",
            Layer::Trust => "trust",
            Layer::Acl => "acl",
            Layer::Scp => "scp",
            Layer::Rcp => "rcp",
            Layer::Bpa => "bpa",
            Layer::Ownership => "ownership",
            Layer::MfaDelete => "mfa-delete",
            Layer::AccessPointPolicy => "access-point-policy",
            Layer::KeyPolicy => "key-policy",
            Layer::ObjectLock => "object-lock",
        }
    }
}

/// How certainly a statement's elements hold for a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Guard {
    Definite,
    /// A Condition block, or a resource pattern that covers only part of the scope.
    Conditional,
    /// Something bucketlog does not model (an invalid policy, a policy variable…).
    Unknown,
}

/// How a resource-based statement names the caller (semantics.md 4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    Direct,
    Role,
    Account,
    Public,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PKind {
    User,
    Role,
    Root,
    OutsideAccount,
    Anonymous,
    Service,
}

/// A link of a principal's chain, as a NotPrincipal may list it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Link {
    Account,
    Role,
    Own,
}

/// A layer this version does not evaluate, and what it could do to an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Open {
    /// ACLs are enabled on the bucket and its ACL is missing or unreadable.
    Acls,
    /// The bucket ACL grants WRITE to another account, and the object is
    /// not listed: whether that grantee may overwrite or delete it depends on
    /// who owns it.
    ForeignWriteGrant,
    /// Whether some account may own an unlisted object turns on an upload
    /// that is unknown, or on grant headers a policy reads.
    UploaderUncertain,
    /// An unsigned upload may have written the object: the anonymous owner's
    /// own access to it is not modelled.
    AnonymousOwner,
    /// A member account whose place in the organization's tree is not in the
    /// snapshot: the SCPs or RCPs above it are unknown.
    OrgPathUnknown,
    /// A Block Public Access or ownership file could not be read.
    Unreadable,
    /// The principal's account IAM could not be read: its policies are unknown.
    IamUnreadable,
    /// A listed object's owner maps to no account of the snapshot, and the
    /// caller's account has no known canonical ID: it may be the owner.
    OwnerUnresolved,
    /// The bucket policy is public by one of AWS's two definitions only, and
    /// RestrictPublicBuckets is on.
    PublicPolicyAmbiguous,
    /// Another account deletes an object another account owns or may own.
    ForeignObjectDelete,
    /// The bucket's versioning.json could not be read: MFA Delete may be on.
    VersioningUnreadable,
    /// The bucket has Object Lock on (or its object-lock.json could not be
    /// read): the version a request deletes may be under retention.
    ObjectLock,
    /// Through an access point, the caller's identity policy allows the
    /// access point's ARN and not the bucket's, and nothing else stops the
    /// request at the bucket: whether AWS asks the identity policy about
    /// the bucket ARN there is not documented (semantics.md 5.8).
    AccessPointIdentity,
    /// The object is encrypted under a KMS key the snapshot does not have
    /// (or names by alias, or as the AWS managed key), or the bucket's
    /// encryption.json could not be read (rules/78).
    KeyUnresolved,
    /// The KMS key has grants (or its grants could not be read): grants
    /// only add access and are not evaluated (rules/78).
    KeyGrants,
    /// The KMS key has no key policy in the snapshot (rules/78).
    KeyPolicyMissing,
    /// Whether an upload may have encrypted an unlisted object otherwise
    /// than by default turns on an upload whose decision is unknown.
    EncryptionUncertain,
}

impl Open {
    pub fn reason(self) -> &'static str {
        match self {
            Open::Acls => {
                "the bucket has ACLs enabled (Object Ownership is not BucketOwnerEnforced) and its \
                 ACL is missing or could not be read: what it grants is unknown"
            }
            Open::ForeignWriteGrant => {
                "the bucket ACL grants WRITE to another account and the object is not listed: \
                 whether a grantee may overwrite or delete it depends on who owns it"
            }
            Open::UploaderUncertain => {
                "who may own an object the snapshot does not list depends on an upload that is itself unknown, \
                 or that may or may not send bucket-owner-full-control where a policy reads the grant headers \
                 (s3:x-amz-grant-*), which are not evaluated"
            }
            Open::AnonymousOwner => {
                "an unsigned upload may have written the object, and what its anonymous owner may do with it is not modelled"
            }
            Open::OrgPathUnknown => {
                "the account is a member of the organization but tree.json does not place it: the SCPs and RCPs above it are unknown"
            }
            Open::Unreadable => {
                "the bucket's Block Public Access or ownership settings, or the object's ACL, could not be read"
            }
            Open::OwnerUnresolved => {
                "the object's owner is a canonical ID no account of the snapshot has, and the caller's account \
                 has no known canonical ID (no list-buckets.json): it may be the owner"
            }
            Open::PublicPolicyAmbiguous => {
                "RestrictPublicBuckets is on and the bucket policy is public by the S3 User Guide's definition \
                 but not by the API reference's (its public statements grant no Get/List/Put/Delete action)"
            }
            Open::ForeignObjectDelete => {
                "another account deletes an object that an account other than the bucket owner owns or may own: \
                 whether the bucket owner's grants cover that is undocumented"
            }
            Open::IamUnreadable => {
                "the principal's account has an iam.json that could not be read: its policies are unknown"
            }
            Open::AccessPointIdentity => {
                "through an access point, the caller's identity policy allows the access point \
                 and not the bucket, and nothing else at the bucket stops it: whether AWS asks the \
                 identity policy about the bucket's own ARN for a request through an access point \
                 is not documented"
            }
            Open::ObjectLock => {
                "the bucket has Object Lock on (or its object-lock.json could not be read): a version \
                 under retention cannot be deleted in compliance mode and needs \
                 s3:BypassGovernanceRetention in governance mode, and the snapshot does not say \
                 which versions are under retention (a listed object's head.json describes one \
                 version: ask about it with `with s3:versionid = ID`)"
            }
            Open::KeyUnresolved => {
                "the object is encrypted under a KMS key the snapshot does not describe (no kms/<key-id>/, \
                 a key named by alias, or another account's AWS managed key aws/s3), or the bucket's encryption.json \
                 could not be read: whether the caller may use the key is unknown"
            }
            Open::KeyGrants => {
                "the KMS key has grants (or its grants.json could not be read), which may allow what \
                 its key policy does not; grants are not evaluated"
            }
            Open::EncryptionUncertain => {
                "whether an object the snapshot does not list may be encrypted otherwise than by the \
                 bucket's default (an upload asking for SSE-S3 or another KMS key) depends on an upload \
                 that is itself unknown"
            }
            Open::KeyPolicyMissing => {
                "the KMS key has no policy.json: its key policy, which decides who may use the key, is unknown"
            }
            Open::VersioningUnreadable => {
                "the bucket's versioning.json could not be read: MFA Delete, which lets only the \
                 bucket owner's root user delete versions, change versioning or set a lifecycle, may be on"
            }
        }
    }
}

/// The ACL a PUT request carries (`s3:x-amz-acl`, `s3:x-amz-grant-*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AclHeader {
    /// A canned ACL or grant that is public: public-read, public-read-write,
    /// authenticated-read, or a grant to the AllUsers/AuthenticatedUsers groups.
    Public,
    /// The canned ACL bucket-owner-full-control.
    OwnerFullControl,
    /// Any other ACL.
    Other,
}

/// The ACL headers an upload check sends (rules/75 R75.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UploadAcl {
    /// No policy that may speak to the upload reads the ACL headers: they
    /// are free, and whether the upload is allowed turns on other keys.
    Unread,
    /// A policy reads the grant headers (`s3:x-amz-grant-*`): how they
    /// bear on the upload is not evaluated.
    Unsettled,
    /// `s3:x-amz-acl` absent (the grant headers free).
    NoCanned,
    /// `s3:x-amz-acl = bucket-owner-full-control`.
    OwnerFullControl,
    /// `s3:x-amz-acl` = another canned ACL.
    OtherCanned,
}

/// Why an allow needs no policy statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Implicit {
    /// The root user of the resource's own account (R70.3).
    OwnerRoot,
    /// `account:ID` asking about its own bucket: its identity side is taken to allow everything (R70.6).
    UndescribedOwnAccount,
}

impl Implicit {
    pub fn reason(self) -> &'static str {
        match self {
            Implicit::OwnerRoot => "the root user of the resource's own account needs no grant",
            Implicit::UndescribedOwnAccount => {
                "the account's IAM is not in the snapshot, so its identity policies are taken to allow everything"
            }
        }
    }
}

/// Ordered from most to least permissive; a chain is as good as its worst hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Decision {
    Allow,
    Conditional,
    Unknown,
    DenyImplicit,
    DenyExplicit,
}

impl Decision {
    /// Whether an edge or an answer with this decision may give access.
    pub fn reaches(self) -> bool {
        self < Decision::DenyImplicit
    }

    /// The decision and, for a deny, its kind, as cli.md names them.
    pub fn names(self) -> (&'static str, Option<&'static str>) {
        match self {
            Decision::Allow => ("allow", None),
            Decision::Conditional => ("conditional", None),
            Decision::Unknown => ("unknown", None),
            Decision::DenyImplicit => ("deny", Some("implicit")),
            Decision::DenyExplicit => ("deny", Some("explicit")),
        }
    }
}

include!(concat!(env!("OUT_DIR"), "/rules.rs"));

/// The input facts of one query, as built by `facts`.
#[derive(Default)]
pub struct Facts {
    pub requests: Vec<Request>,
    pub assume_role: Vec<IsAssumeRole>,
    pub kinds: Vec<PrincipalKindOf>,
    pub principal_accounts: Vec<PrincipalAccount>,
    pub resource_accounts: Vec<ResourceAccount>,
    pub resource_layers: Vec<ResourcePolicyLayer>,
    pub member_of: Vec<MemberOf>,
    pub boundaries: Vec<HasBoundary>,
    pub holds: Vec<Holds>,
    pub stmts: Vec<StmtFacts>,
    pub matches: Vec<Matches>,
    pub principal_matches: Vec<PrincipalMatch>,
    pub chain_links: Vec<ChainLink>,
    pub assume_edges: Vec<AssumeEdge>,
    pub chain_heads: Vec<ChainHead>,
    pub through_access_point: Vec<ThroughAccessPoint>,
    pub kms_actions: Vec<IsKmsAction>,
    pub side_requests: Vec<SideRequest>,
    pub key_unresolved: Vec<KeyUnresolved>,
    pub aws_managed_key: Vec<AwsManagedKey>,
    pub states_listed: Vec<StatesListed>,
    pub sse_checks: Vec<SseCheck>,
    pub variant_sse: Vec<VariantSse>,
    pub not_principal: Vec<NotPrincipalOf>,
    pub not_principal_names: Vec<NotPrincipalNames>,
    pub not_principal_everyone: Vec<NotPrincipalEveryone>,
    pub names_everyone: Vec<StmtNamesEveryone>,
    pub pins_trust_key: Vec<StmtPinsTrustKey>,
    pub only_quiet_actions: Vec<StmtOnlyQuietActions>,
    pub bucket_restrict_public: Vec<BucketRestrictPublic>,
    pub account_restrict_public: Vec<AccountRestrictPublic>,
    pub bucket_policy_actions: Vec<IsBucketPolicyAction>,
    pub delete_actions: Vec<IsDeleteObject>,
    pub mfa_delete_actions: Vec<IsMfaDeleteAction>,
    pub lifecycle_actions: Vec<IsLifecycleAction>,
    pub versioning_unreadable: Vec<VersioningUnreadable>,
    pub object_lock_may: Vec<ObjectLockMay>,
    pub version_listed: Vec<VersionListed>,
    pub retained: Vec<Retained>,
    pub legal_hold: Vec<LegalHold>,
    pub delete_version_actions: Vec<IsDeleteVersion>,
    pub grantor_is_owner: Vec<GrantorIsBucketOwner>,
    pub org_members: Vec<OrgMember>,
    pub account_levels: Vec<AccountLevel>,
    pub service_linked: Vec<IsServiceLinkedRole>,
    pub object_owners: Vec<ObjectOwner>,
    pub object_acl_stmts: Vec<ObjectAclStmt>,
    pub public_acl_stmts: Vec<PublicAclStmt>,
    pub ignore_public_acls: Vec<IgnorePublicAcls>,
    pub unmapped_owners: Vec<UnmappedOwner>,
    pub canonical_unknown: Vec<CanonicalUnknown>,
    pub resource_open: Vec<ResourceOpen>,
    pub principal_open: Vec<PrincipalOpen>,
    pub free_owner: Vec<FreeOwner>,
    pub variant_of: Vec<VariantOf>,
    pub listed_variant: Vec<ListedVariant>,
    pub uploader_account: Vec<UploaderAccount>,
    pub owner_preferred: Vec<OwnerPreferred>,
    pub upload_checks: Vec<UploadCheck>,
    pub uploads_via: Vec<UploadsVia>,
    pub left_out: Vec<LeftOut>,
    pub upload_known: Vec<UploadKnown>,
    pub sse_known: Vec<SseKnown>,
    pub way_variants: Vec<WayVariant>,
    pub owned_only: Vec<OwnedOnly>,
    pub puts_acl: Vec<PutsAcl>,
    pub blocks_public_acls: Vec<BlocksPublicAcls>,
    pub acls_disabled: Vec<AclsDisabled>,
}

/// A derived relation. Crepe's default SipHash is a third of a run's time;
/// its inputs are our own ids, so a fast non-keyed hash is safe.
pub type Set<T> = HashSet<T, rustc_hash::FxBuildHasher>;

/// The derived relations a query reads.
pub struct Derived {
    pub applicable: Set<Applicable>,
    pub past_upload: Set<PastUpload>,
    pub past_encryption: Set<PastEncryption>,
    pub variant_answer: Set<VariantAnswer>,
    pub unknown_because: Set<UnknownBecause>,
    pub open_layer: Set<OpenLayer>,
    pub answer: Set<Answer>,
    pub blocked_by: Set<BlockedBy>,
    pub because: Set<Because>,
    pub granted_implicitly: Set<GrantedImplicitly>,
    pub chain_answer: Set<ChainAnswer>,
    pub sanity_two_answers: Set<SanityTwoAnswers>,
    pub sanity_must_not_may: Set<SanityMustNotMay>,
    pub sanity_implicit_unnamed: Set<SanityImplicitUnnamed>,
    /// The number of input facts.
    pub facts: usize,
}

pub fn run(f: &Facts) -> Derived {
    let mut rt = Crepe::new();
    // How many input facts the rules ran over (benchmarks report it).
    let mut facts = 0;
    rt.extend([BoundDomain(Bound::Must), BoundDomain(Bound::May)]);
    facts += f.requests.len();
    rt.extend(&f.requests);
    facts += f.assume_role.len();
    rt.extend(&f.assume_role);
    facts += f.kinds.len();
    rt.extend(&f.kinds);
    facts += f.principal_accounts.len();
    rt.extend(&f.principal_accounts);
    facts += f.resource_accounts.len();
    rt.extend(&f.resource_accounts);
    facts += f.resource_layers.len();
    rt.extend(&f.resource_layers);
    facts += f.member_of.len();
    rt.extend(&f.member_of);
    facts += f.boundaries.len();
    rt.extend(&f.boundaries);
    facts += f.holds.len();
    rt.extend(&f.holds);
    facts += f.stmts.len();
    rt.extend(&f.stmts);
    facts += f.matches.len();
    rt.extend(&f.matches);
    facts += f.principal_matches.len();
    rt.extend(&f.principal_matches);
    facts += f.chain_links.len();
    rt.extend(&f.chain_links);
    facts += f.assume_edges.len();
    rt.extend(&f.assume_edges);
    facts += f.chain_heads.len();
    rt.extend(&f.chain_heads);
    facts += f.through_access_point.len();
    rt.extend(&f.through_access_point);
    facts += f.kms_actions.len() + f.side_requests.len() + f.key_unresolved.len();
    facts += f.aws_managed_key.len();
    rt.extend(&f.aws_managed_key);
    rt.extend(&f.kms_actions);
    rt.extend(&f.side_requests);
    rt.extend(&f.key_unresolved);
    facts += f.states_listed.len();
    rt.extend(&f.states_listed);
    facts += f.sse_checks.len() + f.variant_sse.len();
    rt.extend(&f.sse_checks);
    rt.extend(&f.variant_sse);
    facts += f.not_principal.len();
    rt.extend(&f.not_principal);
    facts += f.not_principal_names.len();
    rt.extend(&f.not_principal_names);
    facts += f.not_principal_everyone.len();
    rt.extend(&f.not_principal_everyone);
    facts += f.names_everyone.len();
    rt.extend(&f.names_everyone);
    facts += f.pins_trust_key.len();
    rt.extend(&f.pins_trust_key);
    facts += f.only_quiet_actions.len();
    rt.extend(&f.only_quiet_actions);
    facts += f.bucket_restrict_public.len();
    rt.extend(&f.bucket_restrict_public);
    facts += f.account_restrict_public.len();
    rt.extend(&f.account_restrict_public);
    facts += f.bucket_policy_actions.len();
    rt.extend(&f.bucket_policy_actions);
    facts += f.delete_actions.len();
    rt.extend(&f.delete_actions);
    facts += f.mfa_delete_actions.len();
    rt.extend(&f.mfa_delete_actions);
    facts += f.lifecycle_actions.len();
    rt.extend(&f.lifecycle_actions);
    facts += f.versioning_unreadable.len();
    rt.extend(&f.versioning_unreadable);
    facts += f.object_lock_may.len();
    rt.extend(&f.object_lock_may);
    facts += f.version_listed.len() + f.retained.len() + f.legal_hold.len();
    rt.extend(&f.version_listed);
    rt.extend(&f.retained);
    rt.extend(&f.legal_hold);
    facts += f.delete_version_actions.len();
    rt.extend(&f.delete_version_actions);
    facts += f.grantor_is_owner.len();
    rt.extend(&f.grantor_is_owner);
    facts += f.org_members.len();
    rt.extend(&f.org_members);
    facts += f.account_levels.len();
    rt.extend(&f.account_levels);
    facts += f.service_linked.len();
    rt.extend(&f.service_linked);
    facts += f.object_owners.len();
    rt.extend(&f.object_owners);
    facts += f.object_acl_stmts.len();
    rt.extend(&f.object_acl_stmts);
    facts += f.public_acl_stmts.len();
    rt.extend(&f.public_acl_stmts);
    facts += f.ignore_public_acls.len();
    rt.extend(&f.ignore_public_acls);
    facts += f.unmapped_owners.len();
    rt.extend(&f.unmapped_owners);
    facts += f.canonical_unknown.len();
    rt.extend(&f.canonical_unknown);
    facts += f.resource_open.len();
    rt.extend(&f.resource_open);
    facts += f.principal_open.len();
    rt.extend(&f.principal_open);
    facts += f.free_owner.len();
    rt.extend(&f.free_owner);
    facts += f.variant_of.len();
    rt.extend(&f.variant_of);
    facts += f.listed_variant.len();
    rt.extend(&f.listed_variant);
    facts += f.uploader_account.len();
    rt.extend(&f.uploader_account);
    facts += f.owner_preferred.len();
    rt.extend(&f.owner_preferred);
    facts += f.upload_checks.len();
    rt.extend(&f.upload_checks);
    facts += f.uploads_via.len();
    rt.extend(&f.uploads_via);
    facts += f.left_out.len();
    rt.extend(&f.left_out);
    facts += f.upload_known.len() + f.sse_known.len();
    rt.extend(&f.upload_known);
    rt.extend(&f.sse_known);
    facts += f.way_variants.len();
    rt.extend(&f.way_variants);
    facts += f.owned_only.len();
    rt.extend(&f.owned_only);
    facts += f.puts_acl.len();
    rt.extend(&f.puts_acl);
    facts += f.blocks_public_acls.len();
    rt.extend(&f.blocks_public_acls);
    facts += f.acls_disabled.len();
    rt.extend(&f.acls_disabled);
    let (
        applicable,
        past_upload,
        past_encryption,
        variant_answer,
        unknown_because,
        open_layer,
        answer,
        blocked_by,
        because,
        granted_implicitly,
        chain_answer,
        sanity_two_answers,
        sanity_must_not_may,
        sanity_implicit_unnamed,
    ) = rt.run_with_hasher::<rustc_hash::FxBuildHasher>();
    Derived {
        applicable,
        past_upload,
        past_encryption,
        variant_answer,
        unknown_because,
        open_layer,
        answer,
        blocked_by,
        because,
        granted_implicitly,
        chain_answer,
        sanity_two_answers,
        sanity_must_not_may,
        sanity_implicit_unnamed,
        facts,
    }
}
