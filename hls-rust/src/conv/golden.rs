//! The golden model: the spec's formulas as plain naive loops on NCHW/MNKK
//! tensors, with exact (i128) sums.
//!
//! Every sum is computed exactly and then wrapped with
//! [`sx`](super::fixed::sx), so the result cannot depend on the loop order,
//! and each function returns an [`Audit`] listing every exact sum that fell
//! outside the accumulator range (a wrap is bit-exact, but it means the host
//! picked bad scales).
//!
//! ```
//! use hls_rust::conv::golden::{conv_fp, FpParams};
//! use hls_rust::conv::Tensor4;
//!
//! // 1x1 convolution of a 1x1x1x2 image with weight 2 (both with 1 fraction bit).
//! let x = Tensor4::from_vec([1, 1, 1, 2], vec![3i16, -4]).unwrap();
//! let w = Tensor4::from_vec([1, 1, 1, 1], vec![4i16]).unwrap();
//! let p = FpParams { pad: 0, s_out: 1, relu: true, acc_w: 32 };
//! let (y, audit) = conv_fp(&x, &w, &p).unwrap();
//! assert_eq!(y.data(), &[6, 0]); // 1.5 * 2.0 = 3.0; ReLU(-4.0) = 0
//! assert!(audit.is_clean());
//! ```

use super::desc::Op;
use super::fixed::{fits, rs, sat16, sgd_step, sx};
use super::tensor::{ShapeError, Tensor4};

/// One accumulator whose exact sum did not fit the accumulator width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow {
    /// Index of the output element (`[b, c, y, x]`, or `[m, n, ky, kx]` for WU).
    pub index: [usize; 4],
    /// The exact sum.
    pub exact: i128,
}

/// The overflow audit of one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    /// The operation audited.
    pub op: Op,
    /// The accumulator width checked against (ACC_W, or ACC_W_WU for WU).
    pub acc_w: u32,
    /// Number of sums checked.
    pub sums: u64,
    /// Every sum outside the `acc_w`-bit range, in output order.
    pub overflows: Vec<Overflow>,
}

impl Audit {
    fn new(op: Op, acc_w: u32) -> Self {
        Self {
            op,
            acc_w,
            sums: 0,
            overflows: Vec::new(),
        }
    }

    /// Checks one exact sum and returns it wrapped to the accumulator width.
    fn wrap(&mut self, index: [usize; 4], exact: i128) -> i64 {
        self.sums += 1;
        if !fits(exact, self.acc_w) {
            self.overflows.push(Overflow { index, exact });
        }
        // Wrapping modulo 2^acc_w (acc_w <= 64) only needs the low 64 bits.
        sx(exact as i64, self.acc_w)
    }

    /// True when no sum overflowed.
    pub fn is_clean(&self) -> bool {
        self.overflows.is_empty()
    }
}

/// Numerics of a forward convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FpParams {
    /// Zero padding on each side (0..K).
    pub pad: usize,
    /// Right shift from the accumulator to the output scale.
    pub s_out: u32,
    /// Apply ReLU on write-back.
    pub relu: bool,
    /// Accumulator width ACC_W.
    pub acc_w: u32,
}

/// Numerics of a backward (input-gradient) convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BpParams {
    /// The forward layer's zero padding (BP pads the gradient by K-1-pad).
    pub pad: usize,
    /// Right shift from the accumulator to the gradient scale.
    pub s_out: u32,
    /// Accumulator width ACC_W.
    pub acc_w: u32,
}

/// Numerics of a weight update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WuParams {
    /// The forward layer's zero padding.
    pub pad: usize,
    /// Right shift applied to every product before it is summed.
    pub g_pre: u32,
    /// Learning-rate mantissa (unsigned, below 2^15).
    pub lr_mant: u16,
    /// Learning-rate shift (0..=63).
    pub lr_shift: u8,
    /// Gradient accumulator width ACC_W_WU.
    pub acc_w_wu: u32,
}

/// Result of [`conv_wu`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WuResult {
    /// The wrapped weight gradient `g` (`[M, N, K, K]`).
    pub grad: Tensor4<i64>,
    /// Updated master weights.
    pub master: Tensor4<i32>,
    /// Updated working weights `sat16(rs(master', MF))`.
    pub w16: Tensor4<i16>,
    /// Overflow audit of the gradient sums against ACC_W_WU.
    pub audit: Audit,
}

/// Output size of a stride-1 convolution, if positive.
pub fn conv_out(size: usize, k: usize, pad: usize) -> Option<usize> {
    (size + 2 * pad).checked_sub(k).map(|v| v + 1)
}

fn err<T>(msg: String) -> Result<T, ShapeError> {
    Err(ShapeError(msg))
}

/// Checks a weight tensor `[M, N, K, K]` and padding; returns `(M, N, K)`.
fn weight_dims(w: &Tensor4<impl Sized>, pad: usize) -> Result<(usize, usize, usize), ShapeError> {
    let [m, n, k, k2] = w.dims();
    if k != k2 || k == 0 {
        return err(format!(
            "weights {:?} are not [M, N, K, K] with K >= 1",
            w.dims()
        ));
    }
    if pad >= k {
        return err(format!("pad {pad} must be below K = {k}"));
    }
    Ok((m, n, k))
}

