//! Properties of the host link through the digital twin ([`crate::twin`]):
//! the SoC top (RTL) driven by the host driver (`hlsk_host`) bit by bit.
//!
//! - [`jobs_match_reference_on`]: random TLMM jobs (shapes within the
//!   board's KMax and memory) run through the link give exactly
//!   `hls_rust::tlmm::golden`'s results;
//! - [`wire_fault_is_recovered`]: one fault on a WRITE frame (a flipped bit,
//!   a dropped, duplicated or framing-broken byte, a truncated frame) is
//!   detected by the device (its NAK counter or the host's timeout), never
//!   executed as garbage (the memory holds exactly what was meant to be
//!   written, nothing else changed), and the driver's retry completes the
//!   write;
//! - [`lost_ack_is_not_re_executed`]: a WRITE or TLMM_START whose
//!   acknowledgement is garbled or cut is sent again, acknowledged as a
//!   duplicate and not executed twice;
//! - [`retry_after_a_poll_is_not_re_executed`]: the same with a STATUS
//!   poll (and a READ) between the lost acknowledgement and the retry, as a
//!   client that checks on the device before retrying sends them;
//! - [`seq_wraparound_never_looks_like_a_repeat`]: the driver never gives
//!   a new command the SEQ the device remembers, however many polls pass;
//! - [`jobs_survive_wire_faults_on`]: random faults of every kind on random
//!   frames in both directions during a whole job: the results are still
//!   bit-identical to the reference and the job ran exactly once;
//! - [`nak_reasons_are_exact_on`]: runs of random good, bad, oversize and
//!   cut frames (and version-2 INFOs) each get the exact status, SEQ and
//!   counter the protocol gives their bytes.

use crate::prop::check;
use crate::twin::{Twin, WireFault};
use hls_rust::rng::Rng;
use hls_rust::tlmm::TernaryMatrix;
use hls_rust::tlmm::stream::{Arch, WeightLayout};
use hlsk_cosim::configs::SOC_CONFIGS;
use hlsk_host::job::{JobPlan, run_tlmm};
use hlsk_host::proto::{Command, Counter};
use hlsk_host::{Link, LinkConfig, LinkError};
use proptest::prelude::*;
use std::path::Path;

/// A connected link to a fresh twin of SoC build `config`.
pub fn connect(config: usize, seed: u32, waves: Option<&Path>) -> Result<Link<Twin>, String> {
    let twin = Twin::new(config, seed, waves).map_err(|e| e.to_string())?;
    let baud = SOC_CONFIGS[config].baud;
    Link::connect(
        twin,
        LinkConfig {
            baud,
            ..LinkConfig::default()
        },
    )
    .map_err(|e| e.to_string())
}

/// One random TLMM job.
#[derive(Debug, Clone)]
pub struct JobCase {
    /// Index into `SOC_CONFIGS`.
    pub config: usize,
    /// Power-up seed.
    pub seed: u32,
    /// Rows (reduced until the job fits the memory).
    pub m: usize,
    /// Columns.
    pub k: usize,
    /// Share of zero weights, percent.
    pub zeros: u8,
    /// Seed of W and x.
    pub data: u64,
}

fn job_case(config: usize) -> impl Strategy<Value = JobCase> {
    let c = SOC_CONFIGS[config];
    (
        any::<u32>(),
        1..=3 * c.p as usize + 1,
        1..=c.k_max as usize,
        0u8..=100,
        any::<u64>(),
    )
        .prop_map(move |(seed, m, k, zeros, data)| JobCase {
            config,
            seed,
            m,
            k,
            zeros,
            data,
        })
}

/// W (with `zeros` percent zeros) and x (both int8 extremes included when
/// K allows) of a case.
fn job_data(case: &JobCase, m: usize) -> (TernaryMatrix, Vec<i8>) {
    let mut rng = Rng::new(case.data);
    let w = TernaryMatrix::random(m, case.k, f64::from(case.zeros) / 100.0, &mut rng);
    let mut x: Vec<i8> = (0..case.k).map(|_| rng.below(256) as u8 as i8).collect();
    x[0] = i8::MIN;
    if case.k > 1 {
        x[1] = i8::MAX;
    }
    (w, x)
}

