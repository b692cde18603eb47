//! Transaction-level co-simulation of the training-convolution engine
//! (`rtl/conv/conv_engine.sv`) against `hls_rust::conv::exec`.
//!
//! [`run`] plays one descriptor through a Verilated build: the 12 words go
//! in on the descriptor stream with random gaps, and the bench owns the
//! memory behind the engine's port as a word array ([`Memory`]), answering
//! one burst at a time after a configurable latency plus a per-burst
//! start-up cost, with random stalls on both data streams. The properties
//! compare the whole memory image with
//! [`run_descriptor`](hls_rust::conv::exec::run_descriptor) on a copy, and
//! the engine's counters (fired cycles, stalls by cause, words, bursts)
//! with the model's.

use crate::prop::check;
use hls_rust::conv::desc::{Bases, ConvShape, Descriptor, Op, Tiling};
use hls_rust::conv::exec::{ExecError, Executor, run_descriptor};
use hls_rust::conv::hw::CycleParams;
use hls_rust::conv::layout::{ActLayout, WeightLayout, tiles};
use hls_rust::conv::model::check_tiling;
use hls_rust::conv::{HwConfig, Memory, Stats, Tensor4};
use hls_rust::rng::Rng;
use hlsk_cosim::configs::CONV_CONFIGS;
use hlsk_cosim::{Conv, ConvConfig, ConvIn};
use proptest::prelude::*;
use std::path::Path;

/// Timing of the memory model behind the engine's port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemTiming {
    /// Cycles from an accepted request to its first data beat.
    pub latency: u32,
    /// Extra start-up cycles of every burst (`t_burst`).
    pub t_burst: u32,
    /// Probability in percent that the memory stalls a data beat (or the
    /// request) in a cycle.
    pub stall_pct: u32,
    /// Probability in percent that a descriptor word is held back in a cycle.
    pub desc_gap_pct: u32,
}

impl MemTiming {
    /// An ideal memory: no latency, no stalls.
    pub const IDEAL: MemTiming = MemTiming {
        latency: 0,
        t_burst: 0,
        stall_pct: 0,
        desc_gap_pct: 0,
    };

    /// A memory with 4 cycles of latency and 2 of burst start-up, no
    /// stalls (the cycle model stays exact).
    pub const LAT4_BURST2: MemTiming = MemTiming {
        latency: 4,
        t_burst: 2,
        stall_pct: 0,
        desc_gap_pct: 0,
    };
}

/// What the engine reported at the end of a descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConvRun {
    /// `error_o` at done.
    pub error: bool,
    /// Busy cycles.
    pub cycles: u64,
    /// Cycles the MAC array fired.
    pub fired: u64,
    /// Stall cycles waiting for input tiles.
    pub stall_input: u64,
    /// Stall cycles waiting for weights.
    pub stall_weights: u64,
    /// Stall cycles waiting for output stores (and WU updates).
    pub stall_output: u64,
    /// Words read.
    pub words_read: u64,
    /// Words written.
    pub words_written: u64,
    /// Bursts issued.
    pub bursts: u64,
    /// Requests the bench saw (must equal `bursts`).
    pub requests: u64,
    /// Cycles the bench's random stalls held back a request or a data beat
    /// of a burst, by the burst's cause (input, weights, output; see
    /// [`cause_of`]).
    pub mem_stalls: [u64; 3],
}

impl ConvRun {
    /// Busy cycles that are neither fired nor stalls (`None` if the
    /// counters add up to more than the busy cycles).
    pub fn overhead(&self) -> Option<u64> {
        self.cycles
            .checked_sub(self.fired + self.stall_input + self.stall_weights + self.stall_output)
    }

    /// The counters of a rejected descriptor: one busy cycle (the check),
    /// overhead, and nothing else.
    pub fn only_checked(&self) -> bool {
        self.cycles == 1
            && self.overhead() == Some(1)
            && self.words_read + self.words_written + self.bursts == 0
    }
}

/// The stall cause (0 input, 1 weights, 2 output, the order of
/// `Stats::{stall_input, stall_weights, stall_output}`) of a burst of `d`
/// at word `addr`, from the region it falls in (the read base at or below
/// it): writes, and BP's act_in read, are output; weight and WU master
/// reads are weights; the other reads (input tile, WU dO tile, POOL_BWD
/// argmax words) are input.
pub fn cause_of(d: &Descriptor, addr: u32, write: bool) -> usize {
    if write {
        return 2;
    }
    let aux = match d.op {
        Op::Bp if d.relu_mask => Some(2),
        Op::Wu | Op::PoolBwd => Some(0),
        _ => None,
    };
    let w = (d.op.is_conv()).then_some(1);
    [
        (d.base.input, Some(0)),
        (d.base.weights, w),
        (d.base.aux, aux),
    ]
    .into_iter()
    .filter_map(|(base, cause)| Some((base, cause?)))
    .filter(|&(base, _)| base <= addr)
    .max_by_key(|&(base, _)| base)
    .map_or(0, |(_, cause)| cause)
}

/// The reference's hardware configuration of a build, attached to an ideal
/// memory: one word per lane per cycle, and a burst costs one request cycle
/// (see [`hw_for`]). The engine runs load, compute and store one after the
/// other; a step costs six cycles of its own (four plan cycles, start,
/// advance), a descriptor one (check).
pub fn hw_of(c: &ConvConfig) -> HwConfig {
    HwConfig {
        t: c.t as usize,
        p: c.p as usize,
        words_per_cycle: c.t as usize,
        t_burst: 1,
        cycle: CycleParams {
            t_desc: 1,
            t_step: 6,
            overlap: false,
        },
        in_buf: c.in_words as usize,
        w_buf: c.w_words as usize,
        out_buf: c.out_ent as usize,
        grad_buf: c.g_ent as usize,
        acc_depth: 1,
        acc_w: c.acc_w,
        acc_w_wu: c.acc_w_wu,
        ..HwConfig::up5k()
    }
}

