//! Verilator-built models of the hlsk RTL, driven from safe Rust.
//!
//! `build.rs` verilates every block once per parameter set listed in
//! [`configs`], compiles each model as one translation unit with `-O2`, and
//! bridges a small C++ shim per block with `cxx`. Each model instance owns
//! its own `VerilatedContext`, so models on different test threads are
//! independent; its power-up state is X-randomised from a seed
//! (`--x-assign unique --x-initial unique`, `randReset(2)`), so the same
//! seed gives the same run.
//!
//! Outputs come back as the reference model's own output types from
//! [`hls_rust::common`], so a test compares the two with `==`.
//!
//! ```
//! use hls_rust::common::{CycleModel, StreamIn, SyncFifo};
//! use hlsk_cosim::{Fifo, configs::FIFO_CONFIGS};
//!
//! let cfg = 1;
//! let mut dut = Fifo::new(cfg, 42).unwrap();
//! let c = FIFO_CONFIGS[cfg];
//! let mut model = SyncFifo::new(c.width, c.depth as usize);
//! dut.reset();
//! for d in 0..10 {
//!     let i = StreamIn { in_valid: true, in_data: d, out_ready: d % 3 == 0 };
//!     let expected = model.outputs();
//!     model.tick(&i);
//!     assert_eq!(dut.step(&i), expected);
//! }
//! ```
//!
//! With the `trace` feature, [`Fifo::with_trace`] and friends write an FST
//! waveform of the run.

// Links the Verilator runtime (it has no Rust items to `use`).
extern crate hlsk_verilator_rt;

pub mod configs;
mod ffi;
mod soc;

use cxx::UniquePtr;
use hls_rust::common::{FifoOut, RamIn, SkidOut, StreamIn};
use std::path::Path;

pub use ffi::bridge::StreamStepIn;

/// Reset cycles applied by `reset()`.
pub const RESET_CYCLES: u32 = 2;

/// The Verilator version the models were built with.
pub const VERILATOR_VERSION: &str = env!("HLSK_VERILATOR_VERSION");

/// Whether FST tracing is compiled in (cargo feature `trace`).
pub const TRACE_ENABLED: bool = cfg!(feature = "trace");

/// Errors from creating or running a model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The C++ side refused (bad config index, no trace support, ...).
    #[error("{0}")]
    Model(String),
    /// A waveform path that is not valid UTF-8.
    #[error("waveform path {0:?} is not valid UTF-8")]
    Path(std::path::PathBuf),
}

impl From<cxx::Exception> for Error {
    fn from(e: cxx::Exception) -> Self {
        Error::Model(e.what().to_owned())
    }
}

fn trace_arg(path: Option<&Path>) -> Result<&str, Error> {
    match path {
        None => Ok(""),
        Some(p) => p.to_str().ok_or_else(|| Error::Path(p.to_owned())),
    }
}

/// Entry `config` of the build table `table`; `what` names the block in
/// the error when there is none.
fn build_config<C: Copy>(table: &[C], config: usize, what: &str) -> Result<C, Error> {
    table
        .get(config)
        .copied()
        .ok_or_else(|| Error::Model(format!("no {what} build with index {config}")))
}

fn stream_in(i: &StreamIn) -> StreamStepIn {
    StreamStepIn {
        in_valid: i.in_valid,
        in_data: i.in_data,
        out_ready: i.out_ready,
    }
}

/// The Verilated `hlsk_fifo_sync`, one build from [`configs::FIFO_CONFIGS`].
pub struct Fifo {
    dut: UniquePtr<ffi::bridge::FifoDut>,
}

impl Fifo {
    /// Creates build `config` with power-up state randomised from `seed`.
    pub fn new(config: usize, seed: u32) -> Result<Self, Error> {
        Self::with_trace(config, seed, None)
    }

    /// As [`Fifo::new`], writing an FST waveform to `trace` if given.
    pub fn with_trace(config: usize, seed: u32, trace: Option<&Path>) -> Result<Self, Error> {
        let dut = ffi::bridge::new_fifo(config, seed, trace_arg(trace)?)?;
        Ok(Self { dut })
    }

