//! The training-convolution engine (`rtl/conv/conv_engine.sv`) driven
//! transaction by transaction: [`run`] plays one descriptor through a
//! Verilated build with the memory behind the engine's port modelled as a
//! word array ([`Memory`]) that answers one burst at a time after a
//! configurable latency ([`MemTiming`]), and [`RtlExecutor`] makes the RTL a
//! descriptor [`Executor`] checked against
//! [`run_descriptor`](hls_rust::conv::exec::run_descriptor) in lockstep.
//! The properties built on these live in the `hlsk-tests` crate.

use hls_rust::conv::desc::{Descriptor, Op};
use hls_rust::conv::exec::{ExecError, Executor, run_descriptor};
use hls_rust::conv::{HwConfig, Memory, Stats};
use hls_rust::rng::Rng;
use hlsk_cosim::configs::CONV_CONFIGS;
use hlsk_cosim::{CONV_CHECK_CYCLES, Conv, ConvConfig, ConvIn};
use std::path::Path;

/// Timing of the memory model behind the engine's port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemTiming {
    /// Cycles from an accepted request to its first data beat.
    pub latency: u32,
    /// Extra start-up cycles of every burst (`t_burst`).
    pub t_burst: u32,
    /// Probability in percent that the memory stalls a data beat (or the
    /// request) in a cycle.
    pub stall_pct: u32,
    /// Probability in percent that a descriptor word is held back in a cycle.
    pub desc_gap_pct: u32,
}

impl MemTiming {
    /// An ideal memory: no latency, no stalls.
    pub const IDEAL: MemTiming = MemTiming {
        latency: 0,
        t_burst: 0,
        stall_pct: 0,
        desc_gap_pct: 0,
    };

    /// A memory with 4 cycles of latency and 2 of burst start-up, no
    /// stalls (the cycle model stays exact).
    pub const LAT4_BURST2: MemTiming = MemTiming {
        latency: 4,
        t_burst: 2,
        stall_pct: 0,
        desc_gap_pct: 0,
    };
}

impl From<(u32, u32, u32, u32)> for MemTiming {
    /// `(latency, t_burst, stall_pct, desc_gap_pct)`.
    fn from((latency, t_burst, stall_pct, desc_gap_pct): (u32, u32, u32, u32)) -> Self {
        Self {
            latency,
            t_burst,
            stall_pct,
            desc_gap_pct,
        }
    }
}

/// What the engine reported at the end of a descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConvRun {
    /// `error_o` at done.
    pub error: bool,
    /// Busy cycles.
    pub cycles: u64,
    /// Cycles the MAC array fired.
    pub fired: u64,
    /// Stall cycles waiting for input tiles.
    pub stall_input: u64,
    /// Stall cycles waiting for weights.
    pub stall_weights: u64,
    /// Stall cycles waiting for output stores (and WU updates).
    pub stall_output: u64,
    /// Words read.
    pub words_read: u64,
    /// Words written.
    pub words_written: u64,
    /// Bursts issued.
    pub bursts: u64,
    /// Requests the bench saw (must equal `bursts`).
    pub requests: u64,
    /// Cycles the bench's random stalls held back a request or a data beat
    /// of a burst, by the burst's cause (input, weights, output; see
    /// [`cause_of`]).
    pub mem_stalls: [u64; 3],
}

impl ConvRun {
    /// Busy cycles that are neither fired nor stalls (`None` if the
    /// counters add up to more than the busy cycles).
    pub fn overhead(&self) -> Option<u64> {
        self.cycles
            .checked_sub(self.fired + self.stall_input + self.stall_weights + self.stall_output)
    }

    /// The counters of a rejected descriptor: the check's busy cycles
    /// ([`CONV_CHECK_CYCLES`]), all overhead, and nothing else.
    pub fn only_checked(&self) -> bool {
        self.cycles == CONV_CHECK_CYCLES
            && self.overhead() == Some(CONV_CHECK_CYCLES)
            && self.words_read + self.words_written + self.bursts == 0
    }
}

