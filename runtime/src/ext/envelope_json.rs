//! The envelope as bytes, for core-module extensions: Morphir's JSON encoding,
//! `{"header": {"seqnum", "session_id", "kind"?}, "content_type", "content": [bytes]}`.
//!
//! What morph sends: `init` and `subscriptions` get one envelope, `update` gets
//! `{"msg": envelope, "model": envelope}`, `get-capabilities` gets nothing. What it takes back
//! from `init` and `update`: `[model, commands]` (the WIT's `tuple<envelope, envelope>`), or one
//! JSON envelope whose content is `{"model": …, "cmds": …}` (the shape of Morphir's design);
//! from the others, one envelope. Anything else is an error naming what is wrong.

use serde_json::{json, Map, Value as Json};

use super::{Envelope, Header};

/// `envelope` as JSON bytes.
pub fn encode(envelope: &Envelope) -> Vec<u8> {
    to_json(envelope).to_string().into_bytes()
}

/// `update`'s input: the message and the model.
pub fn encode_update(msg: &Envelope, model: &Envelope) -> Vec<u8> {
    json!({ "msg": to_json(msg), "model": to_json(model) }).to_string().into_bytes()
}

fn to_json(e: &Envelope) -> Json {
    let mut header = json!({ "seqnum": e.header.seqnum, "session_id": e.header.session_id });
    if let Some(kind) = &e.header.kind {
        header["kind"] = json!(kind);
    }
    json!({ "header": header, "content_type": e.content_type, "content": e.content })
}

/// One envelope from `bytes`; the error says what is wrong with them.
pub fn decode(bytes: &[u8]) -> Result<Envelope, String> {
    from_json(&parse(bytes)?)
}

/// `init`'s or `update`'s answer: the model and the commands.
pub fn decode_pair(bytes: &[u8]) -> Result<(Envelope, Envelope), String> {
    let value = parse(bytes)?;
    if let Json::Array(items) = &value {
        return match items.as_slice() {
            [model, commands] => Ok((
                from_json(model).map_err(|e| format!("its model (item 0): {e}"))?,
                from_json(commands).map_err(|e| format!("its commands (item 1): {e}"))?,
            )),
            _ => Err(format!("it is an array of {} items, not [model, commands]", items.len())),
        };
    }
    let whole = from_json(&value).map_err(|e| {
        format!(
            "{e}; init and update answer [model, commands] or one envelope whose content is {{\"model\", \"cmds\"}}"
        )
    })?;
    let content: Json = serde_json::from_slice(&whole.content)
        .map_err(|e| format!("its content is not JSON {{\"model\", \"cmds\"}} ({e})"))?;
    let Some(model) = content.get("model") else {
        return Err("its content has no \"model\"; init and update answer {\"model\": …, \"cmds\": […]}".into());
    };
    let commands = content.get("cmds").or_else(|| content.get("commands")).cloned().unwrap_or(json!([]));
    let part = |kind: &str, v: &Json| Envelope {
        header: Header { kind: Some(kind.to_string()), ..whole.header.clone() },
        content_type: whole.content_type.clone(),
        content: v.to_string().into_bytes(),
    };
    Ok((part("model", model), part("cmd", &commands)))
}

fn parse(bytes: &[u8]) -> Result<Json, String> {
    if bytes.is_empty() {
        return Err("it returned no output".into());
    }
    serde_json::from_slice(bytes).map_err(|e| format!("it is not JSON ({e})"))
}

