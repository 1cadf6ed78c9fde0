//! JSON with positions. AWS dumps are plain JSON, but every diagnostic and
//! every statement must say where it came from, which serde_json cannot tell.
//! We parse with jsonc-parser in strict mode (no comments, trailing commas or
//! other JSONC leniencies), hold the text to RFC 8259 with serde_json, and keep a small tree whose nodes know their JSON
//! pointer and line.

use crate::diag::{line_column, Diagnostic, LineIndex, Span};
use jsonc_parser::ast;
use jsonc_parser::{CollectOptions, ParseOptions};

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

/// A source text: the file it came from, plus, for a policy embedded as a JSON
/// string, the pointer of that string in the outer file.
pub struct Source<'a> {
    pub file: &'a str,
    pub outer_pointer: &'a str,
    pub text: &'a str,
}

fn strict() -> ParseOptions {
    ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

/// Decodes file bytes as UTF-8, reporting the first bad byte's position.
pub fn decode_utf8(file: &str, bytes: &[u8]) -> Result<String, Diagnostic> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.trim_start_matches('\u{feff}').to_string()),
        Err(e) => {
            let good = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let (line, column) = line_column(good, good.len());
            Err(Diagnostic::error(
                Span {
                    file: file.into(),
                    pointer: String::new(),
                    line,
                    column,
                },
                format!(
                    "expected UTF-8 text, found an invalid byte at offset {}",
                    e.valid_up_to()
                ),
            ))
        }
    }
}

/// Parses one JSON document; duplicate object keys are an error (AWS's policy
/// grammar forbids them and parsers disagree on which wins).
pub fn parse(src: &Source) -> Result<Node, Diagnostic> {
    let lines = LineIndex::new(src.text);
    let file: std::sync::Arc<str> = src.file.into();
    let span_at = |offset: usize, pointer: &str| {
        let (line, column) = lines.line_column(offset);
        let mut full = String::with_capacity(src.outer_pointer.len() + pointer.len());
        full.push_str(src.outer_pointer);
        full.push_str(pointer);
        Span {
            file: file.clone(),
            pointer: full,
            line,
            column,
        }
    };
    let parsed = jsonc_parser::parse_to_ast(src.text, &CollectOptions::default(), &strict())
        .map_err(|e| {
            Diagnostic::error(
                span_at(e.range().start, ""),
                format!("invalid JSON: {}", e.kind()),
            )
        })?;
    let Some(root) = parsed.value else {
        return Err(Diagnostic::error(
            span_at(0, ""),
            "expected a JSON document, found an empty file",
        ));
    };
    // jsonc-parser tolerates raw control characters in strings and non-JSON
    // whitespace between tokens; serde_json holds the text to RFC 8259.
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(src.text) {
        let full = e.to_string();
        let message = full.split(" at line ").next().unwrap_or(&full);
        // serde_json counts columns in bytes; positions here count characters.
        let line_start: usize = src
            .text
            .split_inclusive('\n')
            .take(e.line().saturating_sub(1))
            .map(str::len)
            .sum();
        return Err(Diagnostic::error(
            span_at(line_start + e.column().saturating_sub(1), ""),
            format!("invalid JSON: {message}: expected RFC 8259 JSON"),
        ));
    }
    convert(&root, &mut String::new(), &span_at)
}

/// `pointer` is the node's JSON pointer, one buffer for the whole walk: each
/// child pushes its segment and takes it off again, so that a node costs
/// one pointer string (its span's), not one per level it is built through.
fn convert(
    v: &ast::Value,
    pointer: &mut String,
    span_at: &dyn Fn(usize, &str) -> Span,
) -> Result<Node, Diagnostic> {
    use jsonc_parser::common::Ranged;
    use std::fmt::Write;
    let span = span_at(v.range().start, pointer);
    let depth = pointer.len();
    let value = match v {
        ast::Value::NullKeyword(_) => Value::Null,
        ast::Value::BooleanLit(b) => Value::Bool(b.value),
        ast::Value::NumberLit(n) => Value::Number(n.value.to_string()),
        ast::Value::StringLit(s) => Value::String(s.value.to_string()),
        ast::Value::Array(a) => {
            let mut items = Vec::with_capacity(a.elements.len());
            for (i, e) in a.elements.iter().enumerate() {
                write!(pointer, "/{i}").expect("a String takes any write");
                let item = convert(e, pointer, span_at);
                pointer.truncate(depth);
                items.push(item?);
            }
            Value::Array(items)
        }
        ast::Value::Object(o) => {
            let mut props: Vec<(String, Node)> = Vec::with_capacity(o.properties.len());
            for p in &o.properties {
                let name = p.name.clone().into_string();
                pointer.push('/');
                push_escaped(pointer, &name);
                if props.iter().any(|(k, _)| *k == name) {
                    return Err(Diagnostic::error(
                        span_at(p.range.start, pointer),
                        format!("duplicate key `{name}`: expected each key once in an object"),
                    ));
                }
                let node = convert(&p.value, pointer, span_at);
                pointer.truncate(depth);
                props.push((name, node?));
            }
            Value::Object(props)
        }
    };
    Ok(Node { value, span })
}

/// A key as a JSON pointer segment (RFC 6901: `~` as `~0`, `/` as `~1`).
fn push_escaped(pointer: &mut String, key: &str) {
    for c in key.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Object(props) => props.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }

    pub fn error(&self, expected: &str) -> Diagnostic {
        Diagnostic::error(
            self.span.clone(),
            format!("expected {expected}, found {}", self.kind()),
        )
    }

    /// A required string field.
    pub fn str_field(&self, key: &str) -> Result<&str, Diagnostic> {
        match self.get(key) {
            Some(n) => n
                .as_str()
                .ok_or_else(|| n.error(&format!("`{key}` as a string"))),
            None => Err(Diagnostic::error(
                self.span.clone(),
                format!("expected a `{key}` field"),
            )),
        }
    }

    /// An optional array field: missing or null is empty.
    pub fn array_field(&self, key: &str) -> Result<&[Node], Diagnostic> {
        match self.get(key).map(|n| (&n.value, n)) {
            None | Some((Value::Null, _)) => Ok(&[]),
            Some((Value::Array(items), _)) => Ok(items),
            Some((_, n)) => Err(n.error(&format!("`{key}` as an array"))),
        }
    }

    /// An optional array field of strings (`what` names one item in errors).
    pub fn string_list(&self, key: &str, what: &str) -> Result<Vec<String>, Diagnostic> {
        self.array_field(key)?
            .iter()
            .map(|n| n.as_str().map(str::to_string).ok_or_else(|| n.error(what)))
            .collect()
    }

    /// A field that is absent or null counts as not there.
    pub fn present(&self, key: &str) -> Option<&Node> {
        self.get(key).filter(|n| n.value != Value::Null)
    }

    /// A string or an array of strings (the policy language's value shape).
    pub fn strings(&self, what: &str) -> Result<Vec<(String, Span)>, Diagnostic> {
        match &self.value {
            Value::String(s) => Ok(vec![(s.clone(), self.span.clone())]),
            Value::Array(items) => items
                .iter()
                .map(|i| match &i.value {
                    Value::String(s) => Ok((s.clone(), i.span.clone())),
                    _ => Err(i.error(&format!("{what} as a string"))),
                })
                .collect(),
            _ => Err(self.error(&format!("{what} as a string or an array of strings"))),
        }
    }
}
