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

use wasmtime::component::{Linker, Resource};

use super::{HasTableView, TableView};
use wasmtime::Engine;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use super::errno::{ErrNo, EINTR, EINVAL, EIO, ENOENT, ESRCH};
use crate::limits::Limits;
use crate::policy::{Grant, Policy};
use crate::RuntimeError;

/// Bindings of each contract version's `hayride:silo/threads`. They differ only in `spawn`
/// (0.0.65 passes env vars); one implementation serves both.
mod v060 {
    wasmtime::component::bindgen!({
        inline: "
            package morph:host;
            world threads { import hayride:silo/threads@0.0.60; }
        ",
        world: "morph:host/threads",
        path: ["../wit/hayride/0.0.60/hayride-silo.wit"],
        imports: { default: async | trappable },
        with: { "hayride:silo/threads.thread": super::ThreadHandle },
    });
}

mod v065 {
    wasmtime::component::bindgen!({
        inline: "
            package morph:host;
            world threads { import hayride:silo/threads@0.0.65; }
        ",
        world: "morph:host/threads",
        path: ["../wit/hayride/0.0.65/hayride-silo.wit"],
        imports: { default: async | trappable },
        with: { "hayride:silo/threads.thread": super::ThreadHandle },
    });
}

/// Runs a spawned morph; handed in by whoever makes the store, so this interface does not
/// reach back into the sandbox that runs morphs.
pub(crate) trait MorphRunner: Send + Sync {
    /// Runs `job` to its end on the calling thread (the spawned morph's own): `Ok` with the
    /// called export's result as WAVE (`None` for a command or an export without one), `Err`
    /// when it could not start, trapped, hit a limit or exited non-zero.
    fn run(&self, job: &SpawnJob) -> Result<Option<String>, RuntimeError>;
}

/// A morph to run on a thread of its own.
pub(crate) struct SpawnJob {
    pub bytes: Vec<u8>,
    /// The registry id, which names the morph in errors.
    pub pkg: String,
    /// argv[0]: the morph's name.
    pub name: String,
    /// `run` (or empty) for a command's `wasi:cli/run`; an export otherwise.
    pub function: String,
    /// argv[1..] of a command; WAVE arguments of an export (or plain text for a string
    /// parameter, with `text_args`).
    pub args: Vec<String>,
    /// String parameters take plain text (a cast, as Hayride passes arguments).
    pub text_args: bool,
    pub policy: Policy,
    pub limits: Limits,
    pub kill: Arc<KillSwitch>,
}

impl SpawnJob {
    /// Whether the job is a command's `wasi:cli/run` rather than an export.
    pub fn is_run(&self) -> bool {
        matches!(self.function.as_str(), "" | "run" | "wasi:cli/run#run")
    }
}

/// How `kill` reaches a spawned morph: a flag read at every epoch, and the engine whose epoch
/// it bumps so that a busy guest reaches the check.
#[derive(Default)]
pub(crate) struct KillSwitch {
    killed: AtomicBool,
    engine: Mutex<Option<Engine>>,
}

impl KillSwitch {
    pub fn killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    /// Publishes the engine the morph runs on, once its store's deadline is set (a bump before
    /// that would be lost); false when a kill came first (its flag was left for this check).
    pub fn arm(&self, engine: &Engine) -> bool {
        *self.engine.lock().unwrap() = Some(engine.clone());
        !self.killed()
    }

    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        if let Some(engine) = self.engine.lock().unwrap().as_ref() {
            engine.increment_epoch();
        }
    }
}

/// The threads one morph started, and what starting another needs.
pub(crate) struct ThreadsCtx {
    /// The spawning morph's grants and limits: a spawned one inherits them (see
    /// [`child_policy`]).
    pub parent: Policy,
    pub limits: Limits,
    pub runner: Arc<dyn MorphRunner>,
    threads: Mutex<BTreeMap<String, Arc<Thread>>>,
    next: AtomicU64,
}

impl ThreadsCtx {
    pub fn new(parent: Policy, limits: Limits, runner: Arc<dyn MorphRunner>) -> ThreadsCtx {
        ThreadsCtx { parent, limits, runner, threads: Default::default(), next: AtomicU64::new(0) }
    }

