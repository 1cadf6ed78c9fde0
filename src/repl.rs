//! `bucketlog repl` (issue 12): one estate loaded and compiled once, then
//! every query form of cli.md answered from memory, with rustyline's line
//! editing — completion of query words, principals, buckets and their
//! prefixes, actions and context keys; a hint of the rest of the query's
//! shape; history in the user's data directory — and meta-commands for
//! the session (`:help`, `:load`, `:reload`, `:set …`, `:stats`, `:quit`).

use crate::catalog::{Catalog, VERBS};
use crate::config::DefaultContext;
use crate::load;
use crate::model::Estate;
use crate::query::{self, Engine, Options};
use crate::report::{self, View};
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Editor, Helper, Highlighter};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const PROMPT: &str = "bucketlog> ";

/// Words a query is made of, besides names from the estate.
const QUERY_WORDS: &[&str] = &[
    "can",
    "who",
    "why",
    "not",
    "what",
    "do",
    "on",
    "with",
    "path",
    "to",
    "public",
    "prove",
    "write-only",
    "no-public-access",
    "no-destroy",
    "requires",
    "show",
    "principal",
    "bucket",
    "policy",
    "help",
    "absent",
];

const META: &[&str] = &[
    ":help",
    ":load",
    ":reload",
    ":set",
    ":unset",
    ":stats",
    ":quit",
    "format",
    "context",
    "closed-context",
    "text",
    "json",
    "on",
    "off",
];

/// The shape of each query form, for hints and `:help`, with an example.
const FORMS: &[(&str, &str, &str)] = &[
    ("who can", "ACTION RESOURCE [with KEY = VALUE, …]", "who can read example-upload-bucket/incoming/*"),
    ("can", "PRINCIPAL ACTION RESOURCE [with KEY = VALUE, …]", "can role/partner-uploader write example-upload-bucket/incoming/x"),
    ("why", "[not] PRINCIPAL ACTION RESOURCE [with KEY = VALUE, …]", "why user/backup s3:ListBucket backups"),
    ("what can", "PRINCIPAL do [on RESOURCE]", "what can user/partner-bot do on example-upload-bucket/*"),
    ("path", "PRINCIPAL to [ACTION] RESOURCE", "path user/partner-bot to write example-upload-bucket/incoming/x"),
    ("public", "[BUCKET]", "public example-upload-bucket"),
    ("prove", "write-only PRINCIPAL on RESOURCE | no-public-access BUCKET | no-destroy BUCKET | PRINCIPAL ACTION RESOURCE requires KEY OP VALUE", "prove write-only role/partner-uploader on example-upload-bucket/incoming/*"),
    ("show", "principal|bucket|policy NAME", "show principal user/partner-bot"),
];

/// Completion and hints from the loaded estate's names.
#[derive(Helper, Highlighter)]
struct Words {
    /// Principals (ARN, `user/…`, `role/…`), buckets, access points
    /// (`ap:NAME/`), bucket/prefix/ seen in policies, actions and verbs,
    /// query words: completed anywhere.
    names: Vec<String>,
    /// Condition keys: completed after `with`.
    keys: Vec<String>,
}

impl Words {
    fn of(estate: &Estate) -> Words {
        let mut names: Vec<String> = QUERY_WORDS
            .iter()
            .chain(VERBS.iter())
            .map(|s| s.to_string())
            .collect();
        for a in &Catalog::get().actions {
            names.push(a.name.clone());
        }
        for p in &estate.principals {
            names.push(p.arn.clone());
            names.extend(p.short_name());
        }
        for b in &estate.buckets {
            names.push(b.name.clone());
        }
        for ap in &estate.access_points {
            names.push(format!("ap:{}/", ap.name));
        }
        names.extend(estate.policy_prefixes());
        names.extend(META.iter().map(|s| s.to_string()));
        names.sort();
        names.dedup();
        let keys = Catalog::get()
            .key_names()
            .into_iter()
            .map(str::to_string)
            .collect();
        Words { names, keys }
    }
}

impl Completer for Words {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = line[..pos]
            .rfind([' ', '\t', ',', '['])
            .map_or(0, |i| i + 1);
        let word = &line[start..pos];
        let after_with = line[..start].split_whitespace().any(|w| w == "with");
        let pool = if after_with && !word.is_empty() {
            &self.keys
        } else {
            &self.names
        };
        let found = pool
            .iter()
            .filter(|n| n.starts_with(word) && !word.is_empty())
            .map(|n| Pair {
                display: n.clone(),
                replacement: n.clone(),
            })
            .collect();
        Ok((start, found))
    }
}

impl Hinter for Words {
    type Hint = String;

