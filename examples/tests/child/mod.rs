//! Example binaries run as child processes by the tests: started with their standard
//! output read line by line on a thread of its own.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

/// Spawns `command` with its standard output piped (standard error discarded) and
/// returns the child with a channel of its output lines. The reading thread drains the
/// pipe to the end even when nobody listens any more, so the child never blocks writing.
pub fn spawn_with_lines(command: &mut Command) -> (Child, mpsc::Receiver<String>) {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, lines)
}
