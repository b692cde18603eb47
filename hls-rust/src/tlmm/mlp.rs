//! A BitNet-style ternary MLP, `64 - H - 10` (`H = 128` by default), on the
//! digits data set ([`crate::digits`]), whose integer matmuls the TLMM
//! engine can run.
//!
//! # Integer inference pipeline
//!
//! Exactly, for an image of 64 pixels `p` in `0..=16`:
//!
//! 1. `x = p as f32 / 16.0` ([`TernaryMlp::input`]);
//! 2. per layer `l` (weights `W_l` ternary `M x K`, scale `gamma_l`):
//!    - `(x_q, s_x) = quantize_activations_absmax(x)` (int8, per sample),
//!    - `y_int = matmul(W_l, x_q)`: `M` integers, by default
//!      [`golden`] with `ACC_W = 24` (the TLMM engine computes the same),
//!    - `y = dequantize(y_int, s_x, gamma_l) = y_int as f32 / s_x * gamma_l`,
//!    - hidden layer: `x = max(y, 0.0)` (ReLU), the next layer's input;
//! 3. the logits are layer 2's `y_int` ([`Logits::ints`]) and `y`
//!    ([`Logits::values`]); the class is the first maximum of `y_int`.
//!
//! No biases, no normalization: each layer is one integer matvec and the
//! float scaling around it.
//!
//! # Training
//!
//! Quantization-aware, with a straight-through estimator: the forward pass
//! is the integer pipeline above, run on the absmean-ternarized latent f32
//! weights; the backward pass treats the weight and activation quantizers
//! as the identity, so gradients reach the latent weights. Adam, mini-batches,
//! cosine learning-rate decay, a fixed seed. The same network is also trained
//! in plain f32 for comparison.
//!
//! ```
//! use hls_rust::digits::Digits;
//! use hls_rust::tlmm::mlp::{TernaryMlp, TrainConfig};
//! use hls_rust::tlmm::{tlmm_table, AccWidth, CodeMatrix, Grouping};
//!
//! let (train, test) = Digits::load()?.split();
//! let config = TrainConfig { hidden: 32, epochs: 2, ..TrainConfig::default() };
//! let (mlp, report) = TernaryMlp::train_on(&train, &test, &config);
//! assert!(report.ternary_test_accuracy > 0.5);
//!
//! // The table path gives the same logits as the default (golden) matmul.
//! let image = &test.images[0];
//! let mut table = |w: &hls_rust::tlmm::TernaryMatrix, x: &[i8]| {
//!     let codes = CodeMatrix::encode(w, Grouping::G3);
//!     tlmm_table(&codes, x, AccWidth::DEFAULT).map(|r| r.out).unwrap_or_default()
//! };
//! assert_eq!(mlp.infer_with(image, &mut table)?, mlp.infer(image));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::npy::{NpyArray, NpyData, NpyError};
use super::quant::{dequantize, quantize_activations_absmax, quantize_weights_absmean};
use super::{AccWidth, TernaryMatrix, golden};
use crate::digits::{self, CLASSES, Digits, PIXELS};
use crate::rng::Rng;
use std::fmt;
use std::path::Path;

/// Inputs of the network, one per pixel.
pub const INPUTS: usize = PIXELS;
/// Outputs of the network, one per class.
pub const OUTPUTS: usize = CLASSES;
/// The default hidden width `H`.
pub const HIDDEN: usize = 128;
/// Pixel values are divided by this to give inputs in `0.0..=1.0`.
pub const PIXEL_SCALE: f32 = 16.0;
/// File names written by [`TernaryMlp::save_npy`].
pub const NPY_FILES: [&str; 3] = ["w1.npy", "w2.npy", "gamma.npy"];

