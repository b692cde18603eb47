//! `hlsk results`: builds every board and a few kernel presets, and writes
//! the table of resources, Fmax and peak kernel throughput
//! (`docs/results.md` and `docs/results.json`).

use crate::boards_cli::run_flow;
use crate::progress::Steps;
use anyhow::{Context, Result, bail};
use hlsk_boards::{BuildReport, Flow, Resource, known_boards, load_board};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A kernel preset: a board's SoC with other TLMM parameters, built without
/// the host link (`HostLink = 0`) and the convolution engine (`Conv = 0`) so
/// that the figures are the TLMM engine's.
struct Preset {
    name: &'static str,
    board: &'static str,
    params: &'static [(&'static str, i64)],
    why: &'static str,
}

const PRESETS: &[Preset] = &[
    Preset {
        name: "up5k-g3-t3-p4",
        board: "icebreaker",
        params: &[("G", 3), ("T", 3), ("P", 4), ("HostLink", 0)],
        why: "UP5K, G = 3 tables, 36 MAC/cycle",
    },
    Preset {
        name: "up5k-g1-t9-p4",
        board: "icebreaker",
        params: &[("G", 1), ("T", 9), ("P", 4), ("HostLink", 0)],
        why: "UP5K, G = 1 direct ternary at the same 36 MAC/cycle",
    },
    Preset {
        name: "ecp5-85f-g3-t4-p16",
        board: "ulx3s",
        params: &[
            ("G", 3),
            ("T", 4),
            ("P", 16),
            ("KMax", 1024),
            ("HostLink", 0),
            ("Conv", 0),
        ],
        why: "ECP5-85F, G = 3, 192 MAC/cycle",
    },
    Preset {
        name: "ecp5-85f-g1-t12-p16",
        board: "ulx3s",
        params: &[
            ("G", 1),
            ("T", 12),
            ("P", 16),
            ("KMax", 1024),
            ("HostLink", 0),
            ("Conv", 0),
        ],
        why: "ECP5-85F, G = 1 at the same 192 MAC/cycle",
    },
];

struct Row {
    label: String,
    report: Option<BuildReport>,
    error: Option<String>,
    /// TLMM: G*T*P ternary MACs per cycle.
    peak: i64,
    /// Convolution engine: T*T*P 16-bit MACs per cycle (0 where the SoC has none).
    conv_peak: i64,
}

/// The error text of a board left out with `--skip`.
const SKIPPED: &str = "skipped (--skip): not built this time";

/// One row of `results.json`.
#[derive(Serialize)]
struct JsonRow<'a> {
    build: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<BTreeMap<&'a str, &'a Resource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fmax_mhz: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    clock_mhz: Option<f64>,
    peak_macs_per_cycle: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    peak_gmacs_at_fmax: Option<f64>,
    conv_peak_macs_per_cycle: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    conv_peak_gmacs_at_fmax: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// Builds everything and writes the tables under `out` (a folder).
pub fn run(out: &Path, skip: &[String]) -> Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let boards = known_boards(&root);
    if let Some(s) = skip.iter().find(|s| !boards.contains(s)) {
        bail!("--skip {s}: no such board (boards: {})", boards.join(", "));
    }
    let mut rows = Vec::new();
    let mut steps = Steps::lines("hlsk results", (boards.len() + PRESETS.len()) as u64);
    for b in boards {
        steps.start(&b);
        let cfg = load_board(&root, &b)?;
        let r = if skip.contains(&b) {
            println!("hlsk results: {b} skipped (--skip)");
            Err(anyhow::anyhow!("{SKIPPED}"))
        } else {
            let flow = Flow::new(&root, &cfg.board.name);
            run_flow(&cfg, &flow)
        };
        rows.push(row(b.clone(), &cfg, r));
        steps.inc();
    }
    for p in PRESETS {
        steps.start(p.name);
        let mut cfg = load_board(&root, p.board)?;
        for (k, v) in p.params {
            cfg.kernel.params.insert((*k).to_owned(), *v);
        }
        let flow = Flow::with_build_dir(&root, Path::new("build/presets").join(p.name));
        rows.push(row(
            format!("{} ({}: {})", p.name, p.board, p.why),
            &cfg,
            run_flow(&cfg, &flow),
        ));
        steps.inc();
    }
    steps.finish();
    let (md, json) = render(&rows)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    std::fs::write(out.join("results.md"), md).context("writing results.md")?;
    std::fs::write(out.join("results.json"), json).context("writing results.json")?;
    println!(
        "wrote {} and {}",
        out.join("results.md").display(),
        out.join("results.json").display()
    );
    let failed = rows
        .iter()
        .filter(|r| r.error.as_deref().is_some_and(|e| e != SKIPPED))
        .count();
    if failed > 0 {
        bail!("{failed} build(s) failed; see the table");
    }
    Ok(())
}

