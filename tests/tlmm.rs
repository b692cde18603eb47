//! Transaction-level co-simulation of the TLMM engines (`tlmm_os_engine`,
//! `tlmm_ts_engine`) against `hls_rust::tlmm`, and of the weight feeder.
//!
//! [`run_jobs`] plays a list of jobs through a Verilated engine (any
//! [`TlmmDriver`], weights in the order of its architecture): the
//! command, activation and weight streams are fed from queues with random
//! valid gaps, the result stream is drained with random ready gaps, and
//! each job's results, result `last` flags and final status are collected.
//! The properties compare them with the reference (golden dot product for
//! legal codes, the table path for illegal ones) and the cycle counter with
//! [`hls_rust::tlmm::cycle::OsCycleModel`] or
//! [`hls_rust::tlmm::cycle::TsCycleModel`]. Every property takes a [`Build`]
//! (`*_on` functions); the plain ones are the output-stationary builds.

use crate::prop::check;
use hls_rust::rng::Rng;
use hls_rust::tlmm::stream::{pack_activations, pack_weights};
use hls_rust::tlmm::{AccWidth, CodeMatrix, Flags, Grouping, TernaryMatrix, WeightCode};
use hlsk_cosim::configs::{CMD_M_MAX, FEEDER_CONFIGS};
use hlsk_cosim::{Feeder, FeederIn, TlmmConfig, TlmmDriver, TlmmIn, TlmmPins};
use proptest::prelude::*;

pub use hlsk_sim::tlmm::*;

/// A random test case: jobs, pressure, seeds.
#[derive(Debug, Clone)]
pub struct TlmmCase {
    /// X-randomisation seed.
    pub seed: u32,
    /// Stream pressure.
    pub pressure: Pressure,
    /// Job shapes: (M, K, fraction of zero weights in percent, data seed).
    pub shapes: Vec<(usize, usize, u8, u64)>,
}

/// Random jobs for build `cfg`: M from 1 to a few row blocks (so M is often
/// not a multiple of P), K from 1 to `k_cap` (often not a multiple of G*T),
/// one to three jobs back to back, random stream pressure.
pub fn tlmm_case(cfg: TlmmConfig, k_cap: usize) -> impl Strategy<Value = TlmmCase> {
    let pct = prop::sample::select(vec![100u8, 90, 50, 20]);
    let m_max = (3 * cfg.p as usize + 2).min(cfg.m_max as usize);
    let shape = (
        1..=m_max,
        1..=k_cap,
        prop::sample::select(vec![0u8, 33, 100]),
        any::<u64>(),
    );
    (
        any::<u32>(),
        (pct.clone(), pct.clone(), pct.clone(), pct),
        prop::collection::vec(shape, 1..=3),
    )
        .prop_map(|(seed, (cmd, act, w, res), shapes)| TlmmCase {
            seed,
            pressure: Pressure { cmd, act, w, res },
            shapes,
        })
}

/// The engine's four counters as its pins imply them, checked in every
/// cycle: busy cycles are the cycles `busy` was high; output-blocked cycles
/// those with a result offered and not taken; weight beats the weight
/// handshakes; weight-starved cycles (computing without `w_valid`) lie
/// between the cycles with `w_ready` and no `w_valid` (the engine only
/// offers `w_ready` while computing) and the busy cycles without `w_valid`
/// before the job's last weight beat (it computes no longer). A command
/// with the clear flag zeroes them in the cycle after it moves (the engine
/// acts on a command then: the accept cycle, the job's first busy one); so
/// does reset.
pub struct PinCounters<'a> {
    dut: &'a mut dyn TlmmDriver,
    busy: u32,
    blocked: u32,
    beats: u32,
    starved_min: u32,
    starved_max: u32,
    /// Weight beats of the current job not yet taken.
    beats_left: usize,
    /// A clearing command moved in the last cycle: the counters are zero
    /// from this cycle's edge.
    clear_next: bool,
    /// The first disagreement.
    pub error: Option<String>,
}

