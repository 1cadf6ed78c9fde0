//! `bucketlog collect`: a snapshot of live accounts in the layout of
//! docs/inputs.md, written by running the `aws` CLI — so every file is
//! exactly what the CLI prints, and a security team reviews a list of
//! commands, not an SDK client. Read-only calls only: `CALLS` is the whole
//! list (docs/cli.md repeats it).
//!
//! Absences AWS documents as errors (no bucket policy, no public access
//! block, no ownership controls, no organization) leave the file out, which
//! the loader reads as "not configured". Any other failure on one input
//! (AccessDenied on one bucket) is written as the error document in the
//! file's place: the loader reports it unreadable and every answer that
//! depends on it says `unknown`; collection goes on.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;
use serde_json::{json, Value};

/// Every `aws` command `collect` runs, with the IAM action it needs: all
/// read-only. A policy allowing these actions is all `collect` needs.
pub const CALLS: [(&str, &str); 30] = [
    ("sts get-caller-identity", "sts:GetCallerIdentity"),
    // Only with --assume-role: a session in each member account, to read it.
    ("sts assume-role", "sts:AssumeRole"),
    (
        "iam get-account-authorization-details",
        "iam:GetAccountAuthorizationDetails",
    ),
    ("s3api list-buckets", "s3:ListAllMyBuckets"),
    (
        "s3control get-public-access-block",
        "s3:GetAccountPublicAccessBlock",
    ),
    ("s3api get-bucket-policy", "s3:GetBucketPolicy"),
    ("s3api get-bucket-acl", "s3:GetBucketAcl"),
    (
        "s3api get-bucket-ownership-controls",
        "s3:GetBucketOwnershipControls",
    ),
    (
        "s3api get-public-access-block",
        "s3:GetBucketPublicAccessBlock",
    ),
    ("s3api get-bucket-versioning", "s3:GetBucketVersioning"),
    (
        "s3api get-object-lock-configuration",
        "s3:GetBucketObjectLockConfiguration",
    ),
    (
        "s3api get-bucket-encryption",
        "s3:GetEncryptionConfiguration",
    ),
    ("s3api list-objects-v2", "s3:ListBucket"),
    ("s3control list-access-points", "s3:ListAccessPoints"),
    ("s3control get-access-point", "s3:GetAccessPoint"),
    (
        "s3control get-access-point-policy",
        "s3:GetAccessPointPolicy",
    ),
    ("s3api get-object-acl", "s3:GetObjectAcl"),
    // Only under --objects: an object's encryption (HeadObject needs s3:GetObject).
    ("s3api head-object", "s3:GetObject"),
    ("kms list-keys", "kms:ListKeys"),
    ("kms describe-key", "kms:DescribeKey"),
    ("kms get-key-policy", "kms:GetKeyPolicy"),
    ("kms list-grants", "kms:ListGrants"),
    (
        "organizations describe-organization",
        "organizations:DescribeOrganization",
    ),
    ("organizations list-accounts", "organizations:ListAccounts"),
    ("organizations list-roots", "organizations:ListRoots"),
    (
        "organizations list-organizational-units-for-parent",
        "organizations:ListOrganizationalUnitsForParent",
    ),
    (
        "organizations list-accounts-for-parent",
        "organizations:ListAccountsForParent",
    ),
    ("organizations list-policies", "organizations:ListPolicies"),
    (
        "organizations describe-policy",
        "organizations:DescribePolicy",
    ),
    (
        "organizations list-targets-for-policy",
        "organizations:ListTargetsForPolicy",
    ),
];

/// The error codes AWS uses for a setting that was never configured.
const ABSENT: [&str; 8] = [
    "NoSuchBucketPolicy",
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchAccessPointPolicy",
    "NoSuchPublicAccessBlockConfiguration",
    "OwnershipControlsNotFoundError",
    "ObjectLockConfigurationNotFoundError",
    "AWSOrganizationsNotInUseException",
    "PolicyTypeNotEnabledException",
];

/// How to reach one account: the `aws` CLI's own options.
#[derive(Clone, Debug, Default)]
pub struct Aws {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// A role session's credentials, in place of the profile's
    /// (`--assume-role`).
    pub session: Option<Session>,
}

/// Temporary credentials from `sts assume-role`: key, secret, token.
pub type Session = (String, String, String);

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// One account per profile; the default credentials when empty.
    pub profiles: Vec<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// `bucket/prefix`: objects under it are listed and their ACLs read.
    pub objects: Vec<String>,
    /// Files already written are kept, not fetched again.
    pub resume: bool,
    /// Buckets fetched at a time.
    pub jobs: usize,
    /// A role of this name in every account of the organization is assumed
    /// (from the first account's credentials) and the account collected.
    pub assume_role: Option<String>,
}

