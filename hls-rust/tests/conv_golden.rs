//! The golden model against real arithmetic: FP against an f64 convolution,
//! BP and WU against f64 finite differences, the overflow audit, and the
//! pooling properties.

mod conv_util;

use conv_util::*;
use hls_rust::conv::Tensor4;
use hls_rust::conv::fixed::{MF, dequantize, fits, rs, sx};
use hls_rust::conv::golden::{
    BpParams, FpParams, WuParams, argmax_offset, conv_bp, conv_fp, conv_wu, pool_bwd, pool_fwd,
};
use hls_rust::rng::Rng;
use proptest::prelude::*;

const FX: i32 = 12; // input fraction bits
const FW: i32 = 13; // weight fraction bits
const FY: i32 = 10; // output fraction bits

/// (lr_mant, lr_shift) with lr_mant * 2^-lr_shift ~= l, lr_mant < 2^15.
fn lr_code(l: f64) -> (u16, u8) {
    let shift = (14 - l.log2().floor() as i32).clamp(0, 63);
    let mant = (l * 2f64.powi(shift)).round().min(32767.0);
    (mant as u16, shift as u8)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// FP: on the quantized operands the result is within half an output LSB
    /// of the f64 convolution; on the real operands the error adds the
    /// operand quantization, at most sum |w| 2^-(FX+1) + |x| 2^-(FW+1) + 2^-(FX+FW+2) per term.
    #[test]
    fn fp_within_half_lsb_of_f64_convolution(seed in any::<u64>(), relu in any::<bool>()) {
        let mut rng = Rng::new(seed);
        let (b, n, m, h, w, k, pad) = rand_shape(&mut rng, 4, 6);
        let xr = rand_f64(&mut rng, [b, n, h, w], -1.0, 1.0);
        let wr = rand_f64(&mut rng, [m, n, k, k], -0.5, 0.5);
        let (xq, wq) = (q(&xr, FX), q(&wr, FW));
        let p = FpParams { pad, s_out: (FX + FW - FY) as u32, relu, acc_w: 32 };
        let (y, audit) = conv_fp(&xq, &wq, &p).unwrap();
        prop_assert!(audit.is_clean());
        let exact_q = conv_f64(&dq(&xq, FX), &dq(&wq, FW), pad);
        let exact_r = conv_f64(&xr, &wr, pad);
        let terms = (n * k * k) as f64;
        let quant = terms * (0.5 * 2f64.powi(-FX - 1) + 1.0 * 2f64.powi(-FW - 1) + 2f64.powi(-FX - FW - 2));
        let half = 2f64.powi(-FY - 1);
        for i in 0..y.len() {
            let got = dequantize(y.data()[i].into(), FY);
            let relu_f = |v: f64| if relu { v.max(0.0) } else { v };
            let (eq, er) = (relu_f(exact_q.data()[i]), relu_f(exact_r.data()[i]));
            prop_assert!((got - eq).abs() <= half + 1e-12, "shape {:?}: {got} vs {eq}", (b, n, m, h, w, k, pad));
            prop_assert!((got - er).abs() <= half + quant, "shape {:?}: {got} vs real {er}", (b, n, m, h, w, k, pad));
        }
    }

    /// BP equals the finite-difference gradient of L(x) = sum dO * conv(x, w)
    /// within half a gradient LSB (masked where act_in <= 0 when relu_mask).
    #[test]
    fn bp_matches_finite_differences(seed in any::<u64>(), masked in any::<bool>()) {
        let mut rng = Rng::new(seed);
        let (b, n, m, h, w, k, pad) = rand_shape(&mut rng, 3, 5);
        let x = rand_f64(&mut rng, [b, n, h, w], -1.0, 1.0);
        let wq = q(&rand_f64(&mut rng, [m, n, k, k], -0.5, 0.5), FW);
        let (ho, wo) = (h + 2 * pad + 1 - k, w + 2 * pad + 1 - k);
        let fd = 12; // dO fraction bits
        let fdx = 11; // dx fraction bits
        let dq_out = q(&rand_f64(&mut rng, [b, m, ho, wo], -1.0, 1.0), fd);
        let act = rand_i16(&mut rng, [b, n, h, w], -3, 3);
        let p = BpParams { pad, s_out: (fd + FW - fdx) as u32, acc_w: 32 };
        let (dx, audit) = conv_bp(&dq_out, &wq, masked.then_some(&act), &p).unwrap();
        prop_assert!(audit.is_clean());
        let (wf, df) = (dq(&wq, FW), dq(&dq_out, fd));
        let step = 1e-3;
        for i in 0..x.len() {
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp.data_mut()[i] += step;
            xm.data_mut()[i] -= step;
            let mut g = (loss(&xp, &wf, &df, pad) - loss(&xm, &wf, &df, pad)) / (2.0 * step);
            if masked && act.data()[i] <= 0 {
                g = 0.0;
            }
            let got = dequantize(dx.data()[i].into(), fdx);
            prop_assert!((got - g).abs() <= 2f64.powi(-fdx - 1) + 1e-7,
                "shape {:?} element {i}: {got} vs {g}", (b, n, m, h, w, k, pad));
        }
    }

    /// WU's gradient equals the finite-difference gradient of
    /// L(w) = sum dO * conv(x, w) within the g_pre rounding (half an LSB of
    /// the gradient per summed product), and the master update is lr times it
    /// within that error times lr plus half a master LSB.
    #[test]
    fn wu_matches_finite_differences(seed in any::<u64>(), g_pre in 0u32..6) {
        let mut rng = Rng::new(seed);
        let (b, n, m, h, w, k, pad) = rand_shape(&mut rng, 3, 5);
        let xq = q(&rand_f64(&mut rng, [b, n, h, w], -1.0, 1.0), FX);
        let wr = rand_f64(&mut rng, [m, n, k, k], -0.5, 0.5);
        let master = wr.map(|v| hls_rust::conv::fixed::quantize32(v, FW + MF as i32));
        let (ho, wo) = (h + 2 * pad + 1 - k, w + 2 * pad + 1 - k);
        let fd = 12;
        let dq_out = q(&rand_f64(&mut rng, [b, m, ho, wo], -1.0, 1.0), fd);
        let fg = FX + fd - g_pre as i32; // gradient fraction bits
        let lr = 0.01;
        let (lr_mant, lr_shift) = lr_code(lr * 2f64.powi(FW + MF as i32 - fg));
        let lr_real = f64::from(lr_mant) * 2f64.powi(-i32::from(lr_shift)) * 2f64.powi(fg - FW - MF as i32);
        let p = WuParams { pad, g_pre, lr_mant, lr_shift, acc_w_wu: 48 };
        let r = conv_wu(&xq, &dq_out, &master, &p).unwrap();
        prop_assert!(r.audit.is_clean());
        let (xf, df) = (dq(&xq, FX), dq(&dq_out, fd));
        let wf = master.map(|v| dequantize(v.into(), FW + MF as i32));
        let step = 1e-3;
        let terms = (b * ho * wo) as f64;
        let gtol = if g_pre == 0 { 1e-7 } else { terms * 2f64.powi(-fg - 1) + 1e-7 };
        for i in 0..master.len() {
            let (mut wp, mut wm) = (wf.clone(), wf.clone());
            wp.data_mut()[i] += step;
            wm.data_mut()[i] -= step;
            let g = (loss(&xf, &wp, &df, pad) - loss(&xf, &wm, &df, pad)) / (2.0 * step);
            let got = dequantize(r.grad.data()[i], fg);
            prop_assert!((got - g).abs() <= gtol, "shape {:?} w{i}: {got} vs {g}", (b, n, m, h, w, k, pad));
            let update = dequantize(i64::from(master.data()[i]) - i64::from(r.master.data()[i]), FW + MF as i32);
            let utol = lr_real * gtol + 2f64.powi(-FW - MF as i32 - 1) + 1e-12;
            prop_assert!((update - lr_real * g).abs() <= utol, "update {update} vs {}", lr_real * g);
            prop_assert_eq!(i64::from(r.w16.data()[i]), rs(r.master.data()[i].into(), MF));
        }
    }

    /// POOL_FWD takes the maximum, and its argmax code points at the first
    /// maximum in row-major order (ties pick the first).
    #[test]
    fn pool_fwd_picks_first_maximum(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let dims = [1 + rng.below(2) as usize, 1 + rng.below(3) as usize, 2 * (1 + rng.below(3) as usize), 2 * (1 + rng.below(3) as usize)];
        let x = rand_i16(&mut rng, dims, -2, 2); // small range: many ties
        let (y, arg) = pool_fwd(&x).unwrap();
        for b in 0..dims[0] { for c in 0..dims[1] { for oy in 0..dims[2] / 2 { for ox in 0..dims[3] / 2 {
            let win: Vec<i16> = (0..4).map(|j| x[[b, c, 2 * oy + j / 2, 2 * ox + j % 2]]).collect();
            let max = *win.iter().max().unwrap();
            let first = win.iter().position(|&v| v == max).unwrap() as u8;
            prop_assert_eq!(y[[b, c, oy, ox]], max);
            prop_assert_eq!(arg[[b, c, oy, ox]], first, "window {:?}", win);
        }}}}
    }

    /// POOL_BWD puts each gradient on its argmax position and zeros
    /// elsewhere, so the gradient sum is preserved.
    #[test]
    fn pool_bwd_gradient_lands_on_argmax(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let dims = [1 + rng.below(2) as usize, 1 + rng.below(3) as usize, 1 + rng.below(3) as usize, 1 + rng.below(3) as usize];
        let dy = rand_i16(&mut rng, dims, -100, 100);
        let arg = Tensor4::from_fn(dims, |_| rng.below(4) as u8);
        let dx = pool_bwd(&dy, &arg).unwrap();
        let sum = |t: &Tensor4<i16>| t.data().iter().map(|&v| i64::from(v)).sum::<i64>();
        prop_assert_eq!(sum(&dx), sum(&dy));
        for b in 0..dims[0] { for c in 0..dims[1] { for oy in 0..dims[2] { for ox in 0..dims[3] {
            let (ay, ax) = argmax_offset(arg[[b, c, oy, ox]]);
            for dyy in 0..2 { for dxx in 0..2 {
                let v = dx[[b, c, 2 * oy + dyy, 2 * ox + dxx]];
                let want = if (dyy, dxx) == (ay, ax) { dy[[b, c, oy, ox]] } else { 0 };
                prop_assert_eq!(v, want);
            }}
        }}}}
    }
}

