//! `hlsk tlmm matmul`: the user's own weights and activations (`.npy`)
//! through the ternary matrix multiplication, on the reference, the
//! Verilated engine or a board's digital twin.
//!
//! Weights `W` are `[M, K]`: float (quantized per tensor with absmean, or
//! with a given `--gamma`) or int8 ternary values taken as they are.
//! Activations are `[K]` or `[N, K]` (N tokens): float (quantized per token
//! with absmax, or with given scales) or int8. The results `Y = W x` per
//! token are int32 `[M]` or `[N, M]`; for float inputs (or given scales)
//! also the dequantized floats. Every input is checked before anything
//! runs, and nothing is written unless every output is ready.

use crate::npy_io::{check_outputs, numpy_dtype, write_outputs};
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use hls_rust::tlmm::npy::{NpyArray, NpyData};
use hls_rust::tlmm::quant::{
    absmax_scale, absmean, dequantize, quantize_activations_per_token, quantize_weights_with_scale,
};
use hls_rust::tlmm::{AccWidth, Flags, TernaryMatrix, golden};
use std::path::{Path, PathBuf};

/// Where the products run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// The reference model (`hls_rust::tlmm::golden`).
    Ref,
    /// The Verilated output-stationary engine of `--build` (checked
    /// against the reference job by job).
    Rtl,
    /// The digital twin of `--board`'s SoC, through its UART host link.
    Twin,
}

