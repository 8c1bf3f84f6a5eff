//! What a call asks the test service to do, read from its request metadata: the one
//! vocabulary the kit's servicers (both styles) and the tonic peer understand.
//!
//! | request metadata | what the handler does |
//! | --- | --- |
//! | `x-fail: <code>` | (a number, or a name such as `UNAVAILABLE`) fails with that code (after any wait asked for), details `failed on request`, trailers `x-why: because` and `x-why-bin: [0, 1, 2, 255]` |
//! | `x-fail-how: abort \| status \| return \| set-code` | how it fails (servicers only): `ServicerContext::abort` (the default), `abort_with_status`, a returned error, or `set_code`/`set_details` over a normal reply |
//! | `x-fail-detail: <reason>` | the failure carries a rich `ErrorInfo { reason, domain: "testkit" }` (ways `status` and `return`; the tonic peer always) |
//! | `x-fail-after` | a server stream ends ABORTED (`stream aborted`) after its responses |
//! | `x-sleep-ms: <ms>` | waits that long before answering, unless the RPC is cancelled first (then the probe counts a cancellation) |
//! | `x-hold` | sends initial metadata (`x-held: yes`) at once, then waits for `Probe::release` or cancellation (servicers only) |
//! | `x-stuck` | waits for `Probe::release`, ignoring cancellation (servicers only) |
//! | `x-panic` | panics with `handler panicked as asked` (servicers only) |
//! | `x-user`, `x-data-bin`, `authorization` | echoed in the initial metadata as `x-echo`, `x-echo-bin`, `x-auth` |
//! | `x-trail`, `x-trail-bin` | echoed in the trailing metadata under the same keys (servicers only) |
//! | `x-report-deadline` | the reply's text is the time the handler had left, in whole milliseconds, or `none` (servicers only) |
//! | `x-relay-to: <host:port>` | the handler calls Unary there with `x-report-deadline`, on a client of its own style, and replies with the answer (servicers only) |
//! | `x-whoami` | the reply's text describes the peer's authentication (servicers only) |
//! | `x-peer` | the reply's text is the peer address the handler sees (`ipv4:127.0.0.1:PORT`: one per connection; `unix:...` on a Unix socket; servicers only) |
//! | `x-reject` | refused UNAUTHENTICATED by an interceptor of the server's face (servers started through a `Face`) |

use rpc_core::StatusCode;
use std::time::Duration;

/// The details of every failure asked for with `x-fail`.
pub const FAIL_DETAILS: &str = "failed on request";
/// The text trailer every `x-fail` failure carries.
pub const WHY: (&str, &str) = ("x-why", "because");
/// The binary trailer every `x-fail` failure carries.
pub const WHY_BIN: (&str, &[u8]) = ("x-why-bin", &[0, 1, 2, 255]);
/// The domain of the `ErrorInfo` asked for with `x-fail-detail`.
pub const DETAIL_DOMAIN: &str = "testkit";
/// The details of the error ending a stream asked for with `x-fail-after`.
pub const STREAM_ABORTED: &str = "stream aborted";
/// The message of the panic asked for with `x-panic`.
pub const PANIC_MESSAGE: &str = "handler panicked as asked";
/// The details of the refusal of a call marked `x-reject`.
pub const REJECTED: &str = "rejected by the interceptor";

/// How a handler fails (`x-fail-how`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailHow {
    /// `ServicerContext::abort` after adding the trailers to the context.
    Abort,
    /// `ServicerContext::abort_with_status` with an error carrying the trailers.
    Status,
    /// A returned error, the trailers added to the context.
    Return,
    /// `set_code` and `set_details` on the context, and a normal reply.
    SetCode,
}

/// A metadata value of the plan: text, or bytes for a `-bin` key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A text value.
    Text(String),
    /// A binary value.
    Bin(Vec<u8>),
}

/// A failure asked for with `x-fail`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The code to fail with.
    pub code: StatusCode,
    /// How.
    pub how: FailHow,
    /// The `ErrorInfo` reason, if one was asked for.
    pub detail: Option<String>,
}

/// What one call asks for.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// `x-fail`.
    pub fail: Option<Failure>,
    /// `x-fail-after`.
    pub fail_after: bool,
    /// `x-sleep-ms`.
    pub sleep: Option<Duration>,
    /// `x-hold`.
    pub hold: bool,
    /// `x-stuck`.
    pub stuck: bool,
    /// `x-panic`.
    pub panic: bool,
    /// The initial metadata to send (echoes, and `x-held` for `x-hold`).
    pub initial: Vec<(&'static str, Value)>,
    /// The trailing metadata to set.
    pub trailers: Vec<(&'static str, Value)>,
    /// `x-report-deadline`.
    pub report_deadline: bool,
    /// `x-relay-to`.
    pub relay_to: Option<String>,
    /// `x-whoami`.
    pub whoami: bool,
    /// `x-peer`.
    pub peer: bool,
}

impl Plan {
    /// Reads the plan through `text` (a text header's value) and `bin` (a binary header's
    /// decoded bytes), so that any server can supply its own metadata type.
    pub fn read(text: impl Fn(&str) -> Option<String>, bin: impl Fn(&str) -> Option<Vec<u8>>) -> Plan {
        let how = match text("x-fail-how").as_deref() {
            Some("status") => FailHow::Status,
            Some("return") => FailHow::Return,
            Some("set-code") => FailHow::SetCode,
            _ => FailHow::Abort,
        };
        let code = |s: String| {
            s.parse::<i32>()
                .ok()
                .map(StatusCode::from_i32)
                .or_else(|| StatusCode::from_name(&s))
        };
        let fail = text("x-fail").and_then(code).map(|code| Failure {
            code,
            how,
            detail: text("x-fail-detail"),
        });
        let hold = text("x-hold").is_some();
        let mut initial = Vec::new();
        if let Some(v) = text("x-user") {
            initial.push(("x-echo", Value::Text(v)));
        }
        if let Some(v) = bin("x-data-bin") {
            initial.push(("x-echo-bin", Value::Bin(v)));
        }
        if let Some(v) = text("authorization") {
            initial.push(("x-auth", Value::Text(v)));
        }
        if hold {
            initial.push(("x-held", Value::Text("yes".to_owned())));
        }
        let mut trailers = Vec::new();
        if let Some(v) = text("x-trail") {
            trailers.push(("x-trail", Value::Text(v)));
        }
        if let Some(v) = bin("x-trail-bin") {
            trailers.push(("x-trail-bin", Value::Bin(v)));
        }
        Plan {
            fail,
            fail_after: text("x-fail-after").is_some(),
            sleep: text("x-sleep-ms").and_then(|s| s.parse().ok()).map(Duration::from_millis),
            hold,
            stuck: text("x-stuck").is_some(),
            panic: text("x-panic").is_some(),
            initial,
            trailers,
            report_deadline: text("x-report-deadline").is_some(),
            relay_to: text("x-relay-to"),
            whoami: text("x-whoami").is_some(),
            peer: text("x-peer").is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail_code(value: &str) -> Option<StatusCode> {
        Plan::read(|k| (k == "x-fail").then(|| value.to_owned()), |_| None)
            .fail
            .map(|f| f.code)
    }

    #[test]
    fn x_fail_takes_a_code_by_number_or_by_name() {
        assert_eq!(fail_code("14"), Some(StatusCode::Unavailable));
        assert_eq!(fail_code("UNAVAILABLE"), Some(StatusCode::Unavailable));
        assert_eq!(fail_code("NOT_A_CODE"), None);
    }
}
