//! Mutation testing of the RTL (`make mutants`, `docs/mutants.md`).
//!
//! Samples single-token mutants of every file under `rtl/` (seeded, a fixed
//! number per module), and for each: applies it in a private git worktree
//! of the current commit (`target/mutants/wt`, its own `CARGO_TARGET_DIR`,
//! so neither `rtl/` nor `target/` of the checkout is touched), lints the
//! mutated module and every module above it with `verilator --lint-only
//! -Wall` and with the combinational check of `hlsk_rtl_lint` (Yosys: every
//! `always_comb` variable assigned on every path), then rebuilds the
//! co-simulation tests and runs only those that cover the module, each with
//! a time limit. The report (JSON and markdown) counts per module and per
//! kernel the mutants killed by a test, killed only by lint, timed out
//! (counted as killed), declared equivalent (`mutants/equivalent.txt`) and
//! surviving.

mod lint;
mod mutate;
mod plan;

use anyhow::{Context, Result, bail};
use clap::Parser;
use mutate::Mutant;
use plan::TestRun;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    about = "Mutation testing of rtl/: seeded single-token mutants against the tests that cover each module"
)]
struct Args {
    /// Mutants sampled per module (file under rtl/).
    #[arg(long, default_value_t = 8)]
    per_module: usize,
    /// Sampling seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Only these modules (file stems, comma-separated).
    #[arg(long, value_delimiter = ',')]
    modules: Vec<String>,
    /// Only these kernels (common, tlmm, conv, soc; comma-separated).
    #[arg(long, value_delimiter = ',')]
    kernels: Vec<String>,
    /// List the sampled mutants and exit.
    #[arg(long)]
    list: bool,
    /// Continue the run recorded in <out>/report.json (a run stopped
    /// part-way, e.g. by the end of a session): the same commit, seed and
    /// sample size; its baseline and the mutants it judged are kept, and
    /// survivors now listed in mutants/equivalent.txt count as equivalent.
    #[arg(long)]
    resume: bool,
    /// A test run may take this many times its unmutated duration...
    #[arg(long, default_value_t = 3.0)]
    timeout_factor: f64,
    /// ...but at least this many seconds.
    #[arg(long, default_value_t = 60)]
    min_timeout: u64,
    /// Lock file held around every build and test run (shared with the
    /// other heavy jobs on the machine).
    #[arg(long, default_value = "target/heavy.lock")]
    lock: PathBuf,
    /// Report folder (report.json, report.md), relative to the repository.
    #[arg(long, default_value = "target/mutants")]
    out: PathBuf,
}

