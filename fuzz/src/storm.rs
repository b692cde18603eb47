//! The UART link under a storm: random corrupted, dropped, duplicated and
//! inserted bytes in both directions (and broken stop bits towards the
//! device) on the digital twin, while the host driver runs TLMM jobs.
//!
//! [`Wire`] wraps [`Twin`] as a [`Transport`] and corrupts each byte with
//! probability `rate_ppm / 1e6` from a seeded RNG (the twin's own
//! [`WireFault`] API places one fault per frame; a storm needs many).
//! [`run`] drives jobs through [`hlsk_host::Link`] and keeps, for every
//! memory word, the values the host may have left there (one after an
//! acknowledged WRITE; old and new after a WRITE of unknown fate), so that
//! at the end a clean read of the whole memory shows any word a corrupted
//! frame wrote. It counts:
//!
//! - words of device memory no command of the host explains (a WRITE or a
//!   job executed from a corrupted frame);
//! - jobs the device ran beyond those the host started (its job counter);
//! - result words read back (under the storm) that differ from
//!   `hls_rust::tlmm::golden`: corruption that got past the checks.

use hls_rust::rng::Rng;
use hls_rust::tlmm::{AccWidth, TernaryMatrix, golden};
use hlsk_host::job::JobPlan;
use hlsk_host::proto::{Counter, Decoder, DeviceStatus, Frame, Framing};
use hlsk_host::{Link, LinkConfig, LinkError, LinkStats, Transport, TransportError};
use hlsk_sim::twin::{Twin, WireFault};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Fault kinds, in [`FaultCounts`] order.
pub const KINDS: [&str; 5] = [
    "flipped",
    "dropped",
    "duplicated",
    "inserted",
    "bad stop bit",
];

/// Faults injected so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Host to device, per kind of [`KINDS`].
    pub to_device: [u64; 5],
    /// Device to host (no bad stop bits: the host sees bytes).
    pub from_device: [u64; 5],
    /// Bytes the host sent (before the faults).
    pub bytes_to_device: u64,
    /// Bytes the device sent (before the faults).
    pub bytes_from_device: u64,
    /// Host frames that reached the line corrupted.
    pub frames_hit_to_device: u64,
    /// Of those, frames a receiver takes as valid (header and CRC pass)
    /// that are not the frame sent: the CRC's misses, device side.
    pub forged_to_device: u64,
    /// Frames a receiver takes from the corrupted device-to-host stream
    /// that the device did not send: the CRC's misses, host side.
    pub forged_from_device: u64,
}

impl FaultCounts {
    /// All faults, both directions.
    pub fn total(&self) -> u64 {
        self.to_device.iter().chain(&self.from_device).sum()
    }
}

/// Clean frames a frame decoded only from the corrupted device stream may
/// wait for its twin in the clean stream before it counts as a CRC miss.
pub const SUSPECT_FRAMES: usize = 8;

/// The twin behind a wire that corrupts bytes at random.
pub struct Wire {
    twin: Twin,
    storm: Corrupter,
    /// Faults on (off for the clean checks).
    pub enabled: bool,
    pending: VecDeque<u8>,
    /// The host-side CRC-miss check on the device's stream.
    shadow: ReplyShadow,
    /// What was injected.
    pub counts: FaultCounts,
}

/// A frame decoded from the corrupted device stream that is none of the
/// device's last frames.
#[derive(Debug, Clone)]
pub struct ForgedReply {
    /// The frame the host-side decoder produced.
    pub frame: Frame,
    /// The device's last frames decoded from its clean stream, oldest first.
    pub recent: Vec<Frame>,
    /// The read's bytes as the device sent them and as they arrived.
    pub sent: Vec<u8>,
    /// See `sent`.
    pub received: Vec<u8>,
}

impl Wire {
    /// `twin` behind a wire with `rate_ppm` faults per million bytes.
    pub fn new(twin: Twin, rate_ppm: u32, seed: u64) -> Wire {
        Wire {
            twin,
            storm: Corrupter::new(rate_ppm, seed),
            enabled: true,
            pending: VecDeque::new(),
            shadow: ReplyShadow::default(),
            counts: FaultCounts::default(),
        }
    }

