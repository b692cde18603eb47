//! Properties of the UART (`hlsk_uart_rx`, `hlsk_uart_tx`) against a
//! bit-level model of an 8N1 line.
//!
//! The model is two pieces: [`frame_levels`] drives a line one clock cycle
//! at a time (start bit, eight data bits LSB first, stop bit, each
//! `ClksPerBit` cycles), and [`LineDecoder`] reads one back, sampling each
//! bit in its middle and also insisting that every bit holds its level for
//! its whole period. The properties, for every build in
//! `hlsk_cosim::configs::UART_CONFIGS`:
//!
//! - [`rx_delivers_line_bytes_on`]: random bytes with random idle gaps driven
//!   into the receiver come out as the same bytes, in order, under random
//!   ready back-pressure, with no framing error and no overrun;
//! - [`tx_line_decodes_to_bytes_on`]: random bytes offered to the
//!   transmitter with random valid gaps decode, on the line, to the same
//!   bytes; the line is high after reset and between frames;
//! - [`rx_flags_bad_stop_bit_on`]: a frame with a low stop bit is dropped and
//!   sets the sticky framing-error flag; the bytes around it still arrive.

use crate::prop::check;
use hlsk_cosim::configs::UART_CONFIGS;
use hlsk_cosim::{UartRx, UartRxIn, UartTx, UartTxIn};
use proptest::prelude::*;

pub use hlsk_sim::uart_line::{FRAME_BITS, LineDecoder, LineEvent, frame_levels};

/// Longest random byte sequence.
pub const MAX_BYTES: usize = 24;

/// A random byte stream with its pacing.
#[derive(Debug, Clone)]
pub struct UartCase {
    /// Index into `UART_CONFIGS`.
    pub config: usize,
    /// Seed of the X-randomised power-up state.
    pub seed: u32,
    /// Bytes, each with the idle cycles before its frame (rx) or the
    /// cycles its producer waits before offering it (tx).
    pub bytes: Vec<(u8, u32)>,
    /// Percent chance of ready (rx consumer) per cycle.
    pub ready_percent: u8,
    /// Per-cycle rolls against `ready_percent`, used cyclically.
    pub rolls: Vec<u8>,
    /// Frame (index into `bytes`) whose stop bit is low, if any.
    pub bad_stop: Option<usize>,
}

fn uart_case(config: usize, bad_stop: bool) -> impl Strategy<Value = UartCase> {
    let cpb = UART_CONFIGS[config].clks_per_bit;
    let min_bytes = if bad_stop { 1 } else { 0 };
    (
        any::<u32>(),
        prop::collection::vec((any::<u8>(), 0..3 * cpb), min_bytes..MAX_BYTES),
        prop::sample::select(vec![100u8, 80, 50, 20, 3]),
        prop::collection::vec(0u8..100, 1..64),
        any::<prop::sample::Index>(),
    )
        .prop_map(move |(seed, bytes, ready_percent, rolls, bad)| UartCase {
            config,
            seed,
            bad_stop: (bad_stop && !bytes.is_empty()).then(|| bad.index(bytes.len())),
            bytes,
            ready_percent,
            rolls,
        })
}

impl UartCase {
    fn cpb(&self) -> u32 {
        UART_CONFIGS[self.config].clks_per_bit
    }

    fn ready(&self, cycle: usize) -> bool {
        self.rolls[cycle % self.rolls.len()] < self.ready_percent
    }

    /// The rx stimulus: line levels per cycle, with at least a bit period of
    /// idle after a bad stop bit (so the receiver sees the line high again)
    /// and enough idle at the end for the last frame to complete.
    fn line(&self) -> Vec<bool> {
        let cpb = self.cpb();
        let mut line = Vec::new();
        let mut after_bad = false;
        for (i, &(byte, gap)) in self.bytes.iter().enumerate() {
            let gap = if after_bad { gap.max(cpb) } else { gap };
            line.extend(std::iter::repeat_n(true, gap as usize));
            let bad = self.bad_stop == Some(i);
            line.extend(frame_levels(byte, cpb, bad));
            after_bad = bad;
        }
        line.extend(std::iter::repeat_n(true, 2 * cpb as usize + 4));
        line
    }
}