/// [`hw_of`] attached to the bench memory with `timing`: a burst's start-up
/// is the request cycle, the latency and the start-up cost (random stalls
/// are not modelled).
pub fn hw_for(c: &ConvConfig, timing: MemTiming) -> HwConfig {
    HwConfig {
        t_burst: 1 + u64::from(timing.latency + timing.t_burst),
        ..hw_of(c)
    }
}

/// An open burst of the memory model.
struct Burst {
    addr: usize,
    beats: usize,
    write: bool,
    wait: u32,
    cause: usize,
}

/// Runs descriptor `words` on a fresh, reset instance of build `config` with
/// memory image `mem` (updated in place); see [`run_on`].
pub fn run(
    config: usize,
    seed: u32,
    words: &[u32],
    mem: &mut Memory,
    timing: MemTiming,
    max_cycles: u64,
    waves: Option<&Path>,
) -> Result<ConvRun, String> {
    let mut dut = Conv::with_trace(config, seed, waves).map_err(|e| e.to_string())?;
    dut.reset();
    run_on(&mut dut, seed, words, mem, timing, max_cycles)
}

/// Runs descriptor `words` on `dut` (idle, perhaps after earlier
/// descriptors) with memory image `mem` (updated in place), stalls drawn
/// from `seed`. Errors on an access outside the image, an RTL assertion, or
/// no `done` within `max_cycles`.
pub fn run_on(
    dut: &mut Conv,
    seed: u32,
    words: &[u32],
    mem: &mut Memory,
    timing: MemTiming,
    max_cycles: u64,
) -> Result<ConvRun, String> {
    let t = dut.config().t as usize;
    let mut rng = Rng::new(u64::from(seed) ^ 0x5eed_c0de);
    let mut roll = |pct: u32| pct > 0 && rng.below(100) < u64::from(pct);
    let mut sent = 0;
    let mut burst: Option<Burst> = None;
    let mut run = ConvRun::default();
    let desc = Descriptor::decode(words).ok();
    let cause = |addr, write| desc.as_ref().map_or(0, |d| cause_of(d, addr, write));
    for _ in 0..max_cycles {
        let mut i = ConvIn {
            desc_valid: sent < words.len() && !roll(timing.desc_gap_pct),
            desc_data: words.get(sent).copied().unwrap_or(0),
            req_ready: burst.is_none() && !roll(timing.stall_pct),
            ..ConvIn::default()
        };
        let stalled = roll(timing.stall_pct);
        if let Some(b) = &burst
            && b.wait == 0
            && stalled
        {
            run.mem_stalls[b.cause] += 1;
        }
        if let Some(b) = &burst
            && b.wait == 0
            && !stalled
        {
            if b.write {
                i.wr_ready = true;
            } else {
                let beat = mem
                    .slice(b.addr, t)
                    .map_err(|e| format!("read burst: {e}"))?;
                i.rd_valid = true;
                i.rd_data = beat
                    .iter()
                    .enumerate()
                    .fold(0u64, |acc, (k, &w)| acc | u64::from(w as u16) << (16 * k));
            }
        }
        let p = dut.step(&i);
        if dut.rtl_error() {
            return Err(format!("RTL assertion failed at cycle {}", dut.cycles()));
        }
        if i.desc_valid && p.desc_ready {
            sent += 1;
        }
        let mut finished = false;
        if let Some(b) = &mut burst {
            if b.wait > 0 {
                b.wait -= 1;
            } else if b.write && i.wr_ready && p.wr_valid {
                let dst = mem
                    .slice_mut(b.addr, t)
                    .map_err(|e| format!("write burst: {e}"))?;
                for (k, w) in dst.iter_mut().enumerate() {
                    *w = (p.wr_data >> (16 * k)) as u16 as i16;
                }
                (b.addr, b.beats) = (b.addr + t, b.beats - 1);
            } else if !b.write && i.rd_valid && p.rd_ready {
                (b.addr, b.beats) = (b.addr + t, b.beats - 1);
            }
            finished = b.beats == 0;
        }
        if finished {
            burst = None;
        }
        if burst.is_none() && !i.req_ready && p.req_valid {
            run.mem_stalls[cause(p.req_addr, p.req_write)] += 1;
        }
        if i.req_ready && p.req_valid {
            if p.req_len == 0 || !(p.req_len as usize).is_multiple_of(t) {
                return Err(format!("request of {} words is not whole beats", p.req_len));
            }
            run.requests += 1;
            burst = Some(Burst {
                addr: p.req_addr as usize,
                beats: p.req_len as usize / t,
                write: p.req_write,
                wait: timing.latency + timing.t_burst,
                cause: cause(p.req_addr, p.req_write),
            });
        }
        if sent == words.len() && p.done && !p.busy && burst.is_none() {
            run.error = p.error;
            run.cycles = p.cnt_cycles.into();
            run.fired = p.cnt_fired.into();
            run.stall_input = p.cnt_stall_in.into();
            run.stall_weights = p.cnt_stall_w.into();
            run.stall_output = p.cnt_stall_out.into();
            run.words_read = p.cnt_rd_words.into();
            run.words_written = p.cnt_wr_words.into();
            run.bursts = p.cnt_bursts.into();
            return Ok(run);
        }
    }
    Err(format!("no done within {max_cycles} cycles"))
}

/// A memory image of `len` junk words.
fn junk(rng: &mut Rng, len: usize) -> Memory {
    Memory::from_words((0..len).map(|_| rng.next_u64() as i16).collect())
}

/// A random data word in `-2^bits..2^bits` (clamped to int16).
fn value(rng: &mut Rng, bits: u32) -> i16 {
    let half = 1i64 << bits;
    (rng.below(2 * half as u64) as i64 - half).clamp(i16::MIN.into(), i16::MAX.into()) as i16
}

