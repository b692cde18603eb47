//! Board files: every one parses and validates; malformed ones are rejected
//! with the file, line and field; constraint files come out as the tools
//! expect them.

use hlsk_boards::config::ProgrammerTool;
use hlsk_boards::{
    BoardConfig, ConfigError, Design, Family, FlowError, constraints, known_boards, load_board,
};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo")
        .to_owned()
}

fn src(board: &str) -> String {
    std::fs::read_to_string(root().join("boards").join(format!("{board}.toml")))
        .expect("board file")
}

/// Parses `text` as `boards/<board>.toml`; the error as (line, field, message).
fn parse_err(board: &str, text: &str) -> (usize, String, String) {
    let path = PathBuf::from(format!("boards/{board}.toml"));
    match BoardConfig::parse(&path, text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(ConfigError::Invalid {
            file,
            line,
            field,
            message,
        }) => {
            assert_eq!(file, path);
            (line, field, message)
        }
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle")
        + 1
}

#[test]
fn every_board_file_parses_and_validates() {
    let names = known_boards(&root());
    assert_eq!(
        names,
        [
            "colorlight-i5",
            "icebreaker",
            "orangecrab",
            "tangnano9k",
            "ulx3s",
            "ulx3s-conv"
        ]
    );
    for n in &names {
        let cfg = load_board(&root(), n).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&cfg.board.name, n);
        let d = Design::for_board(&cfg, &root()).expect("design");
        assert_eq!(d.top, "hlsk_soc_top");
        let is_pkg = |f: &Path| f.to_string_lossy().ends_with("_pkg.sv");
        let pkgs = d.files.iter().take_while(|f| is_pkg(f)).count();
        assert!(
            pkgs >= 2 && d.files[pkgs..].iter().all(|f| !is_pkg(f)),
            "packages (tlmm_pkg, hlsk_link_pkg) first: {:?}",
            d.files
        );
        assert!(
            d.files
                .iter()
                .any(|f| f.ends_with("rtl/soc/hlsk_soc_top.sv"))
        );
    }
    let ib = load_board(&root(), "icebreaker").expect("icebreaker");
    assert_eq!(
        (ib.device.family, ib.device.part.as_str()),
        (Family::Ice40, "up5k")
    );
    assert_eq!((ib.clock.pin.as_str(), ib.clock.freq_mhz), ("35", 12.0));
    assert_eq!(ib.leds.pins, ["11", "37"]);
    assert!(ib.leds.active_low);
    assert_eq!((ib.uart.tx.as_str(), ib.uart.rx.as_str()), ("9", "6"));
    assert_eq!(ib.capacity.dsp, 8);
    let ulx = load_board(&root(), "ulx3s").expect("ulx3s");
    assert_eq!((ulx.device.speed, ulx.capacity.lut), (Some(6), 83_640));
    let tn = load_board(&root(), "tangnano9k").expect("tangnano9k");
    assert_eq!(tn.device.gowin_family.as_deref(), Some("GW1N-9C"));
    let oc = load_board(&root(), "orangecrab").expect("orangecrab");
    assert_eq!(oc.programmer.tool, ProgrammerTool::DfuUtil);
}

/// Joined command lines of a programmer's steps.
fn steps(cfg: &BoardConfig, bitstream: &str) -> Vec<String> {
    cfg.programmer
        .commands(Path::new(bitstream))
        .iter()
        .map(|c| c.join(" "))
        .collect()
}

#[test]
fn programmer_commands() {
    // DFU: a suffixed copy of the bitstream, then the download.
    let oc = load_board(&root(), "orangecrab").expect("orangecrab");
    assert_eq!(
        steps(&oc, "build/orangecrab/orangecrab.bit"),
        [
            "cp build/orangecrab/orangecrab.bit build/orangecrab/orangecrab.dfu",
            "dfu-suffix -v 1209 -p 5af0 -a build/orangecrab/orangecrab.dfu",
            "dfu-util -d 1209:5af0 -a 0 -D build/orangecrab/orangecrab.dfu",
        ]
    );
    // openFPGALoader: one command, with its board name.
    for (board, bit, line) in [
        (
            "icebreaker",
            "x.bin",
            "openFPGALoader -b ice40_generic x.bin",
        ),
        ("ulx3s", "x.bit", "openFPGALoader -b ulx3s x.bit"),
        (
            "colorlight-i5",
            "x.bit",
            "openFPGALoader -b colorlight-i5 x.bit",
        ),
        ("tangnano9k", "x.fs", "openFPGALoader -b tangnano9k x.fs"),
    ] {
        let cfg = load_board(&root(), board).expect(board);
        assert_eq!(steps(&cfg, bit), [line], "{board}");
    }
}

