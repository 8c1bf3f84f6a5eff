//! The interop test client on the async face:
//! `interop_client_aio --server_port 8080 [--use_tls --use_test_ca] --test_case all`.
//! Prints one line per case and `N passed, M failed`; exits non-zero if any case failed.

use clap::Parser;
use interop::args::ClientArgs;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    interop::client_aio::run(&ClientArgs::parse()).await
}
