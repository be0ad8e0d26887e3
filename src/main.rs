//! The `kiln` command line: parse arguments, run the command, print errors with their causes.

mod cli;
mod commands;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let result = match &cli.command {
        cli::Command::Render(args) => commands::render::cmd_render(args),
        cli::Command::Sync(args) => commands::sync::cmd_sync(args),
        cli::Command::Tag(args) => commands::tag::cmd_tag(args),
        cli::Command::Revert(args) => commands::revert::cmd_revert(args),
        cli::Command::Quarantine(args) => commands::quarantine::cmd_quarantine(args),
        cli::Command::Verify(args) => match commands::verify::cmd_verify(args) {
            Ok(true) => Ok(()),
            // The verdict was printed; a failed deploy is exit status 1, not an error.
            Ok(false) => return std::process::ExitCode::FAILURE,
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