/// Errors of the MLP: the data set, files, or a matmul that returned the
/// wrong number of outputs.
#[derive(Debug, thiserror::Error)]
pub enum MlpError {
    /// The data set could not be loaded.
    #[error(transparent)]
    Data(#[from] digits::Error),
    /// A `.npy` file could not be read or written.
    #[error(transparent)]
    Npy(#[from] NpyError),
    /// Weights of the wrong shape or values.
    #[error("weights: {0}")]
    Weights(String),
    /// The matmul closure returned the wrong number of outputs.
    #[error("layer {layer}: matmul returned {got} outputs, expected {expected}")]
    Matmul {
        /// 1 (hidden) or 2 (output).
        layer: usize,
        /// Rows of the layer's matrix.
        expected: usize,
        /// Outputs returned.
        got: usize,
    },
}

/// The output of one inference.
#[derive(Debug, Clone, PartialEq)]
pub struct Logits {
    /// Layer 2's integer outputs, one per class.
    pub ints: Vec<i32>,
    /// Their dequantized values, `ints[c] as f32 / s_x * gamma_2`.
    pub values: Vec<f32>,
}

impl Logits {
    /// The predicted class: the index of the first maximum of [`Logits::ints`].
    pub fn class(&self) -> usize {
        argmax_first(&self.ints)
    }
}

/// Index of the first maximum (0 for an empty slice).
fn argmax_first<T: PartialOrd + Copy>(v: &[T]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// A trained ternary MLP: ternary weights and their absmean scales.
#[derive(Debug, Clone, PartialEq)]
pub struct TernaryMlp {
    w1: TernaryMatrix,
    gamma1: f32,
    w2: TernaryMatrix,
    gamma2: f32,
}

/// The matmul the integer pipeline calls per layer: ternary weights and
/// int8 activations in, one integer per row out.
pub type Matmul<'a> = dyn FnMut(&TernaryMatrix, &[i8]) -> Vec<i32> + 'a;

impl TernaryMlp {
    /// A network from its layers: `w1` is `H x 64`, `w2` is `10 x H`; an
    /// error on other shapes or a non-finite or negative scale.
    pub fn new(
        w1: TernaryMatrix,
        gamma1: f32,
        w2: TernaryMatrix,
        gamma2: f32,
    ) -> Result<TernaryMlp, MlpError> {
        if w1.k() != INPUTS || w2.m() != OUTPUTS || w2.k() != w1.m() || w1.m() == 0 {
            return Err(MlpError::Weights(format!(
                "shapes {}x{} and {}x{} do not make a {INPUTS}-H-{OUTPUTS} network",
                w1.m(),
                w1.k(),
                w2.m(),
                w2.k()
            )));
        }
        for (name, g) in [("gamma1", gamma1), ("gamma2", gamma2)] {
            if !(g.is_finite() && g >= 0.0) {
                return Err(MlpError::Weights(format!(
                    "{name} = {g} is not a finite scale >= 0"
                )));
            }
        }
        Ok(TernaryMlp {
            w1,
            gamma1,
            w2,
            gamma2,
        })
    }

    /// The hidden width `H`.
    pub fn hidden(&self) -> usize {
        self.w1.m()
    }

    /// Layer 1's ternary weights, `H x 64`.
    pub fn w1(&self) -> &TernaryMatrix {
        &self.w1
    }

    /// Layer 2's ternary weights, `10 x H`.
    pub fn w2(&self) -> &TernaryMatrix {
        &self.w2
    }

    /// The weight scales `[gamma_1, gamma_2]`.
    pub fn gammas(&self) -> [f32; 2] {
        [self.gamma1, self.gamma2]
    }

    /// The network input of an image: `p as f32 / 16.0` per pixel.
    pub fn input(image: &[u8; PIXELS]) -> [f32; PIXELS] {
        image.map(|p| f32::from(p) / PIXEL_SCALE)
    }

    /// The integer pipeline (see the module docs) with `matmul` computing
    /// each layer's integer matvec; an error when it returns the wrong number
    /// of outputs.
    pub fn infer_with(
        &self,
        image: &[u8; PIXELS],
        matmul: &mut Matmul<'_>,
    ) -> Result<Logits, MlpError> {
        let [_, out] = self.trace(image, matmul)?;
        Ok(Logits {
            ints: out.ints,
            values: out.y,
        })
    }

    /// The integer pipeline, keeping every layer's intermediate values (the
    /// training forward pass uses it too, so training and inference agree
    /// bit for bit).
    fn trace(
        &self,
        image: &[u8; PIXELS],
        matmul: &mut Matmul<'_>,
    ) -> Result<[LayerOut; 2], MlpError> {
        let x = Self::input(image);
        let hidden = layer(&self.w1, self.gamma1, &x, 1, matmul)?;
        let h: Vec<f32> = hidden.y.iter().map(|v| v.max(0.0)).collect();
        let out = layer(&self.w2, self.gamma2, &h, 2, matmul)?;
        Ok([hidden, out])
    }

    /// The integer pipeline with the golden matmul (`ACC_W = 24`).
    pub fn infer(&self, image: &[u8; PIXELS]) -> Logits {
        let result = self.infer_with(image, &mut golden_matvec);
        // The golden matvec returns one output per row by construction.
        result.expect("golden matvec returns M outputs")
    }

    /// The predicted class of an image.
    pub fn predict(&self, image: &[u8; PIXELS]) -> usize {
        self.infer(image).class()
    }

    /// The share of `data` classified correctly (0 for an empty set).
    pub fn accuracy(&self, data: &Digits) -> f64 {
        accuracy(data, |im| self.predict(im))
    }

    /// Trains a network of the default shape on the vendored data set's
    /// fixed training split, and reports both networks' accuracies on the
    /// test split.
    pub fn train(seed: u64, epochs: usize) -> Result<(TernaryMlp, TrainReport), MlpError> {
        let (train, test) = Digits::load()?.split();
        let config = TrainConfig {
            seed,
            epochs,
            ..TrainConfig::default()
        };
        Ok(Self::train_on(&train, &test, &config))
    }

    /// Trains the ternary network (and, for comparison, the same network in
    /// f32) on `train` with `config`, and evaluates both on `train` and `test`.
    pub fn train_on(
        train: &Digits,
        test: &Digits,
        config: &TrainConfig,
    ) -> (TernaryMlp, TrainReport) {
        let (f32_net, f32_loss) = fit(train, config, Precision::F32);
        let (latent, ternary_loss) = fit(train, config, Precision::Ternary);
        let mlp = latent.ternary();
        let report = TrainReport {
            config: config.clone(),
            f32_train_accuracy: accuracy(train, |im| f32_net.predict_f32(im)),
            f32_test_accuracy: accuracy(test, |im| f32_net.predict_f32(im)),
            ternary_train_accuracy: mlp.accuracy(train),
            ternary_test_accuracy: mlp.accuracy(test),
            f32_epoch_loss: f32_loss,
            ternary_epoch_loss: ternary_loss,
        };
        (mlp, report)
    }

    /// Writes the weights to `dir` (created if missing): `w1.npy` (`i8`,
    /// `H x 64`), `w2.npy` (`i8`, `10 x H`) and `gamma.npy` (`f32`,
    /// `[gamma_1, gamma_2]`).
    pub fn save_npy(&self, dir: &Path) -> Result<(), MlpError> {
        std::fs::create_dir_all(dir).map_err(|source| NpyError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let matrix =
            |w: &TernaryMatrix| NpyArray::new(vec![w.m(), w.k()], NpyData::I8(w.data().to_vec()));
        matrix(&self.w1)?.write(&dir.join(NPY_FILES[0]))?;
        matrix(&self.w2)?.write(&dir.join(NPY_FILES[1]))?;
        NpyArray::new(vec![2], NpyData::F32(self.gammas().to_vec()))?
            .write(&dir.join(NPY_FILES[2]))?;
        Ok(())
    }

    /// Reads a network written by [`TernaryMlp::save_npy`].
    pub fn load_npy(dir: &Path) -> Result<TernaryMlp, MlpError> {
        let matrix = |name: &str| -> Result<TernaryMatrix, MlpError> {
            let (shape, data) = super::npy::read_i8(&dir.join(name))?;
            match shape[..] {
                [m, k] => TernaryMatrix::new(m, k, data)
                    .map_err(|e| MlpError::Weights(format!("{name}: {e}"))),
                _ => Err(MlpError::Weights(format!(
                    "{name}: shape {shape:?} is not 2-d"
                ))),
            }
        };
        let (w1, w2) = (matrix(NPY_FILES[0])?, matrix(NPY_FILES[1])?);
        let (_, gammas) = super::npy::read_f32(&dir.join(NPY_FILES[2]))?;
        match gammas[..] {
            [g1, g2] => TernaryMlp::new(w1, g1, w2, g2),
            _ => Err(MlpError::Weights(format!(
                "{}: {} scales, expected 2",
                NPY_FILES[2],
                gammas.len()
            ))),
        }
    }
}

/// The golden matvec with `ACC_W = 24`; an empty result on a length
/// mismatch, which the caller reports.
fn golden_matvec(w: &TernaryMatrix, x: &[i8]) -> Vec<i32> {
    golden(w, x, AccWidth::DEFAULT)
        .map(|r| r.out)
        .unwrap_or_default()
}

/// What one layer of the integer pipeline computed.
struct LayerOut {
    /// The quantized input.
    xq: Vec<i8>,
    /// Its scale.
    s_x: f32,
    /// The matmul's integer outputs.
    ints: Vec<i32>,
    /// Their dequantized values.
    y: Vec<f32>,
}

/// One layer of the integer pipeline: quantize `x`, `matmul`, dequantize.
fn layer(
    w: &TernaryMatrix,
    gamma: f32,
    x: &[f32],
    number: usize,
    matmul: &mut Matmul<'_>,
) -> Result<LayerOut, MlpError> {
    let (xq, s_x) = quantize_activations_absmax(x);
    let ints = matmul(w, &xq);
    if ints.len() != w.m() {
        return Err(MlpError::Matmul {
            layer: number,
            expected: w.m(),
            got: ints.len(),
        });
    }
    let y = ints.iter().map(|&v| dequantize(v, s_x, gamma)).collect();
    Ok(LayerOut { xq, s_x, ints, y })
}

fn accuracy(data: &Digits, mut predict: impl FnMut(&[u8; PIXELS]) -> usize) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let correct = data
        .images
        .iter()
        .zip(&data.labels)
        .filter(|&(im, &label)| predict(im) == usize::from(label))
        .count();
    correct as f64 / data.len() as f64
}

/// Hyper-parameters of [`TernaryMlp::train_on`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Seed of the initialization and the shuffles.
    pub seed: u64,
    /// Passes over the training set.
    pub epochs: usize,
    /// Hidden width `H`.
    pub hidden: usize,
    /// Samples per mini-batch.
    pub batch: usize,
    /// Adam's initial learning rate (decays to 0 on a cosine).
    pub learning_rate: f32,
}

impl Default for TrainConfig {
    /// Seed 1, 30 epochs, `H = 128`, batches of 32, learning rate 0.005.
    fn default() -> Self {
        TrainConfig {
            seed: 1,
            epochs: 30,
            hidden: HIDDEN,
            batch: 32,
            learning_rate: 5e-3,
        }
    }
}

/// What training achieved.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    /// The configuration trained with.
    pub config: TrainConfig,
    /// Accuracy of the f32 network on the training set.
    pub f32_train_accuracy: f64,
    /// Accuracy of the f32 network on the test set.
    pub f32_test_accuracy: f64,
    /// Accuracy of the ternary network (integer pipeline) on the training set.
    pub ternary_train_accuracy: f64,
    /// Accuracy of the ternary network (integer pipeline) on the test set.
    pub ternary_test_accuracy: f64,
    /// Mean cross-entropy per epoch, f32 network.
    pub f32_epoch_loss: Vec<f32>,
    /// Mean cross-entropy per epoch, ternary network (quantized forward).
    pub ternary_epoch_loss: Vec<f32>,
}

impl fmt::Display for TrainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        writeln!(
            f,
            "MLP {INPUTS}-{}-{OUTPUTS}, {} epochs, batch {}, lr {}, seed {}",
            c.hidden, c.epochs, c.batch, c.learning_rate, c.seed
        )?;
        let last = |v: &[f32]| v.last().copied().unwrap_or(f32::NAN);
        writeln!(
            f,
            "f32:             train {:.4}  test {:.4}  final loss {:.4}",
            self.f32_train_accuracy,
            self.f32_test_accuracy,
            last(&self.f32_epoch_loss)
        )?;
        write!(
            f,
            "ternary W/int8 A: train {:.4}  test {:.4}  final loss {:.4}",
            self.ternary_train_accuracy,
            self.ternary_test_accuracy,
            last(&self.ternary_epoch_loss)
        )
    }
}

