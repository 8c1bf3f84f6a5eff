//! The default TLS roots (`ChannelCredentials::ssl(None, ..)`), tested in child processes
//! because the roots come from process-wide environment variables: each scenario starts a
//! TLS server here (a leaf for `localhost`/127.0.0.1 signed by a CA made now), then runs
//! the test binary again (its ignored `child_entry` test) with the variables of the
//! scenario; the child calls the server's Unary with default roots and prints what happened.
//!
//! Shared by both faces: rpc-aio's `client_tls_default_roots.rs` and rpc-sync's; each
//! supplies the child's client (calling Unary with [`REQUEST`]), the scenarios are written
//! once here.

use crate::pki::Ca;
use crate::process::Child;
use crate::servicer::Style;
use rpc_aio::{ServerCredentials, ServerOptions, StatusCode};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The variables the child's roots depend on; each scenario sets them from scratch.
const ROOTS_FILE_VAR: &str = "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH";
const CERT_FILE_VAR: &str = "SSL_CERT_FILE";
const CERT_DIR_VAR: &str = "SSL_CERT_DIR";
/// Tells the child process the server's target (and that it is the child).
const TARGET_VAR: &str = "RPC_DEFAULT_ROOTS_CHILD_TARGET";
/// The prefix of the child's one line of outcome.
const OUTCOME: &str = "DEFAULT-ROOTS-OUTCOME ";

/// The text the child sends; the server replies `echo:` and it.
pub const REQUEST: &str = "default-roots";

/// What the child saw.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The call succeeded with this reply text.
    Reply(String),
    /// The channel was made but the call failed.
    CallFailed(String, String),
    /// Making the channel failed (code, details).
    CreateFailed(String, String),
}

impl Outcome {
    /// The line the child prints.
    pub fn line(&self) -> String {
        let one_line = |s: &str| s.replace('\n', " ");
        match self {
            Outcome::Reply(text) => format!("{OUTCOME}reply {}", one_line(text)),
            Outcome::CallFailed(code, details) => format!("{OUTCOME}call-failed {code} {}", one_line(details)),
            Outcome::CreateFailed(code, details) => format!("{OUTCOME}create-failed {code} {}", one_line(details)),
        }
    }

    fn parse(line: &str) -> Option<Outcome> {
        let rest = &line[line.find(OUTCOME)? + OUTCOME.len()..];
        let (kind, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let split = || {
            let (code, details) = rest.split_once(' ').unwrap_or((rest, ""));
            (code.to_owned(), details.to_owned())
        };
        match kind {
            "reply" => Some(Outcome::Reply(rest.to_owned())),
            "call-failed" => Some(Outcome::CallFailed(split().0, split().1)),
            "create-failed" => Some(Outcome::CreateFailed(split().0, split().1)),
            _ => None,
        }
    }
}

/// The code as the child prints it.
pub fn code_name(code: StatusCode) -> String {
    format!("{code:?}")
}

/// The body of the child's entry test: when this process is a child, calls `client` with
/// the server's target and prints its outcome; otherwise does nothing.
pub fn child_main(client: impl FnOnce(&str) -> Outcome) {
    if let Ok(target) = std::env::var(TARGET_VAR) {
        println!("{}", client(&target).line());
    }
}

/// A directory of its own under the temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("rpc-default-roots-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A TLS echo server on 127.0.0.1 whose certificate is signed by `ca.pem`, and PEM files
/// for the scenarios: `ca` (the server's CA), `other_ca` (a CA that did not sign it),
/// `not_pem` (no certificate at all) and `missing` (a path with no file).
pub struct World {
    pub ca: PathBuf,
    pub other_ca: PathBuf,
    pub not_pem: PathBuf,
    pub missing: PathBuf,
    port: u16,
    server: rpc_aio::Server,
    runtime: tokio::runtime::Runtime,
    _dir: TempDir,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World").field("port", &self.port).finish_non_exhaustive()
    }
}

impl World {
    /// The server and the files of the scenarios.
    #[allow(clippy::new_without_default)]
    pub fn new() -> World {
        let dir = TempDir::new();
        let ca = Ca::new("rpc default-roots test CA");
        let leaf = ca.server_leaf();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let server = rpc_aio::server(ServerOptions::default());
        Style::Async.register(&server, &crate::Probe::new());
        let creds = ServerCredentials::ssl(&[(leaf.key.as_bytes(), leaf.cert.as_bytes())], None, false).unwrap();
        let port = server.add_secure_port("127.0.0.1:0", creds).unwrap();
        runtime.block_on(server.start()).unwrap();
        World {
            ca: dir.write("ca.pem", &ca.pem),
            other_ca: dir.write("other-ca.pem", &Ca::new("some other CA").pem),
            not_pem: dir.write("not-pem.txt", "these are not the certificates you are looking for\n"),
            missing: dir.0.join("no-such-file.pem"),
            port,
            server,
            runtime,
            _dir: dir,
        }
    }