/// A failed `aws` call: its error code when the CLI printed one.
#[derive(Debug)]
struct Failure {
    code: String,
    message: String,
}

impl Failure {
    /// A failure of the CLI itself, not an AWS error code.
    fn cli(message: String) -> Failure {
        Failure {
            code: "CliError".into(),
            message,
        }
    }

    fn absent(&self) -> bool {
        ABSENT.contains(&self.code.as_str())
    }
}

impl Aws {
    /// Runs one read-only call and returns what it printed (JSON).
    fn call(&self, args: &[&str]) -> Result<Vec<u8>, Failure> {
        let command = format!("{} {}", args[0], args[1]);
        assert!(
            CALLS.iter().any(|(c, _)| *c == command),
            "`aws {command}` is not among the read-only calls collect may make"
        );
        let mut cmd = Command::new("aws");
        cmd.args(args).args(["--output", "json"]);
        if let Some(p) = &self.profile {
            cmd.args(["--profile", p]);
        }
        if let Some((key, secret, token)) = &self.session {
            cmd.env("AWS_ACCESS_KEY_ID", key)
                .env("AWS_SECRET_ACCESS_KEY", secret)
                .env("AWS_SESSION_TOKEN", token)
                .env_remove("AWS_PROFILE");
        }
        if let Some(r) = &self.region {
            cmd.args(["--region", r]);
        }
        if let Some(u) = &self.endpoint_url {
            cmd.args(["--endpoint-url", u]);
        }
        let out = cmd.output().map_err(|e| Failure {
            code: "NoAwsCli".into(),
            message: format!("cannot run `aws`: {e} (install the AWS CLI)"),
        })?;
        if out.status.success() {
            return Ok(out.stdout);
        }
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        // "An error occurred (NoSuchBucketPolicy) when calling the GetBucketPolicy operation: …"
        let code = stderr
            .split_once("An error occurred (")
            .and_then(|(_, rest)| rest.split_once(')'))
            .map_or("CliError", |(code, _)| code)
            .to_string();
        Err(Failure {
            code,
            message: stderr,
        })
    }
}

/// What a collection wrote and what it could not read.
#[derive(Debug, Default)]
pub struct Summary {
    pub accounts: Vec<String>,
    pub buckets: usize,
    pub files: usize,
    /// Inputs recorded as unreadable (file, error code).
    pub unreadable: Vec<(PathBuf, String)>,
    /// Things not collected, in words (no organization access…).
    pub notes: Vec<String>,
    /// Whether `org/` was written (once, by the first account that may read it).
    pub organization: bool,
}

/// Writes what the CLI printed (as `--output json` prints it) or, for a
/// failure that is not a documented absence, the error document. Shared by
/// the threads that fetch buckets side by side.
struct Writer<'a> {
    resume: bool,
    summary: &'a Mutex<Summary>,
}

impl Writer<'_> {
    fn fetch(&self, aws: &Aws, path: &Path, args: &[&str]) -> Result<(), String> {
        if self.resume && path.exists() {
            return Ok(());
        }
        match aws.call(args) {
            Ok(out) if out.iter().all(u8::is_ascii_whitespace) => Ok(()),
            Ok(out) => self.write(path, &out),
            Err(f) if f.absent() => Ok(()),
            Err(f) if f.code == "NoAwsCli" => Err(f.message),
            Err(f) => self.refused(path, f),
        }
    }

    /// Writes the error document of a refused call in the file's place.
    fn refused(&self, path: &Path, f: Failure) -> Result<(), String> {
        let doc = json!({"Error": {"Code": f.code, "Message": f.message}});
        let text = serde_json::to_string_pretty(&doc).expect("JSON") + "\n";
        self.summary().unreadable.push((path.to_path_buf(), f.code));
        self.write(path, text.as_bytes())
    }

    fn write(&self, path: &Path, bytes: &[u8]) -> Result<(), String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        self.summary().files += 1;
        Ok(())
    }

    fn summary(&self) -> std::sync::MutexGuard<'_, Summary> {
        self.summary
            .lock()
            .expect("no thread panics holding the summary")
    }

    fn note(&self, note: String) {
        self.summary().notes.push(note);
    }
}

/// The `field` of each entry of a CLI output's array `list` (a bucket's
/// `Name` in `Buckets`…), skipping entries without it.
fn each<'v>(doc: &'v Value, list: &str, field: &'v str) -> impl Iterator<Item = &'v str> {
    doc[list]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(move |e| e[field].as_str())
}

