//! End-to-end tests of adauth; see `tests/`.
#![forbid(unsafe_code)]
