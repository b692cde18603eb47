//! Benchmark (figures, not a test): cycles of `conv_engine` on layers of
//! every operation per build, measured in co-simulation with an ideal memory
//! and with latency and burst start-up cost, next to the analytical model's
//! prediction for the same tiling (the model's best for the build).
//! Utilization = useful MACs / (T*T*P*cycles); occupancy = fired / cycles;
//! model error = (model - measured) / measured. Every run is also checked bit
//! for bit against `run_descriptor`. Writes `target/bench/conv_cycles.json`.
//!
//! Run: `cargo bench -p hlsk-tests --bench conv_cycles`.

use hls_rust::conv::desc::{ConvShape, Descriptor, Op};
use hls_rust::conv::model::{best_tiling, useful_macs};
use hls_rust::conv::run_descriptor;
use hlsk_cosim::configs::CONV_CONFIGS;
use hlsk_tests::conv::{ConvCase, MemTiming, hw_for, hw_of, run};
use std::fmt::Write as _;

fn shape(n: usize, m: usize, hw: usize, k: usize, pad: usize, b: usize) -> ConvShape {
    ConvShape {
        n,
        m,
        h: hw,
        w: hw,
        k,
        pad,
        b,
    }
}

fn main() {
    // Interior 3x3 layers in all three phases (digits-sized and VGG-style),
    // a 1x1 layer, and the pools.
    let conv3 = shape(8, 8, 8, 3, 1, 2);
    let vgg = shape(16, 16, 16, 3, 1, 2);
    let layers = [
        (Op::Fp, conv3),
        (Op::Bp, conv3),
        (Op::Wu, conv3),
        (Op::Fp, vgg),
        (Op::Bp, vgg),
        (Op::Wu, vgg),
        (Op::Fp, shape(16, 8, 4, 1, 0, 4)),
        (Op::PoolFwd, shape(8, 8, 8, 2, 0, 2)),
        (Op::PoolBwd, shape(8, 8, 8, 2, 0, 2)),
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
        "{:>2} {:>2} {:>8} {:<30} {:<12} {:>8} {:>8} {:>6} {:>6} {:>9} {:>7}",
        "T", "P", "op", "shape", "memory", "cycles", "fired", "util%", "occ%", "model", "err%"
    );
    for (config, c) in CONV_CONFIGS.iter().enumerate() {
        for &(op, shape) in &layers {
            let mut d = Descriptor::new(op, shape);
            if op == Op::Wu {
                (d.g_pre, d.lr_mant, d.lr_shift, d.write_w16) = (8, 1 << 14, 24, true);
            }
            let Ok((tiling, _)) = best_tiling(&d, &hw_of(c)) else {
                println!("{:>2} {:>2} {op:>8} no tiling fits", c.t, c.p);
                continue;
            };
            for &(name, timing) in &timings {
                let hw = hw_for(c, timing);
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
                            "T={} P={} {op} {shape:?}: run failed or mismatched: {other:?}",
                            c.t, c.p
                        );
                        std::process::exit(1);
                    }
                };
                let macs = useful_macs(&desc);
                let util = macs as f64 / (hw.peak_macs() * r.cycles) as f64;
                let occ = r.fired as f64 / r.cycles as f64;
                let err = (model.cycles as f64 - r.cycles as f64) / r.cycles as f64;
                let shape_s = format!(
                    "N{} M{} {}x{} K{} p{} B{} Tr{}",
                    shape.n, shape.m, shape.h, shape.w, shape.k, shape.pad, shape.b, tiling.tr
                );
                println!(
                    "{:>2} {:>2} {op:>8} {shape_s:<30} {name:<12} {:>8} {:>8} {:>6.1} {:>6.1} {:>9} {:>+7.1}",
                    c.t,
                    c.p,
                    r.cycles,
                    r.fired,
                    100.0 * util,
                    100.0 * occ,
                    model.cycles,
                    100.0 * err
                );
                rows.push(format!(
                    "    {{\"t\": {}, \"p\": {}, \"acc_w\": {}, \"op\": \"{op}\", \"shape\": \"{shape_s}\", \"memory\": \"{name}\", \"cycles\": {}, \"fired\": {}, \"macs\": {macs}, \"utilization\": {util:.4}, \"occupancy\": {occ:.4}, \"model_cycles\": {}, \"model_error\": {err:.4}}}",
                    c.t, c.p, c.acc_w, r.cycles, r.fired, model.cycles
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
