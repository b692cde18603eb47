//! The digital twin: the Verilated SoC top ([`hlsk_cosim::Soc`]) behind the
//! bit-level UART line model of [`crate::uart`], as an
//! [`hlsk_host::Transport`], with faults injected on the wire.
//!
//! Host bytes become line levels ([`frame_levels`], `ClksPerBit` cycles per
//! bit, back to back) on the SoC's rx pin; its tx pin is read back by a
//! [`LineDecoder`] sampling each bit in its middle. The device runs only
//! inside [`Twin::recv`](hlsk_host::Transport::recv), and time there is
//! simulated time: the twin's clock is `baud * ClksPerBit` at the board's
//! baud rate (`[uart] baud`), so the link's bit times and timeouts (in
//! milliseconds) mean what they mean on the board.
//!
//! The twin's clock is not the board's, though (24 MHz for the iCEBreaker's
//! 3 Mbaud against its 30 MHz; 921.6 kHz for a 115,200 board at 75 MHz):
//! link time is the board's, engine cycles are the board's cycles at the
//! wrong clock. [`BoardTime`] puts a job back on the board's clock: its link
//! bytes at the board's baud plus its engine cycles at the board's clock.

use crate::uart_line::{self, LineDecoder, LineEvent, frame_levels};
use hlsk_cosim::configs::SOC_CONFIGS;
use hlsk_cosim::{Soc, SocConfig};
use hlsk_host::{Transport, TransportError};
use std::collections::VecDeque;
use std::path::Path;
use std::time::Duration;

/// Cycles the twin runs after reset before it takes bytes: the power-on
/// counter and the self-test (well under 2^12 cycles) are done by then.
pub const BOOT_CYCLES: usize = 6000;

/// One fault on the wire, at a byte of a frame (0 = its SOF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireFault {
    /// Flip bit `bit` (0..8) of byte `byte`.
    FlipBit {
        /// Byte index.
        byte: usize,
        /// Bit index, 0 = LSB.
        bit: u8,
    },
    /// Byte `byte` never reaches the line.
    Drop {
        /// Byte index.
        byte: usize,
    },
    /// Byte `byte` goes out twice.
    Duplicate {
        /// Byte index.
        byte: usize,
    },
    /// Only the first `keep` bytes go out (then the line stays idle).
    Truncate {
        /// Bytes sent.
        keep: usize,
    },
    /// Byte `byte` goes out with a low stop bit (a framing error on the
    /// line; host to device only).
    BadStopBit {
        /// Byte index.
        byte: usize,
    },
}

impl WireFault {
    /// The bytes after the fault, each with "stop bit bad".
    fn apply(self, bytes: &[u8]) -> Vec<(u8, bool)> {
        let mut out: Vec<(u8, bool)> = Vec::with_capacity(bytes.len() + 1);
        for (i, &b) in bytes.iter().enumerate() {
            match self {
                WireFault::FlipBit { byte, bit } if byte == i => out.push((b ^ (1 << bit), false)),
                WireFault::Drop { byte } if byte == i => {}
                WireFault::Duplicate { byte } if byte == i => out.extend([(b, false), (b, false)]),
                WireFault::Truncate { keep } if i >= keep => {}
                WireFault::BadStopBit { byte } if byte == i => out.push((b, true)),
                _ => out.push((b, false)),
            }
        }
        out
    }
}

/// The digital twin of one board's SoC.
pub struct Twin {
    soc: Soc,
    name: String,
    cpb: u32,
    /// Host-to-device line levels not yet driven.
    line_in: VecDeque<u8>,
    decoder: LineDecoder,
    /// Bytes decoded from the device, not yet handed out.
    received: VecDeque<u8>,
    /// Faults on the next host frames (front = next `send`).
    to_device: VecDeque<Option<WireFault>>,
    /// Faults on the next device frames (front = next reply; the byte index
    /// counts from the reply's SOF).
    from_device: VecDeque<Option<WireFault>>,
    /// The device frame on the line: bytes seen, and its length once its
    /// LEN byte is in; `None` between frames.
    dev_frame: Option<(usize, Option<usize>)>,
    /// Cycles the tx line has been idle between bytes.
    tx_idle: usize,
    /// The fault on the device frame being received, and its bytes so far.
    reply_bytes: Option<(WireFault, Vec<u8>)>,
}

