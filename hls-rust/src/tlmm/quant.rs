//! The BitNet b1.58 quantizers (host side: floats never reach the RTL).
//!
//! - Weights, per tensor: `gamma = mean(|W|)` (correctly rounded, see
//!   [`absmean`]), `s_w = 1 / max(gamma, 1e-5)`,
//!   `W_t = clamp(round_ties_even(W * s_w), -1, 1)`.
//! - Activations, per token: `s_x = 127 / max(max|x|, 1e-5)`,
//!   `x_q = clamp(round_ties_even(x * s_x), -128, 127)`.
//! - Output: `y = (y_int as f32) / s_x * gamma`.
//!
//! `gamma` is the exact mean of `|W|` rounded once to the nearest f32 (ties
//! to even), so it does not depend on summation order and equals what an
//! exact computation in any language gives. Every other step is a single f32
//! operation in the order written. The results are bit-exact and
//! reproducible.
//!
//! The `*_with_scale` functions quantize with a scale chosen elsewhere (a
//! checkpoint's `gamma`, a calibrated activation scale) and check it.
//!
//! ```
//! use hls_rust::tlmm::quant::{
//!     dequantize, quantize_activations_absmax, quantize_weights_absmean,
//!     quantize_weights_with_scale,
//! };
//! let (w, gamma) = quantize_weights_absmean(&[0.4, -1.2, 0.05, 0.75]);
//! assert_eq!(gamma, 0.6);
//! assert_eq!(w, [1, -1, 0, 1]);
//! assert_eq!(quantize_weights_with_scale(&[0.4, -1.2, 0.05, 0.75], 0.6)?, w);
//! let (x, s_x) = quantize_activations_absmax(&[0.5, -1.0, 0.25]);
//! assert_eq!(s_x, 127.0);
//! assert_eq!(x, [64, -127, 32]); // 63.5 and 31.75 round to even / nearest
//! assert_eq!(dequantize(254, s_x, gamma), 254.0 / 127.0 * 0.6);
//! # Ok::<(), hls_rust::tlmm::quant::QuantError>(())
//! ```

/// Floor of the scale denominators, `1e-5`.
pub const EPS: f32 = 1e-5;

/// A scale passed to a `*_with_scale` quantizer that cannot be used, or
/// activations that do not match their scales.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum QuantError {
    /// The weight scale is NaN, infinite, zero or negative.
    #[error(
        "weight scale gamma = {0:?} must be finite and > 0 \
         (it is mean(|W|) of the tensor: compute it with quant::absmean)"
    )]
    WeightScale(f32),
    /// An activation scale is NaN, infinite, zero or negative.
    #[error(
        "activation scale s_x = {value:?} of token {token} must be finite and > 0 \
         (it is 127 / max|x| of the token: compute it with quant::absmax_scale)"
    )]
    ActivationScale {
        /// The token (row) whose scale it is, from 0.
        token: usize,
        /// The scale.
        value: f32,
    },
    /// The activations do not split into one equal-length row per scale.
    #[error(
        "{len} activations do not split into {tokens} tokens of equal length; \
         pass x row-major with one scale per row"
    )]
    Tokens {
        /// Number of activations.
        len: usize,
        /// Number of scales.
        tokens: usize,
    },
}

/// The per-tensor absmean weight quantizer: the ternary weights and
/// `gamma =` [`absmean`]`(w)` (0 for an empty or all-zero slice, whose
/// weights are all 0).
pub fn quantize_weights_absmean(w: &[f32]) -> (Vec<i8>, f32) {
    let gamma = absmean(w);
    (ternarize_all(w, gamma), gamma)
}

/// The ternary weights of `w` at a given scale `gamma`:
/// `clamp(round_ties_even(w * s_w), -1, 1)` with `s_w = 1 / max(gamma, 1e-5)`,
/// as in [`quantize_weights_absmean`] (which is this with `gamma = absmean(w)`).
///
/// An error if `gamma` is NaN, infinite, zero or negative. (An all-zero
/// tensor has `absmean` 0: quantize it with [`quantize_weights_absmean`].)
///
/// ```
/// use hls_rust::tlmm::quant::{QuantError, quantize_weights_with_scale};
/// assert_eq!(quantize_weights_with_scale(&[0.3, -0.1, 2.0], 0.5)?, [1, 0, 1]);
/// assert_eq!(quantize_weights_with_scale(&[0.3], 0.0), Err(QuantError::WeightScale(0.0)));
/// # Ok::<(), QuantError>(())
/// ```
pub fn quantize_weights_with_scale(w: &[f32], gamma: f32) -> Result<Vec<i8>, QuantError> {
    if !(gamma.is_finite() && gamma > 0.0) {
        return Err(QuantError::WeightScale(gamma));
    }
    Ok(ternarize_all(w, gamma))
}

