//! The command line: verbs and flags (clap), and grpcurl's single-dash long flags
//! (`-plaintext`) accepted as their double-dash forms.

use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

/// rpc: list, describe, health-check and call gRPC services, by server reflection or
/// from .proto files (grpcurl's verbs and flags, see docs/cli.md).
#[derive(Debug, Parser)]
#[command(name = "rpc", version, about, long_about = None, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

const EXIT_CODES: &str = "\
Exit codes: 0 success; 1 failure other than the RPC's status (bad input, unknown symbol, \
no connection, reflection failed); 2 bad command line; 4 health: not SERVING; \
64 + status code when the RPC failed (e.g. 69 NOT_FOUND, 78 UNAVAILABLE).";

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List the services of a server (or of the --proto files), or the methods of SERVICE.
    List {
        #[command(flatten)]
        common: Common,
        /// host:port, or unix:PATH; may be left out with --proto or --protoset.
        target: Option<String>,
        /// A fully qualified service name: list its methods.
        service: Option<String>,
    },
    /// Show a service, method, message, field, enum, ... as proto source (all services
    /// when SYMBOL is left out).
    Describe {
        #[command(flatten)]
        common: Common,
        /// host:port, or unix:PATH; may be left out with --proto or --protoset.
        target: Option<String>,
        /// A fully qualified symbol.
        symbol: Option<String>,
    },
    /// Ask grpc.health.v1.Health/Check; prints the status; exits 4 when not SERVING.
    Health {
        #[command(flatten)]
        common: Common,
        /// host:port, or unix:PATH.
        target: String,
        /// The service to ask about; the server as a whole when left out.
        #[arg(default_value = "")]
        service: String,
    },
    /// Call METHOD (package.Service/Method or package.Service.Method) with JSON requests.
    Call {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        call: CallArgs,
        /// host:port, or unix:PATH.
        target: String,
        /// package.Service/Method or package.Service.Method.
        method: String,
    },
}

impl Command {
    pub(crate) fn common(&self) -> &Common {
        match self {
            Command::List { common, .. }
            | Command::Describe { common, .. }
            | Command::Health { common, .. }
            | Command::Call { common, .. } => common,
        }
    }
}

/// Flags every verb takes: the connection, headers, time limits and the schema source.
#[derive(Debug, Args, Clone)]
pub(crate) struct Common {
    /// Plaintext HTTP/2, no TLS.
    #[arg(long)]
    pub(crate) plaintext: bool,
    /// PEM file of root certificates to verify the server with (default: the system's roots).
    #[arg(long, value_name = "FILE")]
    pub(crate) cacert: Option<PathBuf>,
    /// PEM file of the client certificate chain (mutual TLS; needs --key).
    #[arg(long, value_name = "FILE")]
    pub(crate) cert: Option<PathBuf>,
    /// PEM file of the client private key (needs --cert).
    #[arg(long, value_name = "FILE")]
    pub(crate) key: Option<PathBuf>,
    /// Skip verifying the server's certificate (testing only: anyone can pose as the server).
    #[arg(long)]
    pub(crate) insecure: bool,
    /// The :authority to send, also the name the server's certificate must have.
    #[arg(long, value_name = "NAME")]
    pub(crate) authority: Option<String>,
    /// The name the server's certificate must have, when it differs from the target's host.
    #[arg(long, value_name = "NAME")]
    pub(crate) servername: Option<String>,
    /// A header 'name: value' for the RPC and the reflection requests (repeatable).
    #[arg(short = 'H', long = "header", value_name = "'NAME: VALUE'")]
    pub(crate) headers: Vec<String>,
    /// A header for the RPC only, not for reflection (repeatable).
    #[arg(long = "rpc-header", value_name = "'NAME: VALUE'")]
    pub(crate) rpc_headers: Vec<String>,
    /// A header for reflection requests only (repeatable).
    #[arg(long = "reflect-header", value_name = "'NAME: VALUE'")]
    pub(crate) reflect_headers: Vec<String>,
    /// The longest the whole operation may take, in seconds.
    #[arg(long = "max-time", value_name = "SECONDS")]
    pub(crate) max_time: Option<f64>,
    /// The longest connecting may take, in seconds.
    #[arg(long = "connect-timeout", value_name = "SECONDS", default_value_t = 10.0)]
    pub(crate) connect_timeout: f64,
    /// A prefix for the user-agent header.
    #[arg(long = "user-agent", value_name = "TEXT")]
    pub(crate) user_agent: Option<String>,
    /// A .proto file to take the schema from instead of server reflection (repeatable).
    #[arg(long = "proto", value_name = "FILE")]
    pub(crate) protos: Vec<PathBuf>,
    /// A directory to resolve --proto imports in (repeatable; default: the current directory).
    #[arg(long = "import-path", value_name = "DIR")]
    pub(crate) import_paths: Vec<PathBuf>,
    /// An encoded FileDescriptorSet to take the schema from (repeatable).
    #[arg(long = "protoset", value_name = "FILE")]
    pub(crate) protosets: Vec<PathBuf>,
    /// Print the request and response metadata to stderr.
    #[arg(short = 'v', long)]
    pub(crate) verbose: bool,
}