    fn get(&self, id: &str) -> Option<Arc<Thread>> {
        self.threads.lock().unwrap().get(id).cloned()
    }
}

/// What the interface reaches of the store's data.
pub(crate) type ThreadsView<'a> = TableView<'a, ThreadsCtx>;

/// Links `hayride:silo/threads` of contract `version` over the view `get` makes of the store's
/// data.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    version: &str,
    get: fn(&mut T) -> ThreadsView<'_>,
) -> wasmtime::Result<()> {
    match version {
        "0.0.60" => v060::hayride::silo::threads::add_to_linker::<T, HasTableView<ThreadsCtx>>(linker, get),
        _ => v065::hayride::silo::threads::add_to_linker::<T, HasTableView<ThreadsCtx>>(linker, get),
    }
}

/// The guest's handle: the id of a thread in its store's table.
pub struct ThreadHandle {
    id: String,
}

/// `thread-metadata`, in whichever version's type the guest asked with.
struct Metadata {
    id: String,
    pkg: String,
    function: String,
    args: Vec<String>,
    output: Vec<u8>,
    state: State,
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
    kill: Arc<KillSwitch>,
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
    fn metadata(&self) -> Metadata {
        Metadata {
            id: self.id.clone(),
            pkg: self.pkg.clone(),
            function: self.function.clone(),
            args: self.args.clone(),
            output: self.output_bytes(),
            state: *self.state.lock().unwrap(),
        }
    }

    fn output_bytes(&self) -> Vec<u8> {
        let mut out = self.output.contents().to_vec();
        out.extend_from_slice(&self.result.lock().unwrap());
        out
    }

    /// Runs `job` on this (its own) OS thread and records how it ended.
    fn run(&self, runner: &dyn MorphRunner, job: &SpawnJob) {
        let ok = match runner.run(job) {
            Ok(result) => {
                if let Some(wave) = result {
                    *self.result.lock().unwrap() = format!("{wave}\n").into_bytes();
                }
                true
            }
            Err(e) => {
                // Why a thread failed goes to morph's log; the guest sees EIO from `wait`.
                tracing::warn!("spawned morph {} ({}) failed: {e}", self.pkg, self.id);
                false
            }
        };
        let mut state = self.state.lock().unwrap();
        *state = if self.kill.killed() { State::Killed } else { State::Exited { ok } };
        drop(state);
        self.done.send_replace(true);
    }
}

impl ThreadsView<'_> {
    fn spawn_thread(
        &mut self,
        pkg: String,
        function: String,
        args: Vec<String>,
        envs: Vec<(String, String)>,
    ) -> wasmtime::Result<Result<Resource<ThreadHandle>, ErrNo>> {
        let ctx = self.ctx;
        let Ok(id) = morph_registry_client::MorphId::parse(&pkg) else { return Ok(Err(EINVAL)) };
        let Some(home) = ctx.parent.home.clone() else { return Ok(Err(ENOENT)) };
        let Ok(found) = morph_registry_client::resolve_local(&home, &id) else { return Ok(Err(ENOENT)) };
        let Ok(bytes) = std::fs::read(&found.path) else { return Ok(Err(ENOENT)) };
        let mut policy = child_policy(&ctx.parent, envs);
        let output = MemoryOutputPipe::new(usize::MAX);
        policy.capture_stdout = Some(output.clone());
        let n = ctx.next.fetch_add(1, Ordering::SeqCst) + 1;
        let (done, _) = tokio::sync::watch::channel(false);
        let kill = Arc::new(KillSwitch::default());
        let thread = Arc::new(Thread {
            id: format!("{}-{n}", std::process::id()),
            pkg: pkg.clone(),
            function: function.clone(),
            args: args.clone(),
            output,
            result: Mutex::new(Vec::new()),
            state: Mutex::new(State::Running),
            kill: kill.clone(),
            done,
        });
        ctx.threads.lock().unwrap().insert(thread.id.clone(), thread.clone());
        let job = SpawnJob {
            bytes,
            pkg: pkg.clone(),
            name: found.id.name.clone(),
            function,
            args,
            text_args: false,
            policy,
            limits: ctx.limits.clone(),
            kill,
        };
        let runner = ctx.runner.clone();
        let running = thread.clone();
        std::thread::Builder::new().name(format!("morph {pkg}")).spawn(move || running.run(&*runner, &job))?;
        let handle = self.table.push(ThreadHandle { id: thread.id.clone() })?;
        Ok(Ok(handle))
    }

    fn status_of(&mut self, id: &str) -> Result<Metadata, ErrNo> {
        self.ctx.get(id).map(|t| t.metadata()).ok_or(ESRCH)
    }

    fn kill_thread(&mut self, id: &str) -> Result<(), ErrNo> {
        let thread = self.ctx.get(id).ok_or(ESRCH)?;
        thread.kill.kill();
        Ok(())
    }

    fn group_of(&mut self) -> Vec<Metadata> {
        self.ctx.threads.lock().unwrap().values().map(|t| t.metadata()).collect()
    }

    fn handle_id(&mut self, handle: &Resource<ThreadHandle>) -> wasmtime::Result<String> {
        Ok(self.table.get(handle)?.id.clone())
    }

    async fn wait_for(&mut self, handle: Resource<ThreadHandle>) -> wasmtime::Result<Result<Vec<u8>, ErrNo>> {
        let id = self.handle_id(&handle)?;
        let Some(thread) = self.ctx.get(&id) else { return Ok(Err(ESRCH)) };
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

    fn drop_handle(&mut self, handle: Resource<ThreadHandle>) -> wasmtime::Result<()> {
        // Dropping the handle does not stop the thread; `kill` does.
        self.table.delete(handle)?;
        Ok(())
    }
}