/// The stall cause (0 input, 1 weights, 2 output, the order of
/// `Stats::{stall_input, stall_weights, stall_output}`) of a burst of `d`
/// at word `addr`, from the region it falls in (the read base at or below
/// it): writes, and BP's act_in read, are output; weight and WU master
/// reads are weights; the other reads (input tile, WU dO tile, POOL_BWD
/// argmax words) are input.
pub fn cause_of(d: &Descriptor, addr: u32, write: bool) -> usize {
    if write {
        return 2;
    }
    let aux = match d.op {
        Op::Bp if d.relu_mask => Some(2),
        Op::Wu | Op::PoolBwd => Some(0),
        _ => None,
    };
    let w = (d.op.is_conv()).then_some(1);
    [
        (d.base.input, Some(0)),
        (d.base.weights, w),
        (d.base.aux, aux),
    ]
    .into_iter()
    .filter_map(|(base, cause)| Some((base, cause?)))
    .filter(|&(base, _)| base <= addr)
    .max_by_key(|&(base, _)| base)
    .map_or(0, |(_, cause)| cause)
}

/// The reference's hardware configuration of a build, attached to an ideal
/// memory: one word per lane per cycle, and a burst costs one request cycle
/// (see [`hw_for`]). The engine runs load, compute and store one after the
/// other; a step costs six cycles of its own (four plan cycles, start,
/// advance), a descriptor one (check).
pub fn hw_of(c: &ConvConfig) -> HwConfig {
    c.hw()
}

/// [`hw_of`] attached to the bench memory with `timing`: a burst's start-up
/// is the request cycle, the latency and the start-up cost (random stalls
/// are not modelled).
pub fn hw_for(c: &ConvConfig, timing: MemTiming) -> HwConfig {
    HwConfig {
        t_burst: 1 + u64::from(timing.latency + timing.t_burst),
        ..hw_of(c)
    }
}

/// An open burst of the memory model.
struct Burst {
    addr: usize,
    beats: usize,
    write: bool,
    wait: u32,
    cause: usize,
}

/// Wall-clock time a single simulated run may take before it is declared
/// hung, whatever its cycle budget (a guard against a model that is far
/// slower than expected, not a performance figure).
pub const WALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// The cycle budget of a descriptor the model predicts `model_cycles` busy
/// cycles for, on a memory with `timing`: four times the prediction,
/// stretched by the stall probability, plus the descriptor transfer and
/// some slack. A run that needs more is a hang or a livelock; it fails
/// with the budget in the message instead of running for minutes.
pub fn cycle_budget(model_cycles: u64, timing: MemTiming) -> u64 {
    let stall = u64::from(timing.stall_pct.min(95));
    let gaps = u64::from(timing.desc_gap_pct.min(95));
    4 * model_cycles * 100 / (100 - stall) + 100 * 100 / (100 - gaps) + 2_000
}

/// Runs descriptor `words` on a fresh, reset instance of build `config` with
/// memory image `mem` (updated in place); see [`run_on`].
pub fn run(
    config: usize,
    seed: u32,
    words: &[u32],
    mem: &mut Memory,
    timing: MemTiming,
    max_cycles: u64,
    waves: Option<&Path>,
) -> Result<ConvRun, String> {
    let mut dut = Conv::with_trace(config, seed, waves).map_err(|e| e.to_string())?;
    dut.reset();
    run_on(&mut dut, seed, words, mem, timing, max_cycles)
}

