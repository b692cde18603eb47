//! The driver: one command at a time (stop and wait), retried on a lost or
//! garbled reply and on wire NAKs, over any [`Transport`].

use crate::proto::{
    Command, DecodeError, Decoder, DeviceInfo, DeviceStatus, Frame, Framing, OVERHEAD, Status,
    TlmmDescriptor, VERSION, conv_payload,
};
use crate::transport::{Transport, TransportError};
use std::time::Duration;

/// Timeouts and retries of a [`Link`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkConfig {
    /// Baud rate of the line (sets how long a reply may take).
    pub baud: u32,
    /// Waiting time for a reply beyond the time its bytes take on the
    /// line; longer than the device's 20 ms inter-byte timeout, so that a
    /// truncated frame is NAKed (or forgotten) before the retry.
    pub reply_margin: Duration,
    /// Sends of one command before giving up (the first included).
    pub attempts: u32,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            baud: 115_200,
            reply_margin: Duration::from_millis(60),
            attempts: 8,
        }
    }
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The byte pipe failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// Every attempt went unanswered or garbled.
    #[error(
        "{cmd:?}: no valid reply after {attempts} attempts ({last}); check the cable, the \
         baud rate and that the board runs the hlsk SoC bitstream (`hlsk program`)"
    )]
    NoReply {
        /// The command.
        cmd: Command,
        /// Attempts made.
        attempts: u32,
        /// What went wrong last.
        last: String,
    },
    /// The device refused the command (not a wire error: retrying will not help).
    #[error("{cmd:?} refused by the device: {status}")]
    Refused {
        /// The command.
        cmd: Command,
        /// The device's answer.
        status: Status,
    },
    /// A reply whose payload does not have the expected form.
    #[error("{cmd:?}: malformed reply ({len} payload bytes)")]
    Malformed {
        /// The command.
        cmd: Command,
        /// Payload bytes received.
        len: usize,
    },
    /// The device speaks another protocol version.
    #[error(
        "device speaks protocol version {got}, this host {VERSION}; rebuild and reprogram the bitstream"
    )]
    Version {
        /// The device's version.
        got: u8,
    },
    /// An argument the link cannot send (the device would refuse it).
    #[error("{0}")]
    Argument(String),
}

/// What the link went through (for reports and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Commands acknowledged.
    pub commands: u64,
    /// Frames sent again.
    pub retries: u64,
    /// Attempts that timed out.
    pub timeouts: u64,
    /// Replies dropped for a bad CRC.
    pub bad_replies: u64,
    /// Wire NAKs (CRC, truncated) received.
    pub naks: u64,
    /// Acknowledgements as duplicates.
    pub dups: u64,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Bytes received.
    pub bytes_received: u64,
}

/// A connection to an hlsk SoC over a [`Transport`].
///
/// ```no_run
/// use hlsk_host::{Link, LinkConfig, SerialTransport};
///
/// let port = SerialTransport::open("/dev/ttyUSB1", 115_200)?;
/// let mut link = Link::connect(port, LinkConfig::default())?;
/// link.write_words(0, &[1, 2, 3])?;
/// assert_eq!(link.read_words(0, 3)?, vec![1, 2, 3]);
/// # Ok::<(), hlsk_host::LinkError>(())
/// ```
pub struct Link<T: Transport> {
    transport: T,
    config: LinkConfig,
    info: DeviceInfo,
    seq: u8,
    /// SEQs a new command must not take: the device may remember one of
    /// them as its last executed INFO/WRITE/TLMM_START/CONV_START, and would
    /// answer a new side-effecting command with it as a duplicate.
    kept: KeptSeq,
    decoder: Decoder,
    /// While connecting: a decoder of protocol version 2 frames, to
    /// recognize a device of that version, and the version it reported
    /// (2 for any good version-2 frame).
    old_device: Option<(Decoder, Option<u8>)>,
    stats: LinkStats,
}