    /// The twin.
    pub fn twin(&self) -> &Twin {
        &self.twin
    }

    /// Counts every frame the host-side check still holds unexplained (at
    /// the end of a storm) and returns the first ones counted.
    pub fn settle(&mut self) -> Vec<ForgedReply> {
        self.shadow.settle();
        self.counts.forged_from_device = self.shadow.forged;
        self.shadow.examples.clone()
    }

    fn corrupt(&mut self, bytes: &[u8], to_device: bool) -> (Vec<u8>, Option<usize>) {
        if !self.enabled {
            return (bytes.to_vec(), None);
        }
        let counts = if to_device {
            &mut self.counts.to_device
        } else {
            &mut self.counts.from_device
        };
        self.storm.corrupt(bytes, to_device, counts)
    }
}

/// The host-side CRC-miss check: the device's stream decoded as sent and
/// as corrupted, read by read; a frame decoded from the corrupted stream
/// that is none of the clean stream's is a frame the receiver's checks let
/// through though corrupted.
///
/// A fault can also complete a genuine frame early: an inserted random
/// byte equal to the frame's last byte, which the device has not sent by
/// the end of the read. So a frame not among the clean stream's last
/// frames is held as a suspect; it is explained when the clean stream
/// gives it, and counted once [`SUSPECT_FRAMES`] clean frames have passed
/// without it (or at [`ReplyShadow::settle`]).
#[derive(Debug, Default)]
pub struct ReplyShadow {
    sent: Decoder,
    seen: Decoder,
    recent: VecDeque<Frame>,
    suspects: VecDeque<(ForgedReply, usize)>,
    /// Frames counted as passing the checks though corrupted.
    pub forged: u64,
    /// The first 8 of them.
    pub examples: Vec<ForgedReply>,
}

impl ReplyShadow {
    /// One read of the device's stream: its bytes as sent and as received.
    pub fn read(&mut self, sent: &[u8], received: &[u8]) {
        for &b in sent {
            if let Some(Ok(f)) = self.sent.push(b) {
                self.clean_frame(f);
            }
        }
        for &b in received {
            if let Some(Ok(f)) = self.seen.push(b)
                && !self.recent.contains(&f)
            {
                let suspect = ForgedReply {
                    frame: f,
                    recent: self.recent.iter().cloned().collect(),
                    sent: sent.to_vec(),
                    received: received.to_vec(),
                };
                self.suspects.push_back((suspect, 0));
            }
        }
    }

    /// Counts every suspect still unexplained.
    pub fn settle(&mut self) {
        while let Some((s, _)) = self.suspects.pop_front() {
            self.count(s);
        }
    }

    fn clean_frame(&mut self, f: Frame) {
        if let Some(i) = self.suspects.iter().position(|(s, _)| s.frame == f) {
            self.suspects.remove(i);
        }
        for (_, age) in self.suspects.iter_mut() {
            *age += 1;
        }
        while self
            .suspects
            .front()
            .is_some_and(|(_, age)| *age >= SUSPECT_FRAMES)
        {
            let (s, _) = self.suspects.pop_front().expect("front checked");
            self.count(s);
        }
        if self.recent.len() == 8 {
            self.recent.pop_front();
        }
        self.recent.push_back(f);
    }

    fn count(&mut self, s: ForgedReply) {
        self.forged += 1;
        if self.examples.len() < 8 {
            self.examples.push(s);
        }
    }
}

/// The fault model: each byte, with probability `rate_ppm / 1e6`, is
/// flipped (xor with a random non-zero mask), dropped, duplicated,
/// followed by a random byte, or (towards the device) sent with a low
/// stop bit; the kinds are equally likely.
#[derive(Debug, Clone)]
pub struct Corrupter {
    rng: Rng,
    /// Probability of a fault per byte, parts per million.
    pub rate_ppm: u32,
}

impl Corrupter {
    /// A fault source with `rate_ppm` faults per million bytes.
    pub fn new(rate_ppm: u32, seed: u64) -> Corrupter {
        Corrupter {
            rng: Rng::new(seed),
            rate_ppm,
        }
    }

