//! admitad access tokens for adauth.
