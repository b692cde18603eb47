//! On-device adaptation of the digits CNN, EF-Train's use case: pretrain
//! with the reference, then fine-tune on a shifted domain with every
//! descriptor run by an [`Executor`] (the reference, the RTL, or the board
//! SoC's twin through the host link), either the whole network or only its
//! last layers with the earlier ones frozen.
//!
//! - **Domain.** [`ShiftedSplit`] makes a shifted domain from the held-out
//!   split of [`crate::digits`] (never used in pretraining): every image
//!   moved one pixel right ([`SHIFT_DX`]), its contrast inverted
//!   (`16 - v`), and integer noise uniform in `-NOISE..=NOISE` added
//!   ([`NOISE`], clamped to `0..=16`), drawn from the seed. A seeded
//!   shuffle cuts it into an adaptation set ([`ADAPT_PERCENT`] %) and a
//!   disjoint shifted test set; the unshifted versions of the test images
//!   are the original test set (forgetting is measured on images the
//!   network never saw in any form).
//! - **Frozen layers.** [`freeze`] keeps the forward steps and drops every
//!   backward step of the layers below the first trainable one, and that
//!   layer's BP (no input gradient is needed below it): a frozen layer gets
//!   no BP, no WU and no pool backward, and nothing it produced is kept for
//!   the backward pass ([`training_memory`] counts what is).
//! - **Replay.** With [`AdaptConfig::replay`] = n, n original training
//!   images (chosen by the seed, the ones the network was pretrained on)
//!   stay on the device and join the adaptation set in every fine-tuning
//!   epoch: rehearsal against forgetting, at the cost of their memory and
//!   of n more images per epoch.
//!
//! ```no_run
//! use hls_rust::conv::adapt::{AdaptConfig, Mode, adapt_on, pretrain};
//! use hls_rust::conv::{HwConfig, Reference};
//!
//! let cfg = AdaptConfig::new(1, 4, 3, HwConfig::up5k());
//! let pre = pretrain(&cfg, &mut |_| {}).unwrap();
//! let run = adapt_on(&pre, &cfg, Mode::LastLayers(1), &mut Reference(cfg.hw), &mut |_| {}).unwrap();
//! println!(
//!     "shifted {:.3} -> {:.3}, original {:.3} -> {:.3}",
//!     pre.shifted.accuracy(),
//!     run.shifted.accuracy(),
//!     pre.original.accuracy(),
//!     run.original.accuracy()
//! );
//! ```

use super::desc::Op;
use super::digits::{
    self, Evaluation, Progress, TrainConfig, TrainError, Trained, epoch_batches, evaluate,
    load_split, master_codes, train_fixed_state, train_step,
};
use super::exec::{self, Executor, Reference};
use super::hw::HwConfig;
use super::model::Stats;
use super::plan::{HostOp, Layer, Network, PlanError, Step, TrainPlan};
use super::tensor::Tensor4;
use crate::digits::{Digits, PIXELS};
use crate::rng::Rng;
use std::fmt;
use std::time::{Duration, Instant};

/// Pixels the shifted domain moves every image to the right (the vacated
/// left column is background).
pub const SHIFT_DX: usize = 1;
/// Largest pixel value of the data set (pixels are `0..=LEVELS`).
pub const LEVELS: u8 = 16;
/// The shifted domain adds integer noise uniform in `-NOISE..=NOISE`.
pub const NOISE: u8 = 2;
/// Share of the held-out split that becomes the adaptation set, percent.
pub const ADAPT_PERCENT: usize = 50;

/// Salt of the noise generator (seeded by the domain seed).
const NOISE_SALT: u64 = 0x0d0e_a1a5_0001;
/// Salt of the adaptation/test cut.
const CUT_SALT: u64 = 0x0d0e_a1a5_0002;
/// Salt of the adaptation minibatch order.
const ORDER_SALT: u64 = 0x0d0e_a1a5_0003;
/// Salt of the choice of replayed original training images.
const REPLAY_SALT: u64 = 0x0d0e_a1a5_0004;

