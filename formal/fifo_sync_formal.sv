// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Formal harness for hlsk_fifo_sync (SymbiYosys, fifo_sync.sby).
//
// Proves, against the module's header contract, for every reachable state:
// - stream rules: the producer is assumed to hold in_valid_i/in_data_i until
//   the beat moves; the FIFO is asserted to do the same on its output;
// - no combinational path from out_ready_i to any handshake or status
//   output: a second copy sees the same inputs except its own ready, which
//   may differ; until the cycle after the readies first differ, every
//   handshake/status output of the two copies is equal (and out_data_o
//   whenever valid);
// - order, no loss, no duplication: the beat with an arbitrary symbolic
//   index tag_i in the write sequence leaves as the tag_i-th read, with the
//   data it was written with;
// - full/empty/level: level_o equals writes minus reads, never above Depth;
//   full_o, empty_o, in_ready_o and out_valid_o follow from it.
// The block marked "induction helpers" states facts about internal registers
// (hierarchical references) that make the proof inductive; they are
// asserted too, so they are proved, not assumed.
//
// Reset: rst_ni is low in the first cycle and high afterwards.

module fifo_sync_formal #(
  parameter int unsigned Width = 4,
  parameter int unsigned Depth = 3,
  // Beat counters wrap; they need room for more than Depth beats in flight.
  localparam int unsigned CntW   = $clog2(Depth + 1) + 1,
  localparam int unsigned LevelW = $clog2(Depth + 1)
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

  logic              in_ready, out_valid, full, empty;
  logic [Width-1:0]  out_data;
  logic [LevelW-1:0] level;

  hlsk_fifo_sync #(.Width(Width), .Depth(Depth)) u_a (
    .clk_i, .rst_ni,
    .in_valid_i, .in_ready_o(in_ready), .in_data_i,
    .out_valid_o(out_valid), .out_ready_i, .out_data_o(out_data),
    .full_o(full), .empty_o(empty), .level_o(level)
  );

  logic              in_ready_b, out_valid_b, full_b, empty_b;
  logic [Width-1:0]  out_data_b;
  logic [LevelW-1:0] level_b;

  hlsk_fifo_sync #(.Width(Width), .Depth(Depth)) u_b (
    .clk_i, .rst_ni,
    .in_valid_i, .in_ready_o(in_ready_b), .in_data_i,
    .out_valid_o(out_valid_b), .out_ready_i(out_ready_b_i), .out_data_o(out_data_b),
    .full_o(full_b), .empty_o(empty_b), .level_o(level_b)
  );

  ///////////////////////
  // Harness registers //
  ///////////////////////

  logic             init_q = 1'b1;  // first cycle (power-up)
  logic             in_hold_q, out_hold_q, diverged_q;
  logic [Width-1:0] in_data_q, out_data_q, tracked_q;
  logic [CntW-1:0]  wr_cnt_q, rd_cnt_q, tag_q;
  logic             wr_fire, rd_fire;

  assign wr_fire = in_valid_i & in_ready;
  assign rd_fire = out_valid & out_ready_i;

  always_ff @(posedge clk_i) begin
    init_q     <= 1'b0;
    tag_q      <= tag_i;
    in_hold_q  <= rst_ni & in_valid_i & ~in_ready;
    in_data_q  <= in_data_i;
    out_hold_q <= rst_ni & out_valid & ~out_ready_i;
    out_data_q <= out_data;
    diverged_q <= init_q ? 1'b0 : (diverged_q | (out_ready_b_i != out_ready_i));
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
      // The producer holds valid and data until the beat moves.
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
  assign tag_pos   = tag_i - rd_cnt_q;  // reads still due before the tracked beat

  always_comb begin
    if (!init_q) begin
      // Output stream: held until taken.
      if (out_hold_q) begin
        assert (out_valid && out_data == out_data_q);
      end
      // Level, flags and handshakes.
      assert (in_flight <= CntW'(Depth));
      assert (CntW'(level) == in_flight);
      assert (full == (in_flight == CntW'(Depth)));
      assert (empty == (in_flight == '0));
      assert (in_ready == !full);
      assert (out_valid == !empty);
      // Order, no loss, no duplication: the tag_i-th read returns the
      // tag_i-th write.
      if (rd_fire && rd_cnt_q == tag_i) begin
        assert (out_data == tracked_q);
      end
      // No combinational path from out_ready_i (two copies).
      if (!diverged_q) begin
        assert (in_ready_b == in_ready && out_valid_b == out_valid);
        assert (full_b == full && empty_b == empty && level_b == level);
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
      assert (32'(u_a.rptr_q) < Depth && 32'(u_a.wptr_q) < Depth);
      assert ((32'(u_a.rptr_q) + 32'(u_a.level_q)) % Depth == 32'(u_a.wptr_q));
      if (tag_pos < in_flight) begin
        assert (u_a.mem_q[(32'(u_a.rptr_q) + 32'(tag_pos)) % Depth] == tracked_q);
      end
      if (!diverged_q) begin
        assert (u_b.rptr_q == u_a.rptr_q && u_b.wptr_q == u_a.wptr_q);
        assert (u_b.level_q == u_a.level_q);
        for (int unsigned i = 0; i < Depth; i++) begin
          if ((i + Depth - 32'(u_a.rptr_q)) % Depth < 32'(u_a.level_q)) begin
            assert (u_b.mem_q[i] == u_a.mem_q[i]);
          end
        end
      end
    end
  end
`endif

  // Reachability: the FIFO fills, and a write and a read move together.
  always_comb begin
    if (!init_q) begin
      cover (full && out_ready_i);
      cover (wr_fire && rd_fire && in_flight == CntW'(Depth - 1));
    end
  end

endmodule
