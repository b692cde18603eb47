//! The digits MLP (`hls_rust::tlmm::mlp`) with every matrix-vector product
//! run on the Verilated TLMM engine: each image is two jobs (64 -> 128 and
//! 128 -> 10), every integer logit compared with the reference pipeline.

use crate::tlmm::{FLAG_CLEAR, Job, Pressure, compare, run_jobs};
use hls_rust::digits::Digits;
use hls_rust::tlmm::mlp::{TernaryMlp, TrainReport};
use hls_rust::tlmm::{Grouping, TernaryMatrix};
use hlsk_cosim::TlmmOs;
use hlsk_cosim::configs::TLMM_CONFIGS;

/// What running the test split through the RTL showed.
#[derive(Debug, Clone)]
pub struct DigitsRtlReport {
    /// The RTL build (Verilator prefix).
    pub build: String,
    /// Training summary (f32 and ternary accuracies of the reference).
    pub train: TrainReport,
    /// Test images run.
    pub images: usize,
    /// Images whose every integer logit matched the reference bit for bit.
    pub identical: usize,
    /// Test accuracy of the reference integer pipeline.
    pub reference_accuracy: f64,
    /// Test accuracy with the RTL doing the matrix-vector products.
    pub rtl_accuracy: f64,
    /// Engine busy cycles over all jobs.
    pub busy_cycles: u64,
    /// Jobs run on the engine.
    pub jobs: usize,
}

impl std::fmt::Display for DigitsRtlReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.train)?;
        writeln!(
            f,
            "test split through {}: {} images, {} jobs, {} engine busy cycles",
            self.build, self.images, self.jobs, self.busy_cycles
        )?;
        writeln!(
            f,
            "logits bit-identical to the reference: {}/{}",
            self.identical, self.images
        )?;
        write!(
            f,
            "test accuracy: reference {:.4}, RTL {:.4}",
            self.reference_accuracy, self.rtl_accuracy
        )
    }
}

/// Trains the MLP (`seed`, `epochs`) and runs the held-out test split (the
/// first `limit` images if given) through TLMM build `config`.
pub fn run_digits(
    config: usize,
    seed: u64,
    epochs: usize,
    limit: Option<usize>,
) -> Result<DigitsRtlReport, String> {
    let cfg = *TLMM_CONFIGS
        .get(config)
        .ok_or_else(|| format!("no TLMM build {config}"))?;
    let g = Grouping::new(cfg.g as usize).map_err(|e| e.to_string())?;
    let (mlp, train) = TernaryMlp::train(seed, epochs).map_err(|e| e.to_string())?;
    let (_, test) = Digits::load().map_err(|e| e.to_string())?.split();
    let n = limit.unwrap_or(test.len()).min(test.len());
    let mut dut = TlmmOs::new(config, seed as u32).map_err(|e| e.to_string())?;
    dut.reset();
    let (mut identical, mut ref_ok, mut rtl_ok, mut busy, mut jobs) = (0, 0, 0, 0u64, 0);
    for (i, (image, &label)) in test.images.iter().zip(&test.labels).take(n).enumerate() {
        let reference = mlp.infer(image);
        let mut failure: Option<String> = None;
        let mut rtl_matvec = |w: &TernaryMatrix, x: &[i8]| -> Vec<i32> {
            if failure.is_some() {
                return Vec::new();
            }
            let mut job = Job::new(w, g, x.to_vec());
            job.flags = FLAG_CLEAR;
            let jobs_run = [job];
            let r = run_jobs(&mut dut, &jobs_run, Pressure::IDEAL, i as u64)
                .and_then(|seen| compare(&cfg, &jobs_run, &seen).map(|_| seen));
            match r {
                Ok(mut seen) => {
                    let o = seen.remove(0);
                    busy += u64::from(o.busy_cycles);
                    jobs += 1;
                    o.out
                }
                Err(e) => {
                    failure = Some(e);
                    Vec::new()
                }
            }
        };
        let rtl = mlp.infer_with(image, &mut rtl_matvec);
        if let Some(e) = failure {
            return Err(format!("test image {i}: {e}"));
        }
        let rtl = rtl.map_err(|e| format!("test image {i}: {e}"))?;
        if rtl.ints == reference.ints {
            identical += 1;
        }
        ref_ok += usize::from(reference.class() == label as usize);
        rtl_ok += usize::from(rtl.class() == label as usize);
    }
    Ok(DigitsRtlReport {
        build: cfg.prefix(),
        train,
        images: n,
        identical,
        reference_accuracy: ref_ok as f64 / n as f64,
        rtl_accuracy: rtl_ok as f64 / n as f64,
        busy_cycles: busy,
        jobs,
    })
}
