//! Verilates every block of `rtl/` once per parameter set in
//! `src/configs.rs`, compiles each model as one translation unit together
//! with its shim instantiation, and generates the factories that Rust calls.

#[path = "src/configs.rs"]
#[allow(dead_code)]
mod configs;

use configs::{
    CONV_CONFIGS, FEEDER_CONFIGS, FIFO_CONFIGS, RAM_CONFIGS, SKID_CONFIGS, TLMM_CONFIGS,
    TLMM_TS_CONFIGS, UART_CONFIGS,
};
// SoC top (digital twin).
use configs::SOC_CONFIGS;
use hlsk_vbuild::{VerilateSpec, Verilator};
use std::fmt::Write as _;
use std::path::PathBuf;

/// One model to build: the RTL top, its parameters, and the C++ expression
/// that constructs its shim (with `V` the Verilated class). `block` names
/// the factory (`new_<block>`), `dut` the shim class (`<dut>Dut`): blocks
/// with the same ports share a shim.
struct Job {
    prefix: String,
    top: &'static str,
    params: Vec<(&'static str, u32)>,
    block: &'static str,
    dut: &'static str,
    make: String,
}

fn main() {
    if let Err(e) = build() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn build() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let root = manifest
        .parent()
        .ok_or("cosim crate has no parent folder")?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let trace = std::env::var_os("CARGO_FEATURE_TRACE").is_some();
    let rtl = root.join("rtl");

    // ccache must be chosen before cxx_build creates its cc::Build.
    hlsk_vbuild::use_ccache_if_present();
    let v = Verilator::find()?;

    // The bridge first: it generates the headers the model units include.
    let mut bridge = cxx_build::bridge("src/ffi.rs");

    let mut jobs = Vec::new();
    for c in FIFO_CONFIGS {
        jobs.push(Job {
            prefix: c.prefix(),
            top: "hlsk_fifo_sync",
            params: vec![("Width", c.width), ("Depth", c.depth)],
            block: "Fifo",
            dut: "Fifo",
            make: format!("std::make_unique<FifoImpl<V>>({}, seed, trace)", c.width),
        });
    }
    for c in SKID_CONFIGS {
        jobs.push(Job {
            prefix: c.prefix(),
            top: "hlsk_skid_buffer",
            params: vec![("Width", c.width)],
            block: "Skid",
            dut: "Skid",
            make: format!("std::make_unique<SkidImpl<V>>({}, seed, trace)", c.width),
        });
    }
    for c in RAM_CONFIGS {
        jobs.push(Job {
            prefix: c.prefix(),
            top: "hlsk_ram_1r1w",
            params: vec![("Width", c.width), ("Depth", c.depth)],
            block: "Ram",
            dut: "Ram",
            make: format!(
                "std::make_unique<RamImpl<V>>({}, {}, seed, trace)",
                c.width, c.depth
            ),
        });
    }

    // Both TLMM engines have the same ports (same shim); the table-stationary
    // one also takes MMax.
    for (configs, block) in [(TLMM_CONFIGS, "Tlmm"), (TLMM_TS_CONFIGS, "TlmmTs")] {
        for c in configs {
            let mut params = vec![
                ("G", c.g),
                ("T", c.t),
                ("P", c.p),
                ("AccW", c.acc_w),
                ("KMax", c.k_max),
            ];
            if block == "TlmmTs" {
                params.push(("MMax", c.m_max));
            }
            jobs.push(Job {
                prefix: c.prefix(),
                top: c.top(),
                params,
                block,
                dut: "Tlmm",
                make: format!(
                    "std::make_unique<TlmmImpl<V>>({}, seed, trace)",
                    c.weight_beat_bits()
                ),
            });
        }
    }
    for c in FEEDER_CONFIGS {
        jobs.push(Job {
            prefix: c.prefix(),
            top: "tlmm_weight_feeder",
            params: vec![("Width", c.width), ("Depth", c.depth)],
            block: "Feeder",
            dut: "Feeder",
            make: format!(
                "std::make_unique<FeederImpl<V>>({}, {}, {}, seed, trace)",
                c.width,
                c.addr_bits(),
                c.count_bits()
            ),
        });
    }

    for c in CONV_CONFIGS {
        jobs.push(Job {
            prefix: c.prefix(),
            top: "conv_engine",
            params: vec![
                ("T", c.t),
                ("P", c.p),
                ("AccW", c.acc_w),
                ("AccWWu", c.acc_w_wu),
                ("InWords", c.in_words),
                ("WWords", c.w_words),
                ("OutEnt", c.out_ent),
                ("GEnt", c.g_ent),
            ],
            block: "Conv",
            dut: "Conv",
            make: format!(
                "std::make_unique<ConvImpl<V>>({}, seed, trace)",
                c.beat_bits()
            ),
        });
    }

    for c in UART_CONFIGS {
        jobs.push(Job {
            prefix: c.prefix("rx"),
            top: "hlsk_uart_rx",
            params: vec![("ClksPerBit", c.clks_per_bit)],
            block: "UartRx",
            dut: "UartRx",
            make: "std::make_unique<UartRxImpl<V>>(seed, trace)".to_owned(),
        });
        jobs.push(Job {
            prefix: c.prefix("tx"),
            top: "hlsk_uart_tx",
            params: vec![("ClksPerBit", c.clks_per_bit)],
            block: "UartTx",
            dut: "UartTx",
            make: "std::make_unique<UartTxImpl<V>>(seed, trace)".to_owned(),
        });
    }

    // ---- SoC top (digital twin): the whole board SoC, seen from its pins.
    for c in SOC_CONFIGS {
        let mut params = vec![
            ("G", c.g),
            ("T", c.t),
            ("P", c.p),
            ("AccW", c.acc_w),
            ("KMax", c.k_max),
            ("MemWords", c.mem_words),
            ("ClkHz", c.clk_hz()),
            ("Baud", c.baud),
            ("NumLeds", 8),
            ("RstActiveLow", u32::from(c.btn_active_low)),
        ];
        if let Some(v) = c.conv {
            params.extend([
                ("Conv", 1),
                ("ConvT", v.t),
                ("ConvP", v.p),
                ("ConvAccW", v.acc_w),
                ("ConvAccWWu", v.acc_w_wu),
                ("ConvInWords", v.in_words),
                ("ConvWWords", v.w_words),
                ("ConvOutEnt", v.out_ent),
                ("ConvGEnt", v.g_ent),
            ]);
        }
        jobs.push(Job {
            prefix: c.prefix(),
            top: "hlsk_soc_top",
            params,
            block: "Soc",
            dut: "Soc",
            make: format!(
                "std::make_unique<SocImpl<V>>({}, seed, trace)",
                c.btn_active_low
            ),
        });
    }

    let sources = sv_sources(&[
        rtl.join("common"),
        rtl.join("tlmm"),
        rtl.join("conv"),
        rtl.join("soc"),
    ])?;
    let vobj = out.join("vobj");
    let mut models = v.cc_build();
    models
        .include(out.join("cxxbridge").join("include"))
        .include(out.join("cxxbridge").join("crate"));
    if trace {
        models
            .define("VM_TRACE", "1")
            .define("VM_TRACE_FST", "1")
            .define("HLSK_TRACE", "1");
    }
    for job in &jobs {
        let mut spec = VerilateSpec::new(job.top, &job.prefix)
            .sources(sources.iter().cloned())
            .trace(trace);
        for (k, val) in &job.params {
            spec = spec.param(k, val);
        }
        let model = v.verilate(&spec, &vobj)?;
        let unity = model.write_unity_file()?;
        let unit = vobj.join(format!("{}__shim.cpp", job.prefix));
        let mut text = String::new();
        writeln!(text, "// Generated by cosim/build.rs.")?;
        writeln!(text, "#include \"{}\"", unity.display())?;
        writeln!(text, "#include \"hlsk-cosim/shim/blocks_impl.h\"")?;
        if job.block == "Soc" {
            writeln!(text, "#include \"hlsk-cosim/shim/soc_impl.h\"")?;
        }
        writeln!(text, "namespace hlsk {{")?;
        writeln!(
            text,
            "std::unique_ptr<{b}Dut> make_{p}(uint32_t seed, rust::Str trace) {{\n  using V = {p};\n  return {m};\n}}",
            b = job.dut,
            p = job.prefix,
            m = job.make
        )?;
        if job.block == "Fifo" {
            let width = job.params[0].1;
            writeln!(
                text,
                "uint64_t run_{p}(uint32_t seed, uint32_t reset_cycles, rust::Slice<const StreamStepIn> stim, uint64_t cycles) {{\n  return fifo_run<{p}>({width}, seed, reset_cycles, stim, cycles);\n}}",
                p = job.prefix
            )?;
        }
        writeln!(text, "}}  // namespace hlsk")?;
        std::fs::write(&unit, text)?;
        models.file(&unit);
    }
    models.compile("hlsk_cosim_models");

    // Factories: config index -> model.
    let factory = out.join("hlsk_factories.cpp");
    std::fs::write(&factory, factories(&jobs))?;
    for d in v.include_dirs() {
        bridge.include(d);
    }
    bridge
        .std("c++17")
        .opt_level(2)
        .flag("-fno-semantic-interposition")
        .file(&factory)
        .compile("hlsk_cosim_bridge");

    for f in [
        "src/ffi.rs",
        "src/configs.rs",
        "shim/blocks.h",
        "shim/blocks_impl.h",
        "shim/soc.h",
        "shim/soc_impl.h",
    ] {
        println!("cargo:rerun-if-changed={f}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-env=HLSK_VERILATOR_VERSION={}", v.version());
    Ok(())
}

/// Every `.sv` file in `dirs`, packages (`*_pkg.sv`) first, sorted.
fn sv_sources(dirs: &[PathBuf]) -> Result<Vec<PathBuf>, Box<dyn std::error::Error>> {
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        println!("cargo:rerun-if-changed={}", dir.display());
        files.extend(
            std::fs::read_dir(dir)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "sv")),
        );
    }
    files.sort_by_key(|p| {
        let pkg = p
            .file_stem()
            .is_some_and(|s| s.to_string_lossy().ends_with("_pkg"));
        (!pkg, p.clone())
    });
    Ok(files)
}

