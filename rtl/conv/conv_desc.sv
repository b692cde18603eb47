// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Descriptor decode of the training-convolution engine: holds the 12 words
// of a descriptor (hls_rust::conv::desc::Descriptor::encode), decodes their
// fields, derives the descriptor's geometry, layouts and weight-block
// strides (geom_o), and checks shape, tiling and buffer capacities
// (hls_rust::conv::model::check_tiling) into bad_o.
//
// Timing: word i is written when we_i is high with idx_i = i. Everything
// derived is a pipeline of registers, at most five deep, from words 0..4;
// those words arrive at least seven cycles before the check (word 4 is
// written, then words 5..11 take a cycle each), so geom_o and bad_o have
// settled by the cycle after word 11 and hold until word 0 of the next
// descriptor. No reset: nothing is read before a descriptor has arrived.

module conv_desc
  import conv_pkg::*;
#(
  parameter int unsigned T       = 2,
  parameter int unsigned InWords = 2048,
  parameter int unsigned WWords  = 1024,
  parameter int unsigned OutEnt  = 1024,
  parameter int unsigned GEnt    = 512
) (
  input  logic        clk_i,

  // Descriptor words
  input  logic        we_i,
  input  logic [3:0]  idx_i,
  input  logic [31:0] data_i,

  // Decoded descriptor and its verdict
  output conv_geom_t  geom_o,
  output logic        bad_o
);

  localparam logic [31:0] T32 = 32'(T);

  logic [31:0] desc_q [DescWords];

  always_ff @(posedge clk_i) begin
    if (we_i) begin
      desc_q[idx_i] <= data_i;
    end
  end

  /////////////////////
  // Descriptor view //
  /////////////////////

  logic [3:0]  f_op, f_k, f_pad;
  logic [7:0]  f_magic;
  logic        f_relu, f_mask, f_w16, is_bp, is_wu, is_pf, is_pb, is_pool;
  logic [31:0] f_n, f_m, f_h, f_w, f_b, f_tr, f_mon, f_non;

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

  /////////////
  // Outputs //
  /////////////

  always_comb begin
    geom_o           = '0;
    geom_o.op        = f_op;
    geom_o.relu      = f_relu;
    geom_o.relu_mask = f_mask;
    geom_o.write_w16 = f_w16;
    geom_o.is_bp     = is_bp;
    geom_o.is_wu     = is_wu;
    geom_o.is_pf     = is_pf;
    geom_o.is_pb     = is_pb;
    geom_o.is_pool   = is_pool;
    geom_o.w         = f_w;
    geom_o.b         = f_b;
    geom_o.tr        = f_tr;
    geom_o.in_base   = desc_q[5];
    geom_o.w_base    = desc_q[6];
    geom_o.out_base  = desc_q[7];
    geom_o.aux_base  = desc_q[8];
    geom_o.w16_base  = desc_q[9];
    geom_o.s_out     = desc_q[10][5:0];
    geom_o.g_pre     = desc_q[10][13:8];
    geom_o.lr_shift  = desc_q[10][21:16];
    geom_o.lr_mant   = desc_q[11][14:0];
    geom_o.k         = k;
    geom_o.pad       = pad;
    geom_o.kk        = kk;
    geom_o.ih        = ih;
    geom_o.iw        = iw;
    geom_o.oh        = oh;
    geom_o.ow        = ow;
    geom_o.out_c     = out_c;
    geom_o.red_c     = red_c;
    geom_o.rct       = rct;
    geom_o.oct       = oct;
    geom_o.mo        = mo;
    geom_o.no        = no;
    geom_o.cw        = cw;
    geom_o.lay_in    = lay_in;
    geom_o.lay_big   = lay_big;
    geom_o.lay_out   = lay_out;
    geom_o.lay_code  = lay_code;
    geom_o.wblk      = wblk;
    geom_o.wt_sa     = wt_sa;
    geom_o.wt_sw     = wt_sw;
    geom_o.wt_sp     = wt_sp;
  end
  assign bad_o = bad;

endmodule