    /// Holds reset for [`RESET_CYCLES`] edges, streams idle.
    pub fn reset(&mut self) {
        self.dut.pin_mut().reset(RESET_CYCLES);
    }

    /// Applies inputs `i` for one cycle: returns the outputs during that
    /// cycle (what a handshake with `i` sees), then clocks the edge.
    #[inline]
    pub fn step(&mut self, i: &StreamIn) -> FifoOut {
        fifo_out(self.dut.pin_mut().step(&stream_in(i)))
    }

    /// The raw shim step, as the speed benchmark uses it.
    #[inline]
    pub fn step_raw(&mut self, i: &StreamStepIn) -> ffi::bridge::FifoPins {
        self.dut.pin_mut().step(i)
    }

    /// Outputs right now, with the last inputs still applied.
    pub fn outputs(&self) -> FifoOut {
        fifo_out(self.dut.pins())
    }

    /// Rising edges so far.
    pub fn cycles(&self) -> u64 {
        self.dut.cycles()
    }

    /// True once an RTL assertion or `$error` fired.
    pub fn rtl_error(&self) -> bool {
        self.dut.error()
    }
}

pub use ffi::bridge::FifoPins;

fn fifo_out(p: ffi::bridge::FifoPins) -> FifoOut {
    FifoOut {
        in_ready: p.in_ready,
        out_valid: p.out_valid,
        out_data: p.out_valid.then_some(p.out_data),
        full: p.full,
        empty: p.empty,
        level: p.level,
    }
}

/// Runs FIFO build `config` (power-up state from `seed`, then [`Fifo::reset`])
/// from a pure C++ loop, with no per-cycle FFI, for `cycles` cycles with
/// `stim` repeated; returns the checksum of every output (see
/// [`fifo_checksum`]). The speed benchmark's baseline.
pub fn fifo_cpp_run(
    config: usize,
    seed: u32,
    stim: &[StreamStepIn],
    cycles: u64,
) -> Result<u64, Error> {
    Ok(ffi::bridge::fifo_cpp_run(
        config,
        seed,
        RESET_CYCLES,
        stim,
        cycles,
    )?)
}

/// Order-dependent checksum of FIFO outputs; the same function as
/// `fifo_checksum` in `shim/blocks_impl.h`.
#[inline]
pub fn fifo_checksum(sum: u64, p: &FifoPins) -> u64 {
    let data = if p.out_valid { p.out_data } else { 0 };
    let word = data
        ^ (u64::from(p.level) << 48)
        ^ (u64::from(p.in_ready) << 63)
        ^ (u64::from(p.out_valid) << 62);
    (sum ^ word).wrapping_mul(0x100000001b3)
}

/// The Verilated `hlsk_skid_buffer`, one build from [`configs::SKID_CONFIGS`].
pub struct Skid {
    dut: UniquePtr<ffi::bridge::SkidDut>,
}

impl Skid {
    /// Creates build `config` with power-up state randomised from `seed`.
    pub fn new(config: usize, seed: u32) -> Result<Self, Error> {
        Self::with_trace(config, seed, None)
    }

    /// As [`Skid::new`], writing an FST waveform to `trace` if given.
    pub fn with_trace(config: usize, seed: u32, trace: Option<&Path>) -> Result<Self, Error> {
        let dut = ffi::bridge::new_skid(config, seed, trace_arg(trace)?)?;
        Ok(Self { dut })
    }

    /// Holds reset for [`RESET_CYCLES`] edges, streams idle.
    pub fn reset(&mut self) {
        self.dut.pin_mut().reset(RESET_CYCLES);
    }

    /// Applies inputs `i` for one cycle: returns the outputs during that
    /// cycle (what a handshake with `i` sees), then clocks the edge.
    pub fn step(&mut self, i: &StreamIn) -> SkidOut {
        skid_out(self.dut.pin_mut().step(&stream_in(i)))
    }

    /// Outputs right now, with the last inputs still applied.
    pub fn outputs(&self) -> SkidOut {
        skid_out(self.dut.pins())
    }

