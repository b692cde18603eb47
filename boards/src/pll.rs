//! System clocks from PLLs. A board file that sets `[clock] pll_mhz` runs its
//! design from a PLL instead of the crystal: each family's PLL tool from the
//! project venv (`icepll`, `ecppll`, `gowin_pll`) picks the divider settings
//! nearest the asked frequency and writes them as a Verilog module
//! [`PLL_MODULE`] (`clock_in`, `clock_out`, `locked`); [`Pll::parse`] reads
//! the primitive and its dividers back from that module and computes the
//! frequency the PLL really makes, which the design's `ClkHz`, nextpnr's
//! `--freq` and the build report then use. [`board_top`] writes the top that
//! puts the PLL and the lock reset ([`RESET_RTL`]) in front of the design.
//!
//! ```
//! use hlsk_boards::Family;
//! use hlsk_boards::pll::Pll;
//! // What `yowasp-icepll -i 12 -o 25 -p -m -n hlsk_pll -f hlsk_pll.v` writes.
//! let v = "SB_PLL40_PAD #(.FEEDBACK_PATH(\"SIMPLE\"), .DIVR(4'b0000), \
//!          .DIVF(7'b1000010), .DIVQ(3'b101), .FILTER_RANGE(3'b001)) uut (...);";
//! let pll = Pll::parse(Family::Ice40, v, 12.0, 25.0)?;
//! assert_eq!(pll.primitive, "SB_PLL40_PAD");
//! assert_eq!(pll.achieved_mhz, 25.125); // 12 MHz * 67 / 32
//! assert_eq!(pll.clk_hz(), 25_125_000);
//! # Ok::<(), hlsk_boards::pll::PllError>(())
//! ```

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

use crate::config::{BoardConfig, Family};
use crate::constraints::{PORT_CLK, PORT_LED, PORT_RST, PORT_RX, PORT_TX};
use crate::kernels::Design;

/// The module the PLL tools are asked to write.
pub const PLL_MODULE: &str = "hlsk_pll";
/// The top the flow generates around a design that runs from a PLL.
pub const BOARD_TOP: &str = "hlsk_board_top";
/// The PLL's output net in [`BOARD_TOP`]: the design's clock.
pub const NET_SYS_CLK: &str = "clk_sys";
/// The reset that waits for the PLL's lock (module `hlsk_pll_reset`),
/// relative to the repository root.
pub const RESET_RTL: &str = "boards/rtl/hlsk_pll_reset.sv";
/// How far the achieved frequency may be from the asked one (relative):
/// further means the ask was outside what the PLL can make (ecppll then
/// still writes its nearest setting).
pub const MAX_DEVIATION: f64 = 0.01;

/// Why the PLL tool's output was not usable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PllError {
    /// The expected primitive is not instantiated in the module.
    #[error("no {expected} instance in the {tool} output")]
    NoPrimitive {
        /// The tool.
        tool: &'static str,
        /// Primitive names looked for.
        expected: String,
    },
    /// A parameter is missing or not a number.
    #[error("{tool} output: parameter {name} {problem}")]
    Parameter {
        /// The tool.
        tool: &'static str,
        /// Parameter name.
        name: &'static str,
        /// Missing or what it holds.
        problem: String,
    },
    /// The dividers disagree with the frequency the tool states.
    #[error(
        "{tool} output: its dividers give {computed:.6} MHz but it states {stated} MHz; \
         the tool's output format may have changed"
    )]
    Inconsistent {
        /// The tool.
        tool: &'static str,
        /// From the dividers.
        computed: f64,
        /// From the tool's comment or attribute.
        stated: f64,
    },
}

/// A PLL as its tool set it up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pll {
    /// The vendor primitive: `SB_PLL40_PAD`, `EHXPLLL`, `rPLL`.
    pub primitive: String,
    /// The tool that chose the settings.
    pub tool: String,
    /// Its settings, e.g. `DIVR=0 DIVF=63 DIVQ=5`.
    pub settings: String,
    /// Input (crystal) frequency, MHz.
    pub crystal_mhz: f64,
    /// Frequency the board file asks for, MHz.
    pub requested_mhz: f64,
    /// Frequency the settings make, MHz: the design's clock.
    pub achieved_mhz: f64,
}

