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
// Timing: every output is a register fed by registers, with at most one
// multiplier or one sum of three between; conv_ctrl waits PlanCycles (4)
// cycles after start_i or advance_i before the step starts: (1) the next
// step's counters and the products of this step's transfers, (2) their
// addresses and the next step's extent, (3) the products of the next
// step's input tile, (4) its address. xfers_o adds the descriptor's bases
// to registers, combinationally. The loop counters reset to zero; the rest
// has no reset.

module conv_plan
  import conv_pkg::*;
(
  input  logic        clk_i,
  input  logic        rst_ni,

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

  ///////////////////
  // Input tiles   //
  ///////////////////

  // The stages of the plan (see the header): every stage is a register fed
  // by registers, with at most one multiplier or one sum of three between.
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
    cur_in_p     <= in_tile_p(g, 17'(nc_q), 17'(row0_q), 17'(b_q), 17'(mc_q), ext_q);
    // Stage 2.
    cur_in       <= tile_sum(g, cur_in_p);
    nx_ext       <= extent(g, nx_nc, nx_row0, nx_mc);
    // Stage 3.
    nx_in_p      <= in_tile_p(g, 17'(nx_nc), 17'(nx_row0), 17'(nx_b), 17'(nx_mc), nx_ext);
    // Stage 4.
    nx_in_o      <= tile_sum(g, nx_in_p);
  end

  /////////////////////////
  // The step's transfers //
  /////////////////////////

  // This step's transfers (stage 1 of the plan): the output (and act_in)
  // tile of the band, the pools' input-size tile (2 nr rows of W) and
  // argmax tile (nr rows of cw words per lane), and the chunk pair's
  // weight blocks (FP, BP: the weight tile, one burst per m tile, merged
  // when contiguous; BP: forward blocks (reduction tile, output tiles), per
  // reduction tile. WU: the masters, the same runs at twice the size, and
  // their int16 copy). Offsets are from the tensors' bases.
  off_p_t      drain_p, big_p, code_p;
  logic [31:0] drain_off, drain_n, big_off, big_beats, small_beats, code_off, code_beats;
  logic [31:0] tile_beats;
  tile_t       wt;
  logic [31:0] wt_pa, wt_pc;
  logic        whole, wt_whole;
  logic [16:0] wt_cnt, wt_per;
  assign whole     = nr == g.oh;
  assign drain_n   = whole ? 32'd1 : mtn;
  assign wt_whole  = g.is_bp ? mtn == g.oct : ntn == g.rct;
  assign wt_cnt    = 17'(g.is_bp ? ntn : mtn);
  assign wt_per    = 17'(g.is_bp ? mtn : ntn);
  logic [16:0] wt_a, wt_c;
  assign wt_a      = 17'(g.is_bp ? nc_q : mc_q);
  assign wt_c      = 17'(g.is_bp ? mc_q : nc_q);
  always_ff @(posedge clk_i) begin
    drain_p       <= lay_off(g.lay_out.o, 17'(b_q), 17'(mc_q), 17'(row0_q));
    big_p         <= lay_off(g.lay_big.o, 17'(b_q), 17'(mc_q), 17'(row0_q));
    code_p        <= lay_off(g.lay_code.o, 17'(b_q), 17'(mc_q), 17'(row0_q));
    drain_off     <= off_sum(drain_p);
    big_off       <= off_sum(big_p);
    code_off      <= off_sum(code_p);
    small_beats   <= lay_beats(g.lay_out.z, whole, 17'(mtn), 17'(nr));
    big_beats     <= lay_beats(g.lay_big.z, whole, 17'(mtn), 17'(nr));
    code_beats    <= lay_beats(g.lay_code.z, whole, 17'(mtn), 17'(nr));
    // Beats of one channel tile of the drained band.
    tile_beats    <= lay_beats(g.is_pb ? g.lay_big.z : g.lay_out.z, 1'b0, 17'(mtn), 17'(nr));
    // FP, WU: block (mc, nc) of [oct][rct]; BP: block (nc, mc) of [rct][oct].
    wt_pa         <= 32'(wt_a) * g.wt_sa;
    wt_pc         <= 32'(wt_c) * g.wblk;
    wt.addr       <= wt_pa + wt_pc;
    wt.stride     <= g.wt_sa;
    wt.n          <= wt_whole ? 32'd1 : 32'(wt_cnt);
    wt.beats      <= wt_whole ? 32'(wt_cnt) * g.wt_sw : 32'(wt_per) * g.wt_sp;
  end

  // The transfers with the tensors' bases. The output tile and its act_in
  // (BP) or dO (WU) counterpart share offsets, one burst per m tile, merged
  // when contiguous; the masters are the weight tile's runs at twice the
  // size, and their int16 copy the same runs as the weights.
  always_comb begin
    xfers_o.x_in  = cur_in;
    xfers_o.w     = '{addr: g.w_base + wt.addr, stride: wt.stride, n: wt.n, beats: wt.beats};
    xfers_o.code  = '{addr: g.aux_base + code_off, stride: g.lay_code.o.sc, n: drain_n,
                      beats: code_beats};
    xfers_o.aux   = '{addr: g.aux_base + drain_off, stride: g.lay_out.o.sc, n: drain_n,
                      beats: small_beats};
    xfers_o.drain = '{addr: g.out_base + drain_off, stride: g.lay_out.o.sc, n: drain_n,
                      beats: small_beats};
    xfers_o.big   = '{addr: g.out_base + big_off, stride: g.lay_big.o.sc, n: drain_n,
                      beats: big_beats};
    xfers_o.m_rd  = '{addr: g.w_base + 2 * wt.addr, stride: 2 * wt.stride, n: wt.n,
                      beats: 2 * wt.beats};
    xfers_o.m_wr  = '{addr: g.out_base + 2 * wt.addr, stride: 2 * wt.stride, n: wt.n,
                      beats: 2 * wt.beats};
    xfers_o.w16   = '{addr: g.w16_base + wt.addr, stride: wt.stride, n: wt.n,
                      beats: wt.beats};
    xfers_o.tile_beats = tile_beats;
  end

endmodule
