// Package export_wit_world is {{name}}: a reactor, the functions its world exports.
// `morph build` (which writes the Go bindings from wit/), then
// `morph call target/morph/{{name}}.wasm greet '"you"'`.
package export_wit_world

// Greet is the world's `greet` export.
func Greet(name string) string {
	return "Hello, " + name + "!"
}
