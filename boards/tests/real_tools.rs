//! The flow through the real, pinned tools: a small design (a counter on
//! the LEDs, `tests/designs/blink.sv`) per family, on the iCEBreaker
//! (iCE40), the Colorlight i5 (ECP5) and the Tang Nano 9K (Gowin), each
//! clocked from its PLL as the board file asks (`[clock] pll_mhz`). Each
//! produces a bitstream and a report that parses, with the PLL's achieved
//! frequency as the clock and the design's ClkHz; a second build skips every
//! stage; on iCE40, a comment-only source edit resynthesizes to the same
//! netlist and skips place and route and packing, a PLL clock change reruns
//! the PLL tool, synthesis (the ClkHz parameter) and place and route
//! (--freq), and packing only if the routed design changed, a pin change
//! skips synthesis, a clock the design cannot meet fails with what to change
//! and keeps the previous bitstream, and the crystal without a PLL still
//! builds.
//!
//! Builds go to `target/hlsk-boards-it/<board>` inside the repository (the
//! WebAssembly tools cannot see the host's /tmp). A missing tool fails the
//! test with a `make setup` hint.

use hlsk_boards::stage::Outcome;
use hlsk_boards::{BoardConfig, BuildReport, Design, Flow, FlowError, Progress, load_board};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo")
        .to_owned()
}

/// The blink design for `cfg`, copied into the build directory so the test
/// can edit it.
fn blink(cfg: &BoardConfig, build: &Path, extra: &str) -> Design {
    let src =
        std::fs::read_to_string(root().join("boards/tests/designs/blink.sv")).expect("blink.sv");
    let rel = build.join("src/blink.sv");
    std::fs::create_dir_all(root().join(build).join("src")).expect("mkdir");
    std::fs::write(root().join(&rel), format!("{src}{extra}")).expect("write");
    let hz = (cfg.freq_mhz() * 1e6).round() as u64;
    Design {
        top: "blink".into(),
        files: vec![rel],
        params: vec![
            ("ClkHz".into(), hz.to_string()),
            ("NumLeds".into(), cfg.leds.pins.len().to_string()),
            (
                "LedActiveLow".into(),
                u8::from(cfg.leds.active_low).to_string(),
            ),
            (
                "RstActiveLow".into(),
                u8::from(cfg.buttons[0].active_low).to_string(),
            ),
        ],
    }
}

fn outcomes(flow: &Flow, cfg: &BoardConfig, design: &Design) -> (BuildReport, Vec<Outcome>) {
    let mut seen = Vec::new();
    let mut beats = Vec::new();
    let report = flow
        .build(cfg, design, &mut |p| match p {
            Progress::Done(_, r) => seen.push(r.outcome),
            Progress::Running(stage, _, note) => beats.push((stage, note)),
            _ => {}
        })
        .unwrap_or_else(|e| panic!("{} build failed: {e}", cfg.board.name));
    // The flow's heartbeat is 100 ms here: every tool that ran for longer
    // was reported while it ran, and place and route with its last line.
    let ran = report.stages.iter().filter(|s| s.outcome == Outcome::Ran);
    for s in ran.filter(|s| s.seconds > 0.5) {
        assert!(
            beats.iter().any(|(b, _)| *b == s.stage),
            "{}: {} ran {:.1} s without a heartbeat",
            cfg.board.name,
            s.stage,
            s.seconds
        );
    }
    if let Some((_, note)) = beats.iter().rev().find(|(b, _)| *b == "pnr") {
        let note = note.as_deref().unwrap_or("");
        assert!(note.starts_with("Info:"), "pnr heartbeat note: {note:?}");
    }
    (report, seen)
}

/// `outcome` for each stage: the PLL's (when the board has one), then
/// synthesis, place and route, packing.
fn stages(cfg: &BoardConfig, pll: Outcome, rest: [Outcome; 3]) -> Vec<Outcome> {
    cfg.clock
        .pll_mhz
        .map(|_| pll)
        .into_iter()
        .chain(rest)
        .collect()
}

/// The report's clock is the PLL's achieved frequency (within 1 % of the
/// ask) and the design's ClkHz, or the crystal without a PLL.
fn check_clock(cfg: &BoardConfig, report: &BuildReport) {
    let board = &cfg.board.name;
    match (&report.pll, cfg.clock.pll_mhz) {
        (Some(pll), Some(asked)) => {
            assert_eq!(pll.requested_mhz, asked, "{board}");
            assert_eq!(report.target_mhz, pll.achieved_mhz, "{board}");
            assert!(pll.close_enough(), "{board}: {pll:?}");
            let hz = format!("ClkHz={} ", pll.clk_hz());
            assert!(report.params.contains(&hz), "{board}: {}", report.params);
            assert!(report.to_string().contains(&pll.primitive), "{report}");
        }
        (None, None) => {
            assert_eq!(report.target_mhz, cfg.clock.freq_mhz, "{board}");
            let hz = format!("ClkHz={} ", (cfg.clock.freq_mhz * 1e6).round() as u64);
            assert!(report.params.contains(&hz), "{board}: {}", report.params);
        }
        (pll, asked) => panic!("{board}: PLL {pll:?} in the report, {asked:?} asked"),
    }
}

