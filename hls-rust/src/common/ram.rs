use super::{CycleModel, mask};

/// Model of `hlsk_ram_1r1w`: one write port, one read port with one cycle of
/// latency, read-first on a same-address collision.
#[derive(Debug, Clone)]
pub struct Ram1r1w {
    width: u32,
    mem: Vec<Option<u64>>,
    rdata: Option<u64>,
}

/// Inputs of [`Ram1r1w`] for one clock edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RamIn {
    /// Write enable.
    pub we: bool,
    /// Write address (ignored at or beyond the depth).
    pub waddr: u32,
    /// Write data (bits above the width are ignored).
    pub wdata: u64,
    /// Read enable.
    pub re: bool,
    /// Read address (ignored at or beyond the depth).
    pub raddr: u32,
}

impl Ram1r1w {
    /// A RAM of `depth` words of `width` bits, all unwritten.
    ///
    /// # Panics
    /// If `depth` is 0 or `width` is outside 1..=64.
    pub fn new(width: u32, depth: usize) -> Self {
        assert!(depth >= 1, "depth must be at least 1");
        mask(width);
        Self {
            width,
            mem: vec![None; depth],
            rdata: None,
        }
    }
}

impl CycleModel for Ram1r1w {
    type In = RamIn;
    /// The registered read data; `None` until a written word was read
    /// (power-up contents are undefined).
    type Out = Option<u64>;

    fn outputs(&self) -> Option<u64> {
        self.rdata
    }

    fn tick(&mut self, i: &RamIn) {
        // Read first: the read sees the contents before this edge's write.
        if let (true, Some(word)) = (i.re, self.mem.get(i.raddr as usize)) {
            self.rdata = *word;
        }
        if let (true, Some(word)) = (i.we, self.mem.get_mut(i.waddr as usize)) {
            *word = Some(i.wdata & mask(self.width));
        }
    }

    /// The RAM has no reset; contents and read register are kept.
    fn reset(&mut self) {}
}
