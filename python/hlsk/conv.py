"""Training convolution (``hls_rust::conv``): int16 fixed point with exact
wide accumulation that wraps at ACC_W, saturation only at write-back.

The golden ops work on NCHW activations and MNKK weights; the analytical
model, tiling search and planner describe the engine's schedule.
"""

from ._hlsk import (
    HwConfig,
    Layer,
    best_tiling,
    conv_bp,
    conv_fp,
    conv_wu,
    digits_network,
    plan,
    pool_bwd,
    pool_fwd,
    predict,
)

__all__ = [
    "HwConfig",
    "Layer",
    "best_tiling",
    "conv_bp",
    "conv_fp",
    "conv_wu",
    "digits_network",
    "plan",
    "pool_bwd",
    "pool_fwd",
    "predict",
]
