//! Ternary matrices and their weight codes.

use super::{Flags, TlmmError};
use crate::rng::Rng;

/// The largest supported group size.
pub const MAX_G: usize = 5;

/// A group size `G` in `1..=5`: how many weights one [`WeightCode`] holds and
/// how many activations one [`Table`](super::Table) covers.
///
/// | G | largest index `(3^G-1)/2` | index bits `IB` | code width `CW` |
/// |---|---|---|---|
/// | 1 | 1 | 1 | 2 |
/// | 2 | 4 | 3 | 4 |
/// | 3 | 13 | 4 | 5 |
/// | 4 | 40 | 6 | 7 |
/// | 5 | 121 | 7 | 8 |
///
/// ```
/// use hls_rust::tlmm::Grouping;
/// let g = Grouping::new(3)?;
/// assert_eq!((g.max_idx(), g.idx_bits(), g.code_width()), (13, 4, 5));
/// assert_eq!(g.groups(10), 4);
/// assert!(Grouping::new(6).is_err());
/// # Ok::<(), hls_rust::tlmm::TlmmError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Grouping(u8);

impl Grouping {
    /// `G = 1`: the direct-ternary baseline, a 2-bit `{sign, nonzero}` code.
    pub const G1: Grouping = Grouping(1);
    /// `G = 3`: the default, bitnet.cpp's TL2 code.
    pub const G3: Grouping = Grouping(3);

    /// Group size `g`; an error outside `1..=5`.
    pub const fn new(g: usize) -> Result<Grouping, TlmmError> {
        if g >= 1 && g <= MAX_G {
            Ok(Grouping(g as u8))
        } else {
            Err(TlmmError::Grouping(g))
        }
    }

    /// Every supported group size, `G = 1..=5`.
    pub fn all() -> impl Iterator<Item = Grouping> {
        (1..=MAX_G as u8).map(Grouping)
    }

    /// `G`.
    pub const fn g(self) -> usize {
        self.0 as usize
    }

    /// `3^(G-1)`: the weight of the most significant trit `w0`.
    const fn msd_weight(self) -> i32 {
        3i32.pow(self.0 as u32 - 1)
    }

    /// The largest legal index, `(3^G - 1) / 2` (every weight +1).
    pub const fn max_idx(self) -> u8 {
        ((3u32.pow(self.0 as u32) - 1) / 2) as u8
    }

    /// Entries of a table, `max_idx + 1`.
    pub const fn table_len(self) -> usize {
        self.max_idx() as usize + 1
    }

    /// `IB`: bits of the index field, `ceil(log2(max_idx + 1))`.
    pub const fn idx_bits(self) -> u32 {
        u8::BITS - self.max_idx().leading_zeros()
    }

    /// `CW = IB + 1`: bits of a code (the sign above the index).
    pub const fn code_width(self) -> u32 {
        self.idx_bits() + 1
    }

    /// `NG = ceil(k / G)`: groups covering `k` weights or activations.
    pub const fn groups(self, k: usize) -> usize {
        k.div_ceil(self.0 as usize)
    }
}

impl Default for Grouping {
    fn default() -> Self {
        Grouping::G3
    }
}

/// The code of one group of `G` ternary weights: `sign << IB | idx`.
///
/// With the weights `w0 .. w(G-1)` of a group (`w0` at the lowest `k`, most
/// significant), `v = sum_i w_i * 3^(G-1-i)`, `sign = v < 0`, `idx = |v|`.
/// For `G = 3` that is `v = 9*w0 + 3*w1 + w2` and `code = sign << 4 | idx`,
/// bitnet.cpp's TL2 code. The encoder never sets the sign of `v = 0`, but
/// "negative zero" is a legal code for 0; an index above
/// [`Grouping::max_idx`] is illegal (it decodes to zero weights and the
/// engine raises [`Flags::ERR_CODE`]).
///
/// A `WeightCode` is the raw code; what it means depends on the
/// [`Grouping`] it is read with.
///
/// ```
/// use hls_rust::tlmm::{Grouping, WeightCode};
/// let g = Grouping::G3;
/// let c = WeightCode::encode(g, &[-1, 1, 0])?; // v = -9 + 3 = -6
/// assert_eq!(c.bits(), 0b1_0110);
/// assert_eq!((c.sign(g), c.idx(g)), (true, 6));
/// assert_eq!(c.decode(g), Some([-1, 1, 0, 0, 0]));
/// assert_eq!(WeightCode::from_bits(14).decode(g), None); // illegal index
/// # Ok::<(), hls_rust::tlmm::TlmmError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct WeightCode(u8);

