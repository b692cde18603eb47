//! The digital twin behind a pseudo-terminal: a serial host program (`hlsk
//! run --port`, a terminal, a script with pyserial) talks to the Verilated
//! SoC through `/dev/pts/N` as it would to a board's UART, so the real
//! serial transport ([`hlsk_host::SerialTransport`]) is exercised without a
//! board.
//!
//! A bridge thread owns the twin: it forwards what the host writes into the
//! twin's UART line and what the device sends back into the terminal, and
//! keeps simulating in between, so device time runs while the host waits
//! (slower than real time: a few million clock cycles per second).
//!
//! ```no_run
//! use hlsk_sim::twin_pty::PtyTwin;
//!
//! let twin = PtyTwin::spawn("icebreaker", 1)?;
//! println!("connect to {}", twin.path().display());
//! # Ok::<(), hlsk_sim::twin_pty::PtyError>(())
//! ```

use crate::twin::Twin;
use hlsk_host::Transport;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::pty::{PtyMaster, grantpt, posix_openpt, ptsname_r, unlockpt};
use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Device time simulated per bridge round when nothing arrives.
const SLICE: Duration = Duration::from_micros(200);

/// Why the twin could not be served.
#[derive(Debug, thiserror::Error)]
pub enum PtyError {
    /// The operating system refused a pseudo-terminal.
    #[error("cannot create a pseudo-terminal for the digital twin: {0}")]
    Pty(#[from] nix::Error),
    /// Opening the terminal's device side failed.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The `/dev/pts/N` path.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The twin could not be built, or it failed while running.
    #[error("digital twin: {0}")]
    Twin(String),
}

/// A running twin behind a pseudo-terminal; stopped when dropped.
pub struct PtyTwin {
    path: PathBuf,
    name: String,
    clk_hz: u32,
    stop: Arc<AtomicBool>,
    cycles: Arc<AtomicU64>,
    thread: Option<JoinHandle<Result<(), String>>>,
}

impl PtyTwin {
    /// Builds the twin of `board` (power-up state from `seed`) and serves it
    /// on a new pseudo-terminal; returns once the device has booted.
    pub fn spawn(board: &str, seed: u32) -> Result<PtyTwin, PtyError> {
        let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY)?;
        grantpt(&master)?;
        unlockpt(&master)?;
        let path = PathBuf::from(ptsname_r(&master)?);
        // Hold the device side open for the twin's lifetime, so the master
        // never reads end-of-file between two host programs, and make it raw
        // (no echo, no line editing) until a host program sets its own mode.
        let slave = File::options()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|source| PtyError::Open {
                path: path.clone(),
                source,
            })?;
        let mut mode = tcgetattr(slave.as_raw_fd())?;
        cfmakeraw(&mut mode);
        tcsetattr(slave.as_raw_fd(), SetArg::TCSANOW, &mode)?;
        fcntl(master.as_raw_fd(), FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;

        let stop = Arc::new(AtomicBool::new(false));
        let cycles = Arc::new(AtomicU64::new(0));
        let (ready_tx, ready_rx) = mpsc::channel();
        let board = board.to_owned();
        let (stop_t, cycles_t) = (stop.clone(), cycles.clone());
        // The twin is built inside its thread: the Verilated model stays on
        // the thread that made it.
        let thread = std::thread::Builder::new()
            .name(format!("twin-pty {board}"))
            .spawn(move || {
                let _slave = slave;
                let twin = match Twin::for_board(&board, seed) {
                    Ok(t) => t,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return Ok(());
                    }
                };
                let _ = ready_tx.send(Ok((twin.name(), twin.config().clk_hz())));
                bridge(twin, master, &stop_t, &cycles_t)
            })
            .map_err(|e| PtyError::Twin(format!("cannot start the bridge thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok((name, clk_hz))) => Ok(PtyTwin {
                path,
                name,
                clk_hz,
                stop,
                cycles,
                thread: Some(thread),
            }),
            Ok(Err(e)) => Err(PtyError::Twin(e)),
            Err(_) => Err(PtyError::Twin(join_message(thread.join()))),
        }
    }

    /// The terminal a host program opens (`/dev/pts/N`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What is simulated ("twin of icebreaker").
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The twin's clock (its UART runs at a few clocks per bit, so this is
    /// not the board's clock).
    pub fn clk_hz(&self) -> u32 {
        self.clk_hz
    }

    /// Device clock cycles simulated so far.
    pub fn cycles(&self) -> u64 {
        self.cycles.load(Ordering::Relaxed)
    }

    /// True while the bridge runs (false after a model failure).
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops the twin; an error if the model failed while it ran.
    pub fn stop(mut self) -> Result<(), PtyError> {
        self.halt()
    }

    fn halt(&mut self) -> Result<(), PtyError> {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take().map(JoinHandle::join) {
            None | Some(Ok(Ok(()))) => Ok(()),
            Some(r) => Err(PtyError::Twin(join_message(r))),
        }
    }
}

impl Drop for PtyTwin {
    fn drop(&mut self) {
        let _ = self.halt();
    }
}

fn join_message(r: std::thread::Result<Result<(), String>>) -> String {
    match r {
        Ok(Ok(())) => "the bridge thread ended".into(),
        Ok(Err(e)) => e,
        Err(p) => p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "the bridge thread panicked".into()),
    }
}

/// Moves bytes between the terminal and the twin until `stop`.
fn bridge(
    mut twin: Twin,
    mut master: PtyMaster,
    stop: &AtomicBool,
    cycles: &AtomicU64,
) -> Result<(), String> {
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        match master.read(&mut buf) {
            Ok(n) => twin.send(&buf[..n]).map_err(|e| e.to_string())?,
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {}
            // EIO: no program has the terminal open; nothing to forward.
            Err(e) if e.raw_os_error() == Some(nix::libc::EIO) => {}
            Err(e) => return Err(format!("reading the terminal: {e}")),
        }
        let n = twin.recv(&mut buf, SLICE).map_err(|e| e.to_string())?;
        cycles.store(twin.cycles(), Ordering::Relaxed);
        let mut out = &buf[..n];
        while !out.is_empty() && !stop.load(Ordering::Relaxed) {
            match master.write(out) {
                Ok(k) => out = &out[k..],
                // The host is not reading: wait for room, as a UART would
                // drop nothing either with a deep enough FIFO.
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("writing the terminal: {e}")),
            }
        }
    }
    Ok(())
}
