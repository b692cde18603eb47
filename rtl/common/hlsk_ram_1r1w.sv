// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Simple dual-port RAM: one write port, one read port, one clock, registered
// read data (one cycle latency), written so that Yosys maps it onto block RAM
// (iCE40 EBR, ECP5 DP16KD, Gowin BSRAM).
//
// Read-during-write to the same address returns the old contents
// (read-first), or with WriteFirst = 1 the data being written (a bypass
// register beside the RAM: the read port then behaves as an asynchronous
// read of a registered address, which is what a pipeline that presents its
// next address needs). rdata_o holds its value on cycles without a read.
// Contents are not reset; an address read before it is written returns
// whatever the RAM powered up with.

module hlsk_ram_1r1w #(
  parameter int unsigned Width = 32,
  parameter int unsigned Depth = 256,
  parameter int unsigned WriteFirst = 0,  // 1: a colliding read returns the new data
  // Derived; do not override.
  localparam int unsigned AddrW = (Depth > 1) ? $clog2(Depth) : 1
) (
  input  logic             clk_i,

  // Write port
  input  logic             we_i,
  input  logic [AddrW-1:0] waddr_i,
  input  logic [Width-1:0] wdata_i,

  // Read port
  input  logic             re_i,
  input  logic [AddrW-1:0] raddr_i,
  output logic [Width-1:0] rdata_o
);

  logic [Width-1:0] mem_q [Depth];
  logic [Width-1:0] rdata_q;

  // Addresses at or beyond Depth (possible when Depth is not a power of two)
  // are ignored on write and read back as the last registered value.
  logic waddr_ok, raddr_ok;
  assign waddr_ok = ({1'b0, waddr_i} < (AddrW + 1)'(Depth));
  assign raddr_ok = ({1'b0, raddr_i} < (AddrW + 1)'(Depth));

  always_ff @(posedge clk_i) begin
    if (we_i && waddr_ok) begin
      mem_q[waddr_i] <= wdata_i;
    end
    if (re_i && raddr_ok) begin
      rdata_q <= mem_q[raddr_i];
    end
  end

  if (WriteFirst != 0) begin : g_bypass
    logic             byp_q;  // the registered read collided with the write
    logic [Width-1:0] byp_data_q;
    always_ff @(posedge clk_i) begin
      if (re_i && raddr_ok) begin
        byp_q      <= we_i && (waddr_i == raddr_i);
        byp_data_q <= wdata_i;
      end
    end
    assign rdata_o = byp_q ? byp_data_q : rdata_q;
  end else begin : g_no_bypass
    assign rdata_o = rdata_q;
  end

endmodule
