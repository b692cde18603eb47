//! Adaptation to a shifted domain (`hls_rust::conv::adapt`): the domain
//! is what its documentation says and disjoint from the adaptation set,
//! frozen layers get no backward steps, and a last-layer fine-tuning
//! leaves the frozen layers' masters alone; replayed original images join
//! every fine-tuning epoch.

use hls_rust::conv::adapt::{
    AdaptConfig, LEVELS, Mode, NOISE, SHIFT_DX, ShiftedSplit, adapt_on, freeze, pretrain,
    training_memory,
};
use hls_rust::conv::plan::{Headroom, HostOp, Magnitudes, Network, Scales, Step, TrainPlan};
use hls_rust::conv::{HwConfig, Op, Reference};
use hls_rust::digits::Digits;

#[test]
fn shifted_split_is_deterministic_disjoint_and_shifted_inverted_and_noisy() {
    let heldout = Digits::load().unwrap().split().1;
    let a = ShiftedSplit::new(&heldout, 7);
    let b = ShiftedSplit::new(&heldout, 7);
    let c = ShiftedSplit::new(&heldout, 8);
    assert_eq!(
        a.adapt.images, b.adapt.images,
        "same seed, same adaptation set"
    );
    assert_eq!(a.test.images, b.test.images, "same seed, same test set");
    assert_ne!(a.test.images, c.test.images, "another seed, another domain");

    let mut all: Vec<usize> = a.adapt_idx.iter().chain(&a.test_idx).copied().collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..heldout.len()).collect::<Vec<_>>(),
        "a partition of the held-out split"
    );
    assert_eq!(a.adapt.len(), heldout.len() / 2);

    for (k, &i) in a.test_idx.iter().enumerate() {
        assert_eq!(a.test_original.images[k], heldout.images[i]);
        assert_eq!(a.test.labels[k], heldout.labels[i]);
        for (p, &v) in a.test.images[k].iter().enumerate() {
            let (y, x) = (p / 8, p % 8);
            let moved = if x < SHIFT_DX {
                0
            } else {
                heldout.images[i][y * 8 + x - SHIFT_DX]
            };
            let clean = i16::from(LEVELS - moved);
            assert!(
                (i16::from(v) - clean).abs() <= i16::from(NOISE) && v <= LEVELS,
                "test image {k} (held-out {i}) pixel ({y}, {x}): {v}, shifted and inverted {clean}"
            );
        }
    }
    let noisy = a
        .test
        .images
        .iter()
        .zip(&a.test_original.images)
        .filter(|(s, o)| {
            (0..64).any(|p| {
                let x = p % 8;
                let clean = if x < SHIFT_DX {
                    LEVELS
                } else {
                    LEVELS - o[p - SHIFT_DX]
                };
                s[p] != clean
            })
        })
        .count();
    assert!(noisy > a.test.len() / 2, "noise in only {noisy} images");
}

fn digits_plan(batch: usize) -> TrainPlan {
    let net = Network::digits();
    let scales = Scales::propose(&net, &Magnitudes::digits_typical(), &Headroom::default());
    TrainPlan::new(&net, batch, &HwConfig::up5k(), scales, 0.1).unwrap()
}

