// Package types holds the generic shapes the generated Go bindings use for WIT's option,
// result, tuple and the unit type. Written by morph beside the bindings it generates.
package types

// Tags of an Option.
const (
	OptionNone = 0
	OptionSome = 1
)

// Option is WIT's option<T>.
type Option[T any] struct {
	tag  uint8
	some T
}

// Tag is OptionNone or OptionSome.
func (o Option[T]) Tag() uint8 { return o.tag }

// Some is the value; it panics on none.
func (o Option[T]) Some() T {
	if o.tag != OptionSome {
		panic("wit: Some() of an option that is none")
	}
	return o.some
}

// SomeOr is the value, or fallback on none.
func (o Option[T]) SomeOr(fallback T) T {
	if o.tag != OptionSome {
		return fallback
	}
	return o.some
}

func (o Option[T]) IsSome() bool { return o.tag == OptionSome }
func (o Option[T]) IsNone() bool { return o.tag == OptionNone }

func None[T any]() Option[T]        { return Option[T]{tag: OptionNone} }
func Some[T any](value T) Option[T] { return Option[T]{tag: OptionSome, some: value} }

// Tags of a Result.
const (
	ResultOk  = 0
	ResultErr = 1
)

// Result is WIT's result<T, U>.
type Result[T any, U any] struct {
	tag uint8
	ok  T
	err U
}

// Tag is ResultOk or ResultErr.
func (r Result[T, U]) Tag() uint8 { return r.tag }

// Ok is the success value; it panics on an error.
func (r Result[T, U]) Ok() T {
	if r.tag != ResultOk {
		panic("wit: Ok() of a result that is an error")
	}
	return r.ok
}

// Err is the error value; it panics on success.
func (r Result[T, U]) Err() U {
	if r.tag != ResultErr {
		panic("wit: Err() of a result that is ok")
	}
	return r.err
}

func (r Result[T, U]) IsOk() bool  { return r.tag == ResultOk }
func (r Result[T, U]) IsErr() bool { return r.tag == ResultErr }

func Ok[T any, U any](value T) Result[T, U]  { return Result[T, U]{tag: ResultOk, ok: value} }
func Err[T any, U any](value U) Result[T, U] { return Result[T, U]{tag: ResultErr, err: value} }

// Unit is the empty value of result<_, E> and result<T>.
type Unit struct{}
