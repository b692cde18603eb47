// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// WU accumulator and SGD write-back of the training-convolution engine.
//
// Fire (fire_i in a WU descriptor): every lane (m, n) of the T x T array
// adds rs(dO[p][m] * x[p][n], g_pre) of the P columns (the products of the
// MAC array's multipliers, prod_i: dO from the output buffer, x from the
// input buffer) to its own accumulator (AccWWu bits,
// wrapping). When the set's last column group has fired (set_last_i) the
// lane sums are complete, and the next cycle adds them into the gradient
// buffer (GEnt entries of AccWWu bits, wrapping, cleared by the chunk
// pair's first step, resident for the whole batch) at row g_row_i, with a
// valid bit per entry (0 for padded channels). The buffer is ordered like
// the chunk's master words.
//
// Master read (beats of phase PhMRd): beat word i is word q = ptr*T + i of
// the chunk's master words; an odd q completes master q/2 (its low word is
// the previous word, perhaps of the previous beat), and the fused update
// replaces the gradient with master' = sat32(master - rs(g * lr_mant,
// lr_shift)) (0 for padded channels). Write-back (PhMWr, PhW16): the
// masters low word first (mw_data_o), then the copy sat16(rs(master', 16))
// (w16_data_o), both for beat ptr_i, combinational.
//
// Timing: the SGD update is two stages: every cycle registers g * lr_mant
// of the masters the next cycle's beat completes, for both pointers it can
// have (ptr_i, ptr_i + 1, picked by beat_i), reading the gradient buffer
// through the pending write; the beat shifts, subtracts and saturates. A
// phase restarting at pointer 0 must spend a cycle without a beat first
// (conv_ctrl's StReq), so the stage is refilled before its first beat.

module conv_wu
  import conv_pkg::*;
