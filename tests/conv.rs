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
use hls_rust::conv::exec::run_descriptor;
use hls_rust::conv::layout::{ActLayout, WeightLayout, tiles};
use hls_rust::conv::model::check_tiling;
use hls_rust::conv::{HwConfig, Memory, Tensor4};
use hls_rust::rng::Rng;
use hlsk_cosim::Conv;
use hlsk_cosim::configs::CONV_CONFIGS;
use proptest::prelude::*;

pub use hlsk_sim::conv::*;

/// A memory image of `len` junk words.
fn junk(rng: &mut Rng, len: usize) -> Memory {
    Memory::from_words((0..len).map(|_| rng.next_u64() as i16).collect())
}

/// A random data word in `-2^bits..2^bits` (clamped to int16), one in eight
/// an end of the range (at 15 bits -32768 and 32767: products of +-2^30,
/// where the rounding bits of WU's `g_pre` sit at the top), the rest
/// uniform.
fn value(rng: &mut Rng, bits: u32) -> i16 {
    let half = 1i64 << bits;
    let v = match rng.below(16) {
        0 => -half,
        1 => half - 1,
        _ => rng.below(2 * half as u64) as i64 - half,
    };
    v.clamp(i16::MIN.into(), i16::MAX.into()) as i16
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

/// Runs `fc` on `dut` and compares memory image and counters with the
/// reference.
fn check_case(dut: &mut Conv, fc: &ConvCase, hw: &HwConfig) -> Result<(), String> {
    let op = fc.desc.op;
    let (d, mem0) = fc.memory();
    let mut expect = mem0.clone();
    let stats = run_descriptor(&mut expect, &d, hw).map_err(|e| e.to_string())?;
    let words = d.encode().map_err(|e| e.to_string())?;
    let mut mem = mem0.clone();
    let budget = cycle_budget(stats.cycles, fc.timing);
    let r = run_on(dut, fc.seed as u32, &words, &mut mem, fc.timing, budget)?;
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

/// A descriptor of `op` that no build can run: an input tile far over the
/// input buffer (rows of 2000 pixels), or for WU with `grad` a gradient tile
/// (24 x 24 x 3 x 3 = 5,184 entries) over every build's gradient buffer.
/// Bases inside 1024 words.
pub fn oversized(op: Op, t: usize, b: usize, grad: bool) -> Descriptor {
    let pool = !op.is_conv();
    let (n, w) = if op == Op::Wu && grad {
        (24, 1)
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
            // The capacity edge: the most rows that fit with the layer's own
            // channel tiles, and one row more (refused unless it is all rows).
            let fits = |tr: usize| {
                let tl = Tiling { tr, ..d.tiling };
                check_tiling(&Descriptor { tiling: tl, ..d }, &hw).is_ok()
            };
            if let Some(edge) = (1..=rows).rev().find(|&tr| fits(tr)) {
                tilings.push(Tiling {
                    tr: edge,
                    ..d.tiling
                });
                if edge < rows {
                    tilings.push(Tiling {
                        tr: edge + 1,
                        ..d.tiling
                    });
                }
            }
            let mut dut =
                Conv::with_trace(config, fc.seed as u32, waves).map_err(|e| e.to_string())?;
            dut.reset();
            let mut ran = 0;
            for tl in tilings {
                let dd = Descriptor { tiling: tl, ..d };
                let words = dd.encode().map_err(|e| e.to_string())?;
                let mut mem = mem0.clone();
                if check_tiling(&dd, &hw).is_err() {
                    // Beyond the buffers: refused, nothing read or written,
                    // exactly where the model draws the line.
                    let r = run_on(
                        &mut dut,
                        fc.seed as u32,
                        &words,
                        &mut mem,
                        fc.timing,
                        10_000,
                    )?;
                    if !r.error || r.requests != 0 || mem != mem0 {
                        return Err(format!(
                            "{tl:?} exceeds the buffers but ran: error flag {}, {} requests, memory changed: {}",
                            r.error,
                            r.requests,
                            mem != mem0
                        ));
                    }
                    continue;
                }
                let model = hls_rust::conv::model::predict(&dd, &hw_for(&c, fc.timing))
                    .map_err(|e| e.to_string())?;
                let budget = cycle_budget(model.cycles, fc.timing);
                let r = run_on(
                    &mut dut,
                    fc.seed as u32,
                    &words,
                    &mut mem,
                    fc.timing,
                    budget,
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
