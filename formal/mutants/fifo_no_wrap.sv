// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Synchronous FIFO with valid/ready ports, first-word fall-through.
//
// Depth entries of Width bits in a register array. The head entry is
// presented on the output as soon as it is written (one cycle after the write
// edge), so out_valid_o == !empty_o. Writes are accepted while the FIFO is not
// full; a write and a read in the same cycle are both accepted whenever each
// is allowed on its own. There is no combinational path from any input to
// any output: in_ready_o, out_valid_o, full_o, empty_o and level_o depend on
// registers only, out_data_o on registers only.

module hlsk_fifo_sync #(
  parameter int unsigned Width = 32,
  parameter int unsigned Depth = 4,
  // Derived; do not override.
  localparam int unsigned PtrW   = (Depth > 1) ? $clog2(Depth) : 1,
  localparam int unsigned LevelW = $clog2(Depth + 1)
) (
  input  logic              clk_i,
  input  logic              rst_ni,

  // Write side
  input  logic              in_valid_i,
  output logic              in_ready_o,
  input  logic [Width-1:0]  in_data_i,

  // Read side
  output logic              out_valid_o,
  input  logic              out_ready_i,
  output logic [Width-1:0]  out_data_o,

  // Status
  output logic              full_o,
  output logic              empty_o,
  output logic [LevelW-1:0] level_o
);

  localparam logic [PtrW-1:0]   LastPtr  = PtrW'(Depth - 1);
  localparam logic [LevelW-1:0] FullLvl  = LevelW'(Depth);

  //////////////
  // Storage  //
  //////////////

  logic [Width-1:0]  mem_q [Depth];
  logic [PtrW-1:0]   wptr_q, wptr_d;
  logic [PtrW-1:0]   rptr_q, rptr_d;
  logic [LevelW-1:0] level_q, level_d;

  /////////////
  // Control //
  /////////////

  logic wr_fire, rd_fire;

  assign full_o      = (level_q == FullLvl);
  assign empty_o     = (level_q == '0);
  assign in_ready_o  = ~full_o;
  assign out_valid_o = ~empty_o;
  assign wr_fire     = in_valid_i & in_ready_o;
  assign rd_fire     = out_valid_o & out_ready_i;

  always_comb begin
    wptr_d  = wptr_q;
    rptr_d  = rptr_q;
    level_d = level_q;
    if (wr_fire) begin
      wptr_d = (wptr_q == LastPtr) ? '0 : wptr_q + 1'b1;
    end
    if (rd_fire) begin
      rptr_d = rptr_q + 1'b1;  // MUTANT: read pointer does not wrap at Depth
    end
    case ({wr_fire, rd_fire})
      2'b10:   level_d = level_q + 1'b1;
      2'b01:   level_d = level_q - 1'b1;
      default: level_d = level_q;
    endcase
  end

  ///////////////
  // Registers //
  ///////////////

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wptr_q  <= '0;
      rptr_q  <= '0;
      level_q <= '0;
    end else begin
      wptr_q  <= wptr_d;
      rptr_q  <= rptr_d;
      level_q <= level_d;
    end
  end

  // Storage needs no reset: an entry is only read after it was written.
  always_ff @(posedge clk_i) begin
    if (wr_fire) begin
      mem_q[wptr_q] <= in_data_i;
    end
  end

  //////////////
  // Datapath //
  //////////////

  assign out_data_o = mem_q[rptr_q];
  assign level_o    = level_q;

  ////////////////
  // Assertions //
  ////////////////

`ifndef SYNTHESIS
  // Only meaningful when LevelW can hold values above Depth.
  if (Depth + 1 < 2 ** LevelW) begin : g_level_check
    always_ff @(posedge clk_i) begin
      if (rst_ni) begin
        assert (level_q <= FullLvl)
          else $error("hlsk_fifo_sync: level %0d exceeds depth %0d", level_q, Depth);
      end
    end
  end
`endif

endmodule
