//! `morph ext`: host a Morphir extension (`morphir:ext/extension`). morph stamps every envelope
//! it sends (seqnum, session id, kind), keeps the model between steps and shows what came back.

use std::process::ExitCode;

use anyhow::{Context, Result};
use morph_runtime::ext::hosted::is_step_failure;
use morph_runtime::tea::{
    base64_encode, is_json, json_content, new_session_id, show_envelope, step_error, Tea, JSON_TYPE,
};
use morph_runtime::{DesignTime, Envelope, ExtSettings, ExtensionSession, Header, Hosted, LogLevel, RuntimeError};
use serde_json::{json, Value as Json};

use super::run::finish;
use super::sandbox::{block_on, morph_and_sandbox, MorphSource, SandboxArgs};
use crate::output::Output;

/// Run a Morphir extension: its capabilities, a scripted session, a JSON Lines session, or a
/// design-time call.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: ExtCommand,
}

#[derive(clap::Subcommand)]
enum ExtCommand {
    Info(InfoArgs),
    Run(RunArgs),
    Session(SessionArgs),
    Call(CallArgs),
}

/// What every `morph ext` command takes: the extension, its env vars and the sandbox.
#[derive(clap::Args)]
struct HostArgs {
    /// Set an env var the extension reads with `get-env-var`: NAME=TYPE:VALUE, TYPE one of
    /// text, text-list, boolean, u8, u16, u32, u64, s8, s16, s32, s64, f32, f64.
    #[arg(long = "env-var", value_name = "NAME=TYPE:VALUE")]
    env_vars: Vec<String>,
    #[command(flatten)]
    sandbox: SandboxArgs,
}

/// Print the extension's capabilities (`get-capabilities`).
#[derive(clap::Args)]
struct InfoArgs {
    /// A .wasm/.wat file, a local registry id or an OCI reference. Default: the built
    /// component of the project around the current directory.
    ext: Option<std::ffi::OsString>,
    #[command(flatten)]
    host: HostArgs,
}

/// `init`, then `update` for each `--msg` in order, keeping the model; prints the model, the
/// commands and the subscriptions after each step.
#[derive(clap::Args)]
struct RunArgs {
    /// The extension (default: the project's built component).
    ext: Option<std::ffi::OsString>,
    /// The init flags: JSON, or @file (default: {}).
    #[arg(long, value_name = "JSON|@FILE")]
    init: Option<String>,
    /// A message, sent in order (repeat the flag).
    #[arg(long = "msg", value_name = "JSON")]
    msgs: Vec<String>,
    /// After the messages, keep running what the extension asked for (timers, file watches,
    /// http responses) until no command or subscription is pending.
    #[arg(long)]
    until_idle: bool,
    #[command(flatten)]
    envelope: EnvelopeArgs,
    #[command(flatten)]
    host: HostArgs,
}

/// A long-lived session: one message per line on stdin (JSON Lines), one result per line on
/// stdout; the first line out is the result of init. A bad line or a failed step gets an error
/// record and the session goes on with the last good model.
#[derive(clap::Args)]
struct SessionArgs {
    /// The extension (default: the project's built component).
    ext: Option<std::ffi::OsString>,
    /// The init flags: JSON, or @file (default: {}).
    #[arg(long, value_name = "JSON|@FILE")]
    init: Option<String>,
    /// At the end of stdin, keep running what the extension asked for until no command or
    /// subscription is pending (otherwise the session ends with stdin).
    #[arg(long)]
    until_idle: bool,
    #[command(flatten)]
    envelope: EnvelopeArgs,
    #[command(flatten)]
    host: HostArgs,
}

#[derive(clap::Args)]
struct EnvelopeArgs {
    /// The session id stamped on every envelope (default: a new random one).
    #[arg(long, value_name = "ID")]
    session_id: Option<String>,
    /// The content type of the init data and the messages; with anything but JSON they are sent
    /// as the bytes given.
    #[arg(long, value_name = "TYPE", default_value = JSON_TYPE)]
    content_type: String,
}

/// Call a design-time export: `frontend-compile` (design-time-frontend) or `backend-generate`
/// (design-time-backend), with a file as the input envelope's content.
#[derive(clap::Args)]
struct CallArgs {
    /// The extension: a .wasm/.wat file, a local registry id or an OCI reference.
    ext: std::ffi::OsString,
    #[arg(value_enum)]
    function: DesignTimeFn,
    /// The input file (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    input: String,
    /// The input's content type (default: application/json for .json files, text/plain for other
    /// UTF-8 text, application/octet-stream otherwise).
    #[arg(long, value_name = "TYPE")]
    content_type: Option<String>,
    /// Write the output envelope's content, as bytes, to this file.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<std::path::PathBuf>,
    #[command(flatten)]
    host: HostArgs,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DesignTimeFn {
    FrontendCompile,
    BackendGenerate,
}

pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    match args.command {
        ExtCommand::Info(a) => info(a, out),
        ExtCommand::Run(a) => run_steps(a, out),
        ExtCommand::Session(a) => session(a, out),
        ExtCommand::Call(a) => call(a, out),
    }
}

