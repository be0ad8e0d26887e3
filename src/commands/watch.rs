//! `kiln watch`: render source branches into a target branch continuously, with webhooks, metrics and status.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use kiln::daemon::http::{Hooks, router_with};
use kiln::daemon::lease::{Elector, Role};
use kiln::daemon::metrics::Metrics;
use kiln::daemon::publish::Identity;
use kiln::daemon::remote::Remote;
use kiln::daemon::sync::Source;
use kiln::daemon::watch::{
    BranchMap, Config, CycleOutcome, DEFAULT_MESSAGE, Watcher, backoff, parse_branch_map,
    render_flux, settle,
};
use kiln::verify::{Method, OnTimeout, Request};
use renderer::cache::UnitCache;
use renderer::tree::Tree;
use tokio::sync::{Notify, watch};

/// Watch source branches and keep their rendered YAML in directories of a
/// target branch: fetch, render what moved straight from the object
/// database, make one commit for every changed directory, push it with a
/// lease, and again every interval or when a webhook arrives. Cycle errors
/// are logged and retried with backoff; the watcher never exits on them.
///
/// Every flag can also be set in a config file, `kiln-watch.yaml` (`--config`);
/// flags on the command line win.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// The watcher's config file (default: `kiln-watch.yaml` in the working
    /// directory, when there is one). Each key is a flag in camelCase
    /// (`targetBranch: rendered`, `verifyTimeout: 5m`, `branches: {staging:
    /// staging}`, `author: {name: kiln}`). Not the repository's `kiln.yaml`,
    /// which declares the render layout.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The source repository: a path, file://, https:// or ssh URL.
    #[arg(long)]
    pub repo: Option<String>,
    /// SOURCE=TARGET_DIR, repeatable; default staging=staging and production=production.
    #[arg(long = "branch")]
    pub branches: Vec<String>,
    /// The branch receiving the rendered YAML (default: rendered).
    #[arg(long)]
    pub target_branch: Option<String>,
    /// The repository of the target branch (default: the source repository).
    #[arg(long)]
    pub target_repo: Option<String>,
    /// Time between polls, e.g. 30s, 500ms, 2m (default: 30s).
    #[arg(long)]
    pub interval: Option<String>,
    /// Address of the HTTP listener (webhooks, /metrics, /status), e.g. 127.0.0.1:8080.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Commit author name (default: kiln).
    #[arg(long)]
    pub author_name: Option<String>,
    /// Commit author email (default: kiln@localhost).
    #[arg(long)]
    pub author_email: Option<String>,
    /// A file holding the commit message template (minijinja; `changes` is a
    /// list of {branch, dir, commit, short, subject, author, units, images},
    /// each image {image, from, to}). Provenance trailers are appended to it.
    #[arg(long, conflicts_with = "message")]
    pub message_template: Option<PathBuf>,
    /// The commit message template itself, as `--message-template` holds it.
    #[arg(long)]
    pub message: Option<String>,
    #[command(flatten)]
    pub scope: super::RenderScope,
    /// Accept a render in which a unit that rendered objects before renders none.
    #[arg(long)]
    pub allow_empty: bool,
    /// Write into a target branch whose last commit kiln did not make.
    #[arg(long)]
    pub adopt: bool,
    /// The watcher's own bare mirror (default: .kiln-watch).
    #[arg(long)]
    pub workdir: Option<PathBuf>,
    /// For https remotes: the environment variable holding an access token.
    #[arg(long)]
    pub token_env: Option<String>,
    /// For ssh remotes: the private key file.
    #[arg(long)]
    pub ssh_key: Option<PathBuf>,
    /// The environment variable holding the GitHub webhook secret.
    #[arg(long)]
    pub github_secret_env: Option<String>,
    /// The environment variable holding the GitLab webhook token.
    #[arg(long)]
    pub gitlab_token_env: Option<String>,
    /// How many times a push that lost a race is rebuilt and retried (default: 5).
    #[arg(long)]
    pub push_attempts: Option<u32>,
    /// Log format: text or json.
    #[arg(long, default_value = "text")]
    pub log_format: String,
    /// Run one cycle and exit: 0 on success, 1 on a cycle error. With
    /// `--verify`, waits for the verdict on the commit made and acts on it first.
    #[arg(long)]
    pub once: bool,
    /// Verify the deploy of every rendered commit and act on the verdict:
    /// success fast-forwards `--main-branch` to the source commit, failure
    /// reverts the release on its source branch and quarantines its tags.
    /// `flux-events` needs `--listen` (events arrive at `POST /hooks/flux`).
    #[arg(long = "verify", value_enum)]
    pub verify: Option<VerifyBy>,
    /// How long to wait for a verdict, e.g. 10m, 90s.
    #[arg(long, default_value = "10m", value_parser = kiln::verify::parse_duration)]
    pub verify_timeout: Duration,
    /// The timeout of one environment (source branch), `ENV=DURATION`, e.g.
    /// `staging=2m` (repeatable); the others wait `--verify-timeout`.
    #[arg(long = "env-timeout")]
    pub env_timeouts: Vec<String>,
    /// The source branch whose successful deploys fast-forward `--main-branch`
    /// (default: the only watched branch, else `production`). Every branch of
    /// a rendered commit is judged on its own; a failure reverts that branch's
    /// release alone, and a success elsewhere moves nothing.
    #[arg(long)]
    pub main_follows: Option<String>,
    /// What a verification timeout counts as.
    #[arg(long, value_enum, default_value = "fail")]
    pub on_timeout: OnTimeout,
    /// The branch recording production, fast-forwarded on success.
    #[arg(long, default_value = "main")]
    pub main_branch: String,
    /// The environment variable holding the key of a Flux `generic-hmac`
    /// provider; without it, unsigned `generic` events are accepted.
    #[arg(long)]
    pub flux_hmac_key_env: Option<String>,
    /// A Flux Kustomization (`namespace/name`) that applies the target branch
    /// (repeatable): `kube` waits for its `lastAppliedRevision`, `flux-events`
    /// for a success event from each (default: from any). `ENV=namespace/name`
    /// names it for one environment (source branch) only.
    #[arg(long = "flux-kustomization")]
    pub flux_kustomizations: Vec<String>,
    /// The namespace of rendered objects that name none (`--verify kube`).
    #[arg(long, default_value = "default")]
    pub namespace: String,
    /// The command for `--verify command`, run by `sh -c` with KILN_COMMIT and KILN_ENV set.
    #[arg(long)]
    pub check_command: Option<String>,
    /// The URL for `--verify http`, polled until it answers 2xx; `{commit}` and
    /// `{env}` stand for the rendered commit and the environment.
    #[arg(long)]
    pub check_url: Option<String>,
    /// Run as one of several replicas: only the holder of this Kubernetes
    /// Lease (`namespace/name`, reached through kubeconfig or in-cluster)
    /// renders, pushes and acts on verdicts; the others wait to take over.
    #[arg(long)]
    pub lease: Option<String>,
    /// How long the lease lasts without renewal; a leader that cannot renew
    /// stops writing after two thirds of it.
    #[arg(long, default_value = "15s", value_parser = kiln::verify::parse_duration)]
    pub lease_duration: Duration,
    /// This replica's name in the Lease (default: $POD_NAME, else host name and process id).
    #[arg(long)]
    pub lease_identity: Option<String>,
}

