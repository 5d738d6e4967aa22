//! Llama-architecture GGUF models with random weights, written by the test harness: the models
//! the AI tests load (no test downloads one), and the same shape at a real model's size for the
//! inference benchmark. The tokenizer is GPT-2 byte-level BPE, as Llama 3 has: 256 byte tokens,
//! a few merges, and Llama 3's special tokens.

use std::path::Path;

use candle_core::quantized::gguf_file::Value;
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};

/// The size of a model.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub ffn: usize,
    /// Weight type: `F32` for tiny models, `Q8_0` or `Q4_0` for benchmark-sized ones.
    pub dtype: GgmlDType,
}

impl Shape {
    /// A model that loads and answers in milliseconds.
    pub const TINY: Shape = Shape { hidden: 64, layers: 2, heads: 4, kv_heads: 2, ffn: 128, dtype: GgmlDType::F32 };
}

/// Merges on top of the byte tokens (`Ġ` stands for a space in GPT-2's byte alphabet).
const MERGES: [&str; 8] = ["h e", "l l", "Ġ w", "o r", "Ġw or", "l d", "Ġ t", "Ġt he"];
const SPECIALS: [&str; 4] = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|eot_id|>"];

/// GPT-2's printable stand-in for a byte.
fn byte_char(b: u8) -> char {
    let printable = |x: u8| matches!(x, 33..=126 | 161..=172 | 174..=255);
    if printable(b) {
        return b as char;
    }
    let n = (0..b).filter(|x| !printable(*x)).count() as u32;
    char::from_u32(256 + n).unwrap()
}

/// A deterministic stream of weights: the same seed writes the same file.
struct Weights(u64);

impl Weights {
    fn next(&mut self) -> f32 {
        // xorshift64*, mapped to [-1, 1).
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (x >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }

    fn tensor(&mut self, rows: usize, cols: usize, scale: f32, dtype: GgmlDType) -> QTensor {
        let data: Vec<f32> = (0..rows * cols).map(|_| self.next() * scale).collect();
        let t = Tensor::from_vec(data, (rows, cols), &Device::Cpu).unwrap();
        QTensor::quantize(&t, dtype).unwrap()
    }

    fn ones(&mut self, n: usize) -> QTensor {
        let t = Tensor::ones(n, candle_core::DType::F32, &Device::Cpu).unwrap();
        QTensor::quantize(&t, GgmlDType::F32).unwrap()
    }
}

/// Writes a llama GGUF of `shape` with random weights from `seed` to `path`.
pub fn write_llama(path: &Path, shape: Shape, seed: u64) -> candle_core::Result<()> {
    let mut tokens: Vec<String> = (0..=255u8).map(|b| byte_char(b).to_string()).collect();
    for m in MERGES {
        tokens.push(m.replace(' ', ""));
    }
    let mut types = vec![1i32; tokens.len()];
    for s in SPECIALS {
        tokens.push(s.to_string());
        types.push(3);
    }
    let vocab = tokens.len();
    let id = |t: &str| tokens.iter().position(|x| x == t).unwrap() as u32;
    let head_dim = shape.hidden / shape.heads;
    let s = |v: &str| Value::String(v.to_string());
    let metadata: Vec<(&str, Value)> = vec![
        ("general.architecture", s("llama")),
        ("general.name", s("morph-test-llama")),
        ("llama.context_length", Value::U32(2048)),
        ("llama.embedding_length", Value::U32(shape.hidden as u32)),
        ("llama.block_count", Value::U32(shape.layers as u32)),
        ("llama.feed_forward_length", Value::U32(shape.ffn as u32)),
        ("llama.attention.head_count", Value::U32(shape.heads as u32)),
        ("llama.attention.head_count_kv", Value::U32(shape.kv_heads as u32)),
        ("llama.rope.dimension_count", Value::U32(head_dim as u32)),
        ("llama.rope.freq_base", Value::F32(500_000.0)),
        ("llama.attention.layer_norm_rms_epsilon", Value::F32(1e-5)),
        ("llama.vocab_size", Value::U32(vocab as u32)),
        ("tokenizer.ggml.model", s("gpt2")),
        ("tokenizer.ggml.pre", s("llama-bpe")),
        ("tokenizer.ggml.tokens", Value::Array(tokens.iter().map(|t| s(t)).collect())),
        ("tokenizer.ggml.token_type", Value::Array(types.iter().map(|t| Value::I32(*t)).collect())),
        ("tokenizer.ggml.merges", Value::Array(MERGES.iter().map(|m| s(m)).collect())),
        ("tokenizer.ggml.bos_token_id", Value::U32(id("<|begin_of_text|>"))),
        ("tokenizer.ggml.eos_token_id", Value::U32(id("<|eot_id|>"))),
        ("tokenizer.ggml.add_bos_token", Value::Bool(true)),
    ];
    let mut w = Weights(seed.max(1));
    let (h, kv) = (shape.hidden, shape.kv_heads * head_dim);
    let scale = 1.0 / (h as f32).sqrt();
    let mut tensors: Vec<(String, QTensor)> = vec![
        ("token_embd.weight".into(), w.tensor(vocab, h, 1.0, GgmlDType::F32)),
        ("output_norm.weight".into(), w.ones(h)),
        (
            "output.weight".into(),
            w.tensor(vocab, h, scale, if vocab.is_multiple_of(32) { shape.dtype } else { GgmlDType::F32 }),
        ),
    ];
    for l in 0..shape.layers {
        let p = |n: &str| format!("blk.{l}.{n}.weight");
        tensors.push((p("attn_norm"), w.ones(h)));
        tensors.push((p("attn_q"), w.tensor(h, h, scale, shape.dtype)));
        tensors.push((p("attn_k"), w.tensor(kv, h, scale, shape.dtype)));
        tensors.push((p("attn_v"), w.tensor(kv, h, scale, shape.dtype)));
        tensors.push((p("attn_output"), w.tensor(h, h, scale, shape.dtype)));
        tensors.push((p("ffn_norm"), w.ones(h)));
        tensors.push((p("ffn_gate"), w.tensor(shape.ffn, h, scale, shape.dtype)));
        tensors.push((p("ffn_up"), w.tensor(shape.ffn, h, scale, shape.dtype)));
        tensors.push((p("ffn_down"), w.tensor(h, shape.ffn, 1.0 / (shape.ffn as f32).sqrt(), shape.dtype)));
    }
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let md: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (*k, v)).collect();
    let ts: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    candle_core::quantized::gguf_file::write(&mut file, &md, &ts)?;
    std::io::Write::flush(&mut file)?;
    Ok(())
}
