//! The service config (gRPC's service_config.md, gRFC A6, A17, A21, A24): parsed and
//! validated once, when it arrives (from `ChannelOptions::service_config` or from the
//! resolver), and looked up per call by service and method.
//!
//! Understood: `loadBalancingConfig` (the first policy this channel knows),
//! `loadBalancingPolicy` (the older form), `methodConfig` (`name`, `timeout`,
//! `waitForReady`, `maxRequestMessageBytes`, `maxResponseMessageBytes`, `retryPolicy`,
//! `hedgingPolicy`), `retryThrottling` and `healthCheckConfig`. Unknown fields are ignored;
//! a known field with a bad value makes the whole config invalid (gRFC A21).

use super::lb::{self, LbPolicyBuilder};
use rpc_core::{RpcError, StatusCode};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The most attempts a retry or hedging policy gets, whatever it asks (gRFC A6).
pub(crate) const MAX_ATTEMPTS: u32 = 5;

/// A parsed, valid service config.
#[derive(Debug, Default)]
pub(crate) struct ServiceConfig {
    /// The policy chosen by `loadBalancingConfig` or `loadBalancingPolicy`, with its config (JSON).
    pub(crate) lb: Option<(String, String)>,
    methods: Vec<Arc<MethodConfig>>,
    by_method: HashMap<(String, String), usize>,
    by_service: HashMap<String, usize>,
    default: Option<usize>,
    pub(crate) throttling: Option<Throttling>,
    pub(crate) health_service: Option<String>,
}

/// What a `methodConfig` entry sets.
#[derive(Debug, Default)]
pub(crate) struct MethodConfig {
    pub(crate) timeout: Option<Duration>,
    pub(crate) wait_for_ready: Option<bool>,
    pub(crate) max_request_bytes: Option<usize>,
    pub(crate) max_response_bytes: Option<usize>,
    pub(crate) policy: Option<Policy>,
}

/// A method's retry or hedging policy (one or the other, never both).
#[derive(Debug, Clone)]
pub(crate) enum Policy {
    Retry(RetryPolicy),
    Hedging(HedgingPolicy),
}

/// `retryPolicy`.
#[derive(Debug, Clone)]
pub(crate) struct RetryPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) multiplier: f64,
    pub(crate) retryable: Codes,
}

/// `hedgingPolicy`.
#[derive(Debug, Clone)]
pub(crate) struct HedgingPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) delay: Duration,
    pub(crate) non_fatal: Codes,
}

/// A set of status codes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Codes(u32);

impl Codes {
    pub(crate) fn contains(self, code: StatusCode) -> bool {
        let v = code.value();
        (0..32).contains(&v) && self.0 & (1 << v) != 0
    }
}

/// `retryThrottling`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Throttling {
    pub(crate) max_tokens: f64,
    pub(crate) token_ratio: f64,
}

impl ServiceConfig {
    /// Parses and validates `json`; `own` are the channel's own policies (besides the
    /// registered and built-in ones).
    ///
    /// # Errors
    /// INVALID_ARGUMENT naming the field at fault.
    pub(crate) fn parse(json: &str, own: &[Arc<dyn LbPolicyBuilder>]) -> Result<ServiceConfig, RpcError> {
        let bad = |why: String| RpcError::invalid_argument(format!("invalid service config: {why}"));
        let value: Value = serde_json::from_str(json).map_err(|e| bad(format!("not JSON: {e}")))?;
        let root = value.as_object().ok_or_else(|| bad("not a JSON object".to_owned()))?;
        let mut config = ServiceConfig::default();
        if let Some(list) = root.get("loadBalancingConfig") {
            config.lb = Some(lb_config(list, own).map_err(|e| bad(format!("loadBalancingConfig: {e}")))?);
        } else if let Some(name) = root.get("loadBalancingPolicy") {
            let name = name
                .as_str()
                .ok_or_else(|| bad("loadBalancingPolicy is not a string".to_owned()))?
                .to_ascii_lowercase();
            if lb::lookup(&name, own).is_none() {
                return Err(bad(format!("loadBalancingPolicy {name:?} is not a known policy")));
            }
            config.lb = Some((name, "{}".to_owned()));
        }
        if let Some(methods) = root.get("methodConfig") {
            let methods = methods.as_array().ok_or_else(|| bad("methodConfig is not a list".to_owned()))?;
            for (i, m) in methods.iter().enumerate() {
                config.add_method(m).map_err(|e| bad(format!("methodConfig[{i}]: {e}")))?;
            }
        }
        if let Some(t) = root.get("retryThrottling") {
            config.throttling = Some(throttling(t).map_err(|e| bad(format!("retryThrottling: {e}")))?);
        }
        if let Some(h) = root.get("healthCheckConfig") {
            let h = h.as_object().ok_or_else(|| bad("healthCheckConfig is not an object".to_owned()))?;
            config.health_service = match h.get("serviceName") {
                None | Some(Value::Null) => Some(String::new()),
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(bad("healthCheckConfig.serviceName is not a string".to_owned())),
            };
        }
        Ok(config)
    }

