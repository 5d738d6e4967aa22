//! `morph compose` and `morph plug`: WAC composition with packages from deps, the local registry
//! and OCI.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use morph_compose::lock::{Change, Lock, Update, LOCK_FILE};
use morph_compose::{ComposeError, PlugInput, Sources};
use morph_contract::component::{Bytes, CodeCheck};
use morph_contract::{Component, WorldSpec};
use morph_registry_client::package::Network;

use super::registry::home;
use super::sandbox::{block_on, resolve_morph_path};
use crate::output::Output;

/// Compose components with a WAC file.
///
/// Packages the file names are looked up, in order: --dep, the deps directory, the local
/// registry (highest version when none is named), then the OCI registry config.toml maps to the
/// namespace. Those from outside the WAC file's folder are recorded in morph.lock beside it
/// (source, version, sha256); the next compose asks for the locked versions and warns when a
/// package's bytes changed. Exit 0: written; 1: the result does not conform to --target; 2: the
/// WAC file, a package or an argument is wrong (the message points into the WAC source), or
/// --locked and the lock would change.
#[derive(clap::Args)]
pub struct ComposeArgs {
    /// The WAC file.
    #[arg(required_unless_present = "path")]
    file: Option<PathBuf>,
    /// The WAC file, as Hayride's `wac compose --path` names it.
    #[arg(long, value_name = "FILE", conflicts_with = "file")]
    path: Option<PathBuf>,
    /// Where to write the component; `-` for stdout. Default: <file stem>.wasm.
    #[arg(long, short = 'o', visible_alias = "out", value_name = "OUT")]
    output: Option<PathBuf>,
    /// Use this file (a component, .wat, or WIT) for package ns:name (or ns:name@version).
    #[arg(long = "dep", short = 'd', value_name = "PKG=PATH", value_parser = parse_dep)]
    deps: Vec<(String, PathBuf)>,
    /// Look for packages here (DIR/ns/name.wasm, DIR/ns/name/VERSION.wasm, or a WIT directory
    /// DIR/ns/name/). Default: deps/ beside the WAC file and deps/ in the current directory.
    #[arg(long, value_name = "DIR")]
    deps_dir: Option<PathBuf>,
    /// Check the composed component against this world (as `morph validate --world`).
    #[arg(long, value_name = "WORLD")]
    target: Option<String>,
    /// Take the --target world from this WIT directory.
    #[arg(long, value_name = "DIR", requires = "target")]
    wit: Option<PathBuf>,
    /// Never reach an OCI registry (morphs pulled before still come from the cache).
    #[arg(long)]
    offline: bool,
    /// Do not compile a runnable result into the cache (its first run then starts on baseline
    /// code).
    #[arg(long)]
    no_precompile: bool,
    /// Fail, naming the package, when resolution differs from morph.lock (a package not in it,
    /// another version, other bytes); nothing is written.
    #[arg(long, conflicts_with = "update")]
    locked: bool,
    /// Resolve these packages (all, when none is named) afresh and move morph.lock on.
    #[arg(long, num_args = 0.., value_name = "PKG")]
    update: Option<Vec<String>>,
}

fn parse_dep(s: &str) -> Result<(String, PathBuf), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
            Ok((k.trim().to_string(), PathBuf::from(v.trim())))
        }
        _ => Err(format!("`{s}` is not PKG=PATH (for example --dep acme:greeter=./greeter.wasm)")),
    }
}

