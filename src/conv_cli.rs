//! `hlsk conv ...`: the training-convolution kernel on the user's tensors
//! (`fp`, `bp`, `wu`, `pool-fwd`, `pool-bwd`: NCHW `.npy` files through one
//! engine descriptor, on the reference executor or the Verilated engine),
//! and the digits CNN trained with the reference or through the RTL.
//!
//! The tensor commands read every input and check it (dtype, rank, shapes
//! against each other, the build's capacity, value ranges) before anything
//! runs, lay the tensors out in an engine memory image with
//! `hls_rust::conv::job`, run the scheduled descriptor, read the results
//! back and only then write the outputs (each through a temporary file
//! beside it, renamed once all are written).

use crate::npy_io::{check_outputs, numpy_dtype, write_outputs};
use anyhow::{Result, anyhow, bail};
use clap::{Args, Subcommand, ValueEnum};
use hls_rust::conv::digits::{train_f32, train_fixed};
use hls_rust::conv::job::{BpJob, Done, FpJob, JobError, PoolBwdJob, PoolFwdJob, TensorJob, WuJob};
use hls_rust::conv::{HwConfig, Op, Reference, Tensor4};
use hls_rust::tlmm::npy::{NpyArray, NpyData};
use std::path::{Path, PathBuf};
#[cfg(feature = "cosim")]
mod adapt;
#[cfg(feature = "cosim")]
use {
    hls_rust::conv::digits::{Progress, Report, TrainConfig},
    hlsk_cosim::ConvConfig,
    hlsk_cosim::configs::CONV_CONFIGS,
    hlsk_sim::conv::{MemTiming, RtlExecutor, digits_training_on, hw_of},
    std::time::{Duration, Instant},
};

/// Convolution subcommands.
#[derive(Subcommand)]
pub enum ConvCmd {
    /// Forward convolution of int16 NCHW tensors, stride 1:
    /// `y = sat16(rs(sum w * xpad, s_out))`, ReLU optional.
    Fp(FpArgs),
    /// Backward convolution to the input gradient:
    /// `din = sat16(rs(sum w_flipped * dout_padded, s_out))`, zero where
    /// `act_in <= 0` if `--act-in` is given.
    Bp(BpArgs),
    /// Weight update: the gradient `g = sum rs(dout * xpad, g_pre)` over the
    /// batch, applied to int32 master weights as
    /// `master' = sat32(master - rs(g * lr_mant, lr_shift))`, with the int16
    /// working copy `sat16(rs(master', 16))`.
    Wu(WuArgs),
    /// 2x2 stride-2 max pooling: the maxima and their argmax codes
    /// (`dy * 2 + dx`, the first maximum in row-major order).
    PoolFwd(PoolFwdArgs),
    /// Backward 2x2 max pooling: each gradient to its argmax position,
    /// zeros elsewhere.
    PoolBwd(PoolBwdArgs),
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
    /// Adapt the digits CNN on the device to a shifted domain (EF-Train's
    /// use case): pretrain with the fixed-point reference, then fine-tune on
    /// held-out digits moved a pixel, inverted and noisy (docs/adaptation.md)
    /// with every descriptor on `--engine`; report accuracy on the shifted
    /// test set before and after and on the original images (forgetting).
    /// Writes target/bench/adapt.json.
    Adapt(AdaptArgs),
}

/// The options of `hlsk conv adapt`.
#[derive(Args, Debug, Clone)]
pub struct AdaptArgs {
    /// Seed of pretraining, of the domain shift and of the fine-tuning order.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Pretraining epochs (reference) over the training split.
    #[arg(long, default_value_t = 4)]
    pretrain_epochs: usize,
    /// Fine-tuning epochs over the adaptation set.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Where the fine-tuning descriptors (and the test passes after it) run.
    #[arg(long, value_enum, default_value = "ref")]
    engine: AdaptEngine,
    /// Also fine-tune only the last N layers with weights (1: the FC layer),
    /// the earlier ones frozen, and compare with full fine-tuning.
    #[arg(long)]
    last_layers: Option<usize>,
    /// Fine-tuning learning rate (on the batch mean).
    #[arg(long, default_value_t = 0.05)]
    lr: f64,
    /// Minibatch size of pretraining and fine-tuning.
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Fine-tune on the first N images of the adaptation set only (the
    /// twin moves about 120 KB over its 1 Mbaud link per full training step).
    #[arg(long)]
    adapt_images: Option<usize>,
    /// Test on the first N images of the shifted and original test sets only.
    #[arg(long)]
    test_images: Option<usize>,
    /// Keep N original (unshifted) training images and mix them into every
    /// fine-tuning epoch, against forgetting (rehearsal).
    #[arg(long, default_value_t = 0)]
    replay: usize,
    /// With `--engine rtl`: the conv build (index into `CONV_CONFIGS`; its
    /// T and accumulator widths must be the ULX3S engine's).
    #[arg(long, default_value_t = 0)]
    build: usize,
}

/// Where `hlsk conv adapt` runs its fine-tuning descriptors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AdaptEngine {
    /// The reference executor.
    Ref,
    /// The Verilated engine (`--build`), checked against the reference
    /// descriptor by descriptor.
    Rtl,
    /// The ULX3S-conv SoC twin through the host link (UART frames, 1 Mbaud):
    /// each descriptor's read regions uploaded, CONV_START, its written
    /// regions read back, checked against the reference.
    Twin,
}

