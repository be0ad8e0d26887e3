//! The `kiln` command line: parse arguments, run the command, print errors with their causes.

mod cli;
mod commands;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let result = match &cli.command {
        cli::Command::Render(args) => commands::render::cmd_render(args),
        cli::Command::Sync(args) => commands::sync::cmd_sync(args),
        cli::Command::Watch(args) => commands::watch::cmd_watch(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
