//! `hlsk run`: one TLMM job on a board's SoC through the host link, over a
//! serial port or the digital twin, checked against the reference model;
//! where the SoC carries the convolution engine, also a convolution FP job
//! checked against `hls_rust::conv::exec::run_descriptor`.

use crate::boards_cli::BoardArg;
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use hls_rust::digits::Digits;
use hls_rust::rng::Rng;
use hls_rust::tlmm::TernaryMatrix;
use hls_rust::tlmm::mlp::TernaryMlp;
use hls_rust::tlmm::quant::quantize_activations_absmax;
use hlsk_cosim::ConvConfig;
use hlsk_host::conv::{ConvJob, ConvOutcome, DEMO_FP, run_conv};
use hlsk_host::job::{JobOutcome, Progress, run_tlmm};
use hlsk_host::proto::Counter;
use hlsk_host::{Link, LinkConfig, SerialTransport, Transport};
use hlsk_sim::twin::{BoardTime, Twin};
use hlsk_sim::twin_pty::PtyTwin;
use std::io::Write;
use std::time::Instant;

/// Where the job's weights and activations come from.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Data {
    /// Random ternary weights (30 % zeros) and int8 activations.
    Random,
    /// Layer 1 of the ternary digits MLP (trained here) on a test image.
    Digits,
}

/// Arguments of `hlsk run`.
#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    board: BoardArg,
    /// Run on the digital twin (the Verilated SoC behind a UART model)
    /// instead of a board on a serial port.
    #[arg(long)]
    twin: bool,
    /// Serial port of the board (the iCEBreaker's FTDI UART is usually the
    /// second interface, /dev/ttyUSB1).
    #[arg(long, default_value = "/dev/ttyUSB1")]
    port: String,
    /// UART baud rate of the SoC's host link (default: the board file's
    /// `[uart] baud`, which the bitstream's divider is built for).
    #[arg(long)]
    baud: Option<u32>,
    /// Job data.
    #[arg(long, value_enum, default_value = "random")]
    data: Data,
    /// Output rows M (random data).
    #[arg(long, default_value_t = 16)]
    m: usize,
    /// Activations K (random data; default: the engine's KMax).
    #[arg(long)]
    k: Option<usize>,
    /// Seed of the random data, the training and the twin's power-up state.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Arguments of `hlsk twin`.
#[derive(Args)]
pub struct TwinArgs {
    #[command(flatten)]
    board: BoardArg,
    /// Seed of the twin's power-up state.
    #[arg(long, default_value_t = 1)]
    seed: u32,
    /// Stop after this many seconds (default: run until interrupted).
    #[arg(long)]
    seconds: Option<f64>,
}

/// Runs `hlsk twin`: the twin on a pseudo-terminal, with a progress line
/// every five seconds.
pub fn serve_twin(args: &TwinArgs) -> Result<()> {
    let twin = PtyTwin::spawn(&args.board.board, args.seed)?;
    let path = twin.path().display().to_string();
    println!("hlsk twin: {} on {path}", twin.name());
    println!(
        "  connect with `hlsk run --board {} --port {path}`; Ctrl-C stops it",
        args.board.board
    );
    let clk = f64::from(twin.clk_hz());
    let t0 = Instant::now();
    let mut next = 5.0;
    loop {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let t = t0.elapsed().as_secs_f64();
        if !twin.is_running() {
            twin.stop()?;
            bail!("the digital twin stopped");
        }
        if t >= next {
            let c = twin.cycles() as f64;
            println!(
                "  {t:.0} s: {c:.0} cycles simulated ({:.1} ms of device time)",
                c / clk * 1e3
            );
            next += 5.0;
        }
        if args.seconds.is_some_and(|s| t >= s) {
            twin.stop()?;
            return Ok(());
        }
    }
}