#[test]
fn design_parameters_come_from_the_board_file() {
    let cfg = load_board(&root(), "ulx3s-conv").expect("ulx3s-conv");
    let d = Design::for_board(&cfg, &root()).expect("design");
    let p: Vec<String> = d.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    assert_eq!(
        p,
        [
            "G=3",
            "T=2",
            "P=8",
            "AccW=24",
            "KMax=1024",
            "MemWords=4096",
            "Conv=1",
            "ConvT=2",
            "ConvP=1",
            "ConvInWords=512",
            "ConvWWords=256",
            "ConvOutEnt=256",
            "ConvGEnt=64",
            "ClkHz=40000000",
            "Baud=1000000",
            "NumLeds=8",
            "LedActiveLow=0",
            "RstActiveLow=1"
        ]
    );
}

#[test]
fn unknown_board_lists_the_known_ones() {
    let e = load_board(&root(), "de10nano").unwrap_err();
    assert!(matches!(e, FlowError::UnknownBoard { .. }));
    let msg = e.to_string();
    assert!(
        msg.contains("\"de10nano\"") && msg.contains("icebreaker, orangecrab"),
        "{msg}"
    );
}

#[test]
fn unknown_field_is_named_with_its_line() {
    let text = src("icebreaker").replace(
        "active_low = true\n\n[[buttons]]",
        "active_low = true\ncolour = \"red\"\n\n[[buttons]]",
    );
    let (line, field, msg) = parse_err("icebreaker", &text);
    assert_eq!(line, line_of(&text, "colour"));
    assert_eq!(field, "leds.colour");
    assert!(msg.contains("unknown field `colour`"), "{msg}");
}

#[test]
fn wrong_type_is_named_with_its_line() {
    let text = src("ulx3s").replace("speed = 6", "speed = \"six\"");
    let (line, field, msg) = parse_err("ulx3s", &text);
    assert_eq!(
        (line, field.as_str()),
        (line_of(&text, "speed ="), "device.speed")
    );
    assert!(msg.contains("invalid type"), "{msg}");
    // Inside an inline table.
    let text = src("icebreaker").replace("P = 4", "P = \"four\"");
    let (line, field, _) = parse_err("icebreaker", &text);
    assert_eq!(
        (line, field.as_str()),
        (line_of(&text, "params ="), "kernel.params.P")
    );
    // In the second [[buttons]] table.
    let text = src("tangnano9k").replace("pins = [\"3\"]", "pins = [3]");
    let (line, field, _) = parse_err("tangnano9k", &text);
    assert_eq!(
        (line, field.as_str()),
        (line_of(&text, "pins = [3]"), "buttons[1].pins")
    );
}

#[test]
fn missing_field_names_its_table() {
    let text = src("icebreaker").replace("tx = \"9\"\n", "");
    let (line, field, msg) = parse_err("icebreaker", &text);
    assert!(msg.contains("missing field `tx`"), "{msg}");
    assert_eq!((line, field.as_str()), (line_of(&text, "[uart]"), "uart"));
}