/// Runs descriptor `words` on `dut` (idle, perhaps after earlier
/// descriptors) with memory image `mem` (updated in place), stalls drawn
/// from `seed`. Errors on an access outside the image, an RTL assertion, or
/// no `done` within `max_cycles` (see [`cycle_budget`]) or [`WALL_LIMIT`].
pub fn run_on(
    dut: &mut Conv,
    seed: u32,
    words: &[u32],
    mem: &mut Memory,
    timing: MemTiming,
    max_cycles: u64,
) -> Result<ConvRun, String> {
    let t = dut.config().t as usize;
    let mut rng = Rng::new(u64::from(seed) ^ 0x5eed_c0de);
    let mut roll = |pct: u32| pct > 0 && rng.below(100) < u64::from(pct);
    let mut sent = 0;
    let mut burst: Option<Burst> = None;
    let mut run = ConvRun::default();
    let desc = Descriptor::decode(words).ok();
    let cause = |addr, write| desc.as_ref().map_or(0, |d| cause_of(d, addr, write));
    let started = std::time::Instant::now();
    for cycle in 0..max_cycles {
        if cycle % 65_536 == 65_535 && started.elapsed() > WALL_LIMIT {
            return Err(format!(
                "hang: no done after {cycle} cycles and {} s of wall time (budget {max_cycles} cycles)",
                WALL_LIMIT.as_secs()
            ));
        }
        let mut i = ConvIn {
            desc_valid: sent < words.len() && !roll(timing.desc_gap_pct),
            desc_data: words.get(sent).copied().unwrap_or(0),
            req_ready: burst.is_none() && !roll(timing.stall_pct),
            ..ConvIn::default()
        };
        let stalled = roll(timing.stall_pct);
        if let Some(b) = &burst
            && b.wait == 0
            && stalled
        {
            run.mem_stalls[b.cause] += 1;
        }
        if let Some(b) = &burst
            && b.wait == 0
            && !stalled
        {
            if b.write {
                i.wr_ready = true;
            } else {
                let beat = mem
                    .slice(b.addr, t)
                    .map_err(|e| format!("read burst: {e}"))?;
                i.rd_valid = true;
                i.set_beat(beat);
            }
        }
        let p = dut.step(&i);
        if dut.rtl_error() {
            return Err(format!("RTL assertion failed at cycle {}", dut.cycles()));
        }
        if i.desc_valid && p.desc_ready {
            sent += 1;
        }
        let mut finished = false;
        if let Some(b) = &mut burst {
            if b.wait > 0 {
                b.wait -= 1;
            } else if b.write && i.wr_ready && p.wr_valid {
                let dst = mem
                    .slice_mut(b.addr, t)
                    .map_err(|e| format!("write burst: {e}"))?;
                for (k, w) in dst.iter_mut().enumerate() {
                    *w = p.wr_word(k);
                }
                (b.addr, b.beats) = (b.addr + t, b.beats - 1);
            } else if !b.write && i.rd_valid && p.rd_ready {
                (b.addr, b.beats) = (b.addr + t, b.beats - 1);
            }
            finished = b.beats == 0;
        }
        if finished {
            burst = None;
        }
        if burst.is_none() && !i.req_ready && p.req_valid {
            run.mem_stalls[cause(p.req_addr, p.req_write)] += 1;
        }
        if i.req_ready && p.req_valid {
            if p.req_len == 0 || !(p.req_len as usize).is_multiple_of(t) {
                return Err(format!("request of {} words is not whole beats", p.req_len));
            }
            run.requests += 1;
            burst = Some(Burst {
                addr: p.req_addr as usize,
                beats: p.req_len as usize / t,
                write: p.req_write,
                wait: timing.latency + timing.t_burst,
                cause: cause(p.req_addr, p.req_write),
            });
        }
        if sent == words.len() && p.done && !p.busy && burst.is_none() {
            run.error = p.error;
            run.cycles = p.cnt_cycles.into();
            run.fired = p.cnt_fired.into();
            run.stall_input = p.cnt_stall_in.into();
            run.stall_weights = p.cnt_stall_w.into();
            run.stall_output = p.cnt_stall_out.into();
            run.words_read = p.cnt_rd_words.into();
            run.words_written = p.cnt_wr_words.into();
            run.bursts = p.cnt_bursts.into();
            return Ok(run);
        }
    }
    Err(format!(
        "hang: no done within the budget of {max_cycles} cycles ({sent} of {} descriptor words taken, {} burst open)",
        words.len(),
        if burst.is_some() { "a" } else { "no" }
    ))
}

/// The first word where `mem` differs from `expect`, and how many words differ.
pub fn first_difference(mem: &Memory, expect: &Memory) -> Option<(usize, usize)> {
    let differ = |i: &usize| mem.words().get(*i) != expect.words().get(*i);
    let n = mem.len().max(expect.len());
    let first = (0..n).find(differ)?;
    Some((first, (first..n).filter(differ).count()))
}

/// The engine's fired cycles, words and bursts equal the model's, and the
/// bench saw one request per burst.
pub fn counters_match(r: &ConvRun, model: &Stats) -> Result<(), String> {
    let got = (r.fired, r.words_read, r.words_written, r.bursts);
    let want = (
        model.fired,
        model.words_read,
        model.words_written,
        model.bursts,
    );
    if got != want || r.requests != r.bursts {
        return Err(format!(
            "counters (fired, read, written, bursts) rtl {got:?} model {want:?}; bench saw {} requests",
            r.requests
        ));
    }
    Ok(())
}

