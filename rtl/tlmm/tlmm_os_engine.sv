// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// TLMM engine, output-stationary: tables in registers, or codes decoded to
// ternary digits beside a direct add/sub datapath (Direct = 1).
//
// Computes out[m] = sign_extend_32(sum_k W[m][k] * x[k] mod 2^AccW) for
// m < M, k < K (docs/tlmm.md), W ternary as G-weight codes, x int8.
// Per job: one command beat (M, K, flags), registered and checked in the
// cycle after it moves (StAccept, so no compare lies between the command
// port and the load's control); ceil(K/4) activation beats
// (loaded into the chunk buffer first); then weight beats of P*T codes,
// row-block-major: for each block of P rows, ceil(ceil(K/G)/T) beats; then
// M results, one 32-bit word per beat in row order, last on row M-1.
//
// Per weight beat, P lanes (tlmm_lane) of T codes each reduce the current
// chunk: by looking up the chunk's T tables (built from the buffer into
// registers shared by all lanes), or, with Direct = 1, by decoding each code
// to its G ternary digits and adding or subtracting the chunk's activations
// themselves. The lanes' adder trees are registered every RegEvery levels. One
// weight beat per cycle in steady state. Results of a row block move to an
// output bank that drains one row per cycle while the next block computes.
//
// Sticky status (tlmm_pkg::status_bit_e): K beyond the exact range, illegal
// codes, misplaced last flags, rejected commands. Streams are counted, never
// waited for on a last flag, so a protocol error cannot hang the engine.
// Counters: busy, weight-starved and output-blocked cycles, weight beats.

module tlmm_os_engine
  import tlmm_pkg::*;
