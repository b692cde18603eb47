//! Transaction-level co-simulation of `tlmm_os_engine` against
//! `hls_rust::tlmm`.
//!
//! [`run_jobs`] plays a list of jobs through the Verilated engine: the
//! command, activation and weight streams are fed from queues with random
//! valid gaps, the result stream is drained with random ready gaps, and
//! each job's results, result `last` flags and final status are collected.
//! The properties compare them with the reference (golden dot product for
//! legal codes, the table path for illegal ones) and the cycle counter with
//! [`hls_rust::tlmm::cycle::OsCycleModel`].

use crate::prop::check;
use hls_rust::rng::Rng;
use hls_rust::tlmm::cycle::OsCycleModel;
use hls_rust::tlmm::stream::{Arch, WeightLayout, pack_activations, pack_weights};
use hls_rust::tlmm::{
    AccWidth, CodeMatrix, Flags, Grouping, TernaryMatrix, WeightCode, golden, tlmm_table,
};
use hlsk_cosim::configs::TLMM_CONFIGS;
use hlsk_cosim::{TlmmConfig, TlmmIn, TlmmOs};
use proptest::prelude::*;
use std::collections::VecDeque;
use std::path::Path;

/// Command flag: clear status and counters before the job.
pub const FLAG_CLEAR: u8 = 1 << 0;

/// One job for the engine.
#[derive(Debug, Clone)]
pub struct Job {
    /// Rows.
    pub m: usize,
    /// Columns (activations).
    pub k: usize,
    /// The weight codes streamed (may hold illegal codes).
    pub codes: CodeMatrix,
    /// Activations.
    pub x: Vec<i8>,
    /// Command flags.
    pub flags: u8,
    /// Flip the `last` flag of this activation beat (protocol error).
    pub bad_act_last: Option<usize>,
    /// Flip the `last` flag of this weight beat (protocol error).
    pub bad_w_last: Option<usize>,
}

/// What the reference says a job must produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Results (empty for a rejected command).
    pub out: Vec<i32>,
    /// Sticky status after the job.
    pub status: Flags,
}

impl Job {
    /// A job of weights `w` and activations `x`, status cleared first.
    pub fn new(w: &TernaryMatrix, g: Grouping, x: Vec<i8>) -> Self {
        Job {
            m: w.m(),
            k: w.k(),
            codes: CodeMatrix::encode(w, g),
            x,
            flags: FLAG_CLEAR,
            bad_act_last: None,
            bad_w_last: None,
        }
    }

    /// True when the engine must reject the command.
    pub fn rejected(&self, cfg: &TlmmConfig) -> bool {
        self.m == 0 || self.k == 0 || self.k > cfg.k_max as usize
    }

    /// The reference result and status for build `cfg`.
    pub fn expected(&self, cfg: &TlmmConfig) -> Result<Expected, String> {
        let acc = AccWidth::new(cfg.acc_w).map_err(|e| e.to_string())?;
        if self.rejected(cfg) {
            return Ok(Expected {
                out: Vec::new(),
                status: Flags::ERR_SHAPE,
            });
        }
        let mut r = tlmm_table(&self.codes, &self.x, acc).map_err(|e| e.to_string())?;
        if self.codes.all_legal() {
            // The golden i64 dot product is the contract; the table path
            // must agree with it (tested in hls-rust), so use it here.
            let (w, _) = self.codes.decode();
            let g = golden(&w, &self.x, acc).map_err(|e| e.to_string())?;
            r.out = g.out;
        }
        let mut status = r.flags;
        if self.bad_act_last.is_some() || self.bad_w_last.is_some() {
            status.insert(Flags::ERR_PROTO);
        }
        Ok(Expected { out: r.out, status })
    }
}

/// Valid/ready pressure on the four streams, in percent.
#[derive(Debug, Clone, Copy)]
pub struct Pressure {
    /// Command producer valid.
    pub cmd: u8,
    /// Activation producer valid.
    pub act: u8,
    /// Weight producer valid.
    pub w: u8,
    /// Result consumer ready.
    pub res: u8,
}