impl Pll {
    /// The PLL tool of `family`, as named in the venv.
    pub fn tool(family: Family) -> &'static str {
        match family {
            Family::Ice40 => "yowasp-icepll",
            Family::Ecp5 => "yowasp-ecppll",
            Family::Gowin => "gowin_pll",
        }
    }

    /// Arguments that make [`Pll::tool`] write module [`PLL_MODULE`] to `out`
    /// (relative to the repository root) for `cfg`'s crystal and `pll_mhz`.
    ///
    /// - iCE40: `SB_PLL40_PAD` (`-p`): the crystal pin is the PLL's own pad
    ///   on the parts this flow knows (iCEBreaker: pin 35).
    /// - ECP5: `EHXPLLL`, ports renamed to those of the other tools.
    /// - Gowin: `rPLL` for the part in `device.part`.
    pub fn tool_args(cfg: &BoardConfig, requested_mhz: f64, out: &Path) -> Vec<String> {
        let fin = cfg.clock.freq_mhz.to_string();
        let fout = requested_mhz.to_string();
        let out = out.display().to_string();
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        match cfg.device.family {
            Family::Ice40 => v(&[
                "-i", &fin, "-o", &fout, "-p", "-m", "-n", PLL_MODULE, "-f", &out,
            ]),
            Family::Ecp5 => v(&[
                "-n",
                PLL_MODULE,
                "--clkin_name",
                "clock_in",
                "--clkout0_name",
                "clock_out",
                "-i",
                &fin,
                "-o",
                &fout,
                "-f",
                &out,
            ]),
            Family::Gowin => v(&[
                "-i",
                &fin,
                "-o",
                &fout,
                "-d",
                &cfg.device.part,
                "-m",
                PLL_MODULE,
                "-f",
                &out,
            ]),
        }
    }

    /// Reads the primitive and dividers from the Verilog module the
    /// family's tool wrote and computes the output frequency from them,
    /// exactly (the tools round what they print), checked against the
    /// frequency the tool states:
    ///
    /// - iCE40 `SB_PLL40_PAD`/`_CORE`, `FEEDBACK_PATH("SIMPLE")`:
    ///   `f_in * (DIVF + 1) / ((DIVR + 1) * 2^DIVQ)`; stated in the header
    ///   (`Achieved output frequency: 25.125 MHz`).
    /// - ECP5 `EHXPLLL`, `FEEDBK_PATH("CLKOP")`: `f_in * CLKFB_DIV /
    ///   CLKI_DIV`; stated in `FREQUENCY_PIN_CLKOP`.
    /// - Gowin `rPLL`/`PLLVR`: `f_in * (FBDIV_SEL + 1) / (IDIV_SEL + 1)`;
    ///   stated in the header.
    pub fn parse(
        family: Family,
        verilog: &str,
        crystal_mhz: f64,
        requested_mhz: f64,
    ) -> Result<Pll, PllError> {
        let tool = match family {
            Family::Ice40 => "icepll",
            Family::Ecp5 => "ecppll",
            Family::Gowin => "gowin_pll",
        };
        let prims: &[&str] = match family {
            Family::Ice40 => &["SB_PLL40_PAD", "SB_PLL40_CORE"],
            Family::Ecp5 => &["EHXPLLL"],
            Family::Gowin => &["rPLL", "PLLVR"],
        };
        let code = strip_comments(verilog);
        let primitive = prims
            .iter()
            .find(|p| contains_word(&code, p))
            .ok_or_else(|| PllError::NoPrimitive {
                tool,
                expected: prims.join(" or "),
            })?
            .to_string();
        let int = |name: &'static str| -> Result<u64, PllError> {
            let raw = param(&code, name).ok_or_else(|| PllError::Parameter {
                tool,
                name,
                problem: "is missing".into(),
            })?;
            verilog_int(&raw).ok_or_else(|| PllError::Parameter {
                tool,
                name,
                problem: format!("is {raw:?}, not a number"),
            })
        };
        let string = |name: &'static str, want: &str| -> Result<(), PllError> {
            match param(&code, name) {
                Some(v) if v.trim_matches('"') == want => Ok(()),
                other => Err(PllError::Parameter {
                    tool,
                    name,
                    problem: format!("is {other:?}; only \"{want}\" is supported"),
                }),
            }
        };
        let (settings, achieved, stated) = match family {
            Family::Ice40 => {
                string("FEEDBACK_PATH", "SIMPLE")?;
                let (r, f, q) = (int("DIVR")?, int("DIVF")?, int("DIVQ")?);
                if q > 7 {
                    return Err(PllError::Parameter {
                        tool,
                        name: "DIVQ",
                        problem: format!("is {q}; it has 3 bits"),
                    });
                }
                let mhz = crystal_mhz * (f + 1) as f64 / ((r + 1) as f64 * (1u64 << q) as f64);
                (
                    format!("DIVR={r} DIVF={f} DIVQ={q}"),
                    mhz,
                    stated_after(verilog, "Achieved output frequency:"),
                )
            }
            Family::Ecp5 => {
                string("FEEDBK_PATH", "CLKOP")?;
                let (i, fb, op) = (int("CLKI_DIV")?, int("CLKFB_DIV")?, int("CLKOP_DIV")?);
                if i == 0 {
                    return Err(PllError::Parameter {
                        tool,
                        name: "CLKI_DIV",
                        problem: "is 0; dividers start at 1".into(),
                    });
                }
                let mhz = crystal_mhz * fb as f64 / i as f64;
                (
                    format!("CLKI_DIV={i} CLKFB_DIV={fb} CLKOP_DIV={op}"),
                    mhz,
                    stated_after(verilog, "FREQUENCY_PIN_CLKOP=\""),
                )
            }
            Family::Gowin => {
                let (i, fb, o) = (int("IDIV_SEL")?, int("FBDIV_SEL")?, int("ODIV_SEL")?);
                let mhz = crystal_mhz * (fb + 1) as f64 / (i + 1) as f64;
                (
                    format!("IDIV_SEL={i} FBDIV_SEL={fb} ODIV_SEL={o}"),
                    mhz,
                    stated_after(verilog, "Achieved output frequency:"),
                )
            }
        };
        // The tools print 3 decimals (icepll, gowin_pll) or 6 significant
        // digits (ecppll).
        if let Some(s) = stated
            && (achieved - s).abs() > 0.0005_f64.max(achieved * 1e-5)
        {
            return Err(PllError::Inconsistent {
                tool,
                computed: achieved,
                stated: s,
            });
        }
        Ok(Pll {
            primitive,
            tool: tool.into(),
            settings,
            crystal_mhz,
            requested_mhz,
            achieved_mhz: achieved,
        })
    }

    /// The design's `ClkHz`: the achieved frequency in Hz, rounded.
    pub fn clk_hz(&self) -> u64 {
        (self.achieved_mhz * 1e6).round() as u64
    }

    /// True when the achieved frequency is within [`MAX_DEVIATION`] of the
    /// asked one.
    pub fn close_enough(&self) -> bool {
        (self.achieved_mhz - self.requested_mhz).abs() <= MAX_DEVIATION * self.requested_mhz
    }
}

