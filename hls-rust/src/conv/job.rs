//! Tensor-level jobs: one engine operation on whole NCHW tensors.
//!
//! A job holds the operation's input tensors and numerics ([`FpJob`],
//! [`BpJob`], [`WuJob`], [`PoolFwdJob`], [`PoolBwdJob`]). [`TensorJob::place`]
//! checks them against each other and against the descriptor format,
//! schedules the descriptor for a [`HwConfig`] with
//! [`best_tiling`](super::model::best_tiling), and lays the tensors out in a
//! fresh memory image ([`Placed`]); [`TensorJob::run`] then performs it on
//! any [`Executor`] (the reference, or the RTL in co-simulation) and reads
//! the results back as tensors.
//!
//! | job | inputs | descriptor | outputs |
//! |---|---|---|---|
//! | [`FpJob`] | `x [B,N,H,W]`, `w [M,N,K,K]` | FP, `s_out`, `relu` | `y [B,M,Ho,Wo]` |
//! | [`BpJob`] | `dout [B,M,Ho,Wo]`, `w`, optional `act_in [B,N,H,W]` | BP, `s_out`, `relu_mask` | `din [B,N,H,W]` |
//! | [`WuJob`] | `x`, `dout`, `master [M,N,K,K]` (int32) | WU with `write_w16`, `g_pre`, `lr_mant`, `lr_shift` | `master'`, `w16` |
//! | [`PoolFwdJob`] | `x [B,C,H,W]` (H, W even) | POOL_FWD | `y [B,C,H/2,W/2]`, `argmax` codes |
//! | [`PoolBwdJob`] | `dy [B,C,Ho,Wo]`, `argmax` (codes 0..=3) | POOL_BWD | `dx [B,C,2Ho,2Wo]` |
//!
//! `Ho = H + 2 pad - K + 1`. The results equal the [`golden`](super::golden)
//! functions' bit for bit, whatever the build (`hls-rust/tests/conv_job.rs`
//! checks it). Errors ([`JobError`]) name the tensor, the dimension and
//! what is allowed. The gradient of WU is fused into the update and never
//! reaches memory, so a job cannot return it.
//!
//! ```
//! use hls_rust::conv::golden::{conv_fp, FpParams};
//! use hls_rust::conv::job::{FpJob, TensorJob};
//! use hls_rust::conv::{HwConfig, Reference, Tensor4};
//!
//! let hw = HwConfig::up5k();
//! let x = Tensor4::from_fn([2, 3, 6, 6], |[b, c, y, x]| ((b * 7 + c * 5 + y * 3 + x) % 11) as i16 - 5);
//! let w = Tensor4::from_fn([4, 3, 3, 3], |[m, n, ky, kx]| ((m + 2 * n + ky * kx) % 5) as i16 - 2);
//! let job = FpJob { x, w, pad: 1, s_out: 2, relu: true };
//! let done = job.run(&hw, &mut Reference(hw))?;
//!
//! let p = FpParams { pad: 1, s_out: 2, relu: true, acc_w: hw.acc_w };
//! let (want, _audit) = conv_fp(&job.x, &job.w, &p).unwrap();
//! assert_eq!(done.output.y, want);
//! assert_eq!(done.stats, done.predicted); // the reference reports the model's counters
//! # Ok::<(), hls_rust::conv::job::JobError>(())
//! ```

use super::desc::{ConvShape, DescError, Descriptor, Op};
use super::exec::{ExecError, Executor, regions};
use super::hw::{HwConfig, HwError};
use super::layout::{MemError, Memory};
use super::model::{self, Stats, TilingError};
use super::plan::Region;
use super::tensor::Tensor4;

/// Largest size the descriptor's 16-bit shape fields hold.
const MAX_DIM: u64 = u16::MAX as u64;
/// Region alignment in words (keeps every region on whole device words and
/// beats of any T up to 16).
const ALIGN: usize = 16;
/// Names of the dimensions of an activation tensor.
const NCHW: [&str; 4] = ["B", "C", "H", "W"];
/// Names of the dimensions of a weight tensor.
const MNKK: [&str; 4] = ["M", "N", "K", "K"];