/// Where a tensor command's descriptor runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// The reference executor (`hls_rust::conv::exec::run_descriptor`).
    Ref,
    /// The Verilated engine of `--build`, behind a memory with 4 cycles of
    /// latency and 2 of burst start-up, checked word for word and counter
    /// by counter against the reference.
    Rtl,
}

/// The engine options of every tensor command.
#[derive(Args, Debug, Clone)]
pub struct EngineArgs {
    /// Where the descriptor runs.
    #[arg(long, value_enum, default_value = "ref")]
    engine: Engine,
    /// The co-simulated conv build (default 0; an unknown index lists
    /// them): its T, buffers and accumulator widths apply to `--engine
    /// ref` too. Without the `cosim` feature, `ref` models the ECP5 preset.
    #[arg(long)]
    build: Option<usize>,
    /// Seed of the RTL's power-up state (`--engine rtl`).
    #[arg(long, default_value_t = 1)]
    seed: u32,
}

/// Arguments of `hlsk conv fp`.
#[derive(Args, Debug, Clone)]
pub struct FpArgs {
    /// Input activations, int16 NCHW `[B, N, H, W]`.
    #[arg(long, value_name = "X.npy")]
    x: PathBuf,
    /// Weights, int16 `[M, N, K, K]`, K 1 or 3.
    #[arg(long, value_name = "W.npy")]
    w: PathBuf,
    /// The output activations, int16 `[B, M, Ho, Wo]`, `Ho = H + 2 pad - K + 1`.
    #[arg(long, value_name = "Y.npy")]
    out: PathBuf,
    /// Zero padding, below K (default (K - 1) / 2: the output is as large
    /// as the input).
    #[arg(long)]
    pad: Option<usize>,
    /// Right shift from the accumulator to the output, rounding half up:
    /// with x and w at f_x and f_w fraction bits and y wanted at f_y,
    /// `s_out = f_x + f_w - f_y`.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=63))]
    s_out: u8,
    /// ReLU on the output.
    #[arg(long)]
    relu: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Arguments of `hlsk conv bp`.
#[derive(Args, Debug, Clone)]
pub struct BpArgs {
    /// The output gradient, int16 `[B, M, Ho, Wo]`.
    #[arg(long, value_name = "DOUT.npy")]
    dout: PathBuf,
    /// The forward weights, int16 `[M, N, K, K]`.
    #[arg(long, value_name = "W.npy")]
    w: PathBuf,
    /// The forward layer's input, int16 `[B, N, H, W]`: the gradient is
    /// zeroed where it is not positive (the ReLU that produced it).
    #[arg(long, value_name = "X.npy")]
    act_in: Option<PathBuf>,
    /// The input gradient, int16 `[B, N, H, W]`, `H = Ho - 2 pad + K - 1`.
    #[arg(long, value_name = "DIN.npy")]
    out: PathBuf,
    /// The forward layer's padding, below K (default (K - 1) / 2).
    #[arg(long)]
    pad: Option<usize>,
    /// Right shift from the accumulator to the input gradient:
    /// `s_out = f_dout + f_w - f_din`.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=63))]
    s_out: u8,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Arguments of `hlsk conv wu`.
#[derive(Args, Debug, Clone)]
pub struct WuArgs {
    /// The forward input, int16 `[B, N, H, W]`.
    #[arg(long, value_name = "X.npy")]
    x: PathBuf,
    /// The output gradient, int16 `[B, M, Ho, Wo]`.
    #[arg(long, value_name = "DOUT.npy")]
    dout: PathBuf,
    /// Master weights, int32 `[M, N, K, K]` (16 more fraction bits than the
    /// int16 working weights).
    #[arg(long, value_name = "MASTER.npy")]
    master: PathBuf,
    /// The updated master weights, int32 `[M, N, K, K]` (may be `--master`
    /// itself: it is replaced only once everything succeeded).
    #[arg(long, value_name = "MASTER.npy")]
    out_master: PathBuf,
    /// The updated int16 working weights `sat16(rs(master', 16))`, `[M, N, K, K]`.
    #[arg(long, value_name = "W.npy")]
    out_w16: PathBuf,
    /// The forward layer's padding, below K (default (K - 1) / 2).
    #[arg(long)]
    pad: Option<usize>,
    /// Right shift of every product `dout * x` before it is summed (keeps
    /// the sum within ACC_W_WU bits; the summary reports wraps).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=63))]
    g_pre: u8,
    /// Learning-rate mantissa, 0..32767: the step is `rs(g * lr_mant,
    /// lr_shift)` in the master's units.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(0..32768))]
    lr_mant: u16,
    /// Learning-rate shift, 0..=63 (with the default mantissa 1 and shift
    /// 0 the master moves by the gradient itself).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=63))]
    lr_shift: u8,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Arguments of `hlsk conv pool-fwd`.
#[derive(Args, Debug, Clone)]
pub struct PoolFwdArgs {
    /// Input, int16 `[B, C, H, W]`, H and W even.
    #[arg(long, value_name = "X.npy")]
    x: PathBuf,
    /// The maxima, int16 `[B, C, H/2, W/2]`.
    #[arg(long, value_name = "Y.npy")]
    out: PathBuf,
    /// The argmax codes, uint8 `[B, C, H/2, W/2]`, each `dy * 2 + dx`.
    #[arg(long, value_name = "ARGMAX.npy")]
    out_argmax: PathBuf,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Arguments of `hlsk conv pool-bwd`.
#[derive(Args, Debug, Clone)]
pub struct PoolBwdArgs {
    /// The pooled gradient, int16 `[B, C, Ho, Wo]`.
    #[arg(long, value_name = "DY.npy")]
    dy: PathBuf,
    /// Argmax codes, uint8 `[B, C, Ho, Wo]`, 0..=3 (as `pool-fwd` writes them).
    #[arg(long, value_name = "ARGMAX.npy")]
    argmax: PathBuf,
    /// The input gradient, int16 `[B, C, 2 Ho, 2 Wo]`.
    #[arg(long, value_name = "DX.npy")]
    out: PathBuf,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Runs a convolution subcommand.
pub fn run(cmd: ConvCmd) -> Result<()> {
    match cmd {
        ConvCmd::Fp(a) => fp(&a),
        ConvCmd::Bp(a) => bp(&a),
        ConvCmd::Wu(a) => wu(&a),
        ConvCmd::PoolFwd(a) => pool_fwd(&a),
        ConvCmd::PoolBwd(a) => pool_bwd(&a),
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
        ConvCmd::Adapt(a) => adapt_cmd(&a),
    }
}

#[cfg(feature = "cosim")]
fn adapt_cmd(a: &AdaptArgs) -> Result<()> {
    adapt::run(a)
}

#[cfg(not(feature = "cosim"))]
fn adapt_cmd(_a: &AdaptArgs) -> Result<()> {
    Err(crate::cosim_missing("conv adapt"))
}

// ---------------------------------------------------------------------------
// The tensor commands
// ---------------------------------------------------------------------------

/// `(K - 1) / 2` for weights `[M, N, K, K]`: the padding that keeps the size.
fn same_pad<T>(w: &Tensor4<T>) -> usize {
    w.dims()[2].saturating_sub(1) / 2
}

fn fp(a: &FpArgs) -> Result<()> {
    check_outputs(&[("--out", &a.out)])?;
    let x = read_tensor(&a.x, Kind::Act, i16s)?;
    let w = read_tensor(&a.w, Kind::Weights, i16s)?;
    let job = FpJob {
        pad: a.pad.unwrap_or_else(|| same_pad(&w)),
        x,
        w,
        s_out: a.s_out,
        relu: a.relu,
    };
    let files = [("x", &a.x), ("w", &a.w)];
    let (done, engine) = execute(&job, &a.engine, &files)?;
    let relu = if a.relu { ", ReLU" } else { "" };
    let inputs = format!(
        "x {:?}, w {:?}; pad {}, s_out {}{relu}",
        job.x.dims(),
        job.w.dims(),
        job.pad,
        job.s_out
    );
    summary(&done, &engine, &inputs, &files);
    let y = &done.output.y;
    write_outputs(&[("y", &a.out, npy(y, NpyData::I16)?)])
}

fn bp(a: &BpArgs) -> Result<()> {
    check_outputs(&[("--out", &a.out)])?;
    let dout = read_tensor(&a.dout, Kind::Act, i16s)?;
    let w = read_tensor(&a.w, Kind::Weights, i16s)?;
    let act_in = a
        .act_in
        .as_deref()
        .map(|p| read_tensor(p, Kind::Act, i16s))
        .transpose()?;
    let job = BpJob {
        pad: a.pad.unwrap_or_else(|| same_pad(&w)),
        dout,
        w,
        act_in,
        s_out: a.s_out,
    };
    let mut files = vec![("dout", &a.dout), ("w", &a.w)];
    if let Some(p) = &a.act_in {
        files.push(("act_in", p));
    }
    let (done, engine) = execute(&job, &a.engine, &files)?;
    let mask = match &job.act_in {
        Some(t) => format!(", masked where act_in {:?} <= 0", t.dims()),
        None => String::new(),
    };
    let inputs = format!(
        "dout {:?}, w {:?}; pad {}, s_out {}{mask}",
        job.dout.dims(),
        job.w.dims(),
        job.pad,
        job.s_out
    );
    summary(&done, &engine, &inputs, &files);
    let din = &done.output.din;
    write_outputs(&[("din", &a.out, npy(din, NpyData::I16)?)])
}

fn wu(a: &WuArgs) -> Result<()> {
    check_outputs(&[("--out-master", &a.out_master), ("--out-w16", &a.out_w16)])?;
    let x = read_tensor(&a.x, Kind::Act, i16s)?;
    let dout = read_tensor(&a.dout, Kind::Act, i16s)?;
    let master = read_tensor(&a.master, Kind::Master, i32s)?;
    let job = WuJob {
        pad: a.pad.unwrap_or_else(|| same_pad(&master)),
        x,
        dout,
        master,
        g_pre: a.g_pre,
        lr_mant: a.lr_mant,
        lr_shift: a.lr_shift,
    };
    let files = [("x", &a.x), ("dout", &a.dout), ("master", &a.master)];
    let (done, engine) = execute(&job, &a.engine, &files)?;
    let inputs = format!(
        "x {:?}, dout {:?}, master {:?}; pad {}, g_pre {}, lr_mant {}, lr_shift {}",
        job.x.dims(),
        job.dout.dims(),
        job.master.dims(),
        job.pad,
        job.g_pre,
        job.lr_mant,
        job.lr_shift
    );
    summary(&done, &engine, &inputs, &files);
    let o = &done.output;
    write_outputs(&[
        ("master'", &a.out_master, npy(&o.master, NpyData::I32)?),
        ("w16", &a.out_w16, npy(&o.w16, NpyData::I16)?),
    ])
}

fn pool_fwd(a: &PoolFwdArgs) -> Result<()> {
    check_outputs(&[("--out", &a.out), ("--out-argmax", &a.out_argmax)])?;
    let job = PoolFwdJob {
        x: read_tensor(&a.x, Kind::Act, i16s)?,
    };
    let files = [("x", &a.x)];
    let (done, engine) = execute(&job, &a.engine, &files)?;
    summary(&done, &engine, &format!("x {:?}", job.x.dims()), &files);
    let o = &done.output;
    write_outputs(&[
        ("y", &a.out, npy(&o.y, NpyData::I16)?),
        ("argmax", &a.out_argmax, npy(&o.argmax, NpyData::U8)?),
    ])
}

fn pool_bwd(a: &PoolBwdArgs) -> Result<()> {
    check_outputs(&[("--out", &a.out)])?;
    let job = PoolBwdJob {
        dy: read_tensor(&a.dy, Kind::Act, i16s)?,
        argmax: read_tensor(&a.argmax, Kind::Argmax, u8s)?,
    };
    let files = [("dy", &a.dy), ("argmax", &a.argmax)];
    let (done, engine) = execute(&job, &a.engine, &files)?;
    let inputs = format!("dy {:?}, argmax {:?}", job.dy.dims(), job.argmax.dims());
    summary(&done, &engine, &inputs, &files);
    let dx = &done.output.dx;
    write_outputs(&[("dx", &a.out, npy(dx, NpyData::I16)?)])
}

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------

/// What an input file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// int16 activations or gradients `[B, C, H, W]`.
    Act,
    /// int16 weights `[M, N, K, K]`.
    Weights,
    /// int32 master weights `[M, N, K, K]`.
    Master,
    /// uint8 argmax codes `[B, C, H, W]`.
    Argmax,
}

impl Kind {
    /// The NumPy dtype expected.
    fn dtype(self) -> &'static str {
        match self {
            Kind::Act | Kind::Weights => "int16",
            Kind::Master => "int32",
            Kind::Argmax => "uint8",
        }
    }

