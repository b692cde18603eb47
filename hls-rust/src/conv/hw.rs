//! Hardware configuration of the training-convolution engine: array size,
//! memory port, buffer capacities, accumulator widths, and the named
//! constants of the cycle model (to be calibrated against RTL).

/// Constant overheads of the cycle model ([`crate::conv::model`]), in cycles.
/// Defaults are placeholders until calibrated against RTL measurements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CycleParams {
    /// `t_desc`: per descriptor (fetch, decode, address set-up).
    pub t_desc: u64,
    /// `t_step`: per step (one channel-chunk pair of one band): array
    /// pipeline fill and drain.
    pub t_step: u64,
    /// Load, compute and store overlap (EF-Train's structure, the
    /// architecture's target); `false` describes an engine that runs them
    /// one after the other (the current `rtl/conv` engine).
    pub overlap: bool,
}

/// An engine build: the parameters the RTL is elaborated with plus the
/// memory system it is attached to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HwConfig {
    /// Channel tile T (array is T x T x P).
    pub t: usize,
    /// Pixel parallelism P (adjacent output columns).
    pub p: usize,
    /// Clock in MHz (for converting cycles to time).
    pub clock_mhz: f64,
    /// Words the memory port moves per cycle once a burst runs.
    pub words_per_cycle: usize,
    /// Start-up cycles of every burst.
    pub t_burst: u64,
    /// Input buffer capacity, in 16-bit words, per bank (buffers are double-buffered).
    pub in_buf: usize,
    /// Weight buffer capacity, in 16-bit words, per bank.
    pub w_buf: usize,
    /// Output buffer capacity, in ACC_W-bit entries, per bank.
    pub out_buf: usize,
    /// Gradient buffer capacity, in ACC_W_WU-bit entries.
    pub grad_buf: usize,
    /// Accumulator pipeline depth: minimum read-modify-write period of the
    /// output and gradient buffers.
    pub acc_depth: usize,
    /// Accumulator width ACC_W of FP and BP (32..=64).
    pub acc_w: u32,
    /// Accumulator width ACC_W_WU of WU (32..=64).
    pub acc_w_wu: u32,
    /// Cycle-model constants.
    pub cycle: CycleParams,
}

/// A hardware parameter out of range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("hardware config {field} = {value}: {reason}")]
pub struct HwError {
    /// The parameter.
    pub field: &'static str,
    /// Its value.
    pub value: u64,
    /// What is allowed.
    pub reason: &'static str,
}

impl HwConfig {
    /// iCE40 UP5K-sized build: T = 2, P = 1 (4 MACs), on-chip SPRAM, ACC_W 32/40.
    pub fn up5k() -> Self {
        Self {
            t: 2,
            p: 1,
            clock_mhz: 24.0,
            words_per_cycle: 2,
            t_burst: 2,
            in_buf: 2048,
            w_buf: 1024,
            out_buf: 1024,
            grad_buf: 512,
            acc_depth: 3,
            acc_w: 32,
            acc_w_wu: 40,
            cycle: CycleParams {
                t_desc: 16,
                t_step: 3,
                overlap: true,
            },
        }
    }

    /// ECP5-85F-sized build: T = 8, P = 2 (128 MACs), SDRAM, ACC_W 40/48.
    pub fn ecp5() -> Self {
        Self {
            t: 8,
            p: 2,
            clock_mhz: 100.0,
            words_per_cycle: 8,
            t_burst: 12,
            in_buf: 16384,
            w_buf: 8192,
            out_buf: 8192,
            grad_buf: 4096,
            acc_depth: 4,
            acc_w: 40,
            acc_w_wu: 48,
            cycle: CycleParams {
                t_desc: 32,
                t_step: 4,
                overlap: true,
            },
        }
    }

    /// Peak MACs per cycle, `T*T*P`.
    pub fn peak_macs(&self) -> u64 {
        (self.t * self.t * self.p) as u64
    }

    /// Cycles the engine takes to add a completed WU set's `T x T` lane
    /// sums into the gradient buffer (`conv_pkg::grad_drain`): `R` rows of
    /// `T` entries per cycle, `R = ceil(T/4)` when that divides `T`, else 1.
    /// A set of fewer fires waits for the previous set's drain, and the
    /// master read waits for the last one.
    pub fn grad_drain_cycles(&self) -> u64 {
        let r = self.t.div_ceil(4);
        let r = if self.t.is_multiple_of(r) { r } else { 1 };
        (self.t / r) as u64
    }

    /// Cycles the master read after a chunk pair's last WU step waits for
    /// that step's last gradient drain: `D + 1`, since the MAC array's
    /// products are registered and the lanes add (and the drain starts) a
    /// cycle after the last fire.
    pub fn mrd_wait_cycles(&self) -> u64 {
        self.grad_drain_cycles() + 1
    }

    /// Checks every parameter.
    pub fn validate(&self) -> Result<(), HwError> {
        let bad = |field, value: usize, reason| {
            Err(HwError {
                field,
                value: value as u64,
                reason,
            })
        };
        if !(1..=256).contains(&self.t) {
            return bad("T", self.t, "must be in 1..=256");
        }
        if !(1..=256).contains(&self.p) {
            return bad("P", self.p, "must be in 1..=256");
        }
        if self.grad_drain_cycles() > 8 {
            // conv_wu's drain must end within the 9 cycles between two
            // steps' sets (the cycle model assumes it).
            return bad(
                "T",
                self.t,
                "its gradient drain (T / R cycles, R = ceil(T/4) if that divides T, else 1) exceeds 8 cycles",
            );
        }
        if self.words_per_cycle == 0 {
            return bad("words_per_cycle", 0, "must be at least 1");
        }
        if self.acc_depth == 0 {
            return bad("acc_depth", 0, "must be at least 1");
        }
        if !(32..=64).contains(&self.acc_w) {
            return bad("ACC_W", self.acc_w as usize, "must be in 32..=64");
        }
        if !(32..=64).contains(&self.acc_w_wu) {
            return bad("ACC_W_WU", self.acc_w_wu as usize, "must be in 32..=64");
        }
        if self.clock_mhz.is_nan() || self.clock_mhz <= 0.0 {
            return bad("clock_mhz", 0, "must be positive");
        }
        Ok(())
    }
}
