//! What Ctrl-C, SIGTERM and SIGHUP do to morph: remove every temp file and staging directory
//! a command has under way (see `morph_registry_client::atomic`), then exit 128 + the signal's
//! number, as a shell reports a process the signal ended. So no command leaves half a file,
//! however it is stopped (short of SIGKILL).
//!
//! A command that shuts down gracefully on its own (`serve` drains requests) takes SIGINT and
//! SIGTERM over with [`leave_to_command`]; temp files are still removed then.
//!
//! The watch starts with the first temp file (see [`install`]): a command that writes nothing,
//! such as a `run` from the cache, keeps the default actions and is ended by the signal itself,
//! as a shell expects of a program it stops, and does not pay for the watching thread (half a
//! millisecond of its start, measured with uprobes on a warm `run`).

use std::sync::atomic::{AtomicBool, Ordering};

static COMMAND_HANDLES: AtomicBool = AtomicBool::new(false);
static COMMAND_HANDLES_HANGUP: AtomicBool = AtomicBool::new(false);

/// Listens for the signals from the first temp file or staging directory on.
pub fn install() {
    morph_registry_client::atomic::on_first_pending(watch);
}

/// Listens for the signals on a thread of its own for the rest of the process; returns once
/// they are listened for (or cannot be).
fn watch() {
    let (listening, listened) = std::sync::mpsc::channel::<()>();
    let spawned = std::thread::Builder::new().name("morph-signals".into()).spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_io().build() else { return };
        rt.block_on(async {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut int), Ok(mut term), Ok(mut hup)) =
                (signal(SignalKind::interrupt()), signal(SignalKind::terminate()), signal(SignalKind::hangup()))
            else {
                return;
            };
            drop(listening);
            loop {
                let (name, number) = tokio::select! {
                    _ = int.recv() => ("SIGINT", 2),
                    _ = term.recv() => ("SIGTERM", 15),
                    _ = hup.recv() => ("SIGHUP", 1),
                };
                let handled = if number == 1 { &COMMAND_HANDLES_HANGUP } else { &COMMAND_HANDLES };
                if handled.load(Ordering::SeqCst) {
                    continue;
                }
                let removed = morph_registry_client::atomic::remove_pending();
                let what = if removed > 0 { "; unfinished files were removed, nothing was written" } else { "" };
                eprintln!("interrupted by {name}{what}");
                std::process::exit(128 + number);
            }
        });
    });
    match spawned {
        // Ends when the thread drops its sender: listening, or given up.
        Ok(_) => {
            let _ = listened.recv();
        }
        Err(e) => tracing::warn!("cannot watch for signals ({e}); a signal may leave temp files behind"),
    }
}

/// From now on SIGHUP is the command's to handle (`morph up` reloads its entries).
pub fn leave_hangup_to_command() {
    COMMAND_HANDLES_HANGUP.store(true, Ordering::SeqCst);
}

/// From now on SIGINT and SIGTERM are the command's to handle (it stops gracefully).
pub fn leave_to_command() {
    COMMAND_HANDLES.store(true, Ordering::SeqCst);
}
