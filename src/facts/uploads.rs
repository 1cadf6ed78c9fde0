//! Who may have written the objects of a scope that the snapshot does not
//! list, and with which ACL: the states such an object may be in
//! (rules/75) and the upload checks that say which may occur (R75.1), built
//! here or left to an evaluation of their own (`query/uploads.rs`), and the
//! uploader-chosen grants settled from their decisions.

use super::reaching::{alike, PolicyMeets};
use super::*;

/// The owner of an unsigned upload (S3 User Guide, "Overview of managing
/// access": the anonymous canonical ID 65a011a29cdf8ec533ec3d1ccaae921c).
pub const ANONYMOUS_OWNER: &str = "anonymous";

/// The account that owns what a subject uploads (semantics.md 5.2: the
/// writer; an unsigned upload the anonymous user); services upload nothing.
pub(crate) fn uploader_account(estate: &Estate, s: &Subject) -> Option<String> {
    match s {
        Subject::Known(i) => Some(estate.principals[*i].account.clone()),
        Subject::Outside(a) => Some(a.clone()),
        Subject::Anonymous => Some(ANONYMOUS_OWNER.to_string()),
        Subject::Service(_) => None,
    }
}

/// The canned ACLs a PUT may send in `s3:x-amz-acl` (S3 User Guide,
/// "Access control list (ACL) overview", Canned ACL).
const CANNED_ACLS: [&str; 8] = [
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    BUCKET_OWNER_FULL_CONTROL,
    "log-delivery-write",
];

const BUCKET_OWNER_FULL_CONTROL: &str = "bucket-owner-full-control";

/// One upload check of a bucket whose policies read the canned-ACL header.
pub(super) struct UploadCase {
    check: ReqId,
    /// The `s3:x-amz-acl` it sends; none: absent.
    canned: Option<&'static str>,
    /// The account that writes (and, but for bucket-owner-full-control, owns) the upload.
    writer: String,
}

/// An upload check of a bucket whose policies read the canned-ACL header,
/// decided: what `settle_uploader_acls` reads of it.
#[derive(Clone, Debug)]
pub struct CaseDecided {
    canned: Option<&'static str>,
    writer: String,
    decision: Decision,
}

/// Which upload checks of a scope an evaluation needs: those that say who
/// may own its unlisted objects (R75.1), or those that say how they may be
/// encrypted (R78.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PastKind {
    Owners,
    Encryptions,
}

/// Upload checks a query's facts need, left to an evaluation of their own
/// (`query/uploads.rs`): they happened before the query, so no context of
/// it binds them, and every query on scopes that share them shares their
/// decisions (`Index::uploads_apart`).
#[derive(Clone, Debug)]
pub struct WantedUploads {
    pub kind: PastKind,
    pub bucket: usize,
    /// The scope whose checks they are, as the query's facts know it.
    scope: EntId,
    /// Its pattern under the bucket.
    pub pattern: String,
    /// What makes two scopes' checks the same (`upload_scope`): their
    /// relations to every Resource pattern able to speak to the bucket, or,
    /// where a pattern has a policy variable, the pattern itself.
    pub same_as: Result<Vec<Relation>, String>,
    /// Only public grants count (`public_grants_only`).
    pub public_only: bool,
}

/// What a scope's upload checks decided, in names that outlive their
/// evaluation: the past uploads (account, headers, decision) and
/// encryptions (rules/75 PastUpload, rules/78 PastEncryption), the
/// canned-ACL cases, and how many rows the sanity relations held.
#[derive(Debug, Default)]
pub struct UploadsDecided {
    uploads: Vec<(String, UploadAcl, Decision)>,
    encryptions: Vec<(SseId, Decision)>,
    cases: Vec<CaseDecided>,
    sanity_violations: usize,
}