fn ternarize_all(w: &[f32], gamma: f32) -> Vec<i8> {
    let s_w = 1.0 / gamma.max(EPS);
    w.iter().map(|&v| ternarize(v, s_w)).collect()
}

/// `mean(|w|)`, correctly rounded: the exact real number
/// `(|w[0]| + ... + |w[n-1]|) / n` rounded to the nearest f32, ties to even.
/// 0 for an empty slice; NaN if any element is NaN, else infinity if any is
/// infinite.
///
/// The sum is exact (every f32 is an integer multiple of `2^-149`, so the
/// magnitudes are added as integers, binned by exponent) and the quotient is
/// rounded once; the result does not depend on the order of `w`.
///
/// With NumPy, `np.float32(np.abs(W.astype(np.float64)).sum() / W.size)`
/// agrees on ordinary weights (600 of 600 random tensors of 37 to 147,456
/// elements, some spanning 60 decades) but rounds up to three times (the
/// f64 sum, the division, the conversion), so it can be one ulp off on
/// contrived ones: `[2 + 2^-22, 1, 1, 2^-100]` gives 1.0 there and
/// `1 + 2^-23` here. (`np.abs(W).mean()`, an f32 sum, disagreed on 229 of
/// the 600.) An exact equivalent, with Python's `fractions`:
///
/// ```python
/// from fractions import Fraction
/// import numpy as np
///
/// def absmean(W):
///     a = np.abs(np.asarray(W, np.float32)).ravel()
///     if a.size == 0:
///         return np.float32(0)
///     q = sum(map(Fraction, a.astype(np.float64).tolist()), Fraction(0)) / a.size
///     f = np.float32(float(q))  # within one ulp of the answer
///     up, down = np.nextafter(f, np.float32(np.inf)), np.nextafter(f, np.float32(0))
///     # nearest of the three, ties to the even bit pattern
///     return min((down, f, up), key=lambda c: (abs(Fraction(float(c)) - q), int(c.view(np.uint32)) & 1))
/// ```
///
/// (for finite `W`).
///
/// ```
/// use hls_rust::tlmm::quant::absmean;
/// assert_eq!(absmean(&[0.4, -1.2, 0.05, 0.75]), 0.6);
/// // Small terms count next to large ones: an f32 sum rounds 2^24 + 1 back
/// // to 2^24 twice and gives 5_592_405.5.
/// assert_eq!(absmean(&[16_777_216.0, 1.0, -1.0]), 5_592_406.0);
/// // The order does not matter.
/// assert_eq!(absmean(&[1e30, 1.0, -1e30, 3.0]), absmean(&[3.0, -1e30, 1.0, 1e30]));
/// ```
pub fn absmean(w: &[f32]) -> f32 {
    if w.is_empty() {
        return 0.0;
    }
    // One bin per biased exponent E: the sum of the integer significands of
    // the |w| with that exponent. |w| = sig * 2^(max(E, 1) - 150).
    // A chunk of at most 2^32 - 1 significands (< 2^24 each) fits a u64 bin.
    let mut total = Wide::ZERO;
    for chunk in w.chunks(u32::MAX as usize) {
        let mut bins = [0u64; 256];
        for &v in chunk {
            let bits = v.to_bits() & 0x7fff_ffff;
            let e = (bits >> 23) as usize;
            let implicit = if e == 0 { 0 } else { 1 << 23 };
            bins[e] += u64::from((bits & 0x007f_ffff) | implicit);
        }
        if bins[255] != 0 {
            // Exponent 255: infinities and NaNs.
            return if w.iter().any(|v| v.is_nan()) {
                f32::NAN
            } else {
                f32::INFINITY
            };
        }
        for (e, &b) in bins.iter().enumerate().take(255) {
            total.add_shifted(b, e.saturating_sub(1) as u32);
        }
    }
    total.div_to_f32(w.len() as u64)
}

