// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// TLMM engine, table-stationary: tables in small RAMs, partial sums in RAM.
//
// Same contract as tlmm_os_engine (docs/tlmm.md): out[m] =
// sign_extend_32(sum_k W[m][k] * x[k] mod 2^AccW) for m < M, k < K. Per job:
// one command beat (M, K, flags), checked in the cycle after it moves as in
// tlmm_os_engine; ceil(K/4) activation beats (loaded into
// the chunk buffer first); then weight beats of P*T codes, chunk-major: for
// each chunk of T groups, ceil(M/P) beats, one per row block; then M
// results, one 32-bit word per beat in row order, last on row M-1.
//
// For each chunk a serial builder writes the T tables once into one of two
// table banks (address = {bank, idx}, one entry per cycle: 1 + NE cycles per
// chunk), double-buffered so the next chunk builds while the current one
// streams. Each lane has its own copy of the T table RAMs (one read port
// each, so they map onto LUT-RAM); all copies are written together. P lanes
// look up the current bank; their sums are read-modify-written into
// P partial-sum RAMs (row rb*P + p in bank p at address rb), with a bypass
// for a write and a read of the same row block in back-to-back cycles.
// After the last chunk the rows are read out of the RAMs in row order
// through a small FIFO that absorbs result back-pressure. One weight beat
// per cycle in steady state when ceil(M/P) >= 1 + NE (the build time).
//
// Status, counters and the command rules are those of tlmm_os_engine, plus:
// M > MMax is rejected with ErrShape. Streams are counted, never waited for
// on a last flag, so a protocol error cannot hang the engine.

module tlmm_ts_engine
  import tlmm_pkg::*;
