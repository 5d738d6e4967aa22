"""{{name}}: a reactor. `morph build`, then
`morph call target/morph/{{name}}.wasm greet '"you"'`."""

import wit_world


class WitWorld(wit_world.WitWorld):
    def greet(self, name: str) -> str:
        return f"Hello, {name}!"
