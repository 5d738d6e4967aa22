//! Serving a websocket morph (`hayride:socket/websocket`): each upgraded connection gets its own
//! instance, whose `handle(input, output)` runs for the life of the connection.
//!
//! Frames from the client become the guest's input stream; every guest write becomes a text
//! frame (binary when the bytes are not UTF-8). When the guest returns, the connection is closed
//! with a normal close frame; when it traps, with 1011 and the trap logged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::upgrade::Upgraded;
use hyper::{Request, StatusCode};
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use wasmtime::component::{Component, ComponentExportIndex, InstancePre, Resource};
use wasmtime::Trap;
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream};
use wasmtime_wasi::WasiView;

use super::channel_streams::{ChannelInput, ChannelOutput};
use super::{plain, Answer, Server};
use crate::sandbox::Sandbox;
use crate::store::StoreData;

/// Messages queued between the socket and the guest, each way, before the faster side waits.
const QUEUE: usize = 16;

/// The morph's `handle` export, ready to instantiate per connection.
#[derive(Clone)]
pub(crate) struct WebsocketExport {
    pre: InstancePre<StoreData>,
    handle: ComponentExportIndex,
}

impl WebsocketExport {
    /// The `handle` function of the morph's `hayride:socket/websocket` export, if it has one.
    pub(crate) fn find(component: &Component, pre: &InstancePre<StoreData>) -> Option<WebsocketExport> {
        let engine = component.engine();
        let name = component
            .component_type()
            .exports(engine)
            .map(|(name, _)| name.to_string())
            .find(|n| n.starts_with("hayride:socket/websocket@") || n == "hayride:socket/websocket")?;
        let (_, instance) = component.get_export(None, &name)?;
        let (_, handle) = component.get_export(Some(&instance), "handle")?;
        Some(WebsocketExport { pre: pre.clone(), handle })
    }
}

/// What one connection needs from the server.
pub(crate) struct Connection {
    pub guest: Guest,
    /// Turns true when the server stops: the guest's input ends so it can return.
    pub stop: watch::Receiver<bool>,
    /// The server's slot, held for the life of the connection.
    pub slot: OwnedSemaphorePermit,
}

/// The morph that runs for one connection, and its sandbox.
pub(crate) struct Guest {
    pub export: WebsocketExport,
    pub sandbox: Sandbox,
    pub argv: Vec<String>,
    /// A connection with no frame either way for this long is closed (the guest is interrupted
    /// if it is still computing).
    pub idle: Duration,
}

/// How the connection ended, for the log.
pub(crate) enum Ending {
    Returned,
    Failed(String),
}