/// The extension's bytes and its host settings, from the arguments.
struct Loaded {
    src: MorphSource,
    sandbox: morph_runtime::Sandbox,
    settings: ExtSettings,
}

fn load(ext: Option<&std::ffi::OsStr>, host: &HostArgs, out: &Output) -> Result<Loaded> {
    let (src, sandbox) = morph_and_sandbox(ext, &host.sandbox, out)?;
    let mut settings = ExtSettings::default();
    settings.log_level = log_level(out);
    for v in &host.env_vars {
        settings.set_from_arg(v).map_err(anyhow::Error::msg)?;
    }
    Ok(Loaded { src, sandbox, settings })
}

/// The extension's log lines shown: info and up by default, -v debug, -vv trace, -q errors.
fn log_level(out: &Output) -> LogLevel {
    match (out.quiet, out.verbose) {
        (true, _) => LogLevel::Error,
        (_, 0) => LogLevel::Info,
        (_, 1) => LogLevel::Debug,
        _ => LogLevel::Trace,
    }
}

/// Runs `body` with a live session of the loaded extension; a runtime error becomes morph's
/// exit code (2 for bad input, 1 for a trap or a limit) with the message on stderr, as for
/// `morph run`.
fn with_session<F>(loaded: Loaded, out: &Output, body: F) -> Result<ExitCode>
where
    F: AsyncFnOnce(&mut ExtensionSession) -> Result<Option<i32>, RuntimeError>,
{
    let Loaded { src, sandbox, settings } = loaded;
    let result = block_on(async {
        let prepared = sandbox.prepare_extension((&src).into())?;
        let mut session = sandbox.extension(&prepared, settings).await?;
        body(&mut session).await
    });
    finish(result, out)
}

/// [`with_session`] for a TEA session whose state is `tea`, its effects run.
fn with_hosted<F>(loaded: Loaded, tea: Tea, out: &Output, body: F) -> Result<ExitCode>
where
    F: AsyncFnOnce(&mut Hosted) -> Result<Option<i32>, RuntimeError>,
{
    let Loaded { src, sandbox, settings } = loaded;
    let result = block_on(async {
        let prepared = sandbox.prepare_extension((&src).into())?;
        let session = sandbox.extension(&prepared, settings).await?;
        body(&mut Hosted::new(session, tea)).await
    });
    finish(result, out)
}

fn info(args: InfoArgs, out: &Output) -> Result<ExitCode> {
    let loaded = load(args.ext.as_deref(), &args.host, out)?;
    with_session(loaded, out, async |s| {
        let caps = s.capabilities().await?;
        if out.json {
            out.json(&show_envelope(&caps));
        } else {
            out.line(show_content_pretty(&caps));
        }
        Ok(None)
    })
}

