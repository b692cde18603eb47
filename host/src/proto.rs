//! The frame format of the host link (docs/host-protocol.md): constants
//! shared with `rtl/soc/hlsk_link_pkg.sv`, the CRC, the encoder and a
//! byte-at-a-time decoder, and the typed payloads of the replies.

use std::fmt;

/// First byte of every frame.
pub const SOF: u8 = 0xA5;
/// Protocol version this crate speaks (INFO byte 0): 3, frames checked by
/// a CRC-32C. Version 2 had the same frames with a CRC-16 ([`Framing`]).
pub const VERSION: u8 = 3;
/// Largest LEN a frame can carry (one byte).
pub const MAX_LEN: usize = 255;
/// Bytes around the payload: SOF, LEN, ~LEN, SEQ, CODE, CRC (4).
pub const OVERHEAD: usize = 9;

/// The frame check of a protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Framing {
    /// Protocol version 3 (this crate's): CRC-32C over LEN..PAYLOAD, low
    /// byte first ([`crc32c`]).
    #[default]
    V3,
    /// Protocol version 2: CRC-16/CCITT-FALSE over LEN..PAYLOAD, high byte
    /// first ([`crc16`]). Only to recognize a device (or host) of that
    /// version: a version-3 device answers a version-2 INFO in this
    /// framing, so that an old host reads its version and refuses it.
    V2,
}

impl Framing {
    /// Bytes of the frame check.
    pub fn crc_len(self) -> usize {
        match self {
            Framing::V3 => 4,
            Framing::V2 => 2,
        }
    }

    /// The frame check of `bytes` (LEN..PAYLOAD) as sent on the wire.
    fn check(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Framing::V3 => crc32c(bytes).to_le_bytes().to_vec(),
            Framing::V2 => crc16(bytes).to_be_bytes().to_vec(),
        }
    }
}

/// A command (host to device).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Command {
    /// Device parameters ([`DeviceInfo`]); no payload.
    Info = 0x01,
    /// `addr: u16`, then 32-bit words to store from `addr` on.
    Write = 0x02,
    /// `addr: u16, count: u8`: the reply carries `count` words.
    Read = 0x03,
    /// A TLMM job ([`TlmmDescriptor`]).
    TlmmStart = 0x04,
    /// Status and counters ([`DeviceStatus`]); no payload.
    Status = 0x05,
    /// A convolution job: the 12 words of
    /// `hls_rust::conv::desc::Descriptor::encode` ([`conv_payload`]);
    /// devices without the engine (INFO kernels bit 1 clear) answer
    /// [`Status::NakUnknown`].
    ConvStart = 0x10,
}

impl Command {
    /// True for the commands whose SEQ the device remembers for its
    /// duplicate check: INFO and the commands with side effects (WRITE,
    /// TLMM_START, CONV_START). STATUS and READ leave it alone.
    pub fn keeps_seq(self) -> bool {
        !matches!(self, Command::Status | Command::Read)
    }
}

/// The status byte of a reply (device to host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Executed.
    Ok,
    /// Same SEQ as the last executed frame: acknowledged, not executed again.
    Dup,
    /// The frame's CRC did not match.
    NakCrc,
    /// The frame stopped short (inter-byte timeout).
    NakTrunc,
    /// LEN above the device's maximum payload.
    NakOversize,
    /// Unknown or reserved command.
    NakUnknown,
    /// Malformed payload or an argument out of range.
    NakBadArg,
    /// A job is running; memory commands wait for it.
    NakBusy,
    /// A status byte this crate does not know.
    Other(u8),
}

impl Status {
    /// The status of byte `b`.
    pub fn from_byte(b: u8) -> Status {
        match b {
            0x00 => Status::Ok,
            0x01 => Status::Dup,
            0x80 => Status::NakCrc,
            0x81 => Status::NakTrunc,
            0x82 => Status::NakOversize,
            0x83 => Status::NakUnknown,
            0x84 => Status::NakBadArg,
            0x85 => Status::NakBusy,
            b => Status::Other(b),
        }
    }

    /// The byte on the wire.
    pub fn byte(self) -> u8 {
        match self {
            Status::Ok => 0x00,
            Status::Dup => 0x01,
            Status::NakCrc => 0x80,
            Status::NakTrunc => 0x81,
            Status::NakOversize => 0x82,
            Status::NakUnknown => 0x83,
            Status::NakBadArg => 0x84,
            Status::NakBusy => 0x85,
            Status::Other(b) => b,
        }
    }

