// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Descriptor decode of the training-convolution engine: holds the 12 words
// of a descriptor (hls_rust::conv::desc::Descriptor::encode), decodes their
// fields, derives the descriptor's geometry, layouts and weight-block
// strides (geom_o), and checks shape, tiling and buffer capacities
// (hls_rust::conv::model::check_tiling) into bad_o.
//
// Timing: word i is written when we_i is high with idx_i = i. The fields'
// sizes, tile counts and paddings are a pipeline of registers, at most three
// deep, from words 0..4, which arrive at least seven cycles before the
// check (word 4 is written, then words 5..11 take a cycle each). Their
// products (capacity needs, areas, layout strides, and the constants
// conv_plan steps its offsets by) come from one shift-add
// unit, no multiplier, one product at a time, started by word 11: NProd
// products of ProdCycles cycles each, then the verdict is registered and
// ready_o rises (DescCheckCycles - 1 cycles after word 11, conv_pkg), and
// geom_o and bad_o hold until word 0 of the next descriptor. No reset:
// nothing is read before a descriptor has arrived.

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
  output logic        bad_o,
  output logic        ready_o   // geom_o and bad_o hold this descriptor's
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

  // k * k for a 4-bit k, as shifts and adds.
  function automatic logic [7:0] sq4(input logic [3:0] v);
    logic [7:0] r;
    r = '0;
    for (int unsigned i = 0; i < 4; i++) begin
      if (v[i]) r = r + (8'(v) << i);
    end
    return r;
  endfunction

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
    kk    <= 32'(sq4(f_k));
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

  // Capacity and shape checks (hls_rust::conv::model::check_tiling) and the
  // per-descriptor layouts and weight-block strides, from the products
  // below (depth 3: rows and columns of the input tile).
  logic [17:0] in_rows, in_cols;  // (iw is at most 17 bits, pad 4)
  always_ff @(posedge clk_i) begin
    in_rows <= 18'(f_tr + k - 1);
    in_cols <= 18'(iw + 2 * pad);
  end

  //////////////
  // Products //
  //////////////

  // One product at a time, a * b with b of up to BW bits, three bits of b
  // per cycle (shift and add): ProdCycles = BW/3 cycles each, in this order
  // (a product's operands are fields, registers above, or earlier products).
  localparam int unsigned AW = 36;
  localparam int unsigned BW = 18;
  localparam int unsigned PW = AW + BW;
  typedef enum logic [4:0] {
    PMonTr,     // M_on * Tr
    PMonNon,    // M_on * N_on
    PNonRows,   // N_on * (Tr + K - 1)
    PHwA,       // H * W
    PIhw,       // ih * iw
    POhw,       // oh * ow
    POhcw,      // oh * cw
    PWtSw,      // (T * K * K) * (BP ? oct : rct)
    PNeedIn,    // the input buffer's need
    PMonNonKk,  // M_on * N_on * K * K: the weight (or gradient) buffer's need
    PNeedOut,   // the output buffer's need
    PSbIn,      // rct * ih * iw
    PSbBig,     // oct * H * W
    PSbOut,     // oct * oh * ow
    PSbCode,    // oct * oh * cw
    // The constants conv_plan steps its offsets by (conv_pkg::layout_t).
    POutC,      // M_on/T * oh * ow
    POutR,      // Tr * ow
    PCodeC,     // M_on/T * oh * cw
    PCodeR,     // Tr * cw
    PInC,       // N_on/T * ih * iw
    PInR,       // Tr * iw
    PInPad,     // pad * iw
    PInHi,      // (Tr + K - 1 - pad) * iw
    PInOh,      // (oh + K - 1 - pad) * iw
    PWtA,       // wt_sw * (BP ? N_on : M_on)/T
    PWtAll,     // wt_sw * (BP ? rct : oct)
    PWtC        // (T * K * K) * (BP ? M_on : N_on)/T
  } prod_e;

  logic [PW-1:0] prod_q [NProd];
  logic [4:0]    pi_q;   // the product being computed (NProd: all done)
  logic [4:0]    pn;     // the product whose operands load this cycle
  logic [2:0]    it_q;   // shift-add step 0..ProdCycles-1
  logic          start;
  logic [PW-1:0] pa_q, acc_q, acc_d;
  logic [BW-1:0] pb_q;
  logic          ready_q;
  logic [AW-1:0] op_a;
  logic [BW-1:0] op_b;

  always_comb begin
    op_a = '0;
    op_b = '0;
    unique case (prod_e'(pn))
      PMonTr:    begin op_a = AW'(f_mon);  op_b = BW'(f_tr);    end
      PMonNon:   begin op_a = AW'(f_mon);  op_b = BW'(f_non);   end
      PNonRows:  begin op_a = AW'(f_non);  op_b = BW'(in_rows); end
      PHwA:      begin op_a = AW'(f_h);    op_b = BW'(f_w);     end
      PIhw:      begin op_a = AW'(ih);     op_b = BW'(iw);      end
      POhw:      begin op_a = AW'(oh);     op_b = BW'(ow);      end
      POhcw:     begin op_a = AW'(oh);     op_b = BW'(cw);      end
      PWtSw:     begin
        op_a = AW'(times_const(kk, T));
        op_b = BW'(is_bp ? oct : rct);
      end
      // Pools: POOL_FWD reads 2Tr rows of W and writes Tr rows of W/2;
      // POOL_BWD the other way round.
      PNeedIn:   begin
        op_a = is_pf ? AW'(prod_q[PMonTr]) << 1 : is_pb ? AW'(prod_q[PMonTr]) :
                       AW'(prod_q[PNonRows]);
        op_b = is_pf ? BW'(f_w) : is_pb ? BW'(ow) : BW'(in_cols);
      end
      PMonNonKk: begin op_a = AW'(prod_q[PMonNon]); op_b = BW'(kk); end
      PNeedOut:  begin
        op_a = is_pb ? AW'(prod_q[PMonTr]) << 1 : AW'(prod_q[PMonTr]);
        op_b = is_pb ? BW'(f_w) : BW'(ow);
      end
      PSbIn:     begin op_a = AW'(prod_q[PIhw]);  op_b = BW'(rct); end
      PSbBig:    begin op_a = AW'(prod_q[PHwA]);  op_b = BW'(oct); end
      PSbOut:    begin op_a = AW'(prod_q[POhw]);  op_b = BW'(oct); end
      PSbCode:   begin op_a = AW'(prod_q[POhcw]); op_b = BW'(oct); end
      POutC:     begin op_a = AW'(prod_q[POhw]);  op_b = BW'(mo);  end
      POutR:     begin op_a = AW'(ow);            op_b = BW'(f_tr); end
      PCodeC:    begin op_a = AW'(prod_q[POhcw]); op_b = BW'(mo);  end
      PCodeR:    begin op_a = AW'(cw);            op_b = BW'(f_tr); end
      PInC:      begin op_a = AW'(prod_q[PIhw]);  op_b = BW'(no);  end
      PInR:      begin op_a = AW'(iw);            op_b = BW'(f_tr); end
      PInPad:    begin op_a = AW'(iw);            op_b = BW'(pad); end
      PInHi:     begin op_a = AW'(iw);            op_b = BW'(f_tr + k - 1 - pad); end
      PInOh:     begin op_a = AW'(iw);            op_b = BW'(oh + k - 1 - pad); end
      PWtA:      begin op_a = AW'(prod_q[PWtSw]); op_b = BW'(is_bp ? no : mo); end
      PWtAll:    begin op_a = AW'(prod_q[PWtSw]); op_b = BW'(is_bp ? rct : oct); end
      PWtC:      begin
        op_a = AW'(times_const(kk, T));
        op_b = BW'(is_bp ? mo : no);
      end
      default: ;  // all done
    endcase
  end

  // Three bits of b per cycle. Word 11 loads the first product's operands;
  // each product's last step stores it and loads the next one's, so a
  // product takes ProdCycles = BW/3 cycles. (No product's operand is the
  // product just before it, which is stored in the cycle its successor's
  // operands load.)
  assign start = we_i && idx_i == 4'(DescWords - 1);
  assign pn    = start ? '0 : pi_q + 5'd1;
  assign acc_d = acc_q + (pb_q[0] ? pa_q : '0) + (pb_q[1] ? pa_q << 1 : '0) +
                 (pb_q[2] ? pa_q << 2 : '0);

  always_ff @(posedge clk_i) begin
    if (start) begin
      pi_q    <= '0;
      it_q    <= '0;
      ready_q <= 1'b0;
      pa_q    <= PW'(op_a);
      pb_q    <= op_b;
      acc_q   <= '0;
    end else if (32'(pi_q) < NProd) begin
      if (32'(it_q) == ProdCycles - 1) begin
        prod_q[pi_q] <= acc_d;
        pi_q         <= pi_q + 5'd1;
        it_q         <= '0;
        pa_q         <= PW'(op_a);
        pb_q         <= op_b;
        acc_q        <= '0;
      end else begin
        pa_q  <= pa_q << 3;
        pb_q  <= pb_q >> 3;
        acc_q <= acc_d;
        it_q  <= it_q + 3'd1;
      end
    end else begin
      // The verdict below is registered from the last product this cycle.
      ready_q <= 1'b1;
    end
  end
  assign ready_o = ready_q;

  logic [63:0] need_in, need_w, need_out, need_g;
  assign need_in  = 64'(prod_q[PNeedIn]);
  assign need_w   = (is_wu || is_pool) ? 64'd0 : 64'(prod_q[PMonNonKk]);
  assign need_out = 64'(prod_q[PNeedOut]);
  assign need_g   = is_wu ? 64'(prod_q[PMonNonKk]) : 64'd0;

  logic bad_shape, bad;
  always_ff @(posedge clk_i) begin
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

  // Per-descriptor layouts and strides, registered from the products (the
  // constant factors T and T * T as shifts and adds).
  logic [31:0] hw_a, ihw, ohw, ohcw, wblk;
  layout_t     lay_in, lay_big, lay_out, lay_code;
  logic [31:0] wt_sa, wt_sw, wt_sp;
  logic [31:0] in_pad, in_hi, in_oh, wt_as, wt_all, wt_cs;
  always_ff @(posedge clk_i) begin
    hw_a     <= 32'(prod_q[PHwA]);
    ihw      <= 32'(prod_q[PIhw]);
    ohw      <= 32'(prod_q[POhw]);
    ohcw     <= 32'(prod_q[POhcw]);
    wblk     <= times_const(kk, T * T);
    lay_in   <= '{o: '{sb: times_const(32'(prod_q[PSbIn]), T), sc: times_const(ihw, T),
                       sr: times_const(iw, T)},
                  z: '{area: ihw, rw: iw},
                  s: '{cs: 32'(prod_q[PInC]), rs: 32'(prod_q[PInR]), ca: 32'(prod_q[PSbIn])}};
    // (Pools only, where it is four times the output layout: conv_plan
    // steps the output layout's terms.)
    lay_big  <= '{o: '{sb: times_const(32'(prod_q[PSbBig]), T), sc: times_const(hw_a, T),
                       sr: times_const(2 * f_w, T)},
                  z: '{area: hw_a, rw: 2 * f_w},
                  s: '{cs: 32'(prod_q[POutC]) << 2, rs: 32'(prod_q[POutR]) << 2,
                       ca: 32'(prod_q[PSbBig])}};
    lay_out  <= '{o: '{sb: times_const(32'(prod_q[PSbOut]), T), sc: times_const(ohw, T),
                       sr: times_const(ow, T)},
                  z: '{area: ohw, rw: ow},
                  s: '{cs: 32'(prod_q[POutC]), rs: 32'(prod_q[POutR]), ca: 32'(prod_q[PSbOut])}};
    lay_code <= '{o: '{sb: times_const(32'(prod_q[PSbCode]), T), sc: times_const(ohcw, T),
                       sr: times_const(cw, T)},
                  z: '{area: ohcw, rw: cw},
                  s: '{cs: 32'(prod_q[PCodeC]), rs: 32'(prod_q[PCodeR]),
                       ca: 32'(prod_q[PSbCode])}};
    in_pad   <= 32'(prod_q[PInPad]);
    in_hi    <= 32'(prod_q[PInHi]);
    in_oh    <= 32'(prod_q[PInOh]);
    wt_as    <= 32'(prod_q[PWtA]);
    wt_all   <= 32'(prod_q[PWtAll]);
    wt_cs    <= 32'(prod_q[PWtC]);
    // Weight blocks (T x T x K x K words each), [M tiles][N tiles]: BP
    // walks them by (reduction = output tile of the forward pass) rows.
    wt_sw    <= 32'(prod_q[PWtSw]);
    wt_sa    <= times_const(32'(prod_q[PWtSw]), T);
    wt_sp    <= times_const(kk, T);
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
    geom_o.in_pad    = in_pad;
    geom_o.in_hi     = in_hi;
    geom_o.in_oh     = in_oh;
    geom_o.wt_as     = wt_as;
    geom_o.wt_all    = wt_all;
    geom_o.wt_cs     = wt_cs;
  end
  assign bad_o = bad;

endmodule
