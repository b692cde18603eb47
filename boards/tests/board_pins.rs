//! Every board file's pins against two independent board databases,
//! amaranth-boards and litex-boards (PyPI packages pinned in
//! `scripts/requirements-tools.txt`, installed into `.venv` by `make setup`).
//!
//! For every board file: the device, the clock pin and its frequency, every
//! LED, button and UART pin, and wherever a database states them the IO
//! standard (ECP5, Gowin; an iCE40 `.pcf` has none), the pull (ours as the
//! tools see it: a pin without `pull` has the family default), the drive
//! strength and the polarity (`active_low`, UART `inverted`). Each pin is
//! mapped by hand ([`maps`]) to the resource that publishes it in each
//! database that has the board. A difference fails the test unless the
//! [`ALLOWED`] list names it with the reason; so do a board file without a
//! mapping, a pin that no database covers, a mapping to a pin that is no
//! resource (a header) without an allow-list entry, and an allow-list entry
//! that no longer matches anything.
//!
//! The databases are read by a small Python script ([`DUMP_PY`]) run with
//! `.venv/bin/python`: it imports the platform classes and prints their
//! resources as JSON. A missing venv or package fails the test with the
//! command that installs it.

use hlsk_boards::config::Pull;
use hlsk_boards::{BoardConfig, Family, known_boards, load_board};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo")
        .to_owned()
}

// ---------------------------------------------------------------------------
// The databases

/// A board database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Db {
    Amaranth,
    Litex,
}

impl Db {
    fn package(self) -> &'static str {
        match self {
            Db::Amaranth => "amaranth-boards",
            Db::Litex => "litex-boards",
        }
    }
}

/// A platform class of a database.
struct Platform {
    db: Db,
    module: &'static str,
    class: &'static str,
    /// Constructor arguments, a JSON object.
    kwargs: &'static str,
    /// litex-boards: module-level IO lists added with `add_extension`.
    extensions: &'static [&'static str],
}

impl Platform {
    fn key(&self) -> String {
        format!("{}:{}.{}", self.db.package(), self.module, self.class)
    }

    /// For messages: `amaranth-boards ULX3S_85F_Platform`,
    /// `litex-boards radiona_ulx3s` (whose classes are all `Platform`).
    fn label(&self) -> String {
        let name = match self.db {
            Db::Amaranth => self.class,
            Db::Litex => self.module.rsplit('.').next().unwrap_or(self.module),
        };
        format!("{} {name}", self.db.package())
    }
}

/// Where a database publishes one of our pins.
#[derive(Clone, Copy)]
enum Ref {
    /// Resource `name` number `n`, subsignal `sub`.
    Res(Db, &'static str, u32, Option<&'static str>),
    /// Pin `pin` of connector `conn` (`name#number`): a header pin, no
    /// resource, so only the pin is compared.
    Conn(Db, &'static str, &'static str),
}

impl Ref {
    fn db(self) -> Db {
        match self {
            Ref::Res(db, ..) | Ref::Conn(db, ..) => db,
        }
    }
}

fn am(name: &'static str, n: u32) -> Ref {
    Ref::Res(Db::Amaranth, name, n, None)
}
fn lx(name: &'static str, n: u32) -> Ref {
    Ref::Res(Db::Litex, name, n, None)
}

/// `leds.pins[0..n]`: amaranth-boards' `led` and litex-boards' `litex` resources.
fn led_pins(n: u32, litex: &'static str) -> Vec<(String, Vec<Ref>)> {
    (0..n)
        .map(|i| (format!("leds.pins[{i}]"), vec![am("led", i), lx(litex, i)]))
        .collect()
}

/// `uart.tx` and `uart.rx`: amaranth-boards' `uart` 0, litex-boards' `serial` 0.
fn uart_pins() -> Vec<(String, Vec<Ref>)> {
    ["tx", "rx"]
        .into_iter()
        .map(|sub| {
            (
                format!("uart.{sub}"),
                vec![
                    Ref::Res(Db::Amaranth, "uart", 0, Some(sub)),
                    Ref::Res(Db::Litex, "serial", 0, Some(sub)),
                ],
            )
        })
        .collect()
}

