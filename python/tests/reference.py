"""Plain numpy implementations of the specs (shared/specs/tlmm.md,
shared/specs/conv.md and the Rust doc comments), written independently of
the extension: the tests compare the bindings against these."""

from fractions import Fraction

import numpy as np

F32 = np.float32


# --- TLMM quantizers ----------------------------------------------------------


def round_to_f32(q: Fraction) -> np.float32:
    """The float32 nearest to the exact rational ``q``, ties to even."""
    f = np.float32(float(q))  # float(q) is correctly rounded to f64: within an ulp
    cands = [np.nextafter(f, F32(-np.inf)), f, np.nextafter(f, F32(np.inf))]
    return min(cands, key=lambda c: (abs(Fraction(float(c)) - q), int(c.view(np.uint32)) & 1))


def absmean(w: np.ndarray) -> np.float32:
    """``mean(|w|)``: the exact mean rounded once to float32 (finite w)."""
    a = np.abs(w.astype(np.float64)).ravel()
    if a.size == 0:
        return F32(0)
    total = sum((Fraction(v) for v in a.tolist()), Fraction(0))
    return round_to_f32(total / a.size)


def quantize_weights(w: np.ndarray, gamma: np.float32) -> np.ndarray:
    s_w = F32(1) / np.maximum(F32(gamma), F32(1e-5))
    return np.clip(np.rint(w * s_w), -1, 1).astype(np.int8)


def absmax_scale(x: np.ndarray) -> np.ndarray:
    """Per row of 2-D ``x``: ``127 / max(max|x|, 1e-5)``, NaN ignored."""
    m = np.fmax.reduce(np.abs(x), axis=1, initial=F32(0))
    return (F32(127) / np.maximum(m, F32(1e-5))).astype(F32)


def quantize_acts(x: np.ndarray, s_x: np.ndarray) -> np.ndarray:
    """Row r of 2-D ``x`` with scale ``s_x[r]``; NaN gives 0."""
    with np.errstate(invalid="ignore"):  # inf * 0 is NaN, which quantizes to 0
        v = np.rint(x * s_x[:, None].astype(F32))
    v = np.where(np.isnan(v), F32(0), v)
    return np.clip(v, -128, 127).astype(np.int8)


# --- TLMM weight code and matmul --------------------------------------------


