//! `kiln quarantine`: list quarantined tags or release one.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use kiln::daemon::publish::Identity;
use kiln::daemon::repo::{branch_tip, commit_tree, open};
use kiln::daemon::tree::GitTree;
use kiln::quarantine::Quarantine;
use kiln::revert::commit_quarantine;

/// Tags whose release failed to deploy, which the promoter will not pick
/// (recorded in `.kiln/quarantine.yaml` on the source branch).
#[derive(Debug, clap::Args)]
pub struct QuarantineArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: QuarantineCommand,
    /// The repository (a local path; bare or with a work tree).
    #[arg(long, default_value = ".", global = true)]
    pub repo: PathBuf,
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
    let repo = open(&args.repo)?;
    match &args.command {
        QuarantineCommand::List => {
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
            match commit_quarantine(&repo, &args.branch, &author, &message, |q| q.release(tag))? {
                Some(commit) => println!("released {tag} in {commit}"),
                None => bail!("{tag} is not quarantined on {}", args.branch),
            }
        }
    }
    Ok(())
}
