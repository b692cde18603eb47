//! The Verilated SoC top (`rtl/soc/hlsk_soc_top.sv`), seen from its pins:
//! the digital twin's device side.

use crate::configs::{self, SocConfig};
use crate::{Error, RESET_CYCLES, build_config, ffi, trace_arg};
use cxx::UniquePtr;
use std::path::Path;

/// The Verilated `hlsk_soc_top`, one build from [`configs::SOC_CONFIGS`].
///
/// Pin level: [`Soc::run`] drives the UART rx line one level per clock
/// cycle and records the tx line; the host's UART (bytes to levels and
/// back) lives on the Rust side.
///
/// ```no_run
/// use hlsk_cosim::Soc;
///
/// let mut soc = Soc::new(0, 1).unwrap();
/// soc.reset();
/// let rx = vec![1u8; 1000]; // line idle
/// let mut tx = vec![0u8; rx.len()];
/// soc.run(&rx, &mut tx).unwrap();
/// assert!(tx.iter().all(|&l| l == 1)); // nothing said, tx idles high
/// ```
pub struct Soc {
    dut: UniquePtr<ffi::bridge::SocDut>,
    config: SocConfig,
}

impl Soc {
    /// Creates build `config` with power-up state randomised from `seed`.
    pub fn new(config: usize, seed: u32) -> Result<Self, Error> {
        Self::with_trace(config, seed, None)
    }

    /// As [`Soc::new`], writing an FST waveform to `trace` if given.
    pub fn with_trace(config: usize, seed: u32, trace: Option<&Path>) -> Result<Self, Error> {
        let cfg = build_config(configs::SOC_CONFIGS, config, "SoC")?;
        let dut = ffi::bridge::new_soc(config, seed, trace_arg(trace)?)?;
        Ok(Self { dut, config: cfg })
    }

    /// The parameters of this build.
    pub fn config(&self) -> SocConfig {
        self.config
    }

    /// Presses the reset button for [`RESET_CYCLES`] edges, rx idle.
    pub fn reset(&mut self) {
        self.dut.pin_mut().reset(RESET_CYCLES);
    }

    /// Runs one cycle per element of `rx` (line level, 0 or 1), storing
    /// the tx line level of each cycle in `tx` (same length).
    pub fn run(&mut self, rx: &[u8], tx: &mut [u8]) -> Result<(), Error> {
        Ok(self.dut.pin_mut().run(rx, tx)?)
    }

    /// `led_o` as driven on the pins (board polarity).
    pub fn leds(&self) -> u32 {
        self.dut.leds()
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

/// One cycle of a [`SocPreset`]'s probe: the internal signals the
/// `HostLink = 0` build's contract speaks of, as they were in that cycle
/// (sampled before the edge, as the pins are).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PresetProbe {
    /// The SoC's internal reset, released.
    pub rst_n: bool,
    /// The self-test has handed the engine over to the stimulus.
    pub bist_done: bool,
    /// The engine's ports: command, activation and weight valid, result
    /// ready (after the self-test/stimulus switch).
    pub cmd_valid: bool,
    /// See `cmd_valid`.
    pub act_valid: bool,
    /// See `cmd_valid`.
    pub w_valid: bool,
    /// See `cmd_valid`.
    pub res_ready: bool,
    /// The engine's result stream.
    pub res_valid: bool,
    /// See `res_valid`.
    pub res_last: bool,
    /// See `res_valid`.
    pub res_data: u32,
    /// The engine's counters: busy, weight-starved, output-blocked cycles
    /// and weight beats.
    pub counters: [u32; 4],
    /// The stimulus shift registers (`g_no_link.stim_q`), bit 0 first.
    pub stim: Vec<u64>,
}

/// The Verilated `hlsk_soc_top` with `HostLink = 0`, one build from
/// [`configs::SOC_PRESET_CONFIGS`]: the kernel presets' SoC, whose pins
/// carry only a parity, so every cycle also reads a [`PresetProbe`].
pub struct SocPreset {
    dut: UniquePtr<ffi::bridge::SocPresetDut>,
    config: configs::SocPresetConfig,
}

impl SocPreset {
    /// Creates build `config` with power-up state randomised from `seed`,
    /// writing an FST waveform to `trace` if given.
    pub fn with_trace(config: usize, seed: u32, trace: Option<&Path>) -> Result<Self, Error> {
        let cfg = build_config(configs::SOC_PRESET_CONFIGS, config, "kernel-preset SoC")?;
        let dut = ffi::bridge::new_socpreset(config, seed, trace_arg(trace)?)?;
        Ok(Self { dut, config: cfg })
    }

    /// The parameters of this build.
    pub fn config(&self) -> configs::SocPresetConfig {
        self.config
    }

    /// Presses the reset button for [`RESET_CYCLES`] edges, rx idle.
    pub fn reset(&mut self) {
        self.dut.pin_mut().reset(RESET_CYCLES);
    }

    /// Runs one cycle per element of `rx` (line level, 0 or 1); returns the
    /// tx level and the probe of each cycle.
    pub fn run(&mut self, rx: &[u8]) -> Result<(Vec<u8>, Vec<PresetProbe>), Error> {
        let words = self.dut.probe_words();
        let mut tx = vec![0u8; rx.len()];
        let mut raw = vec![0u64; rx.len() * words];
        self.dut.pin_mut().run(rx, &mut tx, &mut raw)?;
        let probes = raw
            .chunks_exact(words)
            .map(|w| {
                let bit = |i: u32| (w[0] >> i) & 1 == 1;
                PresetProbe {
                    rst_n: bit(0),
                    bist_done: bit(1),
                    res_valid: bit(2),
                    res_last: bit(3),
                    cmd_valid: bit(4),
                    act_valid: bit(5),
                    w_valid: bit(6),
                    res_ready: bit(7),
                    res_data: (w[0] >> 32) as u32,
                    counters: [
                        w[1] as u32,
                        (w[1] >> 32) as u32,
                        w[2] as u32,
                        (w[2] >> 32) as u32,
                    ],
                    stim: w[3..].to_vec(),
                }
            })
            .collect();
        Ok((tx, probes))
    }

    /// `led_o` as driven on the pins (board polarity).
    pub fn leds(&self) -> u32 {
        self.dut.leds()
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
