//! `.npy` files: NumPy's array format, for exchanging weights, activations
//! and results with other tools.
//!
//! Reads format versions 1.0, 2.0 and 3.0 and writes 1.0 (2.0 only when
//! the header does not fit 1.0). Element types `i8`, `u8`, `i16`, `i32`,
//! `i64`, `f32`, `f64`, read in either byte order and written
//! little-endian; any shape (a 0-d array holds one element, an empty one
//! none). Arrays are held in C order: a Fortran-order file (`np.save` of a
//! transposed array, say) is transposed on reading, so element `[i, j]`
//! is the same as in NumPy.
//!
//! Why this is hand-written rather than `npyz` or `ndarray-npy`:
//! `docs/ecosystem.md` (features, speed and error messages compared by
//! `cargo bench -p hls-rust --bench npy --features npy-compare`).
//!
//! ```
//! use hls_rust::tlmm::npy::{NpyArray, NpyData};
//! let a = NpyArray::new(vec![2, 3], NpyData::I8(vec![1, 0, -1, 0, 0, 1]))?;
//! let bytes = a.to_bytes();
//! assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
//! assert_eq!((bytes.len() - 6) % 64, 0); // a 64-byte aligned header, then 6 bytes
//! let b = NpyArray::from_bytes(&bytes)?;
//! assert_eq!(b, a);
//! assert_eq!(b.as_i8(), Some(&[1i8, 0, -1, 0, 0, 1][..]));
//! # Ok::<(), hls_rust::tlmm::npy::NpyError>(())
//! ```

use std::path::{Path, PathBuf};

/// The magic string that opens every `.npy` file.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Errors reading or writing `.npy` files. Each message says what is wrong
/// and, where it helps, how to write a file this reader takes.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file was read but its contents are not a valid `.npy` array.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: Box<NpyError>,
    },
    /// The data does not start with `\x93NUMPY`.
    #[error("not a .npy file: it starts with \"{}\", not \"\\x93NUMPY\"{}", .found.escape_ascii(), magic_hint(.found))]
    Magic {
        /// The first bytes found (up to 8).
        found: Vec<u8>,
    },
    /// A format version other than 1.0, 2.0 or 3.0.
    #[error(
        "unsupported .npy format version {0}.{1}: versions 1.0, 2.0 and 3.0 are read \
         (numpy.save writes those)"
    )]
    Version(u8, u8),
    /// The data ends early.
    #[error(
        "truncated .npy data: {what} needs {expected} bytes, only {got} present \
         (the file was cut short: write it again)"
    )]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes needed.
        expected: usize,
        /// Bytes present.
        got: usize,
    },
    /// The header dictionary cannot be parsed.
    #[error(
        "malformed .npy header: {0} (expected a dict such as \
         {{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}, as numpy.save writes)"
    )]
    Header(String),
    /// A dtype this reader does not support.
    #[error(
        "unsupported dtype {0:?}: supported are i1, u1, i2, i4, i8, f4 and f8, either byte \
         order ('<f4', '>i2', '|i1'); convert the array first, e.g. a.astype(np.float32)"
    )]
    Dtype(String),
    /// Bytes after the array data.
    #[error(
        "{0} bytes after the array data that the header's shape does not account for \
         (a corrupt or concatenated file)"
    )]
    TrailingData(usize),
    /// The data length does not match the shape.
    #[error("shape {shape:?} needs {expected} elements, data holds {got}")]
    Shape {
        /// The shape.
        shape: Vec<usize>,
        /// Elements the shape needs.
        expected: usize,
        /// Elements given.
        got: usize,
    },
    /// The array holds another element type than asked for.
    #[error(
        "{path}: expected dtype {expected}, found {found} \
         (save it as a.astype(np.{}) if the conversion is what you want)",
        numpy_name(expected)
    )]
    WrongDtype {
        /// The file.
        path: PathBuf,
        /// The dtype asked for.
        expected: &'static str,
        /// The dtype found.
        found: &'static str,
    },
}

/// What a wrong magic string suggests.
fn magic_hint(found: &[u8]) -> &'static str {
    if found.starts_with(b"PK\x03\x04") {
        " (a .npz archive: load it with numpy.load and numpy.save each array)"
    } else {
        " (write arrays with numpy.save)"
    }
}

/// NumPy's name of an element type named as in [`NpyData::type_name`].
fn numpy_name(name: &str) -> &'static str {
    match name {
        "i8" => "int8",
        "u8" => "uint8",
        "i16" => "int16",
        "i32" => "int32",
        "i64" => "int64",
        "f32" => "float32",
        _ => "float64",
    }
}

