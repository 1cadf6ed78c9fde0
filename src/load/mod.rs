//! Loading: a snapshot directory written by the AWS CLI (inputs.md §1), the
//! compact environment file (§2), or the built-in demo estate, into one
//! `model::Estate` plus diagnostics. A bad file is reported and loading goes
//! on: a broken policy becomes an invalid `Policy` (answers that depend on it
//! are unknown), a broken `iam.json` leaves its account undescribed.

pub mod access_point;
pub mod acl;
pub mod data_protection;
pub mod env_file;
pub mod json;
pub mod kms;
pub mod org;
pub mod snapshot;

use crate::diag::{Diagnostic, Span};
use crate::model::{Estate, Policy, PolicyKind};
use json::{Node, Source, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Files of a snapshot, by path relative to its root, so that a directory on
/// disk and the demo estate compiled into the binary load the same way.
pub struct FileSet {
    /// How paths are shown in diagnostics: the root as the user named it.
    pub root: String,
    pub files: BTreeMap<String, Vec<u8>>,
}

static DEMO: include_dir::Dir = include_dir::include_dir!("$CARGO_MANIFEST_DIR/examples/demo");

impl FileSet {
    pub fn from_dir(path: &Path) -> std::io::Result<FileSet> {
        fn walk(dir: &Path, rel: &str, out: &mut BTreeMap<String, Vec<u8>>) -> std::io::Result<()> {
            let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
            entries.sort_by_key(|e| e.file_name());
            for e in entries {
                let name = e.file_name().to_string_lossy().into_owned();
                let rel = if rel.is_empty() {
                    name
                } else {
                    format!("{rel}/{name}")
                };
                if e.file_type()?.is_dir() {
                    out.insert(format!("{rel}/"), Vec::new());
                    walk(&e.path(), &rel, out)?;
                } else {
                    out.insert(rel, std::fs::read(e.path())?);
                }
            }
            Ok(())
        }
        let mut files = BTreeMap::new();
        walk(path, "", &mut files)?;
        Ok(FileSet {
            root: path.display().to_string(),
            files,
        })
    }

    pub fn demo() -> FileSet {
        fn walk(dir: &include_dir::Dir, out: &mut BTreeMap<String, Vec<u8>>) {
            for f in dir.files() {
                out.insert(f.path().display().to_string(), f.contents().to_vec());
            }
            for d in dir.dirs() {
                out.insert(format!("{}/", d.path().display()), Vec::new());
                walk(d, out);
            }
        }
        let mut files = BTreeMap::new();
        walk(&DEMO, &mut files);
        FileSet {
            root: "examples/demo".to_string(),
            files,
        }
    }

    pub fn display(&self, rel: &str) -> String {
        format!("{}/{}", self.root.trim_end_matches('/'), rel)
    }
}

/// Loads every `--env` argument into one estate (accounts merge).
pub fn load_paths(paths: &[std::path::PathBuf]) -> Result<Estate, Diagnostic> {
    let mut estate = Estate::default();
    if paths.is_empty() {
        snapshot::load(&FileSet::demo(), &mut estate);
        return Ok(estate);
    }
    for p in paths {
        let shown = p.display().to_string();
        let meta = std::fs::metadata(p).map_err(|e| {
            Diagnostic::error(
                Span::file(&shown),
                format!(
                    "cannot read --env: {e}; expected a snapshot directory or an environment file"
                ),
            )
        })?;
        if meta.is_dir() {
            let files = FileSet::from_dir(p).map_err(|e| {
                Diagnostic::error(
                    Span::file(&shown),
                    format!("cannot read the snapshot directory: {e}"),
                )
            })?;
            if !files.files.keys().any(|k| k.starts_with("accounts/")) {
                return Err(Diagnostic::error(
                    Span::file(&shown),
                    "expected a snapshot directory with an `accounts/` folder (inputs.md §1)",
                ));
            }
            snapshot::load(&files, &mut estate);
        } else {
            let bytes = std::fs::read(p)
                .map_err(|e| Diagnostic::error(Span::file(&shown), format!("cannot read: {e}")))?;
            env_file::load(&shown, &bytes, &mut estate)?;
        }
    }
    if estate.principals.is_empty() && estate.buckets.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        let unread = match estate.diagnostics.first() {
            Some(d) => format!(
                "; {} input error(s), the first: {d}",
                estate.diagnostics.len()
            ),
            None => String::new(),
        };
        return Err(Diagnostic::error(
            Span::file(&shown.join(", ")),
            format!(
                "the estate describes no principals and no buckets: expected at least one \
                 readable `accounts/<id>/iam.json` or `list-buckets.json` (docs/inputs.md), or an \
                 environment file with `principals` or `buckets` (docs/env-file.md){unread}"
            ),
        ));
    }
    Ok(estate)
}

