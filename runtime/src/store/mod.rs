//! A guest's store: the data its host calls reach (WASI, wasi:http, and the state of each host
//! interface it may import), the linker that joins them to its imports, and the one function
//! that puts the limits on it.

mod configure;
mod http_hooks;
mod limiter;
mod linker;

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use crate::host::ai::{AiCtx, AiView};
use crate::host::app_funcs::AppFuncsCtx;
use crate::host::config::ConfigCtx;
use crate::host::db::{DbCtx, DbView};
use crate::host::morphir::ExtSettings;
use crate::host::plugin::{PluginCtx, PluginView};
use crate::host::process::ProcessCtx;
use crate::host::threads::{MorphRunner, ThreadsCtx, ThreadsView};
use crate::host::wac::{WacCtx, WacView};
use crate::limits::Limits;
use crate::policy::Policy;
use crate::serve::OutputLog;
use crate::RuntimeError;
pub(crate) use configure::{configure_store, Interruption, LimitWatch};
use limiter::MemoryLimiter;
pub(crate) use linker::build_linker;

/// Everything a guest's host calls reach, one per store.
pub(crate) struct StoreData {
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    hooks: Box<dyn WasiHttpHooks>,
    limiter: MemoryLimiter,
    /// A Morphir extension's env vars (`morphir:ext/runtime`).
    pub ext: ExtSettings,
    /// A core-module extension's kernel state (its memory and vars).
    pub(crate) plugin: PluginCtx,
    /// WASI preview 1, for a core module that imports it; `None` for components.
    p1: Option<WasiP1Ctx>,
    config: ConfigCtx,
    /// Calls to other entries of the app (`morph:app/funcs`), set by `morph up`.
    pub(crate) app: AppFuncsCtx,
    process: ProcessCtx,
    threads: ThreadsCtx,
    wac: WacCtx,
    db: DbCtx,
    ai: AiCtx,
}

impl WasiView for StoreData {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for StoreData {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { hooks: &mut *self.hooks, table: &mut self.table, ctx: &mut self.http }
    }
}

impl StoreData {
    /// What the guest sees of the outside: argv, stdio and the grants of `policy`. A morph it
    /// spawns runs under `limits` with `runner`.
    fn new(
        policy: &Policy,
        limits: &Limits,
        argv: &[String],
        runner: Arc<dyn MorphRunner>,
    ) -> Result<StoreData, RuntimeError> {
        Ok(StoreData {
            wasi: wasi_builder(policy, argv)?.build(),
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            hooks: http_hooks::for_policy(policy),
            limiter: MemoryLimiter::default(),
            ext: ExtSettings::default(),
            plugin: PluginCtx::default(),
            p1: None,
            config: ConfigCtx { values: policy.config.clone() },
            app: AppFuncsCtx::default(),
            process: ProcessCtx::default(),
            threads: ThreadsCtx::new(policy.clone(), limits.clone(), runner),
            wac: WacCtx { home: policy.home.clone() },
            db: DbCtx { dirs: policy.dirs.clone(), allow_net: policy.allow_net },
            ai: AiCtx { home: policy.home.clone(), allow_net: policy.allow_net, dirs: policy.dirs.clone() },
        })
    }

    /// Readies the store for a core-module extension: its kernel memory under the
    /// `--max-memory` the store's limiter enforces, its `vars` and, when it imports WASI preview
    /// 1, a preview 1 context with the same grants (`policy`, `argv`) as the component's.
    pub(crate) fn for_plugin(
        &mut self,
        vars: std::collections::HashMap<String, Vec<u8>>,
        wasi_p1: Option<(&Policy, &[String])>,
    ) -> Result<(), RuntimeError> {
        let memory = crate::host::plugin::memory::PluginMemory::limited(self.limiter.max, self.limiter.hit.clone());
        self.plugin = PluginCtx { memory, vars };
        if let Some((policy, argv)) = wasi_p1 {
            self.p1 = Some(wasi_builder(policy, argv)?.build_p1());
        }
        Ok(())
    }

    pub(crate) fn plugin(&mut self) -> PluginView<'_> {
        PluginView { ctx: &mut self.plugin, ext: &mut self.ext }
    }

    /// The preview 1 context; only a store readied by [`StoreData::for_plugin`] for a module
    /// that imports WASI is ever linked to it.
    pub(crate) fn wasi_p1(&mut self) -> &mut WasiP1Ctx {
        self.p1.as_mut().expect("a preview 1 context for a module that imports WASI")
    }

    fn threads(&mut self) -> ThreadsView<'_> {
        ThreadsView { ctx: &self.threads, table: &mut self.table }
    }

    fn wac(&mut self) -> WacView<'_> {
        WacView { ctx: &self.wac, table: &mut self.table }
    }

    fn db(&mut self) -> DbView<'_> {
        DbView { ctx: &self.db, table: &mut self.table }
    }

    fn ai(&mut self) -> AiView<'_> {
        AiView { ctx: &self.ai, table: &mut self.table }
    }
}

/// WASI as `policy` grants it, with `argv`: stdio (or where the policy sends it), env,
/// preopened dirs, the network.
fn wasi_builder(policy: &Policy, argv: &[String]) -> Result<WasiCtxBuilder, RuntimeError> {
    let mut b = WasiCtxBuilder::new();
    b.inherit_stdio().args(argv);
    if let Some(pipe) = &policy.capture_stdout {
        // A spawned morph's stdout is its thread's output.
        b.stdout(pipe.clone());
    }
    if let Some(entry) = &policy.output_to_log {
        b.stdout(OutputLog { entry: entry.clone(), stream: "stdout" });
        b.stderr(OutputLog { entry: entry.clone(), stream: "stderr" });
    }
    if let Some(dir) = &policy.output_dir {
        let open = |name: &str| {
            let path = dir.join(name);
            std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(|source| RuntimeError::Io {
                action: "open",
                path,
                source,
            })
        };
        b.stdout(wasmtime_wasi::cli::OutputFile::new(open("stdout")?));
        b.stderr(wasmtime_wasi::cli::OutputFile::new(open("stderr")?));
    }
    for (k, v) in &policy.env {
        b.env(k, v);
    }
    for d in &policy.dirs {
        let perms = if d.read_only { FsPerms::ReadOnly } else { FsPerms::ReadWrite };
        b.preopened_dir(&d.host, &d.guest, perms)
            .map_err(|e| RuntimeError::DirGrant { host: d.host.clone(), source: e.into() })?;
    }
    if policy.allow_net {
        b.inherit_network().allow_ip_name_lookup(true).allow_tcp(true).allow_udp(true);
    }
    Ok(b)
}
