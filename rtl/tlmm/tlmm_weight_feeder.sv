// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Weight feeder: streams weight beats out of an on-chip RAM, so a TLMM
// engine never knows where its weights live.
//
// The host loads beats through the write port (one beat per cycle, any
// time no transfer reads them). A start beat (base, count) on a valid/ready
// handshake, accepted while idle and registered (so the start's source
// and this control are in different cycles), streams beats base, base+1, ...
// (addresses wrap at Depth; a base at or above Depth is taken modulo Depth)
// as a valid/ready stream, last on beat count-1. The RAM read has one cycle
// of latency; a 4-entry FIFO behind it absorbs back-pressure, and a read is
// only issued when the FIFO has room for it and the read in flight, so the
// stream runs at one beat per cycle when the consumer is always ready
// (start handshake in cycle n, first beat moves in cycle n+4).
//
// busy_o is high from the start handshake until the last beat has moved;
// done_o rises when the last beat moves (the cycle after the start for
// count = 0) and stays high until the next start. No combinational path
// from w_ready_i to any output.

module tlmm_weight_feeder #(
  parameter int unsigned Width = 32,
  parameter int unsigned Depth = 256,
  // Derived; do not override.
  localparam int unsigned AddrW = (Depth > 1) ? $clog2(Depth) : 1,
  localparam int unsigned CntW  = $clog2(Depth + 1)
) (
  input  logic             clk_i,
  input  logic             rst_ni,

  // Host load port
  input  logic             wr_en_i,
  input  logic [AddrW-1:0] wr_addr_i,
  input  logic [Width-1:0] wr_data_i,

  // Start handshake: stream count beats from address base
  input  logic             start_valid_i,
  output logic             start_ready_o,
  input  logic [AddrW-1:0] start_base_i,
  input  logic [CntW-1:0]  start_count_i,

  // Weight stream
  output logic             w_valid_o,
  input  logic             w_ready_i,
  output logic [Width-1:0] w_data_o,
  output logic             w_last_o,

  // Status
  output logic             busy_o,
  output logic             done_o
);

  localparam int unsigned     FifoD   = 4;
  localparam int unsigned     LevelW  = $clog2(FifoD + 1);
  localparam logic [AddrW:0]  DepthW  = (AddrW + 1)'(Depth);
  localparam logic [AddrW-1:0] LastAddr = AddrW'(Depth - 1);

  ///////////////
  // Registers //
  ///////////////

  logic             active_q, active_d;  // reads left to issue
  logic [CntW-1:0]  left_q, left_d;      // reads left
  logic [AddrW-1:0] addr_q, addr_d;      // next read address
  logic             rd_v_q;              // a read is in flight
  logic             rd_last_q;           // ... and it is the last beat
  logic             done_q, done_d;
  // The accepted start, acted on in the next cycle.
  logic             st_v_q;
  logic [AddrW-1:0] st_base_q;
  logic [CntW-1:0]  st_count_q;

  /////////////
  // Control //
  /////////////

  logic              start_fire, issue, out_fire;
  logic              fifo_in_ready, fifo_full, fifo_empty;
  logic [LevelW-1:0] fifo_level;
  logic [AddrW-1:0]  base;

  // Reduce a base beyond Depth (possible when Depth is not a power of two).
  assign base = ({1'b0, start_base_i} >= DepthW) ? AddrW'({1'b0, start_base_i} - DepthW)
                                                 : start_base_i;

  assign busy_o        = st_v_q || active_q || rd_v_q || !fifo_empty;
  assign start_ready_o = !busy_o;
  assign start_fire    = start_valid_i && start_ready_o;
  assign issue         = active_q && (32'(fifo_level) + 32'(rd_v_q) < FifoD);
  assign out_fire      = w_valid_o && w_ready_i;

  always_comb begin
    active_d = active_q;
    left_d   = left_q;
    addr_d   = addr_q;
    done_d   = done_q;
    if (st_v_q) begin
      active_d = (st_count_q != '0);
      left_d   = st_count_q;
      addr_d   = st_base_q;
      done_d   = (st_count_q == '0);
    end else if (start_fire) begin
      done_d = 1'b0;
    end else if (issue) begin
      left_d   = left_q - 1'b1;
      addr_d   = (addr_q == LastAddr) ? '0 : addr_q + 1'b1;
      active_d = (left_q != CntW'(1));
    end
    if (out_fire && w_last_o) begin
      done_d = 1'b1;
    end
  end

  ///////////////
  // Datapath  //
  ///////////////

  logic [Width-1:0] rdata;

  hlsk_ram_1r1w #(
    .Width(Width),
    .Depth(Depth)
  ) u_ram (
    .clk_i,
    .we_i    (wr_en_i),
    .waddr_i (wr_addr_i),
    .wdata_i (wr_data_i),
    .re_i    (issue),
    .raddr_i (addr_q),
    .rdata_o (rdata)
  );

  hlsk_fifo_sync #(
    .Width(Width + 1),
    .Depth(FifoD)
  ) u_fifo (
    .clk_i,
    .rst_ni,
    .in_valid_i  (rd_v_q),
    .in_ready_o  (fifo_in_ready),
    .in_data_i   ({rd_last_q, rdata}),
    .out_valid_o (w_valid_o),
    .out_ready_i (w_ready_i),
    .out_data_o  ({w_last_o, w_data_o}),
    .full_o      (fifo_full),
    .empty_o     (fifo_empty),
    .level_o     (fifo_level)
  );

  ///////////////
  // Registers //
  ///////////////

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      active_q  <= 1'b0;
      left_q    <= '0;
      addr_q    <= '0;
      rd_v_q    <= 1'b0;
      rd_last_q <= 1'b0;
      done_q    <= 1'b0;
      st_v_q    <= 1'b0;
    end else begin
      st_v_q    <= start_fire;
      active_q  <= active_d;
      left_q    <= left_d;
      addr_q    <= addr_d;
      rd_v_q    <= issue;
      rd_last_q <= issue && (left_q == CntW'(1));
      done_q    <= done_d;
    end
  end

  assign done_o = done_q;

  // The start's base and count need no reset: read only with st_v_q.
  always_ff @(posedge clk_i) begin
    if (start_fire) begin
      st_base_q  <= base;
      st_count_q <= start_count_i;
    end
  end

  ////////////////
  // Assertions //
  ////////////////

`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      // A read is only issued when the FIFO has room for its data.
      assert (!rd_v_q || (fifo_in_ready && !fifo_full))
        else $error("tlmm_weight_feeder: FIFO overflow");
    end
  end
`endif

endmodule
