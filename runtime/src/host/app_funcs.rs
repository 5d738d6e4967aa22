//! `morph:app/funcs`: an entry of an app served by `morph up` calls another function entry by
//! name. The call goes through the callee's pool, limits and grants (the app's bridge runs it);
//! outside `morph up`, and past a nesting depth that only a cycle reaches, it fails saying so.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};

mod bindings {
    wasmtime::component::bindgen!({
        inline: "
            package morph:host;
            world app-funcs { import morph:app/funcs@0.1.0; }
        ",
        world: "morph:host/app-funcs",
        path: ["../wit/morph-app.wit"],
        imports: { default: async | trappable },
    });
}

/// How deep calls between entries may nest (an entry calling one that calls another…).
pub(crate) const MAX_DEPTH: u32 = 8;

/// What answers a call: the app `morph up` serves. `depth` is the callee's nesting depth.
pub(crate) trait Bridge: Send + Sync {
    fn call(
        &self,
        name: String,
        args: String,
        depth: u32,
    ) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send>>;
}

/// A store's view of the bridge: none outside `morph up`.
#[derive(Default, Clone)]
pub(crate) struct AppFuncsCtx {
    pub bridge: Option<Arc<dyn Bridge>>,
    /// How deep the store's own instance is: 0 for a request from outside.
    pub depth: u32,
}

pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut AppFuncsCtx,
) -> wasmtime::Result<()> {
    bindings::morph::app::funcs::add_to_linker::<T, HasSelf<AppFuncsCtx>>(linker, get)
}

impl bindings::morph::app::funcs::Host for AppFuncsCtx {
    async fn call(&mut self, name: String, args: String) -> wasmtime::Result<Result<String, String>> {
        let Some(bridge) = self.bridge.clone() else {
            return Ok(Err(
                "morph:app/funcs is answered by `morph up`; this morph is not running as an app entry".into()
            ));
        };
        if self.depth >= MAX_DEPTH {
            return Ok(Err(format!(
                "calls between entries nest deeper than {MAX_DEPTH} (calling `{name}`): is there a cycle?"
            )));
        }
        Ok(bridge.call(name, args, self.depth + 1).await)
    }
}