/// The mapping of one board file's pins (field paths as in config errors,
/// with the pin index: `leds.pins[2]`) to the databases.
struct BoardMap {
    board: &'static str,
    platforms: Vec<Platform>,
    pins: Vec<(String, Vec<Ref>)>,
}

/// Every board file's mapping. Resource names and numbers are the
/// databases' own (amaranth-boards 0.0.21, litex-boards 2023.12).
fn maps() -> Vec<BoardMap> {
    let mut v = Vec::new();

    // iCEBreaker: amaranth-boards icebreaker.py, litex-boards icebreaker.py.
    v.push(BoardMap {
        board: "icebreaker",
        platforms: vec![
            Platform {
                db: Db::Amaranth,
                module: "amaranth_boards.icebreaker",
                class: "ICEBreakerPlatform",
                kwargs: "{}",
                extensions: &[],
            },
            Platform {
                db: Db::Litex,
                module: "litex_boards.platforms.icebreaker",
                class: "Platform",
                kwargs: "{}",
                extensions: &[],
            },
        ],
        pins: [("clock.pin".into(), vec![am("clk12", 0), lx("clk12", 0)])]
            .into_iter()
            .chain(led_pins(2, "user_led_n"))
            .chain([(
                "buttons[0].pins[0]".into(),
                vec![am("button", 0), lx("user_btn_n", 0)],
            )])
            .chain(uart_pins())
            .collect(),
    });

    // ULX3S (both board files): amaranth-boards ulx3s.py, litex-boards
    // radiona_ulx3s.py. Our button groups: PWR, then FIRE1 FIRE2 UP DOWN
    // LEFT RIGHT (amaranth `button` 0-5, litex `user_btn` 1-6).
    for board in ["ulx3s", "ulx3s-conv"] {
        let mut pins = vec![("clock.pin".into(), vec![am("clk25", 0), lx("clk25", 0)])];
        pins.extend(led_pins(8, "user_led"));
        pins.push((
            "buttons[0].pins[0]".into(),
            vec![am("button_pwr", 0), lx("user_btn", 0)],
        ));
        for i in 0..6 {
            pins.push((
                format!("buttons[1].pins[{i}]"),
                vec![am("button", i), lx("user_btn", i + 1)],
            ));
        }
        pins.extend(uart_pins());
        v.push(BoardMap {
            board,
            platforms: vec![
                Platform {
                    db: Db::Amaranth,
                    module: "amaranth_boards.ulx3s",
                    class: "ULX3S_85F_Platform",
                    kwargs: "{}",
                    extensions: &[],
                },
                Platform {
                    db: Db::Litex,
                    module: "litex_boards.platforms.radiona_ulx3s",
                    class: "Platform",
                    kwargs: r#"{"device": "LFE5U-85F"}"#,
                    extensions: &[],
                },
            ],
            pins,
        });
    }

    // Tang Nano 9K: amaranth-boards tang_nano_9k.py, litex-boards
    // sipeed_tang_nano_9k.py. Our first button (the reset) is S1 on pin 4,
    // the databases' button 1.
    let mut pins = vec![("clock.pin".into(), vec![am("clk27", 0), lx("clk27", 0)])];
    pins.extend(led_pins(6, "user_led"));
    pins.push((
        "buttons[0].pins[0]".into(),
        vec![am("button", 1), lx("user_btn", 1)],
    ));
    pins.push((
        "buttons[1].pins[0]".into(),
        vec![am("button", 0), lx("user_btn", 0)],
    ));
    pins.extend(uart_pins());
    v.push(BoardMap {
        board: "tangnano9k",
        platforms: vec![
            Platform {
                db: Db::Amaranth,
                module: "amaranth_boards.tang_nano_9k",
                class: "TangNano9kPlatform",
                kwargs: "{}",
                extensions: &[],
            },
            Platform {
                db: Db::Litex,
                module: "litex_boards.platforms.sipeed_tang_nano_9k",
                class: "Platform",
                kwargs: "{}",
                extensions: &[],
            },
        ],
        pins,
    });

    // Colorlight i5 v7.0: litex-boards colorlight_i5.py only (amaranth-boards
    // has no i5).
    v.push(BoardMap {
        board: "colorlight-i5",
        platforms: vec![Platform {
            db: Db::Litex,
            module: "litex_boards.platforms.colorlight_i5",
            class: "Platform",
            kwargs: r#"{"board": "i5", "revision": "7.0"}"#,
            extensions: &[],
        }],
        pins: vec![
            ("clock.pin".into(), vec![lx("clk25", 0)]),
            ("leds.pins[0]".into(), vec![lx("user_led_n", 0)]),
            ("buttons[0].pins[0]".into(), vec![lx("cpu_reset_n", 0)]),
            (
                "uart.tx".into(),
                vec![Ref::Res(Db::Litex, "serial", 0, Some("tx"))],
            ),
            (
                "uart.rx".into(),
                vec![Ref::Res(Db::Litex, "serial", 0, Some("rx"))],
            ),
        ],
    });

    // OrangeCrab r0.2: amaranth-boards orangecrab_r0_2.py, litex-boards
    // gsd_orangecrab.py. The UART is on the Feather header (see ALLOWED).
    v.push(BoardMap {
        board: "orangecrab",
        platforms: vec![
            Platform {
                db: Db::Amaranth,
                module: "amaranth_boards.orangecrab_r0_2",
                class: "OrangeCrabR0_2_25FPlatform",
                kwargs: "{}",
                extensions: &[],
            },
            Platform {
                db: Db::Litex,
                module: "litex_boards.platforms.gsd_orangecrab",
                class: "Platform",
                kwargs: r#"{"revision": "0.2", "device": "25F"}"#,
                extensions: &["feather_serial"],
            },
        ],
        pins: vec![
            ("clock.pin".into(), vec![am("clk", 0), lx("clk48", 0)]),
            (
                "leds.pins[0]".into(),
                vec![
                    Ref::Res(Db::Amaranth, "rgb_led", 0, Some("r")),
                    lx("user_led", 0),
                ],
            ),
            (
                "leds.pins[1]".into(),
                vec![
                    Ref::Res(Db::Amaranth, "rgb_led", 0, Some("g")),
                    lx("user_led", 1),
                ],
            ),
            (
                "leds.pins[2]".into(),
                vec![
                    Ref::Res(Db::Amaranth, "rgb_led", 0, Some("b")),
                    lx("user_led", 2),
                ],
            ),
            (
                "buttons[0].pins[0]".into(),
                vec![am("button", 0), lx("usr_btn", 0)],
            ),
            (
                "uart.tx".into(),
                vec![
                    Ref::Conn(Db::Amaranth, "io#0", "1"),
                    Ref::Res(Db::Litex, "serial", 0, Some("tx")),
                ],
            ),
            (
                "uart.rx".into(),
                vec![
                    Ref::Conn(Db::Amaranth, "io#0", "0"),
                    Ref::Res(Db::Litex, "serial", 0, Some("rx")),
                ],
            ),
        ],
    });
    v
}

