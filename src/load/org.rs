//! Organizations files of a snapshot (`org/`, inputs.md §1): the tree, the
//! member accounts, and the SCPs and RCPs with their targets.

use super::json::{Node, Value};
use super::{missing_policy, parse_file, policy_from, record, FileSet};
use crate::diag::{Diagnostic, Span};
use crate::model::{is_account_id, Estate, OrgPolicy, Organization, PolicyKind};
use std::collections::{BTreeMap, BTreeSet};

/// Loads `org/`. What cannot be read is kept as unknown, never as absent:
/// an unreadable policy file is an invalid policy (of both kinds when its
/// type cannot be read) attached to its targets; a policy whose targets
/// cannot be read, or an inconsistent tree, leaves every member account
/// unplaced (`OrgPathUnknown`: the SCPs and RCPs above it are unknown); when
/// neither `accounts.json` nor `tree.json` can be read, every account of the
/// snapshot but the management account is taken as such a member.
pub fn load(files: &FileSet, estate: &mut Estate) {
    if !files.files.keys().any(|k| k.starts_with("org/")) {
        return;
    }
    let mut org = Organization::default();
    let doc = |rel: &str, estate: &mut Estate| -> Option<Node> {
        let bytes = files.files.get(rel)?;
        parse_file(&files.display(rel), bytes)
            .map_err(|d| record(d, estate))
            .ok()
    };
    let org_span = Span::file(&files.display("org"));
    match doc("org/organization.json", estate) {
        Some(d) => {
            let o = d.get("Organization").unwrap_or(&d);
            org.id = o.str_field("Id").ok().map(str::to_string);
            match o.str_field("MasterAccountId") {
                Ok(m) => org.management_account = Some(m.to_string()),
                Err(e) => estate.diagnostics.push(Diagnostic::error(
                    e.span,
                    format!(
                        "{}: the management account is unknown, so SCPs are applied to every \
                         member account",
                        e.message
                    ),
                )),
            }
        }
        None if !files.files.contains_key("org/organization.json") => {
            estate.diagnostics.push(Diagnostic::warning(
                org_span.clone(),
                "no org/organization.json: the management account is unknown, so SCPs are \
                 applied to every member account",
            ))
        }
        None => {}
    }
    let mut members_known = false;
    if let Some(d) = doc("org/accounts.json", estate) {
        let ids: Result<Vec<String>, Diagnostic> = match d.get("Accounts") {
            Some(Node {
                value: Value::Array(a),
                ..
            }) => a
                .iter()
                .map(|x| x.str_field("Id").map(str::to_string))
                .collect(),
            Some(n) => Err(n.error("`Accounts` as an array")),
            None => Err(Diagnostic::error(
                d.span.clone(),
                "expected an `Accounts` field, as `aws organizations list-accounts` prints it",
            )),
        };
        match ids {
            Ok(ids) => {
                org.accounts = ids;
                members_known = true;
            }
            Err(e) => estate.diagnostics.push(e),
        }
    }
    // Whether every member account's place is known; `false` unplaces them all.
    let mut placed = true;
    let mut tree_read = false;
    if let Some(d) = doc("org/tree.json", estate) {
        match tree(&d) {
            Ok(t) => {
                org.parent = t;
                tree_read = true;
            }
            Err(e) => {
                estate.diagnostics.push(e);
                placed = false;
            }
        }
    }
    // Targets by policy id: `Err` when the file cannot be read.
    let mut targets: BTreeMap<String, Result<Vec<String>, ()>> = BTreeMap::new();
    for (id, rel) in org_files(files, "org/targets/") {
        let t = match doc(&rel, estate) {
            None => Err(()),
            Some(d) => policy_targets(&d).map_err(|e| estate.diagnostics.push(e)),
        };
        targets.insert(id, t);
    }
    let policy_files = org_files(files, "org/policies/");
    let mut seen = BTreeSet::new();
    for (id, rel) in &policy_files {
        seen.insert(id.clone());
        // Each policy as one or two entries: both kinds when its type is unknown.
        let Some(bytes) = files.files.get(rel) else {
            continue;
        };
        let policies: Vec<usize> = match parse_file(&files.display(rel), bytes) {
            Ok(d) => match org_policy(&d, id, estate) {
                Ok(p) => vec![p],
                Err((kind, e)) => unreadable_policy(id, kind, e, estate),
            },
            Err(e) => unreadable_policy(id, None, e, estate),
        };
        let attached = match targets.get(id) {
            Some(Ok(t)) => t.clone(),
            Some(Err(())) => {
                placed = false;
                Vec::new()
            }
            None => {
                estate.diagnostics.push(Diagnostic::error(
                    Span::file(&files.display(rel)),
                    format!(
                        "expected org/targets/{id}.json (`aws organizations \
                         list-targets-for-policy --policy-id {id}`): where the policy is \
                         attached is unknown, so the SCPs and RCPs of every member account are \
                         unknown"
                    ),
                ));
                placed = false;
                Vec::new()
            }
        };
        if targets.get(id).is_some_and(Result::is_err) {
            // The file's own error is reported; this says what it costs.
            estate.diagnostics.push(Diagnostic::warning(
                Span::file(&files.display(&format!("org/targets/{id}.json"))),
                format!(
                    "the targets of policy `{id}` cannot be read: where it is attached is \
                     unknown, so the SCPs and RCPs of every member account are unknown"
                ),
            ));
        }
        for policy in policies {
            org.policies.push(OrgPolicy {
                id: id.clone(),
                policy,
                targets: attached.clone(),
            });
        }
    }
    // Targets of a policy the snapshot does not have: attached, content unknown.
    for (id, t) in &targets {
        if seen.contains(id) {
            continue;
        }
        let rel = format!("org/targets/{id}.json");
        let d = Diagnostic::error(
            Span::file(&files.display(&rel)),
            format!(
                "expected org/policies/{id}.json (`aws organizations describe-policy \
                 --policy-id {id}`): the policy is attached but its content and type are unknown"
            ),
        );
        let policies = unreadable_policy(id, None, d, estate);
        match t {
            Ok(t) => {
                for policy in policies {
                    org.policies.push(OrgPolicy {
                        id: id.clone(),
                        policy,
                        targets: t.clone(),
                    });
                }
            }
            Err(()) => placed = false,
        }
    }
    let tree_accounts: Vec<String> = org
        .parent
        .keys()
        .filter(|k| is_account_id(k))
        .cloned()
        .collect();
    org.members_known = members_known || tree_read;
    if !members_known && !tree_read {
        // Which accounts are members is unknown: each may be.
        estate.diagnostics.push(Diagnostic::warning(
            org_span,
            "neither org/accounts.json nor org/tree.json could be read: which accounts are \
             members of the organization is unknown, so every account of the snapshot but the \
             management account is taken as a member whose SCPs and RCPs are unknown",
        ));
        let management = org.management_account.clone();
        org.accounts.extend(
            estate
                .accounts
                .keys()
                .filter(|a| Some(*a) != management.as_ref())
                .cloned(),
        );
    }
    if !placed {
        // Keep membership, forget places: `path` is empty for every account.
        for a in tree_accounts {
            if !org.accounts.contains(&a) {
                org.accounts.push(a.clone());
            }
            org.parent.remove(&a);
        }
    }
    estate.organization = Some(org);
}

