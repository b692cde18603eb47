//! Training convolution (EF-Train style): the bit-exact golden model, memory
//! layouts, descriptors, the reference executor, the analytical cycle model
//! and scheduler, and a real training run on the digits data set.
//!
//! The contract is `shared/specs/conv.md`. In short: int16 tensors with
//! power-of-two scales, exact wide accumulation that wraps at ACC_W (never
//! saturates), saturation only at write-back, and the fused SGD update on
//! int32 master weights. Because integer sums are associative, the naive
//! loops of [`golden`] are bit-exact for every schedule the engine (and
//! [`exec::run_descriptor`]) may use.
//!
//! | module | what |
//! |---|---|
//! | [`fixed`] | `rs`, `sx`, `sat16`/`sat32`, the SGD step, host quantization |
//! | [`tensor`] | [`Tensor4`], plain NCHW / MNKK tensors |
//! | [`golden`] | FP, BP, WU, pool forward/backward with the overflow audit |
//! | [`layout`] | word layouts and the [`Memory`] image |
//! | [`desc`] | [`Descriptor`] and its 12-word binary encoding |
//! | [`hw`] | [`HwConfig`]: array, port, buffers, accumulator widths |
//! | [`job`] | tensor-level jobs: one operation on whole tensors, laid out, scheduled, run on any executor, read back |
//! | [`model`] | step sequence, cycle model, tiling search |
//! | [`exec`] | [`run_descriptor`]: one descriptor on a memory image |
//! | [`plan`] | networks, scales and numerics, memory allocation, the descriptor list of a training step |
//! | [`float`] | the same networks in f32 (comparison and calibration) |
//! | [`digits`] | training a small CNN on [`crate::digits`] in fixed point and f32 |
//! | [`adapt`] | adapting the pretrained CNN to a shifted domain, whole or last layers only |
//!
//! ```
//! use hls_rust::conv::desc::{Bases, ConvShape, Descriptor, Op};
//! use hls_rust::conv::golden::{conv_fp, FpParams};
//! use hls_rust::conv::{model, run_descriptor, HwConfig, Memory, Tensor4};
//!
//! // One FP descriptor on the reference executor equals the golden model.
//! let hw = HwConfig::up5k();
//! let x = Tensor4::from_fn([2, 3, 6, 6], |[b, c, y, x]| ((b * 7 + c * 5 + y * 3 + x) % 11) as i16 - 5);
//! let w = Tensor4::from_fn([4, 3, 3, 3], |[m, n, ky, kx]| ((m + 2 * n + ky * kx) % 5) as i16 - 2);
//! let mut d = Descriptor::new(Op::Fp, ConvShape { n: 3, m: 4, h: 6, w: 6, k: 3, pad: 1, b: 2 });
//! d.base = Bases { input: 0, weights: 512, output: 1024, ..Bases::default() };
//! d.relu = true;
//! d.s_out = 2;
//! d.tiling = model::best_tiling(&d, &hw).unwrap().0;
//!
//! let mut mem = Memory::new(2048);
//! mem.store_act(0, hw.t, &x).unwrap();
//! mem.store_weights(512, hw.t, &w).unwrap();
//! let stats = run_descriptor(&mut mem, &d, &hw).unwrap();
//!
//! let p = FpParams { pad: 1, s_out: 2, relu: true, acc_w: hw.acc_w };
//! let (want, _audit) = conv_fp(&x, &w, &p).unwrap();
//! assert_eq!(mem.load_act(1024, hw.t, [2, 4, 6, 6]).unwrap(), want);
//! assert!(stats.cycles >= stats.macs / hw.peak_macs());
//! ```

pub mod adapt;
pub mod desc;
pub mod digits;
pub mod exec;
pub mod fixed;
pub mod float;
pub mod golden;
pub mod hw;
pub mod job;
pub mod layout;
pub mod model;
pub mod plan;
pub mod tensor;

pub use adapt::{AdaptConfig, AdaptRun, Mode, ShiftedSplit};
pub use desc::{Descriptor, Op};
pub use exec::{ExecError, Executor, Reference, run_descriptor};
pub use hw::HwConfig;
pub use layout::Memory;
pub use model::Stats;
pub use tensor::Tensor4;
