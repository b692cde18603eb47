// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Activation buffer of the TLMM engine. Loads K int8 activations from a
// valid/ready stream of 32-bit beats (byte i of beat b = activation 4b+i)
// and stores them as chunks of T groups of G activations, one chunk per RAM
// word, so the engine reads the T groups it needs in one cycle. The last
// chunk is zero-padded beyond K.
//
// Loading starts with start_i (one cycle, k_i valid with it); done_o rises
// once every chunk is written and stays high until the next start.
// nchunks_o = ceil(K / (G*T)). A beat's last flag must be set on beat
// ceil(K/4)-1 and nowhere else; otherwise proto_err_o pulses (beats are
// counted, never waited for on the flag). Throughput: one beat per cycle
// when G*T >= 4, else G*T bytes per cycle.

module tlmm_act_buffer
  import tlmm_pkg::*;
#(
  parameter int unsigned G    = 3,
  parameter int unsigned T    = 1,
  parameter int unsigned KMax = 256,
  // Derived; do not override.
  localparam int unsigned GT       = G * T,
  localparam int unsigned ChunkW   = 8 * GT,
  localparam int unsigned Chunks   = (KMax + GT - 1) / GT,
  localparam int unsigned ChunkAW  = (Chunks > 1) ? $clog2(Chunks) : 1,
  localparam int unsigned AsmBytes = GT + 3,
  localparam int unsigned CntN     = 2 * GT + 4,
  localparam int unsigned CntW     = $clog2(CntN),
  localparam int unsigned KW       = $clog2(KMax + 1)
) (
  input  logic               clk_i,
  input  logic               rst_ni,

  // Control
  input  logic               start_i,
  input  logic [KW-1:0]      k_i,
  output logic               done_o,
  output logic [ChunkAW:0]   nchunks_o,
  output logic               proto_err_o,

  // Activation stream
  input  logic               act_valid_i,
  output logic               act_ready_o,
  input  logic [31:0]        act_data_i,
  input  logic               act_last_i,

  // Chunk read port (registered read data, one cycle latency)
  input  logic               rd_en_i,
  input  logic [ChunkAW-1:0] rd_chunk_i,
  output logic [ChunkW-1:0]  rd_data_o
);

  ///////////////
  // Registers //
  ///////////////

  logic               loading_q, loading_d;
  logic [KW-1:0]      rem_q, rem_d;            // activations still to come
  logic [7:0]         asm_q [AsmBytes];
  logic [7:0]         asm_d [AsmBytes];
  logic [CntW-1:0]    cnt_q, cnt_d;            // valid bytes in asm_q
  logic [CntW-1:0]    cnt_mgt_q;               // cnt_q - GT (used when cnt_q >= GT)
  logic [ChunkAW:0]   wchunk_q, wchunk_d;      // chunks written
  // Decodes of the state, registered beside it (from rem_d and cnt_d):
  // rem_q == 0, >= 4, <= 4; cnt_q one-hot, >= GT, < 2*GT.
  logic               all_in_q, ge4_q, le4_q;
  logic [CntN-1:0]    cnt_oh_q;
  logic               cnt_ge_gt_q, cnt_lt_2gt_q;

  /////////////
  // Control //
  /////////////

  // Every decision of a cycle is a function of registers and their
  // registered decodes, so no adder or comparator lies on a path from the
  // stream's valid: whether a chunk is written, whether a beat may move, how
  // many activations it carries and where they go.
  logic            wr_en;
  logic            act_fire;
  logic            last_expected;
  logic [2:0]      take;          // activations a beat carries
  logic [CntW-1:0] cnt_after_wr;

  // A beat carries four activations; with KMax < 4 every beat is the last.
  if (KMax >= 4) begin : g_take
    assign take          = ge4_q ? 3'd4 : 3'(rem_q);
    assign last_expected = le4_q;
  end else begin : g_take_small
    assign take          = 3'(rem_q);
    assign last_expected = 1'b1;
    logic unused_cmp;
    assign unused_cmp = ge4_q ^ le4_q;
  end

  // A chunk is written when one is complete, or for the final partial one.
  assign wr_en        = loading_q && (cnt_ge_gt_q || (all_in_q && !cnt_oh_q[0]));
  assign cnt_after_wr = wr_en ? (cnt_ge_gt_q ? cnt_mgt_q : '0) : cnt_q;
  // Room for a whole beat after this cycle's write (state only: no path
  // from valid to ready).
  assign act_ready_o  = loading_q && !all_in_q && cnt_lt_2gt_q;
  assign act_fire     = act_valid_i && act_ready_o;

  always_comb begin
    loading_d = loading_q;
    rem_d     = rem_q;
    cnt_d     = cnt_after_wr;
    wchunk_d  = wchunk_q;
    if (wr_en) begin
      wchunk_d = wchunk_q + 1'b1;
    end
    if (act_fire) begin
      rem_d = rem_q - KW'(take);
      cnt_d = cnt_after_wr + CntW'(take);
    end
    if (loading_q && all_in_q && cnt_oh_q[0]) begin
      loading_d = 1'b0;
    end
    if (start_i) begin
      loading_d = 1'b1;
      rem_d     = k_i;
      cnt_d     = '0;
      wchunk_d  = '0;
    end
  end

  // The compares of cnt_d with constants as tables indexed by it (logic of
  // its few bits, where a comparator would be a carry chain on iCE40).
  localparam int unsigned CntV = 1 << CntW;
  localparam logic [CntV-1:0] CntGeGt  = ~((CntV'(1) << GT) - CntV'(1));
  localparam logic [CntV-1:0] CntLt2Gt = (CntV'(1) << (2 * GT)) - CntV'(1);
  // CntGtJ[j][v]: v > j, for the chunk write's byte mask.
  function automatic logic [CntV-1:0] gt_table(int unsigned j);
    return ~((CntV'(2) << j) - CntV'(1));
  endfunction
  localparam logic [GT-1:0][CntV-1:0] CntGtJ = gt_tables();
  function automatic logic [GT-1:0][CntV-1:0] gt_tables();
    logic [GT-1:0][CntV-1:0] t;
    for (int unsigned j = 0; j < GT; j++) begin
      t[j] = gt_table(j);
    end
    return t;
  endfunction

  // cnt_oh_q[idx], 0 outside the range.
  function automatic logic cnt_is(logic [CntN-1:0] oh, int idx);
    return (idx >= 0 && idx < int'(CntN)) ? oh[idx] : 1'b0;
  endfunction

  // The assembly register. A write shifts the written chunk out; a beat's
  // activation i goes to byte cnt_after_wr + i. A beat moves only while
  // cnt_q < 2*GT and K is not all in, so with a write in the same cycle
  // cnt_q >= GT and cnt_after_wr = cnt_q - GT: both cases select by a bit
  // of cnt_oh_q, and the two are formed side by side with wr_en choosing
  // last. All four bytes are placed even when the beat carries fewer: bytes
  // at or beyond the valid count are don't-care (the chunk write masks
  // them, and the next beat overwrites them before they count).
  always_comb begin
    for (int unsigned j = 0; j < AsmBytes; j++) begin
      logic [7:0] put_w, put_n;  // the beat's byte for j, with and without a write
      logic [7:0] keep, put;     // byte j without a beat, and with one
      logic       hit_w, hit_n;
      put_w = '0;
      put_n = '0;
      hit_w = 1'b0;
      hit_n = 1'b0;
      for (int unsigned i = 0; i < 4; i++) begin
        put_w |= {8{cnt_is(cnt_oh_q, int'(j + GT) - int'(i))}} & act_data_i[8*i +: 8];
        put_n |= {8{cnt_is(cnt_oh_q, int'(j) - int'(i))}} & act_data_i[8*i +: 8];
        hit_w |= cnt_is(cnt_oh_q, int'(j + GT) - int'(i));
        hit_n |= cnt_is(cnt_oh_q, int'(j) - int'(i));
      end
      // Without a beat the byte is kept (or shifted); act_fire, the only
      // input that depends on the stream's valid, chooses last.
      keep = wr_en ? ((j + GT < AsmBytes) ? asm_q[j + GT] : 8'h00) : asm_q[j];
      if (wr_en) begin
        put = hit_w ? put_w : keep;
      end else begin
        put = hit_n ? put_n : keep;
      end
      asm_d[j] = act_fire ? put : keep;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      loading_q    <= 1'b0;
      rem_q        <= '0;
      cnt_q        <= '0;
      cnt_mgt_q    <= '0;
      wchunk_q     <= '0;
      all_in_q     <= 1'b1;
      ge4_q        <= 1'b0;
      le4_q        <= 1'b1;
      cnt_oh_q     <= CntN'(1);
      cnt_ge_gt_q  <= 1'b0;
      cnt_lt_2gt_q <= 1'b1;
    end else begin
      loading_q    <= loading_d;
      rem_q        <= rem_d;
      cnt_q        <= cnt_d;
      cnt_mgt_q    <= cnt_d - CntW'(GT);
      wchunk_q     <= wchunk_d;
      all_in_q     <= (rem_d == '0);
      ge4_q        <= (rem_d >> 2) != '0;
      le4_q        <= (rem_d >> 2) == '0 || 32'(rem_d) == 32'd4;
      cnt_oh_q     <= CntN'(1) << cnt_d;
      cnt_ge_gt_q  <= CntGeGt[cnt_d];
      cnt_lt_2gt_q <= CntLt2Gt[cnt_d];
    end
  end

  always_ff @(posedge clk_i) begin
    asm_q <= asm_d;
  end

  assign done_o      = !loading_q;
  assign nchunks_o   = wchunk_q;
  assign proto_err_o = act_fire && (act_last_i != last_expected);

  //////////////
  // Datapath //
  //////////////

  // Bytes of the chunk being written; zero beyond the valid count so the
  // last chunk is zero-padded.
  logic [ChunkW-1:0] wr_data;
  always_comb begin
    for (int unsigned j = 0; j < GT; j++) begin
      wr_data[8*j +: 8] = CntGtJ[j][cnt_q] ? asm_q[j] : 8'h00;
    end
  end

  hlsk_ram_1r1w #(
    .Width(ChunkW),
    .Depth(Chunks)
  ) u_chunks (
    .clk_i,
    .we_i    (wr_en),
    .waddr_i (wchunk_q[ChunkAW-1:0]),
    .wdata_i (wr_data),
    .re_i    (rd_en_i),
    .raddr_i (rd_chunk_i),
    .rdata_o (rd_data_o)
  );

endmodule
