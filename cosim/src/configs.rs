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
    /// `WriteFirst`: a read of the address written at the same edge returns
    /// the data being written (through the bypass register) instead of the
    /// old contents.
    pub write_first: bool,
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

/// RAM builds: read-first tiny, non-power-of-two depth, block-RAM sized and
/// wide; write-first tiny and non-power-of-two depth.
pub const RAM_CONFIGS: &[RamConfig] = &[
    RamConfig {
        width: 8,
        depth: 2,
        write_first: false,
    },
    RamConfig {
        width: 16,
        depth: 100,
        write_first: false,
    },
    RamConfig {
        width: 32,
        depth: 512,
        write_first: false,
    },
    RamConfig {
        width: 64,
        depth: 16,
        write_first: false,
    },
    RamConfig {
        width: 8,
        depth: 2,
        write_first: true,
    },
    RamConfig {
        width: 16,
        depth: 100,
        write_first: true,
    },
];

/// The micro-architecture of a TLMM engine build (its RTL top and the
/// order of its weight beats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlmmArch {
    /// `tlmm_os_engine`: tables in registers, row-block-major weights.
    OutputStationary,
    /// `tlmm_ts_engine`: tables in RAM built once per chunk, partial sums in
    /// RAM, chunk-major weights.
    TableStationary,
}

/// Largest M the command field carries (24 bits): the output-stationary
/// engine's only limit on M.
pub const CMD_M_MAX: u32 = (1 << 24) - 1;

/// One parameter set of a TLMM engine (`tlmm_os_engine` or `tlmm_ts_engine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlmmConfig {
    /// The micro-architecture.
    pub arch: TlmmArch,
    /// Activations per group (1 = direct ternary baseline, 3 = TL2 codes).
    pub g: u32,
    /// Groups (tables) per cycle per lane.
    pub t: u32,
    /// Lanes (output rows in parallel).
    pub p: u32,
    /// Accumulator width.
    pub acc_w: u32,
    /// Largest K the activation buffer holds.
    pub k_max: u32,
    /// Largest M a job may have: the partial-sum RAM depth times P for the
    /// table-stationary engine, [`CMD_M_MAX`] for the output-stationary one.
    pub m_max: u32,
    /// `Direct` of the output-stationary engine: 1 decodes codes to digits
    /// beside a direct add/sub datapath, 0 looks tables up (always 0 for
    /// the table-stationary engine).
    pub direct: u32,
}

/// TLMM output-stationary builds: a UP5K-sized G=3 engine, the G=1 baseline,
/// an ACC_W = 16 build (K_EXACT = 255 < KMax, so the wrap is reachable), an
/// ECP5-sized engine with a 320-bit weight port, a minimal one, and the
/// UP5K- and ECP5-sized G=3 engines with the `Direct` datapath.
pub const TLMM_CONFIGS: &[TlmmConfig] = &[
    TlmmConfig {
        arch: TlmmArch::OutputStationary,
        g: 3,
        t: 3,
        p: 4,
        acc_w: 24,
        k_max: 256,
        m_max: CMD_M_MAX,
        direct: 0,
    },
    TlmmConfig {
        arch: TlmmArch::OutputStationary,
        g: 1,
        t: 4,
        p: 4,
        acc_w: 24,
        k_max: 256,
        m_max: CMD_M_MAX,
        direct: 0,
    },
    TlmmConfig {
        arch: TlmmArch::OutputStationary,
        g: 3,
        t: 2,
        p: 3,
        acc_w: 16,
        k_max: 512,
        m_max: CMD_M_MAX,
        direct: 0,
    },
    TlmmConfig {
        arch: TlmmArch::OutputStationary,
        g: 3,
        t: 4,
        p: 16,
        acc_w: 24,
        k_max: 4096,
        m_max: CMD_M_MAX,
        direct: 0,
    },
    TlmmConfig {
        arch: TlmmArch::OutputStationary,
        g: 1,
        t: 1,
        p: 1,
        acc_w: 20,
        k_max: 64,
        m_max: CMD_M_MAX,
        direct: 0,
    },
    TlmmConfig {
        arch: TlmmArch::OutputStationary,
        g: 3,
        t: 3,
        p: 4,
        acc_w: 24,
        k_max: 256,
        m_max: CMD_M_MAX,
        direct: 1,
    },
    TlmmConfig {
        arch: TlmmArch::OutputStationary,
        g: 3,
        t: 4,
        p: 16,
        acc_w: 24,
        k_max: 4096,
        m_max: CMD_M_MAX,
        direct: 1,
    },
];

