//! Object Lock as facts (rules/46): the retention ceiling of a listed
//! version, and a delete of that version with and without the header that
//! bypasses governance-mode retention.

use super::*;

const DELETE_OBJECT_VERSION: &str = "s3:DeleteObjectVersion";

const VERSION_ID_KEY: &str = "s3:versionid";

const BYPASS_GOVERNANCE_RETENTION: &str = "s3:BypassGovernanceRetention";

/// The header that asks S3 to bypass governance-mode retention (S3 API
/// Reference, DeleteObject), which no condition key names: a witness
/// gives it as a `bucketlog:` pseudo-key.
const BYPASS_HEADER: &str = "bucketlog:bypass-governance-retention";

impl<'e> Built<'e> {
    /// The ceiling the retention of the version listed under an object's
    /// key puts on deleting it (`ListedVersion::ceiling`, rules/46).
    pub(super) fn retention_ceiling(&self, resource: &Resource) -> Option<usize> {
        let Resource::Objects(b, key) = resource else {
            return None;
        };
        self.index
            .listed(self.estate, *b, key)?
            .version
            .as_ref()?
            .ceiling
    }

    /// A delete of the version a listed object's head.json describes (the
    /// query fixes s3:versionid to its ID) meets that version's Object Lock
    /// state (rules/46) instead of the open of the versions the snapshot
    /// does not describe. Under governance-mode retention it goes two ways:
    /// without the bypass header, under the retention's ceiling; with it,
    /// needing the caller's s3:BypassGovernanceRetention too.
    pub(super) fn version_lock(
        &mut self,
        r: ReqId,
        subject: &Subject,
        action: &Action,
        resource: &Resource,
    ) {
        let Resource::Objects(b, key) = resource else {
            return;
        };
        if action.name != DELETE_OBJECT_VERSION || self.past {
            return;
        }
        let listed = self.index.listed(self.estate, *b, key);
        let Some(version) = listed.and_then(|o| o.version.as_ref()) else {
            return;
        };
        let fixed = self.fixed();
        if fixed.get(VERSION_ID_KEY).map(Vec::as_slice) != Some(std::slice::from_ref(&version.id)) {
            return;
        }
        // Sent as `true`; absent, or any other value, bypasses nothing.
        let bypass = fixed
            .get(BYPASS_HEADER)
            .map(|v| v.iter().any(|x| x.eq_ignore_ascii_case("true")));
        self.facts.version_listed.push(VersionListed(r));
        if version.legal_hold {
            self.facts.legal_hold.push(LegalHold(r));
        }
        let Some(retention) = &version.retention else {
            return;
        };
        match (retention.mode, bypass) {
            (RetentionMode::Governance, None) => {
                for value in [None, Some("true".to_string())] {
                    let keys = WayKeys::from([(BYPASS_HEADER.to_string(), value)]);
                    self.header_way_variant(r, (subject, action, resource), keys);
                }
            }
            (RetentionMode::Governance, Some(true)) => {
                let bypass = crate::catalog::Catalog::get()
                    .find(BYPASS_GOVERNANCE_RETENTION)
                    .expect("the catalogue has s3:BypassGovernanceRetention");
                let rb = self.request(subject, bypass, resource.clone());
                self.facts.side_requests.push(SideRequest(r, rb));
            }
            _ => self.facts.retained.push(Retained(r)),
        }
    }
}
