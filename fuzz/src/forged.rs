//! The shifted-frame forgery of `docs/fuzzing.md` (Findings), replayed
//! against protocol version 3.
//!
//! Under protocol version 2 (CRC-16) a WRITE with one byte inserted in its
//! payload passed LEN/~LEN and the CRC about once in 65,536 tries: LEN is
//! intact, the payload is shifted by a byte, and the two bytes taken as the
//! CRC are the frame's own, matching by chance. [`forged_write`] finds such
//! a forgery for a version-2 WRITE, then sends the twin (a version-3
//! device) both the forged version-2 bytes and the version-3 frame of the
//! same WRITE with the same byte inserted, and checks that neither
//! executes. It also tries every single-byte insertion (every place, all
//! 256 values) into the version-3 frame against the host's decoder.

use hls_rust::rng::Rng;
use hlsk_host::proto::{Command, Decoder, Frame, Framing, Status};
use hlsk_host::{Link, LinkConfig, Transport};
use hlsk_sim::twin::Twin;
use std::time::Duration;

/// Word address of the forged WRITE.
pub const ADDR: u16 = 100;
/// Words of the forged WRITE.
pub const WORDS: usize = 8;

/// What [`forged_write`] found.
#[derive(Debug, Clone)]
pub struct ForgedWrite {
    /// The WRITE as meant.
    pub frame: Frame,
    /// Wire index at which one byte was inserted, and the byte.
    pub insert: (usize, u8),
    /// The version-2 frame with the byte inserted (its last byte dropped:
    /// it never counts), which a version-2 receiver accepts.
    pub v2_forged: Vec<u8>,
    /// The version-3 frame with the same byte inserted.
    pub v3_shifted: Vec<u8>,
    /// Single-byte insertions tried on the version-3 frame, and how many
    /// of them a version-3 decoder accepted with wrong content.
    pub v3_tried: usize,
    /// See [`v3_tried`](Self::v3_tried).
    pub v3_accepted: usize,
    /// The twin's replies to the two sends (status bytes, in order).
    pub replies: Vec<Status>,
    /// The memory words at [`ADDR`] afterwards (zeros before).
    pub memory: Vec<u32>,
}

impl ForgedWrite {
    /// True when nothing forged got through: the twin's memory is still
    /// zero, no reply acknowledged a forged frame, and no insertion passed
    /// the version-3 decoder.
    pub fn refused(&self) -> bool {
        self.memory.iter().all(|&w| w == 0)
            && self.replies.iter().all(|s| !s.is_ack())
            && self.v3_accepted == 0
    }
}

/// `wire` with `x` inserted before index `at`, cut to its own length (the
/// receiver stops after LEN payload bytes and the CRC).
fn insert(wire: &[u8], at: usize, x: u8) -> Vec<u8> {
    let mut v = wire[..at].to_vec();
    v.push(x);
    v.extend_from_slice(&wire[at..wire.len() - 1]);
    v
}

/// The last frame `bytes` decode to in `framing`, if they end in one.
fn decodes_to(bytes: &[u8], framing: Framing) -> Option<Frame> {
    let mut d = Decoder::new(framing);
    bytes.iter().map(|&b| d.push(b)).last()??.ok()
}

/// Finds a version-2 forgery (random WRITEs of [`WORDS`] words to
/// [`ADDR`], SEQ 200, from `seed`), replays it and its version-3
/// counterpart on the iCEBreaker twin, and tries every single-byte
/// insertion into the version-3 frame.
pub fn forged_write(seed: u64) -> anyhow::Result<ForgedWrite> {
    let mut rng = Rng::new(seed);
    let (frame, at, x) = 'search: loop {
        let mut payload = ADDR.to_le_bytes().to_vec();
        for _ in 0..WORDS {
            payload.extend((rng.next_u64() as u32).to_le_bytes());
        }
        let frame = Frame {
            seq: 200,
            code: Command::Write as u8,
            payload,
        };
        let wire = frame.encode_as(Framing::V2);
        for at in 5..wire.len() - 2 {
            for x in 0..=255u8 {
                if decodes_to(&insert(&wire, at, x), Framing::V2).is_some_and(|f| f != frame) {
                    break 'search (frame, at, x);
                }
            }
        }
    };
    let v2_forged = insert(&frame.encode_as(Framing::V2), at, x);
    let wire = frame.encode();
    let v3_shifted = insert(&wire, at, x);
    let mut v3_tried = 0;
    let mut v3_accepted = 0;
    for at in 5..wire.len() {
        for x in 0..=255u8 {
            v3_tried += 1;
            if decodes_to(&insert(&wire, at, x), Framing::V3).is_some_and(|f| f != frame) {
                v3_accepted += 1;
            }
        }
    }

    let twin = Twin::new(0, 1, None)?;
    let mut link = Link::connect(twin, LinkConfig::default())?;
    link.write_words(usize::from(ADDR), &[0; WORDS + 2])?;
    let mut replies = Vec::new();
    for bytes in [&v2_forged, &v3_shifted] {
        link.transport_mut().send_raw(bytes);
        // The device answers once its line timeout (20 ms) ends a frame
        // that stops short, or at once.
        let mut buf = [0u8; 64];
        let mut d = Decoder::default();
        for _ in 0..4 {
            let n = link
                .transport_mut()
                .recv(&mut buf, Duration::from_millis(100))?;
            replies.extend(
                buf[..n]
                    .iter()
                    .filter_map(|&b| d.push(b))
                    .filter_map(Result::ok)
                    .map(|f| Status::from_byte(f.code)),
            );
        }
    }
    let memory = link.read_words(usize::from(ADDR), WORDS + 2)?;
    Ok(ForgedWrite {
        frame,
        insert: (at, x),
        v2_forged,
        v3_shifted,
        v3_tried,
        v3_accepted,
        replies,
        memory,
    })
}
