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
  function automatic logic [IbAW-1:0] ib_addr(input logic bank, input logic [31:0] idx);
    return IbAW'((bank ? 32'(InBeats) : 32'd0) + idx);
  endfunction

  typedef enum logic [3:0] {
    StIdle,
    StCheck,
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

  // Derived shape (all 32-bit; fields are 16-bit so nothing overflows).
  // FP: in x [B,N,H,W], out y [B,M,Ho,Wo]. BP: in dO [B,M,Ho,Wo] padded by
  // K-1-pad, out dx [B,N,H,W]. `pad`, `ih`, `iw` below are the engine's
  // input geometry, `oh`, `ow` its output iteration space (pools: the
  // pooled size H/2 x W/2; `cw` words of argmax codes per row and lane).
  logic [31:0] k, fpad, pad, kk, ho, wo, ih, iw, oh, ow, out_c, red_c, rct, oct, mo, no, cw;
  assign k     = 32'(f_k);
  assign fpad  = 32'(f_pad);
  assign kk    = k * k;
  assign ho    = (f_h + 2 * fpad + 1 >= k) ? f_h + 2 * fpad + 1 - k : 32'd0;
  assign wo    = (f_w + 2 * fpad + 1 >= k) ? f_w + 2 * fpad + 1 - k : 32'd0;
  assign pad   = is_bp ? k - 1 - fpad : fpad;
  assign ih    = is_bp ? ho : f_h;
  assign iw    = is_bp ? wo : f_w;
  assign oh    = is_pool ? f_h / 2 : is_bp ? f_h : ho;
  assign ow    = is_pool ? f_w / 2 : is_bp ? f_w : wo;
  assign cw    = (ow + 7) / 8;
  assign out_c = is_bp ? f_n : f_m;
  assign red_c = is_bp ? f_m : f_n;
  assign rct   = (red_c + T32 - 1) / T32;
  assign oct   = (out_c + T32 - 1) / T32;
  assign mo  = f_mon / T32;
  assign no  = f_non / T32;

  // Capacity and shape checks (hls_rust::conv::model::check_tiling).
  logic [31:0] in_rows, in_cols;
  logic [63:0] need_in, need_w, need_out, need_g;
  logic        bad;
  assign in_rows  = f_tr + k - 1;
  assign in_cols  = iw + 2 * pad;
  // Pools: POOL_FWD reads 2Tr rows of W and writes Tr rows of W/2;
  // POOL_BWD the other way round.
  logic [63:0] pool_big, pool_small;
  logic        bad_shape;
  assign pool_big   = 64'(f_mon) * 64'(2 * f_tr) * 64'(f_w);
  assign pool_small = 64'(f_mon) * 64'(f_tr) * 64'(ow);
  assign need_in  = is_pf ? pool_big : is_pb ? pool_small :
                    64'(f_non) * 64'(in_rows) * 64'(in_cols);
  assign need_w   = (is_wu || is_pool) ? 64'd0 : 64'(f_mon) * 64'(f_non) * 64'(kk);
  assign need_out = is_pb ? pool_big : 64'(f_mon) * 64'(f_tr) * 64'(ow);
  assign need_g   = is_wu ? 64'(f_mon) * 64'(f_non) * 64'(kk) : 64'd0;
  assign bad_shape = is_pool ?
      (k != 32'd2) || (fpad != 0) || (f_m != f_n) || f_h[0] || f_w[0] || (f_non != 0) :
      !(k == 32'd1 || k == 32'd3) || (fpad >= k) || (ho == 0) || (wo == 0) ||
      (f_non == 0) || (f_non % T32 != 0) || (no > rct);
  assign bad = (f_magic != Magic) || (f_op > OpPoolBwd) || bad_shape ||
               (f_relu && f_op != OpFp) || (f_mask && !is_bp) || (f_w16 && !is_wu) ||
               (f_n == 0) || (f_m == 0) || (f_h == 0) || (f_w == 0) || (f_b == 0) || (f_tr == 0) || (f_tr > oh) ||
               (f_mon == 0) || (f_mon % T32 != 0) || (mo > oct) ||
               (need_in > 64'(InWords)) || (need_w > 64'(WWords)) ||
               (need_out > 64'(OutEnt)) || (need_g > 64'(GEnt));

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

  // A step's input tile: FP, BP, WU: its n tiles' input rows, full width;
  // POOL_FWD: 2 nr rows of W; POOL_BWD: the pooled gradient tile.
  function automatic tile_t in_tile(input logic [31:0] nc, row0, b, mc);
    extent_t e;
    tile_t   t;
    logic    whole;
    e     = extent(nc, row0, mc);
    whole = e.nr == oh;
    if (is_pf) begin
      t.addr   = f_in + (((b * oct + mc) * f_h + 2 * row0) * f_w) * T32;
      t.stride = f_h * f_w * T32;
      t.n      = whole ? 32'd1 : e.mtn;
      t.beats  = whole ? e.mtn * f_h * f_w : 2 * e.nr * f_w;
    end else if (is_pb) begin
      t.addr   = f_in + (((b * oct + mc) * oh + row0) * ow) * T32;
      t.stride = oh * ow * T32;
      t.n      = whole ? 32'd1 : e.mtn;
      t.beats  = whole ? e.mtn * oh * ow : e.nr * ow;
    end else begin
      t.addr   = f_in + (((b * rct + nc) * ih + e.lo) * iw) * T32;
      t.stride = ih * iw * T32;
      t.n      = (e.nrin == ih) ? 32'd1 : e.ntn;
      t.beats  = (e.nrin == ih) ? e.ntn * ih * iw : e.nrin * iw;
    end
    return t;
  endfunction

  // The burst engine: the bursts of the current transfer.
  tile_t bx_q, bx_d;

  extent_t cur;
  logic [31:0] mtn, ntn, nr, lo, nrin;
  logic        resident, load_w, first_chunk, last_chunk;
  assign cur  = extent(nc_q, row0_q, mc_q);
  assign mtn  = cur.mtn;
  assign ntn  = cur.ntn;
  assign nr   = cur.nr;
  assign lo   = cur.lo;
  assign nrin = cur.nrin;
  assign resident    = rct <= no;
  assign load_w      = !is_wu && !is_pool && (!resident || !loaded_q);
  assign first_chunk = nc_q == 0;
  assign last_chunk  = nc_q + ntn == rct;

  //////////////
  // Datapath //
  //////////////

  // Fire: P adjacent output columns x + p (those below ow), their input
  // pixels (padded coordinates) and accumulator entries.
  logic [31:0] iy_p, ob_idx, wb_idx;
  logic [31:0] ib_idx [P];
  logic        in_ok  [P];
  logic        px_ok  [P];
  logic        first_add;
  assign iy_p   = row0_q + r_q + ky_q;
  always_comb begin
    for (int unsigned p = 0; p < P; p++) begin
      logic [31:0] ix;
      ix        = x_q + 32'(p) + kx_q;
      px_ok[p]  = x_q + 32'(p) < ow;
      in_ok[p]  = px_ok[p] && (iy_p >= pad) && (iy_p - pad < ih) && (ix >= pad) &&
                  (ix - pad < iw);
      ib_idx[p] = (ntl_q * nrin + (iy_p - pad - lo)) * iw + (ix - pad);
    end
  end
  assign ob_idx = (phase_q == PhOut) ? ptr_q : (mtl_q * nr + r_q) * ow + x_q;
  // The set after the current one in the step (kx fastest, then ky, n
  // tile, m tile).
  logic [31:0] nx_mtl, nx_ntl, nx_ky, nx_kx;
  logic        has_next;
  always_comb begin
    nx_mtl   = mtl_q;
    nx_ntl   = ntl_q;
    nx_ky    = ky_q;
    nx_kx    = '0;
    has_next = 1'b1;
    if (kx_q + 1 != k) begin
      nx_kx = kx_q + 1;
    end else if (ky_q + 1 != k) begin
      nx_ky = ky_q + 1;
    end else if (ntl_q + 1 != ntn) begin
      nx_ky  = '0;
      nx_ntl = ntl_q + 1;
    end else if (mtl_q + 1 != mtn) begin
      nx_ky  = '0;
      nx_ntl = '0;
      nx_mtl = mtl_q + 1;
    end else begin
      has_next = 1'b0;
    end
  end

  // Shadow fill: mi_q rows (FP) or columns (BP) of the target set are in
  // the shadow. The target is the current set while waiting in StWLoad
  // (start of a step, or a set shorter than T cycles), else the next set
  // while the current one fires.
  logic [31:0] s_mtl, s_ntl, s_ky, s_kx;
  logic        fill_en, fill_now, sh_full;
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
  assign wb_idx = is_bp ?
      (((s_ntl * mtn + s_mtl) * kk + (k - 1 - s_ky) * k + (k - 1 - s_kx)) * T32) + mi_q :
      (((s_mtl * ntn + s_ntl) * kk + s_ky * k + s_kx) * T32) + mi_q;
  assign first_add = first_chunk && (ntl_q == 0) && (ky_q == 0) && (kx_q == 0);

  // Pools. POOL_FWD: four cycles per pooled pixel compare its 2x2 window in
  // row-major order (cand = {ky, kx}), the first strict maximum wins; the
  // fourth writes the maximum and puts the code into the lane's word of 8
  // columns (a new word at every eighth column: columns past W/2 stay 0).
  // POOL_BWD: one cycle per input-size pixel; the gradient goes where the
  // code of its pooled pixel points.
  logic [31:0] p_ib_idx, p_cb_idx, p_ob_idx, p_col;
  logic [1:0]  cand;
  logic        cand_last;
  assign cand      = {ky_q[0], kx_q[0]};
  assign cand_last = is_pb || (cand == 2'd3);
  assign p_col     = is_pf ? x_q : x_q / 2;
  assign p_ib_idx  = is_pf ? (mtl_q * 2 * nr + 2 * r_q + ky_q) * f_w + 2 * x_q + kx_q :
                             (mtl_q * nr + r_q / 2) * ow + x_q / 2;
  assign p_cb_idx  = (mtl_q * nr + (is_pf ? r_q : r_q / 2)) * cw + p_col / 8;
  assign p_ob_idx  = is_pf ? (mtl_q * nr + r_q) * ow + x_q : (mtl_q * 2 * nr + r_q) * f_w + x_q;

  // Buffer reads of the P columns (pools use column 0 only).
  logic [BeatW-1:0]  ib_rd [P];
  logic [T*AccW-1:0] ob_rd [P];
  logic [T*AccW-1:0] ob_new [P];
  logic [BeatW-1:0]  wb_rd;
  always_comb begin
    for (int unsigned p = 0; p < P; p++) begin
      if (is_pool) begin
        ib_rd[p] = (p == 0) ? ibuf_q[ib_addr(ib_bank_q, p_ib_idx)] : '0;
      end else begin
        ib_rd[p] = in_ok[p] ? ibuf_q[ib_addr(ib_bank_q, ib_idx[p])] : '0;
      end
      ob_rd[p] = obuf_q[OutAW'(ob_idx + 32'(p))];
    end
  end
  assign wb_rd = wbuf_q[WAW'(wb_idx)];

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
  // columns to its own accumulator; the set's last column group adds the
  // lane sums into the gradient buffer (cleared by the first step of the
  // chunk pair).
  logic [31:0] g_row;
  logic        set_first, set_last, wu_first, wu_last;
  assign g_row     = ((mtl_q * ntn + ntl_q) * kk + ky_q * k + kx_q) * T32 * T32;
  assign set_first = (x_q == 0) && (r_q == 0);
  assign set_last  = (x_q + P32 >= ow) && (r_q + 1 == nr);
  assign wu_first  = (b_q == 0) && (row0_q == 0);
  assign wu_last   = (b_q + 1 == f_b) && (row0_q + nr == oh);

  logic [AccWWu-1:0] g_new [T][T];
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
        g_new[m][n]  = (wu_first ? '0 : gbuf_q[GAW'(g_row + 32'(m) * T32 + 32'(n))]) + sum;
        g_ok[m][n]   = ((mc_q + mtl_q) * T32 + 32'(m) < out_c) &&
                       ((nc_q + ntl_q) * T32 + 32'(n) < red_c);
      end
    end
  end

  // WU master read: beat word i is word q = ptr*T + i of the chunk's master
  // words; an odd q completes master q/2 (its low word is the previous word,
  // perhaps of the previous beat). The fused SGD update replaces the
  // gradient with the new master: delta = rs(g * lr_mant, lr_shift),
  // master' = sat32(master - delta); padded channels give 0.
  localparam logic signed [DW:0] Max32 = (DW+1)'(64'sh7fff_ffff);
  localparam logic signed [DW:0] Min32 = -(DW+1)'(64'sh8000_0000);
  logic [AccWWu-1:0] m_new [T];
  logic [31:0]       m_idx [T];
  logic              m_we  [T];
  logic [BeatW+15:0] m_words;  // {beat, pending low word}
  assign m_words = {rd_data_i, pend_q};
  always_comb begin
    for (int unsigned i = 0; i < T; i++) begin
      logic [31:0]            q;
      logic signed [31:0]     master;
      logic signed [DW-1:0]   g, prod, delta;
      logic signed [DW:0]     diff;
      logic signed [31:0]     upd;
      q        = ptr_q * T32 + 32'(i);
      master   = $signed(m_words[16*i +: 32]);
      m_idx[i] = q >> 1;
      m_we[i]  = q[0];
      g        = DW'($signed(gbuf_q[GAW'(m_idx[i])]));
      prod     = g * $signed({1'b0, f_lrm});
      delta    = (f_lrsh == 0) ? prod :
                 (prod >>> f_lrsh) + ((prod >>> (f_lrsh - 6'd1)) & DW'(1));
      diff     = (DW+1)'(master) - (DW+1)'(delta);
      if (diff > Max32) begin
        upd = 32'sh7fff_ffff;
      end else if (diff < Min32) begin
        upd = 32'sh8000_0000;
      end else begin
        upd = 32'(diff);
      end
      m_new[i] = gval_q[GAW'(m_idx[i])] ? AccWWu'(upd) : '0;
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
  assign cb_rd = cbuf_q[OutAW'(p_cb_idx)];
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
  logic [31:0] nx_nc, nx_row0, nx_b, nx_mc;
  logic        nx_chunk_m, step_last;
  always_comb begin
    logic carry;
    nx_nc      = nc_q;
    nx_row0    = row0_q;
    nx_b       = b_q;
    nx_mc      = mc_q;
    nx_chunk_m = 1'b0;
    carry      = 1'b1;
    for (int unsigned l = 0; l < 4; l++) begin
      if (carry && l < nlev) begin
        carry = 1'b0;
        unique case (nest[l])
          LvChunkN: begin
            nx_nc = last_chunk ? '0 : nc_q + ntn;
            carry = last_chunk;
          end
          LvBand: begin
            carry   = row0_q + nr == oh;
            nx_row0 = carry ? '0 : row0_q + nr;
          end
          LvImage: begin
            carry = b_q + 1 == f_b;
            nx_b  = carry ? '0 : b_q + 1;
          end
          default: begin  // LvChunkM: a new chunk loads its weights
            carry      = mc_q + mtn == oct;
            nx_mc      = carry ? '0 : mc_q + mtn;
            nx_chunk_m = 1'b1;
          end
        endcase
      end
    end
    step_last = carry;
  end

  // Input tiles: this step's, and the next one's (prefetched while this
  // step computes).
  tile_t cur_in, nx_in;
  assign cur_in = in_tile(nc_q, row0_q, b_q, mc_q);
  assign nx_in  = in_tile(nx_nc, nx_row0, nx_b, nx_mc);

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

  // Output (and act_in) tile of the band: offset and bursts.
  logic [31:0] drain_off, drain_n;
  assign drain_off = (((b_q * oct + mc_q) * oh + row0_q) * ow) * T32;
  assign drain_n   = (nr == oh) ? 32'd1 : mtn;

  logic beat;
  assign beat = (state_q == StData) && (wr_phase ? wr_ready_i : rd_valid_i);

  // WU: the chunk pair's masters, one burst per m tile, merged when the
  // n-chunk spans every reduction tile (the int16 copy has the same runs at
  // half the size).
  logic [31:0] wblk, w_off, w_stride, w_n, w_beats;
  assign wblk     = T32 * T32 * kk;
  assign w_off    = (mc_q * rct + nc_q) * wblk;
  assign w_stride = rct * wblk;
  assign w_n      = (ntn == rct) ? 32'd1 : mtn;
  assign w_beats  = (ntn == rct) ? mtn * rct * T32 * kk : ntn * T32 * kk;

  // Pools: the input-size tile (2 nr rows of W), the pooled tile (nr rows
  // of W/2, at drain_off) and the argmax tile (nr rows of cw words per lane).
  logic [31:0] big_off, big_stride, big_beats, small_beats, code_off, code_beats, tile_beats;
  assign big_off     = (((b_q * oct + mc_q) * f_h + 2 * row0_q) * f_w) * T32;
  assign big_stride  = f_h * f_w * T32;
  assign big_beats   = (nr == oh) ? mtn * f_h * f_w : 2 * nr * f_w;
  assign small_beats = (nr == oh) ? mtn * oh * ow : nr * ow;
  assign code_off    = (((b_q * oct + mc_q) * oh + row0_q) * cw) * T32;
  assign code_beats  = (nr == oh) ? mtn * oh * cw : nr * cw;
  // Beats of one channel tile of the drained band.
  assign tile_beats  = is_pb ? 2 * nr * f_w : nr * ow;

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
    al_phase = PhW;
    al_tile  = '0;
    if (load_w) begin
      // The weight tile: one burst per m tile, merged when contiguous. BP:
      // forward blocks (reduction tile, output tiles), per reduction tile.
      al_tile.addr   = f_wb + (is_bp ? nc_q * oct + mc_q : mc_q * rct + nc_q) * T32 * T32 * kk;
      al_tile.stride = (is_bp ? oct : rct) * T32 * T32 * kk;
      if (is_bp) begin
        al_tile.n     = (mtn == oct) ? 32'd1 : ntn;
        al_tile.beats = (mtn == oct) ? ntn * oct * T32 * kk : mtn * T32 * kk;
      end else begin
        al_tile.n     = (ntn == rct) ? 32'd1 : mtn;
        al_tile.beats = (ntn == rct) ? mtn * rct * T32 * kk : ntn * T32 * kk;
      end
    end else if (is_pb) begin
      al_phase = PhCRd;
      al_tile  = '{addr: f_aux + code_off, stride: oh * cw * T32, n: drain_n, beats: code_beats};
    end else begin
      // WU: the dO tile of the band, at the output tile's offsets.
      al_phase = PhD;
      al_tile  = '{addr: f_aux + drain_off, stride: oh * ow * T32, n: drain_n,
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
          loaded_d = 1'b0;
          state_d  = StStep;
        end
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
              bx_d        = '{addr: f_aux + code_off, stride: oh * cw * T32,
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
              bx_d.addr   = f_out + 2 * w_off;
              bx_d.n      = w_n;
              state_d     = StReq;
            end else if (phase_q == PhMWr && f_w16) begin
              phase_d     = PhW16;
              ptr_d       = '0;
              bx_d        = '{addr: f_w16b + w_off, stride: w_stride,
                            n: w_n, beats: w_beats};
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
            bx_d        = '{addr: f_wb + 2 * w_off, stride: 2 * w_stride,
                          n: w_n, beats: 2 * w_beats};
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
          bx_d        = '{addr: (f_mask ? f_aux : f_out) + drain_off, stride: oh * ow * T32,
                        n: drain_n, beats: (nr == oh) ? mtn * oh * ow : nr * ow};
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
                '{addr: f_out + drain_off, stride: oh * ow * T32, n: drain_n, beats: small_beats} :
                '{addr: f_out + big_off, stride: big_stride, n: drain_n, beats: big_beats};
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
          if (nx_chunk_m) loaded_d = 1'b0;
          if (step_last) begin
            done_d  = 1'b1;
            state_d = StIdle;
          end else begin
            state_d = StStep;
          end
        end
      end

      default: state_d = StIdle;
    endcase
  end

  // Stall attribution (model::Stats): waiting for the prefetcher (a main
  // transfer or the advance held back by it) is an input stall; a transfer
  // of the main machine stalls for its phase's cause; StWLoad waits for
  // weights. StFire and StPool fire; StCheck, StStep and StNext (once the
  // prefetch is done) are overhead.
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
      phase_q      <= phase_d;
      dcount_q     <= dcount_d;
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
  assign ib_waddr = pf_beat ? ib_addr(!ib_bank_q, pf_ptr_q) : ib_addr(ib_bank_q, ptr_q);

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
        if (px_ok[p]) obuf_q[OutAW'(ob_idx + 32'(p))] <= ob_new[p];
      end
    end
    if (beat && phase_q == PhD) begin
      for (int unsigned m = 0; m < T; m++) begin
        obuf_q[OutAW'(ptr_q)][AccW*m +: 16] <= rd_data_i[16*m +: 16];
      end
    end
    if (state_q == StFire && is_wu) begin
      lacc_q <= lacc_d;
      if (set_last) begin
        for (int unsigned m = 0; m < T; m++) begin
          for (int unsigned n = 0; n < T; n++) begin
            gbuf_q[GAW'(g_row + 32'(m) * T32 + 32'(n))] <= g_new[m][n];
            gval_q[GAW'(g_row + 32'(m) * T32 + 32'(n))] <= g_ok[m][n];
          end
        end
      end
    end
    if (beat && phase_q == PhMRd) begin
      for (int unsigned i = 0; i < T; i++) begin
        if (m_we[i]) gbuf_q[GAW'(m_idx[i])] <= m_new[i];
      end
    end
    pend_q <= pend_d;
    if (state_q == StPool) begin
      best_q  <= best_d;
      bcode_q <= bcode_d;
      if (cand_last) obuf_q[OutAW'(p_ob_idx)] <= p_out;
      if (is_pf && cand_last) cbuf_q[OutAW'(p_cb_idx)] <= c_new;
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
        assert (ib_idx[p] < 32'(InBeats)) else $error("input buffer read at %0d", ib_idx[p]);
      end
    end
    if (rst_ni && fill_now) begin
      assert (wb_idx < 32'(WBeats)) else $error("weight buffer read at %0d", wb_idx);
    end
    if (rst_ni && state_q == StFire) begin
      assert (ob_idx < 32'(OutBeats)) else $error("output buffer overrun at %0d", ob_idx);
    end
    if (rst_ni && state_q == StPool) begin
      assert (p_ib_idx < 32'(InBeats)) else $error("pool input read at %0d", p_ib_idx);
      assert (p_ob_idx < 32'(OutBeats)) else $error("pool output write at %0d", p_ob_idx);
      assert (p_cb_idx < 32'(OutBeats)) else $error("argmax word at %0d", p_cb_idx);
    end
    if (rst_ni && beat && phase_q == PhCRd) begin
      assert (ptr_q < 32'(OutBeats)) else $error("argmax buffer overrun at beat %0d", ptr_q);
    end
    if (rst_ni && state_q == StFire && is_wu && set_last) begin
      assert (g_row + T32 * T32 <= 32'(GEnt)) else $error("gradient buffer overrun at %0d", g_row);
    end
    if (rst_ni && beat && (phase_q == PhMRd || phase_q == PhMWr)) begin
      assert ((ptr_q * T32 + T32 - 1) / 2 < 32'(GEnt)) else $error("master beat %0d beyond the gradient buffer", ptr_q);
    end
    if (rst_ni && beat && phase_q == PhW16) begin
      assert (ptr_q * T32 + T32 <= 32'(GEnt)) else $error("w16 beat %0d beyond the gradient buffer", ptr_q);
    end
  end

endmodule
