//! Assertion files for CI (cli.md "Assertion files"): one `assert` per line,
//! each a query whose answer must hold. A proof holds when `proved`; `can`
//! when some answer is an allow (with a verb: some action of it, directly or
//! through a chain); `not can` when every answer is a deny (every action) —
//! `unknown` or `conditional` never passes for `not can`, so a check that
//! passes is a proof, not a guess. An input that did not load fails the
//! whole check under `--strict` (and always in SARIF and JUnit): a gate
//! never goes green on an estate it could not read whole.

use crate::diag::{Diagnostic, Severity, Span};
use crate::query::prove::ProofResult;
use crate::query::{self, Engine, Options, Outcome};

/// What must hold of an assertion's query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    Proved,
    Can,
    NotCan,
}

#[derive(Clone, Debug)]
pub struct Assertion {
    pub line: usize,
    /// The assertion as written, after `assert `.
    pub text: String,
    pub query: String,
    pub expect: Expect,
    /// Where the query starts in the line (bytes), for error columns.
    offset: usize,
}

impl Assertion {
    /// The SARIF rule: the property or the question.
    pub fn rule(&self) -> &'static str {
        match self.expect {
            Expect::Can => "can",
            Expect::NotCan => "not-can",
            Expect::Proved if self.query.contains(" requires ") => "requires",
            Expect::Proved if self.query.starts_with("prove write-only") => "write-only",
            Expect::Proved if self.query.starts_with("prove no-destroy") => "no-destroy",
            Expect::Proved => "no-public-access",
        }
    }
}

/// A whole check: each assertion's result, and the input errors that fail
/// it on their own (empty unless strict).
pub struct Report {
    pub results: Vec<CheckResult>,
    pub input_errors: Vec<Diagnostic>,
}

impl Report {
    pub fn holds(&self) -> bool {
        self.input_errors.is_empty() && self.results.iter().all(|r| r.holds)
    }

    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| !r.holds).count()
    }
}

pub struct CheckResult {
    pub assertion: Assertion,
    pub holds: bool,
    pub outcome: Outcome,
    /// Why a failed assertion failed, in one line.
    pub why: Option<String>,
}

fn error(file: &str, line: usize, column: usize, message: String) -> Diagnostic {
    Diagnostic::error(
        Span {
            file: file.into(),
            line,
            column,
            ..Span::default()
        },
        message,
    )
}

/// The assertions of a file; a line that is not one is an input error.
pub fn parse(text: &str, file: &str) -> Result<Vec<Assertion>, Diagnostic> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim_start();
        let indent = raw.len() - trimmed.len();
        let body = trimmed.trim_end();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let Some(rest) = body.strip_prefix("assert ") else {
            return Err(error(
                file,
                line,
                indent + 1,
                "expected `assert` followed by a property or a `can`/`not can` query".into(),
            ));
        };
        let rest = rest.trim_start();
        let at = indent + (body.len() - rest.len());
        let (query, expect, offset) = if let Some(q) = rest.strip_prefix("not can ") {
            (format!("can {q}"), Expect::NotCan, at + 4)
        } else if rest.starts_with("can ") {
            (rest.to_string(), Expect::Can, at)
        } else if rest.starts_with("prove ") {
            (rest.to_string(), Expect::Proved, at)
        } else if ["write-only ", "no-public-access ", "no-destroy "]
            .iter()
            .any(|p| rest.starts_with(p))
        {
            (format!("prove {rest}"), Expect::Proved, at - "prove ".len())
        } else {
            return Err(error(
                file,
                line,
                at + 1,
                "expected `write-only`, `no-public-access`, `no-destroy`, `prove … requires …`, `can` or `not can`".into(),
            ));
        };
        out.push(Assertion {
            line,
            text: rest.to_string(),
            query,
            expect,
            offset,
        });
    }
    Ok(out)
}

/// Answers every assertion; a query that cannot be answered is an input
/// error. `strict`: every load error of the estate fails the check too.
pub fn run(
    engine: &Engine,
    assertions: Vec<Assertion>,
    file: &str,
    opts: Options,
    strict: bool,
) -> Result<Report, Diagnostic> {
    let mut out = Vec::new();
    for a in assertions {
        let outcome = engine.answer(&a.query, opts).map_err(|e| {
            let column = (e.column + a.offset).max(1);
            error(file, a.line, column, e.message)
        })?;
        let (holds, why) = judge(a.expect, &outcome);
        out.push(CheckResult {
            assertion: a,
            holds,
            outcome,
            why,
        });
    }
    let input_errors = if strict {
        engine
            .estate
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    Ok(Report {
        results: out,
        input_errors,
    })
}

fn judge(expect: Expect, o: &Outcome) -> (bool, Option<String>) {
    use crate::datalog::Decision;
    let describe = |a: &query::Answer| {
        let via = if a.via.len() > 1 {
            format!(" via {}", a.via.join(" → "))
        } else {
            String::new()
        };
        let (d, kind) = a.decision.names();
        let d = kind.map_or_else(|| d.to_string(), |k| format!("{d} ({k})"));
        // An unknown answer fails the assertion: say what it turns on.
        let reason = match &a.reason {
            Some(r) if a.decision == Decision::Unknown && !r.is_empty() => {
                format!(" — {r}")
            }
            _ => String::new(),
        };
        format!(
            "{} {} {}{via}: {d}{reason}",
            a.principal, a.action, a.resource
        )
    };
    match expect {
        Expect::Proved => {
            let p = o.proof.as_ref().expect("a prove query has a proof");
            match p.result {
                ProofResult::Proved => (true, None),
                ProofResult::Refuted => {
                    let why = match (&p.counterexample, &p.reason) {
                        (Some((a, _)), _) => format!("refuted by {}", describe(a)),
                        (None, Some(r)) => format!("refuted: {r}"),
                        (None, None) => "refuted".into(),
                    };
                    (false, Some(why))
                }
                ProofResult::Unknown => (
                    false,
                    Some(format!("unknown: {}", p.reason.clone().unwrap_or_default())),
                ),
            }
        }
        Expect::Can => match o.answers.iter().find(|a| a.decision == Decision::Allow) {
            Some(_) => (true, None),
            None => (
                false,
                Some(match o.answers.first() {
                    Some(a) => describe(a),
                    None => "no answer".into(),
                }),
            ),
        },
        Expect::NotCan => match o.answers.iter().find(|a| a.decision.reaches()) {
            None => (true, None),
            Some(a) => (false, Some(describe(a))),
        },
    }
}
