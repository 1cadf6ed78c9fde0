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

use serde_json::{json, Value};

/// Every `aws` command `collect` runs: read-only, as IAM names them.
pub const CALLS: [&str; 19] = [
    "sts get-caller-identity",
    "iam get-account-authorization-details",
    "s3api list-buckets",
    "s3control get-public-access-block",
    "s3api get-bucket-policy",
    "s3api get-bucket-acl",
    "s3api get-bucket-ownership-controls",
    "s3api get-public-access-block",
    "s3api get-bucket-versioning",
    "s3api list-objects-v2",
    "s3api get-object-acl",
    "organizations describe-organization",
    "organizations list-accounts",
    "organizations list-roots",
    "organizations list-organizational-units-for-parent",
    "organizations list-accounts-for-parent",
    "organizations list-policies",
    "organizations describe-policy",
    "organizations list-targets-for-policy",
];

/// The error codes AWS uses for a setting that was never configured.
const ABSENT: [&str; 5] = [
    "NoSuchBucketPolicy",
    "NoSuchPublicAccessBlockConfiguration",
    "OwnershipControlsNotFoundError",
    "AWSOrganizationsNotInUseException",
    "PolicyTypeNotEnabledException",
];

/// How to reach one account: the `aws` CLI's own options.
#[derive(Clone, Debug, Default)]
pub struct Aws {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

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
}

/// A failed `aws` call: its error code when the CLI printed one.
#[derive(Debug)]
struct Failure {
    code: String,
    message: String,
}

impl Failure {
    fn absent(&self) -> bool {
        ABSENT.contains(&self.code.as_str())
    }
}

impl Aws {
    /// Runs one read-only call and returns what it printed (JSON).
    fn call(&self, args: &[&str]) -> Result<Vec<u8>, Failure> {
        let command = format!("{} {}", args[0], args[1]);
        assert!(
            CALLS.contains(&command.as_str()),
            "`aws {command}` is not among the read-only calls collect may make"
        );
        let mut cmd = Command::new("aws");
        cmd.args(args).args(["--output", "json"]);
        if let Some(p) = &self.profile {
            cmd.args(["--profile", p]);
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
            .map_or("Unknown", |(code, _)| code)
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

/// Writes what the CLI printed (pretty, as `--output json` prints it) or,
/// for a failure that is not a documented absence, the error document.
struct Writer<'a> {
    resume: bool,
    summary: &'a mut Summary,
}

impl Writer<'_> {
    fn fetch(&mut self, aws: &Aws, path: &Path, args: &[&str]) -> Result<(), String> {
        if self.resume && path.exists() {
            return Ok(());
        }
        match aws.call(args) {
            Ok(out) if out.iter().all(u8::is_ascii_whitespace) => Ok(()),
            Ok(out) => self.write(path, &out),
            Err(f) if f.absent() => Ok(()),
            Err(f) if f.code == "NoAwsCli" => Err(f.message),
            Err(f) => {
                let doc = json!({"Error": {"Code": f.code, "Message": f.message}});
                let text = serde_json::to_string_pretty(&doc).expect("JSON") + "\n";
                self.summary.unreadable.push((path.to_path_buf(), f.code));
                self.write(path, text.as_bytes())
            }
        }
    }

    fn write(&mut self, path: &Path, bytes: &[u8]) -> Result<(), String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        self.summary.files += 1;
        Ok(())
    }
}

fn parse(bytes: &[u8], what: &str) -> Result<Value, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("`aws {what}` printed no JSON: {e}"))
}

