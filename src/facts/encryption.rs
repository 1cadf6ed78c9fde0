//! How objects are encrypted and what S3 asks KMS on the caller's behalf
//! (rules/78): the kms:Decrypt of a read and the kms:GenerateDataKey of an
//! upload as side requests, the encryptions an upload may ask for as ways,
//! and the upload checks that say how unlisted objects may be encrypted
//! (R78.5).

use super::*;

impl Sse {
    /// The id the rules know a chosen encryption by (`SseId`).
    pub(super) fn id(self) -> Option<SseId> {
        match self {
            Sse::Default => None,
            Sse::S3Managed => Some(SseId(0)),
            Sse::Key(k) => Some(SseId(k as u32 + 1)),
        }
    }
}

/// The S3 actions that read an object's data, for which S3 asks KMS to
/// decrypt an SSE-KMS object (AWS KMS Developer Guide, "How Amazon S3 uses
/// AWS KMS").
pub const DECRYPTS: [&str; 2] = ["s3:GetObject", "s3:GetObjectVersion"];

const KMS_DECRYPT: &str = "kms:Decrypt";

const KMS_GENERATE_DATA_KEY: &str = "kms:GenerateDataKey";

/// How an encryption setting may name the AWS managed key for S3.
const AWS_MANAGED_S3_KEY: &str = "alias/aws/s3";

/// The headers with which an upload asks for an encryption (S3 API
/// Reference, PutObject), as condition keys.
const SSE_HEADER: &str = "s3:x-amz-server-side-encryption";

const SSE_KEY_HEADER: &str = "s3:x-amz-server-side-encryption-aws-kms-key-id";

impl<'e> Built<'e> {
    /// The ways an upload to a bucket encrypted by default under KMS may
    /// ask for its encryption (rules/78): without headers (the default
    /// key), SSE-S3, or each key bucketlog considers for the bucket — each
    /// a way of the request with the headers fixed, whose decision
    /// includes the kms:GenerateDataKey it needs. The query's own `with`
    /// may fix the headers instead.
    pub(super) fn encryption_ways(
        &mut self,
        r: ReqId,
        subject: &Subject,
        action: &Action,
        resource: &Resource,
    ) {
        let Resource::Objects(b, _) = resource else {
            return;
        };
        let bucket = &self.estate.buckets[*b];
        if action.name != PUT_OBJECT
            || self.past
            || self.way.is_some()
            || matches!(bucket.encryption, Ok(Encryption::S3Managed))
            || self.fixed().contains_key(SSE_HEADER)
        {
            return;
        }
        let default_key = match &bucket.encryption {
            Ok(Encryption::Kms { key: Some(k), .. }) => {
                self.estate.kms_key_named(&bucket.account, k)
            }
            _ => None,
        };
        let mut ways = vec![(None, None), (Some("AES256".to_string()), None)];
        let keys = default_key
            .into_iter()
            .chain(self.sse_choices(*b).into_iter().filter_map(|c| match c {
                Sse::Key(k) => Some(k),
                _ => None,
            }));
        for k in keys {
            ways.push((
                Some("aws:kms".to_string()),
                Some(self.estate.kms_keys[k].arn.clone()),
            ));
        }
        for (sse, key) in ways {
            let keys = WayKeys::from([
                (SSE_HEADER.to_string(), sse),
                (SSE_KEY_HEADER.to_string(), key),
            ]);
            self.header_way_variant(r, (subject, action, resource), keys);
        }
    }

