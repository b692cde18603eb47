//! A fuzzing campaign on one [`Target`]: mutate corpus entries, run,
//! catch panics, watch for hangs, and keep every input that produced an
//! outcome not seen before (outcome-guided, the poor relation of coverage
//! guidance: the outcome keys are the error kinds and success kinds).

use crate::mutate::{havoc_once, one_in, pick};
use crate::targets::Target;
use hls_rust::rng::Rng;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most inputs the in-memory corpus keeps.
const MAX_CORPUS: usize = 4096;

/// How a campaign runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Executions.
    pub execs: u64,
    /// Seed of the mutator.
    pub seed: u64,
    /// An execution running longer than this is a hang: the watchdog
    /// prints its input and ends the process.
    pub hang_after: Duration,
}

/// An input that broke the target: a panic or a failed oracle.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The input.
    pub input: Vec<u8>,
    /// The panic message or the broken oracle.
    pub message: String,
    /// Whether it panicked (else: an oracle failed).
    pub panic: bool,
}

/// What a campaign did.
#[derive(Debug, Clone)]
pub struct Report {
    /// Target name.
    pub target: &'static str,
    /// Executions run.
    pub execs: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Executions per outcome kind.
    pub outcomes: BTreeMap<String, u64>,
    /// Seeds loaded.
    pub seeds: usize,
    /// Corpus size at the end (seeds and inputs with new outcomes).
    pub corpus: usize,
    /// The slowest execution.
    pub slowest: Duration,
    /// Panics and broken oracles (the first 20 of each campaign).
    pub findings: Vec<Finding>,
    /// All panics and broken oracles.
    pub crashes: u64,
}

impl Report {
    /// One line for the console and the docs.
    pub fn summary(&self) -> String {
        format!(
            "{:<6} {:>10} execs in {:>7.1} s ({:>8.0}/s), {:>3} outcome kinds, corpus {} -> {}, slowest {:.2} ms, {} crashes",
            self.target,
            self.execs,
            self.elapsed.as_secs_f64(),
            self.execs as f64 / self.elapsed.as_secs_f64().max(1e-9),
            self.outcomes.len(),
            self.seeds,
            self.corpus,
            self.slowest.as_secs_f64() * 1e3,
            self.crashes
        )
    }
}

/// Reads every file of `dir` (sorted by name) as a seed.
pub fn load_corpus(dir: &Path) -> std::io::Result<Vec<Vec<u8>>> {
    let mut names: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    names.sort();
    names.into_iter().map(std::fs::read).collect()
}

/// Runs `settings.execs` mutated inputs through `target`, starting from
/// `seeds` (which are run first, unmutated).
pub fn run(target: &dyn Target, seeds: &[Vec<u8>], settings: &Settings) -> Report {
    let mut rng = Rng::new(settings.seed);
    let mut corpus: Vec<Vec<u8>> = if seeds.is_empty() {
        vec![Vec::new()]
    } else {
        seeds.to_vec()
    };
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    let mut findings = Vec::new();
    let mut crashes = 0;
    let mut slowest = Duration::ZERO;

    // Watchdog: the start of the running execution (ms since t0, 0 = idle)
    // and its input.
    let t0 = Instant::now();
    let started = Arc::new(AtomicU64::new(0));
    let current = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let (started, current, done) = (started.clone(), current.clone(), done.clone());
        let (limit, name) = (settings.hang_after, target.name());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                let s = started.load(Ordering::Relaxed);
                let now = t0.elapsed().as_millis() as u64;
                if s != 0 && now.saturating_sub(s) > limit.as_millis() as u64 {
                    let input = current.lock().map(|v| v.clone()).unwrap_or_default();
                    eprintln!(
                        "HANG: target {name}: an execution has run for over {} ms; input ({} bytes): {:02x?}",
                        limit.as_millis(),
                        input.len(),
                        input
                    );
                    std::process::exit(3);
                }
            }
        })
    };

    for n in 0..settings.execs {
        let input = if (n as usize) < seeds.len() {
            seeds[n as usize].clone()
        } else {
            let mut d = corpus[pick(&mut rng, corpus.len())].clone();
            let other = &corpus[pick(&mut rng, corpus.len())];
            let rounds = 1 << rng.below(4);
            for _ in 0..rounds {
                if !(one_in(&mut rng, 3) && target.mutate(&mut rng, &mut d)) {
                    havoc_once(&mut rng, &mut d, other, target.max_len());
                }
            }
            target.fixup(&mut rng, &mut d);
            d
        };
        if let Ok(mut c) = current.lock() {
            c.clone_from(&input);
        }
        let t = Instant::now();
        started.store(t0.elapsed().as_millis() as u64 + 1, Ordering::Relaxed);
        let result = catch_unwind(AssertUnwindSafe(|| target.run(&input)));
        started.store(0, Ordering::Relaxed);
        slowest = slowest.max(t.elapsed());
        let key = match result {
            Ok(Ok(key)) => key,
            Ok(Err(message)) => {
                crashes += 1;
                if findings.len() < 20 {
                    findings.push(Finding {
                        input: input.clone(),
                        message,
                        panic: false,
                    });
                }
                "ORACLE".to_owned()
            }
            Err(payload) => {
                crashes += 1;
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".to_owned());
                if findings.len() < 20 {
                    findings.push(Finding {
                        input: input.clone(),
                        message,
                        panic: true,
                    });
                }
                "PANIC".to_owned()
            }
        };
        let count = outcomes.entry(key).or_insert(0);
        if *count == 0 && corpus.len() < MAX_CORPUS && (n as usize) >= seeds.len() {
            corpus.push(input);
        }
        *count += 1;
    }
    done.store(true, Ordering::Relaxed);
    let _ = watchdog.join();
    Report {
        target: target.name(),
        execs: settings.execs,
        elapsed: t0.elapsed(),
        outcomes,
        seeds: seeds.len(),
        corpus: corpus.len(),
        slowest,
        findings,
        crashes,
    }
}
