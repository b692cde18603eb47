//! Property-based co-simulation of the hlsk RTL against `hls-rust`.
//!
//! Each check lives here, in the library, so that the test suite
//! (`cargo test -p hlsk-tests`) and the `hlsk selfcheck` command run the
//! very same properties. [`prop::check`] wraps proptest: random cases,
//! shrinking, a readable report of the minimal failing case, and, when
//! `HLSK_WAVES=<dir>` is set (and the crate is built with `--features trace`),
//! a waveform of that minimal case in `<dir>/<check>.fst`.

pub mod blocks;
pub mod conv;
pub mod frame_tx;
pub mod prop;
pub mod rtl;
pub mod soc_preset;
pub mod tlmm;
pub mod twin_conv;
pub mod twin_props;
pub mod uart;

// The drivers and the digital twin live in `hlsk-sim` (the command-line
// tool uses them too); the properties reach them under their old paths.
pub use hlsk_sim::{tlmm_bench, tlmm_digits, twin, twin_pty};