/// An unsigned fixed-point number in units of `2^-149`, little-endian
/// 64-bit limbs. A finite f32 magnitude is below `2^128`, i.e. `2^277`
/// units, so the sum of up to `2^64` of them stays below `2^341`: 512 bits
/// never overflow.
#[derive(Clone, Copy)]
struct Wide([u64; 8]);

impl Wide {
    const ZERO: Wide = Wide([0; 8]);

    /// `self += v << shift` (`shift < 256`).
    fn add_shifted(&mut self, v: u64, shift: u32) {
        let (limb, bit) = ((shift / 64) as usize, shift % 64);
        let wide = u128::from(v) << bit;
        let mut carry = 0u128;
        for (i, part) in [wide as u64, (wide >> 64) as u64].into_iter().enumerate() {
            let s = u128::from(self.0[limb + i]) + u128::from(part) + carry;
            self.0[limb + i] = s as u64;
            carry = s >> 64;
        }
        let mut i = limb + 2;
        while carry != 0 {
            let s = u128::from(self.0[i]) + carry;
            self.0[i] = s as u64;
            carry = s >> 64;
            i += 1;
        }
    }

    /// `floor(self / d)` and `self mod d` (`d > 0`).
    fn div_rem(&self, d: u64) -> (Wide, u64) {
        let mut q = Wide::ZERO;
        let mut r = 0u128;
        for i in (0..8).rev() {
            let cur = (r << 64) | u128::from(self.0[i]);
            q.0[i] = (cur / u128::from(d)) as u64;
            r = cur % u128::from(d);
        }
        (q, r as u64)
    }

    /// Number of significant bits (0 for zero).
    fn bits(&self) -> u32 {
        (0..8)
            .rev()
            .find(|&i| self.0[i] != 0)
            .map_or(0, |i| 64 * i as u32 + 64 - self.0[i].leading_zeros())
    }

    /// Bits `lo..lo + 64` as a u64 (bits past the top are 0).
    fn bits_at(&self, lo: u32) -> u64 {
        let (limb, bit) = ((lo / 64) as usize, lo % 64);
        let low = self.0.get(limb).copied().unwrap_or(0) >> bit;
        let high = match (bit, self.0.get(limb + 1)) {
            (0, _) | (_, None) => 0,
            (_, Some(&h)) => h << (64 - bit),
        };
        low | high
    }

    /// True if any of the bits below `lo` is set.
    fn any_below(&self, lo: u32) -> bool {
        let (limb, bit) = ((lo / 64) as usize, lo % 64);
        self.0[..limb].iter().any(|&l| l != 0) || (bit > 0 && self.0[limb] << (64 - bit) != 0)
    }

    /// `self * 2^-149 / d` rounded to the nearest f32, ties to even
    /// (`d > 0`, and the quotient at most `f32::MAX`).
    fn div_to_f32(&self, d: u64) -> f32 {
        let (q, r) = self.div_rem(d);
        // The exact quotient is q + r/d. Keep 24 significant bits of q
        // (f32's precision; below 2^24 units the spacing is one unit, as
        // for subnormals and the lowest binade) and round on the rest.
        let shift = q.bits().saturating_sub(24);
        let kept = q.bits_at(shift);
        let round_up = if shift == 0 {
            // Discarded: r/d, compared with 1/2.
            let (twice, overflow) = r.overflowing_mul(2);
            overflow || twice > d || (twice == d && kept & 1 == 1)
        } else {
            // Discarded: bits shift-1..0 of q, then r/d.
            let half = q.bits_at(shift - 1) & 1 == 1;
            let rest = q.any_below(shift - 1) || r != 0;
            half && (rest || kept & 1 == 1)
        };
        let sig = kept + u64::from(round_up); // at most 2^24
        // sig * 2^(shift - 149): exact in f64 (25 bits, exponent in range),
        // and then exactly representable in f32.
        let scale = f64::from_bits(((1023 + i64::from(shift) - 149) as u64) << 52);
        (sig as f64 * scale) as f32
    }
}

/// `clamp(round_ties_even(v * s_w), -1, 1)`.
pub fn ternarize(v: f32, s_w: f32) -> i8 {
    (v * s_w).round_ties_even().clamp(-1.0, 1.0) as i8
}