    fn add_method(&mut self, m: &Value) -> Result<(), String> {
        let m = m.as_object().ok_or("not an object")?;
        let names = m.get("name").and_then(Value::as_array).ok_or("it has no name list")?;
        if names.is_empty() {
            return Err("its name list is empty".to_owned());
        }
        let index = self.methods.len();
        for n in names {
            let n = n.as_object().ok_or("a name is not an object")?;
            let service = opt_str(n, "service")?.unwrap_or_default();
            let method = opt_str(n, "method")?.unwrap_or_default();
            let taken = match (service.is_empty(), method.is_empty()) {
                (true, false) => return Err("a name has a method but no service".to_owned()),
                (true, true) => self.default.replace(index).is_some(),
                (false, true) => self.by_service.insert(service.clone(), index).is_some(),
                (false, false) => self.by_method.insert((service.clone(), method.clone()), index).is_some(),
            };
            if taken {
                return Err(format!("the name {service}/{method} appears twice"));
            }
        }
        let retry = m
            .get("retryPolicy")
            .map(retry_policy)
            .transpose()
            .map_err(|e| format!("retryPolicy: {e}"))?;
        let hedging = m
            .get("hedgingPolicy")
            .map(hedging_policy)
            .transpose()
            .map_err(|e| format!("hedgingPolicy: {e}"))?;
        let policy = match (retry, hedging) {
            (Some(_), Some(_)) => return Err("it has both a retryPolicy and a hedgingPolicy".to_owned()),
            (Some(r), None) => Some(Policy::Retry(r)),
            (None, Some(h)) => Some(Policy::Hedging(h)),
            (None, None) => None,
        };
        let config = MethodConfig {
            timeout: opt_str(m, "timeout")?
                .map(|t| duration(&t).map_err(|e| format!("timeout: {e}")))
                .transpose()?,
            wait_for_ready: match m.get("waitForReady") {
                None | Some(Value::Null) => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(_) => return Err("waitForReady is not a boolean".to_owned()),
            },
            max_request_bytes: opt_size(m, "maxRequestMessageBytes")?,
            max_response_bytes: opt_size(m, "maxResponseMessageBytes")?,
            policy,
        };
        self.methods.push(Arc::new(config));
        Ok(())
    }

    /// The method config for `path` (`/service/method`): the exact one, else the service's,
    /// else the default.
    pub(crate) fn method(&self, path: &str) -> Option<&Arc<MethodConfig>> {
        if self.methods.is_empty() {
            return None;
        }
        let (service, method) = path.trim_start_matches('/').split_once('/').unwrap_or((path, ""));
        let index = self
            .by_method
            .get(&(service.to_owned(), method.to_owned()))
            .or_else(|| self.by_service.get(service))
            .or(self.default.as_ref())?;
        self.methods.get(*index)
    }
}

