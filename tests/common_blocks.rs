//! Co-simulation of the common blocks against their reference models.
//! See `hlsk_tests::blocks` for the properties.

use hlsk_tests::blocks::{CHECKS, run_all_builds};
use hlsk_tests::prop::cases;

fn run(name: &str) {
    let check = CHECKS.iter().find(|c| c.name == name).expect("known block");
    if let Err(e) = run_all_builds(check, cases(256)) {
        panic!("{e}");
    }
}

#[test]
fn skid_buffer_matches_reference_under_backpressure() {
    run("hlsk_skid_buffer");
}

#[test]
fn fifo_matches_reference_under_backpressure() {
    run("hlsk_fifo_sync");
}

#[test]
fn ram_matches_reference_with_collisions() {
    run("hlsk_ram_1r1w");
}

/// The RAM stimulus must make same-cycle collisions (a read of the word
/// written at the same edge, inside the depth) common, or the read-first and
/// write-first builds would hardly be told apart: at least one cycle in 20
/// of every build's runs.
#[test]
fn ram_stimulus_collides_often() {
    use hlsk_cosim::configs::RAM_CONFIGS;
    use hlsk_tests::blocks::ram_case;
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    for c in RAM_CONFIGS {
        let strategy = ram_case(c.width, c.depth);
        let (mut cycles, mut collisions) = (0usize, 0usize);
        for _ in 0..64 {
            let case = strategy
                .new_tree(&mut runner)
                .expect("RAM stimulus")
                .current();
            cycles += case.cycles.len();
            collisions += case
                .cycles
                .iter()
                .filter(|i| i.we && i.re && i.waddr == i.raddr && i.raddr < c.depth)
                .count();
        }
        assert!(
            collisions * 20 >= cycles,
            "{c:?}: {collisions} collisions in {cycles} cycles"
        );
    }
}