/// Collects every account of `opts` into `out`; `progress` hears each
/// bucket done (account, done, total).
pub fn collect(
    out: &Path,
    opts: &Options,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<Summary, String> {
    let mut summary = Summary::default();
    let profiles: Vec<Option<String>> = if opts.profiles.is_empty() {
        vec![None]
    } else {
        opts.profiles.iter().cloned().map(Some).collect()
    };
    for profile in profiles {
        let aws = Aws {
            profile,
            region: opts.region.clone(),
            endpoint_url: opts.endpoint_url.clone(),
        };
        account(out, &aws, opts, &mut summary, progress)?;
    }
    Ok(summary)
}

fn account(
    out: &Path,
    aws: &Aws,
    opts: &Options,
    summary: &mut Summary,
    progress: &mut dyn FnMut(&str, usize, usize),
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
    summary.accounts.push(id.clone());
    let dir = out.join("accounts").join(&id);
    let mut w = Writer {
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
    let buckets: Vec<String> = parse(&listed, "s3api list-buckets")?["Buckets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["Name"].as_str().map(str::to_string))
        .collect();
    for (i, b) in buckets.iter().enumerate() {
        let bdir = dir.join("buckets").join(b);
        std::fs::create_dir_all(&bdir).map_err(|e| format!("{}: {e}", bdir.display()))?;
        for (file, call) in [
            ("policy.json", "get-bucket-policy"),
            ("acl.json", "get-bucket-acl"),
            ("ownership-controls.json", "get-bucket-ownership-controls"),
            ("public-access-block.json", "get-public-access-block"),
            ("versioning.json", "get-bucket-versioning"),
        ] {
            w.fetch(aws, &bdir.join(file), &["s3api", call, "--bucket", b])?;
        }
        for spec in &opts.objects {
            let (bucket, prefix) = spec.split_once('/').unwrap_or((spec, ""));
            if bucket == b {
                objects(&mut w, aws, &bdir, b, prefix)?;
            }
        }
        w.summary.buckets += 1;
        progress(&id, i + 1, buckets.len());
    }
    organization(&mut w, aws, out)
}

/// The ACL of every object under a prefix (never a whole bucket unless
/// asked for with an empty prefix).
fn objects(
    w: &mut Writer,
    aws: &Aws,
    bdir: &Path,
    bucket: &str,
    prefix: &str,
) -> Result<(), String> {
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
            w.summary.notes.push(format!(
                "objects of {bucket}/{prefix} not listed: {}",
                f.code
            ));
            return Ok(());
        }
    };
    let keys: Vec<String> = parse(&listed, "s3api list-objects-v2")?["Contents"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["Key"].as_str().map(str::to_string))
        .collect();
    for key in keys {
        let name = percent_encoding::utf8_percent_encode(&key, percent_encoding::NON_ALPHANUMERIC);
        w.fetch(
            aws,
            &bdir.join("objects").join(format!("{name}.acl.json")),
            &["s3api", "get-object-acl", "--bucket", bucket, "--key", &key],
        )?;
    }
    Ok(())
}

/// The organization, its tree and its SCPs and RCPs, when the caller may
/// read them; otherwise a note (the snapshot then has no `org/`).
fn organization(w: &mut Writer, aws: &Aws, out: &Path) -> Result<(), String> {
    if w.summary.organization {
        return Ok(());
    }
    let org = out.join("org");
    let described = match aws.call(&["organizations", "describe-organization"]) {
        Ok(d) => d,
        Err(f) => {
            w.summary.notes.push(format!(
                "no organization data: {} ({})",
                f.code,
                first_line(&f.message)
            ));
            return Ok(());
        }
    };
    w.summary.organization = true;
    w.write(&org.join("organization.json"), &described)?;
    w.fetch(
        aws,
        &org.join("accounts.json"),
        &["organizations", "list-accounts"],
    )?;
    // The tree as parent links, from the roots down.
    let roots = aws
        .call(&["organizations", "list-roots"])
        .map_err(|f| format!("organizations list-roots: {}", f.message))?;
    let mut tree = serde_json::Map::new();
    let mut queue: Vec<String> = Vec::new();
    for r in parse(&roots, "organizations list-roots")?["Roots"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(id) = r["Id"].as_str() {
            tree.insert(id.to_string(), Value::Null);
            queue.push(id.to_string());
        }
    }
    while let Some(parent) = queue.pop() {
        for (call, field) in [
            (
                "list-organizational-units-for-parent",
                "OrganizationalUnits",
            ),
            ("list-accounts-for-parent", "Accounts"),
        ] {
            let listed = aws
                .call(&["organizations", call, "--parent-id", &parent])
                .map_err(|f| format!("organizations {call}: {}", f.message))?;
            for child in parse(&listed, call)?[field]
                .as_array()
                .into_iter()
                .flatten()
            {
                if let Some(id) = child["Id"].as_str() {
                    tree.insert(id.to_string(), json!(parent));
                    if field == "OrganizationalUnits" {
                        queue.push(id.to_string());
                    }
                }
            }
        }
    }
    let text = serde_json::to_string_pretty(&Value::Object(tree)).expect("JSON") + "\n";
    w.write(&org.join("tree.json"), text.as_bytes())?;
    for filter in ["SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"] {
        let listed = match aws.call(&["organizations", "list-policies", "--filter", filter]) {
            Ok(l) => l,
            Err(f) if f.absent() => continue,
            Err(f) => {
                w.summary
                    .notes
                    .push(format!("{filter}s not listed: {}", f.code));
                continue;
            }
        };
        for p in parse(&listed, "organizations list-policies")?["Policies"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let Some(id) = p["Id"].as_str() else { continue };
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

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}
