//! `kiln revert`: revert a failed release by hand.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use kiln::daemon::edit::{Fetched, fetch_branches, is_remote};
use kiln::daemon::publish::{Identity, Published};
use kiln::daemon::remote::{Pushed, Remote};
use kiln::revert::{Context, Reverted, revert};
use kiln::verify::FailedObject;

/// Revert the release that a rendered commit (or a source commit) deployed:
/// a revert commit on the source branch naming the failed commit and reason,
/// its new unique tags quarantined, and the target directory restored to the
/// last rendered tree whose source is production.
#[derive(Debug, clap::Args)]
pub struct RevertArgs {
    /// The rendered commit whose deploy failed, or the source commit to revert.
    pub commit: String,
    /// The repository: a local path (bare or with a work tree), or a URL
    /// (file://, https://, ssh) whose branches are fetched, changed and pushed
    /// back atomically with leases.
    #[arg(long, default_value = ".")]
    pub repo: String,
    /// Why the release is reverted.
    #[arg(long, default_value = "reverted by hand")]
    pub reason: String,
    /// A failed object, `Kind/namespace/name` (repeatable).
    #[arg(long = "failed-object")]
    pub failed_objects: Vec<String>,
    /// The source branch the release is on.
    #[arg(long, default_value = "source")]
    pub source_branch: String,
    /// The branch with the rendered output.
    #[arg(long, default_value = "rendered")]
    pub target_branch: String,
    /// The directory of the target branch with the rendered output.
    #[arg(long)]
    pub target_dir: String,
    /// The branch that names production.
    #[arg(long, default_value = "main")]
    pub main_branch: String,
    /// Commit author name.
    #[arg(long, default_value = "kiln")]
    pub author_name: String,
    /// Commit author email.
    #[arg(long, default_value = "kiln@localhost")]
    pub author_email: String,
}

/// Runs `kiln revert`.
pub fn cmd_revert(args: &RevertArgs) -> Result<()> {
    let branches = [args.source_branch.as_str(), &args.target_branch, &args.main_branch];
    let (path, fetched) = workspace(&args.repo, &branches)?;
    let repo = kiln::daemon::repo::open(&path)?;
    let commit = kiln::revert::resolve(&repo, &args.commit)?;
    let objects: Vec<FailedObject> = args
        .failed_objects
        .iter()
        .map(|label| {
            let mut parts = label.splitn(3, '/');
            let (kind, a, b) = (parts.next(), parts.next(), parts.next());
            let (namespace, name) = match (a, b) {
                (Some(ns), Some(name)) => (ns, name),
                (Some(name), None) => ("", name),
                _ => ("", ""),
            };
            FailedObject {
                kind: kind.unwrap_or_default().into(),
                namespace: namespace.into(),
                name: name.into(),
                reason: args.reason.clone(),
            }
        })
        .collect();
    let author =
        Identity { name: args.author_name.clone(), email: args.author_email.clone(), time: None };
    let cx = Context {
        repo: &path,
        source_branch: &args.source_branch,
        target_branch: &args.target_branch,
        target_dir: &args.target_dir,
        main_branch: Some(&args.main_branch),
        author: &author,
    };
    let reverted = revert(&cx, commit, &args.reason, &objects)
        .with_context(|| format!("reverting {}", args.commit))?;
    push_back(fetched.as_ref(), &args.repo)?;
    report(&reverted);
    Ok(())
}

/// Where a command changes branches: the local repository `repo`, or a
/// temporary copy of a remote's `branches` (those it has).
pub fn workspace(repo: &str, branches: &[&str]) -> Result<(PathBuf, Option<Fetched>)> {
    if is_remote(repo) {
        let fetched = fetch_branches(&Remote::new(repo), branches, &[])?;
        return Ok((fetched.path().to_path_buf(), Some(fetched)));
    }
    Ok((PathBuf::from(repo), None))
}

/// Pushes the branches a command moved in a remote's copy, all or none.
pub fn push_back(fetched: Option<&Fetched>, url: &str) -> Result<()> {
    let Some(fetched) = fetched else { return Ok(()) };
    match fetched.push_moved()? {
        (Pushed::Updated, moved) => {
            if !moved.is_empty() {
                println!("pushed {} to {url}", moved.join(", "));
            }
            Ok(())
        }
        (Pushed::Rejected { reason }, moved) => bail!(
            "pushing {} to {url} was rejected ({reason}): a branch moved meanwhile and nothing was changed there; run the command again",
            moved.join(", ")
        ),
    }
}

/// Prints what a revert did.
pub fn report(r: &Reverted) {
    println!("reverted {} with {}", r.release, r.revert);
    for e in &r.quarantined {
        println!("quarantined {}:{}", e.image, e.tag);
    }
    match r.restored {
        Some(Published::Committed { commit, .. }) => {
            println!("restored target directory in {commit}")
        }
        Some(Published::Unchanged) => println!("target directory already the last good tree"),
        None => println!("no rendered tree succeeded before: the next render restores it"),
    }
}
