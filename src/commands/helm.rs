//! `kiln helm template`: render a chart as `helm template` does.

use anyhow::{Context, Result, bail};
use renderer::helm::values::{SetKind, apply_set_file, apply_set_tracked, merge_maps};
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
    /// A values file, or several separated by commas (read as CSV, as Helm
    /// reads the flag); later files win.
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
    /// Set values from files: `key=path` (strvals syntax, each value a file).
    #[arg(long = "set-file")]
    pub set_file: Vec<String>,
    /// Set a literal string value: `key=rest of the text, as it is`.
    #[arg(long = "set-literal")]
    pub set_literal: Vec<String>,
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
    /// Extra API versions for `.Capabilities.APIVersions`; a value may list
    /// several, separated by commas.
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

/// A `-f` or `--set-file` file as Helm's `readFile` reads it (`-` is
/// standard input), or Go's words for why it cannot; kiln fetches no URL.
fn read_file(name: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let bytes = if name.trim() == "-" {
        let mut b = Vec::new();
        std::io::stdin().read_to_end(&mut b).map(|_| b)
    } else if let Some((scheme, _)) = name.split_once("://") {
        return Err(format!("{scheme}: kiln fetches no values over the network"));
    } else {
        std::fs::read(name)
    };
    bytes.map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            std::io::ErrorKind::IsADirectory => return format!("read {name}: is a directory"),
            _ => e.to_string(),
        };
        format!("open {name}: {why}")
    })
}

/// A `--set-file` value: the file's text, bytes that are not UTF-8 kept as
/// Go's `string(bytes)` keeps them.
fn read_set_file(name: &str) -> Result<String, String> {
    read_file(name).map(|bytes| renderer::gotmpl::sprig::from_go_bytes(&bytes))
}

fn render(t: &TemplateArgs) -> Result<String> {
    let (release, chart_path) = match t.args.as_slice() {
        [chart] => ("release-name".to_string(), chart.clone()),
        [name, chart] => (name.clone(), chart.clone()),
        _ => bail!("expected [NAME] CHART"),
    };
    let mut values = renderer::Map::new();
    // Helm's flag parser splits every `-f` before the command runs.
    let files = renderer::helm::flag_list::items("-f, --values", &t.values)?;
    for f in &files {
        let bytes = read_file(f).map_err(anyhow::Error::msg)?;
        let map = chart::load_values(&bytes, f).with_context(|| format!("failed to parse {f}"))?;
        merge_maps(&mut values, map);
    }
    // Helm's order: --set-json, --set, --set-string, --set-file, --set-literal.
    let mut exact_lists = Vec::new();
    for s in &t.set_json {
        apply_set_tracked(&mut values, &mut exact_lists, s, SetKind::Json)?;
    }
    for s in &t.set {
        apply_set_tracked(&mut values, &mut exact_lists, s, SetKind::Typed)?;
    }
    for s in &t.set_string {
        apply_set_tracked(&mut values, &mut exact_lists, s, SetKind::String)?;
    }
    for s in &t.set_file {
        apply_set_file(&mut values, &mut exact_lists, s, &read_set_file)?;
    }
    for s in &t.set_literal {
        apply_set_tracked(&mut values, &mut exact_lists, s, SetKind::Literal)?;
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
        exact_lists,
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
