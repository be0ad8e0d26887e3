//! `kiln plan`: what kiln finds in a repository, before anything is written.

use anyhow::{Context, Result};
use renderer::{DirTree, Rendered};
use std::path::PathBuf;

/// Print the layout of a repository, its clusters (or environments), their
/// units in apply order with the source each renders, what it depends on,
/// the object counts, and what was left out.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The repository root; default: the current directory.
    pub repo: Option<PathBuf>,
    #[command(flatten)]
    pub scope: super::RenderScope,
    /// `text` or `json`.
    #[arg(long, default_value = "text")]
    pub output: String,
}

/// The text form of a plan.
pub fn text(r: &Rendered) -> String {
    let mut out = format!("layout: {}\n", r.layout);
    for c in &r.clusters {
        out.push_str(&format!("cluster {}: {} units\n", c.name, c.units.len()));
        for (i, u) in c.units.iter().enumerate() {
            out.push_str(&format!(
                "  {}. {}: {} ({} objects)\n",
                i + 1,
                u.name,
                u.path,
                u.objects.len()
            ));
            if u.source_file != u.path {
                out.push_str(&format!("     defined in {}\n", u.source_file));
            }
            if !u.depends_on.is_empty() {
                out.push_str(&format!("     after {}\n", u.depends_on.join(", ")));
            }
            if let Some(p) = &u.parent {
                out.push_str(&format!("     created by {p}\n"));
            }
        }
        for s in &c.skipped {
            out.push_str(&format!("  skipped: {s}\n"));
        }
    }
    out
}

/// The JSON form of a plan.
pub fn json(r: &Rendered) -> serde_json::Value {
    let clusters: Vec<serde_json::Value> = r
        .clusters
        .iter()
        .map(|c| {
            let units: Vec<serde_json::Value> = c
                .units
                .iter()
                .map(|u| {
                    serde_json::json!({
                        "name": u.name, "path": u.path, "definedIn": u.source_file,
                        "dependsOn": u.depends_on, "parent": u.parent, "objects": u.objects.len(),
                    })
                })
                .collect();
            serde_json::json!({ "name": c.name, "units": units, "skipped": c.skipped })
        })
        .collect();
    serde_json::json!({ "layout": r.layout.name(), "clusters": clusters })
}

/// Runs `kiln plan`.
pub fn cmd_plan(args: &PlanArgs) -> Result<()> {
    let path = args.repo.clone().unwrap_or_else(|| PathBuf::from("."));
    let tree = DirTree::new(&path).with_context(|| format!("opening {}", path.display()))?;
    let options = args.scope.options_for(&path)?;
    let rendered = renderer::render(&tree, &options)
        .with_context(|| format!("planning {}", path.display()))?;
    match args.output.as_str() {
        "text" => print!("{}", text(&rendered)),
        "json" => println!("{}", serde_json::to_string_pretty(&json(&rendered))?),
        other => anyhow::bail!("--output {other:?}: expected text or json"),
    }
    Ok(())
}
