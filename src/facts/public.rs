//! What makes a bucket or access point policy statement public (S3 User
//! Guide, "The meaning of public"), as facts of the statement.

use super::*;

/// A Principal that does not name its principals: everyone, a NotPrincipal,
/// or a Federated identity (S3 User Guide, "The meaning of public").
pub(super) fn names_everyone(st: &Statement) -> bool {
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
pub(super) fn only_quiet_actions(st: &Statement) -> bool {
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
pub(super) fn pins_trust_key(c: &ConditionEntry) -> bool {
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
