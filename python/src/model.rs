//! The cycle models of the TLMM engines (`hls_rust::tlmm::cycle`) and the
//! analytical model, tiling search and training-step planner of the
//! convolution engine (`hls_rust::conv::{model, plan}`).

use crate::array::{int_in, value_error};
use hls_rust::conv::desc::{ConvShape, Descriptor, Op, Tiling};
use hls_rust::conv::hw::CycleParams;
use hls_rust::conv::plan::{self, HostOp, Magnitudes, Network, Scales, TrainPlan};
use hls_rust::conv::{HwConfig as Hw, Stats, model};
use hls_rust::tlmm::MAX_G;
use hls_rust::tlmm::cycle::{self, Breakdown};
use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// Checks `M, K >= 1` for a TLMM job.
fn job(m: i64, k: i64) -> PyResult<(u64, u64)> {
    Ok((
        int_in("m", m, 1, i64::from(u32::MAX))?,
        int_in("k", k, 1, i64::from(u32::MAX))?,
    ))
}

/// Checks an engine geometry `(G, T, P)`.
fn geometry(g: i64, t: i64, p: i64) -> PyResult<(u64, u64, u64)> {
    Ok((
        int_in("g", g, 1, MAX_G as i64)?,
        int_in("t", t, 1, 4096)?,
        int_in("p", p, 1, 4096)?,
    ))
}

fn breakdown_dict<'py>(py: Python<'py>, b: Breakdown) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("load", b.load)?;
    d.set_item("compute", b.compute)?;
    d.set_item("drain", b.drain)?;
    d.set_item("total", b.total())?;
    Ok(d)
}

/// A TLMM cycle-model class: `$name` wrapping `cycle::$name`, with the
/// constructor defaults `(g, t, p)`, the closed form's doc and the methods
/// only this architecture has.
macro_rules! cycle_model_class {
    (
        $(#[$meta:meta])*
        $name:ident, ($g:literal, $t:literal, $p:literal), $ideal_doc:literal,
        { $($extra:tt)* }
    ) => {
        $(#[$meta])*
        #[pyclass(frozen, module = "hlsk._hlsk")]
        struct $name {
            inner: cycle::$name,
        }

        #[pymethods]
        impl $name {
            #[new]
            #[pyo3(signature = (g = $g, t = $t, p = $p))]
            fn new(g: i64, t: i64, p: i64) -> PyResult<Self> {
                let (g, t, p) = geometry(g, t, p)?;
                Ok(Self {
                    inner: cycle::$name::new(g, t, p),
                })
            }

            /// Activations per group, G.
            #[getter]
            fn g(&self) -> u64 {
                self.inner.g
            }

            /// Groups per cycle per lane, T.
            #[getter]
            fn t(&self) -> u64 {
                self.inner.t
            }

            /// Lanes, P.
            #[getter]
            fn p(&self) -> u64 {
                self.inner.p
            }

            $($extra)*

            /// Exact busy cycles of an M x K job (steps the engine's control).
            fn predict(&self, py: Python<'_>, m: i64, k: i64) -> PyResult<u64> {
                let (m, k) = job(m, k)?;
                Ok(py.detach(|| self.inner.predict(m, k)))
            }

            /// Exact busy cycles by phase: dict with ``load``, ``compute``,
            /// ``drain`` and ``total``.
            fn breakdown<'py>(
                &self,
                py: Python<'py>,
                m: i64,
                k: i64,
            ) -> PyResult<Bound<'py, PyDict>> {
                let (m, k) = job(m, k)?;
                breakdown_dict(py, py.detach(|| self.inner.breakdown(m, k)))
            }

            #[doc = $ideal_doc]
            fn ideal(&self, m: i64, k: i64) -> PyResult<u64> {
                let (m, k) = job(m, k)?;
                Ok(self.inner.ideal(m, k))
            }

            /// Chunks of ``G*T`` activations for a given K: ``ceil(ceil(K/G)/T)``.
            fn chunks(&self, k: i64) -> PyResult<u64> {
                Ok(self.inner.chunks(int_in("k", k, 0, i64::MAX)?))
            }

            /// Utilization ``M*K / (G*T*P * cycles)``.
            fn utilization(&self, m: i64, k: i64, cycles: i64) -> PyResult<f64> {
                let (m, k) = job(m, k)?;
                Ok(self
                    .inner
                    .utilization(m, k, int_in("cycles", cycles, 1, i64::MAX)?))
            }

            fn __repr__(&self) -> String {
                let c = &self.inner;
                format!("{}(g={}, t={}, p={})", stringify!($name), c.g, c.t, c.p)
            }
        }
    };
}

