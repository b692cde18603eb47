// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Shared types, constants and constant functions of the training-convolution
// engine (conv_engine and its units): the descriptor format, the main state
// machine's states and transfer phases, the registered descriptor geometry
// every unit reads (conv_geom_t, from conv_desc), and the step arithmetic
// (a step's extent, tensor layouts, tile bursts) that conv_plan and
// conv_ctrl share. The arithmetic contract is /work/shared/specs/conv.md;
// hls_rust::conv implements the same functions in Rust.

package conv_pkg;

  // Each importer uses only some of these constants; Verilator would flag
  // the rest as unused once per importing module.
  /* verilator lint_off UNUSEDPARAM */

  // Descriptor: the 12 words of hls_rust::conv::desc::Descriptor::encode.
  localparam int unsigned DescWords = 12;
  localparam logic [7:0]  Magic     = 8'hC1;
  localparam logic [3:0]  OpFp      = 4'd0;
  localparam logic [3:0]  OpBp      = 4'd1;
  localparam logic [3:0]  OpWu      = 4'd2;
  localparam logic [3:0]  OpPoolFwd = 4'd3;
  localparam logic [3:0]  OpPoolBwd = 4'd4;
  localparam int unsigned MF        = 16;   // master fraction bits over w16

  // Plan cycles per step (see conv_plan).
  localparam int unsigned PlanCycles = 4;

  // Gradient buffer (conv_wu): a completed set's T x T lane sums are added
  // into it grad_rows(T) rows of T entries per cycle, in grad_drain(T) cycles
  // (hls_rust::conv::HwConfig::grad_drain_cycles). grad_rows is ceil(T/4)
  // when that divides T, else 1, so the drain takes at most 4 cycles at the
  // usual T (2, 4, 8, 16) with T x GradRows entries written per cycle.
  function automatic int unsigned grad_rows(input int unsigned t);
    int unsigned r;
    r = (t + 3) / 4;
    return (t % r == 0) ? r : 1;
  endfunction

  function automatic int unsigned grad_drain(input int unsigned t);
    return t / grad_rows(t);
  endfunction

  // The descriptor's products (conv_desc): NProd of them, one at a time,
  // ProdCycles cycles each (BW/3 shift-add steps of a B operand of up to
  // 18 bits); the check then takes DescCheckCycles cycles in all
  // (StCheck: the products, the verdict register, the check itself), which
  // is the model's t_desc for the RTL (hlsk_cosim::ConvConfig::hw).
  localparam int unsigned NProd           = 27;
  localparam int unsigned ProdCycles      = 6;
  localparam int unsigned DescCheckCycles = NProd * ProdCycles + 2;

  /* verilator lint_on UNUSEDPARAM */

  // States of the main machine (conv_ctrl).
  typedef enum logic [3:0] {
    StIdle,
    StCheck,
    StPlan,
    StStep,
    StReq,
    StData,
    StWLoad,
    StFire,
    StPool,
    StNext
  } state_e;

  // Transfer phases: reads (input tile, weight tile, BP act_in, WU dO
  // tile, WU masters, POOL_BWD argmax) and writes (output band, WU
  // masters, WU w16 copy, POOL_FWD argmax).
  typedef enum logic [3:0] {
    PhIn,
    PhW,
    PhMask,
    PhOut,
    PhD,
    PhMRd,
    PhMWr,
    PhW16,
    PhCRd,
    PhCWr
  } phase_e;

  // A step's extent: its m and n tiles, band rows, and the input rows it
  // reads (FP, BP, WU), for the step at loop counters (nc, row0, mc).
  typedef struct packed {
    logic [31:0] mtn;
    logic [31:0] ntn;
    logic [31:0] nr;
    logic [31:0] lo;
    logic [31:0] nrin;
  } extent_t;

  // The bursts of a tile: first address, stride, count, beats each.
  typedef struct packed {
    logic [31:0] addr;
    logic [31:0] stride;
    logic [31:0] n;
    logic [31:0] beats;
  } tile_t;

  // Memory layout of a tensor the steps move: the tile of image b, channel
  // tile c, from row r starts sb*b + sc*c + sr*r words in (sc = T*area,
  // sr = T*rw: a beat is T words); a whole-height tile of cnt channel tiles
  // is cnt*area beats, a band of `rows` rows of one channel tile rows*rw
  // beats. Input (FP, BP, WU: rct channel tiles of ih x iw), input-size
  // (POOL_FWD input, POOL_BWD output: 2 rows of W per pooled row), output
  // (oh x ow) and argmax words (oh x cw).
  //
  // conv_plan steps the offsets instead of multiplying (the step's loop
  // counters move by a full chunk or band, or wrap to zero): `s` holds the
  // per-descriptor products it steps by, in beats: cs, a full chunk of
  // channel tiles (M_on/T or, for the input, N_on/T) times area; rs, Tr
  // rows times rw; ca, every channel tile of an image (sb / T).
  typedef struct packed {
    logic [31:0] sb;
    logic [31:0] sc;
    logic [31:0] sr;
  } lay_off_t;
  typedef struct packed {
    logic [31:0] area;
    logic [31:0] rw;
  } lay_size_t;
  typedef struct packed {
    logic [31:0] cs;
    logic [31:0] rs;
    logic [31:0] ca;
  } lay_step_t;
  typedef struct packed {
    lay_off_t  o;
    lay_size_t z;
    lay_step_t s;
  } layout_t;

  // The descriptor as the units see it (conv_desc): its fields, and the
  // derived geometry, every member a register (or a field of a descriptor
  // word register) that has settled by the check and holds until the next
  // descriptor starts. `pad`, `ih`, `iw` are the engine's input geometry,
  // `oh`, `ow` its output iteration space (pools: the pooled size H/2 x
  // W/2; `cw` words of argmax codes per row and lane).
  typedef struct packed {
    // Fields.
    logic [3:0]  op;
    logic        relu;       // FP: ReLU
    logic        relu_mask;  // BP: mask from act_in
    logic        write_w16;  // WU: write the int16 copy
    logic        is_bp;
    logic        is_wu;
    logic        is_pf;
    logic        is_pb;
    logic        is_pool;
    logic [31:0] w;          // input width W
    logic [31:0] b;          // batch
    logic [31:0] tr;         // band rows Tr
    logic [31:0] in_base;
    logic [31:0] w_base;
    logic [31:0] out_base;
    logic [31:0] aux_base;
    logic [31:0] w16_base;
    logic [5:0]  s_out;
    logic [5:0]  g_pre;
    logic [5:0]  lr_shift;
    logic [14:0] lr_mant;
    // Geometry.
    logic [31:0] k;
    logic [31:0] pad;
    logic [31:0] kk;
    logic [31:0] ih;
    logic [31:0] iw;
    logic [31:0] oh;
    logic [31:0] ow;
    logic [31:0] out_c;      // output channels of the operation
    logic [31:0] red_c;      // reduction channels
    logic [31:0] rct;        // reduction channel tiles
    logic [31:0] oct;        // output channel tiles
    logic [31:0] mo;         // M_on / T: output tiles per chunk
    logic [31:0] no;         // N_on / T: reduction tiles per chunk
    logic [31:0] cw;
    // Per-descriptor layouts and weight-block strides.
    layout_t     lay_in;
    layout_t     lay_big;
    layout_t     lay_out;
    layout_t     lay_code;
    logic [31:0] wblk;
    logic [31:0] wt_sa;
    logic [31:0] wt_sw;
    logic [31:0] wt_sp;
    // Per-descriptor products conv_plan steps by (see layout_t), in beats:
    // input rows times iw: pad (above the first band), Tr + K-1-pad (the
    // end of a full band's input rows, past row0), oh + K-1-pad (the end
    // of the last band's); the weight tile's first-index step (a full chunk
    // times wt_sw), every block of that index (wt_sw times the tiles it
    // runs over), and its second-index step (a full chunk times wt_sp).
    logic [31:0] in_pad;
    logic [31:0] in_hi;
    logic [31:0] in_oh;
    logic [31:0] wt_as;
    logic [31:0] wt_all;
    logic [31:0] wt_cs;
  } conv_geom_t;

  // A tile offset as three terms (conv_plan): pb in words (image), pc and
  // pr in beats (channel tiles, rows), so the offset is pb + T*(pc + pr).
  typedef struct packed {
    logic [31:0] pb;
    logic [31:0] pc;
    logic [31:0] pr;
  } off_p_t;

  // The transfers of a step, bases included (conv_plan): each a run of
  // bursts of the main machine.
  typedef struct packed {
    tile_t       x_in;        // input tile (FP, BP, WU: input rows; pools: see in_tile_p)
    tile_t       w;           // FP, BP: the chunk pair's weight blocks
    tile_t       code;        // pools: the band's argmax words (aux tensor)
    tile_t       aux;         // WU: the dO tile; BP: the act_in tile (output tile offsets)
    tile_t       drain;       // the band's output tile
    tile_t       big;         // POOL_BWD: the band's input-size gradient tile
    tile_t       m_rd;        // WU: the chunk pair's masters, read
    tile_t       m_wr;        // WU: the masters, written back (out tensor)
    tile_t       w16;         // WU: the int16 copy
    logic [31:0] tile_beats;  // beats of one channel tile of the drained band
  } xfers_t;

  // A step's input tile as terms (conv_plan), before its address and
  // beats are summed: beats = bh - bl.
  typedef struct packed {
    off_p_t      off;
    logic [31:0] stride;
    logic [31:0] n;
    logic [31:0] bh;
    logic [31:0] bl;
  } tile_p_t;

  // The set after a set of the step (kx fastest, then ky, n tile, m tile).
  typedef struct packed {
    logic [31:0] mtl;
    logic [31:0] ntl;
    logic [31:0] ky;
    logic [31:0] kx;
    logic        has;
  } set_t;

  // Which of a set's counters are at their last value.
  typedef struct packed {
    logic kx;
    logic ky;
    logic ntl;
    logic mtl;
  } lst_t;

  // The functions below read only some fields of the geometry they take.
  /* verilator lint_off UNUSEDSIGNAL */

  function automatic extent_t extent(input conv_geom_t g, input logic [31:0] nc, row0, mc);
    extent_t e;
    logic [31:0] hi_;
    e.mtn = (g.oct - mc < g.mo) ? g.oct - mc : g.mo;
    e.ntn = (g.rct - nc < g.no) ? g.rct - nc : g.no;
    e.nr  = (g.oh - row0 < g.tr) ? g.oh - row0 : g.tr;
    e.lo  = (row0 >= g.pad) ? row0 - g.pad : 32'd0;
    hi_   = (row0 + e.nr + g.k - 1 - g.pad < g.ih) ? row0 + e.nr + g.k - 1 - g.pad : g.ih;
    e.nrin = hi_ - e.lo;
    return e;
  endfunction

  // x * c for a constant c, as shifts and adds (no multiplier: the
  // engine's DSPs are its datapath's), wrapping at 32 bits.
  function automatic logic [31:0] times_const(input logic [31:0] x, input int unsigned c);
    logic [31:0] s;
    s = '0;
    for (int unsigned i = 0; i < 32; i++) begin
      if (((c >> i) & 1) != 0) s = s + (x << i);
    end
    return s;
  endfunction

  // The running terms of a tile offset in a layout (conv_plan): b*sb
  // (words), c*area and r*rw (beats), for the step's image b, channel tile
  // c and row r.
  typedef struct packed {
    logic [31:0] b;
    logic [31:0] c;
    logic [31:0] r;
  } run_t;

  // The beats of a layout's tile at running terms t, as {bh, bl} (beats =
  // bh - bl): whole height, its channel tiles (a full chunk: s.cs; the last
  // chunk, every tile from c on: s.ca - t.c); else its band's rows (a full
  // band: s.rs; the last band, every row from r on: area - t.r).
  function automatic logic [63:0] beats_p(input layout_t l, input logic whole, full_cnt,
                                          full_rows, input run_t t);
    if (whole) return full_cnt ? {l.s.cs, 32'd0} : {l.s.ca, t.c};
    return full_rows ? {l.s.rs, 32'd0} : {l.z.area, t.r};
  endfunction

  // A step's input tile from the running terms of the input layout (ti)
  // and of the output layout (to; pools), at row0 and extent e. FP, BP, WU:
  // its n tiles' input rows, full width (rows lo..hi: lo*iw is ti.r less
  // the padding rows, hi*iw ti.r plus a full band's rows, or the last
  // band's end, or ih*iw); POOL_FWD: 2 nr rows of W, which is four times
  // the output layout's tile; POOL_BWD: the pooled gradient tile. Then the
  // address and beats (tile_sum).
  function automatic tile_p_t in_tile_p(input conv_geom_t g, input run_t ti, to,
                                        input logic [31:0] row0, input extent_t e);
    tile_p_t     t;
    logic        whole;
    logic [31:0] lo_rw, hi_rw;
    if (g.is_pool) begin
      whole      = e.nr == g.oh;
      {t.bh, t.bl} = beats_p(g.lay_out, whole, e.mtn == g.mo, e.nr == g.tr, to);
      t.off      = '{pb: to.b, pc: to.c, pr: to.r};
      t.stride   = g.lay_out.o.sc;
      if (g.is_pf) begin
        t.off    = '{pb: to.b << 2, pc: to.c << 2, pr: to.r << 2};
        t.bh     = t.bh << 2;
        t.bl     = t.bl << 2;
        t.stride = g.lay_big.o.sc;
      end
      t.n = whole ? 32'd1 : e.mtn;
    end else begin
      whole  = e.nrin == g.ih;
      lo_rw  = row0 >= g.pad ? ti.r - g.in_pad : '0;
      hi_rw  = e.lo + e.nrin < g.ih ? (e.nr == g.tr ? ti.r + g.in_hi : g.in_oh) : g.lay_in.z.area;
      {t.bh, t.bl} = whole ? beats_p(g.lay_in, 1'b1, e.ntn == g.no, 1'b0, ti) : {hi_rw, lo_rw};
      t.off    = '{pb: ti.b, pc: ti.c, pr: lo_rw};
      t.stride = g.lay_in.o.sc;
      t.n      = whole ? 32'd1 : e.ntn;
    end
    return t;
  endfunction

  // A tile's offset in words from its terms, for T lanes.
  function automatic logic [31:0] off_sum(input off_p_t p, input int unsigned t);
    return p.pb + times_const(p.pc + p.pr, t);
  endfunction

  function automatic tile_t tile_sum(input conv_geom_t g, input tile_p_t p, input int unsigned t);
    return '{addr: g.in_base + off_sum(p.off, t), stride: p.stride, n: p.n, beats: p.bh - p.bl};
  endfunction

  // The formulas the running terms replace, for the simulation checks of
  // conv_plan (their products are not built: synthesis ignores
  // assertions).
  function automatic logic [31:0] lay_off_ref(input lay_off_t l, input logic [31:0] b, c, r);
    return b * l.sb + c * l.sc + r * l.sr;
  endfunction

  function automatic logic [31:0] lay_beats_ref(input lay_size_t l, input logic whole,
                                                input logic [31:0] cnt, rows);
    return whole ? cnt * l.area : rows * l.rw;
  endfunction

  function automatic tile_t in_tile_ref(input conv_geom_t g, input logic [31:0] nc, row0, b, mc,
                                        input extent_t e);
    tile_t   t;
    layout_t l;
    logic    whole;
    l       = g.is_pf ? g.lay_big : g.is_pb ? g.lay_out : g.lay_in;
    whole   = g.is_pool ? e.nr == g.oh : e.nrin == g.ih;
    t.addr  = g.in_base + (g.is_pool ? lay_off_ref(l.o, b, mc, row0) : lay_off_ref(l.o, b, nc, e.lo));
    t.stride = l.o.sc;
    t.n     = whole ? 32'd1 : g.is_pool ? e.mtn : e.ntn;
    t.beats = g.is_pool ? lay_beats_ref(l.z, whole, e.mtn, e.nr) :
                          lay_beats_ref(l.z, whole, e.ntn, e.nrin);
    return t;
  endfunction

  /* verilator lint_on UNUSEDSIGNAL */

  // The set after (mtl, ntl, ky, kx) in a step of mtn x ntn tiles.
  function automatic set_t next_set(input logic [31:0] k, ntn, mtn, mtl, ntl, ky, kx);
    set_t s;
    s = '{mtl: mtl, ntl: ntl, ky: ky, kx: '0, has: 1'b1};
    if (kx + 1 != k) begin
      s.kx = kx + 1;
    end else if (ky + 1 != k) begin
      s.ky = ky + 1;
    end else if (ntl + 1 != ntn) begin
      s.ky  = '0;
      s.ntl = ntl + 1;
    end else if (mtl + 1 != mtn) begin
      s.ky  = '0;
      s.ntl = '0;
      s.mtl = mtl + 1;
    end else begin
      s.has = 1'b0;
    end
    return s;
  endfunction

  // How a compute counter moves (conv_ctrl): it holds, goes to zero, or
  // steps (by one; x by P in StFire).
  typedef enum logic [1:0] {
    MvHold,
    MvClr,
    MvInc
  } mv_e;

  // The moves of the compute counters in a cycle.
  typedef struct packed {
    mv_e mtl;
    mv_e ntl;
    mv_e ky;
    mv_e kx;
    mv_e r;
    mv_e x;
  } cnt_mv_t;

  function automatic logic [31:0] mv_next(input mv_e mv, input logic [31:0] v, step);
    return (mv == MvClr) ? '0 : (mv == MvInc) ? v + step : v;
  endfunction

  // A scaled counter sc = cnt * stride from the counter's next value: a
  // counter's next value is itself, one more or zero, so its multiple is
  // sc, sc + stride or zero, no multiplier needed.
  function automatic logic [31:0] scaled(input logic [31:0] cnt_q, cnt_d, sc_q, stride);
    if (cnt_d == '0) return '0;
    if (cnt_d == cnt_q) return sc_q;
    return sc_q + stride;
  endfunction

  // The same from the counter's move (conv_ctrl's compute counters, whose
  // next values come late out of its loop nest: no comparison of them).
  function automatic logic [31:0] scaled_mv(input mv_e mv, input logic [31:0] sc_q, stride);
    return (mv == MvClr) ? '0 : (mv == MvInc) ? sc_q + stride : sc_q;
  endfunction

endpackage
