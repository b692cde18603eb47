// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Formal harness for the repeated-SEQ rule of hlsk_soc_ctrl
// (SymbiYosys, soc_ctrl_seq.sby; bounded).
//
// From outside the module, the harness remembers the SEQ of the last INFO,
// WRITE, TLMM_START or CONV_START frame that was answered StOk (the reply
// header's status, taken before the frame is released), as
// docs/host-protocol.md defines it. While a good WRITE, TLMM_START or
// CONV_START frame with that SEQ is on offer it asserts that nothing is
// executed: no memory write, no TLMM job request, no convolution
// descriptor word, and the reply (if any) is StDup.
// Assumed: reset in the first cycle; the frame verdict port follows the
// stream rule (verdict fields held until frm_ready_o); LEN <= MaxPayload;
// every other input (engine status, memory, back-pressure) is free.

module soc_ctrl_seq_formal
  import hlsk_link_pkg::*;
#(
  parameter int unsigned MemWords = 4,
  parameter int unsigned MaxWords = 1,
  localparam int unsigned MaxPayload = 2 + 4 * MaxWords,
  localparam int unsigned PlAW       = $clog2(MaxPayload),
  localparam int unsigned AddrW      = (MemWords > 1) ? $clog2(MemWords) : 1,
  localparam int unsigned CntW       = $clog2(MemWords + 1)
) (
  input logic        clk_i,
  input logic        rst_ni,
  input logic        frm_valid_i,
  input logic [7:0]  frm_status_i,
  input logic [7:0]  frm_seq_i,
  input logic [7:0]  frm_cmd_i,
  input logic [7:0]  frm_len_i,
  input logic [7:0]  pl_rdata_i,
  input logic        rx_dropped_i,
  input logic        hdr_ready_i,
  input logic        tx_ready_i,
  input logic        fd_start_ready_i,
  input logic        fd_valid_i,
  input logic [31:0] fd_data_i,
  input logic        job_req_ready_i,
  input logic        job_rsp_valid_i,
  input logic        job_rsp_ok_i,
  input logic        job_busy_i,
  input logic        job_done_i,
  input logic        conv_desc_ready_i,
  input logic        conv_busy_i,
  input logic        conv_done_i
);

  logic             frm_ready, hdr_valid, tx_valid, mw_en, fd_start_valid, fd_ready;
  logic             job_req_valid, job_rsp_ready, conv_desc_valid, executed;
  logic [7:0]       hdr_len, hdr_seq, hdr_status, tx_data;
  logic [PlAW-1:0]  pl_raddr;
  logic [AddrW-1:0] mw_addr, fd_start_base;
  logic [CntW-1:0]  fd_start_count;
  logic [31:0]      mw_data, conv_desc_data;
  logic [15:0]      job_m, job_k, job_a, job_w, job_o;

  hlsk_soc_ctrl #(
    .MemWords(MemWords), .MaxWords(MaxWords), .Conv(1'b1)
  ) u_dut (
    .clk_i, .rst_ni,
    .frm_valid_i, .frm_ready_o(frm_ready), .frm_status_i, .frm_seq_i, .frm_cmd_i,
    .frm_len_i, .pl_raddr_o(pl_raddr), .pl_rdata_i, .rx_dropped_i,
    .hdr_valid_o(hdr_valid), .hdr_ready_i, .hdr_len_o(hdr_len), .hdr_seq_o(hdr_seq),
    .hdr_status_o(hdr_status), .tx_valid_o(tx_valid), .tx_ready_i, .tx_data_o(tx_data),
    .mw_en_o(mw_en), .mw_addr_o(mw_addr), .mw_data_o(mw_data),
    .fd_start_valid_o(fd_start_valid), .fd_start_ready_i, .fd_start_base_o(fd_start_base),
    .fd_start_count_o(fd_start_count), .fd_valid_i, .fd_ready_o(fd_ready), .fd_data_i,
    .job_req_valid_o(job_req_valid), .job_req_ready_i, .job_m_o(job_m), .job_k_o(job_k),
    .job_a_addr_o(job_a), .job_w_addr_o(job_w), .job_o_addr_o(job_o),
    .job_rsp_valid_i, .job_rsp_ready_o(job_rsp_ready), .job_rsp_ok_i, .job_busy_i,
    .job_done_i, .job_cycles_i('0),
    .conv_desc_valid_o(conv_desc_valid), .conv_desc_ready_i, .conv_desc_data_o(conv_desc_data),
    .conv_busy_i, .conv_done_i, .conv_engine_error_i(1'b0), .conv_range_error_i(1'b0),
    .conv_cycles_i('0), .conv_fired_i('0),
    .bist_pass_i(1'b0), .bist_fail_i(1'b0), .uart_frame_err_i(1'b0), .uart_overrun_i(1'b0),
    .eng_status_i('0), .eng_cnt_busy_i('0), .eng_cnt_w_starved_i('0),
    .eng_cnt_out_blocked_i('0), .eng_cnt_w_beats_i('0),
    .executed_o(executed)
  );

  logic       init_q = 1'b1;
  logic       hold_q;
  logic [7:0] status_q, seq_q, cmd_q, len_q;
  logic       last_valid_q, ok_reply_q;
  logic [7:0] last_seq_q;
  logic       kept, side_effect, dup_frame;

  assign kept        = frm_cmd_i == CmdInfo || frm_cmd_i == CmdWrite
                       || frm_cmd_i == CmdTlmmStart || frm_cmd_i == CmdConvStart;
  assign side_effect = frm_cmd_i == CmdWrite || frm_cmd_i == CmdTlmmStart
                       || frm_cmd_i == CmdConvStart;
  assign dup_frame   = frm_valid_i && frm_status_i == StOk && side_effect
                       && last_valid_q && frm_seq_i == last_seq_q;

  always_ff @(posedge clk_i) begin
    init_q   <= 1'b0;
    hold_q   <= rst_ni && frm_valid_i && !frm_ready;
    status_q <= frm_status_i;
    seq_q    <= frm_seq_i;
    cmd_q    <= frm_cmd_i;
    len_q    <= frm_len_i;
    if (!rst_ni) begin
      last_valid_q <= 1'b0;
      ok_reply_q   <= 1'b0;
    end else begin
      if (hdr_valid && hdr_ready_i) begin
        ok_reply_q <= (hdr_status == StOk);
      end
      if (frm_valid_i && frm_ready) begin
        ok_reply_q <= 1'b0;
        if (ok_reply_q && frm_status_i == StOk && kept) begin
          last_valid_q <= 1'b1;
          last_seq_q   <= frm_seq_i;
        end
      end
    end
  end

  always_comb begin
    assume (rst_ni == !init_q);
    assume (32'(frm_len_i) <= MaxPayload);
    if (hold_q) begin
      assume (frm_valid_i && frm_status_i == status_q && frm_seq_i == seq_q
              && frm_cmd_i == cmd_q && frm_len_i == len_q);
    end
  end

  always_comb begin
    if (!init_q && dup_frame) begin
      assert (!mw_en && !job_req_valid && !conv_desc_valid);
      if (hdr_valid) begin
        assert (hdr_status == StDup);
      end
    end
  end

  // Reachability: a repeat is answered (BMC depth must reach it).
  always_comb begin
    if (!init_q) begin
      cover (dup_frame && hdr_valid);
    end
  end

endmodule