    /// True for an acknowledgement (executed now or before).
    pub fn is_ack(self) -> bool {
        matches!(self, Status::Ok | Status::Dup)
    }

    /// True for a NAK the wire can cause (worth sending the frame again):
    /// a bad CRC, a truncated frame, or an oversize LEN (a corrupt LEN byte,
    /// as the link never sends a payload above the device's maximum).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Status::NakCrc | Status::NakTrunc | Status::NakOversize
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Status::Ok => "ok",
            Status::Dup => "duplicate (not re-executed)",
            Status::NakCrc => "NAK: CRC mismatch",
            Status::NakTrunc => "NAK: truncated frame (inter-byte timeout)",
            Status::NakOversize => "NAK: payload longer than the device accepts",
            Status::NakUnknown => "NAK: unknown or reserved command",
            Status::NakBadArg => "NAK: malformed payload or argument out of range",
            Status::NakBusy => "NAK: a job is running",
            Status::Other(b) => return write!(f, "unknown status 0x{b:02x}"),
        };
        f.write_str(s)
    }
}

/// The frame check of protocol version 3: CRC-32C (Castagnoli), catalogued
/// as CRC-32/ISCSI (poly 0x1EDC6F41, reflected, init and final xor
/// 0xFFFFFFFF; check value 0xE3069283), as `crc32c_byte` in
/// `rtl/soc/hlsk_link_pkg.sv` computes it.
static CRC32C: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);

/// The frame check of protocol version 2: CRC-16/CCITT-FALSE, catalogued as
/// CRC-16/IBM-3740 (poly 0x1021, init 0xFFFF, MSB first, no final xor;
/// check value 0x29B1), as `crc16_byte` in `rtl/soc/hlsk_link_pkg.sv`.
static CRC16: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_IBM_3740);

/// CRC-32C of `bytes`: the frame check of protocol version 3, sent low byte
/// first.
///
/// ```
/// assert_eq!(hlsk_host::proto::crc32c(b"123456789"), 0xE306_9283);
/// ```
pub fn crc32c(bytes: &[u8]) -> u32 {
    CRC32C.checksum(bytes)
}

/// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, MSB first, no final xor)
/// of `bytes`: the frame check of protocol version 2.
///
/// ```
/// assert_eq!(hlsk_host::proto::crc16(b"123456789"), 0x29B1);
/// ```
pub fn crc16(bytes: &[u8]) -> u16 {
    CRC16.checksum(bytes)
}

/// One frame: a sequence number, a code (a [`Command`] from the host, a
/// [`Status`] from the device) and up to [`MAX_LEN`] payload bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frame {
    /// Sequence number: a reply carries its command's.
    pub seq: u8,
    /// Command or status byte.
    pub code: u8,
    /// Payload.
    pub payload: Vec<u8>,
}

impl Frame {
    /// The bytes on the wire: SOF, LEN, ~LEN, SEQ, CODE, PAYLOAD, CRC-32C
    /// over LEN..PAYLOAD, low byte first. Panics if the payload is longer
    /// than [`MAX_LEN`] (the link never builds one).
    pub fn encode(&self) -> Vec<u8> {
        self.encode_as(Framing::V3)
    }

    /// The bytes on the wire in `framing` (a version-2 frame ends in a
    /// CRC-16, high byte first). Panics as [`encode`](Self::encode) does.
    pub fn encode_as(&self, framing: Framing) -> Vec<u8> {
        assert!(
            self.payload.len() <= MAX_LEN,
            "payload above {MAX_LEN} bytes"
        );
        let mut v = Vec::with_capacity(self.payload.len() + 5 + framing.crc_len());
        let len = self.payload.len() as u8;
        v.extend([SOF, len, !len, self.seq, self.code]);
        v.extend_from_slice(&self.payload);
        let check = framing.check(&v[1..]);
        v.extend(check);
        v
    }
}

