//! Rendering wac's diagnostics (and morph's own) against the WAC source.

use std::path::Path;

use miette::{GraphicalReportHandler, GraphicalTheme, NamedSource, Report};

/// The report as text: the message, the source line with a label under the span, the file name
/// with line and column, and any help.
pub fn render(report: Report, path: &Path, source: &str, color: bool) -> String {
    let report = report.with_source_code(NamedSource::new(path.display().to_string(), source.to_string()));
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let mut text = String::new();
    // Rendering into a String only fails if formatting does, which it does not here; the plain
    // message is the fallback all the same.
    if GraphicalReportHandler::new_themed(theme)
        .with_cause_chain()
        .with_width(100)
        .render_report(&mut text, report.as_ref())
        .is_err()
    {
        text = format!("{report:?}");
    }
    text.trim_end().to_string()
}
