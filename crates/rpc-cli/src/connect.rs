//! Turning the connection flags into a channel (plaintext or TLS, authority, user agent),
//! waiting for it to connect within `--connect-timeout`, and `-H` headers into metadata.

use crate::args::Common;
use crate::exit::Failure;
use base64::Engine;
use rpc_core::{ChannelConnectivity, ChannelCredentials, ChannelOptions, Metadata, MetadataValue};
use std::time::{Duration, Instant};

/// The metadata of `name: value` headers, in order; names are lowercased.
pub(crate) fn parse_headers<'a>(headers: impl IntoIterator<Item = &'a String>) -> Result<Metadata, Failure> {
    let mut metadata = Metadata::new();
    for header in headers {
        let Some((name, value)) = header.split_once(':') else {
            return Err(Failure::usage(format!("header {header:?} is not 'name: value'")));
        };
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim();
        // A binary header's value is given base64-encoded, as grpcurl takes it.
        let value: MetadataValue = if name.ends_with("-bin") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(value)
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(value))
                .map_err(|e| Failure::usage(format!("header {header:?}: a -bin value must be base64: {e}")))?;
            MetadataValue::Binary(decoded.into())
        } else {
            value.into()
        };
        metadata
            .add(&name, value)
            .map_err(|e| Failure::usage(format!("header {header:?}: {e}")))?;
    }
    Ok(metadata)
}

/// Seconds from the command line as a duration; negative, zero or not finite is refused.
pub(crate) fn seconds(flag: &str, value: f64) -> Result<Duration, Failure> {
    if value.is_finite() && value > 0.0 && value < 1e9 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(Failure::usage(format!(
            "--{flag} must be a positive number of seconds, not {value}"
        )))
    }
}

fn read_pem(what: &str, path: &std::path::Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::general(format!("reading {what} {}: {e}", path.display())))
}

/// The credentials and options the flags ask for.
fn settings(common: &Common) -> Result<(ChannelCredentials, ChannelOptions), Failure> {
    let mut options = ChannelOptions::default().connect_timeout(seconds("connect-timeout", common.connect_timeout)?);
    if let Some(agent) = &common.user_agent {
        options = options.user_agent(agent.clone());
    }
    if let Some(authority) = &common.authority {
        options = options.default_authority(authority.clone());
    }
    if common.plaintext {
        if common.cacert.is_some() || common.cert.is_some() || common.key.is_some() || common.insecure {
            return Err(Failure::usage(
                "--cacert, --cert, --key and --insecure are TLS flags: not valid with --plaintext",
            ));
        }
        return Ok((ChannelCredentials::insecure(), options));
    }
    let server_name = match (&common.authority, &common.servername) {
        (Some(a), Some(s)) if a != s => {
            return Err(Failure::usage("--authority and --servername differ: give one of them"));
        }
        (Some(name), _) | (None, Some(name)) => Some(name.clone()),
        (None, None) => None,
    };
    if let Some(name) = server_name {
        options = options.ssl_target_name_override(name);
    }
    let (key, chain) = match (&common.key, &common.cert) {
        (Some(key), Some(cert)) => (Some(read_pem("--key", key)?), Some(read_pem("--cert", cert)?)),
        (None, None) => (None, None),
        _ => return Err(Failure::usage("--cert and --key go together")),
    };
    if common.insecure {
        if common.cacert.is_some() {
            return Err(Failure::usage("--insecure verifies no certificate: --cacert has no use with it"));
        }
        // TLS that accepts any server certificate (handshake signatures still checked);
        // a client certificate is still presented.
        let credentials = ChannelCredentials::insecure_skip_verify(key.as_deref(), chain.as_deref())
            .map_err(|e| Failure::general(format!("TLS credentials: {e}")))?;
        return Ok((credentials, options));
    }
    let roots = common.cacert.as_deref().map(|p| read_pem("--cacert", p)).transpose()?;
    let credentials = ChannelCredentials::ssl(roots.as_deref(), key.as_deref(), chain.as_deref())
        .map_err(|e| Failure::general(format!("TLS credentials: {e}")))?;
    Ok((credentials, options))
}

/// A channel to `target`, connected: waits for READY up to `--connect-timeout` (or the
/// `deadline`, whichever comes first). A refused or failed connection attempt fails at
/// once, as grpcurl's dial does.
pub(crate) async fn connect(common: &Common, target: &str, deadline: Option<Instant>) -> Result<rpc_aio::Channel, Failure> {
    let (credentials, options) = settings(common)?;
    let connect_timeout = options.connect_timeout;
    let channel = rpc_aio::secure_channel(target, credentials, options)
        .map_err(|e| Failure::general(format!("failed to dial target host {target:?}: {}", e.details())))?;
    let mut limit = connect_timeout;
    if let Some(deadline) = deadline {
        limit = limit.min(deadline.saturating_duration_since(Instant::now()));
    }
    let ready = async {
        let mut state = channel.get_state(true);
        // Each pass waits for one state change; a connection attempt has few states.
        loop {
            match state {
                ChannelConnectivity::Ready => return Ok(()),
                ChannelConnectivity::TransientFailure => {
                    return Err("the connection attempt failed (refused, unreachable, or closed by the server)");
                }
                ChannelConnectivity::Shutdown => return Err("the channel shut down"),
                ChannelConnectivity::Idle | ChannelConnectivity::Connecting => {}
            }
            state = channel.wait_for_state_change(state).await;
        }
    };
    match tokio::time::timeout(limit, ready).await {
        Ok(Ok(())) => Ok(channel),
        Ok(Err(why)) => Err(Failure::general(format!("failed to dial target host {target:?}: {why}"))),
        Err(_) => Err(Failure::general(format!(
            "failed to dial target host {target:?}: not connected within {:.1} s",
            limit.as_secs_f64()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_name_colon_value() {
        let md = parse_headers(&["X-Token: abc ".to_owned(), "k:v:w".to_owned()]).unwrap();
        assert_eq!(md.get_str("x-token"), Some("abc"));
        assert_eq!(md.get_str("k"), Some("v:w"));
        assert_eq!(parse_headers(&["novalue".to_owned()]).unwrap_err().code, crate::exit::USAGE);
        assert_eq!(parse_headers(&["bad key: v".to_owned()]).unwrap_err().code, crate::exit::USAGE);
        assert_eq!(
            parse_headers(&["grpc-timeout: 1S".to_owned()]).unwrap_err().code,
            crate::exit::USAGE
        );
        let binary = parse_headers(&["x-id-bin: AAEC".to_owned(), "y-bin: AAE".to_owned()]).unwrap();
        assert_eq!(binary.get("x-id-bin").unwrap().as_bytes(), [0, 1, 2]);
        assert_eq!(binary.get("y-bin").unwrap().as_bytes(), [0, 1]);
        assert_eq!(
            parse_headers(&["x-bin: not base64!".to_owned()]).unwrap_err().code,
            crate::exit::USAGE
        );
    }

    #[test]
    fn seconds_must_be_positive() {
        assert_eq!(seconds("max-time", 1.5).unwrap(), Duration::from_millis(1500));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(seconds("max-time", bad).is_err());
        }
    }
}
