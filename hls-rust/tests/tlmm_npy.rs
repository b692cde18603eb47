//! `.npy` reading and writing.

use hls_rust::tlmm::npy::{NpyArray, NpyData, NpyError, read_f32, read_i8};
use proptest::prelude::*;

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

/// `np.save` of `np.arange(6, dtype=np.int16).reshape(2, 3).T`: a
/// Fortran-order (3, 2) array, `[[0, 3], [1, 4], [2, 5]]`.
const NUMPY_I16_FORTRAN_3X2: &str = "934e554d5059010076007b276465736372273a20273c6932272c2027666f727472616e5f6f72646572273a20547275652c20277368617065273a2028332c2032292c207d20202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a000001000200030004000500";

/// `np.save` of `np.asfortranarray(np.arange(24, dtype=np.float32).reshape(2, 3, 4))`.
const NUMPY_F32_FORTRAN_2X3X4: &str = "934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a20547275652c20277368617065273a2028322c20332c2034292c207d20202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a00000000000040410000804000008041000000410000a0410000803f000050410000a04000008841000010410000a84100000040000060410000c04000009041000020410000b04100004040000070410000e04000009841000030410000b841";

/// `np.save` of `np.array([1.5, -2.0], dtype='>f8')`.
const NUMPY_F64_BIG_ENDIAN: &str = "934e554d5059010076007b276465736372273a20273e6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a3ff8000000000000c000000000000000";

/// `np.save` of `np.zeros(2, dtype=[('a', '<f4')])`: a structured dtype.
const NUMPY_STRUCTURED: &str = "934e554d5059010076007b276465736372273a205b282761272c20273c663427295d2c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000000000000000";

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
fn reads_numpy_fortran_order_files_in_c_order() {
    let a = NpyArray::from_bytes(&hex(NUMPY_I16_FORTRAN_3X2)).unwrap();
    assert_eq!(a.shape(), [3, 2]);
    assert_eq!(a.as_i16(), Some(&[0, 3, 1, 4, 2, 5][..]));
    let b = NpyArray::from_bytes(&hex(NUMPY_F32_FORTRAN_2X3X4)).unwrap();
    assert_eq!(b.shape(), [2, 3, 4]);
    let c_order: Vec<f32> = (0..24).map(|i| i as f32).collect();
    assert_eq!(b.as_f32(), Some(&c_order[..]));
    // Writing gives C order back, the same array.
    let back = NpyArray::from_bytes(&b.to_bytes()).unwrap();
    assert_eq!(back, b);
}

#[test]
fn reads_big_endian_files() {
    let a = NpyArray::from_bytes(&hex(NUMPY_F64_BIG_ENDIAN)).unwrap();
    assert_eq!(a.as_f64(), Some(&[1.5, -2.0][..]));
    let bytes = handmade(
        "{'descr': '>i2', 'fortran_order': False, 'shape': (2,), }\n",
        &[0x01, 0x02, 0xff, 0xfe],
    );
    let a = NpyArray::from_bytes(&bytes).unwrap();
    assert_eq!(a.as_i16(), Some(&[0x0102, -2][..]));
    // Written back little-endian.
    assert!(
        std::str::from_utf8(&a.to_bytes()[10..70])
            .unwrap()
            .contains("'<i2'")
    );
}

/// The C-order elements of a Fortran-order array, by definition: element
/// `(i_0, .., i_n-1)` sits at `sum_k i_k * prod_{j<k} shape_j` in the file.
fn c_order_by_definition(file_order: &[u32], shape: &[usize]) -> Vec<u32> {
    let n: usize = shape.iter().product();
    (0..n)
        .map(|c| {
            // Unravel c in C order (last index fastest).
            let (mut rest, mut index) = (c, vec![0; shape.len()]);
            for k in (0..shape.len()).rev() {
                index[k] = rest % shape[k];
                rest /= shape[k];
            }
            let (mut offset, mut stride) = (0, 1);
            for (i, d) in index.iter().zip(shape) {
                offset += i * stride;
                stride *= d;
            }
            file_order[offset]
        })
        .collect()
}