// ============================================================================
// Training
// ============================================================================

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Precision {
    F32,
    Ternary,
}

/// Latent f32 weights, row-major: `w1` is `H x 64`, `w2` is `10 x H`.
#[derive(Debug, Clone)]
struct Latent {
    hidden: usize,
    w1: Vec<f32>,
    w2: Vec<f32>,
}

/// The weights the forward pass uses: the latent f32 weights as they are,
/// or their ternary network.
enum Forward {
    F32,
    Ternary(TernaryMlp),
}

/// What one forward pass leaves for the backward pass.
struct Pass {
    /// Layer 1's input as the matmul sees it (`x_q / s_x` when quantized).
    x_in: [f32; INPUTS],
    /// Layer 1's outputs before the ReLU.
    pre: Vec<f32>,
    /// Layer 2's input as the matmul sees it.
    h_in: Vec<f32>,
    logits: Vec<f32>,
}

impl Latent {
    fn init(hidden: usize, rng: &mut Rng) -> Latent {
        let mut normal = |n: usize, fan_in: usize| -> Vec<f32> {
            let std = (2.0 / fan_in as f64).sqrt();
            (0..n).map(|_| (rng.normal() * std) as f32).collect()
        };
        Latent {
            hidden,
            w1: normal(hidden * INPUTS, INPUTS),
            w2: normal(OUTPUTS * hidden, hidden),
        }
    }

