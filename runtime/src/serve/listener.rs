//! A listener's connections: accepted and served with one service until shutdown, then
//! stopped gracefully; and the drain that lets requests in flight finish. `morph serve` (one
//! morph) and `morph up` (an app's router) share them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::Request;
use tokio::net::TcpListener;
use tokio::sync::watch;
use wasmtime_wasi_http::io::TokioIo;

use super::write_deadline::WriteDeadline;
use super::{Answer, Server};

/// How a listener's connections are read and written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnSettings {
    pub max_buf: usize,
    pub header_timeout: Duration,
    pub write_timeout: Duration,
}

/// What answers the requests of a listener.
pub(crate) type Service =
    Arc<dyn Fn(Request<Incoming>) -> std::pin::Pin<Box<dyn Future<Output = Answer> + Send>> + Send + Sync>;

/// Accepts connections and serves them with `service` until `shutdown` completes; gives the
/// connections still open, which stop once `stop` turns true (each finishing the request in
/// progress).
pub(crate) async fn accept_until(
    listener: TcpListener,
    conn: ConnSettings,
    service: Service,
    stop: watch::Receiver<bool>,
    shutdown: impl Future<Output = ()>,
) -> tokio::task::JoinSet<()> {
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let service = service.clone();
                let mut stop = stop.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let answer = service(req);
                        async move { Ok::<_, std::convert::Infallible>(answer.await) }
                    });
                    let conn = http1::Builder::new()
                        .keep_alive(true)
                        .max_buf_size(conn.max_buf)
                        .timer(hyper_util::rt::TokioTimer::new())
                        .header_read_timeout(conn.header_timeout)
                        .serve_connection(TokioIo::new(WriteDeadline::new(stream, conn.write_timeout)), service)
                        .with_upgrades();
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => {
                            // Finish the request in progress, then close.
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                });
            }
        }
    }
    connections
}

/// Lets the connections and every server's requests in flight (websocket connections outlive
/// their http connection: their slots count) finish, for up to `grace`.
pub(crate) async fn drain(
    mut connections: tokio::task::JoinSet<()>,
    grace: Duration,
    servers: impl IntoIterator<Item = Arc<Server>>,
) {
    let servers: Vec<_> = servers.into_iter().collect();
    let _ = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
        for server in &servers {
            let _ = server.slots.acquire_many(server.opts.max_concurrency.max(1) as u32).await;
        }
    })
    .await;
}
