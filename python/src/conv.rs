//! `hls_rust::conv::golden` on NCHW / MNKK numpy arrays: FP, BP, WU with
//! the fused SGD update, 2x2 max pool forward and backward.

use crate::array::{Array, Dtype, int_in, output, read, shape_str, value_error};
use hls_rust::conv::Tensor4;
use hls_rust::conv::golden::{self, Audit, BpParams, FpParams, WuParams};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Reads a 4-D array as a [`Tensor4`].
fn tensor<T: Dtype + Default>(
    name: &str,
    obj: &Bound<'_, PyAny>,
    layout: &str,
) -> PyResult<Tensor4<T>> {
    let a = read::<T>(name, obj, &[4], layout)?;
    Tensor4::from_vec(a.dims(), a.data).map_err(|e| value_error(name, e))
}

/// A [`Tensor4`] as a numpy array.
fn array<'py, T: Dtype>(py: Python<'py>, t: Tensor4<T>) -> PyResult<Array<'py, T>> {
    let dims = t.dims();
    output(py, &dims, t.into_vec())
}

/// The overflow audit as a dict.
fn audit_dict<'py>(py: Python<'py>, a: &Audit) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("op", a.op.name())?;
    d.set_item("acc_w", a.acc_w)?;
    d.set_item("sums", a.sums)?;
    // Index tuples, as numpy indexes are.
    let overflows: Vec<((usize, usize, usize, usize), i128)> = a
        .overflows
        .iter()
        .map(|o| {
            let [i, j, k, l] = o.index;
            ((i, j, k, l), o.exact)
        })
        .collect();
    d.set_item("overflows", overflows)?;
    Ok(d)
}

/// Checks a shift or accumulator width parameter.
fn shift(name: &str, v: i64) -> PyResult<u32> {
    int_in(name, v, 0, 63)
}

fn acc(name: &str, v: i64) -> PyResult<u32> {
    int_in(name, v, 1, 64)
}

fn pad(v: i64) -> PyResult<usize> {
    int_in("pad", v, 0, i64::from(u16::MAX))
}

/// Forward convolution (FP), stride 1.
///
/// ``acc = sx(sum_{n,ky,kx} w[m,n,ky,kx] * xpad[b,n,y+ky,x+kx], acc_w)``
/// (exact sum, then wrapped to ``acc_w`` bits), ``y = sat16(rs(acc,
/// s_out))`` with the round-half-up shift ``rs(v, s) = (v + 2**(s-1)) >> s``,
/// then ``max(y, 0)`` if ``relu``.
///
/// Args:
///     x: int16 input of shape (B, N, H, W).
///     w: int16 weights of shape (M, N, K, K).
///     pad: zero padding on each side, below K.
///     s_out: right shift from the accumulator to the output scale, 0..63.
///     relu: apply ReLU on write-back.
///     acc_w: accumulator width ACC_W in bits, 1..64 (builds use 32..64).
///
/// Returns:
///     ``(y, audit)``: int16 output of shape (B, M, H + 2 pad - K + 1,
///     W + 2 pad - K + 1), and the overflow audit (a dict: ``op``,
///     ``acc_w``, ``sums``, and ``overflows``, a list of ``(index, exact)``
///     for every sum that wrapped).
#[pyfunction]
#[pyo3(signature = (x, w, *, pad = 0, s_out = 0, relu = false, acc_w = 32))]
fn conv_fp<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    w: &Bound<'py, PyAny>,
    pad: i64,
    s_out: i64,
    relu: bool,
    acc_w: i64,
) -> PyResult<(Array<'py, i16>, Bound<'py, PyDict>)> {
    let p = FpParams {
        pad: self::pad(pad)?,
        s_out: shift("s_out", s_out)?,
        relu,
        acc_w: acc("acc_w", acc_w)?,
    };
    let x = tensor::<i16>("x", x, "(B, N, H, W)")?;
    let w = tensor::<i16>("w", w, "(M, N, K, K)")?;
    let (y, audit) = py
        .detach(|| golden::conv_fp(&x, &w, &p))
        .map_err(|e| value_error("conv_fp", e))?;
    Ok((array(py, y)?, audit_dict(py, &audit)?))
}

