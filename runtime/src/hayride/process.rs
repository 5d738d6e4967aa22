//! `hayride:silo/process`: real host processes, only with `--allow process` (it leaves the
//! sandbox: the process runs as morph's user with morph's environment plus `envs`). Errors are
//! errno values, as the WIT's `err-no` says.

use super::bindings::hayride::silo::process::Host as Process;
use super::bindings::hayride::silo::types::ErrNo;
use super::errno::{self, EIO, ENOENT, ESRCH};
use crate::host::Host;

impl Process for Host {
    async fn spawn(
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
        self.hayride.processes.insert(pid, child);
        Ok(Ok(pid as i32))
    }

    async fn wait(&mut self, pid: u32) -> wasmtime::Result<Result<i32, ErrNo>> {
        let Some(child) = self.hayride.processes.get_mut(&pid) else { return Ok(Err(ESRCH)) };
        let status = match child.wait().await {
            Ok(s) => s,
            Err(e) => return Ok(Err(errno::of(&e, EIO))),
        };
        self.hayride.processes.remove(&pid);
        // A process ended by a signal reports 128 + the signal, as shells do.
        use std::os::unix::process::ExitStatusExt;
        Ok(Ok(status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))))
    }

    async fn status(&mut self, pid: u32) -> wasmtime::Result<Result<bool, ErrNo>> {
        let Some(child) = self.hayride.processes.get_mut(&pid) else { return Ok(Err(ESRCH)) };
        match child.try_wait() {
            Ok(None) => Ok(Ok(true)),
            Ok(Some(_)) => Ok(Ok(false)),
            Err(e) => Ok(Err(errno::of(&e, EIO))),
        }
    }

    async fn kill(&mut self, pid: u32, sig: i32) -> wasmtime::Result<Result<i32, ErrNo>> {
        // Only processes this morph started: a morph cannot signal anything else on the host.
        if !self.hayride.processes.contains_key(&pid) {
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
