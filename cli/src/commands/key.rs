//! `morph key generate`: a signing key pair in cosign's formats, for `push --sign` and
//! `pull/run --verify`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use morph_registry_client::sign;

use crate::output::Output;

/// Signing keys (ECDSA P-256, PEM), readable by cosign.
#[derive(clap::Args)]
pub struct KeyArgs {
    #[command(subcommand)]
    command: KeyCommand,
}

#[derive(clap::Subcommand)]
enum KeyCommand {
    /// Write a new key pair to PREFIX.key (private, mode 0600) and PREFIX.pub.
    ///
    /// The private key is encrypted with a passphrase as cosign encrypts it (scrypt and NaCl
    /// secretbox): COSIGN_PASSWORD (or MORPH_PASSWORD) when set, else asked for on the terminal.
    Generate {
        /// Where to write: PREFIX.key and PREFIX.pub.
        #[arg(short = 'o', long, value_name = "PREFIX", default_value = "morph")]
        output: PathBuf,
        /// Write the private key unencrypted.
        #[arg(long)]
        no_password: bool,
        /// Replace keys already there.
        #[arg(long)]
        force: bool,
    },
}

pub fn key(args: KeyArgs, out: &Output) -> Result<ExitCode> {
    let KeyCommand::Generate { output, no_password, force } = args.command;
    let private_path = with_suffix(&output, "key");
    let public_path = with_suffix(&output, "pub");
    for path in [&private_path, &public_path] {
        if path.exists() && !force {
            bail!("{} exists; pass --force to replace it, or -o another prefix", path.display());
        }
    }
    let passphrase = if no_password { None } else { Some(new_passphrase()?) };
    let (private, public) = sign::generate(passphrase.as_deref())?;
    morph_registry_client::atomic::write_private_atomic(&private_path, private.as_bytes())
        .with_context(|| format!("cannot write {}", private_path.display()))?;
    morph_registry_client::atomic::write_output(&public_path, public.as_bytes())
        .with_context(|| format!("cannot write {}", public_path.display()))?;
    if out.json {
        out.json(&serde_json::json!({ "private": private_path, "public": public_path, "encrypted": !no_password }));
    } else if !out.quiet {
        out.line(format!("private key: {} (keep it secret)", private_path.display()));
        out.line(format!("public key: {}", public_path.display()));
    }
    Ok(ExitCode::SUCCESS)
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(".");
    s.push(suffix);
    PathBuf::from(s)
}

/// The passphrase from the environment, as cosign reads it.
fn passphrase_from_env() -> Option<String> {
    std::env::var("COSIGN_PASSWORD").or_else(|_| std::env::var("MORPH_PASSWORD")).ok()
}

/// A new key's passphrase: from the environment, or typed twice on a terminal.
fn new_passphrase() -> Result<String> {
    if let Some(p) = passphrase_from_env() {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        bail!("no passphrase: set COSIGN_PASSWORD (or MORPH_PASSWORD), or pass --no-password for an unencrypted key");
    }
    let first = rpassword::prompt_password("passphrase for the private key: ")?;
    let again = rpassword::prompt_password("again: ")?;
    if first != again {
        bail!("the passphrases differ; nothing was written");
    }
    Ok(first)
}

/// The signing key in `path`, opened with the passphrase from the environment or the terminal
/// when it is encrypted.
pub fn read_signing_key(path: &Path) -> Result<p256::ecdsa::SigningKey> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the key {}", path.display()))?;
    let named = |e: sign::KeyError| anyhow::anyhow!("{}: {e}", path.display());
    match sign::read_private(&text, passphrase_from_env().as_deref()) {
        Err(sign::KeyError::NeedsPassphrase) if std::io::stdin().is_terminal() => {
            let typed = rpassword::prompt_password(format!("passphrase for {}: ", path.display()))?;
            sign::read_private(&text, Some(&typed)).map_err(named)
        }
        other => other.map_err(named),
    }
}
