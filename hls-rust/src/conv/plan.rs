//! Networks, tensor scales, numerics proposal, memory allocation and the
//! descriptor list of one training step.
//!
//! A [`Network`] is a chain of 3x3/1x1 convolutions, 2x2 max pools and fully
//! connected layers. [`TrainPlan::new`] turns it, for a batch size and an
//! [`HwConfig`], into
//!
//! - a memory map: input, per layer working weights (int16), master weights
//!   (int32), activations, pool argmax codes and gradients, each in the
//!   engine's layout ([`crate::conv::layout`]);
//! - the steps of one training step, in order: per layer FP or POOL_FWD;
//!   the host's loss; then per layer in reverse BP (or POOL_BWD) and WU.
//!   BP is emitted only where an earlier layer has weights; BP applies the
//!   ReLU mask (`act_in > 0`) when its input came through a ReLU (a max pool
//!   of ReLU outputs included, since the two commute). Each descriptor gets
//!   the fastest tiling of [`model::best_tiling`].
//!
//! Fully connected layers run as 1x1 convolutions with the batch as the
//! width (`[1][N][1][B]`), so the accumulator hazard rule sees `B` columns.
//! After a spatial layer the host copies the activations into that shape
//! ([`HostOp::ToBatchWidth`]: a word permutation; the flattened channel is
//! the word offset inside one image, `((c/T*H + y)*W + x)*T + c%T`, so `N`
//! is `ceil(C/T)*T*H*W`) and copies the input gradient back after BP.
//!
//! # Numerics
//!
//! Every tensor has a fraction-bit count ([`Scales`]). From them:
//!
//! | quantity | formula |
//! |---|---|
//! | FP `s_out` | `f_in + f_w - f_out` |
//! | BP `s_out` | `g_out + f_w - g_in` |
//! | WU `g_pre` | smallest with `terms * rs(2^30, g_pre) < 2^(ACC_W_WU-1)`, `terms = B*Ho*Wo` (no wrap possible) |
//! | gradient fraction | `f_g = g_out + f_in - g_pre` |
//! | learning rate | `lr_mant * 2^-lr_shift ~= (lr / B) * 2^(f_w + MF - f_g)`, `lr_mant` in `[2^14, 2^15)` when possible |
//!
//! `lr` applies to the batch mean of the gradient (WU sums over the batch).
//! [`Scales::propose`] picks `f = floor(log2(32767 / (max * headroom)))` per
//! tensor from calibration maxima, then lowers output scales where a shift
//! would be negative, and ties each pool's input and output scales. The
//! overflow audit of FP and BP runs with the data: every executed
//! descriptor reports its wrapped accumulators ([`Stats::acc_overflows`]).

use super::desc::{Bases, ConvShape, Descriptor, Op};
use super::exec::{ExecError, Executor, Reference};
use super::fixed::{MF, dequantize, quantize, quantize32, rs, sat16};
use super::hw::HwConfig;
use super::layout::{ActLayout, MemError, Memory, WeightLayout, tiles};
use super::model::{self, Stats, TilingError};
use super::tensor::Tensor4;

/// One layer of a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// Stride-1 convolution with `m` output channels, kernel `k` (1 or 3), padding `pad`.
    Conv {
        /// Output channels.
        m: usize,
        /// Kernel size.
        k: usize,
        /// Zero padding.
        pad: usize,
        /// ReLU on the output.
        relu: bool,
    },
    /// 2x2 stride-2 max pool.
    MaxPool,
    /// Fully connected layer with `m` outputs (a 1x1 convolution, batch as width).
    Fc {
        /// Outputs.
        m: usize,
        /// ReLU on the output.
        relu: bool,
    },
}

/// A chain of layers on inputs of `input = [C, H, W]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// Input channels, height, width.
    pub input: [usize; 3],
    /// The layers, input to output.
    pub layers: Vec<Layer>,
}

impl Network {
    /// The digits CNN: conv3x3 8ch pad 1, ReLU, pool, conv3x3 16ch pad 1,
    /// ReLU, pool, FC 10, on 1x8x8 images.
    pub fn digits() -> Self {
        Self {
            input: [1, 8, 8],
            layers: vec![
                Layer::Conv {
                    m: 8,
                    k: 3,
                    pad: 1,
                    relu: true,
                },
                Layer::MaxPool,
                Layer::Conv {
                    m: 16,
                    k: 3,
                    pad: 1,
                    relu: true,
                },
                Layer::MaxPool,
                Layer::Fc { m: 10, relu: false },
            ],
        }
    }

    /// Index of the first layer with weights.
    pub fn first_param(&self) -> Option<usize> {
        self.layers
            .iter()
            .position(|l| !matches!(l, Layer::MaxPool))
    }
}

/// Geometry of an activation tensor between layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActShape {
    /// Channels.
    pub c: usize,
    /// Height (1 in batch-as-width form).
    pub h: usize,
    /// Width (1 in batch-as-width form).
    pub w: usize,
    /// Stored as `[1][C][1][B]` (fully connected layers) instead of `[B][C][H][W]`.
    pub batch_width: bool,
}