#[test]
fn per_family_validation_names_the_field() {
    // board, from, to, field, message fragment, a text on the line the error names
    let cases: &[(&str, &str, &str, &str, &str, &str)] = &[
        (
            "icebreaker",
            "package = \"sg48\"",
            "package = \"qn88\"",
            "device.package",
            "sg48, uwg30",
            "qn88",
        ),
        (
            "icebreaker",
            "part = \"up5k\"",
            "part = \"up9k\"",
            "device.part",
            "unknown iCE40 part",
            "up9k",
        ),
        (
            "icebreaker",
            "package = \"sg48\"",
            "package = \"sg48\"\nspeed = 6",
            "device.speed",
            "not used for ice40",
            "speed =",
        ),
        (
            "ulx3s",
            "speed = 6\n",
            "",
            "device.speed",
            "needs a speed grade",
            "[device]",
        ),
        (
            "ulx3s",
            "speed = 6",
            "speed = 9",
            "device.speed",
            "not an ECP5 speed grade",
            "speed =",
        ),
        (
            "ulx3s",
            "package = \"CABGA381\"",
            "package = \"BGA\"",
            "device.package",
            "unknown ECP5 package",
            "\"BGA\"",
        ),
        (
            "tangnano9k",
            "gowin_family = \"GW1N-9C\"\n",
            "",
            "device.gowin_family",
            "needs the device family",
            "[device]",
        ),
        (
            "tangnano9k",
            "io_standard = \"LVCMOS18\"\n\n[[buttons]]",
            "\n[[buttons]]",
            "leds.io_standard",
            "is required",
            "[leds]",
        ),
        (
            "icebreaker",
            "rx = \"6\"",
            "rx = \"37\"",
            "leds.pins",
            "pin 37 is already used by `uart.rx`",
            "pins = [\"11\"",
        ),
        (
            "icebreaker",
            "active_low = true\n\n[uart]",
            "active_low = true\npull = \"down\"\n\n[uart]",
            "buttons[0].pull",
            "no pull-down",
            "pull =",
        ),
        (
            "icebreaker",
            "board = \"ice40_generic\"\n",
            "",
            "programmer.board",
            "openFPGALoader needs",
            "[programmer]",
        ),
        (
            "orangecrab",
            "usb_id = \"1209:5af0\"",
            "usb_id = \"1209\"",
            "programmer.usb_id",
            "vvvv:pppp",
            "usb_id",
        ),
        (
            "icebreaker",
            "KMax = 256",
            "KMax = 256, Q = 2",
            "kernel.params.Q",
            "has no parameter Q",
            "params =",
        ),
        (
            "icebreaker",
            "engine = \"tlmm_os\"",
            "engine = \"tlmm_ts\"",
            "kernel.engine",
            "known: tlmm_os",
            "engine =",
        ),
        (
            "colorlight-i5",
            "freq_mhz = 25.0",
            "freq_mhz = -25.0",
            "clock.freq_mhz",
            "not a clock frequency",
            "freq_mhz",
        ),
        (
            "icebreaker",
            "name = \"icebreaker\"",
            "name = \"icebreaker2\"",
            "board.name",
            "must match",
            "icebreaker2",
        ),
        (
            "ulx3s",
            "io_standard = \"LVCMOS33\"\n\n[uart]",
            "io_standard = \"lvcmos 3.3\"\n\n[uart]",
            "buttons[1].io_standard",
            "not an IO standard",
            "lvcmos 3.3",
        ),
        // pull and drive
        (
            "icebreaker",
            "freq_mhz = 12.0",
            "freq_mhz = 12.0\npull = \"down\"",
            "clock.pull",
            "no pull-down",
            "pull =",
        ),
        (
            "icebreaker",
            "pull = \"up\"",
            "pull = \"down\"",
            "uart.pull",
            "no pull-down",
            "pull =",
        ),
        (
            "colorlight-i5",
            "pull = \"up\"\nio_standard",
            "pull = \"weak\"\nio_standard",
            "buttons[0].pull",
            "unknown variant `weak`, expected one of `up`, `down`, `none`",
            "pull =",
        ),
        (
            "icebreaker",
            "pins = [\"11\", \"37\"]",
            "drive = 8\npins = [\"11\", \"37\"]",
            "leds.drive",
            "iCE40 IOs have no programmable drive strength",
            "drive =",
        ),
        (
            "ulx3s",
            "pins = [\"D6\"]",
            "pins = [\"D6\"]\ndrive = 12",
            "buttons[0].drive",
            "buttons are inputs",
            "drive = 12",
        ),
        (
            "ulx3s",
            "drive = 4\nio_standard",
            "drive = 24\nio_standard",
            "leds.drive",
            "24 mA is not a drive strength of ecp5 LVCMOS33 outputs (4, 8, 12, 16 mA)",
            "drive =",
        ),
        (
            "ulx3s",
            "drive = 4\nio_standard = \"LVCMOS33\"",
            "drive = 4\nio_standard = \"LVCMOS25\"",
            "leds.drive",
            "ecp5 LVCMOS25 has no drive strength to set (nextpnr-ecp5 sets DRIVE on LVCMOS33 pins only)",
            "drive =",
        ),
        (
            "tangnano9k",
            "drive = 8",
            "drive = 16",
            "leds.drive",
            "16 mA is not a drive strength of gowin LVCMOS18 outputs (4, 8, 12 mA)",
            "drive =",
        ),
        (
            "ulx3s",
            "pull = \"up\"\ndrive = 4",
            "pull = \"up\"\ndrive = \"4mA\"",
            "uart.drive",
            "invalid type",
            "\"4mA\"",
        ),
        (
            "ulx3s",
            "freq_mhz = 25.0",
            "freq_mhz = 25.0\ndrive = 8",
            "clock.drive",
            "unknown field `drive`",
            "drive = 8",
        ),
    ];
    for &(board, from, to, field, frag, needle) in cases {
        let base = src(board);
        assert!(base.contains(from), "{board}.toml has no {from:?}");
        let text = base.replacen(from, to, 1);
        let (line, f, msg) = parse_err(board, &text);
        assert_eq!(f, field, "{board}: {from:?} -> {to:?}: {msg}");
        assert!(msg.contains(frag), "{board}: {from:?} -> {to:?}: {msg}");
        assert_eq!(line, line_of(&text, needle), "{board}: line of {field}");
        let full = ConfigError::Invalid {
            file: format!("boards/{board}.toml").into(),
            line,
            field: f,
            message: msg,
        }
        .to_string();
        assert!(
            full.starts_with(&format!("boards/{board}.toml:{line}: field `{field}`")),
            "{full}"
        );
    }
}

