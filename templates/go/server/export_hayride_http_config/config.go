// Package export_hayride_http_config tells the host where to listen for this morph.
package export_hayride_http_config

import (
	"runtime"

	"{{name}}/internal/wit/hayride_http_types"
	witTypes "{{name}}/internal/wit/types"
)

// Address is where the host listens (a bare ":PORT" means 127.0.0.1).
const Address = "http://127.0.0.1:8080"

// Get is the server configuration.
func Get() witTypes.Result[hayride_http_types.ServerConfig, *Error] {
	return witTypes.Ok[hayride_http_types.ServerConfig, *Error](hayride_http_types.ServerConfig{
		Address:        Address,
		ReadTimeout:    10_000,
		WriteTimeout:   30_000,
		MaxHeaderBytes: 64 * 1024,
	})
}

// Error is the error resource of hayride:http/config; Get never returns one.
type Error struct {
	pinner runtime.Pinner
	handle int32
	code   hayride_http_types.ErrorCode
	data   string
}

func (e *Error) OnDrop()                             {}
func (e *Error) Code() hayride_http_types.ErrorCode { return e.code }
func (e *Error) Data() string                        { return e.data }
