//! Processes and the machine: CPU pinning, server processes, `/proc/PID/status`, fd limits.

use crate::Side;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The CPUs this process may run on.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; sched_getaffinity fills it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &set)).collect()
    }
}

fn set_affinity(cpu: usize) -> std::io::Result<()> {
    // SAFETY: as above; the set names one CPU.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Where the clients and the servers run.
#[derive(Clone, Debug, Default)]
pub struct Pinning {
    /// The CPU of the server processes, if pinned.
    pub server_cpu: Option<usize>,
    /// The CPU of the driver (the clients, h2load), if pinned.
    pub client_cpu: Option<usize>,
    /// What was done, for the report.
    pub note: String,
}

/// Pins the calling thread (and so every thread it starts later: call it first) to one CPU
/// and reserves another for the servers, when there are at least two; says what it did.
pub fn pin_driver(enabled: bool) -> Pinning {
    let cpus = allowed_cpus();
    if !enabled {
        return Pinning {
            note: "not pinned (--no-pin)".into(),
            ..Pinning::default()
        };
    }
    if cpus.len() < 2 {
        return Pinning {
            note: format!("not pinned: only {} CPU(s) allowed", cpus.len()),
            ..Pinning::default()
        };
    }
    let (server, client) = (cpus[0], cpus[1]);
    match set_affinity(client) {
        Ok(()) => Pinning {
            server_cpu: Some(server),
            client_cpu: Some(client),
            note: format!("servers pinned to CPU {server}, clients (driver, h2load) to CPU {client} (sched_setaffinity)"),
        },
        Err(e) => Pinning {
            note: format!("not pinned: sched_setaffinity failed: {e}"),
            ..Pinning::default()
        },
    }
}

/// Raises the soft limit on open files towards `want` (up to the hard limit); returns the new soft limit.
pub fn raise_nofile(want: u64) -> u64 {
    // SAFETY: plain getrlimit/setrlimit on a local struct.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 0;
        }
        if lim.rlim_cur < want {
            let new = libc::rlimit {
                rlim_cur: want.min(lim.rlim_max),
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &new) == 0 {
                return new.rlim_cur;
            }
        }
        lim.rlim_cur
    }
}

/// Resident memory (KiB) and thread count of a process, from `/proc/PID/status`.
pub fn proc_status(pid: u32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("Threads:")?))
}

/// A benchmark server in its own process; killed when dropped.
#[derive(Debug)]
pub struct ServerProc {
    /// What it serves (`tonic`, `aio`, `sync`, `grpc-go`).
    pub name: String,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The rest of the line that announced the port (the Go server says its versions there).
    pub says: String,
    child: Child,
}

impl ServerProc {
    /// Starts `exe` (the `bench-server` binary) for `side`, pinned to `cpu` if given, and
    /// waits (at most 20 s) until it listens.
    pub fn start(exe: &Path, side: Side, sync_workers: usize, cpu: Option<usize>) -> Result<ServerProc, String> {
        let mut cmd = Command::new(exe);
        cmd.arg(side.name()).arg("--sync-workers").arg(sync_workers.to_string());
        ServerProc::spawn(cmd, side.name(), cpu)
    }

    /// Starts `cmd`, a server that prints `port N [anything]` as its first line once it
    /// listens on 127.0.0.1 and serves until its standard input closes, pinned to `cpu` if
    /// given; waits for that line at most 20 s. `name` is for messages and reports.
    pub fn spawn(mut cmd: Command, name: &str, cpu: Option<usize>) -> Result<ServerProc, String> {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        if let Some(cpu) = cpu {
            // SAFETY: sched_setaffinity is async-signal-safe; nothing else runs in the hook.
            unsafe {
                cmd.pre_exec(move || set_affinity(cpu));
            }
        }
        let program = cmd.get_program().to_string_lossy().into_owned();
        let mut child = cmd.spawn().map_err(|e| format!("cannot start {program}: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
        match parse_port_line(&line) {
            Some((port, says)) => Ok(ServerProc {
                name: name.to_owned(),
                port,
                says: says.to_owned(),
                child,
            }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!("{name} server did not start (said {line:?})"))
            }
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn target(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory (KiB) and threads now.
    pub fn status(&self) -> Option<(u64, u64)> {
        proc_status(self.pid())
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `port N rest` -> `(N, "rest")`.
fn parse_port_line(line: &str) -> Option<(u16, &str)> {
    let rest = line.trim().strip_prefix("port ")?;
    let (port, says) = rest.split_once(' ').unwrap_or((rest, ""));
    Some((port.parse().ok()?, says.trim()))
}

/// The machine, for the report: CPU count and model.
pub fn machine() -> (usize, String) {
    let n = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let online = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .map(|t| t.lines().filter(|l| l.starts_with("processor")).count())
        .unwrap_or(n);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown".into());
    (online.max(n), model)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_port_line() {
        assert_eq!(super::parse_port_line("port 4242\n"), Some((4242, "")));
        assert_eq!(
            super::parse_port_line("port 80 grpc-go 1.33.3, go1.19.8, GOMAXPROCS 1\n"),
            Some((80, "grpc-go 1.33.3, go1.19.8, GOMAXPROCS 1"))
        );
        assert_eq!(super::parse_port_line("listening\n"), None);
    }
}
