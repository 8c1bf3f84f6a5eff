//! Every `$ rpc ...` example in `docs/cli.md` is run (through `sh`, from the repository's
//! root, against the example server's services on 127.0.0.1) and its output compared with
//! the lines shown under it.

mod common;

use std::path::Path;
use std::process::Command;

/// One example: the shell command and the output shown for it.
struct Example {
    command: String,
    output: String,
}

/// The examples of the ```console blocks whose commands run `rpc`.
fn examples(doc: &str) -> Vec<Example> {
    let mut examples: Vec<Example> = Vec::new();
    let mut in_console = false;
    let mut current: Option<Example> = None;
    for line in doc.lines() {
        if line.starts_with("```") {
            in_console = !in_console && line == "```console";
            examples.extend(current.take());
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            examples.extend(current.take());
            current = Some(Example {
                command: command.to_owned(),
                output: String::new(),
            });
        } else if let Some(example) = &mut current {
            example.output.push_str(line);
            example.output.push('\n');
        }
    }
    examples.extend(current);
    examples.retain(|e| e.command.starts_with("rpc ") || e.command.contains("| rpc "));
    examples
}

#[test]
fn the_examples_of_docs_cli_md_print_what_they_show() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::fs::read_to_string(root.join("docs/cli.md")).unwrap();
    let examples = examples(&doc);
    assert!(examples.len() >= 10, "found only {} examples", examples.len());

    // What `cargo run -p examples --bin health_reflection_server` serves.
    let server = rpc_sync::server(rpc_core::ServerOptions::default()).unwrap();
    examples::companions::add_greeter_with_health_and_reflection(&server);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().unwrap();

    let binary = env!("CARGO_BIN_EXE_rpc");
    for example in &examples {
        let command = example
            .command
            .replace("127.0.0.1:50055", &format!("127.0.0.1:{port}"))
            .replacen("rpc ", &format!("{binary} "), 1)
            .replace("| rpc ", &format!("| {binary} "));
        // Bounded: no example takes more than a moment.
        let out = Command::new("timeout")
            .args(["60", "sh", "-c", &command])
            .current_dir(&root)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            stdout,
            example.output,
            "$ {}\nstderr:\n{}",
            example.command,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    server.stop(None).wait(None);
}
