//! The same networks in f32: the comparison baseline for fixed-point
//! training and the source of calibration maxima for [`Scales::propose`].
//!
//! Layers match the engine's semantics exactly: max pools pick the first
//! maximum, fully connected layers flatten a spatial input in the engine's
//! word order (`((c/T*H + y)*W + x)*T + c%T`, so their weights are
//! interchangeable with the fixed-point plan's), and ReLU's derivative is
//! `output > 0`.
//!
//! [`Scales::propose`]: super::plan::Scales::propose

use super::layout::ActLayout;
use super::plan::{Layer, LayerGeom, Magnitudes, Network, PlanError, geometry};
use super::tensor::Tensor4;
use crate::rng::Rng;

/// A network with f32 weights. Activations are `[B, C, H, W]`; fully
/// connected outputs are `[B, M, 1, 1]`.
#[derive(Debug, Clone)]
pub struct FloatNet {
    /// The geometry (batch 1; only channel counts and sizes are used).
    pub geometry: Vec<LayerGeom>,
    /// Channel tile T used for the fully connected flattening order.
    pub t: usize,
    /// Per layer weights `[M, N, K, K]` (`None` for pools).
    pub weights: Vec<Option<Tensor4<f32>>>,
}

/// Activations and pool choices of one forward pass.
#[derive(Debug, Clone)]
pub struct Trace {
    /// The input.
    pub input: Tensor4<f32>,
    /// Per layer output.
    pub acts: Vec<Tensor4<f32>>,
    /// Per layer argmax codes (pools only).
    pub argmax: Vec<Option<Tensor4<u8>>>,
}

/// Gradients of one backward pass.
#[derive(Debug, Clone)]
pub struct Grads {
    /// Per layer weight gradient, summed over the batch (`None` for pools).
    pub weights: Vec<Option<Tensor4<f32>>>,
    /// Per layer gradient at the output (before the layer's ReLU derivative).
    pub outputs: Vec<Tensor4<f32>>,
}

/// He-normal initial weights (`std = sqrt(2 / fan_in)`) for every layer of
/// `net` with tile `t`, from `seed`. Fully connected weights of padded
/// flattened channels are 0.
pub fn init_weights(
    net: &Network,
    t: usize,
    seed: u64,
) -> Result<Vec<Option<Tensor4<f64>>>, PlanError> {
    let geom = geometry(net, t, 1)?;
    let mut rng = Rng::new(seed);
    Ok(geom
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let wd = g.weight_dims()?;
            let live = live_inputs(&geom, i, t);
            let fan_in = (live.iter().filter(|&&l| l).count() * g.shape.k * g.shape.k).max(1);
            let std = (2.0 / fan_in as f64).sqrt();
            Some(Tensor4::from_fn(wd, |[_, n, _, _]| {
                let v = rng.normal() * std;
                if live[n] { v } else { 0.0 }
            }))
        })
        .collect())
}

/// Which input channels of layer `i` carry data (flattened padded channels do not).
fn live_inputs(geom: &[LayerGeom], i: usize, t: usize) -> Vec<bool> {
    let g = &geom[i];
    if !g.relayout {
        return vec![true; g.shape.n];
    }
    let prev = if i == 0 { g.input } else { geom[i - 1].output };
    let lay = ActLayout {
        b: 1,
        c: prev.c,
        h: prev.h,
        w: prev.w,
        t,
    };
    let mut live = vec![false; g.shape.n];
    for c in 0..prev.c {
        for y in 0..prev.h {
            for x in 0..prev.w {
                live[lay.offset(0, c, y, x)] = true;
            }
        }
    }
    live
}

