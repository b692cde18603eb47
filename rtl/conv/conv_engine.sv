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
//
// Structure (docs/conv.md, Structure): this module only wires the units,
// one per file. conv_desc decodes the descriptor into the registered
// geometry every unit reads; conv_ctrl is the main state machine, conv_plan
// the loop nest and the burst addresses of each step, conv_addr_gen the
// buffer indexes; conv_loader holds the input and weight buffers and the
// weight registers (BP's transpose and flip), conv_mac_array the output
// buffer, the MAC array and the drain's format, conv_wu the gradient
// buffer and the SGD write-back, conv_pool the pool unit; conv_mem_port
// drives the memory port and runs the prefetcher; conv_counters counts.

module conv_engine
  import conv_pkg::*;
#(
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
  localparam int unsigned IbAW    = $clog2(2 * InBeats),
  localparam int unsigned PW      = (P > 1) ? $clog2(P) : 1
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

  ///////////
  // Wires //
  ///////////

  // Descriptor.
  conv_geom_t geom;
  logic       bad, desc_ready;

  // Main machine state and counters.
  state_e      state, state_d;
  phase_e      phase, phase_d;
  logic        desc_we;
  logic [3:0]  desc_idx;
  logic        start, advance;
  logic [31:0] mc, b, row0, nc;
  extent_t     ext;
  logic [31:0] mtl, ntl, ky, kx, mi, r, x;
  logic [31:0] mtl_d, ntl_d, ky_d, kx_d, r_d, x_d, mi_d;
  logic        fill_now, wswap, first_add, set_last, set_mv, ib_bank, ib_bank_d, enter_compute;
  logic        fire, g_hold, req_hold, g_busy, g_idle;
  tile_t       bx;
  logic [31:0] ptr, ptr_d, dm;
  logic        ptr_clr, ptr_inc;
  cnt_mv_t     cnt_mv;

  // Step plan.
  logic        nx_chunk_m, step_last;
  tile_t       nx_in;
  xfers_t      xfers;

  // Memory port and prefetcher.
  logic        beat, wr_phase, pf_busy, pf_have, pf_beat;
  logic [31:0] pf_ptr;

  // Buffer indexes.
  logic [IbAW-1:0]  ib_idx_d [P];
  logic             in_ok  [P];
  logic             px_ok  [P];
  logic [OutAW-1:0] ob_fi, ob_fi_d, pix_cb, pix_cb_d, pix_ob;
  logic [PW-1:0]    ob_cr, ob_cr_d, pix_xr;
  logic [IbAW-1:0]  pix_ib_d;
  logic             has_next;
  logic [31:0]      s_mtl, s_ntl;
  logic [WAW-1:0]   wb_idx_d;
  logic [GAW-1:0]   g_row;

  // Datapath.
  logic [BeatW-1:0]  ib_rd [P];
  logic [15:0]       wreg  [T][T];
  logic signed [31:0] prod [P][T][T];
  logic [BeatW-1:0]  drain_data, mw_data, w16_data, cb_data;
  logic              cand_last, pool_we;
  logic [T*AccW-1:0] pool_data;

  ////////////////////////////////
  // Descriptor decode and plan //
  ////////////////////////////////

  conv_desc #(
    .T       (T),
    .InWords (InWords),
    .WWords  (WWords),
    .OutEnt  (OutEnt),
    .GEnt    (GEnt)
  ) u_desc (
    .clk_i  (clk_i),
    .we_i   (desc_we),
    .idx_i  (desc_idx),
    .data_i (desc_data_i),
    .geom_o  (geom),
    .bad_o   (bad),
    .ready_o (desc_ready)
  );

  conv_plan #(
    .T (T)
  ) u_plan (
    .clk_i         (clk_i),
    .rst_ni        (rst_ni),
    .state_i       (state),
    .geom_i        (geom),
    .start_i       (start),
    .advance_i     (advance),
    .nc_o          (nc),
    .row0_o        (row0),
    .b_o           (b),
    .mc_o          (mc),
    .ext_o         (ext),
    .nx_chunk_m_o  (nx_chunk_m),
    .step_last_o   (step_last),
    .nx_in_o       (nx_in),
    .xfers_o       (xfers)
  );

  /////////////
  // Control //
  /////////////

  conv_ctrl #(
    .T (T),
    .P (P)
  ) u_ctrl (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .desc_valid_i    (desc_valid_i),
    .desc_we_o       (desc_we),
    .desc_idx_o      (desc_idx),
    .geom_i          (geom),
    .bad_i           (bad),
    .desc_ready_i    (desc_ready),
    .start_o         (start),
    .advance_o       (advance),
    .nc_i            (nc),
    .row0_i          (row0),
    .b_i             (b),
    .ext_i           (ext),
    .nx_chunk_m_i    (nx_chunk_m),
    .step_last_i     (step_last),
    .xf_i            (xfers),
    .beat_i          (beat),
    .wr_phase_i      (wr_phase),
    .pf_busy_i       (pf_busy),
    .pf_have_i       (pf_have),
    .req_ready_i     (req_ready_i),
    .enter_compute_o (enter_compute),
    .has_next_i      (has_next),
    .cand_last_i     (cand_last),
    .g_busy_i        (g_busy),
    .g_idle_i        (g_idle),
    .state_o         (state),
    .state_d_o       (state_d),
    .phase_o         (phase),
    .phase_d_o       (phase_d),
    .mtl_o           (mtl),
    .ntl_o           (ntl),
    .ky_o            (ky),
    .kx_o            (kx),
    .mi_o            (mi),
    .r_o             (r),
    .x_o             (x),
    .mtl_d_o         (mtl_d),
    .ntl_d_o         (ntl_d),
    .ky_d_o          (ky_d),
    .kx_d_o          (kx_d),
    .r_d_o           (r_d),
    .x_d_o           (x_d),
    .mi_d_o          (mi_d),
    .fill_now_o      (fill_now),
    .wswap_o         (wswap),
    .first_add_o     (first_add),
    .set_last_o      (set_last),
    .set_mv_o        (set_mv),
    .fire_o          (fire),
    .g_hold_o        (g_hold),
    .req_hold_o      (req_hold),
    .ib_bank_o       (ib_bank),
    .ib_bank_d_o     (ib_bank_d),
    .bx_o            (bx),
    .ptr_o           (ptr),
    .ptr_d_o         (ptr_d),
    .cnt_mv_o        (cnt_mv),
    .ptr_clr_o       (ptr_clr),
    .ptr_inc_o       (ptr_inc),
    .dm_o            (dm),
    .busy_o          (busy_o),
    .done_o          (done_o),
    .error_o         (error_o)
  );

  conv_counters #(
    .T (T)
  ) u_counters (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .state_i         (state),
    .phase_i         (phase),
    .desc_valid_i    (desc_valid_i),
    .dcount_i        (desc_idx),
    .beat_i          (beat),
    .wr_phase_i      (wr_phase),
    .pf_busy_i       (pf_busy),
    .pf_beat_i       (pf_beat),
    .req_fire_i      (req_valid_o && req_ready_i),
    .g_hold_i        (g_hold),
    .req_hold_i      (req_hold),
    .cnt_cycles_o    (cnt_cycles_o),
    .cnt_fired_o     (cnt_fired_o),
    .cnt_stall_in_o  (cnt_stall_in_o),
    .cnt_stall_w_o   (cnt_stall_w_o),
    .cnt_stall_out_o (cnt_stall_out_o),
    .cnt_rd_words_o  (cnt_rd_words_o),
    .cnt_wr_words_o  (cnt_wr_words_o),
    .cnt_bursts_o    (cnt_bursts_o)
  );

  ////////////////////////
  // Address generators //
  ////////////////////////

  conv_addr_gen #(
    .T       (T),
    .P       (P),
    .InWords (InWords),
    .WWords  (WWords),
    .OutEnt  (OutEnt),
    .GEnt    (GEnt)
  ) u_addr_gen (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .geom_i     (geom),
    .ext_i      (ext),
    .row0_i     (row0),
    .state_i    (state),
    .state_d_i  (state_d),
    .fill_now_i (fill_now),
    .set_last_i (set_last),
    .set_mv_i   (set_mv),
    .mtl_i      (mtl),
    .ntl_i      (ntl),
    .ky_i       (ky),
    .kx_i       (kx),
    .mi_i       (mi),
    .r_i        (r),
    .x_i        (x),
    .mtl_d_i    (mtl_d),
    .ntl_d_i    (ntl_d),
    .ky_d_i     (ky_d),
    .kx_d_i     (kx_d),
    .r_d_i      (r_d),
    .x_d_i      (x_d),
    .mi_d_i     (mi_d),
    .mv_i       (cnt_mv),
    .ptr_i      (ptr),
    .ptr_clr_i  (ptr_clr),
    .ptr_inc_i  (ptr_inc),
    .ib_idx_d_o (ib_idx_d),
    .in_ok_o    (in_ok),
    .px_ok_o    (px_ok),
    .ob_fi_o    (ob_fi),
    .ob_fi_d_o  (ob_fi_d),
    .ob_cr_o    (ob_cr),
    .ob_cr_d_o  (ob_cr_d),
    .pix_xr_o   (pix_xr),
    .has_next_o (has_next),
    .s_mtl_o    (s_mtl),
    .s_ntl_o    (s_ntl),
    .wb_idx_d_o (wb_idx_d),
    .g_row_o    (g_row),
    .pix_ib_d_o (pix_ib_d),
    .pix_cb_o   (pix_cb),
    .pix_cb_d_o (pix_cb_d),
    .pix_ob_o   (pix_ob)
  );

  /////////////
  // Loaders //
  /////////////

  conv_loader #(
    .T       (T),
    .P       (P),
    .InWords (InWords),
    .WWords  (WWords)
  ) u_loader (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .geom_i     (geom),
    .rd_data_i  (rd_data_i),
    .in_we_i    (beat && phase == PhIn),
    .pf_we_i    (pf_beat),
    .w_we_i     (beat && phase == PhW),
    .ptr_i      (ptr),
    .pf_ptr_i   (pf_ptr),
    .ib_bank_i  (ib_bank),
    .ib_bank_d_i(ib_bank_d),
    .ib_idx_d_i (ib_idx_d),
    .in_ok_i    (in_ok),
    .pix_ib_d_i (pix_ib_d),
    .fire_i     (state == StFire),
    .pool_i     (state == StPool),
    .ib_rd_o    (ib_rd),
    .fill_now_i (fill_now),
    .wb_idx_d_i (wb_idx_d),
    .mi_i       (mi),
    .mc_i       (mc),
    .nc_i       (nc),
    .s_mtl_i    (s_mtl),
    .s_ntl_i    (s_ntl),
    .wswap_i    (wswap),
    .wreg_o     (wreg)
  );

  /////////////////////////////////
  // MAC array and output buffer //
  /////////////////////////////////

  conv_mac_array #(
    .T      (T),
    .P      (P),
    .AccW   (AccW),
    .OutEnt (OutEnt)
  ) u_mac_array (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .geom_i       (geom),
    .fire_we_i    (state == StFire && !geom.is_wu),
    .first_add_i  (first_add),
    .wreg_i       (wreg),
    .ib_rd_i      (ib_rd),
    .px_ok_i      (px_ok),
    .ob_fi_i      (ob_fi),
    .ob_fi_d_i    (ob_fi_d),
    .prod_o       (prod),
    .rd_data_i    (rd_data_i),
    .d_we_i       (beat && phase == PhD),
    .mask_we_i    (beat && phase == PhMask),
    .ptr_i        (ptr),
    .ptr_d_i      (ptr_d),
    .ob_cr_i      (ob_cr),
    .ob_cr_d_i    (ob_cr_d),
    .pool_we_i    (pool_we),
    .pool_idx_i   (pix_ob),
    .pool_bank_i  (pix_xr),
    .pool_data_i  (pool_data),
    .drain_d_i    (phase_d == PhOut),
    .mc_i         (mc),
    .dm_i         (dm),
    .drain_data_o (drain_data)
  );

  ///////////////////////////////////////
  // WU accumulator and SGD write-back //
  ///////////////////////////////////////

  conv_wu #(
    .T      (T),
    .P      (P),
    .AccWWu (AccWWu),
    .GEnt   (GEnt)
  ) u_wu (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .geom_i     (geom),
    .start_i    (start),
    .fire_i     (fire),
    .set_last_i (set_last),
    .g_row_i    (g_row),
    .b_i        (b),
    .row0_i     (row0),
    .mc_i       (mc),
    .nc_i       (nc),
    .mtl_i      (mtl),
    .ntl_i      (ntl),
    .r_i        (r),
    .x_i        (x),
    .prod_i     (prod),
    .px_ok_i    (px_ok),
    .g_busy_o   (g_busy),
    .g_idle_o   (g_idle),
    .beat_i     (beat),
    .phase_i    (phase),
    .ptr_i      (ptr),
    .ptr_clr_i  (ptr_clr),
    .ptr_inc_i  (ptr_inc),
    .rd_data_i  (rd_data_i),
    .mw_data_o  (mw_data),
    .w16_data_o (w16_data)
  );

  ///////////////
  // Pool unit //
  ///////////////

  conv_pool #(
    .T      (T),
    .AccW   (AccW),
    .OutEnt (OutEnt)
  ) u_pool (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .geom_i      (geom),
    .ky_i        (ky),
    .kx_i        (kx),
    .r_i         (r),
    .pool_i      (state == StPool),
    .pool_d_i    (state_d == StPool),
    .x_i         (x),
    .mc_i        (mc),
    .mtl_i       (mtl),
    .ib_rd_i     (ib_rd[0]),
    .cb_idx_i    (pix_cb),
    .cb_idx_d_i  (pix_cb_d),
    .cand_last_o (cand_last),
    .ob_we_o     (pool_we),
    .ob_data_o   (pool_data),
    .crd_we_i    (beat && phase == PhCRd),
    .ptr_i       (ptr),
    .ptr_d_i     (ptr_d),
    .rd_data_i   (rd_data_i),
    .cb_wr_o     (cb_data)
  );

  /////////////////
  // Memory port //
  /////////////////

  conv_mem_port #(
    .T (T)
  ) u_mem_port (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .state_i         (state),
    .phase_i         (phase),
    .bx_i            (bx),
    .enter_compute_i (enter_compute),
    .req_hold_i      (req_hold),
    .step_last_i     (step_last),
    .nx_in_i         (nx_in),
    .beat_o          (beat),
    .wr_phase_o      (wr_phase),
    .pf_busy_o       (pf_busy),
    .pf_have_o       (pf_have),
    .pf_beat_o       (pf_beat),
    .pf_ptr_o        (pf_ptr),
    .drain_data_i    (drain_data),
    .mw_data_i       (mw_data),
    .w16_data_i      (w16_data),
    .cb_data_i       (cb_data),
    .desc_ready_o    (desc_ready_o),
    .req_valid_o     (req_valid_o),
    .req_ready_i     (req_ready_i),
    .req_addr_o      (req_addr_o),
    .req_len_o       (req_len_o),
    .req_write_o     (req_write_o),
    .rd_valid_i      (rd_valid_i),
    .rd_ready_o      (rd_ready_o),
    .wr_valid_o      (wr_valid_o),
    .wr_ready_i      (wr_ready_i),
    .wr_data_o       (wr_data_o)
  );

endmodule
