//! The stream packers: activation, weight and result beats.

use hls_rust::rng::Rng;
use hls_rust::tlmm::stream::{
    Arch, BeatPos, WeightBeat, WeightLayout, pack_activations, pack_results, pack_weights,
    unpack_activations, unpack_results, unpack_weights,
};
use hls_rust::tlmm::{CodeMatrix, Grouping, TernaryMatrix, TlmmError, WeightCode};
use proptest::prelude::*;

#[test]
fn activation_bytes_are_little_endian_in_k_order() {
    let x = [1i8, -1, 2, -128, 5, 6];
    let beats = pack_activations(&x);
    assert_eq!(beats, [0x8002_ff01, 0x0000_0605]);
    assert_eq!(unpack_activations(&beats, 6).unwrap(), x);
    assert!(pack_activations(&[]).is_empty());
    assert_eq!(
        unpack_activations(&[0x0100_0000], 3),
        Err(TlmmError::ActivationPadding { beat: 0, byte: 3 })
    );
    assert!(unpack_activations(&beats, 9).is_err());
}

#[test]
fn results_are_one_word_per_row() {
    let out = [-1, 0, i32::MIN, 7];
    let beats = pack_results(&out);
    assert_eq!(beats, [0xffff_ffff, 0, 0x8000_0000, 7]);
    assert_eq!(unpack_results(&beats), out);
}

/// The 2 x 4 example of the module docs, by hand: row 0 = (1, 0, -1 | 1),
/// row 1 = (-1, -1, 0 | 1); G = 3 codes 8, 9 and 0x1c, 9; P = 2, T = 1.
#[test]
fn weight_beats_by_hand() {
    let w = TernaryMatrix::new(2, 4, vec![1, 0, -1, 1, -1, -1, 0, 1]).unwrap();
    let codes = CodeMatrix::encode(&w, Grouping::G3);
    let bits: Vec<u8> = codes.codes().iter().map(|c| c.bits()).collect();
    assert_eq!(bits, [8, 9, 0x1c, 9]);
    let os = WeightLayout::new(2, 1, Arch::OutputStationary).unwrap();
    let beats = pack_weights(&codes, &os);
    // Beat (0, 0): 8 | 0x1c << 5 = 0x388; beat (0, 1): 9 | 9 << 5 = 0x129.
    assert_eq!(beats[0].bytes(), [0x88, 0x03]);
    assert_eq!(beats[1].bytes(), [0x29, 0x01]);
    assert_eq!(beats[0].words_u32(), [0x388]);
    // P = 1, T = 2: row-block-major gives rows in order, table-stationary
    // interleaves the rows per chunk (one chunk here, so the same).
    let ts = WeightLayout::new(1, 2, Arch::TableStationary).unwrap();
    let beats = pack_weights(&codes, &ts);
    assert_eq!(beats.len(), 2);
    assert_eq!(beats[0].bytes(), [0x28, 0x01]); // 8 | 9 << 5
    // P = 1, T = 1, table-stationary: (rb 0, c 0), (rb 1, c 0), (rb 0, c 1), ...
    let ts = WeightLayout::new(1, 1, Arch::TableStationary).unwrap();
    let firsts: Vec<u8> = pack_weights(&codes, &ts)
        .iter()
        .map(|b| b.bytes()[0])
        .collect();
    assert_eq!(firsts, [8, 0x1c, 9, 9]);
}

