//! The reference executor: bit-exact against the golden model for every
//! operation, identical memory images for every tiling of the same layer
//! (schedule invariance), garbage in padded lanes ignored, and capacity,
//! hazard and region violations reported as errors without touching memory.

mod conv_util;

use conv_util::*;
use hls_rust::conv::desc::{Bases, ConvShape, Descriptor, Op, Tiling};
use hls_rust::conv::exec::{ExecError, regions};
use hls_rust::conv::golden::{
    BpParams, FpParams, WuParams, conv_bp, conv_fp, conv_wu, pool_bwd, pool_fwd,
};
use hls_rust::conv::hw::CycleParams;
use hls_rust::conv::layout::{ActLayout, WeightLayout};
use hls_rust::conv::model::{self, TilingError};
use hls_rust::conv::{HwConfig, Memory, Tensor4, run_descriptor};
use hls_rust::rng::Rng;
use proptest::prelude::*;

/// A small build with roomy buffers, so that many tilings are legal.
fn test_hw(rng: &mut Rng) -> HwConfig {
    HwConfig {
        t: 1 + rng.below(4) as usize,
        p: 1 + rng.below(2) as usize,
        clock_mhz: 50.0,
        words_per_cycle: 2,
        t_burst: 3,
        in_buf: 1 << 16,
        w_buf: 1 << 16,
        out_buf: 1 << 16,
        grad_buf: 1 << 16,
        acc_depth: 1, // the hazard rule is tested on its own below
        acc_w: if rng.below(2) == 0 { 32 } else { 40 },
        acc_w_wu: if rng.below(2) == 0 { 40 } else { 48 },
        cycle: CycleParams {
            t_desc: 5,
            t_step: 2,
            overlap: rng.below(2) == 0,
        },
    }
}

/// Writes random garbage into the padded channel lanes of an activation region.
fn garble_act_padding(mem: &mut Memory, base: u32, lay: &ActLayout, rng: &mut Rng) {
    for b in 0..lay.b {
        for c in lay.c..lay.ct() * lay.t {
            for y in 0..lay.h {
                for x in 0..lay.w {
                    mem.words_mut()[base as usize + lay.offset(b, c, y, x)] = rng.next_u64() as i16;
                }
            }
        }
    }
}

/// A descriptor on a random memory image and the image the engine must leave.
struct Case {
    d: Descriptor,
    hw: HwConfig,
    before: Memory,
    after: Memory,
}

