// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// MAC array and output buffer of the training-convolution engine. The
// T x T x P array computes acc[p][m] += sum_n w[m][n] * x[p][n] (int16
// operands, wrapping at AccW) for P adjacent output columns sharing the
// weight registers. Its T x T x P multipliers are the engine's only
// datapath products for FP, BP and WU alike: in a WU descriptor they
// multiply dO[p][m] (the low 16 bits of the output buffer's lane m, column
// p) by x[p][n] instead, and conv_wu sums the products (prod_o, a cycle
// after the fire). The products are registered: a fire multiplies in its
// own cycle (stage 0) and adds in the next (stage 1), where the
// accumulators, which live in the output buffer (OutBeats entries of T
// accumulators), are read-modify-written. The drain formats an entry as sat16(rs(acc, s_out)),
// then ReLU (FP) or the act_in mask (BP, from the mask buffer loaded
// before the drain), padded channels zero; pools write their values
// through it with s_out = 0.
//
// The output buffer also holds WU's dO tile (16 bits per lane, loaded by
// d_we_i, upper bits zero) and the pools' results (pool_we_i). Its P read
// ports serve the fire and WU (dO); the drain reads one entry.
//
// Buffers: block RAM (hlsk_ram_1r1w, registered reads). The output buffer
// is P banks of OutBeats entries (P times its capacity: no division by P
// anywhere): entry e in column c of its row lives in bank c mod P at row
// e - (c mod P) (conv_addr_gen gives c mod P: ob_cr for the drain and dO
// load, pix_xr for pools), so a fire's P columns are one row across the
// banks. The mask buffer is one RAM of OutBeats entries of T bits.
//
// Timing: reads are registered, so their rows come a cycle ahead: the
// entry ob_fi_i of an FP/BP fire in this cycle, whose sum stage 1 writes
// back in the next, else the drain's beat ptr_d_i while drain_d_i, else
// (WU) the dO of the next cycle's fire, ob_fi_d_i. The RAMs are
// write-first, so a read returns the contents as an asynchronous read at
// the registered row would, also when the cycle that presented it wrote
// that entry: back-to-back fires of a one-group set (stage 1 of the first
// writes while stage 0 of the second presents the same row), and the
// drain's first row, presented again in its request cycle (conv_ctrl's
// StReq, no beat), while the band's last fire writes. (The last fire's own
// cycle already has drain_d_i; its read is the fire's.) Writes take effect
// at the clock edge; at most one of stage 1's write, d_we_i and pool_we_i
// is high in a cycle (asserted).

module conv_mac_array
  import conv_pkg::*;
