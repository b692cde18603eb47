//! `hls_rust::tlmm` on numpy arrays: the BitNet b1.58 quantizers, the
//! weight code, the table and golden matmuls.

use crate::array::{Array, Input, int_in, output, read, shape_str, value_error};
use hls_rust::tlmm::{
    self, AccWidth, CodeMatrix, Flags, Grouping, MAX_G, Table, TernaryMatrix, TlmmResult,
    WeightCode, quant,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyFloat;

/// The group size `g` as a [`Grouping`].
fn grouping(g: i64) -> PyResult<Grouping> {
    Grouping::new(int_in("g", g, 1, MAX_G as i64)?).map_err(|e| value_error("g", e))
}

/// The accumulator width `acc_w` as an [`AccWidth`].
fn acc_width(acc_w: i64) -> PyResult<AccWidth> {
    let bits = int_in("acc_w", acc_w, AccWidth::MIN.into(), AccWidth::MAX.into())?;
    AccWidth::new(bits).map_err(|e| value_error("acc_w", e))
}

/// A scalar float32 parameter: a Python float or a numpy float32 scalar,
/// rounded to float32.
fn scalar_f32(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<f32> {
    obj.extract::<f64>().map(|v| v as f32).map_err(|_| {
        PyTypeError::new_err(format!(
            "{name} must be a float, got {}",
            obj.get_type()
                .name()
                .map_or_else(|_| "?".into(), |n| n.to_string())
        ))
    })
}

/// The rows of a `(N, K)` matrix (or the one row of a `(K,)` vector).
fn rows<T>(a: &Input<T>) -> impl Iterator<Item = &[T]> {
    let k = *a.shape.last().unwrap_or(&0);
    let n = if a.shape.len() == 2 { a.shape[0] } else { 1 };
    (0..n).map(move |r| &a.data[r * k..(r + 1) * k])
}

/// The per-token scales `s_x` for a `(K,)` or `(N, K)` array of shape
/// `shape` named `of`: a float (for every token), or a float32 array of
/// shape `(N,)` for a 2-D `of`.
fn token_scales(s_x: &Bound<'_, PyAny>, shape: &[usize], of: &str) -> PyResult<Vec<f32>> {
    let n = if shape.len() == 2 { shape[0] } else { 1 };
    if s_x.cast::<numpy::PyUntypedArray>().is_err() {
        return Ok(vec![scalar_f32("s_x", s_x)?; n]);
    }
    let s = read::<f32>("s_x", s_x, &[1], "(N,)")?;
    if shape.len() != 2 || s.shape[0] != n {
        return Err(PyValueError::new_err(format!(
            "s_x has shape {}: per-token scales need {of} of shape (N, ...) with N = {}, got {of} of shape {}",
            shape_str(&s.shape),
            s.shape[0],
            shape_str(shape)
        )));
    }
    Ok(s.data)
}

/// Reads a ternary `(M, K)` int8 matrix, naming the first non-ternary entry.
fn ternary(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<TernaryMatrix> {
    let w = read::<i8>(name, obj, &[2], "(M, K)")?;
    let [m, k] = w.dims();
    if let Some(i) = w.data.iter().position(|v| !(-1..=1).contains(v)) {
        return Err(PyValueError::new_err(format!(
            "{name}[{}, {}] = {} is not ternary: every weight must be -1, 0 or 1 (quantize with quantize_weights_absmean)",
            i / k,
            i % k,
            w.data[i]
        )));
    }
    TernaryMatrix::new(m, k, w.data).map_err(|e| value_error(name, e))
}

/// Reads activations `x`, `(K,)` or `(N, K)` int8, with `K` given by the
/// weights.
fn activations(obj: &Bound<'_, PyAny>, k: usize, k_from: &str) -> PyResult<Input<i8>> {
    let x = read::<i8>("x", obj, &[1, 2], "(K,) or (N, K)")?;
    let xk = *x.shape.last().unwrap_or(&0);
    if xk != k {
        return Err(PyValueError::new_err(format!(
            "x has K = {xk} activations per row (shape {}), {k_from} has K = {k}",
            shape_str(&x.shape)
        )));
    }
    Ok(x)
}

/// Runs `job` on each row of `x`: outputs `(M,)` for a vector, `(N, M)`
/// for a matrix, and the union of the flags.
fn matmul<'py>(
    py: Python<'py>,
    x: &Input<i8>,
    m: usize,
    job: impl Fn(&[i8]) -> Result<TlmmResult, tlmm::TlmmError> + Sync,
) -> PyResult<(Array<'py, i32>, u8)> {
    let results: Result<Vec<TlmmResult>, _> = py.detach(|| rows(x).map(&job).collect());
    let results = results.map_err(|e| value_error("x", e))?;
    let mut flags = Flags::empty();
    let mut out = Vec::with_capacity(results.len() * m);
    for r in results {
        flags |= r.flags;
        out.extend(r.out);
    }
    let shape = if x.shape.len() == 2 {
        vec![x.shape[0], m]
    } else {
        vec![m]
    };
    Ok((output(py, &shape, out)?, flags.bits()))
}

/// The per-tensor absmean ternary weight quantizer of BitNet b1.58.
///
/// ``gamma = mean(|w|)``, correctly rounded: the exact mean rounded once to
/// float32, ties to even (so independent of the order of the weights).
/// Then ``s_w = 1 / max(gamma, 1e-5)`` and every weight becomes
/// ``clip(round_half_even(w * s_w), -1, 1)``, each a single float32 operation.
///
/// Args:
///     w: float32 array of shape (M, K).
///
/// Returns:
///     ``(codes, gamma)``: int8 array of shape (M, K) with values in
///     {-1, 0, 1}, and gamma (a float32 value, as a Python float).
#[pyfunction]
#[pyo3(signature = (w, /))]
fn quantize_weights_absmean<'py>(
    py: Python<'py>,
    w: &Bound<'py, PyAny>,
) -> PyResult<(Array<'py, i8>, f32)> {
    let a = read::<f32>("w", w, &[2], "(M, K)")?;
    let (q, gamma) = py.detach(|| quant::quantize_weights_absmean(&a.data));
    Ok((output(py, &a.shape, q)?, gamma))
}

/// The per-token absmax int8 activation quantizer of BitNet b1.58.
///
/// Each token (row) gets its own scale ``s_x = 127 / max(max|x|, 1e-5)``
/// and every value becomes ``clip(round_half_even(x * s_x), -128, 127)``,
/// each a single float32 operation. A NaN quantizes to 0 and is ignored by
/// the maximum.
///
/// Args:
///     x: float32 array, one token of shape (K,) or N tokens of shape (N, K).
///
/// Returns:
///     ``(x_q, s_x)``: int8 array of the shape of ``x``, and the scale: a
///     float for one token, a float32 array of shape (N,) for N tokens.
#[pyfunction]
#[pyo3(signature = (x, /))]
fn quantize_activations_absmax<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
) -> PyResult<(Array<'py, i8>, Bound<'py, PyAny>)> {
    let a = read::<f32>("x", x, &[1, 2], "(K,) or (N, K)")?;
    let (q, scales) = py.detach(|| {
        let mut q = Vec::with_capacity(a.data.len());
        let mut scales = Vec::new();
        for row in rows(&a) {
            let (qr, s) = quant::quantize_activations_absmax(row);
            q.extend(qr);
            scales.push(s);
        }
        (q, scales)
    });
    let s_x = if a.shape.len() == 1 {
        PyFloat::new(py, f64::from(scales[0])).into_any()
    } else {
        output(py, &[scales.len()], scales)?.into_any()
    };
    Ok((output(py, &a.shape, q)?, s_x))
}

