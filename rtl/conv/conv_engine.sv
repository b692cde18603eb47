// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Training-convolution engine: runs FP (forward convolution, s_out
// round-half-up shift, sat16, optional ReLU), BP (convolution of the output
// gradient with the transposed, 180-degree rotated weights, padding K-1-pad,
// optional ReLU mask from act_in), WU (weight gradient summed over the
// batch, fused SGD update of the int32 masters on write-back, optional w16
// copy), POOL_FWD and POOL_BWD (2x2, stride 2) descriptors, bit for bit as
// hls_rust::conv::exec::run_descriptor (/work/shared/specs/conv.md).
//
// Descriptor: the 12 words of hls_rust::conv::desc::Descriptor::encode, one
// per beat on the descriptor stream (accepted only while idle). Then the
// engine walks the model's step sequence (hls_rust::conv::model)
//   FP, BP: for m-chunk { for b { for band (Tr rows) { for n-chunk { step } } } }
//   WU:     for m-chunk { for n-chunk { for b { for band { step } } } }
//   pools:  for b { for channel chunk { for band { step } } }
// An FP/BP step loads its input tile (and its weight tile unless the
// chunk's weights are resident), then for every (m tile, n tile, ky, kx)
// fires the T x T x P MAC array once per group of P adjacent output pixels
// of the band (accumulators read-modify-written in the same cycle, so no
// hazard). The weight registers have a shadow copy that takes the next
// set's T rows while the current set fires; only a step's first set waits
// T cycles. After the band's last n-chunk the band drains (BP with
// relu_mask first reads the band's act_in tile into a mask buffer). BP
// reads the forward weight blocks of the step's (reduction, output) tiles
// and loads each beat as a column of the weight registers, slice
// (K-1-ky, K-1-kx): the transpose and flip happen on the way in.
// A WU step loads the x tile and the dO tile, then for every (m tile, n
// tile, ky, kx) fires once per group of P output pixels: each of the T x T
// lanes accumulates rs(dO[m] * x[n], g_pre) in its own register, and the
// set's last group adds the lane sums into the gradient buffer, resident
// for the whole batch. After the chunk pair's last step the engine reads
// the masters (updating each in the gradient buffer as its high word
// arrives), writes them back and, with write_w16, writes the int16 copy.
// POOL_FWD compares each 2x2 window in four cycles (first strict maximum)
// and writes the maxima and the argmax words (lane word of 8 columns);
// POOL_BWD routes each gradient to the position its code names.
// While a step computes, a prefetcher loads the next step's input tile into
// the second input-buffer bank; the other transfers wait for it.
//
// Memory port: one burst outstanding (the prefetcher's or the main
// machine's). A request (addr, len in 16-bit words, write) is followed by
// len/T data beats on the read or write stream; word i of a beat is bits
// [16i +: 16] (lowest address in the low bits). Bursts are the model's: one
// per channel tile, merged when contiguous.
//
// Descriptors this build cannot run (bad magic or op, K, pad, flags,
// shape, tiling or buffer capacity) raise error_o and done_o without any
// memory access. busy_o is high from the last descriptor word to done_o;
// done_o and error_o hold until the next descriptor starts. Counters (reset
// at every descriptor): busy cycles, fired cycles, stall cycles by cause
// (input, weights, output), words read and written, bursts. Every busy
// cycle is fired, a stall or overhead (the check, and each step's start and
// advance cycles), as in hls_rust::conv::model::Stats: a cycle spent on a
// transfer is a stall of the transfer's cause (input: the input tile, the
// wait for its prefetch, the WU dO tile, the POOL_BWD argmax words;
// weights: the weight tile, the weight-register wait, the WU master read;
// output: the drain, the BP act_in read, the WU master and w16 writes).

