// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// WU accumulator and SGD write-back of the training-convolution engine.
//
// Fire (fire_i in a WU descriptor): every lane (m, n) of the T x T array
// adds rs(dO[p][m] * x[p][n], g_pre) of the P columns (the products of the
// MAC array's multipliers, prod_i: dO from the output buffer, x from the
// input buffer, registered there) to its own accumulator (AccWWu bits,
// wrapping). The products arrive a cycle after the fire, so the lanes add
// in stage 1, from the fire's registered counters (set start, columns,
// gradient row, channel checks). When the set's last column group has
// added (set_last_i a cycle before) the lane sums are complete:
// they are staged, and the drain adds them into the gradient buffer
// (GEnt entries of AccWWu bits, wrapping, cleared by the chunk pair's
// first step, resident for the whole batch) at entries g_row_i + m*T + n,
// GradRows rows of T entries per cycle over the next GradDrain cycles
// (conv_pkg::grad_drain), with a valid bit per entry (0 for padded
// channels). The buffer is ordered like the chunk's master words.
//
// Gradient buffer: NB block-RAM banks (hlsk_ram_1r1w, write-first), NB the
// power of two at or above T*GradRows and the master stream's window of
// T (T+1 at odd T) entries; entry e lives in bank e mod NB, row e / NB, so
// any NB consecutive entries are one per bank. One registered read a
// cycle: the drain's next rows, else the window the master stream needs
// in the next cycle (from ptr_clr_i, ptr_inc_i); one write: the drain's
// rows, or a master read beat's updated masters.
//
// Interlocks (conv_ctrl): g_busy_o while a set's last fire in this cycle
// would start its drain (a cycle later) while the previous drain still
// reads, so that fire must wait (a set of F < GradDrain fires waits
// GradDrain - F cycles, as without the product register); g_idle_o once
// the drain is written, before which the master read must not start (its
// first read would see stale gradients): GradDrain + 1 cycles after the
// chunk pair's last fire.
//
// Master read (beats of phase PhMRd): beat word i is word q = ptr*T + i of
// the chunk's master words; an odd q completes master q/2 (its low word is
// the previous word, perhaps of the previous beat), and the fused update
// replaces the gradient with master' = sat32(master - rs(g * lr_mant,
// lr_shift)) (0 for padded channels). Write-back (PhMWr, PhW16): the
// masters low word first (mw_data_o), then the copy sat16(rs(master', 16))
// (w16_data_o), both for beat ptr_i, from the window read a cycle before.
//
// Timing: the SGD update is two stages: every cycle registers g * lr_mant
// of the masters the next cycle's beat completes, for both pointers it can
// have (ptr_i, ptr_i + 1, picked by beat_i), from the window read at
// the next pointer a cycle before; the beat shifts, subtracts and saturates. A
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

  // Descriptor start (conv_ctrl's start_o): the lane sums restart at zero
  input  logic              start_i,

  // Fire: the main machine's counters, the set's gradient row, operands
  input  logic              fire_i,      // StFire, not held (WU descriptors only add)
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
  output logic              g_busy_o,    // the drain reads in the next cycle: no set may end now
  output logic              g_idle_o,    // the drain is written: the master read may start

  // Master stream: read beats (update) and write-back words at ptr_i
  input  logic              beat_i,
  input  phase_e            phase_i,
  input  logic [31:0]       ptr_i,
  input  logic              ptr_clr_i,   // next cycle's pointer: 0 (a phase starts),
  input  logic              ptr_inc_i,   // ... ptr_i + 1, else ptr_i
  input  logic [BeatW-1:0]  rd_data_i,
  output logic [BeatW-1:0]  mw_data_o,
  output logic [BeatW-1:0]  w16_data_o
);

  localparam logic [31:0] T32 = 32'(T);
  // delta = rs(g * lr_mant, lr_shift): g (AccWWu bits) times a 15-bit mantissa.
  localparam int unsigned DW  = AccWWu + 17;
  // Lane sums: rs(p, g_pre) terms scaled by 2^g_pre (below).
  localparam int unsigned AW  = AccWWu + 31;
  // The P products' sum (terms in [-2^31, 2^31)).
  localparam int unsigned SW  = 32 + ((P > 1) ? $clog2(P) : 0);
  // Drain: GR rows of T entries (RT) per cycle, GD cycles per set.
  localparam int unsigned GR  = grad_rows(T);
  localparam int unsigned GD  = grad_drain(T);
  localparam int unsigned RT  = GR * T;
  // Banks: NB (a power of two) >= RT and >= the master window WM.
  localparam int unsigned WM  = T + (T % 2);
  localparam int unsigned LNB = $clog2((RT > WM) ? RT : WM);
  localparam int unsigned NB  = 1 << LNB;
  localparam int unsigned GB  = (GEnt + NB - 1) / NB;      // rows per bank
  localparam int unsigned GBW = (GB > 1) ? $clog2(GB) : 1;
  localparam int unsigned EW  = GAW + 2;                   // entry indexes (window overrun)
  localparam int unsigned GW  = AccWWu + 1;                // {valid, gradient}
  // Drains start at bank 0 when a drain's rows fill the banks exactly
  // (g_row_i is a multiple of T*T, so of RT).
  localparam bit          Aligned = (RT == NB);
  localparam int unsigned DCW = $clog2(GD + 1);
  localparam int unsigned LW  = (T > 1) ? $clog2(T) : 1;      // lane index

  // The descriptor's fields and geometry (each unit reads the ones it needs).
  /* verilator lint_off UNUSEDSIGNAL */
  conv_geom_t g;
  /* verilator lint_on UNUSEDSIGNAL */
  assign g = geom_i;

  // Per-lane accumulators of the current (m tile, n tile, ky, kx) set.
  // (Packed, as are the staged sums: Yosys would make unpacked arrays
  // memories, whose write ports cost a multiplexer per bit.)
  logic [T-1:0][T-1:0][AW-1:0] lacc_q;
  logic [AW-1:0]     lacc_d [T][T];
  logic [15:0]       pend_q;  // master low word waiting for its high word

  //////////////////
  // Lane sums    //
  //////////////////

  // WU fire: every lane (m, n) adds rs(dO[p][m] * x[p][n], g_pre) of the P
  // columns to its own accumulator, in stage 1 (the cycle after the fire,
  // when its products arrive). In stage 1 of the set's last column group
  // the sums in lacc_d are complete and are staged for the drain, with the
  // set's entries and whether they are real channels (g_ok, registered at
  // the fire).
  logic wu_fire, dr_start;
  assign wu_fire  = fire_i && g.is_wu;

  // Stage 1: the fire of the previous cycle (fire_q) and its counters
  // (set_first_q only for the assertion that the lanes start at zero).
  logic           fire_q, last_q, set_first_q, wu_first_q;
  logic           px_ok_q [P];
  logic [GAW-1:0] g_row_q;
  logic [T-1:0][T-1:0] g_ok_q;
  logic [T-1:0][T-1:0] g_ok;
  assign dr_start = fire_q && last_q;

  // rs(p, s) = floor((p + 2^(s-1)) / 2^s) = q + r with q = p >>> s and r
  // bit s-1 of p. The lanes do not shift: they add the terms scaled by
  // 2^s, each q*2^s (Q, the product with its bits below s cleared) plus
  // r*2^s, which is r at bit s-1 (R) of both operands of one adder: every
  // operand is otherwise a multiple of 2^s, so bit s-1 is free, and an
  // adder takes one R. The P products are summed first (adder k adds
  // Q_k | R_{k-1} to the sum so far, | R_{k-1}), then the lane's sum adds
  // that, both operands | R_{P-1}. So each operand bit is one LUT in front
  // of a carry-chain adder, and the one shift by s is the drain's (RT
  // entries a cycle instead of T*T*P products). The lane sums are
  // AW = AccWWu + 31 bits wide, enough for bits [s, s + AccWWu) at every
  // s <= 31. Products are exact in 32 bits (|p| <= 2^30); rs(p, 0) is p,
  // and rs(p, s) is 0 for every s >= 32 (masks of zero). Padded columns
  // (px_ok) get masks of zero, one pair per column shared by the lanes.
  logic        g_zero;        // s >= 32
  logic [31:0] keep_m, rnd_m; // bits >= s (all at s = 0); bit s-1
  logic [31:0] keep [P];
  logic [31:0] rnd  [P];
  assign g_zero = g.g_pre > 6'd31;
  always_comb begin
    for (int unsigned j = 0; j < 32; j++) begin
      keep_m[j] = !g_zero && 6'(j) >= g.g_pre;
      rnd_m[j]  = !g_zero && 6'(j + 1) == g.g_pre;
    end
    for (int unsigned p = 0; p < P; p++) begin
      keep[p] = px_ok_q[p] ? keep_m : '0;
      rnd[p]  = px_ok_q[p] ? rnd_m : '0;
    end
  end

  always_comb begin
    for (int unsigned m = 0; m < T; m++) begin
      for (int unsigned n = 0; n < T; n++) begin
        logic [31:0]        r_p [P];  // R_p: r at bit s-1
        logic signed [31:0] q_p [P];  // Q_p: q*2^s
        logic signed [SW-1:0] ps;     // the products' sum so far
        logic signed [31:0] qr;       // Q_p | R_{p-1}
        for (int unsigned p = 0; p < P; p++) begin
          r_p[p] = prod_i[p][m][n] & rnd[p];
          q_p[p] = prod_i[p][m][n] & keep[p];
        end
        ps = SW'(q_p[0]);
        for (int unsigned p = 1; p < P; p++) begin
          qr = q_p[p] | $signed(r_p[p-1]);
          ps = (ps | SW'(r_p[p-1])) + SW'(qr);
        end
        lacc_d[m][n] = (lacc_q[m][n] | AW'(r_p[P-1])) +
                       (AW'(ps) | AW'(r_p[P-1]));
        g_ok[m][n]   = ((mc_i + mtl_i) * T32 + 32'(m) < g.out_c) &&
                       ((nc_i + ntl_i) * T32 + 32'(n) < g.red_c);
      end
    end
  end

  ///////////
  // Drain //
  ///////////

  // The staged sums are written RT entries a cycle: block k (entries
  // k*RT..) at dr_n_q = GD - k, the read a cycle before. dr_n_q: drain
  // writes left.
  logic [T*T-1:0][AW-1:0] stg_q;
  logic [T*T-1:0]         stg_ok_q;
  logic              stg_first_q;
  logic [DCW-1:0]    dr_n_q;
  logic [EW-1:0]     dr_next_q;  // first entry of the drain's next read

  // dr_rd: the drain reads in this cycle. A last fire now starts its
  // drain in the next cycle, when the previous drain must not read.
  logic dr_rd;
  assign dr_rd    = 32'(dr_n_q) >= 32'd2;
  assign g_idle_o = dr_n_q == '0 && !dr_start;

  // A window of consecutive entries from base: entry base + o is in bank
  // (base + o) mod NB, at this row.
  function automatic logic [GBW-1:0] row_of(input logic [EW-1:0] base, input logic [LNB-1:0] o);
    return GBW'((base + EW'(o)) >> LNB);
  endfunction

  // The read of this cycle: the window from rd_base. The master stream's
  // is at the next cycle's pointer times T: the pointer picked by ctrl's
  // move flags (not ptr_d, which leaves the main machine late), times T as
  // shifts and adds (wiring alone at a power-of-two T, whose low bits are
  // then constant zero; two products picked by the flags instead cost
  // conv_wu 3 more MULT18 at T = 4, 9 for its SGD stage instead of 6). A
  // new phase restarts the pointer at 0 (conv_ctrl asserts it), whose
  // window is entry 0 in either phase, so the current phase picks the
  // mapping.
  logic [31:0]   pt_d;
  logic [EW-1:0] rd_base;
  logic          rd_par;  // master stream: ptr*T is odd (odd T only)
  assign pt_d = times_const(ptr_clr_i ? '0 : ptr_inc_i ? ptr_i + 32'd1 : ptr_i, T);
  always_comb begin
    rd_par = pt_d[0];
    if (dr_start) begin
      rd_base = EW'(g_row_q);
    end else if (dr_rd) begin
      rd_base = dr_next_q;
    end else if (phase_i == PhW16) begin
      rd_base = EW'(pt_d);
    end else begin
      rd_base = EW'(pt_d >> 1);
    end
  end

  // Banks.
  logic [LNB-1:0] rd_lo, rlo_q;
  logic [EW-1:0]  rbase_q;
  logic           rpar_q;
  logic [GBW-1:0] rrow [NB];
  logic           b_we    [NB];
  logic [GBW-1:0] b_wrow  [NB];
  logic [GW-1:0]  b_wdata [NB];
  logic [GW-1:0]  b_rdata [NB];
  assign rd_lo = LNB'(rd_base);
  for (genvar b = 0; b < NB; b++) begin : g_bank
    // The window's entry in bank b: rd_base + ((b - rd_lo) mod NB).
    assign rrow[b] = row_of(rd_base, LNB'(LNB'(b) - rd_lo));
    hlsk_ram_1r1w #(
      .Width      (GW),
      .Depth      (GB),
      .WriteFirst (1)
    ) u_bank (
      .clk_i   (clk_i),
      .we_i    (b_we[b]),
      .waddr_i (b_wrow[b]),
      .wdata_i (b_wdata[b]),
      .re_i    (1'b1),
      .raddr_i (rrow[b]),
      .rdata_o (b_rdata[b])
    );
  end

  // The window read in the previous cycle: win[o] is entry rbase_q + o.
  logic [GW-1:0] win [NB];
  always_comb begin
    for (int unsigned o = 0; o < NB; o++) begin
      win[o] = b_rdata[LNB'(rlo_q + LNB'(o))];
    end
  end

  // The drain's rows: the staged sums scaled back by 2^-g_pre (bits
  // [g_pre, g_pre + AccWWu); all zero at g_pre >= 32, whatever the shift).
  // (Entries from RT on are never written.)
  logic [AccWWu-1:0] dr_sum [NB];
  logic              dr_ok  [NB];
  logic [DCW-1:0]    dr_k;  // the block written
  assign dr_k = DCW'(GD) - dr_n_q;
  always_comb begin
    for (int unsigned o = 0; o < NB; o++) begin
      logic [AW-1:0] e;
      e         = '0;
      dr_ok[o]  = 1'b0;
      for (int unsigned k = 0; k < GD; k++) begin
        if (o < RT && 32'(dr_k) == k) begin
          e        = stg_q[k * RT + o];
          dr_ok[o] = stg_ok_q[k * RT + o];
        end
      end
      dr_sum[o] = AccWWu'(e >> g.g_pre[4:0]);
    end
  end

  // Writes go to the window read in the previous cycle (entry rbase_q + o
  // in bank b): the drain's rows (o < RT, at dr_n_q != 0), else a master
  // read beat's updated masters (that window is the beat's, asserted).
  logic              dr_we;
  logic [AccWWu-1:0] m_new [T];
  logic signed [DW-1:0] sgd_prod_q [T];  // SGD stage (below)
  logic                 sgd_ok_q   [T];
  logic              mrd_beat;
  assign dr_we    = dr_n_q != '0;
  assign mrd_beat = beat_i && phase_i == PhMRd;
  always_comb begin
    for (int unsigned b = 0; b < NB; b++) begin
      logic [LNB-1:0] o;
      logic [31:0]    lane;
      // (A drain's window starts at bank 0 when Aligned: no rotation.)
      o          = LNB'(LNB'(b) - ((Aligned && dr_we) ? '0 : rlo_q));
      // Master q/2 of an odd q = ptr*T + lane is window entry o with
      // lane = 2o + 1 - par.
      lane       = 2 * 32'(o) + 32'd1 - 32'(rpar_q);
      b_wrow[b]  = row_of(rbase_q, o);
      b_we[b]    = 1'b0;
      b_wdata[b] = '0;
      if (dr_we) begin
        b_we[b]    = 32'(o) < RT;
        b_wdata[b] = {dr_ok[o],
                      (stg_first_q ? '0 : b_rdata[b][AccWWu-1:0]) + dr_sum[o]};
      end else if (mrd_beat) begin
        b_we[b]    = lane < T32;
        b_wdata[b] = {sgd_ok_q[lane[LW-1:0]], m_new[lane[LW-1:0]]};
      end
    end
  end

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
  // beat); the beat then shifts, subtracts and saturates. Stage 1 takes
  // the window read for the next pointer in the previous cycle (the beat pointer's
  // masters and the next one's) and multiplies for both, and only the last
  // step picks one by `beat`, so the state machine's control is not in
  // front of the buffer read and the multiplier. (A phase restarting at
  // pointer 0 always passes StReq, a cycle without a beat at ptr_q = 0,
  // before its first beat.)
  logic [BeatW+15:0]    m_words;  // {beat, pending low word}
  assign m_words = {rd_data_i, pend_q};
  logic [GW-1:0]        sgd_g    [2][T];  // [0]: at ptr_q, [1]: at ptr_q + 1
  logic signed [DW-1:0] sgd_prod [2][T];
  always_comb begin
    for (int unsigned a = 0; a < 2; a++) begin
      for (int unsigned i = 0; i < T; i++) begin
        sgd_g[a][i]    = win[LNB'((a * T + i + 32'(rpar_q)) >> 1)];
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
      logic signed [31:0]     master;
      logic signed [DW-1:0]   sh;
      logic                   rbit;
      logic signed [DW:0]     diff;
      logic [DW:31]           hi;
      master   = $signed(m_words[16*i +: 32]);
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

  // WU write-back words, from the window read a cycle before:
  // masters (low word first; word q = ptr*T + i is entry q/2, window
  // offset (i + par)/2), then the w16 copy sat16(rs(master', MF)) (entry
  // ptr*T + i, offset i).
  always_comb begin
    for (int unsigned i = 0; i < T; i++) begin
      logic [31:0]        qo;  // word q's offset from the window's first word
      logic signed [31:0] mst;
      logic signed [31:0] r;
      qo  = 32'(i) + 32'(rpar_q);
      mst = $signed(win[LNB'(qo >> 1)][31:0]);
      mw_data_o[16*i +: 16] = qo[0] ? mst[31:16] : mst[15:0];
      mst = $signed(win[LNB'(i)][31:0]);
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

  // g_busy_o (the drain reads in the next cycle: dr_n_q >= 3, or a drain
  // starts now and takes two cycles or more) is a register, set a cycle
  // ahead from the next drain count and whether this cycle's fire ends a
  // set (the next cycle's dr_start), so that conv_ctrl's hold starts at a
  // flip-flop. (Asserted against the formula.)
  logic [DCW-1:0] dr_n_d;
  logic           g_busy_q;
  assign dr_n_d   = dr_start ? DCW'(GD) : dr_we ? dr_n_q - DCW'(1) : dr_n_q;
  assign g_busy_o = g_busy_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      dr_n_q   <= '0;
      g_busy_q <= 1'b0;
    end else begin
      dr_n_q   <= dr_n_d;
      g_busy_q <= 32'(dr_n_d) >= 32'd3 || (wu_fire && set_last_i && GD >= 2);
    end
  end

  // Stages (no reset).
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      fire_q <= 1'b0;
    end else begin
      fire_q <= wu_fire;
    end
  end

  always_ff @(posedge clk_i) begin
    last_q      <= set_last_i;
    set_first_q <= (x_i == 0) && (r_i == 0);
    wu_first_q  <= (b_i == 0) && (row0_i == 0);
    px_ok_q     <= px_ok_i;
    g_row_q     <= g_row_i;
    g_ok_q      <= g_ok;
    // A set's sums restart at zero after its last fire (staged then) and
    // at a descriptor's start (no mux in front of the lanes' adders).
    for (int unsigned m = 0; m < T; m++) begin
      for (int unsigned n = 0; n < T; n++) begin
        if (start_i || dr_start) begin
          lacc_q[m][n] <= '0;
        end else if (fire_q) begin
          lacc_q[m][n] <= lacc_d[m][n];
        end
      end
    end
    rbase_q <= rd_base;
    rlo_q   <= rd_lo;
    rpar_q  <= rd_par;
    if (dr_start) begin
      for (int unsigned m = 0; m < T; m++) begin
        for (int unsigned n = 0; n < T; n++) begin
          stg_q[m * T + n]    <= lacc_d[m][n];
          stg_ok_q[m * T + n] <= g_ok_q[m][n];
        end
      end
      stg_first_q <= wu_first_q;
      dr_next_q   <= EW'(g_row_q) + EW'(RT);
    end else if (dr_rd) begin
      dr_next_q <= dr_next_q + EW'(RT);
    end
    if (beat_i) pend_q <= rd_data_i[BeatW-16 +: 16];
  end

  ////////////////
  // Assertions //
  ////////////////

  // The window of the current beat's pointer, recomputed for the checks.
  logic [EW-1:0] m_base;
  logic          m_par;
  always_comb begin
    logic [31:0] pt;
    pt     = ptr_i * T32;
    m_base = EW'(pt >> 1);
    m_par  = pt[0];
  end

  // The SGD stage multiplied the window of the beat's pointer (read at
  // ptr_d a cycle before it, not a drain's rows).
  logic        sgd_src_ok_q;
  logic [31:0] sgd_ptr_q;
  always_ff @(posedge clk_i) begin
    sgd_src_ok_q <= rbase_q == m_base && rpar_q == m_par;
    sgd_ptr_q    <= ptr_i + 32'(beat_i);
  end

  // A step's first set ends at least 9 cycles after the previous step's
  // last (StNext, 4 plan cycles, StStep, the dO tile's request and beat),
  // so a drain of at most 8 cycles never holds it (the model's premise).
  initial begin
    assert (GD <= 8) else $error("T = %0d: gradient drain of %0d cycles (at most 8)", T, GD);
  end

  // A set's first fire adds to lane sums of zero.
  for (genvar m = 0; m < T; m++) begin : g_chk_m
    for (genvar n = 0; n < T; n++) begin : g_chk_n
      always_ff @(posedge clk_i) begin
        if (rst_ni && fire_q && set_first_q) begin
          assert (lacc_q[m][n] == '0) else $error("lane (%0d, %0d) not cleared at a set's start", m, n);
        end
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (g_busy_q == (32'(dr_n_q) >= 32'd3 || (dr_start && GD >= 2)))
        else $error("g_busy out of step with the drain");
    end
    if (rst_ni && dr_start) begin
      assert (!dr_rd) else $error("a set ended while the drain still reads");
      assert (!Aligned || LNB'(g_row_q) == '0) else $error("gradient row %0d not bank-aligned", g_row_q);
    end
    if (rst_ni && beat_i && (phase_i == PhMRd || phase_i == PhMWr || phase_i == PhW16)) begin
      assert (dr_n_q == '0 && !dr_start) else $error("master beat during the gradient drain");
      // The window read a cycle before is this beat's.
      assert (rbase_q == ((phase_i == PhW16) ? EW'(ptr_i * T32) : m_base) &&
              rpar_q == m_par)
        else $error("gradient window out of step at beat %0d", ptr_i);
    end
    if (rst_ni && mrd_beat) begin
      assert (sgd_src_ok_q && sgd_ptr_q == ptr_i)
        else $error("SGD stage out of step at beat %0d", ptr_i);
    end
    if (rst_ni && beat_i && (phase_i == PhMRd || phase_i == PhMWr)) begin
      assert ((ptr_i * T32 + T32 - 1) / 2 < 32'(GEnt))
        else $error("master beat %0d beyond the gradient buffer", ptr_i);
    end
    if (rst_ni && beat_i && phase_i == PhW16) begin
      assert (ptr_i * T32 + T32 <= 32'(GEnt))
        else $error("w16 beat %0d beyond the gradient buffer", ptr_i);
    end
  end

endmodule
