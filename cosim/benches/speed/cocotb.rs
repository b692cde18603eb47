//! The cocotb peer: writes an engine's stimulus as JSON, runs
//! `cosim/cocotb/run.py` (cocotb 1.9's Verilator flow, testbench
//! `speed_tb.py`) under the project venv, and compares its checksum with the
//! Rust driver's over the same cycles.

use super::common::CocotbFigure;
use super::{conv, soc, tlmm};
use hlsk_cosim::configs::{CONV_CONFIGS, SOC_CONFIGS, TLMM_CONFIGS};
use hlsk_cosim::{ConvBenchStim, RESET_CYCLES, TlmmBenchStim};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Cycles cocotb drives per engine: a prefix of the Rust/C++ stimulus (its
/// Python loop runs a few thousand cycles a second). The SoC's prefix
/// covers the boot, the upload (about 300,000 cycles) and the first jobs.
const TLMM_CYCLES: u64 = 20_000;
const CONV_CYCLES: u64 = 20_000;
const SOC_CYCLES: u64 = 400_000;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn python() -> PathBuf {
    root().join(".venv/bin/python")
}

/// Whether cocotb is installed in the project venv.
pub fn available() -> bool {
    root().join(".venv/bin/cocotb-config").exists() && python().exists()
}

fn list<T: std::fmt::Display>(v: &[T]) -> String {
    let mut s = String::from("[");
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{x}");
    }
    s.push(']');
    s
}

fn params(p: &[(&str, u32)]) -> String {
    let fields: Vec<String> = p.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
    format!("{{{}}}", fields.join(", "))
}

/// Writes `body` (the engine's fields) with the common header, runs
/// cocotb, and checks its checksum against `expect`.
fn run(
    engine: &str,
    top: &str,
    params: String,
    cycles: u64,
    body: String,
    expect: u64,
) -> Result<CocotbFigure, String> {
    let dir = root().join("target/bench/cocotb").join(engine);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let stim = dir.join("stim.json");
    let result = dir.join("result.txt");
    let json = format!(
        "{{\"engine\": \"{engine}\", \"top\": \"{top}\", \"params\": {params}, \"cycles\": {cycles}, \"reset_cycles\": {RESET_CYCLES}, {body}}}\n"
    );
    std::fs::write(&stim, json).map_err(|e| format!("{}: {e}", stim.display()))?;
    let log = dir.join("run.log");
    let log_file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let status = Command::new(python())
        .arg(root().join("cosim/cocotb/run.py"))
        .arg(&stim)
        .arg(&result)
        .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
        .stderr(log_file)
        .status()
        .map_err(|e| format!("could not run {}: {e}", python().display()))?;
    let text = std::fs::read_to_string(&result).map_err(|_| {
        format!(
            "cocotb run failed ({status}); see {}",
            log.strip_prefix(root()).unwrap_or(&log).display()
        )
    })?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .map(str::trim)
            .ok_or_else(|| format!("{}: no {name}", result.display()))
    };
    let seconds: f64 = field("seconds")?
        .parse()
        .map_err(|e| format!("seconds: {e}"))?;
    let checksum = u64::from_str_radix(field("checksum")?.trim_start_matches("0x"), 16)
        .map_err(|e| format!("checksum: {e}"))?;
    Ok(CocotbFigure {
        cycles,
        mcps: cycles as f64 / seconds / 1e6,
        checksum_agrees: checksum == expect,
    })
}

/// cocotb on the TLMM engine.
pub fn run_tlmm(stim: &TlmmBenchStim) -> Result<CocotbFigure, String> {
    let c = TLMM_CONFIGS[tlmm::BUILD];
    let body = format!(
        "\"cmd_m\": {}, \"cmd_k\": {}, \"cmd_flags\": {}, \"act_data\": {}, \"act_last\": {}, \"w_data\": {}, \"w_last\": {}, \"w_words\": {}, \"gates\": {}",
        list(&stim.cmd_m),
        list(&stim.cmd_k),
        list(&stim.cmd_flags),
        list(&stim.act_data),
        list(&stim.act_last),
        list(&stim.w_data),
        list(&stim.w_last),
        stim.w_words,
        list(&stim.gates)
    );
    let expect = tlmm::rust_run(stim, TLMM_CYCLES, &mut tlmm::Activity::default());
    let p = params(&[
        ("G", c.g),
        ("T", c.t),
        ("P", c.p),
        ("AccW", c.acc_w),
        ("KMax", c.k_max),
        ("Direct", c.direct),
    ]);
    run("tlmm", c.top(), p, TLMM_CYCLES, body, expect)
}

/// cocotb on the conv engine.
pub fn run_conv(stim: &ConvBenchStim) -> Result<CocotbFigure, String> {
    let c = CONV_CONFIGS[conv::BUILD];
    let body = format!(
        "\"t\": {}, \"wait\": {}, \"desc\": {}, \"mem\": {}, \"gates\": {}",
        c.t,
        stim.wait,
        list(&stim.desc),
        list(&stim.mem),
        list(&stim.gates)
    );
    let expect = conv::rust_run(stim, CONV_CYCLES, &mut conv::Activity::default());
    let p = params(&[
        ("T", c.t),
        ("P", c.p),
        ("AccW", c.acc_w),
        ("AccWWu", c.acc_w_wu),
        ("InWords", c.in_words),
        ("WWords", c.w_words),
        ("OutEnt", c.out_ent),
        ("GEnt", c.g_ent),
    ]);
    run("conv", "conv_engine", p, CONV_CYCLES, body, expect)
}

/// cocotb on the SoC twin.
pub fn run_soc(rx: &[u8]) -> Result<CocotbFigure, String> {
    let c = SOC_CONFIGS[soc::BUILD];
    let n = (SOC_CYCLES as usize).min(rx.len());
    let line: String = rx[..n]
        .iter()
        .map(|&l| if l != 0 { '1' } else { '0' })
        .collect();
    let body = format!(
        "\"btn_active_low\": {}, \"rx\": \"{line}\"",
        c.btn_active_low
    );
    let expect = soc::rust_run(&rx[..n], None);
    let p = params(&[
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
    ]);
    run("soc", "hlsk_soc_top", p, n as u64, body, expect)
}
