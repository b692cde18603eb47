//! Descriptors: one engine operation (FP, BP, WU, POOL_FWD, POOL_BWD) with its
//! shape, schedule, base addresses and numerics, and its binary encoding.
//!
//! # Field use per operation
//!
//! `N, M, H, W, K, pad` are always the *forward* layer's shape (BP takes the
//! forward N, M; the engine swaps). For pools `N = M = C`, `K = 2`, `pad = 0`
//! and `H, W` (even) are the input size. `Tr` counts rows of the engine's
//! output iteration space: FP `Ho`, BP `H`, WU `Ho`, pools `H/2`. `M_on`
//! counts resident output channels of the engine (FP `M`, BP `N`, WU `M`,
//! pools `C`), `N_on` reduction channels per chunk (FP `N`, BP `M`, WU `N`,
//! pools: 0). Both are multiples of the hardware's T.
//!
//! | op | in | w | out | aux | w16_out | numerics | flag |
//! |---|---|---|---|---|---|---|---|
//! | FP | x `[B,N,H,W]` | w16 | y `[B,M,Ho,Wo]` | 0 | 0 | s_out | relu |
//! | BP | dO `[B,M,Ho,Wo]` | w16 | dx `[B,N,H,W]` | act_in `[B,N,H,W]` if relu_mask, else 0 | 0 | s_out | relu_mask |
//! | WU | x `[B,N,H,W]` | master (read) | master (write; may equal w) | dO `[B,M,Ho,Wo]` | w16 if write_w16, else 0 | g_pre, lr_mant, lr_shift | write_w16 |
//! | POOL_FWD | x `[B,C,H,W]` | 0 | y `[B,C,H/2,W/2]` | argmax (write) | 0 | – | – |
//! | POOL_BWD | dy `[B,C,H/2,W/2]` | 0 | dx `[B,C,H,W]` | argmax (read) | 0 | – | – |
//!
//! Fields an operation does not use must be 0, so every descriptor has one
//! encoding.
//!
//! # Binary encoding: [`DESC_WORDS`] 32-bit words
//!
//! | word | bits | field |
//! |---|---|---|
//! | 0 | 3:0 | op: 0 FP, 1 BP, 2 WU, 3 POOL_FWD, 4 POOL_BWD |
//! | 0 | 4 | relu |
//! | 0 | 5 | relu_mask |
//! | 0 | 6 | write_w16 |
//! | 0 | 11:8 | K |
//! | 0 | 15:12 | pad |
//! | 0 | 31:24 | magic `0xC1` (version 1) |
//! | 1 | 15:0 / 31:16 | N / M |
//! | 2 | 15:0 / 31:16 | H / W |
//! | 3 | 15:0 / 31:16 | B / Tr |
//! | 4 | 15:0 / 31:16 | M_on / N_on |
//! | 5 | 31:0 | in base (word address) |
//! | 6 | 31:0 | w base |
//! | 7 | 31:0 | out base |
//! | 8 | 31:0 | aux base |
//! | 9 | 31:0 | w16_out base |
//! | 10 | 5:0 / 13:8 / 21:16 | s_out / g_pre / lr_shift |
//! | 11 | 14:0 | lr_mant |
//!
//! All other bits are reserved and must be 0.
//!
//! ```
//! use hls_rust::conv::desc::{ConvShape, Descriptor, Op, Tiling};
//!
//! let mut d = Descriptor::new(Op::Fp, ConvShape { n: 8, m: 16, h: 4, w: 4, k: 3, pad: 1, b: 2 });
//! d.tiling = Tiling { tr: 4, m_on: 16, n_on: 8 };
//! d.relu = true;
//! d.s_out = 12;
//! let words = d.encode().unwrap();
//! assert_eq!(words[0], 0xC100_1310);
//! assert_eq!(Descriptor::decode(&words).unwrap(), d);
//! ```

use std::fmt;

/// Number of 32-bit words of an encoded descriptor.
pub const DESC_WORDS: usize = 12;
/// Magic byte in bits 31:24 of word 0 (format version 1).
pub const MAGIC: u32 = 0xC1;

/// The engine operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    /// Forward convolution.
    Fp,
    /// Backward convolution to the input gradient.
    Bp,
    /// Weight gradient with fused SGD update.
    Wu,
    /// 2x2 stride-2 max pool, forward.
    PoolFwd,
    /// 2x2 stride-2 max pool, backward.
    PoolBwd,
}

impl Op {
    /// All operations, in code order.
    pub const ALL: [Op; 5] = [Op::Fp, Op::Bp, Op::Wu, Op::PoolFwd, Op::PoolBwd];

    /// The 4-bit code in word 0.
    pub fn code(self) -> u32 {
        match self {
            Op::Fp => 0,
            Op::Bp => 1,
            Op::Wu => 2,
            Op::PoolFwd => 3,
            Op::PoolBwd => 4,
        }
    }

