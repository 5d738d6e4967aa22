//! Running a prepared component: stores with limits, the command entry point, and turning
//! wasmtime's errors into what a user can act on.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{Component, Instance, Linker};
use wasmtime::{Engine, Store, Trap};

use crate::cache::{CacheOutcome, CodeCache};
use crate::engine::{build_engine, EngineSettings};
use crate::host::{build_host, build_linker, Host};
use crate::limits::{format_size, Limits};
use crate::policy::Policy;
use crate::pool::MemoryReset;
use crate::RuntimeError;

/// A component compiled (or loaded from the cache) for an engine that fits the limits.
pub struct Prepared {
    pub(crate) engine: Engine,
    pub(crate) component: Component,
    pub cache: CacheOutcome,
}

/// Compiles `wasm` (or maps it from the cache under `home`) for a run with `limits`. `origin`
/// (the file or reference the user named) names it in errors.
pub fn prepare(
    wasm: &[u8],
    digest: &str,
    origin: &Path,
    limits: &Limits,
    home: Option<&Path>,
) -> Result<Prepared, RuntimeError> {
    prepare_with(wasm, digest, origin, EngineSettings::for_limits(limits), home)
}

/// Compiles `wasm` for serving: the pooling allocator (an instance per request) and epoch
/// interruption (a deadline per request) always; fuel when `limits` asks for it. The pool resets
/// memory the way that suits this guest (see [`MemoryReset::for_guest`]).
pub fn prepare_for_serving(
    wasm: &[u8],
    digest: &str,
    origin: &Path,
    limits: &Limits,
    home: Option<&Path>,
) -> Result<Prepared, RuntimeError> {
    let settings =
        EngineSettings { fuel: limits.fuel.is_some(), epoch: true, pool: Some(MemoryReset::for_guest(wasm)) };
    prepare_with(wasm, digest, origin, settings, home)
}

pub(crate) fn prepare_with(
    wasm: &[u8],
    digest: &str,
    origin: &Path,
    settings: EngineSettings,
    home: Option<&Path>,
) -> Result<Prepared, RuntimeError> {
    let engine = build_engine(settings).map_err(RuntimeError::internal)?;
    let (component, cache) = CodeCache::new(home).load(&engine, wasm, digest).map_err(|e| {
        // Bytes that are not a valid component are told in the words `validate` uses, naming
        // the input; a valid one the engine cannot compile keeps the engine's reason.
        match morph_contract::component::check_component_bytes(origin, wasm) {
            Err(invalid) => RuntimeError::Contract(invalid),
            Ok(()) => RuntimeError::Compile { origin: origin.to_path_buf(), source: e.into() },
        }
    })?;
    Ok(Prepared { engine, component, cache })
}

/// One instantiation's store and instance.
pub(crate) struct Session {
    pub store: Store<Host>,
    pub instance: Instance,
    pub watch: LimitWatch,
}

/// What is needed to tell, after an error, which limit was hit; stops the timeout timer when
/// dropped.
pub(crate) struct LimitWatch {
    limits: Limits,
    memory_hit: Arc<AtomicBool>,
    stop_timer: Option<mpsc::Sender<()>>,
    /// When the armed timeout ends: the epoch interrupts running wasm code, this ends a guest
    /// waiting in a host call (a sleep, stdin, a socket), which never reaches an epoch check.
    deadline: Option<tokio::time::Instant>,
}

impl Session {
    /// Instantiates with the whole of `limits.timeout` for the session (a run or a call).
    pub async fn start(
        p: &Prepared,
        policy: &Policy,
        limits: &Limits,
        argv: &[String],
    ) -> Result<Session, RuntimeError> {
        Session::start_with(p, policy, limits, argv, |_| {}).await
    }

