// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Host link frame encoder (docs/host-protocol.md).
//
// A header beat (LEN, SEQ, STATUS) on a valid/ready handshake, accepted
// while idle, sends SOF, LEN, ~LEN, SEQ, STATUS, then LEN payload bytes taken from
// the payload stream, then the CRC-32C of LEN..PAYLOAD, low byte first
// (protocol version 3), all on a valid/ready byte stream to the UART
// transmitter. The header status RxV2Info sends the frame in protocol
// version 2's framing instead: status StOk and a CRC-16/CCITT-FALSE, high
// byte first (the answer to an old host's INFO). In the
// payload phase the byte stream passes the payload stream through
// (out_valid_o = pl_valid_i, pl_ready_o = out_ready_i), so the payload may
// come straight from a memory read stream with no buffer; there is no path
// from out_ready_i to out_valid_o. Other outputs come from registers.
// Each byte sent is folded into the CRC in the cycle after it goes (the
// byte and an enable registered: the payload byte's mux in the producer and
// the CRC's XOR tree are then in different cycles); the first CRC byte
// waits for the last update, one cycle at most, which only a sink that is
// ready in consecutive cycles sees.

module hlsk_frame_tx
  import hlsk_link_pkg::*;
(
  input  logic       clk_i,
  input  logic       rst_ni,

  // Header
  input  logic       hdr_valid_i,
  output logic       hdr_ready_o,
  input  logic [7:0] hdr_len_i,
  input  logic [7:0] hdr_seq_i,
  input  logic [7:0] hdr_status_i,

  // Payload bytes
  input  logic       pl_valid_i,
  output logic       pl_ready_o,
  input  logic [7:0] pl_data_i,

  // Bytes to the UART transmitter
  output logic       out_valid_o,
  input  logic       out_ready_i,
  output logic [7:0] out_data_o,

  output logic       busy_o
);

  typedef enum logic [3:0] {
    StIdle,
    StSof,
    StLen,
    StLenInv,
    StSeq,
    StStatus,
    StPayload,
    StCrc
  } state_e;

  ///////////////
  // Registers //
  ///////////////

  state_e      state_q, state_d;
  logic [7:0]  len_q, len_d;
  logic [7:0]  seq_q, seq_d;
  logic [7:0]  status_q, status_d;
  logic [7:0]  left_q, left_d;     // payload bytes, then CRC bytes, to send
  logic [31:0] crc_q, crc_d;       // CRC-32C, or CRC-16 in the low half (v2_q)
  logic        v2_q, v2_d;         // protocol version 2 framing
  logic        upd_q, upd_d;       // crc_q still to take byte upd_byte_q
  logic [7:0]  upd_byte_q;

  /////////////
  // Control //
  /////////////

  logic       out_fire;
  logic [7:0] byte_out, crc_byte, crc_len;
  logic [1:0] crc_idx;

  assign hdr_ready_o = (state_q == StIdle);
  assign pl_ready_o  = (state_q == StPayload) && out_ready_i;
  assign out_valid_o = (state_q == StPayload) ? pl_valid_i :
                       (state_q == StCrc)     ? !upd_q     : (state_q != StIdle);
  assign out_fire    = out_valid_o && out_ready_i;
  assign busy_o      = (state_q != StIdle);

  always_comb begin
    unique case (state_q)
      StSof:     byte_out = Sof;
      StLen:     byte_out = len_q;
      StLenInv:  byte_out = ~len_q;
      StSeq:     byte_out = seq_q;
      StStatus:  byte_out = status_q;
      StPayload: byte_out = pl_data_i;
      StCrc:     byte_out = crc_byte;
      default:   byte_out = '0;
    endcase
  end
  // CRC-32C: the final xor of the register, low byte first (left_q counts
  // down from CrcBytes); CRC-16: the register, high byte first (2, 1).
  assign crc_len  = v2_q ? 8'd2 : 8'(CrcBytes);
  assign crc_idx  = 2'(8'(CrcBytes) - left_q);
  assign crc_byte = v2_q ? (left_q[1] ? crc_q[15:8] : crc_q[7:0]) : ~crc_q[8*crc_idx +: 8];
  assign out_data_o = byte_out;

  always_comb begin
    state_d  = state_q;
    len_d    = len_q;
    seq_d    = seq_q;
    status_d = status_q;
    left_d   = left_q;
    crc_d    = crc_q;
    v2_d     = v2_q;

    upd_d = out_fire && state_q != StSof && state_q != StCrc;
    if (upd_q) begin
      crc_d = v2_q ? {16'h0, crc16_byte(crc_q[15:0], upd_byte_q)} :
                     crc32c_byte(crc_q, upd_byte_q);
    end

    unique case (state_q)
      StIdle: begin
        if (hdr_valid_i) begin
          v2_d     = (hdr_status_i == RxV2Info);
          len_d    = hdr_len_i;
          seq_d    = hdr_seq_i;
          status_d = v2_d ? StOk : hdr_status_i;
          left_d   = hdr_len_i;
          crc_d    = v2_d ? {16'h0, Crc16Init} : Crc32cInit;
          state_d  = StSof;
        end
      end
      StSof:    if (out_fire) state_d = StLen;
      StLen:    if (out_fire) state_d = StLenInv;
      StLenInv: if (out_fire) state_d = StSeq;
      StSeq:    if (out_fire) state_d = StStatus;
      StStatus: begin
        if (out_fire) begin
          if (left_q == '0) begin
            left_d  = crc_len;
            state_d = StCrc;
          end else begin
            state_d = StPayload;
          end
        end
      end
      StPayload: begin
        if (out_fire) begin
          left_d = left_q - 1'b1;
          if (left_q == 8'd1) begin
            left_d  = crc_len;
            state_d = StCrc;
          end
        end
      end
      StCrc: begin
        if (out_fire) begin
          left_d = left_q - 1'b1;
          if (left_q == 8'd1) begin
            state_d = StIdle;
          end
        end
      end
      default:  state_d = StIdle;
    endcase
  end

  ///////////////
  // Registers //
  ///////////////

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q  <= StIdle;
      len_q    <= '0;
      seq_q    <= '0;
      status_q <= '0;
      left_q   <= '0;
      crc_q    <= '0;
      v2_q     <= 1'b0;
      upd_q    <= 1'b0;
    end else begin
      state_q  <= state_d;
      len_q    <= len_d;
      seq_q    <= seq_d;
      status_q <= status_d;
      left_q   <= left_d;
      crc_q    <= crc_d;
      v2_q     <= v2_d;
      upd_q    <= upd_d;
    end
  end

  always_ff @(posedge clk_i) begin
    upd_byte_q <= byte_out;
  end

  ////////////////
  // Assertions //
  ////////////////

`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (!(upd_q && state_q == StIdle && hdr_valid_i))
        else $error("hlsk_frame_tx: a CRC update pending when a new frame starts");
    end
  end
`endif

endmodule
