//! Analytical model: buffer use, the hazard rule, the step sequence of a
//! descriptor, and its predicted cycles, words and bursts; plus the tiling
//! search that picks the fastest schedule.
//!
//! # Step sequence
//!
//! The engine runs a descriptor as a sequence of *steps*; the reference
//! executor ([`crate::conv::exec`]) follows exactly the same sequence.
//! `oct`/`rct` are the tiles of output/reduction channels (`ceil(C/T)`),
//! `mo = M_on/T`, `no = N_on/T`:
//!
//! - FP, BP: `for m-chunk (mo tiles) { for b { for band (Tr rows) { for n-chunk (no tiles) { step } } } }`.
//!   A step loads the input tile (`no*T` channels, the band's `Tr+K-1` input
//!   rows clipped to the image, full width) and the weight tile
//!   (`mo*T x no*T x K x K`; loaded once per m-chunk when `no >= rct`, i.e.
//!   the chunk's weights stay resident for the whole batch, else every
//!   step), then accumulates. After the band's last n-chunk the band drains:
//!   store `mo*T x Tr x W_out` words (BP with relu_mask also reads act_in).
//! - WU: `for m-chunk { for n-chunk { for b { for band { step } } } }`. A step
//!   loads the x tile and the dO tile; the drain after the chunk pair's
//!   last step is the SGD update: read and write the int32 masters
//!   (2 words each) and write the w16 copy.
//! - POOL_FWD/BWD: `for b { for channel chunk (M_on) { for band (Tr output rows) { step } } }`,
//!   every step drains (pooled tile plus argmax words, or the input-size
//!   gradient tile).
//!
//! Transfers are bursts: the words of one tile that are contiguous in
//! memory form one burst (e.g. one per channel tile, or one for the whole
//! tile when the band spans the full height).
//!
//! # Cycle model (EF-Train's overlapped latency, one shared memory port)
//!
//! | term | formula |
//! |---|---|
//! | `xfer(t)` | `sum over bursts (t_burst + ceil(len / words_per_cycle))` |
//! | `c_s` (compute, FP/BP/WU) | `rows * ceil(W_out/P) * K*K * mtiles * ntiles` |
//! | `c_s` (pools) | `mtiles * 2*rows * W_in` (one input-size pixel per cycle: the pool unit is not pixel-parallel, the port moves one such pixel per beat) |
//! | `l_s` (load) | `xfer(input tile) + xfer(weight tile, if loaded)` |
//! | `d_s` (drain) | `xfer(output tile)` (+ act_in read; WU: master read + write + w16 write) |
//! | `port_s` | `l_{s+1} + d_{s-1}` (prefetch of the next step and store of the previous band share the port) |
//! | `g_s` (WU gradient drain wait) | `(sets - 1) * max(0, D - set)`, `D` = [`HwConfig::grad_drain_cycles`] |
//! | step time | `t_step + max(c_s + g_s, port_s)` |
//! | total | `t_desc + l_1 + sum_s (t_step + max(c_s, port_s)) + d_S` |
//!
//! `fired = sum c_s`; a step's excess `max(0, port_s - c_s)` is a stall,
//! attributed to input, weights and output in proportion to their shares of
//! `port_s`; `l_1` is input/weight stall, `d_S` output stall; `t_desc` and
//! `t_step` are overhead. So `cycles = fired + stalls + overhead` exactly.
//!
//! Without overlap ([`CycleParams::overlap`](super::hw::CycleParams) false,
//! an engine that loads, computes and stores one after the other, except
//! that the next step's input tile is prefetched while a step computes, like
//! the current RTL), every step costs
//! `t_step + l'_s + max(w_s + c_s + g_s, i_{s+1}) + d_s`, where `i_s` is the
//! input tile's part of `l_s`, `l'_s = l_s - i_s` for every step but the
//! first, and `w_s` is the weight-register wait of FP and BP: `T` cycles for
//! the step's first (ky, kx) set, plus `T - set` for every later set shorter
//! than `T` cycles (`set = rows * ceil(W_out/P)`; longer sets fill the
//! shadow registers of the next set while they fire). Transfers are stalls
//! of their cause (a prefetch longer than the compute an input stall), `w_s`
//! a weight stall. `g_s` (WU only) is the output stall of sets shorter than
//! the gradient buffer's drain of `D` cycles (`D` =
//! [`HwConfig::grad_drain_cycles`]: each set's last fire waits for the
//! previous set's drain), and the master read after a chunk pair's last
//! step waits `D + 1` cycles for the last one (the lanes add a cycle after
//! the fire, behind the product register; a weight stall; the prefetch
//! wait overlaps it and only what exceeds `D + 1` is an input stall).
//! The constants `t_desc`, `t_step`, `t_burst` and `words_per_cycle` live in
//! [`HwConfig`] for calibration.
//!
//! # Constraints
//!
//! | buffer | FP / BP | WU | POOL_FWD | POOL_BWD |
//! |---|---|---|---|---|
//! | input (words) | `N_on*(Tr+K-1)*(W_in+2 pad_in)` | `N_on*(Tr+K-1)*(W+2 pad)` | `M_on*2Tr*W` | `M_on*Tr*W/2` |
//! | weights (words) | `M_on*N_on*K*K` | 0 | 0 | 0 |
//! | output (entries) | `M_on*Tr*W_out` | `M_on*Tr*Wo` (dO tile) | `M_on*Tr*W/2` | `M_on*2Tr*W` |
//! | gradient (entries) | 0 | `M_on*N_on*K*K` | 0 | 0 |
//!
//! (`pad_in` is `pad` for FP, `K-1-pad` for BP.) Hazard rule for FP, BP and
//! WU: the accumulator read-modify-write period `Tr*ceil(W_out/P)` must be at
//! least `acc_depth`. `M_on`, `N_on` are multiples of T, at most the padded
//! channel counts.
//!
//! # Search
//!
//! [`best_tiling`] evaluates, for every distinct number of bands and of
//! chunks, the smallest `Tr`, `M_on`, `N_on` giving it (larger values with the
//! same counts only cost buffer space), keeps those meeting the constraints
//! and picks the fewest cycles, then the least traffic, then fewest bursts.
//!
//! ```
//! use hls_rust::conv::desc::{ConvShape, Descriptor, Op};
//! use hls_rust::conv::{model, HwConfig};
//!
//! let hw = HwConfig::ecp5();
//! let d = Descriptor::new(Op::Fp, ConvShape { n: 16, m: 32, h: 16, w: 16, k: 3, pad: 1, b: 4 });
//! let (tiling, stats) = model::best_tiling(&d, &hw).unwrap();
//! assert!(model::check_tiling(&Descriptor { tiling, ..d }, &hw).is_ok());
//! assert_eq!(stats.cycles, stats.fired + stats.stalls() + stats.overhead);
//! assert!(stats.utilization(&hw) > 0.5);
//! ```

