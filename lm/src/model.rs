//! The ternary transformer and its integer inference pipeline.
//!
//! A decoder-only, pre-norm transformer over characters. Per layer:
//!
//! ```text
//! h += Wo · attention(split(Wqkv · rmsnorm(h, g1)))
//! h += Wdown · relu(Wup · rmsnorm(h, g2))^2
//! ```
//!
//! and `logits = lm_head · rmsnorm(h, gf)`, with `h` starting as
//! `tok_emb[token] + pos_emb[position]`. Every `W` is a [`BitLinear`]: its
//! product with an activation vector `a` is
//!
//! 1. `(x_q, s_x) = quantize_activations_absmax(a)` (int8, per token),
//! 2. `y_int = W_t · x_q` on an [`Engine`] (exact integers),
//! 3. `y = dequantize(y_int, s_x, gamma)`,
//!
//! exactly `hls_rust::tlmm::quant`. The host (this module) does the rest in
//! f32, always in the same order: embeddings, RMSNorm, attention with its
//! softmax, the squared ReLU, the final norm and the f32 LM head (as in
//! BitNet, the embeddings and the head stay in high precision). So equal
//! integer results give equal logits, bit for bit, whatever engine computed
//! them.

use crate::checkpoint::Checkpoint;
use hls_rust::tlmm::quant::{dequantize, quantize_activations_absmax};
use hls_rust::tlmm::{AccWidth, TernaryMatrix, golden};

/// The RMSNorm epsilon.
pub const NORM_EPS: f32 = 1e-5;

/// The shape of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Config {
    /// Tokens (characters).
    pub vocab: usize,
    /// Model width.
    pub d: usize,
    /// Transformer blocks.
    pub layers: usize,
    /// Attention heads (`d` must be a multiple).
    pub heads: usize,
    /// Hidden width of the feed-forward block.
    pub ffn: usize,
    /// Context length (positions).
    pub ctx: usize,
}

impl Config {
    /// The model this repository trains: d = 128, 4 layers, 4 heads,
    /// FFN 512, context 128.
    pub fn small(vocab: usize) -> Config {
        Config {
            vocab,
            d: 128,
            layers: 4,
            heads: 4,
            ffn: 512,
            ctx: 128,
        }
    }

    /// Width of one head.
    pub fn head_dim(&self) -> usize {
        self.d / self.heads
    }

    /// Ternary weights: `(3d*d + d*d + 2*ffn*d)` per layer.
    pub fn ternary_params(&self) -> usize {
        self.layers * (4 * self.d * self.d + 2 * self.ffn * self.d)
    }

    /// f32 parameters: embeddings, positions, norms, LM head.
    pub fn f32_params(&self) -> usize {
        2 * self.vocab * self.d + self.ctx * self.d + (2 * self.layers + 1) * self.d
    }

    /// The projections in the order a forward pass uses them.
    pub fn linears(&self) -> Vec<LinearId> {
        (0..self.layers)
            .flat_map(|layer| {
                [Proj::Qkv, Proj::Out, Proj::Up, Proj::Down].map(|proj| LinearId { layer, proj })
            })
            .collect()
    }

    /// `(M, K)` of a projection.
    pub fn shape(&self, proj: Proj) -> (usize, usize) {
        match proj {
            Proj::Qkv => (3 * self.d, self.d),
            Proj::Out => (self.d, self.d),
            Proj::Up => (self.ffn, self.d),
            Proj::Down => (self.d, self.ffn),
        }
    }
}

/// Which projection of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proj {
    /// The fused query, key and value projection, `3d x d`.
    Qkv,
    /// The attention output projection, `d x d`.
    Out,
    /// The FFN up projection, `ffn x d`.
    Up,
    /// The FFN down projection, `d x ffn`.
    Down,
}

impl Proj {
    /// Its name in checkpoints and reports.
    pub fn name(self) -> &'static str {
        match self {
            Proj::Qkv => "qkv",
            Proj::Out => "out",
            Proj::Up => "up",
            Proj::Down => "down",
        }
    }
}

/// One ternary projection of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinearId {
    /// Block, from 0.
    pub layer: usize,
    /// Which projection.
    pub proj: Proj,
}

impl std::fmt::Display for LinearId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "layer{}.{}", self.layer, self.proj.name())
    }
}

/// A ternary projection: weights and their absmean scale `gamma`.
#[derive(Debug, Clone, PartialEq)]
pub struct BitLinear {
    /// Which projection.
    pub id: LinearId,
    /// The ternary weights, `M x K`.
    pub w: TernaryMatrix,
    /// `gamma = absmean` of the latent weights.
    pub gamma: f32,
}

