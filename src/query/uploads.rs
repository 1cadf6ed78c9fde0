//! The upload checks of a scope — who may own its unlisted objects, and how
//! their uploaders may have encrypted them (rules/75 R75.1, rules/78 R78.5)
//! — decided in an evaluation of their own, once per engine. They are
//! uploads made before any query, so no query's context binds them, and
//! every query on a scope that shares them (`facts::WantedUploads::same_as`)
//! reads the same decisions (UploadKnown, SseKnown). A bucket that everyone
//! may write to has a check per principal and canned ACL; deciding them
//! once instead of within every query that touches the bucket is most of
//! a batch of decisions' time saved.

use super::Engine;
use crate::datalog;
use crate::facts::{Built, PastKind, UploadsDecided, WantedUploads};
use crate::glob::Relation;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, MutexGuard};

/// What makes two scopes' upload checks decide alike: which checks, the
/// bucket, the scope's relations to the bucket's Resource patterns (or its
/// pattern), and whether only public grants count.
pub(super) type UploadsKey = (PastKind, usize, Result<Vec<Relation>, String>, bool);

pub(super) type DecidedUploads = HashMap<UploadsKey, Arc<UploadsDecided>>;

impl Engine<'_> {
    /// Gives the facts what the upload checks they want decided.
    pub(super) fn decide_uploads(&self, built: &mut Built) {
        for wanted in built.take_wanted() {
            built.uploads_known(&wanted, &self.uploads(&wanted));
        }
    }

    /// The decisions of one scope's upload checks: kept, or decided now in
    /// facts of their own. Two threads may decide the same checks at once;
    /// they decide alike, and the first kept stays.
    fn uploads(&self, wanted: &WantedUploads) -> Arc<UploadsDecided> {
        let key = (
            wanted.kind,
            wanted.bucket,
            wanted.same_as.clone(),
            wanted.public_only,
        );
        if let Some(known) = self.decided_uploads().get(&key) {
            return known.clone();
        }
        // The uploaders' checks are independent requests: decided in groups
        // on rayon's threads, as the hops of the can-assume graph are.
        // No uploader, no check: nothing decided.
        let uploaders = Built::new(self.estate, self.index.clone()).uploaders_of(wanted);
        let parts: Vec<UploadsDecided> = uploaders
            .par_chunks(self.index.uploaders_per_group.max(1))
            .map(|group| {
                let mut built = Built::new(self.estate, self.index.clone());
                let scope = built.check_uploads(wanted, group);
                let derived = datalog::run(&built.facts);
                built.uploads_decided(scope, &derived)
            })
            .collect();
        let decided = Arc::new(UploadsDecided::joined(parts));
        self.decided_uploads().entry(key).or_insert(decided).clone()
    }

    /// The upload checks decided so far. A poisoned lock still holds whole
    /// entries: each is inserted complete.
    fn decided_uploads(&self) -> MutexGuard<'_, DecidedUploads> {
        self.uploads.lock().unwrap_or_else(|e| e.into_inner())
    }
}