use super::desc::{Descriptor, Op, Tiling};
use super::hw::HwConfig;
use super::layout::{ActLayout, WeightLayout, tiles};
use std::ops::{AddAssign, Range};

/// Counters of one descriptor (or a sum of several): what the engine's
/// status registers report. From the model these are predictions (cycles)
/// and exact counts (words, bursts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Total cycles.
    pub cycles: u64,
    /// Cycles the MAC array (or pool unit) fired.
    pub fired: u64,
    /// Stall cycles waiting for input tiles.
    pub stall_input: u64,
    /// Stall cycles waiting for weights.
    pub stall_weights: u64,
    /// Stall cycles waiting for output stores (and WU updates).
    pub stall_output: u64,
    /// Fixed overhead cycles (`t_desc`, `t_step`).
    pub overhead: u64,
    /// Words read from memory.
    pub words_read: u64,
    /// Words written to memory.
    pub words_written: u64,
    /// Bursts issued.
    pub bursts: u64,
    /// Useful multiply-accumulates ([`useful_macs`]).
    pub macs: u64,
    /// Model only (no RTL counter): accumulators whose exact sum fell
    /// outside ACC_W (ACC_W_WU for WU) and wrapped.
    pub acc_overflows: u64,
}

impl Stats {
    /// All stall cycles.
    pub fn stalls(&self) -> u64 {
        self.stall_input + self.stall_weights + self.stall_output
    }

