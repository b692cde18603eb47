//! `hlsk tlmm ...`: the TLMM kernel's real-data run and benchmark.

use anyhow::Result;
#[cfg(feature = "cosim")]
use anyhow::{Context, bail};
use clap::Subcommand;
#[cfg(feature = "cosim")]
use hlsk_cosim::configs::TLMM_CONFIGS;
#[cfg(feature = "cosim")]
use hlsk_sim::tlmm::Build;
#[cfg(feature = "cosim")]
use hlsk_sim::tlmm_bench::{engine_rows, reference_rows};
#[cfg(feature = "cosim")]
use hlsk_sim::tlmm_digits::run_digits;
#[cfg(feature = "cosim")]
use std::fmt::Write as _;
#[cfg(feature = "cosim")]
use std::path::PathBuf;

/// TLMM subcommands.
#[derive(Subcommand)]
pub enum TlmmCmd {
    /// Your own weights and activations (.npy) through the ternary matrix
    /// multiplication: float inputs quantized (absmean / absmax, or given
    /// scales), int8 taken as they are; int32 results (and dequantized
    /// floats) written as .npy.
    Matmul(crate::matmul_cli::MatmulArgs),
    /// Train the ternary digits MLP and run the whole test split through the
    /// Verilated engine, comparing every logit with the reference.
    #[cfg(feature = "cosim")]
    Digits {
        /// TLMM build index (`hlsk tlmm builds` lists them).
        #[arg(long, default_value_t = 0)]
        build: usize,
        /// Training seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Training epochs.
        #[arg(long, default_value_t = 30)]
        epochs: usize,
    },
    /// Cycles and utilization per build and layer shape (RTL-measured where
    /// the shape fits the build), and Rust reference throughput; writes JSON.
    #[cfg(feature = "cosim")]
    Bench {
        /// Where to write the JSON.
        #[arg(long, default_value = "target/bench/tlmm.json")]
        json: PathBuf,
    },
    /// List the co-simulated TLMM builds.
    #[cfg(feature = "cosim")]
    Builds,
    /// A subcommand of the co-simulation build, refused with a message.
    #[cfg(not(feature = "cosim"))]
    #[command(external_subcommand)]
    Other(Vec<String>),
}

/// Runs a TLMM subcommand.
pub fn run(cmd: TlmmCmd) -> Result<()> {
    match cmd {
        TlmmCmd::Matmul(args) => crate::matmul_cli::run(&args),
        #[cfg(not(feature = "cosim"))]
        TlmmCmd::Other(words) => crate::refuse_without_cosim("tlmm", &words),
        #[cfg(feature = "cosim")]
        TlmmCmd::Builds => {
            println!(
                "  #  arch  G  T   P  ACC_W  KMax   MMax  peak MAC/cycle  (digits --build takes the OS index)"
            );
            for b in Build::all() {
                let (arch, i) = match b {
                    Build::Os(i) => ("OS", i),
                    Build::Ts(i) => ("TS", i),
                };
                let c = b.config();
                println!(
                    "{i:>3} {arch:>5} {:>2} {:>2} {:>3} {:>6} {:>5} {:>6} {:>15}",
                    c.g,
                    c.t,
                    c.p,
                    c.acc_w,
                    c.k_max,
                    c.m_max,
                    c.g * c.t * c.p
                );
            }
            Ok(())
        }
        #[cfg(feature = "cosim")]
        TlmmCmd::Digits {
            build,
            seed,
            epochs,
        } => {
            if build >= TLMM_CONFIGS.len() {
                bail!(
                    "no TLMM build {build}; there are {} (see `hlsk tlmm builds`)",
                    TLMM_CONFIGS.len()
                );
            }
            eprintln!("training the MLP and running the test split through the RTL ...");
            let r = run_digits(build, seed, epochs, None).map_err(anyhow::Error::msg)?;
            println!("{r}");
            if r.identical != r.images {
                bail!(
                    "{} of {} images differ from the reference",
                    r.images - r.identical,
                    r.images
                );
            }
            Ok(())
        }
        #[cfg(feature = "cosim")]
        TlmmCmd::Bench { json } => bench(json),
    }
}

#[cfg(feature = "cosim")]
fn bench(json: PathBuf) -> Result<()> {
    let total = Build::all().len() * hlsk_sim::tlmm_bench::SHAPES.len();
    let mut steps = crate::progress::Steps::new("tlmm bench", total as u64);
    let mut started = false;
    let rows = engine_rows(|what| {
        if std::mem::replace(&mut started, true) {
            steps.inc();
        }
        steps.start(what);
    })
    .map_err(anyhow::Error::msg)?;
    steps.inc();
    steps.finish();
    println!(
        "{:<34} {:<26} {:>10} {:>8} {:>10} {:>7}",
        "build", "shape", "cycles", "source", "closed", "util"
    );
    for r in &rows {
        println!(
            "{:<34} {:<26} {:>10} {:>8} {:>10} {:>6.1}%",
            r.build,
            r.shape,
            r.cycles,
            if r.measured { "rtl" } else { "model" },
            r.closed_form,
            100.0 * r.utilization
        );
    }
    let reference = reference_rows().map_err(anyhow::Error::msg)?;
    println!("\nRust reference (one core), M ternary MACs/s:");
    println!("{:<28} {:>10} {:>10}", "shape", "golden", "G3 table");
    for r in &reference {
        println!(
            "{:<28} {:>10.0} {:>10.0}",
            r.shape, r.golden_mmacs, r.table_mmacs
        );
    }
    let mut s = String::from("{\n  \"engine\": [\n");
    for (i, r) in rows.iter().enumerate() {
        let _ = writeln!(
            s,
            "    {{\"build\": \"{}\", \"arch\": \"{}\", \"shape\": \"{}\", \"m\": {}, \"k\": {}, \"cycles\": {}, \"measured_on_rtl\": {}, \"closed_form\": {}, \"utilization\": {:.5}, \"peak_macs_per_cycle\": {}}}{}",
            r.build,
            r.arch,
            r.shape,
            r.m,
            r.k,
            r.cycles,
            r.measured,
            r.closed_form,
            r.utilization,
            r.peak,
            if i + 1 < rows.len() { "," } else { "" }
        );
    }
    s.push_str("  ],\n  \"reference\": [\n");
    for (i, r) in reference.iter().enumerate() {
        let _ = writeln!(
            s,
            "    {{\"shape\": \"{}\", \"golden_mmacs_per_s\": {:.1}, \"table_mmacs_per_s\": {:.1}}}{}",
            r.shape,
            r.golden_mmacs,
            r.table_mmacs,
            if i + 1 < reference.len() { "," } else { "" }
        );
    }
    s.push_str("  ]\n}\n");
    if let Some(dir) = json.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&json, s).with_context(|| format!("writing {}", json.display()))?;
    println!("\nwrote {}", json.display());
    Ok(())
}
