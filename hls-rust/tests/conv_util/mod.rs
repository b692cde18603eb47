//! Helpers shared by the `conv_*` tests: random tensors and an f64
//! convolution used as the real-valued reference.
#![allow(dead_code)]

use hls_rust::conv::Tensor4;
use hls_rust::conv::fixed::{dequantize, quantize};
use hls_rust::rng::Rng;

/// Uniform random int16 tensor in `lo..=hi`.
pub fn rand_i16(rng: &mut Rng, dims: [usize; 4], lo: i16, hi: i16) -> Tensor4<i16> {
    let span = (i64::from(hi) - i64::from(lo) + 1) as u64;
    Tensor4::from_fn(dims, |_| (i64::from(lo) + rng.below(span) as i64) as i16)
}

/// Uniform random real tensor in `[lo, hi)`.
pub fn rand_f64(rng: &mut Rng, dims: [usize; 4], lo: f64, hi: f64) -> Tensor4<f64> {
    Tensor4::from_fn(dims, |_| rng.uniform(lo, hi))
}

/// Quantizes a real tensor to `frac` fraction bits.
pub fn q(t: &Tensor4<f64>, frac: i32) -> Tensor4<i16> {
    t.map(|v| quantize(v, frac))
}

/// The real value of an int16 tensor with `frac` fraction bits.
pub fn dq(t: &Tensor4<i16>, frac: i32) -> Tensor4<f64> {
    t.map(|v| dequantize(v.into(), frac))
}

/// f64 stride-1 convolution, `x [B,N,H,W]`, `w [M,N,K,K]`, zero padding `pad`.
pub fn conv_f64(x: &Tensor4<f64>, w: &Tensor4<f64>, pad: usize) -> Tensor4<f64> {
    let [b_, n_, h, wd] = x.dims();
    let [m_, _, k, _] = w.dims();
    let (ho, wo) = (h + 2 * pad + 1 - k, wd + 2 * pad + 1 - k);
    Tensor4::from_fn([b_, m_, ho, wo], |[b, m, y, xx]| {
        let mut s = 0.0;
        for n in 0..n_ {
            for ky in 0..k {
                for kx in 0..k {
                    let (iy, ix) = (y + ky, xx + kx);
                    if iy >= pad && ix >= pad && iy - pad < h && ix - pad < wd {
                        s += w[[m, n, ky, kx]] * x[[b, n, iy - pad, ix - pad]];
                    }
                }
            }
        }
        s
    })
}

/// `sum dO * conv(x, w)`: the loss whose gradients BP and WU compute.
pub fn loss(x: &Tensor4<f64>, w: &Tensor4<f64>, dout: &Tensor4<f64>, pad: usize) -> f64 {
    let y = conv_f64(x, w, pad);
    y.data().iter().zip(dout.data()).map(|(a, b)| a * b).sum()
}

/// A small random conv shape `(B, N, M, H, W, K, pad)`.
pub fn rand_shape(
    rng: &mut Rng,
    max_c: usize,
    max_hw: usize,
) -> (usize, usize, usize, usize, usize, usize, usize) {
    let k: usize = if rng.below(2) == 0 { 1 } else { 3 };
    let pad = rng.below(k as u64) as usize;
    let min_hw = k.saturating_sub(2 * pad).max(1);
    let h = min_hw + rng.below((max_hw + 1 - min_hw) as u64) as usize;
    let w = min_hw + rng.below((max_hw + 1 - min_hw) as u64) as usize;
    let b = 1 + rng.below(2) as usize;
    let n = 1 + rng.below(max_c as u64) as usize;
    let m = 1 + rng.below(max_c as u64) as usize;
    (b, n, m, h, w, k, pad)
}
