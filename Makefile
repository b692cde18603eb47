# hlsk: the two entry points are `make` (the main job) and `make test`.
# Both run scripts/setup.sh first, which installs what is missing (apt:
# Verilator, ccache; pip: the pinned YoWASP tools into .venv) and is a no-op
# once everything is there.

CARGO ?= cargo

.PHONY: all setup selfcheck test lint bench waves formal clean

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

# Figures, not tests: co-simulation speed (Rust driver vs pure C++ harness).
bench: setup
	$(CARGO) bench -p hlsk-cosim --bench fifo_speed

# Rerun the co-simulation tests with tracing compiled in; a failing property
# writes the waveform of its minimal case to waves/<property>.fst.
waves: setup
	HLSK_WAVES=$(CURDIR)/waves $(CARGO) test -p hlsk-tests --features trace

# Formal proofs (formal/README.md): SymbiYosys + z3; every proof, mutant and
# known issue in one table (~5 min). The quick ones also run in `make test`.
formal: setup
	formal/run.sh

clean:
	$(CARGO) clean