/// `img` in the shifted domain: moved [`SHIFT_DX`] pixels right
/// (background enters on the left), inverted (`16 - v`), plus noise uniform
/// in `-NOISE..=NOISE` drawn from `rng` (one draw per pixel, row-major),
/// clamped to `0..=16`.
pub fn shift_image(img: &[u8; PIXELS], rng: &mut Rng) -> [u8; PIXELS] {
    let mut out = [0u8; PIXELS];
    for (i, v) in out.iter_mut().enumerate() {
        let (y, x) = (i / 8, i % 8);
        let moved = x.checked_sub(SHIFT_DX).map_or(0, |sx| img[y * 8 + sx]);
        let inverted = i16::from(LEVELS) - i16::from(moved.min(LEVELS));
        let noise = rng.below(2 * u64::from(NOISE) + 1) as i16 - i16::from(NOISE);
        *v = (inverted + noise).clamp(0, i16::from(LEVELS)) as u8;
    }
    out
}

/// The shifted domain made from a held-out split, cut into an adaptation
/// set and a disjoint test set.
#[derive(Debug, Clone)]
pub struct ShiftedSplit {
    /// The seed it was made from.
    pub seed: u64,
    /// Shifted images to fine-tune on.
    pub adapt: Digits,
    /// Shifted images to test on (none of them in `adapt`).
    pub test: Digits,
    /// The images of `test`, unshifted.
    pub test_original: Digits,
    /// Positions in the held-out split of the `adapt` images.
    pub adapt_idx: Vec<usize>,
    /// Positions in the held-out split of the `test` images.
    pub test_idx: Vec<usize>,
}

impl ShiftedSplit {
    /// Shifts every image of `heldout` ([`shift_image`], noise from
    /// `seed`, images in order) and cuts the result with a shuffle seeded
    /// by `seed`: the first [`ADAPT_PERCENT`] % adapt, the rest test.
    pub fn new(heldout: &Digits, seed: u64) -> Self {
        let mut rng = Rng::new(seed ^ NOISE_SALT);
        let shifted = Digits {
            images: heldout
                .images
                .iter()
                .map(|img| shift_image(img, &mut rng))
                .collect(),
            labels: heldout.labels.clone(),
        };
        let mut idx: Vec<usize> = (0..heldout.len()).collect();
        Rng::new(seed ^ CUT_SALT).shuffle(&mut idx);
        let test_idx = idx.split_off(heldout.len() * ADAPT_PERCENT / 100);
        Self {
            seed,
            adapt: shifted.subset(&idx),
            test: shifted.subset(&test_idx),
            test_original: heldout.subset(&test_idx),
            adapt_idx: idx,
            test_idx,
        }
    }
}

/// What fine-tuning trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every layer with weights.
    Full,
    /// The last `n` layers with weights (pools between them included); the
    /// earlier ones are frozen.
    LastLayers(usize),
}

impl Mode {
    /// The index of the first layer that trains in `net`.
    pub fn first_trainable(self, net: &Network) -> Result<usize, AdaptError> {
        let params: Vec<usize> = (0..net.layers.len())
            .filter(|&i| !matches!(net.layers[i], Layer::MaxPool))
            .collect();
        let n = match self {
            Mode::Full => params.len(),
            Mode::LastLayers(n) => n,
        };
        if n == 0 || n > params.len() {
            return Err(AdaptError::Layers {
                asked: n,
                available: params.len(),
            });
        }
        Ok(params[params.len() - n])
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Full => write!(f, "full fine-tuning"),
            Mode::LastLayers(1) => write!(f, "last layer only"),
            Mode::LastLayers(n) => write!(f, "last {n} layers"),
        }
    }
}

/// Why an adaptation could not run.
#[derive(Debug, thiserror::Error)]
pub enum AdaptError {
    /// Pretraining, data loading or a test pass failed.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// Planning failed.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// `Mode::LastLayers` asks for more layers than have weights.
    #[error(
        "{asked} trainable layers asked; the network has {available} layers with weights (1..={available})"
    )]
    Layers {
        /// Layers asked for.
        asked: usize,
        /// Layers with weights.
        available: usize,
    },
    /// The fine-tuning plan would lay memory out differently from the
    /// pretrained one (it must continue on the same image).
    #[error("the fine-tuning plan's memory map differs from the pretrained plan's")]
    MemoryMap,
    /// More replayed images asked for than the training split has.
    #[error(
        "{asked} replayed images asked; the training split has {available} (use 0..={available})"
    )]
    Replay {
        /// Images asked for.
        asked: usize,
        /// Images in the training split.
        available: usize,
    },
}