    /// What the tensor means, for messages.
    fn meaning(self) -> &'static str {
        match self {
            Kind::Act => "NCHW fixed-point activations or gradients",
            Kind::Weights => "fixed-point weights [M, N, K, K]",
            Kind::Master => {
                "master weights [M, N, K, K] with 16 more fraction bits than the int16 weights"
            }
            Kind::Argmax => "NCHW argmax codes 0..=3, as pool-fwd writes them",
        }
    }

    /// How to get there from a file of another dtype (`float`: a float one).
    fn convert(self, float: bool) -> &'static str {
        match (self, float) {
            (Kind::Act | Kind::Weights, true) => {
                "quantize it first, e.g. np.clip(np.round(a * 2**f), -32768, 32767).astype(np.int16) \
                 for f fraction bits"
            }
            (Kind::Act | Kind::Weights, false) => {
                "convert with a.astype(np.int16) if every value lies in -32768..=32767"
            }
            (Kind::Master, true) => {
                "quantize it first, e.g. np.round(w * 2**(f + 16)).astype(np.int32) for weights \
                 with f fraction bits"
            }
            (Kind::Master, false) => "convert with a.astype(np.int32)",
            (Kind::Argmax, _) => "convert with a.astype(np.uint8)",
        }
    }

    /// How to give a tensor of another rank the four dimensions.
    fn reshape(self) -> &'static str {
        match self {
            Kind::Act | Kind::Argmax => {
                "one image [C, H, W] becomes a[None]; otherwise a.reshape(B, C, H, W)"
            }
            Kind::Weights | Kind::Master => {
                "a matrix [M, N] (a 1x1 convolution) becomes a[:, :, None, None]"
            }
        }
    }
}

