//! The tokenizer a GGUF file carries in its metadata (`tokenizer.ggml.*`), as llama.cpp reads
//! it: no `tokenizer.json` beside the model.
//!
//! Two models: `gpt2` (byte-level BPE with ranked merges: Llama 3, Qwen 2/2.5/3) and `llama`
//! (SentencePiece with scores and byte fallback: Llama 2, Mistral, TinyLlama). Special tokens
//! (control and user-defined types, e.g. `<|im_start|>`) written in a prompt are matched before
//! anything else and become their own ids, as chat templates need.

use std::collections::HashMap;

use candle_core::quantized::gguf_file::{Content, Value};

use super::AiError;

/// llama.cpp's token types.
const TYPE_CONTROL: i32 = 3;
const TYPE_USER_DEFINED: i32 = 4;
const TYPE_BYTE: i32 = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bpe,
    Spm,
}

pub struct Tokenizer {
    kind: Kind,
    tokens: Vec<String>,
    types: Vec<i32>,
    ids: HashMap<String, u32>,
    /// BPE: the rank of each merge `(left, right)`.
    ranks: HashMap<(String, String), usize>,
    /// SPM: each token's score.
    scores: Vec<f32>,
    /// Special tokens, longest first, for matching in prompts.
    specials: Vec<(String, u32)>,
    /// The pre-tokenizer split of a BPE model.
    split: Option<fancy_regex::Regex>,
    pub bos: Option<u32>,
    pub add_bos: bool,
    /// The ids that end a generation (end of sequence, end of turn).
    pub stops: Vec<u32>,
}

/// The GPT-2 pre-tokenizer pattern, and the Llama 3 and Qwen 2 variants (digits in groups of
/// up to three, or one by one), as llama.cpp picks them by `tokenizer.ggml.pre`.
const SPLIT_GPT2: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
const SPLIT_LLAMA3: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const SPLIT_QWEN2: &str =
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

fn bad(why: impl Into<String>) -> AiError {
    AiError::Tokenizer(why.into())
}

fn strings(ct: &Content, key: &str) -> Result<Vec<String>, AiError> {
    let v = ct.metadata.get(key).ok_or_else(|| bad(format!("the file has no {key}")))?;
    let items = v.to_vec().map_err(|_| bad(format!("{key} is not a list")))?;
    items.iter().map(|i| i.to_string().cloned().map_err(|_| bad(format!("{key} holds a non-string")))).collect()
}

fn u32_of(ct: &Content, key: &str) -> Option<u32> {
    ct.metadata.get(key).and_then(|v| v.to_u32().ok().or_else(|| v.to_i32().ok().map(|i| i as u32)))
}