#(
  parameter int unsigned G    = 3,
  parameter int unsigned T    = 1,
  parameter int unsigned P    = 4,
  parameter int unsigned AccW = 24,
  parameter int unsigned KMax = 256,
  parameter int unsigned MMax = 64,
  // Derived; do not override.
  localparam int unsigned CW      = code_width(G),
  localparam int unsigned NE      = num_entries(G),
  localparam int unsigned EW      = entry_width(G),
  localparam int unsigned SW      = EW + 1 + $clog2(T),
  localparam int unsigned WBits   = P * T * CW,
  localparam int unsigned WBeatW  = ((WBits + 7) / 8) * 8,
  localparam int unsigned GT      = G * T,
  localparam int unsigned Chunks  = (KMax + GT - 1) / GT,
  localparam int unsigned ChunkAW = (Chunks > 1) ? $clog2(Chunks) : 1,
  localparam int unsigned KW      = $clog2(KMax + 1),
  localparam int unsigned RowBlks = (MMax + P - 1) / P,
  localparam int unsigned RbAW    = (RowBlks > 1) ? $clog2(RowBlks) : 1,
  localparam int unsigned IB      = idx_bits(G),
  localparam int unsigned LaneAW  = (P > 1) ? $clog2(P) : 1
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,

  // Command stream
  input  logic                 cmd_valid_i,
  output logic                 cmd_ready_o,
  input  logic [CmdMW-1:0]     cmd_m_i,
  input  logic [CmdKW-1:0]     cmd_k_i,
  input  logic [CmdFlagsW-1:0] cmd_flags_i,

  // Activation stream: byte i of beat b = x[4b+i]
  input  logic                 act_valid_i,
  output logic                 act_ready_o,
  input  logic [31:0]          act_data_i,
  input  logic                 act_last_i,

  // Weight stream, chunk-major: code (lane p, slot t) at [(p*T+t)*CW +: CW]
  input  logic                 w_valid_i,
  output logic                 w_ready_o,
  input  logic [WBeatW-1:0]    w_data_i,
  input  logic                 w_last_i,

  // Result stream
  output logic                 res_valid_o,
  input  logic                 res_ready_i,
  output logic [31:0]          res_data_o,
  output logic                 res_last_o,

  // Status and counters
  output logic                 busy_o,
  output logic [StatusW-1:0]   status_o,
  output logic [31:0]          cnt_busy_o,
  output logic [31:0]          cnt_w_starved_o,
  output logic [31:0]          cnt_out_blocked_o,
  output logic [31:0]          cnt_w_beats_o
);

  localparam int unsigned     OutW    = 1 + 32;  // result FIFO entry: last, data
  localparam int unsigned     OutD    = 4;       // covers the RAM read latency
  localparam int unsigned     OutLvlW = $clog2(OutD + 1);

  typedef enum logic [2:0] {
    StIdle,
    StAccept,
    StLoad,
    StCompute,
    StDrain
  } state_e;

  ///////////////
  // Registers //
  ///////////////

  state_e             state_q, state_d;
  logic [CmdMW-1:0]   m_q, m_d;                // rows of the job
  logic [CmdMW-1:0]   row_base_q, row_base_d;  // first row of the block being fed
  logic [RbAW-1:0]    rb_q, rb_d;              // row block being fed
  logic [ChunkAW:0]   chunk_q, chunk_d;        // chunk being fed
  logic [StatusW-1:0] status_q, status_d;
  logic [31:0]        cnt_busy_q, cnt_starved_q, cnt_blocked_q, cnt_beats_q;
  // The accepted command (StAccept): M, K, and its checks made on the port
  // (tlmm_cmd_accept).
  logic [CmdMW-1:0]   acc_m_q;
  logic [KW-1:0]      acc_k_q;
  logic               acc_ok_q, acc_clear_q, acc_krange_q;

  ///////////////////////
  // Activation buffer //
  ///////////////////////

  logic             ab_start, ab_done, ab_proto;
  logic [ChunkAW:0] nchunks;
  logic [8*GT-1:0]  chunk_data;
  logic             bld_start;
  logic [ChunkAW:0] bld_chunk_q, bld_chunk_d;  // next chunk to build

  tlmm_act_buffer #(
    .G(G),
    .T(T),
    .KMax(KMax)
  ) u_act (
    .clk_i,
    .rst_ni,
    .start_i     (ab_start),
    .k_i         (acc_k_q),
    .done_o      (ab_done),
    .nchunks_o   (nchunks),
    .proto_err_o (ab_proto),
    .act_valid_i,
    .act_ready_o,
    .act_data_i,
    .act_last_i,
    .rd_en_i     (bld_start),
    .rd_chunk_i  (bld_chunk_q[ChunkAW-1:0]),
    .rd_data_o   (chunk_data)
  );

  ///////////////////////////////////
  // Table builder and table banks //
  ///////////////////////////////////

  // The builder reads a chunk from the buffer (one cycle), then writes entry
  // ent_q of all T tables of bank bld_chunk_q[0] per cycle. A bank is full
  // from its last entry write until its chunk's last beat moves.
  logic                 bld_busy_q, bld_busy_d;
  logic [IB-1:0]        ent_q, ent_d;
  logic [1:0]           tbl_full_q, tbl_full_d;
  logic                 bld_bank;
  logic                 bld_last_ent;
  logic [G-1:0]         dig_pos, dig_neg;  // balanced-ternary digits of ent_q
  logic signed [EW-1:0] bld_entry [T];

  assign bld_bank     = bld_chunk_q[0];
  assign bld_last_ent = (ent_q == IB'(NE - 1));
  assign bld_start    = (state_q == StCompute) && !bld_busy_q &&
                        (bld_chunk_q < nchunks) && !tbl_full_q[bld_bank];

  // Digit i (activation b_i, weight 3^(G-1-i)) of entry ent_q, from a ROM.
  always_comb begin
    dig_pos = '0;
    dig_neg = '0;
    for (int unsigned e = 0; e < NE; e++) begin
      if (ent_q == IB'(e)) begin
        for (int unsigned i = 0; i < G; i++) begin
          dig_pos[i] = (bt_digit(e, G - 1 - i) == 1);
          dig_neg[i] = (bt_digit(e, G - 1 - i) == -1);
        end
      end
    end
  end

  always_comb begin
    for (int unsigned t = 0; t < T; t++) begin
      bld_entry[t] = '0;
      for (int unsigned i = 0; i < G; i++) begin
        if (dig_pos[i]) begin
          bld_entry[t] = bld_entry[t] + EW'($signed(chunk_data[8*(G*t+i) +: 8]));
        end else if (dig_neg[i]) begin
          bld_entry[t] = bld_entry[t] - EW'($signed(chunk_data[8*(G*t+i) +: 8]));
        end
      end
    end
  end

  /////////////
  // Control //
  /////////////

  logic cmd_fire, w_fire;
  logic last_chunk, last_block, first_chunk;
  logic pipe_empty, drain_done;
  logic v1_q, v2_q;           // pipeline stage valid (lookup, accumulate)
  logic bank1_q;              // table bank of stage 1
  logic lane_illegal_q;       // a lane looked up an illegal code

  assign cmd_ready_o = (state_q == StIdle);
  assign cmd_fire    = cmd_valid_i && cmd_ready_o;

  tlmm_cmd_accept #(
    .KMax (KMax),
    .MMax (MMax),
    .AccW (AccW)
  ) u_cmd (
    .clk_i,
    .rst_ni,
    .fire_i   (cmd_fire),
    .m_i      (cmd_m_i),
    .k_i      (cmd_k_i),
    .flags_i  (cmd_flags_i),
    .m_o      (acc_m_q),
    .k_o      (acc_k_q),
    .ok_o     (acc_ok_q),
    .clear_o  (acc_clear_q),
    .krange_o (acc_krange_q)
  );

  assign ab_start    = (state_q == StAccept) && acc_ok_q;

  assign first_chunk = (chunk_q == '0);
  assign last_chunk  = (chunk_q == nchunks - 1'b1);
  assign last_block  = (row_base_q + CmdMW'(P) >= m_q);

  assign w_ready_o  = (state_q == StCompute) && tbl_full_q[chunk_q[0]];
  assign w_fire     = w_valid_i && w_ready_o;
  assign pipe_empty = !v1_q && !v2_q;

  always_comb begin
    state_d     = state_q;
    m_d         = m_q;
    row_base_d  = row_base_q;
    rb_d        = rb_q;
    chunk_d     = chunk_q;
    status_d    = status_q;
    bld_busy_d  = bld_busy_q;
    ent_d       = ent_q;
    bld_chunk_d = bld_chunk_q;
    tbl_full_d  = tbl_full_q;

    // Builder.
    if (bld_start) begin
      bld_busy_d = 1'b1;
      ent_d      = '0;
    end else if (bld_busy_q) begin
      ent_d = ent_q + 1'b1;
      if (bld_last_ent) begin
        bld_busy_d           = 1'b0;
        tbl_full_d[bld_bank] = 1'b1;
        bld_chunk_d          = bld_chunk_q + 1'b1;
      end
    end
    // The chunk's last beat frees its bank: its lookup (next cycle) is
    // over before the builder, which reads the chunk first, writes it.
    if (w_fire && last_block) begin
      tbl_full_d[chunk_q[0]] = 1'b0;
    end

    unique case (state_q)
      StIdle: begin
        if (cmd_fire) begin
          state_d = StAccept;
        end
      end
      StAccept: begin
        if (acc_clear_q) begin
          status_d = '0;
        end
        if (acc_ok_q) begin
          state_d     = StLoad;
          m_d         = acc_m_q;
          row_base_d  = '0;
          rb_d        = '0;
          chunk_d     = '0;
          bld_busy_d  = 1'b0;
          bld_chunk_d = '0;
          tbl_full_d  = '0;
          if (acc_krange_q) begin
            status_d[ErrKRange] = 1'b1;
          end
        end else begin
          state_d            = StIdle;
          status_d[ErrShape] = 1'b1;
        end
      end
      StLoad: begin
        if (ab_done) begin
          state_d = StCompute;
        end
      end
      StCompute: begin
        if (w_fire) begin
          if (w_last_i != (last_chunk && last_block)) begin
            status_d[ErrProto] = 1'b1;
          end
          if (last_block) begin
            row_base_d = '0;
            rb_d       = '0;
            chunk_d    = chunk_q + 1'b1;
            if (last_chunk) begin
              state_d = StDrain;
            end
          end else begin
            row_base_d = row_base_q + CmdMW'(P);
            rb_d       = rb_q + 1'b1;
          end
        end
      end
      StDrain: begin
        if (drain_done) begin
          state_d = StIdle;
        end
      end
      default: state_d = StIdle;
    endcase

    if (ab_proto) begin
      status_d[ErrProto] = 1'b1;
    end
    if (lane_illegal_q) begin
      status_d[ErrCode] = 1'b1;
    end
  end

  ////////////////////////////////////
  // Datapath: lookups, partial sums //
  ////////////////////////////////////

  // Stage 1: beat registered; lanes look up the bank; partial sums read.
  // Stage 2: lane sums registered; partial sums added and written back.
  logic [WBits-1:0]      w1_q;
  logic                  first1_q, first2_q;
  logic [RbAW-1:0]       rb1_q, rb2_q;
  logic [EW-1:0]         ent_rd [P][T];
  logic signed [SW-1:0]  lane_sum [P];
  logic [P-1:0]          lane_illegal;
  logic signed [SW-1:0]  sum2_q [P];
  logic                  fwd2_q, fwd2_d;   // stage 2 reads the previous write
  logic [AccW-1:0]       fwd_q [P];
  logic [AccW-1:0]       ps_rdata [P];
  logic [AccW-1:0]       ps_wdata [P];
  logic                  ps_re;
  logic [RbAW-1:0]       ps_raddr;

  // Table copy (lane p, slot t), looked up by the code in that slot.
  for (genvar p = 0; p < P; p++) begin : g_lanes
    for (genvar t = 0; t < T; t++) begin : g_slots
      tlmm_table_ram #(
        .Width(EW),
        .Depth(2 << IB)
      ) u_table (
        .clk_i,
        .we_i    (bld_busy_q),
        .waddr_i ({bld_bank, ent_q}),
        .wdata_i (bld_entry[t]),
        .raddr_i ({bank1_q, w1_q[(p*T+t)*CW +: IB]}),
        .rdata_o (ent_rd[p][t])
      );
    end
  end

  // Lane p: T lookups, the code's sign, an adder tree. An illegal idx
  // (beyond the table) reads as 0 and is flagged.
  always_comb begin
    for (int unsigned p = 0; p < P; p++) begin
      lane_sum[p]     = '0;
      lane_illegal[p] = 1'b0;
      for (int unsigned t = 0; t < T; t++) begin
        logic [IB-1:0]      idx;
        logic               sign;
        logic signed [EW:0] val;
        idx  = w1_q[(p*T+t)*CW +: IB];
        sign = w1_q[(p*T+t)*CW + IB];
        val  = '0;
        if (32'(idx) < NE) begin
          val = (EW + 1)'($signed(ent_rd[p][t]));
        end else begin
          lane_illegal[p] = 1'b1;
        end
        lane_sum[p] = sign ? lane_sum[p] - SW'(val) : lane_sum[p] + SW'(val);
      end
    end
  end

  // Byte padding above the codes carries nothing.
  if (WBeatW > WBits) begin : g_w_pad
    logic unused_w_pad;
    assign unused_w_pad = ^w_data_i[WBeatW-1:WBits];
  end

  // A write in stage 2 to the row block stage 1 reads is not yet in the RAM
  // (read-first): forward it.
  assign fwd2_d = v1_q && v2_q && (rb1_q == rb2_q);

  always_comb begin
    for (int unsigned p = 0; p < P; p++) begin
      logic [AccW-1:0] old;
      old = first2_q ? '0 : (fwd2_q ? fwd_q[p] : ps_rdata[p]);
      ps_wdata[p] = old + AccW'(sum2_q[p]);
    end
  end

  always_ff @(posedge clk_i) begin
    if (w_fire) begin
      w1_q     <= w_data_i[WBits-1:0];
      first1_q <= first_chunk;
      bank1_q  <= chunk_q[0];
      rb1_q    <= rb_q;
    end
    if (v1_q) begin
      sum2_q   <= lane_sum;
      first2_q <= first1_q;
      rb2_q    <= rb1_q;
      fwd2_q   <= fwd2_d;
    end
    if (v2_q) begin
      fwd_q <= ps_wdata;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      v1_q           <= 1'b0;
      v2_q           <= 1'b0;
      lane_illegal_q <= 1'b0;
    end else begin
      v1_q           <= w_fire;
      v2_q           <= v1_q;
      lane_illegal_q <= v1_q && (|lane_illegal);
    end
  end

  /////////////////////////////////
  // Partial sums and result out //
  /////////////////////////////////

  // Drain: row dr_row_q is read from bank dr_lane_q at address dr_addr_q
  // once the pipeline is empty, one row per cycle while the FIFO has room
  // for it and the read in flight.
  logic [CmdMW-1:0]   dr_row_q, dr_row_d;
  logic [RbAW-1:0]    dr_addr_q, dr_addr_d;
  logic [LaneAW-1:0]  dr_lane_q, dr_lane_d;
  logic               dr_issue;
  logic               dr_v_q, dr_last_q;
  logic [LaneAW-1:0]  dr_sel_q;
  logic [OutLvlW-1:0] out_level;
  logic               out_empty, out_full, out_in_ready;
  logic [OutW-1:0]    out_data;
  logic [AccW-1:0]    dr_word;

  assign dr_issue = (state_q == StDrain) && pipe_empty && (dr_row_q != m_q) &&
                    (32'(out_level) + 32'(dr_v_q) < OutD);
  assign drain_done = pipe_empty && (dr_row_q == m_q) && !dr_v_q && out_empty;

  assign ps_re    = dr_issue || (v1_q && !first1_q);
  assign ps_raddr = dr_issue ? dr_addr_q : rb1_q;

  for (genvar p = 0; p < P; p++) begin : g_psum
    hlsk_ram_1r1w #(
      .Width(AccW),
      .Depth(RowBlks)
    ) u_psum (
      .clk_i,
      .we_i    (v2_q),
      .waddr_i (rb2_q),
      .wdata_i (ps_wdata[p]),
      .re_i    (ps_re),
      .raddr_i (ps_raddr),
      .rdata_o (ps_rdata[p])
    );
  end

  always_comb begin
    dr_row_d  = dr_row_q;
    dr_addr_d = dr_addr_q;
    dr_lane_d = dr_lane_q;
    if (cmd_fire) begin
      dr_row_d  = '0;
      dr_addr_d = '0;
      dr_lane_d = '0;
    end else if (dr_issue) begin
      dr_row_d = dr_row_q + 1'b1;
      if (dr_lane_q == LaneAW'(P - 1)) begin
        dr_lane_d = '0;
        dr_addr_d = dr_addr_q + 1'b1;
      end else begin
        dr_lane_d = dr_lane_q + 1'b1;
      end
    end
  end

  always_comb begin
    dr_word = '0;
    for (int unsigned p = 0; p < P; p++) begin
      if (dr_sel_q == LaneAW'(p)) begin
        dr_word = ps_rdata[p];
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (dr_issue) begin
      dr_sel_q  <= dr_lane_q;
      dr_last_q <= (dr_row_q == m_q - 1'b1);
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      dr_v_q    <= 1'b0;
      dr_row_q  <= '0;
      dr_addr_q <= '0;
      dr_lane_q <= '0;
    end else begin
      dr_v_q    <= dr_issue;
      dr_row_q  <= dr_row_d;
      dr_addr_q <= dr_addr_d;
      dr_lane_q <= dr_lane_d;
    end
  end

  hlsk_fifo_sync #(
    .Width(OutW),
    .Depth(OutD)
  ) u_out (
    .clk_i,
    .rst_ni,
    .in_valid_i  (dr_v_q),
    .in_ready_o  (out_in_ready),
    .in_data_i   ({dr_last_q, 32'($signed(dr_word))}),
    .out_valid_o (res_valid_o),
    .out_ready_i (res_ready_i),
    .out_data_o  (out_data),
    .full_o      (out_full),
    .empty_o     (out_empty),
    .level_o     (out_level)
  );

  assign res_data_o = out_data[31:0];
  assign res_last_o = out_data[32];

  ///////////////
  // Registers //
  ///////////////

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q       <= StIdle;
      m_q           <= '0;
      row_base_q    <= '0;
      rb_q          <= '0;
      chunk_q       <= '0;
      status_q      <= '0;
      bld_busy_q    <= 1'b0;
      ent_q         <= '0;
      bld_chunk_q   <= '0;
      tbl_full_q    <= '0;
      cnt_busy_q    <= '0;
      cnt_starved_q <= '0;
      cnt_blocked_q <= '0;
      cnt_beats_q   <= '0;
    end else begin
      state_q     <= state_d;
      m_q         <= m_d;
      row_base_q  <= row_base_d;
      rb_q        <= rb_d;
      chunk_q     <= chunk_d;
      status_q    <= status_d;
      bld_busy_q  <= bld_busy_d;
      ent_q       <= ent_d;
      bld_chunk_q <= bld_chunk_d;
      tbl_full_q  <= tbl_full_d;
      if (state_q == StAccept && acc_clear_q) begin
        // The accept cycle is the job's first busy cycle.
        cnt_busy_q    <= 32'd1;
        cnt_starved_q <= '0;
        cnt_blocked_q <= '0;
        cnt_beats_q   <= '0;
      end else begin
        cnt_busy_q    <= cnt_busy_q + 32'(state_q != StIdle);
        cnt_starved_q <= cnt_starved_q + 32'(state_q == StCompute && !w_valid_i);
        cnt_blocked_q <= cnt_blocked_q + 32'(res_valid_o && !res_ready_i);
        cnt_beats_q   <= cnt_beats_q + 32'(w_fire);
      end
    end
  end

  assign busy_o            = (state_q != StIdle);
  assign status_o          = status_q;
  assign cnt_busy_o        = cnt_busy_q;
  assign cnt_w_starved_o   = cnt_starved_q;
  assign cnt_out_blocked_o = cnt_blocked_q;
  assign cnt_w_beats_o     = cnt_beats_q;

  ////////////////
  // Assertions //
  ////////////////

`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      // The drain only issues a read the result FIFO has room for.
      assert (!dr_v_q || (out_in_ready && !out_full))
        else $error("tlmm_ts_engine: result FIFO overflow");
      // The builder never writes a bank that lanes may still look up.
      assert (!(bld_busy_q && tbl_full_q[bld_bank]))
        else $error("tlmm_ts_engine: table bank rebuilt while in use");
      assert (!(v1_q && bld_busy_q && (bank1_q == bld_bank)))
        else $error("tlmm_ts_engine: lookup in a bank being built");
    end
  end
`endif

endmodule
