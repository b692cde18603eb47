//! The engine's streams, beat by beat: the single source of truth for beat
//! order and bit layout. The RTL, its co-simulation and its test benches
//! use these packers.
//!
//! - Activations: 4 int8 per 32-bit beat, byte `i` of beat `b` is
//!   `x[4b + i]` (two's complement), zeros beyond `K`; `ceil(K / 4)` beats,
//!   the last flagged `last` by the streaming side.
//! - Weights: `P * T` codes per beat, code (lane `p`, slot `t`) at bits
//!   `[(p*T + t)*CW +: CW]`, LSB first, the beat rounded up to whole bytes.
//!   Beat `(rb, c)` holds the codes of rows `rb*P + p` and groups `c*T + t`;
//!   codes beyond `M` or the last group are 0. The order of the beats
//!   depends on the micro-architecture ([`Arch`]).
//! - Results: one 32-bit `out[m]` per beat, in row order.
//!
//! ```
//! use hls_rust::tlmm::{CodeMatrix, Grouping, TernaryMatrix};
//! use hls_rust::tlmm::stream::{pack_weights, unpack_weights, Arch, BeatPos, WeightLayout};
//! use hls_rust::rng::Rng;
//!
//! let w = TernaryMatrix::random(5, 20, 0.3, &mut Rng::new(1));
//! let codes = CodeMatrix::encode(&w, Grouping::G3); // 5 x 7 codes
//! let layout = WeightLayout::new(4, 2, Arch::TableStationary)?;
//! // 2 row blocks x 4 chunks; chunk-major.
//! assert_eq!(&layout.order(5, 7)[..3], &[
//!     BeatPos { row_block: 0, chunk: 0 },
//!     BeatPos { row_block: 1, chunk: 0 },
//!     BeatPos { row_block: 0, chunk: 1 },
//! ]);
//! let beats = pack_weights(&codes, &layout);
//! assert_eq!(beats.len(), 8);
//! assert_eq!(beats[0].bytes().len(), 5); // 4 * 2 * 5 bits = 40 bits
//! assert_eq!(beats[0].words_u32().len(), 2);
//! assert_eq!(unpack_weights(&beats, 5, 20, Grouping::G3, &layout)?, codes);
//! # Ok::<(), hls_rust::tlmm::TlmmError>(())
//! ```

use super::{CodeMatrix, Grouping, TlmmError, WeightCode};

/// Activations per activation beat.
pub const ACTS_PER_BEAT: usize = 4;

/// The activation stream of `x`: `ceil(K / 4)` beats, byte `i` of beat `b`
/// is `x[4b + i]`, zeros beyond `K`.
///
/// ```
/// use hls_rust::tlmm::stream::pack_activations;
/// assert_eq!(pack_activations(&[1, -1, 2, -128, 5]), vec![0x80_02_ff_01, 0x05]);
/// ```
pub fn pack_activations(x: &[i8]) -> Vec<u32> {
    x.chunks(ACTS_PER_BEAT)
        .map(|c| {
            let mut b = [0u8; ACTS_PER_BEAT];
            for (dst, &src) in b.iter_mut().zip(c) {
                *dst = src as u8;
            }
            u32::from_le_bytes(b)
        })
        .collect()
}

/// The `k` activations of an activation stream; an error when the number of
/// beats is not `ceil(k / 4)` or a byte beyond `k` is not zero.
pub fn unpack_activations(beats: &[u32], k: usize) -> Result<Vec<i8>, TlmmError> {
    let expected = k.div_ceil(ACTS_PER_BEAT);
    if beats.len() != expected {
        return Err(TlmmError::Length {
            what: "activation beats",
            expected,
            got: beats.len(),
        });
    }
    let bytes: Vec<i8> = beats
        .iter()
        .flat_map(|b| b.to_le_bytes())
        .map(|b| b as i8)
        .collect();
    if let Some(i) = bytes[k..].iter().position(|&b| b != 0) {
        return Err(TlmmError::ActivationPadding {
            beat: (k + i) / ACTS_PER_BEAT,
            byte: (k + i) % ACTS_PER_BEAT,
        });
    }
    Ok(bytes[..k].to_vec())
}

/// The result stream: one beat per row, `out[m]` as a 32-bit word.
pub fn pack_results(out: &[i32]) -> Vec<u32> {
    out.iter().map(|&o| o as u32).collect()
}

