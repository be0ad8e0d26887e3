//! `kiln verify`: judge the deploy of one rendered commit, once, and optionally act on the verdict.

use anyhow::{Context as _, Result};
use kiln::daemon::publish::Identity;
use kiln::revert::{Acted, Context, act};
use kiln::verify::{Method, OnTimeout, Request, Verdict, parse_duration, run};

/// How the verdict is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VerifyBy {
    /// Watch Flux objects and workload rollouts through the Kubernetes API (kubeconfig or in-cluster).
    Kube,
    /// Run `--check-command`.
    Command,
    /// Poll `--check-url` until it answers 2xx.
    Http,
}

/// Decide whether the deploy of a rendered commit succeeded: exit 0 on
/// success, 1 on failure or timeout. With `--act`, also record success by
/// fast-forwarding the production branch, or revert a failed release.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The repository: a local path (bare or with a work tree), or a URL
    /// (file://, https://, ssh) whose branches are fetched and, with `--act`,
    /// pushed back atomically with leases.
    #[arg(long, default_value = ".")]
    pub repo: String,
    /// The rendered commit (on the target branch) whose deploy is judged.
    #[arg(long)]
    pub commit: String,
    /// The environment; also the default target directory.
    #[arg(long)]
    pub env: Option<String>,
    /// The directory of the target branch with the rendered output.
    #[arg(long)]
    pub target_dir: Option<String>,
    /// What to judge by.
    #[arg(long = "verify", value_enum, default_value = "kube")]
    pub by: VerifyBy,
    /// A Flux Kustomization (`namespace/name`) that applies the target branch (repeatable).
    #[arg(long = "flux-kustomization")]
    pub flux_kustomizations: Vec<String>,
    /// The namespace of rendered objects that name none.
    #[arg(long, default_value = "default")]
    pub namespace: String,
    /// The command for `--verify command`, run by `sh -c` with KILN_COMMIT and KILN_ENV set.
    #[arg(long)]
    pub check_command: Option<String>,
    /// The URL for `--verify http`, polled until it answers 2xx; `{commit}` and
    /// `{env}` stand for the rendered commit and the environment.
    #[arg(long)]
    pub check_url: Option<String>,
    /// How long to wait, e.g. `10m`, `90s`.
    #[arg(long = "verify-timeout", default_value = "10m", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
    /// What a timeout counts as.
    #[arg(long, value_enum, default_value = "fail")]
    pub on_timeout: OnTimeout,
    /// Act on the verdict: promote the production branch or revert the release.
    #[arg(long)]
    pub act: bool,
    /// The source branch releases are reverted on (with `--act`).
    #[arg(long, default_value = "source")]
    pub source_branch: String,
    /// The branch with the rendered output (with `--act`).
    #[arg(long, default_value = "rendered")]
    pub target_branch: String,
    /// The branch that names production (with `--act`).
    #[arg(long, default_value = "main")]
    pub main_branch: String,
    /// Commit author name.
    #[arg(long, default_value = "kiln")]
    pub author_name: String,
    /// Commit author email.
    #[arg(long, default_value = "kiln@localhost")]
    pub author_email: String,
}

/// Runs `kiln verify`; `Ok(false)` means the deploy did not succeed.
pub fn cmd_verify(args: &VerifyArgs) -> Result<bool> {
    let branches = [args.target_branch.as_str(), &args.source_branch, &args.main_branch];
    let (path, fetched) = super::revert::workspace(&args.repo, &branches)?;
    let repo = kiln::daemon::repo::open(&path)?;
    let rendered = kiln::revert::resolve(&repo, &args.commit)?;
    let env = args.env.clone().unwrap_or_default();
    let target_dir = args
        .target_dir
        .clone()
        .or_else(|| args.env.clone())
        .context("give --target-dir or --env")?;
    let method = match args.by {
        VerifyBy::Kube => Method::Kube {
            flux_kustomizations: args.flux_kustomizations.clone(),
            default_namespace: args.namespace.clone(),
        },
        VerifyBy::Command => Method::Command(
            args.check_command.clone().context("--verify command needs --check-command")?,
        ),
        VerifyBy::Http => {
            Method::Http(args.check_url.clone().context("--verify http needs --check-url")?)
        }
    };
    let request = Request {
        repo: &path,
        rendered,
        target_dir: &target_dir,
        env: &env,
        timeout: args.timeout,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let verdict = runtime.block_on(run(&request, &method, None))?;
    println!("{rendered}: {verdict}");
    if args.act {
        let author = Identity {
            name: args.author_name.clone(),
            email: args.author_email.clone(),
            time: None,
        };
        let cx = Context {
            repo: &path,
            source_branch: &args.source_branch,
            target_branch: &args.target_branch,
            target_dir: &target_dir,
            main_branch: Some(&args.main_branch),
            author: &author,
        };
        let acted = act(&cx, rendered, &verdict, args.on_timeout)?;
        super::revert::push_back(fetched.as_ref(), &args.repo)?;
        match acted {
            Acted::Promoted { source, how } => {
                println!("{}: production is {source} ({how:?})", args.main_branch)
            }
            Acted::Reverted(r) => crate::commands::revert::report(&r),
            Acted::Nothing => println!("timeout ignored: nothing done"),
        }
    }
    Ok(match verdict {
        Verdict::Success => true,
        Verdict::Timeout { .. } => args.on_timeout == OnTimeout::Succeed,
        Verdict::Failure { .. } => false,
    })
}
