//! A board SoC's digital twin as a descriptor [`Executor`]: every
//! descriptor goes through the host link ([`hlsk_host::conv::run_placed`]:
//! its read regions uploaded with WRITE, CONV_START, STATUS polls, its
//! written regions read back), so a training loop runs on the SoC's
//! engine exactly as a host would drive the board, and is checked in
//! lockstep against [`run_descriptor`].
//!
//! ```no_run
//! use hls_rust::conv::Executor;
//! use hlsk_sim::twin_exec::TwinExecutor;
//!
//! let twin = TwinExecutor::connect("ulx3s-conv", 1).unwrap();
//! println!("{} engine words of device memory, T = {}", twin.capacity(), twin.hw().t);
//! ```

use crate::twin::{BoardTime, Twin};
use hls_rust::conv::exec::{ExecError, Executor, run_descriptor};
use hls_rust::conv::plan::Region;
use hls_rust::conv::{Descriptor, HwConfig, Memory, Stats};
use hlsk_host::conv::run_placed;
use hlsk_host::{Link, LinkConfig};

/// What went over the link and through the engine so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TwinTraffic {
    /// Descriptors run.
    pub descriptors: u64,
    /// Engine words uploaded (the descriptors' read regions).
    pub uploaded: u64,
    /// Engine words read back (their written regions).
    pub downloaded: u64,
    /// Engine busy cycles (STATUS).
    pub engine_cycles: u64,
}

/// The twin of a board whose SoC carries the convolution engine, behind
/// the host link, as an [`Executor`]. Each descriptor must end without the
/// engine's error flags, leave the written regions of
/// [`run_descriptor`] word for word (the message names the first
/// differing word's tensor, see [`Executor::memory_map`]), and fire the
/// reference's cycles. It returns the device's busy and fired cycles
/// (STATUS reports no stall counters: the rest of the busy cycles is
/// counted as overhead) with the reference's words, bursts, MACs and
/// overflow audit.
pub struct TwinExecutor {
    link: Link<Twin>,
    hw: HwConfig,
    traffic: TwinTraffic,
    regions: Vec<Region>,
}

impl TwinExecutor {
    /// Boots the twin of `board` (power-up state from `seed`) and connects
    /// to it at the board's baud rate.
    pub fn connect(board: &str, seed: u32) -> Result<Self, String> {
        let twin = Twin::for_board(board, seed).map_err(|e| e.to_string())?;
        let cfg = twin.config();
        let conv = cfg
            .conv
            .ok_or_else(|| format!("board {board}'s SoC has no convolution engine"))?;
        let link = Link::connect(
            twin,
            LinkConfig {
                baud: cfg.baud,
                ..LinkConfig::default()
            },
        )
        .map_err(|e| format!("connecting to the twin of {board}: {e}"))?;
        Ok(Self {
            link,
            hw: crate::conv::hw_of(&conv),
            traffic: TwinTraffic::default(),
            regions: Vec::new(),
        })
    }

    /// The reference's configuration of the SoC's engine: plan with it.
    pub fn hw(&self) -> HwConfig {
        self.hw
    }

    /// The device's memory in engine (16-bit) words: every descriptor's
    /// regions must fit in it.
    pub fn capacity(&self) -> usize {
        2 * usize::from(self.link.info().mem_words)
    }

    /// What the link and the engine did so far.
    pub fn traffic(&self) -> TwinTraffic {
        self.traffic
    }

    /// The time all descriptors so far would take on the board (its clock
    /// `clk_hz`, the twin's baud rate): the link's bytes, both ways, plus
    /// the engine cycles.
    pub fn board_time(&self, clk_hz: u64) -> BoardTime {
        let s = self.link.stats();
        let cfg = self.link.transport().config();
        BoardTime {
            link_bytes: s.bytes_sent + s.bytes_received,
            baud: cfg.baud,
            engine_cycles: self.traffic.engine_cycles,
            clk_hz,
            twin_cycles: self.link.transport().cycles(),
            twin_clk_hz: cfg.clk_hz(),
        }
    }

    fn tensor_at(&self, w: usize) -> &str {
        self.regions
            .iter()
            .find(|r| (r.base as usize..r.base as usize + r.words).contains(&w))
            .map_or("no named region", |r| &r.name)
    }
}

impl Executor for TwinExecutor {
    fn execute(&mut self, mem: &mut Memory, d: &Descriptor) -> Result<Stats, ExecError> {
        let fail = |msg: String| ExecError::Engine(format!("twin: {msg}"));
        let mut expect = mem.clone();
        let model = run_descriptor(&mut expect, d, &self.hw)?;
        let run = run_placed(&mut self.link, d, self.hw.t, mem).map_err(|e| fail(e.to_string()))?;
        let c = run.status.conv;
        if !c.ok() {
            return Err(fail(format!("the {} descriptor ended with {c:?}", d.op)));
        }
        if let Some((w, diffs)) = crate::conv::first_difference(mem, &expect) {
            return Err(fail(format!(
                "memory differs from the reference in {diffs} words, first at word {w} ({}): twin {} reference {}",
                self.tensor_at(w),
                mem.words()[w],
                expect.words()[w]
            )));
        }
        if u64::from(c.fired) != model.fired {
            return Err(fail(format!(
                "{} fired cycles, the reference {}",
                c.fired, model.fired
            )));
        }
        let p = &run.placement;
        self.traffic.descriptors += 1;
        self.traffic.uploaded += p.upload_words() as u64;
        self.traffic.downloaded += p.download_words() as u64;
        self.traffic.engine_cycles += u64::from(c.cycles);
        Ok(Stats {
            cycles: c.cycles.into(),
            fired: c.fired.into(),
            stall_input: 0,
            stall_weights: 0,
            stall_output: 0,
            overhead: u64::from(c.cycles.saturating_sub(c.fired)),
            ..model
        })
    }

    fn memory_map(&mut self, regions: &[Region]) {
        self.regions = regions.to_vec();
    }
}