impl ActShape {
    /// The tensor dims in memory for batch `b`.
    pub fn dims(&self, b: usize) -> [usize; 4] {
        if self.batch_width {
            [1, self.c, 1, b]
        } else {
            [b, self.c, self.h, self.w]
        }
    }
}

/// Geometry of one layer for a given T and batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerGeom {
    /// The layer.
    pub layer: Layer,
    /// What the layer reads (for a fully connected layer after a spatial one:
    /// the batch-as-width copy).
    pub input: ActShape,
    /// What the layer writes.
    pub output: ActShape,
    /// The descriptor shape.
    pub shape: ConvShape,
    /// A host relayout to batch-as-width precedes the layer.
    pub relayout: bool,
    /// The layer's input went through a ReLU (so BP masks with `act_in > 0`).
    pub input_relu: bool,
}

impl LayerGeom {
    /// Weight dims `[M, N, K, K]`, for layers with weights.
    pub fn weight_dims(&self) -> Option<[usize; 4]> {
        match self.layer {
            Layer::MaxPool => None,
            _ => Some([self.shape.m, self.shape.n, self.shape.k, self.shape.k]),
        }
    }
}

/// Why a plan cannot be made or run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// A layer does not fit the previous one.
    #[error("layer {layer}: {msg}")]
    Geometry {
        /// Layer index.
        layer: usize,
        /// What is wrong.
        msg: String,
    },
    /// The scales give a shift or learning rate outside its field.
    #[error("layer {layer}: {msg}")]
    Numerics {
        /// Layer index.
        layer: usize,
        /// What is wrong.
        msg: String,
    },
    /// No tiling fits the hardware.
    #[error("layer {layer} {op}: {source}")]
    Tiling {
        /// Layer index.
        layer: usize,
        /// The operation.
        op: Op,
        /// Why.
        source: TilingError,
    },
    /// A descriptor failed.
    #[error("step {step} (layer {layer} {op}): {source}")]
    Exec {
        /// Step index.
        step: usize,
        /// Layer index.
        layer: usize,
        /// The operation.
        op: Op,
        /// Why.
        source: ExecError,
    },
    /// A host access failed.
    #[error(transparent)]
    Memory(#[from] MemError),
    /// Data of the wrong shape was given.
    #[error("{0}")]
    Data(String),
}

fn geom_err<T>(layer: usize, msg: impl Into<String>) -> Result<T, PlanError> {
    Err(PlanError::Geometry {
        layer,
        msg: msg.into(),
    })
}

/// The geometry of every layer of `net` for tile `t` and batch `b`.
pub fn geometry(net: &Network, t: usize, b: usize) -> Result<Vec<LayerGeom>, PlanError> {
    let [c, h, w] = net.input;
    if c == 0 || h == 0 || w == 0 || b == 0 || t == 0 {
        return geom_err(0, "input dims, batch and T must be nonzero");
    }
    let mut cur = ActShape {
        c,
        h,
        w,
        batch_width: false,
    };
    let mut relu = false;
    let mut out = Vec::new();
    for (i, &layer) in net.layers.iter().enumerate() {
        let g = match layer {
            Layer::Conv { m, k, pad, relu: r } => {
                if cur.batch_width {
                    return geom_err(i, "a convolution cannot follow a fully connected layer");
                }
                if k != 1 && k != 3 || pad >= k || m == 0 {
                    return geom_err(
                        i,
                        format!(
                            "K = {k}, pad = {pad}, M = {m}: need K in {{1, 3}}, pad < K, M > 0"
                        ),
                    );
                }
                let shape = ConvShape {
                    n: cur.c,
                    m,
                    h: cur.h,
                    w: cur.w,
                    k,
                    pad,
                    b,
                };
                if shape.ho() == 0 || shape.wo() == 0 {
                    return geom_err(i, format!("input {}x{} too small", cur.h, cur.w));
                }
                let output = ActShape {
                    c: m,
                    h: shape.ho(),
                    w: shape.wo(),
                    batch_width: false,
                };
                let g = LayerGeom {
                    layer,
                    input: cur,
                    output,
                    shape,
                    relayout: false,
                    input_relu: relu,
                };
                relu = r;
                g
            }
            Layer::MaxPool => {
                if cur.batch_width || !cur.h.is_multiple_of(2) || !cur.w.is_multiple_of(2) {
                    return geom_err(
                        i,
                        format!(
                            "pooling needs an even spatial input, got {}x{}",
                            cur.h, cur.w
                        ),
                    );
                }
                let shape = ConvShape {
                    n: cur.c,
                    m: cur.c,
                    h: cur.h,
                    w: cur.w,
                    k: 2,
                    pad: 0,
                    b,
                };
                let output = ActShape {
                    c: cur.c,
                    h: cur.h / 2,
                    w: cur.w / 2,
                    batch_width: false,
                };
                LayerGeom {
                    layer,
                    input: cur,
                    output,
                    shape,
                    relayout: false,
                    input_relu: relu,
                }
            }
            Layer::Fc { m, relu: r } => {
                if m == 0 {
                    return geom_err(i, "M must be nonzero");
                }
                let relayout = !cur.batch_width;
                let n = if relayout {
                    tiles(cur.c, t) * t * cur.h * cur.w
                } else {
                    cur.c
                };
                let input = ActShape {
                    c: n,
                    h: 1,
                    w: 1,
                    batch_width: true,
                };
                let shape = ConvShape {
                    n,
                    m,
                    h: 1,
                    w: b,
                    k: 1,
                    pad: 0,
                    b: 1,
                };
                let output = ActShape {
                    c: m,
                    h: 1,
                    w: 1,
                    batch_width: true,
                };
                let g = LayerGeom {
                    layer,
                    input,
                    output,
                    shape,
                    relayout,
                    input_relu: relu,
                };
                relu = r;
                g
            }
        };
        cur = g.output;
        out.push(g);
    }
    if out.is_empty() {
        return geom_err(0, "the network has no layers");
    }
    Ok(out)
}