/// The per-token absmax activation quantizer: the int8 activations and
/// `s_x = 127 / max(max|x|, 1e-5)`.
///
/// Quantize each token (row of a matrix) with its own call. A NaN in `x`
/// quantizes to 0 and is ignored by the maximum.
pub fn quantize_activations_absmax(x: &[f32]) -> (Vec<i8>, f32) {
    let s_x = absmax_scale(x);
    let q = x.iter().map(|&v| quantize_i8(v, s_x)).collect();
    (q, s_x)
}

/// The int8 activations of one token at a given scale `s_x`:
/// `clamp(round_ties_even(x * s_x), -128, 127)`, as in
/// [`quantize_activations_absmax`] (which is this with
/// `s_x = absmax_scale(x)`). Values beyond `127 / s_x` saturate.
///
/// An error if `s_x` is NaN, infinite, zero or negative.
///
/// ```
/// use hls_rust::tlmm::quant::quantize_activations_with_scale;
/// // A calibrated scale of 127 / 2: 3.0 saturates.
/// assert_eq!(quantize_activations_with_scale(&[1.0, -0.5, 3.0], 63.5)?, [64, -32, 127]);
/// # Ok::<(), hls_rust::tlmm::quant::QuantError>(())
/// ```
pub fn quantize_activations_with_scale(x: &[f32], s_x: f32) -> Result<Vec<i8>, QuantError> {
    check_activation_scale(0, s_x)?;
    Ok(x.iter().map(|&v| quantize_i8(v, s_x)).collect())
}

fn check_activation_scale(token: usize, value: f32) -> Result<(), QuantError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(QuantError::ActivationScale { token, value })
    }
}

/// The int8 activations of several tokens at given scales: `x` is
/// row-major with one row per scale (`x.len() / s_x.len()` activations
/// each), and row `t` is quantized with `s_x[t]` as in
/// [`quantize_activations_with_scale`].
///
/// An error if `x` does not split into `s_x.len()` rows of equal length, or
/// if a scale is NaN, infinite, zero or negative (the error names the
/// token).
///
/// ```
/// use hls_rust::tlmm::quant::{QuantError, quantize_activations_per_token};
/// let x = [0.5, -1.0, 2.0, 4.0];
/// assert_eq!(quantize_activations_per_token(&x, &[127.0, 31.75])?, [64, -127, 64, 127]);
/// assert_eq!(
///     quantize_activations_per_token(&x, &[127.0, f32::NAN]).unwrap_err().to_string(),
///     "activation scale s_x = NaN of token 1 must be finite and > 0 \
///      (it is 127 / max|x| of the token: compute it with quant::absmax_scale)"
/// );
/// assert!(matches!(
///     quantize_activations_per_token(&x, &[1.0; 3]),
///     Err(QuantError::Tokens { len: 4, tokens: 3 })
/// ));
/// # Ok::<(), QuantError>(())
/// ```
pub fn quantize_activations_per_token(x: &[f32], s_x: &[f32]) -> Result<Vec<i8>, QuantError> {
    let fits = match s_x.len() {
        0 => x.is_empty(),
        tokens => x.len().is_multiple_of(tokens),
    };
    if !fits {
        return Err(QuantError::Tokens {
            len: x.len(),
            tokens: s_x.len(),
        });
    }
    for (token, &s) in s_x.iter().enumerate() {
        check_activation_scale(token, s)?;
    }
    let k = x.len() / s_x.len().max(1);
    if k == 0 {
        return Ok(Vec::new());
    }
    Ok(x.chunks_exact(k)
        .zip(s_x)
        .flat_map(|(row, &s)| row.iter().map(move |&v| quantize_i8(v, s)))
        .collect())
}

/// `127 / max(max|x|, 1e-5)`.
pub fn absmax_scale(x: &[f32]) -> f32 {
    let max = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    127.0 / max.max(EPS)
}

/// `clamp(round_ties_even(v * s_x), -128, 127)` (NaN gives 0).
pub fn quantize_i8(v: f32, s_x: f32) -> i8 {
    // `as` saturates and maps NaN to 0; the clamp makes the range explicit.
    (v * s_x).round_ties_even().clamp(-128.0, 127.0) as i8
}

/// `y = (y_int as f32) / s_x * gamma`.
pub fn dequantize(y_int: i32, s_x: f32, gamma: f32) -> f32 {
    y_int as f32 / s_x * gamma
}
