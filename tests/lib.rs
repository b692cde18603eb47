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
pub mod prop;
pub mod rtl;
pub mod tlmm;
pub mod tlmm_bench;
pub mod tlmm_digits;
pub mod twin;
pub mod twin_conv;
pub mod twin_props;
pub mod twin_pty;
pub mod uart;
