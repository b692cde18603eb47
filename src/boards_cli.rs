//! The board subcommands: `hlsk boards`, `build`, `report`, `program`.
//! The flow itself lives in `hlsk-boards`; this turns its results and
//! errors into terminal output.

use anyhow::{Context, Result, bail};
use clap::Args;
use hlsk_boards::clock_search::{self, Verdict};
use hlsk_boards::stage::Outcome;
use hlsk_boards::{
    BoardConfig, BuildReport, Design, Family, Flow, FlowError, Progress, known_boards, load_board,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

/// The board a subcommand works on.
#[derive(Args)]
pub struct BoardArg {
    /// Board name (a file boards/<BOARD>.toml; `hlsk boards` lists them).
    #[arg(long, short, default_value = "icebreaker")]
    pub board: String,
}

/// The repository root (the `hlsk` package sits there).
pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(board: &str) -> Result<BoardConfig> {
    Ok(load_board(&root(), board)?)
}

/// `hlsk boards`: every board file, one line each.
pub fn list() -> Result<()> {
    let root = root();
    let names = known_boards(&root);
    if names.is_empty() {
        bail!("no board files in {}", root.join("boards").display());
    }
    for name in names {
        match load_board(&root, &name) {
            Ok(cfg) => {
                let params: Vec<String> = cfg
                    .kernel
                    .params
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                let clock = match cfg.clock.pll_mhz {
                    Some(f) => format!("{f} MHz (PLL on {} MHz)", cfg.clock.freq_mhz),
                    None => format!("{} MHz", cfg.clock.freq_mhz),
                };
                println!(
                    "{:<14} {:<40} {:<23} {} {}",
                    name,
                    cfg.device_name(),
                    clock,
                    cfg.kernel.engine,
                    params.join(" ")
                );
            }
            Err(e) => println!("{name:<14} invalid: {e}"),
        }
    }
    Ok(())
}

/// `hlsk build --clock`: the clock to build for instead of the board
/// file's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClockChoice {
    /// The fastest PLL setting that meets timing ([`build_auto`]).
    Auto,
    /// This PLL frequency, MHz (as `[clock] pll_mhz` would ask).
    Mhz(f64),
}

impl FromStr for ClockChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<ClockChoice, String> {
        if s == "auto" {
            return Ok(ClockChoice::Auto);
        }
        match s.parse::<f64>() {
            Ok(f) if f > 0.0 && f <= 1000.0 => Ok(ClockChoice::Mhz(f)),
            _ => Err(format!(
                "{s:?} is neither `auto` nor a frequency in MHz (0 < f <= 1000)"
            )),
        }
    }
}

/// `hlsk build`: runs the flow and prints the report; `--clock` overrides
/// the board file's PLL frequency or, `auto`, searches for the fastest.
pub fn build(arg: &BoardArg, clock: Option<ClockChoice>) -> Result<()> {
    let mut cfg = load(&arg.board)?;
    let flow = Flow::new(&root(), &cfg.board.name);
    match clock {
        Some(ClockChoice::Auto) => return build_auto(cfg, &flow),
        Some(ClockChoice::Mhz(f)) => cfg.clock.pll_mhz = Some(f),
        None => {}
    }
    let report = run_flow(&cfg, &flow)?;
    println!("{report}");
    println!(
        "report: {}",
        flow.build_dir().join("build-report.json").display()
    );
    Ok(())
}

/// Place-and-route tries of `--clock auto` at most.
const AUTO_MAX_TRIES: usize = 8;
/// Real builds at the chosen clock and those below it, should the build at
/// the chosen clock's own `ClkHz` place differently and miss.
const AUTO_FINAL_BUILDS: usize = 3;

/// The highest clock `--clock auto` asks the PLL tool for, MHz: above what
/// the family's fabric reaches (nextpnr's figures for this project's
/// designs: UP5K 25-45, ECP5 80-110, GW1N 40), so the search's first
/// failure bounds it.
fn auto_ceiling_mhz(cfg: &BoardConfig) -> f64 {
    match cfg.device.family {
        Family::Ice40 if cfg.device.part.starts_with("up") => 80.0,
        Family::Ice40 => 150.0,
        Family::Ecp5 => 200.0,
        Family::Gowin => 150.0,
    }
}