impl WeightCode {
    /// The code of an all-zero group.
    pub const ZERO: WeightCode = WeightCode(0);

    /// A raw code, as it travels in the weight stream.
    pub const fn from_bits(bits: u8) -> WeightCode {
        WeightCode(bits)
    }

    /// The raw code.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// The code of the weights of one group, `w0` first; fewer than `G`
    /// weights are padded with zeros (the last group of a row). An error if a
    /// weight is not ternary or there are more than `G`.
    pub fn encode(g: Grouping, weights: &[i8]) -> Result<WeightCode, TlmmError> {
        if weights.len() > g.g() {
            return Err(TlmmError::GroupLength {
                len: weights.len(),
                g: g.g(),
            });
        }
        let mut v = 0i32;
        let mut place = g.msd_weight();
        for (index, &w) in weights.iter().enumerate() {
            if !(-1..=1).contains(&w) {
                return Err(TlmmError::NotTernary { index, value: w });
            }
            v += i32::from(w) * place;
            place /= 3;
        }
        Ok(Self::from_value(g, v))
    }

    /// The code of a group whose weights are checked ternary; `v` in range.
    fn from_value(g: Grouping, v: i32) -> WeightCode {
        let sign = u8::from(v < 0);
        // |v| <= max_idx <= 121 by construction.
        WeightCode(sign << g.idx_bits() | v.unsigned_abs() as u8)
    }

    /// The sign bit (bit `IB`).
    pub const fn sign(self, g: Grouping) -> bool {
        (self.0 >> g.idx_bits()) & 1 == 1
    }

    /// The index field (bits `IB-1 .. 0`).
    pub const fn idx(self, g: Grouping) -> u8 {
        self.0 & ((1u8 << g.idx_bits()) - 1)
    }

    /// True when the code fits `CW` bits and its index is at most
    /// [`Grouping::max_idx`].
    pub const fn is_legal(self, g: Grouping) -> bool {
        self.fits(g) && self.idx(g) <= g.max_idx()
    }

    /// True when no bit above `CW` is set.
    pub const fn fits(self, g: Grouping) -> bool {
        (self.0 as u32) >> g.code_width() == 0
    }

    /// The signed value `v = sum_i w_i * 3^(G-1-i)`; `None` for an illegal code.
    pub fn value(self, g: Grouping) -> Option<i32> {
        if !self.is_legal(g) {
            return None;
        }
        let idx = i32::from(self.idx(g));
        Some(if self.sign(g) { -idx } else { idx })
    }

    /// The weights `w0 .. w(G-1)` of the group, zeros beyond `G`; `None` for
    /// an illegal code.
    pub fn decode(self, g: Grouping) -> Option<[i8; MAX_G]> {
        let digits = balanced_ternary(g, self.idx(g)).filter(|_| self.fits(g))?;
        Some(if self.sign(g) {
            digits.map(|d| -d)
        } else {
            digits
        })
    }
}

/// The `G` balanced-ternary digits of `idx`, most significant first, zeros
/// beyond `G`; `None` when `idx > max_idx` (no `G`-digit representation).
pub(super) fn balanced_ternary(g: Grouping, idx: u8) -> Option<[i8; MAX_G]> {
    if idx > g.max_idx() {
        return None;
    }
    let mut digits = [0i8; MAX_G];
    let mut n = u32::from(idx);
    for d in digits[..g.g()].iter_mut().rev() {
        match n % 3 {
            2 => {
                *d = -1;
                n = n / 3 + 1;
            }
            r => {
                *d = r as i8;
                n /= 3;
            }
        }
    }
    debug_assert_eq!(n, 0, "idx {idx} has more than {} digits", g.g());
    Some(digits)
}