/// Input pixel `pos + off - pad` if inside `0..size`.
#[inline]
fn tap(pos: usize, off: usize, pad: usize, size: usize) -> Option<usize> {
    (pos + off).checked_sub(pad).filter(|&v| v < size)
}

/// FP: `y = sat16(rs(sx(sum w * xpad, ACC_W), s_out))`, then ReLU if asked.
///
/// `x` is `[B, N, H, W]`, `w` is `[M, N, K, K]`; returns `[B, M, Ho, Wo]`
/// with `Ho = H + 2 pad - K + 1`.
pub fn conv_fp(
    x: &Tensor4<i16>,
    w: &Tensor4<i16>,
    p: &FpParams,
) -> Result<(Tensor4<i16>, Audit), ShapeError> {
    let (m_, n_, k) = weight_dims(w, p.pad)?;
    let [b_, n, h, wd] = x.dims();
    if n != n_ {
        return err(format!("input has {n} channels, weights expect {n_}"));
    }
    let (Some(ho), Some(wo)) = (conv_out(h, k, p.pad), conv_out(wd, k, p.pad)) else {
        return err(format!(
            "input {h}x{wd} too small for K = {k}, pad {}",
            p.pad
        ));
    };
    let mut audit = Audit::new(Op::Fp, p.acc_w);
    let mut y = Tensor4::zeros([b_, m_, ho, wo]);
    for b in 0..b_ {
        for m in 0..m_ {
            for oy in 0..ho {
                for ox in 0..wo {
                    let mut s = 0i128;
                    for c in 0..n {
                        for ky in 0..k {
                            for kx in 0..k {
                                if let (Some(iy), Some(ix)) =
                                    (tap(oy, ky, p.pad, h), tap(ox, kx, p.pad, wd))
                                {
                                    s += i128::from(w[[m, c, ky, kx]])
                                        * i128::from(x[[b, c, iy, ix]]);
                                }
                            }
                        }
                    }
                    let acc = audit.wrap([b, m, oy, ox], s);
                    let v = sat16(rs(acc, p.s_out));
                    y[[b, m, oy, ox]] = if p.relu { v.max(0) } else { v };
                }
            }
        }
    }
    Ok((y, audit))
}

/// BP: `dx = sat16(rs(sx(sum w[m][n][K-1-ky][K-1-kx] * dOpad[..], ACC_W), s_out))`,
/// the gradient padded by `K-1-pad`; with `act_in`, `dx = act_in > 0 ? dx : 0`.
///
/// `dout` is `[B, M, Ho, Wo]`, `w` the forward `[M, N, K, K]`; returns
/// `[B, N, H, W]` with `H = Ho - 2 pad + K - 1`.
pub fn conv_bp(
    dout: &Tensor4<i16>,
    w: &Tensor4<i16>,
    act_in: Option<&Tensor4<i16>>,
    p: &BpParams,
) -> Result<(Tensor4<i16>, Audit), ShapeError> {
    let (m_, n_, k) = weight_dims(w, p.pad)?;
    let [b_, m, ho, wo] = dout.dims();
    if m != m_ {
        return err(format!("gradient has {m} channels, weights have M = {m_}"));
    }
    let q = k - 1 - p.pad;
    let (Some(h), Some(wd)) = (conv_out(ho, k, q), conv_out(wo, k, q)) else {
        return err(format!(
            "gradient {ho}x{wo} too small for K = {k}, pad {}",
            p.pad
        ));
    };
    if let Some(a) = act_in
        && a.dims() != [b_, n_, h, wd]
    {
        return err(format!(
            "act_in is {:?}, expected {:?}",
            a.dims(),
            [b_, n_, h, wd]
        ));
    }
    let mut audit = Audit::new(Op::Bp, p.acc_w);
    let mut dx = Tensor4::zeros([b_, n_, h, wd]);
    for b in 0..b_ {
        for n in 0..n_ {
            for y in 0..h {
                for x in 0..wd {
                    let mut s = 0i128;
                    for c in 0..m {
                        for ky in 0..k {
                            for kx in 0..k {
                                if let (Some(gy), Some(gx)) = (tap(y, ky, q, ho), tap(x, kx, q, wo))
                                {
                                    s += i128::from(w[[c, n, k - 1 - ky, k - 1 - kx]])
                                        * i128::from(dout[[b, c, gy, gx]]);
                                }
                            }
                        }
                    }
                    let acc = audit.wrap([b, n, y, x], s);
                    let v = sat16(rs(acc, p.s_out));
                    let keep = act_in.is_none_or(|a| a[[b, n, y, x]] > 0);
                    dx[[b, n, y, x]] = if keep { v } else { 0 };
                }
            }
        }
    }
    Ok((dx, audit))
}

