//! A WRITE corrupted by one inserted byte that still passes LEN/~LEN and
//! the CRC-16, sent to the twin: the device executes it (docs/fuzzing.md,
//! Findings). `cargo run --release -p hlsk-fuzz --example forged_write`.

use hls_rust::rng::Rng;
use hlsk_host::proto::{Command, Decoder, Frame};
use hlsk_host::{Link, LinkConfig, Transport};
use hlsk_sim::twin::Twin;
use std::time::Duration;

fn main() -> anyhow::Result<()> {
    // Search: an 8-word WRITE to word 100, one byte inserted in its payload.
    let mut rng = Rng::new(1);
    let (sent, forged) = 'search: loop {
        let mut payload = 100u16.to_le_bytes().to_vec();
        for _ in 0..8 {
            payload.extend((rng.next_u64() as u32).to_le_bytes());
        }
        let frame = Frame {
            seq: 200,
            code: Command::Write as u8,
            payload,
        };
        let wire = frame.encode();
        for i in 5..wire.len() - 2 {
            for x in 0..=255u8 {
                let mut bad = wire[..i].to_vec();
                bad.push(x);
                bad.extend_from_slice(&wire[i..wire.len() - 1]);
                let mut d = Decoder::default();
                if let Some(Some(Ok(f))) = bad.iter().map(|&b| d.push(b)).last()
                    && f != frame
                {
                    break 'search (frame, bad);
                }
            }
        }
    };
    println!("sent     {:02x?}", sent.encode());
    println!("received {forged:02x?}");
    let twin = Twin::new(0, 1, None)?;
    let mut link = Link::connect(twin, LinkConfig::default())?;
    link.write_words(100, &[0; 10])?;
    link.transport_mut().send_raw(&forged);
    let mut buf = [0u8; 64];
    let mut d = Decoder::default();
    let mut reply = Vec::new();
    for _ in 0..4 {
        let n = link
            .transport_mut()
            .recv(&mut buf, Duration::from_millis(200))?;
        reply.extend(buf[..n].iter().filter_map(|&b| d.push(b)));
    }
    println!("device reply {reply:?}");
    let meant: Vec<u32> = sent.payload[2..]
        .chunks(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    println!("meant    {meant:08x?}");
    println!("memory   {:08x?}", link.read_words(100, 10)?);
    Ok(())
}
