//! The flow through the real, pinned tools: a small design (a counter on
//! the LEDs, `tests/designs/blink.sv`) per family, on the iCEBreaker
//! (iCE40), the Colorlight i5 (ECP5) and the Tang Nano 9K (Gowin). Each
//! produces a bitstream and a report that parses; a second build skips every
//! stage; on iCE40, a comment-only source edit resynthesizes to the same
//! netlist and skips place and route and packing, and a clock change in the
//! board config reruns synthesis (the ClkHz parameter) and place and route
//! (--freq), and packing only if the routed design changed, while a pin
//! change skips synthesis.
//!
//! Builds go to `target/hlsk-boards-it/<board>` inside the repository (the
//! WebAssembly tools cannot see the host's /tmp). A missing tool fails the
//! test with a `make setup` hint.

use hlsk_boards::stage::Outcome;
use hlsk_boards::{BoardConfig, BuildReport, Design, Flow, Progress, load_board};
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
    let hz = (cfg.clock.freq_mhz * 1e6).round() as u64;
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

fn check_board(board: &str, comment_edit: bool) {
    let root = root();
    let cfg = load_board(&root, board).expect("board file");
    let build = PathBuf::from("target/hlsk-boards-it").join(board);
    let _ = std::fs::remove_dir_all(root.join(&build));
    let flow = Flow::with_build_dir(&root, &build).with_heartbeat(Duration::from_millis(100));
    let design = blink(&cfg, &build, "");

    let (report, seen) = outcomes(&flow, &cfg, &design);
    assert_eq!(
        seen,
        [Outcome::Ran; 3],
        "{board}: first build runs every stage"
    );
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
    assert_eq!(seen, [Outcome::Skipped; 3], "{board}: nothing changed");

    if comment_edit {
        let design = blink(&cfg, &build, "// a comment changes no cell\n");
        let (_, seen) = outcomes(&flow, &cfg, &design);
        assert_eq!(
            seen,
            [Outcome::Ran, Outcome::Skipped, Outcome::Skipped],
            "{board}: same netlist, no place and route"
        );

        // A clock change in the board config: the design's ClkHz parameter
        // and nextpnr's --freq change, so synthesis and place and route
        // rerun; packing reruns only if the routed design changed.
        let mut fast = cfg.clone();
        fast.clock.freq_mhz = cfg.clock.freq_mhz + 0.5;
        let routed = root.join(&build).join("pnr.asc");
        let before = std::fs::read(&routed).expect("routed design");
        let design = blink(&fast, &build, "// a comment changes no cell\n");
        let (report, seen) = outcomes(&flow, &fast, &design);
        let after = std::fs::read(&routed).expect("routed design");
        let pack = if before == after {
            Outcome::Skipped
        } else {
            Outcome::Ran
        };
        assert_eq!(
            seen,
            [Outcome::Ran, Outcome::Ran, pack],
            "{board}: clock change reruns synthesis (ClkHz) and place and route (--freq)"
        );
        assert_eq!(report.target_mhz, fast.clock.freq_mhz);
        let (_, seen) = outcomes(&flow, &fast, &design);
        assert_eq!(seen, [Outcome::Skipped; 3], "{board}: nothing changed");

        // A pin-only change (two LEDs swapped) touches the constraints, not
        // the design: synthesis is skipped, place and route and packing rerun.
        let mut swapped = fast.clone();
        swapped.leds.pins.swap(0, 1);
        let (_, seen) = outcomes(&flow, &swapped, &design);
        assert_eq!(
            seen,
            [Outcome::Skipped, Outcome::Ran, Outcome::Ran],
            "{board}: constraint-only change"
        );
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
