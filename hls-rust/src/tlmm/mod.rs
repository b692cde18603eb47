//! Reference model of the TLMM engine: table-lookup ternary matrix
//! multiplication (`shared/specs/tlmm.md`), bit for bit.
//!
//! The engine computes `out[m] = sign_extend_32((sum_k W[m][k] * x[k]) mod 2^ACC_W)`
//! for a ternary `M x K` matrix `W` and an int8 vector `x`. Weights travel as
//! [`WeightCode`]s, one per group of `G` weights; for each group of `G`
//! activations the engine precomputes a [`Table`] of every signed sum a code
//! can select, and every output row replaces `G` multiply-adds by one lookup.
//!
//! What lives here:
//! - [`quant`]: the BitNet b1.58 quantizers (host side, floats never reach the RTL);
//! - [`WeightCode`], [`Grouping`], [`TernaryMatrix`], [`CodeMatrix`]: the weight code
//!   for `G = 1..=5` (`G = 3` is bitnet.cpp's TL2 code);
//! - [`Table`], [`tlmm_table`] (the table path) and [`golden`] (a plain dot product):
//!   both give a [`TlmmResult`] with the sticky status [`Flags`];
//! - [`stream`]: the packers of the activation, weight and result streams, the
//!   single source of truth for beat order;
//! - [`Requant`]: the optional requantization stage;
//! - [`npy`]: `.npy` files for exchanging weights and vectors;
//! - [`mlp`]: a BitNet-style ternary MLP on the digits data set whose integer
//!   matmuls can be handed to the RTL.
//!
//! # Example
//!
//! ```
//! use hls_rust::tlmm::{golden, tlmm_table, AccWidth, CodeMatrix, Flags, Grouping, TernaryMatrix};
//! use hls_rust::tlmm::stream::{pack_activations, pack_weights, Arch, WeightLayout};
//!
//! // A 2 x 4 ternary matrix, row-major, and 4 activations.
//! let w = TernaryMatrix::new(2, 4, vec![1, 0, -1, 1, -1, -1, 0, 1])?;
//! let x = [10i8, -128, 3, 7];
//! let g3 = Grouping::new(3)?;
//! let codes = CodeMatrix::encode(&w, g3);
//! // Row 0, group 0 holds (1, 0, -1): v = 9 - 1 = 8, code 8.
//! assert_eq!(codes.code(0, 0).bits(), 8);
//!
//! let acc = AccWidth::DEFAULT; // 24 bits
//! let table = tlmm_table(&codes, &x, acc)?;
//! assert_eq!(table, golden(&w, &x, acc)?);
//! assert_eq!(table.out, vec![10 - 3 + 7, -10 + 128 + 7]);
//! assert_eq!(table.flags, Flags::empty());
//!
//! // What the RTL is fed: one activation beat, and (P = 2 lanes, T = 1 slot)
//! // one 10-bit weight beat (2 bytes) per group.
//! assert_eq!(pack_activations(&x), vec![0x0703_800a]);
//! let layout = WeightLayout::new(2, 1, Arch::OutputStationary)?;
//! let beats = pack_weights(&codes, &layout);
//! assert_eq!(beats.len(), 2);
//! assert_eq!(beats[0].bytes().len(), 2);
//! # Ok::<(), hls_rust::tlmm::TlmmError>(())
//! ```

mod code;
pub mod cycle;
pub mod mlp;
pub mod npy;
pub mod quant;
mod requant;
pub mod stream;
mod table;

pub use code::{CodeMatrix, Grouping, MAX_G, TernaryMatrix, WeightCode};
pub use quant::{
    QuantError, dequantize, quantize_activations_absmax, quantize_activations_per_token,
    quantize_activations_with_scale, quantize_weights_absmean, quantize_weights_with_scale,
};
pub use requant::Requant;
pub use table::{Table, golden, tlmm_table};

use std::fmt;

