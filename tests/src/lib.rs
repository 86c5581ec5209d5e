//! End-to-end tests of adauth; see `tests/`.
#![forbid(unsafe_code)]

/// The project README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;