/// How the watcher judges deploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VerifyBy {
    /// Flux notification-controller events posted to `POST /hooks/flux`.
    FluxEvents,
    /// Flux objects and workload rollouts through the Kubernetes API.
    Kube,
    /// `--check-command`.
    Command,
    /// `--check-url`.
    Http,
}

/// The verification settings of `kiln watch`.
struct Verification {
    method: Method,
    timeout: Duration,
    /// Timeouts of single environments.
    env_timeouts: HashMap<String, Duration>,
    on_timeout: OnTimeout,
    main_branch: String,
    /// The source branch `main_branch` follows.
    main_follows: String,
    /// The `generic-hmac` key; only for `flux-events`.
    flux_key: Option<Vec<u8>>,
}

impl Verification {
    /// The method for one environment: the Flux Kustomizations given for it
    /// (`ENV=namespace/name`) or for all (`namespace/name`).
    fn method_for(&self, env: &str) -> Method {
        let only = |list: &[String]| -> Vec<String> {
            list.iter()
                .filter_map(|k| match k.split_once('=') {
                    Some((e, k)) => (e == env).then(|| k.to_string()),
                    None => Some(k.clone()),
                })
                .collect()
        };
        match &self.method {
            Method::Kube { flux_kustomizations, default_namespace } => Method::Kube {
                flux_kustomizations: only(flux_kustomizations),
                default_namespace: default_namespace.clone(),
            },
            Method::FluxEvents { expect } => Method::FluxEvents { expect: only(expect) },
            Method::Command(c) => Method::Command(c.clone()),
            Method::Http(url) => Method::Http(url.clone()),
        }
    }