/// Property: a random job through the twin equals the reference, with no
/// engine error flag, no link error counted, and the job's cycle count from
/// the device.
pub fn jobs_match_reference_on(config: usize, cases: u32) -> Result<(), String> {
    let name = format!(
        "twin_tlmm_jobs_match_reference[{}]",
        SOC_CONFIGS[config].name()
    );
    check(&name, cases, job_case(config), |case, waves| {
        let mut link = connect(case.config, case.seed, waves)?;
        let info = link.info();
        // Fewer rows until the job fits the memory.
        let mut m = case.m;
        let (w, x) = loop {
            let (w, x) = job_data(case, m);
            if m == 1 || JobPlan::new(&info, &w, &x).is_ok() {
                break (w, x);
            }
            m -= 1;
        };
        let outcome = run_tlmm(&mut link, &w, &x, &mut |_| {}).map_err(|e| e.to_string())?;
        if !outcome.passed() {
            return Err(format!(
                "M = {m}: results differ at rows {:?}\n device   {:?}\n expected {:?}\n engine flags {:#x}",
                outcome.mismatches(),
                outcome.out,
                outcome.expected,
                outcome.status.engine_flags
            ));
        }
        let s = outcome.status;
        let errors: u32 = [
            Counter::Crc,
            Counter::Trunc,
            Counter::Oversize,
            Counter::BadArg,
        ]
        .iter()
        .map(|&c| u32::from(s.counter(c)))
        .sum();
        if errors != 0 || !s.bist_passed || s.uart_frame_err || s.uart_overrun {
            return Err(format!("clean link reported errors: {s:?}"));
        }
        // The engine took exactly the job's weight beats.
        let c = SOC_CONFIGS[case.config];
        let layout = WeightLayout::new(c.p as usize, c.t as usize, Arch::OutputStationary)
            .map_err(|e| e.to_string())?;
        let beats = layout.beats(m, case.k.div_ceil(c.g as usize));
        if s.engine_w_beats as usize != beats || s.job_cycles == 0 {
            return Err(format!(
                "engine took {} weight beats in {} cycles, the job has {beats}",
                s.engine_w_beats, s.job_cycles
            ));
        }
        Ok(())
    })
}

/// Memory words the fault scenarios look at.
const WINDOW: usize = 48;
/// Where the faulty WRITE goes in the window.
const TARGET: usize = 16;
/// Words of the faulty WRITE.
const WORDS: usize = 8;

/// The device counter a fault on the WRITE must raise, or `None` when the
/// device cannot see the frame at all (a corrupt SOF: only the host's
/// timeout notices). Frame bytes: SOF 0, LEN 1, ~LEN 2, SEQ 3, CMD 4,
/// payload 5.., CRC (4 bytes). A corrupt LEN or ~LEN fails the header
/// check (counted with the CRC errors); a lost or extra byte either ends
/// the frame early on a wrong CRC or leaves it waiting (truncated).
pub fn expected_counter(fault: WireFault) -> Option<Counter> {
    match fault {
        WireFault::FlipBit { byte: 0, .. } => None,
        WireFault::FlipBit { .. } => Some(Counter::Crc),
        // A second SOF is read as LEN, then LEN as ~LEN: a bad header.
        WireFault::Duplicate { .. } => Some(Counter::Crc),
        WireFault::Drop { .. } | WireFault::Truncate { .. } | WireFault::BadStopBit { .. } => {
            Some(Counter::Trunc)
        }
    }
}

/// Scenario: a WRITE of [`WORDS`] words at [`TARGET`] suffers `fault` on
/// its first attempt; the driver still completes it, the device counted
/// the fault (or the host timed out), and the memory window holds the
/// background pattern except for exactly the written words.
pub fn wire_fault_is_recovered(config: usize, fault: WireFault) -> Result<(), String> {
    let mut link = connect(config, 7, None)?;
    let background: Vec<u32> = (0..WINDOW as u32).map(|i| 0x5a00_0000 | i).collect();
    link.write_words(0, &background)
        .map_err(|e| e.to_string())?;
    let data: Vec<u32> = (0..WORDS as u32)
        .map(|i| 0xc0de_0000 ^ (i * 0x1111))
        .collect();
    let before = link.status().map_err(|e| e.to_string())?;
    let stats_before = link.stats();
    link.transport_mut().fault_to_device(0, fault);
    link.write_words(TARGET, &data)
        .map_err(|e| format!("{fault:?}: write not recovered: {e}"))?;
    let after = link.status().map_err(|e| e.to_string())?;
    let stats = link.stats();
    let mut want = background.clone();
    want[TARGET..TARGET + WORDS].copy_from_slice(&data);
    let got = link.read_words(0, WINDOW).map_err(|e| e.to_string())?;
    if got != want {
        return Err(format!(
            "{fault:?}: memory after recovery\n got  {got:x?}\n want {want:x?}"
        ));
    }
    if stats.retries == stats_before.retries {
        return Err(format!(
            "{fault:?}: recovered without a retry: the fault went unnoticed"
        ));
    }
    match expected_counter(fault) {
        Some(c) if after.counter(c) <= before.counter(c) => Err(format!(
            "{fault:?}: device counter {c:?} did not rise ({} -> {}); status {after:?}",
            before.counter(c),
            after.counter(c)
        )),
        None if stats.timeouts == stats_before.timeouts => {
            Err(format!("{fault:?}: hidden frame but no host timeout"))
        }
        _ => Ok(()),
    }
    .and_then(|()| match fault {
        WireFault::BadStopBit { .. } if !after.uart_frame_err => {
            Err("a bad stop bit did not set the UART framing flag".to_owned())
        }
        _ => Ok(()),
    })
}