/// The results of a result stream.
pub fn unpack_results(beats: &[u32]) -> Vec<i32> {
    beats.iter().map(|&b| b as i32).collect()
}

/// The order of the weight beats, one per micro-architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Arch {
    /// Tables in registers, accumulators per lane: row-block-major, for
    /// `rb in 0..ceil(M/P) { for c in 0..NC { beat(rb, c) } }`.
    #[default]
    OutputStationary,
    /// Tables in RAM, built once per chunk of `T` groups, partial sums in
    /// RAM: chunk-major, for `c in 0..NC { for rb in 0..ceil(M/P) { beat(rb, c) } }`.
    TableStationary,
}

/// Where a weight beat sits in the matrix: rows `row_block*P .. +P`,
/// groups `chunk*T .. +T`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BeatPos {
    /// Row block `rb`.
    pub row_block: usize,
    /// Chunk `c` of `T` groups.
    pub chunk: usize,
}

/// The shape of the weight stream: `P` lanes, `T` slots per lane, and the
/// beat order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WeightLayout {
    p: usize,
    t: usize,
    arch: Arch,
}

impl WeightLayout {
    /// `p` lanes (output rows in parallel), `t` slots (groups per lane per
    /// beat), beats in the order of `arch`; an error if `p` or `t` is 0.
    pub const fn new(p: usize, t: usize, arch: Arch) -> Result<WeightLayout, TlmmError> {
        if p == 0 || t == 0 {
            Err(TlmmError::Layout { p, t })
        } else {
            Ok(WeightLayout { p, t, arch })
        }
    }

    /// Lanes, `P`.
    pub const fn p(&self) -> usize {
        self.p
    }

    /// Slots per lane, `T`.
    pub const fn t(&self) -> usize {
        self.t
    }

    /// The beat order.
    pub const fn arch(&self) -> Arch {
        self.arch
    }

    /// Bits of codes in a beat, `P * T * CW`.
    pub const fn beat_bits(&self, g: Grouping) -> usize {
        self.p * self.t * g.code_width() as usize
    }

    /// Bytes of a beat, `ceil(P * T * CW / 8)`.
    pub const fn beat_bytes(&self, g: Grouping) -> usize {
        self.beat_bits(g).div_ceil(8)
    }

    /// Row blocks, `ceil(M / P)`.
    pub const fn row_blocks(&self, m: usize) -> usize {
        m.div_ceil(self.p)
    }

    /// Chunks, `NC = ceil(NG / T)`.
    pub const fn chunks(&self, ng: usize) -> usize {
        ng.div_ceil(self.t)
    }

    /// Beats of a job with `M = m` rows and `NG = ng` groups per row.
    pub const fn beats(&self, m: usize, ng: usize) -> usize {
        self.row_blocks(m) * self.chunks(ng)
    }

    /// The position of every beat, in stream order.
    pub fn order(&self, m: usize, ng: usize) -> Vec<BeatPos> {
        let (nrb, nc) = (self.row_blocks(m), self.chunks(ng));
        let pos = |row_block, chunk| BeatPos { row_block, chunk };
        match self.arch {
            Arch::OutputStationary => (0..nrb)
                .flat_map(|rb| (0..nc).map(move |c| pos(rb, c)))
                .collect(),
            Arch::TableStationary => (0..nc)
                .flat_map(|c| (0..nrb).map(move |rb| pos(rb, c)))
                .collect(),
        }
    }

    /// Bit offset of code (lane `p`, slot `t`) in a beat, `(p*T + t) * CW`.
    pub const fn code_offset(&self, g: Grouping, lane: usize, slot: usize) -> usize {
        (lane * self.t + slot) * g.code_width() as usize
    }
}

/// One weight beat: `ceil(P * T * CW / 8)` bytes, little-endian (bit `i` of
/// the beat is bit `i % 8` of byte `i / 8`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WeightBeat {
    bytes: Vec<u8>,
}

impl WeightBeat {
    /// A beat from its bytes, little-endian.
    pub fn from_bytes(bytes: Vec<u8>) -> WeightBeat {
        WeightBeat { bytes }
    }