/// Why the decoder dropped a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// LEN and ~LEN disagree (the decoder hunts for the next SOF).
    #[error("corrupt frame header (LEN and its complement disagree)")]
    Header,
    /// The CRC did not match (the frame is dropped whole).
    #[error("CRC mismatch in a frame with SEQ {seq}")]
    Crc {
        /// SEQ as received (itself possibly corrupt).
        seq: u8,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum DecState {
    #[default]
    Hunt,
    Len,
    LenInv,
    Seq,
    Code,
    Payload,
    Crc,
}

/// Byte-at-a-time frame decoder: the host's twin of `hlsk_frame_rx`.
/// Bytes outside a frame are skipped until a [`SOF`]; a frame is handed out
/// only if LEN matches its complement and the CRC matches. Timeouts are the caller's business: after one,
/// [`Decoder::reset`] drops a partial frame. [`Decoder::new`] takes
/// another [`Framing`] (the default is this crate's, version 3).
///
/// ```
/// use hlsk_host::proto::{Decoder, Frame};
///
/// let f = Frame { seq: 7, code: 0x00, payload: vec![1, 2, 3] };
/// let mut d = Decoder::default();
/// let mut got = Vec::new();
/// for b in [0x13u8].into_iter().chain(f.encode()) {
///     if let Some(r) = d.push(b) {
///         got.push(r);
///     }
/// }
/// assert_eq!(got, vec![Ok(f)]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    framing: Framing,
    state: DecState,
    len: usize,
    frame: Frame,
    /// LEN..PAYLOAD as received (what the CRC covers).
    covered: Vec<u8>,
    /// The CRC bytes received so far.
    crc: Vec<u8>,
}

impl Decoder {
    /// A decoder of frames in `framing`.
    pub fn new(framing: Framing) -> Decoder {
        Decoder {
            framing,
            ..Decoder::default()
        }
    }

    /// Drops any partial frame and hunts for the next SOF.
    pub fn reset(&mut self) {
        *self = Decoder::new(self.framing);
    }

    /// True while between frames.
    pub fn idle(&self) -> bool {
        self.state == DecState::Hunt
    }

    /// Takes one byte; returns a frame, or the reason one was dropped, when
    /// a frame ends with this byte.
    pub fn push(&mut self, b: u8) -> Option<Result<Frame, DecodeError>> {
        if !matches!(self.state, DecState::Hunt | DecState::Crc) {
            self.covered.push(b);
        }
        match self.state {
            DecState::Hunt => {
                if b == SOF {
                    self.reset();
                    self.state = DecState::Len;
                }
            }
            DecState::Len => {
                self.len = usize::from(b);
                self.state = DecState::LenInv;
            }
            DecState::LenInv => {
                if b != !(self.len as u8) {
                    self.reset();
                    return Some(Err(DecodeError::Header));
                }
                self.state = DecState::Seq;
            }
            DecState::Seq => {
                self.frame.seq = b;
                self.state = DecState::Code;
            }
            DecState::Code => {
                self.frame.code = b;
                self.state = if self.len == 0 {
                    DecState::Crc
                } else {
                    DecState::Payload
                };
            }
            DecState::Payload => {
                self.frame.payload.push(b);
                if self.frame.payload.len() == self.len {
                    self.state = DecState::Crc;
                }
            }
            DecState::Crc => {
                self.crc.push(b);
                if self.crc.len() == self.framing.crc_len() {
                    let ok = self.framing.check(&self.covered) == self.crc;
                    let out = std::mem::take(&mut self.frame);
                    self.reset();
                    return Some(if ok {
                        Ok(out)
                    } else {
                        Err(DecodeError::Crc { seq: out.seq })
                    });
                }
            }
        }
        None
    }
}

/// Little-endian field reader over a reply payload.
struct Fields<'a>(&'a [u8]);

impl Fields<'_> {
    fn u8(&self, at: usize) -> u8 {
        self.0[at]
    }
    fn u16(&self, at: usize) -> u16 {
        u16::from_le_bytes([self.0[at], self.0[at + 1]])
    }
    fn u32(&self, at: usize) -> u32 {
        u32::from_le_bytes([self.0[at], self.0[at + 1], self.0[at + 2], self.0[at + 3]])
    }
}

/// What INFO reports: the SoC's kernel, memory and link parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Protocol version.
    pub version: u8,
    /// TLMM activations per group.
    pub g: u8,
    /// TLMM groups per cycle per lane.
    pub t: u8,
    /// TLMM lanes.
    pub p: u8,
    /// Accumulator width.
    pub acc_w: u8,
    /// 32-bit words per weight beat in memory.
    pub w_words: u8,
    /// Largest K.
    pub k_max: u16,
    /// Memory size, 32-bit words.
    pub mem_words: u16,
    /// Most words per WRITE or READ frame.
    pub max_words: u8,
    /// Kernels built in: bit 0 TLMM, bit 1 convolution.
    pub kernels: u8,
    /// Clock frequency, Hz.
    pub clk_hz: u32,
    /// Clock cycles per UART bit.
    pub clks_per_bit: u16,
    /// Largest payload the device accepts, bytes.
    pub max_payload: u16,
}

