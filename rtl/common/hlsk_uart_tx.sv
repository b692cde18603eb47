// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// UART transmitter, 8N1, valid/ready byte stream in.
//
// A byte accepted on in_valid_i & in_ready_o goes out on tx_o as a start bit
// (low), eight data bits LSB first and a stop bit (high), each held for
// ClksPerBit cycles, starting on the cycle after the handshake. in_ready_o is
// high exactly while the line is idle, so bytes sent back to back are spaced
// by one idle cycle. tx_o comes straight from a register and is high in idle
// and during reset.

module hlsk_uart_tx #(
  // Clock cycles per bit (clock frequency / baud rate), at least 2.
  parameter int unsigned ClksPerBit = 104,
  // Derived; do not override.
  localparam int unsigned CntW = $clog2(ClksPerBit)
) (
  input  logic       clk_i,
  input  logic       rst_ni,

  // Bytes to send
  input  logic       in_valid_i,
  output logic       in_ready_o,
  input  logic [7:0] in_data_i,

  // Serial line
  output logic       tx_o,
  output logic       busy_o
);

  localparam int unsigned    FrameBits = 10;  // start, 8 data, stop
  localparam int unsigned    LeftW     = $clog2(FrameBits + 1);
  localparam logic [CntW-1:0] BitLast  = CntW'(ClksPerBit - 1);

  ///////////////
  // Registers //
  ///////////////

  // shift_q[0] is the bit on the line; ones shift in behind the frame.
  logic [FrameBits-1:0] shift_q, shift_d;
  logic [LeftW-1:0]     left_q, left_d;
  logic [CntW-1:0]      cnt_q, cnt_d;

  /////////////
  // Control //
  /////////////

  logic in_fire;

  assign in_ready_o = (left_q == '0);
  assign in_fire    = in_valid_i & in_ready_o;

  always_comb begin
    shift_d = shift_q;
    left_d  = left_q;
    cnt_d   = '0;

    if (in_fire) begin
      shift_d = {1'b1, in_data_i, 1'b0};
      left_d  = LeftW'(FrameBits);
    end else if (left_q != '0) begin
      cnt_d = cnt_q + 1'b1;
      if (cnt_q == BitLast) begin
        cnt_d   = '0;
        shift_d = {1'b1, shift_q[FrameBits-1:1]};
        left_d  = left_q - 1'b1;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      shift_q <= '1;
      left_q  <= '0;
      cnt_q   <= '0;
    end else begin
      shift_q <= shift_d;
      left_q  <= left_d;
      cnt_q   <= cnt_d;
    end
  end

  assign tx_o   = shift_q[0];
  assign busy_o = ~in_ready_o;

  ////////////////
  // Assertions //
  ////////////////

`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (left_q <= LeftW'(FrameBits))
        else $error("hlsk_uart_tx: more than a frame left to send");
      assert (left_q != '0 || shift_q[0])
        else $error("hlsk_uart_tx: line low while idle");
    end
  end
`endif

endmodule
