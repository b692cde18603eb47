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