impl UploadsDecided {
    /// What the checks of a scope decided in groups decided together: the
    /// past uploads are a union over the checks.
    pub fn joined(parts: impl IntoIterator<Item = UploadsDecided>) -> UploadsDecided {
        let mut all = UploadsDecided::default();
        for p in parts {
            all.uploads.extend(p.uploads);
            all.encryptions.extend(p.encryptions);
            all.cases.extend(p.cases);
            all.sanity_violations += p.sanity_violations;
        }
        all.uploads.sort();
        all.uploads.dedup();
        all.encryptions.sort();
        all.encryptions.dedup();
        all
    }
}

/// Whether an object of `owner` may carry an uploader's grant (`public`:
/// to AllUsers; else to the caller's account), given the uploads that may
/// have happened (`settle_uploader_acls`): possibly (conditional), only
/// through something unknown, or not at all (none).
fn possible_grant(
    bucket: &Bucket,
    happened: &[&CaseDecided],
    &(_, owner, public, ref caller, anonymous): &(EntId, &str, bool, Option<String>, bool),
) -> Option<Guard> {
    let ra = bucket.account.as_str();
    let preferred = matches!(bucket.ownership, Ok(Ownership::BucketOwnerPreferred));
    let caller = caller.as_deref();
    happened
        .iter()
        .filter_map(|c| {
            let writer = c.writer.as_str();
            let bfc = c.canned == Some(BUCKET_OWNER_FULL_CONTROL);
            let made = if writer == ra || (bfc && preferred) {
                ra
            } else {
                writer
            };
            if made != owner {
                return None;
            }
            let g = match c.canned {
                None => Guard::Conditional,
                Some("public-read" | "public-read-write") if public => Guard::Conditional,
                Some("authenticated-read") if public && !anonymous => Guard::Conditional,
                Some("bucket-owner-read" | BUCKET_OWNER_FULL_CONTROL)
                    if !public && made != ra && caller == Some(ra) =>
                {
                    Guard::Conditional
                }
                Some(BUCKET_OWNER_FULL_CONTROL)
                    if !public && writer != ra && caller == Some(writer) =>
                {
                    Guard::Unknown
                }
                _ => return None,
            };
            Some(if c.decision == Decision::Unknown {
                Guard::Unknown
            } else {
                g
            })
        })
        .min()
}

impl<'e> Built<'e> {
    /// The states an object of a scope may be in (rules/75): each listed
    /// object the pattern matches, and unlisted ones — per account that may
    /// own it (a free-owner scope; otherwise the bucket owner's, R75.1), and
    /// for a read, per encryption it may have (R78.5) — with the upload
    /// requests that say which may occur.
    pub(super) fn scope_variants(
        &mut self,
        (r, subject, action): (ReqId, &Subject, &Action),
        b: usize,
        pattern: &str,
        (x, free): (EntId, bool),
    ) {
        let estate = self.estate;
        let bucket = &estate.buckets[b];
        // Which scope's uploads stand for this one's is worked out once per
        // scope: relating the bucket's patterns to it is the cost.
        let (via, shared) = match self.upload_via.get(&x) {
            Some(known) => known.clone(),
            None => {
                let (shared, same_as) = self.upload_scope(b, pattern);
                let via = self.entity(EntKey::Resource(Resource::Objects(b, shared.clone())));
                self.same_as.entry(via).or_insert(same_as);
                self.upload_via.insert(x, (via, shared.clone()));
                self.facts.uploads_via.push(UploadsVia(x, via));
                (via, shared)
            }
        };
        let mut owners = vec![bucket.account.clone()];
        if free {
            self.upload_checks(b, via, &shared);
            owners.extend(self.index.uploader_accounts.iter().cloned());
            owners.sort();
            owners.dedup();
        } else {
            self.facts.states_listed.push(StatesListed(x));
        }
        let choices = match DECRYPTS.contains(&action.name.as_str()) {
            true => self.sse_choices(b),
            false => Vec::new(),
        };
        if !choices.is_empty() {
            self.sse_checks(b, via, &shared, &choices);
        }
        for o in &bucket.objects {
            if glob::matches(pattern, &o.key, false) && o.key != pattern {
                let v = self.request(subject, action, Resource::Objects(b, o.key.clone()));
                self.facts.variant_of.push(VariantOf(v, r));
                self.facts.listed_variant.push(ListedVariant(v));
            }
        }
        self.unlisted_variants((r, subject, action), b, pattern, owners, &choices);
    }

