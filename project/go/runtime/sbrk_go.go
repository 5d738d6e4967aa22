//go:build !tinygo

package runtime

import "unsafe"

// Before the Go runtime has initialized the packages, the WASI preview1 adapter asks
// `cabi_realloc` for its own state (the runtime's first clock or random call goes through it).
// The Go heap cannot serve that yet, and memory.grow behind the runtime's back would be handed
// out again by it; sbrk is the runtime's own source of pages, so what it returns is never
// reused. (`morph build` links with -checklinkname=0 for this reference.)
//
//go:linkname sbrk runtime.sbrk
func sbrk(n uintptr) unsafe.Pointer
