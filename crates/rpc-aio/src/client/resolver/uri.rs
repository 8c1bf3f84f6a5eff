//! [`TargetUri`]: a channel target split as gRPC's naming.md reads it
//! (`scheme:[//authority/]endpoint`), with a bare `host:port` read as `dns:///host:port`.

use rpc_core::RpcError;
use std::fmt;

/// A parsed target: its scheme, its authority (between `//` and the next `/`, often empty)
/// and its path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetUri {
    scheme: String,
    authority: Option<String>,
    path: String,
    original: String,
}

impl TargetUri {
    /// Splits `target` as a URI when it starts with `scheme:` for a scheme `known` accepts;
    /// anything else (`host:port`, `[::1]:80`, `localhost`) is a `dns` target.
    ///
    /// # Errors
    /// INVALID_ARGUMENT for an empty target, or one with `scheme://` whose scheme is unknown.
    pub(crate) fn parse(target: &str, known: impl Fn(&str) -> bool) -> Result<TargetUri, RpcError> {
        let t = target.trim();
        if t.is_empty() {
            return Err(RpcError::invalid_argument("invalid target \"\": it is empty"));
        }
        if let Some((scheme, rest)) = t.split_once(':')
            && is_scheme(scheme)
        {
            let lower = scheme.to_ascii_lowercase();
            if known(&lower) {
                return Ok(split(lower, rest, target));
            }
            if rest.starts_with("//") {
                return Err(RpcError::invalid_argument(format!(
                    "invalid target {target:?}: no resolver for the scheme {scheme:?} (built in: dns, ipv4, ipv6, unix, unix-abstract; \
                     others are registered with rpc_aio::resolver::register or ChannelBuilder::resolver)"
                )));
            }
        }
        Ok(TargetUri {
            scheme: "dns".to_owned(),
            authority: Some(String::new()),
            path: format!("/{t}"),
            original: target.to_owned(),
        })
    }

    /// The scheme, lowercase (`dns`, `ipv4`, `unix`, ...).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The authority (`dns://8.8.8.8/host` has `8.8.8.8`); `None` without `//`.
    pub fn authority(&self) -> Option<&str> {
        self.authority.as_deref()
    }

    /// The path as written (`/host:port` after `dns:///`, `host:port` after `dns:`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What to resolve: the path without its leading `/` when the target had an authority
    /// part (`dns:///host:port` and `dns:host:port` both give `host:port`).
    pub fn endpoint(&self) -> &str {
        if self.authority.is_some() {
            self.path.strip_prefix('/').unwrap_or(&self.path)
        } else {
            &self.path
        }
    }

    /// The target as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.original
    }
}

impl fmt::Display for TargetUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn split(scheme: String, rest: &str, original: &str) -> TargetUri {
    let (authority, path) = match rest.strip_prefix("//") {
        Some(after) => match after.find('/') {
            Some(at) => (Some(after[..at].to_owned()), after[at..].to_owned()),
            None => (Some(after.to_owned()), String::new()),
        },
        None => (None, rest.to_owned()),
    };
    TargetUri {
        scheme,
        authority,
        path,
        original: original.to_owned(),
    }
}