cycle_model_class! {
    /// Cycle model of the output-stationary TLMM engine
    /// (``rtl/tlmm/tlmm_os_engine.sv``): busy cycles of one M x K job with
    /// ideal streams, as the RTL's busy counter measures them.
    ///
    /// Args:
    ///     g: activations per group, 1..5.
    ///     t: groups per cycle per lane.
    ///     p: lanes.
    OsCycleModel,
    (3, 1, 4),
    "The spec's closed form: ``ceil(M/P) * chunks + ceil(K/4)`` plus the \
     pipeline latency and the last row block's drain.",
    {
        /// Whether the build has the ``Direct`` datapath (codes decoded to
        /// digits beside direct add/sub; the RTL's default) rather than table
        /// lookups.
        #[getter]
        fn direct(&self) -> bool {
            self.inner.direct
        }

        /// The same geometry with the ``Direct`` datapath (True) or table
        /// lookups (False).
        fn with_direct(&self, direct: bool) -> Self {
            Self {
                inner: self.inner.with_direct(direct),
            }
        }

        /// Cycles from a weight beat's acceptance to its accumulation.
        fn pipe_latency(&self) -> u64 {
            self.inner.pipe_latency()
        }
    }
}

cycle_model_class! {
    /// Cycle model of the table-stationary TLMM engine
    /// (``rtl/tlmm/tlmm_ts_engine.sv``): tables built once per chunk into
    /// RAMs (``1 + entries`` cycles per chunk, two banks), partial sums in RAM.
    ///
    /// Args:
    ///     g: activations per group, 1..5.
    ///     t: groups per cycle per lane.
    ///     p: lanes.
    TsCycleModel,
    (3, 3, 4),
    "The closed form (within a few cycles of ``predict``).",
    {
        /// Table entries per group, ``(3**G - 1) / 2 + 1``.
        fn entries(&self) -> u64 {
            self.inner.entries()
        }

        /// Cycles the table builder needs per chunk, ``1 + entries``.
        fn build_cycles(&self) -> u64 {
            self.inner.build_cycles()
        }
    }
}

/// A build of the training-convolution engine and its memory system: the
/// array (T x T x P MACs), the memory port, buffer capacities (per bank),
/// accumulator widths and the cycle-model constants. The defaults are the
/// iCE40 UP5K build (``HwConfig.up5k()``); every attribute can be set.
#[pyclass(module = "hlsk._hlsk")]
struct HwConfig {
    /// Channel tile T (the array is T x T x P).
    #[pyo3(get, set)]
    t: usize,
    /// Pixel parallelism P (adjacent output columns).
    #[pyo3(get, set)]
    p: usize,
    /// Clock in MHz.
    #[pyo3(get, set)]
    clock_mhz: f64,
    /// Words the memory port moves per cycle once a burst runs.
    #[pyo3(get, set)]
    words_per_cycle: usize,
    /// Start-up cycles of every burst.
    #[pyo3(get, set)]
    t_burst: u64,
    /// Input buffer capacity, 16-bit words per bank.
    #[pyo3(get, set)]
    in_buf: usize,
    /// Weight buffer capacity, 16-bit words per bank.
    #[pyo3(get, set)]
    w_buf: usize,
    /// Output buffer capacity, ACC_W-bit entries per bank.
    #[pyo3(get, set)]
    out_buf: usize,
    /// Gradient buffer capacity, ACC_W_WU-bit entries.
    #[pyo3(get, set)]
    grad_buf: usize,
    /// Accumulator pipeline depth (minimum read-modify-write period).
    #[pyo3(get, set)]
    acc_depth: usize,
    /// Accumulator width ACC_W of FP and BP (32..64).
    #[pyo3(get, set)]
    acc_w: u32,
    /// Accumulator width ACC_W_WU of WU (32..64).
    #[pyo3(get, set)]
    acc_w_wu: u32,
    /// Cycles per descriptor (fetch, decode, set-up).
    #[pyo3(get, set)]
    t_desc: u64,
    /// Cycles per step (pipeline fill and drain).
    #[pyo3(get, set)]
    t_step: u64,
    /// Load, compute and store overlap (False: sequential, like the RTL).
    #[pyo3(get, set)]
    overlap: bool,
}