/// How a mutant ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Outcome {
    /// A test failed.
    Killed,
    /// A test ran over its time limit (counted as killed).
    Timeout,
    /// `verilator --lint-only -Wall` or the combinational check
    /// (`hlsk_rtl_lint`) complained; no test was run.
    Lint,
    /// The co-simulation models or tests did not build; no test was run.
    Build,
    /// Every covering test passed, and the mutant is listed as equivalent.
    Equivalent,
    /// Every covering test passed.
    Survived,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    file: String,
    module: String,
    kernel: String,
    #[serde(flatten)]
    mutant: Mutant,
    change: String,
    source_line: String,
    outcome: Outcome,
    /// The failing test run, the lint message, or the equivalence reason.
    detail: String,
    secs: f64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Report {
    commit: String,
    seed: u64,
    per_module: usize,
    command: String,
    baseline: Vec<(String, f64)>,
    modules: Vec<ModuleStats>,
    kernels: Vec<ModuleStats>,
    mutants: Vec<Record>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct ModuleStats {
    name: String,
    candidates: usize,
    sampled: usize,
    killed: usize,
    timeout: usize,
    lint: usize,
    equivalent: usize,
    survived: usize,
}

impl ModuleStats {
    /// Killed by a test (timeouts included) over the mutants a test could
    /// see: not killed by lint or the build, not equivalent.
    fn behaviour_rate(&self) -> Option<f64> {
        let seen = self.killed + self.timeout + self.survived;
        (seen > 0).then(|| (self.killed + self.timeout) as f64 / seen as f64)
    }

    fn add(&mut self, r: &Record) {
        self.sampled += 1;
        match r.outcome {
            Outcome::Killed => self.killed += 1,
            Outcome::Timeout => self.timeout += 1,
            Outcome::Lint | Outcome::Build => self.lint += 1,
            Outcome::Equivalent => self.equivalent += 1,
            Outcome::Survived => self.survived += 1,
        }
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let root = PathBuf::from(git(Path::new("."), &["rev-parse", "--show-toplevel"])?);
    std::env::set_current_dir(&root)?;
    let out = root.join(&args.out);
    let previous = if args.resume {
        Some(load_previous(&out.join("report.json"), &args)?)
    } else {
        None
    };
    let commit = match &previous {
        Some(p) => p.commit.clone(),
        None => git(&root, &["rev-parse", "HEAD"])?,
    };

    // The sample, from the files of the commit (what the worktree holds).
    let files = rtl_files(&root, &commit)?;
    let equivalents = load_equivalents(&root.join("mutants/equivalent.txt"))?;
    let mut plan: Vec<Planned> = Vec::new();
    for rel in &files {
        let module = stem(rel);
        let kernel = plan::kernel_of(rel).to_owned();
        if (!args.modules.is_empty() && !args.modules.contains(&module))
            || (!args.kernels.is_empty() && !args.kernels.contains(&kernel))
        {
            continue;
        }
        let text = git(&root, &["show", &format!("{commit}:{rel}")])? + "\n";
        let all = mutate::candidates(&text);
        let n = all.len();
        let sample = sample(all, args.per_module, args.seed ^ fnv(rel));
        plan.push((rel.clone(), module, kernel, sample, n));
    }
    let unmapped: Vec<&str> = plan
        .iter()
        .filter(|(_, m, ..)| plan::tests_for(m).is_empty())
        .map(|(rel, ..)| rel.as_str())
        .collect();
    if !unmapped.is_empty() {
        bail!(
            "no test runs cover {unmapped:?}: map each module to its tests in mutants/src/plan.rs \
             (without them every mutant would survive untested)"
        );
    }
    if args.list {
        for (rel, _, _, sample, n) in &plan {
            println!("{rel}: {} of {n} candidates", sample.len());
            for m in sample {
                println!("  {rel}:{} {:?} {}", m.line, m.kind, m.change());
            }
        }
        return Ok(());
    }

    let wt = out.join("wt");
    let target = out.join("target");
    prepare_worktree(&root, &wt, &commit)?;
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.join(&args.lock))
        .context("lock file")?;
    let verilator = std::env::var("VERILATOR").unwrap_or_else(|_| "verilator".into());
    let yosys = hlsk_rtl_lint::pinned_yosys(&root).context("the combinational lint")?;
    let runner = Runner {
        wt: wt.clone(),
        target,
        lock,
        verilator,
        yosys,
    };

    // Baseline: every test run the sample needs passes unmutated; its
    // duration sets the time limit.
    let needed: BTreeSet<(&str, &str, Option<&str>)> = plan
        .iter()
        .flat_map(|(_, m, ..)| plan::tests_for(m))
        .map(|t| (t.package, t.target, t.filter))
        .collect();
    eprintln!(
        "baseline: building and running {} test runs unmutated",
        needed.len()
    );
    let mut baseline: BTreeMap<String, f64> = previous
        .as_ref()
        .map(|p| p.baseline.iter().cloned().collect())
        .unwrap_or_default();
    let have_all = needed.iter().all(|&(package, target, filter)| {
        baseline.contains_key(
            &TestRun {
                package,
                target,
                filter,
            }
            .label(),
        )
    });
    if have_all {
        eprintln!("baseline: kept from the run being resumed");
    } else {
        let _held = runner.hold()?;
        let exes = runner
            .build()?
            .map_err(|e| anyhow::anyhow!("unmutated build fails:\n{e}"))?;
        for &(package, target, filter) in &needed {
            let t = TestRun {
                package,
                target,
                filter,
            };
            let (res, secs) = runner.run_test(&exes, &t, Duration::from_secs(7200))?;
            if let Err(e) = res {
                bail!("{} fails unmutated:\n{e}", t.label());
            }
            eprintln!("  {:<50} {secs:7.1} s", t.label());
            baseline.insert(t.label(), secs);
        }
    }

    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let mut report = Report {
        commit: commit.clone(),
        seed: args.seed,
        per_module: args.per_module,
        command,
        baseline: baseline.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        modules: Vec::new(),
        kernels: Vec::new(),
        mutants: Vec::new(),
    };
    let instantiators = instantiators(&wt, &files)?;
    let total: usize = plan.iter().map(|p| p.3.len()).sum();
    let mut done = 0;
    for (rel, module, kernel, sample, _) in &plan {
        let path = wt.join(rel);
        let orig = std::fs::read_to_string(&path)?;
        for m in sample {
            done += 1;
            if let Some(mut rec) = previous.as_ref().and_then(|p| {
                p.mutants
                    .iter()
                    .find(|r| r.file == *rel && r.mutant == *m)
                    .cloned()
            }) {
                if rec.outcome == Outcome::Survived
                    && let Some(reason) = equivalents.get(&(
                        rec.file.clone(),
                        rec.source_line.clone(),
                        m.orig.clone(),
                        m.repl.clone(),
                    ))
                {
                    rec.outcome = Outcome::Equivalent;
                    rec.detail = reason.clone();
                }
                eprintln!(
                    "[{done}/{total}] {rel}:{} {} -> {:?} (kept from the run resumed)",
                    m.line, rec.change, rec.outcome
                );
                report.mutants.push(rec);
                continue;
            }
            let started = Instant::now();
            let source_line = orig.lines().nth(m.line - 1).unwrap_or("").trim().to_owned();
            std::fs::write(&path, m.apply(&orig))?;
            let result = runner.judge(
                module,
                &instantiators,
                &files,
                &plan::tests_for(module),
                &baseline,
                &args,
            );
            std::fs::write(&path, &orig)?;
            let (mut outcome, mut detail) = result?;
            if outcome == Outcome::Survived
                && let Some(reason) = equivalents.get(&(
                    rel.clone(),
                    source_line.clone(),
                    m.orig.clone(),
                    m.repl.clone(),
                ))
            {
                outcome = Outcome::Equivalent;
                detail = reason.clone();
            }
            let rec = Record {
                file: rel.clone(),
                module: module.clone(),
                kernel: kernel.clone(),
                change: m.change(),
                mutant: m.clone(),
                source_line,
                outcome,
                detail,
                secs: started.elapsed().as_secs_f64(),
            };
            eprintln!(
                "[{done}/{total}] {rel}:{} {} -> {:?} ({:.0} s) {}",
                m.line,
                rec.change,
                rec.outcome,
                rec.secs,
                rec.detail.lines().next().unwrap_or("")
            );
            report.mutants.push(rec);
            summarize(&mut report, &plan);
            write_report(&out, &report)?;
        }
    }
    summarize(&mut report, &plan);
    write_report(&out, &report)?;
    print!("{}", markdown(&report));
    Ok(())
}

/// One module's sample: file, module, kernel, the sampled mutants, and the
/// number of candidates they were drawn from.
type Planned = (String, String, String, Vec<Mutant>, usize);

struct Runner {
    wt: PathBuf,
    target: PathBuf,
    lock: std::fs::File,
    verilator: String,
    yosys: PathBuf,
}

/// Test executables by (package, target).
type Exes = BTreeMap<(String, String), PathBuf>;

/// The heavy-job lock while held (`flock(2)`, as `flock(1)` takes it;
/// `File::lock` is newer than the workspace's MSRV).
struct Held<'a>(&'a std::fs::File);

