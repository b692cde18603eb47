//! Co-simulation of the TLMM engines (output-stationary and
//! table-stationary) and the weight feeder against the reference.
//! The properties live in `hlsk_tests::tlmm`.

use hlsk_cosim::configs::{FEEDER_CONFIGS, TLMM_CONFIGS, TLMM_TS_CONFIGS};
use hlsk_tests::prop::cases;
use hlsk_tests::tlmm::{self, Build};

/// Runs `f` on every build of both engines; reports every failure.
fn all_builds(f: impl Fn(Build) -> Result<(), String>) {
    let failures: Vec<String> = Build::all()
        .into_iter()
        .filter_map(|b| f(b).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn random_jobs_match_reference_under_backpressure() {
    all_builds(|b| tlmm::jobs_match_reference_on(b, cases(200)));
}

#[test]
fn illegal_codes_and_misplaced_last_flags_are_flagged() {
    all_builds(|b| tlmm::errors_are_flagged_on(b, cases(100)));
}

#[test]
fn reset_in_the_middle_of_a_job_recovers() {
    all_builds(|b| tlmm::reset_mid_job_recovers_on(b, cases(64)));
}

#[test]
fn worst_case_magnitudes_and_zero_weights_at_k_max() {
    all_builds(tlmm::corner_jobs_on);
}

#[test]
fn k_at_every_beat_chunk_and_buffer_boundary() {
    all_builds(tlmm::k_boundaries_on);
}

#[test]
fn bad_commands_are_rejected_with_err_shape() {
    all_builds(tlmm::bad_commands_rejected_on);
}

#[test]
fn k_at_and_above_the_exact_limit_in_the_acc16_builds() {
    let os = TLMM_CONFIGS
        .iter()
        .position(|c| c.acc_w == 16)
        .map(Build::Os)
        .expect("an output-stationary ACC_W = 16 build");
    let ts = TLMM_TS_CONFIGS
        .iter()
        .position(|c| c.acc_w == 16)
        .map(Build::Ts)
        .expect("a table-stationary ACC_W = 16 build");
    for b in [os, ts] {
        if let Err(e) = tlmm::k_range_boundary_on(b) {
            panic!("{e}");
        }
    }
}

/// Both cycle models are exact: measured busy cycles equal the prediction.
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
        (40, 512),
    ];
    all_builds(|b| {
        let c = b.config();
        let fit: Vec<(usize, usize)> = shapes
            .iter()
            .copied()
            .filter(|&(m, k)| k <= c.k_max as usize && m <= c.m_max as usize)
            .collect();
        let rows = tlmm::cycles_match_model_on(b, &fit)?;
        // Figures for the report (`-- --nocapture` shows them).
        for r in rows {
            let peak = u64::from(c.g * c.t * c.p);
            let util = (r.m * r.k) as f64 / (peak * r.measured) as f64;
            println!(
                "{:<34} M={:>3} K={:>3}: {:>5} busy cycles (model {:>5}, closed form {:>5}), utilization {:>5.1} %",
                c.prefix(),
                r.m,
                r.k,
                r.measured,
                r.exact,
                r.closed_form,
                100.0 * util
            );
        }
        Ok(())
    });
}

#[test]
fn weight_feeder_streams_what_was_written_under_backpressure() {
    let failures: Vec<String> = (0..FEEDER_CONFIGS.len())
        .filter_map(|c| tlmm::feeder_streams_what_was_written(c, cases(200)).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