    /// The operation of a code.
    pub fn from_code(code: u32) -> Option<Op> {
        Op::ALL.into_iter().find(|o| o.code() == code)
    }

    /// True for FP, BP and WU (the MAC array); false for pools.
    pub fn is_conv(self) -> bool {
        matches!(self, Op::Fp | Op::Bp | Op::Wu)
    }

    /// The spec's name (`FP`, `POOL_FWD`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Op::Fp => "FP",
            Op::Bp => "BP",
            Op::Wu => "WU",
            Op::PoolFwd => "POOL_FWD",
            Op::PoolBwd => "POOL_BWD",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A layer shape: forward input channels `n`, output channels `m`, input
/// size `h x w`, kernel `k`, padding `pad`, batch `b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ConvShape {
    /// Forward input channels N.
    pub n: usize,
    /// Forward output channels M.
    pub m: usize,
    /// Input height H.
    pub h: usize,
    /// Input width W.
    pub w: usize,
    /// Kernel size K (2 for pools).
    pub k: usize,
    /// Zero padding.
    pub pad: usize,
    /// Batch B.
    pub b: usize,
}

impl ConvShape {
    /// Convolution output height `H + 2 pad - K + 1` (0 if negative).
    pub fn ho(&self) -> usize {
        (self.h + 2 * self.pad + 1).saturating_sub(self.k)
    }

    /// Convolution output width `W + 2 pad - K + 1` (0 if negative).
    pub fn wo(&self) -> usize {
        (self.w + 2 * self.pad + 1).saturating_sub(self.k)
    }

    /// Useful multiply-accumulates of one FP, BP or WU: `B*M*N*Ho*Wo*K*K`.
    pub fn macs(&self) -> u64 {
        [self.b, self.m, self.n, self.ho(), self.wo(), self.k, self.k]
            .iter()
            .map(|&v| v as u64)
            .product()
    }
}

/// Schedule choices: band height and resident channel chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Tiling {
    /// Rows per band of the engine's output iteration space.
    pub tr: usize,
    /// Output channels resident on chip (multiple of T).
    pub m_on: usize,
    /// Reduction channels per chunk (multiple of T; 0 for pools).
    pub n_on: usize,
}

/// Base word addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Bases {
    /// Main input (`in`).
    pub input: u32,
    /// Weights (`w`): int16 working weights, or int32 masters for WU.
    pub weights: u32,
    /// Output (`out`).
    pub output: u32,
    /// Auxiliary tensor (`aux`): BP act_in, WU dO, pool argmax.
    pub aux: u32,
    /// WU's int16 working-weight output (`w16_out`).
    pub w16_out: u32,
}

/// One engine operation. See the [module docs](self) for field use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Descriptor {
    /// The operation.
    pub op: Op,
    /// FP: ReLU on write-back.
    pub relu: bool,
    /// BP: zero the gradient where `act_in <= 0`.
    pub relu_mask: bool,
    /// WU: also write the int16 working weights.
    pub write_w16: bool,
    /// Forward layer shape.
    pub shape: ConvShape,
    /// Schedule.
    pub tiling: Tiling,
    /// Base addresses.
    pub base: Bases,
    /// FP/BP: shift from accumulator to output scale (0..=63).
    pub s_out: u8,
    /// WU: shift applied to every product before summation (0..=63).
    pub g_pre: u8,
    /// WU: learning-rate mantissa, unsigned 15-bit.
    pub lr_mant: u16,
    /// WU: learning-rate shift (0..=63).
    pub lr_shift: u8,
}

/// A descriptor field out of range, or a malformed encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescError {
    /// A field has a value the format or the operation does not allow.
    #[error("descriptor field {field} = {value}: {reason}")]
    Field {
        /// The field's name as in the spec (`N`, `Tr`, `lr_mant`, ...).
        field: &'static str,
        /// Its value.
        value: u64,
        /// What is allowed.
        reason: String,
    },
    /// Word 0 does not carry the magic byte.
    #[error("descriptor word 0 has magic {found:#04x}, expected {MAGIC:#04x}")]
    Magic {
        /// The byte found.
        found: u32,
    },
    /// Reserved bits are set.
    #[error("descriptor word {word} has reserved bits {bits:#010x} set")]
    Reserved {
        /// Word index.
        word: usize,
        /// The offending bits.
        bits: u32,
    },
    /// Wrong number of words.
    #[error("descriptor has {found} words, expected {DESC_WORDS}")]
    Length {
        /// Words given.
        found: usize,
    },
}

fn field(field: &'static str, value: impl TryInto<u64>, reason: impl Into<String>) -> DescError {
    DescError::Field {
        field,
        value: value.try_into().unwrap_or(u64::MAX),
        reason: reason.into(),
    }
}

