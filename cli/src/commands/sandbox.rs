//! Flags shared by every command that runs a morph: grants and limits, and how a `<morph>`
//! argument (a file or a registry id) becomes bytes.

use std::ffi::OsStr;

use anyhow::Result;
use morph_registry_client::Home;

use crate::output::Output;
use morph_runtime::{parse_duration, parse_env, parse_size, Compiler, DirGrant, Grant, Limits, Policy, Sandbox};

#[derive(clap::Args, Debug, Clone)]
pub struct SandboxArgs {
    /// Grant a host directory: HOST[::GUEST] read-write, HOST::GUEST:ro read-only.
    #[arg(long = "dir", value_name = "HOST[::GUEST[:ro]]")]
    dirs: Vec<String>,
    /// Grant a host directory read-only: HOST[::GUEST].
    #[arg(long = "dir-ro", value_name = "HOST[::GUEST]")]
    dirs_ro: Vec<String>,
    /// Set an environment variable (K=V), or copy one from morph's environment (K).
    #[arg(long = "env", value_name = "K[=V]")]
    env: Vec<String>,
    /// Give the morph all of morph's environment variables.
    #[arg(long)]
    inherit_env: bool,
    /// Allow sockets, name lookup and outgoing wasi:http requests.
    #[arg(long)]
    allow_net: bool,
    /// Grant Hayride host interfaces: silo (hayride:silo/threads), silo-nested (spawned morphs
    /// may spawn too), process (hayride:silo/process: host processes), wac (hayride:wac/wac),
    /// db (hayride:db/db), config (wasi:config/store), ai (wasi:nn and hayride:ai: local
    /// inference on the models of `morph model`). Repeat or comma-separate.
    #[arg(long = "allow", value_name = "GRANT[,GRANT…]")]
    allow: Vec<String>,
    /// A wasi:config/store value (after the project's morph.toml [config]); grants config.
    #[arg(long = "config", value_name = "KEY=VALUE")]
    config: Vec<String>,
    /// Stop the morph after this much fuel (about one unit per wasm instruction).
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// Stop the morph after this much wall-clock time (500ms, 2s, 1m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<std::time::Duration>,
    /// Cap each linear memory (64MiB, 1GiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_memory: Option<usize>,
    /// Compile without reading or writing the compiled-code cache.
    #[arg(long)]
    no_cache: bool,
    /// For an OCI reference: refuse it unless this public key (PEM, as `morph key generate` or
    /// cosign writes it) signed its manifest; checked with the registry before it runs.
    #[arg(long, value_name = "PUBKEY")]
    verify: Option<std::path::PathBuf>,
    /// Which compiler: auto (optimized code from the cache, else a fast baseline compile now and
    /// the optimized one in the background for the next start), baseline, or optimized.
    #[arg(long, value_name = "auto|baseline|optimized", env = "MORPH_COMPILER", default_value = "auto", value_parser = parse_compiler)]
    compiler: Compiler,
}

fn parse_compiler(s: &str) -> Result<Compiler, String> {
    s.parse()
}

impl SandboxArgs {
    /// Whether any grant was given (a directory, env, the network, a host interface, config).
    pub fn grants_given(&self) -> bool {
        !(self.dirs.is_empty()
            && self.dirs_ro.is_empty()
            && self.env.is_empty()
            && self.allow.is_empty()
            && self.config.is_empty())
            || self.inherit_env
            || self.allow_net
    }

    /// The sandbox the flags describe, its `wasi:config/store` values being `config` (a
    /// project's `[config]`) and then `--config`; any value grants config.
    /// A spinner on `out` shows a first compile.
    pub fn sandbox(&self, mut config: Vec<(String, String)>, out: &Output) -> Result<Sandbox> {
        let mut policy = Policy::default();
        policy.home = Home::from_env();
        policy.allow_net = self.allow_net;
        for d in &self.dirs {
            policy.dirs.push(DirGrant::parse(d, false).map_err(anyhow::Error::msg)?);
        }
        for d in &self.dirs_ro {
            policy.dirs.push(DirGrant::parse(d, true).map_err(anyhow::Error::msg)?);
        }
        if self.inherit_env {
            policy.env.extend(std::env::vars());
        }
        for e in &self.env {
            policy.env.push(parse_env(e).map_err(anyhow::Error::msg)?);
        }
        for spec in &self.allow {
            policy.grants.extend(Grant::parse_list(spec).map_err(anyhow::Error::msg)?);
        }
        for kv in &self.config {
            let (k, v) = kv.split_once('=').ok_or_else(|| anyhow::anyhow!("`--config {kv}`: use KEY=VALUE"))?;
            config.push((k.to_string(), v.to_string()));
        }
        if !config.is_empty() {
            policy.grants.insert(Grant::Config);
        }
        policy.config = config;
        let limits = Limits { fuel: self.fuel, timeout: self.timeout, max_memory: self.max_memory };
        // The home whose compiled-code cache to use, unless `--no-cache`.
        let cache = if self.no_cache { None } else { Home::from_env().map(|h| h.root().to_path_buf()) };
        Ok(Sandbox::new(policy, limits, cache)
            .with_compile_notice(out.compile_notice())
            .with_compiler(self.compiler, Some(super::optimize::hook())))
    }
}

/// The morph a command runs (`arg`, or the project's built component when it is left out) and
/// its sandbox: the flags, plus the project's `[config]` (which grants config) when the morph is
/// the project's own.
pub fn morph_and_sandbox(arg: Option<&OsStr>, flags: &SandboxArgs, out: &Output) -> Result<(MorphSource, Sandbox)> {
    let (path, project_config) = match arg {
        Some(m) => (m.to_os_string(), Vec::new()),
        None => {
            let (path, config) = super::build::project_output_and_config()?;
            (path.into(), config)
        }
    };
    let sandbox = flags.sandbox(project_config, out)?;
    Ok((load_morph(&path, flags, out)?, sandbox))
}

pub use morph_registry_client::source::{component_only, MorphSource};

/// A `.wasm`/`.wat` file, a local registry id `ns:name[@version]`, or an OCI reference (with a
/// byte bar while it downloads).
pub fn load_morph(arg: &OsStr, flags: &SandboxArgs, out: &Output) -> Result<MorphSource> {
    let home = super::registry::home()?;
    let bar = out.download_bar(&format!("pulling {}", arg.to_string_lossy()));
    let verify = flags.verify.as_deref().map(morph_registry_client::config::read_public_key).transpose()?;
    let loaded = block_on(morph_registry_client::source::load(&home, arg, !flags.no_cache, verify, &|e| bar.on(e)));
    bar.finish();
    Ok(loaded?)
}

/// A file argument, or the file a local registry id names.
pub fn resolve_morph_path(arg: &OsStr) -> Result<morph_registry_client::source::MorphPath> {
    Ok(morph_registry_client::source::resolve_path(&super::registry::home()?, arg)?)
}

/// A single-threaded async runtime: a run or a call is one guest on one thread.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let out = rt.block_on(f);
    // A guest stopped by --timeout may have left a host call's blocking work behind (a read of
    // stdin); the answer is known, so nothing waits for it.
    rt.shutdown_background();
    out
}