fn case(op: Op, seed: u64) -> Case {
    let mut rng = Rng::new(seed);
    let hw = test_hw(&mut rng);
    let t = hw.t;
    let (b, n, m, mut h, mut w, k, pad) = rand_shape(&mut rng, 5, 6);
    let shape = if op.is_conv() {
        ConvShape {
            n,
            m,
            h,
            w,
            k,
            pad,
            b,
        }
    } else {
        h = 2 * h.div_ceil(2);
        w = 2 * w.div_ceil(2);
        ConvShape {
            n,
            m: n,
            h,
            w,
            k: 2,
            pad: 0,
            b,
        }
    };
    let (ho, wo) = if op.is_conv() {
        (shape.ho(), shape.wo())
    } else {
        (h / 2, w / 2)
    };
    let act = |c, hh, ww| ActLayout {
        b,
        c,
        h: hh,
        w: ww,
        t,
    };
    let wl = WeightLayout { m, n, k, t };
    let mut d = Descriptor::new(op, shape);
    let mut next = 16u32; // leave a gap of untouched words at the start
    let mut alloc = |words: usize| {
        let base = next;
        next += words as u32 + 1 + rng.below(5) as u32;
        base
    };
    let big = act(n, h, w);
    let small = act(if op.is_conv() { m } else { n }, ho, wo);
    let mut rng2 = Rng::new(seed ^ 0xdead_beef);
    let mut before;
    let mut after;
    match op {
        Op::Fp => {
            let x = rand_i16(&mut rng2, [b, n, h, w], -3000, 3000);
            let wt = rand_i16(&mut rng2, [m, n, k, k], -3000, 3000);
            d.relu = rng2.below(2) == 1;
            d.s_out = rng2.below(20) as u8;
            d.base = Bases {
                input: alloc(big.words()),
                weights: alloc(wl.words()),
                output: alloc(small.words()),
                ..Bases::default()
            };
            before = Memory::from_words((0..next + 16).map(|_| rng2.next_u64() as i16).collect());
            before.store_act(d.base.input as usize, t, &x).unwrap();
            before
                .store_weights(d.base.weights as usize, t, &wt)
                .unwrap();
            garble_act_padding(&mut before, d.base.input, &big, &mut rng2);
            let p = FpParams {
                pad,
                s_out: d.s_out.into(),
                relu: d.relu,
                acc_w: hw.acc_w,
            };
            let (y, _) = conv_fp(&x, &wt, &p).unwrap();
            after = before.clone();
            after.store_act(d.base.output as usize, t, &y).unwrap();
        }
        Op::Bp => {
            let dout = rand_i16(&mut rng2, [b, m, ho, wo], -3000, 3000);
            let wt = rand_i16(&mut rng2, [m, n, k, k], -3000, 3000);
            let act_in = rand_i16(&mut rng2, [b, n, h, w], -2, 2);
            d.relu_mask = rng2.below(2) == 1;
            d.s_out = rng2.below(20) as u8;
            d.base = Bases {
                input: alloc(small.words()),
                weights: alloc(wl.words()),
                output: alloc(big.words()),
                ..Bases::default()
            };
            if d.relu_mask {
                d.base.aux = alloc(big.words());
            }
            before = Memory::from_words((0..next + 16).map(|_| rng2.next_u64() as i16).collect());
            before.store_act(d.base.input as usize, t, &dout).unwrap();
            before
                .store_weights(d.base.weights as usize, t, &wt)
                .unwrap();
            garble_act_padding(&mut before, d.base.input, &small, &mut rng2);
            if d.relu_mask {
                before.store_act(d.base.aux as usize, t, &act_in).unwrap();
            }
            let p = BpParams {
                pad,
                s_out: d.s_out.into(),
                acc_w: hw.acc_w,
            };
            let (dx, _) = conv_bp(&dout, &wt, d.relu_mask.then_some(&act_in), &p).unwrap();
            after = before.clone();
            after.store_act(d.base.output as usize, t, &dx).unwrap();
        }
        Op::Wu => {
            let x = rand_i16(&mut rng2, [b, n, h, w], -3000, 3000);
            let dout = rand_i16(&mut rng2, [b, m, ho, wo], -3000, 3000);
            let master = Tensor4::from_fn([m, n, k, k], |_| rng2.next_u64() as i32 >> 4);
            d.write_w16 = rng2.below(2) == 1;
            d.g_pre = rng2.below(8) as u8;
            d.lr_mant = rng2.below(1 << 15) as u16;
            d.lr_shift = 10 + rng2.below(20) as u8;
            let mw = alloc(2 * wl.words());
            let in_place = rng2.below(2) == 1;
            d.base = Bases {
                input: alloc(big.words()),
                weights: mw,
                output: if in_place { mw } else { alloc(2 * wl.words()) },
                aux: alloc(small.words()),
                w16_out: 0,
            };
            if d.write_w16 {
                d.base.w16_out = alloc(wl.words());
            }
            before = Memory::from_words((0..next + 16).map(|_| rng2.next_u64() as i16).collect());
            before.store_act(d.base.input as usize, t, &x).unwrap();
            before.store_act(d.base.aux as usize, t, &dout).unwrap();
            before
                .store_master(d.base.weights as usize, t, &master)
                .unwrap();
            garble_act_padding(&mut before, d.base.input, &big, &mut rng2);
            garble_act_padding(&mut before, d.base.aux, &small, &mut rng2);
            let p = WuParams {
                pad,
                g_pre: d.g_pre.into(),
                lr_mant: d.lr_mant,
                lr_shift: d.lr_shift,
                acc_w_wu: hw.acc_w_wu,
            };
            let r = conv_wu(&x, &dout, &master, &p).unwrap();
            after = before.clone();
            after
                .store_master(d.base.output as usize, t, &r.master)
                .unwrap();
            if d.write_w16 {
                after
                    .store_weights(d.base.w16_out as usize, t, &r.w16)
                    .unwrap();
            }
        }
        Op::PoolFwd => {
            let x = rand_i16(&mut rng2, [b, n, h, w], -3, 3);
            d.base = Bases {
                input: alloc(big.words()),
                output: alloc(small.words()),
                aux: alloc(small.argmax_words()),
                ..Bases::default()
            };
            before = Memory::from_words((0..next + 16).map(|_| rng2.next_u64() as i16).collect());
            before.store_act(d.base.input as usize, t, &x).unwrap();
            garble_act_padding(&mut before, d.base.input, &big, &mut rng2);
            let (y, arg) = pool_fwd(&x).unwrap();
            after = before.clone();
            after.store_act(d.base.output as usize, t, &y).unwrap();
            after.store_argmax(d.base.aux as usize, t, &arg).unwrap();
        }
        Op::PoolBwd => {
            let dy = rand_i16(&mut rng2, [b, n, ho, wo], -3000, 3000);
            let arg = Tensor4::from_fn([b, n, ho, wo], |_| rng2.below(4) as u8);
            d.base = Bases {
                input: alloc(small.words()),
                output: alloc(big.words()),
                aux: alloc(small.argmax_words()),
                ..Bases::default()
            };
            before = Memory::from_words((0..next + 16).map(|_| rng2.next_u64() as i16).collect());
            before.store_act(d.base.input as usize, t, &dy).unwrap();
            before.store_argmax(d.base.aux as usize, t, &arg).unwrap();
            garble_act_padding(&mut before, d.base.input, &small, &mut rng2);
            let dx = pool_bwd(&dy, &arg).unwrap();
            after = before.clone();
            after.store_act(d.base.output as usize, t, &dx).unwrap();
        }
    }
    Case {
        d,
        hw,
        before,
        after,
    }
}

