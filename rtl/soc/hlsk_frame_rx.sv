// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Host link frame decoder (docs/host-protocol.md, protocol version 3).
//
// Takes bytes from the UART receiver (always ready: a byte is never left
// waiting) and parses frames SOF, LEN, ~LEN, SEQ, CMD, PAYLOAD[LEN], CRC32
// (CRC-32C over LEN..PAYLOAD, low byte first). ~LEN guards the length, so
// that a corrupt length is caught at once; the CRC-32C catches every error
// of up to 5 bits and every burst of up to 32 bits in a frame of the
// right length, and a frame shifted by a lost or extra byte with
// probability 1 - 2^-32. Bytes outside a frame are skipped until a SOF.
// The payload is stored in a byte RAM; nothing is executed here.
//
// Every frame ends in exactly one verdict on the frame stream (valid/ready,
// held until taken): status StOk with SEQ, CMD and LEN (the payload then
// readable through the registered read port, one cycle latency, until the
// verdict is taken), or a NAK reason, decided only by this frame's bytes:
// NakCrc (CRC mismatch, or LEN and ~LEN disagree), NakOversize (LEN >
// MaxPayload, with ~LEN its complement), NakTrunc (no byte for
// TimeoutClks cycles inside a frame, header otherwise good or not yet
// complete). After a bad or oversize header the rest of the frame is
// skipped until the line has been quiet for TimeoutClks, then the verdict
// is given. A frame that stops after two CRC bytes and is a protocol
// version 2 INFO (LEN 0, CMD INFO, those bytes its CRC-16) gets the verdict
// RxV2Info instead of NakTrunc. Bytes that arrive while a verdict waits are
// dropped and counted on dropped_o (one-cycle pulse per byte).

module hlsk_frame_rx
  import hlsk_link_pkg::*;
