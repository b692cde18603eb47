//! The BitNet b1.58 quantizers.

use hls_rust::tlmm::quant::{
    EPS, QuantError, absmax_scale, absmean, dequantize, quantize_activations_absmax,
    quantize_activations_per_token, quantize_activations_with_scale, quantize_weights_absmean,
    quantize_weights_with_scale,
};
use num_rational::BigRational;
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
    let (q, gamma) = quantize_weights_absmean(&[0.0, -0.0]);
    assert_eq!((q, gamma.to_bits()), (vec![0; 2], 0));
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

/// `Ok` if `gamma` is the exact mean of `|w|` rounded to the nearest f32,
/// ties to even, checked with big rationals: the exact mean lies between
/// the midpoints to gamma's neighbours, and on a midpoint only if gamma's
/// significand is even. Independent of `absmean`'s integer binning.
fn check_correctly_rounded(w: &[f32], gamma: f32) -> Result<(), String> {
    let exact = |v: f32| BigRational::from_float(v).expect("finite");
    let n = BigRational::from_float(w.len() as f64).expect("finite");
    let mean = w
        .iter()
        .map(|v| exact(v.abs()))
        .fold(BigRational::from_float(0.0).unwrap(), |s, v| s + v)
        / n;
    if !(gamma.is_finite() && gamma >= 0.0) {
        return Err(format!("gamma = {gamma:e} for finite w"));
    }
    let two = BigRational::from_float(2.0).unwrap();
    let even = gamma.to_bits() & 1 == 0;
    let g = exact(gamma);
    // Below: the midpoint to the next smaller f32 (0 has none: -2^-150).
    let below = if gamma == 0.0 {
        -exact(f32::from_bits(1)) / two.clone()
    } else {
        (g.clone() + exact(f32::from_bits(gamma.to_bits() - 1))) / two.clone()
    };
    let bad_low = mean < below || (mean == below && !even);
    // Above: the midpoint to the next larger f32 (f32::MAX has none).
    let bad_high = gamma != f32::MAX && {
        let above = (g + exact(f32::from_bits(gamma.to_bits() + 1))) / two;
        mean > above || (mean == above && !even)
    };
    if bad_low || bad_high {
        Err(format!(
            "gamma = {gamma:e} ({:#010x}) is not the nearest f32 to the exact mean {mean}",
            gamma.to_bits()
        ))
    } else {
        Ok(())
    }
}

#[test]
fn absmean_rounds_exact_midpoints_to_even() {
    let one_up = f32::from_bits(1.0f32.to_bits() + 1); // 1 + 2^-23, odd
    let two_up = f32::from_bits(1.0f32.to_bits() + 2); // 1 + 2^-22, even
    // Mean 1 + 2^-24: halfway between 1 (even) and 1 + 2^-23 (odd).
    assert_eq!(absmean(&[1.0, -one_up]), 1.0);
    // Mean 1 + 3 * 2^-24: halfway between 1 + 2^-23 (odd) and 1 + 2^-22 (even).
    assert_eq!(absmean(&[one_up, two_up]), two_up);
    // Three values summing to 3 + 3 * 2^-24: the same midpoint, to 1.0; one
    // ulp more on the smallest (2^-25) is just above it, to the odd one.
    let (a, b, c) = (
        2.0 + 2f32.powi(-22),
        0.5 + 2f32.powi(-24),
        0.5 - 2f32.powi(-23),
    );
    assert_eq!(absmean(&[a, b, c]), 1.0);
    assert_eq!(absmean(&[a, b, f32::from_bits(c.to_bits() + 1)]), one_up);
    // Double rounding: an f64 sum drops the 2^-100 and lands exactly on
    // the midpoint 1 + 2^-24, which ties down to 1.0 (NumPy's
    // `np.float32(np.abs(W.astype(np.float64)).sum() / W.size)` gives 1.0);
    // the exact mean is just above it.
    let w = [2.0 + 2f32.powi(-22), 1.0, 1.0, 2f32.powi(-100)];
    assert_eq!(
        ((w.iter().map(|&v| f64::from(v)).sum::<f64>()) / 4.0) as f32,
        1.0
    );
    assert_eq!(absmean(&w), one_up);
    let tiny = f32::from_bits(1);
    // Subnormal means: 2^-149 / 2 ties to 0, 3 * 2^-149 / 2 ties to 2 * 2^-149.
    assert_eq!(absmean(&[tiny, 0.0]), 0.0);
    assert_eq!(absmean(&[f32::from_bits(3), 0.0]), f32::from_bits(2));
    assert_eq!(absmean(&[tiny, tiny, 0.0]), tiny); // 2/3 of 2^-149
    assert_eq!(absmean(&[tiny, 0.0, 0.0]), 0.0); // 1/3 of 2^-149
}