/// Why a job cannot be built or run. Variants with a `tensor` field name
/// the job's tensor at fault ([`JobError::tensor`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobError {
    /// A dimension is 0.
    #[error("{tensor}: dim {axis} ({dim}) is 0; every dimension must be at least 1")]
    Empty {
        /// The tensor.
        tensor: &'static str,
        /// The axis (0..4).
        axis: usize,
        /// The dimension's name (`B`, `C`, ...).
        dim: &'static str,
    },
    /// A size exceeds what the descriptor can describe.
    #[error(
        "{tensor}: {dim} = {value} exceeds {max}, the largest the engine's descriptor holds; split the tensor"
    )]
    TooLarge {
        /// The tensor.
        tensor: &'static str,
        /// The dimension (or product, `B*H*W`).
        dim: &'static str,
        /// Its value.
        value: u64,
        /// The largest allowed.
        max: u64,
    },
    /// A weight tensor is not `[M, N, K, K]` with K 1 or 3.
    #[error(
        "{tensor}: dims {dims:?} are not a kernel [M, N, K, K] with K = 1 or 3 (the engine's kernel sizes)"
    )]
    Kernel {
        /// The tensor.
        tensor: &'static str,
        /// Its dims.
        dims: [usize; 4],
    },
    /// A dimension disagrees with another tensor's.
    #[error("{tensor}: dim {axis} ({dim}) = {got}, expected {expected} ({why})")]
    Mismatch {
        /// The tensor.
        tensor: &'static str,
        /// The axis (0..4).
        axis: usize,
        /// The dimension's name.
        dim: &'static str,
        /// Its value.
        got: usize,
        /// The value the other tensors imply.
        expected: usize,
        /// Where the expected value comes from.
        why: String,
    },
    /// A spatial size leaves no output for the kernel and padding.
    #[error(
        "{tensor}: dim {axis} ({dim}) = {got} is too small for K = {k}, pad = {pad}: it must be at least {min}"
    )]
    TooSmall {
        /// The tensor.
        tensor: &'static str,
        /// The axis (2 or 3).
        axis: usize,
        /// The dimension's name.
        dim: &'static str,
        /// Its value.
        got: usize,
        /// The smallest allowed.
        min: usize,
        /// Kernel size.
        k: usize,
        /// Padding.
        pad: usize,
    },
    /// A pooled size is odd.
    #[error(
        "{tensor}: dim {axis} ({dim}) = {got} is odd; 2x2 pooling with stride 2 needs even H and W (crop or pad the tensor)"
    )]
    Odd {
        /// The tensor.
        tensor: &'static str,
        /// The axis (2 or 3).
        axis: usize,
        /// The dimension's name.
        dim: &'static str,
        /// Its value.
        got: usize,
    },
    /// An element outside its allowed range.
    #[error("{tensor}: element {index:?} = {value}, expected {allowed}")]
    Value {
        /// The tensor.
        tensor: &'static str,
        /// The element's index.
        index: [usize; 4],
        /// Its value.
        value: i64,
        /// What is allowed.
        allowed: &'static str,
    },
    /// A numeric parameter out of range.
    #[error("{name} = {value}: must be {allowed}")]
    Param {
        /// The parameter (`pad`, `s_out`, `g_pre`, `lr_mant`, `lr_shift`).
        name: &'static str,
        /// Its value.
        value: u64,
        /// What is allowed.
        allowed: String,
    },
    /// No tiling fits the build's buffers.
    #[error("{op} does not fit the engine's buffers (T = {t}): {reason}; {advice}")]
    Capacity {
        /// The operation.
        op: Op,
        /// The build's channel tile.
        t: usize,
        /// Why the smallest tiling fails.
        reason: TilingError,
        /// What to change.
        advice: String,
    },
    /// The memory image would exceed the engine's 32-bit word addresses.
    #[error(
        "the memory image would take {words} words, beyond the engine's 2^32-word address space; split the batch"
    )]
    ImageTooLarge {
        /// Words needed.
        words: u64,
    },
    /// The hardware configuration is malformed.
    #[error(transparent)]
    Hw(#[from] HwError),
    /// The descriptor is malformed (a case the checks above do not name).
    #[error(transparent)]
    Descriptor(#[from] DescError),
    /// The executor failed (for the RTL: it disagreed with the reference).
    #[error("{op} on the engine: {error}")]
    Exec {
        /// The operation.
        op: Op,
        /// The executor's error.
        error: ExecError,
    },
    /// A region lies outside a memory image (the executor left a shorter one).
    #[error(transparent)]
    Memory(#[from] MemError),
}

impl JobError {
    /// The job's tensor at fault (`x`, `w`, `dout`, `act_in`, `master`,
    /// `dy`, `argmax`), if the error is about one.
    pub fn tensor(&self) -> Option<&'static str> {
        match self {
            JobError::Empty { tensor, .. }
            | JobError::TooLarge { tensor, .. }
            | JobError::Kernel { tensor, .. }
            | JobError::Mismatch { tensor, .. }
            | JobError::TooSmall { tensor, .. }
            | JobError::Odd { tensor, .. }
            | JobError::Value { tensor, .. } => Some(tensor),
            _ => None,
        }
    }
}

/// A job laid out for an engine: the scheduled descriptor and the memory
/// image holding its inputs (every other word zero).
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    /// The descriptor: shape, numerics, tiling from `best_tiling`, bases.
    pub desc: Descriptor,
    /// The memory image before the operation.
    pub image: Memory,
    /// The regions of the image, named after the job's tensors (`x`, `w`,
    /// `y`, ...; for [`Executor::memory_map`]).
    pub regions: Vec<Region>,
    /// The channel tile of the layout.
    pub t: usize,
    /// The model's counters for the descriptor on the build.
    pub predicted: Stats,
}

