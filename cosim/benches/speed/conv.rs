//! The conv engine under load: the FP, BP and WU descriptors of one small
//! layer, placed by `hls_rust::conv::job` in one memory image, one after the
//! other, behind a memory with latency and random stalls.

use super::common::{SEED, fail, gates, mix};
use hls_rust::conv::desc::DESC_WORDS;
use hls_rust::conv::job::{BpJob, FpJob, Placed, TensorJob, WuJob};
use hls_rust::conv::{Descriptor, HwConfig, Tensor4};
use hls_rust::rng::Rng;
use hlsk_cosim::configs::CONV_CONFIGS;
use hlsk_cosim::{Conv, ConvBenchStim, ConvConfig, ConvIn};

/// The build measured: build 0, the UP5K-like T = 2, P = 1 engine that
/// `hlsk conv --engine rtl` uses by default.
pub const BUILD: usize = 0;

/// Cycles from an accepted request to its first beat (latency 2 plus a
/// burst start-up of 1, as the training-step runs in `hlsk-sim` use).
const WAIT: u32 = 3;

/// Percentages: a descriptor word held back, a request stalled, a data
/// beat stalled.
const PRESSURE: [u8; 3] = [10, 10, 10];

/// The build's parameters.
pub fn config() -> ConvConfig {
    CONV_CONFIGS[BUILD]
}

/// The build as the reference model's scheduler sees it (as
/// `hlsk_sim::conv::hw_for` with the memory timing above).
fn hw(c: &ConvConfig) -> HwConfig {
    HwConfig {
        t_burst: 1 + u64::from(WAIT),
        ..c.hw()
    }
}

/// Moves every base address `desc` uses up by `off` words (an unused base
/// must stay 0, which `validate` checks).
fn relocate(mut d: Descriptor, off: u32) -> Descriptor {
    let fields: [fn(&mut Descriptor) -> &mut u32; 5] = [
        |d| &mut d.base.input,
        |d| &mut d.base.weights,
        |d| &mut d.base.output,
        |d| &mut d.base.aux,
        |d| &mut d.base.w16_out,
    ];
    for f in fields {
        let mut moved = d;
        *f(&mut moved) += off;
        if moved.validate().is_ok() {
            d = moved;
        }
    }
    d
}

/// The descriptors, memory image and gates.
pub fn stimulus() -> ConvBenchStim {
    let c = config();
    let hw = hw(&c);
    let mut rng = Rng::new(0xc0de);
    let mut r16 = |lo: i64, hi: i64| (lo + rng.below((hi - lo + 1) as u64) as i64) as i16;
    let (b, n, m, h, w) = (2, 4, 6, 8, 8);
    let x = Tensor4::from_fn([b, n, h, w], |_| r16(-256, 255));
    let wt = Tensor4::from_fn([m, n, 3, 3], |_| r16(-64, 63));
    let dout = Tensor4::from_fn([b, m, h, w], |_| r16(-256, 255));
    let master = Tensor4::from_fn([m, n, 3, 3], |_| i32::from(r16(-64, 63)) << 8);
    let jobs: [Result<Placed, _>; 3] = [
        FpJob {
            x: x.clone(),
            w: wt.clone(),
            pad: 1,
            s_out: 6,
            relu: true,
        }
        .place(&hw),
        BpJob {
            dout: dout.clone(),
            w: wt,
            act_in: Some(x.clone()),
            pad: 1,
            s_out: 6,
        }
        .place(&hw),
        WuJob {
            x,
            dout,
            master,
            pad: 1,
            g_pre: 4,
            lr_mant: 1 << 12,
            lr_shift: 20,
        }
        .place(&hw),
    ];
    let mut s = ConvBenchStim {
        wait: WAIT,
        gates: gates(4096, &PRESSURE, 0xc047),
        ..ConvBenchStim::default()
    };
    for job in jobs {
        let p = job.unwrap_or_else(|e| fail(&format!("conv bench job: {e}")));
        // Regions stay on whole beats of any T (job.rs aligns to 16).
        s.mem.resize(s.mem.len().next_multiple_of(16), 0);
        let d = relocate(p.desc, s.mem.len() as u32);
        s.mem.extend_from_slice(p.image.words());
        let words: [u32; DESC_WORDS] = d
            .encode()
            .unwrap_or_else(|e| fail(&format!("conv bench descriptor: {e}")));
        s.desc.extend_from_slice(&words);
    }
    s
}

