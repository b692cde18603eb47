//! The TLMM engines (`tlmm_os_engine`, `tlmm_ts_engine`) driven
//! transaction by transaction.
//!
//! [`run_jobs`] plays a list of jobs through a Verilated engine (any
//! [`TlmmDriver`], weights in the order of its architecture): the command,
//! activation and weight streams are fed from queues with valid gaps drawn
//! from a [`Pressure`], the result stream is drained with ready gaps, and
//! each job's results, result `last` flags and final status are collected.
//! [`compare`] checks them against the reference (golden dot product for
//! legal codes, the table path for illegal ones); [`cycles_match_model_on`]
//! checks the busy-cycle counter against the cycle models. The properties
//! built on these live in the `hlsk-tests` crate.

use hls_rust::rng::Rng;
use hls_rust::tlmm::cycle::{OsCycleModel, TsCycleModel};
use hls_rust::tlmm::stream::{Arch, WeightLayout, pack_activations, pack_weights};
use hls_rust::tlmm::{AccWidth, CodeMatrix, Flags, Grouping, TernaryMatrix, golden, tlmm_table};
use hlsk_cosim::configs::{TLMM_CONFIGS, TLMM_TS_CONFIGS};
use hlsk_cosim::{TlmmArch, TlmmConfig, TlmmDriver, TlmmIn, TlmmOs, TlmmPins, TlmmTs};
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
        self.m == 0 || self.m > cfg.m_max as usize || self.k == 0 || self.k > cfg.k_max as usize
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

/// A TLMM build under test: an index into [`TLMM_CONFIGS`]
/// (output-stationary) or [`TLMM_TS_CONFIGS`] (table-stationary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// `tlmm_os_engine`, build `TLMM_CONFIGS[i]`.
    Os(usize),
    /// `tlmm_ts_engine`, build `TLMM_TS_CONFIGS[i]`.
    Ts(usize),
}

impl Build {
    /// Every build of both engines.
    pub fn all() -> Vec<Build> {
        (0..TLMM_CONFIGS.len())
            .map(Build::Os)
            .chain((0..TLMM_TS_CONFIGS.len()).map(Build::Ts))
            .collect()
    }

    /// The parameters of this build.
    pub fn config(self) -> TlmmConfig {
        match self {
            Build::Os(i) => TLMM_CONFIGS[i],
            Build::Ts(i) => TLMM_TS_CONFIGS[i],
        }
    }

    /// A Verilated model of this build, reset, power-up state from `seed`.
    pub fn fresh(self, seed: u32, waves: Option<&Path>) -> Result<Box<dyn TlmmDriver>, String> {
        let mut dut: Box<dyn TlmmDriver> = match self {
            Build::Os(i) => {
                Box::new(TlmmOs::with_trace(i, seed, waves).map_err(|e| e.to_string())?)
            }
            Build::Ts(i) => {
                Box::new(TlmmTs::with_trace(i, seed, waves).map_err(|e| e.to_string())?)
            }
        };
        dut.reset();
        Ok(dut)
    }
}

/// The weight-stream layout of build `cfg`: `P` lanes, `T` slots, beats in
/// the order of its architecture.
pub fn layout_of(cfg: &TlmmConfig) -> Result<WeightLayout, String> {
    let arch = match cfg.arch {
        TlmmArch::OutputStationary => Arch::OutputStationary,
        TlmmArch::TableStationary => Arch::TableStationary,
    };
    WeightLayout::new(cfg.p as usize, cfg.t as usize, arch).map_err(|e| e.to_string())
}

/// Wall-clock time one [`run_jobs`] may take before it is declared hung,
/// whatever its cycle budget (a guard against a model far slower than
/// expected, not a performance figure).
pub const WALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// The cycle budget of `jobs` on build `cfg` under `pressure`: four times
/// the exact cycle model's busy cycles (a rejected command counts a few),
/// stretched by the scarcest stream's valid/ready percentage, plus slack
/// for the streams' start and the last results. A livelock (handshakes
/// that go on without the jobs finishing) exceeds it and fails at once
/// with the budget in the message.
pub fn cycle_budget(cfg: &TlmmConfig, jobs: &[Job], pressure: Pressure) -> u64 {
    let predicted: u64 = jobs
        .iter()
        .map(|j| {
            if j.rejected(cfg) {
                4
            } else {
                predictions(cfg, j.m as u64, j.k as u64).0 + 16
            }
        })
        .sum();
    let scarcest = [pressure.cmd, pressure.act, pressure.w, pressure.res]
        .into_iter()
        .min()
        .unwrap_or(100)
        .max(1);
    4 * predicted * 100 / u64::from(scarcest) + 4 * HANG_LIMIT
}

