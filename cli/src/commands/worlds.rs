//! `morph worlds`: the worlds bundled in the binary.

use std::process::ExitCode;

use anyhow::Result;
use morph_contract::WORLDS;
use serde::Serialize;

use crate::output::{Output, Style};

/// List the bundled worlds morphs are checked against.
#[derive(clap::Args)]
pub struct Args {}

#[derive(Serialize)]
struct WorldRow {
    name: &'static str,
    full_name: &'static str,
    summary: &'static str,
}

pub fn run(_args: Args, out: &Output) -> Result<ExitCode> {
    let rows: Vec<WorldRow> =
        WORLDS.iter().map(|w| WorldRow { name: w.short, full_name: w.full, summary: w.summary }).collect();
    if out.json {
        out.json(&rows);
        return Ok(ExitCode::SUCCESS);
    }
    let short_w = rows.iter().map(|r| r.name.len()).max().unwrap_or(0);
    let full_w = rows.iter().map(|r| r.full_name.len()).max().unwrap_or(0);
    for r in &rows {
        out.line(format!(
            "{}  {}  {}",
            out.paint(Style::Bold, &format!("{:short_w$}", r.name)),
            out.paint(Style::Dim, &format!("{:full_w$}", r.full_name)),
            r.summary
        ));
    }
    Ok(ExitCode::SUCCESS)
}
