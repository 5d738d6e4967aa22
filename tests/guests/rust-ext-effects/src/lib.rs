//! The effects test extension. Model: `{"count", "ticks", "limit", "every", "watch", "seen"}`.
//! Messages (a string, or an object with "type"):
//! - `Increment`: count + 1
//! - `{"type": "Ticks", "limit": N, "every-ms": M}`: subscribe to a timer sending `Tick` every
//!   M ms until N ticks came; `Tick`: ticks + 1
//! - `{"type": "Watch", "path": P}`: subscribe to changes under P (`null` stops)
//! - `{"type": "Do", "commands": [...]}`: answer with these commands
//! - `Trap`: panics; `Spin`: loops forever
//! - anything else is kept in `seen` (the last 20), so delivered messages can be looked at.

wit_bindgen::generate!({ path: "wit", world: "morphir:ext/extension@0.1.0", generate_all });

use exports::morphir::ext::program::Guest;
use morphir::ext::envelope::{Envelope, Header};
use serde_json::{json, Value};

struct Effects;

impl Guest for Effects {
    fn init(flags: Envelope) -> (Envelope, Envelope) {
        let count = content(&flags).get("count").and_then(Value::as_i64).unwrap_or(0);
        let model = json!({ "count": count, "ticks": 0, "limit": 0, "every": 0, "watch": null, "seen": [] });
        (reply(&flags.header, "model", model), reply(&flags.header, "cmd", json!([])))
    }

    fn update(msg: Envelope, model: Envelope) -> (Envelope, Envelope) {
        let mut m = content(&model);
        let message = content(&msg);
        let tag = message.as_str().or_else(|| message.get("type").and_then(Value::as_str)).unwrap_or("").to_string();
        let mut commands = json!([]);
        match tag.as_str() {
            "Increment" => m["count"] = json!(m["count"].as_i64().unwrap_or(0) + 1),
            "Tick" => m["ticks"] = json!(m["ticks"].as_i64().unwrap_or(0) + 1),
            "Ticks" => {
                m["ticks"] = json!(0);
                m["limit"] = message["limit"].clone();
                m["every"] = message["every-ms"].clone();
            }
            "Watch" => m["watch"] = message["path"].clone(),
            "Do" => commands = message["commands"].clone(),
            "Trap" => panic!("asked to trap"),
            "Spin" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            _ => {
                let seen = m["seen"].as_array_mut().expect("seen is a list");
                seen.push(message);
                if seen.len() > 20 {
                    seen.remove(0);
                }
            }
        }
        (reply(&msg.header, "model", m), reply(&msg.header, "cmd", commands))
    }

    fn subscriptions(model: Envelope) -> Envelope {
        let m = content(&model);
        let mut subs = Vec::new();
        if m["ticks"].as_i64().unwrap_or(0) < m["limit"].as_i64().unwrap_or(0) {
            subs.push(json!({ "type": "timer", "every-ms": m["every"], "msg": "Tick" }));
        }
        if let Some(path) = m["watch"].as_str() {
            subs.push(json!({ "type": "file-watch", "path": path, "msg": "Changed" }));
        }
        reply(&model.header, "subscriptions", Value::Array(subs))
    }

    fn get_capabilities() -> Envelope {
        let header = Header { seqnum: 0, session_id: String::new(), kind: Some("capabilities".into()) };
        reply(&header, "capabilities", json!({ "name": "effects" }))
    }
}

fn content(envelope: &Envelope) -> Value {
    serde_json::from_slice(&envelope.content).unwrap_or(Value::Null)
}

fn reply(header: &Header, kind: &str, value: Value) -> Envelope {
    Envelope {
        header: Header { seqnum: header.seqnum, session_id: header.session_id.clone(), kind: Some(kind.to_string()) },
        content_type: "application/json".to_string(),
        content: serde_json::to_vec(&value).expect("JSON values serialize"),
    }
}

export!(Effects);
