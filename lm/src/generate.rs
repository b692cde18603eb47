//! Prefill, decode and sampling.

use crate::model::{Engine, InferError, Model, Traffic};
use hls_rust::rng::Rng;
use std::time::{Duration, Instant};

/// How the next character is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampling {
    /// The first maximum of the logits.
    Greedy,
    /// From `softmax(logits / temperature)` with a seeded generator.
    Temperature {
        /// The temperature, > 0.
        temperature: f32,
        /// The generator's seed.
        seed: u64,
    },
}

/// Errors of generation.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The prompt holds a character the model does not know.
    #[error(transparent)]
    Prompt(#[from] crate::data::DataError),
    /// Inference failed.
    #[error(transparent)]
    Infer(#[from] InferError),
    /// An empty prompt.
    #[error("the prompt is empty: give at least one character")]
    EmptyPrompt,
}

/// What a generation produced.
#[derive(Debug, Clone, Default)]
pub struct Generation {
    /// The generated tokens (after the prompt).
    pub tokens: Vec<u32>,
    /// The generated text.
    pub text: String,
    /// The logits of every step: the prompt's positions (prefill), then one
    /// row per decode step, each `vocab` long.
    pub logits: Vec<Vec<f32>>,
    /// Wall time of the prefill.
    pub prefill_time: Duration,
    /// Wall time of the decode steps.
    pub decode_time: Duration,
    /// Engine traffic of the prefill.
    pub prefill_traffic: Traffic,
    /// Engine traffic of the decode steps.
    pub decode_traffic: Traffic,
    /// Prompt tokens.
    pub prompt_tokens: usize,
}

/// Generates `n` characters after `prompt`: one prefill of the prompt, then
/// one decode step per character with the KV cache. Stops early at the
/// model's context.
pub fn generate(
    model: &Model,
    prompt: &[u8],
    n: usize,
    sampling: Sampling,
    engine: &mut dyn Engine,
) -> Result<Generation, GenerateError> {
    let ck = model.checkpoint();
    let ids = ck.vocab.encode(prompt)?;
    if ids.is_empty() {
        return Err(GenerateError::EmptyPrompt);
    }
    let ctx = model.config().ctx;
    let ids = &ids[ids.len().saturating_sub(ctx)..];
    let vocab = model.config().vocab;
    let mut rng = match sampling {
        Sampling::Temperature { seed, .. } => Rng::new(seed),
        Sampling::Greedy => Rng::new(0),
    };
    let mut g = Generation {
        prompt_tokens: ids.len(),
        ..Generation::default()
    };
    let mut cache = model.cache();
    let t0 = Instant::now();
    let logits = model.forward(ids, &mut cache, engine, &mut g.prefill_traffic)?;
    g.prefill_time = t0.elapsed();
    g.logits
        .extend(logits.chunks_exact(vocab).map(<[f32]>::to_vec));
    let mut last = g.logits.last().cloned().unwrap_or_default();
    let t0 = Instant::now();
    for i in 0..n {
        let next = pick(&last, sampling, &mut rng);
        g.tokens.push(next);
        g.text.push(ck.vocab.decode(next));
        if i + 1 == n || cache.len() >= ctx {
            break;
        }
        last = model.forward(&[next], &mut cache, engine, &mut g.decode_traffic)?;
        g.logits.push(last.clone());
    }
    g.decode_time = t0.elapsed();
    Ok(g)
}

/// The next token from one row of logits.
pub fn pick(logits: &[f32], sampling: Sampling, rng: &mut Rng) -> u32 {
    match sampling {
        Sampling::Greedy => argmax_first(logits) as u32,
        Sampling::Temperature { temperature, .. } => {
            let mut p: Vec<f32> = logits.iter().map(|&l| l / temperature).collect();
            crate::model::softmax(&mut p);
            let mut u = rng.next_f64() as f32;
            for (i, &q) in p.iter().enumerate() {
                if u < q {
                    return i as u32;
                }
                u -= q;
            }
            argmax_first(&p) as u32
        }
    }
}

/// Index of the first maximum.
pub fn argmax_first(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Bits per character of `text` under the integer pipeline: windows of the
/// context (at most `max_windows`), each a prefill whose every position
/// predicts the next character.
pub fn bits_per_char(
    model: &Model,
    tokens: &[u32],
    max_windows: usize,
    engine: &mut dyn Engine,
) -> Result<f64, InferError> {
    let ctx = model.config().ctx;
    let vocab = model.config().vocab;
    let (mut nats, mut n) = (0.0f64, 0usize);
    for w in tokens.windows(ctx + 1).step_by(ctx).take(max_windows) {
        let mut cache = model.cache();
        let logits = model.forward(&w[..ctx], &mut cache, engine, &mut Traffic::default())?;
        for (row, &target) in logits.chunks_exact(vocab).zip(&w[1..]) {
            let max = row.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
            let lse = row
                .iter()
                .map(|&x| f64::from(x - max).exp())
                .sum::<f64>()
                .ln()
                + f64::from(max);
            nats += lse - f64::from(row[target as usize]);
            n += 1;
        }
    }
    Ok(nats / n.max(1) as f64 / std::f64::consts::LN_2)
}
