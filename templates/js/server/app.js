// {{name}}: an http morph. `morph build` (jco componentize), then `morph serve` listens on the
// address `config.get` gives and answers `GET /`.

import { Fields, OutgoingBody, OutgoingResponse, ResponseOutparam } from "wasi:http/types@0.2.0";

// Where the host listens for this morph (a bare ":PORT" means 127.0.0.1).
const ADDRESS = "http://127.0.0.1:8080";

export const incomingHandler = {
  handle(request, responseOut) {
    const path = (request.pathWithQuery() ?? "/").split("?")[0];
    const found = request.method().tag === "get" && path === "/";
    const response = new OutgoingResponse(new Fields());
    response.setStatusCode(found ? 200 : 404);
    const body = response.body();
    ResponseOutparam.set(responseOut, { tag: "ok", val: response });
    const stream = body.write();
    stream.blockingWriteAndFlush(new TextEncoder().encode(found ? "Hello from {{name}}!\n" : "Not found\n"));
    stream[Symbol.dispose]();
    OutgoingBody.finish(body, undefined);
  },
};

// The error resource hayride:http/config declares; `get` never fails here, so none is made.
class ConfigError {
  code() {
    return "unknown";
  }
  data() {
    return "";
  }
}

export const config = {
  Error: ConfigError,
  get() {
    return { address: ADDRESS, readTimeout: 10000, writeTimeout: 30000, maxHeaderBytes: 64 * 1024 };
  },
};