    fn timeout_for(&self, env: &str) -> Duration {
        self.env_timeouts.get(env).copied().unwrap_or(self.timeout)
    }
}

/// Everything `kiln watch` runs with, flags and `kiln-watch.yaml` merged.
struct Settings {
    config: Config,
    render: renderer::Options,
    interval: Duration,
    listen: Option<SocketAddr>,
    github_secret: Option<Vec<u8>>,
    gitlab_token: Option<Vec<u8>>,
    verification: Option<Arc<Verification>>,
    lease: Option<kiln::daemon::lease::Settings>,
}

/// Runs `kiln watch`.
pub fn cmd_watch(args: &WatchArgs) -> Result<()> {
    let default = Path::new(super::watch_config::FILE_NAME);
    let file = args.config.as_deref().or_else(|| default.is_file().then_some(default));
    let merged;
    let args = match file {
        Some(path) => {
            // What followed `watch` on the command line, parsed again over the file.
            let cli: Vec<std::ffi::OsString> =
                std::env::args_os().skip_while(|a| a != "watch").skip(1).collect();
            merged = super::watch_config::merge(&cli, path)?;
            &merged
        }
        None => args,
    };
    init_logs(&args.log_format)?;
    let settings = settings(args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run(settings, args.once))
}

fn init_logs(format: &str) -> Result<()> {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false);
    let result = match format {
        "json" => builder.json().try_init(),
        "text" => builder.try_init(),
        other => bail!("unknown --log-format {other:?}: expected text or json"),
    };
    result.map_err(|e| anyhow!("setting up logging: {e}"))
}