impl DeviceInfo {
    /// Bytes of the INFO reply.
    pub const LEN: usize = 20;

    /// True when the device carries the convolution engine (kernels bit 1).
    pub fn has_conv(&self) -> bool {
        self.kernels & 2 != 0
    }

    /// Parses an INFO reply payload.
    pub fn parse(p: &[u8]) -> Option<DeviceInfo> {
        if p.len() != Self::LEN {
            return None;
        }
        let f = Fields(p);
        Some(DeviceInfo {
            version: f.u8(0),
            g: f.u8(1),
            t: f.u8(2),
            p: f.u8(3),
            acc_w: f.u8(4),
            w_words: f.u8(5),
            k_max: f.u16(6),
            mem_words: f.u16(8),
            max_words: f.u8(10),
            kernels: f.u8(11),
            clk_hz: f.u32(12),
            clks_per_bit: f.u16(16),
            max_payload: f.u16(18),
        })
    }
}

/// Counter slots of [`DeviceStatus::counters`], in wire order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// Frames executed.
    Ok = 0,
    /// Frames dropped for a CRC mismatch.
    Crc = 1,
    /// Frames cut short (inter-byte timeout).
    Trunc = 2,
    /// Frames with LEN above the maximum.
    Oversize = 3,
    /// Unknown or reserved commands.
    Unknown = 4,
    /// Malformed or out-of-range payloads.
    BadArg = 5,
    /// Commands refused while a job ran.
    Busy = 6,
    /// Repeats of the last executed frame (acknowledged, not executed).
    Dup = 7,
    /// Bytes dropped while a frame waited to be executed.
    Dropped = 8,
    /// Jobs finished.
    Jobs = 9,
}

/// What STATUS reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceStatus {
    /// A job (TLMM or convolution) is running.
    pub job_busy: bool,
    /// The last TLMM job finished (until the next starts).
    pub job_done: bool,
    /// The power-on self-test passed.
    pub bist_passed: bool,
    /// The power-on self-test failed.
    pub bist_failed: bool,
    /// The UART saw a frame with a low stop bit (sticky).
    pub uart_frame_err: bool,
    /// The UART dropped a byte nobody took (sticky).
    pub uart_overrun: bool,
    /// The engine's sticky flags (`tlmm_pkg::status_bit_e`): bit 0 K
    /// beyond the exact range, 1 illegal code, 2 misplaced last flag, 3
    /// rejected command.
    pub engine_flags: u8,
    /// 16-bit wrapping counters, indexed by [`Counter`].
    pub counters: [u16; 10],
    /// Cycles of the last job, engine command to last result.
    pub job_cycles: u32,
    /// Engine busy cycles (last job).
    pub engine_busy: u32,
    /// Engine cycles waiting for weights.
    pub engine_w_starved: u32,
    /// Engine cycles with a result not taken.
    pub engine_out_blocked: u32,
    /// Weight beats the engine took.
    pub engine_w_beats: u32,
    /// The convolution engine's job flags and counters (zero without it).
    pub conv: ConvStatus,
}

/// The convolution engine's part of STATUS (bytes 42..52).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConvStatus {
    /// A convolution job is running.
    pub busy: bool,
    /// The last convolution job finished (until the next starts).
    pub done: bool,
    /// The engine refused the last descriptor (malformed, or beyond its
    /// buffers): nothing was read or written.
    pub refused: bool,
    /// A burst of the last job fell outside the memory (or was not
    /// word-aligned) and was not performed.
    pub range_error: bool,
    /// Engine busy cycles of the last job.
    pub cycles: u32,
    /// Cycles the MAC array fired.
    pub fired: u32,
}

impl ConvStatus {
    /// True when the last job finished without either error.
    pub fn ok(&self) -> bool {
        self.done && !self.busy && !self.refused && !self.range_error
    }
}

impl DeviceStatus {
    /// Bytes of the STATUS reply.
    pub const LEN: usize = 52;