#[test]
fn frozen_layers_get_no_bp_wu_or_pool_backward_and_no_stored_activations() {
    let plan = digits_plan(8);
    let net = &plan.net;
    let loss = plan.loss_step();
    assert_eq!(
        freeze(&plan, Mode::Full.first_trainable(net).unwrap()).steps,
        plan.steps,
        "full fine-tuning is the training step"
    );
    let full = training_memory(&plan);
    for n in 1..=3 {
        let first = Mode::LastLayers(n).first_trainable(net).unwrap();
        let frozen = freeze(&plan, first);
        assert_eq!(
            frozen.steps[..=loss],
            plan.steps[..=loss],
            "the forward pass stays"
        );
        for s in &frozen.steps[loss + 1..] {
            match *s {
                Step::Engine { layer, desc, .. } => assert!(
                    layer > first || (layer == first && desc.op == Op::Wu),
                    "last {n} layers (from layer {first}): {} of layer {layer}",
                    desc.op
                ),
                Step::Host { layer, op } => assert!(
                    layer > first && matches!(op, HostOp::FromBatchWidth { .. }),
                    "last {n} layers: host {op:?} of layer {layer}"
                ),
            }
        }
        let wus = frozen.descriptors().filter(|d| d.op == Op::Wu).count();
        assert_eq!(wus, n, "one WU per trainable layer");
        let mem = training_memory(&frozen);
        if n < 3 {
            assert!(
                mem.stored < full.stored
                    && mem.gradients < full.gradients
                    && mem.masters < full.masters,
                "last {n} layers keep {mem:?}, full fine-tuning {full:?}"
            );
        } else {
            assert_eq!(mem, full);
        }
    }
    assert!(Mode::LastLayers(4).first_trainable(net).is_err());
    assert!(Mode::LastLayers(0).first_trainable(net).is_err());
}

#[test]
fn last_layer_fine_tuning_moves_only_the_last_layers_masters() {
    let cfg = AdaptConfig {
        adapt_images: Some(24),
        test_images: Some(16),
        ..AdaptConfig::new(3, 1, 1, HwConfig::up5k())
    };
    let pre = pretrain(&cfg, &mut |_| {}).unwrap();
    let before = &pre.trained.report.masters;
    for (mode, trainable) in [(Mode::LastLayers(1), vec![4]), (Mode::Full, vec![0, 2, 4])] {
        let run = adapt_on(&pre, &cfg, mode, &mut Reference(cfg.hw), &mut |_| {}).unwrap();
        assert_eq!(run.trainable, trainable, "{mode}");
        assert_eq!(run.steps, 3);
        for ((layer, a), (_, b)) in before.iter().zip(&run.masters) {
            assert_eq!(
                a != b,
                trainable.contains(layer),
                "{mode}: layer {layer}'s masters moved: {}",
                a != b
            );
        }
        let ran = |op| run.by_op.iter().find(|e| e.0 == op).map_or(0, |e| e.1);
        assert_eq!(ran(Op::Wu), 3 * trainable.len(), "{mode}: WU descriptors");
        assert_eq!(
            ran(Op::Bp),
            3 * (trainable.len() - 1),
            "{mode}: BP descriptors"
        );
        assert_eq!(
            ran(Op::PoolBwd),
            3 * (trainable.len() - 1),
            "{mode}: pool backward"
        );
        assert_eq!(run.shifted.logits.len(), 16);
        assert_eq!(run.original.logits.len(), 16);
    }
}

#[test]
fn replayed_original_images_join_every_fine_tuning_epoch() {
    let cfg = AdaptConfig {
        adapt_images: Some(24),
        test_images: Some(8),
        replay: 8,
        ..AdaptConfig::new(5, 1, 2, HwConfig::up5k())
    };
    let pre = pretrain(&cfg, &mut |_| {}).unwrap();
    // The replayed images are unshifted training images, chosen by the seed.
    let (train, _) = Digits::load().unwrap().split();
    assert_eq!(pre.replay.len(), 8);
    for (img, label) in pre.replay.images.iter().zip(&pre.replay.labels) {
        assert!(
            train
                .images
                .iter()
                .zip(&train.labels)
                .any(|(i, l)| i == img && l == label),
            "a replayed image is not a training image"
        );
    }
    let again = pretrain(&cfg, &mut |_| {}).unwrap();
    assert_eq!(pre.replay.images, again.replay.images);
    // 24 adaptation and 8 replayed images at batch 8: 4 steps per epoch.
    let run = adapt_on(&pre, &cfg, Mode::Full, &mut Reference(cfg.hw), &mut |_| {}).unwrap();
    assert_eq!(run.steps, 2 * 4);
    let too_many = AdaptConfig {
        replay: train.len() + 1,
        ..cfg
    };
    let err = pretrain(&too_many, &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("replayed images asked"), "{err}");
}
