//! Python bindings of the `hls_rust` reference models: the extension
//! module `hlsk._hlsk`, re-exported by the `hlsk` package (`python/hlsk/`).
//!
//! Every function takes and returns numpy arrays of the exact dtype the
//! reference model works in (int8 weights and activations, int16 tensors,
//! int32 results, float32 for the quantizers) and never casts: a wrong
//! dtype is a `TypeError`, a wrong rank or shape a `ValueError`, each naming
//! the argument. The heavy loops release the GIL.

mod array;
mod conv;
mod model;
mod tlmm;

use pyo3::prelude::*;

/// Bit-exact reference models of the hlsk FPGA kernels (TLMM ternary
/// matmul, training convolution) and their cycle models.
#[pymodule]
fn _hlsk(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    tlmm::register(m)?;
    conv::register(m)?;
    model::register(m)?;
    Ok(())
}