    /// The unlisted states of a scope for a read: one per owner and
    /// encryption (the default, and each other an upload may ask for).
    fn unlisted_variants(
        &mut self,
        (r, subject, action): (ReqId, &Subject, &Action),
        b: usize,
        pattern: &str,
        owners: Vec<String>,
        choices: &[Sse],
    ) {
        for owner in owners {
            for &sse in std::iter::once(&Sse::Default).chain(choices) {
                let unlisted = Resource::Uploaded(b, pattern.to_string(), owner.clone(), sse);
                let v = self.request(subject, action, unlisted);
                self.facts.variant_of.push(VariantOf(v, r));
                if let Some(id) = sse.id() {
                    self.facts.variant_sse.push(VariantSse(v, id));
                }
            }
        }
    }

    /// The uploads that say who may own the unlisted objects of `scope`
    /// (R75.1): a PutObject by each possible uploader, once per scope.
    fn upload_checks(&mut self, b: usize, scope: EntId, pattern: &str) {
        if !self.uploads_requested.insert(scope)
            || self.leave_uploads(PastKind::Owners, (b, scope, pattern))
        {
            return;
        }
        let uploaders = self.uploaders(PastKind::Owners, b, pattern);
        let put = crate::catalog::Catalog::get()
            .find(PUT_OBJECT)
            .expect("the catalogue has s3:PutObject");
        let read = self.headers_read(b);
        let bucket_account = &self.estate.buckets[b].account;
        // Past uploads, made directly (or through an access point, below):
        // not through the access point, nor under the way, of the request
        // that first asked for the scope, whichever it was.
        let outer = (self.past, self.via, self.way);
        (self.past, self.via, self.way) = (true, None, None);
        for w in &uploaders {
            let objects = Resource::Objects(b, pattern.to_string());
            if read != HeadersRead::Canned {
                // The bucket's own account may always own (R75.1): its
                // uploads can add no owner, and with no canned ACL to
                // settle they decide nothing else.
                if uploader_account(self.estate, w).as_ref() == Some(bucket_account) {
                    continue;
                }
                let u = self.request(w, put, objects);
                let case = match read {
                    HeadersRead::Grants => UploadAcl::Unsettled,
                    _ => UploadAcl::Unread,
                };
                self.facts.upload_checks.push(UploadCheck(u, case));
                continue;
            }
            let Some(writer) = uploader_account(self.estate, w) else {
                continue;
            };
            for value in std::iter::once(None).chain(CANNED_ACLS.iter().copied().map(Some)) {
                let keys = WayKeys::from([("s3:x-amz-acl".to_string(), value.map(str::to_string))]);
                let u = self.pinned_request(w, put, objects.clone(), keys);
                let case = match value {
                    None => UploadAcl::NoCanned,
                    Some(BUCKET_OWNER_FULL_CONTROL) => UploadAcl::OwnerFullControl,
                    Some(_) => UploadAcl::OtherCanned,
                };
                self.facts.upload_checks.push(UploadCheck(u, case));
                self.upload_cases
                    .entry(scope)
                    .or_default()
                    .push(UploadCase {
                        check: u,
                        canned: value,
                        writer: writer.clone(),
                    });
            }
        }
        // Uploads through the bucket's access points leave objects too
        // (rules/77 R77.4); where the canned-ACL header is read, such an
        // upload may have sent any ACL headers (its case fixes none).
        let index = Arc::clone(&self.index);
        for &ap in &index.access_points[b] {
            for w in &uploaders {
                let writer = uploader_account(self.estate, w);
                let own = writer.as_ref() == Some(bucket_account);
                if own && read != HeadersRead::Canned {
                    continue;
                }
                let through = Resource::Through(ap, Some(pattern.to_string()));
                let u = self.request(w, put, through);
                let case = match read {
                    HeadersRead::None => UploadAcl::Unread,
                    HeadersRead::Grants | HeadersRead::Canned => UploadAcl::Unsettled,
                };
                self.facts.upload_checks.push(UploadCheck(u, case));
                if let (HeadersRead::Canned, Some(writer)) = (read, writer) {
                    self.upload_cases
                        .entry(scope)
                        .or_default()
                        .push(UploadCase {
                            check: u,
                            canned: None,
                            writer,
                        });
                }
            }
        }
        (self.past, self.via, self.way) = outer;
    }