/// A row-major `M x K` matrix of ternary weights (-1, 0, 1).
///
/// ```
/// use hls_rust::tlmm::TernaryMatrix;
/// let w = TernaryMatrix::new(2, 3, vec![1, 0, -1, 0, 0, 1])?;
/// assert_eq!(w.row(1), &[0, 0, 1]);
/// assert!(TernaryMatrix::new(1, 1, vec![2]).is_err());
/// # Ok::<(), hls_rust::tlmm::TlmmError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TernaryMatrix {
    m: usize,
    k: usize,
    data: Vec<i8>,
}

impl TernaryMatrix {
    /// An `m x k` matrix from row-major `data`; an error if the length is not
    /// `m * k` or a value is not ternary.
    pub fn new(m: usize, k: usize, data: Vec<i8>) -> Result<TernaryMatrix, TlmmError> {
        let expected = m.checked_mul(k).ok_or(TlmmError::Length {
            what: "ternary matrix data",
            expected: usize::MAX,
            got: data.len(),
        })?;
        if data.len() != expected {
            return Err(TlmmError::Length {
                what: "ternary matrix data",
                expected,
                got: data.len(),
            });
        }
        if let Some((index, &value)) = data
            .iter()
            .enumerate()
            .find(|(_, w)| !(-1..=1).contains(*w))
        {
            return Err(TlmmError::NotTernary { index, value });
        }
        Ok(TernaryMatrix { m, k, data })
    }

    /// An `m x k` matrix of zeros.
    pub fn zeros(m: usize, k: usize) -> TernaryMatrix {
        TernaryMatrix {
            m,
            k,
            data: vec![0; m * k],
        }
    }

    /// An `m x k` matrix of independent weights, each 0 with probability
    /// `p_zero` and otherwise -1 or 1 with equal probability.
    pub fn random(m: usize, k: usize, p_zero: f64, rng: &mut Rng) -> TernaryMatrix {
        let data = (0..m * k)
            .map(|_| {
                if rng.next_f64() < p_zero {
                    0
                } else if rng.below(2) == 0 {
                    -1
                } else {
                    1
                }
            })
            .collect();
        TernaryMatrix { m, k, data }
    }

    /// Rows, `M`.
    pub fn m(&self) -> usize {
        self.m
    }

    /// Columns, `K`.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The weights, row-major.
    pub fn data(&self) -> &[i8] {
        &self.data
    }

    /// Row `r`.
    ///
    /// # Panics
    /// If `r >= M`.
    pub fn row(&self, r: usize) -> &[i8] {
        &self.data[r * self.k..(r + 1) * self.k]
    }

    /// Consumes the matrix, returning the row-major weights.
    pub fn into_data(self) -> Vec<i8> {
        self.data
    }
}

/// The codes of an `M x K` ternary matrix: `M x NG` [`WeightCode`]s,
/// row-major, `NG = ceil(K / G)`; weights beyond `K` in the last group of a
/// row are 0.
///
/// Every code fits the code width `CW` of the grouping; codes may be
/// illegal (an index above [`Grouping::max_idx`]), as a corrupt weight
/// stream would be.
///
/// ```
/// use hls_rust::tlmm::{CodeMatrix, Flags, Grouping, TernaryMatrix};
/// let w = TernaryMatrix::new(1, 4, vec![1, 1, 1, -1])?;
/// let codes = CodeMatrix::encode(&w, Grouping::G3);
/// // (1, 1, 1) -> 13; (-1, 0, 0) -> v = -9 -> sign | 9.
/// assert_eq!(codes.codes().iter().map(|c| c.bits()).collect::<Vec<_>>(), [13, 0x19]);
/// assert_eq!(codes.decode(), (w, Flags::empty()));
/// # Ok::<(), hls_rust::tlmm::TlmmError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeMatrix {
    m: usize,
    k: usize,
    g: Grouping,
    codes: Vec<WeightCode>,
}

