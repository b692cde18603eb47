//! A bit-level model of an 8N1 UART line: [`frame_levels`] drives a line
//! one clock cycle at a time (start bit, eight data bits LSB first, stop
//! bit, each `ClksPerBit` cycles), and [`LineDecoder`] reads one back,
//! sampling each bit in its middle and also insisting that every bit holds
//! its level for its whole period. The digital twin ([`crate::twin`]) and
//! the UART properties of `hlsk-tests` use it.

/// Bits in an 8N1 frame: start, eight data, stop.
pub const FRAME_BITS: u32 = 10;

/// Line levels of one 8N1 frame of `byte`, one per clock cycle, with the
/// stop bit low instead of high when `bad_stop`.
pub fn frame_levels(byte: u8, clks_per_bit: u32, bad_stop: bool) -> impl Iterator<Item = bool> {
    (0..FRAME_BITS).flat_map(move |bit| {
        let level = match bit {
            0 => false,
            9 => !bad_stop,
            b => (byte >> (b - 1)) & 1 == 1,
        };
        std::iter::repeat_n(level, clks_per_bit as usize)
    })
}

/// What a [`LineDecoder`] reads off a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEvent {
    /// A frame with a high stop bit.
    Byte(u8),
    /// A frame whose stop bit was low (its data is dropped).
    FramingError,
    /// A bit changed level inside its period (bit 0 is the start bit).
    Unstable {
        /// Bit index in the frame.
        bit: u32,
    },
}

/// Bit-level 8N1 receiver: fed one line level per clock cycle, it finds a
/// start bit on the first low level while idle and samples every bit in its
/// middle, `ClksPerBit` cycles apart.
#[derive(Debug, Clone)]
pub struct LineDecoder {
    clks_per_bit: u32,
    /// Cycles since the start bit's first low cycle, while in a frame.
    in_frame: Option<u32>,
    /// Level of each bit of the frame so far, as first seen.
    levels: Vec<bool>,
}

impl LineDecoder {
    /// A decoder for `clks_per_bit` cycles per bit, line idle.
    pub fn new(clks_per_bit: u32) -> Self {
        Self {
            clks_per_bit,
            in_frame: None,
            levels: Vec::new(),
        }
    }

    /// True while no frame is in progress.
    pub fn idle(&self) -> bool {
        self.in_frame.is_none()
    }

    /// Takes the line level of one cycle; returns an event when a frame
    /// ends (at the end of its stop bit) or a bit proves unstable.
    pub fn sample(&mut self, level: bool) -> Option<LineEvent> {
        let k = match self.in_frame {
            None if level => return None,
            None => 0,
            Some(k) => k,
        };
        let bit = k / self.clks_per_bit;
        if k % self.clks_per_bit == 0 {
            self.levels.push(level);
        } else if self.levels[bit as usize] != level {
            self.in_frame = None;
            self.levels.clear();
            return Some(LineEvent::Unstable { bit });
        }
        if k + 1 < FRAME_BITS * self.clks_per_bit {
            self.in_frame = Some(k + 1);
            return None;
        }
        self.in_frame = None;
        let levels = std::mem::take(&mut self.levels);
        if !levels[9] {
            return Some(LineEvent::FramingError);
        }
        let byte = (1..=8).fold(0u8, |b, i| b | (u8::from(levels[i]) << (i - 1)));
        Some(LineEvent::Byte(byte))
    }
}
