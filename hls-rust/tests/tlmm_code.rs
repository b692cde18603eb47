//! Weight codes, tables, the table path against the golden dot product,
//! wrap and flags.

use hls_rust::rng::Rng;
use hls_rust::tlmm::{
    AccWidth, CodeMatrix, Flags, Grouping, ShapeError, Table, TernaryMatrix, TlmmError, WeightCode,
    check_shape, golden, tlmm_table,
};
use proptest::prelude::*;

/// An independent wrap: `y mod 2^acc_w`, sign-extended.
fn wrap_ref(y: i64, acc_w: u32) -> i32 {
    let m = 1i64 << acc_w;
    let r = y.rem_euclid(m);
    (if r >= m / 2 { r - m } else { r }) as i32
}

/// The exact dot products, row by row.
fn exact(w: &TernaryMatrix, x: &[i8]) -> Vec<i64> {
    (0..w.m())
        .map(|r| {
            w.row(r)
                .iter()
                .zip(x)
                .map(|(&a, &b)| i64::from(a) * i64::from(b))
                .sum()
        })
        .collect()
}

fn grouping() -> impl Strategy<Value = Grouping> {
    (1usize..=5).prop_map(|g| Grouping::new(g).unwrap())
}

/// Activations biased towards the corners of the int8 range.
fn activation() -> impl Strategy<Value = i8> {
    prop_oneof![
        Just(-128i8),
        Just(127i8),
        Just(-127i8),
        Just(-1i8),
        Just(0i8),
        Just(1i8),
        any::<i8>(),
        any::<i8>(),
    ]
}

/// A job: an `m x k` ternary matrix and `k` activations.
#[derive(Debug, Clone)]
struct Job {
    w: TernaryMatrix,
    x: Vec<i8>,
}

