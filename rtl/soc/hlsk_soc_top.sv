// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Board-agnostic SoC top: a UART host link to a word memory and the TLMM
// output-stationary engine, a built-in self-test, status LEDs and a
// heartbeat. The board flow (hlsk-boards) sets the engine parameters and the
// memory size from boards/<board>.toml's [kernel] params and the board
// parameters (clock, LED count and polarity, reset button polarity) from the
// same file. Protocol: docs/host-protocol.md.
//
// Data path: uart_rx -> hlsk_frame_rx (framing, CRC, timeouts) ->
// hlsk_soc_ctrl (commands) -> hlsk_frame_tx -> uart_tx. The memory is the
// weight feeder's RAM (MemWords x 32 bits): the host writes it through the
// feeder's write port and reads it through its read stream; a TLMM job
// (hlsk_soc_tlmm_job) streams activations and weights out of it through the
// same feeder and writes the results back through the write port. While a
// job runs the host gets NakBusy for memory commands (STATUS still works).
//
// After reset the self-test (hlsk_soc_bist) owns the engine for a few
// hundred cycles; then the host link does. Frames that arrive before are
// answered once the self-test is done (the link never drops them for it).
//
// Conv = 1 adds the convolution engine (hlsk_soc_conv_job: conv_engine with
// ConvT/ConvP and the Conv* buffer sizes) on the same memory, run by
// CONV_START; the memory then belongs to whichever job runs.
//
// HostLink = 0 leaves the link, memory and job sequencers out (the kernel
// resource presets of `hlsk results` measure the engine): after the
// self-test the engine runs on bits shifted in from uart_rx_i, and uart_tx_o
// carries the parity of its results and counters, so that synthesis keeps
// all of it.
//
// LEDs (bit i drives led_o[i] when i < NumLeds):
//   0 heartbeat: 1 Hz = self-test passed, 4 Hz = failed, on = running;
//   1 self-test passed, blinking off for 1/16 s on every executed frame;
//   2 self-test failed; 3 engine busy; 4..7 engine status flags
//   (tlmm_pkg::status_bit_e).
// The reset button resets everything; reset is also held for a few cycles
// after configuration (registers power up to 0 on every supported FPGA
// family).

module hlsk_soc_top
  import tlmm_pkg::*;
