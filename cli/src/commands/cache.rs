//! `morph cache list|prune|clean`: what morph keeps under `$MORPH_HOME/cache`, and trimming it.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use morph_registry_client::cache::{self, Entry, Kind, Retention};

use super::registry::home;
use crate::output::{human_size, Output, Style};

/// See and trim the caches: compiled code, pulled layers, validated markers.
#[derive(clap::Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    command: CacheCommand,
}

#[derive(clap::Subcommand)]
enum CacheCommand {
    /// What the cache holds, by kind (every entry with -v or --json).
    List,
    /// Remove what nothing needs: entries unused for --older-than (compiled code of registered
    /// morphs excepted), layers no kept reference names, abandoned temp files.
    Prune {
        /// Keep what was used within this long (e.g. 7d, 12h).
        #[arg(long, value_name = "AGE", default_value = "30d", value_parser = parse_age)]
        older_than: Duration,
        /// Say what would go, remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Remove the whole cache (the local registry and config are kept).
    Clean,
}

fn parse_age(s: &str) -> Result<Duration, String> {
    morph_runtime::parse_duration(s)
}

pub fn run(args: CacheArgs, out: &Output) -> Result<ExitCode> {
    let home = home()?;
    match args.command {
        CacheCommand::List => {
            let entries = cache::list(&home)?;
            if out.json {
                out.json(&serde_json::json!({ "dir": cache::cache_dir(&home), "entries": entries }));
            } else if !out.quiet {
                print_summary(out, &entries, "");
                if out.verbose > 0 {
                    for e in &entries {
                        out.line(format!("{:>9}  {:>6}  {}", human_size(e.size), age(e.age_secs), e.path.display()));
                    }
                }
            }
        }
        CacheCommand::Prune { older_than, dry_run } => {
            let registered = morph_registry_client::list(&home)?.into_iter().map(|m| m.digest).collect();
            let retention = Retention { max_age: older_than.max(Duration::from_secs(1)), registered };
            let gone = cache::prunable(&home, &retention)?;
            let freed = if dry_run { gone.iter().map(|e| e.size).sum() } else { cache::remove(&gone)? };
            report_removal(out, &gone, freed, dry_run);
        }
        CacheCommand::Clean => {
            let all = cache::list(&home)?;
            let freed = cache::remove(&all)?;
            // The empty directories go too; what another morph writes meanwhile stays.
            let _ = remove_empty_dirs(&cache::cache_dir(&home));
            report_removal(out, &all, freed, false);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn report_removal(out: &Output, gone: &[Entry], freed: u64, dry_run: bool) {
    if out.json {
        out.json(&serde_json::json!({ "removed": gone, "freed": freed, "dry_run": dry_run }));
    } else if !out.quiet {
        let verb = if dry_run { "would remove" } else { "removed" };
        out.line(format!("{verb} {} entries, {}", gone.len(), out.paint(Style::Bold, &human_size(freed))));
        print_summary(out, gone, "  ");
    }
}

fn print_summary(out: &Output, entries: &[Entry], indent: &str) {
    let mut by_kind: BTreeMap<Kind, (usize, u64)> = BTreeMap::new();
    for e in entries {
        let s = by_kind.entry(e.kind).or_default();
        s.0 += 1;
        s.1 += e.size;
    }
    if by_kind.is_empty() && indent.is_empty() {
        out.line("the cache is empty");
    }
    for (kind, (count, bytes)) in by_kind {
        out.line(format!("{indent}{:<18} {count:>6} entries  {:>9}", kind.label(), human_size(bytes)));
    }
}

fn age(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

fn remove_empty_dirs(dir: &std::path::Path) -> std::io::Result<()> {
    for item in std::fs::read_dir(dir)? {
        let path = item?.path();
        if path.is_dir() {
            remove_empty_dirs(&path)?;
            let _ = std::fs::remove_dir(&path);
        }
    }
    Ok(())
}
