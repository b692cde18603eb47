use super::{CycleModel, mask};

/// What a read returns when its address is the one written at the same
/// clock edge (`hlsk_ram_1r1w`'s `WriteFirst` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadDuringWrite {
    /// The contents before the write (`WriteFirst = 0`, the RTL default).
    #[default]
    ReadFirst,
    /// The data being written (`WriteFirst = 1`: the RTL's bypass register).
    WriteFirst,
}

/// Model of `hlsk_ram_1r1w`: one write port, one read port with one cycle of
/// latency, read-first or write-first on a same-address collision.
///
/// At each edge, a read (`re` with an address below the depth) loads the
/// read data with the addressed word, or, in [`ReadDuringWrite::WriteFirst`]
/// mode when `we` writes that same address at the same edge, with the
/// written data (masked to the width). Without a read (`re` low, or an
/// address at or beyond the depth) the read data holds. A write at or
/// beyond the depth changes nothing.
///
/// # Example
///
/// ```
/// use hls_rust::common::{CycleModel, Ram1r1w, RamIn, ReadDuringWrite};
///
/// // Word 1 holds 5; the next edge writes 9 to it and reads it.
/// let collide = RamIn { we: true, waddr: 1, wdata: 9, re: true, raddr: 1 };
/// let mut read_first = Ram1r1w::new(8, 4);
/// let mut write_first = Ram1r1w::with_mode(8, 4, ReadDuringWrite::WriteFirst);
/// for ram in [&mut read_first, &mut write_first] {
///     ram.tick(&RamIn { we: true, waddr: 1, wdata: 5, ..RamIn::default() });
///     ram.tick(&collide);
/// }
/// assert_eq!(read_first.outputs(), Some(5));
/// assert_eq!(write_first.outputs(), Some(9));
///
/// // Without a read, the read data holds.
/// write_first.tick(&RamIn::default());
/// assert_eq!(write_first.outputs(), Some(9));
/// ```
#[derive(Debug, Clone)]
pub struct Ram1r1w {
    width: u32,
    mode: ReadDuringWrite,
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
    /// A read-first RAM of `depth` words of `width` bits, all unwritten.
    ///
    /// # Panics
    /// If `depth` is 0 or `width` is outside 1..=64.
    pub fn new(width: u32, depth: usize) -> Self {
        Self::with_mode(width, depth, ReadDuringWrite::ReadFirst)
    }

    /// A RAM of `depth` words of `width` bits, all unwritten, that resolves
    /// a same-address read and write as `mode` says.
    ///
    /// # Panics
    /// If `depth` is 0 or `width` is outside 1..=64.
    pub fn with_mode(width: u32, depth: usize, mode: ReadDuringWrite) -> Self {
        assert!(depth >= 1, "depth must be at least 1");
        mask(width);
        Self {
            width,
            mode,
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
        let wdata = i.wdata & mask(self.width);
        // The read sees the contents before this edge's write, unless
        // write-first bypasses the written data to it.
        if let (true, Some(word)) = (i.re, self.mem.get(i.raddr as usize)) {
            let bypass = self.mode == ReadDuringWrite::WriteFirst && i.we && i.waddr == i.raddr;
            self.rdata = if bypass { Some(wdata) } else { *word };
        }
        if let (true, Some(word)) = (i.we, self.mem.get_mut(i.waddr as usize)) {
            *word = Some(wdata);
        }
    }

    /// The RAM has no reset; contents and read register are kept.
    fn reset(&mut self) {}
}