    /// [`Session::start`], with `setup` giving the host state what this kind of guest needs
    /// before it is instantiated.
    pub async fn start_with(
        p: &Prepared,
        policy: &Policy,
        limits: &Limits,
        argv: &[String],
        setup: impl FnOnce(&mut Host),
    ) -> Result<Session, RuntimeError> {
        let (mut store, mut watch) = sandboxed_store(&p.engine, policy, argv, limits)?;
        setup(store.data_mut());
        if let Some(timeout) = limits.timeout {
            store.epoch_deadline_trap();
            watch.arm_timer(&mut store, &p.engine, timeout);
        }
        Session::instantiate(p, store, watch).await
    }

    /// Instantiates the component in `store`; an error is named by `watch`.
    pub async fn instantiate(p: &Prepared, mut store: Store<Host>, watch: LimitWatch) -> Result<Session, RuntimeError> {
        crate::hayride::check_grants(&p.engine, &p.component, &store.data().hayride.policy)?;
        let linker: Linker<Host> = build_linker(&p.engine, &p.component).map_err(RuntimeError::internal)?;
        match watch.within(linker.instantiate_async(&mut store, &p.component)).await {
            Ok(instance) => Ok(Session { store, instance, watch }),
            Err(e) => Err(watch.classify(e, true)),
        }
    }
}

/// A store under `policy` and `limits` and the watch that later names the limit an error hit;
/// the caller sets the deadline.
fn sandboxed_store(
    engine: &Engine,
    policy: &Policy,
    argv: &[String],
    limits: &Limits,
) -> Result<(Store<Host>, LimitWatch), RuntimeError> {
    let memory_hit = Arc::new(AtomicBool::new(false));
    let host = build_host(policy, argv, limits, memory_hit.clone()).map_err(RuntimeError::Input)?;
    let store = limited_store(engine, host, limits)?;
    Ok((store, LimitWatch::new(limits.clone(), memory_hit)))
}

/// A store for one instance: its memory limiter and, with `--fuel`, its fuel (an engine that
/// counts fuel traps at once in a store without any). The caller sets the deadline.
pub(crate) fn limited_store(engine: &Engine, host: Host, limits: &Limits) -> Result<Store<Host>, RuntimeError> {
    let mut store = Store::new(engine, host);
    store.limiter(|h| &mut h.limiter);
    if let Some(fuel) = limits.fuel {
        store.set_fuel(fuel).map_err(RuntimeError::internal)?;
    }
    Ok(store)
}

/// How long a served guest runs before it lets the server's other work onto its worker thread.
/// A short request runs to completion: yielding it at every epoch tick sent it to the back of
/// the queue behind every request waiting, which with the Python hello (2.3 ms of CPU per
/// request, 32 in flight) raised the p99 latency instead of making anything fairer.
const SLICE: Duration = Duration::from_millis(50);

/// A store for one served instance (a request or a websocket connection), under `policy` and
/// `limits`: a guest that has been running for [`SLICE`] yields to the server at the next epoch
/// tick, so one spinning guest never holds a worker thread the others need; at every tick,
/// once `expired()` says so, it is interrupted. Returns the watch that later names the limit
/// an error hit.
pub(crate) fn serving_store(
    engine: &Engine,
    policy: &Policy,
    argv: &[String],
    limits: &Limits,
    expired: impl Fn() -> bool + Send + Sync + 'static,
) -> Result<(Store<Host>, LimitWatch), RuntimeError> {
    let (mut store, watch) = sandboxed_store(engine, policy, argv, limits)?;
    store.set_epoch_deadline(1);
    let mut running_since = Instant::now();
    store.epoch_deadline_callback(move |_| {
        if expired() {
            return Err(Trap::Interrupt.into());
        }
        let now = Instant::now();
        if now.duration_since(running_since) < SLICE {
            return Ok(wasmtime::UpdateDeadline::Continue(1));
        }
        running_since = now;
        Ok(wasmtime::UpdateDeadline::Yield(1))
    });
    Ok((store, watch))
}

impl LimitWatch {
    /// A watch with no timer of its own (the caller enforces the timeout).
    pub(crate) fn new(limits: Limits, memory_hit: Arc<AtomicBool>) -> LimitWatch {
        LimitWatch { limits, memory_hit, stop_timer: None, deadline: None }
    }

