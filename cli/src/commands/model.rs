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
    /// Answer a prompt with a model (a store name or a .gguf file), printing the text as it is
    /// generated: a quick try of a model, and what the inference benchmark times.
    Generate(GenerateArgs),
}

#[derive(clap::Args)]
struct GenerateArgs {
    /// OWNER/REPO/FILE in the store, or a path to a .gguf file.
    model: String,
    /// The prompt, in the model's chat format (read from stdin when not given).
    #[arg(long, short)]
    prompt: Option<String>,
    /// Stop after this many tokens.
    #[arg(long, default_value_t = 256)]
    max_tokens: usize,
    /// 0 picks the likeliest token each step: the same answer every time.
    #[arg(long, default_value_t = 0.0)]
    temperature: f64,
    /// Sample from the smallest set of tokens whose probabilities add up to this.
    #[arg(long)]
    top_p: Option<f64>,
    /// The seed of sampled generation: the same seed gives the same answer.
    #[arg(long, default_value_t = 299_792_458)]
    seed: u64,
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
            let model = models::find(&home, &name)?;
            if out.json {
                out.json(&model);
            } else {
                out.line(model.path.display().to_string());
            }
        }
        ModelCommand::Generate(g) => generate(&home, g, out)?,
        ModelCommand::Rm { name } => {
            let name = ModelName::parse(&name)?;
            report(out, "removed", &models::remove(&home, &name)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn generate(home: &morph_registry_client::Home, g: GenerateArgs, out: &Output) -> Result<()> {
    use std::io::Write;
    let path = if std::path::Path::new(&g.model).is_file() {
        PathBuf::from(&g.model)
    } else {
        models::find(home, &ModelName::parse(&g.model)?)?.path
    };
    let prompt = match g.prompt {
        Some(p) => p,
        None => std::io::read_to_string(std::io::stdin())?,
    };
    let mut model = morph_ai::LanguageModel::load(&path)?;
    let opts =
        morph_ai::Generation { max_tokens: g.max_tokens, temperature: g.temperature, top_p: g.top_p, seed: g.seed };
    let mut text = String::new();
    let stream = !out.json;
    let stats = model.generate(&prompt, &opts, &mut |piece| {
        text.push_str(piece);
        if stream {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(piece.as_bytes());
            let _ = stdout.flush();
        }
        std::ops::ControlFlow::Continue(())
    })?;
    if out.json {
        out.json(&serde_json::json!({
            "model": path,
            "architecture": model.architecture,
            "text": text,
            "load_seconds": model.load_time.as_secs_f64(),
            "stats": stats,
            "tokens_per_second": stats.tokens_per_second(),
        }));
    } else {
        out.line("");
        if out.verbose > 0 {
            eprintln!(
                "{} prompt tokens in {:.2}s, {} generated at {:.1} tokens/s; loaded in {:.2}s",
                stats.prompt_tokens,
                stats.prompt_seconds,
                stats.generated_tokens,
                stats.tokens_per_second(),
                model.load_time.as_secs_f64()
            );
        }
    }
    Ok(())
}

fn report(out: &Output, verb: &str, m: &models::Model) {
    if out.json {
        out.json(m);
    } else if !out.quiet {
        out.line(format!("{verb} {} ({})", out.paint(Style::Bold, &m.name), human_size(m.size)));
        out.line(format!("path: {}", m.path.display()));
    }
}
