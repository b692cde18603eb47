// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// C++ side of the SoC-top shim (the digital twin): the whole hlsk_soc_top,
// seen from its pins. The twin runs many cycles per call (the UART line is
// one level per cycle), so the per-cycle work stays in C++.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "hlsk-cosim/shim/blocks.h"
#include "rust/cxx.h"

namespace hlsk {

class SocDut : public DutBase {
 public:
  // Holds the reset button pressed for `cycles` edges (rx idle high), then
  // releases it; the SoC's own power-on counter then runs from there.
  virtual void reset(uint32_t cycles) = 0;
  // One cycle per element: drives uart_rx_i with rx[i] (0 or 1), then
  // stores the uart_tx_o level of that cycle in tx[i] (0 or 1) and clocks
  // the edge. rx and tx have the same length.
  virtual void run(rust::Slice<const uint8_t> rx, rust::Slice<uint8_t> tx) = 0;
  // led_o, as driven on the pins (board polarity).
  virtual uint32_t leds() const = 0;
};

std::unique_ptr<SocDut> new_soc(size_t config, uint32_t seed, rust::Str trace);

}  // namespace hlsk
