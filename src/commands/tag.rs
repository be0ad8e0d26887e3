//! `kiln tag`: the unique-tag grammar on the command line.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use promoter::tag::{Tag, UniqueTag};

/// Parse or make image tags (`v<semver>.<utc>.<sha>`).
#[derive(Debug, clap::Args)]
pub struct TagArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: TagCommand,
}

/// `kiln tag` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TagCommand {
    /// Print a tag's form and fields as JSON (kind, tag, version, time, sha).
    Parse {
        /// The tag.
        tag: String,
    },
    /// Print a unique tag for a version, a source commit and a build time.
    New {
        /// The release version (semver, without `v`).
        #[arg(long)]
        version: String,
        /// The source commit (7 to 40 hex digits).
        #[arg(long)]
        sha: String,
        /// The build time in RFC 3339; default: now.
        #[arg(long)]
        time: Option<String>,
    },
}

/// Runs `kiln tag`.
pub fn cmd_tag(args: &TagArgs) -> Result<()> {
    match &args.command {
        TagCommand::Parse { tag } => {
            let parsed = Tag::parse(tag);
            println!(
                "{}",
                serde_json::to_string_pretty(&parsed).context("encoding the tag as JSON")?
            );
        }
        TagCommand::New { version, sha, time } => {
            let version = semver::Version::parse(version.trim_start_matches('v'))
                .with_context(|| format!("--version {version:?} is not a semantic version"))?;
            let time: DateTime<Utc> = match time {
                Some(t) => DateTime::parse_from_rfc3339(t)
                    .with_context(|| format!("--time {t:?} is not an RFC 3339 time"))?
                    .with_timezone(&Utc),
                None => Utc::now(),
            };
            let tag = UniqueTag::new(version, time, sha).map_err(|e| anyhow::anyhow!(e))?;
            println!("{tag}");
        }
    }
    Ok(())
}