/// Cycles the rx bench lets a received byte wait before it forces ready:
/// well inside the nine bit periods before the next byte could complete.
fn max_wait(cpb: u32) -> u32 {
    4 * cpb
}

/// Drives `case.line()` into the receiver; checks its bytes against the
/// line model's, and its status flags against `case.bad_stop`.
fn run_rx(case: &UartCase, waves: Option<&std::path::Path>) -> Result<(), String> {
    let cpb = case.cpb();
    let line = case.line();
    let mut model = LineDecoder::new(cpb);
    let expected: Vec<LineEvent> = line.iter().filter_map(|&l| model.sample(l)).collect();
    let want_bytes: Vec<u8> = expected
        .iter()
        .filter_map(|e| match e {
            LineEvent::Byte(b) => Some(*b),
            _ => None,
        })
        .collect();
    let framed: Vec<LineEvent> = (case.bytes.iter().enumerate())
        .map(|(i, &(b, _))| match case.bad_stop == Some(i) {
            true => LineEvent::FramingError,
            false => LineEvent::Byte(b),
        })
        .collect();
    if expected != framed {
        return Err(format!(
            "line model decoded {expected:02x?} from a line carrying {framed:02x?}"
        ));
    }

    let mut dut = UartRx::with_trace(case.config, case.seed, waves).map_err(|e| e.to_string())?;
    dut.reset();
    let mut got = Vec::new();
    let mut waited = 0;
    let mut frame_err_seen = false;
    // Cycle at which the bad frame starts: no framing error before it (the
    // frames before it are all good, so their gaps are as drawn).
    let bad_start = case.bad_stop.map(|i| {
        let gaps: usize = case.bytes[..=i].iter().map(|&(_, g)| g as usize).sum();
        gaps + i * (FRAME_BITS * cpb) as usize
    });
    for (cycle, &rx) in line.iter().enumerate() {
        let out_ready = case.ready(cycle) || waited >= max_wait(cpb);
        let p = dut.step(&UartRxIn { rx, out_ready });
        if p.out_valid {
            waited += 1;
            if out_ready {
                got.push(p.out_data);
                waited = 0;
            }
        }
        if p.overrun {
            return Err(format!(
                "cycle {cycle}: overrun set, yet ready came within {} cycles",
                max_wait(cpb)
            ));
        }
        if frame_err_seen && !p.frame_err {
            return Err(format!("cycle {cycle}: frame_err cleared without reset"));
        }
        frame_err_seen = p.frame_err;
        if p.frame_err && bad_start.is_none_or(|s| cycle < s) {
            return Err(format!(
                "cycle {cycle}: frame_err set before any bad stop bit"
            ));
        }
        if dut.rtl_error() {
            return Err(format!("cycle {cycle}: RTL assertion fired"));
        }
    }
    // Drain the last byte.
    for _ in 0..2 {
        let p = dut.step(&UartRxIn {
            rx: true,
            out_ready: true,
        });
        if p.out_valid {
            got.push(p.out_data);
        }
    }
    if got != want_bytes {
        return Err(format!(
            "rx delivered {got:02x?}, line carried {want_bytes:02x?}"
        ));
    }
    if frame_err_seen != case.bad_stop.is_some() {
        return Err(format!(
            "frame_err is {frame_err_seen} at the end, bad stop bit: {:?}",
            case.bad_stop
        ));
    }
    Ok(())
}

