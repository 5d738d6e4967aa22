//! `hayride:ai/model-repository` over morph's model store, the one `morph model` manages:
//! `get-model` and `download-model` give a model's path (which `load-by-name` takes),
//! `download-model` fetches a missing one from the hub only when the run has `--allow-net`.

use wasmtime::component::Resource;

use morph_registry_client::models::{self, Hub, ModelName, PullOptions};
use morph_registry_client::Home;

use super::{AiView, Lookup};

/// The failures of the interface, the same in every contract version.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RepoCode {
    ModelNotFound,
    InvalidModelName,
    RuntimeError,
    NotEnabled,
}

pub struct RepositoryError {
    pub(crate) code: RepoCode,
    pub(crate) data: String,
}

type RepoResult<T> = wasmtime::Result<Result<T, Resource<RepositoryError>>>;

impl AiView<'_> {
    fn repo_fail<T>(&mut self, code: RepoCode, data: impl Into<String>) -> RepoResult<T> {
        Ok(Err(self.table.push(RepositoryError { code, data: data.into() })?))
    }

    fn repo_lookup(&mut self, name: &str) -> RepoResult<String> {
        match self.ctx.model_path(name) {
            Ok(path) => Ok(Ok(path.display().to_string())),
            Err(Lookup::Invalid(why)) => self.repo_fail(RepoCode::InvalidModelName, why),
            Err(Lookup::Missing(why)) => self.repo_fail(RepoCode::ModelNotFound, why),
        }
    }

    /// The store and the model name `name` parses to.
    fn repo_name(&self, name: &str) -> Result<(Home, ModelName), (RepoCode, String)> {
        let home = self
            .ctx
            .home
            .clone()
            .ok_or((RepoCode::NotEnabled, "this run has no morph home, so no model store".into()))?;
        let parsed = ModelName::parse(name).map_err(|e| (RepoCode::InvalidModelName, e.to_string()))?;
        Ok((home, parsed))
    }

    async fn repo_download(&mut self, name: String) -> RepoResult<String> {
        let (home, parsed) = match self.repo_name(&name) {
            Ok(found) => found,
            Err((code, why)) => return self.repo_fail(code, why),
        };
        // From the store when it is there; fetched only when the run may reach the network.
        let opts = PullOptions { offline: !self.ctx.allow_net };
        match models::pull(&home, &parsed, &Hub::from_env(), opts, &|_| {}).await {
            Ok(m) => Ok(Ok(m.path.display().to_string())),
            Err(models::ModelError::Offline { .. }) if !self.ctx.allow_net => self.repo_fail(
                RepoCode::NotEnabled,
                format!("model {name} is not in morph's store and this run may not download it; fetch it first with `morph model pull {name}`, or grant the network with --allow-net"),
            ),
            Err(e) => self.repo_fail(RepoCode::RuntimeError, e.to_string()),
        }
    }

    fn repo_delete(&mut self, name: String) -> RepoResult<()> {
        let (home, parsed) = match self.repo_name(&name) {
            Ok(found) => found,
            Err((code, why)) => return self.repo_fail(code, why),
        };
        match models::remove(&home, &parsed) {
            Ok(_) => Ok(Ok(())),
            Err(e @ models::ModelError::NotFound { .. }) => self.repo_fail(RepoCode::ModelNotFound, e.to_string()),
            Err(e) => self.repo_fail(RepoCode::RuntimeError, e.to_string()),
        }
    }

    fn repo_list(&mut self) -> RepoResult<Vec<String>> {
        let Some(home) = &self.ctx.home else { return Ok(Ok(Vec::new())) };
        Ok(Ok(models::list(home).into_iter().map(|m| m.name).collect()))
    }
}

macro_rules! repository_for {
    ($v:ident) => {
        mod $v {
            use super::*;
            use crate::host::ai::bindings::$v::hayride::ai::model_repository::{ErrorCode, Host, HostError};

            impl Host for AiView<'_> {
                async fn download_model(&mut self, name: String) -> RepoResult<String> {
                    self.repo_download(name).await
                }

                fn get_model(&mut self, name: String) -> RepoResult<String> {
                    self.repo_lookup(&name)
                }

                fn delete_model(&mut self, name: String) -> RepoResult<()> {
                    self.repo_delete(name)
                }

                fn list_models(&mut self) -> RepoResult<Vec<String>> {
                    self.repo_list()
                }
            }

            impl HostError for AiView<'_> {
                fn code(&mut self, e: Resource<RepositoryError>) -> wasmtime::Result<ErrorCode> {
                    Ok(match self.table.get(&e)?.code {
                        RepoCode::ModelNotFound => ErrorCode::ModelNotFound,
                        RepoCode::InvalidModelName => ErrorCode::InvalidModelName,
                        RepoCode::RuntimeError => ErrorCode::RuntimeError,
                        RepoCode::NotEnabled => ErrorCode::NotEnabled,
                    })
                }

                fn data(&mut self, e: Resource<RepositoryError>) -> wasmtime::Result<String> {
                    Ok(self.table.get(&e)?.data.clone())
                }

                fn drop(&mut self, e: Resource<RepositoryError>) -> wasmtime::Result<()> {
                    self.table.delete(e)?;
                    Ok(())
                }
            }
        }
    };
}

repository_for!(v060);
repository_for!(v065);
