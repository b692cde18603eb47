//! The ternary digits MLP: accuracy, the exact integer pipeline, and the
//! table path as a drop-in matmul.

use hls_rust::digits::Digits;
use hls_rust::tlmm::mlp::{MlpError, TernaryMlp, TrainConfig, TrainReport};
use hls_rust::tlmm::quant::{dequantize, quantize_activations_absmax};
use hls_rust::tlmm::{AccWidth, CodeMatrix, Grouping, TernaryMatrix, golden, tlmm_table};
use std::sync::OnceLock;

fn data() -> &'static (Digits, Digits) {
    static DATA: OnceLock<(Digits, Digits)> = OnceLock::new();
    DATA.get_or_init(|| Digits::load().expect("vendored data set").split())
}

/// The default network, trained once per test binary.
fn trained() -> &'static (TernaryMlp, TrainReport) {
    static MODEL: OnceLock<(TernaryMlp, TrainReport)> = OnceLock::new();
    MODEL.get_or_init(|| {
        let (train, test) = data();
        let r = TernaryMlp::train_on(train, test, &TrainConfig::default());
        println!("{}", r.1);
        r
    })
}

#[test]
fn ternary_mlp_reaches_90_percent_test_accuracy() {
    let (mlp, report) = trained();
    assert_eq!(mlp.hidden(), 128);
    assert!(
        report.ternary_test_accuracy >= 0.90,
        "ternary test accuracy {:.4} < 0.90\n{report}",
        report.ternary_test_accuracy
    );
    assert!(report.f32_test_accuracy >= 0.90, "{report}");
    assert_eq!(mlp.accuracy(&data().1), report.ternary_test_accuracy);
    assert_eq!(
        report.ternary_epoch_loss.len(),
        TrainConfig::default().epochs
    );
}

/// The documented pipeline, written out step by step.
fn by_hand(mlp: &TernaryMlp, image: &[u8; 64]) -> (Vec<i32>, Vec<f32>) {
    let [g1, g2] = mlp.gammas();
    let x: Vec<f32> = image.iter().map(|&p| f32::from(p) / 16.0).collect();
    let (xq, s1) = quantize_activations_absmax(&x);
    let y1 = golden(mlp.w1(), &xq, AccWidth::new(24).unwrap())
        .unwrap()
        .out;
    let h: Vec<f32> = y1.iter().map(|&y| (y as f32 / s1 * g1).max(0.0)).collect();
    let (hq, s2) = quantize_activations_absmax(&h);
    let y2 = golden(mlp.w2(), &hq, AccWidth::new(24).unwrap())
        .unwrap()
        .out;
    let v = y2.iter().map(|&y| dequantize(y, s2, g2)).collect();
    (y2, v)
}

#[test]
fn infer_is_the_documented_integer_pipeline_bit_for_bit() {
    let (mlp, _) = trained();
    for image in data().1.images.iter().take(100) {
        let logits = mlp.infer(image);
        let (ints, values) = by_hand(mlp, image);
        assert_eq!(logits.ints, ints);
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&logits.values), bits(&values));
        let best = ints.iter().max().unwrap();
        assert_eq!(logits.class(), ints.iter().position(|v| v == best).unwrap());
    }
}

#[test]
fn table_path_as_matmul_gives_identical_logits_on_every_test_image() {
    let (mlp, _) = trained();
    for g in [Grouping::G1, Grouping::G3, Grouping::new(5).unwrap()] {
        let mut calls = 0;
        let mut table = |w: &TernaryMatrix, x: &[i8]| {
            calls += 1;
            let r = tlmm_table(&CodeMatrix::encode(w, g), x, AccWidth::DEFAULT).unwrap();
            assert!(r.flags.is_empty());
            r.out
        };
        for image in &data().1.images {
            assert_eq!(mlp.infer_with(image, &mut table).unwrap(), mlp.infer(image));
        }
        assert_eq!(calls, 2 * data().1.len());
    }
}

#[test]
fn a_matmul_returning_the_wrong_length_is_an_error() {
    let (mlp, _) = trained();
    let mut short = |w: &TernaryMatrix, _: &[i8]| vec![0; w.m() - 1];
    let err = mlp.infer_with(&data().1.images[0], &mut short).unwrap_err();
    assert!(matches!(
        err,
        MlpError::Matmul {
            layer: 1,
            expected: 128,
            got: 127
        }
    ));
}

#[test]
fn npy_save_then_load_gives_the_same_network() {
    let (mlp, _) = trained();
    let dir = std::env::temp_dir().join(format!("hlsk-tlmm-mlp-{}", std::process::id()));
    mlp.save_npy(&dir).unwrap();
    let back = TernaryMlp::load_npy(&dir).unwrap();
    assert_eq!(&back, mlp);
    let (shape, w1) = hls_rust::tlmm::npy::read_i8(&dir.join("w1.npy")).unwrap();
    assert_eq!(shape, [128, 64]);
    assert_eq!(w1, mlp.w1().data());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn training_is_deterministic_for_a_seed() {
    let (train, test) = data();
    let config = TrainConfig {
        hidden: 16,
        epochs: 2,
        seed: 9,
        ..TrainConfig::default()
    };
    let a = TernaryMlp::train_on(train, test, &config);
    let b = TernaryMlp::train_on(train, test, &config);
    assert_eq!(a, b);
    let other = TernaryMlp::train_on(train, test, &TrainConfig { seed: 10, ..config });
    assert_ne!(a.0, other.0);
}

#[test]
fn new_rejects_mismatched_layers() {
    let w1 = TernaryMatrix::zeros(8, 64);
    assert!(TernaryMlp::new(w1.clone(), 1.0, TernaryMatrix::zeros(10, 8), 1.0).is_ok());
    assert!(TernaryMlp::new(w1.clone(), 1.0, TernaryMatrix::zeros(10, 9), 1.0).is_err());
    assert!(
        TernaryMlp::new(
            TernaryMatrix::zeros(8, 63),
            1.0,
            TernaryMatrix::zeros(10, 8),
            1.0
        )
        .is_err()
    );
    assert!(TernaryMlp::new(w1, f32::NAN, TernaryMatrix::zeros(10, 8), 1.0).is_err());
}