module conv_engine #(
  parameter int unsigned T       = 2,     // channel tile: T x T x P MAC array
  parameter int unsigned P       = 1,     // pixel parallelism: adjacent output columns per cycle
  parameter int unsigned AccW    = 32,    // accumulator width ACC_W (32..64)
  parameter int unsigned AccWWu  = 40,    // WU accumulator width ACC_W_WU (32..64)
  parameter int unsigned InWords = 2048,  // input buffer capacity per bank, words
  parameter int unsigned WWords  = 1024,  // weight buffer capacity, words
  parameter int unsigned OutEnt  = 1024,  // output buffer capacity, accumulators (and mask bits)
  parameter int unsigned GEnt    = 512,   // WU gradient buffer capacity, ACC_W_WU entries
  // Derived; do not override.
  localparam int unsigned BeatW   = 16 * T,
  localparam int unsigned InBeats = InWords / T,
  localparam int unsigned WBeats  = WWords / T,
  localparam int unsigned OutBeats = OutEnt / T,
  localparam int unsigned WAW     = (WBeats > 1) ? $clog2(WBeats) : 1,
  localparam int unsigned OutAW   = (OutBeats > 1) ? $clog2(OutBeats) : 1,
  localparam int unsigned GAW     = (GEnt > 1) ? $clog2(GEnt) : 1,
  localparam int unsigned IbAW    = $clog2(2 * InBeats)
) (
  input  logic             clk_i,
  input  logic             rst_ni,

  // Descriptor stream: 12 words per descriptor
  input  logic             desc_valid_i,
  output logic             desc_ready_o,
  input  logic [31:0]      desc_data_i,

  // Memory request: (addr, len) in 16-bit words
  output logic             req_valid_o,
  input  logic             req_ready_i,
  output logic [31:0]      req_addr_o,
  output logic [31:0]      req_len_o,
  output logic             req_write_o,

  // Read data stream (memory -> engine)
  input  logic             rd_valid_i,
  output logic             rd_ready_o,
  input  logic [BeatW-1:0] rd_data_i,

  // Write data stream (engine -> memory)
  output logic             wr_valid_o,
  input  logic             wr_ready_i,
  output logic [BeatW-1:0] wr_data_o,

  // Status and counters
  output logic             busy_o,
  output logic             done_o,
  output logic             error_o,
  output logic [31:0]      cnt_cycles_o,
  output logic [31:0]      cnt_fired_o,
  output logic [31:0]      cnt_stall_in_o,
  output logic [31:0]      cnt_stall_w_o,
  output logic [31:0]      cnt_stall_out_o,
  output logic [31:0]      cnt_rd_words_o,
  output logic [31:0]      cnt_wr_words_o,
  output logic [31:0]      cnt_bursts_o
);

  localparam int unsigned DescWords = 12;
  localparam logic [7:0]  Magic     = 8'hC1;
  localparam logic [3:0]  OpFp      = 4'd0;
  localparam logic [3:0]  OpBp      = 4'd1;
  localparam logic [3:0]  OpWu      = 4'd2;
  localparam logic [3:0]  OpPoolFwd = 4'd3;
  localparam logic [3:0]  OpPoolBwd = 4'd4;
  localparam int unsigned MF        = 16;   // master fraction bits over w16
  // delta = rs(g * lr_mant, lr_shift): g (AccWWu bits) times a 15-bit mantissa.
  localparam int unsigned DW        = AccWWu + 17;
  localparam logic [31:0] T32       = 32'(T);
  localparam logic [31:0] P32       = 32'(P);

  // Word address of entry idx of input-buffer bank `bank`.
  function automatic logic [IbAW-1:0] ib_addr(input logic bank, input logic [IbAW-1:0] idx);
    return (bank ? IbAW'(InBeats) : '0) + idx;
  endfunction

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

  ///////////////
  // Registers //
  ///////////////

  state_e         state_q, state_d;
  phase_e         phase_q, phase_d;
  logic [31:0]    desc_q [DescWords];
  logic [3:0]     dcount_q, dcount_d;
  // Plan cycles per step (see the step plan below).
  localparam int unsigned PlanCycles = 4;
  logic [$clog2(PlanCycles)-1:0] plan_q, plan_d;
  logic           done_q, done_d, error_q, error_d;
  // Loop nest of the step sequence.
  logic [31:0]    mc_q, mc_d, b_q, b_d, row0_q, row0_d, nc_q, nc_d;
  logic           loaded_q, loaded_d;
  // Compute counters (mi: rows or columns of the shadow weights filled).
  logic [31:0]    mtl_q, mtl_d, ntl_q, ntl_d, ky_q, ky_d, kx_q, kx_d, mi_q, mi_d;
  logic [31:0]    r_q, r_d, x_q, x_d;
  // Burst engine.
  logic [31:0]    bx_left_q, bx_left_d;
  logic [31:0]    ptr_q, ptr_d;             // buffer index across the bursts of a phase
  logic           beat;                     // a data beat moves this cycle
  logic [31:0]    dm_q, dm_d, dcnt_q, dcnt_d; // drain: m tile and beat within it
  // Counters.
  logic [31:0]    cnt_cycles_q, cnt_fired_q, cnt_rd_q, cnt_wr_q, cnt_bursts_q;
  logic [31:0]    cnt_sin_q, cnt_sw_q, cnt_sout_q;
  // Weight registers wreg[m][n] and their shadow copy, filled one row (FP)
  // or column (BP) per cycle while the current set computes.
  logic [15:0]    wreg_q [T][T];
  logic [15:0]    wsh_q  [T][T];
  logic           wswap;

  // Buffers (asynchronous read).
  // Input buffer: two banks of InBeats; compute reads bank ib_bank_q while
  // the next step's input tile is prefetched into the other.
  logic [BeatW-1:0]     ibuf_q [2*InBeats];
  logic                 ib_bank_q, ib_bank_d;
  logic [BeatW-1:0]     wbuf_q [WBeats];
  logic [T*AccW-1:0]    obuf_q [OutBeats];
  logic [T-1:0]         mbuf_q [OutBeats];  // BP relu_mask: act_in > 0
  // WU: gradient buffer (ACC_W_WU, wrapping), resident for the batch, in the
  // order of the chunk's master words; after the master read it holds the
  // updated masters. gval_q marks entries of real (not padded) channels.
  logic [AccWWu-1:0]    gbuf_q [GEnt];
  logic                 gval_q [GEnt];
  // WU: per-lane accumulators of the current (m tile, n tile, ky, kx) set.
  logic [AccWWu-1:0]    lacc_q [T][T];
  logic [AccWWu-1:0]    lacc_d [T][T];
  logic [15:0]          pend_q, pend_d;     // master low word waiting for its high word
  // Pools: argmax words of the band (lane i: 8 codes of adjacent columns),
  // and POOL_FWD's running maximum and its code per lane.
  logic [BeatW-1:0]     cbuf_q [OutBeats];
  logic [15:0]          best_q [T];
  logic [15:0]          best_d [T];
  logic [1:0]           bcode_q [T];
  logic [1:0]           bcode_d [T];

  /////////////////////
  // Descriptor view //
  /////////////////////

  logic [3:0]  f_op, f_k, f_pad;
  logic [7:0]  f_magic;
  logic        f_relu, f_mask, f_w16, is_bp, is_wu, is_pf, is_pb, is_pool;
  logic [31:0] f_n, f_m, f_h, f_w, f_b, f_tr, f_mon, f_non;
  logic [31:0] f_in, f_wb, f_out, f_aux, f_w16b;
  logic [5:0]  f_sout, f_gpre, f_lrsh;
  logic [14:0] f_lrm;

  assign f_op    = desc_q[0][3:0];
  assign f_relu  = desc_q[0][4];
  assign f_mask  = desc_q[0][5];
  assign f_w16   = desc_q[0][6];
  assign is_bp   = f_op == OpBp;
  assign is_wu   = f_op == OpWu;
  assign is_pf   = f_op == OpPoolFwd;
  assign is_pb   = f_op == OpPoolBwd;
  assign is_pool = is_pf || is_pb;
  assign f_k     = desc_q[0][11:8];
  assign f_pad   = desc_q[0][15:12];
  assign f_magic = desc_q[0][31:24];
  assign f_n     = 32'(desc_q[1][15:0]);
  assign f_m     = 32'(desc_q[1][31:16]);
  assign f_h     = 32'(desc_q[2][15:0]);
  assign f_w     = 32'(desc_q[2][31:16]);
  assign f_b     = 32'(desc_q[3][15:0]);
  assign f_tr    = 32'(desc_q[3][31:16]);
  assign f_mon   = 32'(desc_q[4][15:0]);
  assign f_non   = 32'(desc_q[4][31:16]);
  assign f_in    = desc_q[5];
  assign f_wb    = desc_q[6];
  assign f_out   = desc_q[7];
  assign f_aux   = desc_q[8];
  assign f_w16b  = desc_q[9];
  assign f_sout  = desc_q[10][5:0];
  assign f_gpre  = desc_q[10][13:8];
  assign f_lrsh  = desc_q[10][21:16];
  assign f_lrm   = desc_q[11][14:0];

  // Reserved bits.
  logic unused_desc;
  assign unused_desc = ^{desc_q[0][23:16], desc_q[0][7], desc_q[10][31:22],
                         desc_q[10][15:14], desc_q[10][7:6], desc_q[11][31:15]};

  // Derived shape, registered (all 32-bit; fields are 16-bit so nothing
  // overflows). FP: in x [B,N,H,W], out y [B,M,Ho,Wo]. BP: in dO
  // [B,M,Ho,Wo] padded by K-1-pad, out dx [B,N,H,W]. `pad`, `ih`, `iw` below
  // are the engine's input geometry, `oh`, `ow` its output iteration space
  // (pools: the pooled size H/2 x W/2; `cw` words of argmax codes per row
  // and lane).
  //
  // Everything in this section is a pipeline of registers (at most five
  // deep) from descriptor words 0..4. Those words arrive at least seven
  // beats before the check (word 4 is written, then words 5..11 take a beat
  // each), so by StCheck every register has settled, and they hold until
  // the next descriptor starts: the check and the step arithmetic read
  // registers instead of a chain of multipliers from the descriptor.
  logic [31:0] k, fpad, pad, kk, ho, wo, ih, iw, oh, ow, out_c, red_c, rct, oct, mo, no, cw;
  // Widths: the sizes below fit 17 bits, rows 18, and K and the padding 4:
  // computing them at those widths keeps the multipliers that use them
  // small. (Where a value would not fit, as k - 1 - pad for a BP pad >= K,
  // the descriptor is rejected anyway.)
  logic [16:0] ho_c, wo_c;
  assign ho_c = (f_h + 2 * 32'(f_pad) + 1 >= 32'(f_k)) ? 17'(f_h + 2 * 32'(f_pad) + 1 - 32'(f_k)) : '0;
  assign wo_c = (f_w + 2 * 32'(f_pad) + 1 >= 32'(f_k)) ? 17'(f_w + 2 * 32'(f_pad) + 1 - 32'(f_k)) : '0;
  always_ff @(posedge clk_i) begin
    // Depth 1: from the fields.
    k     <= 32'(f_k);
    fpad  <= 32'(f_pad);
    kk    <= 32'(f_k) * 32'(f_k);
    ho    <= 32'(ho_c);
    wo    <= 32'(wo_c);
    out_c <= is_bp ? f_n : f_m;
    red_c <= is_bp ? f_m : f_n;
    mo    <= f_mon / T32;
    no    <= f_non / T32;
    // Depth 2.
    pad   <= 32'(4'(is_bp ? k - 1 - fpad : fpad));
    ih    <= is_bp ? ho : f_h;
    iw    <= is_bp ? wo : f_w;
    oh    <= is_pool ? f_h / 2 : is_bp ? f_h : ho;
    ow    <= is_pool ? f_w / 2 : is_bp ? f_w : wo;
    rct   <= (red_c + T32 - 1) / T32;
    oct   <= (out_c + T32 - 1) / T32;
    // Depth 3.
    cw    <= (ow + 7) / 8;
  end

  // Capacity and shape checks (hls_rust::conv::model::check_tiling), on
  // registered factors: depth 3 (rows, columns, two-factor products), 4
  // (the needs), 5 (the verdict).
  logic [31:0] in_rows, in_cols;
  logic [63:0] need_in, need_w, need_out, need_g;
  logic [63:0] mon_tr, mon_non, non_rows, mon_2tr;
  logic        bad_shape, bad;
  always_ff @(posedge clk_i) begin
    in_rows  <= 32'(18'(f_tr + k - 1));
    in_cols  <= iw + 2 * pad;
    mon_tr   <= 64'(f_mon) * 64'(f_tr);
    mon_2tr  <= 64'(f_mon) * 64'(2 * f_tr);
    mon_non  <= 64'(f_mon) * 64'(f_non);
    non_rows <= 64'(f_non) * 64'(in_rows);
    // Pools: POOL_FWD reads 2Tr rows of W and writes Tr rows of W/2;
    // POOL_BWD the other way round.
    need_in  <= is_pf ? mon_2tr * 64'(f_w) : is_pb ? mon_tr * 64'(ow) :
                non_rows * 64'(in_cols);
    need_w   <= (is_wu || is_pool) ? 64'd0 : mon_non * 64'(kk);
    need_out <= is_pb ? mon_2tr * 64'(f_w) : mon_tr * 64'(ow);
    need_g   <= is_wu ? mon_non * 64'(kk) : 64'd0;
    bad_shape <= is_pool ?
        (k != 32'd2) || (fpad != 0) || (f_m != f_n) || f_h[0] || f_w[0] || (f_non != 0) :
        !(k == 32'd1 || k == 32'd3) || (fpad >= k) || (ho == 0) || (wo == 0) ||
        (f_non == 0) || (f_non % T32 != 0) || (no > rct);
    bad <= (f_magic != Magic) || (f_op > OpPoolBwd) || bad_shape ||
           (f_relu && f_op != OpFp) || (f_mask && !is_bp) || (f_w16 && !is_wu) ||
           (f_n == 0) || (f_m == 0) || (f_h == 0) || (f_w == 0) || (f_b == 0) || (f_tr == 0) ||
           (f_tr > oh) || (f_mon == 0) || (f_mon % T32 != 0) || (mo > oct) ||
           (need_in > 64'(InWords)) || (need_w > 64'(WWords)) ||
           (need_out > 64'(OutEnt)) || (need_g > 64'(GEnt));
  end

  //////////////////////
  // Step geometry    //
  //////////////////////

  // A step's extent: its m and n tiles, band rows, and the input rows it
  // reads (FP, BP, WU), for the step at loop counters (nc, row0, mc).
  typedef struct packed {
    logic [31:0] mtn;
    logic [31:0] ntn;
    logic [31:0] nr;
    logic [31:0] lo;
    logic [31:0] nrin;
  } extent_t;

  function automatic extent_t extent(input logic [31:0] nc, row0, mc);
    extent_t e;
    logic [31:0] hi_;
    e.mtn = (oct - mc < mo) ? oct - mc : mo;
    e.ntn = (rct - nc < no) ? rct - nc : no;
    e.nr  = (oh - row0 < f_tr) ? oh - row0 : f_tr;
    e.lo  = (row0 >= pad) ? row0 - pad : 32'd0;
    hi_   = (row0 + e.nr + k - 1 - pad < ih) ? row0 + e.nr + k - 1 - pad : ih;
    e.nrin = hi_ - e.lo;
    return e;
  endfunction

  // The bursts of a tile: first address, stride, count, beats each.
  typedef struct packed {
    logic [31:0] addr;
    logic [31:0] stride;
    logic [31:0] n;
    logic [31:0] beats;
  } tile_t;

  // Memory layout of a tensor the steps move: the tile of image b, channel
  // tile c, from row r starts sb*b + sc*c + sr*r words in; a whole-height
  // tile of cnt channel tiles is cnt*area beats, a band of `rows` rows of
  // one channel tile rows*rw beats. Input (FP, BP, WU: rct channel tiles of
  // ih x iw), input-size (POOL_FWD input, POOL_BWD output: 2 rows of W per
  // pooled row), output (oh x ow) and argmax words (oh x cw).
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
    lay_off_t  o;
    lay_size_t z;
  } layout_t;

  // Per-descriptor layouts and products, registered (depth 4 and 5 of the
  // pipeline above).
  logic [31:0] hw_a, ihw, ohw, ohcw, wblk;
  layout_t     lay_in, lay_big, lay_out, lay_code;
  logic [31:0] wt_sa, wt_sw, wt_sp;
  always_ff @(posedge clk_i) begin
    hw_a <= f_h * f_w;
    ihw  <= ih * iw;
    ohw  <= oh * ow;
    ohcw <= oh * cw;
    wblk <= T32 * T32 * kk;
    lay_in   <= '{o: '{sb: rct * ihw * T32, sc: ihw * T32, sr: iw * T32},
                  z: '{area: ihw, rw: iw}};
    lay_big  <= '{o: '{sb: oct * hw_a * T32, sc: hw_a * T32, sr: 2 * f_w * T32},
                  z: '{area: hw_a, rw: 2 * f_w}};
    lay_out  <= '{o: '{sb: oct * ohw * T32, sc: ohw * T32, sr: ow * T32},
                  z: '{area: ohw, rw: ow}};
    lay_code <= '{o: '{sb: oct * ohcw * T32, sc: ohcw * T32, sr: cw * T32},
                  z: '{area: ohcw, rw: cw}};
    // Weight blocks (T x T x K x K words each), [M tiles][N tiles]: BP
    // walks them by (reduction = output tile of the forward pass) rows.
    wt_sa <= (is_bp ? oct : rct) * wblk;
    wt_sw <= (is_bp ? oct : rct) * T32 * kk;
    wt_sp <= T32 * kk;
  end

  // Loop counters are below 2^16 and rows below 2^17 (descriptor fields
  // are 16-bit): 17-bit factors keep the multipliers small.
  // Offsets are registered as their three products, then summed a plan
  // cycle later.
  typedef struct packed {
    logic [31:0] pb;
    logic [31:0] pc;
    logic [31:0] pr;
  } off_p_t;

  function automatic off_p_t lay_off(input lay_off_t l, input logic [16:0] b, c, r);
    return '{pb: 32'(b) * l.sb, pc: 32'(c) * l.sc, pr: 32'(r) * l.sr};
  endfunction

  function automatic logic [31:0] off_sum(input off_p_t p);
    return p.pb + p.pc + p.pr;
  endfunction

  function automatic logic [31:0] lay_beats(input lay_size_t l, input logic whole,
                                            input logic [16:0] cnt, rows);
    logic [16:0] f;
    f = whole ? cnt : rows;
    return 32'(f) * (whole ? l.area : l.rw);
  endfunction

  // A step's input tile: FP, BP, WU: its n tiles' input rows, full width;
  // POOL_FWD: 2 nr rows of W; POOL_BWD: the pooled gradient tile. First
  // the products (in_tile_p), then the address (tile_sum).
  typedef struct packed {
    off_p_t      off;
    logic [31:0] stride;
    logic [31:0] n;
    logic [31:0] beats;
  } tile_p_t;

  function automatic tile_p_t in_tile_p(input logic [16:0] nc, row0, b, mc, input extent_t e);
    tile_p_t t;
    layout_t l;
    logic    whole;
    l       = is_pf ? lay_big : is_pb ? lay_out : lay_in;
    whole   = is_pool ? e.nr == oh : e.nrin == ih;
    t.off   = is_pool ? lay_off(l.o, b, mc, row0) : lay_off(l.o, b, nc, 17'(e.lo));
    t.stride = l.o.sc;
    t.n     = whole ? 32'd1 : is_pool ? e.mtn : e.ntn;
    t.beats = is_pool ? lay_beats(l.z, whole, 17'(e.mtn), 17'(e.nr)) :
                        lay_beats(l.z, whole, 17'(e.ntn), 17'(e.nrin));
    return t;
  endfunction

  function automatic tile_t tile_sum(input tile_p_t p);
    return '{addr: f_in + off_sum(p.off), stride: p.stride, n: p.n, beats: p.beats};
  endfunction

  // The burst engine: the bursts of the current transfer.
  tile_t bx_q, bx_d;

  // The current step's extent, loaded with its loop counters (by the check
  // and by the advance, from nx_ext_q).
  extent_t ext_q, ext_d;
  logic [31:0] mtn, ntn, nr, lo, nrin;
  logic        resident, load_w, first_chunk, last_chunk;
  assign mtn  = ext_q.mtn;
  assign ntn  = ext_q.ntn;
  assign nr   = ext_q.nr;
  assign lo   = ext_q.lo;
  assign nrin = ext_q.nrin;
  assign resident    = rct <= no;
  assign load_w      = !is_wu && !is_pool && (!resident || !loaded_q);
  assign first_chunk = nc_q == 0;
  assign last_chunk  = nc_q + ntn == rct;

  //////////////
  // Datapath //
  //////////////

  // Per-step products of the index arithmetic, registered from the step's
  // extent (settled during the plan cycles), in the buffers' address
  // widths: the index arithmetic wraps there, as the buffer addresses do.
  logic [IbAW-1:0]  nrinw_q, ib_c_q, pp_ib_q;
  logic [OutAW-1:0] nrow_q, pp_cb_q, pp_ob_q;
  logic [WAW-1:0]   wsel_kk_q;
  logic [GAW-1:0]   ntn_kk_q;
  always_ff @(posedge clk_i) begin
    nrinw_q   <= IbAW'(nrin) * IbAW'(iw);
    // (row0 - pad - lo) * iw - pad: the input row and column offsets.
    ib_c_q    <= IbAW'(row0_q - pad - lo) * IbAW'(iw) - IbAW'(pad);
    nrow_q    <= OutAW'(nr) * OutAW'(ow);
    // Pools: one channel tile of the band in the input, argmax and output
    // buffers.
    pp_ib_q   <= is_pf ? IbAW'(2 * nr) * IbAW'(f_w) : IbAW'(nr) * IbAW'(ow);
    pp_cb_q   <= OutAW'(nr) * OutAW'(cw);
    pp_ob_q   <= OutAW'(2 * nr) * OutAW'(f_w);  // POOL_BWD; POOL_FWD's is nrow_q
    wsel_kk_q <= WAW'(is_bp ? mtn : ntn) * WAW'(kk);
    ntn_kk_q  <= GAW'(ntn) * GAW'(kk);
  end

  // Fire: P adjacent output columns x + p (those below ow), their input
  // pixels (padded coordinates) and accumulator entries. The buffer indexes
  // are registers computed from the next cycle's counters (so they equal
  // functions of the current counters, which the assertions check against
  // the 32-bit formulas), as sums of scaled counters: a counter's next
  // value is itself, one more or zero, and so its multiple sc = cnt *
  // stride is sc, sc + stride or zero, no multiplier needed. The strides
  // are the step's, and every counter starts the step at zero.
  function automatic logic [31:0] scaled(input logic [31:0] cnt_q, cnt_d, sc_q, stride);
    if (cnt_d == '0) return '0;
    if (cnt_d == cnt_q) return sc_q;
    return sc_q + stride;
  endfunction

  // ntl * nrin * iw, ky * iw, r * iw (input); mtl * nr * ow, r * ow (output).
  logic [31:0] s_nt_q, s_ky_q, s_ri_q, s_mt_q, s_ro_q;
  logic [31:0] s_nt_d, s_ky_d, s_ri_d, s_mt_d, s_ro_d;

  logic [31:0]      iy_p;
  logic [IbAW-1:0]  ib_idx_q [P];
  logic [OutAW-1:0] ob_idx, ob_fi_q;
  logic             in_ok  [P];
  logic             px_ok  [P];
  logic             first_add;
  assign iy_p   = row0_q + r_q + ky_q;
  always_comb begin
    for (int unsigned p = 0; p < P; p++) begin
      logic [31:0] ix;
      ix        = x_q + 32'(p) + kx_q;
      px_ok[p]  = x_q + 32'(p) < ow;
      in_ok[p]  = px_ok[p] && (iy_p >= pad) && (iy_p - pad < ih) && (ix >= pad) &&
                  (ix - pad < iw);
    end
  end
  assign ob_idx = (phase_q == PhOut) ? OutAW'(ptr_q) : ob_fi_q;

  // The set after a set of the step (kx fastest, then ky, n tile, m tile).
  typedef struct packed {
    logic [31:0] mtl;
    logic [31:0] ntl;
    logic [31:0] ky;
    logic [31:0] kx;
    logic        has;
  } set_t;

  function automatic set_t next_set(input logic [31:0] mtl, ntl, ky, kx);
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

  // The next set, registered from the next cycle's counters.
  set_t        nxs_q;
  logic [31:0] nx_mtl, nx_ntl, nx_ky, nx_kx;
  logic        has_next;
  assign nx_mtl   = nxs_q.mtl;
  assign nx_ntl   = nxs_q.ntl;
  assign nx_ky    = nxs_q.ky;
  assign nx_kx    = nxs_q.kx;
  assign has_next = nxs_q.has;

  // Shadow fill: mi_q rows (FP) or columns (BP) of the target set are in
  // the shadow. The target is the current set while waiting in StWLoad
  // (start of a step, or a set shorter than T cycles), else the next set
  // while the current one fires.
  logic [31:0]     s_mtl, s_ntl, s_ky, s_kx;
  logic [WAW-1:0]  wb_idx;
  logic            fill_en, fill_now, sh_full;
  assign fill_en  = (f_op == OpFp || is_bp) &&
                    ((state_q == StWLoad) || (state_q == StFire && has_next));
  assign fill_now = fill_en && (mi_q != T32);
  assign sh_full  = (mi_q == T32) || (fill_now && mi_q + 1 == T32);
  assign s_mtl    = (state_q == StWLoad) ? mtl_q : nx_mtl;
  assign s_ntl    = (state_q == StWLoad) ? ntl_q : nx_ntl;
  assign s_ky     = (state_q == StWLoad) ? ky_q : nx_ky;
  assign s_kx     = (state_q == StWLoad) ? kx_q : nx_kx;
  // FP: block (mtl, ntl), slice (ky, kx), row mi. BP: block (ntl, mtl) of the
  // forward weights, slice (K-1-ky, K-1-kx), forward row mi.
  always_comb begin
    logic [WAW-1:0] blk, slice;
    blk    = is_bp ? WAW'(s_ntl) * wsel_kk_q + WAW'(s_mtl) * WAW'(kk) :
                     WAW'(s_mtl) * wsel_kk_q + WAW'(s_ntl) * WAW'(kk);
    slice  = WAW'(s_ky) * WAW'(k) + WAW'(s_kx);
    wb_idx = (blk + (is_bp ? WAW'(kk) - 1 - slice : slice)) * WAW'(T32) + WAW'(mi_q);
  end
  assign first_add = first_chunk && (ntl_q == 0) && (ky_q == 0) && (kx_q == 0);

  // Pools. POOL_FWD: four cycles per pooled pixel compare its 2x2 window in
  // row-major order (cand = {ky, kx}), the first strict maximum wins; the
  // fourth writes the maximum and puts the code into the lane's word of 8
  // columns (a new word at every eighth column: columns past W/2 stay 0).
  // POOL_BWD: one cycle per input-size pixel; the gradient goes where the
  // code of its pooled pixel points. Indexes registered as the fire's.
  typedef struct packed {
    logic [IbAW-1:0]  ib;
    logic [OutAW-1:0] cb;
    logic [OutAW-1:0] ob;
  } pool_idx_t;

  function automatic pool_idx_t pool_index(input logic [31:0] x, r, input logic ky, kx,
                                           input logic [OutAW-1:0] mtl);
    pool_idx_t  i;
    if (is_pf) begin
      i.ib = IbAW'(mtl) * pp_ib_q + (IbAW'(2 * r) + IbAW'(ky)) * IbAW'(f_w) + IbAW'(2 * x) +
             IbAW'(kx);
      i.cb = mtl * pp_cb_q + OutAW'(r) * OutAW'(cw) + OutAW'(x / 8);
      i.ob = mtl * nrow_q + OutAW'(r) * OutAW'(ow) + OutAW'(x);
    end else begin
      i.ib = IbAW'(mtl) * pp_ib_q + IbAW'(r / 2) * IbAW'(ow) + IbAW'(x / 2);
      i.cb = mtl * pp_cb_q + OutAW'(r / 2) * OutAW'(cw) + OutAW'(x / 16);
      i.ob = mtl * pp_ob_q + OutAW'(r) * OutAW'(f_w) + OutAW'(x);
    end
    return i;
  endfunction

  pool_idx_t   pix_q;
  logic [31:0] p_col;
  logic [1:0]  cand;
  logic        cand_last;
  assign cand      = {ky_q[0], kx_q[0]};
  assign cand_last = is_pb || (cand == 2'd3);
  assign p_col     = is_pf ? x_q : x_q / 2;

  // Buffer reads of the P columns (pools use column 0 only).
  logic [BeatW-1:0]  ib_rd [P];
  logic [T*AccW-1:0] ob_rd [P];
  logic [T*AccW-1:0] ob_new [P];
  logic [BeatW-1:0]  wb_rd;
  always_comb begin
    for (int unsigned p = 0; p < P; p++) begin
      if (is_pool) begin
        ib_rd[p] = (p == 0) ? ibuf_q[ib_addr(ib_bank_q, pix_q.ib)] : '0;
      end else begin
        ib_rd[p] = in_ok[p] ? ibuf_q[ib_addr(ib_bank_q, ib_idx_q[p])] : '0;
      end
      ob_rd[p] = obuf_q[ob_idx + OutAW'(p)];
    end
  end
  assign wb_rd = wbuf_q[wb_idx];

  logic [T-1:0] mb_rd, mb_new;
  assign mb_rd = mbuf_q[OutAW'(ptr_q)];
  always_comb begin
    for (int unsigned m = 0; m < T; m++) begin
      mb_new[m] = !rd_data_i[16*m + 15] && (rd_data_i[16*m +: 16] != '0);
    end
  end

  // Shadow registers wsh[m][n] (m output lane, n reduction lane) loaded
  // from beat mi: FP row mi, BP column mi. Weights of padded channels are 0.
  logic [15:0] wnext [T][T];
  always_comb begin
    for (int unsigned m = 0; m < T; m++) begin
      for (int unsigned n = 0; n < T; n++) begin
        logic [31:0] sel, lane;
        sel  = is_bp ? 32'(n) : 32'(m);
        lane = is_bp ? 32'(m) : 32'(n);
        wnext[m][n] = wsh_q[m][n];
        if (fill_now && sel == mi_q) begin
          if (((mc_q + s_mtl) * T32 + 32'(m) < out_c) &&
              ((nc_q + s_ntl) * T32 + 32'(n) < red_c)) begin
            wnext[m][n] = wb_rd[16*lane +: 16];
          end else begin
            wnext[m][n] = '0;
          end
        end
      end
    end
  end

  // The T x T x P MAC array: acc[p][m] += sum_n w[m][n] * x[p][n],
  // wrapping at AccW; the P columns share the weight registers.
  always_comb begin
    for (int unsigned p = 0; p < P; p++) begin
      for (int unsigned m = 0; m < T; m++) begin
        logic signed [AccW-1:0] acc;
        acc = first_add ? '0 : $signed(ob_rd[p][AccW*m +: AccW]);
        for (int unsigned n = 0; n < T; n++) begin
          logic signed [31:0] prod;
          prod = $signed(wreg_q[m][n]) * $signed(ib_rd[p][16*n +: 16]);
          acc  = acc + AccW'(prod);
        end
        ob_new[p][AccW*m +: AccW] = acc;
      end
    end
  end

  // WU fire: every lane (m, n) adds rs(dO[p][m] * x[p][n], g_pre) of the P
  // columns to its own accumulator. When the set's last column group has
  // fired the lane sums are complete in lacc_q, and the next cycle adds them
  // into the gradient buffer (cleared by the first step of the chunk pair)
  // at the set's entries, registered with the sums' destination (gw_*).
  logic [GAW-1:0] g_row;
  logic           set_first, set_last, wu_first, wu_last;
  assign g_row     = (GAW'(mtl_q) * ntn_kk_q + GAW'(ntl_q) * GAW'(kk) +
                      GAW'(ky_q) * GAW'(k) + GAW'(kx_q)) * GAW'(T32 * T32);
  assign set_first = (x_q == 0) && (r_q == 0);
  assign set_last  = (x_q + P32 >= ow) && (r_q + 1 == nr);
  assign wu_first  = (b_q == 0) && (row0_q == 0);
  assign wu_last   = (b_q + 1 == f_b) && (row0_q + nr == oh);

  logic              g_ok  [T][T];
  always_comb begin
    for (int unsigned m = 0; m < T; m++) begin
      for (int unsigned n = 0; n < T; n++) begin
        // Products are exact in 32 bits (|p| <= 2^30), and so is rs(p, s)
        // for every s (shifts of 32 or more leave the sign).
        logic signed [31:0] prod, term;
        logic [AccWWu-1:0]  sum;
        sum = set_first ? '0 : lacc_q[m][n];
        for (int unsigned p = 0; p < P; p++) begin
          prod = $signed(ob_rd[p][AccW*m +: 16]) * $signed(ib_rd[p][16*n +: 16]);
          term = (f_gpre == 0) ? prod :
                 (prod >>> f_gpre) + ((prod >>> (f_gpre - 6'd1)) & 32'sd1);
          if (px_ok[p]) sum = sum + AccWWu'(term);
        end
        lacc_d[m][n] = sum;
        g_ok[m][n]   = ((mc_q + mtl_q) * T32 + 32'(m) < out_c) &&
                       ((nc_q + ntl_q) * T32 + 32'(n) < red_c);
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
        sgd_g[a][i]    = g_fwd(GAW'(((ptr_q + 32'(a)) * T32 + 32'(i)) >> 1));
        sgd_prod[a][i] = DW'($signed(sgd_g[a][i][AccWWu-1:0])) * $signed(DW'({1'b0, f_lrm}));
      end
    end
  end
  always_ff @(posedge clk_i) begin
    for (int unsigned i = 0; i < T; i++) begin
      sgd_prod_q[i] <= sgd_prod[beat][i];
      sgd_ok_q[i]   <= sgd_g[beat][i][AccWWu];
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
      q        = ptr_q * T32 + 32'(i);
      master   = $signed(m_words[16*i +: 32]);
      m_idx[i] = GAW'(q >> 1);
      m_we[i]  = q[0];
      sh       = sgd_prod_q[i] >>> f_lrsh;
      rbit     = (f_lrsh != 0) && (((sgd_prod_q[i] >>> (f_lrsh - 6'd1)) & DW'(1)) != 0);
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

  // WU write-back words: masters (low word first), then the w16 copy
  // sat16(rs(master', MF)).
  logic [BeatW-1:0] mw_data, w16_data;
  always_comb begin
    for (int unsigned i = 0; i < T; i++) begin
      logic [31:0]        q;
      logic signed [31:0] mst;
      logic signed [31:0] r;
      q   = ptr_q * T32 + 32'(i);
      mst = $signed(gbuf_q[GAW'(q >> 1)][31:0]);
      mw_data[16*i +: 16] = q[0] ? mst[31:16] : mst[15:0];
      mst = $signed(gbuf_q[GAW'(q)][31:0]);
      r   = (mst >>> MF) + ((mst >>> (MF - 1)) & 32'sd1);
      if (r > 32'sd32767) begin
        w16_data[16*i +: 16] = 16'sh7fff;
      end else if (r < -32'sd32768) begin
        w16_data[16*i +: 16] = 16'sh8000;
      end else begin
        w16_data[16*i +: 16] = r[15:0];
      end
    end
  end

  logic [BeatW-1:0]  cb_rd, c_new;
  logic [T*AccW-1:0] p_out;
  assign cb_rd = cbuf_q[pix_q.cb];
  always_comb begin
    for (int unsigned m = 0; m < T; m++) begin
      logic signed [15:0] v, g, pv;
      logic [15:0]        word;
      logic [1:0]         code;
      logic               ok;
      v  = $signed(ib_rd[0][16*m +: 16]);
      ok = (mc_q + mtl_q) * T32 + 32'(m) < out_c;
      best_d[m]  = best_q[m];
      bcode_d[m] = bcode_q[m];
      if (cand == 2'd0 || v > $signed(best_q[m])) begin
        best_d[m]  = v;
        bcode_d[m] = cand;
      end
      word = (p_col[2:0] == 3'd0) ? '0 : cb_rd[16*m +: 16];
      word[2*p_col[2:0] +: 2] = ok ? bcode_d[m] : 2'd0;
      c_new[16*m +: 16] = word;
      code = cb_rd[16*m + 2*p_col[2:0] +: 2];
      g    = (code == {r_q[0], x_q[0]}) ? v : '0;
      pv   = is_pf ? $signed(best_d[m]) : g;
      p_out[AccW*m +: AccW] = ok ? AccW'(pv) : '0;
    end
  end

  // Write-back: sat16(rs(acc, s_out)), ReLU (FP) or mask (BP), padded
  // channels zero (pools write their values through it with s_out = 0).
  logic [BeatW-1:0] conv_data;
  always_comb begin
    for (int unsigned m = 0; m < T; m++) begin
      logic signed [AccW-1:0] acc, sh, rbit, v;
      logic signed [15:0]     y;
      acc  = $signed(ob_rd[0][AccW*m +: AccW]);
      sh   = acc >>> f_sout;
      rbit = (f_sout == 0) ? '0 : AccW'((acc >>> (f_sout - 6'd1)) & AccW'(1));
      v    = sh + rbit;
      if (v > AccW'(32767)) begin
        y = 16'sh7fff;
      end else if (v < -AccW'(32768)) begin
        y = -16'sh8000;
      end else begin
        y = 16'(v);
      end
      if ((f_relu && y < 0) || (f_mask && !mb_rd[m]) ||
          ((mc_q + dm_q) * T32 + 32'(m) >= out_c)) begin
        y = '0;
      end
      conv_data[16*m +: 16] = y;
    end
  end

  always_comb begin
    unique case (phase_q)
      PhMWr:   wr_data_o = mw_data;
      PhW16:   wr_data_o = w16_data;
      PhCWr:   wr_data_o = cbuf_q[OutAW'(ptr_q)];
      default: wr_data_o = conv_data;
    endcase
  end

  /////////////
  // Control //
  /////////////

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
    if (is_pool) begin
      nest = '{LvBand, LvChunkM, LvImage, LvChunkM};
      nlev = 3'd3;
    end else if (is_wu) begin
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
            carry     = row0_q + nr == oh;
            nx_row0_c = carry ? '0 : row0_q + nr;
          end
          LvImage: begin
            carry  = b_q + 1 == f_b;
            nx_b_c = carry ? '0 : b_q + 1;
          end
          default: begin  // LvChunkM: a new chunk loads its weights
            carry        = mc_q + mtn == oct;
            nx_mc_c      = carry ? '0 : mc_q + mtn;
            nx_chunk_m_c = 1'b1;
          end
        endcase
      end
    end
    step_last_c = carry;
  end

  // Step plan. The loop counters and the extent change together (StCheck,
  // StNext); then PlanCycles plan cycles (StPlan) let four stages of
  // registers settle before the step starts: (1) the next step's counters
  // and the products of this step's transfers, (2) their addresses and the
  // next step's extent, (3) the products of the next step's input tile
  // (the prefetch's), (4) its address. Every stage is a register fed by
  // registers, with at most one multiplier or one sum of three between.
  logic [31:0] nx_nc, nx_row0, nx_b, nx_mc;
  logic        nx_chunk_m, step_last;
  extent_t     nx_ext_q;
  tile_p_t     cur_in_p, nx_in_p;
  tile_t       cur_in, nx_in;
  always_ff @(posedge clk_i) begin
    // Stage 1.
    nx_nc      <= nx_nc_c;
    nx_row0    <= nx_row0_c;
    nx_b       <= nx_b_c;
    nx_mc      <= nx_mc_c;
    nx_chunk_m <= nx_chunk_m_c;
    step_last  <= step_last_c;
    cur_in_p   <= in_tile_p(17'(nc_q), 17'(row0_q), 17'(b_q), 17'(mc_q), ext_q);
    // Stage 2.
    cur_in     <= tile_sum(cur_in_p);
    nx_ext_q   <= extent(nx_nc, nx_row0, nx_mc);
    // Stage 3.
    nx_in_p    <= in_tile_p(17'(nx_nc), 17'(nx_row0), 17'(nx_b), 17'(nx_mc), nx_ext_q);
    // Stage 4.
    nx_in      <= tile_sum(nx_in_p);
  end

  // Prefetcher: the next step's input tile into the other input-buffer
  // bank, started as this step's compute starts; it owns the memory port
  // until done (the main transfers wait for it).
  typedef enum logic [1:0] {
    PfIdle,
    PfReq,
    PfData
  } pf_state_e;
  pf_state_e   pf_q, pf_d;
  tile_t       pf_t_q, pf_t_d;
  logic [31:0] pf_left_q, pf_left_d, pf_ptr_q, pf_ptr_d;
  logic        pf_have_q, pf_have_d;  // the other bank holds the next step's input
  logic        enter_compute, pf_beat;
  assign pf_beat = (pf_q == PfData) && rd_valid_i;

  always_comb begin
    pf_d        = pf_q;
    pf_t_d      = pf_t_q;
    pf_left_d   = pf_left_q;
    pf_ptr_d    = pf_ptr_q;
    pf_have_d   = pf_have_q;
    unique case (pf_q)
      PfIdle: begin
        if (enter_compute && !step_last) begin
          pf_d        = PfReq;
          pf_t_d      = nx_in;
          pf_ptr_d    = '0;
        end
      end
      PfReq: begin
        if (req_ready_i) begin
          pf_d      = PfData;
          pf_left_d = pf_t_q.beats;
        end
      end
      default: begin  // PfData
        if (pf_beat) begin
          pf_ptr_d  = pf_ptr_q + 1;
          pf_left_d = pf_left_q - 1;
          if (pf_left_q == 32'd1) begin
            pf_t_d.n    = pf_t_q.n - 1;
            pf_t_d.addr = pf_t_q.addr + pf_t_q.stride;
            if (pf_t_q.n != 32'd1) begin
              pf_d = PfReq;
            end else begin
              pf_d      = PfIdle;
              pf_have_d = 1'b1;
            end
          end
        end
      end
    endcase
    if (state_q == StCheck || (state_q == StStep && pf_have_q)) begin
      pf_have_d = 1'b0;
    end
  end

  // Memory port.
  logic wr_phase, pf_busy;
  assign pf_busy = pf_q != PfIdle;
  assign wr_phase    = (phase_q == PhOut) || (phase_q == PhMWr) || (phase_q == PhW16) ||
                       (phase_q == PhCWr);
  assign req_valid_o = (state_q == StReq && !pf_busy) || (pf_q == PfReq);
  assign req_addr_o  = pf_busy ? pf_t_q.addr : bx_q.addr;
  assign req_len_o   = (pf_busy ? pf_t_q.beats : bx_q.beats) * T32;
  assign req_write_o = !pf_busy && wr_phase;
  assign rd_ready_o  = ((state_q == StData) && !wr_phase) || (pf_q == PfData);
  assign wr_valid_o  = (state_q == StData) && wr_phase;
  assign desc_ready_o = state_q == StIdle;

  assign beat = (state_q == StData) && (wr_phase ? wr_ready_i : rd_valid_i);

  // This step's transfers (stage 1 of the plan): the output (and act_in)
  // tile of the band, the pools' input-size tile (2 nr rows of W) and
  // argmax tile (nr rows of cw words per lane), and the chunk pair's
  // weight blocks (FP, BP: the weight tile, one burst per m tile, merged
  // when contiguous; BP: forward blocks (reduction tile, output tiles), per
  // reduction tile. WU: the masters, the same runs at twice the size, and
  // their int16 copy). Offsets are from the tensors' bases.
  logic [31:0] drain_off, drain_n, big_off, big_beats, small_beats, code_off, code_beats;
  off_p_t      drain_p, big_p, code_p;
  logic [31:0] wt_pa, wt_pc;
  logic [31:0] tile_beats;
  tile_t       wt;
  logic        whole, wt_whole;
  logic [16:0] wt_cnt, wt_per;
  assign whole    = nr == oh;
  assign drain_n  = whole ? 32'd1 : mtn;
  assign wt_whole = is_bp ? mtn == oct : ntn == rct;
  assign wt_cnt   = 17'(is_bp ? ntn : mtn);
  assign wt_per   = 17'(is_bp ? mtn : ntn);
  logic [16:0] wt_a, wt_c;
  assign wt_a     = 17'(is_bp ? nc_q : mc_q);
  assign wt_c     = 17'(is_bp ? mc_q : nc_q);
  always_ff @(posedge clk_i) begin
    drain_p     <= lay_off(lay_out.o, 17'(b_q), 17'(mc_q), 17'(row0_q));
    big_p       <= lay_off(lay_big.o, 17'(b_q), 17'(mc_q), 17'(row0_q));
    code_p      <= lay_off(lay_code.o, 17'(b_q), 17'(mc_q), 17'(row0_q));
    drain_off   <= off_sum(drain_p);
    big_off     <= off_sum(big_p);
    code_off    <= off_sum(code_p);
    small_beats <= lay_beats(lay_out.z, whole, 17'(mtn), 17'(nr));
    big_beats   <= lay_beats(lay_big.z, whole, 17'(mtn), 17'(nr));
    code_beats  <= lay_beats(lay_code.z, whole, 17'(mtn), 17'(nr));
    // Beats of one channel tile of the drained band.
    tile_beats  <= lay_beats(is_pb ? lay_big.z : lay_out.z, 1'b0, 17'(mtn), 17'(nr));
    // FP, WU: block (mc, nc) of [oct][rct]; BP: block (nc, mc) of [rct][oct].
    wt_pa       <= 32'(wt_a) * wt_sa;
    wt_pc       <= 32'(wt_c) * wblk;
    wt.addr     <= wt_pa + wt_pc;
    wt.stride   <= wt_sa;
    wt.n        <= wt_whole ? 32'd1 : 32'(wt_cnt);
    wt.beats    <= wt_whole ? 32'(wt_cnt) * wt_sw : 32'(wt_per) * wt_sp;
  end

  // What follows the step's input tile (loaded or prefetched): the weight
  // tile (FP, BP, unless resident), the argmax words (POOL_BWD), the dO
  // tile (WU), or the compute. Also what follows the weight, argmax and dO
  // tiles: the compute.
  logic   al_load;
  phase_e al_phase;
  tile_t  al_tile;
  state_e c_state;
  assign c_state = is_pool ? StPool : is_wu ? StFire : StWLoad;
  always_comb begin
    al_load  = (state_q == StStep || phase_q == PhIn) && (load_w || is_pb || is_wu);
    if (load_w) begin
      al_phase = PhW;
      al_tile  = '{addr: f_wb + wt.addr, stride: wt.stride, n: wt.n, beats: wt.beats};
    end else if (is_pb) begin
      al_phase = PhCRd;
      al_tile  = '{addr: f_aux + code_off, stride: lay_code.o.sc, n: drain_n, beats: code_beats};
    end else begin
      // WU: the dO tile of the band, at the output tile's offsets.
      al_phase = PhD;
      al_tile  = '{addr: f_aux + drain_off, stride: lay_out.o.sc, n: drain_n,
                   beats: small_beats};
    end
  end

  always_comb begin
    state_d    = state_q;
    phase_d    = phase_q;
    dcount_d   = dcount_q;
    done_d     = done_q;
    error_d    = error_q;
    mc_d       = mc_q;
    b_d        = b_q;
    row0_d     = row0_q;
    nc_d       = nc_q;
    loaded_d   = loaded_q;
    mtl_d      = mtl_q;
    ntl_d      = ntl_q;
    ky_d       = ky_q;
    kx_d       = kx_q;
    mi_d       = mi_q;
    r_d        = r_q;
    x_d        = x_q;
    bx_d       = bx_q;
    bx_left_d  = bx_left_q;
    ptr_d      = ptr_q;
    dm_d       = dm_q;
    dcnt_d     = dcnt_q;
    wswap      = 1'b0;
    ib_bank_d  = ib_bank_q;
    enter_compute = 1'b0;
    mi_d       = fill_now ? mi_q + 1 : mi_q;
    pend_d     = pend_q;
    ext_d      = ext_q;
    plan_d     = plan_q;

    unique case (state_q)
      StIdle: begin
        if (desc_valid_i) begin
          if (dcount_q == 4'(DescWords - 1)) begin
            dcount_d = '0;
            state_d  = StCheck;
          end else begin
            dcount_d = dcount_q + 4'd1;
          end
          if (dcount_q == '0) begin
            done_d  = 1'b0;
            error_d = 1'b0;
          end
        end
      end

      StCheck: begin
        if (bad) begin
          error_d = 1'b1;
          done_d  = 1'b1;
          state_d = StIdle;
        end else begin
          mc_d     = '0;
          b_d      = '0;
          row0_d   = '0;
          nc_d     = '0;
          ext_d    = extent('0, '0, '0);
          loaded_d = 1'b0;
          state_d  = StPlan;
          plan_d   = '0;
        end
      end

      StPlan: begin
        plan_d = plan_q + 1;
        if (32'(plan_q) == PlanCycles - 1) state_d = StStep;
      end

      // Start of a step: the input tile's bursts, unless it was prefetched
      // (then switch banks and go on with the rest of the step's loads).
      // The compute counters start from zero.
      StStep: begin
        phase_d = PhIn;
        ptr_d   = '0;
        mtl_d   = '0;
        ntl_d   = '0;
        ky_d    = '0;
        kx_d    = '0;
        mi_d    = '0;
        r_d     = '0;
        x_d     = '0;
        if (pf_have_q) begin
          ib_bank_d = !ib_bank_q;
          if (al_load) begin
            phase_d     = al_phase;
            bx_d        = al_tile;
            loaded_d    = loaded_q || al_phase == PhW;
            state_d     = StReq;
          end else begin
            enter_compute = 1'b1;
            state_d       = c_state;
          end
        end else begin
          bx_d        = cur_in;
          state_d     = StReq;
        end
      end

      StReq: begin
        if (req_ready_i && !pf_busy) begin
          bx_left_d = bx_q.beats;
          state_d   = StData;
        end
      end

      StData: begin
        if (beat) begin
          ptr_d     = ptr_q + 1;
          pend_d    = rd_data_i[BeatW-16 +: 16];
          bx_left_d = bx_left_q - 1;
          if (phase_q == PhOut) begin
            if (dcnt_q + 1 == tile_beats) begin
              dcnt_d = '0;
              dm_d   = dm_q + 1;
            end else begin
              dcnt_d = dcnt_q + 1;
            end
          end
          if (bx_left_q == 32'd1) begin
            bx_d.n    = bx_q.n - 1;
            bx_d.addr = bx_q.addr + bx_q.stride;
            if (bx_q.n != 32'd1) begin
              state_d = StReq;
            end else if (phase_q == PhOut && is_pf) begin
              // POOL_FWD: the band's argmax words after its maxima.
              phase_d     = PhCWr;
              ptr_d       = '0;
              bx_d        = '{addr: f_aux + code_off, stride: lay_code.o.sc,
                            n: drain_n, beats: code_beats};
              state_d     = StReq;
            end else if (al_load) begin
              phase_d     = al_phase;
              ptr_d       = '0;
              bx_d        = al_tile;
              loaded_d    = loaded_q || al_phase == PhW;
              state_d     = StReq;
            end else if (phase_q == PhMRd) begin
              // Masters updated in the gradient buffer: write them back.
              phase_d     = PhMWr;
              ptr_d       = '0;
              bx_d.addr   = f_out + 2 * wt.addr;
              bx_d.n      = wt.n;
              state_d     = StReq;
            end else if (phase_q == PhMWr && f_w16) begin
              phase_d     = PhW16;
              ptr_d       = '0;
              bx_d        = '{addr: f_w16b + wt.addr, stride: wt.stride,
                            n: wt.n, beats: wt.beats};
              state_d     = StReq;
            end else if (phase_q == PhMask) begin
              // act_in read: now write the band to the same offsets of out.
              phase_d   = PhOut;
              ptr_d     = '0;
              bx_d.addr = f_out + drain_off;
              bx_d.n    = drain_n;
              state_d   = StReq;
            end else if (wr_phase) begin
              state_d = StNext;
            end else begin
              enter_compute = 1'b1;
              state_d       = c_state;
            end
          end
        end
      end

      // Wait for the current set's weights (T cycles at the start of a
      // step, less when a short set left its shadow incomplete).
      StWLoad: begin
        if (sh_full) begin
          wswap   = 1'b1;
          mi_d    = '0;
          r_d     = '0;
          x_d     = '0;
          state_d = StFire;
        end
      end

      StFire: begin
        // A new set fires on at once when its shadow is complete.
        state_d = (is_wu || sh_full) ? StFire : StWLoad;
        if (set_last && has_next && sh_full) begin
          wswap = 1'b1;
          mi_d  = '0;
        end
        if (set_last) begin
          x_d = '0;
          r_d = '0;
        end
        if (x_q + P32 < ow) begin
          x_d     = x_q + P32;
          state_d = StFire;
        end else if (r_q + 1 != nr) begin
          x_d     = '0;
          r_d     = r_q + 1;
          state_d = StFire;
        end else if (kx_q + 1 != k) begin
          kx_d = kx_q + 1;
        end else if (ky_q + 1 != k) begin
          kx_d = '0;
          ky_d = ky_q + 1;
        end else if (ntl_q + 1 != ntn) begin
          kx_d  = '0;
          ky_d  = '0;
          ntl_d = ntl_q + 1;
        end else if (mtl_q + 1 != mtn) begin
          kx_d  = '0;
          ky_d  = '0;
          ntl_d = '0;
          mtl_d = mtl_q + 1;
        end else if (is_wu) begin
          if (wu_last) begin
            // The chunk pair's gradients are complete: read the masters.
            phase_d     = PhMRd;
            ptr_d       = '0;
            bx_d        = '{addr: f_wb + 2 * wt.addr, stride: 2 * wt.stride,
                          n: wt.n, beats: 2 * wt.beats};
            state_d     = StReq;
          end else begin
            state_d = StNext;
          end
        end else if (last_chunk) begin
          // The band drains: one burst per m tile, merged when contiguous
          // (BP with relu_mask reads act_in at the same offsets first).
          phase_d     = f_mask ? PhMask : PhOut;
          ptr_d       = '0;
          dm_d        = '0;
          dcnt_d      = '0;
          bx_d        = '{addr: (f_mask ? f_aux : f_out) + drain_off, stride: lay_out.o.sc,
                        n: drain_n, beats: small_beats};
          state_d = StReq;
        end else begin
          state_d = StNext;
        end
      end

      StPool: begin
        if (!cand_last) begin
          kx_d = kx_q ^ 32'd1;
          ky_d = (kx_q == 32'd1) ? 32'd1 : ky_q;
        end else begin
          kx_d = '0;
          ky_d = '0;
          if (x_q + 1 != (is_pf ? ow : f_w)) begin
            x_d = x_q + 1;
          end else if (r_q + 1 != (is_pf ? nr : 2 * nr)) begin
            x_d = '0;
            r_d = r_q + 1;
          end else if (mtl_q + 1 != mtn) begin
            x_d   = '0;
            r_d   = '0;
            mtl_d = mtl_q + 1;
          end else begin
            // The band drains: the pooled tile (POOL_FWD, then its argmax
            // words) or the input-size gradient tile (POOL_BWD).
            phase_d     = PhOut;
            ptr_d       = '0;
            dm_d        = '0;
            dcnt_d      = '0;
            bx_d = is_pf ?
                '{addr: f_out + drain_off, stride: lay_out.o.sc, n: drain_n, beats: small_beats} :
                '{addr: f_out + big_off, stride: lay_big.o.sc, n: drain_n, beats: big_beats};
            state_d     = StReq;
          end
        end
      end

      // Advance the loop nest, innermost level first: a level that wraps
      // resets and carries into the next; a carry out of the last is done.
      // (after the prefetch of the next step's input, if any, is done).
      StNext: begin
        if (!pf_busy) begin
          nc_d   = nx_nc;
          row0_d = nx_row0;
          b_d    = nx_b;
          mc_d   = nx_mc;
          ext_d  = nx_ext_q;
          if (nx_chunk_m) loaded_d = 1'b0;
          if (step_last) begin
            done_d  = 1'b1;
            state_d = StIdle;
          end else begin
            state_d = StPlan;
            plan_d  = '0;
          end
        end
      end

      default: state_d = StIdle;
    endcase
  end

  // The scaled counters' next values.
  always_comb begin
    s_nt_d = scaled(ntl_q, ntl_d, s_nt_q, 32'(nrinw_q));
    s_ky_d = scaled(ky_q, ky_d, s_ky_q, iw);
    s_ri_d = scaled(r_q, r_d, s_ri_q, iw);
    s_mt_d = scaled(mtl_q, mtl_d, s_mt_q, 32'(nrow_q));
    s_ro_d = scaled(r_q, r_d, s_ro_q, ow);
  end

  // Stall attribution (model::Stats): waiting for the prefetcher (a main
  // transfer or the advance held back by it) is an input stall; a transfer
  // of the main machine stalls for its phase's cause; StWLoad waits for
  // weights. StFire and StPool fire; StCheck, the plan cycles, StStep and
  // StNext (once the prefetch is done) are overhead.
  logic xfer, stall_in, stall_w, stall_out;
  assign xfer      = (state_q == StReq || state_q == StData) && !(state_q == StReq && pf_busy);
  assign stall_in  = ((state_q == StReq || state_q == StNext) && pf_busy) ||
                     (xfer && (phase_q == PhIn || phase_q == PhD || phase_q == PhCRd));
  assign stall_w   = (state_q == StWLoad) || (xfer && (phase_q == PhW || phase_q == PhMRd));
  assign stall_out = xfer && (phase_q == PhMask || phase_q == PhOut || phase_q == PhMWr ||
                              phase_q == PhW16 || phase_q == PhCWr);

  assign busy_o  = (state_q != StIdle);
  assign done_o  = done_q;
  assign error_o = error_q;
  assign cnt_cycles_o   = cnt_cycles_q;
  assign cnt_fired_o    = cnt_fired_q;
  assign cnt_stall_in_o  = cnt_sin_q;
  assign cnt_stall_w_o   = cnt_sw_q;
  assign cnt_stall_out_o = cnt_sout_q;
  assign cnt_rd_words_o = cnt_rd_q;
  assign cnt_wr_words_o = cnt_wr_q;
  assign cnt_bursts_o   = cnt_bursts_q;

  ///////////////
  // Registers //
  ///////////////

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q      <= StIdle;
      phase_q      <= PhIn;
      dcount_q     <= '0;
      plan_q       <= '0;
      done_q       <= 1'b0;
      error_q      <= 1'b0;
      mc_q         <= '0;
      b_q          <= '0;
      row0_q       <= '0;
      nc_q         <= '0;
      loaded_q     <= 1'b0;
      mtl_q        <= '0;
      ntl_q        <= '0;
      ky_q         <= '0;
      kx_q         <= '0;
      mi_q         <= '0;
      r_q          <= '0;
      x_q          <= '0;
      bx_q         <= '0;
      bx_left_q    <= '0;
      ptr_q        <= '0;
      dm_q         <= '0;
      dcnt_q       <= '0;
      ib_bank_q    <= 1'b0;
      pf_q         <= PfIdle;
      pf_t_q       <= '0;
      pf_left_q    <= '0;
      pf_ptr_q     <= '0;
      pf_have_q    <= 1'b0;
      gw_q         <= 1'b0;
      cnt_cycles_q <= '0;
      cnt_fired_q  <= '0;
      cnt_rd_q     <= '0;
      cnt_wr_q     <= '0;
      cnt_bursts_q <= '0;
      cnt_sin_q    <= '0;
      cnt_sw_q     <= '0;
      cnt_sout_q   <= '0;
    end else begin
      state_q      <= state_d;
      ib_bank_q    <= ib_bank_d;
      pf_q         <= pf_d;
      pf_t_q       <= pf_t_d;
      pf_left_q    <= pf_left_d;
      pf_ptr_q     <= pf_ptr_d;
      pf_have_q    <= pf_have_d;
      gw_q         <= state_q == StFire && is_wu && set_last;
      phase_q      <= phase_d;
      dcount_q     <= dcount_d;
      plan_q       <= plan_d;
      done_q       <= done_d;
      error_q      <= error_d;
      mc_q         <= mc_d;
      b_q          <= b_d;
      row0_q       <= row0_d;
      nc_q         <= nc_d;
      loaded_q     <= loaded_d;
      mtl_q        <= mtl_d;
      ntl_q        <= ntl_d;
      ky_q         <= ky_d;
      kx_q         <= kx_d;
      mi_q         <= mi_d;
      r_q          <= r_d;
      x_q          <= x_d;
      bx_q         <= bx_d;
      bx_left_q    <= bx_left_d;
      ptr_q        <= ptr_d;
      dm_q         <= dm_d;
      dcnt_q       <= dcnt_d;
      if (state_q == StIdle && desc_valid_i && dcount_q == '0) begin
        cnt_cycles_q <= '0;
        cnt_fired_q  <= '0;
        cnt_rd_q     <= '0;
        cnt_wr_q     <= '0;
        cnt_bursts_q <= '0;
        cnt_sin_q    <= '0;
        cnt_sw_q     <= '0;
        cnt_sout_q   <= '0;
      end else begin
        if (state_q != StIdle) cnt_cycles_q <= cnt_cycles_q + 1;
        if (state_q == StFire || state_q == StPool) cnt_fired_q <= cnt_fired_q + 1;
        if ((beat && !wr_phase) || pf_beat) cnt_rd_q <= cnt_rd_q + T32;
        if (beat && wr_phase) cnt_wr_q <= cnt_wr_q + T32;
        if (req_valid_o && req_ready_i) cnt_bursts_q <= cnt_bursts_q + 1;
        if (stall_in)  cnt_sin_q  <= cnt_sin_q + 1;
        if (stall_w)   cnt_sw_q   <= cnt_sw_q + 1;
        if (stall_out) cnt_sout_q <= cnt_sout_q + 1;
      end
    end
  end

  // The input buffer has one write port (the load of the current bank or
  // the prefetch into the other: read data arrive for one burst at a time),
  // so synthesis can map it to distributed RAM instead of registers.
  logic            ib_we;
  logic [IbAW-1:0] ib_waddr;
  assign ib_we    = (beat && phase_q == PhIn) || pf_beat;
  assign ib_waddr = pf_beat ? ib_addr(!ib_bank_q, IbAW'(pf_ptr_q)) :
                             ib_addr(ib_bank_q, IbAW'(ptr_q));

  // Descriptor words, buffers and weight registers (no reset).
  always_ff @(posedge clk_i) begin
    if (state_q == StIdle && desc_valid_i) begin
      desc_q[dcount_q] <= desc_data_i;
    end
    if (ib_we) begin
      ibuf_q[ib_waddr] <= rd_data_i;
    end
    if (beat && phase_q == PhW) begin
      wbuf_q[WAW'(ptr_q)] <= rd_data_i;
    end
    if (state_q == StFire && !is_wu) begin
      for (int unsigned p = 0; p < P; p++) begin
        if (px_ok[p]) obuf_q[ob_idx + OutAW'(p)] <= ob_new[p];
      end
    end
    if (beat && phase_q == PhD) begin
      for (int unsigned m = 0; m < T; m++) begin
        obuf_q[OutAW'(ptr_q)][AccW*m +: 16] <= rd_data_i[16*m +: 16];
      end
    end
    if (state_q == StFire && is_wu) begin
      lacc_q <= lacc_d;
    end
    if (state_q == StFire && is_wu && set_last) begin
      gw_row_q   <= g_row;
      gw_first_q <= wu_first;
      gw_ok_q    <= g_ok;
    end
    if (gw_q) begin
      for (int unsigned j = 0; j < T * T; j++) begin
        gbuf_q[gw_row_q + GAW'(j)] <= gw_val[j];
        gval_q[gw_row_q + GAW'(j)] <= gw_ok_q[j / T][j % T];
      end
    end
    if (beat && phase_q == PhMRd) begin
      for (int unsigned i = 0; i < T; i++) begin
        if (m_we[i]) gbuf_q[m_idx[i]] <= m_new[i];
      end
    end
    // Buffer indexes and the next set, from the next cycle's counters.
    s_nt_q <= s_nt_d;
    s_ky_q <= s_ky_d;
    s_ri_q <= s_ri_d;
    s_mt_q <= s_mt_d;
    s_ro_q <= s_ro_d;
    for (int unsigned p = 0; p < P; p++) begin
      ib_idx_q[p] <= IbAW'(s_nt_d + s_ky_d + s_ri_d + x_d + kx_d) + ib_c_q + IbAW'(p);
    end
    ob_fi_q <= OutAW'(s_mt_d + s_ro_d + x_d);
    nxs_q   <= next_set(mtl_d, ntl_d, ky_d, kx_d);
    pix_q   <= pool_index(x_d, r_d, ky_d[0], kx_d[0], OutAW'(mtl_d));
    ext_q   <= ext_d;
    pend_q <= pend_d;
    if (state_q == StPool) begin
      best_q  <= best_d;
      bcode_q <= bcode_d;
      if (cand_last) obuf_q[pix_q.ob] <= p_out;
      if (is_pf && cand_last) cbuf_q[pix_q.cb] <= c_new;
    end
    if (beat && phase_q == PhCRd) begin
      cbuf_q[OutAW'(ptr_q)] <= rd_data_i;
    end
    if (beat && phase_q == PhMask) begin
      mbuf_q[OutAW'(ptr_q)] <= mb_new;
    end
    wsh_q <= wnext;
    if (wswap) wreg_q <= wnext;
  end

  ////////////////
  // Assertions //
  ////////////////

  // The 32-bit formulas of the buffer indexes: the narrow, registered
  // indexes above must equal them (modulo the address width), and they
  // must be in range. Simulation only (synthesis ignores assertions).
  logic [31:0] ib_ref [P];
  logic [31:0] ob_ref, wb_ref, g_ref, pib_ref, pcb_ref, pob_ref;
  logic        sgd_in_step;
  always_comb begin
    for (int unsigned p = 0; p < P; p++) begin
      ib_ref[p] = (ntl_q * nrin + (iy_p - pad - lo)) * iw + (x_q + 32'(p) + kx_q - pad);
    end
    ob_ref  = (mtl_q * nr + r_q) * ow + x_q;
    wb_ref  = is_bp ?
        (((s_ntl * mtn + s_mtl) * kk + (k - 1 - s_ky) * k + (k - 1 - s_kx)) * T32) + mi_q :
        (((s_mtl * ntn + s_ntl) * kk + s_ky * k + s_kx) * T32) + mi_q;
    g_ref   = ((mtl_q * ntn + ntl_q) * kk + ky_q * k + kx_q) * T32 * T32;
    pib_ref = is_pf ? (mtl_q * 2 * nr + 2 * r_q + ky_q) * f_w + 2 * x_q + kx_q :
                      (mtl_q * nr + r_q / 2) * ow + x_q / 2;
    pcb_ref = (mtl_q * nr + (is_pf ? r_q : r_q / 2)) * cw + p_col / 8;
    pob_ref = is_pf ? (mtl_q * nr + r_q) * ow + x_q : (mtl_q * 2 * nr + r_q) * f_w + x_q;
    // The SGD stage holds g * lr_mant of the beat's masters.
    sgd_in_step = 1'b1;
    for (int unsigned i = 0; i < T; i++) begin
      if (sgd_ok_q[i] != gval_q[m_idx[i]] ||
          sgd_prod_q[i] != DW'($signed(gbuf_q[m_idx[i]])) * $signed(DW'({1'b0, f_lrm}))) begin
        sgd_in_step = 1'b0;
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_ni && beat && phase_q == PhIn) begin
      assert (ptr_q < 32'(InBeats)) else $error("input buffer overrun at beat %0d", ptr_q);
    end
    if (rst_ni) begin
      assert (!(beat && !wr_phase && pf_beat))
        else $error("read data accepted for a burst and the prefetch in one cycle");
    end
    if (rst_ni && beat && phase_q == PhW) begin
      assert (ptr_q < 32'(WBeats)) else $error("weight buffer overrun at beat %0d", ptr_q);
    end
    if (rst_ni && beat && phase_q == PhMask) begin
      assert (ptr_q < 32'(OutBeats)) else $error("mask buffer overrun at beat %0d", ptr_q);
    end
    for (int unsigned p = 0; p < P; p++) begin
      if (rst_ni && state_q == StFire && in_ok[p]) begin
        assert (ib_ref[p] < 32'(InBeats)) else $error("input buffer read at %0d", ib_ref[p]);
        assert (ib_idx_q[p] == IbAW'(ib_ref[p]))
          else $error("input index %0d, expected %0d", ib_idx_q[p], ib_ref[p]);
      end
    end
    if (rst_ni) begin
      assert ((r_d == '0 || r_d == r_q || r_d == r_q + 1) &&
              (ky_d == '0 || ky_d == ky_q || ky_d == ky_q + 1) &&
              (ntl_d == '0 || ntl_d == ntl_q || ntl_d == ntl_q + 1) &&
              (mtl_d == '0 || mtl_d == mtl_q || mtl_d == mtl_q + 1))
        else $error("a scaled counter moved by more than one");
    end
    if (rst_ni && (state_q == StFire || state_q == StWLoad)) begin
      assert (nxs_q == next_set(mtl_q, ntl_q, ky_q, kx_q)) else $error("next set out of step");
    end
    if (rst_ni && fill_now) begin
      assert (wb_ref < 32'(WBeats)) else $error("weight buffer read at %0d", wb_ref);
      assert (wb_idx == WAW'(wb_ref)) else $error("weight index %0d, expected %0d", wb_idx, wb_ref);
    end
    if (rst_ni && state_q == StFire) begin
      assert (ob_ref < 32'(OutBeats)) else $error("output buffer overrun at %0d", ob_ref);
      assert (ob_fi_q == OutAW'(ob_ref))
        else $error("output index %0d, expected %0d", ob_fi_q, ob_ref);
    end
    if (rst_ni && state_q == StPool) begin
      assert (pib_ref < 32'(InBeats)) else $error("pool input read at %0d", pib_ref);
      assert (pob_ref < 32'(OutBeats)) else $error("pool output write at %0d", pob_ref);
      assert (pcb_ref < 32'(OutBeats)) else $error("argmax word at %0d", pcb_ref);
      assert (pix_q.ib == IbAW'(pib_ref) && pix_q.cb == OutAW'(pcb_ref) &&
              pix_q.ob == OutAW'(pob_ref))
        else $error("pool indexes out of step");
    end
    if (rst_ni && beat && phase_q == PhCRd) begin
      assert (ptr_q < 32'(OutBeats)) else $error("argmax buffer overrun at beat %0d", ptr_q);
    end
    if (rst_ni && state_q == StFire && is_wu && set_last) begin
      assert (g_ref + T32 * T32 <= 32'(GEnt)) else $error("gradient buffer overrun at %0d", g_ref);
      assert (g_row == GAW'(g_ref)) else $error("gradient row %0d, expected %0d", g_row, g_ref);
    end
    if (rst_ni && beat && (phase_q == PhMRd || phase_q == PhMWr)) begin
      assert ((ptr_q * T32 + T32 - 1) / 2 < 32'(GEnt)) else $error("master beat %0d beyond the gradient buffer", ptr_q);
    end
    if (rst_ni && beat && phase_q == PhMRd) begin
      assert (sgd_in_step) else $error("SGD stage out of step at beat %0d", ptr_q);
    end
    if (rst_ni && beat && phase_q == PhW16) begin
      assert (ptr_q * T32 + T32 <= 32'(GEnt)) else $error("w16 beat %0d beyond the gradient buffer", ptr_q);
    end
  end

endmodule