unsafe extern "C" {
    fn flock(fd: std::ffi::c_int, operation: std::ffi::c_int) -> std::ffi::c_int;
}

const LOCK_EX: std::ffi::c_int = 2;
const LOCK_UN: std::ffi::c_int = 8;

impl Drop for Held<'_> {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a descriptor this File owns for its lifetime.
        unsafe { flock(self.0.as_raw_fd(), LOCK_UN) };
    }
}

impl Runner {
    fn hold(&self) -> Result<Held<'_>> {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a descriptor this File owns for its lifetime.
        if unsafe { flock(self.lock.as_raw_fd(), LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error()).context("taking the heavy-job lock");
        }
        Ok(Held(&self.lock))
    }

    /// Lint, build, test: the outcome and its detail.
    fn judge(
        &self,
        module: &str,
        above: &BTreeMap<String, BTreeSet<String>>,
        files: &[String],
        tests: &[TestRun],
        baseline: &BTreeMap<String, f64>,
        args: &Args,
    ) -> Result<(Outcome, String)> {
        let mut tops: Vec<String> = vec![module.to_owned()];
        tops.extend(above.get(module).into_iter().flatten().cloned());
        tops.retain(|t| !t.ends_with("_pkg"));
        for top in &tops {
            if let Some(msg) = self.lint(top, files)? {
                return Ok((Outcome::Lint, format!("{top}: {msg}")));
            }
        }
        if let Some(msg) = lint::comb(&self.yosys, &self.wt, &tops, files)? {
            return Ok((Outcome::Lint, msg));
        }
        let _held = self.hold()?;
        let exes = match self.build()? {
            Ok(e) => e,
            Err(e) => return Ok((Outcome::Build, e)),
        };
        for t in tests {
            let base = baseline.get(&t.label()).copied().unwrap_or(60.0);
            let limit =
                Duration::from_secs_f64((base * args.timeout_factor).max(args.min_timeout as f64));
            let (res, _) = self.run_test(&exes, t, limit)?;
            match res {
                Ok(()) => {}
                Err(TestFail::Timeout) => {
                    return Ok((
                        Outcome::Timeout,
                        format!("{} over {:.0} s", t.label(), limit.as_secs_f64()),
                    ));
                }
                Err(TestFail::Failed(msg)) => {
                    return Ok((Outcome::Killed, format!("{}: {msg}", t.label())));
                }
            }
        }
        Ok((Outcome::Survived, String::new()))
    }

    /// The first warning or error of `verilator --lint-only -Wall` on `top`,
    /// with its default parameters and in each of its
    /// [`hlsk_rtl_lint::CORNERS`] (as `tests/rtl_hygiene.rs` lints it).
    fn lint(&self, top: &str, files: &[String]) -> Result<Option<String>> {
        let corners = hlsk_rtl_lint::CORNERS
            .iter()
            .filter(|(m, _)| *m == top)
            .map(|(_, params)| params.iter().map(|(k, v)| format!("-G{k}={v}")).collect());
        for params in std::iter::once(Vec::new()).chain(corners) {
            if let Some(msg) = self.lint_with(top, files, &params)? {
                return Ok(Some(if params.is_empty() {
                    msg
                } else {
                    format!("{} {msg}", params.join(" "))
                }));
            }
        }
        Ok(None)
    }

    /// [`Self::lint`] with the `-G` overrides `params`.
    fn lint_with(&self, top: &str, files: &[String], params: &[String]) -> Result<Option<String>> {
        let out = Command::new(&self.verilator)
            .args(["--lint-only", "-Wall", "--top-module", top])
            .args(params)
            .args(files)
            .current_dir(&self.wt)
            .output()
            .context("running verilator")?;
        let text = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        if out.status.success() && !text.contains("%Warning") {
            return Ok(None);
        }
        let first = text
            .lines()
            .find(|l| l.starts_with("%Warning") || l.starts_with("%Error"))
            .unwrap_or("verilator failed")
            .to_owned();
        Ok(Some(first))
    }

    /// Builds the test executables; `Err` holds the build's complaint.
    fn build(&self) -> Result<std::result::Result<Exes, String>> {
        let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args([
                "test",
                "--no-run",
                "--message-format=json",
                "-p",
                "hlsk-tests",
                "-p",
                "hlsk-boards",
            ])
            .env("CARGO_TARGET_DIR", &self.target)
            .current_dir(&self.wt)
            .output()
            .context("running cargo")?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = err
                .lines()
                .filter(|l| l.contains("error"))
                .take(3)
                .collect();
            return Ok(Err(tail.join(" | ")));
        }
        let mut exes = Exes::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if v["reason"] != "compiler-artifact" || v["profile"]["test"] != true {
                continue;
            }
            let (Some(exe), Some(name), Some(id)) = (
                v["executable"].as_str(),
                v["target"]["name"].as_str(),
                v["package_id"].as_str(),
            ) else {
                continue;
            };
            let package = if id.contains("hlsk-boards") || id.contains("/boards") {
                "hlsk-boards"
            } else {
                "hlsk-tests"
            };
            exes.insert((package.to_owned(), name.to_owned()), PathBuf::from(exe));
        }
        Ok(Ok(exes))
    }

    /// Runs one test run, test by test (`--exact`), stopping at the first
    /// failure, under `limit` in all; its duration.
    fn run_test(
        &self,
        exes: &Exes,
        t: &TestRun,
        limit: Duration,
    ) -> Result<(std::result::Result<(), TestFail>, f64)> {
        let exe = exes
            .get(&(t.package.to_owned(), t.target.to_owned()))
            .with_context(|| format!("no test executable for {}", t.label()))?;
        let dir = self.wt.join(if t.package == "hlsk-boards" {
            "boards"
        } else {
            "tests"
        });
        let listed = Command::new(exe)
            .args(["--list", "--format", "terse"])
            .current_dir(&dir)
            .output()
            .with_context(|| format!("listing {}", exe.display()))?;
        let names: Vec<String> = String::from_utf8_lossy(&listed.stdout)
            .lines()
            .filter_map(|l| l.strip_suffix(": test"))
            .filter(|n| t.filter.is_none_or(|f| n.contains(f)))
            .map(str::to_owned)
            .collect();
        if names.is_empty() {
            bail!("{} selects no test", t.label());
        }
        let log = self.target.join("test.log");
        let started = Instant::now();
        for name in &names {
            let mut cmd = Command::new(exe);
            cmd.args(["--exact", name])
                .current_dir(&dir)
                .env("CARGO_MANIFEST_DIR", &dir)
                .stdout(Stdio::from(std::fs::File::create(&log)?))
                .stderr(Stdio::from(
                    std::fs::File::options().append(true).open(&log)?,
                ))
                .process_group(0);
            let mut child = cmd
                .spawn()
                .with_context(|| format!("running {}", exe.display()))?;
            loop {
                if let Some(status) = child.try_wait()? {
                    if status.success() {
                        break;
                    }
                    let text = std::fs::read_to_string(&log).unwrap_or_default();
                    let first = text
                        .lines()
                        .find(|l| {
                            l.contains("panicked") || l.contains("failed") || l.contains("FAIL")
                        })
                        .unwrap_or("failed")
                        .trim()
                        .to_owned();
                    let secs = started.elapsed().as_secs_f64();
                    return Ok((Err(TestFail::Failed(format!("{name}: {first}"))), secs));
                }
                if started.elapsed() > limit {
                    let _ = Command::new("kill")
                        .args(["-KILL", &format!("-{}", child.id())])
                        .status();
                    let _ = child.wait();
                    return Ok((Err(TestFail::Timeout), started.elapsed().as_secs_f64()));
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        Ok((Ok(()), started.elapsed().as_secs_f64()))
    }
}

enum TestFail {
    Failed(String),
    Timeout,
}

impl std::fmt::Display for TestFail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TestFail::Failed(m) => f.write_str(m),
            TestFail::Timeout => f.write_str("timeout"),
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git").args(args).current_dir(dir).output()?;
    if !out.status.success() {
        bail!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
}

/// The worktree at `commit`, clean (created on first use).
fn prepare_worktree(root: &Path, wt: &Path, commit: &str) -> Result<()> {
    if !wt.join(".git").exists() {
        git(
            root,
            &[
                "worktree",
                "add",
                "--detach",
                &wt.display().to_string(),
                commit,
            ],
        )?;
    }
    git(wt, &["checkout", "--detach", "--force", commit])?;
    // Undo a mutant left behind by an interrupted run.
    git(wt, &["checkout", "--force", "--", "rtl"])?;
    Ok(())
}

/// Every `.sv` file under `rtl/` of HEAD, packages first (the order the
/// hygiene test lints in).
fn rtl_files(root: &Path, commit: &str) -> Result<Vec<String>> {
    let list = git(root, &["ls-tree", "-r", "--name-only", commit, "rtl"])?;
    let mut files: Vec<String> = list
        .lines()
        .filter(|l| l.ends_with(".sv") && !l.starts_with("rtl/sim"))
        .filter(|l| ["common", "tlmm", "conv", "soc"].contains(&plan::kernel_of(l)))
        .map(str::to_owned)
        .collect();
    files.sort_by_key(|f| (!stem(f).ends_with("_pkg"), f.clone()));
    Ok(files)
}

fn stem(rel: &str) -> String {
    Path::new(rel)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// For each module, every module that instantiates it (or imports the
/// package), directly or not.
fn instantiators(root: &Path, files: &[String]) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|f| Ok((stem(f), std::fs::read_to_string(root.join(f))?)))
        .collect::<Result<_>>()?;
    let mentions = |text: &str, name: &str| {
        text.match_indices(name).any(|(i, _)| {
            let before = text[..i].chars().next_back();
            let after = text[i + name.len()..].chars().next();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            !word(before) && !word(after)
        })
    };
    let mut direct: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, _) in &texts {
        for (user, text) in &texts {
            if user != m && mentions(text, m) {
                direct.entry(m.clone()).or_default().insert(user.clone());
            }
        }
    }
    let mut all = BTreeMap::new();
    for (m, _) in &texts {
        let mut seen = BTreeSet::new();
        let mut stack = vec![m.clone()];
        while let Some(x) = stack.pop() {
            for u in direct.get(&x).into_iter().flatten() {
                if seen.insert(u.clone()) {
                    stack.push(u.clone());
                }
            }
        }
        all.insert(m.clone(), seen);
    }
    Ok(all)
}