/// `text` without `//` and `/* */` comments (the tools' comments restate
/// the parameters, with other values than the code at times).
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let line = rest.find("//");
        let block = rest.find("/*");
        match (line, block) {
            (Some(l), b) if b.is_none_or(|b| l < b) => {
                out.push_str(&rest[..l]);
                rest = rest[l..].find('\n').map_or("", |n| &rest[l + n..]);
            }
            (_, Some(b)) => {
                out.push_str(&rest[..b]);
                rest = rest[b..].find("*/").map_or("", |e| &rest[b + e + 2..]);
            }
            _ => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

/// True when `word` occurs in `text` as a whole identifier.
fn contains_word(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back().is_none_or(|c| !ident(c));
        let after = text[i + word.len()..]
            .chars()
            .next()
            .is_none_or(|c| !ident(c));
        before && after
    })
}

/// The value of the named parameter assignment `.NAME(value)`, trimmed.
fn param(code: &str, name: &str) -> Option<String> {
    let key = format!(".{name}");
    code.match_indices(&key).find_map(|(i, _)| {
        let rest = code[i + key.len()..].trim_start();
        let inner = rest.strip_prefix('(')?;
        let end = inner.find(')')?;
        Some(inner[..end].trim().to_owned())
    })
}

/// A Verilog integer: `12`, `7'b0111111`, `'d5`, `8'hff` (underscores allowed).
fn verilog_int(s: &str) -> Option<u64> {
    let s: String = s
        .chars()
        .filter(|c| *c != '_' && !c.is_whitespace())
        .collect();
    match s.split_once('\'') {
        None => s.parse().ok(),
        Some((_, v)) => {
            let v = v.strip_prefix(['s', 'S']).unwrap_or(v);
            let (radix, digits) = match v.chars().next()? {
                'b' | 'B' => (2, &v[1..]),
                'o' | 'O' => (8, &v[1..]),
                'd' | 'D' => (10, &v[1..]),
                'h' | 'H' => (16, &v[1..]),
                _ => return None,
            };
            u64::from_str_radix(digits, radix).ok()
        }
    }
}

