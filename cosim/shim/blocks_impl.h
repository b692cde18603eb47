// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Template implementations of the block shims. Included once per parameter
// set, after that set's Verilated model, by the generated model translation
// units (see build.rs).
#pragma once

#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "hlsk-cosim/shim/blocks.h"
#include "hlsk-cosim/src/ffi.rs.h"
#include "verilated.h"
#if HLSK_TRACE
#include "verilated_fst_c.h"
#endif
#if HLSK_COVERAGE
#include "hlsk-cosim/shim/coverage.h"
#endif

namespace hlsk {

// Mask of the low `width` bits (1..64).
constexpr uint64_t width_mask(unsigned width) {
  return width >= 64 ? ~uint64_t{0} : ((uint64_t{1} << width) - 1);
}

// A data port of up to 128 bits from two 64-bit halves (lo: bits 0..63),
// masked to the port's `width` bits, and back: plain integers (up to 64
// bits) or Verilator's VlWide (32-bit words).
template <class Port>
inline void set_wide(Port& port, uint64_t lo, uint64_t, unsigned width) {
  port = lo & width_mask(width);
}
template <std::size_t N>
inline void set_wide(VlWide<N>& port, uint64_t lo, uint64_t hi, unsigned width) {
  for (std::size_t w = 0; w < N; ++w) {
    const uint64_t half = w < 2 ? lo : hi;
    uint32_t v = static_cast<uint32_t>(half >> (32 * (w % 2)));
    const unsigned lsb = 32 * static_cast<unsigned>(w);
    if (width < lsb + 32) v &= width > lsb ? (uint32_t{1} << (width - lsb)) - 1 : 0;
    port[w] = v;
  }
}
template <class Port>
inline void get_wide(const Port& port, uint64_t& lo, uint64_t& hi) {
  lo = port;
  hi = 0;
}
template <std::size_t N>
inline void get_wide(const VlWide<N>& port, uint64_t& lo, uint64_t& hi) {
  uint64_t h[2] = {0, 0};
  for (std::size_t w = 0; w < N && w < 4; ++w) h[w / 2] |= uint64_t{port[w]} << (32 * (w % 2));
  lo = h[0];
  hi = h[1];
}

// Verilator's random state is reseeded from the current thread's context
// when any context's seed changes; constructing models one at a time keeps
// the X-randomised power-up state a pure function of the seed.
inline std::mutex& construct_mutex() {
  static std::mutex m;
  return m;
}

// One Verilated model in its own VerilatedContext, with X-randomised
// power-up state from `seed`, an optional FST trace, and a clock.
template <class V>
class Harness {
 public:
  Harness(uint32_t seed, rust::Str trace) {
    {
      std::lock_guard<std::mutex> guard(construct_mutex());
      ctx_ = std::make_unique<VerilatedContext>();
      ctx_->fatalOnError(false);
      ctx_->randReset(2);
      // Seed 0 would mean "from the clock": map seeds onto 1..2^31-1.
      ctx_->randSeed(static_cast<int>(seed % 0x7ffffffeu) + 1);
      if (!trace.empty()) {
#if HLSK_TRACE
        ctx_->traceEverOn(true);
#else
        throw std::runtime_error(
            "waveform requested but hlsk-cosim was built without tracing; "
            "rebuild with `--features trace`");
#endif
      }
      Verilated::threadContextp(ctx_.get());
      top_ = std::make_unique<V>(ctx_.get(), "TOP");
    }
#if HLSK_COVERAGE
    if (CoverageSink* sink = CoverageSink::get()) sink->attach(ctx_.get());
#endif
#if HLSK_TRACE
    if (!trace.empty()) {
      fst_ = std::make_unique<VerilatedFstC>();
      top_->trace(fst_.get(), 99);
      fst_->open(std::string(trace).c_str());
    }
#endif
    top_->clk_i = 0;
    top_->eval();
  }

  ~Harness() {
    // Verilator finds "the" context through a thread-local pointer, which
    // may point at another model's (possibly destroyed) context by now.
    Verilated::threadContextp(ctx_.get());
#if HLSK_TRACE
    if (fst_) fst_->close();
#endif
#if HLSK_COVERAGE
    if (CoverageSink* sink = CoverageSink::get()) sink->detach(ctx_.get());
#endif
    top_->final();
    top_.reset();
    Verilated::threadContextp(nullptr);
  }

