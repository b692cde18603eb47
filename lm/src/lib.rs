//! A character-level BitNet b1.58 transformer whose ternary products run on
//! the TLMM engine.
//!
//! - [`data`]: the corpus (`data/shakespeare.txt.gz`), its fixed
//!   train/validation split and the character vocabulary;
//! - [`model`]: the integer inference pipeline (host f32 around exact
//!   integer products on an [`model::Engine`]) with a KV cache;
//! - [`checkpoint`]: the file format (ternary codes five to a byte, f32
//!   norms, scales and embeddings);
//! - `train` (feature `train`): quantization-aware training with candle on
//!   the CPU;
//! - [`generate`]: prefill, decode and sampling;
//! - `engines` (feature `cosim`): the Verilated TLMM engine and a board's
//!   digital twin as [`model::Engine`]s.
//!
//! ```
//! use hlsk_lm::checkpoint::Checkpoint;
//! use hlsk_lm::generate::{Sampling, generate};
//! use hlsk_lm::model::{Model, Reference};
//!
//! let model = Model::new(Checkpoint::load_default()?);
//! let out = generate(&model, b"ROMEO:", 8, Sampling::Greedy, &mut Reference)?;
//! assert_eq!(out.tokens.len(), 8);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod checkpoint;
pub mod data;
#[cfg(feature = "cosim")]
pub mod engines;
pub mod generate;
pub mod model;
#[cfg(feature = "train")]
pub mod train;