#[test]
fn ice40_pcf_is_exact() {
    let cfg = load_board(&root(), "icebreaker").expect("icebreaker");
    assert_eq!(constraints::extension(cfg.device.family), "pcf");
    assert_eq!(
        constraints::generate(&cfg),
        "# Generated by hlsk-boards from boards/icebreaker.toml; do not edit.\n\
         set_io clk_i 35\n\
         set_io rst_btn_i 10\n\
         set_io led_o[0] 11\n\
         set_io led_o[1] 37\n\
         set_io -pullup yes uart_tx_o 9\n\
         set_io -pullup yes uart_rx_i 6\n"
    );
}

#[test]
fn ecp5_lpf_has_sites_io_types_pulls_and_frequency() {
    let cfg = load_board(&root(), "ulx3s").expect("ulx3s");
    let lpf = constraints::generate(&cfg);
    for line in [
        "LOCATE COMP \"clk_i\" SITE \"G2\";",
        "IOBUF PORT \"clk_i\" IO_TYPE=LVCMOS33 PULLMODE=NONE;",
        "LOCATE COMP \"rst_btn_i\" SITE \"D6\";",
        "IOBUF PORT \"rst_btn_i\" IO_TYPE=LVCMOS33 PULLMODE=UP;",
        "LOCATE COMP \"led_o[7]\" SITE \"H3\";",
        "IOBUF PORT \"led_o[7]\" IO_TYPE=LVCMOS33 PULLMODE=NONE DRIVE=4;",
        "LOCATE COMP \"uart_tx_o\" SITE \"L4\";",
        "IOBUF PORT \"uart_tx_o\" IO_TYPE=LVCMOS33 PULLMODE=UP DRIVE=4;",
        "LOCATE COMP \"uart_rx_i\" SITE \"M1\";",
        "IOBUF PORT \"uart_rx_i\" IO_TYPE=LVCMOS33 PULLMODE=UP;",
        "FREQUENCY PORT \"clk_i\" 25 MHZ;",
    ] {
        assert!(lpf.lines().any(|l| l == line), "missing {line:?} in\n{lpf}");
    }
    // A single LED is a plain port after synthesis; the reset input is
    // pulled up.
    let cfg = load_board(&root(), "colorlight-i5").expect("colorlight-i5");
    let lpf = constraints::generate(&cfg);
    for line in [
        "LOCATE COMP \"led_o\" SITE \"U16\";",
        "IOBUF PORT \"led_o\" IO_TYPE=LVCMOS33;",
        "IOBUF PORT \"rst_btn_i\" IO_TYPE=LVCMOS33 PULLMODE=UP;",
        "IOBUF PORT \"uart_rx_i\" IO_TYPE=LVCMOS33 PULLMODE=UP;",
    ] {
        assert!(lpf.lines().any(|l| l == line), "missing {line:?} in\n{lpf}");
    }
    // OrangeCrab: the SSTL135 button as published, the header UART pulled up.
    let cfg = load_board(&root(), "orangecrab").expect("orangecrab");
    let lpf = constraints::generate(&cfg);
    for line in [
        "IOBUF PORT \"rst_btn_i\" IO_TYPE=SSTL135_I;",
        "IOBUF PORT \"uart_rx_i\" IO_TYPE=LVCMOS33 PULLMODE=UP;",
    ] {
        assert!(lpf.lines().any(|l| l == line), "missing {line:?} in\n{lpf}");
    }
}