    /// Words moved in either direction.
    pub fn traffic(&self) -> u64 {
        self.words_read + self.words_written
    }

    /// Effective utilization: useful MACs / (`T*T*P` * cycles).
    pub fn utilization(&self, hw: &HwConfig) -> f64 {
        self.macs as f64 / (hw.peak_macs() as f64 * self.cycles.max(1) as f64)
    }

    /// Array occupancy: fired / total cycles.
    pub fn occupancy(&self) -> f64 {
        self.fired as f64 / self.cycles.max(1) as f64
    }

    /// Time at the configured clock, in seconds.
    pub fn seconds(&self, hw: &HwConfig) -> f64 {
        self.cycles as f64 / (hw.clock_mhz * 1e6)
    }
}

impl AddAssign for Stats {
    fn add_assign(&mut self, o: Stats) {
        self.cycles += o.cycles;
        self.fired += o.fired;
        self.stall_input += o.stall_input;
        self.stall_weights += o.stall_weights;
        self.stall_output += o.stall_output;
        self.overhead += o.overhead;
        self.words_read += o.words_read;
        self.words_written += o.words_written;
        self.bursts += o.bursts;
        self.macs += o.macs;
        self.acc_overflows += o.acc_overflows;
    }
}

/// A schedule the hardware cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TilingError {
    /// `M_on` or `N_on` is not a multiple of T.
    #[error("{field} = {value} is not a multiple of T = {t}")]
    NotMultiple {
        /// `M_on` or `N_on`.
        field: &'static str,
        /// Its value.
        value: usize,
        /// The channel tile.
        t: usize,
    },
    /// `M_on` or `N_on` exceeds the padded channel count.
    #[error("{field} = {value} exceeds the padded channel count {max}")]
    TooLarge {
        /// `M_on` or `N_on`.
        field: &'static str,
        /// Its value.
        value: usize,
        /// The largest allowed.
        max: usize,
    },
    /// A tile does not fit its buffer.
    #[error("{buffer} buffer: tile needs {need}, capacity is {have}")]
    Capacity {
        /// Which buffer.
        buffer: &'static str,
        /// Entries needed.
        need: usize,
        /// Entries available.
        have: usize,
    },
    /// The accumulator read-modify-write recurs faster than the pipeline.
    #[error(
        "hazard: read-modify-write period Tr*ceil(W/P) = {period} cycles is below the accumulator pipeline depth {depth}"
    )]
    Hazard {
        /// `Tr*ceil(W_out/P)`.
        period: usize,
        /// `acc_depth`.
        depth: usize,
    },
    /// No tiling meets the constraints.
    #[error("no schedule fits this hardware for {op}; e.g. {example}")]
    NoSchedule {
        /// The operation.
        op: Op,
        /// Why a representative candidate failed.
        example: Box<TilingError>,
    },
}

/// Buffer space a tiling needs (see the table in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BufferUse {
    /// Input buffer, words.
    pub input: usize,
    /// Weight buffer, words.
    pub weights: usize,
    /// Output buffer, entries.
    pub output: usize,
    /// Gradient buffer, entries.
    pub grad: usize,
}

/// Input geometry of a conv op as the engine reads it: `(H_in, W_in, pad_in)`.
pub(crate) fn conv_input(d: &Descriptor) -> (usize, usize, usize) {
    let s = &d.shape;
    match d.op {
        Op::Bp => (s.ho(), s.wo(), s.k - 1 - s.pad),
        _ => (s.h, s.w, s.pad),
    }
}

/// Memory layouts a conv op (FP, BP or WU) reads and writes with channel
/// tile `t`: `(input activations, output activations, weights)`; for WU the
/// "output" is the output gradient dO it reads.
pub(crate) fn conv_layouts(d: &Descriptor, t: usize) -> (ActLayout, ActLayout, WeightLayout) {
    let s = &d.shape;
    let (in_h, in_w, _) = conv_input(d);
    let in_lay = ActLayout {
        b: s.b,
        c: d.red_channels(),
        h: in_h,
        w: in_w,
        t,
    };
    let out_lay = ActLayout {
        b: s.b,
        c: d.out_channels(),
        h: d.iter_rows(),
        w: d.iter_cols(),
        t,
    };
    let wl = WeightLayout {
        m: s.m,
        n: s.n,
        k: s.k,
        t,
    };
    (in_lay, out_lay, wl)
}

