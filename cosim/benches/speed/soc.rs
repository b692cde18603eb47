//! The SoC twin at its pins: the iCEBreaker SoC's rx line carries the host
//! frames of a real session (INFO, the WRITEs of a TLMM job's activations
//! and weights, then TLMM_START after TLMM_START with a STATUS poll every
//! fourth job), each frame followed by silence for its reply, as a
//! stop-and-wait host would leave it. Open loop: the line is generated in
//! advance; [`check_replies`] decodes the tx line afterwards and checks
//! that every command was answered OK and the jobs ran.

use super::common::{SEED, fail, mix};
use hls_rust::rng::Rng;
use hls_rust::tlmm::stream::{Arch, WeightLayout, pack_activations, pack_weights};
use hls_rust::tlmm::{CodeMatrix, Grouping, TernaryMatrix};
use hlsk_cosim::configs::SOC_CONFIGS;
use hlsk_cosim::{Soc, SocConfig};

/// The build measured: build 0, the iCEBreaker's (G3/T1/P4, KMax 256,
/// 1,024 memory words).
pub const BUILD: usize = 0;

/// Cycles the twin runs in one `Soc::run` call while the host waits for a
/// reply (`hlsk_sim::twin`: four byte times).
pub const CHUNK: usize = 40 * SocConfig::TWIN_CLKS_PER_BIT as usize;

/// Cycles after reset before the first byte (`hlsk_sim::twin::BOOT_CYCLES`:
/// the power-on counter and the self-test are done by then).
const BOOT_CYCLES: usize = 6000;

/// The job: M x K, activations at 0, weights after them, results after
/// those (784 of the 1,024 words).
const M: usize = 32;
const K: usize = 256;
/// Words per WRITE frame (the device's MaxWords).
const MAX_WORDS: usize = 32;

const SOF: u8 = 0xa5;
const INFO: u8 = 0x01;
const WRITE: u8 = 0x02;
const TLMM_START: u8 = 0x04;
const STATUS: u8 = 0x05;
/// Bytes of a reply frame around its payload.
const FRAME_OVERHEAD: usize = 9;
/// Payload bytes of the STATUS reply.
const STATUS_REPLY: usize = 52;
/// Payload bytes of the INFO reply.
const INFO_REPLY: usize = 20;

/// The build's parameters.
pub fn config() -> SocConfig {
    SOC_CONFIGS[BUILD]
}

