# hlsk: the two entry points are `make` (the main job) and `make test`.
# Both run scripts/setup.sh first, which installs what is missing (apt:
# Verilator, ccache; pip: the pinned YoWASP tools into .venv) and is a no-op
# once everything is there.

CARGO ?= cargo

.PHONY: all setup selfcheck test lint bench waves coverage formal fuzz fuzz-afl clean

# Main job: the default board's (iCEBreaker) bitstream, with its report.
# Built without the co-simulation models (`--no-default-features`): the board
# flow needs no Verilated model, so none is compiled.
all: setup
	$(CARGO) run --release --quiet -p hlsk --no-default-features -- build --board icebreaker

setup:
	@scripts/setup.sh

# Everything CI runs: formatting, clippy (with and without the CLI's cosim
# feature), every test (RTL lint and slang elaboration, FuseSoC cores
# included), then the Python package (python/: built into .venv, pytest).
test: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --quiet -- -D warnings
	$(CARGO) clippy -p hlsk --no-default-features --all-targets --quiet -- -D warnings
	$(CARGO) test --workspace
	scripts/test-python.sh

# Figures, not tests: co-simulation speed of the FIFO, the TLMM and conv
# engines and the SoC twin (Rust driver vs pure C++ harness, and cocotb 1.9
# on the same stimulus: installed into .venv here, not in `make test`).
bench: setup
	.venv/bin/cocotb-config --version 2>/dev/null | grep -q '^1\.9\.' || \
	  .venv/bin/pip install --disable-pip-version-check -q 'cocotb>=1.9,<1.10'
	$(CARGO) bench -p hlsk-cosim --bench fifo_speed

# Rerun the co-simulation tests with tracing compiled in; a failing property
# writes the waveform of its minimal case to waves/<property>.fst.
waves: setup
	HLSK_WAVES=$(CURDIR)/waves $(CARGO) test -p hlsk-tests --features trace

# Line and toggle coverage of every RTL module over the co-simulation tests
# (docs/coverage.md): instrumented models built in target/coverage, counts
# merged with verilator_coverage, per-module table printed and written into
# docs/coverage.md; reports in target/coverage/report/.
coverage: setup
	scripts/coverage.sh

# Formal proofs (formal/README.md): SymbiYosys + z3; every proof, mutant and
# known issue in one table (~5 min). The quick ones also run in `make test`.
formal: setup
	formal/run.sh

FUZZ_EXECS ?= 1000000
STORM_FAULTS ?= 1000000
STORM_SECS ?= 900

# Fuzzing, figures not tests (docs/fuzzing.md): FUZZ_EXECS mutated inputs per
# parser (dev profile: overflow checks on), the decoder storm, then the link
# storm on the iCEBreaker twin (STORM_FAULTS faults or STORM_SECS seconds).
fuzz: setup
	$(CARGO) run -p hlsk-fuzz -- run all --execs $(FUZZ_EXECS)
	$(CARGO) run --release -p hlsk-fuzz -- decoder-storm --faults 10000000
	$(CARGO) run --release -p hlsk-fuzz -- storm --faults $(STORM_FAULTS) --max-secs $(STORM_SECS)

# Coverage-guided: the same parsers under AFL++ (cargo-afl, stable Rust;
# installed on first use), FUZZ_EXECS executions each; fails on a crash or hang.
fuzz-afl:
	command -v cargo-afl >/dev/null || $(CARGO) install cargo-afl
	cd fuzz/afl && $(CARGO) afl build --release
	cd fuzz/afl && for t in frame board npy desc; do \
	  rm -rf out/$$t && mkdir -p out && \
	  AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
	    $(CARGO) afl fuzz -i ../corpus/$$t -o out/$$t -E $(FUZZ_EXECS) -- target/release/hlsk-afl $$t >/dev/null && \
	  grep -E 'execs_done|saved_crashes|saved_hangs' out/$$t/default/fuzzer_stats && \
	  grep -Eq 'saved_crashes *: 0' out/$$t/default/fuzzer_stats && \
	  grep -Eq 'saved_hangs *: 0' out/$$t/default/fuzzer_stats || exit 1; \
	done

MUTANTS_PER_MODULE ?= 8
MUTANTS_SEED ?= 1
MUTANTS_ARGS ?=

# Mutation testing, figures not tests (docs/mutants.md): MUTANTS_PER_MODULE
# seeded single-token mutants of each file under rtl/, each linted, built and
# run against the tests that cover its module, in a private worktree
# (target/mutants/wt, own target dir; rtl/ is never touched). Report in
# target/mutants/report.{md,json}. MUTANTS_ARGS e.g. --kernels tlmm,soc.
mutants: setup
	$(CARGO) run --quiet -p hlsk-mutants -- --per-module $(MUTANTS_PER_MODULE) --seed $(MUTANTS_SEED) $(MUTANTS_ARGS)

clean:
	$(CARGO) clean
