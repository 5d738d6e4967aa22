//! A Morphir extension that is a core module (`wasm32-unknown-unknown`, the Extism plug-in ABI)
//! hosted on morph's own engine: the module compiled (and cached) like a component, its imports
//! checked against the contract's table before anything runs, and each step one call of an
//! exported `() -> i32` function with the envelope as its input bytes (`envelope_json`). The
//! sandbox is the component's: the same store, limits per step, WASI preview 1 only as granted.

use std::collections::HashMap;
use std::sync::Arc;

use morph_contract::plugin::{export_for, PluginInfo, WASI_P1};
use wasmtime::{Engine, Instance, InstancePre, Linker, Module, Store, TypedFunc};

use super::envelope_json as codec;
use super::{DesignTime, Envelope, Pair};
use crate::engine::cache::{CacheOutcome, CodeCache};
use crate::engine::{build_engine, EngineSettings, Tier};
use crate::host::morphir::ExtSettings;
use crate::sandbox::{Morph, Sandbox};
use crate::store::{configure_store, Interruption, LimitWatch, StoreData};
use crate::RuntimeError;

/// A core-module extension compiled for an engine that fits the limits, linked and ready to
/// instantiate. A clone shares the code.
#[derive(Clone)]
pub struct PreparedPlugin {
    engine: Engine,
    pre: InstancePre<StoreData>,
    name: String,
    exports: Arc<[String]>,
    /// Whether it imports WASI preview 1 (the Go and JS PDKs' modules do).
    wasi_p1: bool,
    pub cache: CacheOutcome,
}

impl Sandbox {
    /// Compiles the core module `morph` (or maps it from the cache) as an extension, once every
    /// import is one morph provides; an import that is not is refused here, before it runs.
    pub fn prepare_plugin(&self, morph: Morph<'_>) -> Result<PreparedPlugin, RuntimeError> {
        let info = PluginInfo::read(morph.origin, morph.bytes)?;
        let unprovided: Vec<String> = info
            .unprovided()
            .map(|i| format!("{}#{}: {}", i.module, i.name, i.problem.as_deref().unwrap_or_default()))
            .collect();
        if !unprovided.is_empty() {
            return Err(RuntimeError::PluginImports { origin: morph.origin.to_path_buf(), imports: unprovided });
        }
        let settings = EngineSettings::for_limits(&self.limits).at(Tier::Optimized);
        let engine = build_engine(settings).map_err(RuntimeError::internal)?;
        let notice = self.notice.as_ref();
        let compiling = || notice.map(|n| n(morph.name, morph.bytes.len()));
        let (module, cache) = CodeCache::new(self.cache.as_deref())
            .load::<Module, _>(&engine, morph.bytes, morph.digest, compiling)
            .map_err(|e| RuntimeError::Compile { origin: morph.origin.to_path_buf(), source: e.into() })?;
        let wasi_p1 = info.imports.iter().any(|i| i.module == WASI_P1);
        let mut linker: Linker<StoreData> = Linker::new(&engine);
        crate::host::plugin::add_to_linker(&mut linker, StoreData::plugin).map_err(RuntimeError::internal)?;
        if wasi_p1 {
            wasmtime_wasi::p1::add_to_linker_async(&mut linker, StoreData::wasi_p1).map_err(RuntimeError::internal)?;
        }
        let pre = linker.instantiate_pre(&module).map_err(|e| RuntimeError::Instantiate { source: e.into() })?;
        tracing::info!("{}: core-module extension, cache {cache:?}", morph.name);
        Ok(PreparedPlugin { engine, pre, name: morph.name.to_string(), exports: info.exports.into(), wasi_p1, cache })
    }
}

/// A live instance of a core-module extension.
pub(crate) struct LivePlugin {
    prepared: PreparedPlugin,
    store: Store<StoreData>,
    instance: Instance,
    watch: LimitWatch,
    funcs: HashMap<&'static str, TypedFunc<(), i32>>,
}