/// Backward convolution (BP) to the input gradient.
///
/// ``acc = sx(sum_{m,ky,kx} w[m,n,K-1-ky,K-1-kx] * dpad[b,m,y+ky,x+kx],
/// acc_w)`` with the gradient padded by ``K-1-pad``; ``dx = sat16(rs(acc,
/// s_out))``; with ``act_in``, ``dx = dx if act_in > 0 else 0``.
///
/// Args:
///     dout: int16 output gradient of shape (B, M, Ho, Wo).
///     w: int16 forward weights of shape (M, N, K, K).
///     act_in: optional int16 forward input activations (B, N, H, W) for
///         the ReLU mask.
///     pad: the forward layer's zero padding, below K.
///     s_out: right shift from the accumulator to the gradient scale, 0..63.
///     acc_w: accumulator width ACC_W in bits, 1..64.
///
/// Returns:
///     ``(dx, audit)``: int16 input gradient of shape (B, N, Ho - 2 pad +
///     K - 1, Wo - 2 pad + K - 1), and the overflow audit.
#[pyfunction]
#[pyo3(signature = (dout, w, *, act_in = None, pad = 0, s_out = 0, acc_w = 32))]
fn conv_bp<'py>(
    py: Python<'py>,
    dout: &Bound<'py, PyAny>,
    w: &Bound<'py, PyAny>,
    act_in: Option<&Bound<'py, PyAny>>,
    pad: i64,
    s_out: i64,
    acc_w: i64,
) -> PyResult<(Array<'py, i16>, Bound<'py, PyDict>)> {
    let p = BpParams {
        pad: self::pad(pad)?,
        s_out: shift("s_out", s_out)?,
        acc_w: acc("acc_w", acc_w)?,
    };
    let dout = tensor::<i16>("dout", dout, "(B, M, Ho, Wo)")?;
    let w = tensor::<i16>("w", w, "(M, N, K, K)")?;
    let act = act_in
        .map(|a| tensor::<i16>("act_in", a, "(B, N, H, W)"))
        .transpose()?;
    let (dx, audit) = py
        .detach(|| golden::conv_bp(&dout, &w, act.as_ref(), &p))
        .map_err(|e| value_error("conv_bp", e))?;
    Ok((array(py, dx)?, audit_dict(py, &audit)?))
}

/// Weight update (WU) with the fused SGD step on int32 master weights.
///
/// ``g = sx(sum_{b,y,x} rs(dout[b,m,y,x] * xpad[b,n,y+ky,x+kx], g_pre),
/// acc_w_wu)``, ``delta = rs(g * lr_mant, lr_shift)``, ``master' =
/// sat32(master - delta)``, ``w16' = sat16(rs(master', 16))``.
///
/// Args:
///     x: int16 forward input of shape (B, N, H, W).
///     dout: int16 output gradient of shape (B, M, Ho, Wo).
///     master: int32 master weights of shape (M, N, K, K) (16 more
///         fraction bits than the int16 working weights).
///     pad: the forward layer's zero padding, below K.
///     g_pre: right shift applied to every product before the sum, 0..63.
///     lr_mant: learning-rate mantissa, 0..32767.
///     lr_shift: learning-rate shift, 0..63.
///     acc_w_wu: gradient accumulator width ACC_W_WU in bits, 1..64.
///
/// Returns:
///     dict with ``grad`` (int64, the wrapped gradient g), ``master``
///     (int32, updated), ``w16`` (int16, updated working weights), all of
///     shape (M, N, K, K), and ``audit``.
#[pyfunction]
#[pyo3(signature = (x, dout, master, *, pad = 0, g_pre = 0, lr_mant = 0, lr_shift = 0, acc_w_wu = 40))]
#[allow(clippy::too_many_arguments)]
fn conv_wu<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    dout: &Bound<'py, PyAny>,
    master: &Bound<'py, PyAny>,
    pad: i64,
    g_pre: i64,
    lr_mant: i64,
    lr_shift: i64,
    acc_w_wu: i64,
) -> PyResult<Bound<'py, PyDict>> {
    let p = WuParams {
        pad: self::pad(pad)?,
        g_pre: shift("g_pre", g_pre)?,
        lr_mant: int_in("lr_mant", lr_mant, 0, (1 << 15) - 1)?,
        lr_shift: int_in("lr_shift", lr_shift, 0, 63)?,
        acc_w_wu: acc("acc_w_wu", acc_w_wu)?,
    };
    let x = tensor::<i16>("x", x, "(B, N, H, W)")?;
    let dout = tensor::<i16>("dout", dout, "(B, M, Ho, Wo)")?;
    let master = tensor::<i32>("master", master, "(M, N, K, K)")?;
    let r = py
        .detach(|| golden::conv_wu(&x, &dout, &master, &p))
        .map_err(|e| value_error("conv_wu", e))?;
    let d = PyDict::new(py);
    d.set_item("grad", array(py, r.grad)?)?;
    d.set_item("master", array(py, r.master)?)?;
    d.set_item("w16", array(py, r.w16)?)?;
    d.set_item("audit", audit_dict(py, &r.audit)?)?;
    Ok(d)
}