/// Fraction bits of one layer's tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerScales {
    /// Working weights (int16); masters have `MF` more.
    pub weight: i32,
    /// The output activation.
    pub act: i32,
    /// The gradient at the output.
    pub grad: i32,
}

/// Fraction bits of every tensor of a network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scales {
    /// The network input.
    pub input: i32,
    /// Per layer.
    pub layers: Vec<LayerScales>,
}

/// Largest absolute values observed per tensor (calibration).
#[derive(Debug, Clone, PartialEq)]
pub struct Magnitudes {
    /// The network input.
    pub input: f64,
    /// Per layer: weights (0 for pools).
    pub weight: Vec<f64>,
    /// Per layer: output activation.
    pub act: Vec<f64>,
    /// Per layer: gradient at the output (for the last layer, the loss gradient).
    pub grad: Vec<f64>,
}

impl Magnitudes {
    /// Representative maxima of [`Network::digits`] (inputs in [0, 1]),
    /// for planning a step without a calibration pass (tests, co-simulation).
    pub fn digits_typical() -> Self {
        Self {
            input: 1.0,
            weight: vec![1.5, 0.0, 0.8, 0.0, 0.8],
            act: vec![3.0, 3.0, 6.0, 6.0, 10.0],
            grad: vec![1.0, 1.0, 0.8, 0.8, 1.0],
        }
    }
}

/// Safety factors applied to calibrated maxima before choosing scales.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Headroom {
    /// Weights (they grow during training).
    pub weight: f64,
    /// Activations.
    pub act: f64,
    /// Gradients (except the loss gradient, whose bound |p - y| <= 1 is exact).
    pub grad: f64,
}

impl Default for Headroom {
    fn default() -> Self {
        Self {
            weight: 4.0,
            act: 16.0,
            grad: 8.0,
        }
    }
}

/// Fraction bits so that `max * headroom` fits int16: `floor(log2(32767 / (max*headroom)))`.
pub fn frac_for(max: f64, headroom: f64) -> i32 {
    let m = max * headroom;
    if m.is_nan() || m <= 0.0 || !m.is_finite() {
        return 14;
    }
    ((32767.0 / m).log2().floor() as i32).clamp(-16, 40)
}

impl Scales {
    /// Scales from calibration maxima, made consistent: pools keep their
    /// input's scales, and every shift `s_out` is in 0..=63.
    pub fn propose(net: &Network, mags: &Magnitudes, head: &Headroom) -> Scales {
        let n = net.layers.len();
        let get = |v: &Vec<f64>, i: usize| v.get(i).copied().unwrap_or(0.0);
        let mut layers: Vec<LayerScales> = (0..n)
            .map(|i| LayerScales {
                weight: frac_for(get(&mags.weight, i), head.weight),
                act: frac_for(get(&mags.act, i), head.act),
                grad: frac_for(get(&mags.grad, i), if i + 1 == n { 1.0 } else { head.grad }),
            })
            .collect();
        let input = frac_for(mags.input, 1.0);
        for i in 0..n {
            let f_in = if i == 0 { input } else { layers[i - 1].act };
            let l = &mut layers[i];
            l.act = match net.layers[i] {
                Layer::MaxPool => {
                    l.weight = 0;
                    f_in
                }
                _ => l.act.clamp(f_in + l.weight - 63, f_in + l.weight),
            };
        }
        for i in (1..n).rev() {
            let (g_out, w) = (layers[i].grad, layers[i].weight);
            let prev = &mut layers[i - 1].grad;
            *prev = match net.layers[i] {
                Layer::MaxPool => g_out,
                _ => (*prev).clamp(g_out + w - 63, g_out + w),
            };
        }
        Scales { input, layers }
    }
}

