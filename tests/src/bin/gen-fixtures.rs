//! Writes the generated WAT fixtures: components whose bodies trap (`unreachable`) but whose
//! imports and exports are exactly a given world. They exercise `validate` and `inspect`, whose
//! answers depend only on the component's type. Run: `cargo run -p morph-e2e --bin gen-fixtures`.

use std::path::Path;

use anyhow::{Context, Result};
use morph_contract::Contract;
use wit_component::{dummy_module, embed_component_metadata, ComponentEncoder, StringEncoding};
use wit_parser::{ManglingAndAbi, Resolve};

/// (file, header comment, extra WIT to add to the bundled contract, world to implement)
const FIXTURES: &[(&str, &str, &str, &str)] = &[
    ("http-server.wat", "An http morph for hayride-server: exports wasi:http/incoming-handler and hayride:http/config.", "", "hayride:runtime/hayride-server@0.0.1"),
    ("websocket.wat", "A websocket morph: exports hayride:socket/websocket.", "", "hayride:runtime/hayride-ws@0.0.1"),
    ("extension.wat", "A Morphir extension: imports morphir:ext/runtime, exports morphir:ext/program.", "", "morphir:ext/extension@0.1.0"),
    ("reactor-db.wat", "A reactor that imports hayride:db/db and exports a function of its own.",
        "package fixture:db-reactor; world w { import hayride:db/db@0.0.65; export count-rows: func(table: string) -> u64; }", "fixture:db-reactor/w"),
    ("reactor-plain.wat", "A reactor with no imports that exports `add`.",
        "package fixture:calc; world w { export add: func(a: u32, b: u32) -> u32; }", "fixture:calc/w"),
    ("command-rust-like.wat", "A command importing what a Rust wasm32-wasip2 binary does, plus terminal and socket interfaces.",
        "package fixture:rusty; world w { include hayride:wasip2/imports@0.0.65; import wasi:cli/terminal-stdout@0.2.0; import wasi:cli/terminal-output@0.2.0; import wasi:sockets/tcp@0.2.0; export wasi:cli/run@0.2.0; }", "fixture:rusty/w"),
    ("command-unprovided.wat", "A command that imports an interface no host provides.",
        "package fixture:needs; interface secrets { reveal: func(name: string) -> string; } world w { import secrets; export wasi:cli/run@0.2.0; }", "fixture:needs/w"),
];

/// A config interface whose `get` returns the wrong record: a type mismatch on a required export.
const MISMATCH_WIT: &str = "package hayride:http@0.0.65;
interface types { enum error-code { invalid, not-found, unknown }
  record server-config { address: string, read-timeout: u64, write-timeout: u32, max-header-bytes: u32 } }
interface config { use types.{server-config, error-code}; resource error { code: func() -> error-code; data: func() -> string; }
  get: func() -> result<server-config, error>; }
world w { export wasi:http/incoming-handler@0.2.0; export config; }";

fn main() -> Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for (file, about, extra, world) in FIXTURES {
        let mut resolve = Contract::bundled().resolve.clone();
        if !extra.is_empty() {
            resolve.push_source("fixture.wit", extra)?;
        }
        write(&dir.join(file), about, &resolve, world)?;
    }
    // The mismatch needs its own hayride:http, so it starts from WASI alone.
    let mut resolve = wasi_packages(&Contract::bundled().resolve)?;
    resolve.push_source("mismatch.wit", MISMATCH_WIT)?;
    write(
        &dir.join("http-config-mismatch.wat"),
        "An http morph whose hayride:http/config returns read-timeout as u64 instead of u32.",
        &resolve,
        "hayride:http/w@0.0.65",
    )?;
    Ok(())
}

/// The bundled WASI packages only, as a fresh resolve.
fn wasi_packages(bundled: &Resolve) -> Result<Resolve> {
    let keep: Vec<_> = bundled
        .packages
        .iter()
        .filter(|(_, p)| p.name.namespace == "wasi" && p.name.name != "config")
        .map(|(id, _)| id)
        .collect();
    // Rebuild from the printed WIT of the kept packages so nothing of hayride:http remains.
    let mut fresh = Resolve::new();
    let mut printed = Vec::new();
    for id in bundled.topological_packages() {
        if keep.contains(&id) {
            let mut printer = wit_component::WitPrinter::default();
            printer.print(bundled, id, &[])?;
            printed.push(printer.output.to_string());
        }
    }
    for (i, text) in printed.iter().enumerate() {
        fresh.push_source(&format!("wasi-{i}.wit"), text)?;
    }
    Ok(fresh)
}

fn write(path: &Path, about: &str, resolve: &Resolve, world: &str) -> Result<()> {
    let pkg_ids: Vec<_> = resolve.packages.iter().map(|(id, _)| id).collect();
    let world_id = resolve.select_world(&pkg_ids, Some(world)).with_context(|| format!("world {world}"))?;
    let mut module = dummy_module(resolve, world_id, ManglingAndAbi::Standard32);
    embed_component_metadata(&mut module, resolve, world_id, StringEncoding::UTF8)?;
    let component = ComponentEncoder::default().module(&module)?.validate(true).encode()?;
    let text = wasmprinter::print_bytes(&component)?;
    let header = format!(";; {about}\n;; Generated by `cargo run -p morph-e2e --bin gen-fixtures`; bodies trap, the type is the point.\n");
    std::fs::write(path, header + &text)?;
    println!("wrote {}", path.display());
    Ok(())
}