/// The attributes of [`HwConfig`], in declaration order.
const FIELDS: [&str; 15] = [
    "t",
    "p",
    "clock_mhz",
    "words_per_cycle",
    "t_burst",
    "in_buf",
    "w_buf",
    "out_buf",
    "grad_buf",
    "acc_depth",
    "acc_w",
    "acc_w_wu",
    "t_desc",
    "t_step",
    "overlap",
];

impl HwConfig {
    fn from_rust(h: &Hw) -> Self {
        Self {
            t: h.t,
            p: h.p,
            clock_mhz: h.clock_mhz,
            words_per_cycle: h.words_per_cycle,
            t_burst: h.t_burst,
            in_buf: h.in_buf,
            w_buf: h.w_buf,
            out_buf: h.out_buf,
            grad_buf: h.grad_buf,
            acc_depth: h.acc_depth,
            acc_w: h.acc_w,
            acc_w_wu: h.acc_w_wu,
            t_desc: h.cycle.t_desc,
            t_step: h.cycle.t_step,
            overlap: h.cycle.overlap,
        }
    }

    /// The configuration, checked.
    fn to_rust(&self) -> PyResult<Hw> {
        let h = Hw {
            t: self.t,
            p: self.p,
            clock_mhz: self.clock_mhz,
            words_per_cycle: self.words_per_cycle,
            t_burst: self.t_burst,
            in_buf: self.in_buf,
            w_buf: self.w_buf,
            out_buf: self.out_buf,
            grad_buf: self.grad_buf,
            acc_depth: self.acc_depth,
            acc_w: self.acc_w,
            acc_w_wu: self.acc_w_wu,
            cycle: CycleParams {
                t_desc: self.t_desc,
                t_step: self.t_step,
                overlap: self.overlap,
            },
        };
        h.validate()
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(h)
    }
}

#[pymethods]
impl HwConfig {
    #[new]
    #[pyo3(signature = (**fields))]
    fn new(py: Python<'_>, fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let cfg = Bound::new(py, Self::from_rust(&Hw::up5k()))?;
        for (key, value) in fields.into_iter().flat_map(|d| d.iter()) {
            let name: String = key.extract()?;
            if !FIELDS.contains(&name.as_str()) {
                return Err(PyTypeError::new_err(format!(
                    "HwConfig has no field {name:?}; the fields are {}",
                    FIELDS.join(", ")
                )));
            }
            cfg.setattr(name.as_str(), &value).map_err(|e| {
                let msg = format!("HwConfig {name} = {value}: {}", e.value(py));
                if e.is_instance_of::<PyOverflowError>(py) {
                    PyValueError::new_err(msg)
                } else {
                    PyErr::from_type(e.get_type(py), msg)
                }
            })?;
        }
        let hw = cfg.borrow().to_rust()?;
        Ok(Self::from_rust(&hw))
    }

    /// The iCE40 UP5K build: T = 2, P = 1, on-chip SPRAM, ACC_W 32/40.
    #[staticmethod]
    fn up5k() -> Self {
        Self::from_rust(&Hw::up5k())
    }

    /// The ECP5-85F build: T = 8, P = 2, SDRAM, ACC_W 40/48.
    #[staticmethod]
    fn ecp5() -> Self {
        Self::from_rust(&Hw::ecp5())
    }

    /// Peak MACs per cycle, ``T*T*P``.
    fn peak_macs(&self) -> u64 {
        (self.t * self.t * self.p) as u64
    }

    /// Raises ValueError if a parameter is out of range.
    fn validate(&self) -> PyResult<()> {
        self.to_rust().map(|_| ())
    }

    fn __repr__(&self) -> String {
        format!(
            "HwConfig(t={}, p={}, clock_mhz={}, words_per_cycle={}, t_burst={}, in_buf={}, w_buf={}, out_buf={}, grad_buf={}, acc_depth={}, acc_w={}, acc_w_wu={}, t_desc={}, t_step={}, overlap={})",
            self.t,
            self.p,
            self.clock_mhz,
            self.words_per_cycle,
            self.t_burst,
            self.in_buf,
            self.w_buf,
            self.out_buf,
            self.grad_buf,
            self.acc_depth,
            self.acc_w,
            self.acc_w_wu,
            self.t_desc,
            self.t_step,
            if self.overlap { "True" } else { "False" },
        )
    }
}