/// `hlsk build --clock auto`: the fastest PLL clock that meets timing.
///
/// The PLL tool is asked for every whole MHz from the crystal up to
/// [`auto_ceiling_mhz`]; what it makes (and the UART divides) are the
/// candidates. The design is synthesized once, at the lowest candidate, in
/// `build/<board>/clock-auto/` (incremental: a rerun with the same RTL
/// synthesizes nothing), and each try places and routes it aiming at one
/// candidate ([`clock_search::search`]: bisection steered by nextpnr's
/// Fmax, early stop when the highest met candidate's next one up failed).
/// Then the board is built for real at the highest met candidate (its own
/// `ClkHz`, so its own netlist); should that placement miss, the next
/// candidates down are built, [`AUTO_FINAL_BUILDS`] in all. The flow keeps
/// the previous bitstream on every failure.
fn build_auto(cfg: BoardConfig, flow: &Flow) -> Result<()> {
    let root = root();
    let design = Design::for_board(&cfg, &root).context("listing the SoC's RTL files")?;
    let with_uart = design.params.iter().any(|(k, _)| k == "Baud");
    let lo = cfg.clock.freq_mhz.ceil().max(1.0) as u32;
    let hi = auto_ceiling_mhz(&cfg) as u32;
    let asks: Vec<f64> = (lo..=hi).map(f64::from).collect();
    let probe = Flow::with_build_dir(&root, flow.build_dir().join("clock-auto"));
    println!(
        "hlsk build --clock auto: {}: asking the PLL tool for {lo}-{hi} MHz from the {} MHz crystal",
        cfg.board.name, cfg.clock.freq_mhz
    );
    let plls = probe.pll_candidates(&cfg, &asks, with_uart)?;
    let Some(lowest) = plls.first() else {
        bail!(
            "--clock auto: the PLL makes none of {lo}-{hi} MHz from {} MHz{}; set [clock] \
             pll_mhz in boards/{}.toml by hand",
            cfg.clock.freq_mhz,
            if with_uart {
                " that the UART's baud rate divides"
            } else {
                ""
            },
            cfg.board.name
        );
    };
    let candidates: Vec<f64> = plls.iter().map(|p| p.achieved_mhz).collect();
    let list: Vec<String> = candidates.iter().map(|c| format!("{c:.3}")).collect();
    println!(
        "  {} candidates (MHz): {}",
        candidates.len(),
        list.join(" ")
    );
    let mut base = cfg.clone();
    base.clock.pll_mhz = Some(lowest.requested_mhz);
    let mut n = 0;
    let search = clock_search::search(&candidates, AUTO_MAX_TRIES, |mhz| -> Result<f64> {
        n += 1;
        println!(
            "  try {n}: place and route aiming at {mhz:.3} MHz (synthesis at {:.3} MHz, reused)",
            lowest.achieved_mhz
        );
        let trial = probe.clone().with_pnr_target_mhz(mhz);
        let fmax = match run_flow(&base, &trial) {
            Ok(r) => r
                .fmax_mhz
                .context("nextpnr's report has no Fmax for the design's clock")?,
            Err(e) => match e.downcast_ref::<FlowError>() {
                // Even the lowest candidate missed: its Fmax still steers.
                Some(FlowError::Timing { fmax, .. }) => *fmax,
                _ => return Err(e),
            },
        };
        println!(
            "  try {n}: Fmax {fmax:.2} MHz aiming at {mhz:.3}: {}",
            if fmax >= mhz { "met" } else { "failed" }
        );
        Ok(fmax)
    })?;
    let tried: Vec<String> = search
        .tries
        .iter()
        .map(|t| {
            format!(
                "{:.3} ({}, Fmax {:.2})",
                t.mhz,
                if t.verdict == Verdict::Met {
                    "met"
                } else {
                    "failed"
                },
                t.fmax_mhz
            )
        })
        .collect();
    let Some(best) = search.best() else {
        bail!(
            "--clock auto: no PLL clock of {} meets timing (tried {}); the previous bitstream \
             is kept; shorten the critical path named in {}",
            cfg.board.name,
            tried.join(", "),
            probe.build_dir().join("pnr.log").display()
        );
    };
    println!(
        "  search: {} tries ({:?}): {}; building at {best:.3} MHz",
        search.tries.len(),
        search.stop,
        tried.join(", ")
    );
    let mut cfg = cfg;
    let mut last_err = None;
    for pll in plls
        .iter()
        .rev()
        .filter(|p| p.achieved_mhz <= best)
        .take(AUTO_FINAL_BUILDS)
    {
        cfg.clock.pll_mhz = Some(pll.requested_mhz);
        match run_flow(&cfg, flow) {
            Ok(report) => {
                println!("{report}");
                println!(
                    "report: {}",
                    flow.build_dir().join("build-report.json").display()
                );
                println!(
                    "clock: {:.3} MHz chosen by --clock auto (pll_mhz = {} in boards/{}.toml \
                     builds it without the search)",
                    pll.achieved_mhz, pll.requested_mhz, cfg.board.name
                );
                return Ok(());
            }
            Err(e) => match e.downcast_ref::<FlowError>() {
                Some(FlowError::Timing { fmax, .. }) => {
                    println!(
                        "  {:.3} MHz: the build at its own clock reached {fmax:.2} MHz; \
                         trying the next candidate down",
                        pll.achieved_mhz
                    );
                    last_err = Some(e);
                }
                _ => return Err(e),
            },
        }
    }
    Err(last_err
        .unwrap_or_else(|| anyhow::anyhow!("no candidate at or below {best:.3} MHz"))
        .context(format!(
            "--clock auto: the search met {best:.3} MHz but no build at it or the {} \
             candidates below met timing at its own clock",
            AUTO_FINAL_BUILDS - 1
        )))
}