/// A finished job: its results and the executor's counters.
#[derive(Debug, Clone, PartialEq)]
pub struct Done<O> {
    /// The result tensors.
    pub output: O,
    /// The descriptor that ran (tiling and bases included).
    pub desc: Descriptor,
    /// The executor's counters (the engine's, for the RTL).
    pub stats: Stats,
    /// The model's counters for the same descriptor and build.
    pub predicted: Stats,
    /// Size of the memory image in words.
    pub image_words: usize,
}

/// One engine operation on tensors.
pub trait TensorJob {
    /// The result tensors.
    type Output;

    /// The engine operation.
    const OP: Op;

    /// Checks the tensors and numerics, schedules the descriptor for `hw`
    /// and lays the inputs out in a memory image.
    fn place(&self, hw: &HwConfig) -> Result<Placed, JobError>;

    /// Reads the results from `mem`, the image after `placed.desc` ran on
    /// `placed.image`.
    fn read(placed: &Placed, mem: &Memory) -> Result<Self::Output, JobError>;

    /// Places the job for `hw`, performs it on `exec` and reads the
    /// results. `hw` must be the build `exec` runs (`Reference(hw)`, or the
    /// RTL executor's own configuration).
    fn run(&self, hw: &HwConfig, exec: &mut impl Executor) -> Result<Done<Self::Output>, JobError>
    where
        Self: Sized,
    {
        let placed = self.place(hw)?;
        exec.memory_map(&placed.regions);
        let mut mem = placed.image.clone();
        let stats = exec
            .execute(&mut mem, &placed.desc)
            .map_err(|error| JobError::Exec {
                op: Self::OP,
                error,
            })?;
        Ok(Done {
            output: Self::read(&placed, &mem)?,
            desc: placed.desc,
            stats,
            predicted: placed.predicted,
            image_words: mem.len(),
        })
    }
}

/// Forward convolution: `y = sat16(rs(sum w * xpad, s_out))`, ReLU optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FpJob {
    /// Input activations `[B, N, H, W]`.
    pub x: Tensor4<i16>,
    /// Weights `[M, N, K, K]`, K 1 or 3.
    pub w: Tensor4<i16>,
    /// Zero padding, below K.
    pub pad: usize,
    /// Right shift from the accumulator to the output scale (0..=63).
    pub s_out: u8,
    /// ReLU on write-back.
    pub relu: bool,
}

/// Result of an [`FpJob`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FpOutput {
    /// Output activations `[B, M, Ho, Wo]`.
    pub y: Tensor4<i16>,
}