/// The typed elements of an array, in C order.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyData {
    /// `|i1`.
    I8(Vec<i8>),
    /// `|u1`.
    U8(Vec<u8>),
    /// `<i2`.
    I16(Vec<i16>),
    /// `<i4`.
    I32(Vec<i32>),
    /// `<i8`.
    I64(Vec<i64>),
    /// `<f4`.
    F32(Vec<f32>),
    /// `<f8`.
    F64(Vec<f64>),
}

/// `$body` with `$v` bound to the vector of any variant of `$data`.
macro_rules! with_vec {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            NpyData::I8($v) => $body,
            NpyData::U8($v) => $body,
            NpyData::I16($v) => $body,
            NpyData::I32($v) => $body,
            NpyData::I64($v) => $body,
            NpyData::F32($v) => $body,
            NpyData::F64($v) => $body,
        }
    };
}

/// The same variant of `$data` with its vector mapped by `$body`.
macro_rules! map_vec {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            NpyData::I8($v) => NpyData::I8($body),
            NpyData::U8($v) => NpyData::U8($body),
            NpyData::I16($v) => NpyData::I16($body),
            NpyData::I32($v) => NpyData::I32($body),
            NpyData::I64($v) => NpyData::I64($body),
            NpyData::F32($v) => NpyData::F32($body),
            NpyData::F64($v) => NpyData::F64($body),
        }
    };
}

impl NpyData {
    /// Number of elements.
    pub fn len(&self) -> usize {
        with_vec!(self, v => v.len())
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The NumPy dtype string written, e.g. `"<i4"`.
    pub fn descr(&self) -> &'static str {
        Dtype::of(self).descr()
    }

