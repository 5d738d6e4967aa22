//! What checks find, in a form both the human and the JSON output render.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Decides the verdict.
    Error,
    /// Worth knowing; does not fail the check.
    Note,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    MissingExport,
    ExtraImport,
    TypeMismatch,
    NotProvided,
    NewerVersion,
    MixedContracts,
}

impl FindingKind {
    pub fn label(self) -> &'static str {
        match self {
            FindingKind::MissingExport => "missing export",
            FindingKind::ExtraImport => "extra import",
            FindingKind::TypeMismatch => "type mismatch",
            FindingKind::NotProvided => "not provided",
            FindingKind::NewerVersion => "newer version",
            FindingKind::MixedContracts => "mixed contracts",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub kind: FindingKind,
    /// The import or export (`ns:pkg/iface@ver`, with `#func` for one function).
    pub name: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
}

impl Finding {
    pub fn new(severity: Severity, kind: FindingKind, name: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding { severity, kind, name: name.into(), message: message.into(), expected: None, actual: None }
    }

    pub fn types(mut self, expected: String, actual: String) -> Finding {
        self.expected = Some(expected);
        self.actual = Some(actual);
        self
    }
}

pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}
