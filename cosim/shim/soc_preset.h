// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// C++ side of the kernel-preset SoC shim: hlsk_soc_top built with
// HostLink = 0 (the resource presets of `hlsk results`), seen from its
// pins and, because those pins only carry a parity, from a probe of the
// internal signals its contract speaks of. The model is verilated with
// --public-flat-rw (cosim/build.rs) so the shim can read them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "hlsk-cosim/shim/blocks.h"
#include "rust/cxx.h"

namespace hlsk {

class SocPresetDut : public DutBase {
 public:
  // As SocDut::reset: the button held `cycles` edges, rx idle high.
  virtual void reset(uint32_t cycles) = 0;
  // 64-bit words of probe per cycle (see run).
  virtual size_t probe_words() const = 0;
  // One cycle per element of rx: drives uart_rx_i with rx[i], samples
  // uart_tx_o into tx[i] and the probe into probe[i * probe_words() ..],
  // then clocks the edge. Probe words of a cycle:
  //   0: bit 0 rst_n, 1 bist_done, 2 res_valid, 3 res_last, 4 cmd_valid,
  //      5 act_valid, 6 w_valid, 7 res_ready (into the engine after the
  //      self-test/stimulus switch; act_valid before the activation slice),
  //      bits 32..63 res_data;
  //   1: eng_cnt_busy | eng_cnt_starved << 32;
  //   2: eng_cnt_blocked | eng_cnt_beats << 32;
  //   3..: the stimulus shift registers g_no_link.stim_q, bit 0 first.
  virtual void run(rust::Slice<const uint8_t> rx, rust::Slice<uint8_t> tx,
                   rust::Slice<uint64_t> probe) = 0;
  // led_o, as driven on the pins (board polarity).
  virtual uint32_t leds() const = 0;
};

std::unique_ptr<SocPresetDut> new_socpreset(size_t config, uint32_t seed, rust::Str trace);

}  // namespace hlsk
