//! `wasi:config/store`: the values of `[config]` in morph.toml and `--config KEY=VALUE` (later
//! ones win), read-only for the morph.

use super::bindings::wasi::config::store::{Error, Host as Store};
use crate::host::Host;

impl Store for Host {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<String>, Error>> {
        let config = &self.hayride.policy.config;
        Ok(Ok(config.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| v.clone())))
    }

    async fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, Error>> {
        // One pair per key, the value that `get` gives, in the order keys first appear.
        let mut all: Vec<(String, String)> = Vec::new();
        for (k, v) in &self.hayride.policy.config {
            match all.iter_mut().find(|(have, _)| have == k) {
                Some(pair) => pair.1 = v.clone(),
                None => all.push((k.clone(), v.clone())),
            }
        }
        Ok(Ok(all))
    }
}