/// What the host knows of the SEQ the device remembers for its duplicate
/// check.
#[derive(Debug, Clone, Copy, Default)]
struct KeptSeq {
    /// The SEQ of the last acknowledged command that keeps its SEQ.
    acked: Option<u8>,
    /// A later such command that got no definite answer: the device may
    /// or may not have executed it, so it may remember either SEQ.
    unsure: Option<u8>,
}

impl KeptSeq {
    fn avoids(&self, seq: u8) -> bool {
        self.acked == Some(seq) || self.unsure == Some(seq)
    }
}

impl<T: Transport> Link<T> {
    /// Opens a session: asks the device for INFO (which also sets its
    /// last executed SEQ to this session's, so no later command can be
    /// mistaken for a repeat of an older session's) and checks the
    /// protocol version. A device of protocol version 2 cannot read this
    /// host's frames (CRC-32C) and answers them in its own (CRC-16): when
    /// INFO gets no valid reply but such a frame came, the error is
    /// [`LinkError::Version`], not [`LinkError::NoReply`].
    pub fn connect(transport: T, config: LinkConfig) -> Result<Link<T>, LinkError> {
        let mut link = Link {
            transport,
            config,
            info: DeviceInfo::parse(&[0; DeviceInfo::LEN]).expect("fixed length"),
            seq: 0,
            kept: KeptSeq::default(),
            decoder: Decoder::default(),
            old_device: Some((Decoder::new(Framing::V2), None)),
            stats: LinkStats::default(),
        };
        let info = link.transact(Command::Info, &[]);
        let old = link.old_device.take().and_then(|(_, version)| version);
        let p = match (info, old) {
            (Err(LinkError::NoReply { .. }), Some(got)) => {
                return Err(LinkError::Version { got });
            }
            (info, _) => info?,
        };
        link.info = DeviceInfo::parse(&p).ok_or(LinkError::Malformed {
            cmd: Command::Info,
            len: p.len(),
        })?;
        if link.info.version != VERSION {
            return Err(LinkError::Version {
                got: link.info.version,
            });
        }
        Ok(link)
    }

    /// The device's parameters (from INFO).
    pub fn info(&self) -> DeviceInfo {
        self.info
    }

    /// What the link went through so far.
    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    /// The transport (for fault injection in tests).
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Time a frame of `len` payload bytes takes on the line (10 bits per byte).
    fn line_time(&self, len: usize) -> Duration {
        let bits = 10 * (len + OVERHEAD) as u64;
        Duration::from_micros(bits * 1_000_000 / u64::from(self.config.baud.max(1)))
    }

    /// Sends `cmd` with `payload` and returns the reply's payload, retrying
    /// on silence, a garbled reply or a wire NAK; a duplicate
    /// acknowledgement counts as success (the device had executed the
    /// command before its first reply was lost).
    pub fn transact(&mut self, cmd: Command, payload: &[u8]) -> Result<Vec<u8>, LinkError> {
        // Before INFO, max_payload is 0: the first command has no payload.
        let max = usize::from(self.info.max_payload);
        if payload.len() > max && cmd != Command::Info {
            return Err(LinkError::Argument(format!(
                "{cmd:?}: {} payload bytes, the device takes at most {max}",
                payload.len()
            )));
        }
        if self.kept.unsure.is_some() && cmd != Command::Info {
            // A command of unknown fate leaves two SEQs the device may
            // remember; INFO makes it remember one again.
            self.transact(Command::Info, &[])?;
        }
        self.seq = self.seq.wrapping_add(1);
        while self.kept.avoids(self.seq) {
            self.seq = self.seq.wrapping_add(1);
        }
        let result = self.exchange(cmd, payload);
        if cmd.keeps_seq() {
            match &result {
                Ok(_) => {
                    self.kept = KeptSeq {
                        acked: Some(self.seq),
                        unsure: None,
                    }
                }
                // Refused: not executed, the device remembers what it did.
                Err(LinkError::Refused { .. } | LinkError::Argument(_)) => {}
                Err(_) => self.kept.unsure = Some(self.seq),
            }
        }
        result
    }

