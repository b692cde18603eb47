//! Benchmark (figures, not a test): cycles of `conv_engine` on a few FP and
//! BP layers per build, measured in co-simulation with an ideal memory and
//! with latency and burst start-up cost, next to the analytical model's
//! prediction for the same tiling. Utilization = useful MACs / (T*T*cycles);
//! occupancy = fired / cycles. Every run is also checked bit for bit against
//! `run_descriptor`. Writes `target/bench/conv_cycles.json`.
//!
//! Run: `cargo bench -p hlsk-tests --bench conv_cycles`.

use hls_rust::conv::desc::{ConvShape, Descriptor, Op};
use hls_rust::conv::model::{best_tiling, useful_macs};
use hls_rust::conv::run_descriptor;
use hlsk_cosim::configs::CONV_CONFIGS;
use hlsk_tests::conv::{ConvCase, MemTiming, hw_of, run};
use std::fmt::Write as _;

fn main() {
    let layers = [
        (
            Op::Fp,
            ConvShape {
                n: 8,
                m: 8,
                h: 8,
                w: 8,
                k: 3,
                pad: 1,
                b: 2,
            },
        ),
        (
            Op::Bp,
            ConvShape {
                n: 8,
                m: 8,
                h: 8,
                w: 8,
                k: 3,
                pad: 1,
                b: 2,
            },
        ),
        (
            Op::Fp,
            ConvShape {
                n: 16,
                m: 8,
                h: 4,
                w: 4,
                k: 1,
                pad: 0,
                b: 4,
            },
        ),
    ];
    let timings = [
        ("ideal", MemTiming::IDEAL),
        (
            "lat4_burst2",
            MemTiming {
                latency: 4,
                t_burst: 2,
                ..MemTiming::IDEAL
            },
        ),
    ];
    let mut rows = Vec::new();
    println!(
        "{:>3} {:>3} {:<34} {:<12} {:>9} {:>9} {:>7} {:>7} {:>11}",
        "T", "op", "shape", "memory", "cycles", "fired", "util%", "occ%", "model cyc"
    );
    for (config, c) in CONV_CONFIGS.iter().enumerate() {
        for &(op, shape) in &layers {
            let mut hw = hw_of(c);
            let d = Descriptor::new(op, shape);
            let Ok((tiling, _)) = best_tiling(&d, &hw) else {
                println!("{:>3} {op:>3} no tiling fits", c.t);
                continue;
            };
            for &(name, timing) in &timings {
                hw.t_burst = u64::from(timing.latency + timing.t_burst);
                hw.words_per_cycle = c.t as usize;
                let case = ConvCase {
                    config,
                    desc: Descriptor { tiling, ..d },
                    seed: 1,
                    bits: 6,
                    timing,
                };
                let (desc, mem0) = case.memory();
                let mut expect = mem0.clone();
                let model = run_descriptor(&mut expect, &desc, &hw).expect("valid descriptor");
                let mut mem = mem0.clone();
                let words = desc.encode().expect("valid descriptor");
                let r = match run(config, 1, &words, &mut mem, timing, 50_000_000, None) {
                    Ok(r) if !r.error && mem == expect => r,
                    other => {
                        eprintln!(
                            "T={} {op} {shape:?}: run failed or mismatched: {other:?}",
                            c.t
                        );
                        std::process::exit(1);
                    }
                };
                let macs = useful_macs(&desc);
                let util = macs as f64 / (u64::from(c.t * c.t) * r.cycles) as f64;
                let occ = r.fired as f64 / r.cycles as f64;
                let shape_s = format!(
                    "N{} M{} {}x{} K{} p{} B{} Tr{}",
                    shape.n, shape.m, shape.h, shape.w, shape.k, shape.pad, shape.b, tiling.tr
                );
                println!(
                    "{:>3} {op:>3} {shape_s:<34} {name:<12} {:>9} {:>9} {:>7.1} {:>7.1} {:>11}",
                    c.t,
                    r.cycles,
                    r.fired,
                    100.0 * util,
                    100.0 * occ,
                    model.cycles
                );
                rows.push(format!(
                    "    {{\"t\": {}, \"acc_w\": {}, \"op\": \"{op}\", \"shape\": \"{shape_s}\", \"memory\": \"{name}\", \"cycles\": {}, \"fired\": {}, \"macs\": {macs}, \"utilization\": {util:.4}, \"occupancy\": {occ:.4}, \"model_cycles\": {}}}",
                    c.t, c.acc_w, r.cycles, r.fired, model.cycles
                ));
            }
        }
    }
    let mut json = String::from("{\n  \"bench\": \"conv_cycles\",\n  \"runs\": [\n");
    let _ = write!(json, "{}\n  ]\n}}\n", rows.join(",\n"));
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    match std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(dir.join("conv_cycles.json"), json))
    {
        Ok(()) => println!("wrote target/bench/conv_cycles.json"),
        Err(e) => eprintln!("warning: could not write {}: {e}", dir.display()),
    }
}
