//! Quantization-aware training on the CPU with candle.
//!
//! The forward pass is the model of [`crate::model`] with every projection
//! fake-quantized: activations per token by absmax to int8 and back,
//! weights per tensor by absmean to `{-gamma, 0, gamma}`; the backward pass
//! treats both quantizers as the identity (straight-through estimator:
//! `x + (q(x) - x).detach()`), so gradients reach the latent f32 weights.
//! AdamW with linear warm-up and cosine decay, random windows of the
//! training split drawn from a seeded [`Rng`], initial weights from the same
//! generator. [`Trainer::export`] quantizes the latent weights with
//! `hls_rust::tlmm::quant::quantize_weights_absmean` (the exact gamma) into
//! a [`Checkpoint`].

use crate::checkpoint::{Block, Checkpoint, Provenance};
use crate::data::Vocab;
use crate::model::{BitLinear, Config, LinearId, Proj};
use candle_core::{D, DType, Device, Tensor, Var};
use candle_nn::optim::{AdamW, Optimizer, ParamsAdamW};
use hls_rust::rng::Rng;
use hls_rust::tlmm::TernaryMatrix;
use hls_rust::tlmm::quant::quantize_weights_absmean;

/// Errors of training (candle's, as text).
#[derive(Debug, thiserror::Error)]
#[error("training: {0}")]
pub struct TrainError(String);

impl From<candle_core::Error> for TrainError {
    fn from(e: candle_core::Error) -> Self {
        TrainError(e.to_string())
    }
}

type Result<T> = std::result::Result<T, TrainError>;

/// Hyper-parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Model shape.
    pub model: Config,
    /// Seed of the initial weights and the batches.
    pub seed: u64,
    /// Optimizer steps.
    pub steps: usize,
    /// Sequences of `ctx` characters per step.
    pub batch: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Warm-up steps.
    pub warmup: usize,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// The forward pass trained: fake-quantized (QAT, the default) or an
    /// unquantized f32 model of the same shape (the baseline the ternary
    /// model is measured against).
    pub precision: Precision,
}

impl TrainConfig {
    /// The defaults used for the committed checkpoint.
    pub fn new(model: Config, seed: u64, steps: usize) -> TrainConfig {
        TrainConfig {
            model,
            seed,
            steps,
            batch: 16,
            lr: 2e-3,
            warmup: 100,
            weight_decay: 0.01,
            precision: Precision::Ternary,
        }
    }

    /// The learning rate at `step`.
    pub fn lr_at(&self, step: usize) -> f64 {
        if step < self.warmup {
            return self.lr * (step + 1) as f64 / self.warmup as f64;
        }
        let t = (step - self.warmup) as f64 / (self.steps - self.warmup).max(1) as f64;
        let min = 0.1 * self.lr;
        min + 0.5 * (self.lr - min) * (1.0 + (std::f64::consts::PI * t.min(1.0)).cos())
    }
}

/// How the projections compute in a forward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// Fake-quantized (absmax int8 activations, absmean ternary weights).
    Ternary,
    /// The latent f32 weights and activations, unquantized.
    F32,
}

struct Layer {
    norm1: Var,
    qkv: Var,
    out: Var,
    norm2: Var,
    up: Var,
    down: Var,
}

/// A model being trained: latent f32 weights as candle variables.
pub struct Trainer {
    cfg: TrainConfig,
    dev: Device,
    tok_emb: Var,
    pos_emb: Var,
    layers: Vec<Layer>,
    norm_f: Var,
    lm_head: Var,
    mask: Tensor,
}

/// One step's figures, for progress reports.
#[derive(Debug, Clone, Copy)]
pub struct StepReport {
    /// Step, from 0.
    pub step: usize,
    /// The batch's loss, nats per character.
    pub loss: f32,
    /// The learning rate used.
    pub lr: f64,
}

impl Trainer {
    /// A freshly initialized model (weights from `cfg.seed`).
    pub fn new(cfg: TrainConfig) -> Result<Trainer> {
        let dev = Device::Cpu;
        let m = cfg.model;
        let mut rng = Rng::new(cfg.seed);
        let mut normal = |shape: (usize, usize), std: f64| -> Result<Var> {
            let n = shape.0 * shape.1;
            let v: Vec<f32> = (0..n).map(|_| (rng.normal() * std) as f32).collect();
            Ok(Var::from_tensor(&Tensor::from_vec(v, shape, &dev)?)?)
        };
        let ones = |n: usize| -> Result<Var> { Ok(Var::ones(n, DType::F32, &dev)?) };
        let tok_emb = normal((m.vocab, m.d), 0.02)?;
        let pos_emb = normal((m.ctx, m.d), 0.02)?;
        let mut layers = Vec::new();
        for _ in 0..m.layers {
            let w = |proj: Proj, normal: &mut dyn FnMut((usize, usize), f64) -> Result<Var>| {
                let (rows, k) = m.shape(proj);
                normal((rows, k), 1.0 / (k as f64).sqrt())
            };
            layers.push(Layer {
                norm1: ones(m.d)?,
                qkv: w(Proj::Qkv, &mut normal)?,
                out: w(Proj::Out, &mut normal)?,
                norm2: ones(m.d)?,
                up: w(Proj::Up, &mut normal)?,
                down: w(Proj::Down, &mut normal)?,
            });
        }
        let norm_f = ones(m.d)?;
        let lm_head = normal((m.vocab, m.d), 1.0 / (m.d as f64).sqrt())?;
        let t = m.ctx;
        let mask: Vec<f32> = (0..t * t)
            .map(|i| if i % t > i / t { -1e9 } else { 0.0 })
            .collect();
        let mask = Tensor::from_vec(mask, (t, t), &dev)?;
        Ok(Trainer {
            cfg,
            dev,
            tok_emb,
            pos_emb,
            layers,
            norm_f,
            lm_head,
            mask,
        })
    }