#(
  parameter int unsigned T      = 2,
  parameter int unsigned P      = 1,
  parameter int unsigned AccWWu = 40,
  parameter int unsigned GEnt   = 512,
  // Derived; do not override.
  localparam int unsigned BeatW = 16 * T,
  localparam int unsigned GAW   = (GEnt > 1) ? $clog2(GEnt) : 1
) (
  input  logic              clk_i,
  input  logic              rst_ni,

  // Descriptor
  input  conv_geom_t        geom_i,

  // Fire: the main machine's counters, the set's gradient row, operands
  input  logic              fire_i,      // StFire (WU descriptors only add)
  input  logic              set_last_i,
  input  logic [GAW-1:0]    g_row_i,
  input  logic [31:0]       b_i,
  input  logic [31:0]       row0_i,
  input  logic [31:0]       mc_i,
  input  logic [31:0]       nc_i,
  input  logic [31:0]       mtl_i,
  input  logic [31:0]       ntl_i,
  input  logic [31:0]       r_i,
  input  logic [31:0]       x_i,
  input  logic signed [31:0] prod_i [P][T][T],  // dO[p][m] * x[p][n] (conv_mac_array)
  input  logic              px_ok_i [P],

  // Master stream: read beats (update) and write-back words at ptr_i
  input  logic              beat_i,
  input  phase_e            phase_i,
  input  logic [31:0]       ptr_i,
  input  logic [BeatW-1:0]  rd_data_i,
  output logic [BeatW-1:0]  mw_data_o,
  output logic [BeatW-1:0]  w16_data_o
);

  localparam logic [31:0] T32 = 32'(T);
  // delta = rs(g * lr_mant, lr_shift): g (AccWWu bits) times a 15-bit mantissa.
  localparam int unsigned DW  = AccWWu + 17;

  // The descriptor's fields and geometry (each unit reads the ones it needs).
  /* verilator lint_off UNUSEDSIGNAL */
  conv_geom_t g;
  /* verilator lint_on UNUSEDSIGNAL */
  assign g = geom_i;

  // Gradient buffer (ACC_W_WU, wrapping), resident for the batch, in the
  // order of the chunk's master words; after the master read it holds the
  // updated masters. gval_q marks entries of real (not padded) channels.
  logic [AccWWu-1:0] gbuf_q [GEnt];
  logic              gval_q [GEnt];
  // Per-lane accumulators of the current (m tile, n tile, ky, kx) set.
  logic [AccWWu-1:0] lacc_q [T][T];
  logic [AccWWu-1:0] lacc_d [T][T];
  logic [15:0]       pend_q;  // master low word waiting for its high word

  //////////////////
  // Lane sums    //
  //////////////////

  // WU fire: every lane (m, n) adds rs(dO[p][m] * x[p][n], g_pre) of the P
  // columns to its own accumulator. When the set's last column group has
  // fired the lane sums are complete in lacc_q, and the next cycle adds them
  // into the gradient buffer (cleared by the first step of the chunk pair)
  // at the set's entries, registered with the sums' destination (gw_*).
  logic set_first, wu_first, wu_fire;
  assign set_first = (x_i == 0) && (r_i == 0);
  assign wu_first  = (b_i == 0) && (row0_i == 0);
  assign wu_fire   = fire_i && g.is_wu;

  logic g_ok [T][T];
  always_comb begin
    for (int unsigned m = 0; m < T; m++) begin
      for (int unsigned n = 0; n < T; n++) begin
        // Products are exact in 32 bits (|p| <= 2^30), and so is rs(p, s)
        // for every s (shifts of 32 or more leave the sign).
        logic signed [31:0] prod, term;
        logic [AccWWu-1:0]  sum;
        sum = set_first ? '0 : lacc_q[m][n];
        for (int unsigned p = 0; p < P; p++) begin
          prod = prod_i[p][m][n];
          term = (g.g_pre == 0) ? prod :
                 (prod >>> g.g_pre) + ((prod >>> (g.g_pre - 6'd1)) & 32'sd1);
          if (px_ok_i[p]) sum = sum + AccWWu'(term);
        end
        lacc_d[m][n] = sum;
        g_ok[m][n]   = ((mc_i + mtl_i) * T32 + 32'(m) < g.out_c) &&
                       ((nc_i + ntl_i) * T32 + 32'(n) < g.red_c);
      end
    end
  end

  // The pending gradient write: gw_q one cycle after a WU set's last fire.
  logic              gw_q, gw_first_q;
  logic [GAW-1:0]    gw_row_q;
  logic              gw_ok_q  [T][T];
  logic [AccWWu-1:0] gw_val   [T*T];
  always_comb begin
    for (int unsigned j = 0; j < T * T; j++) begin
      gw_val[j] = (gw_first_q ? '0 : gbuf_q[gw_row_q + GAW'(j)]) + lacc_q[j / T][j % T];
    end
  end

  // The gradient buffer entry idx as it is after this cycle's pending
  // write (the master read's first stage reads it a cycle ahead).
  function automatic logic [AccWWu:0] g_fwd(input logic [GAW-1:0] idx);
    logic [31:0] off;
    off = 32'(GAW'(idx - gw_row_q));
    if (gw_q && off < T32 * T32) begin
      return {gw_ok_q[off / T32][off % T32], gw_val[off]};
    end
    return {gval_q[idx], gbuf_q[idx]};
  endfunction

  //////////////////
  // SGD update   //
  //////////////////

  // WU master read: beat word i is word q = ptr*T + i of the chunk's master
  // words; an odd q completes master q/2 (its low word is the previous word,
  // perhaps of the previous beat). The fused SGD update replaces the
  // gradient with the new master: delta = rs(g * lr_mant, lr_shift),
  // master' = sat32(master - delta); padded channels give 0. Two stages:
  // every cycle registers g * lr_mant of the masters the next cycle's beat
  // completes (the entries a beat updates are never those of the next
  // beat); the beat then shifts, subtracts and saturates. Stage 1 reads and
  // multiplies for both beat pointers the next cycle can have, ptr_q and
  // ptr_q + 1, and only the last step picks one by `beat`, so the state
  // machine's control is not in front of the buffer read and the multiplier.
  // (A phase restarting at pointer 0 always passes StReq, a cycle without a
  // beat at ptr_q = 0, before its first beat.)
  logic signed [DW-1:0] sgd_prod_q [T];
  logic                 sgd_ok_q   [T];
  logic [AccWWu-1:0]    m_new [T];
  logic [GAW-1:0]       m_idx [T];
  logic                 m_we  [T];
  logic [BeatW+15:0]    m_words;  // {beat, pending low word}
  assign m_words = {rd_data_i, pend_q};
  logic [AccWWu:0]      sgd_g    [2][T];  // [0]: at ptr_q, [1]: at ptr_q + 1
  logic signed [DW-1:0] sgd_prod [2][T];
  always_comb begin
    for (int unsigned a = 0; a < 2; a++) begin
      for (int unsigned i = 0; i < T; i++) begin
        sgd_g[a][i]    = g_fwd(GAW'(((ptr_i + 32'(a)) * T32 + 32'(i)) >> 1));
        sgd_prod[a][i] = DW'($signed(sgd_g[a][i][AccWWu-1:0])) *
                         $signed(DW'({1'b0, g.lr_mant}));
      end
    end
  end
  always_ff @(posedge clk_i) begin
    for (int unsigned i = 0; i < T; i++) begin
      sgd_prod_q[i] <= sgd_prod[beat_i][i];
      sgd_ok_q[i]   <= sgd_g[beat_i][i][AccWWu];
    end
  end
  always_comb begin
    for (int unsigned i = 0; i < T; i++) begin
      logic [31:0]            q;
      logic signed [31:0]     master;
      logic signed [DW-1:0]   sh;
      logic                   rbit;
      logic signed [DW:0]     diff;
      logic [DW:31]           hi;
      q        = ptr_i * T32 + 32'(i);
      master   = $signed(m_words[16*i +: 32]);
      m_idx[i] = GAW'(q >> 1);
      m_we[i]  = q[0];
      sh       = sgd_prod_q[i] >>> g.lr_shift;
      rbit     = (g.lr_shift != 0) &&
                 (((sgd_prod_q[i] >>> (g.lr_shift - 6'd1)) & DW'(1)) != 0);
      diff     = (DW+1)'(master) - (DW+1)'(sh) - (DW+1)'(rbit);
      hi       = diff[DW:31];
      if (hi != '0 && hi != '1) begin
        m_new[i] = diff[DW] ? AccWWu'(32'sh8000_0000) : AccWWu'(32'sh7fff_ffff);
      end else begin
        m_new[i] = AccWWu'($signed(diff[31:0]));
      end
      if (!sgd_ok_q[i]) m_new[i] = '0;
    end
  end

  ////////////////
  // Write-back //
  ////////////////

  // WU write-back words: masters (low word first), then the w16 copy
  // sat16(rs(master', MF)).
  always_comb begin
    for (int unsigned i = 0; i < T; i++) begin
      logic [31:0]        q;
      logic signed [31:0] mst;
      logic signed [31:0] r;
      q   = ptr_i * T32 + 32'(i);
      mst = $signed(gbuf_q[GAW'(q >> 1)][31:0]);
      mw_data_o[16*i +: 16] = q[0] ? mst[31:16] : mst[15:0];
      mst = $signed(gbuf_q[GAW'(q)][31:0]);
      r   = (mst >>> MF) + ((mst >>> (MF - 1)) & 32'sd1);
      if (r > 32'sd32767) begin
        w16_data_o[16*i +: 16] = 16'sh7fff;
      end else if (r < -32'sd32768) begin
        w16_data_o[16*i +: 16] = 16'sh8000;
      end else begin
        w16_data_o[16*i +: 16] = r[15:0];
      end
    end
  end

  ///////////////
  // Registers //
  ///////////////

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      gw_q <= 1'b0;
    end else begin
      gw_q <= wu_fire && set_last_i;
    end
  end

  // Buffers and stages (no reset).
  always_ff @(posedge clk_i) begin
    if (wu_fire) begin
      lacc_q <= lacc_d;
    end
    if (wu_fire && set_last_i) begin
      gw_row_q   <= g_row_i;
      gw_first_q <= wu_first;
      gw_ok_q    <= g_ok;
    end
    if (gw_q) begin
      for (int unsigned j = 0; j < T * T; j++) begin
        gbuf_q[gw_row_q + GAW'(j)] <= gw_val[j];
        gval_q[gw_row_q + GAW'(j)] <= gw_ok_q[j / T][j % T];
      end
    end
    if (beat_i && phase_i == PhMRd) begin
      for (int unsigned i = 0; i < T; i++) begin
        if (m_we[i]) gbuf_q[m_idx[i]] <= m_new[i];
      end
    end
    if (beat_i) pend_q <= rd_data_i[BeatW-16 +: 16];
  end

  ////////////////
  // Assertions //
  ////////////////

  // The SGD stage holds g * lr_mant of the beat's masters.
  logic sgd_in_step;
  always_comb begin
    sgd_in_step = 1'b1;
    for (int unsigned i = 0; i < T; i++) begin
      if (sgd_ok_q[i] != gval_q[m_idx[i]] ||
          sgd_prod_q[i] != DW'($signed(gbuf_q[m_idx[i]])) * $signed(DW'({1'b0, g.lr_mant}))) begin
        sgd_in_step = 1'b0;
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_ni && beat_i && (phase_i == PhMRd || phase_i == PhMWr)) begin
      assert ((ptr_i * T32 + T32 - 1) / 2 < 32'(GEnt))
        else $error("master beat %0d beyond the gradient buffer", ptr_i);
    end
    if (rst_ni && beat_i && phase_i == PhMRd) begin
      assert (sgd_in_step) else $error("SGD stage out of step at beat %0d", ptr_i);
    end
    if (rst_ni && beat_i && phase_i == PhW16) begin
      assert (ptr_i * T32 + T32 <= 32'(GEnt))
        else $error("w16 beat %0d beyond the gradient buffer", ptr_i);
    end
  end

endmodule
