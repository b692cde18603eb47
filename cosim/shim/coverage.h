// Copyright hlsk contributors.
// SPDX-License-Identifier: Apache-2.0
//
// Coverage collection for models built with the `coverage` feature
// (`--coverage-line --coverage-toggle`, HLSK_COVERAGE defined).
//
// Every model counts into the coverage database of its own
// VerilatedContext, whose entries point at the model's counters: they must
// be read before the model is destroyed. A test process builds hundreds of
// models, so instead of one file per model the sink keeps one merged table
// per process. Each Harness registers its context on construction and hands
// it in on destruction; the sink writes the context's database to a scratch
// file, sums its points into the table (same key, counts added: what
// `verilator_coverage --write` does), and at process exit writes the table,
// together with the contexts still alive, to
// `$HLSK_COVERAGE_DIR/hlsk-<pid>-<n>.dat`. Without HLSK_COVERAGE_DIR nothing
// is collected.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include <unistd.h>

#include "verilated.h"
#include "verilated_cov.h"

namespace hlsk {

class CoverageSink {
 public:
  // The process's sink, or nullptr when HLSK_COVERAGE_DIR is not set.
  // Never destroyed: models may outlive static destructors.
  static CoverageSink* get() {
    static CoverageSink* sink = [] () -> CoverageSink* {
      const char* dir = std::getenv("HLSK_COVERAGE_DIR");
      if (dir == nullptr || *dir == '\0') return nullptr;
      auto* s = new CoverageSink(dir);
      std::atexit([] { get()->flush(); });
      return s;
    }();
    return sink;
  }

  void attach(VerilatedContext* ctx) {
    std::lock_guard<std::mutex> guard(mutex_);
    live_.insert(ctx);
  }

  // Merges `ctx`'s counts; call before its model is destroyed.
  void detach(VerilatedContext* ctx) {
    std::lock_guard<std::mutex> guard(mutex_);
    if (live_.erase(ctx) != 0) merge(ctx);
    // A model destroyed after the exit-time flush (a thread still running)
    // is written on its own rather than lost.
    if (flushed_) write();
  }

 private:
  explicit CoverageSink(std::string dir) : dir_(std::move(dir)) {
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    stem_ = dir_ + "/hlsk-" + std::to_string(::getpid()) + "-" + std::to_string(now);
  }

  // Called with mutex_ held.
  void merge(VerilatedContext* ctx) {
    const std::string scratch = stem_ + ".part";
    ctx->coveragep()->write(scratch.c_str());
    std::ifstream in(scratch);
    std::string line;
    // Lines are `C '<key>' <count>`; the key holds no quote.
    while (std::getline(in, line)) {
      if (line.size() < 4 || line.compare(0, 3, "C '") != 0) continue;
      const size_t end = line.rfind("' ");
      if (end == std::string::npos || end < 3) continue;
      counts_[line.substr(3, end - 3)] += std::strtoull(line.c_str() + end + 2, nullptr, 10);
    }
    std::remove(scratch.c_str());
  }

  // Called with mutex_ held.
  void write() {
    const std::string path = stem_ + "-" + std::to_string(files_++) + ".dat";
    std::ofstream out(path);
    out << "# SystemC::Coverage-3\n";
    for (const auto& kv : counts_) out << "C '" << kv.first << "' " << kv.second << "\n";
    counts_.clear();
  }

  void flush() {
    std::lock_guard<std::mutex> guard(mutex_);
    for (VerilatedContext* ctx : live_) merge(ctx);
    live_.clear();
    write();
    flushed_ = true;
  }

  std::mutex mutex_;
  std::string dir_;
  std::string stem_;
  std::set<VerilatedContext*> live_;
  std::map<std::string, uint64_t> counts_;
  unsigned files_ = 0;
  bool flushed_ = false;
};

}  // namespace hlsk
