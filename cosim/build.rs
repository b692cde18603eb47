//! Verilates every block of `rtl/` once per parameter set in
//! `src/configs.rs`, compiles each model as one translation unit together
//! with its shim instantiation, and generates the factories that Rust calls.

#[path = "src/configs.rs"]
#[allow(dead_code)]
mod configs;

use configs::{
    CONV_CONFIGS, ConvConfig, FEEDER_CONFIGS, FIFO_CONFIGS, FRAME_TX_CONFIGS, RAM_CONFIGS,
    SKID_CONFIGS, TLMM_CONFIGS, TLMM_TS_CONFIGS, UART_CONFIGS,
};
// SoC top (digital twin).
use configs::{SOC_CONFIGS, SOC_PRESET_CONFIGS};
use hlsk_vbuild::{VerilateSpec, Verilator};
use std::fmt::{Display, Write as _};
use std::path::PathBuf;

/// One model to build: the RTL top, its parameters, and its shim. `block`
/// names the factory (`new_<block>`), `dut` the shim (`<dut>Dut`,
/// implemented by `<dut>Impl<V>` with `V` the Verilated class): blocks with
/// the same ports share a shim. `args` are the shim constructor's arguments
/// before the seed and the trace path.
struct Job {
    prefix: String,
    top: &'static str,
    params: Vec<(String, u32)>,
    block: &'static str,
    dut: &'static str,
    args: Vec<String>,
    /// Every signal public (`--public-flat-rw`), for shims that probe inside.
    public: bool,
}

impl Job {
    /// A job whose block has a shim of its own (`dut` is `block`).
    fn new(
        prefix: String,
        top: &'static str,
        block: &'static str,
        params: &[(&str, u32)],
        args: &[&dyn Display],
    ) -> Self {
        Job {
            prefix,
            top,
            params: params.iter().map(|&(k, v)| (k.to_owned(), v)).collect(),
            block,
            dut: block,
            args: args.iter().map(|a| a.to_string()).collect(),
            public: false,
        }
    }

    /// The C++ declarator of the function that constructs this model.
    fn make_fn(&self) -> String {
        format!(
            "std::unique_ptr<{}Dut> make_{}(uint32_t seed, rust::Str trace)",
            self.dut, self.prefix
        )
    }

    /// The C++ declarator of this FIFO model's pure C++ speed harness.
    fn run_fn(&self) -> String {
        format!(
            "uint64_t run_{}(uint32_t seed, uint32_t reset_cycles, rust::Slice<const StreamStepIn> stim, uint64_t cycles)",
            self.prefix
        )
    }

    /// The C++ declarator and body of this model's engine speed harness
    /// (`shim/bench_impl.h`), for the TLMM output-stationary, conv and SoC
    /// builds.
    fn bench_fn(&self) -> Option<(String, String)> {
        let (stim, call) = match self.block {
            "Tlmm" => (
                "const TlmmBenchStim& stim, uint64_t cycles",
                "tlmm_bench<V>({}, seed, reset_cycles, stim, cycles)",
            ),
            "Conv" => (
                "const ConvBenchStim& stim, uint64_t cycles",
                "conv_bench<V>({}, seed, reset_cycles, stim, cycles)",
            ),
            "Soc" => (
                "rust::Slice<const uint8_t> rx",
                "soc_bench<V>({}, seed, reset_cycles, rx)",
            ),
            _ => return None,
        };
        Some((
            format!(
                "uint64_t bench_{}(uint32_t seed, uint32_t reset_cycles, {stim})",
                self.prefix
            ),
            call.replace("{}", &self.args[0]),
        ))
    }

    /// The C++ expression that constructs the shim.
    fn make_expr(&self) -> String {
        let args: String = self.args.iter().map(|a| format!("{a}, ")).collect();
        format!("std::make_unique<{}Impl<V>>({args}seed, trace)", self.dut)
    }
}

