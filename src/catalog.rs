//! The S3 and STS action catalogue (AWS's Service Authorization Reference, as
//! copied into `data/`): every action, its access levels and whether it is
//! authorised against the bucket ARN or an object ARN, the condition keys it
//! supports; and the type of every `aws:`, `s3:` and `sts:` condition key.
//! Verbs of the query language expand against it.

use crate::glob;
use serde::Deserialize;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Bucket,
    Object,
    /// Account-level, access points, jobs…: outside what bucketlog answers.
    Other,
}

#[derive(Clone, Debug)]
pub struct Action {
    pub name: String,
    pub access_levels: Vec<String>,
    pub target: Target,
    /// The service condition keys the action supports, lower-case.
    pub condition_keys: Vec<String>,
    /// Whether a request may name an access point for it (resource type
    /// `accesspoint` or `accesspointobject`).
    pub through_access_point: bool,
}

/// A condition key's type (Service Authorization Reference).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    String,
    Arn,
    Numeric,
    Date,
    Bool,
    Ip,
    /// `ArrayOfString`, `ArrayOfARN`…: a multivalued key.
    Multi,
}

#[derive(Deserialize)]
struct RawKey {
    key: String,
    #[serde(rename = "type")]
    ty: String,
}

#[derive(Deserialize)]
struct RawService {
    actions: Vec<RawAction>,
    condition_keys: Vec<RawKey>,
}

#[derive(Deserialize)]
struct RawAction {
    action: String,
    access_level: String,
    resource_types: Vec<RawResourceType>,
    condition_keys: Vec<String>,
}

#[derive(Deserialize)]
struct RawResourceType {
    name: String,
}

pub struct Catalog {
    pub actions: Vec<Action>,
    /// Every known condition key, lower-case, with its type; a tag key is
    /// stored by its prefix (`aws:principaltag/`).
    keys: std::collections::HashMap<String, (KeyType, String)>,
}

pub const ASSUME_ROLE: &str = "sts:AssumeRole";
pub const PUT_OBJECT: &str = "s3:PutObject";

/// The query language's verbs (cli.md "Names").
pub const VERBS: [&str; 7] = ["read", "write", "delete", "list", "admin", "any", "destroy"];