    /// The scope whose uploads stand for those of an unlisted scope of the
    /// bucket: the first one asked that every Resource pattern able to speak
    /// to the bucket relates to exactly as it does — directly, and through
    /// each of its access points. Whether a PutObject is
    /// allowed turns on the key only through those relations, so such scopes
    /// have the same possible owners; a pattern with a policy variable
    /// relates per caller, and then each scope stands for itself. With it,
    /// what makes scopes so related the same (`WantedUploads::same_as`).
    fn upload_scope(&mut self, b: usize, pattern: &str) -> (String, Result<Vec<Relation>, String>) {
        let Some(patterns) = self.index.resource_patterns(self.estate, b) else {
            return (pattern.to_string(), Err(pattern.to_string()));
        };
        let relations: Vec<Relation> = patterns
            .iter()
            .map(|(prefix, p)| glob::relate_fields(&format!("{prefix}{pattern}"), p))
            .collect();
        let shared = self
            .upload_scopes
            .entry((b, relations.clone()))
            .or_insert_with(|| pattern.to_string())
            .clone();
        (shared, Ok(relations))
    }

    /// Who the uploads `kind` asks for into a scope are asked of
    /// (`may_have_uploaded`; for owners, one of each that upload alike,
    /// `unlike_uploaders`), or those given instead, when they are
    /// (`check_uploads`).
    pub(super) fn uploaders(&mut self, kind: PastKind, b: usize, pattern: &str) -> Vec<Subject> {
        if let Some(given) = &self.given_uploaders {
            return given.clone();
        }
        let all = self.may_have_uploaded(b, pattern);
        match kind {
            PastKind::Owners => self.unlike_uploaders(b, pattern, all),
            // How an upload may have been encrypted turns on the
            // uploader's KMS grants as well.
            PastKind::Encryptions => all,
        }
    }

    /// Of the uploaders into a scope, one of each set that upload alike:
    /// users and roles of one uploading class (`Classes::uploading`) whose
    /// identity and boundary statements that may meet the upload —
    /// directly or through an access point of the bucket — are the same,
    /// none of them reading the caller's name (`alike`). Every other
    /// policy (SCPs and RCPs, bucket and access point policies, ACLs)
    /// tells members of a class apart by nothing an upload reads, so their
    /// PutObjects are decided alike, and each leaves its objects to the
    /// same account: what the rules read of past uploads.
    fn unlike_uploaders(&mut self, b: usize, pattern: &str, all: Vec<Subject>) -> Vec<Subject> {
        let estate = self.estate;
        let index = Arc::clone(&self.index);
        let mut arns = vec![self.resource_arn(&Resource::Objects(b, pattern.to_string()))];
        for &ap in &index.access_points[b] {
            arns.push(self.resource_arn(&Resource::Through(ap, Some(pattern.to_string()))));
        }
        let mut seen = HashSet::default();
        // Managed policies are held by many: each is read once.
        let mut read: HashMap<usize, PolicyMeets> = HashMap::default();
        let mut out = Vec::with_capacity(all.len());
        for s in all {
            let Subject::Known(i) = s else {
                out.push(s);
                continue;
            };
            let class = index.uploader_classes.class_of(i);
            let meet = |pol: usize| {
                *read.entry(pol).or_insert_with(|| {
                    let found = self.meeting_upload(pol, &arns);
                    PolicyMeets::of(estate, pol, found.as_deref())
                })
            };
            let alike = alike(estate, i, meet).ok_or(i);
            if seen.insert((class, alike)) {
                out.push(s);
            }
        }
        out
    }

