//! `morph ext`: host a Morphir extension (`morphir:ext/extension`). morph stamps every envelope
//! it sends (seqnum, session id, kind), keeps the model between steps and shows what came back.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{Context, Result};
use morph_runtime::{DesignTime, Envelope, ExtSettings, ExtensionSession, Header, LogLevel, RuntimeError};
use serde_json::{json, Value as Json};

use super::run::finish;
use super::sandbox::{block_on, morph_and_policy, MorphSource, SandboxArgs};
use crate::output::Output;

const JSON_TYPE: &str = "application/json";

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
    policy: morph_runtime::Policy,
    settings: ExtSettings,
}

fn load(ext: Option<&std::ffi::OsStr>, host: &HostArgs, out: &Output) -> Result<Loaded> {
    let (src, policy) = morph_and_policy(ext, &host.sandbox)?;
    let mut settings = ExtSettings { log_level: log_level(out), ..Default::default() };
    for v in &host.env_vars {
        let (name, value) = morph_runtime::parse_env_var(v).map_err(anyhow::Error::msg)?;
        settings.vars.insert(name, value);
    }
    Ok(Loaded { src, policy, settings })
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
fn with_session<F>(loaded: Loaded, host: &HostArgs, out: &Output, body: F) -> Result<ExitCode>
where
    F: for<'p> AsyncFnOnce(&mut ExtensionSession<'p>) -> Result<Option<i32>, RuntimeError>,
{
    let policy = loaded.policy;
    let limits = host.sandbox.limits();
    let home = host.sandbox.cache_home();
    let argv = vec![loaded.src.name.clone()];
    let result = block_on(async {
        let prepared = morph_runtime::prepare(
            &loaded.src.bytes,
            &loaded.src.digest,
            &loaded.src.origin,
            &limits,
            home.as_deref(),
        )?;
        let mut session = ExtensionSession::start(&prepared, &policy, &limits, &argv, loaded.settings).await?;
        body(&mut session).await
    });
    finish(result, out)
}

fn info(args: InfoArgs, out: &Output) -> Result<ExitCode> {
    let loaded = load(args.ext.as_deref(), &args.host, out)?;
    with_session(loaded, &args.host, out, async |s| {
        let caps = s.capabilities().await?;
        if out.json {
            out.json(&show_envelope(&caps));
        } else {
            out.line(show_content_pretty(&caps));
        }
        Ok(None)
    })
}

/// Host-side state of a TEA session: the stamps and the last good model.
struct Tea {
    session_id: String,
    content_type: String,
    seqnum: u64,
    model: Option<Envelope>,
}

impl Tea {
    fn new(args: &EnvelopeArgs) -> Tea {
        Tea {
            session_id: args.session_id.clone().unwrap_or_else(new_session_id),
            content_type: args.content_type.clone(),
            seqnum: 0,
            model: None,
        }
    }

    fn header(&self, kind: &str) -> Header {
        Header { seqnum: self.seqnum, session_id: self.session_id.clone(), kind: Some(kind.to_string()) }
    }

    fn stamp(&self, kind: &str, content: Vec<u8>) -> Envelope {
        Envelope { header: self.header(kind), content_type: self.content_type.clone(), content }
    }

    async fn init(&mut self, s: &mut ExtensionSession<'_>, flags: Vec<u8>) -> Result<Json, RuntimeError> {
        self.seqnum = 0;
        let sent = self.stamp("flags", flags);
        let (model, commands) = s.init(&sent).await.map_err(|e| step_error("init", 0, e))?;
        self.after("init", show_content(&sent), model, commands, s).await
    }

    async fn update(&mut self, s: &mut ExtensionSession<'_>, msg: Vec<u8>) -> Result<Json, RuntimeError> {
        self.seqnum += 1;
        let sent = self.stamp("msg", msg);
        let header = self.header("model");
        // The model goes back in with the extension's content, stamped with this step.
        let model = self.model.as_mut().expect("init ran first");
        model.header = header;
        let (model, commands) = s.update(&sent, model).await.map_err(|e| step_error("update", self.seqnum, e))?;
        self.after("update", show_content(&sent), model, commands, s).await
    }

    /// Keeps the new model, asks for its subscriptions, and gives the step's record (with the
    /// model as the extension returned it).
    async fn after(
        &mut self,
        step: &str,
        message: Json,
        mut model: Envelope,
        commands: Envelope,
        s: &mut ExtensionSession<'_>,
    ) -> Result<Json, RuntimeError> {
        let shown = show_envelope(&model);
        model.header = self.header("model");
        let model = self.model.insert(model);
        let subs = s.subscriptions(model).await.map_err(|e| step_error("subscriptions", self.seqnum, e))?;
        Ok(json!({
            "step": step,
            "seqnum": self.seqnum,
            "message": message,
            "model": shown,
            "commands": show_envelope(&commands),
            "subscriptions": show_envelope(&subs),
        }))
    }

    /// The bytes of a message or init data the user wrote: JSON is checked (and sent as
    /// written); other content types are sent as they are.
    fn content(&self, text: &str, origin: &str) -> Result<Vec<u8>, String> {
        if is_json(&self.content_type) {
            if let Err(e) = serde_json::from_str::<Json>(text) {
                return Err(format!(
                    "{origin} is not JSON ({e}): {text:?}; quote strings ('\"Increment\"') or pass \
                     --content-type for other content"
                ));
            }
        }
        Ok(text.trim_end_matches(['\r', '\n']).as_bytes().to_vec())
    }
}

