// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Formal harness for hlsk_frame_rx (SymbiYosys, frame_rx.sby).
//
// An independent shadow parser watches the byte stream from outside: a
// frame starts with a SOF byte while the receiver is idle (no frame open,
// no verdict on offer) and closes when its verdict is taken; the shadow
// counts its bytes up to the verdict and computes CRC-32C bit by bit over
// them (and CRC-16/CCITT-FALSE over the first six, for the version-2
// INFO), with its own code, not hlsk_link_pkg's functions. Proved for every reachable state:
// - a verdict StOk is given exactly for a frame of LEN + 8 bytes after SOF
//   whose ~LEN byte is the complement of LEN, whose CRC-32C register over
//   LEN..CRC (4 bytes) ends at the residue 0xB798B438 and whose LEN is at
//   most MaxPayload; with it come that frame's SEQ, CMD and LEN, and the
//   payload read port returns the frame's byte at an arbitrary symbolic
//   index tag_i (< LEN); so a frame with a bad CRC, a LEN/~LEN mismatch, a
//   wrong byte count (truncated) or an oversize LEN is never passed on;
// - a verdict is only given for a frame that was opened, and a NAK names
//   exactly the reason this frame's bytes give (whatever came before):
//   NakTrunc for a frame that stops before its ~LEN byte; NakCrc for a
//   LEN/~LEN mismatch; NakOversize for LEN > MaxPayload with a good ~LEN;
//   NakTrunc for a good header and fewer than LEN + 8 bytes, except
//   RxV2Info for a whole version-2 INFO (A5 00 FF SEQ 01 and its
//   CRC-16: 6 bytes after SOF); NakCrc for LEN + 8 bytes and a bad CRC;
// - stream rules on the verdict port: frm_valid_o and the verdict fields
//   hold until frm_ready_i; in_ready_o is always high (bytes are never
//   held back); frm_valid_o comes from a register (it equals a function of
//   the state register).
// Parameters are scaled down (MaxPayload 4, TimeoutClks 3): the logic is
// the same for any values, the state space is smaller. (This was an
// expected failure, issue_nak_reason, until the receiver stopped taking
// LEN as oversize before ~LEN confirmed it and stopped carrying the
// header flags over from the previous frame.)
// "Induction helpers" relate the receiver's registers to the shadow
// (hierarchical references); they are asserted, so proved too.
//
// Reset: rst_ni is low in the first cycle and high afterwards.

module frame_rx_formal
  import hlsk_link_pkg::*;
