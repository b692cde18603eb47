// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Buffer address generators of the training-convolution engine: from the
// compute counters of conv_ctrl, the indexes of the input buffer (the P
// columns a fire reads), the output buffer (the accumulators a fire
// read-modify-writes), the weight buffer (the beat the shadow weight
// registers take next, FP or BP's transpose and flip), the WU gradient
// buffer row, and the pool unit's input, argmax and output entries; also
// the next (m tile, n tile, ky, kx) set of the step.
//
// Timing: the output and pool indexes and the next set are registers
// computed from the next cycle's counters (the *_d inputs), so in any cycle
// they equal functions of the current counters; the per-step products they
// use are registered from the step's extent while the plan cycles run. The
// input and weight buffers read through registered block-RAM ports, so
// their indexes are given a cycle ahead: ib_idx_d_o, pix_ib_d_o and
// wb_idx_d_o are the indexes of the next cycle (from the *_d inputs and the
// D sides of the registers they use), combinational. g_row_o is
// combinational from registers; in_ok_o and px_ok_o are registers. All
// index arithmetic wraps at the buffers' address widths, as the addresses
// do. In simulation, assertions compare every
// index with its 32-bit formula in each cycle it is used (synthesis leaves
// them out). rst_ni only qualifies the assertions.

module conv_addr_gen
  import conv_pkg::*;