async fn run(settings: Settings, once: bool) -> Result<()> {
    let metrics = Arc::new(Metrics::default());
    let interrupt = Arc::new(AtomicBool::new(false));
    // Set when the cycle must not push: a stop was asked for, or the lease was lost.
    let cycle_stop = Arc::new(AtomicBool::new(false));
    let trigger = Arc::new(Notify::new());
    let (stop_tx, mut stop_rx) = watch::channel(false);

    {
        // Registered here, before the first cycle, so that a signal arriving
        // at any point after the "watching" line is handled, never fatal.
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        let mut int = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
        let interrupt = Arc::clone(&interrupt);
        let cycle_stop = Arc::clone(&cycle_stop);
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            tracing::info!("stop requested: finishing or abandoning the cycle in flight");
            interrupt.store(true, Ordering::SeqCst);
            cycle_stop.store(true, Ordering::SeqCst);
            let _ = stop_tx.send(true);
        });
    }

    // Without a lease this replica always leads.
    let (leading_tx, mut leading_rx) = watch::channel(settings.lease.is_none());
    let (quit_tx, quit_rx) = watch::channel(false);
    let leader = match settings.lease.clone() {
        Some(lease) => {
            let client = ::kube::Client::try_default()
                .await
                .map_err(|e| anyhow!(e))
                .context("connecting to the cluster for the lease (kubeconfig or in-cluster)")?;
            let mut elector = Elector::new(client, lease);
            // The first round runs before any cycle, so a replica starts as leader or follower.
            match elector.step().await {
                Ok(Role::Leader { .. }) => {}
                Ok(Role::Follower { holder }) => {
                    tracing::info!(holder, "following: another replica holds the lease")
                }
                Err(e) => tracing::warn!(error = format!("{e:#}"), "lease request failed"),
            }
            set_leading(&elector, &metrics, &leading_tx, &cycle_stop, &interrupt);
            let lead = Lead {
                elector,
                metrics: Arc::clone(&metrics),
                leading: leading_tx,
                cycle_stop: Arc::clone(&cycle_stop),
                interrupt: Arc::clone(&interrupt),
            };
            Some(tokio::spawn(lead.run(stop_rx.clone(), quit_rx)))
        }
        None => None,
    };

    let flux = match &settings.verification {
        Some(v) if matches!(v.method, Method::FluxEvents { .. }) => {
            if settings.listen.is_none() {
                bail!("--verify flux-events needs --listen: events arrive at POST /hooks/flux");
            }
            Some(kiln::verify::flux_events::Hooks::new(v.flux_key.clone()))
        }
        _ => None,
    };
    let server = match settings.listen {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("listening on {addr}"))?;
            let local = listener.local_addr().context("reading the listener's address")?;
            tracing::info!(%local, "HTTP listener up");
            let hooks = Arc::new(Hooks {
                metrics: Arc::clone(&metrics),
                trigger: Arc::clone(&trigger),
                github_secret: settings.github_secret.clone(),
                gitlab_token: settings.gitlab_token.clone(),
            });
            let mut stop = stop_rx.clone();
            let app = router_with(hooks, flux.clone());
            Some(tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop.wait_for(|s| *s).await;
                    })
                    .await
            }))
        }
        None => None,
    };

    let config = settings.config.clone();
    let mut verifications = tokio::task::JoinSet::new();
    // One verdict acts at a time: acting moves refs/heads/* of the mirror.
    let acting = Arc::new(tokio::sync::Mutex::new(()));
    let options = settings.render.clone();
    let render_fn = Arc::new(
        move |tree: &dyn Tree, cache: &dyn UnitCache, source: &Source, dir: &str, revisions| {
            let options = renderer::Options { revisions, ..options.clone() };
            render_flux(tree, cache, source, dir, &options)
        },
    );
    let mut watcher =
        Watcher::new(settings.config, render_fn, Arc::clone(&metrics), Arc::clone(&cycle_stop));
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "watching");
    let mut failures = 0u32;
    let mut outcome = Ok(());
    loop {
        if interrupt.load(Ordering::SeqCst) {
            break;
        }
        if !*leading_rx.borrow_and_update() {
            if once {
                tracing::info!("another replica holds the lease: nothing to do");
                break;
            }
            tokio::select! {
                _ = leading_rx.changed() => {}
                _ = stop_rx.wait_for(|s| *s) => break,
            }
            continue;
        }
        // Subscribed before the cycle pushes, so no event about its commit is
        // missed: one receiver for each environment the commit may judge.
        let mut events: Vec<_> = flux
            .as_ref()
            .map(|f| config.branches.iter().map(|_| f.subscribe()).collect())
            .unwrap_or_default();
        let (back, result) = tokio::task::spawn_blocking(move || {
            let result = watcher.cycle();
            (watcher, result)
        })
        .await
        .context("the cycle thread failed")?;
        watcher = back;
        match &result {
            Ok(CycleOutcome::Unchanged) => {
                failures = 0;
                tracing::debug!("cycle: nothing to commit");
            }
            Ok(CycleOutcome::Committed { commit, branches, attempts }) => {
                failures = 0;
                tracing::info!(%commit, ?branches, attempts, "cycle: committed");
                if let Some(verification) = &settings.verification {
                    // Each environment of the commit gets its own verdict.
                    for branch in branches {
                        let job = VerifyJob {
                            verification: Arc::clone(verification),
                            config: config.clone(),
                            rendered: *commit,
                            branch: branch.clone(),
                            events: events.pop(),
                            trigger: Arc::clone(&trigger),
                            cycle_stop: Arc::clone(&cycle_stop),
                            leading: leading_rx.clone(),
                            acting: Arc::clone(&acting),
                        };
                        verifications.spawn(job.run());
                    }
                }
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::error!(error = format!("{e:#}"), failures, "cycle failed");
            }
        }
        if once {
            while verifications.join_next().await.is_some() {}
            outcome = result.map(|_| ());
            break;
        }
        // Reap finished verifications (their outcome is logged by the task).
        while verifications.try_join_next().is_some() {}
        let wait =
            if failures > 0 { backoff(failures, settings.interval) } else { settings.interval };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = trigger.notified() => {}
            _ = stop_rx.wait_for(|s| *s) => break,
        }
    }
    // The lease is given up before exiting, so another replica takes over at once.
    let _ = quit_tx.send(true);
    if let Some(leader) = leader {
        leader.await.context("the lease task failed")?;
    }
    if once {
        return outcome;
    }
    if let Some(server) = server {
        server.await.context("the HTTP listener failed")?.context("serving HTTP")?;
    }
    tracing::info!("stopped");
    Ok(())
}

