//! `hayride:silo/process`: real host processes, only with `--allow process` (it leaves the
//! sandbox: the process runs as morph's user with morph's environment plus `envs`). Errors are
//! errno values, as the WIT's `err-no` says.

use std::collections::HashMap;

use wasmtime::component::{HasSelf, Linker};

use super::errno::{self, ErrNo, EIO, ENOENT, ESRCH};

/// Bindings of each contract version's `hayride:silo/process`; the versions agree, so one
/// implementation serves both.
mod v060 {
    wasmtime::component::bindgen!({
        inline: "
            package morph:host;
            world process { import hayride:silo/process@0.0.60; }
        ",
        world: "morph:host/process",
        path: ["../wit/hayride/0.0.60/hayride-silo.wit"],
        imports: { default: async | trappable },
    });
}

mod v065 {
    wasmtime::component::bindgen!({
        inline: "
            package morph:host;
            world process { import hayride:silo/process@0.0.65; }
        ",
        world: "morph:host/process",
        path: ["../wit/hayride/0.0.65/hayride-silo.wit"],
        imports: { default: async | trappable },
    });
}

/// The processes one morph started, by pid: the only ones it may wait for or signal.
#[derive(Default)]
pub(crate) struct ProcessCtx {
    processes: HashMap<u32, tokio::process::Child>,
}

/// Links `hayride:silo/process` of contract `version` over the `ProcessCtx` that `get` finds in
/// the store's data.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    version: &str,
    get: fn(&mut T) -> &mut ProcessCtx,
) -> wasmtime::Result<()> {
    match version {
        "0.0.60" => v060::hayride::silo::process::add_to_linker::<T, HasSelf<ProcessCtx>>(linker, get),
        _ => v065::hayride::silo::process::add_to_linker::<T, HasSelf<ProcessCtx>>(linker, get),
    }
}

macro_rules! process_host {
    ($v:ident) => {
        impl $v::hayride::silo::process::Host for ProcessCtx {
            async fn spawn(
                &mut self,
                path: String,
                args: Vec<String>,
                envs: Vec<(String, String)>,
            ) -> wasmtime::Result<Result<i32, ErrNo>> {
                self.start(path, args, envs).await
            }

            async fn wait(&mut self, pid: u32) -> wasmtime::Result<Result<i32, ErrNo>> {
                self.wait_for(pid).await
            }

            async fn status(&mut self, pid: u32) -> wasmtime::Result<Result<bool, ErrNo>> {
                self.running(pid).await
            }

            async fn kill(&mut self, pid: u32, sig: i32) -> wasmtime::Result<Result<i32, ErrNo>> {
                self.signal(pid, sig).await
            }
        }
    };
}

process_host!(v060);
process_host!(v065);

impl ProcessCtx {
    async fn start(
        &mut self,
        path: String,
        args: Vec<String>,
        envs: Vec<(String, String)>,
    ) -> wasmtime::Result<Result<i32, ErrNo>> {
        let spawned = tokio::process::Command::new(&path).args(&args).envs(envs).kill_on_drop(false).spawn();
        let child = match spawned {
            Ok(c) => c,
            Err(e) => return Ok(Err(errno::of(&e, ENOENT))),
        };
        let Some(pid) = child.id() else { return Ok(Err(EIO)) };
        self.processes.insert(pid, child);
        Ok(Ok(pid as i32))
    }

    async fn wait_for(&mut self, pid: u32) -> wasmtime::Result<Result<i32, ErrNo>> {
        let Some(child) = self.processes.get_mut(&pid) else { return Ok(Err(ESRCH)) };
        let status = match child.wait().await {
            Ok(s) => s,
            Err(e) => return Ok(Err(errno::of(&e, EIO))),
        };
        self.processes.remove(&pid);
        // A process ended by a signal reports 128 + the signal, as shells do.
        use std::os::unix::process::ExitStatusExt;
        Ok(Ok(status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))))
    }

    async fn running(&mut self, pid: u32) -> wasmtime::Result<Result<bool, ErrNo>> {
        let Some(child) = self.processes.get_mut(&pid) else { return Ok(Err(ESRCH)) };
        match child.try_wait() {
            Ok(None) => Ok(Ok(true)),
            Ok(Some(_)) => Ok(Ok(false)),
            Err(e) => Ok(Err(errno::of(&e, EIO))),
        }
    }

    async fn signal(&mut self, pid: u32, sig: i32) -> wasmtime::Result<Result<i32, ErrNo>> {
        // Only processes this morph started: a morph cannot signal anything else on the host.
        if !self.processes.contains_key(&pid) {
            return Ok(Err(ESRCH));
        }
        let Ok(target) = i32::try_from(pid) else { return Ok(Err(ESRCH)) };
        // SAFETY: kill(2) takes plain integers and touches no memory of ours.
        let rc = unsafe { libc::kill(target, sig) };
        if rc == 0 {
            Ok(Ok(0))
        } else {
            Ok(Err(errno::of(&std::io::Error::last_os_error(), EIO)))
        }
    }
}
