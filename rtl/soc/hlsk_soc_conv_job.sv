// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Convolution job of the SoC: the conv_engine on the SoC's word memory
// (docs/host-protocol.md, CONV_START).
//
// The engine addresses 16-bit words; they are the halves of the 32-bit
// memory words, low half first: engine word a is bits [16*(a%2) +: 16] of
// memory word a/2 (the little-endian byte order the host writes). With
// T = 2 an engine beat is two engine words, so a burst at an even address
// is whole memory words: a read burst streams them through the memory's
// read stream (the weight feeder), a write burst writes one word per beat
// through its write port (always ready). The write is registered: it lands
// in the cycle after its beat (the drain's formatting then ends at a
// register, not at the memory), and busy_o holds, done_o waits, until it
// has landed; no read of the memory can start before it (a read burst
// needs a request and a start cycle first).
//
// A burst the memory cannot serve (odd address, or past the memory's
// 2*MemWords engine words) is not performed: a read returns zero beats, a
// write is dropped, and the sticky range error rises (cleared by the next
// descriptor). The engine still sees a complete burst, so a bad job ends
// instead of hanging; memory outside the served bursts is untouched.
//
// Descriptor words come in one per beat (12 per job, accepted only while
// the engine is idle). busy_o is the engine's (from the last descriptor
// word to done); done_o and error_o (engine refusal or range error) hold
// until the next descriptor.