/// The lease of a replica among several: renewed every retry period until the watcher stops.
struct Lead {
    elector: Elector,
    metrics: Arc<Metrics>,
    leading: watch::Sender<bool>,
    cycle_stop: Arc<AtomicBool>,
    interrupt: Arc<AtomicBool>,
}

impl Lead {
    async fn run(mut self, mut stop: watch::Receiver<bool>, mut quit: watch::Receiver<bool>) {
        let period = self.elector.settings().retry_period();
        loop {
            tokio::select! {
                () = tokio::time::sleep(period) => {}
                _ = stop.wait_for(|s| *s) => break,
                _ = quit.wait_for(|s| *s) => break,
            }
            // A request that hangs must not keep a leader that can no longer renew leading.
            match tokio::time::timeout(period, self.elector.step()).await {
                Ok(Ok(Role::Leader { .. })) => {}
                Ok(Ok(Role::Follower { holder })) => tracing::debug!(holder, "following"),
                Ok(Err(e)) => tracing::warn!(error = format!("{e:#}"), "lease request failed"),
                Err(_) => tracing::warn!("lease request timed out"),
            }
            set_leading(
                &self.elector,
                &self.metrics,
                &self.leading,
                &self.cycle_stop,
                &self.interrupt,
            );
        }
        self.cycle_stop.store(true, Ordering::SeqCst);
        self.leading.send_replace(false);
        if self.elector.leading() {
            match tokio::time::timeout(period, self.elector.release()).await {
                Ok(Ok(())) => tracing::info!("released the lease"),
                Ok(Err(e)) => {
                    tracing::warn!(error = format!("{e:#}"), "releasing the lease failed")
                }
                Err(_) => tracing::warn!("releasing the lease timed out"),
            }
        }
    }
}

/// Publishes whether this replica leads; a replica that does not lead abandons its cycle before it pushes.
fn set_leading(
    elector: &Elector,
    metrics: &Metrics,
    leading: &watch::Sender<bool>,
    cycle_stop: &AtomicBool,
    interrupt: &AtomicBool,
) {
    let now = elector.leading();
    let identity = &elector.settings().identity;
    if now != *leading.borrow() {
        if now {
            tracing::info!(identity, "holding the lease: leading");
        } else {
            tracing::warn!(identity, "lost the lease: stopped writing");
        }
    }
    cycle_stop.store(!now || interrupt.load(Ordering::SeqCst), Ordering::SeqCst);
    metrics.set_leading(now);
    leading.send_replace(now);
}

/// The verification of one environment of one rendered commit, run in a
/// task of its own so that the render loop goes on meanwhile.
struct VerifyJob {
    verification: Arc<Verification>,
    config: Config,
    rendered: gix::ObjectId,
    /// The source branch (environment) judged.
    branch: String,
    events: Option<tokio::sync::broadcast::Receiver<kiln::verify::flux_events::FluxEvent>>,
    trigger: Arc<Notify>,
    cycle_stop: Arc<AtomicBool>,
    leading: watch::Receiver<bool>,
    acting: Arc<tokio::sync::Mutex<()>>,
}