type EquivKey = (String, String, String, String);

/// The report of the run `--resume` continues; its seed and sample size
/// must be the ones asked for.
fn load_previous(path: &Path, args: &Args) -> Result<Report> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "--resume: no report to resume at {} (start a run without --resume)",
            path.display()
        )
    })?;
    let r: Report = serde_json::from_str(&text)
        .with_context(|| format!("--resume: {} is not a report of this tool", path.display()))?;
    if r.seed != args.seed || r.per_module != args.per_module {
        bail!(
            "--resume: {} is a run with --seed {} --per-module {}, not --seed {} --per-module {}; \
             resume with those, or start over without --resume",
            path.display(),
            r.seed,
            r.per_module,
            args.seed,
            args.per_module
        );
    }
    Ok(r)
}

/// `mutants/equivalent.txt`: `file | source line | from | to | reason`, one
/// mutant a line, `#` comments.
fn load_equivalents(path: &Path) -> Result<BTreeMap<EquivKey, String>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(BTreeMap::new());
    };
    let mut map = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split(" | ").map(str::trim).collect();
        if f.len() != 5 {
            bail!(
                "{}:{}: expected `file | source line | from | to | reason`",
                path.display(),
                n + 1
            );
        }
        map.insert(
            (
                f[0].to_owned(),
                f[1].to_owned(),
                f[2].to_owned(),
                f[3].to_owned(),
            ),
            f[4].to_owned(),
        );
    }
    Ok(map)
}

