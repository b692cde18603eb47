//! The fixed table of kernels a board SoC can carry: top module, RTL
//! folders and parameter names. The flow knows nothing else of a kernel.

use std::path::{Path, PathBuf};

use crate::config::BoardConfig;

/// One SoC the flow can build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelSpec {
    /// Name used in `[kernel] engine = ...`.
    pub engine: &'static str,
    /// Top module of the SoC.
    pub top: &'static str,
    /// Folders (relative to the repository root) whose `.sv` files make up
    /// the design; packages (`*_pkg.sv`) are read first.
    pub rtl_dirs: &'static [&'static str],
    /// Kernel parameters the board file must set (passed as `-G`).
    pub params: &'static [&'static str],
    /// Parameters a build may add to a board's (the kernel presets of
    /// `hlsk results`), passed as `-G` when set; board files may not set
    /// them.
    pub options: &'static [&'static str],
    /// Parameters a board file may set (passed as `-G` when set), for
    /// optional parts of the SoC such as the convolution engine.
    pub board_options: &'static [&'static str],
}

/// Every kernel the flow can build.
pub const KERNELS: &[KernelSpec] = &[KernelSpec {
    engine: "tlmm_os",
    top: "hlsk_soc_top",
    rtl_dirs: &["rtl/common", "rtl/tlmm", "rtl/conv", "rtl/soc"],
    params: &["G", "T", "P", "AccW", "KMax", "MemWords"],
    // HostLink = 0: engine and self-test only, for kernel resource figures.
    options: &["HostLink"],
    // Conv = 1: the convolution engine next to the TLMM one (buffer sizes
    // in the units of conv_engine's parameters).
    board_options: &[
        "Conv",
        "ConvT",
        "ConvP",
        "ConvInWords",
        "ConvWWords",
        "ConvOutEnt",
        "ConvGEnt",
    ],
}];

/// Board parameters every SoC top takes, set from the board file.
/// `ClkHz` is the design's clock: the oscillator's, or with `[clock]
/// pll_mhz` the frequency asked of the PLL, which the flow replaces with the
/// one the PLL achieves ([`crate::pll`]). `Baud` is the rate the UART
/// divider makes at that clock for `[uart] baud`
/// ([`crate::uart::UartDivider::baud_param`]), set again with the PLL's
/// frequency.
pub const BOARD_PARAMS: &[&str] = &["ClkHz", "Baud", "NumLeds", "LedActiveLow", "RstActiveLow"];

impl KernelSpec {
    /// The kernel named `engine`.
    pub fn find(engine: &str) -> Option<&'static KernelSpec> {
        KERNELS.iter().find(|k| k.engine == engine)
    }

    /// Known engine names, comma-separated.
    pub fn names() -> String {
        KERNELS
            .iter()
            .map(|k| k.engine)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What synthesis reads: top, files (relative to the repository root), and
/// `-G` parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Design {
    /// Top module.
    pub top: String,
    /// Source files, relative to the repository root, packages first.
    pub files: Vec<PathBuf>,
    /// Top-level parameters, in order.
    pub params: Vec<(String, String)>,
}

impl Design {
    /// The SoC of `cfg`: the kernel's files under `root` and its parameters
    /// plus the board parameters ([`BOARD_PARAMS`]).
    pub fn for_board(cfg: &BoardConfig, root: &Path) -> std::io::Result<Design> {
        let spec = KernelSpec::find(&cfg.kernel.engine).ok_or_else(|| {
            std::io::Error::other(format!("unknown kernel engine {}", cfg.kernel.engine))
        })?;
        let mut files = Vec::new();
        for dir in spec.rtl_dirs {
            for e in std::fs::read_dir(root.join(dir))? {
                let p = e?.path();
                if p.extension().is_some_and(|x| x == "sv") {
                    files.push(Path::new(dir).join(p.file_name().expect("file name")));
                }
            }
        }
        files.sort_by_key(|p| (!is_package(p), p.clone()));
        let mut params: Vec<(String, String)> = spec
            .params
            .iter()
            .map(|p| (p.to_string(), cfg.kernel.params[*p].to_string()))
            .collect();
        params.extend(
            spec.options
                .iter()
                .chain(spec.board_options)
                .filter_map(|o| {
                    cfg.kernel
                        .params
                        .get(*o)
                        .map(|v| (o.to_string(), v.to_string()))
                }),
        );
        let hz = cfg.clk_hz();
        params.push(("ClkHz".to_owned(), hz.to_string()));
        // A design without the host link (HostLink = 0, the kernel presets)
        // has no UART: its clock need not divide to the board's baud.
        if cfg.kernel.params.get("HostLink") != Some(&0) {
            let baud = cfg.uart_divider(hz).map_err(|e| {
                std::io::Error::other(format!(
                    "boards/{}.toml: field `uart.baud`: {e}",
                    cfg.board.name
                ))
            })?;
            params.push(("Baud".to_owned(), baud.baud_param().to_string()));
        }
        let (btn, _) = cfg.reset_button();
        params.extend([
            ("NumLeds".to_owned(), cfg.leds.pins.len().to_string()),
            (
                "LedActiveLow".to_owned(),
                u8::from(cfg.leds.active_low).to_string(),
            ),
            (
                "RstActiveLow".to_owned(),
                u8::from(btn.active_low).to_string(),
            ),
        ]);
        Ok(Design {
            top: spec.top.to_owned(),
            files,
            params,
        })
    }
}

impl Design {
    /// Sets parameter `name` to `value`; false (and nothing changed) when
    /// the design has no such parameter.
    pub fn set_param(&mut self, name: &str, value: impl ToString) -> bool {
        match self.params.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => {
                *v = value.to_string();
                true
            }
            None => false,
        }
    }
}

fn is_package(p: &Path) -> bool {
    p.file_stem()
        .is_some_and(|s| s.to_string_lossy().ends_with("_pkg"))
}