/// Numerics of one layer with weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerNumerics {
    /// FP shift.
    pub fp_s_out: u8,
    /// BP shift (when BP runs).
    pub bp_s_out: u8,
    /// WU product pre-shift.
    pub g_pre: u8,
    /// Learning-rate mantissa.
    pub lr_mant: u16,
    /// Learning-rate shift.
    pub lr_shift: u8,
    /// The learning rate (on the batch-mean gradient) the codes realize.
    pub lr_real: f64,
}

/// Smallest `g_pre` for which `terms` products can never wrap ACC_W_WU.
pub fn safe_g_pre(terms: u64, acc_w_wu: u32) -> u8 {
    let limit = (1i128 << (acc_w_wu.clamp(2, 64) - 1)) - 1;
    (0..=63u8)
        .find(|&g| i128::from(terms) * i128::from(rs(1 << 30, g.into())) <= limit)
        .unwrap_or(63)
}

/// `(lr_mant, lr_shift)` realizing the multiplier `l` as closely as the
/// fields allow, or an error message.
pub fn lr_code(l: f64) -> Result<(u16, u8), String> {
    if l.is_nan() || l <= 0.0 || !l.is_finite() {
        return Err(format!("learning-rate multiplier {l} must be positive"));
    }
    let shift = (14 - l.log2().floor() as i32).clamp(0, 63);
    let mant = (l * 2f64.powi(shift)).round();
    if mant >= 32768.0 {
        return Err(format!(
            "learning-rate multiplier {l:.3e} exceeds lr_mant's 15 bits at shift 0"
        ));
    }
    if mant < 1.0 {
        return Err(format!(
            "learning-rate multiplier {l:.3e} underflows lr_mant at shift 63"
        ));
    }
    Ok((mant as u16, shift as u8))
}

/// Proposes every layer's numerics (`None` for pools).
pub fn propose_numerics(
    geom: &[LayerGeom],
    scales: &Scales,
    hw: &HwConfig,
    batch: usize,
    lr: f64,
) -> Result<Vec<Option<LayerNumerics>>, PlanError> {
    if scales.layers.len() != geom.len() {
        return Err(PlanError::Data(format!(
            "{} layer scales for {} layers",
            scales.layers.len(),
            geom.len()
        )));
    }
    let mut out = Vec::new();
    for (i, g) in geom.iter().enumerate() {
        if g.weight_dims().is_none() {
            out.push(None);
            continue;
        }
        let s = &scales.layers[i];
        let (f_in, g_in) = if i == 0 {
            (scales.input, 0)
        } else {
            (scales.layers[i - 1].act, scales.layers[i - 1].grad)
        };
        let shift = |what: &str, v: i32| -> Result<u8, PlanError> {
            u8::try_from(v)
                .ok()
                .filter(|&v| v <= 63)
                .ok_or_else(|| PlanError::Numerics {
                    layer: i,
                    msg: format!("{what} = {v} is outside 0..=63; adjust the scales"),
                })
        };
        let fp_s_out = shift("FP s_out", f_in + s.weight - s.act)?;
        let bp_s_out = if i == 0 {
            0
        } else {
            shift("BP s_out", s.grad + s.weight - g_in)?
        };
        let terms = (g.shape.b * g.shape.ho() * g.shape.wo()) as u64;
        let g_pre = safe_g_pre(terms, hw.acc_w_wu);
        let f_g = s.grad + f_in - i32::from(g_pre);
        let l = lr / batch as f64 * 2f64.powi(s.weight + MF as i32 - f_g);
        let (lr_mant, lr_shift) =
            lr_code(l).map_err(|msg| PlanError::Numerics { layer: i, msg })?;
        let lr_real = f64::from(lr_mant)
            * 2f64.powi(-i32::from(lr_shift))
            * 2f64.powi(f_g - s.weight - MF as i32)
            * batch as f64;
        out.push(Some(LayerNumerics {
            fp_s_out,
            bp_s_out,
            g_pre,
            lr_mant,
            lr_shift,
            lr_real,
        }));
    }
    Ok(out)
}

/// A tensor in the memory map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TensorRef {
    /// Base word address.
    pub base: u32,
    /// Dims in memory (`[B, C, H, W]`, or `[1, C, 1, B]` in batch-as-width form).
    pub dims: [usize; 4],
    /// Fraction bits.
    pub frac: i32,
}

/// Where one layer's tensors live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerTensors {
    /// What FP reads.
    pub input: TensorRef,
    /// Where BP writes the input gradient (if BP runs).
    pub input_grad: Option<TensorRef>,
    /// The output activation.
    pub output: TensorRef,
    /// The gradient at the output (if the backward pass reaches this layer).
    pub output_grad: Option<TensorRef>,
    /// int16 working weights.
    pub weights: Option<u32>,
    /// int32 master weights.
    pub master: Option<u32>,
    /// Pool argmax codes.
    pub argmax: Option<u32>,
}