/// Arguments of `hlsk tlmm matmul`.
#[derive(Args, Debug)]
pub struct MatmulArgs {
    /// Weights `[M, K]`: float32/float64 (quantized with absmean per
    /// tensor) or int8 with values in {-1, 0, 1}.
    #[arg(long, value_name = "W.npy")]
    weights: PathBuf,
    /// Activations `[K]` or `[N, K]`: float32/float64 (quantized with
    /// absmax per token) or int8.
    #[arg(long, value_name = "X.npy")]
    act: PathBuf,
    /// The int32 results, `[M]` or `[N, M]`.
    #[arg(long, value_name = "Y.npy")]
    out: PathBuf,
    /// The dequantized float32 results (default: `<out>` with `.f32.npy`
    /// when both scales are known: float inputs or given scales).
    #[arg(long, value_name = "Y.f32.npy")]
    out_float: Option<PathBuf>,
    /// The weight scale gamma to quantize float weights with (instead of
    /// mean(|W|)), e.g. from PyTorch or numpy; with int8 weights, the scale
    /// used to dequantize.
    #[arg(long)]
    gamma: Option<f32>,
    /// One activation scale s_x for every token (x_q = round(x * s_x)),
    /// instead of 127 / max|x| per token.
    #[arg(long, conflicts_with = "act_scales")]
    act_scale: Option<f32>,
    /// Activation scales per token, float32 `[N]` (`[1]` for 1-D
    /// activations).
    #[arg(long, value_name = "S.npy")]
    act_scales: Option<PathBuf>,
    /// Where the products run.
    #[arg(long, value_enum, default_value = "ref")]
    engine: Engine,
    /// The co-simulated TLMM build (`hlsk tlmm builds`; default 0): its
    /// accumulator width and capacity apply to `--engine ref` too.
    #[arg(long, conflicts_with = "board")]
    build: Option<usize>,
    /// The board whose digital twin runs the products (`--engine twin`).
    #[arg(long)]
    board: Option<String>,
    /// Seed of the engine's power-up state.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// The inputs as the engines take them.
struct Problem {
    w: TernaryMatrix,
    /// Quantized activations per token.
    x: Vec<Vec<i8>>,
    /// Weight scale for dequantization, if known.
    gamma: Option<f32>,
    /// Activation scale per token, if known.
    s_x: Option<Vec<f32>>,
    /// Activations were 1-D.
    one_token: bool,
}

/// Runs `hlsk tlmm matmul`.
pub fn run(a: &MatmulArgs) -> Result<()> {
    if a.engine != Engine::Twin && a.board.is_some() {
        bail!("--board selects the digital twin: use it with --engine twin");
    }
    if a.engine == Engine::Twin && a.board.is_none() {
        bail!("--engine twin needs --board B (`hlsk boards` lists them)");
    }
    let float_out = a.out_float.clone().unwrap_or_else(|| float_path(&a.out));
    check_outputs(&[("--out", &a.out), ("--out-float", &float_out)])?;
    for p in [&a.out, &float_out] {
        if p == &a.weights || p == &a.act || Some(p) == a.act_scales.as_ref() {
            bail!("{}: an output would overwrite an input", p.display());
        }
    }
    let pb = load(a)?;
    let (m, k, n) = (pb.w.m(), pb.w.k(), pb.x.len());
    println!(
        "W: {m} x {k} ternary ({} nonzero), x: {n} token(s) of {k}, gamma {}, s_x {}",
        pb.w.data().iter().filter(|&&v| v != 0).count(),
        pb.gamma
            .map_or("unknown (int8 weights)".into(), |g| format!("{g:e}")),
        match &pb.s_x {
            None => "unknown (int8 activations)".to_owned(),
            Some(s) if s.len() == 1 => format!("{:e}", s[0]),
            Some(s) => format!(
                "per token, {:e} .. {:e}",
                s.iter().copied().fold(f32::INFINITY, f32::min),
                s.iter().copied().fold(f32::NEG_INFINITY, f32::max)
            ),
        }
    );
    let (y, acc_w) = match a.engine {
        Engine::Ref => reference(&pb, a.build)?,
        Engine::Rtl => engine::rtl(&pb, a.build.unwrap_or(0), a.seed)?,
        Engine::Twin => engine::twin(&pb, a.board.as_deref().unwrap_or_default(), a.seed)?,
    };
    // Every output is computed before the first is written.
    let shape = |cols: usize| {
        if pb.one_token {
            vec![cols]
        } else {
            vec![n, cols]
        }
    };
    let ints = NpyArray::new(shape(m), NpyData::I32(y.concat()))?;
    let floats = match (&pb.gamma, &pb.s_x) {
        (Some(g), Some(s)) => Some(NpyArray::new(
            shape(m),
            NpyData::F32(
                y.iter()
                    .zip(s)
                    .flat_map(|(row, &s)| row.iter().map(move |&v| dequantize(v, s, *g)))
                    .collect(),
            ),
        )?),
        _ => None,
    };
    match floats {
        Some(f) => write_outputs(&[("y", &a.out, ints), ("y float", &float_out, f)])?,
        None if a.out_float.is_some() => {
            bail!("--out-float needs both scales: float inputs, or --gamma and --act-scale(s)")
        }
        None => write_outputs(&[("y", &a.out, ints)])?,
    }
    println!("accumulator {acc_w} bits; floats are y_int / s_x * gamma");
    Ok(())
}

/// `Y.npy` -> `Y.f32.npy`.
fn float_path(out: &Path) -> PathBuf {
    let stem = out
        .file_stem()
        .map_or("out".into(), |s| s.to_string_lossy());
    out.with_file_name(format!("{stem}.f32.npy"))
}

/// Reads and quantizes the inputs, or says what is wrong with them.
fn load(a: &MatmulArgs) -> Result<Problem> {
    let wf =
        NpyArray::read(&a.weights).with_context(|| format!("reading {}", a.weights.display()))?;
    let xf = NpyArray::read(&a.act).with_context(|| format!("reading {}", a.act.display()))?;
    let wname = a.weights.display();
    let xname = a.act.display();
    let &[m, k] = wf.shape() else {
        bail!(
            "{wname}: shape {:?}, expected a matrix [M, K] (rank 2)",
            wf.shape()
        );
    };
    if m == 0 || k == 0 {
        bail!("{wname}: shape [{m}, {k}] is empty");
    }
    let (n, xk, one_token) = match *xf.shape() {
        [xk] => (1, xk, true),
        [n, xk] => (n, xk, false),
        ref s => bail!("{xname}: shape {s:?}, expected [K] or [N, K] (rank 1 or 2)"),
    };
    if xk != k {
        bail!("{xname}: {xk} activations per token, but {wname} has K = {k} columns");
    }
    if n == 0 {
        bail!("{xname}: no tokens (N = 0)");
    }
    if let Some(g) = a.gamma
        && !(g.is_finite() && g > 0.0)
    {
        bail!("--gamma {g}: the weight scale must be finite and > 0");
    }
    let (wq, gamma) = match wf.data() {
        NpyData::I8(v) => {
            if let Some(i) = v.iter().position(|&t| !(-1..=1).contains(&t)) {
                bail!(
                    "{wname}: int8 weights must be ternary (-1, 0, 1); element {:?} is {}; \
                     pass float weights to have them quantized",
                    [i / k, i % k],
                    v[i]
                );
            }
            (v.clone(), a.gamma)
        }
        NpyData::F32(_) | NpyData::F64(_) => {
            let v = floats(&wf, &a.weights)?;
            let g = match a.gamma {
                Some(g) => g,
                None => absmean(&v),
            };
            let q = quantize_weights_with_scale(&v, g).map_err(|e| {
                anyhow::anyhow!(
                    "{wname}: {e} (all-zero weights have no absmean scale; pass --gamma)"
                )
            })?;
            (q, Some(g))
        }
        d => bail!(
            "{wname}: dtype {}, expected float32/float64 (to be quantized) or int8 ternary",
            numpy_dtype(d)
        ),
    };
    let scales: Option<Vec<f32>> = match (&a.act_scales, a.act_scale) {
        (Some(p), _) => {
            let s = NpyArray::read(p).with_context(|| format!("reading {}", p.display()))?;
            if s.shape() != [n] {
                bail!(
                    "{}: shape {:?}, expected [{n}] (one scale per token of {xname})",
                    p.display(),
                    s.shape()
                );
            }
            Some(floats(&s, p)?)
        }
        (None, Some(s)) => Some(vec![s; n]),
        (None, None) => None,
    };
    let (x, s_x) = match xf.data() {
        NpyData::I8(v) => (v.chunks(k).map(<[i8]>::to_vec).collect(), scales),
        NpyData::F32(_) | NpyData::F64(_) => {
            let v = floats(&xf, &a.act)?;
            let s = scales.unwrap_or_else(|| v.chunks(k).map(absmax_scale).collect());
            let q = quantize_activations_per_token(&v, &s)
                .map_err(|e| anyhow::anyhow!("{xname}: {e}"))?;
            (q.chunks(k).map(<[i8]>::to_vec).collect(), Some(s))
        }
        d => bail!(
            "{xname}: dtype {}, expected float32/float64 (to be quantized per token) or int8",
            numpy_dtype(d)
        ),
    };
    Ok(Problem {
        w: TernaryMatrix::new(m, k, wq)?,
        x,
        gamma,
        s_x,
        one_token,
    })
}

/// A float array as f32, refusing NaN and infinities (f64 values are
/// rounded to the nearest f32; out-of-range ones are refused).
fn floats(a: &NpyArray, path: &Path) -> Result<Vec<f32>> {
    let v: Vec<f32> = match a.data() {
        NpyData::F32(v) => v.clone(),
        NpyData::F64(v) => v.iter().map(|&x| x as f32).collect(),
        d => bail!(
            "{}: dtype {}, expected float32 or float64",
            path.display(),
            numpy_dtype(d)
        ),
    };
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        bail!(
            "{}: element {i} (flat index) is {} as float32; every value must be finite",
            path.display(),
            v[i]
        );
    }
    Ok(v)
}

