//! End-to-end tests live in tests/*.rs; this crate holds what the harness makes for them that
//! is more than a file: the random-weight GGUF models of the AI tests and benchmark.

pub mod gguf;