/// A random FP, BP or WU layer, its tiling, data and memory timing.
#[derive(Debug, Clone)]
pub struct ConvCase {
    /// Build index into [`CONV_CONFIGS`].
    pub config: usize,
    /// The descriptor (bases filled in by [`FpCase::memory`]).
    pub desc: Descriptor,
    /// Data seed.
    pub seed: u64,
    /// Activations and weights in -2^bits..2^bits (15: full range).
    pub bits: u32,
    /// Memory timing.
    pub timing: MemTiming,
}

impl ConvCase {
    /// Lays out the input (FP x, BP dO), w, the output (FP y, BP dx) and
    /// BP's act_in with random gaps in a junk-filled image, stores random
    /// tensors, and sets the descriptor's bases. WU: see [`ConvCase::wu_memory`].
    pub fn memory(&self) -> (Descriptor, Memory) {
        match self.desc.op {
            Op::Wu => return self.wu_memory(),
            Op::PoolFwd | Op::PoolBwd => return self.pool_memory(),
            _ => {}
        }
        let t = CONV_CONFIGS[self.config].t as usize;
        let mut d = self.desc;
        let s = d.shape;
        let mut rng = Rng::new(self.seed);
        let big = [s.b, s.n, s.h, s.w];
        let small = [s.b, s.m, s.ho(), s.wo()];
        let (in_dims, out_dims) = if d.op == Op::Bp {
            (small, big)
        } else {
            (big, small)
        };
        let x_words = ActLayout::new(in_dims, t).words();
        let w_words = WeightLayout::new([s.m, s.n, s.k, s.k], t).words();
        let y_words = ActLayout::new(out_dims, t).words();
        let a_words = if d.relu_mask { y_words } else { 0 };
        let mut gap = || rng.below(8) as usize;
        let xb = gap();
        let wb = xb + x_words + gap();
        let yb = wb + w_words + gap();
        let ab = yb + y_words + gap();
        let len = ab + a_words + gap();
        d.base = Bases {
            input: xb as u32,
            weights: wb as u32,
            output: yb as u32,
            aux: if d.relu_mask { ab as u32 } else { 0 },
            ..Bases::default()
        };
        let mut mem = junk(&mut rng, len);
        let bits = self.bits;
        let val = |rng: &mut Rng| value(rng, bits);
        let x = Tensor4::from_fn(in_dims, |_| val(&mut rng));
        let w = Tensor4::from_fn([s.m, s.n, s.k, s.k], |_| val(&mut rng));
        mem.store_act(xb, t, &x).expect("input fits");
        mem.store_weights(wb, t, &w).expect("w fits");
        if d.relu_mask {
            // act_in: a third each negative, zero, positive.
            let act = Tensor4::from_fn(out_dims, |_| (rng.below(3) as i16 - 1) * 7);
            mem.store_act(ab, t, &act).expect("act_in fits");
        }
        (d, mem)
    }
}

impl From<(u32, u32, u32, u32)> for MemTiming {
    /// `(latency, t_burst, stall_pct, desc_gap_pct)`.
    fn from((latency, t_burst, stall_pct, desc_gap_pct): (u32, u32, u32, u32)) -> Self {
        Self {
            latency,
            t_burst,
            stall_pct,
            desc_gap_pct,
        }
    }
}

impl ConvCase {
    /// A case; `tm` as [`MemTiming::from`].
    pub fn new(
        config: usize,
        desc: Descriptor,
        seed: u64,
        bits: u32,
        tm: (u32, u32, u32, u32),
    ) -> Self {
        Self {
            config,
            desc,
            seed,
            bits,
            timing: MemTiming::from(tm),
        }
    }

    /// The descriptor's tiling fits the build.
    pub fn fits(&self) -> bool {
        check_tiling(&self.desc, &hw_of(&CONV_CONFIGS[self.config])).is_ok()
    }

    /// WU: x (`in`), dO (`aux`), the int32 masters (`w`, full range), the
    /// master output (`out`: in place when the seed is even, else a
    /// separate region) and, with `write_w16`, the w16 copy, at random gaps
    /// in a junk-filled image.
    pub fn wu_memory(&self) -> (Descriptor, Memory) {
        let t = CONV_CONFIGS[self.config].t as usize;
        let mut d = self.desc;
        let s = d.shape;
        let mut rng = Rng::new(self.seed);
        let x_dims = [s.b, s.n, s.h, s.w];
        let d_dims = [s.b, s.m, s.ho(), s.wo()];
        let w_dims = [s.m, s.n, s.k, s.k];
        let w_words = WeightLayout::new(w_dims, t).words();
        let in_place = self.seed.is_multiple_of(2);
        let mut gap = || rng.below(8) as usize;
        let xb = gap();
        let db = xb + ActLayout::new(x_dims, t).words() + gap();
        let mb = db + ActLayout::new(d_dims, t).words() + gap();
        let ob = if in_place {
            mb
        } else {
            mb + 2 * w_words + gap()
        };
        let w16b = ob + 2 * w_words + gap();
        let len = w16b + if d.write_w16 { w_words } else { 0 } + gap();
        d.base = Bases {
            input: xb as u32,
            weights: mb as u32,
            output: ob as u32,
            aux: db as u32,
            w16_out: if d.write_w16 { w16b as u32 } else { 0 },
        };
        let mut mem = junk(&mut rng, len);
        let bits = self.bits;
        let val = |rng: &mut Rng| value(rng, bits);
        let x = Tensor4::from_fn(x_dims, |_| val(&mut rng));
        let dout = Tensor4::from_fn(d_dims, |_| val(&mut rng));
        let master = Tensor4::from_fn(w_dims, |_| rng.next_u64() as i32);
        mem.store_act(xb, t, &x).expect("x fits");
        mem.store_act(db, t, &dout).expect("dO fits");
        mem.store_master(mb, t, &master).expect("masters fit");
        (d, mem)
    }
}

