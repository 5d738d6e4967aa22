//! Flags shared by every command that runs a morph: grants and limits, and how a `<morph>`
//! argument (a file or a registry id) becomes bytes.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use anyhow::Result;
use morph_registry_client::{resolve_local, Home, MorphId};
use morph_runtime::{parse_duration, parse_env, parse_size, DirGrant, Limits, Policy};

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
    /// db (hayride:db/db), config (wasi:config/store). Repeat or comma-separate.
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
}

impl SandboxArgs {
    pub fn policy(&self) -> Result<Policy> {
        self.policy_with_config(Vec::new())
    }

    /// The policy, its `wasi:config/store` values being `config` (a project's `[config]`) and
    /// then `--config`; any value grants config.
    fn policy_with_config(&self, mut config: Vec<(String, String)>) -> Result<Policy> {
        let mut policy = Policy::default();
        policy.home = Home::from_env();
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
        policy.allow_net = self.allow_net;
        for spec in &self.allow {
            policy.grants.extend(morph_runtime::Grant::parse_list(spec).map_err(anyhow::Error::msg)?);
        }
        for kv in &self.config {
            let (k, v) = kv.split_once('=').ok_or_else(|| anyhow::anyhow!("`--config {kv}`: use KEY=VALUE"))?;
            config.push((k.to_string(), v.to_string()));
        }
        if !config.is_empty() {
            policy.grants.insert(morph_runtime::Grant::Config);
        }
        policy.config = config;
        Ok(policy)
    }

    pub fn limits(&self) -> Limits {
        Limits { fuel: self.fuel, timeout: self.timeout, max_memory: self.max_memory }
    }

    /// The home whose cache to use, unless `--no-cache`.
    pub fn cache_home(&self) -> Option<PathBuf> {
        if self.no_cache {
            return None;
        }
        Home::from_env().map(|h| h.root().to_path_buf())
    }
}

/// The morph a command runs (`arg`, or the project's built component when it is left out) and
/// its policy: the sandbox flags, plus the project's `[config]` (which grants config) when the
/// morph is the project's own.
pub fn morph_and_policy(arg: Option<&OsStr>, sandbox: &SandboxArgs) -> Result<(MorphSource, Policy)> {
    let (path, project_config) = match arg {
        Some(m) => (m.to_os_string(), Vec::new()),
        None => {
            let (path, config) = super::build::project_output_and_config()?;
            (path.into(), config)
        }
    };
    let policy = sandbox.policy_with_config(project_config)?;
    Ok((load_morph(&path)?, policy))
}

/// A morph ready to run: its binary, digest and the name the guest sees as argv[0].
pub struct MorphSource {
    pub bytes: morph_contract::component::Bytes,
    /// The file or reference the user named, for messages.
    pub origin: PathBuf,
    pub digest: String,
    pub name: String,
}

/// A `.wasm`/`.wat` file, a local registry id `ns:name[@version]`, or an OCI reference (pulled
/// on first use and run from the cache after that, offline).
pub fn load_morph(arg: &OsStr) -> Result<MorphSource> {
    // A path that is not UTF-8 can only be a file.
    if let Some(arg) =
        arg.to_str().filter(|a| !Path::new(a).exists() && morph_registry_client::oci::looks_like_reference(a))
    {
        let home = super::registry::home()?;
        let pulled = match morph_registry_client::oci::cached(&home, arg) {
            Some(p) => p,
            None => block_on_interruptible(morph_registry_client::oci::pull(
                &home,
                arg,
                &Default::default(),
                &component_only,
                &|_| {},
            ))?,
        };
        let r = morph_registry_client::oci::parse_reference(arg)?;
        let name = r.repository().rsplit('/').next().unwrap_or("morph").to_string();
        // The layer was verified against its digest on the way in: that is the morph's sha256.
        let bytes = morph_contract::component::read_component_binary(&pulled.path)?;
        return Ok(MorphSource { bytes, digest: pulled.layer_digest, name, origin: PathBuf::from(arg) });
    }
    let local = resolve_morph_path(arg)?;
    let bytes = morph_contract::component::read_component_binary(&local.path)?;
    let digest = morph_contract::component::sha256_digest(&bytes);
    Ok(MorphSource { bytes, digest, name: local.name, origin: local.path })
}

/// What a pull of a morph keeps: a valid component binary, nothing else.
pub fn component_only(bytes: &[u8]) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    morph_contract::component::check_component_bytes(Path::new("the layer"), bytes).map_err(Into::into)
}

/// A file argument, or the file a local registry id names.
pub struct MorphPath {
    pub path: PathBuf,
    /// What the guest sees as argv[0]: the registry name or the file stem.
    pub name: String,
    /// The registry version, for an id.
    pub version: Option<String>,
}

pub fn resolve_morph_path(arg: &OsStr) -> Result<MorphPath> {
    let path = Path::new(arg);
    if let Some(arg) = arg.to_str().filter(|a| !path.exists() && MorphId::looks_like_id(a)) {
        let found = resolve_local(&super::registry::home()?, &MorphId::parse(arg)?)?;
        return Ok(MorphPath {
            path: found.path,
            name: found.id.name,
            version: found.id.version.map(|v| v.to_string()),
        });
    }
    let name = path.file_stem().unwrap_or(arg).to_string_lossy().into_owned();
    Ok(MorphPath { path: path.to_path_buf(), name, version: None })
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

/// [`block_on`] for work that writes files: a signal removes what it has under way (see
/// `crate::signals`), so this is only `block_on` with the error made `anyhow`'s.
pub fn block_on_interruptible<T, E>(f: impl std::future::Future<Output = Result<T, E>>) -> Result<T, anyhow::Error>
where
    E: Into<anyhow::Error>,
{
    block_on(f).map_err(Into::into)
}
