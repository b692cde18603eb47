//! `hlsk`: the command-line front end of the toolkit.
//!
//! The reference models on the user's tensors, the board flow and the host
//! link; with the `cosim` feature (default) also the Verilated engines and
//! the boards' digital twins. The main job (`make`) builds without it, so a
//! bitstream never waits for a Verilated model to compile.

use anyhow::Result;
#[cfg(not(feature = "cosim"))]
use anyhow::bail;
use clap::{Parser, Subcommand};

mod boards_cli;
mod conv_cli;
#[cfg(feature = "cosim")]
mod link_bench;
mod lm_cli;
mod matmul_cli;
mod npy_io;
mod progress;
mod results_cli;
#[cfg(feature = "cosim")]
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
    /// Build every board and kernel preset; write docs/results.md and .json.
    Results {
        /// Output folder.
        #[arg(long, default_value = "docs")]
        out: std::path::PathBuf,
        /// Boards or presets to leave out, e.g. a build that takes an hour:
        /// their rows are the previous results.json's, marked not rebuilt
        /// (or say they were skipped where it has none).
        #[arg(long, value_name = "BUILD")]
        skip: Vec<String>,
    },
    /// The training-convolution kernel: one descriptor on your .npy tensors (fp, bp, wu,
    /// pool-fwd, pool-bwd) on the reference or the RTL; digits training.
    Conv {
        #[command(subcommand)]
        cmd: conv_cli::ConvCmd,
    },
    /// The TLMM kernel: real-data run through the RTL, benchmark.
    Tlmm {
        #[command(subcommand)]
        cmd: tlmm_cli::TlmmCmd,
    },
    /// The ternary character-level language model: train, generate, eval, bench.
    Lm {
        #[command(subcommand)]
        cmd: lm_cli::LmCmd,
    },
    /// List the boards (boards/*.toml).
    Boards,
    /// Build a board's bitstream (incremental) and print its report.
    Build {
        #[command(flatten)]
        board: boards_cli::BoardArg,
        /// The clock in MHz, overriding the board file's `[clock] pll_mhz`;
        /// `auto` searches the PLL's settings for the fastest that meets
        /// timing (synthesis once, a place and route per try) and builds it.
        #[arg(long, value_name = "MHZ|auto")]
        clock: Option<boards_cli::ClockChoice>,
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
    #[cfg(feature = "cosim")]
    Run(run_cli::RunArgs),
    /// Time one TLMM job of a board's digital twin on the board at several
    /// UART baud rates: link bytes and time, engine time, job time (table,
    /// JSON under target/bench/).
    #[cfg(feature = "cosim")]
    LinkBench(link_bench::LinkBenchArgs),
    /// Serve a board's digital twin on a pseudo-terminal, for `hlsk run
    /// --port` or any other serial host program.
    #[cfg(feature = "cosim")]
    Twin(run_cli::TwinArgs),
    /// Load a board's bitstream with its programmer (openFPGALoader, dfu-util).
    Program {
        #[command(flatten)]
        board: boards_cli::BoardArg,
        /// Print the command instead of running it.
        #[arg(long)]
        dry_run: bool,
    },
    /// A command of the co-simulation build (`run`, `twin`), refused with
    /// a message in a build without the `cosim` feature.
    #[cfg(not(feature = "cosim"))]
    #[command(external_subcommand)]
    Other(Vec<String>),
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Tlmm { cmd } => tlmm_cli::run(cmd),
        Command::Conv { cmd } => conv_cli::run(cmd),
        Command::Lm { cmd } => lm_cli::run(cmd),
        Command::Results { out, skip } => results_cli::run(&out, &skip),
        Command::Boards => boards_cli::list(),
        Command::Build { board, clock } => boards_cli::build(&board, clock),
        Command::Report { board, json } => boards_cli::report(&board, json),
        #[cfg(feature = "cosim")]
        Command::Twin(args) => run_cli::serve_twin(&args),
        Command::Program { board, dry_run } => boards_cli::program(&board, dry_run),
        #[cfg(feature = "cosim")]
        Command::Run(args) => run_cli::run(&args),
        #[cfg(feature = "cosim")]
        Command::LinkBench(args) => link_bench::run(&args),
        #[cfg(not(feature = "cosim"))]
        Command::Other(words) => refuse_without_cosim("", &words),
    }
}

/// Commands (with their parent command, if any) that only a build with the
/// `cosim` feature has.
#[cfg(not(feature = "cosim"))]
const COSIM_COMMANDS: &[(&str, &str)] = &[
    ("", "run"),
    ("", "twin"),
    ("", "link-bench"),
    ("tlmm", "digits"),
    ("tlmm", "bench"),
    ("tlmm", "builds"),
];

/// The error for `parent words...` in a build without the `cosim` feature:
/// what to run instead for a command of the co-simulation build, `unknown
/// command` otherwise.
#[cfg(not(feature = "cosim"))]
fn refuse_without_cosim(parent: &str, words: &[String]) -> Result<()> {
    let what = [parent]
        .into_iter()
        .chain(words.iter().map(String::as_str))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let name = words.first().map_or("", String::as_str);
    if COSIM_COMMANDS.contains(&(parent, name)) {
        return Err(cosim_missing(&what));
    }
    bail!("unknown command `hlsk {what}`; see `hlsk --help`")
}

/// The error for `hlsk {what}` (or an option of it) that needs the
/// Verilated models in a build without the `cosim` feature.
#[cfg(not(feature = "cosim"))]
fn cosim_missing(what: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "`hlsk {what}` needs the Verilated models, and this hlsk was built without them \
         (`--no-default-features`, as `make` builds it for the board flow); run it as \
         `cargo run --release -p hlsk -- {what}` (default features; needs Verilator 5, \
         which `make setup` installs)"
    )
}
