//! Credentials for a registry, from the first source that has them for *that* registry:
//! `MORPH_REGISTRY_USER`/`MORPH_REGISTRY_PASSWORD` when `MORPH_REGISTRY` names it, `morph login`
//! (config.toml), wkg's config (`[registry."host".oci] auth`), podman's `auth.json`
//! (`REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/`), docker's `config.json`
//! (`credHelpers`, `auths`, `credsStore`), else anonymous. (wkg's
//! `WKG_REGISTRY_<HOST>_AUTH_BEARER` token comes before all of these, in the OCI session.) No
//! source's credentials are ever sent to another registry.

use std::io::Write;
use std::process::{Command, Stdio};

use base64::Engine as _;

use crate::config::Config;
use crate::{Home, RegistryError};

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// The username docker gives an identity token under (its credential helpers too): the
/// password is then an OAuth refresh token, not a password.
pub const IDENTITY_TOKEN_USER: &str = "<token>";

impl Credentials {
    /// Whether this is docker's identity token rather than a username and password.
    pub fn is_identity_token(&self) -> bool {
        self.username == IDENTITY_TOKEN_USER
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret, not even in debug logs.
        write!(f, "Credentials {{ username: {:?}, password: <hidden> }}", self.username)
    }
}

/// Where credentials came from, for `-v` logs and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// On the command line (`-u` with `--password-stdin`).
    Given,
    Environment,
    MorphLogin,
    WkgConfig,
    WkgToken,
    PodmanAuthFile,
    DockerConfig,
    CredentialHelper,
    Anonymous,
}

pub fn encode_basic(c: &Credentials) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.username, c.password))
}

fn decode_basic(s: &str) -> Option<Credentials> {
    let raw = base64::engine::general_purpose::STANDARD.decode(s.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some(Credentials { username: u.to_string(), password: p.to_string() })
}

/// The credentials to use for `registry` (`host[:port]`), given morph's and wkg's configs
/// (loaded once by the caller).
pub fn credentials_for(config: &Config, wkg: &crate::wkg::WkgConfig, registry: &str) -> (Option<Credentials>, Source) {
    if let Some(c) = environment_credentials(registry) {
        return (Some(c), Source::Environment);
    }
    let stored = config.registries.iter().find(|(key, _)| same_registry(key, registry));
    if let Some(c) = stored.and_then(|(_, r)| r.auth.as_deref()).and_then(decode_basic) {
        return (Some(c), Source::MorphLogin);
    }
    if let Some(c) = wkg.credentials(registry) {
        return (Some(c), Source::WkgConfig);
    }
    for path in podman_auth_files() {
        if let Some(c) = read_auth_file(&path).and_then(|json| auths_entry(&json, registry)) {
            return (Some(c), Source::PodmanAuthFile);
        }
    }
    docker_credentials(registry)
}

/// `MORPH_REGISTRY_USER`/`MORPH_REGISTRY_PASSWORD`, only for the registry `MORPH_REGISTRY`
/// names: a CI job's credentials for its own registry must not reach one it pulls from.
fn environment_credentials(registry: &str) -> Option<Credentials> {
    let (Ok(username), Ok(password)) = (std::env::var("MORPH_REGISTRY_USER"), std::env::var("MORPH_REGISTRY_PASSWORD"))
    else {
        return None;
    };
    match std::env::var("MORPH_REGISTRY") {
        Ok(meant) if same_registry(&meant, registry) => Some(Credentials { username, password }),
        Ok(_) => None,
        Err(_) => {
            tracing::warn!(
                "MORPH_REGISTRY_USER and MORPH_REGISTRY_PASSWORD are set without MORPH_REGISTRY, so they are sent to \
                 no registry; set MORPH_REGISTRY to the registry (host[:port]) they are for"
            );
            None
        }
    }
}

/// podman's credential files, in its order: `REGISTRY_AUTH_FILE`, then
/// `$XDG_RUNTIME_DIR/containers/auth.json`, then `~/.config/containers/auth.json`.
fn podman_auth_files() -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    if let Some(f) = std::env::var_os("REGISTRY_AUTH_FILE") {
        files.push(f.into());
    }
    if let Some(run) = std::env::var_os("XDG_RUNTIME_DIR") {
        files.push(std::path::PathBuf::from(run).join("containers/auth.json"));
    }
    if let Some(h) = std::env::var_os("HOME") {
        files.push(std::path::PathBuf::from(h).join(".config/containers/auth.json"));
    }
    files
}

fn read_auth_file(path: &std::path::Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).map_err(|_| tracing::warn!("{} is not JSON; ignoring it", path.display())).ok()
}

/// The `auths` entry for `registry` in a docker or podman credential file.
fn auths_entry(json: &serde_json::Value, registry: &str) -> Option<Credentials> {
    let (_, entry) = json["auths"].as_object()?.iter().find(|(key, _)| same_registry(key, registry))?;
    if let Some(c) = entry["auth"].as_str().and_then(decode_basic) {
        return Some(c);
    }
    if let (Some(u), Some(p)) = (entry["username"].as_str(), entry["password"].as_str()) {
        return Some(Credentials { username: u.into(), password: p.into() });
    }
    // Docker stores an OAuth refresh token when the registry's login gave one.
    let token = entry["identitytoken"].as_str().filter(|t| !t.is_empty())?;
    Some(Credentials { username: IDENTITY_TOKEN_USER.into(), password: token.into() })
}