    /// The element type's short name, e.g. `"i32"`.
    pub fn type_name(&self) -> &'static str {
        Dtype::of(self).name()
    }

    /// Appends the elements, little-endian.
    fn write_le(&self, out: &mut Vec<u8>) {
        match self {
            NpyData::I8(v) => out.extend(v.iter().map(|&x| x as u8)),
            NpyData::U8(v) => out.extend_from_slice(v),
            _ => with_vec!(self, v => out.extend(v.iter().flat_map(|x| x.to_le_bytes()))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dtype {
    I8,
    U8,
    I16,
    I32,
    I64,
    F32,
    F64,
}

impl Dtype {
    fn of(d: &NpyData) -> Dtype {
        match d {
            NpyData::I8(_) => Dtype::I8,
            NpyData::U8(_) => Dtype::U8,
            NpyData::I16(_) => Dtype::I16,
            NpyData::I32(_) => Dtype::I32,
            NpyData::I64(_) => Dtype::I64,
            NpyData::F32(_) => Dtype::F32,
            NpyData::F64(_) => Dtype::F64,
        }
    }

    /// The dtype and byte order (true: big-endian) of a descr string: `<`
    /// or `>` (or `|` for single bytes), then the kind and size.
    fn parse(descr: &str) -> Result<(Dtype, bool), NpyError> {
        let unsupported = || NpyError::Dtype(descr.to_owned());
        let (order, ty) = descr.split_at_checked(1).ok_or_else(unsupported)?;
        let d = match ty {
            "i1" => Dtype::I8,
            "u1" => Dtype::U8,
            "i2" => Dtype::I16,
            "i4" => Dtype::I32,
            "i8" => Dtype::I64,
            "f4" => Dtype::F32,
            "f8" => Dtype::F64,
            _ => return Err(unsupported()),
        };
        match order {
            "<" => Ok((d, false)),
            ">" => Ok((d, true)),
            "|" if d.size() == 1 => Ok((d, false)),
            _ => Err(unsupported()),
        }
    }

    fn descr(self) -> &'static str {
        match self {
            Dtype::I8 => "|i1",
            Dtype::U8 => "|u1",
            Dtype::I16 => "<i2",
            Dtype::I32 => "<i4",
            Dtype::I64 => "<i8",
            Dtype::F32 => "<f4",
            Dtype::F64 => "<f8",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Dtype::I8 => "i8",
            Dtype::U8 => "u8",
            Dtype::I16 => "i16",
            Dtype::I32 => "i32",
            Dtype::I64 => "i64",
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }

    fn size(self) -> usize {
        match self {
            Dtype::I8 | Dtype::U8 => 1,
            Dtype::I16 => 2,
            Dtype::I32 | Dtype::F32 => 4,
            Dtype::I64 | Dtype::F64 => 8,
        }
    }

    /// The elements of `b` (a whole number of elements), in file order.
    fn read(self, b: &[u8], big_endian: bool) -> NpyData {
        /// Fills a zeroed vector (faster than collecting: it vectorizes).
        fn words<const N: usize, T: Copy + Default>(
            b: &[u8],
            le: fn([u8; N]) -> T,
            be: fn([u8; N]) -> T,
            big_endian: bool,
        ) -> Vec<T> {
            let f = if big_endian { be } else { le };
            let mut v = vec![T::default(); b.len() / N];
            for (d, c) in v.iter_mut().zip(b.chunks_exact(N)) {
                *d = f(c.try_into().expect("chunks of N bytes"));
            }
            v
        }
        match self {
            Dtype::I8 => NpyData::I8(b.iter().map(|&x| x as i8).collect()),
            Dtype::U8 => NpyData::U8(b.to_vec()),
            Dtype::I16 => {
                NpyData::I16(words(b, i16::from_le_bytes, i16::from_be_bytes, big_endian))
            }
            Dtype::I32 => {
                NpyData::I32(words(b, i32::from_le_bytes, i32::from_be_bytes, big_endian))
            }
            Dtype::I64 => {
                NpyData::I64(words(b, i64::from_le_bytes, i64::from_be_bytes, big_endian))
            }
            Dtype::F32 => {
                NpyData::F32(words(b, f32::from_le_bytes, f32::from_be_bytes, big_endian))
            }
            Dtype::F64 => {
                NpyData::F64(words(b, f64::from_le_bytes, f64::from_be_bytes, big_endian))
            }
        }
    }
}

/// The elements of a Fortran-order (column-major) array of `shape`, in C
/// (row-major) order.
fn fortran_to_c<T: Copy>(v: &[T], shape: &[usize]) -> Vec<T> {
    // Column-major strides: the first index is the fastest.
    let strides: Vec<usize> = shape
        .iter()
        .scan(1, |s, &d| {
            let stride = *s;
            *s *= d;
            Some(stride)
        })
        .collect();
    let mut out = Vec::with_capacity(v.len());
    let mut index = vec![0; shape.len()];
    let mut offset = 0;
    for _ in 0..v.len() {
        out.push(v[offset]);
        // Step the C-order index (last one fastest), keeping the offset.
        for k in (0..shape.len()).rev() {
            index[k] += 1;
            offset += strides[k];
            if index[k] < shape[k] {
                break;
            }
            offset -= shape[k] * strides[k];
            index[k] = 0;
        }
    }
    out
}

/// An n-dimensional array in C order: a shape and typed data.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    shape: Vec<usize>,
    data: NpyData,
}

impl NpyArray {
    /// An array of `shape` holding `data`; an error when the number of
    /// elements is not the product of the shape (1 for the 0-d shape `[]`).
    pub fn new(shape: Vec<usize>, data: NpyData) -> Result<NpyArray, NpyError> {
        let expected = element_count(&shape)?;
        if expected != data.len() {
            return Err(NpyError::Shape {
                shape,
                expected,
                got: data.len(),
            });
        }
        Ok(NpyArray { shape, data })
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The data.
    pub fn data(&self) -> &NpyData {
        &self.data
    }

    /// Consumes the array, returning shape and data.
    pub fn into_parts(self) -> (Vec<usize>, NpyData) {
        (self.shape, self.data)
    }

    /// The elements if the dtype is `i8`.
    pub fn as_i8(&self) -> Option<&[i8]> {
        match &self.data {
            NpyData::I8(v) => Some(v),
            _ => None,
        }
    }

    /// The elements if the dtype is `u8`.
    pub fn as_u8(&self) -> Option<&[u8]> {
        match &self.data {
            NpyData::U8(v) => Some(v),
            _ => None,
        }
    }

    /// The elements if the dtype is `i16`.
    pub fn as_i16(&self) -> Option<&[i16]> {
        match &self.data {
            NpyData::I16(v) => Some(v),
            _ => None,
        }
    }

    /// The elements if the dtype is `i32`.
    pub fn as_i32(&self) -> Option<&[i32]> {
        match &self.data {
            NpyData::I32(v) => Some(v),
            _ => None,
        }
    }

    /// The elements if the dtype is `i64`.
    pub fn as_i64(&self) -> Option<&[i64]> {
        match &self.data {
            NpyData::I64(v) => Some(v),
            _ => None,
        }
    }

    /// The elements if the dtype is `f32`.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.data {
            NpyData::F32(v) => Some(v),
            _ => None,
        }
    }

    /// The elements if the dtype is `f64`.
    pub fn as_f64(&self) -> Option<&[f64]> {
        match &self.data {
            NpyData::F64(v) => Some(v),
            _ => None,
        }
    }

    /// The `.npy` encoding, format version 1.0 (2.0 if the header is longer
    /// than 1.0 allows), little-endian, C order, header padded to a
    /// multiple of 64 bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let shape = match self.shape.as_slice() {
            [] => "()".to_owned(),
            [n] => format!("({n},)"),
            dims => format!(
                "({})",
                dims.iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let mut header = format!(
            "{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
            self.data.descr()
        );
        // Magic (6), version (2), header length: 2 bytes in 1.0, 4 in 2.0.
        // The header (with its padding and newline) ends on a 64-byte boundary.
        let padded = |prefix: usize| (prefix + header.len() + 1).div_ceil(64) * 64;
        let fits_v1 = padded(10) - 10 <= usize::from(u16::MAX);
        let prefix = if fits_v1 { 10 } else { 12 };
        let total = padded(prefix);
        header.extend(std::iter::repeat_n(' ', total - prefix - header.len() - 1));
        header.push('\n');
        let size = Dtype::of(&self.data).size();
        let mut out = Vec::with_capacity(total + self.data.len() * size);
        out.extend_from_slice(MAGIC);
        if fits_v1 {
            out.extend_from_slice(&[1, 0]);
            // fits_v1 bounds the header to u16.
            out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&[2, 0]);
            out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(header.as_bytes());
        self.data.write_le(&mut out);
        out
    }

    /// Parses the `.npy` encoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<NpyArray, NpyError> {
        let need = |what, expected: usize| {
            if bytes.len() < expected {
                Err(NpyError::Truncated {
                    what,
                    expected,
                    got: bytes.len(),
                })
            } else {
                Ok(())
            }
        };
        if !bytes.starts_with(MAGIC) {
            // A prefix of the magic string is a truncated file.
            if MAGIC.starts_with(bytes) {
                need("magic and version", 8)?;
            }
            return Err(NpyError::Magic {
                found: bytes[..bytes.len().min(8)].to_vec(),
            });
        }
        need("magic and version", 8)?;
        let (major, minor) = (bytes[6], bytes[7]);
        let (len_bytes, header_len) = match (major, minor) {
            (1, 0) => {
                need("header length", 10)?;
                (2, usize::from(u16::from_le_bytes([bytes[8], bytes[9]])))
            }
            (2 | 3, 0) => {
                need("header length", 12)?;
                let n = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
                (4, n as usize)
            }
            _ => return Err(NpyError::Version(major, minor)),
        };
        let start = 8 + len_bytes;
        let data_start = start + header_len;
        need("header", data_start)?;
        let header = std::str::from_utf8(&bytes[start..data_start])
            .map_err(|e| NpyError::Header(format!("not UTF-8: {e}")))?;
        let h = parse_header(header)?;
        let (dtype, big_endian) = Dtype::parse(&h.descr)?;
        let count = element_count(&h.shape)?;
        let data_len = count
            .checked_mul(dtype.size())
            .ok_or_else(|| NpyError::Header(format!("shape {:?} is too large", h.shape)))?;
        let body = &bytes[data_start..];
        if body.len() < data_len {
            return Err(NpyError::Truncated {
                what: "array data",
                expected: data_len,
                got: body.len(),
            });
        }
        if body.len() > data_len {
            return Err(NpyError::TrailingData(body.len() - data_len));
        }
        let mut data = dtype.read(body, big_endian);
        if h.fortran_order && h.shape.len() > 1 {
            data = map_vec!(data, v => fortran_to_c(&v, &h.shape));
        }
        Ok(NpyArray {
            shape: h.shape,
            data,
        })
    }

    /// Reads a `.npy` file. Errors in its contents come as
    /// [`NpyError::File`], naming the file.
    pub fn read(path: &Path) -> Result<NpyArray, NpyError> {
        let bytes = std::fs::read(path).map_err(|source| NpyError::Io {
            path: path.to_owned(),
            source,
        })?;
        NpyArray::from_bytes(&bytes).map_err(|e| NpyError::File {
            path: path.to_owned(),
            source: Box::new(e),
        })
    }

    /// Writes a `.npy` file (format 1.0).
    pub fn write(&self, path: &Path) -> Result<(), NpyError> {
        std::fs::write(path, self.to_bytes()).map_err(|source| NpyError::Io {
            path: path.to_owned(),
            source,
        })
    }
}

