//! The `kiln` command line: parse arguments, run the command, print errors with their causes.
//!
//! Exit codes, as ripgrep and diff(1) use them: 0 success, 1 differences or
//! problems found (`kiln diff`, `kiln check`), 2 an error. `kiln helm
//! template` fails with status 1 and Helm's `Error: ...`, as `helm template`.

mod cli;
mod commands;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Two TLS crypto providers are linked (kube: aws-lc-rs, ureq: ring);
    // without a process default, rustls panics at the first TLS handshake.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = cli::Cli::parse();
    let result = match &cli.command {
        cli::Command::Render(args) => commands::render::cmd_render(args).map(|()| false),
        cli::Command::Sync(args) => commands::sync::cmd_sync(args).map(|()| false),
        cli::Command::Check(args) => commands::check::cmd_check(args),
        cli::Command::Plan(args) => commands::plan::cmd_plan(args).map(|()| false),
        cli::Command::Diff(args) => commands::diff::cmd_diff(args),
        cli::Command::Tag(args) => commands::tag::cmd_tag(args).map(|()| false),
        cli::Command::Revert(args) => commands::revert::cmd_revert(args).map(|()| false),
        cli::Command::Quarantine(args) => {
            commands::quarantine::cmd_quarantine(args).map(|()| false)
        }
        // The verdict was printed; a failed deploy is exit status 1, not an error.
        cli::Command::Verify(args) => commands::verify::cmd_verify(args).map(|ok| !ok),
        // `kiln helm template` prints its errors as `helm template` does.
        cli::Command::Helm(args) => commands::helm::cmd_helm(args),
        cli::Command::Promote(args) => commands::promote::cmd_promote(args).map(|()| false),
        cli::Command::Watch(args) => commands::watch::cmd_watch(args).map(|()| false),
    };
    match result {
        Ok(false) => ExitCode::SUCCESS,
        Ok(true) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