impl VerifyJob {
    async fn run(mut self) {
        let rendered = self.rendered;
        let branch = self.branch.clone();
        let dir = self
            .config
            .branches
            .iter()
            .find(|m| m.source == branch)
            .map(|m| m.dir.clone())
            .unwrap_or_default();
        let v = Arc::clone(&self.verification);
        let request = Request {
            repo: &self.config.workdir,
            rendered,
            target_dir: &dir,
            env: &branch,
            timeout: v.timeout_for(&branch),
        };
        let verdict = match kiln::verify::run(
            &request,
            &v.method_for(&branch),
            self.events.as_mut(),
        )
        .await
        {
            Ok(verdict) => verdict,
            Err(e) => {
                tracing::error!(%rendered, branch, error = format!("{e:#}"), "verification failed to run");
                return;
            }
        };
        tracing::info!(%rendered, branch, verdict = %verdict, "deploy verdict");
        let _acting = self.acting.lock().await;
        if !*self.leading.borrow() {
            tracing::warn!(%rendered, branch, "not holding the lease: the verdict is left to the leader");
            return;
        }
        let main = (branch == v.main_follows).then(|| v.main_branch.clone());
        let config = self.config.clone();
        let stop = Arc::clone(&self.cycle_stop);
        let result = tokio::task::spawn_blocking(move || {
            settle(
                &config,
                main.as_deref(),
                rendered,
                std::slice::from_ref(&branch),
                &verdict,
                v.on_timeout,
                &stop,
            )
        })
        .await;
        match result {
            Ok(Ok(acted)) => {
                for acted in &acted {
                    tracing::info!(%rendered, branch = self.branch, acted = ?acted, "acted on the verdict");
                }
                // A revert is rendered by the next cycle: start it now.
                self.trigger.notify_one();
            }
            Ok(Err(e)) => {
                tracing::error!(%rendered, branch = self.branch, error = format!("{e:#}"), "acting on the verdict failed")
            }
            Err(e) => tracing::error!(%rendered, error = %e, "the verdict thread failed"),
        }
    }
}