/// Backward convolution to the input gradient, masked by the forward
/// input's ReLU if `act_in` is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BpJob {
    /// Output gradient `[B, M, Ho, Wo]`.
    pub dout: Tensor4<i16>,
    /// The forward weights `[M, N, K, K]`.
    pub w: Tensor4<i16>,
    /// The forward layer's input `[B, N, H, W]`: where it is not positive
    /// the gradient is zeroed (the ReLU mask).
    pub act_in: Option<Tensor4<i16>>,
    /// The forward layer's padding, below K.
    pub pad: usize,
    /// Right shift from the accumulator to the gradient scale (0..=63).
    pub s_out: u8,
}

/// Result of a [`BpJob`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BpOutput {
    /// Input gradient `[B, N, H, W]`.
    pub din: Tensor4<i16>,
}

/// Weight gradient with the fused SGD update of int32 master weights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WuJob {
    /// The forward input `[B, N, H, W]`.
    pub x: Tensor4<i16>,
    /// The output gradient `[B, M, Ho, Wo]`.
    pub dout: Tensor4<i16>,
    /// Master weights `[M, N, K, K]` (16 more fraction bits than the int16 weights).
    pub master: Tensor4<i32>,
    /// The forward layer's padding, below K.
    pub pad: usize,
    /// Right shift of every product before summation (0..=63).
    pub g_pre: u8,
    /// Learning-rate mantissa, below 2^15.
    pub lr_mant: u16,
    /// Learning-rate shift (0..=63).
    pub lr_shift: u8,
}

/// Result of a [`WuJob`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WuOutput {
    /// Updated master weights `sat32(master - rs(g * lr_mant, lr_shift))`.
    pub master: Tensor4<i32>,
    /// The working copy `sat16(rs(master', 16))`.
    pub w16: Tensor4<i16>,
}

/// 2x2 stride-2 max pooling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolFwdJob {
    /// Input `[B, C, H, W]`, H and W even.
    pub x: Tensor4<i16>,
}

/// Result of a [`PoolFwdJob`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolFwdOutput {
    /// The maxima `[B, C, H/2, W/2]`.
    pub y: Tensor4<i16>,
    /// Where each maximum was, `dy * 2 + dx` (the first in row-major order).
    pub argmax: Tensor4<u8>,
}

/// Backward 2x2 max pooling: each gradient goes to its argmax position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolBwdJob {
    /// Pooled gradient `[B, C, Ho, Wo]`.
    pub dy: Tensor4<i16>,
    /// Argmax codes `[B, C, Ho, Wo]`, each 0..=3 (as [`PoolFwdOutput::argmax`]).
    pub argmax: Tensor4<u8>,
}

/// Result of a [`PoolBwdJob`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolBwdOutput {
    /// Input-size gradient `[B, C, 2 Ho, 2 Wo]`, zero off the argmax positions.
    pub dx: Tensor4<i16>,
}

impl TensorJob for FpJob {
    type Output = FpOutput;
    const OP: Op = Op::Fp;

    fn place(&self, hw: &HwConfig) -> Result<Placed, JobError> {
        shift("s_out", self.s_out)?;
        let shape = forward_shape(&self.x, ("w", self.w.dims()), self.pad)?;
        let mut d = Descriptor::new(Op::Fp, shape);
        d.s_out = self.s_out;
        d.relu = self.relu;
        lay_out(
            d,
            hw,
            &[("in", Data::Act(&self.x)), ("w", Data::Weights(&self.w))],
        )
    }

    fn read(p: &Placed, mem: &Memory) -> Result<FpOutput, JobError> {
        let s = &p.desc.shape;
        let y = mem.load_act(p.desc.base.output as usize, p.t, [s.b, s.m, s.ho(), s.wo()])?;
        Ok(FpOutput { y })
    }
}

impl TensorJob for BpJob {
    type Output = BpOutput;
    const OP: Op = Op::Bp;