fn parse(bytes: &[u8], what: &str) -> Result<Value, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("`aws {what}` printed no JSON: {e}"))
}

/// What `collect` reports a bucket done with: (account, done, total).
pub type Progress<'a> = &'a (dyn Fn(&str, usize, usize) + Sync);

/// Collects every account of `opts` into `out`, `opts.jobs` buckets at a
/// time (each `aws` call is a process that mostly waits on the network).
pub fn collect(out: &Path, opts: &Options, progress: Progress) -> Result<Summary, String> {
    let summary = Mutex::new(Summary::default());
    let profiles: Vec<Option<String>> = if opts.profiles.is_empty() {
        vec![None]
    } else {
        opts.profiles.iter().cloned().map(Some).collect()
    };
    let base = |profile: Option<String>| Aws {
        profile,
        region: opts.region.clone(),
        endpoint_url: opts.endpoint_url.clone(),
        session: None,
    };
    for profile in &profiles {
        account(out, &base(profile.clone()), opts, &summary, progress)?;
    }
    if let Some(role) = &opts.assume_role {
        let from = base(profiles[0].clone());
        for id in members(&from, &summary)? {
            match assume(&from, &id, role) {
                Ok(session) => {
                    let aws = Aws {
                        session: Some(session),
                        ..base(None)
                    };
                    account(out, &aws, opts, &summary, progress)?;
                }
                Err(f) => summary
                    .lock()
                    .expect("no thread panicked")
                    .notes
                    .push(format!(
                        "account {id} not collected: assuming role/{role} was refused: {}",
                        f.code
                    )),
            }
        }
    }
    let mut summary = summary.into_inner().expect("no thread panicked");
    // Threads finish in any order; the report does not.
    summary.unreadable.sort();
    summary.notes.sort();
    Ok(summary)
}

fn account(
    out: &Path,
    aws: &Aws,
    opts: &Options,
    summary: &Mutex<Summary>,
    progress: Progress,
) -> Result<(), String> {
    let who = aws.call(&["sts", "get-caller-identity"]).map_err(|f| {
        format!(
            "cannot tell which account the credentials are for: {}",
            f.message
        )
    })?;
    let id = parse(&who, "sts get-caller-identity")?["Account"]
        .as_str()
        .ok_or("`aws sts get-caller-identity` printed no Account")?
        .to_string();
    summary
        .lock()
        .expect("no thread panicked")
        .accounts
        .push(id.clone());
    let dir = out.join("accounts").join(&id);
    let w = Writer {
        resume: opts.resume,
        summary,
    };
    w.fetch(
        aws,
        &dir.join("iam.json"),
        &["iam", "get-account-authorization-details"],
    )?;
    w.fetch(
        aws,
        &dir.join("public-access-block.json"),
        &["s3control", "get-public-access-block", "--account-id", &id],
    )?;
    let listed = aws
        .call(&["s3api", "list-buckets"])
        .map_err(|f| format!("account {id}: cannot list buckets: {}", f.message))?;
    w.write(&dir.join("list-buckets.json"), &listed)?;
    let buckets: Vec<String> = each(&parse(&listed, "s3api list-buckets")?, "Buckets", "Name")
        .map(str::to_string)
        .collect();
    let done = AtomicUsize::new(0);
    let bucket = |b: &String| -> Result<(), String> {
        let bdir = dir.join("buckets").join(b);
        std::fs::create_dir_all(&bdir).map_err(|e| format!("{}: {e}", bdir.display()))?;
        for (file, call) in [
            ("policy.json", "get-bucket-policy"),
            ("acl.json", "get-bucket-acl"),
            ("ownership-controls.json", "get-bucket-ownership-controls"),
            ("public-access-block.json", "get-public-access-block"),
            ("versioning.json", "get-bucket-versioning"),
            ("object-lock.json", "get-object-lock-configuration"),
            ("encryption.json", "get-bucket-encryption"),
        ] {
            w.fetch(aws, &bdir.join(file), &["s3api", call, "--bucket", b])?;
        }
        for spec in &opts.objects {
            let (name, prefix) = spec.split_once('/').unwrap_or((spec, ""));
            if name == b {
                objects(&w, aws, &bdir, b, prefix)?;
            }
        }
        w.summary().buckets += 1;
        progress(&id, done.fetch_add(1, Ordering::SeqCst) + 1, buckets.len());
        Ok(())
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.max(1))
        .build()
        .map_err(|e| format!("cannot start {} threads: {e}", opts.jobs))?;
    pool.install(|| buckets.par_iter().try_for_each(bucket))?;
    access_points(&w, aws, &dir, &id)?;
    kms_keys(&w, aws, &dir)?;
    organization(&w, aws, out)
}

