//! `morph serve` of a websocket morph (tests/guests/rust-ws, wit-bindgen against the contract's
//! hayride-ws world) on loopback, driven by a real websocket client.

mod common;

use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::served::Served;
use common::*;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

fn ws_guest() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| rust_guest_with_wit("rust-ws", "hayride-ws")).clone()
}

type Client = WebSocket<MaybeTlsStream<TcpStream>>;

fn connect(served: &Served) -> Client {
    let (client, response) = tungstenite::connect(format!("ws://{}/chat", served.addr)).expect("websocket handshake");
    assert_eq!(response.status(), 101);
    if let MaybeTlsStream::Plain(s) = client.get_ref() {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    }
    client
}

fn text(client: &mut Client) -> String {
    loop {
        match client.read().expect("a frame from the server") {
            Message::Text(t) => return t.to_string(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// The close frame's code, read after the guest finished.
fn close_code(client: &mut Client) -> CloseCode {
    loop {
        match client.read() {
            Ok(Message::Close(Some(frame))) => return frame.code,
            Ok(Message::Close(None)) => panic!("a close frame without a code"),
            Ok(_) => continue,
            Err(e) => panic!("the connection ended without a close frame: {e}"),
        }
    }
}

#[test]
fn echoes_text_frames_and_closes_cleanly_when_the_guest_returns() {
    let served = Served::start(&ws_guest(), &[]);
    let mut client = connect(&served);
    client.send(Message::text("hello")).unwrap();
    assert_eq!(text(&mut client), "echo: hello");
    client.send(Message::text("grüße, €")).unwrap();
    assert_eq!(text(&mut client), "echo: grüße, €", "UTF-8 survives both directions");
    client.send(Message::text("bye")).unwrap();
    assert_eq!(close_code(&mut client), CloseCode::Normal);
    served.wait_for("WEBSOCKET /chat 101", Duration::from_secs(5));
}

#[test]
fn each_connection_has_its_own_instance_and_they_run_at_once() {
    let served = Served::start(&ws_guest(), &[]);
    let mut first = connect(&served);
    let mut second = connect(&served);
    second.send(Message::text("two")).unwrap();
    first.send(Message::text("one")).unwrap();
    assert_eq!(text(&mut first), "echo: one");
    assert_eq!(text(&mut second), "echo: two");
    // Ending one connection leaves the other serving.
    first.send(Message::text("bye")).unwrap();
    assert_eq!(close_code(&mut first), CloseCode::Normal);
    second.send(Message::text("still here")).unwrap();
    assert_eq!(text(&mut second), "echo: still here");
}

#[test]
fn a_guest_writing_faster_than_the_client_reads_waits_instead_of_failing() {
    let served = Served::start(&ws_guest(), &[]);
    let mut client = connect(&served);
    // ~2 MB of frames while the client reads nothing for a while: far more than the queues hold.
    client.send(Message::text("flood 2000")).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    for i in 0..2000 {
        let frame = text(&mut client);
        assert!(frame.starts_with(&format!("frame {i:06} ")), "frame {i} out of order or lost: {}", &frame[..20]);
        assert_eq!(frame.len(), 13 + 1000);
    }
    client.send(Message::text("after")).unwrap();
    assert_eq!(text(&mut client), "echo: after", "the connection is still good");
    assert!(served.log.try_iter().all(|l| !l.starts_with("error")), "nothing was logged as an error");
}

#[test]
fn a_guest_that_computes_without_frames_past_ws_idle_is_stopped_with_1011() {
    let served = Served::start(&ws_guest(), &["--ws-idle", "500ms"]);
    let mut client = connect(&served);
    let started = Instant::now();
    client.send(Message::text("spin")).unwrap();
    assert_eq!(close_code(&mut client), CloseCode::Error);
    assert!(started.elapsed() < Duration::from_secs(5), "stopped near --ws-idle, took {:?}", started.elapsed());
    let line = served.wait_for("error: WEBSOCKET /chat", Duration::from_secs(5));
    assert!(line.contains("--ws-idle"), "{line}");
    // The server goes on.
    let mut again = connect(&served);
    again.send(Message::text("x")).unwrap();
    assert_eq!(text(&mut again), "echo: x");
}

#[test]
fn plain_http_to_a_websocket_morph_gets_426() {
    let served = Served::start(&ws_guest(), &[]);
    let mut stream = TcpStream::connect(&served.addr).unwrap();
    use std::io::{Read, Write};
    stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 426"), "{reply}");
}

#[test]
fn sigterm_ends_open_connections_cleanly_and_exits_0() {
    let mut served = Served::start(&ws_guest(), &[]);
    let mut client = connect(&served);
    client.send(Message::text("hi")).unwrap();
    assert_eq!(text(&mut client), "echo: hi");
    served.signal("TERM");
    // The guest's input ends, it returns, the server closes with 1000.
    assert_eq!(close_code(&mut client), CloseCode::Normal);
    let status = served.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}