    /// Rising edges so far.
    pub fn cycles(&self) -> u64 {
        self.dut.cycles()
    }

    /// True once an RTL assertion or `$error` fired.
    pub fn rtl_error(&self) -> bool {
        self.dut.error()
    }
}

fn skid_out(p: ffi::bridge::SkidPins) -> SkidOut {
    SkidOut {
        in_ready: p.in_ready,
        out_valid: p.out_valid,
        out_data: p.out_valid.then_some(p.out_data),
    }
}

/// The Verilated `hlsk_ram_1r1w`, one build from [`configs::RAM_CONFIGS`].
pub struct Ram {
    dut: UniquePtr<ffi::bridge::RamDut>,
}

impl Ram {
    /// Creates build `config` with power-up contents randomised from `seed`.
    pub fn new(config: usize, seed: u32) -> Result<Self, Error> {
        Self::with_trace(config, seed, None)
    }

    /// As [`Ram::new`], writing an FST waveform to `trace` if given.
    pub fn with_trace(config: usize, seed: u32, trace: Option<&Path>) -> Result<Self, Error> {
        let dut = ffi::bridge::new_ram(config, seed, trace_arg(trace)?)?;
        Ok(Self { dut })
    }

    /// Applies inputs `i` for one cycle: returns the read data during that
    /// cycle (undefined until a written word was read), then clocks the edge.
    pub fn step(&mut self, i: &RamIn) -> u64 {
        self.dut.pin_mut().step(&ffi::bridge::RamStepIn {
            we: i.we,
            waddr: i.waddr,
            wdata: i.wdata,
            re: i.re,
            raddr: i.raddr,
        })
    }

    /// The registered read data in the current cycle.
    pub fn rdata(&self) -> u64 {
        self.dut.rdata()
    }

    /// Rising edges so far.
    pub fn cycles(&self) -> u64 {
        self.dut.cycles()
    }

    /// True once an RTL assertion or `$error` fired.
    pub fn rtl_error(&self) -> bool {
        self.dut.error()
    }
}

pub use configs::{FeederConfig, TlmmArch, TlmmConfig};
pub use ffi::bridge::{FeederIn, FeederPins, TlmmIn, TlmmPins};

/// What a test bench needs of a Verilated TLMM engine, whatever its
/// micro-architecture: [`TlmmOs`] and [`TlmmTs`] have the same ports and
/// stream contract, so one driver plays jobs through either.
pub trait TlmmDriver {
    /// The parameters of this build.
    fn config(&self) -> TlmmConfig;
    /// Holds reset for [`RESET_CYCLES`] edges with every stream idle.
    fn reset(&mut self);
    /// Applies inputs `i` (and weight beat `w_data`, little-endian 32-bit
    /// words) for one cycle: returns the outputs during that cycle, then
    /// clocks the edge.
    fn step(&mut self, i: &TlmmIn, w_data: &[u32]) -> TlmmPins;
    /// Rising edges so far.
    fn cycles(&self) -> u64;
    /// True once an RTL assertion or `$error` fired.
    fn rtl_error(&self) -> bool;
}

/// The Verilated `tlmm_os_engine`, one build from [`configs::TLMM_CONFIGS`].
///
/// Cycle level: [`TlmmOs::step`] takes every input of the cycle, the weight
/// beat as little-endian 32-bit words; stream protocols and job-level
/// checking live in the test bench (`hlsk-tests`).
pub struct TlmmOs {
    dut: UniquePtr<ffi::bridge::TlmmDut>,
    config: TlmmConfig,
}

impl TlmmOs {
    /// Creates build `config` with power-up state randomised from `seed`.
    pub fn new(config: usize, seed: u32) -> Result<Self, Error> {
        Self::with_trace(config, seed, None)
    }

    /// As [`TlmmOs::new`], writing an FST waveform to `trace` if given.
    pub fn with_trace(config: usize, seed: u32, trace: Option<&Path>) -> Result<Self, Error> {
        let cfg = build_config(configs::TLMM_CONFIGS, config, "TLMM")?;
        let dut = ffi::bridge::new_tlmm(config, seed, trace_arg(trace)?)?;
        Ok(Self { dut, config: cfg })
    }

