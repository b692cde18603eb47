//! The BitNet b1.58 quantizers.

use hls_rust::tlmm::quant::{
    EPS, absmax_scale, dequantize, quantize_activations_absmax, quantize_weights_absmean,
};
use proptest::prelude::*;

#[test]
fn activation_rounding_is_ties_to_even() {
    // max |x| = 127 makes s_x exactly 1, so x * s_x is x.
    let x = [127.0f32, 0.5, 1.5, -2.5, 2.5, -0.5, -1.5, 126.5, 3.5];
    let (q, s_x) = quantize_activations_absmax(&x);
    assert_eq!(s_x, 1.0);
    assert_eq!(q, [127, 0, 2, -2, 2, 0, -2, 126, 4]);
    // Rust's `round` is ties-away and would give 1 for 0.5: not the contract.
    assert_ne!(0.5f32.round() as i8, q[1]);
}

#[test]
fn weight_rounding_is_ties_to_even_then_clamped() {
    // mean |w| = (0.5 + 0.5 + 1.5 + 2.5 + 0 + 1) / 6 = 1, so s_w = 1.
    let w = [0.5f32, -0.5, 1.5, -2.5, 0.0, 1.0];
    let (q, gamma) = quantize_weights_absmean(&w);
    assert_eq!(gamma, 1.0);
    assert_eq!(q, [0, 0, 1, -1, 0, 1]);
}

#[test]
fn scales_are_floored_at_eps() {
    let (q, s_x) = quantize_activations_absmax(&[0.0, 0.0]);
    assert_eq!((q, s_x), (vec![0, 0], 127.0 / EPS));
    let (q, gamma) = quantize_weights_absmean(&[0.0; 4]);
    assert_eq!((q, gamma), (vec![0; 4], 0.0));
    // A tiny tensor: gamma below EPS uses s_w = 1 / EPS.
    let (q, gamma) = quantize_weights_absmean(&[4e-6, -4e-6, 0.0]);
    assert!(gamma < EPS);
    assert_eq!(q, [0, 0, 0]); // 4e-6 / 1e-5 = 0.4
    assert_eq!(quantize_weights_absmean(&[]), (vec![], 0.0));
}

#[test]
fn dequantize_divides_by_s_x_then_multiplies_by_gamma() {
    let (y, s_x, gamma) = (1234i32, 127.0f32 / 3.7, 0.0421f32);
    assert_eq!(
        dequantize(y, s_x, gamma).to_bits(),
        (y as f32 / s_x * gamma).to_bits()
    );
}

proptest! {
    #[test]
    fn absmax_codes_are_in_range_and_the_max_maps_to_127(
        x in proptest::collection::vec(-1e4f32..1e4, 1..64),
    ) {
        let (q, s_x) = quantize_activations_absmax(&x);
        prop_assert_eq!(s_x, absmax_scale(&x));
        prop_assert!(q.iter().all(|&v| v > -128));
        let max = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        if max >= EPS {
            prop_assert_eq!(q.iter().map(|v| v.unsigned_abs()).max(), Some(127));
        }
        for (&xi, &qi) in x.iter().zip(&q) {
            let want = (xi * s_x).round_ties_even().clamp(-128.0, 127.0) as i8;
            prop_assert_eq!(qi, want);
            // Within half a step (plus f32 rounding of the product).
            prop_assert!((xi * s_x - f32::from(qi)).abs() <= 0.5 + 1e-3);
        }
    }

    #[test]
    fn absmean_weights_are_ternary_and_follow_the_formula(
        w in proptest::collection::vec(-3f32..3.0, 1..200),
    ) {
        let (q, gamma) = quantize_weights_absmean(&w);
        let mut sum = 0.0f32;
        for v in &w {
            sum += v.abs();
        }
        prop_assert_eq!(gamma, sum / w.len() as f32);
        let s_w = 1.0 / gamma.max(EPS);
        for (&wi, &qi) in w.iter().zip(&q) {
            prop_assert!((-1..=1).contains(&qi));
            prop_assert_eq!(qi, (wi * s_w).round_ties_even().clamp(-1.0, 1.0) as i8);
        }
    }
}