impl<'a> PinCounters<'a> {
    /// Watches `dut`, whose counters must be zero (fresh or just reset).
    pub fn new(dut: &'a mut dyn TlmmDriver) -> Self {
        PinCounters {
            dut,
            busy: 0,
            blocked: 0,
            beats: 0,
            starved_min: 0,
            starved_max: 0,
            beats_left: 0,
            clear_next: false,
            error: None,
        }
    }

    fn zero(&mut self) {
        self.busy = 0;
        self.blocked = 0;
        self.beats = 0;
        self.starved_min = 0;
        self.starved_max = 0;
    }

    fn check(&mut self, o: &TlmmPins) {
        let starved = self.starved_min..=self.starved_max;
        let ok = o.cnt_busy == self.busy
            && o.cnt_out_blocked == self.blocked
            && o.cnt_w_beats == self.beats
            && starved.contains(&o.cnt_w_starved);
        if !ok && self.error.is_none() {
            self.error = Some(format!(
                "cycle {}: counters busy {}, out_blocked {}, w_beats {}, w_starved {}; \
                 the pins imply busy {}, out_blocked {}, w_beats {}, w_starved in {:?}",
                self.dut.cycles(),
                o.cnt_busy,
                o.cnt_out_blocked,
                o.cnt_w_beats,
                o.cnt_w_starved,
                self.busy,
                self.blocked,
                self.beats,
                starved
            ));
        }
    }
}

impl TlmmDriver for PinCounters<'_> {
    fn config(&self) -> TlmmConfig {
        self.dut.config()
    }

    fn reset(&mut self) {
        self.dut.reset();
        self.zero();
        self.beats_left = 0;
        self.clear_next = false;
    }

    fn step(&mut self, i: &TlmmIn, w_data: &[u32]) -> TlmmPins {
        let o = self.dut.step(i, w_data);
        // The pins show the counters the previous edges left.
        self.check(&o);
        if self.clear_next {
            self.zero();
            self.clear_next = false;
        }
        if i.cmd_valid && o.cmd_ready {
            let c = self.dut.config();
            let (m, k) = (i.cmd_m as usize, i.cmd_k as usize);
            self.beats_left =
                m.div_ceil(c.p as usize) * k.div_ceil(c.g as usize).div_ceil(c.t as usize);
            self.clear_next = i.cmd_flags & FLAG_CLEAR != 0;
        }
        let add = |n: &mut u32, c: bool| *n = n.wrapping_add(u32::from(c));
        add(&mut self.busy, o.busy);
        add(&mut self.blocked, o.res_valid && !i.res_ready);
        add(&mut self.beats, i.w_valid && o.w_ready);
        add(&mut self.starved_min, o.w_ready && !i.w_valid);
        add(
            &mut self.starved_max,
            o.busy && !i.w_valid && self.beats_left > 0,
        );
        if i.w_valid && o.w_ready {
            self.beats_left = self.beats_left.saturating_sub(1);
        }
        o
    }

    fn cycles(&self) -> u64 {
        self.dut.cycles()
    }

    fn rtl_error(&self) -> bool {
        self.dut.rtl_error()
    }
}

/// [`run_jobs`] with every counter checked against the pins in every cycle
/// ([`PinCounters`]).
pub fn run_counted(
    dut: &mut dyn TlmmDriver,
    jobs: &[Job],
    pressure: Pressure,
    seed: u64,
) -> Result<Vec<Observed>, String> {
    let mut watched = PinCounters::new(dut);
    let seen = run_jobs(&mut watched, jobs, pressure, seed)?;
    match watched.error {
        Some(e) => Err(e),
        None => Ok(seen),
    }
}

fn build_jobs(cfg: &TlmmConfig, shapes: &[(usize, usize, u8, u64)]) -> Result<Vec<Job>, String> {
    let g = Grouping::new(cfg.g as usize).map_err(|e| e.to_string())?;
    Ok(shapes
        .iter()
        .map(|&(m, k, zero_pct, s)| {
            let mut rng = Rng::new(s);
            let w = TernaryMatrix::random(m, k, f64::from(zero_pct) / 100.0, &mut rng);
            Job::new(&w, g, random_acts(k, &mut rng))
        })
        .collect())
}