/// The buffer space the descriptor's tiling needs.
pub fn buffer_use(d: &Descriptor) -> BufferUse {
    let s = &d.shape;
    let t = &d.tiling;
    let ow = d.iter_cols();
    match d.op {
        Op::Fp | Op::Bp => {
            let (_, w_in, pad_in) = conv_input(d);
            BufferUse {
                input: t.n_on * (t.tr + s.k - 1) * (w_in + 2 * pad_in),
                weights: t.m_on * t.n_on * s.k * s.k,
                output: t.m_on * t.tr * ow,
                grad: 0,
            }
        }
        Op::Wu => BufferUse {
            input: t.n_on * (t.tr + s.k - 1) * (s.w + 2 * s.pad),
            weights: 0,
            output: t.m_on * t.tr * ow,
            grad: t.m_on * t.n_on * s.k * s.k,
        },
        Op::PoolFwd => BufferUse {
            input: t.m_on * 2 * t.tr * s.w,
            output: t.m_on * t.tr * ow,
            ..BufferUse::default()
        },
        Op::PoolBwd => BufferUse {
            input: t.m_on * t.tr * ow,
            output: t.m_on * 2 * t.tr * s.w,
            ..BufferUse::default()
        },
    }
}

/// Checks the tiling of a valid descriptor against the hardware: multiples
/// of T, channel bounds, buffer capacities and the hazard rule.
pub fn check_tiling(d: &Descriptor, hw: &HwConfig) -> Result<(), TilingError> {
    let t = hw.t;
    let tl = &d.tiling;
    let mut chans = vec![("M_on", tl.m_on, d.out_channels())];
    if d.op.is_conv() {
        chans.push(("N_on", tl.n_on, d.red_channels()));
    }
    for (field, value, c) in chans {
        if value == 0 || !value.is_multiple_of(t) {
            return Err(TilingError::NotMultiple { field, value, t });
        }
        let max = tiles(c, t) * t;
        if value > max {
            return Err(TilingError::TooLarge { field, value, max });
        }
    }
    let u = buffer_use(d);
    for (buffer, need, have) in [
        ("input", u.input, hw.in_buf),
        ("weight", u.weights, hw.w_buf),
        ("output", u.output, hw.out_buf),
        ("gradient", u.grad, hw.grad_buf),
    ] {
        if need > have {
            return Err(TilingError::Capacity { buffer, need, have });
        }
    }
    if d.op.is_conv() {
        let period = tl.tr * d.iter_cols().div_ceil(hw.p);
        if period < hw.acc_depth {
            return Err(TilingError::Hazard {
                period,
                depth: hw.acc_depth,
            });
        }
    }
    Ok(())
}

/// Cause of a transfer, for stall attribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    Input = 0,
    Weights = 1,
    Output = 2,
}

/// Words, bursts and port cycles of some transfers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Xfer {
    pub read: u64,
    pub written: u64,
    pub bursts: u64,
    pub cycles: u64,
}

/// Transfers by cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Traffic(pub [Xfer; 3]);

impl Traffic {
    /// Adds bursts `runs` (offset, words) read or written for `cause`.
    fn add(&mut self, hw: &HwConfig, cause: Cause, runs: &[(usize, usize)], write: bool) {
        let x = &mut self.0[cause as usize];
        for &(_, len) in runs {
            let len = len as u64;
            if write {
                x.written += len;
            } else {
                x.read += len;
            }
            x.bursts += 1;
            x.cycles += hw.t_burst + len.div_ceil(hw.words_per_cycle as u64);
        }
    }

    fn cycles(&self) -> [u64; 3] {
        self.0.map(|x| x.cycles)
    }
}

