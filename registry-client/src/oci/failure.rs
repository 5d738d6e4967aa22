//! When a registry fails: which failures are worth another try (connection resets, timeouts,
//! 5xx), the retry loop with backoff, and the one place a failure is put in words a person can
//! act on (which reference, what happened, what to do).

use std::time::Duration;

use oci_client::errors::OciDistributionError;

use super::Session;
use crate::auth::Source;
use crate::error_chain;
use crate::RegistryError;

/// What a download can end in: a registry failure (retried when transient), or a verdict that
/// no retry changes.
pub(crate) enum Failure {
    Oci(OciDistributionError),
    Fatal(RegistryError),
}

impl Failure {
    /// The registry has no such manifest or blob: a 404, or an error code `*_UNKNOWN`.
    pub(super) fn not_found(&self) -> bool {
        match self {
            Failure::Oci(OciDistributionError::ServerError { code: 404, .. })
            | Failure::Oci(OciDistributionError::ImageManifestNotFoundError(_)) => true,
            Failure::Oci(OciDistributionError::RegistryError { envelope, .. }) => {
                envelope.errors.iter().any(|x| format!("{:?}", x.code).contains("Unknown"))
            }
            _ => false,
        }
    }
}

impl From<OciDistributionError> for Failure {
    fn from(e: OciDistributionError) -> Failure {
        Failure::Oci(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        Failure::Oci(OciDistributionError::IoError(e))
    }
}

impl From<reqwest::Error> for Failure {
    fn from(e: reqwest::Error) -> Failure {
        Failure::Oci(OciDistributionError::RequestError(e))
    }
}

/// An error [`retry`] can tell transient from final.
pub(super) trait Retryable: std::fmt::Display {
    fn transient(&self) -> bool;
}

impl Retryable for OciDistributionError {
    fn transient(&self) -> bool {
        transient(self)
    }
}

impl Retryable for Failure {
    fn transient(&self) -> bool {
        matches!(self, Failure::Oci(e) if transient(e))
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Oci(e) => e.fmt(f),
            Failure::Fatal(e) => e.fmt(f),
        }
    }
}