    /// Parses a STATUS reply payload.
    pub fn parse(p: &[u8]) -> Option<DeviceStatus> {
        if p.len() != Self::LEN {
            return None;
        }
        let f = Fields(p);
        let flags = f.u8(0);
        let mut counters = [0u16; 10];
        for (i, c) in counters.iter_mut().enumerate() {
            *c = f.u16(2 + 2 * i);
        }
        Some(DeviceStatus {
            job_busy: flags & 1 != 0,
            job_done: flags & 2 != 0,
            bist_passed: flags & 4 != 0,
            bist_failed: flags & 8 != 0,
            uart_frame_err: flags & 16 != 0,
            uart_overrun: flags & 32 != 0,
            engine_flags: f.u8(1),
            counters,
            job_cycles: f.u32(22),
            engine_busy: f.u32(26),
            engine_w_starved: f.u32(30),
            engine_out_blocked: f.u32(34),
            engine_w_beats: f.u32(38),
            conv: ConvStatus {
                busy: f.u8(42) & 1 != 0,
                done: f.u8(42) & 2 != 0,
                refused: f.u8(42) & 4 != 0,
                range_error: f.u8(42) & 8 != 0,
                cycles: f.u32(44),
                fired: f.u32(48),
            },
        })
    }

    /// The value of counter `c`.
    pub fn counter(&self, c: Counter) -> u16 {
        self.counters[c as usize]
    }
}

/// The CONV_START payload of descriptor `words`
/// (`hls_rust::conv::desc::Descriptor::encode`): 48 bytes, little-endian.
pub fn conv_payload(words: &[u32; 12]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// A TLMM job: the shape and the word addresses of its three regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlmmDescriptor {
    /// Output rows.
    pub m: u16,
    /// Activations (columns).
    pub k: u16,
    /// First word of the packed activations, `ceil(K/4)` words.
    pub a_addr: u16,
    /// First word of the packed weight beats, `w_words` words per beat.
    pub w_addr: u16,
    /// First word of the `M` result words.
    pub out_addr: u16,
}

