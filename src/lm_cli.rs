//! `hlsk lm`: the ternary character-level language model (crate `hlsk-lm`):
//! training, generation on the reference, the Verilated engine or a board's
//! twin, evaluation and a benchmark.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use hlsk_lm::checkpoint::{self, Checkpoint};
use hlsk_lm::data::Corpus;
use hlsk_lm::generate::{Generation, Sampling, bits_per_char, generate};
use hlsk_lm::model::Model;
use std::path::PathBuf;
use std::time::Instant;

/// Subcommands of `hlsk lm`.
#[derive(Subcommand)]
pub enum LmCmd {
    /// Train the model with QAT on the CPU (candle) and write a checkpoint.
    Train(TrainArgs),
    /// Generate text after a prompt: prefill, then decode with a KV cache.
    Generate(GenerateArgs),
    /// Bits per character on the validation split through an engine.
    Eval(EvalArgs),
    /// Tokens per second and the per-token breakdown; writes JSON.
    Bench(BenchArgs),
}

/// Where the ternary products run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineKind {
    /// `hls_rust::tlmm::golden` on the host.
    Ref,
    /// The Verilated TLMM engine (`--build`).
    Rtl,
    /// A board's digital twin through its UART host link (`--board`).
    Twin,
}

/// The engine options shared by the inference commands.
#[derive(Args, Debug, Clone)]
pub struct EngineArgs {
    /// Where the ternary matrix products run.
    #[arg(long, value_enum, default_value = "ref")]
    engine: EngineKind,
    /// The TLMM build for `--engine rtl` (`hlsk tlmm builds`).
    #[arg(long, default_value_t = 0)]
    build: usize,
    /// The board whose twin runs the products for `--engine twin`.
    #[arg(long)]
    board: Option<String>,
    /// `--engine twin`: upload each product's weights with it instead of
    /// loading them once (for boards whose memory cannot hold the model;
    /// about 350 KB over the link per token).
    #[arg(long)]
    stream_weights: bool,
    /// The checkpoint (default: the committed one).
    #[arg(long)]
    checkpoint: Option<PathBuf>,
}

/// `hlsk lm train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Optimizer steps.
    #[arg(long, default_value_t = 1500)]
    steps: usize,
    /// Seed of the initial weights and the batches.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Sequences per step.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 2e-3)]
    lr: f64,
    /// Where to write the checkpoint.
    #[arg(long, default_value = checkpoint::DEFAULT)]
    out: PathBuf,
    /// Validation windows (of the context) for the final bits per character.
    #[arg(long, default_value_t = 200)]
    eval_windows: usize,
    /// Train an unquantized f32 model of the same shape instead (the
    /// baseline for the ternary one): prints its validation bits per
    /// character and those of its weights quantized after training, and
    /// writes no checkpoint.
    #[arg(long)]
    f32: bool,
}

/// `hlsk lm generate`.
#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// The text to continue.
    #[arg(long, default_value = "ROMEO:")]
    prompt: String,
    /// Characters to generate (the context caps prompt + output).
    #[arg(long, default_value_t = 100)]
    tokens: usize,
    /// Sample at this temperature instead of greedy decoding.
    #[arg(long)]
    temperature: Option<f32>,
    /// Seed of the sampler.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    engine: EngineArgs,
}

/// `hlsk lm eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Validation windows of the context length (from the split's start).
    #[arg(long, default_value_t = 20)]
    windows: usize,
    #[command(flatten)]
    engine: EngineArgs,
}

/// `hlsk lm bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// The prompt to prefill.
    #[arg(long, default_value = "ROMEO:")]
    prompt: String,
    /// Decode steps.
    #[arg(long, default_value_t = 32)]
    tokens: usize,
    /// Link baud rate for the projected board figure.
    #[arg(long, default_value_t = 115_200)]
    baud: u64,
    /// Board clock for the projection, MHz.
    #[arg(long, default_value_t = 12.0)]
    clock_mhz: f64,
    /// Where to write the JSON report.
    #[arg(long, default_value = "target/bench/lm.json")]
    json: PathBuf,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Runs an `hlsk lm` subcommand.
pub fn run(cmd: LmCmd) -> Result<()> {
    match cmd {
        LmCmd::Train(a) => training::train(&a),
        LmCmd::Generate(a) => gen_cmd(&a),
        LmCmd::Eval(a) => eval(&a),
        LmCmd::Bench(a) => bench::run(&a),
    }
}

