//! {{name}}: a Morphir extension as a core WebAssembly module, a counter in The Elm
//! Architecture. The model is `{"count": N}`; messages are `"Increment"`, `"Decrement"` and
//! `"Reset"` (or `{"type": "Increment"}`). The env var `step` (any integer type) sets how much one
//! Increment adds; the last message is kept in the env var `last-message`.
//!
//! Every function gets its input as JSON bytes and answers JSON: `init` gets the flags envelope,
//! `update` gets `{"msg": envelope, "model": envelope}`, and both answer one envelope whose
//! content is `{"model": …, "cmds": […]}`; `subscriptions` gets the model envelope and answers
//! an envelope. `morph build`, then `morph ext run --msg '"Increment"' --env-var step=u8:2`.

use extism_pdk::{host_fn, plugin_fn, FnResult, Json};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const JSON: &str = "application/json";

#[derive(Serialize, Deserialize, Clone, Default)]
struct Header {
    #[serde(default)]
    seqnum: u64,
    #[serde(default)]
    session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
}

/// The envelope every step passes: the content is bytes of type `content_type`.
#[derive(Serialize, Deserialize)]
struct Envelope {
    #[serde(default)]
    header: Header,
    content_type: String,
    content: Vec<u8>,
}

#[derive(Deserialize)]
struct Update {
    msg: Envelope,
    model: Envelope,
}

// Morphir's standard library: log at a level (trace, debug, info, warn, error); env vars as
// TYPE:VALUE, the way `--env-var` writes them (empty when unset).
#[host_fn]
extern "ExtismHost" {
    fn log(level: String, message: String);
    fn get_env_var(name: String) -> String;
    fn set_env_var(name: String, typed: String);
}

#[plugin_fn]
pub fn init(flags: Json<Envelope>) -> FnResult<Json<Envelope>> {
    let flags = flags.0;
    let start = count(&content(&flags));
    say("info", format!("counter starts at {start}, step {}", step()));
    Ok(Json(answer(&flags.header, json!({ "count": start }))))
}

#[plugin_fn]
pub fn update(input: Json<Update>) -> FnResult<Json<Envelope>> {
    let Update { msg, model } = input.0;
    let now = count(&content(&model));
    let message = content(&msg);
    let tag = message.as_str().or_else(|| message.get("type").and_then(Value::as_str)).unwrap_or("");
    let next = match tag {
        "Increment" => now + step(),
        "Decrement" => now - step(),
        "Reset" => 0,
        other => {
            say("warn", format!("unknown message {other:?}; the count stays {now}"));
            now
        }
    };
    let previous = env_var("last-message").and_then(|v| v.strip_prefix("text:").map(str::to_string));
    unsafe { set_env_var("last-message".into(), format!("text:{tag}"))? };
    say("debug", format!("{tag}: {now} -> {next} (previous message: {})", previous.as_deref().unwrap_or("none")));
    Ok(Json(answer(&msg.header, json!({ "count": next }))))
}

#[plugin_fn]
pub fn subscriptions(model: Json<Envelope>) -> FnResult<Json<Envelope>> {
    Ok(Json(reply(&model.0.header, "subscriptions", json!([]))))
}

#[plugin_fn]
pub fn get_capabilities() -> FnResult<Json<Envelope>> {
    let header = Header { kind: Some("capabilities".into()), ..Header::default() };
    Ok(Json(reply(
        &header,
        "capabilities",
        json!({ "name": "{{name}}", "model": { "count": "integer" }, "messages": ["Increment", "Decrement", "Reset"] }),
    )))
}

/// `init`'s and `update`'s answer: the next model and no commands.
fn answer(header: &Header, model: Value) -> Envelope {
    reply(header, "answer", json!({ "model": model, "cmds": [] }))
}

/// The envelope's content as JSON (`null` when it is empty or not JSON).
fn content(envelope: &Envelope) -> Value {
    serde_json::from_slice(&envelope.content).unwrap_or(Value::Null)
}

/// How much one Increment adds: the env var `step`, of any integer type (default 1).
fn step() -> i64 {
    env_var("step").and_then(|typed| typed.split_once(':').and_then(|(_, v)| v.parse().ok())).unwrap_or(1)
}

fn env_var(name: &str) -> Option<String> {
    unsafe { get_env_var(name.to_string()) }.ok().filter(|v| !v.is_empty())
}

fn say(level: &str, message: String) {
    let _ = unsafe { log(level.to_string(), message) };
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