fn i16s(d: NpyData) -> Option<Vec<i16>> {
    if let NpyData::I16(v) = d {
        Some(v)
    } else {
        None
    }
}

fn i32s(d: NpyData) -> Option<Vec<i32>> {
    if let NpyData::I32(v) = d {
        Some(v)
    } else {
        None
    }
}

fn u8s(d: NpyData) -> Option<Vec<u8>> {
    if let NpyData::U8(v) = d {
        Some(v)
    } else {
        None
    }
}

/// Reads a rank-4 tensor of `kind` from `path`, with `take` picking the
/// elements of the expected dtype.
fn read_tensor<T: Copy + Default>(
    path: &Path,
    kind: Kind,
    take: fn(NpyData) -> Option<Vec<T>>,
) -> Result<Tensor4<T>> {
    let name = path.display();
    let a = NpyArray::read(path).map_err(|e| {
        let msg = e.to_string();
        if msg.contains(&name.to_string()) {
            anyhow!(msg)
        } else {
            anyhow!("{name}: {msg}")
        }
    })?;
    let dtype = numpy_dtype(a.data());
    let float = dtype.starts_with("float");
    let (shape, data) = a.into_parts();
    let Some(v) = take(data) else {
        bail!(
            "{name}: dtype {dtype}, expected {} ({}); {}",
            kind.dtype(),
            kind.meaning(),
            kind.convert(float)
        );
    };
    let &[d0, d1, d2, d3] = shape.as_slice() else {
        bail!(
            "{name}: shape {shape:?} has rank {}, expected rank 4 ({}); {}",
            shape.len(),
            kind.meaning(),
            kind.reshape()
        );
    };
    Tensor4::from_vec([d0, d1, d2, d3], v).map_err(|e| anyhow!("{name}: {e}"))
}

