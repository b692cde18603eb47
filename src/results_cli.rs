//! `hlsk results`: builds every board and a few kernel presets, and writes
//! the table of resources, Fmax and peak kernel throughput
//! (`docs/results.md` and `docs/results.json`).

use crate::boards_cli::run_flow;
use crate::progress::Steps;
use anyhow::{Context, Result, bail};
use hlsk_boards::{BuildReport, Flow, Resource, known_boards, load_board};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A kernel preset: a board's SoC with other TLMM parameters, built without
/// the host link (`HostLink = 0`) and the convolution engine (`Conv = 0`) so
/// that the figures are the TLMM engine's. Without the link, the SoC top
/// feeds the engine, once its self-test is done, from bits shifted in on the
/// UART rx pin and folds its results and counters onto the tx pin (a
/// registered parity tree, so that it sets no clock): no input
/// synthesis could predict, no output it could drop, so every lane, row and
/// weight bit is built (the self-test's constant job alone let it prune the
/// lanes that job leaves idle).
struct Preset {
    name: &'static str,
    board: &'static str,
    params: &'static [(&'static str, i64)],
    why: &'static str,
    /// What place and route is asked for (nextpnr's `--freq`): the clock the
    /// engine aims at on this device, so the Fmax measured is what nextpnr
    /// reaches when it tries.
    target_mhz: f64,
}