/// The ternary weights of ``w`` at a given scale ``gamma`` (a checkpoint's,
/// or one computed elsewhere): ``clip(round_half_even(w * s_w), -1, 1)``
/// with ``s_w = 1 / max(gamma, 1e-5)``, as in ``quantize_weights_absmean``
/// (which is this with ``gamma = mean(|w|)``).
///
/// Args:
///     w: float32 array of shape (M, K).
///     gamma: the weight scale, finite and > 0 (rounded to float32).
///
/// Returns:
///     int8 array of shape (M, K) with values in {-1, 0, 1}.
#[pyfunction]
#[pyo3(signature = (w, gamma))]
fn quantize_weights_with_scale<'py>(
    py: Python<'py>,
    w: &Bound<'py, PyAny>,
    gamma: &Bound<'py, PyAny>,
) -> PyResult<Array<'py, i8>> {
    let a = read::<f32>("w", w, &[2], "(M, K)")?;
    let gamma = scalar_f32("gamma", gamma)?;
    let q = py
        .detach(|| quant::quantize_weights_with_scale(&a.data, gamma))
        .map_err(|e| value_error("gamma", e))?;
    output(py, &a.shape, q)
}

/// The int8 activations at given scales (calibrated elsewhere):
/// ``clip(round_half_even(x * s_x), -128, 127)`` per token, as in
/// ``quantize_activations_absmax`` (values beyond ``127 / s_x``
/// saturate).
///
/// Args:
///     x: float32 array, one token (K,) or N tokens (N, K).
///     s_x: the scale, finite and > 0: a float (for every token), or for
///         (N, K) activations a float32 array of shape (N,), one per token.
///
/// Returns:
///     int8 array of the shape of ``x``.
#[pyfunction]
#[pyo3(signature = (x, s_x))]
fn quantize_activations_with_scale<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    s_x: &Bound<'py, PyAny>,
) -> PyResult<Array<'py, i8>> {
    let a = read::<f32>("x", x, &[1, 2], "(K,) or (N, K)")?;
    let scales = token_scales(s_x, &a.shape, "x")?;
    let q = py
        .detach(|| quant::quantize_activations_per_token(&a.data, &scales))
        .map_err(|e| value_error("s_x", e))?;
    output(py, &a.shape, q)
}