/// Docker's `config.json` (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`).
fn docker_credentials(registry: &str) -> (Option<Credentials>, Source) {
    let path = match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => std::path::PathBuf::from(dir).join("config.json"),
        None => match std::env::var_os("HOME") {
            Some(h) => std::path::PathBuf::from(h).join(".docker/config.json"),
            None => return (None, Source::Anonymous),
        },
    };
    let Some(json) = read_auth_file(&path) else { return (None, Source::Anonymous) };
    let helpers = json["credHelpers"].as_object();
    if let Some((key, helper)) = helpers.and_then(|h| h.iter().find(|(key, _)| same_registry(key, registry))) {
        return (helper.as_str().and_then(|h| credential_helper(h, key)), Source::CredentialHelper);
    }
    if let Some(c) = auths_entry(&json, registry) {
        return (Some(c), Source::DockerConfig);
    }
    if let Some(store) = json["credsStore"].as_str() {
        // Docker keeps Hub's login in its store under the v1 index URL.
        let key = if canonical(registry) == DOCKER_HUB { "https://index.docker.io/v1/" } else { registry };
        if let Some(c) = credential_helper(store, key) {
            return (Some(c), Source::CredentialHelper);
        }
    }
    (None, Source::Anonymous)
}

/// What docker calls Docker Hub in every spelling.
const DOCKER_HUB: &str = "docker.io";

/// A registry key as docker, podman and morph write them (`https://host:port/v1/`,
/// `host:port`), reduced to `host:port`; Docker Hub's names all become `docker.io`.
fn canonical(key: &str) -> &str {
    let k = key.strip_prefix("https://").or_else(|| key.strip_prefix("http://")).unwrap_or(key);
    let host = k.split('/').next().unwrap_or(k);
    match host {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => DOCKER_HUB,
        other => other,
    }
}

/// Whether two registry keys name the same registry.
pub(crate) fn same_registry(a: &str, b: &str) -> bool {
    canonical(a).eq_ignore_ascii_case(canonical(b))
}

/// Runs `docker-credential-<helper> get` with the registry on stdin, as docker does.
fn credential_helper(helper: &str, registry: &str) -> Option<Credentials> {
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| tracing::warn!("credential helper docker-credential-{helper} cannot run: {e}"))
        .ok()?;
    child.stdin.take()?.write_all(registry.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    Some(Credentials {
        username: json["Username"].as_str()?.to_string(),
        password: json["Secret"].as_str()?.to_string(),
    })
}

/// Stores credentials for `registry` in config.toml (`morph login`).
pub fn login(home: &Home, registry: &str, creds: &Credentials) -> Result<(), RegistryError> {
    let mut config = Config::load(home)?;
    config.registries.entry(registry.to_string()).or_default().auth = Some(encode_basic(creds));
    config.save(home)
}

/// Forgets stored credentials for `registry`; `false` when there were none.
pub fn logout(home: &Home, registry: &str) -> Result<bool, RegistryError> {
    let mut config = Config::load(home)?;
    let had = config.registries.get_mut(registry).and_then(|r| r.auth.take()).is_some();
    if had {
        config.save(home)?;
    }
    Ok(had)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_round_trip_hides_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        let c = Credentials { username: "ann".into(), password: "p:a:ss".into() };
        login(&home, "localhost:5000", &c).unwrap();
        let text = std::fs::read_to_string(Config::path(&home)).unwrap();
        assert!(!text.contains("p:a:ss"), "not stored in clear text");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(Config::path(&home)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(decode_basic(&encode_basic(&c)), Some(c.clone()));
        assert!(!format!("{c:?}").contains("p:a:ss"));
        assert!(logout(&home, "localhost:5000").unwrap());
        assert!(!logout(&home, "localhost:5000").unwrap());
    }

    #[test]
    fn registry_keys_as_docker_and_podman_write_them() {
        assert_eq!(canonical("https://index.docker.io/v1/"), "docker.io");
        assert!(same_registry("https://index.docker.io/v1/", "docker.io"));
        assert!(same_registry("registry-1.docker.io", "index.docker.io"));
        assert_eq!(canonical("localhost:5000"), "localhost:5000");
        assert_eq!(canonical("http://127.0.0.1:5000"), "127.0.0.1:5000");
        assert!(!same_registry("ghcr.io", "docker.io"));
        let json: serde_json::Value = serde_json::from_str(
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YW5uOnMzY3JldA=="},"ghcr.io":{"identitytoken":"x"}}}"#,
        )
        .unwrap();
        assert_eq!(auths_entry(&json, "docker.io").map(|c| c.username), Some("ann".into()));
        let token = auths_entry(&json, "ghcr.io").unwrap();
        assert!(token.is_identity_token() && token.password == "x", "an identity token, marked as docker marks it");
        assert!(auths_entry(&json, "quay.io").is_none());
    }
}
