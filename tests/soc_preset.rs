//! Property of the kernel-preset SoC (`hlsk_soc_top` with `HostLink = 0`,
//! the build `hlsk results` synthesises for the resource presets) against
//! its contract in the module header: the self-test runs and passes; after
//! it the engine's streams come from shift registers fed by `uart_rx_i`
//! (register r shifts in the pin XOR its own bit r); `uart_tx_o` carries the
//! parity of the engine's results and counters through a pipelined tree.
//!
//! The pins of this build carry one bit of parity, so the shim also probes
//! the signals the contract names (`cosim/shim/soc_preset.h`). The model
//! here computes, independently of the RTL, every cycle's shift-register
//! contents from the rx bits driven, the engine ports they must drive, and
//! the tx bit the parity pipeline must show.

use crate::prop::check;
use hls_rust::rng::Rng;
use hlsk_cosim::configs::SOC_PRESET_CONFIGS;
use hlsk_cosim::{PresetProbe, SocPreset};
use proptest::prelude::*;

/// Bits of the engine command's M, K and flags fields (`tlmm_pkg`).
const CMD_M_BITS: u32 = 24;
const CMD_K_BITS: u32 = 24;
const CMD_FLAGS_BITS: u32 = 8;

/// Cycles the self-test may take before it counts as hung.
const BIST_LIMIT: usize = 2_000;

/// A run of the preset SoC.
#[derive(Debug, Clone)]
pub struct PresetCase {
    /// Seed of the X-randomised power-up state.
    pub seed: u32,
    /// Percent chance of a 1 on rx per cycle.
    pub ones_pct: u8,
    /// Seed of the rx bits.
    pub rolls: u64,
    /// Cycles to run after reset.
    pub cycles: usize,
}

fn preset_case() -> impl Strategy<Value = PresetCase> {
    (
        any::<u32>(),
        prop::sample::select(vec![0u8, 3, 50, 97, 100]),
        any::<u64>(),
        BIST_LIMIT..BIST_LIMIT + 2_000,
    )
        .prop_map(|(seed, ones_pct, rolls, cycles)| PresetCase {
            seed,
            ones_pct,
            rolls,
            cycles,
        })
}

/// ceil(log2(n)), as SystemVerilog's `$clog2`.
fn clog2(n: u32) -> u32 {
    32 - (n - 1).leading_zeros()
}

/// The stimulus layout of a build whose weight beat is `beat` bits: the
/// fields' total width StimW, StimL bits per register, StimR registers.
fn stim_shape(beat: u32) -> (u32, u32, u32) {
    let w = 1 + CMD_M_BITS + CMD_K_BITS + CMD_FLAGS_BITS // command
        + 1 + 32 + 1 // activations: valid, data, last
        + 1 + beat + 1 // weights: valid, beat, last
        + 1; // result ready
    let l = 1 << clog2(w).div_ceil(2);
    (w, l, w.div_ceil(l))
}

/// Bit `i` of a little-endian word vector.
fn bit(v: &[u64], i: u32) -> bool {
    (v[(i / 64) as usize] >> (i % 64)) & 1 == 1
}

/// The shift registers after one edge with `rx` on the pin.
fn shift(state: &mut [u64], rx: bool, len: u32, regs: u32) {
    let old = state.to_vec();
    for r in 0..regs {
        let base = r * len;
        let feedback = bit(&old, base + r);
        for j in (0..len).rev() {
            let v = if j == 0 {
                rx ^ feedback
            } else {
                bit(&old, base + j - 1)
            };
            let (w, b) = (((base + j) / 64) as usize, (base + j) % 64);
            state[w] = (state[w] & !(1 << b)) | (u64::from(v) << b);
        }
    }
}

/// Parity of what the preset observes: results and counters.
fn observed_parity(p: &PresetProbe) -> bool {
    let ones = u32::from(p.res_valid)
        + p.res_data.count_ones()
        + u32::from(p.res_last)
        + p.counters.iter().map(|c| c.count_ones()).sum::<u32>();
    ones % 2 == 1
}