/// The golden dot products with the accumulator width of `build` (32
/// bits when none is given and the co-simulation models are left out).
fn reference(pb: &Problem, build: Option<usize>) -> Result<(Vec<Vec<i32>>, u32)> {
    let acc_w = engine::acc_width(build)?;
    let acc = AccWidth::new(acc_w)?;
    let mut flags = Flags::empty();
    let mut y = Vec::with_capacity(pb.x.len());
    for x in &pb.x {
        let r = golden(&pb.w, x, acc)?;
        flags.insert(r.flags);
        y.push(r.out);
    }
    if !flags.is_empty() {
        eprintln!(
            "warning: the {acc_w}-bit accumulator overflowed (flags {:#06b}); results wrapped as the engine's would",
            flags.bits()
        );
    }
    Ok((y, acc_w))
}

#[cfg(not(feature = "cosim"))]
mod engine {
    //! Without the `cosim` feature: the reference only.
    use super::Problem;
    use anyhow::{Result, bail};

    pub fn acc_width(build: Option<usize>) -> Result<u32> {
        if build.is_some() {
            return Err(crate::cosim_missing("tlmm matmul --build"));
        }
        Ok(32)
    }

    pub fn rtl(_: &Problem, _: usize, _: u64) -> Result<(Vec<Vec<i32>>, u32)> {
        Err(crate::cosim_missing("tlmm matmul --engine rtl"))
    }