    fn place(&self, hw: &HwConfig) -> Result<Placed, JobError> {
        shift("s_out", self.s_out)?;
        let [b, m, ho, wo] = act_dims("dout", &self.dout)?;
        let [wm, n, k, _] = kernel_dims("w", self.w.dims())?;
        check_pad(self.pad, k)?;
        same(("dout", NCHW), 1, m, wm, || {
            format!("w has M = {wm} output channels")
        })?;
        // The forward input size: Ho = H + 2 pad - K + 1.
        let fwd = |axis: usize, o: usize| {
            let min = (2 * self.pad + 2).saturating_sub(k).max(1);
            if o < min {
                return Err(JobError::TooSmall {
                    tensor: "dout",
                    axis,
                    dim: NCHW[axis],
                    got: o,
                    min,
                    k,
                    pad: self.pad,
                });
            }
            Ok(o + k - 1 - 2 * self.pad)
        };
        let (h, w) = (fwd(2, ho)?, fwd(3, wo)?);
        for (axis, v) in [(2, h), (3, w)] {
            at_most("din", NCHW[axis], v, MAX_DIM)?;
        }
        let mut d = Descriptor::new(Op::Bp, conv_shape("din", [b, n, h, w], m, k, self.pad)?);
        d.s_out = self.s_out;
        let mut data = vec![("in", Data::Act(&self.dout)), ("w", Data::Weights(&self.w))];
        if let Some(a) = &self.act_in {
            let want = [b, n, h, w];
            same_dims("act_in", a.dims(), want, || {
                format!(
                    "the forward input is [B, N, H, W] = {want:?} for dout {:?}, w {:?}, pad {}",
                    self.dout.dims(),
                    self.w.dims(),
                    self.pad
                )
            })?;
            d.relu_mask = true;
            data.push(("aux", Data::Act(a)));
        }
        lay_out(d, hw, &data)
    }

    fn read(p: &Placed, mem: &Memory) -> Result<BpOutput, JobError> {
        let s = &p.desc.shape;
        let din = mem.load_act(p.desc.base.output as usize, p.t, [s.b, s.n, s.h, s.w])?;
        Ok(BpOutput { din })
    }
}

impl TensorJob for WuJob {
    type Output = WuOutput;
    const OP: Op = Op::Wu;

    fn place(&self, hw: &HwConfig) -> Result<Placed, JobError> {
        shift("g_pre", self.g_pre)?;
        shift("lr_shift", self.lr_shift)?;
        if self.lr_mant >= 1 << 15 {
            return Err(JobError::Param {
                name: "lr_mant",
                value: self.lr_mant.into(),
                allowed: "below 2^15 = 32768 (an unsigned 15-bit mantissa)".into(),
            });
        }
        let shape = forward_shape(&self.x, ("master", self.master.dims()), self.pad)?;
        let want = [shape.b, shape.m, shape.ho(), shape.wo()];
        same_dims("dout", self.dout.dims(), want, || {
            format!(
                "the forward output is [B, M, Ho, Wo] = {want:?} for x {:?}, master {:?}, pad {}",
                self.x.dims(),
                self.master.dims(),
                self.pad
            )
        })?;
        let mut d = Descriptor::new(Op::Wu, shape);
        d.write_w16 = true;
        d.g_pre = self.g_pre;
        d.lr_mant = self.lr_mant;
        d.lr_shift = self.lr_shift;
        lay_out(
            d,
            hw,
            &[
                ("in", Data::Act(&self.x)),
                ("aux", Data::Act(&self.dout)),
                ("w", Data::Master(&self.master)),
            ],
        )
    }

    fn read(p: &Placed, mem: &Memory) -> Result<WuOutput, JobError> {
        let s = &p.desc.shape;
        let dims = [s.m, s.n, s.k, s.k];
        Ok(WuOutput {
            master: mem.load_master(p.desc.base.output as usize, p.t, dims)?,
            w16: mem.load_weights(p.desc.base.w16_out as usize, p.t, dims)?,
        })
    }
}

impl TensorJob for PoolFwdJob {
    type Output = PoolFwdOutput;
    const OP: Op = Op::PoolFwd;

    fn place(&self, hw: &HwConfig) -> Result<Placed, JobError> {
        let dims = act_dims("x", &self.x)?;
        for axis in [2, 3] {
            if dims[axis] % 2 == 1 {
                return Err(JobError::Odd {
                    tensor: "x",
                    axis,
                    dim: NCHW[axis],
                    got: dims[axis],
                });
            }
        }
        lay_out(
            Descriptor::new(Op::PoolFwd, pool_shape("x", dims)?),
            hw,
            &[("in", Data::Act(&self.x))],
        )
    }