/// The number of elements of `shape`, with an error on overflow.
fn element_count(shape: &[usize]) -> Result<usize, NpyError> {
    shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| NpyError::Header(format!("shape {shape:?} is too large")))
}

/// The three keys of a `.npy` header.
struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// A value of the header dictionary (the Python literal subset NumPy writes).
enum Value {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

/// Parses `{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }`
/// followed by spaces and a newline.
fn parse_header(text: &str) -> Result<Header, NpyError> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    p.expect(b'{')?;
    loop {
        p.skip_ws();
        if p.eat(b'}') {
            break;
        }
        let key = p.string()?;
        p.expect(b':')?;
        let value = p.value()?;
        match (key.as_str(), value) {
            ("descr", Value::Str(s)) => descr = Some(s),
            ("fortran_order", Value::Bool(b)) => fortran = Some(b),
            ("shape", Value::Tuple(t)) => shape = Some(t),
            ("descr" | "fortran_order" | "shape", _) => {
                return Err(NpyError::Header(format!("key {key:?} has the wrong type")));
            }
            _ => return Err(NpyError::Header(format!("unexpected key {key:?}"))),
        }
        p.skip_ws();
        if !p.eat(b',') {
            p.expect(b'}')?;
            break;
        }
    }
    p.skip_ws();
    if p.i != p.s.len() {
        return Err(NpyError::Header(
            "unexpected text after the dictionary".into(),
        ));
    }
    let missing = |k: &str| NpyError::Header(format!("missing key {k:?}"));
    Ok(Header {
        descr: descr.ok_or_else(|| missing("descr"))?,
        fortran_order: fortran.ok_or_else(|| missing("fortran_order"))?,
        shape: shape.ok_or_else(|| missing("shape"))?,
    })
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> NpyError {
        NpyError::Header(format!("{what} at byte {}", self.i))
    }