    pub fn twin(_: &Problem, _: &str, _: u64) -> Result<(Vec<Vec<i32>>, u32)> {
        bail!(crate::cosim_missing("tlmm matmul --engine twin"))
    }
}

#[cfg(feature = "cosim")]
mod engine {
    //! The Verilated engine and the digital twin.
    use super::Problem;
    use anyhow::{Context, Result, bail};
    use hls_rust::tlmm::Grouping;
    use hlsk_cosim::configs::TLMM_CONFIGS;
    use hlsk_host::{Link, LinkConfig};
    use hlsk_sim::tlmm::{Build, Job, Pressure, compare, run_jobs};
    use hlsk_sim::twin::Twin;

    fn config(build: usize) -> Result<hlsk_cosim::TlmmConfig> {
        TLMM_CONFIGS.get(build).copied().with_context(|| {
            format!(
                "no TLMM build {build}; there are {} (`hlsk tlmm builds`)",
                TLMM_CONFIGS.len()
            )
        })
    }

    pub fn acc_width(build: Option<usize>) -> Result<u32> {
        Ok(build.map(config).transpose()?.map_or(32, |c| c.acc_w))
    }

    /// Every token's product on build `build`, rows in blocks of its MMax,
    /// all jobs back to back on one engine instance.
    pub fn rtl(pb: &Problem, build: usize, seed: u64) -> Result<(Vec<Vec<i32>>, u32)> {
        let cfg = config(build)?;
        let (m, k) = (pb.w.m(), pb.w.k());
        if k > cfg.k_max as usize {
            bail!(
                "K = {k} exceeds build {build}'s activation buffer (KMax = {}); \
                 `hlsk tlmm builds` lists the builds",
                cfg.k_max
            );
        }
        let g = Grouping::new(cfg.g as usize)?;
        let rows = cfg.m_max as usize;
        let blocks: Vec<hls_rust::tlmm::TernaryMatrix> = (0..m)
            .step_by(rows)
            .map(|r0| {
                let r1 = (r0 + rows).min(m);
                hls_rust::tlmm::TernaryMatrix::new(r1 - r0, k, pb.w.data()[r0 * k..r1 * k].to_vec())
            })
            .collect::<Result<_, _>>()?;
        let jobs: Vec<Job> =
            pb.x.iter()
                .flat_map(|x| blocks.iter().map(move |b| Job::new(b, g, x.clone())))
                .collect();
        println!(
            "rtl: {} ({} job(s): {} token(s) x {} row block(s) of up to {rows})",
            cfg.prefix(),
            jobs.len(),
            pb.x.len(),
            blocks.len()
        );
        let mut dut = Build::Os(build)
            .fresh(seed as u32, None)
            .map_err(anyhow::Error::msg)?;
        let seen =
            run_jobs(dut.as_mut(), &jobs, Pressure::IDEAL, seed).map_err(anyhow::Error::msg)?;
        compare(&cfg, &jobs, &seen)
            .map_err(|e| anyhow::anyhow!("the RTL differs from the reference: {e}"))?;
        let busy: u64 = seen.iter().map(|o| u64::from(o.busy_cycles)).sum();
        println!("rtl: results equal the reference; {busy} engine busy cycles");
        let y = seen
            .chunks(blocks.len())
            .map(|token| token.iter().flat_map(|o| o.out.iter().copied()).collect())
            .collect();
        Ok((y, cfg.acc_w))
    }