/// The experiment's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptConfig {
    /// Seed of pretraining (weights, minibatch order), of the domain shift
    /// and of the adaptation order.
    pub seed: u64,
    /// Pretraining epochs over the training split.
    pub pretrain_epochs: usize,
    /// Fine-tuning epochs over the adaptation set.
    pub epochs: usize,
    /// Minibatch size of both (the memory image is planned for it).
    pub batch: usize,
    /// Pretraining learning rate (batch mean).
    pub lr: f64,
    /// Fine-tuning learning rate (batch mean).
    pub adapt_lr: f64,
    /// The engine the descriptors are planned for.
    pub hw: HwConfig,
    /// Fine-tune on the first this many adaptation images only (`None`: all).
    pub adapt_images: Option<usize>,
    /// Test on the first this many test images only (`None`: all).
    pub test_images: Option<usize>,
    /// Original (unshifted) training images kept on the device and mixed
    /// into every fine-tuning epoch against forgetting (rehearsal; 0: none).
    pub replay: usize,
}

impl AdaptConfig {
    /// Batch 8, learning rate 0.1 for both phases, every image.
    pub fn new(seed: u64, pretrain_epochs: usize, epochs: usize, hw: HwConfig) -> Self {
        Self {
            seed,
            pretrain_epochs,
            epochs,
            batch: 8,
            lr: 0.1,
            adapt_lr: 0.1,
            hw,
            adapt_images: None,
            test_images: None,
            replay: 0,
        }
    }

    /// The pretraining run's configuration.
    pub fn pretrain_config(&self) -> TrainConfig {
        TrainConfig {
            batch: self.batch,
            lr: self.lr,
            hw: self.hw,
            ..TrainConfig::new(self.seed, self.pretrain_epochs)
        }
    }
}

/// The pretrained network, the shifted domain, and the pretrained
/// network's accuracy on both test sets (reference executor).
#[derive(Debug, Clone)]
pub struct Pretrained {
    /// The pretraining run (its report's test accuracy is on the whole
    /// unshifted held-out split).
    pub trained: Trained,
    /// The shifted domain.
    pub split: ShiftedSplit,
    /// On the shifted test set.
    pub shifted: Evaluation,
    /// On the same images unshifted.
    pub original: Evaluation,
    /// The original training images fine-tuning replays (`cfg.replay` of
    /// the training split, chosen by the seed).
    pub replay: Digits,
}

/// Pretrains the digits CNN with the reference ([`train_fixed_state`]:
/// fixed point, every descriptor through [`Reference`]) for
/// `cfg.pretrain_epochs`, makes the shifted domain, and tests the result on
/// it and on the original images.
pub fn pretrain(
    cfg: &AdaptConfig,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Pretrained, AdaptError> {
    // The pretraining's own split: the replayed images are among the ones
    // it trains on.
    let (train, heldout) = load_split(&cfg.pretrain_config())?;
    if cfg.replay > train.len() {
        return Err(AdaptError::Replay {
            asked: cfg.replay,
            available: train.len(),
        });
    }
    let mut exec = Reference(cfg.hw);
    let trained = train_fixed_state(&cfg.pretrain_config(), &mut exec, progress)?;
    let mut split = ShiftedSplit::new(&heldout, cfg.seed);
    let mut pick: Vec<usize> = (0..train.len()).collect();
    Rng::new(cfg.seed ^ REPLAY_SALT).shuffle(&mut pick);
    pick.truncate(cfg.replay);
    let replay = train.subset(&pick);
    if let Some(n) = cfg.adapt_images {
        split.adapt.truncate(n);
        split.adapt_idx.truncate(n);
    }
    if let Some(n) = cfg.test_images {
        split.test.truncate(n);
        split.test_original.truncate(n);
        split.test_idx.truncate(n);
    }
    let mut mem = trained.mem.clone();
    let shifted = evaluate(
        &trained.plan,
        &mut mem,
        &mut exec,
        &split.test,
        &mut |_, _, _| {},
    )?;
    let original = evaluate(
        &trained.plan,
        &mut mem,
        &mut exec,
        &split.test_original,
        &mut |_, _, _| {},
    )?;
    Ok(Pretrained {
        trained,
        split,
        shifted,
        original,
        replay,
    })
}

/// `plan` with the layers below `first` frozen: the forward steps and the
/// loss stay; of the backward steps only those of layers after `first`
/// stay, and of layer `first` its WU (not its BP, nor the copy of BP's
/// result back out of batch-as-width form). With `first` at or below the
/// first layer with weights the steps are unchanged.
pub fn freeze(plan: &TrainPlan, first: usize) -> TrainPlan {
    let loss = plan.loss_step();
    let keep = |s: &Step| match *s {
        Step::Engine { layer, desc, .. } => layer > first || (layer == first && desc.op != Op::Bp),
        Step::Host { layer, op } => {
            layer > first || (layer == first && !matches!(op, HostOp::FromBatchWidth { .. }))
        }
    };
    let mut frozen = plan.clone();
    frozen.steps = plan
        .steps
        .iter()
        .enumerate()
        .filter(|&(i, s)| i <= loss || keep(s))
        .map(|(_, s)| *s)
        .collect();
    frozen
}

/// The fine-tuning plan: `pretrained`'s network, batch, hardware and
/// scales with learning rate `lr` (same memory map), frozen for `mode`.
pub fn adaptation_plan(
    pretrained: &TrainPlan,
    lr: f64,
    mode: Mode,
) -> Result<TrainPlan, AdaptError> {
    let full = TrainPlan::new(
        &pretrained.net,
        pretrained.batch,
        &pretrained.hw,
        pretrained.scales.clone(),
        lr,
    )?;
    if full.regions != pretrained.regions {
        return Err(AdaptError::MemoryMap);
    }
    Ok(freeze(&full, mode.first_trainable(&full.net)?))
}

/// Memory a training step needs beyond inference, in 16-bit words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrainingMemory {
    /// Activations, argmax planes and network inputs kept from the forward
    /// pass for the backward pass (read by a backward step, written by
    /// none).
    pub stored: usize,
    /// Gradient tensors (written in the backward pass, the loss gradient
    /// included).
    pub gradients: usize,
    /// int32 master weights the backward pass updates (a frozen layer
    /// needs only its int16 working copy).
    pub masters: usize,
}

