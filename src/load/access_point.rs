//! S3 access points: `aws s3control get-access-point` and
//! `get-access-point-policy` (inputs.md §1, `accounts/<id>/access-points/<name>/`).

use super::json::{Node, Value};
use super::{policy_from, record};
use crate::diag::{Diagnostic, Span};
use crate::model::{is_account_id, AccessPoint, Estate, PolicyKind, PublicAccessBlock};

/// What `get-access-point` prints, read into an access point of `account`
/// (the policy is attached by the caller). `Bucket` and `AccessPointArn`
/// are required: without them the access point's bucket and the ARN its
/// policies name are unknown. `BlockPublicAcls`… under
/// `PublicAccessBlockConfiguration` are read as `pab` reads them (all four
/// required in a snapshot, as the CLI prints them).
pub(super) fn settings(
    doc: &Node,
    account: &str,
    pab: fn(&Node) -> Result<PublicAccessBlock, Diagnostic>,
) -> Result<AccessPoint, Diagnostic> {
    if !matches!(doc.value, Value::Object(_)) {
        return Err(doc.error("the object `aws s3control get-access-point` prints"));
    }
    let name = doc.str_field("Name")?.to_string();
    let bucket = doc.str_field("Bucket")?.to_string();
    let (_, region) = super::regional_arn(
        doc,
        "AccessPointArn",
        ("arn:aws:s3:", &format!(":{account}:accesspoint/{name}")),
        "arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME",
        "the access point's account and name",
    )?;
    let bucket_account = match doc.present("BucketAccountId") {
        None => account.to_string(),
        Some(n) => match n.as_str() {
            Some(a) if is_account_id(a) => a.to_string(),
            _ => return Err(n.error("`BucketAccountId` as a 12-digit account ID")),
        },
    };
    let vpc = match doc.present("NetworkOrigin").map(|n| (n, n.as_str())) {
        None | Some((_, Some("Internet"))) => None,
        Some((_, Some("VPC"))) => {
            let config = doc.get("VpcConfiguration").ok_or_else(|| {
                Diagnostic::error(
                    doc.span.clone(),
                    "`NetworkOrigin: VPC` needs a `VpcConfiguration` with its `VpcId`",
                )
            })?;
            Some(config.str_field("VpcId")?.to_string())
        }
        Some((n, _)) => return Err(n.error("`NetworkOrigin` as \"Internet\" or \"VPC\"")),
    };
    let public_access_block = match doc.get("PublicAccessBlockConfiguration") {
        None => PublicAccessBlock::default(),
        Some(c) => pab(c)?,
    };
    Ok(AccessPoint {
        name,
        account: account.to_string(),
        region,
        bucket,
        bucket_account,
        vpc,
        public_access_block,
        policy: None,
        span: doc.span.clone(),
    })
}

/// Reads one access point's files; a `get-access-point` output that cannot
/// be read is reported, and the access point is left out with a warning
/// that says what that leaves unevaluated.
pub(super) fn load(files: &super::FileSet, account: &str, name: &str, estate: &mut Estate) {
    let dir = format!("accounts/{account}/access-points/{name}");
    let shown = |f: &str| files.display(&format!("{dir}/{f}"));
    let read = |f: &str| files.files.get(&format!("{dir}/{f}")).map(Vec::as_slice);
    let Some(bytes) = read("access-point.json") else {
        estate.diagnostics.push(Diagnostic::error(
            Span::file(&files.display(&dir)),
            "no access-point.json: the access point's bucket is unknown; requests through it are not evaluated",
        ));
        estate
            .unreadable_access_points
            .push(format!("{account}/{name}"));
        return;
    };
    let parsed = super::parse_file(&shown("access-point.json"), bytes)
        .and_then(|d| settings(&d, account, super::snapshot::public_access_block_flags));
    let mut ap = match parsed {
        Ok(ap) => ap,
        Err(d) => {
            record(d, estate);
            estate
                .unreadable_access_points
                .push(format!("{account}/{name}"));
            return;
        }
    };
    ap.policy =
        read("policy.json").map(
            |bytes| match super::parse_file(&shown("policy.json"), bytes) {
                Ok(doc) => {
                    let node = doc.get("Policy").cloned().unwrap_or(doc);
                    policy_from(&node, name, PolicyKind::AccessPoint, estate)
                }
                Err(d) => super::missing_policy(name, PolicyKind::AccessPoint, d, estate),
            },
        );
    estate.access_points.push(ap);
}

/// `collect` could not list the account's access points (it wrote the
/// error document as `access-points/list-access-points.json`): any bucket
/// may have access points of this account that the snapshot does not have.
pub(super) fn unlisted(files: &super::FileSet, account: &str, estate: &mut Estate) {
    let rel = format!(
        "accounts/{account}/access-points/{}",
        crate::collect::LIST_ACCESS_POINTS
    );
    estate.diagnostics.push(Diagnostic::error(
        Span::file(&files.display(&rel)),
        "the account's access points could not be listed: requests through them are not evaluated",
    ));
    estate.unreadable_access_points.push(format!("{account}/*"));
}