fn run_steps(args: RunArgs, out: &Output) -> Result<ExitCode> {
    let loaded = load(args.ext.as_deref(), &args.host, out)?;
    let tea = Tea::new(args.envelope.session_id.clone(), args.envelope.content_type.clone());
    let flags = init_content(&tea, args.init.as_deref())?;
    let msgs = args
        .msgs
        .iter()
        .enumerate()
        .map(|(i, m)| tea.content(m, &format!("--msg #{}", i + 1)).map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()?;
    let session_id = tea.session_id.clone();
    let mut steps = Vec::new();
    with_hosted(loaded, tea, out, async |h| {
        let mut record = |step: Json| {
            if !out.json {
                print_step(&step, out);
            }
            steps.push(step);
        };
        let outcome: Result<(), RuntimeError> = async {
            record(h.init(flags).await?);
            for m in msgs {
                record(h.send(m).await?);
            }
            // A delivered message that fails ends the run as a --msg would.
            while args.until_idle && !h.effects.idle() {
                let d = h.effects.next().await;
                let mut step = h.send(d.bytes()).await?;
                step["source"] = json!(d.source);
                record(step);
            }
            Ok(())
        }
        .await;
        if out.json {
            let mut doc = json!({ "session-id": session_id, "steps": steps });
            if let Err(e) = &outcome {
                // One document on stdout, the error in it; the exit code still says it failed.
                doc["error"] = json!(e.to_string());
                out.json(&doc);
                eprintln!("error: {e}");
                return Ok(Some(crate::exit::of_runtime(e)));
            }
            out.json(&doc);
        }
        outcome.map(|()| None)
    })
}

fn session(args: SessionArgs, out: &Output) -> Result<ExitCode> {
    use tokio::io::AsyncBufReadExt;
    let loaded = load(args.ext.as_deref(), &args.host, out)?;
    let tea = Tea::new(args.envelope.session_id.clone(), args.envelope.content_type.clone());
    let flags = init_content(&tea, args.init.as_deref())?;
    with_hosted(loaded, tea, out, async |h| {
        // Without a first model there is nothing to update: a failed init ends the session.
        out.line(h.init(flags).await?.to_string());
        let mut stdin = tokio::io::BufReader::new(tokio::io::stdin());
        let (mut line_no, mut open) = (0, true);
        // Kept across turns: a read interrupted by a delivery has put its bytes here already.
        let mut line = Vec::new();
        while open || (args.until_idle && !h.effects.idle()) {
            let record = tokio::select! {
                read = stdin.read_until(b'\n', &mut line), if open => {
                    let n = read.map_err(|source| RuntimeError::Io { action: "read", path: "stdin".into(), source })?;
                    if n == 0 {
                        open = false;
                        continue;
                    }
                    line_no += 1;
                    let mut line = std::mem::take(&mut line);
                    if line.last() == Some(&b'\n') {
                        line.pop();
                    }
                    match h.tea.line_message(line_no, line) {
                        Ok(None) => continue,
                        Err(record) => record,
                        Ok(Some(msg)) => match h.send(msg).await {
                            Ok(step) => step,
                            // The model is still the last good one; a fresh instance took over.
                            Err(e) if is_step_failure(&e) => {
                                json!({ "line": line_no, "seqnum": h.tea.seqnum, "error": e.to_string() })
                            }
                            Err(e) => return Err(e),
                        },
                    }
                }
                d = h.effects.next() => h.deliver(d).await?,
            };
            out.line(record.to_string());
        }
        Ok(None)
    })
}

fn call(args: CallArgs, out: &Output) -> Result<ExitCode> {
    let loaded = load(Some(&args.ext), &args.host, out)?;
    let content = if args.input == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).context("cannot read the input from stdin")?;
        buf
    } else {
        std::fs::read(&args.input).with_context(|| format!("cannot read --input {}", args.input))?
    };
    let content_type = args.content_type.clone().unwrap_or_else(|| guess_content_type(&args.input, &content));
    let which = match args.function {
        DesignTimeFn::FrontendCompile => DesignTime::FrontendCompile,
        DesignTimeFn::BackendGenerate => DesignTime::BackendGenerate,
    };
    let input = Envelope {
        header: Header { seqnum: 0, session_id: new_session_id(), kind: Some("input".into()) },
        content_type,
        content,
    };
    with_session(loaded, out, async |s| {
        let result = s.design_time(which, &input).await.map_err(|e| step_error(which.function(), 0, e))?;
        if let Some(path) = &args.output {
            morph_registry_client::atomic::write_output(path, &result.content).map_err(|source| RuntimeError::Io {
                action: "write",
                path: path.clone(),
                source,
            })?;
        }
        if out.json {
            out.json(&show_envelope(&result));
        } else if args.output.is_none() {
            out.line(show_content_pretty(&result));
        }
        Ok(None)
    })
}

fn init_content(tea: &Tea, init: Option<&str>) -> Result<Vec<u8>> {
    let text = match init {
        Some(arg) => match arg.strip_prefix('@') {
            Some(path) => std::fs::read_to_string(path).with_context(|| format!("cannot read --init file {path}"))?,
            None => arg.to_string(),
        },
        None if is_json(&tea.content_type) => "{}".to_string(),
        None => String::new(),
    };
    tea.content(&text, "--init").map_err(anyhow::Error::msg)
}

fn guess_content_type(path: &str, content: &[u8]) -> String {
    if path.ends_with(".json") {
        JSON_TYPE.into()
    } else if std::str::from_utf8(content).is_ok() {
        "text/plain".into()
    } else {
        "application/octet-stream".into()
    }
}

/// The content alone, for `info` and `call`: JSON pretty-printed, other content as base64.
fn show_content_pretty(e: &Envelope) -> String {
    let pretty = |v: Json| serde_json::to_string_pretty(&v).unwrap_or_default();
    match json_content(e) {
        Some(v) => pretty(v),
        None if is_json(&e.content_type) => pretty(json!({ "base64": base64_encode(&e.content) })),
        None => base64_encode(&e.content),
    }
}

fn print_step(step: &Json, out: &Output) {
    let compact = |v: &Json| match v.get("content") {
        Some(c) => c.to_string(),
        None => format!("(base64) {}", v["content-base64"].as_str().unwrap_or_default()),
    };
    let message = match &step["message"] {
        Json::Object(o) if o.contains_key("base64") => format!("(base64) {}", o["base64"].as_str().unwrap_or_default()),
        m => m.to_string(),
    };
    let source = step["source"].as_str().map(|s| format!(" (from {s})")).unwrap_or_default();
    out.line(format!("#{} {} {message}{source}", step["seqnum"], step["step"].as_str().unwrap_or_default()));
    out.line(format!("  model          {}", compact(&step["model"])));
    out.line(format!("  commands       {}", compact(&step["commands"])));
    out.line(format!("  subscriptions  {}", compact(&step["subscriptions"])));
    if let Some(events) = step.get("events") {
        out.line(format!("  events         {events}"));
    }
}