/// A tensor as an `.npy` array of the dtype `wrap` makes.
fn npy<T: Copy>(t: &Tensor4<T>, wrap: fn(Vec<T>) -> NpyData) -> Result<NpyArray> {
    Ok(NpyArray::new(t.dims().to_vec(), wrap(t.data().to_vec()))?)
}

// ---------------------------------------------------------------------------
// Engines and the summary
// ---------------------------------------------------------------------------

/// The engine a job ran on, for the summary.
struct Ran {
    /// What ran it.
    label: String,
    /// The build the descriptor was scheduled for.
    hw: HwConfig,
}

/// A job error with the file of the tensor at fault in front.
fn job_error(e: JobError, files: &[(&str, &PathBuf)]) -> anyhow::Error {
    match e
        .tensor()
        .and_then(|t| files.iter().find(|(name, _)| *name == t))
    {
        Some((_, p)) => anyhow!("{}: {e}", p.display()),
        None => anyhow!(e),
    }
}

/// `(T, P) = (2, 1), ACC_W/ACC_W_WU 32/40` for a build.
fn build_label(hw: &HwConfig) -> String {
    format!(
        "(T, P) = ({}, {}), ACC_W/ACC_W_WU {}/{}",
        hw.t, hw.p, hw.acc_w, hw.acc_w_wu
    )
}

/// Runs `job` on the engine `e` selects.
#[cfg(feature = "cosim")]
fn execute<J: TensorJob>(
    job: &J,
    e: &EngineArgs,
    files: &[(&str, &PathBuf)],
) -> Result<(Done<J::Output>, Ran)> {
    let build = e.build.unwrap_or(0);
    let c = conv_build(build)?;
    let (done, ran) = match e.engine {
        Engine::Ref => {
            let hw = hw_of(c);
            let label = format!(
                "the reference executor, build {build}: {}, ideal memory",
                build_label(&hw)
            );
            (job.run(&hw, &mut Reference(hw)), Ran { label, hw })
        }
        Engine::Rtl => {
            let mut rtl =
                RtlExecutor::new(build, e.seed, RTL_TIMING).map_err(anyhow::Error::msg)?;
            let hw = rtl.hw();
            let label = format!(
                "the Verilated engine, build {build}: {}, memory latency {} + burst start-up {} \
                 (every word and counter checked against the reference)",
                build_label(&hw),
                RTL_TIMING.latency,
                RTL_TIMING.t_burst
            );
            (job.run(&hw, &mut rtl), Ran { label, hw })
        }
    };
    Ok((done.map_err(|e| job_error(e, files))?, ran))
}

/// Runs `job` on the reference executor with the ECP5 preset (the build
/// has no co-simulated engine).
#[cfg(not(feature = "cosim"))]
fn execute<J: TensorJob>(
    job: &J,
    e: &EngineArgs,
    files: &[(&str, &PathBuf)],
) -> Result<(Done<J::Output>, Ran)> {
    let cmd = command_name(J::OP);
    if e.engine == Engine::Rtl {
        return Err(crate::cosim_missing(&format!("conv {cmd} --engine rtl")));
    }
    if e.build.is_some() {
        return Err(crate::cosim_missing(&format!("conv {cmd} --build")));
    }
    let hw = HwConfig::ecp5();
    let label = format!(
        "the reference executor, ECP5 preset: {} (`--build` needs the cosim feature)",
        build_label(&hw)
    );
    let done = job
        .run(&hw, &mut Reference(hw))
        .map_err(|e| job_error(e, files))?;
    Ok((done, Ran { label, hw }))
}

/// The subcommand of an operation.
#[cfg_attr(feature = "cosim", allow(dead_code))]
fn command_name(op: Op) -> &'static str {
    match op {
        Op::Fp => "fp",
        Op::Bp => "bp",
        Op::Wu => "wu",
        Op::PoolFwd => "pool-fwd",
        Op::PoolBwd => "pool-bwd",
    }
}