#[test]
fn gowin_cst_has_locations_io_types_pulls_and_drives() {
    let cfg = load_board(&root(), "tangnano9k").expect("tangnano9k");
    let cst = constraints::generate(&cfg);
    // A .cst comments with `//`.
    assert!(
        cst.starts_with("// Generated by hlsk-boards from boards/tangnano9k.toml"),
        "{cst}"
    );
    for line in [
        "IO_LOC \"clk_i\" 52;",
        "IO_PORT \"clk_i\" IO_TYPE=LVCMOS33;",
        "IO_LOC \"rst_btn_i\" 4;",
        "IO_PORT \"rst_btn_i\" IO_TYPE=LVCMOS18 PULL_MODE=UP;",
        "IO_LOC \"led_o[5]\" 16;",
        "IO_PORT \"led_o[5]\" IO_TYPE=LVCMOS18 PULL_MODE=UP DRIVE=8;",
        "IO_LOC \"uart_tx_o\" 17;",
        "IO_PORT \"uart_tx_o\" IO_TYPE=LVCMOS33 PULL_MODE=UP;",
        "IO_LOC \"uart_rx_i\" 18;",
        "IO_PORT \"uart_rx_i\" IO_TYPE=LVCMOS33 PULL_MODE=UP;",
    ] {
        assert!(cst.lines().any(|l| l == line), "missing {line:?} in\n{cst}");
    }
}

#[test]
fn a_design_without_the_host_link_needs_no_baud_divider() {
    // The ULX3S's 3 Mbaud does not divide its 25 MHz crystal (only its PLL
    // clock): the board SoC from the crystal is refused, a kernel preset
    // without the host link (HostLink = 0) builds and gets no Baud.
    let mut cfg = load_board(&root(), "ulx3s").expect("ulx3s");
    cfg.clock.pll_mhz = None;
    let e = Design::for_board(&cfg, &root()).unwrap_err();
    assert!(e.to_string().contains("uart.baud"), "{e}");
    cfg.kernel.params.insert("HostLink".to_owned(), 0);
    let d = Design::for_board(&cfg, &root()).expect("design");
    assert!(!d.params.iter().any(|(k, _)| k == "Baud"), "{:?}", d.params);
}