    fn read(p: &Placed, mem: &Memory) -> Result<PoolFwdOutput, JobError> {
        let (b, d) = (&p.desc.base, pooled(&p.desc.shape));
        Ok(PoolFwdOutput {
            y: mem.load_act(b.output as usize, p.t, d)?,
            argmax: mem.load_argmax(b.aux as usize, p.t, d)?,
        })
    }
}

impl TensorJob for PoolBwdJob {
    type Output = PoolBwdOutput;
    const OP: Op = Op::PoolBwd;

    fn place(&self, hw: &HwConfig) -> Result<Placed, JobError> {
        let [b, c, ho, wo] = act_dims("dy", &self.dy)?;
        same_dims("argmax", self.argmax.dims(), self.dy.dims(), || {
            format!("dy is {:?}: one code per gradient", self.dy.dims())
        })?;
        if let Some(i) = self.argmax.data().iter().position(|&a| a > 3) {
            return Err(JobError::Value {
                tensor: "argmax",
                index: self.argmax.index_of(i),
                value: self.argmax.data()[i].into(),
                allowed: "an argmax code 0..=3 (dy * 2 + dx in the 2x2 window, as pool-fwd writes them)",
            });
        }
        for (axis, v) in [(2, ho), (3, wo)] {
            at_most("dx", NCHW[axis], 2 * v, MAX_DIM)?;
        }
        lay_out(
            Descriptor::new(Op::PoolBwd, pool_shape("dx", [b, c, 2 * ho, 2 * wo])?),
            hw,
            &[
                ("in", Data::Act(&self.dy)),
                ("aux", Data::Argmax(&self.argmax)),
            ],
        )
    }

    fn read(p: &Placed, mem: &Memory) -> Result<PoolBwdOutput, JobError> {
        let s = &p.desc.shape;
        let dx = mem.load_act(p.desc.base.output as usize, p.t, [s.b, s.n, s.h, s.w])?;
        Ok(PoolBwdOutput { dx })
    }
}

