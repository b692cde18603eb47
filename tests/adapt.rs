//! Adaptation on the engine (`hlsk conv adapt`): fine-tuning through the
//! Verilated engine is the reference's bit for bit, whole or last layer
//! only; and the SoC twin, driven through the host link one descriptor at
//! a time with only the descriptor's regions in its memory, leaves the
//! reference's image for the digits CNN's FC layer (FP, then WU in place).

use hls_rust::conv::adapt::{AdaptConfig, Mode, adapt_on, pretrain};
use hls_rust::conv::plan::{Headroom, Magnitudes, Network, Scales, TrainPlan};
use hls_rust::conv::{Executor, Op, Reference, run_descriptor};
use hlsk_sim::conv::{MemTiming, RtlExecutor};
use hlsk_sim::twin_exec::TwinExecutor;

#[test]
fn fine_tuning_through_the_rtl_is_the_references_bit_for_bit() {
    let mut rtl = RtlExecutor::new(0, 1, MemTiming::LAT4_BURST2).unwrap();
    let cfg = AdaptConfig {
        adapt_images: Some(16),
        test_images: Some(8),
        ..AdaptConfig::new(1, 1, 1, rtl.hw())
    };
    let pre = pretrain(&cfg, &mut |_| {}).unwrap();
    for mode in [Mode::Full, Mode::LastLayers(1)] {
        let got = adapt_on(&pre, &cfg, mode, &mut rtl, &mut |_| {}).unwrap();
        let want = adapt_on(&pre, &cfg, mode, &mut Reference(cfg.hw), &mut |_| {}).unwrap();
        assert_eq!(got.steps, 2, "{mode}: two minibatches");
        if let Some(d) = got.bit_difference(&want) {
            panic!("{mode}: the RTL's fine-tuning differs from the reference's: {d}");
        }
        assert_ne!(
            got.masters, pre.trained.report.masters,
            "{mode}: fine-tuning moved no master"
        );
        assert_eq!(
            (got.training.cycles, got.training.fired),
            (want.training.cycles, want.training.fired),
            "{mode}: busy and fired cycles, RTL against the model"
        );
    }
}

#[test]
fn twin_runs_the_fc_layers_fp_and_in_place_wu_with_only_their_regions_moved() {
    let mut twin = TwinExecutor::connect("ulx3s-conv", 3).unwrap();
    let hw = twin.hw();
    let net = Network::digits();
    let scales = Scales::propose(&net, &Magnitudes::digits_typical(), &Headroom::default());
    let plan = TrainPlan::new(&net, 8, &hw, scales, 0.1).unwrap();
    assert!(
        plan.mem_words > twin.capacity(),
        "the image ({} words) should exceed the twin's memory ({})",
        plan.mem_words,
        twin.capacity()
    );
    twin.memory_map(&plan.regions);
    let fc = plan.geometry.len() - 1;
    let descs: Vec<_> = plan
        .steps
        .iter()
        .filter_map(|s| match s {
            hls_rust::conv::plan::Step::Engine { layer, desc, .. } if *layer == fc => Some(*desc),
            _ => None,
        })
        .filter(|d| matches!(d.op, Op::Fp | Op::Wu))
        .collect();
    assert_eq!(descs.len(), 2);
    // Junk everywhere: every word a descriptor reads is uploaded, every
    // word it writes comes back, the rest stays the host's.
    let mut mem = plan.new_memory();
    for (i, w) in mem.words_mut().iter_mut().enumerate() {
        *w = ((i * 7919) % 1021) as i16 - 510;
    }
    for d in &descs {
        let mut want = mem.clone();
        let model = run_descriptor(&mut want, d, &hw).unwrap();
        let got = twin.execute(&mut mem, d).unwrap();
        assert_eq!(mem, want, "{} through the twin", d.op);
        assert_eq!(got.fired, model.fired, "{}: fired cycles", d.op);
    }
    let t = twin.traffic();
    assert_eq!(t.descriptors, 2);
    assert!(t.uploaded > 0 && t.downloaded > 0 && t.engine_cycles > 0);
}
