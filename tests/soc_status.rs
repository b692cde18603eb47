//! The INFO and STATUS words of every SoC build (with and without the
//! convolution engine), byte for byte, after a random TLMM job through the
//! digital twin: every field at its documented place (`docs/host-protocol.md`),
//! the reserved bits and the convolution part zero, the counters exact, the
//! engine counters consistent with the job and the engine's cycle model.
//! And the kernel-preset build (`HostLink = 0`) against its contract
//! (`hlsk_tests::soc_preset`).

use hls_rust::rng::Rng;
use hls_rust::tlmm::TernaryMatrix;
use hls_rust::tlmm::cycle::OsCycleModel;
use hls_rust::tlmm::stream::{Arch, WeightLayout};
use hlsk_cosim::configs::SOC_CONFIGS;
use hlsk_host::job::{JobPlan, run_tlmm};
use hlsk_host::proto::{Command, Counter, DeviceStatus};
use hlsk_tests::prop::{cases, check};
use hlsk_tests::twin_props::connect;
use proptest::prelude::*;

/// Largest K whose sums cannot leave an `acc_w`-bit accumulator (K * 127 *
/// 1, rounded as `tlmm_pkg::k_exact`).
fn k_exact(acc_w: u32) -> u64 {
    ((1u64 << (acc_w - 1)) - 1) / 128
}

fn status_after_a_job(
    config: usize,
    seed: u32,
    m: usize,
    k: usize,
    data: u64,
) -> Result<(), String> {
    let c = SOC_CONFIGS[config];
    let mut link = connect(config, seed, None)?;
    let info = link.info();
    let conv = u8::from(c.conv.is_some());
    let want_info = (
        u32::from(info.g),
        u32::from(info.t),
        u32::from(info.p),
        u32::from(info.acc_w),
        u32::from(info.k_max),
        u32::from(info.mem_words),
        usize::from(info.w_words),
        info.kernels,
    );
    let beat_words = c.engine().weight_beat_words();
    if want_info
        != (
            c.g,
            c.t,
            c.p,
            c.acc_w,
            c.k_max,
            c.mem_words,
            beat_words,
            1 | conv << 1,
        )
    {
        return Err(format!("INFO {info:?} does not describe build {c:?}"));
    }

    let mut rng = Rng::new(data);
    let mut m = m;
    let (w, x) = loop {
        let w = TernaryMatrix::random(m, k, 0.3, &mut rng);
        let x: Vec<i8> = (0..k).map(|_| rng.below(256) as u8 as i8).collect();
        if m == 1 || JobPlan::new(&info, &w, &x).is_ok() {
            break (w, x);
        }
        m -= 1;
    };
    let outcome = run_tlmm(&mut link, &w, &x, &mut |_| {}).map_err(|e| e.to_string())?;
    if !outcome.passed() {
        return Err(format!(
            "M = {m}, K = {k}: results differ at {:?}",
            outcome.mismatches()
        ));
    }
    let raw = link
        .transact(Command::Status, &[])
        .map_err(|e| e.to_string())?;
    let s = DeviceStatus::parse(&raw).ok_or_else(|| format!("STATUS of {} bytes", raw.len()))?;
    let fail = |what: &str| {
        Err(format!(
            "M = {m}, K = {k}: {what}\nSTATUS {raw:02x?}\n{s:?}"
        ))
    };

    // Flags: done, self-test passed; not busy, no failure, no UART error,
    // reserved bits clear. Engine flags: the reference's (legal codes).
    if raw[0] != 0b0000_0110 {
        return fail("flags byte is not exactly job done + self-test passed");
    }
    let want_flags = u8::from((k as u64) > k_exact(c.acc_w));
    if raw[1] != want_flags {
        return fail(&format!("engine flags, expected {want_flags:#x}"));
    }
    // One job, no error of any kind, nothing refused or dropped.
    if s.counter(Counter::Jobs) != 1 {
        return fail("jobs counter is not 1");
    }
    for n in [
        Counter::Crc,
        Counter::Trunc,
        Counter::Oversize,
        Counter::Unknown,
        Counter::BadArg,
        Counter::Busy,
        Counter::Dup,
        Counter::Dropped,
    ] {
        if s.counter(n) != 0 {
            return fail(&format!("counter {n:?} is not 0 on a clean link"));
        }
    }
    // The engine took exactly the job's weight beats; it was busy at least
    // the cycles of its exact model with ideal streams and about the job's
    // cycles, and its starved and blocked cycles lie within its busy ones.
    let layout = WeightLayout::new(c.p as usize, c.t as usize, Arch::OutputStationary)
        .map_err(|e| e.to_string())?;
    let beats = layout.beats(m, k.div_ceil(c.g as usize));
    if s.engine_w_beats as usize != beats {
        return fail(&format!("weight beats, expected {beats}"));
    }
    // Every SoC carries the engine's default datapath (Direct = 1).
    let model = OsCycleModel::new(c.g.into(), c.t.into(), c.p.into());
    let ideal = model.predict(m as u64, k as u64);
    let busy = u64::from(s.engine_busy);
    // (The engine leaves its drain a cycle or two after the last result,
    // which ends the job's count.)
    if busy < ideal || busy > u64::from(s.job_cycles) + 2 {
        return fail(&format!(
            "engine busy cycles outside [model {ideal}, job cycles {} + 2]",
            s.job_cycles
        ));
    }
    if u64::from(s.engine_w_starved) + beats as u64 > busy || u64::from(s.engine_out_blocked) > busy
    {
        return fail("starved + beats or blocked cycles above the busy cycles");
    }
    // No convolution job ran (and none can without the engine): its part
    // of STATUS, the reserved byte included, is zero.
    if raw[42..52].iter().any(|&b| b != 0) {
        return fail("convolution part of STATUS not zero");
    }
    Ok(())
}

#[test]
fn status_word_after_a_tlmm_job_is_exact_on_every_soc_build() {
    for (config, &c) in SOC_CONFIGS.iter().enumerate() {
        let name = format!("twin_status_after_a_job[{}]", c.name());
        let strategy = (
            any::<u32>(),
            1..=2 * c.p as usize + 1,
            1..=c.k_max as usize,
            any::<u64>(),
        );
        if let Err(e) = check(&name, cases(4), strategy, |&(seed, m, k, data), _| {
            status_after_a_job(config, seed, m, k, data)
        }) {
            panic!("{e}");
        }
    }
}

/// The kernel-preset SoC (`HostLink = 0`): self-test, stimulus registers,
/// engine ports and the parity on tx (`hlsk_tests::soc_preset`).
#[test]
fn preset_soc_stimulus_and_parity_match_the_contract() {
    for config in 0..hlsk_cosim::configs::SOC_PRESET_CONFIGS.len() {
        if let Err(e) = hlsk_tests::soc_preset::preset_soc_meets_its_contract(config, cases(8)) {
            panic!("{e}");
        }
    }
}
