// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// One table copy of the table-stationary TLMM engine: a small simple
// dual-port RAM with a synchronous write port and an asynchronous read
// port, written so that Yosys maps it onto LUT-RAM (ECP5 DPR16X4, Gowin
// SSRAM; flip-flops where the fabric has none).
//
// A write takes effect at the rising edge; a read of the address being
// written returns the old contents until then. Contents are not reset.

module tlmm_table_ram #(
  parameter int unsigned Width = 10,
  parameter int unsigned Depth = 32,
  // Derived; do not override.
  localparam int unsigned AddrW = (Depth > 1) ? $clog2(Depth) : 1
) (
  input  logic             clk_i,

  // Write port
  input  logic             we_i,
  input  logic [AddrW-1:0] waddr_i,
  input  logic [Width-1:0] wdata_i,

  // Read port (combinational)
  input  logic [AddrW-1:0] raddr_i,
  output logic [Width-1:0] rdata_o
);

  logic [Width-1:0] mem_q [Depth];

  always_ff @(posedge clk_i) begin
    if (we_i) begin
      mem_q[waddr_i] <= wdata_i;
    end
  end

  assign rdata_o = mem_q[raddr_i];

endmodule
