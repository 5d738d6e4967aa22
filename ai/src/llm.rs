//! A GGUF language model on the CPU (candle's quantized kernels): loading, and generating text
//! token by token for a prompt, greedy or sampled with a seed.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::{Duration, Instant};

use candle_core::quantized::gguf_file;
use candle_core::{Device, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling};
use candle_transformers::models::{quantized_llama, quantized_qwen2, quantized_qwen3};

use super::tokenizer::Tokenizer;
use super::AiError;

/// The architectures morph runs, by `general.architecture`.
enum Weights {
    Llama(quantized_llama::ModelWeights),
    Qwen2(quantized_qwen2::ModelWeights),
    Qwen3(quantized_qwen3::ModelWeights),
}

impl Weights {
    fn forward(&mut self, x: &Tensor, pos: usize) -> candle_core::Result<Tensor> {
        match self {
            Weights::Llama(m) => m.forward(x, pos),
            Weights::Qwen2(m) => m.forward(x, pos),
            Weights::Qwen3(m) => m.forward(x, pos),
        }
    }

    fn reset(&mut self) {
        match self {
            Weights::Llama(m) => m.clear_kv_cache(),
            Weights::Qwen2(m) => m.clear_kv_cache(),
            Weights::Qwen3(m) => m.clear_kv_cache(),
        }
    }
}

/// How to generate.
#[derive(Debug, Clone, Copy)]
pub struct Generation {
    pub max_tokens: usize,
    /// 0 or below: greedy (the most likely token each step), the same answer every time.
    pub temperature: f64,
    pub top_p: Option<f64>,
    pub seed: u64,
}

impl Default for Generation {
    fn default() -> Self {
        Generation { max_tokens: 512, temperature: 0.0, top_p: None, seed: 299_792_458 }
    }
}

/// What a generation did, for `--json` and benchmarks.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct GenerationStats {
    pub prompt_tokens: usize,
    pub generated_tokens: usize,
    pub prompt_seconds: f64,
    pub generation_seconds: f64,
}

impl GenerationStats {
    pub fn tokens_per_second(&self) -> f64 {
        if self.generation_seconds > 0.0 {
            self.generated_tokens as f64 / self.generation_seconds
        } else {
            0.0
        }
    }
}

pub struct LanguageModel {
    weights: Weights,
    pub tokenizer: Tokenizer,
    pub architecture: String,
    pub load_time: Duration,
}

impl LanguageModel {
    pub fn load(path: &Path) -> Result<LanguageModel, AiError> {
        let started = Instant::now();
        let bad = |why: String| AiError::Model { path: path.to_path_buf(), why };
        let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
        // SAFETY: a read-only mapping of a model file that morph does not write while it runs;
        // candle copies each tensor out of it as it loads.
        let map = unsafe { memmap2::MmapOptions::new().populate().map(&file) }.map_err(|e| bad(e.to_string()))?;
        let mut reader = std::io::Cursor::new(&map[..]);
        let content = gguf_file::Content::read(&mut reader).map_err(|e| bad(format!("not a GGUF model file ({e})")))?;
        let architecture =
            content.metadata.get("general.architecture").and_then(|v| v.to_string().ok()).cloned().unwrap_or_default();
        let tokenizer = Tokenizer::from_gguf(&content).map_err(|e| bad(e.to_string()))?;
        let device = Device::Cpu;
        let weights = match architecture.as_str() {
            "llama" | "mistral" => Weights::Llama(
                quantized_llama::ModelWeights::from_gguf(content, &mut reader, &device).map_err(|e| bad(e.to_string()))?,
            ),
            "qwen2" => Weights::Qwen2(
                quantized_qwen2::ModelWeights::from_gguf(content, &mut reader, &device).map_err(|e| bad(e.to_string()))?,
            ),
            "qwen3" => Weights::Qwen3(
                quantized_qwen3::ModelWeights::from_gguf(content, &mut reader, &device).map_err(|e| bad(e.to_string()))?,
            ),
            other => {
                return Err(bad(format!(
                    "architecture `{other}` is not supported; morph runs llama (Llama 2/3, Mistral), qwen2 and qwen3 GGUF models"
                )))
            }
        };
        Ok(LanguageModel { weights, tokenizer, architecture, load_time: started.elapsed() })
    }

    /// Generates the answer to `prompt` (already in the model's chat format), handing each
    /// piece of text to `emit` as soon as it is whole UTF-8; `emit` breaking stops the work.
    pub fn generate(
        &mut self,
        prompt: &str,
        opts: &Generation,
        emit: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<GenerationStats, AiError> {
        let compute = |e: candle_core::Error| AiError::Compute(e.to_string());
        self.weights.reset();
        let mut stats = GenerationStats::default();
        let tokens = self.tokenizer.encode(prompt);
        if tokens.is_empty() {
            return Ok(stats);
        }
        stats.prompt_tokens = tokens.len();
        let sampling = if opts.temperature <= 0.0 {
            Sampling::ArgMax
        } else {
            match opts.top_p {
                Some(p) => Sampling::TopP { p, temperature: opts.temperature },
                None => Sampling::All { temperature: opts.temperature },
            }
        };
        let mut sampler = LogitsProcessor::from_sampling(opts.seed, sampling);
        let started = Instant::now();
        let input = Tensor::new(tokens.as_slice(), &Device::Cpu).and_then(|t| t.unsqueeze(0)).map_err(compute)?;
        let logits = self.weights.forward(&input, 0).and_then(|l| l.squeeze(0)).map_err(compute)?;
        let mut next = sampler.sample(&logits).map_err(compute)?;
        stats.prompt_seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let mut pending: Vec<u8> = Vec::new();
        let mut at_start = true;
        let mut pos = tokens.len();
        loop {
            if self.tokenizer.stops.contains(&next) || stats.generated_tokens >= opts.max_tokens {
                break;
            }
            stats.generated_tokens += 1;
            pending.extend(self.tokenizer.token_bytes(next));
            if at_start && self.tokenizer.strips_leading_space() && pending.first() == Some(&b' ') {
                pending.remove(0);
            }
            // Hand out the longest whole-UTF-8 prefix; a character split across tokens waits.
            let whole = match std::str::from_utf8(&pending) {
                Ok(_) => pending.len(),
                Err(e) if e.error_len().is_none() => e.valid_up_to(),
                Err(_) => pending.len(),
            };
            if whole > 0 {
                at_start = false;
                let text = String::from_utf8_lossy(&pending[..whole]).into_owned();
                pending.drain(..whole);
                if emit(&text).is_break() {
                    break;
                }
            }
            let input = Tensor::new(&[next], &Device::Cpu).and_then(|t| t.unsqueeze(0)).map_err(compute)?;
            let logits = self.weights.forward(&input, pos).and_then(|l| l.squeeze(0)).map_err(compute)?;
            pos += 1;
            next = sampler.sample(&logits).map_err(compute)?;
        }
        if !pending.is_empty() {
            let _ = emit(&String::from_utf8_lossy(&pending));
        }
        stats.generation_seconds = started.elapsed().as_secs_f64();
        Ok(stats)
    }
}