/// Errors of the TLMM reference model: arguments that do not describe a
/// valid matrix, code, layout or job.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlmmError {
    /// The group size is outside `1..=5`.
    #[error("group size G = {0} is outside 1..={MAX_G}")]
    Grouping(usize),
    /// The accumulator width is outside `8..=32`.
    #[error("accumulator width ACC_W = {0} is outside 8..=32")]
    AccWidth(u32),
    /// A weight is not -1, 0 or 1.
    #[error("weight {value} at index {index} is not ternary (-1, 0, 1)")]
    NotTernary {
        /// Position in the row-major data.
        index: usize,
        /// The offending value.
        value: i8,
    },
    /// A buffer has the wrong length for the shape it is paired with.
    #[error("{what}: length {got}, expected {expected}")]
    Length {
        /// Which buffer.
        what: &'static str,
        /// The length the shape implies.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// A code has bits set above the code width `CW` of its grouping.
    #[error("code {code:#x} at index {index} does not fit the {width}-bit code of G = {g}")]
    CodeWidth {
        /// Position in the row-major codes.
        index: usize,
        /// The raw code.
        code: u8,
        /// The code width `CW`.
        width: u32,
        /// The group size.
        g: usize,
    },
    /// More weights than `G` were given for one group.
    #[error("{len} weights do not fit a group of G = {g}")]
    GroupLength {
        /// Number of weights given.
        len: usize,
        /// The group size.
        g: usize,
    },
    /// A stream layout has zero lanes or slots.
    #[error("weight stream layout needs P >= 1 and T >= 1, got P = {p}, T = {t}")]
    Layout {
        /// Lanes.
        p: usize,
        /// Slots (groups per lane per beat).
        t: usize,
    },
    /// A weight beat has the wrong size for the layout.
    #[error("weight beat {beat}: {got} bytes, the layout needs {expected}")]
    BeatSize {
        /// Beat number in stream order.
        beat: usize,
        /// Bytes the layout needs.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
    /// A weight beat carries a nonzero code (or nonzero pad bits) where the
    /// stream must hold zeros: beyond row `M`, beyond the last group, or
    /// above the last code.
    #[error("weight beat {beat}: nonzero padding at lane {lane}, slot {slot}")]
    Padding {
        /// Beat number in stream order.
        beat: usize,
        /// Lane `p` (`P` for the pad bits above the last code).
        lane: usize,
        /// Slot `t`.
        slot: usize,
    },
    /// An activation beat carries a nonzero byte beyond `K`.
    #[error("activation beat {beat}: nonzero byte {byte} beyond K")]
    ActivationPadding {
        /// Beat number.
        beat: usize,
        /// Byte within the beat.
        byte: usize,
    },
    /// A requant parameter is out of range.
    #[error("requant: {0}")]
    Requant(String),
}

/// Sticky status flags, with the bit positions of the RTL status register.
///
/// ```
/// use hls_rust::tlmm::Flags;
/// let f = Flags::ERR_K_RANGE | Flags::ERR_CODE;
/// assert_eq!(f.bits(), 0b011);
/// assert!(f.contains(Flags::ERR_CODE));
/// assert_eq!(format!("{f}"), "ERR_K_RANGE|ERR_CODE");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(u8);

impl Flags {
    /// Bit 0: `K > K_EXACT`; the results wrapped modulo `2^ACC_W` may differ
    /// from the exact sums.
    pub const ERR_K_RANGE: Flags = Flags(1 << 0);
    /// Bit 1: an illegal weight code (index above `(3^G - 1) / 2`) was looked
    /// up; it contributed 0.
    pub const ERR_CODE: Flags = Flags(1 << 1);
    /// Bit 2: a stream protocol error in the RTL (`last` in the wrong place).
    /// The reference model never raises it.
    pub const ERR_PROTO: Flags = Flags(1 << 2);
    /// Bit 3: the job was rejected (see [`check_shape`]).
    pub const ERR_SHAPE: Flags = Flags(1 << 3);
    /// Every defined bit.
    pub const ALL: Flags = Flags(0b1111);

    const NAMES: [(Flags, &'static str); 4] = [
        (Flags::ERR_K_RANGE, "ERR_K_RANGE"),
        (Flags::ERR_CODE, "ERR_CODE"),
        (Flags::ERR_PROTO, "ERR_PROTO"),
        (Flags::ERR_SHAPE, "ERR_SHAPE"),
    ];

    /// No flag set.
    pub const fn empty() -> Flags {
        Flags(0)
    }

    /// The register value.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// The flags of a register value; bits above the defined ones are dropped.
    pub const fn from_bits_truncate(bits: u8) -> Flags {
        Flags(bits & Flags::ALL.0)
    }

    /// True when no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when every flag of `other` is set in `self`.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Sets the flags of `other` (sticky: nothing is ever cleared).
    pub fn insert(&mut self, other: Flags) {
        self.0 |= other.0;
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Flags) {
        self.0 |= rhs.0;
    }
}

impl fmt::Display for Flags {
    /// The set flags' names joined by `|`, or `-` when none is set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (flag, name) in Flags::NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("-")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Flags({self})")
    }
}

/// Accumulator width `ACC_W` in bits, `8..=32`.
///
/// ```
/// use hls_rust::tlmm::AccWidth;
/// let acc = AccWidth::new(16)?;
/// assert_eq!(acc.k_exact(), 255);
/// assert_eq!(acc.wrap(32_768), -32_768);
/// assert_eq!(AccWidth::DEFAULT.k_exact(), 65_535);
/// # Ok::<(), hls_rust::tlmm::TlmmError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccWidth(u32);

impl AccWidth {
    /// The default build, 24 bits (exact for `K <= 65,535`).
    pub const DEFAULT: AccWidth = AccWidth(24);
    /// The narrowest width.
    pub const MIN: u32 = 8;
    /// The widest width.
    pub const MAX: u32 = 32;

    /// `bits` wide; an error outside `8..=32`.
    pub const fn new(bits: u32) -> Result<AccWidth, TlmmError> {
        if bits >= Self::MIN && bits <= Self::MAX {
            Ok(AccWidth(bits))
        } else {
            Err(TlmmError::AccWidth(bits))
        }
    }

    /// The width in bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// `K_EXACT = floor((2^(ACC_W-1) - 1) / 128)`: the largest `K` for which
    /// no sum of `K` products `w * x` (at most 128 in magnitude) can wrap.
    pub const fn k_exact(self) -> usize {
        (((1u64 << (self.0 - 1)) - 1) / 128) as usize
    }

    /// `sign_extend_32(y mod 2^ACC_W)`: what an `ACC_W`-bit accumulator holds
    /// after summing to `y`, sign-extended to 32 bits.
    pub const fn wrap(self, y: i64) -> i32 {
        let sh = 64 - self.0;
        ((y << sh) >> sh) as i32
    }

    /// The flags a job of `k` activations raises on its own: `ERR_K_RANGE`
    /// when `k > K_EXACT`.
    pub const fn k_flags(self, k: usize) -> Flags {
        if k > self.k_exact() {
            Flags::ERR_K_RANGE
        } else {
            Flags::empty()
        }
    }
}

impl Default for AccWidth {
    fn default() -> Self {
        AccWidth::DEFAULT
    }
}

/// The result of one job: `M` outputs and the sticky flags it raised.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlmmResult {
    /// `out[m]`, row order, sign-extended from `ACC_W` bits.
    pub out: Vec<i32>,
    /// Flags raised by this job.
    pub flags: Flags,
}

