//! Talking to git remotes: fetch with gix (local and `file://` remotes) or the git CLI (https, ssh), push with the git CLI.
//!
//! gix has no push, so every push goes through `git push --atomic
//! --force-with-lease`, whose lease makes the remote ref update a
//! compare-and-swap: a remote branch that moved since it was fetched rejects
//! the push instead of losing the other writer's commit.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;

use anyhow::{Context as _, bail};
use gix::ObjectId;
use gix::bstr::ByteSlice as _;

/// A remote repository and the credentials to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// A local path, a `file://` URL, an `https://` URL or an ssh URL (`ssh://` or `user@host:path`).
    pub url: String,
    /// For https: the name of the environment variable holding an access token.
    /// The token is handed to git through the environment, never on a command line.
    pub token_env: Option<String>,
    /// For ssh: the private key file.
    pub ssh_key: Option<PathBuf>,
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// The remote branch now points to the pushed commit.
    Updated,
    /// The remote refused: the branch moved since it was fetched (or the lease
    /// was stale). Fetch again and rebuild on the new tip.
    Rejected {
        /// git's reason, e.g. `stale info` or `fetch first`.
        reason: String,
    },
}

impl Remote {
    /// A remote at `url` without credentials.
    pub fn new(url: impl Into<String>) -> Self {
        Remote { url: url.into(), token_env: None, ssh_key: None }
    }

    /// Whether the remote is on this machine (a path or a `file://` URL), which gix fetches itself.
    pub fn is_local(&self) -> bool {
        self.url.starts_with("file://")
            || self.url.starts_with('/')
            || self.url.starts_with('.')
            || !(self.url.contains("://") || self.url.contains(':'))
    }

    /// The URL as git should see it: local paths made absolute so that the
    /// working directory of the git process does not matter.
    fn resolved_url(&self) -> String {
        if self.is_local() && !self.url.starts_with("file://") {
            let path = Path::new(&self.url);
            if path.is_relative() {
                if let Ok(cwd) = std::env::current_dir() {
                    return cwd.join(path).to_string_lossy().into_owned();
                }
            }
        }
        self.url.clone()
    }

    /// Fetches `refspecs` (e.g. `+refs/heads/*:refs/kiln/source/*`) into `repo`
    /// and returns the local refs the remote had something for; refs the remote
    /// no longer has are left to the caller to remove. `None` when the git CLI
    /// fetched (https, ssh), which prunes them itself.
    ///
    /// `interrupt` aborts a gix fetch in flight; the refs are updated only at the
    /// end, so an aborted fetch leaves them as they were.
    pub fn fetch(
        &self,
        repo: &gix::Repository,
        refspecs: &[String],
        interrupt: &AtomicBool,
    ) -> anyhow::Result<Option<BTreeSet<String>>> {
        let url = self.resolved_url();
        if self.is_local() {
            use gix::remote::Direction;
            let remote = repo
                .remote_at(url.as_str())
                .with_context(|| format!("remote {url}"))?
                .with_refspecs(refspecs.iter().map(String::as_str), Direction::Fetch)
                .context("fetch refspecs")?
                .with_fetch_tags(gix::remote::fetch::Tags::None);
            let prepared = remote
                .connect(Direction::Fetch)
                .with_context(|| format!("connecting to {url}"))?
                .prepare_fetch(gix::progress::Discard, Default::default())
                .with_context(|| format!("listing the refs of {url}"))?;
            let local: BTreeSet<String> = prepared
                .ref_map()
                .mappings
                .iter()
                .filter_map(|m| m.local.as_ref().map(|l| l.to_str_lossy().into_owned()))
                .collect();
            // gix refuses a fetch none of whose refspecs match; for us that is
            // an empty remote or a target branch not created yet.
            if !local.is_empty() {
                prepared
                    .receive(gix::progress::Discard, interrupt)
                    .with_context(|| format!("fetching from {url}"))?;
            }
            return Ok(Some(local));
        }
        let mut args = vec![
            "fetch".to_string(),
            "--quiet".into(),
            "--no-tags".into(),
            "--prune".into(),
            url.clone(),
        ];
        args.extend(refspecs.iter().cloned());
        let out = self.git(repo.git_dir(), &args)?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            if stderr.contains("couldn't find remote ref") {
                return Ok(Some(BTreeSet::new()));
            }
            bail!("git fetch from {url} failed: {}", stderr.trim());
        }
        Ok(None)
    }

    /// Pushes `commit` (which must be in `repo`) to `refs/heads/<branch>` of the
    /// remote if, and only if, the remote branch still points to `expected`
    /// (`None`: it must not exist).
    pub fn push(
        &self,
        repo: &gix::Repository,
        branch: &str,
        expected: Option<ObjectId>,
        commit: ObjectId,
    ) -> anyhow::Result<Pushed> {
        self.push_refs(repo, &[(super::repo::branch_ref(branch), expected, commit)])
    }

    /// Pushes several full ref names at once, atomically: each `(name, expected,
    /// new)` moves to `new` only if the remote ref still points to `expected`
    /// (`None`: it must not exist), and if any lease fails none moves. A release
    /// tag pushed beside its branch with `expected = None` is never moved.
    pub fn push_refs(
        &self,
        repo: &gix::Repository,
        updates: &[(String, Option<ObjectId>, ObjectId)],
    ) -> anyhow::Result<Pushed> {
        let url = self.resolved_url();
        let mut args =
            vec!["push".to_string(), "--porcelain".into(), "--atomic".into(), "--no-verify".into()];
        for (name, expected, _) in updates {
            args.push(format!(
                "--force-with-lease={name}:{}",
                expected.map(|id| id.to_string()).unwrap_or_default()
            ));
        }
        args.push(url.clone());
        args.extend(updates.iter().map(|(name, _, new)| format!("{new}:{name}")));
        let name = updates.iter().map(|(name, ..)| name.as_str()).collect::<Vec<_>>().join(", ");
        let out = self.git(repo.git_dir(), &args)?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if out.status.success() {
            return Ok(Pushed::Updated);
        }
        // Porcelain output: one line per ref, `!` marks a rejected one and the
        // reason is in parentheses at its end.
        for line in stdout.lines() {
            if let Some(rest) = line.strip_prefix('!') {
                if rest.contains("[rejected]") || rest.contains("[remote rejected]") {
                    let reason = rest
                        .rsplit_once('(')
                        .map(|(_, r)| r.trim_end_matches(')').to_string())
                        .unwrap_or_else(|| rest.trim().to_string());
                    if rest.contains("[rejected]") {
                        return Ok(Pushed::Rejected { reason });
                    }
                    bail!("the remote {url} refused {name}: {reason}");
                }
            }
        }
        bail!("git push to {url} failed: {}", String::from_utf8_lossy(&out.stderr).trim())
    }

    /// Runs git in `git_dir` with none of the user's or the system's configuration,
    /// and with this remote's credentials in the environment.
    fn git(&self, git_dir: &Path, args: &[String]) -> anyhow::Result<std::process::Output> {
        let mut cmd = Command::new("git");
        cmd.arg("--git-dir")
            .arg(git_dir)
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE");
        if let Some(var) = &self.token_env {
            let token = std::env::var(var)
                .with_context(|| format!("the token variable {var} is not set"))?;
            let basic = basic_credentials(&token);
            cmd.env("GIT_CONFIG_COUNT", "1")
                .env("GIT_CONFIG_KEY_0", "http.extraHeader")
                .env("GIT_CONFIG_VALUE_0", format!("Authorization: Basic {basic}"));
        }
        if let Some(key) = &self.ssh_key {
            cmd.env("GIT_SSH_COMMAND", ssh_command(key));
        }
        cmd.output().context("running git")
    }
}

