//! Compiles the Verilator runtime once. The list of runtime files is read
//! from the `_classes.mk` of a tiny probe model, so it follows whatever the
//! installed Verilator version needs. With the `coverage` feature the probe
//! is instrumented too, so the list includes the coverage database.

use hlsk_vbuild::{VerilateSpec, Verilator};
use std::path::PathBuf;

const PROBE: &str = "module hlsk_rt_probe (input logic clk_i, input logic d_i, output logic q_o);\n  \
                     always_ff @(posedge clk_i) q_o <= d_i;\nendmodule\n";

fn main() {
    if let Err(e) = build() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn build() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let trace = std::env::var_os("CARGO_FEATURE_TRACE").is_some();
    let coverage = std::env::var_os("CARGO_FEATURE_COVERAGE").is_some();
    let v = Verilator::find()?;
    let probe = out.join("hlsk_rt_probe.sv");
    std::fs::write(&probe, PROBE)?;
    let spec = VerilateSpec::new("hlsk_rt_probe", "Vhlsk_rt_probe")
        .source(&probe)
        .trace(trace)
        .coverage(coverage);
    let model = v.verilate(&spec, &out.join("probe"))?;
    let mut b = v.cc_build();
    if trace {
        b.define("VM_TRACE", "1").define("VM_TRACE_FST", "1");
    }
    for f in model.runtime_files() {
        b.file(f);
    }
    b.compile("hlsk_verilated");
    if trace {
        println!("cargo:rustc-link-lib=z");
    }
    println!("cargo:rustc-link-lib=pthread");
    println!("cargo:root={}", v.root().display());
    println!("cargo:rerun-if-changed=build.rs");
    Ok(())
}
