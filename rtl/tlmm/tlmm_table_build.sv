// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Table builder: from one group of G int8 activations b0..b{G-1} (b0 = lowest
// k), every signed sum a group of G ternary weights can select:
// entry[idx] = sum_i digit_i(idx) * b_i, with digit_i the balanced-ternary
// digits of idx, most significant first (entry[1] = b{G-1}, entry[last] = sum).
// Purely combinational.

module tlmm_table_build
  import tlmm_pkg::*;
#(
  parameter int unsigned G = 3,
  // Derived; do not override.
  localparam int unsigned NE = num_entries(G),
  localparam int unsigned EW = entry_width(G)
) (
  input  logic [G*8-1:0]         acts_i,  // activation i at bits [8i +: 8]
  output logic signed [EW-1:0]   entry_o [NE]
);

  always_comb begin
    for (int unsigned e = 0; e < NE; e++) begin
      entry_o[e] = '0;
      for (int unsigned i = 0; i < G; i++) begin
        // Activation i weighs 3^(G-1-i): digit position G-1-i.
        if (bt_digit(e, G - 1 - i) == 1) begin
          entry_o[e] = entry_o[e] + EW'($signed(acts_i[8*i +: 8]));
        end else if (bt_digit(e, G - 1 - i) == -1) begin
          entry_o[e] = entry_o[e] - EW'($signed(acts_i[8*i +: 8]));
        end
      end
    end
  end

endmodule
