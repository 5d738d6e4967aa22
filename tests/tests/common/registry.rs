//! OCI registries for the tests: Debian's `docker-registry` on a free loopback port with its
//! storage in a temp dir (optionally with htpasswd auth), and a small fake registry for the
//! failures a real one will not produce (a dropped connection, a wrong blob).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A running `docker-registry`, stopped on drop.
pub struct Registry {
    child: Child,
    pub addr: String,
    _dir: tempfile::TempDir,
}

impl Registry {
    pub fn start() -> Registry {
        Registry::start_with(None)
    }

    /// With `Some((user, password))`, the registry requires HTTP basic auth.
    pub fn start_with(auth: Option<(&str, &str)>) -> Registry {
        // A port found free can be taken by another test's registry before this one binds it;
        // then this one exits at once, and another port is tried.
        for _ in 0..10 {
            if let Some(reg) = Registry::try_start(auth) {
                return reg;
            }
        }
        panic!("docker-registry did not start on any of 10 ports");
    }

    fn try_start(auth: Option<(&str, &str)>) -> Option<Registry> {
        let bin = which("docker-registry")
            .expect("docker-registry is not installed; install it with `apt-get install docker-registry` (CI does)");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\n  formatter: text\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
            dir.path().join("data").display()
        );
        if let Some((user, password)) = auth {
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, password])
                .output()
                .expect("htpasswd is not installed; install it with `apt-get install apache2-utils` (CI does)");
            std::fs::write(dir.path().join("htpasswd"), out.stdout).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: morph-test\n    path: {}\n",
                dir.path().join("htpasswd").display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let mut child = Command::new(bin)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting docker-registry");
        // This registry is ready when it says it listens; if the port was taken, it says so and
        // exits. Its log is read to the end in the background so it never blocks on a full pipe.
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = tx.send(true);
                } else if line.contains("address already in use") {
                    let _ = tx.send(false);
                }
            }
            let _ = tx.send(false);
        });
        let mut reg = Registry { child, addr, _dir: dir };
        let listening = rx.recv_timeout(Duration::from_secs(20)).unwrap_or(false);
        (listening && reg.wait_ready()).then_some(reg)
    }

    /// Ready when this process (not another on the same port) answers /v2/.
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(mut s) = TcpStream::connect(&self.addr) {
                let _ = s.write_all(
                    format!("GET /v2/ HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.addr).as_bytes(),
                );
                let mut line = String::new();
                if BufReader::new(s).read_line(&mut line).is_ok() && line.starts_with("HTTP/1.1") {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| std::path::Path::new(d).join(name)).find(|p| p.is_file())
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// How the fake registry serves the blob.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum BlobMode {
    Whole,
    /// Headers for the full length, then half the bytes, then the connection is closed.
    DropHalfway,
    /// The right length, the wrong bytes.
    WrongBytes,
    /// The whole blob, a chunk at a time with pauses (for interrupting a pull).
    Slow,
    /// 503 for the first blob request, the whole blob after that.
    FailOnce,
    /// The blob's bytes, then zeros without end, with no Content-Length (a hostile registry).
    Endless,
    /// A manifest of 8 MiB and growing, with no Content-Length.
    HugeManifest,
    /// The whole blob, but every request without an `Authorization` header gets 401 with a
    /// Basic challenge, as a private registry answers.
    PrivateBasic,
    /// A private registry with a token service (`/token`), as Docker Hub has: requests need
    /// `Bearer ACCESS-TOKEN`, which the service gives for an OAuth form post with the refresh
    /// token `ID-TOKEN` (docker's identity token) and nothing else.
    IdentityToken,
}

/// A registry that serves one manifest and its blobs over plain HTTP.
pub struct FakeRegistry {
    pub addr: String,
    pub manifest_digest: String,
    /// Every `Authorization` header the registry received, in order.
    pub authorizations: Arc<std::sync::Mutex<Vec<String>>>,
}

pub fn sha256(bytes: &[u8]) -> String {
    use std::process::Command as C;
    let mut child = C::new("sha256sum").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    format!("sha256:{}", String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap())
}

impl FakeRegistry {
    /// Serves `layer` under `layer_media_type` in a manifest for any repository and tag.
    pub fn start(layer: Vec<u8>, layer_media_type: &str, mode: BlobMode) -> FakeRegistry {
        let config = br#"{"architecture":"wasm","os":"wasip2"}"#.to_vec();
        let layer_digest = sha256(&layer);
        let config_digest = sha256(&config);
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.wasm.config.v0+json","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"{layer_media_type}","digest":"{layer_digest}","size":{}}}]}}"#,
            config.len(),
            layer.len()
        )
        .into_bytes();
        let manifest_digest = sha256(&manifest);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let state = Arc::new((manifest, manifest_digest.clone(), layer, layer_digest, config, config_digest));
        let failed_once = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let authorizations = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = authorizations.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let state = state.clone();
                let failed_once = failed_once.clone();
                let seen = seen.clone();
                std::thread::spawn(move || serve(stream, &state, mode, &failed_once, &seen));
            }
        });
        FakeRegistry { addr, manifest_digest, authorizations }
    }
}

type State = (Vec<u8>, String, Vec<u8>, String, Vec<u8>, String);

