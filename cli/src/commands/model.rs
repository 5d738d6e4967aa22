//! `morph model pull|add|list|path|rm`: the models AI morphs load by name, kept under
//! `$MORPH_HOME/ai/hf_hub` in the Hugging Face cache layout Hayride uses.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use morph_registry_client::models::{self, Hub, ModelName, PullOptions};

use super::registry::home;
use super::sandbox::block_on;
use crate::output::{human_size, Output, Style};

/// Fetch, add, list and remove the models AI morphs load (`hayride:ai`, `wasi:nn`).
#[derive(clap::Args)]
pub struct ModelArgs {
    #[command(subcommand)]
    command: ModelCommand,
}

#[derive(clap::Subcommand)]
enum ModelCommand {
    /// Fetch OWNER/REPO/FILE from the Hugging Face hub (HF_ENDPOINT, HF_TOKEN), resumably, its
    /// sha256 checked against the hub's; nothing is fetched when the store has it.
    Pull {
        /// e.g. Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf
        name: String,
        /// Never touch the network (also HF_HUB_OFFLINE=1): succeed only from the store.
        #[arg(long)]
        offline: bool,
    },
    /// Add a model file you already have.
    Add {
        file: PathBuf,
        /// The name morphs load it by (default: local/models/<file name>).
        #[arg(long, value_name = "OWNER/REPO/FILE")]
        name: Option<String>,
    },
    /// The models in the store.
    List,
    /// The path of a model's file.
    Path { name: String },
    /// Remove a model from the store.
    Rm { name: String },
}

pub fn run(args: ModelArgs, out: &Output) -> Result<ExitCode> {
    let home = home()?;
    match args.command {
        ModelCommand::Pull { name, offline } => {
            let name = ModelName::parse(&name)?;
            let bar = out.download_bar(&format!("pulling {}", name.file));
            let pulled =
                block_on(models::pull(&home, &name, &Hub::from_env(), PullOptions { offline }, &|e| bar.on(e)));
            bar.finish();
            report(out, "pulled", &pulled?);
        }
        ModelCommand::Add { file, name } => {
            let name = match name {
                Some(n) => ModelName::parse(&n)?,
                None => {
                    let file_name = file.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                    ModelName::parse(&format!("local/models/{file_name}"))?
                }
            };
            report(out, "added", &models::add(&home, &file, &name)?);
        }
        ModelCommand::List => {
            let all = models::list(&home);
            if out.json {
                out.json(&serde_json::json!({ "dir": models::store_dir(&home), "models": all }));
            } else if !out.quiet {
                if all.is_empty() {
                    out.line("no models; fetch one with `morph model pull OWNER/REPO/FILE`");
                }
                for m in &all {
                    out.line(format!("{:<60} {:>9}", m.name, human_size(m.size)));
                }
            }
        }
        ModelCommand::Path { name } => {
            let name = ModelName::parse(&name)?;
            let model = models::get(&home, &name).ok_or_else(|| models::ModelError::NotFound {
                name: name.to_string(),
                dir: models::store_dir(&home),
            })?;
            if out.json {
                out.json(&model);
            } else {
                out.line(model.path.display().to_string());
            }
        }
        ModelCommand::Rm { name } => {
            let name = ModelName::parse(&name)?;
            report(out, "removed", &models::remove(&home, &name)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn report(out: &Output, verb: &str, m: &models::Model) {
    if out.json {
        out.json(m);
    } else if !out.quiet {
        out.line(format!("{verb} {} ({})", out.paint(Style::Bold, &m.name), human_size(m.size)));
        out.line(format!("path: {}", m.path.display()));
    }
}
