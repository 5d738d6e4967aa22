//! A process entry: a command (`wasi:cli/run`) started with the app and supervised: when it
//! fails (a non-zero exit, a trap, a limit) it is started again after a pause that doubles from
//! one second up to thirty, and starts from one second again after a run that lasted a minute;
//! a clean exit (0) ends it. At shutdown it is interrupted; on a reload to a new version it is
//! interrupted and the new version started. Its stdout and stderr lines go to the request log
//! under the entry's name.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::sandbox::{Prepared, Sandbox, Session};
use crate::serve::Ticker;
use crate::RuntimeError;

const FIRST_PAUSE: Duration = Duration::from_secs(1);
const LONGEST_PAUSE: Duration = Duration::from_secs(30);
/// A run this long counts as healthy: the next failure pauses only [`FIRST_PAUSE`].
const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// A process entry: the version it runs, and how far it is.
pub(super) struct ProcessEntry {
    name: String,
    sandbox: Sandbox,
    args: Vec<String>,
    ticker: Arc<Ticker>,
    state: Mutex<State>,
}

enum State {
    /// Built, to be started once the app listens.
    Waiting(Prepared),
    Running(Supervisor),
    Stopped,
}

/// One version's supervising task, and how to stop it.
struct Supervisor {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ProcessEntry {
    /// The entry for `p`, its command started by [`ProcessEntry::start`].
    pub(super) fn new(name: String, sandbox: Sandbox, args: Vec<String>, p: Prepared, ticker: Arc<Ticker>) -> Self {
        ProcessEntry { name, sandbox, args, ticker, state: Mutex::new(State::Waiting(p)) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the command (once the app listens, so a process may call it); nothing when a
    /// reload or a stop came first.
    pub(super) fn start(&self) {
        let mut state = self.state();
        *state = match std::mem::replace(&mut *state, State::Stopped) {
            State::Waiting(p) => State::Running(self.supervisor(p)),
            other => other,
        };
    }

    fn supervisor(&self, p: Prepared) -> Supervisor {
        let (stop, stopped) = watch::channel(false);
        self.ticker.add(p.engine.clone());
        let task = tokio::spawn(supervise(self.name.clone(), self.sandbox.clone(), p, self.args.clone(), stopped));
        Supervisor { stop, task }
    }

    /// Stops the version running now (interrupted, as at shutdown) and starts `p`.
    pub(super) async fn replace_code(&self, p: Prepared) {
        self.stop().await;
        *self.state() = State::Running(self.supervisor(p));
    }

    /// Interrupts the command and waits for its supervisor to end.
    pub(super) async fn stop(&self) {
        let current = std::mem::replace(&mut *self.state(), State::Stopped);
        if let State::Running(s) = current {
            let _ = s.stop.send(true);
            let _ = s.task.await;
        }
    }
}

/// Runs the entry's command until it exits cleanly or `stop` turns true.
async fn supervise(
    name: String,
    sandbox: Sandbox,
    prepared: Prepared,
    args: Vec<String>,
    mut stop: watch::Receiver<bool>,
) {
    let mut argv = vec![prepared.name.clone()];
    argv.extend(args);
    // Its output is the log's, each line under the entry's name.
    let mut sandbox = sandbox;
    sandbox.policy.output_to_log = Some(name.as_str().into());
    let mut pause = FIRST_PAUSE;
    loop {
        let started = Instant::now();
        let stopping = Arc::new(AtomicBool::new(false));
        let outcome = tokio::select! {
            outcome = run_once(&sandbox, &prepared, &argv, stopping.clone()) => outcome,
            _ = stop.changed() => {
                // The guest is interrupted at the next epoch tick; a guest waiting in a host
                // call is dropped with this future.
                stopping.store(true, Ordering::SeqCst);
                tracing::info!("process `{name}` stopped");
                return;
            }
        };
        match outcome {
            Ok(0) => return tracing::info!("process `{name}` exited with code 0; it is not restarted"),
            Ok(code) => tracing::warn!("process `{name}` exited with code {code}; restarting in {pause:?}"),
            Err(e) => tracing::warn!(
                "process `{name}` failed: {}; restarting in {pause:?}",
                morph_registry_client::error_chain(&e)
            ),
        }
        if started.elapsed() >= HEALTHY_RUN {
            pause = FIRST_PAUSE;
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => return,
        }
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

/// One run of the command, interrupted once `stopping` turns true (the app ticks the epoch).
async fn run_once(
    sandbox: &Sandbox,
    p: &Prepared,
    argv: &[String],
    stopping: Arc<AtomicBool>,
) -> Result<i32, RuntimeError> {
    // The entry's timeout, when it sets one, bounds each run.
    let deadline = sandbox.limits.timeout.map(|t| Instant::now() + t);
    let expired = move || stopping.load(Ordering::SeqCst) || deadline.is_some_and(|d| Instant::now() >= d);
    let (store, watch) = sandbox.served_store(&p.engine, argv, expired)?;
    let mut session = Session::instantiate(p, &sandbox.policy, store, watch).await?;
    session.run().await
}
