//! Command-line arguments.

use clap::{Parser, Subcommand};

/// kiln renders a GitOps config repository (Kustomize, Helm, Flux) into
/// plain Kubernetes YAML and commits it to a target branch.
#[derive(Debug, Parser)]
#[command(name = "kiln", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write image tags into a config repository branch (set, update, stage, pin).
    #[command(subcommand_required = true)]
    Promote(crate::commands::promote::PromoteArgs),
    /// Render a kustomization directory or a whole repository.
    Render(crate::commands::render::RenderArgs),
    /// Render a source branch into a directory of a target branch and commit it.
    Sync(crate::commands::sync::SyncArgs),
    /// Render Helm charts.
    Helm(crate::commands::helm::HelmArgs),
    /// Parse or make unique image tags.
    Tag(crate::commands::tag::TagArgs),
    /// Check a repository against its layout's rules.
    Check(crate::commands::check::CheckArgs),
    /// Show the layout, clusters, units, their order and sources.
    Plan(crate::commands::plan::PlanArgs),
    /// Show what a change does to the rendered output, object by object.
    Diff(crate::commands::diff::DiffArgs),
    /// Judge the deploy of a rendered commit; exit 0 on success, 1 otherwise.
    Verify(crate::commands::verify::VerifyArgs),
    /// Revert a release whose deploy failed.
    Revert(crate::commands::revert::RevertArgs),
    /// List quarantined tags or release one.
    Quarantine(crate::commands::quarantine::QuarantineArgs),
    /// Render source branches into a target branch continuously.
    Watch(Box<crate::commands::watch::WatchArgs>),
}
