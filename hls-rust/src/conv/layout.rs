//! Memory layouts (word = int16) and the [`Memory`] word image.
//!
//! | tensor | word address |
//! |---|---|
//! | activation / gradient `[b][c][y][x]` | `base + (((b*Ct + c/T)*H + y)*W + x)*T + c%T`, `Ct = ceil(C/T)` |
//! | weight `[m][n][ky][kx]` | `base + ((m/T)*Nt + n/T)*T*T*K*K + ((ky*K + kx)*T + m%T)*T + n%T` |
//! | master weight | two words at `base + 2*o` (low half) and `base + 2*o + 1` (high half), `o` the weight offset |
//! | pool argmax `[b][c][y][x]` | word `base + (((b*Ct + c/T)*H + y)*ceil(W/8) + x/8)*T + c%T`, bits `2*(x%8)+1 .. 2*(x%8)` |
//!
//! Padded channels (`c >= C` inside the last channel tile, and `m >= M` or
//! `n >= N` inside the last weight tiles) hold zero. The engine treats their
//! lanes as zero on reads and writes zero to them, so they stay zero.
//!
//! The argmax plane is the activation layout of a tensor `ceil(W/8)` wide
//! whose elements are words of 8 codes: lane `c%T`'s word holds the codes
//! of 8 adjacent columns. So every row of a channel tile is whole memory
//! beats (`T` words), the argmax tile of a band is one burst per channel
//! tile exactly like the activation tile, and no word is shared between
//! bands, tiles or images: the engine writes whole words in element order.
//! Padded lanes hold code 0, and so do the bits of columns past `W`.
//!
//! ```
//! use hls_rust::conv::layout::{ActLayout, Memory};
//! use hls_rust::conv::Tensor4;
//!
//! let x = Tensor4::from_fn([1, 3, 2, 2], |[_, c, y, x]| (c * 100 + y * 10 + x) as i16);
//! let lay = ActLayout::new(x.dims(), 2);
//! let mut mem = Memory::new(lay.words());
//! mem.store_act(0, 2, &x).unwrap();
//! assert_eq!(mem.words()[lay.offset(0, 2, 1, 0)], 210);
//! assert_eq!(mem.words()[..4], [0, 100, 1, 101]); // channels interleaved in tiles of T = 2
//! assert_eq!(mem.load_act(0, 2, x.dims()).unwrap(), x);
//! ```

use super::tensor::Tensor4;

/// An access outside the memory image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: words [{base}, {base}+{words}) outside the memory image of {mem} words")]
pub struct MemError {
    /// What was accessed.
    pub what: String,
    /// First word.
    pub base: usize,
    /// Number of words.
    pub words: usize,
    /// Size of the image.
    pub mem: usize,
}

/// Number of `t`-channel tiles covering `c` channels.
pub fn tiles(c: usize, t: usize) -> usize {
    c.div_ceil(t.max(1))
}

/// Layout of an activation or gradient tensor `[B][C][H][W]` with channel tile `t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActLayout {
    /// Batch.
    pub b: usize,
    /// Channels.
    pub c: usize,
    /// Height.
    pub h: usize,
    /// Width.
    pub w: usize,
    /// Channel tile T.
    pub t: usize,
}

impl ActLayout {
    /// The layout of a tensor with dims `[B, C, H, W]` and tile `t`.
    pub fn new(dims: [usize; 4], t: usize) -> Self {
        let [b, c, h, w] = dims;
        Self { b, c, h, w, t }
    }

    /// Channel tiles `Ct = ceil(C/T)`.
    pub fn ct(&self) -> usize {
        tiles(self.c, self.t)
    }

    /// Words of the region, padded channels included.
    pub fn words(&self) -> usize {
        self.b * self.ct() * self.h * self.w * self.t
    }

    /// Word offset of element `[b][c][y][x]` (`c` may be a padded channel).
    #[inline]
    pub fn offset(&self, b: usize, c: usize, y: usize, x: usize) -> usize {
        (((b * self.ct() + c / self.t) * self.h + y) * self.w + x) * self.t + c % self.t
    }

    /// The layout of the argmax plane of a pooled tensor of this layout,
    /// as an activation layout whose elements are words of 8 codes.
    pub fn argmax_layout(&self) -> ActLayout {
        ActLayout {
            w: self.w.div_ceil(8),
            ..*self
        }
    }

    /// Words of an argmax region for a pooled tensor of this layout.
    pub fn argmax_words(&self) -> usize {
        self.argmax_layout().words()
    }