#(
  parameter int unsigned T       = 2,
  parameter int unsigned P       = 1,
  parameter int unsigned InWords = 2048,
  parameter int unsigned WWords  = 1024,
  parameter int unsigned OutEnt  = 1024,
  parameter int unsigned GEnt    = 512,
  // Derived; do not override.
  localparam int unsigned InBeats  = InWords / T,
  localparam int unsigned WBeats   = WWords / T,
  localparam int unsigned OutBeats = OutEnt / T,
  localparam int unsigned WAW      = (WBeats > 1) ? $clog2(WBeats) : 1,
  localparam int unsigned OutAW    = (OutBeats > 1) ? $clog2(OutBeats) : 1,
  localparam int unsigned GAW      = (GEnt > 1) ? $clog2(GEnt) : 1,
  localparam int unsigned IbAW     = $clog2(2 * InBeats),
  localparam int unsigned PW       = (P > 1) ? $clog2(P) : 1
) (
  input  logic             clk_i,
  input  logic             rst_ni,

  // Descriptor and step
  input  conv_geom_t       geom_i,
  /* verilator lint_off UNUSEDSIGNAL */
  input  extent_t          ext_i,   // the step's extent (nrin, lo: input geometry)
  /* verilator lint_on UNUSEDSIGNAL */
  input  logic [31:0]      row0_i,

  // Main machine: state, compute counters (current and next cycle's)
  input  state_e           state_i,
  input  state_e           state_d_i,
  input  logic             fill_now_i,  // the shadow takes beat wb_idx_o this cycle
  input  logic             set_last_i,  // the set's last column group fires
  input  logic             set_mv_i,    // the set moves on to the next set (nxs) this cycle
  input  logic [31:0]      mtl_i,
  input  logic [31:0]      ntl_i,
  input  logic [31:0]      ky_i,
  input  logic [31:0]      kx_i,
  input  logic [31:0]      mi_i,
  input  logic [31:0]      r_i,
  input  logic [31:0]      x_i,
  input  logic [31:0]      mtl_d_i,
  input  logic [31:0]      ntl_d_i,
  input  logic [31:0]      ky_d_i,
  input  logic [31:0]      kx_d_i,
  input  logic [31:0]      r_d_i,
  input  logic [31:0]      x_d_i,
  input  logic [31:0]      ptr_i,     // the phase's beat index (drain, dO load)
  input  logic             ptr_clr_i, // next cycle's beat index: 0,
  input  logic             ptr_inc_i, // ... ptr_i + 1 (else ptr_i)
  /* verilator lint_off UNUSEDSIGNAL */
  input  logic [31:0]      mi_d_i,  // wraps at the weight buffer's address width
  input  cnt_mv_t          mv_i,    // how the counters move (kx's is not needed)
  /* verilator lint_on UNUSEDSIGNAL */

  // Fire: input buffer entries of the P columns (next cycle's), their
  // validity
  output logic [IbAW-1:0]  ib_idx_d_o [P],
  output logic             in_ok_o  [P],  // column in range, input pixel not padding
  output logic             px_ok_o  [P],  // column in range
  output logic [OutAW-1:0] ob_fi_o,       // accumulator entry of column 0
  output logic [OutAW-1:0] ob_fi_d_o,     // ... in the next cycle

  // Output buffer banks (see below): the column mod P of the drain's or dO
  // load's beat ptr_i (and of the next cycle's), and of the pool's pixel
  output logic [PW-1:0]    ob_cr_o,
  output logic [PW-1:0]    ob_cr_d_o,
  output logic [PW-1:0]    pix_xr_o,

  // Shadow weight fill: the target set and its weight-buffer beat
  output logic             has_next_o,    // the step has a set after this one
  output logic [31:0]      s_mtl_o,
  output logic [31:0]      s_ntl_o,
  output logic [WAW-1:0]   wb_idx_d_o,    // next cycle's

  // WU: the gradient buffer row of the current set
  output logic [GAW-1:0]   g_row_o,

  // Pools: input (next cycle's), argmax and output entries
  output logic [IbAW-1:0]  pix_ib_d_o,
  output logic [OutAW-1:0] pix_cb_o,
  output logic [OutAW-1:0] pix_cb_d_o,    // next cycle's
  output logic [OutAW-1:0] pix_ob_o
);

  localparam logic [31:0] T32 = 32'(T);

  // The descriptor's fields and geometry (each unit reads the ones it needs).
  /* verilator lint_off UNUSEDSIGNAL */
  conv_geom_t g;
  /* verilator lint_on UNUSEDSIGNAL */
  assign g = geom_i;

  logic [31:0] mtn, ntn, nr, lo, nrin;
  assign mtn  = ext_i.mtn;
  assign ntn  = ext_i.ntn;
  assign nr   = ext_i.nr;
  assign lo   = ext_i.lo;
  assign nrin = ext_i.nrin;

  ///////////////////////
  // Per-step products //
  ///////////////////////

  // Per-step products of the index arithmetic, registered from the step's
  // extent (settled during the plan cycles), in the buffers' address
  // widths: the index arithmetic wraps there, as the buffer addresses do.
  // (The strides of an m tile are not products: when mtl moves, the row
  // counter is at the tile's last row, so the next tile starts one row
  // stride past the last row's term; see the scaled counters below.)
  // nrin * iw and BP's mtn * kk are shift-adds over the PlanCycles cycles
  // of StPlan (the extent is loaded with the step's counters as StPlan
  // starts and holds through the step): in plan cycle j, NB bits of nrin
  // and two bits of kk (at most 225) add their shifted multiples.
  localparam int unsigned NB = (IbAW + PlanCycles - 1) / PlanCycles;
  localparam int unsigned PcW = $clog2(PlanCycles);
  logic [IbAW-1:0]  nrinw_q, ib_c_q;
  logic [WAW-1:0]   wsel_kk_q;  // BP: mtn * kk
  logic [PcW-1:0]   pc_q;       // plan cycle
  logic [IbAW-1:0]  nrinw_d;
  logic [WAW-1:0]   wsel_kk_d;
  always_comb begin
    logic [31:0] nb, kb, nsh;
    nrinw_d   = (pc_q == '0) ? '0 : nrinw_q;
    wsel_kk_d = (pc_q == '0) ? '0 : wsel_kk_q;
    nsh       = times_const(32'(pc_q), NB);  // NB * pc_q
    nb        = nrin >> nsh;
    kb        = g.kk >> (2 * 32'(pc_q));
    for (int unsigned i = 0; i < NB; i++) begin
      if (nb[i]) nrinw_d = nrinw_d + (IbAW'(g.iw) << (nsh + i));
    end
    for (int unsigned i = 0; i < 2; i++) begin
      if (kb[i]) wsel_kk_d = wsel_kk_d + (WAW'(mtn) << (2 * 32'(pc_q) + i));
    end
  end
  // (pad + lo - row0) * iw: at most 15 rows of padding above the band, as
  // shifts and adds.
  logic [3:0]       pad_rows;
  logic [IbAW-1:0]  pad_w;
  assign pad_rows = 4'(g.pad + lo - row0_i);
  always_comb begin
    pad_w = '0;
    for (int unsigned i = 0; i < 4; i++) begin
      if (pad_rows[i]) pad_w = pad_w + (IbAW'(g.iw) << i);
    end
  end
  always_ff @(posedge clk_i) begin
    pc_q <= (state_i == StPlan) ? pc_q + PcW'(1) : '0;
    if (state_i == StPlan) begin
      nrinw_q   <= nrinw_d;
      wsel_kk_q <= wsel_kk_d;
    end
    // (row0 - pad - lo) * iw - pad: the input row and column offsets.
    ib_c_q    <= -pad_w - IbAW'(g.pad);
  end

  //////////////////
  // Fire indexes //
  //////////////////

  // Fire: P adjacent output columns x + p (those below ow), their input
  // pixels (padded coordinates) and accumulator entries. The buffer indexes
  // are registers computed from the next cycle's counters (so they equal
  // functions of the current counters, which the assertions check against
  // the 32-bit formulas), as sums of scaled counters (conv_pkg::scaled).
  // The strides are the step's, and every counter starts the step at zero.

  // ntl * nrin * iw, ky * iw, r * iw (input); mtl * nr * ow, r * ow (output).
  logic [31:0] s_nt_q, s_ky_q, s_ri_q, s_mt_q, s_ro_q;
  logic [31:0] s_nt_d, s_ky_d, s_ri_d, s_mt_d, s_ro_d;
  always_comb begin
    s_nt_d = scaled_mv(mv_i.ntl, s_nt_q, 32'(nrinw_q));
    s_ky_d = scaled_mv(mv_i.ky, s_ky_q, g.iw);
    s_ri_d = scaled_mv(mv_i.r, s_ri_q, g.iw);
    // mtl * nr * ow: the next m tile starts a row past the last row's r * ow.
    s_mt_d = scaled_mv(mv_i.mtl, s_mt_q, s_ro_q + g.ow);
    s_ro_d = scaled_mv(mv_i.r, s_ro_q, g.ow);
  end

  // Column range and padding of the P columns, registered from the next
  // cycle's counters (row0 holds through a step's compute): they mask the
  // input and gate the accumulators, and would otherwise sit in front of
  // the multipliers. The assertions compare them with the current
  // counters' formula.
  function automatic logic [1:0] col_ok(input logic [31:0] row0, r, ky, x, kx,
                                        input int unsigned p);
    logic [31:0] iy, ix;
    logic        px;
    iy = row0 + r + ky;
    ix = x + 32'(p) + kx;
    px = x + 32'(p) < g.ow;
    return {px, px && (iy >= g.pad) && (iy - g.pad < g.ih) && (ix >= g.pad) &&
                (ix - g.pad < g.iw)};
  endfunction

  logic [31:0] iy_p;  // (the assertions' input row)
  assign iy_p = row0_i + r_i + ky_i;
  always_ff @(posedge clk_i) begin
    for (int unsigned p = 0; p < P; p++) begin
      {px_ok_o[p], in_ok_o[p]} <= col_ok(row0_i, r_d_i, ky_d_i, x_d_i, kx_d_i, p);
    end
  end

  assign ob_fi_d_o = OutAW'(s_mt_d + s_ro_d + x_d_i);

  // The input indexes of the next cycle, and their registers (which the
  // assertions check).
  logic [IbAW-1:0] ib_idx_q [P];
  always_comb begin
    for (int unsigned p = 0; p < P; p++) begin
      ib_idx_d_o[p] = IbAW'(s_nt_d + s_ky_d + s_ri_d + x_d_i + kx_d_i) + ib_c_q + IbAW'(p);
    end
  end

  // The next set, registered: next_set of the next cycle's counters, known
  // from registers (see the shadow fill below).
  set_t nxs_q, nxs_d;
  logic           zero_d;  // the next cycle's set is the step's first
  assign zero_d = state_i == StStep;
  set_t nn, nz;  // the set after nxs_q, the set after the first
  // Which of nxs_q's counters are at their last value (kx = k - 1, ...),
  // kept beside it (nxl_q), so that the set after it (nn) and how it
  // moves there are functions of registers and equality compares, not of
  // 32-bit increments and compares (the weight index's path, 28 ns at
  // 8d0c27b). The last values and the ones before them are registered
  // from the descriptor and the step's extents (stable for the cycles of
  // the step's plan, before its first set).
  lst_t        nxl_q, nxl_d, nnl, nzl, zl;
  logic [31:0] k1_q, k2_q, nt1_q, nt2_q, mt1_q, mt2_q;  // k - 1, k - 2, ...
  assign zl = '{kx: k1_q == '0, ky: k1_q == '0, ntl: nt1_q == '0, mtl: mt1_q == '0};
  always_comb begin
    {nn, nnl} = next_set_l(nxs_q, nxl_q);
    {nz, nzl} = next_set_l('{mtl: '0, ntl: '0, ky: '0, kx: '0, has: 1'b1}, zl);
  end
  // How the set after a set moves: to another m tile, to another n tile
  // (else within the block's slices; an n-tile move is only looked at when
  // there is no m-tile move). From the current set (to nxs_q), from nxs_q
  // (to nn) and from the first set (to nz).
  logic cur_mt, cur_nt, nx_mt, nx_nt, z_mt, z_nt;
  assign cur_mt = nxs_q.mtl != mtl_i;
  assign cur_nt = nxs_q.ntl != ntl_i;
  assign nx_mt  = nxl_q.kx && nxl_q.ky && nxl_q.ntl && !nxl_q.mtl;
  assign nx_nt  = nxl_q.kx && nxl_q.ky && !nxl_q.ntl;
  assign z_mt   = nz.mtl != '0;
  assign z_nt   = nz.ntl != '0;
  assign nxs_d      = zero_d ? nz : set_mv_i ? nn : nxs_q;
  assign nxl_d      = zero_d ? nzl : set_mv_i ? nnl : nxl_q;
  assign has_next_o = nxs_q.has;

  // next_set of a set s whose last flags are l, and the next set's last
  // flags: increments feed registers only, the flags are equality
  // compares against the registered last values (asserted against
  // next_set and the direct compares).
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic logic [$bits(set_t)+$bits(lst_t)-1:0] next_set_l(input set_t s,
                                                                    input lst_t l);
  /* verilator lint_on UNUSEDSIGNAL */
    set_t n;
    lst_t nl;
    n  = '{mtl: s.mtl, ntl: s.ntl, ky: s.ky, kx: '0, has: 1'b1};
    nl = '{kx: k1_q == '0, ky: l.ky, ntl: l.ntl, mtl: l.mtl};
    if (!l.kx) begin
      n.kx  = s.kx + 1;
      nl.kx = s.kx == k2_q;
    end else if (!l.ky) begin
      n.ky  = s.ky + 1;
      nl.ky = s.ky == k2_q;
    end else if (!l.ntl) begin
      n.ky   = '0;
      n.ntl  = s.ntl + 1;
      nl.ky  = k1_q == '0;
      nl.ntl = s.ntl == nt2_q;
    end else if (!l.mtl) begin
      n.ky   = '0;
      n.ntl  = '0;
      n.mtl  = s.mtl + 1;
      nl.ky  = k1_q == '0;
      nl.ntl = nt1_q == '0;
      nl.mtl = s.mtl == mt2_q;
    end else begin
      n.has = 1'b0;
    end
    return {n, nl};
  endfunction

  /////////////////////////
  // Shadow weight fill  //
  /////////////////////////

  // The shadow's target set: the current set while waiting in StWLoad
  // (start of a step, or a set shorter than T cycles), else the next set
  // while the current one fires.
  logic [31:0] s_ky, s_kx;
  assign s_mtl_o = (state_i == StWLoad) ? mtl_i : nxs_q.mtl;
  assign s_ntl_o = (state_i == StWLoad) ? ntl_i : nxs_q.ntl;
  assign s_ky    = (state_i == StWLoad) ? ky_i : nxs_q.ky;
  assign s_kx    = (state_i == StWLoad) ? kx_i : nxs_q.kx;
  // The sets of a step are walked in one order (kx, ky, n tile, m tile,
  // innermost first) and every change of the compute counters moves to the
  // next set, so the set's number is a counter (set_q). WU's gradient row
  // is that number times T * T.
  //
  // Weight-buffer index of the shadow's target set (the current set in
  // StWLoad, else the next one), row or column mi, for the next cycle (no
  // multiplier): FP's blocks (mtl, ntl) and slices (ky, kx) are stored in
  // the walk's order, so FP's index is the target's set number times T plus
  // mi. BP reads block (ntl, mtl) of the forward weights, slice
  // (K-1-ky, K-1-kx): bk = (ntl * mtn + mtl) * kk and the slice sl = ky * k
  // + kx are counters too (sl steps by one within a block; bk by mtn * kk
  // with the n tile, and restarts at mtl * kk, mk, with the m tile), and the
  // index is (bk + kk - 1 - sl) * T + mi. wb_idx_q (the index's register) is
  // checked against the formula.
  //
  // Timing: the weight index is the longest path of the engine if it is
  // computed from the next cycle's counters (they come out of conv_ctrl's
  // loop nest). It is not: the next cycle's set is one of three, each known
  // from registers: the first set (state StStep, which zeroes the counters),
  // the next set nxs_q (set_mv_i: the set's last column group fires and a
  // set follows), or the current set. Likewise the set after the next
  // cycle's set: next_set of the first set, of nxs_q (nn), or nxs_q. The
  // index is computed in full for each of the three, for the set itself
  // and for the one after it, and only the late selects (the set move,
  // StWLoad in the next cycle, mi's next value) come after the adders
  // (since the thirteenth session: the next state was the start of a
  // 29 ns path through the block and slice adders). (The pools move the
  // counters otherwise; their sets are never used and StStep restarts
  // them.)

  logic [31:0]    set_q, set_d;
  logic [WAW-1:0] mk_q, mk_d, bk_q, bk_d, sl_q, sl_d;
  logic [WAW-1:0] mk_m, bk_m, sl_m;  // nxs_q's (what a set move loads)
  assign mk_m = cur_mt ? mk_q + WAW'(g.kk) : mk_q;
  assign bk_m = cur_mt ? mk_q + WAW'(g.kk) : cur_nt ? bk_q + wsel_kk_q : bk_q;
  assign sl_m = (cur_mt || cur_nt) ? '0 : sl_q + WAW'(1);
  always_comb begin
    if (zero_d) begin
      set_d = '0;
      mk_d  = '0;
      bk_d  = '0;
      sl_d  = '0;
    end else if (set_mv_i) begin
      set_d = set_q + 1;
      mk_d  = mk_m;
      bk_d  = bk_m;
      sl_d  = sl_m;
    end else begin
      set_d = set_q;
      mk_d  = mk_q;
      bk_d  = bk_q;
      sl_d  = sl_q;
    end
  end

  // The target's block-and-slice number, times T: for each of the three
  // sets the next cycle can have (the first, nxs_q, the current one), both
  // for that set itself (the next cycle waits in StWLoad) and for the set
  // after it (which moves to another m tile, n tile or slice as a_mt,
  // a_nt say), all from registers. The late selects (the set move, the
  // next state, mi's next value) come last, as multiplexers and, at a
  // power-of-two T, the OR of mi into the zero low bits.
  function automatic logic [2*WAW-1:0] wb_pair(input logic [WAW-1:0] set, mk, bk, sl,
                                                input logic a_mt, a_nt);
    logic [WAW-1:0] own, aft, abk, asl;
    own = g.is_bp ? bk + WAW'(g.kk) - WAW'(1) - sl : set;
    abk = a_mt ? mk + WAW'(g.kk) : a_nt ? bk + wsel_kk_q : bk;
    asl = (a_mt || a_nt) ? '0 : sl + WAW'(1);
    aft = g.is_bp ? abk + WAW'(g.kk) - WAW'(1) - asl : set + WAW'(1);
    return {WAW'(times_const(32'(own), T)), WAW'(times_const(32'(aft), T))};
  endfunction

  logic [WAW-1:0] wb_idx_q, wb_own, wb_aft, wb_t;
  logic           st_wl_d;  // the next cycle waits in StWLoad: its target is its own set
  assign st_wl_d = state_d_i == StWLoad;
  always_comb begin
    logic [2*WAW-1:0] pz, pm, ph;
    pz = wb_pair('0, '0, '0, '0, z_mt, z_nt);
    pm = wb_pair(WAW'(set_q + 1), mk_m, bk_m, sl_m, nx_mt, nx_nt);
    ph = wb_pair(WAW'(set_q), mk_q, bk_q, sl_q, cur_mt, cur_nt);
    {wb_own, wb_aft} = zero_d ? pz : set_mv_i ? pm : ph;
  end
  assign wb_t = st_wl_d ? wb_own : wb_aft;
  if ((T & (T - 1)) == 0) begin : g_wb_or
    // (mi < T where the index is used: checked with wb_idx_q below.)
    assign wb_idx_d_o = wb_t | WAW'(mi_d_i);
  end else begin : g_wb_add
    assign wb_idx_d_o = wb_t + WAW'(mi_d_i);
  end

  assign g_row_o = GAW'(times_const(32'(set_q), T * T));

  ///////////////////
  // Pool indexes  //
  ///////////////////

  // POOL_FWD: four cycles per pooled pixel over its 2x2 window (cand =
  // {ky, kx}); POOL_BWD: one cycle per input-size pixel. Registered as the
  // fire's, from sums of scaled counters (no multiplier):
  //   POOL_FWD: ib = mtl*pp_ib + r*2w + ky*w + 2x + kx, cb = mtl*pp_cb + r*cw
  //             + x/8, ob = mtl*nrow + r*ow + x;
  //   POOL_BWD: ib = mtl*pp_ib + (r/2)*ow + x/2, cb = mtl*pp_cb + (r/2)*cw
  //             + x/16, ob = mtl*pp_ob + r*w + x.
  // The pools' counters move by one (x, then r, then mtl); r/2 moves when r
  // moves to an even row.
  typedef struct packed {
    logic [IbAW-1:0]  ib;
    logic [OutAW-1:0] cb;
    logic [OutAW-1:0] ob;
  } pool_idx_t;

  logic [31:0] s_pmi_q, s_pmi_d, s_pmc_q, s_pmc_d, s_pmo_q, s_pmo_d;  // mtl * ...
  logic [31:0] s_pri_q, s_pri_d, s_prc_q, s_prc_d, s_pro_q, s_pro_d;  // r (or r/2) * ...
  always_comb begin
    logic half;  // the row term moves with r (POOL_FWD), or with r/2 (POOL_BWD: r to even)
    half    = g.is_pf || r_i[0];
    // mtl times the tile's rows: when mtl moves, r is at the tile's last row,
    // so the next tile starts one row stride past that row's term.
    s_pmi_d = scaled_mv(mv_i.mtl, s_pmi_q, s_pri_q + (g.is_pf ? 2 * g.w : g.ow));
    s_pmc_d = scaled_mv(mv_i.mtl, s_pmc_q, s_prc_q + g.cw);
    s_pmo_d = scaled_mv(mv_i.mtl, s_pmo_q, s_pro_q + (g.is_pf ? g.ow : g.w));
    s_pri_d = scaled_mv(mv_i.r, s_pri_q, !half ? '0 : g.is_pf ? 2 * g.w : g.ow);
    s_prc_d = scaled_mv(mv_i.r, s_prc_q, !half ? '0 : g.cw);
    s_pro_d = scaled_mv(mv_i.r, s_pro_q, g.is_pf ? g.ow : g.w);
  end

  function automatic pool_idx_t pool_index(input logic [31:0] x, input logic ky, kx);
    pool_idx_t i;
    if (g.is_pf) begin
      i.ib = IbAW'(s_pmi_d + s_pri_d + (ky ? g.w : '0) + 2 * x + 32'(kx));
      i.cb = OutAW'(s_pmc_d + s_prc_d + x / 8);
    end else begin
      i.ib = IbAW'(s_pmi_d + s_pri_d + x / 2);
      i.cb = OutAW'(s_pmc_d + s_prc_d + x / 16);
    end
    i.ob = OutAW'(s_pmo_d + s_pro_d + x);
    return i;
  endfunction

  //////////////////////////
  // Output buffer banks  //
  //////////////////////////

  // The output buffer is P banks: entry e, in column c of its row (rows of
  // ow entries; w for POOL_BWD's input-size tile), lives in bank c mod P at
  // row e - (c mod P). A fire's P columns (c a multiple of P) then share
  // one row, one per bank, and no two entries share a bank and a row. The
  // column mod P follows the pools' x and the drain's or dO load's beat
  // index (which restarts at 0 with each phase).
  function automatic logic [PW-1:0] inc_mod(input logic [PW-1:0] v);
    return (32'(v) + 1 == 32'(P)) ? '0 : v + PW'(1);
  endfunction

  logic [PW-1:0] xr_q, xr_d, cr_q, cr_d;
  logic [31:0]   oc_q, oc_d, orw;  // the beat's column, the row width
  assign orw = g.is_pb ? g.w : g.ow;
  always_comb begin
    // x moves to 0, by 1 (pools) or by P (fire: c mod P stays).
    xr_d = (mv_i.x == MvClr) ? '0 :
           (mv_i.x == MvInc && state_i == StPool) ? inc_mod(xr_q) : xr_q;
    oc_d = oc_q;
    cr_d = cr_q;
    if (ptr_clr_i) begin
      oc_d = '0;
      cr_d = '0;
    end else if (ptr_inc_i) begin
      oc_d = (oc_q + 1 == orw) ? '0 : oc_q + 1;
      cr_d = (oc_q + 1 == orw) ? '0 : inc_mod(cr_q);
    end
  end
  assign ob_cr_o   = cr_q;
  assign ob_cr_d_o = cr_d;
  assign pix_xr_o  = xr_q;

  pool_idx_t pix_q, pix_d;
  assign pix_d      = pool_index(x_d_i, ky_d_i[0], kx_d_i[0]);
  assign pix_ib_d_o = pix_d.ib;
  assign pix_cb_d_o = pix_d.cb;
  assign pix_cb_o = pix_q.cb;
  assign pix_ob_o = pix_q.ob;

  ///////////////
  // Registers //
  ///////////////

  // Buffer indexes and the next set, from the next cycle's counters.
  always_ff @(posedge clk_i) begin
    s_nt_q <= s_nt_d;
    s_pmi_q <= s_pmi_d;
    s_pmc_q <= s_pmc_d;
    s_pmo_q <= s_pmo_d;
    s_pri_q <= s_pri_d;
    s_prc_q <= s_prc_d;
    s_pro_q <= s_pro_d;
    s_ky_q <= s_ky_d;
    s_ri_q <= s_ri_d;
    s_mt_q <= s_mt_d;
    s_ro_q <= s_ro_d;
    ib_idx_q <= ib_idx_d_o;
    ob_fi_o  <= OutAW'(s_mt_d + s_ro_d + x_d_i);
    nxs_q    <= nxs_d;
    nxl_q    <= nxl_d;
    k1_q     <= g.k - 32'd1;
    k2_q     <= g.k - 32'd2;
    nt1_q    <= ntn - 32'd1;
    nt2_q    <= ntn - 32'd2;
    mt1_q    <= mtn - 32'd1;
    mt2_q    <= mtn - 32'd2;
    pix_q    <= pix_d;
    wb_idx_q <= wb_idx_d_o;
    set_q    <= set_d;
    mk_q     <= mk_d;
    bk_q     <= bk_d;
    sl_q     <= sl_d;
    xr_q     <= xr_d;
    oc_q     <= oc_d;
    cr_q     <= cr_d;
  end

  ////////////////
  // Assertions //
  ////////////////

  // The 32-bit formulas of the buffer indexes: the narrow, registered
  // indexes above must equal them (modulo the address width), and they
  // must be in range. Simulation only (synthesis ignores assertions).
  logic [31:0] ib_ref [P];
  logic [1:0]  ok_ref [P];
  logic [31:0] ob_ref, wb_ref, g_ref, pib_ref, pcb_ref, pob_ref, p_col;
  always_comb begin
    for (int unsigned p = 0; p < P; p++) begin
      ok_ref[p] = col_ok(row0_i, r_i, ky_i, x_i, kx_i, p);
      ib_ref[p] = (ntl_i * nrin + (iy_p - g.pad - lo)) * g.iw + (x_i + 32'(p) + kx_i - g.pad);
    end
    ob_ref  = (mtl_i * nr + r_i) * g.ow + x_i;
    wb_ref  = g.is_bp ?
        (((s_ntl_o * mtn + s_mtl_o) * g.kk + (g.k - 1 - s_ky) * g.k + (g.k - 1 - s_kx)) * T32) +
        mi_i :
        (((s_mtl_o * ntn + s_ntl_o) * g.kk + s_ky * g.k + s_kx) * T32) + mi_i;
    g_ref   = ((mtl_i * ntn + ntl_i) * g.kk + ky_i * g.k + kx_i) * T32 * T32;
    p_col   = g.is_pf ? x_i : x_i / 2;
    pib_ref = g.is_pf ? (mtl_i * 2 * nr + 2 * r_i + ky_i) * g.w + 2 * x_i + kx_i :
                        (mtl_i * nr + r_i / 2) * g.ow + x_i / 2;
    pcb_ref = (mtl_i * nr + (g.is_pf ? r_i : r_i / 2)) * g.cw + p_col / 8;
    pob_ref = g.is_pf ? (mtl_i * nr + r_i) * g.ow + x_i : (mtl_i * 2 * nr + r_i) * g.w + x_i;
  end

  always_ff @(posedge clk_i) begin
    for (int unsigned p = 0; p < P; p++) begin
      if (rst_ni && state_i == StFire && in_ok_o[p]) begin
        assert (ib_ref[p] < 32'(InBeats)) else $error("input buffer read at %0d", ib_ref[p]);
        assert (ib_idx_q[p] == IbAW'(ib_ref[p]))
          else $error("input index %0d, expected %0d", ib_idx_q[p], ib_ref[p]);
      end
    end
    if (rst_ni) begin
      assert ((r_d_i == '0 || r_d_i == r_i || r_d_i == r_i + 1) &&
              (ky_d_i == '0 || ky_d_i == ky_i || ky_d_i == ky_i + 1) &&
              (ntl_d_i == '0 || ntl_d_i == ntl_i || ntl_d_i == ntl_i + 1) &&
              (mtl_d_i == '0 || mtl_d_i == mtl_i || mtl_d_i == mtl_i + 1))
        else $error("a scaled counter moved by more than one");
    end
    for (int unsigned p = 0; p < P; p++) begin
      if (rst_ni && (state_i == StFire || state_i == StWLoad || state_i == StPool)) begin
        assert (px_ok_o[p] == ok_ref[p][1] && in_ok_o[p] == ok_ref[p][0])
          else $error("column %0d validity out of step", p);
      end
    end
    if (rst_ni && (state_i == StFire || state_i == StWLoad)) begin
      assert (nxs_q == next_set(g.k, ntn, mtn, mtl_i, ntl_i, ky_i, kx_i))
        else $error("next set out of step");
      assert (nxl_q.kx == (nxs_q.kx + 1 == g.k) && nxl_q.ky == (nxs_q.ky + 1 == g.k) &&
              nxl_q.ntl == (nxs_q.ntl + 1 == ntn) && nxl_q.mtl == (nxs_q.mtl + 1 == mtn))
        else $error("next set's last flags out of step");
      assert (nn == next_set(g.k, ntn, mtn, nxs_q.mtl, nxs_q.ntl, nxs_q.ky, nxs_q.kx) &&
              nx_mt == (nn.mtl != nxs_q.mtl) && (nx_mt || nx_nt == (nn.ntl != nxs_q.ntl)))
        else $error("the set after the next set out of step");
    end
    // The next cycle's set is the first (StStep), the next one (set_mv_i)
    // or the current one, as the set registers above assume.
    if (rst_ni && zero_d) begin
      assert (mtl_d_i == '0 && ntl_d_i == '0 && ky_d_i == '0 && kx_d_i == '0)
        else $error("StStep does not start the first set");
    end
    if (rst_ni && !zero_d && state_i != StPool) begin
      assert (set_mv_i ? (mtl_d_i == nxs_q.mtl && ntl_d_i == nxs_q.ntl && ky_d_i == nxs_q.ky &&
                          kx_d_i == nxs_q.kx && nxs_q.has) :
                         (mtl_d_i == mtl_i && ntl_d_i == ntl_i && ky_d_i == ky_i && kx_d_i == kx_i))
        else $error("the set moved otherwise than to the next set");
    end
    if (rst_ni && fill_now_i) begin
      assert (wb_ref < 32'(WBeats)) else $error("weight buffer read at %0d", wb_ref);
      assert (wb_idx_q == WAW'(wb_ref))
        else $error("weight index %0d, expected %0d", wb_idx_q, wb_ref);
    end
    if (rst_ni && state_i == StFire) begin
      assert (ob_ref < 32'(OutBeats)) else $error("output buffer overrun at %0d", ob_ref);
      assert (ob_fi_o == OutAW'(ob_ref))
        else $error("output index %0d, expected %0d", ob_fi_o, ob_ref);
    end
    if (rst_ni && (state_i == StFire || state_i == StPool)) begin
      assert (32'(xr_q) == x_i % 32'(P)) else $error("x mod P out of step");
    end
    if (rst_ni && state_i == StData && orw != '0) begin
      assert (oc_q == ptr_i % orw && 32'(cr_q) == (ptr_i % orw) % 32'(P))
        else $error("beat column out of step at beat %0d", ptr_i);
    end
    if (rst_ni && state_i == StPool) begin
      assert (pib_ref < 32'(InBeats)) else $error("pool input read at %0d", pib_ref);
      assert (pob_ref < 32'(OutBeats)) else $error("pool output write at %0d", pob_ref);
      assert (pcb_ref < 32'(OutBeats)) else $error("argmax word at %0d", pcb_ref);
      assert (pix_q.ib == IbAW'(pib_ref) && pix_q.cb == OutAW'(pcb_ref) &&
              pix_q.ob == OutAW'(pob_ref))
        else $error("pool indexes out of step");
    end
    if (rst_ni && state_i == StFire && g.is_wu && set_last_i) begin
      assert (g_ref + T32 * T32 <= 32'(GEnt)) else $error("gradient buffer overrun at %0d", g_ref);
      assert (g_row_o == GAW'(g_ref)) else $error("gradient row %0d, expected %0d", g_row_o, g_ref);
    end
  end

endmodule