impl ConvCase {
    /// Pools: the input (POOL_FWD x, POOL_BWD dy), the output and the
    /// argmax plane (`aux`; random codes for POOL_BWD) at random gaps in a
    /// junk-filled image.
    pub fn pool_memory(&self) -> (Descriptor, Memory) {
        let t = CONV_CONFIGS[self.config].t as usize;
        let mut d = self.desc;
        let s = d.shape;
        let mut rng = Rng::new(self.seed);
        let big = [s.b, s.n, s.h, s.w];
        let small = [s.b, s.n, s.h / 2, s.w / 2];
        let (in_dims, out_dims) = if d.op == Op::PoolFwd {
            (big, small)
        } else {
            (small, big)
        };
        let codes = ActLayout::new(small, t).argmax_words();
        let mut gap = || rng.below(8) as usize;
        let ib = gap();
        let ob = ib + ActLayout::new(in_dims, t).words() + gap();
        let ab = ob + ActLayout::new(out_dims, t).words() + gap();
        let len = ab + codes + gap();
        d.base = Bases {
            input: ib as u32,
            output: ob as u32,
            aux: ab as u32,
            ..Bases::default()
        };
        let mut mem = junk(&mut rng, len);
        let x = Tensor4::from_fn(in_dims, |_| value(&mut rng, self.bits));
        mem.store_act(ib, t, &x).expect("input fits");
        if d.op == Op::PoolBwd {
            let arg = Tensor4::from_fn(small, |_| rng.below(4) as u8);
            mem.store_argmax(ab, t, &arg).expect("argmax fits");
        }
        (d, mem)
    }
}

/// Random `op` (POOL_FWD or POOL_BWD) cases on build `config`: channels
/// 1..=9, H and W even in 2..=10 (pooled widths past 8 span two argmax
/// words), batch 1..=4, a random tiling that fits the build, values in a
/// small range (ties) or the full range.
pub fn pool_cases(config: usize, op: Op) -> impl Strategy<Value = ConvCase> {
    let c = CONV_CONFIGS[config];
    let t = c.t as usize;
    (
        (1usize..=9, 1usize..=5, 1usize..=9, 1usize..=4),
        (any::<u64>(), prop_oneof![Just(15u32), 0u32..=3]),
        (
            0u32..4,
            0u32..4,
            prop_oneof![Just(0u32), 0u32..40],
            0u32..40,
        ),
        (any::<u16>(), any::<u16>()),
    )
        .prop_map(move |((n, h2, w2, b), (seed, bits), tm, (r0, r1))| {
            let shape = ConvShape {
                n,
                m: n,
                h: 2 * h2,
                w: 2 * w2,
                k: 2,
                pad: 0,
                b,
            };
            let mut desc = Descriptor::new(op, shape);
            desc.tiling = Tiling {
                tr: 1 + r0 as usize % h2,
                m_on: t * (1 + r1 as usize % tiles(n, t)),
                n_on: 0,
            };
            ConvCase::new(config, desc, seed, bits, tm)
        })
        .prop_filter("tiling fits the build", move |fc| fc.fits())
}

/// Random WU cases on build `config`: shapes and tilings as
/// [`conv_cases`], g_pre 0..=40, lr_mant any 15-bit value, lr_shift 0..=63,
/// write_w16 on or off, masters updated in place or into a separate region.
pub fn wu_cases(config: usize) -> impl Strategy<Value = ConvCase> {
    (
        conv_cases(config, Op::Wu),
        0u8..=40,
        0u16..(1 << 15),
        0u8..=63,
        any::<bool>(),
    )
        .prop_map(|(mut c, g_pre, lr_mant, lr_shift, w16)| {
            c.desc.g_pre = g_pre;
            c.desc.lr_mant = lr_mant;
            c.desc.lr_shift = lr_shift;
            c.desc.write_w16 = w16;
            c
        })
}

/// Random `op` (FP, BP or WU) cases on build `config`: channels 1..=9 (rarely
/// multiples of T), K in {1, 3}, pad 0..K-1, H and W 1..=7, batch 1..=4, a
/// random tiling that fits the build, s_out 0..=24, ReLU (FP) or the ReLU
/// mask (BP) on or off.
pub fn conv_cases(config: usize, op: Op) -> impl Strategy<Value = ConvCase> {
    let c = CONV_CONFIGS[config];
    let t = c.t as usize;
    (
        (
            1usize..=9,
            1usize..=9,
            prop_oneof![Just(1usize), Just(3)],
            0usize..3,
        ),
        (1usize..=7, 1usize..=7, 1usize..=4),
        (
            any::<u64>(),
            0u32..=24,
            any::<bool>(),
            prop_oneof![Just(15u32), 2u32..=8],
        ),
        (
            0u32..4,
            0u32..4,
            prop_oneof![Just(0u32), 0u32..40],
            0u32..40,
        ),
        (any::<u16>(), any::<u16>(), any::<u16>()),
    )
        .prop_map(
            move |((n, m, k, pad), (h, w, b), (seed, s_out, relu, bits), tm, (r0, r1, r2))| {
                let pad = pad.min(k - 1);
                let h = h.max(k.saturating_sub(2 * pad));
                let w = w.max(k.saturating_sub(2 * pad));
                let shape = ConvShape {
                    n,
                    m,
                    h,
                    w,
                    k,
                    pad,
                    b,
                };
                let mut desc = Descriptor::new(op, shape);
                let (mt, nt) = (tiles(desc.out_channels(), t), tiles(desc.red_channels(), t));
                desc.tiling = Tiling {
                    tr: 1 + r0 as usize % desc.iter_rows(),
                    m_on: t * (1 + r1 as usize % mt),
                    n_on: t * (1 + r2 as usize % nt),
                };
                desc.relu = relu && op == Op::Fp;
                desc.relu_mask = relu && op == Op::Bp;
                if op != Op::Wu {
                    desc.s_out = s_out as u8;
                }
                ConvCase::new(config, desc, seed, bits, tm)
            },
        )
        .prop_filter("tiling fits the build", move |fc| fc.fits())
}

