//! The BitNet b1.58 quantizers (host side: floats never reach the RTL).
//!
//! - Weights, per tensor: `gamma = mean(|W|)`, `s_w = 1 / max(gamma, 1e-5)`,
//!   `W_t = clamp(round_ties_even(W * s_w), -1, 1)`.
//! - Activations, per token: `s_x = 127 / max(max|x|, 1e-5)`,
//!   `x_q = clamp(round_ties_even(x * s_x), -128, 127)`.
//! - Output: `y = (y_int as f32) / s_x * gamma`.
//!
//! Every operation is a single f32 operation in the order written, so the
//! results are bit-exact and reproducible. The mean is a sequential f32 sum
//! of `|w|` in index order divided by the count (as f32).
//!
//! ```
//! use hls_rust::tlmm::quant::{dequantize, quantize_activations_absmax, quantize_weights_absmean};
//! let (w, gamma) = quantize_weights_absmean(&[0.4, -1.2, 0.05, 0.75]);
//! assert_eq!(gamma, 0.6);
//! assert_eq!(w, [1, -1, 0, 1]);
//! let (x, s_x) = quantize_activations_absmax(&[0.5, -1.0, 0.25]);
//! assert_eq!(s_x, 127.0);
//! assert_eq!(x, [64, -127, 32]); // 63.5 and 31.75 round to even / nearest
//! assert_eq!(dequantize(254, s_x, gamma), 254.0 / 127.0 * 0.6);
//! ```

/// Floor of the scale denominators, `1e-5`.
pub const EPS: f32 = 1e-5;

/// The per-tensor absmean weight quantizer: the ternary weights and
/// `gamma = mean(|w|)` (0 for an empty slice).
pub fn quantize_weights_absmean(w: &[f32]) -> (Vec<i8>, f32) {
    let gamma = absmean(w);
    let s_w = 1.0 / gamma.max(EPS);
    let q = w.iter().map(|&v| ternarize(v, s_w)).collect();
    (q, gamma)
}

/// `mean(|w|)`: a sequential f32 sum in index order, divided by the count
/// as f32; 0 for an empty slice.
pub fn absmean(w: &[f32]) -> f32 {
    if w.is_empty() {
        return 0.0;
    }
    let sum: f32 = w.iter().fold(0.0, |acc, v| acc + v.abs());
    sum / w.len() as f32
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
