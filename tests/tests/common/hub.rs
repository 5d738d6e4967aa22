//! A stand-in for the Hugging Face hub (the real one cannot be reached from the tests): the same
//! paths and headers. `HEAD|GET /<owner>/<repo>/resolve/main/<file>` answers 302 to a CDN on
//! another port with `X-Repo-Commit`, `X-Linked-Etag` (the sha256, quoted) and `X-Linked-Size`,
//! as the hub does for LFS files; the CDN serves the bytes with `Range` support. A token, when
//! required, is checked on the hub and recorded wherever it arrives.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubMode {
    /// Everything as the hub does it.
    Normal,
    /// The CDN's first answer promises every byte, sends `at` of them and hangs up.
    DropOnceAt(usize),
    /// The CDN always hangs up after `at` bytes: a download that cannot finish.
    AlwaysDropAt(usize),
    /// The hub names a sha256 the bytes do not have.
    WrongSha,
}

pub struct Hub {
    /// `http://127.0.0.1:PORT`, for HF_ENDPOINT.
    pub endpoint: String,
    pub commit: String,
    pub sha256: String,
    /// The `Authorization` headers the hub and the CDN received.
    pub hub_auth: Arc<Mutex<Vec<String>>>,
    pub cdn_auth: Arc<Mutex<Vec<String>>>,
    /// The `Range` headers the CDN received (`-` for none).
    pub ranges: Arc<Mutex<Vec<String>>>,
    /// CDN requests served.
    pub downloads: Arc<AtomicUsize>,
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok().filter(|n| *n > 0)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    Some(Request { method, path, headers })
}

impl Hub {
    /// Serves `file` (`owner/repo/name`) with `bytes`; `token`, when given, is required.
    pub fn start(file: &str, bytes: Vec<u8>, mode: HubMode, token: Option<&str>) -> Hub {
        let sha = super::registry::sha256(&bytes).trim_start_matches("sha256:").to_string();
        let advertised = if mode == HubMode::WrongSha { "0".repeat(64) } else { sha.clone() };
        let commit = "0123456789abcdef0123456789abcdef01234567".to_string();
        let cdn = TcpListener::bind("127.0.0.1:0").unwrap();
        let cdn_addr = cdn.local_addr().unwrap().to_string();
        let hub = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", hub.local_addr().unwrap());
        type Log = Arc<Mutex<Vec<String>>>;
        let (hub_auth, cdn_auth, ranges): (Log, Log, Log) = Default::default();
        let downloads = Arc::new(AtomicUsize::new(0));
        let bytes = Arc::new(bytes);

        // The CDN: the bytes, whole or from a `Range` offset.
        {
            let (cdn_auth, ranges, downloads, bytes) =
                (Arc::clone(&cdn_auth), Arc::clone(&ranges), downloads.clone(), bytes.clone());
            let dropped = Arc::new(AtomicBool::new(false));
            std::thread::spawn(move || {
                for stream in cdn.incoming().flatten() {
                    let Some(req) = read_request(&stream) else { continue };
                    record(&cdn_auth, req.header("authorization"));
                    ranges.lock().unwrap().push(req.header("range").unwrap_or("-").to_string());
                    downloads.fetch_add(1, Ordering::SeqCst);
                    let from = req
                        .header("range")
                        .and_then(|r| r.strip_prefix("bytes="))
                        .and_then(|r| r.split('-').next())
                        .and_then(|n| n.parse::<usize>().ok())
                        .unwrap_or(0)
                        .min(bytes.len());
                    let body = &bytes[from..];
                    let status = if from > 0 {
                        format!(
                            "206 Partial Content\r\nContent-Range: bytes {from}-{}/{}",
                            bytes.len().saturating_sub(1),
                            bytes.len()
                        )
                    } else {
                        "200 OK".to_string()
                    };
                    let mut s = stream;
                    let _ = write!(
                        s,
                        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    if req.method == "HEAD" {
                        continue;
                    }
                    let cut = match mode {
                        HubMode::DropOnceAt(at) if !dropped.swap(true, Ordering::SeqCst) => Some(at),
                        HubMode::AlwaysDropAt(at) => Some(at.saturating_sub(from).max(1)),
                        _ => None,
                    };
                    match cut {
                        Some(at) if at < body.len() => {
                            let _ = s.write_all(&body[..at]);
                            let _ = s.flush();
                            let _ = s.shutdown(std::net::Shutdown::Both);
                        }
                        _ => {
                            let _ = s.write_all(body);
                        }
                    }
                }
            });
        }

        // The hub: metadata and a redirect to the CDN.
        {
            let (hub_auth, file, token) = (Arc::clone(&hub_auth), file.to_string(), token.map(str::to_string));
            let (commit, len) = (commit.clone(), bytes.len());
            std::thread::spawn(move || {
                for stream in hub.incoming().flatten() {
                    let Some(req) = read_request(&stream) else { continue };
                    record(&hub_auth, req.header("authorization"));
                    let mut s = stream;
                    let (owner_repo, name) = file.rsplit_once('/').unwrap();
                    let wanted = format!("/{owner_repo}/resolve/main/{name}");
                    let authorized = token
                        .as_ref()
                        .is_none_or(|t| req.header("authorization") == Some(format!("Bearer {t}").as_str()));
                    if !authorized {
                        let _ = write!(s, "HTTP/1.1 401 Unauthorized\r\nX-Error-Code: GatedRepo\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    } else if req.path != wanted {
                        let _ = write!(s, "HTTP/1.1 404 Not Found\r\nX-Error-Code: EntryNotFound\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    } else {
                        let _ = write!(
                            s,
                            "HTTP/1.1 302 Found\r\nLocation: http://{cdn_addr}/blobs/{advertised}\r\nX-Repo-Commit: {commit}\r\nX-Linked-Etag: \"{advertised}\"\r\nX-Linked-Size: {len}\r\nETag: \"{}\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                            &commit[..20]
                        );
                    }
                }
            });
        }
        Hub { endpoint, commit, sha256: sha, hub_auth, cdn_auth, ranges, downloads }
    }
}

fn record(into: &Mutex<Vec<String>>, value: Option<&str>) {
    if let Some(v) = value {
        into.lock().unwrap().push(v.to_string());
    }
}
