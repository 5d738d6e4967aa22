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

/// The sources as last built, and as last looked at: a change counts once the sources differ
/// from the build's and then stay the same for one more look (an editor's save is one change).
struct Settling {
    built: sources::Stamps,
    seen: sources::Stamps,
}

impl Settling {
    fn new(m: &Manifest) -> Settling {
        let now = sources::stamps(m);
        Settling { built: now.clone(), seen: now }
    }

    /// Looks at the sources again: whether they changed and settled since the last build.
    fn changed(&mut self, m: &Manifest) -> bool {
        let now = sources::stamps(m);
        let settled = now != self.built && now == self.seen;
        self.seen = now;
        settled
    }

    /// After a build: what it wrote itself (generated bindings) is not a change.
    fn rebuilt(&mut self, m: &Manifest) {
        *self = Settling::new(m);
    }
}

/// Rebuilds `m` on a thread of its own whenever a source changes; `built` hears of each build
/// that worked. A failed build prints the compiler's error once and waits for the next change.
pub fn watch(m: Manifest, out: Output, mut built: impl FnMut(&Manifest) + Send + 'static) {
    std::thread::spawn(move || {
        let mut sources = Settling::new(&m);
        loop {
            std::thread::sleep(POLL);
            if !sources.changed(&m) {
                continue;
            }
            match build_quietly(&m, &out) {
                Ok(code) if code == ExitCode::SUCCESS => built(&m),
                Ok(_) => eprintln!("the build failed; still serving the last good build"),
                Err(e) => eprintln!("error: {e:#}"),
            }
            sources.rebuilt(&m);
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
    let mut sources = Settling::new(m);
    let mut start = true;
    loop {
        if start {
            if let Some(mut c) = child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
            match build_if_stale(m, out)? {
                None => child = Some(std::process::Command::new(&exe).args(&args).spawn()?),
                Some(_) => eprintln!("the build failed; waiting for the next change"),
            }
            sources.rebuilt(m);
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
        start = sources.changed(m);
    }
}