    /// The ternary network: absmean per tensor.
    fn ternary(&self) -> TernaryMlp {
        let (w1, gamma1) = quantize_weights_absmean(&self.w1);
        let (w2, gamma2) = quantize_weights_absmean(&self.w2);
        // absmean gives values in -1..=1, and the lengths match the shapes.
        let w1 = TernaryMatrix::new(self.hidden, INPUTS, w1).expect("ternary H x 64");
        let w2 = TernaryMatrix::new(OUTPUTS, self.hidden, w2).expect("ternary 10 x H");
        TernaryMlp {
            w1,
            gamma1,
            w2,
            gamma2,
        }
    }

    fn forward_weights(&self, precision: Precision) -> Forward {
        match precision {
            Precision::F32 => Forward::F32,
            Precision::Ternary => Forward::Ternary(self.ternary()),
        }
    }

    /// The forward pass. Ternary: the integer pipeline of
    /// [`TernaryMlp::infer`] itself.
    fn forward(&self, fw: &Forward, image: &[u8; PIXELS]) -> Pass {
        match fw {
            Forward::F32 => {
                let x = TernaryMlp::input(image);
                let pre = matvec_f32(&self.w1, &x);
                let h_in: Vec<f32> = pre.iter().map(|v| v.max(0.0)).collect();
                let logits = matvec_f32(&self.w2, &h_in);
                Pass {
                    x_in: x,
                    pre,
                    h_in,
                    logits,
                }
            }
            Forward::Ternary(mlp) => {
                let [hidden, out] = mlp
                    .trace(image, &mut golden_matvec)
                    .expect("golden matvec returns M outputs");
                let mut x_in = [0.0; INPUTS];
                for (d, &q) in x_in.iter_mut().zip(&hidden.xq) {
                    *d = f32::from(q) / hidden.s_x;
                }
                Pass {
                    x_in,
                    pre: hidden.y,
                    h_in: out.xq.iter().map(|&q| f32::from(q) / out.s_x).collect(),
                    logits: out.y,
                }
            }
        }
    }

