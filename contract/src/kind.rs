//! What a component is, decided from its exports: the rule the Hayride runtime applies when it
//! casts a morph, written down.

use serde::Serialize;
use wit_parser::{Resolve, WorldId};

use crate::names::InterfaceName;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Exports `wasi:cli/run`.
    Command,
    /// Exports `wasi:http/incoming-handler`.
    Http,
    /// Exports `hayride:socket/websocket`.
    Websocket,
    /// Exports `morphir:ext/program`.
    Extension,
    /// Any other component.
    Reactor,
    /// A WIT package, not a component.
    Library,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Command => "command",
            Kind::Http => "http",
            Kind::Websocket => "websocket",
            Kind::Extension => "extension",
            Kind::Reactor => "reactor",
            Kind::Library => "library",
        }
    }

    /// The bundled world a morph of this kind is checked against by default.
    pub fn default_world(self) -> Option<&'static str> {
        match self {
            Kind::Command => Some("hayride-cli"),
            Kind::Http => Some("hayride-server"),
            Kind::Websocket => Some("hayride-ws"),
            Kind::Extension => Some("extension"),
            Kind::Reactor | Kind::Library => None,
        }
    }
}

/// Export bases in the order they decide the kind.
const RULES: &[(&str, Kind)] = &[
    ("wasi:cli/run", Kind::Command),
    ("wasi:http/incoming-handler", Kind::Http),
    ("hayride:socket/websocket", Kind::Websocket),
    ("morphir:ext/program", Kind::Extension),
];

pub fn classify(resolve: &Resolve, world: WorldId) -> Kind {
    let exports: Vec<String> = resolve.worlds[world].exports.keys().map(|k| resolve.name_world_key(k)).collect();
    classify_names(&exports)
}

/// [`classify`] from export names alone (`wasi:cli/run@0.2.3`), for a component WIT cannot
/// describe.
pub fn classify_names(exports: &[String]) -> Kind {
    let exports: Vec<InterfaceName> = exports.iter().map(|e| InterfaceName::parse(e)).collect();
    RULES.iter().find(|(base, _)| exports.iter().any(|e| e.base == *base)).map_or(Kind::Reactor, |(_, kind)| *kind)
}
