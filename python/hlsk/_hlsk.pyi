"""Type stubs of the extension module ``hlsk._hlsk`` (Rust, PyO3).

The TypedDicts (Breakdown, Audit, WuResult, Tiling, Stats, Magnitudes,
Plan) exist only here: at run time these results are plain dicts.

Arrays are never converted: each argument must have exactly the dtype
given here (TypeError otherwise) and the rank given in its docstring
(ValueError otherwise).
"""

from collections.abc import Sequence
from typing import Literal, TypedDict

import numpy as np
import numpy.typing as npt

__version__: str

ERR_K_RANGE: int
"""Flag bit 0: K exceeds K_EXACT of the accumulator width; results wrapped."""
ERR_CODE: int
"""Flag bit 1: an illegal weight code was looked up (it contributed 0)."""
MAX_G: int
"""The largest group size, 5."""
EPS: float
"""Floor of the quantizers' scale denominators, 1e-5 (as float32)."""

I8 = npt.NDArray[np.int8]
U8 = npt.NDArray[np.uint8]
I16 = npt.NDArray[np.int16]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]

# --- TLMM: quantizers --------------------------------------------------------

def quantize_weights_absmean(w: F32, /) -> tuple[I8, float]:
    """Per-tensor absmean ternary quantizer: ``(codes (M, K) int8, gamma)``.

    ``gamma = mean(|w|)`` correctly rounded to float32 (the exact mean,
    rounded once, ties to even), ``s_w = 1 / max(gamma, 1e-5)``,
    ``codes = clip(round_half_even(w * s_w), -1, 1)`` in float32.
    ``w``: float32 (M, K).
    """

def quantize_weights_with_scale(w: F32, gamma: float) -> I8:
    """Ternary weights of float32 (M, K) ``w`` at a given ``gamma`` (finite, > 0)."""

def quantize_activations_absmax(x: F32, /) -> tuple[I8, float | F32]:
    """Per-token absmax int8 quantizer: ``(x_q, s_x)``.

    ``s_x = 127 / max(max|x|, 1e-5)`` per token (row),
    ``x_q = clip(round_half_even(x * s_x), -128, 127)`` in float32; NaN
    gives 0. ``x``: float32 (K,) -> s_x a float; (N, K) -> s_x float32 (N,).
    """

def quantize_activations_with_scale(x: F32, s_x: float | F32) -> I8:
    """int8 activations of float32 (K,) or (N, K) ``x`` at given scales.

    ``s_x``: a float (every token), or float32 (N,) for (N, K) ``x``; each
    finite and > 0.
    """

def dequantize(y_int: I32, s_x: float | F32, gamma: float) -> F32:
    """``float32(y_int) / s_x * gamma`` per token: int32 (M,) or (N, M) ``y_int``,
    ``s_x`` a float or float32 (N,) for (N, M)."""

# --- TLMM: weight code and matmuls -------------------------------------------

def encode(w: I8, g: int = 3) -> U8:
    """Ternary int8 (M, K) -> uint8 codes (M, ceil(K / g)); g in 1..5 (3: TL2)."""

def decode(codes: U8, k: int, g: int = 3) -> tuple[I8, int]:
    """uint8 codes (M, ceil(k / g)) -> ``(w int8 (M, k), flags)``; illegal codes
    decode to zeros and set ERR_CODE."""

def build_table(acts: I8, g: int = 3) -> I32:
    """The table of one group of at most g int8 activations: int32
    ((3**g - 1) / 2 + 1,), ``T[idx]`` = dot with the balanced-ternary digits of idx."""

def golden(w: I8, x: I8, acc_w: int = 24) -> tuple[I32, int]:
    """``sign_extend_32((w @ x) mod 2**acc_w)``: ternary int8 (M, K) ``w``, int8
    (K,) or (N, K) ``x`` -> ``(int32 (M,) or (N, M), flags)``; acc_w in 8..32."""

def tlmm_table(codes: U8, x: I8, g: int = 3, acc_w: int = 24) -> tuple[I32, int]:
    """The table path on uint8 codes (M, ceil(K / g)); same result as ``golden``
    on the decoded weights, ERR_CODE for illegal codes."""

# --- TLMM: cycle models ------------------------------------------------------

class Breakdown(TypedDict):
    load: int
    compute: int
    drain: int
    total: int

class OsCycleModel:
    """Busy cycles of the output-stationary TLMM engine (exact, ideal streams)."""

    def __init__(self, g: int = 3, t: int = 1, p: int = 4) -> None: ...
    @property
    def g(self) -> int: ...
    @property
    def t(self) -> int: ...
    @property
    def p(self) -> int: ...
    @property
    def direct(self) -> bool: ...
    def with_direct(self, direct: bool) -> OsCycleModel: ...
    def pipe_latency(self) -> int: ...
    def predict(self, m: int, k: int) -> int: ...
    def breakdown(self, m: int, k: int) -> Breakdown: ...
    def ideal(self, m: int, k: int) -> int: ...
    def chunks(self, k: int) -> int: ...
    def utilization(self, m: int, k: int, cycles: int) -> float: ...

class TsCycleModel:
    """Busy cycles of the table-stationary TLMM engine (exact, ideal streams)."""

    def __init__(self, g: int = 3, t: int = 3, p: int = 4) -> None: ...
    @property
    def g(self) -> int: ...
    @property
    def t(self) -> int: ...
    @property
    def p(self) -> int: ...
    def entries(self) -> int: ...
    def build_cycles(self) -> int: ...
    def predict(self, m: int, k: int) -> int: ...
    def breakdown(self, m: int, k: int) -> Breakdown: ...
    def ideal(self, m: int, k: int) -> int: ...
    def chunks(self, k: int) -> int: ...
    def utilization(self, m: int, k: int, cycles: int) -> float: ...