/// Random cases of `op` on build `config` ([`conv_cases`], [`wu_cases`],
/// [`pool_cases`]).
pub fn op_cases(config: usize, op: Op) -> BoxedStrategy<ConvCase> {
    match op {
        Op::Wu => wu_cases(config).boxed(),
        Op::PoolFwd | Op::PoolBwd => pool_cases(config, op).boxed(),
        _ => conv_cases(config, op).boxed(),
    }
}

/// Property: on build `config`, random `op` descriptors leave exactly the
/// reference's memory image, and the engine's fired cycles, words read and
/// written and bursts equal the model's; its busy cycles are fired cycles,
/// stalls and the model's overhead, each stall cause within the model's and
/// the bench's stalls of that cause; without random memory stalls its busy
/// cycles and stalls by cause equal the model's ([`cycles_match`]).
pub fn conv_matches_reference_on(config: usize, op: Op, cases: u32) -> Result<(), String> {
    let hw = hw_of(&CONV_CONFIGS[config]);
    check(
        &format!("conv {op} matches run_descriptor (build {config})"),
        cases,
        op_cases(config, op),
        |fc, waves| {
            let mut dut =
                Conv::with_trace(fc.config, fc.seed as u32, waves).map_err(|e| e.to_string())?;
            dut.reset();
            check_case(&mut dut, fc, &hw)
        },
    )
}

/// The first word where `mem` differs from `expect`, and how many words differ.
fn first_difference(mem: &Memory, expect: &Memory) -> Option<(usize, usize)> {
    let differ = |i: &usize| mem.words().get(*i) != expect.words().get(*i);
    let n = mem.len().max(expect.len());
    let first = (0..n).find(differ)?;
    Some((first, (first..n).filter(differ).count()))
}

/// The engine's fired cycles, words and bursts equal the model's, and the
/// bench saw one request per burst.
fn counters_match(r: &ConvRun, model: &Stats) -> Result<(), String> {
    let got = (r.fired, r.words_read, r.words_written, r.bursts);
    let want = (
        model.fired,
        model.words_read,
        model.words_written,
        model.bursts,
    );
    if got != want || r.requests != r.bursts {
        return Err(format!(
            "counters (fired, read, written, bursts) rtl {got:?} model {want:?}; bench saw {} requests",
            r.requests
        ));
    }
    Ok(())
}

/// Runs `fc` on `dut` and compares memory image and counters with the
/// reference.
fn check_case(dut: &mut Conv, fc: &ConvCase, hw: &HwConfig) -> Result<(), String> {
    let op = fc.desc.op;
    let (d, mem0) = fc.memory();
    let mut expect = mem0.clone();
    let stats = run_descriptor(&mut expect, &d, hw).map_err(|e| e.to_string())?;
    let words = d.encode().map_err(|e| e.to_string())?;
    let mut mem = mem0.clone();
    let r = run_on(dut, fc.seed as u32, &words, &mut mem, fc.timing, 2_000_000)?;
    if r.error {
        return Err(format!("engine raised error on a valid {op} descriptor"));
    }
    if let Some((i, diffs)) = first_difference(&mem, &expect) {
        return Err(format!(
            "memory differs in {diffs} words; first at {i}: rtl {} reference {} (was {}); bases {:?}",
            mem.words()[i],
            expect.words()[i],
            mem0.words()[i],
            d.base
        ));
    }
    counters_match(&r, &stats)?;
    let c = &CONV_CONFIGS[fc.config];
    let model =
        hls_rust::conv::model::predict(&d, &hw_for(c, fc.timing)).map_err(|e| e.to_string())?;
    cycles_match(&r, &model, fc.timing)
}

/// The engine's busy cycles against `model`, the model's counters for the
/// build with `timing` ([`hw_for`]). Always: busy cycles are fired cycles,
/// stalls and overhead, and the overhead (check, step start and advance)
/// is the model's exactly, since memory stalls only lengthen transfers and
/// the prefetch; they add to the stalls of their transfer's cause only:
/// weight and output stalls exceed the model's by exactly the cycles the
/// bench stalled those causes' requests and beats, input stalls by at most
/// that (the prefetch hides some behind the compute). Without random
/// stalls the cycle model is exact: busy cycles and the three stall
/// counters equal the model's.
pub fn cycles_match(r: &ConvRun, model: &Stats, timing: MemTiming) -> Result<(), String> {
    let got = [r.stall_input, r.stall_weights, r.stall_output];
    let want = [model.stall_input, model.stall_weights, model.stall_output];
    let detail = || {
        format!(
            "rtl (cycles {}, fired {}, stalls in/w/out {got:?}), model (cycles {}, fired {}, stalls {want:?}, overhead {}), bench stalls {:?} ({timing:?})",
            r.cycles, r.fired, model.cycles, model.fired, model.overhead, r.mem_stalls
        )
    };
    if r.overhead() != Some(model.overhead) {
        return Err(format!(
            "busy cycles are not fired + stalls + the model's overhead: {}",
            detail()
        ));
    }
    // The prefetch may hide some of its memory stalls behind the compute;
    // the main machine waits for every stall of its own transfers.
    let extra = |j: usize| got[j].checked_sub(want[j]);
    let added = extra(0).is_some_and(|e| e <= r.mem_stalls[0])
        && (1..3).all(|j| extra(j) == Some(r.mem_stalls[j]));
    if !added {
        return Err(format!(
            "memory stalls did not add to their own causes only (input: at most the bench's, weights and output: exactly): {}",
            detail()
        ));
    }
    if timing.stall_pct == 0 && (r.cycles != model.cycles || got != want) {
        return Err(format!(
            "busy cycles or stalls differ from the model without memory stalls: {}",
            detail()
        ));
    }
    Ok(())
}