/// Random jobs under random back-pressure give the reference's results,
/// last flags and status, for build `config`.
pub fn jobs_match_reference(config: usize, cases: u32) -> Result<(), String> {
    jobs_match_reference_on(Build::Os(config), cases)
}

/// As [`jobs_match_reference`], for any build.
pub fn jobs_match_reference_on(build: Build, cases: u32) -> Result<(), String> {
    let cfg = build.config();
    let config = build;
    let k_cap = (cfg.k_max as usize).min(160);
    check(
        &format!("{}_jobs_match_reference", cfg.prefix()),
        cases,
        tlmm_case(cfg, k_cap),
        |case, waves| {
            let jobs = build_jobs(&cfg, &case.shapes)?;
            let mut dut = fresh_dut(config, case.seed, waves)?;
            let seen = run_counted(dut.as_mut(), &jobs, case.pressure, u64::from(case.seed))?;
            compare(&cfg, &jobs, &seen)
        },
    )
}

/// Illegal codes read as zero and raise ERR_CODE; misplaced last flags
/// raise ERR_PROTO without disturbing the results.
pub fn errors_are_flagged(config: usize, cases: u32) -> Result<(), String> {
    errors_are_flagged_on(Build::Os(config), cases)
}

/// As [`errors_are_flagged`], for any build.
pub fn errors_are_flagged_on(build: Build, cases: u32) -> Result<(), String> {
    let cfg = build.config();
    let config = build;
    let g = Grouping::new(cfg.g as usize).map_err(|e| e.to_string())?;
    let idx_bits = g.code_width() - 1;
    let legal = (3usize.pow(cfg.g) - 1) / 2;
    let strategy = (
        tlmm_case(cfg, (cfg.k_max as usize).min(64)),
        any::<u64>(),
        0u8..3,
    );
    check(
        &format!("{}_errors_are_flagged", cfg.prefix()),
        cases,
        strategy,
        |(case, pick, kind), waves| {
            let mut jobs = build_jobs(&cfg, &case.shapes)?;
            let mut rng = Rng::new(*pick);
            let n = rng.below(jobs.len() as u64) as usize;
            let j = &mut jobs[n];
            let beats_a = j.k.div_ceil(4);
            let beats_w = j.m.div_ceil(cfg.p as usize)
                * j.k.div_ceil(cfg.g as usize).div_ceil(cfg.t as usize);
            match kind {
                0 if legal + 1 < (1 << idx_bits) => {
                    // An illegal idx (above the table) in a random code.
                    let mut codes = j.codes.codes().to_vec();
                    let at = rng.below(codes.len() as u64) as usize;
                    let idx = legal + 1 + rng.below(((1 << idx_bits) - legal - 1) as u64) as usize;
                    let sign = (rng.below(2) as usize) << idx_bits;
                    codes[at] = WeightCode::from_bits((sign | idx) as u8);
                    j.codes =
                        CodeMatrix::from_codes(j.m, j.k, g, codes).map_err(|e| e.to_string())?;
                }
                1 => j.bad_act_last = Some(rng.below(beats_a as u64) as usize),
                _ => j.bad_w_last = Some(rng.below(beats_w as u64) as usize),
            }
            let mut dut = fresh_dut(config, case.seed, waves)?;
            let seen = run_counted(dut.as_mut(), &jobs, case.pressure, u64::from(case.seed))?;
            compare(&cfg, &jobs, &seen)
        },
    )
}

/// Reset in the middle of a job, then a fresh job: correct results.
pub fn reset_mid_job_recovers(config: usize, cases: u32) -> Result<(), String> {
    reset_mid_job_recovers_on(Build::Os(config), cases)
}

