//go:build tinygo

package runtime

import "unsafe"

// TinyGo builds the component itself (-target=wasip2): there is no preview1 adapter asking for
// memory before the packages are initialized.
func sbrk(n uintptr) unsafe.Pointer {
	panic("wit: cabi_realloc called before the runtime was initialized")
}
