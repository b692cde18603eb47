//! `.npy` files: this crate's reader and writer (`hls_rust::tlmm::npy`)
//! against the maintained crates `npyz` and `ndarray-npy`.
//!
//!     cargo bench -p hls-rust --bench npy --features npy-compare
//!
//! Prints three tables and writes `target/bench/npy.json`:
//! - features: which NumPy-written variants each library reads (dtypes,
//!   byte order, Fortran order, header versions, 0-d and empty arrays), each
//!   checked against the values the file holds;
//! - speed: MB/s (10^6 bytes of array data per second, best of 5) reading
//!   and writing a 64 MiB `f32` and a 16 MiB `i8` array, from and to memory
//!   and files (in the OS temp directory, so mostly the page cache);
//! - errors: each library's message for the same broken files.

use hls_rust::tlmm::npy::{self, NpyArray, NpyData};
use ndarray::{ArrayD, ArrayView1};
use ndarray_npy::{ReadNpyExt, WriteNpyExt};
use npyz::WriterBuilder;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A `.npy` file with the given header dictionary, format version and data.
fn npy_file(dict: &str, version: u8, data: &[u8]) -> Vec<u8> {
    let prefix = if version == 1 { 10 } else { 12 };
    let mut header = dict.to_owned();
    while !(prefix + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut v = b"\x93NUMPY".to_vec();
    v.extend([version, 0]);
    if version == 1 {
        v.extend((header.len() as u16).to_le_bytes());
    } else {
        v.extend((header.len() as u32).to_le_bytes());
    }
    v.extend(header.as_bytes());
    v.extend(data);
    v
}

fn dict(descr: &str, fortran: bool, shape: &str) -> String {
    let f = if fortran { "True" } else { "False" };
    format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {shape}, }}")
}

/// An element type all three libraries are asked to read as.
trait Elem: npyz::Deserialize + ndarray_npy::ReadableElement + Copy {
    fn to_f64(self) -> f64;
}

macro_rules! elem {
    ($($t:ty),*) => {$(
        impl Elem for $t {
            fn to_f64(self) -> f64 {
                self as f64
            }
        }
    )*};
}
elem!(i8, u8, i16, i32, i64, f32, f64);

/// What one library made of a file: C-order values, or a note.
type Outcome = Result<Vec<f64>, String>;

fn ours(bytes: &[u8]) -> Outcome {
    let a = NpyArray::from_bytes(bytes).map_err(|e| e.to_string())?;
    Ok(match a.data() {
        NpyData::I8(v) => v.iter().map(|&x| f64::from(x)).collect(),
        NpyData::U8(v) => v.iter().map(|&x| f64::from(x)).collect(),
        NpyData::I16(v) => v.iter().map(|&x| f64::from(x)).collect(),
        NpyData::I32(v) => v.iter().map(|&x| f64::from(x)).collect(),
        NpyData::I64(v) => v.iter().map(|&x| x as f64).collect(),
        NpyData::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
        NpyData::F64(v) => v.clone(),
    })
}

/// npyz hands out the elements in file order with an order flag; a
/// Fortran-order result is marked so.
fn npyz_read<T: Elem>(bytes: &[u8]) -> Outcome {
    let f = npyz::NpyFile::new(bytes).map_err(|e| e.to_string())?;
    let fortran = f.order() == npyz::Order::Fortran;
    let v: Vec<T> = f.into_vec().map_err(|e| e.to_string())?;
    let v = v.into_iter().map(Elem::to_f64).collect();
    if fortran {
        Err(format!("FILE ORDER {v:?}"))
    } else {
        Ok(v)
    }
}

fn ndarray_read<T: Elem>(bytes: &[u8]) -> Outcome {
    let a = ArrayD::<T>::read_npy(bytes).map_err(|e| e.to_string())?;
    Ok(a.iter().map(|&x| x.to_f64()).collect())
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    want: Vec<f64>,
    npyz: Outcome,
    ndarray: Outcome,
}

fn case<T: Elem>(name: &'static str, bytes: Vec<u8>, want: &[f64]) -> Case {
    Case {
        name,
        npyz: npyz_read::<T>(&bytes),
        ndarray: ndarray_read::<T>(&bytes),
        bytes,
        want: want.to_vec(),
    }
}

