//! Child processes for tests: [`Child`] reads the standard output line by line on a thread
//! of its own (to the end, so the child never blocks writing), waits for lines with a hang
//! guard, and kills and reaps the process when dropped, so a failing test leaves none behind.

use crate::wait::LIMIT;
use std::io::{BufRead, BufReader};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running child process and the lines it printed.
///
/// # Drop behavior
/// Dropping it kills the process (SIGKILL) and waits for it.
#[derive(Debug)]
pub struct Child {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    /// Lines before this one were matched (or skipped) by `wait_line`.
    next: usize,
    limit: Duration,
}

impl Child {
    /// Starts `command` with its standard output piped and its standard input closed (its
    /// standard error is as the command says: inherited unless set).
    ///
    /// # Panics
    /// If the process cannot be started.
    pub fn spawn(command: &mut Command) -> Child {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // Keeps reading after the receiver is gone, so the child never blocks writing.
                let _ = tx.send(line);
            }
        });
        Child {
            child,
            lines,
            seen: Vec::new(),
            next: 0,
            limit: LIMIT,
        }
    }

    /// Makes the waits of [`wait_line`](Self::wait_line) and [`wait_exit`](Self::wait_exit)
    /// give up after `limit` instead of [`LIMIT`] (a slow interpreter starting, a long run).
    pub fn with_limit(mut self, limit: Duration) -> Child {
        self.limit = limit;
        self
    }

    /// Waits for the next line that contains `prefix` (lines before it are skipped) and
    /// returns what follows `prefix` in it, trimmed (libtest may print its own text first).
    ///
    /// # Panics
    /// If no such line comes within the limit, or the output ends first (showing what the
    /// child printed).
    pub fn wait_line(&mut self, prefix: &str) -> String {
        let end = Instant::now() + self.limit;
        loop {
            while self.next < self.seen.len() {
                let line = &self.seen[self.next];
                self.next += 1;
                if let Some(at) = line.find(prefix) {
                    return line[at + prefix.len()..].trim().to_owned();
                }
            }
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(why) => panic!("no line with {prefix:?} from the child ({why}); it printed {:?}", self.seen),
            }
        }
    }

    /// Every line the child printed so far (that a wait has read).
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to exit (killing it when the limit passes: `None`), then reads
    /// the rest of its output into [`seen`](Self::seen).
    pub fn wait_exit(&mut self) -> Option<ExitStatus> {
        let end = Instant::now() + self.limit;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(10)),
                _ => {
                    self.kill();
                    break None;
                }
            }
        };
        // The reader ends with the pipe; a grandchild holding it open gets a short grace.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(line);
        }
        status
    }

    /// Kills the process (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.kill();
    }
}