/// The operation named `op` (`"FP"`, `"BP"`, `"WU"`, `"POOL_FWD"`,
/// `"POOL_BWD"`, any case).
fn op(name: &str) -> PyResult<Op> {
    Op::ALL
        .into_iter()
        .find(|o| o.name().eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "op = {name:?} is not an operation; use one of FP, BP, WU, POOL_FWD, POOL_BWD"
            ))
        })
}

/// The predicted counters as a dict, with the derived ratios on `hw`.
fn stats_dict<'py>(py: Python<'py>, s: &Stats, hw: &Hw) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("cycles", s.cycles)?;
    d.set_item("fired", s.fired)?;
    d.set_item("stall_input", s.stall_input)?;
    d.set_item("stall_weights", s.stall_weights)?;
    d.set_item("stall_output", s.stall_output)?;
    d.set_item("overhead", s.overhead)?;
    d.set_item("words_read", s.words_read)?;
    d.set_item("words_written", s.words_written)?;
    d.set_item("bursts", s.bursts)?;
    d.set_item("macs", s.macs)?;
    d.set_item("utilization", s.utilization(hw))?;
    d.set_item("occupancy", s.occupancy())?;
    d.set_item("seconds", s.seconds(hw))?;
    Ok(d)
}

fn tiling_dict<'py>(py: Python<'py>, t: &Tiling) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("tr", t.tr)?;
    d.set_item("m_on", t.m_on)?;
    d.set_item("n_on", t.n_on)?;
    Ok(d)
}

/// The fields a descriptor needs for the model: operation, forward layer
/// shape and the flags that change its traffic.
struct DescArgs {
    op: Op,
    shape: ConvShape,
    relu_mask: bool,
    write_w16: bool,
}

impl DescArgs {
    #[allow(clippy::too_many_arguments)]
    fn new(
        op_name: &str,
        n: i64,
        m: Option<i64>,
        h: i64,
        w: i64,
        b: i64,
        k: Option<i64>,
        pad: i64,
        relu_mask: bool,
        write_w16: bool,
    ) -> PyResult<Self> {
        let op = op(op_name)?;
        let dim = |name, v| int_in::<usize>(name, v, 1, i64::from(u16::MAX));
        let n = dim("n", n)?;
        let m = match m {
            Some(m) => dim("m", m)?,
            None if !op.is_conv() => n,
            None => return Err(PyTypeError::new_err(format!("{op} needs m"))),
        };
        let k = k.unwrap_or(if op.is_conv() { 3 } else { 2 });
        let shape = ConvShape {
            n,
            m,
            h: dim("h", h)?,
            w: dim("w", w)?,
            k: int_in("k", k, 1, 15)?,
            pad: int_in("pad", pad, 0, 15)?,
            b: dim("b", b)?,
        };
        Ok(Self {
            op,
            shape,
            relu_mask,
            write_w16,
        })
    }

    /// The descriptor with `tiling`, checked (shape, flags; the tiling
    /// only against the shape).
    fn descriptor(&self, tiling: Tiling) -> PyResult<Descriptor> {
        let mut d = Descriptor::new(self.op, self.shape);
        d.relu_mask = self.relu_mask;
        d.write_w16 = self.write_w16;
        d.tiling = tiling;
        d.validate().map_err(|e| value_error(self.op.name(), e))?;
        Ok(d)
    }

    /// The smallest tiling, for checking everything but the tiling.
    fn placeholder(&self) -> Tiling {
        Tiling {
            tr: 1,
            m_on: 1,
            n_on: usize::from(self.op.is_conv()),
        }
    }
}

