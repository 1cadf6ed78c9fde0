//! ACLs, Object Ownership and Block Public Access as facts (semantics.md
//! 5): which grants an entity holds as statements, who owns an object,
//! what an uploader may have granted, and what is left open.

use super::*;

/// Whether an ACL permission grants an action (semantics.md 5.1's table).
/// Bucket WRITE's delete and overwrite rights depend on who owns the object:
/// `rules/40-acl-ownership.dl` R40.2b decides them (`OwnedOnly`).
pub(super) fn acl_grants_action(p: AclPermission, object_acl: bool, action: &str) -> bool {
    use AclPermission::*;
    let names: &[&str] = match (object_acl, p) {
        (false, Read) => &[
            "s3:ListBucket",
            "s3:ListBucketVersions",
            "s3:ListBucketMultipartUploads",
        ],
        (false, Write) => &["s3:PutObject"],
        (false, ReadAcp) => &["s3:GetBucketAcl"],
        (false, WriteAcp) => &["s3:PutBucketAcl"],
        (false, FullControl) => &[
            "s3:ListBucket",
            "s3:ListBucketVersions",
            "s3:ListBucketMultipartUploads",
            "s3:PutObject",
            "s3:GetBucketAcl",
            "s3:PutBucketAcl",
        ],
        (true, Read) => &["s3:GetObject", "s3:GetObjectVersion"],
        (true, Write) => &[],
        (true, ReadAcp) => &["s3:GetObjectAcl", "s3:GetObjectVersionAcl"],
        (true, WriteAcp) => &["s3:PutObjectAcl", "s3:PutObjectVersionAcl"],
        (true, FullControl) => &[
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:GetObjectAcl",
            "s3:GetObjectVersionAcl",
            "s3:PutObjectAcl",
            "s3:PutObjectVersionAcl",
        ],
    };
    names.contains(&action)
}

/// The actions a bucket WRITE grant gives on the objects its grantee owns
/// (R40.2b: overwrites and deletes).
pub(super) const OWNED_ONLY: [&str; 2] = ["s3:PutObject", "s3:DeleteObject"];

/// Whether any ACL grant, of a bucket or an object, may speak to an action
/// (`acl_grants_action`, `OWNED_ONLY`): no other action is ever granted by
/// an ACL (`may_reach`).
pub(super) fn acl_may_grant(action: &str) -> bool {
    use AclPermission::*;
    OWNED_ONLY.contains(&action)
        || [Read, Write, ReadAcp, WriteAcp, FullControl]
            .into_iter()
            .any(|p| acl_grants_action(p, false, action) || acl_grants_action(p, true, action))
}

/// How an ACL grantee names a subject: a canonical ID its account
/// (semantics.md 5.1), AllUsers everyone, AuthenticatedUsers every signed
/// caller, LogDelivery the log delivery service.
pub(super) fn grantee_match(
    estate: &Estate,
    g: &Grantee,
    subject: &Subject,
) -> Option<(Class, Guard)> {
    match (g, subject) {
        (Grantee::Canonical(c), _) => {
            principal_match(estate, &PrincipalPattern::CanonicalUser(c.clone()), subject)
        }
        (Grantee::AllUsers, _) => Some((Class::Public, Guard::Definite)),
        (Grantee::AuthenticatedUsers, Subject::Anonymous) => None,
        (Grantee::AuthenticatedUsers, _) => Some((Class::Public, Guard::Definite)),
        (Grantee::LogDelivery, Subject::Service(s)) if s == "logging.s3.amazonaws.com" => {
            Some((Class::Direct, Guard::Definite))
        }
        (Grantee::LogDelivery, _) => None,
        // A grantee bucketlog cannot read may be any group, AllUsers too.
        (Grantee::Unresolved(_), _) => Some((Class::Public, Guard::Unknown)),
    }
}

impl<'e> Built<'e> {
    /// The ACL a PUT carries, as far as the fixed context says.
    pub(super) fn acl_header(&self) -> Option<AclHeader> {
        let public_group =
            |v: &String| v.contains("/global/AllUsers") || v.contains("/global/AuthenticatedUsers");
        let mut header = None;
        for (k, values) in self.fixed() {
            let h = if k == "s3:x-amz-acl" {
                match values.first().map(String::as_str) {
                    Some("public-read" | "public-read-write" | "authenticated-read") => {
                        AclHeader::Public
                    }
                    Some("bucket-owner-full-control") => AclHeader::OwnerFullControl,
                    Some(_) => AclHeader::Other,
                    None => continue,
                }
            } else if k.starts_with("s3:x-amz-grant-") && !values.is_empty() {
                if values.iter().any(public_group) {
                    AclHeader::Public
                } else {
                    AclHeader::Other
                }
            } else {
                continue;
            };
            // A public part makes the whole request public; any other part
            // makes it more than bucket-owner-full-control.
            let rank = |h: AclHeader| match h {
                AclHeader::OwnerFullControl => 0,
                AclHeader::Other => 1,
                AclHeader::Public => 2,
            };
            if header.is_none_or(|old| rank(h) > rank(old)) {
                header = Some(h);
            }
        }
        header
    }

