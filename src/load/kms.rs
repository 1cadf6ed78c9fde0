//! SSE-KMS: a bucket's default encryption (`aws s3api get-bucket-encryption`)
//! and the KMS keys of an account (`accounts/<id>/kms/<key-id>/`: `aws kms
//! describe-key`, `get-key-policy`, `list-grants`; inputs.md §1).

use super::json::{Node, Value};
use super::{policy_from, record};
use crate::diag::{Diagnostic, Span};
use crate::model::{Encryption, Estate, KmsKey, PolicyKind};

/// `encryption.json` as the CLI prints it:
/// `{"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault":
/// {"SSEAlgorithm": …, "KMSMasterKeyID": …}, "BucketKeyEnabled": …}]}}`
/// (the bare configuration is accepted too). Any other algorithm is an
/// error: the bucket's encryption is then unreadable, never "SSE-S3".
pub(crate) fn encryption(doc: &Node) -> Result<Encryption, Diagnostic> {
    let config = doc.get("ServerSideEncryptionConfiguration").unwrap_or(doc);
    let rules = config.array_field("Rules")?;
    let Some(rule) = rules.first() else {
        return Err(config.error("`Rules` with one `ApplyServerSideEncryptionByDefault` rule"));
    };
    let default = rule
        .get("ApplyServerSideEncryptionByDefault")
        .ok_or_else(|| {
            Diagnostic::error(
                rule.span.clone(),
                "expected an `ApplyServerSideEncryptionByDefault` field",
            )
        })?;
    let algorithm = default.str_field("SSEAlgorithm")?;
    let bucket_key = match rule.present("BucketKeyEnabled") {
        None => false,
        Some(n) => match n.value {
            Value::Bool(b) => b,
            _ => return Err(n.error("`BucketKeyEnabled` as true or false")),
        },
    };
    match algorithm {
        "AES256" => Ok(Encryption::S3Managed),
        "aws:kms" | "aws:kms:dsse" => {
            let key = match default.present("KMSMasterKeyID") {
                None => None,
                Some(n) => Some(
                    n.as_str()
                        .ok_or_else(|| n.error("`KMSMasterKeyID` as a key ID, key ARN or alias"))?
                        .to_string(),
                ),
            };
            Ok(Encryption::Kms { key, bucket_key })
        }
        other => Err(Diagnostic::error(
            default.get("SSEAlgorithm").unwrap_or(default).span.clone(),
            format!("unknown `SSEAlgorithm` `{other}`: expected AES256, aws:kms or aws:kms:dsse"),
        )),
    }
}

/// A listed object's `head.json` (`aws s3api head-object`): its
/// `ServerSideEncryption` (absent: not encrypted) and, under SSE-KMS, the
/// `SSEKMSKeyId` it was written with and `BucketKeyEnabled`. Its other
/// fields are not read here.
pub(crate) fn object_head(doc: &Node) -> Result<Encryption, Diagnostic> {
    if !matches!(doc.value, Value::Object(_)) {
        return Err(doc.error("the object `aws s3api head-object` prints"));
    }
    let Some(sse) = doc.present("ServerSideEncryption") else {
        return Ok(Encryption::S3Managed);
    };
    match sse.as_str() {
        Some("AES256") => Ok(Encryption::S3Managed),
        Some("aws:kms" | "aws:kms:dsse") => {
            let key = doc.str_field("SSEKMSKeyId")?.to_string();
            let bucket_key = match doc.present("BucketKeyEnabled") {
                None => false,
                Some(n) => match n.value {
                    Value::Bool(b) => b,
                    _ => return Err(n.error("`BucketKeyEnabled` as true or false")),
                },
            };
            Ok(Encryption::Kms {
                key: Some(key),
                bucket_key,
            })
        }
        Some(other) => Err(Diagnostic::error(
            sse.span.clone(),
            format!("unknown `ServerSideEncryption` `{other}`: expected AES256, aws:kms or aws:kms:dsse"),
        )),
        None => Err(sse.error("`ServerSideEncryption` as a string")),
    }
}

