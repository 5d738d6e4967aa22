//! `wasi:nn` and `hayride:ai` under `morph run --allow ai`: Rust probes (tests/guests/rust-hayride
//! `ai`, `context`; rust-hayride-060 `ai`) against a Llama-architecture GGUF the harness writes
//! (random weights, its own tokenizer) and adds to the model store, as `morph model add` does.

mod common;

use std::path::Path;

use common::*;
use morph_e2e::gguf::{write_llama, Shape};

const MODEL: &str = "test/tiny/tiny-llama.gguf";

/// A morph home whose model store has the tiny model as [`MODEL`].
fn home_with_model() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("tiny-llama.gguf");
    write_llama(&file, Shape::TINY, 7).unwrap();
    let added = morph_in(home.path(), &["model", "add", path_str(&file), "--name", MODEL]);
    assert_eq!(added.code, 0, "{added:?}");
    home
}

fn ai(home: &Path, flags: &[&str], args: &[&str]) -> Run {
    run_probe(home, &hayride_probe("ai"), flags, args)
}

#[test]
fn the_blocking_and_the_streamed_answer_are_the_same_and_the_stream_arrives_as_it_is_made() {
    let home = home_with_model();
    let opts = r#"{"max_predict":48}"#;
    let answer = ai(home.path(), &["--allow", "ai"], &["answer", MODEL, "hello world, the", opts]);
    assert_eq!(answer.code, 0, "{answer:?}");
    assert_eq!(answer.line("Output: "), "TensorType::U8 [1]", "one U8 tensor named Output, as Hayride's host gives");
    let text = answer.line("answer: ").to_string();
    assert!(!text.is_empty(), "{answer:?}");
    let again = ai(home.path(), &["--allow", "ai"], &["answer", MODEL, "hello world, the", opts]);
    assert_eq!(again.line("answer: "), text, "greedy decoding gives the same answer every time");

    let streamed = ai(home.path(), &["--allow", "ai"], &["stream", MODEL, "hello world, the", opts]);
    assert_eq!(streamed.code, 0, "{streamed:?}");
    assert_eq!(streamed.line("stream "), "Output: TensorType::U8 [1]");
    assert_eq!(streamed.line("text: "), text, "the stream carries the same generation");
    assert!(streamed.stdout.contains("end: StreamError::Closed"), "the stream ends closed: {streamed:?}");
    // The guest read what was ready, waited on the pollable when nothing was, and got the text
    // in several pieces: tokens reached it while the generation was still running.
    let pieces: usize = streamed.line("pieces: ").parse().unwrap();
    let waits: usize = streamed.line("waits: ").parse().unwrap();
    assert!(pieces >= 2 && waits >= 1, "pieces {pieces}, waits {waits}: {streamed:?}");

    // Sampling follows its seed, through the options tensor Hayride's morphs send.
    let sampled = |seed: u32| {
        let opts = format!(r#"{{"max_predict":24,"temperature":1.0,"seed":{seed}}}"#);
        let r = ai(home.path(), &["--allow", "ai"], &["answer", MODEL, "hello world, the", &opts]);
        r.line("answer: ").to_string()
    };
    assert_eq!(sampled(5), sampled(5));
    assert_ne!(sampled(5), sampled(6));
}

#[test]
fn a_dropped_stream_stops_its_generation_and_timeout_stops_a_runaway_one() {
    let home = home_with_model();
    let long = r#"{"max_predict":200000}"#;
    let started = std::time::Instant::now();
    let r = ai(home.path(), &["-v", "--allow", "ai"], &["drop", MODEL, "hello world, the", long]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("dropped after the first piece"), "{r:?}");
    assert!(r.stdout.contains("generated again"), "the model was free again: {r:?}");
    assert!(r.stderr.contains("stopped: its reader went away"), "the host stopped generating: {r:?}");
    assert!(started.elapsed().as_secs() < 60, "it did not generate 200000 tokens");

    let started = std::time::Instant::now();
    let r = ai(home.path(), &["--allow", "ai", "--timeout", "2s"], &["stream", MODEL, "hello world, the", long]);
    assert_eq!(r.code, 1, "a limit hit is the morph's failure, as for any run: {r:?}");
    assert!(r.stderr.contains("--timeout 2s"), "names the limit: {r:?}");
    assert!(started.elapsed().as_secs() < 30, "stopped at the timeout: {:?}", started.elapsed());
    let r = ai(home.path(), &["--allow", "ai", "--timeout", "2s"], &["answer", MODEL, "hello world, the", long]);
    assert_eq!(r.code, 1, "a blocking compute stops at the timeout too: {r:?}");
    assert!(r.stderr.contains("--timeout 2s"), "{r:?}");
}

#[test]
fn the_model_repository_is_morphs_store_and_nothing_outside_it_loads() {
    let home = home_with_model();
    let allow = ["--allow", "ai"];
    let r = ai(home.path(), &allow, &["models"]);
    assert_eq!(r.line("models: "), format!("[{MODEL:?}]"));
    let r = ai(home.path(), &allow, &["get", MODEL]);
    let path = r.line("path: ").to_string();
    assert!(path.contains("/ai/hf_hub/models--test--tiny/"), "a path in the store: {r:?}");
    let listed = morph_in(home.path(), &["model", "path", MODEL]);
    assert_eq!(listed.stdout.trim(), path, "the same path `morph model path` prints");

    let r = ai(home.path(), &allow, &["get", "test/tiny/other.gguf"]);
    assert!(
        r.line("get-model: ")
            .starts_with("ErrorCode::ModelNotFound: model test/tiny/other.gguf is not in morph's store"),
        "{r:?}"
    );
    assert!(r.stdout.contains("morph model pull test/tiny/other.gguf"), "says how to get it: {r:?}");
    let r = ai(home.path(), &allow, &["download", "test/tiny/other.gguf"]);
    assert!(r.line("download-model: ").starts_with("ErrorCode::NotEnabled"), "no network without --allow-net: {r:?}");
    assert!(r.stdout.contains("--allow-net"), "{r:?}");
    let r = ai(home.path(), &allow, &["download", MODEL]);
    assert_eq!(r.line("path: "), path, "a model already in the store needs no network");

    // A host file outside the store is not a model, whatever its name.
    let outside = home.path().join("tiny-llama.gguf");
    let r = ai(home.path(), &allow, &["stream", path_str(&outside), "hi"]);
    assert!(r.line("load-by-name: ").starts_with("ErrorCode::InvalidArgument"), "{r:?}");
    assert!(r.stdout.contains("is not a model of morph's store"), "{r:?}");
    let r = ai(home.path(), &allow, &["stream", "../../etc/passwd", "hi"]);
    assert!(r.line("load-by-name: ").starts_with("ErrorCode::InvalidArgument"), "{r:?}");
}

#[test]
fn ai_needs_its_grant_in_every_contract_version_and_validate_counts_it_provided() {
    let home = home_with_model();
    for probe in [hayride_probe("ai"), hayride_probe_060("ai")] {
        let r = run_probe(home.path(), &probe, &[], &["answer", MODEL, "hi"]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains("--allow ai"), "names the flag: {r:?}");
        assert!(r.stderr.contains("wasi:nn/") || r.stderr.contains("hayride:ai/"), "names the interface: {r:?}");
        assert!(r.stdout.is_empty(), "the morph never started: {r:?}");

        let v = morph_in(home.path(), &["--json", "validate", path_str(&probe)]);
        assert_eq!(v.code, 0, "every AI import is provided: {v:?}");
        let inspect = morph_in(home.path(), &["--json", "inspect", path_str(&probe)]);
        assert_eq!(inspect.code, 0, "{inspect:?}");
        let needs = inspect.json()["grants"].to_string();
        assert!(needs.contains("ai"), "inspect says the morph needs --allow ai: {inspect:?}");
    }
}

#[test]
fn contract_0_0_60_answers_the_same_both_ways_and_has_a_context() {
    let home = home_with_model();
    let r = run_probe(home.path(), &hayride_probe_060("ai"), &["--allow", "ai"], &[MODEL, "hello world, the"]);
    assert_eq!(r.code, 0, "{r:?}");
    let answer = r.line("answer: ");
    assert!(!answer.is_empty(), "{r:?}");
    assert_eq!(r.line("streamed: "), answer, "{r:?}");
    assert!(
        r.line("context: ").starts_with("1 message(s), first [Content::Text(TextContent { text: \"hello\""),
        "{r:?}"
    );
}

#[test]
fn the_hosts_context_keeps_a_conversation_per_resource_without_a_grant() {
    let home = tempfile::tempdir().unwrap();
    let r = run_probe(home.path(), &hayride_probe("context"), &[], &["first", "second"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("Role::User: [MessageContent::Text(\"first\")]"), "{r:?}");
    assert!(r.stdout.contains("MessageContent::Text(\"second\")"), "{r:?}");
    assert!(r.stdout.contains("messages: 2\n"), "{r:?}");
    assert!(r.stdout.contains("another context: 0 messages"), "{r:?}");
}

#[test]
fn an_agent_composed_with_its_formatter_and_context_answers_under_run_allow_ai() {
    let home = home_with_model();
    let [formatter, context, agent] = agent_parts();
    let dir = tempfile::tempdir().unwrap();
    let wac = dir.path().join("agent.wac");
    std::fs::write(
        &wac,
        r#"package test:app;
let formatter = new test:formatter { ... };
let context = new test:context { ... };
let agent = new test:agent {
    "hayride:ai/model@0.0.65": formatter["hayride:ai/model@0.0.65"],
    "hayride:ai/context@0.0.65": context["hayride:ai/context@0.0.65"],
    ...
};
export agent["wasi:cli/run@0.2.0"];
"#,
    )
    .unwrap();
    let app = dir.path().join("app.wasm");
    let dep = |name: &str, p: &Path| format!("test:{name}={}", p.display());
    let composed = morph_in(
        home.path(),
        &[
            "compose",
            path_str(&wac),
            "--dep",
            &dep("formatter", &formatter),
            "--dep",
            &dep("context", &context),
            "--dep",
            &dep("agent", &agent),
            "-o",
            path_str(&app),
        ],
    );
    assert_eq!(composed.code, 0, "{composed:?}");

    // The composition needs the host only for inference: the context is the composed one.
    let inspect = morph_in(home.path(), &["--json", "inspect", path_str(&app)]);
    let imports = inspect.json()["imports"].to_string();
    assert!(imports.contains("hayride:ai/graph-stream@0.0.65"), "{inspect:?}");
    assert!(!imports.contains("hayride:ai/context") && !imports.contains("hayride:ai/model@"), "{inspect:?}");
    let v = morph_in(home.path(), &["validate", path_str(&app)]);
    assert_eq!(v.code, 0, "{v:?}");

    let r = run_probe(home.path(), &app, &["--allow", "ai"], &[MODEL, "What is a kitten?"]);
    assert_eq!(r.code, 0, "{r:?}");
    // system + user + the decoded answer, which the formatter marks final.
    assert!(r.stdout.contains("context: 3 messages, last Role::Assistant final=true"), "{r:?}");
    let bytes: usize = r.line("prompt bytes: ").parse().unwrap();
    assert!(bytes > "What is a kitten?".len() + 60, "the formatter's chat template went to the model: {r:?}");
    let answer = r.stdout.lines().next().unwrap();
    assert!(!answer.is_empty(), "the model's streamed answer comes first: {r:?}");
}

/// Every AI interface of every contract version, alone: refused without `--allow ai`, naming
/// itself and the flag (a component importing only that instance, so nothing else is refused
/// first), and counted as provided by `validate`'s host table.
#[test]
fn each_ai_interface_of_each_version_needs_the_grant() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut names: Vec<String> =
        ["graph", "tensor", "inference", "errors"].iter().map(|i| format!("wasi:nn/{i}@0.2.0-rc-2024-10-28")).collect();
    for version in ["0.0.60", "0.0.65"] {
        for i in ["graph-stream", "inference-stream", "tensor-stream", "model-repository", "rag", "transformer"] {
            names.push(format!("hayride:ai/{i}@{version}"));
        }
    }
    for name in &names {
        let wat = dir.path().join("one.wat");
        std::fs::write(&wat, format!("(component (import \"{name}\" (instance)))")).unwrap();
        let r = morph_in(home.path(), &["run", path_str(&wat)]);
        assert_eq!(r.code, 2, "{name}: {r:?}");
        assert!(r.stderr.contains(name.as_str()) && r.stderr.contains("--allow ai"), "{name}: {r:?}");
        let r = morph_in(home.path(), &["--json", "inspect", path_str(&wat)]);
        assert_eq!(r.json()["grants"], serde_json::json!(["ai"]), "{name}: {r:?}");
    }
    // The context reaches nothing outside the instance: no grant.
    let wat = dir.path().join("context.wat");
    std::fs::write(&wat, "(component (import \"hayride:ai/context@0.0.65\" (instance)))").unwrap();
    let r = morph_in(home.path(), &["--json", "inspect", path_str(&wat)]);
    assert_eq!(r.json()["grants"], serde_json::json!([]), "{r:?}");
}

#[test]
fn fuel_stops_a_guest_that_reads_a_runaway_generation() {
    let home = home_with_model();
    let long = r#"{"max_predict":200000}"#;
    let started = std::time::Instant::now();
    let r = ai(home.path(), &["--allow", "ai", "--fuel", "20000000"], &["stream", MODEL, "hello world, the", long]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("--fuel"), "names the limit: {r:?}");
    assert!(r.stdout.contains("piece: "), "it read some of the answer first: {r:?}");
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
}

#[test]
fn download_model_fetches_from_the_hub_only_with_the_network_granted() {
    use common::hub::{Hub, HubMode};
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("tiny.gguf");
    write_llama(&file, Shape::TINY, 7).unwrap();
    let name = "acme/tiny-GGUF/tiny.gguf";
    let hub = Hub::start(name, std::fs::read(&file).unwrap(), HubMode::Normal, None);
    let env = [("HF_ENDPOINT", hub.endpoint.as_str())];
    let probe = hayride_probe("ai");
    let run = |flags: &[&str], args: &[&str]| run_probe_with(home.path(), &probe, flags, args, &env);
    let r = run(&["--allow", "ai"], &["download", name]);
    assert!(r.line("download-model: ").starts_with("ErrorCode::NotEnabled"), "{r:?}");
    assert_eq!(hub.downloads.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing was fetched");

    let r = run(&["--allow", "ai", "--allow-net"], &["download", name]);
    let path = r.line("path: ").to_string();
    assert!(path.contains("/ai/hf_hub/models--acme--tiny-GGUF/blobs/"), "{r:?}");
    assert_eq!(std::fs::read(&path).unwrap(), std::fs::read(&file).unwrap(), "the hub's bytes, checked");
    // Now in the store: the model answers by name, with no network.
    let r = run(&["--allow", "ai"], &["answer", name, "hello world, the", r#"{"max_predict":8}"#]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.line("answer: ").is_empty(), "{r:?}");
}
