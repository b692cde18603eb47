//! [`Transport`] over a real serial port (8N1, no flow control).

use crate::transport::{Transport, TransportError};
use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

/// A serial port opened for the host link.
///
/// ```no_run
/// use hlsk_host::SerialTransport;
///
/// let port = SerialTransport::open("/dev/ttyUSB1", 115_200)?;
/// # Ok::<(), hlsk_host::TransportError>(())
/// ```
pub struct SerialTransport {
    port: Box<dyn serialport::SerialPort>,
    name: String,
}

impl SerialTransport {
    /// Opens `path` at `baud`, 8N1, no flow control. A missing device, a
    /// busy port or missing permissions give [`TransportError::Open`]
    /// naming the port and what to check.
    pub fn open(path: &str, baud: u32) -> Result<SerialTransport, TransportError> {
        if !std::path::Path::new(path).exists() {
            return Err(TransportError::Open {
                port: path.to_owned(),
                reason: "no such device".to_owned(),
            });
        }
        let port = serialport::new(path, baud)
            .data_bits(serialport::DataBits::Eight)
            .parity(serialport::Parity::None)
            .stop_bits(serialport::StopBits::One)
            .flow_control(serialport::FlowControl::None)
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(|e| TransportError::Open {
                port: path.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(SerialTransport {
            port,
            name: path.to_owned(),
        })
    }

    fn io(&self, source: std::io::Error) -> TransportError {
        TransportError::Io {
            port: self.name.clone(),
            source,
        }
    }
}

impl Transport for SerialTransport {
    fn send(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        let r = self.port.write_all(bytes).and_then(|()| self.port.flush());
        r.map_err(|e| self.io(e))
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, TransportError> {
        if let Err(e) = self.port.set_timeout(timeout) {
            return Err(self.io(std::io::Error::other(e)));
        }
        match self.port.read(buf) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == ErrorKind::TimedOut || e.kind() == ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(self.io(e)),
        }
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_port_is_a_clear_error_naming_it_and_what_to_check() {
        let Err(e) = SerialTransport::open("/dev/hlsk-no-such-port", 115_200) else {
            panic!("opened a port that does not exist");
        };
        let msg = e.to_string();
        assert!(
            msg.contains("/dev/hlsk-no-such-port") && msg.contains("no such device"),
            "{msg}"
        );
        assert!(msg.contains("--twin") && msg.contains("dialout"), "{msg}");
    }
}
