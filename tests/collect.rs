//! `bucketlog collect` against a real API server: moto in server mode on a
//! loopback port (installed by `scripts/setup.sh --test` in
//! tests/consumers/venv with the AWS CLI). The test builds a small estate
//! through the API, collects it with the real `aws` CLI, loads the
//! snapshot and asks it questions whose answers the estate fixes.
//!
//! Workarounds for the mock live here, never in the collector: a resolver
//! shim so the CLI's `s3control` host `<account>.127.0.0.1` reaches
//! loopback, and list-buckets' owner ID mapped to the one moto's ACLs use.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::cell::RefCell;

use bucketlog::collect;
use bucketlog::diag::Severity;
use bucketlog::load;
use bucketlog::model::{ObjectLock, Retention, RetentionMode, Versioning, VersioningStatus};
use bucketlog::query::{Answer, Engine, Options};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_bucketlog");
const ACCOUNT: &str = "123456789012";

fn venv() -> PathBuf {
    let v = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/consumers/venv/bin");
    assert!(
        v.join("moto_server").exists() && v.join("aws").exists(),
        "moto and the AWS CLI are not installed: run `bash scripts/setup.sh --test`"
    );
    v
}

/// The moto server, stopped when dropped. It enforces IAM after the first
/// three requests (which make the admin user and its key).
struct Moto {
    child: Child,
    url: String,
    /// Config and the resolver shim of this test only.
    home: TempDir,
    /// The access key the next `aws` call uses.
    keys: RefCell<(String, String)>,
    /// The admin's key, which makes the other users.
    admin: RefCell<Option<(String, String)>>,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// moto enforcing IAM after the first three requests.
    fn start() -> Moto {
        Moto::serve(true)
    }

