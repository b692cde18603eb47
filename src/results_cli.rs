//! `hlsk results`: builds every board and a few kernel presets, and writes
//! the table of resources, Fmax and peak kernel throughput
//! (`docs/results.md` and `docs/results.json`).

use crate::boards_cli::run_flow;
use anyhow::{Context, Result, bail};
use hlsk_boards::{BuildReport, Flow, known_boards, load_board};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A kernel preset: a board's SoC with other TLMM parameters, built without
/// the host link (`HostLink = 0`) so that the figures are the engine's.
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
        ],
        why: "ECP5-85F, G = 1 at the same 192 MAC/cycle",
    },
];

struct Row {
    label: String,
    report: Option<BuildReport>,
    error: Option<String>,
    peak: i64,
}

/// Builds everything and writes the tables under `out` (a folder).
pub fn run(out: &Path) -> Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut rows = Vec::new();
    for b in known_boards(&root) {
        let cfg = load_board(&root, &b)?;
        let flow = Flow::new(&root, &cfg.board.name);
        rows.push(row(b.clone(), &cfg, run_flow(&cfg, &flow)));
    }
    for p in PRESETS {
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
    }
    let (md, json) = render(&rows);
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    std::fs::write(out.join("results.md"), md).context("writing results.md")?;
    std::fs::write(out.join("results.json"), json).context("writing results.json")?;
    println!(
        "wrote {} and {}",
        out.join("results.md").display(),
        out.join("results.json").display()
    );
    let failed = rows.iter().filter(|r| r.error.is_some()).count();
    if failed > 0 {
        bail!("{failed} build(s) failed; see the table");
    }
    Ok(())
}

fn row(label: String, cfg: &hlsk_boards::BoardConfig, r: Result<BuildReport>) -> Row {
    let p = |k: &str| cfg.kernel.params.get(k).copied().unwrap_or(1);
    let peak = p("G") * p("T") * p("P");
    match r {
        Ok(report) => Row {
            label,
            report: Some(report),
            error: None,
            peak,
        },
        Err(e) => Row {
            label,
            report: None,
            error: Some(format!("{e:#}")),
            peak,
        },
    }
}

fn used(r: &BuildReport, kind: &str) -> String {
    r.resources
        .iter()
        .find(|x| x.kind == kind || (kind == "LUT" && x.kind == "LC"))
        .map_or("-".into(), |x| format!("{} / {}", x.used, x.available))
}

fn render(rows: &[Row]) -> (String, String) {
    let mut md = String::from(
        "# Results\n\nWritten by `cargo run --release -p hlsk -- results` (every board's SoC, then kernel presets).\n\
         Resources after place and route (iCE40 counts logic cells), Fmax of the board clock from nextpnr,\n\
         peak = G*T*P ternary MACs per cycle, peak throughput = peak * Fmax.\n\n\
         | build | kernel | LUT | FF | DSP | BRAM | Fmax (MHz) | clock (MHz) | peak MAC/cycle | peak GMAC/s at Fmax |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut json = String::from("[\n");
    for (i, r) in rows.iter().enumerate() {
        match (&r.report, &r.error) {
            (Some(rep), _) => {
                let fmax = rep.fmax_mhz.unwrap_or(0.0);
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {} | {:.2} |",
                    r.label,
                    rep.params,
                    used(rep, "LUT"),
                    used(rep, "FF"),
                    used(rep, "DSP"),
                    used(rep, "BRAM"),
                    fmax,
                    rep.target_mhz,
                    r.peak,
                    r.peak as f64 * fmax / 1000.0
                );
                let res: Vec<String> = rep
                    .resources
                    .iter()
                    .map(|x| {
                        format!(
                            "\"{}\": {{\"used\": {}, \"available\": {}}}",
                            x.kind, x.used, x.available
                        )
                    })
                    .collect();
                let _ = write!(
                    json,
                    "  {{\"build\": \"{}\", \"params\": \"{}\", \"resources\": {{{}}}, \"fmax_mhz\": {:.3}, \"clock_mhz\": {:.3}, \"peak_macs_per_cycle\": {}, \"peak_gmacs_at_fmax\": {:.4}}}",
                    r.label,
                    rep.params,
                    res.join(", "),
                    fmax,
                    rep.target_mhz,
                    r.peak,
                    r.peak as f64 * fmax / 1000.0
                );
            }
            (None, e) => {
                let msg = e.clone().unwrap_or_default().replace('\n', " ");
                let _ = writeln!(
                    md,
                    "| {} | failed: {} | | | | | | | {} | |",
                    r.label, msg, r.peak
                );
                let _ = write!(
                    json,
                    "  {{\"build\": \"{}\", \"error\": \"{}\"}}",
                    r.label,
                    msg.replace('"', "'")
                );
            }
        }
        json.push_str(if i + 1 < rows.len() { ",\n" } else { "\n" });
    }
    json.push_str("]\n");
    (md, json)
}