/// Back to real values: ``y = float32(y_int) / s_x * gamma``, each a single
/// float32 operation in that order.
///
/// Args:
///     y_int: int32 array, (M,) for one token or (N, M) for N tokens.
///     s_x: the activation scale: a float, or for (N, M) outputs also a
///         float32 array of shape (N,) (one scale per token, as
///         ``quantize_activations_absmax`` returns).
///     gamma: the weight scale (a float, rounded to float32).
///
/// Returns:
///     float32 array of the shape of ``y_int``.
#[pyfunction]
#[pyo3(signature = (y_int, s_x, gamma))]
fn dequantize<'py>(
    py: Python<'py>,
    y_int: &Bound<'py, PyAny>,
    s_x: &Bound<'py, PyAny>,
    gamma: &Bound<'py, PyAny>,
) -> PyResult<Array<'py, f32>> {
    let y = read::<i32>("y_int", y_int, &[1, 2], "(M,) or (N, M)")?;
    let gamma = scalar_f32("gamma", gamma)?;
    let scales = token_scales(s_x, &y.shape, "y_int")?;
    let out = py.detach(|| {
        rows(&y)
            .zip(&scales)
            .flat_map(|(row, &s)| row.iter().map(move |&v| quant::dequantize(v, s, gamma)))
            .collect()
    });
    output(py, &y.shape, out)
}

