// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Performance counters of the training-convolution engine, with the stall
// attribution of hls_rust::conv::model::Stats: every busy cycle is exactly
// one of fired (StFire, StPool), an input, weight or output stall (a
// WU set held for the gradient drain, g_hold_i, is an output stall, the
// master read's request held for it, req_hold_i, a weight stall even while
// the prefetcher owns the port), or
// overhead (StCheck, the plan cycles, StStep, and StNext once the prefetch
// is done), which has no counter. A transfer (its StReq and StData cycles,
// memory stalls included) stalls for its phase's cause: input (the input
// tile, the WU dO tile, the POOL_BWD argmax words), weights (the weight
// tile, the WU master read), output (the drain, the BP act_in read, the WU
// master and w16 writes, the POOL_FWD argmax words). Waiting for the
// prefetcher (StReq or StNext while it owns the port) is an input stall,
// StWLoad a weight stall. Also words read (main transfers and prefetch)
// and written, and accepted requests (bursts).
//
// Timing: 32-bit counters, wrapping; all of them clear on the cycle the
// first word of a descriptor is taken (StIdle, desc_valid_i, dcount_i 0),
// count from the next, and hold while idle.

module conv_counters
  import conv_pkg::*;
#(
  parameter int unsigned T = 2
) (
  input  logic        clk_i,
  input  logic        rst_ni,

  // Main machine, memory port and prefetcher
  input  state_e      state_i,
  input  phase_e      phase_i,
  input  logic        desc_valid_i,
  input  logic [3:0]  dcount_i,
  input  logic        beat_i,
  input  logic        wr_phase_i,
  input  logic        pf_busy_i,
  input  logic        pf_beat_i,
  input  logic        req_fire_i,    // a request is accepted
  input  logic        g_hold_i,      // StFire held for the gradient drain
  input  logic        req_hold_i,    // StReq held: the master read waits for the drain

  // Counters
  output logic [31:0] cnt_cycles_o,
  output logic [31:0] cnt_fired_o,
  output logic [31:0] cnt_stall_in_o,
  output logic [31:0] cnt_stall_w_o,
  output logic [31:0] cnt_stall_out_o,
  output logic [31:0] cnt_rd_words_o,
  output logic [31:0] cnt_wr_words_o,
  output logic [31:0] cnt_bursts_o
);

  localparam logic [31:0] T32 = 32'(T);

  // Stall attribution (model::Stats): waiting for the prefetcher (a main
  // transfer or the advance held back by it) is an input stall; a transfer
  // of the main machine stalls for its phase's cause; StWLoad waits for
  // weights. StFire and StPool fire; StCheck, the plan cycles, StStep and
  // StNext (once the prefetch is done) are overhead.
  logic xfer, stall_in, stall_w, stall_out;
  assign xfer      = (state_i == StReq || state_i == StData) && !(state_i == StReq && pf_busy_i);
  assign stall_in  = ((state_i == StReq || state_i == StNext) && pf_busy_i && !req_hold_i) ||
                     (xfer && (phase_i == PhIn || phase_i == PhD || phase_i == PhCRd));
  assign stall_w   = (state_i == StWLoad) || req_hold_i ||
                     (xfer && (phase_i == PhW || phase_i == PhMRd));
  assign stall_out = g_hold_i ||
                     (xfer && (phase_i == PhMask || phase_i == PhOut || phase_i == PhMWr ||
                               phase_i == PhW16 || phase_i == PhCWr));

  logic [31:0] cnt_cycles_q, cnt_fired_q, cnt_rd_q, cnt_wr_q, cnt_bursts_q;
  logic [31:0] cnt_sin_q, cnt_sw_q, cnt_sout_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      cnt_cycles_q <= '0;
      cnt_fired_q  <= '0;
      cnt_rd_q     <= '0;
      cnt_wr_q     <= '0;
      cnt_bursts_q <= '0;
      cnt_sin_q    <= '0;
      cnt_sw_q     <= '0;
      cnt_sout_q   <= '0;
    end else if (state_i == StIdle && desc_valid_i && dcount_i == '0) begin
      cnt_cycles_q <= '0;
      cnt_fired_q  <= '0;
      cnt_rd_q     <= '0;
      cnt_wr_q     <= '0;
      cnt_bursts_q <= '0;
      cnt_sin_q    <= '0;
      cnt_sw_q     <= '0;
      cnt_sout_q   <= '0;
    end else begin
      if (state_i != StIdle) cnt_cycles_q <= cnt_cycles_q + 1;
      if ((state_i == StFire && !g_hold_i) || state_i == StPool) begin
        cnt_fired_q <= cnt_fired_q + 1;
      end
      if ((beat_i && !wr_phase_i) || pf_beat_i) cnt_rd_q <= cnt_rd_q + T32;
      if (beat_i && wr_phase_i) cnt_wr_q <= cnt_wr_q + T32;
      if (req_fire_i) cnt_bursts_q <= cnt_bursts_q + 1;
      if (stall_in)  cnt_sin_q  <= cnt_sin_q + 1;
      if (stall_w)   cnt_sw_q   <= cnt_sw_q + 1;
      if (stall_out) cnt_sout_q <= cnt_sout_q + 1;
    end
  end

  assign cnt_cycles_o    = cnt_cycles_q;
  assign cnt_fired_o     = cnt_fired_q;
  assign cnt_stall_in_o  = cnt_sin_q;
  assign cnt_stall_w_o   = cnt_sw_q;
  assign cnt_stall_out_o = cnt_sout_q;
  assign cnt_rd_words_o  = cnt_rd_q;
  assign cnt_wr_words_o  = cnt_wr_q;
  assign cnt_bursts_o    = cnt_bursts_q;

endmodule
