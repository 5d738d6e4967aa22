//! `morph serve`: serve an http morph.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use morph_runtime::limits::parse_duration;
use morph_runtime::serve::ServeOptions;

use super::sandbox::{morph_and_sandbox, SandboxArgs};
use crate::output::Output;

/// Serve an http morph (exporting wasi:http/incoming-handler) or a websocket morph (exporting
/// hayride:socket/websocket): a fresh instance per request or connection, sandboxed as
/// `morph run`, with limits on by default.
///
/// Ctrl-C or SIGTERM stops accepting, lets requests in flight finish (up to --grace), exit 0.
#[derive(clap::Args)]
pub struct Args {
    /// A .wasm/.wat file, a local registry id (ns:name@version) or an OCI reference. Default:
    /// the built component of the project around the current directory.
    morph: Option<std::ffi::OsString>,
    /// Address to listen on: HOST:PORT (a bare :PORT means 127.0.0.1). Default:
    /// $WASMTIME_HTTP_PROXY_SOCKET_ADDR (as `wasmtime serve` and the containerd wasm shims
    /// read it), else the address the morph's hayride:http/config.get() gives, else
    /// 127.0.0.1:8080.
    #[arg(long, value_name = "HOST:PORT", env = "WASMTIME_HTTP_PROXY_SOCKET_ADDR")]
    addr: Option<String>,
    /// In a project: build first when a source is newer than the built component.
    #[arg(long, conflicts_with = "morph")]
    build: bool,
    /// In a project: rebuild when a source changes and serve each good build to new requests
    /// (requests in flight finish on the old one; a failed build keeps the old one serving).
    #[arg(long, conflicts_with = "morph")]
    watch: bool,
    /// Requests handled at once; more wait for a slot (see --queue-timeout).
    #[arg(long, default_value_t = 64, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=MAX_CONCURRENCY))]
    max_concurrency: u32,
    /// How long a request waits for a slot before it is answered 503.
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = parse_duration)]
    queue_timeout: Duration,
    /// How long requests in flight may take to finish after Ctrl-C/SIGTERM.
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = parse_duration)]
    grace: Duration,
    /// How long a client may take to send a request's headers before the connection is closed.
    /// Default: the morph's hayride:http/config read-timeout, else 10s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    header_timeout: Option<Duration>,
    /// How long a response (or websocket frame) may wait for the client to read it before the
    /// connection is dropped. Default: the morph's hayride:http/config write-timeout, else 30s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    write_timeout: Option<Duration>,
    /// A websocket connection with no frame either way for this long is closed (--timeout
    /// bounds http requests; a websocket lives as long as it is used).
    #[arg(long, default_value = "5m", value_name = "DURATION", value_parser = parse_duration)]
    ws_idle: Duration,
    /// A request body that sends less than 1 KiB (or the rest of it) in this long, while the
    /// morph waits for it, ends that request: a trickling client cannot hold a slot.
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = parse_duration)]
    body_timeout: Duration,
    /// The largest request body (413 above it).
    #[arg(long, default_value = "16MiB", value_name = "SIZE", value_parser = morph_runtime::parse_size)]
    max_body: usize,
    #[command(flatten)]
    sandbox: SandboxArgs,
}

/// The most requests `--max-concurrency` lets run at once (each holds an instance).
const MAX_CONCURRENCY: i64 = 100_000;

pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    // An --addr that does not parse is an error before anything is compiled.
    let given =
        args.addr.as_deref().map(morph_runtime::serve::parse_address).transpose().map_err(anyhow::Error::msg)?;
    let project = if args.build || args.watch { Some(super::build::project()?) } else { None };
    if let Some(m) = &project {
        if let Some(code) = super::dev::build_if_stale(m, out)? {
            return Ok(code);
        }
    }
    let (src, sandbox) = morph_and_sandbox(args.morph.as_deref(), &args.sandbox, out)?;
    let swaps = match (&project, args.watch) {
        (Some(m), true) => {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            super::dev::watch(m.clone(), out.clone(), move |m| match std::fs::read(&m.output) {
                Ok(bytes) => {
                    let digest = morph_contract::component::sha256_digest(&bytes);
                    let _ =
                        tx.send(morph_runtime::app::Source { bytes: bytes.into(), digest, origin: m.output.clone() });
                }
                Err(e) => eprintln!("error: cannot read {}: {e}", m.output.display()),
            });
            Some(rx)
        }
        _ => None,
    };
    let opts = ServeOptions {
        addr: given,
        max_concurrency: args.max_concurrency as usize,
        body_timeout: args.body_timeout,
        queue_timeout: args.queue_timeout,
        grace: args.grace,
        max_body: args.max_body,
        header_timeout: args.header_timeout,
        write_timeout: args.write_timeout,
        ws_idle: args.ws_idle,
        // Each request makes its instance: with the pooling allocator that is the cheap part.
        min_ready: 0,
    };
    // All cores: requests are served concurrently, each instance on whichever worker is free.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the server runtime")?;
    let json = out.json;
    let result = rt.block_on(async {
        sandbox
            .serve_swapping(
                (&src).into(),
                opts,
                swaps,
                |bound| {
                    // From here serve drains its requests on SIGINT/SIGTERM itself.
                    crate::signals::leave_to_command();
                    if json {
                        eprintln!("{}", serde_json::json!({ "level": "info", "listening": format!("http://{bound}") }));
                    } else {
                        eprintln!("listening on http://{bound}");
                    }
                },
                shutdown_signal(),
            )
            .await
    });
    super::run::finish(result.map(|()| None), out)
}

pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