/// Why a twin could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TwinError {
    /// No twin build carries this board's kernel.
    #[error(
        "no digital twin of board {board}: twins are built for {known}; add the board's kernel \
         to SOC_CONFIGS in cosim/src/configs.rs"
    )]
    NoBuild {
        /// Board name.
        board: String,
        /// Boards with a twin.
        known: String,
    },
    /// The model failed.
    #[error(transparent)]
    Model(#[from] hlsk_cosim::Error),
}

impl Twin {
    /// The twin of SoC build `config` (an index into `SOC_CONFIGS`), power-up
    /// state from `seed`, reset and booted; `trace` writes a waveform.
    pub fn new(config: usize, seed: u32, trace: Option<&Path>) -> Result<Twin, TwinError> {
        let mut soc = Soc::with_trace(config, seed, trace)?;
        soc.reset();
        let name = format!("twin of {}", soc.config().name());
        let mut twin = Twin {
            cpb: SocConfig::TWIN_CLKS_PER_BIT,
            soc,
            name,
            line_in: VecDeque::new(),
            decoder: LineDecoder::new(SocConfig::TWIN_CLKS_PER_BIT),
            received: VecDeque::new(),
            to_device: VecDeque::new(),
            from_device: VecDeque::new(),
            dev_frame: None,
            tx_idle: 0,
            reply_bytes: None,
        };
        twin.run(BOOT_CYCLES)
            .map_err(|e| hlsk_cosim::Error::Model(e.to_string()))?;
        Ok(twin)
    }

    /// The twin of `board`'s SoC (a file stem in `boards/`).
    pub fn for_board(board: &str, seed: u32) -> Result<Twin, TwinError> {
        let config = SocConfig::for_board(board).ok_or_else(|| TwinError::NoBuild {
            board: board.to_owned(),
            known: SOC_CONFIGS
                .iter()
                .flat_map(|c| c.boards.iter().copied())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        Twin::new(config, seed, None)
    }

    /// The SoC build.
    pub fn config(&self) -> SocConfig {
        self.soc.config()
    }

    /// Simulated clock cycles so far.
    pub fn cycles(&self) -> u64 {
        self.soc.cycles()
    }

    /// The LED pins.
    pub fn leds(&self) -> u32 {
        self.soc.leds()
    }

    /// Applies `fault` to the `nth` frame the host sends from now on (0 =
    /// the next).
    pub fn fault_to_device(&mut self, nth: usize, fault: WireFault) {
        set_fault(&mut self.to_device, nth, fault);
    }

    /// Applies `fault` to the `nth` reply the device sends from now on.
    /// `BadStopBit` is not available in this direction.
    pub fn fault_from_device(&mut self, nth: usize, fault: WireFault) {
        set_fault(&mut self.from_device, nth, fault);
    }

    /// Queues raw bytes on the line (no frame, no fault), e.g. noise.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.line_in
                .extend(frame_levels(b, self.cpb, false).map(u8::from));
        }
    }

    /// Runs `cycles` cycles, driving queued levels (then idle) and decoding
    /// the tx line.
    fn run(&mut self, cycles: usize) -> Result<(), TransportError> {
        let rx: Vec<u8> = (0..cycles)
            .map(|_| self.line_in.pop_front().unwrap_or(1))
            .collect();
        let mut tx = vec![1u8; cycles];
        self.soc
            .run(&rx, &mut tx)
            .map_err(|e| TransportError::Twin(e.to_string()))?;
        if self.soc.rtl_error() {
            return Err(TransportError::Twin(
                "an RTL assertion failed in the SoC model (rerun with a waveform: \
                 `Twin::new(.., Some(path))` under `--features trace`)"
                    .to_owned(),
            ));
        }
        for &level in &tx {
            // A device frame ends at its length, or when the line stays
            // idle for two byte times (a frame in the older framing, or cut).
            if self.decoder.idle() && level == 1 {
                self.tx_idle += 1;
                if self.tx_idle == 2 * uart_line::FRAME_BITS as usize * self.cpb as usize {
                    self.end_device_frame();
                }
            } else {
                self.tx_idle = 0;
            }
            match self.decoder.sample(level == 1) {
                Some(LineEvent::Byte(b)) => self.device_byte(b),
                Some(LineEvent::FramingError) | Some(LineEvent::Unstable { .. }) => {
                    return Err(TransportError::Twin(
                        "the SoC's tx line broke the 8N1 framing".to_owned(),
                    ));
                }
                None => {}
            }
        }
        Ok(())
    }

