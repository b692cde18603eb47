//! Cycle model of the output-stationary TLMM engine (`rtl/tlmm/tlmm_os_engine.sv`).
//!
//! Two predictions of the busy cycles of one job (from the command beat to
//! the last result leaving the engine, as the RTL's `cnt_busy` counter
//! measures them) with ideal streams (every producer always valid, the
//! result consumer always ready):
//!
//! - [`OsCycleModel::predict`] steps the engine's control through the job
//!   (activation assembler, weight feed with its output-bank interlock,
//!   pipeline, result drain) without any data: exact by construction, and
//!   checked against the RTL by the co-simulation tests;
//! - [`OsCycleModel::ideal`] is the closed form of the spec,
//!   `ceil(M/P) * ceil(ceil(K/G)/T)` weight beats plus activation load
//!   (`ceil(K/4)` beats) plus pipeline latency and the last block's drain.
//!
//! Utilization is `M*K / (G*T*P * cycles)`.
//!
//! ```
//! use hls_rust::tlmm::cycle::OsCycleModel;
//! let model = OsCycleModel::new(3, 4, 16);
//! let c = model.predict(1536, 1536);
//! assert!(model.utilization(1536, 1536, c) > 0.9);
//! ```

/// Geometry of an output-stationary engine build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OsCycleModel {
    /// Activations per group.
    pub g: u64,
    /// Groups per cycle per lane.
    pub t: u64,
    /// Lanes.
    pub p: u64,
    /// The `Direct` datapath (codes decoded to digits, `G*T` leaves per
    /// lane) rather than table lookups (`T` leaves).
    pub direct: bool,
    /// `RegEvery`: adder-tree levels per register in the lanes.
    pub reg_every: u64,
}

/// Register stages of `tlmm_lane` over `leaves` leaves: after the leaves,
/// after every `reg_every`-th tree level and after the last one
/// (`tlmm_pkg::lane_latency`).
pub fn lane_latency(leaves: u64, reg_every: u64) -> u64 {
    let levels = if leaves > 1 {
        u64::from(leaves.next_power_of_two().trailing_zeros())
    } else {
        0
    };
    1 + (1..=levels)
        .filter(|&l| l == levels || l % reg_every.max(1) == 0)
        .count() as u64
}

/// Cycles by phase of one job, as [`OsCycleModel::breakdown`] reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Breakdown {
    /// Cycles in the activation load phase.
    pub load: u64,
    /// Cycles feeding weight beats (including interlock stalls).
    pub compute: u64,
    /// Cycles after the last weight beat until the engine is idle.
    pub drain: u64,
}

impl Breakdown {
    /// All busy cycles.
    pub fn total(&self) -> u64 {
        self.load + self.compute + self.drain
    }
}

impl OsCycleModel {
    /// A build with the RTL's defaults: the `Direct` datapath, lane
    /// registers every two tree levels (`RegEvery = 2`).
    pub fn new(g: u64, t: u64, p: u64) -> Self {
        Self {
            g,
            t,
            p,
            direct: true,
            reg_every: 2,
        }
    }

    /// The same geometry with the `Direct` datapath or without.
    pub fn with_direct(self, direct: bool) -> Self {
        Self { direct, ..self }
    }

    /// Pipeline stages from a weight beat's acceptance to its accumulation:
    /// the buffer read, the operand registers, then the lane's registers.
    pub fn pipe_latency(&self) -> u64 {
        let leaves = if self.direct { self.g * self.t } else { self.t };
        2 + lane_latency(leaves, self.reg_every)
    }

    /// Chunks of `G*T` activations for a given K.
    pub fn chunks(&self, k: u64) -> u64 {
        k.div_ceil(self.g).div_ceil(self.t)
    }

    /// Exact busy cycles of a job with ideal streams.
    pub fn predict(&self, m: u64, k: u64) -> u64 {
        self.breakdown(m, k).total()
    }

    /// Exact busy cycles of a job with ideal streams, by phase.
    pub fn breakdown(&self, m: u64, k: u64) -> Breakdown {
        let load = self.load_cycles(k);
        let (compute, drain) = self.compute_cycles(m, self.chunks(k));
        Breakdown {
            load,
            compute,
            drain,
        }
    }

