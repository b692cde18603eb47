//! Co-simulation speed: the Verilated FIFO driven cycle by cycle from Rust
//! (through cxx) against the same model driven from a pure C++ loop, same
//! stimulus, same power-up seed. Prints both rates and their ratio and writes
//! `target/bench/cosim_speed.json`.
//!
//!     cargo bench -p hlsk-cosim --bench fifo_speed            (4 M cycles)
//!     HLSK_BENCH_CYCLES=10000000 cargo bench -p hlsk-cosim --bench fifo_speed

use hlsk_cosim::configs::FIFO_CONFIGS;
use hlsk_cosim::{Fifo, StreamStepIn, fifo_checksum, fifo_cpp_run};
use std::hint::black_box;
use std::time::Instant;

const STIM_LEN: usize = 4096;
const SEED: u32 = 1;
const RUNS: usize = 5;

fn stimulus() -> Vec<StreamStepIn> {
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..STIM_LEN)
        .map(|_| {
            let r = next();
            StreamStepIn {
                in_valid: r % 10 < 7,
                in_data: next(),
                out_ready: (r >> 8) % 10 < 7,
            }
        })
        .collect()
}

fn rust_run(config: usize, stim: &[StreamStepIn], cycles: u64) -> u64 {
    let mut dut = Fifo::new(config, SEED).expect("FIFO build");
    dut.reset();
    let mut sum = 0u64;
    let mut k = 0;
    for _ in 0..cycles {
        let p = dut.step_raw(&stim[k]);
        k = if k + 1 == stim.len() { 0 } else { k + 1 };
        sum = fifo_checksum(sum, &p);
    }
    sum
}

/// Best of `RUNS` timings, in M cycles/s, and the checksum.
fn measure(cycles: u64, mut f: impl FnMut() -> u64) -> (f64, u64) {
    let mut best = f64::MAX;
    let mut sum = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        sum = black_box(f());
        best = best.min(t.elapsed().as_secs_f64());
    }
    (cycles as f64 / best / 1e6, sum)
}

fn main() {
    let cycles: u64 = std::env::var("HLSK_BENCH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4_000_000);
    let config = FIFO_CONFIGS
        .iter()
        .position(|c| c.width == 32 && c.depth == 16)
        .expect("a 32x16 FIFO build");
    let stim = stimulus();
    println!(
        "cosim speed: hlsk_fifo_sync Width=32 Depth=16, {cycles} cycles, best of {RUNS}, {}",
        hlsk_cosim::VERILATOR_VERSION
    );
    let (cpp, cpp_sum) = measure(cycles, || {
        fifo_cpp_run(config, SEED, &stim, cycles).expect("C++ harness")
    });
    let (rust, rust_sum) = measure(cycles, || rust_run(config, &stim, cycles));
    if cpp_sum != rust_sum {
        eprintln!(
            "error: checksums differ (C++ {cpp_sum:#x}, Rust {rust_sum:#x}): the harnesses did not simulate the same run"
        );
        std::process::exit(1);
    }
    let ratio = rust / cpp;
    println!("  C++ harness : {cpp:8.2} M cycles/s");
    println!("  Rust (cxx)  : {rust:8.2} M cycles/s");
    println!(
        "  Rust / C++  : {:8.1} %   (checksum {cpp_sum:#018x} in both)",
        ratio * 100.0
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    let json = format!(
        "{{\n  \"bench\": \"cosim_fifo_speed\",\n  \"verilator\": \"{}\",\n  \"cycles\": {cycles},\n  \"cpp_mcycles_per_s\": {cpp:.3},\n  \"rust_mcycles_per_s\": {rust:.3},\n  \"ratio\": {ratio:.4},\n  \"trace_compiled_in\": {}\n}}\n",
        hlsk_cosim::VERILATOR_VERSION,
        hlsk_cosim::TRACE_ENABLED
    );
    if let Err(e) = std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(dir.join("cosim_speed.json"), json))
    {
        eprintln!("warning: could not write {}: {e}", dir.display());
    } else {
        println!("  wrote target/bench/cosim_speed.json");
    }
}
