//! The default context of `query` and `repl` (issue 12): the `[context]`
//! table of `bucketlog.toml` (in the working directory, else in the user's
//! config directory), then each `--context` of the command line, written
//! as after `with` (`aws:SecureTransport=true`); a later key replaces an
//! earlier one, and a query's own `with` wins over both. `check` does not
//! read it: an assertion file means the same on every machine.

use crate::query::ast::ContextItem;
use crate::query::parse_context;
use std::path::{Path, PathBuf};

/// The default context as items, and as text (`:stats`, notes).
#[derive(Clone, Debug, Default)]
pub struct DefaultContext {
    pub items: Vec<ContextItem>,
    pub text: String,
}

/// The config file in force: `./bucketlog.toml`, else the user's.
fn config_file() -> Option<PathBuf> {
    let here = PathBuf::from("bucketlog.toml");
    if here.is_file() {
        return Some(here);
    }
    let user = dirs::config_dir()?.join("bucketlog").join("bucketlog.toml");
    user.is_file().then_some(user)
}

/// One `[context]` entry as `with` text: a string, or an array of strings.
fn entry_text(path: &Path, key: &str, value: &toml::Value) -> Result<String, String> {
    let quote = |v: &str| -> Result<String, String> {
        if v.contains('"') {
            return Err(format!(
                "{}: [context] {key}: a value cannot hold a double quote",
                path.display()
            ));
        }
        Ok(format!("\"{v}\""))
    };
    match value {
        toml::Value::String(v) => Ok(format!("{key} = {}", quote(v)?)),
        toml::Value::Boolean(b) => Ok(format!("{key} = {b}")),
        toml::Value::Integer(n) => Ok(format!("{key} = {n}")),
        toml::Value::Array(vs) => {
            let items: Result<Vec<String>, String> = vs
                .iter()
                .map(|v| match v {
                    toml::Value::String(s) => quote(s),
                    _ => Err(format!(
                        "{}: [context] {key}: expected an array of strings",
                        path.display()
                    )),
                })
                .collect();
            Ok(format!("{key} = [{}]", items?.join(", ")))
        }
        _ => Err(format!(
            "{}: [context] {key}: expected a string, a boolean, a number or an array of strings",
            path.display()
        )),
    }
}

fn from_file(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let doc: toml::Table = text
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (section, value) in &doc {
        let context = match value {
            toml::Value::Table(t) if section == "context" => t,
            _ => {
                return Err(format!(
                    "{}: unknown `{section}`: expected a [context] table of condition keys",
                    path.display()
                ))
            }
        };
        for (key, v) in context {
            out.push(entry_text(path, key, v)?);
        }
    }
    Ok(out)
}

/// The default context from the config file and the `--context` flags.
pub fn default_context(flags: &[String]) -> Result<DefaultContext, String> {
    let mut texts = match config_file() {
        Some(path) => from_file(&path)?,
        None => Vec::new(),
    };
    texts.extend(flags.iter().cloned());
    let mut items: Vec<ContextItem> = Vec::new();
    for text in &texts {
        let parsed = parse_context(text)
            .map_err(|e| format!("context `{text}`, column {}: {}", e.column, e.message))?;
        for item in parsed {
            let key = item.key.text.to_ascii_lowercase();
            items.retain(|old| old.key.text.to_ascii_lowercase() != key);
            items.push(item);
        }
    }
    Ok(DefaultContext {
        text: texts.join(", "),
        items,
    })
}
