//! Where and how a `serve` listens: the flags combined with what the morph's own
//! `hayride:http/config.get()` asks (a flag wins, then the morph, then the defaults here), and
//! the address forms Hayride accepts.

use std::net::SocketAddr;
use std::time::Duration;

use super::ServeOptions;
use crate::limits::Limits;
use crate::sandbox::{Prepared, Sandbox};
use crate::RuntimeError;

/// Where to listen when neither `--addr` nor the morph's `hayride:http/config` says.
pub const DEFAULT_ADDR: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);
/// How long a request head may take when neither the flag nor the morph says.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may leave a response unread when neither the flag nor the morph says.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// What a morph's `hayride:http/config.get()` asks of its server, when it exports one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MorphConfig {
    /// `host:port`, as Hayride reads it: a missing scheme means http, a missing host 127.0.0.1.
    pub address: String,
    pub max_header_bytes: u32,
    /// Milliseconds; 0 when unset.
    pub read_timeout_ms: u32,
    /// Milliseconds; 0 when unset.
    pub write_timeout_ms: u32,
}

/// Calls the morph's `hayride:http/config.get()`, if it exports one.
pub(crate) async fn morph_config(sandbox: &Sandbox, p: &Prepared) -> Result<Option<MorphConfig>, RuntimeError> {
    let Some(get) = p
        .exports()
        .into_iter()
        .find(|f| f.name == "get" && f.instance.as_deref().is_some_and(|i| i.starts_with("hayride:http/config@")))
    else {
        return Ok(None);
    };
    // The serving engine interrupts by epoch (and counts fuel with --fuel), so this call needs
    // a deadline and the run's fuel too.
    let limits = Limits { timeout: Some(Duration::from_secs(5)), ..sandbox.limits.clone() };
    let value = Sandbox { limits, ..sandbox.clone() }.call(p, &get, &[]).await?;
    use wasmtime::component::Val;
    let record = match value.map(|v| v.0) {
        Some(Val::Result(Ok(Some(inner)))) => match *inner {
            Val::Record(fields) => fields,
            _ => return Ok(None),
        },
        Some(Val::Result(Err(_))) => {
            return Err(RuntimeError::MorphConfig { problem: "get() returned an error".into() })
        }
        _ => return Ok(None),
    };
    let field = |n: &str| record.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let Some(Val::String(raw)) = field("address") else { return Ok(None) };
    let number = |n: &str| match field(n) {
        Some(Val::U32(v)) => v,
        _ => 0,
    };
    Ok(Some(MorphConfig {
        address: normalize_address(&raw),
        max_header_bytes: number("max-header-bytes"),
        read_timeout_ms: number("read-timeout"),
        write_timeout_ms: number("write-timeout"),
    }))
}

/// What a serve runs with, the flags and the morph's own config combined.
pub(super) struct Settled {
    pub addr: SocketAddr,
    pub header_timeout: Duration,
    pub write_timeout: Duration,
    /// The largest request head (hyper's read buffer; at least 8 KiB).
    pub max_header_bytes: usize,
}

/// Combines `opts` with the morph's `hayride:http/config`: a flag wins, then the morph, then
/// the defaults.
pub(super) async fn settle(sandbox: &Sandbox, p: &Prepared, opts: &ServeOptions) -> Result<Settled, RuntimeError> {
    let config = morph_config(sandbox, p).await?;
    let from_morph = |ms: u32| (ms > 0).then(|| Duration::from_millis(ms.into()));
    let addr = match (opts.addr, &config) {
        (Some(a), _) => a,
        (None, Some(c)) => {
            parse_address(&c.address).map_err(|e| RuntimeError::MorphConfig { problem: format!("address: {e}") })?
        }
        (None, None) => DEFAULT_ADDR,
    };
    Ok(Settled {
        addr,
        header_timeout: opts
            .header_timeout
            .or_else(|| config.as_ref().and_then(|c| from_morph(c.read_timeout_ms)))
            .unwrap_or(DEFAULT_HEADER_TIMEOUT),
        write_timeout: opts
            .write_timeout
            .or_else(|| config.as_ref().and_then(|c| from_morph(c.write_timeout_ms)))
            .unwrap_or(DEFAULT_WRITE_TIMEOUT),
        max_header_bytes: config.as_ref().map_or(0, |c| c.max_header_bytes as usize),
    })
}

/// `HOST:PORT`, `:PORT` (127.0.0.1), `http://HOST:PORT/`, or a name that resolves.
pub fn parse_address(s: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    normalize_address(s)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| format!("`{s}` is not an address to listen on; write HOST:PORT, e.g. 127.0.0.1:8080"))
}

/// `http://host:port` → `host:port`; `:port` → `127.0.0.1:port`.
pub(crate) fn normalize_address(raw: &str) -> String {
    let without_scheme = raw.split_once("://").map_or(raw, |(_, rest)| rest).trim_end_matches('/');
    if without_scheme.starts_with(':') {
        format!("127.0.0.1{without_scheme}")
    } else {
        without_scheme.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_address;

    #[test]
    fn addresses_read_as_hayride_reads_them() {
        assert_eq!(normalize_address("http://0.0.0.0:8081"), "0.0.0.0:8081");
        assert_eq!(normalize_address(":9000"), "127.0.0.1:9000");
        assert_eq!(normalize_address("http://:9000/"), "127.0.0.1:9000");
        assert_eq!(normalize_address("localhost:80"), "localhost:80");
    }
}