module hlsk_soc_conv_job #(
  parameter int unsigned T        = 2,
  parameter int unsigned P        = 1,
  parameter int unsigned AccW     = 32,
  parameter int unsigned AccWWu   = 40,
  parameter int unsigned InWords  = 512,
  parameter int unsigned WWords   = 256,
  parameter int unsigned OutEnt   = 256,
  parameter int unsigned GEnt     = 128,
  parameter int unsigned MemWords = 1024,
  // Derived; do not override.
  localparam int unsigned AddrW = (MemWords > 1) ? $clog2(MemWords) : 1,
  localparam int unsigned CntW  = $clog2(MemWords + 1)
) (
  input  logic             clk_i,
  input  logic             rst_ni,

  // Descriptor words
  input  logic             desc_valid_i,
  output logic             desc_ready_o,
  input  logic [31:0]      desc_data_i,

  // Memory read stream (weight feeder): start, then words
  output logic             fd_start_valid_o,
  input  logic             fd_start_ready_i,
  output logic [AddrW-1:0] fd_start_base_o,
  output logic [CntW-1:0]  fd_start_count_o,
  input  logic             fd_valid_i,
  output logic             fd_ready_o,
  input  logic [31:0]      fd_data_i,

  // Memory write port
  output logic             mw_en_o,
  output logic [AddrW-1:0] mw_addr_o,
  output logic [31:0]      mw_data_o,

  // Status and counters
  output logic             busy_o,
  output logic             done_o,
  output logic             engine_error_o,
  output logic             range_error_o,
  output logic [31:0]      cycles_o,
  output logic [31:0]      fired_o
);

  localparam int unsigned BeatW = 16 * T;

  if (BeatW != 32) begin : g_bad_t
    $error("hlsk_soc_conv_job: T must be 2 (one engine beat per memory word)");
  end

  typedef enum logic [1:0] {
    AIdle,
    AStart,
    ARead,
    AWrite
  } state_e;

  ////////////
  // Engine //
  ////////////

  logic             req_valid, req_ready, req_write;
  logic [31:0]      req_addr, req_len;
  logic             rd_valid, rd_ready, wr_valid, wr_ready;
  logic [BeatW-1:0] rd_data, wr_data;
  logic [31:0]      cnt_rd_words, cnt_wr_words, cnt_bursts;
  logic [31:0]      cnt_stall_in, cnt_stall_w, cnt_stall_out;
  logic             eng_busy, eng_done;

  conv_engine #(
    .T      (T),
    .P      (P),
    .AccW   (AccW),
    .AccWWu (AccWWu),
    .InWords(InWords),
    .WWords (WWords),
    .OutEnt (OutEnt),
    .GEnt   (GEnt)
  ) u_engine (
    .clk_i,
    .rst_ni,
    .desc_valid_i  (desc_valid_i),
    .desc_ready_o  (desc_ready_o),
    .desc_data_i   (desc_data_i),
    .req_valid_o   (req_valid),
    .req_ready_i   (req_ready),
    .req_addr_o    (req_addr),
    .req_len_o     (req_len),
    .req_write_o   (req_write),
    .rd_valid_i    (rd_valid),
    .rd_ready_o    (rd_ready),
    .rd_data_i     (rd_data),
    .wr_valid_o    (wr_valid),
    .wr_ready_i    (wr_ready),
    .wr_data_o     (wr_data),
    .busy_o        (eng_busy),
    .done_o        (eng_done),
    .error_o       (engine_error_o),
    .cnt_cycles_o   (cycles_o),
    .cnt_fired_o    (fired_o),
    .cnt_rd_words_o (cnt_rd_words),
    .cnt_wr_words_o (cnt_wr_words),
    .cnt_bursts_o   (cnt_bursts),
    .cnt_stall_in_o (cnt_stall_in),
    .cnt_stall_w_o  (cnt_stall_w),
    .cnt_stall_out_o(cnt_stall_out)
  );

  logic unused_cnt;
  assign unused_cnt = ^{cnt_rd_words, cnt_wr_words, cnt_bursts,
                       cnt_stall_in, cnt_stall_w, cnt_stall_out};

  ////////////////////
  // Memory adapter //
  ////////////////////

  state_e           state_q, state_d;
  logic [AddrW-1:0] base_q, base_d;     // memory word of the next beat
  logic [31:0]      left_q, left_d;     // beats still to move
  logic             bad_q, bad_d;       // burst not served
  logic             range_err_q;

  logic             req_fire, rd_fire, wr_fire, req_bad, desc_fire;
  logic [32:0]      req_end;

  assign req_end   = 33'(req_addr) + 33'(req_len);
  assign req_bad   = req_addr[0] || (req_end > 33'(2 * MemWords));
  assign req_ready = (state_q == AIdle);
  assign req_fire  = req_valid && req_ready;
  assign rd_fire   = rd_valid && rd_ready;
  assign wr_fire   = wr_valid && wr_ready;
  assign desc_fire = desc_valid_i && desc_ready_o;

  always_comb begin
    state_d = state_q;
    base_d  = base_q;
    left_d  = left_q;
    bad_d   = bad_q;

    unique case (state_q)
      AIdle: begin
        if (req_fire && req_len >= 32'd2) begin
          base_d  = AddrW'(req_addr[31:1]);
          left_d  = {1'b0, req_len[31:1]};
          bad_d   = req_bad;
          state_d = req_write ? AWrite : (req_bad ? ARead : AStart);
        end
      end
      AStart: begin
        if (fd_start_ready_i) begin
          state_d = ARead;
        end
      end
      ARead: begin
        if (rd_fire) begin
          left_d = left_q - 32'd1;
          if (left_q == 32'd1) begin
            state_d = AIdle;
          end
        end
      end
      AWrite: begin
        if (wr_fire) begin
          left_d = left_q - 32'd1;
          base_d = base_q + 1'b1;
          if (left_q == 32'd1) begin
            state_d = AIdle;
          end
        end
      end
      default: state_d = AIdle;
    endcase
  end

  // Reads: the read stream, or zeros for a burst not served.
  assign fd_start_valid_o = (state_q == AStart);
  assign fd_start_base_o  = base_q;
  assign fd_start_count_o = CntW'(left_q);
  assign rd_valid         = (state_q == ARead) && (bad_q || fd_valid_i);
  assign rd_data          = bad_q ? '0 : fd_data_i;
  assign fd_ready_o       = (state_q == ARead) && !bad_q && rd_ready;

  // Writes: one memory word per beat, none for a burst not served.
  assign wr_ready  = (state_q == AWrite);

  logic             mw_en_q;
  logic [AddrW-1:0] mw_addr_q;
  logic [31:0]      mw_data_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      mw_en_q <= 1'b0;
    end else begin
      mw_en_q <= wr_fire && !bad_q;
    end
  end
  always_ff @(posedge clk_i) begin
    mw_addr_q <= base_q;
    mw_data_q <= wr_data;
  end
  assign mw_en_o   = mw_en_q;
  assign mw_addr_o = mw_addr_q;
  assign mw_data_o = mw_data_q;
  assign busy_o    = eng_busy || mw_en_q;
  assign done_o    = eng_done && !mw_en_q;

  assign range_error_o = range_err_q;

  ///////////////
  // Registers //
  ///////////////

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q     <= AIdle;
      base_q      <= '0;
      left_q      <= '0;
      bad_q       <= 1'b0;
      range_err_q <= 1'b0;
    end else begin
      state_q <= state_d;
      base_q  <= base_d;
      left_q  <= left_d;
      bad_q   <= bad_d;
      if (desc_fire) begin
        range_err_q <= 1'b0;
      end else if (req_fire && req_bad) begin
        range_err_q <= 1'b1;
      end
    end
  end

  ////////////////
  // Assertions //
  ////////////////

`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (!(req_fire && req_len[0]))
        else $error("hlsk_soc_conv_job: burst length not a multiple of T");
      assert (!fd_valid_i || state_q == ARead)
        else $error("hlsk_soc_conv_job: memory word outside a read burst");
    end
  end
`endif

endmodule