    fn vars(&self) -> Vec<Var> {
        let mut v = vec![self.tok_emb.clone(), self.pos_emb.clone()];
        for l in &self.layers {
            v.extend([&l.norm1, &l.qkv, &l.out, &l.norm2, &l.up, &l.down].map(Var::clone));
        }
        v.extend([self.norm_f.clone(), self.lm_head.clone()]);
        v
    }

    /// Logits `(B, T, vocab)` of a batch of token windows `(B, T)`.
    pub fn forward(&self, ids: &Tensor, prec: Precision) -> Result<Tensor> {
        let m = self.cfg.model;
        let (b, t) = ids.dims2()?;
        let (d, heads, hd) = (m.d, m.heads, m.head_dim());
        let emb = self
            .tok_emb
            .as_tensor()
            .index_select(&ids.flatten_all()?, 0)?
            .reshape((b, t, d))?;
        let mut h = emb.broadcast_add(&self.pos_emb.as_tensor().narrow(0, 0, t)?)?;
        let mask = self.mask.narrow(0, 0, t)?.narrow(1, 0, t)?;
        let scale = 1.0 / (hd as f64).sqrt();
        for l in &self.layers {
            let a = rmsnorm(&h, l.norm1.as_tensor())?;
            let qkv = bitlinear(&a, l.qkv.as_tensor(), prec)?;
            let split = |i: usize| -> Result<Tensor> {
                Ok(qkv
                    .narrow(2, i * d, d)?
                    .reshape((b, t, heads, hd))?
                    .transpose(1, 2)?
                    .contiguous()?)
            };
            let (q, k, v) = (split(0)?, split(1)?, split(2)?);
            let att = (q.matmul(&k.t()?)? * scale)?.broadcast_add(&mask)?;
            let att = candle_nn::ops::softmax_last_dim(&att)?;
            let y = att
                .matmul(&v)?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((b, t, d))?;
            h = (h + bitlinear(&y, l.out.as_tensor(), prec)?)?;
            let a = rmsnorm(&h, l.norm2.as_tensor())?;
            let u = bitlinear(&a, l.up.as_tensor(), prec)?.relu()?.sqr()?;
            h = (h + bitlinear(&u, l.down.as_tensor(), prec)?)?;
        }
        let a = rmsnorm(&h, self.norm_f.as_tensor())?;
        Ok(a.broadcast_matmul(&self.lm_head.as_tensor().t()?)?)
    }

    fn loss(&self, windows: &[&[u32]], prec: Precision) -> Result<Tensor> {
        let t = windows[0].len() - 1;
        let b = windows.len();
        let ids: Vec<u32> = windows
            .iter()
            .flat_map(|w| w[..t].iter().copied())
            .collect();
        let tgt: Vec<u32> = windows
            .iter()
            .flat_map(|w| w[1..].iter().copied())
            .collect();
        let ids = Tensor::from_vec(ids, (b, t), &self.dev)?;
        let tgt = Tensor::from_vec(tgt, b * t, &self.dev)?;
        let logits = self.forward(&ids, prec)?;
        let v = self.cfg.model.vocab;
        Ok(candle_nn::loss::cross_entropy(
            &logits.reshape((b * t, v))?,
            &tgt,
        )?)
    }

