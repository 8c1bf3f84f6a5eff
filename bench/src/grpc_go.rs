//! The optional grpc-go server side of the h2load scenario: finds Go and Debian's grpc-go
//! sources (apt-getting `golang-go` and `golang-google-grpc-dev` only when asked), builds
//! `bench/go/grpc_go_server` in GOPATH mode into a directory under the target dir, and
//! starts it pinned like the other servers.
//!
//! Nothing is fetched by Go: modules are off (`GO111MODULE=off`), the proxy is off
//! (`GOPROXY=off`), and imports resolve from Debian's `/usr/share/gocode` alone. No protoc
//! and no generated code either: the Go source registers `bench.Bench/Call` by hand.

use crate::apt::which;
use crate::procs::ServerProc;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Debian packages the side needs: the Go toolchain and grpc-go's sources (which pull
/// in golang.org/x/net, genproto and the protobuf runtime).
pub const PACKAGES: [&str; 2] = ["golang-go", "golang-google-grpc-dev"];

/// Where Debian's `golang-*-dev` packages put their sources (a GOPATH).
pub const DEBIAN_GOPATH: &str = "/usr/share/gocode";

/// The command-line flag that lets the harness apt-get [`PACKAGES`].
pub const INSTALL_FLAG: &str = "--install-go";

/// The Go server's source directory in this repository.
pub fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("go").join("grpc_go_server")
}

/// A built grpc-go server.
#[derive(Clone, Debug)]
pub struct GoServer {
    /// The executable.
    pub exe: PathBuf,
    /// `go version`'s answer, for the report.
    pub toolchain: String,
}

fn grpc_sources() -> PathBuf {
    Path::new(DEBIAN_GOPATH).join("src/google.golang.org/grpc/server.go")
}

fn find_go() -> Option<PathBuf> {
    which("go").or_else(|| Some(PathBuf::from("/usr/lib/go/bin/go")).filter(|p| p.is_file()))
}

/// Finds the Go toolchain and grpc-go's sources. When either is missing: with `install`,
/// apt-gets [`PACKAGES`]; without, says what is missing and how to enable the side.
pub fn ensure(install: bool) -> Result<PathBuf, String> {
    let missing = || {
        let mut what = Vec::new();
        if find_go().is_none() {
            what.push("go (golang-go)");
        }
        if !grpc_sources().is_file() {
            what.push("grpc-go's sources (golang-google-grpc-dev)");
        }
        what
    };
    let what = missing();
    if what.is_empty() {
        return find_go().ok_or_else(|| "go vanished".into());
    }
    if !install {
        return Err(format!(
            "skipped: {} not installed; pass {INSTALL_FLAG} to apt-get install {}",
            what.join(" and "),
            PACKAGES.join(" ")
        ));
    }
    eprintln!("grpc-go side: apt-get update && apt-get install -y {} ...", PACKAGES.join(" "));
    crate::apt::install(&PACKAGES)?;
    let what = missing();
    if what.is_empty() {
        find_go().ok_or_else(|| "go vanished".into())
    } else {
        Err(format!(
            "{} still missing after installing {}",
            what.join(" and "),
            PACKAGES.join(" ")
        ))
    }
}

/// Builds the server with `go` into `build_dir` (created; it also holds Go's build cache
/// and a GOPATH entry of its own, so nothing is written to the source tree or the home
/// directory). A rebuild with nothing changed takes about a second.
pub fn build(go: &Path, build_dir: &Path) -> Result<GoServer, String> {
    std::fs::create_dir_all(build_dir).map_err(|e| format!("{}: {e}", build_dir.display()))?;
    let exe = build_dir.join("grpc_go_server");
    let gopath = format!("{}:{DEBIAN_GOPATH}", build_dir.join("gopath").display());
    let go_cmd = |args: &[&str]| {
        let mut cmd = Command::new(go);
        cmd.args(args)
            .current_dir(source_dir())
            .env("GO111MODULE", "off")
            .env("GOPATH", &gopath)
            .env("GOCACHE", build_dir.join("cache"))
            .env("GOPROXY", "off")
            .env("GOFLAGS", "")
            .env("GOENV", "off")
            .env("GOTOOLCHAIN", "local")
            .env("CGO_ENABLED", "0")
            .stdin(Stdio::null());
        cmd
    };
    let out = go_cmd(&["build", "-o"])
        .arg(&exe)
        .arg(".")
        .output()
        .map_err(|e| format!("{}: {e}", go.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(6).collect();
        return Err(format!(
            "go build failed ({}): {}",
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ));
    }
    let toolchain = go_cmd(&["version"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    Ok(GoServer { exe, toolchain })
}

/// [`ensure`] then [`build`].
pub fn prepare(install: bool, build_dir: &Path) -> Result<GoServer, String> {
    build(&ensure(install)?, build_dir)
}

/// GOMAXPROCS for the Go server: 1 when the servers are pinned to one CPU, else the CPUs
/// this process may use, which is also how many workers tokio's default runtime of the
/// Rust servers starts.
pub fn procs_for(server_cpu: Option<usize>) -> usize {
    if server_cpu.is_some() {
        1
    } else {
        crate::procs::allowed_cpus().len().max(1)
    }
}

impl GoServer {
    /// Starts the server on a free port of 127.0.0.1, pinned to `cpu` if given, with
    /// GOMAXPROCS from [`procs_for`]; it announces `port N grpc-go VERSION, goVERSION,
    /// GOMAXPROCS N` ([`ServerProc::says`] keeps the part after the port).
    pub fn start(&self, cpu: Option<usize>) -> Result<ServerProc, String> {
        let mut cmd = Command::new(&self.exe);
        cmd.arg("-port").arg("0").arg("-procs").arg(procs_for(cpu).to_string());
        ServerProc::spawn(cmd, "grpc-go", cpu)
    }
}