/// The fastest schedule of one descriptor on ``hw`` by the analytical
/// model (ties: less traffic, fewer bursts, smaller tiles).
///
/// The shape is always the forward layer's (BP takes the forward N, M).
/// For pools ``n`` is the channel count C, ``m`` defaults to ``n`` and
/// ``k`` to 2; for convolutions ``k`` defaults to 3.
///
/// Args:
///     op: "FP", "BP", "WU", "POOL_FWD" or "POOL_BWD".
///     n, m: forward input and output channels.
///     h, w: input height and width.
///     b: batch.
///     k: kernel size (1 or 3; 2 for pools).
///     pad: zero padding, below K.
///     hw: the engine build.
///     relu_mask: BP reads act_in for the ReLU mask (more traffic).
///     write_w16: WU also writes the int16 working weights.
///
/// Returns:
///     ``(tiling, stats)``: dict ``tr``, ``m_on``, ``n_on``, and the
///     predicted counters (dict: ``cycles``, ``fired``, the stalls by
///     cause, ``overhead``, words, ``bursts``, ``macs``, and
///     ``utilization``, ``occupancy``, ``seconds`` on ``hw``).
#[pyfunction]
#[pyo3(signature = (op, *, n, m = None, h, w, b, k = None, pad = 0, hw, relu_mask = false, write_w16 = false))]
#[allow(clippy::too_many_arguments)]
fn best_tiling<'py>(
    py: Python<'py>,
    op: &str,
    n: i64,
    m: Option<i64>,
    h: i64,
    w: i64,
    b: i64,
    k: Option<i64>,
    pad: i64,
    hw: PyRef<'py, HwConfig>,
    relu_mask: bool,
    write_w16: bool,
) -> PyResult<(Bound<'py, PyDict>, Bound<'py, PyDict>)> {
    let hw = hw.to_rust()?;
    let a = DescArgs::new(op, n, m, h, w, b, k, pad, relu_mask, write_w16)?;
    let d = a.descriptor(a.placeholder())?;
    let (tiling, stats) = py
        .detach(|| model::best_tiling(&d, &hw))
        .map_err(|e| value_error(a.op.name(), e))?;
    Ok((tiling_dict(py, &tiling)?, stats_dict(py, &stats, &hw)?))
}

/// The analytical model's counters for one descriptor with a given
/// schedule. Raises ValueError when the schedule does not fit ``hw``
/// (buffer capacity, multiples of T, the accumulator hazard rule).
///
/// Args:
///     op, n, m, h, w, b, k, pad, hw, relu_mask, write_w16: as for
///         ``best_tiling``.
///     tr: rows per band of the engine's output iteration space.
///     m_on: output channels resident on chip (a multiple of T).
///     n_on: reduction channels per chunk (a multiple of T; 0 for pools).
///
/// Returns:
///     the predicted counters (dict, as ``best_tiling``'s ``stats``).
#[pyfunction]
#[pyo3(signature = (op, *, n, m = None, h, w, b, k = None, pad = 0, tr, m_on, n_on = 0, hw, relu_mask = false, write_w16 = false))]
#[allow(clippy::too_many_arguments)]
fn predict<'py>(
    py: Python<'py>,
    op: &str,
    n: i64,
    m: Option<i64>,
    h: i64,
    w: i64,
    b: i64,
    k: Option<i64>,
    pad: i64,
    tr: i64,
    m_on: i64,
    n_on: i64,
    hw: PyRef<'py, HwConfig>,
    relu_mask: bool,
    write_w16: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let hw = hw.to_rust()?;
    let a = DescArgs::new(op, n, m, h, w, b, k, pad, relu_mask, write_w16)?;
    let max = i64::from(u16::MAX);
    let d = a.descriptor(Tiling {
        tr: int_in("tr", tr, 0, max)?,
        m_on: int_in("m_on", m_on, 0, max)?,
        n_on: int_in("n_on", n_on, 0, max)?,
    })?;
    let stats = py
        .detach(|| model::predict(&d, &hw))
        .map_err(|e| value_error(a.op.name(), e))?;
    stats_dict(py, &stats, &hw)
}

/// One layer of a network for ``plan``: ``Layer.conv(m, k=3, pad=1,
/// relu=True)``, ``Layer.pool()`` (2x2 max pool) or ``Layer.fc(m,
/// relu=False)`` (fully connected, run as a 1x1 convolution with the batch
/// as the width).
#[pyclass(frozen, module = "hlsk._hlsk")]
struct Layer {
    inner: plan::Layer,
}

#[pymethods]
impl Layer {
    /// A stride-1 convolution with ``m`` output channels.
    #[staticmethod]
    #[pyo3(signature = (m, k = 3, pad = 1, relu = true))]
    fn conv(m: i64, k: i64, pad: i64, relu: bool) -> PyResult<Self> {
        Ok(Self {
            inner: plan::Layer::Conv {
                m: int_in("m", m, 1, i64::from(u16::MAX))?,
                k: int_in("k", k, 1, 3)?,
                pad: int_in("pad", pad, 0, 2)?,
                relu,
            },
        })
    }

