#!/usr/bin/env bash
# RTL coverage over the co-simulation test suite (`make coverage`,
# docs/coverage.md):
#   1. builds hlsk-tests with `--features coverage` (every Verilated model
#      instrumented with --coverage-line --coverage-toggle) in its own target
#      directory, target/coverage, so the normal target/ is never rebuilt;
#   2. runs each co-simulation test target of hlsk-tests, and the language
#      model's RTL test, with HLSK_COVERAGE_DIR set: every test process
#      writes its models' merged counts there (cosim/shim/coverage.h);
#   3. merges them (verilator_coverage --write), annotates the sources
#      (verilator_coverage --annotate), writes an HTML report if genhtml is
#      installed, and prints the per-module table
#      (scripts/coverage_report.py), which it also writes into
#      docs/coverage.md between its markers.
# A progress line per step and per test target. Options through the
# environment: COVERAGE_DOC (default docs/coverage.md; empty: leave the docs
# alone), COVERAGE_TESTS (space-separated test targets instead of all),
# COVERAGE_COMMIT (the revision to name when not run in a git checkout).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CARGO=${CARGO:-cargo}
export CARGO_TARGET_DIR=${COVERAGE_TARGET_DIR:-$PWD/target/coverage}
OUT=$CARGO_TARGET_DIR/report
DATA=$OUT/data
DOC=${COVERAGE_DOC-docs/coverage.md}
# Tests that simulate no model (lint and elaboration only).
SKIP=" rtl_hygiene "

say() { printf 'coverage: %s\n' "$*"; }
die() { printf 'coverage: error: %s\n' "$*" >&2; exit 1; }
command -v verilator_coverage >/dev/null || die "verilator_coverage not found; run make setup"

start=$(date +%s)
elapsed() { echo "$(( $(date +%s) - start )) s"; }

say "building the instrumented models and tests in $CARGO_TARGET_DIR (first time: several minutes)"
$CARGO test -p hlsk-tests --features coverage --no-run --quiet
$CARGO test -p hlsk-lm --features hlsk-cosim/coverage --test rtl --no-run --quiet

if [ -n "${COVERAGE_TESTS:-}" ]; then
  tests=($COVERAGE_TESTS)
else
  mapfile -t tests < <($CARGO metadata --no-deps --format-version 1 | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]:
    if p["name"] == "hlsk-tests":
        for t in p["targets"]:
            if "test" in t["kind"]:
                print(t["name"])')
fi

rm -rf "$DATA" "$OUT/annotated" "$OUT/html"
mkdir -p "$DATA"
export HLSK_COVERAGE_DIR=$DATA

runs=()
for t in "${tests[@]}"; do
  [[ $SKIP == *" $t "* ]] && continue
  runs+=("hlsk-tests:$t")
done
runs+=("hlsk-lm:rtl")

n=${#runs[@]}
i=0
failed=()
for r in "${runs[@]}"; do
  i=$((i + 1))
  pkg=${r%%:*}
  t=${r#*:}
  feat=coverage
  [ "$pkg" = hlsk-lm ] && feat=hlsk-cosim/coverage
  t0=$(date +%s)
  printf 'coverage: [%d/%d] %s %s ... ' "$i" "$n" "$pkg" "$t"
  if $CARGO test -p "$pkg" --features "$feat" --test "$t" --quiet >"$OUT/$t.log" 2>&1; then
    res=ok
  else
    res="FAILED (log: $OUT/$t.log)"
    failed+=("$t")
  fi
  printf '%s, %d s (total %s)\n' "$res" "$(( $(date +%s) - t0 ))" "$(elapsed)"
done
[ ${#failed[@]} -eq 0 ] || die "test targets failed: ${failed[*]} (logs in $OUT); no report"

files=("$DATA"/*.dat)
say "merging ${#files[@]} coverage files"
verilator_coverage --write "$OUT/merged.dat" "${files[@]}" >/dev/null
say "annotating the sources into $OUT/annotated"
verilator_coverage --annotate "$OUT/annotated" --annotate-min 1 "$OUT/merged.dat" | sed 's/^/coverage: /'
if command -v genhtml >/dev/null; then
  verilator_coverage --write-info "$OUT/merged.info" "$OUT/merged.dat" >/dev/null
  genhtml --quiet --output-directory "$OUT/html" "$OUT/merged.info" >/dev/null
  say "HTML report: $OUT/html/index.html"
else
  say "genhtml not installed (apt-get install lcov): no HTML report"
fi

if [ -n "${COVERAGE_COMMIT:-}" ]; then
  commit=$COVERAGE_COMMIT
else
  commit=$(git rev-parse --short HEAD)
  git diff --quiet HEAD -- rtl cosim sim tests || commit="$commit (with local changes)"
fi
doc_args=()
[ -n "$DOC" ] && doc_args=(--doc "$DOC")
python3 scripts/coverage_report.py "$OUT/merged.dat" --rtl rtl --commit "$commit" \
  --command "make coverage" --json "$OUT/coverage.json" "${doc_args[@]}" | tee "$OUT/report.txt"
say "done in $(elapsed): $OUT/report.txt, $OUT/coverage.json, $OUT/annotated/"
