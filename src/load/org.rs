//! Organizations files of a snapshot (`org/`, inputs.md §1): the tree, the
//! member accounts, and the SCPs and RCPs with their targets.

use super::json::{Node, Value};
use super::{parse_file, policy_from, record, FileSet};
use crate::diag::Diagnostic;
use crate::model::{Estate, OrgPolicy, Organization, PolicyKind};
use std::collections::BTreeMap;

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
    if let Some(d) = doc("org/organization.json", estate) {
        let o = d.get("Organization").unwrap_or(&d);
        org.id = o.str_field("Id").ok().map(str::to_string);
        org.management_account = o.str_field("MasterAccountId").ok().map(str::to_string);
    }
    if let Some(d) = doc("org/accounts.json", estate) {
        let ids: Result<Vec<String>, Diagnostic> = d.array_field("Accounts").and_then(|a| {
            a.iter()
                .map(|x| x.str_field("Id").map(str::to_string))
                .collect()
        });
        match ids {
            Ok(ids) => org.accounts = ids,
            Err(e) => estate.diagnostics.push(e),
        }
    }
    if let Some(d) = doc("org/tree.json", estate) {
        match tree(&d) {
            Ok(t) => org.parent = t,
            Err(e) => estate.diagnostics.push(e),
        }
    }
    let targets: BTreeMap<String, Vec<String>> = files
        .files
        .keys()
        .filter_map(|k| {
            Some((
                k.strip_prefix("org/targets/")?
                    .strip_suffix(".json")?
                    .to_string(),
                k.clone(),
            ))
        })
        .filter_map(|(id, rel)| {
            let d = doc(&rel, estate)?;
            let t: Result<Vec<String>, Diagnostic> = d.array_field("Targets").and_then(|a| {
                a.iter()
                    .map(|x| x.str_field("TargetId").map(str::to_string))
                    .collect()
            });
            t.map_err(|e| estate.diagnostics.push(e))
                .ok()
                .map(|t| (id, t))
        })
        .collect();
    let policy_files: Vec<(String, String)> = files
        .files
        .keys()
        .filter_map(|k| {
            Some((
                k.strip_prefix("org/policies/")?
                    .strip_suffix(".json")?
                    .to_string(),
                k.clone(),
            ))
        })
        .collect();
    for (id, rel) in policy_files {
        let Some(d) = doc(&rel, estate) else { continue };
        match org_policy(&d, &id, estate) {
            Ok(policy) => org.policies.push(OrgPolicy {
                targets: targets.get(&id).cloned().unwrap_or_default(),
                id,
                policy,
            }),
            Err(e) => estate.diagnostics.push(e),
        }
    }
    estate.organization = Some(org);
}

/// `tree.json`: parent links, `{"r-abcd": null, "ou-x": "r-abcd", "111122223333": "ou-x"}`.
fn tree(d: &Node) -> Result<BTreeMap<String, Option<String>>, Diagnostic> {
    let Value::Object(props) = &d.value else {
        return Err(d.error("an object of parent links: {\"ou-x\": \"r-abcd\", \"r-abcd\": null}"));
    };
    props
        .iter()
        .map(|(k, v)| match &v.value {
            Value::Null => Ok((k.clone(), None)),
            Value::String(p) => Ok((k.clone(), Some(p.clone()))),
            _ => Err(v.error("the parent's id as a string, or null for the root")),
        })
        .collect()
}

/// `describe-policy`: the summary says SCP or RCP; the content is a JSON string.
fn org_policy(d: &Node, id: &str, estate: &mut Estate) -> Result<usize, Diagnostic> {
    let p = d.get("Policy").unwrap_or(d);
    let summary = p.get("PolicySummary").unwrap_or(p);
    let kind = match summary.str_field("Type")? {
        "SERVICE_CONTROL_POLICY" => PolicyKind::Scp,
        "RESOURCE_CONTROL_POLICY" => PolicyKind::Rcp,
        _ => {
            let n = summary.get("Type").unwrap_or(summary);
            return Err(n.error("`Type` as SERVICE_CONTROL_POLICY or RESOURCE_CONTROL_POLICY"));
        }
    };
    let name = summary.str_field("Name").unwrap_or(id).to_string();
    let Some(content) = p.get("Content") else {
        return Err(p.error("a `Content` field with the policy document"));
    };
    Ok(policy_from(content, &name, kind, estate))
}
