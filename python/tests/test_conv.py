"""Convolution bindings against the numpy reference of shared/specs/conv.md."""

import numpy as np
import pytest
import reference as ref

import hlsk

# (B, N, M, H, W, K, pad)
SHAPES = [
    (1, 1, 1, 1, 1, 1, 0),
    (2, 3, 4, 6, 5, 3, 1),
    (1, 2, 3, 5, 7, 3, 0),
    (3, 4, 2, 4, 4, 3, 2),
    (2, 5, 3, 3, 6, 1, 0),
]


def i16(rng, shape, lo=-(2**15), hi=2**15):
    return rng.integers(lo, hi, size=shape, dtype=np.int16)


def audit_overflows(exact, bits):
    mask = ref.overflow_mask(exact, bits)
    return [(tuple(int(i) for i in idx), int(exact[tuple(idx)])) for idx in np.argwhere(mask)]


@pytest.mark.parametrize("b,n,m,h,w,k,pad", SHAPES)
@pytest.mark.parametrize("s_out,relu,acc_w", [(0, False, 64), (7, True, 32), (13, False, 24), (3, True, 40)])
def test_conv_fp_matches_numpy(b, n, m, h, w, k, pad, s_out, relu, acc_w):
    rng = np.random.default_rng([20, b, n, m, h, w, k, pad, s_out])
    x, wt = i16(rng, (b, n, h, w)), i16(rng, (m, n, k, k))
    y, audit = hlsk.conv_fp(x, wt, pad=pad, s_out=s_out, relu=relu, acc_w=acc_w)
    want, exact = ref.conv_fp(x, wt, pad, s_out, relu, acc_w)
    assert y.dtype == np.int16 and y.shape == want.shape
    np.testing.assert_array_equal(y, want)
    assert audit["op"] == "FP" and audit["acc_w"] == acc_w and audit["sums"] == want.size
    assert audit["overflows"] == audit_overflows(exact, acc_w)


def test_conv_fp_saturates_and_wraps():
    x = np.full((1, 1, 3, 3), 32767, np.int16)
    w = np.full((1, 1, 3, 3), 32767, np.int16)
    # Exact sum 9 * 32767^2 fits 34 bits: with 64 bits the output saturates at 32767,
    # with 32 bits the accumulator wraps first.
    for acc_w in (64, 32, 20):
        y, audit = hlsk.conv_fp(x, w, pad=1, s_out=2, acc_w=acc_w)
        want, exact = ref.conv_fp(x, w, 1, 2, False, acc_w)
        np.testing.assert_array_equal(y, want)
        assert audit["overflows"] == audit_overflows(exact, acc_w)
    assert hlsk.conv_fp(x, w, pad=1, acc_w=64)[0].min() == 32767
    assert len(hlsk.conv_fp(x, w, pad=1, acc_w=32)[1]["overflows"]) == 9


def test_rounding_shift_is_half_up():
    # A 1x1 identity convolution exposes rs directly: rs(v, 1) = floor((v + 1) / 2).
    v = np.array([-5, -4, -3, -2, -1, 0, 1, 2, 3, 5], np.int16).reshape(1, 1, 1, -1)
    one = np.ones((1, 1, 1, 1), np.int16)
    y, _ = hlsk.conv_fp(v, one, s_out=1)
    np.testing.assert_array_equal(y.ravel(), [-2, -2, -1, -1, 0, 0, 1, 1, 2, 3])
    np.testing.assert_array_equal(y.ravel(), np.floor((v.ravel() + 1) / 2).astype(np.int16))


@pytest.mark.parametrize("b,n,m,h,w,k,pad", SHAPES)
@pytest.mark.parametrize("s_out,masked,acc_w", [(0, False, 64), (9, True, 32), (4, False, 28)])
def test_conv_bp_matches_numpy(b, n, m, h, w, k, pad, s_out, masked, acc_w):
    rng = np.random.default_rng([21, b, n, m, h, w, k, pad, s_out])
    ho, wo = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    dout, wt = i16(rng, (b, m, ho, wo)), i16(rng, (m, n, k, k))
    act = i16(rng, (b, n, h, w), -3, 4) if masked else None
    dx, audit = hlsk.conv_bp(dout, wt, act_in=act, pad=pad, s_out=s_out, acc_w=acc_w)
    want, exact = ref.conv_bp(dout, wt, pad, s_out, acc_w, act)
    assert dx.shape == (b, n, h, w)
    np.testing.assert_array_equal(dx, want)
    assert audit["op"] == "BP" and audit["overflows"] == audit_overflows(exact, acc_w)