/// 2x2 stride-2 max pool, forward (POOL_FWD).
///
/// The first maximum in row-major order wins (strict ``>``); its position
/// is the 2-bit argmax code ``dy * 2 + dx``.
///
/// Args:
///     x: int16 input of shape (B, C, H, W), H and W even and nonzero.
///
/// Returns:
///     ``(y, argmax)``: int16 pooled values and uint8 argmax codes (0..3),
///     both of shape (B, C, H / 2, W / 2).
#[pyfunction]
#[pyo3(signature = (x, /))]
fn pool_fwd<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
) -> PyResult<(Array<'py, i16>, Array<'py, u8>)> {
    let x = tensor::<i16>("x", x, "(B, C, H, W)")?;
    let (y, arg) = py
        .detach(|| golden::pool_fwd(&x))
        .map_err(|e| value_error("pool_fwd", e))?;
    Ok((array(py, y)?, array(py, arg)?))
}

/// 2x2 stride-2 max pool, backward (POOL_BWD).
///
/// Each gradient goes to its argmax position in its 2x2 window, zeros
/// elsewhere.
///
/// Args:
///     dy: int16 gradient of shape (B, C, Ho, Wo).
///     argmax: uint8 codes ``dy * 2 + dx`` (0..3) of the same shape, as
///         ``pool_fwd`` returns.
///
/// Returns:
///     int16 input gradient of shape (B, C, 2 Ho, 2 Wo).
#[pyfunction]
#[pyo3(signature = (dy, argmax))]
fn pool_bwd<'py>(
    py: Python<'py>,
    dy: &Bound<'py, PyAny>,
    argmax: &Bound<'py, PyAny>,
) -> PyResult<Array<'py, i16>> {
    let dy = tensor::<i16>("dy", dy, "(B, C, Ho, Wo)")?;
    let arg = tensor::<u8>("argmax", argmax, "(B, C, Ho, Wo)")?;
    if dy.dims() != arg.dims() {
        return Err(PyValueError::new_err(format!(
            "argmax has shape {}, it must match dy's {}",
            shape_str(&arg.dims()),
            shape_str(&dy.dims())
        )));
    }
    if let Some(i) = arg.data().iter().position(|&c| c > 3) {
        let [b, c, y, x] = arg.index_of(i);
        return Err(PyValueError::new_err(format!(
            "argmax[{b}, {c}, {y}, {x}] = {} is not a 2-bit argmax code (0..3)",
            arg.data()[i]
        )));
    }
    let dx = py
        .detach(|| golden::pool_bwd(&dy, &arg))
        .map_err(|e| value_error("pool_bwd", e))?;
    array(py, dx)
}

/// Adds the convolution functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(conv_fp, m)?)?;
    m.add_function(wrap_pyfunction!(conv_bp, m)?)?;
    m.add_function(wrap_pyfunction!(conv_wu, m)?)?;
    m.add_function(wrap_pyfunction!(pool_fwd, m)?)?;
    m.add_function(wrap_pyfunction!(pool_bwd, m)?)?;
    Ok(())
}
