//! Properties of the common blocks (`rtl/common/`): the Verilated RTL equals
//! the `hls_rust::common` model on every output in every cycle, under random
//! data, random valid/ready back-pressure and X-randomised power-up state,
//! for every parameter set in `hlsk_cosim::configs`. Independently of the
//! model, a scoreboard checks that stream blocks deliver exactly the beats
//! they accepted, in order.

use crate::prop::check;
use hls_rust::common::{
    CycleModel, FifoOut, Ram1r1w, RamIn, ReadDuringWrite, SkidBuffer, SkidOut, StreamIn, SyncFifo,
    mask,
};
use hlsk_cosim::configs::{FIFO_CONFIGS, RAM_CONFIGS, SKID_CONFIGS};
use hlsk_cosim::{Fifo, Ram, Skid};
use proptest::prelude::*;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

/// Cycles co-simulated by the checks in this module (all threads), for
/// summaries such as `hlsk selfcheck`.
pub static CYCLES_SIMULATED: AtomicU64 = AtomicU64::new(0);

fn count_cycles(n: usize) {
    CYCLES_SIMULATED.fetch_add(n as u64, Ordering::Relaxed);
}
use std::fmt::Debug;

/// Longest random run, in cycles.
pub const MAX_CYCLES: usize = 400;

/// A random run of a one-in, one-out stream block.
#[derive(Debug, Clone)]
pub struct StreamCase {
    /// Seed of the X-randomised power-up state.
    pub seed: u32,
    /// Inputs, one per cycle after reset.
    pub cycles: Vec<StreamIn>,
}

/// Stream stimulus: a valid and a ready probability per run (from rarely
/// to always), then per cycle a roll for valid, a roll for ready and random
/// data. Every part shrinks on its own: rolls and data towards 0 (busy
/// streams, zero data), the run towards fewer cycles.
pub fn stream_case() -> impl Strategy<Value = StreamCase> {
    let percent = prop::sample::select(vec![100u8, 80, 50, 30, 5]);
    let cycle = (0u8..100, any::<u64>(), 0u8..100);
    (
        any::<u32>(),
        percent.clone(),
        percent,
        prop::collection::vec(cycle, 1..MAX_CYCLES),
    )
        .prop_map(|(seed, pv, pr, rolls)| StreamCase {
            seed,
            cycles: rolls
                .into_iter()
                .map(|(rv, in_data, rr)| StreamIn {
                    in_valid: rv < pv,
                    in_data,
                    out_ready: rr < pr,
                })
                .collect(),
        })
}

/// Beats accepted must leave in order, each exactly once.
#[derive(Default)]
struct Scoreboard {
    in_flight: VecDeque<u64>,
}

impl Scoreboard {
    fn accept(&mut self, data: u64) {
        self.in_flight.push_back(data);
    }

    fn deliver(&mut self, cycle: usize, data: Option<u64>) -> Result<(), String> {
        match (self.in_flight.pop_front(), data) {
            (Some(want), Some(got)) if want == got => Ok(()),
            (want, got) => Err(format!(
                "cycle {cycle}: scoreboard: delivered {got:x?}, expected {want:x?} (next accepted beat)"
            )),
        }
    }
}

fn mismatch<T: Debug>(cycle: usize, input: &impl Debug, rtl: &T, reference: &T) -> String {
    format!(
        "cycle {cycle}: outputs differ\n  inputs:    {input:x?}\n  rtl:       {rtl:x?}\n  reference: {reference:x?}"
    )
}

/// What the stream-block property needs from a Verilated block.
trait StreamDut {
    type Out: PartialEq + Debug + StreamHandshake;
    fn step(&mut self, i: &StreamIn) -> Self::Out;
    fn rtl_error(&self) -> bool;
}

/// The handshake view of a stream block's outputs.
trait StreamHandshake {
    fn in_ready(&self) -> bool;
    fn out_valid(&self) -> bool;
    fn out_data(&self) -> Option<u64>;
}

macro_rules! stream_block {
    ($dut:ty, $out:ty) => {
        impl StreamDut for $dut {
            type Out = $out;
            fn step(&mut self, i: &StreamIn) -> $out {
                <$dut>::step(self, i)
            }
            fn rtl_error(&self) -> bool {
                <$dut>::rtl_error(self)
            }
        }
        impl StreamHandshake for $out {
            fn in_ready(&self) -> bool {
                self.in_ready
            }
            fn out_valid(&self) -> bool {
                self.out_valid
            }
            fn out_data(&self) -> Option<u64> {
                self.out_data
            }
        }
    };
}
stream_block!(Fifo, FifoOut);
stream_block!(Skid, SkidOut);

/// Runs one stream case: every cycle the RTL's outputs must equal the
/// model's, and the scoreboard must see accepted beats delivered in order.
fn run_stream_case<D, M>(
    dut: &mut D,
    model: &mut M,
    width: u32,
    cycles: &[StreamIn],
) -> Result<(), String>
where
    D: StreamDut,
    M: CycleModel<In = StreamIn, Out = D::Out>,
{
    count_cycles(cycles.len());
    let mut board = Scoreboard::default();
    for (n, i) in cycles.iter().enumerate() {
        let rtl = dut.step(i);
        let reference = model.outputs();
        model.tick(i);
        if rtl != reference {
            return Err(mismatch(n, i, &rtl, &reference));
        }
        if rtl.in_ready() && i.in_valid {
            board.accept(i.in_data & mask(width));
        }
        if rtl.out_valid() && i.out_ready {
            board.deliver(n, rtl.out_data())?;
        }
        if dut.rtl_error() {
            return Err(format!("cycle {n}: RTL assertion failed (see stdout)"));
        }
    }
    Ok(())
}