// ---------------------------------------------------------------------------
// Intentional differences

/// What a difference is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum What {
    IoStandard,
    Pull,
    /// The pin is a header pin, not one of the database's resources for the
    /// board (a connector pin, or a litex-boards extension list).
    Header,
}

/// A difference from a database that a board file makes on purpose.
struct Allowed {
    boards: &'static [&'static str],
    /// A field path prefix: `buttons[0]` covers every pin of that group.
    field: &'static str,
    db: Db,
    what: What,
    reason: &'static str,
}

const ALLOWED: &[Allowed] = &[
    Allowed {
        boards: &["ulx3s", "ulx3s-conv"],
        field: "buttons[0]",
        db: Db::Litex,
        what: What::Pull,
        reason: "BTN_PWRn (D6) is active low and pulled up in the maker's constraint file \
                 (emard/ulx3s doc/constraints/ulx3s_v20.lpf: btn[0] PULLMODE=UP, \"inverted \
                 logic\") and in amaranth-boards (button_pwr: PinsN, PULLMODE=UP); \
                 litex-boards pulls it down",
    },
    Allowed {
        boards: &["tangnano9k"],
        field: "leds",
        db: Db::Amaranth,
        what: What::IoStandard,
        reason: "the LEDs are in bank 3 (Apycula's GW1N-9C pin_bank), powered at 1.8 V: \
                 the maker's sipeed/TangNano-9K-example led/src/9K_LED_project.cst leaves \
                 them at Gowin's default LVCMOS18 and sets LVCMOS33 only on other banks, \
                 litex-boards says LVCMOS18; amaranth-boards says LVCMOS33",
    },
    Allowed {
        boards: &["tangnano9k"],
        field: "buttons",
        db: Db::Amaranth,
        what: What::IoStandard,
        reason: "the buttons (pins 3, 4) are in bank 3 with the LEDs: LVCMOS18 as in the \
                 maker's example constraints and litex-boards; amaranth-boards says LVCMOS33",
    },
    Allowed {
        boards: &["orangecrab"],
        field: "uart",
        db: Db::Amaranth,
        what: What::Header,
        reason: "the OrangeCrab has no UART; ours is on Feather header pins 1 (tx) and 0 \
                 (rx), compared with amaranth-boards' `io` connector",
    },
    Allowed {
        boards: &["orangecrab"],
        field: "uart",
        db: Db::Litex,
        what: What::Header,
        reason: "the OrangeCrab has no UART; ours is on Feather header pins 1 (tx) and 0 \
                 (rx), litex-boards' feather_serial extension",
    },
];

