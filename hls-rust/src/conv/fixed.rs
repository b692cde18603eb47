//! Fixed-point primitives: the rounding shift `rs`, sign extension `sx`,
//! write-back saturation and the fused SGD step, exactly as the spec defines
//! them. Every other part of [`crate::conv`] builds on these.

/// Extra fraction bits of an int32 master weight over its int16 working copy.
pub const MF: u32 = 16;

/// Round-half-up arithmetic right shift: `s == 0 ? v : (v + 2^(s-1)) >> s`,
/// computed without intermediate overflow.
///
/// Shifts of 64 or more give 0 (the exact rounded quotient of any `i64`).
///
/// ```
/// use hls_rust::conv::fixed::rs;
/// assert_eq!((rs(5, 1), rs(-5, 1), rs(-6, 2), rs(i64::MAX, 1)), (3, -2, -1, 1 << 62));
/// ```
pub fn rs(v: i64, s: u32) -> i64 {
    match s {
        0 => v,
        // floor((v + 2^(s-1)) / 2^s) = floor(v / 2^s) + bit s-1 of v.
        1..=63 => (v >> s) + ((v >> (s - 1)) & 1),
        _ => 0,
    }
}

/// [`rs`] on 128-bit values (used for `g * lr_mant`). Shifts of 128 or more give 0.
pub fn rs_wide(v: i128, s: u32) -> i128 {
    match s {
        0 => v,
        1..=127 => (v >> s) + ((v >> (s - 1)) & 1),
        _ => 0,
    }
}

/// Sign-extends the low `w` bits of `v` (`w` in 1..=64; 64 and above return `v`,
/// 0 returns 0): the value a `w`-bit wrapping accumulator holds.
///
/// ```
/// use hls_rust::conv::fixed::sx;
/// assert_eq!((sx(0x7fff_ffff + 1, 32), sx(-1, 8), sx(300, 8)), (-0x8000_0000, -1, 44));
/// ```
pub fn sx(v: i64, w: u32) -> i64 {
    match w {
        0 => 0,
        1..=63 => (v << (64 - w)) >> (64 - w),
        _ => v,
    }
}

/// True when `v` lies in the range of a `w`-bit two's-complement number
/// (`w` in 1..=127).
pub fn fits(v: i128, w: u32) -> bool {
    let w = w.clamp(1, 127);
    let half = 1i128 << (w - 1);
    (-half..half).contains(&v)
}

/// Clamps to the int16 range.
pub fn sat16(v: i64) -> i16 {
    v.clamp(i16::MIN.into(), i16::MAX.into()) as i16
}

/// Clamps to the int32 range.
pub fn sat32(v: i128) -> i32 {
    v.clamp(i32::MIN.into(), i32::MAX.into()) as i32
}

/// The fused SGD write-back of one weight: given the wrapped weight gradient
/// `g` (already `sx(.., ACC_W_WU)`), returns `(master', w16')` with
/// `delta = rs(g * lr_mant, lr_shift)`, `master' = sat32(master - delta)`,
/// `w16' = sat16(rs(master', MF))`.
///
/// ```
/// use hls_rust::conv::fixed::sgd_step;
/// // lr = 1.0: lr_mant = 1, lr_shift = 0; master 3 << 16 is weight 3.
/// assert_eq!(sgd_step(1 << 16, 3 << 16, 1, 0), (2 << 16, 2));
/// ```
pub fn sgd_step(g: i64, master: i32, lr_mant: u16, lr_shift: u8) -> (i32, i16) {
    let delta = rs_wide(i128::from(g) * i128::from(lr_mant), lr_shift.into());
    let m = sat32(i128::from(master) - delta);
    (m, sat16(rs(m.into(), MF)))
}

/// Host-side quantization: `sat16(floor(x * 2^frac + 1/2))` (round half up,
/// like [`rs`]). Non-finite inputs saturate (NaN gives 0).
pub fn quantize(x: f64, frac: i32) -> i16 {
    let v = (x * 2f64.powi(frac) + 0.5).floor();
    if v.is_nan() {
        0
    } else {
        v.clamp(i16::MIN.into(), i16::MAX.into()) as i16
    }
}

/// Host-side quantization to an int32 master weight with `frac` fraction bits.
pub fn quantize32(x: f64, frac: i32) -> i32 {
    let v = (x * 2f64.powi(frac) + 0.5).floor();
    if v.is_nan() {
        0
    } else {
        v.clamp(i32::MIN.into(), i32::MAX.into()) as i32
    }
}

/// The real value of `q` with `frac` fraction bits: `q * 2^-frac`.
pub fn dequantize(q: i64, frac: i32) -> f64 {
    q as f64 * 2f64.powi(-frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rs_matches_wide_definition() {
        for v in [
            -9i64,
            -8,
            -7,
            -1,
            0,
            1,
            7,
            8,
            9,
            i64::MIN,
            i64::MAX,
            i64::MIN + 1,
        ] {
            for s in 0..70u32 {
                let want = if s == 0 {
                    i128::from(v)
                } else if s < 127 {
                    (i128::from(v) + (1i128 << (s - 1))) >> s
                } else {
                    0
                };
                assert_eq!(i128::from(rs(v, s)), want, "rs({v}, {s})");
                assert_eq!(rs_wide(v.into(), s), want, "rs_wide({v}, {s})");
            }
        }
    }

    #[test]
    fn sx_wraps_modulo() {
        assert_eq!(sx(1 << 40, 40), 0);
        assert_eq!(sx(3 << 39, 40), -(1 << 39));
        assert_eq!(sx((1 << 39) - 1, 40), (1 << 39) - 1);
        assert_eq!(sx(1 << 39, 40), -(1 << 39));
        assert!(fits((1 << 39) - 1, 40) && !fits(1 << 39, 40) && fits(-(1 << 39), 40));
    }

    #[test]
    fn quantize_rounds_half_up_and_saturates() {
        assert_eq!(quantize(0.5, 0), 1);
        assert_eq!(quantize(-0.5, 0), 0);
        assert_eq!(quantize(1e9, 0), i16::MAX);
        assert_eq!(quantize(f64::NAN, 3), 0);
        assert_eq!(sgd_step(0, i32::MIN, 100, 0), (i32::MIN, i16::MIN));
    }
}