/// The HTTP basic credentials (`x-access-token` and the token, base64) sent
/// with the `Authorization` header; GitHub, GitLab and Gitea accept a token
/// as the password of any user name.
pub fn basic_credentials(token: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{token}"))
}

/// The ssh command git runs for this remote (git runs it with `sh -c`):
/// only the key file, never a prompt, and a host seen for the first time is
/// remembered rather than asked about.
fn ssh_command(key: &Path) -> String {
    format!(
        "ssh -i {} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
        shell_quote(&key.to_string_lossy())
    )
}

/// `text` as one word of a POSIX shell command line.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_of_tokens() {
        let cases = [
            ("", "eC1hY2Nlc3MtdG9rZW46"),
            ("t", "eC1hY2Nlc3MtdG9rZW46dA=="),
            ("ghp_abc123", "eC1hY2Nlc3MtdG9rZW46Z2hwX2FiYzEyMw=="),
        ];
        for (token, want) in cases {
            assert_eq!(basic_credentials(token), want, "{token}");
        }
    }

    #[test]
    fn ssh_commands_quote_the_key_path() {
        let cases = [
            ("/keys/id_ed25519", "'/keys/id_ed25519'"),
            ("/keys/my key", "'/keys/my key'"),
            ("/keys/it's", "'/keys/it'\\''s'"),
            ("/keys/$(reboot)", "'/keys/$(reboot)'"),
        ];
        for (path, quoted) in cases {
            let want = format!(
                "ssh -i {quoted} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new"
            );
            assert_eq!(ssh_command(Path::new(path)), want, "{path}");
            // The shell hands ssh the path as one argument, unchanged.
            let out = Command::new("sh")
                .args(["-c", &format!("printf %s {}", shell_quote(path))])
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), path);
        }
    }

    #[test]
    fn local_remotes() {
        let cases = [
            ("/srv/git/repo.git", true),
            ("./repo", true),
            ("repo", true),
            ("file:///srv/git/repo.git", true),
            ("https://example.com/org/repo.git", false),
            ("ssh://git@example.com/org/repo.git", false),
            ("git@example.com:org/repo.git", false),
        ];
        for (url, want) in cases {
            assert_eq!(Remote::new(url).is_local(), want, "{url}");
        }
    }
}
