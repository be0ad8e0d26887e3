//! `kiln quarantine`: list quarantined tags or release one.
//!
//! `--repo` is a local repository or a URL (`file://`, `https://`, ssh): a
//! remote's branch is fetched into a temporary bare repository, and a release
//! is committed there and pushed with a lease on the tip that was fetched.

use anyhow::{Context as _, Result, anyhow, bail};
use kiln::daemon::publish::Identity;
use kiln::daemon::remote::Pushed;
use kiln::daemon::repo::{branch_tip, commit_tree, open};
use kiln::daemon::tree::GitTree;
use kiln::quarantine::Quarantine;
use kiln::revert::commit_quarantine;

use super::revert::workspace;

/// How many times a release whose push lost a race is made again from a fresh fetch.
const ATTEMPTS: u32 = 3;

/// Tags whose release failed to deploy, which the promoter will not pick
/// (recorded in `.kiln/quarantine.yaml` on the source branch).
#[derive(Debug, clap::Args)]
pub struct QuarantineArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: QuarantineCommand,
    /// The repository: a local path (bare or with a work tree), or a URL
    /// (file://, https://, ssh) whose branch is fetched and, on release, pushed with a lease.
    #[arg(long, default_value = ".", global = true)]
    pub repo: String,
    /// The source branch holding the record.
    #[arg(long, default_value = "source", global = true)]
    pub branch: String,
}

/// `kiln quarantine` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum QuarantineCommand {
    /// Print the quarantined tags, one `image:tag<TAB>commit<TAB>reason` a line.
    List,
    /// Take a tag out of quarantine (one commit on the branch).
    Release {
        /// The tag.
        tag: String,
        /// Commit author name.
        #[arg(long, default_value = "kiln")]
        author_name: String,
        /// Commit author email.
        #[arg(long, default_value = "kiln@localhost")]
        author_email: String,
    },
}

/// Runs `kiln quarantine`.
pub fn cmd_quarantine(args: &QuarantineArgs) -> Result<()> {
    match &args.command {
        QuarantineCommand::List => {
            let (path, _fetched) = workspace(&args.repo, &[&args.branch])?;
            let repo = open(&path)?;
            let tip = branch_tip(&repo, &args.branch)?
                .with_context(|| format!("branch {} does not exist", args.branch))?;
            let record = Quarantine::load(&GitTree::at_tree(&repo, commit_tree(&repo, tip)?)?)?;
            for e in &record.entries {
                println!("{}:{}\t{}\t{}", e.image, e.tag, e.commit, e.reason);
            }
        }
        QuarantineCommand::Release { tag, author_name, author_email } => {
            let author =
                Identity { name: author_name.clone(), email: author_email.clone(), time: None };
            let message = format!("Release {tag} from quarantine\n");
            for attempt in 1..=ATTEMPTS {
                let (path, fetched) = workspace(&args.repo, &[&args.branch])?;
                let repo = open(&path)?;
                let Some(commit) =
                    commit_quarantine(&repo, &args.branch, &author, &message, |q| q.release(tag))?
                else {
                    bail!("{tag} is not quarantined on {}", args.branch);
                };
                if let Some(fetched) = &fetched {
                    let pushed = fetched
                        .push(commit, None)
                        .with_context(|| format!("pushing {} to {}", args.branch, args.repo))?;
                    if let Pushed::Rejected { reason } = pushed {
                        if attempt < ATTEMPTS {
                            eprintln!("{} moved ({reason}); starting over", args.branch);
                            continue;
                        }
                        return Err(anyhow!(
                            "pushing {} to {} was rejected {ATTEMPTS} times: {reason}",
                            args.branch,
                            args.repo
                        ));
                    }
                }
                println!("released {tag} in {commit}");
                return Ok(());
            }
        }
    }
    Ok(())
}
