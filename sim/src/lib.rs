//! The Verilated engines driven the way the reference models are called.
//!
//! `hlsk-cosim` gives one Verilated model per parameter set behind a
//! cycle-level `step`; this crate drives them at the level of jobs and
//! descriptors, for the command-line tool, the host tools and the property
//! tests (`hlsk-tests`) alike:
//!
//! - [`tlmm`]: TLMM jobs through an engine under stream back-pressure,
//!   results compared with `hls_rust::tlmm`, busy cycles with the cycle models;
//!   [`tlmm_digits`] runs the digits MLP's products that way and
//!   [`tlmm_bench`] measures cycles per layer shape;
//! - [`conv`]: convolution descriptors through the conv engine with a memory
//!   model behind its port, and [`conv::RtlExecutor`], the RTL as a
//!   descriptor executor checked in lockstep against the reference;
//! - [`twin`]: a board SoC's digital twin, the Verilated SoC behind a
//!   bit-level UART line model ([`uart_line`]) as an
//!   [`hlsk_host::Transport`], and [`twin_pty`], the same twin served on a
//!   pseudo-terminal; [`twin_exec`] makes a twin with the convolution
//!   engine a descriptor executor, driven through the host link.
//!
//! ```no_run
//! use hls_rust::rng::Rng;
//! use hls_rust::tlmm::{Grouping, TernaryMatrix};
//! use hlsk_sim::tlmm::{Build, Job, Pressure, compare, run_jobs};
//!
//! let build = Build::Os(0);
//! let cfg = build.config();
//! let mut rng = Rng::new(1);
//! let w = TernaryMatrix::random(8, 32, 0.3, &mut rng);
//! let g = Grouping::new(cfg.g as usize).unwrap();
//! let jobs = vec![Job::new(&w, g, vec![1; 32])];
//! let mut dut = build.fresh(1, None).unwrap();
//! let seen = run_jobs(dut.as_mut(), &jobs, Pressure::IDEAL, 1).unwrap();
//! compare(&cfg, &jobs, &seen).unwrap();
//! ```

pub mod conv;
pub mod tlmm;
pub mod tlmm_bench;
pub mod tlmm_digits;
pub mod twin;
pub mod twin_exec;
pub mod twin_pty;
pub mod uart_line;
