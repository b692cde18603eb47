//! The FuseSoC cores (`rtl/**/*.core`, `docs/fusesoc.md`) through the
//! pinned FuseSoC of the project venv: `core list` finds every block's core
//! and no core file fails to parse; every `.sv` file under `rtl/` is in the
//! fileset of some core, so a new RTL file without a core fails here; and
//! every core's `lint` target (plus the SoC's `lint_conv` and `lint_kernel`)
//! runs `verilator --lint-only -Wall` clean, as does the TLMM engine's `lint`
//! run exactly as `docs/fusesoc.md` tells a user to.
//!
//! FuseSoC is `.venv/bin/fusesoc` (or `$HLSK_TOOLS_BIN/fusesoc`); missing, it
//! fails the test with a `make setup` hint. It runs from the repository root
//! with `--cores-root rtl` and a configuration file, cache and build root in
//! a temporary directory, so the user's FuseSoC configuration is neither
//! read nor written.

use hlsk_boards::Tools;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Every core the repository provides: one per reusable block, the SoC on top.
const EXPECTED_CORES: &[&str] = &[
    "hlsk:common:fifo_sync:0.1.0",
    "hlsk:common:skid_buffer:0.1.0",
    "hlsk:common:ram_1r1w:0.1.0",
    "hlsk:common:uart_rx:0.1.0",
    "hlsk:common:uart_tx:0.1.0",
    "hlsk:tlmm:pkg:0.1.0",
    "hlsk:tlmm:lane:0.1.0",
    "hlsk:tlmm:table_build:0.1.0",
    "hlsk:tlmm:table_ram:0.1.0",
    "hlsk:tlmm:act_buffer:0.1.0",
    "hlsk:tlmm:weight_feeder:0.1.0",
    "hlsk:tlmm:os_engine:0.1.0",
    "hlsk:tlmm:ts_engine:0.1.0",
    "hlsk:conv:engine:0.1.0",
    "hlsk:soc:top:0.1.0",
];

/// Lint targets beyond each core's `lint`: the SoC with the convolution
/// engine and without the host link (different generate branches).
const EXTRA_LINT_TARGETS: &[(&str, &str)] = &[
    ("hlsk:soc:top:0.1.0", "lint_conv"),
    ("hlsk:soc:top:0.1.0", "lint_kernel"),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo")
        .to_owned()
}

/// Files under `rtl/` with extension `ext`, sorted.
fn rtl_files(ext: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![root().join("rtl")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read rtl/").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// The directory holding `verilator`, which edalize's generated Makefile
/// runs from `PATH`: `$VERILATOR`'s, `$VERILATOR_ROOT/bin`, else `PATH`'s.
fn verilator_dir() -> PathBuf {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(v) = std::env::var_os("VERILATOR") {
        candidates.push(v.into());
    }
    if let Some(r) = std::env::var_os("VERILATOR_ROOT") {
        candidates.push(Path::new(&r).join("bin/verilator"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("verilator")));
    }
    candidates
        .into_iter()
        .find(|p| p.is_file() && p.file_name().is_some_and(|n| n == "verilator"))
        .and_then(|p| p.parent().map(Path::to_owned))
        .unwrap_or_else(|| {
            panic!(
                "verilator not found ($VERILATOR, $VERILATOR_ROOT/bin, PATH); \
                 run `make setup` (apt-get install -y verilator)"
            )
        })
}

/// The project's FuseSoC, run from the repository root with
/// `--cores-root rtl` and a configuration, cache and build root in a
/// temporary directory of its own.
struct FuseSoc {
    bin: PathBuf,
    path: std::ffi::OsString,
    tmp: tempfile::TempDir,
}

impl FuseSoc {
    fn new() -> FuseSoc {
        let bin = Tools::for_root(&root())
            .path("fusesoc")
            .unwrap_or_else(|e| panic!("{e}"));
        let tmp = tempfile::tempdir().expect("tempdir");
        let t = tmp.path();
        std::fs::write(
            t.join("fusesoc.conf"),
            format!(
                "[main]\ncache_root = {}\nlibrary_root = {}\nbuild_root = {}\n",
                t.join("cache").display(),
                t.join("library").display(),
                t.join("build").display()
            ),
        )
        .expect("write fusesoc.conf");
        let mut dirs = vec![verilator_dir()];
        if let Some(p) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&p));
        }
        let path = std::env::join_paths(dirs).expect("PATH");
        FuseSoc { bin, path, tmp }
    }

    fn build_root(&self) -> PathBuf {
        self.tmp.path().join("build")
    }

    /// Runs `fusesoc <global options> <args>`; (success, combined output).
    fn run(&self, args: &[&str]) -> (bool, String) {
        let t = self.tmp.path();
        let config = t.join("fusesoc.conf");
        let out = Command::new(&self.bin)
            .arg("--config")
            .arg(&config)
            .args(["--monochrome", "--cores-root", "rtl"])
            .args(args)
            .current_dir(root())
            .env("PATH", &self.path)
            .env("XDG_CONFIG_HOME", t.join("xdg-config"))
            .env("XDG_CACHE_HOME", t.join("xdg-cache"))
            .env("XDG_DATA_HOME", t.join("xdg-data"))
            .env_remove("FUSESOC_CORES")
            .env_remove("FUSESOC_CONFIG")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.bin.display()));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// The VLNVs `core list` prints for the `hlsk` vendor, and its output.
    fn hlsk_cores(&self) -> (BTreeSet<String>, String) {
        let (ok, out) = self.run(&["core", "list"]);
        assert!(ok, "fusesoc core list failed:\n{out}");
        let cores = out
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|w| w.starts_with("hlsk:"))
            .map(str::to_owned)
            .collect();
        (cores, out)
    }

    /// The build directory of `target` of `core` (FuseSoC's naming).
    fn work_root(&self, core: &str, target: &str) -> PathBuf {
        self.build_root().join(core.replace(':', "_")).join(target)
    }

    /// Runs `target` of `core`, with the source files referenced in place
    /// (`--no-export`) or copied into the build directory as FuseSoC does by
    /// default; the tool's output when it fails or Verilator warns.
    fn run_target(&self, core: &str, target: &str, export: bool) -> Result<(), String> {
        let build_root = self.build_root();
        let mut args = vec!["run"];
        if !export {
            args.push("--no-export");
        }
        args.extend([
            "--build-root",
            build_root.to_str().expect("UTF-8 temp path"),
            "--target",
            target,
            core,
        ]);
        match self.run(&args) {
            (true, out) if !out.contains("%Warning") && !out.contains("%Error") => Ok(()),
            (_, out) => {
                // FuseSoC's progress lines and its signature notice are noise here.
                let out: Vec<&str> = out
                    .lines()
                    .filter(|l| !l.starts_with("INFO:") && !l.contains("No trustfile"))
                    .collect();
                Err(format!("fusesoc {}:\n{}", args.join(" "), out.join("\n")))
            }
        }
    }

    /// The source files of `core`'s `target` (its own and its dependencies',
    /// in compile order), read from the Verilator command file FuseSoC wrote
    /// for a `--no-export` run; none if it wrote none.
    fn target_files(&self, core: &str, target: &str) -> Vec<PathBuf> {
        let work = self.work_root(core, target);
        let vc = work.join(format!("{}.vc", core.replace(':', "_")));
        let Ok(text) = std::fs::read_to_string(&vc) else {
            return Vec::new();
        };
        text.lines()
            .map(str::trim)
            .filter(|l| l.ends_with(".sv") || l.ends_with(".v") || l.ends_with(".svh"))
            .map(|l| {
                let p = work.join(l);
                p.canonicalize()
                    .unwrap_or_else(|e| panic!("{core}: {} in {}: {e}", p.display(), vc.display()))
            })
            .collect()
    }
}