/// Names the step that failed; the error keeps its kind (and so its exit code). An extension
/// that is not one is not a step's fault.
fn step_error(step: &str, seqnum: u64, e: RuntimeError) -> RuntimeError {
    match e {
        RuntimeError::Input(_) | RuntimeError::Internal(_) => e,
        e => RuntimeError::Step { step: format!("{step} (seqnum {seqnum})"), source: Box::new(e) },
    }
}

fn run_steps(args: RunArgs, out: &Output) -> Result<ExitCode> {
    let loaded = load(args.ext.as_deref(), &args.host, out)?;
    let mut tea = Tea::new(&args.envelope);
    let flags = init_content(&tea, args.init.as_deref())?;
    let msgs = args
        .msgs
        .iter()
        .enumerate()
        .map(|(i, m)| tea.content(m, &format!("--msg #{}", i + 1)).map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()?;
    let session_id = tea.session_id.clone();
    let mut steps = Vec::new();
    with_session(loaded, &args.host, out, async |s| {
        let mut outcome = Ok(None);
        let first = tea.init(s, flags).await;
        let mut record = |r: Result<Json, RuntimeError>| match r {
            Ok(step) => {
                if !out.json {
                    print_step(&step, out);
                }
                steps.push(step);
                true
            }
            Err(e) => {
                outcome = Err(e);
                false
            }
        };
        if record(first) {
            for m in msgs {
                if !record(tea.update(s, m).await) {
                    break;
                }
            }
        }
        if out.json {
            let mut doc = json!({ "session-id": session_id, "steps": steps });
            if let Err(e) = &outcome {
                // One document on stdout, the error in it; the exit code still says it failed.
                doc["error"] = json!(e.to_string());
                out.json(&doc);
                eprintln!("error: {e}");
                return Ok(Some(crate::exit::of_runtime(&e)));
            }
            out.json(&doc);
        }
        outcome
    })
}

fn session(args: SessionArgs, out: &Output) -> Result<ExitCode> {
    let loaded = load(args.ext.as_deref(), &args.host, out)?;
    let mut tea = Tea::new(&args.envelope);
    let flags = init_content(&tea, args.init.as_deref())?;
    with_session(loaded, &args.host, out, async |s| {
        // Without a first model there is nothing to update: a failed init ends the session.
        let first = tea.init(s, flags).await?;
        out.line(first.to_string());
        let stdin = std::io::stdin();
        for (n, line) in stdin.lock().split(b'\n').enumerate() {
            let line = line.map_err(|e| RuntimeError::Input(format!("cannot read stdin: {e}")))?;
            // A line that is not UTF-8 is that line's error, as a line that is not JSON is.
            let line = match String::from_utf8(line) {
                Ok(text) => text,
                Err(e) => {
                    let at = e.utf8_error().valid_up_to();
                    let error = format!(
                        "line {} is not UTF-8 text (invalid byte at column {}); send UTF-8 JSON",
                        n + 1,
                        at + 1
                    );
                    out.line(json!({ "line": n + 1, "error": error }).to_string());
                    continue;
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            let record = match tea.content(line.trim_end_matches('\r'), &format!("line {}", n + 1)) {
                Err(e) => json!({ "line": n + 1, "error": e }),
                Ok(msg) => match tea.update(s, msg).await {
                    Ok(step) => step,
                    Err(e) => {
                        // The model is still the last good one; a fresh instance takes over.
                        s.recover().await?;
                        json!({ "line": n + 1, "seqnum": tea.seqnum, "error": e.to_string() })
                    }
                },
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
    with_session(loaded, &args.host, out, async |s| {
        let result = s.design_time(which, &input).await.map_err(|e| step_error(which.function(), 0, e))?;
        if let Some(path) = &args.output {
            morph_registry_client::atomic::write_output(path, &result.content)
                .map_err(|e| RuntimeError::Input(format!("cannot write {}: {e}", path.display())))?;
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

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == JSON_TYPE || essence.ends_with("+json") || essence == "text/json"
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

/// The content, decoded, when the envelope says it is JSON and it is.
fn json_content(e: &Envelope) -> Option<Json> {
    is_json(&e.content_type).then(|| serde_json::from_slice(&e.content).ok()).flatten()
}

/// An envelope's content for people and scripts: JSON when it is JSON, otherwise base64.
fn show_content(e: &Envelope) -> Json {
    json_content(e).unwrap_or_else(|| json!({ "base64": base64_encode(&e.content) }))
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

/// The whole envelope as JSON; `content` decoded, or `content-base64` when it is not JSON.
fn show_envelope(e: &Envelope) -> Json {
    let mut v = json!({
        "seqnum": e.header.seqnum,
        "session-id": e.header.session_id,
        "kind": e.header.kind,
        "content-type": e.content_type,
    });
    match json_content(e) {
        Some(c) => v["content"] = c,
        None => v["content-base64"] = json!(base64_encode(&e.content)),
    }
    v
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
    out.line(format!("#{} {} {message}", step["seqnum"], step["step"].as_str().unwrap_or_default()));
    out.line(format!("  model          {}", compact(&step["model"])));
    out.line(format!("  commands       {}", compact(&step["commands"])));
    out.line(format!("  subscriptions  {}", compact(&step["subscriptions"])));
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A session id no other run shares: std's randomly keyed hasher over the time and the pid.
fn new_session_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}