// ---------------------------------------------------------------------------
// Reading the databases

/// Prints the platforms' resources as JSON: stdin a list of platform specs,
/// stdout `{key: {device, clock_hz, resources, connectors}}`; exit 3 with
/// `missing: <module>` on stderr when a package is not installed.
const DUMP_PY: &str = r#"
import importlib, json, sys

def need(name):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        print(f"missing: {e.name} ({e})", file=sys.stderr)
        sys.exit(3)

def amaranth(spec):
    dsl = need("amaranth.build.dsl")
    p = getattr(need(spec["module"]), spec["class"])(**spec["kwargs"])
    conns = {f"{n}#{i}": {str(k): v for k, v in c.mapping.items()}
             for (n, i), c in p.connectors.items()}
    conn_pins = {f"{n}_{i}:{k}": v for (n, i), c in p.connectors.items()
                 for k, v in c.mapping.items()}
    leaves, clocks = [], {}
    def walk(res, node, path, attrs):
        attrs = {**attrs, **{k: str(v) for k, v in node.attrs.items()}}
        for io in node.ios:
            if isinstance(io, dsl.Subsignal):
                walk(res, io, path + [io.name], attrs)
                continue
            pins = io.p if isinstance(io, dsl.DiffPairs) else io
            leaves.append({"name": res.name, "number": res.number,
                           "sub": ".".join(path) or None,
                           "pins": pins.map_names(conn_pins, res),
                           "invert": bool(pins.invert), "attrs": attrs,
                           "extension": False})
    for (name, number), res in p.resources.items():
        if res.clock is not None:
            clocks[f"{name}#{number}"] = res.clock.frequency
        walk(res, res, [], {})
    device = {k: str(getattr(p, k)) for k in ("device", "package", "speed", "part")
              if getattr(p, k, None) is not None}
    return {"device": device, "clock_hz": clocks, "resources": leaves,
            "connectors": conns}