# --- Convolution: golden ops -------------------------------------------------

class Audit(TypedDict):
    """Overflow audit: every exact sum outside the accumulator range."""

    op: str
    acc_w: int
    sums: int
    overflows: list[tuple[tuple[int, int, int, int], int]]

class WuResult(TypedDict):
    grad: I64
    master: npt.NDArray[np.int32]
    w16: I16
    audit: Audit

def conv_fp(
    x: I16,
    w: I16,
    *,
    pad: int = 0,
    s_out: int = 0,
    relu: bool = False,
    acc_w: int = 32,
) -> tuple[I16, Audit]:
    """FP: ``y = sat16(rs(sx(sum w * xpad, acc_w), s_out))`` (+ ReLU).
    int16 x (B, N, H, W), w (M, N, K, K) -> (B, M, H+2pad-K+1, W+2pad-K+1)."""

def conv_bp(
    dout: I16,
    w: I16,
    *,
    act_in: I16 | None = None,
    pad: int = 0,
    s_out: int = 0,
    acc_w: int = 32,
) -> tuple[I16, Audit]:
    """BP: the gradient padded by K-1-pad convolved with the flipped weights;
    int16 dout (B, M, Ho, Wo) -> dx (B, N, H, W), masked by ``act_in > 0``."""

def conv_wu(
    x: I16,
    dout: I16,
    master: npt.NDArray[np.int32],
    *,
    pad: int = 0,
    g_pre: int = 0,
    lr_mant: int = 0,
    lr_shift: int = 0,
    acc_w_wu: int = 40,
) -> WuResult:
    """WU: ``g = sx(sum rs(dout * xpad, g_pre), acc_w_wu)`` and the fused SGD
    step on int32 masters (M, N, K, K)."""

def pool_fwd(x: I16, /) -> tuple[I16, U8]:
    """2x2 stride-2 max (first maximum wins): ``(y, argmax codes dy*2+dx)``."""

def pool_bwd(dy: I16, argmax: U8) -> I16:
    """Each gradient to its argmax position in its 2x2 window, zeros elsewhere."""

# --- Convolution: analytical model, scheduler --------------------------------

class HwConfig:
    """A convolution-engine build; defaults are ``HwConfig.up5k()``."""

    t: int
    p: int
    clock_mhz: float
    words_per_cycle: int
    t_burst: int
    in_buf: int
    w_buf: int
    out_buf: int
    grad_buf: int
    acc_depth: int
    acc_w: int
    acc_w_wu: int
    t_desc: int
    t_step: int
    overlap: bool
    def __init__(
        self,
        *,
        t: int = ...,
        p: int = ...,
        clock_mhz: float = ...,
        words_per_cycle: int = ...,
        t_burst: int = ...,
        in_buf: int = ...,
        w_buf: int = ...,
        out_buf: int = ...,
        grad_buf: int = ...,
        acc_depth: int = ...,
        acc_w: int = ...,
        acc_w_wu: int = ...,
        t_desc: int = ...,
        t_step: int = ...,
        overlap: bool = ...,
    ) -> None: ...
    @staticmethod
    def up5k() -> HwConfig: ...
    @staticmethod
    def ecp5() -> HwConfig: ...
    def peak_macs(self) -> int: ...
    def validate(self) -> None: ...

Op = Literal["FP", "BP", "WU", "POOL_FWD", "POOL_BWD"]

class Tiling(TypedDict):
    tr: int
    m_on: int
    n_on: int

class Stats(TypedDict):
    cycles: int
    fired: int
    stall_input: int
    stall_weights: int
    stall_output: int
    overhead: int
    words_read: int
    words_written: int
    bursts: int
    macs: int
    utilization: float
    occupancy: float
    seconds: float

def best_tiling(
    op: Op | str,
    *,
    n: int,
    m: int | None = None,
    h: int,
    w: int,
    b: int,
    k: int | None = None,
    pad: int = 0,
    hw: HwConfig,
    relu_mask: bool = False,
    write_w16: bool = False,
) -> tuple[Tiling, Stats]:
    """The fastest tiling of one descriptor and its predicted counters."""

def predict(
    op: Op | str,
    *,
    n: int,
    m: int | None = None,
    h: int,
    w: int,
    b: int,
    k: int | None = None,
    pad: int = 0,
    tr: int,
    m_on: int,
    n_on: int = 0,
    hw: HwConfig,
    relu_mask: bool = False,
    write_w16: bool = False,
) -> Stats:
    """The model's counters for one descriptor with a given tiling."""

class Layer:
    """One layer of a network for ``plan``."""

    @staticmethod
    def conv(m: int, k: int = 3, pad: int = 1, relu: bool = True) -> Layer: ...
    @staticmethod
    def pool() -> Layer: ...
    @staticmethod
    def fc(m: int, relu: bool = False) -> Layer: ...

def digits_network() -> tuple[tuple[int, int, int], list[Layer]]:
    """The digits CNN: input (1, 8, 8), conv3x3 8, pool, conv3x3 16, pool, FC 10."""

class Magnitudes(TypedDict, total=False):
    input: float
    weight: list[float]
    act: list[float]
    grad: list[float]

class Plan(TypedDict):
    steps: list[dict[str, object]]
    predicted: Stats
    mem_words: int

def plan(
    input: tuple[int, int, int],
    layers: Sequence[Layer],
    *,
    batch: int,
    hw: HwConfig,
    lr: float = 0.1,
    magnitudes: Magnitudes | None = None,
) -> Plan:
    """The descriptors (with tilings, numerics, predictions) of one training step."""
