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
//! The fixed-point loop takes the descriptor executor as a parameter
//! ([`train_fixed_on`]): the reference, or the RTL in co-simulation
//! (`hlsk conv digits --rtl`), which must leave bit-identical masters and
//! logits ([`Report::bit_difference`]).
//!
//! ```no_run
//! // About 1 s each in release mode, 3 s in the dev profile; see tests/conv_digits.rs.
//! let fixed = hls_rust::conv::digits::train_fixed(1, 12).unwrap();
//! let float = hls_rust::conv::digits::train_f32(1, 12).unwrap();
//! println!("fixed {:.3} f32 {:.3}", fixed.test_acc, float.test_acc);
//! ```

use super::desc::Op;
use super::exec::{Executor, Reference};
use super::float::{FloatNet, Grads, Trace, argmax, init_weights, softmax_xent};
use super::hw::HwConfig;
use super::layout::Memory;
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
    /// A training or test step failed.
    #[error("{at}: {source}")]
    Step {
        /// Where (epoch and minibatch, or test batch).
        at: String,
        /// Why.
        source: PlanError,
    },
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
    /// Train on the first this many training images only (`None`: all).
    pub train_images: Option<usize>,
    /// Evaluate the first this many test images only (`None`: all).
    pub test_images: Option<usize>,
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
            train_images: None,
            test_images: None,
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
    /// Training steps (minibatches) run.
    pub steps: usize,
    /// Fixed point: the executor's counters summed over every descriptor
    /// run (training and test).
    pub executed: Stats,
    /// Fixed point: the final int32 master-weight codes of every layer with
    /// weights, `(layer, [M, N, K, K])`.
    pub masters: Vec<(usize, Tensor4<i32>)>,
    /// The logits of every test image after training, `[image][class]`.
    pub test_logits: Vec<Vec<f64>>,
}

impl Report {
    /// The first difference between two fixed-point runs' final master
    /// weights or test logits, described; `None` when they are
    /// bit-identical.
    pub fn bit_difference(&self, other: &Report) -> Option<String> {
        bit_difference(
            (&self.masters, &self.test_logits),
            (&other.masters, &other.test_logits),
        )
    }
}

/// What two fixed-point runs are compared on: the master-weight codes of
/// every layer with weights, `(layer, [M, N, K, K])`, and the logits of
/// every test image.
pub type Outcome<'a> = (&'a [(usize, Tensor4<i32>)], &'a [Vec<f64>]);

/// `(step index, counters)` of the descriptors a pass ran.
pub type StepStats = [(usize, Stats)];

/// The first difference between two fixed-point runs' outcomes, described;
/// `None` when they are bit-identical. [`Report::bit_difference`] on the
/// parts.
pub fn bit_difference(
    (a_masters, a_logits): Outcome<'_>,
    (b_masters, b_logits): Outcome<'_>,
) -> Option<String> {
    if a_masters.len() != b_masters.len() {
        return Some(format!(
            "{} layers with master weights against {}",
            a_masters.len(),
            b_masters.len()
        ));
    }
    for ((layer, a), (_, b)) in a_masters.iter().zip(b_masters) {
        if a.dims() != b.dims() {
            return Some(format!(
                "layer {layer} master weights: dims {:?} against {:?}",
                a.dims(),
                b.dims()
            ));
        }
        let differ = a.data().iter().zip(b.data()).filter(|(x, y)| x != y);
        if let Some(first) = a.data().iter().zip(b.data()).position(|(x, y)| x != y) {
            return Some(format!(
                "layer {layer} master weights differ in {} of {} codes, first at {:?}: {} against {}",
                differ.count(),
                a.data().len(),
                a.index_of(first),
                a.data()[first],
                b.data()[first]
            ));
        }
    }
    if a_logits.len() != b_logits.len() {
        return Some(format!(
            "{} test images against {}",
            a_logits.len(),
            b_logits.len()
        ));
    }
    let image = a_logits.iter().zip(b_logits).position(|(a, b)| a != b)?;
    Some(format!(
        "test logits of image {image} differ: {:?} against {:?}",
        a_logits[image], b_logits[image]
    ))
}

