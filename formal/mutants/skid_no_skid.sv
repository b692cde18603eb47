// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Valid/ready register slice (skid buffer).
//
// Cuts every combinational path between the upstream and downstream sides of a
// valid/ready stream while keeping full throughput: one beat per cycle when the
// consumer is always ready. All outputs (in_ready_o, out_valid_o, out_data_o)
// come straight from registers.
//
// Contract:
// - a beat moves on a rising edge where valid & ready;
// - out_data_o is stable while out_valid_o is high and out_ready_i is low;
// - beats leave in the order they arrived, none is lost or duplicated;
// - latency is one cycle; capacity is two beats (main + skid register).

module hlsk_skid_buffer #(
  parameter int unsigned Width = 32
) (
  input  logic             clk_i,
  input  logic             rst_ni,

  // Upstream (producer) side
  input  logic             in_valid_i,
  output logic             in_ready_o,
  input  logic [Width-1:0] in_data_i,

  // Downstream (consumer) side
  output logic             out_valid_o,
  input  logic             out_ready_i,
  output logic [Width-1:0] out_data_o
);

  ////////////////
  // Registers  //
  ////////////////

  logic             out_valid_q, out_valid_d;
  logic [Width-1:0] out_data_q,  out_data_d;
  logic             skid_valid_q, skid_valid_d;
  logic [Width-1:0] skid_data_q,  skid_data_d;

  /////////////
  // Control //
  /////////////

  logic in_fire, out_fire;

  // The skid register is the only place a beat can wait while the output is
  // blocked, so upstream may send whenever it is empty.
  assign in_ready_o = ~skid_valid_q;
  assign in_fire    = in_valid_i & in_ready_o;
  assign out_fire   = out_valid_q & out_ready_i;

  always_comb begin
    out_valid_d  = out_valid_q;
    out_data_d   = out_data_q;
    skid_valid_d = skid_valid_q;
    skid_data_d  = skid_data_q;

    if (out_fire || !out_valid_q) begin
      // Output register is free this cycle: refill it, from the skid
      // register first so that order is kept.
      if (skid_valid_q) begin
        out_valid_d  = 1'b1;
        out_data_d   = skid_data_q;
        skid_valid_d = 1'b0;
      end else begin
        out_valid_d = in_fire;
        if (in_fire) begin
          out_data_d = in_data_i;
        end
      end
    end else if (in_fire) begin
      // Output is blocked and holds a beat: park the new one.
      skid_valid_d = 1'b0;  // MUTANT: skid register never filled
      skid_data_d  = in_data_i;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      out_valid_q  <= 1'b0;
      skid_valid_q <= 1'b0;
    end else begin
      out_valid_q  <= out_valid_d;
      skid_valid_q <= skid_valid_d;
    end
  end

  // Data registers need no reset: they are only observed when valid.
  always_ff @(posedge clk_i) begin
    out_data_q  <= out_data_d;
    skid_data_q <= skid_data_d;
  end

  assign out_valid_o = out_valid_q;
  assign out_data_o  = out_data_q;

  ////////////////
  // Assertions //
  ////////////////

`ifndef SYNTHESIS
  // The skid register is only ever occupied while the output register is.
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (!skid_valid_q || out_valid_q)
        else $error("hlsk_skid_buffer: skid holds a beat while output is empty");
    end
  end
`endif

endmodule
