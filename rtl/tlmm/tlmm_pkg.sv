// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Shared constants and constant functions of the TLMM engines: weight-code
// geometry for a group size G, table entry widths, and the status layout.
// The arithmetic contract is in docs/tlmm.md; hls_rust::tlmm implements the
// same functions in Rust.

package tlmm_pkg;

  // Each importer uses only some of these constants; Verilator would flag
  // the rest as unused once per importing module.
  /* verilator lint_off UNUSEDPARAM */

  // Sticky status flags (status_o bit positions).
  typedef enum int unsigned {
    ErrKRange = 0,  // K > K_EXACT: results wrapped modulo 2^ACC_W
    ErrCode   = 1,  // an illegal weight code was looked up (as 0)
    ErrProto  = 2,  // a last flag was missing or in the wrong place
    ErrShape  = 3   // command rejected: M or K zero, K > KMax, unknown flag
  } status_bit_e;

  localparam int unsigned StatusW = 4;

  // Command flags.
  localparam int unsigned FlagClear   = 0;  // clear status and counters first
  localparam int unsigned FlagRequant = 1;  // requant stage: not built, rejected
  localparam int unsigned CmdFlagsW   = 8;
  localparam int unsigned CmdMW       = 24;
  localparam int unsigned CmdKW       = 24;

  // 3^g.
  function automatic int unsigned pow3(int unsigned g);
    int unsigned p = 1;
    for (int unsigned i = 0; i < g; i++) begin
      p = p * 3;
    end
    return p;
  endfunction

  // Number of table entries (legal idx values 0 .. (3^G-1)/2).
  function automatic int unsigned num_entries(int unsigned g);
    return (pow3(g) - 1) / 2 + 1;
  endfunction

  // Bits of the idx field of a code.
  function automatic int unsigned idx_bits(int unsigned g);
    return $clog2(num_entries(g));
  endfunction

  // Code width: sign bit above the idx field.
  function automatic int unsigned code_width(int unsigned g);
    return idx_bits(g) + 1;
  endfunction

  // Width of a table entry: |T[idx]| <= 128*G, signed.
  function automatic int unsigned entry_width(int unsigned g);
    return $clog2(128 * g) + 1;
  endfunction

  // Balanced-ternary digit `pos` (0 = least significant) of `idx`: -1, 0, 1.
  function automatic int bt_digit(int unsigned idx, int unsigned pos);
    int v;
    int d;
    v = int'(idx);
    d = 0;
    for (int unsigned j = 0; j <= pos; j++) begin
      if (v % 3 == 2) begin
        d = -1;
        v = (v + 1) / 3;
      end else begin
        d = v % 3;
        v = v / 3;
      end
    end
    return d;
  endfunction

  // Largest K whose exact results fit ACC_W bits: floor((2^(ACC_W-1)-1)/128).
  function automatic longint unsigned k_exact(int unsigned acc_w);
    return ((longint'(1) << (acc_w - 1)) - 1) / 128;
  endfunction

  // Levels of a lane's balanced adder tree over n leaves.
  function automatic int unsigned tree_levels(int unsigned n);
    return (n > 1) ? $clog2(n) : 0;
  endfunction

  // Whether tlmm_lane registers level l (0 = the leaves) of its tree over
  // n leaves: the leaves, every reg_every-th level and the last one.
  function automatic bit lane_reg_after(int unsigned l, int unsigned n,
                                        int unsigned reg_every);
    return (l == 0) || (l == tree_levels(n)) || (l % reg_every == 0);
  endfunction

  // Register stages of tlmm_lane over n leaves.
  function automatic int unsigned lane_latency(int unsigned n, int unsigned reg_every);
    int unsigned k;
    k = 0;
    for (int unsigned l = 0; l <= tree_levels(n); l++) begin
      if (lane_reg_after(l, n, reg_every)) begin
        k++;
      end
    end
    return k;
  endfunction

  /* verilator lint_on UNUSEDPARAM */

endpackage
