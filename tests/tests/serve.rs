//! `morph serve` on loopback with a real http morph (tests/guests/rust-http, built for
//! wasm32-wasip2): routes `/`, `/echo`, `/slow`, `/trap`, `/spin`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::served::Served;
use common::*;

fn http_guest() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| rust_guest("rust-http")).clone()
}

fn start(extra: &[&str]) -> Served {
    Served::start(&http_guest(), extra)
}

/// One HTTP/1.1 exchange on `stream`: (status, headers lower-cased, body).
fn exchange(stream: &mut TcpStream, request: &str) -> (u16, String, String) {
    stream.write_all(request.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status: u16 = status_line.split_whitespace().nth(1).unwrap_or("0").parse().unwrap();
    let mut headers = String::new();
    let mut length = None;
    let mut chunked = false;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse::<usize>().ok();
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
        headers.push_str(&lower);
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).unwrap();
            let n = usize::from_str_radix(size.trim(), 16).unwrap();
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        reader.read_exact(&mut body).unwrap();
    }
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn get(addr: &str, path: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    exchange(&mut s, &format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"))
}

#[test]
fn answers_echoes_and_keeps_the_connection_alive() {
    let served = start(&[]);
    let mut s = TcpStream::connect(&served.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let host = &served.addr;
    let (status, _, body) = exchange(&mut s, &format!("GET / HTTP/1.1\r\nhost: {host}\r\n\r\n"));
    assert_eq!((status, body.as_str()), (200, "hello from morph serve\n"));
    // Same connection: keep-alive.
    let (status, headers, body) = exchange(
        &mut s,
        &format!("POST /echo HTTP/1.1\r\nhost: {host}\r\nx-echo: ping\r\ncontent-length: 11\r\n\r\nhello there"),
    );
    assert_eq!(status, 200);
    assert_eq!(body, "hello there");
    assert!(headers.contains("x-echo: ping"), "{headers}");
    let line = served.wait_for("POST /echo 200", Duration::from_secs(5));
    assert!(line.ends_with("ms"), "{line}");
}

#[test]
fn with_json_each_request_is_one_json_log_line() {
    let served = Served::start_json(&http_guest());
    assert_eq!(get(&served.addr, "/").0, 200);
    let line = served.wait_for("\"path\":\"/\"", Duration::from_secs(5));
    let entry: serde_json::Value = serde_json::from_str(&line).expect("a JSON object per line");
    assert_eq!(
        (entry["level"].as_str(), entry["method"].as_str(), entry["status"].as_u64()),
        (Some("info"), Some("GET"), Some(200))
    );
    assert!(entry["ms"].as_f64().is_some(), "{line}");
    assert_eq!(get(&served.addr, "/trap").0, 500);
    let line = served.wait_for("\"error\":", Duration::from_secs(5));
    let entry: serde_json::Value = serde_json::from_str(&line).expect("a JSON object per line");
    assert_eq!((entry["level"].as_str(), entry["status"].as_u64()), (Some("error"), Some(500)));
    assert!(entry["error"].as_str().is_some_and(|e| e.contains("unreachable")), "{line}");
}

#[test]
fn a_trap_is_that_request_s_500_and_the_server_goes_on() {
    let served = start(&[]);
    assert_eq!(get(&served.addr, "/trap").0, 500);
    let logged = served.wait_for("GET /trap", Duration::from_secs(5));
    assert!(logged.contains("unreachable"), "the trap is logged with method and path: {logged}");
    assert_eq!(get(&served.addr, "/").0, 200);
}

#[test]
fn a_guest_past_its_timeout_is_stopped_with_504() {
    let served = start(&["--timeout", "500ms"]);
    let started = Instant::now();
    assert_eq!(get(&served.addr, "/spin").0, 504);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    served.wait_for("--timeout", Duration::from_secs(5));
    assert_eq!(get(&served.addr, "/").0, 200);
}

/// More spinning guests than the server has worker threads: each yields its thread after its
/// slice, so a short request is still answered long before they time out.
#[test]
fn spinning_guests_on_every_worker_do_not_starve_a_short_request() {
    let served = start(&["--timeout", "6s"]);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let spinning: Vec<_> = (0..workers + 1)
        .map(|_| {
            let addr = served.addr.clone();
            std::thread::spawn(move || get(&addr, "/spin").0)
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    assert_eq!(get(&served.addr, "/").0, 200);
    assert!(started.elapsed() < Duration::from_secs(3), "the short request waited {:?}", started.elapsed());
    for spin in spinning {
        assert_eq!(spin.join().unwrap(), 504);
    }
}

#[test]
fn requests_beyond_max_concurrency_wait_then_get_503() {
    let served = start(&["--max-concurrency", "1", "--queue-timeout", "200ms", "--timeout", "3s"]);
    let addr = served.addr.clone();
    let busy = std::thread::spawn(move || get(&addr, "/spin").0);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(get(&served.addr, "/").0, 503);
    assert_eq!(busy.join().unwrap(), 504);
    // A slot is free again.
    assert_eq!(get(&served.addr, "/").0, 200);
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    let mut served = start(&[]);
    let addr = served.addr.clone();
    let slow = std::thread::spawn(move || get(&addr, "/slow"));
    std::thread::sleep(Duration::from_millis(150));
    served.signal("TERM");
    let (status, _, body) = slow.join().unwrap();
    assert_eq!((status, body.as_str()), (200, "slow but done\n"));
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = served.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "serve did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    assert!(TcpStream::connect(&served.addr).is_err(), "no longer accepting");
}

#[test]
fn a_body_over_max_body_gets_413_and_one_under_it_is_served() {
    let served = start(&["--max-body", "1KiB"]);
    let host = &served.addr;
    let mut s = TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let big = "x".repeat(2048);
    let (status, _, _) = exchange(
        &mut s,
        &format!("POST /echo HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\ncontent-length: 2048\r\n\r\n{big}"),
    );
    assert_eq!(status, 413);
    let mut s = TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let small = "y".repeat(1000);
    let (status, _, body) = exchange(
        &mut s,
        &format!("POST /echo HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\ncontent-length: 1000\r\n\r\n{small}"),
    );
    assert_eq!((status, body.len()), (200, 1000));
}

#[test]
fn a_client_that_stops_reading_its_response_loses_its_slot_at_write_timeout() {
    // One slot; a client takes a 48 MB echo (more than loopback's socket buffers hold) and never
    // reads it, so the server's writes stall.
    let served =
        start(&["--max-concurrency", "1", "--queue-timeout", "10s", "--write-timeout", "300ms", "--max-body", "64MiB"]);
    let host = served.addr.clone();
    let mut stuck = TcpStream::connect(&host).unwrap();
    let size = 48 << 20;
    stuck
        .write_all(format!("POST /echo HTTP/1.1\r\nhost: {host}\r\ncontent-length: {size}\r\n\r\n").as_bytes())
        .unwrap();
    stuck.write_all(&vec![b'z'; size]).unwrap();
    // The slot is held while the response streams, and comes free at the write timeout, long
    // before the queue timeout.
    let started = Instant::now();
    assert_eq!(get(&host, "/").0, 200);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(250), "the slot was free while a response was still streaming");
    assert!(waited < Duration::from_secs(5), "waited {waited:?} for the stuck client's slot");
    std::thread::sleep(Duration::from_millis(500));
    // The stuck client's connection was dropped: it cannot read the whole response.
    stuck.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    let _ = stuck.read_to_end(&mut got);
    assert!(got.len() < size, "the stalled response was cut off, not completed");
}

#[test]
fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let served = start(&["--header-timeout", "300ms"]);
    let mut s = TcpStream::connect(&served.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n").unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest); // returns when the server closes the connection
    assert!(started.elapsed() < Duration::from_secs(5), "closed after {:?}", started.elapsed());
    // Others are still served.
    assert_eq!(get(&served.addr, "/").0, 200);
}

#[test]
fn a_command_morph_is_refused_with_exit_2() {
    let r = morph(&["serve", path_str(&example("hello.wat")), "--addr", "127.0.0.1:0"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("exports neither wasi:http/incoming-handler nor hayride:socket/websocket"), "{r:?}");
    assert!(r.stderr.contains("morph run"), "the fix is named: {r:?}");
}

#[test]
fn trickling_request_bodies_do_not_hold_the_slots() {
    // Every slot taken by a client sending a declared 1 MB body a byte a second.
    let served =
        start(&["--max-concurrency", "4", "--body-timeout", "1s", "--queue-timeout", "20s", "--timeout", "30s"]);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tricklers: Vec<_> = (0..4)
        .map(|_| {
            let addr = served.addr.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(&addr).unwrap();
                let head = format!("POST /echo HTTP/1.1\r\nhost: {addr}\r\ncontent-length: 1000000\r\n\r\n");
                s.write_all(head.as_bytes()).unwrap();
                for _ in 0..30 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) || s.write_all(b"x").is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let (status, _, body) = get(&served.addr, "/");
    let waited = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!((status, body.as_str()), (200, "hello from morph serve\n"));
    assert!(waited < Duration::from_secs(5), "a normal request waited {waited:?} behind trickling bodies");
    for t in tricklers {
        t.join().unwrap();
    }
}

#[test]
fn http_1_0_without_host_is_answered_and_http_1_1_without_host_is_400() {
    let served = start(&[]);
    let raw = |request: &str| {
        let mut s = TcpStream::connect(&served.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        exchange(&mut s, request)
    };
    // HTTP/1.0: the answer ends when the server closes the connection.
    let mut s = TcpStream::connect(&served.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("hello from morph serve\n"), "{answer}");
    let (status, _, body) = raw("GET / HTTP/1.1\r\nconnection: close\r\n\r\n");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("Host"), "{body}");
    // A websocket upgrade to a morph that serves only HTTP: a 4xx that says so.
    let (status, _, body) = raw(&format!(
        "GET / HTTP/1.1\r\nhost: {}\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        served.addr
    ));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not websockets"), "{body}");
    // The server goes on.
    assert_eq!(get(&served.addr, "/").0, 200);
}

#[test]
fn a_cold_serve_starts_on_baseline_code_and_switches_to_optimized_code() {
    let served = start(&["--compiler", "auto", "-v"]);
    let (status, _, body) = get(&served.addr, "/");
    assert_eq!(status, 200, "answered on baseline code: {body}");
    // The compile beside the server runs on more threads than cores, so it gets most of a busy
    // machine instead of the half one thread per core would. That compile starts beside the
    // server's start, so its line may come before or after the one saying it listens.
    let cores = std::thread::available_parallelism().unwrap().get();
    served.saw_or_wait_for(
        &format!("compiling the optimized code on {} threads", cores * 4),
        std::time::Duration::from_secs(60),
    );
    served.wait_for("serving optimized code from now on", std::time::Duration::from_secs(120));
    for _ in 0..3 {
        let (status, _, body) = get(&served.addr, "/");
        assert_eq!(status, 200, "answered on optimized code: {body}");
    }
}