/// The engine's busy cycles against `model`, the model's counters for the
/// build with `timing` ([`hw_for`]). Always: busy cycles are fired cycles,
/// stalls and overhead, and the overhead (check, step start and advance)
/// is the model's exactly, since memory stalls only lengthen transfers and
/// the prefetch; they add to the stalls of their transfer's cause only:
/// weight and output stalls exceed the model's by exactly the cycles the
/// bench stalled those causes' requests and beats, input stalls by at most
/// that (the prefetch hides some behind the compute). Without random
/// stalls the cycle model is exact: busy cycles and the three stall
/// counters equal the model's.
pub fn cycles_match(r: &ConvRun, model: &Stats, timing: MemTiming) -> Result<(), String> {
    let got = [r.stall_input, r.stall_weights, r.stall_output];
    let want = [model.stall_input, model.stall_weights, model.stall_output];
    let detail = || {
        format!(
            "rtl (cycles {}, fired {}, stalls in/w/out {got:?}), model (cycles {}, fired {}, stalls {want:?}, overhead {}), bench stalls {:?} ({timing:?})",
            r.cycles, r.fired, model.cycles, model.fired, model.overhead, r.mem_stalls
        )
    };
    if r.overhead() != Some(model.overhead) {
        return Err(format!(
            "busy cycles are not fired + stalls + the model's overhead: {}",
            detail()
        ));
    }
    // The prefetch may hide some of its memory stalls behind the compute;
    // the main machine waits for every stall of its own transfers.
    let extra = |j: usize| got[j].checked_sub(want[j]);
    let added = extra(0).is_some_and(|e| e <= r.mem_stalls[0])
        && (1..3).all(|j| extra(j) == Some(r.mem_stalls[j]));
    if !added {
        return Err(format!(
            "memory stalls did not add to their own causes only (input: at most the bench's, weights and output: exactly): {}",
            detail()
        ));
    }
    if timing.stall_pct == 0 && (r.cycles != model.cycles || got != want) {
        return Err(format!(
            "busy cycles or stalls differ from the model without memory stalls: {}",
            detail()
        ));
    }
    Ok(())
}

/// The memory timing of the training-step runs: some latency, burst
/// start-up cost and stalls on every stream.
pub const STEP_TIMING: MemTiming = MemTiming {
    latency: 2,
    t_burst: 1,
    stall_pct: 10,
    desc_gap_pct: 10,
};

/// One descriptor of a training step run through the RTL.
#[derive(Debug, Clone)]
pub struct StepRun {
    /// Layer index.
    pub layer: usize,
    /// The descriptor.
    pub desc: Descriptor,
    /// What the engine reported.
    pub rtl: ConvRun,
    /// The model's counters for the build with `timing` ([`hw_for`]).
    pub model: hls_rust::conv::Stats,
}

/// The RTL as a descriptor [`Executor`]: every descriptor runs on one
/// instance of a build (no reset in between), with the bench memory of a
/// [`MemTiming`], and in lockstep through
/// [`run_descriptor`](hls_rust::conv::exec::run_descriptor) on a copy of the
/// image. It fails unless the engine finishes without its error flag, the
/// two memory images are equal word for word (the message names the first
/// differing word's region, see [`Executor::memory_map`]), and the
/// engine's fired cycles, words and bursts equal the model's, and its busy
/// cycles and stalls by cause agree with the model's ([`cycles_match`]:
/// exactly when the memory does not stall). It returns the engine's
/// counters, with the reference's accumulator-overflow audit.
pub struct RtlExecutor {
    dut: Conv,
    hw: HwConfig,
    timing: MemTiming,
    seed: u32,
    descriptors: u32,
    regions: Vec<hls_rust::conv::plan::Region>,
    log: Option<Vec<(Descriptor, ConvRun, Stats)>>,
}