/// The parameters of `conv_engine` for `c`, each name prefixed with `prefix`
/// (`hlsk_soc_top` passes them on as `Conv<name>`).
fn conv_params(c: &ConvConfig, prefix: &str) -> Vec<(String, u32)> {
    [
        ("T", c.t),
        ("P", c.p),
        ("AccW", c.acc_w),
        ("AccWWu", c.acc_w_wu),
        ("InWords", c.in_words),
        ("WWords", c.w_words),
        ("OutEnt", c.out_ent),
        ("GEnt", c.g_ent),
    ]
    .into_iter()
    .map(|(k, v)| (format!("{prefix}{k}"), v))
    .collect()
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
    let coverage = std::env::var_os("CARGO_FEATURE_COVERAGE").is_some();
    let rtl = root.join("rtl");

    // ccache must be chosen before cxx_build creates its cc::Build.
    hlsk_vbuild::use_ccache_if_present();
    let v = Verilator::find()?;

    // The bridge first: it generates the headers the model units include.
    let mut bridge = cxx_build::bridge("src/ffi.rs");

    let mut jobs = Vec::new();
    for c in FIFO_CONFIGS {
        jobs.push(Job::new(
            c.prefix(),
            "hlsk_fifo_sync",
            "Fifo",
            &[("Width", c.width), ("Depth", c.depth)],
            &[&c.width],
        ));
    }
    for c in SKID_CONFIGS {
        jobs.push(Job::new(
            c.prefix(),
            "hlsk_skid_buffer",
            "Skid",
            &[("Width", c.width)],
            &[&c.width],
        ));
    }
    for c in RAM_CONFIGS {
        jobs.push(Job::new(
            c.prefix(),
            "hlsk_ram_1r1w",
            "Ram",
            &[
                ("Width", c.width),
                ("Depth", c.depth),
                ("WriteFirst", u32::from(c.write_first)),
            ],
            &[&c.width, &c.depth],
        ));
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
            } else {
                params.push(("Direct", c.direct));
            }
            jobs.push(Job {
                dut: "Tlmm",
                ..Job::new(
                    c.prefix(),
                    c.top(),
                    block,
                    &params,
                    &[&c.weight_beat_bits()],
                )
            });
        }
    }
    for c in FEEDER_CONFIGS {
        jobs.push(Job::new(
            c.prefix(),
            "tlmm_weight_feeder",
            "Feeder",
            &[("Width", c.width), ("Depth", c.depth)],
            &[&c.width, &c.addr_bits(), &c.count_bits()],
        ));
    }

    for c in CONV_CONFIGS {
        jobs.push(Job {
            params: conv_params(c, ""),
            ..Job::new(c.prefix(), "conv_engine", "Conv", &[], &[&c.beat_bits()])
        });
    }

    for c in UART_CONFIGS {
        let params = [("ClksPerBit", c.clks_per_bit)];
        jobs.push(Job::new(
            c.prefix("rx"),
            "hlsk_uart_rx",
            "UartRx",
            &params,
            &[],
        ));
        jobs.push(Job::new(
            c.prefix("tx"),
            "hlsk_uart_tx",
            "UartTx",
            &params,
            &[],
        ));
    }

    for c in FRAME_TX_CONFIGS {
        jobs.push(Job::new(c.prefix(), "hlsk_frame_tx", "FrameTx", &[], &[]));
    }

    // ---- SoC top (digital twin): the whole board SoC, seen from its pins.
    for c in SOC_CONFIGS {
        let mut job = Job::new(
            c.prefix(),
            "hlsk_soc_top",
            "Soc",
            &[
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
            ],
            &[&c.btn_active_low],
        );
        if let Some(v) = c.conv {
            job.params.push(("Conv".to_owned(), 1));
            job.params.extend(conv_params(&v, "Conv"));
        }
        jobs.push(job);
    }
    // ---- Kernel-preset SoC (HostLink = 0), probed inside.
    for c in SOC_PRESET_CONFIGS {
        let e = &c.engine;
        jobs.push(Job {
            public: true,
            ..Job::new(
                c.prefix(),
                "hlsk_soc_top",
                "SocPreset",
                &[
                    ("G", e.g),
                    ("T", e.t),
                    ("P", e.p),
                    ("AccW", e.acc_w),
                    ("KMax", e.k_max),
                    ("MemWords", c.mem_words),
                    ("HostLink", 0),
                    ("NumLeds", 8),
                ],
                &[&true],
            )
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
    if coverage {
        models
            .define("VM_COVERAGE", "1")
            .define("HLSK_COVERAGE", "1");
    }
    for job in &jobs {
        let mut spec = VerilateSpec::new(job.top, &job.prefix)
            .sources(sources.iter().cloned())
            .trace(trace)
            .coverage(coverage)
            .public(job.public);
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
        if job.block == "SocPreset" {
            writeln!(text, "#include \"hlsk-cosim/shim/soc_preset_impl.h\"")?;
        }
        if job.bench_fn().is_some() {
            writeln!(text, "#include \"hlsk-cosim/shim/bench_impl.h\"")?;
        }
        writeln!(text, "namespace hlsk {{")?;
        writeln!(
            text,
            "{} {{\n  using V = {};\n  return {};\n}}",
            job.make_fn(),
            job.prefix,
            job.make_expr()
        )?;
        if job.block == "Fifo" {
            writeln!(
                text,
                "{} {{\n  return fifo_run<{}>({}, seed, reset_cycles, stim, cycles);\n}}",
                job.run_fn(),
                job.prefix,
                job.args[0]
            )?;
        }
        if let Some((decl, call)) = job.bench_fn() {
            writeln!(
                text,
                "{decl} {{\n  using V = {};\n  return {call};\n}}",
                job.prefix
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
        "shim/soc_preset.h",
        "shim/soc_preset_impl.h",
        "shim/coverage.h",
        "shim/bench.h",
        "shim/bench_impl.h",
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
         #include \"hlsk-cosim/shim/soc_preset.h\"\n\
         #include \"hlsk-cosim/shim/bench.h\"\n\
         #include \"hlsk-cosim/src/ffi.rs.h\"\n\
         namespace hlsk {\n",
    );
    // Each block's (block, dut), in the order of its first job.
    let mut blocks: Vec<(&str, &str)> = Vec::new();
    for j in jobs {
        let _ = writeln!(s, "{};", j.make_fn());
        if j.block == "Fifo" {
            let _ = writeln!(s, "{};", j.run_fn());
        }
        if let Some((decl, _)) = j.bench_fn() {
            let _ = writeln!(s, "{decl};");
        }
        if !blocks.iter().any(|&(b, _)| b == j.block) {
            blocks.push((j.block, j.dut));
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
    for (block, dut) in blocks {
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
    for (block, stim, args) in [
        (
            "Tlmm",
            "const TlmmBenchStim& stim, uint64_t cycles",
            "stim, cycles",
        ),
        (
            "Conv",
            "const ConvBenchStim& stim, uint64_t cycles",
            "stim, cycles",
        ),
        ("Soc", "rust::Slice<const uint8_t> rx", "rx"),
    ] {
        let sig = format!(
            "uint64_t {}_bench_run(size_t config, uint32_t seed, uint32_t reset_cycles, {stim})",
            block.to_lowercase()
        );
        dispatch(&mut s, &sig, block, &|p| {
            format!("bench_{p}(seed, reset_cycles, {args})")
        });
    }
    s.push_str("}  // namespace hlsk\n");
    s
}