/// Property: on build `config`, random bytes with random idle gaps (back
/// to back included) driven into `hlsk_uart_rx` come out as the bytes the
/// line model decodes (the bytes sent), in order, under random ready
/// back-pressure, with neither framing error nor overrun.
pub fn rx_delivers_line_bytes_on(config: usize, cases: u32) -> Result<(), String> {
    check(
        &format!("uart rx delivers the line's bytes (build {config})"),
        cases,
        uart_case(config, false),
        run_rx,
    )
}

/// Property: on build `config`, a frame with a low stop bit among random
/// frames is dropped and sets `frame_err_o` (not before that frame, and
/// for good after it); the other bytes arrive, in order.
pub fn rx_flags_bad_stop_bit_on(config: usize, cases: u32) -> Result<(), String> {
    check(
        &format!("uart rx flags a bad stop bit (build {config})"),
        cases,
        uart_case(config, true),
        run_rx,
    )
}

/// Property: on build `config`, bytes offered to `hlsk_uart_tx` with random
/// delays (the producer holds valid and data until accepted) appear on the
/// line as frames that the line model decodes to the same bytes, every bit
/// held for exactly `ClksPerBit` cycles; the line is high after reset and
/// whenever no frame is in progress.
pub fn tx_line_decodes_to_bytes_on(config: usize, cases: u32) -> Result<(), String> {
    check(
        &format!("uart tx line decodes to the bytes sent (build {config})"),
        cases,
        uart_case(config, false),
        run_tx,
    )
}

fn run_tx(case: &UartCase, waves: Option<&std::path::Path>) -> Result<(), String> {
    let cpb = case.cpb();
    let mut dut = UartTx::with_trace(case.config, case.seed, waves).map_err(|e| e.to_string())?;
    dut.reset();
    let mut decoder = LineDecoder::new(cpb);
    let mut got = Vec::new();
    let mut next = 0;
    let mut delay = case.bytes.first().map_or(0, |&(_, d)| d);
    let frame = (FRAME_BITS * cpb) as usize;
    let limit = case
        .bytes
        .iter()
        .map(|&(_, d)| d as usize + frame + 2)
        .sum::<usize>()
        + 2 * frame;
    for cycle in 0..limit {
        let offer = next < case.bytes.len() && delay == 0;
        let in_data = if offer { case.bytes[next].0 } else { 0 };
        let p = dut.step(&UartTxIn {
            in_valid: offer,
            in_data,
        });
        if cycle == 0 && !p.tx {
            return Err("line low right after reset".into());
        }
        if p.in_ready && !p.tx {
            return Err(format!(
                "cycle {cycle}: line low while the transmitter is idle"
            ));
        }
        if p.busy == p.in_ready {
            return Err(format!(
                "cycle {cycle}: busy {} with in_ready {}",
                p.busy, p.in_ready
            ));
        }
        match decoder.sample(p.tx) {
            Some(LineEvent::Byte(b)) => got.push(b),
            Some(e) => return Err(format!("cycle {cycle}: line model read {e:?}")),
            None => {}
        }
        if offer && p.in_ready {
            next += 1;
            delay = case.bytes.get(next).map_or(0, |&(_, d)| d);
        } else if !offer {
            delay = delay.saturating_sub(1);
        }
        if dut.rtl_error() {
            return Err(format!("cycle {cycle}: RTL assertion fired"));
        }
        if next == case.bytes.len() && p.in_ready && decoder.idle() && got.len() == next {
            break;
        }
    }
    let sent: Vec<u8> = case.bytes.iter().map(|&(b, _)| b).collect();
    if got != sent {
        return Err(format!("line decoded to {got:02x?}, sent {sent:02x?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoder_reads_back_frame_levels() {
        for cpb in [2, 3, 16] {
            let mut d = LineDecoder::new(cpb);
            let ev: Vec<_> = frame_levels(0xa5, cpb, false)
                .chain(frame_levels(0x3c, cpb, true))
                .filter_map(|l| d.sample(l))
                .collect();
            assert_eq!(ev, [LineEvent::Byte(0xa5), LineEvent::FramingError]);
        }
    }
}