/// Errors of inference.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    /// The engine failed or returned the wrong number of results.
    #[error("{id} (M={m}, K={k}, {tokens} token(s)): {msg}")]
    Engine {
        /// The projection.
        id: LinearId,
        /// Rows.
        m: usize,
        /// Columns.
        k: usize,
        /// Tokens in the product.
        tokens: usize,
        /// What went wrong.
        msg: String,
    },
    /// The sequence is longer than the context.
    #[error("position {pos} is beyond the model's context of {ctx} characters")]
    Context {
        /// The first position that does not fit.
        pos: usize,
        /// The context.
        ctx: usize,
    },
    /// A token outside the vocabulary.
    #[error("token {0} is outside the vocabulary")]
    Token(u32),
}

/// Where the ternary products run.
pub trait Engine {
    /// `y[t][m] = sum_k W[m][k] * x[t][k]` exactly, for `tokens` rows of
    /// int8 activations `x` (row-major, `tokens x K`); the result is
    /// row-major `tokens x M`. An error as a message.
    fn matmul(&mut self, lin: &BitLinear, x: &[i8], tokens: usize) -> Result<Vec<i32>, String>;

    /// A short name for reports.
    fn name(&self) -> String;
}

/// The reference engine: `hls_rust::tlmm::golden` (an exact dot product)
/// with the default 24-bit accumulator, which is exact for every `K` of
/// these models.
#[derive(Debug, Default, Clone, Copy)]
pub struct Reference;

impl Engine for Reference {
    fn matmul(&mut self, lin: &BitLinear, x: &[i8], tokens: usize) -> Result<Vec<i32>, String> {
        let k = lin.w.k();
        let mut out = Vec::with_capacity(tokens * lin.w.m());
        for row in x.chunks_exact(k).take(tokens) {
            let r = golden(&lin.w, row, AccWidth::DEFAULT).map_err(|e| e.to_string())?;
            if !r.flags.is_empty() {
                return Err(format!("reference flags {:?}", r.flags));
            }
            out.extend(r.out);
        }
        Ok(out)
    }

    fn name(&self) -> String {
        "ref".into()
    }
}

/// Keys and values of the positions seen so far, per layer.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    /// `[layer]` -> positions x d.
    k: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    len: usize,
}

impl KvCache {
    /// Positions cached.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True before the first token.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Counters of one forward pass, for benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Ternary products run (one per projection per call).
    pub products: u64,
    /// Int8 activations sent to the engine.
    pub act_bytes: u64,
    /// Int32 results returned.
    pub result_words: u64,
    /// Ternary multiply-accumulates (`M * K` per token).
    pub macs: u64,
}

/// A model ready for inference.
#[derive(Debug, Clone)]
pub struct Model {
    ckpt: Checkpoint,
}

impl Model {
    /// The model of a checkpoint.
    pub fn new(ckpt: Checkpoint) -> Model {
        Model { ckpt }
    }