/// Runs `hlsk run`.
pub fn run(args: &RunArgs) -> Result<()> {
    // Fails early, naming the board file and what is wrong with it.
    let board = hlsk_boards::load_board(&crate::boards_cli::root(), &args.board.board)?;
    let board_baud = board.uart.baud;
    let file = format!("boards/{}.toml", args.board.board);
    if let Some(b) = args.baud.filter(|&b| b != board_baud) {
        if args.twin {
            eprintln!(
                "warning: --baud {b} ignored: the twin runs at {file}'s [uart] baud = \
                 {board_baud}, as the bitstream does"
            );
        } else {
            eprintln!(
                "warning: --baud {b} differs from {file}'s [uart] baud = {board_baud}, which the \
                 bitstream's UART divider is built for; the link works only if the bitstream \
                 was built for {b} (set [uart] baud and `hlsk build`)"
            );
        }
    }
    let baud = args.baud.unwrap_or(board_baud);
    if args.twin {
        let t0 = Instant::now();
        let twin = Twin::for_board(&args.board.board, args.seed as u32)?;
        let cfg = twin.config();
        println!(
            "hlsk run: {} (Verilated hlsk_soc_top, {} baud, {} clocks per UART bit)",
            twin.name(),
            cfg.baud,
            hlsk_cosim::SocConfig::TWIN_CLKS_PER_BIT
        );
        let config = LinkConfig {
            baud: cfg.baud,
            ..LinkConfig::default()
        };
        let clk = cfg.clk_hz();
        let conv = cfg.conv;
        let mut link = Link::connect(twin, config).context("connecting to the digital twin")?;
        let before = link.transport().cycles();
        let (s0, c0) = (link.stats(), before);
        let (ok, job_cycles) = job(&mut link, args)?;
        let s1 = link.stats();
        let t = BoardTime {
            link_bytes: s1.bytes_sent + s1.bytes_received - s0.bytes_sent - s0.bytes_received,
            baud: cfg.baud,
            engine_cycles: u64::from(job_cycles),
            clk_hz: board.clk_hz(),
            twin_cycles: link.transport().cycles() - c0,
            twin_clk_hz: clk,
        };
        println!(
            "  on the board ({file}: {:.3} MHz, {} baud): link {} bytes = {:.2} ms, engine {} \
             cycles = {:.1} us, job {:.2} ms (the twin simulated {:.2} ms at its {:.1} MHz)",
            board.clk_hz() as f64 / 1e6,
            cfg.baud,
            t.link_bytes,
            t.link_s() * 1e3,
            t.engine_cycles,
            t.engine_s() * 1e6,
            t.job_s() * 1e3,
            t.twin_s() * 1e3,
            f64::from(clk) / 1e6
        );
        let ok = ok & conv_job(&mut link, conv, args.seed)?;
        let sim = (link.transport().cycles() - before) as f64;
        println!(
            "twin: {sim:.0} cycles simulated ({:.1} ms of device time at {:.4} MHz) in {:.2} s",
            sim / f64::from(clk) * 1e3,
            f64::from(clk) / 1e6,
            t0.elapsed().as_secs_f64()
        );
        verdict(ok)
    } else {
        let conv = board_conv(&board.kernel.params);
        let port = SerialTransport::open(&args.port, baud)?;
        println!(
            "hlsk run: board {} on {} at {baud} baud",
            args.board.board, args.port
        );
        let config = LinkConfig {
            baud,
            ..LinkConfig::default()
        };
        let mut link = Link::connect(port, config).with_context(|| {
            format!(
                "no hlsk SoC answers on {} at {baud} baud; program the board first (`hlsk \
                 program --board {}`)",
                args.port, args.board.board
            )
        })?;
        let ok = job(&mut link, args)?.0 & conv_job(&mut link, conv, args.seed)?;
        verdict(ok)
    }
}