/// Runs the guest against an upgraded connection until one side is done.
pub(crate) async fn run(conn: Connection, upgraded: Upgraded) -> Ending {
    let config = WebSocketConfig::default().max_message_size(Some(16 << 20));
    let socket =
        WebSocketStream::from_raw_socket(hyper_util::rt::TokioIo::new(upgraded), Role::Server, Some(config)).await;
    let (mut sink, mut stream) = socket.split();

    let started = Instant::now();
    let last_activity = Arc::new(AtomicU64::new(0));
    let touch = {
        let last_activity = last_activity.clone();
        move || last_activity.store(started.elapsed().as_millis() as u64, Ordering::Relaxed)
    };

    let (to_guest, guest_input) = mpsc::channel::<Bytes>(QUEUE);
    let (guest_output, mut from_guest) = mpsc::channel::<Bytes>(QUEUE);
    let idle = conn.guest.idle;
    let guest = tokio::spawn(run_guest(conn.guest, started, last_activity.clone(), guest_input, guest_output));

    // Client → guest. Ends at the client's close, the idle limit or the server's stop; dropping
    // `to_guest` then ends the guest's input.
    let mut stop = conn.stop.clone();
    let reader_touch = touch.clone();
    let mut reader = tokio::spawn(async move {
        loop {
            let next = tokio::select! {
                next = tokio::time::timeout(idle, stream.next()) => next,
                _ = stop.wait_for(|s| *s) => break,
            };
            let chunk = match next {
                Ok(Some(Ok(Message::Text(text)))) => Bytes::from(text),
                Ok(Some(Ok(Message::Binary(data)))) => data,
                Ok(Some(Ok(Message::Close(_)))) | Ok(Some(Err(_))) | Ok(None) | Err(_) => break,
                Ok(Some(Ok(_))) => continue, // ping/pong are answered by the protocol layer
            };
            reader_touch();
            if to_guest.send(chunk).await.is_err() {
                break; // the guest is gone
            }
        }
    });

    // Guest → client, in order; a slow client makes `send` wait, which fills the queue, which
    // makes the guest's writes wait.
    let mut carry = Vec::new();
    let mut client_gone = false;
    while let Some(chunk) = from_guest.recv().await {
        touch();
        if client_gone {
            continue; // drain, so the guest is never stuck writing to a closed client
        }
        let message = frame(&mut carry, &chunk);
        if let Some(message) = message {
            if sink.send(message).await.is_err() {
                client_gone = true;
            }
        }
    }
    if !carry.is_empty() && !client_gone {
        let _ = sink.send(Message::Binary(Bytes::from(std::mem::take(&mut carry)))).await;
    }
    let ending = match guest.await {
        Ok(Ok(())) => Ending::Returned,
        Ok(Err(why)) => Ending::Failed(why),
        Err(e) => Ending::Failed(format!("the connection task failed: {e}")),
    };
    if !client_gone {
        let (code, reason) = match &ending {
            Ending::Returned => (CloseCode::Normal, ""),
            Ending::Failed(_) => (CloseCode::Error, "the morph failed"),
        };
        let _ = sink.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
        // Give the client a moment to answer the close (the reader ends on it), then drop the
        // connection.
        let _ = tokio::time::timeout(Duration::from_secs(2), &mut reader).await;
    }
    reader.abort();
    drop(conn.slot);
    ending
}

/// Turns one guest write into a frame: text when it is UTF-8 (a character split across two
/// writes is carried to the next one), binary when it is not.
fn frame(carry: &mut Vec<u8>, chunk: &[u8]) -> Option<Message> {
    carry.extend_from_slice(chunk);
    match std::str::from_utf8(carry) {
        Ok(_) => {
            let text = String::from_utf8(std::mem::take(carry)).expect("checked");
            Some(Message::Text(text.into()))
        }
        Err(e) if e.error_len().is_none() && carry.len() - e.valid_up_to() < 4 => {
            // An incomplete character at the end: send what is whole, keep the rest.
            let rest = carry.split_off(e.valid_up_to());
            let text = String::from_utf8(std::mem::replace(carry, rest)).expect("checked");
            (!text.is_empty()).then(|| Message::Text(text.into()))
        }
        Err(_) => Some(Message::Binary(Bytes::from(std::mem::take(carry)))),
    }
}

/// Instantiates the morph and calls `handle(input, output)`; the store (and so the output
/// channel) is dropped when it returns, which ends the writer loop.
async fn run_guest(
    guest: Guest,
    started: Instant,
    last_activity: Arc<AtomicU64>,
    input: mpsc::Receiver<Bytes>,
    output: mpsc::Sender<Bytes>,
) -> Result<(), String> {
    let Guest { export, sandbox, argv, idle } = guest;
    // A guest that computes for the idle limit with no frame either way is interrupted.
    let quiet_too_long = move || {
        let quiet_ms = (started.elapsed().as_millis() as u64).saturating_sub(last_activity.load(Ordering::Relaxed));
        Duration::from_millis(quiet_ms) >= idle
    };
    let (mut store, limit_watch) =
        sandbox.served_store(export.pre.engine(), &argv, quiet_too_long).map_err(|e| e.to_string())?;
    let result = async {
        let instance = export.pre.instantiate_async(&mut store).await?;
        let handle = instance
            .get_typed_func::<(Resource<DynInputStream>, Resource<DynOutputStream>), ()>(&mut store, &export.handle)?;
        let table = store.data_mut().ctx().table;
        let input = table.push(Box::new(ChannelInput::new(input)) as DynInputStream)?;
        let output = table.push(Box::new(ChannelOutput::new(output)) as DynOutputStream)?;
        handle.call_async(&mut store, (input, output)).await
    }
    .await;
    drop(store);
    result.map_err(|e| {
        if matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
            format!("the morph computed for --ws-idle {idle:?} with no frame either way and was stopped")
        } else {
            limit_watch.classify(e, false).to_string()
        }
    })
}

