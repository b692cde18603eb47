"""Bit-exact reference models of the hlsk FPGA kernels on numpy arrays.

The functions are the Rust reference models of the crate ``hls-rust``
(the same code the RTL is co-simulated against), compiled into
``hlsk._hlsk``. They take and return numpy arrays of the exact dtypes the
models work in and never cast: a wrong dtype raises TypeError, a wrong
shape ValueError.

- ``hlsk.tlmm``: BitNet b1.58 quantizers, the ternary weight code,
  golden and table-lookup matmuls, the TLMM engines' cycle models.
- ``hlsk.conv``: the training convolution (FP, BP, WU with the fused SGD
  update, 2x2 max pool forward and backward), the engine's analytical
  model, tiling search and training-step planner.
- ``hlsk.engine``: ``matmul`` on the Verilated TLMM engine or a board's
  digital twin, through the repository's ``hlsk`` binary.

Everything is also available at the top level.
"""

from . import conv, engine, tlmm
from ._hlsk import (
    EPS,
    ERR_CODE,
    ERR_K_RANGE,
    MAX_G,
    HwConfig,
    Layer,
    OsCycleModel,
    TsCycleModel,
    __version__,
    best_tiling,
    build_table,
    conv_bp,
    conv_fp,
    conv_wu,
    decode,
    dequantize,
    digits_network,
    encode,
    golden,
    plan,
    pool_bwd,
    pool_fwd,
    predict,
    quantize_activations_absmax,
    quantize_activations_with_scale,
    quantize_weights_absmean,
    quantize_weights_with_scale,
    tlmm_table,
)

__all__ = [
    "EPS",
    "ERR_CODE",
    "ERR_K_RANGE",
    "MAX_G",
    "HwConfig",
    "Layer",
    "OsCycleModel",
    "TsCycleModel",
    "__version__",
    "best_tiling",
    "build_table",
    "conv",
    "conv_bp",
    "conv_fp",
    "conv_wu",
    "decode",
    "dequantize",
    "engine",
    "digits_network",
    "encode",
    "golden",
    "plan",
    "pool_bwd",
    "pool_fwd",
    "predict",
    "quantize_activations_absmax",
    "quantize_activations_with_scale",
    "quantize_weights_absmean",
    "quantize_weights_with_scale",
    "tlmm",
    "tlmm_table",
]
