//! Co-simulation of `conv_engine` against `hls_rust::conv::exec` on every
//! build in `CONV_CONFIGS`.

use hls_rust::conv::Op;
use hlsk_cosim::configs::CONV_CONFIGS;
use hlsk_tests::conv::{
    MemTiming, STEP_TIMING, conv_matches_reference_on, descriptor_sequences_on, digits_steps_on,
    digits_training_on, oversized_descriptors_flag_error_on, schedule_invariance_on,
};
use hlsk_tests::prop::cases;

fn all_builds(f: impl Fn(usize) -> Result<(), String>) {
    let errors: Vec<String> = (0..CONV_CONFIGS.len()).filter_map(|c| f(c).err()).collect();
    assert!(errors.is_empty(), "{}", errors.join("\n\n"));
}

#[test]
fn random_fp_layers_match_reference_memory_image() {
    all_builds(|c| conv_matches_reference_on(c, Op::Fp, cases(48)));
}

#[test]
fn random_bp_layers_match_reference_memory_image() {
    all_builds(|c| conv_matches_reference_on(c, Op::Bp, cases(48)));
}

#[test]
fn random_wu_layers_match_reference_memory_image() {
    all_builds(|c| conv_matches_reference_on(c, Op::Wu, cases(48)));
}

#[test]
fn random_pool_fwd_layers_match_reference_memory_image() {
    all_builds(|c| conv_matches_reference_on(c, Op::PoolFwd, cases(48)));
}

#[test]
fn random_pool_bwd_layers_match_reference_memory_image() {
    all_builds(|c| conv_matches_reference_on(c, Op::PoolBwd, cases(48)));
}

#[test]
fn oversized_descriptors_flag_error_and_leave_memory_untouched() {
    all_builds(|c| oversized_descriptors_flag_error_on(c, cases(12)));
}

#[test]
fn descriptor_sequences_run_back_to_back_without_reset() {
    all_builds(|c| descriptor_sequences_on(c, cases(16)));
}

#[test]
fn digits_training_steps_match_reference_on_every_build() {
    all_builds(|c| {
        // Three consecutive steps (the masters move in each), with stalls on
        // every stream, and without (busy cycles exact too).
        let n = digits_steps_on(c, 4, 3, 11, STEP_TIMING)?.len();
        digits_steps_on(c, 4, 3, 12, MemTiming::IDEAL)?;
        assert!(
            n >= 3 * 12,
            "build {c}: only {n} descriptors in three training steps"
        );
        Ok(())
    });
}

#[test]
fn fp_bp_wu_are_schedule_invariant() {
    all_builds(|c| {
        [Op::Fp, Op::Bp, Op::Wu]
            .iter()
            .try_for_each(|&op| schedule_invariance_on(c, op, cases(12)))
    });
}

#[test]
fn digits_training_loop_through_rtl_matches_reference_training() {
    use hls_rust::conv::digits::{TrainConfig, train_fixed_with};
    // The `hlsk conv digits --rtl` loop on a subset: 6 minibatches of 8 over
    // 2 epochs (12 consecutive training steps), then 16 test images.
    let cfg = TrainConfig {
        train_images: Some(48),
        test_images: Some(16),
        ..TrainConfig::new(3, 2)
    };
    let run =
        digits_training_on(0, &cfg, STEP_TIMING, &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(run.rtl.steps, 12);
    assert_eq!(run.rtl.test_logits.len(), 16);
    // The weights really moved: every layer's masters differ from the
    // untrained ones.
    let untrained = train_fixed_with(&TrainConfig {
        epochs: 0,
        ..run.rtl.config
    })
    .expect("untrained reference");
    assert_eq!(untrained.masters.len(), 3, "three layers with weights");
    assert_eq!(untrained.masters.len(), run.rtl.masters.len());
    for ((layer, a), (_, b)) in untrained.masters.iter().zip(&run.rtl.masters) {
        assert_ne!(a, b, "layer {layer}: the masters did not change");
    }
}
