//! The generated part of the seed corpora (`hlsk-fuzz seeds` writes them
//! under `fuzz/corpus/<target>/`; the board files are copied from
//! `boards/`, and the corpus also holds `.npy` files written by numpy).

use hls_rust::conv::desc::{ConvShape, Descriptor, Op, Tiling};
use hls_rust::tlmm::npy::{NpyArray, NpyData};
use hlsk_host::proto::{
    Command, DeviceStatus, Frame, Framing, TlmmDescriptor, VERSION, conv_payload,
};

/// Named seeds of the frame decoder: host commands, device replies, and
/// streams of several frames with noise between them.
pub fn frames() -> Vec<(String, Vec<u8>)> {
    let f = |seq, code, payload: Vec<u8>| Frame { seq, code, payload }.encode();
    let mut write = 16u16.to_le_bytes().to_vec();
    for w in 0..32u32 {
        write.extend((0xc0de_0000 ^ w).to_le_bytes());
    }
    let tlmm = TlmmDescriptor {
        m: 5,
        k: 100,
        a_addr: 0,
        w_addr: 25,
        out_addr: 200,
    }
    .payload();
    let info: Vec<u8> = [
        VERSION, 3, 1, 4, 24, 1, 0, 1, 0, 4, 32, 1, 0x00, 0x10, 0x0e, 0x00, 8, 0, 130, 0,
    ]
    .to_vec();
    let mut status = vec![0u8; DeviceStatus::LEN];
    status[0] = 0b110;
    status[2] = 9;
    let desc = descriptors()[0].1;
    let words = conv_payload(&desc);
    let v = vec![
        ("cmd-info", f(1, Command::Info as u8, vec![])),
        (
            "cmd-info-v2",
            Frame {
                seq: 1,
                code: Command::Info as u8,
                payload: vec![],
            }
            .encode_as(Framing::V2),
        ),
        ("cmd-write", f(2, Command::Write as u8, write)),
        ("cmd-read", f(3, Command::Read as u8, vec![16, 0, 32])),
        ("cmd-tlmm-start", f(4, Command::TlmmStart as u8, tlmm)),
        ("cmd-status", f(5, Command::Status as u8, vec![])),
        ("cmd-conv-start", f(6, Command::ConvStart as u8, words)),
        ("reply-info", f(1, 0x00, info.clone())),
        ("reply-status", f(5, 0x00, status.clone())),
        (
            "reply-read",
            f(3, 0x00, (0..128).map(|i| i as u8).collect()),
        ),
        ("reply-dup", f(2, 0x01, vec![])),
        ("reply-nak-crc", f(9, 0x80, vec![])),
        ("reply-max-len", f(7, 0x00, vec![0xa5; 255])),
        (
            "stream-noise-frames",
            [
                vec![0x13, 0xa5, 0x00],
                f(1, 0x00, info),
                vec![0xff, 0xa5],
                f(2, 0x00, status),
            ]
            .concat(),
        ),
    ];
    v.into_iter().map(|(n, b)| (n.to_owned(), b)).collect()
}

/// Valid descriptors of every operation (12 words each).
pub fn descriptors() -> Vec<(String, [u32; 12])> {
    let mut out = Vec::new();
    for op in Op::ALL {
        let mut found = 0;
        'shapes: for (k, pad) in [(3, 1), (1, 0), (2, 0)] {
            for t in [2usize, 4] {
                let shape = ConvShape {
                    n: 4,
                    m: if op.is_conv() { 8 } else { 4 },
                    h: 8,
                    w: 8,
                    k,
                    pad,
                    b: 2,
                };
                let mut d = Descriptor::new(op, shape);
                let conv = op.is_conv();
                d.tiling = Tiling {
                    tr: if conv { t } else { 2 },
                    m_on: if conv { 8 } else { 4 },
                    n_on: if conv { 4 } else { 0 },
                };
                d.base.input = 0x100;
                d.base.weights = if conv { 0x2000 } else { 0 };
                d.base.output = 0x4000;
                d.base.aux = if matches!(op, Op::Fp | Op::PoolFwd) {
                    0
                } else {
                    0x6000
                };
                match op {
                    Op::Fp => {
                        d.relu = true;
                        d.s_out = 6;
                    }
                    Op::Bp => {
                        d.relu_mask = true;
                        d.s_out = 6;
                    }
                    Op::Wu => {
                        d.write_w16 = true;
                        d.base.w16_out = 0x8000;
                        d.g_pre = 2;
                        d.lr_mant = 0x1234;
                        d.lr_shift = 20;
                    }
                    _ => {}
                }
                // Fields the operation leaves unused must be 0: try
                // without the optional ones too.
                let zero_bases = Descriptor {
                    base: Default::default(),
                    ..d
                };
                for (d, tag) in [(d, ""), (zero_bases, "-zero-bases")] {
                    if let Ok(w) = d.encode() {
                        out.push((format!("{}-k{k}-tr{}{tag}", op.name(), d.tiling.tr), w));
                        found += 1;
                        if found == 2 {
                            break 'shapes;
                        }
                    }
                }
            }
        }
    }
    out
}

/// `.npy` encodings of every dtype the reader takes, by [`NpyArray::to_bytes`].
pub fn npys() -> Vec<(String, Vec<u8>)> {
    let arrays = [
        (
            "i8-2x3",
            vec![2, 3],
            NpyData::I8(vec![-128, -1, 0, 1, 2, 127]),
        ),
        ("u8-4", vec![4], NpyData::U8(vec![0, 1, 254, 255])),
        (
            "i16-2x2x2",
            vec![2, 2, 2],
            NpyData::I16((0..8).map(|i| i * 1000 - 4000).collect()),
        ),
        ("i32-3", vec![3], NpyData::I32(vec![i32::MIN, 0, i32::MAX])),
        ("i64-1x2", vec![1, 2], NpyData::I64(vec![i64::MIN, 7])),
        (
            "f32-2x2",
            vec![2, 2],
            NpyData::F32(vec![0.5, -1.25, f32::NAN, f32::INFINITY]),
        ),
        ("f64-0d", vec![], NpyData::F64(vec![3.5])),
        ("f32-empty", vec![0, 4], NpyData::F32(vec![])),
    ];
    arrays
        .into_iter()
        .filter_map(|(n, shape, data)| {
            NpyArray::new(shape, data)
                .ok()
                .map(|a| (n.to_owned(), a.to_bytes()))
        })
        .collect()
}