/// Scenario: the acknowledgement of a WRITE suffers `fault`; the driver
/// sends the WRITE again, gets a duplicate acknowledgement, and the device
/// counted exactly one duplicate. Then the same for a TLMM_START: the job
/// runs once (the job counter rises by one) and its results are right.
pub fn lost_ack_is_not_re_executed(config: usize, fault: WireFault) -> Result<(), String> {
    let mut link = connect(config, 11, None)?;
    let s0 = link.status().map_err(|e| e.to_string())?;
    link.transport_mut().fault_from_device(0, fault);
    link.write_words(3, &[0x1234_5678, 0x9abc_def0])
        .map_err(|e| format!("{fault:?}: {e}"))?;
    let s1 = link.status().map_err(|e| e.to_string())?;
    if s1.counter(Counter::Dup) != s0.counter(Counter::Dup) + 1 || link.stats().dups != 1 {
        return Err(format!(
            "{fault:?} on a WRITE ack: {} duplicates on the device, {} seen by the host (want 1)",
            s1.counter(Counter::Dup) - s0.counter(Counter::Dup),
            link.stats().dups
        ));
    }
    if link.read_words(3, 2).map_err(|e| e.to_string())? != [0x1234_5678, 0x9abc_def0] {
        return Err("the duplicated WRITE left wrong data".to_owned());
    }

    // The same for TLMM_START: garble its acknowledgement (the frame after
    // the uploads and the status read that precede it in run_tlmm).
    let mut rng = Rng::new(3);
    let w = TernaryMatrix::random(5, 20, 0.3, &mut rng);
    let x: Vec<i8> = (0..20).map(|i| (i * 13 - 100) as i8).collect();
    let plan = JobPlan::new(&link.info(), &w, &x).map_err(|e| e.to_string())?;
    let uploads = (plan.act_words.len() + plan.weight_words.len())
        .div_ceil(usize::from(link.info().max_words));
    link.transport_mut().fault_from_device(uploads + 1, fault);
    let outcome = run_tlmm(&mut link, &w, &x, &mut |_| {}).map_err(|e| e.to_string())?;
    let s2 = outcome.status;
    if !outcome.passed() {
        return Err(format!(
            "job after a lost ack: {:?} vs {:?}",
            outcome.out, outcome.expected
        ));
    }
    if s2.counter(Counter::Jobs) != s1.counter(Counter::Jobs) + 1
        || s2.counter(Counter::Dup) != s1.counter(Counter::Dup) + 1
    {
        return Err(format!(
            "{fault:?} on a TLMM_START ack: jobs {} -> {}, duplicates {} -> {} (want +1 each)",
            s1.counter(Counter::Jobs),
            s2.counter(Counter::Jobs),
            s1.counter(Counter::Dup),
            s2.counter(Counter::Dup)
        ));
    }
    Ok(())
}

/// Sends one frame `seq`/`cmd`/`payload` straight through the twin (not
/// through the link's driver), the device's reply cut off when `lose`;
/// returns the reply's status byte and payload, `None` when none came
/// within `wait` (device time).
fn raw_frame(
    link: &mut Link<Twin>,
    seq: u8,
    cmd: Command,
    payload: &[u8],
    lose: bool,
) -> Result<Option<(u8, Vec<u8>)>, String> {
    use hlsk_host::Transport;
    use hlsk_host::proto::{Decoder, Frame};
    let twin = link.transport_mut();
    if lose {
        twin.fault_from_device(0, WireFault::Truncate { keep: 0 });
    }
    let frame = Frame {
        seq,
        code: cmd as u8,
        payload: payload.to_vec(),
    };
    twin.send(&frame.encode()).map_err(|e| e.to_string())?;
    let mut decoder = Decoder::default();
    let mut buf = [0u8; 256];
    loop {
        let n = twin
            .recv(&mut buf, std::time::Duration::from_millis(50))
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Ok(None);
        }
        for &b in &buf[..n] {
            if let Some(Ok(f)) = decoder.push(b)
                && f.seq == seq
            {
                return Ok(Some((f.code, f.payload)));
            }
        }
    }
}

