//! The runner of morphs spawned through `hayride:silo/threads`: each on its own thread, its own
//! engine (epoch interruption always, so `kill` can stop a busy one) and its own store.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{compile, Morph, Session};
use crate::engine::EngineSettings;
use crate::error::LimitHit;
use crate::host::threads::{MorphRunner, SpawnJob};
use crate::store::{configure_store, Interruption};
use crate::RuntimeError;

pub(super) struct Runner {
    /// The compiled-code cache the spawning morph uses.
    pub cache: Option<PathBuf>,
}

impl MorphRunner for Runner {
    fn run(&self, job: &SpawnJob) -> Result<Option<String>, RuntimeError> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(RuntimeError::internal)?;
        rt.block_on(self.run_async(job))
    }
}

impl Runner {
    async fn run_async(&self, job: &SpawnJob) -> Result<Option<String>, RuntimeError> {
        let digest = morph_contract::component::sha256_digest(&job.bytes);
        let morph = Morph { bytes: &job.bytes, digest: &digest, origin: Path::new(&job.pkg), name: &job.name };
        let settings = EngineSettings { fuel: job.limits.fuel.is_some(), epoch: true, ..Default::default() };
        let prepared = compile(morph, settings, self.cache.as_deref(), None)?;
        let mut argv = vec![job.name.clone()];
        if job.is_run() {
            argv.extend(job.args.iter().cloned());
        }
        // At each epoch the guest is interrupted once it is killed or past its --timeout, and
        // yields otherwise. Epochs come from `kill` and the timeout.
        let kill = job.kill.clone();
        let deadline = job.limits.timeout.map(|t| std::time::Instant::now() + t);
        let expired = move || kill.killed() || deadline.is_some_and(|d| std::time::Instant::now() >= d);
        let runner: Arc<dyn MorphRunner> = Arc::new(Runner { cache: self.cache.clone() });
        let (store, watch) = configure_store(
            &prepared.engine,
            &job.policy,
            &job.limits,
            &argv,
            runner,
            Interruption::Spawned(Box::new(expired)),
        )?;
        // Only now may `kill` see the engine: its epoch bump must land after the deadline is set.
        if !job.kill.arm(&prepared.engine) {
            return Err(RuntimeError::Limit(LimitHit::Killed));
        }
        let mut session = Session::instantiate(&prepared, &job.policy, store, watch).await?;
        if job.is_run() {
            return match session.run().await? {
                0 => Ok(None),
                code => Err(RuntimeError::Exit(code)),
            };
        }
        let f = super::exports::find_export(&prepared, &job.function)?;
        let args = if job.text_args { f.args_from_text(&job.args)? } else { f.args_from_wave(&job.args)? };
        Ok(session.call(&f, &args).await?.map(|v| v.to_wave()))
    }
}