    /// Its checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.ckpt
    }

    /// Its shape.
    pub fn config(&self) -> Config {
        self.ckpt.config
    }

    /// A fresh cache.
    pub fn cache(&self) -> KvCache {
        KvCache {
            k: vec![Vec::new(); self.ckpt.config.layers],
            v: vec![Vec::new(); self.ckpt.config.layers],
            len: 0,
        }
    }

    /// Runs `tokens` (the prompt for a prefill, one token for a decode
    /// step) after the positions in `cache`, appends their keys and values
    /// to it, and returns the logits of every new position (row-major,
    /// `tokens x vocab`). Every ternary product runs on `engine`, one
    /// matrix-matrix product per projection for all new tokens.
    pub fn forward(
        &self,
        tokens: &[u32],
        cache: &mut KvCache,
        engine: &mut dyn Engine,
        traffic: &mut Traffic,
    ) -> Result<Vec<f32>, InferError> {
        let c = &self.ckpt;
        let cfg = c.config;
        let (d, n, start) = (cfg.d, tokens.len(), cache.len);
        if start + n > cfg.ctx {
            return Err(InferError::Context {
                pos: cfg.ctx.max(start),
                ctx: cfg.ctx,
            });
        }
        let mut h = Vec::with_capacity(n * d);
        for (i, &t) in tokens.iter().enumerate() {
            if t as usize >= cfg.vocab {
                return Err(InferError::Token(t));
            }
            let e = &c.tok_emb[t as usize * d..][..d];
            let p = &c.pos_emb[(start + i) * d..][..d];
            h.extend(e.iter().zip(p).map(|(a, b)| a + b));
        }
        for (l, block) in c.blocks.iter().enumerate() {
            // Attention.
            let a = rmsnorm_rows(&h, &block.norm1, d);
            let qkv = bitlinear(&block.qkv, &a, n, engine, traffic)?;
            for t in 0..n {
                let row = &qkv[t * 3 * d..][..3 * d];
                cache.k[l].extend_from_slice(&row[d..2 * d]);
                cache.v[l].extend_from_slice(&row[2 * d..]);
            }
            let mut att = vec![0.0f32; n * d];
            let hd = cfg.head_dim();
            let scale = 1.0 / (hd as f32).sqrt();
            for t in 0..n {
                let q = &qkv[t * 3 * d..][..d];
                let visible = start + t + 1;
                for head in 0..cfg.heads {
                    let off = head * hd;
                    let qh = &q[off..off + hd];
                    let mut scores: Vec<f32> = (0..visible)
                        .map(|j| dot(qh, &cache.k[l][j * d + off..][..hd]) * scale)
                        .collect();
                    softmax(&mut scores);
                    let out = &mut att[t * d + off..][..hd];
                    for (j, &p) in scores.iter().enumerate() {
                        let vj = &cache.v[l][j * d + off..][..hd];
                        for (o, &v) in out.iter_mut().zip(vj) {
                            *o += p * v;
                        }
                    }
                }
            }
            let o = bitlinear(&block.out, &att, n, engine, traffic)?;
            add_assign(&mut h, &o);
            // Feed-forward.
            let a = rmsnorm_rows(&h, &block.norm2, d);
            let mut u = bitlinear(&block.up, &a, n, engine, traffic)?;
            for v in &mut u {
                let r = v.max(0.0);
                *v = r * r;
            }
            let o = bitlinear(&block.down, &u, n, engine, traffic)?;
            add_assign(&mut h, &o);
        }
        cache.len += n;
        let a = rmsnorm_rows(&h, &c.norm_f, d);
        let mut logits = Vec::with_capacity(n * cfg.vocab);
        for row in a.chunks_exact(d) {
            logits.extend(c.lm_head.chunks_exact(d).map(|w| dot(w, row)));
        }
        Ok(logits)
    }
}

/// One [`BitLinear`] product of `n` rows of f32 activations through the
/// engine: quantize per token, integer product, dequantize.
fn bitlinear(
    lin: &BitLinear,
    a: &[f32],
    n: usize,
    engine: &mut dyn Engine,
    traffic: &mut Traffic,
) -> Result<Vec<f32>, InferError> {
    let (m, k) = (lin.w.m(), lin.w.k());
    let mut xq = Vec::with_capacity(n * k);
    let mut scales = Vec::with_capacity(n);
    for row in a.chunks_exact(k) {
        let (q, s) = quantize_activations_absmax(row);
        xq.extend(q);
        scales.push(s);
    }
    let err = |msg: String| InferError::Engine {
        id: lin.id,
        m,
        k,
        tokens: n,
        msg,
    };
    let y = engine.matmul(lin, &xq, n).map_err(err)?;
    if y.len() != n * m {
        return Err(err(format!("{} results, expected {}", y.len(), n * m)));
    }
    traffic.products += 1;
    traffic.act_bytes += (n * k) as u64;
    traffic.result_words += (n * m) as u64;
    traffic.macs += (n * m * k) as u64;
    Ok(y.chunks_exact(m)
        .zip(&scales)
        .flat_map(|(row, &s)| row.iter().map(move |&v| dequantize(v, s, lin.gamma)))
        .collect())
}

/// `x / sqrt(mean(x^2) + eps) * g`, per row of `d`.
pub fn rmsnorm_rows(x: &[f32], g: &[f32], d: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks_exact(d) {
        let ms = row.iter().map(|v| v * v).sum::<f32>() / d as f32;
        let r = 1.0 / (ms + NORM_EPS).sqrt();
        out.extend(row.iter().zip(g).map(|(v, g)| v * r * g));
    }
    out
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn add_assign(h: &mut [f32], o: &[f32]) {
    for (a, b) in h.iter_mut().zip(o) {
        *a += b;
    }
}

/// In-place softmax (max-subtracted).
pub fn softmax(v: &mut [f32]) {
    let max = v.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    for x in v.iter_mut() {
        *x /= sum;
    }
}