/// Plays `jobs` back to back through `dut` (already reset) and returns what
/// it observed per job; an error on an RTL assertion, a hang (no handshake
/// for [`HANG_LIMIT`] cycles) or a livelock (more than [`cycle_budget`]
/// cycles, or [`WALL_LIMIT`]).
pub fn run_jobs<D: TlmmDriver + ?Sized>(
    dut: &mut D,
    jobs: &[Job],
    pressure: Pressure,
    seed: u64,
) -> Result<Vec<Observed>, String> {
    let cfg = dut.config();
    let layout = layout_of(&cfg)?;
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
    let budget = cycle_budget(&cfg, jobs, pressure);
    let (first_cycle, started) = (dut.cycles(), std::time::Instant::now());

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
        let o: TlmmPins = dut.step(&i, w_data);
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
        let ran = dut.cycles() - first_cycle;
        if ran > budget || (ran % 65_536 == 65_535 && started.elapsed() > WALL_LIMIT) {
            return Err(format!(
                "livelock: {ran} cycles without finishing (budget {budget}: 4x the cycle model's \
                 prediction at this pressure; wall limit {} s), job {job_index} of {}, {} \
                 activation and {} weight beats left, busy={}",
                WALL_LIMIT.as_secs(),
                jobs.len(),
                acts.len(),
                ws.len(),
                o.busy
            ));
        }
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

pub fn fresh_dut(
    build: Build,
    seed: u32,
    waves: Option<&Path>,
) -> Result<Box<dyn TlmmDriver>, String> {
    build.fresh(seed, waves)
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
    cycles_match_model_on(Build::Os(config), shapes)
}

/// A build's exact and closed-form cycle predictions and phase breakdown.
fn predictions(cfg: &TlmmConfig, m: u64, k: u64) -> (u64, u64, String) {
    let (g, t, p) = (u64::from(cfg.g), u64::from(cfg.t), u64::from(cfg.p));
    match cfg.arch {
        TlmmArch::OutputStationary => {
            let model = OsCycleModel::new(g, t, p).with_direct(cfg.direct != 0);
            (
                model.predict(m, k),
                model.ideal(m, k),
                format!("{:?}", model.breakdown(m, k)),
            )
        }
        TlmmArch::TableStationary => {
            let model = TsCycleModel { g, t, p };
            (
                model.predict(m, k),
                model.ideal(m, k),
                format!("{:?}", model.breakdown(m, k)),
            )
        }
    }
}

/// As [`cycles_match_model`], for any build: the exact model of its
/// architecture must equal the measured busy cycles.
pub fn cycles_match_model_on(
    build: Build,
    shapes: &[(usize, usize)],
) -> Result<Vec<CycleRow>, String> {
    let cfg = build.config();
    let g = Grouping::new(cfg.g as usize).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for (n, &(m, k)) in shapes.iter().enumerate() {
        let mut rng = Rng::new(n as u64);
        let w = TernaryMatrix::random(m, k, 0.3, &mut rng);
        let jobs = vec![Job::new(&w, g, random_acts(k, &mut rng))];
        let mut dut = fresh_dut(build, n as u32, None)?;
        let seen = run_jobs(dut.as_mut(), &jobs, Pressure::IDEAL, 1)?;
        compare(&cfg, &jobs, &seen)?;
        let measured = u64::from(seen[0].busy_cycles);
        let (exact, ideal, breakdown) = predictions(&cfg, m as u64, k as u64);
        if measured != exact {
            return Err(format!(
                "{}: M={m} K={k}: measured {measured} busy cycles, model predicts {exact} ({breakdown})",
                cfg.prefix(),
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
