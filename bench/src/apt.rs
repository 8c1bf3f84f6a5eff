//! Finding programs on `PATH` and installing Debian packages with apt-get, for the optional
//! tools of the benchmark (h2load, Go and grpc-go).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The first `name` on `PATH` that is a file.
pub fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// Runs `apt-get update` then `apt-get install -y PACKAGES`, quietly and without questions;
/// the error says which step failed.
pub fn install(packages: &[&str]) -> Result<(), String> {
    let quiet = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("apt-get: {e}"))
            .and_then(|s| {
                if s.success() {
                    Ok(())
                } else {
                    Err(format!("apt-get {} failed ({s})", args.join(" ")))
                }
            })
    };
    quiet(&["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q"];
    args.extend_from_slice(packages);
    quiet(&args)
}
