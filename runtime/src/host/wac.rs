//! `hayride:wac/wac`: WAC composition and plugging for a morph, backed by the `compose` crate,
//! with packages from the local registry (and OCI namespaces already pulled into morph's cache).

use wasmtime::component::{Linker, Resource};

use super::{HasTableView, TableView};

/// Bindings of each contract version's `hayride:wac/wac`; the versions agree, so one
/// implementation (below) serves both.
mod v060 {
    wasmtime::component::bindgen!({
        inline: "
            package morph:host;
            world wac { import hayride:wac/wac@0.0.60; }
        ",
        world: "morph:host/wac",
        path: ["../wit/hayride/0.0.60/hayride-wac.wit"],
        imports: { default: async | trappable },
        with: { "hayride:wac/wac.error": super::WacError },
    });
}

mod v065 {
    wasmtime::component::bindgen!({
        inline: "
            package morph:host;
            world wac { import hayride:wac/wac@0.0.65; }
        ",
        world: "morph:host/wac",
        path: ["../wit/hayride/0.0.65/hayride-wac.wit"],
        imports: { default: async | trappable },
        with: { "hayride:wac/wac.error": super::WacError },
    });
}

/// Where a morph's compositions find their packages: the morph home (none, and they find
/// nothing).
pub(crate) struct WacCtx {
    pub home: Option<morph_registry_client::Home>,
}

/// What the interface reaches of the store's data.
pub(crate) type WacView<'a> = TableView<'a, WacCtx>;

/// Links `hayride:wac/wac` of contract `version` over the view `get` makes of the store's data.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    version: &str,
    get: fn(&mut T) -> WacView<'_>,
) -> wasmtime::Result<()> {
    match version {
        "0.0.60" => v060::hayride::wac::wac::add_to_linker::<T, HasTableView<WacCtx>>(linker, get),
        _ => v065::hayride::wac::wac::add_to_linker::<T, HasTableView<WacCtx>>(linker, get),
    }
}

/// `error-code` of `hayride:wac/types`, the same in every version.
#[derive(Clone, Copy, Debug)]
enum Code {
    FileNotFound,
    ResolveFailed,
    ComposeFailed,
    EncodeFailed,
}

/// A failed compose or plug: its code and the message compose gave.
pub struct WacError {
    code: Code,
    data: String,
}

impl WacView<'_> {
    /// The guest's answer: the component, or an `error` resource for the failure.
    fn reply(&mut self, result: Result<Vec<u8>, Failure>) -> wasmtime::Result<Result<Vec<u8>, Resource<WacError>>> {
        match result {
            Ok(bytes) => Ok(Ok(bytes)),
            Err((code, data)) => Ok(Err(self.table.push(WacError { code, data })?)),
        }
    }

    /// Packages come from morph's home; without one there is nothing to compose from.
    fn home(&self) -> Result<morph_registry_client::Home, Failure> {
        self.ctx.home.clone().ok_or((Code::ResolveFailed, "no morph home to find packages in".into()))
    }

    async fn compose_wac(&mut self, contents: String) -> wasmtime::Result<Result<Vec<u8>, Resource<WacError>>> {
        // Composing reads and validates whole components: off the async threads.
        let result = match self.home() {
            Ok(home) => tokio::task::spawn_blocking(move || compose_source(home, &contents)).await?,
            Err(f) => Err(f),
        };
        self.reply(result)
    }

    async fn plug_ids(
        &mut self,
        socket_pkg: String,
        plug_pkgs: Vec<String>,
    ) -> wasmtime::Result<Result<Vec<u8>, Resource<WacError>>> {
        let result = match self.home() {
            Ok(home) => tokio::task::spawn_blocking(move || plug_ids(&home, &socket_pkg, &plug_pkgs)).await?,
            Err(f) => Err(f),
        };
        self.reply(result)
    }
}

