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

// The pins every SoC build shares: the reset button (board polarity), rx
// idle high until driven, and the LEDs.
template <class Dut, class V>
class SocPinsImpl : public HarnessDut<Dut, V> {
 public:
  SocPinsImpl(bool btn_active_low, uint32_t seed, rust::Str trace)
      : HarnessDut<Dut, V>(seed, trace), pressed_(btn_active_low ? 0 : 1) {
    this->h_.top().rst_btn_i = !pressed_;
    this->h_.top().uart_rx_i = 1;
  }
  void reset(uint32_t cycles) override {
    this->h_.hold_reset(
        cycles,
        [this](V& t) {
          t.uart_rx_i = 1;
          // Release, then press: the press is an edge whatever the
          // X-randomised power-up level of the pin was, so the power-on
          // counter clears (and every register resets) before the first
          // clock edge, as on an FPGA whose registers power up to 0.
          t.rst_btn_i = !pressed_;
          t.eval();
          t.rst_btn_i = pressed_;
        },
        [this](V& t) { t.rst_btn_i = !pressed_; });
  }
  uint32_t leds() const override { return this->h_.top().led_o; }

 private:
  uint8_t pressed_;
};

template <class V>
class SocImpl final : public SocPinsImpl<SocDut, V> {
 public:
  using SocPinsImpl<SocDut, V>::SocPinsImpl;
  void run(rust::Slice<const uint8_t> rx, rust::Slice<uint8_t> tx) override {
    if (rx.size() != tx.size()) throw std::invalid_argument("rx and tx lengths differ");
    for (size_t i = 0; i < rx.size(); ++i) {
      tx[i] = this->h_.step([&](V& t) { t.uart_rx_i = rx[i] & 1; },
                            [](const V& t) { return static_cast<uint8_t>(t.uart_tx_o & 1); });
    }
  }
};

}  // namespace hlsk
