//! What a served request runs, and swapping it when the optimized code is ready.

use std::sync::Arc;

use wasmtime_wasi_http::p2::bindings::{Proxy, ProxyPre};

use super::warm::{Made, Warm};
use super::websocket::WebsocketExport;
use crate::host::check_grants;
use crate::store::{build_linker, StoreData};
use crate::RuntimeError;

/// What a request runs: the morph's handlers, pre-instantiated for one engine. Replaced once,
/// when the optimized code of a morph that started on baseline code is ready; requests in
/// flight keep the handlers they started with.
#[derive(Clone)]
pub(super) struct Handlers {
    /// The http handler, when the morph exports one.
    pub(super) http: Option<ProxyPre<StoreData>>,
    /// The websocket handler, when the morph exports one.
    pub(super) ws: Option<WebsocketExport>,
    /// http instances of this code made ahead of their requests.
    pub(super) warm: Arc<Warm<Made<Proxy>>>,
}

impl Handlers {
    /// `p`'s handlers under `policy`, keeping `min_ready` http instances made ahead.
    pub(super) fn of(
        p: &crate::sandbox::Prepared,
        policy: &crate::policy::Policy,
        min_ready: usize,
    ) -> Result<Handlers, RuntimeError> {
        check_grants(&p.engine, &p.component, policy)?;
        let linker = build_linker(&p.engine, &p.component).map_err(RuntimeError::internal)?;
        let instance_pre =
            linker.instantiate_pre(&p.component).map_err(|e| RuntimeError::Instantiate { source: e.into() })?;
        let ws = WebsocketExport::find(&p.component, &instance_pre);
        let http = ProxyPre::new(instance_pre).ok();
        if http.is_none() && ws.is_none() {
            return Err(RuntimeError::NothingToServe);
        }
        Ok(Handlers { http, ws, warm: Warm::new(min_ready) })
    }
}