/// The verification settings from the flags.
fn verification(args: &WatchArgs, branches: &[BranchMap]) -> Result<Option<Verification>> {
    let Some(by) = args.verify else {
        return Ok(None);
    };
    let method = match by {
        VerifyBy::FluxEvents => Method::FluxEvents { expect: args.flux_kustomizations.clone() },
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
    let flux_key = match &args.flux_hmac_key_env {
        Some(var) => Some(
            std::env::var(var)
                .with_context(|| format!("the Flux HMAC key variable {var} is not set"))?
                .into_bytes(),
        ),
        None => None,
    };
    let mut env_timeouts = HashMap::new();
    for text in &args.env_timeouts {
        let (env, duration) = text
            .split_once('=')
            .with_context(|| format!("--env-timeout {text:?}: expected ENV=DURATION"))?;
        let duration = kiln::verify::parse_duration(duration)
            .map_err(|e| anyhow!(e))
            .with_context(|| format!("--env-timeout {text:?}"))?;
        if !branches.iter().any(|b| b.source == env) {
            bail!("--env-timeout {text:?}: {env} is not a watched source branch");
        }
        env_timeouts.insert(env.to_string(), duration);
    }
    let main_follows = match (&args.main_follows, branches) {
        (Some(branch), _) => branch.clone(),
        (None, [only]) => only.source.clone(),
        (None, _) => "production".to_string(),
    };
    Ok(Some(Verification {
        method,
        timeout: args.verify_timeout,
        env_timeouts,
        on_timeout: args.on_timeout,
        main_branch: args.main_branch.clone(),
        main_follows,
        flux_key,
    }))
}

/// The settings from the flags (the config file already merged into them).
fn settings(args: &WatchArgs) -> Result<Settings> {
    let repo = args
        .repo
        .clone()
        .ok_or_else(|| anyhow!("no repository: pass --repo or set repo in kiln-watch.yaml"))?;
    let target_repo = args.target_repo.clone();
    let mut branches =
        args.branches.iter().map(|b| parse_branch_map(b)).collect::<Result<Vec<BranchMap>>>()?;
    if branches.is_empty() {
        branches = ["staging", "production"]
            .iter()
            .map(|b| BranchMap { source: b.to_string(), dir: b.to_string() })
            .collect();
    }
    let target_branch = args.target_branch.clone().unwrap_or("rendered".into());
    if branches.iter().any(|b| b.source == target_branch) {
        bail!("the target branch {target_branch} is also a source branch");
    }
    let interval = parse_duration(args.interval.as_deref().unwrap_or("30s"))?;
    let message = match (&args.message_template, &args.message) {
        (Some(path), _) => std::fs::read_to_string(path)
            .with_context(|| format!("reading the message template {}", path.display()))?,
        (None, Some(text)) => text.clone(),
        (None, None) => DEFAULT_MESSAGE.to_string(),
    };
    // Fail at startup, not in the first cycle, on a template that does not parse.
    minijinja::Environment::new()
        .template_from_str(&message)
        .context("the commit message template")?;
    let token_env = args.token_env.clone();
    let ssh_key = args.ssh_key.clone();
    let remote =
        |url: String| Remote { url, token_env: token_env.clone(), ssh_key: ssh_key.clone() };
    let secret = |name: Option<String>| -> Result<Option<Vec<u8>>> {
        match name {
            Some(var) => Ok(Some(
                std::env::var(&var)
                    .with_context(|| format!("the webhook secret variable {var} is not set"))?
                    .into_bytes(),
            )),
            None => Ok(None),
        }
    };
    let source = remote(repo.clone());
    let target = remote(target_repo.unwrap_or(repo));
    let verification = verification(args, &branches)?.map(Arc::new);
    let lease = match &args.lease {
        Some(text) => {
            let (namespace, name) = kiln::daemon::lease::parse_reference(text, "default")
                .with_context(|| format!("--lease {text:?}: expected namespace/name"))?;
            let identity = match &args.lease_identity {
                Some(id) => id.clone(),
                None => lease_identity(),
            };
            Some(kiln::daemon::lease::Settings {
                namespace,
                name,
                identity,
                duration: args.lease_duration,
            })
        }
        None => None,
    };
    let render = args.scope.options();
    let outside =
        [&render.chart_cache, &render.terraform_modules].into_iter().flatten().cloned().collect();
    Ok(Settings {
        config: Config {
            source,
            target,
            branches,
            target_branch,
            author: Identity {
                name: args.author_name.clone().unwrap_or("kiln".into()),
                email: args.author_email.clone().unwrap_or("kiln@localhost".into()),
                time: None,
            },
            message,
            allow_empty: args.allow_empty,
            adopt: args.adopt,
            push_attempts: args.push_attempts.unwrap_or(5).max(1),
            workdir: args.workdir.clone().unwrap_or_else(|| PathBuf::from(".kiln-watch")),
            outside,
        },
        render,
        interval,
        listen: args.listen,
        github_secret: secret(args.github_secret_env.clone())?,
        gitlab_token: secret(args.gitlab_token_env.clone())?,
        verification,
        lease,
    })
}

/// `$POD_NAME`, else the host name and process id: unique among replicas.
fn lease_identity() -> String {
    if let Ok(pod) = std::env::var("POD_NAME") {
        if !pod.is_empty() {
            return pod;
        }
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "kiln".into());
    format!("{host}-{}", std::process::id())
}

/// `30s`, `500ms`, `2m`, `1h`, or a plain number of seconds.
fn parse_duration(text: &str) -> Result<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().with_context(|| format!("invalid duration {text:?}"))?;
    let seconds = match unit {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => bail!("invalid duration {text:?}: expected a unit of ms, s, m or h"),
    };
    Duration::try_from_secs_f64(seconds).with_context(|| format!("invalid duration {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let cases = [
            ("30s", Some(30_000)),
            ("500ms", Some(500)),
            ("2m", Some(120_000)),
            ("1h", Some(3_600_000)),
            ("5", Some(5_000)),
            ("0.5s", Some(500)),
            ("", None),
            ("s", None),
            ("10d", None),
            ("-1s", None),
        ];
        for (text, want) in cases {
            let got = parse_duration(text).ok().map(|d| d.as_millis() as u64);
            assert_eq!(got, want, "{text}");
        }
    }
}