/// What the engine did over a run.
#[derive(Debug, Default, Clone, Copy)]
pub struct Activity {
    /// Descriptors finished.
    pub descs: u64,
    /// ... of which with `error_o` (refused or out of range).
    pub errors: u64,
    /// Cycles with `busy`.
    pub busy: u64,
}

/// An open burst of the memory model.
struct Burst {
    addr: usize,
    beats: usize,
    write: bool,
    wait: u32,
}

/// The Rust driver: the same per-cycle work as `conv_bench` in
/// `shim/bench_impl.h`, through [`Conv::step`].
pub fn rust_run(stim: &ConvBenchStim, cycles: u64, act: &mut Activity) -> u64 {
    let mut dut = Conv::new(BUILD, SEED).unwrap_or_else(|e| fail(&format!("conv build: {e}")));
    dut.reset();
    let t = dut.config().t as usize;
    let mut mem = stim.mem.clone();
    let (n_desc, n_gate) = (stim.desc.len() / DESC_WORDS, stim.gates.len());
    let (mut di, mut sent, mut gi) = (0, 0, 0);
    let mut burst: Option<Burst> = None;
    let mut sum = 0u64;
    for _ in 0..cycles {
        let g = stim.gates[gi];
        gi = if gi + 1 == n_gate { 0 } else { gi + 1 };
        let mut i = ConvIn {
            desc_valid: sent < DESC_WORDS && g & 1 == 0,
            desc_data: if sent < DESC_WORDS {
                stim.desc[di * DESC_WORDS + sent]
            } else {
                0
            },
            req_ready: burst.is_none() && g & 2 == 0,
            ..ConvIn::default()
        };
        if let Some(b) = &burst
            && b.wait == 0
            && g & 4 == 0
        {
            if b.write {
                i.wr_ready = true;
            } else {
                let beat = mem
                    .get(b.addr..b.addr + t)
                    .unwrap_or_else(|| fail("conv bench: read burst outside the image"));
                i.rd_valid = true;
                i.set_beat(beat);
            }
        }
        let p = dut.step(&i);
        if i.desc_valid && p.desc_ready {
            sent += 1;
        }
        let wr = i.wr_ready && p.wr_valid;
        if let Some(b) = &mut burst {
            if b.wait > 0 {
                b.wait -= 1;
            } else if b.write && wr {
                let dst = mem
                    .get_mut(b.addr..b.addr + t)
                    .unwrap_or_else(|| fail("conv bench: write burst outside the image"));
                for (k, w) in dst.iter_mut().enumerate() {
                    *w = p.wr_word(k);
                }
                (b.addr, b.beats) = (b.addr + t, b.beats - 1);
            } else if !b.write && i.rd_valid && p.rd_ready {
                (b.addr, b.beats) = (b.addr + t, b.beats - 1);
            }
            if b.beats == 0 {
                burst = None;
            }
        }
        if i.req_ready && p.req_valid {
            if p.req_len == 0 || !(p.req_len as usize).is_multiple_of(t) {
                fail("conv bench: request of part beats");
            }
            burst = Some(Burst {
                addr: p.req_addr as usize,
                beats: p.req_len as usize / t,
                write: p.req_write,
                wait: stim.wait,
            });
        }
        let mut word = if wr {
            p.wr_data ^ p.wr_data_hi.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        } else {
            0
        };
        word ^= (u64::from(p.req_valid) << 63)
            ^ (u64::from(p.desc_ready) << 62)
            ^ (u64::from(p.rd_ready) << 61)
            ^ (u64::from(p.busy) << 60)
            ^ (u64::from(p.done) << 59)
            ^ (u64::from(p.error) << 58);
        if p.req_valid {
            word ^= (u64::from(p.req_addr) << 20)
                ^ (u64::from(p.req_write) << 57)
                ^ u64::from(p.req_len);
        }
        sum = mix(sum, word);
        act.busy += u64::from(p.busy);
        if sent == DESC_WORDS && p.done && !p.busy && burst.is_none() {
            sum = mix(sum, u64::from(p.cnt_cycles) | u64::from(p.cnt_fired) << 32);
            sum = mix(
                sum,
                u64::from(p.cnt_rd_words) | u64::from(p.cnt_wr_words) << 32,
            );
            act.descs += 1;
            act.errors += u64::from(p.error);
            di = if di + 1 == n_desc { 0 } else { di + 1 };
            sent = 0;
        }
    }
    if dut.rtl_error() {
        fail("conv bench: an RTL assertion failed");
    }
    sum
}