    /// Which ACL headers the policies that may speak to uploads into the
    /// bucket read.
    pub fn headers_read(&self, bucket: usize) -> HeadersRead {
        self.index.headers_read[bucket]
    }

    /// The ACL facts of a bucket scope: which ACLs hold, who owns the
    /// object, and what is left open (semantics.md 5.1–5.2).
    pub(super) fn acl_facts(&mut self, id: EntId, b: usize, resource: &Resource) {
        let estate = self.estate;
        let bucket = &estate.buckets[b];
        let owner_account = self.account(&bucket.account);
        let acls_on = match &bucket.ownership {
            Err(_) => {
                self.facts
                    .resource_open
                    .push(ResourceOpen(id, Open::Unreadable));
                return;
            }
            Ok(o) => *o != Ownership::BucketOwnerEnforced,
        };
        let key = match resource {
            Resource::Objects(_, key) => key,
            Resource::Uploaded(_, _, owner, _) if !acls_on => {
                // An unlisted state of a scope without ACLs (`scope_variants`):
                // the bucket owner owns it, ACLs grant nothing.
                let o = self.account(owner);
                self.facts.object_owners.push(ObjectOwner(id, o));
                return;
            }
            Resource::Uploaded(_, _, owner, _) => {
                // Variants of free-owner scopes: ACLs are on.
                self.bucket_acl(id, b);
                let o = self.account(owner);
                self.facts.object_owners.push(ObjectOwner(id, o));
                if owner == ANONYMOUS_OWNER {
                    self.facts
                        .resource_open
                        .push(ResourceOpen(id, Open::AnonymousOwner));
                }
                self.uploader_acl_stmts(id, b);
                return;
            }
            _ => {
                if acls_on {
                    self.bucket_acl(id, b);
                }
                return;
            }
        };
        if !acls_on {
            // BucketOwnerEnforced: the bucket owner owns every object, ACLs grant nothing.
            self.facts
                .object_owners
                .push(ObjectOwner(id, owner_account));
            return;
        }
        self.bucket_acl(id, b);
        let exact = !key.contains(['*', '?']);
        let listed = bucket.objects.iter().position(|o| exact && o.key == *key);
        let owner = listed
            .and_then(|i| bucket.objects[i].acl.as_ref().ok())
            .and_then(|acl| acl.owner.as_deref());
        match (listed, owner) {
            (Some(i), Some(canonical)) => {
                // An owner no account of the snapshot has is still not any
                // account whose canonical ID is known (rules/40 R40.5).
                let owner = match estate.account_of_canonical(canonical) {
                    Some(a) => self.account(a),
                    None => {
                        self.facts.unmapped_owners.push(UnmappedOwner(id));
                        self.account(&format!("canonical:{canonical}"))
                    }
                };
                self.facts.object_owners.push(ObjectOwner(id, owner));
                self.hold_acl(id, b, Some(i));
            }
            // A listed object whose ACL file could not be read.
            (Some(_), None) => self
                .facts
                .resource_open
                .push(ResourceOpen(id, Open::Unreadable)),
            // Objects the snapshot does not list: owner and ACL are free (rules/75).
            (None, _) => {
                self.facts.free_owner.push(FreeOwner(id));
                if matches!(bucket.ownership, Ok(Ownership::BucketOwnerPreferred)) {
                    self.facts.owner_preferred.push(OwnerPreferred(id));
                }
                let bucket_owner = estate
                    .accounts
                    .get(&bucket.account)
                    .and_then(|a| a.canonical_id.as_deref());
                let ignored = self.bpa_in_force(b, |c| c.ignore_public_acls);
                let foreign_write = bucket
                    .acl
                    .as_ref()
                    .and_then(|a| a.as_ref().ok())
                    .is_some_and(|acl| {
                        acl.grants.iter().any(|g| {
                            // Only the logging service is in the log-delivery
                            // group; its writes change nothing for other
                            // callers. A public grant IgnorePublicAcls
                            // neutralises grants nothing (R40.3).
                            g.permission.writes()
                                && !matches!(&g.grantee, Grantee::Canonical(c) if Some(c.as_str()) == bucket_owner)
                                && g.grantee != Grantee::LogDelivery
                                && !(ignored && g.grantee.is_public())
                        })
                    });
                if foreign_write {
                    self.facts
                        .resource_open
                        .push(ResourceOpen(id, Open::ForeignWriteGrant));
                }
            }
        }
    }

