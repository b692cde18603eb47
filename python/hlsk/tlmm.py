"""TLMM: ternary table-lookup matrix multiplication (``hls_rust::tlmm``).

Quantize float weights and activations BitNet-style, encode the ternary
weights into group codes, and multiply with the golden dot product or the
table path; the cycle models predict the engines' busy cycles.
"""

from ._hlsk import (
    EPS,
    ERR_CODE,
    ERR_K_RANGE,
    MAX_G,
    OsCycleModel,
    TsCycleModel,
    build_table,
    decode,
    dequantize,
    encode,
    golden,
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
    "OsCycleModel",
    "TsCycleModel",
    "build_table",
    "decode",
    "dequantize",
    "encode",
    "golden",
    "quantize_activations_absmax",
    "quantize_activations_with_scale",
    "quantize_weights_absmean",
    "quantize_weights_with_scale",
    "tlmm_table",
]
