//! Which condition keys a request carries, and with what value
//! (semantics.md 6): fixed by the snapshot, free, free or absent, absent,
//! or undocumented. A `with` context overrides all of these.

use crate::catalog::{Catalog, KeyType};
use std::collections::HashMap;

/// Who makes the request, as far as condition keys see it.
#[derive(Clone, Debug)]
pub enum Caller {
    User {
        arn: String,
        account: String,
        name: String,
        unique_id: Option<String>,
        /// `None`: the tags could not be read.
        tags: Option<Vec<(String, String)>>,
    },
    Role {
        arn: String,
        account: String,
        unique_id: Option<String>,
    },
    Root {
        arn: String,
        account: String,
    },
    /// `account:X`: any principal of an account the snapshot does not describe.
    Outside {
        account: String,
    },
    Anonymous,
    Service {
        name: String,
    },
}

/// A key's value in one request.
#[derive(Clone, Debug, PartialEq)]
pub enum Availability {
    /// Present with these values (one for a single-valued key).
    Value(Vec<String>),
    /// Present, any value.
    Free,
    /// Present, any value that starts with this: the ARN of some principal
    /// of an account the snapshot does not describe (`account:ID`).
    Within(String),
    /// Any value, or absent.
    Maybe,
    /// Absent, or present with values none of which matches these globs
    /// (another organization's ID, or none).
    Unlike(Vec<String>),
    Absent,
    /// What AWS sends is undocumented, or the key is not in the catalogue.
    Unknown(&'static str),
}

/// The values a query fixes for keys: lower-case key → values (empty:
/// absent).
pub type Fixed = HashMap<String, Vec<String>>;

/// The keys of one request: its caller, action and resource account, and
/// the values the query fixes (lower-case key → values; empty: absent).
pub struct RequestKeys<'a> {
    pub caller: Caller,
    pub action: &'a str,
    pub resource_account: &'a str,
    pub fixed: &'a Fixed,
    /// Conditions every request in question satisfies (`true`) or violates
    /// (`false`): how `prove` narrows the requests it quantifies over.
    pub constraints: &'a [Constraint],
    /// `--closed-context`: every free key the query does not name is absent.
    pub closed: bool,
    /// The organization, for the organization keys (semantics.md 6).
    pub org: Option<&'a crate::model::Organization>,
    /// The access point the request goes through, if any.
    pub access_point: Option<&'a AccessPointKeys>,
    /// For S3's request to KMS on the caller's behalf: what it carries.
    pub kms: Option<&'a KmsKeys>,
}

/// What S3's request to KMS for an SSE-KMS object carries (AWS KMS
/// Developer Guide, "kms:ViaService", "Encryption context": S3 sends
/// `aws:s3:arn` with the object's ARN, or the bucket's with S3 Bucket
/// Keys). Being a forward access session, it also has
/// `aws:ViaAWSService` true and `aws:CalledVia` S3 (IAM User Guide,
/// "Forward access sessions").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KmsKeys {
    pub via_service: String,
    /// The ARN of the encryption context; a pattern (`…/reports/*`) when
    /// the request stands for every object of a scope.
    pub context: String,
}

impl KmsKeys {
    /// Whether a condition key is one that only S3's request to KMS
    /// carries with a value of its own (`RequestKeys::kms_key`): the S3
    /// request's keys cannot fix it for both.
    pub fn only_kms(key: &str) -> bool {
        let key = key.to_ascii_lowercase();
        key.starts_with("kms:") || key == "aws:viaawsservice" || key.starts_with("aws:calledvia")
    }
}

/// What a request through an access point carries about it (S3 User
/// Guide, "Configuring IAM policies for using access points": the
/// `s3:DataAccessPoint*` and `s3:AccessPointNetworkOrigin` keys); a request
/// through a VPC-origin access point comes from that VPC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessPointKeys {
    pub arn: String,
    pub account: String,
    pub vpc: Option<String>,
}

/// A condition the requests in question meet (or, `holds: false`, break).
#[derive(Clone, Debug)]
pub struct Constraint {
    pub entry: crate::model::ConditionEntry,
    pub holds: bool,
}