  V& top() { return *top_; }
  const V& top() const { return *top_; }
  uint64_t cycles() const { return cycles_; }
  bool error() const { return ctx_->gotError(); }

  // Low clock phase: lets the inputs already set on top() propagate, so
  // that outputs read now are the ones a handshake sees in this cycle
  // (combinational paths included).
  inline void settle() {
    // See ~Harness: X assignments draw from the thread's current context.
    Verilated::threadContextp(ctx_.get());
    top_->clk_i = 0;
    top_->eval();
    dump(2 * cycles_);
  }

  // The rising edge that ends the cycle.
  inline void edge() {
    top_->clk_i = 1;
    top_->eval();
    dump(2 * cycles_ + 1);
    ++cycles_;
  }

  inline void cycle() {
    settle();
    edge();
  }

  // One cycle as every shim's step() applies it: `drive(top())` sets the
  // inputs, they settle, `sample(top())` reads the outputs of this cycle,
  // then the rising edge. Returns what `sample` returned.
  template <class Drive, class Sample>
  inline auto step(Drive&& drive, Sample&& sample) {
    drive(*top_);
    settle();
    auto out = sample(std::as_const(*top_));
    edge();
    return out;
  }

  // A reset: `press(top())` asserts the reset input (other inputs idle),
  // the model evaluates, `cycles` edges pass, then `release(top())` and
  // the model evaluates again.
  template <class Press, class Release>
  void hold_reset(uint32_t cycles, Press&& press, Release&& release) {
    press(*top_);
    top_->eval();
    for (uint32_t i = 0; i < cycles; ++i) cycle();
    release(*top_);
    top_->eval();
  }

  // The blocks' reset: active-low rst_ni held for `cycles` edges, with
  // `idle(top())` setting the other inputs idle first.
  template <class Idle>
  void reset(uint32_t cycles, Idle&& idle) {
    hold_reset(
        cycles,
        [&](V& t) {
          idle(t);
          t.rst_ni = 0;
        },
        [](V& t) { t.rst_ni = 1; });
  }

 private:
  inline void dump(uint64_t t) {
#if HLSK_TRACE
    if (fst_) fst_->dump(t);
#else
    (void)t;
#endif
  }

  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<V> top_;
#if HLSK_TRACE
  std::unique_ptr<VerilatedFstC> fst_;
#endif
  uint64_t cycles_ = 0;
};

// A shim over one Harness: the queries of DutBase answered by it, so that a
// block's shim states only its pins.
template <class Dut, class V>
class HarnessDut : public Dut {
 public:
  HarnessDut(uint32_t seed, rust::Str trace) : h_(seed, trace) {}
  uint64_t cycles() const final { return h_.cycles(); }
  bool error() const final { return h_.error(); }

 protected:
  Harness<V> h_;
};

// The stream blocks (FIFO, skid buffer): the same inputs, each its own
// outputs, read by `Read`.
template <class Dut, class Pins, class V, Pins (*Read)(const V&)>
class StreamImpl final : public HarnessDut<Dut, V> {
 public:
  StreamImpl(unsigned width, uint32_t seed, rust::Str trace)
      : HarnessDut<Dut, V>(seed, trace), mask_(width_mask(width)) {}
  void reset(uint32_t cycles) override {
    this->h_.reset(cycles, [](V& t) {
      t.in_valid_i = 0;
      t.out_ready_i = 0;
    });
  }
  Pins step(const StreamStepIn& in) override {
    return this->h_.step(
        [&](V& t) {
          t.in_valid_i = in.in_valid;
          t.in_data_i = in.in_data & mask_;
          t.out_ready_i = in.out_ready;
        },
        Read);
  }
  Pins pins() const override { return Read(this->h_.top()); }