    /// `bytes` after the faults, counted per kind of [`KINDS`] into
    /// `counts`, and the index of a byte to send with a low stop bit
    /// (at most one; only with `stop_bits`).
    pub fn corrupt(
        &mut self,
        bytes: &[u8],
        stop_bits: bool,
        counts: &mut [u64; 5],
    ) -> (Vec<u8>, Option<usize>) {
        let mut out = Vec::with_capacity(bytes.len() + 4);
        let mut bad_stop = None;
        let kinds = if stop_bits { 5 } else { 4 };
        for &b in bytes {
            if self.rng.below(1_000_000) >= u64::from(self.rate_ppm) {
                out.push(b);
                continue;
            }
            let mut kind = self.rng.below(kinds) as usize;
            if kind == 4 && bad_stop.is_some() {
                kind = 0;
            }
            match kind {
                0 => out.push(b ^ (1 + self.rng.below(255) as u8)),
                1 => {}
                2 => out.extend([b, b]),
                3 => out.extend([b, self.rng.next_u64() as u8]),
                _ => {
                    bad_stop = Some(out.len());
                    out.push(b);
                }
            }
            counts[kind] += 1;
        }
        (out, bad_stop)
    }
}

/// A borrowed [`Wire`] as the link's transport (so that the wire outlives
/// a link that failed to connect).
pub struct WireRef<'a>(pub &'a mut Wire);

impl Transport for WireRef<'_> {
    fn send(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        let w = &mut *self.0;
        w.counts.bytes_to_device += bytes.len() as u64;
        let (out, bad_stop) = w.corrupt(bytes, true);
        if out != bytes || bad_stop.is_some() {
            // What a receiver in its idle state makes of the corrupted frame.
            w.counts.frames_hit_to_device += 1;
            let mut d = Decoder::default();
            w.counts.forged_to_device += out
                .iter()
                .filter_map(|&b| d.push(b))
                .filter(|r| matches!(r, Ok(f) if f.encode() != bytes))
                .count() as u64;
        }
        if let Some(byte) = bad_stop {
            w.twin.fault_to_device(0, WireFault::BadStopBit { byte });
        }
        w.twin.send(&out)
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, TransportError> {
        let w = &mut *self.0;
        while w.pending.is_empty() {
            let mut tmp = [0u8; 256];
            let n = w.twin.recv(&mut tmp, timeout)?;
            if n == 0 {
                return Ok(0);
            }
            w.counts.bytes_from_device += n as u64;
            let (out, _) = w.corrupt(&tmp[..n], false);
            w.shadow.read(&tmp[..n], &out);
            w.counts.forged_from_device = w.shadow.forged;
            w.pending.extend(out);
        }
        let n = buf.len().min(w.pending.len());
        for (slot, b) in buf.iter_mut().zip(w.pending.drain(..n)) {
            *slot = b;
        }
        Ok(n)
    }

    fn name(&self) -> String {
        format!("{} under a storm", self.0.twin.name())
    }
}

/// How a storm runs.
#[derive(Debug, Clone)]
pub struct StormConfig {
    /// Index into `hlsk_cosim::configs::SOC_CONFIGS`.
    pub soc: usize,
    /// Stop after this many injected faults.
    pub faults: u64,
    /// Or after this much wall time.
    pub max_wall: Duration,
    /// Faults per million bytes, each direction.
    pub rate_ppm: u32,
    /// Seed of the storm, the jobs and the twin's power-up state.
    pub seed: u64,
    /// Words per WRITE frame (at most the device's MaxWords).
    pub chunk_words: usize,
    /// Largest K of a job.
    pub max_k: usize,
    /// Sends of one command before the driver gives up.
    pub attempts: u32,
}

impl Default for StormConfig {
    fn default() -> Self {
        StormConfig {
            soc: 4, // the iCEBreaker engine at 115,200 baud (see the CLI's --soc)
            faults: 1_000_000,
            max_wall: Duration::from_secs(900),
            rate_ppm: 10_000,
            seed: 1,
            chunk_words: 8,
            max_k: 64,
            attempts: 8,
        }
    }
}

