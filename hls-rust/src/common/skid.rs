use super::{CycleModel, StreamIn, mask};

/// Model of `hlsk_skid_buffer`: a two-entry register slice with registered
/// outputs on both sides.
#[derive(Debug, Clone)]
pub struct SkidBuffer {
    width: u32,
    out: Option<u64>,
    skid: Option<u64>,
}

/// Outputs of [`SkidBuffer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkidOut {
    /// Accepts a beat (the skid register is empty).
    pub in_ready: bool,
    /// Output beat valid.
    pub out_valid: bool,
    /// Output beat; `None` when not valid.
    pub out_data: Option<u64>,
}

impl SkidBuffer {
    /// An empty slice for `width`-bit beats.
    ///
    /// # Panics
    /// If `width` is outside 1..=64.
    pub fn new(width: u32) -> Self {
        mask(width);
        Self {
            width,
            out: None,
            skid: None,
        }
    }
}

impl CycleModel for SkidBuffer {
    type In = StreamIn;
    type Out = SkidOut;

    fn outputs(&self) -> SkidOut {
        SkidOut {
            in_ready: self.skid.is_none(),
            out_valid: self.out.is_some(),
            out_data: self.out,
        }
    }

    fn tick(&mut self, i: &StreamIn) {
        let accepted = (i.in_valid && self.skid.is_none()).then_some(i.in_data & mask(self.width));
        let out_free = self.out.is_none() || i.out_ready;
        if out_free {
            // Refill from the skid register first, so beats stay in order.
            self.out = self.skid.take().or(accepted);
        } else if accepted.is_some() {
            self.skid = accepted;
        }
    }

    fn reset(&mut self) {
        self.out = None;
        self.skid = None;
    }
}