fn lb_config(list: &Value, own: &[Arc<dyn LbPolicyBuilder>]) -> Result<(String, String), String> {
    let list = list.as_array().ok_or("not a list")?;
    let mut names = Vec::new();
    for entry in list {
        let entry = entry
            .as_object()
            .filter(|o| o.len() == 1)
            .ok_or("each entry must be an object with one key")?;
        let Some((name, config)) = entry.iter().next() else { continue };
        if let Some(builder) = lb::lookup(name, own) {
            let json = config.to_string();
            builder.validate_config(&json).map_err(|e| format!("{name}: {e}"))?;
            return Ok((name.clone(), json));
        }
        names.push(name.clone());
    }
    Err(format!("no known policy among {names:?}"))
}

fn retry_policy(v: &Value) -> Result<RetryPolicy, String> {
    let o = v.as_object().ok_or("not an object")?;
    let max_attempts = attempts(o)?;
    let initial_backoff = positive_duration(o, "initialBackoff")?;
    let max_backoff = positive_duration(o, "maxBackoff")?;
    let multiplier = o
        .get("backoffMultiplier")
        .and_then(Value::as_f64)
        .ok_or("backoffMultiplier is required")?;
    if multiplier <= 0.0 || !multiplier.is_finite() {
        return Err("backoffMultiplier must be greater than zero".to_owned());
    }
    let retryable = codes(o, "retryableStatusCodes")?;
    if retryable == Codes::default() {
        return Err("retryableStatusCodes must not be empty".to_owned());
    }
    Ok(RetryPolicy {
        max_attempts,
        initial_backoff,
        max_backoff,
        multiplier,
        retryable,
    })
}

fn hedging_policy(v: &Value) -> Result<HedgingPolicy, String> {
    let o = v.as_object().ok_or("not an object")?;
    Ok(HedgingPolicy {
        max_attempts: attempts(o)?,
        delay: opt_str(o, "hedgingDelay")?
            .map(|d| duration(&d).map_err(|e| format!("hedgingDelay: {e}")))
            .transpose()?
            .unwrap_or_default(),
        non_fatal: if o.contains_key("nonFatalStatusCodes") {
            codes(o, "nonFatalStatusCodes")?
        } else {
            Codes::default()
        },
    })
}

fn attempts(o: &Map<String, Value>) -> Result<u32, String> {
    let n = o
        .get("maxAttempts")
        .and_then(Value::as_u64)
        .ok_or("maxAttempts is required (a whole number)")?;
    if n < 2 {
        return Err("maxAttempts must be 2 or more".to_owned());
    }
    Ok(n.min(u64::from(MAX_ATTEMPTS)) as u32)
}

fn positive_duration(o: &Map<String, Value>, key: &str) -> Result<Duration, String> {
    let d = duration(&opt_str(o, key)?.ok_or_else(|| format!("{key} is required"))?).map_err(|e| format!("{key}: {e}"))?;
    if d.is_zero() {
        return Err(format!("{key} must be greater than zero"));
    }
    Ok(d)
}

fn codes(o: &Map<String, Value>, key: &str) -> Result<Codes, String> {
    let list = o
        .get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{key} must be a list"))?;
    let mut set = 0u32;
    for c in list {
        let code = match c {
            Value::String(s) => StatusCode::from_name(s).ok_or_else(|| format!("{key}: {s:?} is not a status code"))?,
            Value::Number(n) => n
                .as_i64()
                .filter(|v| (0..=16).contains(v))
                .map(|v| StatusCode::from_i32(v as i32))
                .ok_or_else(|| format!("{key}: {n} is not a status code"))?,
            _ => return Err(format!("{key}: {c} is not a status code")),
        };
        set |= 1 << code.value();
    }
    Ok(Codes(set))
}

fn throttling(v: &Value) -> Result<Throttling, String> {
    let o = v.as_object().ok_or("not an object")?;
    let max_tokens = o.get("maxTokens").and_then(Value::as_f64).ok_or("maxTokens is required")?;
    let token_ratio = o.get("tokenRatio").and_then(Value::as_f64).ok_or("tokenRatio is required")?;
    if max_tokens <= 0.0 || token_ratio <= 0.0 || !max_tokens.is_finite() || !token_ratio.is_finite() {
        return Err("maxTokens and tokenRatio must be greater than zero".to_owned());
    }
    Ok(Throttling {
        max_tokens: max_tokens.min(1000.0),
        // Up to 3 decimal places count (gRFC A6).
        token_ratio: (token_ratio * 1000.0).floor() / 1000.0,
    })
}