/// What a storm did.
#[derive(Debug, Clone, Default)]
pub struct StormReport {
    /// Faults injected.
    pub faults: FaultCounts,
    /// The first frames counted as passing the host-side checks though
    /// corrupted (`faults.forged_from_device`), for a reader to examine.
    pub forged_replies: Vec<ForgedReply>,
    /// Jobs completed and checked.
    pub jobs_checked: u64,
    /// Jobs abandoned after a command failed (the next job starts over).
    pub jobs_abandoned: u64,
    /// TLMM_STARTs acknowledged.
    pub starts_acked: u64,
    /// TLMM_STARTs of unknown fate (no acknowledgement after every attempt).
    pub starts_unsure: u64,
    /// Jobs the device counted over the storm.
    pub device_jobs: u64,
    /// Jobs beyond the acknowledged and unsure starts: executed from a
    /// corrupted frame.
    pub extra_jobs: u64,
    /// Acknowledged starts the device did not run.
    pub missing_jobs: u64,
    /// Memory words no command of the host explains.
    pub stray_words: u64,
    /// Result words read back and compared with the reference.
    pub result_words: u64,
    /// Of those, wrong: corruption that passed every check.
    pub results_corrupted: u64,
    /// The driver's counters.
    pub link: LinkStats,
    /// Device STATUS at the end.
    pub status: Option<DeviceStatus>,
    /// Simulated clock cycles.
    pub cycles: u64,
    /// Simulated seconds.
    pub sim_seconds: f64,
    /// Wall time.
    pub wall: Duration,
}

impl StormReport {
    /// True when no corruption had an effect: no job or memory word the
    /// host did not ask for, no wrong result. (Frames that pass the CRC
    /// though corrupted are counted in [`FaultCounts`]; at about 5 per
    /// million faults they are the protocol's residual, docs/fuzzing.md.)
    pub fn clean(&self) -> bool {
        self.extra_jobs == 0
            && self.missing_jobs == 0
            && self.stray_words == 0
            && self.results_corrupted == 0
    }

    /// A multi-line summary.
    pub fn summary(&self) -> String {
        let f = &self.faults;
        let per = |c: &[u64; 5]| {
            KINDS
                .iter()
                .zip(c)
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut s = format!(
            "faults injected: {} ({} host->device bytes: {}; {} device->host bytes: {})\n",
            f.total(),
            f.bytes_to_device,
            per(&f.to_device),
            f.bytes_from_device,
            per(&f.from_device)
        );
        s += &format!(
            "frames hit: {} host frames corrupted on the line; frames passing header and CRC though corrupted: {} to the device, {} to the host\n",
            f.frames_hit_to_device, f.forged_to_device, f.forged_from_device
        );
        s += &format!(
            "jobs: {} checked, {} abandoned after a link error; starts {} acknowledged, {} unsure; device ran {}\n",
            self.jobs_checked,
            self.jobs_abandoned,
            self.starts_acked,
            self.starts_unsure,
            self.device_jobs
        );
        s += &format!(
            "executed from corrupted frames: {} extra jobs, {} stray memory words; acknowledged jobs not run: {}\n",
            self.extra_jobs, self.stray_words, self.missing_jobs
        );
        s += &format!(
            "results: {} words checked against the reference, {} corrupted undetected\n",
            self.result_words, self.results_corrupted
        );
        for e in &self.forged_replies {
            s += &format!(
                "  reply decoded though not sent: {:02x?}\n    device's last frames: {:02x?}\n    read as sent     {:02x?}\n    read as received {:02x?}\n",
                e.frame, e.recent, e.sent, e.received
            );
        }
        let l = &self.link;
        s += &format!(
            "link: {} commands, {} retries, {} timeouts, {} garbled replies, {} NAKs, {} DUPs\n",
            l.commands, l.retries, l.timeouts, l.bad_replies, l.naks, l.dups
        );
        if let Some(st) = &self.status {
            s += &format!(
                "device: {} executed, {} CRC/header, {} truncated, {} oversize, {} unknown, {} bad arg, {} busy, {} dup, {} bytes dropped (16-bit counters)\n",
                st.counter(Counter::Ok),
                st.counter(Counter::Crc),
                st.counter(Counter::Trunc),
                st.counter(Counter::Oversize),
                st.counter(Counter::Unknown),
                st.counter(Counter::BadArg),
                st.counter(Counter::Busy),
                st.counter(Counter::Dup),
                st.counter(Counter::Dropped)
            );
        }
        s += &format!(
            "time: {:.1} s simulated ({} cycles), {:.1} s wall; {:.0} faults/s, {:.2} jobs/s wall",
            self.sim_seconds,
            self.cycles,
            self.wall.as_secs_f64(),
            f.total() as f64 / self.wall.as_secs_f64().max(1e-9),
            self.jobs_checked as f64 / self.wall.as_secs_f64().max(1e-9)
        );
        s
    }
}

/// The values each memory word may hold, from the host's point of view.
struct Shadow(Vec<Vec<u32>>);

impl Shadow {
    /// An acknowledged store: the word holds `v`.
    fn set(&mut self, addr: usize, vals: &[u32]) {
        for (slot, &v) in self.0[addr..].iter_mut().zip(vals) {
            *slot = vec![v];
        }
    }

