//! A WRITE corrupted by one inserted byte that passed LEN/~LEN and the
//! CRC-16 of protocol version 2, replayed against the twin, a protocol
//! version 3 device (CRC-32C): neither the forged version-2 bytes nor the
//! version-3 frame with the same byte inserted executes, and no single
//! inserted byte anywhere in the version-3 frame passes its decoder
//! (docs/fuzzing.md, Findings). Fails if anything forged gets through.
//! `cargo run --release -p hlsk-fuzz --example forged_write`.

use hlsk_fuzz::forged::{ADDR, forged_write};

fn main() -> anyhow::Result<()> {
    let r = forged_write(1)?;
    let (at, x) = r.insert;
    let meant: Vec<u32> = r.frame.payload[2..]
        .chunks(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    println!(
        "WRITE of {} words to word {ADDR}, SEQ {}; byte {x:#04x} inserted at wire index {at}",
        meant.len(),
        r.frame.seq
    );
    println!(
        "v2 sent     {:02x?}",
        r.frame.encode_as(hlsk_host::proto::Framing::V2)
    );
    println!(
        "v2 forged   {:02x?}  (passes a version-2 receiver)",
        r.v2_forged
    );
    println!("v3 sent     {:02x?}", r.frame.encode());
    println!("v3 shifted  {:02x?}", r.v3_shifted);
    println!("device replies {:?}", r.replies);
    println!("meant    {meant:08x?}");
    println!("memory   {:08x?}", r.memory);
    println!(
        "single-byte insertions into the v3 frame: {} tried, {} accepted with wrong content",
        r.v3_tried, r.v3_accepted
    );
    anyhow::ensure!(r.refused(), "a forged frame got through: {r:?}");
    println!("nothing forged executed");
    Ok(())
}