/// An input tensor and how it is stored.
enum Data<'a> {
    Act(&'a Tensor4<i16>),
    Weights(&'a Tensor4<i16>),
    Master(&'a Tensor4<i32>),
    Argmax(&'a Tensor4<u8>),
}

/// Checks a shift amount (0..=63).
fn shift(name: &'static str, v: u8) -> Result<(), JobError> {
    if v <= 63 {
        return Ok(());
    }
    Err(JobError::Param {
        name,
        value: v.into(),
        allowed: "in 0..=63".into(),
    })
}

fn check_pad(pad: usize, k: usize) -> Result<(), JobError> {
    if pad < k {
        return Ok(());
    }
    Err(JobError::Param {
        name: "pad",
        value: pad as u64,
        allowed: format!("below K = {k} (the kernel size of the weights)"),
    })
}

fn at_most(tensor: &'static str, dim: &'static str, v: usize, max: u64) -> Result<(), JobError> {
    let value = v as u64;
    if value <= max {
        return Ok(());
    }
    Err(JobError::TooLarge {
        tensor,
        dim,
        value,
        max,
    })
}

/// Checks that `tensor`'s dim `axis` (named by `names`) is `expected`.
fn same(
    (tensor, names): (&'static str, [&'static str; 4]),
    axis: usize,
    got: usize,
    expected: usize,
    why: impl FnOnce() -> String,
) -> Result<(), JobError> {
    if got == expected {
        return Ok(());
    }
    Err(JobError::Mismatch {
        tensor,
        axis,
        dim: names[axis],
        got,
        expected,
        why: why(),
    })
}

/// Checks that activation-like `tensor`'s dims are `want`.
fn same_dims(
    tensor: &'static str,
    dims: [usize; 4],
    want: [usize; 4],
    why: impl Fn() -> String,
) -> Result<(), JobError> {
    for (axis, (&got, &e)) in dims.iter().zip(&want).enumerate() {
        same((tensor, NCHW), axis, got, e, &why)?;
    }
    Ok(())
}

/// The layer shape of a forward input `x` `[B, N, H, W]` and weights
/// `(name, [M, N, K, K])` with padding `pad`, checked.
fn forward_shape(
    x: &Tensor4<i16>,
    (w_name, w_dims): (&'static str, [usize; 4]),
    pad: usize,
) -> Result<ConvShape, JobError> {
    let [b, n, h, w] = act_dims("x", x)?;
    let [m, wn, k, _] = kernel_dims(w_name, w_dims)?;
    check_pad(pad, k)?;
    same((w_name, MNKK), 1, wn, n, || {
        format!("x has C = {n} channels")
    })?;
    conv_shape("x", [b, n, h, w], m, k, pad)
}

/// Every dimension in `1..=MAX_DIM`.
fn nonzero(
    tensor: &'static str,
    dims: [usize; 4],
    names: [&'static str; 4],
) -> Result<(), JobError> {
    for (axis, (&v, dim)) in dims.iter().zip(names).enumerate() {
        if v == 0 {
            return Err(JobError::Empty { tensor, axis, dim });
        }
        at_most(tensor, dim, v, MAX_DIM)?;
    }
    Ok(())
}

fn act_dims<T>(tensor: &'static str, x: &Tensor4<T>) -> Result<[usize; 4], JobError> {
    nonzero(tensor, x.dims(), NCHW)?;
    Ok(x.dims())
}

fn kernel_dims(tensor: &'static str, dims: [usize; 4]) -> Result<[usize; 4], JobError> {
    nonzero(tensor, dims, MNKK)?;
    if dims[2] != dims[3] || !matches!(dims[2], 1 | 3) {
        return Err(JobError::Kernel { tensor, dims });
    }
    Ok(dims)
}

/// The layer shape of a forward input `tensor` `[B, N, H, W]` with `m`
/// output channels, checking that the output has at least one pixel.
fn conv_shape(
    tensor: &'static str,
    [b, n, h, w]: [usize; 4],
    m: usize,
    k: usize,
    pad: usize,
) -> Result<ConvShape, JobError> {
    let min = k.saturating_sub(2 * pad).max(1);
    for (axis, v) in [(2, h), (3, w)] {
        if v < min {
            return Err(JobError::TooSmall {
                tensor,
                axis,
                dim: NCHW[axis],
                got: v,
                min,
                k,
                pad,
            });
        }
    }
    let shape = ConvShape {
        n,
        m,
        h,
        w,
        k,
        pad,
        b,
    };
    pixels(tensor, &shape, [shape.ho(), shape.wo()])?;
    Ok(shape)
}

fn pool_shape(tensor: &'static str, [b, c, h, w]: [usize; 4]) -> Result<ConvShape, JobError> {
    let shape = ConvShape {
        n: c,
        m: c,
        h,
        w,
        k: 2,
        pad: 0,
        b,
    };
    pixels(tensor, &shape, [h, w])?;
    Ok(shape)
}

/// The descriptor's limit `B * H * W < 2^32` (H, W the larger of the input
/// and output sizes).
fn pixels(tensor: &'static str, s: &ConvShape, [ho, wo]: [usize; 2]) -> Result<(), JobError> {
    let p = [s.b, s.h.max(ho), s.w.max(wo)]
        .iter()
        .try_fold(1usize, |p, &v| p.checked_mul(v))
        .unwrap_or(usize::MAX);
    at_most(tensor, "B*H*W", p, (1 << 32) - 1)
}

/// `[B, C, H/2, W/2]` of a pool shape.
fn pooled(s: &ConvShape) -> [usize; 4] {
    [s.b, s.n, s.h / 2, s.w / 2]
}

/// The job's tensor held by descriptor region `field` of `op`.
fn tensor_name(op: Op, field: &'static str) -> &'static str {
    match (op, field) {
        (Op::Fp | Op::Wu | Op::PoolFwd, "in") => "x",
        (Op::Fp | Op::PoolFwd, "out") => "y",
        (Op::Bp, "in") => "dout",
        (Op::Bp, "out") => "din",
        (Op::Bp, "aux") => "act_in",
        (Op::Wu, "aux") => "dout",
        (Op::Wu, "w") => "master",
        (Op::Wu, "out") => "master (updated)",
        (Op::Wu, "w16_out") => "w16",
        (Op::PoolFwd | Op::PoolBwd, "aux") => "argmax",
        (Op::PoolBwd, "in") => "dy",
        (Op::PoolBwd, "out") => "dx",
        _ => field,
    }
}

/// The tensor whose width bounds the tiles, and that width for a forward
/// input width `w`.
fn width_tensor(d: &Descriptor, w: usize) -> (&'static str, usize) {
    let s = &d.shape;
    match d.op {
        Op::Fp | Op::Wu | Op::PoolFwd => ("x", w),
        Op::Bp => ("dout", w + 2 * s.pad + 1 - s.k),
        Op::PoolBwd => ("dy", w / 2),
    }
}

/// What to change when `d` does not fit `hw`: the widest input that does
/// (the smallest tile is one row of T channels at the full width, so the
/// width is what bounds it).
fn capacity_advice(d: &Descriptor, hw: &HwConfig) -> String {
    // Widths in units of `step` (pools need even widths).
    let step = if d.op.is_conv() { 1 } else { 2 };
    let fits = |u: usize| {
        let w = u * step;
        let probe = Descriptor {
            shape: ConvShape { w, ..d.shape },
            ..*d
        };
        !model::candidates(&probe, hw).is_empty()
    };
    let lo = if d.op.is_conv() {
        d.shape.k.saturating_sub(2 * d.shape.pad).max(1)
    } else {
        1
    };
    let (mut ok, mut bad) = (lo, d.shape.w / step);
    if ok >= bad || !fits(ok) {
        return "use a build with larger buffers".into();
    }
    while bad - ok > 1 {
        let mid = ok + (bad - ok) / 2;
        if fits(mid) {
            ok = mid;
        } else {
            bad = mid;
        }
    }
    let (tensor, now) = width_tensor(d, d.shape.w);
    let (_, max) = width_tensor(d, ok * step);
    format!(
        "at this shape the build takes {tensor} up to {max} columns wide ({tensor} is {now}): \
         split the width into strips (a convolution's strips overlap by K - 1 columns) \
         or use a build with larger buffers"
    )
}

/// Schedules `d` for `hw`, lays its regions out from word 0 (each aligned
/// to [`ALIGN`] words), sets the bases and stores `data` by region.
fn lay_out(
    mut d: Descriptor,
    hw: &HwConfig,
    data: &[(&'static str, Data<'_>)],
) -> Result<Placed, JobError> {
    hw.validate()?;
    let (tiling, predicted) = model::best_tiling(&d, hw).map_err(|e| {
        let reason = match e {
            TilingError::NoSchedule { example, .. } => *example,
            e => e,
        };
        JobError::Capacity {
            op: d.op,
            t: hw.t,
            reason,
            advice: capacity_advice(&d, hw),
        }
    })?;
    d.tiling = tiling;
    let mut named = Vec::new();
    let mut next = 0u64;
    for r in regions(&d, hw.t) {
        let base = u32::try_from(next).map_err(|_| JobError::ImageTooLarge { words: next })?;
        let field = match r.name {
            "in" => &mut d.base.input,
            "w" => &mut d.base.weights,
            "out" => &mut d.base.output,
            "aux" => &mut d.base.aux,
            _ => &mut d.base.w16_out,
        };
        *field = base;
        named.push(Region {
            name: tensor_name(d.op, r.name).to_owned(),
            base,
            words: r.words,
        });
        next = (next + r.words as u64).next_multiple_of(ALIGN as u64);
    }
    let words = usize::try_from(next)
        .ok()
        .filter(|_| next <= 1 << 32)
        .ok_or(JobError::ImageTooLarge { words: next })?;
    d.validate()?;
    let mut image = Memory::new(words);
    let t = hw.t;
    for (field, x) in data {
        let base = match *field {
            "in" => d.base.input,
            "w" => d.base.weights,
            _ => d.base.aux,
        } as usize;
        match x {
            Data::Act(x) => image.store_act(base, t, x)?,
            Data::Weights(w) => image.store_weights(base, t, w)?,
            Data::Master(m) => image.store_master(base, t, m)?,
            Data::Argmax(a) => image.store_argmax(base, t, a)?,
        }
    }
    Ok(Placed {
        desc: d,
        image,
        regions: named,
        t,
        predicted,
    })
}
