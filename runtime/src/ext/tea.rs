//! The Elm-architecture session of a Morphir extension, host side: morph stamps every envelope
//! it sends (seqnum, session id, kind), keeps the last good model between steps, and gives each
//! step as one JSON record (what `morph ext run` and `morph ext session` print). A JSON Lines
//! session turns each input line into a message; a bad line is that line's error record.

use serde_json::{json, Value as Json};

use super::{Envelope, ExtensionSession, Header};
use crate::RuntimeError;

pub const JSON_TYPE: &str = "application/json";

/// One step: its record (what `morph ext` prints) and what the extension asked for in it.
pub struct Step {
    pub record: Json,
    pub commands: Envelope,
    pub subscriptions: Envelope,
}

/// Host-side state of a session: the stamps and the last good model.
pub struct Tea {
    pub session_id: String,
    pub content_type: String,
    pub seqnum: u64,
    model: Option<Envelope>,
}

impl Tea {
    /// A session stamped `session_id` (a new random one when none is given), its messages of
    /// `content_type`.
    pub fn new(session_id: Option<String>, content_type: String) -> Tea {
        Tea { session_id: session_id.unwrap_or_else(new_session_id), content_type, seqnum: 0, model: None }
    }

    fn header(&self, kind: &str) -> Header {
        Header { seqnum: self.seqnum, session_id: self.session_id.clone(), kind: Some(kind.to_string()) }
    }

    fn stamp(&self, kind: &str, content: Vec<u8>) -> Envelope {
        Envelope { header: self.header(kind), content_type: self.content_type.clone(), content }
    }

    /// `init` with `flags`; its step.
    pub async fn init(&mut self, s: &mut ExtensionSession, flags: Vec<u8>) -> Result<Step, RuntimeError> {
        self.seqnum = 0;
        let sent = self.stamp("flags", flags);
        let (model, commands) = s.init(&sent).await.map_err(|e| step_error("init", 0, e))?;
        self.after("init", show_content(&sent), model, commands, s).await
    }

    /// `update` with `msg` and the last good model; its step.
    pub async fn update(&mut self, s: &mut ExtensionSession, msg: Vec<u8>) -> Result<Step, RuntimeError> {
        self.seqnum += 1;
        let sent = self.stamp("msg", msg);
        let header = self.header("model");
        // The model goes back in with the extension's content, stamped with this step.
        let model = self.model.as_mut().expect("init ran first");
        model.header = header;
        let (model, commands) = s.update(&sent, model).await.map_err(|e| step_error("update", self.seqnum, e))?;
        self.after("update", show_content(&sent), model, commands, s).await
    }

    /// A session taken up again from a snapshot: its model and seqnum are the last good ones.
    pub fn restore(&mut self, seqnum: u64, model: Envelope) {
        self.seqnum = seqnum;
        self.model = Some(model);
    }

    /// The last good model.
    pub fn model(&self) -> Option<&Envelope> {
        self.model.as_ref()
    }

    /// The subscriptions of the last good model (for a session taken up again).
    pub async fn subscriptions(&mut self, s: &mut ExtensionSession) -> Result<Envelope, RuntimeError> {
        let model = self.model.as_ref().expect("a model to subscribe with");
        s.subscriptions(model).await.map_err(|e| step_error("subscriptions", self.seqnum, e))
    }

    /// One line of a JSON Lines session (numbered from 1) as a message's bytes; `Ok(None)` for
    /// a blank line, `Err` with the line's error record when it is not UTF-8 or not JSON.
    pub fn line_message(&self, line_no: usize, line: Vec<u8>) -> Result<Option<Vec<u8>>, Json> {
        let text = match String::from_utf8(line) {
            Ok(text) => text,
            Err(e) => {
                let column = e.utf8_error().valid_up_to() + 1;
                let error =
                    format!("line {line_no} is not UTF-8 text (invalid byte at column {column}); send UTF-8 JSON");
                return Err(json!({ "line": line_no, "error": error }));
            }
        };
        if text.trim().is_empty() {
            return Ok(None);
        }
        self.content(text.trim_end_matches('\r'), &format!("line {line_no}"))
            .map(Some)
            .map_err(|e| json!({ "line": line_no, "error": e }))
    }

    /// Keeps the new model, asks for its subscriptions, and gives the step (its record shows
    /// the model as the extension returned it).
    async fn after(
        &mut self,
        step: &str,
        message: Json,
        mut model: Envelope,
        commands: Envelope,
        s: &mut ExtensionSession,
    ) -> Result<Step, RuntimeError> {
        let shown = show_envelope(&model);
        model.header = self.header("model");
        let model = self.model.insert(model);
        let subscriptions = s.subscriptions(model).await.map_err(|e| step_error("subscriptions", self.seqnum, e))?;
        let record = json!({
            "step": step,
            "seqnum": self.seqnum,
            "message": message,
            "model": shown,
            "commands": show_envelope(&commands),
            "subscriptions": show_envelope(&subscriptions),
        });
        Ok(Step { record, commands, subscriptions })
    }

    /// The bytes of a message or init data the user wrote (`origin` names it): JSON is checked
    /// (and sent as written); other content types are sent as they are.
    pub fn content(&self, text: &str, origin: &str) -> Result<Vec<u8>, String> {
        if is_json(&self.content_type) {
            if let Err(e) = serde_json::from_str::<Json>(text) {
                return Err(format!(
                    "{origin} is not JSON ({e}): {text:?}; quote strings ('\"Increment\"') or pass \
                     --content-type for other content"
                ));
            }
        }
        Ok(text.trim_end_matches(['\r', '\n']).as_bytes().to_vec())
    }
}

/// Names the step that failed; the error keeps its kind. An extension that is not one is not a
/// step's fault.
pub fn step_error(step: &str, seqnum: u64, e: RuntimeError) -> RuntimeError {
    match e {
        RuntimeError::NotAnExtension { .. }
        | RuntimeError::ExtensionSignature { .. }
        | RuntimeError::PluginSignature { .. }
        | RuntimeError::PluginImports { .. }
        | RuntimeError::NoSuchExport { .. }
        | RuntimeError::Io { .. }
        | RuntimeError::Internal(_) => e,
        e => RuntimeError::Step { step: format!("{step} (seqnum {seqnum})"), source: Box::new(e) },
    }
}

/// Whether a content type is JSON (`application/json`, `…+json`, `text/json`).
pub fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == JSON_TYPE || essence.ends_with("+json") || essence == "text/json"
}

/// The content, decoded, when the envelope says it is JSON and it is.
pub fn json_content(e: &Envelope) -> Option<Json> {
    is_json(&e.content_type).then(|| serde_json::from_slice(&e.content).ok()).flatten()
}

/// An envelope's content for people and scripts: JSON when it is JSON, otherwise base64.
pub fn show_content(e: &Envelope) -> Json {
    json_content(e).unwrap_or_else(|| json!({ "base64": base64_encode(&e.content) }))
}

/// The whole envelope as JSON; `content` decoded, or `content-base64` when it is not JSON.
pub fn show_envelope(e: &Envelope) -> Json {
    let mut v = json!({
        "seqnum": e.header.seqnum,
        "session-id": e.header.session_id,
        "kind": e.header.kind,
        "content-type": e.content_type,
    });
    match json_content(e) {
        Some(c) => v["content"] = c,
        None => v["content-base64"] = json!(base64_encode(&e.content)),
    }
    v
}

pub fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A session id no other run shares: std's randomly keyed hasher over the time and the pid.
pub fn new_session_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}