impl CodeMatrix {
    /// Encodes `w` with group size `g`.
    pub fn encode(w: &TernaryMatrix, g: Grouping) -> CodeMatrix {
        let ng = g.groups(w.k);
        let mut codes = Vec::with_capacity(w.m * ng);
        for r in 0..w.m {
            for group in w.row(r).chunks(g.g()) {
                let mut v = 0i32;
                let mut place = g.msd_weight();
                for &wi in group {
                    v += i32::from(wi) * place;
                    place /= 3;
                }
                codes.push(WeightCode::from_value(g, v));
            }
        }
        CodeMatrix {
            m: w.m,
            k: w.k,
            g,
            codes,
        }
    }

    /// An `m x k` code matrix from `m * ceil(k / G)` row-major codes; an error
    /// on a wrong length or a code wider than `CW` bits. Illegal indices are
    /// accepted.
    pub fn from_codes(
        m: usize,
        k: usize,
        g: Grouping,
        codes: Vec<WeightCode>,
    ) -> Result<CodeMatrix, TlmmError> {
        let expected = m.saturating_mul(g.groups(k));
        if codes.len() != expected {
            return Err(TlmmError::Length {
                what: "code matrix codes",
                expected,
                got: codes.len(),
            });
        }
        if let Some((index, c)) = codes.iter().enumerate().find(|(_, c)| !c.fits(g)) {
            return Err(TlmmError::CodeWidth {
                index,
                code: c.bits(),
                width: g.code_width(),
                g: g.g(),
            });
        }
        Ok(CodeMatrix { m, k, g, codes })
    }

    /// Decodes back to the ternary matrix (weights beyond `K` are dropped).
    /// An illegal code decodes to zero weights and raises
    /// [`Flags::ERR_CODE`] in the returned flags.
    pub fn decode(&self) -> (TernaryMatrix, Flags) {
        let (g, ng) = (self.g.g(), self.ng());
        let mut flags = Flags::empty();
        let mut w = TernaryMatrix::zeros(self.m, self.k);
        for r in 0..self.m {
            for j in 0..ng {
                let lo = j * g;
                let hi = (lo + g).min(self.k);
                match self.code(r, j).decode(self.g) {
                    Some(trits) => {
                        w.data[r * self.k + lo..r * self.k + hi].copy_from_slice(&trits[..hi - lo])
                    }
                    None => flags |= Flags::ERR_CODE,
                }
            }
        }
        (w, flags)
    }

    /// Rows, `M`.
    pub fn m(&self) -> usize {
        self.m
    }

    /// Columns of the ternary matrix, `K`.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The group size.
    pub fn grouping(&self) -> Grouping {
        self.g
    }

    /// Groups per row, `NG = ceil(K / G)`.
    pub fn ng(&self) -> usize {
        self.g.groups(self.k)
    }

    /// The code of row `r`, group `j`.
    ///
    /// # Panics
    /// If `r >= M` or `j >= NG`.
    pub fn code(&self, r: usize, j: usize) -> WeightCode {
        let ng = self.ng();
        assert!(j < ng, "group {j} out of 0..{ng}");
        self.codes[r * ng + j]
    }

    /// The codes of row `r`.
    ///
    /// # Panics
    /// If `r >= M`.
    pub fn row(&self, r: usize) -> &[WeightCode] {
        let ng = self.ng();
        &self.codes[r * ng..(r + 1) * ng]
    }

    /// All codes, row-major.
    pub fn codes(&self) -> &[WeightCode] {
        &self.codes
    }

    /// True when every code is legal.
    pub fn all_legal(&self) -> bool {
        self.codes.iter().all(|c| c.is_legal(self.g))
    }
}
