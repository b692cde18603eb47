// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Pool unit of the training-convolution engine (2x2, stride 2), one lane
// per channel of a T-channel tile, one pixel per cycle.
//
// POOL_FWD: four cycles per pooled pixel compare its 2x2 window in
// row-major order (cand = {ky, kx}), the first strict maximum wins; the
// fourth writes the maximum into the output buffer (ob_we_o) and puts the
// 2-bit code into the lane's argmax word of 8 columns (a new word at every
// eighth column: columns past W/2 stay 0). POOL_BWD: one cycle per
// input-size pixel; the gradient goes where the code of its pooled pixel
// points (zero elsewhere). Padded lanes give 0.
//
// The argmax buffer holds a band's words (lane i: 8 codes of adjacent
// columns): loaded from memory before POOL_BWD's compute (crd_we_i at
// ptr_i), written back after POOL_FWD's maxima (cb_wr_o at ptr_i).
//
// The argmax buffer is block RAM (hlsk_ram_1r1w, one registered read
// port, write-first): its read index comes a cycle ahead, the pixel's word
// (cb_idx_d_i) while the next cycle pools (pool_d_i), else the drain's
// beat (ptr_d_i), so cb_rd and cb_wr_o are the words at the current
// cycle's indexes.
//
// Timing: pool_i is the main machine's StPool; ob_we_o, ob_data_o,
// cand_last_o and cb_wr_o are combinational, the running maximum and the
// argmax words change at the clock edge. No reset: the first candidate of
// a window loads the maximum.

module conv_pool
  import conv_pkg::*;
#(
  parameter int unsigned T      = 2,
  parameter int unsigned AccW   = 32,
  parameter int unsigned OutEnt = 1024,
  // Derived; do not override.
  localparam int unsigned BeatW    = 16 * T,
  localparam int unsigned OutBeats = OutEnt / T,
  localparam int unsigned OutAW    = (OutBeats > 1) ? $clog2(OutBeats) : 1
) (
  input  logic              clk_i,
  input  logic              rst_ni,

  // Descriptor
  input  conv_geom_t        geom_i,
  /* verilator lint_off UNUSEDSIGNAL */
  input  logic [31:0]       ky_i,    // window row of the candidate (bit 0)
  input  logic [31:0]       kx_i,    // window column of the candidate (bit 0)
  input  logic [31:0]       r_i,     // row (POOL_BWD: bit 0, the window row)
  input  logic [31:0]       x_i,     // column (bits 3:0 and the argmax bit)
  /* verilator lint_on UNUSEDSIGNAL */

  // Main machine: StPool and its counters
  input  logic              pool_i,
  input  logic              pool_d_i,     // next cycle's
  input  logic [31:0]       mc_i,
  input  logic [31:0]       mtl_i,

  // The pixel: input buffer word, argmax entry (from conv_addr_gen)
  input  logic [BeatW-1:0]  ib_rd_i,
  input  logic [OutAW-1:0]  cb_idx_i,
  input  logic [OutAW-1:0]  cb_idx_d_i,   // next cycle's
  output logic              cand_last_o,  // the pixel's last cycle

  // Result into the output buffer
  output logic              ob_we_o,
  output logic [T*AccW-1:0] ob_data_o,

  // Argmax words to and from memory, at ptr_i
  input  logic              crd_we_i,
  input  logic [31:0]       ptr_i,
  /* verilator lint_off UNUSEDSIGNAL */
  input  logic [31:0]       ptr_d_i,      // next cycle's (wraps at the address width)
  /* verilator lint_on UNUSEDSIGNAL */
  input  logic [BeatW-1:0]  rd_data_i,
  output logic [BeatW-1:0]  cb_wr_o
);

  localparam logic [31:0] T32 = 32'(T);

  // The descriptor's fields and geometry (each unit reads the ones it needs).
  /* verilator lint_off UNUSEDSIGNAL */
  conv_geom_t g;
  /* verilator lint_on UNUSEDSIGNAL */
  assign g = geom_i;

  // Argmax words of the band, and POOL_FWD's running maximum and its code
  // per lane.
  logic [15:0]      best_q [T];
  logic [15:0]      best_d [T];
  logic [1:0]       bcode_q [T];
  logic [1:0]       bcode_d [T];

  logic [2:0]  p_col;  // column of the code in its argmax word
  logic [1:0]  cand;
  assign cand        = {ky_i[0], kx_i[0]};
  assign cand_last_o = g.is_pb || (cand == 2'd3);
  assign p_col       = 3'(g.is_pf ? x_i : x_i / 2);
  assign ob_we_o     = pool_i && cand_last_o;

  // The argmax buffer: one write (the pixel's word, or a loaded word), one
  // read (the pixel's word while pooling, else the drain's).
  logic [BeatW-1:0] cb_rd, c_new;
  logic             cb_we, pf_we;
  assign pf_we = pool_i && g.is_pf && cand_last_o;
  assign cb_we = pf_we || crd_we_i;
  hlsk_ram_1r1w #(
    .Width      (BeatW),
    .Depth      (OutBeats),
    .WriteFirst (1)
  ) u_cbuf (
    .clk_i   (clk_i),
    .we_i    (cb_we),
    .waddr_i (pf_we ? cb_idx_i : OutAW'(ptr_i)),
    .wdata_i (pf_we ? c_new : rd_data_i),
    .re_i    (1'b1),
    .raddr_i (pool_d_i ? cb_idx_d_i : OutAW'(ptr_d_i)),
    .rdata_o (cb_rd)
  );
  assign cb_wr_o = cb_rd;
  always_comb begin
    for (int unsigned m = 0; m < T; m++) begin
      logic signed [15:0] v, gr, pv;
      logic [15:0]        word;
      logic [1:0]         code;
      logic               ok;
      v  = $signed(ib_rd_i[16*m +: 16]);
      ok = (mc_i + mtl_i) * T32 + 32'(m) < g.out_c;
      best_d[m]  = best_q[m];
      bcode_d[m] = bcode_q[m];
      if (cand == 2'd0 || v > $signed(best_q[m])) begin
        best_d[m]  = v;
        bcode_d[m] = cand;
      end
      word = (p_col == 3'd0) ? '0 : cb_rd[16*m +: 16];
      word[2*p_col +: 2] = ok ? bcode_d[m] : 2'd0;
      c_new[16*m +: 16] = word;
      code = cb_rd[16*m + 2*p_col +: 2];
      gr   = (code == {r_i[0], x_i[0]}) ? v : '0;
      pv   = g.is_pf ? $signed(best_d[m]) : gr;
      ob_data_o[AccW*m +: AccW] = ok ? AccW'(pv) : '0;
    end
  end

  ///////////////
  // Registers //
  ///////////////

  always_ff @(posedge clk_i) begin
    if (pool_i) begin
      best_q  <= best_d;
      bcode_q <= bcode_d;
    end
  end

  ////////////////
  // Assertions //
  ////////////////

  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (!(pf_we && crd_we_i)) else $error("argmax buffer: two writes in a cycle");
    end
    if (rst_ni && crd_we_i) begin
      assert (ptr_i < 32'(OutBeats)) else $error("argmax buffer overrun at beat %0d", ptr_i);
    end
  end

endmodule