/// Where a training run is, reported after every training step and test batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Epochs of the run.
    pub epochs: usize,
    /// The current epoch (0-based); equal to `epochs` in the test pass.
    pub epoch: usize,
    /// Minibatches (or test batches) done in this epoch.
    pub batch: usize,
    /// Minibatches (or test batches) in this epoch.
    pub batches: usize,
    /// Training steps done so far.
    pub steps: usize,
    /// The executor's counters summed over every descriptor so far.
    pub executed: Stats,
    /// Time since the start of training.
    pub elapsed: Duration,
}

impl Progress {
    /// In the test pass.
    pub fn testing(&self) -> bool {
        self.epoch >= self.epochs
    }
}

/// What one training step ([`train_step`]) saw.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutcome {
    /// Summed softmax cross-entropy of the minibatch.
    pub loss: f64,
    /// Images classified correctly by the forward pass.
    pub correct: usize,
    /// `(step index, counters)` of every descriptor.
    pub stats: Vec<(usize, Stats)>,
}

/// One training step of `plan` on `mem`, descriptors performed by `exec`:
/// stores the images `idx` of `data` (missing batch slots blank, with a
/// zero loss gradient), runs the forward steps, computes the softmax
/// cross-entropy gradient of the logits on the host, and runs the backward
/// steps (BP, WU with the SGD update, pool backward).
pub fn train_step(
    plan: &TrainPlan,
    mem: &mut Memory,
    exec: &mut impl Executor,
    data: &Digits,
    idx: &[usize],
) -> Result<StepOutcome, PlanError> {
    plan.store_input(mem, &batch_images(data, idx, plan.batch))?;
    let mut stats = plan.run_forward_with(mem, exec)?;
    let logits = plan.read_logits(mem)?;
    let (mut loss, mut correct) = (0.0, 0);
    let grads: Vec<Vec<f64>> = logits
        .iter()
        .enumerate()
        .map(|(b, z)| match idx.get(b) {
            Some(&i) => {
                let label = usize::from(data.labels[i]);
                let (l, g) = softmax_xent(z, label);
                loss += l;
                correct += usize::from(argmax(z) == label);
                g
            }
            None => vec![0.0; z.len()],
        })
        .collect();
    plan.write_logits_grad(mem, &grads)?;
    stats.extend(plan.run_backward_with(mem, exec)?);
    Ok(StepOutcome {
        loss,
        correct,
        stats,
    })
}

/// Images `[B, 1, 8, 8]` with pixel / 16, for samples `idx` (missing ones zero).
pub fn batch_images(d: &Digits, idx: &[usize], batch: usize) -> Tensor4<f64> {
    Tensor4::from_fn([batch, 1, 8, 8], |[b, _, y, x]| {
        idx.get(b)
            .map_or(0.0, |&i| f64::from(d.images[i][y * 8 + x]) / 16.0)
    })
}

/// The train and test splits, cut to `cfg`'s subsets.
pub(crate) fn load_split(cfg: &TrainConfig) -> Result<(Digits, Digits), TrainError> {
    let (mut train, mut test) = Digits::load()?.split();
    if let Some(n) = cfg.train_images {
        train.truncate(n);
    }
    if let Some(n) = cfg.test_images {
        test.truncate(n);
    }
    Ok((train, test))
}

/// The minibatches of an epoch over `n` samples: a shuffle seeded by
/// `seed` and `epoch`, cut into full batches of `batch` (the rest is left
/// out).
pub fn epoch_batches(n: usize, batch: usize, seed: u64, epoch: usize) -> Vec<Vec<usize>> {
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
    train_fixed_on(cfg, &mut Reference(cfg.hw), &mut |_| {})
}