impl RequestKeys<'_> {
    /// The type of a key, and what the request carries for it.
    pub fn lookup(&self, key: &str) -> (Option<KeyType>, Availability) {
        let lower = key.to_ascii_lowercase();
        let ty = Catalog::get().key_type(&lower);
        // The route decides these, whatever the query fixes: a request
        // through an access point carries its keys; a direct one does not
        // (`carried`: the catalogue lists them for no data action).
        if let Some(avail) = self.access_point_key(&lower) {
            return (ty, avail);
        }
        if let Some(avail) = self.kms_key(&lower) {
            return (ty, avail);
        }
        // A service's key that this action never carries stays absent
        // whatever the query fixes: `with s3:prefix = x/` speaks of the
        // listing, not of the role assumptions of its chain.
        let fixed = self
            .fixed
            .get(&lower)
            .filter(|_| lower.starts_with("aws:") || self.carries(&lower));
        if let Some(values) = fixed {
            return match values.is_empty() {
                true => (ty, Availability::Absent),
                false => (ty, Availability::Value(values.clone())),
            };
        }
        let (ty, avail) = self.carried(&lower, ty);
        // `--closed-context` closes the keys a request may or may not carry
        // with any value (semantics.md 6); what the snapshot fixes stays.
        match avail {
            Availability::Free
            | Availability::Within(_)
            | Availability::Maybe
            | Availability::Unlike(_)
                if self.closed =>
            {
                (ty, Availability::Absent)
            }
            avail => (ty, avail),
        }
    }

    /// What the request carries for a key the query does not fix.
    fn carried(&self, lower: &str, ty: Option<KeyType>) -> (Option<KeyType>, Availability) {
        let service = lower.split(':').next().unwrap_or_default().to_string();
        if !matches!(service.as_str(), "aws" | "s3" | "sts") {
            // Another service's key never reaches S3 or STS (semantics.md 3.6).
            return (ty, Availability::Absent);
        }
        if ty.is_none() {
            return (
                None,
                Availability::Unknown("a condition key that is not in the catalogue"),
            );
        }
        // Tag keys are looked up by their prefix (`aws:principaltag/`).
        let class = match lower.split_once('/') {
            Some((prefix, _)) => format!("{prefix}/"),
            None => lower.to_string(),
        };
        (ty, self.available(&class, &service, lower))
    }

    /// Whether the catalogue lists the key for the action (`s3:ResourceAccount`
    /// is on every S3 request).
    fn carries(&self, lower: &str) -> bool {
        lower == "s3:resourceaccount"
            || Catalog::get()
                .find(self.action)
                .is_some_and(|a| a.condition_keys.iter().any(|k| key_matches(k, lower)))
    }

    /// `key` is the catalogue's form (`aws:principaltag/`), `full` the key as asked.
    fn available(&self, key: &str, service: &str, full: &str) -> Availability {
        use Availability::*;
        let action_supports = || self.carries(key);
        if service != "aws" {
            if key == "s3:resourceaccount" {
                return Value(vec![self.resource_account.to_string()]);
            }
            return match action_supports() {
                // Request headers and parameters: sent or not, any value.
                true if key == "s3:max-keys" || key == "sts:rolesessionname" => Free,
                true => Maybe,
                false => Absent,
            };
        }
        let c = &self.caller;
        let one = |v: &str| Value(vec![v.to_string()]);
        match key {
            "aws:resourceaccount" => one(self.resource_account),
            "aws:principalarn" => match c {
                Caller::User { arn, .. } | Caller::Role { arn, .. } | Caller::Root { arn, .. } => {
                    one(arn)
                }
                // Users, roles (a session's is its role's) and the root
                // user of the account all have ARNs in it.
                Caller::Outside { account } => Within(format!("arn:aws:iam::{account}:")),
                Caller::Anonymous => Absent,
                Caller::Service { .. } => {
                    Unknown("aws:PrincipalArn for a service principal is undocumented")
                }
            },
            "aws:principalaccount" => match c {
                Caller::User { account, .. }
                | Caller::Role { account, .. }
                | Caller::Root { account, .. }
                | Caller::Outside { account } => one(account),
                Caller::Anonymous => one("anonymous"),
                Caller::Service { .. } => {
                    Unknown("aws:PrincipalAccount for a service principal is undocumented")
                }
            },
            "aws:principaltype" => match c {
                Caller::User { .. } => one("User"),
                Caller::Role { .. } => one("AssumedRole"),
                Caller::Root { .. } => one("Account"),
                Caller::Anonymous => one("Anonymous"),
                Caller::Outside { .. } => Free,
                Caller::Service { .. } => {
                    Unknown("aws:PrincipalType for a service principal is undocumented")
                }
            },
            "aws:userid" => match c {
                Caller::User {
                    unique_id: Some(id),
                    ..
                } => one(id),
                Caller::Root { account, .. } => one(account),
                Caller::Anonymous => one("anonymous"),
                // A role session's is RoleId:session-name, the session name free.
                Caller::User { .. } | Caller::Role { .. } | Caller::Outside { .. } => Free,
                Caller::Service { .. } => {
                    Unknown("aws:userid for a service principal is undocumented")
                }
            },
            "aws:username" => match c {
                Caller::User { name, .. } => one(name),
                Caller::Outside { .. } => Maybe,
                _ => Absent,
            },
            "aws:principalisawsservice" => match c {
                Caller::Service { .. } => one("true"),
                Caller::Anonymous => Absent,
                _ => one("false"),
            },
            "aws:principalservicename" => match c {
                Caller::Service { name } => one(name),
                _ => Absent,
            },
            // A user's tags are in the snapshot (tag keys compare case-insensitively);
            // a role session may carry session tags over its role's.
            "aws:principaltag/" => match c {
                Caller::User {
                    tags: Some(tags), ..
                } => {
                    let tag = &full["aws:principaltag/".len()..];
                    match tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(tag)) {
                        Some((_, v)) => one(v),
                        None => Absent,
                    }
                }
                // Tags the snapshot could not give: any value, or none.
                Caller::User { tags: None, .. } => Maybe,
                Caller::Role { .. } | Caller::Outside { .. } => Maybe,
                _ => Absent,
            },
            "aws:multifactorauthpresent" | "aws:tokenissuetime" | "aws:multifactorauthage" => {
                match c {
                    Caller::Role { .. } if key != "aws:multifactorauthage" => Free,
                    Caller::User { .. }
                    | Caller::Role { .. }
                    | Caller::Root { .. }
                    | Caller::Outside { .. } => Maybe,
                    _ => Absent,
                }
            }
            "aws:sourcearn" | "aws:sourceaccount" | "aws:sourceorgid" | "aws:sourceorgpaths"
            | "aws:sourceowner" => match c {
                Caller::Service { .. } => Maybe,
                _ => Absent,
            },
            "aws:principalorgid" | "aws:principalorgpaths" => match c {
                Caller::User { account, .. }
                | Caller::Role { account, .. }
                | Caller::Root { account, .. }
                | Caller::Outside { account } => self.org_key(key, account),
                Caller::Anonymous | Caller::Service { .. } => Absent,
            },
            "aws:resourceorgid" | "aws:resourceorgpaths" => {
                self.org_key(key, self.resource_account)
            }
            "aws:securetransport"
            | "aws:currenttime"
            | "aws:epochtime"
            | "aws:useragent"
            | "aws:requestedregion"
            | "aws:viaawsservice" => Free,
            // One network origin: the public internet (SourceIp) or a VPC
            // endpoint (the VPC keys); `RequestKeys::origin` couples them.
            "aws:sourceip" | "aws:sourcevpc" | "aws:sourcevpce" | "aws:vpcsourceip" => Maybe,
            // Present when the operation passes tags (IAM's global keys);
            // S3 lists only its own tag keys, so on the S3 actions that can
            // carry tags neither presence nor absence may be assumed.
            "aws:requesttag/" | "aws:tagkeys" => match self.action {
                "sts:AssumeRole"
                | "s3:PutObject"
                | "s3:PutObjectTagging"
                | "s3:PutBucketTagging"
                | "s3:CreateBucket" => Maybe,
                _ => Absent,
            },
            "aws:resourcetag/" | "aws:referer" | "aws:calledvia" | "aws:calledviafirst"
            | "aws:calledvialast" | "aws:sourceidentity" => Maybe,
            _ => Unknown("what AWS sends for this key is not modelled"),
        }
    }
}

