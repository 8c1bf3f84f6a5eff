//! The official interop command-line flags (gRPC's `doc/interop-test-descriptions.md`), for
//! the servers and the clients of both faces.
//!
//! Boolean flags take gRPC's forms: `--use_tls`, `--use_tls=true` or `--use_tls=false`.

use clap::{ArgAction, Parser};

/// The flags of `interop_server_sync` and `interop_server_aio`.
#[derive(Debug, Clone, Parser)]
#[command(about = "gRPC interop test server (grpc.testing.TestService)")]
pub struct ServerArgs {
    /// The port to listen on (on 127.0.0.1); 0 picks a free one. The server prints
    /// `listening on PORT` once it serves.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Whether to serve TLS with the interop test certificate (`*.test.google.fr`).
    #[arg(long = "use_tls", action = ArgAction::Set, num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub use_tls: bool,
}

/// The flags of `interop_client_sync` and `interop_client_aio`.
#[derive(Debug, Clone, Parser)]
#[command(about = "gRPC interop test client")]
pub struct ClientArgs {
    /// The server host to connect to.
    #[arg(long = "server_host", default_value = "127.0.0.1")]
    pub server_host: String,
    /// The server port to connect to.
    #[arg(long = "server_port", default_value_t = 8080)]
    pub server_port: u16,
    /// The name to verify in the server's certificate (with `--use_tls`).
    #[arg(long = "server_host_override", default_value = "foo.test.google.fr")]
    pub server_host_override: String,
    /// Whether to connect with TLS.
    #[arg(long = "use_tls", action = ArgAction::Set, num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub use_tls: bool,
    /// Whether to trust the interop test CA instead of the default roots (docs/security.md).
    #[arg(long = "use_test_ca", action = ArgAction::Set, num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub use_test_ca: bool,
    /// The test cases to run: one name, a comma-separated list, or `all`.
    #[arg(long = "test_case", default_value = "large_unary")]
    pub test_case: String,
}

impl ClientArgs {
    /// The channel target, `host:port`.
    pub fn target(&self) -> String {
        format!("{}:{}", self.server_host, self.server_port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boolean_flags_take_the_official_forms() {
        let a = ClientArgs::parse_from(["c", "--use_tls", "--use_test_ca=true", "--server_port=5", "--test_case", "all"]);
        assert!(a.use_tls && a.use_test_ca);
        assert_eq!((a.target().as_str(), a.test_case.as_str()), ("127.0.0.1:5", "all"));
        let a = ClientArgs::parse_from(["c", "--use_tls=false"]);
        assert!(!a.use_tls);
        assert_eq!(a.server_host_override, "foo.test.google.fr");
        let s = ServerArgs::parse_from(["s", "--port=0", "--use_tls=true"]);
        assert_eq!((s.port, s.use_tls), (0, true));
    }
}