/// As [`reset_mid_job_recovers`], for any build.
pub fn reset_mid_job_recovers_on(build: Build, cases: u32) -> Result<(), String> {
    let cfg = build.config();
    let config = build;
    let strategy = (tlmm_case(cfg, (cfg.k_max as usize).min(96)), 1u64..400);
    check(
        &format!("{}_reset_mid_job_recovers", cfg.prefix()),
        cases,
        strategy,
        |(case, cut), waves| {
            let jobs = build_jobs(&cfg, &case.shapes)?;
            let mut dut = fresh_dut(config, case.seed, waves)?;
            // Start the first job with ideal streams and cut it short.
            run_prefix(dut.as_mut(), &jobs[..1], *cut);
            dut.reset();
            let seen = run_counted(dut.as_mut(), &jobs, case.pressure, u64::from(case.seed))?;
            compare(&cfg, &jobs, &seen)
        },
    )
}

/// Feeds `jobs` with ideal streams for at most `cycles` cycles and stops,
/// wherever the engine is.
fn run_prefix(dut: &mut dyn TlmmDriver, jobs: &[Job], cycles: u64) {
    let cfg = dut.config();
    let Ok(layout) = layout_of(&cfg) else {
        return;
    };
    let j = &jobs[0];
    let acts = pack_activations(&j.x);
    let ws: Vec<Vec<u32>> = pack_weights(&j.codes, &layout)
        .iter()
        .map(|b| b.words_u32())
        .collect();
    let zero_w = vec![0u32; cfg.weight_beat_words()];
    let (mut cmd_sent, mut a, mut w) = (false, 0usize, 0usize);
    for _ in 0..cycles {
        let i = TlmmIn {
            cmd_valid: !cmd_sent,
            cmd_m: j.m as u32,
            cmd_k: j.k as u32,
            cmd_flags: j.flags,
            act_valid: a < acts.len(),
            act_data: acts.get(a).copied().unwrap_or(0),
            act_last: a + 1 == acts.len(),
            w_valid: w < ws.len(),
            w_last: w + 1 == ws.len(),
            res_ready: true,
        };
        let o = dut.step(&i, ws.get(w).map_or(&zero_w[..], |v| &v[..]));
        cmd_sent |= o.cmd_ready;
        if i.act_valid && o.act_ready {
            a += 1;
        }
        if i.w_valid && o.w_ready {
            w += 1;
        }
    }
}

/// Worst-case magnitudes and all-zero weights at K = KMax: exact results
/// (or the documented wrap, with ERR_K_RANGE, when KMax > K_EXACT).
pub fn corner_jobs(config: usize) -> Result<(), String> {
    corner_jobs_on(Build::Os(config))
}

/// As [`corner_jobs`], for any build.
pub fn corner_jobs_on(build: Build) -> Result<(), String> {
    let cfg = build.config();
    let config = build;
    let g = Grouping::new(cfg.g as usize).map_err(|e| e.to_string())?;
    let k = cfg.k_max as usize;
    let m = cfg.p as usize + 1;
    let neg = TernaryMatrix::new(m, k, vec![-1; m * k]).map_err(|e| e.to_string())?;
    let zeros = TernaryMatrix::zeros(m, k);
    let jobs = vec![
        Job::new(&neg, g, vec![-128; k]),
        Job::new(&zeros, g, vec![-128; k]),
        Job::new(&neg, g, vec![127; k]),
    ];
    let mut dut = fresh_dut(config, 1, None)?;
    let seen = run_counted(dut.as_mut(), &jobs, Pressure::IDEAL, 1)?;
    compare(&cfg, &jobs, &seen)
}

