//! {{name}}: an http morph. `morph build`, then `morph serve` listens on the address `config`
//! gives and answers `GET /`.

wit_bindgen::generate!({ path: "wit", world: "{{name}}", generate_all });

use exports::hayride::http::config::{Error as ConfigError, Guest as Config, GuestError};
use exports::wasi::http::incoming_handler::Guest as Handler;
use hayride::http::types::{ErrorCode, ServerConfig};
use wasi::http::types::{Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam};

/// Where the host listens for this morph (a bare `:PORT` means 127.0.0.1).
const ADDRESS: &str = "http://127.0.0.1:8080";

struct Server;

impl Handler for Server {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let path = path.split('?').next().unwrap_or("/");
        let (status, body) = match (request.method(), path) {
            (Method::Get, "/") => (200, "Hello from {{name}}!\n"),
            _ => (404, "Not found\n"),
        };
        let response = OutgoingResponse::new(Fields::new());
        response.set_status_code(status).expect("a valid status");
        let outgoing = response.body().expect("the body of a new response");
        ResponseOutparam::set(out, Ok(response));
        let stream = outgoing.write().expect("the body stream");
        // A client that went away is not this morph's error.
        let _ = stream.blocking_write_and_flush(body.as_bytes());
        drop(stream);
        let _ = OutgoingBody::finish(outgoing, None);
    }
}

impl Config for Server {
    type Error = NoConfigError;

    fn get() -> Result<ServerConfig, ConfigError> {
        Ok(ServerConfig {
            address: ADDRESS.to_string(),
            read_timeout: 10_000,
            write_timeout: 30_000,
            max_header_bytes: 64 * 1024,
        })
    }
}

/// `get` never fails, but the interface has an error resource to implement.
pub struct NoConfigError;

impl GuestError for NoConfigError {
    fn code(&self) -> ErrorCode {
        ErrorCode::Unknown
    }

    fn data(&self) -> String {
        String::new()
    }
}

export!(Server);