/// Prints what ran: the inputs, the engine, the descriptor's tiling and
/// the counters, and a warning for accumulator wraps.
fn summary<O>(done: &Done<O>, ran: &Ran, inputs: &str, files: &[(&str, &PathBuf)]) {
    let (d, s, hw) = (&done.desc, &done.stats, &ran.hw);
    let from: Vec<String> = files
        .iter()
        .map(|(t, p)| format!("{t} {}", p.display()))
        .collect();
    println!("{} on {}", d.op, ran.label);
    println!("  inputs: {inputs}");
    println!("  from: {}", from.join(", "));
    let n_on = if d.op.is_conv() {
        format!(", N_on = {}", d.tiling.n_on)
    } else {
        String::new()
    };
    println!(
        "  descriptor: Tr = {}, M_on = {}{n_on} (best_tiling); memory image {} words",
        d.tiling.tr, d.tiling.m_on, done.image_words
    );
    let utilization = if d.op.is_conv() {
        format!(
            ", utilization {:.1} % of {} MACs/cycle",
            100.0 * s.utilization(hw),
            hw.peak_macs()
        )
    } else {
        String::new()
    };
    println!(
        "  engine: {} cycles ({} fired, stalls {} input / {} weights / {} output, {} overhead), \
         occupancy {:.1} %{utilization}",
        s.cycles,
        s.fired,
        s.stall_input,
        s.stall_weights,
        s.stall_output,
        s.overhead,
        100.0 * s.occupancy(),
    );
    println!(
        "  memory: {} words read, {} written, {} bursts; the model predicted {} cycles",
        s.words_read, s.words_written, s.bursts, done.predicted.cycles
    );
    if s.acc_overflows > 0 {
        let (acc, fix) = if d.op == Op::Wu {
            (
                hw.acc_w_wu,
                "raise --g-pre or use inputs with fewer fraction bits",
            )
        } else {
            (
                hw.acc_w,
                "use inputs with fewer fraction bits or a build with a wider accumulator",
            )
        };
        eprintln!(
            "warning: {} accumulator(s) wrapped: their exact sums exceed ACC{} = {acc} bits. The \
             results are what the engine computes, but probably not what you want: {fix}",
            s.acc_overflows,
            if d.op == Op::Wu { "_W_WU" } else { "_W" }
        );
    }
}

// ---------------------------------------------------------------------------
// Digits training
// ---------------------------------------------------------------------------

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

/// Build `build` of `CONV_CONFIGS`, or an error listing the builds.
#[cfg(feature = "cosim")]
fn conv_build(build: usize) -> Result<&'static ConvConfig> {
    CONV_CONFIGS.get(build).ok_or_else(|| {
        let list: Vec<String> = CONV_CONFIGS
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{i}: (T, P) = ({}, {})", c.t, c.p))
            .collect();
        anyhow!("no conv build {build}; the builds are {}", list.join(", "))
    })
}

/// A progress callback for a training run that prints a line (prefixed
/// by `label`) every 10 s and at the end of every epoch and test pass.
#[cfg(feature = "cosim")]
fn progress_printer(label: String) -> impl FnMut(&Progress) {
    let mut last = Duration::ZERO;
    move |p: &Progress| {
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
        let sep = if label.is_empty() { "" } else { ": " };
        eprintln!(
            "  {label}{sep}{phase}: batch {}/{}, {} steps, {:.1} steps/s, {:.1} M engine cycles, {:.2} M cycles/s, {:.0} s",
            p.batch,
            p.batches,
            p.steps,
            p.steps as f64 / secs,
            p.executed.cycles as f64 / 1e6,
            p.executed.cycles as f64 / 1e6 / secs,
            secs
        );
    }
}

#[cfg(not(feature = "cosim"))]
fn through_rtl(_seed: u64, _epochs: usize, _build: usize) -> Result<()> {
    Err(crate::cosim_missing("conv digits --rtl"))
}