def idx_bits(g: int) -> int:
    return ((3**g - 1) // 2).bit_length()


def encode(w: np.ndarray, g: int) -> np.ndarray:
    m, k = w.shape
    ng = -(-k // g)
    wp = np.zeros((m, ng * g), np.int64)
    wp[:, :k] = w
    v = (wp.reshape(m, ng, g) * 3 ** np.arange(g - 1, -1, -1)).sum(axis=2)
    return (((v < 0).astype(np.int64) << idx_bits(g)) | np.abs(v)).astype(np.uint8)


def balanced_ternary(idx: int, g: int) -> list[int]:
    """The g balanced-ternary digits of idx, most significant first."""
    digits = []
    for _ in range(g):
        r = idx % 3
        digit = -1 if r == 2 else r
        digits.append(digit)
        idx = (idx - digit) // 3
    assert idx == 0
    return digits[::-1]


def decode(codes: np.ndarray, k: int, g: int) -> tuple[np.ndarray, bool]:
    """Returns the weights and whether any code was illegal."""
    m, ng = codes.shape
    ib, max_idx = idx_bits(g), (3**g - 1) // 2
    w = np.zeros((m, ng * g), np.int8)
    illegal = False
    for r in range(m):
        for j in range(ng):
            c = int(codes[r, j])
            idx, sign = c & ((1 << ib) - 1), (c >> ib) & 1
            if idx > max_idx:
                illegal = True
                continue
            d = balanced_ternary(idx, g)
            w[r, j * g : (j + 1) * g] = [-v for v in d] if sign else d
    return w[:, :k], illegal


def wrap(v: np.ndarray, bits: int) -> np.ndarray:
    """The value of a ``bits``-wide two's-complement accumulator summing to v."""
    half, mod = 1 << (bits - 1), 1 << bits
    # Elementwise on Python ints: numpy would turn 2**63 into a C long.
    return np.frompyfunc(lambda a: (int(a) + half) % mod - half, 1, 1)(np.asarray(v, dtype=object))


def matmul(w: np.ndarray, x: np.ndarray, acc_w: int) -> np.ndarray:
    """Exact ``x @ w.T`` (or ``w @ x``), wrapped to ``acc_w`` bits, as int32."""
    exact = x.astype(np.int64) @ w.T.astype(np.int64)
    return wrap(exact, acc_w).astype(np.int32)


def k_exact(acc_w: int) -> int:
    return ((1 << (acc_w - 1)) - 1) // 128


# --- Convolution ---------------------------------------------------------------


def rs(v: np.ndarray, s: int) -> np.ndarray:
    """Round-half-up arithmetic right shift (exact, on Python ints)."""
    v = np.asarray(v, dtype=object)
    if s == 0:
        return v
    return (v + (1 << (s - 1))) >> s


def sat(v: np.ndarray, bits: int) -> np.ndarray:
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return np.asarray(np.clip(np.asarray(v, dtype=object), lo, hi), dtype=np.int64)


def conv_sums(x: np.ndarray, w: np.ndarray, pad: int) -> np.ndarray:
    """Exact stride-1 correlation sums ``sum_{n,ky,kx} w[m,n,ky,kx] * xpad[b,n,y+ky,x+kx]``."""
    b, n, h, wd = x.shape
    m, _, k, _ = w.shape
    xp = np.pad(x.astype(object), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = h + 2 * pad - k + 1, wd + 2 * pad - k + 1
    out = np.zeros((b, m, ho, wo), dtype=object)
    for ky in range(k):
        for kx in range(k):
            patch = xp[:, :, ky : ky + ho, kx : kx + wo]  # (B, N, Ho, Wo)
            out += np.einsum("bnyx,mn->bmyx", patch, w[:, :, ky, kx].astype(object))
    return out


def overflow_mask(exact: np.ndarray, bits: int) -> np.ndarray:
    half = 1 << (bits - 1)
    return (exact < -half) | (exact >= half)


def conv_fp(x, w, pad, s_out, relu, acc_w):
    exact = conv_sums(x, w, pad)
    y = sat(rs(wrap(exact, acc_w), s_out), 16)
    if relu:
        y = np.maximum(y, 0)
    return y.astype(np.int16), exact


def conv_bp(dout, w, pad, s_out, acc_w, act_in=None):
    k = w.shape[2]
    # The transposed, 180-degree rotated weights: [N, M, K, K].
    wt = np.ascontiguousarray(w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
    exact = conv_sums(dout, wt, k - 1 - pad)
    dx = sat(rs(wrap(exact, acc_w), s_out), 16)
    if act_in is not None:
        dx = np.where(act_in > 0, dx, 0)
    return dx.astype(np.int16), exact


def conv_wu(x, dout, master, pad, g_pre, lr_mant, lr_shift, acc_w_wu):
    b, n, h, wd = x.shape
    m, _, k, _ = master.shape
    ho, wo = dout.shape[2], dout.shape[3]
    xp = np.pad(x.astype(object), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    d = dout.astype(object)
    exact = np.zeros((m, n, k, k), dtype=object)
    for ky in range(k):
        for kx in range(k):
            patch = xp[:, :, ky : ky + ho, kx : kx + wo]  # (B, N, Ho, Wo)
            prod = d[:, :, None] * patch[:, None]  # (B, M, N, Ho, Wo)
            exact[:, :, ky, kx] = rs(prod, g_pre).sum(axis=(0, 3, 4))
    g = wrap(exact, acc_w_wu)
    delta = rs(g * lr_mant, lr_shift)
    new_master = sat(master.astype(object) - delta, 32)
    w16 = sat(rs(new_master.astype(object), 16), 16)
    return g.astype(np.int64), new_master.astype(np.int32), w16.astype(np.int16), exact


def pool_fwd(x):
    b, c, h, w = x.shape
    win = x.reshape(b, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(b, c, h // 2, w // 2, 4)
    # Window order (0,0), (0,1), (1,0), (1,1) is code dy*2+dx; argmax takes the first maximum.
    return win.max(axis=-1).astype(np.int16), win.argmax(axis=-1).astype(np.uint8)


def pool_bwd(dy, argmax):
    b, c, ho, wo = dy.shape
    dx = np.zeros((b, c, 2 * ho, 2 * wo), np.int16)
    for code in range(4):
        ddy, ddx = code >> 1, code & 1
        dx[:, :, ddy::2, ddx::2] = np.where(argmax == code, dy, 0)
    return dx
