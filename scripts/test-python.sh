#!/usr/bin/env bash
# The Python package (python/): lint its Rust (rustfmt, clippy -D warnings),
# build the extension and install it into .venv when its sources changed, and
# run its pytest suite. Run from anywhere; `make test` calls it. Idempotent: a
# rerun with nothing changed only lints (cached) and tests.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
venv=$root/.venv
py=$venv/bin/python
# The extension has its own target directory: no contention for the
# workspace's build lock.
export CARGO_TARGET_DIR=$root/python/target

say() { printf '== python: %s\n' "$*"; }
fail() {
    printf 'test-python: %s\n' "$*" >&2
    exit 1
}

[ -x "$py" ] || fail "no venv at $venv: run scripts/setup.sh"
[ -x "$venv/bin/maturin" ] && "$py" -c 'import numpy, pytest' 2>/dev/null ||
    fail "maturin, numpy or pytest missing in $venv: run scripts/setup.sh (or $venv/bin/pip install -r scripts/requirements-tools.txt)"

say "cargo fmt --check"
cargo fmt --manifest-path python/Cargo.toml --check ||
    fail "python/ is not rustfmt-clean: run cargo fmt --manifest-path python/Cargo.toml"

say "cargo clippy -D warnings"
cargo clippy --quiet --manifest-path python/Cargo.toml --all-targets -- -D warnings ||
    fail "cargo clippy failed on python/ (above)"

# Everything the installed extension is built from: the bindings, the
# package files, the reference models, and the manifests they inherit from.
sources_hash() {
    {
        "$py" -c 'import sys; print(sys.version)'
        find python/Cargo.toml python/Cargo.lock python/pyproject.toml python/README.md \
            python/src python/hlsk hls-rust/Cargo.toml hls-rust/src Cargo.toml \
            -type f ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum
    } | sha256sum | cut -d' ' -f1
}
stamp=$venv/.hlsk-python.stamp
hash=$(sources_hash)
installed=$(compgen -G "$venv/lib/python3*/site-packages/hlsk/_hlsk*.so" || true)
if [ -n "$installed" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
    say "extension up to date in .venv"
else
    say "maturin build --release, pip install"
    rm -rf python/target/wheels
    "$venv/bin/maturin" build --quiet --release --interpreter "$py" -m python/Cargo.toml -o python/target/wheels ||
        fail "maturin build failed (above)"
    wheels=(python/target/wheels/hlsk-*.whl)
    [ -f "${wheels[0]}" ] || fail "maturin produced no wheel in python/target/wheels"
    "$py" -m pip install --quiet --no-deps --force-reinstall "${wheels[0]}" ||
        fail "pip could not install ${wheels[0]}"
    echo "$hash" >"$stamp"
fi

# hlsk.engine runs the repository's hlsk binary (Verilated engines: the
# default cosim feature), built in the workspace's own target directory.
say "cargo build -p hlsk (for hlsk.engine)"
CARGO_TARGET_DIR=$root/target cargo build --quiet -p hlsk ||
    fail "cargo build -p hlsk failed (above)"
export HLSK_BIN=$root/target/debug/hlsk

say "pytest python/tests"
"$venv/bin/pytest" -q python/tests
