//! Layouts: NCHW / MNKK tensors round-trip through the memory image, every
//! element lands at the spec's address, padded lanes are zero and nothing
//! outside the region is touched.

mod conv_util;

use conv_util::*;
use hls_rust::conv::Tensor4;
use hls_rust::conv::layout::{ActLayout, Memory, WeightLayout, get_code, join32, split32};
use hls_rust::rng::Rng;
use proptest::prelude::*;

const SENTINEL: i16 = 0x5a5a;

fn dims4(rng: &mut Rng) -> [usize; 4] {
    [
        1 + rng.below(3) as usize,
        1 + rng.below(11) as usize,
        1 + rng.below(4) as usize,
        1 + rng.below(4) as usize,
    ]
}

fn image(len: usize) -> Memory {
    Memory::from_words(vec![SENTINEL; len])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Activations: store then load is the identity; element [b][c][y][x] is
    /// at base + (((b*Ct + c/T)*H + y)*W + x)*T + c%T; padded channels are 0;
    /// words outside the region are untouched.
    #[test]
    fn act_round_trip_at_spec_addresses(seed in any::<u64>(), t in 1usize..9, base in 0usize..40) {
        let mut rng = Rng::new(seed);
        let d = dims4(&mut rng);
        let x = rand_i16(&mut rng, d, -30000, 30000);
        let lay = ActLayout::new(d, t);
        let ct = d[1].div_ceil(t);
        prop_assert_eq!(lay.words(), d[0] * ct * d[2] * d[3] * t);
        let mut mem = image(base + lay.words() + 7);
        mem.store_act(base, t, &x).unwrap();
        prop_assert_eq!(mem.load_act(base, t, d).unwrap(), x.clone());
        let w = mem.words();
        prop_assert!(w[..base].iter().chain(&w[base + lay.words()..]).all(|&v| v == SENTINEL));
        let mut seen = vec![false; lay.words()];
        for b in 0..d[0] { for c in 0..ct * t { for y in 0..d[2] { for xx in 0..d[3] {
            let a = (((b * ct + c / t) * d[2] + y) * d[3] + xx) * t + c % t;
            prop_assert_eq!(lay.offset(b, c, y, xx), a);
            seen[a] = true;
            let want = if c < d[1] { x[[b, c, y, xx]] } else { 0 };
            prop_assert_eq!(w[base + a], want);
        }}}}
        prop_assert!(seen.iter().all(|&s| s), "the layout is a bijection onto the region");
    }

    /// Weights and masters: round trip, block address
    /// ((m/T)*Nt + n/T)*T*T*K*K + ((ky*K + kx)*T + m%T)*T + n%T, masters as
    /// two words (low half first) at twice that offset, padded lanes 0.
    #[test]
    fn weight_and_master_round_trip_at_spec_addresses(seed in any::<u64>(), t in 1usize..9, three in any::<bool>()) {
        let mut rng = Rng::new(seed);
        let k = if three { 3 } else { 1 };
        let d = [1 + rng.below(10) as usize, 1 + rng.below(10) as usize, k, k];
        let w = rand_i16(&mut rng, d, i16::MIN, i16::MAX);
        let mw = Tensor4::from_fn(d, |_| rng.next_u64() as i32);
        let lay = WeightLayout::new(d, t);
        let (mt, nt) = (d[0].div_ceil(t), d[1].div_ceil(t));
        prop_assert_eq!(lay.words(), mt * nt * t * t * k * k);
        let mut mem = image(3 * lay.words() + 4);
        mem.store_weights(1, t, &w).unwrap();
        mem.store_master(1 + lay.words(), t, &mw).unwrap();
        prop_assert_eq!(mem.load_weights(1, t, d).unwrap(), w.clone());
        prop_assert_eq!(mem.load_master(1 + lay.words(), t, d).unwrap(), mw.clone());
        let words = mem.words();
        prop_assert_eq!(words[0], SENTINEL);
        prop_assert!(words[1 + 3 * lay.words()..].iter().all(|&v| v == SENTINEL));
        for m in 0..mt * t { for n in 0..nt * t { for ky in 0..k { for kx in 0..k {
            let a = ((m / t) * nt + n / t) * t * t * k * k + ((ky * k + kx) * t + m % t) * t + n % t;
            prop_assert_eq!(lay.offset(m, n, ky, kx), a);
            let real = m < d[0] && n < d[1];
            prop_assert_eq!(words[1 + a], if real { w[[m, n, ky, kx]] } else { 0 });
            let mv = if real { mw[[m, n, ky, kx]] } else { 0 };
            let (lo, hi) = (words[1 + lay.words() + 2 * a], words[2 + lay.words() + 2 * a]);
            prop_assert_eq!((lo, hi), split32(mv));
            prop_assert_eq!(join32(lo, hi), mv);
            prop_assert_eq!(lo as u16, mv as u32 as u16);
        }}}}
    }

    /// Argmax codes: round trip; the code of element [b][c][y][x] sits at
    /// bits 2(x%8)+1..2(x%8) of the word of lane c%T of column group x/8 of
    /// row (b, c/T, y); padded lanes and columns are 0.
    #[test]
    fn argmax_round_trip_eight_codes_per_word(seed in any::<u64>(), t in 1usize..9) {
        let mut rng = Rng::new(seed);
        let d = dims4(&mut rng);
        let codes = Tensor4::from_fn(d, |_| rng.below(4) as u8);
        let lay = ActLayout::new(d, t);
        let row_words = d[3].div_ceil(8) * t;
        prop_assert_eq!(lay.argmax_words(), d[0] * lay.ct() * d[2] * row_words);
        let mut mem = image(lay.argmax_words() + 3);
        mem.store_argmax(2, t, &codes).unwrap();
        prop_assert_eq!(mem.load_argmax(2, t, d).unwrap(), codes.clone());
        let region = &mem.words()[2..2 + lay.argmax_words()];
        let mut expect = vec![0u16; region.len()];
        for b in 0..d[0] { for c in 0..d[1] { for y in 0..d[2] { for x in 0..d[3] {
            let word = ((b * lay.ct() + c / t) * d[2] + y) * row_words + x / 8 * t + c % t;
            expect[word] |= u16::from(codes[[b, c, y, x]]) << (2 * (x % 8));
            prop_assert_eq!(get_code(region, lay.code_pos(b, c, y, x)), codes[[b, c, y, x]]);
        }}}}
        let got: Vec<u16> = region.iter().map(|&v| v as u16).collect();
        prop_assert_eq!(got, expect);
        prop_assert_eq!(mem.words()[..2].to_vec(), vec![SENTINEL; 2]);
    }
}

/// Regions outside the image are errors that name the access.
#[test]
fn out_of_range_is_an_error() {
    let mut mem = Memory::new(10);
    let x = Tensor4::<i16>::zeros([1, 2, 2, 2]);
    let e = mem.store_act(3, 2, &x).unwrap_err();
    assert_eq!((e.base, e.words, e.mem), (3, 8, 10));
    assert!(mem.load_weights(usize::MAX, 2, [1, 1, 1, 1]).is_err());
    assert_eq!(mem.words(), &[0; 10]);
}
