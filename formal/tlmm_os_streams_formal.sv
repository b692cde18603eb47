// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Formal harness for the stream rules on the ports of tlmm_os_engine
// (SymbiYosys, tlmm_os_streams.sby; bounded).
//
// The command, activation and weight producers are assumed to hold valid
// and data until their beat moves (any data, any M and K, any timing). The
// result stream is asserted to do the same: res_valid_o, res_data_o and
// res_last_o hold until res_ready_i. A second copy of the engine sees the
// same inputs except its own res_ready_i; up to the cycle after the two
// readies first differ, every handshake output (cmd/act/w ready, res
// valid, and res data/last while valid) of the two copies is equal: no
// combinational path from res_ready_i. Parameters are small (G 1, T 1,
// P 1, KMax 8, AccW 16) so that whole jobs fit in the bound.

module tlmm_os_streams_formal
  import tlmm_pkg::*;
#(
  parameter int unsigned G    = 1,
  parameter int unsigned T    = 1,
  parameter int unsigned P    = 1,
  parameter int unsigned AccW = 16,
  parameter int unsigned KMax = 8,
  localparam int unsigned CW     = code_width(G),
  localparam int unsigned WBits  = P * T * CW,
  localparam int unsigned WBeatW = ((WBits + 7) / 8) * 8
) (
  input logic                 clk_i,
  input logic                 rst_ni,
  input logic                 cmd_valid_i,
  input logic [CmdMW-1:0]     cmd_m_i,
  input logic [CmdKW-1:0]     cmd_k_i,
  input logic [CmdFlagsW-1:0] cmd_flags_i,
  input logic                 act_valid_i,
  input logic [31:0]          act_data_i,
  input logic                 act_last_i,
  input logic                 w_valid_i,
  input logic [WBeatW-1:0]    w_data_i,
  input logic                 w_last_i,
  input logic                 res_ready_i,
  input logic                 res_ready_b_i  // second copy's ready
);

  typedef struct packed {
    logic        cmd_ready, act_ready, w_ready, res_valid, res_last;
    logic [31:0] res_data;
  } hs_t;

  hs_t a, b;
  logic busy_a, busy_b;
  logic [StatusW-1:0] status_a, status_b;
  logic [31:0] cnt_a [4];
  logic [31:0] cnt_b [4];

  tlmm_os_engine #(.G(G), .T(T), .P(P), .AccW(AccW), .KMax(KMax)) u_a (
    .clk_i, .rst_ni,
    .cmd_valid_i, .cmd_ready_o(a.cmd_ready), .cmd_m_i, .cmd_k_i, .cmd_flags_i,
    .act_valid_i, .act_ready_o(a.act_ready), .act_data_i, .act_last_i,
    .w_valid_i, .w_ready_o(a.w_ready), .w_data_i, .w_last_i,
    .res_valid_o(a.res_valid), .res_ready_i, .res_data_o(a.res_data), .res_last_o(a.res_last),
    .busy_o(busy_a), .status_o(status_a), .cnt_busy_o(cnt_a[0]), .cnt_w_starved_o(cnt_a[1]),
    .cnt_out_blocked_o(cnt_a[2]), .cnt_w_beats_o(cnt_a[3])
  );

  tlmm_os_engine #(.G(G), .T(T), .P(P), .AccW(AccW), .KMax(KMax)) u_b (
    .clk_i, .rst_ni,
    .cmd_valid_i, .cmd_ready_o(b.cmd_ready), .cmd_m_i, .cmd_k_i, .cmd_flags_i,
    .act_valid_i, .act_ready_o(b.act_ready), .act_data_i, .act_last_i,
    .w_valid_i, .w_ready_o(b.w_ready), .w_data_i, .w_last_i,
    .res_valid_o(b.res_valid), .res_ready_i(res_ready_b_i), .res_data_o(b.res_data),
    .res_last_o(b.res_last),
    .busy_o(busy_b), .status_o(status_b), .cnt_busy_o(cnt_b[0]), .cnt_w_starved_o(cnt_b[1]),
    .cnt_out_blocked_o(cnt_b[2]), .cnt_w_beats_o(cnt_b[3])
  );

  logic init_q = 1'b1;
  logic cmd_hold_q, act_hold_q, w_hold_q, res_hold_q, diverged_q;
  logic [CmdMW+CmdKW+CmdFlagsW-1:0] cmd_q;
  logic [32:0] act_q, res_q;
  logic [WBeatW:0] w_q;

  always_ff @(posedge clk_i) begin
    init_q     <= 1'b0;
    cmd_hold_q <= rst_ni && cmd_valid_i && !a.cmd_ready;
    act_hold_q <= rst_ni && act_valid_i && !a.act_ready;
    w_hold_q   <= rst_ni && w_valid_i && !a.w_ready;
    res_hold_q <= rst_ni && a.res_valid && !res_ready_i;
    cmd_q      <= {cmd_m_i, cmd_k_i, cmd_flags_i};
    act_q      <= {act_last_i, act_data_i};
    w_q        <= {w_last_i, w_data_i};
    res_q      <= {a.res_last, a.res_data};
    diverged_q <= init_q ? 1'b0 : (diverged_q || res_ready_b_i != res_ready_i);
  end

  always_comb begin
    assume (rst_ni == !init_q);
    if (cmd_hold_q) assume (cmd_valid_i && {cmd_m_i, cmd_k_i, cmd_flags_i} == cmd_q);
    if (act_hold_q) assume (act_valid_i && {act_last_i, act_data_i} == act_q);
    if (w_hold_q)   assume (w_valid_i && {w_last_i, w_data_i} == w_q);
  end

  always_comb begin
    if (!init_q) begin
      if (res_hold_q) begin
        assert (a.res_valid && {a.res_last, a.res_data} == res_q);
      end
      if (!diverged_q) begin
        assert (b.cmd_ready == a.cmd_ready && b.act_ready == a.act_ready
                && b.w_ready == a.w_ready && b.res_valid == a.res_valid);
        if (a.res_valid) begin
          assert (b.res_data == a.res_data && b.res_last == a.res_last);
        end
      end
    end
  end

  // Reachability: a result is held under back-pressure, and the last result.
  always_comb begin
    if (!init_q) begin
      cover (res_hold_q && a.res_last);
    end
  end

endmodule