/// The host traits of one version's bindings, over the one implementation; `$envs` names
/// `spawn`'s env-var parameter where the version has one.
macro_rules! threads_host {
    ($v:ident $(, $envs:ident)?) => {
        impl From<Metadata> for $v::hayride::silo::types::ThreadMetadata {
            fn from(m: Metadata) -> Self {
                use $v::hayride::silo::types::ThreadStatus;
                let status = match m.state {
                    State::Running => ThreadStatus::Processing,
                    State::Exited { .. } => ThreadStatus::Exited,
                    State::Killed => ThreadStatus::Killed,
                };
                Self { id: m.id, pkg: m.pkg, function: m.function, args: m.args, output: m.output, status }
            }
        }

        impl $v::hayride::silo::threads::Host for ThreadsView<'_> {
            async fn spawn(
                &mut self,
                pkg: String,
                function: String,
                args: Vec<String>,
                $($envs: Vec<(String, String)>,)?
            ) -> wasmtime::Result<Result<Resource<ThreadHandle>, ErrNo>> {
                let envs: Vec<(String, String)> = threads_host!(@envs $($envs)?);
                self.spawn_thread(pkg, function, args, envs)
            }

            async fn status(
                &mut self,
                id: String,
            ) -> wasmtime::Result<Result<$v::hayride::silo::types::ThreadMetadata, ErrNo>> {
                Ok(self.status_of(&id).map(Into::into))
            }

            async fn kill(&mut self, id: String) -> wasmtime::Result<Result<(), ErrNo>> {
                Ok(self.kill_thread(&id))
            }

            async fn group(&mut self) -> wasmtime::Result<Result<Vec<$v::hayride::silo::types::ThreadMetadata>, ErrNo>> {
                Ok(Ok(self.group_of().into_iter().map(Into::into).collect()))
            }
        }

        impl $v::hayride::silo::threads::HostThread for ThreadsView<'_> {
            async fn id(&mut self, handle: Resource<ThreadHandle>) -> wasmtime::Result<Result<String, ErrNo>> {
                Ok(Ok(self.handle_id(&handle)?))
            }

            async fn wait(&mut self, handle: Resource<ThreadHandle>) -> wasmtime::Result<Result<Vec<u8>, ErrNo>> {
                self.wait_for(handle).await
            }

            async fn drop(&mut self, handle: Resource<ThreadHandle>) -> wasmtime::Result<()> {
                self.drop_handle(handle)
            }
        }
    };
    (@envs) => { Vec::new() };
    (@envs $envs:ident) => { $envs };
}

threads_host!(v060);
threads_host!(v065, envs);

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
