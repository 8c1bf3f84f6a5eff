//! `rpc`: a command-line client for gRPC servers in the manner of grpcurl, built on the
//! rpc library: `list`, `describe`, `health` and `call`, with the schema from server
//! reflection or from `.proto` files. See `docs/cli.md` for the verbs, flags, exit codes
//! and the differences from grpcurl.
//!
//! Results go to stdout; errors, statuses, headers and trailers to stderr; a spinner on
//! stderr only when it is a terminal.
#![deny(missing_docs)]
#![warn(unreachable_pub)]

mod args;
mod cmd;
mod connect;
mod exit;
mod progress;
mod schema;
mod send;

use args::{Cli, Command, Common};
use clap::Parser;
use exit::Failure;
use progress::Progress;
use schema::Schema;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let cli = match Cli::try_parse_from(args::normalise(std::env::args_os())) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit::USAGE } else { 0 };
            let _ = e.print();
            return exit_code(code);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("rpc: cannot start the async runtime: {e}");
            return exit_code(exit::GENERAL);
        }
    };
    let outcome = runtime.block_on(run(cli));
    // Calls still open (none should be) are dropped with the runtime, not waited for.
    runtime.shutdown_timeout(Duration::from_millis(100));
    match outcome {
        Ok((stdout, code)) => {
            let mut out = std::io::stdout().lock();
            if out.write_all(stdout.as_bytes()).and_then(|()| out.flush()).is_err() {
                return exit_code(exit::GENERAL);
            }
            exit_code(code)
        }
        Err(failure) => {
            report(&failure);
            exit_code(failure.code)
        }
    }
}

fn exit_code(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// A failure on stderr: an RPC's status as grpcurl prints it, anything else as one line.
fn report(failure: &Failure) {
    let mut err = std::io::stderr().lock();
    if !failure.message.is_empty() {
        let _ = writeln!(err, "rpc: {}", failure.message);
    }
    if let Some(status) = &failure.status {
        let _ = writeln!(
            err,
            "ERROR:\n  Code: {}\n  Message: {}",
            exit::camel_case_code(status),
            status.details()
        );
    }
}

/// How long past `--max-time` the whole run may go before it is cut off, so that the
/// RPC's own deadline (DEADLINE_EXCEEDED) is what reports an overrun.
const MAX_TIME_GRACE: Duration = Duration::from_millis(500);

/// Runs the command: what to print on stdout and the exit code, or a failure.
async fn run(cli: Cli) -> Result<(String, i32), Failure> {
    let common = cli.command.common().clone();
    let deadline = common
        .max_time
        .map(|s| connect::seconds("max-time", s))
        .transpose()?
        .map(|limit| Instant::now() + limit);
    let progress = Progress::new();
    let work = dispatch(cli.command, &common, deadline, &progress);
    let result = match deadline {
        Some(deadline) => match tokio::time::timeout_at((deadline + MAX_TIME_GRACE).into(), work).await {
            Ok(result) => result,
            Err(_) => Err(Failure::general("--max-time elapsed before the operation finished")),
        },
        None => work.await,
    };
    progress.clear();
    result
}

/// A target that looks like an address (`host:port`, `unix:path`) rather than a symbol.
fn looks_like_target(text: &str) -> bool {
    text.contains(':') || text.contains('/')
}

/// The schema: the files given, or reflection on a channel to `target`.
async fn schema_for(
    common: &Common,
    target: Option<&str>,
    deadline: Option<Instant>,
    progress: &Progress,
) -> Result<(Schema, Option<rpc_aio::Channel>), Failure> {
    if let Some(files) = Schema::from_files(common)? {
        return Ok((files, None));
    }
    let Some(target) = target else {
        return Err(Failure::usage("a TARGET is needed, unless --proto or --protoset gives the schema"));
    };
    progress.set(format!("connecting to {target}"));
    let channel = connect::connect(common, target, deadline).await?;
    let metadata = connect::parse_headers(common.headers.iter().chain(&common.reflect_headers))?;
    let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
    Ok((Schema::reflection(channel.clone(), metadata, timeout), Some(channel)))
}

async fn dispatch(command: Command, common: &Common, deadline: Option<Instant>, progress: &Progress) -> Result<(String, i32), Failure> {
    let has_files = !common.protos.is_empty() || !common.protosets.is_empty();
    // With files, `list X` and `describe X` name a symbol unless X looks like an address.
    let split = |target: Option<String>, symbol: Option<String>| match (target, symbol) {
        (Some(only), None) if has_files && !looks_like_target(&only) => (None, Some(only)),
        other => other,
    };
    match command {
        Command::List { target, service, .. } => {
            let (target, service) = split(target, service);
            let (schema, _channel) = schema_for(common, target.as_deref(), deadline, progress).await?;
            progress.set("listing");
            Ok((cmd::list::run(&schema, service.as_deref()).await?, 0))
        }
        Command::Describe { target, symbol, .. } => {
            let (target, symbol) = split(target, symbol);
            let (schema, _channel) = schema_for(common, target.as_deref(), deadline, progress).await?;
            progress.set("fetching descriptors");
            Ok((cmd::describe::run(&schema, symbol.as_deref()).await?, 0))
        }
        Command::Health { target, service, .. } => {
            let metadata = connect::parse_headers(common.headers.iter().chain(&common.rpc_headers))?;
            progress.set(format!("connecting to {target}"));
            let channel = connect::connect(common, &target, deadline).await?;
            progress.set("checking health");
            cmd::health::run(&channel, &service, metadata, deadline).await
        }
        Command::Call { call, target, method, .. } => {
            let metadata = connect::parse_headers(common.headers.iter().chain(&common.rpc_headers))?;
            let (schema, channel) = schema_for(common, Some(&target), deadline, progress).await?;
            progress.set("resolving the method");
            let method = cmd::call::resolve(&schema, &method).await?;
            let options = rpc_dynamic::JsonOptions::new().allow_unknown_fields(call.allow_unknown_fields);
            let requests = cmd::call::read_requests(&method, call.data.as_deref(), &options)?;
            let channel = match channel {
                Some(channel) => channel,
                None => {
                    progress.set(format!("connecting to {target}"));
                    connect::connect(common, &target, deadline).await?
                }
            };
            progress.set(format!("calling {}", method.full_name()));
            // Responses stream to stdout as they come: the spinner goes first.
            progress.clear();
            cmd::call::run(&channel, &schema, &method, requests, &call, metadata, deadline, common.verbose).await?;
            Ok((String::new(), 0))
        }
    }
}
