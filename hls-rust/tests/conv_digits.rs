//! Real training on the digits data set: the fixed-point network, trained
//! entirely through the descriptor list and the reference executor, reaches
//! at least 90% test accuracy and stays within 3 points of f32.

use hls_rust::conv::digits::{Report, train_f32, train_fixed};

const SEED: u64 = 1;
const EPOCHS: usize = 12;

fn show(r: &Report) {
    eprintln!(
        "{:>5}: test {:.4} ({} samples) train {:.4} loss/epoch {:?} in {:.1?}",
        r.kind,
        r.test_acc,
        r.test_total,
        r.train_acc,
        r.epoch_loss
            .iter()
            .map(|l| format!("{l:.3}"))
            .collect::<Vec<_>>(),
        r.elapsed
    );
    if let Some(s) = &r.scales {
        eprintln!("       scales {s:?}");
        eprintln!("       wrapped accumulators {:?}", r.acc_overflows);
    }
    if let Some(p) = &r.predicted_step {
        eprintln!(
            "       {} descriptors/step, predicted {} cycles/step, utilization {:.3}, traffic {} words",
            r.descriptors_per_step,
            p.cycles,
            p.utilization(&r.config.hw),
            p.traffic()
        );
    }
}

#[test]
fn fixed_point_training_reaches_90_percent_within_3_points_of_f32() {
    let fixed = train_fixed(SEED, EPOCHS).expect("fixed-point training runs");
    let float = train_f32(SEED, EPOCHS).expect("f32 training runs");
    show(&float);
    show(&fixed);
    assert!(
        fixed.test_acc >= 0.90,
        "fixed-point test accuracy {:.4} below 0.90",
        fixed.test_acc
    );
    assert!(
        fixed.test_acc >= float.test_acc - 0.03,
        "fixed point {:.4} more than 3 points below f32 {:.4}",
        fixed.test_acc,
        float.test_acc
    );
    assert!(
        fixed.acc_overflows.iter().all(|&(_, n)| n == 0),
        "accumulators wrapped: {:?}",
        fixed.acc_overflows
    );
    assert!(
        fixed.epoch_loss.last() < fixed.epoch_loss.first(),
        "the loss falls"
    );
}

#[test]
fn bit_difference_names_the_first_differing_master_or_logit() {
    use hls_rust::conv::digits::{TrainConfig, train_fixed_with};
    let cfg = TrainConfig {
        train_images: Some(32),
        test_images: Some(8),
        ..TrainConfig::new(SEED, 1)
    };
    let a = train_fixed_with(&cfg).expect("training runs");
    let b = train_fixed_with(&cfg).expect("training runs");
    assert_eq!(a.steps, 4);
    assert_eq!(a.test_logits.len(), 8);
    assert_eq!(a.bit_difference(&b), None, "the reference is deterministic");

    let mut m = b.clone();
    let (layer, w) = &mut m.masters[1];
    let layer = *layer;
    let [_, n, kh, kw] = w.dims();
    w.data_mut()[n * kh * kw + 4] ^= 1; // element [1, 0, 1, 1]
    let msg = a.bit_difference(&m).expect("a master code differs");
    assert!(
        msg.contains(&format!("layer {layer} master")) && msg.contains("[1, 0, 1, 1]"),
        "{msg}"
    );

    let mut l = b.clone();
    l.test_logits[5][3] += 0.25;
    let msg = a.bit_difference(&l).expect("a logit differs");
    assert!(msg.contains("image 5"), "{msg}");
}
