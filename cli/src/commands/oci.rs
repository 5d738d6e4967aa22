//! `morph push`, `morph pull`, `morph login`, `morph logout`: OCI registries.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use morph_registry_client::auth::Credentials;
use morph_registry_client::oci::{self, ComponentInfo, OciOptions};
use morph_registry_client::MorphId;

use super::registry::home;
use super::sandbox::{block_on, component_only, resolve_morph_path};
use crate::output::{human_size, Output, Style};

/// How to reach and authenticate to a registry.
#[derive(clap::Args, Debug, Clone)]
pub struct RegistryArgs {
    /// Use plain HTTP (for a local registry), also settable per registry in config.toml.
    #[arg(long)]
    insecure: bool,
    /// User name; the password comes from stdin with --password-stdin.
    #[arg(long, short = 'u', requires = "password_stdin")]
    username: Option<String>,
    /// Read the password from stdin.
    #[arg(long, requires = "username")]
    password_stdin: bool,
}

impl RegistryArgs {
    pub fn options(&self) -> Result<OciOptions> {
        let credentials = match &self.username {
            Some(u) => Some(Credentials { username: u.clone(), password: read_password()? }),
            None => None,
        };
        Ok(OciOptions { insecure: self.insecure, credentials, verify: None })
    }
}

/// The password: stdin up to its first line break (`echo "$TOKEN" |` adds one; anything after
/// it is not part of a password a registry would take).
fn read_password() -> Result<String> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).context("reading the password from stdin")?;
    let p = s.split(['\n', '\r']).next().unwrap_or("").to_string();
    if p.is_empty() {
        bail!("--password-stdin: stdin was empty; pipe the password in, e.g. `echo \"$TOKEN\" | morph login …`");
    }
    Ok(p)
}

/// Push a component to an OCI registry as a wasm artifact (the layout wkg uses).
///
/// Reproducible: the same component pushed with the same metadata gets the same manifest digest
/// on every machine and every day. Nothing in the manifest comes from the clock: the creation
/// time (`org.opencontainers.image.created`, and the config's `created`) is SOURCE_DATE_EPOCH
/// when that is set (e.g. `SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)`), and otherwise left out
/// of the annotations and the epoch (1970-01-01) in the config, which must have one. The layer is
/// titled `<name>.wasm` for tools that write it to a file; the config's `component.target` names
/// the bundled world the component is valid against.
#[derive(clap::Args)]
pub struct PushArgs {
    /// A .wasm/.wat file or a local registry id.
    morph: std::ffi::OsString,
    /// REGISTRY/REPOSITORY:TAG
    reference: String,
    /// Extra manifest annotation, KEY=VALUE (repeatable).
    #[arg(long = "annotation", value_name = "KEY=VALUE")]
    annotations: Vec<String>,
    /// Source repository URL (org.opencontainers.image.source).
    #[arg(long)]
    source: Option<String>,
    /// Sign the pushed manifest with this private key (`morph key generate`, or cosign's), stored
    /// where cosign stores signatures (tag sha256-<digest>.sig).
    #[arg(long, value_name = "KEY")]
    sign: Option<PathBuf>,
    #[command(flatten)]
    registry: RegistryArgs,
}

