//! The four parsers under test, each with an oracle beyond "did not
//! panic" and field-aware mutations that know its format.
//!
//! | target | input | oracle on success |
//! |---|---|---|
//! | [`FrameDecoder`] | a byte stream | every frame handed out is, re-encoded, a run of the input; INFO and STATUS payloads parse |
//! | [`BoardFile`] | TOML text | the config, serialized and parsed again, is equal |
//! | [`Npy`] | `.npy` bytes | `to_bytes` of the array parses to the same bytes again |
//! | [`ConvDescriptor`] | 12 little-endian words | `encode` gives back exactly the input words (one encoding per descriptor) |

use crate::mutate::{one_in, pick};
use hls_rust::conv::desc::{DESC_WORDS, Descriptor};
use hls_rust::rng::Rng;
use hls_rust::tlmm::npy::NpyArray;
use hlsk_boards::{BoardConfig, ConfigError};
use hlsk_host::proto::{DecodeError, Decoder, DeviceInfo, DeviceStatus, Frame, SOF, crc32c};
use std::collections::BTreeSet;
use std::path::Path;

/// A parser under test.
pub trait Target: Sync {
    /// Short name (`frame`, `board`, `npy`, `desc`); also the corpus folder.
    fn name(&self) -> &'static str;

    /// Longest input the mutator builds.
    fn max_len(&self) -> usize;

    /// One mutation that knows the format; false if it does not apply to
    /// `data` (the campaign then uses a generic one).
    fn mutate(&self, rng: &mut Rng, data: &mut Vec<u8>) -> bool;

    /// Brings a mutated input back towards the format (most of the time),
    /// after all mutations of one execution.
    fn fixup(&self, _rng: &mut Rng, _data: &mut Vec<u8>) {}

    /// Runs the parser on `data`: the kind of outcome (a short key such as
    /// `ok:FP` or `err:Truncated`), or a broken oracle.
    fn run(&self, data: &[u8]) -> Result<String, String>;
}

/// All targets, in report order.
pub fn all() -> Vec<&'static dyn Target> {
    vec![&FrameDecoder, &BoardFile, &Npy, &ConvDescriptor]
}

/// The target called `name`.
pub fn by_name(name: &str) -> Option<&'static dyn Target> {
    all().into_iter().find(|t| t.name() == name)
}

/// The name of an enum variant from its `Debug` text (`Truncated { .. }` -> `Truncated`).
fn variant(debug: &str) -> &str {
    let end = debug
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap_or(debug.len());
    &debug[..end]
}

// ---------------------------------------------------------------------------
// Host frame decoder
// ---------------------------------------------------------------------------

/// `hlsk_host::proto::Decoder` over a stream of bytes (frames, noise, cuts).
pub struct FrameDecoder;

/// Recomputes the CRC of the frame whose SOF is at `at`, for the LEN it
/// carries, if the frame fits in `data`.
fn fix_crc(data: &mut [u8], at: usize) {
    let Some(&len) = data.get(at + 1) else {
        return;
    };
    let end = at + 5 + usize::from(len);
    if end + 4 <= data.len() {
        let crc = crc32c(&data[at + 1..end]);
        data[end..end + 4].copy_from_slice(&crc.to_le_bytes());
    }
}