impl RtlExecutor {
    /// A reset instance of build `config` (power-up state and stalls from
    /// `seed`) behind a memory with `timing`.
    pub fn new(config: usize, seed: u32, timing: MemTiming) -> Result<Self, String> {
        let c = CONV_CONFIGS
            .get(config)
            .ok_or_else(|| format!("no conv build {config}; there are {}", CONV_CONFIGS.len()))?;
        let mut dut = Conv::new(config, seed).map_err(|e| e.to_string())?;
        dut.reset();
        Ok(Self {
            dut,
            hw: hw_for(c, timing),
            timing,
            seed,
            descriptors: 0,
            regions: Vec::new(),
            log: None,
        })
    }

    /// Also records every descriptor with the engine's and the model's
    /// counters ([`take_log`](Self::take_log)).
    pub fn recording(mut self) -> Self {
        self.log = Some(Vec::new());
        self
    }

    /// The reference's configuration of the build with this memory
    /// ([`hw_for`]): plan with it.
    pub fn hw(&self) -> HwConfig {
        self.hw
    }

    /// Clock cycles simulated so far (descriptor transfer included).
    pub fn simulated_cycles(&self) -> u64 {
        self.dut.cycles()
    }

    /// The recorded runs so far, `(descriptor, engine, model)`, emptying the log.
    pub fn take_log(&mut self) -> Vec<(Descriptor, ConvRun, Stats)> {
        self.log.as_mut().map(std::mem::take).unwrap_or_default()
    }

    fn region_of(&self, w: usize) -> String {
        self.regions
            .iter()
            .find(|r| (r.base as usize..r.base as usize + r.words).contains(&w))
            .map_or("no named region".to_owned(), |r| r.name.clone())
    }
}

impl Executor for RtlExecutor {
    fn execute(&mut self, mem: &mut Memory, d: &Descriptor) -> Result<Stats, ExecError> {
        let fail = |msg: String| ExecError::Engine(format!("RTL: {msg}"));
        let mut expect = mem.clone();
        let model = run_descriptor(&mut expect, d, &self.hw)?;
        let words = d.encode()?;
        let seed = self.seed.wrapping_add(self.descriptors);
        self.descriptors += 1;
        let max_cycles = cycle_budget(model.cycles, self.timing);
        let r = run_on(&mut self.dut, seed, &words, mem, self.timing, max_cycles).map_err(fail)?;
        if r.error {
            return Err(fail("error flag".into()));
        }
        if let Some((w, diffs)) = first_difference(mem, &expect) {
            return Err(fail(format!(
                "memory differs from the reference in {diffs} words, first at word {w} ({}): rtl {} reference {}",
                self.region_of(w),
                mem.words()[w],
                expect.words()[w]
            )));
        }
        counters_match(&r, &model).map_err(fail)?;
        cycles_match(&r, &model, self.timing).map_err(fail)?;
        if let Some(log) = &mut self.log {
            log.push((*d, r, model));
        }
        Ok(Stats {
            cycles: r.cycles,
            fired: r.fired,
            stall_input: r.stall_input,
            stall_weights: r.stall_weights,
            stall_output: r.stall_output,
            overhead: r.overhead().unwrap_or_default(),
            words_read: r.words_read,
            words_written: r.words_written,
            bursts: r.bursts,
            macs: model.macs,
            acc_overflows: model.acc_overflows,
        })
    }

    fn memory_map(&mut self, regions: &[hls_rust::conv::plan::Region]) {
        self.regions = regions.to_vec();
    }
}

