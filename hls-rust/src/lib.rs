//! Bit-exact reference models of the hlsk RTL.
//!
//! Pure Rust, no Verilator: everything here builds and tests on any machine.
//! The co-simulation tests in `tests/` drive the Verilated RTL and one of
//! these models with the same stimulus and compare them cycle by cycle (for
//! the stream blocks in [`common`]) or transaction by transaction.
//!
//! [`tlmm`] is the bit-exact model of the table-lookup ternary matmul engine:
//! BitNet quantizers, weight codes, the table path and the golden dot
//! product, the stream packers, `.npy` files and a ternary digits MLP.
//!
//! [`conv`] is the training-convolution engine's golden model (FP, BP, WU,
//! pooling in int16 fixed point), its layouts, descriptors, reference
//! executor, cycle model and scheduler, and a digits CNN trained through it.
//!
//! ```
//! use hls_rust::common::{CycleModel, StreamIn, SyncFifo};
//!
//! let mut fifo = SyncFifo::new(8, 2);
//! assert!(fifo.outputs().in_ready);
//! fifo.tick(&StreamIn { in_valid: true, in_data: 0x1ff, out_ready: false });
//! let o = fifo.outputs();
//! assert_eq!((o.out_valid, o.out_data, o.level), (true, Some(0xff), 1));
//! ```

pub mod common;
pub mod conv;
pub mod digits;
pub mod rng;
pub mod tlmm;