    fn predict_f32(&self, image: &[u8; PIXELS]) -> usize {
        argmax_first(&self.forward(&Forward::F32, image).logits)
    }
}

/// `W x` for row-major `W` with `x.len()` columns.
fn matvec_f32(w: &[f32], x: &[f32]) -> Vec<f32> {
    w.chunks_exact(x.len())
        .map(|row| row.iter().zip(x).map(|(a, b)| a * b).sum())
        .collect()
}

/// Adam's state for one tensor.
struct Adam {
    m: Vec<f32>,
    v: Vec<f32>,
}

const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const ADAM_EPS: f32 = 1e-8;

impl Adam {
    fn new(n: usize) -> Adam {
        Adam {
            m: vec![0.0; n],
            v: vec![0.0; n],
        }
    }

    /// One step at step number `t` (1-based) with learning rate `lr`.
    fn step(&mut self, w: &mut [f32], grad: &[f32], lr: f32, t: i32) {
        let c1 = 1.0 - BETA1.powi(t);
        let c2 = 1.0 - BETA2.powi(t);
        for (((w, &g), m), v) in w.iter_mut().zip(grad).zip(&mut self.m).zip(&mut self.v) {
            *m = BETA1 * *m + (1.0 - BETA1) * g;
            *v = BETA2 * *v + (1.0 - BETA2) * g * g;
            *w -= lr * (*m / c1) / ((*v / c2).sqrt() + ADAM_EPS);
        }
    }
}

