//! Deploy verification: decides whether the deploy of a rendered commit succeeded.
//!
//! Four sources can give the verdict: the cluster through `kube` ([`kube`]),
//! Flux notification-controller events posted to kiln ([`flux_events`]), and
//! a command ([`command`]) or an HTTP check ([`http`]) from the configuration.
//! Each ends in a [`Verdict`].

pub mod command;
pub mod flux_events;
pub mod http;
pub mod kube;

use std::fmt;

use anyhow::Context as _;
use std::time::Duration;

/// One object that made a deploy fail, as `Kind/namespace/name` plus why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedObject {
    /// The object's kind, e.g. `Deployment`.
    pub kind: String,
    /// Its namespace; empty for cluster-scoped objects.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// What is wrong with it, e.g. `ProgressDeadlineExceeded: ...`.
    pub reason: String,
}

impl fmt::Display for FailedObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}: {}", self.kind, self.name, self.reason)
        } else {
            write!(f, "{}/{}/{}: {}", self.kind, self.namespace, self.name, self.reason)
        }
    }
}

/// The outcome of verifying one deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Everything the deploy touched is healthy at the rendered commit.
    Success,
    /// The deploy failed.
    Failure {
        /// A one-line summary.
        reason: String,
        /// The objects that failed (may be empty, e.g. for a failed command check).
        objects: Vec<FailedObject>,
    },
    /// No verdict within the time allowed.
    Timeout {
        /// How long was waited.
        after: Duration,
        /// What was still pending when time ran out, one line each.
        pending: Vec<String>,
    },
}

/// What a timeout counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OnTimeout {
    /// A timeout is a failure: the release is reverted (the default).
    #[default]
    Fail,
    /// A timeout is a success: production is moved forward anyway.
    Succeed,
    /// A timeout does nothing: neither revert nor promote.
    Ignore,
}

/// What to do after a verdict, once the timeout policy is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Record the source commit as production.
    Promote,
    /// Revert the release.
    Revert,
    /// Leave everything as it is.
    Nothing,
}

impl Verdict {
    /// The action this verdict calls for under `on_timeout`.
    pub fn action(&self, on_timeout: OnTimeout) -> Action {
        match (self, on_timeout) {
            (Verdict::Success, _) | (Verdict::Timeout { .. }, OnTimeout::Succeed) => {
                Action::Promote
            }
            (Verdict::Failure { .. }, _) | (Verdict::Timeout { .. }, OnTimeout::Fail) => {
                Action::Revert
            }
            (Verdict::Timeout { .. }, OnTimeout::Ignore) => Action::Nothing,
        }
    }

    /// A one-line reason and the failed objects, for revert messages; `None` on success.
    pub fn failure(&self) -> Option<(String, Vec<FailedObject>)> {
        match self {
            Verdict::Success => None,
            Verdict::Failure { reason, objects } => Some((reason.clone(), objects.clone())),
            Verdict::Timeout { after, pending } => Some((
                format!("deploy not healthy after {}s", after.as_secs()),
                pending
                    .iter()
                    .map(|line| FailedObject {
                        kind: "Pending".into(),
                        namespace: String::new(),
                        name: String::new(),
                        reason: line.clone(),
                    })
                    .collect(),
            )),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Success => write!(f, "success"),
            Verdict::Failure { reason, objects } => {
                write!(f, "failure: {reason}")?;
                for object in objects {
                    write!(f, "\n  {object}")?;
                }
                Ok(())
            }
            Verdict::Timeout { after, pending } => {
                write!(f, "timeout after {}s", after.as_secs())?;
                for line in pending {
                    write!(f, "\n  pending: {line}")?;
                }
                Ok(())
            }
        }
    }
}

/// Whether a Flux revision such as `main@sha1:<commit>`, `sha1:<commit>` or a bare
/// `<commit>` names `commit` (a full hex object id).
pub fn revision_names(revision: &str, commit: &str) -> bool {
    let digest = revision.rsplit_once('@').map_or(revision, |(_, digest)| digest);
    let hex = digest.split_once(':').map_or(digest, |(_, hex)| hex);
    // Older Flux versions wrote `main/<commit>`.
    let hex = hex.rsplit_once('/').map_or(hex, |(_, hex)| hex);
    !commit.is_empty() && hex.eq_ignore_ascii_case(commit)
}

/// How a deploy is judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// Watch the cluster: the Flux Kustomizations (`namespace/name`) that apply
    /// the target branch, plus every workload and Flux object in the rendered output.
    Kube {
        /// The Kustomizations whose `lastAppliedRevision` must be the rendered commit.
        flux_kustomizations: Vec<String>,
        /// The namespace of rendered objects that name none.
        default_namespace: String,
    },
    /// Wait for Flux notification-controller events at `POST /hooks/flux`.
    FluxEvents {
        /// The Kustomizations (`namespace/name`) that must report success; empty: any one.
        expect: Vec<String>,
    },
    /// Run a command (`sh -c`) with `KILN_COMMIT` and `KILN_ENV` set.
    Command(String),
    /// Poll a URL (`{commit}` and `{env}` replaced) until it answers 2xx.
    Http(String),
}

/// Everything one verification needs besides the method.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The repository holding the target branch.
    pub repo: &'a std::path::Path,
    /// The rendered commit whose deploy is judged.
    pub rendered: gix::ObjectId,
    /// The directory of the target branch with the rendered output.
    pub target_dir: &'a str,
    /// The environment's name (handed to commands as `KILN_ENV`).
    pub env: &'a str,
    /// How long to wait for a verdict.
    pub timeout: Duration,
}

