//! `morph completions`: shell completion scripts.

use std::process::ExitCode;

use anyhow::Result;
use clap_complete::Shell;

/// Print a completion script for a shell.
///
/// bash: `morph completions bash > ~/.local/share/bash-completion/completions/morph`;
/// zsh: `morph completions zsh > ~/.zfunc/_morph`; fish: `morph completions fish > ~/.config/fish/completions/morph.fish`.
#[derive(clap::Args)]
pub struct Args {
    #[arg(value_enum)]
    shell: Shell,
}

pub fn run(args: Args, mut cmd: clap::Command) -> Result<ExitCode> {
    clap_complete::generate(args.shell, &mut cmd, "morph", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
