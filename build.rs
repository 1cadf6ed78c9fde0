//! Build steps: the Datalog program in `rules/` becomes one `crepe!` block
//! (files in name order, each marked so a compile error can be traced to its
//! file), and `grammar/query.lalrpop` becomes the query parser.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));

    let mut files: Vec<PathBuf> = std::fs::read_dir("rules")
        .expect("rules/ exists")
        .map(|e| e.expect("readable rules/ entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "dl"))
        .collect();
    files.sort();
    let mut program = String::from("crepe::crepe! {\n");
    for f in &files {
        let text = std::fs::read_to_string(f).expect("readable rule file");
        writeln!(program, "// ---- from {} ----\n{text}", f.display()).expect("write to String");
    }
    program.push_str("}\n");
    std::fs::write(out.join("rules.rs"), program).expect("write generated rules");
    println!("cargo:rerun-if-changed=rules");

    lalrpop::Configuration::new()
        .set_in_dir("grammar")
        .set_out_dir(&out)
        .emit_rerun_directives(true)
        .process()
        .expect("grammar/query.lalrpop compiles");
}
