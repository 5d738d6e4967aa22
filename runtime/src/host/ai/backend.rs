//! The inference behind `wasi:nn` and `hayride:ai`'s streams: models loaded once per process
//! and shared by every graph that names them, and a generation that runs on a thread of its own
//! and hands its text over a channel piece by piece. The blocking `compute` and the streamed one
//! are the same generation read two ways, so they give the same answer.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::mpsc;

use morph_ai::{Generation, LanguageModel, SentenceEncoder};

/// A language model in memory, and the lock that gives one generation at a time its KV cache.
pub(crate) struct LoadedModel {
    pub path: PathBuf,
    model: Mutex<LanguageModel>,
}

/// What is already in memory, by file: a second `load-by-name` of the same model (another
/// graph, another instance of `morph serve`) shares the first one's weights; so do encoders.
type Loaded<T> = Mutex<Option<HashMap<PathBuf, Weak<T>>>>;

static MODELS: Loaded<LoadedModel> = Mutex::new(None);
static ENCODERS: Loaded<SentenceEncoder> = Mutex::new(None);

/// The `T` at `path` in `loaded`, or `load`ed now and kept there while anyone holds it.
fn shared<T>(loaded: &Loaded<T>, path: &Path, load: impl FnOnce() -> Result<T, String>) -> Result<Arc<T>, String> {
    let mut loaded = loaded.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let map = loaded.get_or_insert_with(HashMap::new);
    if let Some(found) = map.get(path).and_then(Weak::upgrade) {
        return Ok(found);
    }
    let value = Arc::new(load()?);
    map.retain(|_, v| v.strong_count() > 0);
    map.insert(path.to_path_buf(), Arc::downgrade(&value));
    Ok(value)
}

/// The language model at `path`, loaded now or shared with whoever loaded it before.
pub(crate) fn load(path: &Path) -> Result<Arc<LoadedModel>, String> {
    shared(&MODELS, path, || {
        let model = LanguageModel::load(path).map_err(|e| e.to_string())?;
        tracing::info!("loaded {} ({}) in {:?}", path.display(), model.architecture, model.load_time);
        Ok(LoadedModel { path: path.to_path_buf(), model: Mutex::new(model) })
    })
}

/// `work` (a model load, an embedding: CPU-bound, up to seconds) on a blocking thread, so the
/// async workers go on serving other requests and `--timeout` can end the call meanwhile.
pub(crate) async fn off_the_runtime<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(work).await.map_err(|e| format!("the work stopped: {e}"))?
}

/// The sentence encoder in `dir`, loaded now or shared with whoever loaded it before.
pub(crate) fn load_encoder(dir: &Path) -> Result<Arc<SentenceEncoder>, String> {
    shared(&ENCODERS, dir, || SentenceEncoder::load(dir).map_err(|e| e.to_string()))
}

/// What a guest asked for: the prompt, and how to generate.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub prompt: String,
    pub generation: Generation,
}

/// The options tensor, as Hayride's model morphs write it: JSON, every field optional, zero
/// meaning "the default". Its llama.cpp settings morph's engine has no use for (`top_k`,
/// `num_context`, `num_batch`) are ignored, as any unknown field is, so the same JSON works.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct PromptOptions {
    temperature: f64,
    max_predict: i64,
    top_p: f64,
    seed: u64,
}

/// The tensor named `options` holds the options; any other holds the prompt (UTF-8 bytes), as in
/// Hayride's model morphs, which name it `user`.
pub(crate) fn request(inputs: &[(String, &[u8])]) -> Result<Request, String> {
    let mut prompt = None;
    let mut generation = Generation::default();
    for (name, data) in inputs {
        if name == "options" {
            let opts: PromptOptions = serde_json::from_slice(data)
                .map_err(|e| format!("the `options` tensor is not the options JSON ({e}); e.g. {{\"temperature\":0.7,\"max_predict\":128,\"seed\":42}}"))?;
            generation.temperature = opts.temperature;
            if opts.max_predict > 0 {
                generation.max_tokens = opts.max_predict as usize;
            }
            if opts.top_p > 0.0 && opts.top_p < 1.0 {
                generation.top_p = Some(opts.top_p);
            }
            if opts.seed != 0 {
                generation.seed = opts.seed;
            }
        } else {
            let text =
                std::str::from_utf8(data).map_err(|_| format!("the prompt tensor `{name}` is not UTF-8 text"))?;
            prompt = Some(text.to_string());
        }
    }
    let prompt = prompt.ok_or("no prompt: pass a U8 tensor of the prompt's UTF-8 bytes (Hayride names it `user`)")?;
    Ok(Request { prompt, generation })
}

/// The name of the answer's tensor, in the blocking and the streamed form, as Hayride's host
/// names it.
pub(crate) const OUTPUT: &str = "Output";

/// One piece of the answer, or why the generation failed.
pub(crate) type Piece = Result<String, String>;

/// Starts generating `request` on a thread of its own. Pieces arrive as they are produced; the
/// channel closes at the end. Dropping the receiver (a guest that drops its stream, an instance
/// ended by `--timeout`) stops the generation at its next token.
pub(crate) fn generate(model: Arc<LoadedModel>, request: Request) -> mpsc::UnboundedReceiver<Piece> {
    // Unbounded: a generation never waits for its reader while it holds the model, so a guest
    // that reads a second stream before the first cannot deadlock them (the text is bounded by
    // the token limit).
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::Builder::new()
        .name("morph-inference".into())
        .spawn(move || {
            let mut lm = model.model.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let mut abandoned = false;
            let mut emit = |text: &str| {
                if tx.send(Ok(text.to_string())).is_err() {
                    abandoned = true;
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            };
            match lm.generate(&request.prompt, &request.generation, &mut emit) {
                Ok(stats) => tracing::info!(
                    "{}: {} prompt tokens, {} generated at {:.1} tokens/s{}",
                    model.path.display(),
                    stats.prompt_tokens,
                    stats.generated_tokens,
                    stats.tokens_per_second(),
                    if abandoned { "; stopped: its reader went away" } else { "" }
                ),
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                }
            }
        })
        .expect("starting an inference thread");
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_prompt_as_hayride_passes_them() {
        let opts = br#"{"temperature":0.5,"max_predict":7,"seed":9,"top_k":40}"#;
        let r = request(&[("options".into(), &opts[..]), ("user".into(), b"hi")]).unwrap();
        assert_eq!(r.prompt, "hi");
        assert_eq!((r.generation.temperature, r.generation.max_tokens, r.generation.seed), (0.5, 7, 9));
        let r = request(&[("user".into(), b"hi")]).unwrap();
        assert_eq!(r.generation.temperature, 0.0, "greedy unless asked");
        assert!(request(&[("options".into(), b"{}")]).unwrap_err().contains("no prompt"));
        assert!(request(&[("options".into(), b"nope"), ("user".into(), b"x")]).unwrap_err().contains("options"));
        assert!(request(&[("user".into(), &[0xff][..])]).unwrap_err().contains("UTF-8"));
    }
}