/// `steps` consecutive training steps of the digits CNN
/// (`Network::digits`, batch `batch`, consecutive minibatches of the
/// training split from its first image, initial weights from `seed`,
/// typical scales) through build `config` with memory `timing`: every
/// descriptor runs on one engine instance ([`RtlExecutor`]: after every
/// descriptor the memory image, so every tensor (activations, argmax
/// planes, gradients, master and w16 weights), equals the reference's word
/// for word, and the counters the model's); host steps (batch-as-width
/// copies, softmax loss) run on the host ([`train_step`]). Every layer's
/// masters must move in every step. Returns the descriptors' runs.
pub fn digits_steps_on(
    config: usize,
    batch: usize,
    steps: usize,
    seed: u64,
    timing: MemTiming,
) -> Result<Vec<StepRun>, String> {
    use hls_rust::conv::digits::train_step;
    use hls_rust::conv::float::init_weights;
    use hls_rust::conv::plan::{Headroom, Magnitudes, Network, Scales, Step, TrainPlan};
    use hls_rust::digits::Digits;

    let mut exec = RtlExecutor::new(config, seed as u32, timing)?.recording();
    let hw = exec.hw();
    let net = Network::digits();
    let scales = Scales::propose(&net, &Magnitudes::digits_typical(), &Headroom::default());
    let plan = TrainPlan::new(&net, batch, &hw, scales, 0.1).map_err(|e| e.to_string())?;
    exec.memory_map(&plan.regions);
    let (train, _) = Digits::load().map_err(|e| e.to_string())?.split();
    let mut mem = plan.new_memory();
    for (i, w) in init_weights(&net, hw.t, seed)
        .map_err(|e| e.to_string())?
        .iter()
        .enumerate()
    {
        if let Some(w) = w {
            plan.store_weights(&mut mem, i, w)
                .map_err(|e| e.to_string())?;
        }
    }
    let layers: Vec<usize> = plan
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Engine { layer, .. } => Some(*layer),
            Step::Host { .. } => None,
        })
        .collect();
    let masters = |mem: &Memory| {
        (0..plan.tensors.len())
            .filter(|&i| plan.tensors[i].master.is_some())
            .map(|i| plan.load_master_codes(mem, i).map(|m| (i, m)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())
    };
    let mut runs = Vec::new();
    for s in 0..steps {
        let before = masters(&mem)?;
        let idx: Vec<usize> = (s * batch..(s + 1) * batch).collect();
        train_step(&plan, &mut mem, &mut exec, &train, &idx)
            .map_err(|e| format!("training step {s}: {e}"))?;
        for ((i, a), (_, b)) in before.iter().zip(masters(&mem)?) {
            if *a == b {
                return Err(format!(
                    "training step {s}: layer {i}'s masters did not change"
                ));
            }
        }
        for ((desc, rtl, model), &layer) in exec.take_log().into_iter().zip(&layers) {
            runs.push(StepRun {
                layer,
                desc,
                rtl,
                model,
            });
        }
    }
    Ok(runs)
}

/// The digits CNN trained with `cfg` through build `config`'s RTL and
/// through the reference.
#[derive(Debug, Clone)]
pub struct DigitsTraining {
    /// The reference training (`run_descriptor`), for the build's configuration.
    pub reference: hls_rust::conv::digits::Report,
    /// The same training with every descriptor on the RTL.
    pub rtl: hls_rust::conv::digits::Report,
    /// Clock cycles the RTL simulation ran (descriptor transfers included).
    pub simulated_cycles: u64,
}

/// Trains the digits CNN with `cfg` (its `hw` replaced by build `config`'s
/// with memory `timing`, see [`hw_for`]) once through the reference and once
/// with every descriptor of every training step and of the test pass on the
/// RTL ([`RtlExecutor`], which checks every descriptor's memory image and
/// counters against the reference in lockstep). Fails on the first
/// descriptor that differs (epoch, minibatch, step, layer, operation and
/// tensor in the message), or if the final master weights or test logits
/// differ from the reference training's. `progress` sees the RTL run.
pub fn digits_training_on(
    config: usize,
    cfg: &hls_rust::conv::digits::TrainConfig,
    timing: MemTiming,
    progress: &mut dyn FnMut(&hls_rust::conv::digits::Progress),
) -> Result<DigitsTraining, String> {
    use hls_rust::conv::digits::{TrainConfig, train_fixed_on, train_fixed_with};

    let mut exec = RtlExecutor::new(config, cfg.seed as u32, timing)?;
    let cfg = TrainConfig {
        hw: exec.hw(),
        ..*cfg
    };
    let reference = train_fixed_with(&cfg).map_err(|e| format!("reference training: {e}"))?;
    let rtl = train_fixed_on(&cfg, &mut exec, progress)
        .map_err(|e| format!("training through the RTL (build {config}): {e}"))?;
    if let Some(d) = rtl.bit_difference(&reference) {
        return Err(format!(
            "training through the RTL (build {config}) differs from the reference training (values: RTL against reference): {d}"
        ));
    }
    Ok(DigitsTraining {
        reference,
        rtl,
        simulated_cycles: exec.simulated_cycles(),
    })
}