/// Every way K can end a beat, a chunk or the buffer: K = 1 to 9, one
/// below, at and above one, two and three chunks of G*T activations, and
/// the last eight K up to KMax; each with M = 1, P and P + 1 (a partial
/// row block), back to back on one engine, with ideal streams and with the
/// activation and weight streams at half rate. Results, last flags, status
/// and counters as the reference and the pins say ([`run_counted`]).
pub fn k_boundaries_on(build: Build) -> Result<(), String> {
    let cfg = build.config();
    let g = Grouping::new(cfg.g as usize).map_err(|e| e.to_string())?;
    let (gt, k_max, p) = ((cfg.g * cfg.t) as usize, cfg.k_max as usize, cfg.p as usize);
    let mut ks: Vec<usize> = (1..=9).collect();
    for j in 1..=3 {
        ks.extend([j * gt - 1, j * gt, j * gt + 1]);
    }
    ks.extend(k_max.saturating_sub(7)..=k_max);
    ks.retain(|&k| (1..=k_max).contains(&k));
    ks.sort_unstable();
    ks.dedup();
    let mut rng = Rng::new(0x6b_b0_d5);
    let mut jobs = Vec::new();
    for &k in &ks {
        for m in [1, p, p + 1] {
            let m = m.min(cfg.m_max as usize);
            let w = TernaryMatrix::random(m, k, 0.2, &mut rng);
            jobs.push(Job::new(&w, g, random_acts(k, &mut rng)));
        }
    }
    let half = Pressure {
        act: 50,
        w: 50,
        ..Pressure::IDEAL
    };
    for (n, pressure) in [Pressure::IDEAL, half].into_iter().enumerate() {
        let mut dut = fresh_dut(build, 3 + n as u32, None)?;
        let seen = run_counted(dut.as_mut(), &jobs, pressure, 3 + n as u64)
            .map_err(|e| format!("{} K boundaries, {pressure:?}: {e}", cfg.prefix()))?;
        compare(&cfg, &jobs, &seen)
            .map_err(|e| format!("{} K boundaries, {pressure:?}: {e}", cfg.prefix()))?;
    }
    Ok(())
}

/// The K boundary of the ACC_W build `config`: K = K_EXACT with worst-case
/// magnitudes is exact and unflagged, K_EXACT + 1 wraps and sets ERR_K_RANGE.
pub fn k_range_boundary(config: usize) -> Result<(), String> {
    k_range_boundary_on(Build::Os(config))
}

/// As [`k_range_boundary`], for any build.
pub fn k_range_boundary_on(build: Build) -> Result<(), String> {
    let cfg = build.config();
    let config = build;
    let g = Grouping::new(cfg.g as usize).map_err(|e| e.to_string())?;
    let acc = AccWidth::new(cfg.acc_w).map_err(|e| e.to_string())?;
    let k_exact = acc.k_exact();
    if k_exact + 1 > cfg.k_max as usize {
        return Err(format!(
            "build {} cannot reach K_EXACT + 1 = {}",
            cfg.prefix(),
            k_exact + 1
        ));
    }
    let mut jobs = Vec::new();
    for k in [k_exact, k_exact + 1] {
        let m = 2;
        let w = TernaryMatrix::new(m, k, vec![-1; m * k]).map_err(|e| e.to_string())?;
        jobs.push(Job::new(&w, g, vec![-128; k]));
    }
    let mut dut = fresh_dut(config, 7, None)?;
    let seen = run_counted(dut.as_mut(), &jobs, Pressure::IDEAL, 7)?;
    compare(&cfg, &jobs, &seen)?;
    // State the boundary explicitly, not only through the reference.
    let exact = 128 * k_exact as i64;
    if i64::from(seen[0].out[0]) != exact || seen[0].status.contains(Flags::ERR_K_RANGE) {
        return Err(format!(
            "K = K_EXACT = {k_exact}: got {} {:?}, want {exact} and no flag",
            seen[0].out[0], seen[0].status
        ));
    }
    let wrapped = acc.wrap(128 * (k_exact as i64 + 1));
    if seen[1].out[0] != wrapped || !seen[1].status.contains(Flags::ERR_K_RANGE) {
        return Err(format!(
            "K = K_EXACT + 1: got {} {:?}, want wrapped {wrapped} and ERR_K_RANGE",
            seen[1].out[0], seen[1].status
        ));
    }
    Ok(())
}

/// Commands with M = 0, K = 0, K > KMax or the unbuilt requant flag are
/// rejected with ERR_SHAPE; the engine stays ready and the next job runs.
pub fn bad_commands_rejected(config: usize) -> Result<(), String> {
    bad_commands_rejected_on(Build::Os(config))
}