 private:
  uint64_t mask_;
};

template <class V>
FifoPins fifo_pins(const V& t) {
  FifoPins p;
  p.in_ready = t.in_ready_o;
  p.out_valid = t.out_valid_o;
  p.out_data = t.out_data_o;
  p.full = t.full_o;
  p.empty = t.empty_o;
  p.level = t.level_o;
  return p;
}

template <class V>
SkidPins skid_pins(const V& t) {
  SkidPins p;
  p.in_ready = t.in_ready_o;
  p.out_valid = t.out_valid_o;
  p.out_data = t.out_data_o;
  return p;
}

template <class V>
using FifoImpl = StreamImpl<FifoDut, FifoPins, V, fifo_pins<V>>;
template <class V>
using SkidImpl = StreamImpl<SkidDut, SkidPins, V, skid_pins<V>>;

template <class V>
class RamImpl final : public HarnessDut<RamDut, V> {
 public:
  RamImpl(unsigned width, unsigned depth, uint32_t seed, rust::Str trace)
      : HarnessDut<RamDut, V>(seed, trace),
        mask_(width_mask(width)),
        addr_mask_(width_mask(depth > 1 ? 64 - __builtin_clzll(uint64_t{depth} - 1) : 1)) {}
  uint64_t step(const RamStepIn& in) override {
    return this->h_.step(
        [&](V& t) {
          t.we_i = in.we;
          t.waddr_i = in.waddr & addr_mask_;
          t.wdata_i = in.wdata & mask_;
          t.re_i = in.re;
          t.raddr_i = in.raddr & addr_mask_;
        },
        [](const V& t) -> uint64_t { return t.rdata_o; });
  }
  uint64_t rdata() const override { return this->h_.top().rdata_o; }

 private:
  uint64_t mask_;
  uint64_t addr_mask_;
};

// Drives a port of `width` bits from little-endian 32-bit words (missing
// words are zero, bits above the width are dropped): integral ports...
template <class P>
inline void set_port_words(P& port, rust::Slice<const uint32_t> w, unsigned width) {
  uint64_t v = 0;
  if (w.size() > 0) v = w[0];
  if (w.size() > 1) v |= uint64_t{w[1]} << 32;
  port = static_cast<P>(v & width_mask(width));
}

// ... and wide ports.
template <std::size_t N>
inline void set_port_words(VlWide<N>& port, rust::Slice<const uint32_t> w, unsigned width) {
  for (std::size_t i = 0; i < N; ++i) {
    uint32_t word = i < w.size() ? w[i] : 0;
    const unsigned lo = static_cast<unsigned>(i) * 32;
    if (lo + 32 > width) word &= width > lo ? static_cast<uint32_t>(width_mask(width - lo)) : 0;
    port[i] = word;
  }
}

template <class V>
class TlmmImpl final : public HarnessDut<TlmmDut, V> {
 public:
  TlmmImpl(unsigned w_bits, uint32_t seed, rust::Str trace)
      : HarnessDut<TlmmDut, V>(seed, trace), w_bits_(w_bits) {}
  void reset(uint32_t cycles) override {
    this->h_.reset(cycles, [](V& t) {
      t.cmd_valid_i = 0;
      t.act_valid_i = 0;
      t.w_valid_i = 0;
      t.res_ready_i = 0;
    });
  }
  TlmmPins step(const TlmmIn& in, rust::Slice<const uint32_t> w_data) override {
    return this->h_.step(
        [&](V& t) {
          t.cmd_valid_i = in.cmd_valid;
          t.cmd_m_i = in.cmd_m & 0xffffffu;
          t.cmd_k_i = in.cmd_k & 0xffffffu;
          t.cmd_flags_i = in.cmd_flags;
          t.act_valid_i = in.act_valid;
          t.act_data_i = in.act_data;
          t.act_last_i = in.act_last;
          t.w_valid_i = in.w_valid;
          set_port_words(t.w_data_i, w_data, w_bits_);
          t.w_last_i = in.w_last;
          t.res_ready_i = in.res_ready;
        },
        [](const V& t) {
          TlmmPins p;
          p.cmd_ready = t.cmd_ready_o;
          p.act_ready = t.act_ready_o;
          p.w_ready = t.w_ready_o;
          p.res_valid = t.res_valid_o;
          p.res_data = t.res_data_o;
          p.res_last = t.res_last_o;
          p.busy = t.busy_o;
          p.status = t.status_o;
          p.cnt_busy = t.cnt_busy_o;
          p.cnt_w_starved = t.cnt_w_starved_o;
          p.cnt_out_blocked = t.cnt_out_blocked_o;
          p.cnt_w_beats = t.cnt_w_beats_o;
          return p;
        });
  }