#(
  parameter int unsigned G    = 3,
  parameter int unsigned T    = 1,
  parameter int unsigned P    = 4,
  parameter int unsigned AccW = 24,
  parameter int unsigned KMax = 256,
  parameter int unsigned Direct   = 1,  // 1: digits beside a direct datapath, 0: tables
  parameter int unsigned RegEvery = 2,  // lane tree levels per register
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
  localparam int unsigned KW      = $clog2(KMax + 1)
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

  // Weight stream: code (lane p, slot t) at [(p*T+t)*CW +: CW]
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

  // Weight fire -> accumulate stage: buffer read, operand registers, lane.
  localparam int unsigned Lat = 2 + lane_latency((Direct != 0) ? G * T : T, RegEvery);

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

  state_e               state_q, state_d;
  logic [CmdMW-1:0]     rows_q, rows_d;        // rows from the block being fed to the job's end
  logic                 last_block_q, last_block_d;  // rows_q <= P
  logic [ChunkAW:0]     chunk_q, chunk_d;      // chunk being fed
  logic [StatusW-1:0]   status_q, status_d;
  logic                 last_chunk_q, last_chunk_d;  // chunk_q == nchunks - 1
  logic [ChunkAW:0]     left_q, left_d;        // chunks of the block after chunk_q
  logic                 out_busy_q;                  // the bank holds rows
  logic [31:0]          cnt_busy_q, cnt_starved_q, cnt_blocked_q, cnt_beats_q;
  // The accepted command (StAccept): M, K, and its checks made on the port
  // (tlmm_cmd_accept).
  logic [CmdMW-1:0]     acc_m_q;
  logic [KW-1:0]        acc_k_q;
  logic                 acc_ok_q, acc_clear_q, acc_krange_q;
  logic                 lane_illegal_v;          // a lane looked up an illegal code

  /////////////////////////
  // Activation buffer   //
  /////////////////////////

  logic               ab_start, ab_done, ab_proto;
  logic [ChunkAW:0]   nchunks;
  logic [8*GT-1:0]    chunk_data;
  logic               w_fire;

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
    .rd_en_i     (w_fire),
    .rd_chunk_i  (chunk_q[ChunkAW-1:0]),
    .rd_data_o   (chunk_data)
  );

  /////////////
  // Control //
  /////////////

  logic cmd_fire, res_fire;
  logic last_chunk, last_block, first_chunk;
  logic out_busy, out_busy_d;
  logic w_ready_q;
  logic pipe_empty;
  logic [Lat-1:0] v_pipe_q, last_pipe_q, first_pipe_q, job_end_pipe_q;
  logic [CmdMW-1:0] blk_rows;             // valid rows in the block being fed
  logic [CmdMW-1:0] rows_pipe_q [Lat];

  assign cmd_ready_o = (state_q == StIdle);
  assign cmd_fire    = cmd_valid_i && cmd_ready_o;

  tlmm_cmd_accept #(
    .KMax (KMax),
    .MMax (0),
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

  // last_chunk is kept in a register (the weight handshake depends on it):
  // set when the job starts or a block ends with a single chunk, or when the
  // beat of chunk nchunks - 2 moves, that is with one chunk left after it
  // (left_q counts the block's chunks down, so no adder feeds the compare).
  assign first_chunk = (chunk_q == '0);
  assign last_chunk  = last_chunk_q;
  // The rows still to feed count down by P per block; whether the block is
  // the last is kept in a register, so no adder or comparator lies between
  // the block counter and the weight handshake.
  assign last_block  = last_block_q;
  assign blk_rows    = last_block ? rows_q : CmdMW'(P);

  // A block's last beat may only enter the pipeline when the output bank
  // will be free for it: no other last beat in flight, bank drained. The
  // rule is evaluated on the next state and kept in a register, so ready
  // is a flop and the weight handshake starts no long path.
  assign w_ready_o = w_ready_q;
  assign w_fire    = w_valid_i && w_ready_o;
  assign pipe_empty = ~|v_pipe_q;

  always_comb begin
    state_d    = state_q;
    rows_d       = rows_q;
    last_block_d = last_block_q;
    chunk_d    = chunk_q;
    status_d   = status_q;
    last_chunk_d = last_chunk_q;
    left_d       = left_q;

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
          state_d      = StLoad;
          rows_d       = acc_m_q;
          last_block_d = (acc_m_q <= CmdMW'(P));
          chunk_d      = '0;
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
          state_d      = StCompute;
          last_chunk_d = (nchunks == (ChunkAW + 1)'(1));
          left_d       = nchunks - 1'b1;
        end
      end
      StCompute: begin
        if (w_fire) begin
          if (w_last_i != (last_chunk && last_block)) begin
            status_d[ErrProto] = 1'b1;
          end
          if (last_chunk) begin
            chunk_d      = '0;
            rows_d       = rows_q - CmdMW'(P);
            last_block_d = (rows_q <= CmdMW'(2 * P));
            last_chunk_d = (nchunks == (ChunkAW + 1)'(1));
            left_d       = nchunks - 1'b1;
            if (last_block) begin
              state_d = StDrain;
            end
          end else begin
            chunk_d      = chunk_q + 1'b1;
            left_d       = left_q - 1'b1;
            last_chunk_d = (left_q == (ChunkAW + 1)'(1));
          end
        end
      end
      StDrain: begin
        if (pipe_empty && !out_busy) begin
          state_d = StIdle;
        end
      end
      default: state_d = StIdle;
    endcase

    if (ab_proto) begin
      status_d[ErrProto] = 1'b1;
    end
    if (lane_illegal_v) begin
      status_d[ErrCode] = 1'b1;
    end
  end

  ///////////////////////////
  // Datapath: tables, lanes //
  ///////////////////////////

  // Stage 1: chunk data arrives from the buffer RAM; weight beat waits.
  // Stage 2: operands registered (tables, or the chunk itself); lanes start.
  // Stage Lat: the lanes' sums; accumulate or hand over to the bank.
  logic [WBits-1:0]       w_s1_q, w_s2_q;
  logic signed [EW-1:0]   tbl_q [T][NE];
  logic [8*GT-1:0]        acts_q;
  logic signed [SW-1:0]   lane_sum [P];
  logic [P-1:0]           lane_cin;
  logic [P-1:0]           lane_illegal;

  if (Direct != 0) begin : g_direct
    always_ff @(posedge clk_i) begin
      if (v_pipe_q[0]) begin
        acts_q <= chunk_data;
      end
    end
    assign tbl_q = '{default: '{default: '0}};
  end else begin : g_tables
    logic signed [EW-1:0] tbl_d [T][NE];
    for (genvar t = 0; t < T; t++) begin : g_build
      tlmm_table_build #(.G(G)) u_table (
        .acts_i  (chunk_data[8*G*t +: 8*G]),
        .entry_o (tbl_d[t])
      );
    end
    always_ff @(posedge clk_i) begin
      if (v_pipe_q[0]) begin
        tbl_q <= tbl_d;
      end
    end
    assign acts_q = '0;
  end

  for (genvar p = 0; p < P; p++) begin : g_lanes
    tlmm_lane #(
      .G        (G),
      .T        (T),
      .Direct   (Direct),
      .RegEvery (RegEvery)
    ) u_lane (
      .clk_i,
      .codes_i   (w_s2_q[p*T*CW +: T*CW]),
      .table_i   (tbl_q),
      .acts_i    (acts_q),
      .sum_o     (lane_sum[p]),
      .cin_o     (lane_cin[p]),
      .illegal_o (lane_illegal[p])
    );
  end

  // Byte padding above the codes carries nothing.
  if (WBeatW > WBits) begin : g_w_pad
    logic unused_w_pad;
    assign unused_w_pad = ^w_data_i[WBeatW-1:WBits];
  end

  always_ff @(posedge clk_i) begin
    if (w_fire) begin
      w_s1_q <= w_data_i[WBits-1:0];
    end
    if (v_pipe_q[0]) begin
      w_s2_q <= w_s1_q;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      v_pipe_q       <= '0;
      last_pipe_q    <= '0;
      first_pipe_q   <= '0;
      job_end_pipe_q <= '0;
    end else begin
      v_pipe_q       <= {v_pipe_q[Lat-2:0], w_fire};
      last_pipe_q    <= {last_pipe_q[Lat-2:0], w_fire && last_chunk};
      first_pipe_q   <= {first_pipe_q[Lat-2:0], w_fire && first_chunk};
      job_end_pipe_q <= {job_end_pipe_q[Lat-2:0], w_fire && last_chunk && last_block};
    end
  end

  // The lanes' registers run freely; their flags count with the beat.
  assign lane_illegal_v = v_pipe_q[Lat-1] && (|lane_illegal);

  always_ff @(posedge clk_i) begin
    rows_pipe_q[0] <= blk_rows;
    for (int unsigned i = 1; i < Lat; i++) begin
      rows_pipe_q[i] <= rows_pipe_q[i-1];
    end
  end

  ////////////////////////////////
  // Accumulators and out bank  //
  ////////////////////////////////

  logic [AccW-1:0]  acc_q [P];
  logic [AccW-1:0]  bank_q [P];
  logic [AccW-1:0]  acc_next [P];
  logic [CmdMW-1:0] bank_cnt_q;   // rows left in the bank
  logic             bank_last_q;  // the bank holds the job's last block
  logic             acc_v, acc_first, acc_last;

  assign acc_v     = v_pipe_q[Lat-1];
  assign acc_first = first_pipe_q[Lat-1];
  assign acc_last  = last_pipe_q[Lat-1];

  always_comb begin
    for (int unsigned p = 0; p < P; p++) begin
      // The lane's owed +1 of one's-complement negation is the carry-in.
      acc_next[p] = (acc_first ? '0 : acc_q[p]) + AccW'(lane_sum[p]) + AccW'(lane_cin[p]);
    end
  end

  assign out_busy  = out_busy_q;
  assign res_valid_o = out_busy;
  assign res_data_o  = 32'($signed(bank_q[0]));
  assign res_last_o  = bank_last_q && (bank_cnt_q == CmdMW'(1));
  assign res_fire    = res_valid_o && res_ready_i;

  always_ff @(posedge clk_i) begin
    if (acc_v && !acc_last) begin
      acc_q <= acc_next;
    end
    if (acc_v && acc_last) begin
      bank_q <= acc_next;
    end else if (res_fire) begin
      for (int unsigned p = 0; p + 1 < P; p++) begin
        bank_q[p] <= bank_q[p+1];
      end
    end
  end

  // out_busy_q mirrors bank_cnt_q != 0 (a block has at least one row).
  always_comb begin
    out_busy_d = out_busy_q;
    if (acc_v && acc_last) begin
      out_busy_d = 1'b1;
    end else if (res_fire) begin
      out_busy_d = (bank_cnt_q != CmdMW'(1));
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      bank_cnt_q  <= '0;
      bank_last_q <= 1'b0;
      out_busy_q  <= 1'b0;
      w_ready_q   <= 1'b0;
    end else begin
      out_busy_q <= out_busy_d;
      // w_ready_o of the next cycle: its rule on the next state (the next
      // last_pipe_q has a last beat in flight if this one enters).
      w_ready_q <= (state_d == StCompute) &&
                   !(last_chunk_d && ((|last_pipe_q[Lat-2:0]) || (w_fire && last_chunk) ||
                                      out_busy_d));
      if (acc_v && acc_last) begin
        bank_cnt_q  <= rows_pipe_q[Lat-1];
        bank_last_q <= job_end_pipe_q[Lat-1];
      end else if (res_fire) begin
        bank_cnt_q <= bank_cnt_q - 1'b1;
      end
    end
  end

  ///////////////
  // Registers //
  ///////////////

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q       <= StIdle;
      rows_q        <= '0;
      last_block_q  <= 1'b0;
      chunk_q       <= '0;
      status_q      <= '0;
      last_chunk_q  <= 1'b0;
      left_q        <= '0;
      cnt_busy_q    <= '0;
      cnt_starved_q <= '0;
      cnt_blocked_q <= '0;
      cnt_beats_q   <= '0;
    end else begin
      state_q    <= state_d;
      rows_q       <= rows_d;
      last_block_q <= last_block_d;
      chunk_q    <= chunk_d;
      status_q   <= status_d;
      last_chunk_q <= last_chunk_d;
      left_q       <= left_d;
      if (state_q == StAccept && acc_clear_q) begin
        // The accept cycle is the job's first busy cycle.
        cnt_busy_q    <= 32'd1;
        cnt_starved_q <= '0;
        cnt_blocked_q <= '0;
        cnt_beats_q   <= '0;
      end else begin
        // Each event enables its counter (the increment itself depends on
        // the count only, so the handshakes drive enables, not carry chains).
        if (state_q != StIdle) begin
          cnt_busy_q <= cnt_busy_q + 1'b1;
        end
        if (state_q == StCompute && !w_valid_i) begin
          cnt_starved_q <= cnt_starved_q + 1'b1;
        end
        if (res_valid_o && !res_ready_i) begin
          cnt_blocked_q <= cnt_blocked_q + 1'b1;
        end
        if (w_fire) begin
          cnt_beats_q <= cnt_beats_q + 1'b1;
        end
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
      // The bank is only refilled once drained.
      assert (!(acc_v && acc_last && out_busy))
        else $error("tlmm_os_engine: output bank overwritten while draining");
    end
  end
`endif

endmodule
