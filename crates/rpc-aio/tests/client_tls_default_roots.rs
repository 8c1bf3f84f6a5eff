//! `ChannelCredentials::ssl(None, ..)` trusts the default roots: the file named by
//! `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`, else the system store (`SSL_CERT_FILE`), else the
//! bundled Mozilla roots. Each scenario runs an rpc-aio client in a child process with its
//! own environment (see the kit's `default_roots.rs`).

use rpc_aio::{ChannelCredentials, ChannelOptions, Request};
use rpc_testkit::default_roots::{self, Outcome, REQUEST, code_name};
use rpc_testkit::{SvcStub, msg};
use std::time::Duration;

#[test]
#[ignore = "not a test: the entry point of the child processes (see the kit's default_roots.rs)"]
fn child_entry() {
    default_roots::child_main(|target| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let creds = ChannelCredentials::ssl(None, None, None).unwrap();
            let channel = match rpc_aio::secure_channel(target, creds, ChannelOptions::default()) {
                Ok(channel) => channel,
                Err(e) => return Outcome::CreateFailed(code_name(e.code()), e.details().to_owned()),
            };
            let request = Request::new(msg(REQUEST)).timeout(Duration::from_secs(10));
            match SvcStub::new(channel).unary(request).await {
                Ok(reply) => Outcome::Reply(reply.text),
                Err(e) => Outcome::CallFailed(code_name(e.code()), e.details().to_owned()),
            }
        })
    });
}

#[test]
fn ssl_cert_file_ca_is_trusted() {
    default_roots::ssl_cert_file_ca_is_trusted();
}

#[test]
fn grpc_default_roots_file_wins_over_ssl_cert_file() {
    default_roots::grpc_default_roots_file_wins_over_ssl_cert_file();
}

#[test]
fn roots_without_the_ca_refuse_the_server() {
    default_roots::roots_without_the_ca_refuse_the_server();
}

#[test]
fn empty_system_store_falls_back_to_the_bundled_roots() {
    default_roots::empty_system_store_falls_back_to_the_bundled_roots(cfg!(feature = "webpki-roots"));
}

#[test]
fn bad_grpc_default_roots_file_is_an_error_at_channel_creation() {
    default_roots::bad_grpc_default_roots_file_is_an_error_at_channel_creation();
}
