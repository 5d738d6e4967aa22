//! `morph daemon`: long-lived extension sessions (JSON-RPC 2.0 on a Unix socket or stdio) and
//! Hayride's cast API (on `--addr`, with a bearer token). Argument plumbing; the daemon is
//! `morph_runtime::daemon`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use morph_runtime::daemon::{Daemon, DaemonOptions};
use morph_runtime::{parse_duration, LogLevel};

use super::sandbox::SandboxArgs;
use crate::output::Output;

/// Host extension sessions and casts for clients: JSON-RPC over a Unix socket (default
/// $MORPH_HOME/run/daemon.sock, mode 0600) or stdio, Hayride's REST API on --addr.
#[derive(clap::Args)]
pub struct Args {
    /// The Unix socket to listen on (default: $MORPH_HOME/run/daemon.sock; none with --stdio
    /// unless given).
    #[arg(long, value_name = "PATH", env = "MORPH_DAEMON_SOCKET")]
    socket: Option<PathBuf>,
    /// Speak JSON-RPC on stdin/stdout (for an editor that starts the daemon); the daemon ends
    /// with stdin.
    #[arg(long)]
    stdio: bool,
    /// Serve Hayride's API (/v1/cast, /v1/sessions…) on HOST:PORT (`:PORT` is loopback).
    /// Needs --token-file.
    #[arg(long, value_name = "HOST:PORT", requires = "token_file")]
    addr: Option<String>,
    /// The bearer token every --addr request must carry (the file's first line).
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Keep session snapshots here, so a restarted daemon takes them up again.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// Evict a session after this long without a message or a pending effect (its snapshot is
    /// kept; the next message takes it up again).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    idle_timeout: std::time::Duration,
    /// Grants and limits of every session and cast (no request widens them).
    #[command(flatten)]
    sandbox: SandboxArgs,
}

/// The daemon's socket when none is named: under the morph home.
pub fn default_socket() -> Result<PathBuf> {
    Ok(super::registry::home()?.root().join("run").join("daemon.sock"))
}

pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let home = super::registry::home()?;
    let socket = match (&args.socket, args.stdio) {
        (Some(s), _) => Some(s.clone()),
        (None, false) => Some(default_socket()?),
        (None, true) => None,
    };
    let addr = match &args.addr {
        Some(a) => {
            let addr = morph_runtime::serve::parse_address(a).map_err(anyhow::Error::msg)?;
            let file = args.token_file.as_deref().expect("clap requires --token-file with --addr");
            Some((addr, read_token(file)?))
        }
        None => None,
    };
    if let Some(state) = &args.state {
        std::fs::create_dir_all(state).with_context(|| format!("cannot make --state {}", state.display()))?;
    }
    let opts = DaemonOptions {
        sandbox: args.sandbox.sandbox(Vec::new(), out)?,
        home,
        socket,
        addr,
        state: args.state.clone(),
        idle: args.idle_timeout,
        log_level: if out.quiet { LogLevel::Error } else { LogLevel::Info },
    };
    let rt =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the daemon's runtime")?;
    rt.block_on(async {
        let bound = Daemon::bind(&opts).await?;
        let daemon = Daemon::new(&opts);
        // From here the daemon drains on SIGINT/SIGTERM itself.
        crate::signals::leave_to_command();
        if let Some(s) = &opts.socket {
            eprintln!("listening on unix:{}", s.display());
        }
        if let Some(a) = bound.tcp_addr() {
            eprintln!("hayride api on http://{a}");
        }
        daemon.serve(bound, args.stdio, super::serve::shutdown_signal()).await;
        if let Some(s) = &opts.socket {
            let _ = std::fs::remove_file(s);
        }
        Ok::<_, morph_runtime::RuntimeError>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The token of `--token-file`: its first line, which must not be empty. A file others can
/// read is used, with a warning.
fn read_token(file: &std::path::Path) -> Result<String> {
    use std::os::unix::fs::PermissionsExt;
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read --token-file {}", file.display()))?;
    let token = text.lines().next().unwrap_or("").trim().to_string();
    if token.is_empty() {
        bail!("--token-file {} is empty; write the bearer token on its first line", file.display());
    }
    if let Ok(m) = std::fs::metadata(file) {
        if m.permissions().mode() & 0o077 != 0 {
            tracing::warn!("--token-file {} can be read by others; `chmod 600` it", file.display());
        }
    }
    Ok(token)
}
