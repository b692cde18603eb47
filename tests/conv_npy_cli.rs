//! What `hlsk conv fp|bp|wu|pool-fwd|pool-bwd --engine rtl` runs: the
//! tensor jobs of `hls_rust::conv::job`, laid out and scheduled for a
//! build, through its Verilated engine (`RtlExecutor`, which also checks
//! every descriptor against the reference in lockstep: memory image word
//! for word, counters). On every build, each job returns exactly the
//! golden model's tensors, with full-range data (accumulator wraps
//! included) and every padding of a 3x3 kernel.

use hls_rust::conv::Tensor4;
use hls_rust::conv::golden::{
    BpParams, FpParams, WuParams, conv_bp, conv_fp, conv_wu, pool_bwd, pool_fwd,
};
use hls_rust::conv::job::{BpJob, FpJob, PoolBwdJob, PoolFwdJob, TensorJob, WuJob};
use hls_rust::rng::Rng;
use hlsk_cosim::configs::CONV_CONFIGS;
use hlsk_sim::conv::{MemTiming, RtlExecutor};

/// Random int16 data, uniform over the whole range when `full`, else in -3..3 (ties).
fn data(rng: &mut Rng, dims: [usize; 4], full: bool) -> Tensor4<i16> {
    Tensor4::from_fn(dims, |_| {
        if full {
            rng.next_u64() as i16
        } else {
            rng.below(6) as i16 - 3
        }
    })
}

#[test]
fn tensor_jobs_through_every_rtl_build_equal_the_golden_model() {
    for build in 0..CONV_CONFIGS.len() {
        for pad in 0..3 {
            let case = format!("build {build}, K 3, pad {pad}");
            let mut rtl = RtlExecutor::new(build, 1 + build as u32, MemTiming::LAT4_BURST2)
                .unwrap_or_else(|e| panic!("{case}: {e}"));
            let hw = rtl.hw();
            let mut rng = Rng::new((build * 3 + pad) as u64);
            let (b, n, m, h, w) = (2, 3 + build % 3, 5, 5, 6);
            let (ho, wo) = (h + 2 * pad - 2, w + 2 * pad - 2);
            let x = data(&mut rng, [b, n, h, w], true);
            let wt = data(&mut rng, [m, n, 3, 3], true);
            let dout = data(&mut rng, [b, m, ho, wo], true);

            let fp = FpJob {
                x: x.clone(),
                w: wt.clone(),
                pad,
                s_out: 14,
                relu: pad == 1,
            };
            let fwd = fp
                .run(&hw, &mut rtl)
                .unwrap_or_else(|e| panic!("{case}, FP: {e}"));
            let p = FpParams {
                pad,
                s_out: 14,
                relu: pad == 1,
                acc_w: hw.acc_w,
            };
            assert_eq!(fwd.output.y, conv_fp(&x, &wt, &p).unwrap().0, "{case}, FP");

            let bp = BpJob {
                dout: dout.clone(),
                w: wt.clone(),
                act_in: (pad != 1).then(|| x.clone()),
                pad,
                s_out: 15,
            };
            let din = bp
                .run(&hw, &mut rtl)
                .unwrap_or_else(|e| panic!("{case}, BP: {e}"));
            let p = BpParams {
                pad,
                s_out: 15,
                acc_w: hw.acc_w,
            };
            let want = conv_bp(&dout, &wt, bp.act_in.as_ref(), &p).unwrap().0;
            assert_eq!(din.output.din, want, "{case}, BP");

            let wu = WuJob {
                x: x.clone(),
                dout: dout.clone(),
                master: Tensor4::from_fn([m, n, 3, 3], |_| rng.next_u64() as i32),
                pad,
                g_pre: 6,
                lr_mant: rng.below(1 << 15) as u16,
                lr_shift: 12,
            };
            let up = wu
                .run(&hw, &mut rtl)
                .unwrap_or_else(|e| panic!("{case}, WU: {e}"));
            let p = WuParams {
                pad,
                g_pre: 6,
                lr_mant: wu.lr_mant,
                lr_shift: 12,
                acc_w_wu: hw.acc_w_wu,
            };
            let r = conv_wu(&x, &dout, &wu.master, &p).unwrap();
            assert_eq!(up.output.master, r.master, "{case}, WU masters");
            assert_eq!(up.output.w16, r.w16, "{case}, WU w16");

            let pf = PoolFwdJob {
                x: data(&mut rng, [b, n, 6, 4 + 2 * pad], false),
            };
            let pooled = pf
                .run(&hw, &mut rtl)
                .unwrap_or_else(|e| panic!("{case}, pool: {e}"));
            let (y, argmax) = pool_fwd(&pf.x).unwrap();
            assert_eq!(pooled.output.y, y, "{case}, POOL_FWD");
            assert_eq!(pooled.output.argmax, argmax, "{case}, POOL_FWD argmax");

            let pb = PoolBwdJob {
                dy: data(&mut rng, y.dims(), true),
                argmax,
            };
            let dx = pb
                .run(&hw, &mut rtl)
                .unwrap_or_else(|e| panic!("{case}, pool: {e}"));
            assert_eq!(
                dx.output.dx,
                pool_bwd(&pb.dy, &pb.argmax).unwrap(),
                "{case}, POOL_BWD"
            );
            let busy = [fwd.stats, din.stats, up.stats, pooled.stats, dx.stats]
                .iter()
                .map(|s| s.cycles)
                .sum::<u64>();
            assert!(rtl.simulated_cycles() > busy, "{case}: the engine ran");
        }
    }
}
