//! Benchmark (figures, not a test): cycles of `conv_engine` per build,
//! measured in co-simulation next to the analytical model's prediction
//! (sequential mode, the build's tiling choice), for
//!
//! - single layers of every operation, with an ideal memory and with
//!   latency and burst start-up cost;
//! - a VGG-style stack of 3x3 layers, per layer and phase;
//! - one training step of the digits CNN (batch 4), per descriptor.
//!
//! Utilization = useful MACs / (T*T*P*cycles); occupancy = fired / cycles;
//! model error = (model - measured) / measured; stall cycles by cause
//! (input, weights, output), measured by the engine's counters and
//! predicted by the model. Every run is also checked bit for bit against
//! `run_descriptor`, and its cycles and stalls against the model
//! (`cycles_match`). Writes `target/bench/conv_cycles.json`.
//!
//! Run: `cargo bench -p hlsk-tests --bench conv_cycles`.

use hls_rust::conv::desc::{ConvShape, Descriptor, Op};
use hls_rust::conv::model::{Stats, best_tiling, useful_macs};
use hls_rust::conv::run_descriptor;
use hlsk_cosim::configs::{CONV_CONFIGS, ConvConfig};
use hlsk_tests::conv::{
    ConvCase, ConvRun, MemTiming, cycles_match, digits_steps_on, hw_for, hw_of, run,
};
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

const TIMINGS: [(&str, MemTiming); 2] = [
    ("ideal", MemTiming::IDEAL),
    ("lat4_burst2", MemTiming::LAT4_BURST2),
];

/// Prints one measured descriptor and returns its JSON record.
fn report(
    c: &ConvConfig,
    set: &str,
    label: &str,
    memory: &str,
    d: &Descriptor,
    r: &ConvRun,
    model: &Stats,
) -> String {
    let peak = u64::from(c.t * c.t * c.p);
    let macs = useful_macs(d);
    let util = macs as f64 / (peak * r.cycles) as f64;
    let occ = r.fired as f64 / r.cycles as f64;
    let err = (model.cycles as f64 - r.cycles as f64) / r.cycles as f64;
    let s = &d.shape;
    let shape_s = format!(
        "{label}N{} M{} {}x{} K{} B{} Tr{}",
        s.n, s.m, s.h, s.w, s.k, s.b, d.tiling.tr
    );
    let op = d.op;
    let stalls = [r.stall_input, r.stall_weights, r.stall_output];
    let model_stalls = [model.stall_input, model.stall_weights, model.stall_output];
    let [si, sw, so] = stalls;
    let [mi, mw, mo] = model_stalls;
    println!(
        "{:>2} {:>2} {set:<6} {op:>8} {shape_s:<32} {memory:<12} {:>8} {:>8} {:>6.1} {:>6.1} {:>8} {:>+6.1} {:>13} {:>13} {:>13}",
        c.t,
        c.p,
        r.cycles,
        r.fired,
        100.0 * util,
        100.0 * occ,
        model.cycles,
        100.0 * err,
        format!("{si}/{mi}"),
        format!("{sw}/{mw}"),
        format!("{so}/{mo}")
    );
    format!(
        "    {{\"t\": {}, \"p\": {}, \"set\": \"{set}\", \"op\": \"{op}\", \"shape\": \"{shape_s}\", \"memory\": \"{memory}\", \"cycles\": {}, \"fired\": {}, \"stall_input\": {si}, \"stall_weights\": {sw}, \"stall_output\": {so}, \"macs\": {macs}, \"utilization\": {util:.4}, \"occupancy\": {occ:.4}, \"model_cycles\": {}, \"model_stall_input\": {mi}, \"model_stall_weights\": {mw}, \"model_stall_output\": {mo}, \"model_error\": {err:.4}}}",
        c.t, c.p, r.cycles, r.fired, model.cycles
    )
}