/// Runs the whole flow for `cfg` in `flow`'s build folder with progress
/// lines; returns the report.
pub fn run_flow(cfg: &BoardConfig, flow: &Flow) -> Result<BuildReport> {
    let root = root();
    let design = Design::for_board(cfg, &root).context("listing the SoC's RTL files")?;
    println!(
        "hlsk build: {} ({}), {} in {}",
        cfg.board.name,
        cfg.device_name(),
        design.top,
        flow.build_dir().display()
    );
    // The last build's time for each stage that ran then: the estimate the
    // heartbeat lines of a long stage show.
    let last: Vec<(String, f64)> = flow
        .last_report(cfg)
        .map(|r| {
            r.stages
                .into_iter()
                .filter(|t| t.outcome == Outcome::Ran)
                .map(|t| (t.stage, t.seconds))
                .collect()
        })
        .unwrap_or_default();
    let estimate = |stage: &str, secs: u64| {
        last.iter()
            .find(|(s, _)| s == stage)
            .map_or(String::new(), |&(_, t)| {
                let left = (t - secs as f64).max(0.0);
                format!(" (last build: {t:.0} s, about {left:.0} s left)")
            })
    };
    // A stage line is open between its start and its end.
    let open = std::cell::Cell::new(false);
    let mut progress = |p: Progress| match p {
        Progress::Start(stage) => {
            use std::io::Write;
            print!("  {stage:<6} ... ");
            let _ = std::io::stdout().flush();
            open.set(true);
        }
        Progress::Fit(u) => {
            open.set(false);
            let c = cfg.capacity;
            println!(
                "ok: {}/{} LUT, {}/{} FF, {}/{} DSP, {}/{} BRAM (synthesis estimate)",
                u.lut, c.lut, u.ff, c.ff, u.dsp, c.dsp, u.bram, c.bram
            );
        }
        Progress::Running(stage, secs, note) => {
            // Breaks the open stage line; its end is printed in full.
            if open.replace(false) {
                println!();
            }
            println!(
                "  {stage:<6}     {secs:>5} s{}  {}",
                estimate(stage, secs),
                note.as_deref().unwrap_or("running")
            );
        }
        Progress::Done(stage, run) => {
            if !open.replace(false) {
                print!("  {stage:<6} ... ");
            }
            match run.outcome {
                Outcome::Ran => println!("{:.1} s", run.time.as_secs_f64()),
                Outcome::Skipped => println!("up to date"),
            }
        }
    };
    match flow.build(cfg, &design, &mut progress) {
        Ok(r) => Ok(r),
        Err(e) => {
            if open.get() {
                println!("failed");
            }
            Err(e.into())
        }
    }
}

/// `hlsk report`: the report of the last build (`--json` for the file as is).
pub fn report(arg: &BoardArg, json: bool) -> Result<()> {
    let cfg = load(&arg.board)?;
    let flow = Flow::new(&root(), &cfg.board.name);
    let report = flow.last_report(&cfg)?;
    if json {
        let p = root().join(flow.build_dir()).join("build-report.json");
        let text = std::fs::read_to_string(&p).with_context(|| format!("{}", p.display()))?;
        println!("{}", text.trim_end());
    } else {
        println!("{report}");
    }
    Ok(())
}

/// `hlsk program`: loads the last bitstream onto the board, or with
/// `--dry-run` prints the commands. A DFU board takes a suffixed copy of
/// the bitstream (`dfu-suffix`, then `dfu-util`); each command is printed
/// before it runs and the first failure stops the rest.
pub fn program(arg: &BoardArg, dry_run: bool) -> Result<()> {
    let root = root();
    let cfg = load(&arg.board)?;
    let flow = Flow::new(&root, &cfg.board.name);
    let bit = flow.bitstream(&cfg);
    if !root.join(&bit).is_file() {
        bail!(
            "no bitstream for {} ({} missing); run `hlsk build --board {}` first",
            cfg.board.name,
            bit.display(),
            cfg.board.name
        );
    }
    let steps = cfg.programmer.commands(&bit);
    if dry_run {
        for cmd in &steps {
            println!("{}", cmd.join(" "));
        }
        return Ok(());
    }
    for cmd in &steps {
        println!("{}", cmd.join(" "));
        let status = Command::new(&cmd[0])
            .args(&cmd[1..])
            .current_dir(&root)
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => bail!(
                "{} exited with {s}{}",
                cmd[0],
                match cmd[0].as_str() {
                    "openFPGALoader" => "; is the board connected and powered?",
                    "dfu-util" => {
                        "; is the board connected and in its bootloader \
                         (button held while plugging it in)?"
                    }
                    _ => "",
                }
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "{} not found; install it (apt-get install -y {}) or use --dry-run",
                cmd[0],
                apt_package(&cmd[0])
            ),
            Err(e) => return Err(e).with_context(|| format!("running {}", cmd[0])),
        }
    }
    Ok(())
}

/// The Debian package that provides `tool`.
fn apt_package(tool: &str) -> &str {
    match Path::new(tool).file_name().and_then(|n| n.to_str()) {
        Some("openFPGALoader") => "openfpgaloader",
        // dfu-suffix comes with dfu-util.
        Some("dfu-suffix") => "dfu-util",
        Some("cp") => "coreutils",
        Some(other) => other,
        None => tool,
    }
}