pub fn push(args: PushArgs, out: &Output) -> Result<ExitCode> {
    let options = args.registry.options()?;
    let pushed = push_morph(
        &args.morph,
        &args.reference,
        &args.annotations,
        args.source.as_deref(),
        args.sign.as_deref(),
        &options,
        out,
    )?;
    if out.json {
        out.json(&pushed);
    } else if !out.quiet {
        let note = if pushed.uploaded.is_empty() { " (nothing new to upload)".to_string() } else { String::new() };
        out.line(format!("pushed {}{note}", out.paint(Style::Bold, &pushed.reference)));
        out.line(format!("digest: {}", pushed.manifest_digest));
        if let Some(s) = &pushed.signature {
            out.line(format!("signed: {s}"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Pushes the file or local registry id `morph` to `reference` (what `morph push` and `morph
/// deploy` do), with a spinner on `out`.
pub fn push_morph(
    morph: &std::ffi::OsStr,
    reference: &str,
    extra: &[String],
    source: Option<&str>,
    sign: Option<&std::path::Path>,
    options: &OciOptions,
    out: &Output,
) -> Result<oci::PushOutcome> {
    let home = home()?;
    let morph = resolve_morph_path(morph)?;
    // The key is opened first: a wrong passphrase pushes nothing.
    let signing_key = sign.map(super::key::read_signing_key).transpose()?;
    let comp = morph_contract::Component::read(&morph.path)?;
    let (imports, exports) = morph_contract::component::world_items(&comp.resolve, comp.world);
    let embedded = morph_contract::metadata::PackageMetadata::read(&comp.bytes).oci_annotations();
    let annotations = oci::annotations(reference, embedded, morph.version, source, extra)?;
    let info = ComponentInfo { imports, exports, target: morph_contract::inspect::validated_world(&comp) };
    let spinner = out.spinner(&format!("pushing {} to {}", human_size(comp.bytes.len() as u64), reference));
    let pushed = block_on(oci::push(&home, reference, &comp.bytes, info, annotations, signing_key.as_ref(), options));
    if let Some(p) = spinner {
        p.finish_and_clear();
    }
    Ok(pushed?)
}

/// Pull a wasm component from an OCI registry; verified against its digest before anything is written.
#[derive(clap::Args)]
pub struct PullArgs {
    /// REGISTRY/REPOSITORY:TAG, REGISTRY/REPOSITORY@sha256:DIGEST, or a package ns:name[@VERSION]
    /// found through morph's [namespaces] or wkg's config (no version: the highest semver tag).
    reference: String,
    /// Also add it to the local registry as ns:name@version.
    #[arg(long, value_name = "ID")]
    register: Option<String>,
    /// Replace a morph already registered under that id.
    #[arg(long, requires = "register")]
    force: bool,
    /// Write the component to FILE.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// With -o: write the layer even when it is not a WebAssembly component.
    #[arg(long, requires = "output", conflicts_with = "register")]
    raw: bool,
    /// With --register: do not compile it into the cache now.
    #[arg(long, requires = "register")]
    no_precompile: bool,
    /// Refuse it, writing nothing, unless this public key signed its manifest.
    #[arg(long, value_name = "PUBKEY")]
    verify: Option<PathBuf>,
    #[command(flatten)]
    registry: RegistryArgs,
}

pub fn pull(args: PullArgs, out: &Output) -> Result<ExitCode> {
    let home = home()?;
    let id = args.register.as_deref().map(MorphId::parse).transpose()?;
    let bar = out.download_bar(&format!("pulling {}", args.reference));
    let anything = |_: &[u8]| Ok(());
    let accept: oci::Acceptance<'_> = if args.raw { &anything } else { &component_only };
    let pulled = block_on(async {
        let (reference, mut options) = resolve_pull_reference(&home, &args.reference).await?;
        let given = args.registry.options()?;
        options.insecure |= given.insecure;
        options.credentials = given.credentials.or(options.credentials);
        options.verify = args.verify.as_deref().map(morph_registry_client::config::read_public_key).transpose()?;
        let reference = oci::resolve_tag(&home, &reference, &options).await?;
        anyhow::Ok(oci::pull(&home, &reference, &options, accept, &|e| bar.on(e)).await?)
    });
    bar.finish();
    let pulled = pulled?;
    let mut written = Vec::new();
    if let Some(id) = &id {
        let bytes = std::fs::read(&pulled.path).with_context(|| format!("reading {}", pulled.path.display()))?;
        let kind = morph_contract::component::decode_world(&pulled.path, &bytes)
            .map_or(morph_contract::Kind::Reactor, |(r, w)| morph_contract::kind::classify(&r, w));
        // The layer was checked against its sha256 on the way in.
        let digest = &pulled.layer_digest;
        let compiling =
            super::optimize::at_arrival(bytes.clone(), Some(digest.clone()), &id.to_string(), kind, args.no_precompile);
        let stored = morph_registry_client::register(&home, id, &bytes, digest, args.force)?;
        compiling.finish();
        written.push(stored.path);
    }
    if let Some(o) = &args.output {
        morph_registry_client::atomic::copy_output(&pulled.path, o)
            .with_context(|| format!("writing {}", o.display()))?;
        written.push(o.clone());
    }
    if out.json {
        out.json(&serde_json::json!({
            "reference": pulled.reference,
            "manifest_digest": pulled.manifest_digest,
            "layer_digest": pulled.layer_digest,
            "size": pulled.size,
            "downloaded": pulled.downloaded,
            "cached": pulled.path,
            "written": written,
        }));
    } else if !out.quiet {
        let how = if pulled.downloaded { "pulled" } else { "up to date (cached)" };
        out.line(format!("{how} {} ({})", out.paint(Style::Bold, &pulled.reference), human_size(pulled.size)));
        out.line(format!("digest: {}", pulled.manifest_digest));
        for w in &written {
            out.line(format!("wrote {}", w.display()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An OCI reference as given, or the repository a package id `ns:name[@version]` maps to (with
/// how wkg's config says to reach it).
async fn resolve_pull_reference(home: &morph_registry_client::Home, arg: &str) -> Result<(String, OciOptions)> {
    if oci::looks_like_reference(arg) || !MorphId::looks_like_id(arg) {
        return Ok((arg.to_string(), OciOptions::default()));
    }
    let (package, version) = match arg.split_once('@') {
        Some((p, v)) => {
            let v = semver::Version::parse(v)
                .with_context(|| format!("`{arg}`: `{v}` is not a semver version; write ns:name@1.2.3"))?;
            (p, Some(v))
        }
        None => (arg, None),
    };
    let source = morph_registry_client::package::locate(home, package, morph_registry_client::package::Network::Online)
        .await
        .map_err(|e| anyhow::anyhow!("pull {arg}: {e}"))?;
    tracing::info!("{arg} is {} ({})", source.repository, source.via);
    Ok((source.reference(version.as_ref()), source.options))
}

/// Store credentials for a registry in $MORPH_HOME/config.toml (readable by you only).
#[derive(clap::Args)]
pub struct LoginArgs {
    /// The registry host[:port].
    registry: String,
    #[arg(long, short = 'u')]
    username: String,
    /// Read the password from stdin (up to its first line break).
    #[arg(long)]
    password_stdin: bool,
    /// The registry speaks plain HTTP (a local one).
    #[arg(long)]
    insecure: bool,
    /// Store the credentials without trying them against the registry.
    #[arg(long)]
    no_verify: bool,
}

pub fn login(args: LoginArgs, out: &Output) -> Result<ExitCode> {
    if !args.password_stdin {
        if std::io::stdin().is_terminal() {
            bail!("pass the password on stdin with --password-stdin (it is never taken as an argument, where it would show in the process list)");
        }
        bail!(
            "--password-stdin is required: `echo \"$TOKEN\" | morph login {} -u {} --password-stdin`",
            args.registry,
            args.username
        );
    }
    use morph_registry_client::oci::login::{check_credentials, check_registry_name, verify, Verified};
    check_registry_name(&args.registry)?;
    let creds = Credentials { username: args.username.clone(), password: read_password()? };
    check_credentials(&creds)?;
    let home = home()?;
    let insecure = args.insecure || morph_registry_client::config::Config::load(&home)?.is_insecure(&args.registry);
    let verified = if args.no_verify { None } else { Some(block_on(verify(&args.registry, &creds, insecure))?) };
    morph_registry_client::auth::login(&home, &args.registry, &creds)?;
    let checked = match verified {
        Some(Verified::Accepted) => "checked",
        Some(Verified::OpenRegistry) => "unchecked: the registry needs no login",
        None => "unchecked: --no-verify",
    };
    if out.json {
        out.json(&serde_json::json!({ "registry": args.registry, "username": args.username, "verified": verified == Some(Verified::Accepted) }));
    } else if !out.quiet {
        out.line(format!("logged in to {} as {} ({checked})", args.registry, args.username));
    }
    Ok(ExitCode::SUCCESS)
}

/// Forget stored credentials for a registry.
#[derive(clap::Args)]
pub struct LogoutArgs {
    registry: String,
}

pub fn logout(args: LogoutArgs, out: &Output) -> Result<ExitCode> {
    let had = morph_registry_client::auth::logout(&home()?, &args.registry)?;
    if out.json {
        out.json(&serde_json::json!({ "registry": args.registry, "removed": had }));
    } else if !out.quiet {
        out.line(if had {
            format!("logged out of {}", args.registry)
        } else {
            format!("no stored login for {}", args.registry)
        });
    }
    Ok(ExitCode::SUCCESS)
}
