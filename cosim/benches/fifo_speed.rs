//! Co-simulation speed: each Verilated model driven cycle by cycle from Rust
//! (through cxx) against the same model driven from a pure C++ loop, same
//! stimulus, same power-up seed, outputs checksummed in both (they must
//! agree); then, as a peer, the same engines under cocotb 1.9 on the same
//! stimulus (`cosim/cocotb/`). Prints M cycles/s and ratios and writes
//! `target/bench/cosim_speed.json`.
//!
//! - `fifo`: the 32x16 FIFO, random valid/ready.
//! - `tlmm`: the TLMM output-stationary engine, build 0 (G3/T3/P4), whole
//!   jobs back to back, every stream gated at random (`speed/tlmm.rs`).
//! - `conv`: the conv engine, build 0 (T2/P1), the FP, BP and WU
//!   descriptors of a small layer behind a memory with latency and stalls
//!   (`speed/conv.rs`).
//! - `soc`: the iCEBreaker SoC twin at its pins, the UART frames of a TLMM
//!   session (`speed/soc.rs`).
//!
//! ```text
//! cargo bench -p hlsk-cosim --bench fifo_speed
//! HLSK_BENCH_ENGINES=tlmm,conv HLSK_BENCH_COCOTB=0 cargo bench -p hlsk-cosim --bench fifo_speed
//! ```
//!
//! `HLSK_BENCH_CYCLES` scales every engine's cycle count (1.0 = the
//! defaults below); `HLSK_BENCH_COCOTB=0` skips the cocotb peer, which
//! otherwise runs when `.venv/bin/cocotb-config` exists (`make bench`
//! installs it).

#[path = "speed/cocotb.rs"]
mod cocotb;
#[path = "speed/common.rs"]
mod common;
#[path = "speed/conv.rs"]
mod conv;
#[path = "speed/soc.rs"]
mod soc;
#[path = "speed/tlmm.rs"]
mod tlmm;

use common::{Row, SEED, compare, fail};
use hlsk_cosim::configs::FIFO_CONFIGS;
use hlsk_cosim::{Fifo, FifoPins, StreamStepIn, fifo_checksum, fifo_cpp_run};
use std::fmt::Write as _;

/// Default cycles per timed run, per engine.
const FIFO_CYCLES: u64 = 4_000_000;
const TLMM_CYCLES: u64 = 1_000_000;
const CONV_CYCLES: u64 = 1_000_000;
const SOC_CYCLES: u64 = 2_000_000;

/// The FIFO's stimulus: random data, valid and ready 70 % of cycles.
fn fifo_stimulus() -> Vec<StreamStepIn> {
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..4096)
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

fn fifo_rust_run(config: usize, stim: &[StreamStepIn], cycles: u64) -> u64 {
    let mut dut = Fifo::new(config, SEED).unwrap_or_else(|e| fail(&format!("FIFO build: {e}")));
    dut.reset();
    let mut sum = 0u64;
    let mut k = 0;
    for _ in 0..cycles {
        let p: FifoPins = dut.step_raw(&stim[k]);
        k = if k + 1 == stim.len() { 0 } else { k + 1 };
        sum = fifo_checksum(sum, &p);
    }
    sum
}

fn fifo_row(cycles: u64) -> Row {
    let config = FIFO_CONFIGS
        .iter()
        .position(|c| c.width == 32 && c.depth == 16)
        .unwrap_or_else(|| fail("no 32x16 FIFO build"));
    let stim = fifo_stimulus();
    let mut row = compare(
        "fifo",
        "hlsk_fifo_sync 32x16, valid/ready 70 %".to_owned(),
        cycles,
        || fifo_cpp_run(config, SEED, &stim, cycles).unwrap_or_else(|e| fail(&e.to_string())),
        || fifo_rust_run(config, &stim, cycles),
    );
    row.activity = "a FIFO under random valid/ready".to_owned();
    row
}

