//! Exit codes, chosen here and nowhere else: 0 success; 1 the check or the morph failed (a
//! component that does not validate, a guest that trapped or hit a limit, a toolchain that
//! failed); 2 a usage or input error; for `run`, the guest's own exit code.

use morph_project::BuildError;
use morph_runtime::RuntimeError;

/// What a runtime error means for the process.
pub fn of_runtime(e: &RuntimeError) -> i32 {
    match e {
        RuntimeError::Trap(_)
        | RuntimeError::Limit(_)
        | RuntimeError::PluginFailed { .. }
        | RuntimeError::BadEnvelope { .. } => 1,
        RuntimeError::Exit(code) => *code,
        RuntimeError::Step { source, .. } => of_runtime(source),
        _ => 2,
    }
}

/// What a build error means for the process: a toolchain that ran and failed is a failed
/// check; anything else is input.
pub fn of_build(e: &BuildError) -> u8 {
    match e {
        BuildError::Compile(_) | BuildError::DoesNotConform { .. } => 1,
        _ => 2,
    }
}

/// An exit status from a guest's code: one byte on Unix; WASI's codes are 0..=255 in practice.
pub fn status(code: i32) -> std::process::ExitCode {
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Any error that reaches `main` is a usage or input error.
pub const INPUT: u8 = 2;

/// A check that ran and failed: a component that does not validate, a composition that does
/// not fit its target world.
pub const CHECK_FAILED: u8 = 1;