impl Target for FrameDecoder {
    fn name(&self) -> &'static str {
        "frame"
    }

    fn max_len(&self) -> usize {
        1024
    }

    fn mutate(&self, rng: &mut Rng, data: &mut Vec<u8>) -> bool {
        let sofs: Vec<usize> = (0..data.len()).filter(|&i| data[i] == SOF).collect();
        match rng.below(5) {
            // A mutated frame that still passes the CRC.
            0 | 1 if !sofs.is_empty() => {
                let at = sofs[pick(rng, sofs.len())];
                if let Some(i) =
                    (at + 3 < data.len()).then(|| at + 3 + pick(rng, data.len() - at - 3))
                {
                    data[i] = rng.next_u64() as u8;
                }
                fix_crc(data, at);
            }
            // LEN and ~LEN consistent but wrong for the bytes that follow.
            2 if !sofs.is_empty() => {
                let at = sofs[pick(rng, sofs.len())];
                if at + 2 < data.len() {
                    let len = rng.next_u64() as u8;
                    data[at + 1] = len;
                    data[at + 2] = !len;
                    if one_in(rng, 2) {
                        fix_crc(data, at);
                    }
                }
            }
            // A new well-formed frame somewhere.
            3 => {
                let len = if one_in(rng, 4) { 255 } else { pick(rng, 60) };
                let f = Frame {
                    seq: rng.next_u64() as u8,
                    code: [0x00, 0x01, 0x05, 0x80, 0x84, 0x02, 0x03][pick(rng, 7)],
                    payload: (0..len).map(|_| rng.next_u64() as u8).collect(),
                };
                let at = pick(rng, data.len() + 1);
                data.splice(at..at, f.encode());
            }
            _ => {
                let at = pick(rng, data.len() + 1);
                data.insert(at, SOF);
            }
        }
        true
    }

    fn run(&self, data: &[u8]) -> Result<String, String> {
        let mut d = Decoder::default();
        let mut kinds = BTreeSet::new();
        for &b in data {
            match d.push(b) {
                None => {}
                Some(Ok(f)) => {
                    let wire = f.encode();
                    if !data.windows(wire.len()).any(|w| w == wire.as_slice()) {
                        return Err(format!("decoded a frame that is not in the input: {f:?}"));
                    }
                    let kind = match (f.code, f.payload.len()) {
                        (0x00, DeviceInfo::LEN) if DeviceInfo::parse(&f.payload).is_some() => {
                            "ok-info"
                        }
                        (0x00, DeviceStatus::LEN) if DeviceStatus::parse(&f.payload).is_some() => {
                            "ok-status"
                        }
                        (_, 0) => "ok-empty",
                        _ => "ok",
                    };
                    kinds.insert(kind);
                }
                Some(Err(DecodeError::Header)) => {
                    kinds.insert("header");
                }
                Some(Err(DecodeError::Crc { .. })) => {
                    kinds.insert("crc");
                }
            }
        }
        if !d.idle() {
            kinds.insert("partial");
        }
        if kinds.is_empty() {
            return Ok("nothing".to_owned());
        }
        Ok(kinds.into_iter().collect::<Vec<_>>().join("+"))
    }
}

// ---------------------------------------------------------------------------
// Board files
// ---------------------------------------------------------------------------

/// `hlsk_boards::BoardConfig::parse` on TOML text (the loader behind
/// `load_board`), with the file named after the `name` the text carries.
pub struct BoardFile;

/// Values a TOML field may be set to.
const TOML_VALUES: &[&str] = &[
    "0",
    "-1",
    "1",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "1e309",
    "nan",
    "-inf",
    "-0.0",
    "0.0001",
    "12.0",
    "\"\"",
    "\"é\"",
    "\"🦀🦀\"",
    "\"a\\u0000b\"",
    "[]",
    "[\"\"]",
    "[\"1\", \"1\"]",
    "{}",
    "{ G = 0 }",
    "{ G = 3, T = 1, P = 4, AccW = 64, KMax = 0, MemWords = 65536 }",
    "true",
    "0x10",
    "1_000",
    "\"up5k\"",
    "\"85k\"",
    "\"GW1N-9C\"",
    "\"ice40\"",
    "\"ecp5\"",
    "\"gowin\"",
    "\"tlmm_os\"",
    "\"conv\"",
    "\"openfpgaloader\"",
    "\"dfu-util\"",
    "\"up\"",
    "\"down\"",
    "\"LVCMOS33\"",
];

/// Lines a board file may gain.
const TOML_LINES: &[&str] = &[
    "[board]",
    "[[buttons]]",
    "[kernel]",
    "[kernel.params]",
    "[device]",
    "speed = 8",
    "io_standard = \"LVCMOS25\"",
    "drive = 4",
    "conv = 1",
    "x = 1",
    "name = \"é\"",
    "pins = []",
    "\"quoted key\" = 1",
    "a.b.c = 1",
    "=",
    "[",
    "\"\"\"",
    "# é 🦀 comment",
];

/// The tables of a board file.
const TABLES: &[&str] = &[
    "board",
    "device",
    "clock",
    "leds",
    "buttons",
    "uart",
    "programmer",
    "capacity",
    "kernel",
];

/// The fields of a board file's tables.
const FIELDS: &[&str] = &[
    "active_low",
    "board",
    "bram",
    "description",
    "drive",
    "dsp",
    "engine",
    "family",
    "ff",
    "freq_mhz",
    "gowin_family",
    "inverted",
    "io_standard",
    "lut",
    "name",
    "package",
    "params",
    "part",
    "pin",
    "pins",
    "pull",
    "rx",
    "speed",
    "tool",
    "tx",
    "usb_id",
];

