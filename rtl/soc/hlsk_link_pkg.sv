// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Host link protocol constants (docs/host-protocol.md): frame marker,
// command and status codes, and CRC-16/CCITT-FALSE. hlsk_host::proto in
// Rust defines the same values.

package hlsk_link_pkg;

  /* verilator lint_off UNUSEDPARAM */

  localparam logic [7:0] Sof     = 8'hA5;  // first byte of every frame
  localparam int unsigned Version = 2;     // protocol version (INFO)

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

  // Bytes of the fixed-size replies and of the TLMM and convolution descriptors.
  localparam int unsigned InfoLen   = 20;
  localparam int unsigned StatusLen = 52;
  localparam int unsigned TlmmDescLen = 12;
  localparam int unsigned ConvDescLen = 48;  // Descriptor::encode, 12 words
  localparam int unsigned NumCounters = 10;  // 16-bit counters in STATUS

  // CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, MSB first, no final xor):
  // the CRC register after `data`. Running it over a frame followed by its
  // CRC (high byte first) leaves 0.
  function automatic logic [15:0] crc16_byte(logic [15:0] crc, logic [7:0] data);
    logic [15:0] c;
    c = crc ^ {data, 8'h00};
    for (int i = 0; i < 8; i++) begin
      c = c[15] ? ((c << 1) ^ 16'h1021) : (c << 1);
    end
    return c;
  endfunction

  /* verilator lint_on UNUSEDPARAM */

endpackage
