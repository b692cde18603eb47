// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// One output lane of the TLMM engine, pipelined: the T weight codes of a beat
// become signed leaves, which a balanced adder tree sums.
//
// Leaves, by `Direct`:
//   0: table lookup, one leaf per code: +-table_i[t][idx_t] (tables built by
//      tlmm_table_build from the chunk's activations);
//   1: decoded, G leaves per code: the code's balanced-ternary digits
//      (negated by its sign) select +-act or 0 for each of its G activations
//      directly; table_i is unused.
// Both give the same sum: table[t][idx] is by definition the digit-weighted
// sum of the group's activations.
//
// Contract: the lane's value for the inputs presented in cycle c is
//   sum_o + cin_o  (= sum over t of sign_t ? -table[t][idx_t] : table[t][idx_t])
// in cycle c + lane_latency(leaves, RegEvery) (tlmm_pkg). The registers run
// freely (no enable, no reset): the engine tracks validity. An illegal idx
// (idx >= NE) contributes 0 and raises illegal_o with the sum.
//
// Negation is one's complement: -v = ~v + 1. Each leaf is inverted by its
// sign, and the "+1"s are carried: every adder of the tree adds one pending
// sign as its carry-in and passes the other on, so the root still owes
// exactly one, which leaves as cin_o (the engine's accumulator takes it as
// its carry-in). No adder is spent on negation. Registers: after the leaves,
// then after every RegEvery-th tree level and the last.

module tlmm_lane
  import tlmm_pkg::*;
#(
  parameter int unsigned G        = 3,
  parameter int unsigned T        = 1,
  parameter int unsigned Direct   = 0,
  parameter int unsigned RegEvery = 2,
  // Derived; do not override.
  localparam int unsigned NE = num_entries(G),
  localparam int unsigned EW = entry_width(G),
  localparam int unsigned IB = idx_bits(G),
  localparam int unsigned CW = code_width(G),
  localparam int unsigned NL = (Direct != 0) ? G * T : T,   // leaves
  localparam int unsigned LW = (Direct != 0) ? 8 : EW,      // leaf width
  localparam int unsigned L  = tree_levels(NL),
  localparam int unsigned SW = EW + 1 + $clog2(T)
) (
  input  logic                   clk_i,
  input  logic [T*CW-1:0]        codes_i,          // code t at [t*CW +: CW]
  input  logic signed [EW-1:0]   table_i [T][NE],  // tables (Direct = 0)
  input  logic [8*G*T-1:0]       acts_i,           // activation j at [8j +: 8] (Direct = 1)
  output logic signed [SW-1:0]   sum_o,
  output logic                   cin_o,
  output logic                   illegal_o
);

  // Level l of the tree holds nodes(l) values of LW + l bits, each with one
  // pending sign; level 0 are the (inverted) leaves.
  function automatic int unsigned nodes(int unsigned l);
    return (NL + (1 << l) - 1) >> l;
  endfunction

  for (genvar l = 0; l <= L; l++) begin : g_lvl
    localparam int unsigned N = nodes(l);
    logic signed [LW+l-1:0] v_d [N];
    logic                   s_d [N];
    logic                   ill_d;
    logic signed [LW+l-1:0] v [N];   // level output (registered or not)
    logic                   s [N];
    logic                   ill;

    if (l == 0 && Direct != 0) begin : g_digits
      always_comb begin
        ill_d = 1'b0;
        for (int unsigned t = 0; t < T; t++) begin
          logic [IB-1:0] idx;
          logic          sign;
          idx  = codes_i[t*CW +: IB];
          sign = codes_i[t*CW + IB];
          if (32'(idx) >= NE) begin
            ill_d = 1'b1;
          end
          for (int unsigned i = 0; i < G; i++) begin
            // Digit of activation i (weight 3^(G-1-i)), sign applied; an
            // illegal idx matches no entry and selects 0.
            logic nz, neg;
            nz  = 1'b0;
            neg = 1'b0;
            for (int unsigned e = 0; e < NE; e++) begin
              if (32'(idx) == e && bt_digit(e, G - 1 - i) != 0) begin
                nz  = 1'b1;
                neg = (bt_digit(e, G - 1 - i) < 0) ^ sign;
              end
            end
            s_d[t*G+i] = neg;
            v_d[t*G+i] = !nz ? '0 :
                         neg ? ~acts_i[8*(t*G+i) +: 8] : acts_i[8*(t*G+i) +: 8];
          end
        end
      end
    end else if (l == 0) begin : g_lookup
      always_comb begin
        ill_d = 1'b0;
        for (int unsigned t = 0; t < T; t++) begin
          logic [IB-1:0]        idx;
          logic signed [EW-1:0] val;
          idx  = codes_i[t*CW +: IB];
          val  = '0;
          if (32'(idx) < NE) begin
            val = table_i[t][idx];
          end else begin
            ill_d = 1'b1;
          end
          s_d[t] = codes_i[t*CW + IB];
          v_d[t] = s_d[t] ? ~val : val;
        end
      end
    end else begin : g_add
      always_comb begin
        ill_d = g_lvl[l-1].ill;
        for (int unsigned j = 0; j < N; j++) begin
          if (2 * j + 1 < nodes(l - 1)) begin
            // Sign of the left child paid here; the right child's passes on.
            v_d[j] = (LW + l)'(g_lvl[l-1].v[2*j]) + (LW + l)'(g_lvl[l-1].v[2*j+1]) +
                     (LW + l)'(g_lvl[l-1].s[2*j]);
            s_d[j] = g_lvl[l-1].s[2*j+1];
          end else begin
            v_d[j] = (LW + l)'(g_lvl[l-1].v[2*j]);
            s_d[j] = g_lvl[l-1].s[2*j];
          end
        end
      end
    end

    if (lane_reg_after(l, NL, RegEvery)) begin : g_reg
      always_ff @(posedge clk_i) begin
        v   <= v_d;
        s   <= s_d;
        ill <= ill_d;
      end
    end else begin : g_wire
      assign v   = v_d;
      assign s   = s_d;
      assign ill = ill_d;
    end
  end

  assign sum_o     = SW'(g_lvl[L].v[0]);
  assign cin_o     = g_lvl[L].s[0];
  assign illegal_o = g_lvl[L].ill;

  // The unused input of each variant.
  if (Direct != 0) begin : g_no_table
    logic unused_table;
    always_comb begin
      unused_table = 1'b0;
      for (int unsigned t = 0; t < T; t++) begin
        for (int unsigned e = 0; e < NE; e++) begin
          unused_table ^= ^table_i[t][e];
        end
      end
    end
  end else begin : g_no_acts
    logic unused_acts;
    assign unused_acts = ^acts_i;
  end

endmodule
