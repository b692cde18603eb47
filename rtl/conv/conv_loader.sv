// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Loaders of the training-convolution engine: the input buffer (two banks
// of InBeats beats: compute reads bank ib_bank_i while the prefetcher loads
// the next step's input tile into the other), the weight buffer, and the
// weight registers wreg[m][n] (m output lane, n reduction lane) with their
// shadow copy, which takes the next set's T x T weights from the weight
// buffer one beat per cycle while the current set fires. FP loads beat mi
// as row mi; BP loads it as column mi from slice (K-1-ky, K-1-kx) of the
// forward block (conv_addr_gen picks the beat): the transpose and the
// 180-degree flip happen on the way in. Weights of padded channels are 0.
//
// Buffers: block RAM (hlsk_ram_1r1w: one write port, one registered read
// port). Read data arrive for one burst at a time, so each buffer has a
// single write port (the input buffer: the load of the current bank or the
// prefetch into the other). The input buffer has one copy per fire column
// (P read ports; copy 0 also serves the pool unit), all written alike.
//
// Timing: writes take effect at the clock edge. Reads are registered, so
// their indexes come a cycle ahead (ib_bank_d_i, ib_idx_d_i, pix_ib_d_i,
// wb_idx_d_i: the next cycle's bank and indexes); ib_rd_o and the weight
// beat the shadow takes are then the buffer contents at the current
// cycle's indexes, as an asynchronous read of them would give, provided no
// write of the previous cycle hit an entry read in this one (read-first
// RAM; the assertions check that no such read is used). The shadow copies
// wsh into wreg (with the beat taken this cycle, if any) at wswap_i. No
// reset: nothing is read before it is written.

module conv_loader
  import conv_pkg::*;
