// Package runtime is the support code morph writes beside the Go bindings it generates: handles
// for resources, allocation for the canonical ABI, and `cabi_realloc`. It is written for the
// standard Go toolchain (GOOS=wasip1, -buildmode=c-shared) and the WASI preview1 adapter of
// wasmtime 48 that `morph build` wraps the module with.
package runtime

import (
	"runtime"
	"unsafe"
)

// Handle is a resource handle the component owns or borrows; zero means "none".
type Handle struct {
	value int32
}

// Use is the handle's value for a call that borrows it.
func (h *Handle) Use() int32 {
	if h.value == 0 {
		panic("wit: use of a resource handle that was dropped or moved")
	}
	return h.value
}

// Take moves the handle's value out (the call consumes the resource).
func (h *Handle) Take() int32 {
	value := h.Use()
	h.value = 0
	return value
}

// TakeOrNil moves the value out, zero when there is none.
func (h *Handle) TakeOrNil() int32 {
	value := h.value
	h.value = 0
	return value
}

// Set gives an empty handle its value.
func (h *Handle) Set(value int32) {
	if value == 0 {
		panic("wit: a resource handle cannot be zero")
	}
	if h.value != 0 {
		panic("wit: the resource handle is already set")
	}
	h.value = value
}

// MakeHandle wraps a handle the host gave.
func MakeHandle(value int32) *Handle {
	h := &Handle{}
	h.Set(value)
	return h
}

// Allocate returns size bytes aligned to align from the Go heap, pinned by pinner so the host
// may hold their address until the pinner is released.
func Allocate(pinner *runtime.Pinner, size, align uintptr) unsafe.Pointer {
	if size == 0 {
		return nil
	}
	pointer := allocate(size, align)
	pinner.Pin(pointer)
	return pointer
}

// allocate uses a slice of the element type of the alignment, so the garbage collector
// keeps the alignment.
func allocate(size, align uintptr) unsafe.Pointer {
	switch {
	case align <= 1:
		return unsafe.Pointer(unsafe.SliceData(make([]uint8, size)))
	case align == 2:
		return unsafe.Pointer(unsafe.SliceData(make([]uint16, (size+1)/2)))
	case align == 4:
		return unsafe.Pointer(unsafe.SliceData(make([]uint32, (size+3)/4)))
	default:
		return unsafe.Pointer(unsafe.SliceData(make([]uint64, (size+7)/8)))
	}
}

// What `cabi_realloc` hands out is carved from a chunk allocated beforehand, outside of any
// `cabi_realloc` call. The reason: the host calls `cabi_realloc` while the component may not
// call out, and an allocation on the Go heap can start a garbage collection, which reads the
// clock through an import; that call would trap. A request larger than the chunk still goes to
// the heap. Interior pointers keep a chunk alive as long as anything the host wrote in it is
// referenced.
const chunkSize = 64 << 10

var (
	chunk     []uint64
	chunkUsed uintptr
	pinner    runtime.Pinner
	// ready turns true when this package's init runs: the Go heap can be used from then on.
	ready bool
)

func init() {
	refill()
	ready = true
}

func refill() {
	chunk = make([]uint64, chunkSize/8)
	chunkUsed = 0
	pinner.Pin(unsafe.SliceData(chunk))
}

// Unpin releases what the host was given since the last call and, at this point where
// allocating is safe, makes sure the next `cabi_realloc` calls find room.
func Unpin() {
	pinner.Unpin()
	if chunkUsed > chunkSize/2 {
		refill()
	} else {
		pinner.Pin(unsafe.SliceData(chunk))
	}
}

//go:wasmexport cabi_realloc
func cabiRealloc(oldPointer unsafe.Pointer, oldSize, align, newSize uintptr) unsafe.Pointer {
	if newSize == 0 {
		return unsafe.Pointer(align)
	}
	if align == 0 {
		align = 1
	}
	var pointer unsafe.Pointer
	start := (chunkUsed + align - 1) &^ (align - 1)
	if !ready {
		raw := uintptr(sbrk(newSize + align))
		pointer = unsafe.Pointer((raw + align - 1) &^ (align - 1))
	} else if align <= 8 && start+newSize <= chunkSize {
		pointer = unsafe.Add(unsafe.Pointer(unsafe.SliceData(chunk)), start)
		chunkUsed = start + newSize
	} else {
		pointer = Allocate(&pinner, newSize, align)
	}
	if oldPointer != nil && oldSize != 0 {
		copy(unsafe.Slice((*byte)(pointer), newSize), unsafe.Slice((*byte)(oldPointer), min(oldSize, newSize)))
	}
	return pointer
}