#[test]
fn unpack_rejects_nonzero_padding_and_wrong_sizes() {
    let w = TernaryMatrix::new(3, 4, vec![1; 12]).unwrap();
    let codes = CodeMatrix::encode(&w, Grouping::G3);
    // P = 2: lane 1 of row block 1 is beyond M = 3.
    let layout = WeightLayout::new(2, 1, Arch::OutputStationary).unwrap();
    let mut beats = pack_weights(&codes, &layout);
    assert_eq!(
        unpack_weights(&beats, 3, 4, Grouping::G3, &layout).unwrap(),
        codes
    );
    let mut bytes = beats[2].bytes().to_vec();
    bytes[0] |= 1 << 5; // lane 1 of beat 2
    beats[2] = WeightBeat::from_bytes(bytes);
    assert_eq!(
        unpack_weights(&beats, 3, 4, Grouping::G3, &layout),
        Err(TlmmError::Padding {
            beat: 2,
            lane: 1,
            slot: 0
        })
    );
    // Pad bits above the last code (10 bits in 2 bytes).
    let mut beats = pack_weights(&codes, &layout);
    let mut bytes = beats[0].bytes().to_vec();
    bytes[1] |= 0x80;
    beats[0] = WeightBeat::from_bytes(bytes);
    assert_eq!(
        unpack_weights(&beats, 3, 4, Grouping::G3, &layout),
        Err(TlmmError::Padding {
            beat: 0,
            lane: 2,
            slot: 0
        })
    );
    let beats = pack_weights(&codes, &layout);
    assert!(unpack_weights(&beats[1..], 3, 4, Grouping::G3, &layout).is_err());
    let short = vec![WeightBeat::from_bytes(vec![0]); beats.len()];
    assert!(matches!(
        unpack_weights(&short, 3, 4, Grouping::G3, &layout),
        Err(TlmmError::BeatSize {
            beat: 0,
            expected: 2,
            got: 1
        })
    ));
    assert_eq!(
        WeightLayout::new(0, 1, Arch::OutputStationary),
        Err(TlmmError::Layout { p: 0, t: 1 })
    );
}

/// A random code matrix with arbitrary (also illegal) codes.
fn random_codes(m: usize, k: usize, g: Grouping, seed: u64) -> CodeMatrix {
    let mut rng = Rng::new(seed);
    let codes = (0..m * g.groups(k))
        .map(|_| WeightCode::from_bits(rng.below(1 << g.code_width()) as u8))
        .collect();
    CodeMatrix::from_codes(m, k, g, codes).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn unpacking_weight_beats_recovers_the_codes_for_both_archs(
        g in (1usize..=5).prop_map(|g| Grouping::new(g).unwrap()),
        (m, k) in (1usize..=20, 1usize..=50),
        (p, t) in (1usize..=9, 1usize..=5),
        table_stationary in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let arch = if table_stationary { Arch::TableStationary } else { Arch::OutputStationary };
        let layout = WeightLayout::new(p, t, arch).unwrap();
        let codes = random_codes(m, k, g, seed);
        let beats = pack_weights(&codes, &layout);
        let (nrb, nc) = (m.div_ceil(p), g.groups(k).div_ceil(t));
        prop_assert_eq!(beats.len(), nrb * nc);
        let cw = g.code_width() as usize;
        // An independent bit-level check of every beat against the spec.
        for (n, beat) in beats.iter().enumerate() {
            prop_assert_eq!(beat.bytes().len(), (p * t * cw).div_ceil(8));
            let words = beat.words_u32();
            prop_assert_eq!(words.len(), beat.bytes().len().div_ceil(4));
            let (rb, c) = match arch {
                Arch::OutputStationary => (n / nc, n % nc),
                Arch::TableStationary => (n % nrb, n / nrb),
            };
            prop_assert_eq!(layout.order(m, g.groups(k))[n], BeatPos { row_block: rb, chunk: c });
            for bit in 0..words.len() * 32 {
                let got = (words[bit / 32] >> (bit % 32)) & 1;
                let slot_index = bit / cw;
                let (lane, slot) = (slot_index / t, slot_index % t);
                let (row, group) = (rb * p + lane, c * t + slot);
                let want = if bit < p * t * cw && row < m && group < g.groups(k) {
                    u32::from(codes.code(row, group).bits() >> (bit % cw)) & 1
                } else {
                    0
                };
                prop_assert_eq!(got, want, "beat {} bit {}", n, bit);
            }
        }
        prop_assert_eq!(unpack_weights(&beats, m, k, g, &layout).unwrap(), codes);
    }

    #[test]
    fn unpacking_activation_beats_recovers_the_activations(
        x in proptest::collection::vec(any::<i8>(), 0..40),
    ) {
        let beats = pack_activations(&x);
        prop_assert_eq!(beats.len(), x.len().div_ceil(4));
        for (i, &xi) in x.iter().enumerate() {
            prop_assert_eq!((beats[i / 4] >> (8 * (i % 4))) as u8, xi as u8);
        }
        prop_assert_eq!(unpack_activations(&beats, x.len()).unwrap(), x);
    }
}