impl LivePlugin {
    /// An instance whose `runtime` functions see `settings` and whose vars are `vars`; its
    /// `_initialize` (a WASI reactor's) runs first, within the timeout.
    pub async fn start(
        sandbox: &Sandbox,
        prepared: &PreparedPlugin,
        settings: ExtSettings,
        vars: HashMap<String, Vec<u8>>,
    ) -> Result<LivePlugin, RuntimeError> {
        let argv = std::slice::from_ref(&prepared.name);
        let (mut store, mut watch) = configure_store(
            &prepared.engine,
            &sandbox.policy,
            &sandbox.limits,
            argv,
            sandbox.runner(),
            Interruption::Timeout,
        )?;
        store.data_mut().ext = settings;
        let p1 = prepared.wasi_p1.then_some((&sandbox.policy, argv));
        store.data_mut().for_plugin(vars, p1)?;
        let instance = match watch.within(prepared.pre.instantiate_async(&mut store)).await {
            Ok(i) => i,
            Err(e) => return Err(watch.classify(e, true)),
        };
        if let Ok(init) = instance.get_typed_func::<(), ()>(&mut store, "_initialize") {
            watch.within(init.call_async(&mut store, ())).await.map_err(|e| watch.classify(e, false))?;
        }
        watch.disarm_timer();
        Ok(LivePlugin { prepared: prepared.clone(), store, instance, watch, funcs: HashMap::new() })
    }

    pub async fn init(&mut self, flags: &Envelope) -> Result<Pair, RuntimeError> {
        self.step("init", codec::encode(flags), codec::decode_pair).await
    }

    pub async fn update(&mut self, msg: &Envelope, model: &Envelope) -> Result<Pair, RuntimeError> {
        self.step("update", codec::encode_update(msg, model), codec::decode_pair).await
    }

    pub async fn subscriptions(&mut self, model: &Envelope) -> Result<Envelope, RuntimeError> {
        self.step("subscriptions", codec::encode(model), codec::decode).await
    }

    pub async fn capabilities(&mut self) -> Result<Envelope, RuntimeError> {
        self.step("get-capabilities", Vec::new(), codec::decode).await
    }

    pub async fn design_time(&mut self, which: DesignTime, input: &Envelope) -> Result<Envelope, RuntimeError> {
        self.step(which.function(), codec::encode(input), codec::decode).await
    }

    /// A fresh instance after a failed step, keeping the env vars and the vars set so far.
    pub async fn recover(&mut self, sandbox: &Sandbox) -> Result<(), RuntimeError> {
        let data = self.store.data_mut();
        let settings = std::mem::take(&mut data.ext);
        let vars = std::mem::take(&mut data.plugin.vars);
        *self = LivePlugin::start(sandbox, &self.prepared.clone(), settings, vars).await?;
        Ok(())
    }

    pub fn settings(&self) -> &ExtSettings {
        &self.store.data().ext
    }

    /// Calls the extension function `function` with `input` as its input bytes, under a fresh
    /// `--timeout` and `--fuel`; its output read by `decode`. An error names the export.
    async fn step<R>(
        &mut self,
        function: &'static str,
        input: Vec<u8>,
        decode: fn(&[u8]) -> Result<R, String>,
    ) -> Result<R, RuntimeError> {
        let f = self.func(function)?;
        self.store.data_mut().plugin.memory.start_call(&input).map_err(|e| self.watch.classify(e, false))?;
        self.watch.rearm(&mut self.store)?;
        let result = self.watch.within(f.call_async(&mut self.store, ())).await;
        self.watch.disarm_timer();
        let code = result.map_err(|e| self.watch.classify(e, false))?;
        let (output, error) = self.store.data().plugin.memory.finish_call();
        if code != 0 {
            return Err(RuntimeError::PluginFailed { export: self.export(function), code, message: error });
        }
        decode(&output).map_err(|reason| RuntimeError::BadEnvelope {
            export: self.export(function),
            len: output.len(),
            reason,
            preview: codec::preview(&output),
        })
    }

    /// The export for `function` (`frontend-compile` or `frontend_compile`), checked to be a
    /// plug-in function once.
    fn func(&mut self, function: &'static str) -> Result<TypedFunc<(), i32>, RuntimeError> {
        if let Some(f) = self.funcs.get(function) {
            return Ok(f.clone());
        }
        let Some(name) = export_for(&self.prepared.exports, function) else {
            let available = self.prepared.exports.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n");
            return Err(RuntimeError::NoSuchExport { name: function.to_string(), available });
        };
        let f = self
            .instance
            .get_typed_func::<(), i32>(&mut self.store, name)
            .map_err(|_| RuntimeError::PluginSignature { export: name.to_string() })?;
        self.funcs.insert(function, f.clone());
        Ok(f)
    }

    /// The name the module exports `function` under (for an error: it has been called).
    fn export(&self, function: &str) -> String {
        export_for(&self.prepared.exports, function).unwrap_or(function).to_string()
    }
}