    fn serve(auth: bool) -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = Command::new(venv().join("moto_server"));
        if auth {
            server.env("INITIAL_NO_AUTH_ACTION_COUNT", "3");
        }
        let child = server
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let home = TempDir::new().unwrap();
        std::fs::write(
            home.path().join("sitecustomize.py"),
            "import socket\n_getaddrinfo = socket.getaddrinfo\n\
             def _loopback(host, *args, **kwargs):\n\
             \x20   if isinstance(host, str) and host.endswith('.127.0.0.1'):\n\
             \x20       host = '127.0.0.1'\n\
             \x20   return _getaddrinfo(host, *args, **kwargs)\n\
             socket.getaddrinfo = _loopback\n",
        )
        .unwrap();
        let m = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
            home,
            keys: RefCell::new(("testing".into(), "testing".into())),
            admin: RefCell::new(None),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        m
    }

    /// A command with the environment every `aws` call of the test gets:
    /// the current key, no user configuration, the shim, the venv's `aws`.
    fn env(&self, cmd: &mut Command) {
        let path = format!(
            "{}:{}",
            venv().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let none = self.home.path().join("none");
        let (id, secret) = self.keys.borrow().clone();
        cmd.env("PATH", path)
            .env("AWS_ACCESS_KEY_ID", id)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", &none)
            .env("AWS_SHARED_CREDENTIALS_FILE", &none)
            .env("PYTHONPATH", self.home.path())
            .env_remove("AWS_PROFILE");
    }

    fn aws(&self, args: &[&str]) -> String {
        let mut cmd = Command::new(venv().join("aws"));
        self.env(&mut cmd);
        let out = cmd
            .args(args)
            .args(["--endpoint-url", &self.url, "--output", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

/// A user with an inline policy and a key (made by the admin, once there
/// is one); the next calls use that key.
fn become_user(m: &Moto, name: &str, policy: &str) {
    if let Some(admin) = m.admin.borrow().clone() {
        *m.keys.borrow_mut() = admin;
    }
    m.aws(&["iam", "create-user", "--user-name", name]);
    m.aws(&[
        "iam",
        "put-user-policy",
        "--user-name",
        name,
        "--policy-name",
        name,
        "--policy-document",
        policy,
    ]);
    let key: serde_json::Value =
        serde_json::from_str(&m.aws(&["iam", "create-access-key", "--user-name", name])).unwrap();
    let field = |f: &str| key["AccessKey"][f].as_str().unwrap().to_string();
    let keys = (field("AccessKeyId"), field("SecretAccessKey"));
    if m.admin.borrow().is_none() {
        *m.admin.borrow_mut() = Some(keys.clone());
    }
    *m.keys.borrow_mut() = keys;
}

/// The read-only policy docs/cli.md gives for `collect`: the IAM actions
/// of `collect::CALLS`, nothing else — and, for moto, the name it checks
/// for s3control's GetPublicAccessBlock (the signing service and the
/// operation, `s3:GetPublicAccessBlock`, where AWS checks
/// `s3:GetAccountPublicAccessBlock`); it reads no more than that.
fn read_only() -> String {
    read_only_but(&[])
}

/// `read_only()` without some actions.
fn read_only_but(left_out: &[&str]) -> String {
    let actions: Vec<String> = collect::CALLS
        .iter()
        .map(|(_, action)| *action)
        .filter(|a| !left_out.contains(a))
        .chain(["s3:GetPublicAccessBlock"])
        .map(|action| format!("\"{action}\""))
        .collect();
    doc(&format!(
        r#"{{"Effect":"Allow","Action":[{}],"Resource":"*"}}"#,
        actions.join(",")
    ))
}

/// Object Ownership BucketOwnerEnforced on a bucket.
fn acls_disabled(m: &Moto, bucket: &str) {
    m.aws(&[
        "s3api",
        "put-bucket-ownership-controls",
        "--bucket",
        bucket,
        "--ownership-controls",
        "Rules=[{ObjectOwnership=BucketOwnerEnforced}]",
    ]);
}

fn doc(statements: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
}

/// The version IDs of the two objects `build` locks in demo-public.
struct Locked {
    /// `locked/retained`: COMPLIANCE retention until `RETAIN_UNTIL`.
    retained: String,
    /// `locked/held`: a legal hold ON.
    held: String,
}

/// The retain-until date of `locked/retained`, as moto's head-object
/// prints it back.
const RETAIN_UNTIL: &str = "2099-01-01T00:00:00Z";

/// Puts a small object with Object Lock options; its version ID.
fn put_locked(m: &Moto, bucket: &str, key: &str, lock: &[&str]) -> String {
    let body = m.home.path().join("body.txt");
    std::fs::write(&body, "locked\n").unwrap();
    let body = body.to_str().unwrap();
    let args = [
        &[
            "s3api",
            "put-object",
            "--bucket",
            bucket,
            "--key",
            key,
            "--body",
            body,
        ],
        lock,
    ]
    .concat();
    let put: serde_json::Value = serde_json::from_str(&m.aws(&args)).unwrap();
    put["VersionId"]
        .as_str()
        .expect("put-object names the version")
        .to_string()
}

/// A small estate through the API: a group whose managed policy has two
/// versions (only the second in force), a user who may assume an uploader
/// role held to writing by its permissions boundary, a bucket locked down
/// and a public one (Object Lock on, with one object under compliance
/// retention and one under a legal hold), an organization with an SCP.
fn build(m: &Moto) -> Locked {
    // The three requests moto takes unauthenticated.
    become_user(
        m,
        "admin",
        &doc(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#),
    );
    let arn = |p: &str| format!("arn:aws:iam::{ACCOUNT}:{p}");
    m.aws(&["s3api", "create-bucket", "--bucket", "demo-uploads"]);
    m.aws(&[
        "s3api",
        "create-bucket",
        "--bucket",
        "demo-public",
        "--object-lock-enabled-for-bucket",
    ]);
    m.aws(&[
        "s3api",
        "put-object-lock-configuration",
        "--bucket",
        "demo-public",
        "--object-lock-configuration",
        r#"{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"GOVERNANCE","Days":1}}}"#,
    ]);
    let locked = Locked {
        retained: put_locked(
            m,
            "demo-public",
            "locked/retained",
            &[
                "--object-lock-mode",
                "COMPLIANCE",
                "--object-lock-retain-until-date",
                RETAIN_UNTIL,
            ],
        ),
        held: put_locked(
            m,
            "demo-public",
            "locked/held",
            &["--object-lock-legal-hold-status", "ON"],
        ),
    };
    m.aws(&[
        "s3api",
        "put-bucket-versioning",
        "--bucket",
        "demo-uploads",
        "--versioning-configuration",
        "Status=Enabled",
    ]);
    m.aws(&[
        "s3api",
        "put-bucket-policy",
        "--bucket",
        "demo-uploads",
        "--policy",
        &doc(r#"{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::demo-uploads","arn:aws:s3:::demo-uploads/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#),
    ]);
    m.aws(&[
        "s3api",
        "put-public-access-block",
        "--bucket",
        "demo-uploads",
        "--public-access-block-configuration",
        "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
    ]);
    acls_disabled(m, "demo-uploads");
    m.aws(&[
        "s3api",
        "put-bucket-policy",
        "--bucket",
        "demo-public",
        "--policy",
        &doc(r#"{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::demo-public/*"}"#),
    ]);
    // An access point on the uploads bucket whose policy lets alice put.
    m.aws(&[
        "s3control",
        "create-access-point",
        "--account-id",
        ACCOUNT,
        "--name",
        "uploads-ap",
        "--bucket",
        "demo-uploads",
    ]);
    m.aws(&[
        "s3control",
        "put-access-point-policy",
        "--account-id",
        ACCOUNT,
        "--name",
        "uploads-ap",
        "--policy",
        &doc(&format!(
            r#"{{"Sid":"AliceUploads","Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"s3:PutObject","Resource":"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/uploads-ap/object/*"}}"#,
            arn("user/alice")
        )),
    ]);
    // A bucket encrypted by default under a customer managed key (whose
    // key policy, moto's default, enables IAM policies), whose policy
    // refuses uploads that ask for another encryption; carol may read it
    // but not decrypt, dave may do both.
    let key: serde_json::Value =
        serde_json::from_str(&m.aws(&["kms", "create-key", "--description", "vault"])).unwrap();
    let key_arn = key["KeyMetadata"]["Arn"].as_str().unwrap().to_string();
    m.aws(&["s3api", "create-bucket", "--bucket", "demo-vault"]);
    m.aws(&[
        "s3api",
        "put-bucket-encryption",
        "--bucket",
        "demo-vault",
        "--server-side-encryption-configuration",
        &format!(
            r#"{{"Rules":[{{"ApplyServerSideEncryptionByDefault":{{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"{key_arn}"}}}}]}}"#
        ),
    ]);
    acls_disabled(m, "demo-vault");
    m.aws(&[
        "s3api",
        "put-bucket-policy",
        "--bucket",
        "demo-vault",
        "--policy",
        &doc(r#"{"Sid":"OnlyKms","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::demo-vault/*","Condition":{"StringNotEqualsIfExists":{"s3:x-amz-server-side-encryption":"aws:kms"}}}"#),
    ]);
    for (user, actions) in [
        ("carol", r#""s3:GetObject""#),
        ("dave", r#""s3:GetObject","kms:Decrypt""#),
    ] {
        m.aws(&["iam", "create-user", "--user-name", user]);
        m.aws(&[
            "iam",
            "put-user-policy",
            "--user-name",
            user,
            "--policy-name",
            "read-vault",
            "--policy-document",
            &doc(&format!(
                r#"{{"Effect":"Allow","Action":[{actions}],"Resource":"*"}}"#
            )),
        ]);
    }
    // A group whose managed policy is read-write in v1, write-only in v2 (default).
    m.aws(&["iam", "create-group", "--group-name", "uploaders"]);
    m.aws(&[
        "iam",
        "create-policy",
        "--policy-name",
        "Upload",
        "--policy-document",
        &doc(r#"{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::demo-uploads/*"}"#),
    ]);
    m.aws(&[
        "iam",
        "create-policy-version",
        "--policy-arn",
        &arn("policy/Upload"),
        "--set-as-default",
        "--policy-document",
        &doc(r#"{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::demo-uploads/*"}"#),
    ]);
    m.aws(&[
        "iam",
        "attach-group-policy",
        "--group-name",
        "uploaders",
        "--policy-arn",
        &arn("policy/Upload"),
    ]);
    m.aws(&["iam", "create-user", "--user-name", "alice"]);
    m.aws(&[
        "iam",
        "add-user-to-group",
        "--group-name",
        "uploaders",
        "--user-name",
        "alice",
    ]);
    // bob may assume the partner role; the role's inline policy allows all
    // of S3 under incoming/, its boundary only PutObject: write-only.
    m.aws(&["iam", "create-user", "--user-name", "bob"]);
    m.aws(&[
        "iam",
        "put-user-policy",
        "--user-name",
        "bob",
        "--policy-name",
        "assume",
        "--policy-document",
        &doc(r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}"#),
    ]);
    m.aws(&[
        "iam",
        "create-policy",
        "--policy-name",
        "PutOnly",
        "--policy-document",
        &doc(r#"{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}"#),
    ]);
    m.aws(&[
        "iam",
        "create-role",
        "--role-name",
        "partner-uploader",
        "--permissions-boundary",
        &arn("policy/PutOnly"),
        "--assume-role-policy-document",
        &doc(&format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"sts:AssumeRole"}}"#,
            arn("user/bob")
        )),
    ]);
    m.aws(&[
        "iam",
        "put-role-policy",
        "--role-name",
        "partner-uploader",
        "--policy-name",
        "upload",
        "--policy-document",
        &doc(r#"{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::demo-uploads/incoming/*"}"#),
    ]);
    // An organization whose SCP denies bucket deletion everywhere.
    m.aws(&[
        "organizations",
        "create-organization",
        "--feature-set",
        "ALL",
    ]);
    let policy: serde_json::Value = serde_json::from_str(&m.aws(&[
        "organizations",
        "create-policy",
        "--name",
        "NoBucketDeletion",
        "--description",
        "deny s3:DeleteBucket",
        "--type",
        "SERVICE_CONTROL_POLICY",
        "--content",
        &doc(r#"{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}"#),
    ]))
    .unwrap();
    let roots: serde_json::Value =
        serde_json::from_str(&m.aws(&["organizations", "list-roots"])).unwrap();
    m.aws(&[
        "organizations",
        "attach-policy",
        "--policy-id",
        policy["Policy"]["PolicySummary"]["Id"].as_str().unwrap(),
        "--target-id",
        roots["Roots"][0]["Id"].as_str().unwrap(),
    ]);
    locked
}

/// A query's first answer (the principal's own request for `can`).
fn first_answer(engine: &Engine, q: &str) -> Option<Answer> {
    let o = engine.answer(q, Options::default()).expect(q);
    o.answers.into_iter().next()
}

fn collect(m: &Moto, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    m.env(&mut cmd);
    cmd.args(["collect", "-o"])
        .arg(out)
        .args(["--endpoint-url", &m.url])
        .args(extra)
        .output()
        .unwrap()
}

/// moto's list-buckets reports an owner ID other than its ACLs' owner: the
/// harness writes the ACLs' so the account's grants map to it (real AWS
/// agrees with itself).
fn map_owner_id(snapshot: &Path) {
    let dir = snapshot.join("accounts").join(ACCOUNT);
    let acl: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("buckets/demo-uploads/acl.json")).unwrap(),
    )
    .unwrap();
    let file = dir.join("list-buckets.json");
    let mut listed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    listed["Owner"]["ID"] = acl["Owner"]["ID"].clone();
    std::fs::write(&file, serde_json::to_string_pretty(&listed).unwrap()).unwrap();
}

#[test]
fn a_collected_snapshot_loads_clean_and_answers_as_the_estate_was_built() {
    let m = Moto::start();
    let locked = build(&m);
    // Collected with a key that may make the read-only calls and nothing
    // else: a mutating call would be refused and recorded as unreadable.
    become_user(&m, "collector", &read_only());
    let dir = TempDir::new().unwrap();
    let snap = dir.path().join("snapshot");
    let out = collect(&m, &snap, &["--objects", "demo-public/locked/"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "collect failed: {stderr}");
    assert!(
        stderr.contains("collected 1 account(s) (123456789012), 3 bucket(s)"),
        "{stderr}"
    );
    assert!(!stderr.contains("unreadable"), "{stderr}");
    for file in [
        "org/organization.json",
        "org/accounts.json",
        "org/tree.json",
        "accounts/123456789012/iam.json",
        "accounts/123456789012/list-buckets.json",
        "accounts/123456789012/buckets/demo-uploads/policy.json",
        "accounts/123456789012/buckets/demo-uploads/acl.json",
        "accounts/123456789012/buckets/demo-uploads/ownership-controls.json",
        "accounts/123456789012/buckets/demo-uploads/public-access-block.json",
        "accounts/123456789012/buckets/demo-public/policy.json",
        "accounts/123456789012/buckets/demo-uploads/versioning.json",
        "accounts/123456789012/buckets/demo-public/object-lock.json",
        "accounts/123456789012/access-points/uploads-ap/access-point.json",
        "accounts/123456789012/access-points/uploads-ap/policy.json",
        "accounts/123456789012/buckets/demo-vault/encryption.json",
        "accounts/123456789012/buckets/demo-public/objects/locked%2Fretained.head.json",
        "accounts/123456789012/buckets/demo-public/objects/locked%2Fheld.head.json",
    ] {
        assert!(snap.join(file).is_file(), "{file} not written");
    }
    // The key's metadata, policy and grants, under its ID.
    let kms = snap.join("accounts/123456789012/kms");
    let keys: Vec<_> = std::fs::read_dir(&kms).expect("kms/ written").collect();
    assert_eq!(keys.len(), 1, "one key collected");
    let key_dir = keys[0].as_ref().unwrap().path();
    for file in ["key.json", "policy.json", "grants.json"] {
        assert!(key_dir.join(file).is_file(), "kms/…/{file} not written");
    }
    // Settings never made are left out, as absence: not as errors.
    for file in [
        "accounts/123456789012/public-access-block.json",
        "accounts/123456789012/buckets/demo-public/public-access-block.json",
        "accounts/123456789012/buckets/demo-public/ownership-controls.json",
        "accounts/123456789012/buckets/demo-uploads/object-lock.json",
        "accounts/123456789012/buckets/demo-uploads/encryption.json",
    ] {
        assert!(
            !snap.join(file).exists(),
            "{file} written for a setting never made: {}",
            std::fs::read_to_string(snap.join(file)).unwrap_or_default()
        );
    }
    map_owner_id(&snap);

    let estate = load::load_paths(std::slice::from_ref(&snap)).expect("the snapshot loads");
    let errors: Vec<_> = estate
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let bucket = |name: &str| estate.buckets.iter().find(|b| b.name == name).unwrap();
    assert_eq!(
        bucket("demo-uploads").versioning,
        Ok(Versioning {
            status: VersioningStatus::Enabled,
            mfa_delete: false
        })
    );
    assert_eq!(
        bucket("demo-public").object_lock,
        Ok(ObjectLock {
            enabled: true,
            default_retention: Some("GOVERNANCE 1 days".into())
        })
    );
    // The locked objects' versions, as their head-object describes them.
    let version = |key: &str| {
        let o = bucket("demo-public").objects.iter().find(|o| o.key == key);
        o.unwrap_or_else(|| panic!("{key} listed"))
            .version
            .clone()
            .unwrap_or_else(|| panic!("{key}: no version read"))
    };
    let retained = version("locked/retained");
    assert_eq!(retained.id, locked.retained);
    assert!(!retained.id.is_empty());
    assert_eq!(
        retained.retention,
        Some(Retention {
            mode: RetentionMode::Compliance,
            until: RETAIN_UNTIL.into()
        })
    );
    assert!(!retained.legal_hold);
    let held = version("locked/held");
    assert_eq!(held.id, locked.held);
    assert!(!held.id.is_empty());
    assert!(held.legal_hold);
    // moto leaves out managed policies' names: named after their ARN, with a warning.
    assert!(estate
        .diagnostics
        .iter()
        .all(|d| d.message.starts_with("no `PolicyName`")));
    let validate = Command::new(BIN)
        .args(["--env"])
        .arg(&snap)
        .arg("validate")
        .output()
        .unwrap();
    assert_eq!(
        validate.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&validate.stdout)
    );

    let engine = Engine::new(&estate);
    let decision = |q: &str| {
        first_answer(&engine, q)
            .map(|a| (a.decision.names().0, a.via.len()))
            .unwrap_or(("none", 0))
    };
    let secure = "with aws:SecureTransport = true";
    // The group's managed policy in force is v2: write, no read.
    assert_eq!(
        decision(&format!(
            "can user/alice s3:PutObject demo-uploads/a {secure}"
        )),
        ("allow", 1)
    );
    assert_eq!(
        decision(&format!(
            "can user/alice s3:GetObject demo-uploads/a {secure}"
        ))
        .0,
        "deny"
    );
    // Through the access point: its policy and alice's identity policy on
    // the bucket both allow; the bucket's DenyInsecureTransport still bites.
    assert_eq!(
        decision(&format!(
            "can user/alice s3:PutObject ap:uploads-ap/a {secure}"
        )),
        ("allow", 1)
    );
    assert_eq!(
        decision("can user/alice s3:PutObject ap:uploads-ap/a with aws:SecureTransport = false").0,
        "deny"
    );
    // demo-vault: reading needs kms:Decrypt on its key, which the key
    // policy lets IAM policies grant; no upload may ask for another
    // encryption, so every unlisted object is under the key.
    assert_eq!(estate.kms_keys.len(), 1);
    let carol = first_answer(&engine, "can user/carol s3:GetObject demo-vault/a").unwrap();
    assert_eq!(
        (carol.decision.names().0, carol.kms_key.map(|k| k.1)),
        ("deny", Some(estate.kms_keys[0].arn.clone()))
    );
    assert_eq!(carol.blocked_by, vec!["identity"]);
    assert_eq!(
        decision("can user/dave s3:GetObject demo-vault/a"),
        ("allow", 1)
    );
    // The bucket policy's DenyInsecureTransport.
    assert_eq!(
        decision("can user/alice s3:PutObject demo-uploads/a with aws:SecureTransport = false").0,
        "deny"
    );
    // bob may not upload himself; through the role he may, to incoming/.
    assert_eq!(
        decision(&format!(
            "can user/bob s3:PutObject demo-uploads/x {secure}"
        ))
        .0,
        "deny"
    );
    let o = engine
        .answer(
            &format!("can user/bob s3:PutObject demo-uploads/incoming/x {secure}"),
            Options::default(),
        )
        .unwrap();
    assert!(
        o.answers.iter().any(|a| a.decision.names().0 == "allow"
            && a.via.last().map(String::as_str)
                == Some("arn:aws:iam::123456789012:role/partner-uploader")),
        "{:#?}",
        o.answers
    );
    // The public bucket: anonymous reads.
    let o = engine
        .answer("who can read demo-public/*", Options::default())
        .unwrap();
    assert!(o
        .answers
        .iter()
        .any(|a| a.principal == "anonymous" && a.decision.names().0 == "allow"));
    // Object Lock: the admin (who may do anything) may delete neither
    // locked version before the retain-until date; without the version ID
    // the answer is unknown (it might be a locked one).
    for (key, id) in [
        ("locked/retained", &locked.retained),
        ("locked/held", &locked.held),
    ] {
        let q = format!(
            "can user/admin s3:DeleteObjectVersion demo-public/{key} \
             with s3:versionid = {id}, aws:CurrentTime = 2098-06-01T00:00:00Z"
        );
        let a = first_answer(&engine, &q).expect(&q);
        assert_eq!(a.decision.names().0, "deny", "{q}: {a:#?}");
        assert!(a.blocked_by.contains(&"object-lock"), "{q}: {a:#?}");
    }
    // Past the date the retention no longer bites; the legal hold has none.
    let after = |key: &str, id: &str| {
        decision(&format!(
            "can user/admin s3:DeleteObjectVersion demo-public/{key} \
             with s3:versionid = {id}, aws:CurrentTime = 2099-06-01T00:00:00Z"
        ))
        .0
    };
    assert_eq!(after("locked/retained", &locked.retained), "allow");
    assert_eq!(after("locked/held", &locked.held), "deny");
    assert_eq!(
        decision("can user/admin s3:DeleteObjectVersion demo-public/locked/retained").0,
        "unknown"
    );
    // The SCP: nobody deletes a bucket, not even the account's admin path.
    assert_eq!(
        decision(&format!(
            "can user/bob s3:DeleteBucket demo-uploads {secure}"
        ))
        .0,
        "deny"
    );
    // The role is write-only on the bucket.
    let o = engine
        .answer(
            "prove write-only role/partner-uploader on demo-uploads/*",
            Options::default(),
        )
        .unwrap();
    assert_eq!(
        bucketlog::report::proof_result(o.proof.expect("a proof").result),
        "proved"
    );

    // --resume keeps what is there (a file changed by hand stays changed)
    // and fetches what is missing.
    let iam = snap.join("accounts/123456789012/iam.json");
    let acl = snap.join("accounts/123456789012/buckets/demo-public/acl.json");
    std::fs::write(&iam, "{\"kept\": true}").unwrap();
    std::fs::remove_file(&acl).unwrap();
    let again = collect(&m, &snap, &["--resume"]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::read_to_string(&iam).unwrap(), "{\"kept\": true}");
    assert!(acl.is_file());

    // A refusal is recorded, not fatal: without s3:GetBucketPolicy the
    // policies are unreadable, and the public bucket's answer is unknown;
    // without organizations:ListPolicies the SCPs are, and so is every
    // allow they could have capped.
    become_user(
        &m,
        "partial",
        &read_only_but(&["s3:GetBucketPolicy", "organizations:ListPolicies"]),
    );
    let partial = dir.path().join("partial");
    let out = collect(&m, &partial, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("demo-public/policy.json: AccessDenied: recorded as unreadable"),
        "{stderr}"
    );
    map_owner_id(&partial);
    let estate = load::load_paths(std::slice::from_ref(&partial)).expect("loads");
    let engine = Engine::new(&estate);
    let unknown = |q: &str| {
        let a = first_answer(&engine, q).expect(q);
        assert_eq!(a.decision.names().0, "unknown", "{a:#?}");
    };
    unknown("can anonymous s3:GetObject demo-public/x");
    assert!(partial
        .join("org/policies/unlisted-service_control_policy.json")
        .is_file());
    unknown("can user/alice s3:PutObject demo-uploads/a with aws:SecureTransport = true");
}

/// docs/cli.md lists every call `collect` makes with its IAM action, and
/// nothing else: the list a security team reviews is the program's.
#[test]
fn the_documented_calls_are_the_programs() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cli.md")).unwrap();
    let rows: Vec<&str> = doc.lines().filter(|l| l.starts_with("| `aws ")).collect();
    assert_eq!(rows.len(), collect::CALLS.len());
    for (call, action) in collect::CALLS {
        let row = format!("| `aws {call}` | `{action}` |");
        assert!(rows.contains(&row.as_str()), "docs/cli.md lacks {row}");
        assert!(
            doc.contains(&format!("      \"{action}\"")),
            "the policy in docs/cli.md lacks {action}"
        );
    }
}

/// `--assume-role NAME`: every account of the organization, each through
/// a session of NAME there. (moto without IAM enforcement: it hands out a
/// session for any role ARN, as an account's OrganizationAccountAccessRole
/// would.)
#[test]
fn assume_role_collects_every_account_of_the_organization() {
    let m = Moto::serve(false);
    m.aws(&[
        "organizations",
        "create-organization",
        "--feature-set",
        "ALL",
    ]);
    let created: serde_json::Value = serde_json::from_str(&m.aws(&[
        "organizations",
        "create-account",
        "--email",
        "member@example.com",
        "--account-name",
        "member",
    ]))
    .unwrap();
    let member = created["CreateAccountStatus"]["AccountId"]
        .as_str()
        .unwrap()
        .to_string();
    m.aws(&["s3api", "create-bucket", "--bucket", "management-data"]);
    // A bucket in the member account, made through a session there.
    let session: serde_json::Value = serde_json::from_str(&m.aws(&[
        "sts",
        "assume-role",
        "--role-arn",
        &format!("arn:aws:iam::{member}:role/OrganizationAccountAccessRole"),
        "--role-session-name",
        "setup",
    ]))
    .unwrap();
    let c = &session["Credentials"];
    let mut cmd = Command::new(venv().join("aws"));
    m.env(&mut cmd);
    let made = cmd
        .env("AWS_ACCESS_KEY_ID", c["AccessKeyId"].as_str().unwrap())
        .env(
            "AWS_SECRET_ACCESS_KEY",
            c["SecretAccessKey"].as_str().unwrap(),
        )
        .env("AWS_SESSION_TOKEN", c["SessionToken"].as_str().unwrap())
        .args(["s3api", "create-bucket", "--bucket", "member-data"])
        .args(["--endpoint-url", &m.url])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );

    let dir = TempDir::new().unwrap();
    let snap = dir.path().join("snapshot");
    let out = collect(
        &m,
        &snap,
        &["--assume-role", "OrganizationAccountAccessRole"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("collected 2 account(s) (123456789012, {member})")),
        "{stderr}"
    );
    assert!(snap
        .join(format!("accounts/{member}/buckets/member-data"))
        .is_dir());
    assert!(snap
        .join("accounts/123456789012/buckets/management-data")
        .is_dir());
    assert!(!snap
        .join(format!("accounts/{member}/buckets/management-data"))
        .exists());
}