/// A descriptor of `op` that no build can run: an input tile far over the
/// input buffer (rows of 2000 pixels), or for WU with `grad` a gradient tile
/// (12 x 12 x 3 x 3) over the gradient buffer. Bases inside 1024 words.
pub fn oversized(op: Op, t: usize, b: usize, grad: bool) -> Descriptor {
    let pool = !op.is_conv();
    let (n, w) = if op == Op::Wu && grad {
        (12, 1)
    } else {
        (3, 2000)
    };
    let shape = ConvShape {
        n,
        m: n,
        h: 4,
        w,
        k: if pool { 2 } else { 3 },
        pad: if pool { 0 } else { 1 },
        b,
    };
    let mut d = Descriptor::new(op, shape);
    d.tiling = Tiling {
        tr: 1,
        m_on: tiles(n, t) * t,
        n_on: if pool { 0 } else { tiles(n, t) * t },
    };
    d.base.input = 10;
    d.base.output = 600;
    if op.is_conv() {
        d.base.weights = 300;
    }
    if op != Op::Fp && op != Op::Bp {
        d.base.aux = 900;
    }
    d
}

/// Property: on one instance of build `config`, without reset in between,
/// a sequence of descriptors of every operation, some preceded by an oversized
/// descriptor (which must raise the error flag and touch nothing), each
/// leaves the reference's memory image and counters: status and counters
/// restart with every descriptor.
pub fn descriptor_sequences_on(config: usize, cases: u32) -> Result<(), String> {
    let c = CONV_CONFIGS[config];
    let hw = hw_of(&c);
    let t = c.t as usize;
    let item = (
        proptest::sample::select(Op::ALL.to_vec()).prop_flat_map(move |op| op_cases(config, op)),
        any::<bool>(),
    );
    check(
        &format!("conv descriptor sequences (build {config})"),
        cases,
        proptest::collection::vec(item, 2..5),
        |seq, waves| {
            let mut dut = Conv::with_trace(config, 7, waves).map_err(|e| e.to_string())?;
            dut.reset();
            for (i, (fc, bad_first)) in seq.iter().enumerate() {
                if *bad_first {
                    let d = oversized(fc.desc.op, t, 1, i % 2 == 0);
                    let words = d.encode().map_err(|e| e.to_string())?;
                    let mem0 = Memory::from_words((0..1024).map(|v| v as i16).collect());
                    let mut mem = mem0.clone();
                    let r = run_on(&mut dut, i as u32, &words, &mut mem, fc.timing, 10_000)?;
                    if !r.error || r.requests != 0 || !r.only_checked() || mem != mem0 {
                        return Err(format!(
                            "descriptor {i}: oversized {} not rejected cleanly: {r:?}",
                            d.op
                        ));
                    }
                }
                check_case(&mut dut, fc, &hw).map_err(|e| format!("descriptor {i}: {e}"))?;
            }
            Ok(())
        },
    )
}

/// Property: descriptors over a buffer capacity ([`oversized`]), of every
/// operation, raise the error flag without hanging after one busy cycle
/// (the check), issue no memory request, and leave memory untouched.
pub fn oversized_descriptors_flag_error_on(config: usize, cases: u32) -> Result<(), String> {
    let c = CONV_CONFIGS[config];
    let hw = hw_of(&c);
    let t = c.t as usize;
    let strategy = (
        proptest::sample::select(Op::ALL.to_vec()),
        1usize..=4,
        any::<bool>(),
        any::<u64>(),
    );
    check(
        &format!("conv oversized descriptors flag error (build {config})"),
        cases,
        strategy,
        |&(op, b, grad, seed), waves| {
            let d = oversized(op, t, b, grad);
            if check_tiling(&d, &hw).is_ok() {
                return Err(format!(
                    "the oversized {op} tiling fits the model's capacities"
                ));
            }
            let words = d.encode().map_err(|e| e.to_string())?;
            let mut rng = Rng::new(seed);
            let mem0 = junk(&mut rng, 1024);
            let mut mem = mem0.clone();
            let timing = MemTiming {
                stall_pct: 20,
                desc_gap_pct: 20,
                ..MemTiming::IDEAL
            };
            let r = run(config, seed as u32, &words, &mut mem, timing, 10_000, waves)?;
            if !r.error {
                return Err(format!("{op}: no error flag"));
            }
            if r.requests != 0 || r.bursts != 0 || !r.only_checked() || mem != mem0 {
                return Err(format!(
                    "{op}: {} requests, {} bursts, memory changed: {}, counters {r:?}",
                    r.requests,
                    r.bursts,
                    mem != mem0
                ));
            }
            Ok(())
        },
    )
}

/// The memory timing of the training-step runs: some latency, burst
/// start-up cost and stalls on every stream.
pub const STEP_TIMING: MemTiming = MemTiming {
    latency: 2,
    t_burst: 1,
    stall_pct: 10,
    desc_gap_pct: 10,
};

/// One descriptor of a training step run through the RTL.
#[derive(Debug, Clone)]
pub struct StepRun {
    /// Layer index.
    pub layer: usize,
    /// The descriptor.
    pub desc: Descriptor,
    /// What the engine reported.
    pub rtl: ConvRun,
    /// The model's counters for the build with `timing` ([`hw_for`]).
    pub model: hls_rust::conv::Stats,
}

/// The RTL as a descriptor [`Executor`]: every descriptor runs on one
/// instance of a build (no reset in between), with the bench memory of a
/// [`MemTiming`], and in lockstep through
/// [`run_descriptor`](hls_rust::conv::exec::run_descriptor) on a copy of the
/// image. It fails unless the engine finishes without its error flag, the
/// two memory images are equal word for word (the message names the first
/// differing word's region, see [`Executor::memory_map`]), and the
/// engine's fired cycles, words and bursts equal the model's, and its busy
/// cycles and stalls by cause agree with the model's ([`cycles_match`]:
/// exactly when the memory does not stall). It returns the engine's
/// counters, with the reference's accumulator-overflow audit.
pub struct RtlExecutor {
    dut: Conv,
    hw: HwConfig,
    timing: MemTiming,
    seed: u32,
    descriptors: u32,
    regions: Vec<hls_rust::conv::plan::Region>,
    log: Option<Vec<(Descriptor, ConvRun, Stats)>>,
}