def litex(spec):
    gp = need("litex.build.generic_platform")
    mod = need(spec["module"])
    p = getattr(mod, spec["class"])(**spec["kwargs"])
    ext = set()
    for name in spec["extensions"]:
        ios = getattr(mod, name)
        ext |= {(r[0], r[1]) for r in ios}
        p.add_extension(ios)
    cm = p.constraint_manager
    leaves = []
    def walk(key, items, path, attrs, invert):
        attrs = dict(attrs)
        pins, subs = None, []
        for it in items:
            if isinstance(it, gp.Pins):
                pins = cm.connector_manager.resolve_identifiers(it.identifiers)
            elif isinstance(it, gp.IOStandard):
                attrs["IOStandard"] = it.name
            elif isinstance(it, gp.Drive):
                attrs["DRIVE"] = str(it.strength)
            elif isinstance(it, gp.Misc):
                for word in str(it.misc).split():
                    k, _, v = word.partition("=")
                    attrs[k] = v or "1"
            elif isinstance(it, gp.Inverted):
                invert = True
            elif isinstance(it, gp.Subsignal):
                subs.append(it)
        if pins is not None:
            leaves.append({"name": key[0], "number": key[1],
                           "sub": ".".join(path) or None, "pins": pins,
                           "invert": invert, "attrs": attrs,
                           "extension": key in ext})
        for s in subs:
            walk(key, s.constraints, path + [s.name], attrs, invert)
    for r in cm.available:
        walk((r[0], r[1]), r[2:], [], {}, None)
    clocks = {f"{p.default_clk_name}#0": 1e9 / p.default_clk_period}
    return {"device": {"device": p.device}, "clock_hz": clocks,
            "resources": leaves, "connectors": {}}

out = {}
for spec in json.load(sys.stdin):
    out[spec["key"]] = (amaranth if spec["db"] == "amaranth" else litex)(spec)
json.dump(out, sys.stdout)
"#;

/// The dumped platforms, by [`Platform::key`].
fn dump(platforms: &[&Platform]) -> BTreeMap<String, Value> {
    let python = root().join(".venv/bin/python");
    let setup = "run `make setup` (scripts/setup.sh installs scripts/requirements-tools.txt, \
                 which pins amaranth-boards and litex-boards, into .venv)";
    assert!(
        python.is_file(),
        "{} is missing: the board databases live in the project venv; {setup}",
        python.display()
    );
    let specs: Vec<Value> = platforms
        .iter()
        .map(|p| {
            serde_json::json!({
                "key": p.key(),
                "db": match p.db { Db::Amaranth => "amaranth", Db::Litex => "litex" },
                "module": p.module,
                "class": p.class,
                "kwargs": serde_json::from_str::<Value>(p.kwargs).expect("kwargs JSON"),
                "extensions": p.extensions,
            })
        })
        .collect();
    let mut child = Command::new(&python)
        .args(["-c", DUMP_PY])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(serde_json::to_string(&specs).expect("json").as_bytes())
        .expect("write specs");
    let out = child.wait_with_output().expect("python");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(3) {
        panic!(
            "the board databases are not installed in .venv ({}); {setup}",
            stderr.trim()
        );
    }
    assert!(
        out.status.success(),
        "the database dump failed ({}):\n{stderr}",
        out.status
    );
    serde_json::from_slice(&out.stdout).expect("dump JSON")
}

// ---------------------------------------------------------------------------
// Our side

/// One of our pins and what the board file says about it.
struct OurPin<'a> {
    field: String,
    pin: &'a str,
    io_standard: Option<&'a str>,
    /// As the tools see it: the board file's pull or the family default.
    pull: Pull,
    drive: Option<u32>,
    active_low: Option<bool>,
}

