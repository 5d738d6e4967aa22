"""{{name}}: an http morph. `morph build`, then `morph serve` listens on the address `Config`
gives and answers `GET /`."""

from componentize_py_types import Ok
from wit_world import exports
from wit_world.imports.hayride_http_types import ServerConfig
from wit_world.imports.wasi_http_types import (
    Fields,
    IncomingRequest,
    Method_Get,
    OutgoingBody,
    OutgoingResponse,
    ResponseOutparam,
)

# Where the host listens for this morph (a bare ":PORT" means 127.0.0.1).
ADDRESS = "http://127.0.0.1:8080"


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request: IncomingRequest, response_out: ResponseOutparam) -> None:
        path = (request.path_with_query() or "/").split("?")[0]
        if isinstance(request.method(), Method_Get) and path == "/":
            status, body = 200, b"Hello from {{name}}!\n"
        else:
            status, body = 404, b"Not found\n"
        response = OutgoingResponse(Fields())
        response.set_status_code(status)
        outgoing = response.body()
        ResponseOutparam.set(response_out, Ok(response))
        stream = outgoing.write()
        stream.blocking_write_and_flush(body)
        stream.__exit__(None, None, None)
        OutgoingBody.finish(outgoing, None)


class Config(exports.Config):
    def get(self) -> ServerConfig:
        return ServerConfig(
            address=ADDRESS, read_timeout=10_000, write_timeout=30_000, max_header_bytes=64 * 1024
        )