    /// The request S3 makes to KMS on the caller's behalf for a read of an
    /// object encrypted under a KMS key (rules/78): kms:Decrypt on the key
    /// the object was written with (a listed object's head.json) or, for
    /// the objects the snapshot does not list, the key the bucket's default
    /// encryption names; the object's ARN (the bucket's under S3 Bucket
    /// Keys) is the encryption context. A key the snapshot does not
    /// describe leaves the read open.
    pub(super) fn key_side(
        &mut self,
        r: ReqId,
        subject: &Subject,
        action: &Action,
        resource: &Resource,
    ) {
        let (Resource::Objects(b, key) | Resource::Uploaded(b, key, _, _)) = resource else {
            return;
        };
        if action.name == PUT_OBJECT {
            self.upload_key_side(r, subject, *b, resource);
            return;
        }
        if !DECRYPTS.contains(&action.name.as_str()) {
            return;
        }
        let estate = self.estate;
        let bucket = &estate.buckets[*b];
        let listed = match resource {
            Resource::Objects(..) => self.index.listed(estate, *b, key),
            _ => None,
        };
        let encryption = match listed.and_then(|o| o.encryption.as_ref()) {
            Some(e) => e,
            None => &bucket.encryption,
        };
        let (named, bucket_key) = match (resource, encryption) {
            (Resource::Uploaded(_, _, _, Sse::S3Managed), _) => return,
            (Resource::Uploaded(_, _, _, Sse::Key(k)), _) => {
                (Some(estate.kms_keys[*k].arn.as_str()), false)
            }
            (_, Ok(Encryption::S3Managed)) => return,
            (_, Ok(Encryption::Kms { key, bucket_key })) => (key.as_deref(), *bucket_key),
            (_, Err(_)) => (None, false),
        };
        let context = match bucket_key {
            true => self.resource_arn(&Resource::Bucket(*b)),
            false => self.resource_arn(resource),
        };
        let named = named.map(str::to_string);
        let unreadable = encryption.is_err();
        self.kms_side((r, subject, KMS_DECRYPT), *b, named, unreadable, context);
    }

    /// The KMS request S3 makes for the caller (`action` on the key
    /// `named`), as the request's key side; a key the snapshot does not
    /// describe, or an unreadable setting, leaves the request open; the
    /// AWS managed key `aws/s3` (`None`) is for the rules to judge (R78.3b).
    fn kms_side(
        &mut self,
        (r, subject, action): (ReqId, &Subject, &str),
        b: usize,
        named: Option<String>,
        unreadable: bool,
        context: String,
    ) {
        let estate = self.estate;
        let bucket = &estate.buckets[b];
        let named = named.filter(|n| n != AWS_MANAGED_S3_KEY);
        let Some(k) = named
            .as_deref()
            .and_then(|n| estate.kms_key_named(&bucket.account, n))
        else {
            match named.is_some() || unreadable {
                true => self.facts.key_unresolved.push(KeyUnresolved(r)),
                false => self.facts.aws_managed_key.push(AwsManagedKey(r)),
            }
            return;
        };
        let action = crate::catalog::Catalog::get()
            .find(action)
            .expect("the catalogue has S3's KMS actions");
        // KMS requests carry no access point's keys.
        let via = self.via.take();
        let rk = self.request(subject, action, Resource::Key(k, context));
        self.via = via;
        self.facts.side_requests.push(SideRequest(r, rk));
    }

    /// The kms:GenerateDataKey an upload needs (rules/78): under the key
    /// its headers name, or — without them — the bucket's default key;
    /// none under SSE-S3. An upload made to learn who may own unlisted
    /// objects fixes no headers and may always have asked for SSE-S3, so
    /// it has none.
    fn upload_key_side(&mut self, r: ReqId, subject: &Subject, b: usize, resource: &Resource) {
        let fixed = self.fixed();
        let sse = fixed.get(SSE_HEADER).map(|v| v.first().cloned());
        let named_key = fixed.get(SSE_KEY_HEADER).and_then(|v| v.first().cloned());
        let estate = self.estate;
        let bucket = &estate.buckets[b];
        let default = match &bucket.encryption {
            Ok(Encryption::S3Managed) => None,
            Ok(Encryption::Kms { key, .. }) => Some(key.clone()),
            Err(_) => Some(None),
        };
        let unreadable = bucket.encryption.is_err() && !matches!(sse, Some(Some(_)));
        let named: Option<Option<String>> = match sse {
            Some(Some(v)) if v.starts_with("aws:kms") => Some(named_key.or(default.flatten())),
            Some(Some(_)) => None,
            None if self.past => None,
            Some(None) | None => default,
        };
        let Some(named) = named else {
            return;
        };
        let context = self.resource_arn(resource);
        self.kms_side(
            (r, subject, KMS_GENERATE_DATA_KEY),
            b,
            named,
            unreadable,
            context,
        );
    }

