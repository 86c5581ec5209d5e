//! mediamath access tokens for adauth.