/// The files under `dir` named `<policy-id>.json`, by policy id.
fn org_files(files: &FileSet, dir: &str) -> Vec<(String, String)> {
    files
        .files
        .keys()
        .filter_map(|k| {
            Some((
                k.strip_prefix(dir)?.strip_suffix(".json")?.to_string(),
                k.clone(),
            ))
        })
        .collect()
}

/// `list-targets-for-policy`: `{"Targets": [{"TargetId": …}, …]}`.
fn policy_targets(d: &Node) -> Result<Vec<String>, Diagnostic> {
    match d.get("Targets") {
        Some(Node {
            value: Value::Array(a),
            ..
        }) => a
            .iter()
            .map(|x| x.str_field("TargetId").map(str::to_string))
            .collect(),
        Some(n) => Err(n.error("`Targets` as an array")),
        None => Err(Diagnostic::error(
            d.span.clone(),
            "expected a `Targets` field, as `aws organizations list-targets-for-policy` prints it",
        )),
    }
}

/// An Organizations policy that cannot be read: invalid, so the answers it
/// could change are unknown. Of both kinds when its type is unknown.
fn unreadable_policy(
    id: &str,
    kind: Option<PolicyKind>,
    problem: Diagnostic,
    estate: &mut Estate,
) -> Vec<usize> {
    let first = missing_policy(id, kind.unwrap_or(PolicyKind::Scp), problem, estate);
    if kind.is_some() {
        return vec![first];
    }
    let mut rcp = estate.policies[first].clone();
    rcp.kind = PolicyKind::Rcp;
    estate.policies.push(rcp);
    vec![first, estate.policies.len() - 1]
}

