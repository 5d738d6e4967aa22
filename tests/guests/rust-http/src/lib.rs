//! Routes for the `morph serve` tests: `/` greets, `/echo` returns the request body and its
//! `x-echo` header, `/slow` answers after half a second, `/trap` traps, `/spin` never returns.

use wasi::exports::http::incoming_handler::Guest;
use wasi::http::types::{Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam};

struct Routes;

impl Guest for Routes {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        match path.as_str() {
            "/trap" => panic!("the /trap route traps on purpose"),
            "/spin" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "/echo" => {
                let echoed = request.headers().get(&"x-echo".to_string());
                let body = read_body(&request);
                let headers = Fields::new();
                for value in echoed {
                    headers.append(&"x-echo".to_string(), &value).unwrap();
                }
                respond(out, 200, headers, &body);
            }
            "/slow" => {
                wasi::clocks::monotonic_clock::subscribe_duration(500_000_000).block();
                respond(out, 200, Fields::new(), b"slow but done\n");
            }
            "/" => respond(out, 200, Fields::new(), b"hello from morph serve\n"),
            _ => respond(out, 404, Fields::new(), b"no such route\n"),
        }
    }
}

fn read_body(request: &IncomingRequest) -> Vec<u8> {
    let body = request.consume().unwrap();
    let stream = body.stream().unwrap();
    let mut bytes = Vec::new();
    while let Ok(chunk) = stream.blocking_read(64 * 1024) {
        bytes.extend_from_slice(&chunk);
    }
    bytes
}

fn respond(out: ResponseOutparam, status: u16, headers: Fields, body: &[u8]) {
    let response = OutgoingResponse::new(headers);
    response.set_status_code(status).unwrap();
    let outgoing = response.body().unwrap();
    ResponseOutparam::set(out, Ok(response));
    let stream = outgoing.write().unwrap();
    for chunk in body.chunks(4096) {
        stream.blocking_write_and_flush(chunk).unwrap();
    }
    drop(stream);
    OutgoingBody::finish(outgoing, None).unwrap();
}

wasi::http::proxy::export!(Routes);
