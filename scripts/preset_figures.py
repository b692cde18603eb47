#!/usr/bin/env python3
"""ECP5 figures of `hlsk results` preset builds, from their build folders.

For each folder (default: every build/presets/ecp5-*), reads the synthesis
cell counts (stat.json), nextpnr's Fmax (pnr-report.json) and the engine
parameters (build-report.json), and prints a markdown row: LUT4, CCU2C,
TRELLIS_DPR16X4, LUT4-eq (LUT4 + 2 per CCU2C + 4 per DPR16X4, as in
docs/tlmm.md), FF, DP16KD, MULT18X18D, Fmax and ternary MACs per cycle
(G*T*P) per kLUT4-eq. Cell counts are synthesis's (nextpnr places every
cell; its TRELLIS_COMB count in docs/results.md splits a CCU2C in two).

    python3 scripts/preset_figures.py [build/presets/<name> ...]
"""
import glob
import json
import os
import sys


def row(folder):
    cells = json.load(open(os.path.join(folder, "stat.json")))["design"]["num_cells_by_type"]
    report = json.load(open(os.path.join(folder, "build-report.json")))
    params = dict(kv.split("=", 1) for kv in report["params"].split())
    macs = int(params.get("G", 1)) * int(params.get("T", 1)) * int(params.get("P", 1))
    lut, carry = cells.get("LUT4", 0), cells.get("CCU2C", 0)
    dram = cells.get("TRELLIS_DPR16X4", 0)
    eq = lut + 2 * carry + 4 * dram
    ff = sum(n for k, n in cells.items() if k.startswith("TRELLIS_FF"))
    bram = cells.get("DP16KD", 0) + cells.get("PDPW16KD", 0)
    mult = sum(n for k, n in cells.items() if k.startswith("MULT18X18"))
    fmax = report.get("fmax_mhz")
    f = f"{fmax:.1f}" if fmax else "-"
    return (
        f"| {os.path.basename(folder.rstrip('/'))} | {macs} | {lut:,} | {carry:,} | {dram} | {eq:,} | "
        f"{ff:,} | {bram} | {mult} | {f} | {macs / eq * 1000:.1f} |"
    )


def main():
    folders = sys.argv[1:] or sorted(glob.glob("build/presets/ecp5-*"))
    print("| preset | MACs/cycle | LUT4 | CCU2C | DPR16X4 | LUT4-eq | FF | DP16KD | MULT18X18D "
          "| Fmax (MHz) | MACs/cycle/kLUT4-eq |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for folder in folders:
        try:
            print(row(folder))
        except FileNotFoundError as e:
            print(f"| {folder} | not built: {e.filename} missing | | | | | | | | | |")


if __name__ == "__main__":
    main()