/// One step of a descriptor (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// Image.
    pub b: usize,
    /// Output-channel tiles (pools: channel tiles).
    pub mt: Range<usize>,
    /// Reduction tiles (empty for pools).
    pub nt: Range<usize>,
    /// Output rows of the band.
    pub rows: Range<usize>,
    /// First step of an accumulation group (clear the accumulators).
    pub first: bool,
    /// Last step of the group: the drain follows.
    pub last: bool,
    /// The step loads a weight tile.
    pub load_w: bool,
    /// Array (or pool unit) cycles.
    pub compute: u64,
    /// Weight-register wait of a sequential engine (FP, BP).
    pub wreg: u64,
    /// WU: cycles its sets wait for the previous set's gradient drain
    /// (`max(0, D - set)` for every set but the step's first, `D` =
    /// [`HwConfig::grad_drain_cycles`]).
    pub gwait: u64,
    /// WU, last step of a chunk pair: the master read waits `D + 1`
    /// cycles for the last set's drain ([`HwConfig::mrd_wait_cycles`]; the
    /// prefetch wait overlaps them).
    pub mrd_wait: u64,
    /// Port cycles of the input tile (part of `load`; a sequential engine
    /// prefetches it during the previous step's compute).
    pub in_cycles: u64,
    /// Transfers before the step can compute.
    pub load: Traffic,
    /// Transfers after the step (only when `last`).
    pub drain: Traffic,
}

impl Step {
    /// Adds the step's input tile, `runs`, to its load.
    fn add_input(&mut self, hw: &HwConfig, runs: &[(usize, usize)]) {
        let before = self.load.cycles()[Cause::Input as usize];
        self.load.add(hw, Cause::Input, runs, false);
        self.in_cycles = self.load.cycles()[Cause::Input as usize] - before;
    }
}

/// Merges (offset, len) runs that are contiguous.
fn push_run(runs: &mut Vec<(usize, usize)>, off: usize, len: usize) {
    if let Some(last) = runs.last_mut()
        && last.0 + last.1 == off
    {
        last.1 += len;
        return;
    }
    runs.push((off, len));
}

/// Bursts of an activation tile: channel tiles `ct`, rows `rows`, full width.
fn act_runs(
    lay: &ActLayout,
    b: usize,
    ct: Range<usize>,
    rows: Range<usize>,
) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    if rows.is_empty() {
        return runs;
    }
    for c in ct {
        let off = lay.offset(b, c * lay.t, rows.start, 0);
        push_run(&mut runs, off, rows.len() * lay.w * lay.t);
    }
    runs
}

/// Word bursts of the argmax codes of an activation tile of the pooled layout.
fn argmax_runs(
    lay: &ActLayout,
    b: usize,
    ct: Range<usize>,
    rows: Range<usize>,
) -> Vec<(usize, usize)> {
    act_runs(&lay.argmax_layout(), b, ct, rows)
}

/// Bursts of the weight blocks `mt x nt` (forward tiles); `per` words per weight.
fn weight_runs(
    lay: &WeightLayout,
    mt: Range<usize>,
    nt: Range<usize>,
    per: usize,
) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let nts = tiles(lay.n, lay.t);
    for m in mt {
        push_run(
            &mut runs,
            per * (m * nts + nt.start) * lay.block(),
            per * nt.len() * lay.block(),
        );
    }
    runs
}

fn chunks(total: usize, per: usize) -> impl Iterator<Item = Range<usize>> {
    (0..total)
        .step_by(per.max(1))
        .map(move |s| s..(s + per).min(total))
}