    /// A 2x2 stride-2 max pool.
    #[staticmethod]
    fn pool() -> Self {
        Self {
            inner: plan::Layer::MaxPool,
        }
    }

    /// A fully connected layer with ``m`` outputs.
    #[staticmethod]
    #[pyo3(signature = (m, relu = false))]
    fn fc(m: i64, relu: bool) -> PyResult<Self> {
        Ok(Self {
            inner: plan::Layer::Fc {
                m: int_in("m", m, 1, i64::from(u16::MAX))?,
                relu,
            },
        })
    }

    fn __repr__(&self) -> String {
        let py_bool = |b: bool| if b { "True" } else { "False" };
        match self.inner {
            plan::Layer::Conv { m, k, pad, relu } => {
                format!("Layer.conv({m}, k={k}, pad={pad}, relu={})", py_bool(relu))
            }
            plan::Layer::MaxPool => "Layer.pool()".into(),
            plan::Layer::Fc { m, relu } => format!("Layer.fc({m}, relu={})", py_bool(relu)),
        }
    }
}

/// The digits CNN the repository trains: ``(input, layers)`` with input
/// ``(1, 8, 8)`` and conv3x3 8, pool, conv3x3 16, pool, FC 10.
#[pyfunction]
fn digits_network(py: Python<'_>) -> PyResult<((usize, usize, usize), Bound<'_, PyList>)> {
    let net = Network::digits();
    let [c, h, w] = net.input;
    let layers = net
        .layers
        .into_iter()
        .map(|inner| Bound::new(py, Layer { inner }))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(((c, h, w), PyList::new(py, layers)?))
}

/// Per-layer calibration maxima from an optional dict.
fn magnitudes(d: Option<&Bound<'_, PyDict>>, layers: usize) -> PyResult<Magnitudes> {
    let unit = Magnitudes {
        input: 1.0,
        weight: vec![1.0; layers],
        act: vec![1.0; layers],
        grad: vec![1.0; layers],
    };
    let Some(d) = d else { return Ok(unit) };
    let list = |key: &str, default: Vec<f64>| -> PyResult<Vec<f64>> {
        match d.get_item(key)? {
            None => Ok(default),
            Some(v) => {
                let v: Vec<f64> = v.extract().map_err(|_| {
                    PyTypeError::new_err(format!("magnitudes[{key:?}] must be a list of floats"))
                })?;
                if v.len() != layers {
                    return Err(PyValueError::new_err(format!(
                        "magnitudes[{key:?}] has {} entries, the network has {layers} layers",
                        v.len()
                    )));
                }
                Ok(v)
            }
        }
    };
    for key in d.keys() {
        let key: String = key.extract()?;
        if !["input", "weight", "act", "grad"].contains(&key.as_str()) {
            return Err(PyValueError::new_err(format!(
                "magnitudes has an unknown key {key:?}; the keys are input, weight, act, grad"
            )));
        }
    }
    Ok(Magnitudes {
        input: match d.get_item("input")? {
            Some(v) => v.extract()?,
            None => 1.0,
        },
        weight: list("weight", unit.weight.clone())?,
        act: list("act", unit.act.clone())?,
        grad: list("grad", unit.grad.clone())?,
    })
}

fn host_op_name(op: &HostOp) -> &'static str {
    match op {
        HostOp::ToBatchWidth { .. } => "to_batch_width",
        HostOp::FromBatchWidth { .. } => "from_batch_width",
        HostOp::Loss => "loss",
    }
}

