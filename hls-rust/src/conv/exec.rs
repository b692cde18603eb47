//! The reference executor: performs one descriptor on a memory image exactly
//! as the engine must, following the model's step sequence (tile loads into
//! on-chip buffers, wrapping accumulation, write-back), so RTL memory images
//! can be compared to it word for word.
//!
//! Results do not depend on the tiling (integer sums are associative and
//! accumulators wrap), which the `conv_exec` tests check against the golden
//! model for several tilings.
//!
//! ```
//! use hls_rust::conv::desc::{Bases, ConvShape, Descriptor, Op, Tiling};
//! use hls_rust::conv::{run_descriptor, HwConfig, Memory, Tensor4};
//!
//! let hw = HwConfig::up5k(); // T = 2
//! let x = Tensor4::from_fn([1, 2, 4, 4], |[_, c, y, x]| (c + y + x) as i16);
//! let w = Tensor4::from_fn([2, 2, 3, 3], |[m, n, _, _]| if m == n { 1i16 } else { 0 });
//! let mut mem = Memory::new(256);
//! mem.store_act(0, hw.t, &x).unwrap();
//! mem.store_weights(64, hw.t, &w).unwrap();
//! let mut d = Descriptor::new(Op::Fp, ConvShape { n: 2, m: 2, h: 4, w: 4, k: 3, pad: 1, b: 1 });
//! d.tiling = Tiling { tr: 4, m_on: 2, n_on: 2 };
//! d.base = Bases { input: 0, weights: 64, output: 128, ..Bases::default() };
//! let stats = run_descriptor(&mut mem, &d, &hw).unwrap();
//! let y = mem.load_act(128, hw.t, [1, 2, 4, 4]).unwrap();
//! assert_eq!(y[[0, 1, 1, 1]], 9 * 3); // 3x3 box sum of c + y + x around (1, 1), channel 1
//! assert_eq!(stats.macs, 4 * 16 * 9);
//! ```

use super::desc::{DescError, Descriptor, Op};
use super::fixed::{MF, fits, rs, sat16, sgd_step, sx};
use super::hw::{HwConfig, HwError};
use super::layout::{
    ActLayout, MemError, Memory, WeightLayout, get_code, join32, put_code, split32,
};
use super::model::{self, Stats, Step, TilingError, conv_input, conv_layouts};