impl TrainingMemory {
    /// Stored activations and gradients.
    pub fn activations(&self) -> usize {
        self.stored + self.gradients
    }
}

/// What `plan`'s backward pass keeps and produces, from the regions its
/// steps read and write (the loss writes the logits' gradient).
pub fn training_memory(plan: &TrainPlan) -> TrainingMemory {
    let t = plan.hw.t;
    // (base, words, written) of every access after the forward pass.
    let mut access: Vec<(usize, usize, bool)> = Vec::new();
    for s in &plan.steps[plan.loss_step()..] {
        match *s {
            Step::Engine { desc, .. } => access.extend(
                exec::regions(&desc, t)
                    .iter()
                    .map(|r| (r.base, r.words, r.write)),
            ),
            Step::Host { op, .. } => match op {
                HostOp::ToBatchWidth {
                    src,
                    dst,
                    image_words,
                }
                | HostOp::FromBatchWidth {
                    src,
                    dst,
                    image_words,
                } => {
                    let words = plan.batch * image_words;
                    access.push((src as usize, words, false));
                    access.push((dst as usize, words, true));
                }
                HostOp::Loss => {
                    if let Some(g) = plan.logits_grad() {
                        let words = super::layout::ActLayout::new(g.dims, t).words();
                        access.push((g.base as usize, words, true));
                    }
                }
            },
        }
    }
    let mut m = TrainingMemory::default();
    for r in &plan.regions {
        let (base, words) = (r.base as usize, r.words);
        let touched = |write: bool| {
            access
                .iter()
                .any(|&(b, w, wr)| wr == write && b < base + words && base < b + w)
        };
        if r.name.ends_with("w16") {
            continue;
        }
        if r.name.ends_with("master") {
            if touched(true) {
                m.masters += words;
            }
        } else if touched(true) {
            m.gradients += words;
        } else if touched(false) {
            m.stored += words;
        }
    }
    m
}

/// One fine-tuning run and its results.
#[derive(Debug, Clone)]
pub struct AdaptRun {
    /// What trained.
    pub mode: Mode,
    /// Layers whose weights train.
    pub trainable: Vec<usize>,
    /// Mean loss per fine-tuning epoch.
    pub epoch_loss: Vec<f64>,
    /// Accuracy on the adaptation set over the last epoch (on the fly).
    pub train_acc: f64,
    /// After fine-tuning, on the shifted test set.
    pub shifted: Evaluation,
    /// After fine-tuning, on the same images unshifted.
    pub original: Evaluation,
    /// Fine-tuning steps (minibatches) run.
    pub steps: usize,
    /// Descriptors per fine-tuning step.
    pub descriptors_per_step: usize,
    /// The executor's counters summed over the fine-tuning steps.
    pub training: Stats,
    /// Per operation: descriptors run in fine-tuning and their counters.
    pub by_op: Vec<(Op, usize, Stats)>,
    /// Memory the backward pass keeps and produces.
    pub memory: TrainingMemory,
    /// The int32 master codes of every layer with weights after fine-tuning.
    pub masters: Vec<(usize, Tensor4<i32>)>,
    /// Wall-clock time of fine-tuning and both test passes.
    pub elapsed: Duration,
}

