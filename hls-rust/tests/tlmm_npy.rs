//! `.npy` reading and writing.

use hls_rust::tlmm::npy::{NpyArray, NpyData, NpyError, read_f32, read_i8};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// `np.save` of `np.arange(6, dtype=np.int32).reshape(2, 3) - 3` (NumPy
/// 2.4, format 1.0, with NumPy's growth padding).
const NUMPY_I32_2X3: &str = "934e554d5059010076007b276465736372273a20273c6934272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200afdfffffffeffffffffffffff000000000100000002000000";

/// `np.lib.format.write_array(f, np.array([1.5, -2.25], np.float32), version=(2, 0))`.
const NUMPY_F32_V2: &str = "934e554d50590200740000007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000c03f000010c0";

/// A file with the given raw header text (version 1.0) and data.
fn handmade(header: &str, data: &[u8]) -> Vec<u8> {
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend_from_slice(&(header.len() as u16).to_le_bytes());
    v.extend_from_slice(header.as_bytes());
    v.extend_from_slice(data);
    v
}

#[test]
fn reads_numpy_written_files_v1_and_v2() {
    let a = NpyArray::from_bytes(&hex(NUMPY_I32_2X3)).unwrap();
    assert_eq!(a.shape(), [2, 3]);
    assert_eq!(a.as_i32(), Some(&[-3, -2, -1, 0, 1, 2][..]));
    let b = NpyArray::from_bytes(&hex(NUMPY_F32_V2)).unwrap();
    assert_eq!(b.shape(), [2]);
    assert_eq!(b.as_f32(), Some(&[1.5, -2.25][..]));
}