    /// The rest of the query's shape once its form is known (`can ` →
    /// `PRINCIPAL ACTION RESOURCE …`), shown after the cursor.
    fn hint(&self, line: &str, pos: usize, _: &Context<'_>) -> Option<String> {
        if pos < line.len() || !line.ends_with(' ') {
            return None;
        }
        let typed = line.trim_start();
        FORMS
            .iter()
            .find_map(|(form, shape, _)| (typed == format!("{form} ")).then(|| shape.to_string()))
    }
}

impl Validator for Words {
    /// A line ending in `\` continues on the next.
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if ctx.input().ends_with('\\') {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}

/// What the session keeps between queries.
struct Session {
    paths: Vec<PathBuf>,
    json: bool,
    opts: Options,
    view: View,
    context: DefaultContext,
    colour: bool,
}

/// One loaded estate, with what `:stats` reports.
struct Loaded {
    estate: Estate,
    load: Duration,
}

fn load_estate(paths: &[PathBuf]) -> Result<Loaded, String> {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message("loading the snapshot…");
    bar.enable_steady_tick(Duration::from_millis(120));
    let start = Instant::now();
    let estate = load::load_paths(paths).map_err(|d| d.to_string());
    bar.finish_and_clear();
    let estate = estate?;
    for d in &estate.diagnostics {
        eprintln!("bucketlog: {d}");
    }
    Ok(Loaded {
        estate,
        load: start.elapsed(),
    })
}

/// Peak resident memory of this process, in MiB.
fn peak_rss_mib() -> f64 {
    // SAFETY: getrusage fills the struct it is given and reads nothing else.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    };
    usage.ru_maxrss as f64 / 1024.0
}

/// The decision words coloured: allow green, deny red, conditional yellow,
/// unknown magenta.
fn coloured(text: &str) -> String {
    use anstyle::AnsiColor::*;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let word = line.split_whitespace().next().unwrap_or_default();
        let colour = match word {
            "allow" => Some(Green),
            "deny" => Some(Red),
            "conditional" => Some(Yellow),
            "unknown" | "unknown:" => Some(Magenta),
            _ => None,
        };
        match (colour, line.find(word)) {
            (Some(c), Some(at)) if !word.is_empty() => {
                let style = anstyle::Style::new().fg_color(Some(c.into()));
                out.push_str(&line[..at]);
                out.push_str(&format!("{style}{word}{style:#}"));
                out.push_str(&line[at + word.len()..]);
            }
            _ => out.push_str(line),
        }
    }
    out
}

fn help(topic: &str) -> String {
    let mut out = String::new();
    for (form, shape, example) in FORMS
        .iter()
        .filter(|(f, ..)| topic.is_empty() || f.contains(topic))
    {
        out.push_str(&format!("  {form} {shape}\n      e.g. {example}\n"));
    }
    if topic.is_empty() {
        out.push_str(
            "  :load PATH | :reload | :set format text|json | :set context KEY = VALUE, … | :unset context\n  \
             :set closed-context on|off | :set chains on|off | :stats | :quit (or Ctrl-D)\n  \
             A line ending in \\ continues on the next; Tab completes names; Ctrl-C cancels the line.\n",
        );
    }
    if out.is_empty() {
        out = format!("  no help on `{topic}`: try :help alone\n");
    }
    out
}

/// Why the session leaves its read loop.
enum End {
    Reload,
    Quit,
}

impl Session {
    fn print(&self, text: &str) {
        if self.colour && !self.json {
            print!("{}", coloured(text));
        } else {
            print!("{text}");
        }
    }