impl AdaptRun {
    /// The first difference between two runs' final masters or test
    /// logits (shifted, then original), described; `None` when they are
    /// bit-identical.
    pub fn bit_difference(&self, other: &AdaptRun) -> Option<String> {
        digits::bit_difference(
            (&self.masters, &self.shifted.logits),
            (&other.masters, &other.shifted.logits),
        )
        .or_else(|| {
            digits::bit_difference((&[], &self.original.logits), (&[], &other.original.logits))
                .map(|d| format!("original test set: {d}"))
        })
    }
}

/// Fine-tunes `pre`'s network on its adaptation set for `cfg.epochs`
/// ([`adaptation_plan`] for `mode`, learning rate `cfg.adapt_lr`, a
/// shuffle per epoch from the seed), continuing on a copy of the
/// pretrained memory image, with every descriptor (fine-tuning steps and
/// both test passes) performed by `exec`, which must be built as
/// `cfg.hw`'s T and accumulator widths; `progress` is called after every
/// step and test batch.
pub fn adapt_on(
    pre: &Pretrained,
    cfg: &AdaptConfig,
    mode: Mode,
    exec: &mut impl Executor,
    progress: &mut dyn FnMut(&Progress),
) -> Result<AdaptRun, AdaptError> {
    let start = Instant::now();
    let plan = adaptation_plan(&pre.trained.plan, cfg.adapt_lr, mode)?;
    let first = mode.first_trainable(&plan.net)?;
    exec.memory_map(&plan.regions);
    let mut mem = pre.trained.mem.clone();
    let mut data = pre.split.adapt.clone();
    data.images.extend_from_slice(&pre.replay.images);
    data.labels.extend_from_slice(&pre.replay.labels);
    let data = &data;
    let mut by_op: Vec<(Op, usize, Stats)> = Op::ALL
        .iter()
        .map(|&op| (op, 0, Stats::default()))
        .collect();
    let mut training = Stats::default();
    let (mut epoch_loss, mut train_acc, mut steps) = (Vec::new(), 0.0, 0);
    for epoch in 0..cfg.epochs {
        let (mut loss, mut correct, mut seen) = (0.0, 0, 0);
        let batches = epoch_batches(data.len(), plan.batch, cfg.seed ^ ORDER_SALT, epoch);
        for (k, idx) in batches.iter().enumerate() {
            let out = train_step(&plan, &mut mem, exec, data, idx).map_err(|source| {
                TrainError::Step {
                    at: format!("fine-tuning epoch {epoch}, minibatch {k}"),
                    source,
                }
            })?;
            for (i, s) in &out.stats {
                if let Step::Engine { desc, .. } = &plan.steps[*i] {
                    let e = &mut by_op[desc.op.code() as usize];
                    e.1 += 1;
                    e.2 += *s;
                }
                training += *s;
            }
            loss += out.loss;
            correct += out.correct;
            seen += idx.len();
            steps += 1;
            progress(&Progress {
                epochs: cfg.epochs,
                epoch,
                batch: k + 1,
                batches: batches.len(),
                steps,
                executed: training,
                elapsed: start.elapsed(),
            });
        }
        epoch_loss.push(loss / seen.max(1) as f64);
        train_acc = correct as f64 / seen.max(1) as f64;
    }
    let masters = master_codes(&plan, &mem)?;
    let mut test = |set: &Digits, mem: &mut _, exec: &mut _| {
        evaluate(&plan, mem, exec, set, &mut |batch, batches, _| {
            progress(&Progress {
                epochs: cfg.epochs,
                epoch: cfg.epochs,
                batch,
                batches,
                steps,
                executed: training,
                elapsed: start.elapsed(),
            });
        })
    };
    let shifted = test(&pre.split.test, &mut mem, exec)?;
    let original = test(&pre.split.test_original, &mut mem, exec)?;
    Ok(AdaptRun {
        mode,
        trainable: (first..plan.net.layers.len())
            .filter(|&i| plan.tensors[i].master.is_some())
            .collect(),
        epoch_loss,
        train_acc,
        shifted,
        original,
        steps,
        descriptors_per_step: plan.descriptors().count(),
        training,
        by_op: by_op.into_iter().filter(|e| e.1 > 0).collect(),
        memory: training_memory(&plan),
        masters,
        elapsed: start.elapsed(),
    })
}