#[cfg(feature = "cosim")]
fn through_rtl(seed: u64, epochs: usize, build: usize) -> Result<()> {
    let c = conv_build(build)?;
    eprintln!(
        "training in fixed point through the RTL, build {build} ((T, P) = ({}, {}), ACC_W/ACC_W_WU {}/{}), \
         {epochs} epochs, seed {seed}; every descriptor checked against the reference ...",
        c.t, c.p, c.acc_w, c.acc_w_wu
    );
    let start = Instant::now();
    let mut show = progress_printer(String::new());
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

#[cfg(test)]
mod tests {
    //! The tensor commands on `.npy` files in a scratch folder, with the
    //! reference engine: results equal the golden model; bad files are
    //! refused with the file named, and then no output (nor temporary
    //! file) exists.
    use super::*;
    use hls_rust::conv::golden::{self, BpParams, FpParams, WuParams, conv_bp, conv_fp, conv_wu};
    use hls_rust::rng::Rng;

    /// An empty folder for `test` under the system's temporary folder.
    fn scratch(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hlsk-conv-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating the scratch folder");
        dir
    }

    /// Saves `data` of shape `dims` as `dir/name`.
    fn save(dir: &Path, name: &str, dims: &[usize], data: NpyData) -> PathBuf {
        let path = dir.join(name);
        let a = NpyArray::new(dims.to_vec(), data).expect("a consistent test array");
        a.write(&path).expect("writing a test input");
        path
    }

    /// Random int16 values in -100..100 (no accumulator comes near a wrap).
    fn small(rng: &mut Rng, dims: [usize; 4]) -> Tensor4<i16> {
        Tensor4::from_fn(dims, |_| rng.below(200) as i16 - 100)
    }

    fn save_t(dir: &Path, name: &str, t: &Tensor4<i16>) -> PathBuf {
        save(dir, name, &t.dims(), NpyData::I16(t.data().to_vec()))
    }

    fn load<T: Copy + Default>(path: &Path, take: fn(NpyData) -> Option<Vec<T>>) -> Tensor4<T> {
        let a = NpyArray::read(path).expect("reading an output");
        let dims: [usize; 4] = a.shape().try_into().expect("a rank-4 output");
        let v = take(a.into_parts().1).expect("the output's dtype");
        Tensor4::from_vec(dims, v).expect("a consistent output")
    }

    fn reference() -> EngineArgs {
        EngineArgs {
            engine: Engine::Ref,
            build: None,
            seed: 1,
        }
    }

    /// The files in `dir`, sorted.
    fn files_in(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .expect("listing the scratch folder")
            .map(|e| {
                e.expect("a folder entry")
                    .file_name()
                    .to_string_lossy()
                    .into()
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn every_command_writes_the_golden_tensors() {
        let dir = scratch("golden");
        let mut rng = Rng::new(7);
        let x = small(&mut rng, [2, 3, 6, 6]);
        let w = small(&mut rng, [4, 3, 3, 3]);
        let dout = small(&mut rng, [2, 4, 6, 6]);
        let master = Tensor4::from_fn([4, 3, 3, 3], |_| rng.next_u64() as i32 >> 8);
        let (xp, wp, dp) = (
            save_t(&dir, "x.npy", &x),
            save_t(&dir, "w.npy", &w),
            save_t(&dir, "dout.npy", &dout),
        );
        let mp = save(
            &dir,
            "m.npy",
            &[4, 3, 3, 3],
            NpyData::I32(master.data().to_vec()),
        );

        fp(&FpArgs {
            x: xp.clone(),
            w: wp.clone(),
            out: dir.join("y.npy"),
            pad: None,
            s_out: 5,
            relu: true,
            engine: reference(),
        })
        .unwrap();
        let p = FpParams {
            pad: 1,
            s_out: 5,
            relu: true,
            acc_w: 64,
        };
        assert_eq!(
            load(&dir.join("y.npy"), i16s),
            conv_fp(&x, &w, &p).unwrap().0
        );

        bp(&BpArgs {
            dout: dp.clone(),
            w: wp.clone(),
            act_in: Some(xp.clone()),
            out: dir.join("din.npy"),
            pad: Some(1),
            s_out: 3,
            engine: reference(),
        })
        .unwrap();
        let p = BpParams {
            pad: 1,
            s_out: 3,
            acc_w: 64,
        };
        let want = conv_bp(&dout, &w, Some(&x), &p).unwrap().0;
        assert_eq!(load(&dir.join("din.npy"), i16s), want);

        // WU in place: the master file is replaced by the updated masters.
        wu(&WuArgs {
            x: xp.clone(),
            dout: dp,
            master: mp.clone(),
            out_master: mp.clone(),
            out_w16: dir.join("w16.npy"),
            pad: None,
            g_pre: 2,
            lr_mant: 5,
            lr_shift: 3,
            engine: reference(),
        })
        .unwrap();
        let p = WuParams {
            pad: 1,
            g_pre: 2,
            lr_mant: 5,
            lr_shift: 3,
            acc_w_wu: 64,
        };
        let r = conv_wu(&x, &dout, &master, &p).unwrap();
        assert_ne!(r.master, master);
        assert_eq!(load(&mp, i32s), r.master);
        assert_eq!(load(&dir.join("w16.npy"), i16s), r.w16);

        pool_fwd(&PoolFwdArgs {
            x: xp,
            out: dir.join("py.npy"),
            out_argmax: dir.join("pa.npy"),
            engine: reference(),
        })
        .unwrap();
        let (y, argmax) = golden::pool_fwd(&x).unwrap();
        assert_eq!(load(&dir.join("py.npy"), i16s), y);
        assert_eq!(load(&dir.join("pa.npy"), u8s), argmax);

        let dy = small(&mut rng, [2, 3, 3, 3]);
        pool_bwd(&PoolBwdArgs {
            dy: save_t(&dir, "dy.npy", &dy),
            argmax: dir.join("pa.npy"),
            out: dir.join("dx.npy"),
            engine: reference(),
        })
        .unwrap();
        let dx = golden::pool_bwd(&dy, &argmax).unwrap();
        assert_eq!(load(&dir.join("dx.npy"), i16s), dx);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_files_are_refused_naming_the_file_and_nothing_is_written() {
        let dir = scratch("bad");
        let mut rng = Rng::new(3);
        let x = small(&mut rng, [1, 3, 4, 4]);
        let xp = save_t(&dir, "x.npy", &x);
        let wp = save_t(&dir, "w.npy", &small(&mut rng, [2, 3, 3, 3]));
        let w2 = save_t(&dir, "w2.npy", &small(&mut rng, [2, 2, 3, 3]));
        let xf = save(&dir, "xf.npy", &[1, 3, 4, 4], NpyData::F32(vec![0.5; 48]));
        let x3 = save(&dir, "x3.npy", &[3, 4, 4], NpyData::I16(vec![0; 48]));
        let m16 = save_t(&dir, "m16.npy", &small(&mut rng, [2, 3, 3, 3]));
        let wide = save(
            &dir,
            "wide.npy",
            &[1, 1, 1, 40_000],
            NpyData::I16(vec![0; 40_000]),
        );
        let w1 = save(&dir, "w1.npy", &[1, 1, 1, 1], NpyData::I16(vec![1]));
        let dy = save(&dir, "dy.npy", &[1, 1, 1, 2], NpyData::I16(vec![3, 4]));
        let code5 = save(&dir, "code5.npy", &[1, 1, 1, 2], NpyData::U8(vec![1, 5]));
        let bytes = std::fs::read(&xp).unwrap();
        let cut = dir.join("cut.npy");
        std::fs::write(&cut, &bytes[..bytes.len() - 3]).unwrap();
        let inputs = files_in(&dir);

        let out = dir.join("y.npy");
        let fp_of = |x: &PathBuf, w: &PathBuf| FpArgs {
            x: x.clone(),
            w: w.clone(),
            out: out.clone(),
            pad: None,
            s_out: 0,
            relu: false,
            engine: reference(),
        };
        let wu_with = |master: &PathBuf| WuArgs {
            x: xp.clone(),
            dout: xp.clone(),
            master: master.clone(),
            out_master: out.clone(),
            out_w16: dir.join("w16.npy"),
            pad: None,
            g_pre: 0,
            lr_mant: 1,
            lr_shift: 0,
            engine: reference(),
        };
        let cases: Vec<(Result<()>, &str)> = vec![
            (
                fp(&fp_of(&xf, &wp)),
                "xf.npy: dtype float32, expected int16",
            ),
            (
                fp(&fp_of(&x3, &wp)),
                "x3.npy: shape [3, 4, 4] has rank 3, expected rank 4",
            ),
            (fp(&fp_of(&cut, &wp)), "cut.npy: truncated"),
            (
                fp(&fp_of(&xp, &w2)),
                "w2.npy: w: dim 1 (N) = 2, expected 3 (x has C = 3 channels)",
            ),
            (
                fp(&fp_of(&wide, &w1)),
                "FP does not fit the engine's buffers",
            ),
            (wu(&wu_with(&m16)), "m16.npy: dtype int16, expected int32"),
            (
                pool_bwd(&PoolBwdArgs {
                    dy: dy.clone(),
                    argmax: code5.clone(),
                    out: out.clone(),
                    engine: reference(),
                }),
                "code5.npy: argmax: element [0, 0, 0, 1] = 5, expected an argmax code 0..=3",
            ),
            (
                pool_bwd(&PoolBwdArgs {
                    dy: dy.clone(),
                    argmax: dy.clone(),
                    out: out.clone(),
                    engine: reference(),
                }),
                "dy.npy: dtype int16, expected uint8",
            ),
            (
                pool_fwd(&PoolFwdArgs {
                    x: xp.clone(),
                    out: out.clone(),
                    out_argmax: out.clone(),
                    engine: reference(),
                }),
                "--out-argmax",
            ),
            (
                fp(&FpArgs {
                    out: dir.join("no/such/folder/y.npy"),
                    ..fp_of(&xp, &wp)
                }),
                "does not exist",
            ),
        ];
        for (r, want) in cases {
            let e = format!("{:#}", r.expect_err(want));
            assert!(e.contains(want), "expected `{want}` in: {e}");
            assert_eq!(files_in(&dir), inputs, "after: {e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_failed_write_leaves_no_output() {
        let dir = scratch("write");
        let blocker = save(&dir, "file.npy", &[1], NpyData::U8(vec![0]));
        let a = NpyArray::new(vec![2], NpyData::I16(vec![1, 2])).unwrap();
        let ok = dir.join("ok.npy");
        let bad = blocker.join("y.npy");
        let e = write_outputs(&[("a", &ok, a.clone()), ("b", &bad, a)]).unwrap_err();
        assert!(format!("{e:#}").contains("y.npy"), "{e:#}");
        assert_eq!(files_in(&dir), ["file.npy"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(not(feature = "cosim"))]
    #[test]
    fn the_rtl_engine_needs_the_cosim_feature() {
        let e = fp(&FpArgs {
            x: "x.npy".into(),
            w: "w.npy".into(),
            out: "y.npy".into(),
            pad: None,
            s_out: 0,
            relu: false,
            engine: EngineArgs {
                engine: Engine::Rtl,
                ..reference()
            },
        });
        // The inputs are read first: a missing file is named.
        assert!(format!("{:#}", e.unwrap_err()).contains("x.npy"));
        let dir = scratch("rtl");
        let x = save(&dir, "x.npy", &[1, 1, 2, 2], NpyData::I16(vec![1; 4]));
        let w = save(&dir, "w.npy", &[1, 1, 1, 1], NpyData::I16(vec![1]));
        let e = fp(&FpArgs {
            x,
            w,
            out: dir.join("y.npy"),
            pad: None,
            s_out: 0,
            relu: false,
            engine: EngineArgs {
                engine: Engine::Rtl,
                ..reference()
            },
        })
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("`hlsk conv fp --engine rtl` needs the Verilated models"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
