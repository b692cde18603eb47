// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Reset of a design clocked by a PLL: the design's reset button input is
// held asserted while the button is pressed or the PLL has not locked, and
// released two edges of the PLL clock after lock (a two-flop synchronizer,
// cleared asynchronously when lock drops). The output has the button's
// polarity, so it drives the design's `rst_btn_i` as the button did; the
// design keeps its own synchronous release after that (hlsk_soc_top holds
// reset for 15 more cycles).
//
// The board flow (hlsk-boards) instantiates this in the top it generates
// around a design when the board file asks for a PLL clock (`pll_mhz`).

module hlsk_pll_reset #(
  // 1: the button reads 0 when pressed (and so does rst_btn_o when held)
  parameter bit RstActiveLow = 1'b1
) (
  // PLL output clock and lock (lock asynchronous to everything)
  input  logic clk_i,
  input  logic locked_i,

  // Raw reset button in, reset to the design out, RstActiveLow polarity
  input  logic rst_btn_i,
  output logic rst_btn_o
);

  ///////////////
  // Registers //
  ///////////////

  logic [1:0] lock_q;

  always_ff @(posedge clk_i or negedge locked_i) begin
    if (!locked_i) begin
      lock_q <= '0;
    end else begin
      lock_q <= {lock_q[0], 1'b1};
    end
  end

  /////////////
  // Control //
  /////////////

  logic hold;

  assign hold      = (rst_btn_i ^ RstActiveLow) | ~lock_q[1];
  assign rst_btn_o = hold ^ RstActiveLow;

endmodule
