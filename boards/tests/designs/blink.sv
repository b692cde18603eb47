// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// A small design with the SoC top's ports, for the flow's integration test:
// a counter on the LEDs, reset by the button, UART looped back.

module blink #(
  parameter int unsigned ClkHz        = 12_000_000,
  parameter int unsigned NumLeds      = 2,
  parameter bit          LedActiveLow = 1'b1,
  parameter bit          RstActiveLow = 1'b1
) (
  input  logic               clk_i,
  input  logic               rst_btn_i,
  output logic [NumLeds-1:0] led_o,
  output logic               uart_tx_o,
  input  logic               uart_rx_i
);
  localparam int unsigned W = $clog2(ClkHz) + NumLeds;

  logic [W-1:0] cnt_q;

  always_ff @(posedge clk_i) begin
    if (rst_btn_i ^ RstActiveLow) begin
      cnt_q <= '0;
    end else begin
      cnt_q <= cnt_q + 1'b1;
    end
  end

  assign led_o     = cnt_q[W-1 -: NumLeds] ^ {NumLeds{LedActiveLow}};
  assign uart_tx_o = uart_rx_i;
endmodule
