//! A websocket morph for the `morph serve` tests. Every message is answered `echo: <message>`,
//! except `flood N` (N numbered frames of 1 KiB, faster than a slow client reads them), `spin`
//! (computes forever) and `bye` (returns, so the server closes the connection).

wit_bindgen::generate!({ path: "wit", world: "hayride:runtime/hayride-ws@0.0.1", generate_all });

use exports::hayride::socket::websocket::Guest;
use wasi::io::streams::{InputStream, OutputStream};

struct Echo;

impl Guest for Echo {
    fn handle(input: InputStream, output: OutputStream) {
        while let Ok(chunk) = input.blocking_read(64 * 1024) {
            let text = String::from_utf8_lossy(&chunk);
            let text = text.trim_end();
            if text == "bye" {
                return;
            }
            if text == "spin" {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            if let Some(count) = text.strip_prefix("flood ").and_then(|n| n.parse::<usize>().ok()) {
                for i in 0..count {
                    let line = format!("frame {i:06} {}", "x".repeat(1000));
                    if output.blocking_write_and_flush(line.as_bytes()).is_err() {
                        return;
                    }
                }
                continue;
            }
            if output.blocking_write_and_flush(format!("echo: {text}").as_bytes()).is_err() {
                return;
            }
        }
    }
}

export!(Echo);
