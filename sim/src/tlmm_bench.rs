//! Figures for the TLMM engines (not a test): busy cycles and utilization
//! per build and layer shape, measured on the Verilated RTL where the shape
//! fits the build's activation buffer and predicted by the exact cycle
//! model otherwise, plus the throughput of the Rust reference.

use crate::tlmm::{Build, cycles_match_model_on};
use hls_rust::rng::Rng;
use hls_rust::tlmm::cycle::{OsCycleModel, TsCycleModel};
use hls_rust::tlmm::{AccWidth, CodeMatrix, Grouping, TernaryMatrix, golden, tlmm_table};
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

/// Runs every build (both micro-architectures) on every shape: measured on
/// the RTL where K and M fit the build, the exact cycle model otherwise.
pub fn engine_rows(mut progress: impl FnMut(&str)) -> Result<Vec<EngineRow>, String> {
    let mut rows = Vec::new();
    for build in Build::all() {
        let cfg = build.config();
        let (g, t, p) = (u64::from(cfg.g), u64::from(cfg.t), u64::from(cfg.p));
        let os = OsCycleModel::new(g, t, p).with_direct(cfg.direct != 0);
        let ts = TsCycleModel { g, t, p };
        let arch = match build {
            Build::Os(_) => "output-stationary",
            Build::Ts(_) => "table-stationary",
        };
        // (exact prediction, closed form) of this build's cycle model.
        let model = |m: u64, k: u64| match build {
            Build::Os(_) => (os.predict(m, k), os.ideal(m, k)),
            Build::Ts(_) => (ts.predict(m, k), ts.ideal(m, k)),
        };
        for &(name, m, k) in SHAPES {
            progress(&format!("{} {name}", cfg.prefix()));
            let fits = k <= cfg.k_max as usize && m <= cfg.m_max as usize;
            let (cycles, measured) = if fits {
                let r = cycles_match_model_on(build, &[(m, k)])?;
                (r[0].measured, true)
            } else {
                (model(m as u64, k as u64).0, false)
            };
            rows.push(EngineRow {
                build: cfg.prefix(),
                arch,
                shape: name,
                m,
                k,
                cycles,
                measured,
                closed_form: model(m as u64, k as u64).1,
                utilization: (m * k) as f64 / ((g * t * p * cycles) as f64),
                peak: g * t * p,
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