fn row(label: String, cfg: &hlsk_boards::BoardConfig, r: Result<BuildReport>) -> Row {
    let p = |k: &str| cfg.kernel.params.get(k).copied().unwrap_or(1);
    let peak = p("G") * p("T") * p("P");
    let has_conv = cfg.kernel.params.get("Conv").copied().unwrap_or(0) != 0;
    let conv_peak = if has_conv {
        p("ConvT") * p("ConvT") * p("ConvP")
    } else {
        0
    };
    let (report, error) = match r {
        Ok(report) => (Some(report), None),
        Err(e) => (None, Some(format!("{e:#}").replace('\n', " "))),
    };
    Row {
        label,
        report,
        error,
        peak,
        conv_peak,
    }
}

fn used(r: &BuildReport, kind: &str) -> String {
    r.resources
        .iter()
        .find(|x| x.kind == kind || (kind == "LUT" && x.kind == "LC"))
        .map_or("-".into(), |x| format!("{} / {}", x.used, x.available))
}

/// Peak GMAC/s at `fmax` MHz for `macs` per cycle.
fn gmacs(macs: i64, fmax: f64) -> f64 {
    macs as f64 * fmax / 1000.0
}

fn render(rows: &[Row]) -> Result<(String, String)> {
    let mut md = String::from(
        "# Results\n\nWritten by `cargo run --release -p hlsk -- results` (every board's SoC, then kernel presets).\n\
         Resources after place and route (iCE40 counts logic cells), Fmax of the board clock from nextpnr,\n\
         TLMM peak = G*T*P ternary MACs per cycle, conv peak = T*T*P 16-bit MACs per cycle of the convolution\n\
         engine (where the board's SoC carries it), peak throughput = peak * Fmax.\n\n\
         | build | kernel | LUT | FF | DSP | BRAM | Fmax (MHz) | clock (MHz) | TLMM peak MAC/cycle | TLMM GMAC/s at Fmax | conv peak MAC/cycle | conv GMAC/s at Fmax |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut json_rows = Vec::new();
    for r in rows {
        let conv = |g: f64| {
            if r.conv_peak > 0 {
                format!("{g:.2}")
            } else {
                "-".into()
            }
        };
        match (&r.report, &r.error) {
            (Some(rep), _) => {
                let fmax = rep.fmax_mhz.unwrap_or(0.0);
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {} | {:.2} | {} | {} |",
                    r.label,
                    rep.params,
                    used(rep, "LUT"),
                    used(rep, "FF"),
                    used(rep, "DSP"),
                    used(rep, "BRAM"),
                    fmax,
                    rep.target_mhz,
                    r.peak,
                    gmacs(r.peak, fmax),
                    if r.conv_peak > 0 {
                        r.conv_peak.to_string()
                    } else {
                        "-".into()
                    },
                    conv(gmacs(r.conv_peak, fmax)),
                );
                json_rows.push(JsonRow {
                    build: &r.label,
                    params: Some(&rep.params),
                    resources: Some(rep.resources.iter().map(|x| (x.kind.as_str(), x)).collect()),
                    fmax_mhz: Some(fmax),
                    clock_mhz: Some(rep.target_mhz),
                    peak_macs_per_cycle: r.peak,
                    peak_gmacs_at_fmax: Some(gmacs(r.peak, fmax)),
                    conv_peak_macs_per_cycle: r.conv_peak,
                    conv_peak_gmacs_at_fmax: (r.conv_peak > 0).then(|| gmacs(r.conv_peak, fmax)),
                    error: None,
                });
            }
            (None, e) => {
                let msg = e.as_deref().unwrap_or_default();
                let _ = writeln!(
                    md,
                    "| {} | {}{} | | | | | | | {} | | {} | |",
                    r.label,
                    if msg == SKIPPED { "" } else { "failed: " },
                    msg,
                    r.peak,
                    r.conv_peak
                );
                json_rows.push(JsonRow {
                    build: &r.label,
                    params: None,
                    resources: None,
                    fmax_mhz: None,
                    clock_mhz: None,
                    peak_macs_per_cycle: r.peak,
                    peak_gmacs_at_fmax: None,
                    conv_peak_macs_per_cycle: r.conv_peak,
                    conv_peak_gmacs_at_fmax: None,
                    error: Some(msg),
                });
            }
        }
    }
    let mut json = serde_json::to_string_pretty(&json_rows).context("encoding results.json")?;
    json.push('\n');
    Ok((md, json))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(fmax: f64) -> BuildReport {
        BuildReport {
            board: "b".into(),
            device: "d".into(),
            top: "hlsk_soc_top".into(),
            params: "G=3".into(),
            bitstream: PathBuf::from("build/b/b.bit"),
            resources: vec![Resource {
                kind: "LUT".into(),
                used: 10,
                available: 100,
            }],
            fmax_mhz: Some(fmax),
            target_mhz: 25.0,
            stages: Vec::new(),
            total_seconds: 1.0,
        }
    }

    #[test]
    fn presets_measure_the_tlmm_engine_alone() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        for p in PRESETS {
            let mut cfg = load_board(&root, p.board).unwrap();
            for (k, v) in p.params {
                cfg.kernel.params.insert((*k).to_owned(), *v);
            }
            let get = |k: &str| cfg.kernel.params.get(k).copied().unwrap_or(0);
            assert_eq!(get("HostLink"), 0, "{}: host link built in", p.name);
            assert_eq!(get("Conv"), 0, "{}: conv engine built in", p.name);
        }
    }

    #[test]
    fn table_and_json_carry_both_engines_and_failures() {
        let rows = [
            Row {
                label: "tlmm-only".into(),
                report: Some(report(50.0)),
                error: None,
                peak: 24,
                conv_peak: 0,
            },
            Row {
                label: "with-conv".into(),
                report: Some(report(40.0)),
                error: None,
                peak: 48,
                conv_peak: 4,
            },
            Row {
                label: "broken".into(),
                report: None,
                error: Some("timing: 20.0 MHz < 25.0 MHz".into()),
                peak: 12,
                conv_peak: 0,
            },
        ];
        let (md, json) = render(&rows).unwrap();
        let lines: Vec<&str> = md.lines().filter(|l| l.starts_with("| ")).collect();
        // Header + three rows, every row with the header's column count.
        assert_eq!(lines.len(), 4);
        let cols = lines[0].matches('|').count();
        for l in &lines {
            assert_eq!(l.matches('|').count(), cols, "{l}");
        }
        assert!(lines[1].contains("| 24 | 1.20 | - | - |"), "{}", lines[1]);
        assert!(
            lines[2].contains("| 48 | 1.92 | 4 | 0.16 |"),
            "{}",
            lines[2]
        );
        assert!(lines[3].contains("failed: timing"), "{}", lines[3]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v[1]["conv_peak_macs_per_cycle"], 4);
        assert_eq!(v[1]["resources"]["LUT"]["used"], 10);
        assert!(v[0].get("conv_peak_gmacs_at_fmax").is_none());
        assert_eq!(v[2]["error"], "timing: 20.0 MHz < 25.0 MHz");
    }
}