    /// Runs the child with `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH = roots_file` and
    /// `SSL_CERT_FILE = cert_file` (each unset when `None`; `SSL_CERT_DIR` always unset, so
    /// the machine's own store never answers) and returns what it saw.
    pub fn child(&self, roots_file: Option<&Path>, cert_file: Option<&Path>) -> Outcome {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args(["child_entry", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env(TARGET_VAR, format!("127.0.0.1:{}", self.port))
            .env_remove(ROOTS_FILE_VAR)
            .env_remove(CERT_FILE_VAR)
            .env_remove(CERT_DIR_VAR)
            .stderr(Stdio::inherit());
        if let Some(path) = roots_file {
            cmd.env(ROOTS_FILE_VAR, path);
        }
        if let Some(path) = cert_file {
            cmd.env(CERT_FILE_VAR, path);
        }
        let mut child = Child::spawn(&mut cmd).with_limit(Duration::from_secs(60));
        let line = child.wait_line(OUTCOME);
        Outcome::parse(&format!("{OUTCOME}{line}")).unwrap_or_else(|| panic!("not an outcome: {line:?}"))
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.runtime.block_on(self.server.stop(None));
    }
}

// The scenarios; each face runs every one with its own client in the child.

/// A CA offered through `SSL_CERT_FILE` (the system store) is trusted.
pub fn ssl_cert_file_ca_is_trusted() {
    let w = World::new();
    assert_eq!(w.child(None, Some(&w.ca)), Outcome::Reply(format!("echo:{REQUEST}")));
}

/// `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` is trusted, and wins over `SSL_CERT_FILE`: with the
/// CA there and another in `SSL_CERT_FILE` the call succeeds; the other way round it is
/// refused (the system store is not consulted at all).
pub fn grpc_default_roots_file_wins_over_ssl_cert_file() {
    let w = World::new();
    assert_eq!(w.child(Some(&w.ca), Some(&w.other_ca)), Outcome::Reply(format!("echo:{REQUEST}")));
    assert_unknown_issuer(w.child(Some(&w.other_ca), Some(&w.ca)));
}

/// With neither variable naming the CA, the call is refused: the roots are really used.
pub fn roots_without_the_ca_refuse_the_server() {
    let w = World::new();
    assert_unknown_issuer(w.child(None, Some(&w.other_ca)));
}

/// An empty system store (`SSL_CERT_FILE` names no file): with the `webpki-roots` feature
/// the bundled Mozilla roots are used (the channel is made and the test CA is unknown to
/// them); without it, making the channel fails and says what to do.
pub fn empty_system_store_falls_back_to_the_bundled_roots(bundled: bool) {
    let w = World::new();
    let outcome = w.child(None, Some(&w.missing));
    if bundled {
        assert_unknown_issuer(outcome);
    } else {
        let Outcome::CreateFailed(code, details) = outcome else {
            panic!("expected the channel to be refused, got {outcome:?}")
        };
        assert_eq!(code, code_name(StatusCode::FailedPrecondition), "{details}");
        assert!(details.contains("no default TLS roots"), "{details}");
    }
}

/// A `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` that cannot be read, or holds no certificate, is
/// an error when the channel is made, naming the variable and the file; it never falls
/// back to other roots and never panics.
pub fn bad_grpc_default_roots_file_is_an_error_at_channel_creation() {
    let w = World::new();
    for (file, why) in [(&w.missing, "cannot read"), (&w.not_pem, "no certificate")] {
        let outcome = w.child(Some(file), Some(&w.ca));
        let Outcome::CreateFailed(code, details) = outcome else {
            panic!("{}: expected the channel to be refused, got {outcome:?}", file.display())
        };
        assert_eq!(code, code_name(StatusCode::FailedPrecondition), "{details}");
        assert!(details.contains(ROOTS_FILE_VAR), "{details}");
        assert!(details.contains(&file.display().to_string()), "{details}");
        assert!(details.contains(why), "{details}");
    }
}

fn assert_unknown_issuer(outcome: Outcome) {
    let Outcome::CallFailed(code, details) = outcome else {
        panic!("expected the call to be refused, got {outcome:?}")
    };
    assert_eq!(code, code_name(StatusCode::Unavailable), "{details}");
    assert!(details.contains("invalid peer certificate: UnknownIssuer"), "{details}");
}
