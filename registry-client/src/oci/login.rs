//! `morph login`: what may be stored, and whether the registry takes it.
//!
//! A registry name is a host with an optional port (what docker and wkg key credentials by);
//! a username has no `:` (basic auth joins user and password with one). Before credentials are
//! stored they are tried the way a pull would use them: `GET /v2/`, and where the registry
//! answers with a bearer challenge, a token request to its realm.

use super::authorize::Challenge;
use crate::auth::Credentials;
use crate::RegistryError;

/// Checks `registry` is `host[:port]`: letters, digits, `-` and `.` in the host, a port of
/// digits.
pub fn check_registry_name(registry: &str) -> Result<(), RegistryError> {
    let bad = |reason: &str| RegistryError::BadRegistryName { name: registry.to_string(), reason: reason.to_string() };
    let (host, port) = match registry.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (registry, None),
    };
    if host.is_empty() {
        return Err(bad("it has no host"));
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if !host.split('.').all(label_ok) {
        return Err(bad("a host is letters, digits, '-' and '.' only (no scheme, path or spaces)"));
    }
    if let Some(p) = port {
        if p.parse::<u16>().map_or(true, |n| n == 0) {
            return Err(bad("the port must be a number from 1 to 65535"));
        }
    }
    Ok(())
}

/// Checks what basic auth can carry: a username without `:` or line breaks, a password without
/// line breaks.
pub fn check_credentials(c: &Credentials) -> Result<(), RegistryError> {
    if c.username.is_empty() || c.username.contains([':', '\n', '\r']) {
        return Err(RegistryError::BadUsername { username: c.username.clone() });
    }
    Ok(())
}

/// What trying the credentials found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// The registry accepted them.
    Accepted,
    /// The registry lets anyone in, so it cannot tell good credentials from bad.
    OpenRegistry,
}

/// Tries `creds` against `registry` (plain HTTP when `insecure`).
pub async fn verify(registry: &str, creds: &Credentials, insecure: bool) -> Result<Verified, RegistryError> {
    let http = super::http_client()?;
    let scheme = if insecure { "http" } else { "https" };
    let unreachable = |source: reqwest::Error| RegistryError::Unreachable { registry: registry.to_string(), source };
    let base = format!("{scheme}://{registry}/v2/");
    let open = http.get(&base).send().await.map_err(unreachable)?;
    if open.status().is_success() {
        return Ok(Verified::OpenRegistry);
    }
    let challenge =
        open.headers().get(reqwest::header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let answer = match Challenge::parse(&challenge) {
        Some(Challenge { realm, service, .. }) => {
            let mut query = vec![("account", creds.username.as_str())];
            if let Some(s) = service.as_deref() {
                query.push(("service", s));
            }
            http.get(&realm).query(&query).basic_auth(&creds.username, Some(&creds.password)).send().await
        }
        None => http.get(&base).basic_auth(&creds.username, Some(&creds.password)).send().await,
    }
    .map_err(unreachable)?;
    match answer.status().as_u16() {
        200..=299 => Ok(Verified::Accepted),
        401 | 403 => Err(RegistryError::LoginRefused { registry: registry.to_string(), status: answer.status().as_u16() }),
        code => Err(RegistryError::Oci(format!(
            "login {registry}: the registry answered {code} when the credentials were tried; try again, or pass --no-verify to store them unchecked"
        ))),
    }
}

/// Trades docker's identity token (an OAuth refresh token) for an access token to
/// `repository` with `scope` (`pull` or `pull,push`), as docker does: the registry's bearer
/// challenge names the token service, which takes the refresh token in an OAuth form post.
pub(super) async fn exchange_identity_token(
    scheme: &str,
    registry: &str,
    repository: &str,
    scope: &str,
    refresh_token: &str,
) -> Result<String, RegistryError> {
    let http = super::http_client()?;
    let failed = |why: String| {
        RegistryError::Oci(format!(
            "{registry}: the stored identity token could not be used ({why}); log in again with docker, or with \
             `morph login {registry} -u USER --password-stdin`"
        ))
    };
    let probe = http.get(format!("{scheme}://{registry}/v2/")).send().await.map_err(|e| failed(e.to_string()))?;
    let challenge = probe.headers().get(reqwest::header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(Challenge { realm, service, .. }) = Challenge::parse(challenge) else {
        return Err(failed(format!("the registry answered {} without a bearer challenge", probe.status())));
    };
    let mut form = vec![
        ("grant_type", "refresh_token".to_string()),
        ("refresh_token", refresh_token.to_string()),
        ("scope", format!("repository:{repository}:{scope}")),
        ("client_id", "morph".to_string()),
    ];
    if let Some(s) = service {
        form.push(("service", s));
    }
    let body: Vec<String> = form.iter().map(|(k, v)| format!("{k}={}", form_encode(v))).collect();
    let answer = http
        .post(&realm)
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body.join("&"))
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if !answer.status().is_success() {
        return Err(failed(format!("its token service answered {}", answer.status())));
    }
    let json: serde_json::Value = answer.json().await.map_err(|e| failed(format!("its token service sent {e}")))?;
    json["access_token"]
        .as_str()
        .or(json["token"].as_str())
        .map(str::to_string)
        .ok_or_else(|| failed("its token service sent no access token".into()))
}

/// `application/x-www-form-urlencoded` for one value.
fn form_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_names() {
        for ok in ["ghcr.io", "localhost:5000", "127.0.0.1:5000", "my-reg.example.com"] {
            check_registry_name(ok).unwrap();
        }
        for bad in ["bad host/x", "https://ghcr.io", "ghcr.io/acme", "", ":5000", "host:99999", "host:0", "-a.io"] {
            assert!(check_registry_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn usernames() {
        let c = |u: &str| Credentials { username: u.into(), password: "p".into() };
        check_credentials(&c("robot$ci")).unwrap();
        assert!(check_credentials(&c("us:er")).is_err());
        assert!(check_credentials(&c("")).is_err());
    }

    #[test]
    fn bearer_challenges() {
        let c = Challenge::parse(r#"Bearer realm="https://auth.example.com/token",service="reg,x",scope="a""#).unwrap();
        assert_eq!(c.realm, "https://auth.example.com/token");
        assert_eq!(c.service.as_deref(), Some("reg,x"));
        assert!(Challenge::parse(r#"Basic realm="morph-test""#).is_none());
        assert_eq!(form_encode("repository:a/b:pull,push"), "repository%3Aa%2Fb%3Apull%2Cpush");
    }
}