impl BoardFile {
    /// The file name the text asks for (`name = "..."`), or `fuzz.toml`.
    fn path_for(text: &str) -> String {
        let name = text.lines().find_map(|l| {
            let rest = l
                .trim()
                .strip_prefix("name")?
                .trim()
                .strip_prefix('=')?
                .trim();
            let rest = rest.strip_prefix('"')?;
            Some(&rest[..rest.find('"')?])
        });
        match name {
            Some(n) if !n.is_empty() && !n.contains(['/', '\\', '.']) => format!("{n}.toml"),
            _ => "fuzz.toml".to_owned(),
        }
    }
}

impl Target for BoardFile {
    fn name(&self) -> &'static str {
        "board"
    }

    fn max_len(&self) -> usize {
        8192
    }

    fn mutate(&self, rng: &mut Rng, data: &mut Vec<u8>) -> bool {
        let text = String::from_utf8_lossy(data).into_owned();
        let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
        let n = lines.len();
        let i = pick(rng, n);
        match rng.below(6) {
            // A field's value replaced.
            0 | 1 => {
                let with_eq: Vec<usize> = (0..n).filter(|&j| lines[j].contains('=')).collect();
                if with_eq.is_empty() {
                    return false;
                }
                let j = with_eq[pick(rng, with_eq.len())];
                let key = lines[j][..lines[j].find('=').unwrap_or(0)].to_owned();
                lines[j] = format!("{key}= {}", TOML_VALUES[pick(rng, TOML_VALUES.len())]);
            }
            2 => {
                lines.remove(i);
            }
            3 => {
                let l = lines[pick(rng, n)].clone();
                lines.insert(i, l);
            }
            4 => lines.insert(i, TOML_LINES[pick(rng, TOML_LINES.len())].to_owned()),
            // A multi-byte character anywhere (byte offsets against char
            // boundaries in the error locator).
            _ => {
                let l = &mut lines[i];
                let mut at = pick(rng, l.len() + 1);
                while !l.is_char_boundary(at) {
                    at -= 1;
                }
                l.insert_str(at, ["é", "🦀", "\u{301}", "\u{feff}"][pick(rng, 4)]);
            }
        }
        *data = lines.join("\n").into_bytes();
        true
    }

    fn run(&self, data: &[u8]) -> Result<String, String> {
        let text = String::from_utf8_lossy(data);
        let path = BoardFile::path_for(&text);
        match BoardConfig::parse(Path::new(&path), &text) {
            Ok(cfg) => {
                let again = toml::to_string(&cfg)
                    .map_err(|e| format!("accepted config does not serialize: {e}"))?;
                match BoardConfig::parse(Path::new(&path), &again) {
                    Ok(c) if c == cfg => Ok(format!("ok:{:?}", cfg.device.family)),
                    Ok(c) => Err(format!("round trip changed the config:\n{cfg:?}\n{c:?}")),
                    Err(e) => Err(format!("round trip rejected: {e}\n{again}")),
                }
            }
            Err(ConfigError::Invalid { line, field, .. }) => {
                let lines = text.lines().count().max(1);
                if line == 0 || line > lines + 1 {
                    return Err(format!("error on line {line} of a {lines}-line file"));
                }
                // Indexes and free-form keys would make every input new:
                // the known tables and fields by name, the rest as `?`.
                let mut parts = field.split('.').map(|p| {
                    p.trim_end_matches(|c: char| c.is_ascii_digit() || matches!(c, '[' | ']'))
                });
                let table = parts.next().filter(|t| TABLES.contains(t)).unwrap_or("?");
                let key = match parts.next() {
                    None => table.to_owned(),
                    Some(f) if FIELDS.contains(&f) => format!("{table}.{f}"),
                    Some(_) => format!("{table}.?"),
                };
                Ok(format!("invalid:{key}"))
            }
            Err(e) => Ok(format!("err:{}", variant(&format!("{e:?}")))),
        }
    }
}

// ---------------------------------------------------------------------------
// .npy reader
// ---------------------------------------------------------------------------

/// `hls_rust::tlmm::npy::NpyArray::from_bytes`.
pub struct Npy;