    fn skip_ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), NpyError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.err(&format!("expected {:?}", c as char)))
        }
    }

    fn string(&mut self) -> Result<String, NpyError> {
        self.skip_ws();
        let quote = match self.s.get(self.i) {
            Some(&q @ (b'\'' | b'"')) => q,
            _ => return Err(self.err("expected a quoted string")),
        };
        let start = self.i + 1;
        let len = self.s[start..]
            .iter()
            .position(|&c| c == quote)
            .ok_or_else(|| self.err("unterminated string"))?;
        self.i = start + len + 1;
        String::from_utf8(self.s[start..start + len].to_vec())
            .map_err(|_| self.err("string is not UTF-8"))
    }

    fn value(&mut self) -> Result<Value, NpyError> {
        self.skip_ws();
        let rest = &self.s[self.i..];
        if rest.starts_with(b"True") {
            self.i += 4;
            Ok(Value::Bool(true))
        } else if rest.starts_with(b"False") {
            self.i += 5;
            Ok(Value::Bool(false))
        } else if rest.first() == Some(&b'(') {
            self.i += 1;
            let mut dims = Vec::new();
            loop {
                if self.eat(b')') {
                    break;
                }
                dims.push(self.integer()?);
                if !self.eat(b',') {
                    self.expect(b')')?;
                    break;
                }
            }
            Ok(Value::Tuple(dims))
        } else if rest.first() == Some(&b'[') {
            // A structured dtype: a list of (name, dtype) fields.
            Err(NpyError::Dtype("[...] (a structured dtype)".to_owned()))
        } else {
            self.string().map(Value::Str)
        }
    }

    fn integer(&mut self) -> Result<usize, NpyError> {
        self.skip_ws();
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        // Python 2 era files may write long integers as `3L`.
        let digits = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
        let n = digits
            .parse()
            .map_err(|_| self.err("expected a non-negative integer"))?;
        if self.s.get(self.i) == Some(&b'L') {
            self.i += 1;
        }
        Ok(n)
    }
}

/// Reads an `i8` array, e.g. a ternary weight matrix; an error if the dtype
/// is not `i8`.
pub fn read_i8(path: &Path) -> Result<(Vec<usize>, Vec<i8>), NpyError> {
    match NpyArray::read(path)?.into_parts() {
        (shape, NpyData::I8(v)) => Ok((shape, v)),
        (_, d) => Err(NpyError::WrongDtype {
            path: path.to_owned(),
            expected: "i8",
            found: d.type_name(),
        }),
    }
}

/// Reads an `f32` array; an error if the dtype is not `f32`.
pub fn read_f32(path: &Path) -> Result<(Vec<usize>, Vec<f32>), NpyError> {
    match NpyArray::read(path)?.into_parts() {
        (shape, NpyData::F32(v)) => Ok((shape, v)),
        (_, d) => Err(NpyError::WrongDtype {
            path: path.to_owned(),
            expected: "f32",
            found: d.type_name(),
        }),
    }
}
