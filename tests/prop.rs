//! A thin layer over proptest for co-simulation properties.

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, FileFailurePersistence, TestError, TestRunner};
use std::fmt::Debug;
use std::path::{Path, PathBuf};

/// Environment variable naming a folder for waveforms of failing cases.
pub const WAVES_ENV: &str = "HLSK_WAVES";

/// Number of cases a check runs: `PROPTEST_CASES` if set, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `property` on `cases` random inputs from `strategy`.
///
/// `property(input, waves)` must return `Err(description)` when the RTL and
/// the reference disagree; `waves` is `Some(path)` when the caller wants an
/// FST waveform of this run. On failure proptest shrinks the input; the
/// error names the check, shows the minimal input and the failure, and, when
/// [`WAVES_ENV`] is set, reruns the minimal input with a waveform.
pub fn check<S, F>(name: &str, cases: u32, strategy: S, property: F) -> Result<(), String>
where
    S: Strategy,
    S::Value: Debug + Clone,
    F: Fn(&S::Value, Option<&Path>) -> Result<(), String>,
{
    let config = Config {
        cases,
        // Shrinking a co-simulation run is cheap; let it go far.
        max_shrink_iters: 20_000,
        max_shrink_time: 60_000,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/cosim.txt"
        )))),
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |input| {
        property(&input, None).map_err(proptest::test_runner::TestCaseError::fail)
    });
    match result {
        Ok(()) => Ok(()),
        Err(TestError::Abort(why)) => Err(format!("{name}: aborted: {why}")),
        Err(TestError::Fail(why, minimal)) => {
            let mut msg = format!(
                "{name}: property failed\nminimal failing input: {minimal:?}\nfailure: {why}"
            );
            match waves_dir() {
                Some(_) if !hlsk_cosim::TRACE_ENABLED => msg.push_str(&format!(
                    "\n{WAVES_ENV} is set but the models were built without tracing: \
                     rerun with `cargo test -p hlsk-tests --features trace`"
                )),
                Some(dir) => {
                    let path = dir.join(format!("{}.fst", sanitize(name)));
                    match property(&minimal, Some(&path)) {
                        Err(_) => msg.push_str(&format!("\nwaveform of the minimal case: {}", path.display())),
                        Ok(()) => msg.push_str(&format!(
                            "\nwaveform of the minimal case: {} (note: the rerun passed, the failure is not deterministic)",
                            path.display()
                        )),
                    }
                }
                None => msg.push_str(&format!(
                    "\nfor a waveform of the minimal case: {WAVES_ENV}=<dir> cargo test -p hlsk-tests --features trace"
                )),
            }
            Err(msg)
        }
    }
}

/// The waveform folder from [`WAVES_ENV`], created and made absolute (cargo
/// runs tests in the crate folder, so relative paths are relative to `tests/`).
fn waves_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os(WAVES_ENV)?);
    match std::fs::create_dir_all(&dir).and_then(|_| dir.canonicalize()) {
        Ok(abs) => Some(abs),
        Err(e) => {
            eprintln!("{WAVES_ENV}: cannot create {}: {e}", dir.display());
            None
        }
    }
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
