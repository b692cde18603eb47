// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// TLMM job sequencer of the SoC: runs one output-stationary engine job out
// of the word memory (docs/host-protocol.md, TLMM_START).
//
// A request (M, K and the word addresses of activations, weights and
// results) is accepted while idle. The sequencer first sizes the job with
// adders only (chunks per row block by repeated subtraction of G*T from K,
// then weight words by one add per row block, stopping once past the
// memory) and answers on the response handshake: ok, or rejected (zero or
// too large M or K, a region beyond the memory) with nothing started. An
// accepted job then sends the engine its command (status and counters
// cleared), streams ceil(K/4) activation words and the weight words through
// the memory's read stream (the weight feeder), assembling WWords words per
// weight beat, and writes each result word to the memory as it arrives.
// busy_o is high from the request until the last result is written; done_o
// then rises and stays until the next request; cycles_o counts the cycles
// from the engine command to the last result.

module hlsk_soc_tlmm_job
  import tlmm_pkg::*;
#(
  parameter int unsigned G        = 3,
  parameter int unsigned T        = 1,
  parameter int unsigned P        = 4,
  parameter int unsigned KMax     = 256,
  parameter int unsigned MemWords = 1024,
  // Derived; do not override.
  localparam int unsigned WBeatW = ((P * T * code_width(G) + 7) / 8) * 8,
  localparam int unsigned WWords = (WBeatW + 31) / 32,
  localparam int unsigned AddrW  = (MemWords > 1) ? $clog2(MemWords) : 1,
  localparam int unsigned CntW   = $clog2(MemWords + 1)
) (
  input  logic               clk_i,
  input  logic               rst_ni,

  // Job request and its verdict
  input  logic               req_valid_i,
  output logic               req_ready_o,
  input  logic [15:0]        req_m_i,
  input  logic [15:0]        req_k_i,
  input  logic [15:0]        req_a_addr_i,
  input  logic [15:0]        req_w_addr_i,
  input  logic [15:0]        req_o_addr_i,
  output logic               rsp_valid_o,
  input  logic               rsp_ready_i,
  output logic               rsp_ok_o,

  // Memory read stream (weight feeder): start, then words
  output logic               fd_start_valid_o,
  input  logic               fd_start_ready_i,
  output logic [AddrW-1:0]   fd_start_base_o,
  output logic [CntW-1:0]    fd_start_count_o,
  input  logic               fd_valid_i,
  output logic               fd_ready_o,
  input  logic [31:0]        fd_data_i,
  input  logic               fd_last_i,

  // Memory write port (results)
  output logic               mw_en_o,
  output logic [AddrW-1:0]   mw_addr_o,
  output logic [31:0]        mw_data_o,

  // Engine streams
  output logic               cmd_valid_o,
  input  logic               cmd_ready_i,
  output logic [CmdMW-1:0]   cmd_m_o,
  output logic [CmdKW-1:0]   cmd_k_o,
  output logic [CmdFlagsW-1:0] cmd_flags_o,
  output logic               act_valid_o,
  input  logic               act_ready_i,
  output logic [31:0]        act_data_o,
  output logic               act_last_o,
  output logic               w_valid_o,
  input  logic               w_ready_i,
  output logic [WBeatW-1:0]  w_data_o,
  output logic               w_last_o,
  input  logic               res_valid_i,
  output logic               res_ready_o,
  input  logic [31:0]        res_data_i,

  // Status
  output logic               busy_o,
  output logic               done_o,
  output logic [31:0]        cycles_o
);

  localparam int unsigned GT   = G * T;
  localparam int unsigned SumW = CntW + 8;  // room above MemWords while sizing
  // A region's end: a 16-bit address plus a count, without overflow.
  localparam int unsigned EndW = (SumW + 1 > 17) ? SumW + 1 : 17;

  typedef enum logic [3:0] {
    JIdle,
    JAccept,
    JSizeK,
    JSizeM,
    JSum,
    JFit,
    JCheck,
    JVerdict,
    JCmd,
    JActStart,
    JAct,
    JWStart,
    JWeights
  } state_e;

  ///////////////
  // Registers //
  ///////////////

  state_e               state_q, state_d;
  logic [15:0]          m_q, m_d, k_q, k_d;
  logic [15:0]          a_addr_q, a_addr_d, w_addr_q, w_addr_d, o_addr_q, o_addr_d;
  logic [15:0]          left_q, left_d;       // K or M still to size
  // The sizing loop's decisions start at flip-flops, not at a carry chain
  // (the UP5K's longest paths ran through left_q > G*T and the sums):
  // left_q > G*T and left_q > P registered beside left_q, each computed
  // from the register the next left_q comes from; MemWords - w_words_q
  // kept as a signed down-count, whose sign says whether the words fit.
  logic                 left_gt_gt_q, left_gt_gt_d, left_gt_p_q, left_gt_p_d;
  logic [SumW:0]        w_room_q, w_room_d;
  // Results still to come (m_q - res_cnt_q), and whether one is left,
  // registered beside it from compares with constants.
  logic [15:0]          res_left_q, res_left_d;
  logic                 res_at_last_q, res_at_last_d;
  logic [SumW-1:0]      blk_words_q, blk_words_d;  // weight words per row block
  logic [SumW-1:0]      w_words_q, w_words_d;      // weight words of the job
  // Each region's end (address + words), registered in JSum; JFit
  // compares them with MemWords, JCheck ands the results: an adder, a
  // comparator and the and in one cycle were the UP5K's longest path.
  logic [EndW-1:0]      w_end_q, a_end_q, o_end_q;
  logic [3:0]           fits_q;  // the words and each region's end within MemWords
  logic                 ok_q, ok_d;
  logic [15:0]          res_cnt_q, res_cnt_d;
  logic                 done_q, done_d;
  logic [31:0]          cycles_q;
  // Weight beat assembly
  logic [WWords*32-1:0] beat_q;
  logic [$clog2(WWords+1)-1:0] wi_q;
  logic                 full_q, beat_last_q;

  /////////////
  // Control //
  /////////////

  logic        req_fire, fd_fire, w_fire, res_fire, last_res, running;
  logic [31:0] a_words;

  assign req_ready_o = (state_q == JIdle);
  assign req_fire    = req_valid_i && req_ready_o;
  assign a_words     = (32'(k_q) + 32'd3) / 32'd4;
  assign running     = (state_q != JIdle) && (state_q != JAccept) &&
                       (state_q != JSizeK) && (state_q != JSizeM) &&
                       (state_q != JSum) && (state_q != JFit) && (state_q != JCheck) &&
                       (state_q != JVerdict);
  assign res_ready_o = 1'b1;
  assign res_fire    = res_valid_i;
  assign last_res    = res_fire && res_at_last_q;

  always_comb begin
    state_d     = state_q;
    m_d         = m_q;
    k_d         = k_q;
    a_addr_d    = a_addr_q;
    w_addr_d    = w_addr_q;
    o_addr_d    = o_addr_q;
    left_d      = left_q;
    left_gt_gt_d = left_gt_gt_q;
    left_gt_p_d = left_gt_p_q;
    w_room_d    = w_room_q;
    blk_words_d = blk_words_q;
    w_words_d   = w_words_q;
    ok_d        = ok_q;
    res_cnt_d   = res_cnt_q;
    res_left_d  = res_left_q;
    res_at_last_d = res_at_last_q;
    done_d      = done_q;

    unique case (state_q)
      JIdle: begin
        if (req_fire) begin
          m_d         = req_m_i;
          k_d         = req_k_i;
          a_addr_d    = req_a_addr_i;
          w_addr_d    = req_w_addr_i;
          o_addr_d    = req_o_addr_i;
          left_d      = req_k_i;
          w_room_d    = (SumW + 1)'(MemWords);
          blk_words_d = '0;
          w_words_d   = '0;
          res_cnt_d   = '0;
          res_left_d  = req_m_i;
          done_d      = 1'b0;
          state_d     = JAccept;
        end
      end
      // The request's shape is checked from its registers.
      JAccept: begin
        ok_d          = (m_q != '0) && (k_q != '0) && (32'(k_q) <= KMax) &&
                        (32'(m_q) <= MemWords);
        state_d       = ok_d ? JSizeK : JVerdict;
        left_gt_gt_d  = (32'(k_q) > GT);
        left_gt_p_d   = (32'(k_q) > P);
        res_at_last_d = (m_q == 16'd1);
      end
      // Weight words per row block: WWords per chunk of G*T activations.
      JSizeK: begin
        blk_words_d = blk_words_q + SumW'(WWords);
        if (left_gt_gt_q) begin
          left_d       = left_q - 16'(GT);
          left_gt_gt_d = (32'(left_q) > 2 * GT);
          left_gt_p_d  = (32'(left_q) > GT + P);
        end else begin
          left_d       = m_q;
          left_gt_gt_d = (32'(m_q) > GT);
          left_gt_p_d  = (32'(m_q) > P);
          state_d      = JSizeM;
        end
      end
      // Weight words of the job: one row block per cycle, stopping once
      // past the memory (the job is then rejected; the sum before this
      // cycle's block is compared, so it may take one block more).
      JSizeM: begin
        w_words_d = w_words_q + blk_words_q;
        w_room_d  = w_room_q - (SumW + 1)'(blk_words_q);
        if (left_gt_p_q && !w_room_q[SumW]) begin
          left_d       = left_q - 16'(P);
          left_gt_gt_d = (32'(left_q) > GT + P);
          left_gt_p_d  = (32'(left_q) > 2 * P);
        end else begin
          state_d = JSum;
        end
      end
      // The regions' ends are registered (w_end_q, a_end_q, o_end_q).
      // ... then whether each fits (fits_q) ...
      JSum: begin
        state_d = JFit;
      end
      JFit: begin
        state_d = JCheck;
      end
      JCheck: begin
        state_d = JVerdict;
        ok_d    = &fits_q;
      end
      JVerdict: begin
        if (rsp_ready_i) begin
          state_d = ok_q ? JCmd : JIdle;
        end
      end
      JCmd: begin
        if (cmd_ready_i) begin
          state_d = JActStart;
        end
      end
      JActStart: begin
        if (fd_start_ready_i) begin
          state_d = JAct;
        end
      end
      JAct: begin
        if (fd_fire && fd_last_i) begin
          state_d = JWStart;
        end
      end
      JWStart: begin
        if (fd_start_ready_i) begin
          state_d = JWeights;
        end
      end
      JWeights: begin
        // Results are counted, not their last flag: the job ends on M words.
        if (last_res) begin
          state_d = JIdle;
          done_d  = 1'b1;
        end
      end
      default: state_d = JIdle;
    endcase

    if (res_fire) begin
      res_cnt_d     = res_cnt_q + 1'b1;
      res_left_d    = res_left_q - 1'b1;
      res_at_last_d = (res_left_q == 16'd2);
    end
  end

  //////////////////////
  // Memory and engine //
  //////////////////////

  assign rsp_valid_o      = (state_q == JVerdict);
  assign rsp_ok_o         = ok_q;

  assign fd_start_valid_o = (state_q == JActStart) || (state_q == JWStart);
  assign fd_start_base_o  = (state_q == JActStart) ? AddrW'(a_addr_q) : AddrW'(w_addr_q);
  assign fd_start_count_o = (state_q == JActStart) ? CntW'(a_words) : CntW'(w_words_q);
  assign fd_fire          = fd_valid_i && fd_ready_o;

  assign cmd_valid_o = (state_q == JCmd);
  assign cmd_m_o     = CmdMW'(m_q);
  assign cmd_k_o     = CmdKW'(k_q);
  assign cmd_flags_o = CmdFlagsW'(1) << FlagClear;

  // Activation phase: the read stream is the activation stream.
  assign act_valid_o = (state_q == JAct) && fd_valid_i;
  assign act_data_o  = fd_data_i;
  assign act_last_o  = fd_last_i;

  // Weight phase: WWords words make a beat (word 0 in the low bits); a new
  // word is taken in the cycle the full beat moves.
  assign fd_ready_o = ((state_q == JAct) && act_ready_i) ||
                      ((state_q == JWeights) && (!full_q || w_ready_i));
  assign w_valid_o  = full_q;
  assign w_data_o   = beat_q[WBeatW-1:0];
  assign w_last_o   = beat_last_q;
  assign w_fire     = w_valid_o && w_ready_i;

  if (WWords * 32 > WBeatW) begin : g_beat_pad
    logic unused_beat_pad;
    assign unused_beat_pad = ^beat_q[WWords*32-1:WBeatW];
  end

  // Beat data needs no reset: it is only observed while full_q.
  always_ff @(posedge clk_i) begin
    if (fd_fire && state_q == JWeights) begin
      beat_q[32*wi_q +: 32] <= fd_data_i;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wi_q        <= '0;
      full_q      <= 1'b0;
      beat_last_q <= 1'b0;
    end else begin
      if (w_fire) begin
        full_q <= 1'b0;
      end
      if (fd_fire && state_q == JWeights) begin
        if (32'(wi_q) == WWords - 1) begin
          wi_q        <= '0;
          full_q      <= 1'b1;
          beat_last_q <= fd_last_i;
        end else begin
          wi_q <= wi_q + 1'b1;
        end
      end
    end
  end

  assign mw_en_o   = res_fire;
  assign mw_addr_o = AddrW'(o_addr_q + res_cnt_q);
  assign mw_data_o = res_data_i;

  ///////////////
  // Registers //
  ///////////////

  // Region ends and their fits need no reset: JFit and JCheck read them
  // after JSum and JFit wrote them.
  always_ff @(posedge clk_i) begin
    if (state_q == JSum) begin
      w_end_q <= EndW'(w_addr_q) + EndW'(w_words_q);
      a_end_q <= EndW'(32'(a_addr_q) + a_words);
      o_end_q <= EndW'(o_addr_q) + EndW'(m_q);
    end
    if (state_q == JFit) begin
      fits_q <= {!w_room_q[SumW], 32'(w_end_q) <= MemWords,
                 32'(a_end_q) <= MemWords, 32'(o_end_q) <= MemWords};
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q     <= JIdle;
      m_q         <= '0;
      k_q         <= '0;
      a_addr_q    <= '0;
      w_addr_q    <= '0;
      o_addr_q    <= '0;
      left_q      <= '0;
      left_gt_gt_q <= 1'b0;
      left_gt_p_q <= 1'b0;
      w_room_q    <= '0;
      res_at_last_q <= 1'b0;
      res_left_q  <= '0;
      blk_words_q <= '0;
      w_words_q   <= '0;
      ok_q        <= 1'b0;
      res_cnt_q   <= '0;
      done_q      <= 1'b0;
      cycles_q    <= '0;
    end else begin
      state_q     <= state_d;
      m_q         <= m_d;
      k_q         <= k_d;
      a_addr_q    <= a_addr_d;
      w_addr_q    <= w_addr_d;
      o_addr_q    <= o_addr_d;
      left_q      <= left_d;
      left_gt_gt_q <= left_gt_gt_d;
      left_gt_p_q <= left_gt_p_d;
      w_room_q    <= w_room_d;
      res_at_last_q <= res_at_last_d;
      res_left_q  <= res_left_d;
      blk_words_q <= blk_words_d;
      w_words_q   <= w_words_d;
      ok_q        <= ok_d;
      res_cnt_q   <= res_cnt_d;
      done_q      <= done_d;
      if (state_q == JVerdict) begin
        cycles_q <= '0;
      end else if (running) begin
        cycles_q <= cycles_q + 1'b1;
      end
    end
  end

  assign busy_o   = (state_q != JIdle);
  assign done_o   = done_q;
  assign cycles_o = cycles_q;

  ////////////////
  // Assertions //
  ////////////////

`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (state_q == JAccept ||
              (left_gt_gt_q == (32'(left_q) > GT) && left_gt_p_q == (32'(left_q) > P) &&
               res_at_last_q == (res_left_q == 16'd1)))
        else $error("hlsk_soc_tlmm_job: registered compares differ from their registers");
      assert (state_q == JIdle || res_left_q == m_q - res_cnt_q)
        else $error("hlsk_soc_tlmm_job: results left differ from M - results taken");
      assert (w_room_q[SumW] == (32'(w_words_q) > MemWords))
        else $error("hlsk_soc_tlmm_job: the words' room differs from MemWords - w_words");
      assert (!res_valid_i || state_q == JWeights)
        else $error("hlsk_soc_tlmm_job: result outside a job");
      assert (!(fd_fire && state_q == JWeights && full_q && !w_ready_i))
        else $error("hlsk_soc_tlmm_job: weight beat overwritten");
    end
  end
`endif

endmodule
