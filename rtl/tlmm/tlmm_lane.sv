// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// One output lane of the TLMM engine: T table lookups (one per weight code),
// conditional negation by the code's sign, and an adder tree. An illegal idx
// looks up 0 and raises illegal_o. Purely combinational; the engine registers
// the result.

module tlmm_lane
  import tlmm_pkg::*;
#(
  parameter int unsigned G = 3,
  parameter int unsigned T = 1,
  // Derived; do not override.
  localparam int unsigned NE = num_entries(G),
  localparam int unsigned EW = entry_width(G),
  localparam int unsigned IB = idx_bits(G),
  localparam int unsigned CW = code_width(G),
  localparam int unsigned SW = EW + 1 + $clog2(T)
) (
  input  logic [T*CW-1:0]        codes_i,          // code t at [t*CW +: CW]
  input  logic signed [EW-1:0]   table_i [T][NE],  // tables of the T groups
  output logic signed [SW-1:0]   sum_o,
  output logic                   illegal_o
);

  always_comb begin
    sum_o     = '0;
    illegal_o = 1'b0;
    for (int unsigned t = 0; t < T; t++) begin
      logic [IB-1:0]          idx;
      logic                   sign;
      logic signed [EW:0]     val;
      idx  = codes_i[t*CW +: IB];
      sign = codes_i[t*CW + IB];
      val  = '0;
      if (32'(idx) < NE) begin
        val = (EW + 1)'(table_i[t][idx]);
      end else begin
        illegal_o = 1'b1;
      end
      sum_o = sign ? sum_o - SW'(val) : sum_o + SW'(val);
    end
  end

endmodule
