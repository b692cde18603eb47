//! The report of a build, in human and JSON form.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::BoardConfig;
use crate::kernels::Design;
use crate::pll::Pll;
use crate::stage::Outcome;
use crate::uart::UartDivider;

/// One resource kind: used and available.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// `LC` (iCE40 logic cells), `LUT`, `FF`, `DSP`, `BRAM`.
    pub kind: String,
    /// In use after place and route.
    pub used: u64,
    /// On the device.
    pub available: u64,
}

/// One stage of a build: ran or skipped, and its wall time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTime {
    /// `synth`, `pnr`, `pack`.
    pub stage: String,
    /// Ran or skipped.
    pub outcome: Outcome,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// What a build produced: written as `build/<board>/build-report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildReport {
    /// Board name.
    pub board: String,
    /// Device, one line.
    pub device: String,
    /// Top module.
    pub top: String,
    /// Top-level parameters, e.g. `G=3 T=1 ... ClkHz=12000000`.
    pub params: String,
    /// The bitstream, relative to the repository root.
    pub bitstream: PathBuf,
    /// Resources used and available.
    pub resources: Vec<Resource>,
    /// Achieved Fmax of the design's clock, MHz.
    pub fmax_mhz: Option<f64>,
    /// The clock the design runs at, MHz: the PLL's achieved output, else
    /// the oscillator's. Also nextpnr's `--freq`.
    pub target_mhz: f64,
    /// The PLL between the oscillator and the design, if the board file
    /// asks for one (`[clock] pll_mhz`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pll: Option<Pll>,
    /// The host link's UART divider at the design's clock (`[uart] baud`);
    /// absent in reports of builds before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uart: Option<UartDivider>,
    /// Per stage.
    pub stages: Vec<StageTime>,
    /// Whole build, seconds.
    pub total_seconds: f64,
}

impl BuildReport {
    /// A report for `cfg`'s `design` (the design itself, not the top with
    /// the PLL around it), run at `target_mhz` from `pll` if any.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cfg: &BoardConfig,
        design: &Design,
        bitstream: &Path,
        resources: Vec<Resource>,
        fmax_mhz: Option<f64>,
        target_mhz: f64,
        pll: Option<Pll>,
        stages: Vec<StageTime>,
        total_seconds: f64,
    ) -> BuildReport {
        let params: Vec<String> = design
            .params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        BuildReport {
            board: cfg.board.name.clone(),
            device: cfg.device_name(),
            top: design.top.clone(),
            params: params.join(" "),
            bitstream: bitstream.to_owned(),
            resources,
            fmax_mhz,
            target_mhz,
            pll,
            uart: None,
            stages,
            total_seconds,
        }
    }

    /// True when Fmax meets the clock.
    pub fn timing_met(&self) -> bool {
        self.fmax_mhz.is_some_and(|f| f >= self.target_mhz)
    }
}

impl fmt::Display for BuildReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "board      {} ({})", self.board, self.device)?;
        writeln!(f, "design     {} {}", self.top, self.params)?;
        writeln!(f, "bitstream  {}", self.bitstream.display())?;
        writeln!(
            f,
            "resources  {:<5} {:>7} {:>8} {:>6}",
            "", "used", "avail", "%"
        )?;
        for r in &self.resources {
            let pct = if r.available > 0 {
                100.0 * r.used as f64 / r.available as f64
            } else {
                0.0
            };
            writeln!(
                f,
                "           {:<5} {:>7} {:>8} {:>5.1}%",
                r.kind, r.used, r.available, pct
            )?;
        }
        match &self.pll {
            Some(p) => writeln!(
                f,
                "clock      {:.3} MHz from {} ({} {}) on the {} MHz crystal; {} MHz asked",
                self.target_mhz, p.primitive, p.tool, p.settings, p.crystal_mhz, p.requested_mhz
            )?,
            None => writeln!(f, "clock      {:.3} MHz (crystal)", self.target_mhz)?,
        }
        if let Some(u) = &self.uart {
            writeln!(
                f,
                "uart       {} baud asked; {:.3} MHz / {} = {:.0} baud ({:+.2} %)",
                u.baud,
                u.clk_hz as f64 / 1e6,
                u.clks_per_bit,
                u.actual_baud(),
                u.error() * 100.0
            )?;
        }
        match self.fmax_mhz {
            Some(fmax) => writeln!(
                f,
                "timing     Fmax {fmax:.2} MHz, target {:.2} MHz: {}",
                self.target_mhz,
                if self.timing_met() { "met" } else { "FAILED" }
            )?,
            None => writeln!(
                f,
                "timing     no Fmax reported, target {:.2} MHz",
                self.target_mhz
            )?,
        }
        let stages: Vec<String> = self
            .stages
            .iter()
            .map(|s| match s.outcome {
                Outcome::Ran => format!("{} {:.1} s", s.stage, s.seconds),
                Outcome::Skipped => format!("{} skipped", s.stage),
            })
            .collect();
        write!(
            f,
            "time       {} (total {:.1} s)",
            stages.join(", "),
            self.total_seconds
        )
    }
}