/// Scenario: a WRITE whose acknowledgement is lost, then a STATUS poll and
/// a READ, then the WRITE again with its SEQ: the device answers DUP and
/// does not execute it again; the same for a TLMM_START (the job runs once:
/// the job counter rises by one, the results are the reference's), for a
/// client that polls the device between a lost reply and its retry.
pub fn retry_after_a_poll_is_not_re_executed(config: usize) -> Result<(), String> {
    use hlsk_host::proto::{DeviceStatus, Status};
    let mut link = connect(config, 21, None)?;
    let dup = Status::Dup.byte();
    // SEQs far from the driver's (it counts up from 1).
    let (w_seq, poll_seq, read_seq, job_seq) = (200u8, 201u8, 202u8, 210u8);
    let mut write = vec![4u8, 0];
    write.extend(0x0bad_cafe_u32.to_le_bytes());
    let s0 = link.status().map_err(|e| e.to_string())?;
    if raw_frame(&mut link, w_seq, Command::Write, &write, true)?.is_some() {
        return Err("the WRITE's reply was meant to be lost".into());
    }
    raw_frame(&mut link, poll_seq, Command::Status, &[], false)?
        .ok_or("no reply to the STATUS poll")?;
    raw_frame(&mut link, read_seq, Command::Read, &[4, 0, 1], false)?
        .ok_or("no reply to the READ")?;
    let again = raw_frame(&mut link, w_seq, Command::Write, &write, false)?;
    if again.as_ref().map(|r| r.0) != Some(dup) {
        return Err(format!(
            "WRITE retried after a STATUS poll and a READ: reply {again:?}, want DUP ({dup:#04x}): it ran twice"
        ));
    }
    let s1 = link.status().map_err(|e| e.to_string())?;
    if s1.counter(Counter::Dup) != s0.counter(Counter::Dup) + 1 {
        return Err(format!(
            "WRITE: {} duplicates counted, want 1",
            s1.counter(Counter::Dup) - s0.counter(Counter::Dup)
        ));
    }

    let mut rng = Rng::new(9);
    let w = TernaryMatrix::random(6, 24, 0.3, &mut rng);
    let x: Vec<i8> = (0..24).map(|i| (i * 11 - 120) as i8).collect();
    let plan = JobPlan::new(&link.info(), &w, &x).map_err(|e| e.to_string())?;
    let d = plan.desc;
    link.write_words(usize::from(d.a_addr), &plan.upload())
        .map_err(|e| e.to_string())?;
    let s2 = link.status().map_err(|e| e.to_string())?;
    let start = d.payload();
    if raw_frame(&mut link, job_seq, Command::TlmmStart, &start, true)?.is_some() {
        return Err("the TLMM_START's reply was meant to be lost".into());
    }
    raw_frame(
        &mut link,
        job_seq.wrapping_add(1),
        Command::Status,
        &[],
        false,
    )?
    .ok_or("no reply to the STATUS poll")?;
    let done = |s: &DeviceStatus| s.counter(Counter::Jobs) != s2.counter(Counter::Jobs);
    let mut s3 = link.status().map_err(|e| e.to_string())?;
    for _ in 0..200 {
        if done(&s3) {
            break;
        }
        s3 = link.status().map_err(|e| e.to_string())?;
    }
    let again = raw_frame(&mut link, job_seq, Command::TlmmStart, &start, false)?;
    if again.as_ref().map(|r| r.0) != Some(dup) {
        return Err(format!(
            "TLMM_START retried after STATUS polls: reply {again:?}, want DUP ({dup:#04x})"
        ));
    }
    // Give a second job (if one started) time to finish before counting.
    for _ in 0..50 {
        s3 = link.status().map_err(|e| e.to_string())?;
    }
    if s3.counter(Counter::Jobs) != s2.counter(Counter::Jobs) + 1 {
        return Err(format!(
            "TLMM_START retried after a STATUS poll: jobs {} -> {}, want +1",
            s2.counter(Counter::Jobs),
            s3.counter(Counter::Jobs)
        ));
    }
    let out: Vec<i32> = link
        .read_words(usize::from(d.out_addr), w.m())
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|v| v as i32)
        .collect();
    let acc =
        hls_rust::tlmm::AccWidth::new(u32::from(link.info().acc_w)).map_err(|e| e.to_string())?;
    let want = hls_rust::tlmm::golden(&w, &x, acc)
        .map_err(|e| e.to_string())?
        .out;
    if out != want {
        return Err(format!("job results {out:?}, reference {want:?}"));
    }
    Ok(())
}

/// Scenario: a WRITE, then `n` STATUS polls for every `n` around 255 (the
/// driver's 8-bit SEQ wraps around to the WRITE's), then a new WRITE: it
/// is executed (the memory holds the new data, no duplicate counted), so
/// the driver never gives a new side-effecting command the SEQ the device
/// remembers.
pub fn seq_wraparound_never_looks_like_a_repeat(config: usize) -> Result<(), String> {
    let mut link = connect(config, 31, None)?;
    let s0 = link.status().map_err(|e| e.to_string())?;
    for (i, n) in (250u32..=260).enumerate() {
        let value = 2 * i as u32;
        link.write_words(8, &[value]).map_err(|e| e.to_string())?;
        for _ in 0..n {
            link.status().map_err(|e| e.to_string())?;
        }
        link.write_words(8, &[value + 1])
            .map_err(|e| e.to_string())?;
        let got = link.read_words(8, 1).map_err(|e| e.to_string())?;
        if got != [value + 1] {
            return Err(format!(
                "a WRITE after another and {n} STATUS polls: memory holds {got:?}, want [{}] \
                 (taken for a repeat of the first: same SEQ)",
                value + 1
            ));
        }
    }
    let s1 = link.status().map_err(|e| e.to_string())?;
    if s1.counter(Counter::Dup) != s0.counter(Counter::Dup) {
        return Err(format!(
            "{} duplicates counted, want none",
            s1.counter(Counter::Dup) - s0.counter(Counter::Dup)
        ));
    }
    Ok(())
}

