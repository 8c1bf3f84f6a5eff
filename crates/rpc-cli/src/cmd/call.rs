//! `rpc call`: resolves the method, reads the JSON requests, sends them and prints each
//! response as JSON on stdout; headers and trailers (with `-v`) go to stderr.

use crate::args::CallArgs;
use crate::exit::Failure;
use crate::schema::Schema;
use crate::send::send;
use prost::Message;
use prost_reflect::DynamicMessage;
use rpc_core::Metadata;
use rpc_dynamic::{JsonOptions, Method, find_method, message_to_json, messages_from_json, split_method_name, unresolved_any_types};
use std::io::{Read, Write};
use std::time::Instant;

/// The method `name` resolved in the schema.
pub(crate) async fn resolve(schema: &Schema, name: &str) -> Result<Method, Failure> {
    let failed = |e: rpc_dynamic::Error| Failure::general(format!("failed to resolve method {name:?}: {e}"));
    let (service, _) = split_method_name(name).map_err(failed)?;
    let pool = schema.pool_for(service).await.map_err(failed)?;
    find_method(&pool, name).map_err(failed)
}

fn json_options(args: &CallArgs) -> JsonOptions {
    JsonOptions::new()
        .emit_defaults(args.emit_defaults)
        .allow_unknown_fields(args.allow_unknown_fields)
        .use_proto_names(args.use_proto_names)
}

/// The requests of `-d`: inline JSON, `@FILE`, or `@-`/`@` for stdin, read to the end.
/// Without `-d` (or with empty data) a unary or server-streaming method gets one empty
/// request, as in grpcurl; a streaming request side gets none.
pub(crate) fn read_requests(method: &Method, data: Option<&str>, options: &JsonOptions) -> Result<Vec<DynamicMessage>, Failure> {
    let failed = |e: &dyn std::fmt::Display| Failure::general(format!("error getting request data: {e}"));
    let text = match data {
        None => String::new(),
        Some("@") | Some("@-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| failed(&format!("reading stdin: {e}")))?;
            text
        }
        Some(file) if file.starts_with('@') => {
            let path = &file[1..];
            std::fs::read_to_string(path).map_err(|e| failed(&format!("reading {path}: {e}")))?
        }
        Some(json) => json.to_owned(),
    };
    let mut requests = Vec::new();
    for request in messages_from_json(&method.input(), text.as_bytes(), options) {
        requests.push(request.map_err(|e| failed(&e))?);
    }
    if !method.kind().client_streams() {
        match requests.len() {
            0 => requests.push(DynamicMessage::new(method.input())),
            1 => {}
            n => {
                return Err(Failure::general(format!(
                    "method {:?} is a {} RPC, but the request data holds {n} messages",
                    method.full_name(),
                    method.kind()
                )));
            }
        }
    }
    Ok(requests)
}

/// Prints `metadata` under `title` on stderr, grpcurl's `-v` layout.
fn print_metadata(title: &str, metadata: &Metadata) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "\n{title}");
    if metadata.is_empty() {
        let _ = writeln!(err, "(empty)");
    }
    for (key, value) in metadata.iter() {
        match value.as_str() {
            Some(text) => {
                let _ = writeln!(err, "{key}: {text}");
            }
            None => {
                let _ = writeln!(err, "{key}: {:?}", value.as_bytes());
            }
        }
    }
}

/// Sends the call and prints the responses; the exit code is 0, or the failure.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run(
    channel: &rpc_aio::Channel,
    schema: &Schema,
    method: &Method,
    requests: Vec<DynamicMessage>,
    args: &CallArgs,
    metadata: Metadata,
    deadline: Option<Instant>,
    verbose: bool,
) -> Result<(), Failure> {
    let options = json_options(args);
    if verbose {
        eprintln!(
            "\nResolved method descriptor:\n{}",
            rpc_dynamic::proto_source(&rpc_dynamic::Symbol::Method(method.descriptor().clone())).trim_end()
        );
        print_metadata("Request metadata to send:", &metadata);
    }
    let sent = requests.len();
    let mut print_error: Option<Failure> = None;
    let mut pool = method.output().parent_pool().clone();
    let output_name = method.output().full_name().to_owned();
    let outcome = send(
        channel,
        method,
        requests,
        metadata,
        deadline,
        async |response: DynamicMessage| match print_response(schema, &mut pool, &output_name, response, &options).await {
            Ok(json) => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{json}");
                let _ = out.flush();
            }
            Err(e) => {
                if print_error.is_none() {
                    print_error = Some(e);
                }
            }
        },
    )
    .await;
    if verbose {
        if let Some(headers) = &outcome.headers {
            print_metadata("Response headers received:", headers);
        }
        print_metadata("Response trailers received:", &outcome.trailers);
        eprintln!(
            "Sent {sent} request{} and received {} response{}",
            if sent == 1 { "" } else { "s" },
            outcome.received,
            if outcome.received == 1 { "" } else { "s" }
        );
    }
    outcome.status.map_err(Failure::rpc)?;
    match print_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// One response as JSON; the types of `Any` values the pool lacks are fetched by
/// reflection first (the pool grows for the responses after it), and the response is
/// decoded again with them.
async fn print_response(
    schema: &Schema,
    pool: &mut prost_reflect::DescriptorPool,
    output: &str,
    mut message: DynamicMessage,
    options: &JsonOptions,
) -> Result<String, Failure> {
    let missing: Vec<String> = unresolved_any_types(&message).into_iter().collect();
    if !missing.is_empty()
        && let Some(larger) = schema.resolve_any(pool, &missing).await
    {
        *pool = larger;
        let descriptor = pool
            .get_message_by_name(output)
            .ok_or_else(|| Failure::general(format!("response type {output} is not in the schema")))?;
        message = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
            .map_err(|e| Failure::general(format!("the response does not decode as {output}: {e}")))?;
    }
    message_to_json(&message, options).map_err(|e| Failure::general(format!("printing the response: {e}")))
}