fn load(a: &EngineArgs) -> Result<Model> {
    let ck = match &a.checkpoint {
        Some(p) => Checkpoint::load(p)?,
        None => Checkpoint::load_default()?,
    };
    Ok(Model::new(ck))
}

/// `hlsk lm train`, in a build with the `lm-train` feature (default).
#[cfg(feature = "lm-train")]
mod training {
    use super::TrainArgs;
    use anyhow::Result;
    use hlsk_lm::checkpoint::Provenance;
    use hlsk_lm::data::{Corpus, Vocab};
    use hlsk_lm::model::Config;
    use hlsk_lm::train::{Precision, TrainConfig, Trainer};
    use std::time::Instant;

    pub fn train(a: &TrainArgs) -> Result<()> {
        let corpus = Corpus::load()?;
        let vocab = Vocab::of(corpus.text());
        let train_ids = vocab.encode(corpus.train())?;
        let val_ids = vocab.encode(corpus.validation())?;
        let model = Config::small(vocab.len());
        let mut cfg = TrainConfig::new(model, a.seed, a.steps);
        cfg.batch = a.batch;
        cfg.lr = a.lr;
        if a.f32 {
            cfg.precision = Precision::F32;
        }
        println!(
            "training {} {} + {} f32 parameters ({model:?}) on {} characters, \
             {} steps of {} x {}, seed {}",
            model.ternary_params(),
            if a.f32 {
                "f32 (unquantized model)"
            } else {
                "ternary"
            },
            model.f32_params(),
            train_ids.len(),
            a.steps,
            a.batch,
            model.ctx,
            a.seed
        );
        let mut trainer = Trainer::new(cfg)?;
        let start = Instant::now();
        let steps = a.steps;
        let mut report = |r: hlsk_lm::train::StepReport| {
            let done = r.step + 1;
            if done.is_multiple_of(10) || done == steps || done == 1 {
                let el = start.elapsed().as_secs_f64();
                let eta = el / done as f64 * (steps - done) as f64;
                eprintln!(
                    "step {done}/{steps} loss {:.3} ({:.3} bit/char) lr {:.2e} elapsed {} about {} left",
                    r.loss,
                    r.loss / std::f32::consts::LN_2,
                    r.lr,
                    hms(el),
                    hms(eta)
                );
            }
        };
        let loss = trainer.train(&train_ids, &mut report)?;
        let seconds = start.elapsed().as_secs_f64();
        let bpc_q = trainer.bits_per_char(&val_ids, Precision::Ternary, a.eval_windows)?;
        let bpc_f = trainer.bits_per_char(&val_ids, Precision::F32, a.eval_windows)?;
        if a.f32 {
            println!(
                "trained the f32 model in {}; validation ({} windows of {}): {bpc_f:.4} bit/char \
                 (f32), {bpc_q:.4} bit/char with its weights and activations quantized after \
                 training; final training loss {loss:.4} nats/char; no checkpoint written",
                hms(seconds),
                a.eval_windows,
                model.ctx
            );
            return Ok(());
        }
        println!(
            "trained in {}; validation ({} windows of {}): {bpc_q:.4} bit/char fake-quantized (QAT forward), \
             {bpc_f:.4} bit/char with the latent f32 weights unquantized",
            hms(seconds),
            a.eval_windows,
            model.ctx
        );
        let provenance = Provenance {
            command: std::env::args().collect::<Vec<_>>().join(" "),
            seed: a.seed,
            steps: a.steps,
            batch: a.batch,
            seconds,
            train_loss: loss,
        };
        let ck = trainer.export(&vocab, provenance)?;
        if let Some(dir) = a.out.parent() {
            std::fs::create_dir_all(dir).ok();
        }
        ck.save(&a.out)?;
        println!("wrote {}", a.out.display());
        Ok(())
    }

    fn hms(s: f64) -> String {
        let s = s.max(0.0) as u64;
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    }
}

/// `hlsk lm train` refused in a build without candle.
#[cfg(not(feature = "lm-train"))]
mod training {
    use super::TrainArgs;
    use anyhow::{Result, bail};

    pub fn train(_: &TrainArgs) -> Result<()> {
        bail!(
            "`hlsk lm train` needs candle, and this hlsk was built without it \
             (`--no-default-features`, as `make` builds it); run it as \
             `cargo run --release -p hlsk -- lm train` (default features)"
        )
    }
}

