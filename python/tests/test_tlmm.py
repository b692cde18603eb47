"""TLMM bindings against the numpy reference of shared/specs/tlmm.md."""

import numpy as np
import pytest
import reference as ref

import hlsk

SHAPES = [(1, 1), (3, 7), (16, 33), (64, 96), (5, 200)]


def bits(a) -> np.ndarray:
    return np.asarray(a, np.float32).view(np.uint32)


def random_weights(rng, shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def random_ternary(rng, m, k, p_zero=0.3):
    w = rng.choice(np.array([-1, 1], np.int8), size=(m, k))
    return np.where(rng.random((m, k)) < p_zero, np.int8(0), w).astype(np.int8)


# --- quantizers ------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("scale", [1e-3, 0.05, 1.0, 37.0])
def test_absmean_weights_match_numpy(shape, scale):
    rng = np.random.default_rng([1, *shape, int(scale * 1000)])
    w = random_weights(rng, shape, scale)
    codes, gamma = hlsk.quantize_weights_absmean(w)
    want_gamma = ref.absmean(w)
    assert bits(gamma) == bits(want_gamma), (gamma, want_gamma)
    assert codes.dtype == np.int8 and codes.shape == shape
    np.testing.assert_array_equal(codes, ref.quantize_weights(w, want_gamma))


def test_absmean_is_the_exact_mean_rounded_once():
    # Summed in float32 in index order, 1 + 2^-24 + 2^-24 would lose both
    # small terms; the exact mean does not.
    w = np.array([[1.0, 2.0**-24, 2.0**-24]], np.float32)
    _, gamma = hlsk.quantize_weights_absmean(w)
    assert bits(gamma) == bits(ref.round_to_f32(ref.Fraction(1 + 2 * 2.0**-24) / 3))
    # and it does not depend on the order of the weights
    rng = np.random.default_rng(7)
    w = random_weights(rng, (8, 50), 3.0)
    perm = rng.permutation(w.ravel()).reshape(w.shape)
    assert bits(hlsk.quantize_weights_absmean(w)[1]) == bits(hlsk.quantize_weights_absmean(perm)[1])


def test_weight_rounding_is_half_to_even_and_clips():
    # gamma = mean(0.5, 1.5, 2.5, 0.5, -0.5, -2.5) = 1.333..; use a given gamma of 1 for exact ties.
    w = np.array([[0.5, 1.5, 2.5, -0.5, -1.5, 0.49, -0.51, 7.0]], np.float32)
    q = hlsk.quantize_weights_with_scale(w, 1.0)
    np.testing.assert_array_equal(q, [[0, 1, 1, 0, -1, 0, -1, 1]])  # 0.5 -> 0, 1.5 -> 2 -> 1
    np.testing.assert_array_equal(q, ref.quantize_weights(w, np.float32(1.0)))


def test_weight_scale_floor_and_zero_tensor():
    tiny = np.full((2, 3), 3e-6, np.float32)  # gamma < 1e-5: s_w = 1 / 1e-5
    codes, gamma = hlsk.quantize_weights_absmean(tiny)
    assert bits(gamma) == bits(ref.absmean(tiny))
    np.testing.assert_array_equal(codes, ref.quantize_weights(tiny, gamma))  # 0.3 -> 0
    codes, gamma = hlsk.quantize_weights_absmean(np.zeros((2, 2), np.float32))
    assert gamma == 0.0 and not codes.any()


@pytest.mark.parametrize("shape", SHAPES)
def test_weights_with_given_scale_match_numpy(shape):
    rng = np.random.default_rng([2, *shape])
    w = random_weights(rng, shape)
    gamma = np.float32(rng.uniform(0.1, 2.0))
    np.testing.assert_array_equal(hlsk.quantize_weights_with_scale(w, gamma), ref.quantize_weights(w, gamma))


@pytest.mark.parametrize("shape", [(1, 1), (4, 16), (9, 100), (32, 7)])
def test_absmax_activations_match_numpy(shape):
    rng = np.random.default_rng([3, *shape])
    x = random_weights(rng, shape, rng.uniform(0.01, 50))
    x[0, 0] = np.nan if shape[1] > 1 else x[0, 0]
    q, s_x = hlsk.quantize_activations_absmax(x)
    want_s = ref.absmax_scale(x)
    assert s_x.dtype == np.float32 and s_x.shape == (shape[0],)
    np.testing.assert_array_equal(bits(s_x), bits(want_s))
    np.testing.assert_array_equal(q, ref.quantize_acts(x, want_s))
    # One token at a time gives the same, with a scalar scale.
    q0, s0 = hlsk.quantize_activations_absmax(x[-1])
    assert isinstance(s0, float) and bits(s0) == bits(want_s[-1])
    np.testing.assert_array_equal(q0, q[-1])


def test_activation_rounding_ties_to_even_and_saturation():
    # max|x| = 254: s_x = 0.5 exactly, so x * s_x = 2.5, 3.5, -2.5, ... exactly.
    x = np.array([[254.0, 5.0, 7.0, -5.0, -7.0, 1.0, -254.0, 3.0]], np.float32)
    q, s_x = hlsk.quantize_activations_absmax(x)
    assert s_x[0] == 0.5
    np.testing.assert_array_equal(q, [[127, 2, 4, -2, -4, 0, -127, 2]])
    # With a given scale values beyond 127 / s_x saturate at -128 and 127.
    q = hlsk.quantize_activations_with_scale(np.array([300.0, -300.0, -128.4, 126.5], np.float32), 1.0)
    np.testing.assert_array_equal(q, [127, -128, -128, 126])


def test_activation_nan_and_inf():
    x = np.array([[np.nan, 1.0, -2.0], [np.inf, 1.0, 0.0], [0.0, 0.0, 0.0]], np.float32)
    q, s_x = hlsk.quantize_activations_absmax(x)
    want_s = ref.absmax_scale(x)
    np.testing.assert_array_equal(bits(s_x), bits(want_s))
    np.testing.assert_array_equal(q, ref.quantize_acts(x, want_s))
    np.testing.assert_array_equal(q, [[0, 64, -127], [0, 0, 0], [0, 0, 0]])


@pytest.mark.parametrize("shape", [(1, 5), (6, 40)])
def test_activations_with_given_scales_match_numpy(shape):
    rng = np.random.default_rng([4, *shape])
    x = random_weights(rng, shape, 4.0)
    s = rng.uniform(1.0, 60.0, shape[0]).astype(np.float32)
    np.testing.assert_array_equal(hlsk.quantize_activations_with_scale(x, s), ref.quantize_acts(x, s))
    np.testing.assert_array_equal(
        hlsk.quantize_activations_with_scale(x, float(s[0])),
        ref.quantize_acts(x, np.full(shape[0], s[0], np.float32)),
    )


@pytest.mark.parametrize("n,m", [(1, 1), (3, 17), (8, 64)])
def test_dequantize_matches_numpy(n, m):
    rng = np.random.default_rng([5, n, m])
    y = rng.integers(-(2**23), 2**23, size=(n, m), dtype=np.int32)
    s_x = rng.uniform(0.5, 300.0, n).astype(np.float32)
    gamma = np.float32(rng.uniform(0.01, 2.0))
    got = hlsk.dequantize(y, s_x, gamma)
    want = y.astype(np.float32) / s_x[:, None] * gamma
    assert got.dtype == np.float32
    np.testing.assert_array_equal(bits(got), bits(want))
    np.testing.assert_array_equal(bits(hlsk.dequantize(y[0], float(s_x[0]), gamma)), bits(want[0]))


# --- weight code -----------------------------------------------------------------


@pytest.mark.parametrize("g", range(1, 6))
@pytest.mark.parametrize("m,k", [(1, 1), (2, 5), (7, 31), (16, 96)])
def test_encode_matches_numpy_and_decode_round_trips(g, m, k):
    rng = np.random.default_rng([6, g, m, k])
    w = random_ternary(rng, m, k)
    codes = hlsk.encode(w, g)
    assert codes.dtype == np.uint8 and codes.shape == (m, -(-k // g))
    np.testing.assert_array_equal(codes, ref.encode(w, g))
    back, flags = hlsk.decode(codes, k, g)
    assert flags == 0 and back.dtype == np.int8
    np.testing.assert_array_equal(back, w)


def test_tl2_code_examples():
    # G = 3: v = 9 w0 + 3 w1 + w2, code = sign << 4 | |v|.
    w = np.array([[-1, 1, 0, 1, 1, 1, -1]], np.int8)
    np.testing.assert_array_equal(hlsk.encode(w), [[0b1_0110, 13, 0b1_1001]])
    # G = 1: {sign, nonzero}.
    np.testing.assert_array_equal(hlsk.encode(np.array([[1, 0, -1]], np.int8), g=1), [[1, 0, 0b11]])


@pytest.mark.parametrize("g", range(1, 6))
def test_decode_of_illegal_codes_sets_err_code(g):
    ib, max_idx = ref.idx_bits(g), (3**g - 1) // 2
    illegal = [c for c in range(1 << (ib + 1)) if (c & ((1 << ib) - 1)) > max_idx]
    rng = np.random.default_rng([7, g])
    codes = ref.encode(random_ternary(rng, 3, 4 * g), g)
    if illegal:
        codes[1, 2] = illegal[0]
    w, flags = hlsk.decode(codes, 4 * g, g)
    want, any_illegal = ref.decode(codes, 4 * g, g)
    np.testing.assert_array_equal(w, want)
    assert flags == (hlsk.ERR_CODE if any_illegal else 0)
    assert any_illegal == bool(illegal)  # every G but 1 has illegal indices
    # "Negative zero" is a legal code for three zero weights.
    w, flags = hlsk.decode(np.full((1, 1), 1 << ib, np.uint8), g, g)
    assert flags == 0 and not w.any()


@pytest.mark.parametrize("g", range(1, 6))
def test_table_entries_match_balanced_ternary(g):
    rng = np.random.default_rng([8, g])
    for n in range(g + 1):
        acts = rng.integers(-128, 128, size=n, dtype=np.int8)
        padded = np.zeros(g, np.int64)
        padded[:n] = acts
        want = [int(np.dot(ref.balanced_ternary(i, g), padded)) for i in range((3**g - 1) // 2 + 1)]
        np.testing.assert_array_equal(hlsk.build_table(acts, g), want)


# --- matmuls -----------------------------------------------------------------------


@pytest.mark.parametrize("g", range(1, 6))
@pytest.mark.parametrize("m,k", [(1, 1), (4, 10), (17, 64), (64, 333)])
@pytest.mark.parametrize("batch", [None, 5])
def test_golden_equals_table_equals_numpy(g, m, k, batch):
    rng = np.random.default_rng([9, g, m, k, batch or 0])
    w = random_ternary(rng, m, k)
    shape = (k,) if batch is None else (batch, k)
    x = rng.integers(-128, 128, size=shape, dtype=np.int8)
    x.flat[0] = -128
    want = ref.matmul(w, x, 24)
    gold, gflags = hlsk.golden(w, x)
    table, tflags = hlsk.tlmm_table(hlsk.encode(w, g), x, g)
    assert gold.dtype == np.int32 and gold.shape == want.shape
    np.testing.assert_array_equal(gold, want)
    np.testing.assert_array_equal(table, want)
    assert gflags == tflags == 0


@pytest.mark.parametrize("acc_w", [8, 12, 16])
def test_narrow_accumulators_wrap_and_flag(acc_w):
    rng = np.random.default_rng([10, acc_w])
    k = ref.k_exact(acc_w) + 40
    w = np.ones((3, k), np.int8)
    w[1] = -1
    w[2] = random_ternary(rng, 1, k)[0]
    x = np.full((2, k), 127, np.int8)
    x[1] = rng.integers(-128, 128, size=k, dtype=np.int8)
    want = ref.matmul(w, x, acc_w)
    assert (want != x.astype(np.int64) @ w.T.astype(np.int64)).any()  # something wrapped
    for out, flags in [hlsk.golden(w, x, acc_w), hlsk.tlmm_table(hlsk.encode(w), x, acc_w=acc_w)]:
        np.testing.assert_array_equal(out, want)
        assert flags == hlsk.ERR_K_RANGE
    _, flags = hlsk.golden(w[:, : ref.k_exact(acc_w)], x[:, : ref.k_exact(acc_w)], acc_w)
    assert flags == 0


def test_table_path_adds_zero_for_illegal_codes():
    rng = np.random.default_rng(11)
    w = random_ternary(rng, 4, 12)
    x = rng.integers(-128, 128, size=12, dtype=np.int8)
    codes = hlsk.encode(w)
    codes[2, 1] = 14  # idx 14 > 13: illegal for G = 3
    w_eff = w.copy()
    w_eff[2, 3:6] = 0
    out, flags = hlsk.tlmm_table(codes, x)
    np.testing.assert_array_equal(out, ref.matmul(w_eff, x, 24))
    assert flags == hlsk.ERR_CODE


def test_any_memory_layout_reads_in_c_order():
    rng = np.random.default_rng(12)
    w = random_ternary(rng, 6, 20)
    x = rng.integers(-128, 128, size=(3, 20), dtype=np.int8)
    want = ref.matmul(w, x, 24)
    np.testing.assert_array_equal(hlsk.golden(np.asfortranarray(w), np.asfortranarray(x))[0], want)
    big = np.zeros((12, 40), np.int8)
    big[::2, ::2] = w
    np.testing.assert_array_equal(hlsk.golden(big[::2, ::2], x)[0], want)
    np.testing.assert_array_equal(hlsk.golden(w[::-1], x)[0], want[:, ::-1])
    wf = random_weights(rng, (5, 9))
    np.testing.assert_array_equal(
        hlsk.quantize_weights_absmean(np.asfortranarray(wf))[0], hlsk.quantize_weights_absmean(wf)[0]
    )