#[test]
fn core_list_names_every_block_and_parses_every_core_file() {
    let fusesoc = FuseSoc::new();
    let (cores, out) = fusesoc.hlsk_cores();
    let missing: Vec<_> = EXPECTED_CORES
        .iter()
        .filter(|c| !cores.contains(**c))
        .collect();
    assert!(
        missing.is_empty(),
        "fusesoc --cores-root rtl core list lacks {missing:?}:\n{out}"
    );
    // FuseSoC skips a core file it cannot parse with a warning only.
    let core_files = rtl_files("core");
    assert!(
        !out.contains("Ignoring file") && core_files.len() == cores.len(),
        "{} .core files under rtl/ but {} hlsk cores listed:\n{out}",
        core_files.len(),
        cores.len()
    );
}

/// What running every lint target found, shared by the tests below (one
/// FuseSoC run per target, whichever test gets here first).
struct LintRuns {
    /// Every core `core list` printed.
    cores: BTreeSet<String>,
    /// Every source file some lint target compiled (canonical paths).
    files: BTreeSet<PathBuf>,
    /// The complaints of the targets that failed.
    failures: Vec<String>,
}

fn lint_runs() -> &'static LintRuns {
    static RUNS: OnceLock<LintRuns> = OnceLock::new();
    RUNS.get_or_init(|| {
        let fusesoc = FuseSoc::new();
        let (cores, _) = fusesoc.hlsk_cores();
        let targets = cores
            .iter()
            .map(|c| (c.as_str(), "lint"))
            .chain(EXTRA_LINT_TARGETS.iter().copied());
        let mut files = BTreeSet::new();
        let mut failures = Vec::new();
        for (core, target) in targets {
            failures.extend(fusesoc.run_target(core, target, false).err());
            // Setup wrote the command file even if Verilator then failed.
            files.extend(fusesoc.target_files(core, target));
        }
        LintRuns {
            cores,
            files,
            failures,
        }
    })
}

#[test]
fn every_core_lints_clean_with_verilator_wall() {
    let runs = lint_runs();
    assert!(
        runs.cores.contains("hlsk:tlmm:os_engine:0.1.0"),
        "no TLMM engine core among {:?}",
        runs.cores
    );
    assert!(
        runs.failures.is_empty(),
        "lint failed:\n{}",
        runs.failures.join("\n")
    );
}

#[test]
fn tlmm_engine_lints_clean_as_documented() {
    // docs/fusesoc.md: `fusesoc --cores-root rtl run --target lint
    // hlsk:tlmm:os_engine` (sources exported into the build root, VLNV
    // without a version).
    let fusesoc = FuseSoc::new();
    if let Err(e) = fusesoc.run_target("hlsk:tlmm:os_engine", "lint", true) {
        panic!("{e}");
    }
}

#[test]
fn every_rtl_file_belongs_to_a_core() {
    let runs = lint_runs();
    let root = root();
    let orphans: Vec<_> = rtl_files("sv")
        .into_iter()
        .filter(|p| {
            !runs
                .files
                .contains(&p.canonicalize().expect("canonical path"))
        })
        .map(|p| p.strip_prefix(&root).map(Path::to_owned).unwrap_or(p))
        .collect();
    assert!(
        orphans.is_empty(),
        "in no core's lint fileset (add each to a .core file next to it, docs/fusesoc.md): \
         {orphans:#?}"
    );
}
