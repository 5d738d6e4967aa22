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
// may hold their address until the pinner is released. The generated code calls it before an
// import whose results the host writes to memory: a point where allocating is safe, so it also
// makes room for the `cabi_realloc` calls that import may make.
func Allocate(pinner *runtime.Pinner, size, align uintptr) unsafe.Pointer {
	prepareRealloc()
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
// clock through an import; that call would trap. A request larger than what is left of the
// chunk still goes to the heap.
//
// Nothing here outlives the next safe point (Allocate, Unpin): by then the generated code has
// lifted what the host wrote into Go values, and those values point into the chunk (or the
// heap block), which keeps it alive as long as they are; the rest is garbage.
const chunkSize = 64 << 10

var (
	chunk     []uint64
	chunkUsed uintptr
	// Heap blocks handed to the host since the last safe point.
	pending []unsafe.Pointer
	// ready turns true when this package's init runs: the Go heap can be used from then on.
	ready bool
)

func init() {
	pending = make([]unsafe.Pointer, 0, 16)
	prepareRealloc()
	ready = true
}

// prepareRealloc is the housekeeping of a safe point: it forgets the heap blocks the host was
// given and starts a new chunk when less than half of this one is left.
func prepareRealloc() {
	clear(pending)
	pending = pending[:0]
	if chunk == nil || chunkUsed > chunkSize/2 {
		chunk = make([]uint64, chunkSize/8)
		chunkUsed = 0
	}
}

// Unpin is called by the generated exports once their arguments are lifted: a safe point.
func Unpin() {
	prepareRealloc()
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
	switch {
	case !ready:
		raw := uintptr(sbrk(newSize + align))
		pointer = unsafe.Pointer((raw + align - 1) &^ (align - 1))
	case align <= 8 && start+newSize <= chunkSize:
		pointer = unsafe.Add(unsafe.Pointer(unsafe.SliceData(chunk)), start)
		chunkUsed = start + newSize
	default:
		pointer = allocate(newSize, align)
		// Appending within capacity does not allocate; past it, it is one more allocation of
		// the kind above.
		pending = append(pending, pointer)
	}
	if oldPointer != nil && oldSize != 0 {
		copy(unsafe.Slice((*byte)(pointer), newSize), unsafe.Slice((*byte)(oldPointer), min(oldSize, newSize)))
	}
	return pointer
}
