//! `hlsk link-bench`: one TLMM job on a board's digital twin, timed on the
//! board at several UART baud rates: bytes on the link, link time, engine
//! time, job time. A benchmark (figures and JSON), not a test.
//!
//! The job runs on every twin build that carries the board's kernel (the
//! iCEBreaker's kernel is built at 3 Mbaud for it and at 115,200 for the
//! Tang Nano 9K). At 8 clock cycles per bit in every build, a fault-free job
//! takes the same bytes and the same cycles whatever the rate (the one
//! rate-dependent part of the SoC, the 20 ms truncation timeout, never
//! fires), which the bench checks across those builds; a rate without a
//! build of its own is that job read at the rate. Each row then puts the
//! job on the board: link bytes at the rate plus engine cycles at the
//! board's clock ([`BoardTime`]), and says which divider the board's clock
//! gives the rate (or that none is within 2 %).

use anyhow::{Context, Result, bail};
use clap::Args;
use hls_rust::rng::Rng;
use hls_rust::tlmm::TernaryMatrix;
use hlsk_boards::uart::UartDivider;
use hlsk_cosim::SocConfig;
use hlsk_cosim::configs::SOC_CONFIGS;
use hlsk_host::job::run_tlmm;
use hlsk_host::{Link, LinkConfig};
use hlsk_sim::twin::{BoardTime, Twin};
use serde::Serialize;
use std::path::PathBuf;

/// Arguments of `hlsk link-bench`.
#[derive(Args)]
pub struct LinkBenchArgs {
    #[command(flatten)]
    board: crate::boards_cli::BoardArg,
    /// Baud rates to time the job at.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "115200,1000000,2000000,3000000"
    )]
    bauds: Vec<u32>,
    /// Output rows M.
    #[arg(long, default_value_t = 16)]
    m: usize,
    /// Activations K (default: the engine's KMax).
    #[arg(long)]
    k: Option<usize>,
    /// Seed of the data and the twins' power-up state.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// JSON output (default: target/bench/link-<board>.json).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// What one twin build measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
struct Measured {
    /// The build's baud rate.
    baud: u32,
    /// Bytes on the line, both directions.
    link_bytes: u64,
    /// Host to device.
    bytes_out: u64,
    /// Device to host.
    bytes_in: u64,
    /// The device's job cycles.
    engine_cycles: u64,
    /// Cycles the twin simulated, first upload to last result.
    twin_cycles: u64,
}

/// One row of the table.
#[derive(Debug, Clone, Serialize)]
struct Row {
    baud: u32,
    /// Clock cycles per bit at the board's clock, if within 2 %.
    divider: Option<u32>,
    /// Its rate error, percent.
    divider_error_pct: Option<f64>,
    link_bytes: u64,
    link_ms: f64,
    engine_us: f64,
    job_ms: f64,
    twin_ms: f64,
    /// A twin build at this rate ran the job (else: the job's cycles read at
    /// this rate).
    ran: bool,
}

/// The JSON file.
#[derive(Debug, Serialize)]
struct Report {
    board: String,
    commit: String,
    clk_hz: u64,
    board_baud: u32,
    m: usize,
    k: usize,
    seed: u64,
    twin_clks_per_bit: u32,
    builds: Vec<Measured>,
    rows: Vec<Row>,
}