    /// A byte from the device, through the reply faults. A fault applies
    /// to the `nth` frame the device sends: frames are counted at their
    /// SOF between frames (not at a SOF value inside a payload) and end
    /// after `OVERHEAD + LEN` bytes.
    fn device_byte(&mut self, b: u8) {
        if self.dev_frame.is_none() {
            if b != hlsk_host::proto::SOF {
                // Not a frame: passed on as it is.
                self.received.push_back(b);
                return;
            }
            self.dev_frame = Some((0, None));
            if let Some(Some(f)) = self.from_device.pop_front() {
                self.reply_bytes = Some((f, Vec::new()));
            }
        }
        match &mut self.reply_bytes {
            None => self.received.push_back(b),
            Some((_, bytes)) => bytes.push(b),
        }
        if let Some((seen, len)) = &mut self.dev_frame {
            *seen += 1;
            // LEN is byte 1: the frame is OVERHEAD + LEN bytes long.
            if *seen == 2 {
                *len = Some(hlsk_host::proto::OVERHEAD + usize::from(b));
            }
            if len.is_some_and(|l| *seen >= l) {
                self.end_device_frame();
            }
        }
    }

    /// Ends the device frame on the line: its bytes, through its fault if
    /// one applies, go to the host.
    fn end_device_frame(&mut self) {
        self.dev_frame = None;
        if let Some((fault, bytes)) = self.reply_bytes.take() {
            let out = fault.apply(&bytes);
            self.received.extend(out.into_iter().map(|(b, _)| b));
        }
    }
}

/// A job's time on the board from what the twin (or a board) measured:
/// its bytes on the link at the board's baud rate plus its engine cycles at
/// the board's clock.
///
/// In stop-and-wait the line carries one frame at a time, so the link time
/// is the frames' bytes end to end ([`BoardTime::link_s`]); the engine
/// runs while the host polls STATUS, the first poll executing 18 bytes
/// after TLMM_START (its reply, then the STATUS frame). A job that ends by
/// then is polled once on the twin and on the board alike, and costs its
/// link time plus at most its engine time ([`BoardTime::job_s`]: the
/// device's few cycles of command handling per frame hide under the line
/// time). A longer job can take one poll more on a twin that has fewer
/// cycles per bit than its board. The twin's own simulated time
/// ([`BoardTime::twin_s`]) runs its engine at
/// `baud * ClksPerBit` instead.
///
/// ```
/// use hlsk_sim::twin::BoardTime;
/// let t = BoardTime {
///     link_bytes: 3_000,
///     baud: 3_000_000,
///     engine_cycles: 2_100,
///     clk_hz: 21_000_000,
///     twin_cycles: 250_000,
///     twin_clk_hz: 24_000_000,
/// };
/// assert_eq!(t.link_s(), 0.01); // 30,000 bits at 3 Mbaud
/// assert_eq!(t.engine_s(), 1e-4); // 2,100 cycles at 21 MHz
/// assert!((t.job_s() - 0.0101).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoardTime {
    /// Bytes on the line, both directions (every attempt of every frame).
    pub link_bytes: u64,
    /// The board's baud rate.
    pub baud: u32,
    /// The job's engine cycles (STATUS job cycles, or the conv busy cycles).
    pub engine_cycles: u64,
    /// The board's clock, Hz.
    pub clk_hz: u64,
    /// Cycles the twin simulated for the job.
    pub twin_cycles: u64,
    /// The twin's clock, Hz.
    pub twin_clk_hz: u32,
}

impl BoardTime {
    /// Line time of the bytes, 10 bits each (8N1), seconds.
    pub fn link_s(&self) -> f64 {
        self.link_bytes as f64 * f64::from(uart_line::FRAME_BITS) / f64::from(self.baud.max(1))
    }

    /// Engine time at the board's clock, seconds.
    pub fn engine_s(&self) -> f64 {
        self.engine_cycles as f64 / self.clk_hz.max(1) as f64
    }

    /// The job's time on the board: link plus engine, seconds.
    pub fn job_s(&self) -> f64 {
        self.link_s() + self.engine_s()
    }

    /// The twin's simulated time for the job, seconds.
    pub fn twin_s(&self) -> f64 {
        self.twin_cycles as f64 / f64::from(self.twin_clk_hz.max(1))
    }
}

fn set_fault(q: &mut VecDeque<Option<WireFault>>, nth: usize, fault: WireFault) {
    if q.len() <= nth {
        q.resize(nth + 1, None);
    }
    q[nth] = Some(fault);
}

