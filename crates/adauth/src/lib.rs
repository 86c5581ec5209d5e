#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use adauth_core::*;

/// Fyber (Digital Turbine Offer Wall Reporting API): the `adauth-fyber` crate.
#[cfg(feature = "fyber")]
#[cfg_attr(docsrs, doc(cfg(feature = "fyber")))]
pub use adauth_fyber as fyber;

/// AdGem: the `adauth-adgem` crate.
#[cfg(feature = "adgem")]
#[cfg_attr(docsrs, doc(cfg(feature = "adgem")))]
pub use adauth_adgem as adgem;
