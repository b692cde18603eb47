// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Test bench of hlsk_soc_top's built-in self-test (run by
// boards/tests/soc_sim.rs with verilator --binary): one top per engine
// configuration of the board files plus corner cases (wrapping 8-bit
// accumulators, G = 5 with three slots and three lanes, a kernel-only build
// without the host link as the UP5K preset), all reset by the button, run,
// and checked: a line PASS or FAIL per top from its LEDs (passed lit,
// failed dark) and, with the host link, its UART tx idling high (without
// it, tx carries the parity of the engine's results).

module hlsk_soc_tb;
  localparam int unsigned NumLeds = 8;
  localparam int unsigned NCfg    = 6;
  // G, T, P, AccW, KMax, HostLink of configuration c (a function: Verilator
  // 5.006 does not take unpacked-array elements as parameter values).
  function automatic int unsigned cfg(int c, int field);
    int unsigned v [6];
    unique case (c)
      0: v = '{3, 1, 4, 24, 256, 1};   // icebreaker, tangnano9k
      1: v = '{3, 1, 8, 24, 512, 1};   // colorlight-i5, orangecrab
      2: v = '{3, 2, 8, 24, 1024, 1};  // ulx3s
      3: v = '{3, 1, 4, 8, 32, 1};     // results wrap modulo 2^8
      4: v = '{5, 3, 3, 16, 64, 1};
      default: v = '{3, 3, 4, 24, 256, 0};  // preset up5k-g3-t3-p4
    endcase
    return v[field];
  endfunction

  logic clk = 1'b0;
  logic btn = 1'b0;  // active low: pressed
  logic [NumLeds-1:0] led [NCfg];
  logic [NCfg-1:0]    tx;
  // Random bits for the kernel-only top, which shifts them in as its
  // engine's stimulus; the others see an idle line.
  logic               rx = 1'b1;

  for (genvar c = 0; c < NCfg; c++) begin : g_dut
    hlsk_soc_top #(
      .G(cfg(c, 0)), .T(cfg(c, 1)), .P(cfg(c, 2)), .AccW(cfg(c, 3)), .KMax(cfg(c, 4)),
      .HostLink(cfg(c, 5) != 0),
      .ClkHz(1600), .NumLeds(NumLeds), .LedActiveLow(1'b1), .RstActiveLow(1'b1)
    ) dut (
      .clk_i    (clk),
      .rst_btn_i(btn),
      .led_o    (led[c]),
      .uart_tx_o(tx[c]),
      .uart_rx_i(cfg(c, 5) != 0 || rx)
    );
  end

  always #5 clk = ~clk;
  always @(posedge clk) rx <= 1'($random);

  initial begin
    #32 btn = 1'b1;
    repeat (3000) @(posedge clk);
    for (int c = 0; c < NCfg; c++) begin
      // LEDs are active low: led[1] = passed, led[2] = failed.
      $display("%s G=%0d T=%0d P=%0d AccW=%0d KMax=%0d HostLink=%0d leds=%b (active low) tx=%b",
               (!led[c][1] && led[c][2] && (tx[c] || cfg(c, 5) == 0)) ? "PASS" : "FAIL",
               cfg(c, 0), cfg(c, 1), cfg(c, 2), cfg(c, 3), cfg(c, 4), cfg(c, 5), led[c], tx[c]);
    end
    $finish;
  end
endmodule