    /// Every token's product as a job on `board`'s digital twin.
    pub fn twin(pb: &Problem, board: &str, seed: u64) -> Result<(Vec<Vec<i32>>, u32)> {
        let twin = Twin::for_board(board, seed as u32)?;
        let config = LinkConfig {
            baud: twin.config().baud,
            ..LinkConfig::default()
        };
        let mut link = Link::connect(twin, config).context("connecting to the digital twin")?;
        let info = link.info();
        println!(
            "twin: {board} (TLMM G={} T={} P={}, KMax {}, {} words of memory)",
            info.g, info.t, info.p, info.k_max, info.mem_words
        );
        let mut y = Vec::with_capacity(pb.x.len());
        for (i, x) in pb.x.iter().enumerate() {
            let o = hlsk_host::job::run_tlmm(&mut link, &pb.w, x, &mut |_| {})
                .with_context(|| format!("token {i} on the {board} twin"))?;
            if !o.passed() {
                bail!(
                    "token {i}: the twin's results differ from the reference in rows {:?}",
                    &o.mismatches()[..o.mismatches().len().min(8)]
                );
            }
            y.push(o.out);
        }
        let s = link.stats();
        println!(
            "twin: results equal the reference; {} commands, {} bytes out, {} in, {} retries",
            s.commands, s.bytes_sent, s.bytes_received, s.retries
        );
        Ok((y, u32::from(info.acc_w)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dir(PathBuf);
    impl Dir {
        fn new(tag: &str) -> Dir {
            let d = std::env::temp_dir().join(format!("hlsk-matmul-{tag}-{}", std::process::id()));
            std::fs::create_dir_all(&d).unwrap();
            Dir(d)
        }
        fn put(&self, name: &str, shape: Vec<usize>, data: NpyData) -> PathBuf {
            let p = self.0.join(name);
            NpyArray::new(shape, data).unwrap().write(&p).unwrap();
            p
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn args(w: PathBuf, x: PathBuf, out: PathBuf) -> MatmulArgs {
        MatmulArgs {
            weights: w,
            act: x,
            out,
            out_float: None,
            gamma: None,
            act_scale: None,
            act_scales: None,
            engine: Engine::Ref,
            build: None,
            board: None,
            seed: 1,
        }
    }

    /// Float inputs: quantized with the reference's quantizers, the int32
    /// results are the integer dot products of the quantized values, and
    /// the dequantized floats follow from them.
    #[test]
    fn float_inputs_are_quantized_and_multiplied() {
        let d = Dir::new("float");
        let wv = vec![0.5f32, -1.0, 0.1, 0.9, 0.0, -0.4];
        let xv = vec![1.0f32, -2.0, 0.5, 0.25, 0.25, -0.125];
        let w = d.put("w.npy", vec![2, 3], NpyData::F32(wv.clone()));
        let x = d.put("x.npy", vec![2, 3], NpyData::F32(xv.clone()));
        let out = d.0.join("y.npy");
        run(&args(w, x, out.clone())).unwrap();
        let gamma = absmean(&wv);
        let wq = quantize_weights_with_scale(&wv, gamma).unwrap();
        let mut want = Vec::new();
        let mut want_f = Vec::new();
        for t in xv.chunks(3) {
            let s = absmax_scale(t);
            let xq = quantize_activations_per_token(t, &[s]).unwrap();
            for r in wq.chunks(3) {
                let y: i32 = r
                    .iter()
                    .zip(&xq)
                    .map(|(&a, &b)| i32::from(a) * i32::from(b))
                    .sum();
                want.push(y);
                want_f.push(dequantize(y, s, gamma));
            }
        }
        let y = NpyArray::read(&out).unwrap();
        assert_eq!(y.shape(), [2, 2]);
        assert_eq!(y.as_i32().unwrap(), want);
        let f = NpyArray::read(&float_path(&out)).unwrap();
        assert_eq!(f.as_f32().unwrap(), want_f);
    }

    /// Bad inputs are refused with the file named, and nothing is written.
    #[test]
    fn bad_inputs_are_refused_and_nothing_is_written() {
        let d = Dir::new("bad");
        let w = d.put("w.npy", vec![2, 3], NpyData::I8(vec![1, 0, -1, 2, 0, 0]));
        let x = d.put("x.npy", vec![3], NpyData::I8(vec![1, 2, 3]));
        let x4 = d.put("x4.npy", vec![4], NpyData::I8(vec![1, 2, 3, 4]));
        let wi = d.put("wi.npy", vec![2, 3], NpyData::I32(vec![0; 6]));
        let wnan = d.put(
            "wnan.npy",
            vec![1, 3],
            NpyData::F32(vec![0.1, f32::NAN, 0.2]),
        );
        let ok_w = d.put("okw.npy", vec![2, 3], NpyData::I8(vec![1, 0, -1, 1, 0, 0]));
        let out = d.0.join("y.npy");
        let cases = [
            (args(w, x.clone(), out.clone()), "must be ternary"),
            (args(ok_w.clone(), x4, out.clone()), "K = 3"),
            (args(wi, x.clone(), out.clone()), "dtype int32"),
            (args(wnan, x.clone(), out.clone()), "finite"),
            (
                args(ok_w.clone(), x.clone(), ok_w.clone()),
                "overwrite an input",
            ),
        ];
        for (a, what) in cases {
            let e = format!("{:#}", run(&a).unwrap_err());
            assert!(e.contains(what), "expected `{what}` in: {e}");
            assert!(!out.exists(), "{} written after: {e}", out.display());
        }
        // Truncated file.
        let bytes = std::fs::read(&ok_w).unwrap();
        let cut = d.0.join("cut.npy");
        std::fs::write(&cut, &bytes[..bytes.len() - 2]).unwrap();
        let e = format!("{:#}", run(&args(cut, x, out.clone())).unwrap_err());
        assert!(e.contains("cut.npy") && e.contains("truncated"), "{e}");
        assert!(!out.exists());
    }

    /// Int8 inputs pass as they are; given scales give the dequantized floats.
    #[test]
    fn int8_inputs_with_given_scales() {
        let d = Dir::new("int8");
        let w = d.put("w.npy", vec![1, 4], NpyData::I8(vec![1, -1, 0, 1]));
        let x = d.put("x.npy", vec![4], NpyData::I8(vec![-128, 127, 5, 3]));
        let out = d.0.join("y.npy");
        let mut a = args(w, x, out.clone());
        a.gamma = Some(0.5);
        a.act_scale = Some(2.0);
        run(&a).unwrap();
        assert_eq!(
            NpyArray::read(&out).unwrap().as_i32().unwrap(),
            [-128 - 127 + 3]
        );
        let f = NpyArray::read(&float_path(&out)).unwrap();
        assert_eq!(f.shape(), [1]);
        assert_eq!(f.as_f32().unwrap(), [dequantize(-252, 2.0, 0.5)]);
    }
}