fn opt_str(o: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{key} is not a string")),
    }
}

fn opt_size(o: &Map<String, Value>, key: &str) -> Result<Option<usize>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        // Large numbers may come as strings (proto3 JSON's int64).
        Some(Value::String(s)) => s
            .parse::<u64>()
            .map(|n| Some(n as usize))
            .map_err(|_| format!("{key} is not a number")),
        Some(v) => v
            .as_u64()
            .map(|n| Some(n as usize))
            .ok_or_else(|| format!("{key} is not a whole number")),
    }
}

/// A proto3 JSON duration: decimal seconds with an `s` (`"1.5s"`, `".1s"`, `"30s"`).
fn duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration like \"1.5s\"");
    let number = s.strip_suffix('s').ok_or_else(bad)?;
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && frac.is_empty()) || !whole.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) || frac.len() > 9 {
        return Err(bad());
    }
    let secs: u64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().map_err(|_| bad())?
    };
    Ok(Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_bad_configs() {
        assert_eq!(duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(duration(".1s").unwrap(), Duration::from_millis(100));
        assert_eq!(duration("30s").unwrap(), Duration::from_secs(30));
        for bad in ["1.5", "s", "-1s", "1.5ms", "abc"] {
            assert!(duration(bad).is_err(), "{bad}");
        }
        for bad in [
            "not json",
            "[]",
            r#"{"loadBalancingPolicy": "nope"}"#,
            r#"{"loadBalancingConfig": [{"nope": {}}]}"#,
            r#"{"methodConfig": [{"name": [{"service": "s"}], "timeout": "soon"}]}"#,
            r#"{"methodConfig": [{"name": [{"service": "s"}]}, {"name": [{"service": "s"}]}]}"#,
            r#"{"methodConfig": [{"name": [{"service": "s"}], "retryPolicy": {"maxAttempts": 1, "initialBackoff": "1s", "maxBackoff": "1s", "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}}]}"#,
            r#"{"methodConfig": [{"name": [{"service": "s"}], "retryPolicy": {"maxAttempts": 2, "initialBackoff": "1s", "maxBackoff": "1s", "backoffMultiplier": 2, "retryableStatusCodes": ["NOPE"]}}]}"#,
            r#"{"retryThrottling": {"maxTokens": 0, "tokenRatio": 0.1}}"#,
        ] {
            assert!(ServiceConfig::parse(bad, &[]).is_err(), "{bad}");
        }
    }

    #[test]
    fn methods_match_exactly_then_by_service_then_the_default() {
        let c = ServiceConfig::parse(
            r#"{"loadBalancingConfig": [{"unknown": {}}, {"round_robin": {}}], "unknownField": 1,
                "methodConfig": [
                  {"name": [{}], "timeout": "1s"},
                  {"name": [{"service": "a.S"}], "timeout": "2s"},
                  {"name": [{"service": "a.S", "method": "M"}], "timeout": "3s",
                   "retryPolicy": {"maxAttempts": 9, "initialBackoff": "0.1s", "maxBackoff": "1s", "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE", 10]}}
                ]}"#,
            &[],
        )
        .unwrap();
        assert_eq!(c.lb.as_ref().unwrap().0, "round_robin");
        let t = |p: &str| c.method(p).and_then(|m| m.timeout);
        assert_eq!(t("/a.S/M"), Some(Duration::from_secs(3)));
        assert_eq!(t("/a.S/Other"), Some(Duration::from_secs(2)));
        assert_eq!(t("/b.T/M"), Some(Duration::from_secs(1)));
        let Some(Policy::Retry(r)) = &c.method("/a.S/M").unwrap().policy else {
            panic!("a retry policy")
        };
        assert_eq!(r.max_attempts, MAX_ATTEMPTS);
        assert!(r.retryable.contains(StatusCode::Unavailable) && r.retryable.contains(StatusCode::Aborted));
        assert!(!r.retryable.contains(StatusCode::Internal));
    }
}
