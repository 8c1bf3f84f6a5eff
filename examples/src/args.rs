//! Tiny command-line helpers shared by the example binaries.

/// The value after `--name` on the command line, if given.
pub fn flag(name: &str) -> Option<String> {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == name {
            return args.next();
        }
        if let Some(v) = arg.strip_prefix(&format!("{name}=")) {
            return Some(v.to_owned());
        }
    }
    None
}

/// The port from `--port`, or `default`.
pub fn port(default: u16) -> u16 {
    flag("--port").and_then(|p| p.parse().ok()).unwrap_or(default)
}

/// The target from `--target`, or `127.0.0.1:<default port>`.
pub fn target(default_port: u16) -> String {
    flag("--target").unwrap_or_else(|| format!("127.0.0.1:{default_port}"))
}

/// Logs to stderr at the level given by `RUST_LOG` (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Seconds from `--name SECONDS` (fractions allowed), or `default`.
pub fn seconds(name: &str, default: f64) -> std::time::Duration {
    std::time::Duration::from_secs_f64(flag(name).and_then(|s| s.parse().ok()).unwrap_or(default).max(0.0))
}

/// Whether `--name` is on the command line.
pub fn switch(name: &str) -> bool {
    std::env::args().skip(1).any(|a| a == name)
}
