//! The board subcommands: `hlsk boards`, `build`, `report`, `program`.
//! The flow itself lives in `hlsk-boards`; this turns its results and
//! errors into terminal output.

use anyhow::{Context, Result, bail};
use clap::Args;
use hlsk_boards::stage::Outcome;
use hlsk_boards::{BoardConfig, BuildReport, Design, Flow, Progress, known_boards, load_board};
use std::path::{Path, PathBuf};
use std::process::Command;

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

/// `hlsk build`: runs the flow and prints the report.
pub fn build(arg: &BoardArg) -> Result<()> {
    let cfg = load(&arg.board)?;
    let flow = Flow::new(&root(), &cfg.board.name);
    let report = run_flow(&cfg, &flow)?;
    println!("{report}");
    println!(
        "report: {}",
        flow.build_dir().join("build-report.json").display()
    );
    Ok(())
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