impl Pressure {
    /// Every producer always valid, the consumer always ready.
    pub const IDEAL: Pressure = Pressure {
        cmd: 100,
        act: 100,
        w: 100,
        res: 100,
    };
}

/// What the engine did for one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// Results in arrival order.
    pub out: Vec<i32>,
    /// Indices of results that carried `last`.
    pub lasts: Vec<usize>,
    /// Status once the job finished.
    pub status: Flags,
    /// The engine's busy-cycle counter once the job finished.
    pub busy_cycles: u32,
    /// Weight beats counted by the engine.
    pub w_beats: u32,
}

/// Cycles without any handshake before a run is declared hung.
pub const HANG_LIMIT: u64 = 2_000;

struct Beat<T> {
    data: T,
    last: bool,
}

/// Plays `jobs` back to back through `dut` (already reset) and returns what
/// it observed per job; an error on a hang or an RTL assertion.
pub fn run_jobs(
    dut: &mut TlmmOs,
    jobs: &[Job],
    pressure: Pressure,
    seed: u64,
) -> Result<Vec<Observed>, String> {
    let cfg = dut.config();
    let layout = WeightLayout::new(cfg.p as usize, cfg.t as usize, Arch::OutputStationary)
        .map_err(|e| e.to_string())?;
    let mut rng = Rng::new(seed);
    let mut cmds: VecDeque<&Job> = jobs.iter().collect();
    let mut acts: VecDeque<Beat<u32>> = VecDeque::new();
    let mut ws: VecDeque<Beat<Vec<u32>>> = VecDeque::new();
    for j in jobs {
        if j.rejected(&cfg) {
            continue;
        }
        let a = pack_activations(&j.x);
        let n = a.len();
        for (i, d) in a.into_iter().enumerate() {
            acts.push_back(Beat {
                data: d,
                last: (i + 1 == n) != (j.bad_act_last == Some(i)),
            });
        }
        let beats = pack_weights(&j.codes, &layout);
        let n = beats.len();
        for (i, b) in beats.into_iter().enumerate() {
            ws.push_back(Beat {
                data: b.words_u32(),
                last: (i + 1 == n) != (j.bad_w_last == Some(i)),
            });
        }
    }
    let zero_w = vec![0u32; cfg.weight_beat_words()];
    let mut observed: Vec<Observed> = Vec::new();
    let mut current: Option<Observed> = None; // job whose results are arriving
    let mut job_index = 0usize;
    let mut current_m = 0usize; // rows of the job whose results arrive
    let mut idle_cycles = 0u64;
    let roll = |rng: &mut Rng, pct: u8| rng.below(100) < u64::from(pct);

    loop {
        let cmd_valid = !cmds.is_empty() && roll(&mut rng, pressure.cmd);
        let act_valid = !acts.is_empty() && roll(&mut rng, pressure.act);
        let w_valid = !ws.is_empty() && roll(&mut rng, pressure.w);
        let res_ready = roll(&mut rng, pressure.res);
        let cmd = cmds.front();
        let i = TlmmIn {
            cmd_valid,
            cmd_m: cmd.map_or(0, |j| j.m as u32),
            cmd_k: cmd.map_or(0, |j| j.k as u32),
            cmd_flags: cmd.map_or(0, |j| j.flags),
            act_valid,
            act_data: acts.front().map_or(0, |b| b.data),
            act_last: acts.front().is_some_and(|b| b.last),
            w_valid,
            w_last: ws.front().is_some_and(|b| b.last),
            res_ready,
        };
        let w_data = ws.front().map_or(&zero_w[..], |b| &b.data[..]);
        let o = dut.step(&i, w_data);
        if dut.rtl_error() {
            return Err(format!(
                "cycle {}: RTL assertion failed (see stdout)",
                dut.cycles()
            ));
        }
        // Pins sampled in this cycle show the state left by the previous
        // edges: they belong to the job still current.
        if let Some(obs) = current.as_mut() {
            obs.status = Flags::from_bits_truncate(o.status);
            obs.busy_cycles = o.cnt_busy;
            obs.w_beats = o.cnt_w_beats;
        }
        let mut moved = false;
        if cmd_valid && o.cmd_ready {
            // The previous job is complete when the next command is taken.
            if let Some(done) = current.take() {
                observed.push(done);
            }
            let j = cmds.pop_front().expect("valid implies a command");
            job_index += 1;
            current_m = if j.rejected(&cfg) { 0 } else { j.m };
            if j.rejected(&cfg) {
                // Rejected: its status shows in the cycle after.
                current = Some(Observed {
                    out: Vec::new(),
                    lasts: Vec::new(),
                    status: Flags::empty(),
                    busy_cycles: 0,
                    w_beats: 0,
                });
            } else {
                current = Some(Observed {
                    out: Vec::with_capacity(j.m),
                    lasts: Vec::new(),
                    status: Flags::empty(),
                    busy_cycles: 0,
                    w_beats: 0,
                });
            }
            moved = true;
        }
        if act_valid && o.act_ready {
            acts.pop_front();
            moved = true;
        }
        if w_valid && o.w_ready {
            ws.pop_front();
            moved = true;
        }
        if res_ready && o.res_valid {
            let obs = current
                .as_mut()
                .ok_or_else(|| format!("cycle {}: result with no job running", dut.cycles()))?;
            if obs.out.len() >= current_m {
                return Err(format!(
                    "cycle {}: job {job_index} (M={current_m}) produced more than M results",
                    dut.cycles()
                ));
            }
            if o.res_last {
                obs.lasts.push(obs.out.len());
            }
            obs.out.push(o.res_data as i32);
            moved = true;
        }
        let all_fed = cmds.is_empty() && acts.is_empty() && ws.is_empty();
        if all_fed && !o.busy && !moved {
            // Let the sticky flags of the last job settle for one more cycle.
            let o2 = dut.step(&TlmmIn::default(), &zero_w);
            if let Some(mut obs) = current.take() {
                obs.status = Flags::from_bits_truncate(o2.status);
                obs.busy_cycles = o2.cnt_busy;
                obs.w_beats = o2.cnt_w_beats;
                observed.push(obs);
            }
            break;
        }
        idle_cycles = if moved { 0 } else { idle_cycles + 1 };
        if idle_cycles > HANG_LIMIT {
            return Err(format!(
                "hang: no handshake for {HANG_LIMIT} cycles (job {job_index} of {}, {} activation and {} weight beats left, busy={})",
                jobs.len(),
                acts.len(),
                ws.len(),
                o.busy
            ));
        }
    }
    Ok(observed)
}

