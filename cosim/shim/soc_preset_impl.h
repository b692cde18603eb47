// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Template implementation of the kernel-preset SoC shim (see
// soc_preset.h), included after a HostLink = 0 build of hlsk_soc_top
// verilated with --public-flat-rw.
#pragma once

#include <stdexcept>

#include "hlsk-cosim/shim/blocks_impl.h"
#include "hlsk-cosim/shim/soc_impl.h"
#include "hlsk-cosim/shim/soc_preset.h"

namespace hlsk {

// 64-bit words of a signal, and the signal into them (bit 0 first).
template <class S>
constexpr std::size_t words64(const S&) {
  return 1;
}
template <std::size_t N>
constexpr std::size_t words64(const VlWide<N>&) {
  return (N + 1) / 2;
}
template <class S>
inline void put64(const S& s, uint64_t* out) {
  out[0] = static_cast<uint64_t>(s);
}
template <std::size_t N>
inline void put64(const VlWide<N>& s, uint64_t* out) {
  for (std::size_t w = 0; w < (N + 1) / 2; ++w) out[w] = 0;
  for (std::size_t w = 0; w < N; ++w) out[w / 2] |= uint64_t{s[w]} << (32 * (w % 2));
}

template <class V>
class SocPresetImpl final : public SocPinsImpl<SocPresetDut, V> {
 public:
  using SocPinsImpl<SocPresetDut, V>::SocPinsImpl;
  size_t probe_words() const override {
    return 3 + words64(this->h_.top().rootp->hlsk_soc_top__DOT__g_no_link__DOT__stim_q);
  }
  void run(rust::Slice<const uint8_t> rx, rust::Slice<uint8_t> tx,
           rust::Slice<uint64_t> probe) override {
    const std::size_t pw = probe_words();
    if (rx.size() != tx.size() || probe.size() != rx.size() * pw) {
      throw std::invalid_argument("rx, tx and probe lengths differ");
    }
    for (std::size_t i = 0; i < rx.size(); ++i) {
      uint64_t* p = probe.data() + i * pw;
      tx[i] = this->h_.step([&](V& t) { t.uart_rx_i = rx[i] & 1; },
                            [&](const V& t) {
                              const auto* r = t.rootp;
                              p[0] = uint64_t{r->hlsk_soc_top__DOT__rst_n & 1u} |
                                     uint64_t{r->hlsk_soc_top__DOT__bist_done & 1u} << 1 |
                                     uint64_t{r->hlsk_soc_top__DOT__res_valid & 1u} << 2 |
                                     uint64_t{r->hlsk_soc_top__DOT__res_last & 1u} << 3 |
                                     uint64_t{r->hlsk_soc_top__DOT__cmd_valid & 1u} << 4 |
                                     uint64_t{r->hlsk_soc_top__DOT__act_valid & 1u} << 5 |
                                     uint64_t{r->hlsk_soc_top__DOT__w_valid & 1u} << 6 |
                                     uint64_t{r->hlsk_soc_top__DOT__res_ready & 1u} << 7 |
                                     uint64_t{r->hlsk_soc_top__DOT__res_data} << 32;
                              p[1] = uint64_t{r->hlsk_soc_top__DOT__eng_cnt_busy} |
                                     uint64_t{r->hlsk_soc_top__DOT__eng_cnt_starved} << 32;
                              p[2] = uint64_t{r->hlsk_soc_top__DOT__eng_cnt_blocked} |
                                     uint64_t{r->hlsk_soc_top__DOT__eng_cnt_beats} << 32;
                              put64(r->hlsk_soc_top__DOT__g_no_link__DOT__stim_q, p + 3);
                              return static_cast<uint8_t>(t.uart_tx_o & 1);
                            });
    }
  }
};

}  // namespace hlsk
