//! The model store: model files (GGUF weights, embedding models) under `$MORPH_HOME/ai/hf_hub`,
//! in the layout of the Hugging Face hub's cache, which Hayride's runtime keeps under
//! `~/.hayride/ai/hf_hub` — so `MORPH_HOME=~/.hayride` shares one store with a Hayride install:
//!
//! ```text
//! models--OWNER--REPO/blobs/<etag>              the bytes (the etag is the sha256 for LFS files)
//! models--OWNER--REPO/refs/main                 the commit the files were fetched at
//! models--OWNER--REPO/snapshots/<commit>/FILE   a relative link to the blob
//! ```
//!
//! A model is named as Hayride names it: `OWNER/REPO/FILE` (the file may be in a folder of the
//! repository: `OWNER/REPO/dir/FILE`).

mod hub;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use hub::{pull, Hub, PullOptions};

use crate::Home;

/// Why a model operation failed, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("`{name}` is not a model name: {why}; write OWNER/REPO/FILE, e.g. Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf")]
    BadName { name: String, why: &'static str },
    #[error("model {name} is not in the store ({dir}); fetch it with `morph model pull {name}` or add a file you have with `morph model add FILE --name {name}`")]
    NotFound { name: String, dir: PathBuf },
    #[error("{name}: {path} cannot be read or written: {source}")]
    Io {
        name: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("model {name}: cannot reach the hub at {endpoint}: {why}; check the address (HF_ENDPOINT) and the network, or use a model already in the store (--offline)")]
    Unreachable { name: String, endpoint: String, why: String },
    #[error("model {name}: the hub answered {status} for {url}{hint}")]
    Refused { name: String, url: String, status: u16, hint: &'static str },
    #[error("model {name}: the download's sha256 is {actual}, the hub says {expected}; nothing was kept")]
    DigestMismatch { name: String, expected: String, actual: String },
    #[error("model {name}: the download is {actual} bytes, the hub says {expected}; nothing was kept")]
    SizeMismatch { name: String, expected: u64, actual: u64 },
    #[error("model {name} is not in the store and --offline (or HF_HUB_OFFLINE) forbids fetching it")]
    Offline { name: String },
}

/// A model's name, split into the repository id and the file in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelName {
    /// `OWNER/REPO`.
    pub repo: String,
    /// The path of the file in the repository.
    pub file: String,
}

impl ModelName {
    pub fn parse(name: &str) -> Result<ModelName, ModelError> {
        let bad = |why| ModelError::BadName { name: name.to_string(), why };
        let parts: Vec<&str> = name.split('/').collect();
        if parts.len() < 3 {
            return Err(bad("it needs an owner, a repository and a file"));
        }
        for p in &parts {
            if p.is_empty() || *p == "." || *p == ".." {
                return Err(bad("a part is empty, '.' or '..'"));
            }
            if !p.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
                return Err(bad("the parts are letters, digits, '-', '_' and '.'"));
            }
        }
        Ok(ModelName { repo: parts[..2].join("/"), file: parts[2..].join("/") })
    }

    fn dir(&self, home: &Home) -> PathBuf {
        repo_dir(home, &self.repo)
    }
}

/// The store's folder of repository `OWNER/REPO`.
fn repo_dir(home: &Home, repo: &str) -> PathBuf {
    store_dir(home).join(format!("models--{}", repo.replace('/', "--")))
}

/// The snapshot `refs/main` names in a repository's folder, when there is one.
fn current_snapshot(repo_dir: &Path) -> Option<PathBuf> {
    let commit = std::fs::read_to_string(repo_dir.join("refs/main")).ok()?;
    Some(repo_dir.join("snapshots").join(commit.trim()))
}

impl std::fmt::Display for ModelName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.repo, self.file)
    }
}

/// A model in the store.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    pub name: String,
    /// The file the runtime loads (the snapshot's link, resolved).
    pub path: PathBuf,
    pub size: u64,
    /// The sha256 of its bytes, when the blob is named by it (hub LFS files and added files).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

pub fn store_dir(home: &Home) -> PathBuf {
    home.root().join("ai").join("hf_hub")
}

/// The model `name` names, when the store has it.
pub fn get(home: &Home, name: &ModelName) -> Option<Model> {
    let link = current_snapshot(&name.dir(home))?.join(&name.file);
    model_at(name.to_string(), &link)
}

/// The model `name` names, or the error that says how to get it.
pub fn find(home: &Home, name: &ModelName) -> Result<Model, ModelError> {
    get(home, name).ok_or_else(|| ModelError::NotFound { name: name.to_string(), dir: store_dir(home) })
}