/// Property: see the module documentation.
pub fn preset_soc_meets_its_contract(config: usize, cases: u32) -> Result<(), String> {
    let c = SOC_PRESET_CONFIGS[config];
    let beat = c.engine.weight_beat_bits();
    let (stim_w, len, regs) = stim_shape(beat);
    // Results, valid and last, and four 32-bit counters, XORed four at a
    // time: levels to one bit, each registered, after the input register.
    let obs_w = 1 + 32 + 1 + 4 * 32;
    let depth = clog2(obs_w).div_ceil(2) as usize + 1;
    check(
        &format!("preset_soc_contract[{}]", c.preset),
        cases,
        preset_case(),
        |case, waves| {
            let mut dut =
                SocPreset::with_trace(config, case.seed, waves).map_err(|e| e.to_string())?;
            dut.reset();
            let mut rng = Rng::new(case.rolls);
            let rx: Vec<u8> = (0..case.cycles)
                .map(|_| u8::from(rng.below(100) < u64::from(case.ones_pct)))
                .collect();
            let (tx, probes) = dut.run(&rx).map_err(|e| e.to_string())?;
            let words = (regs * len).div_ceil(64) as usize;
            let mut state = vec![0u64; words];
            let mut pipe = vec![false; depth];
            let (mut results, mut toggles, mut bist_at) = (0, 0, None);
            for (i, p) in probes.iter().enumerate() {
                let at = |what: &str| format!("cycle {i}: {what}");
                if p.stim.len() < words {
                    return Err(format!(
                        "probe has {} stimulus words, the layout needs {words}",
                        p.stim.len()
                    ));
                }
                if p.stim[..words] != state[..] {
                    return Err(at(&format!(
                        "stimulus registers {:x?}, expected {state:x?}",
                        &p.stim[..words]
                    )));
                }
                if tx[i] != u8::from(pipe[depth - 1]) {
                    return Err(at(&format!(
                        "tx {} but the parity of the results and counters {depth} cycles ago is {}",
                        tx[i],
                        u8::from(pipe[depth - 1])
                    )));
                }
                if p.bist_done {
                    bist_at.get_or_insert(i);
                    // The engine's ports: the stimulus, MSB first
                    // {cmd_valid, m, k, flags, act_valid, act_data,
                    // act_last, w_valid, w_data, w_last, res_ready}.
                    let want = [
                        ("cmd_valid", p.cmd_valid, stim_w - 1),
                        ("act_valid", p.act_valid, 4 + beat + 32),
                        ("w_valid", p.w_valid, 2 + beat),
                        ("res_ready", p.res_ready, 0),
                    ];
                    for (name, got, b) in want {
                        if got != bit(&state, b) {
                            return Err(at(&format!(
                                "engine {name} {got}, stimulus bit {b} is {}",
                                bit(&state, b)
                            )));
                        }
                    }
                }
                results += usize::from(p.res_valid);
                toggles += usize::from(i > 0 && tx[i] != tx[i - 1]);
                // The edge.
                if p.rst_n {
                    shift(&mut state, rx[i] == 1, len, regs);
                    pipe.rotate_right(1);
                    pipe[0] = observed_parity(p);
                } else {
                    state.iter_mut().for_each(|w| *w = 0);
                    pipe.iter_mut().for_each(|b| *b = false);
                }
            }
            let Some(bist_at) = bist_at else {
                return Err(format!(
                    "the self-test did not finish in {} cycles",
                    case.cycles
                ));
            };
            if bist_at > BIST_LIMIT {
                return Err(format!(
                    "the self-test took {bist_at} cycles (limit {BIST_LIMIT})"
                ));
            }
            // LEDs are active low on this build: 1 = self-test passed (on),
            // 2 = failed (off).
            let leds = dut.leds();
            if leds & 0b110 != 0b100 {
                return Err(format!(
                    "LEDs {leds:08b} at the end: self-test passed should be on (bit 1 low), failed off (bit 2 high)"
                ));
            }
            // Not vacuous: the self-test's results went through the parity.
            if results == 0 || toggles == 0 {
                return Err(format!(
                    "{results} result cycles and {toggles} tx toggles: nothing observed"
                ));
            }
            Ok(())
        },
    )
}