/// TLMM table-stationary builds: the UP5K-sized G=3 engine, the G=1
/// baseline, an ACC_W = 16 build (K_EXACT = 255 < KMax) with M not a
/// multiple of P in its MMax, and a minimal one.
pub const TLMM_TS_CONFIGS: &[TlmmConfig] = &[
    TlmmConfig {
        arch: TlmmArch::TableStationary,
        g: 3,
        t: 3,
        p: 4,
        acc_w: 24,
        k_max: 256,
        m_max: 64,
        direct: 0,
    },
    TlmmConfig {
        arch: TlmmArch::TableStationary,
        g: 1,
        t: 4,
        p: 4,
        acc_w: 24,
        k_max: 256,
        m_max: 64,
        direct: 0,
    },
    TlmmConfig {
        arch: TlmmArch::TableStationary,
        g: 3,
        t: 2,
        p: 3,
        acc_w: 16,
        k_max: 512,
        m_max: 40,
        direct: 0,
    },
    TlmmConfig {
        arch: TlmmArch::TableStationary,
        g: 1,
        t: 1,
        p: 1,
        acc_w: 20,
        k_max: 64,
        m_max: 8,
        direct: 0,
    },
];

impl TlmmConfig {
    /// Verilator class prefix of this build.
    pub fn prefix(&self) -> String {
        match self.arch {
            TlmmArch::OutputStationary => format!(
                "Vtlmm_os_g{}_t{}_p{}_a{}_k{}{}",
                self.g,
                self.t,
                self.p,
                self.acc_w,
                self.k_max,
                if self.direct != 0 { "_d" } else { "" }
            ),
            TlmmArch::TableStationary => format!(
                "Vtlmm_ts_g{}_t{}_p{}_a{}_k{}_m{}",
                self.g, self.t, self.p, self.acc_w, self.k_max, self.m_max
            ),
        }
    }

    /// The RTL top module of this build.
    pub fn top(&self) -> &'static str {
        match self.arch {
            TlmmArch::OutputStationary => "tlmm_os_engine",
            TlmmArch::TableStationary => "tlmm_ts_engine",
        }
    }

    /// Bits of one weight code.
    pub fn code_width(&self) -> u32 {
        let entries = (3u32.pow(self.g) - 1) / 2 + 1;
        32 - (entries - 1).leading_zeros() + 1
    }

    /// Bits of a weight beat: P*T codes rounded up to whole bytes.
    pub fn weight_beat_bits(&self) -> u32 {
        (self.p * self.t * self.code_width()).div_ceil(8) * 8
    }

    /// 32-bit words the shim takes per weight beat.
    pub fn weight_beat_words(&self) -> usize {
        self.weight_beat_bits().div_ceil(32) as usize
    }
}

/// One parameter set of `tlmm_weight_feeder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeederConfig {
    /// `Width` of a weight beat in bits (1..=64).
    pub width: u32,
    /// `Depth` in beats.
    pub depth: u32,
}

/// Weight-feeder builds: a G=3/T=2/P=4 beat (40 bits) in a non-power-of-two
/// RAM, a full 64-bit beat, and a one-beat RAM.
pub const FEEDER_CONFIGS: &[FeederConfig] = &[
    FeederConfig {
        width: 40,
        depth: 37,
    },
    FeederConfig {
        width: 64,
        depth: 16,
    },
    FeederConfig { width: 8, depth: 1 },
];

impl FeederConfig {
    /// Verilator class prefix of this build.
    pub fn prefix(&self) -> String {
        format!("Vtlmm_feeder_w{}_d{}", self.width, self.depth)
    }

    /// Bits of an address.
    pub fn addr_bits(&self) -> u32 {
        if self.depth > 1 {
            32 - (self.depth - 1).leading_zeros()
        } else {
            1
        }
    }

    /// Bits of the count field, `clog2(Depth + 1)`.
    pub fn count_bits(&self) -> u32 {
        32 - self.depth.leading_zeros()
    }
}

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
    /// Verilator class prefix of this build (`_wf` for write-first).
    pub fn prefix(&self) -> String {
        let mode = if self.write_first { "_wf" } else { "" };
        format!("Vhlsk_ram_w{}_d{}{mode}", self.width, self.depth)
    }
}

