// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Memory port of the training-convolution engine, and the input
// prefetcher that shares it with the main machine (conv_ctrl).
//
// Port: one burst outstanding. A request (addr, len in 16-bit words,
// write) is followed by len/T data beats on the read or write stream; word
// i of a beat is bits [16i +: 16] (lowest address in the low bits).
//
// Prefetcher: as a step's compute starts (enter_compute_i, unless it is the
// descriptor's last step) it loads the next step's input tile (nx_in_i,
// one burst per channel tile) into the other input-buffer bank (pf_beat_o
// at pf_ptr_o). It owns the port until done (pf_busy_o): the main
// machine's requests wait for it. pf_have_o then says the other bank holds
// the next step's input, until that step starts (StStep) or a descriptor
// is checked (StCheck).
//
// Main machine: a request in StReq (bx_i, while the prefetcher is idle),
// its beats in StData; wr_phase_o says whether the phase writes, beat_o
// that one of its beats moves this cycle. Write data come from the unit
// that owns the phase (wr_data_o, combinational).

module conv_mem_port
  import conv_pkg::*;
#(
  parameter int unsigned T     = 2,
  // Derived; do not override.
  localparam int unsigned BeatW = 16 * T
) (
  input  logic             clk_i,
  input  logic             rst_ni,

  // Main machine
  input  state_e           state_i,
  input  phase_e           phase_i,
  /* verilator lint_off UNUSEDSIGNAL */
  input  tile_t            bx_i,            // the current burst (addr, beats)
  /* verilator lint_on UNUSEDSIGNAL */
  input  logic             enter_compute_i, // the step's compute starts
  input  logic             req_hold_i,      // StReq held (conv_ctrl): no request
  input  logic             step_last_i,
  input  tile_t            nx_in_i,         // the next step's input tile
  output logic             beat_o,
  output logic             wr_phase_o,

  // Prefetcher
  output logic             pf_busy_o,
  output logic             pf_have_o,
  output logic             pf_beat_o,
  output logic [31:0]      pf_ptr_o,

  // Write data of the phases
  input  logic [BeatW-1:0] drain_data_i,    // PhOut
  input  logic [BeatW-1:0] mw_data_i,       // PhMWr
  input  logic [BeatW-1:0] w16_data_i,      // PhW16
  input  logic [BeatW-1:0] cb_data_i,       // PhCWr

  // Descriptor stream ready
  output logic             desc_ready_o,

  // Memory request: (addr, len) in 16-bit words
  output logic             req_valid_o,
  input  logic             req_ready_i,
  output logic [31:0]      req_addr_o,
  output logic [31:0]      req_len_o,
  output logic             req_write_o,

  // Read data stream (memory -> engine)
  input  logic             rd_valid_i,
  output logic             rd_ready_o,

  // Write data stream (engine -> memory)
  output logic             wr_valid_o,
  input  logic             wr_ready_i,
  output logic [BeatW-1:0] wr_data_o
);

  localparam logic [31:0] T32 = 32'(T);

  ////////////////
  // Prefetcher //
  ////////////////

  // Prefetcher: the next step's input tile into the other input-buffer
  // bank, started as this step's compute starts; it owns the memory port
  // until done (the main transfers wait for it).
  typedef enum logic [1:0] {
    PfIdle,
    PfReq,
    PfData
  } pf_state_e;
  pf_state_e   pf_q, pf_d;
  tile_t       pf_t_q, pf_t_d;
  logic [31:0] pf_left_q, pf_left_d, pf_ptr_q, pf_ptr_d;
  logic        pf_have_q, pf_have_d;  // the other bank holds the next step's input
  logic        pf_beat;
  assign pf_beat = (pf_q == PfData) && rd_valid_i;

  always_comb begin
    pf_d        = pf_q;
    pf_t_d      = pf_t_q;
    pf_left_d   = pf_left_q;
    pf_ptr_d    = pf_ptr_q;
    pf_have_d   = pf_have_q;
    unique case (pf_q)
      PfIdle: begin
        if (enter_compute_i && !step_last_i) begin
          pf_d        = PfReq;
          pf_t_d      = nx_in_i;
          pf_ptr_d    = '0;
        end
      end
      PfReq: begin
        if (req_ready_i) begin
          pf_d      = PfData;
          pf_left_d = pf_t_q.beats;
        end
      end
      default: begin  // PfData
        if (pf_beat) begin
          pf_ptr_d  = pf_ptr_q + 1;
          pf_left_d = pf_left_q - 1;
          if (pf_left_q == 32'd1) begin
            pf_t_d.n    = pf_t_q.n - 1;
            pf_t_d.addr = pf_t_q.addr + pf_t_q.stride;
            if (pf_t_q.n != 32'd1) begin
              pf_d = PfReq;
            end else begin
              pf_d      = PfIdle;
              pf_have_d = 1'b1;
            end
          end
        end
      end
    endcase
    if (state_i == StCheck || (state_i == StStep && pf_have_q)) begin
      pf_have_d = 1'b0;
    end
  end

  assign pf_busy_o = pf_q != PfIdle;
  assign pf_have_o = pf_have_q;
  assign pf_beat_o = pf_beat;
  assign pf_ptr_o  = pf_ptr_q;

  /////////////////
  // Memory port //
  /////////////////

  assign wr_phase_o   = (phase_i == PhOut) || (phase_i == PhMWr) || (phase_i == PhW16) ||
                        (phase_i == PhCWr);
  assign req_valid_o  = (state_i == StReq && !pf_busy_o && !req_hold_i) || (pf_q == PfReq);
  assign req_addr_o   = pf_busy_o ? pf_t_q.addr : bx_i.addr;
  assign req_len_o    = (pf_busy_o ? pf_t_q.beats : bx_i.beats) * T32;
  assign req_write_o  = !pf_busy_o && wr_phase_o;
  assign rd_ready_o   = ((state_i == StData) && !wr_phase_o) || (pf_q == PfData);
  assign wr_valid_o   = (state_i == StData) && wr_phase_o;
  assign desc_ready_o = state_i == StIdle;

  assign beat_o = (state_i == StData) && (wr_phase_o ? wr_ready_i : rd_valid_i);

  always_comb begin
    unique case (phase_i)
      PhMWr:   wr_data_o = mw_data_i;
      PhW16:   wr_data_o = w16_data_i;
      PhCWr:   wr_data_o = cb_data_i;
      default: wr_data_o = drain_data_i;
    endcase
  end

  ///////////////
  // Registers //
  ///////////////

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      pf_q      <= PfIdle;
      pf_t_q    <= '0;
      pf_left_q <= '0;
      pf_ptr_q  <= '0;
      pf_have_q <= 1'b0;
    end else begin
      pf_q      <= pf_d;
      pf_t_q    <= pf_t_d;
      pf_left_q <= pf_left_d;
      pf_ptr_q  <= pf_ptr_d;
      pf_have_q <= pf_have_d;
    end
  end

  ////////////////
  // Assertions //
  ////////////////

  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (!(beat_o && !wr_phase_o && pf_beat))
        else $error("read data accepted for a burst and the prefetch in one cycle");
    end
  end

endmodule