    /// The parameters of this build.
    pub fn config(&self) -> TlmmConfig {
        self.config
    }

    /// Holds reset for [`RESET_CYCLES`] edges with every stream idle.
    pub fn reset(&mut self) {
        self.dut.pin_mut().reset(RESET_CYCLES);
    }

    /// Applies inputs `i` (and weight beat `w_data`) for one cycle: returns
    /// the outputs during that cycle, then clocks the edge.
    #[inline]
    pub fn step(&mut self, i: &TlmmIn, w_data: &[u32]) -> TlmmPins {
        self.dut.pin_mut().step(i, w_data)
    }

    /// Rising edges so far.
    pub fn cycles(&self) -> u64 {
        self.dut.cycles()
    }

    /// True once an RTL assertion or `$error` fired.
    pub fn rtl_error(&self) -> bool {
        self.dut.error()
    }
}

impl TlmmDriver for TlmmOs {
    fn config(&self) -> TlmmConfig {
        TlmmOs::config(self)
    }
    fn reset(&mut self) {
        TlmmOs::reset(self);
    }
    #[inline]
    fn step(&mut self, i: &TlmmIn, w_data: &[u32]) -> TlmmPins {
        TlmmOs::step(self, i, w_data)
    }
    fn cycles(&self) -> u64 {
        TlmmOs::cycles(self)
    }
    fn rtl_error(&self) -> bool {
        TlmmOs::rtl_error(self)
    }
}

/// The Verilated `tlmm_ts_engine` (table-stationary), one build from
/// [`configs::TLMM_TS_CONFIGS`]; same pins as [`TlmmOs`], weights
/// chunk-major. Use it through [`TlmmDriver`].
pub struct TlmmTs {
    dut: UniquePtr<ffi::bridge::TlmmDut>,
    config: TlmmConfig,
}

impl TlmmTs {
    /// Creates build `config` with power-up state randomised from `seed`.
    pub fn new(config: usize, seed: u32) -> Result<Self, Error> {
        Self::with_trace(config, seed, None)
    }

    /// As [`TlmmTs::new`], writing an FST waveform to `trace` if given.
    pub fn with_trace(config: usize, seed: u32, trace: Option<&Path>) -> Result<Self, Error> {
        let cfg = build_config(configs::TLMM_TS_CONFIGS, config, "table-stationary TLMM")?;
        let dut = ffi::bridge::new_tlmmts(config, seed, trace_arg(trace)?)?;
        Ok(Self { dut, config: cfg })
    }
}

impl TlmmDriver for TlmmTs {
    fn config(&self) -> TlmmConfig {
        self.config
    }
    fn reset(&mut self) {
        self.dut.pin_mut().reset(RESET_CYCLES);
    }
    #[inline]
    fn step(&mut self, i: &TlmmIn, w_data: &[u32]) -> TlmmPins {
        self.dut.pin_mut().step(i, w_data)
    }
    fn cycles(&self) -> u64 {
        self.dut.cycles()
    }
    fn rtl_error(&self) -> bool {
        self.dut.error()
    }
}