fn our_pins(cfg: &BoardConfig) -> Vec<OurPin<'_>> {
    let def = cfg.device.family.default_pull();
    let mut v = vec![OurPin {
        field: "clock.pin".into(),
        pin: &cfg.clock.pin,
        io_standard: cfg.clock.io_standard.as_deref(),
        pull: cfg.clock.pull.unwrap_or(def),
        drive: None,
        active_low: None,
    }];
    for (i, pin) in cfg.leds.pins.iter().enumerate() {
        v.push(OurPin {
            field: format!("leds.pins[{i}]"),
            pin,
            io_standard: cfg.leds.io_standard.as_deref(),
            pull: cfg.leds.pull.unwrap_or(def),
            drive: cfg.leds.drive,
            active_low: Some(cfg.leds.active_low),
        });
    }
    for (g, b) in cfg.buttons.iter().enumerate() {
        for (i, pin) in b.pins.iter().enumerate() {
            v.push(OurPin {
                field: format!("buttons[{g}].pins[{i}]"),
                pin,
                io_standard: b.io_standard.as_deref(),
                pull: b.pull.unwrap_or(def),
                drive: b.drive,
                active_low: Some(b.active_low),
            });
        }
    }
    for (sub, pin, drive) in [
        ("tx", &cfg.uart.tx, cfg.uart.drive),
        ("rx", &cfg.uart.rx, None),
    ] {
        v.push(OurPin {
            field: format!("uart.{sub}"),
            pin,
            io_standard: cfg.uart.io_standard.as_deref(),
            pull: cfg.uart.pull.unwrap_or(def),
            drive,
            active_low: Some(cfg.uart.inverted),
        });
    }
    v
}

/// The device names a database uses for ours: `(field, value)` pairs.
fn expected_device(cfg: &BoardConfig, db: Db) -> Vec<(&'static str, String)> {
    let d = &cfg.device;
    let pkg = d.package.as_deref().unwrap_or("");
    match (d.family, db) {
        (Family::Ecp5, _) => {
            let size = d.part.trim_end_matches('k').to_uppercase();
            let (variant, size) = match size.split_once('-') {
                Some((v, s)) => (v.to_owned(), s.to_owned()), // um-25k
                None => (String::new(), size),
            };
            let device = format!("LFE5U{variant}-{size}F");
            let short = match pkg {
                "CABGA256" => "BG256",
                "CABGA381" => "BG381",
                "CABGA554" => "BG554",
                "CABGA756" => "BG756",
                "CSFBGA285" => "MG285",
                "TQFP144" => "TG144",
                other => other,
            };
            let speed = d.speed.unwrap_or(0);
            match db {
                Db::Amaranth => vec![
                    ("device", device),
                    ("package", short.to_owned()),
                    ("speed", speed.to_string()),
                ],
                // e.g. LFE5U-25F-6BG381C (C: commercial grade)
                Db::Litex => vec![("device", format!("{device}-{speed}{short}C"))],
            }
        }
        (Family::Ice40, Db::Amaranth) => vec![
            ("device", format!("iCE40{}", d.part.to_uppercase())),
            ("package", pkg.to_uppercase()),
        ],
        (Family::Ice40, Db::Litex) => vec![("device", format!("ice40-{}-{pkg}", d.part))],
        (Family::Gowin, Db::Amaranth) => vec![("part", d.part.clone())],
        (Family::Gowin, Db::Litex) => vec![("device", d.part.clone())],
    }
}

// ---------------------------------------------------------------------------
// Comparing

/// Their pull: `PULLMODE` (ECP5), `PULL_MODE` (Gowin), `PULLUP` (iCE40).
fn their_pull(attrs: &Value) -> Option<Result<Pull, String>> {
    let get = |k: &str| attrs.get(k).and_then(Value::as_str);
    if let Some(v) = get("PULLMODE").or_else(|| get("PULL_MODE")) {
        return Some(match v.to_uppercase().as_str() {
            "UP" => Ok(Pull::Up),
            "DOWN" => Ok(Pull::Down),
            "NONE" => Ok(Pull::None),
            other => Err(other.to_owned()),
        });
    }
    get("PULLUP").map(|v| match v {
        "1" | "True" | "true" => Ok(Pull::Up),
        "0" | "False" | "false" => Ok(Pull::None),
        other => Err(format!("PULLUP={other}")),
    })
}

struct Report {
    lines: Vec<String>,
    used: Vec<bool>,
}

impl Report {
    /// Records a difference unless [`ALLOWED`] names it.
    fn differ(&mut self, board: &str, field: &str, db: Db, what: What, text: String) {
        let hit = ALLOWED.iter().position(|a| {
            a.boards.contains(&board) && field.starts_with(a.field) && a.db == db && a.what == what
        });
        match hit {
            Some(i) => {
                self.used[i] = true;
                println!("allowed: {board}: {field}: {text}: {}", ALLOWED[i].reason);
            }
            None => self.lines.push(format!("{board}: {field}: {text}")),
        }
    }
}

