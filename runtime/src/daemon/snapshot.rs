//! A session's snapshot: what takes it up again after an eviction or a daemon restart (its
//! source, stamps, last good model and env vars), kept as `<state>/<session-id>.json` with
//! `--state`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ext::{Envelope, Header};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub struct Snapshot {
    pub session_id: String,
    /// The file or registry id the extension was opened from.
    pub source: String,
    pub content_type: String,
    pub seqnum: u64,
    pub model: SavedModel,
    /// Env vars as `TYPE:VALUE` by name (as `--env-var` takes them after the `=`).
    pub env_vars: std::collections::BTreeMap<String, String>,
}

/// The model envelope's content, byte for byte.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub struct SavedModel {
    pub content_type: String,
    pub content_base64: String,
}

impl SavedModel {
    pub fn of(e: &Envelope) -> SavedModel {
        SavedModel { content_type: e.content_type.clone(), content_base64: crate::ext::tea::base64_encode(&e.content) }
    }

    pub fn envelope(&self, session_id: &str, seqnum: u64) -> Result<Envelope, String> {
        use base64::Engine;
        let content = base64::engine::general_purpose::STANDARD
            .decode(&self.content_base64)
            .map_err(|e| format!("the snapshot's model is not base64: {e}"))?;
        Ok(Envelope {
            header: Header { seqnum, session_id: session_id.to_string(), kind: Some("model".into()) },
            content_type: self.content_type.clone(),
            content,
        })
    }
}

/// Where `session`'s snapshot lives under `state`.
pub fn path(state: &Path, session: &str) -> PathBuf {
    state.join(format!("{}.json", file_safe(session)))
}

/// A session id as a file name: characters other than letters, digits, `-` and `_` escaped,
/// so no id names a path outside the state directory.
fn file_safe(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_string()
            } else {
                format!("%{:02x}", c as u32)
            }
        })
        .collect()
}

/// Writes `s` under `state` atomically (a crash leaves the previous snapshot or this one).
pub fn save(state: &Path, s: &Snapshot) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(s).map_err(std::io::Error::other)?;
    morph_registry_client::atomic::write_atomic(&path(state, &s.session_id), &bytes)
}

pub fn remove(state: &Path, session: &str) {
    let _ = std::fs::remove_file(path(state, session));
}

/// Every snapshot under `state`; a file that does not read as one is skipped with a warning.
pub fn load_all(state: &Path) -> Vec<Snapshot> {
    let Ok(entries) = std::fs::read_dir(state) else { return Vec::new() };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "json") {
            continue;
        }
        match std::fs::read(&p)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(s) => out.push(s),
            Err(why) => tracing::warn!("daemon: skipping {}: not a session snapshot ({why})", p.display()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_leave_the_state_dir() {
        assert_eq!(path(Path::new("/s"), "../../etc/x"), PathBuf::from("/s/%2e%2e%2f%2e%2e%2fetc%2fx.json"));
        assert_eq!(path(Path::new("/s"), "a-1_b"), PathBuf::from("/s/a-1_b.json"));
    }
}
