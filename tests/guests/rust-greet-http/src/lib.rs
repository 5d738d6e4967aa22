//! `GET /?<name>` answers with the imported `greet(name)`: a reactor's function behind http,
//! composed in with WAC.

wit_bindgen::generate!({
    inline: "
        package bench:greet-http;
        world greet-http {
            import greet: func(name: string) -> string;
        }
    ",
    world: "bench:greet-http/greet-http",
});

use wasi::http::types::{Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam};

struct Face;

impl wasi::exports::http::incoming_handler::Guest for Face {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let target = request.path_with_query().unwrap_or_default();
        let name = target.split_once('?').map_or("world", |(_, q)| q);
        let text = greet(name) + "\n";
        let response = OutgoingResponse::new(Fields::new());
        let body = response.body().unwrap();
        ResponseOutparam::set(out, Ok(response));
        let stream = body.write().unwrap();
        stream.blocking_write_and_flush(text.as_bytes()).unwrap();
        drop(stream);
        OutgoingBody::finish(body, None).unwrap();
    }
}

wasi::http::proxy::export!(Face with_types_in wasi);
