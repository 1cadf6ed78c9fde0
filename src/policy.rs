//! The IAM policy language, from a positioned JSON tree to `model::PolicyBody`.
//! Grammar errors make the whole policy invalid (semantics.md 2.1: its
//! statements are unknown, never ignored); each error names where and what was
//! expected.

use crate::diag::Diagnostic;
use crate::load::json::{Node, Value};
use crate::model::{
    arn_fields, is_account_id, ConditionEntry, Effect, Negatable, PolicyBody, PolicyKind,
    PrincipalPattern, PrincipalSet, Statement,
};

const VERSIONS: [&str; 2] = ["2012-10-17", "2008-10-17"];

/// Condition operators of the policy language, without `IfExists` and set prefixes.
const OPERATORS: [&str; 27] = [
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
];

/// Whether a condition operator name is part of the policy language.
pub fn is_known_operator(op: &str) -> bool {
    let op = op
        .strip_prefix("ForAllValues:")
        .or_else(|| op.strip_prefix("ForAnyValue:"))
        .unwrap_or(op);
    match op.strip_suffix("IfExists") {
        Some("Null") => false,
        Some(base) => OPERATORS.contains(&base),
        None => OPERATORS.contains(&op),
    }
}

/// Parses a policy document. Errors invalidate the policy; warnings do not.
pub fn parse(doc: &Node, kind: PolicyKind) -> (Result<PolicyBody, String>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let body = parse_body(doc, kind, &mut diags);
    let first_error = diags
        .iter()
        .find(|d| d.severity == crate::diag::Severity::Error)
        .map(|d| format!("{}: {}", d.span, d.message));
    match first_error {
        Some(e) => (Err(e), diags),
        None => (Ok(body), diags),
    }
}

fn parse_body(doc: &Node, kind: PolicyKind, diags: &mut Vec<Diagnostic>) -> PolicyBody {
    let mut body = PolicyBody {
        version: None,
        statements: Vec::new(),
    };
    let Value::Object(props) = &doc.value else {
        diags.push(doc.error("a policy document (a JSON object)"));
        return body;
    };
    for (key, node) in props {
        match key.as_str() {
            "Version" => match node.as_str() {
                Some(v) if VERSIONS.contains(&v) => body.version = Some(v.to_string()),
                _ => diags.push(node.error("`Version` to be \"2012-10-17\" or \"2008-10-17\"")),
            },
            "Id" | "Statement" => {}
            other => diags.push(Diagnostic::error(
                node.span.clone(),
                format!("unknown policy element `{other}`: expected Version, Id or Statement"),
            )),
        }
    }
    let Some(stmts) = doc.get("Statement") else {
        diags.push(Diagnostic::error(
            doc.span.clone(),
            "expected a `Statement` element",
        ));
        return body;
    };
    let items: Vec<&Node> = match &stmts.value {
        Value::Object(_) => vec![stmts],
        Value::Array(items) => items.iter().collect(),
        _ => {
            diags.push(stmts.error("`Statement` as an object or an array of objects"));
            return body;
        }
    };
    for (i, s) in items.into_iter().enumerate() {
        if let Some(st) = parse_statement(s, i, kind, diags) {
            body.statements.push(st);
        }
    }
    body
}