impl TlmmDescriptor {
    /// The TLMM_START payload (12 bytes, little-endian; flags 0).
    pub fn payload(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(12);
        for x in [self.m, self.k, self.a_addr, self.w_addr, self.out_addr] {
            v.extend(x.to_le_bytes());
        }
        v.extend([0, 0]);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(bytes: &[u8]) -> Vec<Result<Frame, DecodeError>> {
        let mut d = Decoder::default();
        bytes.iter().filter_map(|&b| d.push(b)).collect()
    }

    fn frame() -> impl Strategy<Value = Frame> {
        (
            any::<u8>(),
            any::<u8>(),
            prop::collection::vec(any::<u8>(), 0..=MAX_LEN),
        )
            .prop_map(|(seq, code, payload)| Frame { seq, code, payload })
    }

    /// The RTL's `crc32c_byte` (`rtl/soc/hlsk_link_pkg.sv`), bit by bit:
    /// the register before the final xor.
    fn rtl_crc32c_byte(crc: u32, b: u8) -> u32 {
        let mut c = crc ^ u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82F6_3B78
            } else {
                c >> 1
            };
        }
        c
    }

    /// The RTL's `crc16_byte`, bit by bit.
    fn rtl_crc16_byte(crc: u16, b: u8) -> u16 {
        let mut c = crc ^ (u16::from(b) << 8);
        for _ in 0..8 {
            c = if c & 0x8000 != 0 {
                (c << 1) ^ 0x1021
            } else {
                c << 1
            };
        }
        c
    }

    /// `Crc32cResidue` in `rtl/soc/hlsk_link_pkg.sv`.
    const RTL_RESIDUE: u32 = 0xB798_B438;

    #[test]
    fn crcs_match_their_check_values_and_the_rtl_residue() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc::CRC_32_ISCSI.check, 0xE306_9283);
        assert_eq!(crc16(b"123456789"), 0x29B1);
        let f = Frame {
            seq: 3,
            code: 0x10,
            payload: vec![0xA5; 7],
        };
        assert_eq!(
            f.encode()[1..]
                .iter()
                .fold(0xFFFF_FFFF, |c, &b| rtl_crc32c_byte(c, b)),
            RTL_RESIDUE
        );
        assert_eq!(
            f.encode_as(Framing::V2)[1..]
                .iter()
                .fold(0xFFFF, |c, &b| rtl_crc16_byte(c, b)),
            0
        );
    }

    #[test]
    fn a_version_2_frame_is_not_a_version_3_frame() {
        let f = Frame {
            seq: 9,
            code: Command::Info as u8,
            payload: vec![],
        };
        let v2 = f.encode_as(Framing::V2);
        assert_eq!(v2.len(), 7);
        let mut d = Decoder::new(Framing::V2);
        let got: Vec<_> = v2.iter().filter_map(|&b| d.push(b)).collect();
        assert_eq!(got, vec![Ok(f)]);
        let mut d = Decoder::default();
        assert!(v2.iter().all(|&b| d.push(b).is_none()) && !d.idle());
    }

    proptest! {
        /// Property: the CRC-32C equals the RTL's bit-serial one on any
        /// bytes (the final xor applied), as does the version-2 CRC-16.
        #[test]
        fn crc_is_the_rtl_crc(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let rtl = !bytes.iter().fold(0xFFFF_FFFF, |c, &b| rtl_crc32c_byte(c, b));
            prop_assert_eq!(crc32c(&bytes), rtl);
            prop_assert_eq!(crc16(&bytes), bytes.iter().fold(0xFFFF, |c, &b| rtl_crc16_byte(c, b)));
        }

        /// Property: a frame with one byte inserted, duplicated or dropped
        /// anywhere (the faults that shift a frame against its LEN) never
        /// decodes to anything but itself. With CRC-16 (protocol version
        /// 2) about 1 in 65,536 such frames passed with wrong content
        /// (docs/fuzzing.md): this property's some 250,000 shifted frames
        /// would see a few; with CRC-32C, 1 in 2^32.
        #[test]
        fn shifted_frames_are_never_accepted(f in frame(), extra in any::<u8>()) {
            let bytes = f.encode();
            for at in 1..bytes.len() {
                for kind in 0..3 {
                    let mut bad = bytes.clone();
                    match kind {
                        0 => bad.insert(at, extra),
                        1 => bad.insert(at, bytes[at]),
                        _ => {
                            bad.remove(at);
                        }
                    }
                    for g in decode_all(&bad).into_iter().flatten() {
                        prop_assert_eq!(&g, &f, "kind {} at byte {}", kind, at);
                    }
                }
            }
        }

        /// Property: encoding then decoding gives the frame back, with any
        /// noise before it that holds no SOF.
        #[test]
        fn round_trip(f in frame(), noise in prop::collection::vec(0u8..0xA5, 0..8)) {
            let mut bytes = noise;
            bytes.extend(f.encode());
            prop_assert_eq!(decode_all(&bytes), vec![Ok(f)]);
        }

        /// Property: a frame with any single bit flipped is never handed
        /// out as a valid frame (a flipped LEN or ~LEN fails the header
        /// check, any other bit but SOF's the CRC over a frame of the right
        /// length; a flipped SOF hides the frame, and a false start inside
        /// its payload would need a matching header and CRC, 2^-24); after
        /// the link's timeout reset the next good frame decodes.
        #[test]
        fn crc_catches_every_single_bit_error(f in frame(), pad in 0usize..4) {
            let bytes = f.encode();
            let next = Frame { seq: f.seq.wrapping_add(1), code: 0, payload: vec![] };
            for bit in 0..8 * bytes.len() {
                let mut bad = bytes.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                let got = decode_all(&bad);
                prop_assert!(
                    got.iter().all(|r| r.is_err()),
                    "bit {} flipped, decoded {:?}", bit, got
                );
                // The decoder may still be inside the corrupt frame (a
                // longer LEN); after a reset (the link's timeout) the next
                // frame decodes.
                let mut d = Decoder::default();
                for &b in &bad {
                    d.push(b);
                }
                d.reset();
                let mut after: Vec<u8> = vec![0; pad];
                after.extend(next.encode());
                let got: Vec<_> = after.iter().filter_map(|&b| d.push(b)).collect();
                prop_assert_eq!(got, vec![Ok(next.clone())]);
            }
        }
    }

    #[test]
    fn status_bytes_round_trip_and_only_wire_naks_are_transient() {
        for b in 0..=255u8 {
            assert_eq!(Status::from_byte(b).byte(), b);
        }
        assert!(Status::NakCrc.is_transient() && Status::NakTrunc.is_transient());
        assert!(!Status::NakBadArg.is_transient() && !Status::NakUnknown.is_transient());
        assert!(Status::Dup.is_ack() && !Status::NakBusy.is_ack());
    }

    #[test]
    fn descriptor_payload_is_little_endian_with_zero_flags() {
        let d = TlmmDescriptor {
            m: 0x0102,
            k: 0x0304,
            a_addr: 5,
            w_addr: 6,
            out_addr: 0x0708,
        };
        assert_eq!(d.payload(), [2, 1, 4, 3, 5, 0, 6, 0, 8, 7, 0, 0]);
    }
}