/// Runs `op` again after transient failures (connection resets, timeouts, 5xx), with backoff.
pub(super) async fn retry<T, E: Retryable, F, Fut>(what: &str, mut op: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut delay = Duration::from_millis(200);
    for attempt in 1.. {
        match op().await {
            Err(e) if attempt < 4 && e.transient() => {
                tracing::warn!("{what} failed ({e}); retrying in {delay:?}");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
    unreachable!("the loop returns")
}

fn transient(e: &OciDistributionError) -> bool {
    match e {
        // A TLS handshake with a plain-HTTP server fails the same way every time.
        OciDistributionError::RequestError(r) if error_chain(r).contains("corrupt message") => false,
        OciDistributionError::RequestError(r) => r.is_connect() || r.is_timeout() || r.is_request() || r.is_body(),
        OciDistributionError::ServerError { code, .. } => *code >= 500,
        OciDistributionError::IoError(_) => true,
        _ => false,
    }
}

/// An error a person can act on: which reference, what happened, what to do.
pub(super) fn explain(e: OciDistributionError, s: &Session, op: &str) -> RegistryError {
    let r = &s.reference;
    let registry = r.registry();
    let login_hint = format!("log in with `morph login {registry} -u USER --password-stdin` or set MORPH_REGISTRY={registry} with MORPH_REGISTRY_USER and MORPH_REGISTRY_PASSWORD");
    let text = e.to_string();
    let status = match &e {
        OciDistributionError::RequestError(req) => req.status().map(|s| s.as_u16()),
        OciDistributionError::ServerError { code, .. } => Some(*code),
        _ => None,
    };
    let msg = match (&e, status) {
        (_, Some(401)) if s.source == Source::Anonymous => {
            format!("{op} {r}: the registry requires authentication (401); {login_hint}")
        }
        (_, Some(401)) => format!("{op} {r}: the registry refused the credentials (401); check them, or {login_hint}"),
        (_, Some(403)) => format!("{op} {r}: access denied (403); the account may lack permission for this repository"),
        (_, Some(404)) => format!("{op} {r}: not found (404); check the repository and tag"),
        (e, _) => match e {
        OciDistributionError::UnauthorizedError { .. } | OciDistributionError::AuthenticationFailure(_) => {
            if s.source == Source::Anonymous {
                format!("{op} {r}: the registry requires authentication (401); {login_hint}")
            } else {
                format!("{op} {r}: the registry refused the credentials ({text}); check them, or {login_hint}")
            }
        }
        OciDistributionError::ImageManifestNotFoundError(_) => format!("{op} {r}: not found (404); check the repository and tag"),
        OciDistributionError::RegistryError { envelope, .. } => {
            let codes: Vec<String> = envelope.errors.iter().map(|x| format!("{:?}", x.code)).collect();
            if codes.iter().any(|c| c == "Denied") {
                format!("{op} {r}: access denied (403): {text}; the account may lack permission for this repository")
            } else if codes.iter().any(|c| c.contains("Unknown")) {
                format!("{op} {r}: not found (404): {text}; check the repository and tag")
            } else if codes.iter().any(|c| c == "Unauthorized") {
                format!("{op} {r}: the registry requires authentication (401); {login_hint}")
            } else {
                format!("{op} {r}: the registry answered with an error: {text}")
            }
        }
        OciDistributionError::RequestError(req) if error_chain(req).contains("corrupt message") => format!(
            "{op} {r}: {registry} does not speak HTTPS; for a plain-HTTP registry pass --insecure or set `insecure = true` under [registries.\"{registry}\"] in $MORPH_HOME/config.toml"
        ),
        OciDistributionError::RequestError(req) if req.is_connect() => format!(
            "{op} {r}: cannot connect to {registry} ({}); check the address, or pass --insecure for a plain-HTTP registry",
            error_chain(req)
        ),
        OciDistributionError::RequestError(req) => format!("{op} {r}: the connection failed ({}); try again", error_chain(req)),
        OciDistributionError::DigestError(_) => format!("{op} {r}: a blob did not match its digest ({text}); nothing was written"),
        _ => format!("{op} {r}: {text}"),
        },
    };
    RegistryError::Oci(msg)
}

/// The registry's refusal of a pushed manifest. Registries that store only container images
/// refuse an artifact's config type with 400 `MANIFEST_INVALID` (or `UNSUPPORTED`, or 415):
/// that is named, with what to do; any other failure is [`explain`]ed.
pub(super) fn explain_manifest_push(e: OciDistributionError, s: &Session) -> RegistryError {
    use oci_client::errors::OciErrorCode;
    let refused = match &e {
        OciDistributionError::RegistryError { envelope, .. } => {
            envelope.errors.iter().any(|x| matches!(x.code, OciErrorCode::ManifestInvalid | OciErrorCode::Unsupported))
        }
        OciDistributionError::ServerError { code: 415, .. } => true,
        OciDistributionError::ServerError { code: 400, message, .. } => {
            let m = message.to_ascii_uppercase();
            m.contains("MANIFEST_INVALID") || m.contains("UNSUPPORTED") || m.contains("MEDIA TYPE")
        }
        _ => false,
    };
    if !refused {
        return explain(e, s, "push");
    }
    let r = &s.reference;
    RegistryError::Oci(format!(
        "push {r}: {} refused the manifest ({e}): it does not take OCI artifacts whose config is {}, as registries that \
         store only container images do; the blobs it took are harmless. Push to a registry that supports OCI \
         artifacts (ghcr.io, Docker Hub, Harbor 2, zot, ECR, ACR, distribution 2.7 or later), or ask its operator to \
         allow that media type",
        r.registry(),
        super::CONFIG_MEDIA_TYPE
    ))
}

/// [`explain`] for a download's failure; a verdict is already in the user's terms.
pub(super) fn explain_failure(e: Failure, s: &Session, op: &str) -> RegistryError {
    match e {
        Failure::Oci(e) => explain(e, s, op),
        Failure::Fatal(e) => e,
    }
}