fn gen_cmd(a: &GenerateArgs) -> Result<()> {
    let model = load(&a.engine)?;
    let sampling = match a.temperature {
        Some(t) if !(t.is_finite() && t > 0.0) => bail!("--temperature must be > 0, got {t}"),
        Some(temperature) => Sampling::Temperature {
            temperature,
            seed: a.seed,
        },
        None => Sampling::Greedy,
    };
    let mut engine = engines::make(&a.engine, &model)?;
    let g = generate(
        &model,
        a.prompt.as_bytes(),
        a.tokens,
        sampling,
        engine.as_mut(),
    )
    .with_context(|| format!("generating on {}", engine.name()))?;
    println!("{}{}", a.prompt, g.text);
    if g.tokens.len() < a.tokens {
        eprintln!(
            "stopped after {} characters: prompt and output fill the model's context of {}",
            g.tokens.len(),
            model.config().ctx
        );
    }
    eprintln!("{}", summary(&g, &engine.name()));
    Ok(())
}

fn summary(g: &Generation, engine: &str) -> String {
    let rate = |n: usize, t: std::time::Duration| n as f64 / t.as_secs_f64().max(1e-9);
    format!(
        "[{engine}] prefill {} tokens in {:.3} s ({:.1} tok/s), decode {} tokens in {:.3} s ({:.1} tok/s)",
        g.prompt_tokens,
        g.prefill_time.as_secs_f64(),
        rate(g.prompt_tokens, g.prefill_time),
        g.tokens.len().saturating_sub(1),
        g.decode_time.as_secs_f64(),
        rate(g.tokens.len().saturating_sub(1), g.decode_time)
    )
}

