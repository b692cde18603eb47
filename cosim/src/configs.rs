//! The parameter sets each block is verilated with.
//!
//! This file is shared by `build.rs` (which verilates one model per entry)
//! and the library (which exposes the same table), so the two cannot drift.
//! It must stay free of dependencies.

/// One parameter set of `hlsk_fifo_sync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FifoConfig {
    /// `Width` in bits (1..=64).
    pub width: u32,
    /// `Depth` in entries.
    pub depth: u32,
}

/// One parameter set of `hlsk_skid_buffer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkidConfig {
    /// `Width` in bits (1..=64).
    pub width: u32,
}

/// One parameter set of `hlsk_ram_1r1w`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RamConfig {
    /// `Width` in bits (1..=64).
    pub width: u32,
    /// `Depth` in words.
    pub depth: u32,
}

/// FIFO builds: depth 1, small and odd depths, a power of two, full 64-bit data.
pub const FIFO_CONFIGS: &[FifoConfig] = &[
    FifoConfig { width: 8, depth: 1 },
    FifoConfig { width: 8, depth: 4 },
    FifoConfig {
        width: 13,
        depth: 5,
    },
    FifoConfig {
        width: 32,
        depth: 16,
    },
    FifoConfig {
        width: 64,
        depth: 3,
    },
];

/// Register-slice builds.
pub const SKID_CONFIGS: &[SkidConfig] = &[
    SkidConfig { width: 1 },
    SkidConfig { width: 8 },
    SkidConfig { width: 64 },
];

/// RAM builds: tiny, non-power-of-two depth, block-RAM sized, wide.
pub const RAM_CONFIGS: &[RamConfig] = &[
    RamConfig { width: 8, depth: 2 },
    RamConfig {
        width: 16,
        depth: 100,
    },
    RamConfig {
        width: 32,
        depth: 512,
    },
    RamConfig {
        width: 64,
        depth: 16,
    },
];

impl FifoConfig {
    /// Verilator class prefix of this build.
    pub fn prefix(&self) -> String {
        format!("Vhlsk_fifo_w{}_d{}", self.width, self.depth)
    }
}

impl SkidConfig {
    /// Verilator class prefix of this build.
    pub fn prefix(&self) -> String {
        format!("Vhlsk_skid_w{}", self.width)
    }
}

impl RamConfig {
    /// Verilator class prefix of this build.
    pub fn prefix(&self) -> String {
        format!("Vhlsk_ram_w{}_d{}", self.width, self.depth)
    }
}