#(
  // Engine
  parameter int unsigned G            = 3,
  parameter int unsigned T            = 1,
  parameter int unsigned P            = 4,
  parameter int unsigned AccW         = 24,
  parameter int unsigned KMax         = 256,
  // Memory (32-bit words) and words per WRITE/READ frame
  parameter int unsigned MemWords     = 1024,
  parameter int unsigned MaxWords     = 32,
  // 0 builds the engine and self-test only (kernel resource presets)
  parameter bit          HostLink     = 1'b1,
  // 1: a convolution engine on the memory (with the host link); ConvT = 2
  parameter int unsigned Conv         = 0,
  parameter int unsigned ConvT        = 2,
  parameter int unsigned ConvP        = 1,
  parameter int unsigned ConvAccW     = 32,
  parameter int unsigned ConvAccWWu   = 40,
  parameter int unsigned ConvInWords  = 512,
  parameter int unsigned ConvWWords   = 256,
  parameter int unsigned ConvOutEnt   = 256,
  parameter int unsigned ConvGEnt     = 128,
  // Board
  parameter int unsigned ClkHz        = 12_000_000,
  parameter int unsigned Baud         = 115_200,
  parameter int unsigned NumLeds      = 2,
  parameter bit          LedActiveLow = 1'b1,
  parameter bit          RstActiveLow = 1'b1
) (
  input  logic               clk_i,
  input  logic               rst_btn_i,   // raw reset button, RstActiveLow polarity

  output logic [NumLeds-1:0] led_o,

  // Host link, 8N1 at Baud
  output logic               uart_tx_o,
  input  logic               uart_rx_i
);

  localparam int unsigned CW          = code_width(G);
  localparam int unsigned WBeatW      = ((P * T * CW + 7) / 8) * 8;
  localparam int unsigned WWords      = (WBeatW + 31) / 32;
  localparam int unsigned MaxPayload  = 2 + 4 * MaxWords;
  localparam int unsigned PlAW        = $clog2(MaxPayload);
  localparam int unsigned AddrW       = (MemWords > 1) ? $clog2(MemWords) : 1;
  localparam int unsigned CntW        = $clog2(MemWords + 1);
  localparam int unsigned ClksPerBit  = (ClkHz / Baud > 2) ? ClkHz / Baud : 2;
  // A frame is truncated after 20 ms (and at least two byte times) of silence.
  localparam int unsigned TimeoutClks = (ClkHz / 50 > 20 * ClksPerBit) ? ClkHz / 50
                                                                       : 20 * ClksPerBit;
  // 16 Hz tick for the heartbeat.
  localparam int unsigned TickDiv     = (ClkHz / 16 > 1) ? ClkHz / 16 : 2;
  localparam int unsigned TickW       = $clog2(TickDiv);

  // ceil(w / 4^l): the bits at level l of a tree of 4-input gates over w.
  function automatic int unsigned quarter(int unsigned w, int unsigned l);
    int unsigned n = w;
    for (int unsigned i = 0; i < l; i++) begin
      n = (n + 3) / 4;
    end
    return n;
  endfunction

  /////////////////////////
  // Reset and heartbeat //
  /////////////////////////

  logic       btn_pressed;
  logic [3:0] por_q;
  logic       rst_n;

  assign btn_pressed = rst_btn_i ^ RstActiveLow;

  // Held in reset while the button is pressed and for 15 cycles after;
  // released synchronously.
  always_ff @(posedge clk_i or posedge btn_pressed) begin
    if (btn_pressed) begin
      por_q <= '0;
    end else if (!(&por_q)) begin
      por_q <= por_q + 1'b1;
    end
  end
  assign rst_n = &por_q;

  logic [TickW-1:0] div_q;
  logic [3:0]       tick_q;
  logic             tick;

  assign tick = (div_q == TickW'(TickDiv - 1));

  always_ff @(posedge clk_i or negedge rst_n) begin
    if (!rst_n) begin
      div_q  <= '0;
      tick_q <= '0;
    end else if (tick) begin
      div_q  <= '0;
      tick_q <= tick_q + 1'b1;
    end else begin
      div_q <= div_q + 1'b1;
    end
  end

  /////////////
  // Signals //
  /////////////

  // Engine ports, from the self-test until it is done, then from the job.
  // The self-test ignores the engine once done: its inputs need no gating.
  logic                 b_cmd_valid, j_cmd_valid, cmd_valid, cmd_ready;
  logic [CmdMW-1:0]     b_cmd_m, j_cmd_m, cmd_m;
  logic [CmdKW-1:0]     b_cmd_k, j_cmd_k, cmd_k;
  logic [CmdFlagsW-1:0] b_cmd_flags, j_cmd_flags, cmd_flags;
  logic                 b_act_valid, j_act_valid, act_valid, act_ready;
  logic [31:0]          b_act_data, j_act_data, act_data;
  logic                 b_act_last, j_act_last, act_last;
  logic                 b_w_valid, j_w_valid, w_valid, w_ready;
  logic [WBeatW-1:0]    b_w_data, j_w_data, w_data;
  logic                 b_w_last, j_w_last, w_last;
  logic                 res_valid, res_ready, res_last, j_res_ready;
  logic [31:0]          res_data;
  logic                 eng_busy;

  logic                 bist_done, bist_pass, bist_fail;
  logic [StatusW-1:0]   eng_status;
  logic [31:0]          eng_cnt_busy, eng_cnt_starved, eng_cnt_blocked, eng_cnt_beats;
  logic                 executed;

  /////////////////////////////
  // Self-test and the engine //
  /////////////////////////////

  hlsk_soc_bist #(
    .G   (G),
    .T   (T),
    .P   (P),
    .AccW(AccW)
  ) u_bist (
    .clk_i,
    .rst_ni      (rst_n),
    .cmd_valid_o (b_cmd_valid),
    .cmd_ready_i (cmd_ready),
    .cmd_m_o     (b_cmd_m),
    .cmd_k_o     (b_cmd_k),
    .cmd_flags_o (b_cmd_flags),
    .act_valid_o (b_act_valid),
    .act_ready_i (act_ready),
    .act_data_o  (b_act_data),
    .act_last_o  (b_act_last),
    .w_valid_o   (b_w_valid),
    .w_ready_i   (w_ready),
    .w_data_o    (b_w_data),
    .w_last_o    (b_w_last),
    .res_valid_i (res_valid),
    .res_data_i  (res_data),
    .res_last_i  (res_last),
    .busy_i      (eng_busy),
    .status_i    (eng_status),
    .done_o      (bist_done),
    .passed_o    (bist_pass),
    .failed_o    (bist_fail)
  );

  // The command's fields reach the engine from registers: both sources
  // hold them for cycles before they raise valid (the self-test's are
  // constants, the job's come from its descriptor registers), so the copy
  // a cycle late is the same and the engine's command checks start at a
  // flip-flop, not at the switch-over mux (asserted below with the link).
  logic [CmdMW-1:0]     cmd_m_q;
  logic [CmdKW-1:0]     cmd_k_q;
  logic [CmdFlagsW-1:0] cmd_flags_q;

  always_ff @(posedge clk_i) begin
    cmd_m_q     <= bist_done ? j_cmd_m     : b_cmd_m;
    cmd_k_q     <= bist_done ? j_cmd_k     : b_cmd_k;
    cmd_flags_q <= bist_done ? j_cmd_flags : b_cmd_flags;
  end

  assign cmd_valid = bist_done ? j_cmd_valid : b_cmd_valid;
  assign cmd_m     = cmd_m_q;
  assign cmd_k     = cmd_k_q;
  assign cmd_flags = cmd_flags_q;