fn features() -> Vec<(String, [String; 3])> {
    let six = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let le = |f: fn(f64) -> Vec<u8>| six.iter().flat_map(|&v| f(v)).collect::<Vec<u8>>();
    let f4 = |fortran, version, shape: &str, vals: &[f64]| {
        let data: Vec<u8> = vals
            .iter()
            .flat_map(|&v| (v as f32).to_le_bytes())
            .collect();
        npy_file(&dict("<f4", fortran, shape), version, &data)
    };
    let cases = vec![
        case::<i8>(
            "i8 '|i1'",
            npy_file(
                &dict("|i1", false, "(2, 3)"),
                1,
                &le(|v| vec![v as i8 as u8]),
            ),
            &six,
        ),
        case::<u8>(
            "u8 '|u1'",
            npy_file(&dict("|u1", false, "(2, 3)"), 1, &le(|v| vec![v as u8])),
            &six,
        ),
        case::<i16>(
            "i16 '<i2'",
            npy_file(
                &dict("<i2", false, "(2, 3)"),
                1,
                &le(|v| (v as i16).to_le_bytes().to_vec()),
            ),
            &six,
        ),
        case::<i32>(
            "i32 '<i4'",
            npy_file(
                &dict("<i4", false, "(2, 3)"),
                1,
                &le(|v| (v as i32).to_le_bytes().to_vec()),
            ),
            &six,
        ),
        case::<i64>(
            "i64 '<i8'",
            npy_file(
                &dict("<i8", false, "(2, 3)"),
                1,
                &le(|v| (v as i64).to_le_bytes().to_vec()),
            ),
            &six,
        ),
        case::<f32>("f32 '<f4'", f4(false, 1, "(2, 3)", &six), &six),
        case::<f64>(
            "f64 '<f8'",
            npy_file(
                &dict("<f8", false, "(2, 3)"),
                1,
                &le(|v| v.to_le_bytes().to_vec()),
            ),
            &six,
        ),
        case::<f32>(
            "big-endian f32 '>f4'",
            npy_file(
                &dict(">f4", false, "(2, 3)"),
                1,
                &le(|v| (v as f32).to_be_bytes().to_vec()),
            ),
            &six,
        ),
        case::<f32>(
            "Fortran order (2, 3)",
            f4(true, 1, "(2, 3)", &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]),
            &six,
        ),
        case::<f32>("header version 2.0", f4(false, 2, "(2, 3)", &six), &six),
        case::<f32>("header version 3.0", f4(false, 3, "(2, 3)", &six), &six),
        case::<f32>("0-d, shape ()", f4(false, 1, "()", &[7.0]), &[7.0]),
        case::<f32>("empty, shape (0,)", f4(false, 1, "(0,)", &[]), &[]),
        case::<f32>(
            "empty, shape (3, 0, 2)",
            f4(false, 1, "(3, 0, 2)", &[]),
            &[],
        ),
    ];
    let verdict = |o: &Outcome, want: &[f64]| match o {
        Ok(v) if v == want => "yes".to_owned(),
        Ok(v) => format!("WRONG VALUES {v:?}"),
        Err(e) if e.starts_with("FILE ORDER") => "file order + Order::Fortran".to_owned(),
        Err(e) => format!("no: {}", first_line(e)),
    };
    cases
        .iter()
        .map(|c| {
            (
                c.name.to_owned(),
                [
                    verdict(&ours(&c.bytes), &c.want),
                    verdict(&c.npyz, &c.want),
                    verdict(&c.ndarray, &c.want),
                ],
            )
        })
        .collect()
}

fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or_default();
    if line.chars().count() > 70 {
        format!("{}...", line.chars().take(67).collect::<String>())
    } else {
        line.to_owned()
    }
}

