//! Checked numpy arguments and integer parameters: every failure names the
//! argument, what was expected and what was given.

use numpy::ndarray::{ArrayD, IxDyn};
use numpy::{
    Element, IntoPyArray, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

/// A numpy array as the bindings return it.
pub(crate) type Array<'py, T> = Bound<'py, PyArrayDyn<T>>;

/// An element type of the arrays the bindings read and write.
pub(crate) trait Dtype: Element + Copy {
    /// numpy's name of the dtype (`int8`, `float32`, ...).
    const NAME: &'static str;
}

macro_rules! dtype {
    ($t:ty, $name:literal) => {
        impl Dtype for $t {
            const NAME: &'static str = $name;
        }
    };
}

dtype!(i8, "int8");
dtype!(u8, "uint8");
dtype!(i16, "int16");
dtype!(i32, "int32");
dtype!(i64, "int64");
dtype!(f32, "float32");

/// The contents of a numpy argument, copied out in C (row-major) order.
pub(crate) struct Input<T> {
    /// The array's shape.
    pub shape: Vec<usize>,
    /// The elements in C order, whatever the array's memory layout.
    pub data: Vec<T>,
}

impl<T> Input<T> {
    /// The shape as a fixed-size array (the rank was checked on reading).
    pub fn dims<const N: usize>(&self) -> [usize; N] {
        let mut d = [0; N];
        d.copy_from_slice(&self.shape);
        d
    }
}

/// `(2, 3)` in Python's tuple notation.
pub(crate) fn shape_str(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => {
            let parts: Vec<String> = shape.iter().map(usize::to_string).collect();
            format!("({})", parts.join(", "))
        }
    }
}

/// Reads `obj`, which must be a numpy array of dtype `T` whose rank is one
/// of `ranks`; `layout` names the dimensions for messages (e.g. `"(M, K)"`).
///
/// A non-array or a wrong dtype is a `TypeError`, a wrong rank a
/// `ValueError`. No conversion is ever made: the models are bit-exact, so a
/// silent cast (float64 to float32, int64 to int8) would change results.
pub(crate) fn read<T: Dtype>(
    name: &str,
    obj: &Bound<'_, PyAny>,
    ranks: &[usize],
    layout: &str,
) -> PyResult<Input<T>> {
    let Ok(untyped) = obj.cast::<PyUntypedArray>() else {
        let ty = obj.get_type().name()?;
        return Err(PyTypeError::new_err(format!(
            "{name} must be a numpy.ndarray of {dt}, got {ty}; pass np.asarray({name}, dtype=np.{dt})",
            dt = T::NAME,
        )));
    };
    let dtype = untyped.dtype();
    if !dtype.is_equiv_to(&numpy::dtype::<T>(obj.py())) {
        return Err(PyTypeError::new_err(format!(
            "{name} must have dtype {dt}, got {dtype}; convert it explicitly (e.g. {name}.astype(np.{dt})) after checking that its values fit",
            dt = T::NAME,
        )));
    }
    let shape = untyped.shape().to_vec();
    if !ranks.contains(&shape.len()) {
        let want: Vec<String> = ranks.iter().map(|r| format!("{r}-D")).collect();
        return Err(PyValueError::new_err(format!(
            "{name} must be {} {layout}, got a {}-D array of shape {}",
            want.join(" or "),
            shape.len(),
            shape_str(&shape),
        )));
    }
    let typed = obj.cast::<PyArrayDyn<T>>()?;
    let view = typed.try_readonly()?;
    // `as_slice` also accepts Fortran order (memory order): only a C-ordered
    // array's memory is its row-major element order.
    let data = match view.as_slice() {
        Ok(s) if untyped.is_c_contiguous() => s.to_vec(),
        _ => view.as_array().iter().copied().collect(),
    };
    Ok(Input { shape, data })
}

/// A new numpy array of `shape` holding `data` (C order).
pub(crate) fn output<'py, T: Dtype>(
    py: Python<'py>,
    shape: &[usize],
    data: Vec<T>,
) -> PyResult<Array<'py, T>> {
    let a = ArrayD::from_shape_vec(IxDyn(shape), data)
        .map_err(|e| PyValueError::new_err(format!("internal shape error: {e}")))?;
    Ok(a.into_pyarray(py))
}

/// Checks an integer parameter against `lo..=hi` and converts it.
pub(crate) fn int_in<T: TryFrom<i64>>(name: &str, value: i64, lo: i64, hi: i64) -> PyResult<T> {
    if (lo..=hi).contains(&value) {
        T::try_from(value)
            .map_err(|_| PyValueError::new_err(format!("{name} = {value} is out of range")))
    } else {
        Err(PyValueError::new_err(format!(
            "{name} = {value} is outside {lo}..={hi}"
        )))
    }
}

/// A `ValueError` carrying `err`'s message, prefixed with `context`.
pub(crate) fn value_error(context: &str, err: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("{context}: {err}"))
}
