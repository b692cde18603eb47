//! Descriptor encoding: decode(encode(d)) == d for every valid descriptor,
//! the encoding is canonical, and errors name the offending field.

use hls_rust::conv::desc::{Bases, ConvShape, DESC_WORDS, DescError, Descriptor, Op, Tiling};
use hls_rust::rng::Rng;
use proptest::prelude::*;

/// A random valid descriptor.
fn valid_descriptor(seed: u64) -> Descriptor {
    let mut r = Rng::new(seed);
    let mut below = |n: u64| r.below(n) as usize;
    let op = Op::ALL[below(5)];
    let shape = if op.is_conv() {
        let k = if below(2) == 0 { 1 } else { 3 };
        let pad = below(k as u64);
        let min = (k - 2 * pad.min(k / 2)).max(1);
        ConvShape {
            n: 1 + below(65535),
            m: 1 + below(65535),
            h: min + below(4000),
            w: min + below(4000),
            k,
            pad,
            b: 1 + below(255),
        }
    } else {
        let c = 1 + below(65535);
        ConvShape {
            n: c,
            m: c,
            h: 2 + 2 * below(2000),
            w: 2 + 2 * below(2000),
            k: 2,
            pad: 0,
            b: 1 + below(255),
        }
    };
    let mut d = Descriptor::new(op, shape);
    d.tiling = Tiling {
        tr: 1 + below(d.iter_rows() as u64),
        m_on: 1 + below(65535),
        n_on: if op.is_conv() { 1 + below(65535) } else { 0 },
    };
    let mut addr = || r.next_u64() as u32;
    d.base = Bases {
        input: addr(),
        weights: addr(),
        output: addr(),
        aux: addr(),
        w16_out: addr(),
    };
    match op {
        Op::Fp => {
            d.relu = r.below(2) == 1;
            d.s_out = r.below(64) as u8;
            d.base.aux = 0;
            d.base.w16_out = 0;
        }
        Op::Bp => {
            d.relu_mask = r.below(2) == 1;
            d.s_out = r.below(64) as u8;
            if !d.relu_mask {
                d.base.aux = 0;
            }
            d.base.w16_out = 0;
        }
        Op::Wu => {
            d.write_w16 = r.below(2) == 1;
            d.g_pre = r.below(64) as u8;
            d.lr_mant = r.below(1 << 15) as u16;
            d.lr_shift = r.below(64) as u8;
            if !d.write_w16 {
                d.base.w16_out = 0;
            }
        }
        Op::PoolFwd | Op::PoolBwd => {
            d.base.weights = 0;
            d.base.w16_out = 0;
        }
    }
    d
}

fn field_of(e: DescError) -> &'static str {
    match e {
        DescError::Field { field, .. } => field,
        other => panic!("expected a field error, got {other}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// decode(encode(d)) == d for every valid descriptor.
    #[test]
    fn decode_encode_round_trip(seed in any::<u64>()) {
        let d = valid_descriptor(seed);
        prop_assert_eq!(d.validate(), Ok(()), "{:?}", d);
        let words = d.encode().unwrap();
        prop_assert_eq!(words[0] >> 24, 0xC1);
        prop_assert_eq!(Descriptor::decode(&words), Ok(d));
    }

    /// The encoding is canonical: any word sequence that decodes re-encodes
    /// to the same words, and a flipped reserved bit is rejected.
    #[test]
    fn accepted_words_re_encode_identically(seed in any::<u64>(), word in 0usize..DESC_WORDS, bit in 0u32..32) {
        let words = valid_descriptor(seed).encode().unwrap();
        let mut w = words;
        w[word] ^= 1 << bit;
        match Descriptor::decode(&w) {
            Ok(d) => prop_assert_eq!(d.encode().unwrap(), w),
            Err(DescError::Reserved { word: rw, .. }) => prop_assert_eq!(rw, word),
            Err(_) => {}
        }
    }
}

#[test]
fn errors_name_the_field() {
    let shape = ConvShape {
        n: 4,
        m: 4,
        h: 8,
        w: 8,
        k: 3,
        pad: 1,
        b: 2,
    };
    let mut d = Descriptor::new(Op::Fp, shape);
    d.tiling = Tiling {
        tr: 2,
        m_on: 4,
        n_on: 4,
    };
    assert_eq!(d.validate(), Ok(()));

    let bad = |f: &dyn Fn(&mut Descriptor)| {
        let mut e = d;
        f(&mut e);
        field_of(e.encode().unwrap_err())
    };
    assert_eq!(bad(&|e| e.shape.k = 2), "K");
    assert_eq!(bad(&|e| e.shape.pad = 3), "pad");
    assert_eq!(bad(&|e| e.shape.n = 0), "N");
    assert_eq!(bad(&|e| e.shape.m = 70000), "M");
    assert_eq!(bad(&|e| e.tiling.tr = 9), "Tr");
    assert_eq!(bad(&|e| e.tiling.n_on = 0), "N_on");
    assert_eq!(bad(&|e| e.relu_mask = true), "relu_mask");
    assert_eq!(bad(&|e| e.write_w16 = true), "write_w16");
    assert_eq!(bad(&|e| e.s_out = 64), "s_out");
    assert_eq!(bad(&|e| e.lr_mant = 1), "lr_mant");
    assert_eq!(bad(&|e| e.base.aux = 8), "aux");
    assert_eq!(bad(&|e| e.op = Op::PoolFwd), "K");
    assert_eq!(
        bad(&|e| {
            e.op = Op::Wu;
            e.lr_shift = 64;
        }),
        "lr_shift"
    );
    assert_eq!(
        bad(&|e| {
            e.op = Op::PoolBwd;
            e.shape = ConvShape {
                n: 4,
                m: 4,
                h: 8,
                w: 7,
                k: 2,
                pad: 0,
                b: 1,
            };
            e.tiling.n_on = 0;
        }),
        "W"
    );

    let mut words = d.encode().unwrap();
    words[0] = (words[0] & 0x00ff_ffff) | 0xC2 << 24;
    assert_eq!(
        Descriptor::decode(&words),
        Err(DescError::Magic { found: 0xC2 })
    );
    let mut words = d.encode().unwrap();
    words[0] |= 0xf;
    assert_eq!(field_of(Descriptor::decode(&words).unwrap_err()), "op");
    let mut words = d.encode().unwrap();
    words[11] |= 1 << 20;
    assert_eq!(
        Descriptor::decode(&words),
        Err(DescError::Reserved {
            word: 11,
            bits: 1 << 20
        })
    );
    assert_eq!(
        Descriptor::decode(&words[..3]),
        Err(DescError::Length { found: 3 })
    );
    let msg = d.encode().map(|_| ()).and_then(|_| {
        let mut e = d;
        e.shape.k = 5;
        e.encode().map(|_| ())
    });
    assert!(msg.unwrap_err().to_string().contains("field K = 5"));
}
