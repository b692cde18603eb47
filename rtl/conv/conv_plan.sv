// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Step plan of the training-convolution engine: the loop nest of the
// operation's step sequence (hls_rust::conv::model::steps) and the burst
// addresses of the step's transfers.
//
//   FP, BP: for m-chunk { for b { for band { for n-chunk { step } } } }
//   WU:     for m-chunk { for n-chunk { for b { for band { step } } } }
//   pools:  for b { for channel chunk { for band { step } } }
//
// This unit holds the current step's loop counters (nc, row0, b, mc) and
// extent: start_i (the check) loads the first step's, advance_i (conv_ctrl's
// StNext) the next step's. From them it computes the next step's counters
// and extent, the current and next step's input tiles (the next one is what
// the prefetcher loads) and the current step's other transfers (xfers_o:
// drain, BP act_in, WU dO, pools' input-size and argmax tiles, the chunk
// pair's weight blocks, masters and their int16 copy), bases included.
//
// No multiplier: every offset and length is a sum of loop counters'
// multiples, kept as running terms stepped by the descriptor's constants
// (conv_desc's products; see "Running terms"), and simulation asserts each
// transfer against its 32-bit product formula.
//
// Timing: every output is a register fed by registers, with at most a mux
// and a sum or two between; conv_ctrl waits PlanCycles (4) cycles after
// start_i or advance_i before the step starts: (1) the next step's
// counters and this step's transfers' terms, (2) their addresses and
// lengths, the next step's extent and running terms, (3) the next step's
// input tile's terms, (4) its address and length. xfers_o adds the
// descriptor's bases to registers, combinationally. The loop counters
// reset to zero; the running terms are cleared by start_i; the rest has no
// reset.

module conv_plan
  import conv_pkg::*;
