//! Instances made before the requests that use them (`pool.min` of an app entry). Each is used
//! by one request only, so no request sees another's state; taking one starts making its
//! replacement, so a request finds one ready unless requests come faster than instances are
//! made, and then it makes its own as it would without a warm pool.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::Store;

use crate::store::{LimitWatch, StoreData};
use crate::RuntimeError;

/// When a served instance's time is up, settable after the instance exists: an instance made
/// ahead gets its request's deadline when the request takes it.
#[derive(Clone)]
pub(crate) struct Deadline {
    base: Instant,
    /// Nanoseconds after `base`.
    at: Arc<AtomicU64>,
}

impl Deadline {
    pub(crate) fn after(timeout: Duration) -> Deadline {
        let d = Deadline { base: Instant::now(), at: Arc::new(AtomicU64::new(0)) };
        d.restart(timeout);
        d
    }

    /// The time is up `timeout` from now.
    pub(crate) fn restart(&self, timeout: Duration) {
        let at = self.base.elapsed().saturating_add(timeout);
        self.at.store(u64::try_from(at.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    pub(crate) fn passed(&self) -> bool {
        self.base.elapsed().as_nanos() >= u128::from(self.at.load(Ordering::Relaxed))
    }
}

/// One instance in a store of its own, made for one request or ahead of it: what was
/// instantiated, the watch that names a limit it hits, and the deadline its request moves.
pub(crate) struct Made<I> {
    pub(crate) store: Store<StoreData>,
    pub(crate) instance: I,
    pub(crate) watch: LimitWatch,
    pub(crate) deadline: Deadline,
}

impl<I> Made<I> {
    /// An instance made ahead, its request's time starting now: the deadline `timeout` away and
    /// `fuel`, what a fresh one would have had.
    pub(crate) fn start(mut self, timeout: Duration, fuel: Option<u64>) -> Result<Self, RuntimeError> {
        self.deadline.restart(timeout);
        if let Some(fuel) = fuel {
            self.store.set_fuel(fuel).map_err(RuntimeError::internal)?;
        }
        Ok(self)
    }
}

/// Up to `min` instances ready to take.
pub(crate) struct Warm<T> {
    min: usize,
    ready: Mutex<Vec<T>>,
    /// A task is making instances now.
    filling: AtomicBool,
    /// Making one failed: no more are made ahead (each request makes its own and reports why).
    broken: AtomicBool,
}

impl<T: Send + 'static> Warm<T> {
    pub(crate) fn new(min: usize) -> Arc<Warm<T>> {
        Arc::new(Warm {
            min,
            ready: Mutex::new(Vec::with_capacity(min)),
            filling: AtomicBool::new(false),
            broken: AtomicBool::new(false),
        })
    }

    /// A ready instance, if there is one.
    pub(crate) fn take(&self) -> Option<T> {
        self.ready.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    /// Instances ready now.
    pub(crate) fn ready(&self) -> usize {
        self.ready.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Makes instances with `make`, one at a time on a task of its own, until `min` are ready;
    /// nothing when a task is at it already. `name` says whose they are in the log.
    pub(crate) fn fill<F, Fut>(self: &Arc<Self>, name: String, make: F)
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, RuntimeError>> + Send,
    {
        if self.min == 0 || self.broken.load(Ordering::Relaxed) || self.filling.swap(true, Ordering::AcqRel) {
            return;
        }
        let warm = self.clone();
        tokio::spawn(async move {
            while warm.ready() < warm.min {
                match make().await {
                    Ok(instance) => warm.ready.lock().unwrap_or_else(|e| e.into_inner()).push(instance),
                    Err(e) => {
                        warm.broken.store(true, Ordering::Relaxed);
                        tracing::warn!("{name}: no instances are made ahead: {e}");
                        break;
                    }
                }
            }
            warm.filling.store(false, Ordering::Release);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fills_to_min_and_refills_after_a_take() {
        let warm = Warm::<u32>::new(3);
        let made = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let make = {
            let made = made.clone();
            move || {
                let n = made.fetch_add(1, Ordering::SeqCst);
                async move { Ok(n) }
            }
        };
        warm.fill("t".into(), make.clone());
        while warm.ready() < 3 {
            tokio::task::yield_now().await;
        }
        assert!(warm.take().is_some());
        warm.fill("t".into(), make);
        while warm.ready() < 3 {
            tokio::task::yield_now().await;
        }
        assert_eq!(made.load(Ordering::SeqCst), 4, "one more made for the one taken");
    }

    #[tokio::test]
    async fn a_failure_stops_making_ahead() {
        let warm = Warm::<u32>::new(2);
        warm.fill("t".into(), || async { Err(RuntimeError::internal("no")) });
        while warm.filling.load(Ordering::Acquire) {
            tokio::task::yield_now().await;
        }
        assert!(warm.take().is_none() && warm.broken.load(Ordering::Relaxed));
    }

    #[test]
    fn a_deadline_moves_when_restarted() {
        let d = Deadline::after(Duration::ZERO);
        assert!(d.passed());
        d.restart(Duration::from_secs(60));
        assert!(!d.passed());
    }
}
