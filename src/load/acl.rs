//! ACLs as `get-bucket-acl` and `get-object-acl` print them.

use super::json::Node;
use crate::diag::Diagnostic;
use crate::model::{Acl, AclGrant, AclPermission, Grantee};

const GROUPS: &str = "http://acs.amazonaws.com/groups/";

pub fn acl(doc: &Node) -> Result<Acl, Diagnostic> {
    let owner = match doc.get("Owner") {
        Some(o) => Some(o.str_field("ID")?.to_string()),
        None => None,
    };
    let grants = doc
        .array_field("Grants")?
        .iter()
        .map(grant)
        .collect::<Result<_, _>>()?;
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
