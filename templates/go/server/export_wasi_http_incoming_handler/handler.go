// Package export_wasi_http_incoming_handler is {{name}}: an http morph. `morph build` (which
// writes the Go bindings from wit/), then `morph serve` listens on the address config.go gives
// and answers `GET /`.
package export_wasi_http_incoming_handler

import (
	"strings"

	witTypes "{{name}}/internal/wit/types"
	"{{name}}/internal/wit/wasi_http_types"
)

// Handle answers `GET /` with a greeting and anything else with 404.
func Handle(request *wasi_http_types.IncomingRequest, responseOut *wasi_http_types.ResponseOutparam) {
	path, _, _ := strings.Cut(request.PathWithQuery().SomeOr("/"), "?")
	status, body := uint16(404), "Not found\n"
	if request.Method().Tag() == wasi_http_types.MethodGet && path == "/" {
		status, body = 200, "Hello from {{name}}!\n"
	}
	request.Drop()

	response := wasi_http_types.MakeOutgoingResponse(wasi_http_types.MakeFields())
	response.SetStatusCode(status)
	outgoing := response.Body().Ok()
	wasi_http_types.ResponseOutparamSet(responseOut, witTypes.Ok[*wasi_http_types.OutgoingResponse, wasi_http_types.ErrorCode](response))
	stream := outgoing.Write().Ok()
	stream.BlockingWriteAndFlush([]byte(body))
	stream.Drop()
	wasi_http_types.OutgoingBodyFinish(outgoing, witTypes.None[*wasi_http_types.Fields]())
}
