//! Local inference: a Llama-architecture GGUF (random weights, written by the harness, with a
//! GPT-2 BPE tokenizer in its metadata) answering through `morph model generate`.

mod common;

use common::{morph_with, path_str};
use morph_e2e::gguf::{write_llama, Shape};

fn tiny_model(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("tiny-llama.gguf");
    write_llama(&path, Shape::TINY, 7).unwrap();
    path
}

fn generate(home: &std::path::Path, model: &str, extra: &[&str]) -> common::Run {
    let mut args = vec!["--json", "model", "generate", model, "--prompt", "hello world, the", "--max-tokens", "24"];
    args.extend_from_slice(extra);
    morph_with(home, &args, &[], None)
}

#[test]
fn greedy_generation_is_the_same_every_time_and_sampling_follows_its_seed() {
    let home = tempfile::tempdir().unwrap();
    let model = tiny_model(home.path());
    let first = generate(home.path(), path_str(&model), &[]);
    assert_eq!(first.code, 0, "{first:?}");
    let j = first.json();
    assert_eq!(j["architecture"], "llama");
    let tokens = j["stats"]["generated_tokens"].as_u64().unwrap();
    assert!(tokens > 0, "{first:?}");
    // "<|begin_of_text|>" + the BPE pieces of the prompt, merges applied ("he", "Ġwor", "ld", …).
    let prompt_tokens = j["stats"]["prompt_tokens"].as_u64().unwrap();
    assert!(
        prompt_tokens > 1 && prompt_tokens < "hello world, the".len() as u64 + 1,
        "merges shorten the prompt: {first:?}"
    );
    let again = generate(home.path(), path_str(&model), &[]);
    assert_eq!(again.json()["text"], j["text"], "greedy decoding is deterministic");

    let sampled = |seed: &str| {
        generate(home.path(), path_str(&model), &["--temperature", "1.0", "--seed", seed]).json()["text"].clone()
    };
    assert_eq!(sampled("1"), sampled("1"), "the same seed, the same answer");
    assert_ne!(sampled("1"), sampled("2"), "another seed, another answer");
}

#[test]
fn text_streams_to_stdout_and_a_stored_model_is_named() {
    let home = tempfile::tempdir().unwrap();
    let model = tiny_model(home.path());
    let added =
        morph_with(home.path(), &["model", "add", path_str(&model), "--name", "test/tiny/tiny-llama.gguf"], &[], None);
    assert_eq!(added.code, 0, "{added:?}");
    let json = generate(home.path(), "test/tiny/tiny-llama.gguf", &[]);
    assert_eq!(json.code, 0, "{json:?}");
    let plain = morph_with(
        home.path(),
        &["model", "generate", "test/tiny/tiny-llama.gguf", "--prompt", "hello world, the", "--max-tokens", "24"],
        &[],
        None,
    );
    assert_eq!(plain.code, 0, "{plain:?}");
    assert_eq!(plain.stdout.trim_end_matches('\n'), json.json()["text"].as_str().unwrap());
    let stdin = morph_with(
        home.path(),
        &["--json", "model", "generate", "test/tiny/tiny-llama.gguf", "--max-tokens", "24"],
        &[],
        Some("hello world, the"),
    );
    assert_eq!(stdin.json()["text"], json.json()["text"], "the prompt from stdin");
}

#[test]
fn files_that_are_not_models_are_refused_with_exit_2() {
    let home = tempfile::tempdir().unwrap();
    let not_gguf = home.path().join("model.gguf");
    std::fs::write(&not_gguf, b"GGUF but not really").unwrap();
    let r = generate(home.path(), path_str(&not_gguf), &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("not a GGUF model file") && r.stderr.contains("model.gguf"), "{r:?}");
    let missing = generate(home.path(), "nobody/none/none.gguf", &[]);
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(missing.stderr.contains("morph model pull"), "{missing:?}");
}
