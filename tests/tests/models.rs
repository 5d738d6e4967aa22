//! `morph model`: the model store AI morphs load from, filled from a Hugging Face hub (a local
//! stand-in with the hub's paths and headers) or from files the user has.

mod common;

use common::hub::{Hub, HubMode};
use common::{morph_with, path_str};

const NAME: &str = "acme/tiny-GGUF/tiny-q8_0.gguf";

/// Bytes that stand for a model file: big enough to arrive in several chunks.
fn model_bytes() -> Vec<u8> {
    (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

fn with_hub<'a>(hub: &'a Hub, token: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![("HF_ENDPOINT", hub.endpoint.as_str())];
    if let Some(t) = token {
        env.push(("HF_TOKEN", t));
    }
    env
}

#[test]
fn a_pulled_model_is_checked_and_kept_in_the_hub_cache_layout() {
    let home = tempfile::tempdir().unwrap();
    let bytes = model_bytes();
    let hub = Hub::start(NAME, bytes.clone(), HubMode::Normal, Some("hf_secret"));
    let env = with_hub(&hub, Some("hf_secret"));
    let r = morph_with(home.path(), &["--json", "model", "pull", NAME], &env, None);
    assert_eq!(r.code, 0, "{r:?}");
    let path = r.json()["path"].as_str().unwrap().to_string();
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "the stored file is the hub's bytes");
    assert_eq!(r.json()["sha256"].as_str().unwrap(), format!("sha256:{}", hub.sha256));

    // Hayride's layout: blobs by sha256, refs/main, a snapshot link.
    let repo = home.path().join("ai/hf_hub/models--acme--tiny-GGUF");
    assert!(repo.join("blobs").join(&hub.sha256).is_file());
    assert_eq!(std::fs::read_to_string(repo.join("refs/main")).unwrap(), hub.commit);
    let link = repo.join("snapshots").join(&hub.commit).join("tiny-q8_0.gguf");
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());

    // The token went to the hub, never to the CDN it redirected to.
    assert!(hub.hub_auth.lock().unwrap().iter().any(|a| a == "Bearer hf_secret"));
    assert!(hub.cdn_auth.lock().unwrap().is_empty(), "{:?}", hub.cdn_auth.lock().unwrap());

    // In the store: listed, its path printed; a second pull fetches nothing.
    let list = morph_with(home.path(), &["--json", "model", "list"], &[], None);
    assert_eq!(list.json()["models"][0]["name"], NAME, "{list:?}");
    let p = morph_with(home.path(), &["model", "path", NAME], &[], None);
    assert_eq!(p.stdout.trim(), path);
    let downloads = hub.downloads.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(morph_with(home.path(), &["model", "pull", NAME], &env, None).code, 0);
    assert_eq!(
        hub.downloads.load(std::sync::atomic::Ordering::SeqCst),
        downloads,
        "a stored model is not fetched again"
    );

    // Offline: what the store has is there, nothing else is fetched.
    let offline = morph_with(home.path(), &["model", "pull", NAME, "--offline"], &[], None);
    assert_eq!(offline.code, 0, "{offline:?}");
    let other = morph_with(home.path(), &["model", "pull", "acme/tiny-GGUF/other.gguf", "--offline"], &env, None);
    assert_eq!(other.code, 2, "{other:?}");
    assert!(other.stderr.contains("--offline"), "{other:?}");

    // Removed: the link and the blob go.
    let rm = morph_with(home.path(), &["model", "rm", NAME], &[], None);
    assert_eq!(rm.code, 0, "{rm:?}");
    assert!(!repo.join("blobs").join(&hub.sha256).exists());
    let gone = morph_with(home.path(), &["model", "path", NAME], &[], None);
    assert_eq!(gone.code, 2);
    assert!(gone.stderr.contains("morph model pull"), "{gone:?}");
}

#[test]
fn a_dropped_connection_is_resumed_where_it_stopped() {
    let home = tempfile::tempdir().unwrap();
    let bytes = model_bytes();
    let hub = Hub::start(NAME, bytes.clone(), HubMode::DropOnceAt(70_000), None);
    let r = morph_with(home.path(), &["--json", "model", "pull", NAME], &with_hub(&hub, None), None);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(std::fs::read(r.json()["path"].as_str().unwrap()).unwrap(), bytes);
    let ranges = hub.ranges.lock().unwrap().clone();
    assert_eq!(ranges.first().map(String::as_str), Some("-"), "{ranges:?}");
    assert!(
        ranges.iter().any(|r| r.starts_with("bytes=") && r != "bytes=0-"),
        "the second request resumed: {ranges:?}"
    );
}