/// C++ source of the `new_<block>` factories and `fifo_cpp_run`.
fn factories(jobs: &[Job]) -> String {
    let mut s = String::from(
        "// Generated by cosim/build.rs.\n#include <stdexcept>\n#include <string>\n\
         #include \"hlsk-cosim/shim/blocks.h\"\n#include \"hlsk-cosim/shim/soc.h\"\n\
         #include \"hlsk-cosim/src/ffi.rs.h\"\n\
         namespace hlsk {\n",
    );
    for j in jobs {
        let _ = writeln!(
            s,
            "std::unique_ptr<{}Dut> make_{}(uint32_t seed, rust::Str trace);",
            j.dut, j.prefix
        );
        if j.block == "Fifo" {
            let _ = writeln!(
                s,
                "uint64_t run_{}(uint32_t seed, uint32_t reset_cycles, rust::Slice<const StreamStepIn> stim, uint64_t cycles);",
                j.prefix
            );
        }
    }
    let dispatch = |s: &mut String, sig: &str, block: &str, call: &dyn Fn(&str) -> String| {
        let _ = writeln!(s, "{sig} {{\n  switch (config) {{");
        for (i, j) in jobs.iter().filter(|j| j.block == block).enumerate() {
            let _ = writeln!(s, "    case {i}: return {};", call(&j.prefix));
        }
        let _ = writeln!(
            s,
            "    default: throw std::out_of_range(\"no {block} build with index \" + std::to_string(config));\n  }}\n}}"
        );
    };
    for (block, dut) in [
        ("Fifo", "Fifo"),
        ("Skid", "Skid"),
        ("Ram", "Ram"),
        ("Tlmm", "Tlmm"),
        ("TlmmTs", "Tlmm"),
        ("Feeder", "Feeder"),
        ("Conv", "Conv"),
        ("UartRx", "UartRx"),
        ("UartTx", "UartTx"),
        ("Soc", "Soc"),
    ] {
        let sig = format!(
            "std::unique_ptr<{dut}Dut> new_{}(size_t config, uint32_t seed, rust::Str trace)",
            block.to_lowercase()
        );
        dispatch(&mut s, &sig, block, &|p| format!("make_{p}(seed, trace)"));
    }
    dispatch(
        &mut s,
        "uint64_t fifo_cpp_run(size_t config, uint32_t seed, uint32_t reset_cycles, rust::Slice<const StreamStepIn> stim, uint64_t cycles)",
        "Fifo",
        &|p| format!("run_{p}(seed, reset_cycles, stim, cycles)"),
    );
    s.push_str("}  // namespace hlsk\n");
    s
}