/// Flags of `call`: the requests and how responses are printed.
#[derive(Debug, Args, Clone)]
pub(crate) struct CallArgs {
    /// The request(s) as JSON; '@FILE' reads them from a file, '@-' (or '@') from stdin.
    /// Several requests (for client or bidi streaming) are concatenated or newline-separated.
    #[arg(short = 'd', long = "data", value_name = "JSON")]
    pub(crate) data: Option<String>,
    /// Print fields that hold their default value.
    #[arg(long = "emit-defaults")]
    pub(crate) emit_defaults: bool,
    /// Ignore request fields the message type does not have.
    #[arg(long = "allow-unknown-fields")]
    pub(crate) allow_unknown_fields: bool,
    /// Print field names as in the .proto (snake_case) instead of lowerCamelCase.
    #[arg(long = "use-proto-names")]
    pub(crate) use_proto_names: bool,
}

/// grpcurl's flags that are spelled with one dash there; with one dash they are taken as
/// these long flags here.
const GRPCURL_LONG_FLAGS: &[&str] = &[
    "plaintext",
    "cacert",
    "cert",
    "key",
    "insecure",
    "authority",
    "servername",
    "rpc-header",
    "reflect-header",
    "max-time",
    "connect-timeout",
    "user-agent",
    "proto",
    "import-path",
    "protoset",
    "emit-defaults",
    "allow-unknown-fields",
];

/// Rewrites `-plaintext` (or `-max-time=5`) to `--plaintext` for the flags above; stops
/// at `--`. Short flags (`-H`, `-d`, `-v`) are left alone.
pub(crate) fn normalise(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut rest = false;
    for arg in args {
        if rest {
            out.push(arg);
            continue;
        }
        let rewritten = arg.to_str().and_then(|text| {
            if text == "--" {
                return None;
            }
            let body = text.strip_prefix('-').filter(|b| !b.starts_with('-'))?;
            let name = body.split_once('=').map_or(body, |(name, _)| name);
            GRPCURL_LONG_FLAGS.contains(&name).then(|| OsString::from(format!("--{body}")))
        });
        if arg == "--" {
            rest = true;
        }
        out.push(rewritten.unwrap_or(arg));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(args: &[&str]) -> Vec<String> {
        normalise(args.iter().map(OsString::from))
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn grpcurl_spellings_become_long_flags() {
        assert_eq!(
            norm(&[
                "rpc",
                "list",
                "-plaintext",
                "-max-time=5",
                "-H",
                "a: b",
                "--proto",
                "x",
                "-d",
                "{}",
                "--",
                "-proto"
            ]),
            [
                "rpc",
                "list",
                "--plaintext",
                "--max-time=5",
                "-H",
                "a: b",
                "--proto",
                "x",
                "-d",
                "{}",
                "--",
                "-proto"
            ]
        );
    }

    #[test]
    fn the_command_line_parses() {
        let cli = Cli::try_parse_from(norm(&["rpc", "call", "-plaintext", "-d", "{}", "127.0.0.1:1", "a.B/C"])).unwrap();
        match cli.command {
            Command::Call {
                common,
                call,
                target,
                method,
            } => {
                assert!(common.plaintext);
                assert_eq!(call.data.as_deref(), Some("{}"));
                assert_eq!((target.as_str(), method.as_str()), ("127.0.0.1:1", "a.B/C"));
            }
            other => panic!("{other:?}"),
        }
        Cli::command_factory_check();
    }

    impl Cli {
        fn command_factory_check() {
            use clap::CommandFactory;
            Cli::command().debug_assert();
        }
    }
}
