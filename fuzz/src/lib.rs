//! Fuzzing of hlsk's input parsers and a storm of wire faults on the
//! digital twin's UART link (`docs/fuzzing.md`).
//!
//! - [`targets`]: the host frame decoder, the board-file loader, the
//!   `.npy` reader and the conv descriptor decoder, each with an oracle
//!   (round trip, re-encoding) and mutations that know its format;
//! - [`campaign`]: mutation fuzzing from a seed corpus (`fuzz/corpus/`),
//!   guided by new outcome kinds, with panics caught and a hang watchdog;
//! - [`storm`]: random corrupted, dropped, duplicated and inserted bytes
//!   in both directions while the host driver runs TLMM jobs on the twin,
//!   counting what got through;
//! - [`seeds`]: the generated part of the corpus;
//! - [`forged`]: the shifted-frame forgery that protocol version 2 let
//!   through, replayed against version 3.
//!
//! # Example
//!
//! ```
//! use hlsk_fuzz::campaign::{Settings, run};
//! use hlsk_fuzz::targets::by_name;
//!
//! let target = by_name("desc").unwrap();
//! let seeds: Vec<Vec<u8>> = hlsk_fuzz::seeds::descriptors()
//!     .into_iter()
//!     .map(|(_, w)| w.iter().flat_map(|x| x.to_le_bytes()).collect())
//!     .collect();
//! let settings = Settings { execs: 2000, seed: 1, hang_after: std::time::Duration::from_secs(5) };
//! let report = run(target, &seeds, &settings);
//! assert_eq!(report.crashes, 0);
//! assert!(report.outcomes.keys().any(|k| k.starts_with("ok:")));
//! ```

pub mod campaign;
#[cfg(feature = "storm")]
pub mod forged;
pub mod mutate;
pub mod seeds;
#[cfg(feature = "storm")]
pub mod storm;
pub mod targets;
