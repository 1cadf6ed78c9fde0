//! Queries as typed, before any name is resolved against the estate.

/// A word of the query and its byte offset, so errors can point at it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub offset: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContextValue {
    One(Word),
    Set(Vec<Word>),
    Absent,
}

impl ContextValue {
    /// The values a `with` item fixes; empty when the key is absent.
    pub fn texts(&self) -> Vec<&str> {
        match self {
            ContextValue::One(w) => vec![w.text.as_str()],
            ContextValue::Set(ws) => ws.iter().map(|w| w.text.as_str()).collect(),
            ContextValue::Absent => Vec::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextItem {
    pub key: Word,
    pub value: ContextValue,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShowKind {
    Principal,
    Bucket,
    Policy,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    WhoCan {
        action: Word,
        resource: Word,
        context: Vec<ContextItem>,
    },
    Can {
        principal: Word,
        action: Word,
        resource: Word,
        context: Vec<ContextItem>,
    },
    Why {
        not: bool,
        principal: Word,
        action: Word,
        resource: Word,
        context: Vec<ContextItem>,
    },
    WhatCan {
        principal: Word,
        on: Option<Word>,
    },
    ProveWriteOnly {
        principal: Word,
        resource: Word,
    },
    ProveNoPublicAccess {
        bucket: Word,
    },
    ProveNoDestroy {
        bucket: Word,
    },
    ProveRequires {
        principal: Word,
        action: Word,
        resource: Word,
        key: Word,
        op: Word,
        value: Word,
    },
    Public {
        bucket: Option<Word>,
    },
    /// The shortest chain to an action (a verb or an action name; any S3
    /// action when omitted) on a resource.
    Path {
        principal: Word,
        action: Option<Word>,
        resource: Word,
    },
    Show {
        kind: ShowKind,
        name: Word,
    },
    Help,
}

impl Query {
    /// The `kind` of cli.md's JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            Query::WhoCan { .. } => "who-can",
            Query::Can { .. } => "can",
            Query::Why { .. } => "why",
            Query::WhatCan { .. } => "what-can",
            Query::ProveWriteOnly { .. }
            | Query::ProveNoPublicAccess { .. }
            | Query::ProveNoDestroy { .. }
            | Query::ProveRequires { .. } => "prove",
            Query::Public { .. } => "public",
            Query::Path { .. } => "path",
            Query::Show { .. } => "show",
            Query::Help => "help",
        }
    }
}
