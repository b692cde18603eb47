//! Host side of the hlsk board link (docs/host-protocol.md).
//!
//! - [`proto`]: the frame format shared with `rtl/soc/` (SOF, LEN, ~LEN,
//!   SEQ, CODE, PAYLOAD, CRC-32C; protocol version 3), its encoder and decoder, and the
//!   typed reply payloads;
//! - [`Transport`]: the byte pipe, implemented by [`SerialTransport`] (a
//!   real port) and by the digital twin (`hlsk_sim::twin::Twin`: the
//!   Verilated SoC top behind a bit-level UART model; it lives with the
//!   co-simulation so that this crate knows nothing of Verilator);
//! - [`Link`]: stop-and-wait commands with sequence numbers, retried on
//!   silence, garbled replies and wire NAKs; memory reads and writes, TLMM
//!   jobs, status;
//! - [`job`]: a TLMM job end to end, checked against `hls_rust::tlmm::golden`;
//! - [`conv`]: a convolution job end to end (memory image up, descriptor,
//!   image back), checked against `hls_rust::conv::exec::run_descriptor`.
//!
//! # Example
//!
//! ```
//! use hlsk_host::proto::{Command, Decoder, Frame};
//!
//! // A WRITE of one word (0xdeadbeef) to word address 16, as sent.
//! let mut payload = 16u16.to_le_bytes().to_vec();
//! payload.extend(0xdead_beef_u32.to_le_bytes());
//! let frame = Frame { seq: 1, code: Command::Write as u8, payload };
//! let bytes = frame.encode();
//! assert_eq!(bytes.len(), 9 + 6);
//!
//! // The decoder hands it back whole, and drops it if a bit flips.
//! let mut d = Decoder::default();
//! let got: Vec<_> = bytes.iter().filter_map(|&b| d.push(b)).collect();
//! assert_eq!(got, vec![Ok(frame)]);
//! let mut bad = bytes.clone();
//! bad[8] ^= 0x10;
//! let got: Vec<_> = bad.iter().filter_map(|&b| d.push(b)).collect();
//! assert!(got[0].is_err());
//! ```

pub mod conv;
pub mod job;
mod link;
pub mod proto;
mod serial;
mod transport;

pub use link::{Link, LinkConfig, LinkError, LinkStats};
pub use serial::SerialTransport;
pub use transport::{Transport, TransportError};