/// Parses a whole file as JSON. The error document `bucketlog collect`
/// writes in place of an input AWS refused (`{"Error": {"Code", "Message"}}`)
/// is an error naming the code, so that input is unreadable, as any other
/// broken file is.
pub(crate) fn parse_file(file: &str, bytes: &[u8]) -> Result<Node, Diagnostic> {
    let doc = json::decode_utf8(file, bytes).and_then(|text| {
        json::parse(&Source {
            file,
            outer_pointer: "",
            text: &text,
        })
    })?;
    if let (Value::Object(props), Some(error)) = (&doc.value, doc.get("Error")) {
        if props.len() == 1 {
            let text = |k: &str| match error.get(k).map(|n| &n.value) {
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            };
            let code = text("Code").unwrap_or_else(|| "no code".into());
            let message = text("Message").map_or(String::new(), |m| format!(": {m}"));
            return Err(Diagnostic::error(
                doc.span.clone(),
                format!(
                    "expected what the AWS CLI prints, found the error AWS returned when the snapshot was collected: {code}{message}"
                ),
            ));
        }
    }
    Ok(doc)
}

/// A regional ARN field of `doc` (an access point's, a KMS key's), which
/// must read `PREFIX` REGION `TAIL` — its account and name as the snapshot
/// places it: `shape` spells it, `what` says what the tail carries. The
/// ARN and its region.
pub(crate) fn regional_arn(
    doc: &Node,
    field: &str,
    (prefix, tail): (&str, &str),
    shape: &str,
    what: &str,
) -> Result<(String, String), Diagnostic> {
    let node = doc.get(field).ok_or_else(|| {
        Diagnostic::error(
            doc.span.clone(),
            format!("expected an `{field}` field (`{shape}`)"),
        )
    })?;
    let arn = node
        .as_str()
        .ok_or_else(|| node.error(&format!("`{field}` as a string")))?;
    let region = arn
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(tail))
        .filter(|r| !r.is_empty() && !r.contains(':'))
        .ok_or_else(|| {
            Diagnostic::error(
                node.span.clone(),
                format!("`{arn}`: expected `{prefix}REGION{tail}` ({what})"),
            )
        })?;
    Ok((arn.to_string(), region.to_string()))
}

/// Keeps a diagnostic and returns its text, as the reason something is unknown.
pub(crate) fn record(d: Diagnostic, estate: &mut Estate) -> String {
    let why = format!("{}: {}", d.span, d.message);
    estate.diagnostics.push(d);
    why
}

/// A policy document as found in a dump: a JSON object, a JSON string, or a
/// URL-encoded JSON string (what the raw API returns). An invalid document
/// still yields a `Policy`, marked invalid, so nothing that depends on it is
/// decided.
pub(crate) fn policy_from(node: &Node, name: &str, kind: PolicyKind, estate: &mut Estate) -> usize {
    let (body, diags) = match &node.value {
        Value::Object(_) => crate::policy::parse(node, kind),
        Value::String(s) => {
            let text = if s.trim_start().starts_with('{') {
                s.clone()
            } else {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            match json::parse(&Source {
                file: &node.span.file,
                outer_pointer: &node.span.pointer,
                text: &text,
            }) {
                Ok(inner) => crate::policy::parse(&inner, kind),
                Err(d) => (Err(format!("{}: {}", d.span, d.message)), vec![d]),
            }
        }
        _ => {
            let d = node
                .error("a policy document: an object, a JSON string or a URL-encoded JSON string");
            (Err(format!("{}: {}", d.span, d.message)), vec![d])
        }
    };
    estate.diagnostics.extend(diags);
    estate.policies.push(Policy {
        name: name.to_string(),
        kind,
        span: node.span.clone(),
        body,
    });
    estate.policies.len() - 1
}

/// A policy that the estate refers to but that could not be had (a file that
/// does not parse, an attached managed policy missing from the dump): invalid,
/// so answers that need it are unknown.
pub(crate) fn missing_policy(
    name: &str,
    kind: PolicyKind,
    problem: Diagnostic,
    estate: &mut Estate,
) -> usize {
    let span = problem.span.clone();
    let why = record(problem, estate);
    estate.policies.push(Policy {
        name: name.to_string(),
        kind,
        span,
        body: Err(why),
    });
    estate.policies.len() - 1
}
