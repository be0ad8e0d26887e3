//! `kiln helm template`: render a chart as `helm template` does.

use anyhow::{Context, Result, bail};
use renderer::helm::values::{SetKind, apply_set, apply_set_file, merge_maps};
use renderer::helm::{Options, chart, template};

/// Helm chart commands.
#[derive(Debug, clap::Args)]
pub struct HelmArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: HelmCommand,
}

/// `kiln helm` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum HelmCommand {
    /// Render a chart's templates and print them, as `helm template` does.
    Template(TemplateArgs),
}

/// `kiln helm template [NAME] CHART`.
#[derive(Debug, clap::Args)]
pub struct TemplateArgs {
    /// The release name and the chart directory or .tgz (the name defaults to `release-name`).
    #[arg(num_args = 1..=2, required = true)]
    pub args: Vec<String>,
    /// A values file; later files win.
    #[arg(short = 'f', long = "values")]
    pub values: Vec<String>,
    /// Set values: `a.b=1,c[0]=x`.
    #[arg(long)]
    pub set: Vec<String>,
    /// Set string values.
    #[arg(long = "set-string")]
    pub set_string: Vec<String>,
    /// Set JSON values: `a.b={"x":1}`.
    #[arg(long = "set-json")]
    pub set_json: Vec<String>,
    /// Set values from files: `key=path`.
    #[arg(long = "set-file")]
    pub set_file: Vec<String>,
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    /// Print the chart's CRDs too.
    #[arg(long = "include-crds")]
    pub include_crds: bool,
    /// Leave out test hooks.
    #[arg(long = "skip-tests")]
    pub skip_tests: bool,
    /// The Kubernetes version `.Capabilities` reports.
    #[arg(long = "kube-version")]
    pub kube_version: Option<String>,
    /// Extra API versions for `.Capabilities.APIVersions`.
    #[arg(short = 'a', long = "api-versions")]
    pub api_versions: Vec<String>,
}

/// Runs `kiln helm`; `true` when it failed and printed the error itself.
///
/// Like `helm template`, a failure prints `Error: ...` (followed, for an
/// error met while rendering, by Helm's hint to use `--debug`) and exits
/// with status 1.
pub fn cmd_helm(args: &HelmArgs) -> Result<bool> {
    match &args.command {
        HelmCommand::Template(t) => match render(t) {
            Ok(out) => {
                print!("{out}");
                Ok(false)
            }
            Err(e) => {
                eprintln!("Error: {}", helm_error_text(&e));
                Ok(true)
            }
        },
    }
}

/// The text `helm template` prints after `Error: `.
fn helm_error_text(e: &anyhow::Error) -> String {
    match e.downcast_ref::<renderer::helm::Error>() {
        Some(h) if h.is_render_error() => {
            format!("{h}\n\n{}", renderer::helm::DEBUG_HINT)
        }
        _ => format!("{e:#}"),
    }
}

fn render(t: &TemplateArgs) -> Result<String> {
    let (release, chart_path) = match t.args.as_slice() {
        [chart] => ("release-name".to_string(), chart.clone()),
        [name, chart] => (name.clone(), chart.clone()),
        _ => bail!("expected [NAME] CHART"),
    };
    let mut values = renderer::Map::new();
    for f in &t.values {
        let bytes = std::fs::read(f).with_context(|| format!("reading values file {f}"))?;
        let map = chart::load_values(&bytes, f).with_context(|| format!("failed to parse {f}"))?;
        merge_maps(&mut values, map);
    }
    for s in &t.set_json {
        apply_set(&mut values, s, SetKind::Json)?;
    }
    for s in &t.set {
        apply_set(&mut values, s, SetKind::Typed)?;
    }
    for s in &t.set_string {
        apply_set(&mut values, s, SetKind::String)?;
    }
    for s in &t.set_file {
        let (key, path) = s.split_once('=').with_context(|| format!("--set-file {s:?}: no `=`"))?;
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
        apply_set_file(&mut values, key, text)?;
    }
    let path = std::path::Path::new(&chart_path);
    // What the helm-template oracle (Helm 4's chart locating) prints for a
    // chart that is not there; kiln reads no chart repositories.
    if std::fs::symlink_metadata(path).is_err() {
        bail!("path '{chart_path}' not found");
    }
    let (dir, name) = match (path.parent(), path.file_name()) {
        (Some(p), Some(n)) => {
            (if p.as_os_str().is_empty() { std::path::Path::new(".") } else { p }, n)
        }
        _ => (path, std::ffi::OsStr::new("")),
    };
    let tree = renderer::DirTree::new(dir).with_context(|| format!("opening {chart_path}"))?;
    let options = Options {
        release,
        namespace: t.namespace.clone(),
        values,
        kube_version: t.kube_version.clone(),
        api_versions: t.api_versions.clone(),
        include_crds: t.include_crds,
        skip_tests: t.skip_tests,
    };
    // Helm names the chart by the absolute path it located it at.
    template(&tree, &name.to_string_lossy(), &options).map_err(|e| {
        let cwd = std::env::current_dir().map(|d| d.to_string_lossy().into_owned());
        match cwd {
            Ok(cwd) => e.located_at(&renderer::helm::chart_location(&cwd, &chart_path)),
            Err(_) => e,
        }
        .into()
    })
}
