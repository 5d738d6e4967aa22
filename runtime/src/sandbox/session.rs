//! One instance of a morph in its store: instantiated under a policy, then its command run or
//! an export called, with the watch that names the limit an error hit.

use wasmtime::component::{Instance, Val};
use wasmtime::Store;

use super::{ExportFunc, Prepared};
use crate::host::check_grants;
use crate::policy::Policy;
use crate::store::{build_linker, LimitWatch, StoreData};
use crate::values::Value;
use crate::RuntimeError;

pub(crate) struct Session {
    pub store: Store<StoreData>,
    pub instance: Instance,
    pub watch: LimitWatch,
}

impl Session {
    /// Instantiates `p` in `store` once `policy` grants every host interface it imports; an
    /// error is named by `watch`.
    pub async fn instantiate(
        p: &Prepared,
        policy: &Policy,
        mut store: Store<StoreData>,
        watch: LimitWatch,
    ) -> Result<Session, RuntimeError> {
        check_grants(&p.engine, &p.component, policy)?;
        let linker = build_linker(&p.engine, &p.component).map_err(RuntimeError::internal)?;
        match watch.within(linker.instantiate_async(&mut store, &p.component)).await {
            Ok(instance) => Ok(Session { store, instance, watch }),
            Err(e) => Err(watch.classify(e, true)),
        }
    }

    /// `wasi:cli/run`: the guest's exit code.
    pub async fn run(&mut self) -> Result<i32, RuntimeError> {
        let command = match wasmtime_wasi::p2::bindings::Command::new(&mut self.store, &self.instance) {
            Ok(c) => c,
            Err(_) => return Err(RuntimeError::NotACommand),
        };
        match self.watch.within(command.wasi_cli_run().call_run(&mut self.store)).await {
            Ok(Ok(())) => Ok(0),
            Ok(Err(())) => Ok(1),
            Err(e) => match self.watch.classify(e, false) {
                RuntimeError::Exit(code) => Ok(code),
                other => Err(other),
            },
        }
    }

    /// Calls `f` with `args`; its result, if it has one.
    pub async fn call(&mut self, f: &ExportFunc, args: &[Value]) -> Result<Option<Value>, RuntimeError> {
        let store = &mut self.store;
        let missing = || RuntimeError::NoSuchExport { name: f.path(), available: String::new() };
        let inst_idx = match &f.instance {
            Some(i) => Some(self.instance.get_export_index(&mut *store, None, i).ok_or_else(missing)?),
            None => None,
        };
        let idx = self.instance.get_export_index(&mut *store, inst_idx.as_ref(), &f.name).ok_or_else(missing)?;
        let func = self.instance.get_func(&mut *store, idx).ok_or_else(missing)?;
        let args: Vec<Val> = args.iter().map(|v| v.0.clone()).collect();
        let mut results = vec![Val::Bool(false); usize::from(f.result.is_some())];
        if let Err(e) = self.watch.within(func.call_async(&mut self.store, &args, &mut results)).await {
            return Err(self.watch.classify(e, false));
        }
        Ok(results.pop().map(Value))
    }
}