impl Catalog {
    pub fn get() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            let mut actions = Vec::new();
            let mut keys = std::collections::HashMap::new();
            let mut add_key = |k: RawKey| {
                let ty = match k.ty.as_str() {
                    "String" => KeyType::String,
                    "ARN" => KeyType::Arn,
                    "Numeric" => KeyType::Numeric,
                    "Date" => KeyType::Date,
                    "Bool" => KeyType::Bool,
                    "IPAddress" => KeyType::Ip,
                    _ => KeyType::Multi,
                };
                // A parameterised key by its prefix: `aws:RequestTag/`,
                // `s3:ExistingObjectTag/`, `kms:EncryptionContext:`.
                let spelled = match (k.key.split_once("${"), k.key.split_once('/')) {
                    (Some((prefix, _)), _) => prefix.to_string(),
                    (None, Some((prefix, _))) => format!("{prefix}/"),
                    (None, None) => k.key.clone(),
                };
                keys.insert(key_name(&k.key), (ty, spelled));
            };
            let globals: Vec<RawKey> =
                serde_json::from_str(include_str!("../data/global-condition-keys.json"))
                    .expect("data/ catalogue is valid JSON (checked by tests)");
            globals.into_iter().for_each(&mut add_key);
            for text in [
                include_str!("../data/s3.json"),
                include_str!("../data/sts.json"),
                include_str!("../data/kms.json"),
            ] {
                let raw: RawService = serde_json::from_str(text)
                    .expect("data/ catalogue is valid JSON (checked by tests)");
                raw.condition_keys.into_iter().for_each(&mut add_key);
                actions.extend(raw.actions.into_iter().map(|a| {
                    let names: Vec<&str> =
                        a.resource_types.iter().map(|r| r.name.as_str()).collect();
                    let target = if names.contains(&"object") {
                        Target::Object
                    } else if names.contains(&"bucket") {
                        Target::Bucket
                    } else {
                        Target::Other
                    };
                    let through_access_point = target != Target::Other
                        && names
                            .iter()
                            .any(|n| matches!(*n, "accesspoint" | "accesspointobject"));
                    Action {
                        name: a.action,
                        access_levels: a.access_level.split(", ").map(str::to_string).collect(),
                        target,
                        through_access_point,
                        condition_keys: a
                            .condition_keys
                            .iter()
                            .map(|k| k.to_ascii_lowercase())
                            .collect(),
                    }
                }));
            }
            Catalog { actions, keys }
        })
    }

    /// The type of a condition key, matched case-insensitively; tag keys by
    /// their prefix (`aws:PrincipalTag/team`).
    /// Every condition key as AWS spells it (a tag key as its prefix,
    /// `aws:PrincipalTag/`), sorted: what the REPL completes after `with`.
    pub fn key_names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.keys.values().map(|(_, s)| s.as_str()).collect();
        out.sort_unstable();
        out
    }

    pub fn key_type(&self, key: &str) -> Option<KeyType> {
        self.keys.get(&key_name(key)).map(|(t, _)| *t)
    }

    /// A key as AWS documents it (`aws:SecureTransport`), whatever its case
    /// here; a tag key keeps its tag part as given.
    pub fn key_spelling(&self, key: &str) -> String {
        match (self.keys.get(&key_name(key)), key.split_once('/')) {
            (Some((_, prefix)), _) if prefix.ends_with(':') => {
                format!("{prefix}{}", &key[prefix.len()..])
            }
            (Some((_, prefix)), Some((_, tag))) => format!("{prefix}{tag}"),
            (Some((_, spelled)), None) => spelled.clone(),
            (None, _) => key.to_string(),
        }
    }

    pub fn find(&self, name: &str) -> Option<&Action> {
        self.actions
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// Catalogue actions matching an Action pattern (case-insensitive glob).
    pub fn matching(&self, pattern: &str) -> impl Iterator<Item = &Action> + '_ {
        let pattern = pattern.to_string();
        self.actions
            .iter()
            .filter(move |a| pattern == "*" || glob::matches(&pattern, &a.name, true))
    }

    /// The first verb (read, write, delete, list, admin) that names the
    /// action, or `other`: how `what can` groups its answers.
    pub fn verb_of(&self, action: &str) -> &'static str {
        VERBS[..5]
            .iter()
            .find(|v| self.expand(v).iter().any(|a| a.name == action))
            .copied()
            .unwrap_or("other")
    }

    /// The S3 bucket and object actions a verb or an action pattern names.
    pub fn expand(&self, word: &str) -> Vec<&Action> {
        let named = |names: &[&str]| -> Vec<&Action> {
            names.iter().filter_map(|n| self.find(n)).collect()
        };
        let s3 = |a: &&Action| a.name.starts_with("s3:") && a.target != Target::Other;
        match word {
            "read" => named(&["s3:GetObject", "s3:GetObjectVersion"]),
            "write" => named(&["s3:PutObject"]),
            "delete" => named(&["s3:DeleteObject", "s3:DeleteObjectVersion"]),
            "destroy" => named(&[
                "s3:DeleteObjectVersion",
                "s3:PutBucketVersioning",
                "s3:PutLifecycleConfiguration",
                "s3:BypassGovernanceRetention",
            ]),
            "list" => named(&[
                "s3:ListBucket",
                "s3:ListBucketVersions",
                "s3:ListBucketMultipartUploads",
            ]),
            "admin" => self
                .actions
                .iter()
                .filter(s3)
                .filter(|a| {
                    a.access_levels
                        .iter()
                        .any(|l| l == "Permissions management")
                })
                .collect(),
            "any" => self.actions.iter().filter(s3).collect(),
            // One action named: found, not matched as a glob against each.
            name if !name.contains(['*', '?']) => self.find(name).into_iter().filter(s3).collect(),
            pattern => self.matching(pattern).filter(s3).collect(),
        }
    }
}

/// A condition key as the catalogue stores it: lower-case, a tag key cut
/// after its `/` (`aws:RequestTag/${TagKey}` and `aws:RequestTag/team`
/// alike), an encryption-context key after its prefix
/// (`kms:EncryptionContext:aws:s3:arn`).
fn key_name(key: &str) -> String {
    let lower = key.to_ascii_lowercase();
    if let Some(prefix) = lower.split_once("${").map(|(p, _)| p.to_string()) {
        return prefix;
    }
    if lower.starts_with(ENCRYPTION_CONTEXT) {
        return ENCRYPTION_CONTEXT.to_string();
    }
    match lower.split_once('/') {
        Some((prefix, _)) => format!("{prefix}/"),
        None => lower,
    }
}

/// The prefix of KMS's encryption-context keys, whose own key follows it
/// after a colon, not a slash.
const ENCRYPTION_CONTEXT: &str = "kms:encryptioncontext:";
