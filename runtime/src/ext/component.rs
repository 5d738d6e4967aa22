//! A Morphir extension that is a component (`morphir:ext/extension`): its exports found by
//! interface and checked against the envelope types, each step a typed call.

use std::collections::HashMap;

use wasmtime::component::{Func, Lift, Lower, TypedFunc};

use super::{DesignTime, Envelope, Pair, PROGRAM};
use crate::host::morphir::ExtSettings;
use crate::sandbox::{Prepared, Sandbox, Session};
use crate::RuntimeError;

/// A live component extension: its instance and what a replacement instance needs.
pub(crate) struct LiveComponent {
    prepared: Prepared,
    sandbox: Sandbox,
    live: Session,
    /// The live instance's exports found so far, by function name (each names one interface),
    /// so a step does not look its function up again.
    funcs: HashMap<&'static str, Func>,
}

impl LiveComponent {
    /// Instantiates the extension `prepared`, with `settings` for its `runtime` import.
    pub async fn start(
        sandbox: &Sandbox,
        prepared: &Prepared,
        settings: ExtSettings,
    ) -> Result<LiveComponent, RuntimeError> {
        let live = instantiate(sandbox, prepared, settings).await?;
        Ok(LiveComponent { prepared: prepared.clone(), sandbox: sandbox.clone(), live, funcs: HashMap::new() })
    }

    /// `program.init(flags)`: the first model and commands.
    pub async fn init(&mut self, flags: &Envelope) -> Result<Pair, RuntimeError> {
        let f: TypedFunc<(&Envelope,), (Pair,)> = self.typed(PROGRAM, "init")?;
        self.step(f, (flags,)).await.map(|(r,)| r)
    }

    /// `program.update(msg, model)`: the next model and commands.
    pub async fn update(&mut self, msg: &Envelope, model: &Envelope) -> Result<Pair, RuntimeError> {
        let f: TypedFunc<(&Envelope, &Envelope), (Pair,)> = self.typed(PROGRAM, "update")?;
        self.step(f, (msg, model)).await.map(|(r,)| r)
    }

    /// `program.subscriptions(model)`.
    pub async fn subscriptions(&mut self, model: &Envelope) -> Result<Envelope, RuntimeError> {
        let f: TypedFunc<(&Envelope,), (Envelope,)> = self.typed(PROGRAM, "subscriptions")?;
        self.step(f, (model,)).await.map(|(r,)| r)
    }

    /// `program.get-capabilities()`.
    pub async fn capabilities(&mut self) -> Result<Envelope, RuntimeError> {
        let f: TypedFunc<(), (Envelope,)> = self.typed(PROGRAM, "get-capabilities")?;
        self.step(f, ()).await.map(|(r,)| r)
    }

    /// `design-time-frontend.frontend-compile` or `design-time-backend.backend-generate`.
    pub async fn design_time(&mut self, which: DesignTime, input: &Envelope) -> Result<Envelope, RuntimeError> {
        let f: TypedFunc<(&Envelope,), (Envelope,)> = self.typed(which.interface(), which.function())?;
        self.step(f, (input,)).await.map(|(r,)| r)
    }

    /// After a failed step the instance may be left mid-call; this swaps in a fresh one that
    /// keeps the env vars the extension set.
    pub async fn recover(&mut self) -> Result<(), RuntimeError> {
        let settings = std::mem::take(&mut self.live.store.data_mut().ext);
        self.live = instantiate(&self.sandbox, &self.prepared, settings).await?;
        self.funcs.clear();
        Ok(())
    }

    /// What the extension's `runtime` import sees now: its env vars as set so far.
    pub fn settings(&self) -> &ExtSettings {
        &self.live.store.data().ext
    }

    /// The export `func` of the interface starting with `interface`, checked against the
    /// envelope types: a mismatch says which signature the extension got wrong.
    fn typed<P, R>(&mut self, interface: &'static str, func: &'static str) -> Result<TypedFunc<P, R>, RuntimeError>
    where
        P: wasmtime::component::ComponentNamedList + Lower,
        R: wasmtime::component::ComponentNamedList + Lift,
    {
        let f = match self.funcs.get(func) {
            Some(f) => *f,
            None => {
                let f = self.func(interface, func)?;
                self.funcs.insert(func, f);
                f
            }
        };
        f.typed::<P, R>(&self.live.store)
            .map_err(|e| RuntimeError::ExtensionSignature { function: func, source: e.into() })
    }

    fn func(&mut self, interface: &'static str, func: &'static str) -> Result<Func, RuntimeError> {
        let store = &mut self.live.store;
        let engine = store.engine().clone();
        let name = self
            .prepared
            .component
            .component_type()
            .exports(&engine)
            .map(|(n, _)| n.to_string())
            .find(|n| n.starts_with(interface))
            .ok_or(RuntimeError::NotAnExtension { interface, function: func })?;
        let iface = self.live.instance.get_export_index(&mut *store, None, &name);
        let idx = self
            .live
            .instance
            .get_export_index(&mut *store, iface.as_ref(), func)
            .ok_or_else(|| self.no_such_export(&name, func))?;
        self.live.instance.get_func(&mut self.live.store, idx).ok_or_else(|| self.no_such_export(&name, func))
    }

    fn no_such_export(&self, interface: &str, func: &str) -> RuntimeError {
        let available = self.prepared.exports().iter().map(|f| format!("  {}", f.signature())).collect::<Vec<_>>();
        let available = available.join("\n");
        RuntimeError::NoSuchExport { name: format!("{interface}#{func}"), available }
    }

    /// One call with a fresh `--timeout` and `--fuel`.
    async fn step<P, R>(&mut self, f: TypedFunc<P, R>, params: P) -> Result<R, RuntimeError>
    where
        P: wasmtime::component::ComponentNamedList + Lower + Send + Sync,
        R: wasmtime::component::ComponentNamedList + Lift + Send + Sync + 'static,
    {
        self.live.watch.rearm(&mut self.live.store)?;
        let result = self.live.watch.within(f.call_async(&mut self.live.store, params)).await;
        self.live.watch.disarm_timer();
        result.map_err(|e| self.live.watch.classify(e, false))
    }
}

/// A live instance whose `runtime` import sees `settings`; the timeout covers instantiation,
/// then each step arms its own.
async fn instantiate(sandbox: &Sandbox, prepared: &Prepared, settings: ExtSettings) -> Result<Session, RuntimeError> {
    let argv = std::slice::from_ref(&prepared.name);
    let mut live = sandbox.session(prepared, argv, |data| data.ext = settings).await?;
    live.watch.disarm_timer();
    Ok(live)
}
