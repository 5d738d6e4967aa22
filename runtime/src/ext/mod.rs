//! Hosting a Morphir extension: a component (`morphir:ext/extension`) or a core module (the
//! Extism plug-in ABI, envelopes as JSON bytes), the same to everything above this module. One
//! instance is kept across the calls of a session, each call a step with its own `--timeout`
//! and `--fuel`. The model lives on the host side (TEA passes it into every `update`), so a
//! trapped step costs only that step: the instance is replaced and the session goes on with the
//! last good model and the env vars set so far.

use wasmtime::component::{ComponentType, Lift, Lower};

mod component;
pub mod effects;
pub mod envelope_json;
pub mod hosted;
mod plugin;
pub mod tea;

use crate::host::morphir::ExtSettings;
use crate::sandbox::{Morph, Prepared, Sandbox};
use crate::RuntimeError;
use component::LiveComponent;
use plugin::LivePlugin;
pub use plugin::PreparedPlugin;

/// `morphir:ext/envelope.header`.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
pub struct Header {
    pub seqnum: u64,
    #[component(name = "session-id")]
    pub session_id: String,
    pub kind: Option<String>,
}

/// `morphir:ext/envelope.envelope`: `content` is bytes of type `content_type`.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
pub struct Envelope {
    pub header: Header,
    #[component(name = "content-type")]
    pub content_type: String,
    pub content: Vec<u8>,
}

/// The interfaces an extension exports, matched by name on the 0.1 track.
const PROGRAM: &str = "morphir:ext/program@0.1.";
const FRONTEND: &str = "morphir:ext/design-time-frontend@0.1.";
const BACKEND: &str = "morphir:ext/design-time-backend@0.1.";

/// The design-time calls `morph ext call` makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DesignTime {
    FrontendCompile,
    BackendGenerate,
}

impl DesignTime {
    pub fn function(self) -> &'static str {
        match self {
            DesignTime::FrontendCompile => "frontend-compile",
            DesignTime::BackendGenerate => "backend-generate",
        }
    }

    fn interface(self) -> &'static str {
        match self {
            DesignTime::FrontendCompile => FRONTEND,
            DesignTime::BackendGenerate => BACKEND,
        }
    }
}

type Pair = (Envelope, Envelope);

/// An extension compiled and ready to instantiate: a component or a core module.
#[derive(Clone)]
pub enum PreparedExtension {
    Component(Prepared),
    Plugin(PreparedPlugin),
}

/// A live extension, of either kind.
pub struct ExtensionSession {
    sandbox: Sandbox,
    live: Live,
}

enum Live {
    // Boxed: a session holds one for its life, and the two differ in size by half.
    Component(Box<LiveComponent>),
    Plugin(Box<LivePlugin>),
}

impl Sandbox {
    /// Compiles `morph` as an extension: a core module as a plug-in, anything else as a
    /// component.
    pub fn prepare_extension(&self, morph: Morph<'_>) -> Result<PreparedExtension, RuntimeError> {
        if wasmparser::Parser::is_core_wasm(morph.bytes) {
            return self.prepare_plugin(morph).map(PreparedExtension::Plugin);
        }
        self.prepare(morph).map(PreparedExtension::Component)
    }

    /// Instantiates the extension `prepared`, with `settings` for its `runtime` functions.
    pub async fn extension(
        &self,
        prepared: &PreparedExtension,
        settings: ExtSettings,
    ) -> Result<ExtensionSession, RuntimeError> {
        let live = match prepared {
            PreparedExtension::Component(p) => {
                Live::Component(Box::new(LiveComponent::start(self, p, settings).await?))
            }
            PreparedExtension::Plugin(p) => {
                Live::Plugin(Box::new(LivePlugin::start(self, p, settings, Default::default()).await?))
            }
        };
        Ok(ExtensionSession { sandbox: self.clone(), live })
    }
}

impl ExtensionSession {
    /// `program.init(flags)`: the first model and commands.
    pub async fn init(&mut self, flags: &Envelope) -> Result<Pair, RuntimeError> {
        match &mut self.live {
            Live::Component(c) => c.init(flags).await,
            Live::Plugin(p) => p.init(flags).await,
        }
    }

    /// `program.update(msg, model)`: the next model and commands.
    pub async fn update(&mut self, msg: &Envelope, model: &Envelope) -> Result<Pair, RuntimeError> {
        match &mut self.live {
            Live::Component(c) => c.update(msg, model).await,
            Live::Plugin(p) => p.update(msg, model).await,
        }
    }

    /// `program.subscriptions(model)`.
    pub async fn subscriptions(&mut self, model: &Envelope) -> Result<Envelope, RuntimeError> {
        match &mut self.live {
            Live::Component(c) => c.subscriptions(model).await,
            Live::Plugin(p) => p.subscriptions(model).await,
        }
    }

    /// `program.get-capabilities()`.
    pub async fn capabilities(&mut self) -> Result<Envelope, RuntimeError> {
        match &mut self.live {
            Live::Component(c) => c.capabilities().await,
            Live::Plugin(p) => p.capabilities().await,
        }
    }

    /// `design-time-frontend.frontend-compile` or `design-time-backend.backend-generate`.
    pub async fn design_time(&mut self, which: DesignTime, input: &Envelope) -> Result<Envelope, RuntimeError> {
        match &mut self.live {
            Live::Component(c) => c.design_time(which, input).await,
            Live::Plugin(p) => p.design_time(which, input).await,
        }
    }

    /// After a failed step the instance may be left mid-call; this swaps in a fresh one that
    /// keeps the env vars the extension set.
    pub async fn recover(&mut self) -> Result<(), RuntimeError> {
        match &mut self.live {
            Live::Component(c) => c.recover().await,
            Live::Plugin(p) => p.recover(&self.sandbox).await,
        }
    }

    /// What the extension's `runtime` functions see now: its env vars as set so far.
    pub fn settings(&self) -> &ExtSettings {
        match &self.live {
            Live::Component(c) => c.settings(),
            Live::Plugin(p) => p.settings(),
        }
    }

    /// The sandbox the session runs in (its grants say which effects may run).
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }
}