#[test]
fn a_download_that_cannot_finish_is_resumed_by_the_next_pull() {
    let home = tempfile::tempdir().unwrap();
    let bytes = model_bytes();
    let flaky = Hub::start(NAME, bytes.clone(), HubMode::AlwaysDropAt(100_000), None);
    let r = morph_with(home.path(), &["model", "pull", NAME], &with_hub(&flaky, None), None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("run the pull again to resume"), "{r:?}");
    assert_eq!(morph_with(home.path(), &["model", "path", NAME], &[], None).code, 2, "nothing half-written is a model");

    let good = Hub::start(NAME, bytes.clone(), HubMode::Normal, None);
    let r = morph_with(home.path(), &["--json", "model", "pull", NAME], &with_hub(&good, None), None);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(std::fs::read(r.json()["path"].as_str().unwrap()).unwrap(), bytes);
    let ranges = good.ranges.lock().unwrap().clone();
    assert_eq!(ranges.len(), 1, "{ranges:?}");
    let from: usize = ranges[0].trim_start_matches("bytes=").trim_end_matches('-').parse().unwrap();
    assert!(from >= 100_000, "the next pull asked only for what was missing: {ranges:?}");
}

#[test]
fn bytes_that_do_not_match_the_hubs_sha256_are_not_kept() {
    let home = tempfile::tempdir().unwrap();
    let hub = Hub::start(NAME, model_bytes(), HubMode::WrongSha, None);
    let r = morph_with(home.path(), &["model", "pull", NAME], &with_hub(&hub, None), None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("sha256") && r.stderr.contains("nothing was kept"), "{r:?}");
    let blobs = home.path().join("ai/hf_hub/models--acme--tiny-GGUF/blobs");
    let left: Vec<_> = std::fs::read_dir(&blobs).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn hub_refusals_say_what_to_do() {
    let home = tempfile::tempdir().unwrap();
    let hub = Hub::start(NAME, model_bytes(), HubMode::Normal, Some("hf_secret"));
    let gated = morph_with(home.path(), &["model", "pull", NAME], &with_hub(&hub, None), None);
    assert_eq!(gated.code, 2, "{gated:?}");
    assert!(gated.stderr.contains("401") && gated.stderr.contains("HF_TOKEN"), "{gated:?}");
    let missing = morph_with(
        home.path(),
        &["model", "pull", "acme/tiny-GGUF/nope.gguf"],
        &with_hub(&hub, Some("hf_secret")),
        None,
    );
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(missing.stderr.contains("404") && missing.stderr.contains("file name"), "{missing:?}");
    for bad in ["tiny.gguf", "acme/../x.gguf", "acme/repo/", "a b/c/d.gguf"] {
        let r = morph_with(home.path(), &["model", "pull", bad], &with_hub(&hub, None), None);
        assert_eq!(r.code, 2, "{bad}: {r:?}");
        assert!(r.stderr.contains("OWNER/REPO/FILE"), "{bad}: {r:?}");
    }
    let unreachable = morph_with(home.path(), &["model", "pull", NAME], &[("HF_ENDPOINT", "http://127.0.0.1:9")], None);
    assert_eq!(unreachable.code, 2, "{unreachable:?}");
    assert!(unreachable.stderr.contains("cannot reach the hub"), "{unreachable:?}");
}

#[test]
fn a_file_the_user_has_is_added_under_a_name() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.gguf");
    std::fs::write(&file, model_bytes()).unwrap();
    let r = morph_with(
        home.path(),
        &["--json", "model", "add", path_str(&file), "--name", "me/models/mine.gguf"],
        &[],
        None,
    );
    assert_eq!(r.code, 0, "{r:?}");
    let stored = r.json()["path"].as_str().unwrap().to_string();
    assert_ne!(stored, path_str(&file));
    assert_eq!(std::fs::read(&stored).unwrap(), model_bytes());
    let default = morph_with(home.path(), &["--json", "model", "add", path_str(&file)], &[], None);
    assert_eq!(default.json()["name"], "local/models/mine.gguf", "{default:?}");
    let missing = morph_with(home.path(), &["model", "add", path_str(&dir.path().join("nope.gguf"))], &[], None);
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(missing.stderr.contains("nope.gguf"), "{missing:?}");
    let names: Vec<String> = morph_with(home.path(), &["--json", "model", "list"], &[], None).json()["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["local/models/mine.gguf", "me/models/mine.gguf"]);
}