#[test]
fn absmean_keeps_small_values_next_to_huge_ones() {
    // A sequential f32 sum loses the small terms entirely.
    let mut w = vec![f32::MAX, f32::MAX];
    w.extend(std::iter::repeat_n(1e30f32, 1000));
    let gamma = absmean(&w);
    check_correctly_rounded(&w, gamma).unwrap();
    // The f32 sum overflows to infinity; the exact mean is finite.
    assert!(gamma.is_finite());
    assert_eq!(absmean(&[f32::MAX; 3]), f32::MAX);
    // Cancellation of scale: 2^-40 terms survive next to 1.
    let w = [1.0f32, 2f32.powi(-40), 2f32.powi(-40)];
    check_correctly_rounded(&w, absmean(&w)).unwrap();
}

#[test]
fn absmean_of_non_finite_tensors_is_nan_or_infinity() {
    assert!(absmean(&[1.0, f32::NAN, f32::INFINITY]).is_nan());
    assert!(absmean(&[f32::NAN]).is_nan());
    assert_eq!(absmean(&[1.0, f32::NEG_INFINITY]), f32::INFINITY);
    // As before: NaN gamma gives s_w = 1 / EPS (max ignores NaN).
    let (q, gamma) = quantize_weights_absmean(&[1e-6, f32::NAN, -3e-5]);
    assert!(gamma.is_nan());
    assert_eq!(q, [0, 0, -1]);
}

#[test]
fn given_scales_are_checked() {
    for bad in [
        0.0f32,
        -0.0,
        -1.0,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ] {
        let e = quantize_weights_with_scale(&[1.0], bad).unwrap_err();
        assert!(matches!(e, QuantError::WeightScale(g) if g.to_bits() == bad.to_bits()));
        assert!(e.to_string().contains("absmean"), "{e}");
        let e = quantize_activations_with_scale(&[1.0], bad).unwrap_err();
        assert!(matches!(e, QuantError::ActivationScale { token: 0, .. }));
        let e = quantize_activations_per_token(&[1.0, 2.0, 3.0, 4.0], &[1.0, bad]).unwrap_err();
        assert!(matches!(e, QuantError::ActivationScale { token: 1, .. }));
        assert!(e.to_string().contains("token 1"), "{e}");
    }
    assert_eq!(
        quantize_weights_with_scale(&[1.0], 0.0)
            .unwrap_err()
            .to_string(),
        "weight scale gamma = 0.0 must be finite and > 0 \
         (it is mean(|W|) of the tensor: compute it with quant::absmean)"
    );
    let e = quantize_activations_per_token(&[1.0; 5], &[1.0, 1.0]).unwrap_err();
    assert_eq!(e, QuantError::Tokens { len: 5, tokens: 2 });
    assert!(e.to_string().contains("5 activations"), "{e}");
    assert!(quantize_activations_per_token(&[1.0], &[]).is_err());
    assert_eq!(quantize_activations_per_token(&[], &[]), Ok(vec![]));
    assert_eq!(quantize_activations_per_token(&[], &[1.0, 2.0]), Ok(vec![]));
    // A tiny gamma is floored at EPS as in the absmean quantizer.
    assert_eq!(
        quantize_weights_with_scale(&[4e-6, -6e-6], 1e-9),
        Ok(vec![0, -1])
    );
    // Activations beyond 127 / s_x saturate.
    assert_eq!(
        quantize_activations_with_scale(&[-1e9, 1e9, 0.3], 127.0),
        Ok(vec![-128, 127, 38])
    );
}

/// Finite f32s of every magnitude: random bit patterns, huge and subnormal.
fn any_finite() -> impl Strategy<Value = f32> {
    any::<u32>()
        .prop_map(f32::from_bits)
        .prop_filter("finite", |v| v.is_finite())
}

