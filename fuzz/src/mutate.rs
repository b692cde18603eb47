//! Generic byte mutations (AFL's "havoc" stage, in small): bit flips,
//! interesting values, insertions, deletions, duplicated ranges,
//! truncation and splices with another corpus entry.

use hls_rust::rng::Rng;

/// Byte values that sit on boundaries (and the frame's SOF).
const BYTES: [u8; 10] = [0x00, 0x01, 0x02, 0x10, 0x7f, 0x80, 0xa5, 0xfe, 0xff, b'\n'];
/// 16- and 32-bit values that sit on boundaries.
const WORDS: [u32; 12] = [
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0x8000,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0xffff_ffff,
];

/// A random index below `n` (`n > 0`).
pub fn pick(rng: &mut Rng, n: usize) -> usize {
    rng.below(n as u64) as usize
}

/// True with probability `1 / n`.
pub fn one_in(rng: &mut Rng, n: u64) -> bool {
    rng.below(n) == 0
}

/// Applies one generic mutation to `data`, keeping it at most `max_len`
/// bytes; `other` is a second corpus entry for splices.
pub fn havoc_once(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8], max_len: usize) {
    if data.is_empty() {
        data.push(rng.next_u64() as u8);
        return;
    }
    let n = data.len();
    match rng.below(10) {
        0 => {
            let i = pick(rng, n);
            data[i] ^= 1 << rng.below(8);
        }
        1 => {
            let i = pick(rng, n);
            data[i] = rng.next_u64() as u8;
        }
        2 => {
            let i = pick(rng, n);
            data[i] = BYTES[pick(rng, BYTES.len())];
        }
        3 => {
            let i = pick(rng, n + 1);
            let k = 1 + pick(rng, 8);
            let ins: Vec<u8> = (0..k).map(|_| rng.next_u64() as u8).collect();
            data.splice(i..i, ins);
        }
        4 => {
            let i = pick(rng, n);
            let k = 1 + pick(rng, (n - i).min(16));
            data.drain(i..i + k);
        }
        5 => {
            let i = pick(rng, n);
            let k = 1 + pick(rng, (n - i).min(32));
            let chunk = data[i..i + k].to_vec();
            let at = pick(rng, n + 1);
            data.splice(at..at, chunk);
        }
        6 => data.truncate(pick(rng, n)),
        7 if !other.is_empty() => {
            let cut = pick(rng, n + 1);
            let from = pick(rng, other.len());
            data.truncate(cut);
            data.extend_from_slice(&other[from..]);
        }
        8 if n >= 4 => {
            let i = pick(rng, n - 3);
            let v = WORDS[pick(rng, WORDS.len())];
            if one_in(rng, 2) {
                data[i..i + 2].copy_from_slice(&(v as u16).to_le_bytes());
            } else {
                data[i..i + 4].copy_from_slice(&v.to_le_bytes());
            }
        }
        _ => {
            let i = pick(rng, n);
            let d = 1 + rng.below(16) as u8;
            data[i] = if one_in(rng, 2) {
                data[i].wrapping_add(d)
            } else {
                data[i].wrapping_sub(d)
            };
        }
    }
    data.truncate(max_len);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn havoc_respects_max_len_and_changes_inputs() {
        let mut rng = Rng::new(1);
        let mut changed = 0;
        for _ in 0..1000 {
            let mut d = vec![7u8; 20];
            havoc_once(&mut rng, &mut d, b"other", 24);
            assert!(d.len() <= 24);
            changed += usize::from(d != vec![7u8; 20]);
        }
        assert!(
            changed > 900,
            "only {changed} of 1000 mutations changed the input"
        );
    }
}