/// The convolution engine a board file enables (`Conv = 1`), with the SoC
/// top's defaults for what it leaves out.
fn board_conv(params: &std::collections::BTreeMap<String, i64>) -> Option<ConvConfig> {
    let get = |k: &str, default: u32| params.get(k).map_or(default, |&v| v as u32);
    (get("Conv", 0) != 0).then(|| ConvConfig {
        t: get("ConvT", 2),
        p: get("ConvP", 1),
        acc_w: 32,
        acc_w_wu: 40,
        in_words: get("ConvInWords", 512),
        w_words: get("ConvWWords", 256),
        out_ent: get("ConvOutEnt", 256),
        g_ent: get("ConvGEnt", 128),
    })
}

/// The convolution FP job (a random 4 -> 4 channel 6 x 6 layer, K 3, pad 1)
/// where the device carries the engine; true when it matched or there is
/// no engine.
fn conv_job<T: Transport>(link: &mut Link<T>, conv: Option<ConvConfig>, seed: u64) -> Result<bool> {
    let Some(c) = conv.filter(|_| link.info().has_conv()) else {
        return Ok(true);
    };
    let hw = hlsk_sim::conv::hw_of(&c);
    let job = ConvJob::random_fp(DEMO_FP, &hw, seed)?;
    let t = job.desc.tiling;
    println!(
        "conv job: FP N = M = 4, 6x6, K 3, pad 1, B 1 (random, seed {seed}), engine T={} P={}, \
         tiling Tr {} M_on {} N_on {}, {} engine words",
        c.t,
        c.p,
        t.tr,
        t.m_on,
        t.n_on,
        job.image.len()
    );
    let o = run_conv(link, &job, &hw, &mut |_| {})?;
    conv_report(&o);
    if o.passed() {
        println!("  conv: memory image bit-identical to hls_rust::conv::exec::run_descriptor");
    }
    Ok(o.passed())
}

fn conv_report(o: &ConvOutcome) {
    let c = &o.status.conv;
    println!(
        "  device: conv busy {} cycles, fired {} (reference {}), refused {}, range error {}; \
         host time {:.2} s",
        c.cycles,
        c.fired,
        o.stats.fired,
        c.refused,
        c.range_error,
        o.wall.as_secs_f64()
    );
    let bad = o.mismatches();
    if !bad.is_empty() {
        println!(
            "  {} of {} engine words differ, first: {:?}",
            bad.len(),
            o.image.len(),
            &bad[..bad.len().min(8)]
        );
    }
}

fn verdict(ok: bool) -> Result<()> {
    if ok {
        println!("PASS: results bit-identical to the reference models");
        Ok(())
    } else {
        bail!("FAIL: device results differ from the reference (see above)")
    }
}

/// The job's W and x.
fn data(args: &RunArgs, k_max: usize) -> Result<(TernaryMatrix, Vec<i8>, String)> {
    match args.data {
        Data::Random => {
            let k = args.k.unwrap_or(k_max);
            let mut rng = Rng::new(args.seed);
            let w = TernaryMatrix::random(args.m, k, 0.3, &mut rng);
            let x = (0..k).map(|_| rng.below(256) as u8 as i8).collect();
            Ok((w, x, format!("random, seed {}", args.seed)))
        }
        Data::Digits => {
            print!("training the ternary digits MLP (seed {}) ... ", args.seed);
            std::io::stdout().flush().ok();
            let (mlp, report) =
                TernaryMlp::train(args.seed, 30).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("done ({report:?})");
            let (_, test) = Digits::load()?.split();
            let image = test.images.first().context("empty digits test split")?;
            let (x, _) = quantize_activations_absmax(&TernaryMlp::input(image));
            Ok((
                mlp.w1().clone(),
                x,
                "digits MLP layer 1, test image 0".to_owned(),
            ))
        }
    }
}

