//! `morph`: the toolchain and runtime for Hayride WebAssembly component morphs.
//!
//! This crate is the command-line frame only: parsing, output and exit codes. What a command
//! does lives in the library crates.

mod alloc;
mod commands;
mod exit;
mod logging;
mod output;
mod signals;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use output::{ColorChoice, Output};

#[global_allocator]
static ALLOCATOR: alloc::HugeBlocks = alloc::HugeBlocks;

#[derive(Parser)]
#[command(name = "morph", version, about = "Build, check, compose, run and ship Hayride WebAssembly component morphs")]
#[command(propagate_version = true, max_term_width = 100)]
struct Cli {
    /// Print one JSON document on stdout instead of human output.
    #[arg(long, global = true)]
    json: bool,
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true, conflicts_with = "quiet")]
    verbose: u8,
    /// Less output: errors only.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// When to color human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, value_name = "WHEN")]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    New(commands::new::Args),
    Build(commands::build::Args),
    Validate(commands::validate::Args),
    Run(commands::run::Args),
    Call(commands::call::Args),
    Ext(commands::ext::Args),
    Cast(commands::cast::Args),
    Daemon(commands::daemon::Args),
    Sessions(commands::sessions::Args),
    Serve(commands::serve::Args),
    Up(commands::up::Args),
    Compose(commands::compose::ComposeArgs),
    Plug(commands::compose::PlugArgs),
    /// Hayride's spellings: `wac compose --path F --out O`, `wac plug --socket S --plugs P…`.
    Wac(commands::compose::WacArgs),
    Inspect(commands::inspect::Args),
    Register(commands::registry::RegisterArgs),
    List(commands::registry::ListArgs),
    Remove(commands::registry::RemoveArgs),
    Push(commands::oci::PushArgs),
    Deploy(commands::deploy::Args),
    Pull(commands::oci::PullArgs),
    Login(commands::oci::LoginArgs),
    Logout(commands::oci::LogoutArgs),
    Key(commands::key::KeyArgs),
    Worlds(commands::worlds::Args),
    Cache(commands::cache::CacheArgs),
    Model(commands::model::ModelArgs),
    #[command(hide = true)]
    OptimizeInBackground(commands::optimize::Args),
    Completions(commands::completions::Args),
}

fn main() -> ExitCode {
    signals::install();
    let cli = Cli::parse();
    let ansi = cli.color == ColorChoice::Always
        || (cli.color == ColorChoice::Auto
            && std::io::IsTerminal::is_terminal(&std::io::stderr())
            && std::env::var_os("NO_COLOR").is_none());
    logging::init(cli.verbose, cli.quiet, cli.json, ansi);
    let out = Output::new(cli.json, cli.quiet, cli.verbose, cli.color);
    let result = match cli.command {
        Command::New(args) => commands::new::run(args, &out),
        Command::Build(args) => commands::build::run(args, &out),
        Command::Validate(args) => commands::validate::run(args, &out),
        Command::Run(args) => commands::run::run(args, &out),
        Command::Call(args) => commands::call::run(args, &out),
        Command::Ext(args) => commands::ext::run(args, &out),
        Command::Cast(args) => commands::cast::run(args, &out),
        Command::Daemon(args) => commands::daemon::run(args, &out),
        Command::Deploy(args) => commands::deploy::run(args, &out),
        Command::Sessions(args) => commands::sessions::run(args, &out),
        Command::Serve(args) => commands::serve::run(args, &out),
        Command::Up(args) => commands::up::run(args, &out),
        Command::Compose(args) => commands::compose::compose(args, &out),
        Command::Plug(args) => commands::compose::plug(args, &out),
        Command::Wac(args) => commands::compose::wac(args, &out),
        Command::Inspect(args) => commands::inspect::run(args, &out),
        Command::Register(args) => commands::registry::register(args, &out),
        Command::List(args) => commands::registry::list(args, &out),
        Command::Remove(args) => commands::registry::remove(args, &out),
        Command::Push(args) => commands::oci::push(args, &out),
        Command::Pull(args) => commands::oci::pull(args, &out),
        Command::Login(args) => commands::oci::login(args, &out),
        Command::Key(args) => commands::key::key(args, &out),
        Command::Logout(args) => commands::oci::logout(args, &out),
        Command::Worlds(args) => commands::worlds::run(args, &out),
        Command::Cache(args) => commands::cache::run(args, &out),
        Command::Model(args) => commands::model::run(args, &out),
        Command::OptimizeInBackground(args) => commands::optimize::run(args),
        Command::Completions(args) => commands::completions::run(args, <Cli as clap::CommandFactory>::command()),
    };
    // Compiled code a command ran while its cache entry was being written is kept.
    morph_runtime::finish_cache_writes();
    match result {
        Ok(code) => code,
        Err(err) => {
            out.error(&err);
            ExitCode::from(exit::INPUT)
        }
    }
}
