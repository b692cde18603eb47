// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Host link protocol constants (docs/host-protocol.md): frame marker,
// command and status codes, the frame check CRC-32C (and, to answer an
// old host's INFO, the CRC-16 of protocol version 2). hlsk_host::proto in
// Rust defines the same values.

package hlsk_link_pkg;

  /* verilator lint_off UNUSEDPARAM */

  localparam logic [7:0] Sof     = 8'hA5;  // first byte of every frame
  localparam int unsigned Version = 3;     // protocol version (INFO)

  // Commands (host -> device).
  localparam logic [7:0] CmdInfo      = 8'h01;  // device parameters
  localparam logic [7:0] CmdWrite     = 8'h02;  // addr16, words...
  localparam logic [7:0] CmdRead      = 8'h03;  // addr16, count8
  localparam logic [7:0] CmdTlmmStart = 8'h04;  // TLMM job descriptor
  localparam logic [7:0] CmdStatus    = 8'h05;  // status and counters
  localparam logic [7:0] CmdConvStart = 8'h10;  // convolution descriptor (12 words)

  // Response status (device -> host, in the command byte's place).
  localparam logic [7:0] StOk        = 8'h00;  // executed
  localparam logic [7:0] StDup       = 8'h01;  // repeat of the last executed frame: not re-executed
  localparam logic [7:0] NakCrc      = 8'h80;  // CRC mismatch
  localparam logic [7:0] NakTrunc    = 8'h81;  // inter-byte timeout inside a frame
  localparam logic [7:0] NakOversize = 8'h82;  // length above the device's maximum
  localparam logic [7:0] NakUnknown  = 8'h83;  // unknown or reserved command
  localparam logic [7:0] NakBadArg   = 8'h84;  // malformed payload or out-of-range argument
  localparam logic [7:0] NakBusy     = 8'h85;  // a job is running

  // Verdict of hlsk_frame_rx and header status for hlsk_frame_tx, never on
  // the wire: a protocol-version-2 INFO frame (CRC-16). hlsk_soc_ctrl
  // answers it with the INFO reply in version-2 framing (status StOk,
  // CRC-16), so that an old host reads version 3 and refuses the device
  // with its own version check.
  localparam logic [7:0] RxV2Info    = 8'h7F;

  // Bytes of the fixed-size replies and of the TLMM and convolution descriptors.
  localparam int unsigned InfoLen   = 20;
  localparam int unsigned StatusLen = 52;
  localparam int unsigned TlmmDescLen = 12;
  localparam int unsigned ConvDescLen = 48;  // Descriptor::encode, 12 words
  localparam int unsigned NumCounters = 10;  // 16-bit counters in STATUS

  // Frame check: CRC-32C (Castagnoli; poly 0x1EDC6F41 reflected 0x82F63B78,
  // init 0xFFFFFFFF, LSB first, final xor 0xFFFFFFFF; check value
  // 0xE3069283), sent as its four bytes, low byte first. crc32c_byte is
  // the register (before the final xor) after `data`; running it over a
  // frame's LEN..PAYLOAD and then its CRC bytes leaves Crc32cResidue.
  localparam logic [31:0] Crc32cInit    = 32'hFFFF_FFFF;
  localparam logic [31:0] Crc32cResidue = 32'hB798_B438;
  localparam int unsigned CrcBytes      = 4;

  function automatic logic [31:0] crc32c_byte(logic [31:0] crc, logic [7:0] data);
    logic [31:0] c;
    c = crc ^ {24'h0, data};
    for (int i = 0; i < 8; i++) begin
      c = c[0] ? ((c >> 1) ^ 32'h82F6_3B78) : (c >> 1);
    end
    return c;
  endfunction

  // The residue check of a frame's last byte without its CRC update:
  // crc32c_byte(crc, b) = (crc >> 8) ^ T[crc[7:0] ^ b] with T[i] =
  // crc32c_byte(0, i), and the top bytes of the 256 entries T[i] are all
  // different, so crc32c_byte(crc, b) == Crc32cResidue exactly when
  // crc[7:0] ^ b is the one index whose entry's top byte is the residue's
  // (Crc32cLastIdx) and crc[31:8] is the residue's low 24 bits xor that
  // entry's (Crc32cLastHigh): a compare of the register with a constant
  // and an 8-bit compare, in parallel (hlsk_frame_rx's verdict).
  function automatic logic [7:0] crc32c_last_idx();
    for (int i = 0; i < 256; i++) begin
      if (crc32c_byte(32'h0, 8'(i)) >> 24 == Crc32cResidue >> 24) begin
        return 8'(i);
      end
    end
    return 8'h00;
  endfunction

  localparam logic [7:0]  Crc32cLastIdx  = crc32c_last_idx();
  localparam logic [23:0] Crc32cLastHigh = 24'(Crc32cResidue ^ crc32c_byte(32'h0, Crc32cLastIdx));

  // Protocol version 2's check, CRC-16/CCITT-FALSE (poly 0x1021, init
  // 0xFFFF, MSB first, no final xor; high byte first on the wire): only to
  // recognize an old host's INFO and to answer it (RxV2Info).
  localparam logic [15:0] Crc16Init = 16'hFFFF;

  function automatic logic [15:0] crc16_byte(logic [15:0] crc, logic [7:0] data);
    logic [15:0] c;
    c = crc ^ {data, 8'h00};
    for (int i = 0; i < 8; i++) begin
      c = c[15] ? ((c << 1) ^ 16'h1021) : (c << 1);
    end
    return c;
  endfunction

  // The CRC-16 a version-2 INFO frame (LEN 0, ~LEN, SEQ `seq`, CMD INFO)
  // ends with: a function of `seq` alone.
  function automatic logic [15:0] crc16_v2_info(logic [7:0] seq);
    return crc16_byte(crc16_byte(crc16_byte(crc16_byte(Crc16Init, 8'h00), 8'hFF), seq),
                      CmdInfo);
  endfunction

  /* verilator lint_on UNUSEDPARAM */

endpackage
