//! The dev loop of `run`, `serve` and `up`: `--build` rebuilds the project first when a source
//! is newer than its output; `--watch` rebuilds whenever a source changes (a change that then
//! stays still for one poll: an editor's save is one change) and hands each good build on.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use morph_project::{sources, Manifest};

use crate::output::Output;

/// How often the sources are looked at.
const POLL: Duration = Duration::from_millis(250);

/// Builds `m` when its output is missing or older than a source. `Some(code)` when a build
/// failed (reported already).
pub fn build_if_stale(m: &Manifest, out: &Output) -> Result<Option<ExitCode>> {
    let Some(newer) = sources::stale(m) else { return Ok(None) };
    if !out.quiet && !out.json {
        match newer {
            Some(src) => eprintln!("{} changed; building", src.strip_prefix(&m.dir).unwrap_or(&src).display()),
            None => eprintln!("{} is not built yet; building", m.output.display()),
        }
    }
    let code = build_quietly(m, out)?;
    Ok((code != ExitCode::SUCCESS).then_some(code))
}

/// Builds `m`, its report on stderr (stdout is the morph's).
fn build_quietly(m: &Manifest, out: &Output) -> Result<ExitCode> {
    let code = super::build::build_manifest(m, false, false, &out.errors_only())?;
    if code == ExitCode::SUCCESS && !out.quiet {
        eprintln!("built {}", m.output.display());
    }
    Ok(code)
}

/// Rebuilds `m` on a thread of its own whenever a source changes; `built` hears of each build
/// that worked. A failed build prints the compiler's error once and waits for the next change.
pub fn watch(m: Manifest, out: Output, mut built: impl FnMut(&Manifest) + Send + 'static) {
    std::thread::spawn(move || {
        let mut current = sources::stamps(&m);
        let mut seen = current.clone();
        loop {
            std::thread::sleep(POLL);
            let now = sources::stamps(&m);
            if now != current && now == seen {
                match build_quietly(&m, &out) {
                    Ok(code) if code == ExitCode::SUCCESS => built(&m),
                    Ok(_) => eprintln!("the build failed; still serving the last good build"),
                    Err(e) => eprintln!("error: {e:#}"),
                }
                // What the build itself wrote (generated bindings) is not a change.
                current = sources::stamps(&m);
                seen = current.clone();
                continue;
            }
            seen = now;
        }
    });
}

/// `morph run --watch`: builds when stale, runs the project's morph as a child `morph run` (the
/// same arguments without `--watch`), and on every change stops a run still going, rebuilds and
/// runs again. Ends with Ctrl-C.
pub fn rerun(m: &Manifest, out: &Output) -> Result<ExitCode> {
    let args: Vec<std::ffi::OsString> =
        std::env::args_os().skip(1).filter(|a| a != "--watch" && a != "--build").collect();
    let exe = std::env::current_exe()?;
    let mut child: Option<std::process::Child> = None;
    let mut current = sources::stamps(m);
    let mut seen = current.clone();
    let mut first = true;
    loop {
        if first || (seen != current && sources::stamps(m) == seen) {
            first = false;
            if let Some(mut c) = child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
            match build_if_stale(m, out)? {
                None => child = Some(std::process::Command::new(&exe).args(&args).spawn()?),
                Some(_) => eprintln!("the build failed; waiting for the next change"),
            }
            current = sources::stamps(m);
            seen = current.clone();
        }
        if let Some(c) = &mut child {
            if let Some(status) = c.try_wait()? {
                eprintln!(
                    "[exited with {}; waiting for a change]",
                    status.code().map_or("a signal".to_string(), |c| format!("code {c}"))
                );
                child = None;
            }
        }
        std::thread::sleep(POLL);
        let now = sources::stamps(m);
        if now != seen {
            seen = now;
        }
    }
}