/// The step sequence of a descriptor whose tiling passed [`check_tiling`].
pub(crate) fn steps(d: &Descriptor, hw: &HwConfig) -> Vec<Step> {
    let (s, tl, t) = (&d.shape, &d.tiling, hw.t);
    let (oh, ow) = (d.iter_rows(), d.iter_cols());
    let cols = ow.div_ceil(hw.p) as u64;
    let kk = (s.k * s.k) as u64;
    let mo = tl.m_on / t;
    let no = tl.n_on / t;
    let mut out = Vec::new();
    let step = |b, mt: Range<usize>, nt: Range<usize>, rows: Range<usize>| Step {
        b,
        mt,
        nt,
        rows,
        first: true,
        last: true,
        load_w: false,
        compute: 0,
        wreg: 0,
        gwait: 0,
        mrd_wait: 0,
        in_cycles: 0,
        load: Traffic::default(),
        drain: Traffic::default(),
    };
    match d.op {
        Op::Fp | Op::Bp => {
            let (in_h, _, pad_in) = conv_input(d);
            let (out_c, red_c) = (d.out_channels(), d.red_channels());
            let (in_lay, out_lay, wl) = conv_layouts(d, t);
            let (oct, rct) = (tiles(out_c, t), tiles(red_c, t));
            let resident = rct <= no;
            for mt in chunks(oct, mo) {
                let mut loaded = false;
                for b in 0..s.b {
                    for rows in chunks(oh, tl.tr) {
                        let lo = rows.start.saturating_sub(pad_in);
                        let hi = (rows.end + s.k - 1 - pad_in).min(in_h);
                        for nt in chunks(rct, no) {
                            let mut st = step(b, mt.clone(), nt.clone(), rows.clone());
                            st.first = nt.start == 0;
                            st.last = nt.end == rct;
                            st.load_w = !resident || !loaded;
                            loaded = true;
                            st.add_input(hw, &act_runs(&in_lay, b, nt.clone(), lo..hi));
                            if st.load_w {
                                let runs = if d.op == Op::Fp {
                                    weight_runs(&wl, mt.clone(), nt.clone(), 1)
                                } else {
                                    weight_runs(&wl, nt.clone(), mt.clone(), 1)
                                };
                                st.load.add(hw, Cause::Weights, &runs, false);
                            }
                            let set = rows.len() as u64 * cols;
                            let sets = kk * (mt.len() * nt.len()) as u64;
                            st.compute = set * sets;
                            st.wreg = t as u64 + (sets - 1) * (t as u64).saturating_sub(set);
                            if st.last {
                                let runs = act_runs(&out_lay, b, mt.clone(), rows.clone());
                                st.drain.add(hw, Cause::Output, &runs, true);
                                if d.relu_mask {
                                    st.drain.add(hw, Cause::Output, &runs, false);
                                }
                            }
                            out.push(st);
                        }
                    }
                }
            }
        }
        Op::Wu => {
            let (x_lay, d_lay, wl) = conv_layouts(d, t);
            let (oct, rct) = (tiles(s.m, t), tiles(s.n, t));
            for mt in chunks(oct, mo) {
                for nt in chunks(rct, no) {
                    for b in 0..s.b {
                        for rows in chunks(oh, tl.tr) {
                            let lo = rows.start.saturating_sub(s.pad);
                            let hi = (rows.end + s.k - 1 - s.pad).min(s.h);
                            let mut st = step(b, mt.clone(), nt.clone(), rows.clone());
                            st.first = b == 0 && rows.start == 0;
                            st.last = b + 1 == s.b && rows.end == oh;
                            st.add_input(hw, &act_runs(&x_lay, b, nt.clone(), lo..hi));
                            st.load.add(
                                hw,
                                Cause::Input,
                                &act_runs(&d_lay, b, mt.clone(), rows.clone()),
                                false,
                            );
                            let set = rows.len() as u64 * cols;
                            let sets = kk * (mt.len() * nt.len()) as u64;
                            st.compute = set * sets;
                            let drain = hw.grad_drain_cycles();
                            st.gwait = (sets - 1) * drain.saturating_sub(set);
                            if st.last {
                                st.mrd_wait = hw.mrd_wait_cycles();
                                let master = weight_runs(&wl, mt.clone(), nt.clone(), 2);
                                st.drain.add(hw, Cause::Weights, &master, false);
                                st.drain.add(hw, Cause::Output, &master, true);
                                if d.write_w16 {
                                    let w16 = weight_runs(&wl, mt.clone(), nt.clone(), 1);
                                    st.drain.add(hw, Cause::Output, &w16, true);
                                }
                            }
                            out.push(st);
                        }
                    }
                }
            }
        }
        Op::PoolFwd | Op::PoolBwd => {
            let in_lay = ActLayout {
                b: s.b,
                c: s.n,
                h: s.h,
                w: s.w,
                t,
            };
            let out_lay = ActLayout {
                b: s.b,
                c: s.n,
                h: oh,
                w: ow,
                t,
            };
            let ct = tiles(s.n, t);
            let in_cols = s.w as u64;
            for b in 0..s.b {
                for mt in chunks(ct, mo) {
                    for rows in chunks(oh, tl.tr) {
                        let big = 2 * rows.start..2 * rows.end;
                        let mut st = step(b, mt.clone(), 0..0, rows.clone());
                        st.compute = (mt.len() * big.len()) as u64 * in_cols;
                        let small = act_runs(&out_lay, b, mt.clone(), rows.clone());
                        let arg = argmax_runs(&out_lay, b, mt.clone(), rows.clone());
                        let large = act_runs(&in_lay, b, mt.clone(), big);
                        if d.op == Op::PoolFwd {
                            st.add_input(hw, &large);
                            st.drain.add(hw, Cause::Output, &small, true);
                            st.drain.add(hw, Cause::Output, &arg, true);
                        } else {
                            st.add_input(hw, &small);
                            st.load.add(hw, Cause::Input, &arg, false);
                            st.drain.add(hw, Cause::Output, &large, true);
                        }
                        out.push(st);
                    }
                }
            }
        }
    }
    out
}