    /// The bytes, little-endian.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The beat as little-endian 32-bit words (word `i` holds bits
    /// `32i .. 32i+31`), zero-padded to whole words: what a co-simulation
    /// shim writes into a wide Verilator port.
    pub fn words_u32(&self) -> Vec<u32> {
        self.bytes
            .chunks(4)
            .map(|c| {
                let mut w = [0u8; 4];
                w[..c.len()].copy_from_slice(c);
                u32::from_le_bytes(w)
            })
            .collect()
    }

    /// The `width` bits at bit `offset` (zeros beyond the beat).
    fn field(&self, offset: usize, width: u32) -> u32 {
        (0..width as usize).fold(0, |acc, i| {
            let bit = offset + i;
            let b = self
                .bytes
                .get(bit / 8)
                .map_or(0, |byte| (byte >> (bit % 8)) & 1);
            acc | u32::from(b) << i
        })
    }

    /// ORs the low `width` bits of `value` in at bit `offset`.
    fn set_field(&mut self, offset: usize, width: u32, value: u32) {
        for i in 0..width as usize {
            if (value >> i) & 1 == 1 {
                let bit = offset + i;
                self.bytes[bit / 8] |= 1 << (bit % 8);
            }
        }
    }

    /// The code of lane `lane`, slot `slot` in this beat of `layout`, read
    /// with group size `g`.
    pub fn code(&self, layout: &WeightLayout, g: Grouping, lane: usize, slot: usize) -> WeightCode {
        let v = self.field(layout.code_offset(g, lane, slot), g.code_width());
        // A field of CW <= 8 bits fits a byte.
        WeightCode::from_bits(v as u8)
    }
}

/// The weight stream of `codes` in the layout and order of `layout`.
pub fn pack_weights(codes: &CodeMatrix, layout: &WeightLayout) -> Vec<WeightBeat> {
    let g = codes.grouping();
    let (m, ng) = (codes.m(), codes.ng());
    layout
        .order(m, ng)
        .into_iter()
        .map(|pos| {
            let mut beat = WeightBeat::from_bytes(vec![0; layout.beat_bytes(g)]);
            for lane in 0..layout.p {
                let row = pos.row_block * layout.p + lane;
                if row >= m {
                    break;
                }
                for slot in 0..layout.t {
                    let group = pos.chunk * layout.t + slot;
                    if group >= ng {
                        break;
                    }
                    beat.set_field(
                        layout.code_offset(g, lane, slot),
                        g.code_width(),
                        u32::from(codes.code(row, group).bits()),
                    );
                }
            }
            beat
        })
        .collect()
}

/// The code matrix of an `m x k` job carried by a weight stream of `layout`
/// with group size `g`: the inverse of [`pack_weights`]. An error when the
/// number or size of the beats does not match, or when a code beyond `M`
/// or the last group, or a pad bit above the last code, is not zero.
pub fn unpack_weights(
    beats: &[WeightBeat],
    m: usize,
    k: usize,
    g: Grouping,
    layout: &WeightLayout,
) -> Result<CodeMatrix, TlmmError> {
    let ng = g.groups(k);
    let order = layout.order(m, ng);
    if beats.len() != order.len() {
        return Err(TlmmError::Length {
            what: "weight beats",
            expected: order.len(),
            got: beats.len(),
        });
    }
    let mut codes = vec![WeightCode::ZERO; m * ng];
    let beat_bits = layout.beat_bits(g);
    for (n, (beat, pos)) in beats.iter().zip(order).enumerate() {
        if beat.bytes.len() != layout.beat_bytes(g) {
            return Err(TlmmError::BeatSize {
                beat: n,
                expected: layout.beat_bytes(g),
                got: beat.bytes.len(),
            });
        }
        for lane in 0..layout.p {
            for slot in 0..layout.t {
                let code = beat.code(layout, g, lane, slot);
                let row = pos.row_block * layout.p + lane;
                let group = pos.chunk * layout.t + slot;
                if row < m && group < ng {
                    codes[row * ng + group] = code;
                } else if code != WeightCode::ZERO {
                    return Err(TlmmError::Padding {
                        beat: n,
                        lane,
                        slot,
                    });
                }
            }
        }
        let pad = (beat.bytes.len() * 8 - beat_bits) as u32;
        if beat.field(beat_bits, pad) != 0 {
            return Err(TlmmError::Padding {
                beat: n,
                lane: layout.p,
                slot: 0,
            });
        }
    }
    CodeMatrix::from_codes(m, k, g, codes)
}
