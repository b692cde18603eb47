// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Formal harness for hlsk_skid_buffer (SymbiYosys, skid_buffer.sby).
//
// Proves, against the module's header contract, for every reachable state:
// - stream rules: the producer is assumed to hold in_valid_i/in_data_i until
//   the beat moves; the buffer is asserted to do the same on its output;
// - no combinational path from out_ready_i to in_ready_o, out_valid_o or
//   out_data_o: a second copy whose ready may differ has equal outputs
//   until the cycle after the readies first differ;
// - order, no loss, no duplication: the beat with an arbitrary symbolic
//   index tag_i in the input sequence leaves as the tag_i-th output beat
//   with its data;
// - capacity two beats (in_ready_o low exactly when two are held), latency
//   one cycle (a beat accepted into an empty buffer is offered next cycle),
//   out_valid_o exactly when a beat is held.
// "Induction helpers" relate internal registers to the beat counters
// (hierarchical references); they are asserted, so proved too.
//
// Reset: rst_ni is low in the first cycle and high afterwards.

module skid_buffer_formal #(
  parameter int unsigned Width = 4,
  localparam int unsigned CntW = 3
) (
  input logic             clk_i,
  input logic             rst_ni,
  input logic             in_valid_i,
  input logic [Width-1:0] in_data_i,
  input logic             out_ready_i,
  input logic             out_ready_b_i,  // second copy's ready
  input logic [CntW-1:0]  tag_i           // constant: index of the tracked beat
);

  ////////////////////////
  // Devices under test //
  ////////////////////////

  logic             in_ready, out_valid, in_ready_b, out_valid_b;
  logic [Width-1:0] out_data, out_data_b;

  hlsk_skid_buffer #(.Width(Width)) u_a (
    .clk_i, .rst_ni,
    .in_valid_i, .in_ready_o(in_ready), .in_data_i,
    .out_valid_o(out_valid), .out_ready_i, .out_data_o(out_data)
  );

  hlsk_skid_buffer #(.Width(Width)) u_b (
    .clk_i, .rst_ni,
    .in_valid_i, .in_ready_o(in_ready_b), .in_data_i,
    .out_valid_o(out_valid_b), .out_ready_i(out_ready_b_i), .out_data_o(out_data_b)
  );

  ///////////////////////
  // Harness registers //
  ///////////////////////

  logic             init_q = 1'b1;  // first cycle (power-up)
  logic             in_hold_q, out_hold_q, diverged_q, entered_empty_q;
  logic [Width-1:0] in_data_q, out_data_q, tracked_q;
  logic [CntW-1:0]  wr_cnt_q, rd_cnt_q, tag_q;
  logic             wr_fire, rd_fire;

  assign wr_fire = in_valid_i & in_ready;
  assign rd_fire = out_valid & out_ready_i;

  always_ff @(posedge clk_i) begin
    init_q          <= 1'b0;
    tag_q           <= tag_i;
    in_hold_q       <= rst_ni & in_valid_i & ~in_ready;
    in_data_q       <= in_data_i;
    out_hold_q      <= rst_ni & out_valid & ~out_ready_i;
    out_data_q      <= out_data;
    diverged_q      <= init_q ? 1'b0 : (diverged_q | (out_ready_b_i != out_ready_i));
    entered_empty_q <= rst_ni & wr_fire & (wr_cnt_q == rd_cnt_q);
    if (!rst_ni) begin
      wr_cnt_q <= '0;
      rd_cnt_q <= '0;
    end else begin
      wr_cnt_q <= wr_cnt_q + CntW'(wr_fire);
      rd_cnt_q <= rd_cnt_q + CntW'(rd_fire);
    end
    if (wr_fire && wr_cnt_q == tag_i) begin
      tracked_q <= in_data_i;
    end
  end

  /////////////////
  // Assumptions //
  /////////////////

  always_comb begin
    assume (rst_ni == !init_q);
    if (!init_q) begin
      assume (tag_i == tag_q);
      if (in_hold_q) begin
        assume (in_valid_i && in_data_i == in_data_q);
      end
    end
  end

  ////////////////
  // Properties //
  ////////////////

  logic [CntW-1:0] in_flight, tag_pos;
  assign in_flight = wr_cnt_q - rd_cnt_q;
  assign tag_pos   = tag_i - rd_cnt_q;

  always_comb begin
    if (!init_q) begin
      if (out_hold_q) begin
        assert (out_valid && out_data == out_data_q);
      end
      assert (in_flight <= 3'd2);
      assert (in_ready == (in_flight != 3'd2));
      assert (out_valid == (in_flight != '0));
      if (entered_empty_q) begin
        assert (out_valid && out_data == in_data_q);  // latency one cycle
      end
      if (rd_fire && rd_cnt_q == tag_i) begin
        assert (out_data == tracked_q);
      end
      if (!diverged_q) begin
        assert (in_ready_b == in_ready && out_valid_b == out_valid);
        if (out_valid) begin
          assert (out_data_b == out_data);
        end
      end
    end
  end

`ifndef NO_HELPERS
  // Induction helpers (internal state, proved like the rest).
  always_comb begin
    if (!init_q) begin
      assert (u_a.out_valid_q == (in_flight != '0));
      assert (u_a.skid_valid_q == (in_flight == 3'd2));
      if (tag_pos == '0 && in_flight != '0) begin
        assert (u_a.out_data_q == tracked_q);
      end
      if (tag_pos == 3'd1 && in_flight == 3'd2) begin
        assert (u_a.skid_data_q == tracked_q);
      end
      if (!diverged_q) begin
        assert (u_b.out_valid_q == u_a.out_valid_q && u_b.skid_valid_q == u_a.skid_valid_q);
        if (u_a.skid_valid_q) begin
          assert (u_b.skid_data_q == u_a.skid_data_q);
        end
      end
    end
  end
`endif

  // Reachability: both registers full; a beat in and out in one cycle.
  always_comb begin
    if (!init_q) begin
      cover (!in_ready && out_ready_i);
      cover (wr_fire && rd_fire);
    end
  end

endmodule