/// Splits `excess` over three causes in proportion to `parts`.
fn split(excess: u64, parts: [u64; 3]) -> [u64; 3] {
    let total: u64 = parts.iter().sum();
    if total == 0 {
        return [0, 0, excess];
    }
    let mut r = parts.map(|p| (u128::from(excess) * u128::from(p) / u128::from(total)) as u64);
    let rest = excess - r.iter().sum::<u64>();
    let big = (0..3).max_by_key(|&i| parts[i]).unwrap_or(2);
    r[big] += rest;
    r
}

/// Useful MACs of a descriptor: `B*M*N*K*K` times the engine's output
/// iteration space (`Ho*Wo` for FP and WU, `H*W` for BP); 0 for pools.
pub fn useful_macs(d: &Descriptor) -> u64 {
    if !d.op.is_conv() {
        return 0;
    }
    let s = &d.shape;
    [s.b, s.m, s.n, d.iter_rows(), d.iter_cols(), s.k, s.k]
        .iter()
        .map(|&v| v as u64)
        .product()
}

/// Evaluates the cycle model on a step sequence.
pub(crate) fn predict_steps(d: &Descriptor, hw: &HwConfig, steps: &[Step]) -> Stats {
    let mut st = Stats {
        macs: useful_macs(d),
        ..Stats::default()
    };
    let mut stall = [0u64; 3];
    let charge = |st: &mut Stats, tr: &Traffic| {
        for x in &tr.0 {
            st.words_read += x.read;
            st.words_written += x.written;
            st.bursts += x.bursts;
        }
    };
    st.cycles = hw.cycle.t_desc;
    st.overhead = hw.cycle.t_desc;
    if !hw.cycle.overlap {
        for (i, s) in steps.iter().enumerate() {
            charge(&mut st, &s.load);
            let mut xfer = s.load.cycles();
            if i > 0 {
                // Prefetched during the previous step.
                xfer[Cause::Input as usize] -= s.in_cycles;
            }
            if s.last {
                charge(&mut st, &s.drain);
                let d = s.drain.cycles();
                for j in 0..3 {
                    xfer[j] += d[j];
                }
            }
            xfer[Cause::Weights as usize] += s.wreg;
            xfer[Cause::Output as usize] += s.gwait;
            let busy = s.wreg + s.compute + s.gwait;
            let next = steps.get(i + 1).map_or(0, |n| n.in_cycles);
            // The master read's request first waits for the gradient drain
            // (a weight stall, even while the prefetch runs), then for the
            // rest of the prefetch.
            let pf_wait = next.saturating_sub(busy);
            xfer[Cause::Input as usize] += pf_wait.saturating_sub(s.mrd_wait);
            xfer[Cause::Weights as usize] += s.mrd_wait;
            st.cycles += hw.cycle.t_step + s.compute + xfer.iter().sum::<u64>();
            st.overhead += hw.cycle.t_step;
            st.fired += s.compute;
            for j in 0..3 {
                stall[j] += xfer[j];
            }
        }
    } else {
        if let Some(first) = steps.first() {
            let c = first.load.cycles();
            st.cycles += c.iter().sum::<u64>();
            for i in 0..3 {
                stall[i] += c[i];
            }
        }
        for (i, s) in steps.iter().enumerate() {
            charge(&mut st, &s.load);
            if s.last {
                charge(&mut st, &s.drain);
            }
            let mut port = steps.get(i + 1).map_or([0; 3], |n| n.load.cycles());
            if i > 0 && steps[i - 1].last {
                let dr = steps[i - 1].drain.cycles();
                for j in 0..3 {
                    port[j] += dr[j];
                }
            }
            let p: u64 = port.iter().sum();
            // WU sets held for the gradient drain are busy, not fired; the
            // master read waits for the last drain.
            let busy = s.compute + s.gwait;
            st.cycles += hw.cycle.t_step + busy.max(p) + s.mrd_wait;
            stall[Cause::Weights as usize] += s.mrd_wait;
            st.overhead += hw.cycle.t_step;
            st.fired += s.compute;
            stall[Cause::Output as usize] += s.gwait;
            let ex = split(p.saturating_sub(busy), port);
            for j in 0..3 {
                stall[j] += ex[j];
            }
        }
        if let Some(last) = steps.last() {
            let c = last.drain.cycles();
            st.cycles += c.iter().sum::<u64>();
            for j in 0..3 {
                stall[j] += c[j];
            }
        }
    }
    st.stall_input = stall[Cause::Input as usize];
    st.stall_weights = stall[Cause::Weights as usize];
    st.stall_output = stall[Cause::Output as usize];
    st
}