/// [`train_fixed_with`] with every descriptor (training steps and the test
/// pass) performed by `exec`, which must be built as `cfg.hw`; `progress`
/// is called after every training step and test batch.
pub fn train_fixed_on(
    cfg: &TrainConfig,
    exec: &mut impl Executor,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Report, TrainError> {
    train_fixed_state(cfg, exec, progress).map(|t| t.report)
}

/// A fixed-point training run with its plan and final memory image (the
/// trained masters and working weights in place), to continue from.
#[derive(Debug, Clone)]
pub struct Trained {
    /// What the run reports.
    pub report: Report,
    /// The plan it ran (memory map, scales, descriptors).
    pub plan: TrainPlan,
    /// The memory image after the test pass.
    pub mem: Memory,
}

/// [`train_fixed_on`], also returning the plan and the final memory image.
pub fn train_fixed_state(
    cfg: &TrainConfig,
    exec: &mut impl Executor,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Trained, TrainError> {
    let start = Instant::now();
    let (train, test) = load_split(cfg)?;
    let net = Network::digits();
    let w0 = init_weights(&net, cfg.hw.t, cfg.seed)?;
    let fnet = FloatNet::new(&net, cfg.hw.t, &w0)?;
    let mags = fnet.magnitudes(&calibrate(&fnet, &train, cfg)?);
    let scales = Scales::propose(&net, &mags, &cfg.headroom);
    let plan = TrainPlan::new(&net, cfg.batch, &cfg.hw, scales, cfg.lr)?;
    exec.memory_map(&plan.regions);
    let mut mem = plan.new_memory();
    for (i, w) in w0.iter().enumerate() {
        if let Some(w) = w {
            plan.store_weights(&mut mem, i, w)?;
        }
    }
    let mut overflows = vec![0u64; Op::ALL.len()];
    let mut executed = Stats::default();
    let mut count = |stats: &[(usize, Stats)]| {
        for (i, s) in stats {
            if let Step::Engine { desc, .. } = &plan.steps[*i] {
                overflows[desc.op.code() as usize] += s.acc_overflows;
            }
            executed += *s;
        }
        executed
    };
    let mut epoch_loss = Vec::new();
    let mut train_acc = 0.0;
    let mut steps = 0;
    for epoch in 0..cfg.epochs {
        let (mut loss_sum, mut correct, mut seen) = (0.0, 0, 0);
        let batches = epoch_batches(train.len(), cfg.batch, cfg.seed, epoch);
        for (k, idx) in batches.iter().enumerate() {
            let out = train_step(&plan, &mut mem, exec, &train, idx).map_err(|source| {
                TrainError::Step {
                    at: format!("epoch {epoch}, minibatch {k}"),
                    source,
                }
            })?;
            loss_sum += out.loss;
            correct += out.correct;
            seen += idx.len();
            steps += 1;
            progress(&Progress {
                epochs: cfg.epochs,
                epoch,
                batch: k + 1,
                batches: batches.len(),
                steps,
                executed: count(&out.stats),
                elapsed: start.elapsed(),
            });
        }
        epoch_loss.push(loss_sum / seen.max(1) as f64);
        train_acc = correct as f64 / seen.max(1) as f64;
    }
    let masters = master_codes(&plan, &mem)?;
    let eval = evaluate(&plan, &mut mem, exec, &test, &mut |batch, batches, s| {
        progress(&Progress {
            epochs: cfg.epochs,
            epoch: cfg.epochs,
            batch,
            batches,
            steps,
            executed: count(s),
            elapsed: start.elapsed(),
        });
    })?;
    let report = Report {
        kind: "fixed",
        config: *cfg,
        epoch_loss,
        train_acc,
        test_acc: eval.accuracy(),
        test_total: test.len(),
        elapsed: start.elapsed(),
        acc_overflows: Op::ALL
            .iter()
            .map(|&op| (op, overflows[op.code() as usize]))
            .collect(),
        predicted_step: Some(plan.predicted()),
        descriptors_per_step: plan.descriptors().count(),
        scales: Some(plan.scales.clone()),
        steps,
        executed,
        masters,
        test_logits: eval.logits,
    };
    Ok(Trained { report, plan, mem })
}

/// The int32 master-weight codes of every layer of `plan` with weights,
/// `(layer, [M, N, K, K])`, read from `mem`.
pub fn master_codes(
    plan: &TrainPlan,
    mem: &Memory,
) -> Result<Vec<(usize, Tensor4<i32>)>, PlanError> {
    (0..plan.geometry.len())
        .filter(|&i| plan.tensors[i].master.is_some())
        .map(|i| Ok((i, plan.load_master_codes(mem, i)?)))
        .collect()
}

/// What a test pass ([`evaluate`]) saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Images classified correctly.
    pub correct: usize,
    /// The logits of every image, `[image][class]`.
    pub logits: Vec<Vec<f64>>,
    /// The executor's counters summed over the pass.
    pub executed: Stats,
}

impl Evaluation {
    /// Share of the images classified correctly (0 for no images).
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.logits.len().max(1) as f64
    }
}

