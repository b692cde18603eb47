//! Training the digits CNN ([`Network::digits`]) end to end on the fixed
//! split of [`crate::digits`], once in int16 fixed point through the engine
//! path (the plan's descriptor list run by
//! [`run_descriptor`](super::run_descriptor), the host computing only the
//! softmax loss and the batch-as-width copies), and once in f32 with the same
//! initial weights and minibatch order.
//!
//! Fixed-point scales come from a calibration pass of the f32 network at its
//! initial weights ([`Scales::propose`]); they stay fixed during training.
//!
//! ```no_run
//! // About 1 s each in release mode, 3 s in the dev profile; see tests/conv_digits.rs.
//! let fixed = hls_rust::conv::digits::train_fixed(1, 12).unwrap();
//! let float = hls_rust::conv::digits::train_f32(1, 12).unwrap();
//! println!("fixed {:.3} f32 {:.3}", fixed.test_acc, float.test_acc);
//! ```

use super::desc::Op;
use super::float::{FloatNet, Grads, Trace, argmax, init_weights, softmax_xent};
use super::hw::HwConfig;
use super::model::Stats;
use super::plan::{Headroom, Network, PlanError, Scales, Step, TrainPlan};
use super::tensor::Tensor4;
use crate::digits::{CLASSES, Digits};
use crate::rng::Rng;
use std::time::{Duration, Instant};

/// Why training could not run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The data set could not be loaded.
    #[error(transparent)]
    Data(#[from] crate::digits::Error),
    /// Planning or executing failed.
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// Training hyper-parameters and the hardware the plan targets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    /// Seed of the initial weights and the minibatch order.
    pub seed: u64,
    /// Passes over the training set.
    pub epochs: usize,
    /// Minibatch size (the last partial batch of an epoch is skipped).
    pub batch: usize,
    /// Learning rate on the batch-mean gradient.
    pub lr: f64,
    /// Hardware the descriptors are planned and executed for.
    pub hw: HwConfig,
    /// Scale headroom over the calibration maxima.
    pub headroom: Headroom,
    /// Minibatches in the calibration pass.
    pub calib_batches: usize,
}

impl TrainConfig {
    /// Defaults: batch 8, lr 0.1, ECP5 build, 8 calibration batches.
    pub fn new(seed: u64, epochs: usize) -> Self {
        Self {
            seed,
            epochs,
            batch: 8,
            lr: 0.1,
            hw: HwConfig::ecp5(),
            headroom: Headroom::default(),
            calib_batches: 8,
        }
    }
}

/// Outcome of a training run.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// `"fixed"` or `"f32"`.
    pub kind: &'static str,
    /// The configuration.
    pub config: TrainConfig,
    /// Mean training loss per epoch.
    pub epoch_loss: Vec<f64>,
    /// Training accuracy over the last epoch (on the fly).
    pub train_acc: f64,
    /// Test accuracy after training.
    pub test_acc: f64,
    /// Test samples.
    pub test_total: usize,
    /// Wall-clock time of training and evaluation.
    pub elapsed: Duration,
    /// Fixed point: the scales used.
    pub scales: Option<Scales>,
    /// Fixed point: wrapped accumulators over the whole run, per operation (the overflow audit).
    pub acc_overflows: Vec<(Op, u64)>,
    /// Fixed point: the model's counters for one training step.
    pub predicted_step: Option<Stats>,
    /// Fixed point: descriptors per training step.
    pub descriptors_per_step: usize,
}

/// Images `[B, 1, 8, 8]` with pixel / 16, for samples `idx` (missing ones zero).
pub fn batch_images(d: &Digits, idx: &[usize], batch: usize) -> Tensor4<f64> {
    Tensor4::from_fn([batch, 1, 8, 8], |[b, _, y, x]| {
        idx.get(b)
            .map_or(0.0, |&i| f64::from(d.images[i][y * 8 + x]) / 16.0)
    })
}