@pytest.mark.parametrize("b,n,m,h,w,k,pad", SHAPES)
def test_conv_bp_is_the_adjoint_of_fp(b, n, m, h, w, k, pad):
    # Without shift, wrap or saturation, <conv_fp(x), d> = <x, conv_bp(d)>.
    rng = np.random.default_rng([22, b, n, m, h, w, k, pad])
    ho, wo = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    x, wt, d = i16(rng, (b, n, h, w), -8, 8), i16(rng, (m, n, k, k), -8, 8), i16(rng, (b, m, ho, wo), -8, 8)
    y, _ = hlsk.conv_fp(x, wt, pad=pad, acc_w=64)
    dx, _ = hlsk.conv_bp(d, wt, pad=pad, acc_w=64)
    assert int((y.astype(np.int64) * d).sum()) == int((x.astype(np.int64) * dx).sum())


@pytest.mark.parametrize("b,n,m,h,w,k,pad", SHAPES)
@pytest.mark.parametrize("g_pre,lr_mant,lr_shift,acc_w_wu", [(0, 1, 0, 64), (5, 20000, 20, 40), (2, 32767, 63, 24)])
def test_conv_wu_matches_numpy(b, n, m, h, w, k, pad, g_pre, lr_mant, lr_shift, acc_w_wu):
    rng = np.random.default_rng([23, b, n, m, h, w, k, pad, g_pre])
    ho, wo = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    x, dout = i16(rng, (b, n, h, w)), i16(rng, (b, m, ho, wo))
    master = rng.integers(-(2**31), 2**31, size=(m, n, k, k), dtype=np.int32)
    master.flat[0] = -(2**31)
    r = hlsk.conv_wu(
        x, dout, master, pad=pad, g_pre=g_pre, lr_mant=lr_mant, lr_shift=lr_shift, acc_w_wu=acc_w_wu
    )
    grad, new_master, w16, exact = ref.conv_wu(x, dout, master, pad, g_pre, lr_mant, lr_shift, acc_w_wu)
    assert r["grad"].dtype == np.int64 and r["master"].dtype == np.int32 and r["w16"].dtype == np.int16
    np.testing.assert_array_equal(r["grad"], grad)
    np.testing.assert_array_equal(r["master"], new_master)
    np.testing.assert_array_equal(r["w16"], w16)
    assert r["audit"]["op"] == "WU" and r["audit"]["overflows"] == audit_overflows(exact, acc_w_wu)


def test_sgd_step_example():
    # lr = 1.0 (lr_mant 1, shift 0), master 3 << 16 is weight 3; gradient 1 << 16 leaves weight 2.
    x = np.ones((1, 1, 1, 1), np.int16)
    d = np.array([[[[1]]]], np.int16) << 8
    master = np.array([[[[3 << 16]]]], np.int32)
    r = hlsk.conv_wu(x * 256, d, master, lr_mant=1)
    assert r["grad"].item() == 1 << 16 and r["master"].item() == 2 << 16 and r["w16"].item() == 2


@pytest.mark.parametrize("b,c,h,w", [(1, 1, 2, 2), (2, 3, 4, 6), (3, 2, 8, 2)])
@pytest.mark.parametrize("span", [3, 2**15])  # few values: many ties
def test_pool_fwd_and_bwd_match_numpy(b, c, h, w, span):
    rng = np.random.default_rng([24, b, c, h, w, span])
    x = i16(rng, (b, c, h, w), -span, span)
    y, arg = hlsk.pool_fwd(x)
    want_y, want_arg = ref.pool_fwd(x)
    assert y.dtype == np.int16 and arg.dtype == np.uint8
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(arg, want_arg)
    dy = i16(rng, y.shape)
    dx = hlsk.pool_bwd(dy, arg)
    np.testing.assert_array_equal(dx, ref.pool_bwd(dy, arg))


def test_pool_ties_go_to_the_first_maximum():
    x = np.array([[[[5, 5], [5, 5]], [[1, 7], [7, 7]]]], np.int16).reshape(1, 2, 2, 2)
    y, arg = hlsk.pool_fwd(x)
    np.testing.assert_array_equal(y.ravel(), [5, 7])
    np.testing.assert_array_equal(arg.ravel(), [0, 1])