/// Why a job was rejected (the RTL raises [`Flags::ERR_SHAPE`] and produces
/// no results).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    /// `M = 0`.
    #[error("M = 0: no output rows")]
    ZeroRows,
    /// `K = 0`.
    #[error("K = 0: no activations")]
    ZeroK,
    /// `K` exceeds the activation buffer of the build.
    #[error("K = {k} exceeds K_MAX = {k_max} of this build")]
    KTooLarge {
        /// The job's `K`.
        k: usize,
        /// The build's `K_MAX`.
        k_max: usize,
    },
}

impl ShapeError {
    /// The status flags of a rejected job: [`Flags::ERR_SHAPE`].
    pub const fn flags(self) -> Flags {
        Flags::ERR_SHAPE
    }
}

/// Whether the engine accepts a job of `M = m` rows and `K = k`
/// activations on a build with an activation buffer of `k_max`.
///
/// ```
/// use hls_rust::tlmm::{check_shape, ShapeError};
/// assert_eq!(check_shape(4, 100, 1024), Ok(()));
/// assert_eq!(check_shape(0, 100, 1024), Err(ShapeError::ZeroRows));
/// assert_eq!(check_shape(4, 2000, 1024), Err(ShapeError::KTooLarge { k: 2000, k_max: 1024 }));
/// ```
pub const fn check_shape(m: usize, k: usize, k_max: usize) -> Result<(), ShapeError> {
    if m == 0 {
        Err(ShapeError::ZeroRows)
    } else if k == 0 {
        Err(ShapeError::ZeroK)
    } else if k > k_max {
        Err(ShapeError::KTooLarge { k, k_max })
    } else {
        Ok(())
    }
}
