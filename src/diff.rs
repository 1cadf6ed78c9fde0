//! `bucketlog diff`: what a change to the estate does to the answers of a
//! query — access the new snapshot adds, removes or makes more or less
//! certain — so a pull request that edits a policy shows "role/x can now
//! read acme-prod-datalake/*" (Access Analyzer's check-no-new-access is the
//! peer). Both sides are answered by the same engine; this module only
//! compares.

use std::collections::BTreeMap;

use crate::datalog::Decision;
use crate::query::{Answer, Outcome};

/// One request whose best answer differs between the two estates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub principal: String,
    pub action: String,
    pub resource: String,
    /// The best decision before and after (`None`: no answer that may give
    /// access on that side).
    pub before: Option<Decision>,
    pub after: Option<Decision>,
    /// The chain of the answer after (or before, for a removal).
    pub via: Vec<String>,
}

impl Change {
    /// Access the new estate adds: a request that may now succeed and could
    /// not, or that is now surer to (conditional or unknown to allow).
    pub fn widens(&self) -> bool {
        match (self.before, self.after) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(b), Some(a)) => a < b,
        }
    }
}

/// Each (principal, action, resource)'s best answer that may give access.
fn best(o: &Outcome) -> BTreeMap<(String, String, String), &Answer> {
    let mut out: BTreeMap<_, &Answer> = BTreeMap::new();
    for a in o.answers.iter().filter(|a| a.decision.reaches()) {
        let key = (
            a.principal.clone(),
            a.action.to_string(),
            a.resource.to_string(),
        );
        let kept = out.entry(key).or_insert(a);
        if a.rank() < kept.rank() {
            *kept = a;
        }
    }
    out
}

/// The requests whose best answer changed, in (principal, action,
/// resource) order.
pub fn changes(before: &Outcome, after: &Outcome) -> Vec<Change> {
    let (b, a) = (best(before), best(after));
    let mut keys: Vec<&(String, String, String)> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|k| {
            let (old, new) = (b.get(k), a.get(k));
            let (before, after) = (old.map(|x| x.decision), new.map(|x| x.decision));
            (before != after).then(|| Change {
                principal: k.0.clone(),
                action: k.1.clone(),
                resource: k.2.clone(),
                before,
                after,
                via: new.or(old).map(|x| x.via.clone()).unwrap_or_default(),
            })
        })
        .collect()
}
