//! `hlsk`: the command-line front end of the toolkit.
//!
//! Today it runs the co-simulation self-check; the kernels and the board
//! flow add their subcommands as they land.

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use hlsk_tests::blocks::{CHECKS, CYCLES_SIMULATED, run_all_builds};
use std::sync::atomic::Ordering;
use std::time::Instant;

mod boards_cli;
mod conv_cli;
mod results_cli;
mod run_cli;
mod tlmm_cli;

#[derive(Parser)]
#[command(
    name = "hlsk",
    version,
    about = "Verified edge-ML FPGA kernels: reference models, co-simulation, bitstreams"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Co-simulate every RTL block against its reference model and print a summary.
    Selfcheck {
        /// Random cases per parameter set.
        #[arg(long, default_value_t = 200)]
        cases: u32,
    },
    /// Build every board and kernel preset; write docs/results.md and .json.
    Results {
        /// Output folder.
        #[arg(long, default_value = "docs")]
        out: std::path::PathBuf,
        /// Boards to leave out (their rows say so), e.g. a build that takes
        /// an hour.
        #[arg(long, value_name = "BOARD")]
        skip: Vec<String>,
    },
    /// The training-convolution kernel: real training with the reference or through the RTL.
    Conv {
        #[command(subcommand)]
        cmd: conv_cli::ConvCmd,
    },
    /// The TLMM kernel: real-data run through the RTL, benchmark.
    Tlmm {
        #[command(subcommand)]
        cmd: tlmm_cli::TlmmCmd,
    },
    /// List the boards (boards/*.toml).
    Boards,
    /// Build a board's bitstream (incremental) and print its report.
    Build {
        #[command(flatten)]
        board: boards_cli::BoardArg,
    },
    /// Print the report of a board's last build.
    Report {
        #[command(flatten)]
        board: boards_cli::BoardArg,
        /// Print the JSON report.
        #[arg(long)]
        json: bool,
    },
    /// Run a TLMM job on a board's SoC (serial port, or --twin) and check it
    /// against the reference.
    Run(run_cli::RunArgs),
    /// Serve a board's digital twin on a pseudo-terminal, for `hlsk run
    /// --port` or any other serial host program.
    Twin(run_cli::TwinArgs),
    /// Load a board's bitstream with its programmer (openFPGALoader, dfu-util).
    Program {
        #[command(flatten)]
        board: boards_cli::BoardArg,
        /// Print the command instead of running it.
        #[arg(long)]
        dry_run: bool,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Selfcheck { cases } => selfcheck(cases),
        Command::Tlmm { cmd } => tlmm_cli::run(cmd),
        Command::Conv { cmd } => conv_cli::run(cmd),
        Command::Results { out, skip } => results_cli::run(&out, &skip),
        Command::Boards => boards_cli::list(),
        Command::Build { board } => boards_cli::build(&board),
        Command::Report { board, json } => boards_cli::report(&board, json),
        Command::Twin(args) => run_cli::serve_twin(&args),
        Command::Program { board, dry_run } => boards_cli::program(&board, dry_run),
        Command::Run(args) => run_cli::run(&args),
    }
}

fn selfcheck(cases: u32) -> Result<()> {
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
        Ok(())
    } else {
        for f in &failed {
            eprintln!("\n{f}");
        }
        bail!(
            "{} block(s) differ from their reference models",
            failed.len()
        )
    }
}