    /// The spec's closed form: weight beats + activation beats + pipeline
    /// latency + draining the last row block (the engine's fixed overheads
    /// approximated as 3 cycles).
    pub fn ideal(&self, m: u64, k: u64) -> u64 {
        let blocks = m.div_ceil(self.p);
        let last_rows = m - (blocks - 1) * self.p;
        blocks * self.chunks(k) + k.div_ceil(4) + self.pipe_latency() + last_rows + 3
    }

    /// `M*K / (G*T*P * cycles)`.
    pub fn utilization(&self, m: u64, k: u64, cycles: u64) -> f64 {
        (m * k) as f64 / ((self.g * self.t * self.p * cycles) as f64)
    }

    /// Activation load: the assembler of `tlmm_act_buffer`, one cycle per
    /// step, until its `done` is seen by the engine.
    fn load_cycles(&self, k: u64) -> u64 {
        let gt = self.g * self.t;
        let (mut bytes, mut cnt, mut loading) = (0u64, 0u64, true);
        let mut cycles = 0;
        // The engine checks the command in the cycle after it moves
        // (`StAccept`, counted below), enters its load state the cycle
        // after and leaves it in the cycle after the buffer reports done.
        while loading {
            cycles += 1;
            let all_in = bytes == k;
            let wr = cnt >= gt || (all_in && cnt != 0);
            // A write removes a full chunk, or the final partial one.
            let after_wr = if wr { cnt.saturating_sub(gt) } else { cnt };
            let ready = !all_in && cnt < 2 * gt;
            let mut next = after_wr;
            if ready {
                let take = (k - bytes).min(4);
                bytes += take;
                next += take;
            }
            if all_in && cnt == 0 {
                loading = false;
            }
            cnt = next;
        }
        // Plus the cycle in which the engine sees done and moves on, and
        // the accept cycle.
        cycles + 2
    }

    /// Weight feed and drain: returns (cycles in the compute state, cycles
    /// in the drain state).
    fn compute_cycles(&self, m: u64, chunks: u64) -> (u64, u64) {
        let lat = self.pipe_latency() as usize;
        let blocks = m.div_ceil(self.p);
        // Pipeline of (valid, last-of-block, rows in block) entries.
        let mut pipe: Vec<Option<(bool, u64)>> = vec![None; lat];
        let mut bank = 0u64;
        let (mut block, mut chunk) = (0u64, 0u64);
        let (mut compute, mut drain) = (0u64, 0u64);
        let mut feeding = true;
        loop {
            let last_in_flight = pipe.iter().any(|e| matches!(e, Some((true, _))));
            let last_chunk = chunk + 1 == chunks;
            let fire = feeding && !(last_chunk && (last_in_flight || bank != 0));
            if feeding {
                compute += 1;
            } else {
                drain += 1;
            }
            // The drain ends in a cycle where the pipeline and bank are empty.
            if !feeding && pipe.iter().all(Option::is_none) && bank == 0 {
                break;
            }
            // Accumulate stage and result drain (consumer always ready).
            let landing = pipe[lat - 1];
            if let Some((true, rows)) = landing {
                bank = rows;
            } else {
                bank = bank.saturating_sub(1);
            }
            pipe.rotate_right(1);
            pipe[0] = None;
            if fire {
                let rows = if block + 1 == blocks {
                    m - block * self.p
                } else {
                    self.p
                };
                pipe[0] = Some((last_chunk, rows));
                if last_chunk {
                    chunk = 0;
                    block += 1;
                    if block == blocks {
                        feeding = false;
                    }
                } else {
                    chunk += 1;
                }
            }
        }
        (compute, drain)
    }
}

