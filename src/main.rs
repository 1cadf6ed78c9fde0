//! The `bucketlog` command line (cli.md). Only this file decides exit
//! statuses: 0 success, 1 a check or validation found problems, 2 the input
//! or the query could not be used.

use bucketlog::config::DefaultContext;
use bucketlog::diag::Severity;
use bucketlog::graph::{export, Shape};
use bucketlog::model::PolicyKind;
use bucketlog::query::{self, Options};
use bucketlog::{check, collect, load, report, synth, validate};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "bucketlog",
    version,
    about = "Who can read, write, list or administer your S3 data — exactly, with the statement that decides."
)]
struct Cli {
    /// A snapshot directory or a compact environment file; repeat to merge
    /// accounts. Without it, the built-in demo estate is used.
    #[arg(long, global = true)]
    env: Vec<PathBuf>,
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// List account root users in `who can` answers.
    #[arg(long, global = true)]
    include_root: bool,
    /// Take every context key a query does not name as absent, instead of free.
    #[arg(long, global = true)]
    closed_context: bool,
    /// A default context for `query` and `repl`, written as after `with`
    /// (`--context aws:SecureTransport=true`); repeat it for more keys. It
    /// comes after the `[context]` of bucketlog.toml; a query's own `with` wins.
    #[arg(long, global = true, value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// Text output of `who can`: every answer with its chain and statements,
    /// instead of one line per principal.
    #[arg(long, global = true)]
    chains: bool,
    /// Text output of `who can`: at most N principal lines (the summary
    /// still counts them all).
    #[arg(long, global = true, value_name = "N")]
    limit: Option<usize>,
    /// Without one: `repl` when stdin is a terminal, else this help.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    /// SARIF 2.1.0 (`check` only).
    Sarif,
    /// JUnit XML (`check` only).
    Junit,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GraphFormat {
    /// Graphviz.
    Dot,
    /// Node-link JSON (NetworkX's `node_link_data`).
    Json,
    Graphml,
    Mermaid,
    /// One self-contained interactive page.
    Html,
}

/// `bucketlog graph`'s options.
#[derive(Args)]
struct GraphArgs {
    /// Only this principal and the chains from it.
    #[arg(long, value_name = "PRINCIPAL")]
    from: Option<String>,
    /// Only this resource (bucket, bucket/prefix/*, …); without it,
    /// every bucket and every prefix the policies name.
    #[arg(long, value_name = "RESOURCE")]
    to: Option<String>,
    /// A verb or action to draw; repeat it for more [default: read,
    /// write, list, delete, admin].
    #[arg(long, value_name = "VERB")]
    verb: Vec<String>,
    /// Leave out chains of more than N role assumptions.
    #[arg(long, value_name = "N")]
    max_hops: Option<usize>,
    /// Draw at most N nodes (those with the most edges) and say so.
    #[arg(long, value_name = "N", default_value_t = 300)]
    max_nodes: usize,
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    graph_format: GraphFormat,
    /// Write to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// An interactive session: load once, then answer queries from memory
    /// (`:help` inside). The default when stdin is a terminal.
    Repl,
    /// Answer queries, one result per query.
    Query {
        #[arg(required = true)]
        queries: Vec<String>,
    },
    /// What a change does to access: each query answered on the estate of
    /// --env and on that of --env-new, and the requests whose answer
    /// changed; exit 1 when the new estate adds access.
    Diff {
        /// The changed estate (a snapshot directory or environment file;
        /// repeat to merge accounts).
        #[arg(long, required = true, value_name = "PATH")]
        env_new: Vec<PathBuf>,
        #[arg(required = true)]
        queries: Vec<String>,
    },
    /// Parse and lint every policy; exit 1 on any error.
    Validate,
    /// Check an assertion file (cli.md "Assertion files"); exit 1 when one fails.
    Check {
        file: PathBuf,
        /// Fail when any input of the estate did not load (always on for
        /// `--format sarif` and `--format junit`).
        #[arg(long)]
        strict: bool,
    },
    /// Draw who reaches what: principals, groups, roles and resource
    /// scopes, with member-of, can-assume and access edges by verb.
    Graph(GraphArgs),
    /// Write a snapshot of live accounts (docs/inputs.md's layout) by
    /// running read-only `aws` CLI calls (the list is in docs/cli.md).
    Collect {
        /// The snapshot directory to write.
        #[arg(short, long)]
        output: PathBuf,
        /// An AWS CLI profile; repeat it for more accounts [default: the
        /// CLI's default credentials].
        #[arg(long)]
        profile: Vec<String>,
        #[arg(long)]
        region: Option<String>,
        /// Another endpoint for every call (a test server, a VPC endpoint).
        #[arg(long, value_name = "URL")]
        endpoint_url: Option<String>,
        /// List the objects under BUCKET/PREFIX and read their ACLs; repeat
        /// it for more prefixes (never a whole bucket unless asked).
        #[arg(long, value_name = "BUCKET/PREFIX")]
        objects: Vec<String>,
        /// Keep the files already written; fetch only the others.
        #[arg(long)]
        resume: bool,
        /// Buckets fetched at a time (each `aws` call mostly waits).
        #[arg(long, default_value_t = 8)]
        jobs: usize,
        /// Also collect every account of the organization, by assuming the
        /// role of this name in each (from the first account's credentials).
        #[arg(long, value_name = "NAME")]
        assume_role: Option<String>,
    },
    /// Write a synthetic snapshot (benchmarks, demos).
    Synth {
        #[arg(long, default_value_t = 3)]
        accounts: usize,
        #[arg(long, default_value_t = 20)]
        users: usize,
        #[arg(long, default_value_t = 10)]
        roles: usize,
        #[arg(long, default_value_t = 5)]
        buckets: usize,
        /// Statements per policy.
        #[arg(long, default_value_t = 4)]
        statements: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(short, long)]
        output: PathBuf,
    },
}

