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

/// Lints `module` (with `-G` overrides `params`); the complaint, if any.
fn lint(
    bin: &std::path::Path,
    files: &[std::path::PathBuf],
    module: &str,
    params: &[String],
) -> Option<String> {
    let r = run_in_root(
        Command::new(bin)
            .args(["--lint-only", "-Wall", "--top-module", module])
            .args(params)
            .args(files),
    );
    match r {
        Ok(out) if !out.contains("%Warning") => None,
        Ok(out) | Err(out) => Some(format!("{module} {params:?}:\n{out}")),
    }
}

#[test]
fn every_module_lints_clean_with_verilator_wall() {
    let bin = verilator().unwrap_or_else(|e| panic!("{e}"));
    let files = sv_files();
    let mut failures = Vec::new();
    for m in modules() {
        failures.extend(lint(&bin, &files, &m, &[]));
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

/// Corner parameter sets (beyond the defaults) that must lint clean too:
/// sizes where counters are one or two bits wide and comparisons against
/// constants become degenerate.
const CORNERS: &[(&str, &[(&str, u32)])] = &[
    ("hlsk_fifo_sync", &[("Depth", 1)]),
    ("hlsk_fifo_sync", &[("Depth", 2)]),
    ("hlsk_fifo_sync", &[("Depth", 3)]),
    ("hlsk_fifo_sync", &[("Depth", 5), ("Width", 1)]),
    ("hlsk_ram_1r1w", &[("Depth", 2)]),
    ("hlsk_ram_1r1w", &[("Depth", 3), ("Width", 1)]),
    ("tlmm_act_buffer", &[("KMax", 1)]),
    ("tlmm_act_buffer", &[("KMax", 3)]),
    ("tlmm_act_buffer", &[("KMax", 4)]),
    ("hlsk_uart_rx", &[("ClksPerBit", 2)]),
    ("hlsk_uart_tx", &[("ClksPerBit", 2)]),
    ("hlsk_uart_rx", &[("ClksPerBit", 3)]),
    // T = 1 (one-lane beats, one-bit lane indices), P = 2..5 (P not a
    // power of two, P above the tile), buffers of one to a few entries
    // (one-bit addresses), accumulators at both ends of 32..64.
    (
        "conv_engine",
        &[
            ("T", 1),
            ("P", 2),
            ("InWords", 8),
            ("WWords", 9),
            ("OutEnt", 4),
            ("GEnt", 2),
        ],
    ),
    (
        "conv_engine",
        &[
            ("T", 1),
            ("P", 3),
            ("InWords", 4),
            ("WWords", 9),
            ("OutEnt", 3),
            ("GEnt", 1),
        ],
    ),
    (
        "conv_engine",
        &[
            ("T", 1),
            ("P", 4),
            ("AccW", 64),
            ("AccWWu", 64),
            ("InWords", 2),
            ("WWords", 1),
            ("OutEnt", 2),
            ("GEnt", 2),
        ],
    ),
    (
        "conv_engine",
        &[
            ("T", 1),
            ("P", 5),
            ("AccW", 32),
            ("AccWWu", 32),
            ("InWords", 1),
            ("WWords", 1),
            ("OutEnt", 1),
            ("GEnt", 1),
        ],
    ),
    // The SoC with the convolution engine (the ULX3S build).
    (
        "hlsk_soc_top",
        &[("Conv", 1), ("T", 2), ("P", 8), ("MemWords", 4096)],
    ),
];

#[test]
fn corner_parameter_sets_lint_clean_with_verilator_wall() {
    let bin = verilator().unwrap_or_else(|e| panic!("{e}"));
    let files = sv_files();
    let known = modules();
    let mut failures = Vec::new();
    for (m, params) in CORNERS {
        assert!(known.iter().any(|k| k == m), "no module {m} under rtl/");
        let gs: Vec<String> = params.iter().map(|(k, v)| format!("-G{k}={v}")).collect();
        failures.extend(lint(&bin, &files, m, &gs));
    }
    assert!(
        failures.is_empty(),
        "verilator --lint-only -Wall:\n{}",
        failures.join("\n")
    );
}
