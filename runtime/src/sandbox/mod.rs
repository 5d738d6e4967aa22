//! The sandbox a morph runs in: one [`Sandbox`] (grants, limits, where compiled code is cached)
//! prepares a morph and then runs it, calls its exports, serves it (`serve/`) or hosts it as an
//! extension (`ext/`). Everything it does to a store goes through `store::configure_store`.

mod exports;
mod session;
mod spawn;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::component::Component;
use wasmtime::Engine;

use crate::engine::cache::{CacheOutcome, CodeCache};
use crate::engine::{build_engine, Compiler, EngineSettings, Tier};
use crate::host::threads::MorphRunner;
use crate::limits::Limits;
use crate::policy::Policy;
use crate::store::{configure_store, Interruption, StoreData};
use crate::values::Value;
use crate::RuntimeError;
pub use exports::ExportFunc;
pub(crate) use session::Session;

/// Told that a morph (name, size in bytes) is being compiled; what it returns is dropped when the
/// compile ends. The binary shows a spinner with it.
pub type CompileNotice = Arc<dyn Fn(&str, usize) -> Box<dyn std::any::Any> + Send + Sync>;

/// A morph whose optimized code is wanted in the cache, compiled elsewhere (the binary starts
/// a detached, low-priority `morph` for it: a short run does not wait for it).
#[derive(Debug, Clone)]
pub struct OptimizeLater {
    /// The file or reference the morph was loaded from, to load it again.
    pub origin: PathBuf,
    /// Its sha256: the bytes loaded again must be these.
    pub digest: String,
    /// The engine it ran on: fuel, epoch interruption, the serving pool.
    pub fuel: bool,
    pub epoch: bool,
    pub served: bool,
}

/// Told of a morph that started on baseline code (see [`OptimizeLater`]).
pub type OptimizeHook = Arc<dyn Fn(OptimizeLater) + Send + Sync>;

/// Grants, limits and the compiled-code cache, for every morph run under them.
#[derive(Clone)]
pub struct Sandbox {
    pub(crate) policy: Policy,
    pub(crate) limits: Limits,
    /// The morph home whose compiled-code cache to use; none, and every start compiles.
    pub(crate) cache: Option<PathBuf>,
    pub(crate) notice: Option<CompileNotice>,
    pub(crate) compiler: Compiler,
    pub(crate) optimize_later: Option<OptimizeHook>,
}

/// A morph's bytes, and how it is named: `origin` (the file or reference the user gave) in
/// errors, `name` as its argv[0].
#[derive(Debug, Clone, Copy)]
pub struct Morph<'a> {
    pub bytes: &'a [u8],
    pub digest: &'a str,
    pub origin: &'a Path,
    pub name: &'a str,
}

impl<'a> From<&'a morph_registry_client::source::MorphSource> for Morph<'a> {
    fn from(src: &'a morph_registry_client::source::MorphSource) -> Morph<'a> {
        Morph { bytes: &src.bytes, digest: &src.digest, origin: &src.origin, name: &src.name }
    }
}

/// A component compiled (or loaded from the cache) for an engine that fits the limits. A clone
/// shares the engine and the code.
#[derive(Clone)]
pub struct Prepared {
    pub(crate) engine: Engine,
    pub(crate) component: Component,
    /// argv[0].
    pub(crate) name: String,
    /// Whether the code came from the cache.
    pub cache: CacheOutcome,
    /// Which compiler made the code.
    pub tier: Tier,
}

impl Sandbox {
    pub fn new(policy: Policy, limits: Limits, cache: Option<PathBuf>) -> Sandbox {
        Sandbox { policy, limits, cache, notice: None, compiler: Compiler::Auto, optimize_later: None }
    }

    /// Which tier to start on; with [`Compiler::Auto`], `optimize_later` is told of a morph
    /// that started on baseline code (without it, the optimized code waits for a later start).
    pub fn with_compiler(self, compiler: Compiler, optimize_later: Option<OptimizeHook>) -> Sandbox {
        Sandbox { compiler, optimize_later, ..self }
    }