    /// Gives the store one more epoch and ends it after `timeout` (unless disarmed first, or
    /// re-armed for the next step).
    pub(crate) fn arm_timer(&mut self, store: &mut Store<Host>, engine: &Engine, timeout: Duration) {
        self.disarm_timer();
        store.set_epoch_deadline(1);
        let (tx, rx) = mpsc::channel::<()>();
        let engine = engine.clone();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(timeout) {
                engine.increment_epoch();
            }
        });
        self.stop_timer = Some(tx);
        self.deadline = Some(tokio::time::Instant::now() + timeout);
    }

    pub(crate) fn disarm_timer(&mut self) {
        self.deadline = None;
        if let Some(tx) = self.stop_timer.take() {
            let _ = tx.send(());
        }
    }

    /// Awaits a call into the guest, but no longer than the armed timeout: past it the call is
    /// dropped, wherever the guest is, and the result is the interrupt the epoch would give.
    pub(crate) async fn within<T>(
        &self,
        call: impl std::future::Future<Output = wasmtime::Result<T>>,
    ) -> wasmtime::Result<T> {
        match self.deadline {
            None => call.await,
            Some(at) => tokio::time::timeout_at(at, call).await.unwrap_or_else(|_| Err(Trap::Interrupt.into())),
        }
    }

    /// What went wrong, in the user's terms: the guest's exit code, a limit by its flag, a
    /// missing import, or a trap with its backtrace.
    pub fn classify(&self, e: wasmtime::Error, instantiating: bool) -> RuntimeError {
        if let Some(exit) = e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            return RuntimeError::Exit(exit.0);
        }
        if self.memory_hit.load(Ordering::SeqCst) {
            let max = self.limits.max_memory.map(format_size).unwrap_or_default();
            return RuntimeError::Limit(format!("the morph needed more memory than --max-memory {max} allows"));
        }
        match e.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => {
                let fuel = self.limits.fuel.unwrap_or_default();
                return RuntimeError::Limit(format!("the morph ran out of fuel (--fuel {fuel})"));
            }
            Some(Trap::Interrupt) => {
                let t = self.limits.timeout.map(|d| format!("{d:?}")).unwrap_or_default();
                return RuntimeError::Limit(format!("the morph ran longer than --timeout {t} and was stopped"));
            }
            _ => {}
        }
        if instantiating {
            return RuntimeError::Instantiate { source: e.into() };
        }
        // The trap itself, then the guest's backtrace with function names; the host's own
        // stack is noise to a morph author.
        let mut text = e.root_cause().to_string();
        if let Some(bt) = e.downcast_ref::<wasmtime::WasmBacktrace>() {
            text.push('\n');
            text.push_str(bt.to_string().trim_end());
        }
        RuntimeError::Trap(text)
    }
}

impl Drop for LimitWatch {
    fn drop(&mut self) {
        self.disarm_timer();
    }
}

/// Runs a command component's `wasi:cli/run` and gives its exit code.
pub async fn run_command(p: &Prepared, policy: &Policy, limits: &Limits, argv: &[String]) -> Result<i32, RuntimeError> {
    let mut session = Session::start(p, policy, limits, argv).await?;
    run_in(&mut session).await
}

/// `wasi:cli/run` of an instantiated session.
pub(crate) async fn run_in(session: &mut Session) -> Result<i32, RuntimeError> {
    let command = match wasmtime_wasi::p2::bindings::Command::new(&mut session.store, &session.instance) {
        Ok(c) => c,
        Err(_) => return Err(RuntimeError::NotACommand),
    };
    match session.watch.within(command.wasi_cli_run().call_run(&mut session.store)).await {
        Ok(Ok(())) => Ok(0),
        Ok(Err(())) => Ok(1),
        Err(e) => match session.watch.classify(e, false) {
            RuntimeError::Exit(code) => Ok(code),
            other => Err(other),
        },
    }
}
