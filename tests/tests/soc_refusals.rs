//! Frames the SoC must refuse, on every twin build: the device answers each
//! with its NAK, counts it, and executes nothing, and the link carries on.
//!
//! - a command whose payload has the wrong shape (INFO or STATUS with a
//!   payload, TLMM_START of the wrong length or with its reserved bytes
//!   set) is NAKed bad-arg;
//! - a command that would touch the memory or start a job (READ, WRITE,
//!   TLMM_START, and CONV_START on a build with the convolution engine),
//!   arriving while a TLMM job runs, is NAKed busy: the memory keeps what it
//!   held, the job runs once and its results are the reference's (one that
//!   arrives after the job ended runs as usual).
//!
//! Random payloads, lengths, commands and job data; shrunk by proptest.

use hls_rust::rng::Rng;
use hls_rust::tlmm::{AccWidth, TernaryMatrix, golden};
use hlsk_cosim::configs::{SOC_CONFIGS, SocConfig};
use hlsk_host::job::JobPlan;
use hlsk_host::proto::{Command, Counter, DeviceStatus, Status};
use hlsk_host::{Link, LinkConfig, LinkError};
use hlsk_sim::twin::Twin;
use hlsk_tests::prop::{cases, check};
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Payload bytes of a TLMM_START (five 16-bit fields, two reserved bytes).
const TLMM_DESC_LEN: usize = 12;
/// Words written before each case and read back after it: no refused frame
/// may change them.
const CANARY: [u32; 4] = [0x5a5a_0001, 0xa5a5_0002, 0xdead_0003, 0xbeef_0004];

fn connect(config: usize, seed: u32) -> Result<Link<Twin>, String> {
    let twin = Twin::new(config, seed, None).map_err(|e| e.to_string())?;
    Link::connect(
        twin,
        LinkConfig {
            baud: SOC_CONFIGS[config].baud,
            ..LinkConfig::default()
        },
    )
    .map_err(|e| e.to_string())
}

fn status(link: &mut Link<Twin>) -> Result<DeviceStatus, String> {
    link.status().map_err(|e| e.to_string())
}

fn refused(r: Result<Vec<u8>, LinkError>, want: Status, what: &str) -> Result<(), String> {
    match r {
        Err(LinkError::Refused { status, .. }) if status == want => Ok(()),
        other => Err(format!("{what}: want {want}, got {other:?}")),
    }
}

/// A frame whose payload does not fit its command.
#[derive(Debug, Clone)]
enum Malformed {
    /// INFO or STATUS (`status`) with a payload.
    NoArgsWithPayload { status: bool, payload: Vec<u8> },
    /// TLMM_START with a payload of another length.
    TlmmLength { payload: Vec<u8> },
    /// TLMM_START of the right length with a reserved byte set.
    TlmmReserved { desc: [u8; 10], reserved: [u8; 2] },
}

impl Malformed {
    fn frame(&self) -> (Command, Vec<u8>) {
        match self {
            Malformed::NoArgsWithPayload { status, payload } => (
                if *status {
                    Command::Status
                } else {
                    Command::Info
                },
                payload.clone(),
            ),
            Malformed::TlmmLength { payload } => (Command::TlmmStart, payload.clone()),
            Malformed::TlmmReserved { desc, reserved } => {
                (Command::TlmmStart, [desc.as_slice(), reserved].concat())
            }
        }
    }
}

fn malformed() -> impl Strategy<Value = Malformed> {
    prop_oneof![
        (any::<bool>(), prop::collection::vec(any::<u8>(), 1..=24))
            .prop_map(|(status, payload)| Malformed::NoArgsWithPayload { status, payload }),
        prop::collection::vec(any::<u8>(), 0..=24)
            .prop_filter("not the descriptor's length", |p| p.len() != TLMM_DESC_LEN)
            .prop_map(|payload| Malformed::TlmmLength { payload }),
        (any::<[u8; 10]>(), any::<[u8; 2]>())
            .prop_filter("a reserved byte set", |(_, r)| *r != [0, 0])
            .prop_map(|(desc, reserved)| Malformed::TlmmReserved { desc, reserved }),
    ]
}

#[derive(Debug, Clone)]
struct MalformedCase {
    config: usize,
    seed: u32,
    frames: Vec<Malformed>,
}

