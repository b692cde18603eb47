//! `hlsk conv adapt`: the digits CNN pretrained with the reference, then
//! fine-tuned on a shifted domain with every descriptor on the chosen
//! engine (`hls_rust::conv::adapt`, docs/adaptation.md): the whole network
//! and, with `--last-layers N`, only its last N layers with weights.

use super::{AdaptArgs, AdaptEngine, RTL_TIMING, progress_printer};
use anyhow::{Context, Result, anyhow, bail};
use hls_rust::conv::adapt::{
    AdaptConfig, AdaptRun, Mode, NOISE, Pretrained, SHIFT_DX, adapt_on, pretrain,
};
use hls_rust::conv::digits::Progress;
use hls_rust::conv::plan::TrainPlan;
use hls_rust::conv::{Executor, HwConfig, Op, Reference};
use hlsk_cosim::SocConfig;
use hlsk_cosim::configs::SOC_CONFIGS;
use hlsk_host::conv::place;
use hlsk_sim::conv::{RtlExecutor, hw_of};
use hlsk_sim::twin_exec::TwinExecutor;
use serde::Serialize;
use std::time::Instant;

/// The board whose SoC twin `--engine twin` drives.
const BOARD: &str = "ulx3s-conv";

/// One fine-tuning run as written to the JSON file.
#[derive(Serialize)]
struct RunJson {
    mode: String,
    trainable_layers: Vec<usize>,
    shifted_acc: f64,
    original_acc: f64,
    train_acc: f64,
    epoch_loss: Vec<f64>,
    steps: usize,
    descriptors_per_step: usize,
    engine_cycles: u64,
    fired: u64,
    test_cycles: u64,
    by_op: Vec<(String, usize, u64)>,
    stored_words: usize,
    gradient_words: usize,
    master_words: usize,
    bit_identical_to_reference: Option<bool>,
    wall_s: f64,
    reference_wall_s: Option<f64>,
    twin: Option<TwinJson>,
}

/// What the twin's link and engine did in a run, and its time on the board.
#[derive(Serialize, Clone, Copy)]
struct TwinJson {
    descriptors: u64,
    uploaded_words: u64,
    downloaded_words: u64,
    link_bytes: u64,
    board_link_s: f64,
    board_engine_s: f64,
    baud: u32,
    clk_hz: u64,
    twin_cycles: u64,
}

/// The memory a batch needs on the twin.
#[derive(Serialize)]
struct MemoryJson {
    batch: usize,
    image_words: usize,
    device_words: usize,
    largest_descriptor_words: usize,
    largest_batch_fitting: usize,
    largest_batch_whole_image: usize,
}

#[derive(Serialize)]
struct AdaptJson {
    commit: String,
    engine: String,
    seed: u64,
    pretrain_epochs: usize,
    epochs: usize,
    batch: usize,
    lr: f64,
    adapt_lr: f64,
    shift_dx: usize,
    noise: u8,
    adapt_images: usize,
    test_images: usize,
    replay_images: usize,
    pretrained_heldout_acc: f64,
    pretrained_shifted_acc: f64,
    pretrained_original_acc: f64,
    pretrain_wall_s: f64,
    memory: MemoryJson,
    runs: Vec<RunJson>,
}

