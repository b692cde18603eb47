"""Bad arguments raise TypeError (not an array, wrong dtype) or ValueError
(rank, shape, values, parameters), with messages that name the argument."""

import numpy as np
import pytest

import hlsk

W = np.array([[1, 0, -1, 1], [0, 0, 1, -1]], np.int8)
X = np.array([3, -4, 5, 6], np.int8)
X4 = np.zeros((1, 2, 4, 4), np.int16)
W4 = np.zeros((3, 2, 3, 3), np.int16)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: hlsk.quantize_weights_absmean(np.zeros((2, 2))), r"w must have dtype float32, got float64"),
        (lambda: hlsk.quantize_activations_absmax(np.zeros(3, np.float16)), r"x must have dtype float32"),
        (lambda: hlsk.golden(W.astype(np.int16), X), r"w must have dtype int8, got int16"),
        (lambda: hlsk.golden(W, X.astype(np.uint8)), r"x must have dtype int8, got uint8"),
        (lambda: hlsk.golden(W.tolist(), X), r"w must be a numpy.ndarray of int8, got list"),
        (lambda: hlsk.tlmm_table(hlsk.encode(W).astype(np.int8), X), r"codes must have dtype uint8"),
        (lambda: hlsk.dequantize(np.zeros(2, np.int64), 1.0, 1.0), r"y_int must have dtype int32"),
        (lambda: hlsk.dequantize(np.zeros(2, np.int32), "1", 1.0), r"s_x must be a float"),
        (lambda: hlsk.conv_fp(X4.astype(np.float32), W4), r"x must have dtype int16, got float32"),
        (lambda: hlsk.conv_wu(X4, np.zeros((1, 3, 2, 2), np.int16), W4), r"master must have dtype int32"),
        (lambda: hlsk.pool_bwd(np.zeros((1, 1, 1, 1), np.int16), np.zeros((1, 1, 1, 1), np.int8)), r"argmax must have dtype uint8"),
        (lambda: hlsk.HwConfig(bogus=1), r"HwConfig has no field \"bogus\""),
    ],
)
def test_type_errors(call, match):
    with pytest.raises(TypeError, match=match):
        call()


