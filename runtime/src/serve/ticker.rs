//! The epoch ticker that puts every served request's deadline within reach: one thread that
//! advances the epoch of every engine a request may run on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::Engine;

/// How often the epoch advances: the granularity of `--timeout`.
pub(crate) const TICK: Duration = Duration::from_millis(10);

pub(crate) struct Ticker {
    engines: Arc<Mutex<Vec<Engine>>>,
    ticking: Arc<AtomicBool>,
}

impl Ticker {
    pub(crate) fn start(engines: Vec<Engine>) -> Ticker {
        let engines = Arc::new(Mutex::new(engines));
        let ticking = Arc::new(AtomicBool::new(true));
        let (e, t) = (engines.clone(), ticking.clone());
        std::thread::spawn(move || {
            while t.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                for engine in e.lock().unwrap_or_else(|p| p.into_inner()).iter() {
                    engine.increment_epoch();
                }
            }
        });
        Ticker { engines, ticking }
    }

    /// Another engine (optimized code that replaced baseline code) to tick.
    pub(crate) fn add(&self, engine: Engine) {
        self.engines.lock().unwrap_or_else(|p| p.into_inner()).push(engine);
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.ticking.store(false, Ordering::Relaxed);
    }
}
