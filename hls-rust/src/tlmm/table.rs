//! The table path and the golden dot product.

use super::code::balanced_ternary;
use super::{
    AccWidth, CodeMatrix, Flags, Grouping, TernaryMatrix, TlmmError, TlmmResult, WeightCode,
};

/// The precomputed table of one group of `G` activations.
///
/// Entry `T[idx]` is the dot product of the activations `b0 .. b(G-1)` with
/// the balanced-ternary digits of `idx`, most significant first, for `idx`
/// in `0..=(3^G - 1) / 2`. For `G = 3`: `T[0] = 0`, `T[1] = b2`,
/// `T[2] = b1 - b2`, `T[3] = b1`, ..., `T[13] = b0 + b1 + b2`. An entry of
/// int8 activations needs `ceil(log2(128 G)) + 1` bits (10 for `G = 3`).
///
/// ```
/// use hls_rust::tlmm::{Grouping, Table, WeightCode};
/// let t = Table::build(Grouping::G3, &[5, -128, 7]);
/// assert_eq!(&t.entries()[..4], &[0, 7, -135, -128]);
/// assert_eq!(t.entries()[13], 5 - 128 + 7);
/// // Code 0b1_0010 is sign = 1, idx = 2: -(b1 - b2).
/// assert_eq!(t.lookup(WeightCode::from_bits(0b1_0010)), Some(135));
/// assert_eq!(t.lookup(WeightCode::from_bits(14)), None); // illegal
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    g: Grouping,
    entries: Vec<i32>,
}

impl Table {
    /// The table of `acts` (`b0` first); fewer than `G` activations are
    /// padded with zeros, more than `G` are ignored.
    pub fn build(g: Grouping, acts: &[i8]) -> Table {
        let entries = (0..=g.max_idx())
            .map(|idx| {
                balanced_ternary(g, idx)
                    .map(|digits| {
                        digits
                            .iter()
                            .zip(acts.iter().take(g.g()))
                            .map(|(&d, &b)| i32::from(d) * i32::from(b))
                            .sum()
                    })
                    .unwrap_or(0)
            })
            .collect();
        Table { g, entries }
    }

    /// The entries `T[0] ..= T[(3^G - 1) / 2]`.
    pub fn entries(&self) -> &[i32] {
        &self.entries
    }

    /// The group size.
    pub fn grouping(&self) -> Grouping {
        self.g
    }

    /// `sign ? -T[idx] : T[idx]`; `None` for an illegal code (the engine
    /// adds 0 and raises [`Flags::ERR_CODE`]).
    pub fn lookup(&self, code: WeightCode) -> Option<i32> {
        if !code.is_legal(self.g) {
            return None;
        }
        let t = self.entries[usize::from(code.idx(self.g))];
        Some(if code.sign(self.g) { -t } else { t })
    }
}

fn check_len(what: &'static str, expected: usize, got: usize) -> Result<(), TlmmError> {
    if expected == got {
        Ok(())
    } else {
        Err(TlmmError::Length {
            what,
            expected,
            got,
        })
    }
}

/// The table path: for each group of `G` activations build a [`Table`], and
/// add to each row's accumulator the lookup of that row's code; the sums are
/// wrapped to `acc_w` bits and sign-extended.
///
/// Flags: [`Flags::ERR_K_RANGE`] when `K > K_EXACT`, [`Flags::ERR_CODE`]
/// when any code is illegal (it contributes 0). An error when `x.len()`
/// is not `K`.
pub fn tlmm_table(codes: &CodeMatrix, x: &[i8], acc_w: AccWidth) -> Result<TlmmResult, TlmmError> {
    check_len("activations", codes.k(), x.len())?;
    let g = codes.grouping();
    let mut acc = vec![0i64; codes.m()];
    let mut flags = acc_w.k_flags(codes.k());
    for (j, acts) in x.chunks(g.g()).enumerate() {
        let table = Table::build(g, acts);
        for (r, a) in acc.iter_mut().enumerate() {
            match table.lookup(codes.code(r, j)) {
                Some(v) => *a += i64::from(v),
                None => flags |= Flags::ERR_CODE,
            }
        }
    }
    Ok(TlmmResult {
        out: acc.into_iter().map(|y| acc_w.wrap(y)).collect(),
        flags,
    })
}

/// The golden model: `out[m] = sign_extend_32((sum_k W[m][k] * x[k]) mod 2^ACC_W)`,
/// a plain i64 dot product per row, wrapped.
///
/// Flags: [`Flags::ERR_K_RANGE`] when `K > K_EXACT`. An error when `x.len()`
/// is not `K`.
pub fn golden(w: &TernaryMatrix, x: &[i8], acc_w: AccWidth) -> Result<TlmmResult, TlmmError> {
    check_len("activations", w.k(), x.len())?;
    let out = (0..w.m())
        .map(|r| {
            let y: i64 = w
                .row(r)
                .iter()
                .zip(x)
                .map(|(&wi, &xi)| i64::from(wi) * i64::from(xi))
                .sum();
            acc_w.wrap(y)
        })
        .collect();
    Ok(TlmmResult {
        out,
        flags: acc_w.k_flags(w.k()),
    })
}
