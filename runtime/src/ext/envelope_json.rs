//! The envelope as bytes, for core-module extensions: Morphir's JSON encoding,
//! `{"header": {"seqnum", "session_id", "kind"?}, "content_type", "content": [bytes]}`.
//!
//! What morph sends: `init` and `subscriptions` get one envelope, `update` gets
//! `{"msg": envelope, "model": envelope}`, `get-capabilities` gets nothing. What it takes back
//! from `init` and `update`: `[model, commands]` (the WIT's `tuple<envelope, envelope>`), or one
//! JSON envelope whose content is `{"model": …, "cmds": …}` (the shape of Morphir's design);
//! from the others, one envelope. Anything else is an error naming what is wrong.

use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::{Envelope, Header};
use crate::values::describe as kind_of;

/// An envelope as it is written: serialized straight from the borrowed fields, `content` as
/// an array of numbers.
#[derive(Serialize)]
struct WireOut<'a> {
    header: HeaderOut<'a>,
    content_type: &'a str,
    content: &'a [u8],
}

#[derive(Serialize)]
struct HeaderOut<'a> {
    seqnum: u64,
    session_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
}

impl<'a> From<&'a Envelope> for WireOut<'a> {
    fn from(e: &'a Envelope) -> WireOut<'a> {
        WireOut {
            header: HeaderOut {
                seqnum: e.header.seqnum,
                session_id: &e.header.session_id,
                kind: e.header.kind.as_deref(),
            },
            content_type: &e.content_type,
            content: &e.content,
        }
    }
}

/// An envelope as it is read: a missing header is an empty one; kebab-case names are taken too.
#[derive(Deserialize)]
struct WireIn {
    #[serde(default)]
    header: Option<HeaderIn>,
    #[serde(alias = "content-type")]
    content_type: String,
    content: Content,
}

#[derive(Deserialize, Default)]
struct HeaderIn {
    #[serde(default)]
    seqnum: Option<u64>,
    #[serde(default, alias = "session-id")]
    session_id: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

impl From<WireIn> for Envelope {
    fn from(w: WireIn) -> Envelope {
        let h = w.header.unwrap_or_default();
        Envelope {
            header: Header {
                seqnum: h.seqnum.unwrap_or(0),
                session_id: h.session_id.unwrap_or_default(),
                kind: h.kind,
            },
            content_type: w.content_type,
            content: w.content.0,
        }
    }
}

/// `content`: an array of bytes, or a string taken as its UTF-8 bytes.
struct Content(Vec<u8>);

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Content, D::Error> {
        struct Bytes;
        impl<'de> Visitor<'de> for Bytes {
            type Value = Content;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of bytes (numbers 0..=255) or a string")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Content, A::Error> {
                let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(b) = seq.next_element::<u8>()? {
                    bytes.push(b);
                }
                Ok(Content(bytes))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Content, E> {
                Ok(Content(s.as_bytes().to_vec()))
            }
        }
        d.deserialize_any(Bytes)
    }
}

/// `envelope` as JSON bytes.
pub fn encode(envelope: &Envelope) -> Vec<u8> {
    serde_json::to_vec(&WireOut::from(envelope)).expect("an envelope serializes")
}

/// `update`'s input: the message and the model.
pub fn encode_update(msg: &Envelope, model: &Envelope) -> Vec<u8> {
    #[derive(Serialize)]
    struct Update<'a> {
        msg: WireOut<'a>,
        model: WireOut<'a>,
    }
    serde_json::to_vec(&Update { msg: msg.into(), model: model.into() }).expect("an envelope serializes")
}

/// One envelope from `bytes`; the error says what is wrong with them.
pub fn decode(bytes: &[u8]) -> Result<Envelope, String> {
    if bytes.is_empty() {
        return Err("it returned no output".into());
    }
    envelope(bytes)
}

fn envelope(bytes: &[u8]) -> Result<Envelope, String> {
    serde_json::from_slice::<WireIn>(bytes).map(Envelope::from).map_err(|e| wire_error(bytes, e))
}

/// `init`'s or `update`'s answer: the model and the commands.
pub fn decode_pair(bytes: &[u8]) -> Result<(Envelope, Envelope), String> {
    if bytes.is_empty() {
        return Err("it returned no output".into());
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return match serde_json::from_slice::<Vec<WireIn>>(bytes) {
            Ok(items) if items.len() == 2 => {
                let mut items = items.into_iter().map(Envelope::from);
                Ok((items.next().expect("two"), items.next().expect("two")))
            }
            Ok(items) => Err(format!("it is an array of {} items, not [model, commands]", items.len())),
            Err(e) => match serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(bytes) {
                Ok(items) if items.len() != 2 => {
                    Err(format!("it is an array of {} items, not [model, commands]", items.len()))
                }
                Ok(_) => Err(format!("it is not [model, commands] ({e})")),
                Err(e) => Err(format!("it is not JSON ({e})")),
            },
        };
    }
    let whole = envelope(bytes).map_err(|e| {
        format!(
            "{e}; init and update answer [model, commands] or one envelope whose content is {{\"model\", \"cmds\"}}"
        )
    })?;
    let content: Json = serde_json::from_slice(&whole.content)
        .map_err(|e| format!("its content is not JSON {{\"model\", \"cmds\"}} ({e})"))?;
    let Some(model) = content.get("model") else {
        return Err(format!(
            "its content is {}, with no \"model\"; init and update answer {{\"model\": …, \"cmds\": […]}}",
            kind_of(&content)
        ));
    };
    let commands = content.get("cmds").or_else(|| content.get("commands")).cloned().unwrap_or(json!([]));
    let part = |kind: &str, v: &Json| Envelope {
        header: Header { kind: Some(kind.to_string()), ..whole.header.clone() },
        content_type: whole.content_type.clone(),
        content: v.to_string().into_bytes(),
    };
    Ok((part("model", model), part("cmd", &commands)))
}

/// What is wrong with bytes that do not read as an envelope.
fn wire_error(bytes: &[u8], e: serde_json::Error) -> String {
    if e.is_syntax() || e.is_eof() {
        return format!("it is not JSON ({e})");
    }
    // Valid JSON of the wrong shape: say what it is when it is not an object at all.
    match serde_json::from_slice::<Json>(bytes) {
        Ok(v) if !v.is_object() => format!("it is {}, not an envelope object", kind_of(&v)),
        _ => format!("it is not an envelope ({e})"),
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
        let pair = format!("[{}, {}]", String::from_utf8(encode(&m)).unwrap(), String::from_utf8(encode(&c)).unwrap());
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
        assert!(decode(br#"{"content": []}"#).unwrap_err().contains("missing field `content_type`"));
        let e = decode(br#"{"content_type": "x", "content": [300]}"#).unwrap_err();
        assert!(e.contains("300") && e.contains("u8"), "{e}");
        assert!(decode(br#"{"content_type": "x", "content": {}}"#).unwrap_err().contains("an array of bytes"));
        assert!(decode_pair(br#"{"content_type": "application/json", "content": "{}"}"#)
            .unwrap_err()
            .contains("no \"model\""));
        let kebab = br#"{"header": {"session-id": "k"}, "content-type": "text/plain", "content": "hi"}"#;
        let e = decode(kebab).unwrap();
        assert_eq!(
            (e.header.session_id.as_str(), e.content_type.as_str(), e.content.as_slice()),
            ("k", "text/plain", &b"hi"[..])
        );
        assert!(decode_pair(b"[1, 2, 3]").unwrap_err().contains("3 items"));
    }
}