/// Compares what the engine did with the reference, job by job.
pub fn compare(cfg: &TlmmConfig, jobs: &[Job], seen: &[Observed]) -> Result<(), String> {
    if seen.len() != jobs.len() {
        return Err(format!("{} jobs sent, {} observed", jobs.len(), seen.len()));
    }
    for (n, (j, o)) in jobs.iter().zip(seen).enumerate() {
        let e = j.expected(cfg)?;
        if o.out != e.out {
            let first = o
                .out
                .iter()
                .zip(&e.out)
                .position(|(a, b)| a != b)
                .unwrap_or(o.out.len().min(e.out.len()));
            return Err(format!(
                "job {n} (M={}, K={}): results differ at row {first} of {} (rtl {} results, reference {}): rtl {:?}, reference {:?}",
                j.m,
                j.k,
                e.out.len(),
                o.out.len(),
                e.out.len(),
                o.out.get(first),
                e.out.get(first)
            ));
        }
        let want_lasts: Vec<usize> = if e.out.is_empty() {
            Vec::new()
        } else {
            vec![e.out.len() - 1]
        };
        if o.lasts != want_lasts {
            return Err(format!(
                "job {n}: result last flags on rows {:?}, expected {want_lasts:?}",
                o.lasts
            ));
        }
        if o.status != e.status {
            return Err(format!(
                "job {n} (M={}, K={}): status {:#06b}, expected {:#06b}",
                j.m,
                j.k,
                o.status.bits(),
                e.status.bits()
            ));
        }
    }
    Ok(())
}

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
    let m_max = 3 * cfg.p as usize + 2;
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