impl RequestKeys<'_> {
    /// The keys a request through an access point carries about it.
    fn access_point_key(&self, lower: &str) -> Option<Availability> {
        use Availability::*;
        let direct = matches!(
            lower,
            "s3:dataaccesspointarn" | "s3:dataaccesspointaccount" | "s3:accesspointnetworkorigin"
        );
        let Some(ap) = self.access_point else {
            return direct.then_some(Absent);
        };
        let one = |v: &str| Value(vec![v.to_string()]);
        Some(match (lower, &ap.vpc) {
            ("s3:dataaccesspointarn", _) => one(&ap.arn),
            ("s3:dataaccesspointaccount", _) => one(&ap.account),
            ("s3:accesspointnetworkorigin", None) => one("Internet"),
            ("s3:accesspointnetworkorigin", Some(_)) => one("VPC"),
            ("aws:sourcevpc", Some(vpc)) => one(vpc),
            ("aws:sourcevpce" | "aws:vpcsourceip", Some(_)) => Free,
            ("aws:sourceip", Some(_)) => Absent,
            _ => return None,
        })
    }

    /// The keys S3's request to KMS carries (`KmsKeys`); `None` for the
    /// keys it shares with any request, and for every key of an S3 request.
    fn kms_key(&self, lower: &str) -> Option<Availability> {
        use Availability::*;
        let kms = self.kms?;
        let one = |v: &str| Value(vec![v.to_string()]);
        Some(match lower {
            "kms:viaservice" => one(&kms.via_service),
            "kms:calleraccount" => match &self.caller {
                Caller::User { account, .. }
                | Caller::Role { account, .. }
                | Caller::Root { account, .. }
                | Caller::Outside { account } => one(account),
                Caller::Anonymous | Caller::Service { .. } => Absent,
            },
            "kms:encryptioncontext:aws:s3:arn" if kms.context.contains(['*', '?']) => Free,
            "kms:encryptioncontext:aws:s3:arn" => one(&kms.context),
            // An upload may add its own context (PutObject's
            // x-amz-server-side-encryption-context), which no snapshot
            // records: other pairs may be present, and which keys the
            // context has is not known.
            "kms:encryptioncontextkeys" => Unknown(
                "the encryption context an upload added to the object is not in the snapshot",
            ),
            k if k.starts_with("kms:encryptioncontext:") => Maybe,
            "kms:encryptionalgorithm" => one("SYMMETRIC_DEFAULT"),
            "aws:viaawsservice" => one("true"),
            "aws:calledvia" | "aws:calledviafirst" | "aws:calledvialast" => one("s3.amazonaws.com"),
            // Every other KMS key (aliases, grants, attestation…) is
            // absent from a decryption S3 asks for.
            k if k.starts_with("kms:") => Absent,
            _ => return None,
        })
    }

    /// An organization key (`…orgid` or `…orgpaths`) of an account, from
    /// the snapshot's organization (semantics.md 6): a member's ID and the
    /// path of its parent (`o-…/r-…/ou-…/`), present with an unknown value
    /// where the snapshot does not say it; a non-member is in another
    /// organization or none. Without the organization's membership, any.
    fn org_key(&self, key: &str, account: &str) -> Availability {
        use Availability::*;
        let paths = key.ends_with("paths");
        let Some(org) = self.org.filter(|o| o.members_known) else {
            return Maybe;
        };
        if !org.accounts.iter().any(|a| a == account) {
            return match (&org.id, paths) {
                (Some(id), false) => Unlike(vec![id.clone()]),
                (Some(id), true) => Unlike(vec![format!("{id}/*")]),
                (None, _) => Maybe,
            };
        }
        match (&org.id, paths) {
            (Some(id), false) => Value(vec![id.clone()]),
            (Some(id), true) => match org.parent_path(account) {
                Some(path) => Value(vec![format!("{id}/{path}")]),
                None => Free,
            },
            (None, _) => Free,
        }
    }
}

/// Whether a catalogue key (`s3:ExistingObjectTag/<key>`) names the key.
fn key_matches(catalogue: &str, key: &str) -> bool {
    match catalogue.split_once('/') {
        Some((prefix, _)) => key.starts_with(&format!("{prefix}/")),
        None => catalogue == key,
    }
}

/// The keys whose presence is tied to the request's network origin.
pub fn origin_keys(key: &str) -> Option<bool> {
    match key {
        "aws:sourceip" => Some(false),
        "aws:sourcevpc" | "aws:sourcevpce" | "aws:vpcsourceip" => Some(true),
        _ => None,
    }
}