/// Checks `lo <= v <= hi`.
fn range(name: &'static str, v: usize, lo: usize, hi: usize) -> Result<(), DescError> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(field(name, v, format!("must be in {lo}..={hi}")))
    }
}

fn zero(name: &'static str, v: u64, op: Op) -> Result<(), DescError> {
    if v == 0 {
        Ok(())
    } else {
        Err(field(name, v, format!("unused by {op}, must be 0")))
    }
}

impl Descriptor {
    /// A descriptor for `op` on `shape` with every other field zero (tiling
    /// included: fill it in, e.g. with [`crate::conv::model::best_tiling`]).
    pub fn new(op: Op, shape: ConvShape) -> Self {
        Self {
            op,
            relu: false,
            relu_mask: false,
            write_w16: false,
            shape,
            tiling: Tiling::default(),
            base: Bases::default(),
            s_out: 0,
            g_pre: 0,
            lr_mant: 0,
            lr_shift: 0,
        }
    }

    /// Rows of the engine's output iteration space (FP/WU `Ho`, BP `H`, pools `H/2`).
    pub fn iter_rows(&self) -> usize {
        match self.op {
            Op::Fp | Op::Wu => self.shape.ho(),
            Op::Bp => self.shape.h,
            Op::PoolFwd | Op::PoolBwd => self.shape.h / 2,
        }
    }

    /// Columns of the engine's output iteration space (FP/WU `Wo`, BP `W`, pools `W/2`).
    pub fn iter_cols(&self) -> usize {
        match self.op {
            Op::Fp | Op::Wu => self.shape.wo(),
            Op::Bp => self.shape.w,
            Op::PoolFwd | Op::PoolBwd => self.shape.w / 2,
        }
    }

    /// Channels the engine produces (FP/WU `M`, BP `N`, pools `C`).
    pub fn out_channels(&self) -> usize {
        match self.op {
            Op::Bp => self.shape.n,
            _ => self.shape.m,
        }
    }

    /// Channels the engine reduces over (FP/WU `N`, BP `M`, pools 0).
    pub fn red_channels(&self) -> usize {
        match self.op {
            Op::Fp | Op::Wu => self.shape.n,
            Op::Bp => self.shape.m,
            Op::PoolFwd | Op::PoolBwd => 0,
        }
    }

    /// Checks every field against the format and the operation (independent
    /// of the hardware; see [`crate::conv::model::check_tiling`] for that).
    pub fn validate(&self) -> Result<(), DescError> {
        let (s, op) = (&self.shape, self.op);
        const MAX16: usize = u16::MAX as usize;
        range("N", s.n, 1, MAX16)?;
        range("M", s.m, 1, MAX16)?;
        range("H", s.h, 1, MAX16)?;
        range("W", s.w, 1, MAX16)?;
        range("B", s.b, 1, MAX16)?;
        if op.is_conv() {
            if s.k != 1 && s.k != 3 {
                return Err(field("K", s.k, "must be 1 or 3"));
            }
            range("pad", s.pad, 0, s.k - 1)?;
            if s.ho() == 0 {
                return Err(field(
                    "H",
                    s.h,
                    format!("must be at least K - 2 pad = {}", s.k - 2 * s.pad),
                ));
            }
            if s.wo() == 0 {
                return Err(field(
                    "W",
                    s.w,
                    format!("must be at least K - 2 pad = {}", s.k - 2 * s.pad),
                ));
            }
        } else {
            range("K", s.k, 2, 2)?;
            range("pad", s.pad, 0, 0)?;
            if s.m != s.n {
                return Err(field("M", s.m, format!("pools need M = N = {}", s.n)));
            }
            if !s.h.is_multiple_of(2) {
                return Err(field("H", s.h, "pools need an even height"));
            }
            if !s.w.is_multiple_of(2) {
                return Err(field("W", s.w, "pools need an even width"));
            }
        }
        let pixels =
            (s.b as u64) * (s.h.max(self.iter_rows()) as u64) * (s.w.max(self.iter_cols()) as u64);
        if pixels >= 1 << 32 {
            return Err(field("B", s.b, "B*H*W must be below 2^32"));
        }
        let t = &self.tiling;
        range("Tr", t.tr, 1, self.iter_rows())?;
        range("M_on", t.m_on, 1, MAX16)?;
        if op.is_conv() {
            range("N_on", t.n_on, 1, MAX16)?;
        } else {
            zero("N_on", t.n_on as u64, op)?;
        }
        // Flags.
        if self.relu && op != Op::Fp {
            return Err(field(
                "relu",
                1u64,
                format!("only FP applies ReLU, not {op}"),
            ));
        }
        if self.relu_mask && op != Op::Bp {
            return Err(field("relu_mask", 1u64, format!("only BP masks, not {op}")));
        }
        if self.write_w16 && op != Op::Wu {
            return Err(field(
                "write_w16",
                1u64,
                format!("only WU writes weights, not {op}"),
            ));
        }
        // Numerics.
        range("s_out", self.s_out.into(), 0, 63)?;
        range("g_pre", self.g_pre.into(), 0, 63)?;
        range("lr_shift", self.lr_shift.into(), 0, 63)?;
        range("lr_mant", self.lr_mant.into(), 0, (1 << 15) - 1)?;
        if !matches!(op, Op::Fp | Op::Bp) {
            zero("s_out", self.s_out.into(), op)?;
        }
        if op != Op::Wu {
            zero("g_pre", self.g_pre.into(), op)?;
            zero("lr_mant", self.lr_mant.into(), op)?;
            zero("lr_shift", self.lr_shift.into(), op)?;
        }
        // Unused bases.
        let b = &self.base;
        let aux_used = match op {
            Op::Fp => false,
            Op::Bp => self.relu_mask,
            _ => true,
        };
        if !aux_used {
            zero("aux", b.aux.into(), op)?;
        }
        if !(op == Op::Wu && self.write_w16) {
            zero("w16_out", b.w16_out.into(), op)?;
        }
        if !op.is_conv() {
            zero("w", b.weights.into(), op)?;
        }
        Ok(())
    }