/// One parameter set of `conv_engine` (the training-convolution engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvConfig {
    /// Channel tile T (the array is T x T x P); memory beats are `16*T` bits.
    pub t: u32,
    /// Pixel parallelism P (adjacent output columns per cycle).
    pub p: u32,
    /// Accumulator width ACC_W.
    pub acc_w: u32,
    /// WU accumulator width ACC_W_WU.
    pub acc_w_wu: u32,
    /// Input buffer capacity, words.
    pub in_words: u32,
    /// Weight buffer capacity, words.
    pub w_words: u32,
    /// Output buffer capacity, accumulators.
    pub out_ent: u32,
    /// WU gradient buffer capacity, ACC_W_WU entries.
    pub g_ent: u32,
}

/// Busy cycles of a descriptor's check in `conv_engine` (`StCheck`: its
/// products, one at a time on a shift-add unit, its verdict, the check):
/// `conv_pkg::DescCheckCycles` = NProd * ProdCycles + 2 = 27 * 6 + 2. A
/// rejected descriptor is busy for exactly these cycles; the model's
/// `t_desc` for the RTL ([`ConvConfig::hw`](crate::ConvConfig::hw)).
pub const CONV_CHECK_CYCLES: u64 = 27 * 6 + 2;

/// Convolution engine builds, (T, P): UP5K-like (2, 1) with ACC_W/ACC_W_WU
/// = 32/40, a non-power-of-two (3, 1) with 48/64, (4, 1) with 40/48, the
/// pixel-parallel (2, 2) and (4, 3) (an odd P: partial column groups at
/// most widths), and the ULX3S target of issue 12, (8, 2): 128 MACs, 128-bit
/// beats (the shim's data ports carry up to 128 bits: `rd_data` and
/// `rd_data_hi`).
pub const CONV_CONFIGS: &[ConvConfig] = &[
    ConvConfig {
        p: 1,
        t: 2,
        acc_w: 32,
        acc_w_wu: 40,
        in_words: 2048,
        w_words: 1024,
        out_ent: 1024,
        g_ent: 512,
    },
    ConvConfig {
        p: 1,
        t: 3,
        acc_w: 48,
        acc_w_wu: 64,
        in_words: 3072,
        w_words: 1152,
        out_ent: 1536,
        g_ent: 576,
    },
    ConvConfig {
        p: 1,
        t: 4,
        acc_w: 40,
        acc_w_wu: 48,
        in_words: 4096,
        w_words: 2304,
        out_ent: 2048,
        g_ent: 1024,
    },
    ConvConfig {
        p: 2,
        t: 2,
        acc_w: 32,
        acc_w_wu: 40,
        in_words: 2048,
        w_words: 1024,
        out_ent: 1024,
        g_ent: 512,
    },
    ConvConfig {
        p: 3,
        t: 4,
        acc_w: 40,
        acc_w_wu: 48,
        in_words: 4096,
        w_words: 2304,
        out_ent: 2048,
        g_ent: 1024,
    },
    ConvConfig {
        p: 2,
        t: 8,
        acc_w: 32,
        acc_w_wu: 40,
        in_words: 4096,
        w_words: 2304,
        out_ent: 2048,
        g_ent: 2304,
    },
];

impl ConvConfig {
    /// Verilator class prefix of this build.
    pub fn prefix(&self) -> String {
        format!(
            "Vconv_engine_t{}_p{}_a{}_u{}_i{}_w{}_o{}_g{}",
            self.t,
            self.p,
            self.acc_w,
            self.acc_w_wu,
            self.in_words,
            self.w_words,
            self.out_ent,
            self.g_ent
        )
    }

    /// Bits of a memory data beat, `16*T`.
    pub fn beat_bits(&self) -> u32 {
        16 * self.t
    }
}

/// One parameter set of `hlsk_uart_rx` and `hlsk_uart_tx` (both are built
/// with each entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UartConfig {
    /// `ClksPerBit`: clock cycles per bit (at least 2).
    pub clks_per_bit: u32,
}

/// UART builds: the fastest the RTL allows (2 cycles per bit, a one-cycle
/// half bit), an odd count, and a 16x-oversampling-like count.
pub const UART_CONFIGS: &[UartConfig] = &[
    UartConfig { clks_per_bit: 2 },
    UartConfig { clks_per_bit: 5 },
    UartConfig { clks_per_bit: 16 },
];

