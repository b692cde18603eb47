//! The TLMM output-stationary engine under load: whole jobs of random
//! ternary weights and int8 activations, every stream gated at random.

use super::common::{SEED, fail, gates, mix};
use hls_rust::rng::Rng;
use hls_rust::tlmm::stream::{Arch, WeightLayout, pack_activations, pack_weights};
use hls_rust::tlmm::{CodeMatrix, Grouping, TernaryMatrix};
use hlsk_cosim::configs::TLMM_CONFIGS;
use hlsk_cosim::{TlmmBenchStim, TlmmConfig, TlmmIn, TlmmOs};

/// The build measured: build 0, the default of `hlsk tlmm matmul --engine
/// rtl` and of the language model (G3/T3/P4, KMax 256).
pub const BUILD: usize = 0;

/// Job shapes `(M, K)`, played round and round.
const JOBS: &[(usize, usize)] = &[(32, 256), (12, 255), (40, 100), (7, 256), (64, 192), (4, 3)];

/// Valid percentages of the command, activation and weight producers, and
/// the result consumer's ready percentage.
const PRESSURE: [u8; 4] = [95, 90, 90, 80];

/// Command flag: clear status and counters before the job.
const FLAG_CLEAR: u8 = 1;

/// The build's parameters.
pub fn config() -> TlmmConfig {
    TLMM_CONFIGS[BUILD]
}

/// The job queues and gates.
pub fn stimulus() -> TlmmBenchStim {
    let cfg = config();
    let layout = WeightLayout::new(cfg.p as usize, cfg.t as usize, Arch::OutputStationary)
        .unwrap_or_else(|e| fail(&format!("TLMM layout: {e}")));
    let g = Grouping::new(cfg.g as usize).unwrap_or_else(|e| fail(&format!("grouping: {e}")));
    let words = cfg.weight_beat_words();
    let mut rng = Rng::new(0x7110);
    let mut s = TlmmBenchStim {
        w_words: words as u32,
        gates: gates(4096, &PRESSURE, 0x6a7e),
        ..TlmmBenchStim::default()
    };
    for &(m, k) in JOBS {
        let w = TernaryMatrix::random(m, k, 0.3, &mut rng);
        let x: Vec<i8> = (0..k).map(|_| rng.below(256) as u8 as i8).collect();
        s.cmd_m.push(m as u32);
        s.cmd_k.push(k as u32);
        s.cmd_flags.push(FLAG_CLEAR);
        let acts = pack_activations(&x);
        let n = acts.len();
        for (i, a) in acts.into_iter().enumerate() {
            s.act_data.push(a);
            s.act_last.push(u8::from(i + 1 == n));
        }
        let beats = pack_weights(&CodeMatrix::encode(&w, g), &layout);
        let n = beats.len();
        for (i, b) in beats.into_iter().enumerate() {
            let mut data = b.words_u32();
            data.resize(words, 0);
            s.w_data.extend(data);
            s.w_last.push(u8::from(i + 1 == n));
        }
    }
    s
}

/// What the engine did over a run.
#[derive(Debug, Default, Clone, Copy)]
pub struct Activity {
    /// Jobs whose last result was taken.
    pub jobs: u64,
    /// Cycles with `busy`.
    pub busy: u64,
}

/// The Rust driver: the same per-cycle work as `tlmm_bench` in
/// `shim/bench_impl.h`, through [`TlmmOs::step`].
pub fn rust_run(stim: &TlmmBenchStim, cycles: u64, act: &mut Activity) -> u64 {
    let mut dut = TlmmOs::new(BUILD, SEED).unwrap_or_else(|e| fail(&format!("TLMM build: {e}")));
    dut.reset();
    let words = stim.w_words as usize;
    let (n_cmd, n_act, n_w, n_gate) = (
        stim.cmd_m.len(),
        stim.act_data.len(),
        stim.w_last.len(),
        stim.gates.len(),
    );
    let (mut ci, mut ai, mut wi, mut gi) = (0, 0, 0, 0);
    let next = |i: usize, n: usize| if i + 1 == n { 0 } else { i + 1 };
    let mut sum = 0u64;
    for _ in 0..cycles {
        let g = stim.gates[gi];
        gi = next(gi, n_gate);
        let i = TlmmIn {
            cmd_valid: g & 1 != 0,
            cmd_m: stim.cmd_m[ci],
            cmd_k: stim.cmd_k[ci],
            cmd_flags: stim.cmd_flags[ci],
            act_valid: g & 2 != 0,
            act_data: stim.act_data[ai],
            act_last: stim.act_last[ai] != 0,
            w_valid: g & 4 != 0,
            w_last: stim.w_last[wi] != 0,
            res_ready: g & 8 != 0,
        };
        let p = dut.step(&i, &stim.w_data[wi * words..(wi + 1) * words]);
        if i.cmd_valid && p.cmd_ready {
            ci = next(ci, n_cmd);
        }
        if i.act_valid && p.act_ready {
            ai = next(ai, n_act);
        }
        if i.w_valid && p.w_ready {
            wi = next(wi, n_w);
        }
        let res = i.res_ready && p.res_valid;
        act.jobs += u64::from(res && p.res_last);
        act.busy += u64::from(p.busy);
        let word = (if res { u64::from(p.res_data) } else { 0 })
            ^ (u64::from(p.status) << 32)
            ^ (u64::from(res && p.res_last) << 40)
            ^ (u64::from(p.cmd_ready) << 41)
            ^ (u64::from(p.act_ready) << 42)
            ^ (u64::from(p.w_ready) << 43)
            ^ (u64::from(p.res_valid) << 44)
            ^ (u64::from(p.busy) << 45)
            ^ (u64::from(p.cnt_w_beats & 0xffff) << 48);
        sum = mix(sum, word);
    }
    if dut.rtl_error() {
        fail("TLMM bench: an RTL assertion failed");
    }
    sum
}
