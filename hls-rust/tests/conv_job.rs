//! Tensor-level jobs (`conv::job`): on random builds, shapes and data, a
//! job laid out in memory and run through the reference executor returns
//! exactly the golden model's tensors (so layout, descriptor, schedule and
//! read-back agree with the naive loops bit for bit, accumulator wraps
//! included); bad inputs are refused with the error that names the tensor,
//! the dimension and the allowed range.

use hls_rust::conv::desc::Op;
use hls_rust::conv::golden::{
    BpParams, FpParams, WuParams, conv_bp, conv_fp, conv_wu, pool_bwd, pool_fwd,
};
use hls_rust::conv::hw::CycleParams;
use hls_rust::conv::job::{BpJob, Done, FpJob, JobError, PoolBwdJob, PoolFwdJob, TensorJob, WuJob};
use hls_rust::conv::model::{self, Stats, TilingError};
use hls_rust::conv::{HwConfig, Reference, Tensor4};
use hls_rust::rng::Rng;
use proptest::prelude::*;

/// A random layer: `(B, N, M, H, W, K, pad)` with at least one output pixel.
#[derive(Debug, Clone, Copy)]
struct Layer {
    b: usize,
    n: usize,
    m: usize,
    h: usize,
    w: usize,
    k: usize,
    pad: usize,
}

fn layer() -> impl Strategy<Value = Layer> {
    (prop_oneof![Just(1usize), Just(3)], 0..3usize)
        .prop_flat_map(|(k, pad)| {
            let pad = pad % k;
            let min = k.saturating_sub(2 * pad).max(1);
            (
                Just(k),
                Just(pad),
                1..=3usize,
                1..=9usize,
                1..=9usize,
                min..=7usize,
                min..=7usize,
            )
        })
        .prop_map(|(k, pad, b, n, m, h, w)| Layer {
            b,
            n,
            m,
            h,
            w,
            k,
            pad,
        })
}

/// A build: T 1..=4, P 1..=3, accumulator widths from the builds' range,
/// buffers from just enough for the largest layer above (many chunks and
/// bands) to roomy (one tile).
fn build() -> impl Strategy<Value = HwConfig> {
    (
        1..=4usize,
        1..=3usize,
        prop_oneof![Just(32u32), Just(40), Just(48), Just(64)],
        prop_oneof![Just(32u32), Just(40), Just(48), Just(64)],
        0..6u32,
        any::<bool>(),
    )
        .prop_map(|(t, p, acc_w, acc_w_wu, scale, overlap)| HwConfig {
            t,
            p,
            clock_mhz: 50.0,
            words_per_cycle: t,
            t_burst: 2,
            in_buf: 176 << scale,
            w_buf: 160 << scale,
            out_buf: 64 << scale,
            grad_buf: 160 << scale,
            acc_depth: 1,
            acc_w,
            acc_w_wu,
            cycle: CycleParams {
                t_desc: 1,
                t_step: 6,
                overlap,
            },
        })
}

/// Random int16 data of magnitude below `2^bits` (full range at 15).
fn data(rng: &mut Rng, dims: [usize; 4], bits: u32) -> Tensor4<i16> {
    let span = 1u64 << (bits + 1);
    Tensor4::from_fn(dims, |_| {
        (rng.below(span) as i64 - (span / 2) as i64).clamp(-32768, 32767) as i16
    })
}