#(
  parameter int unsigned T       = 2,
  parameter int unsigned P       = 1,
  parameter int unsigned InWords = 2048,
  parameter int unsigned WWords  = 1024,
  // Derived; do not override.
  localparam int unsigned BeatW   = 16 * T,
  localparam int unsigned InBeats = InWords / T,
  localparam int unsigned WBeats  = WWords / T,
  localparam int unsigned WAW     = (WBeats > 1) ? $clog2(WBeats) : 1,
  localparam int unsigned IbAW    = $clog2(2 * InBeats)
) (
  input  logic             clk_i,
  input  logic             rst_ni,

  // Descriptor
  input  conv_geom_t       geom_i,

  // Read data: a beat of the input tile (ptr_i), of the prefetch (pf_ptr_i,
  // into the other bank), of the weight tile (ptr_i)
  input  logic [BeatW-1:0] rd_data_i,
  input  logic             in_we_i,
  input  logic             pf_we_i,
  input  logic             w_we_i,
  input  logic [31:0]      ptr_i,
  /* verilator lint_off UNUSEDSIGNAL */
  input  logic [31:0]      pf_ptr_i,  // wraps at the buffer's address width
  /* verilator lint_on UNUSEDSIGNAL */
  input  logic             ib_bank_i,
  input  logic             ib_bank_d_i,

  // Input buffer reads: the P fire columns, or the pool unit's pixel
  // (indexes of the next cycle); fire_i and pool_i say a read is used
  input  logic [IbAW-1:0]  ib_idx_d_i [P],
  input  logic             in_ok_i  [P],
  input  logic [IbAW-1:0]  pix_ib_d_i,
  /* verilator lint_off UNUSEDSIGNAL */
  input  logic             fire_i,
  input  logic             pool_i,
  /* verilator lint_on UNUSEDSIGNAL */
  output logic [BeatW-1:0] ib_rd_o  [P],

  // Shadow fill: beat wb_idx_i becomes row (FP) or column (BP) mi_i of the
  // target set (m tile s_mtl_i, n tile s_ntl_i of chunks mc_i, nc_i)
  input  logic             fill_now_i,
  input  logic [WAW-1:0]   wb_idx_d_i,  // next cycle's
  input  logic [31:0]      mi_i,
  input  logic [31:0]      mc_i,
  input  logic [31:0]      nc_i,
  input  logic [31:0]      s_mtl_i,
  input  logic [31:0]      s_ntl_i,
  input  logic             wswap_i,
  output logic [15:0]      wreg_o [T][T]
);

  localparam logic [31:0] T32 = 32'(T);

  // The descriptor's fields and geometry (each unit reads the ones it needs).
  /* verilator lint_off UNUSEDSIGNAL */
  conv_geom_t g;
  /* verilator lint_on UNUSEDSIGNAL */
  assign g = geom_i;

  // Word address of entry idx of input-buffer bank `bank`.
  function automatic logic [IbAW-1:0] ib_addr(input logic bank, input logic [IbAW-1:0] idx);
    return (bank ? IbAW'(InBeats) : '0) + idx;
  endfunction

  //////////////////
  // Input buffer //
  //////////////////

  logic             ib_we;
  logic [IbAW-1:0]  ib_waddr;
  logic [IbAW-1:0]  ib_raddr [P];
  logic [BeatW-1:0] ib_data  [P];
  assign ib_we    = in_we_i || pf_we_i;
  assign ib_waddr = pf_we_i ? ib_addr(!ib_bank_i, IbAW'(pf_ptr_i)) :
                              ib_addr(ib_bank_i, IbAW'(ptr_i));

  // One copy per fire column; pools read copy 0 at their pixel.
  for (genvar p = 0; p < P; p++) begin : g_ibuf
    assign ib_raddr[p] = (p == 0 && g.is_pool) ? ib_addr(ib_bank_d_i, pix_ib_d_i) :
                                                 ib_addr(ib_bank_d_i, ib_idx_d_i[p]);
    hlsk_ram_1r1w #(
      .Width (BeatW),
      .Depth (2 * InBeats)
    ) u_ibuf (
      .clk_i   (clk_i),
      .we_i    (ib_we),
      .waddr_i (ib_waddr),
      .wdata_i (rd_data_i),
      .re_i    (1'b1),
      .raddr_i (ib_raddr[p]),
      .rdata_o (ib_data[p])
    );
  end

  // Reads of the P columns (pools use column 0 only).
  always_comb begin
    for (int unsigned p = 0; p < P; p++) begin
      if (g.is_pool) begin
        ib_rd_o[p] = (p == 0) ? ib_data[0] : '0;
      end else begin
        ib_rd_o[p] = in_ok_i[p] ? ib_data[p] : '0;
      end
    end
  end

  ///////////////////////////////
  // Weight buffer and registers //
  ///////////////////////////////

  logic [BeatW-1:0] wb_rd;
  hlsk_ram_1r1w #(
    .Width (BeatW),
    .Depth (WBeats)
  ) u_wbuf (
    .clk_i   (clk_i),
    .we_i    (w_we_i),
    .waddr_i (WAW'(ptr_i)),
    .wdata_i (rd_data_i),
    .re_i    (1'b1),
    .raddr_i (wb_idx_d_i),
    .rdata_o (wb_rd)
  );

  // Weight registers wreg[m][n] and their shadow copy, filled one row (FP)
  // or column (BP) per cycle while the current set computes.
  logic [15:0] wreg_q [T][T];
  logic [15:0] wsh_q  [T][T];
  assign wreg_o = wreg_q;

  // Shadow registers wsh[m][n] (m output lane, n reduction lane) loaded
  // from beat mi: FP row mi, BP column mi. Weights of padded channels are 0.
  logic [15:0] wnext [T][T];
  always_comb begin
    for (int unsigned m = 0; m < T; m++) begin
      for (int unsigned n = 0; n < T; n++) begin
        logic [31:0] sel, lane;
        sel  = g.is_bp ? 32'(n) : 32'(m);
        lane = g.is_bp ? 32'(m) : 32'(n);
        wnext[m][n] = wsh_q[m][n];
        if (fill_now_i && sel == mi_i) begin
          if (((mc_i + s_mtl_i) * T32 + 32'(m) < g.out_c) &&
              ((nc_i + s_ntl_i) * T32 + 32'(n) < g.red_c)) begin
            wnext[m][n] = wb_rd[16*lane +: 16];
          end else begin
            wnext[m][n] = '0;
          end
        end
      end
    end
  end

  always_ff @(posedge clk_i) begin
    wsh_q <= wnext;
    if (wswap_i) wreg_q <= wnext;
  end

  ////////////////
  // Assertions //
  ////////////////

  // A read registered while the same entry was written returns the old
  // contents; no such read may be used.
  logic ib_stale_q [P];
  logic wb_stale_q;
  always_ff @(posedge clk_i) begin
    for (int unsigned p = 0; p < P; p++) begin
      ib_stale_q[p] <= ib_we && (ib_waddr == ib_raddr[p]);
    end
    wb_stale_q <= w_we_i && (WAW'(ptr_i) == wb_idx_d_i);
  end

  always_ff @(posedge clk_i) begin
    for (int unsigned p = 0; p < P; p++) begin
      if (rst_ni && ((fire_i && !g.is_pool && in_ok_i[p]) || (pool_i && p == 0))) begin
        assert (!ib_stale_q[p]) else $error("input buffer read of column %0d is stale", p);
      end
    end
    if (rst_ni && fill_now_i) begin
      assert (!wb_stale_q) else $error("weight buffer read is stale");
    end
    if (rst_ni && in_we_i) begin
      assert (ptr_i < 32'(InBeats)) else $error("input buffer overrun at beat %0d", ptr_i);
    end
    if (rst_ni && w_we_i) begin
      assert (ptr_i < 32'(WBeats)) else $error("weight buffer overrun at beat %0d", ptr_i);
    end
  end

endmodule