/// The account's access points (in the CLI's region: access points are
/// regional) and each one's policy. A refused listing is written as the
/// error document `access-points/list-access-points.json`, which the loader
/// reads as "the account's access points are unknown".
fn access_points(w: &Writer, aws: &Aws, dir: &Path, id: &str) -> Result<(), String> {
    let base = dir.join("access-points");
    let listed = match aws.call(&["s3control", "list-access-points", "--account-id", id]) {
        Ok(out) => out,
        Err(f) if f.code == "NoAwsCli" => return Err(f.message),
        Err(f) => return w.refused(&base.join(LIST_ACCESS_POINTS), f),
    };
    let names: Vec<String> = each(
        &parse(&listed, "s3control list-access-points")?,
        "AccessPointList",
        "Name",
    )
    .map(str::to_string)
    .collect();
    if !names.is_empty() {
        w.note(format!(
            "account {id}: {} access point(s) listed in the CLI's region only (access points are regional)",
            names.len()
        ));
    }
    for name in &names {
        let apdir = base.join(name);
        let args = |call: &'static str| {
            [
                "s3control",
                call,
                "--account-id",
                id,
                "--name",
                name.as_str(),
            ]
        };
        w.fetch(
            aws,
            &apdir.join("access-point.json"),
            &args("get-access-point"),
        )?;
        w.fetch(
            aws,
            &apdir.join("policy.json"),
            &args("get-access-point-policy"),
        )?;
    }
    Ok(())
}

/// Where `collect` records a refused `list-access-points` (docs/inputs.md).
pub const LIST_ACCESS_POINTS: &str = "list-access-points.json";

/// The account's KMS keys (in the CLI's region: keys are regional), each
/// with its metadata, key policy and grants. A refused listing is written
/// as the error document `kms/list-keys.json`, which the loader reports.
fn kms_keys(w: &Writer, aws: &Aws, dir: &Path) -> Result<(), String> {
    let base = dir.join("kms");
    let listed = match aws.call(&["kms", "list-keys"]) {
        Ok(out) => out,
        Err(f) if f.code == "NoAwsCli" => return Err(f.message),
        Err(f) => return w.refused(&base.join(LIST_KEYS), f),
    };
    let ids: Vec<String> = each(&parse(&listed, "kms list-keys")?, "Keys", "KeyId")
        .map(str::to_string)
        .collect();
    for id in &ids {
        let kdir = base.join(id);
        w.fetch(
            aws,
            &kdir.join("key.json"),
            &["kms", "describe-key", "--key-id", id],
        )?;
        w.fetch(
            aws,
            &kdir.join("policy.json"),
            &[
                "kms",
                "get-key-policy",
                "--key-id",
                id,
                "--policy-name",
                "default",
            ],
        )?;
        w.fetch(
            aws,
            &kdir.join("grants.json"),
            &["kms", "list-grants", "--key-id", id],
        )?;
    }
    Ok(())
}

/// Where `collect` records a refused `kms list-keys` (docs/inputs.md).
pub const LIST_KEYS: &str = "list-keys.json";

/// The ACL and the encryption (`head-object`) of every object under a
/// prefix (never a whole bucket unless asked for with an empty prefix).
fn objects(w: &Writer, aws: &Aws, bdir: &Path, bucket: &str, prefix: &str) -> Result<(), String> {
    let listed = match aws.call(&[
        "s3api",
        "list-objects-v2",
        "--bucket",
        bucket,
        "--prefix",
        prefix,
    ]) {
        Ok(l) if l.iter().all(u8::is_ascii_whitespace) => return Ok(()),
        Ok(l) => l,
        Err(f) => {
            w.note(format!(
                "objects of {bucket}/{prefix} not listed: {}",
                f.code
            ));
            return Ok(());
        }
    };
    let keys: Vec<String> = each(&parse(&listed, "s3api list-objects-v2")?, "Contents", "Key")
        .map(str::to_string)
        .collect();
    for key in keys {
        let name = percent_encoding::utf8_percent_encode(&key, percent_encoding::NON_ALPHANUMERIC);
        for (suffix, call) in [("acl", "get-object-acl"), ("head", "head-object")] {
            w.fetch(
                aws,
                &bdir.join("objects").join(format!("{name}.{suffix}.json")),
                &["s3api", call, "--bucket", bucket, "--key", &key],
            )?;
        }
    }
    Ok(())
}