    /// Sends `cmd` with this link's current SEQ and waits for its reply,
    /// retrying as [`transact`](Self::transact) says.
    fn exchange(&mut self, cmd: Command, payload: &[u8]) -> Result<Vec<u8>, LinkError> {
        let frame = Frame {
            seq: self.seq,
            code: cmd as u8,
            payload: payload.to_vec(),
        }
        .encode();
        // The longest reply: READ of max_words words, or STATUS.
        let reply_len = (4 * usize::from(self.info.max_words)).max(DeviceStatus::LEN);
        let wait =
            self.line_time(payload.len()) + self.line_time(reply_len) + self.config.reply_margin;
        let mut last = String::from("no reply");
        for attempt in 0..self.config.attempts {
            if attempt > 0 {
                self.stats.retries += 1;
            }
            self.transport.send(&frame)?;
            self.stats.bytes_sent += frame.len() as u64;
            match self.await_reply(wait)? {
                Reply::Frame(status, p) if status.is_ack() => {
                    self.stats.commands += 1;
                    if status == Status::Dup {
                        self.stats.dups += 1;
                    }
                    return Ok(p);
                }
                Reply::Frame(status, _) if status.is_transient() => {
                    self.stats.naks += 1;
                    last = status.to_string();
                }
                Reply::Frame(status, _) => return Err(LinkError::Refused { cmd, status }),
                Reply::Garbled => last = "garbled reply (header or CRC mismatch)".to_owned(),
                Reply::Timeout => {
                    self.stats.timeouts += 1;
                    last = format!("no reply within {} ms", wait.as_millis());
                    self.decoder.reset();
                }
            }
        }
        Err(LinkError::NoReply {
            cmd,
            attempts: self.config.attempts,
            last,
        })
    }

    /// Reads until a reply with this command's SEQ, a garbled frame, or
    /// `wait` of silence. Replies with another SEQ (late replies to earlier
    /// attempts of other commands) are skipped.
    fn await_reply(&mut self, wait: Duration) -> Result<Reply, LinkError> {
        let mut buf = [0u8; 256];
        loop {
            let n = self.transport.recv(&mut buf, wait)?;
            if n == 0 {
                return Ok(Reply::Timeout);
            }
            self.stats.bytes_received += n as u64;
            if let Some((d, version)) = &mut self.old_device {
                for &b in &buf[..n] {
                    if let Some(Ok(f)) = d.push(b) {
                        let reported = DeviceInfo::parse(&f.payload).map(|i| i.version);
                        *version = Some(reported.unwrap_or(2));
                    }
                }
            }
            let mut reply = None;
            for &b in &buf[..n] {
                match self.decoder.push(b) {
                    Some(Ok(f)) if f.seq == self.seq && reply.is_none() => {
                        reply = Some(Reply::Frame(Status::from_byte(f.code), f.payload));
                    }
                    Some(Err(DecodeError::Crc { .. } | DecodeError::Header)) => {
                        self.stats.bad_replies += 1;
                        if reply.is_none() {
                            reply = Some(Reply::Garbled);
                        }
                    }
                    _ => {}
                }
            }
            if let Some(r) = reply {
                return Ok(r);
            }
        }
    }

    /// Device status and counters.
    pub fn status(&mut self) -> Result<DeviceStatus, LinkError> {
        let p = self.transact(Command::Status, &[])?;
        DeviceStatus::parse(&p).ok_or(LinkError::Malformed {
            cmd: Command::Status,
            len: p.len(),
        })
    }

    fn check_range(&self, addr: usize, n: usize) -> Result<(), LinkError> {
        let mem = usize::from(self.info.mem_words);
        if addr + n > mem {
            return Err(LinkError::Argument(format!(
                "words {addr}..{} lie beyond the device memory ({mem} words)",
                addr + n
            )));
        }
        Ok(())
    }