/// A safe wrapper around one Verilated block whose shim has the common
/// cycle-level interface: `reset`, `step(inputs) -> pins`, `cycles`, `error`.
macro_rules! pin_model {
    ($(#[$doc:meta])* $name:ident, $dut:ident, $cfg:ty, $table:ident, $new:ident, $what:literal,
     $input:ty => $pins:ty) => {
        $(#[$doc])*
        pub struct $name {
            dut: UniquePtr<ffi::bridge::$dut>,
            config: $cfg,
        }

        impl $name {
            /// Creates build `config` with power-up state randomised from `seed`.
            pub fn new(config: usize, seed: u32) -> Result<Self, Error> {
                Self::with_trace(config, seed, None)
            }

            /// As `new`, writing an FST waveform to `trace` if given.
            pub fn with_trace(
                config: usize,
                seed: u32,
                trace: Option<&Path>,
            ) -> Result<Self, Error> {
                let cfg = build_config(configs::$table, config, $what)?;
                let dut = ffi::bridge::$new(config, seed, trace_arg(trace)?)?;
                Ok(Self { dut, config: cfg })
            }

            /// The parameters of this build.
            pub fn config(&self) -> $cfg {
                self.config
            }

            /// Holds reset for [`RESET_CYCLES`] edges with the inputs idle.
            pub fn reset(&mut self) {
                self.dut.pin_mut().reset(RESET_CYCLES);
            }

            /// Applies inputs `i` for one cycle: returns the outputs during
            /// that cycle, then clocks the edge.
            #[inline]
            pub fn step(&mut self, i: &$input) -> $pins {
                self.dut.pin_mut().step(i)
            }

            /// Rising edges so far.
            pub fn cycles(&self) -> u64 {
                self.dut.cycles()
            }

            /// True once an RTL assertion or `$error` fired.
            pub fn rtl_error(&self) -> bool {
                self.dut.error()
            }
        }
    };
}

pin_model! {
/// The Verilated `tlmm_weight_feeder`, one build from
/// [`configs::FEEDER_CONFIGS`].
    Feeder, FeederDut, FeederConfig, FEEDER_CONFIGS, new_feeder, "weight-feeder", FeederIn => FeederPins
}

pub use configs::{CONV_CHECK_CYCLES, ConvConfig};
pub use ffi::bridge::{ConvIn, ConvPins};

pin_model! {
/// The Verilated `conv_engine`, one build from [`configs::CONV_CONFIGS`].
///
/// Cycle level: [`Conv::step`] takes every input of the cycle (descriptor
/// stream, memory request ready, read beat as the low `16*T` bits of
/// `rd_data` and `rd_data_hi`, see [`ConvIn::set_beat`], write ready); the
/// memory behind the port lives in the test bench (`hlsk-tests`).
    Conv, ConvDut, ConvConfig, CONV_CONFIGS, new_conv, "conv", ConvIn => ConvPins
}

/// The most words a beat of the conv engine's memory port carries
/// (`T <= 8`: `rd_data` and `rd_data_hi`).
pub const CONV_MAX_BEAT_WORDS: usize = 8;

impl ConvIn {
    /// Puts a read beat of int16 words on the data pins: word `k` in bits
    /// `16k..16k+15` of `rd_data` (`k < 4`) or `rd_data_hi`.
    ///
    /// # Panics
    ///
    /// If the beat has more than [`CONV_MAX_BEAT_WORDS`] words.
    pub fn set_beat(&mut self, words: &[i16]) {
        assert!(
            words.len() <= CONV_MAX_BEAT_WORDS,
            "a conv beat carries at most {CONV_MAX_BEAT_WORDS} words, not {}",
            words.len()
        );
        let pack = |ws: &[i16]| {
            ws.iter()
                .enumerate()
                .fold(0u64, |acc, (k, &w)| acc | u64::from(w as u16) << (16 * k))
        };
        let split = words.len().min(4);
        self.rd_data = pack(&words[..split]);
        self.rd_data_hi = pack(&words[split..]);
    }
}

impl ConvPins {
    /// Word `k` (< [`CONV_MAX_BEAT_WORDS`]) of the write beat.
    pub fn wr_word(&self, k: usize) -> i16 {
        let half = if k < 4 { self.wr_data } else { self.wr_data_hi };
        (half >> (16 * (k % 4))) as u16 as i16
    }
}

pub use configs::UartConfig;
pub use ffi::bridge::{UartRxIn, UartRxPins, UartTxIn, UartTxPins};

pin_model! {
/// The Verilated `hlsk_uart_rx`, one build from [`configs::UART_CONFIGS`].
///
/// Cycle level: [`UartRx::step`] takes the line level and the byte stream's
/// ready for one cycle; the far end of the line lives in the test bench.
    UartRx, UartRxDut, UartConfig, UART_CONFIGS, new_uartrx, "UART", UartRxIn => UartRxPins
}

pin_model! {
/// The Verilated `hlsk_uart_tx`, one build from [`configs::UART_CONFIGS`].
///
/// Cycle level: [`UartTx::step`] takes the byte stream's valid and data for
/// one cycle and returns the line level among the outputs.
    UartTx, UartTxDut, UartConfig, UART_CONFIGS, new_uarttx, "UART", UartTxIn => UartTxPins
}

pub use configs::FrameTxConfig;
pub use ffi::bridge::{FrameTxIn, FrameTxPins};

pin_model! {
/// The Verilated `hlsk_frame_tx`, the host link's frame encoder.
///
/// Cycle level: [`FrameTx::step`] takes the header and payload streams and
/// the byte stream's ready for one cycle.
    FrameTx, FrameTxDut, FrameTxConfig, FRAME_TX_CONFIGS, new_frametx, "frame-encoder", FrameTxIn => FrameTxPins
}

// ---- SoC top (digital twin) ----
pub use configs::{SocConfig, SocPresetConfig};
pub use soc::{PresetProbe, Soc, SocPreset};

// ---- Engine speed harnesses (benchmark baselines) ----
pub use ffi::bridge::{ConvBenchStim, TlmmBenchStim};

/// Runs TLMM output-stationary build `config` (power-up state from `seed`,
/// then [`TlmmOs::reset`]) from a pure C++ loop for `cycles` cycles of
/// `stim` and returns the checksum of its outputs: the speed benchmark's
/// baseline, whose per-cycle driver the benchmark also runs from Rust
/// (`benches/speed/tlmm.rs`; the C++ one is in `shim/bench_impl.h`).
pub fn tlmm_cpp_run(
    config: usize,
    seed: u32,
    stim: &TlmmBenchStim,
    cycles: u64,
) -> Result<u64, Error> {
    build_config(configs::TLMM_CONFIGS, config, "TLMM")?;
    Ok(ffi::bridge::tlmm_bench_run(
        config,
        seed,
        RESET_CYCLES,
        stim,
        cycles,
    )?)
}

/// As [`tlmm_cpp_run`], for conv engine build `config` ([`Conv::reset`]
/// first) and the descriptors of `stim` (`benches/speed/conv.rs`).
pub fn conv_cpp_run(
    config: usize,
    seed: u32,
    stim: &ConvBenchStim,
    cycles: u64,
) -> Result<u64, Error> {
    build_config(configs::CONV_CONFIGS, config, "conv")?;
    Ok(ffi::bridge::conv_bench_run(
        config,
        seed,
        RESET_CYCLES,
        stim,
        cycles,
    )?)
}

/// As [`tlmm_cpp_run`], for SoC build `config` ([`Soc::reset`] first) driven
/// with one rx line level per cycle; the checksum covers the tx line
/// (`benches/speed/soc.rs`).
pub fn soc_cpp_run(config: usize, seed: u32, rx: &[u8]) -> Result<u64, Error> {
    build_config(configs::SOC_CONFIGS, config, "SoC")?;
    Ok(ffi::bridge::soc_bench_run(config, seed, RESET_CYCLES, rx)?)
}

// Not in configs.rs: build.rs includes that file, without hls-rust.
impl ConvConfig {
    /// The build as the reference model's scheduler sees it, with a memory
    /// that answers every burst at once (`t_burst` 1): the engine runs load,
    /// compute and store one after the other; a step costs six cycles of its
    /// own (four plan cycles, start, advance), a descriptor
    /// [`CONV_CHECK_CYCLES`] (its products and check).
    pub fn hw(&self) -> hls_rust::conv::HwConfig {
        hls_rust::conv::HwConfig {
            t: self.t as usize,
            p: self.p as usize,
            words_per_cycle: self.t as usize,
            t_burst: 1,
            cycle: hls_rust::conv::hw::CycleParams {
                t_desc: CONV_CHECK_CYCLES,
                t_step: 6,
                overlap: false,
            },
            in_buf: self.in_words as usize,
            w_buf: self.w_words as usize,
            out_buf: self.out_ent as usize,
            grad_buf: self.g_ent as usize,
            acc_depth: 1,
            acc_w: self.acc_w,
            acc_w_wu: self.acc_w_wu,
            ..hls_rust::conv::HwConfig::up5k()
        }
    }
}
