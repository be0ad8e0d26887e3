//! `helmCharts` inflated by kiln's own Helm engine, where kustomize runs a `helm template` binary.
//!
//! What kustomize v5's HelmChartInflationGenerator does, step by step: the
//! chart is the directory `<chartHome>/<name>` (`<chartHome>/<name>-<version>/<name>`
//! when both `version` and `repo` are set); the first values file is
//! `valuesFile`, or the chart's own `values.yaml`, with `valuesInline`
//! merged into it per `valuesMerge`; `additionalValuesFiles` follow; the
//! release is `releaseName`, else `nameTemplate`, else a generated name;
//! Helm renders with the chart's defaults under all of that; hooks stay
//! unless `skipHooks`. kiln never pulls a chart: a chart that is not in the
//! chart home is an error that says where to vendor it.

use super::Error;
use super::kustomization::{DEFAULT_CHART_HOME, HelmChart, HelmGlobals, ValuesMerge};
use crate::helm;
use crate::resource::Resource;
use crate::tree::{self, EntryKind, Tree};
use crate::value::Map;

/// Reads a file named by the kustomization, relative to its directory and
/// within the load restrictions: gives its path and text.
pub(super) type ReadFile<'a> = dyn Fn(&str, &str) -> Result<(String, String), Error> + 'a;

/// Renders one chart of a kustomization in `dir` into its objects.
pub(super) fn inflate(
    tree: &dyn Tree,
    dir: &str,
    file: &str,
    chart: &HelmChart,
    globals: &HelmGlobals,
    options: &super::Options,
    read: &ReadFile<'_>,
) -> Result<Vec<Resource>, Error> {
    let invalid = |message: String| Error::Invalid { file: file.to_string(), message };
    check_config(file, chart, globals)?;
    let mut home = globals.chart_home.clone().unwrap_or_else(|| DEFAULT_CHART_HOME.to_string());
    if let (Some(version), Some(_)) = (&chart.version, &chart.repo) {
        home = format!("{home}/{}-{version}", chart.name);
    }
    let chart_rel = format!("{home}/{}", chart.name);
    let chart_dir = tree::join(dir, &chart_rel).map_err(|e| invalid(e.to_string()))?;
    if tree.kind(&chart_dir) != Some(EntryKind::Dir) {
        return Err(invalid(match &chart.repo {
            // kustomize names no location here (its message says ''); the
            // directory looked in follows, as the reader needs it.
            None => format!(
                "no repo specified for pull, no chart found at '' (no chart directory {chart_dir:?})"
            ),
            Some(repo) => format!(
                "helm chart {:?}{} from {repo} is not in {chart_dir:?}: kiln does not pull charts; vendor the chart there (e.g. `helm pull --untar`)",
                chart.name,
                chart.version.as_deref().map(|v| format!(" version {v}")).unwrap_or_default(),
            ),
        }));
    }

    let values_rel =
        chart.values_file.clone().unwrap_or_else(|| format!("{chart_rel}/values.yaml"));
    let mut values =
        if chart.values_merge == ValuesMerge::Replace && !chart.values_inline.is_empty() {
            chart.values_inline.clone()
        } else {
            let (path, text) = read(&values_rel, "helm values")?;
            combine(values_map(&text, &path)?, &chart.values_inline, chart.values_merge)
        };
    for rel in &chart.additional_values_files {
        let (path, text) = read(rel, "additional helm values")?;
        helm::values::merge_maps(&mut values, values_map(&text, &path)?);
    }

    let release = release_name(chart).map_err(invalid)?;
    let options = helm::Options {
        release,
        namespace: chart.namespace.clone().unwrap_or_else(|| "default".to_string()),
        values,
        // The command line's `--helm-kube-version` and `--helm-api-versions`
        // stand in for what a chart entry leaves unset.
        kube_version: chart.kube_version.clone().or_else(|| options.helm_kube_version.clone()),
        api_versions: if chart.api_versions.is_empty() {
            options.helm_api_versions.clone()
        } else {
            chart.api_versions.clone()
        },
        include_crds: chart.include_crds,
        skip_tests: chart.skip_tests,
        // kustomize hands Helm its values as a file only: no `--set` lists.
        exact_lists: Vec::new(),
    };
    let text = helm::template(tree, &chart_dir, &options)
        .map_err(|e| invalid(format!("helm chart {:?}: {e}", chart.name)))?;
    let mut out = Vec::new();
    for doc in super::build::objects_in(&text, &chart_dir)? {
        if chart.skip_hooks && is_hook(&doc) {
            continue;
        }
        out.push(doc);
    }
    Ok(out)
}

