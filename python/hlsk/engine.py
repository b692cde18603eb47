"""The RTL from Python: numpy arrays through the ``hlsk`` command-line tool.

The reference models run inside this package; the Verilated engines and
the boards' digital twins live in the ``hlsk`` binary of the repository
(Rust, Verilator). ``matmul`` hands the arrays to ``hlsk tlmm matmul`` as
``.npy`` files and reads its results back, so the same quantizers and the
same checks apply: the RTL's results are compared with the reference job by
job inside the tool, and any error it reports is raised here.

The binary is ``$HLSK_BIN`` if set, else ``target/release/hlsk`` or
``target/debug/hlsk`` of the repository this package was installed from,
(found above the installed package, e.g. a ``.venv`` inside the checkout,
or above the working directory), else ``hlsk`` on ``PATH``. It must be built with its default ``cosim``
feature for ``engine="rtl"`` or ``"twin"``:
``cargo build --release -p hlsk``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["matmul", "hlsk_binary"]



def _repositories() -> list[Path]:
    """The hlsk repositories above this file (a checkout, or the venv
    inside one that the package was installed into) and above the
    working directory."""
    found = []
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for d in start.parents if start.is_file() else [start, *start.parents]:
            if (d / "Cargo.toml").is_file() and (d / "hls-rust").is_dir() and d not in found:
                found.append(d)
    return found


def hlsk_binary() -> str:
    """Path of the ``hlsk`` binary ``matmul`` runs (see the module docs)."""
    env = os.environ.get("HLSK_BIN")
    if env:
        return env
    for repo in _repositories():
        for profile in ("release", "debug"):
            p = repo / "target" / profile / "hlsk"
            if p.is_file():
                return str(p)
    found = shutil.which("hlsk")
    if found:
        return found
    raise FileNotFoundError(
        "no hlsk binary: build it with `cargo build --release -p hlsk` in the "
        "repository, or set HLSK_BIN to its path"
    )


def matmul(
    w: np.ndarray,
    x: np.ndarray,
    *,
    engine: str = "rtl",
    build: int | None = None,
    board: str | None = None,
    gamma: float | None = None,
    act_scale: float | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """``Y = W x`` per token on ``engine`` ("ref", "rtl" or "twin").

    ``w``: ``[M, K]`` float32/float64 (quantized with absmean, or with
    ``gamma``) or int8 ternary. ``x``: ``[K]`` or ``[N, K]`` float (absmax
    per token, or ``act_scale``) or int8. ``build`` selects the TLMM build
    (``hlsk tlmm builds``), ``board`` the digital twin for ``engine="twin"``.

    Returns the int32 results (``[M]`` or ``[N, M]``) and the dequantized
    float32 results when both scales are known (else ``None``). Raises
    ``ValueError`` with the tool's message when it refuses the inputs or
    the RTL differs from the reference.
    """
    if engine not in ("ref", "rtl", "twin"):
        raise ValueError(f"engine={engine!r}: expected 'ref', 'rtl' or 'twin'")
    with tempfile.TemporaryDirectory(prefix="hlsk-matmul-") as d:
        dp = Path(d)
        np.save(dp / "w.npy", np.ascontiguousarray(w))
        np.save(dp / "x.npy", np.ascontiguousarray(x))
        cmd = [
            hlsk_binary(), "tlmm", "matmul",
            "--weights", str(dp / "w.npy"), "--act", str(dp / "x.npy"),
            "--out", str(dp / "y.npy"), "--engine", engine,
        ]
        for flag, value in (("--build", build), ("--board", board),
                            ("--gamma", gamma), ("--act-scale", act_scale)):
            if value is not None:
                cmd += [flag, str(value)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise ValueError(f"hlsk tlmm matmul failed: {r.stderr.strip()}")
        y = np.load(dp / "y.npy")
        f = dp / "y.f32.npy"
        return y, (np.load(f) if f.exists() else None)