/// `n` of `all`, drawn without replacement with a seeded Fisher-Yates
/// shuffle, in file order.
fn sample(mut all: Vec<Mutant>, n: usize, seed: u64) -> Vec<Mutant> {
    let mut s = seed;
    let mut next = || {
        // splitmix64
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for i in (1..all.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        all.swap(i, j);
    }
    all.truncate(n);
    all.sort_by_key(|m| m.start);
    all
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn summarize(report: &mut Report, plan: &[Planned]) {
    let mut modules: BTreeMap<String, ModuleStats> = BTreeMap::new();
    let mut kernels: BTreeMap<String, ModuleStats> = BTreeMap::new();
    for (_, module, kernel, _, n) in plan {
        modules.insert(
            module.clone(),
            ModuleStats {
                name: module.clone(),
                candidates: *n,
                ..Default::default()
            },
        );
        let k = kernels
            .entry(kernel.clone())
            .or_insert_with(|| ModuleStats {
                name: kernel.clone(),
                ..Default::default()
            });
        k.candidates += n;
    }
    for r in &report.mutants {
        modules.entry(r.module.clone()).or_default().add(r);
        kernels.entry(r.kernel.clone()).or_default().add(r);
    }
    let order = ["common", "tlmm", "conv", "soc"];
    report.kernels = order.iter().filter_map(|k| kernels.remove(*k)).collect();
    report.modules = plan.iter().filter_map(|p| modules.remove(&p.1)).collect();
}

fn write_report(out: &Path, report: &Report) -> Result<()> {
    std::fs::create_dir_all(out)?;
    std::fs::write(
        out.join("report.json"),
        serde_json::to_string_pretty(report)? + "\n",
    )?;
    std::fs::write(out.join("report.md"), markdown(report))?;
    Ok(())
}

fn markdown(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Mutants of rtl/ at {}\n",
        &r.commit[..r.commit.len().min(10)]
    );
    let _ = writeln!(
        s,
        "Command: `{}`; seed {}, {} per module.\n",
        r.command, r.seed, r.per_module
    );
    let table = |s: &mut String, rows: &[ModuleStats], what: &str| {
        let _ = writeln!(
            s,
            "| {what} | candidates | sampled | killed by a test | of them timeouts | killed only by lint | equivalent | survived | killed by tests |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
        for m in rows {
            let rate = m
                .behaviour_rate()
                .map_or("-".into(), |x| format!("{:.0} %", 100.0 * x));
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {rate} |",
                m.name,
                m.candidates,
                m.sampled,
                m.killed + m.timeout,
                m.timeout,
                m.lint,
                m.equivalent,
                m.survived
            );
        }
        s.push('\n');
    };
    table(&mut s, &r.kernels, "kernel");
    table(&mut s, &r.modules, "module");
    let _ = writeln!(
        s,
        "\"killed by tests\": killed by a test (timeouts included) over the mutants a test saw \
         (sampled minus lint/build kills minus equivalent).\n"
    );
    let list = |s: &mut String, o: Outcome, title: &str| {
        let rows: Vec<&Record> = r.mutants.iter().filter(|m| m.outcome == o).collect();
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(s, "## {title}\n");
        for m in rows {
            let _ = writeln!(
                s,
                "- `{}:{}` {:?}: {} {}",
                m.file, m.mutant.line, m.mutant.kind, m.change, m.detail
            );
        }
        s.push('\n');
    };
    list(&mut s, Outcome::Survived, "Survivors");
    list(&mut s, Outcome::Equivalent, "Equivalent (reason)");
    list(&mut s, Outcome::Timeout, "Timeouts");
    list(&mut s, Outcome::Lint, "Killed only by lint");
    list(&mut s, Outcome::Build, "Killed by the build");
    list(&mut s, Outcome::Killed, "Killed by a test");
    let _ = writeln!(
        s,
        "## Unmutated test runs (the time limits are multiples of these)\n"
    );
    for (t, secs) in &r.baseline {
        let _ = writeln!(s, "- {t}: {secs:.1} s");
    }
    s
}