/// The folder of repository `repo`'s (`OWNER/REPO`) current snapshot, when the store has it:
/// where a model made of several files (an embedding model's weights, configuration and
/// vocabulary) is loaded from.
pub fn repo_snapshot(home: &Home, repo: &str) -> Option<PathBuf> {
    // The same rules as a model name's owner and repository.
    let repo = ModelName::parse(&format!("{repo}/_")).ok()?.repo;
    let snapshot = current_snapshot(&repo_dir(home, &repo))?;
    snapshot.is_dir().then_some(snapshot)
}

fn model_at(name: String, link: &Path) -> Option<Model> {
    let path = std::fs::canonicalize(link).ok()?;
    let meta = std::fs::metadata(&path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let blob = path.file_name()?.to_str()?;
    let sha256 = (blob.len() == 64 && blob.bytes().all(|b| b.is_ascii_hexdigit())).then(|| format!("sha256:{blob}"));
    Some(Model { name, path, size: meta.len(), sha256 })
}

/// Every model in the store (the current snapshot of each repository), by name.
pub fn list(home: &Home) -> Vec<Model> {
    let mut out = Vec::new();
    let Ok(repos) = std::fs::read_dir(store_dir(home)) else { return out };
    for repo in repos.flatten() {
        let dir_name = repo.file_name().to_string_lossy().into_owned();
        let Some(id) = dir_name.strip_prefix("models--") else { continue };
        let Some((owner, name)) = id.split_once("--") else { continue };
        let Some(snapshot) = current_snapshot(&repo.path()) else { continue };
        let mut files = Vec::new();
        walk_files(&snapshot, &snapshot, &mut files);
        for file in files {
            let model_name = format!("{owner}/{name}/{file}");
            if let Some(m) = model_at(model_name, &snapshot.join(&file)) {
                out.push(m);
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn walk_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(items) = std::fs::read_dir(dir) else { return };
    for item in items.flatten() {
        let path = item.path();
        if path.is_dir() {
            walk_files(root, &path, out);
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// Removes a model: its snapshot link, and its blob when no other file links to it.
pub fn remove(home: &Home, name: &ModelName) -> Result<Model, ModelError> {
    let model = find(home, name)?;
    let dir = name.dir(home);
    // `find` read refs/main: the snapshot is there.
    let link = current_snapshot(&dir).unwrap_or_default().join(&name.file);
    let io = |path: &Path, source| ModelError::Io { name: name.to_string(), path: path.to_path_buf(), source };
    std::fs::remove_file(&link).map_err(|e| io(&link, e))?;
    let still_linked = {
        let mut files = Vec::new();
        let snapshots = dir.join("snapshots");
        walk_files(&snapshots, &snapshots, &mut files);
        files.iter().any(|f| std::fs::canonicalize(snapshots.join(f)).is_ok_and(|p| p == model.path))
    };
    if !still_linked {
        std::fs::remove_file(&model.path).map_err(|e| io(&model.path, e))?;
    }
    Ok(model)
}

/// Adds a model file the user already has, under `name`: copied into the store (a reflink where
/// the filesystem can), its blob named by its sha256.
pub fn add(home: &Home, file: &Path, name: &ModelName) -> Result<Model, ModelError> {
    let io = |path: &Path, source| ModelError::Io { name: name.to_string(), path: path.to_path_buf(), source };
    let dir = name.dir(home);
    let blobs = dir.join("blobs");
    std::fs::create_dir_all(&blobs).map_err(|e| io(&blobs, e))?;
    let mut tmp = crate::atomic::TempFile::new_in(&blobs).map_err(|e| io(&blobs, e))?;
    let mut input = std::fs::File::open(file).map_err(|e| io(file, e))?;
    let sha = hub::copy_hashing(&mut input, tmp.as_file_mut()).map_err(|e| io(file, e))?;
    let blob = blobs.join(&sha);
    tmp.persist(&blob, true).map_err(|e| io(&blob, e))?;
    // A repository fetched from the hub keeps its commit; added files join its snapshot.
    let commit = std::fs::read_to_string(dir.join("refs/main")).map(|c| c.trim().to_string()).unwrap_or_default();
    let commit = if commit.is_empty() { "local".to_string() } else { commit };
    hub::link_snapshot(&dir, &commit, &name.file, &sha).map_err(|e| io(&dir, e))?;
    find(home, name)
}