/// The host traits of one version's bindings, over the one implementation.
macro_rules! wac_host {
    ($v:ident) => {
        impl $v::hayride::wac::wac::Host for WacView<'_> {
            async fn compose(&mut self, contents: String) -> wasmtime::Result<Result<Vec<u8>, Resource<WacError>>> {
                self.compose_wac(contents).await
            }

            async fn plug(
                &mut self,
                socket_pkg: String,
                plug_pkgs: Vec<String>,
            ) -> wasmtime::Result<Result<Vec<u8>, Resource<WacError>>> {
                self.plug_ids(socket_pkg, plug_pkgs).await
            }
        }

        impl $v::hayride::wac::wac::HostError for WacView<'_> {
            async fn code(&mut self, e: Resource<WacError>) -> wasmtime::Result<$v::hayride::wac::types::ErrorCode> {
                use $v::hayride::wac::types::ErrorCode;
                Ok(match self.table.get(&e)?.code {
                    Code::FileNotFound => ErrorCode::FileNotFound,
                    Code::ResolveFailed => ErrorCode::ResolveFailed,
                    Code::ComposeFailed => ErrorCode::ComposeFailed,
                    Code::EncodeFailed => ErrorCode::EncodeFailed,
                })
            }

            async fn data(&mut self, e: Resource<WacError>) -> wasmtime::Result<String> {
                Ok(self.table.get(&e)?.data.clone())
            }

            async fn drop(&mut self, e: Resource<WacError>) -> wasmtime::Result<()> {
                self.table.delete(e)?;
                Ok(())
            }
        }
    };
}

wac_host!(v060);
wac_host!(v065);

type Failure = (Code, String);

/// Composes with packages from the local registry, or from OCI registries as far as morph's
/// cache holds them (a morph does not make morph pull on its behalf).
fn compose_source(home: morph_registry_client::Home, source: &str) -> Result<Vec<u8>, Failure> {
    let cache = home.clone();
    let fetch =
        move |package: &str, version: Option<&semver::Version>| -> Result<(String, std::path::PathBuf), String> {
            morph_registry_client::package::fetch_offline(&cache, package, version)
                .map(|f| (f.reference, f.path))
                .map_err(|e| format!("{e} (a morph composes only with what morph pulled before)"))
        };
    let sources = morph_compose::Sources::from_home(home, &fetch);
    morph_compose::compose(std::path::Path::new("<wac from the morph>"), source, &sources, false)
        .map(|c| c.bytes)
        .map_err(|e| (code_of(&e), e.to_string()))
}

fn plug_ids(home: &morph_registry_client::Home, socket: &str, plugs: &[String]) -> Result<Vec<u8>, Failure> {
    let load = |id: &str| -> Result<morph_compose::PlugInput, Failure> {
        let parsed = morph_registry_client::MorphId::parse(id).map_err(|e| (Code::FileNotFound, e.to_string()))?;
        let found = morph_registry_client::resolve_local(home, &parsed)
            .map_err(|e| (Code::FileNotFound, format!("{id}: {e}")))?;
        let bytes =
            std::fs::read(&found.path).map_err(|e| (Code::FileNotFound, format!("{}: {e}", found.path.display())))?;
        Ok(morph_compose::PlugInput { name: id.to_string(), bytes })
    };
    let socket = load(socket)?;
    let plugs = plugs.iter().map(|p| load(p)).collect::<Result<Vec<_>, _>>()?;
    morph_compose::plug(socket, plugs).map(|(bytes, _)| bytes).map_err(|e| (code_of(&e), e.to_string()))
}

/// The WIT's code for the step of composing that failed.
fn code_of(e: &morph_compose::ComposeError) -> Code {
    match e {
        morph_compose::ComposeError::Rendered { stage: morph_compose::Stage::Resolve, .. } => Code::ResolveFailed,
        morph_compose::ComposeError::Rendered { stage: morph_compose::Stage::Load, .. }
        | morph_compose::ComposeError::Read { .. } => Code::FileNotFound,
        morph_compose::ComposeError::Rendered { stage: morph_compose::Stage::Encode, .. } => Code::EncodeFailed,
        _ => Code::ComposeFailed,
    }
}