/// A step the host performs between descriptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostOp {
    /// Copy `[B][C][H][W]` at `src` to `[1][N][1][B]` at `dst` (`N = image_words`).
    ToBatchWidth {
        /// Source base.
        src: u32,
        /// Destination base.
        dst: u32,
        /// Words of one image in the source.
        image_words: usize,
    },
    /// The inverse copy, for gradients.
    FromBatchWidth {
        /// Source base (`[1][N][1][B]`).
        src: u32,
        /// Destination base (`[B][C][H][W]`).
        dst: u32,
        /// Words of one image in the destination.
        image_words: usize,
    },
    /// Softmax cross-entropy on the logits; writes the loss gradient.
    Loss,
}

/// One step of a training step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// A descriptor for the engine, with the model's prediction.
    Engine {
        /// Layer index.
        layer: usize,
        /// The descriptor.
        desc: Descriptor,
        /// Predicted counters.
        predicted: Stats,
    },
    /// A host operation.
    Host {
        /// Layer index.
        layer: usize,
        /// The operation.
        op: HostOp,
    },
}

/// A named memory region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// What it holds.
    pub name: String,
    /// Base word address.
    pub base: u32,
    /// Words.
    pub words: usize,
}

/// Everything needed to run training steps of a network on the engine.
#[derive(Debug, Clone)]
pub struct TrainPlan {
    /// The network.
    pub net: Network,
    /// Batch size.
    pub batch: usize,
    /// The hardware.
    pub hw: HwConfig,
    /// Per-layer geometry.
    pub geometry: Vec<LayerGeom>,
    /// Tensor scales.
    pub scales: Scales,
    /// Per-layer numerics (`None` for pools).
    pub numerics: Vec<Option<LayerNumerics>>,
    /// Per-layer tensor addresses.
    pub tensors: Vec<LayerTensors>,
    /// The network input.
    pub input: TensorRef,
    /// Every region, in address order.
    pub regions: Vec<Region>,
    /// Size of the memory image in words.
    pub mem_words: usize,
    /// The steps of one training step (forward, [`HostOp::Loss`], backward).
    pub steps: Vec<Step>,
}

/// Bump allocator aligned to 16 words.
struct Alloc {
    next: usize,
    regions: Vec<Region>,
}

impl Alloc {
    fn take(&mut self, name: String, words: usize) -> u32 {
        let base = self.next;
        self.next = (base + words).div_ceil(16) * 16;
        self.regions.push(Region {
            name,
            base: base as u32,
            words,
        });
        base as u32
    }
}

impl TrainPlan {
    /// Plans `net` for batch `batch` on `hw` with `scales` and learning rate
    /// `lr` (on the batch-mean gradient).
    pub fn new(
        net: &Network,
        batch: usize,
        hw: &HwConfig,
        scales: Scales,
        lr: f64,
    ) -> Result<Self, PlanError> {
        hw.validate().map_err(|e| PlanError::Data(e.to_string()))?;
        let t = hw.t;
        let geom = geometry(net, t, batch)?;
        if scales.layers.len() != geom.len() {
            return Err(PlanError::Data(format!(
                "{} layer scales for {} layers",
                scales.layers.len(),
                geom.len()
            )));
        }
        let numerics = propose_numerics(&geom, &scales, hw, batch, lr)?;
        let first = net.first_param().unwrap_or(geom.len());
        let mut a = Alloc {
            next: 0,
            regions: Vec::new(),
        };
        let act_words = |d: [usize; 4]| ActLayout::new(d, t).words();
        let input_dims = geom[0].input.dims(batch);
        let input = TensorRef {
            base: a.take("input".into(), act_words(input_dims)),
            dims: input_dims,
            frac: scales.input,
        };
        let mut tensors: Vec<LayerTensors> = Vec::new();
        for (i, g) in geom.iter().enumerate() {
            let s = &scales.layers[i];
            let (prev_out, prev_grad) = match tensors.last() {
                Some(p) => (p.output, p.output_grad),
                None => (input, None),
            };
            let bp = i > first;
            let (inp, in_grad) = if g.relayout {
                let d = g.input.dims(batch);
                let x = TensorRef {
                    base: a.take(format!("L{i} fc input"), act_words(d)),
                    dims: d,
                    frac: prev_out.frac,
                };
                let gx = if bp {
                    Some(TensorRef {
                        base: a.take(format!("L{i} fc input grad"), act_words(d)),
                        dims: d,
                        frac: s_prev_grad(&scales, i),
                    })
                } else {
                    None
                };
                (x, gx)
            } else {
                (prev_out, if bp { prev_grad } else { None })
            };
            let (weights, master, argmax) = match g.weight_dims() {
                Some(wd) => {
                    let ww = WeightLayout::new(wd, t).words();
                    (
                        Some(a.take(format!("L{i} w16"), ww)),
                        Some(a.take(format!("L{i} master"), 2 * ww)),
                        None,
                    )
                }
                None => {
                    let lay = ActLayout::new(g.output.dims(batch), t);
                    (
                        None,
                        None,
                        Some(a.take(format!("L{i} argmax"), lay.argmax_words())),
                    )
                }
            };
            let od = g.output.dims(batch);
            let output = TensorRef {
                base: a.take(format!("L{i} act"), act_words(od)),
                dims: od,
                frac: s.act,
            };
            let output_grad = (i >= first).then(|| TensorRef {
                base: a.take(format!("L{i} grad"), act_words(od)),
                dims: od,
                frac: s.grad,
            });
            tensors.push(LayerTensors {
                input: inp,
                input_grad: in_grad,
                output,
                output_grad,
                weights,
                master,
                argmax,
            });
        }
        let mut plan = TrainPlan {
            net: net.clone(),
            batch,
            hw: *hw,
            geometry: geom,
            scales,
            numerics,
            tensors,
            input,
            mem_words: a.next,
            regions: a.regions,
            steps: Vec::new(),
        };
        plan.steps = plan.make_steps()?;
        Ok(plan)
    }

