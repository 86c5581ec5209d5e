//! mediago access tokens for adauth.
