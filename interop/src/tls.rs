//! The interop test TLS material (`interop/testdata/`, test-only keys), embedded so the
//! binaries run from any directory, and the credentials built from it.

use crate::args::ClientArgs;
use rpc_core::{ChannelCredentials, ChannelOptions, RpcError, ServerCredentials};

/// The interop test CA (PEM).
pub const CA_PEM: &[u8] = include_bytes!("../testdata/ca.pem");
/// The server certificate for `*.test.google.fr` (PEM), signed by [`CA_PEM`].
pub const SERVER_CERT_PEM: &[u8] = include_bytes!("../testdata/server1.pem");
/// The server certificate's private key (PEM). Public: for tests only.
pub const SERVER_KEY_PEM: &[u8] = include_bytes!("../testdata/server1.key");

/// What the interop servers present with `--use_tls`.
pub fn server_credentials() -> Result<ServerCredentials, RpcError> {
    ServerCredentials::ssl(&[(SERVER_KEY_PEM, SERVER_CERT_PEM)], None, false)
        .map_err(|e| RpcError::internal(format!("the interop test certificate is unusable: {e}")))
}

/// What the interop clients use with `--use_tls`: the test CA with `--use_test_ca`,
/// otherwise the default roots of `ChannelCredentials::ssl(None, ..)`.
pub fn channel_credentials(use_test_ca: bool) -> Result<ChannelCredentials, RpcError> {
    let roots = use_test_ca.then_some(CA_PEM);
    ChannelCredentials::ssl(roots, None, None).map_err(|e| RpcError::internal(format!("the interop test CA is unusable: {e}")))
}

/// The credentials and options the client flags describe: plaintext (insecure
/// credentials), or TLS verifying `--server_host_override`.
pub fn client_settings(args: &ClientArgs) -> Result<(ChannelCredentials, ChannelOptions), RpcError> {
    let mut options = ChannelOptions::default();
    if !args.use_tls {
        return Ok((ChannelCredentials::insecure(), options));
    }
    options.ssl_target_name_override = Some(args.server_host_override.clone());
    Ok((channel_credentials(args.use_test_ca)?, options))
}
