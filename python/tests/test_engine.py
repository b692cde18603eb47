"""hlsk.engine.matmul: numpy arrays through the hlsk binary, on the
reference and on the Verilated TLMM engine, against plain numpy."""

import numpy as np
import pytest

from hlsk import engine
from reference import absmax_scale, absmean, quantize_acts, quantize_weights


def numpy_bitnet(w, x):
    """BitNet b1.58 quantization (the numpy references of the quantizer
    tests) and the integer matmul in numpy."""
    gamma = absmean(w)
    s_x = absmax_scale(x)
    wq = quantize_weights(w, gamma).astype(np.int32)
    xq = quantize_acts(x, s_x).astype(np.int32)
    return xq @ wq.T, gamma, s_x


@pytest.mark.parametrize("eng", ["ref", "rtl"])
def test_matmul_matches_numpy(eng):
    rng = np.random.default_rng(7)
    w = rng.standard_normal((20, 50)).astype(np.float32)
    x = rng.standard_normal((3, 50)).astype(np.float32)
    y, f = engine.matmul(w, x, engine=eng, build=0)
    want, gamma, s_x = numpy_bitnet(w, x)
    assert y.dtype == np.int32 and y.shape == (3, 20)
    assert (y == want).all()
    assert f is not None and f.dtype == np.float32
    # y_int / s_x * gamma, each step in float32.
    assert (f == (want.astype(np.float32) / s_x[:, None]) * gamma).all()


def test_int8_inputs_pass_unchanged_on_the_rtl():
    rng = np.random.default_rng(8)
    w = rng.integers(-1, 2, (9, 30), dtype=np.int8)
    x = rng.integers(-128, 128, 30, dtype=np.int8)
    y, f = engine.matmul(w, x, engine="rtl")
    assert (y == w.astype(np.int32) @ x.astype(np.int32)).all()
    assert f is None


def test_bad_input_raises_with_the_tools_message():
    w = np.array([[2, 0, 1]], dtype=np.int8)
    with pytest.raises(ValueError, match="must be ternary"):
        engine.matmul(w, np.zeros(3, dtype=np.int8), engine="ref")
    with pytest.raises(ValueError, match="engine="):
        engine.matmul(w, np.zeros(3, dtype=np.int8), engine="gpu")