    /// The statements of a policy that may meet an upload at any of `arns`
    /// (`None`: it could not be read).
    fn meeting_upload(&mut self, pol: usize, arns: &[String]) -> Option<Vec<usize>> {
        let mut found = Some(Vec::new());
        for arn in arns {
            found = match (
                found,
                self.statements_meeting(pol, (PUT_OBJECT, arn), false),
            ) {
                (Some(mut all), Some(more)) => {
                    all.extend(more);
                    Some(all)
                }
                _ => None,
            };
        }
        if let Some(found) = &mut found {
            found.sort_unstable();
            found.dedup();
        }
        found
    }

    /// Who may have uploaded an unlisted object of the bucket: a superset of
    /// the subjects whose PutObject some rule could allow — those whose
    /// identity policies may allow it, those a grant of the bucket policy or
    /// ACL names, and the bucket account's own root and `account:` — or
    /// everyone when a grant is public or cannot be read; of a class of
    /// users, its first member. Every other subject's upload is an implicit
    /// deny, so checking it adds nothing.
    fn may_have_uploaded(&mut self, b: usize, pattern: &str) -> Vec<Subject> {
        let estate = self.estate;
        let arn = self.resource_arn(&Resource::Objects(b, pattern.to_string()));
        let bucket = &estate.buckets[b];
        // The members of a class upload alike, into one account: the first
        // stands for them all.
        let index = Arc::clone(&self.index);
        let firsts = index.subjects.iter().filter(|s| match s {
            Subject::Known(i) => index.classes.class_of(*i) == *i,
            _ => true,
        });
        let everyone = || firsts.clone().cloned().collect();
        let mut items: Vec<&PrincipalPattern> = Vec::new();
        if let Some(p) = bucket.policy {
            let Ok(body) = &estate.policies[p].body else {
                return everyone();
            };
            for st in body
                .statements
                .iter()
                .filter(|st| st.effect == Effect::Allow)
            {
                match &st.principal {
                    Some(set) if set.negated => return everyone(),
                    Some(set) => items.extend(&set.items),
                    None => {}
                }
            }
        }
        let ignored = self.bpa_in_force(b, |c| c.ignore_public_acls);
        let grants: Vec<&Grantee> = match &bucket.acl {
            Some(Ok(acl)) => acl
                .grants
                .iter()
                .filter(|g| g.permission.writes() && !(ignored && g.grantee.is_public()))
                .map(|g| &g.grantee)
                .collect(),
            // An ACL that could not be read may grant WRITE to anyone.
            Some(Err(_)) | None => return everyone(),
        };
        // Whose identity may allow the upload into this scope (an upload
        // that cannot reach is left out, as in `may_reach`): where Block
        // Public Access could not be read, everyone's upload is open.
        let narrow = index.leave_out_unreachable && !self.bpa_unsettled(b);
        let mut out = Vec::new();
        for s in firsts {
            // What the bucket's policy or ACL names first: where a grant is
            // public, that answers for every subject without its identity.
            let named = items
                .iter()
                .any(|i| principal_match(estate, i, s).is_some())
                || grants.iter().any(|g| grantee_match(estate, g, s).is_some());
            let may = named
                || match s {
                    Subject::Known(i) => {
                        let p = &estate.principals[*i];
                        (index.may_put[*i]
                            && (!narrow || self.identity_may_allow(*i, PUT_OBJECT, &arn)))
                            || (p.kind == PrincipalKind::Root && p.account == bucket.account)
                    }
                    Subject::Outside(a) => *a == bucket.account,
                    _ => false,
                };
            if may {
                out.push(s.clone());
            }
        }
        out
    }