impl Cli {
    fn options(&self) -> Options {
        Options {
            include_root: self.include_root,
            closed_context: self.closed_context,
        }
    }

    fn view(&self) -> report::View {
        report::View {
            chains: self.chains,
            limit: self.limit,
        }
    }

    /// The default context of `query` and `repl` (`config`); its error is
    /// reported here.
    fn default_context(&self) -> Result<DefaultContext, ExitCode> {
        bucketlog::config::default_context(&self.context).map_err(|e| {
            eprintln!("bucketlog: {e}");
            ExitCode::from(2)
        })
    }
}

/// `bucketlog repl`: the session keeps the global options as its defaults.
fn repl(cli: &Cli) -> ExitCode {
    let context = match cli.default_context() {
        Ok(c) => c,
        Err(status) => return status,
    };
    match bucketlog::repl::run(
        cli.env.clone(),
        cli.options(),
        cli.view(),
        cli.format == Format::Json,
        context,
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bucketlog: {e}");
            ExitCode::from(2)
        }
    }
}

/// `bucketlog graph`: the engine's answers drawn, to stdout or a file;
/// the graph's notes (collapsed principals, a cap) also go to stderr.
fn graph(engine: &query::Engine, opts: Options, args: &GraphArgs) -> ExitCode {
    let default: Vec<String> = ["read", "write", "list", "delete", "admin"]
        .map(String::from)
        .to_vec();
    let verbs = if args.verb.is_empty() {
        &default
    } else {
        &args.verb
    };
    let reach = match engine.reach(
        args.from.as_deref(),
        args.to.as_deref(),
        verbs,
        args.max_hops,
        opts,
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bucketlog: graph: {}", e.message);
            return ExitCode::from(2);
        }
    };
    let shape = Shape {
        max_nodes: args.max_nodes,
    };
    let g = bucketlog::graph::build(engine.estate, &reach, shape);
    for note in &g.notes {
        eprintln!("bucketlog: note: {note}");
    }
    let text = match args.graph_format {
        GraphFormat::Dot => export::dot(&g),
        GraphFormat::Json => export::json(&g),
        GraphFormat::Graphml => export::graphml(&g),
        GraphFormat::Mermaid => export::mermaid(&g),
        GraphFormat::Html => export::html(&g),
    };
    match &args.output {
        None => print!("{text}"),
        Some(path) => {
            if let Err(e) = std::fs::write(path, text) {
                eprintln!("bucketlog: {}: cannot write the graph: {e}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}

/// `bucketlog collect`: progress (buckets done of the account's total) and
/// a summary on stderr; exit 2 when an account could not be collected.
fn run_collect(output: &std::path::Path, opts: &collect::Options) -> ExitCode {
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} buckets")
            .expect("a valid template"),
    );
    let progress = |account: &str, done: usize, total: usize| {
        bar.set_message(format!("account {account}"));
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let result = collect::collect(output, opts, &progress);
    bar.finish_and_clear();
    match result {
        Ok(s) => {
            eprintln!(
                "bucketlog: collected {} account(s) ({}), {} bucket(s), {} file(s) into {}",
                s.accounts.len(),
                s.accounts.join(", "),
                s.buckets,
                s.files,
                output.display()
            );
            for (file, code) in &s.unreadable {
                eprintln!(
                    "bucketlog: {}: {code}: recorded as unreadable (answers that depend on it say unknown)",
                    file.display()
                );
            }
            for note in &s.notes {
                eprintln!("bucketlog: note: {note}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bucketlog: collect: {e}");
            ExitCode::from(2)
        }
    }
}

/// `bucketlog diff`: each query on both estates; exit 1 when one widens
/// access, 2 when a query cannot be answered.
fn diff(
    old: &query::Engine,
    new: &query::Engine,
    queries: &[String],
    opts: Options,
    format: Format,
) -> ExitCode {
    let mut widened = false;
    for q in queries {
        let (before, after) = match (old.answer(q, opts), new.answer(q, opts)) {
            (Ok(b), Ok(a)) => (b, a),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("bucketlog: query column {}: {}\n  {q}", e.column, e.message);
                return ExitCode::from(2);
            }
        };
        let changes = bucketlog::diff::changes(&before, &after);
        widened |= changes.iter().any(|c| c.widens());
        match format {
            Format::Json => println!("{}", report::diff_json(&before.query, &changes)),
            _ => print!("{}", report::diff_text(&before.query, &changes)),
        }
    }
    if widened {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn main() -> ExitCode {
    bucketlog::memory::set_up();
    // Output piped into `head` ends quietly, as Unix tools do, instead of
    // panicking on the closed pipe.
    // SAFETY: restores the default action of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let Some(command) = &cli.command else {
        if std::io::stdin().is_terminal() {
            return repl(&cli);
        }
        let _ = Cli::command().print_help();
        return ExitCode::from(2);
    };
    if let Command::Synth {
        accounts,
        users,
        roles,
        buckets,
        statements,
        seed,
        output,
    } = command
    {
        let size = synth::Size {
            accounts: *accounts,
            users: *users,
            roles: *roles,
            buckets: *buckets,
            statements: *statements,
            seed: *seed,
        };
        return match synth::write(&synth::generate(&size), output) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!(
                    "bucketlog: {}: cannot write the synthetic snapshot: {e}",
                    output.display()
                );
                ExitCode::from(2)
            }
        };
    }
    let is_check = matches!(command, Command::Check { .. });
    if !is_check && matches!(cli.format, Format::Sarif | Format::Junit) {
        eprintln!("bucketlog: --format sarif and --format junit apply to `check` only");
        return ExitCode::from(2);
    }
    if matches!(command, Command::Repl) {
        return repl(&cli);
    }
    if let Command::Collect {
        output,
        profile,
        region,
        endpoint_url,
        objects,
        resume,
        jobs,
        assume_role,
    } = command
    {
        let opts = collect::Options {
            profiles: profile.clone(),
            region: region.clone(),
            endpoint_url: endpoint_url.clone(),
            objects: objects.clone(),
            resume: *resume,
            jobs: *jobs,
            assume_role: assume_role.clone(),
        };
        return run_collect(output, &opts);
    }
    if cli.env.is_empty() {
        eprintln!("bucketlog: no --env given: using the built-in demo estate (examples/demo)");
    }
    let fail = |d: &bucketlog::diag::Diagnostic| {
        match cli.format {
            Format::Json => println!("{}", report::diagnostic_json(d)),
            _ => eprintln!("bucketlog: {d}"),
        }
        ExitCode::from(2)
    };
    let estate = match load::load_paths(&cli.env) {
        Ok(e) => e,
        Err(d) => return fail(&d),
    };
    // Compiled once: every query and assertion of this run reads it.
    let engine = query::Engine::new(&estate);
    let opts = cli.options();
    // Every load diagnostic goes to stderr, whatever the command's output.
    if !matches!(command, Command::Validate) {
        for d in &estate.diagnostics {
            eprintln!("bucketlog: {d}");
        }
    }
    let view = cli.view();
    match command {
        Command::Query { queries } => {
            let context = match cli.default_context() {
                Ok(c) => c,
                Err(status) => return status,
            };
            // A bad query is reported and the others are still answered.
            let mut failed = false;
            for q in queries {
                match engine.answer_in(q, opts, &context.items) {
                    Ok(o) => match cli.format {
                        Format::Json => report::print_outcome_json(&o),
                        _ => print!("{}", report::outcome_text(&o, view)),
                    },
                    Err(e) => {
                        match cli.format {
                            Format::Json => println!("{}", report::query_error_json(&e, q)),
                            _ => eprintln!(
                                "bucketlog: query column {}: {}\n  {q}\n  {:>w$}",
                                e.column,
                                e.message,
                                "^",
                                w = e.column.max(1)
                            ),
                        }
                        failed = true;
                    }
                }
            }
            if failed {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Synth { .. } | Command::Repl | Command::Collect { .. } => {
            unreachable!("handled before loading")
        }
        Command::Check { file, strict } => {
            let name = file.display().to_string();
            let text = match std::fs::read_to_string(file) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("bucketlog: {name}: cannot read the assertion file: {e}");
                    return ExitCode::from(2);
                }
            };
            let strict = *strict || matches!(cli.format, Format::Sarif | Format::Junit);
            let results = match check::parse(&text, &name)
                .and_then(|a| check::run(&engine, a, &name, opts, strict))
            {
                Ok(r) => r,
                Err(d) => return fail(&d),
            };
            match cli.format {
                Format::Text => print!("{}", report::check_text(&results)),
                Format::Json => println!("{}", report::check_json(&results, &name)),
                Format::Sarif => println!("{:#}", report::check_sarif(&results, &name)),
                Format::Junit => print!("{}", report::check_junit(&results, &name)),
            }
            if results.holds() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Command::Graph(args) => graph(&engine, opts, args),
        Command::Diff { env_new, queries } => {
            let new = match load::load_paths(env_new) {
                Ok(e) => e,
                Err(d) => return fail(&d),
            };
            for d in &new.diagnostics {
                eprintln!("bucketlog: {d}");
            }
            diff(
                &engine,
                &query::Engine::new(&new),
                queries,
                opts,
                cli.format,
            )
        }
        Command::Validate => {
            let mut all = estate.diagnostics.clone();
            all.extend(validate::lint(&estate));
            for d in &all {
                println!("{d}");
            }
            let errors = all.iter().filter(|d| d.severity == Severity::Error).count();
            let warnings = all.len() - errors;
            println!(
                "{errors} error(s), {warnings} warning(s) in {} policies",
                estate
                    .policies
                    .iter()
                    .filter(|p| !matches!(p.kind, PolicyKind::MfaDelete | PolicyKind::ObjectLock))
                    .count()
            );
            if errors > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}
