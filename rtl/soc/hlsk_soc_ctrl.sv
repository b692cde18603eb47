// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Host link command executor of the SoC (docs/host-protocol.md).
//
// Takes one frame verdict at a time from hlsk_frame_rx and answers each
// with exactly one response through hlsk_frame_tx, then releases the frame.
// A NAK verdict (CRC, truncated, oversize) is answered with the same NAK
// and counted; nothing is executed. A protocol-version-2 INFO (verdict
// RxV2Info) is answered with the INFO reply in version-2 framing, so that
// an old host reads this device's version and refuses it; it is counted
// with the unknown commands and moves no SEQ. A good frame has its first argument
// bytes loaded from the payload RAM, then:
// - a repeat (same SEQ as the last executed INFO, WRITE, TLMM_START or
//   CONV_START) of a command with side effects (WRITE, TLMM_START,
//   CONV_START) is answered StDup and not executed again; reads (INFO,
//   STATUS, READ) have none and simply run again. Reads do not move the
//   remembered SEQ, so a STATUS poll between a lost acknowledgement and its
//   retry does not make the retry execute twice; INFO sets it, so a session
//   never starts with a stale one;
// - a malformed or out-of-range payload is answered NakBadArg, a WRITE,
//   READ, TLMM_START or CONV_START while a job runs NakBusy, an unknown
//   command (and CONV_START without a convolution engine, Conv = 0)
//   NakUnknown;
// - otherwise it executes: WRITE stores its words into the memory's write
//   port, READ streams words from the memory's read stream straight into
//   the response, TLMM_START hands the descriptor to the job sequencer and
//   answers with its verdict, CONV_START streams its 12 descriptor words to
//   the convolution engine and answers OK (either job then runs on; STATUS
//   shows it, and a descriptor the engine refuses shows as its error).
// Counters (STATUS): frames executed, each NAK reason, duplicates, bytes
// dropped while a frame was held, jobs finished (TLMM and convolution); 16
// bits, wrapping.

module hlsk_soc_ctrl
  import hlsk_link_pkg::*;
