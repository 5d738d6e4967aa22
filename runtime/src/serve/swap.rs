//! Changing the code a server runs while it serves: the optimized code once it is compiled, a
//! rebuilt version (`--watch`). New requests get the new handlers; requests in flight keep the
//! ones they started with.

use std::sync::Arc;

use super::{request_log, Handlers, Server, Ticker};
use crate::engine::EngineSettings;
use crate::sandbox::{Morph, Sandbox};
use crate::RuntimeError;

impl Server {
    /// New requests run the optimized code once `upgrade` has compiled it.
    pub(crate) fn switch_when_ready(
        self: Arc<Self>,
        upgrade: tokio::task::JoinHandle<Result<crate::sandbox::Prepared, RuntimeError>>,
        ticker: Arc<Ticker>,
    ) {
        tokio::spawn(async move {
            let optimized = match upgrade.await {
                Ok(Ok(p)) => p,
                Ok(Err(e)) => return tracing::warn!("the optimized compile failed ({e}); serving baseline code"),
                Err(e) => return tracing::warn!("the optimized compile stopped ({e}); serving baseline code"),
            };
            match self.replace_code(&optimized, &ticker) {
                Ok(()) => tracing::info!("serving optimized code from now on"),
                Err(e) => tracing::warn!("the optimized code cannot be served ({e}); serving baseline code"),
            }
        });
    }

    /// Serves each version that arrives on `swaps` from then on (see [`Sandbox::serve_swapping`]).
    pub(super) fn swap_on(
        self: Arc<Self>,
        mut swaps: tokio::sync::mpsc::UnboundedReceiver<crate::app::Source>,
        settings: EngineSettings,
        ticker: Arc<Ticker>,
    ) {
        tokio::spawn(async move {
            while let Some(src) = swaps.recv().await {
                let sandbox = Sandbox { optimize_later: None, ..self.sandbox.clone() };
                let digest = src.digest.clone();
                let compiled = tokio::task::spawn_blocking(move || {
                    let name = src.origin.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                    let m = Morph { bytes: &src.bytes, digest: &src.digest, origin: &src.origin, name: &name };
                    sandbox.prepare_with(m, settings)
                })
                .await
                .map_err(RuntimeError::internal)
                .and_then(|r| r);
                match compiled.and_then(|p| self.replace_code(&p, &ticker)) {
                    Ok(()) => request_log::noted("serve", &format!("reloaded, now serving {digest}")),
                    Err(e) => tracing::warn!("the new version cannot be served ({e}); still serving the previous one"),
                }
            }
        });
    }

    /// New requests run `p` (a reload, or optimized code); requests in flight keep the handlers
    /// they started with. Nothing changes when `p` cannot be served.
    pub(crate) fn replace_code(
        self: &Arc<Self>,
        p: &crate::sandbox::Prepared,
        ticker: &Ticker,
    ) -> Result<(), RuntimeError> {
        let handlers = Handlers::of(p, &self.sandbox.policy, self.opts.min_ready)?;
        ticker.add(p.engine.clone());
        self.warm_up(&handlers);
        *self.handlers.write().unwrap_or_else(|e| e.into_inner()) = handlers;
        Ok(())
    }
}