impl Tokenizer {
    pub fn from_gguf(ct: &Content) -> Result<Tokenizer, AiError> {
        let model = ct
            .metadata
            .get("tokenizer.ggml.model")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .ok_or_else(|| bad("the file carries no tokenizer (tokenizer.ggml.model)"))?;
        let kind = match model.as_str() {
            "gpt2" => Kind::Bpe,
            "llama" => Kind::Spm,
            other => return Err(bad(format!("tokenizer model `{other}` is not supported (gpt2 and llama are)"))),
        };
        let tokens = strings(ct, "tokenizer.ggml.tokens")?;
        let types: Vec<i32> = match ct.metadata.get("tokenizer.ggml.token_type") {
            Some(Value::Array(a)) => a.iter().map(|v| v.to_i32().unwrap_or(1)).collect(),
            _ => vec![1; tokens.len()],
        };
        let ids: HashMap<String, u32> = tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
        let ranks = if kind == Kind::Bpe {
            strings(ct, "tokenizer.ggml.merges")?
                .into_iter()
                .enumerate()
                .filter_map(|(rank, m)| m.split_once(' ').map(|(a, b)| ((a.to_string(), b.to_string()), rank)))
                .collect()
        } else {
            HashMap::new()
        };
        let scores = match ct.metadata.get("tokenizer.ggml.scores") {
            Some(Value::Array(a)) => a.iter().map(|v| v.to_f32().unwrap_or(0.0)).collect(),
            _ => vec![0.0; tokens.len()],
        };
        let mut specials: Vec<(String, u32)> = types
            .iter()
            .enumerate()
            .filter(|(_, t)| **t == TYPE_CONTROL || **t == TYPE_USER_DEFINED)
            .map(|(i, _)| (tokens[i].clone(), i as u32))
            .filter(|(t, _)| !t.is_empty())
            .collect();
        specials.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
        let split = if kind == Kind::Bpe {
            let pre =
                ct.metadata.get("tokenizer.ggml.pre").and_then(|v| v.to_string().ok()).cloned().unwrap_or_default();
            let pattern = match pre.as_str() {
                "llama3" | "llama-bpe" | "llama-v3" | "smaug-bpe" => SPLIT_LLAMA3,
                "qwen2" | "qwen35" | "deepseek-r1-qwen" => SPLIT_QWEN2,
                _ => SPLIT_GPT2,
            };
            Some(fancy_regex::Regex::new(pattern).map_err(|e| bad(e.to_string()))?)
        } else {
            None
        };
        let bos = u32_of(ct, "tokenizer.ggml.bos_token_id");
        let add_bos =
            ct.metadata.get("tokenizer.ggml.add_bos_token").and_then(|v| v.to_bool().ok()).unwrap_or(kind == Kind::Spm);
        // End of sequence, and the end-of-turn markers chat models stop at.
        let mut stops: Vec<u32> = ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id"]
            .iter()
            .filter_map(|k| u32_of(ct, k))
            .collect();
        for marker in ["<|eot_id|>", "<|im_end|>", "<|end_of_text|>", "<|endoftext|>", "<end_of_turn>", "</s>"] {
            if let Some(id) = ids.get(marker) {
                stops.push(*id);
            }
        }
        stops.sort_unstable();
        stops.dedup();
        Ok(Tokenizer { kind, tokens, types, ids, ranks, scores, specials, split, bos, add_bos, stops })
    }

    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    /// The ids of `text`, with the beginning-of-sequence token first when the model wants one.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        if self.add_bos {
            out.extend(self.bos);
        }
        let mut rest = text;
        let mut first = true;
        while !rest.is_empty() {
            // The earliest special token in what is left, and the plain text before it.
            let next = self
                .specials
                .iter()
                .filter_map(|(s, id)| rest.find(s.as_str()).map(|at| (at, s.len(), *id)))
                .min_by_key(|(at, len, _)| (*at, std::cmp::Reverse(*len)));
            let (plain, special) = match next {
                Some((at, len, id)) => (&rest[..at], Some((id, at + len))),
                None => (rest, None),
            };
            if !plain.is_empty() {
                match self.kind {
                    Kind::Bpe => self.encode_bpe(plain, &mut out),
                    Kind::Spm => self.encode_spm(plain, first, &mut out),
                }
            }
            first = false;
            match special {
                Some((id, end)) => {
                    out.push(id);
                    rest = &rest[end..];
                }
                None => break,
            }
        }
        out
    }

    fn encode_bpe(&self, text: &str, out: &mut Vec<u32>) {
        let split = self.split.as_ref().expect("a BPE tokenizer has a split");
        let pieces: Vec<&str> = split.find_iter(text).filter_map(Result::ok).map(|m| m.as_str()).collect();
        for piece in pieces {
            let mut parts: Vec<String> = piece.bytes().map(|b| byte_char(b).to_string()).collect();
            // Merge the adjacent pair of lowest rank until no pair has one.
            merge_pairs(&mut parts, |parts| {
                (0..parts.len().saturating_sub(1))
                    .filter_map(|i| self.ranks.get(&(parts[i].clone(), parts[i + 1].clone())).map(|r| (*r, i)))
                    .min()
                    .map(|(_, i)| i)
            });
            for p in parts {
                match self.ids.get(&p) {
                    Some(id) => out.push(*id),
                    // A piece with no token: its characters one by one, where they have one.
                    None => out.extend(p.chars().filter_map(|c| self.ids.get(&c.to_string()).copied())),
                }
            }
        }
    }

    fn encode_spm(&self, text: &str, first: bool, out: &mut Vec<u32>) {
        let normalized = format!("{}{}", if first { "\u{2581}" } else { "" }, text.replace(' ', "\u{2581}"));
        let mut parts: Vec<String> = normalized.chars().map(|c| c.to_string()).collect();
        // Merge the adjacent pair whose merged token scores highest, as SentencePiece does.
        merge_pairs(&mut parts, |parts| {
            (0..parts.len().saturating_sub(1))
                .filter_map(|i| {
                    let merged = format!("{}{}", parts[i], parts[i + 1]);
                    self.ids.get(&merged).map(|id| (self.scores.get(*id as usize).copied().unwrap_or(0.0), i))
                })
                .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
                .map(|(_, i)| i)
        });
        for p in parts {
            match self.ids.get(&p) {
                Some(id) => out.push(*id),
                None => {
                    // Byte fallback: <0xXX> per byte.
                    for b in p.bytes() {
                        if let Some(id) = self.ids.get(&format!("<0x{b:02X}>")) {
                            out.push(*id);
                        }
                    }
                }
            }
        }
    }

    /// The bytes a token stands for in generated text; control tokens stand for nothing.
    pub fn token_bytes(&self, id: u32) -> Vec<u8> {
        let Some(text) = self.tokens.get(id as usize) else { return Vec::new() };
        let ty = self.types.get(id as usize).copied().unwrap_or(1);
        if ty == TYPE_CONTROL {
            return Vec::new();
        }
        match self.kind {
            Kind::Bpe => {
                if ty == TYPE_USER_DEFINED {
                    return text.as_bytes().to_vec();
                }
                text.chars().map(|c| char_byte(c).unwrap_or(b'?')).collect()
            }
            Kind::Spm => {
                if ty == TYPE_BYTE {
                    let hex = text.trim_start_matches("<0x").trim_end_matches('>');
                    return u8::from_str_radix(hex, 16).map(|b| vec![b]).unwrap_or_default();
                }
                text.replace('\u{2581}', " ").into_bytes()
            }
        }
    }

    /// Whether generated text from SPM models starts with the space its first piece carries.
    pub fn strips_leading_space(&self) -> bool {
        self.kind == Kind::Spm
    }
}