/// Runs every candidate tiling (at most `limit`, spread evenly) and checks the image.
fn check_all_tilings(c: &Case, limit: usize) -> Result<usize, TestCaseError> {
    let cands = model::candidates(&c.d, &c.hw);
    prop_assert!(!cands.is_empty(), "no tiling for {:?}", c.d);
    let stride = cands.len().div_ceil(limit).max(1);
    let mut runs = 0;
    for tiling in cands.iter().step_by(stride) {
        let d = Descriptor {
            tiling: *tiling,
            ..c.d
        };
        let mut mem = c.before.clone();
        let stats =
            run_descriptor(&mut mem, &d, &c.hw).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        if mem != c.after {
            let first = (0..mem.len()).find(|&i| mem.words()[i] != c.after.words()[i]);
            return Err(TestCaseError::fail(format!(
                "{d:?} on T={} P={}: first differing word {first:?} (regions {:?})",
                c.hw.t,
                c.hw.p,
                regions(&d, c.hw.t)
            )));
        }
        prop_assert_eq!(stats.cycles, stats.fired + stats.stalls() + stats.overhead);
        prop_assert!(stats.utilization(&c.hw) <= 1.0);
        runs += 1;
    }
    Ok(runs)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// FP on the executor equals the golden model, for every tiling.
    #[test]
    fn fp_schedule_invariant_and_equal_to_golden(seed in any::<u64>()) {
        check_all_tilings(&case(Op::Fp, seed), 12)?;
    }

    /// BP (transposed, flipped weights; relu_mask) equals the golden model, for every tiling.
    #[test]
    fn bp_schedule_invariant_and_equal_to_golden(seed in any::<u64>()) {
        check_all_tilings(&case(Op::Bp, seed), 12)?;
    }

    /// WU with the fused SGD update (in place or not) equals the golden model, for every tiling.
    #[test]
    fn wu_schedule_invariant_and_equal_to_golden(seed in any::<u64>()) {
        check_all_tilings(&case(Op::Wu, seed), 12)?;
    }

    /// Pool forward and backward equal the golden model, for every tiling.
    #[test]
    fn pool_schedule_invariant_and_equal_to_golden(seed in any::<u64>()) {
        check_all_tilings(&case(Op::PoolFwd, seed), 8)?;
        check_all_tilings(&case(Op::PoolBwd, seed), 8)?;
    }
}

