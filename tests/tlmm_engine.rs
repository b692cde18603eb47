//! Co-simulation of the output-stationary TLMM engine against the reference.
//! The properties live in `hlsk_tests::tlmm`.

use hlsk_cosim::configs::TLMM_CONFIGS;
use hlsk_tests::prop::cases;
use hlsk_tests::tlmm;

fn all_builds(f: impl Fn(usize) -> Result<(), String>) {
    let failures: Vec<String> = (0..TLMM_CONFIGS.len()).filter_map(|c| f(c).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn random_jobs_match_reference_under_backpressure() {
    all_builds(|c| tlmm::jobs_match_reference(c, cases(200)));
}

#[test]
fn illegal_codes_and_misplaced_last_flags_are_flagged() {
    all_builds(|c| tlmm::errors_are_flagged(c, cases(100)));
}

#[test]
fn reset_in_the_middle_of_a_job_recovers() {
    all_builds(|c| tlmm::reset_mid_job_recovers(c, cases(64)));
}

#[test]
fn worst_case_magnitudes_and_zero_weights_at_k_max() {
    all_builds(tlmm::corner_jobs);
}

#[test]
fn bad_commands_are_rejected_with_err_shape() {
    all_builds(tlmm::bad_commands_rejected);
}

#[test]
fn k_at_and_above_the_exact_limit_in_the_acc16_build() {
    let c = TLMM_CONFIGS
        .iter()
        .position(|c| c.acc_w == 16)
        .expect("an ACC_W = 16 build");
    if let Err(e) = tlmm::k_range_boundary(c) {
        panic!("{e}");
    }
}

#[test]
fn measured_cycles_equal_the_cycle_model() {
    let shapes = [
        (1, 1),
        (1, 4),
        (5, 7),
        (4, 12),
        (17, 64),
        (33, 96),
        (8, 250),
        (64, 256),
    ];
    all_builds(|c| {
        let k_max = TLMM_CONFIGS[c].k_max as usize;
        let fit: Vec<(usize, usize)> = shapes
            .iter()
            .copied()
            .filter(|&(_, k)| k <= k_max)
            .collect();
        tlmm::cycles_match_model(c, &fit).map(|_| ())
    });
}