/// Cycle model of the table-stationary TLMM engine
/// (`rtl/tlmm/tlmm_ts_engine.sv`).
///
/// Busy cycles of one job with ideal streams, as the RTL's `cnt_busy`
/// counter measures them. [`TsCycleModel::predict`] steps the engine's
/// control without data: the activation load (the same assembler as the
/// output-stationary engine), the serial table builder (one cycle to read a
/// chunk, then one entry per cycle: `1 + NE` cycles per chunk, two banks),
/// the weight feed (a beat moves when its chunk's bank is built; a bank is
/// freed when its chunk's last beat moves), the two-stage
/// read-modify-write pipeline, and the drain of `M` rows out of the
/// partial-sum RAMs through the 4-entry result FIFO. [`TsCycleModel::ideal`]
/// is the closed form.
///
/// ```
/// use hls_rust::tlmm::cycle::TsCycleModel;
/// let model = TsCycleModel { g: 3, t: 3, p: 4 };
/// // 16 row blocks per chunk cover the 15-cycle table build.
/// let c = model.predict(64, 256);
/// assert!(model.utilization(64, 256, c) > 0.5);
/// assert!(c.abs_diff(model.ideal(64, 256)) <= 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TsCycleModel {
    /// Activations per group.
    pub g: u64,
    /// Groups per cycle per lane.
    pub t: u64,
    /// Lanes.
    pub p: u64,
}

/// Entries of the result FIFO of the table-stationary engine.
pub const TS_OUT_FIFO_DEPTH: u64 = 4;

impl TsCycleModel {
    /// A build of this geometry.
    pub fn new(g: u64, t: u64, p: u64) -> Self {
        Self { g, t, p }
    }

    /// Table entries per group, `(3^G - 1) / 2 + 1`.
    pub fn entries(&self) -> u64 {
        (3u64.pow(self.g as u32) - 1) / 2 + 1
    }

    /// Cycles the builder needs per chunk: one to read the chunk, one per
    /// entry.
    pub fn build_cycles(&self) -> u64 {
        1 + self.entries()
    }

    /// Chunks of `G*T` activations for a given K.
    pub fn chunks(&self, k: u64) -> u64 {
        k.div_ceil(self.g).div_ceil(self.t)
    }

    /// Exact busy cycles of a job with ideal streams.
    pub fn predict(&self, m: u64, k: u64) -> u64 {
        self.breakdown(m, k).total()
    }

    /// Exact busy cycles of a job with ideal streams, by phase.
    pub fn breakdown(&self, m: u64, k: u64) -> Breakdown {
        let os = OsCycleModel::new(self.g, self.t, self.p);
        let load = os.load_cycles(k);
        let compute = self.compute_cycles(m, self.chunks(k));
        Breakdown {
            load,
            compute,
            drain: self.drain_cycles(m),
        }
    }

    /// Closed form: activation load, the first chunk's table build, then per
    /// chunk the slower of the row blocks and the next build, the pipeline,
    /// and `M` results (plus the read and FIFO latency, 4 cycles).
    pub fn ideal(&self, m: u64, k: u64) -> u64 {
        let nrb = m.div_ceil(self.p);
        let nc = self.chunks(k);
        let per_chunk = nrb.max(self.build_cycles());
        k.div_ceil(4) + 2 + self.build_cycles() + (nc - 1) * per_chunk + nrb + 2 + m + 4
    }

    /// `M*K / (G*T*P * cycles)`.
    pub fn utilization(&self, m: u64, k: u64, cycles: u64) -> f64 {
        (m * k) as f64 / ((self.g * self.t * self.p * cycles) as f64)
    }

    /// Cycles in the compute state: until the last weight beat moves.
    fn compute_cycles(&self, m: u64, chunks: u64) -> u64 {
        let ne = self.entries();
        let nrb = m.div_ceil(self.p);
        // Builder.
        let (mut bld_busy, mut ent, mut bld_chunk) = (false, 0u64, 0u64);
        let mut full = [false; 2];
        let (mut rb, mut chunk) = (0u64, 0u64);
        let mut cycles = 0;
        loop {
            cycles += 1;
            let bank = (bld_chunk % 2) as usize;
            let start = !bld_busy && bld_chunk < chunks && !full[bank];
            let fire = full[(chunk % 2) as usize];
            let mut next_full = full;
            if start {
                bld_busy = true;
                ent = 0;
            } else if bld_busy {
                if ent + 1 == ne {
                    bld_busy = false;
                    next_full[bank] = true;
                    bld_chunk += 1;
                } else {
                    ent += 1;
                }
            }
            let last_block = rb + 1 == nrb;
            if fire && last_block {
                next_full[(chunk % 2) as usize] = false;
            }
            full = next_full;
            if fire {
                if last_block {
                    rb = 0;
                    chunk += 1;
                    if chunk == chunks {
                        return cycles;
                    }
                } else {
                    rb += 1;
                }
            }
        }
    }

