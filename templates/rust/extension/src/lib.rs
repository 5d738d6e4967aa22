//! {{name}}: a Morphir extension, a counter in The Elm Architecture. The model is
//! `{"count": N}`; messages are `"Increment"`, `"Decrement"` and `"Reset"` (or
//! `{"type": "Increment"}`). The env var `step` (any integer type) sets how much one
//! Increment adds; the last message is kept in the env var `last-message`.
//! `morph build`, then `morph ext run --msg '"Increment"' --env-var step=u8:2`.

wit_bindgen::generate!({ path: "wit", world: "{{name}}", generate_all });

use exports::morphir::ext::program::Guest;
use morphir::ext::envelope::{Envelope, Header};
use morphir::ext::runtime::{get_env_var, log, set_env_var, EnvValue, LogLevel};
use serde_json::{json, Value};

const JSON: &str = "application/json";

struct Counter;

impl Guest for Counter {
    fn init(flags: Envelope) -> (Envelope, Envelope) {
        let start = count(&content(&flags));
        log(LogLevel::Info, &format!("counter starts at {start}, step {}", step()));
        (reply(&flags.header, "model", json!({ "count": start })), reply(&flags.header, "cmd", json!([])))
    }

    fn update(msg: Envelope, model: Envelope) -> (Envelope, Envelope) {
        let now = count(&content(&model));
        let message = content(&msg);
        let tag = message.as_str().or_else(|| message.get("type").and_then(Value::as_str)).unwrap_or("");
        let next = match tag {
            "Increment" => now + step(),
            "Decrement" => now - step(),
            "Reset" => 0,
            other => {
                log(LogLevel::Warn, &format!("unknown message {other:?}; the count stays {now}"));
                now
            }
        };
        let previous = match get_env_var("last-message") {
            Some(EnvValue::Text(t)) => t,
            _ => "none".to_string(),
        };
        set_env_var("last-message", &EnvValue::Text(tag.to_string()));
        log(LogLevel::Debug, &format!("{tag}: {now} -> {next} (previous message: {previous})"));
        (reply(&msg.header, "model", json!({ "count": next })), reply(&msg.header, "cmd", json!([])))
    }

    fn subscriptions(model: Envelope) -> Envelope {
        reply(&model.header, "subscriptions", json!([]))
    }

    fn get_capabilities() -> Envelope {
        let header = Header { seqnum: 0, session_id: String::new(), kind: Some("capabilities".into()) };
        reply(
            &header,
            "capabilities",
            json!({ "name": "{{name}}", "model": { "count": "integer" }, "messages": ["Increment", "Decrement", "Reset"] }),
        )
    }
}

/// The envelope's content as JSON (`null` when it is empty or not JSON).
fn content(envelope: &Envelope) -> Value {
    serde_json::from_slice(&envelope.content).unwrap_or(Value::Null)
}

/// How much one Increment adds: the env var `step`, of any integer type (default 1).
fn step() -> i64 {
    match get_env_var("step") {
        Some(EnvValue::VU8(n)) => n.into(),
        Some(EnvValue::VU16(n)) => n.into(),
        Some(EnvValue::VU32(n)) => n.into(),
        Some(EnvValue::VU64(n)) => i64::try_from(n).unwrap_or(i64::MAX),
        Some(EnvValue::VS8(n)) => n.into(),
        Some(EnvValue::VS16(n)) => n.into(),
        Some(EnvValue::VS32(n)) => n.into(),
        Some(EnvValue::VS64(n)) => n,
        Some(EnvValue::Text(t)) => t.parse().unwrap_or(1),
        _ => 1,
    }
}

fn count(model: &Value) -> i64 {
    model.get("count").and_then(Value::as_i64).unwrap_or(0)
}

/// A JSON envelope answering one with `header`: same seqnum and session, its own kind.
fn reply(header: &Header, kind: &str, value: Value) -> Envelope {
    Envelope {
        header: Header { seqnum: header.seqnum, session_id: header.session_id.clone(), kind: Some(kind.to_string()) },
        content_type: JSON.to_string(),
        content: serde_json::to_vec(&value).expect("JSON values serialize"),
    }
}

export!(Counter);