/// Random activations, int8 full range with the corners over-represented.
pub fn random_acts(k: usize, rng: &mut Rng) -> Vec<i8> {
    (0..k)
        .map(|_| match rng.below(8) {
            0 => -128,
            1 => 127,
            _ => rng.next_u64() as i8,
        })
        .collect()
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

fn fresh_dut(config: usize, seed: u32, waves: Option<&Path>) -> Result<TlmmOs, String> {
    let mut dut = TlmmOs::with_trace(config, seed, waves).map_err(|e| e.to_string())?;
    dut.reset();
    Ok(dut)
}

/// Random jobs under random back-pressure give the reference's results,
/// last flags and status, for build `config`.
pub fn jobs_match_reference(config: usize, cases: u32) -> Result<(), String> {
    let cfg = TLMM_CONFIGS[config];
    let k_cap = (cfg.k_max as usize).min(160);
    check(
        &format!("{}_jobs_match_reference", cfg.prefix()),
        cases,
        tlmm_case(cfg, k_cap),
        |case, waves| {
            let jobs = build_jobs(&cfg, &case.shapes)?;
            let mut dut = fresh_dut(config, case.seed, waves)?;
            let seen = run_jobs(&mut dut, &jobs, case.pressure, u64::from(case.seed))?;
            compare(&cfg, &jobs, &seen)
        },
    )
}

/// Illegal codes read as zero and raise ERR_CODE; misplaced last flags
/// raise ERR_PROTO without disturbing the results.
pub fn errors_are_flagged(config: usize, cases: u32) -> Result<(), String> {
    let cfg = TLMM_CONFIGS[config];
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
            let seen = run_jobs(&mut dut, &jobs, case.pressure, u64::from(case.seed))?;
            compare(&cfg, &jobs, &seen)
        },
    )
}

/// Reset in the middle of a job, then a fresh job: correct results.
pub fn reset_mid_job_recovers(config: usize, cases: u32) -> Result<(), String> {
    let cfg = TLMM_CONFIGS[config];
    let strategy = (tlmm_case(cfg, (cfg.k_max as usize).min(96)), 1u64..400);
    check(
        &format!("{}_reset_mid_job_recovers", cfg.prefix()),
        cases,
        strategy,
        |(case, cut), waves| {
            let jobs = build_jobs(&cfg, &case.shapes)?;
            let mut dut = fresh_dut(config, case.seed, waves)?;
            // Start the first job with ideal streams and cut it short.
            run_prefix(&mut dut, &jobs[..1], *cut);
            dut.reset();
            let seen = run_jobs(&mut dut, &jobs, case.pressure, u64::from(case.seed))?;
            compare(&cfg, &jobs, &seen)
        },
    )
}