    /// Cycles in the drain state: the last beat's two pipeline stages, then
    /// `M` reads through the result FIFO, until the FIFO is empty.
    fn drain_cycles(&self, m: u64) -> u64 {
        // Stage occupancy after the last beat: stage 1 now, stage 2 next.
        let (mut v1, mut v2) = (true, false);
        let (mut row, mut in_flight, mut level) = (0u64, false, 0u64);
        let mut cycles = 0;
        loop {
            cycles += 1;
            let empty = !v1 && !v2;
            let issue = empty && row != m && level + u64::from(in_flight) < TS_OUT_FIFO_DEPTH;
            if empty && row == m && !in_flight && level == 0 {
                return cycles;
            }
            let pop = level > 0;
            level = level + u64::from(in_flight) - u64::from(pop);
            in_flight = issue;
            row += u64::from(issue);
            v2 = v1;
            v1 = false;
        }
    }
}

#[cfg(test)]
mod ts_tests {
    use super::*;

    #[test]
    fn lane_latency_counts_the_registered_levels() {
        // (leaves, reg_every) -> registers: leaves, then levels 2, 4, ... and the last.
        for (leaves, reg_every, want) in [
            (1, 2, 1),
            (2, 2, 2),
            (4, 2, 2),
            (9, 2, 3),
            (12, 2, 3),
            (16, 2, 3),
            (32, 2, 4),
            (4, 1, 3),
            (12, 3, 3),
            (12, 4, 2),
        ] {
            assert_eq!(
                lane_latency(leaves, reg_every),
                want,
                "{leaves} leaves, every {reg_every}"
            );
        }
        assert_eq!(
            OsCycleModel::new(3, 1, 4).with_direct(false).pipe_latency(),
            3
        );
        assert_eq!(OsCycleModel::new(3, 1, 4).pipe_latency(), 4);
        assert_eq!(OsCycleModel::new(3, 4, 16).pipe_latency(), 5);
    }

    #[test]
    fn ts_model_is_stream_bound_when_row_blocks_cover_the_build() {
        let model = TsCycleModel { g: 3, t: 3, p: 4 };
        // 32 row blocks >= 15 build cycles: one beat per cycle per chunk.
        let (m, k) = (128, 900);
        let b = model.breakdown(m, k);
        let nc = model.chunks(k);
        assert!(b.compute >= 32 * nc);
        assert!(b.compute <= 32 * nc + model.build_cycles() + 2);
    }

    #[test]
    fn ts_model_streams_a_beat_per_cycle_once_row_blocks_cover_the_build() {
        let model = TsCycleModel { g: 3, t: 3, p: 4 };
        // Ten more chunks cost ten times the slower of the row blocks and
        // the 15-cycle build.
        for nrb in [13u64, 14, 15, 16, 17] {
            let m = 4 * nrb;
            let extra = model.predict(m, 180) - model.predict(m, 90) - (180 - 90) / 4;
            assert_eq!(
                extra,
                10 * nrb.max(model.build_cycles()),
                "{nrb} row blocks"
            );
        }
    }

    #[test]
    fn ts_model_is_build_bound_for_few_rows() {
        let model = TsCycleModel { g: 3, t: 1, p: 4 };
        let (m, k) = (4, 30);
        let b = model.breakdown(m, k);
        assert_eq!(b.compute, 10 * model.build_cycles() + 1);
        // Two pipeline stages, four reads, then read latency, FIFO and the
        // cycle that sees it empty.
        assert_eq!(b.drain, 2 + 4 + 3);
    }

    #[test]
    fn ts_closed_form_is_close_to_the_exact_model() {
        for (g, t, p) in [(3, 3, 4), (1, 4, 4), (3, 2, 3), (1, 1, 1)] {
            let model = TsCycleModel { g, t, p };
            for (m, k) in [(1, 1), (5, 7), (17, 64), (64, 256), (40, 512)] {
                let exact = model.predict(m, k);
                let ideal = model.ideal(m, k);
                assert!(
                    exact.abs_diff(ideal) <= 4 + model.chunks(k),
                    "G{g} T{t} P{p} M={m} K={k}: exact {exact}, closed form {ideal}"
                );
            }
        }
    }
}
