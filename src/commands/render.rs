//! `kiln render`: a local preview of what kiln would commit.

use anyhow::{Context, Result};
use renderer::kustomize::{self, LoadRestrictor};
use renderer::{DirTree, output, yaml};
use std::path::PathBuf;

/// Render a kustomization directory (as `kubectl kustomize` does) or a whole
/// repository: Flux v2 `clusters/`, Flux v1 `releases/`, `namespaces/`
/// folders, templated `environments/`, or a plain directory of manifests
/// (a `kiln.yaml` at the root may declare the layout). Prints one YAML stream,
/// or writes one file per object with `--out`.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// A kustomization directory or a repository root; default: the current directory.
    pub path: Option<PathBuf>,
    /// Write one file per object under this directory instead of printing a stream.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub scope: super::RenderScope,
    /// kustomize's --load-restrictor: LoadRestrictionsRootOnly or LoadRestrictionsNone.
    #[arg(long, default_value = "LoadRestrictionsRootOnly")]
    pub load_restrictor: String,
    /// Accepted for `kubectl kustomize` compatibility: kiln always renders
    /// `helmCharts`, with its own Helm engine.
    #[arg(long)]
    pub enable_helm: bool,
    /// Accepted for `kubectl kustomize` compatibility and unused: kiln runs no helm binary.
    #[arg(long, value_name = "COMMAND")]
    pub helm_command: Option<String>,
    /// The Kubernetes version for `helmCharts` entries that set no `kubeVersion`.
    #[arg(long, value_name = "VERSION")]
    pub helm_kube_version: Option<String>,
    /// API versions for `helmCharts` entries that set no `apiVersions`
    /// (repeatable, or comma-separated).
    #[arg(long, value_name = "API_VERSION", value_delimiter = ',')]
    pub helm_api_versions: Vec<String>,
}

/// Runs `kiln render`.
pub fn cmd_render(args: &RenderArgs) -> Result<()> {
    let path = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let restrictor = match args.load_restrictor.as_str() {
        "LoadRestrictionsRootOnly" | "rootOnly" => LoadRestrictor::RootOnly,
        "LoadRestrictionsNone" | "none" => LoadRestrictor::None,
        other => anyhow::bail!(
            "unknown --load-restrictor {other:?}: expected LoadRestrictionsRootOnly or LoadRestrictionsNone"
        ),
    };
    let is_kustomization =
        kustomize::kustomization::FILE_NAMES.iter().any(|n| path.join(n).is_file());
    // A path that is no directory (missing, or a file) is refused as
    // `kubectl kustomize` refuses it: the kustomize engine words that.
    let not_a_dir = !path.is_dir();
    if is_kustomization || not_a_dir {
        // Confine reads to the kustomization's own directory unless told
        // otherwise, then widen the tree to the filesystem root for bases
        // that live next to it (`../base`), as kustomize does.
        let abs = if not_a_dir { std::path::absolute(&path) } else { path.canonicalize() }
            .with_context(|| format!("reading {}", path.display()))?;
        let tree = DirTree::new("/").context("opening the filesystem root")?;
        let dir = abs.to_string_lossy().trim_start_matches('/').to_string();
        let options = kustomize::Options {
            load_restrictor: restrictor,
            helm_kube_version: args.helm_kube_version.clone(),
            helm_api_versions: args.helm_api_versions.clone(),
        };
        let objects = kustomize::build(&tree, &dir, &options)
            .map_err(|e| anyhow::anyhow!(filesystem_paths(&format!("{:#}", anyhow::anyhow!(e)))))
            .with_context(|| format!("building {}", path.display()))?;
        let text = yaml::to_stream(objects.iter().map(|r| &r.value));
        match &args.out {
            Some(out) => write_tree(out, &[("kustomization".to_string(), objects)])?,
            None => print!("{text}"),
        }
        return Ok(());
    }
    let tree = DirTree::new(&path).with_context(|| format!("opening {}", path.display()))?;
    let options = args.scope.options_for(&path)?;
    let rendered = renderer::render(&tree, &options)
        .with_context(|| format!("rendering {}", path.display()))?;
    // What was deliberately left out (Kustomizations of other sources,
    // optional values never fetched) goes to stderr, so it is seen but
    // never mixed into the YAML stream.
    for c in &rendered.clusters {
        for s in &c.skipped {
            eprintln!("kiln: cluster {}: skipped {s}", c.name);
        }
    }
    match &args.out {
        Some(out) => {
            let files = output::files(&rendered, &output::Provenance::default());
            write_files(out, &files)?;
        }
        None => print!("{}", output::stream(&rendered)),
    }
    Ok(())
}

/// The kustomize engine names files relative to the tree it reads, here
/// the filesystem root (`tmp/app/kustomization.yaml`): shown as the user
/// passed them, relative to the working directory when below it and
/// absolute otherwise.
fn filesystem_paths(message: &str) -> String {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| d.canonicalize().ok())
        .map(|d| format!("{}/", d.to_string_lossy().trim_start_matches('/')))
        .unwrap_or_default();
    let roots: Vec<String> = std::fs::read_dir("/")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| format!("{}/", e.file_name().to_string_lossy()))
                .collect()
        })
        .unwrap_or_default();
    let mut out = String::with_capacity(message.len() + 16);
    let mut rest = message;
    while !rest.is_empty() {
        let at_token = out.is_empty() || out.ends_with([' ', '"', '\'', '(', '\n']);
        if at_token && cwd.len() > 1 && rest.starts_with(&cwd) {
            rest = &rest[cwd.len()..];
        } else if at_token && roots.iter().any(|r| rest.starts_with(r.as_str())) {
            out.push('/');
        }
        let Some(c) = rest.chars().next() else { break };
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn write_tree(out: &std::path::Path, units: &[(String, Vec<renderer::Resource>)]) -> Result<()> {
    let mut files = std::collections::BTreeMap::new();
    for (unit, objects) in units {
        for r in objects {
            files.insert(
                format!("{unit}/{}", output::object_path(r)),
                yaml::to_string(&r.value).into_bytes(),
            );
        }
    }
    write_files(out, &files)
}

/// Replaces the contents of `out` with `files`: everything is written to a
/// fresh sibling directory first and swapped in at the end, so a failure
/// leaves the old output whole.
pub(crate) fn write_files(
    out: &std::path::Path,
    files: &std::collections::BTreeMap<String, Vec<u8>>,
) -> Result<()> {
    let parent =
        out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let staging = tempfile_dir(parent)?;
    for (rel, bytes) in files {
        let p = staging.join(rel);
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&p, bytes).with_context(|| format!("writing {}", p.display()))?;
    }
    if out.exists() {
        std::fs::remove_dir_all(out).with_context(|| format!("removing old {}", out.display()))?;
    }
    std::fs::rename(&staging, out)
        .with_context(|| format!("moving output into {}", out.display()))?;
    Ok(())
}

fn tempfile_dir(parent: &std::path::Path) -> Result<PathBuf> {
    for i in 0..1000u32 {
        let p = parent.join(format!(".kiln-out-{}-{i}", std::process::id()));
        if std::fs::create_dir(&p).is_ok() {
            return Ok(p);
        }
    }
    anyhow::bail!("could not create a staging directory in {}", parent.display())
}