    /// Stores `words` from word address `addr` on, in frames of at most
    /// `max_words` words.
    pub fn write_words(&mut self, addr: usize, words: &[u32]) -> Result<(), LinkError> {
        self.check_range(addr, words.len())?;
        let per = usize::from(self.info.max_words).max(1);
        for (i, chunk) in words.chunks(per).enumerate() {
            let a = (addr + i * per) as u16;
            let mut p = Vec::with_capacity(2 + 4 * chunk.len());
            p.extend(a.to_le_bytes());
            for w in chunk {
                p.extend(w.to_le_bytes());
            }
            self.transact(Command::Write, &p)?;
        }
        Ok(())
    }

    /// Reads `n` words from word address `addr` on.
    pub fn read_words(&mut self, addr: usize, n: usize) -> Result<Vec<u32>, LinkError> {
        self.check_range(addr, n)?;
        let per = usize::from(self.info.max_words).max(1);
        let mut out = Vec::with_capacity(n);
        let mut a = addr;
        while out.len() < n {
            let count = per.min(n - out.len());
            let mut p = (a as u16).to_le_bytes().to_vec();
            p.push(count as u8);
            let r = self.transact(Command::Read, &p)?;
            if r.len() != 4 * count {
                return Err(LinkError::Malformed {
                    cmd: Command::Read,
                    len: r.len(),
                });
            }
            out.extend(
                r.chunks(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            );
            a += count;
        }
        Ok(out)
    }

    /// Starts a TLMM job; it runs on after the acknowledgement (poll
    /// [`Link::status`]).
    pub fn start_tlmm(&mut self, d: &TlmmDescriptor) -> Result<(), LinkError> {
        self.transact(Command::TlmmStart, &d.payload()).map(|_| ())
    }

    /// Starts a convolution job with descriptor `words`
    /// (`hls_rust::conv::desc::Descriptor::encode`); it runs on after the
    /// acknowledgement (poll [`Link::status`], [`DeviceStatus::conv`]).
    pub fn start_conv(&mut self, words: &[u32; 12]) -> Result<(), LinkError> {
        self.transact(Command::ConvStart, &conv_payload(words))
            .map(|_| ())
    }
}

enum Reply {
    Frame(Status, Vec<u8>),
    Garbled,
    Timeout,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::TransportError;
    use std::collections::VecDeque;

    /// A device of protocol version 2: it reads frames with a CRC-16 and
    /// answers every frame it cannot check with a NAK CRC in its framing.
    struct V2Device {
        rx: Decoder,
        out: VecDeque<u8>,
    }

    impl Transport for V2Device {
        fn send(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
            for &b in bytes {
                if let Some(Err(DecodeError::Crc { seq })) = self.rx.push(b) {
                    let nak = Frame {
                        seq,
                        code: Status::NakCrc.byte(),
                        payload: vec![],
                    };
                    self.out.extend(nak.encode_as(Framing::V2));
                }
            }
            Ok(())
        }

        fn recv(&mut self, buf: &mut [u8], _: Duration) -> Result<usize, TransportError> {
            let n = buf.len().min(self.out.len());
            for (i, b) in self.out.drain(..n).enumerate() {
                buf[i] = b;
            }
            // Silence after the last byte: the 2 CRC bytes of ours it
            // skips leave its decoder in the next frame's hunt.
            self.rx.reset();
            Ok(n)
        }

        fn name(&self) -> String {
            "v2 device".to_owned()
        }
    }

    #[test]
    fn a_version_2_device_is_refused_for_its_version() {
        let device = V2Device {
            rx: Decoder::new(Framing::V2),
            out: VecDeque::new(),
        };
        let config = LinkConfig {
            attempts: 2,
            ..LinkConfig::default()
        };
        match Link::connect(device, config) {
            Err(e @ LinkError::Version { got: 2 }) => {
                assert!(
                    e.to_string().contains("protocol version 2, this host 3"),
                    "{e}"
                );
            }
            Err(e) => panic!("want a version error, got {e}"),
            Ok(_) => panic!("a version-2 device was accepted"),
        }
    }
}
