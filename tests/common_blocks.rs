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
