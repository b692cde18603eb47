// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Pure C++ speed harnesses of the real engines (TLMM, conv, SoC twin): the
// baselines of the co-simulation speed benchmark (cosim/benches/). Each runs
// one build from a stimulus the Rust benchmark generated, with the same
// per-cycle driver the Rust side runs through cxx, and returns a checksum
// of the outputs; the two must agree. Implementations in bench_impl.h.
#pragma once

#include <cstddef>
#include <cstdint>

#include "rust/cxx.h"

namespace hlsk {

struct TlmmBenchStim;
struct ConvBenchStim;

// TLMM output-stationary build `config` (power-up state from `seed`, reset
// for `reset_cycles`), `cycles` cycles of the job queues and gates in `stim`.
uint64_t tlmm_bench_run(size_t config, uint32_t seed, uint32_t reset_cycles,
                        const TlmmBenchStim& stim, uint64_t cycles);

// Conv engine build `config`, `cycles` cycles of the descriptors in `stim`
// on its memory image behind a memory model with fixed latency and gates.
uint64_t conv_bench_run(size_t config, uint32_t seed, uint32_t reset_cycles,
                        const ConvBenchStim& stim, uint64_t cycles);

// SoC build `config`, one cycle per rx line level (0 or 1); checksum of the
// tx line.
uint64_t soc_bench_run(size_t config, uint32_t seed, uint32_t reset_cycles,
                       rust::Slice<const uint8_t> rx);

}  // namespace hlsk