/// The number right after `marker` in `text` (spaces skipped), if any.
fn stated_after(text: &str, marker: &str) -> Option<f64> {
    let i = text.find(marker)? + marker.len();
    let num: String = text[i..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    num.parse().ok()
}

/// The top that runs `design` from the PLL: module [`BOARD_TOP`] with the
/// board ports of every SoC top (crystal on `clk_i`), the PLL
/// ([`PLL_MODULE`]) on the crystal, `hlsk_pll_reset` holding the design's
/// reset button input until the PLL locks, and the design on the PLL clock
/// ([`NET_SYS_CLK`]). Every design parameter becomes a parameter of the top
/// with the design's value as default, passed through unchanged.
///
/// The design needs the parameters `NumLeds` (the LED port's width) and
/// `RstActiveLow` (the button's polarity); `None` when one is missing.
pub fn board_top(cfg: &BoardConfig, design: &Design, pll: &Pll) -> Option<String> {
    let has = |k: &str| design.params.iter().any(|(n, _)| n == k);
    if !has("NumLeds") || !has("RstActiveLow") {
        return None;
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// Generated by hlsk-boards from boards/{}.toml; do not edit.\n//\n\
         // {} ({}: {}) on the {} MHz crystal makes {:.6} MHz ({} MHz\n\
         // asked) for {}; hlsk_pll_reset holds its reset until the PLL locks.\n",
        cfg.board.name,
        pll.primitive,
        pll.tool,
        pll.settings,
        pll.crystal_mhz,
        pll.achieved_mhz,
        pll.requested_mhz,
        design.top,
    );
    let _ = writeln!(s, "module {BOARD_TOP} #(");
    let decls: Vec<String> = design
        .params
        .iter()
        .map(|(k, v)| format!("  parameter {k} = {v}"))
        .collect();
    let _ = writeln!(s, "{}\n) (", decls.join(",\n"));
    let _ = writeln!(
        s,
        "  input  logic               {PORT_CLK},   // crystal\n  \
         input  logic               {PORT_RST},\n  \
         output logic [NumLeds-1:0] {PORT_LED},\n  \
         output logic               {PORT_TX},\n  \
         input  logic               {PORT_RX}\n);\n"
    );
    let _ = writeln!(
        s,
        "  logic {NET_SYS_CLK}, pll_locked, rst_btn_sys;\n\n  \
         {PLL_MODULE} u_pll (\n    \
         .clock_in ({PORT_CLK}),\n    \
         .clock_out({NET_SYS_CLK}),\n    \
         .locked   (pll_locked)\n  );\n\n  \
         hlsk_pll_reset #(\n    .RstActiveLow(RstActiveLow)\n  ) u_reset (\n    \
         .clk_i    ({NET_SYS_CLK}),\n    \
         .locked_i (pll_locked),\n    \
         .rst_btn_i({PORT_RST}),\n    \
         .rst_btn_o(rst_btn_sys)\n  );\n"
    );
    let pass: Vec<String> = design
        .params
        .iter()
        .map(|(k, _)| format!("    .{k}({k})"))
        .collect();
    let _ = writeln!(
        s,
        "  {} #(\n{}\n  ) u_design (\n    \
         .{PORT_CLK}    ({NET_SYS_CLK}),\n    \
         .{PORT_RST}(rst_btn_sys),\n    \
         .{PORT_LED},\n    .{PORT_TX},\n    .{PORT_RX}\n  );\n\nendmodule",
        design.top,
        pass.join(",\n")
    );
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verilog_integers_in_every_base() {
        assert_eq!(verilog_int("12"), Some(12));
        assert_eq!(verilog_int("7'b0111111"), Some(63));
        assert_eq!(verilog_int("4'b0000"), Some(0));
        assert_eq!(verilog_int("8'hF_f"), Some(255));
        assert_eq!(verilog_int("'d5"), Some(5));
        assert_eq!(verilog_int("6'sd3"), Some(3));
        assert_eq!(verilog_int("\"SIMPLE\""), None);
        assert_eq!(verilog_int("3'x1"), None);
    }

    #[test]
    fn comments_are_removed_and_words_are_whole() {
        let t = "a // .DIVF(1)\n/* .DIVQ(2) */ .DIVR(3) // x";
        let c = strip_comments(t);
        assert_eq!(param(&c, "DIVF"), None);
        assert_eq!(param(&c, "DIVQ"), None);
        assert_eq!(param(&c, "DIVR").as_deref(), Some("3"));
        assert!(contains_word("x rPLL #(", "rPLL"));
        assert!(!contains_word("x rPLLX #(", "rPLL"));
    }
}