    /// One meta-command; `Some` when the session must reload or end.
    fn meta(
        &mut self,
        line: &str,
        loaded: &Loaded,
        (engine, compile): (&Engine, Duration),
    ) -> Option<End> {
        let mut words = line.splitn(3, char::is_whitespace);
        let (cmd, arg, rest) = (
            words.next().unwrap_or_default(),
            words.next().unwrap_or_default(),
            words.next().unwrap_or_default().trim(),
        );
        match (cmd, arg) {
            (":quit" | ":q" | ":exit", _) => return Some(End::Quit),
            (":help", topic) => self.print(&help(topic)),
            (":reload", _) => return Some(End::Reload),
            (":load", "") => eprintln!(
                "bucketlog: :load needs a path (a snapshot directory or an environment file)"
            ),
            (":load", path) => {
                let mut paths = vec![PathBuf::from(path)];
                paths.extend(rest.split_whitespace().map(PathBuf::from));
                self.paths = paths;
                return Some(End::Reload);
            }
            (":set", "format") => match rest {
                "text" => self.json = false,
                "json" => self.json = true,
                _ => eprintln!("bucketlog: :set format text|json"),
            },
            (":set", "closed-context" | "chains") => match rest {
                "on" | "off" => {
                    let on = rest == "on";
                    if arg == "chains" {
                        self.view.chains = on;
                    } else {
                        self.opts.closed_context = on;
                    }
                }
                _ => eprintln!("bucketlog: :set {arg} on|off"),
            },
            (":set", "context") => match query::parse_context(rest) {
                Ok(items) => {
                    self.context = DefaultContext {
                        items,
                        text: rest.to_string(),
                    };
                    println!("  context: {rest} (for every can, why and who can that does not name the key)");
                }
                Err(e) => eprintln!(
                    "bucketlog: column {}: {}\n  {rest}\n  {:>w$}",
                    e.column,
                    e.message,
                    "^",
                    w = e.column.max(1)
                ),
            },
            (":unset", "context") => {
                self.context = DefaultContext::default();
            }
            (":stats", _) => {
                let e = &loaded.estate;
                let statements: usize = e
                    .policies
                    .iter()
                    .filter_map(|p| p.body.as_ref().ok())
                    .map(|b| b.statements.len())
                    .sum();
                println!(
                    "  {} account(s), {} principal(s) in {} class(es), {} bucket(s), {} policies, {} statements\n  \
                     loaded in {:.0} ms, compiled in {:.0} ms; peak memory {:.0} MiB\n  \
                     format {}, closed context {}, context: {}",
                    e.accounts.len(),
                    e.principals.len(),
                    engine.index.classes.count(),
                    e.buckets.len(),
                    e.policies.len(),
                    statements,
                    loaded.load.as_secs_f64() * 1000.0,
                    compile.as_secs_f64() * 1000.0,
                    peak_rss_mib(),
                    if self.json { "json" } else { "text" },
                    if self.opts.closed_context { "on" } else { "off" },
                    if self.context.text.is_empty() { "none" } else { &self.context.text },
                );
            }
            _ => eprintln!("bucketlog: unknown command `{line}`: try :help"),
        }
        None
    }

    fn query(&self, engine: &Engine, line: &str) {
        match engine.answer_in(line, self.opts, &self.context.items) {
            Ok(o) if self.json => report::print_outcome_json(&o),
            Ok(o) => self.print(&report::outcome_text(&o, self.view)),
            Err(e) => eprintln!(
                "  {line}\n  {:>w$} column {}: {}",
                "^",
                e.column,
                e.message,
                w = e.column.max(1)
            ),
        }
    }
}

fn history_file() -> Option<PathBuf> {
    let dir = dirs::data_dir()?.join("bucketlog");
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir.join("history"))
}

/// Runs the session until `:quit` or Ctrl-D; `Err` when the first load fails.
pub fn run(
    paths: Vec<PathBuf>,
    opts: Options,
    view: View,
    json: bool,
    context: DefaultContext,
) -> Result<(), String> {
    let mut session = Session {
        paths,
        json,
        opts,
        view,
        context,
        colour: std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let config = rustyline::Config::builder().auto_add_history(true).build();
    let mut editor: Editor<Words, rustyline::history::DefaultHistory> =
        Editor::with_config(config).map_err(|e| e.to_string())?;
    let history = history_file();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    let mut loaded = load_estate(&session.paths)?;
    loop {
        if session.paths.is_empty() {
            eprintln!("bucketlog: no --env given: using the built-in demo estate (examples/demo)");
        }
        editor.set_helper(Some(Words::of(&loaded.estate)));
        println!(
            "bucketlog: {} principal(s), {} bucket(s) — :help for the query forms, Ctrl-D to quit",
            loaded.estate.principals.len(),
            loaded.estate.buckets.len()
        );
        let end = {
            let start = Instant::now();
            let engine = Engine::new(&loaded.estate);
            let compile = start.elapsed();
            loop {
                let line = match editor.readline(PROMPT) {
                    Ok(l) => l.replace("\\\n", " "),
                    Err(ReadlineError::Interrupted) => continue,
                    Err(ReadlineError::Eof) => break End::Quit,
                    Err(e) => {
                        eprintln!("bucketlog: {e}");
                        break End::Quit;
                    }
                };
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                if line.starts_with(':') {
                    match session.meta(line, &loaded, (&engine, compile)) {
                        Some(end) => break end,
                        None => continue,
                    }
                }
                session.query(&engine, line);
            }
        };
        if let Some(h) = &history {
            let _ = editor.save_history(h);
        }
        match end {
            End::Quit => return Ok(()),
            End::Reload => match load_estate(&session.paths) {
                Ok(l) => loaded = l,
                Err(e) => eprintln!("bucketlog: {e} (the previous estate stays loaded)"),
            },
        }
    }
}
