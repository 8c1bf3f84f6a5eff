//! The interop test client on the blocking face:
//! `interop_client_sync --server_port 8080 [--use_tls --use_test_ca] --test_case all`.
//! Prints one line per case and `N passed, M failed`; exits non-zero if any case failed.

use clap::Parser;
use interop::args::ClientArgs;
use std::process::ExitCode;

fn main() -> ExitCode {
    interop::client_sync::run(&ClientArgs::parse())
}