/// Encodes a ternary matrix into weight codes, one per group of ``g``
/// weights along K (the last group of a row padded with zeros).
///
/// Group weights ``w0 .. w(g-1)`` (``w0`` at the lowest k) give
/// ``v = sum_i w_i * 3**(g-1-i)``, and the code is ``(v < 0) << IB | |v|``
/// with ``IB = ceil(log2((3**g - 1) / 2 + 1))`` index bits. For g = 3 this
/// is bitnet.cpp's TL2 code.
///
/// Args:
///     w: int8 array of shape (M, K), values in {-1, 0, 1}.
///     g: group size, 1..5.
///
/// Returns:
///     uint8 array of shape (M, ceil(K / g)).
#[pyfunction]
#[pyo3(signature = (w, g = 3))]
fn encode<'py>(py: Python<'py>, w: &Bound<'py, PyAny>, g: i64) -> PyResult<Array<'py, u8>> {
    let g = grouping(g)?;
    let w = ternary("w", w)?;
    let codes = py.detach(|| CodeMatrix::encode(&w, g));
    let bits = codes.codes().iter().map(|c| c.bits()).collect();
    output(py, &[codes.m(), codes.ng()], bits)
}

/// Reads `(M, ceil(K/g))` uint8 codes as a [`CodeMatrix`].
fn code_matrix(obj: &Bound<'_, PyAny>, k: usize, g: Grouping) -> PyResult<CodeMatrix> {
    let c = read::<u8>("codes", obj, &[2], "(M, ceil(K / g))")?;
    let [m, ng] = c.dims();
    if ng != g.groups(k) {
        return Err(PyValueError::new_err(format!(
            "codes has {ng} groups per row, but K = {k} with g = {} needs ceil(K / g) = {}",
            g.g(),
            g.groups(k)
        )));
    }
    if let Some(i) = c
        .data
        .iter()
        .position(|&b| !WeightCode::from_bits(b).fits(g))
    {
        return Err(PyValueError::new_err(format!(
            "codes[{}, {}] = {:#x} does not fit the {}-bit code of g = {}",
            i / ng,
            i % ng,
            c.data[i],
            g.code_width(),
            g.g()
        )));
    }
    let codes = c.data.into_iter().map(WeightCode::from_bits).collect();
    CodeMatrix::from_codes(m, k, g, codes).map_err(|e| value_error("codes", e))
}

/// Decodes weight codes back to the ternary matrix (weights beyond K in
/// the last group are dropped). An illegal code (index above
/// ``(3**g - 1) / 2``) decodes to zero weights and sets ``ERR_CODE``.
///
/// Args:
///     codes: uint8 array of shape (M, ceil(k / g)); every code must fit
///         the code width ``IB + 1`` bits of ``g``.
///     k: K, the number of weights per row.
///     g: group size, 1..5.
///
/// Returns:
///     ``(w, flags)``: int8 array of shape (M, k), and the flag bits
///     (``ERR_CODE`` or 0).
#[pyfunction]
#[pyo3(signature = (codes, k, g = 3))]
fn decode<'py>(
    py: Python<'py>,
    codes: &Bound<'py, PyAny>,
    k: i64,
    g: i64,
) -> PyResult<(Array<'py, i8>, u8)> {
    let g = grouping(g)?;
    let k: usize = int_in("k", k, 0, i64::from(u32::MAX))?;
    let codes = code_matrix(codes, k, g)?;
    let (w, flags) = py.detach(|| codes.decode());
    Ok((output(py, &[w.m(), w.k()], w.into_data())?, flags.bits()))
}

/// The precomputed table of one group of activations: entry ``T[idx]`` is
/// the dot product of ``(b0, .., b(g-1))`` with the balanced-ternary digits
/// of ``idx``, most significant first, for ``idx`` in ``0..(3**g - 1) / 2``.
///
/// Args:
///     acts: int8 array of shape (n,) with n <= g (missing activations
///         are 0).
///     g: group size, 1..5.
///
/// Returns:
///     int32 array of shape ((3**g - 1) / 2 + 1,).
#[pyfunction]
#[pyo3(signature = (acts, g = 3))]
fn build_table<'py>(
    py: Python<'py>,
    acts: &Bound<'py, PyAny>,
    g: i64,
) -> PyResult<Array<'py, i32>> {
    let g = grouping(g)?;
    let a = read::<i8>("acts", acts, &[1], "(n,) with n <= g")?;
    if a.data.len() > g.g() {
        return Err(PyValueError::new_err(format!(
            "acts has {} activations, a group of g = {} holds at most {}",
            a.data.len(),
            g.g(),
            g.g()
        )));
    }
    let t = Table::build(g, &a.data);
    output(py, &[t.entries().len()], t.entries().to_vec())
}

