// {{name}}: a reactor. `morph build` (jco componentize), then
// `morph call target/morph/{{name}}.wasm greet '"you"'`.

export function greet(name) {
  return `Hello, ${name}!`;
}
