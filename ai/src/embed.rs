//! Sentence embeddings: a BERT encoder in safetensors (all-MiniLM-L6-v2 and its kin, as
//! sentence-transformers publishes them) with its WordPiece vocabulary, mean-pooled over the
//! tokens and L2-normalized, so the dot product of two embeddings is their cosine similarity.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};

use super::AiError;

/// A sentence encoder loaded from a model folder: `config.json`, `model.safetensors`, and the
/// vocabulary (`vocab.txt`, or the WordPiece model of `tokenizer.json`).
pub struct SentenceEncoder {
    model: BertModel,
    vocab: HashMap<String, u32>,
    lowercase: bool,
    max_tokens: usize,
}

const MAX_WORD_CHARS: usize = 100;

impl SentenceEncoder {
    pub fn load(dir: &Path) -> Result<SentenceEncoder, AiError> {
        let bad = |why: String| AiError::Model { path: dir.to_path_buf(), why };
        let read = |name: &str| std::fs::read(dir.join(name));
        let config: Config =
            serde_json::from_slice(&read("config.json").map_err(|e| bad(format!("config.json: {e}")))?)
                .map_err(|e| bad(format!("config.json is not a BERT configuration: {e}")))?;
        let (vocab, lowercase) = vocabulary(dir).map_err(bad)?;
        let weights = dir.join("model.safetensors");
        if !weights.is_file() {
            return Err(bad("no model.safetensors beside config.json".into()));
        }
        // SAFETY: a read-only mapping of a model file that morph does not write while it runs.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&weights], DType::F32, &Device::Cpu) }
            .map_err(|e| bad(format!("model.safetensors: {e}")))?;
        let model = BertModel::load(vb, &config).map_err(|e| bad(format!("not a BERT encoder: {e}")))?;
        let max_tokens = std::fs::read(dir.join("sentence_bert_config.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["max_seq_length"].as_u64())
            .map_or(config.max_position_embeddings, |n| n as usize)
            .min(config.max_position_embeddings);
        Ok(SentenceEncoder { model, vocab, lowercase, max_tokens })
    }

    /// The embedding of `text`: unit length, as many numbers as the model's hidden size.
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, AiError> {
        let compute = |e: candle_core::Error| AiError::Compute(e.to_string());
        let ids = self.tokenize(text);
        let n = ids.len();
        let input = Tensor::new(ids.as_slice(), &Device::Cpu).and_then(|t| t.unsqueeze(0)).map_err(compute)?;
        let types = input.zeros_like().map_err(compute)?;
        let mask = input.ones_like().map_err(compute)?;
        let hidden = self.model.forward(&input, &types, Some(&mask)).map_err(compute)?;
        // Mean over the tokens (every one is real: no padding in a batch of one), then unit length.
        let mean = (hidden.sum(1).map_err(compute)? / n as f64).map_err(compute)?;
        let v: Vec<f32> = mean.squeeze(0).and_then(|t| t.to_vec1()).map_err(compute)?;
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        Ok(v.into_iter().map(|x| x / norm).collect())
    }

    /// `[CLS]` + the WordPiece ids of `text` + `[SEP]`, cut to the model's length.
    fn tokenize(&self, text: &str) -> Vec<u32> {
        let id = |t: &str| self.vocab.get(t).copied();
        let unk = id("[UNK]").unwrap_or(100);
        let mut ids = vec![id("[CLS]").unwrap_or(101)];
        for word in basic_words(text, self.lowercase) {
            wordpiece(&word, &self.vocab, unk, &mut ids);
        }
        ids.truncate(self.max_tokens.saturating_sub(1).max(1));
        ids.push(id("[SEP]").unwrap_or(102));
        ids
    }
}

/// The vocabulary, by token, and whether the model lowercases its input.
fn vocabulary(dir: &Path) -> Result<(HashMap<String, u32>, bool), String> {
    let tokenizer: Option<serde_json::Value> =
        std::fs::read(dir.join("tokenizer.json")).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let lowercase = tokenizer
        .as_ref()
        .and_then(|t| t["normalizer"]["lowercase"].as_bool())
        .or_else(|| {
            let config = std::fs::read(dir.join("tokenizer_config.json")).ok()?;
            serde_json::from_slice::<serde_json::Value>(&config).ok()?["do_lower_case"].as_bool()
        })
        .unwrap_or(true);
    if let Ok(text) = std::fs::read_to_string(dir.join("vocab.txt")) {
        let vocab = text.lines().enumerate().map(|(i, t)| (t.to_string(), i as u32)).collect();
        return Ok((vocab, lowercase));
    }
    let map = tokenizer
        .as_ref()
        .and_then(|t| t["model"]["vocab"].as_object())
        .ok_or("no vocabulary: neither vocab.txt nor a WordPiece tokenizer.json beside the model")?;
    let vocab = map.iter().filter_map(|(t, id)| Some((t.clone(), id.as_u64()? as u32))).collect();
    Ok((vocab, lowercase))
}

/// BERT's basic tokenizer: control characters dropped, words split at whitespace, every
/// punctuation mark and CJK ideograph its own word, lowercased when the model is uncased.
fn basic_words(text: &str, lowercase: bool) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let flush = |w: &mut String, words: &mut Vec<String>| {
        if !w.is_empty() {
            words.push(std::mem::take(w));
        }
    };
    for c in text.chars() {
        if c == '\0' || c == '\u{fffd}' || (c.is_control() && !c.is_whitespace()) {
            continue;
        }
        if c.is_whitespace() {
            flush(&mut word, &mut words);
        } else if is_punctuation(c) || is_cjk(c) {
            flush(&mut word, &mut words);
            words.push(c.to_string());
        } else if lowercase {
            word.extend(c.to_lowercase());
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut words);
    words
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || (!c.is_alphanumeric() && !c.is_whitespace() && !c.is_control() && (c as u32) > 0x7f && !is_cjk(c))
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

/// Greedy longest-match WordPiece: pieces after the first carry `##`; a word with no cover is
/// `[UNK]`.
fn wordpiece(word: &str, vocab: &HashMap<String, u32>, unk: u32, out: &mut Vec<u32>) {
    let chars: Vec<char> = word.chars().collect();
    if chars.len() > MAX_WORD_CHARS {
        out.push(unk);
        return;
    }
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let mut end = chars.len();
        let mut found = None;
        while start < end {
            let mut piece: String = chars[start..end].iter().collect();
            if start > 0 {
                piece.insert_str(0, "##");
            }
            if let Some(&id) = vocab.get(&piece) {
                found = Some(id);
                break;
            }
            end -= 1;
        }
        match found {
            Some(id) => pieces.push(id),
            None => {
                out.push(unk);
                return;
            }
        }
        start = end;
    }
    out.extend(pieces);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_as_bert_splits_them() {
        assert_eq!(basic_words("Hello, World!  a\tb", true), ["hello", ",", "world", "!", "a", "b"]);
        assert_eq!(basic_words("Hello", false), ["Hello"]);
    }

    #[test]
    fn wordpiece_takes_the_longest_pieces_first() {
        let vocab: HashMap<String, u32> =
            [("un", 1), ("##aff", 2), ("##able", 3), ("[UNK]", 0), ("u", 4)].map(|(t, i)| (t.to_string(), i)).into();
        let mut out = Vec::new();
        wordpiece("unaffable", &vocab, 0, &mut out);
        assert_eq!(out, [1, 2, 3]);
        out.clear();
        wordpiece("unknowable", &vocab, 0, &mut out);
        assert_eq!(out, [0], "a word without a cover is one [UNK]");
    }
}
