//! The SoC top through the host link, as `hlsk run --twin` drives it: the
//! Verilated `hlsk_soc_top` behind the bit-level UART line model, driven by
//! `hlsk_host`. See `hlsk_tests::twin_props` for the properties.

use hlsk_cosim::configs::{SOC_CONFIGS, SocConfig};
use hlsk_tests::prop::cases;
use hlsk_tests::twin::WireFault;
use hlsk_tests::twin_conv::{
    bad_conv_descriptors_are_refused, conv_jobs_match_reference_on,
    lost_conv_ack_is_not_re_executed,
};
use hlsk_tests::twin_props::{
    bad_frames_are_refused, jobs_match_reference_on, jobs_survive_wire_faults_on,
    lost_ack_is_not_re_executed, memory_commands_wait_for_the_job, nak_reasons_are_exact_on,
    retry_after_a_poll_is_not_re_executed, seq_wraparound_never_looks_like_a_repeat,
    wire_fault_is_recovered,
};

fn ok(r: Result<(), String>) {
    if let Err(e) = r {
        panic!("{e}");
    }
}

#[test]
fn twin_tlmm_jobs_are_bit_identical_to_the_reference_on_every_twin_build() {
    for config in 0..SOC_CONFIGS.len() {
        ok(jobs_match_reference_on(config, cases(6)));
    }
}

#[test]
fn corrupted_dropped_duplicated_and_truncated_frames_are_detected_and_recovered() {
    // The WRITE: SOF 0, LEN 1, ~LEN 2, SEQ 3, CMD 4, address 5-6, words
    // 7..38, CRC 39-42.
    let faults = [
        WireFault::FlipBit { byte: 0, bit: 3 }, // SOF: frame invisible
        WireFault::FlipBit { byte: 1, bit: 0 }, // LEN
        WireFault::FlipBit { byte: 1, bit: 7 }, // LEN above the maximum
        WireFault::FlipBit { byte: 2, bit: 4 }, // ~LEN
        WireFault::FlipBit { byte: 3, bit: 0 }, // SEQ
        WireFault::FlipBit { byte: 4, bit: 1 }, // CMD WRITE -> READ
        WireFault::FlipBit { byte: 6, bit: 4 }, // address
        WireFault::FlipBit { byte: 21, bit: 7 }, // data
        WireFault::FlipBit { byte: 40, bit: 0 }, // CRC
        WireFault::Drop { byte: 10 },
        WireFault::Drop { byte: 40 },
        WireFault::Duplicate { byte: 0 },
        WireFault::Duplicate { byte: 13 },
        WireFault::Truncate { keep: 4 },
        WireFault::Truncate { keep: 26 },
        WireFault::BadStopBit { byte: 18 },
    ];
    for f in faults {
        ok(wire_fault_is_recovered(0, f));
    }
}

#[test]
fn a_lost_acknowledgement_is_retried_and_not_executed_twice() {
    for f in [
        WireFault::FlipBit { byte: 3, bit: 0 },
        WireFault::Truncate { keep: 3 },
        WireFault::Drop { byte: 0 },
    ] {
        ok(lost_ack_is_not_re_executed(0, f));
    }
}

#[test]
fn a_retry_after_a_status_poll_is_not_executed_twice() {
    for config in SocConfig::board_builds() {
        ok(retry_after_a_poll_is_not_re_executed(config));
    }
}

#[test]
fn the_seq_wrapping_around_is_never_taken_for_a_repeat() {
    ok(seq_wraparound_never_looks_like_a_repeat(0));
}

#[test]
fn bad_frames_are_refused_counted_and_never_executed() {
    for config in SocConfig::board_builds() {
        ok(bad_frames_are_refused(config));
    }
}

#[test]
fn nak_reasons_are_exact_for_good_bad_oversize_and_cut_frames_on_every_twin_build() {
    for config in SocConfig::board_builds() {
        ok(nak_reasons_are_exact_on(config, cases(24)));
    }
}

#[test]
fn jobs_survive_random_wire_faults_in_both_directions() {
    ok(jobs_survive_wire_faults_on(0, cases(24)));
}

#[test]
fn memory_commands_are_refused_busy_while_a_job_runs() {
    // Build 1 (ULX3S kernel): a job long enough to outlast a READ frame.
    ok(memory_commands_wait_for_the_job(1));
}

/// The SoC builds that carry the convolution engine.
fn conv_builds() -> impl Iterator<Item = usize> {
    (0..SOC_CONFIGS.len()).filter(|&c| SOC_CONFIGS[c].conv.is_some())
}

#[test]
fn twin_conv_fp_jobs_leave_the_reference_memory_image() {
    for config in conv_builds() {
        ok(conv_jobs_match_reference_on(config, cases(4)));
    }
}

#[test]
fn oversized_malformed_and_out_of_memory_conv_descriptors_end_in_error_status() {
    for config in conv_builds() {
        ok(bad_conv_descriptors_are_refused(config));
    }
}

#[test]
fn a_lost_conv_start_acknowledgement_is_retried_and_the_job_runs_once() {
    for config in conv_builds() {
        for f in [
            WireFault::FlipBit { byte: 3, bit: 0 },
            WireFault::Truncate { keep: 3 },
        ] {
            ok(lost_conv_ack_is_not_re_executed(config, f));
        }
    }
}
