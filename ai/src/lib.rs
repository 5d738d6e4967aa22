//! Local inference for AI morphs: GGUF language models on the CPU, with the tokenizer the model
//! file carries, and sentence embeddings (BERT encoders) for retrieval. Pure Rust (candle), so morph's install stays one `cargo install`.

mod embed;
mod llm;
mod tokenizer;

use std::path::PathBuf;

pub use embed::SentenceEncoder;
pub use llm::{Generation, GenerationStats, LanguageModel};

#[derive(Debug, thiserror::Error)]
pub enum AiError {
    #[error("model {}: {why}", path.display())]
    Model { path: PathBuf, why: String },
    #[error("the model's tokenizer: {0}")]
    Tokenizer(String),
    #[error("inference failed: {0}")]
    Compute(String),
}