    fn make_steps(&self) -> Result<Vec<Step>, PlanError> {
        let first = self.net.first_param().unwrap_or(self.geometry.len());
        let mut steps = Vec::new();
        let engine = |layer: usize, mut desc: Descriptor| -> Result<Step, PlanError> {
            let (tiling, predicted) =
                model::best_tiling(&desc, &self.hw).map_err(|source| PlanError::Tiling {
                    layer,
                    op: desc.op,
                    source,
                })?;
            desc.tiling = tiling;
            Ok(Step::Engine {
                layer,
                desc,
                predicted,
            })
        };
        let image_words = |i: usize| {
            let prev = &self.tensors[i - 1].output;
            ActLayout::new(prev.dims, self.hw.t).words() / self.batch
        };
        for (i, g) in self.geometry.iter().enumerate() {
            let tn = &self.tensors[i];
            if g.relayout {
                let op = HostOp::ToBatchWidth {
                    src: self.prev_output(i).base,
                    dst: tn.input.base,
                    image_words: image_words(i),
                };
                steps.push(Step::Host { layer: i, op });
            }
            let mut d = Descriptor::new(
                if g.weight_dims().is_some() {
                    Op::Fp
                } else {
                    Op::PoolFwd
                },
                g.shape,
            );
            d.base.input = tn.input.base;
            d.base.output = tn.output.base;
            match (tn.weights, &self.numerics[i]) {
                (Some(w), Some(num)) => {
                    d.base.weights = w;
                    d.s_out = num.fp_s_out;
                    d.relu = matches!(
                        g.layer,
                        Layer::Conv { relu: true, .. } | Layer::Fc { relu: true, .. }
                    );
                }
                _ => d.base.aux = tn.argmax.unwrap_or(0),
            }
            steps.push(engine(i, d)?);
        }
        steps.push(Step::Host {
            layer: self.geometry.len() - 1,
            op: HostOp::Loss,
        });
        for (i, g) in self.geometry.iter().enumerate().rev() {
            if i < first {
                break;
            }
            let tn = &self.tensors[i];
            let Some(dout) = tn.output_grad else { continue };
            match (tn.weights, tn.master, &self.numerics[i]) {
                (Some(w), Some(master), Some(num)) => {
                    if let Some(dx) = tn.input_grad {
                        let mut d = Descriptor::new(Op::Bp, g.shape);
                        d.base = Bases {
                            input: dout.base,
                            weights: w,
                            output: dx.base,
                            ..Bases::default()
                        };
                        d.s_out = num.bp_s_out;
                        if g.input_relu {
                            d.relu_mask = true;
                            d.base.aux = tn.input.base;
                        }
                        steps.push(engine(i, d)?);
                        if g.relayout
                            && let Some(pg) = self.tensors[i - 1].output_grad
                        {
                            let op = HostOp::FromBatchWidth {
                                src: dx.base,
                                dst: pg.base,
                                image_words: image_words(i),
                            };
                            steps.push(Step::Host { layer: i, op });
                        }
                    }
                    let mut d = Descriptor::new(Op::Wu, g.shape);
                    d.base = Bases {
                        input: tn.input.base,
                        weights: master,
                        output: master,
                        aux: dout.base,
                        w16_out: w,
                    };
                    d.write_w16 = true;
                    d.g_pre = num.g_pre;
                    d.lr_mant = num.lr_mant;
                    d.lr_shift = num.lr_shift;
                    steps.push(engine(i, d)?);
                }
                _ => {
                    if let (Some(dx), Some(arg)) = (tn.input_grad, tn.argmax) {
                        let mut d = Descriptor::new(Op::PoolBwd, g.shape);
                        d.base = Bases {
                            input: dout.base,
                            output: dx.base,
                            aux: arg,
                            ..Bases::default()
                        };
                        steps.push(engine(i, d)?);
                    }
                }
            }
        }
        Ok(steps)
    }

    fn prev_output(&self, i: usize) -> TensorRef {
        if i == 0 {
            self.input
        } else {
            self.tensors[i - 1].output
        }
    }

