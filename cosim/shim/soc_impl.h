// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Template implementation of the SoC-top shim (see soc.h). Included once
// per parameter set, after that set's Verilated model, by the generated
// model translation units (build.rs).
#pragma once

#include <stdexcept>

#include "hlsk-cosim/shim/blocks_impl.h"
#include "hlsk-cosim/shim/soc.h"

namespace hlsk {

template <class V>
class SocImpl final : public SocDut {
 public:
  SocImpl(bool btn_active_low, uint32_t seed, rust::Str trace)
      : h_(seed, trace), pressed_(btn_active_low ? 0 : 1) {
    h_.top().rst_btn_i = !pressed_;
    h_.top().uart_rx_i = 1;
  }
  uint64_t cycles() const override { return h_.cycles(); }
  bool error() const override { return h_.error(); }
  void reset(uint32_t cycles) override {
    V& t = h_.top();
    t.uart_rx_i = 1;
    // Release, then press: the press is an edge whatever the X-randomised
    // power-up level of the pin was, so the power-on counter clears (and
    // every register resets) before the first clock edge, as on an FPGA
    // whose registers power up to 0.
    t.rst_btn_i = !pressed_;
    t.eval();
    t.rst_btn_i = pressed_;
    t.eval();
    for (uint32_t i = 0; i < cycles; ++i) h_.cycle();
    t.rst_btn_i = !pressed_;
    t.eval();
  }
  void run(rust::Slice<const uint8_t> rx, rust::Slice<uint8_t> tx) override {
    if (rx.size() != tx.size()) throw std::invalid_argument("rx and tx lengths differ");
    V& t = h_.top();
    for (size_t i = 0; i < rx.size(); ++i) {
      t.uart_rx_i = rx[i] & 1;
      h_.settle();
      tx[i] = t.uart_tx_o & 1;
      h_.edge();
    }
  }
  uint32_t leds() const override { return h_.top().led_o; }

 private:
  Harness<V> h_;
  uint8_t pressed_;
};

}  // namespace hlsk