/// `hlsk_fifo_sync` build `config` against [`SyncFifo`] on `cases` random runs.
pub fn fifo_matches_reference(config: usize, cases: u32) -> Result<(), String> {
    let c = FIFO_CONFIGS[config];
    let name = format!("fifo_w{}_d{}_matches_reference", c.width, c.depth);
    check(&name, cases, stream_case(), |case, waves| {
        let mut dut = Fifo::with_trace(config, case.seed, waves).map_err(|e| e.to_string())?;
        dut.reset();
        let mut model = SyncFifo::new(c.width, c.depth as usize);
        run_stream_case(&mut dut, &mut model, c.width, &case.cycles)
    })
}

/// `hlsk_skid_buffer` build `config` against [`SkidBuffer`].
pub fn skid_matches_reference(config: usize, cases: u32) -> Result<(), String> {
    let c = SKID_CONFIGS[config];
    let name = format!("skid_w{}_matches_reference", c.width);
    check(&name, cases, stream_case(), |case, waves| {
        let mut dut = Skid::with_trace(config, case.seed, waves).map_err(|e| e.to_string())?;
        dut.reset();
        let mut model = SkidBuffer::new(c.width);
        run_stream_case(&mut dut, &mut model, c.width, &case.cycles)
    })
}

/// A random run of the RAM.
#[derive(Debug, Clone)]
pub struct RamCase {
    /// Seed of the randomised power-up contents.
    pub seed: u32,
    /// Port inputs, one per cycle.
    pub cycles: Vec<RamIn>,
}

/// RAM stimulus: addresses mostly from a few low words (so reads hit writes),
/// sometimes anywhere in the address space, including addresses at or beyond
/// the depth; in one cycle in four the read address is the write address, so
/// same-cycle collisions (the read-first/write-first difference) are common.
pub fn ram_case(width: u32, depth: u32) -> impl Strategy<Value = RamCase> {
    let addr_bits = if depth > 1 {
        32 - (depth - 1).leading_zeros()
    } else {
        1
    };
    let span = 1u32 << addr_bits;
    let addr = prop_oneof![3 => 0..depth.min(4), 1 => 0..span];
    let cycle = (
        any::<bool>(),
        addr.clone(),
        any::<u64>(),
        any::<bool>(),
        addr,
        prop::bool::weighted(0.25),
    )
        .prop_map(move |(we, waddr, wdata, re, raddr, collide)| RamIn {
            we,
            waddr,
            wdata: wdata & mask(width),
            re,
            raddr: if collide { waddr } else { raddr },
        });
    (any::<u32>(), prop::collection::vec(cycle, 1..MAX_CYCLES))
        .prop_map(|(seed, cycles)| RamCase { seed, cycles })
}

/// `hlsk_ram_1r1w` build `config` against [`Ram1r1w`] in the build's
/// read-during-write mode: read data must match whenever the reference
/// defines it.
pub fn ram_matches_reference(config: usize, cases: u32) -> Result<(), String> {
    let c = RAM_CONFIGS[config];
    let (mode, suffix) = if c.write_first {
        (ReadDuringWrite::WriteFirst, "_wf")
    } else {
        (ReadDuringWrite::ReadFirst, "")
    };
    let name = format!("ram_w{}_d{}{suffix}_matches_reference", c.width, c.depth);
    check(&name, cases, ram_case(c.width, c.depth), |case, waves| {
        let mut dut = Ram::with_trace(config, case.seed, waves).map_err(|e| e.to_string())?;
        let mut model = Ram1r1w::with_mode(c.width, c.depth as usize, mode);
        count_cycles(case.cycles.len());
        for (n, i) in case.cycles.iter().enumerate() {
            let rtl = dut.step(i);
            let reference = model.outputs();
            model.tick(i);
            if let Some(want) = reference.filter(|&w| w != rtl) {
                return Err(format!(
                    "cycle {n}: rdata {rtl:#x}, reference {want:#x} (inputs {i:x?})"
                ));
            }
            if dut.rtl_error() {
                return Err(format!("cycle {n}: RTL assertion failed (see stdout)"));
            }
        }
        Ok(())
    })
}

/// A named check over every build of a block.
pub struct BlockCheck {
    /// Block name.
    pub name: &'static str,
    /// Number of parameter sets.
    pub builds: usize,
    /// Runs the property on one build.
    pub run: fn(usize, u32) -> Result<(), String>,
}

/// Every common-block check, for the test suite and `hlsk selfcheck`.
pub const CHECKS: &[BlockCheck] = &[
    BlockCheck {
        name: "hlsk_skid_buffer",
        builds: SKID_CONFIGS.len(),
        run: skid_matches_reference,
    },
    BlockCheck {
        name: "hlsk_fifo_sync",
        builds: FIFO_CONFIGS.len(),
        run: fifo_matches_reference,
    },
    BlockCheck {
        name: "hlsk_ram_1r1w",
        builds: RAM_CONFIGS.len(),
        run: ram_matches_reference,
    },
];

/// Runs `check` on every build; collects all failures.
pub fn run_all_builds(check: &BlockCheck, cases: u32) -> Result<(), String> {
    let failures: Vec<String> = (0..check.builds)
        .filter_map(|b| (check.run)(b, cases).err())
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n\n"))
    }
}