const PRESETS: &[Preset] = &[
    Preset {
        name: "up5k-g3-t3-p4",
        board: "icebreaker",
        params: &[("G", 3), ("T", 3), ("P", 4), ("HostLink", 0)],
        why: "UP5K, G = 3 digits (Direct), 36 MAC/cycle",
        target_mhz: 40.0,
    },
    Preset {
        name: "up5k-g1-t9-p4",
        board: "icebreaker",
        params: &[("G", 1), ("T", 9), ("P", 4), ("HostLink", 0)],
        why: "UP5K, G = 1 direct ternary at the same 36 MAC/cycle",
        target_mhz: 40.0,
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
        target_mhz: 100.0,
    },
    Preset {
        name: "ecp5-85f-g3-t8-p32",
        board: "ulx3s",
        params: &[
            ("G", 3),
            ("T", 8),
            ("P", 32),
            ("KMax", 1024),
            ("HostLink", 0),
            ("Conv", 0),
        ],
        why: "ECP5-85F, G = 3, 768 MAC/cycle",
        target_mhz: 100.0,
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
        target_mhz: 100.0,
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

/// The error text of a build left out with `--skip` and found in no
/// previous `results.json`.
const SKIPPED: &str = "skipped (--skip): not built this time";

/// One row of `results.json`; a build left out with `--skip` keeps its row
/// of the previous file, marked `stale`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct JsonRow {
    build: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    params: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resources: Option<BTreeMap<String, Resource>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fmax_mhz: Option<f64>,
    /// The clock the bitstream runs at: the PLL's output, else the crystal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clock_mhz: Option<f64>,
    /// Where the clock comes from, e.g. `SB_PLL40_PAD on the 12 MHz crystal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clock_source: Option<String>,
    peak_macs_per_cycle: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    peak_gmacs_at_fmax: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    peak_gmacs_at_clock: Option<f64>,
    conv_peak_macs_per_cycle: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    conv_peak_gmacs_at_fmax: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    conv_peak_gmacs_at_clock: Option<f64>,
    /// The commit the build ran at (`git describe --always --dirty`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    commit: Option<String>,
    /// Set on a row carried over from the previous file (not rebuilt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The work tree's commit, `git describe --always --dirty`; `None` outside
/// a git checkout.
pub(crate) fn commit(root: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .current_dir(root)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// Builds everything not in `skip` (board or preset names) and writes the
/// tables under `out` (a folder); a skipped build keeps its row of the
/// previous `out/results.json`, marked as not rebuilt.
pub fn run(out: &Path, skip: &[String]) -> Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let boards = known_boards(&root);
    if let Some(s) = skip
        .iter()
        .find(|s| !boards.contains(s) && !PRESETS.iter().any(|p| p.name == s.as_str()))
    {
        let presets: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
        bail!(
            "--skip {s}: no such board or preset (boards: {}; presets: {})",
            boards.join(", "),
            presets.join(", ")
        );
    }
    // The tree the builds start from (others may commit while they run).
    let commit = commit(&root);
    let previous: Vec<JsonRow> = std::fs::read_to_string(out.join("results.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let skipped = |name: &str| {
        println!("hlsk results: {name} skipped (--skip)");
        Err(anyhow::anyhow!("{SKIPPED}"))
    };
    let mut rows = Vec::new();
    let mut steps = Steps::lines("hlsk results", (boards.len() + PRESETS.len()) as u64);
    for b in boards {
        steps.start(&b);
        let cfg = load_board(&root, &b)?;
        let r = if skip.contains(&b) {
            skipped(&b)
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
        // Presets measure the engine's Fmax: they run from the crystal,
        // whatever PLL clock the board's own SoC uses.
        cfg.clock.pll_mhz = None;
        let r = if skip.iter().any(|s| s == p.name) {
            skipped(p.name)
        } else {
            let flow = Flow::with_build_dir(&root, Path::new("build/presets").join(p.name))
                .with_pnr_target_mhz(p.target_mhz);
            run_flow(&cfg, &flow)
        };
        rows.push(row(format!("{} ({}: {})", p.name, p.board, p.why), &cfg, r));
        steps.inc();
    }
    steps.finish();
    let json_rows = json_rows(&rows, commit.as_deref(), &previous);
    let (md, json) = render(&json_rows)?;
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

/// Peak GMAC/s at `mhz` for `macs` per cycle.
fn gmacs(macs: i64, mhz: f64) -> f64 {
    macs as f64 * mhz / 1000.0
}

/// The rows of `results.json`: a built row at `commit`, a failed one with
/// its error, a skipped one as in `previous` (marked stale) if it is there.
fn json_rows(rows: &[Row], commit: Option<&str>, previous: &[JsonRow]) -> Vec<JsonRow> {
    rows.iter()
        .map(|r| {
            let conv = |mhz: Option<f64>| {
                mhz.filter(|_| r.conv_peak > 0)
                    .map(|f| gmacs(r.conv_peak, f))
            };
            let mut row = JsonRow {
                build: r.label.clone(),
                params: None,
                resources: None,
                fmax_mhz: None,
                clock_mhz: None,
                clock_source: None,
                peak_macs_per_cycle: r.peak,
                peak_gmacs_at_fmax: None,
                peak_gmacs_at_clock: None,
                conv_peak_macs_per_cycle: r.conv_peak,
                conv_peak_gmacs_at_fmax: None,
                conv_peak_gmacs_at_clock: None,
                commit: None,
                stale: None,
                error: r.error.clone(),
            };
            match (&r.report, r.error.as_deref()) {
                (Some(rep), _) => {
                    let fmax = rep.fmax_mhz.unwrap_or(0.0);
                    let clock = rep.target_mhz;
                    row.params = Some(rep.params.clone());
                    row.resources = Some(
                        rep.resources
                            .iter()
                            .map(|x| (x.kind.clone(), x.clone()))
                            .collect(),
                    );
                    row.fmax_mhz = Some(fmax);
                    row.clock_mhz = Some(clock);
                    row.clock_source = Some(match &rep.pll {
                        Some(p) => format!("{} on the {} MHz crystal", p.primitive, p.crystal_mhz),
                        None => "crystal".into(),
                    });
                    row.peak_gmacs_at_fmax = Some(gmacs(r.peak, fmax));
                    row.peak_gmacs_at_clock = Some(gmacs(r.peak, clock));
                    row.conv_peak_gmacs_at_fmax = conv(Some(fmax));
                    row.conv_peak_gmacs_at_clock = conv(Some(clock));
                    row.commit = commit.map(str::to_owned);
                    row
                }
                (None, Some(SKIPPED)) => match previous.iter().find(|p| p.build == r.label) {
                    Some(p) if p.error.is_none() => {
                        let mut p = p.clone();
                        p.stale = Some(format!(
                            "not rebuilt (--skip): the row of the previous results.json{}",
                            p.commit
                                .as_deref()
                                .map_or(String::new(), |c| format!(", built at {c}"))
                        ));
                        // Older files lack the figures at the clock.
                        p.peak_gmacs_at_clock =
                            p.clock_mhz.map(|f| gmacs(p.peak_macs_per_cycle, f));
                        p.conv_peak_gmacs_at_clock = p
                            .clock_mhz
                            .filter(|_| p.conv_peak_macs_per_cycle > 0)
                            .map(|f| gmacs(p.conv_peak_macs_per_cycle, f));
                        p
                    }
                    _ => row,
                },
                (None, _) => row,
            }
        })
        .collect()
}

fn used(r: &JsonRow, kind: &str) -> String {
    r.resources
        .iter()
        .flat_map(|m| m.values())
        .find(|x| x.kind == kind || (kind == "LUT" && x.kind == "LC"))
        .map_or("-".into(), |x| format!("{} / {}", x.used, x.available))
}

fn render(rows: &[JsonRow]) -> Result<(String, String)> {
    let mut md = String::from(
        "# Results\n\nWritten by `cargo run --release -p hlsk -- results` (every board's SoC, then kernel presets).\n\
         Resources after place and route (iCE40 counts logic cells), Fmax of the design's clock from nextpnr,\n\
         clock = what the bitstream runs at: the PLL's achieved output where the board file sets `pll_mhz`\n\
         (nextpnr's target, met), else the crystal; presets run from the crystal and measure the engine's Fmax\n\
         (placed and routed for 40 MHz on the UP5K, 100 MHz on the ECP5-85F: nextpnr stops pushing at a target it meets).\n\
         Presets leave the host link out; their engine runs, after the self-test, on bits shifted in from the\n\
         UART rx pin, its results and counters folded onto tx, so synthesis can prune none of it.\n\
         TLMM peak = G*T*P ternary MACs per cycle, conv peak = T*T*P 16-bit MACs per cycle of the convolution\n\
         engine (where the board's SoC carries it), peak throughput = peak * Fmax or peak * clock.\n\
         Each row names the commit it was built at (`git describe --always --dirty`); a row marked\n\
         *not rebuilt* was left out with `--skip` and is the previous file's.\n\n\
         | build | kernel | LUT | FF | DSP | BRAM | Fmax (MHz) | clock (MHz) | TLMM peak MAC/cycle | TLMM GMAC/s at Fmax | TLMM GMAC/s at clock | conv peak MAC/cycle | conv GMAC/s at Fmax | conv GMAC/s at clock | commit |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let opt = |g: Option<f64>| g.map_or("-".into(), |g| format!("{g:.2}"));
    for r in rows {
        let label = match &r.stale {
            Some(_) => format!("{} (*not rebuilt*)", r.build),
            None => r.build.clone(),
        };
        let conv_peak = if r.conv_peak_macs_per_cycle > 0 {
            r.conv_peak_macs_per_cycle.to_string()
        } else {
            "-".into()
        };
        match (&r.params, &r.error) {
            (Some(params), None) => {
                let clock = match (r.clock_mhz, r.clock_source.as_deref()) {
                    (Some(c), Some("crystal") | None) => format!("{c:.1}"),
                    (Some(c), Some(_)) => format!("{c:.1} (PLL)"),
                    (None, _) => "-".into(),
                };
                let _ = writeln!(
                    md,
                    "| {label} | {params} | {} | {} | {} | {} | {:.1} | {clock} | {} | {} | {} | {conv_peak} | {} | {} | {} |",
                    used(r, "LUT"),
                    used(r, "FF"),
                    used(r, "DSP"),
                    used(r, "BRAM"),
                    r.fmax_mhz.unwrap_or(0.0),
                    r.peak_macs_per_cycle,
                    opt(r.peak_gmacs_at_fmax),
                    opt(r.peak_gmacs_at_clock),
                    opt(r.conv_peak_gmacs_at_fmax),
                    opt(r.conv_peak_gmacs_at_clock),
                    r.commit.as_deref().unwrap_or("-"),
                );
            }
            (_, e) => {
                let msg = e.as_deref().unwrap_or_default();
                let _ = writeln!(
                    md,
                    "| {label} | {}{msg} | | | | | | | {} | | | {conv_peak} | | | |",
                    if msg == SKIPPED { "" } else { "failed: " },
                    r.peak_macs_per_cycle,
                );
            }
        }
    }
    let mut json = serde_json::to_string_pretty(rows).context("encoding results.json")?;
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
            pll: None,
            uart: None,
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
        let (md, json) = render(&json_rows(&rows, Some("abc1234"), &[])).unwrap();
        let lines: Vec<&str> = md.lines().filter(|l| l.starts_with("| ")).collect();
        // Header + three rows, every row with the header's column count.
        assert_eq!(lines.len(), 4);
        let cols = lines[0].matches('|').count();
        for l in &lines {
            assert_eq!(l.matches('|').count(), cols, "{l}");
        }
        // Peak, GMAC/s at Fmax and at the 25 MHz clock, conv the same.
        assert!(
            lines[1].contains("| 50.0 | 25.0 | 24 | 1.20 | 0.60 | - | - | - | abc1234 |"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].contains("| 48 | 1.92 | 1.20 | 4 | 0.16 | 0.10 |"),
            "{}",
            lines[2]
        );
        assert!(lines[3].contains("failed: timing"), "{}", lines[3]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v[1]["conv_peak_macs_per_cycle"], 4);
        assert_eq!(v[1]["resources"]["LUT"]["used"], 10);
        assert_eq!(v[1]["peak_gmacs_at_clock"], 1.2);
        assert_eq!(v[1]["clock_source"], "crystal");
        assert!(v[0].get("conv_peak_gmacs_at_fmax").is_none());
        assert_eq!(v[2]["error"], "timing: 20.0 MHz < 25.0 MHz");
    }

    #[test]
    fn a_skipped_build_keeps_its_previous_row_marked_stale() {
        let built = Row {
            label: "b".into(),
            report: Some(report(50.0)),
            error: None,
            peak: 24,
            conv_peak: 0,
        };
        let previous = json_rows(&[built], Some("old1234"), &[]);
        let skipped = |label: &str| Row {
            label: label.into(),
            report: None,
            error: Some(SKIPPED.into()),
            peak: 24,
            conv_peak: 0,
        };
        let rows = json_rows(&[skipped("b"), skipped("new")], Some("new5678"), &previous);
        let stale = rows[0].stale.as_deref().unwrap_or_default();
        assert!(stale.contains("built at old1234"), "{stale}");
        assert_eq!(
            (rows[0].fmax_mhz, rows[0].commit.as_deref()),
            (Some(50.0), Some("old1234"))
        );
        // Nothing to carry over: the row says it was skipped.
        assert_eq!(rows[1].error.as_deref(), Some(SKIPPED));
        let (md, _) = render(&rows).unwrap();
        assert!(md.contains("| b (*not rebuilt*) | G=3 |"), "{md}");
        assert!(md.contains("| new | skipped (--skip)"), "{md}");
        // A file from before the clock columns still reads.
        let old: Vec<JsonRow> = serde_json::from_str(
            r#"[{"build": "b", "params": "G=3", "fmax_mhz": 80.0, "clock_mhz": 25.0,
                 "peak_macs_per_cycle": 24, "peak_gmacs_at_fmax": 1.92,
                 "conv_peak_macs_per_cycle": 0}]"#,
        )
        .unwrap();
        let rows = json_rows(&[skipped("b")], None, &old);
        assert_eq!(rows[0].peak_gmacs_at_clock, Some(0.6));
    }
}
