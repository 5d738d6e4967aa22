//! `hayride:silo/threads`: a morph starts other morphs of the local registry, each on its own OS
//! thread with its own engine and store, under the parent's grants (minus `silo` itself unless
//! `--allow silo-nested`), the parent's limits, and only the env vars it passes. A thread's
//! output is its stdout; `kill` interrupts it through its engine's epoch.
//!
//! `function` is `run` (or empty) for a command's `wasi:cli/run`, with `args` as argv[1..];
//! any other name is an export called with `args` as WAVE values, its result the output.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use wasmtime::component::Resource;
use wasmtime::Engine;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use super::bindings::hayride::silo::threads::{Host as Threads, HostThread};
use super::bindings::hayride::silo::types::{ErrNo, ThreadMetadata, ThreadStatus};
use super::errno::{EINTR, EINVAL, EIO, ENOENT, ESRCH};
use crate::engine::EngineSettings;
use crate::exec::{prepare_with, run_in, serving_store, Session};
use crate::host::Host;
use crate::invoke::{args_from_wave, call_in, find_export, result_to_wave};
use crate::limits::Limits;
use crate::policy::{Grant, Policy};

/// The guest's handle: the id of a thread in its store's table.
pub struct ThreadHandle {
    id: String,
}

/// The threads one morph started.
#[derive(Default)]
pub(crate) struct ThreadTable {
    threads: Mutex<BTreeMap<String, Arc<Thread>>>,
    next: AtomicU64,
}

struct Thread {
    id: String,
    pkg: String,
    function: String,
    args: Vec<String>,
    output: MemoryOutputPipe,
    /// An export's result (WAVE), after its stdout.
    result: Mutex<Vec<u8>>,
    state: Mutex<State>,
    killed: Arc<AtomicBool>,
    /// The thread's engine once it has one; `kill` ends its current epoch.
    engine: Mutex<Option<Engine>>,
    done: tokio::sync::watch::Sender<bool>,
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Running,
    /// Returned; `ok` is false when it trapped, hit a limit or could not start.
    Exited {
        ok: bool,
    },
    Killed,
}

impl Thread {
    fn metadata(&self) -> ThreadMetadata {
        let status = match *self.state.lock().unwrap() {
            State::Running => ThreadStatus::Processing,
            State::Exited { .. } => ThreadStatus::Exited,
            State::Killed => ThreadStatus::Killed,
        };
        ThreadMetadata {
            id: self.id.clone(),
            pkg: self.pkg.clone(),
            function: self.function.clone(),
            args: self.args.clone(),
            output: self.output_bytes(),
            status,
        }
    }

    fn output_bytes(&self) -> Vec<u8> {
        let mut out = self.output.contents().to_vec();
        out.extend_from_slice(&self.result.lock().unwrap());
        out
    }

    fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        if let Some(engine) = self.engine.lock().unwrap().as_ref() {
            engine.increment_epoch();
        }
    }
}

impl ThreadTable {
    fn get(&self, id: &str) -> Option<Arc<Thread>> {
        self.threads.lock().unwrap().get(id).cloned()
    }
}

impl Threads for Host {
    async fn spawn(
        &mut self,
        pkg: String,
        function: String,
        args: Vec<String>,
        envs: Vec<(String, String)>,
    ) -> wasmtime::Result<Result<Resource<ThreadHandle>, ErrNo>> {
        let Ok(id) = morph_registry_client::MorphId::parse(&pkg) else { return Ok(Err(EINVAL)) };
        let Some(home) = self.hayride.policy.home.clone() else { return Ok(Err(ENOENT)) };
        let Ok(found) = morph_registry_client::resolve_local(&home, &id) else { return Ok(Err(ENOENT)) };
        let Ok(bytes) = std::fs::read(&found.path) else { return Ok(Err(ENOENT)) };
        let parent = &self.hayride;
        let mut policy = child_policy(&parent.policy, envs);
        let output = MemoryOutputPipe::new(usize::MAX);
        policy.capture_stdout = Some(output.clone());
        let n = parent.threads.next.fetch_add(1, Ordering::SeqCst) + 1;
        let (done, _) = tokio::sync::watch::channel(false);
        let thread = Arc::new(Thread {
            id: format!("{}-{n}", std::process::id()),
            pkg: pkg.clone(),
            function,
            args,
            output,
            result: Mutex::new(Vec::new()),
            state: Mutex::new(State::Running),
            killed: Arc::new(AtomicBool::new(false)),
            engine: Mutex::new(None),
            done,
        });
        parent.threads.threads.lock().unwrap().insert(thread.id.clone(), thread.clone());
        let limits = parent.limits.clone();
        let name = found.id.name.clone();
        let runner = thread.clone();
        std::thread::Builder::new().name(format!("morph {pkg}")).spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
            let ok = match rt {
                Ok(rt) => rt.block_on(run_thread(&runner, &bytes, &policy, &limits, name)),
                Err(_) => false,
            };
            let mut state = runner.state.lock().unwrap();
            *state = if runner.killed.load(Ordering::SeqCst) { State::Killed } else { State::Exited { ok } };
            drop(state);
            runner.done.send_replace(true);
        })?;
        let handle = self.table.push(ThreadHandle { id: thread.id.clone() })?;
        Ok(Ok(handle))
    }

    async fn status(&mut self, id: String) -> wasmtime::Result<Result<ThreadMetadata, ErrNo>> {
        Ok(self.hayride.threads.get(&id).map(|t| t.metadata()).ok_or(ESRCH))
    }

    async fn kill(&mut self, id: String) -> wasmtime::Result<Result<(), ErrNo>> {
        match self.hayride.threads.get(&id) {
            Some(t) => {
                t.kill();
                Ok(Ok(()))
            }
            None => Ok(Err(ESRCH)),
        }
    }

    async fn group(&mut self) -> wasmtime::Result<Result<Vec<ThreadMetadata>, ErrNo>> {
        let threads = self.hayride.threads.threads.lock().unwrap();
        Ok(Ok(threads.values().map(|t| t.metadata()).collect()))
    }
}

