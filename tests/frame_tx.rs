//! Property of the host link's frame encoder (`hlsk_frame_tx`) against the
//! host's frame format (`hlsk_host::proto::Frame::encode_as`).
//!
//! [`frame_tx_sends_encoded_frames_on`]: random headers (LEN, SEQ, STATUS)
//! and payloads, offered with random gaps on the header and payload
//! streams, come out on the byte stream, under random ready back-pressure,
//! as exactly the concatenation of the encoded frames: nothing between
//! frames, no byte twice, none skipped; the status `RxV2Info` gives a
//! protocol-version-2 frame (status OK, CRC-16). After the last frame the
//! encoder goes idle and offers no byte.

use crate::prop::check;
use hls_rust::rng::Rng;
use hlsk_cosim::{FrameTx, FrameTxIn};
use hlsk_host::proto::{Frame, Framing};
use proptest::prelude::*;

/// The header status that asks for a version-2 frame (`hlsk_link_pkg`).
pub const RX_V2_INFO: u8 = 0x7F;

/// A run of frames with its pacing.
#[derive(Debug, Clone)]
pub struct FrameTxCase {
    /// Seed of the X-randomised power-up state.
    pub seed: u32,
    /// Frames: SEQ, header status (`RX_V2_INFO`: version 2), payload.
    pub frames: Vec<(u8, u8, Vec<u8>)>,
    /// Percent chance per cycle of the header valid, the payload valid and
    /// the byte stream's ready.
    pub pct: (u8, u8, u8),
    /// Seed of the per-cycle rolls.
    pub rolls: u64,
}

fn frame_tx_case() -> impl Strategy<Value = FrameTxCase> {
    let pct = || prop::sample::select(vec![100u8, 80, 50, 10]);
    let payload = prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..8),
        1 => prop::collection::vec(any::<u8>(), 0..=255),
    ];
    let status = prop_oneof![4 => any::<u8>(), 1 => Just(RX_V2_INFO)];
    let frame = (any::<u8>(), status, payload);
    (
        any::<u32>(),
        prop::collection::vec(frame, 1..5),
        (pct(), pct(), pct()),
        any::<u64>(),
    )
        .prop_map(|(seed, frames, pct, rolls)| FrameTxCase {
            seed,
            frames,
            pct,
            rolls,
        })
}

/// The bytes frame `(seq, status, payload)` must go out as.
fn expected(seq: u8, status: u8, payload: &[u8]) -> Vec<u8> {
    let (code, framing) = if status == RX_V2_INFO {
        (0x00, Framing::V2)
    } else {
        (status, Framing::V3)
    };
    Frame {
        seq,
        code,
        payload: payload.to_vec(),
    }
    .encode_as(framing)
}

/// Property: see the module documentation. `config` indexes
/// `FRAME_TX_CONFIGS` (there is one build).
pub fn frame_tx_sends_encoded_frames_on(config: usize, cases: u32) -> Result<(), String> {
    check(
        "frame_tx_sends_encoded_frames",
        cases,
        frame_tx_case(),
        |case, waves| {
            let mut dut =
                FrameTx::with_trace(config, case.seed, waves).map_err(|e| e.to_string())?;
            dut.reset();
            let want: Vec<u8> = case
                .frames
                .iter()
                .flat_map(|(seq, status, pl)| expected(*seq, *status, pl))
                .collect();
            let mut rng = Rng::new(case.rolls);
            let mut roll = |pct: u8| rng.below(100) < u64::from(pct);
            let (mut hdr, mut pl_frame, mut pl_at) = (0, 0, 0);
            let mut got = Vec::new();
            let limit = 200 + 120 * want.len() as u64;
            for cycle in 0..limit {
                // The header of frame `hdr`; the payload of frame `pl_frame`
                // once its header is in (the producer holds valid and data).
                let pl_left = pl_frame < hdr && pl_at < case.frames[pl_frame].2.len();
                let i = FrameTxIn {
                    hdr_valid: hdr < case.frames.len() && roll(case.pct.0),
                    hdr_len: case.frames.get(hdr).map_or(0, |f| f.2.len() as u8),
                    hdr_seq: case.frames.get(hdr).map_or(0, |f| f.0),
                    hdr_status: case.frames.get(hdr).map_or(0, |f| f.1),
                    pl_valid: pl_left && roll(case.pct.1),
                    pl_data: if pl_left {
                        case.frames[pl_frame].2[pl_at]
                    } else {
                        0
                    },
                    out_ready: roll(case.pct.2),
                };
                let o = dut.step(&i);
                if dut.rtl_error() {
                    return Err(format!("cycle {cycle}: RTL assertion failed"));
                }
                if o.out_valid && i.out_ready {
                    got.push(o.out_data);
                    if got.len() > want.len() || got[got.len() - 1] != want[got.len() - 1] {
                        return Err(format!(
                            "cycle {cycle}: byte {} is {:#04x}; sent {got:02x?}, expected {want:02x?}",
                            got.len() - 1,
                            o.out_data
                        ));
                    }
                }
                if i.pl_valid && o.pl_ready {
                    pl_at += 1;
                }
                if i.hdr_valid && o.hdr_ready {
                    hdr += 1;
                }
                // The next frame's payload starts once this one's is done.
                while pl_frame < hdr && pl_at == case.frames[pl_frame].2.len() {
                    pl_frame += 1;
                    pl_at = 0;
                }
                if got.len() == want.len() && hdr == case.frames.len() && !o.busy {
                    // Idle: no further byte, whatever the sink does.
                    for c in 0..20 {
                        let o = dut.step(&FrameTxIn {
                            out_ready: c % 2 == 0,
                            ..FrameTxIn::default()
                        });
                        if o.out_valid || o.busy {
                            return Err(format!(
                                "{c} cycles after the last frame: out_valid {}, busy {}",
                                o.out_valid, o.busy
                            ));
                        }
                    }
                    return Ok(());
                }
            }
            Err(format!(
                "no end within {limit} cycles (hang?): {} of {} headers taken, sent {} of {} bytes",
                hdr,
                case.frames.len(),
                got.len(),
                want.len()
            ))
        },
    )
}