pub fn compose(mut args: ComposeArgs, out: &Output) -> Result<ExitCode> {
    let file = args.file.take().or(args.path.take()).context("give the WAC file")?;
    let source =
        std::fs::read_to_string(&file).with_context(|| format!("cannot read the WAC file {}", file.display()))?;
    let home = home()?;
    let deps_dirs = match &args.deps_dir {
        Some(dir) => vec![dir.clone()],
        None => {
            let beside = file.parent().unwrap_or(Path::new("")).join("deps");
            let here = PathBuf::from("deps");
            if same_dir(&beside, &here) {
                vec![here]
            } else {
                vec![beside, here]
            }
        }
    };
    // A morph pulled before is used from the cache (digest-verified) without asking the
    // registry; --offline stops there. A package without a version is the repository's highest
    // semver tag (wkg's rule); offline, the one pulled last.
    let network = if args.offline { Network::Offline } else { Network::Online };
    let fetch = |package: &str, version: Option<&semver::Version>| -> Result<(String, PathBuf), String> {
        let bar = out.download_bar(&format!("pulling {package}"));
        let fetched = block_on(morph_registry_client::package::fetch(&home, package, version, network, &|e| bar.on(e)));
        bar.finish();
        fetched.map(|f| (f.reference, f.path))
    };
    let wac_dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let lock = Lock::read(&wac_dir).map_err(anyhow::Error::msg)?;
    let update = match &args.update {
        None => Update::Keep,
        Some(names) if names.is_empty() => Update::All,
        Some(names) => Update::Only(names.clone()),
    };
    let mut sources = Sources::from_home(home.clone(), &fetch);
    sources.deps = args.deps.clone();
    sources.deps_dirs = deps_dirs;
    sources.pins = lock.pins(&update);
    let composition = morph_compose::compose(&file, &source, &sources, out.stderr_color()).map_err(input_error)?;
    let (relocked, changes) = lock.relock(&composition.packages, &wac_dir);
    if let Some(change) = changes.first().filter(|_| args.locked) {
        bail!(
            "--locked: {}; nothing was written. Compose without --locked to accept it, or `--update {}`",
            change.describe(),
            change.name()
        );
    }
    for change in &changes {
        let unexpected = !matches!(change, Change::Added { .. }) && update == Update::Keep;
        if unexpected && !out.quiet {
            eprintln!("warning: {}; {LOCK_FILE} is moved on", change.describe());
        }
    }

    let output = args.output.clone().unwrap_or_else(|| {
        PathBuf::from(format!("{}.wasm", file.file_stem().map_or("composed".into(), |s| s.to_string_lossy())))
    });
    // wac validated the composition as it encoded it; --target only needs its world.
    let bytes = match &args.target {
        None => Bytes::Owned(composition.bytes),
        Some(world) => {
            let comp = Component::from_binary(&output, composition.bytes, CodeCheck::Deferred)?;
            let spec = match &args.wit {
                Some(dir) => WorldSpec::Wit { dir, world: Some(world) },
                None => WorldSpec::Bundled { world, contract: None },
            };
            let v = morph_contract::validate(&comp, spec, false)?;
            if !v.valid {
                if out.json {
                    out.json(&v);
                } else {
                    super::validate::print_human(&v, out);
                }
                eprintln!("the composition does not conform to {world}; nothing was written");
                return Ok(ExitCode::from(crate::exit::CHECK_FAILED));
            }
            comp.bytes
        }
    };
    // The result is compiled into the cache as it is written (a WIT package is not).
    let runnable = morph_contract::component::decode_world(&output, &bytes)
        .map(|(r, w)| morph_contract::kind::classify(&r, w))
        .ok();
    let compiling = match runnable {
        Some(kind) if output != Path::new("-") => {
            let name = output.file_stem().map_or("composed".into(), |s| s.to_string_lossy().into_owned());
            Some(super::optimize::at_arrival(bytes.to_vec(), None, &name, kind, args.no_precompile))
        }
        _ => None,
    };
    write_output(&output, &bytes)?;
    if let Some(c) = compiling {
        c.finish();
    }
    // The composition is written; a lock that cannot be (a read-only folder) is only warned about.
    let lock_written = match changes.is_empty() {
        true => None,
        false => relocked.write(&wac_dir).map_err(|why| eprintln!("warning: {why}; the composition was written")).ok(),
    };

    // The digest is hashed only when it is shown: 18 MB cost 10 ms.
    let digest = || morph_contract::component::sha256_digest(&bytes);
    if out.json {
        let packages: Vec<_> = composition
            .packages
            .iter()
            .map(|p| serde_json::json!({ "package": p.key, "from": p.origin.describe() }))
            .collect();
        out.json(&serde_json::json!({
            "output": output, "size": bytes.len(), "digest": digest(), "packages": packages,
            "target": args.target, "lock": lock_written,
            "lock_changes": changes.iter().map(|c| c.describe()).collect::<Vec<_>>(),
        }));
    } else if !out.quiet {
        let mut err = std::io::stderr().lock();
        for p in &composition.packages {
            let _ = writeln!(err, "  {} <- {}", p.key, p.origin.describe());
        }
        let target = args.target.as_deref().map_or(String::new(), |w| format!(", conforms to {w}"));
        let _ = writeln!(
            err,
            "composed {} -> {} ({} bytes, {}{target})",
            file.display(),
            output.display(),
            bytes.len(),
            digest()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Plug components into a socket: each plug's exports satisfy the socket's imports.
///
/// Socket and plugs are files (.wasm or .wat) or local registry ids (ns:name@version). Every plug
/// must satisfy at least one import. Exit 0: written; 2: a plug fits nothing, or an input is
/// unusable.
#[derive(clap::Args)]
pub struct PlugArgs {
    /// The component whose imports are to be satisfied.
    #[arg(required_unless_present = "socket_flag")]
    socket: Option<std::ffi::OsString>,
    /// The socket, as Hayride's `wac plug --socket` names it.
    #[arg(long = "socket", id = "socket_flag", value_name = "SOCKET", conflicts_with = "socket")]
    socket_flag: Option<std::ffi::OsString>,
    /// A component whose exports satisfy some of them (repeat for several; earlier plugs win).
    #[arg(long = "plug", short = 'p', value_name = "PLUG", required_unless_present = "plugs_list")]
    plugs: Vec<std::ffi::OsString>,
    /// Several plugs at once, as Hayride's `wac plug --plugs A B` gives them.
    #[arg(long = "plugs", id = "plugs_list", num_args = 1.., value_name = "PLUG")]
    plugs_list: Vec<std::ffi::OsString>,
    /// Where to write the component; `-` for stdout. Default: <socket name>.plugged.wasm.
    #[arg(long, short = 'o', visible_alias = "out", value_name = "OUT")]
    output: Option<PathBuf>,
}

/// Hayride's spellings of compose and plug: `morph wac compose --path F --out O`,
/// `morph wac plug --socket S --plugs P…`.
#[derive(clap::Subcommand)]
pub enum WacCommand {
    /// Compose components with a WAC file (as `morph compose`).
    Compose(ComposeArgs),
    /// Plug components into another's imports (as `morph plug`).
    Plug(PlugArgs),
}

#[derive(clap::Args)]
pub struct WacArgs {
    #[command(subcommand)]
    command: WacCommand,
}

pub fn wac(args: WacArgs, out: &Output) -> Result<ExitCode> {
    match args.command {
        WacCommand::Compose(a) => compose(a, out),
        WacCommand::Plug(a) => plug(a, out),
    }
}

pub fn plug(args: PlugArgs, out: &Output) -> Result<ExitCode> {
    let load = |arg: &std::ffi::OsStr| -> Result<(PlugInput, String)> {
        let found = resolve_morph_path(arg)?;
        let bytes = std::fs::read(&found.path).with_context(|| format!("cannot read {}", found.path.display()))?;
        let bytes = morph_contract::component::component_binary(&found.path, bytes)?;
        Ok((PlugInput { name: arg.to_string_lossy().into_owned(), bytes }, found.name))
    };
    let socket_arg = args.socket.as_ref().or(args.socket_flag.as_ref()).context("give the socket component")?;
    let (socket, socket_name) = load(socket_arg)?;
    let plugs = args
        .plugs
        .iter()
        .chain(&args.plugs_list)
        .map(|p| load(p).map(|(input, _)| input))
        .collect::<Result<Vec<_>>>()?;
    let (bytes, reports) = morph_compose::plug(socket, plugs).map_err(input_error)?;
    let output = args.output.clone().unwrap_or_else(|| PathBuf::from(format!("{socket_name}.plugged.wasm")));
    write_output(&output, &bytes)?;
    let digest = || morph_contract::component::sha256_digest(&bytes);
    if out.json {
        out.json(&serde_json::json!({ "output": output, "size": bytes.len(), "digest": digest(), "plugs": reports }));
    } else if !out.quiet {
        let mut err = std::io::stderr().lock();
        for r in &reports {
            let _ = writeln!(err, "  {} satisfies {}", r.plug, r.satisfied.join(", "));
        }
        let _ = writeln!(
            err,
            "plugged {} -> {} ({} bytes, {})",
            socket_arg.to_string_lossy(),
            output.display(),
            bytes.len(),
            digest()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the component atomically, or to stdout for `-` (never binary onto a terminal).
fn write_output(output: &Path, bytes: &[u8]) -> Result<()> {
    if output == Path::new("-") {
        let mut stdout = std::io::stdout().lock();
        if stdout.is_terminal() {
            bail!("refusing to write a binary component to the terminal; redirect stdout or pass -o FILE");
        }
        stdout.write_all(bytes).context("writing the component to stdout")?;
        return Ok(());
    }
    morph_registry_client::atomic::write_output(output, bytes)
        .with_context(|| format!("cannot write {}", output.display()))
}

/// Composition errors are input errors: the rendered diagnostic is the whole message.
fn input_error(e: ComposeError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}
