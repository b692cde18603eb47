//! The cxx bridge to the C++ shims in `cosim/shim/`.

#[cxx::bridge(namespace = "hlsk")]
pub(crate) mod bridge {
    /// Inputs of a one-stream-in, one-stream-out block for one cycle.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    struct StreamStepIn {
        in_valid: bool,
        in_data: u64,
        out_ready: bool,
    }

    /// Output pins of `hlsk_fifo_sync`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct FifoPins {
        in_ready: bool,
        out_valid: bool,
        out_data: u64,
        full: bool,
        empty: bool,
        level: u32,
    }

    /// Output pins of `hlsk_skid_buffer`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct SkidPins {
        in_ready: bool,
        out_valid: bool,
        out_data: u64,
    }

    /// Inputs of `hlsk_ram_1r1w` for one cycle.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    struct RamStepIn {
        we: bool,
        waddr: u32,
        wdata: u64,
        re: bool,
        raddr: u32,
    }

    /// Inputs of `tlmm_os_engine` for one cycle (the weight beat's data
    /// travels separately as 32-bit words).
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    struct TlmmIn {
        cmd_valid: bool,
        cmd_m: u32,
        cmd_k: u32,
        cmd_flags: u8,
        act_valid: bool,
        act_data: u32,
        act_last: bool,
        w_valid: bool,
        w_last: bool,
        res_ready: bool,
    }

    /// Output pins of `tlmm_os_engine`.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    struct TlmmPins {
        cmd_ready: bool,
        act_ready: bool,
        w_ready: bool,
        res_valid: bool,
        res_data: u32,
        res_last: bool,
        busy: bool,
        status: u8,
        cnt_busy: u32,
        cnt_w_starved: u32,
        cnt_out_blocked: u32,
        cnt_w_beats: u32,
    }

    /// Inputs of `tlmm_weight_feeder` for one cycle.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    struct FeederIn {
        wr_en: bool,
        wr_addr: u32,
        wr_data: u64,
        start_valid: bool,
        start_base: u32,
        start_count: u32,
        w_ready: bool,
    }

    /// Output pins of `tlmm_weight_feeder`.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    struct FeederPins {
        start_ready: bool,
        w_valid: bool,
        w_data: u64,
        w_last: bool,
        busy: bool,
        done: bool,
    }

    /// Inputs of `conv_engine` for one cycle.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    struct ConvIn {
        desc_valid: bool,
        desc_data: u32,
        req_ready: bool,
        rd_valid: bool,
        /// Beat bits 0..63 (word k of the beat in bits 16k..16k+15).
        rd_data: u64,
        /// Beat bits 64..127 (T > 4).
        rd_data_hi: u64,
        wr_ready: bool,
    }

    /// Output pins of `conv_engine`.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    struct ConvPins {
        desc_ready: bool,
        req_valid: bool,
        req_addr: u32,
        req_len: u32,
        req_write: bool,
        rd_ready: bool,
        wr_valid: bool,
        /// Beat bits 0..63.
        wr_data: u64,
        /// Beat bits 64..127 (T > 4).
        wr_data_hi: u64,
        busy: bool,
        done: bool,
        error: bool,
        cnt_cycles: u32,
        cnt_fired: u32,
        cnt_stall_in: u32,
        cnt_stall_w: u32,
        cnt_stall_out: u32,
        cnt_rd_words: u32,
        cnt_wr_words: u32,
        cnt_bursts: u32,
    }

    /// Inputs of `hlsk_uart_rx` for one cycle.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    struct UartRxIn {
        rx: bool,
        out_ready: bool,
    }

    /// Output pins of `hlsk_uart_rx`.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    struct UartRxPins {
        out_valid: bool,
        out_data: u8,
        frame_err: bool,
        overrun: bool,
    }

    /// Inputs of `hlsk_uart_tx` for one cycle.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    struct UartTxIn {
        in_valid: bool,
        in_data: u8,
    }

    /// Output pins of `hlsk_uart_tx`.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    struct UartTxPins {
        in_ready: bool,
        tx: bool,
        busy: bool,
    }

    /// Inputs of `hlsk_frame_tx` for one cycle.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    struct FrameTxIn {
        hdr_valid: bool,
        hdr_len: u8,
        hdr_seq: u8,
        hdr_status: u8,
        pl_valid: bool,
        pl_data: u8,
        out_ready: bool,
    }

    /// Output pins of `hlsk_frame_tx`.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    struct FrameTxPins {
        hdr_ready: bool,
        pl_ready: bool,
        out_valid: bool,
        out_data: u8,
        busy: bool,
    }

    /// Stimulus of the TLMM engine speed benchmark (`benches/`): whole jobs
    /// as command, activation and weight queues played round and round, and
    /// per-cycle gates (bit 0 command valid, 1 activation valid, 2 weight
    /// valid, 3 result ready), repeated.
    #[derive(Debug, Clone, Default)]
    struct TlmmBenchStim {
        cmd_m: Vec<u32>,
        cmd_k: Vec<u32>,
        cmd_flags: Vec<u8>,
        act_data: Vec<u32>,
        act_last: Vec<u8>,
        /// `w_words` little-endian words per weight beat, beat after beat.
        w_data: Vec<u32>,
        w_last: Vec<u8>,
        w_words: u32,
        gates: Vec<u8>,
    }

    /// Stimulus of the conv engine speed benchmark: descriptors (12 words
    /// each) run one after the other, round and round, on memory image
    /// `mem` behind a memory answering each burst after `wait` cycles;
    /// per-cycle gates (bit 0 holds a descriptor word back, 1 stalls the
    /// request, 2 stalls a data beat), repeated.
    #[derive(Debug, Clone, Default)]
    struct ConvBenchStim {
        desc: Vec<u32>,
        mem: Vec<i16>,
        wait: u32,
        gates: Vec<u8>,
    }

    unsafe extern "C++" {
        include!("hlsk-cosim/shim/blocks.h");

        type FifoDut;
        type SkidDut;
        type RamDut;

        fn new_fifo(config: usize, seed: u32, trace: &str) -> Result<UniquePtr<FifoDut>>;
        fn reset(self: Pin<&mut FifoDut>, cycles: u32);
        fn step(self: Pin<&mut FifoDut>, i: &StreamStepIn) -> FifoPins;
        fn pins(self: &FifoDut) -> FifoPins;
        fn cycles(self: &FifoDut) -> u64;
        fn error(self: &FifoDut) -> bool;

        fn new_skid(config: usize, seed: u32, trace: &str) -> Result<UniquePtr<SkidDut>>;
        fn reset(self: Pin<&mut SkidDut>, cycles: u32);
        fn step(self: Pin<&mut SkidDut>, i: &StreamStepIn) -> SkidPins;
        fn pins(self: &SkidDut) -> SkidPins;
        fn cycles(self: &SkidDut) -> u64;
        fn error(self: &SkidDut) -> bool;

        fn new_ram(config: usize, seed: u32, trace: &str) -> Result<UniquePtr<RamDut>>;
        fn step(self: Pin<&mut RamDut>, i: &RamStepIn) -> u64;
        fn rdata(self: &RamDut) -> u64;
        fn cycles(self: &RamDut) -> u64;
        fn error(self: &RamDut) -> bool;

        type TlmmDut;
        fn new_tlmm(config: usize, seed: u32, trace: &str) -> Result<UniquePtr<TlmmDut>>;
        fn reset(self: Pin<&mut TlmmDut>, cycles: u32);
        fn step(self: Pin<&mut TlmmDut>, i: &TlmmIn, w_data: &[u32]) -> TlmmPins;
        fn cycles(self: &TlmmDut) -> u64;
        fn error(self: &TlmmDut) -> bool;
        fn new_tlmmts(config: usize, seed: u32, trace: &str) -> Result<UniquePtr<TlmmDut>>;

        type FeederDut;
        fn new_feeder(config: usize, seed: u32, trace: &str) -> Result<UniquePtr<FeederDut>>;
        fn reset(self: Pin<&mut FeederDut>, cycles: u32);
        fn step(self: Pin<&mut FeederDut>, i: &FeederIn) -> FeederPins;
        fn cycles(self: &FeederDut) -> u64;
        fn error(self: &FeederDut) -> bool;

        type ConvDut;
        fn new_conv(config: usize, seed: u32, trace: &str) -> Result<UniquePtr<ConvDut>>;
        fn reset(self: Pin<&mut ConvDut>, cycles: u32);
        fn step(self: Pin<&mut ConvDut>, i: &ConvIn) -> ConvPins;
        fn cycles(self: &ConvDut) -> u64;
        fn error(self: &ConvDut) -> bool;

        type UartRxDut;
        fn new_uartrx(config: usize, seed: u32, trace: &str) -> Result<UniquePtr<UartRxDut>>;
        fn reset(self: Pin<&mut UartRxDut>, cycles: u32);
        fn step(self: Pin<&mut UartRxDut>, i: &UartRxIn) -> UartRxPins;
        fn cycles(self: &UartRxDut) -> u64;
        fn error(self: &UartRxDut) -> bool;

        type UartTxDut;
        fn new_uarttx(config: usize, seed: u32, trace: &str) -> Result<UniquePtr<UartTxDut>>;
        fn reset(self: Pin<&mut UartTxDut>, cycles: u32);
        fn step(self: Pin<&mut UartTxDut>, i: &UartTxIn) -> UartTxPins;
        fn cycles(self: &UartTxDut) -> u64;
        fn error(self: &UartTxDut) -> bool;

        type FrameTxDut;
        fn new_frametx(config: usize, seed: u32, trace: &str) -> Result<UniquePtr<FrameTxDut>>;
        fn reset(self: Pin<&mut FrameTxDut>, cycles: u32);
        fn step(self: Pin<&mut FrameTxDut>, i: &FrameTxIn) -> FrameTxPins;
        fn cycles(self: &FrameTxDut) -> u64;
        fn error(self: &FrameTxDut) -> bool;

        fn fifo_cpp_run(
            config: usize,
            seed: u32,
            reset_cycles: u32,
            stim: &[StreamStepIn],
            cycles: u64,
        ) -> Result<u64>;
    }

    // ---- Engine speed harnesses (benchmark baselines) ----
    unsafe extern "C++" {
        include!("hlsk-cosim/shim/bench.h");

        fn tlmm_bench_run(
            config: usize,
            seed: u32,
            reset_cycles: u32,
            stim: &TlmmBenchStim,
            cycles: u64,
        ) -> Result<u64>;
        fn conv_bench_run(
            config: usize,
            seed: u32,
            reset_cycles: u32,
            stim: &ConvBenchStim,
            cycles: u64,
        ) -> Result<u64>;
        fn soc_bench_run(config: usize, seed: u32, reset_cycles: u32, rx: &[u8]) -> Result<u64>;
    }

    // ---- SoC top (digital twin) ----
    unsafe extern "C++" {
        include!("hlsk-cosim/shim/soc.h");

        type SocDut;
        fn new_soc(config: usize, seed: u32, trace: &str) -> Result<UniquePtr<SocDut>>;
        fn reset(self: Pin<&mut SocDut>, cycles: u32);
        fn run(self: Pin<&mut SocDut>, rx: &[u8], tx: &mut [u8]) -> Result<()>;
        fn leds(self: &SocDut) -> u32;
        fn cycles(self: &SocDut) -> u64;
        fn error(self: &SocDut) -> bool;
    }

    // ---- Kernel-preset SoC (HostLink = 0), probed inside ----
    unsafe extern "C++" {
        include!("hlsk-cosim/shim/soc_preset.h");

        type SocPresetDut;
        fn new_socpreset(config: usize, seed: u32, trace: &str) -> Result<UniquePtr<SocPresetDut>>;
        fn reset(self: Pin<&mut SocPresetDut>, cycles: u32);
        fn probe_words(self: &SocPresetDut) -> usize;
        fn run(
            self: Pin<&mut SocPresetDut>,
            rx: &[u8],
            tx: &mut [u8],
            probe: &mut [u64],
        ) -> Result<()>;
        fn leds(self: &SocPresetDut) -> u32;
        fn cycles(self: &SocPresetDut) -> u64;
        fn error(self: &SocPresetDut) -> bool;
    }
}