fn job(
    m: std::ops::RangeInclusive<usize>,
    k: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = Job> {
    (m, k).prop_flat_map(|(m, k)| {
        (
            proptest::collection::vec(-1i8..=1, m * k),
            proptest::collection::vec(activation(), k),
        )
            .prop_map(move |(w, x)| Job {
                w: TernaryMatrix::new(m, k, w).unwrap(),
                x,
            })
    })
}

/// A job on a 16-bit accumulator with `K` beyond `K_EXACT = 255`: row 0's
/// weights follow the activations' signs so that its sum wraps.
fn wrapping_job() -> impl Strategy<Value = Job> {
    job(1..=3, 256..=700).prop_map(|Job { w, x }| {
        let k = w.k();
        let mut data = w.into_data();
        for (d, &xi) in data[..k].iter_mut().zip(&x) {
            *d = xi.signum();
        }
        Job {
            w: TernaryMatrix::new(data.len() / k, k, data).unwrap(),
            x,
        }
    })
}

#[test]
fn grouping_widths_match_the_spec_table() {
    let widths: Vec<_> = Grouping::all()
        .map(|g| (g.g(), g.max_idx(), g.idx_bits(), g.code_width()))
        .collect();
    assert_eq!(
        widths,
        [
            (1, 1, 1, 2),
            (2, 4, 3, 4),
            (3, 13, 4, 5),
            (4, 40, 6, 7),
            (5, 121, 7, 8)
        ]
    );
    assert_eq!(Grouping::new(0), Err(TlmmError::Grouping(0)));
    assert_eq!(Grouping::new(6), Err(TlmmError::Grouping(6)));
}

#[test]
fn g1_code_is_sign_and_nonzero() {
    let g = Grouping::G1;
    let code = |w| WeightCode::encode(g, &[w]).unwrap().bits();
    assert_eq!((code(0), code(1), code(-1)), (0b00, 0b01, 0b11));
    // Negative zero is legal and means 0.
    assert_eq!(WeightCode::from_bits(0b10).decode(g), Some([0; 5]));
}

#[test]
fn g2_code_is_3w0_plus_w1() {
    let g = Grouping::new(2).unwrap();
    for w0 in -1i8..=1 {
        for w1 in -1i8..=1 {
            let v = 3 * i32::from(w0) + i32::from(w1);
            let expected = (u8::from(v < 0) << 3) | v.unsigned_abs() as u8;
            assert_eq!(WeightCode::encode(g, &[w0, w1]).unwrap().bits(), expected);
        }
    }
}

/// A port of bitnet.cpp's `preprocess_three_weights_tl2` (before its tiling
/// transposes) for a row-major `M x K` matrix, `K` a multiple of 3:
/// `v = 9*w0 + 3*w1 + w2`, `sign = np.sign(v) + 2`, values above 1 mapped to
/// 0, `idx = |v|`.
fn tl2_reference(weights: &[i8]) -> Vec<(u8, u8)> {
    weights
        .chunks(3)
        .map(|w| {
            let v = 9 * i32::from(w[0]) + 3 * i32::from(w[1]) + i32::from(w[2]);
            let sign = v.signum() + 2;
            let sign = if sign > 1 { 0 } else { sign };
            (sign as u8, v.unsigned_abs() as u8)
        })
        .collect()
}

#[test]
fn g3_code_equals_bitnet_tl2_sign_and_index() {
    let mut rng = Rng::new(3);
    let w = TernaryMatrix::random(7, 30, 0.3, &mut rng);
    let codes = CodeMatrix::encode(&w, Grouping::G3);
    let ours: Vec<(u8, u8)> = codes
        .codes()
        .iter()
        .map(|c| (u8::from(c.sign(Grouping::G3)), c.idx(Grouping::G3)))
        .collect();
    assert_eq!(ours, tl2_reference(w.data()));
    for c in codes.codes() {
        assert_eq!(
            c.bits(),
            u8::from(c.sign(Grouping::G3)) << 4 | c.idx(Grouping::G3)
        );
    }
}

#[test]
fn table_entries_match_the_spec_for_g3() {
    let (b0, b1, b2) = (5i32, -128i32, 127i32);
    let t = Table::build(Grouping::G3, &[5, -128, 127]);
    let e = t.entries();
    assert_eq!(e.len(), 14);
    assert_eq!(
        [e[0], e[1], e[2], e[3], e[4], e[5], e[13]],
        [0, b2, b1 - b2, b1, b1 + b2, b0 - b1 - b2, b0 + b1 + b2]
    );
}

#[test]
fn all_27_g3_patterns_against_every_corner_triple() {
    const CORNERS: [i8; 6] = [-128, -127, -1, 0, 1, 127];
    let g = Grouping::G3;
    for p in 0..27 {
        let w = [
            (p / 9) as i8 - 1,
            ((p / 3) % 3) as i8 - 1,
            (p % 3) as i8 - 1,
        ];
        let v = 9 * i32::from(w[0]) + 3 * i32::from(w[1]) + i32::from(w[2]);
        let code = WeightCode::encode(g, &w).unwrap();
        assert_eq!(
            code.bits(),
            u8::from(v < 0) << 4 | v.unsigned_abs() as u8,
            "code of {w:?}"
        );
        assert_eq!(code.value(g), Some(v));
        assert_eq!(code.decode(g).map(|d| [d[0], d[1], d[2]]), Some(w));
        let wm = TernaryMatrix::new(1, 3, w.to_vec()).unwrap();
        let cm = CodeMatrix::encode(&wm, g);
        for &b0 in &CORNERS {
            for &b1 in &CORNERS {
                for &b2 in &CORNERS {
                    let x = [b0, b1, b2];
                    let dot: i32 = w
                        .iter()
                        .zip(x)
                        .map(|(&a, b)| i32::from(a) * i32::from(b))
                        .sum();
                    let t = Table::build(g, &x);
                    assert_eq!(t.lookup(code), Some(dot), "w {w:?} x {x:?}");
                    assert!(
                        t.entries().iter().all(|e| (-512..512).contains(e)),
                        "10-bit entries"
                    );
                    let acc = AccWidth::DEFAULT;
                    let r = tlmm_table(&cm, &x, acc).unwrap();
                    assert_eq!(r.out, vec![dot], "w {w:?} x {x:?}");
                    assert_eq!(r, golden(&wm, &x, acc).unwrap());
                }
            }
        }
    }
}

#[test]
fn every_illegal_code_looks_up_zero_and_raises_err_code() {
    for g in Grouping::all() {
        let acts = [100i8, -7, 3, -128, 127];
        let t = Table::build(g, &acts);
        for bits in 0..1u16 << g.code_width() {
            let c = WeightCode::from_bits(bits as u8);
            let legal = c.idx(g) <= g.max_idx();
            assert_eq!(c.is_legal(g), legal);
            assert_eq!(t.lookup(c).is_some(), legal, "G {} code {bits:#x}", g.g());
            assert_eq!(c.decode(g).is_some(), legal);
            let k = g.g();
            let cm = CodeMatrix::from_codes(2, k, g, vec![c, WeightCode::encode(g, &[1]).unwrap()])
                .unwrap();
            let r = tlmm_table(&cm, &acts[..k], AccWidth::DEFAULT).unwrap();
            if legal {
                assert_eq!(r.flags, Flags::empty());
                assert_eq!(r.out[0], t.lookup(c).unwrap());
            } else {
                assert_eq!(r.flags, Flags::ERR_CODE, "G {} code {bits:#x}", g.g());
                assert_eq!(r.out[0], 0);
                let (w, flags) = cm.decode();
                assert_eq!(flags, Flags::ERR_CODE);
                assert!(w.row(0).iter().all(|&v| v == 0));
            }
            // The legal row is unaffected by the other row's code.
            assert_eq!(r.out[1], i32::from(acts[0]));
        }
    }
}

#[test]
fn codes_wider_than_cw_are_rejected() {
    let g = Grouping::G3;
    let err = CodeMatrix::from_codes(1, 3, g, vec![WeightCode::from_bits(0x20)]).unwrap_err();
    assert!(matches!(
        err,
        TlmmError::CodeWidth {
            index: 0,
            code: 0x20,
            width: 5,
            g: 3
        }
    ));
    assert!(CodeMatrix::from_codes(1, 4, g, vec![WeightCode::ZERO]).is_err());
}

#[test]
fn golden_wraps_at_acc_w_16_and_flags_k_range() {
    let acc = AccWidth::new(16).unwrap();
    assert_eq!(acc.k_exact(), 255);
    let w = TernaryMatrix::new(1, 300, vec![-1; 300]).unwrap();
    let x = vec![-128i8; 300];
    let r = golden(&w, &x, acc).unwrap();
    assert_eq!(r.out, vec![38_400 - 65_536]);
    assert_eq!(r.flags, Flags::ERR_K_RANGE);
    assert_eq!(
        tlmm_table(&CodeMatrix::encode(&w, Grouping::G3), &x, acc).unwrap(),
        r
    );
    // K = K_EXACT is exact and unflagged even at the extreme.
    let w = TernaryMatrix::new(1, 255, vec![-1; 255]).unwrap();
    let r = golden(&w, &x[..255], acc).unwrap();
    assert_eq!((r.out[0], r.flags), (255 * 128, Flags::empty()));
}

#[test]
fn acc_width_bounds_and_k_exact() {
    assert_eq!(AccWidth::new(7), Err(TlmmError::AccWidth(7)));
    assert_eq!(AccWidth::new(33), Err(TlmmError::AccWidth(33)));
    assert_eq!(AccWidth::new(8).unwrap().k_exact(), 0);
    assert_eq!(AccWidth::DEFAULT.k_exact(), 65_535);
    assert_eq!(AccWidth::new(32).unwrap().k_exact(), 16_777_215);
    assert_eq!(AccWidth::new(32).unwrap().wrap(-1), -1);
}

#[test]
fn check_shape_rejects_empty_and_oversized_jobs() {
    assert_eq!(check_shape(1, 1, 1), Ok(()));
    assert_eq!(check_shape(0, 5, 8), Err(ShapeError::ZeroRows));
    assert_eq!(check_shape(3, 0, 8), Err(ShapeError::ZeroK));
    assert_eq!(
        check_shape(3, 9, 8),
        Err(ShapeError::KTooLarge { k: 9, k_max: 8 })
    );
    assert_eq!(ShapeError::ZeroK.flags().bits(), 1 << 3);
}

#[test]
fn flags_bits_are_the_status_register_layout() {
    assert_eq!(Flags::ERR_K_RANGE.bits(), 1);
    assert_eq!(Flags::ERR_CODE.bits(), 2);
    assert_eq!(Flags::ERR_PROTO.bits(), 4);
    assert_eq!(Flags::ERR_SHAPE.bits(), 8);
    assert_eq!(Flags::from_bits_truncate(0xff), Flags::ALL);
    assert_eq!(format!("{:?}", Flags::empty()), "Flags(-)");
}

#[test]
fn activation_length_mismatch_is_an_error() {
    let w = TernaryMatrix::zeros(2, 5);
    let err = golden(&w, &[0; 4], AccWidth::DEFAULT).unwrap_err();
    assert_eq!(
        err,
        TlmmError::Length {
            what: "activations",
            expected: 5,
            got: 4
        }
    );
    let codes = CodeMatrix::encode(&w, Grouping::G3);
    assert!(tlmm_table(&codes, &[0; 6], AccWidth::DEFAULT).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn table_path_equals_golden_for_every_g(
        g in grouping(),
        job in job(1..=9, 1..=80),
        acc_w in 8u32..=32,
    ) {
        let acc = AccWidth::new(acc_w).unwrap();
        let codes = CodeMatrix::encode(&job.w, g);
        let table = tlmm_table(&codes, &job.x, acc).unwrap();
        let gold = golden(&job.w, &job.x, acc).unwrap();
        prop_assert_eq!(&table, &gold);
        let expected: Vec<i32> = exact(&job.w, &job.x).into_iter().map(|y| wrap_ref(y, acc_w)).collect();
        prop_assert_eq!(&gold.out, &expected);
        prop_assert_eq!(gold.flags.contains(Flags::ERR_K_RANGE), job.w.k() > acc.k_exact());
        prop_assert!(!gold.flags.contains(Flags::ERR_CODE));
    }

    #[test]
    fn table_path_equals_golden_when_acc16_wraps_beyond_k_exact(
        g in grouping(),
        job in wrapping_job(),
    ) {
        let acc = AccWidth::new(16).unwrap();
        let codes = CodeMatrix::encode(&job.w, g);
        let table = tlmm_table(&codes, &job.x, acc).unwrap();
        prop_assert_eq!(&table, &golden(&job.w, &job.x, acc).unwrap());
        let exact = exact(&job.w, &job.x);
        let expected: Vec<i32> = exact.iter().map(|&y| wrap_ref(y, 16)).collect();
        prop_assert_eq!(&table.out, &expected);
        prop_assert_eq!(table.flags, Flags::ERR_K_RANGE);
    }

    #[test]
    fn encode_then_decode_is_identity(g in grouping(), job in job(1..=6, 1..=40)) {
        let codes = CodeMatrix::encode(&job.w, g);
        prop_assert_eq!(codes.ng(), job.w.k().div_ceil(g.g()));
        prop_assert!(codes.all_legal());
        prop_assert_eq!(codes.decode(), (job.w.clone(), Flags::empty()));
    }

    #[test]
    fn decode_then_encode_is_identity_up_to_negative_zero(
        g in grouping(),
        raw in proptest::collection::vec(any::<u8>(), 1..40),
    ) {
        // K a multiple of G, so no weight of a code falls beyond K.
        let codes: Vec<WeightCode> = raw
            .iter()
            .map(|&b| WeightCode::from_bits(b & ((1u16 << g.code_width()) - 1) as u8))
            .collect();
        let cm = CodeMatrix::from_codes(1, codes.len() * g.g(), g, codes.clone()).unwrap();
        let (w, flags) = cm.decode();
        prop_assert_eq!(flags.contains(Flags::ERR_CODE), !cm.all_legal());
        let again = CodeMatrix::encode(&w, g);
        for (c, d) in codes.iter().zip(again.codes()) {
            let canonical = if !c.is_legal(g) || c.idx(g) == 0 { WeightCode::ZERO } else { *c };
            prop_assert_eq!(canonical, *d);
        }
    }

    #[test]
    fn table_path_on_arbitrary_codes_equals_golden_on_their_decoding(
        g in grouping(),
        (m, k) in (1usize..=6, 1usize..=40),
        seed in any::<u64>(),
        acc_w in 8u32..=32,
    ) {
        let mut rng = Rng::new(seed);
        let ng = k.div_ceil(g.g());
        let codes: Vec<WeightCode> = (0..m * ng)
            .map(|_| WeightCode::from_bits(rng.below(1 << g.code_width()) as u8))
            .collect();
        let x: Vec<i8> = (0..k).map(|_| rng.below(256) as u8 as i8).collect();
        let cm = CodeMatrix::from_codes(m, k, g, codes).unwrap();
        let acc = AccWidth::new(acc_w).unwrap();
        let (w, decode_flags) = cm.decode();
        let table = tlmm_table(&cm, &x, acc).unwrap();
        let gold = golden(&w, &x, acc).unwrap();
        prop_assert_eq!(&table.out, &gold.out);
        prop_assert_eq!(table.flags, gold.flags | decode_flags);
        prop_assert_eq!(table.flags.contains(Flags::ERR_CODE), !cm.all_legal());
    }
}