#[test]
fn reads_a_handmade_header_with_other_spacing_and_quotes() {
    let bytes = handmade(
        "{\"shape\":(2,2),\"fortran_order\":False,  \"descr\":\"<f8\"}\n",
        &[1.0f64, -2.0, 0.5, 3.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<_>>(),
    );
    let a = NpyArray::from_bytes(&bytes).unwrap();
    assert_eq!(a.shape(), [2, 2]);
    assert_eq!(a.as_f64(), Some(&[1.0, -2.0, 0.5, 3.0][..]));
    // '<i1' is accepted as well as '|i1'; Python 2 long integers too.
    let bytes = handmade(
        "{'descr': '<i1', 'fortran_order': False, 'shape': (3L,), }\n",
        &[1, 255, 0],
    );
    assert_eq!(
        NpyArray::from_bytes(&bytes).unwrap().as_i8(),
        Some(&[1i8, -1, 0][..])
    );
}

#[test]
fn writes_what_numpy_writes_up_to_padding() {
    let a = NpyArray::new(vec![2, 3], NpyData::I32(vec![-3, -2, -1, 0, 1, 2])).unwrap();
    let ours = a.to_bytes();
    let numpy = hex(NUMPY_I32_2X3);
    assert_eq!(&ours[..8], &numpy[..8]);
    let header_len = usize::from(u16::from_le_bytes([ours[8], ours[9]]));
    assert_eq!((10 + header_len) % 64, 0);
    let text = std::str::from_utf8(&ours[10..10 + header_len]).unwrap();
    assert_eq!(
        text.trim_end(),
        "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }"
    );
    assert!(text.ends_with('\n'));
    assert_eq!(&ours[10 + header_len..], &numpy[numpy.len() - 24..]);
}

#[test]
fn round_trips_every_dtype_and_shape() {
    let arrays = [
        NpyArray::new(vec![2, 3], NpyData::I8(vec![-128, -1, 0, 1, 2, 127])).unwrap(),
        NpyArray::new(vec![4], NpyData::U8(vec![0, 1, 200, 255])).unwrap(),
        NpyArray::new(vec![1, 2, 2], NpyData::I32(vec![i32::MIN, -1, 0, i32::MAX])).unwrap(),
        NpyArray::new(vec![], NpyData::I64(vec![-5_000_000_000])).unwrap(),
        NpyArray::new(vec![0], NpyData::F32(vec![])).unwrap(),
        NpyArray::new(vec![3, 0, 2], NpyData::F64(vec![])).unwrap(),
        NpyArray::new(vec![2], NpyData::F32(vec![f32::MIN_POSITIVE, -0.0])).unwrap(),
    ];
    let dir = std::env::temp_dir().join(format!("hlsk-tlmm-npy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, a) in arrays.iter().enumerate() {
        let back = NpyArray::from_bytes(&a.to_bytes()).unwrap();
        assert_eq!(&back, a);
        let path = dir.join(format!("{i}.npy"));
        a.write(&path).unwrap();
        assert_eq!(&NpyArray::read(&path).unwrap(), a);
    }
    let (shape, v) = read_i8(&dir.join("0.npy")).unwrap();
    assert_eq!((shape, v), (vec![2, 3], vec![-128, -1, 0, 1, 2, 127]));
    assert!(matches!(
        read_f32(&dir.join("0.npy")),
        Err(NpyError::WrongDtype {
            expected: "f32",
            found: "i8",
            ..
        })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn errors_say_what_is_wrong() {
    let ok = handmade(
        "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }\n",
        &[0; 8],
    );
    assert!(NpyArray::from_bytes(&ok).is_ok());

    assert!(matches!(
        NpyArray::from_bytes(b"\x93NUMPX\x01\x00"),
        Err(NpyError::Magic)
    ));
    assert!(matches!(
        NpyArray::from_bytes(b"\x93NUM"),
        Err(NpyError::Truncated { .. })
    ));
    let mut v4 = ok.clone();
    v4[6] = 4;
    assert!(matches!(
        NpyArray::from_bytes(&v4),
        Err(NpyError::Version(4, 0))
    ));
    assert!(matches!(
        NpyArray::from_bytes(&ok[..ok.len() - 1]),
        Err(NpyError::Truncated {
            what: "array data",
            expected: 8,
            got: 7
        })
    ));
    assert!(matches!(
        NpyArray::from_bytes(&ok[..20]),
        Err(NpyError::Truncated { what: "header", .. })
    ));
    let mut long = ok.clone();
    long.push(0);
    assert!(matches!(
        NpyArray::from_bytes(&long),
        Err(NpyError::TrailingData(1))
    ));

    let with = |h: &str| NpyArray::from_bytes(&handmade(h, &[0; 8]));
    let err = with("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }\n").unwrap_err();
    assert!(matches!(&err, NpyError::Dtype(d) if d == ">i4"));
    assert!(err.to_string().contains("little-endian"));
    assert!(matches!(
        with("{'descr': '<f2', 'fortran_order': False, 'shape': (4,), }\n"),
        Err(NpyError::Dtype(_))
    ));
    assert!(matches!(
        with("{'descr': '|i4', 'fortran_order': False, 'shape': (2,), }\n"),
        Err(NpyError::Dtype(_))
    ));
    assert!(matches!(
        with("{'descr': '<i4', 'fortran_order': True, 'shape': (2,), }\n"),
        Err(NpyError::FortranOrder)
    ));
    assert!(
        matches!(with("{'descr': '<i4', 'shape': (2,), }\n"), Err(NpyError::Header(m)) if m.contains("fortran_order"))
    );
    assert!(matches!(
        with("{'descr': '<i4', 'fortran_order': False, 'shape': (-2,), }\n"),
        Err(NpyError::Header(_))
    ));
    assert!(matches!(
        with("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), 'x': 1}\n"),
        Err(NpyError::Header(_))
    ));
    assert!(matches!(
        with("{'descr': '<i4', 'fortran_order': False, 'shape': (2,) x\n"),
        Err(NpyError::Header(_))
    ));

    assert!(matches!(
        NpyArray::new(vec![2, 2], NpyData::I8(vec![0; 3])),
        Err(NpyError::Shape {
            expected: 4,
            got: 3,
            ..
        })
    ));
    assert!(matches!(
        NpyArray::read(std::path::Path::new("/nonexistent/x.npy")),
        Err(NpyError::Io { .. })
    ));
}
