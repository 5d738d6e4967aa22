//! `morph worlds`: the worlds bundled in the binary.

use std::process::ExitCode;

use anyhow::Result;
use morph_contract::Contract;
use serde::Serialize;

use crate::output::{Output, Style};

/// List the bundled worlds morphs are checked against, for each Hayride contract version: the
/// newest by short name (hayride-cli), older ones with their version (hayride-cli@0.0.60).
#[derive(clap::Args)]
pub struct Args {}

#[derive(Serialize)]
struct WorldRow {
    name: String,
    full_name: &'static str,
    /// The Hayride contract version of a Hayride world; none for the WASI and Morphir worlds
    /// every contract shares.
    contract: Option<&'static str>,
    summary: &'static str,
}

pub fn run(_args: Args, out: &Output) -> Result<ExitCode> {
    let mut rows = Vec::new();
    for contract in Contract::all().iter().rev() {
        for (w, _) in contract.worlds() {
            let hayride = w.full.starts_with("hayride:");
            if contract.is_newest() {
                let version = hayride.then_some(contract.version);
                rows.push(WorldRow {
                    name: w.short.to_string(),
                    full_name: w.full,
                    contract: version,
                    summary: w.summary,
                });
            } else if hayride {
                let name = format!("{}@{}", w.short, contract.version);
                rows.push(WorldRow { name, full_name: w.full, contract: Some(contract.version), summary: w.summary });
            }
        }
    }
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