fn from_json(v: &Json) -> Result<Envelope, String> {
    let Json::Object(o) = v else { return Err(format!("it is {}, not an envelope object", kind_of(v))) };
    let header = match o.get("header") {
        None | Some(Json::Null) => Header { seqnum: 0, session_id: String::new(), kind: None },
        Some(Json::Object(h)) => header(h)?,
        Some(other) => return Err(format!("its \"header\" is {}, not an object", kind_of(other))),
    };
    let content_type = match field(o, "content_type") {
        Some(Json::String(s)) => s.clone(),
        Some(other) => return Err(format!("its \"content_type\" is {}, not a string", kind_of(other))),
        None => return Err("it has no \"content_type\"".into()),
    };
    let content = match o.get("content") {
        Some(Json::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, b)| {
                b.as_u64()
                    .and_then(|n| u8::try_from(n).ok())
                    .ok_or_else(|| format!("byte {i} of its \"content\" is {b}, not a number 0..=255"))
            })
            .collect::<Result<Vec<u8>, String>>()?,
        // Text content written as a string is taken as its UTF-8 bytes.
        Some(Json::String(s)) => s.as_bytes().to_vec(),
        Some(other) => return Err(format!("its \"content\" is {}, not an array of bytes", kind_of(other))),
        None => return Err("it has no \"content\"".into()),
    };
    Ok(Envelope { header, content_type, content })
}

fn header(h: &Map<String, Json>) -> Result<Header, String> {
    let seqnum = match h.get("seqnum") {
        None | Some(Json::Null) => 0,
        Some(n) => n.as_u64().ok_or_else(|| format!("its header's \"seqnum\" is {n}, not a u64"))?,
    };
    let text = |name: &str| match field(h, name) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("its header's \"{name}\" is {}, not a string", kind_of(other))),
    };
    Ok(Header { seqnum, session_id: text("session_id")?.unwrap_or_default(), kind: text("kind")? })
}

/// A field by its snake_case name or the WIT's kebab-case one.
fn field<'a>(o: &'a Map<String, Json>, name: &str) -> Option<&'a Json> {
    o.get(name).or_else(|| o.get(&name.replace('_', "-")))
}

fn kind_of(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// The first bytes of `bytes`, for an error message.
pub fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(80)]).into_owned();
    if bytes.len() > 80 {
        format!("{text}…")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(kind: &str, content: &str) -> Envelope {
        Envelope {
            header: Header { seqnum: 3, session_id: "s".into(), kind: Some(kind.into()) },
            content_type: "application/json".into(),
            content: content.as_bytes().to_vec(),
        }
    }

    #[test]
    fn an_envelope_reads_back_what_was_written() {
        let e = envelope("msg", r#""Increment""#);
        assert_eq!(decode(&encode(&e)).unwrap(), e);
        let text = String::from_utf8(encode(&e)).unwrap();
        assert!(text.contains(r#""session_id":"s""#) && text.contains(r#""content":[34,73"#), "{text}");
        let update: Json = serde_json::from_slice(&encode_update(&e, &envelope("model", "{}"))).unwrap();
        assert_eq!(update["model"]["header"]["kind"], "model");
    }

    #[test]
    fn both_answer_shapes_give_the_model_and_the_commands() {
        let (m, c) = (envelope("model", r#"{"count":1}"#), envelope("cmd", "[]"));
        let pair = format!("[{}, {}]", to_json(&m), to_json(&c));
        assert_eq!(decode_pair(pair.as_bytes()).unwrap(), (m.clone(), c.clone()));
        let design = envelope("answer", r#"{"model": {"count": 1}, "cmds": []}"#);
        let (model, cmds) = decode_pair(&encode(&design)).unwrap();
        assert_eq!(model.content, br#"{"count":1}"#);
        assert_eq!(model.header.kind.as_deref(), Some("model"));
        assert_eq!(cmds.content, b"[]");
    }

    #[test]
    fn what_is_not_an_envelope_says_what_is_wrong() {
        assert_eq!(decode(b"").unwrap_err(), "it returned no output");
        assert!(decode(b"garbage").unwrap_err().starts_with("it is not JSON"));
        assert!(decode(b"[1]").unwrap_err().contains("an array, not an envelope object"));
        assert!(decode(br#"{"content": []}"#).unwrap_err().contains("no \"content_type\""));
        assert!(decode(br#"{"content_type": "x", "content": [300]}"#).unwrap_err().contains("byte 0"));
        assert!(decode_pair(br#"{"content_type": "application/json", "content": "{}"}"#)
            .unwrap_err()
            .contains("no \"model\""));
        assert!(decode_pair(b"[1, 2, 3]").unwrap_err().contains("3 items"));
    }
}
