//! Reference models of the common RTL blocks in `rtl/common/`.
//!
//! Each model is a synchronous state machine with the same registers as the
//! RTL: [`CycleModel::outputs`] gives what the block drives during the
//! current cycle, [`CycleModel::tick`] applies one rising clock edge with the
//! inputs sampled there. None of these blocks has a combinational path from
//! an input to an output, so outputs depend on state only.
//!
//! Values the RTL leaves undefined (storage that was never written, data on
//! a stream whose valid is low) are `None`: a test must not compare them.

mod fifo;
mod ram;
mod skid;

pub use fifo::{FifoOut, SyncFifo};
pub use ram::{Ram1r1w, RamIn, ReadDuringWrite};
pub use skid::{SkidBuffer, SkidOut};

/// A block modelled cycle by cycle.
pub trait CycleModel {
    /// Inputs sampled at a rising clock edge.
    type In;
    /// Outputs driven during a cycle.
    type Out;
    /// Outputs in the current cycle (after the last edge).
    fn outputs(&self) -> Self::Out;
    /// One rising clock edge with inputs `i`.
    fn tick(&mut self, i: &Self::In);
    /// Synchronous view of the asynchronous reset: the state after reset.
    fn reset(&mut self);
}

/// Inputs of a block with one valid/ready stream in and one out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamIn {
    /// Producer has a beat.
    pub in_valid: bool,
    /// The beat (bits above the block's width are ignored).
    pub in_data: u64,
    /// Consumer takes a beat.
    pub out_ready: bool,
}

/// A mask of the low `width` bits.
///
/// # Panics
/// If `width` is 0 or above 64.
pub fn mask(width: u32) -> u64 {
    assert!((1..=64).contains(&width), "width {width} out of 1..=64");
    if width == 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}