#[test]
fn kernel_options_are_passed_only_when_a_build_sets_them() {
    let mut cfg = load_board(&root(), "icebreaker").expect("icebreaker");
    let d = Design::for_board(&cfg, &root()).expect("design");
    assert!(
        !d.params.iter().any(|(k, _)| k == "HostLink"),
        "{:?}",
        d.params
    );
    cfg.kernel.params.insert("HostLink".to_owned(), 0);
    let d = Design::for_board(&cfg, &root()).expect("design");
    assert!(
        d.params.iter().any(|(k, v)| k == "HostLink" && v == "0"),
        "{:?}",
        d.params
    );
    // A board file may not set it: the board SoC always has its host link.
    let text = std::fs::read_to_string(root().join("boards/icebreaker.toml")).expect("toml");
    let bad = text.replace("MemWords = 1024 }", "MemWords = 1024, HostLink = 1 }");
    assert_ne!(bad, text);
    let e = hlsk_boards::BoardConfig::parse("boards/icebreaker.toml".as_ref(), &bad).unwrap_err();
    assert!(e.to_string().contains("HostLink"), "{e}");
}

/// Parses `text` as `boards/<board>.toml`, panicking on an error.
fn parse_ok(board: &str, text: &str) -> BoardConfig {
    BoardConfig::parse(&PathBuf::from(format!("boards/{board}.toml")), text)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn pull_and_drive_are_parsed_and_written_only_where_set() {
    use hlsk_boards::config::Pull;
    let ulx = load_board(&root(), "ulx3s").expect("ulx3s");
    assert_eq!(
        (ulx.clock.pull, ulx.leds.pull, ulx.leds.drive),
        (Some(Pull::None), Some(Pull::None), Some(4))
    );
    assert_eq!((ulx.uart.pull, ulx.uart.drive), (Some(Pull::Up), Some(4)));
    assert_eq!(
        ulx.buttons.iter().map(|b| b.pull).collect::<Vec<_>>(),
        [Some(Pull::Up), Some(Pull::Down)]
    );
    // Absent: the family default, and no attribute in the constraints.
    assert_eq!(Family::Ecp5.default_pull(), Pull::Down);
    assert_eq!(Family::Ice40.default_pull(), Pull::None);
    assert_eq!(Family::Gowin.default_pull(), Pull::Up);
    let text = src("colorlight-i5").replacen("pull = \"up\"\nio_standard", "io_standard", 1);
    let cfg = parse_ok("colorlight-i5", &text);
    assert_eq!(cfg.buttons[0].pull, None);
    let lpf = constraints::generate(&cfg);
    assert!(
        lpf.lines()
            .any(|l| l == "IOBUF PORT \"rst_btn_i\" IO_TYPE=LVCMOS33;"),
        "{lpf}"
    );
    // Every value, per family.
    for (pull, pcf, lpf, cst) in [
        ("up", " -pullup yes", " PULLMODE=UP", " PULL_MODE=UP"),
        ("none", " -pullup no", " PULLMODE=NONE", " PULL_MODE=NONE"),
        ("down", "", " PULLMODE=DOWN", " PULL_MODE=DOWN"),
    ] {
        let field = format!("pull = \"{pull}\"\n");
        if pull != "down" {
            let t =
                src("icebreaker").replace("pins = [\"10\"]", &format!("{field}pins = [\"10\"]"));
            let out = constraints::generate(&parse_ok("icebreaker", &t));
            let line = format!("set_io{pcf} rst_btn_i 10");
            assert!(out.lines().any(|l| l == line), "{line:?} in\n{out}");
        }
        let t = src("orangecrab").replace("pins = [\"J17\"]", &format!("{field}pins = [\"J17\"]"));
        let out = constraints::generate(&parse_ok("orangecrab", &t));
        let line = format!("IOBUF PORT \"rst_btn_i\" IO_TYPE=SSTL135_I{lpf};");
        assert!(out.lines().any(|l| l == line), "{line:?} in\n{out}");
        let t = src("tangnano9k").replacen(
            "pull = \"up\"\nio_standard = \"LVCMOS18\"\n\n[[buttons]]\nname = \"s2\"",
            &format!("{field}io_standard = \"LVCMOS18\"\n\n[[buttons]]\nname = \"s2\""),
            1,
        );
        let out = constraints::generate(&parse_ok("tangnano9k", &t));
        let line = format!("IO_PORT \"rst_btn_i\" IO_TYPE=LVCMOS18{cst};");
        assert!(out.lines().any(|l| l == line), "{line:?} in\n{out}");
    }
    // Drive: every strength the family takes for the IO standard is written.
    for ma in Family::Ecp5.drive_strengths("LVCMOS33") {
        let t = src("ulx3s").replace(
            "drive = 4\nio_standard",
            &format!("drive = {ma}\nio_standard"),
        );
        let out = constraints::generate(&parse_ok("ulx3s", &t));
        let line = format!("IOBUF PORT \"led_o[0]\" IO_TYPE=LVCMOS33 PULLMODE=NONE DRIVE={ma};");
        assert!(out.lines().any(|l| l == line), "{line:?} in\n{out}");
    }
    for ma in Family::Gowin.drive_strengths("LVCMOS33") {
        let t = src("tangnano9k").replace(
            "pull = \"up\"\nio_standard = \"LVCMOS33\"",
            &format!("pull = \"up\"\ndrive = {ma}\nio_standard = \"LVCMOS33\""),
        );
        let cfg = parse_ok("tangnano9k", &t);
        assert_eq!(cfg.uart.drive, Some(*ma));
        let out = constraints::generate(&cfg);
        // The drive goes to the UART output only.
        for line in [
            format!("IO_PORT \"uart_tx_o\" IO_TYPE=LVCMOS33 PULL_MODE=UP DRIVE={ma};"),
            "IO_PORT \"uart_rx_i\" IO_TYPE=LVCMOS33 PULL_MODE=UP;".to_owned(),
        ] {
            assert!(out.lines().any(|l| l == line), "{line:?} in\n{out}");
        }
    }
}

#[test]
fn pll_clock_is_optional_validated_and_sets_clk_hz() {
    // Asked of the PLL: the design's ClkHz until the flow knows what the
    // PLL achieves; the crystal stays the oscillator's frequency.
    let ib = load_board(&root(), "icebreaker").expect("icebreaker");
    let asked = ib
        .clock
        .pll_mhz
        .expect("the iCEBreaker SoC runs from its PLL");
    assert_eq!((ib.clock.freq_mhz, ib.freq_mhz()), (12.0, asked));
    let hz = |cfg: &BoardConfig| {
        let d = Design::for_board(cfg, &root()).expect("design");
        d.params
            .iter()
            .find(|(k, _)| k == "ClkHz")
            .map(|(_, v)| v.clone())
            .expect("ClkHz")
    };
    assert_eq!(hz(&ib), format!("{}", (asked * 1e6).round() as u64));
    // Without it the crystal clocks the design, as before.
    let text = src("icebreaker");
    let pll_line = text
        .lines()
        .find(|l| l.starts_with("pll_mhz"))
        .expect("pll_mhz line");
    let no_pll = parse_ok("icebreaker", &text.replace(pll_line, ""));
    assert_eq!(no_pll.clock.pll_mhz, None);
    assert_eq!(hz(&no_pll), "12000000");
    // Every board file that sets one asks for more than nothing.
    for n in known_boards(&root()) {
        let cfg = load_board(&root(), &n).expect("board");
        if let Some(f) = cfg.clock.pll_mhz {
            assert!(f > 0.0, "{n}: {f}");
        }
    }
    // Validation names the field and its line.
    for (bad, msg) in [
        ("pll_mhz = 0.0", "not a clock frequency"),
        ("pll_mhz = -24.0", "not a clock frequency"),
        ("pll_mhz = 2000.0", "not a clock frequency"),
        ("pll_mhz = \"fast\"", "invalid type"),
    ] {
        let t = text.replace(pll_line, bad);
        let (line, field, m) = parse_err("icebreaker", &t);
        assert_eq!(
            (line, field.as_str()),
            (line_of(&t, bad), "clock.pll_mhz"),
            "{bad}"
        );
        assert!(m.contains(msg), "{bad}: {m}");
    }
}

#[test]
fn uart_baud_is_validated_against_the_clock_and_sets_the_divider() {
    // Every board's rate: the SoC divides its clock (as asked of the PLL)
    // by the nearest divider, within 2 %; the design's Baud is the rate
    // that divider makes, so the SoC's ClkHz / Baud is exactly it.
    for n in known_boards(&root()) {
        let cfg = load_board(&root(), &n).expect("board");
        let d = Design::for_board(&cfg, &root()).expect("design");
        let param = |k: &str| -> u64 {
            d.params
                .iter()
                .find(|(p, _)| p == k)
                .map(|(_, v)| v.parse().expect("number"))
                .unwrap_or_else(|| panic!("{n}: no {k}"))
        };
        let div = cfg.uart_divider(cfg.clk_hz()).expect("divider");
        assert_eq!(
            param("ClkHz") / param("Baud"),
            u64::from(div.clks_per_bit),
            "{n}"
        );
        assert!(div.error().abs() <= 0.02, "{n}: {div:?}");
    }
    let ib = load_board(&root(), "icebreaker").expect("icebreaker");
    assert_eq!(ib.uart.baud, 3_000_000);
    assert_eq!(ib.uart_divider(21_000_000).expect("21 MHz").clks_per_bit, 7);
    // Absent: 115,200. The rejections below are worked out at 21 MHz (the
    // board's clock when they were written), so the test pins it.
    let text = src("icebreaker");
    let board_pll_line = text
        .lines()
        .find(|l| l.starts_with("pll_mhz"))
        .expect("pll_mhz line")
        .to_owned();
    let text = text.replace(&board_pll_line, "pll_mhz = 21.0");
    let baud_line = text
        .lines()
        .find(|l| l.starts_with("baud"))
        .expect("baud line");
    assert_eq!(
        parse_ok("icebreaker", &text.replace(baud_line, ""))
            .uart
            .baud,
        115_200
    );
    // Rejected with the field, its line and what to do.
    for (bad, msg) in [
        ("baud = 0", "0 is not a baud rate"),
        ("baud = -9600", "invalid value"),
        ("baud = \"fast\"", "invalid type"),
        (
            // 21 MHz / 7 Mbaud = 3 cycles per bit.
            "baud = 7000000",
            "leaves 3.00 clock cycles per bit, fewer than the 4 the UART needs; choose at most \
             5250000 baud",
        ),
        (
            // 21 MHz / 2 Mbaud = 10.5: 10 or 11 cycles, 5 % and 4.5 % off.
            "baud = 2000000",
            "the nearest divider, 11, makes 1909091 baud, -4.55 % off (at most 2 %); choose a \
             rate the clock divides closely (e.g. 3000000 or 1500000 or 1000000 baud at this \
             clock), or a clock that is a multiple of it (`[clock] pll_mhz`, e.g. 22 MHz",
        ),
    ] {
        let t = text.replace(baud_line, bad);
        let (line, field, m) = parse_err("icebreaker", &t);
        assert_eq!(
            (line, field.as_str()),
            (line_of(&t, bad), "uart.baud"),
            "{bad}"
        );
        assert!(m.contains(msg), "{bad}: {m}");
    }
    // The rate is checked at the clock asked of the PLL: 3 Mbaud is fine
    // at 21 MHz, not at 25 MHz.
    let pll_line = text
        .lines()
        .find(|l| l.starts_with("pll_mhz"))
        .expect("pll_mhz line");
    let t = text.replace(pll_line, "pll_mhz = 25.0");
    let (_, field, m) = parse_err("icebreaker", &t);
    assert_eq!(field, "uart.baud");
    assert!(m.contains("from a 25 MHz clock"), "{m}");
    // The build checks it again at the frequency the PLL achieves.
    let e = FlowError::Baud {
        board: "icebreaker".into(),
        clk_mhz: 25.125,
        source: ib.uart_divider(25_125_000).unwrap_err(),
    };
    assert!(
        e.to_string().starts_with(
            "UART of icebreaker ([uart] baud in boards/icebreaker.toml) at the 25.125000 MHz the \
             PLL makes: 3000000 baud from a 25.125 MHz clock needs 8.38 clock cycles per bit"
        ),
        "{e}"
    );
}
