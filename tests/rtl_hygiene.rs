//! Every module under `rtl/` lints clean with `verilator --lint-only -Wall`,
//! elaborates with `read_slang` in the pinned Yosys and assigns every
//! `always_comb` variable on every path (`hlsk_rtl_lint`: Yosys `proc;
//! check`, which Verilator's LATCH warning does not replace), so a new module
//! that breaks any of these fails the suite.

use hlsk_rtl_lint::{CORNERS, Design, Problem, comb_check};
use hlsk_tests::rtl::{
    is_package, module_name, repo_root, run_in_root, sv_files, verilator, yosys,
};
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

/// The sources as `hlsk_rtl_lint` takes them: relative to the repository root.
fn sv_paths() -> Vec<String> {
    sv_files().iter().map(|p| p.display().to_string()).collect()
}

/// Every module elaborated with its defaults (all of them as tops of one
/// design, each also as its parents instantiate it), and the SoC with the
/// convolution engine (its corner: the ULX3S build), must have no
/// combinational loop: no `always_comb` variable that keeps its old value
/// on some path. (The other corners would add over 10 s; their generate branches
/// are linted by Verilator only.)
#[test]
fn every_always_comb_variable_is_assigned_on_every_path() {
    let bin = yosys().unwrap_or_else(|e| panic!("{e}"));
    let all = Design {
        dir: repo_root(),
        files: sv_paths(),
        tops: modules(),
        params: vec![],
    };
    let corners = CORNERS
        .iter()
        .filter(|(m, _)| *m == "hlsk_soc_top")
        .map(|(m, params)| Design {
            tops: vec![m.to_string()],
            params: params.iter().map(|&(k, v)| (k.to_owned(), v)).collect(),
            ..all.clone()
        });
    let mut failures = Vec::new();
    for d in std::iter::once(all.clone()).chain(corners) {
        let problems =
            comb_check(&bin, &d).unwrap_or_else(|e| panic!("{:?} {:?}: {e}", d.tops, d.params));
        failures.extend(problems.iter().map(|p| format!("{p}")));
    }
    assert!(
        failures.is_empty(),
        "Yosys proc; check (always_comb variables without a default):\n{}",
        failures.join("\n")
    );
}

/// The mutant that survived both Verilator and the tests (issue 16): drop
/// the default `src_d = src_q;` from `hlsk_soc_ctrl`'s `always_comb`. The
/// lint must name `src_d` at its declaration.
#[test]
fn a_dropped_always_comb_default_is_flagged_with_variable_and_line() {
    let bin = yosys().unwrap_or_else(|e| panic!("{e}"));
    let ctrl = "rtl/soc/hlsk_soc_ctrl.sv";
    let text = std::fs::read_to_string(repo_root().join(ctrl)).expect("read hlsk_soc_ctrl");
    let default = "    src_d    = src_q;\n";
    assert_eq!(
        text.matches(default).count(),
        1,
        "{ctrl}: `{default}` moved"
    );
    let decl_line = 1 + text
        .lines()
        .position(|l| l.trim_start().starts_with("src_e") && l.contains("src_d;"))
        .expect("src_d declared as `src_e src_q, src_d;`");

    // A copy of the packages and the mutated module; YoWASP sees only its
    // working directory.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("comb_lint_mutant");
    let mut files: Vec<String> = sv_paths()
        .into_iter()
        .filter(|f| f.ends_with("_pkg.sv"))
        .collect();
    files.push(ctrl.into());
    for f in &files {
        let to = dir.join(f);
        std::fs::create_dir_all(to.parent().expect("rtl/<kernel>/")).expect("mkdir");
        let src = std::fs::read_to_string(repo_root().join(f)).expect("read source");
        let src = if f == ctrl {
            src.replacen(default, "", 1)
        } else {
            src
        };
        std::fs::write(&to, src).expect("write the copy");
    }
    let problems = comb_check(
        &bin,
        &Design {
            dir,
            files,
            tops: vec!["hlsk_soc_ctrl".into()],
            params: vec![],
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));

    let [p @ Problem::Loop { signals, .. }] = &problems[..] else {
        panic!("want one loop through src_d, got {problems:?}");
    };
    assert_eq!(signals, &["src_d"], "{p}");
    let msg = p.to_string();
    assert!(
        msg.starts_with(&format!(
            "{ctrl}:{decl_line}: `src_d` is not assigned on every path"
        )),
        "{msg}"
    );
}