/// Best of `runs` timings of `f`, in seconds.
fn best<R>(runs: usize, mut f: impl FnMut() -> R) -> f64 {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

const RUNS: usize = 5;

/// The four speeds (read memory, write memory, write file, read file) of
/// one library on one array.
struct Speeds {
    library: &'static str,
    array: &'static str,
    mb_s: [f64; 4],
}

macro_rules! speeds {
    ($t:ty, $variant:ident, $read_typed:path, $label:expr, $n:expr, $gen:expr, $dir:expr) => {{
        let data: Vec<$t> = (0..$n).map($gen).collect();
        let mb = ($n * std::mem::size_of::<$t>()) as f64 / 1e6;
        let path = |lib: &str| $dir.join(format!("{lib}-{}.npy", $label.replace(' ', "-")));
        let mut out = Vec::new();

        // This crate: the whole file as one buffer.
        let arr = NpyArray::new(vec![$n], NpyData::$variant(data.clone())).unwrap();
        let bytes = arr.to_bytes();
        let p = path("ours");
        let t = [
            best(RUNS, || NpyArray::from_bytes(&bytes).unwrap()),
            best(RUNS, || arr.to_bytes()),
            best(RUNS, || arr.write(&p).unwrap()),
            best(RUNS, || $read_typed(&p).unwrap()),
        ];
        assert_eq!($read_typed(&p).unwrap().1, data);
        out.push(Speeds {
            library: "hls_rust::tlmm::npy",
            array: $label,
            mb_s: t.map(|s| mb / s),
        });

        // npyz: streaming element by element through io::Read / io::Write.
        let npyz_write = |w: &mut dyn std::io::Write| {
            let mut wr = npyz::WriteOptions::<$t>::new()
                .default_dtype()
                .shape(&[$n as u64])
                .writer(w)
                .begin_nd()
                .unwrap();
            wr.extend(data.iter().copied()).unwrap();
            wr.finish().unwrap();
        };
        let p = path("npyz");
        let t = [
            best(RUNS, || {
                npyz::NpyFile::new(&bytes[..])
                    .unwrap()
                    .into_vec::<$t>()
                    .unwrap()
            }),
            best(RUNS, || {
                let mut v = Vec::new();
                npyz_write(&mut v);
                v
            }),
            best(RUNS, || {
                npyz_write(&mut BufWriter::new(File::create(&p).unwrap()))
            }),
            best(RUNS, || {
                let f = BufReader::new(File::open(&p).unwrap());
                npyz::NpyFile::new(f).unwrap().into_vec::<$t>().unwrap()
            }),
        ];
        // Each library reads what the others wrote.
        assert_eq!($read_typed(&p).unwrap().1, data);
        out.push(Speeds {
            library: "npyz 0.9",
            array: $label,
            mb_s: t.map(|s| mb / s),
        });

        // ndarray-npy: whole arrays through io::Read / io::Write.
        let view = ArrayView1::from(&data[..]);
        let p = path("ndarray");
        let t = [
            best(RUNS, || {
                ndarray::Array1::<$t>::read_npy(&bytes[..]).unwrap()
            }),
            best(RUNS, || {
                let mut v = Vec::new();
                view.write_npy(&mut v).unwrap();
                v
            }),
            best(RUNS, || ndarray_npy::write_npy(&p, &view).unwrap()),
            best(RUNS, || {
                ndarray_npy::read_npy::<_, ndarray::Array1<$t>>(&p).unwrap()
            }),
        ];
        assert_eq!($read_typed(&p).unwrap().1, data);
        let from_ours: ndarray::Array1<$t> = ndarray_npy::read_npy(path("ours")).unwrap();
        assert_eq!(from_ours.as_slice().unwrap(), &data[..]);
        out.push(Speeds {
            library: "ndarray-npy 0.10",
            array: $label,
            mb_s: t.map(|s| mb / s),
        });
        for lib in ["ours", "npyz", "ndarray"] {
            let _ = std::fs::remove_file(path(lib));
        }
        out
    }};
}

/// The broken files of the error table, each as bytes and as a path.
fn broken_files(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let f32s: Vec<u8> = (0..6).flat_map(|i| (i as f32).to_le_bytes()).collect();
    let good = npy_file(&dict("<f4", false, "(2, 3)"), 1, &f32s);
    let mut bad_magic = good.clone();
    bad_magic[5] = b'X';
    let mut v4 = good.clone();
    v4[6] = 4;
    let mut trailing = good.clone();
    trailing.extend([0; 3]);
    let i32s: Vec<u8> = (0..6i32).flat_map(i32::to_le_bytes).collect();
    let cases: Vec<(&'static str, Vec<u8>)> = vec![
        ("data cut short", good[..good.len() - 5].to_vec()),
        ("header cut short", good[..30].to_vec()),
        ("bad magic", bad_magic),
        ("version 4.0", v4),
        (
            "header syntax",
            npy_file(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3) ",
                1,
                &f32s,
            ),
        ),
        (
            "header without 'shape'",
            npy_file("{'descr': '<f4', 'fortran_order': False, }", 1, &f32s),
        ),
        (
            "Fortran order",
            npy_file(&dict("<f4", true, "(2, 3)"), 1, &f32s),
        ),
        (
            "i4 file read as f32",
            npy_file(&dict("<i4", false, "(2, 3)"), 1, &i32s),
        ),
        ("3 bytes after the data", trailing),
    ];
    let mut out: Vec<(&'static str, PathBuf)> = cases
        .into_iter()
        .enumerate()
        .map(|(i, (name, bytes))| {
            let p = dir.join(format!("broken-{i}.npy"));
            std::fs::write(&p, bytes).unwrap();
            (name, p)
        })
        .collect();
    out.push(("missing file", dir.join("no-such-file.npy")));
    out
}

fn errors(dir: &Path) -> Vec<(String, [String; 3])> {
    let show = |r: Result<String, String>| match r {
        Ok(s) => format!("(no error: {s})"),
        Err(e) => e,
    };
    broken_files(dir)
        .into_iter()
        .map(|(name, p)| {
            let ours = npy::read_f32(&p)
                .map(|(shape, v)| format!("shape {shape:?}, {v:?}"))
                .map_err(|e| e.to_string());
            let npyz = File::open(&p)
                .and_then(|f| {
                    let f = npyz::NpyFile::new(BufReader::new(f))?;
                    let (shape, order) = (f.shape().to_vec(), f.order());
                    let v: Vec<f32> = f.into_vec()?;
                    Ok(format!("shape {shape:?}, {order:?}, {v:?}"))
                })
                .map_err(|e| e.to_string());
            let nd = ndarray_npy::read_npy::<_, ArrayD<f32>>(&p)
                .map(|a| format!("{:?}", a.iter().collect::<Vec<_>>()))
                .map_err(|e| e.to_string());
            let _ = std::fs::remove_file(&p);
            (name.to_owned(), [show(ours), show(npyz), show(nd)])
        })
        .collect()
}

fn json_str(s: &str) -> String {
    let mut o = String::from('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c if (c as u32) < 0x20 => write!(o, "\\u{:04x}", c as u32).unwrap(),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

const LIBS: [&str; 3] = ["hls_rust::tlmm::npy", "npyz 0.9", "ndarray-npy 0.10"];

fn print_table(title: &str, rows: &[(String, [String; 3])]) {
    println!("\n{title}");
    for (name, cells) in rows {
        println!("  {name}");
        for (lib, cell) in LIBS.iter().zip(cells) {
            println!("    {lib:<20} {cell}");
        }
    }
}

fn main() {
    let dir = std::env::temp_dir().join(format!("hlsk-npy-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let features = features();
    print_table(
        "Reading NumPy's variants (yes = the values the file holds)",
        &features,
    );

    let errors = errors(&dir);
    print_table("Errors (each library asked for f32)", &errors);

    let n = 1usize << 24;
    let mut speeds = speeds!(
        f32,
        F32,
        npy::read_f32,
        "f32 64 MiB",
        n,
        |i| { (i as f32 * 0.37).sin() },
        dir
    );
    speeds.extend(speeds!(
        i8,
        I8,
        npy::read_i8,
        "i8 16 MiB",
        n,
        |i| { (i % 3) as i8 - 1 },
        dir
    ));
    println!("\nSpeed, MB/s (10^6 bytes of array data per second, best of {RUNS})");
    println!(
        "  {:<20} {:<11} {:>11} {:>11} {:>11} {:>11}",
        "library", "array", "read mem", "write mem", "write file", "read file"
    );
    for s in &speeds {
        println!(
            "  {:<20} {:<11} {:>11.0} {:>11.0} {:>11.0} {:>11.0}",
            s.library, s.array, s.mb_s[0], s.mb_s[1], s.mb_s[2], s.mb_s[3]
        );
    }
    let _ = std::fs::remove_dir_all(&dir);

    let table = |rows: &[(String, [String; 3])]| {
        rows.iter()
            .map(|(name, cells)| {
                let cells: Vec<String> = LIBS
                    .iter()
                    .zip(cells)
                    .map(|(l, c)| format!("{}: {}", json_str(l), json_str(c)))
                    .collect();
                format!("{}: {{{}}}", json_str(name), cells.join(", "))
            })
            .collect::<Vec<_>>()
            .join(",\n    ")
    };
    let speed_rows: Vec<String> = speeds
        .iter()
        .map(|s| {
            format!(
                "{{\"library\": {}, \"array\": {}, \"read_mem_mb_s\": {:.0}, \"write_mem_mb_s\": {:.0}, \"write_file_mb_s\": {:.0}, \"read_file_mb_s\": {:.0}}}",
                json_str(s.library),
                json_str(s.array),
                s.mb_s[0],
                s.mb_s[1],
                s.mb_s[2],
                s.mb_s[3]
            )
        })
        .collect();
    let json = format!(
        "{{\n  \"features\": {{\n    {}\n  }},\n  \"errors\": {{\n    {}\n  }},\n  \"speed\": [\n    {}\n  ]\n}}\n",
        table(&features),
        table(&errors),
        speed_rows.join(",\n    ")
    );
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    match std::fs::create_dir_all(&out).and_then(|_| std::fs::write(out.join("npy.json"), json)) {
        Ok(()) => println!("\nwrote target/bench/npy.json"),
        Err(e) => eprintln!("\ncould not write target/bench/npy.json: {e}"),
    }
}