    /// Where the argmax code of element `[b][c][y][x]` of a pooled tensor
    /// of this layout lives in its region.
    #[inline]
    pub fn code_pos(&self, b: usize, c: usize, y: usize, x: usize) -> CodePos {
        CodePos {
            word: self.argmax_layout().offset(b, c, y, x / 8),
            shift: 2 * (x % 8) as u32,
        }
    }
}

/// The place of one 2-bit argmax code: word offset in the region and bit
/// position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodePos {
    /// Word offset in the argmax region.
    pub word: usize,
    /// Position of the code's low bit (even, 0..=14).
    pub shift: u32,
}

/// Layout of a weight tensor `[M][N][K][K]` in `T x T x K x K` blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightLayout {
    /// Output channels.
    pub m: usize,
    /// Input channels.
    pub n: usize,
    /// Kernel size.
    pub k: usize,
    /// Channel tile T.
    pub t: usize,
}

impl WeightLayout {
    /// The layout of weights with dims `[M, N, K, K]` and tile `t`.
    pub fn new(dims: [usize; 4], t: usize) -> Self {
        let [m, n, k, _] = dims;
        Self { m, n, k, t }
    }

    /// Words of one `T x T x K x K` block.
    pub fn block(&self) -> usize {
        self.t * self.t * self.k * self.k
    }

    /// Words of the (int16) region, padded lanes included.
    pub fn words(&self) -> usize {
        tiles(self.m, self.t) * tiles(self.n, self.t) * self.block()
    }

    /// Word offset of weight `[m][n][ky][kx]`.
    #[inline]
    pub fn offset(&self, m: usize, n: usize, ky: usize, kx: usize) -> usize {
        let t = self.t;
        ((m / t) * tiles(self.n, t) + n / t) * self.block()
            + ((ky * self.k + kx) * t + m % t) * t
            + n % t
    }
}

/// A memory image of 16-bit words, as the engine's memory port sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Memory {
    words: Vec<i16>,
}

impl Memory {
    /// An image of `len` zero words.
    pub fn new(len: usize) -> Self {
        Self {
            words: vec![0; len],
        }
    }

    /// An image holding `words`.
    pub fn from_words(words: Vec<i16>) -> Self {
        Self { words }
    }

    /// Size in words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True when the image has no words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// All words.
    pub fn words(&self) -> &[i16] {
        &self.words
    }

    /// All words, mutable.
    pub fn words_mut(&mut self) -> &mut [i16] {
        &mut self.words
    }

    /// Checks that `[base, base + words)` lies inside the image.
    pub fn check(&self, what: &str, base: usize, words: usize) -> Result<(), MemError> {
        if base
            .checked_add(words)
            .is_some_and(|e| e <= self.words.len())
        {
            Ok(())
        } else {
            Err(MemError {
                what: what.to_owned(),
                base,
                words,
                mem: self.words.len(),
            })
        }
    }

    /// The words `[base, base + len)`.
    pub fn slice(&self, base: usize, len: usize) -> Result<&[i16], MemError> {
        self.check("slice", base, len)?;
        Ok(&self.words[base..base + len])
    }

    /// The words `[base, base + len)`, mutable.
    pub fn slice_mut(&mut self, base: usize, len: usize) -> Result<&mut [i16], MemError> {
        self.check("slice", base, len)?;
        Ok(&mut self.words[base..base + len])
    }

    /// Writes activation tensor `x` (`[B, C, H, W]`) at `base` with tile `t`,
    /// padded channels as zero (the whole region is written).
    pub fn store_act(&mut self, base: usize, t: usize, x: &Tensor4<i16>) -> Result<(), MemError> {
        let lay = ActLayout::new(x.dims(), t);
        let region = self.slice_mut(base, lay.words())?;
        region.fill(0);
        for_each4(x.dims(), |[b, c, y, xx]| {
            region[lay.offset(b, c, y, xx)] = x[[b, c, y, xx]];
        });
        Ok(())
    }

    /// Reads an activation tensor of `dims` (`[B, C, H, W]`) at `base`, tile `t`.
    pub fn load_act(
        &self,
        base: usize,
        t: usize,
        dims: [usize; 4],
    ) -> Result<Tensor4<i16>, MemError> {
        let lay = ActLayout::new(dims, t);
        let region = self.slice(base, lay.words())?;
        Ok(Tensor4::from_fn(dims, |[b, c, y, x]| {
            region[lay.offset(b, c, y, x)]
        }))
    }

