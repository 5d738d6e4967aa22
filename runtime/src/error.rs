//! The runtime's errors: what went wrong, with its data and cause; the binary renders them and
//! picks the exit code.

/// What went wrong in a run, a call, a session or a server. The binary decides what each means
/// as an exit code; variants carry their data and, where there is one, their cause.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A bare export name that more than one exported interface has.
    #[error("`{name}` is ambiguous; name one of:\n{}", indented(candidates))]
    AmbiguousExport { name: String, candidates: Vec<String> },
    /// A call with the wrong number of arguments.
    #[error("{function} takes {expected} argument(s), {given} given\n  {signature}")]
    Arity { function: String, expected: usize, given: usize, signature: String },
    /// A WAVE argument that does not parse as its parameter's type.
    #[error("argument {param} is not WAVE for {expected}")]
    Wave {
        param: String,
        expected: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// `--invoke` text that is not a call, or whose arguments do not fit.
    #[error("`{call}` is not a call of {signature}")]
    BadCall {
        call: String,
        signature: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An export taking a resource, which no command line can make.
    #[error("{function} takes a resource (`{param}`), which cannot be passed from the command line")]
    ResourceParameter { function: String, param: String },
    /// The morph's own `hayride:http/config` cannot be used to serve it.
    #[error("the morph's hayride:http/config {problem}; pass --addr")]
    MorphConfig { problem: String },
    /// A Morphir extension without the export a command needs.
    #[error("the morph does not export {interface}0 (it is not a Morphir extension with `{function}`)")]
    NotAnExtension { interface: &'static str, function: &'static str },
    /// An extension export whose type is not the one morphir:ext declares.
    #[error("the extension's `{function}` does not have the signature morphir:ext declares; `morph validate --world extension` shows the difference")]
    ExtensionSignature {
        function: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A core-module extension that imports what morph does not provide (each import with why).
    #[error("{} imports what morph does not provide to a core-module extension:\n{}", origin.display(), indented(imports))]
    PluginImports { origin: std::path::PathBuf, imports: Vec<String> },
    /// A core-module extension's export that is not a plug-in function.
    #[error("the extension's export `{export}` is not a plug-in function `() -> i32` (what the Extism PDKs' #[plugin_fn] makes)")]
    PluginSignature { export: String },
    /// A core-module extension's function that returned failure (with the error it set).
    #[error("`{export}` failed (it returned {code}){}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    PluginFailed { export: String, code: i32, message: Option<String> },
    /// Bytes a core-module extension returned that are not what the envelope ABI says.
    #[error("`{export}` returned {len} byte(s) that are not an envelope: {reason}; they start {preview:?}")]
    BadEnvelope { export: String, len: usize, reason: String, preview: String },
    /// Reading or writing what a command streams (stdin, an output file).
    #[error("cannot {action} {}", path.display())]
    Io {
        action: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A `--dir` grant whose directory cannot be opened.
    #[error("cannot open --dir {}", host.display())]
    DirGrant {
        host: std::path::PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// wasmtime cannot compile a valid component (an unsupported feature, say).
    #[error("cannot compile {}", origin.display())]
    Compile {
        origin: std::path::PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An import the runtime does not provide, or does not provide with this type.
    #[error("the morph cannot be instantiated; `morph validate` lists imports morph's runtime does not provide")]
    Instantiate {
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A host interface imported without its `--allow` grant.
    #[error("{}", not_granted(interface, grant, *spawned))]
    NotGranted { interface: String, grant: &'static str, spawned: bool },
    /// `run` of a morph without `wasi:cli/run`.
    #[error("the morph is not a command: it does not export wasi:cli/run; use `morph call` for its exports")]
    NotACommand,
    /// `serve` of a morph with neither handler.
    #[error("the morph exports neither wasi:http/incoming-handler nor hayride:socket/websocket, so there is nothing to serve; use `morph run` for commands")]
    NothingToServe,
    /// No export by that name; `available` lists the signatures there are.
    #[error("the morph has no export `{name}`; it exports:\n{available}")]
    NoSuchExport { name: String, available: String },
    /// An argument that does not fit its parameter's type.
    #[error("argument {0}")]
    Argument(crate::values::ValueError),
    /// `serve` cannot listen where it was told to.
    #[error("cannot listen on {addr}")]
    Listen {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The guest trapped (exit 1); the text has the trap and its backtrace.
    #[error("the morph trapped: {0}")]
    Trap(String),
    /// A limit stopped the guest (exit 1).
    #[error("{0}")]
    Limit(LimitHit),
    /// The guest exited with this code.
    #[error("the morph exited with code {0}")]
    Exit(i32),
    /// A step of a longer session (an extension's `update`, say) failed as `source` says.
    #[error("in {step}: {source}")]
    Step { step: String, source: Box<RuntimeError> },
    /// The input is not a component, in the words `validate` uses.
    #[error(transparent)]
    Contract(#[from] morph_contract::ContractError),
    /// A failure of morph itself.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Which limit stopped a guest, with the flag's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitHit {
    #[error("the morph needed more memory than --max-memory {} allows", crate::limits::format_size(*.max))]
    Memory { max: usize },
    #[error("the morph ran out of fuel (--fuel {fuel})")]
    Fuel { fuel: u64 },
    #[error("the morph ran longer than --timeout {timeout:?} and was stopped")]
    Timeout { timeout: std::time::Duration },
    /// A spawned morph killed (`hayride:silo/threads.kill`) before it started.
    #[error("the morph was killed")]
    Killed,
}

fn indented(lines: &[String]) -> String {
    lines.iter().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n")
}

fn not_granted(interface: &str, grant: &str, spawned: bool) -> String {
    if spawned && grant == "silo" {
        format!("the spawned morph imports {interface}, but a spawned morph may not spawn others; grant it with --allow silo-nested")
    } else {
        format!("the morph imports {interface}, which is not granted; grant it with --allow {grant}")
    }
}

impl RuntimeError {
    pub(crate) fn internal(e: impl std::fmt::Debug) -> RuntimeError {
        RuntimeError::Internal(format!("{e:?}"))
    }
}