@pytest.mark.parametrize(
    "call,match",
    [
        # rank
        (lambda: hlsk.quantize_weights_absmean(np.zeros(4, np.float32)), r"w must be 2-D \(M, K\), got a 1-D array of shape \(4,\)"),
        (lambda: hlsk.quantize_activations_absmax(np.zeros((1, 2, 3), np.float32)), r"x must be 1-D or 2-D"),
        (lambda: hlsk.golden(W[0], X), r"w must be 2-D"),
        (lambda: hlsk.conv_fp(X4[0], W4), r"x must be 4-D \(B, N, H, W\), got a 3-D array of shape \(2, 4, 4\)"),
        (lambda: hlsk.pool_fwd(np.zeros((2, 2), np.int16)), r"x must be 4-D"),
        # mismatched shapes
        (lambda: hlsk.golden(W, X[:3]), r"x has K = 3 activations per row.*w has K = 4"),
        (lambda: hlsk.tlmm_table(hlsk.encode(W), np.zeros(7, np.int8)), r"codes has 2 groups per row, but K = 7"),
        (lambda: hlsk.decode(hlsk.encode(W), 7), r"codes has 2 groups per row, but K = 7"),
        (lambda: hlsk.dequantize(np.zeros((2, 3), np.int32), np.ones(3, np.float32), 1.0), r"s_x has shape \(3,\)"),
        (lambda: hlsk.quantize_activations_with_scale(np.zeros(3, np.float32), np.ones(1, np.float32)), r"s_x has shape"),
        (lambda: hlsk.conv_fp(X4, W4[:, :1]), r"input has 2 channels, weights expect 1"),
        (lambda: hlsk.conv_fp(X4, np.zeros((3, 2, 3, 2), np.int16)), r"not \[M, N, K, K\]"),
        (lambda: hlsk.conv_bp(np.zeros((1, 3, 4, 4), np.int16), W4, act_in=X4[:, :1], pad=1), r"act_in is"),
        (lambda: hlsk.conv_wu(X4, np.zeros((1, 3, 3, 3), np.int16), W4.astype(np.int32)), r"do not match master weights"),
        (lambda: hlsk.pool_fwd(np.zeros((1, 1, 3, 4), np.int16)), r"even, nonzero H and W, got 3x4"),
        (lambda: hlsk.pool_bwd(np.zeros((1, 1, 2, 2), np.int16), np.zeros((1, 1, 2, 1), np.uint8)), r"argmax has shape"),
        # values
        (lambda: hlsk.encode(W * 2), r"w\[0, 0\] = 2 is not ternary"),
        (lambda: hlsk.golden(np.array([[0, -2]], np.int8), X[:2]), r"w\[0, 1\] = -2 is not ternary"),
        (lambda: hlsk.decode(np.array([[0x20]], np.uint8), 3), r"codes\[0, 0\] = 0x20 does not fit the 5-bit code"),
        (lambda: hlsk.pool_bwd(np.zeros((1, 1, 1, 1), np.int16), np.full((1, 1, 1, 1), 4, np.uint8)), r"argmax\[0, 0, 0, 0\] = 4 is not a 2-bit argmax code"),
        (lambda: hlsk.quantize_weights_with_scale(np.ones((1, 1), np.float32), 0.0), r"gamma.*must be finite and > 0"),
        (lambda: hlsk.quantize_activations_with_scale(np.ones((2, 1), np.float32), np.array([1, np.nan], np.float32)), r"token 1 must be finite"),
        # parameters
        (lambda: hlsk.encode(W, g=0), r"g = 0 is outside 1..=5"),
        (lambda: hlsk.encode(W, g=6), r"g = 6 is outside 1..=5"),
        (lambda: hlsk.golden(W, X, acc_w=33), r"acc_w = 33 is outside 8..=32"),
        (lambda: hlsk.build_table(np.zeros(4, np.int8), 3), r"acts has 4 activations"),
        (lambda: hlsk.conv_fp(X4, W4, pad=3), r"pad 3 must be below K = 3"),
        (lambda: hlsk.conv_fp(X4, W4, s_out=64), r"s_out = 64 is outside 0..=63"),
        (lambda: hlsk.conv_fp(X4, W4, pad=-1), r"pad = -1 is outside"),
        (lambda: hlsk.conv_wu(X4, np.zeros((1, 3, 2, 2), np.int16), W4.astype(np.int32), lr_mant=1 << 15), r"lr_mant = 32768 is outside 0..=32767"),
        (lambda: hlsk.OsCycleModel(0, 1, 1), r"g = 0 is outside 1..=5"),
        (lambda: hlsk.OsCycleModel().predict(0, 10), r"m = 0 is outside"),
        (lambda: hlsk.TsCycleModel().predict(4, 0), r"k = 0 is outside"),
        (lambda: hlsk.HwConfig(t=-1), r"HwConfig t = -1"),
        (lambda: hlsk.HwConfig(acc_w=16), r"ACC_W = 16: must be in 32..=64"),
        (lambda: hlsk.best_tiling("XX", n=1, m=1, h=1, w=1, b=1, hw=hlsk.HwConfig()), r"op = \"XX\" is not an operation"),
        (lambda: hlsk.best_tiling("FP", n=1, m=1, h=4, w=4, b=1, k=2, hw=hlsk.HwConfig()), r"K = 2: must be 1 or 3"),
        (lambda: hlsk.best_tiling("POOL_FWD", n=2, h=3, w=4, b=1, hw=hlsk.HwConfig()), r"even height"),
        (lambda: hlsk.plan((1, 8, 8), [hlsk.Layer.fc(4), hlsk.Layer.conv(2)], batch=8, hw=hlsk.HwConfig()), r"cannot follow a fully connected layer"),
        (lambda: hlsk.plan((1, 8, 8), [hlsk.Layer.pool()], batch=2, hw=hlsk.HwConfig(), magnitudes={"act": [1.0, 2.0]}), r"has 2 entries, the network has 1 layers"),
    ],
)
def test_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_nothing_is_cast_silently():
    # An int64 matrix of ternary values is still refused: convert explicitly.
    with pytest.raises(TypeError, match="astype"):
        hlsk.encode(W.astype(np.int64))
    # Big-endian int8 does not exist, but big-endian int16 does.
    with pytest.raises(TypeError, match="x must have dtype int16"):
        hlsk.pool_fwd(X4.astype(">i2"))