fn parse_statement(
    s: &Node,
    index: usize,
    kind: PolicyKind,
    diags: &mut Vec<Diagnostic>,
) -> Option<Statement> {
    let Value::Object(props) = &s.value else {
        diags.push(s.error("a statement (a JSON object)"));
        return None;
    };
    const ELEMENTS: [&str; 10] = [
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
        "Id",
    ];
    for (k, n) in props {
        if !ELEMENTS.contains(&k.as_str()) {
            diags.push(Diagnostic::error(
                n.span.clone(),
                format!(
                    "unknown statement element `{k}`: expected one of {}",
                    ELEMENTS.join(", ")
                ),
            ));
        }
    }
    let label = match s.get("Sid") {
        Some(n) => match n.as_str() {
            Some(sid) => sid.to_string(),
            None => {
                diags.push(n.error("`Sid` as a string"));
                index.to_string()
            }
        },
        None => index.to_string(),
    };
    let effect = match s.get("Effect").map(|n| (n, n.as_str())) {
        Some((_, Some("Allow"))) => Effect::Allow,
        Some((_, Some("Deny"))) => Effect::Deny,
        Some((n, Some(other))) => {
            diags.push(Diagnostic::error(
                n.span.clone(),
                format!(
                    "unknown Effect `{other}`: expected \"Allow\" or \"Deny\" (case-sensitive)"
                ),
            ));
            return None;
        }
        Some((n, None)) => {
            diags.push(n.error("`Effect` as \"Allow\" or \"Deny\""));
            return None;
        }
        None => {
            diags.push(Diagnostic::error(
                s.span.clone(),
                "expected an `Effect` element",
            ));
            return None;
        }
    };
    let action = negatable(s, "Action", "NotAction", diags, check_action)?;
    let Some(action) = action else {
        diags.push(Diagnostic::error(
            s.span.clone(),
            "expected an `Action` or `NotAction` element",
        ));
        return None;
    };
    let resource = negatable(s, "Resource", "NotResource", diags, check_resource)?;
    let principal = principal_set(s, diags)?;
    let resource_based = matches!(
        kind,
        PolicyKind::Bucket
            | PolicyKind::Trust
            | PolicyKind::Rcp
            | PolicyKind::AccessPoint
            | PolicyKind::Key
    );
    if principal.is_some() && !resource_based {
        diags.push(Diagnostic::error(
            s.span.clone(),
            "an identity policy cannot have a `Principal` or `NotPrincipal` element",
        ));
        return None;
    }
    if principal.is_none() && resource_based {
        diags.push(Diagnostic::error(
            s.span.clone(),
            "expected a `Principal` or `NotPrincipal` element (resource-based policy)",
        ));
        return None;
    }
    if resource.is_none() && kind != PolicyKind::Trust {
        diags.push(Diagnostic::error(
            s.span.clone(),
            "expected a `Resource` or `NotResource` element",
        ));
        return None;
    }
    let (condition, condition_empty) = s
        .get("Condition")
        .map(|c| conditions(c, diags))
        .unwrap_or_default();
    Some(Statement {
        label,
        effect,
        principal,
        action,
        resource,
        condition,
        condition_empty,
        span: s.span.clone(),
    })
}

type Check = fn(&str) -> Result<(), String>;

/// Reads `name` or `not_name` (not both) as a string list, checking each entry.
/// `None` on error, `Some(None)` when neither is present.
fn negatable(
    s: &Node,
    name: &str,
    not_name: &str,
    diags: &mut Vec<Diagnostic>,
    check: Check,
) -> Option<Option<Negatable<String>>> {
    let (node, negated) = match (s.get(name), s.get(not_name)) {
        (Some(_), Some(n)) => {
            diags.push(Diagnostic::error(
                n.span.clone(),
                format!("expected either `{name}` or `{not_name}`, not both"),
            ));
            return None;
        }
        (Some(n), None) => (n, false),
        (None, Some(n)) => (n, true),
        (None, None) => return Some(None),
    };
    let what = if negated { not_name } else { name };
    let items = match node.strings(&format!("`{what}`")) {
        Ok(items) => items,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    let mut ok = true;
    for (item, span) in &items {
        if let Err(e) = check(item) {
            diags.push(Diagnostic::error(
                span.clone(),
                format!("`{item}` in `{what}`: {e}"),
            ));
            ok = false;
        }
    }
    ok.then(|| {
        Some(Negatable {
            negated,
            items: items.into_iter().map(|(s, _)| s).collect(),
        })
    })
}

fn check_action(a: &str) -> Result<(), String> {
    if a == "*" {
        return Ok(());
    }
    match a.split_once(':') {
        Some((svc, name))
            if !svc.is_empty()
                && !name.is_empty()
                && svc.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            Ok(())
        }
        _ => Err("expected `service:action` (wildcards allowed) or `*`".into()),
    }
}

fn check_resource(r: &str) -> Result<(), String> {
    if r == "*" || arn_fields(r).is_some() {
        Ok(())
    } else {
        Err("malformed ARN: expected `*` or `arn:partition:service:region:account:resource`".into())
    }
}

fn principal_set(s: &Node, diags: &mut Vec<Diagnostic>) -> Option<Option<PrincipalSet>> {
    let (node, negated) = match (s.get("Principal"), s.get("NotPrincipal")) {
        (Some(_), Some(n)) => {
            diags.push(Diagnostic::error(
                n.span.clone(),
                "expected either `Principal` or `NotPrincipal`, not both",
            ));
            return None;
        }
        (Some(n), None) => (n, false),
        (None, Some(n)) => (n, true),
        (None, None) => return Some(None),
    };
    let mut items = Vec::new();
    let mut ok = true;
    match &node.value {
        Value::String(star) if star == "*" => items.push(PrincipalPattern::Everyone),
        Value::Object(props) => {
            for (ty, v) in props {
                let values = match v.strings(&format!("`{ty}` principal")) {
                    Ok(vals) => vals,
                    Err(d) => {
                        diags.push(d);
                        ok = false;
                        continue;
                    }
                };
                for (val, span) in values {
                    match principal_pattern(ty, &val) {
                        Ok(p) => items.push(p),
                        Err(e) => {
                            diags.push(Diagnostic::error(span, e));
                            ok = false;
                        }
                    }
                }
            }
        }
        _ => {
            diags.push(node.error("`Principal` as \"*\" or an object such as {\"AWS\": …}"));
            ok = false;
        }
    }
    ok.then_some(Some(PrincipalSet { negated, items }))
}