    /// The grants an uploader may have set on an unlisted object: to any
    /// account, and to AllUsers unless BlockPublicAcls rejects such uploads
    /// (semantics.md 5.2, "Request validity").
    fn uploader_acl_stmts(&mut self, id: EntId, bucket: usize) {
        let block_public = self.bpa_in_force(bucket, |c| c.block_public_acls);
        let guard = match self.headers_read(bucket) {
            HeadersRead::None => Some(Guard::Conditional),
            HeadersRead::Canned => None,
            HeadersRead::Grants => Some(Guard::Unknown),
        };
        for public in [false, true] {
            if (public && block_public) || (!public && self.public_only) {
                continue;
            }
            let s = StmtId(self.stmts.len() as u32);
            self.stmts.push(StmtOrigin::UploaderAcl { bucket, public });
            self.facts
                .stmts
                .push(StmtFacts(s, Layer::Acl, Effect::Allow));
            self.facts.holds.push(Holds(id, s));
            self.facts.object_acl_stmts.push(ObjectAclStmt(s));
            if public {
                self.facts.public_acl_stmts.push(PublicAclStmt(s));
            }
            self.uploader_acl
                .entry(id)
                .or_default()
                .push((s, public, guard));
        }
    }

    /// An account's Block Public Access configuration, when the snapshot
    /// has one (for its buckets and its access points alike).
    pub(super) fn account_bpa(
        &self,
        account: &str,
    ) -> Option<&'e Result<PublicAccessBlock, String>> {
        self.estate
            .accounts
            .get(account)
            .and_then(|x| x.account_public_access_block.as_ref())
    }

    /// A Block Public Access flag as set on the bucket and on its account
    /// (unreadable settings count as unset here; they are `Open::Unreadable`).
    pub(super) fn bpa(&self, bucket: usize, flag: fn(&PublicAccessBlock) -> bool) -> (bool, bool) {
        let b = &self.estate.buckets[bucket];
        let account = self.account_bpa(&b.account);
        (
            b.public_access_block.as_ref().is_ok_and(flag),
            matches!(account, Some(Ok(c)) if flag(c)),
        )
    }

    /// Whether an unreadable Block Public Access configuration (the
    /// bucket's or its account's) leaves a flag the rules read in doubt: a
    /// flag that the other, readable, configuration sets is in force either
    /// way, since the two combine by OR. (BlockPublicPolicy only refuses new
    /// public policies, which no answer reads.)
    pub(super) fn bpa_unsettled(&self, bucket: usize) -> bool {
        let b = &self.estate.buckets[bucket];
        let account = self.account_bpa(&b.account);
        let unreadable = b.public_access_block.is_err() || matches!(account, Some(Err(_)));
        let flags: [fn(&PublicAccessBlock) -> bool; 3] = [
            |c| c.block_public_acls,
            |c| c.ignore_public_acls,
            |c| c.restrict_public_buckets,
        ];
        unreadable && flags.iter().any(|&f| !self.bpa_in_force(bucket, f))
    }

    /// Whether a Block Public Access flag is surely in force for the bucket
    /// (its own or its account's configuration; an unreadable one is not sure).
    pub(super) fn bpa_in_force(&self, bucket: usize, flag: fn(&PublicAccessBlock) -> bool) -> bool {
        let (b, a) = self.bpa(bucket, flag);
        b || a
    }

    fn bucket_acl(&mut self, id: EntId, b: usize) {
        match &self.estate.buckets[b].acl {
            Some(Ok(_)) => self.hold_acl(id, b, None),
            _ => self.facts.resource_open.push(ResourceOpen(id, Open::Acls)),
        }
    }

    /// Makes each grant of an ACL a statement held by the entity.
    fn hold_acl(&mut self, id: EntId, bucket: usize, object: Option<usize>) {
        let b = &self.estate.buckets[bucket];
        let acl = match object {
            Some(i) => b.objects[i].acl.as_ref().ok(),
            None => b.acl.as_ref().and_then(|a| a.as_ref().ok()),
        };
        for (grant, g) in acl
            .map(|a| a.grants.as_slice())
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let s = StmtId(self.stmts.len() as u32);
            self.stmts.push(StmtOrigin::Acl {
                bucket,
                object,
                grant,
            });
            self.facts
                .stmts
                .push(StmtFacts(s, Layer::Acl, Effect::Allow));
            self.facts.holds.push(Holds(id, s));
            if object.is_some() {
                self.facts.object_acl_stmts.push(ObjectAclStmt(s));
            }
            if g.grantee.is_public() {
                self.facts.public_acl_stmts.push(PublicAclStmt(s));
            }
            self.acl_stmts.entry(id).or_default().push((s, g.clone()));
        }
    }
}