 private:
  unsigned w_bits_;
};

template <class V>
class FeederImpl final : public HarnessDut<FeederDut, V> {
 public:
  FeederImpl(unsigned width, unsigned addr_bits, unsigned count_bits, uint32_t seed,
             rust::Str trace)
      : HarnessDut<FeederDut, V>(seed, trace),
        mask_(width_mask(width)),
        addr_mask_(width_mask(addr_bits)),
        count_mask_(width_mask(count_bits)) {}
  void reset(uint32_t cycles) override {
    this->h_.reset(cycles, [](V& t) {
      t.wr_en_i = 0;
      t.start_valid_i = 0;
      t.w_ready_i = 0;
    });
  }
  FeederPins step(const FeederIn& in) override {
    return this->h_.step(
        [&](V& t) {
          t.wr_en_i = in.wr_en;
          t.wr_addr_i = in.wr_addr & addr_mask_;
          t.wr_data_i = in.wr_data & mask_;
          t.start_valid_i = in.start_valid;
          t.start_base_i = in.start_base & addr_mask_;
          t.start_count_i = in.start_count & count_mask_;
          t.w_ready_i = in.w_ready;
        },
        [](const V& t) {
          FeederPins p;
          p.start_ready = t.start_ready_o;
          p.w_valid = t.w_valid_o;
          p.w_data = t.w_data_o;
          p.w_last = t.w_last_o;
          p.busy = t.busy_o;
          p.done = t.done_o;
          return p;
        });
  }

 private:
  uint64_t mask_;
  uint64_t addr_mask_;
  uint64_t count_mask_;
};

template <class V>
class ConvImpl final : public HarnessDut<ConvDut, V> {
 public:
  ConvImpl(unsigned beat_bits, uint32_t seed, rust::Str trace)
      : HarnessDut<ConvDut, V>(seed, trace), beat_bits_(beat_bits) {}
  void reset(uint32_t cycles) override {
    this->h_.reset(cycles, [](V& t) {
      t.desc_valid_i = 0;
      t.req_ready_i = 0;
      t.rd_valid_i = 0;
      t.wr_ready_i = 0;
    });
  }
  ConvPins step(const ConvIn& in) override {
    return this->h_.step(
        [&](V& t) {
          t.desc_valid_i = in.desc_valid;
          t.desc_data_i = in.desc_data;
          t.req_ready_i = in.req_ready;
          t.rd_valid_i = in.rd_valid;
          set_wide(t.rd_data_i, in.rd_data, in.rd_data_hi, beat_bits_);
          t.wr_ready_i = in.wr_ready;
        },
        [](const V& t) {
          ConvPins p{};
          p.desc_ready = t.desc_ready_o;
          p.req_valid = t.req_valid_o;
          p.req_addr = t.req_addr_o;
          p.req_len = t.req_len_o;
          p.req_write = t.req_write_o;
          p.rd_ready = t.rd_ready_o;
          p.wr_valid = t.wr_valid_o;
          get_wide(t.wr_data_o, p.wr_data, p.wr_data_hi);
          p.busy = t.busy_o;
          p.done = t.done_o;
          p.error = t.error_o;
          p.cnt_cycles = t.cnt_cycles_o;
          p.cnt_fired = t.cnt_fired_o;
          p.cnt_stall_in = t.cnt_stall_in_o;
          p.cnt_stall_w = t.cnt_stall_w_o;
          p.cnt_stall_out = t.cnt_stall_out_o;
          p.cnt_rd_words = t.cnt_rd_words_o;
          p.cnt_wr_words = t.cnt_wr_words_o;
          p.cnt_bursts = t.cnt_bursts_o;
          return p;
        });
  }

