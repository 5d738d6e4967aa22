//! The one place limits reach a store: `--max-memory` (the limiter), `--fuel`, `--timeout`
//! (epoch deadlines and the wall-clock guard), and the watch that later tells which of them an
//! error hit, in the flag's words.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::{Engine, Store, Trap};

use super::limiter::MemoryLimiter;
use super::StoreData;
use crate::error::LimitHit;
use crate::host::threads::MorphRunner;
use crate::limits::Limits;
use crate::policy::Policy;
use crate::RuntimeError;

/// How a store's guest is stopped in time.
pub(crate) enum Interruption {
    /// A run, a call or a session: the guest traps at `--timeout`, counted from now (a timer
    /// thread ends the epoch); [`LimitWatch::rearm`] starts it again for a session's next step.
    Timeout,
    /// A served instance on an engine whose epoch ticks: the guest yields to the server every
    /// [`SLICE`], and is interrupted at the first tick at which `expired()` says so.
    Served(Box<dyn Fn() -> bool + Send + Sync>),
    /// A spawned morph: as `Served`, on an engine nobody ticks, so `--timeout` ends its epoch
    /// itself (and `kill` does too).
    Spawned(Box<dyn Fn() -> bool + Send + Sync>),
}

/// How long a served guest runs before it lets the server's other work onto its worker thread.
/// A short request runs to completion: yielding it at every epoch tick sent it to the back of
/// the queue behind every request waiting, which with the Python hello (2.3 ms of CPU per
/// request, 32 in flight) raised the p99 latency instead of making anything fairer.
const SLICE: Duration = Duration::from_millis(50);

/// A store for one guest under `policy` and `limits`, its morphs spawned by `runner`, stopped
/// in time as `interruption` says; and the watch that later names the limit an error hit.
pub(crate) fn configure_store(
    engine: &Engine,
    policy: &Policy,
    limits: &Limits,
    argv: &[String],
    runner: Arc<dyn MorphRunner>,
    interruption: Interruption,
) -> Result<(Store<StoreData>, LimitWatch), RuntimeError> {
    let mut data = StoreData::new(policy, limits, argv, runner)?;
    let memory_hit = Arc::new(AtomicBool::new(false));
    data.limiter = MemoryLimiter { max: limits.max_memory, hit: memory_hit.clone() };
    let mut store = Store::new(engine, data);
    store.limiter(|d| &mut d.limiter);
    // An engine that counts fuel traps at once in a store without any.
    if let Some(fuel) = limits.fuel {
        store.set_fuel(fuel).map_err(RuntimeError::internal)?;
    }
    let mut watch = LimitWatch { limits: limits.clone(), memory_hit, stop_timer: None, deadline: None };
    match interruption {
        Interruption::Timeout => {
            if let Some(timeout) = limits.timeout {
                store.epoch_deadline_trap();
                watch.arm_timer(&mut store, timeout);
            }
        }
        Interruption::Served(expired) => slice(&mut store, expired),
        Interruption::Spawned(expired) => {
            slice(&mut store, expired);
            if let Some(timeout) = limits.timeout {
                watch.arm_timer(&mut store, timeout);
            }
        }
    }
    Ok((store, watch))
}

/// At every epoch tick: interrupted once `expired()`, else a yield once the guest has run for
/// a [`SLICE`].
fn slice(store: &mut Store<StoreData>, expired: Box<dyn Fn() -> bool + Send + Sync>) {
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

impl LimitWatch {
    /// A session's next step: fuel refilled, the timeout counted from now.
    pub(crate) fn rearm(&mut self, store: &mut Store<StoreData>) -> Result<(), RuntimeError> {
        if let Some(fuel) = self.limits.fuel {
            store.set_fuel(fuel).map_err(RuntimeError::internal)?;
        }
        if let Some(timeout) = self.limits.timeout {
            self.arm_timer(store, timeout);
        }
        Ok(())
    }

    /// Gives the store one more epoch and ends it after `timeout` (unless disarmed first, or
    /// re-armed for the next step).
    fn arm_timer(&mut self, store: &mut Store<StoreData>, timeout: Duration) {
        self.disarm_timer();
        store.set_epoch_deadline(1);
        let (tx, rx) = mpsc::channel::<()>();
        let engine = store.engine().clone();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(timeout) {
                engine.increment_epoch();
            }
        });
        self.stop_timer = Some(tx);
        self.deadline = Some(tokio::time::Instant::now() + timeout);
    }

    /// Between a session's steps, no time runs against the guest.
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
    pub(crate) fn classify(&self, e: wasmtime::Error, instantiating: bool) -> RuntimeError {
        if let Some(exit) = e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            return RuntimeError::Exit(exit.0);
        }
        if self.memory_hit.load(Ordering::SeqCst) {
            return RuntimeError::Limit(LimitHit::Memory { max: self.limits.max_memory.unwrap_or_default() });
        }
        match e.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => {
                return RuntimeError::Limit(LimitHit::Fuel { fuel: self.limits.fuel.unwrap_or_default() });
            }
            Some(Trap::Interrupt) => {
                return RuntimeError::Limit(LimitHit::Timeout { timeout: self.limits.timeout.unwrap_or_default() });
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