    /// Settles the ACL uploaders may have set on unlisted objects of
    /// buckets whose policies read the canned-ACL header, from the
    /// decisions of the upload checks (one per value, R75.1): a grant may
    /// be on an object of owner O only if an upload that leaves O the owner
    /// may set it. Without `s3:x-amz-acl` the grant headers may name anyone;
    /// a canned ACL grants what the S3 User Guide's "Canned ACL" table says
    /// (public-read, public-read-write: AllUsers; authenticated-read:
    /// AuthenticatedUsers; bucket-owner-read, bucket-owner-full-control: the
    /// bucket owner). Whether the writer keeps a grant to an object that
    /// bucket-owner-full-control gave the bucket owner is not documented:
    /// unknown. A grant no upload can set goes.
    pub fn settle_uploader_acls(&mut self, decided: impl Fn(ReqId) -> Decision) {
        // The uploads that may have happened, per shared scope, decided once
        // (here, or apart).
        let here: HashMap<EntId, Vec<CaseDecided>> = self
            .upload_cases
            .keys()
            .map(|&via| (via, self.cases_decided_here(via, &decided)))
            .collect();
        let happened: HashMap<EntId, Vec<&CaseDecided>> = here
            .iter()
            .chain(&self.cases_decided)
            .map(|(via, cases)| {
                let may = cases.iter().filter(|c| c.decision.reaches()).collect();
                (*via, may)
            })
            .collect();
        // Many requests share a scope, an owner and a caller's account.
        type Key<'k> = (EntId, &'k str, bool, Option<String>, bool);
        let mut memo: HashMap<Key, Option<Guard>> = HashMap::default();
        let mut settled = Vec::new();
        for &(i, r) in &self.unsettled_acl {
            let Matches(_, s, _) = self.facts.matches[i];
            let info = &self.requests[r.0 as usize];
            let (Resource::Uploaded(b, pattern, owner, _), StmtOrigin::UploaderAcl { public, .. }) =
                (&info.resource, &self.stmts[s.0 as usize])
            else {
                continue;
            };
            let scope = self.ents[&EntKey::Resource(Resource::Objects(*b, pattern.clone()))];
            let Some((via, _)) = self.upload_via.get(&scope) else {
                continue;
            };
            let anonymous = matches!(info.subject, Subject::Anonymous);
            let caller = uploader_account(self.estate, &info.subject);
            let key = (*via, owner.as_str(), *public, caller, anonymous);
            let guard = match memo.get(&key) {
                Some(g) => *g,
                None => {
                    let bucket = &self.estate.buckets[*b];
                    let cases = happened.get(via).map_or(&[][..], Vec::as_slice);
                    let g = possible_grant(bucket, cases, &key);
                    memo.insert(key, g);
                    g
                }
            };
            settled.push((i, r, s, guard));
        }
        self.unsettled_acl.clear();
        let mut gone = HashSet::default();
        for (i, r, s, guard) in settled {
            match guard {
                Some(g) => self.facts.matches[i].2 = g,
                None => {
                    gone.insert((r, s));
                }
            }
        }
        self.facts.matches.retain(|m| !gone.contains(&(m.0, m.1)));
        self.facts
            .principal_matches
            .retain(|m| !gone.contains(&(m.0, m.1)));
    }

    /// The canned-ACL cases of a shared scope's upload checks built into
    /// these facts, with their decisions.
    fn cases_decided_here(
        &self,
        via: EntId,
        decided: impl Fn(ReqId) -> Decision,
    ) -> Vec<CaseDecided> {
        self.upload_cases.get(&via).map_or_else(Vec::new, |cases| {
            cases
                .iter()
                .map(|c| CaseDecided {
                    canned: c.canned,
                    writer: c.writer.clone(),
                    decision: decided(c.check),
                })
                .collect()
        })
    }

    /// Whether the upload checks of `scope` are left to an evaluation of
    /// their own (`WantedUploads`) instead of built here; if so, they are
    /// wanted.
    pub(super) fn leave_uploads(
        &mut self,
        kind: PastKind,
        (bucket, scope, pattern): (usize, EntId, &str),
    ) -> bool {
        if self.uploads_here {
            return false;
        }
        self.wanted.push(WantedUploads {
            kind,
            bucket,
            scope,
            pattern: pattern.to_string(),
            same_as: self.same_as[&scope].clone(),
            public_only: self.public_only,
        });
        true
    }

    /// The upload checks left to evaluations of their own since the last call.
    pub fn take_wanted(&mut self) -> Vec<WantedUploads> {
        std::mem::take(&mut self.wanted)
    }

    /// Who may have made the uploads `wanted` asks for (`uploaders`).
    pub fn uploaders_of(&mut self, wanted: &WantedUploads) -> Vec<Subject> {
        self.uploaders(wanted.kind, wanted.bucket, &wanted.pattern)
    }

    /// Builds the upload checks `wanted` asks for, of the `uploaders`
    /// given (some of `uploaders_of`), into these facts, which are theirs
    /// alone (`query/uploads.rs`); the scope they are on.
    pub fn check_uploads(&mut self, wanted: &WantedUploads, uploaders: &[Subject]) -> EntId {
        self.uploads_here = true;
        self.given_uploaders = Some(uploaders.to_vec());
        if wanted.public_only {
            self.public_grants_only();
        }
        let (b, pattern) = (wanted.bucket, wanted.pattern.as_str());
        let scope = self.entity(EntKey::Resource(Resource::Objects(b, pattern.to_string())));
        match wanted.kind {
            PastKind::Owners => self.upload_checks(b, scope, pattern),
            PastKind::Encryptions => {
                let choices = self.sse_choices(b);
                self.sse_checks(b, scope, pattern, &choices);
            }
        }
        scope
    }

    /// What the upload checks on `scope` (`check_uploads`) decided, read
    /// from the rules' run over these facts.
    pub fn uploads_decided(&self, scope: EntId, derived: &Derived) -> UploadsDecided {
        let mut uploads: Vec<(String, UploadAcl, Decision)> = derived
            .past_upload
            .iter()
            .filter(|u| u.0 == scope)
            .map(|u| (self.account_name(u.1).to_string(), u.2, u.3))
            .collect();
        uploads.sort();
        let mut encryptions: Vec<(SseId, Decision)> = derived
            .past_encryption
            .iter()
            .filter(|e| e.0 == scope)
            .map(|e| (e.1, e.2))
            .collect();
        encryptions.sort();
        UploadsDecided {
            uploads,
            encryptions,
            // Only where a policy reads the canned-ACL header are there cases.
            cases: match self.upload_cases.contains_key(&scope) {
                true => {
                    let answers: HashMap<ReqId, Decision> =
                        derived.answer.iter().map(|a| (a.0, a.1)).collect();
                    self.cases_decided_here(scope, |r| {
                        answers.get(&r).copied().unwrap_or(Decision::Unknown)
                    })
                }
                false => Vec::new(),
            },
            sanity_violations: derived.sanity_two_answers.len()
                + derived.sanity_must_not_may.len()
                + derived.sanity_implicit_unnamed.len(),
        }
    }

    /// What an evaluation of their own decided of the upload checks
    /// `wanted` asked for: as the rules read past uploads (UploadKnown,
    /// SseKnown), and the canned-ACL cases `settle_uploader_acls` reads.
    pub fn uploads_known(&mut self, wanted: &WantedUploads, decided: &UploadsDecided) {
        for (account, case, d) in &decided.uploads {
            let a = self.account(account);
            self.facts
                .upload_known
                .push(UploadKnown(wanted.scope, a, *case, *d));
        }
        for &(c, d) in &decided.encryptions {
            self.facts.sse_known.push(SseKnown(wanted.scope, c, d));
        }
        if !decided.cases.is_empty() {
            self.cases_decided
                .insert(wanted.scope, decided.cases.clone());
        }
        self.sanity_apart += decided.sanity_violations;
    }

    /// Rows the sanity relations (rules/90) held in the evaluations of
    /// the upload checks these facts read decided apart.
    pub fn sanity_apart(&self) -> usize {
        self.sanity_apart
    }

    /// Whether uploader-chosen grants wait for `settle_uploader_acls`.
    pub fn has_unsettled_acls(&self) -> bool {
        !self.unsettled_acl.is_empty()
    }
}