/// Trains latent weights at `precision`; returns them and the mean loss of
/// each epoch.
fn fit(train: &Digits, config: &TrainConfig, precision: Precision) -> (Latent, Vec<f32>) {
    let mut rng = Rng::new(config.seed);
    let hidden = config.hidden.max(1);
    let mut net = Latent::init(hidden, &mut rng);
    let (mut adam1, mut adam2) = (Adam::new(net.w1.len()), Adam::new(net.w2.len()));
    let (mut g1, mut g2) = (vec![0.0f32; net.w1.len()], vec![0.0f32; net.w2.len()]);
    let batch = config.batch.max(1);
    let steps_per_epoch = train.len().div_ceil(batch);
    let total_steps = (steps_per_epoch * config.epochs).max(1);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut losses = Vec::with_capacity(config.epochs);
    let mut t = 0i32;
    for _ in 0..config.epochs {
        rng.shuffle(&mut order);
        let mut epoch_loss = 0.0f64;
        for chunk in order.chunks(batch) {
            let fw = net.forward_weights(precision);
            // The weights the forward pass multiplied by (straight-through:
            // the gradient with respect to them goes to the latent weights).
            let e2 = effective_w2(&net, &fw);
            g1.fill(0.0);
            g2.fill(0.0);
            for &i in chunk {
                let pass = net.forward(&fw, &train.images[i]);
                let label = usize::from(train.labels[i]);
                let (loss, d_logits) = softmax_cross_entropy(&pass.logits, label);
                epoch_loss += f64::from(loss);
                // Layer 2: dW2 = d_logits h_in^T; dh = W2^T d_logits.
                let mut d_pre = vec![0.0f32; hidden];
                for (c, &d) in d_logits.iter().enumerate() {
                    let row = c * hidden..(c + 1) * hidden;
                    for ((g, &h), (dh, &w)) in g2[row.clone()]
                        .iter_mut()
                        .zip(&pass.h_in)
                        .zip(d_pre.iter_mut().zip(&e2[row]))
                    {
                        *g += d * h;
                        *dh += d * w;
                    }
                }
                // ReLU, then layer 1: dW1 = d_pre x_in^T.
                for (j, (&dh, &pre)) in d_pre.iter().zip(&pass.pre).enumerate() {
                    if pre > 0.0 && dh != 0.0 {
                        let row = &mut g1[j * INPUTS..(j + 1) * INPUTS];
                        for (g, &x) in row.iter_mut().zip(&pass.x_in) {
                            *g += dh * x;
                        }
                    }
                }
            }
            let scale = 1.0 / chunk.len() as f32;
            g1.iter_mut().for_each(|g| *g *= scale);
            g2.iter_mut().for_each(|g| *g *= scale);
            let progress = t as f32 / total_steps as f32;
            let lr = config.learning_rate * 0.5 * (1.0 + (std::f32::consts::PI * progress).cos());
            t += 1;
            adam1.step(&mut net.w1, &g1, lr, t);
            adam2.step(&mut net.w2, &g2, lr, t);
        }
        losses.push((epoch_loss / train.len().max(1) as f64) as f32);
    }
    (net, losses)
}

/// Layer 2's effective f32 weights in the forward pass: latent, or ternary
/// times gamma. (Layer 1's are not needed: no gradient flows to the input.)
fn effective_w2(net: &Latent, fw: &Forward) -> Vec<f32> {
    match fw {
        Forward::F32 => net.w2.clone(),
        Forward::Ternary(mlp) => mlp
            .w2
            .data()
            .iter()
            .map(|&t| f32::from(t) * mlp.gamma2)
            .collect(),
    }
}

/// The cross-entropy of `logits` against `label` and its gradient
/// (`softmax - one_hot`).
fn softmax_cross_entropy(logits: &[f32], label: usize) -> (f32, Vec<f32>) {
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let exp: Vec<f32> = logits.iter().map(|&v| (v - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    let loss = sum.ln() - (logits[label] - max);
    let grad = exp
        .iter()
        .enumerate()
        .map(|(c, &e)| e / sum - if c == label { 1.0 } else { 0.0 })
        .collect();
    (loss, grad)
}
