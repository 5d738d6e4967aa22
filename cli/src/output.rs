//! Human and JSON output, colors, and how errors are shown.

use std::io::{IsTerminal, Write};

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Clone)]
pub struct Output {
    pub json: bool,
    pub quiet: bool,
    /// How many `-v`.
    pub verbose: u8,
    color: bool,
}

/// A style for a piece of human output.
#[derive(Clone, Copy)]
pub enum Style {
    Good,
    Bad,
    Note,
    Dim,
    Bold,
}

/// How long a compile runs before its spinner shows.
const SPINNER_DELAY: std::time::Duration = std::time::Duration::from_millis(500);

/// A spinner that clears itself when dropped.
struct Spinner(indicatif::ProgressBar);

impl Drop for Spinner {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// `18.3 MiB`: a size for a person to read.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

impl Output {
    /// The same output with only errors shown: a step of a larger command (the build of
    /// `--build`) whose report would mix with the command's own stdout.
    pub fn errors_only(&self) -> Output {
        Output { json: false, quiet: true, ..self.clone() }
    }

    pub fn new(json: bool, quiet: bool, verbose: u8, choice: ColorChoice) -> Output {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        };
        Output { json, quiet, verbose, color }
    }

    /// Whether diagnostics on stderr may use color.
    /// A spinner on stderr when it is a terminal and output is for a person (not `--json`,
    /// not `-q`).
    pub fn spinner(&self, message: &str) -> Option<indicatif::ProgressBar> {
        if self.json || self.quiet || !std::io::stderr().is_terminal() {
            return None;
        }
        let p = indicatif::ProgressBar::new_spinner();
        p.set_message(message.to_string());
        p.enable_steady_tick(std::time::Duration::from_millis(100));
        Some(p)
    }

    /// The runtime's compile notice: a spinner with the elapsed time while a morph compiles for
    /// longer than half a second (`compiling app (18.3 MiB) … 00:00:03`), cleared when it is
    /// done; none when
    /// [`Output::spinner`] would show none.
    pub fn compile_notice(&self) -> Option<morph_runtime::CompileNotice> {
        if self.json || self.quiet || !std::io::stderr().is_terminal() {
            return None;
        }
        Some(std::sync::Arc::new(|name: &str, size: usize| {
            // Hidden at first: a compile done within half a second shows nothing at all.
            let p = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::hidden());
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
                p.set_style(style);
            }
            p.set_message(format!("compiling {name} ({})", human_size(size as u64)));
            p.enable_steady_tick(std::time::Duration::from_millis(100));
            let shown = p.clone();
            std::thread::spawn(move || {
                std::thread::sleep(SPINNER_DELAY);
                if !shown.is_finished() {
                    shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                }
            });
            Box::new(Spinner(p)) as Box<dyn std::any::Any>
        }))
    }

    /// A byte bar for a download (`pulling x [=====>   ] 6.1 MiB/18.3 MiB`), drawn from the
    /// moment bytes start to come (a pull from the cache shows nothing); none when
    /// [`Output::spinner`] would show none.
    pub fn download_bar(&self, message: &str) -> DownloadBar {
        let shown = !(self.json || self.quiet || !std::io::stderr().is_terminal());
        DownloadBar { bar: shown.then(indicatif::ProgressBar::hidden), message: message.to_string() }
    }

    pub fn stderr_color(&self) -> bool {
        self.color && std::io::stderr().is_terminal()
    }

    pub fn paint(&self, style: Style, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match style {
            Style::Good => "32",
            Style::Bad => "31",
            Style::Note => "33",
            Style::Dim => "2",
            Style::Bold => "1",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    /// The single JSON document of a `--json` run.
    pub fn json<T: Serialize>(&self, value: &T) {
        let mut stdout = std::io::stdout().lock();
        let _ = serde_json::to_writer_pretty(&mut stdout, value);
        let _ = writeln!(stdout);
    }

    /// A line of the human result (stdout).
    pub fn line(&self, text: impl AsRef<str>) {
        let _ = writeln!(std::io::stdout().lock(), "{}", text.as_ref());
    }

    /// An error that stops the command. With `--json` it is also the JSON document on stdout,
    /// so a script reading stdout always gets one document.
    pub fn error(&self, err: &anyhow::Error) {
        let message = chain_text(err);
        if self.json {
            self.json(&serde_json::json!({ "error": message }));
        }
        let label = if std::io::stderr().is_terminal() && self.color { "\x1b[31merror\x1b[0m" } else { "error" };
        let _ = writeln!(std::io::stderr().lock(), "{label}: {message}");
    }
}

/// An error and its causes, `: `-joined; a cause whose text the message already ends with (an
/// error that shows its cause, as a failed step does) is not said twice.
fn chain_text(err: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if message.ends_with(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

/// See [`Output::download_bar`].
pub struct DownloadBar {
    bar: Option<indicatif::ProgressBar>,
    message: String,
}

impl DownloadBar {
    /// Follows a download's progress events.
    pub fn on(&self, event: morph_registry_client::oci::ProgressEvent) {
        use morph_registry_client::oci::ProgressEvent;
        let Some(b) = &self.bar else { return };
        match event {
            ProgressEvent::Start(total) => {
                b.set_length(total);
                if let Ok(style) =
                    indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
                {
                    b.set_style(style.progress_chars("=> "));
                }
                b.set_message(self.message.clone());
                b.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
            ProgressEvent::Bytes(n) => b.inc(n),
            ProgressEvent::Done => b.finish_and_clear(),
        }
    }

    /// Clears the bar (also after a failed download).
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