/// What kustomize's Helm chart inflator refuses in a chart's entry as it
/// is configured, before any generator runs. kustomize hands each chart to
/// its plugin as YAML and shows that text with the problem.
pub(super) fn check_config(
    file: &str,
    chart: &HelmChart,
    globals: &HelmGlobals,
) -> Result<(), Error> {
    let trouble = |problem: &str| Error::Invalid {
        file: file.to_string(),
        message: format!(
            "trouble configuring builtin HelmChartInflationGenerator with config: `\n{}`: {problem}",
            plugin_config(chart, globals)
        ),
    };
    if chart.name.is_empty() {
        return Err(trouble("chart name cannot be empty"));
    }
    if chart.bad_values_merge.is_some() {
        return Err(trouble("valuesMerge must be one of [merge override replace]"));
    }
    Ok(())
}

/// A values file as Helm reads it.
fn values_map(text: &str, path: &str) -> Result<Map, Error> {
    helm::chart::read_map(text.as_bytes(), path, true)
        .map_err(|e| Error::Invalid { file: path.to_string(), message: e.to_string() })
}

/// The values file's map combined with `valuesInline`, both merged as Helm
/// merges values files: inline values win under `override` and only fill
/// what the file lacks under `merge`.
fn combine(from_file: Map, inline: &Map, mode: ValuesMerge) -> Map {
    match mode {
        _ if inline.is_empty() => from_file,
        ValuesMerge::Override => {
            let mut out = from_file;
            helm::values::merge_maps(&mut out, inline.clone());
            out
        }
        ValuesMerge::Merge | ValuesMerge::Replace => {
            let mut out = inline.clone();
            helm::values::merge_maps(&mut out, from_file);
            out
        }
    }
}

/// The release name Helm settles on: `releaseName`; else `nameTemplate`
/// rendered with Sprig and no data; else, as `helm template
/// --generate-name`, the chart directory's name up to its first dot, a
/// dash and the current Unix time (so such a render differs every second).
/// Helm checks the name ([`helm::check_release_name`]) once it has loaded
/// the chart.
fn release_name(chart: &HelmChart) -> Result<String, String> {
    Ok(match (&chart.release_name, &chart.name_template) {
        (Some(name), _) => name.clone(),
        (None, Some(template)) => render_name_template(template)?,
        (None, None) => {
            let base = chart.name.rsplit('/').next().unwrap_or(&chart.name);
            let base = base.split('.').next().filter(|b| !b.is_empty()).unwrap_or("chart");
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            format!("{base}-{now}")
        }
    })
}

fn render_name_template(template: &str) -> Result<String, String> {
    use crate::gotmpl;
    let funcs = gotmpl::sprig::funcs();
    let mut set = gotmpl::Templates::new();
    set.parse("name-template", template, &funcs).map_err(|e| e.to_string())?;
    set.execute("name-template", gotmpl::Value::Nil, &funcs, &gotmpl::Options::default())
        .map_err(|e| e.to_string())
}

/// Helm's rule for release names: a DNS subdomain of at most 53 characters.
/// Whether an object is a Helm hook (`helm template --no-hooks` leaves these out).
fn is_hook(r: &Resource) -> bool {
    r.value.get_path(&["metadata", "annotations", "helm.sh/hook"]).is_some()
}

/// The configuration kustomize gives its HelmChartInflationGenerator for a
/// chart: the globals and the chart's fields as Go's JSON of them (fields
/// left empty omitted), printed as YAML with sorted keys (sigs.k8s.io/yaml).
fn plugin_config(chart: &HelmChart, globals: &HelmGlobals) -> String {
    use crate::value::Value;
    let mut m = Map::new();
    let mut text = |key: &str, v: Option<&String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            m.insert(key.to_string(), Value::String(v.clone()));
        }
    };
    text("chartHome", globals.chart_home.as_ref());
    text("configHome", globals.config_home.as_ref());
    text("name", Some(&chart.name));
    text("version", chart.version.as_ref());
    text("repo", chart.repo.as_ref());
    text("releaseName", chart.release_name.as_ref());
    text("namespace", chart.namespace.as_ref());
    text("valuesFile", chart.values_file.as_ref());
    text("kubeVersion", chart.kube_version.as_ref());
    text("nameTemplate", chart.name_template.as_ref());
    let merge = match (&chart.bad_values_merge, chart.values_merge) {
        (Some(bad), _) => Some(bad.clone()),
        (None, ValuesMerge::Merge) => Some("merge".to_string()),
        (None, ValuesMerge::Replace) => Some("replace".to_string()),
        (None, ValuesMerge::Override) => None,
    };
    text("valuesMerge", merge.as_ref());
    for (key, list) in [
        ("additionalValuesFiles", &chart.additional_values_files),
        ("apiVersions", &chart.api_versions),
    ] {
        if !list.is_empty() {
            m.insert(key.into(), Value::Seq(list.iter().cloned().map(Value::String).collect()));
        }
    }
    for (key, on) in [
        ("includeCRDs", chart.include_crds),
        ("skipHooks", chart.skip_hooks),
        ("skipTests", chart.skip_tests),
        ("debug", chart.debug),
    ] {
        if on {
            m.insert(key.into(), Value::Bool(true));
        }
    }
    if !chart.values_inline.is_empty() {
        m.insert("valuesInline".into(), Value::Map(chart.values_inline.clone()));
    }
    let mut v = Value::Map(m);
    sort_keys_deep(&mut v);
    crate::yaml::to_string(&v)
}