fn tlmm_row(cycles: u64, cocotb_on: bool) -> Row {
    let stim = tlmm::stimulus();
    let c = tlmm::config();
    let mut row = compare(
        "tlmm",
        format!(
            "tlmm_os_engine build {} (G{}/T{}/P{}, KMax {})",
            tlmm::BUILD,
            c.g,
            c.t,
            c.p,
            c.k_max
        ),
        cycles,
        || {
            hlsk_cosim::tlmm_cpp_run(tlmm::BUILD, SEED, &stim, cycles)
                .unwrap_or_else(|e| fail(&e.to_string()))
        },
        || tlmm::rust_run(&stim, cycles, &mut tlmm::Activity::default()),
    );
    let mut act = tlmm::Activity::default();
    tlmm::rust_run(&stim, cycles, &mut act);
    row.activity = format!(
        "{} jobs finished, busy {:.0} % of cycles",
        act.jobs,
        100.0 * act.busy as f64 / cycles as f64
    );
    if cocotb_on {
        row.cocotb = Some(cocotb::run_tlmm(&stim));
    }
    row
}

fn conv_row(cycles: u64, cocotb_on: bool) -> Row {
    let stim = conv::stimulus();
    let c = conv::config();
    let mut row = compare(
        "conv",
        format!("conv_engine build {} (T{}/P{})", conv::BUILD, c.t, c.p),
        cycles,
        || {
            hlsk_cosim::conv_cpp_run(conv::BUILD, SEED, &stim, cycles)
                .unwrap_or_else(|e| fail(&e.to_string()))
        },
        || conv::rust_run(&stim, cycles, &mut conv::Activity::default()),
    );
    let mut act = conv::Activity::default();
    conv::rust_run(&stim, cycles, &mut act);
    if act.descs == 0 || act.errors > 0 {
        fail(&format!(
            "conv bench: {} descriptors finished, {} with an error: the stimulus is not a real job",
            act.descs, act.errors
        ));
    }
    row.activity = format!(
        "{} FP/BP/WU descriptors finished without error, busy {:.0} % of cycles",
        act.descs,
        100.0 * act.busy as f64 / cycles as f64
    );
    if cocotb_on {
        row.cocotb = Some(cocotb::run_conv(&stim));
    }
    row
}

fn soc_row(cycles: u64, cocotb_on: bool) -> Row {
    let rx = soc::stimulus(cycles as usize);
    let c = soc::config();
    let mut row = compare(
        "soc",
        format!(
            "hlsk_soc_top build {} ({}: G{}/T{}/P{}), UART at {} clocks per bit",
            soc::BUILD,
            c.name(),
            c.g,
            c.t,
            c.p,
            hlsk_cosim::SocConfig::TWIN_CLKS_PER_BIT
        ),
        cycles,
        || hlsk_cosim::soc_cpp_run(soc::BUILD, SEED, &rx).unwrap_or_else(|e| fail(&e.to_string())),
        || soc::rust_run(&rx, None),
    );
    let mut tx = Vec::with_capacity(rx.len());
    soc::rust_run(&rx, Some(&mut tx));
    row.activity = soc::check_replies(&tx).unwrap_or_else(|e| fail(&format!("SoC bench: {e}")));
    if cocotb_on {
        row.cocotb = Some(cocotb::run_soc(&rx));
    }
    row
}

