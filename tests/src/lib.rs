//! End-to-end tests of adauth; see `tests/`.
