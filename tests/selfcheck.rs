//! `hlsk-selfcheck`: co-simulate every RTL block against its reference
//! model and print a summary (the properties of `cargo test`, with the
//! number of random cases given on the command line).
//!
//! ```text
//! cargo run --release -p hlsk-tests --bin hlsk-selfcheck -- [CASES]
//! ```

use hlsk_tests::blocks::{CHECKS, CYCLES_SIMULATED, run_all_builds};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Instant;

fn main() -> ExitCode {
    let cases = match std::env::args().nth(1).map(|a| a.parse::<u32>()) {
        None => 200,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!(
                "usage: hlsk-selfcheck [CASES]  (random cases per build, a positive integer; default 200)"
            );
            return ExitCode::from(2);
        }
    };
    println!(
        "hlsk selfcheck: RTL (Verilated, {}) against hls-rust, {cases} random cases per build",
        hlsk_cosim::VERILATOR_VERSION
    );
    println!(
        "  {:<20} {:>6} {:>7} {:>9} {:>9}  result",
        "block", "builds", "cases", "cycles", "time"
    );
    let mut failed = Vec::new();
    for check in CHECKS {
        let t = Instant::now();
        let before = CYCLES_SIMULATED.load(Ordering::Relaxed);
        let r = run_all_builds(check, cases);
        let cycles = CYCLES_SIMULATED.load(Ordering::Relaxed) - before;
        let verdict = if r.is_ok() { "pass" } else { "FAIL" };
        println!(
            "  {:<20} {:>6} {:>7} {:>9} {:>8.2}s  {verdict}",
            check.name,
            check.builds,
            cases as usize * check.builds,
            cycles,
            t.elapsed().as_secs_f64()
        );
        if let Err(e) = r {
            failed.push(e);
        }
    }
    if failed.is_empty() {
        println!("all blocks match their reference models");
        ExitCode::SUCCESS
    } else {
        for f in &failed {
            eprintln!("\n{f}");
        }
        eprintln!(
            "{} block(s) differ from their reference models",
            failed.len()
        );
        ExitCode::FAILURE
    }
}
