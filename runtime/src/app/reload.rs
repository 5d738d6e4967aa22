//! Reloading an app's entries: on SIGHUP all of them, with `--watch` the one whose source
//! changed. A changed version is compiled and swapped in; requests in flight finish on the old,
//! a process entry's command is stopped and the new one started.

use std::path::PathBuf;
use std::sync::Arc;

use super::{prepare, App, Running};
use crate::RuntimeError;

/// An entry's source loaded again, for a reload.
pub struct Source {
    pub bytes: Arc<[u8]>,
    /// `sha256:<hex>`.
    pub digest: String,
    pub origin: PathBuf,
}

/// Loads the named entry's source again (its pin checked); the error says why it cannot.
pub type Loader = Arc<dyn Fn(&str) -> Result<Source, String> + Send + Sync>;

/// Which entries to load again: on SIGHUP all of them, with `--watch` the one whose file changed.
#[derive(Debug, Clone)]
pub enum Reload {
    All,
    Entry(String),
}

/// Where reloads come from, and how an entry's source is loaded again.
pub struct Reloads {
    pub loader: Loader,
    pub requests: tokio::sync::mpsc::UnboundedReceiver<Reload>,
}

impl App {
    /// Reloads entries as asked until the app stops.
    pub(super) async fn reload_on(self: Arc<Self>, mut reloads: Reloads) {
        while let Some(reload) = reloads.requests.recv().await {
            for i in 0..self.entries.len() {
                if matches!(&reload, Reload::Entry(name) if *name != self.entries[i].name) {
                    continue;
                }
                self.reload(i, &reloads.loader).await;
            }
        }
    }

    /// Loads entry `i` again and, when it changed, compiles and swaps it in: requests in flight
    /// finish on the old version, new ones get the new. A version that cannot be loaded,
    /// compiled or served leaves the old one serving, and the log says why.
    async fn reload(&self, i: usize, loader: &Loader) {
        let e = &self.entries[i];
        let (name, loader) = (e.name.clone(), loader.clone());
        let loaded = tokio::task::spawn_blocking(move || loader(&name)).await.map_err(|e| e.to_string());
        let source = match loaded.and_then(|source| source) {
            Ok(source) => source,
            Err(why) => {
                return tracing::warn!("entry `{}`: cannot reload ({why}); still serving the previous version", e.name)
            }
        };
        if *e.digest.lock().unwrap_or_else(|p| p.into_inner()) == source.digest {
            return tracing::info!("entry `{}`: unchanged", e.name);
        }
        let served = matches!(e.running, Running::Http { .. });
        let (sandbox, name, digest) = (e.sandbox.clone(), e.name.clone(), source.digest.clone());
        let compiled = tokio::task::spawn_blocking(move || prepare(&sandbox, &name, &source, served)).await;
        let swapped = match compiled {
            Ok(Ok(p)) => match &e.running {
                Running::Http { server, .. } => server.replace_code(&p, &self.ticker),
                Running::Function(f) => f.replace_code(p),
                // The command is interrupted and the new version started.
                Running::Process(process) => {
                    process.replace_code(p).await;
                    Ok(())
                }
            },
            Ok(Err(why)) => Err(why),
            Err(why) => Err(RuntimeError::internal(why)),
        };
        match swapped {
            Ok(()) => {
                crate::serve::noted(&e.name, &format!("reloaded, now serving {digest}"));
                *e.digest.lock().unwrap_or_else(|p| p.into_inner()) = digest;
            }
            Err(why) => tracing::warn!(
                "entry `{}`: the new version cannot be served ({}); still serving the previous version",
                e.name,
                morph_registry_client::error_chain(&why)
            ),
        }
    }
}
