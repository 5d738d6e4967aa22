//! Casts: a registry morph run detached under the daemon's grants (Hayride's `cast`), its
//! stdout and stderr kept as files under `$MORPH_HOME/sessions/<id>/` and its end in
//! `status.json` there. A command's `wasi:cli/run` when no function is named, else that export,
//! its string parameters taking plain text as Hayride passes them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value as Json};

use super::rpc::{CastRequest, RpcError, CANNOT_LOAD};
use super::Daemon;
use crate::error::LimitHit;
use crate::host::threads::{KillSwitch, SpawnJob};
use crate::RuntimeError;

/// Hayride's `thread-status`, and why a cast ended when it did not exit.
#[derive(Debug, Clone)]
enum State {
    Processing,
    Exited(i32),
    Killed,
    Failed(String),
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::Processing => "processing",
            State::Exited(_) => "exited",
            State::Killed => "killed",
            State::Failed(_) => "failed",
        }
    }

    fn to_json(&self) -> Json {
        let mut v = json!({ "active": matches!(self, State::Processing), "status": self.name() });
        match self {
            State::Exited(code) => v["exit-code"] = json!(code),
            State::Failed(why) => v["error"] = json!(why),
            _ => {}
        }
        v
    }
}

struct Cast {
    id: String,
    pkg: String,
    function: String,
    dir: PathBuf,
    kill: Arc<KillSwitch>,
    state: Mutex<State>,
}

impl Cast {
    fn describe(&self) -> Json {
        let mut v = self.state.lock().unwrap().to_json();
        v["session"] = json!(self.id);
        v["kind"] = json!("cast");
        v["source"] = json!(self.pkg);
        v["function"] = json!(self.function);
        v["dir"] = json!(self.dir);
        v
    }
}

#[derive(Default)]
pub(super) struct Casts {
    all: Mutex<BTreeMap<String, Arc<Cast>>>,
}

impl Casts {
    /// Loads the morph `req` names and starts it on a thread of its own; its session id.
    pub async fn start(&self, d: &Daemon, req: CastRequest) -> Result<Json, RpcError> {
        let arg = std::ffi::OsString::from(&req.name);
        let src = morph_registry_client::source::load(&d.home, &arg, true, None, &|_| {})
            .await
            .map_err(|e| RpcError::new(CANNOT_LOAD, format!("cannot cast {}: {e}", req.name)))?;
        let id = uuid_like();
        let dir = d.home.root().join("sessions").join(&id);
        std::fs::create_dir_all(&dir)
            .map_err(|e| RpcError::new(CANNOT_LOAD, format!("cannot make {}: {e}", dir.display())))?;
        let mut policy = d.sandbox.policy.clone();
        policy.env.extend(req.envs);
        policy.output_dir = Some(dir.clone());
        let kill = Arc::new(KillSwitch::default());
        let job = SpawnJob {
            bytes: src.bytes.to_vec(),
            pkg: req.name.clone(),
            name: src.name,
            function: req.function.clone(),
            args: req.args,
            text_args: true,
            policy,
            limits: d.sandbox.limits.clone(),
            kill: kill.clone(),
        };
        let cast = Arc::new(Cast {
            id: id.clone(),
            pkg: req.name,
            function: req.function,
            dir: dir.clone(),
            kill,
            state: Mutex::new(State::Processing),
        });
        self.all.lock().unwrap().insert(id.clone(), cast.clone());
        let sandbox = d.sandbox.clone();
        let started = std::thread::Builder::new().name(format!("cast-{id}")).spawn(move || {
            let state = match sandbox.run_detached(&job) {
                Ok(result) => {
                    if let Some(wave) = result {
                        append(&cast.dir.join("stdout"), &format!("{wave}\n"));
                    }
                    State::Exited(0)
                }
                Err(RuntimeError::Exit(code)) => State::Exited(code),
                Err(_) if cast.kill.killed() => State::Killed,
                Err(RuntimeError::Limit(LimitHit::Killed)) => State::Killed,
                Err(e) => {
                    append(&cast.dir.join("stderr"), &format!("error: {e}\n"));
                    State::Failed(e.to_string())
                }
            };
            let _ = morph_registry_client::atomic::write_atomic(
                &cast.dir.join("status.json"),
                state.to_json().to_string().as_bytes(),
            );
            *cast.state.lock().unwrap() = state;
        });
        if let Err(e) = started {
            return Err(RpcError::new(CANNOT_LOAD, format!("cannot start a thread for the cast: {e}")));
        }
        tracing::info!("daemon: cast {id} started; its output is under {}", dir.display());
        Ok(json!({ "session-id": id }))
    }

    pub fn has(&self, id: &str) -> bool {
        self.all.lock().unwrap().contains_key(id)
    }

    pub fn status(&self, id: &str) -> Result<Json, RpcError> {
        self.all.lock().unwrap().get(id).map(|c| c.describe()).ok_or_else(|| RpcError::no_session(id))
    }

    /// Kills the cast (an ended one stays as it ended); its status.
    pub fn stop(&self, id: &str) -> Result<Json, RpcError> {
        let cast = self.all.lock().unwrap().get(id).cloned().ok_or_else(|| RpcError::no_session(id))?;
        if matches!(*cast.state.lock().unwrap(), State::Processing) {
            cast.kill.kill();
        }
        // The thread sees the kill at its next epoch; give it a moment to say so.
        for _ in 0..50 {
            if !matches!(*cast.state.lock().unwrap(), State::Processing) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        Ok(cast.describe())
    }

    pub fn list(&self) -> Json {
        Json::Array(self.all.lock().unwrap().values().map(|c| c.describe()).collect())
    }

    /// (pkg, id) of the casts still running, as Hayride's `/v1/sessions` lists them.
    pub fn running(&self) -> Vec<(String, String)> {
        let all = self.all.lock().unwrap();
        all.values()
            .filter(|c| matches!(*c.state.lock().unwrap(), State::Processing))
            .map(|c| (c.pkg.clone(), c.id.clone()))
            .collect()
    }

    /// Kills every cast still running (the daemon is stopping).
    pub fn kill_all(&self) {
        for c in self.all.lock().unwrap().values() {
            c.kill.kill();
        }
    }
}

fn append(path: &std::path::Path, text: &str) {
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = f.write_all(text.as_bytes());
    }
}

/// A random id in UUID form (as Hayride's session ids are).
fn uuid_like() -> String {
    let a = u64::from_str_radix(&crate::ext::tea::new_session_id(), 16).unwrap_or_default();
    let b = u64::from_str_radix(&crate::ext::tea::new_session_id(), 16).unwrap_or_default();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}