/// Runs `hlsk conv adapt`.
pub fn run(a: &AdaptArgs) -> Result<()> {
    let soc = SocConfig::for_board(BOARD)
        .map(|i| SOC_CONFIGS[i])
        .ok_or_else(|| anyhow!("no twin build of {BOARD}"))?;
    let conv = soc
        .conv
        .ok_or_else(|| anyhow!("{BOARD}'s SoC has no convolution engine"))?;
    let hw = hw_of(&conv);
    let cfg = AdaptConfig {
        batch: a.batch,
        adapt_lr: a.lr,
        adapt_images: a.adapt_images,
        test_images: a.test_images,
        replay: a.replay,
        ..AdaptConfig::new(a.seed, a.pretrain_epochs, a.epochs, hw)
    };
    eprintln!(
        "pretraining the digits CNN with the fixed-point reference for {BOARD}'s engine (T = {}, \
         ACC_W/ACC_W_WU {}/{}), {} epochs, batch {}, seed {} ...",
        hw.t, hw.acc_w, hw.acc_w_wu, a.pretrain_epochs, a.batch, a.seed
    );
    let t0 = Instant::now();
    let pre = pretrain(&cfg, &mut progress_printer("pretraining".into()))?;
    let pretrain_s = t0.elapsed().as_secs_f64();
    let memory = memory_fit(&pre.trained.plan, 2 * soc.mem_words as usize)?;
    println!(
        "domain: held-out digits moved {SHIFT_DX} pixel right, inverted, noise -{NOISE}..={NOISE} \
         (seed {}): {} images to adapt on, {} to test (shifted and original); {} original \
         training images replayed in every fine-tuning epoch",
        a.seed,
        pre.split.adapt.len(),
        pre.split.test.len(),
        pre.replay.len()
    );
    println!(
        "memory: batch {} needs {} engine words as one image, the twin's memory holds {} \
         (largest batch as one image: {}); descriptor by descriptor the largest needs {} \
         (largest batch that fits: {})",
        memory.batch,
        memory.image_words,
        memory.device_words,
        memory.largest_batch_whole_image,
        memory.largest_descriptor_words,
        memory.largest_batch_fitting
    );
    if memory.largest_descriptor_words > memory.device_words && a.engine == AdaptEngine::Twin {
        bail!(
            "batch {} does not fit the twin's memory descriptor by descriptor; use --batch {} or less",
            a.batch,
            memory.largest_batch_fitting
        );
    }
    let mut modes = vec![Mode::Full];
    modes.extend(a.last_layers.map(Mode::LastLayers));
    let mut runs = Vec::new();
    for &mode in &modes {
        runs.push(fine_tune(a, &cfg, &pre, mode)?);
    }
    table(&pre, &runs, a.engine);
    let root = crate::boards_cli::root();
    let json = AdaptJson {
        commit: crate::results_cli::commit(&root).unwrap_or_else(|| "unknown".to_owned()),
        engine: format!("{:?}", a.engine).to_lowercase(),
        seed: a.seed,
        pretrain_epochs: a.pretrain_epochs,
        epochs: a.epochs,
        batch: a.batch,
        lr: cfg.lr,
        adapt_lr: cfg.adapt_lr,
        shift_dx: SHIFT_DX,
        noise: NOISE,
        adapt_images: pre.split.adapt.len(),
        test_images: pre.split.test.len(),
        replay_images: pre.replay.len(),
        pretrained_heldout_acc: pre.trained.report.test_acc,
        pretrained_shifted_acc: pre.shifted.accuracy(),
        pretrained_original_acc: pre.original.accuracy(),
        pretrain_wall_s: pretrain_s,
        memory,
        runs: runs.into_iter().map(|r| r.json).collect(),
    };
    let out = root.join("target/bench/adapt.json");
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    }
    std::fs::write(&out, serde_json::to_string_pretty(&json)? + "\n")
        .with_context(|| format!("{}", out.display()))?;
    println!("json: {}", out.display());
    Ok(())
}

/// The memory of `plan`'s batch on a device of `device_words` engine
/// words, and the largest batch whose every descriptor's regions fit.
fn memory_fit(plan: &TrainPlan, device_words: usize) -> Result<MemoryJson> {
    let largest = |p: &TrainPlan| {
        p.descriptors()
            .map(|d| place(d, p.hw.t).engine_words)
            .max()
            .unwrap_or(0)
    };
    let (mut fitting, mut whole) = (0, 0);
    for b in 1..=256 {
        let Ok(p) = TrainPlan::new(&plan.net, b, &plan.hw, plan.scales.clone(), 0.1) else {
            break;
        };
        if p.mem_words <= device_words {
            whole = b;
        }
        if largest(&p) > device_words {
            break;
        }
        fitting = b;
    }
    Ok(MemoryJson {
        batch: plan.batch,
        image_words: plan.mem_words,
        device_words,
        largest_descriptor_words: largest(plan),
        largest_batch_fitting: fitting,
        largest_batch_whole_image: whole,
    })
}

/// A finished mode: the engine's run and its JSON.
struct Done {
    run: AdaptRun,
    json: RunJson,
}