proptest! {
    /// Property: a Fortran-order file of any shape (up to 4-d, with zero
    /// and unit dimensions) reads as its C-order elements.
    #[test]
    fn fortran_order_files_read_in_c_order(shape in prop::collection::vec(0usize..5, 0..5)) {
        let n: usize = shape.iter().product();
        let file_order: Vec<u32> = (0..n as u32).map(|i| i.wrapping_mul(2_654_435_761)).collect();
        let dims: Vec<String> = shape.iter().map(|d| format!("{d},")).collect();
        let header = format!(
            "{{'descr': '<f8', 'fortran_order': True, 'shape': ({}), }}\n",
            dims.concat()
        );
        let data: Vec<u8> = file_order.iter().flat_map(|&v| f64::from(v).to_le_bytes()).collect();
        let a = NpyArray::from_bytes(&handmade(&header, &data)).unwrap();
        prop_assert_eq!(a.shape(), &shape[..]);
        let want: Vec<f64> = c_order_by_definition(&file_order, &shape).into_iter().map(f64::from).collect();
        prop_assert_eq!(a.as_f64(), Some(&want[..]));
    }
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
        NpyArray::new(vec![3, 1], NpyData::I16(vec![i16::MIN, -1, i16::MAX])).unwrap(),
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
    let message = |bytes: &[u8]| NpyArray::from_bytes(bytes).unwrap_err().to_string();

    assert!(matches!(
        NpyArray::from_bytes(b"\x93NUMPX\x01\x00"),
        Err(NpyError::Magic { found }) if found == b"\x93NUMPX\x01\x00"
    ));
    assert_eq!(
        message(b"GIF89a.."),
        "not a .npy file: it starts with \"GIF89a..\", not \"\\x93NUMPY\" \
         (write arrays with numpy.save)"
    );
    assert!(message(b"PK\x03\x04-\x00\x00\x00").contains(".npz archive"));
    assert!(matches!(
        NpyArray::from_bytes(b"\x93NUM"),
        Err(NpyError::Truncated { .. })
    ));
    assert!(matches!(
        NpyArray::from_bytes(b""),
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
    assert_eq!(
        message(&ok[..ok.len() - 1]),
        "truncated .npy data: array data needs 8 bytes, only 7 present \
         (the file was cut short: write it again)"
    );
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
    let err = with("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n").unwrap_err();
    assert!(matches!(&err, NpyError::Dtype(d) if d == "<c8"));
    assert!(err.to_string().contains("astype"), "{err}");
    assert!(matches!(
        with("{'descr': '<f2', 'fortran_order': False, 'shape': (4,), }\n"),
        Err(NpyError::Dtype(_))
    ));
    assert!(matches!(
        with("{'descr': '|i4', 'fortran_order': False, 'shape': (2,), }\n"),
        Err(NpyError::Dtype(_))
    ));
    assert!(matches!(
        NpyArray::from_bytes(&hex(NUMPY_STRUCTURED)),
        Err(NpyError::Dtype(d)) if d.contains("structured")
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
    let err = with("{'descr': '<i4', 'fortran_order': False, 'shape': (2,) x\n").unwrap_err();
    assert!(matches!(err, NpyError::Header(_)));
    assert!(err.to_string().contains("numpy.save writes"), "{err}");

    assert!(matches!(
        NpyArray::new(vec![2, 2], NpyData::I8(vec![0; 3])),
        Err(NpyError::Shape {
            expected: 4,
            got: 3,
            ..
        })
    ));
}

#[test]
fn file_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("hlsk-tlmm-npy-err-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("missing.npy");
    let err = NpyArray::read(&missing).unwrap_err();
    assert!(matches!(&err, NpyError::Io { path, .. } if path == &missing));
    assert!(err.to_string().starts_with(&missing.display().to_string()));

    let cut = dir.join("cut.npy");
    let bytes = NpyArray::new(vec![4], NpyData::F32(vec![1.0; 4]))
        .unwrap()
        .to_bytes();
    std::fs::write(&cut, &bytes[..bytes.len() - 2]).unwrap();
    let err = read_f32(&cut).unwrap_err();
    assert!(
        matches!(&err, NpyError::File { path, source } if path == &cut
            && matches!(**source, NpyError::Truncated { what: "array data", .. }))
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: truncated .npy data: array data needs 16 bytes, only 14 present \
             (the file was cut short: write it again)",
            cut.display()
        )
    );

    std::fs::write(&cut, &bytes).unwrap();
    let err = read_i8(&cut).unwrap_err();
    assert!(matches!(
        err,
        NpyError::WrongDtype {
            expected: "i8",
            found: "f32",
            ..
        }
    ));
    assert!(err.to_string().ends_with(
        "expected dtype i8, found f32 (save it as a.astype(np.int8) if the conversion is what you want)"
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}