    /// Trains on `train` (tokens) for the configured steps, calling
    /// `report` after each; returns the final moving-average loss.
    pub fn train(&mut self, train: &[u32], report: &mut dyn FnMut(StepReport)) -> Result<f32> {
        let cfg = self.cfg.clone();
        let ctx = cfg.model.ctx;
        if train.len() <= ctx + 1 {
            return Err(TrainError(format!(
                "{} training tokens do not fill one window of {}",
                train.len(),
                ctx + 1
            )));
        }
        let params = ParamsAdamW {
            lr: cfg.lr,
            weight_decay: cfg.weight_decay,
            ..ParamsAdamW::default()
        };
        let mut opt = AdamW::new(self.vars(), params)?;
        let mut rng = Rng::new(cfg.seed ^ 0x5eed_ba7c);
        let mut avg = None::<f32>;
        for step in 0..cfg.steps {
            let windows: Vec<&[u32]> = (0..cfg.batch)
                .map(|_| {
                    let s = rng.below((train.len() - ctx - 1) as u64) as usize;
                    &train[s..s + ctx + 1]
                })
                .collect();
            let lr = cfg.lr_at(step);
            opt.set_learning_rate(lr);
            let loss = self.loss(&windows, cfg.precision)?;
            opt.backward_step(&loss)?;
            let loss = loss.to_scalar::<f32>()?;
            avg = Some(avg.map_or(loss, |a| 0.98 * a + 0.02 * loss));
            report(StepReport { step, loss, lr });
        }
        Ok(avg.unwrap_or(f32::NAN))
    }

    /// Bits per character of `tokens` (non-overlapping windows of the
    /// context, at most `max_windows`), every position predicted from the
    /// window's earlier ones.
    pub fn bits_per_char(
        &self,
        tokens: &[u32],
        prec: Precision,
        max_windows: usize,
    ) -> Result<f64> {
        let ctx = self.cfg.model.ctx;
        let windows: Vec<&[u32]> = tokens
            .windows(ctx + 1)
            .step_by(ctx)
            .take(max_windows)
            .collect();
        let (mut sum, mut n) = (0.0f64, 0usize);
        for chunk in windows.chunks(16) {
            let loss = self.loss(chunk, prec)?.to_scalar::<f32>()?;
            sum += f64::from(loss) * (chunk.len() * ctx) as f64;
            n += chunk.len() * ctx;
        }
        Ok(sum / n.max(1) as f64 / std::f64::consts::LN_2)
    }

    /// The ternary checkpoint: latent weights quantized by absmean with the
    /// correctly rounded gamma, f32 tensors as they are.
    pub fn export(&self, vocab: &Vocab, provenance: Provenance) -> Result<Checkpoint> {
        let m = self.cfg.model;
        let flat = |v: &Var| -> Result<Vec<f32>> { Ok(v.as_tensor().flatten_all()?.to_vec1()?) };
        let mut blocks = Vec::new();
        for (layer, l) in self.layers.iter().enumerate() {
            let lin = |proj: Proj, v: &Var| -> Result<BitLinear> {
                let (rows, k) = m.shape(proj);
                let (w, gamma) = quantize_weights_absmean(&flat(v)?);
                let w = TernaryMatrix::new(rows, k, w).map_err(|e| TrainError(e.to_string()))?;
                Ok(BitLinear {
                    id: LinearId { layer, proj },
                    w,
                    gamma,
                })
            };
            blocks.push(Block {
                norm1: flat(&l.norm1)?,
                qkv: lin(Proj::Qkv, &l.qkv)?,
                out: lin(Proj::Out, &l.out)?,
                norm2: flat(&l.norm2)?,
                up: lin(Proj::Up, &l.up)?,
                down: lin(Proj::Down, &l.down)?,
            });
        }
        Ok(Checkpoint {
            config: m,
            vocab: vocab.clone(),
            tok_emb: flat(&self.tok_emb)?,
            pos_emb: flat(&self.pos_emb)?,
            blocks,
            norm_f: flat(&self.norm_f)?,
            lm_head: flat(&self.lm_head)?,
            provenance,
        })
    }
}

fn rmsnorm(x: &Tensor, g: &Tensor) -> Result<Tensor> {
    let ms = x.sqr()?.mean_keepdim(D::Minus1)?;
    let r = (ms + f64::from(crate::model::NORM_EPS))?.sqrt()?.recip()?;
    Ok(x.broadcast_mul(&r)?.broadcast_mul(g)?)
}

/// `x W^T` with both fake-quantized (or not), straight-through gradients.
fn bitlinear(x: &Tensor, w: &Tensor, prec: Precision) -> Result<Tensor> {
    let (x, w) = match prec {
        Precision::F32 => (x.clone(), w.clone()),
        Precision::Ternary => {
            let eps = f64::from(hls_rust::tlmm::quant::EPS);
            let s = (x
                .abs()?
                .max_keepdim(D::Minus1)?
                .clamp(eps, f64::MAX)?
                .recip()?
                * 127.0)?;
            let xq = x
                .broadcast_mul(&s)?
                .round()?
                .clamp(-128.0, 127.0)?
                .broadcast_div(&s)?;
            let x = (x + (xq - x)?.detach())?;
            let gamma = w.abs()?.mean_all()?.clamp(eps, f64::MAX)?;
            let wq = w
                .broadcast_div(&gamma)?
                .round()?
                .clamp(-1.0, 1.0)?
                .broadcast_mul(&gamma)?;
            let w = (w + (wq - w)?.detach())?;
            (x, w)
        }
    };
    Ok(x.broadcast_matmul(&w.t()?)?)
}