#(
  parameter int unsigned MaxPayload  = 4,
  parameter int unsigned TimeoutClks = 3,
  localparam int unsigned PlAW = $clog2(MaxPayload)
) (
  input logic            clk_i,
  input logic            rst_ni,
  input logic            in_valid_i,
  input logic [7:0]      in_data_i,
  input logic            frm_ready_i,
  input logic [PlAW-1:0] pl_raddr_i,
  input logic [7:0]      tag_i        // constant: tracked payload index
);

  ///////////////////////
  // Device under test //
  ///////////////////////

  logic       in_ready, frm_valid, dropped;
  logic [7:0] frm_status, frm_seq, frm_cmd, frm_len, pl_rdata;

  hlsk_frame_rx #(.MaxPayload(MaxPayload), .TimeoutClks(TimeoutClks)) u_dut (
    .clk_i, .rst_ni,
    .in_valid_i, .in_ready_o(in_ready), .in_data_i,
    .frm_valid_o(frm_valid), .frm_ready_i,
    .frm_status_o(frm_status), .frm_seq_o(frm_seq), .frm_cmd_o(frm_cmd), .frm_len_o(frm_len),
    .pl_raddr_i, .pl_rdata_o(pl_rdata),
    .dropped_o(dropped)
  );

  ///////////////////
  // Shadow parser //
  ///////////////////

  // Bit-serial CRC-32C step (reflected poly 0x82F63B78, LSB first).
  function automatic logic [31:0] crc32_step(logic [31:0] crc, logic [7:0] b);
    logic [31:0] c;
    c = crc;
    for (int i = 0; i < 8; i++) begin
      if (c[0] ^ b[i]) c = {1'b0, c[31:1]} ^ 32'h82F6_3B78;
      else             c = {1'b0, c[31:1]};
    end
    return c;
  endfunction

  // Bit-serial CRC-16/CCITT-FALSE step (poly 0x1021, MSB first).
  function automatic logic [15:0] crc16_step(logic [15:0] crc, logic [7:0] b);
    logic [15:0] c;
    c = crc;
    for (int i = 7; i >= 0; i--) begin
      if (c[15] ^ b[i]) c = {c[14:0], 1'b0} ^ 16'h1021;
      else              c = {c[14:0], 1'b0};
    end
    return c;
  endfunction

  logic        init_q = 1'b1;
  logic        open_q;                  // a frame is being received
  logic [8:0]  n_q;                     // its bytes after SOF (saturating)
  logic [31:0] crc_q;                   // CRC-32C register over those bytes
  logic [7:0]  len_q, leninv_q, seq_q, cmd_q, tracked_q, tag_q;
  logic [7:0]  b4_q, b5_q;              // bytes 4 and 5 after SOF
  logic        hold_q;                  // verdict offered and not taken last cycle
  logic [7:0]  status_q, vseq_q, vcmd_q, vlen_q;
  logic        rd_check_q;              // last cycle offered StOk, read tag_i
  logic        byte_in;

  assign byte_in = rst_ni && in_valid_i;

  always_ff @(posedge clk_i) begin
    init_q     <= 1'b0;
    tag_q      <= tag_i;
    hold_q     <= rst_ni && frm_valid && !frm_ready_i;
    status_q   <= frm_status;
    vseq_q     <= frm_seq;
    vcmd_q     <= frm_cmd;
    vlen_q     <= frm_len;
    rd_check_q <= rst_ni && frm_valid && frm_status == StOk
                  && 32'(pl_raddr_i) == 32'(tag_i) && tag_i < frm_len;
    if (!rst_ni) begin
      open_q <= 1'b0;
    end else if (open_q) begin
      if (frm_valid) begin
        // Verdict on offer: bytes are dropped; the frame closes when taken.
        if (frm_ready_i) open_q <= 1'b0;
      end else if (byte_in) begin
        n_q     <= (n_q == '1) ? n_q : n_q + 1'b1;
        crc_q   <= crc32_step(crc_q, in_data_i);
        if (n_q == 9'd0) len_q    <= in_data_i;
        if (n_q == 9'd1) leninv_q <= in_data_i;
        if (n_q == 9'd2) seq_q    <= in_data_i;
        if (n_q == 9'd3) cmd_q    <= in_data_i;
        if (n_q == 9'd4) b4_q     <= in_data_i;
        if (n_q == 9'd5) b5_q     <= in_data_i;
        if (n_q == 9'd4 + 9'(tag_i)) tracked_q <= in_data_i;
      end
    end else if (!frm_valid && byte_in && in_data_i == Sof) begin
      open_q  <= 1'b1;
      n_q     <= '0;
      crc_q   <= 32'hFFFF_FFFF;
    end
  end

  always_comb begin
    assume (rst_ni == !init_q);
    if (!init_q) begin
      assume (tag_i == tag_q);
    end
  end

  ////////////////
  // Properties //
  ////////////////

  logic hdr_good, good_frame, v2_info_frame;
  assign hdr_good   = (n_q >= 9'd2) && (leninv_q == ~len_q);
  assign good_frame = (n_q == 9'(len_q) + 9'd8) && hdr_good && (crc_q == 32'hB798_B438)
                      && (32'(len_q) <= MaxPayload);
  // A version-2 INFO: six bytes after SOF, their CRC-16 residue zero.
  assign v2_info_frame = (n_q == 9'd6) && hdr_good && (len_q == 8'd0) && (cmd_q == CmdInfo)
                         && (crc16_step(crc16_step(crc16_step(crc16_step(crc16_step(crc16_step(
                             16'hFFFF, len_q), leninv_q), seq_q), cmd_q), b4_q), b5_q) == '0);

  always_comb begin
    if (!init_q) begin
      assert (in_ready);
      // A verdict belongs to a frame that was opened.
      if (frm_valid) begin
        assert (open_q);
      end
      // The verdict: StOk exactly for a good frame, with its fields, and
      // each NAK for exactly its reason.
      if (frm_valid && open_q) begin
        assert ((frm_status == StOk) == good_frame);
        if (n_q < 9'd2) begin
          assert (frm_status == NakTrunc);
        end else if (!hdr_good) begin
          assert (frm_status == NakCrc);
        end else if (32'(len_q) > MaxPayload) begin
          assert (frm_status == NakOversize);
        end else if (n_q < 9'(len_q) + 9'd8) begin
          assert (frm_status == (v2_info_frame ? RxV2Info : NakTrunc));
        end else begin
          assert (frm_status == (good_frame ? StOk : NakCrc));
        end
        if (frm_status == StOk) begin
          assert (frm_len == len_q && frm_seq == seq_q && frm_cmd == cmd_q);
        end
      end
      // Payload of an accepted frame, at the tracked index.
      if (rd_check_q && frm_valid) begin
        assert (pl_rdata == tracked_q);
      end
      // Verdict port: held until taken.
      if (hold_q) begin
        assert (frm_valid && frm_status == status_q && frm_seq == vseq_q
                && frm_cmd == vcmd_q && frm_len == vlen_q);
      end
    end
  end

  // CRC lemmas: the receiver's CRC register equals the shadow's
  // bit-serial one, and the two CRC bytes it keeps for the version-2 check
  // are the frame's. Proved (asserted) with the induction helpers; the
  // mutant runs (NO_HELPERS) assume them instead: they tie the two CRC
  // implementations byte by byte, which the solver cannot do across whole
  // frames in reasonable time, and no mutant touches these registers.
  logic crc_lemma, tail_lemma;
  assign crc_lemma  = !open_q || u_dut.crc_q == crc_q;
  assign tail_lemma = !(open_q && u_dut.state_q == 4'd6 && len_q == 8'd0 && n_q == 9'd6)
                      || u_dut.tail_q == {b4_q, b5_q};
  always_comb begin
    if (!init_q) begin
`ifdef NO_HELPERS
      assume (crc_lemma && tail_lemma);
`else
      assert (crc_lemma && tail_lemma);
`endif
    end
  end

`ifndef NO_HELPERS
  // Induction helpers (internal state, proved like the rest).
  logic [3:0] st;
  assign st = u_dut.state_q;

  always_comb begin
    if (!init_q) begin
      assert (st <= 4'd8);
      assert (frm_valid == (st == 4'd8));
      assert (u_dut.idle_q <= 2'(TimeoutClks));
      assert (open_q == (st != 4'd0));
      if (st == 4'd8 && frm_status == StOk) begin
        assert (good_frame && u_dut.len_q == len_q && u_dut.seq_q == seq_q && u_dut.cmd_q == cmd_q);
      end
      if (st == 4'd8) begin
        assert (frm_status == StOk || frm_status == NakCrc || frm_status == NakTrunc
                || frm_status == NakOversize || frm_status == RxV2Info);
      end
      if (st != 4'd0) begin
        assert (open_q && u_dut.crc_q == crc_q);
        if (st == 4'd1) assert (n_q == 9'd0);
        if (st == 4'd2) assert (n_q == 9'd1);
        if (st == 4'd3) assert (n_q == 9'd2);
        if (st == 4'd4) assert (n_q == 9'd3);
        if (n_q == 9'd0) assert (st == 4'd1 || st == 4'd8);
        if (n_q == 9'd1) assert (st == 4'd2 || st == 4'd8);
        if (n_q >= 9'd1) assert (u_dut.len_q == len_q);
        if (n_q < 9'd2) assert (!u_dut.hdr_bad_q && !u_dut.oversize_q);
        if (n_q >= 9'd2) assert (u_dut.hdr_bad_q == (leninv_q != ~len_q));
        if (n_q >= 9'd2) assert (u_dut.oversize_q == (hdr_good && 32'(len_q) > MaxPayload));
        if (n_q >= 9'd3 && !u_dut.hdr_bad_q) assert (u_dut.seq_q == seq_q);
        if (n_q >= 9'd4 && !u_dut.hdr_bad_q) assert (u_dut.cmd_q == cmd_q);
        if (st == 4'd7) begin
          assert (n_q >= 9'd2 && (u_dut.hdr_bad_q || (n_q >= 9'd4 && u_dut.oversize_q)));
        end
        if (st == 4'd5) begin
          assert (n_q >= 9'd4 && n_q < 9'd4 + 9'(len_q) && 9'(u_dut.cnt_q) == n_q - 9'd4);
        end
        if (st == 4'd6) begin
          assert (n_q >= 9'd4 + 9'(len_q) && n_q < 9'd8 + 9'(len_q)
                  && 9'(u_dut.cnt_q) == n_q - 9'd4 - 9'(len_q));
          if (len_q == 8'd0 && n_q == 9'd5) assert (u_dut.tail_q[7:0] == b4_q);
          if (len_q == 8'd0 && n_q == 9'd6) assert (u_dut.tail_q == {b4_q, b5_q});
        end
        if (st == 4'd3 || st == 4'd4) begin
          assert (!u_dut.hdr_bad_q);
        end
        if (st == 4'd5 || st == 4'd6) begin
          assert (!u_dut.hdr_bad_q && !u_dut.oversize_q);
        end
      end
      if (open_q && frm_valid) begin
        assert (u_dut.crc_q == crc_q || frm_status != StOk);
      end
      if (open_q && n_q > 9'd4 + 9'(tag_i) && tag_i < len_q && 32'(len_q) <= MaxPayload
          && !u_dut.hdr_bad_q) begin
        assert (u_dut.u_payload.mem_q[tag_i] == tracked_q);
      end
    end
  end
`endif

  // Reachability: an accepted frame with one payload byte, each NAK, and the
  // version-2 INFO.
  always_comb begin
    if (!init_q) begin
      cover (frm_valid && frm_status == StOk && frm_len == 8'd1);
      cover (frm_valid && frm_status == NakCrc);
      cover (frm_valid && frm_status == NakTrunc);
      cover (frm_valid && frm_status == NakOversize);
      cover (frm_valid && frm_status == RxV2Info);
    end
  end

endmodule