/// What `describe-key` prints, read into a key of `account` (the policy is
/// attached by the caller). `KeyId` and `Arn` are required: without them
/// no ARN that policies and encryption settings name is known.
pub(super) fn key_metadata(doc: &Node, account: &str) -> Result<KmsKey, Diagnostic> {
    let meta = doc.get("KeyMetadata").unwrap_or(doc);
    if !matches!(meta.value, Value::Object(_)) {
        return Err(meta.error("the object `aws kms describe-key` prints"));
    }
    let id = meta.str_field("KeyId")?.to_string();
    let (arn, region) = super::regional_arn(
        meta,
        "Arn",
        ("arn:aws:kms:", &format!(":{account}:key/{id}")),
        "arn:aws:kms:REGION:ACCOUNT:key/KEY-ID",
        "the key's account and ID",
    )?;
    let aws_managed = match meta.present("KeyManager").map(|n| (n, n.as_str())) {
        None | Some((_, Some("CUSTOMER"))) => false,
        Some((_, Some("AWS"))) => true,
        Some((n, _)) => return Err(n.error("`KeyManager` as AWS or CUSTOMER")),
    };
    let enabled_flag = match meta.present("Enabled") {
        None => true,
        Some(n) => match n.value {
            Value::Bool(b) => b,
            _ => return Err(n.error("`Enabled` as true or false")),
        },
    };
    let state_enabled = match meta.present("KeyState") {
        None => true,
        Some(n) => n
            .as_str()
            .ok_or_else(|| n.error("`KeyState` as a string"))?
            .eq("Enabled"),
    };
    Ok(KmsKey {
        id,
        arn,
        account: account.to_string(),
        region,
        aws_managed,
        enabled: enabled_flag && state_enabled,
        policy: None,
        grants: false,
        span: meta.span.clone(),
    })
}

/// Whether a `list-grants` output lists any grant. Grants only add access
/// (AWS KMS Developer Guide, "Grants in AWS KMS") and are not evaluated
/// yet: a key with grants leaves open what they could allow (rules/78).
pub(super) fn has_grants(doc: &Node) -> Result<bool, Diagnostic> {
    Ok(!doc.array_field("Grants")?.is_empty())
}

/// Reads one key's files; a `describe-key` output that cannot be read is
/// reported and the key left out (a bucket encrypting under it then
/// answers `unknown`, rules/78).
pub(super) fn load(files: &super::FileSet, account: &str, dir_name: &str, estate: &mut Estate) {
    let dir = format!("accounts/{account}/kms/{dir_name}");
    let shown = |f: &str| files.display(&format!("{dir}/{f}"));
    let read = |f: &str| files.files.get(&format!("{dir}/{f}")).map(Vec::as_slice);
    let Some(bytes) = read("key.json") else {
        estate.diagnostics.push(Diagnostic::error(
            Span::file(&files.display(&dir)),
            "no key.json: the key's ARN is unknown; objects encrypted under it are answered unknown",
        ));
        return;
    };
    let mut key = match super::parse_file(&shown("key.json"), bytes)
        .and_then(|d| key_metadata(&d, account))
    {
        Ok(k) => k,
        Err(d) => {
            record(d, estate);
            return;
        }
    };
    key.policy =
        read("policy.json").map(
            |bytes| match super::parse_file(&shown("policy.json"), bytes) {
                Ok(doc) => {
                    let node = doc.get("Policy").cloned().unwrap_or(doc);
                    policy_from(&node, &key.id, PolicyKind::Key, estate)
                }
                Err(d) => super::missing_policy(&key.id, PolicyKind::Key, d, estate),
            },
        );
    if key.policy.is_none() {
        estate.diagnostics.push(Diagnostic::warning(
            Span::file(&files.display(&dir)),
            "no policy.json: the key policy decides who may use the key; answers that turn on it are unknown",
        ));
    }
    key.grants = match read("grants.json") {
        None => false,
        Some(bytes) => super::parse_file(&shown("grants.json"), bytes)
            .and_then(|d| has_grants(&d))
            .unwrap_or_else(|d| {
                record(d, estate);
                true
            }),
    };
    estate.kms_keys.push(key);
}
