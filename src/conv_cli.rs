//! `hlsk conv ...`: the training-convolution kernel's reference runs, and
//! the same training through the Verilated RTL.

use anyhow::Result;
use clap::Subcommand;
use hls_rust::conv::digits::{train_f32, train_fixed};
#[cfg(feature = "cosim")]
use {
    anyhow::bail,
    hls_rust::conv::digits::{Progress, Report, TrainConfig},
    hlsk_cosim::configs::CONV_CONFIGS,
    hlsk_sim::conv::{MemTiming, digits_training_on},
    std::time::{Duration, Instant},
};

/// Convolution subcommands.
#[derive(Subcommand)]
pub enum ConvCmd {
    /// Train the digits CNN (conv3x3 8, ReLU, pool, conv3x3 16, ReLU, pool,
    /// FC 10) with the fixed-point reference (FP, BP, WU with int32 master
    /// weights, driven through the descriptor executor) and in f32; report
    /// test accuracies. With `--rtl`, train it instead with every descriptor
    /// on the Verilated engine, checked against the reference.
    Digits {
        /// Training seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Training epochs.
        #[arg(long, default_value_t = 12)]
        epochs: usize,
        /// Run every descriptor (training steps and test pass) on the RTL
        /// and compare with the reference training for the same build.
        #[arg(long)]
        rtl: bool,
        /// With `--rtl`: the conv build (index into `CONV_CONFIGS`, listed
        /// in the error for an unknown index).
        #[arg(long, default_value_t = 0, requires = "rtl")]
        build: usize,
    },
}

/// Runs a convolution subcommand.
pub fn run(cmd: ConvCmd) -> Result<()> {
    match cmd {
        ConvCmd::Digits {
            seed,
            epochs,
            rtl: false,
            ..
        } => reference(seed, epochs),
        ConvCmd::Digits {
            seed,
            epochs,
            rtl: true,
            build,
        } => through_rtl(seed, epochs, build),
    }
}

fn reference(seed: u64, epochs: usize) -> Result<()> {
    eprintln!("training in f32 and in fixed point ({epochs} epochs, seed {seed}) ...");
    let f = train_f32(seed, epochs).map_err(anyhow::Error::msg)?;
    let q = train_fixed(seed, epochs).map_err(anyhow::Error::msg)?;
    for r in [&f, &q] {
        println!(
            "{:<6} test accuracy {:.4} ({} test images), train {:.4}, {:.1} s",
            r.kind,
            r.test_acc,
            r.test_total,
            r.train_acc,
            r.elapsed.as_secs_f64()
        );
    }
    let wraps: u64 = q.acc_overflows.iter().map(|(_, n)| n).sum();
    println!(
        "fixed point: {} descriptors per training step, {wraps} accumulator wraps in the overflow audit",
        q.descriptors_per_step
    );
    println!(
        "difference: {:+.2} points (fixed - f32)",
        100.0 * (q.test_acc - f.test_acc)
    );
    Ok(())
}

/// The memory behind the engine's port: fixed latency and burst start-up,
/// no stalls, so the cycle model's busy cycles are checked too.
#[cfg(feature = "cosim")]
const RTL_TIMING: MemTiming = MemTiming::LAT4_BURST2;

#[cfg(not(feature = "cosim"))]
fn through_rtl(_seed: u64, _epochs: usize, _build: usize) -> Result<()> {
    Err(crate::cosim_missing("conv digits --rtl"))
}

#[cfg(feature = "cosim")]
fn through_rtl(seed: u64, epochs: usize, build: usize) -> Result<()> {
    let Some(c) = CONV_CONFIGS.get(build) else {
        let list: Vec<String> = CONV_CONFIGS
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{i}: (T, P) = ({}, {})", c.t, c.p))
            .collect();
        bail!("no conv build {build}; the builds are {}", list.join(", "));
    };
    eprintln!(
        "training in fixed point through the RTL, build {build} ((T, P) = ({}, {}), ACC_W/ACC_W_WU {}/{}), \
         {epochs} epochs, seed {seed}; every descriptor checked against the reference ...",
        c.t, c.p, c.acc_w, c.acc_w_wu
    );
    let start = Instant::now();
    let mut last = Duration::ZERO;
    let mut show = |p: &Progress| {
        let done = p.batch == p.batches;
        if p.elapsed < last + Duration::from_secs(10) && !done {
            return;
        }
        last = p.elapsed;
        let secs = p.elapsed.as_secs_f64().max(1e-9);
        let phase = if p.testing() {
            "test pass".to_owned()
        } else {
            format!("epoch {}/{}", p.epoch + 1, p.epochs)
        };
        eprintln!(
            "  {phase}: batch {}/{}, {} steps, {:.1} steps/s, {:.1} M engine cycles, {:.2} M cycles/s, {:.0} s",
            p.batch,
            p.batches,
            p.steps,
            p.steps as f64 / secs,
            p.executed.cycles as f64 / 1e6,
            p.executed.cycles as f64 / 1e6 / secs,
            secs
        );
    };
    let cfg = TrainConfig::new(seed, epochs);
    let run = digits_training_on(build, &cfg, RTL_TIMING, &mut show).map_err(anyhow::Error::msg)?;
    let wall = start.elapsed().as_secs_f64();
    let line = |name: &str, r: &Report| {
        println!(
            "{name:<9} test accuracy {:.4} ({} test images), train {:.4}, {:.1} s",
            r.test_acc,
            r.test_total,
            r.train_acc,
            r.elapsed.as_secs_f64()
        );
    };
    line("reference", &run.reference);
    line("rtl", &run.rtl);
    let layers: Vec<String> = run.rtl.masters.iter().map(|(l, _)| l.to_string()).collect();
    println!(
        "bit-identical: every descriptor's memory image, the final master weights (layers {}) \
         and the logits of all {} test images",
        layers.join(", "),
        run.rtl.test_logits.len()
    );
    let e = &run.rtl.executed;
    println!(
        "{} training steps ({} descriptors each) and the test pass: {} engine cycles, {} fired, \
         {} simulated cycles in {wall:.0} s ({:.2} M cycles/s)",
        run.rtl.steps,
        run.rtl.descriptors_per_step,
        e.cycles,
        e.fired,
        run.simulated_cycles,
        run.simulated_cycles as f64 / 1e6 / wall.max(1e-9)
    );
    Ok(())
}
