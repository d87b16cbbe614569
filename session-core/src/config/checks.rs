//! The checks a configuration passes at build time: cookie attributes a browser would drop or
//! misread, lifetimes that cannot hold, settings Flask mode cannot honour.

use super::HOST_PREFIX;
use crate::error::ConfigError;
use crate::header::{self as cookie, Attributes, SameSite};
use crate::lifetime::{Lifetime, Refresh};

pub(super) fn check_attributes(name: &str, attributes: &Attributes) -> Result<(), ConfigError> {
    if !cookie::is_token(name) {
        return Err(ConfigError::InvalidCookieName(name.to_owned()));
    }
    let path = &attributes.path;
    if !path.starts_with('/') || !cookie::is_attribute_value(path) {
        return Err(ConfigError::InvalidAttribute {
            attribute: "Path",
            value: path.clone(),
            expected: "a path that starts with `/`, in printable ASCII without `;`, such as `/` \
                       or `/app`",
        });
    }
    if let Some(domain) = attributes
        .domain
        .as_ref()
        .filter(|d| !cookie::is_host_name(d))
    {
        return Err(ConfigError::InvalidAttribute {
            attribute: "Domain",
            value: domain.clone(),
            expected: "a host name such as `example.com`, without scheme, port, path, spaces or \
                       commas (or no `.domain(..)` at all, so only this host gets the cookie)",
        });
    }
    if attributes.same_site == Some(SameSite::None) && !attributes.secure {
        return Err(ConfigError::SameSiteNoneWithoutSecure);
    }
    if attributes.partitioned && !attributes.secure {
        return Err(ConfigError::PartitionedWithoutSecure);
    }
    if name.starts_with(HOST_PREFIX) {
        if !attributes.secure {
            return Err(ConfigError::Prefix(
                "the `__Host-` prefix requires Secure: remove `.secure(false)`",
            ));
        }
        if attributes.path != "/" {
            return Err(ConfigError::Prefix(
                "the `__Host-` prefix requires Path=/: remove `.path(..)`",
            ));
        }
        if attributes.domain.is_some() {
            return Err(ConfigError::Prefix(
                "the `__Host-` prefix forbids Domain: remove `.domain(..)`",
            ));
        }
    }
    if name.starts_with("__Secure-") && !attributes.secure {
        return Err(ConfigError::Prefix(
            "the `__Secure-` prefix requires Secure: remove `.secure(false)`",
        ));
    }
    Ok(())
}

/// Lifetimes above zero; a refresh fraction in `(0, 1]` (not NaN).
pub(super) fn check_times(lifetime: &Lifetime) -> Result<(), ConfigError> {
    for limits in [lifetime.browser, lifetime.persistent] {
        if limits.absolute.is_zero() || limits.idle.is_some_and(|d| d.is_zero()) {
            return Err(ConfigError::ZeroLifetime);
        }
    }
    match lifetime.refresh {
        Refresh::AfterFraction(f) if !(f > 0.0 && f <= 1.0) => {
            Err(ConfigError::InvalidRefreshFraction(f))
        }
        _ => Ok(()),
    }
}

/// Flask's cookie signs one time, its last write: an idle timeout cannot be told apart from
/// the lifetime, so it is refused rather than silently ignored.
#[cfg(feature = "flask")]
pub(super) fn check_flask(lifetime: &Lifetime) -> Result<(), ConfigError> {
    if lifetime.browser.idle.is_some() || lifetime.persistent.idle.is_some() {
        return Err(ConfigError::UnsupportedInFlaskMode(
            "an idle timeout: Flask's cookie carries only its signing time, so the lifetime \
             (`.lifetime(..)`, Flask's PERMANENT_SESSION_LIFETIME) already counts from the last \
             write; remove `.idle_timeout(..)` and `.persistent_idle_timeout(..)`",
        ));
    }
    Ok(())
}
