//! ACLs as `get-bucket-acl` and `get-object-acl` print them.

use super::json::{Node, Value};
use crate::diag::Diagnostic;
use crate::model::{Acl, AclGrant, AclPermission, Grantee};

const GROUPS: &str = "http://acs.amazonaws.com/groups/";

/// A bucket ACL as `get-bucket-acl` prints it: an object with a `Grants`
/// array (an `Owner` is read when present). Anything else — `[]`, an error
/// document, a missing or null `Grants` — is an error, never "no grants".
pub fn bucket_acl(doc: &Node) -> Result<Acl, Diagnostic> {
    acl(doc, false)
}

/// An object ACL as `get-object-acl` prints it: an object with an `Owner`
/// (the object's owner decides who the bucket owner's grants reach) and a
/// `Grants` array.
pub fn object_acl(doc: &Node) -> Result<Acl, Diagnostic> {
    acl(doc, true)
}

fn acl(doc: &Node, need_owner: bool) -> Result<Acl, Diagnostic> {
    let what = if need_owner {
        "an object ACL as `aws s3api get-object-acl` prints it: an object with `Owner` and `Grants`"
    } else {
        "a bucket ACL as `aws s3api get-bucket-acl` prints it: an object with `Owner` and `Grants`"
    };
    if !matches!(doc.value, Value::Object(_)) {
        return Err(doc.error(what));
    }
    let owner = match doc.get("Owner") {
        Some(o) => Some(o.str_field("ID")?.to_string()),
        None if need_owner => {
            return Err(Diagnostic::error(
                doc.span.clone(),
                format!("expected an `Owner` field: {what}"),
            ))
        }
        None => None,
    };
    let grants = match doc.get("Grants") {
        Some(Node {
            value: Value::Array(items),
            ..
        }) => items.iter().map(grant).collect::<Result<_, _>>()?,
        Some(n) => return Err(n.error("`Grants` as an array of grants")),
        None => {
            return Err(Diagnostic::error(
                doc.span.clone(),
                format!("expected a `Grants` field: {what}"),
            ))
        }
    };
    Ok(Acl { owner, grants })
}

fn grant(g: &Node) -> Result<AclGrant, Diagnostic> {
    let Some(who) = g.get("Grantee") else {
        return Err(g.error("a grant with a `Grantee`"));
    };
    let grantee = match who.str_field("Type")? {
        "CanonicalUser" => Grantee::Canonical(who.str_field("ID")?.to_string()),
        "Group" => match who.str_field("URI")?.strip_prefix(GROUPS) {
            Some("global/AllUsers") => Grantee::AllUsers,
            Some("global/AuthenticatedUsers") => Grantee::AuthenticatedUsers,
            Some("s3/LogDelivery") => Grantee::LogDelivery,
            _ => Grantee::Unresolved(who.str_field("URI")?.to_string()),
        },
        other => Grantee::Unresolved(format!(
            "{other} {}",
            who.str_field("EmailAddress").unwrap_or("")
        )),
    };
    let p = g.get("Permission").unwrap_or(g);
    let permission = match p.as_str() {
        Some("READ") => AclPermission::Read,
        Some("WRITE") => AclPermission::Write,
        Some("READ_ACP") => AclPermission::ReadAcp,
        Some("WRITE_ACP") => AclPermission::WriteAcp,
        Some("FULL_CONTROL") => AclPermission::FullControl,
        _ => {
            return Err(p.error("`Permission` as READ, WRITE, READ_ACP, WRITE_ACP or FULL_CONTROL"))
        }
    };
    Ok(AclGrant {
        grantee,
        permission,
        span: g.span.clone(),
    })
}