/// One request per connection (`Connection: close`), which every HTTP client handles.
fn serve(
    mut stream: TcpStream,
    s: &State,
    mode: BlobMode,
    failed_once: &std::sync::atomic::AtomicBool,
    seen: &std::sync::Mutex<Vec<String>>,
) {
    let (manifest, manifest_digest, layer, layer_digest, config, config_digest) = s;
    {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request = String::new();
        if reader.read_line(&mut request).unwrap_or(0) == 0 {
            return;
        }
        let mut authorization = None;
        let (mut host, mut length) = (String::new(), 0usize);
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                break;
            }
            if let Some((name, value)) = h.split_once(':') {
                if name.eq_ignore_ascii_case("authorization") {
                    authorization = Some(value.trim().to_string());
                } else if name.eq_ignore_ascii_case("host") {
                    host = value.trim().to_string();
                } else if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length.min(1 << 20)];
        let _ = std::io::Read::read_exact(&mut reader, &mut body);
        let body = String::from_utf8_lossy(&body).into_owned();
        if let Some(a) = &authorization {
            seen.lock().unwrap().push(a.clone());
        }
        let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
        let head = request.starts_with("HEAD");
        let respond = |stream: &mut TcpStream, status: &str, ctype: &str, extra: &str, body: &[u8]| {
            let hdr = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n",
                body.len()
            );
            stream.write_all(hdr.as_bytes()).unwrap();
            if !head {
                stream.write_all(body).unwrap();
            }
        };
        if mode == BlobMode::IdentityToken && path.starts_with("/token") {
            let granted = request.starts_with("POST")
                && body.split('&').any(|kv| kv == "grant_type=refresh_token")
                && body.split('&').any(|kv| kv == "refresh_token=ID-TOKEN")
                && body.contains("scope=repository%3A");
            if granted {
                respond(&mut stream, "200 OK", "application/json", "", br#"{"access_token":"ACCESS-TOKEN"}"#);
            } else {
                respond(
                    &mut stream,
                    "401 Unauthorized",
                    "application/json",
                    "",
                    br#"{"errors":[{"code":"UNAUTHORIZED"}]}"#,
                );
            }
        } else if mode == BlobMode::IdentityToken && authorization.as_deref() != Some("Bearer ACCESS-TOKEN") {
            let challenge = format!("WWW-Authenticate: Bearer realm=\"http://{host}/token\",service=\"fake\"\r\n");
            respond(
                &mut stream,
                "401 Unauthorized",
                "application/json",
                &challenge,
                br#"{"errors":[{"code":"UNAUTHORIZED"}]}"#,
            );
        } else if mode == BlobMode::PrivateBasic && authorization.is_none() {
            let challenge = "WWW-Authenticate: Basic realm=\"fake\"\r\n";
            respond(
                &mut stream,
                "401 Unauthorized",
                "application/json",
                challenge,
                br#"{"errors":[{"code":"UNAUTHORIZED"}]}"#,
            );
        } else if path == "/v2/" {
            respond(&mut stream, "200 OK", "application/json", "", b"{}");
        } else if path.contains("/manifests/") && mode == BlobMode::HugeManifest {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nConnection: close\r\n\r\n{\"schemaVersion\":2,\"junk\":\"");
            let chunk = vec![b'x'; 64 * 1024];
            for _ in 0..(64 * 16) {
                if stream.write_all(&chunk).is_err() {
                    return;
                }
            }
        } else if path.contains("/manifests/") {
            let extra = format!("Docker-Content-Digest: {manifest_digest}\r\n");
            respond(&mut stream, "200 OK", "application/vnd.oci.image.manifest.v1+json", &extra, manifest);
        } else if path.ends_with(config_digest.as_str()) {
            respond(&mut stream, "200 OK", "application/octet-stream", "", config);
        } else if path.ends_with(layer_digest.as_str())
            && mode == BlobMode::FailOnce
            && !failed_once.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            respond(&mut stream, "503 Service Unavailable", "text/plain", "", b"try later");
        } else if path.ends_with(layer_digest.as_str()) && mode == BlobMode::Endless {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n");
            if head {
                return;
            }
            let _ = stream.write_all(layer);
            let zeros = vec![0u8; 64 * 1024];
            // Stops when morph hangs up, or after 4 GiB (a test that fails must still end).
            for _ in 0..(64 * 1024) {
                if stream.write_all(&zeros).is_err() {
                    return;
                }
            }
        } else if path.ends_with(layer_digest.as_str()) {
            let hdr = format!("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", layer.len());
            let _ = stream.write_all(hdr.as_bytes());
            if head {
                return;
            }
            match mode {
                BlobMode::Whole
                | BlobMode::FailOnce
                | BlobMode::Endless
                | BlobMode::HugeManifest
                | BlobMode::PrivateBasic
                | BlobMode::IdentityToken => {
                    let _ = stream.write_all(layer);
                }
                BlobMode::DropHalfway => {
                    let _ = stream.write_all(&layer[..layer.len() / 2]);
                    let _ = stream.flush();
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                    return;
                }
                BlobMode::WrongBytes => {
                    let mut wrong = layer.clone();
                    for b in wrong.iter_mut().take(64) {
                        *b ^= 0x5a;
                    }
                    let _ = stream.write_all(&wrong);
                }
                BlobMode::Slow => {
                    for chunk in layer.chunks(64 * 1024) {
                        if stream.write_all(chunk).is_err() {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            }
        } else {
            respond(
                &mut stream,
                "404 Not Found",
                "application/json",
                "",
                br#"{"errors":[{"code":"NAME_UNKNOWN","message":"unknown"}]}"#,
            );
        }
    }
    let _ = stream.flush();
}