/// Feeds `jobs` with ideal streams for at most `cycles` cycles and stops,
/// wherever the engine is.
fn run_prefix(dut: &mut TlmmOs, jobs: &[Job], cycles: u64) {
    let cfg = dut.config();
    let Ok(layout) = WeightLayout::new(cfg.p as usize, cfg.t as usize, Arch::OutputStationary)
    else {
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
    let cfg = TLMM_CONFIGS[config];
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
    let seen = run_jobs(&mut dut, &jobs, Pressure::IDEAL, 1)?;
    compare(&cfg, &jobs, &seen)
}

/// The K boundary of the ACC_W build `config`: K = K_EXACT with worst-case
/// magnitudes is exact and unflagged, K_EXACT + 1 wraps and sets ERR_K_RANGE.
pub fn k_range_boundary(config: usize) -> Result<(), String> {
    let cfg = TLMM_CONFIGS[config];
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
    let seen = run_jobs(&mut dut, &jobs, Pressure::IDEAL, 7)?;
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
    let cfg = TLMM_CONFIGS[config];
    let g = Grouping::new(cfg.g as usize).map_err(|e| e.to_string())?;
    let mut rng = Rng::new(3);
    let ok = TernaryMatrix::random(3, 5, 0.3, &mut rng);
    let mut jobs = Vec::new();
    for (m, k) in [(0usize, 5usize), (3, 0), (1, cfg.k_max as usize + 1)] {
        let mut j = Job::new(&TernaryMatrix::zeros(m, k), g, vec![0; k]);
        j.m = m;
        j.k = k;
        jobs.push(j);
        jobs.push(Job::new(&ok, g, random_acts(5, &mut rng)));
    }
    let mut dut = fresh_dut(config, 5, None)?;
    let seen = run_jobs(&mut dut, &jobs, Pressure::IDEAL, 5)?;
    compare(&cfg, &jobs, &seen)?;
    // The requant flag is not built: rejected as well.
    let mut j = Job::new(&ok, g, random_acts(5, &mut rng));
    j.flags |= 1 << 1;
    let mut dut = fresh_dut(config, 6, None)?;
    let o = run_reject(&mut dut, &j)?;
    if !o.contains(Flags::ERR_SHAPE) {
        return Err(format!("requant flag accepted: status {o:?}"));
    }
    Ok(())
}

fn run_reject(dut: &mut TlmmOs, j: &Job) -> Result<Flags, String> {
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
    let o = dut.step(&TlmmIn::default(), &zero);
    if o.busy {
        return Err("engine busy after a rejected command".into());
    }
    Ok(Flags::from_bits_truncate(o.status))
}

/// One job's busy cycles: measured by the engine, predicted by the exact
/// model, and by the closed form.
#[derive(Debug, Clone, Copy)]
pub struct CycleRow {
    /// Rows.
    pub m: usize,
    /// Columns.
    pub k: usize,
    /// The engine's `cnt_busy`.
    pub measured: u64,
    /// [`OsCycleModel::predict`].
    pub exact: u64,
    /// [`OsCycleModel::ideal`].
    pub closed_form: u64,
}

/// Busy cycles measured by the engine's counter against the cycle model,
/// with ideal streams; errors if the exact model misses.
pub fn cycles_match_model(
    config: usize,
    shapes: &[(usize, usize)],
) -> Result<Vec<CycleRow>, String> {
    let cfg = TLMM_CONFIGS[config];
    let g = Grouping::new(cfg.g as usize).map_err(|e| e.to_string())?;
    let model = OsCycleModel {
        g: u64::from(cfg.g),
        t: u64::from(cfg.t),
        p: u64::from(cfg.p),
    };
    let mut rows = Vec::new();
    for (n, &(m, k)) in shapes.iter().enumerate() {
        let mut rng = Rng::new(n as u64);
        let w = TernaryMatrix::random(m, k, 0.3, &mut rng);
        let jobs = vec![Job::new(&w, g, random_acts(k, &mut rng))];
        let mut dut = fresh_dut(config, n as u32, None)?;
        let seen = run_jobs(&mut dut, &jobs, Pressure::IDEAL, 1)?;
        compare(&cfg, &jobs, &seen)?;
        let measured = u64::from(seen[0].busy_cycles);
        let exact = model.predict(m as u64, k as u64);
        let ideal = model.ideal(m as u64, k as u64);
        if measured != exact {
            return Err(format!(
                "{}: M={m} K={k}: measured {measured} busy cycles, model predicts {exact} ({:?})",
                cfg.prefix(),
                model.breakdown(m as u64, k as u64)
            ));
        }
        rows.push(CycleRow {
            m,
            k,
            measured,
            exact,
            closed_form: ideal,
        });
    }
    Ok(rows)
}
