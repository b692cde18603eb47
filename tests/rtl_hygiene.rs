//! Every module under `rtl/` lints clean with `verilator --lint-only -Wall`
//! and elaborates with `read_slang` in the pinned Yosys, so a new module that
//! breaks either fails the suite.

use hlsk_tests::rtl::{is_package, module_name, run_in_root, sv_files, verilator, yosys};
use std::process::Command;

fn modules() -> Vec<String> {
    let files = sv_files();
    assert!(!files.is_empty(), "no .sv files found under rtl/");
    files
        .iter()
        .filter(|p| !is_package(p))
        .map(|p| module_name(p))
        .collect()
}

#[test]
fn every_module_lints_clean_with_verilator_wall() {
    let bin = verilator().unwrap_or_else(|e| panic!("{e}"));
    let files = sv_files();
    let mut failures = Vec::new();
    for m in modules() {
        let r = run_in_root(
            Command::new(&bin)
                .args(["--lint-only", "-Wall", "--top-module", &m])
                .args(&files),
        );
        match r {
            Ok(out) if out.contains("%Warning") => failures.push(format!("{m}:\n{out}")),
            Ok(_) => {}
            Err(out) => failures.push(format!("{m}:\n{out}")),
        }
    }
    assert!(
        failures.is_empty(),
        "verilator --lint-only -Wall:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_module_elaborates_with_read_slang() {
    let bin = yosys().unwrap_or_else(|e| panic!("{e}"));
    // YoWASP cannot see the host's /tmp: relative paths, cwd = repo root.
    let files: Vec<String> = sv_files().iter().map(|p| p.display().to_string()).collect();
    let mut failures = Vec::new();
    for m in modules() {
        let script = format!(
            "read_slang -j 1 --top {m} {}; hierarchy -check -top {m}",
            files.join(" ")
        );
        if let Err(out) = run_in_root(Command::new(&bin).args(["-q", "-p", &script])) {
            failures.push(format!("{m}:\n{out}"));
        }
    }
    assert!(failures.is_empty(), "read_slang:\n{}", failures.join("\n"));
}
