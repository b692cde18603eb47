//! The optional requantization stage.

use super::TlmmError;

/// The optional requant stage (off by default in the RTL):
/// `q = clamp((out * MULT + (SH > 0 ? 1 << (SH-1) : 0)) >>> SH, OUT_MIN, OUT_MAX)`
/// with a signed 16-bit `MULT`, `SH` in `0..=31`, a 48-bit product and an
/// arithmetic shift (round half up).
///
/// The 48-bit intermediate never overflows: `|out * MULT| <= 2^46` and the
/// rounding term is at most `2^30`.
///
/// ```
/// use hls_rust::tlmm::Requant;
/// let rq = Requant::new(3, 2, -128, 127)?;
/// assert_eq!(rq.apply(5), 4); // 15 / 4 = 3.75
/// assert_eq!(rq.apply(-2), -1); // -6 / 4 = -1.5 rounds up to -1
/// assert_eq!(rq.apply(1000), 127);
/// # Ok::<(), hls_rust::tlmm::TlmmError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Requant {
    mult: i16,
    shift: u32,
    out_min: i32,
    out_max: i32,
}

impl Requant {
    /// The stage with `MULT = mult`, `SH = shift`, clamped to
    /// `out_min..=out_max`; an error if `shift > 31` or `out_min > out_max`.
    pub fn new(mult: i16, shift: u32, out_min: i32, out_max: i32) -> Result<Requant, TlmmError> {
        if shift > 31 {
            return Err(TlmmError::Requant(format!(
                "SH = {shift} is outside 0..=31"
            )));
        }
        if out_min > out_max {
            return Err(TlmmError::Requant(format!(
                "OUT_MIN = {out_min} is above OUT_MAX = {out_max}"
            )));
        }
        Ok(Requant {
            mult,
            shift,
            out_min,
            out_max,
        })
    }

    /// `MULT`.
    pub fn mult(&self) -> i16 {
        self.mult
    }

    /// `SH`.
    pub fn shift(&self) -> u32 {
        self.shift
    }

    /// `OUT_MIN`.
    pub fn out_min(&self) -> i32 {
        self.out_min
    }

    /// `OUT_MAX`.
    pub fn out_max(&self) -> i32 {
        self.out_max
    }

    /// The requantized value of one result.
    pub fn apply(&self, out: i32) -> i32 {
        let round = if self.shift > 0 {
            1i64 << (self.shift - 1)
        } else {
            0
        };
        let q = (i64::from(out) * i64::from(self.mult) + round) >> self.shift;
        // The clamp bounds are i32, so the clamped value fits.
        q.clamp(i64::from(self.out_min), i64::from(self.out_max)) as i32
    }
}
