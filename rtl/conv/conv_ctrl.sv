// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Main state machine of the training-convolution engine: takes the 12
// descriptor words, checks the descriptor (conv_desc's verdict), walks the
// step sequence (start_o, advance_o: conv_plan holds the loop counters),
// and sequences each step: the input tile (or the bank the prefetcher
// filled), the weight, dO or argmax tile, the compute (StFire for FP, BP
// and WU, StPool for the pools) and the drain or the WU master update
// (read, write-back, w16 copy), as a chain of transfer phases, each a run
// of bursts (bx_o) whose beats index the unit's buffer by ptr_o.
//
// States: StIdle (descriptor words), StCheck (1 cycle), StPlan
// (PlanCycles), StStep (1 cycle), then transfers (StReq: request until
// accepted, never while the prefetcher owns the port; StData: len/T
// beats), StWLoad (the first set's weights), StFire or StPool (one cycle
// per column group, window candidate or pixel), StNext (the advance, once
// the prefetch is done). A phase always restarts its beat pointer in
// StReq, a cycle without a beat.
//
// Gradient-drain interlocks (conv_wu, WU only): StFire holds (g_hold_o,
// nothing moves, no fire) while a set's last fire would meet the previous
// set's drain still reading the gradient buffer, and the master read's
// StReq holds (req_hold_o, no request) until the last drain is written.
//
// Compute counters (mtl, ntl, ky, kx: the set; r, x: row and column group;
// mi: rows or columns of the target set in the shadow weights) are outputs
// together with their next values (*_d_o, combinational), which
// conv_addr_gen turns into registered buffer indexes.
//
// Status: busy_o from the last descriptor word to done_o; done_o and
// error_o hold until the next descriptor's first word (error_o: the check
// rejected it, without any memory access).

module conv_ctrl
  import conv_pkg::*;
