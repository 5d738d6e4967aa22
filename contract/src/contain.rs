//! Runs a decoder over bytes a stranger made, turning a panic inside it into an error: a bug
//! in wit-parser on an odd component must cost that input, not morph.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// Set while this thread runs contained code: its panics are reported as errors, not
    /// printed as crashes.
    static CONTAINING: Cell<bool> = const { Cell::new(false) };
}

/// `f()`, or the panic's message when it panicked.
pub fn contained<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static QUIET_HOOK: Once = Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CONTAINING.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let was = CONTAINING.with(|c| c.replace(true));
    let outcome = catch_unwind(AssertUnwindSafe(f));
    CONTAINING.with(|c| c.set(was));
    outcome.map_err(|panic| {
        let text = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        format!("internal decoder error: {text}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(contained(|| 7).unwrap(), 7);
        let e = contained(|| -> u8 { panic!("bad input at {}", 3) }).unwrap_err();
        assert!(e.contains("bad input at 3"), "{e}");
    }
}