impl Transport for Twin {
    fn send(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        let out = match self.to_device.pop_front().flatten() {
            Some(f) => f.apply(bytes),
            None => bytes.iter().map(|&b| (b, false)).collect(),
        };
        for (b, bad_stop) in out {
            self.line_in
                .extend(frame_levels(b, self.cpb, bad_stop).map(u8::from));
            if bad_stop {
                // The line must go high again before the next start bit.
                self.line_in
                    .extend(std::iter::repeat_n(1, self.cpb as usize));
            }
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, TransportError> {
        let clk = u128::from(self.config().clk_hz());
        let budget = (timeout.as_nanos() * clk / 1_000_000_000) as usize;
        // Four byte times per step: replies are handed out soon after they end.
        let step = 40 * self.cpb as usize;
        let mut spent = 0;
        while self.received.is_empty() && spent < budget {
            let n = step.min(budget - spent);
            self.run(n)?;
            spent += n;
        }
        let n = buf.len().min(self.received.len());
        for (slot, b) in buf.iter_mut().zip(self.received.drain(..n)) {
            *slot = b;
        }
        Ok(n)
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hls_rust::rng::Rng;
    use hls_rust::tlmm::TernaryMatrix;
    use hlsk_host::job::run_tlmm;
    use hlsk_host::{Link, LinkConfig};

    /// Runs one small job on `board`'s twin; its link bytes, job cycles,
    /// twin cycles and twin clock.
    fn small_job(board: &str) -> (u64, u64, u64, u32) {
        let twin = Twin::for_board(board, 3).expect("twin");
        let cfg = twin.config();
        let mut link = Link::connect(
            twin,
            LinkConfig {
                baud: cfg.baud,
                ..LinkConfig::default()
            },
        )
        .expect("connect");
        let mut rng = Rng::new(5);
        let w = TernaryMatrix::random(6, 40, 0.3, &mut rng);
        let x: Vec<i8> = (0..40).map(|_| rng.below(256) as u8 as i8).collect();
        let (s0, c0) = (link.stats(), link.transport().cycles());
        let o = run_tlmm(&mut link, &w, &x, &mut |_| {}).expect("job");
        assert!(o.passed(), "{board}: {:?} vs {:?}", o.out, o.expected);
        let s1 = link.stats();
        let bytes = s1.bytes_sent + s1.bytes_received - s0.bytes_sent - s0.bytes_received;
        assert_eq!(s1.retries, 0, "{board}");
        let cycles = link.transport().cycles() - c0;
        (bytes, u64::from(o.status.job_cycles), cycles, cfg.clk_hz())
    }

    /// Property: a reply fault hits the `nth` frame the device sends, not a
    /// byte of a payload that happens to equal SOF (0xA5): a READ of words
    /// full of 0xA5 comes back intact, and the fault lands on the reply
    /// after it (the host then retries once).
    #[test]
    fn reply_faults_count_frames_not_sof_bytes_in_payloads() {
        let twin = Twin::for_board("icebreaker", 1).expect("twin");
        let baud = twin.config().baud;
        let mut link = Link::connect(
            twin,
            LinkConfig {
                baud,
                ..LinkConfig::default()
            },
        )
        .expect("connect");
        let words = [0xA5A5_A5A5u32, 0x00A5_00A5, 0xA5A5_A5A5, 0xA5];
        link.write_words(0, &words).expect("write");
        link.transport_mut()
            .fault_from_device(1, WireFault::FlipBit { byte: 9, bit: 0 });
        assert_eq!(link.read_words(0, 4).expect("read"), words);
        assert_eq!(link.stats().retries, 0);
        link.status().expect("status after a garbled reply");
        let s = link.stats();
        assert_eq!((s.retries, s.bad_replies), (1, 1), "{s:?}");
    }

    /// Property: a job runs at the board's rate, not only at the old
    /// 115,200: the iCEBreaker's twin runs at 3 Mbaud (24 MHz, 8 cycles per
    /// bit), and the same job on the same kernel at 115,200 (the Tang Nano
    /// 9K's build) takes the same bytes and cycles, so its simulated time
    /// scales with the rate alone.
    #[test]
    fn a_job_runs_at_the_boards_baud_and_its_time_scales_with_the_rate() {
        let fast = small_job("icebreaker");
        let slow = small_job("tangnano9k");
        assert_eq!(fast.3, 3_000_000 * SocConfig::TWIN_CLKS_PER_BIT);
        assert_eq!(slow.3, 115_200 * SocConfig::TWIN_CLKS_PER_BIT);
        assert_eq!((fast.0, fast.1, fast.2), (slow.0, slow.1, slow.2));
        // The line time is most of the twin's time: bytes * 10 bits *
        // 8 cycles of a few thousand cycles simulated.
        assert!(fast.2 >= fast.0 * 80, "{fast:?}");
    }
}