/// Runs the job on `link`, prints what happened; true when it matched, and
/// the device's job cycles.
fn job<T: Transport>(link: &mut Link<T>, args: &RunArgs) -> Result<(bool, u32)> {
    let info = link.info();
    println!(
        "device: TLMM G={} T={} P={} AccW={} KMax={}, {} words of memory, {} MHz, protocol v{}",
        info.g,
        info.t,
        info.p,
        info.acc_w,
        info.k_max,
        info.mem_words,
        f64::from(info.clk_hz) / 1e6,
        info.version
    );
    let (w, x, what) = data(args, usize::from(info.k_max))?;
    println!("job: M = {}, K = {} ({what})", w.m(), w.k());
    let mut progress = |p: Progress| match p {
        Progress::Upload { done, total } => {
            print!("\r  upload {done}/{total} words");
            std::io::stdout().flush().ok();
        }
        Progress::Started => println!("\n  job started"),
        Progress::Download => println!("  reading {} results", w.m()),
    };
    let outcome = run_tlmm(link, &w, &x, &mut progress)?;
    report(link, &outcome, f64::from(info.clk_hz));
    Ok((outcome.passed(), outcome.status.job_cycles))
}

fn report<T: Transport>(link: &Link<T>, o: &JobOutcome, clk_hz: f64) {
    let s = &o.status;
    println!(
        "  device: job {} cycles ({:.1} us at the device clock), engine busy {}, \
         weight-starved {}, {} weight beats, flags {:#x}",
        s.job_cycles,
        f64::from(s.job_cycles) / clk_hz * 1e6,
        s.engine_busy,
        s.engine_w_starved,
        s.engine_w_beats,
        s.engine_flags
    );
    let l = link.stats();
    println!(
        "  link: {} commands, {} bytes out, {} in, {} retries, {} NAKs, {} duplicates; device \
         counted {} CRC, {} truncated frames; host time {:.2} s",
        l.commands,
        l.bytes_sent,
        l.bytes_received,
        l.retries,
        l.naks,
        l.dups,
        s.counter(Counter::Crc),
        s.counter(Counter::Trunc),
        o.wall.as_secs_f64()
    );
    let bad = o.mismatches();
    if !bad.is_empty() {
        println!(
            "  {} of {} results differ, first rows:",
            bad.len(),
            o.expected.len()
        );
        for &i in bad.iter().take(8) {
            println!(
                "    row {i}: device {:?}, reference {:?}",
                o.out.get(i),
                o.expected.get(i)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::board_conv;
    use hlsk_boards::{known_boards, load_board};
    use hlsk_cosim::SocConfig;
    use hlsk_cosim::configs::SOC_CONFIGS;

    /// The twin of every board is the bitstream's design: same TLMM kernel,
    /// memory, reset polarity, convolution engine and host-link baud rate as
    /// the board file.
    #[test]
    fn every_board_has_a_twin_built_from_its_board_file() {
        let root = crate::boards_cli::root();
        for b in known_boards(&root) {
            let cfg = load_board(&root, &b).unwrap();
            let c = SocConfig::for_board(&b)
                .map(|i| SOC_CONFIGS[i])
                .unwrap_or_else(|| panic!("{b}: no twin build in SOC_CONFIGS"));
            let p = |k: &str| cfg.kernel.params.get(k).map(|&v| v as u32);
            assert_eq!(p("G"), Some(c.g), "{b}: G");
            assert_eq!(p("T"), Some(c.t), "{b}: T");
            assert_eq!(p("P"), Some(c.p), "{b}: P");
            assert_eq!(p("AccW"), Some(c.acc_w), "{b}: AccW");
            assert_eq!(p("KMax"), Some(c.k_max), "{b}: KMax");
            assert_eq!(p("MemWords"), Some(c.mem_words), "{b}: MemWords");
            assert_eq!(
                cfg.buttons[0].active_low, c.btn_active_low,
                "{b}: reset polarity"
            );
            assert_eq!(board_conv(&cfg.kernel.params), c.conv, "{b}: conv engine");
            assert_eq!(cfg.uart.baud, c.baud, "{b}: [uart] baud");
        }
    }
}