/// Predicted counters of a descriptor on `hw` (the descriptor and its
/// tiling must be valid).
pub fn predict(d: &Descriptor, hw: &HwConfig) -> Result<Stats, TilingError> {
    check_tiling(d, hw)?;
    Ok(predict_steps(d, hw, &steps(d, hw)))
}

/// Smallest values giving each distinct count of `ceil(total/v)` (times `unit`).
fn distinct(total: usize, unit: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (1..=total).map(|k| total.div_ceil(k) * unit).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The tilings [`best_tiling`] considers that meet every constraint.
pub fn candidates(d: &Descriptor, hw: &HwConfig) -> Vec<Tiling> {
    let t = hw.t;
    let trs = distinct(d.iter_rows(), 1);
    let mons = distinct(tiles(d.out_channels(), t), t);
    let nons = if d.op.is_conv() {
        distinct(tiles(d.red_channels(), t), t)
    } else {
        vec![0]
    };
    let mut out = Vec::new();
    for &tr in &trs {
        for &m_on in &mons {
            for &n_on in &nons {
                let tiling = Tiling { tr, m_on, n_on };
                if check_tiling(&Descriptor { tiling, ..*d }, hw).is_ok() {
                    out.push(tiling);
                }
            }
        }
    }
    out
}

/// The fastest tiling of `d` on `hw` (ties: less traffic, fewer bursts,
/// smaller tiles) and its predicted counters. `d.tiling` is ignored.
pub fn best_tiling(d: &Descriptor, hw: &HwConfig) -> Result<(Tiling, Stats), TilingError> {
    let mut best: Option<(Tiling, Stats)> = None;
    for tiling in candidates(d, hw) {
        let dd = Descriptor { tiling, ..*d };
        let s = predict_steps(&dd, hw, &steps(&dd, hw));
        let key = |(t, s): &(Tiling, Stats)| (s.cycles, s.traffic(), s.bursts, *t);
        if best.as_ref().is_none_or(|b| key(&(tiling, s)) < key(b)) {
            best = Some((tiling, s));
        }
    }
    best.ok_or_else(|| {
        // A representative failure: the smallest chunks with the smallest
        // band height that satisfies the hazard rule (or the full height).
        let rows = d.iter_rows();
        let per_row = d.iter_cols().div_ceil(hw.p).max(1);
        let tr = hw.acc_depth.div_ceil(per_row).clamp(1, rows.max(1));
        let n_on = if d.op.is_conv() { hw.t } else { 0 };
        let probe = Descriptor {
            tiling: Tiling {
                tr,
                m_on: hw.t,
                n_on,
            },
            ..*d
        };
        let example = check_tiling(&probe, hw)
            .err()
            .unwrap_or(TilingError::Hazard {
                period: 0,
                depth: hw.acc_depth,
            });
        TilingError::NoSchedule {
            op: d.op,
            example: Box::new(example),
        }
    })
}