/// The build of `hlsk_frame_tx` (the host link's frame encoder; it has no
/// parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameTxConfig;

/// Frame-encoder builds: the one.
pub const FRAME_TX_CONFIGS: &[FrameTxConfig] = &[FrameTxConfig];

impl FrameTxConfig {
    /// Verilator class prefix of this build.
    pub fn prefix(&self) -> String {
        "Vhlsk_frame_tx".into()
    }
}

impl UartConfig {
    /// Verilator class prefix of this build of `hlsk_uart_<dir>`.
    pub fn prefix(&self, dir: &str) -> String {
        format!("Vhlsk_uart_{dir}_c{}", self.clks_per_bit)
    }
}

// ---- SoC top (digital twin) -------------------------------------------

/// One parameter set of `hlsk_soc_top` built as a digital twin: a board's
/// kernel and memory, and its host link at the board's baud rate
/// (`[uart] baud`), with a clock of exactly [`SocConfig::TWIN_CLKS_PER_BIT`]
/// cycles per UART bit (so the twin spends few cycles per byte while the
/// protocol's timing, in bit times and milliseconds, stays the board's).
///
/// The twin's clock is therefore not the board's: its link time is the
/// board's, its engine cycles are the board's cycles but take
/// `clk_hz() / board clock` times as long. A job's time on the board is its
/// link time plus its engine cycles at the board's clock
/// (`hlsk run --twin` and `hlsk link-bench` print both; docs/host-protocol.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocConfig {
    /// Boards (file stems in `boards/`) whose kernel this build carries.
    pub boards: &'static [&'static str],
    /// Activations per group.
    pub g: u32,
    /// Groups per cycle per lane.
    pub t: u32,
    /// Lanes.
    pub p: u32,
    /// Accumulator width.
    pub acc_w: u32,
    /// Largest K.
    pub k_max: u32,
    /// Memory size in 32-bit words.
    pub mem_words: u32,
    /// UART baud rate of the host link: the boards' `[uart] baud`.
    pub baud: u32,
    /// Whether the reset button is active low.
    pub btn_active_low: bool,
    /// The convolution engine on the SoC's memory (`Conv = 1`), if any:
    /// its T, P, accumulator widths and buffer sizes (T = 2).
    pub conv: Option<ConvConfig>,
}

/// The convolution engine of the ULX3S SoC that carries it (`boards/ulx3s-conv.toml`).
pub const SOC_CONV_ULX3S: ConvConfig = ConvConfig {
    t: 2,
    p: 1,
    acc_w: 32,
    acc_w_wu: 40,
    in_words: 512,
    w_words: 256,
    out_ent: 256,
    g_ent: 64,
};

/// The ULX3S SoC (TLMM only; `ulx3s-conv` adds the convolution engine):
/// its memory holds the language model's weights resident (docs/lm.md).
const SOC_ULX3S: SocConfig = SocConfig {
    boards: &["ulx3s"],
    g: 3,
    t: 2,
    p: 8,
    acc_w: 24,
    k_max: 1024,
    mem_words: 57_344,
    baud: 3_000_000,
    btn_active_low: true,
    conv: None,
};

/// The iCEBreaker SoC (the Tang Nano 9K carries the same at 115,200 baud).
const SOC_ICEBREAKER: SocConfig = SocConfig {
    boards: &["icebreaker"],
    g: 3,
    t: 1,
    p: 4,
    acc_w: 24,
    k_max: 256,
    mem_words: 1024,
    baud: 3_000_000,
    btn_active_low: true,
    conv: None,
};

/// A kernel-preset SoC build: `hlsk_soc_top` with `HostLink = 0`, as
/// `hlsk results` synthesises the presets (the engine fed from shift
/// registers on the rx pin after the self-test, the parity of its results
/// and counters on tx). Verilated with every signal public, for the probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocPresetConfig {
    /// The kernel preset it mirrors (`hlsk results`, src/results_cli.rs).
    pub preset: &'static str,
    /// The engine's parameters (the SoC builds `tlmm_os_engine`, `Direct = 1`).
    pub engine: TlmmConfig,
    /// Memory size in 32-bit words (unused without the link; passed on).
    pub mem_words: u32,
}

