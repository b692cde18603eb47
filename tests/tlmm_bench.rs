//! Figures for the TLMM engines (not a test): busy cycles and utilization
//! per build and layer shape, measured on the Verilated RTL where the shape
//! fits the build's activation buffer and predicted by the exact cycle
//! model otherwise, plus the throughput of the Rust reference.

use crate::tlmm::cycles_match_model;
use hls_rust::rng::Rng;
use hls_rust::tlmm::cycle::OsCycleModel;
use hls_rust::tlmm::{AccWidth, CodeMatrix, Grouping, TernaryMatrix, golden, tlmm_table};
use hlsk_cosim::configs::TLMM_CONFIGS;
use std::time::Instant;

/// BitNet b1.58 0.73B layer shapes (M x K) and a few small ones.
pub const SHAPES: &[(&str, usize, usize)] = &[
    ("0.73B attn 1536x1536", 1536, 1536),
    ("0.73B ffn up 4096x1536", 4096, 1536),
    ("0.73B ffn down 1536x4096", 1536, 4096),
    ("digits L1 128x64", 128, 64),
    ("digits L2 10x128", 10, 128),
    ("small 256x256", 256, 256),
];

/// One row of the engine table.
#[derive(Debug, Clone)]
pub struct EngineRow {
    /// Build prefix.
    pub build: String,
    /// Micro-architecture.
    pub arch: &'static str,
    /// Shape name.
    pub shape: &'static str,
    /// Rows.
    pub m: usize,
    /// Columns.
    pub k: usize,
    /// Busy cycles (measured on the RTL, or the model's where `measured` is false).
    pub cycles: u64,
    /// True when `cycles` was measured on the RTL.
    pub measured: bool,
    /// The closed-form estimate of the spec.
    pub closed_form: u64,
    /// M*K / (G*T*P * cycles).
    pub utilization: f64,
    /// Peak MACs per cycle, G*T*P.
    pub peak: u64,
}

/// Runs every output-stationary build on every shape.
pub fn engine_rows(mut progress: impl FnMut(&str)) -> Result<Vec<EngineRow>, String> {
    let mut rows = Vec::new();
    for (c, cfg) in TLMM_CONFIGS.iter().enumerate() {
        let model = OsCycleModel {
            g: u64::from(cfg.g),
            t: u64::from(cfg.t),
            p: u64::from(cfg.p),
        };
        for &(name, m, k) in SHAPES {
            progress(&format!("{} {name}", cfg.prefix()));
            let (cycles, measured) = if k <= cfg.k_max as usize {
                let r = cycles_match_model(c, &[(m, k)])?;
                (r[0].measured, true)
            } else {
                (model.predict(m as u64, k as u64), false)
            };
            rows.push(EngineRow {
                build: cfg.prefix(),
                arch: "output-stationary",
                shape: name,
                m,
                k,
                cycles,
                measured,
                closed_form: model.ideal(m as u64, k as u64),
                utilization: model.utilization(m as u64, k as u64, cycles),
                peak: model.g * model.t * model.p,
            });
        }
    }
    Ok(rows)
}

/// Throughput of the Rust reference on one shape, in M ternary MACs per second.
#[derive(Debug, Clone)]
pub struct ReferenceRow {
    /// Shape name.
    pub shape: &'static str,
    /// Plain i64 golden dot products.
    pub golden_mmacs: f64,
    /// G = 3 table path.
    pub table_mmacs: f64,
}

/// Times the golden and table paths on every shape (best of 3).
pub fn reference_rows() -> Result<Vec<ReferenceRow>, String> {
    let acc = AccWidth::DEFAULT;
    let mut rows = Vec::new();
    for &(name, m, k) in SHAPES {
        let mut rng = Rng::new(11);
        let w = TernaryMatrix::random(m, k, 0.3, &mut rng);
        let x: Vec<i8> = (0..k).map(|_| rng.next_u64() as i8).collect();
        let codes = CodeMatrix::encode(&w, Grouping::G3);
        let time = |f: &mut dyn FnMut() -> Result<(), String>| -> Result<f64, String> {
            let mut best = f64::MAX;
            for _ in 0..3 {
                let t = Instant::now();
                f()?;
                best = best.min(t.elapsed().as_secs_f64());
            }
            Ok((m * k) as f64 / best / 1e6)
        };
        let golden_mmacs =
            time(&mut || golden(&w, &x, acc).map(|_| ()).map_err(|e| e.to_string()))?;
        let table_mmacs = time(&mut || {
            tlmm_table(&codes, &x, acc)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })?;
        rows.push(ReferenceRow {
            shape: name,
            golden_mmacs,
            table_mmacs,
        });
    }
    Ok(rows)
}
