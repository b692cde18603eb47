//! `hlsk conv ...`: the training-convolution kernel's reference runs.

use anyhow::Result;
use clap::Subcommand;
use hls_rust::conv::digits::{train_f32, train_fixed};

/// Convolution subcommands.
#[derive(Subcommand)]
pub enum ConvCmd {
    /// Train the digits CNN (conv3x3 8, ReLU, pool, conv3x3 16, ReLU, pool,
    /// FC 10) with the fixed-point reference (FP, BP, WU with int32 master
    /// weights, driven through the descriptor executor) and in f32; report
    /// test accuracies.
    Digits {
        /// Training seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Training epochs.
        #[arg(long, default_value_t = 12)]
        epochs: usize,
    },
}

/// Runs a convolution subcommand.
pub fn run(cmd: ConvCmd) -> Result<()> {
    match cmd {
        ConvCmd::Digits { seed, epochs } => {
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
    }
}