/// As [`bad_commands_rejected`], for any build.
pub fn bad_commands_rejected_on(build: Build) -> Result<(), String> {
    let cfg = build.config();
    let config = build;
    let g = Grouping::new(cfg.g as usize).map_err(|e| e.to_string())?;
    let mut rng = Rng::new(3);
    let ok = TernaryMatrix::random(3, 5, 0.3, &mut rng);
    let mut jobs = Vec::new();
    let mut bad = vec![(0usize, 5usize), (3, 0), (1, cfg.k_max as usize + 1)];
    if cfg.m_max < CMD_M_MAX {
        bad.push((cfg.m_max as usize + 1, 5));
    }
    for (m, k) in bad {
        let mut j = Job::new(&TernaryMatrix::zeros(m, k), g, vec![0; k]);
        j.m = m;
        j.k = k;
        jobs.push(j);
        jobs.push(Job::new(&ok, g, random_acts(5, &mut rng)));
    }
    let mut dut = fresh_dut(config, 5, None)?;
    let seen = run_counted(dut.as_mut(), &jobs, Pressure::IDEAL, 5)?;
    compare(&cfg, &jobs, &seen)?;
    // The requant flag is not built: rejected as well.
    let mut j = Job::new(&ok, g, random_acts(5, &mut rng));
    j.flags |= 1 << 1;
    let mut dut = fresh_dut(config, 6, None)?;
    let o = run_reject(dut.as_mut(), &j)?;
    if !o.contains(Flags::ERR_SHAPE) {
        return Err(format!("requant flag accepted: status {o:?}"));
    }
    Ok(())
}

fn run_reject(dut: &mut dyn TlmmDriver, j: &Job) -> Result<Flags, String> {
    let i = TlmmIn {
        cmd_valid: true,
        cmd_m: j.m as u32,
        cmd_k: j.k as u32,
        cmd_flags: j.flags,
        res_ready: true,
        ..TlmmIn::default()
    };
    let zero = vec![0u32; dut.config().weight_beat_words()];
    let o = dut.step(&i, &zero);
    if !o.cmd_ready {
        return Err("engine not ready for a command after reset".into());
    }
    // The engine acts on a command in the cycle after it moves (busy, not
    // ready), and is idle again the cycle after that.
    let o = dut.step(&TlmmIn::default(), &zero);
    if !o.busy || o.cmd_ready {
        return Err(format!(
            "the cycle after a command: busy {}, ready {} (want the accept cycle: busy, not ready)",
            o.busy, o.cmd_ready
        ));
    }
    let o = dut.step(&TlmmIn::default(), &zero);
    if o.busy || !o.cmd_ready {
        return Err("engine busy or not ready two cycles after a rejected command".into());
    }
    Ok(Flags::from_bits_truncate(o.status))
}

/// A random run of the weight feeder: RAM contents, then transfers.
#[derive(Debug, Clone)]
pub struct FeederCase {
    /// X-randomisation seed (RAM power-up contents included).
    pub seed: u32,
    /// Consumer ready, in percent.
    pub ready_pct: u8,
    /// Start valid, in percent, while a transfer is waiting.
    pub start_pct: u8,
    /// Data seed of the contents.
    pub data: u64,
    /// Transfers: (base, count).
    pub transfers: Vec<(u32, u32)>,
}

/// Random feeder runs for build `config`: bases anywhere in the address
/// space (beyond Depth too), counts from 0 to past Depth (as far as the
/// count field reaches).
pub fn feeder_case(config: usize) -> impl Strategy<Value = FeederCase> {
    let c = FEEDER_CONFIGS[config];
    let count_max = (c.depth + 2).min((1 << c.count_bits()) - 1);
    let pct = prop::sample::select(vec![100u8, 80, 50, 10]);
    (
        any::<u32>(),
        pct.clone(),
        pct,
        any::<u64>(),
        prop::collection::vec((0..1u32 << c.addr_bits(), 0..=count_max), 1..=4),
    )
        .prop_map(|(seed, ready_pct, start_pct, data, transfers)| FeederCase {
            seed,
            ready_pct,
            start_pct,
            data,
            transfers,
        })
}