impl RtlExecutor {
    /// A reset instance of build `config` (power-up state and stalls from
    /// `seed`) behind a memory with `timing`.
    pub fn new(config: usize, seed: u32, timing: MemTiming) -> Result<Self, String> {
        let c = CONV_CONFIGS
            .get(config)
            .ok_or_else(|| format!("no conv build {config}; there are {}", CONV_CONFIGS.len()))?;
        let mut dut = Conv::new(config, seed).map_err(|e| e.to_string())?;
        dut.reset();
        Ok(Self {
            dut,
            hw: hw_for(c, timing),
            timing,
            seed,
            descriptors: 0,
            regions: Vec::new(),
            log: None,
        })
    }

    /// Also records every descriptor with the engine's and the model's
    /// counters ([`take_log`](Self::take_log)).
    pub fn recording(mut self) -> Self {
        self.log = Some(Vec::new());
        self
    }

    /// The reference's configuration of the build with this memory
    /// ([`hw_for`]): plan with it.
    pub fn hw(&self) -> HwConfig {
        self.hw
    }

    /// Clock cycles simulated so far (descriptor transfer included).
    pub fn simulated_cycles(&self) -> u64 {
        self.dut.cycles()
    }

    /// The recorded runs so far, `(descriptor, engine, model)`, emptying the log.
    pub fn take_log(&mut self) -> Vec<(Descriptor, ConvRun, Stats)> {
        self.log.as_mut().map(std::mem::take).unwrap_or_default()
    }

    fn region_of(&self, w: usize) -> String {
        self.regions
            .iter()
            .find(|r| (r.base as usize..r.base as usize + r.words).contains(&w))
            .map_or("no named region".to_owned(), |r| r.name.clone())
    }
}

impl Executor for RtlExecutor {
    fn execute(&mut self, mem: &mut Memory, d: &Descriptor) -> Result<Stats, ExecError> {
        let fail = |msg: String| ExecError::Engine(format!("RTL: {msg}"));
        let mut expect = mem.clone();
        let model = run_descriptor(&mut expect, d, &self.hw)?;
        let words = d.encode()?;
        let seed = self.seed.wrapping_add(self.descriptors);
        self.descriptors += 1;
        // A hang guard far above any stall pattern's cost.
        let max_cycles = 10 * model.cycles + 100_000;
        let r = run_on(&mut self.dut, seed, &words, mem, self.timing, max_cycles).map_err(fail)?;
        if r.error {
            return Err(fail("error flag".into()));
        }
        if let Some((w, diffs)) = first_difference(mem, &expect) {
            return Err(fail(format!(
                "memory differs from the reference in {diffs} words, first at word {w} ({}): rtl {} reference {}",
                self.region_of(w),
                mem.words()[w],
                expect.words()[w]
            )));
        }
        counters_match(&r, &model).map_err(fail)?;
        cycles_match(&r, &model, self.timing).map_err(fail)?;
        if let Some(log) = &mut self.log {
            log.push((*d, r, model));
        }
        Ok(Stats {
            cycles: r.cycles,
            fired: r.fired,
            stall_input: r.stall_input,
            stall_weights: r.stall_weights,
            stall_output: r.stall_output,
            overhead: r.overhead().unwrap_or_default(),
            words_read: r.words_read,
            words_written: r.words_written,
            bursts: r.bursts,
            macs: model.macs,
            acc_overflows: model.acc_overflows,
        })
    }

    fn memory_map(&mut self, regions: &[hls_rust::conv::plan::Region]) {
        self.regions = regions.to_vec();
    }
}

/// `steps` consecutive training steps of the digits CNN
/// (`Network::digits`, batch `batch`, consecutive minibatches of the
/// training split from its first image, initial weights from `seed`,
/// typical scales) through build `config` with memory `timing`: every
/// descriptor runs on one engine instance ([`RtlExecutor`]: after every
/// descriptor the memory image, so every tensor (activations, argmax
/// planes, gradients, master and w16 weights), equals the reference's word
/// for word, and the counters the model's); host steps (batch-as-width
/// copies, softmax loss) run on the host ([`train_step`]). Every layer's
/// masters must move in every step. Returns the descriptors' runs.
pub fn digits_steps_on(
    config: usize,
    batch: usize,
    steps: usize,
    seed: u64,
    timing: MemTiming,
) -> Result<Vec<StepRun>, String> {
    use hls_rust::conv::digits::train_step;
    use hls_rust::conv::float::init_weights;
    use hls_rust::conv::plan::{Headroom, Magnitudes, Network, Scales, Step, TrainPlan};
    use hls_rust::digits::Digits;

    let mut exec = RtlExecutor::new(config, seed as u32, timing)?.recording();
    let hw = exec.hw();
    let net = Network::digits();
    let scales = Scales::propose(&net, &Magnitudes::digits_typical(), &Headroom::default());
    let plan = TrainPlan::new(&net, batch, &hw, scales, 0.1).map_err(|e| e.to_string())?;
    exec.memory_map(&plan.regions);
    let (train, _) = Digits::load().map_err(|e| e.to_string())?.split();
    let mut mem = plan.new_memory();
    for (i, w) in init_weights(&net, hw.t, seed)
        .map_err(|e| e.to_string())?
        .iter()
        .enumerate()
    {
        if let Some(w) = w {
            plan.store_weights(&mut mem, i, w)
                .map_err(|e| e.to_string())?;
        }
    }
    let layers: Vec<usize> = plan
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Engine { layer, .. } => Some(*layer),
            Step::Host { .. } => None,
        })
        .collect();
    let masters = |mem: &Memory| {
        (0..plan.tensors.len())
            .filter(|&i| plan.tensors[i].master.is_some())
            .map(|i| plan.load_master_codes(mem, i).map(|m| (i, m)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())
    };
    let mut runs = Vec::new();
    for s in 0..steps {
        let before = masters(&mem)?;
        let idx: Vec<usize> = (s * batch..(s + 1) * batch).collect();
        train_step(&plan, &mut mem, &mut exec, &train, &idx)
            .map_err(|e| format!("training step {s}: {e}"))?;
        for ((i, a), (_, b)) in before.iter().zip(masters(&mem)?) {
            if *a == b {
                return Err(format!(
                    "training step {s}: layer {i}'s masters did not change"
                ));
            }
        }
        for ((desc, rtl, model), &layer) in exec.take_log().into_iter().zip(&layers) {
            runs.push(StepRun {
                layer,
                desc,
                rtl,
                model,
            });
        }
    }
    Ok(runs)
}