/// Scenario: frames the device must refuse, each answered with its NAK and
/// counted, nothing executed: an unknown command, a CONV_START of the wrong
/// length (unknown without the convolution engine), a READ beyond the memory, a TLMM job with K above KMax or
/// regions beyond the memory, an oversize frame.
pub fn bad_frames_are_refused(config: usize) -> Result<(), String> {
    let mut link = connect(config, 5, None)?;
    let info = link.info();
    link.write_words(0, &[0xfeed_f00d; 4])
        .map_err(|e| e.to_string())?;
    let s0 = link.status().map_err(|e| e.to_string())?;
    let mem = info.mem_words;
    let conv_refusal = if info.has_conv() {
        hlsk_host::proto::Status::NakBadArg
    } else {
        hlsk_host::proto::Status::NakUnknown
    };
    let refusals: Vec<(Command, Vec<u8>, hlsk_host::proto::Status)> = vec![
        (Command::ConvStart, vec![0; 12], conv_refusal),
        (
            Command::Read,
            [(mem - 1).to_le_bytes().as_slice(), &[2]].concat(),
            hlsk_host::proto::Status::NakBadArg,
        ),
        (
            Command::Write,
            [0u16.to_le_bytes().as_slice(), &[1, 2, 3]].concat(),
            hlsk_host::proto::Status::NakBadArg,
        ),
        (
            Command::TlmmStart,
            desc_payload(1, info.k_max + 1, 0, 0, 0),
            hlsk_host::proto::Status::NakBadArg,
        ),
        (
            Command::TlmmStart,
            desc_payload(4, 8, 0, mem - 1, 8),
            hlsk_host::proto::Status::NakBadArg,
        ),
        (
            Command::TlmmStart,
            desc_payload(4, 8, 0, 4, mem - 2),
            hlsk_host::proto::Status::NakBadArg,
        ),
    ];
    for (cmd, payload, want) in &refusals {
        match link.transact(*cmd, payload) {
            Err(LinkError::Refused { status, .. }) if status == *want => {}
            other => return Err(format!("{cmd:?} {payload:?}: want {want}, got {other:?}")),
        }
    }
    // A command byte nobody knows, and a frame longer than the device takes.
    for (code, len, want) in [
        (0x7f_u8, 0usize, 0x83_u8),
        (Command::Write as u8, 200, 0x82),
    ] {
        let reply = raw_exchange(&mut link, code, len)?;
        if reply != Some(want) {
            return Err(format!(
                "code {code:#x} LEN {len}: want status {want:#x}, got {reply:?}"
            ));
        }
    }
    let s1 = link.status().map_err(|e| e.to_string())?;
    let rise = |c: Counter| s1.counter(c) - s0.counter(c);
    let conv = u16::from(info.has_conv());
    if rise(Counter::Unknown) != 2 - conv
        || rise(Counter::BadArg) != 5 + conv
        || rise(Counter::Oversize) != 1
    {
        return Err(format!(
            "refusals not counted as expected: before {s0:?}, after {s1:?}"
        ));
    }
    if s1.job_busy || s1.counter(Counter::Jobs) != s0.counter(Counter::Jobs) {
        return Err("a refused job ran".to_owned());
    }
    if link.read_words(0, 4).map_err(|e| e.to_string())? != [0xfeed_f00d; 4] {
        return Err("a refused frame changed the memory".to_owned());
    }
    Ok(())
}

/// One frame of [`nak_reasons_are_exact_on`]: a frame with command
/// [`PROBE_CMD`] (unknown: a good frame is answered NakUnknown and has no
/// effect), possibly with a wrong ~LEN or CRC, cut after `keep` bytes
/// following its SOF, then silence; or a protocol-version-2 INFO.
#[derive(Debug, Clone)]
pub struct RxFrame {
    /// LEN (anything, also above the device's maximum payload).
    pub len: u8,
    /// ~LEN as sent is LEN's complement xor this.
    pub len_inv_xor: u8,
    /// SEQ.
    pub seq: u8,
    /// Seed of the payload bytes.
    pub data: u64,
    /// The CRC as sent is the right one xor this.
    pub crc_xor: u32,
    /// Bytes kept after SOF (the whole frame when larger).
    pub keep: usize,
    /// Send a version-2 INFO (SEQ `seq`) instead.
    pub v2_info: bool,
}