/// `tlmm_weight_feeder` build `config`: after the host writes every
/// address, each transfer (base, count) streams exactly the words at
/// `(base mod Depth + i) mod Depth`, `last` on the final one only, under
/// random back-pressure; `busy` and `done` follow the transfer; with an
/// always-ready consumer the last beat moves `count + 2` cycles after the
/// start handshake (first beat 3 cycles after it, then one per cycle).
pub fn feeder_streams_what_was_written(config: usize, cases: u32) -> Result<(), String> {
    let c = FEEDER_CONFIGS[config];
    let mask = if c.width >= 64 {
        u64::MAX
    } else {
        (1u64 << c.width) - 1
    };
    check(
        &format!("{}_streams_what_was_written", c.prefix()),
        cases,
        feeder_case(config),
        |case, waves| {
            let mut dut =
                Feeder::with_trace(config, case.seed, waves).map_err(|e| e.to_string())?;
            dut.reset();
            let mut rng = Rng::new(case.data);
            let depth = c.depth as usize;
            let mem: Vec<u64> = (0..depth).map(|_| rng.next_u64() & mask).collect();
            for (a, &d) in mem.iter().enumerate() {
                dut.step(&FeederIn {
                    wr_en: true,
                    wr_addr: a as u32,
                    wr_data: d,
                    ..FeederIn::default()
                });
            }
            let mut roll = Rng::new(u64::from(case.seed));
            for (n, &(base, count)) in case.transfers.iter().enumerate() {
                let start = base as usize % depth;
                let want: Vec<u64> = (0..count as usize)
                    .map(|i| mem[(start + i) % depth])
                    .collect();
                let mut got: Vec<u64> = Vec::new();
                let mut started_at = None;
                let mut last_at = None;
                let ideal = case.ready_pct == 100;
                // Start and ready each fire with as little as 10 % per cycle:
                // allow far more cycles than that needs (a hang still fails).
                let limit = 2_000 + 100 * count as u64;
                let mut finished = false;
                for cycle in 0..limit {
                    let start_valid =
                        started_at.is_none() && roll.below(100) < u64::from(case.start_pct);
                    let w_ready = roll.below(100) < u64::from(case.ready_pct);
                    let o = dut.step(&FeederIn {
                        start_valid,
                        start_base: base,
                        start_count: count,
                        w_ready,
                        ..FeederIn::default()
                    });
                    if dut.rtl_error() {
                        return Err(format!("transfer {n}, cycle {cycle}: RTL assertion failed"));
                    }
                    if started_at.is_none() {
                        if o.w_valid {
                            return Err(format!("transfer {n}: a beat before the start"));
                        }
                        if start_valid && o.start_ready {
                            started_at = Some(cycle);
                        }
                        continue;
                    }
                    if o.start_ready == o.busy {
                        return Err(format!("transfer {n}, cycle {cycle}: start_ready == busy"));
                    }
                    if o.w_valid && w_ready {
                        if got.len() >= want.len() {
                            return Err(format!("transfer {n}: more than {count} beats"));
                        }
                        got.push(o.w_data);
                        if o.w_last != (got.len() == want.len()) {
                            return Err(format!(
                                "transfer {n}: last = {} on beat {} of {count}",
                                o.w_last,
                                got.len() - 1
                            ));
                        }
                        if o.w_last {
                            last_at = Some(cycle);
                        }
                    }
                    if got.len() == want.len() && !o.busy && !o.w_valid {
                        if !o.done {
                            return Err(format!("transfer {n}: done not set once finished"));
                        }
                        finished = true;
                        break;
                    }
                    if o.done && got.len() < want.len() {
                        return Err(format!("transfer {n}: done before the last beat"));
                    }
                }
                if got != want || !finished {
                    return Err(format!(
                        "transfer {n} (base {base}, count {count}): streamed {got:x?}, written {want:x?}{}",
                        if finished {
                            ""
                        } else {
                            " (not finished within the cycle limit: hang?)"
                        }
                    ));
                }
                if let (true, Some(s), Some(l)) = (ideal, started_at, last_at)
                    && l - s != u64::from(count) + 3
                {
                    return Err(format!(
                        "transfer {n}: last of {count} beats {} cycles after the start, expected {}",
                        l - s,
                        count + 3
                    ));
                }
            }
            Ok(())
        },
    )
}