fn check_board(board: &str, comment_edit: bool) {
    let root = root();
    let cfg = load_board(&root, board).expect("board file");
    assert!(cfg.clock.pll_mhz.is_some(), "{board} runs from a PLL");
    let build = PathBuf::from("target/hlsk-boards-it").join(board);
    let _ = std::fs::remove_dir_all(root.join(&build));
    let flow = Flow::with_build_dir(&root, &build).with_heartbeat(Duration::from_millis(100));
    let design = blink(&cfg, &build, "");

    let (report, seen) = outcomes(&flow, &cfg, &design);
    assert_eq!(
        seen,
        stages(&cfg, Outcome::Ran, [Outcome::Ran; 3]),
        "{board}: first build runs every stage"
    );
    check_clock(&cfg, &report);
    let bit = root.join(&report.bitstream);
    let size = std::fs::metadata(&bit).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 1000,
        "{board}: bitstream {} has {size} bytes",
        bit.display()
    );
    let text =
        std::fs::read_to_string(root.join(&build).join("build-report.json")).expect("report");
    let parsed: BuildReport = serde_json::from_str(&text).expect("report parses");
    assert_eq!(parsed.resources, report.resources);
    assert_eq!(
        (parsed.board, parsed.bitstream),
        (report.board.clone(), report.bitstream.clone())
    );
    assert!(parsed.params.contains("ClkHz="), "{}", parsed.params);
    assert!(report.timing_met(), "{board}: {report}");
    let lut = &report.resources[0];
    assert!(
        lut.used > 0 && lut.used < lut.available,
        "{board}: {report}"
    );

    let (_, seen) = outcomes(&flow, &cfg, &design);
    assert_eq!(
        seen,
        stages(&cfg, Outcome::Skipped, [Outcome::Skipped; 3]),
        "{board}: nothing changed"
    );

    if comment_edit {
        let design = blink(&cfg, &build, "// a comment changes no cell\n");
        let (_, seen) = outcomes(&flow, &cfg, &design);
        assert_eq!(
            seen,
            stages(
                &cfg,
                Outcome::Skipped,
                [Outcome::Ran, Outcome::Skipped, Outcome::Skipped]
            ),
            "{board}: same netlist, no place and route"
        );

        // A PLL clock change in the board config: the PLL's settings, the
        // design's ClkHz parameter and nextpnr's --freq change, so the PLL
        // tool, synthesis and place and route rerun; packing reruns only if
        // the routed design changed.
        let mut fast = cfg.clone();
        fast.clock.pll_mhz = cfg.clock.pll_mhz.map(|f| f + 6.0);
        let routed = root.join(&build).join("pnr.asc");
        let before = std::fs::read(&routed).expect("routed design");
        let design = blink(&fast, &build, "// a comment changes no cell\n");
        let (fast_report, seen) = outcomes(&flow, &fast, &design);
        let after = std::fs::read(&routed).expect("routed design");
        let pack = if before == after {
            Outcome::Skipped
        } else {
            Outcome::Ran
        };
        assert_eq!(
            seen,
            stages(&fast, Outcome::Ran, [Outcome::Ran, Outcome::Ran, pack]),
            "{board}: clock change reruns the PLL, synthesis (ClkHz) and place and route (--freq)"
        );
        check_clock(&fast, &fast_report);
        assert!(fast_report.target_mhz > report.target_mhz, "{fast_report}");
        let (_, seen) = outcomes(&flow, &fast, &design);
        assert_eq!(
            seen,
            stages(&fast, Outcome::Skipped, [Outcome::Skipped; 3]),
            "{board}: nothing changed"
        );

        // A pin-only change (two LEDs swapped) touches the constraints, not
        // the design: synthesis is skipped, place and route and packing rerun.
        let mut swapped = fast.clone();
        swapped.leds.pins.swap(0, 1);
        let (_, seen) = outcomes(&flow, &swapped, &design);
        assert_eq!(
            seen,
            stages(
                &swapped,
                Outcome::Skipped,
                [Outcome::Skipped, Outcome::Ran, Outcome::Ran]
            ),
            "{board}: constraint-only change"
        );

        // A clock the design cannot meet: the build fails saying what to
        // change, and the last good bitstream and report stay as they were.
        let bit = root.join(flow.bitstream(&swapped));
        let good = std::fs::read(&bit).expect("bitstream");
        let good_report = flow.last_report(&swapped).expect("report");
        let mut too_fast = swapped.clone();
        too_fast.clock.pll_mhz = Some(270.0);
        let design = blink(&too_fast, &build, "// a comment changes no cell\n");
        let e = flow
            .build(&too_fast, &design, &mut |_| {})
            .expect_err("blink does not run at 270 MHz");
        let msg = e.to_string();
        assert!(matches!(e, FlowError::Timing { .. }), "{msg}");
        assert!(
            msg.contains("lower `pll_mhz` in boards/icebreaker.toml")
                && msg.contains("previous bitstream"),
            "{msg}"
        );
        assert_eq!(std::fs::read(&bit).expect("bitstream"), good);
        assert_eq!(flow.last_report(&swapped).expect("report"), good_report);

        // Without a PLL the crystal clocks the design, as before.
        let mut crystal = swapped.clone();
        crystal.clock.pll_mhz = None;
        let design = blink(&crystal, &build, "// a comment changes no cell\n");
        let (report, seen) = outcomes(&flow, &crystal, &design);
        assert_eq!(seen[..2], [Outcome::Ran; 2], "{board}: crystal build");
        check_clock(&crystal, &report);
    }
}

#[test]
fn ice40_blink_builds_and_rebuilds_incrementally() {
    check_board("icebreaker", true);
}

#[test]
fn ecp5_blink_builds() {
    check_board("colorlight-i5", false);
}

#[test]
fn gowin_blink_builds() {
    check_board("tangnano9k", false);
}
