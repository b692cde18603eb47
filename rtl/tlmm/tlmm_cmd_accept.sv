// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Command register of the TLMM engines (tlmm_os_engine, tlmm_ts_engine).
//
// In the cycle a command moves (fire_i: valid and ready on the engine's
// command port), its M and K are registered together with the checks made
// on the port itself, so the engine acts on the command a cycle later from
// flip-flops alone (its StAccept state), with no comparator between the
// command port and the load's control:
// - ok_o:     the command is legal: M in 1..MMax (MMax = 0: any M the port
//             carries), K in 1..KMax, no flag but FlagClear;
// - clear_o:  FlagClear was set (status and counters are to be cleared);
// - krange_o: K beyond the exact range of AccW-bit accumulators
//             (tlmm_pkg::k_exact), results will wrap.
// The outputs hold until the next command moves.

module tlmm_cmd_accept
  import tlmm_pkg::*;
#(
  parameter int unsigned KMax = 256,
  parameter int unsigned MMax = 0,
  parameter int unsigned AccW = 24,
  // Derived; do not override.
  localparam int unsigned KW = $clog2(KMax + 1)
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,

  input  logic                 fire_i,
  input  logic [CmdMW-1:0]     m_i,
  input  logic [CmdKW-1:0]     k_i,
  input  logic [CmdFlagsW-1:0] flags_i,

  output logic [CmdMW-1:0]     m_o,
  output logic [KW-1:0]        k_o,
  output logic                 ok_o,
  output logic                 clear_o,
  output logic                 krange_o
);

  localparam longint unsigned KExact = k_exact(AccW);

  logic m_ok, ok;

  assign m_ok = (m_i != '0) && ((MMax == 0) || (64'(m_i) <= 64'(MMax)));
  assign ok   = m_ok && (k_i != '0) && (k_i <= CmdKW'(KMax)) && !flags_i[FlagRequant] &&
                (flags_i[CmdFlagsW-1:FlagRequant+1] == '0);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      m_o      <= '0;
      k_o      <= '0;
      ok_o     <= 1'b0;
      clear_o  <= 1'b0;
      krange_o <= 1'b0;
    end else if (fire_i) begin
      m_o      <= m_i;
      k_o      <= k_i[KW-1:0];
      ok_o     <= ok;
      clear_o  <= flags_i[FlagClear];
      krange_o <= (64'(k_i) > KExact);
    end
  end

endmodule