fn eval(a: &EvalArgs) -> Result<()> {
    let model = load(&a.engine)?;
    let corpus = Corpus::load()?;
    let ids = model.checkpoint().vocab.encode(corpus.validation())?;
    let mut engine = engines::make(&a.engine, &model)?;
    let t0 = Instant::now();
    let bpc = bits_per_char(&model, &ids, a.windows, engine.as_mut())?;
    let ctx = model.config().ctx;
    let windows = a.windows.min(ids.len().saturating_sub(ctx + 1) / ctx + 1);
    println!(
        "validation bits per character through {}: {bpc:.4} ({windows} windows of {ctx} characters, {:.1} s)",
        engine.name(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(not(feature = "cosim"))]
mod engines {
    use super::{EngineArgs, EngineKind};
    use anyhow::Result;
    use hlsk_lm::model::{Engine, Model, Reference};

    pub fn make(a: &EngineArgs, _: &Model) -> Result<Box<dyn Engine>> {
        match a.engine {
            EngineKind::Ref => Ok(Box::new(Reference)),
            EngineKind::Rtl | EngineKind::Twin => Err(crate::cosim_missing(&format!(
                "lm generate/eval/bench --engine {}",
                if a.engine == EngineKind::Rtl {
                    "rtl"
                } else {
                    "twin"
                }
            ))),
        }
    }
}

#[cfg(feature = "cosim")]
mod engines {
    use super::{EngineArgs, EngineKind};
    use anyhow::{Result, bail};
    use hlsk_lm::engines::RtlEngine;
    use hlsk_lm::model::{Engine, Model, Reference};

    pub fn make(a: &EngineArgs, model: &Model) -> Result<Box<dyn Engine>> {
        if a.engine != EngineKind::Twin && (a.board.is_some() || a.stream_weights) {
            bail!("--board and --stream-weights go with --engine twin");
        }
        Ok(match a.engine {
            EngineKind::Ref => Box::new(Reference),
            EngineKind::Rtl => {
                Box::new(RtlEngine::new(a.build, model.config(), 1).map_err(anyhow::Error::msg)?)
            }
            EngineKind::Twin => {
                let Some(board) = a.board.as_deref() else {
                    bail!("--engine twin needs --board (see `hlsk boards`)");
                };
                Box::new(super::twin(board, a.stream_weights, model)?)
            }
        })
    }
}

/// `board`'s twin with the model's weights loaded once (a progress line
/// while they load), or uploaded with every product.
#[cfg(feature = "cosim")]
fn twin(board: &str, stream: bool, model: &Model) -> Result<hlsk_lm::engines::TwinEngine> {
    use hlsk_lm::engines::TwinEngine;
    if stream {
        eprintln!(
            "note: every product uploads its weights over the link (about 350 KB per token, \
             seconds per token on the twin)"
        );
        return TwinEngine::streaming(board, 1).map_err(anyhow::Error::msg);
    }
    let t0 = std::time::Instant::now();
    let mut last = 0;
    let e = TwinEngine::resident(board, model.checkpoint(), 1, &mut |done, total| {
        let pct = done * 100 / total.max(1);
        if pct >= last + 10 || done == total {
            last = pct;
            eprint!(
                "\rloading the weights into the {board} twin: {done} of {total} words ({pct} %)"
            );
        }
    })
    .map_err(|e| anyhow::anyhow!("{e}\n(`--stream-weights` uploads them with every product)"))?;
    eprintln!(" in {:.1} s", t0.elapsed().as_secs_f64());
    Ok(e)
}

mod bench {
    use super::{BenchArgs, EngineKind, load};
    use anyhow::{Context, Result, bail};
    use hlsk_lm::generate::{Generation, Sampling, generate};
    use hlsk_lm::model::{BitLinear, Engine, Model, Reference, Traffic};
    use serde::Serialize;

    /// An engine that returns zeros: the host's own share of a token.
    struct HostOnly;

    impl Engine for HostOnly {
        fn matmul(&mut self, l: &BitLinear, _: &[i8], t: usize) -> Result<Vec<i32>, String> {
            Ok(vec![0; t * l.w.m()])
        }
        fn name(&self) -> String {
            "host only (products skipped)".into()
        }
    }

    /// One phase (prefill or decode) of one engine.
    #[derive(Debug, Serialize)]
    struct Phase {
        tokens: usize,
        wall_s: f64,
        tokens_per_s: f64,
        /// Simulated engine busy cycles per token (rtl only).
        engine_cycles_per_token: Option<f64>,
        /// Simulated clock cycles per token, job overhead included (rtl only).
        sim_cycles_per_token: Option<f64>,
        macs_per_token: f64,
        /// Int8 activations + int32 results per token (weights resident).
        link_bytes_per_token: f64,
        /// Bytes both ways on the twin's link per token (weights uploaded
        /// with every product, framing, status polls).
        measured_link_bytes_per_token: Option<f64>,
    }

    #[derive(Debug, Serialize)]
    struct Projection {
        clock_mhz: f64,
        baud: u64,
        /// False when the twin streamed the weights (`--stream-weights`):
        /// then the measured link bytes include them.
        weights_resident: bool,
        engine_s_per_token: f64,
        /// From the twin's measured bytes per token when it ran, else from
        /// the activations and results plus framing.
        link_bytes_per_token: f64,
        link_s_per_token: f64,
        host_s_per_token: f64,
        tokens_per_s: f64,
        /// The same with the weights uploaded per token (no residency).
        weight_bytes_per_token: f64,
        tokens_per_s_weights_streamed: f64,
    }

    #[derive(Debug, Serialize)]
    struct Report {
        engine: String,
        prompt: String,
        ternary_params: usize,
        prefill: Phase,
        decode: Phase,
        host_only_decode_s_per_token: f64,
        reference_decode_tokens_per_s: f64,
        projection: Option<Projection>,
        text: String,
    }

    fn phase(tokens: usize, wall: f64, t: &Traffic, cycles: Option<(u64, u64, u64)>) -> Phase {
        let n = tokens.max(1) as f64;
        Phase {
            tokens,
            wall_s: wall,
            tokens_per_s: tokens as f64 / wall.max(1e-12),
            engine_cycles_per_token: cycles.map(|c| c.0 as f64 / n),
            sim_cycles_per_token: cycles.map(|c| c.1 as f64 / n),
            macs_per_token: t.macs as f64 / n,
            link_bytes_per_token: (t.act_bytes + 4 * t.result_words) as f64 / n,
            measured_link_bytes_per_token: cycles.filter(|c| c.2 > 0).map(|c| c.2 as f64 / n),
        }
    }

    pub fn run(a: &BenchArgs) -> Result<()> {
        let model = load(&a.engine)?;
        let cfg = model.config();
        let prompt = a.prompt.as_bytes();
        let n = a.tokens;
        // The reference, and the host's share alone.
        let r = generate(&model, prompt, n, Sampling::Greedy, &mut Reference)?;
        let decoded = r.tokens.len().saturating_sub(1);
        let ref_decode = decoded as f64 / r.decode_time.as_secs_f64().max(1e-12);
        let h = generate(&model, prompt, n, Sampling::Greedy, &mut HostOnly)?;
        let host_s = h.decode_time.as_secs_f64() / (h.tokens.len().saturating_sub(1)).max(1) as f64;
        println!(
            "model: {} ternary weights, {} f32; prompt {:?} ({} tokens), {n} generated",
            cfg.ternary_params(),
            cfg.f32_params(),
            a.prompt,
            r.prompt_tokens
        );
        let (g, cycles) = run_engine(a, &model, &r)?;
        let prefill = phase(
            g.prompt_tokens,
            g.prefill_time.as_secs_f64(),
            &g.prefill_traffic,
            cycles.map(|c| c.0),
        );
        let decode = phase(
            decoded,
            g.decode_time.as_secs_f64(),
            &g.decode_traffic,
            cycles.map(|c| c.1),
        );
        let projection = decode.engine_cycles_per_token.map(|cyc| {
            let engine_s = cyc / (a.clock_mhz * 1e6);
            // 10 bits per byte on the UART, plus a frame per product
            // (header and CRC; the protocol's ~8 bytes).
            // The twin's measured traffic (framing, status polls, and the
            // weights when they are streamed) when there is one.
            let frame = 8.0 * 2.0 * (g.decode_traffic.products as f64 / decoded.max(1) as f64);
            let link_bytes = decode
                .measured_link_bytes_per_token
                .unwrap_or(decode.link_bytes_per_token + frame);
            let link_s = link_bytes * 10.0 / a.baud as f64;
            let w_bytes = weight_bytes(&model, a.engine.build);
            let streamed_s = engine_s + link_s + host_s + w_bytes * 10.0 / a.baud as f64;
            Projection {
                clock_mhz: a.clock_mhz,
                baud: a.baud,
                weights_resident: !a.engine.stream_weights,
                engine_s_per_token: engine_s,
                link_bytes_per_token: link_bytes,
                link_s_per_token: link_s,
                host_s_per_token: host_s,
                tokens_per_s: 1.0 / (engine_s + link_s + host_s),
                weight_bytes_per_token: w_bytes,
                tokens_per_s_weights_streamed: 1.0 / streamed_s,
            }
        });
        let report = Report {
            engine: a.engine.engine_name(),
            prompt: a.prompt.clone(),
            ternary_params: cfg.ternary_params(),
            prefill,
            decode,
            host_only_decode_s_per_token: host_s,
            reference_decode_tokens_per_s: ref_decode,
            projection,
            text: g.text.clone(),
        };
        print_report(&report);
        if let Some(dir) = a.json.parent() {
            std::fs::create_dir_all(dir).ok();
        }
        std::fs::write(&a.json, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", a.json.display()))?;
        println!("wrote {}", a.json.display());
        if a.engine.engine != EngineKind::Ref && g.tokens != r.tokens {
            bail!("the engine's tokens differ from the reference's");
        }
        Ok(())
    }

    fn print_report(r: &Report) {
        for (name, p) in [("prefill", &r.prefill), ("decode", &r.decode)] {
            print!(
                "{:<8} {:>3} tokens  {:>9.3} s wall  {:>9.2} tok/s  {:>8.0} MAC/token  {:>6.0} link B/token",
                name, p.tokens, p.wall_s, p.tokens_per_s, p.macs_per_token, p.link_bytes_per_token
            );
            if let (Some(e), Some(s)) = (p.engine_cycles_per_token, p.sim_cycles_per_token) {
                print!("  {e:>9.0} engine cycles/token  {s:>9.0} simulated cycles/token");
            }
            if let Some(b) = p.measured_link_bytes_per_token {
                print!("  {b:.0} B/token measured on the link");
            }
            println!();
        }
        println!(
            "host share (norms, attention, softmax, head, quantization): {:.3} ms/token; reference decode {:.1} tok/s",
            r.host_only_decode_s_per_token * 1e3,
            r.reference_decode_tokens_per_s
        );
        if let Some(p) = &r.projection {
            println!(
                "projected board decode at {} MHz, {} baud, weights {}: engine {:.2} ms + link {:.2} ms ({:.0} B) + host {:.2} ms = {:.2} tok/s",
                p.clock_mhz,
                p.baud,
                if p.weights_resident {
                    "resident"
                } else {
                    "streamed"
                },
                p.engine_s_per_token * 1e3,
                p.link_s_per_token * 1e3,
                p.link_bytes_per_token,
                p.host_s_per_token * 1e3,
                p.tokens_per_s
            );
            println!(
                "  with the weights uploaded per token ({:.0} B/token, `--stream-weights`): {:.4} tok/s",
                p.weight_bytes_per_token, p.tokens_per_s_weights_streamed
            );
        }
        println!("text: {:?}", r.text);
    }

    #[cfg(not(feature = "cosim"))]
    fn weight_bytes(model: &Model, _: usize) -> f64 {
        // G = 3 codes: 5 bits per 3 weights.
        model.config().ternary_params() as f64 * 5.0 / 3.0 / 8.0
    }

    #[cfg(feature = "cosim")]
    fn weight_bytes(model: &Model, build: usize) -> f64 {
        let c = hlsk_cosim::configs::TLMM_CONFIGS
            .get(build)
            .copied()
            .unwrap_or(hlsk_cosim::configs::TLMM_CONFIGS[0]);
        let cw = hls_rust::tlmm::Grouping::new(c.g as usize)
            .map(|g| g.code_width())
            .unwrap_or(5);
        model.config().ternary_params() as f64 * f64::from(cw) / f64::from(c.g) / 8.0
    }

    /// Per phase (prefill, decode): engine cycles, simulated cycles, bytes
    /// measured on the link (0 for the bare engine).
    type Cycles = Option<((u64, u64, u64), (u64, u64, u64))>;

    #[cfg(not(feature = "cosim"))]
    fn run_engine(a: &BenchArgs, _: &Model, r: &Generation) -> Result<(Generation, Cycles)> {
        match a.engine.engine {
            EngineKind::Ref => Ok((r.clone(), None)),
            _ => Err(crate::cosim_missing("lm bench --engine rtl|twin")),
        }
    }

    #[cfg(feature = "cosim")]
    fn run_engine(a: &BenchArgs, model: &Model, r: &Generation) -> Result<(Generation, Cycles)> {
        use hlsk_lm::engines::RtlEngine;
        match a.engine.engine {
            EngineKind::Ref => Ok((r.clone(), None)),
            EngineKind::Twin => {
                use hlsk_lm::engines::TwinEngine;
                let board = a.engine.board.as_deref().unwrap_or_default();
                let counts = |e: &mut TwinEngine| {
                    let (tx, rx) = e.link_bytes();
                    (e.job_cycles, e.sim_cycles(), tx + rx)
                };
                let diff =
                    |a: (u64, u64, u64), b: (u64, u64, u64)| (a.0 - b.0, a.1 - b.1, a.2 - b.2);
                // Prefill alone first, to split the counts.
                let stream = a.engine.stream_weights;
                let mut e = super::twin(board, stream, model)?;
                let c0 = counts(&mut e);
                generate(model, a.prompt.as_bytes(), 1, Sampling::Greedy, &mut e)?;
                let pre = diff(counts(&mut e), c0);
                let mut e = super::twin(board, stream, model)?;
                let c0 = counts(&mut e);
                let g = generate(
                    model,
                    a.prompt.as_bytes(),
                    a.tokens,
                    Sampling::Greedy,
                    &mut e,
                )?;
                let all = diff(counts(&mut e), c0);
                Ok((g, Some((pre, diff(all, pre)))))
            }
            EngineKind::Rtl => {
                let mut e = RtlEngine::new(a.engine.build, model.config(), 1)
                    .map_err(anyhow::Error::msg)?;
                // Prefill alone first, to split the cycle counts.
                let c0 = e.cycles();
                generate(model, a.prompt.as_bytes(), 1, Sampling::Greedy, &mut e)?;
                let pre = (e.busy_cycles, e.cycles() - c0, 0);
                let mut e = RtlEngine::new(a.engine.build, model.config(), 1)
                    .map_err(anyhow::Error::msg)?;
                let c0 = e.cycles();
                let g = generate(
                    model,
                    a.prompt.as_bytes(),
                    a.tokens,
                    Sampling::Greedy,
                    &mut e,
                )?;
                let all = (e.busy_cycles, e.cycles() - c0);
                let dec = (all.0 - pre.0, all.1.saturating_sub(pre.1), 0);
                Ok((g, Some((pre, dec))))
            }
        }
    }
}

impl EngineArgs {
    fn engine_name(&self) -> String {
        match self.engine {
            EngineKind::Ref => "ref".into(),
            EngineKind::Rtl => format!("rtl build {}", self.build),
            EngineKind::Twin => format!("twin of {}", self.board.as_deref().unwrap_or("?")),
        }
    }
}