#[test]
fn every_board_file_matches_the_board_databases() {
    let root = root();
    let maps = maps();
    let names = known_boards(&root);
    for n in &names {
        assert!(
            maps.iter().any(|m| m.board == n.as_str()),
            "boards/{n}.toml has no mapping to the board databases in boards/tests/board_pins.rs \
             (maps()); add one"
        );
    }
    let platforms: Vec<&Platform> = maps.iter().flat_map(|m| m.platforms.iter()).collect();
    let data = dump(&platforms);
    let mut report = Report {
        lines: Vec::new(),
        used: vec![false; ALLOWED.len()],
    };
    let mut checked = 0;
    for m in &maps {
        assert!(
            names.iter().any(|n| n == m.board),
            "maps() names {}, which has no board file",
            m.board
        );
        let cfg = load_board(&root, m.board).unwrap_or_else(|e| panic!("{e}"));
        let family = cfg.device.family;
        let platform = |db: Db| -> (&Platform, &Value) {
            let p =
                m.platforms.iter().find(|p| p.db == db).unwrap_or_else(|| {
                    panic!("{}: no {} platform in maps()", m.board, db.package())
                });
            (p, &data[&p.key()])
        };
        // Device.
        for p in &m.platforms {
            let theirs = &data[&p.key()]["device"];
            for (k, want) in expected_device(&cfg, p.db) {
                let got = theirs.get(k).and_then(Value::as_str).unwrap_or("(none)");
                if got != want {
                    report.lines.push(format!(
                        "{}: device: {} says {k} {got}, ours is {want}",
                        m.board,
                        p.label()
                    ));
                }
            }
        }
        // Pins.
        let ours = our_pins(&cfg);
        for (field, _) in &m.pins {
            assert!(
                ours.iter().any(|o| &o.field == field),
                "{}: maps() names {field}, which the board file does not have",
                m.board
            );
        }
        for o in &ours {
            let refs = m
                .pins
                .iter()
                .find(|(f, _)| *f == o.field)
                .map(|(_, r)| r.as_slice())
                .unwrap_or_default();
            if refs.is_empty() {
                report.lines.push(format!(
                    "{}: {} ({}) is compared with no database; map it in maps()",
                    m.board, o.field, o.pin
                ));
            }
            for r in refs {
                let (p, plat) = platform(r.db());
                let who = p.label();
                checked += 1;
                let (name, n, sub) = match *r {
                    Ref::Conn(db, conn, pin) => {
                        report.differ(
                            m.board,
                            &o.field,
                            db,
                            What::Header,
                            format!("a header pin ({who} connector {conn} pin {pin}), no resource"),
                        );
                        let got = plat["connectors"][conn][pin].as_str().unwrap_or("(none)");
                        if got != o.pin {
                            report.lines.push(format!(
                                "{}: {} is {}; {who} connector {conn} pin {pin} is {got}",
                                m.board, o.field, o.pin
                            ));
                        }
                        continue;
                    }
                    Ref::Res(_, name, n, sub) => (name, n, sub),
                };
                let what = format!(
                    "{who} {name}#{n}{}",
                    sub.map(|s| format!(".{s}")).unwrap_or_default()
                );
                let leaf = plat["resources"].as_array().and_then(|rs| {
                    rs.iter()
                        .find(|l| l["name"] == name && l["number"] == n && l["sub"].as_str() == sub)
                });
                let Some(leaf) = leaf else {
                    report
                        .lines
                        .push(format!("{}: {}: {what} does not exist", m.board, o.field));
                    continue;
                };
                if leaf["extension"] == true {
                    report.differ(
                        m.board,
                        &o.field,
                        r.db(),
                        What::Header,
                        format!("{what} is an extension, not a resource of the board"),
                    );
                }
                // The pin.
                let pins: Vec<&str> = leaf["pins"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if pins != [o.pin] {
                    report.lines.push(format!(
                        "{}: {} is {}; {what} says {}",
                        m.board,
                        o.field,
                        o.pin,
                        pins.join(" ")
                    ));
                }
                let attrs = &leaf["attrs"];
                // The clock's frequency.
                if o.field == "clock.pin" {
                    let hz = plat["clock_hz"][format!("{name}#{n}")].as_f64();
                    let ours = cfg.clock.freq_mhz * 1e6;
                    match hz {
                        Some(hz) if (hz - ours).abs() < 1.0 => {}
                        Some(hz) => report.lines.push(format!(
                            "{}: clock.freq_mhz is {}; {what} runs at {} MHz",
                            m.board,
                            cfg.clock.freq_mhz,
                            hz / 1e6
                        )),
                        None => report.lines.push(format!(
                            "{}: {what} is no clock in {}",
                            m.board,
                            p.db.package()
                        )),
                    }
                }
                // The IO standard (an iCE40 .pcf carries none).
                let io = attrs
                    .get("IO_TYPE")
                    .or_else(|| attrs.get("IOStandard"))
                    .and_then(Value::as_str);
                if let (Some(theirs), false) = (io, family == Family::Ice40)
                    && o.io_standard != Some(theirs)
                {
                    report.differ(
                        m.board,
                        &o.field,
                        r.db(),
                        What::IoStandard,
                        format!(
                            "io_standard is {}; {what} says {theirs}",
                            o.io_standard.unwrap_or("(none)")
                        ),
                    );
                }
                // The pull, ours as the tools see it.
                match their_pull(attrs) {
                    Some(Ok(theirs)) if theirs != o.pull => report.differ(
                        m.board,
                        &o.field,
                        r.db(),
                        What::Pull,
                        format!(
                            "pull is {} (the board file's, or the {family} default); {what} says {theirs}",
                            o.pull
                        ),
                    ),
                    Some(Err(v)) => report.lines.push(format!(
                        "{}: {}: {what} has a pull this test does not know: {v}",
                        m.board, o.field
                    )),
                    _ => {}
                }
                // The drive strength.
                if let Some(theirs) = attrs.get("DRIVE").and_then(Value::as_str)
                    && o.drive.map(|d| d.to_string()).as_deref() != Some(theirs)
                {
                    report.lines.push(format!(
                        "{}: {}: drive is {}; {what} says {theirs} mA",
                        m.board,
                        o.field,
                        o.drive.map_or("(default)".into(), |d| format!("{d} mA"))
                    ));
                }
                // The polarity: amaranth-boards' PinsN; litex-boards' Inverted()
                // or an `_n` name (no `_n` says nothing there).
                let inverted = match r.db() {
                    Db::Amaranth => leaf["invert"].as_bool(),
                    Db::Litex => (leaf["invert"] == true || name.ends_with("_n")).then_some(true),
                };
                if let (Some(theirs), Some(ours)) = (inverted, o.active_low)
                    && theirs != ours
                {
                    report.lines.push(format!(
                        "{}: {}: active low / inverted is {ours}; {what} says {theirs}",
                        m.board, o.field
                    ));
                }
            }
        }
    }
    for (a, used) in ALLOWED.iter().zip(&report.used) {
        if !used {
            report.lines.push(format!(
                "stale allow-list entry ({:?} {:?} {} {:?}): nothing differs any more; remove it",
                a.boards,
                a.field,
                a.db.package(),
                a.what
            ));
        }
    }
    let mut msg = String::new();
    for l in &report.lines {
        let _ = writeln!(msg, "  {l}");
    }
    assert!(
        report.lines.is_empty(),
        "{} difference(s) between the board files and the board databases \
         (a wanted one goes into ALLOWED in boards/tests/board_pins.rs with its reason, \
         and a comment into the board file):\n{msg}",
        report.lines.len()
    );
    assert!(checked > 50, "only {checked} pin comparisons");
    println!("{checked} pin comparisons, all as published or allowed");
}