/// Runs one verification. `events` must be subscribed (see
/// [`flux_events::Hooks::subscribe`]) before the rendered commit was pushed
/// when `method` is [`Method::FluxEvents`], so no event is missed.
pub async fn run(
    request: &Request<'_>,
    method: &Method,
    events: Option<&mut tokio::sync::broadcast::Receiver<flux_events::FluxEvent>>,
) -> anyhow::Result<Verdict> {
    let commit = request.rendered.to_string();
    match method {
        Method::Kube { flux_kustomizations, default_namespace } => {
            let mut targets = flux_kustomizations
                .iter()
                .map(|r| kube::Target::flux_kustomization(r))
                .collect::<Result<Vec<_>, _>>()?;
            let repo = crate::daemon::repo::open(request.repo)?;
            let tree = crate::daemon::tree::GitTree::at_commit(&repo, request.rendered)?;
            if renderer::tree::Tree::kind(&tree, request.target_dir).is_some() {
                targets.extend(kube::targets_in_tree(
                    &tree,
                    request.target_dir,
                    default_namespace,
                )?);
            }
            let client = ::kube::Client::try_default()
                .await
                .map_err(|e| anyhow::anyhow!(e))
                .context("connecting to the cluster (kubeconfig or in-cluster)")?;
            let options = kube::Options { timeout: request.timeout };
            Ok(kube::verdict(client, &targets, &commit, options).await)
        }
        Method::FluxEvents { expect } => {
            let events = events.context("flux-events verification needs the webhook's receiver")?;
            Ok(flux_events::await_verdict(events, &commit, expect, request.timeout).await)
        }
        Method::Command(command) => {
            let (command, env, timeout) =
                (command.clone(), request.env.to_string(), request.timeout);
            tokio::task::spawn_blocking(move || command::verdict(&command, &commit, &env, timeout))
                .await
                .context("the check command's thread failed")
        }
        Method::Http(url) => {
            let (url, env, timeout) = (url.clone(), request.env.to_string(), request.timeout);
            tokio::task::spawn_blocking(move || http::verdict(&url, &commit, &env, timeout))
                .await
                .context("the HTTP check's thread failed")
        }
    }
}

/// Parses a duration such as `10m`, `30s`, `1h30m` or `500ms`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let mut total = Duration::ZERO;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("duration {text:?}: expected a number at {rest:?}"))?;
        rest = &rest[digits..];
        let unit = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let step = match &rest[..unit] {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number.saturating_mul(60)),
            "h" => Duration::from_secs(number.saturating_mul(3600)),
            other => {
                return Err(format!("duration {text:?}: unknown unit {other:?} (ms, s, m, h)"));
            }
        };
        total = total.saturating_add(step);
        rest = &rest[unit..];
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions() {
        let c = "9eabf5b536662000f79978c4d1b6e4eff5c8d785";
        let cases: &[(&str, bool)] = &[
            ("rendered@sha1:9eabf5b536662000f79978c4d1b6e4eff5c8d785", true),
            ("main@sha1:9EABF5B536662000F79978C4D1B6E4EFF5C8D785", true),
            ("sha1:9eabf5b536662000f79978c4d1b6e4eff5c8d785", true),
            ("9eabf5b536662000f79978c4d1b6e4eff5c8d785", true),
            ("main/9eabf5b536662000f79978c4d1b6e4eff5c8d785", true),
            ("refs/heads/main@sha1:9eabf5b536662000f79978c4d1b6e4eff5c8d785", true),
            ("main@sha1:0000f5b536662000f79978c4d1b6e4eff5c8d785", false),
            ("main@sha1:9eabf5b", false),
            ("", false),
        ];
        for (revision, want) in cases {
            assert_eq!(revision_names(revision, c), *want, "{revision}");
        }
    }

    #[test]
    fn durations() {
        let cases: &[(&str, Result<u64, &str>)] = &[
            ("10m", Ok(600_000)),
            ("30s", Ok(30_000)),
            ("1h30m", Ok(5_400_000)),
            ("500ms", Ok(500)),
            ("", Err("empty")),
            ("10", Err("unknown unit")),
            ("m", Err("expected a number")),
            ("5d", Err("unknown unit")),
        ];
        for (text, want) in cases {
            match (parse_duration(text), want) {
                (Ok(d), Ok(ms)) => assert_eq!(d.as_millis() as u64, *ms, "{text}"),
                (Err(e), Err(msg)) => assert!(e.contains(msg), "{text}: {e}"),
                (got, _) => panic!("{text}: {got:?}"),
            }
        }
    }

    #[test]
    fn actions() {
        let timeout = Verdict::Timeout { after: Duration::from_secs(1), pending: vec![] };
        let failure = Verdict::Failure { reason: "x".into(), objects: vec![] };
        let cases = [
            (&Verdict::Success, OnTimeout::Fail, Action::Promote),
            (&failure, OnTimeout::Succeed, Action::Revert),
            (&timeout, OnTimeout::Fail, Action::Revert),
            (&timeout, OnTimeout::Succeed, Action::Promote),
            (&timeout, OnTimeout::Ignore, Action::Nothing),
        ];
        for (verdict, policy, want) in cases {
            assert_eq!(verdict.action(policy), want, "{verdict} {policy:?}");
        }
    }
}
