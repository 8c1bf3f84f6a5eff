//! What both interop servers do around their servicer: the address from `--port`, the
//! credentials from `--use_tls`, and the `listening on PORT` line that tells a test
//! harness which port was picked.

use crate::args::ServerArgs;
use crate::tls;
use rpc_core::RpcError;
use std::time::Duration;

/// How long RPCs in flight may run on after SIGINT or SIGTERM.
pub const GRACE: Duration = Duration::from_secs(1);

/// The address the servers listen on: loopback only.
pub fn address(args: &ServerArgs) -> String {
    format!("127.0.0.1:{}", args.port)
}

/// Adds the port the flags describe (`add_insecure_port` or `add_secure_port` of either
/// face, passed in) and returns the port bound.
pub fn add_port(
    args: &ServerArgs,
    insecure: impl FnOnce(&str) -> Result<u16, RpcError>,
    secure: impl FnOnce(&str, rpc_core::ServerCredentials) -> Result<u16, RpcError>,
) -> Result<u16, RpcError> {
    let address = address(args);
    if args.use_tls {
        secure(&address, tls::server_credentials()?)
    } else {
        insecure(&address)
    }
}

/// Announces the bound port on stdout, the line harnesses wait for.
pub fn announce(port: u16, args: &ServerArgs) {
    let security = if args.use_tls { "tls" } else { "plaintext" };
    println!("listening on {port} ({security})");
}
