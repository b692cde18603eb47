//! `hlsk-fuzz`: fuzz campaigns on the parsers, the link storm on the twin,
//! and the generated seeds (`docs/fuzzing.md`).

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use hlsk_fuzz::campaign::{self, Settings, load_corpus};
use hlsk_fuzz::storm::{self, StormConfig};
use hlsk_fuzz::{seeds, targets};
use hlsk_host::proto::Framing;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Parser)]
#[command(about = "Fuzz hlsk's parsers; storm the twin's UART link")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Mutation-fuzz targets (frame, board, npy, desc, or all).
    Run {
        /// Target name, or `all`.
        #[arg(default_value = "all")]
        target: String,
        /// Executions per target.
        #[arg(long, default_value_t = 1_000_000)]
        execs: u64,
        /// Mutator seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Seconds after which one execution counts as a hang.
        #[arg(long, default_value_t = 5)]
        hang_secs: u64,
        /// Seed corpus root (one folder per target).
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus"))]
        corpus: PathBuf,
        /// Where inputs that crash are written.
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/findings"))]
        findings: PathBuf,
    },
    /// Random byte faults both ways on the twin while TLMM jobs run.
    Storm {
        /// Stop after this many injected faults.
        #[arg(long, default_value_t = 1_000_000)]
        faults: u64,
        /// Or after this many seconds.
        #[arg(long, default_value_t = 900)]
        max_secs: u64,
        /// Faults per million bytes, each direction.
        #[arg(long, default_value_t = 10_000)]
        rate_ppm: u32,
        /// SoC build (index into SOC_CONFIGS). The default, 4, is the
        /// iCEBreaker's engine and memory at 115,200 baud (the Tang Nano 9K
        /// build): at the iCEBreaker's 3 Mbaud (0) every reply timeout, 60 ms
        /// beyond the reply's bytes whatever the rate, costs 26 times the
        /// simulated cycles, and the storm runs about 10 times slower.
        #[arg(long, default_value_t = 4)]
        soc: usize,
        /// Seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Words per WRITE frame.
        #[arg(long, default_value_t = 8)]
        chunk_words: usize,
        /// Largest K of a job.
        #[arg(long, default_value_t = 64)]
        max_k: usize,
        /// Sends of one command before the driver gives up.
        #[arg(long, default_value_t = 8)]
        attempts: u32,
    },
    /// The storm's fault model on the frame decoder alone (no twin): how
    /// often corruption passes LEN/~LEN and the CRC.
    DecoderStorm {
        /// Stop after this many injected faults.
        #[arg(long, default_value_t = 1_000_000)]
        faults: u64,
        /// Faults per million bytes.
        #[arg(long, default_value_t = 10_000)]
        rate_ppm: u32,
        /// Seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Frame check: 3 (the link's, CRC-32C) or 2 (protocol version
        /// 2's CRC-16, for comparison).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(2..=3))]
        protocol: u8,
    },
    /// Write the generated seeds into the corpus folders.
    Seeds {
        /// Corpus root.
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus"))]
        corpus: PathBuf,
    },
}

fn write_seeds(root: &Path) -> anyhow::Result<()> {
    let put = |dir: &str, name: String, bytes: &[u8]| -> anyhow::Result<()> {
        let d = root.join(dir);
        std::fs::create_dir_all(&d)?;
        std::fs::write(d.join(name), bytes).context("writing a seed")
    };
    for (n, b) in seeds::frames() {
        put("frame", format!("{n}.bin"), &b)?;
    }
    for (n, w) in seeds::descriptors() {
        let b: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
        put("desc", format!("{n}.bin"), &b)?;
    }
    for (n, b) in seeds::npys() {
        put("npy", format!("rust-{n}.npy"), &b)?;
    }
    let boards = Path::new(env!("CARGO_MANIFEST_DIR")).join("../boards");
    for e in std::fs::read_dir(&boards)? {
        let p = e?.path();
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".toml") && name != "Cargo.toml" {
            put("board", name, &std::fs::read(&p)?)?;
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Cmd::Run {
            target,
            execs,
            seed,
            hang_secs,
            corpus,
            findings,
        } => {
            let list = if target == "all" {
                targets::all()
            } else {
                vec![targets::by_name(&target).with_context(|| {
                    format!("unknown target {target}: frame, board, npy, desc or all")
                })?]
            };
            let mut crashes = 0;
            for t in list {
                let seeds = load_corpus(&corpus.join(t.name()))
                    .with_context(|| format!("reading the {} corpus", t.name()))?;
                let settings = Settings {
                    execs,
                    seed,
                    hang_after: Duration::from_secs(hang_secs),
                };
                let r = campaign::run(t, &seeds, &settings);
                println!("{}", r.summary());
                for (k, n) in &r.outcomes {
                    println!("    {n:>10}  {k}");
                }
                for (i, f) in r.findings.iter().enumerate() {
                    std::fs::create_dir_all(&findings)?;
                    let path = findings.join(format!("{}-{i}.bin", t.name()));
                    std::fs::write(&path, &f.input)?;
                    println!(
                        "  FINDING ({}): {} -> {}",
                        if f.panic { "panic" } else { "oracle" },
                        f.message,
                        path.display()
                    );
                }
                crashes += r.crashes;
            }
            if crashes > 0 {
                bail!("{crashes} crashes");
            }
        }
        Cmd::Storm {
            faults,
            max_secs,
            rate_ppm,
            soc,
            seed,
            chunk_words,
            max_k,
            attempts,
        } => {
            let cfg = StormConfig {
                soc,
                faults,
                max_wall: Duration::from_secs(max_secs),
                rate_ppm,
                seed,
                chunk_words,
                max_k,
                attempts,
            };
            let r = storm::run(&cfg, &mut |r| {
                eprintln!(
                    "  {:.0} s: {} faults, {} jobs checked, {} abandoned",
                    r.wall.as_secs_f64(),
                    r.faults.total(),
                    r.jobs_checked,
                    r.jobs_abandoned
                )
            })?;
            println!("{}", r.summary());
            if !r.clean() {
                bail!(
                    "corruption got through: a job, memory word or result the host did not ask for"
                );
            }
        }
        Cmd::DecoderStorm {
            faults,
            rate_ppm,
            seed,
            protocol,
        } => {
            let framing = if protocol == 2 {
                Framing::V2
            } else {
                Framing::V3
            };
            let r = storm::decoder_storm(faults, rate_ppm, seed, framing);
            println!(
                "protocol version {protocol}: {} faults in {} frames ({} hit) in {:.1} s: {} corrupted frames passed header and CRC, {} of them followed at once by more bytes",
                r.faults,
                r.frames,
                r.frames_hit,
                r.wall.as_secs_f64(),
                r.forged,
                r.forged_with_trailing
            );
            for (sent, got) in &r.examples {
                println!("  sent     {sent:02x?}\n  received {got:02x?}");
            }
        }
        Cmd::Seeds { corpus } => write_seeds(&corpus)?,
    }
    Ok(())
}