/// CRC-32C (Castagnoli, reflected), as the link checks frames.
fn crc32c(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82f6_3b78
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// One host frame: `SOF LEN ~LEN SEQ CODE PAYLOAD CRC[4]`.
fn frame(seq: u8, code: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u8;
    let mut f = vec![SOF, len, !len, seq, code];
    f.extend_from_slice(payload);
    let crc = crc32c(&f[1..]);
    f.extend_from_slice(&crc.to_le_bytes());
    f
}

/// The rx line of a whole session, `cycles` levels long (the loop of jobs
/// is cut there).
pub fn stimulus(cycles: usize) -> Vec<u8> {
    let cfg = config();
    let cpb = SocConfig::TWIN_CLKS_PER_BIT as usize;
    let mut rng = Rng::new(0x50c);
    let w = TernaryMatrix::random(M, K, 0.3, &mut rng);
    let x: Vec<i8> = (0..K).map(|_| rng.below(256) as u8 as i8).collect();
    let layout = WeightLayout::new(cfg.p as usize, cfg.t as usize, Arch::OutputStationary)
        .unwrap_or_else(|e| fail(&format!("SoC layout: {e}")));
    let g = Grouping::new(cfg.g as usize).unwrap_or_else(|e| fail(&format!("grouping: {e}")));
    let acts = pack_activations(&x);
    let weights: Vec<u32> = pack_weights(&CodeMatrix::encode(&w, g), &layout)
        .iter()
        .flat_map(|b| b.words_u32())
        .collect();
    let (act_addr, w_addr) = (0usize, acts.len());
    let res_addr = w_addr + weights.len();
    if res_addr + M > cfg.mem_words as usize {
        fail("SoC bench: the job does not fit the memory");
    }

    let mut line: Vec<u8> = vec![1; BOOT_CYCLES];
    let mut seq = 0u8;
    // A frame, then the line idle for its reply (and two byte times more).
    let mut send = |line: &mut Vec<u8>, code: u8, payload: &[u8], reply: usize| {
        seq = seq.wrapping_add(1);
        for b in frame(seq, code, payload) {
            for bit in 0..10 {
                let level = match bit {
                    0 => 0,
                    9 => 1,
                    n => (b >> (n - 1)) & 1,
                };
                line.extend(std::iter::repeat_n(level, cpb));
            }
        }
        line.extend(std::iter::repeat_n(
            1,
            (FRAME_OVERHEAD + reply + 2) * 10 * cpb,
        ));
    };
    send(&mut line, INFO, &[], INFO_REPLY);
    for (base, words) in [(act_addr, &acts), (w_addr, &weights)] {
        for (n, chunk) in words.chunks(MAX_WORDS).enumerate() {
            let mut p = ((base + n * MAX_WORDS) as u16).to_le_bytes().to_vec();
            p.extend(chunk.iter().flat_map(|w| w.to_le_bytes()));
            send(&mut line, WRITE, &p, 0);
        }
    }
    let mut start = Vec::new();
    for v in [M, K, act_addr, w_addr, res_addr] {
        start.extend_from_slice(&(v as u16).to_le_bytes());
    }
    start.extend_from_slice(&[0, 0]);
    let mut n = 0;
    while line.len() < cycles {
        send(&mut line, TLMM_START, &start, 0);
        n += 1;
        if n % 4 == 0 {
            send(&mut line, STATUS, &[], STATUS_REPLY);
        }
    }
    line.truncate(cycles);
    line
}

/// The Rust driver: the twin's way, [`Soc::run`] on [`CHUNK`] cycles at a
/// time, the tx levels checksummed in Rust (`soc_bench` in
/// `shim/bench_impl.h` runs the whole line in one call). With `record`,
/// the tx line is kept there.
pub fn rust_run(rx: &[u8], mut record: Option<&mut Vec<u8>>) -> u64 {
    let mut soc = Soc::new(BUILD, SEED).unwrap_or_else(|e| fail(&format!("SoC build: {e}")));
    soc.reset();
    let mut tx = vec![1u8; CHUNK];
    let mut sum = 0u64;
    for part in rx.chunks(CHUNK) {
        let tx = &mut tx[..part.len()];
        soc.run(part, tx)
            .unwrap_or_else(|e| fail(&format!("SoC run: {e}")));
        for &l in tx.iter() {
            sum = mix(sum, u64::from(l));
        }
        if let Some(r) = record.as_deref_mut() {
            r.extend_from_slice(tx);
        }
    }
    if soc.rtl_error() {
        fail("SoC bench: an RTL assertion failed");
    }
    sum
}

/// The bytes on a UART line (8N1, `cpb` cycles per bit, sampled mid-bit).
fn decode_line(levels: &[u8], cpb: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < levels.len() {
        if levels[i] != 0 {
            i += 1;
            continue;
        }
        let bit = |n: usize| levels.get(i + n * cpb + cpb / 2).copied();
        let byte = (1..9).try_fold(0u8, |b, n| bit(n).map(|l| b | (l & 1) << (n - 1)));
        match byte {
            Some(b) => out.push(b),
            None => break,
        }
        i += 10 * cpb - cpb / 2;
    }
    out
}

/// Decodes the replies on `tx` and checks them: every frame intact and
/// answered OK. Returns a line for the reader: frames, TLMM_STARTs
/// executed, and the jobs-done counter of the last STATUS.
pub fn check_replies(tx: &[u8]) -> Result<String, String> {
    let bytes = decode_line(tx, SocConfig::TWIN_CLKS_PER_BIT as usize);
    let (mut i, mut frames, mut jobs_done) = (0, 0, None);
    while i < bytes.len() {
        if bytes[i] != SOF {
            return Err(format!(
                "tx byte {i} is {:#04x}, not a frame start",
                bytes[i]
            ));
        }
        let Some(&len) = bytes.get(i + 1) else { break };
        let end = i + FRAME_OVERHEAD + usize::from(len);
        if end > bytes.len() {
            break; // cut off by the end of the run
        }
        let f = &bytes[i..end];
        let crc = u32::from_le_bytes([
            f[end - i - 4],
            f[end - i - 3],
            f[end - i - 2],
            f[end - i - 1],
        ]);
        if crc != crc32c(&f[1..end - i - 4]) {
            return Err(format!("reply {frames}: bad CRC"));
        }
        if f[4] != 0 {
            return Err(format!(
                "reply {frames} (SEQ {}): status {:#04x}, not OK",
                f[3], f[4]
            ));
        }
        if usize::from(len) == STATUS_REPLY {
            // Ten u16 counters after the two flag bytes; jobs done is the last.
            jobs_done = Some(u16::from_le_bytes([f[5 + 20], f[5 + 21]]));
        }
        frames += 1;
        i = end;
    }
    Ok(format!(
        "{frames} replies, all OK; jobs done at the last STATUS: {}",
        jobs_done.map_or("none".to_owned(), |n| n.to_string())
    ))
}