/// WU: `g = sx(sum_{b,y,x} rs(dO * xpad, g_pre), ACC_W_WU)`, then the fused SGD
/// step ([`sgd_step`]) on the int32 master weights.
///
/// `x` is the forward input `[B, N, H, W]`, `dout` the output gradient
/// `[B, M, Ho, Wo]`, `master` is `[M, N, K, K]`.
pub fn conv_wu(
    x: &Tensor4<i16>,
    dout: &Tensor4<i16>,
    master: &Tensor4<i32>,
    p: &WuParams,
) -> Result<WuResult, ShapeError> {
    let (m_, n_, k) = weight_dims(master, p.pad)?;
    let [b_, n, h, wd] = x.dims();
    let (Some(ho), Some(wo)) = (conv_out(h, k, p.pad), conv_out(wd, k, p.pad)) else {
        return err(format!(
            "input {h}x{wd} too small for K = {k}, pad {}",
            p.pad
        ));
    };
    if n != n_ || dout.dims() != [b_, m_, ho, wo] {
        return err(format!(
            "x {:?} and dO {:?} do not match master weights {:?}",
            x.dims(),
            dout.dims(),
            master.dims()
        ));
    }
    let mut audit = Audit::new(Op::Wu, p.acc_w_wu);
    let mut grad = Tensor4::zeros(master.dims());
    let mut new_master = master.clone();
    let mut w16 = Tensor4::zeros(master.dims());
    for m in 0..m_ {
        for c in 0..n {
            for ky in 0..k {
                for kx in 0..k {
                    let mut s = 0i128;
                    for b in 0..b_ {
                        for oy in 0..ho {
                            for ox in 0..wo {
                                if let (Some(iy), Some(ix)) =
                                    (tap(oy, ky, p.pad, h), tap(ox, kx, p.pad, wd))
                                {
                                    let prod = i64::from(dout[[b, m, oy, ox]])
                                        * i64::from(x[[b, c, iy, ix]]);
                                    s += i128::from(rs(prod, p.g_pre));
                                }
                            }
                        }
                    }
                    let i = [m, c, ky, kx];
                    let g = audit.wrap(i, s);
                    let (mm, ww) = sgd_step(g, master[i], p.lr_mant, p.lr_shift);
                    grad[i] = g;
                    new_master[i] = mm;
                    w16[i] = ww;
                }
            }
        }
    }
    Ok(WuResult {
        grad,
        master: new_master,
        w16,
        audit,
    })
}

/// Offsets `(dy, dx)` of the 2-bit argmax code `dy * 2 + dx`.
pub fn argmax_offset(code: u8) -> (usize, usize) {
    (usize::from((code >> 1) & 1), usize::from(code & 1))
}

fn pool_dims(x: &Tensor4<impl Sized>) -> Result<[usize; 4], ShapeError> {
    let [b, c, h, w] = x.dims();
    if !h.is_multiple_of(2) || !w.is_multiple_of(2) || h == 0 || w == 0 {
        return err(format!(
            "2x2 pooling needs even, nonzero H and W, got {h}x{w}"
        ));
    }
    Ok([b, c, h / 2, w / 2])
}

/// POOL_FWD: 2x2 stride-2 max; the first maximum in row-major order wins
/// (strict `>`). Returns the pooled tensor and the argmax codes (`dy*2+dx`).
pub fn pool_fwd(x: &Tensor4<i16>) -> Result<(Tensor4<i16>, Tensor4<u8>), ShapeError> {
    let d = pool_dims(x)?;
    let mut y = Tensor4::zeros(d);
    let mut arg = Tensor4::zeros(d);
    for b in 0..d[0] {
        for c in 0..d[1] {
            for oy in 0..d[2] {
                for ox in 0..d[3] {
                    let mut best = (x[[b, c, 2 * oy, 2 * ox]], 0u8);
                    for code in 1..4u8 {
                        let (dy, dx) = argmax_offset(code);
                        let v = x[[b, c, 2 * oy + dy, 2 * ox + dx]];
                        if v > best.0 {
                            best = (v, code);
                        }
                    }
                    y[[b, c, oy, ox]] = best.0;
                    arg[[b, c, oy, ox]] = best.1;
                }
            }
        }
    }
    Ok((y, arg))
}

/// POOL_BWD: each gradient goes to its argmax position, zeros elsewhere.
/// `dy` and `argmax` are `[B, C, H/2, W/2]`; returns `[B, C, H, W]`.
pub fn pool_bwd(dy: &Tensor4<i16>, argmax: &Tensor4<u8>) -> Result<Tensor4<i16>, ShapeError> {
    if dy.dims() != argmax.dims() {
        return err(format!(
            "gradient {:?} and argmax {:?} differ",
            dy.dims(),
            argmax.dims()
        ));
    }
    let [b_, c_, ho, wo] = dy.dims();
    let mut dx = Tensor4::zeros([b_, c_, 2 * ho, 2 * wo]);
    for b in 0..b_ {
        for c in 0..c_ {
            for oy in 0..ho {
                for ox in 0..wo {
                    let (ddy, ddx) = argmax_offset(argmax[[b, c, oy, ox]]);
                    dx[[b, c, 2 * oy + ddy, 2 * ox + ddx]] = dy[[b, c, oy, ox]];
                }
            }
        }
    }
    Ok(dx)
}
