//! Which tag a reference without one means: the highest semver release tag the repository
//! lists, as wkg resolves a package without a version; remembered for offline use.

use std::path::PathBuf;

use morph_contract::component::sha256_digest;

use super::failure::{explain_failure, retry, Failure};
use super::{session, Access, OciOptions, Session};
use crate::atomic::write_atomic;
use crate::{Home, RegistryError};

/// `reference` with its tag: as given when it has a tag or digest; otherwise the highest semver
/// tag the repository lists (non-semver tags ignored, as wkg does), else `latest`. The choice is
/// remembered for [`last_resolved`] (offline compositions, `hayride:wac`).
pub async fn resolve_tag(home: &Home, reference: &str, opts: &OciOptions) -> Result<String, RegistryError> {
    if has_tag_or_digest(reference) {
        return Ok(reference.to_string());
    }
    let s = session(home, reference, opts, Access::Pull).await?;
    let tags = retry("listing the tags", || list(&s)).await.map_err(|e| explain_failure(e, &s, "list tags of"))?;
    let resolved = match highest_semver(&tags) {
        Some(tag) => format!("{reference}:{tag}"),
        None => format!("{reference}:latest"),
    };
    let _ = write_atomic(&resolution_file(home, reference), resolved.as_bytes());
    Ok(resolved)
}

/// Every tag of the session's repository, following the registry's `Link: <…>; rel="next"`
/// pages.
async fn list(s: &Session) -> Result<Vec<String>, Failure> {
    #[derive(serde::Deserialize)]
    struct Page {
        #[serde(default)]
        tags: Option<Vec<String>>,
    }
    let mut tags = Vec::new();
    let mut url = s.url("tags/list");
    // A registry that pages forever is cut off: no repository has a million tags.
    for _ in 0..1000 {
        let response = super::authorize::get(s, &url, Some("application/json")).await?;
        let status = response.status();
        let next = response
            .headers()
            .get(reqwest::header::LINK)
            .and_then(|v| v.to_str().ok())
            .and_then(next_page)
            .map(|path| s.absolute(&path));
        let body = response.bytes().await?;
        if !status.is_success() {
            return Err(Failure::Oci(super::bounded::error_response(status, &body, &url)));
        }
        let page: Page = serde_json::from_slice(&body).map_err(|e| {
            Failure::Fatal(RegistryError::Oci(format!(
                "list tags of {}: the registry sent no tag list ({e})",
                s.reference
            )))
        })?;
        tags.extend(page.tags.unwrap_or_default());
        match next {
            Some(n) => url = n,
            None => break,
        }
    }
    Ok(tags)
}

/// The target of a `Link` header's `rel="next"` entry (`</v2/…/tags/list?last=x&n=100>; rel="next"`).
fn next_page(link: &str) -> Option<String> {
    link.split(',').find_map(|entry| {
        let (target, params) = entry.split_once(';')?;
        let is_next = params.split(';').any(|p| p.trim().replace(' ', "") == "rel=\"next\"" || p.trim() == "rel=next");
        is_next.then(|| target.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

/// The reference an untagged `reference` resolved to the last time it was resolved online.
pub fn last_resolved(home: &Home, reference: &str) -> Option<String> {
    if has_tag_or_digest(reference) {
        return None;
    }
    std::fs::read_to_string(resolution_file(home, reference)).ok().filter(|r| r.starts_with(reference))
}

/// Whether a reference names a tag or digest after its repository (a `:` after the last `/`).
fn has_tag_or_digest(reference: &str) -> bool {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    last.contains(':') || last.contains('@')
}

/// The highest tag that is a semver release; a pre-release only when there is no release (as
/// cargo picks versions).
fn highest_semver(tags: &[String]) -> Option<&str> {
    let versions: Vec<(semver::Version, &str)> = tags
        .iter()
        .filter_map(|t| semver::Version::parse(t.strip_prefix('v').unwrap_or(t)).ok().map(|v| (v, t.as_str())))
        .collect();
    let releases = versions.iter().filter(|(v, _)| v.pre.is_empty());
    let best = releases.max_by(|a, b| a.0.cmp(&b.0)).or_else(|| versions.iter().max_by(|a, b| a.0.cmp(&b.0)));
    best.map(|(_, t)| *t)
}

fn resolution_file(home: &Home, reference: &str) -> PathBuf {
    let digest = sha256_digest(reference.as_bytes());
    home.root().join("cache/oci/untagged").join(digest.trim_start_matches("sha256:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untagged_references_take_the_highest_semver_release() {
        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(highest_semver(&tags(&["1.0.0", "1.10.0", "1.9.0", "latest", "dev"])), Some("1.10.0"));
        assert_eq!(highest_semver(&tags(&["1.0.0", "2.0.0-rc.1"])), Some("1.0.0"), "a release over a pre-release");
        assert_eq!(highest_semver(&tags(&["2.0.0-rc.1", "latest"])), Some("2.0.0-rc.1"));
        assert_eq!(highest_semver(&tags(&["v0.3.0", "0.2.9"])), Some("v0.3.0"));
        assert_eq!(highest_semver(&tags(&["latest", "main"])), None);
        assert!(has_tag_or_digest("localhost:5000/acme/a:1.0.0"));
        assert!(has_tag_or_digest("ghcr.io/acme/a@sha256:00"));
        assert!(!has_tag_or_digest("localhost:5000/acme/a"), "a port is not a tag");
    }

    #[test]
    fn tag_pages() {
        assert_eq!(
            next_page(r#"</v2/acme/a/tags/list?last=b&n=2>; rel="next""#).as_deref(),
            Some("/v2/acme/a/tags/list?last=b&n=2")
        );
        assert_eq!(next_page(r#"<https://r.io/x>; rel="prev""#), None);
    }
}