#(
  parameter int unsigned T = 2,
  parameter int unsigned P = 1
) (
  input  logic        clk_i,
  input  logic        rst_ni,

  // Descriptor stream and decode
  input  logic        desc_valid_i,
  output logic        desc_we_o,    // word desc_idx_o arrives
  output logic [3:0]  desc_idx_o,   // descriptor words taken so far
  input  conv_geom_t  geom_i,
  input  logic        bad_i,
  input  logic        desc_ready_i, // geom_i and bad_i hold this descriptor's

  // Step sequence (conv_plan): the current step, and the step's transfers
  output logic        start_o,      // load the first step's loop counters
  output logic        advance_o,    // load the next step's loop counters
  input  logic [31:0] nc_i,
  input  logic [31:0] row0_i,
  input  logic [31:0] b_i,
  /* verilator lint_off UNUSEDSIGNAL */
  input  extent_t     ext_i,        // (lo, nrin: the input rows, not used here)
  /* verilator lint_on UNUSEDSIGNAL */
  input  logic        nx_chunk_m_i,
  input  logic        step_last_i,
  /* verilator lint_off UNUSEDSIGNAL */
  input  xfers_t      xf_i,         // (the master write-back keeps the read's stride, beats)
  /* verilator lint_on UNUSEDSIGNAL */

  // Memory port and prefetcher (conv_mem_port)
  input  logic        beat_i,
  input  logic        wr_phase_i,
  input  logic        pf_busy_i,
  input  logic        pf_have_i,
  input  logic        req_ready_i,
  output logic        enter_compute_o,

  // Units
  input  logic        has_next_i,   // conv_addr_gen: the step has a set after this one
  input  logic        cand_last_i,  // conv_pool: the pixel's last cycle
  input  logic        g_busy_i,     // conv_wu: the gradient drain reads (no set may end)
  input  logic        g_idle_i,     // conv_wu: the gradient drain is written

  // State (and the next cycle's, for the buffers' registered reads)
  output state_e      state_o,
  output state_e      state_d_o,
  output phase_e      phase_o,
  output phase_e      phase_d_o,

  // Compute counters and their next values
  output logic [31:0] mtl_o,
  output logic [31:0] ntl_o,
  output logic [31:0] ky_o,
  output logic [31:0] kx_o,
  output logic [31:0] mi_o,
  output logic [31:0] r_o,
  output logic [31:0] x_o,
  output logic [31:0] mtl_d_o,
  output logic [31:0] ntl_d_o,
  output logic [31:0] ky_d_o,
  output logic [31:0] kx_d_o,
  output logic [31:0] r_d_o,
  output logic [31:0] x_d_o,
  output logic [31:0] mi_d_o,
  output cnt_mv_t     cnt_mv_o,     // how the counters move (the *_d_o follow from it)

  // Datapath control
  output logic        fill_now_o,   // the shadow takes a weight beat
  output logic        wswap_o,      // the shadow becomes the weight registers
  output logic        first_add_o,  // the fire starts the accumulators from zero
  output logic        set_last_o,   // the set's last column group fires
  output logic        set_mv_o,     // ... and the counters move on to the next set
  output logic        fire_o,       // StFire, not held for the gradient drain
  output logic        g_hold_o,     // StFire held: a WU set ends while the drain reads
  output logic        req_hold_o,   // StReq held: the master read waits for the drain
  output logic        ib_bank_o,    // the input-buffer bank compute reads
  output logic        ib_bank_d_o,  // ... in the next cycle
  output tile_t       bx_o,         // the current burst
  output logic [31:0] ptr_o,        // buffer index across the bursts of a phase
  output logic [31:0] ptr_d_o,      // ... in the next cycle
  output logic        ptr_clr_o,    // ptr_d_o is zero (a phase starts: so does every new phase)
  output logic        ptr_inc_o,    // ptr_d_o is ptr_o + 1 (else, without ptr_clr_o, ptr_o)
  output logic [31:0] dm_o,         // drain: m tile

  // Status
  output logic        busy_o,
  output logic        done_o,
  output logic        error_o
);

  localparam logic [31:0] T32 = 32'(T);
  localparam logic [31:0] P32 = 32'(P);

  // The descriptor's fields and geometry (each unit reads the ones it needs).
  /* verilator lint_off UNUSEDSIGNAL */
  conv_geom_t g;
  /* verilator lint_on UNUSEDSIGNAL */
  assign g = geom_i;

  ///////////////
  // Registers //
  ///////////////

  state_e         state_q, state_d;
  phase_e         phase_q, phase_d;
  logic [3:0]     dcount_q, dcount_d;
  logic [$clog2(PlanCycles)-1:0] plan_q, plan_d;
  logic           done_q, done_d, error_q, error_d;
  // The chunk's weights are in the weight buffer.
  logic           loaded_q, loaded_d;
  // Compute counters (mi: rows or columns of the shadow weights filled).
  logic [31:0]    mtl_q, mtl_d, ntl_q, ntl_d, ky_q, ky_d, kx_q, kx_d, mi_q, mi_d;
  logic [31:0]    r_q, r_d, x_q, x_d;
  // Their moves (the *_d values follow from them).
  mv_e            mtl_mv, ntl_mv, ky_mv, kx_mv, r_mv, x_mv;
  // Burst engine.
  tile_t          bx_q, bx_d;
  logic [31:0]    bx_left_q, bx_left_d;
  logic [31:0]    ptr_q, ptr_d;             // buffer index across the bursts of a phase
  // The pointer's move: to zero (a phase starts; every change of phase
  // does), or by one (a beat), else it holds. Units that index by the next
  // cycle's pointer use these flags rather than compare ptr_d.
  logic           ptr_clr, ptr_inc;
  logic [31:0]    dm_q, dm_d, dcnt_q, dcnt_d; // drain: m tile and beat within it
  logic           ib_bank_q, ib_bank_d;
  logic           wswap, enter_compute, start, advance;

  // The current step (conv_plan): its extent and loop counters.
  logic [31:0] mtn, ntn, nr;
  logic        resident, load_w, first_chunk, last_chunk;
  assign mtn         = ext_i.mtn;
  assign ntn         = ext_i.ntn;
  assign nr          = ext_i.nr;
  assign resident    = g.rct <= g.no;
  assign load_w      = !g.is_wu && !g.is_pool && (!resident || !loaded_q);
  assign first_chunk = nc_i == 0;
  assign last_chunk  = nc_i + ntn == g.rct;

  // Shadow fill: mi_q rows (FP) or columns (BP) of the target set are in
  // the shadow. The target is the current set while waiting in StWLoad
  // (start of a step, or a set shorter than T cycles), else the next set
  // while the current one fires.
  logic fill_en, fill_now, sh_full;
  assign fill_en  = (g.op == OpFp || g.is_bp) &&
                    ((state_q == StWLoad) || (state_q == StFire && has_next_i));
  assign fill_now = fill_en && (mi_q != T32);
  assign sh_full  = (mi_q == T32) || (fill_now && mi_q + 1 == T32);

  // Last flags of the compute counters (l_*_q: the counter is at its last
  // value), registered beside them from their moves, so the loop nest's
  // decisions in StFire and StPool are functions of registers, not of
  // 32-bit increments and compares (the start of the engine's longest
  // paths, through the moves into every unit's indexes, before the
  // thirteenth session). x steps by P (fire) or 1 (pools) up to xb, r by
  // one up to rb; each flag's next value is picked by the move from the
  // zero case, the step case (compares feeding the register only) and the
  // hold. The extents change only between steps, and StStep restarts every
  // counter (so every flag) after them. Asserted against the compares.
  logic        l_x_q, l_r_q, l_kx_q, l_ky_q, l_nt_q, l_mt_q;
  logic        l_x_d, l_r_d, l_kx_d, l_ky_d, l_nt_d, l_mt_d;
  logic [31:0] xs, xb, rb;
  assign xs = g.is_pool ? 32'd1 : P32;
  assign xb = (g.is_pool && !g.is_pf) ? g.w : g.ow;
  assign rb = (g.is_pool && !g.is_pf) ? 2 * nr : nr;
  function automatic logic lst_next(input mv_e mv, input logic l, input logic [31:0] c, b);
    return (mv == MvClr) ? (b == 32'd1) : (mv == MvInc) ? (c + 32'd2 == b) : l;
  endfunction
  assign l_x_d  = (x_mv == MvClr) ? (xs >= xb) : (x_mv == MvInc) ? (x_q + 2 * xs >= xb) : l_x_q;
  assign l_r_d  = lst_next(r_mv, l_r_q, r_q, rb);
  assign l_kx_d = lst_next(kx_mv, l_kx_q, kx_q, g.k);
  assign l_ky_d = lst_next(ky_mv, l_ky_q, ky_q, g.k);
  assign l_nt_d = lst_next(ntl_mv, l_nt_q, ntl_q, ntn);
  assign l_mt_d = lst_next(mtl_mv, l_mt_q, mtl_q, mtn);
  always_ff @(posedge clk_i) begin
    l_x_q  <= l_x_d;
    l_r_q  <= l_r_d;
    l_kx_q <= l_kx_d;
    l_ky_q <= l_ky_d;
    l_nt_q <= l_nt_d;
    l_mt_q <= l_mt_d;
  end

  logic set_last, wu_last;
  assign first_add_o = first_chunk && (ntl_q == 0) && (ky_q == 0) && (kx_q == 0);
  assign set_last    = l_x_q && l_r_q;
  assign wu_last     = (b_i + 1 == g.b) && (row0_i + nr == g.oh);

  // Gradient drain interlocks (conv_wu): a WU set's last fire waits while
  // the previous set's drain still reads the gradient buffer, and the
  // master read's request waits until the last drain is written.
  logic g_hold, req_hold;
  assign g_hold   = (state_q == StFire) && g.is_wu && set_last && g_busy_i;
  assign req_hold = (phase_q == PhMRd) && !g_idle_i;

  // What follows the step's input tile (loaded or prefetched): the weight
  // tile (FP, BP, unless resident), the argmax words (POOL_BWD), the dO
  // tile (WU), or the compute. Also what follows the weight, argmax and dO
  // tiles: the compute.
  logic   al_load;
  phase_e al_phase;
  tile_t  al_tile;
  state_e c_state;
  assign c_state = g.is_pool ? StPool : g.is_wu ? StFire : StWLoad;
  always_comb begin
    al_load  = (state_q == StStep || phase_q == PhIn) && (load_w || g.is_pb || g.is_wu);
    if (load_w) begin
      al_phase = PhW;
      al_tile  = xf_i.w;
    end else if (g.is_pb) begin
      al_phase = PhCRd;
      al_tile  = xf_i.code;
    end else begin
      // WU: the dO tile of the band, at the output tile's offsets.
      al_phase = PhD;
      al_tile  = xf_i.aux;
    end
  end

  /////////////
  // Control //
  /////////////

  always_comb begin
    state_d    = state_q;
    phase_d    = phase_q;
    dcount_d   = dcount_q;
    done_d     = done_q;
    error_d    = error_q;
    loaded_d   = loaded_q;
    mtl_mv     = MvHold;
    ntl_mv     = MvHold;
    ky_mv      = MvHold;
    kx_mv      = MvHold;
    r_mv       = MvHold;
    x_mv       = MvHold;
    bx_d       = bx_q;
    bx_left_d  = bx_left_q;
    ptr_clr    = 1'b0;
    ptr_inc    = 1'b0;
    dm_d       = dm_q;
    dcnt_d     = dcnt_q;
    wswap      = 1'b0;
    ib_bank_d  = ib_bank_q;
    enter_compute = 1'b0;
    mi_d       = fill_now ? mi_q + 1 : mi_q;
    plan_d     = plan_q;
    start      = 1'b0;
    advance    = 1'b0;

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

      // The descriptor's products and verdict (conv_desc) take
      // DescCheckCycles - 1 cycles after its last word.
      StCheck: begin
        if (!desc_ready_i) begin
          state_d = StCheck;
        end else if (bad_i) begin
          error_d = 1'b1;
          done_d  = 1'b1;
          state_d = StIdle;
        end else begin
          start    = 1'b1;
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
        ptr_clr = 1'b1;
        mtl_mv  = MvClr;
        ntl_mv  = MvClr;
        ky_mv   = MvClr;
        kx_mv   = MvClr;
        mi_d    = '0;
        r_mv    = MvClr;
        x_mv    = MvClr;
        if (pf_have_i) begin
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
          bx_d        = xf_i.x_in;
          state_d     = StReq;
        end
      end

      StReq: begin
        if (req_ready_i && !pf_busy_i && !req_hold) begin
          bx_left_d = bx_q.beats;
          state_d   = StData;
        end
      end

      StData: begin
        if (beat_i) begin
          ptr_inc   = 1'b1;
          bx_left_d = bx_left_q - 1;
          if (phase_q == PhOut) begin
            if (dcnt_q + 1 == xf_i.tile_beats) begin
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
            end else if (phase_q == PhOut && g.is_pf) begin
              // POOL_FWD: the band's argmax words after its maxima.
              phase_d     = PhCWr;
              ptr_clr     = 1'b1;
              bx_d        = xf_i.code;
              state_d     = StReq;
            end else if (al_load) begin
              phase_d     = al_phase;
              ptr_clr     = 1'b1;
              bx_d        = al_tile;
              loaded_d    = loaded_q || al_phase == PhW;
              state_d     = StReq;
            end else if (phase_q == PhMRd) begin
              // Masters updated in the gradient buffer: write them back.
              phase_d     = PhMWr;
              ptr_clr     = 1'b1;
              bx_d.addr   = xf_i.m_wr.addr;
              bx_d.n      = xf_i.m_wr.n;
              state_d     = StReq;
            end else if (phase_q == PhMWr && g.write_w16) begin
              phase_d     = PhW16;
              ptr_clr     = 1'b1;
              bx_d        = xf_i.w16;
              state_d     = StReq;
            end else if (phase_q == PhMask) begin
              // act_in read: now write the band to the same offsets of out.
              phase_d   = PhOut;
              ptr_clr   = 1'b1;
              bx_d.addr = xf_i.drain.addr;
              bx_d.n    = xf_i.drain.n;
              state_d   = StReq;
            end else if (wr_phase_i) begin
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
          r_mv    = MvClr;
          x_mv    = MvClr;
          state_d = StFire;
        end
      end

      // (Held in place while g_hold: nothing moves.)
      StFire: if (!g_hold) begin
        // A new set fires on at once when its shadow is complete.
        state_d = (g.is_wu || sh_full) ? StFire : StWLoad;
        if (set_last && has_next_i && sh_full) begin
          wswap = 1'b1;
          mi_d  = '0;
        end
        if (set_last) begin
          x_mv = MvClr;
          r_mv = MvClr;
        end
        if (!l_x_q) begin
          x_mv    = MvInc;
          state_d = StFire;
        end else if (!l_r_q) begin
          x_mv    = MvClr;
          r_mv    = MvInc;
          state_d = StFire;
        end else if (!l_kx_q) begin
          kx_mv = MvInc;
        end else if (!l_ky_q) begin
          kx_mv = MvClr;
          ky_mv = MvInc;
        end else if (!l_nt_q) begin
          kx_mv  = MvClr;
          ky_mv  = MvClr;
          ntl_mv = MvInc;
        end else if (!l_mt_q) begin
          kx_mv  = MvClr;
          ky_mv  = MvClr;
          ntl_mv = MvClr;
          mtl_mv = MvInc;
        end else if (g.is_wu) begin
          if (wu_last) begin
            // The chunk pair's gradients are complete: read the masters.
            phase_d     = PhMRd;
            ptr_clr     = 1'b1;
            bx_d        = xf_i.m_rd;
            state_d     = StReq;
          end else begin
            state_d = StNext;
          end
        end else if (last_chunk) begin
          // The band drains: one burst per m tile, merged when contiguous
          // (BP with relu_mask reads act_in at the same offsets first).
          phase_d     = g.relu_mask ? PhMask : PhOut;
          ptr_clr     = 1'b1;
          dm_d        = '0;
          dcnt_d      = '0;
          bx_d        = g.relu_mask ? xf_i.aux : xf_i.drain;
          state_d = StReq;
        end else begin
          state_d = StNext;
        end
      end

      StPool: begin
        if (!cand_last_i) begin
          kx_mv = (kx_q == '0) ? MvInc : MvClr;
          if (kx_q == 32'd1 && ky_q == '0) ky_mv = MvInc;
        end else begin
          kx_mv = MvClr;
          ky_mv = MvClr;
          if (!l_x_q) begin
            x_mv = MvInc;
          end else if (!l_r_q) begin
            x_mv = MvClr;
            r_mv = MvInc;
          end else if (!l_mt_q) begin
            x_mv   = MvClr;
            r_mv   = MvClr;
            mtl_mv = MvInc;
          end else begin
            // The band drains: the pooled tile (POOL_FWD, then its argmax
            // words) or the input-size gradient tile (POOL_BWD).
            phase_d     = PhOut;
            ptr_clr     = 1'b1;
            dm_d        = '0;
            dcnt_d      = '0;
            bx_d        = g.is_pf ? xf_i.drain : xf_i.big;
            state_d     = StReq;
          end
        end
      end

      // Advance the loop nest (conv_plan's next counters), after the
      // prefetch of the next step's input, if any, is done.
      StNext: begin
        if (!pf_busy_i) begin
          advance = 1'b1;
          if (nx_chunk_m_i) loaded_d = 1'b0;
          if (step_last_i) begin
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

  assign ptr_d = ptr_clr ? '0 : ptr_inc ? ptr_q + 1 : ptr_q;
  assign mtl_d = mv_next(mtl_mv, mtl_q, 32'd1);
  assign ntl_d = mv_next(ntl_mv, ntl_q, 32'd1);
  assign ky_d  = mv_next(ky_mv, ky_q, 32'd1);
  assign kx_d  = mv_next(kx_mv, kx_q, 32'd1);
  assign r_d   = mv_next(r_mv, r_q, 32'd1);
  assign x_d   = mv_next(x_mv, x_q, (state_q == StPool) ? 32'd1 : P32);

  // Every new phase starts its pointer at zero (the units rely on it). The
  // pools' window counters are bits (their moves above assume it).
  always_ff @(posedge clk_i) begin
    if (rst_ni && phase_d != phase_q) begin
      assert (ptr_clr) else $error("phase %0d follows %0d without a pointer restart", phase_d, phase_q);
    end
    if (rst_ni && state_q == StPool) begin
      assert (kx_q <= 32'd1 && ky_q <= 32'd1) else $error("pool window at (%0d, %0d)", ky_q, kx_q);
    end
    if (rst_ni && (state_q == StFire || state_q == StPool)) begin
      assert (l_x_q == (x_q + xs >= xb) && l_r_q == (r_q + 1 == rb) && l_mt_q == (mtl_q + 1 == mtn))
        else $error("x, r or m-tile last flag out of step");
    end
    if (rst_ni && state_q == StFire) begin
      assert (l_kx_q == (kx_q + 1 == g.k) && l_ky_q == (ky_q + 1 == g.k) &&
              l_nt_q == (ntl_q + 1 == ntn))
        else $error("kx, ky or n-tile last flag out of step");
    end
  end

  /////////////
  // Outputs //
  /////////////

  assign desc_we_o       = state_q == StIdle && desc_valid_i;
  assign desc_idx_o      = dcount_q;
  assign start_o         = start;
  assign advance_o       = advance;
  assign enter_compute_o = enter_compute;
  assign state_o         = state_q;
  assign phase_o         = phase_q;
  assign mtl_o           = mtl_q;
  assign ntl_o           = ntl_q;
  assign ky_o            = ky_q;
  assign kx_o            = kx_q;
  assign mi_o            = mi_q;
  assign r_o             = r_q;
  assign x_o             = x_q;
  assign mtl_d_o         = mtl_d;
  assign ntl_d_o         = ntl_d;
  assign ky_d_o          = ky_d;
  assign kx_d_o          = kx_d;
  assign r_d_o           = r_d;
  assign x_d_o           = x_d;
  assign mi_d_o          = mi_d;
  assign cnt_mv_o        = '{mtl: mtl_mv, ntl: ntl_mv, ky: ky_mv, kx: kx_mv, r: r_mv, x: x_mv};
  assign state_d_o       = state_d;
  assign phase_d_o       = phase_d;
  assign ptr_d_o         = ptr_d;
  assign ptr_clr_o       = ptr_clr;
  assign ptr_inc_o       = ptr_inc && !ptr_clr;
  assign ib_bank_d_o     = ib_bank_d;
  assign fill_now_o      = fill_now;
  assign wswap_o         = wswap;
  assign set_last_o      = set_last;
  // In StFire the set counters move exactly when the set's last column
  // group fires (not held) and a set follows (conv_addr_gen's next set).
  assign set_mv_o        = (state_q == StFire) && !g_hold && set_last && has_next_i;
  assign fire_o          = (state_q == StFire) && !g_hold;
  assign g_hold_o        = g_hold;
  assign req_hold_o      = req_hold;
  assign ib_bank_o       = ib_bank_q;
  assign bx_o            = bx_q;
  assign ptr_o           = ptr_q;
  assign dm_o            = dm_q;

  assign busy_o          = (state_q != StIdle);
  assign done_o          = done_q;
  assign error_o         = error_q;

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
    end else begin
      state_q      <= state_d;
      phase_q      <= phase_d;
      dcount_q     <= dcount_d;
      plan_q       <= plan_d;
      done_q       <= done_d;
      error_q      <= error_d;
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
      ib_bank_q    <= ib_bank_d;
    end
  end

endmodule