/// Softmax cross-entropy of one sample: `(loss, dloss/dlogits = p - onehot)`.
pub fn softmax_xent(logits: &[f64], label: usize) -> (f64, Vec<f64>) {
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = logits.iter().map(|&z| (z - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    let p: Vec<f64> = e.iter().map(|v| v / sum).collect();
    let loss = -(p.get(label).copied().unwrap_or(f64::MIN_POSITIVE))
        .max(1e-300)
        .ln();
    let grad = p
        .iter()
        .enumerate()
        .map(|(c, &pc)| pc - if c == label { 1.0 } else { 0.0 })
        .collect();
    (loss, grad)
}

/// Index of the largest value (the first on ties).
pub fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

impl FloatNet {
    /// A network with the given weights (real values, converted to f32).
    pub fn new(
        net: &Network,
        t: usize,
        weights: &[Option<Tensor4<f64>>],
    ) -> Result<Self, PlanError> {
        let geometry = geometry(net, t, 1)?;
        if weights.len() != geometry.len()
            || geometry
                .iter()
                .zip(weights)
                .any(|(g, w)| g.weight_dims() != w.as_ref().map(|w| w.dims()))
        {
            return Err(PlanError::Data("weights do not match the network".into()));
        }
        Ok(Self {
            geometry,
            t,
            weights: weights
                .iter()
                .map(|w| w.as_ref().map(|w| w.map(|v| v as f32)))
                .collect(),
        })
    }

    /// The input of layer `i` as the layer reads it: `[B, N, H, W]`, or for a
    /// fully connected layer `[B, N, 1, 1]` (flattened in the engine's order).
    fn layer_input(&self, i: usize, prev: &Tensor4<f32>) -> Tensor4<f32> {
        let g = &self.geometry[i];
        if !g.relayout {
            return prev.clone();
        }
        let [b, c, h, w] = prev.dims();
        let lay = ActLayout {
            b: 1,
            c,
            h,
            w,
            t: self.t,
        };
        let mut out = Tensor4::zeros([b, g.shape.n, 1, 1]);
        for bb in 0..b {
            for cc in 0..c {
                for y in 0..h {
                    for x in 0..w {
                        out[[bb, lay.offset(0, cc, y, x), 0, 0]] = prev[[bb, cc, y, x]];
                    }
                }
            }
        }
        out
    }

    /// Forward pass on `x` (`[B, C, H, W]`, any batch).
    pub fn forward(&self, x: &Tensor4<f32>) -> Result<Trace, PlanError> {
        let [_, c, h, w] = x.dims();
        let inp = self.geometry[0].input;
        if !inp.batch_width && [c, h, w] != [inp.c, inp.h, inp.w] {
            return Err(PlanError::Data(format!(
                "input {:?} does not match the network's {:?}",
                x.dims(),
                [inp.c, inp.h, inp.w]
            )));
        }
        let mut acts: Vec<Tensor4<f32>> = Vec::new();
        let mut argmax = Vec::new();
        for (i, g) in self.geometry.iter().enumerate() {
            let prev = acts.last().unwrap_or(x);
            let inp = self.layer_input(i, prev);
            match (&g.layer, &self.weights[i]) {
                (Layer::MaxPool, _) | (_, None) => {
                    let (y, a) = pool_f32(&inp);
                    acts.push(y);
                    argmax.push(Some(a));
                }
                (layer, Some(w)) => {
                    let relu = matches!(
                        layer,
                        Layer::Conv { relu: true, .. } | Layer::Fc { relu: true, .. }
                    );
                    let mut y = conv_f32(&inp, w, g.shape.pad);
                    if relu {
                        y.data_mut().iter_mut().for_each(|v| *v = v.max(0.0));
                    }
                    acts.push(y);
                    argmax.push(None);
                }
            }
        }
        Ok(Trace {
            input: x.clone(),
            acts,
            argmax,
        })
    }

    /// Backward pass from the loss gradient `dlogits` (the shape of the
    /// last output, `p - onehot` per sample).
    pub fn backward(&self, tr: &Trace, dlogits: &Tensor4<f32>) -> Result<Grads, PlanError> {
        let n = self.geometry.len();
        if tr.acts.len() != n || tr.acts.last().map(|a| a.dims()) != Some(dlogits.dims()) {
            return Err(PlanError::Data(format!(
                "loss gradient {:?} does not match the trace",
                dlogits.dims()
            )));
        }
        let first = self
            .geometry
            .iter()
            .position(|g| g.weight_dims().is_some())
            .unwrap_or(n);
        let mut wg = vec![None; n];
        let mut outs = vec![Tensor4::zeros([0, 0, 0, 0]); n];
        let mut dout = dlogits.clone();
        for i in (first..n).rev() {
            let g = &self.geometry[i];
            outs[i] = dout.clone();
            let prev = if i == 0 { &tr.input } else { &tr.acts[i - 1] };
            let inp = self.layer_input(i, prev);
            let mut dz = dout.clone();
            if matches!(
                g.layer,
                Layer::Conv { relu: true, .. } | Layer::Fc { relu: true, .. }
            ) {
                for (d, &y) in dz.data_mut().iter_mut().zip(tr.acts[i].data()) {
                    if y <= 0.0 {
                        *d = 0.0;
                    }
                }
            }
            let din = match (&self.weights[i], &tr.argmax[i]) {
                (Some(w), _) => {
                    wg[i] = Some(wgrad_f32(&inp, &dz, w.dims(), g.shape.pad));
                    (i > first).then(|| bgrad_f32(&dz, w, g.shape.pad, inp.dims()))
                }
                (None, Some(a)) => (i > first).then(|| pool_bwd_f32(&dz, a)),
                (None, None) => None,
            };
            let Some(din) = din else { break };
            dout = if g.relayout {
                self.unflatten(&din, prev.dims())
            } else {
                din
            };
        }
        Ok(Grads {
            weights: wg,
            outputs: outs,
        })
    }

    fn unflatten(&self, d: &Tensor4<f32>, dims: [usize; 4]) -> Tensor4<f32> {
        let [_, c, h, w] = dims;
        let lay = ActLayout {
            b: 1,
            c,
            h,
            w,
            t: self.t,
        };
        Tensor4::from_fn(dims, |[b, cc, y, x]| d[[b, lay.offset(0, cc, y, x), 0, 0]])
    }

    /// `w -= lr / B * grad` (gradients are batch sums).
    pub fn sgd(&mut self, g: &Grads, lr: f32, batch: usize) {
        for (w, gw) in self.weights.iter_mut().zip(&g.weights) {
            if let (Some(w), Some(gw)) = (w, gw) {
                let s = lr / batch as f32;
                for (v, d) in w.data_mut().iter_mut().zip(gw.data()) {
                    *v -= s * d;
                }
            }
        }
    }

    /// Largest absolute values of weights, activations and output gradients
    /// over the given passes (for [`Scales::propose`](super::plan::Scales::propose)).
    pub fn magnitudes(&self, passes: &[(Trace, Grads)]) -> Magnitudes {
        let n = self.geometry.len();
        let amax = |t: &Tensor4<f32>| {
            t.data()
                .iter()
                .fold(0f64, |m, &v| m.max(f64::from(v.abs())))
        };
        let mut m = Magnitudes {
            input: 0.0,
            weight: self
                .weights
                .iter()
                .map(|w| w.as_ref().map_or(0.0, amax))
                .collect(),
            act: vec![0.0; n],
            grad: vec![0.0; n],
        };
        for (tr, g) in passes {
            m.input = m.input.max(amax(&tr.input));
            for i in 0..n {
                m.act[i] = m.act[i].max(amax(&tr.acts[i]));
                m.grad[i] = m.grad[i].max(amax(&g.outputs[i]));
            }
        }
        m
    }
}

fn conv_f32(x: &Tensor4<f32>, w: &Tensor4<f32>, pad: usize) -> Tensor4<f32> {
    let [b_, n_, h, wd] = x.dims();
    let [m_, _, k, _] = w.dims();
    let (ho, wo) = (h + 2 * pad + 1 - k, wd + 2 * pad + 1 - k);
    let mut y = Tensor4::zeros([b_, m_, ho, wo]);
    for b in 0..b_ {
        for m in 0..m_ {
            for n in 0..n_ {
                for ky in 0..k {
                    for kx in 0..k {
                        let wv = w[[m, n, ky, kx]];
                        for oy in 0..ho {
                            let Some(iy) = (oy + ky).checked_sub(pad).filter(|&v| v < h) else {
                                continue;
                            };
                            for ox in 0..wo {
                                if let Some(ix) = (ox + kx).checked_sub(pad).filter(|&v| v < wd) {
                                    y[[b, m, oy, ox]] += wv * x[[b, n, iy, ix]];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    y
}

fn bgrad_f32(dy: &Tensor4<f32>, w: &Tensor4<f32>, pad: usize, in_dims: [usize; 4]) -> Tensor4<f32> {
    let [b_, m_, ho, wo] = dy.dims();
    let [_, n_, k, _] = w.dims();
    let [_, _, h, wd] = in_dims;
    let mut dx = Tensor4::zeros(in_dims);
    for b in 0..b_ {
        for m in 0..m_ {
            for n in 0..n_ {
                for ky in 0..k {
                    for kx in 0..k {
                        let wv = w[[m, n, ky, kx]];
                        for oy in 0..ho {
                            let Some(iy) = (oy + ky).checked_sub(pad).filter(|&v| v < h) else {
                                continue;
                            };
                            for ox in 0..wo {
                                if let Some(ix) = (ox + kx).checked_sub(pad).filter(|&v| v < wd) {
                                    dx[[b, n, iy, ix]] += wv * dy[[b, m, oy, ox]];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    dx
}

fn wgrad_f32(x: &Tensor4<f32>, dy: &Tensor4<f32>, wdims: [usize; 4], pad: usize) -> Tensor4<f32> {
    let [b_, n_, h, wd] = x.dims();
    let [_, m_, ho, wo] = dy.dims();
    let k = wdims[2];
    let mut g = Tensor4::zeros(wdims);
    for b in 0..b_ {
        for m in 0..m_ {
            for n in 0..n_ {
                for ky in 0..k {
                    for kx in 0..k {
                        let mut s = 0f32;
                        for oy in 0..ho {
                            let Some(iy) = (oy + ky).checked_sub(pad).filter(|&v| v < h) else {
                                continue;
                            };
                            for ox in 0..wo {
                                if let Some(ix) = (ox + kx).checked_sub(pad).filter(|&v| v < wd) {
                                    s += dy[[b, m, oy, ox]] * x[[b, n, iy, ix]];
                                }
                            }
                        }
                        g[[m, n, ky, kx]] += s;
                    }
                }
            }
        }
    }
    g
}

fn pool_f32(x: &Tensor4<f32>) -> (Tensor4<f32>, Tensor4<u8>) {
    let [b_, c_, h, w] = x.dims();
    let d = [b_, c_, h / 2, w / 2];
    let mut y = Tensor4::zeros(d);
    let mut a = Tensor4::zeros(d);
    for b in 0..b_ {
        for c in 0..c_ {
            for oy in 0..h / 2 {
                for ox in 0..w / 2 {
                    let mut best = (x[[b, c, 2 * oy, 2 * ox]], 0u8);
                    for code in 1..4u8 {
                        let v = x[[
                            b,
                            c,
                            2 * oy + usize::from(code >> 1),
                            2 * ox + usize::from(code & 1),
                        ]];
                        if v > best.0 {
                            best = (v, code);
                        }
                    }
                    y[[b, c, oy, ox]] = best.0;
                    a[[b, c, oy, ox]] = best.1;
                }
            }
        }
    }
    (y, a)
}

fn pool_bwd_f32(dy: &Tensor4<f32>, a: &Tensor4<u8>) -> Tensor4<f32> {
    let [b_, c_, ho, wo] = dy.dims();
    let mut dx = Tensor4::zeros([b_, c_, 2 * ho, 2 * wo]);
    for b in 0..b_ {
        for c in 0..c_ {
            for oy in 0..ho {
                for ox in 0..wo {
                    let code = a[[b, c, oy, ox]];
                    dx[[
                        b,
                        c,
                        2 * oy + usize::from(code >> 1),
                        2 * ox + usize::from(code & 1),
                    ]] = dy[[b, c, oy, ox]];
                }
            }
        }
    }
    dx
}
