// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Template implementations of the engine speed harnesses (bench.h). Included
// by the generated model translation units of the TLMM, conv and SoC builds
// (build.rs). Each loop is the
// per-cycle driver of the Rust benchmark (cosim/benches/speed/*.rs) written
// again in C++, with the same checksum: keep the two in step.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "hlsk-cosim/shim/bench.h"
#include "hlsk-cosim/shim/blocks_impl.h"
#include "hlsk-cosim/shim/soc_impl.h"
#include "hlsk-cosim/src/ffi.rs.h"

namespace hlsk {

// One step of the benchmarks' order-dependent checksum (FNV-1a style).
inline uint64_t bench_mix(uint64_t sum, uint64_t word) {
  return (sum ^ word) * 0x100000001b3ull;
}

inline void bench_check(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(what);
}

// TLMM engine: the command, activation and weight queues of `stim` are
// played round and round (every job complete, so the streams stay aligned),
// each producer valid when its gate bit allows (bit 0 command, 1
// activations, 2 weights), results taken when bit 3 is set.
template <class V>
uint64_t tlmm_bench(unsigned w_bits, uint32_t seed, uint32_t reset_cycles,
                    const TlmmBenchStim& stim, uint64_t cycles) {
  const size_t n_cmd = stim.cmd_m.size();
  const size_t n_act = stim.act_data.size();
  const size_t words = stim.w_words;
  bench_check(n_cmd > 0 && stim.cmd_k.size() == n_cmd && stim.cmd_flags.size() == n_cmd,
              "TLMM stimulus: command queue empty or ragged");
  bench_check(n_act > 0 && stim.act_last.size() == n_act, "TLMM stimulus: activation queue");
  bench_check(words > 0 && !stim.w_last.empty() && stim.w_data.size() == stim.w_last.size() * words,
              "TLMM stimulus: weight queue");
  bench_check(!stim.gates.empty(), "TLMM stimulus: no gates");
  const size_t n_w = stim.w_last.size();
  const size_t n_gate = stim.gates.size();
  TlmmImpl<V> dut(w_bits, seed, rust::Str());
  dut.reset(reset_cycles);
  size_t ci = 0, ai = 0, wi = 0, gi = 0;
  uint64_t sum = 0;
  for (uint64_t c = 0; c < cycles; ++c) {
    const uint8_t g = stim.gates[gi];
    gi = (gi + 1 == n_gate) ? 0 : gi + 1;
    TlmmIn in;
    in.cmd_valid = g & 1;
    in.cmd_m = stim.cmd_m[ci];
    in.cmd_k = stim.cmd_k[ci];
    in.cmd_flags = stim.cmd_flags[ci];
    in.act_valid = (g >> 1) & 1;
    in.act_data = stim.act_data[ai];
    in.act_last = stim.act_last[ai] != 0;
    in.w_valid = (g >> 2) & 1;
    in.w_last = stim.w_last[wi] != 0;
    in.res_ready = (g >> 3) & 1;
    const TlmmPins p =
        dut.step(in, rust::Slice<const uint32_t>(stim.w_data.data() + wi * words, words));
    if (in.cmd_valid && p.cmd_ready) ci = (ci + 1 == n_cmd) ? 0 : ci + 1;
    if (in.act_valid && p.act_ready) ai = (ai + 1 == n_act) ? 0 : ai + 1;
    if (in.w_valid && p.w_ready) wi = (wi + 1 == n_w) ? 0 : wi + 1;
    const bool res = in.res_ready && p.res_valid;
    const uint64_t word = (res ? uint64_t{p.res_data} : 0) ^ (uint64_t{p.status} << 32) ^
                          (uint64_t{res && p.res_last} << 40) ^ (uint64_t{p.cmd_ready} << 41) ^
                          (uint64_t{p.act_ready} << 42) ^ (uint64_t{p.w_ready} << 43) ^
                          (uint64_t{p.res_valid} << 44) ^ (uint64_t{p.busy} << 45) ^
                          (uint64_t{p.cnt_w_beats & 0xffffu} << 48);
    sum = bench_mix(sum, word);
  }
  if (dut.error()) throw std::runtime_error("TLMM bench: an RTL assertion failed");
  return sum;
}

// Conv engine: the descriptors of `stim` one after the other, round and
// round, on a copy of its memory image; the memory answers one burst at a
// time after `stim.wait` cycles. Gate bits: 0 holds a descriptor word back,
// 1 stalls the request, 2 stalls a data beat.
template <class V>
uint64_t conv_bench(unsigned beat_bits, uint32_t seed, uint32_t reset_cycles,
                    const ConvBenchStim& stim, uint64_t cycles) {
  constexpr size_t kDescWords = 12;
  const size_t t = beat_bits / 16;
  bench_check(!stim.desc.empty() && stim.desc.size() % kDescWords == 0,
              "conv stimulus: descriptors are not whole");
  bench_check(!stim.gates.empty(), "conv stimulus: no gates");
  const size_t n_desc = stim.desc.size() / kDescWords;
  const size_t n_gate = stim.gates.size();
  std::vector<int16_t> mem(stim.mem.begin(), stim.mem.end());
  ConvImpl<V> dut(beat_bits, seed, rust::Str());
  dut.reset(reset_cycles);
  size_t di = 0, sent = 0, gi = 0;
  bool open = false, write = false;
  size_t addr = 0, beats = 0;
  uint32_t wait = 0;
  uint64_t sum = 0;
  for (uint64_t c = 0; c < cycles; ++c) {
    const uint8_t g = stim.gates[gi];
    gi = (gi + 1 == n_gate) ? 0 : gi + 1;
    ConvIn in;
    in.desc_valid = sent < kDescWords && !(g & 1);
    in.desc_data = sent < kDescWords ? stim.desc[di * kDescWords + sent] : 0;
    in.req_ready = !open && !((g >> 1) & 1);
    in.rd_valid = false;
    in.rd_data = 0;
    in.rd_data_hi = 0;
    in.wr_ready = false;
    if (open && wait == 0 && !((g >> 2) & 1)) {
      if (write) {
        in.wr_ready = true;
      } else {
        bench_check(addr + t <= mem.size(), "conv bench: read burst outside the image");
        uint64_t d[2] = {0, 0};
        for (size_t k = 0; k < t; ++k)
          d[k / 4] |= uint64_t{static_cast<uint16_t>(mem[addr + k])} << (16 * (k % 4));
        in.rd_valid = true;
        in.rd_data = d[0];
        in.rd_data_hi = d[1];
      }
    }
    const ConvPins p = dut.step(in);
    if (in.desc_valid && p.desc_ready) ++sent;
    const bool wr = in.wr_ready && p.wr_valid;
    if (open) {
      if (wait > 0) {
        --wait;
      } else if (write && wr) {
        bench_check(addr + t <= mem.size(), "conv bench: write burst outside the image");
        for (size_t k = 0; k < t; ++k)
          mem[addr + k] = static_cast<int16_t>((k < 4 ? p.wr_data : p.wr_data_hi) >> (16 * (k % 4)));
        addr += t;
        --beats;
      } else if (!write && in.rd_valid && p.rd_ready) {
        addr += t;
        --beats;
      }
      if (beats == 0) open = false;
    }
    if (in.req_ready && p.req_valid) {
      bench_check(p.req_len != 0 && p.req_len % t == 0, "conv bench: request of part beats");
      open = true;
      write = p.req_write;
      addr = p.req_addr;
      beats = p.req_len / t;
      wait = stim.wait;
    }
    uint64_t word = wr ? p.wr_data ^ (p.wr_data_hi * 0x9e3779b97f4a7c15ull) : 0;
    word ^= (uint64_t{p.req_valid} << 63) ^ (uint64_t{p.desc_ready} << 62) ^
            (uint64_t{p.rd_ready} << 61) ^ (uint64_t{p.busy} << 60) ^ (uint64_t{p.done} << 59) ^
            (uint64_t{p.error} << 58);
    if (p.req_valid)
      word ^= (uint64_t{p.req_addr} << 20) ^ (uint64_t{p.req_write} << 57) ^ uint64_t{p.req_len};
    sum = bench_mix(sum, word);
    if (sent == kDescWords && p.done && !p.busy && !open) {
      sum = bench_mix(sum, uint64_t{p.cnt_cycles} | (uint64_t{p.cnt_fired} << 32));
      sum = bench_mix(sum, uint64_t{p.cnt_rd_words} | (uint64_t{p.cnt_wr_words} << 32));
      di = (di + 1 == n_desc) ? 0 : di + 1;
      sent = 0;
    }
  }
  if (dut.error()) throw std::runtime_error("conv bench: an RTL assertion failed");
  return sum;
}

// SoC: SocImpl::run over the whole rx line in one call, then the checksum
// of every cycle's tx level.
template <class V>
uint64_t soc_bench(bool btn_active_low, uint32_t seed, uint32_t reset_cycles,
                   rust::Slice<const uint8_t> rx) {
  SocImpl<V> dut(btn_active_low, seed, rust::Str());
  dut.reset(reset_cycles);
  std::vector<uint8_t> tx(rx.size());
  dut.run(rx, rust::Slice<uint8_t>(tx.data(), tx.size()));
  if (dut.error()) throw std::runtime_error("SoC bench: an RTL assertion failed");
  uint64_t sum = 0;
  for (uint8_t l : tx) sum = bench_mix(sum, l);
  return sum;
}

}  // namespace hlsk