/// Fine-tunes in `mode` on the chosen engine; with the RTL or the twin,
/// also with the reference, and fails unless the two are bit-identical.
fn fine_tune(a: &AdaptArgs, cfg: &AdaptConfig, pre: &Pretrained, mode: Mode) -> Result<Done> {
    let label = format!("{mode} ({})", format!("{:?}", a.engine).to_lowercase());
    eprintln!("{label}: {} epochs, lr {} ...", a.epochs, a.lr);
    let mut show = progress_printer(label.clone());
    let t0 = Instant::now();
    let (run, twin) = match a.engine {
        AdaptEngine::Ref => (on(pre, cfg, mode, &mut Reference(cfg.hw), &mut show)?, None),
        AdaptEngine::Rtl => {
            let mut exec =
                RtlExecutor::new(a.build, a.seed as u32, RTL_TIMING).map_err(anyhow::Error::msg)?;
            same_numerics(&exec.hw(), &cfg.hw)?;
            (on(pre, cfg, mode, &mut exec, &mut show)?, None)
        }
        AdaptEngine::Twin => {
            let mut exec =
                TwinExecutor::connect(BOARD, a.seed as u32).map_err(anyhow::Error::msg)?;
            same_numerics(&exec.hw(), &cfg.hw)?;
            let run = on(pre, cfg, mode, &mut exec, &mut show)?;
            let board = hlsk_boards::load_board(&crate::boards_cli::root(), BOARD)?;
            let t = exec.board_time(board.clk_hz());
            let traffic = exec.traffic();
            let twin = TwinJson {
                descriptors: traffic.descriptors,
                uploaded_words: traffic.uploaded,
                downloaded_words: traffic.downloaded,
                link_bytes: t.link_bytes,
                board_link_s: t.link_s(),
                board_engine_s: t.engine_s(),
                baud: t.baud,
                clk_hz: t.clk_hz,
                twin_cycles: t.twin_cycles,
            };
            (run, Some(twin))
        }
    };
    let wall = t0.elapsed().as_secs_f64();
    let (identical, reference_wall) = if a.engine == AdaptEngine::Ref {
        (None, None)
    } else {
        eprintln!("{mode}: the same with the reference ...");
        let t1 = Instant::now();
        let r = on(pre, cfg, mode, &mut Reference(cfg.hw), &mut |_| {})?;
        if let Some(d) = run.bit_difference(&r) {
            bail!("{label} differs from the reference (engine against reference): {d}");
        }
        (Some(true), Some(t1.elapsed().as_secs_f64()))
    };
    let json = RunJson {
        mode: mode.to_string(),
        trainable_layers: run.trainable.clone(),
        shifted_acc: run.shifted.accuracy(),
        original_acc: run.original.accuracy(),
        train_acc: run.train_acc,
        epoch_loss: run.epoch_loss.clone(),
        steps: run.steps,
        descriptors_per_step: run.descriptors_per_step,
        engine_cycles: run.training.cycles,
        fired: run.training.fired,
        test_cycles: run.shifted.executed.cycles + run.original.executed.cycles,
        by_op: run
            .by_op
            .iter()
            .map(|(op, n, s)| (op.to_string(), *n, s.cycles))
            .collect(),
        stored_words: run.memory.stored,
        gradient_words: run.memory.gradients,
        master_words: run.memory.masters,
        bit_identical_to_reference: identical,
        wall_s: wall,
        reference_wall_s: reference_wall,
        twin,
    };
    Ok(Done { run, json })
}

fn on(
    pre: &Pretrained,
    cfg: &AdaptConfig,
    mode: Mode,
    exec: &mut impl Executor,
    show: &mut dyn FnMut(&Progress),
) -> Result<AdaptRun> {
    Ok(adapt_on(pre, cfg, mode, exec, show)?)
}

/// The engine computes what the plan's configuration does: same T and
/// accumulator widths (buffers and memory timing change cycles only).
fn same_numerics(engine: &HwConfig, plan: &HwConfig) -> Result<()> {
    if (engine.t, engine.acc_w, engine.acc_w_wu) != (plan.t, plan.acc_w, plan.acc_w_wu) {
        bail!(
            "the engine's T, ACC_W, ACC_W_WU ({}, {}, {}) differ from {BOARD}'s ({}, {}, {})",
            engine.t,
            engine.acc_w,
            engine.acc_w_wu,
            plan.t,
            plan.acc_w,
            plan.acc_w_wu
        );
    }
    Ok(())
}

fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

fn table(pre: &Pretrained, runs: &[Done], engine: AdaptEngine) {
    println!(
        "\npretrained: {} on the whole held-out split ({} images)",
        pct(pre.trained.report.test_acc),
        pre.trained.report.test_total
    );
    println!(
        "\n| | shifted test | original test | fine-tuning engine cycles | descriptors per step \
         (BP, WU) | stored activations | gradients | master weights | bit-identical to the \
         reference | wall |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| pretrained | {} | {} | | | | | | | |",
        pct(pre.shifted.accuracy()),
        pct(pre.original.accuracy())
    );
    for d in runs {
        let (r, j) = (&d.run, &d.json);
        let per_step = |op| {
            r.by_op
                .iter()
                .find(|e| e.0 == op)
                .map_or(0, |e| e.1 / r.steps.max(1))
        };
        println!(
            "| {} | {} | {} | {:.2} M | {} ({}, {}) | {} | {} | {} | {} | {:.1} s |",
            r.mode,
            pct(r.shifted.accuracy()),
            pct(r.original.accuracy()),
            r.training.cycles as f64 / 1e6,
            r.descriptors_per_step,
            per_step(Op::Bp),
            per_step(Op::Wu),
            r.memory.stored,
            r.memory.gradients,
            r.memory.masters,
            match j.bit_identical_to_reference {
                Some(true) => "yes",
                Some(false) => "no",
                None => "(reference)",
            },
            j.wall_s
        );
    }
    println!(
        "\nengine: {engine:?}; cycles are the executor's busy cycles over the fine-tuning steps \
         (test passes not included); memory in 16-bit words"
    );
    for d in runs {
        if let Some(t) = d.json.twin {
            println!(
                "{}: on the board, {} descriptors (fine-tuning and both test passes) moved {} \
                 engine words up and {} down: {} link bytes = {:.1} s at {} baud, engine {:.3} s \
                 at {:.0} MHz (the twin simulated {} cycles)",
                d.run.mode,
                t.descriptors,
                t.uploaded_words,
                t.downloaded_words,
                t.link_bytes,
                t.board_link_s,
                t.baud,
                t.board_engine_s,
                t.clk_hz as f64 / 1e6,
                t.twin_cycles
            );
        }
    }
}