 private:
  unsigned beat_bits_;
};

// UART receiver: the line idles high, also during reset.
template <class V>
class UartRxImpl final : public HarnessDut<UartRxDut, V> {
 public:
  using HarnessDut<UartRxDut, V>::HarnessDut;
  void reset(uint32_t cycles) override {
    this->h_.reset(cycles, [](V& t) {
      t.rx_i = 1;
      t.out_ready_i = 0;
    });
  }
  UartRxPins step(const UartRxIn& in) override {
    return this->h_.step(
        [&](V& t) {
          t.rx_i = in.rx;
          t.out_ready_i = in.out_ready;
        },
        [](const V& t) {
          UartRxPins p;
          p.out_valid = t.out_valid_o;
          p.out_data = t.out_data_o;
          p.frame_err = t.frame_err_o;
          p.overrun = t.overrun_o;
          return p;
        });
  }
};

// UART transmitter.
template <class V>
class UartTxImpl final : public HarnessDut<UartTxDut, V> {
 public:
  using HarnessDut<UartTxDut, V>::HarnessDut;
  void reset(uint32_t cycles) override {
    this->h_.reset(cycles, [](V& t) { t.in_valid_i = 0; });
  }
  UartTxPins step(const UartTxIn& in) override {
    return this->h_.step(
        [&](V& t) {
          t.in_valid_i = in.in_valid;
          t.in_data_i = in.in_data;
        },
        [](const V& t) {
          UartTxPins p;
          p.in_ready = t.in_ready_o;
          p.tx = t.tx_o;
          p.busy = t.busy_o;
          return p;
        });
  }
};

// Host link frame encoder.
template <class V>
class FrameTxImpl final : public HarnessDut<FrameTxDut, V> {
 public:
  using HarnessDut<FrameTxDut, V>::HarnessDut;
  void reset(uint32_t cycles) override {
    this->h_.reset(cycles, [](V& t) {
      t.hdr_valid_i = 0;
      t.pl_valid_i = 0;
      t.out_ready_i = 0;
    });
  }
  FrameTxPins step(const FrameTxIn& in) override {
    return this->h_.step(
        [&](V& t) {
          t.hdr_valid_i = in.hdr_valid;
          t.hdr_len_i = in.hdr_len;
          t.hdr_seq_i = in.hdr_seq;
          t.hdr_status_i = in.hdr_status;
          t.pl_valid_i = in.pl_valid;
          t.pl_data_i = in.pl_data;
          t.out_ready_i = in.out_ready;
        },
        [](const V& t) {
          FrameTxPins p;
          p.hdr_ready = t.hdr_ready_o;
          p.pl_ready = t.pl_ready_o;
          p.out_valid = t.out_valid_o;
          p.out_data = t.out_data_o;
          p.busy = t.busy_o;
          return p;
        });
  }
};

// Order-dependent checksum of a FIFO's outputs over a run; the Rust
// benchmark computes the same function (cosim/benches/fifo_speed.rs) so the
// two harnesses are shown to have simulated the same thing.
inline uint64_t fifo_checksum(uint64_t sum, const FifoPins& p) {
  const uint64_t word = (p.out_valid ? p.out_data : 0) ^ (uint64_t{p.level} << 48) ^
                        (uint64_t{p.in_ready} << 63) ^ (uint64_t{p.out_valid} << 62);
  return (sum ^ word) * 0x100000001b3ull;
}

// The C++ speed harness: the same per-cycle work as the Rust driver
// (set inputs, one cycle, read every output), without the FFI call.
template <class V>
uint64_t fifo_run(unsigned width, uint32_t seed, uint32_t reset_cycles,
                  rust::Slice<const StreamStepIn> stim, uint64_t cycles) {
  if (stim.empty()) throw std::invalid_argument("empty stimulus");
  FifoImpl<V> dut(width, seed, rust::Str());
  dut.reset(reset_cycles);
  uint64_t sum = 0;
  const size_t n = stim.size();
  size_t k = 0;
  for (uint64_t c = 0; c < cycles; ++c) {
    const FifoPins p = dut.step(stim[k]);
    k = (k + 1 == n) ? 0 : k + 1;
    sum = fifo_checksum(sum, p);
  }
  return sum;
}

}  // namespace hlsk