/// Why a descriptor cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExecError {
    /// The descriptor is malformed.
    #[error(transparent)]
    Descriptor(#[from] DescError),
    /// The hardware configuration is malformed.
    #[error(transparent)]
    Hw(#[from] HwError),
    /// The tiling violates a capacity or the hazard rule (the engine's error status).
    #[error(transparent)]
    Tiling(#[from] TilingError),
    /// A region lies outside the memory image.
    #[error(transparent)]
    Memory(#[from] MemError),
    /// A written region overlaps another region of the same descriptor.
    #[error("{op}: the {written} region overlaps the {other} region")]
    Overlap {
        /// The operation.
        op: Op,
        /// The written region.
        written: &'static str,
        /// The region it overlaps.
        other: &'static str,
    },
    /// Another executor (the RTL in co-simulation) failed, or disagreed
    /// with the reference.
    #[error("{0}")]
    Engine(String),
}

/// Something that performs descriptors on a memory image: the reference
/// ([`Reference`]) or, in co-simulation, the RTL. Training loops
/// ([`TrainPlan::run_forward_with`](super::plan::TrainPlan::run_forward_with),
/// [`digits::train_fixed_on`](super::digits::train_fixed_on)) take one, so
/// the same loop runs on either.
pub trait Executor {
    /// Performs `d` on `mem` and returns its counters (like [`run_descriptor`]).
    fn execute(&mut self, mem: &mut Memory, d: &Descriptor) -> Result<Stats, ExecError>;

    /// Tells the executor the named regions of the memory image (for
    /// messages that name the tensor where something went wrong). The
    /// default ignores them.
    fn memory_map(&mut self, _regions: &[super::plan::Region]) {}
}

/// The reference executor for the engine built as `.0`: [`run_descriptor`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reference(pub HwConfig);

impl Executor for Reference {
    fn execute(&mut self, mem: &mut Memory, d: &Descriptor) -> Result<Stats, ExecError> {
        run_descriptor(mem, d, &self.0)
    }
}

/// A memory region a descriptor touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Field name (`in`, `w`, `out`, `aux`, `w16_out`).
    pub name: &'static str,
    /// First word.
    pub base: usize,
    /// Length in words.
    pub words: usize,
    /// Written by the descriptor.
    pub write: bool,
}

/// The regions descriptor `d` reads and writes with channel tile `t`.
pub fn regions(d: &Descriptor, t: usize) -> Vec<Region> {
    let s = &d.shape;
    let act = |c, h, w| ActLayout { b: s.b, c, h, w, t }.words();
    let wwords = WeightLayout {
        m: s.m,
        n: s.n,
        k: s.k,
        t,
    }
    .words();
    let r = |name, base: u32, words, write| Region {
        name,
        base: base as usize,
        words,
        write,
    };
    let b = &d.base;
    let (ho, wo) = (s.ho(), s.wo());
    match d.op {
        Op::Fp => vec![
            r("in", b.input, act(s.n, s.h, s.w), false),
            r("w", b.weights, wwords, false),
            r("out", b.output, act(s.m, ho, wo), true),
        ],
        Op::Bp => {
            let mut v = vec![
                r("in", b.input, act(s.m, ho, wo), false),
                r("w", b.weights, wwords, false),
                r("out", b.output, act(s.n, s.h, s.w), true),
            ];
            if d.relu_mask {
                v.push(r("aux", b.aux, act(s.n, s.h, s.w), false));
            }
            v
        }
        Op::Wu => {
            let mut v = vec![
                r("in", b.input, act(s.n, s.h, s.w), false),
                r("aux", b.aux, act(s.m, ho, wo), false),
                r("w", b.weights, 2 * wwords, false),
                r("out", b.output, 2 * wwords, true),
            ];
            if d.write_w16 {
                v.push(r("w16_out", b.w16_out, wwords, true));
            }
            v
        }
        Op::PoolFwd => {
            let small = ActLayout {
                b: s.b,
                c: s.n,
                h: s.h / 2,
                w: s.w / 2,
                t,
            };
            vec![
                r("in", b.input, act(s.n, s.h, s.w), false),
                r("out", b.output, small.words(), true),
                r("aux", b.aux, small.argmax_words(), true),
            ]
        }
        Op::PoolBwd => {
            let small = ActLayout {
                b: s.b,
                c: s.n,
                h: s.h / 2,
                w: s.w / 2,
                t,
            };
            vec![
                r("in", b.input, small.words(), false),
                r("aux", b.aux, small.argmax_words(), false),
                r("out", b.output, act(s.n, s.h, s.w), true),
            ]
        }
    }
}

/// Checks a descriptor completely against `hw` and the size of `mem`:
/// fields, tiling (capacities, hazard), regions in range and not
/// overlapping (except WU's in-place master update, `out == w`).
pub fn check_descriptor(mem: &Memory, d: &Descriptor, hw: &HwConfig) -> Result<(), ExecError> {
    d.validate()?;
    hw.validate()?;
    model::check_tiling(d, hw)?;
    let regs = regions(d, hw.t);
    for r in &regs {
        mem.check(&format!("{} region `{}`", d.op, r.name), r.base, r.words)?;
    }
    for (i, a) in regs.iter().enumerate() {
        for b in regs.iter().skip(i + 1) {
            if !(a.write || b.write) {
                continue;
            }
            let in_place = d.op == Op::Wu
                && matches!((a.name, b.name), ("w", "out") | ("out", "w"))
                && a.base == b.base;
            let overlap = a.base < b.base + b.words && b.base < a.base + a.words;
            if overlap && !in_place {
                let (written, other) = if a.write {
                    (a.name, b.name)
                } else {
                    (b.name, a.name)
                };
                return Err(ExecError::Overlap {
                    op: d.op,
                    written,
                    other,
                });
            }
        }
    }
    Ok(())
}

/// Performs descriptor `d` on `mem` as the engine built as `hw` must, and
/// returns its counters (cycles predicted by the model, words and bursts
/// exact, plus the model-only accumulator-overflow count). Nothing is
/// written when an error is returned.
pub fn run_descriptor(mem: &mut Memory, d: &Descriptor, hw: &HwConfig) -> Result<Stats, ExecError> {
    check_descriptor(mem, d, hw)?;
    let steps = model::steps(d, hw);
    let overflows = match d.op {
        Op::Fp | Op::Bp => exec_conv(mem, d, hw, &steps),
        Op::Wu => exec_wu(mem, d, hw, &steps),
        Op::PoolFwd => {
            exec_pool_fwd(mem, d, hw, &steps);
            0
        }
        Op::PoolBwd => {
            exec_pool_bwd(mem, d, hw, &steps);
            0
        }
    };
    let mut stats = model::predict_steps(d, hw, &steps);
    stats.acc_overflows = overflows;
    Ok(stats)
}

/// Fills an input tile buffer `[lanes][rows_in][W_in + 2 pad]` for band
/// `rows` (output rows) of image `b`, channel tiles `ct`; padding and padded
/// lanes are zero.
#[allow(clippy::too_many_arguments)]
fn gather_input(
    buf: &mut [i64],
    words: &[i16],
    base: usize,
    lay: &ActLayout,
    b: usize,
    ct: std::ops::Range<usize>,
    rows: std::ops::Range<usize>,
    rows_cap: usize,
    k: usize,
    pad: usize,
) {
    let t = lay.t;
    let wp = lay.w + 2 * pad;
    let rows_in = rows.len() + k - 1;
    for (li, c) in (ct.start * t..ct.end * t).enumerate() {
        for ry in 0..rows_in {
            let dst = &mut buf[(li * rows_cap + ry) * wp..][..wp];
            let iy = (rows.start + ry).checked_sub(pad).filter(|&y| y < lay.h);
            match iy {
                Some(iy) if c < lay.c => {
                    dst[..pad].fill(0);
                    dst[pad + lay.w..].fill(0);
                    for (ix, v) in dst[pad..pad + lay.w].iter_mut().enumerate() {
                        *v = words[base + lay.offset(b, c, iy, ix)].into();
                    }
                }
                _ => dst.fill(0),
            }
        }
    }
}

/// FP and BP. Returns the number of wrapped accumulators.
fn exec_conv(mem: &mut Memory, d: &Descriptor, hw: &HwConfig, steps: &[Step]) -> u64 {
    let (s, tl, t) = (&d.shape, &d.tiling, hw.t);
    let k = s.k;
    let (_, in_w, pad_in) = conv_input(d);
    let ow = d.iter_cols();
    let (out_c, red_c) = (d.out_channels(), d.red_channels());
    let (in_lay, out_lay, wl) = conv_layouts(d, t);
    let wp = in_w + 2 * pad_in;
    let rows_cap = tl.tr + k - 1;
    let mut ibuf = vec![0i64; tl.n_on * rows_cap * wp];
    let mut wbuf = vec![0i64; tl.m_on * tl.n_on * k * k];
    let mut obuf = vec![0i64; tl.m_on * tl.tr * ow];
    let (ib, wb, ob, ab) = (
        d.base.input as usize,
        d.base.weights as usize,
        d.base.output as usize,
        d.base.aux as usize,
    );
    let mut overflows = 0;
    for st in steps {
        let m_lanes = st.mt.len() * t;
        let n_lanes = st.nt.len() * t;
        if st.load_w {
            let words = mem.words();
            for ml in 0..m_lanes {
                for nl in 0..n_lanes {
                    let (mo, ri) = (st.mt.start * t + ml, st.nt.start * t + nl);
                    for ky in 0..k {
                        for kx in 0..k {
                            let v = if mo >= out_c || ri >= red_c {
                                0
                            } else if d.op == Op::Fp {
                                words[wb + wl.offset(mo, ri, ky, kx)]
                            } else {
                                // BP: slice (K-1-ky, K-1-kx) of block (m, n), transposed.
                                words[wb + wl.offset(ri, mo, k - 1 - ky, k - 1 - kx)]
                            };
                            wbuf[((ml * tl.n_on + nl) * k + ky) * k + kx] = v.into();
                        }
                    }
                }
            }
        }
        gather_input(
            &mut ibuf,
            mem.words(),
            ib,
            &in_lay,
            st.b,
            st.nt.clone(),
            st.rows.clone(),
            rows_cap,
            k,
            pad_in,
        );
        if st.first {
            obuf.fill(0);
        }
        let nr = st.rows.len();
        for ml in 0..m_lanes {
            if st.mt.start * t + ml >= out_c {
                continue;
            }
            for nl in 0..n_lanes {
                if st.nt.start * t + nl >= red_c {
                    continue;
                }
                for ky in 0..k {
                    for kx in 0..k {
                        let wv = wbuf[((ml * tl.n_on + nl) * k + ky) * k + kx];
                        if wv == 0 {
                            continue;
                        }
                        for r in 0..nr {
                            let orow = &mut obuf[(ml * tl.tr + r) * ow..][..ow];
                            let irow = &ibuf[(nl * rows_cap + r + ky) * wp + kx..][..ow];
                            for (o, i) in orow.iter_mut().zip(irow) {
                                *o += wv * i;
                            }
                        }
                    }
                }
            }
        }
        if st.last {
            let words = mem.words_mut();
            for ml in 0..m_lanes {
                let mo = st.mt.start * t + ml;
                for (r, y) in st.rows.clone().enumerate() {
                    for x in 0..ow {
                        let o = out_lay.offset(st.b, mo, y, x);
                        words[ob + o] = if mo >= out_c {
                            0
                        } else {
                            let exact = obuf[(ml * tl.tr + r) * ow + x];
                            if !fits(exact.into(), hw.acc_w) {
                                overflows += 1;
                            }
                            let v = sat16(rs(sx(exact, hw.acc_w), d.s_out.into()));
                            match d.op {
                                Op::Fp if d.relu => v.max(0),
                                Op::Bp if d.relu_mask && words[ab + o] <= 0 => 0,
                                _ => v,
                            }
                        };
                    }
                }
            }
        }
    }
    overflows
}

/// WU with the fused SGD update. Returns the number of wrapped accumulators.
fn exec_wu(mem: &mut Memory, d: &Descriptor, hw: &HwConfig, steps: &[Step]) -> u64 {
    let (s, tl, t) = (&d.shape, &d.tiling, hw.t);
    let k = s.k;
    let ow = d.iter_cols();
    let (x_lay, d_lay, wl) = conv_layouts(d, t);
    let wp = s.w + 2 * s.pad;
    let rows_cap = tl.tr + k - 1;
    let mut xbuf = vec![0i64; tl.n_on * rows_cap * wp];
    let mut dbuf = vec![0i64; tl.m_on * tl.tr * ow];
    let mut gbuf = vec![0i64; tl.m_on * tl.n_on * k * k];
    let (ib, wb, ob, ab, w16b) = (
        d.base.input as usize,
        d.base.weights as usize,
        d.base.output as usize,
        d.base.aux as usize,
        d.base.w16_out as usize,
    );
    let g_pre = u32::from(d.g_pre);
    let mut overflows = 0;
    for st in steps {
        let m_lanes = st.mt.len() * t;
        let n_lanes = st.nt.len() * t;
        if st.first {
            gbuf.fill(0);
        }
        gather_input(
            &mut xbuf,
            mem.words(),
            ib,
            &x_lay,
            st.b,
            st.nt.clone(),
            st.rows.clone(),
            rows_cap,
            k,
            s.pad,
        );
        {
            let words = mem.words();
            for ml in 0..m_lanes {
                let mo = st.mt.start * t + ml;
                for (r, y) in st.rows.clone().enumerate() {
                    let row = &mut dbuf[(ml * tl.tr + r) * ow..][..ow];
                    for (x, v) in row.iter_mut().enumerate() {
                        *v = if mo < s.m {
                            words[ab + d_lay.offset(st.b, mo, y, x)].into()
                        } else {
                            0
                        };
                    }
                }
            }
        }
        let nr = st.rows.len();
        for ml in 0..m_lanes {
            if st.mt.start * t + ml >= s.m {
                continue;
            }
            for nl in 0..n_lanes {
                if st.nt.start * t + nl >= s.n {
                    continue;
                }
                for ky in 0..k {
                    for kx in 0..k {
                        let mut sum = 0i64;
                        for r in 0..nr {
                            let drow = &dbuf[(ml * tl.tr + r) * ow..][..ow];
                            let xrow = &xbuf[(nl * rows_cap + r + ky) * wp + kx..][..ow];
                            if g_pre == 0 {
                                sum += drow.iter().zip(xrow).map(|(a, b)| a * b).sum::<i64>();
                            } else {
                                sum += drow
                                    .iter()
                                    .zip(xrow)
                                    .map(|(a, b)| rs(a * b, g_pre))
                                    .sum::<i64>();
                            }
                        }
                        gbuf[((ml * tl.n_on + nl) * k + ky) * k + kx] += sum;
                    }
                }
            }
        }
        if st.last {
            let words = mem.words_mut();
            for ml in 0..m_lanes {
                for nl in 0..n_lanes {
                    let (mo, ri) = (st.mt.start * t + ml, st.nt.start * t + nl);
                    for ky in 0..k {
                        for kx in 0..k {
                            let o = wl.offset(mo, ri, ky, kx);
                            let (master, w16) = if mo >= s.m || ri >= s.n {
                                (0, 0)
                            } else {
                                let exact = gbuf[((ml * tl.n_on + nl) * k + ky) * k + kx];
                                if !fits(exact.into(), hw.acc_w_wu) {
                                    overflows += 1;
                                }
                                let m0 = join32(words[wb + 2 * o], words[wb + 2 * o + 1]);
                                sgd_step(sx(exact, hw.acc_w_wu), m0, d.lr_mant, d.lr_shift)
                            };
                            debug_assert_eq!(w16, sat16(rs(master.into(), MF)));
                            let (lo, hi) = split32(master);
                            words[ob + 2 * o] = lo;
                            words[ob + 2 * o + 1] = hi;
                            if d.write_w16 {
                                words[w16b + o] = w16;
                            }
                        }
                    }
                }
            }
        }
    }
    overflows
}

/// The input and pooled layouts of a pool descriptor, its (input, output,
/// argmax) bases, and every pooled element `(b, c, y, x)` of its steps in
/// step order (padded lanes included).
struct PoolWalk {
    in_lay: ActLayout,
    out_lay: ActLayout,
    ib: usize,
    ob: usize,
    ab: usize,
}

impl PoolWalk {
    fn new(d: &Descriptor, t: usize) -> Self {
        let s = &d.shape;
        let in_lay = ActLayout {
            b: s.b,
            c: s.n,
            h: s.h,
            w: s.w,
            t,
        };
        let out_lay = ActLayout {
            h: s.h / 2,
            w: s.w / 2,
            ..in_lay
        };
        Self {
            in_lay,
            out_lay,
            ib: d.base.input as usize,
            ob: d.base.output as usize,
            ab: d.base.aux as usize,
        }
    }

    fn for_each(&self, steps: &[Step], mut f: impl FnMut([usize; 4])) {
        let t = self.in_lay.t;
        for st in steps {
            for c in st.mt.start * t..st.mt.end * t {
                for y in st.rows.clone() {
                    for x in 0..self.out_lay.w {
                        f([st.b, c, y, x]);
                    }
                }
            }
        }
    }

    /// Input offset of window position `cand` (row-major in the 2x2 window)
    /// of pooled element `[b, c, y, x]`.
    fn window(&self, [b, c, y, x]: [usize; 4], cand: u8) -> usize {
        let (dy, dx) = (usize::from(cand >> 1), usize::from(cand & 1));
        self.in_lay.offset(b, c, 2 * y + dy, 2 * x + dx)
    }
}

fn exec_pool_fwd(mem: &mut Memory, d: &Descriptor, hw: &HwConfig, steps: &[Step]) {
    let n = d.shape.n;
    let p = PoolWalk::new(d, hw.t);
    let words = mem.words_mut();
    p.for_each(steps, |e @ [b, c, y, x]| {
        let (mut best, mut code) = (0i16, 0u8);
        if c < n {
            best = words[p.ib + p.window(e, 0)];
            for cand in 1..4u8 {
                let v = words[p.ib + p.window(e, cand)];
                if v > best {
                    (best, code) = (v, cand);
                }
            }
        }
        words[p.ob + p.out_lay.offset(b, c, y, x)] = best;
        let pos = p.out_lay.code_pos(b, c, y, x);
        if x % 8 == 0 {
            // A new word: columns past the last are 0.
            words[p.ab + pos.word] = 0;
        }
        put_code(&mut words[p.ab..], pos, code);
    });
}

fn exec_pool_bwd(mem: &mut Memory, d: &Descriptor, hw: &HwConfig, steps: &[Step]) {
    let n = d.shape.n;
    let p = PoolWalk::new(d, hw.t);
    let words = mem.words_mut();
    p.for_each(steps, |e @ [b, c, y, x]| {
        let (g, code) = if c < n {
            (
                words[p.ib + p.out_lay.offset(b, c, y, x)],
                get_code(&words[p.ab..], p.out_lay.code_pos(b, c, y, x)),
            )
        } else {
            (0, 0)
        };
        for cand in 0..4u8 {
            words[p.ob + p.window(e, cand)] = if cand == code { g } else { 0 };
        }
    });
}