/// Property: every malformed frame is NAKed bad-arg and counted as such,
/// no job runs, the memory is unchanged, and a good command still works.
fn malformed_frames_are_refused(config: usize, n: u32) -> Result<(), String> {
    let strategy = (any::<u32>(), prop::collection::vec(malformed(), 1..=4)).prop_map(
        move |(seed, frames)| MalformedCase {
            config,
            seed,
            frames,
        },
    );
    let name = format!(
        "soc_malformed_frames_are_refused[{}]",
        SOC_CONFIGS[config].name()
    );
    check(&name, n, strategy, |case, _waves| {
        let mut link = connect(case.config, case.seed)?;
        link.write_words(0, &CANARY).map_err(|e| e.to_string())?;
        let s0 = status(&mut link)?;
        for f in &case.frames {
            let (cmd, payload) = f.frame();
            refused(
                link.transact(cmd, &payload),
                Status::NakBadArg,
                &format!("{f:?}"),
            )?;
        }
        let s1 = status(&mut link)?;
        let rise = |c: Counter| s1.counter(c) - s0.counter(c);
        if usize::from(rise(Counter::BadArg)) != case.frames.len()
            || rise(Counter::Jobs) != 0
            || s1.job_busy
        {
            return Err(format!(
                "counted wrong or ran a job: before {s0:?}, after {s1:?}"
            ));
        }
        let back = link
            .read_words(0, CANARY.len())
            .map_err(|e| e.to_string())?;
        if back != CANARY {
            return Err(format!("memory changed: {back:#x?}"));
        }
        Ok(())
    })
}

/// The command sent right after the job's TLMM_START was acknowledged.
#[derive(Debug, Clone)]
enum Intruder {
    /// READ of `words` words.
    Read { addr: u16, words: u8 },
    /// WRITE of one word over the canary (`canary`) or the job's results.
    Write {
        canary: bool,
        offset: u16,
        word: u32,
    },
    /// The same TLMM_START again.
    TlmmStart,
    /// CONV_START of a descriptor the engine refuses (all zeros), on a
    /// build with the convolution engine.
    ConvStart,
}

#[derive(Debug, Clone)]
struct BusyCase {
    config: usize,
    seed: u32,
    data: u64,
    zeros: u8,
    intruder: Intruder,
}

fn intruder(conv: bool) -> BoxedStrategy<Intruder> {
    let read = (any::<u16>(), 1u8..=8).prop_map(|(addr, words)| Intruder::Read { addr, words });
    let write = (any::<bool>(), any::<u16>(), any::<u32>()).prop_map(|(canary, offset, word)| {
        Intruder::Write {
            canary,
            offset,
            word,
        }
    });
    if conv {
        prop_oneof![
            read,
            write,
            Just(Intruder::TlmmStart),
            Just(Intruder::ConvStart)
        ]
        .boxed()
    } else {
        prop_oneof![read, write, Just(Intruder::TlmmStart)].boxed()
    }
}

/// Refusals seen by the busy property, over every build: the property is
/// vacuous on a build whose job always ends before a frame can arrive.
static BUSY_SEEN: AtomicUsize = AtomicUsize::new(0);