/// `tree.json`: parent links, `{"r-abcd": null, "ou-x": "r-abcd", "111122223333": "ou-x"}`.
/// Every parent must be listed and every chain must end at a root: a partial
/// path would leave the policies above the break silently out.
fn tree(d: &Node) -> Result<BTreeMap<String, Option<String>>, Diagnostic> {
    let Value::Object(props) = &d.value else {
        return Err(d.error("an object of parent links: {\"ou-x\": \"r-abcd\", \"r-abcd\": null}"));
    };
    let parent: BTreeMap<String, Option<String>> = props
        .iter()
        .map(|(k, v)| match &v.value {
            Value::Null => Ok((k.clone(), None)),
            Value::String(p) => Ok((k.clone(), Some(p.clone()))),
            _ => Err(v.error("the parent's id as a string, or null for the root")),
        })
        .collect::<Result<_, _>>()?;
    for (k, v) in props {
        let mut seen = BTreeSet::from([k.as_str()]);
        let mut cur = parent[k].as_deref();
        while let Some(p) = cur {
            if !parent.contains_key(p) {
                return Err(Diagnostic::error(
                    v.span.clone(),
                    format!(
                        "the parent `{p}` (above `{k}`) is not in tree.json: expected every root \
                         and OU listed, the root with null"
                    ),
                ));
            }
            if !seen.insert(p) {
                return Err(Diagnostic::error(
                    v.span.clone(),
                    format!("the parents above `{k}` form a cycle: expected a chain that ends at the root (null)"),
                ));
            }
            cur = parent[p].as_deref();
        }
    }
    Ok(parent)
}

/// `describe-policy`: the summary says SCP or RCP; the content is a JSON
/// string. On error, the kind when it could be read.
fn org_policy(
    d: &Node,
    id: &str,
    estate: &mut Estate,
) -> Result<usize, (Option<PolicyKind>, Diagnostic)> {
    let p = d.get("Policy").unwrap_or(d);
    let summary = p.get("PolicySummary").unwrap_or(p);
    let kind = match summary.str_field("Type").map_err(|e| (None, e))? {
        "SERVICE_CONTROL_POLICY" => PolicyKind::Scp,
        "RESOURCE_CONTROL_POLICY" => PolicyKind::Rcp,
        _ => {
            let n = summary.get("Type").unwrap_or(summary);
            return Err((
                None,
                n.error("`Type` as SERVICE_CONTROL_POLICY or RESOURCE_CONTROL_POLICY"),
            ));
        }
    };
    let name = summary.str_field("Name").unwrap_or(id).to_string();
    let Some(content) = p.get("Content") else {
        return Err((
            Some(kind),
            p.error("a `Content` field with the policy document"),
        ));
    };
    Ok(policy_from(content, &name, kind, estate))
}