/// The minibatches of an epoch: a seeded shuffle cut into full batches.
fn epoch_batches(n: usize, batch: usize, seed: u64, epoch: usize) -> Vec<Vec<usize>> {
    let mut idx: Vec<usize> = (0..n).collect();
    Rng::new(seed ^ (0x9e37_79b9 * (epoch as u64 + 1))).shuffle(&mut idx);
    idx.chunks_exact(batch.max(1)).map(|c| c.to_vec()).collect()
}

/// Trains the fixed-point network with the default configuration.
pub fn train_fixed(seed: u64, epochs: usize) -> Result<Report, TrainError> {
    train_fixed_with(&TrainConfig::new(seed, epochs))
}

/// Trains the f32 network with the default configuration.
pub fn train_f32(seed: u64, epochs: usize) -> Result<Report, TrainError> {
    train_f32_with(&TrainConfig::new(seed, epochs))
}

/// Calibration: f32 forward and backward passes at the initial weights.
fn calibrate(
    fnet: &FloatNet,
    train: &Digits,
    cfg: &TrainConfig,
) -> Result<Vec<(Trace, Grads)>, PlanError> {
    epoch_batches(train.len(), cfg.batch, cfg.seed, 0)
        .iter()
        .take(cfg.calib_batches)
        .map(|idx| {
            let x = batch_images(train, idx, cfg.batch).map(|v| v as f32);
            let tr = fnet.forward(&x)?;
            let dl = logits_grad_f32(&tr, train, idx);
            let g = fnet.backward(&tr, &dl)?;
            Ok((tr, g))
        })
        .collect()
}

fn logits_grad_f32(tr: &Trace, d: &Digits, idx: &[usize]) -> Tensor4<f32> {
    let z = tr.acts.last().cloned().unwrap_or_default();
    Tensor4::from_fn(z.dims(), |[b, c, _, _]| {
        let row: Vec<f64> = (0..z.dims()[1])
            .map(|k| f64::from(z[[b, k, 0, 0]]))
            .collect();
        softmax_xent(&row, usize::from(d.labels[idx[b]])).1[c] as f32
    })
}

/// Trains the fixed-point network: every FP, BP, WU and pool step is a
/// descriptor executed by the reference executor on one memory image.
pub fn train_fixed_with(cfg: &TrainConfig) -> Result<Report, TrainError> {
    let start = Instant::now();
    let (train, test) = Digits::load()?.split();
    let net = Network::digits();
    let w0 = init_weights(&net, cfg.hw.t, cfg.seed)?;
    let fnet = FloatNet::new(&net, cfg.hw.t, &w0)?;
    let mags = fnet.magnitudes(&calibrate(&fnet, &train, cfg)?);
    let scales = Scales::propose(&net, &mags, &cfg.headroom);
    let plan = TrainPlan::new(&net, cfg.batch, &cfg.hw, scales, cfg.lr)?;
    let mut mem = plan.new_memory();
    for (i, w) in w0.iter().enumerate() {
        if let Some(w) = w {
            plan.store_weights(&mut mem, i, w)?;
        }
    }
    let mut overflows = vec![0u64; Op::ALL.len()];
    let mut count = |plan: &TrainPlan, stats: &[(usize, Stats)]| {
        for (i, s) in stats {
            if let Step::Engine { desc, .. } = &plan.steps[*i] {
                overflows[desc.op.code() as usize] += s.acc_overflows;
            }
        }
    };
    let mut epoch_loss = Vec::new();
    let mut train_acc = 0.0;
    for epoch in 0..cfg.epochs {
        let (mut loss_sum, mut correct, mut seen) = (0.0, 0, 0);
        for idx in epoch_batches(train.len(), cfg.batch, cfg.seed, epoch) {
            plan.store_input(&mut mem, &batch_images(&train, &idx, cfg.batch))?;
            let s = plan.run_forward(&mut mem)?;
            count(&plan, &s);
            let logits = plan.read_logits(&mem)?;
            let mut grads = Vec::with_capacity(cfg.batch);
            for (b, z) in logits.iter().enumerate() {
                let label = usize::from(train.labels[idx[b]]);
                let (l, g) = softmax_xent(z, label);
                loss_sum += l;
                correct += usize::from(argmax(z) == label);
                seen += 1;
                grads.push(g);
            }
            plan.write_logits_grad(&mut mem, &grads)?;
            let s = plan.run_backward(&mut mem)?;
            count(&plan, &s);
        }
        epoch_loss.push(loss_sum / seen.max(1) as f64);
        train_acc = correct as f64 / seen.max(1) as f64;
    }
    // Test: forward passes, the last batch padded with blank images.
    let mut correct = 0;
    let all: Vec<usize> = (0..test.len()).collect();
    for idx in all.chunks(cfg.batch) {
        plan.store_input(&mut mem, &batch_images(&test, idx, cfg.batch))?;
        let s = plan.run_forward(&mut mem)?;
        count(&plan, &s);
        let logits = plan.read_logits(&mem)?;
        for (b, &i) in idx.iter().enumerate() {
            correct += usize::from(argmax(&logits[b]) == usize::from(test.labels[i]));
        }
    }
    Ok(Report {
        kind: "fixed",
        config: *cfg,
        epoch_loss,
        train_acc,
        test_acc: correct as f64 / test.len().max(1) as f64,
        test_total: test.len(),
        elapsed: start.elapsed(),
        acc_overflows: Op::ALL
            .iter()
            .map(|&op| (op, overflows[op.code() as usize]))
            .collect(),
        predicted_step: Some(plan.predicted()),
        descriptors_per_step: plan.descriptors().count(),
        scales: Some(plan.scales.clone()),
    })
}