const DESCRS: &[&str] = &[
    "<i1", "|i1", "|u1", "<u1", "<i2", ">i2", "<i4", ">i4", "<i8", "<f4", ">f4", "<f8", "<f2",
    "|b1", "<c8", "O", "<U3", "|S4", "", "<i16", "i4",
];
const SHAPES: &[&str] = &[
    "()",
    "(0,)",
    "(1,)",
    "(3,)",
    "(2, 3)",
    "(3, 4)",
    "(2, 3, 2, 2)",
    "(1, 1, 1, 1, 1, 1, 1, 1, 1)",
    "(2147483648,)",
    "(4294967296, 4294967296)",
    "(18446744073709551615, 2)",
    "(9223372036854775807,)",
    "(-1,)",
    "(3, -4)",
    "[3, 4]",
    "(3 4)",
    "(",
    "(1,,)",
];
const FORTRAN: &[&str] = &["False", "True", "0", "None", "false"];

impl Target for Npy {
    fn name(&self) -> &'static str {
        "npy"
    }

    fn max_len(&self) -> usize {
        4096
    }

    fn mutate(&self, rng: &mut Rng, data: &mut Vec<u8>) -> bool {
        match rng.below(3) {
            // A new header in front of the old data.
            0 | 1 => {
                let v2 = data.get(6).is_some_and(|&v| v >= 2);
                let prefix = if v2 { 12 } else { 10 };
                let old_len = if v2 {
                    data.get(8..12)
                        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                } else {
                    data.get(8..10)
                        .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
                };
                let body = old_len
                    .and_then(|l| data.get(prefix + l..))
                    .unwrap_or(&[])
                    .to_vec();
                let descr = DESCRS[pick(rng, DESCRS.len())];
                let shape = SHAPES[pick(rng, SHAPES.len())];
                let fortran = FORTRAN[pick(rng, FORTRAN.len())];
                let mut h = match rng.below(4) {
                    0 => format!(
                        "{{'shape': {shape}, 'fortran_order': {fortran}, 'descr': '{descr}'}}"
                    ),
                    1 => format!(
                        "{{\"descr\": \"{descr}\", \"fortran_order\": {fortran}, \"shape\": {shape}}}"
                    ),
                    2 => format!("{{'descr': '{descr}', 'shape': {shape}, }}"),
                    _ => format!(
                        "{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}"
                    ),
                };
                let versions = if one_in(rng, 8) { 5 } else { 3 };
                let v = [1u8, 2, 3, 0, 4][pick(rng, versions)];
                let prefix = if v >= 2 { 12 } else { 10 };
                while (prefix + h.len() + 1) % 64 != 0 && !one_in(rng, 50) {
                    h.push(' ');
                }
                h.push('\n');
                let mut out = b"\x93NUMPY".to_vec();
                out.extend([v, 0]);
                if v >= 2 {
                    out.extend((h.len() as u32).to_le_bytes());
                } else {
                    out.extend((h.len() as u16).to_le_bytes());
                }
                out.extend_from_slice(h.as_bytes());
                out.extend(body);
                *data = out;
            }
            // The header length field set to a boundary.
            _ => {
                if data.len() < 12 {
                    return false;
                }
                let v = [0u32, 1, 0x7fff, 0xffff, 0xffff_ffff][pick(rng, 5)];
                if data[6] >= 2 {
                    data[8..12].copy_from_slice(&v.to_le_bytes());
                } else {
                    data[8..10].copy_from_slice(&(v as u16).to_le_bytes());
                }
            }
        }
        true
    }

    fn run(&self, data: &[u8]) -> Result<String, String> {
        match NpyArray::from_bytes(data) {
            Ok(a) => {
                let bytes = a.to_bytes();
                let again = NpyArray::from_bytes(&bytes)
                    .map_err(|e| format!("to_bytes of an accepted array is rejected: {e}"))?;
                if again.to_bytes() != bytes || again.shape() != a.shape() {
                    return Err(format!("round trip changed the array {:?}", a.shape()));
                }
                Ok(format!(
                    "ok:{}:{}d",
                    a.data().type_name(),
                    a.shape().len().min(4)
                ))
            }
            Err(e) => Ok(format!("err:{}", variant(&format!("{e:?}")))),
        }
    }
}

// ---------------------------------------------------------------------------
// Conv descriptor decoder
// ---------------------------------------------------------------------------

