//! Credentials for a registry, from the first source that has them:
//! `MORPH_REGISTRY_USER`/`MORPH_REGISTRY_PASSWORD`, `morph login` (config.toml), docker's
//! `config.json` (`credHelpers`, `auths`, `credsStore`), else anonymous.

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

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret, not even in debug logs.
        write!(f, "Credentials {{ username: {:?}, password: <hidden> }}", self.username)
    }
}

/// Where credentials came from, for `-v` logs and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Environment,
    MorphLogin,
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

/// The credentials to use for `registry` (`host[:port]`).
pub fn credentials_for(home: &Home, registry: &str) -> Result<(Option<Credentials>, Source), RegistryError> {
    if let (Ok(u), Ok(p)) = (std::env::var("MORPH_REGISTRY_USER"), std::env::var("MORPH_REGISTRY_PASSWORD")) {
        return Ok((Some(Credentials { username: u, password: p }), Source::Environment));
    }
    let config = Config::load(home)?;
    if let Some(c) = config.registries.get(registry).and_then(|r| r.auth.as_deref()).and_then(decode_basic) {
        return Ok((Some(c), Source::MorphLogin));
    }
    Ok(docker_credentials(registry))
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
    let Ok(text) = std::fs::read_to_string(&path) else { return (None, Source::Anonymous) };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        tracing::warn!("{} is not JSON; ignoring it", path.display());
        return (None, Source::Anonymous);
    };
    if let Some(helper) = json["credHelpers"].get(registry).and_then(|h| h.as_str()) {
        return (credential_helper(helper, registry), Source::CredentialHelper);
    }
    if let Some(auths) = json["auths"].as_object() {
        for (key, entry) in auths {
            if normalize(key) == registry {
                if let Some(c) = entry["auth"].as_str().and_then(decode_basic) {
                    return (Some(c), Source::DockerConfig);
                }
                if let (Some(u), Some(p)) = (entry["username"].as_str(), entry["password"].as_str()) {
                    return (Some(Credentials { username: u.into(), password: p.into() }), Source::DockerConfig);
                }
            }
        }
    }
    if let Some(store) = json["credsStore"].as_str() {
        if let Some(c) = credential_helper(store, registry) {
            return (Some(c), Source::CredentialHelper);
        }
    }
    (None, Source::Anonymous)
}

/// `https://host:port/v1/` → `host:port`, as docker keys its `auths`.
fn normalize(key: &str) -> &str {
    let k = key.strip_prefix("https://").or_else(|| key.strip_prefix("http://")).unwrap_or(key);
    k.split('/').next().unwrap_or(k)
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
    fn docker_keys_normalize() {
        assert_eq!(normalize("https://index.docker.io/v1/"), "index.docker.io");
        assert_eq!(normalize("localhost:5000"), "localhost:5000");
        assert_eq!(normalize("http://127.0.0.1:5000"), "127.0.0.1:5000");
    }
}