/// The command byte of [`RxFrame`]s: unknown to the device.
pub const PROBE_CMD: u8 = 0x7f;

/// What the device must answer an [`RxFrame`], decided from its bytes
/// alone by the protocol (docs/host-protocol.md): the reply's status and
/// SEQ (the frame's once its header got that far and was good, else 0),
/// whether the reply comes in version-2 framing, and the counter it
/// raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxVerdict {
    /// Reply status.
    pub status: u8,
    /// Reply SEQ.
    pub seq: u8,
    /// The reply is a version-2 INFO (CRC-16 framing).
    pub v2: bool,
    /// The STATUS counter it raises.
    pub counter: Counter,
}

impl RxFrame {
    /// The bytes sent, and the verdict they must get from a device whose
    /// largest payload is `max_payload`.
    pub fn bytes_and_verdict(&self, max_payload: usize) -> (Vec<u8>, RxVerdict) {
        use hlsk_host::proto::{Frame, Framing, Status};
        let verdict = |status: Status, seq: u8, counter: Counter| RxVerdict {
            status: status.byte(),
            seq,
            v2: false,
            counter,
        };
        if self.v2_info {
            let f = Frame {
                seq: self.seq,
                code: Command::Info as u8,
                payload: vec![],
            };
            let v = RxVerdict {
                status: Status::Ok.byte(),
                seq: self.seq,
                v2: true,
                counter: Counter::Unknown,
            };
            return (f.encode_as(Framing::V2), v);
        }
        let mut rng = Rng::new(self.data);
        let payload: Vec<u8> = (0..self.len).map(|_| rng.below(256) as u8).collect();
        let mut bytes = Frame {
            seq: self.seq,
            code: PROBE_CMD,
            payload,
        }
        .encode();
        bytes[2] ^= self.len_inv_xor;
        let n = bytes.len();
        let crc = u32::from_le_bytes([bytes[n - 4], bytes[n - 3], bytes[n - 2], bytes[n - 1]]);
        bytes[n - 4..].copy_from_slice(&(crc ^ self.crc_xor).to_le_bytes());
        bytes.truncate(self.keep.saturating_add(1));
        let got = bytes.len() - 1; // bytes after SOF
        let len = usize::from(self.len);
        let v = if got < 2 {
            verdict(Status::NakTrunc, 0, Counter::Trunc)
        } else if self.len_inv_xor != 0 {
            verdict(Status::NakCrc, 0, Counter::Crc)
        } else {
            let seq = if got >= 3 { self.seq } else { 0 };
            if len > max_payload {
                verdict(Status::NakOversize, seq, Counter::Oversize)
            } else if got < len + 8 {
                verdict(Status::NakTrunc, seq, Counter::Trunc)
            } else if self.crc_xor != 0 {
                verdict(Status::NakCrc, seq, Counter::Crc)
            } else {
                verdict(Status::NakUnknown, seq, Counter::Unknown)
            }
        };
        (bytes, v)
    }
}

fn rx_frame() -> impl Strategy<Value = RxFrame> {
    let len = prop_oneof![Just(0u8), 1u8..=16, 120u8..=140, any::<u8>()];
    let len_inv_xor = prop_oneof![3 => Just(0u8), 1 => any::<u8>()];
    let crc_xor =
        prop_oneof![2 => Just(0u32), 1 => any::<u32>(), 1 => (0u32..32).prop_map(|b| 1 << b)];
    let keep = prop_oneof![2 => Just(usize::MAX), 1 => 0usize..12, 1 => 0usize..300];
    (
        len,
        len_inv_xor,
        any::<u8>(),
        any::<u64>(),
        crc_xor,
        keep,
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(len, len_inv_xor, seq, data, crc_xor, keep, v2_info)| RxFrame {
                len,
                len_inv_xor,
                seq,
                data,
                crc_xor,
                keep,
                v2_info,
            },
        )
}