/// A test pass: forward passes of `plan` on `mem` over every image of
/// `data` in order, in batches of the plan's size (the last one padded with
/// blank images), descriptors performed by `exec`; `on_batch(done, batches,
/// stats)` is called after each batch with its descriptors' counters.
pub fn evaluate(
    plan: &TrainPlan,
    mem: &mut Memory,
    exec: &mut impl Executor,
    data: &Digits,
    on_batch: &mut dyn FnMut(usize, usize, &StepStats),
) -> Result<Evaluation, TrainError> {
    let batch = plan.batch.max(1);
    let mut eval = Evaluation {
        correct: 0,
        logits: Vec::with_capacity(data.len()),
        executed: Stats::default(),
    };
    let all: Vec<usize> = (0..data.len()).collect();
    let batches = all.len().div_ceil(batch);
    for (k, idx) in all.chunks(batch).enumerate() {
        let at = |source| TrainError::Step {
            at: format!("test batch {k}"),
            source,
        };
        plan.store_input(mem, &batch_images(data, idx, plan.batch))
            .map_err(at)?;
        let s = plan.run_forward_with(mem, exec).map_err(at)?;
        let logits = plan.read_logits(mem).map_err(at)?;
        for (b, &i) in idx.iter().enumerate() {
            eval.correct += usize::from(argmax(&logits[b]) == usize::from(data.labels[i]));
            eval.logits.push(logits[b].clone());
        }
        for (_, st) in &s {
            eval.executed += *st;
        }
        on_batch(k + 1, batches, &s);
    }
    Ok(eval)
}

/// Trains the same network in f32 (same initial weights, minibatches and learning rate).
pub fn train_f32_with(cfg: &TrainConfig) -> Result<Report, TrainError> {
    let start = Instant::now();
    let (train, test) = load_split(cfg)?;
    let net = Network::digits();
    let w0 = init_weights(&net, cfg.hw.t, cfg.seed)?;
    let mut fnet = FloatNet::new(&net, cfg.hw.t, &w0)?;
    let mut epoch_loss = Vec::new();
    let mut train_acc = 0.0;
    let mut steps = 0;
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
            steps += 1;
        }
        epoch_loss.push(loss_sum / seen.max(1) as f64);
        train_acc = correct as f64 / seen.max(1) as f64;
    }
    let mut correct = 0;
    let mut test_logits = Vec::with_capacity(test.len());
    let all: Vec<usize> = (0..test.len()).collect();
    for idx in all.chunks(cfg.batch) {
        let tr = fnet.forward(&batch_images(&test, idx, idx.len()).map(|v| v as f32))?;
        let z = tr.acts.last().cloned().unwrap_or_default();
        for (b, &i) in idx.iter().enumerate() {
            let row: Vec<f64> = (0..CLASSES).map(|k| f64::from(z[[b, k, 0, 0]])).collect();
            correct += usize::from(argmax(&row) == usize::from(test.labels[i]));
            test_logits.push(row);
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
        steps,
        executed: Stats::default(),
        masters: Vec::new(),
        test_logits,
    })
}
