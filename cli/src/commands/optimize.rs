//! The optimizing compile that follows a start on baseline code: a detached, low-priority
//! `morph` (the hidden `optimize-in-background` command) compiles the morph's optimized code into
//! the cache, so a short `run` never waits for it and the next start is the warm one. Nothing
//! half-written is ever loaded: the cache writes whole entries by rename, each with a checksum.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use anyhow::Result;
use morph_registry_client::Home;
use morph_runtime::{OptimizeHook, OptimizeLater};

use super::sandbox::block_on;

/// Starts the optimizing compile of a morph that started on baseline code.
pub fn hook() -> OptimizeHook {
    std::sync::Arc::new(|later: OptimizeLater| {
        let Ok(me) = std::env::current_exe() else { return };
        let mut cmd = std::process::Command::new(me);
        cmd.arg("optimize-in-background").arg("--digest").arg(&later.digest);
        for (flag, on) in [("--fuel", later.fuel), ("--epoch", later.epoch), ("--served", later.served)] {
            if on {
                cmd.arg(flag);
            }
        }
        cmd.arg("--").arg(&later.origin);
        // Its own process group: a Ctrl-C at the terminal stops the run, not this compile; and
        // no inherited stdio, so whoever reads the run's output is not kept waiting for it.
        use std::os::unix::process::CommandExt;
        cmd.process_group(0).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        if let Err(e) = cmd.spawn() {
            tracing::debug!("cannot start the optimizing compile in the background: {e}");
        }
    })
}

/// Compile a morph's optimized code into the cache, at low priority (started by morph itself).
#[derive(clap::Args)]
pub struct Args {
    /// The sha256 the morph's bytes must have.
    #[arg(long)]
    digest: String,
    #[arg(long)]
    fuel: bool,
    #[arg(long)]
    epoch: bool,
    #[arg(long)]
    served: bool,
    /// The file, registry id or (pulled) OCI reference it was loaded from.
    origin: OsString,
}

/// How long another compile of the same morph is waited for before this one takes over (a
/// compile that crashed leaves its claim behind).
const CLAIM_TIMEOUT: Duration = Duration::from_secs(600);

pub fn run(args: Args) -> Result<ExitCode> {
    // SAFETY: nice(2) changes only this process's scheduling priority.
    unsafe {
        libc::nice(19);
    }
    let home = super::registry::home()?;
    let Some(_claim) = claim(&home, &args.digest) else { return Ok(ExitCode::SUCCESS) };
    // A reference is taken from the cache only: the run that asked for this pulled it.
    if morph_registry_client::oci::looks_like_reference(&args.origin.to_string_lossy())
        && morph_registry_client::oci::cached(&home, &args.origin.to_string_lossy()).is_none()
    {
        return Ok(ExitCode::SUCCESS);
    }
    let source = block_on(morph_registry_client::source::load(&home, &args.origin, true, None, &|_| {}))?;
    if source.digest != args.digest {
        // The file changed since the run: its new bytes get their own compile when they run.
        return Ok(ExitCode::SUCCESS);
    }
    let later = OptimizeLater {
        origin: PathBuf::from(&args.origin),
        digest: args.digest.clone(),
        fuel: args.fuel,
        epoch: args.epoch,
        served: args.served,
    };
    morph_runtime::precompile((&source).into(), Some(&later), home.root())?;
    Ok(ExitCode::SUCCESS)
}

/// One compile per morph at a time: a claim file, removed when the compile ends.
struct Claim(PathBuf);

impl Drop for Claim {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn claim(home: &Home, digest: &str) -> Option<Claim> {
    let dir = morph_registry_client::cache::cache_dir(home).join("compiled");
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join(format!(".morph-tmp-optimizing-{}", digest.trim_start_matches("sha256:")));
    let fresh = || std::fs::OpenOptions::new().write(true).create_new(true).open(&path).is_ok();
    if fresh() {
        return Some(Claim(path));
    }
    let stale = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > CLAIM_TIMEOUT));
    if stale && std::fs::remove_file(&path).is_ok() && fresh() {
        return Some(Claim(path));
    }
    None
}

/// The compile of a morph's optimized code into the cache, on another thread, started as the
/// morph arrives (`register`, `pull --register`, `build`, `compose -o`) so that its first run
/// finds the code there; [`AtArrival::finish`] waits for it.
pub struct AtArrival(Option<std::thread::JoinHandle<()>>);

/// Starts the compile of `bytes` (named `name` in logs) for the engine it will run on: `serve`'s
/// for an http or websocket morph, `run`'s otherwise. Nothing when `skip` or without a home.
pub fn at_arrival(
    bytes: Vec<u8>,
    digest: Option<String>,
    name: &str,
    kind: morph_contract::Kind,
    skip: bool,
) -> AtArrival {
    let home = match Home::from_env() {
        Some(h) if !skip => h,
        _ => return AtArrival(None),
    };
    if matches!(kind, morph_contract::Kind::Library) {
        return AtArrival(None);
    }
    let served = matches!(kind, morph_contract::Kind::Http | morph_contract::Kind::Websocket);
    let name = name.to_string();
    AtArrival(Some(std::thread::spawn(move || {
        // Hashed here, off the command's path, unless the caller has the digest already.
        let digest = digest.unwrap_or_else(|| morph_contract::component::sha256_digest(&bytes));
        let origin = PathBuf::from(&name);
        let later = OptimizeLater { origin: origin.clone(), digest, fuel: false, epoch: served, served };
        let morph = morph_runtime::Morph { bytes: &bytes, digest: &later.digest, origin: &origin, name: &name };
        match morph_runtime::precompile(morph, Some(&later), home.root()) {
            Ok(outcome) => tracing::info!("{name}: optimized code in the cache ({outcome:?})"),
            Err(e) => tracing::warn!("{name}: could not compile it ahead of its first run: {e}"),
        }
    })))
}

impl AtArrival {
    pub fn finish(self) {
        if let Some(h) = self.0 {
            let _ = h.join();
        }
    }
}