/// Trains the same network in f32 (same initial weights, minibatches and learning rate).
pub fn train_f32_with(cfg: &TrainConfig) -> Result<Report, TrainError> {
    let start = Instant::now();
    let (train, test) = Digits::load()?.split();
    let net = Network::digits();
    let w0 = init_weights(&net, cfg.hw.t, cfg.seed)?;
    let mut fnet = FloatNet::new(&net, cfg.hw.t, &w0)?;
    let mut epoch_loss = Vec::new();
    let mut train_acc = 0.0;
    for epoch in 0..cfg.epochs {
        let (mut loss_sum, mut correct, mut seen) = (0.0, 0, 0);
        for idx in epoch_batches(train.len(), cfg.batch, cfg.seed, epoch) {
            let x = batch_images(&train, &idx, cfg.batch).map(|v| v as f32);
            let tr = fnet.forward(&x)?;
            let z = tr.acts.last().cloned().unwrap_or_default();
            for (b, &i) in idx.iter().enumerate() {
                let row: Vec<f64> = (0..CLASSES).map(|k| f64::from(z[[b, k, 0, 0]])).collect();
                let label = usize::from(train.labels[i]);
                loss_sum += softmax_xent(&row, label).0;
                correct += usize::from(argmax(&row) == label);
                seen += 1;
            }
            let g = fnet.backward(&tr, &logits_grad_f32(&tr, &train, &idx))?;
            fnet.sgd(&g, cfg.lr as f32, cfg.batch);
        }
        epoch_loss.push(loss_sum / seen.max(1) as f64);
        train_acc = correct as f64 / seen.max(1) as f64;
    }
    let mut correct = 0;
    let all: Vec<usize> = (0..test.len()).collect();
    for idx in all.chunks(cfg.batch) {
        let tr = fnet.forward(&batch_images(&test, idx, idx.len()).map(|v| v as f32))?;
        let z = tr.acts.last().cloned().unwrap_or_default();
        for (b, &i) in idx.iter().enumerate() {
            let row: Vec<f64> = (0..CLASSES).map(|k| f64::from(z[[b, k, 0, 0]])).collect();
            correct += usize::from(argmax(&row) == usize::from(test.labels[i]));
        }
    }
    Ok(Report {
        kind: "f32",
        config: *cfg,
        epoch_loss,
        train_acc,
        test_acc: correct as f64 / test.len().max(1) as f64,
        test_total: test.len(),
        elapsed: start.elapsed(),
        scales: None,
        acc_overflows: Vec::new(),
        predicted_step: None,
        descriptors_per_step: 0,
    })
}
