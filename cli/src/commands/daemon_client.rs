//! Talking to a running `morph daemon` over its socket: one JSON-RPC request, its answer
//! (notifications on the way are skipped). No daemon is ever started from here.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use serde_json::{json, Value as Json};

/// Where the daemon listens: `--socket`, $MORPH_DAEMON_SOCKET, or the default under the home.
pub fn socket(given: Option<&Path>) -> Result<PathBuf> {
    match given {
        Some(p) => Ok(p.to_path_buf()),
        None => match std::env::var_os("MORPH_DAEMON_SOCKET") {
            Some(p) => Ok(p.into()),
            None => super::daemon::default_socket(),
        },
    }
}

/// `method` with `params` on the daemon at `socket`: its result, or its error's message.
pub fn call(socket: &Path, method: &str, params: Json) -> Result<Json> {
    let mut conn = UnixStream::connect(socket)
        .map_err(|e| anyhow!("no morph daemon answers on {} ({e}); start one with `morph daemon`", socket.display()))?;
    let request = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    writeln!(conn, "{request}").with_context(|| format!("cannot write to {}", socket.display()))?;
    let mut lines = BufReader::new(conn).lines();
    while let Some(line) = lines.next().transpose().with_context(|| format!("cannot read from {}", socket.display()))? {
        let answer: Json = serde_json::from_str(&line).with_context(|| format!("the daemon answered {line:?}"))?;
        if answer.get("id") != Some(&json!(1)) {
            continue;
        }
        if let Some(e) = answer.get("error") {
            return Err(anyhow!("{}", e["message"].as_str().unwrap_or("the daemon refused the request")));
        }
        return Ok(answer["result"].clone());
    }
    Err(anyhow!("the daemon on {} closed the connection without an answer", socket.display()))
}
