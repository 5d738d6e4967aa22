//! Fetching a model file from a Hugging Face hub (`HF_ENDPOINT`, default huggingface.co), as
//! the hub's own clients do: a `HEAD` of `/<repo>/resolve/main/<file>` without following the
//! redirect names the commit (`X-Repo-Commit`), the blob (`X-Linked-Etag`, the sha256 of an LFS
//! file, else `ETag`) and its size (`X-Linked-Size`); the bytes come from a `GET` of the same
//! address, which may redirect to a CDN (the token is not sent there). The download goes to
//! `blobs/<etag>.incomplete`, resumed with a `Range` request after a dropped connection (in the
//! same pull, and by the next one), hashed as it arrives, and renamed into place only when its
//! size and sha256 are the hub's.

use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_LENGTH, ETAG, RANGE};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

use super::{find, get, Model, ModelError, ModelName};
use crate::oci::ProgressEvent;
use crate::{Home, RegistryError};

/// Where models come from.
#[derive(Debug, Clone)]
pub struct Hub {
    /// `https://huggingface.co`, or a mirror.
    pub endpoint: String,
    /// Sent to the endpoint only (gated and private repositories).
    pub token: Option<String>,
}

impl Hub {
    /// The hub the environment names, as the hub's own tools read it: `HF_ENDPOINT`, `HF_TOKEN`
    /// (or the older `HUGGING_FACE_HUB_TOKEN`).
    pub fn from_env() -> Hub {
        let endpoint = std::env::var("HF_ENDPOINT")
            .ok()
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| "https://huggingface.co".into())
            .trim_end_matches('/')
            .to_string();
        let token =
            ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"].iter().find_map(|k| std::env::var(k).ok().filter(|t| !t.is_empty()));
        Hub { endpoint, token }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct PullOptions {
    /// Never touch the network (also `HF_HUB_OFFLINE=1`).
    pub offline: bool,
}

/// Tries of one download; each resumes where the last stopped.
const ATTEMPTS: u32 = 4;

/// What the hub says a file is.
struct Meta {
    commit: String,
    etag: String,
    size: Option<u64>,
}

/// The model `name`, from the store when it is there, else fetched from `hub`.
pub async fn pull(
    home: &Home,
    name: &ModelName,
    hub: &Hub,
    opts: PullOptions,
    progress: &(dyn Fn(ProgressEvent) + Sync),
) -> Result<Model, ModelError> {
    if let Some(m) = get(home, name) {
        return Ok(m);
    }
    let offline_env = std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
    if opts.offline || offline_env {
        return Err(ModelError::Offline { name: name.to_string() });
    }
    let url = format!("{}/{}/resolve/main/{}", hub.endpoint, name.repo, name.file);
    let meta = metadata(name, hub, &url).await?;
    let dir = name.dir(home);
    let blobs = dir.join("blobs");
    let io = |path: &Path, source| ModelError::Io { name: name.to_string(), path: path.to_path_buf(), source };
    std::fs::create_dir_all(&blobs).map_err(|e| io(&blobs, e))?;
    let blob = blobs.join(&meta.etag);
    if !blob.is_file() {
        download(name, hub, &url, &meta, &blob, progress).await?;
    }
    link_snapshot(&dir, &meta.commit, &name.file, &meta.etag).map_err(|e| io(&dir, e))?;
    find(home, name)
}

async fn metadata(name: &ModelName, hub: &Hub, url: &str) -> Result<Meta, ModelError> {
    let unreachable =
        |why: String| ModelError::Unreachable { name: name.to_string(), endpoint: hub.endpoint.clone(), why };
    // Not following the redirect: its response carries the hub's headers, the CDN's would not.
    let http = crate::oci::client_builder()
        .and_then(|b| {
            b.redirect(reqwest::redirect::Policy::none()).build().map_err(|e| RegistryError::Oci(e.to_string()))
        })
        .map_err(|e| unreachable(e.to_string()))?;
    let mut request = http.head(url);
    if let Some(t) = &hub.token {
        request = request.header(AUTHORIZATION, format!("Bearer {t}"));
    }
    let response = request.send().await.map_err(|e| unreachable(crate::error_chain(&e)))?;
    let status = response.status();
    if !(status.is_success() || status.is_redirection()) {
        return Err(refused(name, url, status));
    }
    let headers = response.headers();
    let text = |h: &HeaderMap, k: &str| h.get(k).and_then(|v| v.to_str().ok()).map(str::to_string);
    let etag = text(headers, "x-linked-etag")
        .or_else(|| text(headers, ETAG.as_str()))
        .map(|e| e.trim_start_matches("W/").trim_matches('"').to_string())
        .filter(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .ok_or_else(|| unreachable(format!("{url} answered without an ETag; is HF_ENDPOINT a Hugging Face hub?")))?;
    let commit = text(headers, "x-repo-commit")
        .filter(|c| !c.is_empty() && c.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "main".into());
    let size = text(headers, "x-linked-size")
        .or_else(|| if status.is_success() { text(headers, CONTENT_LENGTH.as_str()) } else { None })
        .and_then(|s| s.parse().ok());
    Ok(Meta { commit, etag, size })
}

fn refused(name: &ModelName, url: &str, status: StatusCode) -> ModelError {
    let hint = match status.as_u16() {
        401 | 403 => "; the repository may be gated or private: accept its terms on the hub and set HF_TOKEN",
        404 => "; check the owner, repository and file name",
        _ => "",
    };
    ModelError::Refused { name: name.to_string(), url: url.to_string(), status: status.as_u16(), hint }
}

/// Downloads into `<blob>.incomplete` (resuming what is there) and renames it to `blob` once its
/// size and digest are right.
async fn download(
    name: &ModelName,
    hub: &Hub,
    url: &str,
    meta: &Meta,
    blob: &Path,
    progress: &(dyn Fn(ProgressEvent) + Sync),
) -> Result<(), ModelError> {
    let partial = blob.with_extension("incomplete");
    let io = |path: &Path, source| ModelError::Io { name: name.to_string(), path: path.to_path_buf(), source };
    let unreachable =
        |why: String| ModelError::Unreachable { name: name.to_string(), endpoint: hub.endpoint.clone(), why };
    let http = crate::oci::http_client().map_err(|e| unreachable(e.to_string()))?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&partial)
        .map_err(|e| io(&partial, e))?;
    // What an earlier pull left is hashed first, so the digest covers every byte.
    let mut hasher = Sha256::new();
    let mut have = hash_prefix(&mut file, &mut hasher).map_err(|e| io(&partial, e))?;
    if meta.size.is_some_and(|total| have > total) {
        file.set_len(0).map_err(|e| io(&partial, e))?;
        hasher = Sha256::new();
        have = 0;
    }
    progress(ProgressEvent::Start(meta.size.unwrap_or(0)));
    progress(ProgressEvent::Bytes(have));
    let mut last_error = String::new();
    let mut complete = false;
    for attempt in 1..=ATTEMPTS {
        if attempt > 1 {
            tokio::time::sleep(Duration::from_millis(200 << (attempt - 2))).await;
        }
        if meta.size == Some(have) {
            complete = true;
            break;
        }
        let mut request = http.get(url);
        if let Some(t) = &hub.token {
            request = request.header(AUTHORIZATION, format!("Bearer {t}"));
        }
        if have > 0 {
            request = request.header(RANGE, format!("bytes={have}-"));
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                last_error = crate::error_chain(&e);
                continue;
            }
        };
        let status = response.status();
        if status == StatusCode::OK && have > 0 {
            // The server ignored the range: start again from the first byte.
            file.set_len(0).map_err(|e| io(&partial, e))?;
            file.seek(std::io::SeekFrom::Start(0)).map_err(|e| io(&partial, e))?;
            hasher = Sha256::new();
            have = 0;
        } else if !status.is_success() {
            if status.is_server_error() {
                last_error = format!("the hub answered {status}");
                continue;
            }
            return Err(refused(name, url, status));
        }
        let mut stream = response.bytes_stream();
        let mut broke = false;
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    last_error = crate::error_chain(&e);
                    broke = true;
                    break;
                }
            };
            if meta.size.is_some_and(|total| have + chunk.len() as u64 > total) {
                drop(file);
                let _ = std::fs::remove_file(&partial);
                return Err(ModelError::SizeMismatch {
                    name: name.to_string(),
                    expected: meta.size.unwrap_or(0),
                    actual: have + chunk.len() as u64,
                });
            }
            file.write_all(&chunk).map_err(|e| io(&partial, e))?;
            hasher.update(&chunk);
            have += chunk.len() as u64;
            progress(ProgressEvent::Bytes(chunk.len() as u64));
        }
        if !broke {
            complete = meta.size.is_none_or(|total| total == have);
            if complete {
                break;
            }
            last_error = format!("the connection closed after {have} bytes");
        }
    }
    progress(ProgressEvent::Done);
    if !complete {
        return Err(ModelError::Unreachable {
            name: name.to_string(),
            endpoint: hub.endpoint.clone(),
            why: format!(
                "the download stopped at {have} of {} bytes ({last_error}); run the pull again to resume it",
                meta.size.map_or("?".to_string(), |s| s.to_string())
            ),
        });
    }
    let actual = format!("{:x}", hasher.finalize());
    let is_sha256 = meta.etag.len() == 64 && meta.etag.bytes().all(|b| b.is_ascii_hexdigit());
    if is_sha256 && !actual.eq_ignore_ascii_case(&meta.etag) {
        drop(file);
        let _ = std::fs::remove_file(&partial);
        return Err(ModelError::DigestMismatch {
            name: name.to_string(),
            expected: format!("sha256:{}", meta.etag),
            actual: format!("sha256:{actual}"),
        });
    }
    file.sync_all().map_err(|e| io(&partial, e))?;
    drop(file);
    std::fs::rename(&partial, blob).map_err(|e| io(blob, e))?;
    Ok(())
}

/// Feeds what `file` holds to `hasher`; returns its length, leaving the file at its end.
fn hash_prefix(file: &mut std::fs::File, hasher: &mut Sha256) -> std::io::Result<u64> {
    file.seek(std::io::SeekFrom::Start(0))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(total);
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
}

/// Copies `from` to `to`, returning the hex sha256 of the bytes.
pub(super) fn copy_hashing(from: &mut impl Read, to: &mut impl Write) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n])?;
    }
    to.flush()?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// Points `snapshots/<commit>/<file>` at `blobs/<blob>` (a relative link, as the hub's cache
/// has) and records `commit` as the repository's current one.
pub(super) fn link_snapshot(dir: &Path, commit: &str, file: &str, blob: &str) -> std::io::Result<()> {
    let link = dir.join("snapshots").join(commit).join(file);
    let parent = link.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent)?;
    let depth = file.split('/').count() + 1;
    let target = format!("{}blobs/{blob}", "../".repeat(depth));
    let tmp = parent.join(format!(".morph-tmp-link-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&target, &tmp)?;
    std::fs::rename(&tmp, &link)?;
    crate::atomic::write_output(&dir.join("refs/main"), commit.as_bytes())
}