/// Sorts every map's keys, as a round trip through Go's JSON does.
fn sort_keys_deep(v: &mut crate::value::Value) {
    use crate::value::Value;
    match v {
        Value::Map(m) => {
            m.sort_keys();
            m.values_mut().for_each(sort_keys_deep);
        }
        Value::Seq(items) => items.iter_mut().for_each(sort_keys_deep),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn release_names_follow_helm() {
        let named = |release: Option<&str>, template: Option<&str>, name: &str| HelmChart {
            name: name.into(),
            release_name: release.map(String::from),
            name_template: template.map(String::from),
            ..HelmChart::default()
        };
        assert_eq!(release_name(&named(Some("web"), None, "x")).unwrap(), "web");
        assert_eq!(
            release_name(&named(None, Some("{{ \"abc\" | upper | lower }}-x"), "x")).unwrap(),
            "abc-x"
        );
        let generated = release_name(&named(None, None, "my.chart")).unwrap();
        let (base, secs) = generated.split_once('-').unwrap();
        assert_eq!(base, "my");
        assert!(secs.parse::<u64>().unwrap() > 1_700_000_000, "{generated}");
    }

    #[test]
    fn inline_values_override_or_fill() {
        let map = |text: &str| match crate::yaml::parse_documents(text, "t").unwrap().remove(0) {
            Value::Map(m) => m,
            _ => unreachable!(),
        };
        let file = map("a: 1\nb: {c: 2, d: 3}\nl: [1]\n");
        let inline = map("a: 9\nb: {c: 8, e: 7}\nl: [2]\n");
        let over = combine(file.clone(), &inline, ValuesMerge::Override);
        assert_eq!(over, map("a: 9\nb: {c: 8, d: 3, e: 7}\nl: [2]\n"));
        let fill = combine(file.clone(), &inline, ValuesMerge::Merge);
        assert_eq!(fill, map("a: 1\nb: {c: 2, d: 3, e: 7}\nl: [1]\n"));
    }

    /// `skipHooks` drops every object with a `helm.sh/hook` annotation (what
    /// `helm template --no-hooks` prints); `includeCRDs` adds the chart's
    /// `crds/` (`--include-crds`). The helm-template oracle supports neither
    /// flag, so these are checked here rather than in the recorded corpus.
    #[test]
    fn skip_hooks_and_include_crds() {
        let mut tree = crate::tree::MemTree::new();
        tree.insert("charts/c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 0.1.0\n");
        tree.insert("charts/c/values.yaml", "n: 1\n");
        tree.insert(
            "charts/c/crds/crd.yaml",
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: things.example.com\n",
        );
        tree.insert(
            "charts/c/templates/all.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hooked\n  annotations:\n    helm.sh/hook: post-install\n",
        );
        let build = |flags: &str| {
            let text = format!("helmCharts:\n- name: c\n  releaseName: r\n{flags}");
            tree_with(&tree, &text)
        };
        let names = |flags: &str| -> Vec<String> {
            let mut names: Vec<String> = build(flags).iter().map(|r| r.name().into()).collect();
            names.sort();
            names
        };
        assert_eq!(names(""), ["hooked", "plain"]);
        assert_eq!(names("  skipHooks: true\n"), ["plain"]);
        assert_eq!(
            names("  includeCRDs: true\n  skipHooks: true\n"),
            ["plain", "things.example.com"]
        );
    }

    fn tree_with(base: &crate::tree::MemTree, kustomization: &str) -> Vec<Resource> {
        let mut tree = base.clone();
        tree.insert("kustomization.yaml", kustomization);
        crate::kustomize::build(&tree, "", &crate::kustomize::Options::default()).expect("builds")
    }
}
