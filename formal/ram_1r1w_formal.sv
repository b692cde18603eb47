// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Formal harness for hlsk_ram_1r1w (SymbiYosys, ram_1r1w.sby).
//
// Proves, against the module's header contract, for every reachable state,
// at an arbitrary symbolic address addr_i (all addresses at once):
// - a read returns, one cycle later, the last value written there before the
//   read's edge; a write to the same address in the read's cycle is not seen
//   (read-first);
// - rdata_o holds its value on cycles without a read (re_i low, or an
//   address at or beyond Depth);
// - writes to addresses at or beyond Depth change nothing.
// The induction helper states that the tracked word of mem_q equals the
// last write (hierarchical reference; asserted, so proved too).

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

  logic [Width-1:0] rdata;

  hlsk_ram_1r1w #(.Width(Width), .Depth(Depth)) u_dut (
    .clk_i, .we_i, .waddr_i, .wdata_i, .re_i, .raddr_i, .rdata_o(rdata)
  );

  ///////////////////////
  // Harness registers //
  ///////////////////////

  logic             init_q = 1'b1;
  logic [AddrW-1:0] addr_q;
  logic             known_q = 1'b0;  // addr_i has been written
  logic [Width-1:0] shadow_q;        // last value written to addr_i
  logic             rd_tracked_q, rd_any_q, expect_known_q;
  logic [Width-1:0] expect_q, rdata_q;
  logic             rd_ok;

  assign rd_ok = re_i && 32'(raddr_i) < Depth;

  always_ff @(posedge clk_i) begin
    init_q         <= 1'b0;
    addr_q         <= addr_i;
    rd_any_q       <= rd_ok;
    rdata_q        <= rdata;
    rd_tracked_q   <= rd_ok && raddr_i == addr_i;
    expect_known_q <= known_q;
    expect_q       <= shadow_q;  // value before this edge's write: read-first
    if (we_i && waddr_i == addr_i && 32'(addr_i) < Depth) begin
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
      if (rd_tracked_q && expect_known_q) begin
        assert (rdata == expect_q);
      end
      if (!rd_any_q) begin
        assert (rdata == rdata_q);
      end
    end
  end

`ifndef NO_HELPERS
  // Induction helper (internal state, proved like the rest).
  always_comb begin
    if (known_q && 32'(addr_i) < Depth) begin
      assert (u_dut.mem_q[addr_i] == shadow_q);
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