/// Property: every frame of a random run (good ones, bad ~LEN, oversize
/// LEN, wrong CRC, cut anywhere, a version-2 INFO) gets exactly one reply
/// whose status and SEQ are the protocol's verdict on that frame's bytes
/// alone, whatever frames came before (the receiver's NAK reason does not
/// carry over from an earlier frame, and LEN counts only once ~LEN
/// confirms it), and each raises its STATUS counter by one. A version-2
/// INFO is answered in version-2 framing with this device's INFO, so an
/// old host reads protocol version 3 and refuses the device.
pub fn nak_reasons_are_exact_on(config: usize, cases: u32) -> Result<(), String> {
    use hlsk_host::Transport;
    use hlsk_host::proto::{Decoder, DeviceInfo, Framing, VERSION};
    let name = format!("twin_nak_reasons_are_exact[{}]", SOC_CONFIGS[config].name());
    let strategy = (any::<u32>(), prop::collection::vec(rx_frame(), 1..=5));
    check(&name, cases, strategy, |(seed, frames), waves| {
        let mut link = connect(config, *seed, waves)?;
        let info = link.info();
        let s0 = link.status().map_err(|e| e.to_string())?;
        let mut want_counts = [0u16; 10];
        for (i, f) in frames.iter().enumerate() {
            let (bytes, want) = f.bytes_and_verdict(usize::from(info.max_payload));
            let twin = link.transport_mut();
            twin.send(&bytes).map_err(|e| e.to_string())?;
            let mut v3 = (Decoder::default(), Vec::new());
            let mut v2 = (Decoder::new(Framing::V2), Vec::new());
            let mut buf = [0u8; 64];
            // A frame cut short is answered after the 20 ms line timeout;
            // a reply comes a few bytes per call. Read until 40 ms of
            // silence after a reply (or 160 ms without one).
            let mut quiet = 0;
            while quiet < 4 {
                let n = twin
                    .recv(&mut buf, std::time::Duration::from_millis(40))
                    .map_err(|e| e.to_string())?;
                for &b in &buf[..n] {
                    for (d, got) in [&mut v3, &mut v2] {
                        if let Some(Ok(r)) = d.push(b) {
                            got.push(r);
                        }
                    }
                }
                quiet = match n {
                    0 if !(v3.1.is_empty() && v2.1.is_empty()) => 4,
                    0 => quiet + 1,
                    _ => 0,
                };
            }
            // A version-3 reply may pass a version-2 decoder by chance
            // (2^-16), not the other way round (it is too short).
            let got: Vec<_> = if v3.1.is_empty() {
                v2.1.into_iter().map(|r| (r, true)).collect()
            } else {
                v3.1.into_iter().map(|r| (r, false)).collect()
            };
            let [(reply, v2_framed)] = got.as_slice() else {
                return Err(format!(
                    "frame {i} {f:?} ({} bytes): want one reply {want:?}, got {got:?}",
                    bytes.len()
                ));
            };
            let verdict = RxVerdict {
                status: reply.code,
                seq: reply.seq,
                v2: *v2_framed,
                counter: want.counter,
            };
            if verdict != want {
                return Err(format!(
                    "frame {i} {f:?} ({} bytes {:02x?}): want {want:?}, got {verdict:?}",
                    bytes.len(),
                    &bytes[..bytes.len().min(8)]
                ));
            }
            if want.v2 {
                let old = DeviceInfo::parse(&reply.payload)
                    .ok_or_else(|| format!("version-2 INFO reply {reply:?} does not parse"))?;
                if old != info || old.version != VERSION {
                    return Err(format!("version-2 INFO reply {old:?}, device {info:?}"));
                }
            }
            want_counts[want.counter as usize] += 1;
        }
        let s1 = link.status().map_err(|e| e.to_string())?;
        for c in [
            Counter::Crc,
            Counter::Trunc,
            Counter::Oversize,
            Counter::Unknown,
        ] {
            let rise = s1.counter(c).wrapping_sub(s0.counter(c));
            if rise != want_counts[c as usize] {
                return Err(format!(
                    "counter {c:?} rose by {rise}, want {}: before {s0:?}, after {s1:?}",
                    want_counts[c as usize]
                ));
            }
        }
        Ok(())
    })
}

fn desc_payload(m: u16, k: u16, a: u16, w: u16, o: u16) -> Vec<u8> {
    hlsk_host::proto::TlmmDescriptor {
        m,
        k,
        a_addr: a,
        w_addr: w,
        out_addr: o,
    }
    .payload()
}

/// Sends one frame with command byte `code` and `len` zero payload bytes
/// straight through the transport (past the link's checks) and returns the
/// status of the reply with its SEQ, if one came.
fn raw_exchange(link: &mut Link<Twin>, code: u8, len: usize) -> Result<Option<u8>, String> {
    use hlsk_host::Transport;
    use hlsk_host::proto::{Decoder, Frame};
    let frame = Frame {
        seq: 0xee,
        code,
        payload: vec![0; len],
    };
    let twin = link.transport_mut();
    twin.send(&frame.encode()).map_err(|e| e.to_string())?;
    let mut d = Decoder::default();
    let mut buf = [0u8; 64];
    // An oversize frame is only NAKed after the 20 ms line timeout.
    for _ in 0..8 {
        let n = twin
            .recv(&mut buf, std::time::Duration::from_millis(40))
            .map_err(|e| e.to_string())?;
        for &b in &buf[..n] {
            if let Some(Ok(f)) = d.push(b)
                && f.seq == 0xee
            {
                return Ok(Some(f.code));
            }
        }
    }
    Ok(None)
}

