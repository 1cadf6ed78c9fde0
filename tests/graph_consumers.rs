//! `bucketlog graph`'s exports read by the programs they are for, as
//! `scripts/setup.sh --test` installs them: Graphviz `dot` renders every
//! DOT; NetworkX loads the GraphML and the node-link JSON with the same
//! nodes and edges; headless Chromium opens the HTML page, whose own check
//! says every node was laid out, and its screenshot is not blank; Mermaid
//! renders the Mermaid in Chromium. On the demo estate and on a synthetic
//! one with groups, chains and look-alike users.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_bucketlog");
/// Debian's Python, with python3-networkx (a pyenv `python3` may come first on the PATH).
const PYTHON: &str = "/usr/bin/python3";

fn tool(name: &str) -> &str {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{name}` is not installed: run `bash scripts/setup.sh --test` (it installs the graph consumers)"
    );
    name
}

/// Runs a command and returns its stdout, failing the test with its stderr.
fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("the program starts");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The estates the graphs are drawn from: the demo (no --env) and a
/// synthetic snapshot written by `bucketlog synth`.
fn estates(dir: &Path) -> Vec<(&'static str, Vec<String>)> {
    let synth = dir.join("synth");
    run(Command::new(BIN)
        .args(["synth", "--seed", "6", "-o"])
        .arg(&synth));
    vec![
        ("demo", Vec::new()),
        (
            "synth",
            vec![
                "--env".into(),
                synth.display().to_string(),
                "--max-nodes".into(),
                "60".into(),
            ],
        ),
    ]
}

fn graph(args: &[String], format: &str, out: &Path) {
    run(Command::new(BIN)
        .arg("graph")
        .args(args)
        .args(["--graph-format", format, "-o"])
        .arg(out));
}

#[test]
fn graphviz_renders_every_dot_without_a_complaint() {
    let dir = TempDir::new().unwrap();
    for (name, args) in estates(dir.path()) {
        for extra in [
            vec![],
            vec!["--from".to_string(), "user/partner-bot".into()],
        ] {
            if name == "synth" && !extra.is_empty() {
                continue;
            }
            let dot = dir.path().join(format!("{name}.dot"));
            let mut all = args.clone();
            all.extend(extra);
            graph(&all, "dot", &dot);
            let out = Command::new(tool("dot"))
                .arg("-Tsvg")
                .arg(&dot)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success() && stderr.trim().is_empty(),
                "{name}: {stderr}"
            );
            let svg = String::from_utf8(out.stdout).unwrap();
            assert!(
                svg.contains("<svg") && svg.contains("class=\"cluster\""),
                "{name}"
            );
        }
    }
}

/// NetworkX reads both exports as the same multigraph.
#[test]
fn networkx_loads_the_graphml_and_the_node_link_json_alike() {
    let dir = TempDir::new().unwrap();
    let script = r#"
import json, sys
import networkx as nx
from networkx.readwrite import json_graph
ml = nx.read_graphml(sys.argv[1])
with open(sys.argv[2]) as f:
    data = json.load(f)
assert set(data) >= {"directed", "multigraph", "graph", "nodes", "links"}, set(data)
nl = json_graph.node_link_graph(data)
assert nl.is_directed() and nl.is_multigraph()
assert nl.number_of_nodes() == ml.number_of_nodes() > 0
assert nl.number_of_edges() == ml.number_of_edges() > 0
kinds = {d["kind"] for _, d in ml.nodes(data=True)}
assert kinds & {"bucket", "prefix"}, kinds
for u, v, d in nl.edges(data=True):
    assert d["decision"] in ("allow", "conditional", "unknown"), d
    assert d["kind"] in ("member-of", "can-assume", "access"), d
print(nl.number_of_nodes(), nl.number_of_edges())
"#;
    for (name, args) in estates(dir.path()) {
        let ml = dir.path().join(format!("{name}.graphml"));
        let js = dir.path().join(format!("{name}.json"));
        graph(&args, "graphml", &ml);
        graph(&args, "json", &js);
        let counts = run(Command::new(tool(PYTHON))
            .args(["-c", script])
            .arg(&ml)
            .arg(&js));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&js).unwrap()).unwrap();
        assert_eq!(
            counts.trim(),
            format!(
                "{} {}",
                json["nodes"].as_array().unwrap().len(),
                json["links"].as_array().unwrap().len()
            ),
            "{name}"
        );
    }
}

fn chromium(dir: &Path, args: &[&str], page: &Path) -> String {
    run(Command::new(tool("chromium"))
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=20000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.join("chromium").display()
        ))
        .args(args)
        .arg(format!("file://{}", page.display())))
}

/// The share of pixels that are not the page's white, and how many colours.
fn ink(png_path: &Path) -> (f64, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(step).collect();
    let inked = pixels.iter().filter(|p| p[..3] != [255, 255, 255]).count();
    let colours: std::collections::HashSet<&[u8]> = pixels.iter().map(|p| &p[..3]).collect();
    (inked as f64 / pixels.len() as f64, colours.len())
}

#[test]
fn chromium_lays_out_every_node_of_the_html_page_and_draws_it() {
    let dir = TempDir::new().unwrap();
    for (name, args) in estates(dir.path()) {
        let page = dir.path().join(format!("{name}.html"));
        graph(&args, "html", &page);
        let js = dir.path().join(format!("{name}.json"));
        graph(&args, "json", &js);
        let nodes =
            serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&js).unwrap())
                .unwrap()["nodes"]
                .as_array()
                .unwrap()
                .len();
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(
            !html.contains("<script src") && !html.contains("<link"),
            "{name}: the page loads nothing"
        );
        let dom = chromium(dir.path(), &["--dump-dom"], &page);
        let check = format!("data-check=\"ok\" data-nodes=\"{nodes}\"");
        assert!(
            dom.contains(&check),
            "{name}: the page's own check: {}",
            dom.lines()
                .find(|l| l.contains("id=\"check\""))
                .unwrap_or("no check element")
        );
        let shot: PathBuf = dir.path().join(format!("{name}.png"));
        chromium(
            dir.path(),
            &[
                "--window-size=1280,800",
                &format!("--screenshot={}", shot.display()),
            ],
            &page,
        );
        let (share, colours) = ink(&shot);
        assert!(
            share > 0.02 && colours > 16,
            "{name}: screenshot looks blank: {share:.3} inked, {colours} colours"
        );
    }
}

#[test]
fn mermaid_renders_the_mermaid_export() {
    let dir = TempDir::new().unwrap();
    let lib = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/consumers/node_modules/mermaid/dist/mermaid.min.js");
    assert!(
        lib.exists(),
        "Mermaid is not installed: run `bash scripts/setup.sh --test`"
    );
    for (name, args) in estates(dir.path()) {
        let mmd = dir.path().join(format!("{name}.mmd"));
        graph(&args, "mermaid", &mmd);
        let text = std::fs::read_to_string(&mmd).unwrap();
        let escaped = text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let page = dir.path().join(format!("{name}-mermaid.html"));
        std::fs::write(
            &page,
            format!(
                r#"<!DOCTYPE html><html><body><pre class="mermaid">{escaped}</pre>
<div id="result">pending</div>
<script src="file://{}"></script>
<script>
mermaid.initialize({{ startOnLoad: false, maxTextSize: 10000000, maxEdges: 100000 }});
mermaid.run({{ querySelector: ".mermaid" }})
  .then(() => {{ document.getElementById("result").textContent = "rendered " + document.querySelectorAll("svg g.node").length + " nodes"; }})
  .catch((e) => {{ document.getElementById("result").textContent = "error: " + e; }});
</script></body></html>"#,
                lib.display()
            ),
        )
        .unwrap();
        let dom = chromium(dir.path(), &["--dump-dom"], &page);
        let result = dom
            .lines()
            .find(|l| l.contains("id=\"result\""))
            .unwrap_or("no result element");
        // Node lines: `n12[[...]]`, `n3([...])`, …; edges have a space after the id.
        let drawn = text
            .lines()
            .filter(|l| {
                let id = l.trim_start().trim_start_matches('n');
                l.trim_start().starts_with('n')
                    && id
                        .trim_start_matches(|c: char| c.is_ascii_digit())
                        .starts_with(['[', '(', '{'])
            })
            .count();
        assert!(
            result.contains(&format!("rendered {drawn} nodes")),
            "{name}: {result}"
        );
    }
}