#(
  parameter int unsigned T      = 2,
  parameter int unsigned P      = 1,
  parameter int unsigned AccW   = 32,
  parameter int unsigned OutEnt = 1024,
  // Derived; do not override.
  localparam int unsigned BeatW    = 16 * T,
  localparam int unsigned OutBeats = OutEnt / T,
  localparam int unsigned OutAW    = (OutBeats > 1) ? $clog2(OutBeats) : 1,
  localparam int unsigned PW       = (P > 1) ? $clog2(P) : 1
) (
  input  logic              clk_i,
  input  logic              rst_ni,

  // Descriptor
  input  conv_geom_t        geom_i,

  // Fire: weights, the P columns' inputs, their accumulator entries
  input  logic              fire_we_i,   // FP, BP fire: write the P columns back
  input  logic              first_add_i, // the accumulators start from zero
  input  logic [15:0]       wreg_i [T][T],
  input  logic [BeatW-1:0]  ib_rd_i [P],
  input  logic              px_ok_i [P],
  input  logic [OutAW-1:0]  ob_fi_i,
  input  logic [OutAW-1:0]  ob_fi_d_i,   // next cycle's
  output logic signed [31:0] prod_o [P][T][T],  // the previous cycle's products

  // Loads into the output buffer and the mask buffer, at ptr_i
  input  logic [BeatW-1:0]  rd_data_i,
  input  logic              d_we_i,      // WU dO tile
  input  logic              mask_we_i,   // BP act_in (mask bits)
  input  logic [31:0]       ptr_i,
  /* verilator lint_off UNUSEDSIGNAL */
  input  logic [31:0]       ptr_d_i,     // next cycle's (wraps at the address width)
  /* verilator lint_on UNUSEDSIGNAL */
  input  logic [PW-1:0]     ob_cr_i,     // bank of entry ptr_i (its column mod P)
  /* verilator lint_off UNUSEDSIGNAL */
  input  logic [PW-1:0]     ob_cr_d_i,   // ... of entry ptr_d_i (wraps at the address width)
  /* verilator lint_on UNUSEDSIGNAL */

  // Pool unit results
  input  logic              pool_we_i,
  input  logic [OutAW-1:0]  pool_idx_i,
  input  logic [PW-1:0]     pool_bank_i, // its column mod P
  input  logic [T*AccW-1:0] pool_data_i,

  // Drain: entry ptr_i of m tile dm_i of chunk mc_i, formatted
  input  logic              drain_d_i,   // next cycle's
  input  logic [31:0]       mc_i,
  input  logic [31:0]       dm_i,
  output logic [BeatW-1:0]  drain_data_o
);

  localparam logic [31:0] T32 = 32'(T);

  // The descriptor's fields and geometry (each unit reads the ones it needs).
  /* verilator lint_off UNUSEDSIGNAL */
  conv_geom_t g;
  /* verilator lint_on UNUSEDSIGNAL */
  assign g = geom_i;

  ///////////////////
  // Output buffer //
  ///////////////////

  // One write row for every bank (the fire's, else the one bank written),
  // one read row (the drain's, else the fire's).
  logic [T*AccW-1:0] ob_new [P];
  logic [T*AccW-1:0] ob_wdata [P];
  logic [T*AccW-1:0] ob_bank_rd [P];
  logic              ob_we [P];
  logic [OutAW-1:0]  ob_wrow, ob_rrow;
  logic [T*AccW-1:0] d_word, dr_rd;

  always_comb begin
    for (int unsigned m = 0; m < T; m++) begin
      d_word[AccW*m +: AccW] = AccW'(rd_data_i[16*m +: 16]);
    end
  end

  // Stage 1 of an FP/BP fire: its write enable, columns, entry, start.
  logic             fire_we_q;
  logic             first_add_q;
  logic             px_ok_q [P];
  logic [OutAW-1:0] ob_fi_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      fire_we_q <= 1'b0;
    end else begin
      fire_we_q <= fire_we_i;
    end
  end
  always_ff @(posedge clk_i) begin
    first_add_q <= first_add_i;
    px_ok_q     <= px_ok_i;
    ob_fi_q     <= ob_fi_i;
  end

  assign ob_rrow = fire_we_i ? ob_fi_i :
                   drain_d_i ? OutAW'(ptr_d_i) - OutAW'(ob_cr_d_i) : ob_fi_d_i;
  assign ob_wrow = fire_we_q ? ob_fi_q :
                   d_we_i    ? OutAW'(ptr_i) - OutAW'(ob_cr_i) :
                               pool_idx_i - OutAW'(pool_bank_i);

  for (genvar b = 0; b < P; b++) begin : g_obuf
    assign ob_we[b]    = fire_we_q ? px_ok_q[b] :
                         d_we_i    ? (32'(ob_cr_i) == b) :
                                     (pool_we_i && 32'(pool_bank_i) == b);
    assign ob_wdata[b] = fire_we_q ? ob_new[b] : d_we_i ? d_word : pool_data_i;
    hlsk_ram_1r1w #(
      .Width      (T * AccW),
      .Depth      (OutBeats),
      .WriteFirst (1)
    ) u_obuf (
      .clk_i   (clk_i),
      .we_i    (ob_we[b]),
      .waddr_i (ob_wrow),
      .wdata_i (ob_wdata[b]),
      .re_i    (1'b1),
      .raddr_i (ob_rrow),
      .rdata_o (ob_bank_rd[b])
    );
  end

  // The drain's entry: bank ob_cr_i.
  always_comb begin
    dr_rd = ob_bank_rd[0];
    for (int unsigned b = 1; b < P; b++) begin
      if (32'(ob_cr_i) == b) dr_rd = ob_bank_rd[b];
    end
  end

  ///////////////
  // MAC array //
  ///////////////

  // Stage 0, the T x T x P multipliers: w[m][n] * x[p][n], or in WU
  // dO[p][m] * x[p][n] (exact in 32 bits), registered (prod_o).
  logic signed [31:0] prod [P][T][T];
  always_comb begin
    for (int unsigned p = 0; p < P; p++) begin
      for (int unsigned m = 0; m < T; m++) begin
        for (int unsigned n = 0; n < T; n++) begin
          logic signed [15:0] a;
          a = g.is_wu ? $signed(ob_bank_rd[p][AccW*m +: 16]) : $signed(wreg_i[m][n]);
          prod[p][m][n] = a * $signed(ib_rd_i[p][16*n +: 16]);
        end
      end
    end
  end
  always_ff @(posedge clk_i) begin
    prod_o <= prod;
  end

  // Stage 1, the MAC array: acc[p][m] += sum_n w[m][n] * x[p][n],
  // wrapping at AccW; the P columns share the weight registers. Each sum
  // of the T + 1 terms is a balanced tree of two-input adders whose nodes
  // are kept: Yosys would otherwise merge the additions into one
  // multi-operand sum, which it builds from LUT full adders (at T = 8,
  // P = 2 this module took 13,704 LUT4 and 730 CCU2C that way, 6,790 and
  // 2,523 with the tree: 3,328 fewer LUT4-equivalents). Heap order: node
  // i adds nodes 2i+1 and 2i+2; the leaves are nodes L-1.. (the
  // accumulator, then the products).
  localparam int unsigned L = T + 1;
  for (genvar p = 0; p < P; p++) begin : g_col
    for (genvar m = 0; m < T; m++) begin : g_lane
      for (genvar i = 0; i < 2 * L - 1; i++) begin : g_node
        (* keep *) logic [AccW-1:0] v;
        if (i == L - 1) begin : g_acc
          assign v = first_add_q ? '0 : ob_bank_rd[p][AccW*m +: AccW];
        end else if (i >= L) begin : g_prod
          assign v = AccW'(prod_o[p][m][i-L]);
        end else begin : g_add
          assign v = g_node[2*i+1].v + g_node[2*i+2].v;
        end
      end
      assign ob_new[p][AccW*m +: AccW] = g_node[0].v;
    end
  end

  ///////////
  // Drain //
  ///////////

  logic [T-1:0] mb_rd, mb_new;
  hlsk_ram_1r1w #(
    .Width      (T),
    .Depth      (OutBeats),
    .WriteFirst (1)
  ) u_mbuf (
    .clk_i   (clk_i),
    .we_i    (mask_we_i),
    .waddr_i (OutAW'(ptr_i)),
    .wdata_i (mb_new),
    .re_i    (1'b1),
    .raddr_i (OutAW'(ptr_d_i)),
    .rdata_o (mb_rd)
  );
  always_comb begin
    for (int unsigned m = 0; m < T; m++) begin
      mb_new[m] = !rd_data_i[16*m + 15] && (rd_data_i[16*m +: 16] != '0);
    end
  end

  // Write-back: sat16(rs(acc, s_out)), ReLU (FP) or mask (BP), padded
  // channels zero (pools write their values through it with s_out = 0).
  always_comb begin
    for (int unsigned m = 0; m < T; m++) begin
      logic signed [AccW-1:0] acc, sh, rbit, v;
      logic signed [15:0]     y;
      acc  = $signed(dr_rd[AccW*m +: AccW]);
      sh   = acc >>> g.s_out;
      rbit = (g.s_out == 0) ? '0 : AccW'((acc >>> (g.s_out - 6'd1)) & AccW'(1));
      v    = sh + rbit;
      if (v > AccW'(32767)) begin
        y = 16'sh7fff;
      end else if (v < -AccW'(32768)) begin
        y = -16'sh8000;
      end else begin
        y = 16'(v);
      end
      if ((g.relu && y < 0) || (g.relu_mask && !mb_rd[m]) ||
          ((mc_i + dm_i) * T32 + 32'(m) >= g.out_c)) begin
        y = '0;
      end
      drain_data_o[16*m +: 16] = y;
    end
  end

  ////////////////
  // Assertions //
  ////////////////

  always_ff @(posedge clk_i) begin
    if (rst_ni && mask_we_i) begin
      assert (ptr_i < 32'(OutBeats)) else $error("mask buffer overrun at beat %0d", ptr_i);
    end
    if (rst_ni) begin
      assert (32'(fire_we_q) + 32'(d_we_i) + 32'(pool_we_i) <= 1)
        else $error("two writes to the output buffer in a cycle");
    end
  end

endmodule