    /// Calls `notice` whenever a morph must be compiled (not found in the cache).
    pub fn with_compile_notice(self, notice: Option<CompileNotice>) -> Sandbox {
        Sandbox { notice, ..self }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Compiles `morph` (or maps it from the cache) for a run, a call or an extension.
    pub fn prepare(&self, morph: Morph<'_>) -> Result<Prepared, RuntimeError> {
        self.prepare_with(morph, EngineSettings::for_limits(&self.limits))
    }

    /// [`Sandbox::prepare`] for an engine with `settings`, on the tier `--compiler` says.
    pub(crate) fn prepare_with(&self, morph: Morph<'_>, settings: EngineSettings) -> Result<Prepared, RuntimeError> {
        let p = self.choose_tier(morph, settings)?;
        tracing::info!("{}: {:?} code, cache {:?}", morph.name, p.tier, p.cache);
        Ok(p)
    }

    fn choose_tier(&self, morph: Morph<'_>, settings: EngineSettings) -> Result<Prepared, RuntimeError> {
        let cache = self.cache.as_deref();
        let notice = self.notice.as_ref();
        let tier = match self.compiler {
            Compiler::Baseline => Tier::Baseline,
            // Without a cache nothing carries over to a next start: compile what runs best.
            Compiler::Optimized => Tier::Optimized,
            Compiler::Auto if cache.is_none() => Tier::Optimized,
            Compiler::Auto => {
                let optimized = settings.at(Tier::Optimized);
                if let Some(p) = cached(morph, optimized, cache)? {
                    return Ok(p);
                }
                match compile(morph, settings.at(Tier::Baseline), cache, notice) {
                    Ok(p) => {
                        if let Some(hook) = &self.optimize_later {
                            hook(OptimizeLater {
                                origin: morph.origin.to_path_buf(),
                                digest: morph.digest.to_string(),
                                fuel: settings.fuel,
                                epoch: settings.epoch,
                                served: settings.pool.is_some(),
                            });
                        }
                        return Ok(p);
                    }
                    // What the baseline compiler cannot compile, the optimizing one may.
                    Err(RuntimeError::Compile { .. }) => Tier::Optimized,
                    Err(e) => return Err(e),
                }
            }
        };
        compile(morph, settings.at(tier), cache, notice)
    }

    /// Runs a command's `wasi:cli/run` with `args` as argv[1..]; gives its exit code.
    pub async fn run(&self, p: &Prepared, args: &[String]) -> Result<i32, RuntimeError> {
        let mut argv = vec![p.name.clone()];
        argv.extend(args.iter().cloned());
        let mut session = self.session(p, &argv, |_| {}).await?;
        session.run().await
    }

    /// Instantiates and calls `f` with `args`; gives its result, if it has one.
    pub async fn call(&self, p: &Prepared, f: &ExportFunc, args: &[Value]) -> Result<Option<Value>, RuntimeError> {
        f.check_callable()?;
        let mut session = self.session(p, std::slice::from_ref(&p.name), |_| {}).await?;
        session.call(f, args).await
    }

    /// An instance of `p` for a run, a call or a session, with the whole `--timeout` running
    /// from now; `setup` gives the store what this kind of guest needs before it starts.
    pub(crate) async fn session(
        &self,
        p: &Prepared,
        argv: &[String],
        setup: impl FnOnce(&mut StoreData),
    ) -> Result<Session, RuntimeError> {
        let (mut store, watch) =
            configure_store(&p.engine, &self.policy, &self.limits, argv, self.runner(), Interruption::Timeout)?;
        setup(store.data_mut());
        Session::instantiate(p, &self.policy, store, watch).await
    }

    /// Runs `job` to its end on the calling thread, as a spawned morph runs (its own engine,
    /// `kill` reaching it through the epoch): a daemon's cast.
    pub(crate) fn run_detached(&self, job: &crate::host::threads::SpawnJob) -> Result<Option<String>, RuntimeError> {
        use crate::host::threads::MorphRunner;
        spawn::Runner { cache: self.cache.clone() }.run(job)
    }

    /// What runs the morphs a guest spawns (`hayride:silo/threads`).
    pub(crate) fn runner(&self) -> Arc<dyn MorphRunner> {
        Arc::new(spawn::Runner { cache: self.cache.clone() })
    }
}

/// `morph`'s code for `settings` when the cache under `cache` has it.
fn cached(morph: Morph<'_>, settings: EngineSettings, cache: Option<&Path>) -> Result<Option<Prepared>, RuntimeError> {
    let engine = build_engine(settings).map_err(RuntimeError::internal)?;
    let Some(component) = CodeCache::new(cache).read(&engine, morph.digest) else { return Ok(None) };
    Ok(Some(Prepared {
        engine,
        component,
        name: morph.name.to_string(),
        cache: CacheOutcome::Hit,
        tier: settings.tier,
    }))
}

/// Compiles `morph`'s optimized code into the cache under `cache` (a morph home), unless it is
/// there: what a background compile (`later`, the engine it ran on) and a compile at arrival
/// (`register`, `build`, …: the engine `run` uses without limits) do.
pub fn precompile(morph: Morph<'_>, later: Option<&OptimizeLater>, cache: &Path) -> Result<CacheOutcome, RuntimeError> {
    let settings = match later {
        None => EngineSettings::default(),
        Some(l) => EngineSettings {
            fuel: l.fuel,
            epoch: l.epoch,
            pool: l.served.then(|| crate::engine::pool::MemoryReset::for_guest(morph.bytes)),
            tier: Tier::Optimized,
        },
    };
    compile(morph, settings.at(Tier::Optimized), Some(cache), None).map(|p| p.cache)
}

/// Compiles `morph` with `settings`, or maps it from the cache under `cache`; `notice` is told
/// when it compiles.
pub(crate) fn compile(
    morph: Morph<'_>,
    settings: EngineSettings,
    cache: Option<&Path>,
    notice: Option<&CompileNotice>,
) -> Result<Prepared, RuntimeError> {
    let engine = build_engine(settings).map_err(RuntimeError::internal)?;
    let compiling = || notice.map(|n| n(morph.name, morph.bytes.len()));
    let loaded = CodeCache::new(cache).load(&engine, morph.bytes, morph.digest, compiling);
    let (component, cache) = loaded.map_err(|e| {
        // Bytes that are not a valid component are told in the words `validate` uses, naming
        // the input; a valid one the engine cannot compile keeps the engine's reason.
        match morph_contract::component::check_component_bytes(morph.origin, morph.bytes) {
            Err(invalid) => RuntimeError::Contract(invalid),
            Ok(()) => RuntimeError::Compile { origin: morph.origin.to_path_buf(), source: e.into() },
        }
    })?;
    Ok(Prepared { engine, component, name: morph.name.to_string(), cache, tier: settings.tier })
}