#(
  parameter int unsigned G           = 3,
  parameter int unsigned T           = 1,
  parameter int unsigned P           = 4,
  parameter int unsigned AccW        = 24,
  parameter int unsigned KMax        = 256,
  parameter int unsigned WWords      = 1,
  parameter int unsigned MemWords    = 1024,
  parameter int unsigned MaxWords    = 32,
  parameter int unsigned ClkHz       = 12_000_000,
  parameter int unsigned ClksPerBit  = 104,
  parameter bit          Conv        = 1'b0,  // a convolution engine is present
  // Derived; do not override.
  localparam int unsigned MaxPayload = 2 + 4 * MaxWords,
  localparam int unsigned PlAW       = $clog2(MaxPayload),
  localparam int unsigned AddrW      = (MemWords > 1) ? $clog2(MemWords) : 1,
  localparam int unsigned CntW       = $clog2(MemWords + 1)
) (
  input  logic              clk_i,
  input  logic              rst_ni,

  // Frame verdicts and payload (hlsk_frame_rx)
  input  logic              frm_valid_i,
  output logic              frm_ready_o,
  input  logic [7:0]        frm_status_i,
  input  logic [7:0]        frm_seq_i,
  input  logic [7:0]        frm_cmd_i,
  input  logic [7:0]        frm_len_i,
  output logic [PlAW-1:0]   pl_raddr_o,
  input  logic [7:0]        pl_rdata_i,
  input  logic              rx_dropped_i,

  // Responses (hlsk_frame_tx)
  output logic              hdr_valid_o,
  input  logic              hdr_ready_i,
  output logic [7:0]        hdr_len_o,
  output logic [7:0]        hdr_seq_o,
  output logic [7:0]        hdr_status_o,
  output logic              tx_valid_o,
  input  logic              tx_ready_i,
  output logic [7:0]        tx_data_o,

  // Memory: write port and read stream
  output logic              mw_en_o,
  output logic [AddrW-1:0]  mw_addr_o,
  output logic [31:0]       mw_data_o,
  output logic              fd_start_valid_o,
  input  logic              fd_start_ready_i,
  output logic [AddrW-1:0]  fd_start_base_o,
  output logic [CntW-1:0]   fd_start_count_o,
  input  logic              fd_valid_i,
  output logic              fd_ready_o,
  input  logic [31:0]       fd_data_i,

  // TLMM job sequencer
  output logic              job_req_valid_o,
  input  logic              job_req_ready_i,
  output logic [15:0]       job_m_o,
  output logic [15:0]       job_k_o,
  output logic [15:0]       job_a_addr_o,
  output logic [15:0]       job_w_addr_o,
  output logic [15:0]       job_o_addr_o,
  input  logic              job_rsp_valid_i,
  output logic              job_rsp_ready_o,
  input  logic              job_rsp_ok_i,
  input  logic              job_busy_i,    // any job (TLMM or convolution) runs
  input  logic              job_done_i,
  input  logic [31:0]       job_cycles_i,

  // Convolution engine: descriptor words and status
  output logic              conv_desc_valid_o,
  input  logic              conv_desc_ready_i,
  output logic [31:0]       conv_desc_data_o,
  input  logic              conv_busy_i,
  input  logic              conv_done_i,
  input  logic              conv_engine_error_i,
  input  logic              conv_range_error_i,
  input  logic [31:0]       conv_cycles_i,
  input  logic [31:0]       conv_fired_i,

  // Status sources
  input  logic              bist_pass_i,
  input  logic              bist_fail_i,
  input  logic              uart_frame_err_i,
  input  logic              uart_overrun_i,
  input  logic [3:0]        eng_status_i,
  input  logic [31:0]       eng_cnt_busy_i,
  input  logic [31:0]       eng_cnt_w_starved_i,
  input  logic [31:0]       eng_cnt_out_blocked_i,
  input  logic [31:0]       eng_cnt_w_beats_i,

  // A frame was executed (for an activity LED)
  output logic              executed_o
);

  localparam int unsigned NArgs = TlmmDescLen;  // longest argument block
  localparam int unsigned ArgAW = $clog2(NArgs);

  typedef enum logic [3:0] {
    EIdle,
    EArgs,
    ESum,
    ECheck,
    EDispatch,
    EWrite,
    EReadStart,
    EJobReq,
    EJobRsp,
    EConv,
    EConvWord,
    EHdr,
    EPayload,
    EDone
  } state_e;

  typedef enum logic [1:0] {
    SrcInfo,
    SrcStatus,
    SrcRead
  } src_e;

  // Counter slots (STATUS bytes 2 + 2*i).
  typedef enum int unsigned {
    CntOk       = 0,
    CntCrc      = 1,
    CntTrunc    = 2,
    CntOversize = 3,
    CntUnknown  = 4,
    CntBadArg   = 5,
    CntBusy     = 6,
    CntDup      = 7,
    CntDropped  = 8,
    CntJobs     = 9
  } cnt_e;

  ///////////////
  // Registers //
  ///////////////

  state_e             state_q, state_d;
  src_e               src_q, src_d;
  logic [7:0]         status_q, status_d;   // response status
  logic [7:0]         rlen_q, rlen_d;       // response payload bytes
  logic [7:0]         idx_q, idx_d;         // payload byte index
  logic [7:0]         args_q [NArgs];
  logic [31:0]        word_q;               // bytes of a word being written or sent
  logic [AddrW-1:0]   waddr_q, waddr_d;
  logic [7:0]         last_seq_q;
  logic               last_valid_q;
  logic [15:0]        cnt_q [NumCounters];
  logic               job_done_q, conv_done_q;

  //////////////////////////
  // Arguments and checks //
  //////////////////////////

  // The checks take two registered steps after the arguments are loaded:
  // ESum adds each range's start and length, ECheck compares the ends with
  // the memory's size and registers the verdicts for EDispatch (an adder, a
  // comparator and the dispatch decision in one cycle were the UP5K's
  // longest path). A WRITE's word count is LEN[7:2], (LEN - 2) / 4 for the
  // lengths wr_ok accepts (LEN mod 4 = 2).
  logic [7:0]  nargs;
  logic [15:0] addr;
  logic [31:0] rd_words;
  logic [16:0] wr_end_q, rd_end_q;
  logic        dup_d, wr_ok_d, rd_ok_d, job_ok_d, conv_ok_d;
  logic        dup_q, wr_ok_q, rd_ok_q, job_ok_q, conv_ok_q;
  logic        dup, wr_ok, rd_ok, job_ok, conv_ok;  // as registered in ECheck

  assign nargs    = (32'(frm_len_i) < NArgs) ? frm_len_i : 8'(NArgs);
  assign addr     = {args_q[1], args_q[0]};
  assign rd_words = 32'(args_q[2]);
  assign dup_d    = last_valid_q && (frm_seq_i == last_seq_q);
  // Commands whose SEQ the duplicate check remembers: INFO and those with
  // side effects (not STATUS and READ).
  logic seq_kept;
  assign seq_kept = (frm_cmd_i == CmdInfo) || (frm_cmd_i == CmdWrite) ||
                    (frm_cmd_i == CmdTlmmStart) || (frm_cmd_i == CmdConvStart);
  assign wr_ok_d   = (frm_len_i >= 8'd6) && (frm_len_i[1:0] == 2'd2) &&
                     (32'(wr_end_q) <= MemWords);
  assign rd_ok_d   = (frm_len_i == 8'd3) && (rd_words != '0) && (rd_words <= MaxWords) &&
                     (32'(rd_end_q) <= MemWords);
  assign job_ok_d  = (32'(frm_len_i) == TlmmDescLen) && (args_q[10] == '0) &&
                     (args_q[11] == '0);
  assign conv_ok_d = (32'(frm_len_i) == ConvDescLen);
  assign dup       = dup_q;
  assign wr_ok     = wr_ok_q;
  assign rd_ok     = rd_ok_q;
  assign job_ok    = job_ok_q;
  assign conv_ok   = conv_ok_q;

  /////////////
  // Control //
  /////////////

  logic       pl_fire;
  logic [1:0] conv_byte;  // byte of the descriptor word arriving in EConv

  assign conv_byte = idx_q[1:0] - 2'd1;

  always_comb begin
    state_d  = state_q;
    src_d    = src_q;
    status_d = status_q;
    rlen_d   = rlen_q;
    idx_d    = idx_q;
    waddr_d  = waddr_q;

    unique case (state_q)
      EIdle: begin
        idx_d  = '0;
        rlen_d = '0;
        if (frm_valid_i) begin
          if (frm_status_i == RxV2Info) begin
            status_d = RxV2Info;
            src_d    = SrcInfo;
            rlen_d   = 8'(InfoLen);
            state_d  = EHdr;
          end else if (frm_status_i != StOk) begin
            status_d = frm_status_i;
            state_d  = EHdr;
          end else begin
            state_d = EArgs;
          end
        end
      end
      // Payload byte idx_q - 1 arrives while idx_q is read.
      EArgs: begin
        if (idx_q == nargs) begin
          state_d = ESum;
        end else begin
          idx_d = idx_q + 1'b1;
        end
      end
      // The arguments are all loaded: the ranges' ends, then the checks,
      // are registered.
      ESum: begin
        state_d = ECheck;
      end
      ECheck: begin
        state_d = EDispatch;
      end
      EDispatch: begin
        state_d  = EHdr;
        status_d = StOk;
        unique case (frm_cmd_i)
          CmdInfo: begin
            src_d  = SrcInfo;
            rlen_d = 8'(InfoLen);
            if (frm_len_i != '0) begin
              status_d = NakBadArg;
              rlen_d   = '0;
            end
          end
          CmdStatus: begin
            src_d  = SrcStatus;
            rlen_d = 8'(StatusLen);
            if (frm_len_i != '0) begin
              status_d = NakBadArg;
              rlen_d   = '0;
            end
          end
          CmdRead: begin
            if (!rd_ok) begin
              status_d = NakBadArg;
            end else if (job_busy_i) begin
              status_d = NakBusy;
            end else begin
              src_d   = SrcRead;
              rlen_d  = 8'(4 * rd_words);
              state_d = EReadStart;
            end
          end
          CmdWrite: begin
            if (dup) begin
              status_d = StDup;
            end else if (!wr_ok) begin
              status_d = NakBadArg;
            end else if (job_busy_i) begin
              status_d = NakBusy;
            end else begin
              waddr_d = AddrW'(addr);
              idx_d   = 8'd2;
              state_d = EWrite;
            end
          end
          CmdTlmmStart: begin
            if (dup) begin
              status_d = StDup;
            end else if (!job_ok) begin
              status_d = NakBadArg;
            end else if (job_busy_i) begin
              status_d = NakBusy;
            end else begin
              state_d = EJobReq;
            end
          end
          CmdConvStart: begin
            if (!Conv) begin
              status_d = NakUnknown;
            end else if (dup) begin
              status_d = StDup;
            end else if (!conv_ok) begin
              status_d = NakBadArg;
            end else if (job_busy_i) begin
              status_d = NakBusy;
            end else begin
              idx_d   = '0;
              state_d = EConv;
            end
          end
          default: status_d = NakUnknown;
        endcase
      end
      // Byte idx_q - 1 (>= 2) arrives while idx_q is read.
      EWrite: begin
        if (idx_q >= 8'd3 && idx_q[1:0] == 2'd2) begin
          waddr_d = waddr_q + 1'b1;
        end
        if (idx_q == frm_len_i) begin
          state_d = EHdr;
        end else begin
          idx_d = idx_q + 1'b1;
        end
      end
      EReadStart: begin
        if (fd_start_ready_i) begin
          state_d = EHdr;
        end
      end
      EJobReq: begin
        if (job_req_ready_i) begin
          state_d = EJobRsp;
        end
      end
      EJobRsp: begin
        if (job_rsp_valid_i) begin
          status_d = job_rsp_ok_i ? StOk : NakBadArg;
          state_d  = EHdr;
        end
      end
      // Byte idx_q - 1 arrives while idx_q is read; a word's fourth byte
      // hands it to the engine (EConvWord reads idx_q - 1 meanwhile).
      EConv: begin
        idx_d = idx_q + 1'b1;
        if (idx_q != '0 && idx_q[1:0] == 2'd0) begin
          state_d = EConvWord;
        end
      end
      EConvWord: begin
        if (conv_desc_ready_i) begin
          state_d = (32'(idx_q) == ConvDescLen + 1) ? EHdr : EConv;
        end
      end
      EHdr: begin
        idx_d = '0;
        if (hdr_ready_i) begin
          state_d = (rlen_q == '0) ? EDone : EPayload;
        end
      end
      EPayload: begin
        if (pl_fire) begin
          idx_d = idx_q + 1'b1;
          if (idx_q == rlen_q - 1'b1) begin
            state_d = EDone;
          end
        end
      end
      EDone: begin
        state_d = EIdle;
      end
      default: state_d = EIdle;
    endcase
  end

  assign frm_ready_o = (state_q == EDone);
  assign pl_raddr_o  = (state_q == EConvWord) ? PlAW'(idx_q - 1'b1) : PlAW'(idx_q);
  assign executed_o  = (state_q == EDone) && (status_q == StOk);

  ///////////////////////////
  // Memory and job ports  //
  ///////////////////////////

  assign mw_en_o   = (state_q == EWrite) && (idx_q >= 8'd3) && (idx_q[1:0] == 2'd2);
  assign mw_addr_o = waddr_q;
  assign mw_data_o = {pl_rdata_i, word_q[23:0]};

  assign fd_start_valid_o = (state_q == EReadStart);
  assign fd_start_base_o  = AddrW'(addr);
  assign fd_start_count_o = CntW'(rd_words);

  assign job_req_valid_o = (state_q == EJobReq);
  assign job_m_o         = {args_q[1], args_q[0]};
  assign job_k_o         = {args_q[3], args_q[2]};
  assign job_a_addr_o    = {args_q[5], args_q[4]};
  assign job_w_addr_o    = {args_q[7], args_q[6]};
  assign job_o_addr_o    = {args_q[9], args_q[8]};
  assign job_rsp_ready_o = (state_q == EJobRsp);

  assign conv_desc_valid_o = (state_q == EConvWord);
  assign conv_desc_data_o  = word_q;

  ///////////////////////
  // Response payload  //
  ///////////////////////

  logic [InfoLen*8-1:0]   info;
  logic [StatusLen*8-1:0] status;
  logic [7:0]             flags;

  assign info = {
    16'(MaxPayload), 16'(ClksPerBit), 32'(ClkHz),
    {6'b0, Conv, 1'b1},         // kernels: bit 0 TLMM, bit 1 convolution
    8'(MaxWords), 16'(MemWords), 16'(KMax),
    8'(WWords), 8'(AccW), 8'(P), 8'(T), 8'(G), 8'(Version)
  };

  assign flags = {2'b00, uart_overrun_i, uart_frame_err_i, bist_fail_i, bist_pass_i,
                  job_done_i, job_busy_i};

  always_comb begin
    status = '0;
    status[7:0]  = flags;
    status[15:8] = 8'(eng_status_i);
    for (int unsigned i = 0; i < NumCounters; i++) begin
      status[16 + 16*i +: 16] = cnt_q[i];
    end
    status[176 +: 32] = job_cycles_i;
    status[208 +: 32] = eng_cnt_busy_i;
    status[240 +: 32] = eng_cnt_w_starved_i;
    status[272 +: 32] = eng_cnt_out_blocked_i;
    status[304 +: 32] = eng_cnt_w_beats_i;
    status[336 +: 8]  = {4'b0, conv_range_error_i, conv_engine_error_i, conv_done_i,
                         conv_busy_i};
    status[352 +: 32] = conv_cycles_i;
    status[384 +: 32] = conv_fired_i;
  end

  // Payload bytes pass through one register (txb_q) on their way to the
  // frame encoder: the byte multiplexers (INFO and STATUS words, the read
  // stream) and the memory's read handshake end at a flip-flop instead of
  // running into the encoder's CRC and counters (the UP5K's longest paths).
  // INFO and STATUS bytes come from a register too: word idx_q / 4 of
  // the reply, taken every cycle (reply_q), is byte idx_q's word once idx_q
  // has stood still for a cycle (reply_ok_q).
  // pl_fire moves byte idx_q into the empty register; the encoder takes it
  // from there. A byte takes two or three cycles more; the UART takes a byte
  // time. A read word moves out of the stream with its last byte.
  logic [7:0]   txb_q;
  logic         txb_v_q;
  logic [31:0]  reply_q;
  logic         reply_ok_q;
  logic [255:0] info_w;
  logic [511:0] status_w;

  assign info_w   = 256'(info);
  assign status_w = 512'(status);

  always_ff @(posedge clk_i) begin
    reply_q <= (src_q == SrcInfo) ? info_w[32*idx_q[4:2] +: 32] : status_w[32*idx_q[5:2] +: 32];
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      reply_ok_q <= 1'b0;
    end else begin
      reply_ok_q <= (state_q == EPayload) && !pl_fire;
    end
  end

  assign pl_fire    = (state_q == EPayload) && !txb_v_q &&
                      ((src_q != SrcRead) ? reply_ok_q : fd_valid_i);
  assign fd_ready_o = (state_q == EPayload) && (src_q == SrcRead) && !txb_v_q &&
                      (idx_q[1:0] == 2'd3);

  always_ff @(posedge clk_i) begin
    if (pl_fire) begin
      txb_q <= (src_q == SrcRead) ? fd_data_i[8*idx_q[1:0] +: 8] : reply_q[8*idx_q[1:0] +: 8];
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      txb_v_q <= 1'b0;
    end else if (pl_fire) begin
      txb_v_q <= 1'b1;
    end else if (tx_ready_i) begin
      txb_v_q <= 1'b0;
    end
  end

  assign tx_valid_o = txb_v_q;
  assign tx_data_o  = txb_q;

  assign hdr_valid_o  = (state_q == EHdr);
  assign hdr_len_o    = rlen_q;
  assign hdr_seq_o    = frm_seq_i;
  assign hdr_status_o = status_q;

  ///////////////
  // Registers //
  ///////////////

  always_ff @(posedge clk_i) begin
    dup_q     <= dup_d;
    wr_ok_q   <= wr_ok_d;
    rd_ok_q   <= rd_ok_d;
    job_ok_q  <= job_ok_d;
    conv_ok_q <= conv_ok_d;
    wr_end_q  <= 17'(addr) + 17'(frm_len_i[7:2]);
    rd_end_q  <= 17'(addr) + 17'(args_q[2]);
    if (state_q == EArgs && idx_q != '0) begin
      args_q[ArgAW'(idx_q - 1'b1)] <= pl_rdata_i;
    end
    if (state_q == EWrite && idx_q >= 8'd3) begin
      unique case (idx_q[1:0])
        2'd3: word_q[7:0]   <= pl_rdata_i;
        2'd0: word_q[15:8]  <= pl_rdata_i;
        2'd1: word_q[23:16] <= pl_rdata_i;
        default: ;
      endcase
    end
    if (state_q == EConv && idx_q != '0) begin
      word_q[8*conv_byte +: 8] <= pl_rdata_i;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q      <= EIdle;
      src_q        <= SrcInfo;
      status_q     <= '0;
      rlen_q       <= '0;
      idx_q        <= '0;
      waddr_q      <= '0;
      last_seq_q   <= '0;
      last_valid_q <= 1'b0;
      job_done_q   <= 1'b0;
      conv_done_q  <= 1'b0;
      for (int unsigned i = 0; i < NumCounters; i++) begin
        cnt_q[i] <= '0;
      end
    end else begin
      state_q    <= state_d;
      src_q      <= src_d;
      status_q   <= status_d;
      rlen_q     <= rlen_d;
      idx_q      <= idx_d;
      waddr_q    <= waddr_d;
      job_done_q  <= job_done_i;
      conv_done_q <= conv_done_i;
      if (state_q == EDone) begin
        if (status_q == StOk && seq_kept) begin
          last_seq_q   <= frm_seq_i;
          last_valid_q <= 1'b1;
        end
        unique case (status_q)
          StOk:        cnt_q[CntOk]       <= cnt_q[CntOk] + 1'b1;
          StDup:       cnt_q[CntDup]      <= cnt_q[CntDup] + 1'b1;
          NakCrc:      cnt_q[CntCrc]      <= cnt_q[CntCrc] + 1'b1;
          NakTrunc:    cnt_q[CntTrunc]    <= cnt_q[CntTrunc] + 1'b1;
          NakOversize: cnt_q[CntOversize] <= cnt_q[CntOversize] + 1'b1;
          NakUnknown, RxV2Info: cnt_q[CntUnknown] <= cnt_q[CntUnknown] + 1'b1;
          NakBadArg:   cnt_q[CntBadArg]   <= cnt_q[CntBadArg] + 1'b1;
          NakBusy:     cnt_q[CntBusy]     <= cnt_q[CntBusy] + 1'b1;
          default: ;
        endcase
      end
      if (rx_dropped_i) begin
        cnt_q[CntDropped] <= cnt_q[CntDropped] + 1'b1;
      end
      if ((job_done_i && !job_done_q) || (conv_done_i && !conv_done_q)) begin
        cnt_q[CntJobs] <= cnt_q[CntJobs] + 1'b1;
      end
    end
  end

  ////////////////
  // Assertions //
  ////////////////

`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (state_q == EIdle || frm_valid_i)
        else $error("hlsk_soc_ctrl: frame released while in use");
      assert (!(mw_en_o && job_busy_i))
        else $error("hlsk_soc_ctrl: host write during a job");
    end
  end
`endif

endmodule
