// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Formal harness for hlsk_ram_1r1w (SymbiYosys, ram_1r1w.sby).
//
// Two instances on the same ports, u_rf (WriteFirst = 0, the default) and
// u_wf (WriteFirst = 1). Proves, against the module's header contract, for
// every reachable state, at an arbitrary symbolic address addr_i (all
// addresses at once):
// - a read returns, one cycle later, the last value written there before the
//   read's edge; a write to the same address at the read's edge is not seen
//   by u_rf (read-first) and is what u_wf returns (write-first);
// - rdata_o holds its value on cycles without a read (re_i low, or an
//   address at or beyond Depth), in both modes;
// - writes to addresses at or beyond Depth change nothing.
// The induction helper states that the tracked word of each mem_q equals the
// last write (hierarchical references; asserted, so proved too).

module ram_1r1w_formal #(
  parameter int unsigned Width = 4,
  parameter int unsigned Depth = 5,
  localparam int unsigned AddrW = (Depth > 1) ? $clog2(Depth) : 1
) (
  input logic             clk_i,
  input logic             we_i,
  input logic [AddrW-1:0] waddr_i,
  input logic [Width-1:0] wdata_i,
  input logic             re_i,
  input logic [AddrW-1:0] raddr_i,
  input logic [AddrW-1:0] addr_i  // constant: the tracked address
);

  logic [Width-1:0] rdata_rf, rdata_wf;

  hlsk_ram_1r1w #(.Width(Width), .Depth(Depth), .WriteFirst(0)) u_rf (
    .clk_i, .we_i, .waddr_i, .wdata_i, .re_i, .raddr_i, .rdata_o(rdata_rf)
  );

  hlsk_ram_1r1w #(.Width(Width), .Depth(Depth), .WriteFirst(1)) u_wf (
    .clk_i, .we_i, .waddr_i, .wdata_i, .re_i, .raddr_i, .rdata_o(rdata_wf)
  );

  ///////////////////////
  // Harness registers //
  ///////////////////////

  logic             init_q = 1'b1;
  logic [AddrW-1:0] addr_q;
  logic             known_q = 1'b0;  // addr_i has been written
  logic [Width-1:0] shadow_q;        // last value written to addr_i
  logic             rd_tracked_q, rd_any_q, expect_known_q, wr_tracked_q;
  logic [Width-1:0] expect_q, wdata_q, rdata_rf_q, rdata_wf_q;
  logic             rd_ok, wr_tracked;

  assign rd_ok      = re_i && 32'(raddr_i) < Depth;
  assign wr_tracked = we_i && waddr_i == addr_i && 32'(addr_i) < Depth;

  always_ff @(posedge clk_i) begin
    init_q         <= 1'b0;
    addr_q         <= addr_i;
    rd_any_q       <= rd_ok;
    rdata_rf_q     <= rdata_rf;
    rdata_wf_q     <= rdata_wf;
    rd_tracked_q   <= rd_ok && raddr_i == addr_i;
    expect_known_q <= known_q;
    expect_q       <= shadow_q;    // value before this edge's write: read-first
    wr_tracked_q   <= wr_tracked;  // ... which write-first returns instead
    wdata_q        <= wdata_i;
    if (wr_tracked) begin
      known_q  <= 1'b1;
      shadow_q <= wdata_i;
    end
  end

  always_comb begin
    if (!init_q) begin
      assume (addr_i == addr_q);
    end
  end

  ////////////////
  // Properties //
  ////////////////

  always_comb begin
    if (!init_q) begin
      // Read-first.
      if (rd_tracked_q && expect_known_q) begin
        assert (rdata_rf == expect_q);
      end
      // Write-first: the colliding write's data, else as read-first.
      if (rd_tracked_q && wr_tracked_q) begin
        assert (rdata_wf == wdata_q);
      end
      if (rd_tracked_q && !wr_tracked_q && expect_known_q) begin
        assert (rdata_wf == expect_q);
      end
      // No read: both hold.
      if (!rd_any_q) begin
        assert (rdata_rf == rdata_rf_q);
        assert (rdata_wf == rdata_wf_q);
      end
    end
  end

`ifndef NO_HELPERS
  // Induction helpers (internal state, proved like the rest).
  always_comb begin
    if (known_q && 32'(addr_i) < Depth) begin
      assert (u_rf.mem_q[addr_i] == shadow_q);
      assert (u_wf.mem_q[addr_i] == shadow_q);
    end
  end
`endif

  // Reachability: a collision, read and written at the tracked address.
  always_comb begin
    if (!init_q) begin
      cover (we_i && re_i && waddr_i == addr_i && raddr_i == addr_i && known_q);
    end
  end

endmodule