/// `hls_rust::conv::desc::Descriptor::decode` on the input read as
/// little-endian words (a partial last word is dropped).
pub struct ConvDescriptor;

/// Fields of the encoding: word, shift, width.
const DESC_FIELDS: &[(usize, u32, u32)] = &[
    (0, 0, 4),
    (0, 4, 1),
    (0, 5, 1),
    (0, 6, 1),
    (0, 8, 4),
    (0, 12, 4),
    (0, 24, 8),
    (1, 0, 16),
    (1, 16, 16),
    (2, 0, 16),
    (2, 16, 16),
    (3, 0, 16),
    (3, 16, 16),
    (4, 0, 16),
    (4, 16, 16),
    (5, 0, 32),
    (6, 0, 32),
    (7, 0, 32),
    (8, 0, 32),
    (9, 0, 32),
    (10, 0, 6),
    (10, 8, 6),
    (10, 16, 6),
    (11, 0, 15),
];

fn words_of(data: &[u8]) -> Vec<u32> {
    data.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

impl Target for ConvDescriptor {
    fn name(&self) -> &'static str {
        "desc"
    }

    fn max_len(&self) -> usize {
        4 * DESC_WORDS + 8
    }

    fn mutate(&self, rng: &mut Rng, data: &mut Vec<u8>) -> bool {
        if data.len() < 4 * DESC_WORDS {
            return false;
        }
        let mut w = words_of(data);
        if one_in(rng, 8) {
            // A reserved bit.
            let i = pick(rng, DESC_WORDS);
            w[i] |= 1 << rng.below(32);
        } else {
            let (i, shift, width) = DESC_FIELDS[pick(rng, DESC_FIELDS.len())];
            let max = if width == 32 {
                u32::MAX
            } else {
                (1 << width) - 1
            };
            let v = match rng.below(8) {
                0 => 0,
                1 => 1,
                2 => max,
                3 => max - 1,
                4 => 1 + rng.below(16) as u32,
                5 => (rng.next_u64() as u32) & max,
                6 => 3.min(max),
                _ => (w[i] >> shift & max).wrapping_add(1) & max,
            };
            w[i] = (w[i] & !(max << shift)) | v << shift;
        }
        *data = w.iter().flat_map(|x| x.to_le_bytes()).collect();
        true
    }

    fn fixup(&self, rng: &mut Rng, data: &mut Vec<u8>) {
        if data.len() != 4 * DESC_WORDS && !one_in(rng, 10) {
            data.resize(4 * DESC_WORDS, 0);
        }
    }

    fn run(&self, data: &[u8]) -> Result<String, String> {
        let words = words_of(data);
        match Descriptor::decode(&words) {
            Ok(d) => match d.encode() {
                Ok(enc) if enc[..] == words[..] => Ok(format!("ok:{}", d.op)),
                Ok(enc) => Err(format!(
                    "decode then encode differs: {words:08x?} -> {enc:08x?}"
                )),
                Err(e) => Err(format!("a decoded descriptor does not encode: {e}")),
            },
            Err(e) => {
                let debug = format!("{e:?}");
                Ok(match e {
                    hls_rust::conv::desc::DescError::Field { field, .. } => {
                        format!("err:Field:{field}")
                    }
                    _ => format!("err:{}", variant(&debug)),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_names() {
        assert_eq!(variant("Truncated { what: 1 }"), "Truncated");
        assert_eq!(variant("Header(\"x\")"), "Header");
        assert_eq!(variant("Length"), "Length");
    }

    #[test]
    fn board_path_follows_the_name_field() {
        assert_eq!(
            BoardFile::path_for("[board]\nname = \"ulx3s\"\n"),
            "ulx3s.toml"
        );
        assert_eq!(BoardFile::path_for("name = \"../x\""), "fuzz.toml");
        assert_eq!(BoardFile::path_for(""), "fuzz.toml");
    }

    #[test]
    fn fixed_crc_makes_a_mutated_frame_pass() {
        let mut f = Frame {
            seq: 1,
            code: 2,
            payload: vec![1, 2, 3],
        }
        .encode();
        f[6] ^= 0x40;
        fix_crc(&mut f, 0);
        let mut d = Decoder::default();
        let got: Vec<_> = f.iter().filter_map(|&b| d.push(b)).collect();
        assert!(matches!(got[..], [Ok(_)]), "{got:?}");
    }
}