fn principal_pattern(ty: &str, v: &str) -> Result<PrincipalPattern, String> {
    match ty {
        "AWS" => aws_principal(v),
        "Service" => Ok(PrincipalPattern::Service(v.to_string())),
        "Federated" => Ok(PrincipalPattern::Federated(v.to_string())),
        "CanonicalUser" => Ok(PrincipalPattern::CanonicalUser(v.to_string())),
        other => Err(format!(
            "unknown principal type `{other}`: expected AWS, Service, Federated or CanonicalUser"
        )),
    }
}

fn aws_principal(v: &str) -> Result<PrincipalPattern, String> {
    if v == "*" {
        return Ok(PrincipalPattern::Everyone);
    }
    if is_account_id(v) {
        return Ok(PrincipalPattern::Account(v.to_string()));
    }
    if v.len() > 4 && (v.starts_with("AIDA") || v.starts_with("AROA")) && !v.contains(':') {
        return Ok(PrincipalPattern::UniqueId(v.to_string()));
    }
    let bad = || {
        format!(
            "malformed principal ARN `{v}`: expected an account ID, `*`, or \
             arn:aws:iam::ACCOUNT:root|user/NAME|role/NAME or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION"
        )
    };
    let f = arn_fields(v).ok_or_else(bad)?;
    // A legacy CloudFront origin access identity (CloudFront Developer
    // Guide, "Restricting access to an Amazon S3 origin"): an identity of
    // CloudFront's own, in no account; it names no principal of a snapshot.
    if f[2] == "iam"
        && f[4] == "cloudfront"
        && f[5].starts_with("user/CloudFront Origin Access Identity ")
    {
        return Ok(PrincipalPattern::Arn(v.to_string()));
    }
    if !is_account_id(f[4]) || !f[3].is_empty() || v.contains('*') || v.contains('?') {
        return Err(bad());
    }
    match (f[2], f[5]) {
        ("iam", "root") => Ok(PrincipalPattern::Account(f[4].to_string())),
        ("iam", r) if r.starts_with("user/") || r.starts_with("role/") => {
            Ok(PrincipalPattern::Arn(v.to_string()))
        }
        ("sts", r)
            if (r.starts_with("assumed-role/") && r.matches('/').count() == 2)
                || r.starts_with("federated-user/") =>
        {
            Ok(PrincipalPattern::Arn(v.to_string()))
        }
        _ => Err(bad()),
    }
}

/// The entries of a Condition block, and whether some part of it is empty.
fn conditions(c: &Node, diags: &mut Vec<Diagnostic>) -> (Vec<ConditionEntry>, bool) {
    let mut out = Vec::new();
    let Value::Object(ops) = &c.value else {
        diags.push(c.error("`Condition` as an object of operators"));
        return (out, false);
    };
    let mut empty = ops.is_empty();
    for (op, keys) in ops {
        if !is_known_operator(op) {
            diags.push(Diagnostic::error(
                keys.span.clone(),
                format!(
                    "unknown condition operator `{op}`: expected a policy-language operator such as \
                     StringEquals, StringLike, IpAddress, Bool, Null (optionally with IfExists, \
                     ForAllValues:, ForAnyValue:)"
                ),
            ));
            continue;
        }
        let Value::Object(entries) = &keys.value else {
            diags.push(keys.error(&format!("`{op}` as an object of condition keys")));
            continue;
        };
        empty |= entries.is_empty();
        for (key, vals) in entries {
            let values = match &vals.value {
                Value::Bool(b) => vec![b.to_string()],
                Value::Number(n) => vec![n.clone()],
                Value::Array(items)
                    if items.iter().all(|i| {
                        matches!(
                            i.value,
                            Value::String(_) | Value::Bool(_) | Value::Number(_)
                        )
                    }) =>
                {
                    items
                        .iter()
                        .map(|i| match &i.value {
                            Value::String(s) | Value::Number(s) => s.clone(),
                            Value::Bool(b) => b.to_string(),
                            _ => unreachable!("filtered above"),
                        })
                        .collect()
                }
                Value::String(s) => vec![s.clone()],
                _ => {
                    diags.push(vals.error(&format!(
                        "the values of `{key}` as a string or an array of strings"
                    )));
                    continue;
                }
            };
            empty |= values.is_empty();
            out.push(ConditionEntry {
                operator: op.clone(),
                key: key.clone(),
                values,
                span: vals.span.clone(),
            });
        }
    }
    (out, empty)
}
