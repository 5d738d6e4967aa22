//! A session with one registry for one reference: its credentials (only those stored for that
//! registry), the `Authorization` morph's own requests carry, and oci-client's client for
//! pushes; and the HTTP client morph's own requests go through.

use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use super::{authorize, login, parse_reference, tls, OciOptions};
use crate::auth::{credentials_for, Source};
use crate::config::Config;
use crate::{Home, RegistryError};

pub(super) struct Session {
    /// oci-client's client, for pushes: built on first use, as building it loads the system's
    /// root certificates (a pull makes its requests itself, through [`http_client`]).
    pub(super) client: std::sync::OnceLock<Client>,
    pub(super) protocol: ClientProtocol,
    /// `http` or `https`, for the requests morph makes itself.
    pub(super) scheme: &'static str,
    pub(super) auth: RegistryAuth,
    /// What morph's own requests send, updated when a challenge is answered.
    pub(super) authorization: std::sync::Mutex<authorize::Authorization>,
    pub(super) reference: Reference,
    pub(super) source: Source,
    /// The key a pulled manifest must be signed by: the one given, else the one config.toml
    /// names for the registry.
    pub(super) verify: Option<p256::ecdsa::VerifyingKey>,
}

impl Session {
    pub(super) fn client(&self) -> Result<&Client, RegistryError> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let config = ClientConfig {
            protocol: self.protocol.clone(),
            connect_timeout: Some(CONNECT_TIMEOUT),
            read_timeout: Some(READ_TIMEOUT),
            ..Default::default()
        };
        let client = Client::try_from(config)
            .map_err(|e| RegistryError::Oci(format!("cannot set up the registry client: {e}")))?;
        Ok(self.client.get_or_init(|| client))
    }

    /// A URL the registry sent (absolute, or a path on the registry) as one to request.
    pub(super) fn absolute(&self, link: &str) -> String {
        if link.starts_with("http://") || link.starts_with("https://") {
            link.to_string()
        } else {
            format!("{}://{}/{}", self.scheme, self.reference.resolve_registry(), link.trim_start_matches('/'))
        }
    }

    /// `https://host/v2/<repository>/<rest>` (or `http://` for a plain-HTTP registry).
    pub(super) fn url(&self, rest: &str) -> String {
        format!("{}://{}/v2/{}/{rest}", self.scheme, self.reference.resolve_registry(), self.reference.repository())
    }
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// What a session will do, for the scope of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    Pull,
    Push,
}

pub(super) async fn session(
    home: &Home,
    reference: &str,
    opts: &OciOptions,
    access: Access,
) -> Result<Session, RegistryError> {
    // TLS uses rustls with ring; installing the provider twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let reference = parse_reference(reference)?;
    let registry = reference.resolve_registry().to_string();
    let config = Config::load(home)?;
    let verify = config.verify_key(home, reference.registry(), opts.verify)?;
    let wkg = crate::wkg::WkgConfig::load()?;
    let insecure = opts.insecure
        || [registry.as_str(), reference.registry()].iter().any(|r| config.is_insecure(r) || wkg.is_insecure(r));
    let protocol = if insecure {
        ClientProtocol::HttpsExcept(vec![registry.clone(), reference.registry().to_string()])
    } else {
        ClientProtocol::Https
    };
    let scheme = if insecure { "http" } else { "https" };
    let (auth, source) = match &opts.credentials {
        Some(c) => (RegistryAuth::Basic(c.username.clone(), c.password.clone()), Source::Given),
        None => match crate::wkg::bearer_token(reference.registry()) {
            Some(token) => (RegistryAuth::Bearer(token), Source::WkgToken),
            None => match credentials_for(&config, &wkg, reference.registry()) {
                // Docker's identity token (an OAuth refresh token) buys an access token for
                // this repository from the registry's token service.
                (Some(c), source) if c.is_identity_token() => {
                    let scope = match access {
                        Access::Pull => "pull",
                        Access::Push => "pull,push",
                    };
                    let token =
                        login::exchange_identity_token(scheme, &registry, reference.repository(), scope, &c.password)
                            .await?;
                    (RegistryAuth::Bearer(token), source)
                }
                (Some(c), source) => (RegistryAuth::Basic(c.username, c.password), source),
                (None, source) => (RegistryAuth::Anonymous, source),
            },
        },
    };
    tracing::debug!("credentials for {registry}: {source:?}");
    let authorization = std::sync::Mutex::new(authorize::Authorization::from_auth(&auth));
    Ok(Session { client: std::sync::OnceLock::new(), protocol, scheme, auth, authorization, reference, source, verify })
}

/// What every client morph builds itself has: rustls with ring and the system's roots loaded on
/// the first handshake (see [`super::tls`]), the registry client's timeouts, morph's user agent.
pub(crate) fn client_builder() -> Result<reqwest::ClientBuilder, RegistryError> {
    // Installing the provider twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tls = tls::client_config().map_err(|e| RegistryError::Oci(format!("cannot set up TLS: {e}")))?;
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .user_agent(concat!("morph/", env!("CARGO_PKG_VERSION"))))
}

/// An HTTP client with the registry client's timeouts, for the requests morph makes itself:
/// one per process (see [`client_builder`]). It keeps no idle
/// connection: morph runs each command's requests on a runtime of their own, and a connection
/// must not outlive the runtime that drives it.
pub(crate) fn http_client() -> Result<reqwest::Client, RegistryError> {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c.clone());
    }
    let client = client_builder()?
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| RegistryError::Oci(format!("cannot set up the registry client: {e}")))?;
    Ok(CLIENT.get_or_init(|| client).clone())
}