/// The audit lists exactly the sums outside ACC_W, and the result is the
/// wrapped sum (accumulators wrap, never saturate).
#[test]
fn audit_reports_every_overflow_and_wraps() {
    let mut rng = Rng::new(5);
    let x = rand_i16(&mut rng, [1, 16, 4, 4], 20000, 32767);
    let mut w = rand_i16(&mut rng, [2, 16, 3, 3], 20000, 32767);
    for v in &mut w.data_mut()[144..] {
        *v = -*v / 64; // channel 1: small negative sums that fit
    }
    let p = FpParams {
        pad: 1,
        s_out: 0,
        relu: false,
        acc_w: 32,
    };
    let (y, audit) = conv_fp(&x, &w, &p).unwrap();
    let xf = x.map(f64::from);
    let wf = w.map(f64::from);
    let exact = conv_f64(&xf, &wf, 1);
    let mut want = Vec::new();
    for (i, &e) in exact.data().iter().enumerate() {
        let e = e as i128;
        if !fits(e, 32) {
            want.push(i);
        }
        let wrapped = sx(e as i64, 32);
        assert_eq!(
            i64::from(y.data()[i]),
            wrapped.clamp(-32768, 32767),
            "element {i}"
        );
    }
    assert!(!want.is_empty() && want.len() < y.len());
    assert_eq!(audit.sums, y.len() as u64);
    let got: Vec<usize> = audit.overflows.iter().map(|o| y.offset(o.index)).collect();
    assert_eq!(got, want);
    assert!(
        audit
            .overflows
            .iter()
            .all(|o| o.exact == exact[o.index] as i128)
    );
}

/// Shape errors are reported, not panics.
#[test]
fn mismatched_shapes_are_errors() {
    let x = Tensor4::<i16>::zeros([1, 2, 4, 4]);
    let w = Tensor4::<i16>::zeros([1, 3, 3, 3]);
    let p = FpParams {
        pad: 1,
        s_out: 0,
        relu: false,
        acc_w: 32,
    };
    assert!(conv_fp(&x, &w, &p).is_err());
    assert!(pool_fwd(&Tensor4::<i16>::zeros([1, 1, 3, 4])).is_err());
    assert!(pool_bwd(&Tensor4::zeros([1, 1, 2, 2]), &Tensor4::zeros([1, 1, 2, 3])).is_err());
}