/// One layer, several explicit (Tr, M_on, N_on) choices, identical images.
#[test]
fn schedule_invariance_explicit_tilings() {
    let mut rng = Rng::new(1);
    let hw = HwConfig {
        t: 2,
        ..HwConfig::up5k()
    };
    let x = rand_i16(&mut rng, [2, 6, 8, 8], -20000, 20000);
    let w = rand_i16(&mut rng, [6, 6, 3, 3], -20000, 20000);
    let mut d = Descriptor::new(
        Op::Fp,
        ConvShape {
            n: 6,
            m: 6,
            h: 8,
            w: 8,
            k: 3,
            pad: 1,
            b: 2,
        },
    );
    d.base = Bases {
        input: 0,
        weights: 2000,
        output: 3000,
        ..Bases::default()
    };
    d.s_out = 14;
    let mut mem0 = Memory::new(4000);
    mem0.store_act(0, 2, &x).unwrap();
    mem0.store_weights(2000, 2, &w).unwrap();
    let mut images = Vec::new();
    for (tr, m_on, n_on) in [(8, 6, 6), (1, 2, 2), (3, 4, 2), (5, 2, 6), (4, 6, 4)] {
        let dd = Descriptor {
            tiling: Tiling { tr, m_on, n_on },
            ..d
        };
        let mut mem = mem0.clone();
        let stats = run_descriptor(&mut mem, &dd, &hw).unwrap();
        assert!(
            stats.acc_overflows > 0,
            "the sums are chosen to wrap in 32 bits"
        );
        images.push((dd.tiling, mem, stats));
    }
    let p = FpParams {
        pad: 1,
        s_out: 14,
        relu: false,
        acc_w: hw.acc_w,
    };
    let (_, audit) = conv_fp(&x, &w, &p).unwrap();
    for (t, _, s) in &images {
        assert_eq!(
            s.acc_overflows,
            audit.overflows.len() as u64,
            "{t:?}: executor and golden audit agree"
        );
    }
    for (t, img, _) in &images[1..] {
        assert!(
            img == &images[0].1,
            "tiling {t:?} differs from {:?}",
            images[0].0
        );
    }
    // Tiling changes traffic, not results: one band per image reads each input once per M chunk.
    let (s_one, s_many) = (&images[0].2, &images[1].2);
    assert!(s_one.words_read < s_many.words_read);
    assert_eq!(s_one.words_written, s_many.words_written);
}

