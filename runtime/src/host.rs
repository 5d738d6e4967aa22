//! The store's host state and the linker: WASI 0.2 and wasi:http, shaped by the policy.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use wasmtime::component::{types::ComponentItem, Component, Linker, ResourceTable};
use wasmtime::{Engine, ResourceLimiter};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use crate::limits::Limits;
use crate::policy::Policy;

/// Everything a guest's host calls reach.
pub struct Host {
    wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    http: WasiHttpCtx,
    hooks: Box<dyn WasiHttpHooks>,
    pub(crate) limiter: MemoryLimiter,
    /// A Morphir extension's env vars (`morphir:ext/runtime`).
    pub(crate) ext_settings: crate::morphir_host::ExtSettings,
    /// What the Hayride host interfaces need: the grants, the threads and processes started.
    pub(crate) hayride: crate::hayride::HayrideState,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for Host {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { hooks: &mut *self.hooks, table: &mut self.table, ctx: &mut self.http }
    }
}

/// Outgoing HTTP with `--allow-net`: wasmtime-wasi-http's own sender, unchanged.
struct AllowRequests;

impl WasiHttpHooks for AllowRequests {}

/// Outgoing HTTP without `--allow-net`: the guest gets `HTTP-request-denied`, the error
/// wasi:http defines for this.
struct DenyRequests;

impl WasiHttpHooks for DenyRequests {
    fn send_request(
        &mut self,
        _request: http::Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn std::future::Future<
                Output = wasmtime_wasi_http::Result<(
                    http::Response<wasmtime_wasi_http::WasiBody>,
                    Box<dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                )>,
            > + Send,
    > {
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}

/// Caps linear memory; records that the cap was hit so the error can name `--max-memory`.
pub(crate) struct MemoryLimiter {
    pub max: Option<usize>,
    pub hit: Arc<AtomicBool>,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if let Some(max) = self.max {
            if desired > max {
                self.hit.store(true, Ordering::SeqCst);
                return Err(wasmtime::Error::msg(format!(
                    "the morph tried to grow its memory to {desired} bytes, above --max-memory"
                )));
            }
        }
        Ok(maximum.is_none_or(|m| desired <= m))
    }

    fn table_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(maximum.is_none_or(|m| desired <= m))
    }
}

/// What the guest sees of the outside: argv, stdio and the grants of `policy`.
pub fn build_host(policy: &Policy, argv: &[String], limits: &Limits, hit: Arc<AtomicBool>) -> Result<Host, String> {
    let mut b = WasiCtxBuilder::new();
    b.inherit_stdio().args(argv);
    if let Some(pipe) = &policy.capture_stdout {
        // A spawned morph's stdout is its thread's output.
        b.stdout(pipe.clone());
    }
    for (k, v) in &policy.env {
        b.env(k, v);
    }
    for d in &policy.dirs {
        let perms = if d.read_only { FsPerms::ReadOnly } else { FsPerms::ReadWrite };
        b.preopened_dir(&d.host, &d.guest, perms)
            .map_err(|e| format!("cannot open --dir {}: {e}", d.host.display()))?;
    }
    if policy.allow_net {
        b.inherit_network().allow_ip_name_lookup(true).allow_tcp(true).allow_udp(true);
    }
    Ok(Host {
        wasi: b.build(),
        table: ResourceTable::new(),
        http: WasiHttpCtx::new(),
        hooks: if policy.allow_net { Box::new(AllowRequests) } else { Box::new(DenyRequests) },
        limiter: MemoryLimiter { max: limits.max_memory, hit },
        ext_settings: Default::default(),
        hayride: crate::hayride::HayrideState::new(policy, limits),
    })
}

/// WASI 0.2 and wasi:http for `component`, plus an empty instance for each import that only
/// declares types (records, variants…), which needs nothing at run time.
pub fn build_linker(engine: &Engine, component: &Component) -> wasmtime::Result<Linker<Host>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    crate::hayride::add_to_linker(&mut linker, engine, component)?;
    for (name, item) in component.component_type().imports(engine) {
        if let ComponentItem::ComponentInstance(inst) = item.ty {
            let only_types = inst.exports(engine).all(|(_, e)| matches!(e.ty, ComponentItem::Type(_)));
            if only_types {
                // Re-opens an instance that already exists; creates an empty one otherwise.
                linker.instance(name)?;
            }
        }
    }
    Ok(linker)
}