/// Tensors meant to break a naive mean: every magnitude at once, only
/// subnormals, a few values repeated many times, mostly zeros, narrow bands
/// where the exact mean often sits on or near a rounding midpoint, and
/// ordinary weights.
fn adversarial_tensor() -> impl Strategy<Value = Vec<f32>> {
    use proptest::collection::vec;
    prop_oneof![
        vec(any_finite(), 1..300),
        vec((0u32..0x0080_0000).prop_map(f32::from_bits), 1..300),
        (vec(any_finite(), 1..4), 1usize..2000)
            .prop_map(|(vals, n)| { (0..n).map(|i| vals[i % vals.len()]).collect() }),
        (vec(any_finite(), 1..20), 0usize..3000).prop_map(|(mut v, zeros)| {
            v.extend(std::iter::repeat_n(0.0, zeros));
            v
        }),
        vec(
            (0x3f80_0000u32..0x3f80_0010).prop_map(f32::from_bits),
            1..64
        ),
        // Few values a few ulps apart (normal or subnormal): the exact mean
        // is often a rounding midpoint.
        (
            prop_oneof![Just(0u32), Just(0x3f80_0000), Just(0x0080_0000)],
            vec(0u32..8, 1..8)
        )
            .prop_map(|(base, ks)| ks.iter().map(|k| f32::from_bits(base + k)).collect()),
        vec(-3f32..3.0, 1..2000),
    ]
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
        prop_assert_eq!(gamma.to_bits(), absmean(&w).to_bits());
        let s_w = 1.0 / gamma.max(EPS);
        for (&wi, &qi) in w.iter().zip(&q) {
            prop_assert!((-1..=1).contains(&qi));
            prop_assert_eq!(qi, (wi * s_w).round_ties_even().clamp(-1.0, 1.0) as i8);
        }
        // The same as quantizing with that scale given.
        prop_assert_eq!(quantize_weights_with_scale(&w, gamma), Ok(q));
    }

    /// Property: absmean is the exact mean of |w| rounded to nearest f32,
    /// ties to even (checked with big rationals), whatever the magnitudes.
    #[test]
    fn absmean_is_the_correctly_rounded_exact_mean(w in adversarial_tensor()) {
        let gamma = absmean(&w);
        if let Err(e) = check_correctly_rounded(&w, gamma) {
            prop_assert!(false, "{} (n = {})", e, w.len());
        }
    }

    /// Property: the order of the weights and their signs do not change
    /// gamma by a single bit.
    #[test]
    fn absmean_does_not_depend_on_order_or_sign(
        w in adversarial_tensor(),
        seed in any::<u64>(),
    ) {
        let mut rng = hls_rust::rng::Rng::new(seed);
        let mut shuffled: Vec<f32> = w.iter().map(|&v| if rng.below(2) == 0 { -v } else { v }).collect();
        rng.shuffle(&mut shuffled);
        prop_assert_eq!(absmean(&shuffled).to_bits(), absmean(&w).to_bits());
    }

    /// Property: a tensor of one repeated magnitude has that magnitude as
    /// its mean (a sequential f32 sum drifts).
    #[test]
    fn absmean_of_a_repeated_value_is_that_value(v in any_finite(), n in 1usize..5000) {
        prop_assert_eq!(absmean(&vec![v; n]).to_bits(), v.abs().to_bits());
    }

    /// Property: quantizing tokens with their own absmax scales, given
    /// explicitly, equals quantizing each token by absmax.
    #[test]
    fn per_token_scales_match_absmax_per_row(
        tokens in proptest::collection::vec(proptest::collection::vec(-50f32..50.0, 7), 1..6),
    ) {
        let scales: Vec<f32> = tokens.iter().map(|t| absmax_scale(t)).collect();
        let flat: Vec<f32> = tokens.concat();
        let want: Vec<i8> = tokens.iter().flat_map(|t| quantize_activations_absmax(t).0).collect();
        prop_assert_eq!(quantize_activations_per_token(&flat, &scales), Ok(want));
        let (q0, s0) = quantize_activations_absmax(&tokens[0]);
        prop_assert_eq!(quantize_activations_with_scale(&tokens[0], s0), Ok(q0));
    }
}