impl HostThread for Host {
    async fn id(&mut self, handle: Resource<ThreadHandle>) -> wasmtime::Result<Result<String, ErrNo>> {
        Ok(Ok(self.table.get(&handle)?.id.clone()))
    }

    async fn wait(&mut self, handle: Resource<ThreadHandle>) -> wasmtime::Result<Result<Vec<u8>, ErrNo>> {
        let id = self.table.get(&handle)?.id.clone();
        let Some(thread) = self.hayride.threads.get(&id) else { return Ok(Err(ESRCH)) };
        let mut done = thread.done.subscribe();
        // The sender lives in the thread record, so this only ends when the thread does.
        let _ = done.wait_for(|d| *d).await;
        let state = *thread.state.lock().unwrap();
        Ok(match state {
            State::Exited { ok: true } => Ok(thread.output_bytes()),
            State::Exited { ok: false } => Err(EIO),
            State::Killed => Err(EINTR),
            State::Running => Err(EIO),
        })
    }

    async fn drop(&mut self, handle: Resource<ThreadHandle>) -> wasmtime::Result<()> {
        // Dropping the handle does not stop the thread; `kill` does.
        self.table.delete(handle)?;
        Ok(())
    }
}

/// The parent's grants, minus spawning unless `silo-nested` allows it; only the env vars the
/// parent passed.
fn child_policy(parent: &Policy, envs: Vec<(String, String)>) -> Policy {
    let mut policy = parent.clone();
    policy.env = envs;
    policy.spawned = true;
    if !parent.grants.contains(&Grant::SiloNested) {
        policy.grants.remove(&Grant::Silo);
    }
    policy
}

/// Runs the thread's morph to the end; true when it returned normally.
async fn run_thread(thread: &Thread, bytes: &[u8], policy: &Policy, limits: &Limits, name: String) -> bool {
    // Why a thread failed goes to morph's log; the guest sees EIO from `wait`.
    let failed = |e: crate::RuntimeError| {
        tracing::warn!("spawned morph {} ({}) failed: {e}", thread.pkg, thread.id);
        false
    };
    let digest = morph_contract::component::sha256_digest(bytes);
    let home = policy.home.as_ref().map(|h| h.root().to_path_buf());
    // Epoch interruption always, so `kill` can stop a busy thread.
    let settings = EngineSettings { fuel: limits.fuel.is_some(), epoch: true, pool: None };
    let prepared = match prepare_with(bytes, &digest, std::path::Path::new(&thread.pkg), settings, home.as_deref()) {
        Ok(p) => p,
        Err(e) => return failed(e),
    };
    let mut argv = vec![name];
    let is_run = matches!(thread.function.as_str(), "" | "run" | "wasi:cli/run#run");
    if is_run {
        argv.extend(thread.args.iter().cloned());
    }
    // The served-instance store: at each epoch the guest is interrupted once it is killed or
    // past its --timeout, and yields otherwise. Epochs come from `kill` and the timeout timer.
    let killed = thread.killed.clone();
    let deadline = limits.timeout.map(|t| std::time::Instant::now() + t);
    let expired = move || killed.load(Ordering::SeqCst) || deadline.is_some_and(|d| std::time::Instant::now() >= d);
    let (mut store, mut watch) = match serving_store(&prepared.engine, policy, &argv, limits, expired) {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    if let Some(t) = limits.timeout {
        watch.arm_timer(&mut store, &prepared.engine, t);
    }
    // Only now may `kill` see the engine: its epoch bump must land after the deadline is set.
    // A kill that came earlier left its flag, which is read after the engine is published.
    *thread.engine.lock().unwrap() = Some(prepared.engine.clone());
    if thread.killed.load(Ordering::SeqCst) {
        return false;
    }
    let mut session = match Session::instantiate(&prepared, store, watch).await {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    if is_run {
        match run_in(&mut session).await {
            Ok(code) => code == 0,
            Err(e) => failed(e),
        }
    } else {
        let call = async {
            let f = find_export(&prepared, &thread.function)?;
            let vals = args_from_wave(&f, &thread.args)?;
            call_in(&mut session, &f, &vals).await
        };
        match call.await {
            Ok(Some(v)) => {
                *thread.result.lock().unwrap() = format!("{}\n", result_to_wave(&v)).into_bytes();
                true
            }
            Ok(None) => true,
            Err(e) => failed(e),
        }
    }
}