/// Kernel-preset builds: the UP5K G = 3 preset (`up5k-g3-t3-p4`).
pub const SOC_PRESET_CONFIGS: &[SocPresetConfig] = &[SocPresetConfig {
    preset: "up5k-g3-t3-p4",
    engine: TLMM_CONFIGS[5],
    mem_words: 1024,
}];

impl SocPresetConfig {
    /// Verilator class prefix of this build.
    pub fn prefix(&self) -> String {
        let e = &self.engine;
        format!(
            "Vhlsk_soc_preset_g{}_t{}_p{}_a{}_k{}_m{}",
            e.g, e.t, e.p, e.acc_w, e.k_max, self.mem_words
        )
    }
}

/// Twin builds: one per distinct kernel and baud rate among the board
/// files (build 0 is the iCEBreaker's, 1 the ULX3S's), and one wide build
/// without a board.
pub const SOC_CONFIGS: &[SocConfig] = &[
    SOC_ICEBREAKER,
    SOC_ULX3S,
    SocConfig {
        boards: &["ulx3s-conv"],
        conv: Some(SOC_CONV_ULX3S),
        mem_words: 4096,
        baud: 1_000_000,
        ..SOC_ULX3S
    },
    SocConfig {
        boards: &["colorlight-i5", "orangecrab"],
        g: 3,
        t: 1,
        p: 8,
        acc_w: 24,
        k_max: 512,
        mem_words: 2048,
        baud: 115_200,
        btn_active_low: true,
        conv: None,
    },
    SocConfig {
        boards: &["tangnano9k"],
        baud: 115_200,
        ..SOC_ICEBREAKER
    },
    // No board: the ULX3S's 768-MAC preset shape with the host link, so that
    // a beat of more than 1,000 bits (1,280: 40 words) goes through the
    // link, the job unit's beat assembly and INFO.
    SocConfig {
        boards: &[],
        g: 3,
        t: 8,
        p: 32,
        acc_w: 24,
        k_max: 256,
        mem_words: 4096,
        baud: 3_000_000,
        btn_active_low: true,
        conv: None,
    },
];

impl SocConfig {
    /// Clock cycles per UART bit in every twin build.
    pub const TWIN_CLKS_PER_BIT: u32 = 8;

    /// Verilator class prefix of this build.
    pub fn prefix(&self) -> String {
        let conv = match self.conv {
            Some(c) => format!("_c{}", c.prefix().trim_start_matches("Vconv_engine")),
            None => String::new(),
        };
        // Builds at 115,200 baud keep the names they had before the rate
        // was a board setting.
        let baud = match self.baud {
            115_200 => String::new(),
            b => format!("_b{b}"),
        };
        format!(
            "Vhlsk_soc_g{}_t{}_p{}_a{}_k{}_m{}{conv}{baud}",
            self.g, self.t, self.p, self.acc_w, self.k_max, self.mem_words
        )
    }

    /// The twin's clock, `baud * TWIN_CLKS_PER_BIT` Hz.
    pub fn clk_hz(&self) -> u32 {
        self.baud * Self::TWIN_CLKS_PER_BIT
    }

    /// The TLMM engine this SoC carries (`tlmm_os_engine`, `Direct = 1`).
    pub fn engine(&self) -> TlmmConfig {
        TlmmConfig {
            arch: TlmmArch::OutputStationary,
            g: self.g,
            t: self.t,
            p: self.p,
            acc_w: self.acc_w,
            k_max: self.k_max,
            m_max: CMD_M_MAX,
            direct: 1,
        }
    }

    /// A name for reports: the boards it carries, or its shape when none.
    pub fn name(&self) -> String {
        if self.boards.is_empty() {
            format!("g{}-t{}-p{} (no board)", self.g, self.t, self.p)
        } else {
            self.boards.join("/")
        }
    }

    /// The builds that carry a board's kernel (indices into
    /// [`SOC_CONFIGS`]): every build but the wide one. The link is the same
    /// RTL in all of them; the wide build simulates about ten times slower,
    /// so properties of the link alone (frames, NAKs, retries) run on these.
    pub fn board_builds() -> impl Iterator<Item = usize> {
        (0..SOC_CONFIGS.len()).filter(|&c| !SOC_CONFIGS[c].boards.is_empty())
    }

    /// The build carrying `board`'s kernel, if any.
    pub fn for_board(board: &str) -> Option<usize> {
        SOC_CONFIGS.iter().position(|c| c.boards.contains(&board))
    }
}