    /// Writes weights `w` (`[M, N, K, K]`) at `base` in blocks of tile `t`,
    /// padded lanes as zero.
    pub fn store_weights(
        &mut self,
        base: usize,
        t: usize,
        w: &Tensor4<i16>,
    ) -> Result<(), MemError> {
        let lay = WeightLayout::new(w.dims(), t);
        let region = self.slice_mut(base, lay.words())?;
        region.fill(0);
        for_each4(w.dims(), |[m, n, ky, kx]| {
            region[lay.offset(m, n, ky, kx)] = w[[m, n, ky, kx]];
        });
        Ok(())
    }

    /// Reads weights of `dims` (`[M, N, K, K]`) at `base`, tile `t`.
    pub fn load_weights(
        &self,
        base: usize,
        t: usize,
        dims: [usize; 4],
    ) -> Result<Tensor4<i16>, MemError> {
        let lay = WeightLayout::new(dims, t);
        let region = self.slice(base, lay.words())?;
        Ok(Tensor4::from_fn(dims, |[m, n, ky, kx]| {
            region[lay.offset(m, n, ky, kx)]
        }))
    }

    /// Writes int32 master weights (two words each, low half first) at `base`.
    pub fn store_master(
        &mut self,
        base: usize,
        t: usize,
        w: &Tensor4<i32>,
    ) -> Result<(), MemError> {
        let lay = WeightLayout::new(w.dims(), t);
        let region = self.slice_mut(base, 2 * lay.words())?;
        region.fill(0);
        for_each4(w.dims(), |[m, n, ky, kx]| {
            let o = 2 * lay.offset(m, n, ky, kx);
            let (lo, hi) = split32(w[[m, n, ky, kx]]);
            region[o] = lo;
            region[o + 1] = hi;
        });
        Ok(())
    }

    /// Reads int32 master weights of `dims` at `base`, tile `t`.
    pub fn load_master(
        &self,
        base: usize,
        t: usize,
        dims: [usize; 4],
    ) -> Result<Tensor4<i32>, MemError> {
        let lay = WeightLayout::new(dims, t);
        let region = self.slice(base, 2 * lay.words())?;
        Ok(Tensor4::from_fn(dims, |[m, n, ky, kx]| {
            let o = 2 * lay.offset(m, n, ky, kx);
            join32(region[o], region[o + 1])
        }))
    }

    /// Writes argmax codes (`[B, C, Ho, Wo]`, values 0..=3, higher bits
    /// ignored) at `base`, packed 8 per word; padded lanes and columns 0.
    pub fn store_argmax(
        &mut self,
        base: usize,
        t: usize,
        codes: &Tensor4<u8>,
    ) -> Result<(), MemError> {
        let lay = ActLayout::new(codes.dims(), t);
        let region = self.slice_mut(base, lay.argmax_words())?;
        region.fill(0);
        for_each4(codes.dims(), |[b, c, y, x]| {
            put_code(region, lay.code_pos(b, c, y, x), codes[[b, c, y, x]]);
        });
        Ok(())
    }

    /// Reads argmax codes of `dims` (`[B, C, Ho, Wo]`) at `base`, tile `t`.
    pub fn load_argmax(
        &self,
        base: usize,
        t: usize,
        dims: [usize; 4],
    ) -> Result<Tensor4<u8>, MemError> {
        let lay = ActLayout::new(dims, t);
        let region = self.slice(base, lay.argmax_words())?;
        Ok(Tensor4::from_fn(dims, |[b, c, y, x]| {
            get_code(region, lay.code_pos(b, c, y, x))
        }))
    }
}

/// Splits an int32 into its (low, high) 16-bit words.
pub fn split32(v: i32) -> (i16, i16) {
    (v as u32 as u16 as i16, (v as u32 >> 16) as u16 as i16)
}

/// Joins (low, high) 16-bit words into an int32.
pub fn join32(lo: i16, hi: i16) -> i32 {
    (u32::from(lo as u16) | (u32::from(hi as u16) << 16)) as i32
}

/// Sets the 2-bit code at `pos` ([`ActLayout::code_pos`]) in an argmax region.
#[inline]
pub fn put_code(region: &mut [i16], pos: CodePos, code: u8) {
    let w = region[pos.word] as u16;
    region[pos.word] = ((w & !(3 << pos.shift)) | (u16::from(code & 3) << pos.shift)) as i16;
}

/// The 2-bit code at `pos` ([`ActLayout::code_pos`]) in an argmax region.
#[inline]
pub fn get_code(region: &[i16], pos: CodePos) -> u8 {
    ((region[pos.word] as u16 >> pos.shift) & 3) as u8
}

fn for_each4(d: [usize; 4], mut f: impl FnMut([usize; 4])) {
    for a in 0..d[0] {
        for b in 0..d[1] {
            for c in 0..d[2] {
                for e in 0..d[3] {
                    f([a, b, c, e]);
                }
            }
        }
    }
}
