// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// UART receiver, 8N1, valid/ready byte stream out.
//
// rx_i is asynchronous: it passes a 2-flop synchronizer first. A start bit is
// a low level seen while idle; it is confirmed in its middle (a high level
// there is taken as a glitch), then each data bit (LSB first) and the stop
// bit are sampled ClksPerBit cycles apart, in their middles.
//
// Contract:
// - a byte whose stop bit is high is offered on out_valid_o/out_data_o, held
//   stable until out_ready_i takes it (a beat moves on valid & ready);
// - a byte whose stop bit is low is dropped and sets frame_err_o, which stays
//   set until reset; the receiver then waits for the line to go high;
// - a byte completed while the previous one is still waiting is dropped and
//   sets overrun_o, sticky until reset (the consumer has about 9 bit times);
// - every output comes from a register.

module hlsk_uart_rx #(
  // Clock cycles per bit (clock frequency / baud rate), at least 2.
  parameter int unsigned ClksPerBit = 104,
  // Derived; do not override.
  localparam int unsigned CntW = $clog2(ClksPerBit)
) (
  input  logic       clk_i,
  input  logic       rst_ni,

  // Serial line (asynchronous)
  input  logic       rx_i,

  // Received bytes
  output logic       out_valid_o,
  input  logic       out_ready_i,
  output logic [7:0] out_data_o,

  // Sticky status
  output logic       frame_err_o,
  output logic       overrun_o
);

  localparam logic [CntW-1:0] BitLast  = CntW'(ClksPerBit - 1);
  localparam logic [CntW-1:0] HalfLast = CntW'(ClksPerBit / 2 - 1);

  typedef enum logic [2:0] {
    RxIdle,
    RxStart,
    RxData,
    RxStop,
    RxWaitHigh
  } rx_state_e;

  //////////////////
  // Synchronizer //
  //////////////////

  logic [1:0] sync_q;
  logic       rx_s;

  assign rx_s = sync_q[1];

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      sync_q <= 2'b11;
    end else begin
      sync_q <= {sync_q[0], rx_i};
    end
  end

  ///////////////
  // Registers //
  ///////////////

  rx_state_e       state_q, state_d;
  logic [CntW-1:0] cnt_q, cnt_d;
  logic [2:0]      bit_q, bit_d;
  logic [7:0]      shift_q, shift_d;
  logic            out_valid_q, out_valid_d;
  logic [7:0]      out_data_q, out_data_d;
  logic            frame_err_q, frame_err_d;
  logic            overrun_q, overrun_d;

  /////////////
  // Control //
  /////////////

  always_comb begin
    state_d     = state_q;
    cnt_d       = cnt_q + 1'b1;
    bit_d       = bit_q;
    shift_d     = shift_q;
    out_valid_d = out_valid_q & ~out_ready_i;
    out_data_d  = out_data_q;
    frame_err_d = frame_err_q;
    overrun_d   = overrun_q;

    unique case (state_q)
      RxIdle: begin
        cnt_d = '0;
        if (!rx_s) begin
          state_d = RxStart;
        end
      end
      RxStart: begin
        if (cnt_q == HalfLast) begin
          cnt_d   = '0;
          bit_d   = '0;
          state_d = rx_s ? RxIdle : RxData;
        end
      end
      RxData: begin
        if (cnt_q == BitLast) begin
          cnt_d   = '0;
          shift_d = {rx_s, shift_q[7:1]};
          bit_d   = bit_q + 1'b1;
          if (bit_q == 3'd7) begin
            state_d = RxStop;
          end
        end
      end
      RxStop: begin
        if (cnt_q == BitLast) begin
          cnt_d = '0;
          if (!rx_s) begin
            frame_err_d = 1'b1;
            state_d     = RxWaitHigh;
          end else begin
            state_d = RxIdle;
            if (out_valid_d) begin
              overrun_d = 1'b1;
            end else begin
              out_valid_d = 1'b1;
              out_data_d  = shift_q;
            end
          end
        end
      end
      RxWaitHigh: begin
        cnt_d = '0;
        if (rx_s) begin
          state_d = RxIdle;
        end
      end
      default: state_d = RxIdle;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q     <= RxIdle;
      cnt_q       <= '0;
      bit_q       <= '0;
      out_valid_q <= 1'b0;
      frame_err_q <= 1'b0;
      overrun_q   <= 1'b0;
    end else begin
      state_q     <= state_d;
      cnt_q       <= cnt_d;
      bit_q       <= bit_d;
      out_valid_q <= out_valid_d;
      frame_err_q <= frame_err_d;
      overrun_q   <= overrun_d;
    end
  end

  // Data registers need no reset: they are only observed when valid.
  always_ff @(posedge clk_i) begin
    shift_q    <= shift_d;
    out_data_q <= out_data_d;
  end

  assign out_valid_o = out_valid_q;
  assign out_data_o  = out_data_q;
  assign frame_err_o = frame_err_q;
  assign overrun_o   = overrun_q;

  ////////////////
  // Assertions //
  ////////////////

`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (state_q != RxIdle || cnt_q == '0)
        else $error("hlsk_uart_rx: bit counter running while idle");
    end
  end
`endif

endmodule
