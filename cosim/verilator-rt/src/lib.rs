//! The Verilator runtime library, compiled once and linked into every
//! co-simulation model crate.
//!
//! This crate has no Rust API: depending on it links `verilated.cpp` (and,
//! with the `trace` feature, the FST writer and zlib; with `coverage`, the
//! coverage database). The file list comes from Verilator's own
//! `_classes.mk`, never from a hard-coded list.
