#!/usr/bin/env python3
"""Builds one hlsk engine with cocotb's Verilator flow and runs the speed
testbench (speed_tb.py) on a stimulus file written by the Rust benchmark
(cosim/benches/fifo_speed.rs).

    .venv/bin/python cosim/cocotb/run.py STIM.json RESULT.txt

STIM.json names the engine, its RTL top and parameters, the cycles to run
and the stimulus itself. The model is verilated with the flags of the
cosim build (hlsk-vbuild: -O3 --assert --x-assign unique --x-initial unique
-Wno-fatal) plus the ones cocotb's runner adds (--vpi --public-flat-rw,
which cocotb needs to reach the ports), and its C++ compiled with -O2 like
the cosim models (OPT_FAST/OPT_SLOW/OPT_GLOBAL; Verilator's makefile would
use -Os). RESULT.txt gets `cycles`, `seconds` and `checksum` lines.
"""

import json
import os
import shutil
import sys
from pathlib import Path

from cocotb.runner import get_runner

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

# hlsk-vbuild's Verilator flags (cosim/vbuild/src/lib.rs).
VERILATOR_FLAGS = ["-O3", "--assert", "--x-assign", "unique", "--x-initial", "unique", "-Wno-fatal"]
# hlsk-vbuild's C++ optimisation (cc::Build opt_level(2)).
CXX_OPT = "-O2 -fno-semantic-interposition"


def sources():
    """Every .sv file under rtl/{common,tlmm,conv,soc}, packages first (as build.rs)."""
    files = []
    for d in ["common", "tlmm", "conv", "soc"]:
        files += sorted((ROOT / "rtl" / d).glob("*.sv"))
    return sorted(files, key=lambda p: (not p.stem.endswith("_pkg"), str(p)))


def main():
    stim_path, result_path = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    stim = json.loads(stim_path.read_text())
    build_dir = stim_path.parent / "build"
    for var in ["OPT_FAST", "OPT_SLOW", "OPT_GLOBAL"]:
        os.environ[var] = CXX_OPT
    if shutil.which("ccache"):
        os.environ.setdefault("OBJCACHE", "ccache")
    runner = get_runner("verilator")
    runner.build(
        verilog_sources=sources(),
        hdl_toplevel=stim["top"],
        parameters=stim["params"],
        build_args=VERILATOR_FLAGS,
        build_dir=build_dir,
        log_file=build_dir / "build.log",
    )
    if result_path.exists():
        result_path.unlink()
    # speed_tb.py is imported from this folder.
    sys.path.insert(0, str(HERE))
    runner.test(
        test_module="speed_tb",
        hdl_toplevel=stim["top"],
        build_dir=build_dir,
        test_dir=build_dir,
        extra_env={
            "HLSK_STIM": str(stim_path),
            "HLSK_RESULT": str(result_path),
            "PYTHONPATH": os.pathsep.join([str(HERE)] + sys.path),
        },
        plusargs=["+verilator+rand+reset+2", "+verilator+seed+2"],
    )
    if not result_path.exists():
        sys.exit(f"cocotb testbench wrote no result ({build_dir}/results.xml)")


if __name__ == "__main__":
    main()
