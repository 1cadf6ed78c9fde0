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
    ActId
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
    /// ACLs are enabled on the bucket: ACL grants are not modelled yet.
    Acls,
    /// The bucket ACL grants WRITE to another account, and the object is
    /// not listed: whether that grantee may overwrite or delete it depends on
    /// who owns it.
    ForeignWriteGrant,
    /// Whether some account may own an unlisted object turns on an upload
    /// whose conditions are not evaluated yet.
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
}

impl Open {
    pub fn reason(self) -> &'static str {
        match self {
            Open::Acls => {
                "the bucket has ACLs enabled (Object Ownership is not BucketOwnerEnforced): \
                 ACL grants are not modelled yet"
            }
            Open::ForeignWriteGrant => {
                "the bucket ACL grants WRITE to another account and the object is not listed: \
                 whether a grantee may overwrite or delete it depends on who owns it"
            }
            Open::UploaderUncertain => {
                "who may own an object the snapshot does not list depends on whether an upload is allowed \
                 (or may omit bucket-owner-full-control), which turns on condition values not evaluated yet"
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
    pub owned_only: Vec<OwnedOnly>,
    pub puts_acl: Vec<PutsAcl>,
    pub blocks_public_acls: Vec<BlocksPublicAcls>,
    pub acls_disabled: Vec<AclsDisabled>,
}

/// The derived relations a query reads.
pub struct Derived {
    pub applicable: HashSet<Applicable>,
    pub variant_answer: HashSet<VariantAnswer>,
    pub unknown_because: HashSet<UnknownBecause>,
    pub open_layer: HashSet<OpenLayer>,
    pub answer: HashSet<Answer>,
    pub blocked_by: HashSet<BlockedBy>,
    pub because: HashSet<Because>,
    pub granted_implicitly: HashSet<GrantedImplicitly>,
    pub can_assume: HashSet<CanAssume>,
    pub chain_answer: HashSet<ChainAnswer>,
    pub sanity_two_answers: HashSet<SanityTwoAnswers>,
    pub sanity_must_not_may: HashSet<SanityMustNotMay>,
    pub sanity_implicit_unnamed: HashSet<SanityImplicitUnnamed>,
}

pub fn run(f: &Facts) -> Derived {
    let mut rt = Crepe::new();
    rt.extend([BoundDomain(Bound::Must), BoundDomain(Bound::May)]);
    rt.extend(&f.requests);
    rt.extend(&f.assume_role);
    rt.extend(&f.kinds);
    rt.extend(&f.principal_accounts);
    rt.extend(&f.resource_accounts);
    rt.extend(&f.resource_layers);
    rt.extend(&f.member_of);
    rt.extend(&f.boundaries);
    rt.extend(&f.holds);
    rt.extend(&f.stmts);
    rt.extend(&f.matches);
    rt.extend(&f.principal_matches);
    rt.extend(&f.chain_links);
    rt.extend(&f.not_principal);
    rt.extend(&f.not_principal_names);
    rt.extend(&f.not_principal_everyone);
    rt.extend(&f.names_everyone);
    rt.extend(&f.pins_trust_key);
    rt.extend(&f.only_quiet_actions);
    rt.extend(&f.bucket_restrict_public);
    rt.extend(&f.account_restrict_public);
    rt.extend(&f.bucket_policy_actions);
    rt.extend(&f.delete_actions);
    rt.extend(&f.grantor_is_owner);
    rt.extend(&f.org_members);
    rt.extend(&f.account_levels);
    rt.extend(&f.service_linked);
    rt.extend(&f.object_owners);
    rt.extend(&f.object_acl_stmts);
    rt.extend(&f.public_acl_stmts);
    rt.extend(&f.ignore_public_acls);
    rt.extend(&f.unmapped_owners);
    rt.extend(&f.canonical_unknown);
    rt.extend(&f.resource_open);
    rt.extend(&f.principal_open);
    rt.extend(&f.free_owner);
    rt.extend(&f.variant_of);
    rt.extend(&f.listed_variant);
    rt.extend(&f.uploader_account);
    rt.extend(&f.owner_preferred);
    rt.extend(&f.upload_checks);
    rt.extend(&f.owned_only);
    rt.extend(&f.puts_acl);
    rt.extend(&f.blocks_public_acls);
    rt.extend(&f.acls_disabled);
    let (
        applicable,
        variant_answer,
        unknown_because,
        open_layer,
        answer,
        blocked_by,
        because,
        granted_implicitly,
        can_assume,
        chain_answer,
        sanity_two_answers,
        sanity_must_not_may,
        sanity_implicit_unnamed,
    ) = rt.run();
    Derived {
        applicable,
        variant_answer,
        unknown_because,
        open_layer,
        answer,
        blocked_by,
        because,
        granted_implicitly,
        can_assume,
        chain_answer,
        sanity_two_answers,
        sanity_must_not_may,
        sanity_implicit_unnamed,
    }
}
