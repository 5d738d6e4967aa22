//! The `Authorization` a pull's requests carry, found the way registries ask for it: the request
//! goes out with what the session has (nothing, basic credentials, or a bearer token); a 401
//! with a bearer challenge sends morph to the challenge's token service once, and the request
//! is made again with the token. No probe of `/v2/` first: an open registry answers the first
//! request, which saves a round trip on every pull.

use base64::Engine;
use oci_client::secrets::RegistryAuth;
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::{Response, StatusCode};

use super::failure::Failure;
use super::Session;

/// What a session sends, and whether it has already traded its credentials for a token.
#[derive(Debug, Default)]
pub(super) struct Authorization {
    header: Option<HeaderValue>,
    exchanged: bool,
}

impl Authorization {
    /// What the session's credentials allow sending before any challenge: basic credentials go
    /// only to the registry they were stored for, which is the only one a session talks to.
    pub(super) fn from_auth(auth: &RegistryAuth) -> Authorization {
        let header = match auth {
            RegistryAuth::Anonymous => None,
            RegistryAuth::Basic(u, p) => {
                let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
                HeaderValue::from_str(&format!("Basic {encoded}")).ok()
            }
            RegistryAuth::Bearer(t) => HeaderValue::from_str(&format!("Bearer {t}")).ok(),
        };
        Authorization { header: header.map(sensitive), exchanged: false }
    }
}

fn sensitive(mut v: HeaderValue) -> HeaderValue {
    v.set_sensitive(true);
    v
}

/// A bearer challenge (`WWW-Authenticate: Bearer realm=…,service=…,scope=…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Challenge {
    pub realm: String,
    pub service: Option<String>,
    pub scope: Option<String>,
}

impl Challenge {
    pub(super) fn parse(header: &str) -> Option<Challenge> {
        let header = header.trim();
        let (scheme, rest) = header.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let (mut realm, mut service, mut scope) = (None, None, None);
        for part in split_params(rest) {
            let (k, v) = part.split_once('=')?;
            let v = v.trim().trim_matches('"').to_string();
            match k.trim().to_ascii_lowercase().as_str() {
                "realm" => realm = Some(v),
                "service" => service = Some(v),
                "scope" => scope = Some(v),
                _ => {}
            }
        }
        Some(Challenge { realm: realm?, service, scope })
    }
}

/// Splits `a="x,y",b=z` at the commas outside quotes.
fn split_params(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts.into_iter().map(str::trim).filter(|p| !p.is_empty()).collect()
}

/// GETs `url` (a path of the session's registry) with the session's authorization, answering
/// one bearer challenge on the way. A response that is still 401 is returned for the caller to
/// explain.
pub(super) async fn get(s: &Session, url: &str, accept: Option<&str>) -> Result<Response, Failure> {
    let http = super::http_client().map_err(Failure::Fatal)?;
    let send = |header: Option<HeaderValue>| {
        let mut request = http.get(url);
        if let Some(a) = accept {
            request = request.header(ACCEPT, a);
        }
        if let Some(h) = header {
            request = request.header(AUTHORIZATION, h);
        }
        request.send()
    };
    let (header, exchanged) = {
        let a = s.authorization.lock().unwrap_or_else(|p| p.into_inner());
        (a.header.clone(), a.exchanged)
    };
    let response = send(header).await?;
    if response.status() != StatusCode::UNAUTHORIZED || exchanged {
        return Ok(response);
    }
    let Some(challenge) =
        response.headers().get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).and_then(Challenge::parse)
    else {
        return Ok(response);
    };
    let token = token(s, &challenge).await?;
    let header =
        sensitive(HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            Failure::Fatal(crate::RegistryError::Oci("the token service sent an unusable token".into()))
        })?);
    *s.authorization.lock().unwrap_or_else(|p| p.into_inner()) =
        Authorization { header: Some(header.clone()), exchanged: true };
    Ok(send(Some(header)).await?)
}

/// A token from the challenge's service for pulling the session's repository, paid for with the
/// session's basic credentials when it has some (anonymous otherwise, as for public images).
async fn token(s: &Session, challenge: &Challenge) -> Result<String, Failure> {
    let http = super::http_client().map_err(Failure::Fatal)?;
    let scope = challenge.scope.clone().unwrap_or_else(|| format!("repository:{}:pull", s.reference.repository()));
    let mut query = vec![("scope", scope)];
    if let Some(service) = &challenge.service {
        query.push(("service", service.clone()));
    }
    let mut request = http.get(&challenge.realm).query(&query);
    if let RegistryAuth::Basic(u, p) = &s.auth {
        request = request.basic_auth(u, Some(p));
    }
    let response = request.send().await?;
    let status = response.status();
    if !status.is_success() {
        // Refused credentials, or a private repository for an anonymous caller: the same
        // explanation as a 401 from the registry itself.
        return Err(Failure::Oci(oci_client::errors::OciDistributionError::UnauthorizedError {
            url: challenge.realm.clone(),
        }));
    }
    #[derive(serde::Deserialize)]
    struct TokenAnswer {
        token: Option<String>,
        access_token: Option<String>,
    }
    let body = response.bytes().await?;
    let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
        Failure::Fatal(crate::RegistryError::Oci(format!(
            "the token service {} answered with something that is not a token ({e})",
            challenge.realm
        )))
    })?;
    answer.token.or(answer.access_token).filter(|t| !t.is_empty()).ok_or_else(|| {
        Failure::Fatal(crate::RegistryError::Oci(format!("the token service {} sent no token", challenge.realm)))
    })
}