/// Joins the pair at the index `best` picks (`i` and `i + 1`) until it picks none.
fn merge_pairs(parts: &mut Vec<String>, best: impl Fn(&[String]) -> Option<usize>) {
    while let Some(i) = best(parts) {
        let merged = format!("{}{}", parts[i], parts[i + 1]);
        parts.splice(i..i + 2, [merged]);
    }
}

/// GPT-2's printable stand-in for each byte: printable Latin-1 bytes stand for themselves, the
/// others are moved to code points from 256 up.
fn byte_char(b: u8) -> char {
    if matches!(b, 33..=126 | 161..=172 | 174..=255) {
        return b as char;
    }
    let mut n = 0u32;
    for x in 0..=255u8 {
        if matches!(x, 33..=126 | 161..=172 | 174..=255) {
            continue;
        }
        if x == b {
            break;
        }
        n += 1;
    }
    char::from_u32(256 + n).unwrap_or('?')
}

fn char_byte(c: char) -> Option<u8> {
    let u = c as u32;
    if u < 256 && matches!(u as u8, 33..=126 | 161..=172 | 174..=255) {
        return Some(u as u8);
    }
    let n = u.checked_sub(256)?;
    (0..=255u8).filter(|x| !matches!(x, 33..=126 | 161..=172 | 174..=255)).nth(n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_has_a_stand_in_and_back() {
        for b in 0..=255u8 {
            assert_eq!(char_byte(byte_char(b)), Some(b), "{b}");
        }
        assert_eq!(byte_char(b' '), '\u{120}', "GPT-2's Ġ for a space");
    }
}
