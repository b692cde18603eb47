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
//! let model = OsCycleModel { g: 3, t: 4, p: 16 };
//! let c = model.predict(1536, 1536);
//! assert!(model.utilization(1536, 1536, c) > 0.9);
//! ```

/// Pipeline stages from a weight beat's acceptance to its accumulation.
pub const PIPE_LATENCY: u64 = 3;

/// Geometry of an output-stationary engine build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OsCycleModel {
    /// Activations per group.
    pub g: u64,
    /// Groups per cycle per lane.
    pub t: u64,
    /// Lanes.
    pub p: u64,
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
        blocks * self.chunks(k) + k.div_ceil(4) + PIPE_LATENCY + last_rows + 3
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
        // The engine enters its load state one cycle after the command and
        // leaves it in the cycle after the buffer reports done.
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
        // Plus the cycle in which the engine sees done and moves on.
        cycles + 1
    }

    /// Weight feed and drain: returns (cycles in the compute state, cycles
    /// in the drain state).
    fn compute_cycles(&self, m: u64, chunks: u64) -> (u64, u64) {
        let lat = PIPE_LATENCY as usize;
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
