// {{name}}: a command morph. `morph build` (TinyGo -target=wasip2 when it is installed, the
// standard Go toolchain for GOOS=wasip1 otherwise), then `morph run`.
package main

import (
	"fmt"
	"os"
)

func main() {
	who := "world"
	if len(os.Args) > 1 {
		who = os.Args[1]
	}
	fmt.Printf("Hello, %s! This is {{name}}.\n", who)
}
