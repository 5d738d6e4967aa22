"""{{name}}: a command morph. `morph build`, then `morph run`."""

import sys

from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        who = sys.argv[1] if len(sys.argv) > 1 else "world"
        print(f"Hello, {who}! This is {{name}}.")