#[test]
fn capacity_and_hazard_violations_are_errors() {
    let hw = HwConfig {
        t: 2,
        in_buf: 200,
        w_buf: 72,
        out_buf: 64,
        acc_depth: 6,
        ..HwConfig::up5k()
    };
    let mut d = Descriptor::new(
        Op::Fp,
        ConvShape {
            n: 4,
            m: 4,
            h: 8,
            w: 8,
            k: 3,
            pad: 1,
            b: 1,
        },
    );
    d.base = Bases {
        input: 0,
        weights: 256,
        output: 512,
        ..Bases::default()
    };
    let mut mem = Memory::new(1024);
    for (i, v) in mem.words_mut().iter_mut().enumerate() {
        *v = (i * 7 % 13) as i16;
    }
    let orig = mem.clone();
    let run = |mem: &mut Memory, tiling| run_descriptor(mem, &Descriptor { tiling, ..d }, &hw);

    // Fits: 2 ch x 3 rows x 10 = 60 input words, 2x2x9 = 36 weights, 2x1x8 = 16 outputs; period 8 >= 6.
    assert!(
        run(
            &mut mem.clone(),
            Tiling {
                tr: 1,
                m_on: 2,
                n_on: 2
            }
        )
        .is_ok()
    );
    let cases = [
        (
            Tiling {
                tr: 8,
                m_on: 2,
                n_on: 4,
            },
            "input",
        ), // 4 x 10 x 10 = 400 > 200
        (
            Tiling {
                tr: 1,
                m_on: 4,
                n_on: 4,
            },
            "weight",
        ), // 4 x 4 x 9 = 144 > 72
        (
            Tiling {
                tr: 5,
                m_on: 2,
                n_on: 2,
            },
            "output",
        ), // 2 x 5 x 8 = 80 > 64
    ];
    for (tiling, buffer) in cases {
        match run(&mut mem, tiling) {
            Err(ExecError::Tiling(TilingError::Capacity { buffer: b, .. })) => {
                assert_eq!(b, buffer)
            }
            other => panic!("{tiling:?}: expected {buffer} capacity error, got {other:?}"),
        }
    }
    match run(
        &mut mem,
        Tiling {
            tr: 1,
            m_on: 3,
            n_on: 2,
        },
    ) {
        Err(ExecError::Tiling(TilingError::NotMultiple { field: "M_on", .. })) => {}
        other => panic!("expected M_on not a multiple of T, got {other:?}"),
    }
    match run(
        &mut mem,
        Tiling {
            tr: 1,
            m_on: 2,
            n_on: 6,
        },
    ) {
        Err(ExecError::Tiling(TilingError::TooLarge { field: "N_on", .. })) => {}
        other => panic!("expected N_on too large, got {other:?}"),
    }
    // Hazard: a 4-wide layer gives period Tr * 4 < 6 for Tr = 1.
    let mut narrow = d;
    narrow.shape.w = 4;
    let r = run_descriptor(
        &mut mem,
        &Descriptor {
            tiling: Tiling {
                tr: 1,
                m_on: 2,
                n_on: 2,
            },
            ..narrow
        },
        &hw,
    );
    assert_eq!(
        r,
        Err(ExecError::Tiling(TilingError::Hazard {
            period: 4,
            depth: 6
        }))
    );
    assert!(
        run_descriptor(
            &mut mem,
            &Descriptor {
                tiling: Tiling {
                    tr: 2,
                    m_on: 2,
                    n_on: 2
                },
                ..narrow
            },
            &hw
        )
        .is_ok()
    );
    mem = orig.clone();
    // Regions: out of range, overlapping.
    let mut far = d;
    far.base.output = 1000;
    assert!(matches!(
        run_descriptor(
            &mut mem,
            &Descriptor {
                tiling: Tiling {
                    tr: 1,
                    m_on: 2,
                    n_on: 2
                },
                ..far
            },
            &hw
        ),
        Err(ExecError::Memory(_))
    ));
    let mut clash = d;
    clash.base.output = 100;
    assert!(matches!(
        run_descriptor(
            &mut mem,
            &Descriptor {
                tiling: Tiling {
                    tr: 1,
                    m_on: 2,
                    n_on: 2
                },
                ..clash
            },
            &hw
        ),
        Err(ExecError::Overlap {
            written: "out",
            other: "in",
            ..
        })
    ));
    assert!(mem == orig, "a rejected descriptor writes nothing");
    // The scheduler never proposes an illegal tiling, and says why none exists.
    let (best, _) = model::best_tiling(&d, &hw).unwrap();
    assert!(model::check_tiling(&Descriptor { tiling: best, ..d }, &hw).is_ok());
    let tiny = HwConfig { in_buf: 10, ..hw };
    assert!(matches!(
        model::best_tiling(&d, &tiny),
        Err(TilingError::NoSchedule { .. })
    ));
}