`ifndef SYNTHESIS
  // Without the host link the job's command comes from shift registers that
  // change every cycle: the engine then sees them a cycle late, which the
  // kernel presets do not mind.
  always_ff @(posedge clk_i) begin
    if (rst_n && cmd_valid && HostLink) begin
      assert (cmd_m == (bist_done ? j_cmd_m : b_cmd_m) &&
              cmd_k == (bist_done ? j_cmd_k : b_cmd_k) &&
              cmd_flags == (bist_done ? j_cmd_flags : b_cmd_flags))
        else $error("hlsk_soc_top: command fields changed with valid");
    end
  end
`endif
  assign act_valid = bist_done ? j_act_valid : b_act_valid;
  assign act_data  = bist_done ? j_act_data  : b_act_data;
  assign act_last  = bist_done ? j_act_last  : b_act_last;

  // The activation stream reaches the engine through a register slice (full
  // throughput): the memory's read stream, the switch-over mux and the act
  // buffer's byte steering are then in different cycles. The engine's own
  // cycles (from its command) do not change; a job's may, by one.
  logic        act_valid_e, act_ready_e, act_last_e;
  logic [31:0] act_data_e;

  hlsk_skid_buffer #(
    .Width(33)
  ) u_act_slice (
    .clk_i,
    .rst_ni     (rst_n),
    .in_valid_i (act_valid),
    .in_ready_o (act_ready),
    .in_data_i  ({act_last, act_data}),
    .out_valid_o(act_valid_e),
    .out_ready_i(act_ready_e),
    .out_data_o ({act_last_e, act_data_e})
  );
  assign w_valid   = bist_done ? j_w_valid   : b_w_valid;
  assign w_data    = bist_done ? j_w_data    : b_w_data;
  assign w_last    = bist_done ? j_w_last    : b_w_last;
  // The self-test takes every result at once.
  assign res_ready = bist_done ? j_res_ready : 1'b1;

  tlmm_os_engine #(
    .G   (G),
    .T   (T),
    .P   (P),
    .AccW(AccW),
    .KMax(KMax)
  ) u_engine (
    .clk_i,
    .rst_ni            (rst_n),
    .cmd_valid_i       (cmd_valid),
    .cmd_ready_o       (cmd_ready),
    .cmd_m_i           (cmd_m),
    .cmd_k_i           (cmd_k),
    .cmd_flags_i       (cmd_flags),
    .act_valid_i       (act_valid_e),
    .act_ready_o       (act_ready_e),
    .act_data_i        (act_data_e),
    .act_last_i        (act_last_e),
    .w_valid_i         (w_valid),
    .w_ready_o         (w_ready),
    .w_data_i          (w_data),
    .w_last_i          (w_last),
    .res_valid_o       (res_valid),
    .res_ready_i       (res_ready),
    .res_data_o        (res_data),
    .res_last_o        (res_last),
    .busy_o            (eng_busy),
    .status_o          (eng_status),
    .cnt_busy_o        (eng_cnt_busy),
    .cnt_w_starved_o   (eng_cnt_starved),
    .cnt_out_blocked_o (eng_cnt_blocked),
    .cnt_w_beats_o     (eng_cnt_beats)
  );

  /////////////////////////////////////////
  // Host link, memory and job sequencer //
  /////////////////////////////////////////

  if (HostLink) begin : g_link
    ///////////////
    // Host link //
    ///////////////

    logic       rx_valid, rx_ready, rx_frame_err, rx_overrun;
    logic [7:0] rx_data;
    logic       frm_valid, frm_ready, rx_dropped;
    logic [7:0] frm_status, frm_seq, frm_cmd, frm_len;
    logic [PlAW-1:0] pl_raddr;
    logic [7:0] pl_rdata;
    logic       hdr_valid, hdr_ready;
    logic [7:0] hdr_len, hdr_seq, hdr_status;
    logic       rsp_valid, rsp_ready;
    logic [7:0] rsp_data;
    logic       tx_valid, tx_ready, tx_busy, ftx_busy;
    logic [7:0] tx_data;

    hlsk_uart_rx #(.ClksPerBit(ClksPerBit)) u_uart_rx (
      .clk_i,
      .rst_ni      (rst_n),
      .rx_i        (uart_rx_i),
      .out_valid_o (rx_valid),
      .out_ready_i (rx_ready),
      .out_data_o  (rx_data),
      .frame_err_o (rx_frame_err),
      .overrun_o   (rx_overrun)
    );

    hlsk_frame_rx #(
      .MaxPayload (MaxPayload),
      .TimeoutClks(TimeoutClks)
    ) u_frame_rx (
      .clk_i,
      .rst_ni      (rst_n),
      .in_valid_i  (rx_valid),
      .in_ready_o  (rx_ready),
      .in_data_i   (rx_data),
      .frm_valid_o (frm_valid),
      .frm_ready_i (frm_ready),
      .frm_status_o(frm_status),
      .frm_seq_o   (frm_seq),
      .frm_cmd_o   (frm_cmd),
      .frm_len_o   (frm_len),
      .pl_raddr_i  (pl_raddr),
      .pl_rdata_o  (pl_rdata),
      .dropped_o   (rx_dropped)
    );

    hlsk_frame_tx u_frame_tx (
      .clk_i,
      .rst_ni       (rst_n),
      .hdr_valid_i  (hdr_valid),
      .hdr_ready_o  (hdr_ready),
      .hdr_len_i    (hdr_len),
      .hdr_seq_i    (hdr_seq),
      .hdr_status_i (hdr_status),
      .pl_valid_i   (rsp_valid),
      .pl_ready_o   (rsp_ready),
      .pl_data_i    (rsp_data),
      .out_valid_o  (tx_valid),
      .out_ready_i  (tx_ready),
      .out_data_o   (tx_data),
      .busy_o       (ftx_busy)
    );

    hlsk_uart_tx #(.ClksPerBit(ClksPerBit)) u_uart_tx (
      .clk_i,
      .rst_ni     (rst_n),
      .in_valid_i (tx_valid),
      .in_ready_o (tx_ready),
      .in_data_i  (tx_data),
      .tx_o       (uart_tx_o),
      .busy_o     (tx_busy)
    );

    logic unused_tx_busy;
    assign unused_tx_busy = tx_busy ^ ftx_busy;

    /////////////////////////////////
    // Command executor and memory //
    /////////////////////////////////

    // Memory ports: a job's while it runs, the executor's otherwise.
    logic             c_mw_en, j_mw_en, v_mw_en, mw_en;
    logic [AddrW-1:0] c_mw_addr, j_mw_addr, v_mw_addr, mw_addr;
    logic [31:0]      c_mw_data, j_mw_data, v_mw_data, mw_data;
    logic             c_fs_valid, j_fs_valid, v_fs_valid, fs_valid, fs_ready;
    logic [AddrW-1:0] c_fs_base, j_fs_base, v_fs_base, fs_base;
    logic [CntW-1:0]  c_fs_count, j_fs_count, v_fs_count, fs_count;
    logic             fd_valid, fd_last, c_fd_ready, j_fd_ready, v_fd_ready, fd_ready;
    logic [31:0]      fd_data;
    logic             fd_busy, fd_done;

    logic             job_req_valid, job_req_ready, job_rsp_valid, job_rsp_ready, job_rsp_ok;
    logic [15:0]      job_m, job_k, job_a_addr, job_w_addr, job_o_addr;
    logic             job_busy, job_done;
    logic [31:0]      job_cycles;

    logic             conv_desc_valid, conv_desc_ready;
    logic [31:0]      conv_desc_data;
    logic             conv_busy, conv_done, conv_engine_error, conv_range_error;
    logic [31:0]      conv_cycles, conv_fired;
    logic             any_busy;

    assign any_busy = job_busy || conv_busy;

    logic             frm_valid_c;

    // Frames wait for the self-test to hand over the engine.
    assign frm_valid_c = frm_valid && bist_done;

    hlsk_soc_ctrl #(
      .G         (G),
      .T         (T),
      .P         (P),
      .AccW      (AccW),
      .KMax      (KMax),
      .WWords    (WWords),
      .MemWords  (MemWords),
      .MaxWords  (MaxWords),
      .ClkHz     (ClkHz),
      .ClksPerBit(ClksPerBit),
      .Conv      (Conv != 0)
    ) u_ctrl (
      .clk_i,
      .rst_ni                (rst_n),
      .frm_valid_i           (frm_valid_c),
      .frm_ready_o           (frm_ready),
      .frm_status_i          (frm_status),
      .frm_seq_i             (frm_seq),
      .frm_cmd_i             (frm_cmd),
      .frm_len_i             (frm_len),
      .pl_raddr_o            (pl_raddr),
      .pl_rdata_i            (pl_rdata),
      .rx_dropped_i          (rx_dropped),
      .hdr_valid_o           (hdr_valid),
      .hdr_ready_i           (hdr_ready),
      .hdr_len_o             (hdr_len),
      .hdr_seq_o             (hdr_seq),
      .hdr_status_o          (hdr_status),
      .tx_valid_o            (rsp_valid),
      .tx_ready_i            (rsp_ready),
      .tx_data_o             (rsp_data),
      .mw_en_o               (c_mw_en),
      .mw_addr_o             (c_mw_addr),
      .mw_data_o             (c_mw_data),
      .fd_start_valid_o      (c_fs_valid),
      .fd_start_ready_i      (fs_ready && !any_busy),
      .fd_start_base_o       (c_fs_base),
      .fd_start_count_o      (c_fs_count),
      .fd_valid_i            (fd_valid && !any_busy),
      .fd_ready_o            (c_fd_ready),
      .fd_data_i             (fd_data),
      .job_req_valid_o       (job_req_valid),
      .job_req_ready_i       (job_req_ready),
      .job_m_o               (job_m),
      .job_k_o               (job_k),
      .job_a_addr_o          (job_a_addr),
      .job_w_addr_o          (job_w_addr),
      .job_o_addr_o          (job_o_addr),
      .job_rsp_valid_i       (job_rsp_valid),
      .job_rsp_ready_o       (job_rsp_ready),
      .job_rsp_ok_i          (job_rsp_ok),
      .job_busy_i            (any_busy),
      .job_done_i            (job_done),
      .job_cycles_i          (job_cycles),
      .conv_desc_valid_o     (conv_desc_valid),
      .conv_desc_ready_i     (conv_desc_ready),
      .conv_desc_data_o      (conv_desc_data),
      .conv_busy_i           (conv_busy),
      .conv_done_i           (conv_done),
      .conv_engine_error_i   (conv_engine_error),
      .conv_range_error_i    (conv_range_error),
      .conv_cycles_i         (conv_cycles),
      .conv_fired_i          (conv_fired),
      .bist_pass_i           (bist_pass),
      .bist_fail_i           (bist_fail),
      .uart_frame_err_i      (rx_frame_err),
      .uart_overrun_i        (rx_overrun),
      .eng_status_i          (eng_status),
      .eng_cnt_busy_i        (eng_cnt_busy),
      .eng_cnt_w_starved_i   (eng_cnt_starved),
      .eng_cnt_out_blocked_i (eng_cnt_blocked),
      .eng_cnt_w_beats_i     (eng_cnt_beats),
      .executed_o            (executed)
    );

    // At most one job runs at a time (the executor starts one only while
    // none is busy).
    assign mw_en    = job_busy ? j_mw_en    : conv_busy ? v_mw_en    : c_mw_en;
    assign mw_addr  = job_busy ? j_mw_addr  : conv_busy ? v_mw_addr  : c_mw_addr;
    assign mw_data  = job_busy ? j_mw_data  : conv_busy ? v_mw_data  : c_mw_data;
    assign fs_valid = job_busy ? j_fs_valid : conv_busy ? v_fs_valid : c_fs_valid;
    assign fs_base  = job_busy ? j_fs_base  : conv_busy ? v_fs_base  : c_fs_base;
    assign fs_count = job_busy ? j_fs_count : conv_busy ? v_fs_count : c_fs_count;
    assign fd_ready = job_busy ? j_fd_ready : conv_busy ? v_fd_ready : c_fd_ready;

    tlmm_weight_feeder #(
      .Width(32),
      .Depth(MemWords)
    ) u_mem (
      .clk_i,
      .rst_ni        (rst_n),
      .wr_en_i       (mw_en),
      .wr_addr_i     (mw_addr),
      .wr_data_i     (mw_data),
      .start_valid_i (fs_valid),
      .start_ready_o (fs_ready),
      .start_base_i  (fs_base),
      .start_count_i (fs_count),
      .w_valid_o     (fd_valid),
      .w_ready_i     (fd_ready),
      .w_data_o      (fd_data),
      .w_last_o      (fd_last),
      .busy_o        (fd_busy),
      .done_o        (fd_done)
    );

    logic unused_fd;
    assign unused_fd = fd_busy ^ fd_done;

    hlsk_soc_tlmm_job #(
      .G       (G),
      .T       (T),
      .P       (P),
      .KMax    (KMax),
      .MemWords(MemWords)
    ) u_job (
      .clk_i,
      .rst_ni           (rst_n),
      .req_valid_i      (job_req_valid),
      .req_ready_o      (job_req_ready),
      .req_m_i          (job_m),
      .req_k_i          (job_k),
      .req_a_addr_i     (job_a_addr),
      .req_w_addr_i     (job_w_addr),
      .req_o_addr_i     (job_o_addr),
      .rsp_valid_o      (job_rsp_valid),
      .rsp_ready_i      (job_rsp_ready),
      .rsp_ok_o         (job_rsp_ok),
      .fd_start_valid_o (j_fs_valid),
      .fd_start_ready_i (fs_ready),
      .fd_start_base_o  (j_fs_base),
      .fd_start_count_o (j_fs_count),
      .fd_valid_i       (fd_valid),
      .fd_ready_o       (j_fd_ready),
      .fd_data_i        (fd_data),
      .fd_last_i        (fd_last),
      .mw_en_o          (j_mw_en),
      .mw_addr_o        (j_mw_addr),
      .mw_data_o        (j_mw_data),
      .cmd_valid_o      (j_cmd_valid),
      .cmd_ready_i      (cmd_ready && bist_done),
      .cmd_m_o          (j_cmd_m),
      .cmd_k_o          (j_cmd_k),
      .cmd_flags_o      (j_cmd_flags),
      .act_valid_o      (j_act_valid),
      .act_ready_i      (act_ready && bist_done),
      .act_data_o       (j_act_data),
      .act_last_o       (j_act_last),
      .w_valid_o        (j_w_valid),
      .w_ready_i        (w_ready && bist_done),
      .w_data_o         (j_w_data),
      .w_last_o         (j_w_last),
      .res_valid_i      (res_valid && bist_done),
      .res_ready_o      (j_res_ready),
      .res_data_i       (res_data),
      .busy_o           (job_busy),
      .done_o           (job_done),
      .cycles_o         (job_cycles)
    );

    //////////////////////////
    // Convolution engine   //
    //////////////////////////

    if (Conv != 0) begin : g_conv
      hlsk_soc_conv_job #(
        .T       (ConvT),
        .P       (ConvP),
        .AccW    (ConvAccW),
        .AccWWu  (ConvAccWWu),
        .InWords (ConvInWords),
        .WWords  (ConvWWords),
        .OutEnt  (ConvOutEnt),
        .GEnt    (ConvGEnt),
        .MemWords(MemWords)
      ) u_conv (
        .clk_i,
        .rst_ni           (rst_n),
        .desc_valid_i     (conv_desc_valid),
        .desc_ready_o     (conv_desc_ready),
        .desc_data_i      (conv_desc_data),
        .fd_start_valid_o (v_fs_valid),
        .fd_start_ready_i (fs_ready && conv_busy),
        .fd_start_base_o  (v_fs_base),
        .fd_start_count_o (v_fs_count),
        .fd_valid_i       (fd_valid && conv_busy),
        .fd_ready_o       (v_fd_ready),
        .fd_data_i        (fd_data),
        .mw_en_o          (v_mw_en),
        .mw_addr_o        (v_mw_addr),
        .mw_data_o        (v_mw_data),
        .busy_o           (conv_busy),
        .done_o           (conv_done),
        .engine_error_o   (conv_engine_error),
        .range_error_o    (conv_range_error),
        .cycles_o         (conv_cycles),
        .fired_o          (conv_fired)
      );
    end else begin : g_no_conv
      assign conv_desc_ready   = 1'b0;
      assign v_fs_valid        = 1'b0;
      assign v_fs_base         = '0;
      assign v_fs_count        = '0;
      assign v_fd_ready        = 1'b0;
      assign v_mw_en           = 1'b0;
      assign v_mw_addr         = '0;
      assign v_mw_data         = '0;
      assign conv_busy         = 1'b0;
      assign conv_done         = 1'b0;
      assign conv_engine_error = 1'b0;
      assign conv_range_error  = 1'b0;
      assign conv_cycles       = '0;
      assign conv_fired        = '0;
      logic unused_conv_desc;
      assign unused_conv_desc = conv_desc_valid ^ (^conv_desc_data);
    end
  end else begin : g_no_link
    // Kernel-only build (resource presets). The self-test's job is constant
    // and small (M = 6): engine inputs synthesis can predict would let it
    // drop every lane, weight bit and counter that job leaves unused. So once
    // the self-test is done the engine's streams come from flip-flops fed by
    // the otherwise unused uart_rx_i pin (every command, activation and
    // weight bit its own flip-flop), and its results and counters are folded
    // onto uart_tx_o: no engine input is predictable, no output unobserved,
    // at the cost of StimW flip-flops, StimR XORs and a pipelined parity
    // tree.
    localparam int unsigned StimW = 1 + CmdMW + CmdKW + CmdFlagsW  // command
                                  + 1 + 32 + 1                     // activations
                                  + 1 + WBeatW + 1                 // weights
                                  + 1;                             // result ready
    // StimR shift registers of StimL bits, StimR <= StimL: Yosys' ECP5
    // mapping recurses along flip-flop chains, and one chain of StimW
    // bits at P = 32 overflows its stack.
    localparam int unsigned StimL = 2 ** (($clog2(StimW) + 1) / 2);
    localparam int unsigned StimR = (StimW + StimL - 1) / StimL;

    logic [StimR*StimL-1:0] stim_q;

    // Register r shifts in the pin XOR its own bit r: a different feedback
    // per register, so no two of them hold the same bits.
    for (genvar r = 0; r < StimR; r++) begin : g_stim
      always_ff @(posedge clk_i or negedge rst_n) begin
        if (!rst_n) begin
          stim_q[r*StimL +: StimL] <= '0;
        end else begin
          stim_q[r*StimL +: StimL] <= {stim_q[r*StimL +: StimL-1],
                                       uart_rx_i ^ stim_q[r*StimL + r]};
        end
      end
    end

    // Observed: results and counters, registered, then XORed four at a time
    // with a register after every level. (In one cycle, the parity of bits
    // from all over the die set the 768-MAC preset's clock.)
    localparam int unsigned ObsW  = 1 + 32 + 1 + 4 * 32;
    localparam int unsigned ObsLv = ($clog2(ObsW) + 1) / 2;  // 4-input levels to one bit

    for (genvar l = 0; l <= ObsLv; l++) begin : g_obs
      logic [quarter(ObsW, l)-1:0] q;
      if (l == 0) begin : g_in
        always_ff @(posedge clk_i or negedge rst_n) begin
          if (!rst_n) begin
            q <= '0;
          end else begin
            q <= {res_valid, res_data, res_last, eng_cnt_busy, eng_cnt_starved,
                  eng_cnt_blocked, eng_cnt_beats};
          end
        end
      end else begin : g_xor
        logic [4*quarter(ObsW, l)-1:0] prev;
        assign prev = (4 * quarter(ObsW, l))'(g_obs[l-1].q);
        always_ff @(posedge clk_i or negedge rst_n) begin
          if (!rst_n) begin
            q <= '0;
          end else begin
            for (int unsigned i = 0; i < quarter(ObsW, l); i++) begin
              q[i] <= ^prev[4*i +: 4];
            end
          end
        end
      end
    end

    assign {j_cmd_valid, j_cmd_m, j_cmd_k, j_cmd_flags,
            j_act_valid, j_act_data, j_act_last,
            j_w_valid, j_w_data, j_w_last,
            j_res_ready} = stim_q[StimW-1:0];
    assign uart_tx_o = g_obs[ObsLv].q[0];
    assign executed  = 1'b0;

    if (StimR * StimL > StimW) begin : g_stim_pad
      logic unused_stim_pad;
      assign unused_stim_pad = ^stim_q[StimR*StimL-1:StimW];
    end
  end

  //////////
  // LEDs //
  //////////

  logic       activity_q;
  logic [7:0] leds;

  always_ff @(posedge clk_i or negedge rst_n) begin
    if (!rst_n) begin
      activity_q <= 1'b0;
    end else if (executed) begin
      activity_q <= 1'b1;
    end else if (tick) begin
      activity_q <= 1'b0;
    end
  end

  always_comb begin
    if (bist_pass) begin
      leds[0] = tick_q[3];
    end else if (bist_fail) begin
      leds[0] = tick_q[1];
    end else begin
      leds[0] = 1'b1;
    end
    leds[1]   = bist_pass && !activity_q;
    leds[2]   = bist_fail;
    leds[3]   = eng_busy;
    leds[7:4] = eng_status;
  end

  // Boards with fewer LEDs show the first ones.
  logic unused_leds;
  assign unused_leds = ^leds;

  for (genvar i = 0; i < NumLeds; i++) begin : g_leds
    if (i < 8) begin : g_led
      assign led_o[i] = leds[i] ^ LedActiveLow;
    end else begin : g_off
      assign led_o[i] = LedActiveLow;
    end
  end

endmodule