    /// A zeroed memory image of the plan's size.
    pub fn new_memory(&self) -> Memory {
        Memory::new(self.mem_words)
    }

    /// The logits (last layer output).
    pub fn logits(&self) -> TensorRef {
        self.tensors[self.tensors.len() - 1].output
    }

    /// The loss gradient (gradient at the last layer's output), if any layer trains.
    pub fn logits_grad(&self) -> Option<TensorRef> {
        self.tensors[self.tensors.len() - 1].output_grad
    }

    /// Writes weights `w` (real values, `[M, N, K, K]`) of `layer`: masters
    /// rounded to `f_w + MF` fraction bits, working copy `sat16(rs(master, MF))`.
    pub fn store_weights(
        &self,
        mem: &mut Memory,
        layer: usize,
        w: &Tensor4<f64>,
    ) -> Result<(), PlanError> {
        let (Some(wd), Some(wb), Some(mb)) = (
            self.geometry.get(layer).and_then(|g| g.weight_dims()),
            self.tensors.get(layer).and_then(|t| t.weights),
            self.tensors.get(layer).and_then(|t| t.master),
        ) else {
            return Err(PlanError::Data(format!("layer {layer} has no weights")));
        };
        if w.dims() != wd {
            return Err(PlanError::Data(format!(
                "layer {layer}: weights {:?}, expected {wd:?}",
                w.dims()
            )));
        }
        let f = self.scales.layers[layer].weight + MF as i32;
        let master = w.map(|v| quantize32(v, f));
        let w16 = master.map(|m| sat16(rs(m.into(), MF)));
        mem.store_master(mb as usize, self.hw.t, &master)?;
        mem.store_weights(wb as usize, self.hw.t, &w16)?;
        Ok(())
    }

    /// The real values of `layer`'s master weights.
    pub fn load_weights(&self, mem: &Memory, layer: usize) -> Result<Tensor4<f64>, PlanError> {
        let codes = self.load_master_codes(mem, layer)?;
        let f = self.scales.layers[layer].weight + MF as i32;
        Ok(codes.map(|m| dequantize(m.into(), f)))
    }

    /// The int32 codes of `layer`'s master weights, `[M, N, K, K]`.
    pub fn load_master_codes(&self, mem: &Memory, layer: usize) -> Result<Tensor4<i32>, PlanError> {
        let (Some(wd), Some(mb)) = (
            self.geometry.get(layer).and_then(|g| g.weight_dims()),
            self.tensors.get(layer).and_then(|t| t.master),
        ) else {
            return Err(PlanError::Data(format!("layer {layer} has no weights")));
        };
        Ok(mem.load_master(mb as usize, self.hw.t, wd)?)
    }

    /// Writes the input batch (real values, `[B, C, H, W]`), quantized.
    pub fn store_input(&self, mem: &mut Memory, x: &Tensor4<f64>) -> Result<(), PlanError> {
        if x.dims() != self.input.dims {
            return Err(PlanError::Data(format!(
                "input {:?}, expected {:?}",
                x.dims(),
                self.input.dims
            )));
        }
        let q = x.map(|v| quantize(v, self.input.frac));
        mem.store_act(self.input.base as usize, self.hw.t, &q)?;
        Ok(())
    }

    /// The logits as real values, `[b][class]`.
    pub fn read_logits(&self, mem: &Memory) -> Result<Vec<Vec<f64>>, PlanError> {
        let l = self.logits();
        let q = mem.load_act(l.base as usize, self.hw.t, l.dims)?;
        let [_, classes, _, _] = l.dims;
        Ok((0..self.batch)
            .map(|b| {
                (0..classes)
                    .map(|c| dequantize(self.logit_at(&q, b, c).into(), l.frac))
                    .collect()
            })
            .collect())
    }

    fn logit_at(&self, q: &Tensor4<i16>, b: usize, c: usize) -> i16 {
        if self.logits().dims[0] == 1 && self.logits().dims[3] == self.batch {
            q[[0, c, 0, b]]
        } else {
            q[[b, c, 0, 0]]
        }
    }

    /// Writes the loss gradient `grad[b][class]` (real values), quantized.
    pub fn write_logits_grad(&self, mem: &mut Memory, grad: &[Vec<f64>]) -> Result<(), PlanError> {
        let Some(g) = self.logits_grad() else {
            return Err(PlanError::Data("no layer trains".into()));
        };
        let [_, classes, _, _] = g.dims;
        if grad.len() != self.batch || grad.iter().any(|r| r.len() != classes) {
            return Err(PlanError::Data(format!(
                "loss gradient must be {} x {classes}",
                self.batch
            )));
        }
        let batch_width = g.dims[0] == 1 && g.dims[3] == self.batch;
        let q = Tensor4::from_fn(g.dims, |[b, c, _, x]| {
            let (bb, cc) = if batch_width { (x, c) } else { (b, c) };
            quantize(grad[bb][cc], g.frac)
        });
        mem.store_act(g.base as usize, self.hw.t, &q)?;
        Ok(())
    }