/// Plans one training step of a network on the convolution engine: per
/// layer FP (or POOL_FWD), the host's loss, then per layer in reverse BP
/// (or POOL_BWD) and WU, each descriptor with the fastest tiling of
/// ``best_tiling``; plus tensor scales and numerics proposed from
/// calibration maxima, and the memory map.
///
/// Args:
///     input: the input's (C, H, W).
///     layers: ``Layer`` objects, input to output.
///     batch: batch size.
///     hw: the engine build.
///     lr: learning rate on the batch-mean gradient.
///     magnitudes: optional calibration maxima, dict with ``input`` (a
///         float) and per-layer lists ``weight``, ``act``, ``grad``; every
///         missing one is 1.0.
///
/// Returns:
///     dict: ``steps`` (a list of dicts: ``kind`` "engine" with ``layer``,
///     ``op``, the shape ``n m h w k pad b``, the tiling ``tr m_on n_on``,
///     ``relu``, ``relu_mask``, ``write_w16``, ``s_out``, ``g_pre``,
///     ``lr_mant``, ``lr_shift``, ``predicted`` counters and the 12
///     descriptor ``words``; or ``kind`` "host" with ``layer`` and ``op``
///     "to_batch_width", "from_batch_width" or "loss"), ``predicted``
///     (the whole step's counters) and ``mem_words`` (memory image size).
#[pyfunction]
#[pyo3(name = "plan", signature = (input, layers, *, batch, hw, lr = 0.1, magnitudes = None))]
fn plan_step<'py>(
    py: Python<'py>,
    input: (i64, i64, i64),
    layers: Vec<PyRef<'py, Layer>>,
    batch: i64,
    hw: PyRef<'py, HwConfig>,
    lr: f64,
    magnitudes: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let hw = hw.to_rust()?;
    let dim = |name, v| int_in::<usize>(name, v, 1, i64::from(u16::MAX));
    let net = Network {
        input: [
            dim("input C", input.0)?,
            dim("input H", input.1)?,
            dim("input W", input.2)?,
        ],
        layers: layers.iter().map(|l| l.inner).collect(),
    };
    let batch = dim("batch", batch)?;
    let mags = self::magnitudes(magnitudes, net.layers.len())?;
    let scales = Scales::propose(&net, &mags, &Default::default());
    let tp = py
        .detach(|| TrainPlan::new(&net, batch, &hw, scales, lr))
        .map_err(|e| value_error("plan", e))?;
    let words = tp.descriptor_words().map_err(|e| value_error("plan", e))?;
    let mut words = words.into_iter();
    let steps = PyList::empty(py);
    for step in &tp.steps {
        let d = PyDict::new(py);
        match step {
            plan::Step::Engine {
                layer,
                desc,
                predicted,
            } => {
                let s = &desc.shape;
                d.set_item("kind", "engine")?;
                d.set_item("layer", layer)?;
                d.set_item("op", desc.op.name())?;
                for (key, v) in [
                    ("n", s.n),
                    ("m", s.m),
                    ("h", s.h),
                    ("w", s.w),
                    ("k", s.k),
                    ("pad", s.pad),
                    ("b", s.b),
                    ("tr", desc.tiling.tr),
                    ("m_on", desc.tiling.m_on),
                    ("n_on", desc.tiling.n_on),
                ] {
                    d.set_item(key, v)?;
                }
                d.set_item("relu", desc.relu)?;
                d.set_item("relu_mask", desc.relu_mask)?;
                d.set_item("write_w16", desc.write_w16)?;
                d.set_item("s_out", desc.s_out)?;
                d.set_item("g_pre", desc.g_pre)?;
                d.set_item("lr_mant", desc.lr_mant)?;
                d.set_item("lr_shift", desc.lr_shift)?;
                d.set_item("predicted", stats_dict(py, predicted, &hw)?)?;
                d.set_item("words", words.next().map(|w| w.to_vec()))?;
            }
            plan::Step::Host { layer, op } => {
                d.set_item("kind", "host")?;
                d.set_item("layer", layer)?;
                d.set_item("op", host_op_name(op))?;
            }
        }
        steps.append(d)?;
    }
    let out = PyDict::new(py);
    out.set_item("steps", steps)?;
    out.set_item("predicted", stats_dict(py, &tp.predicted(), &hw)?)?;
    out.set_item("mem_words", tp.mem_words)?;
    Ok(out)
}

/// Adds the cycle models, the conv model and the planner to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<OsCycleModel>()?;
    m.add_class::<TsCycleModel>()?;
    m.add_class::<HwConfig>()?;
    m.add_class::<Layer>()?;
    m.add_function(wrap_pyfunction!(best_tiling, m)?)?;
    m.add_function(wrap_pyfunction!(predict, m)?)?;
    m.add_function(wrap_pyfunction!(digits_network, m)?)?;
    m.add_function(wrap_pyfunction!(plan_step, m)?)?;
    Ok(())
}
