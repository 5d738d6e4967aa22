//! `wasi:config/store`: the values of `[config]` in morph.toml and `--config KEY=VALUE` (later
//! ones win), read-only for the morph.

use wasmtime::component::{HasSelf, Linker};

mod bindings {
    wasmtime::component::bindgen!({
        inline: "
            package morph:host;
            world config { import wasi:config/store@0.2.0-draft; }
        ",
        world: "morph:host/config",
        path: ["../wit/wasi-config.wit"],
        imports: { default: async | trappable },
    });
}

use bindings::wasi::config::store::{Error, Host};

/// The values a morph reads, in the order given.
#[derive(Default)]
pub(crate) struct ConfigCtx {
    pub values: Vec<(String, String)>,
}

/// Links `wasi:config/store`, answered from the `ConfigCtx` that `get` finds in the store's data.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut ConfigCtx,
) -> wasmtime::Result<()> {
    bindings::wasi::config::store::add_to_linker::<T, HasSelf<ConfigCtx>>(linker, get)
}

impl Host for ConfigCtx {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<String>, Error>> {
        Ok(Ok(self.values.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| v.clone())))
    }

    async fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, Error>> {
        // One pair per key, the value that `get` gives, in the order keys first appear.
        let mut all: Vec<(String, String)> = Vec::new();
        for (k, v) in &self.values {
            match all.iter_mut().find(|(have, _)| have == k) {
                Some(pair) => pair.1 = v.clone(),
                None => all.push((k.clone(), v.clone())),
            }
        }
        Ok(Ok(all))
    }
}
