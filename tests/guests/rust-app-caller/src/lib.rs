//! Calls other entries of the app through `morph:app/funcs`. As a function entry: `relay`
//! passes a call on as it is given; `again` calls the entry named `again` (itself), a cycle the
//! host must end. As an http entry: `GET <route>/<name>?<json>` calls function entry `<name>`
//! with the (percent-decoded) JSON array in the query and answers with its result (200) or its
//! error (502).

wit_bindgen::generate!({
    inline: "
        package test:caller;
        world caller {
            import morph:app/funcs@0.1.0;
            export relay: func(name: string, args: string) -> result<string, string>;
            export again: func() -> result<string, string>;
        }
    ",
    path: "../../../wit/morph-app.wit",
    world: "test:caller/caller",
    generate_all,
});

use morph::app::funcs::call;
use wasi::http::types::{Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam};

struct Caller;

impl Guest for Caller {
    fn relay(name: String, args: String) -> Result<String, String> {
        call(&name, &args)
    }

    fn again() -> Result<String, String> {
        call("again", "[]")
    }
}

export!(Caller);

impl wasi::exports::http::incoming_handler::Guest for Caller {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let target = request.path_with_query().unwrap_or_default();
        let (path, query) = target.split_once('?').unwrap_or((&target, "[]"));
        let name = path.rsplit('/').next().unwrap_or_default();
        let (status, text) = match call(name, &percent_decoded(query)) {
            Ok(json) => (200, json),
            Err(why) => (502, why),
        };
        respond(out, status, &(text + "\n"));
    }
}

fn percent_decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn respond(out: ResponseOutparam, status: u16, body: &str) {
    let response = OutgoingResponse::new(Fields::new());
    response.set_status_code(status).unwrap();
    let outgoing = response.body().unwrap();
    ResponseOutparam::set(out, Ok(response));
    let stream = outgoing.write().unwrap();
    stream.blocking_write_and_flush(body.as_bytes()).unwrap();
    drop(stream);
    OutgoingBody::finish(outgoing, None).unwrap();
}

wasi::http::proxy::export!(Caller with_types_in wasi);