/// Property: a command arriving while a TLMM job runs is NAKed busy,
/// counted, and changes nothing: the canary words and the job's results
/// (equal to `golden`) are intact and the job ran once. A command that
/// arrived after the job ended (the job's cycles, from STATUS, are fewer
/// than the twin's cycles from the START to the reply) is executed as
/// usual, and the memory holds what it wrote.
fn commands_during_a_job_are_refused_busy(config: usize, n: u32) -> Result<(), String> {
    let c = SOC_CONFIGS[config];
    let strategy = (
        any::<u32>(),
        any::<u64>(),
        0u8..=60,
        intruder(c.conv.is_some()),
    )
        .prop_map(move |(seed, data, zeros, intruder)| BusyCase {
            config,
            seed,
            data,
            zeros,
            intruder,
        });
    let name = format!("soc_commands_during_a_job_are_refused_busy[{}]", c.name());
    check(&name, n, strategy, |case, _waves| {
        let mut link = connect(case.config, case.seed)?;
        let info = link.info();
        let mem = usize::from(info.mem_words);
        let k = usize::from(info.k_max);
        // The canary sits in the top words; the largest job (rows) the
        // memory holds below it, so that it lasts as long as it can.
        let top = mem - CANARY.len();
        let mut rng = Rng::new(case.data);
        let x: Vec<i8> = (0..k).map(|_| rng.below(256) as u8 as i8).collect();
        let mut m = 256;
        let (w, plan) = loop {
            let w = TernaryMatrix::random(m, k, f64::from(case.zeros) / 100.0, &mut rng);
            match JobPlan::new(&info, &w, &x) {
                Ok(p) if usize::from(p.desc.out_addr) + m <= top => break (w, p),
                _ if m > 8 => m -= 8,
                _ => return Err("no job fits below the canary".to_owned()),
            }
        };
        let out_addr = usize::from(plan.desc.out_addr);
        link.write_words(top, &CANARY).map_err(|e| e.to_string())?;
        link.write_words(usize::from(plan.desc.a_addr), &plan.upload())
            .map_err(|e| e.to_string())?;
        let s0 = status(&mut link)?;
        let c0 = link.transport().cycles();
        link.start_tlmm(&plan.desc).map_err(|e| e.to_string())?;
        let what = format!("{:?} after the START of a {m} x {k} job", case.intruder);
        // What the canary and the results must hold if the command ran.
        let mut canary = CANARY.to_vec();
        let acc = AccWidth::new(u32::from(info.acc_w)).map_err(|e| e.to_string())?;
        let mut out = golden(&w, &x, acc).map_err(|e| e.to_string())?.out;
        let mut jobs = 1;
        let reply: Result<(), LinkError> = match &case.intruder {
            Intruder::Read { addr, words } => {
                let addr = usize::from(*addr) % mem;
                let n = usize::from(*words).min(mem - addr);
                link.read_words(addr, n).map(drop)
            }
            Intruder::Write {
                canary: to_canary,
                offset,
                word,
            } => {
                if *to_canary {
                    let i = usize::from(*offset) % CANARY.len();
                    canary[i] = *word;
                    link.write_words(top + i, &[*word])
                } else {
                    let i = usize::from(*offset) % m;
                    out[i] = *word as i32;
                    link.write_words(out_addr + i, &[*word])
                }
            }
            Intruder::TlmmStart => {
                jobs = 2;
                link.start_tlmm(&plan.desc)
            }
            Intruder::ConvStart => {
                jobs = 2;
                link.start_conv(&[0; 12])
            }
        };
        let elapsed = link.transport().cycles() - c0;
        let mut s = status(&mut link)?;
        for _ in 0..200 {
            if !s.job_busy {
                break;
            }
            s = status(&mut link)?;
        }
        let rise = |c: Counter| s.counter(c) - s0.counter(c);
        match reply {
            Err(LinkError::Refused {
                status: Status::NakBusy,
                ..
            }) => {
                BUSY_SEEN.fetch_add(1, Ordering::Relaxed);
                canary = CANARY.to_vec();
                out = golden(&w, &x, acc).map_err(|e| e.to_string())?.out;
                jobs = 1;
                if rise(Counter::Busy) != 1 {
                    return Err(format!("{what}: refused but not counted: {s0:?} -> {s:?}"));
                }
            }
            Ok(()) if u64::from(s.job_cycles) < elapsed => {}
            other => {
                return Err(format!(
                    "{what}: want NakBusy while the job ran ({} of the {elapsed} cycles from the START to the reply), got {other:?}",
                    s.job_cycles
                ));
            }
        }
        if s.job_busy || rise(Counter::Jobs) != jobs {
            return Err(format!("{what}: want {jobs} jobs done: {s0:?} -> {s:?}"));
        }
        let got = link
            .read_words(top, CANARY.len())
            .map_err(|e| e.to_string())?;
        if got != canary {
            return Err(format!("{what}: canary {got:#x?}, want {canary:#x?}"));
        }
        let got: Vec<i32> = link
            .read_words(out_addr, m)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|v| v as i32)
            .collect();
        if got != out {
            return Err(format!(
                "{what}: the job's results differ from the reference"
            ));
        }
        Ok(())
    })
}

/// Every build that carries a board's kernel (the refusals are the link's,
/// the same RTL in the wide build, which simulates ten times slower).
fn every_build(property: fn(usize, u32) -> Result<(), String>, default_cases: u32) {
    for config in SocConfig::board_builds() {
        if let Err(e) = property(config, cases(default_cases)) {
            panic!("{e}");
        }
    }
}

#[test]
fn malformed_frames_are_nakked_bad_arg_counted_and_never_executed() {
    every_build(malformed_frames_are_refused, 6);
}

#[test]
fn commands_arriving_during_a_job_are_nakked_busy_and_change_nothing() {
    every_build(commands_during_a_job_are_refused_busy, 4);
    assert!(
        BUSY_SEEN.load(Ordering::Relaxed) > 0,
        "no command arrived while a job ran: the property checked nothing"
    );
}
