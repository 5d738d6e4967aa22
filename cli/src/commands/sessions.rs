//! `morph sessions`: the sessions of a running daemon (extension sessions and casts): list
//! them, a cast's status, stop one, a cast's output.

use std::io::{Read, Seek, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::{json, Value as Json};

use super::daemon_client::{call, socket};
use crate::output::Output;

/// The sessions of a running `morph daemon`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: SessionsCommand,
    /// The daemon's socket (default: $MORPH_DAEMON_SOCKET, else $MORPH_HOME/run/daemon.sock).
    #[arg(long, value_name = "PATH", global = true)]
    socket: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum SessionsCommand {
    /// Every session: extension sessions (live or put away) and casts.
    List,
    /// A cast's status (active, exited with its code, killed, failed).
    Status { session: String },
    /// Kill a cast, or close an extension session.
    Stop { session: String },
    /// A cast's output (stdout; stderr too, on stderr).
    Logs {
        session: String,
        /// Keep printing as it comes until the cast ends.
        #[arg(short, long)]
        follow: bool,
    },
}

pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let socket = socket(args.socket.as_deref())?;
    match args.command {
        SessionsCommand::List => {
            let list = call(&socket, "session.list", json!({}))?;
            if out.json {
                out.json(&list);
            } else {
                for s in list.as_array().into_iter().flatten() {
                    let state = s["status"].as_str().or(s["state"].as_str()).unwrap_or("");
                    let source = s["source"].as_str().unwrap_or("");
                    out.line(format!(
                        "{}  {:<4}  {:<10}  {source}",
                        s["session"].as_str().unwrap_or(""),
                        s["kind"].as_str().unwrap_or(""),
                        state
                    ));
                }
            }
        }
        SessionsCommand::Status { session } => show(out, &call(&socket, "cast.status", json!({ "session": session }))?),
        SessionsCommand::Stop { session } => show(out, &call(&socket, "session.close", json!({ "session": session }))?),
        SessionsCommand::Logs { session, follow } => logs(&socket, &session, follow)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn show(out: &Output, v: &Json) {
    if out.json {
        out.json(v);
    } else {
        let mut line =
            v["status"].as_str().unwrap_or(if v["closed"] == json!(true) { "closed" } else { "" }).to_string();
        if let Some(code) = v.get("exit-code") {
            line.push_str(&format!(" (exit code {code})"));
        }
        if let Some(e) = v["error"].as_str() {
            line.push_str(&format!(": {e}"));
        }
        out.line(line);
    }
}

/// Prints the cast's stdout and stderr files from where they were last read; with `follow`,
/// until the daemon says the cast ended (then what is left).
fn logs(socket: &std::path::Path, session: &str, follow: bool) -> Result<()> {
    let status = call(socket, "cast.status", json!({ "session": session }))?;
    let dir = PathBuf::from(status["dir"].as_str().unwrap_or_default());
    let mut offsets = [0u64, 0u64];
    let mut active = status["active"] == json!(true);
    loop {
        copy_new(&dir.join("stdout"), &mut offsets[0], &mut std::io::stdout())?;
        copy_new(&dir.join("stderr"), &mut offsets[1], &mut std::io::stderr())?;
        if !follow || !active {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        active = call(socket, "cast.status", json!({ "session": session }))?["active"] == json!(true);
    }
}

fn copy_new(path: &std::path::Path, offset: &mut u64, to: &mut dyn Write) -> Result<()> {
    let Ok(mut f) = std::fs::File::open(path) else { return Ok(()) };
    f.seek(std::io::SeekFrom::Start(*offset))?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf).with_context(|| format!("cannot read {}", path.display()))?;
    *offset += buf.len() as u64;
    to.write_all(&buf)?;
    to.flush()?;
    Ok(())
}