#(
  parameter int unsigned T = 2
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  state_e      state_i,       // the main machine's state (for the assertions)

  // Descriptor
  input  conv_geom_t  geom_i,

  // The step sequence: first step, next step
  input  logic        start_i,
  input  logic        advance_i,

  // The current step: loop counters and extent
  output logic [31:0] nc_o,
  output logic [31:0] row0_o,
  output logic [31:0] b_o,
  output logic [31:0] mc_o,
  output extent_t     ext_o,
  output logic        nx_chunk_m_o,  // the next step starts an m-chunk: weights load again
  output logic        step_last_o,   // this is the descriptor's last step
  output tile_t       nx_in_o,       // the next step's input tile (the prefetch's)

  // This step's transfers
  output xfers_t      xfers_o
);

  // The descriptor's fields and geometry (each unit reads the ones it needs).
  /* verilator lint_off UNUSEDSIGNAL */
  conv_geom_t g;
  /* verilator lint_on UNUSEDSIGNAL */
  assign g = geom_i;

  // The current step's loop counters and extent.
  logic [31:0] nc_q, row0_q, b_q, mc_q;
  extent_t     ext_q;
  // The next step's (stage 1 and 2 of the plan).
  logic [31:0] nx_nc, nx_row0, nx_b, nx_mc;
  extent_t     nx_ext;

  logic [31:0] mtn, ntn, nr;
  logic        last_chunk;
  assign mtn        = ext_q.mtn;
  assign ntn        = ext_q.ntn;
  assign nr         = ext_q.nr;
  assign last_chunk = nc_q + ntn == g.rct;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      nc_q   <= '0;
      row0_q <= '0;
      b_q    <= '0;
      mc_q   <= '0;
    end else if (start_i) begin
      nc_q   <= '0;
      row0_q <= '0;
      b_q    <= '0;
      mc_q   <= '0;
    end else if (advance_i) begin
      nc_q   <= nx_nc;
      row0_q <= nx_row0;
      b_q    <= nx_b;
      mc_q   <= nx_mc;
    end
  end

  // The extent is loaded with the counters (no reset: loaded by the check
  // before it is read).
  always_ff @(posedge clk_i) begin
    if (start_i) begin
      ext_q <= extent(g, '0, '0, '0);
    end else if (advance_i) begin
      ext_q <= nx_ext;
    end
  end

  assign nc_o   = nc_q;
  assign row0_o = row0_q;
  assign b_o    = b_q;
  assign mc_o   = mc_q;
  assign ext_o  = ext_q;

  //////////////////
  // Loop nest    //
  //////////////////

  // The loop nest of each operation (hls_rust::conv::model::steps),
  // innermost level first. FP, BP: n-chunk, band, image, m-chunk.
  // WU: band, image, n-chunk, m-chunk. Pools: band, m-chunk, image.
  typedef enum logic [1:0] {
    LvChunkN,
    LvBand,
    LvImage,
    LvChunkM
  } level_e;
  level_e      nest [4];
  logic [2:0]  nlev;
  always_comb begin
    nlev = 3'd4;
    if (g.is_pool) begin
      nest = '{LvBand, LvChunkM, LvImage, LvChunkM};
      nlev = 3'd3;
    end else if (g.is_wu) begin
      nest = '{LvBand, LvImage, LvChunkN, LvChunkM};
    end else begin
      nest = '{LvChunkN, LvBand, LvImage, LvChunkM};
    end
  end

  // The next step's loop counters: advance the nest innermost level first;
  // a level that wraps resets and carries into the next; a carry out of
  // the last means this is the descriptor's last step.
  logic [31:0] nx_nc_c, nx_row0_c, nx_b_c, nx_mc_c;
  logic        nx_chunk_m_c, step_last_c;
  always_comb begin
    logic carry;
    nx_nc_c      = nc_q;
    nx_row0_c    = row0_q;
    nx_b_c       = b_q;
    nx_mc_c      = mc_q;
    nx_chunk_m_c = 1'b0;
    carry        = 1'b1;
    for (int unsigned l = 0; l < 4; l++) begin
      if (carry && l < nlev) begin
        carry = 1'b0;
        unique case (nest[l])
          LvChunkN: begin
            nx_nc_c = last_chunk ? '0 : nc_q + ntn;
            carry   = last_chunk;
          end
          LvBand: begin
            carry     = row0_q + nr == g.oh;
            nx_row0_c = carry ? '0 : row0_q + nr;
          end
          LvImage: begin
            carry  = b_q + 1 == g.b;
            nx_b_c = carry ? '0 : b_q + 1;
          end
          default: begin  // LvChunkM: a new chunk loads its weights
            carry        = mc_q + mtn == g.oct;
            nx_mc_c      = carry ? '0 : mc_q + mtn;
            nx_chunk_m_c = 1'b1;
          end
        endcase
      end
    end
    step_last_c = carry;
  end

  ////////////////////
  // Running terms  //
  ////////////////////

  // Every offset is a sum of a loop counter's multiples (conv_pkg::run_t),
  // and a counter only moves to zero or by a full chunk or band (a partial
  // chunk or band is the last, and wraps), so each multiple steps by a
  // per-descriptor constant (conv_desc's products) instead of being
  // multiplied: the output layout's terms (the drain, BP's act_in, WU's dO,
  // and the pools' tiles), the argmax layout's (pools), the input layout's
  // (FP, BP, WU) and the weight tile's two (A: wt_a * wt_sw, C: wt_c *
  // wt_sp, for the weight tile's block indexes wt_a, wt_c below). The next
  // step's terms are registered in stage 2 from stage 1's counters, and
  // loaded with the counters.
  run_t        to_q, tc_q, ti_q, to_nx, tc_nx, ti_nx;
  logic [31:0] wa_q, wc_q, wa_nx, wc_nx;
  logic [31:0] wt_a, wt_c, nx_wt_a, nx_wt_c;
  assign wt_a    = g.is_bp ? nc_q : mc_q;
  assign wt_c    = g.is_bp ? mc_q : nc_q;
  assign nx_wt_a = g.is_bp ? nx_nc : nx_mc;
  assign nx_wt_c = g.is_bp ? nx_mc : nx_nc;

  // The next step's terms of layout l, from each counter's current and
  // next value (it reads l's offsets' sb and steps).
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic run_t run_next(input layout_t l, input logic [31:0] bq, bd, cq, cd, rq, rd,
                                    input run_t t);
    return '{b: scaled(bq, bd, t.b, l.o.sb), c: scaled(cq, cd, t.c, l.s.cs),
             r: scaled(rq, rd, t.r, l.s.rs)};
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */

  always_ff @(posedge clk_i) begin
    // Stage 2: the next step's.
    to_nx <= run_next(g.lay_out, b_q, nx_b, mc_q, nx_mc, row0_q, nx_row0, to_q);
    tc_nx <= run_next(g.lay_code, b_q, nx_b, mc_q, nx_mc, row0_q, nx_row0, tc_q);
    ti_nx <= run_next(g.lay_in, b_q, nx_b, nc_q, nx_nc, row0_q, nx_row0, ti_q);
    wa_nx <= scaled(wt_a, nx_wt_a, wa_q, g.wt_as);
    wc_nx <= scaled(wt_c, nx_wt_c, wc_q, g.wt_cs);
    if (start_i) begin
      to_q <= '0;
      tc_q <= '0;
      ti_q <= '0;
      wa_q <= '0;
      wc_q <= '0;
    end else if (advance_i) begin
      to_q <= to_nx;
      tc_q <= tc_nx;
      ti_q <= ti_nx;
      wa_q <= wa_nx;
      wc_q <= wc_nx;
    end
  end

  ///////////////////
  // Input tiles   //
  ///////////////////

  // The stages of the plan (see the header): every stage is a register fed
  // by registers, with at most a mux and one sum (stage 1, 3) or a sum of
  // three (stage 2, 4) between.
  tile_p_t     cur_in_p, nx_in_p;
  tile_t       cur_in;
  always_ff @(posedge clk_i) begin
    // Stage 1.
    nx_nc        <= nx_nc_c;
    nx_row0      <= nx_row0_c;
    nx_b         <= nx_b_c;
    nx_mc        <= nx_mc_c;
    nx_chunk_m_o <= nx_chunk_m_c;
    step_last_o  <= step_last_c;
    cur_in_p     <= in_tile_p(g, ti_q, to_q, row0_q, ext_q);
    // Stage 2.
    cur_in       <= tile_sum(g, cur_in_p, T);
    nx_ext       <= extent(g, nx_nc, nx_row0, nx_mc);
    // Stage 3.
    nx_in_p      <= in_tile_p(g, ti_nx, to_nx, nx_row0, nx_ext);
    // Stage 4.
    nx_in_o      <= tile_sum(g, nx_in_p, T);
  end

  /////////////////////////
  // The step's transfers //
  /////////////////////////

  // This step's transfers (stage 1 and 2 of the plan): the output (and
  // act_in) tile of the band, the pools' input-size tile (2 nr rows of W:
  // four times the output tile) and argmax tile (nr rows of cw words per
  // lane), and the chunk pair's weight blocks (FP, BP: the weight tile, one
  // burst per m tile, merged when contiguous; BP: forward blocks (reduction
  // tile, output tiles), per reduction tile. WU: the masters, the same runs
  // at twice the size, and their int16 copy). Offsets are from the
  // tensors' bases.
  logic [31:0] drain_off, drain_n, code_off;
  logic [31:0] small_bh, small_bl, code_bh, code_bl, small_beats, code_beats;
  logic [31:0] tile_beats, tile_bh, tile_bl;
  tile_t       wt;
  logic [31:0] wt_pa, wt_pc, wt_bh, wt_bl;
  logic        whole, wt_whole, full_m, full_r, wt_full_a, wt_full_c;
  logic [31:0] wt_cnt;
  assign whole     = nr == g.oh;
  assign full_m    = mtn == g.mo;
  assign full_r    = nr == g.tr;
  assign drain_n   = whole ? 32'd1 : mtn;
  assign wt_whole  = g.is_bp ? mtn == g.oct : ntn == g.rct;
  assign wt_cnt    = g.is_bp ? ntn : mtn;
  assign wt_full_a = g.is_bp ? ntn == g.no : mtn == g.mo;
  assign wt_full_c = g.is_bp ? mtn == g.mo : ntn == g.no;
  always_ff @(posedge clk_i) begin
    // Stage 1.
    {small_bh, small_bl} <= beats_p(g.lay_out, whole, full_m, full_r, to_q);
    {code_bh, code_bl}   <= beats_p(g.lay_code, whole, full_m, full_r, tc_q);
    // Rows of one channel tile of the drained band.
    {tile_bh, tile_bl}   <= beats_p(g.lay_out, 1'b0, full_m, full_r, to_q);
    // FP, WU: block (mc, nc) of [oct][rct]; BP: block (nc, mc) of [rct][oct].
    wt_pa         <= times_const(wa_q, T);
    wt_pc         <= times_const(wc_q, T);
    wt_bh         <= wt_whole ? (wt_full_a ? g.wt_as : g.wt_all) : (wt_full_c ? g.wt_cs : g.wt_sw);
    wt_bl         <= wt_whole ? (wt_full_a ? '0 : wa_q) : (wt_full_c ? '0 : wc_q);
    wt.n          <= wt_whole ? 32'd1 : wt_cnt;
    wt.stride     <= g.wt_sa;
    // Stage 2.
    drain_off     <= off_sum('{pb: to_q.b, pc: to_q.c, pr: to_q.r}, T);
    code_off      <= off_sum('{pb: tc_q.b, pc: tc_q.c, pr: tc_q.r}, T);
    small_beats   <= small_bh - small_bl;
    code_beats    <= code_bh - code_bl;
    tile_beats    <= (tile_bh - tile_bl) << (g.is_pb ? 2 : 0);
    wt.addr       <= wt_pa + wt_pc;
    wt.beats      <= wt_bh - wt_bl;
  end

  // The transfers with the tensors' bases. The output tile and its act_in
  // (BP) or dO (WU) counterpart share offsets, one burst per m tile, merged
  // when contiguous; the pools' input-size tile is four times the output
  // tile; the masters are the weight tile's runs at twice the size, and
  // their int16 copy the same runs as the weights.
  always_comb begin
    xfers_o.x_in  = cur_in;
    xfers_o.w     = '{addr: g.w_base + wt.addr, stride: wt.stride, n: wt.n, beats: wt.beats};
    xfers_o.code  = '{addr: g.aux_base + code_off, stride: g.lay_code.o.sc, n: drain_n,
                      beats: code_beats};
    xfers_o.aux   = '{addr: g.aux_base + drain_off, stride: g.lay_out.o.sc, n: drain_n,
                      beats: small_beats};
    xfers_o.drain = '{addr: g.out_base + drain_off, stride: g.lay_out.o.sc, n: drain_n,
                      beats: small_beats};
    xfers_o.big   = '{addr: g.out_base + (drain_off << 2), stride: g.lay_big.o.sc, n: drain_n,
                      beats: small_beats << 2};
    xfers_o.m_rd  = '{addr: g.w_base + 2 * wt.addr, stride: 2 * wt.stride, n: wt.n,
                      beats: 2 * wt.beats};
    xfers_o.m_wr  = '{addr: g.out_base + 2 * wt.addr, stride: 2 * wt.stride, n: wt.n,
                      beats: 2 * wt.beats};
    xfers_o.w16   = '{addr: g.w16_base + wt.addr, stride: wt.stride, n: wt.n,
                      beats: wt.beats};
    xfers_o.tile_beats = tile_beats;
  end

  ////////////////
  // Assertions //
  ////////////////

  // The 32-bit formulas the running terms replace: while a step is planned
  // or runs (after the plan's cycles), every transfer the operation uses
  // must equal them. Simulation only (synthesis ignores assertions).
  tile_t       ref_in, ref_nx_in, ref_w;
  logic [31:0] ref_drain, ref_code, ref_small, ref_codeb, ref_tile;
  always_comb begin
    ref_in    = in_tile_ref(g, nc_q, row0_q, b_q, mc_q, ext_q);
    ref_nx_in = in_tile_ref(g, nx_nc, nx_row0, nx_b, nx_mc, nx_ext);
    ref_drain = lay_off_ref(g.lay_out.o, b_q, mc_q, row0_q);
    ref_code  = lay_off_ref(g.lay_code.o, b_q, mc_q, row0_q);
    ref_small = lay_beats_ref(g.lay_out.z, whole, mtn, nr);
    ref_codeb = lay_beats_ref(g.lay_code.z, whole, mtn, nr);
    ref_tile  = lay_beats_ref(g.is_pb ? g.lay_big.z : g.lay_out.z, 1'b0, mtn, nr);
    ref_w     = '{addr: wt_a * g.wt_sa + wt_c * g.wblk, stride: g.wt_sa,
                  n: wt_whole ? 32'd1 : wt_cnt,
                  beats: wt_whole ? wt_cnt * g.wt_sw : (g.is_bp ? mtn : ntn) * g.wt_sp};
  end

  logic planned;
  always_comb begin
    unique case (state_i)
      StStep, StReq, StData, StWLoad, StFire, StPool, StNext: planned = 1'b1;
      default: planned = 1'b0;
    endcase
  end

  always_ff @(posedge clk_i) begin
    if (rst_ni && planned) begin
      assert (cur_in == ref_in) else $error("input tile out of step");
      assert (nx_in_o == ref_nx_in) else $error("next input tile out of step");
      assert (drain_off == ref_drain && small_beats == ref_small)
        else $error("output tile out of step");
      assert (!g.is_pool || (code_off == ref_code && code_beats == ref_codeb &&
                             xfers_o.big.beats == lay_beats_ref(g.lay_big.z, whole, mtn, nr) &&
                             drain_off << 2 == lay_off_ref(g.lay_big.o, b_q, mc_q, row0_q)))
        else $error("pool tiles out of step");
      assert (tile_beats == ref_tile) else $error("drained tile beats out of step");
      assert (g.is_pool || wt == ref_w) else $error("weight tile out of step");
    end
  end

endmodule
