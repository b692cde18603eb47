//! What every engine's speed measurement shares: the checksum, the timing
//! loop, the per-cycle gates and the result row.

use hls_rust::rng::Rng;
use std::hint::black_box;
use std::time::Instant;

/// Power-up seed of every model in the benchmark.
pub const SEED: u32 = 1;
/// Timed runs per harness, taking turns; the best of each counts.
pub const RUNS: usize = 7;

/// One step of the order-dependent checksum; the same function as
/// `bench_mix` in `shim/bench_impl.h` and `mix` in `cocotb/speed_tb.py`.
#[inline]
pub fn mix(sum: u64, word: u64) -> u64 {
    (sum ^ word).wrapping_mul(0x100000001b3)
}

/// Times `cpp` and `rust`, [`RUNS`] times each and taking turns (so that
/// both see the same load on a shared machine), and returns the best rate of
/// each in M cycles/s for `cycles` cycles, with the checksum each returned
/// (the same in every run, or the harness is not deterministic and the
/// benchmark fails).
pub fn measure(
    what: &str,
    cycles: u64,
    mut cpp: impl FnMut() -> u64,
    mut rust: impl FnMut() -> u64,
) -> [(f64, u64); 2] {
    let mut best = [f64::MAX; 2];
    let mut sums: [Option<u64>; 2] = [None; 2];
    for _ in 0..RUNS {
        for (k, f) in [&mut cpp as &mut dyn FnMut() -> u64, &mut rust]
            .into_iter()
            .enumerate()
        {
            let t = Instant::now();
            let sum = black_box(f());
            best[k] = best[k].min(t.elapsed().as_secs_f64());
            if *sums[k].get_or_insert(sum) != sum {
                fail(&format!(
                    "{what}: two runs of the same stimulus gave different checksums"
                ));
            }
        }
    }
    [0, 1].map(|k| (cycles as f64 / best[k] / 1e6, sums[k].unwrap_or(0)))
}

/// `n` per-cycle gate bytes: bit `b` set with probability `pct[b]` percent.
pub fn gates(n: usize, pct: &[u8], seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            pct.iter().enumerate().fold(0u8, |g, (b, &p)| {
                g | (u8::from(rng.below(100) < u64::from(p)) << b)
            })
        })
        .collect()
}

/// Prints `msg` as an error and exits with status 1.
pub fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1);
}

/// The cocotb peer's figure for one engine.
#[derive(Debug, Clone)]
pub struct CocotbFigure {
    /// Cycles it ran (a prefix of the same stimulus).
    pub cycles: u64,
    /// M cycles/s of the driving loop.
    pub mcps: f64,
    /// Whether its checksum equals the Rust driver's over the same cycles.
    pub checksum_agrees: bool,
}

/// One engine's measurements.
#[derive(Debug, Clone)]
pub struct Row {
    /// Short name (`fifo`, `tlmm`, `conv`, `soc`).
    pub engine: &'static str,
    /// The build and stimulus, in a few words.
    pub detail: String,
    /// Cycles per timed run.
    pub cycles: u64,
    /// Pure C++ loop, M cycles/s.
    pub cpp: f64,
    /// Rust driver through cxx, M cycles/s.
    pub rust: f64,
    /// The checksum both harnesses computed.
    pub checksum: u64,
    /// What the stimulus made the engine do, for the reader.
    pub activity: String,
    /// The cocotb peer, if it ran.
    pub cocotb: Option<Result<CocotbFigure, String>>,
}

impl Row {
    /// Rust / C++.
    pub fn ratio(&self) -> f64 {
        self.rust / self.cpp
    }
}

/// Times the C++ and Rust harnesses of one engine, asserts their checksums
/// agree, and returns the row (without the cocotb figure).
pub fn compare(
    engine: &'static str,
    detail: String,
    cycles: u64,
    cpp: impl FnMut() -> u64,
    rust: impl FnMut() -> u64,
) -> Row {
    let [(cpp_mcps, cpp_sum), (rust_mcps, rust_sum)] = measure(engine, cycles, cpp, rust);
    if cpp_sum != rust_sum {
        fail(&format!(
            "{engine}: checksums differ (C++ {cpp_sum:#x}, Rust {rust_sum:#x}): the harnesses did not simulate the same run"
        ));
    }
    Row {
        engine,
        detail,
        cycles,
        cpp: cpp_mcps,
        rust: rust_mcps,
        checksum: cpp_sum,
        activity: String::new(),
        cocotb: None,
    }
}
