//! Admitad's access scopes and a set of them.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use adauth_core::{Error, Result};

use crate::PROVIDER;

macro_rules! scopes {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// One access scope ("настройка доступа") an application asks for.
        ///
        /// The known scopes are variants; any other name the provider adds later is
        /// [`Scope::Other`]. Scopes compare and sort by their wire name.
        ///
        /// ```
        /// use adauth_admitad::Scope;
        ///
        /// assert_eq!(Scope::Advcampaigns.as_str(), "advcampaigns");
        /// assert_eq!("banners".parse::<Scope>().unwrap(), Scope::Banners);
        /// assert_eq!("broker_application".parse::<Scope>().unwrap().as_str(), "broker_application");
        /// assert!("two words".parse::<Scope>().is_err());
        /// ```
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum Scope {
            $($(#[$doc])* $variant,)*
            /// A scope this crate does not know by name, sent as given.
            Other(String),
        }

        impl Scope {
            /// Every scope known by name.
            pub const KNOWN: &'static [Scope] = &[$(Scope::$variant,)*];

            /// The scope's name on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Scope::$variant => $name,)*
                    Scope::Other(name) => name,
                }
            }

            fn known(name: &str) -> Option<Self> {
                match name {
                    $($name => Some(Scope::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

scopes! {
    /// `public_data`: public information (campaign lists, categories, ...).
    PublicData = "public_data",
    /// `private_data`: the account's own profile.
    PrivateData = "private_data",
    /// `websites`: the publisher's ad spaces.
    Websites = "websites",
    /// `manage_websites`: creating and editing ad spaces.
    ManageWebsites = "manage_websites",
    /// `advcampaigns`: affiliate programs.
    Advcampaigns = "advcampaigns",
    /// `advcampaigns_for_website`: affiliate programs for one ad space.
    AdvcampaignsForWebsite = "advcampaigns_for_website",
    /// `banners`: banners of affiliate programs.
    Banners = "banners",
    /// `coupons`: coupons.
    Coupons = "coupons",
    /// `statistics`: statistics.
    Statistics = "statistics",
    /// `deeplink_generator`: the deeplink generator.
    DeeplinkGenerator = "deeplink_generator",
    /// `validate_links`: link validation.
    ValidateLinks = "validate_links",
    /// `payments`: payments.
    Payments = "payments",
    /// `lost_orders`: lost orders.
    LostOrders = "lost_orders",
    /// `advertiser_statistics`: advertiser statistics.
    AdvertiserStatistics = "advertiser_statistics",
    /// `advertiser_websites`: the advertiser's websites.
    AdvertiserWebsites = "advertiser_websites",
    /// `advertiser_info`: the advertiser's account.
    AdvertiserInfo = "advertiser_info",
}

impl PartialEq for Scope {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Scope {}

impl PartialOrd for Scope {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scope {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for Scope {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope name is one OAuth `scope-token` (RFC 6749, section 3.3): printable ASCII without
/// spaces, `"` or `\`.
fn is_scope_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e')
}

impl FromStr for Scope {
    type Err = Error;

    /// A known scope by name, or [`Scope::Other`]; a blank name or one with spaces or other
    /// characters not allowed in a scope is a configuration error.
    fn from_str(name: &str) -> Result<Self> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::configuration(PROVIDER, "a scope name is empty"));
        }
        if !name.chars().all(is_scope_char) {
            return Err(Error::configuration(
                PROVIDER,
                format!(
                    "{name:?} is not a scope name: scopes are separated by spaces and are printable ASCII"
                ),
            ));
        }
        Ok(Scope::known(name).unwrap_or_else(|| Scope::Other(name.to_owned())))
    }
}

/// A set of scopes, as the `scope` parameter carries them: space separated.
///
/// The set renders in alphabetical order of the names, so the same set always makes the
/// same request (`advcampaigns banners websites`, as in Admitad's example), and parses
/// from any space-separated list.
///
/// ```
/// use adauth_admitad::{Scope, Scopes};
///
/// let scopes: Scopes = "websites advcampaigns  banners".parse().unwrap();
/// assert_eq!(scopes.to_string(), "advcampaigns banners websites");
/// assert!(scopes.contains(&Scope::Banners));
///
/// let built = Scopes::from([Scope::Websites, Scope::Banners, Scope::Advcampaigns]);
/// assert_eq!(built, scopes);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Scopes(BTreeSet<Scope>);

impl Scopes {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The set with `scope` added.
    pub fn with(mut self, scope: Scope) -> Self {
        self.0.insert(scope);
        self
    }

    /// Adds `scope`; says whether it was new.
    pub fn insert(&mut self, scope: Scope) -> bool {
        self.0.insert(scope)
    }

    /// Whether `scope` is in the set.
    pub fn contains(&self, scope: &Scope) -> bool {
        self.0.contains(scope)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of scopes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The scopes, in alphabetical order.
    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for Scopes {
    type Err = Error;

    /// Parses a list separated by white space; an empty list is an empty set.
    fn from_str(list: &str) -> Result<Self> {
        list.split_whitespace().map(str::parse).collect()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl<const N: usize> From<[Scope; N]> for Scopes {
    fn from(scopes: [Scope; N]) -> Self {
        scopes.into_iter().collect()
    }
}

impl From<Scope> for Scopes {
    fn from(scope: Scope) -> Self {
        Self::new().with(scope)
    }
}

impl Extend<Scope> for Scopes {
    fn extend<I: IntoIterator<Item = Scope>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl<'a> IntoIterator for &'a Scopes {
    type Item = &'a Scope;
    type IntoIter = std::collections::btree_set::Iter<'a, Scope>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}
