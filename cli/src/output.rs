//! Human and JSON output, colors, and how errors are shown.

use std::io::{IsTerminal, Write};

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

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
    pub fn new(json: bool, quiet: bool, verbose: u8, choice: ColorChoice) -> Output {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        };
        Output { json, quiet, verbose, color }
    }

    /// Whether diagnostics on stderr may use color.
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
        let message = format!("{err:#}");
        if self.json {
            self.json(&serde_json::json!({ "error": message }));
        }
        let label = if std::io::stderr().is_terminal() && self.color { "\x1b[31merror\x1b[0m" } else { "error" };
        let _ = writeln!(std::io::stderr().lock(), "{label}: {message}");
    }
}