    /// Whether the objects of a scope of a bucket without ACLs may differ
    /// in how a read of them is decided: a listed object under it has its
    /// own head.json, or an upload may ask for another encryption than the
    /// default (R78.5), so each is a state of the scope (rules/75).
    pub(super) fn encryption_varies(&self, b: usize, pattern: &str, action: &Action) -> bool {
        let objects = &self.estate.buckets[b].objects;
        // A listed object is as the snapshot lists it.
        DECRYPTS.contains(&action.name.as_str())
            && self.index.listed(self.estate, b, pattern).is_none()
            && (!self.sse_choices(b).is_empty()
                || objects.iter().any(|o| {
                    o.encryption.is_some()
                        && o.key != pattern
                        && glob::matches(pattern, &o.key, false)
                }))
    }

    /// The encryptions other than the default that an upload to the bucket
    /// may ask for and bucketlog considers (rules/78 R78.5): SSE-S3 where
    /// the default is not, and the KMS keys of the snapshot that the
    /// bucket's listed objects show in use, but the default's. An upload
    /// may name any key; an estate's keys that nothing ties to the bucket
    /// are left out, or every reader without them would be `conditional`
    /// on objects written under keys the bucket never sees
    /// (docs/decisions.md).
    pub(super) fn sse_choices(&self, b: usize) -> Vec<Sse> {
        let estate = self.estate;
        let bucket = &estate.buckets[b];
        let named = |e: &Encryption| match e {
            Encryption::Kms { key: Some(k), .. } => estate.kms_key_named(&bucket.account, k),
            _ => None,
        };
        let default_key = bucket.encryption.as_ref().ok().and_then(named);
        let mut keys: Vec<usize> = bucket
            .objects
            .iter()
            .filter_map(|o| o.encryption.as_ref()?.as_ref().ok())
            .filter_map(named)
            .filter(|&k| Some(k) != default_key)
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let mut out = Vec::new();
        if !matches!(bucket.encryption, Ok(Encryption::S3Managed)) {
            out.push(Sse::S3Managed);
        }
        out.extend(keys.into_iter().map(Sse::Key));
        out
    }

    /// The uploads that say how unlisted objects of `scope` may be
    /// encrypted (R78.5): a PutObject by each possible uploader asking for
    /// each encryption other than the default, with the
    /// kms:GenerateDataKey an upload under a KMS key needs; once per scope.
    pub(super) fn sse_checks(&mut self, b: usize, scope: EntId, pattern: &str, choices: &[Sse]) {
        if !self.sse_requested.insert(scope)
            || self.leave_uploads(PastKind::Encryptions, (b, scope, pattern))
        {
            return;
        }
        let put = crate::catalog::Catalog::get()
            .find(PUT_OBJECT)
            .expect("the catalogue has s3:PutObject");
        let objects = Resource::Objects(b, pattern.to_string());
        // Past uploads, made directly: not through the access point, nor
        // under the way, of the request that first asked for the scope.
        let outer = (self.past, self.via, self.way);
        (self.past, self.via, self.way) = (true, None, None);
        for w in self.uploaders(PastKind::Encryptions, b, pattern) {
            for &c in choices {
                let (sse, key) = match c {
                    Sse::Default => continue,
                    Sse::S3Managed => ("AES256", None),
                    Sse::Key(k) => ("aws:kms", Some(self.estate.kms_keys[k].arn.clone())),
                };
                let keys = WayKeys::from([
                    (SSE_HEADER.to_string(), Some(sse.to_string())),
                    (SSE_KEY_HEADER.to_string(), key),
                ]);
                // Its kms:GenerateDataKey is its key side (`upload_key_side`).
                let u = self.pinned_request(&w, put, objects.clone(), keys);
                if let Some(id) = c.id() {
                    self.facts.sse_checks.push(SseCheck(u, id));
                }
            }
        }
        (self.past, self.via, self.way) = outer;
    }

    /// What S3's request to KMS carries about the key and the object.
    pub(super) fn kms_keys(&self, resource: &Resource) -> Option<smt::keys::KmsKeys> {
        let Resource::Key(k, context) = resource else {
            return None;
        };
        Some(smt::keys::KmsKeys {
            via_service: format!("s3.{}.amazonaws.com", self.estate.kms_keys[*k].region),
            context: context.clone(),
        })
    }
}