impl Server {
    /// Accepts a websocket upgrade and runs the morph on the connection in its own task, which
    /// keeps the slot until the connection ends.
    pub(super) fn upgrade(
        self: &Arc<Self>,
        mut req: Request<Incoming>,
        slot: OwnedSemaphorePermit,
        path: &str,
    ) -> Answer {
        let Some(export) = self.handlers().ws else {
            return plain(
                StatusCode::BAD_REQUEST,
                "this morph serves plain HTTP, not websockets; send the request without `Upgrade: websocket`\n",
            );
        };
        let key = req.headers().get("sec-websocket-key").cloned();
        let version_ok = req.headers().get("sec-websocket-version").is_some_and(|v| v.as_bytes() == b"13");
        let Some(key) = key.filter(|_| version_ok) else {
            return plain(
                StatusCode::BAD_REQUEST,
                "a websocket upgrade needs Sec-WebSocket-Key and Sec-WebSocket-Version: 13\n",
            );
        };
        let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
        let on_upgrade = hyper::upgrade::on(&mut req);
        let conn = Connection {
            guest: Guest { export, sandbox: self.sandbox.clone(), argv: self.argv.clone(), idle: self.opts.ws_idle },
            stop: self.stop.clone(),
            slot,
        };
        let path = path.to_string();
        let server = self.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let Ok(upgraded) = on_upgrade.await else { return };
            match run(conn, upgraded).await {
                Ending::Returned => server.log("WEBSOCKET", &path, StatusCode::SWITCHING_PROTOCOLS, started.elapsed()),
                Ending::Failed(why) => {
                    server.fail(StatusCode::SWITCHING_PROTOCOLS, "WEBSOCKET", &path, &why);
                }
            }
        });
        let mut response = plain(StatusCode::SWITCHING_PROTOCOLS, "");
        let headers = response.headers_mut();
        headers.insert(hyper::header::UPGRADE, hyper::header::HeaderValue::from_static("websocket"));
        headers.insert(hyper::header::CONNECTION, hyper::header::HeaderValue::from_static("Upgrade"));
        if let Ok(v) = hyper::header::HeaderValue::from_str(&accept) {
            headers.insert("sec-websocket-accept", v);
        }
        response
    }
}

/// A GET asking to switch to the websocket protocol.
pub(super) fn is_websocket_upgrade(req: &Request<Incoming>) -> bool {
    let has = |name: hyper::header::HeaderName, token: &str| {
        req.headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    req.method() == hyper::Method::GET
        && has(hyper::header::UPGRADE, "websocket")
        && has(hyper::header::CONNECTION, "upgrade")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_become_text_frames_with_split_characters_carried() {
        let mut carry = Vec::new();
        let euro = "€".as_bytes(); // three bytes
        assert!(matches!(frame(&mut carry, b"hi"), Some(Message::Text(t)) if t.as_str() == "hi"));
        assert!(matches!(frame(&mut carry, &[b'a', euro[0]]), Some(Message::Text(t)) if t.as_str() == "a"));
        assert!(frame(&mut carry, &euro[1..2]).is_none(), "still half a character");
        assert!(matches!(frame(&mut carry, &euro[2..]), Some(Message::Text(t)) if t.as_str() == "€"));
        assert!(matches!(frame(&mut carry, &[0xff, 0x00]), Some(Message::Binary(b)) if b.as_ref() == [0xff, 0]));
        assert!(carry.is_empty());
    }
}