#(
  parameter int unsigned MaxPayload  = 130,
  parameter int unsigned TimeoutClks = 1000,
  // Derived; do not override.
  localparam int unsigned PlAW = $clog2(MaxPayload),
  localparam int unsigned ToW  = $clog2(TimeoutClks + 1)
) (
  input  logic            clk_i,
  input  logic            rst_ni,

  // Bytes from the UART receiver
  input  logic            in_valid_i,
  output logic            in_ready_o,
  input  logic [7:0]      in_data_i,

  // Frame verdicts
  output logic            frm_valid_o,
  input  logic            frm_ready_i,
  output logic [7:0]      frm_status_o,
  output logic [7:0]      frm_seq_o,
  output logic [7:0]      frm_cmd_o,
  output logic [7:0]      frm_len_o,

  // Payload of the frame on offer
  input  logic [PlAW-1:0] pl_raddr_i,
  output logic [7:0]      pl_rdata_o,

  output logic            dropped_o
);

  typedef enum logic [3:0] {
    StHunt,
    StLen,
    StLenInv,
    StSeq,
    StCmd,
    StPayload,
    StCrc,
    StSkip,
    StHold
  } state_e;

  ///////////////
  // Registers //
  ///////////////

  state_e          state_q, state_d;
  logic [7:0]      len_q, len_d;
  logic [7:0]      seq_q, seq_d;
  logic [7:0]      cmd_q, cmd_d;
  logic [7:0]      cnt_q, cnt_d;       // payload or CRC bytes taken
  logic [31:0]     crc_q, crc_d;
  logic [15:0]     tail_q, tail_d;     // the last two CRC bytes, first one high
  logic [7:0]      verdict_q, verdict_d;
  logic            oversize_q, oversize_d;  // LEN > MaxPayload, ~LEN good
  logic            hdr_bad_q, hdr_bad_d;    // LEN and ~LEN disagree
  logic [ToW-1:0]  idle_q;             // cycles since the last byte

  /////////////
  // Control //
  /////////////

  logic in_fire, timeout, pl_we, v2_info;

  assign in_ready_o  = 1'b1;
  assign in_fire     = in_valid_i;
  // A byte in the cycle the line would time out still belongs to the frame.
  assign timeout     = (idle_q == ToW'(TimeoutClks)) && !in_fire;
  assign pl_we       = in_fire && (state_q == StPayload);
  assign dropped_o   = in_fire && (state_q == StHold);
  // A version-2 INFO frame, complete: A5 00 FF SEQ 01 and its CRC-16.
  assign v2_info     = (state_q == StCrc) && (cnt_q == 8'd2) && (len_q == '0) &&
                       (cmd_q == CmdInfo) && (tail_q == crc16_v2_info(seq_q));

  always_comb begin
    state_d    = state_q;
    len_d      = len_q;
    seq_d      = seq_q;
    cmd_d      = cmd_q;
    cnt_d      = cnt_q;
    crc_d      = crc_q;
    tail_d     = tail_q;
    verdict_d  = verdict_q;
    oversize_d = oversize_q;
    hdr_bad_d  = hdr_bad_q;

    if (in_fire && state_q != StHold && state_q != StHunt) begin
      crc_d = crc32c_byte(crc_q, in_data_i);
    end

    unique case (state_q)
      StHunt: begin
        if (in_fire && in_data_i == Sof) begin
          // A new frame: nothing of the last one's verdict carries over.
          state_d    = StLen;
          crc_d      = Crc32cInit;
          seq_d      = '0;
          cmd_d      = '0;
          hdr_bad_d  = 1'b0;
          oversize_d = 1'b0;
        end
      end
      StLen: begin
        if (in_fire) begin
          len_d   = in_data_i;
          state_d = StLenInv;
        end
      end
      StLenInv: begin
        if (in_fire) begin
          // LEN counts only once ~LEN confirms it.
          hdr_bad_d  = (in_data_i != ~len_q);
          oversize_d = !hdr_bad_d && (32'(len_q) > MaxPayload);
          state_d    = hdr_bad_d ? StSkip : StSeq;
        end
      end
      StSeq: begin
        if (in_fire) begin
          seq_d   = in_data_i;
          state_d = StCmd;
        end
      end
      StCmd: begin
        if (in_fire) begin
          cmd_d   = in_data_i;
          cnt_d   = '0;
          state_d = oversize_q ? StSkip : (len_q == '0) ? StCrc : StPayload;
        end
      end
      StPayload: begin
        if (in_fire) begin
          cnt_d = cnt_q + 1'b1;
          if (cnt_q == len_q - 1'b1) begin
            cnt_d   = '0;
            state_d = StCrc;
          end
        end
      end
      StCrc: begin
        if (in_fire) begin
          cnt_d  = cnt_q + 1'b1;
          tail_d = {tail_q[7:0], in_data_i};
          if (32'(cnt_q) == CrcBytes - 1) begin
            // crc_d == Crc32cResidue, from crc_q and the byte
            // (hlsk_link_pkg::Crc32cLastIdx).
            verdict_d = (crc_q[31:8] == Crc32cLastHigh &&
                         (crc_q[7:0] ^ in_data_i) == Crc32cLastIdx) ? StOk : NakCrc;
            state_d   = StHold;
          end
        end
      end
      StSkip: begin
        // Bad or oversize header: skip until the line is quiet (below).
      end
      StHold: begin
        if (frm_ready_i) begin
          state_d = StHunt;
        end
      end
      default: state_d = StHunt;
    endcase

    // A frame that stops short ends in a verdict too.
    if (timeout && state_q != StHunt && state_q != StHold) begin
      verdict_d = hdr_bad_q  ? NakCrc      :
                  oversize_q ? NakOversize :
                  v2_info    ? RxV2Info    : NakTrunc;
      state_d   = StHold;
    end
  end

  ///////////////
  // Registers //
  ///////////////

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q    <= StHunt;
      len_q      <= '0;
      seq_q      <= '0;
      cmd_q      <= '0;
      cnt_q      <= '0;
      crc_q      <= '0;
      tail_q     <= '0;
      verdict_q  <= '0;
      oversize_q <= 1'b0;
      hdr_bad_q  <= 1'b0;
      idle_q     <= '0;
    end else begin
      state_q    <= state_d;
      len_q      <= len_d;
      seq_q      <= seq_d;
      cmd_q      <= cmd_d;
      cnt_q      <= cnt_d;
      crc_q      <= crc_d;
      tail_q     <= tail_d;
      verdict_q  <= verdict_d;
      oversize_q <= oversize_d;
      hdr_bad_q  <= hdr_bad_d;
      if (in_fire || state_q == StHunt || state_q == StHold) begin
        idle_q <= '0;
      end else if (!timeout) begin
        idle_q <= idle_q + 1'b1;
      end
    end
  end

  //////////////
  // Payload  //
  //////////////

  hlsk_ram_1r1w #(
    .Width(8),
    .Depth(MaxPayload)
  ) u_payload (
    .clk_i,
    .we_i    (pl_we),
    .waddr_i (cnt_q[PlAW-1:0]),
    .wdata_i (in_data_i),
    .re_i    (1'b1),
    .raddr_i (pl_raddr_i),
    .rdata_o (pl_rdata_o)
  );

  assign frm_valid_o  = (state_q == StHold);
  assign frm_status_o = verdict_q;
  assign frm_seq_o    = seq_q;
  assign frm_cmd_o    = cmd_q;
  assign frm_len_o    = len_q;

  ////////////////
  // Assertions //
  ////////////////

`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (state_q != StPayload || cnt_q < len_q)
        else $error("hlsk_frame_rx: payload index beyond LEN");
      assert (state_q != StPayload || 32'(len_q) <= MaxPayload)
        else $error("hlsk_frame_rx: storing an oversize payload");
    end
  end
`endif

endmodule