/// The golden TLMM result: ``out[m] = sign_extend_32((sum_k w[m, k] *
/// x[k]) mod 2**acc_w)``, an exact dot product per row, wrapped to the
/// accumulator width (no saturation).
///
/// Args:
///     w: int8 ternary array of shape (M, K).
///     x: int8 activations, (K,) or N tokens (N, K).
///     acc_w: accumulator width ACC_W, 8..32.
///
/// Returns:
///     ``(out, flags)``: int32 array of shape (M,) for (K,) activations or
///     (N, M) for (N, K), and the flag bits (``ERR_K_RANGE`` when K
///     exceeds ``K_EXACT = (2**(acc_w - 1) - 1) // 128``).
#[pyfunction]
#[pyo3(signature = (w, x, acc_w = 24))]
fn golden<'py>(
    py: Python<'py>,
    w: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    acc_w: i64,
) -> PyResult<(Array<'py, i32>, u8)> {
    let acc = acc_width(acc_w)?;
    let w = ternary("w", w)?;
    let x = activations(x, w.k(), "w")?;
    matmul(py, &x, w.m(), |row| tlmm::golden(&w, row, acc))
}

/// The table path of the TLMM engine: for each group of ``g`` activations
/// build a table, add each row's lookup of its code (an illegal code adds
/// 0 and sets ``ERR_CODE``), wrap to ``acc_w`` bits. Equal to ``golden``
/// on the decoded weights.
///
/// Args:
///     codes: uint8 weight codes of shape (M, ceil(K / g)), as ``encode``
///         returns.
///     x: int8 activations, (K,) or N tokens (N, K).
///     g: group size the codes were made with, 1..5.
///     acc_w: accumulator width ACC_W, 8..32.
///
/// Returns:
///     ``(out, flags)`` as for ``golden``.
#[pyfunction]
#[pyo3(signature = (codes, x, g = 3, acc_w = 24))]
fn tlmm_table<'py>(
    py: Python<'py>,
    codes: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    g: i64,
    acc_w: i64,
) -> PyResult<(Array<'py, i32>, u8)> {
    let g = grouping(g)?;
    let acc = acc_width(acc_w)?;
    let xa = read::<i8>("x", x, &[1, 2], "(K,) or (N, K)")?;
    let k = *xa.shape.last().unwrap_or(&0);
    let codes = code_matrix(codes, k, g)?;
    matmul(py, &xa, codes.m(), |row| tlmm::tlmm_table(&codes, row, acc))
}

/// Adds the TLMM functions and flag constants to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(quantize_weights_absmean, m)?)?;
    m.add_function(wrap_pyfunction!(quantize_activations_absmax, m)?)?;
    m.add_function(wrap_pyfunction!(quantize_weights_with_scale, m)?)?;
    m.add_function(wrap_pyfunction!(quantize_activations_with_scale, m)?)?;
    m.add_function(wrap_pyfunction!(dequantize, m)?)?;
    m.add_function(wrap_pyfunction!(encode, m)?)?;
    m.add_function(wrap_pyfunction!(decode, m)?)?;
    m.add_function(wrap_pyfunction!(build_table, m)?)?;
    m.add_function(wrap_pyfunction!(golden, m)?)?;
    m.add_function(wrap_pyfunction!(tlmm_table, m)?)?;
    m.add("ERR_K_RANGE", Flags::ERR_K_RANGE.bits())?;
    m.add("ERR_CODE", Flags::ERR_CODE.bits())?;
    m.add("MAX_G", MAX_G)?;
    m.add("EPS", quant::EPS)?;
    Ok(())
}