/// A fault on the `nth` frame of one direction.
#[derive(Debug, Clone, Copy)]
pub struct Injected {
    /// Frame index from the start of the job (host frames or replies).
    pub nth: usize,
    /// Host to device (else device to host).
    pub to_device: bool,
    /// The fault.
    pub fault: WireFault,
}

fn injected() -> impl Strategy<Value = Injected> {
    (0usize..40, any::<bool>(), 0usize..48, 0u8..8, 0u8..5).prop_map(
        |(nth, to_device, byte, bit, kind)| {
            let fault = match kind {
                0 => WireFault::FlipBit { byte, bit },
                1 => WireFault::Drop { byte },
                2 => WireFault::Duplicate { byte },
                3 => WireFault::Truncate { keep: byte },
                // Framing errors only exist towards the device's UART.
                _ if to_device => WireFault::BadStopBit { byte },
                _ => WireFault::FlipBit { byte, bit },
            };
            Injected {
                nth,
                to_device,
                fault,
            }
        },
    )
}

/// Property: with up to four random wire faults during a job, the driver
/// still completes it, the results equal the reference, and the job ran
/// exactly once (the device's job counter rose by one).
pub fn jobs_survive_wire_faults_on(config: usize, cases: u32) -> Result<(), String> {
    let name = format!(
        "twin_jobs_survive_wire_faults[{}]",
        SOC_CONFIGS[config].name()
    );
    let c = SOC_CONFIGS[config];
    let strategy = (
        job_case(config).prop_map(move |mut j| {
            // Small jobs: the faults, not the size, are the point.
            j.m = j.m.min(2 * c.p as usize);
            j.k = j.k.min(96);
            j
        }),
        prop::collection::vec(injected(), 1..=4),
    );
    check(&name, cases, strategy, |(case, faults), waves| {
        let mut link = connect(case.config, case.seed, waves)?;
        let jobs_before = link
            .status()
            .map_err(|e| e.to_string())?
            .counter(Counter::Jobs);
        for f in faults {
            let twin = link.transport_mut();
            if f.to_device {
                twin.fault_to_device(f.nth, f.fault);
            } else {
                twin.fault_from_device(f.nth, f.fault);
            }
        }
        let (w, x) = job_data(case, case.m);
        let outcome = run_tlmm(&mut link, &w, &x, &mut |_| {}).map_err(|e| e.to_string())?;
        if !outcome.passed() {
            return Err(format!(
                "results differ at rows {:?} (engine flags {:#x})",
                outcome.mismatches(),
                outcome.status.engine_flags
            ));
        }
        let jobs = outcome.status.counter(Counter::Jobs);
        if jobs != jobs_before + 1 {
            return Err(format!("{} jobs ran, want 1", jobs - jobs_before));
        }
        Ok(())
    })
}

/// Scenario: while a long job runs (ULX3S build, M = 40, K = 1024: about
/// 2,800 cycles, longer than the START acknowledgement and a READ take on
/// the line), a READ is refused with NakBusy and counted, STATUS still
/// answers; afterwards the results are exact.
pub fn memory_commands_wait_for_the_job(config: usize) -> Result<(), String> {
    let mut link = connect(config, 13, None)?;
    let info = link.info();
    let mut rng = Rng::new(17);
    let k = usize::from(info.k_max);
    let w = TernaryMatrix::random(40, k, 0.3, &mut rng);
    let x: Vec<i8> = (0..k).map(|_| rng.below(256) as u8 as i8).collect();
    let plan = JobPlan::new(&info, &w, &x).map_err(|e| e.to_string())?;
    link.write_words(usize::from(plan.desc.a_addr), &plan.upload())
        .map_err(|e| e.to_string())?;
    link.start_tlmm(&plan.desc).map_err(|e| e.to_string())?;
    match link.read_words(0, 1) {
        Err(LinkError::Refused {
            status: hlsk_host::proto::Status::NakBusy,
            ..
        }) => {}
        other => return Err(format!("READ during the job: want NakBusy, got {other:?}")),
    }
    let mut s = link.status().map_err(|e| e.to_string())?;
    let mut polls = 0;
    while s.job_busy && polls < 100 {
        s = link.status().map_err(|e| e.to_string())?;
        polls += 1;
    }
    if s.job_busy || s.counter(Counter::Busy) != 1 {
        return Err(format!("after the job: {s:?}"));
    }
    let out: Vec<i32> = link
        .read_words(usize::from(plan.desc.out_addr), 40)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|v| v as i32)
        .collect();
    let acc = hls_rust::tlmm::AccWidth::new(u32::from(info.acc_w)).map_err(|e| e.to_string())?;
    let want = hls_rust::tlmm::golden(&w, &x, acc)
        .map_err(|e| e.to_string())?
        .out;
    if out != want {
        return Err("results of the job differ from the reference".to_owned());
    }
    Ok(())
}
