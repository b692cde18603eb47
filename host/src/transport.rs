//! The byte pipe under the link: a real serial port, or the digital twin
//! (`hlsk_sim::twin`), behind one trait.

use std::time::Duration;

/// Why a transport failed (the link does not retry these: the pipe itself
/// is gone or was never there).
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The port could not be opened.
    #[error(
        "cannot open serial port {port}: {reason}; check the board is plugged in, the port \
         name (`ls /dev/ttyUSB* /dev/ttyACM*`) and that you may use it (group `dialout`), \
         or run against the digital twin with --twin"
    )]
    Open {
        /// Port name.
        port: String,
        /// What the OS said.
        reason: String,
    },
    /// Reading or writing failed.
    #[error("serial I/O on {port}: {source}")]
    Io {
        /// Port name.
        port: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The simulated device failed (an RTL assertion, a model error).
    #[error("digital twin: {0}")]
    Twin(String),
}

/// A byte pipe to a device: bytes out, bytes in with a timeout.
///
/// Time is the transport's own: wall-clock for a serial port, simulated
/// time for the digital twin (its device runs only inside `recv`).
pub trait Transport {
    /// Sends `bytes` (queued or written; returns without waiting for a
    /// reply).
    fn send(&mut self, bytes: &[u8]) -> Result<(), TransportError>;

    /// Receives at most `buf.len()` bytes, waiting up to `timeout` for the
    /// first; returns how many arrived (0 after a timeout).
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, TransportError>;

    /// A short name for messages ("/dev/ttyUSB1", "twin icebreaker").
    fn name(&self) -> String;
}
