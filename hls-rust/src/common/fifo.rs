use super::{CycleModel, StreamIn, mask};
use std::collections::VecDeque;

/// Model of `hlsk_fifo_sync`: a first-word fall-through FIFO.
#[derive(Debug, Clone)]
pub struct SyncFifo {
    width: u32,
    depth: usize,
    items: VecDeque<u64>,
}

/// Outputs of [`SyncFifo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FifoOut {
    /// Accepts a write (`!full`).
    pub in_ready: bool,
    /// Head entry present (`!empty`).
    pub out_valid: bool,
    /// The head entry; `None` when empty (the RTL drives stale storage).
    pub out_data: Option<u64>,
    /// Holds `depth` entries.
    pub full: bool,
    /// Holds none.
    pub empty: bool,
    /// Number of entries.
    pub level: u32,
}

impl SyncFifo {
    /// A FIFO of `depth` entries of `width` bits, empty.
    ///
    /// # Panics
    /// If `depth` is 0 or `width` is outside 1..=64.
    pub fn new(width: u32, depth: usize) -> Self {
        assert!(depth >= 1, "depth must be at least 1");
        mask(width);
        Self {
            width,
            depth,
            items: VecDeque::with_capacity(depth),
        }
    }

    /// Depth in entries.
    pub fn depth(&self) -> usize {
        self.depth
    }
}

impl CycleModel for SyncFifo {
    type In = StreamIn;
    type Out = FifoOut;

    fn outputs(&self) -> FifoOut {
        let level = self.items.len();
        FifoOut {
            in_ready: level < self.depth,
            out_valid: level > 0,
            out_data: self.items.front().copied(),
            full: level == self.depth,
            empty: level == 0,
            level: level as u32,
        }
    }

    fn tick(&mut self, i: &StreamIn) {
        let o = self.outputs();
        if o.out_valid && i.out_ready {
            self.items.pop_front();
        }
        if o.in_ready && i.in_valid {
            self.items.push_back(i.in_data & mask(self.width));
        }
    }

    fn reset(&mut self) {
        self.items.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simultaneous_read_and_write_when_full_only_reads() {
        let mut f = SyncFifo::new(4, 1);
        let w = |d| StreamIn {
            in_valid: true,
            in_data: d,
            out_ready: true,
        };
        f.tick(&StreamIn {
            in_valid: true,
            in_data: 3,
            out_ready: false,
        });
        assert!(f.outputs().full);
        f.tick(&w(5));
        // Full: the write was refused, the read took the 3.
        assert_eq!(f.outputs().level, 0);
        f.tick(&w(6));
        assert_eq!(f.outputs().out_data, Some(6));
    }
}