fn main() {
    let scale: f64 = std::env::var("HLSK_BENCH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    let engines = std::env::var("HLSK_BENCH_ENGINES").unwrap_or("fifo,tlmm,conv,soc".to_owned());
    let cocotb_on = std::env::var("HLSK_BENCH_COCOTB").map_or(true, |v| v != "0");
    let cocotb_on = cocotb_on && cocotb::available();
    let n = |c: u64| ((c as f64 * scale) as u64).max(1000);
    println!(
        "cosim speed: best of {} runs each (C++ and Rust taking turns), {}, power-up seed {SEED}",
        common::RUNS,
        hlsk_cosim::VERILATOR_VERSION
    );
    let mut rows = Vec::new();
    for e in engines.split(',') {
        let row = match e.trim() {
            "fifo" => fifo_row(n(FIFO_CYCLES)),
            "tlmm" => tlmm_row(n(TLMM_CYCLES), cocotb_on),
            "conv" => conv_row(n(CONV_CYCLES), cocotb_on),
            "soc" => soc_row(n(SOC_CYCLES), cocotb_on),
            other => fail(&format!("unknown engine {other:?} (fifo, tlmm, conv, soc)")),
        };
        println!(
            "  {:5} {:>10} cycles  C++ {:7.2}  Rust {:7.2} M cycles/s  {:6.1} %  checksum {:#018x} in both",
            row.engine,
            row.cycles,
            row.cpp,
            row.rust,
            100.0 * row.ratio(),
            row.checksum
        );
        println!("        {}; {}", row.detail, row.activity);
        rows.push(row);
    }
    print_table(&rows, cocotb_on);
    write_json(&rows);
}

fn cocotb_cell(row: &Row) -> String {
    match &row.cocotb {
        None => "-".to_owned(),
        Some(Err(e)) => format!("failed: {e}"),
        Some(Ok(f)) => format!(
            "{:.4} ({} cycles, checksum {})",
            f.mcps,
            f.cycles,
            if f.checksum_agrees {
                "agrees"
            } else {
                "DIFFERS"
            }
        ),
    }
}

fn print_table(rows: &[Row], cocotb_on: bool) {
    println!();
    println!("| engine | C++ M cycles/s | Rust M cycles/s | Rust / C++ | cocotb M cycles/s |");
    println!("|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {:.2} | {:.2} | {:.1} % | {} |",
            r.engine,
            r.cpp,
            r.rust,
            100.0 * r.ratio(),
            cocotb_cell(r)
        );
    }
    if !cocotb_on {
        println!("(cocotb peer not run: HLSK_BENCH_COCOTB=0 or no .venv/bin/cocotb-config)");
    }
    let slow: Vec<&str> = rows
        .iter()
        .filter(|r| r.ratio() < 0.9)
        .map(|r| r.engine)
        .collect();
    if !slow.is_empty() {
        println!("below the 90 % target: {}", slow.join(", "));
    }
}

fn write_json(rows: &[Row]) {
    let mut s = String::new();
    let _ = write!(
        s,
        "{{\n  \"bench\": \"cosim_speed\",\n  \"verilator\": \"{}\",\n  \"trace_compiled_in\": {},\n  \"engines\": [",
        hlsk_cosim::VERILATOR_VERSION,
        hlsk_cosim::TRACE_ENABLED
    );
    for (i, r) in rows.iter().enumerate() {
        let cocotb = match &r.cocotb {
            None => "null".to_owned(),
            Some(Err(e)) => format!("{{\"error\": {:?}}}", e),
            Some(Ok(f)) => format!(
                "{{\"cycles\": {}, \"mcycles_per_s\": {:.5}, \"checksum_agrees\": {}}}",
                f.cycles, f.mcps, f.checksum_agrees
            ),
        };
        let _ = write!(
            s,
            "{}\n    {{\"engine\": \"{}\", \"detail\": {:?}, \"cycles\": {}, \"cpp_mcycles_per_s\": {:.3}, \"rust_mcycles_per_s\": {:.3}, \"ratio\": {:.4}, \"checksum\": \"{:#018x}\", \"activity\": {:?}, \"cocotb\": {}}}",
            if i == 0 { "" } else { "," },
            r.engine,
            r.detail,
            r.cycles,
            r.cpp,
            r.rust,
            r.ratio(),
            r.checksum,
            r.activity,
            cocotb
        );
    }
    s.push_str("\n  ]\n}\n");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    match std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(dir.join("cosim_speed.json"), s))
    {
        Ok(()) => println!("wrote target/bench/cosim_speed.json"),
        Err(e) => eprintln!("warning: could not write {}: {e}", dir.display()),
    }
}