/// Runs `d` (with the build's best tiling) on build `config`, checks it
/// against the reference, and reports it.
fn layer(config: usize, set: &str, d: Descriptor, rows: &mut Vec<String>) {
    let c = &CONV_CONFIGS[config];
    let Ok((tiling, _)) = best_tiling(&d, &hw_of(c)) else {
        println!("{:>2} {:>2} {set:<6} {:>8} no tiling fits", c.t, c.p, d.op);
        return;
    };
    for (name, timing) in TIMINGS {
        let case = ConvCase {
            config,
            desc: Descriptor { tiling, ..d },
            seed: 1,
            bits: 6,
            timing,
        };
        let (desc, mem0) = case.memory();
        let mut expect = mem0.clone();
        let model =
            run_descriptor(&mut expect, &desc, &hw_for(c, timing)).expect("valid descriptor");
        let mut mem = mem0.clone();
        let words = desc.encode().expect("valid descriptor");
        let r = match run(config, 1, &words, &mut mem, timing, 50_000_000, None) {
            Ok(r) if !r.error && mem == expect => r,
            other => {
                eprintln!(
                    "T={} P={} {} {:?}: run failed or mismatched: {other:?}",
                    c.t, c.p, d.op, d.shape
                );
                std::process::exit(1);
            }
        };
        if let Err(e) = cycles_match(&r, &model, timing) {
            eprintln!("T={} P={} {} {:?}: {e}", c.t, c.p, d.op, d.shape);
            std::process::exit(1);
        }
        rows.push(report(c, set, "", name, &desc, &r, &model));
    }
}

fn main() {
    println!(
        "{:>2} {:>2} {:<6} {:>8} {:<32} {:<12} {:>8} {:>8} {:>6} {:>6} {:>8} {:>6} {:>13} {:>13} {:>13}",
        "T",
        "P",
        "set",
        "op",
        "shape",
        "memory",
        "cycles",
        "fired",
        "util%",
        "occ%",
        "model",
        "err%",
        "stall in/mdl",
        "w/mdl",
        "out/mdl"
    );
    let mut rows = Vec::new();
    // Single layers: interior 3x3 (digits-sized), a 1x1 layer, the pools.
    let conv3 = shape(8, 8, 8, 3, 1, 2);
    let layers = [
        (Op::Fp, conv3),
        (Op::Bp, conv3),
        (Op::Wu, conv3),
        (Op::Fp, shape(16, 8, 4, 1, 0, 4)),
        (Op::PoolFwd, shape(8, 8, 8, 2, 0, 2)),
        (Op::PoolBwd, shape(8, 8, 8, 2, 0, 2)),
    ];
    // A VGG-style stack of 3x3 layers (pad 1, batch 2), every phase.
    let vgg = [
        shape(16, 16, 16, 3, 1, 2),
        shape(16, 32, 8, 3, 1, 2),
        shape(32, 32, 8, 3, 1, 2),
    ];
    for (config, c) in CONV_CONFIGS.iter().enumerate() {
        for &(op, s) in &layers {
            layer(
                config,
                "layer",
                wu_numerics(Descriptor::new(op, s)),
                &mut rows,
            );
        }
        for &s in &vgg {
            for op in [Op::Fp, Op::Bp, Op::Wu] {
                layer(
                    config,
                    "vgg",
                    wu_numerics(Descriptor::new(op, s)),
                    &mut rows,
                );
            }
        }
        // WU updates the masters once per batch: at batch 8 that cost
        // weighs a quarter of its share at batch 2.
        let big_batch = Descriptor::new(Op::Wu, shape(32, 32, 8, 3, 1, 8));
        layer(config, "vgg", wu_numerics(big_batch), &mut rows);
        for (name, timing) in TIMINGS {
            match digits_steps_on(config, 4, 1, 1, timing) {
                Ok(runs) => {
                    for sr in runs {
                        let label = format!("L{} ", sr.layer);
                        rows.push(report(
                            c, "digits", &label, name, &sr.desc, &sr.rtl, &sr.model,
                        ));
                    }
                }
                Err(e) => {
                    eprintln!("digits step on build {config}: {e}");
                    std::process::exit(1);
                }
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

/// WU descriptors get realistic numerics (the others none).
fn wu_numerics(mut d: Descriptor) -> Descriptor {
    if d.op == Op::Wu {
        (d.g_pre, d.lr_mant, d.lr_shift, d.write_w16) = (8, 1 << 14, 24, true);
    }
    d
}