/// Runs `hlsk link-bench`.
pub fn run(args: &LinkBenchArgs) -> Result<()> {
    let name = &args.board.board;
    let root = crate::boards_cli::root();
    let board = hlsk_boards::load_board(&root, name)?;
    let own = SocConfig::for_board(name)
        .map(|i| SOC_CONFIGS[i])
        .with_context(|| format!("no digital twin of board {name}"))?;
    let same_kernel = |c: &SocConfig| {
        SocConfig {
            boards: own.boards,
            baud: own.baud,
            ..*c
        } == own
    };
    let builds: Vec<usize> = (0..SOC_CONFIGS.len())
        .filter(|&i| same_kernel(&SOC_CONFIGS[i]))
        .collect();
    let clk = board.clk_hz();
    let k = args.k.unwrap_or(own.k_max as usize);
    println!(
        "hlsk link-bench: board {name} ({:.3} MHz, [uart] baud = {}), TLMM job M = {}, K = {k} \
         (random, seed {}), on {} twin build(s) of its kernel",
        clk as f64 / 1e6,
        board.uart.baud,
        args.m,
        args.seed,
        builds.len()
    );
    let mut measured: Vec<Measured> = Vec::new();
    for &i in &builds {
        let m = measure(i, args.m, k, args.seed)?;
        println!(
            "  build {i} ({}, {} baud): {} bytes ({} out, {} in), {} job cycles, {} cycles simulated",
            SOC_CONFIGS[i].name(),
            m.baud,
            m.link_bytes,
            m.bytes_out,
            m.bytes_in,
            m.engine_cycles,
            m.twin_cycles
        );
        if let Some(first) = measured.first() {
            let strip = |x: &Measured| Measured { baud: 0, ..*x };
            if strip(first) != strip(&m) {
                bail!(
                    "the job took different bytes or cycles at {} and {} baud ({first:?} vs {m:?}); \
                     the rows cannot share one measurement",
                    first.baud,
                    m.baud
                );
            }
        }
        measured.push(m);
    }
    let base = measured[0];
    let rows: Vec<Row> = args
        .bauds
        .iter()
        .map(|&baud| {
            let div = UartDivider::new(clk, baud).ok();
            let t = BoardTime {
                link_bytes: base.link_bytes,
                baud,
                engine_cycles: base.engine_cycles,
                clk_hz: clk,
                twin_cycles: base.twin_cycles,
                twin_clk_hz: baud * SocConfig::TWIN_CLKS_PER_BIT,
            };
            Row {
                baud,
                divider: div.map(|d| d.clks_per_bit),
                divider_error_pct: div.map(|d| d.error() * 100.0),
                link_bytes: t.link_bytes,
                link_ms: t.link_s() * 1e3,
                engine_us: t.engine_s() * 1e6,
                job_ms: t.job_s() * 1e3,
                twin_ms: t.twin_s() * 1e3,
                ran: measured.iter().any(|m| m.baud == baud),
            }
        })
        .collect();
    println!();
    println!(
        "| baud | divider at {:.0} MHz | bytes on the link | link time | engine time | job time \
         on the board | twin's simulated time |",
        clk as f64 / 1e6
    );
    println!("|---:|---|---:|---:|---:|---:|---:|");
    for r in &rows {
        let div = match (r.divider, r.divider_error_pct) {
            (Some(d), Some(e)) => format!("{d} ({e:+.2} %)"),
            _ => "none within 2 %".to_owned(),
        };
        println!(
            "| {}{} | {div} | {} | {:.2} ms | {:.1} us | {:.2} ms | {:.2} ms |",
            thousands(u64::from(r.baud)),
            if r.ran { "" } else { "*" },
            thousands(r.link_bytes),
            r.link_ms,
            r.engine_us,
            r.job_ms,
            r.twin_ms
        );
    }
    let checked = if measured.len() > 1 {
        "checked across the builds above"
    } else {
        "as the iCEBreaker kernel's builds at 3 Mbaud and 115,200 show"
    };
    println!(
        "\n* no twin build at this rate: the job's bytes and cycles (the same at every rate, \
         {checked}) read at it"
    );
    let report = Report {
        board: name.clone(),
        commit: crate::results_cli::commit(&root).unwrap_or_else(|| "unknown".to_owned()),
        clk_hz: clk,
        board_baud: board.uart.baud,
        m: args.m,
        k,
        seed: args.seed,
        twin_clks_per_bit: SocConfig::TWIN_CLKS_PER_BIT,
        builds: measured,
        rows,
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| root.join(format!("target/bench/link-{name}.json")));
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    }
    std::fs::write(&out, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("{}", out.display()))?;
    println!("json: {}", out.display());
    Ok(())
}

/// Runs the job on a fresh twin of build `config`; fails unless it matches
/// the reference without a retry.
fn measure(config: usize, m: usize, k: usize, seed: u64) -> Result<Measured> {
    let twin = Twin::new(config, seed as u32, None)?;
    let baud = twin.config().baud;
    let mut link = Link::connect(
        twin,
        LinkConfig {
            baud,
            ..LinkConfig::default()
        },
    )
    .context("connecting to the digital twin")?;
    let mut rng = Rng::new(seed);
    let w = TernaryMatrix::random(m, k, 0.3, &mut rng);
    let x: Vec<i8> = (0..k).map(|_| rng.below(256) as u8 as i8).collect();
    let (s0, c0) = (link.stats(), link.transport().cycles());
    let o = run_tlmm(&mut link, &w, &x, &mut |_| {})?;
    let s1 = link.stats();
    if !o.passed() || s1.retries != 0 {
        bail!(
            "build {config}: the job failed or was retried ({} mismatches, {} retries)",
            o.mismatches().len(),
            s1.retries
        );
    }
    let (bytes_out, bytes_in) = (
        s1.bytes_sent - s0.bytes_sent,
        s1.bytes_received - s0.bytes_received,
    );
    Ok(Measured {
        baud,
        link_bytes: bytes_out + bytes_in,
        bytes_out,
        bytes_in,
        engine_cycles: u64::from(o.status.job_cycles),
        twin_cycles: link.transport().cycles() - c0,
    })
}

/// `3,000,000`.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(115_200), "115,200");
        assert_eq!(thousands(3_000_000), "3,000,000");
    }
}