/// The digits CNN trained with `cfg` through build `config`'s RTL and
/// through the reference.
#[derive(Debug, Clone)]
pub struct DigitsTraining {
    /// The reference training (`run_descriptor`), for the build's configuration.
    pub reference: hls_rust::conv::digits::Report,
    /// The same training with every descriptor on the RTL.
    pub rtl: hls_rust::conv::digits::Report,
    /// Clock cycles the RTL simulation ran (descriptor transfers included).
    pub simulated_cycles: u64,
}

/// Trains the digits CNN with `cfg` (its `hw` replaced by build `config`'s
/// with memory `timing`, see [`hw_for`]) once through the reference and once
/// with every descriptor of every training step and of the test pass on the
/// RTL ([`RtlExecutor`], which checks every descriptor's memory image and
/// counters against the reference in lockstep). Fails on the first
/// descriptor that differs (epoch, minibatch, step, layer, operation and
/// tensor in the message), or if the final master weights or test logits
/// differ from the reference training's. `progress` sees the RTL run.
pub fn digits_training_on(
    config: usize,
    cfg: &hls_rust::conv::digits::TrainConfig,
    timing: MemTiming,
    progress: &mut dyn FnMut(&hls_rust::conv::digits::Progress),
) -> Result<DigitsTraining, String> {
    use hls_rust::conv::digits::{TrainConfig, train_fixed_on, train_fixed_with};

    let mut exec = RtlExecutor::new(config, cfg.seed as u32, timing)?;
    let cfg = TrainConfig {
        hw: exec.hw(),
        ..*cfg
    };
    let reference = train_fixed_with(&cfg).map_err(|e| format!("reference training: {e}"))?;
    let rtl = train_fixed_on(&cfg, &mut exec, progress)
        .map_err(|e| format!("training through the RTL (build {config}): {e}"))?;
    if let Some(d) = rtl.bit_difference(&reference) {
        return Err(format!(
            "training through the RTL (build {config}) differs from the reference training (values: RTL against reference): {d}"
        ));
    }
    Ok(DigitsTraining {
        reference,
        rtl,
        simulated_cycles: exec.simulated_cycles(),
    })
}

/// Property (schedule invariance): on build `config`, one random `op`
/// layer run under several tilings (its own, the smallest `Tr = 1`,
/// `M_on = N_on = T`, the largest that fits, and random ones) on one engine
/// instance leaves the same memory image every time, and it is the
/// reference's.
pub fn schedule_invariance_on(config: usize, op: Op, cases: u32) -> Result<(), String> {
    let c = CONV_CONFIGS[config];
    let hw = hw_of(&c);
    let t = c.t as usize;
    let strategy = (
        op_cases(config, op),
        proptest::collection::vec((any::<u16>(), any::<u16>(), any::<u16>()), 2),
    );
    check(
        &format!("conv {op} schedule invariance (build {config})"),
        cases,
        strategy,
        |(fc, picks), waves| {
            let (d, mem0) = fc.memory();
            let mut expect = mem0.clone();
            run_descriptor(&mut expect, &d, &hw).map_err(|e| e.to_string())?;
            let rows = d.iter_rows();
            let (mt, nt) = (tiles(d.out_channels(), t), tiles(d.red_channels(), t));
            let conv = op.is_conv();
            let tiling = |tr: usize, mo: usize, no: usize| Tiling {
                tr,
                m_on: t * mo,
                n_on: if conv { t * no } else { 0 },
            };
            let mut tilings = vec![d.tiling, tiling(1, 1, 1), tiling(rows, mt, nt)];
            for &(a, b, cc) in picks {
                tilings.push(tiling(
                    1 + a as usize % rows,
                    1 + b as usize % mt,
                    1 + cc as usize % nt.max(1),
                ));
            }
            let mut dut =
                Conv::with_trace(config, fc.seed as u32, waves).map_err(|e| e.to_string())?;
            dut.reset();
            let mut ran = 0;
            for tl in tilings {
                let dd = Descriptor { tiling: tl, ..d };
                if check_tiling(&dd, &hw).is_err() {
                    continue;
                }
                let words = dd.encode().map_err(|e| e.to_string())?;
                let mut mem = mem0.clone();
                let r = run_on(
                    &mut dut,
                    fc.seed as u32,
                    &words,
                    &mut mem,
                    fc.timing,
                    2_000_000,
                )?;
                if r.error {
                    return Err(format!("{tl:?}: error flag"));
                }
                if mem != expect {
                    let diffs = (0..mem.len())
                        .filter(|&i| mem.words()[i] != expect.words()[i])
                        .count();
                    return Err(format!(
                        "{tl:?}: memory differs from the reference (tiling {:?}) in {diffs} words",
                        d.tiling
                    ));
                }
                ran += 1;
            }
            if ran < 2 {
                return Err(format!("only {ran} tilings fit"));
            }
            Ok(())
        },
    )
}