/// The organization, its tree and its SCPs and RCPs, when the caller may
/// read them; otherwise a note (the snapshot then has no `org/`).
fn organization(w: &Writer, aws: &Aws, out: &Path) -> Result<(), String> {
    if w.summary().organization {
        return Ok(());
    }
    let org = out.join("org");
    let described = match aws.call(&["organizations", "describe-organization"]) {
        Ok(d) => d,
        Err(f) => {
            w.note(format!(
                "no organization data: {} ({})",
                f.code,
                first_line(&f.message)
            ));
            return Ok(());
        }
    };
    w.summary().organization = true;
    w.write(&org.join("organization.json"), &described)?;
    w.fetch(
        aws,
        &org.join("accounts.json"),
        &["organizations", "list-accounts"],
    )?;
    // The tree as parent links, from the roots down; when a listing is
    // refused, the error in tree.json's place: every member's place, and
    // so the SCPs and RCPs above it, are then unknown.
    match tree(aws) {
        Ok(tree) => {
            let text = serde_json::to_string_pretty(&tree).expect("JSON") + "\n";
            w.write(&org.join("tree.json"), text.as_bytes())?;
        }
        Err(f) => w.refused(&org.join("tree.json"), f)?,
    }
    for filter in ["SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"] {
        let listed = match aws.call(&["organizations", "list-policies", "--filter", filter]) {
            Ok(l) => l,
            Err(f) if f.absent() => continue,
            Err(f) => {
                // A policy file without targets: the loader takes the SCPs
                // (or RCPs) of every member account as unknown.
                let name = format!("unlisted-{}.json", filter.to_ascii_lowercase());
                w.refused(&org.join("policies").join(name), f)?;
                continue;
            }
        };
        for id in each(
            &parse(&listed, "organizations list-policies")?,
            "Policies",
            "Id",
        ) {
            w.fetch(
                aws,
                &org.join("policies").join(format!("{id}.json")),
                &["organizations", "describe-policy", "--policy-id", id],
            )?;
            w.fetch(
                aws,
                &org.join("targets").join(format!("{id}.json")),
                &[
                    "organizations",
                    "list-targets-for-policy",
                    "--policy-id",
                    id,
                ],
            )?;
        }
    }
    Ok(())
}

/// The active accounts of the organization that are not collected yet.
fn members(from: &Aws, summary: &Mutex<Summary>) -> Result<Vec<String>, String> {
    let listed = from
        .call(&["organizations", "list-accounts"])
        .map_err(|f| {
            format!(
                "--assume-role needs the organization's accounts: {}",
                f.message
            )
        })?;
    let done = summary.lock().expect("no thread panicked").accounts.clone();
    Ok(parse(&listed, "organizations list-accounts")?["Accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["Status"].as_str().is_none_or(|s| s == "ACTIVE"))
        .filter_map(|a| a["Id"].as_str())
        .filter(|id| !done.iter().any(|d| d == id))
        .map(str::to_string)
        .collect())
}

/// A session of `role` in account `id`, assumed with `from`'s credentials.
fn assume(from: &Aws, id: &str, role: &str) -> Result<Session, Failure> {
    let arn = format!("arn:aws:iam::{id}:role/{role}");
    let bytes = from.call(&[
        "sts",
        "assume-role",
        "--role-arn",
        &arn,
        "--role-session-name",
        "bucketlog-collect",
    ])?;
    let doc = parse(&bytes, "sts assume-role").map_err(Failure::cli)?;
    let field = |k: &str| {
        doc["Credentials"][k]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    Ok((
        field("AccessKeyId"),
        field("SecretAccessKey"),
        field("SessionToken"),
    ))
}

/// The organization's tree as parent links (`tree.json`).
fn tree(aws: &Aws) -> Result<Value, Failure> {
    let parsed = |bytes: &[u8], what: &str| parse(bytes, what).map_err(Failure::cli);
    let roots = aws.call(&["organizations", "list-roots"])?;
    let mut tree = serde_json::Map::new();
    let mut queue: Vec<String> = Vec::new();
    for id in each(&parsed(&roots, "organizations list-roots")?, "Roots", "Id") {
        tree.insert(id.to_string(), Value::Null);
        queue.push(id.to_string());
    }
    while let Some(parent) = queue.pop() {
        for (call, field) in [
            (
                "list-organizational-units-for-parent",
                "OrganizationalUnits",
            ),
            ("list-accounts-for-parent", "Accounts"),
        ] {
            let listed = aws.call(&["organizations", call, "--parent-id", &parent])?;
            for id in each(&parsed(&listed, call)?, field, "Id") {
                tree.insert(id.to_string(), json!(parent));
                if field == "OrganizationalUnits" {
                    queue.push(id.to_string());
                }
            }
        }
    }
    Ok(Value::Object(tree))
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}
