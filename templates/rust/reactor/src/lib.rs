//! {{name}}: a reactor. `morph build`, then `morph call target/morph/{{name}}.wasm greet '"you"'`.

wit_bindgen::generate!({ path: "wit", world: "{{name}}" });

struct Reactor;

impl Guest for Reactor {
    fn greet(name: String) -> String {
        format!("Hello, {name}!")
    }
}

export!(Reactor);