    /// Index of the [`HostOp::Loss`] step.
    pub fn loss_step(&self) -> usize {
        self.steps
            .iter()
            .position(|s| {
                matches!(
                    s,
                    Step::Host {
                        op: HostOp::Loss,
                        ..
                    }
                )
            })
            .unwrap_or(self.steps.len())
    }

    /// Runs the forward steps (everything before the loss) on `mem` with
    /// the reference executor; returns `(step index, counters)` of each
    /// descriptor.
    pub fn run_forward(&self, mem: &mut Memory) -> Result<Vec<(usize, Stats)>, PlanError> {
        self.run_forward_with(mem, &mut Reference(self.hw))
    }

    /// Runs the backward steps (everything after the loss) on `mem` with
    /// the reference executor.
    pub fn run_backward(&self, mem: &mut Memory) -> Result<Vec<(usize, Stats)>, PlanError> {
        self.run_backward_with(mem, &mut Reference(self.hw))
    }

    /// [`run_forward`](Self::run_forward) with the descriptors performed by `exec`.
    pub fn run_forward_with(
        &self,
        mem: &mut Memory,
        exec: &mut impl Executor,
    ) -> Result<Vec<(usize, Stats)>, PlanError> {
        self.run_range(mem, exec, 0..self.loss_step())
    }

    /// [`run_backward`](Self::run_backward) with the descriptors performed by `exec`.
    pub fn run_backward_with(
        &self,
        mem: &mut Memory,
        exec: &mut impl Executor,
    ) -> Result<Vec<(usize, Stats)>, PlanError> {
        self.run_range(mem, exec, self.loss_step() + 1..self.steps.len())
    }

    fn run_range(
        &self,
        mem: &mut Memory,
        exec: &mut impl Executor,
        range: std::ops::Range<usize>,
    ) -> Result<Vec<(usize, Stats)>, PlanError> {
        let mut out = Vec::new();
        for i in range {
            match &self.steps[i] {
                Step::Engine { layer, desc, .. } => {
                    let s = exec.execute(mem, desc).map_err(|source| PlanError::Exec {
                        step: i,
                        layer: *layer,
                        op: desc.op,
                        source,
                    })?;
                    out.push((i, s));
                }
                Step::Host { op, .. } => self.run_host(mem, op)?,
            }
        }
        Ok(out)
    }

    /// Performs host operation `op` on `mem` (a batch-as-width copy; the
    /// loss is the caller's: [`read_logits`](Self::read_logits), then
    /// [`write_logits_grad`](Self::write_logits_grad)). For running the
    /// steps with another engine, e.g. the RTL in co-simulation.
    pub fn run_host(&self, mem: &mut Memory, op: &HostOp) -> Result<(), PlanError> {
        let (t, b) = (self.hw.t, self.batch);
        match *op {
            HostOp::ToBatchWidth {
                src,
                dst,
                image_words,
            } => {
                let s = mem.slice(src as usize, b * image_words)?.to_vec();
                let d = mem.slice_mut(dst as usize, b * image_words)?;
                for bb in 0..b {
                    for n in 0..image_words {
                        d[((n / t) * b + bb) * t + n % t] = s[bb * image_words + n];
                    }
                }
            }
            HostOp::FromBatchWidth {
                src,
                dst,
                image_words,
            } => {
                let s = mem.slice(src as usize, b * image_words)?.to_vec();
                let d = mem.slice_mut(dst as usize, b * image_words)?;
                for bb in 0..b {
                    for n in 0..image_words {
                        d[bb * image_words + n] = s[((n / t) * b + bb) * t + n % t];
                    }
                }
            }
            HostOp::Loss => {}
        }
        Ok(())
    }

    /// The model's counters for one training step (all descriptors).
    pub fn predicted(&self) -> Stats {
        let mut s = Stats::default();
        for st in &self.steps {
            if let Step::Engine { predicted, .. } = st {
                s += *predicted;
            }
        }
        s
    }

    /// The binary encodings of [`descriptors`](Self::descriptors), in order
    /// (what a host writes to the engine's descriptor queue).
    pub fn descriptor_words(&self) -> Result<Vec<[u32; super::desc::DESC_WORDS]>, PlanError> {
        self.descriptors()
            .map(|d| d.encode().map_err(|e| PlanError::Data(e.to_string())))
            .collect()
    }

    /// The engine descriptors of one training step, in order.
    pub fn descriptors(&self) -> impl Iterator<Item = &Descriptor> {
        self.steps.iter().filter_map(|s| match s {
            Step::Engine { desc, .. } => Some(desc),
            Step::Host { .. } => None,
        })
    }
}

/// The gradient scale at the input of layer `i` (the previous layer's output gradient).
fn s_prev_grad(scales: &Scales, i: usize) -> i32 {
    if i == 0 { 0 } else { scales.layers[i - 1].grad }
}