    /// The binary encoding (see the [module docs](self)), after [`validate`](Self::validate).
    pub fn encode(&self) -> Result<[u32; DESC_WORDS], DescError> {
        self.validate()?;
        let s = &self.shape;
        let t = &self.tiling;
        let lo_hi = |lo: usize, hi: usize| (lo as u32) | ((hi as u32) << 16);
        Ok([
            self.op.code()
                | u32::from(self.relu) << 4
                | u32::from(self.relu_mask) << 5
                | u32::from(self.write_w16) << 6
                | (s.k as u32) << 8
                | (s.pad as u32) << 12
                | MAGIC << 24,
            lo_hi(s.n, s.m),
            lo_hi(s.h, s.w),
            lo_hi(s.b, t.tr),
            lo_hi(t.m_on, t.n_on),
            self.base.input,
            self.base.weights,
            self.base.output,
            self.base.aux,
            self.base.w16_out,
            u32::from(self.s_out) | u32::from(self.g_pre) << 8 | u32::from(self.lr_shift) << 16,
            u32::from(self.lr_mant),
        ])
    }

    /// Decodes and validates [`DESC_WORDS`] words.
    pub fn decode(words: &[u32]) -> Result<Self, DescError> {
        let w: &[u32; DESC_WORDS] = words
            .try_into()
            .map_err(|_| DescError::Length { found: words.len() })?;
        const USED: [u32; DESC_WORDS] = [
            0xff00_ff7f,
            u32::MAX,
            u32::MAX,
            u32::MAX,
            u32::MAX,
            u32::MAX,
            u32::MAX,
            u32::MAX,
            u32::MAX,
            u32::MAX,
            0x003f_3f3f,
            0x0000_7fff,
        ];
        for (i, (&v, &used)) in w.iter().zip(&USED).enumerate() {
            if v & !used != 0 {
                return Err(DescError::Reserved {
                    word: i,
                    bits: v & !used,
                });
            }
        }
        if w[0] >> 24 != MAGIC {
            return Err(DescError::Magic { found: w[0] >> 24 });
        }
        let op =
            Op::from_code(w[0] & 0xf).ok_or_else(|| field("op", w[0] & 0xf, "must be 0..=4"))?;
        let lo = |v: u32| (v & 0xffff) as usize;
        let hi = |v: u32| (v >> 16) as usize;
        let d = Descriptor {
            op,
            relu: w[0] >> 4 & 1 == 1,
            relu_mask: w[0] >> 5 & 1 == 1,
            write_w16: w[0] >> 6 & 1 == 1,
            shape: ConvShape {
                k: (w[0] >> 8 & 0xf) as usize,
                pad: (w[0] >> 12 & 0xf) as usize,
                n: lo(w[1]),
                m: hi(w[1]),
                h: lo(w[2]),
                w: hi(w[2]),
                b: lo(w[3]),
            },
            tiling: Tiling {
                tr: hi(w[3]),
                m_on: lo(w[4]),
                n_on: hi(w[4]),
            },
            base: Bases {
                input: w[5],
                weights: w[6],
                output: w[7],
                aux: w[8],
                w16_out: w[9],
            },
            s_out: (w[10] & 0x3f) as u8,
            g_pre: (w[10] >> 8 & 0x3f) as u8,
            lr_shift: (w[10] >> 16 & 0x3f) as u8,
            lr_mant: (w[11] & 0x7fff) as u16,
        };
        d.validate()?;
        Ok(d)
    }
}