    /// A store of unknown fate: old value or `v`.
    fn maybe(&mut self, addr: usize, vals: &[u32]) {
        for (slot, &v) in self.0[addr..].iter_mut().zip(vals) {
            if !slot.contains(&v) {
                slot.push(v);
            }
        }
    }
}

/// Whether a failed command leaves its effect unknown (no definite
/// answer) rather than known not to have happened (refused).
fn unsure(e: &LinkError) -> bool {
    matches!(e, LinkError::NoReply { .. })
}

/// Runs a storm on a fresh twin of `cfg.soc`, printing progress through
/// `progress` every few seconds. Errors are failures of the twin or of the
/// clean checks, not findings.
pub fn run(
    cfg: &StormConfig,
    progress: &mut dyn FnMut(&StormReport),
) -> anyhow::Result<StormReport> {
    let t0 = Instant::now();
    let twin = Twin::new(cfg.soc, cfg.seed as u32, None)?;
    let baud = hlsk_cosim::configs::SOC_CONFIGS[cfg.soc].baud;
    let clk_hz = twin.config().clk_hz() as f64;
    let mut wire = Wire::new(twin, cfg.rate_ppm, cfg.seed);
    let link_cfg = LinkConfig {
        baud,
        attempts: cfg.attempts,
        ..LinkConfig::default()
    };
    // Connect and take the memory's power-up contents, cleanly.
    wire.enabled = false;
    let mut link = Link::connect(WireRef(&mut wire), link_cfg)?;
    let info = link.info();
    let mem = usize::from(info.mem_words);
    let acc = AccWidth::new(u32::from(info.acc_w))?;
    let start_status = link.status()?;
    let mut shadow = Shadow(
        link.read_words(0, mem)?
            .into_iter()
            .map(|v| vec![v])
            .collect(),
    );
    let chunk = cfg.chunk_words.clamp(1, usize::from(info.max_words));
    let mut r = StormReport::default();
    let mut rng = Rng::new(cfg.seed ^ 0x5707_3000);
    let mut last_progress = Instant::now();
    link.transport_mut().0.enabled = true;

    while link.transport().0.counts.total() < cfg.faults && t0.elapsed() < cfg.max_wall {
        if last_progress.elapsed() > Duration::from_secs(10) {
            r.faults = link.transport().0.counts;
            r.wall = t0.elapsed();
            progress(&r);
            last_progress = Instant::now();
        }
        // A random job that fits the memory.
        let k = 1 + rng.below(cfg.max_k.min(usize::from(info.k_max)) as u64) as usize;
        let mut m = 1 + rng.below(3 * u64::from(info.p)) as usize;
        let zeros = rng.next_f64() * 0.8;
        let (w, x, plan) = loop {
            let w = TernaryMatrix::random(m, k, zeros, &mut rng);
            let x: Vec<i8> = (0..k).map(|_| rng.below(256) as u8 as i8).collect();
            match JobPlan::new(&info, &w, &x) {
                Ok(p) => break (w, x, p),
                Err(_) if m > 1 => m -= 1,
                Err(e) => anyhow::bail!("no job fits the device: {e}"),
            }
        };
        let expected: Vec<u32> = golden(&w, &x, acc)?.out.iter().map(|&v| v as u32).collect();
        let d = plan.desc;
        let upload = plan.upload();
        let mut failed = false;
        for (i, c) in upload.chunks(chunk).enumerate() {
            let addr = usize::from(d.a_addr) + i * chunk;
            match link.write_words(addr, c) {
                Ok(()) => shadow.set(addr, c),
                Err(e) => {
                    if unsure(&e) {
                        shadow.maybe(addr, c);
                    }
                    if let LinkError::Transport(e) = e {
                        return Err(e.into());
                    }
                    failed = true;
                    break;
                }
            }
        }
        if failed {
            r.jobs_abandoned += 1;
            continue;
        }
        let out = usize::from(d.out_addr);
        let jobs_before = match link.status() {
            Ok(s) => s.counter(Counter::Jobs),
            Err(LinkError::Transport(e)) => return Err(e.into()),
            Err(_) => {
                r.jobs_abandoned += 1;
                continue;
            }
        };
        match link.start_tlmm(&d) {
            Ok(()) => {
                r.starts_acked += 1;
                shadow.set(out, &expected);
            }
            Err(e) => {
                if unsure(&e) {
                    r.starts_unsure += 1;
                    shadow.maybe(out, &expected);
                }
                if let LinkError::Transport(e) = e {
                    return Err(e.into());
                }
                r.jobs_abandoned += 1;
                continue;
            }
        }
        let mut done = false;
        for _ in 0..200 {
            match link.status() {
                Ok(s) if !s.job_busy && s.job_done && s.counter(Counter::Jobs) != jobs_before => {
                    done = true;
                    break;
                }
                Ok(_) => {}
                Err(LinkError::Transport(e)) => return Err(e.into()),
                Err(_) => break,
            }
        }
        if !done {
            r.jobs_abandoned += 1;
            continue;
        }
        match link.read_words(out, d.m.into()) {
            Ok(got) => {
                r.jobs_checked += 1;
                r.result_words += got.len() as u64;
                r.results_corrupted +=
                    got.iter().zip(&expected).filter(|(a, b)| a != b).count() as u64;
            }
            Err(LinkError::Transport(e)) => return Err(e.into()),
            Err(_) => r.jobs_abandoned += 1,
        }
    }

    // The clean checks: wait for a job of unknown fate, then the job
    // counter and every memory word.
    link.transport_mut().0.enabled = false;
    let mut end = link.status()?;
    for _ in 0..1000 {
        if !end.job_busy {
            break;
        }
        end = link.status()?;
    }
    r.device_jobs = u64::from(
        end.counter(Counter::Jobs)
            .wrapping_sub(start_status.counter(Counter::Jobs)),
    );
    r.extra_jobs = r
        .device_jobs
        .saturating_sub(r.starts_acked + r.starts_unsure);
    r.missing_jobs = r.starts_acked.saturating_sub(r.device_jobs);
    let image = link.read_words(0, mem)?;
    r.stray_words = image
        .iter()
        .zip(&shadow.0)
        .filter(|(v, allowed)| !allowed.contains(v))
        .count() as u64;
    r.link = link.stats();
    r.status = Some(end);
    r.forged_replies = link.transport_mut().0.settle();
    r.faults = link.transport().0.counts;
    r.cycles = link.transport().0.twin().cycles();
    r.sim_seconds = r.cycles as f64 / clk_hz;
    r.wall = t0.elapsed();
    Ok(r)
}

/// What [`decoder_storm`] found.
#[derive(Debug, Clone, Default)]
pub struct DecoderStormReport {
    /// Faults injected.
    pub faults: u64,
    /// Frames sent.
    pub frames: u64,
    /// Frames with at least one fault.
    pub frames_hit: u64,
    /// Frames the decoder handed out though corrupted (CRC misses).
    pub forged: u64,
    /// Of those, frames followed at once by more bytes of the same
    /// transmission (what a receiver that wants a quiet line after the
    /// CRC would reject).
    pub forged_with_trailing: u64,
    /// The first few forged frames: bytes sent, bytes received.
    pub examples: Vec<(Vec<u8>, Vec<u8>)>,
    /// Wall time.
    pub wall: Duration,
}

/// The storm's fault model on the frame decoder alone, without the twin:
/// random frames of the link's sizes (commands and replies, 0 to 130
/// payload bytes), each corrupted as [`Corrupter`] does and decoded by a
/// fresh [`Decoder`] of `framing` (the link's protocol version 3, CRC-32C,
/// or version 2's CRC-16 for comparison), until `faults` faults. Counts
/// corrupted frames the decoder accepts: the rate at which the CRC lets
/// corruption through, measurable here at millions of faults in seconds.
pub fn decoder_storm(
    faults: u64,
    rate_ppm: u32,
    seed: u64,
    framing: Framing,
) -> DecoderStormReport {
    let t0 = Instant::now();
    let mut storm = Corrupter::new(rate_ppm, seed);
    let mut rng = Rng::new(seed ^ 0xdec0de);
    let mut counts = [0u64; 5];
    let mut r = DecoderStormReport::default();
    while counts.iter().sum::<u64>() < faults {
        let len = match rng.below(4) {
            0 => 0,
            1 => 3,
            2 => DeviceStatus::LEN,
            _ => 2 + 4 * (1 + rng.below(32) as usize),
        };
        let frame = Frame {
            seq: rng.next_u64() as u8,
            code: rng.next_u64() as u8,
            payload: (0..len).map(|_| rng.next_u64() as u8).collect(),
        }
        .encode_as(framing);
        r.frames += 1;
        let before: u64 = counts.iter().sum();
        let (out, _) = storm.corrupt(&frame, false, &mut counts);
        if counts.iter().sum::<u64>() == before {
            continue;
        }
        r.frames_hit += 1;
        let mut d = Decoder::new(framing);
        let forged_at = out
            .iter()
            .position(|&b| matches!(d.push(b), Some(Ok(f)) if f.encode_as(framing) != frame));
        if let Some(at) = forged_at {
            r.forged += 1;
            r.forged_with_trailing += u64::from(at + 1 < out.len());
            if r.examples.len() < 5 {
                r.examples.push((frame, out));
            }
        }
    }
    r.faults = counts.iter().sum();
    r.wall = t0.elapsed();
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(seq: u8) -> Vec<u8> {
        Frame {
            seq,
            code: 0,
            payload: Vec::new(),
        }
        .encode()
    }

    /// The storm's case (seed 7): a read ends one byte before the end of a
    /// genuine frame, and an inserted random byte after the read's last
    /// byte equals the byte still to come. The received stream completes
    /// the frame a read before the clean one: not a CRC miss.
    #[test]
    fn a_genuine_frame_completed_early_by_an_inserted_byte_is_not_counted() {
        let (a, b) = (ack(0x19), ack(0x1a));
        let mut first: Vec<u8> = a.iter().chain(&b[..b.len() - 1]).copied().collect();
        let mut shadow = ReplyShadow::default();
        let sent = first.clone();
        first.push(b[b.len() - 1]);
        shadow.read(&sent, &first);
        shadow.read(&b[b.len() - 1..], &b[b.len() - 1..]);
        shadow.read(&ack(0x1b), &ack(0x1b));
        shadow.settle();
        assert_eq!(shadow.forged, 0, "{:?}", shadow.examples);
    }

    /// A frame in the received stream that the device never sends is
    /// counted, whether more frames follow or the storm ends.
    #[test]
    fn a_frame_the_device_never_sent_is_counted() {
        let mut shadow = ReplyShadow::default();
        let forged: Vec<u8> = ack(1).into_iter().chain(ack(0x77)).collect();
        shadow.read(&ack(1), &forged);
        for seq in 2..2 + SUSPECT_FRAMES as u8 {
            shadow.read(&ack(seq), &ack(seq));
        }
        assert_eq!(shadow.forged, 1);
        assert_eq!(shadow.examples[0].frame.seq, 0x77);
        shadow.read(&ack(0x30), &[ack(0x30), ack(0x78)].concat());
        assert_eq!(shadow.forged, 1, "counted before its wait is over");
        shadow.settle();
        assert_eq!(shadow.forged, 2);
    }
}