/// The reference executor's counters are the model's prediction plus the
/// overflow audit, and the audit counts the golden model's wraps.
fn check_stats<O>(done: &Done<O>, wraps: usize) -> Result<(), TestCaseError> {
    prop_assert_eq!(done.stats.acc_overflows, wraps as u64);
    let stats = Stats {
        acc_overflows: 0,
        ..done.stats
    };
    prop_assert_eq!(stats, done.predicted);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// FP through memory equals `conv_fp` (and wraps as often).
    #[test]
    fn fp_job_equals_golden_conv_fp(
        l in layer(), hw in build(), seed in any::<u64>(), bits in prop_oneof![Just(15u32), 0..=15u32],
        s_out in 0..=40u8, relu in any::<bool>(),
    ) {
        let mut rng = Rng::new(seed);
        let job = FpJob {
            x: data(&mut rng, [l.b, l.n, l.h, l.w], bits),
            w: data(&mut rng, [l.m, l.n, l.k, l.k], bits),
            pad: l.pad,
            s_out,
            relu,
        };
        let done = job.run(&hw, &mut Reference(hw)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let p = FpParams { pad: l.pad, s_out: s_out.into(), relu, acc_w: hw.acc_w };
        let (y, audit) = conv_fp(&job.x, &job.w, &p).unwrap();
        prop_assert_eq!(&done.output.y, &y);
        check_stats(&done, audit.overflows.len())?;
    }

    /// BP through memory, with or without the ReLU mask, equals `conv_bp`.
    #[test]
    fn bp_job_equals_golden_conv_bp(
        l in layer(), hw in build(), seed in any::<u64>(), bits in prop_oneof![Just(15u32), 0..=15u32],
        s_out in 0..=40u8, mask in any::<bool>(),
    ) {
        let mut rng = Rng::new(seed);
        let (ho, wo) = (l.h + 2 * l.pad + 1 - l.k, l.w + 2 * l.pad + 1 - l.k);
        let job = BpJob {
            dout: data(&mut rng, [l.b, l.m, ho, wo], bits),
            w: data(&mut rng, [l.m, l.n, l.k, l.k], bits),
            act_in: mask.then(|| data(&mut rng, [l.b, l.n, l.h, l.w], 1)),
            pad: l.pad,
            s_out,
        };
        let done = job.run(&hw, &mut Reference(hw)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let p = BpParams { pad: l.pad, s_out: s_out.into(), acc_w: hw.acc_w };
        let (din, audit) = conv_bp(&job.dout, &job.w, job.act_in.as_ref(), &p).unwrap();
        prop_assert_eq!(done.output.din.dims(), [l.b, l.n, l.h, l.w]);
        prop_assert_eq!(&done.output.din, &din);
        check_stats(&done, audit.overflows.len())?;
    }

    /// WU through memory returns `conv_wu`'s updated masters and w16 copy.
    #[test]
    fn wu_job_equals_golden_conv_wu(
        l in layer(), hw in build(), seed in any::<u64>(), bits in prop_oneof![Just(15u32), 0..=15u32],
        g_pre in prop_oneof![Just(0u8), 0..=40u8], lr_mant in 0..(1u16 << 15), lr_shift in 0..=63u8,
    ) {
        let mut rng = Rng::new(seed);
        let (ho, wo) = (l.h + 2 * l.pad + 1 - l.k, l.w + 2 * l.pad + 1 - l.k);
        let job = WuJob {
            x: data(&mut rng, [l.b, l.n, l.h, l.w], bits),
            dout: data(&mut rng, [l.b, l.m, ho, wo], bits),
            master: Tensor4::from_fn([l.m, l.n, l.k, l.k], |_| rng.next_u64() as i32),
            pad: l.pad,
            g_pre,
            lr_mant,
            lr_shift,
        };
        let done = job.run(&hw, &mut Reference(hw)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let p = WuParams { pad: l.pad, g_pre: g_pre.into(), lr_mant, lr_shift, acc_w_wu: hw.acc_w_wu };
        let r = conv_wu(&job.x, &job.dout, &job.master, &p).unwrap();
        prop_assert_eq!(&done.output.master, &r.master);
        prop_assert_eq!(&done.output.w16, &r.w16);
        check_stats(&done, r.audit.overflows.len())?;
    }

    /// Pool forward and backward through memory equal `pool_fwd` and
    /// `pool_bwd` (ties included: small values), on random argmax codes.
    #[test]
    fn pool_jobs_equal_golden_pools(
        l in layer(), hw in build(), seed in any::<u64>(), bits in prop_oneof![Just(15u32), 0..=15u32],
    ) {
        let mut rng = Rng::new(seed);
        let (h, w) = (2 * l.h.div_ceil(2), 2 * l.w.div_ceil(2));
        let fwd = PoolFwdJob { x: data(&mut rng, [l.b, l.n, h, w], bits) };
        let done = fwd.run(&hw, &mut Reference(hw)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (y, argmax) = pool_fwd(&fwd.x).unwrap();
        prop_assert_eq!(&done.output.y, &y);
        prop_assert_eq!(&done.output.argmax, &argmax);
        check_stats(&done, 0)?;

        let small = [l.b, l.n, h / 2, w / 2];
        let bwd = PoolBwdJob {
            dy: data(&mut rng, small, bits),
            argmax: Tensor4::from_fn(small, |_| rng.below(4) as u8),
        };
        let done = bwd.run(&hw, &mut Reference(hw)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&done.output.dx, &pool_bwd(&bwd.dy, &bwd.argmax).unwrap());
        check_stats(&done, 0)?;
    }
}

fn zeros(dims: [usize; 4]) -> Tensor4<i16> {
    Tensor4::zeros(dims)
}

fn fp(x: [usize; 4], w: [usize; 4], pad: usize) -> FpJob {
    FpJob {
        x: zeros(x),
        w: zeros(w),
        pad,
        s_out: 0,
        relu: false,
    }
}

fn wu(x: [usize; 4], dout: [usize; 4], master: [usize; 4]) -> WuJob {
    WuJob {
        x: zeros(x),
        dout: zeros(dout),
        master: Tensor4::zeros(master),
        pad: 1,
        g_pre: 0,
        lr_mant: 1,
        lr_shift: 0,
    }
}

fn err(r: Result<impl Sized, JobError>) -> JobError {
    match r {
        Ok(_) => panic!("the job was accepted"),
        Err(e) => e,
    }
}

#[test]
fn mismatched_dims_name_the_tensor_and_dimension() {
    let hw = HwConfig::up5k();
    let e = err(fp([1, 3, 6, 6], [4, 2, 3, 3], 1).place(&hw));
    assert!(
        matches!(
            &e,
            JobError::Mismatch {
                tensor: "w",
                axis: 1,
                dim: "N",
                got: 2,
                expected: 3,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.tensor(), Some("w"));
    assert_eq!(
        e.to_string(),
        "w: dim 1 (N) = 2, expected 3 (x has C = 3 channels)"
    );

    let bp = BpJob {
        dout: zeros([2, 4, 6, 6]),
        w: zeros([5, 3, 3, 3]),
        act_in: None,
        pad: 1,
        s_out: 0,
    };
    let e = err(bp.place(&hw));
    assert!(
        matches!(
            e,
            JobError::Mismatch {
                tensor: "dout",
                axis: 1,
                got: 4,
                expected: 5,
                ..
            }
        ),
        "{e:?}"
    );
    // act_in must be the forward input: [B, N, H, W] = [2, 3, 6, 6].
    let bp = BpJob {
        w: zeros([4, 3, 3, 3]),
        act_in: Some(zeros([2, 3, 6, 5])),
        ..bp
    };
    let e = err(bp.place(&hw));
    assert!(
        matches!(
            e,
            JobError::Mismatch {
                tensor: "act_in",
                axis: 3,
                got: 5,
                expected: 6,
                ..
            }
        ),
        "{e:?}"
    );

    // WU: master's N against x's C; dout against [B, M, Ho, Wo].
    let e = err(wu([2, 3, 6, 6], [2, 4, 6, 6], [4, 2, 3, 3]).place(&hw));
    assert!(
        matches!(
            e,
            JobError::Mismatch {
                tensor: "master",
                axis: 1,
                got: 2,
                expected: 3,
                ..
            }
        ),
        "{e:?}"
    );
    let e = err(wu([2, 3, 6, 6], [1, 4, 6, 6], [4, 3, 3, 3]).place(&hw));
    assert!(
        matches!(
            e,
            JobError::Mismatch {
                tensor: "dout",
                axis: 0,
                got: 1,
                expected: 2,
                ..
            }
        ),
        "{e:?}"
    );
    let e = err(wu([2, 3, 6, 6], [2, 4, 6, 4], [4, 3, 3, 3]).place(&hw));
    assert!(
        matches!(
            e,
            JobError::Mismatch {
                tensor: "dout",
                axis: 3,
                got: 4,
                expected: 6,
                ..
            }
        ),
        "{e:?}"
    );

    let pb = PoolBwdJob {
        dy: zeros([1, 2, 3, 3]),
        argmax: Tensor4::zeros([1, 2, 3, 4]),
    };
    let e = err(pb.place(&hw));
    assert!(
        matches!(
            e,
            JobError::Mismatch {
                tensor: "argmax",
                axis: 3,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn kernels_padding_and_sizes_outside_the_engine_are_refused() {
    let hw = HwConfig::up5k();
    let e = err(fp([1, 3, 6, 6], [4, 3, 5, 5], 1).place(&hw));
    assert!(
        matches!(
            e,
            JobError::Kernel {
                tensor: "w",
                dims: [4, 3, 5, 5]
            }
        ),
        "{e:?}"
    );
    let e = err(fp([1, 3, 6, 6], [4, 3, 3, 1], 0).place(&hw));
    assert!(matches!(e, JobError::Kernel { tensor: "w", .. }), "{e:?}");
    let e = err(fp([1, 3, 6, 6], [4, 3, 3, 3], 3).place(&hw));
    assert!(
        matches!(
            e,
            JobError::Param {
                name: "pad",
                value: 3,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("below K = 3"), "{e}");
    let e = err(fp([1, 3, 6, 6], [4, 3, 1, 1], 1).place(&hw));
    assert!(
        matches!(
            e,
            JobError::Param {
                name: "pad",
                value: 1,
                ..
            }
        ),
        "{e:?}"
    );

    // Empty and oversized dimensions.
    let e = err(fp([0, 3, 6, 6], [4, 3, 3, 3], 1).place(&hw));
    assert!(
        matches!(
            e,
            JobError::Empty {
                tensor: "x",
                axis: 0,
                dim: "B"
            }
        ),
        "{e:?}"
    );
    let e = err(fp([1, 3, 6, 6], [0, 3, 3, 3], 1).place(&hw));
    assert!(
        matches!(
            e,
            JobError::Empty {
                tensor: "w",
                axis: 0,
                dim: "M"
            }
        ),
        "{e:?}"
    );
    let e = err(fp([1, 1, 1, 70_000], [1, 1, 1, 1], 0).place(&hw));
    assert!(
        matches!(
            e,
            JobError::TooLarge {
                tensor: "x",
                dim: "W",
                value: 70_000,
                max: 65_535
            }
        ),
        "{e:?}"
    );

    // No output pixel: H + 2 pad < K.
    let e = err(fp([1, 3, 2, 6], [4, 3, 3, 3], 0).place(&hw));
    assert!(
        matches!(
            e,
            JobError::TooSmall {
                tensor: "x",
                axis: 2,
                got: 2,
                min: 3,
                ..
            }
        ),
        "{e:?}"
    );
    // BP: the forward input would have H = Ho + K - 1 - 2 pad = 0 rows.
    let bp = BpJob {
        dout: zeros([1, 4, 2, 6]),
        w: zeros([4, 3, 3, 3]),
        act_in: None,
        pad: 2,
        s_out: 0,
    };
    let e = err(bp.place(&hw));
    assert!(
        matches!(
            e,
            JobError::TooSmall {
                tensor: "dout",
                axis: 2,
                got: 2,
                min: 3,
                ..
            }
        ),
        "{e:?}"
    );

    // Pools: even sizes only.
    let e = err(PoolFwdJob {
        x: zeros([1, 2, 4, 5]),
    }
    .place(&hw));
    assert!(
        matches!(
            e,
            JobError::Odd {
                tensor: "x",
                axis: 3,
                got: 5,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn values_and_numerics_out_of_range_are_refused() {
    let hw = HwConfig::up5k();
    let mut argmax = Tensor4::zeros([1, 2, 2, 2]);
    argmax[[0, 1, 0, 1]] = 4u8;
    let e = err(PoolBwdJob {
        dy: zeros([1, 2, 2, 2]),
        argmax,
    }
    .place(&hw));
    assert!(
        matches!(
            e,
            JobError::Value {
                tensor: "argmax",
                index: [0, 1, 0, 1],
                value: 4,
                ..
            }
        ),
        "{e:?}"
    );

    let job = FpJob {
        s_out: 64,
        ..fp([1, 3, 6, 6], [4, 3, 3, 3], 1)
    };
    let e = err(job.place(&hw));
    assert!(
        matches!(
            e,
            JobError::Param {
                name: "s_out",
                value: 64,
                ..
            }
        ),
        "{e:?}"
    );

    let ok = wu([2, 3, 6, 6], [2, 4, 6, 6], [4, 3, 3, 3]);
    for (job, name, value) in [
        (
            WuJob {
                lr_mant: 1 << 15,
                ..ok.clone()
            },
            "lr_mant",
            1 << 15,
        ),
        (
            WuJob {
                lr_shift: 64,
                ..ok.clone()
            },
            "lr_shift",
            64,
        ),
        (
            WuJob {
                g_pre: 70,
                ..ok.clone()
            },
            "g_pre",
            70,
        ),
    ] {
        let e = err(job.place(&hw));
        assert!(
            matches!(&e, JobError::Param { name: n, value: v, .. } if *n == name && *v == value),
            "{e:?}"
        );
    }
    assert!(ok.place(&hw).is_ok());
}

#[test]
fn layers_beyond_the_buffers_say_how_wide_the_build_goes() {
    // UP5K preset: input buffer 2048 words, T = 2: a 3x3 FP row band needs
    // T * 3 * (W + 2) words, so W = 339 fits and 340 does not.
    let hw = HwConfig::up5k();
    let e = err(fp([1, 2, 4, 400], [2, 2, 3, 3], 1).place(&hw));
    let JobError::Capacity {
        op,
        t,
        reason,
        advice,
    } = &e
    else {
        panic!("{e:?}");
    };
    assert_eq!((*op, *t), (Op::Fp, 2));
    assert!(
        matches!(
            reason,
            TilingError::Capacity {
                buffer: "input",
                ..
            }
        ),
        "{reason:?}"
    );
    assert!(
        advice.contains("x up to 339 columns wide (x is 400)"),
        "{advice}"
    );
    assert!(fp([1, 2, 4, 339], [2, 2, 3, 3], 1).place(&hw).is_ok());
    assert!(fp([1, 2, 4, 340], [2, 2, 3, 3], 1).place(&hw).is_err());
}

#[test]
fn regions_are_named_after_the_tensors_and_the_descriptor_is_scheduled() {
    let hw = HwConfig::ecp5();
    let bp = BpJob {
        dout: zeros([2, 4, 6, 6]),
        w: zeros([4, 3, 3, 3]),
        act_in: Some(zeros([2, 3, 6, 6])),
        pad: 1,
        s_out: 3,
    };
    let p = bp.place(&hw).unwrap();
    let names: Vec<&str> = p.regions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["dout", "w", "din", "act_in"]);
    assert!(p.desc.relu_mask);
    assert_eq!(p.desc.s_out, 3);
    assert_eq!(p.desc.tiling, model::best_tiling(&p.desc, &hw).unwrap().0);
    assert!(p.regions.iter().all(|r| r.base % 16 == 0));
    assert_eq!(p.image.len() % 16, 0);
}
