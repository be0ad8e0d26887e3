//! The `helmCharts`, `helmGlobals` and legacy `helmChartInflationGenerator` fields of a kustomization.
//!
//! kustomize hands these to its HelmChartInflationGenerator, which runs a
//! `helm template` binary; kiln runs its own Helm engine instead (see
//! [`crate::kustomize`]'s build). The fields and their defaults follow
//! kustomize v5's `HelmChart` and `HelmGlobals` types.

use super::Fields;
use crate::kustomize::Error;
use crate::value::{Map, Value};

/// kustomize's default `helmGlobals.chartHome`.
pub const DEFAULT_CHART_HOME: &str = "charts";

/// One entry of `helmCharts`: a chart to inflate and how.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HelmChart {
    /// `name`: the chart's directory under the chart home.
    pub name: String,
    /// `version`: with `repo`, the chart lives in `<chartHome>/<name>-<version>/<name>`.
    pub version: Option<String>,
    /// `repo`: where kustomize would pull the chart from (kiln never pulls).
    pub repo: Option<String>,
    /// `releaseName`; when absent Helm generates one (`--generate-name`).
    pub release_name: Option<String>,
    /// `namespace`: `.Release.Namespace` (Helm's `default` when absent).
    pub namespace: Option<String>,
    /// `valuesFile`: used instead of the chart's `values.yaml` as the first `-f` file.
    pub values_file: Option<String>,
    /// `additionalValuesFiles`: more `-f` files, in order.
    pub additional_values_files: Vec<String>,
    /// `valuesInline`: values merged with the values file per `values_merge`.
    pub values_inline: Map,
    /// `valuesMerge`: `override` (default), `merge` or `replace`.
    pub values_merge: ValuesMerge,
    /// `includeCRDs`: print the chart's `crds/` too.
    pub include_crds: bool,
    /// `skipHooks`: leave out hook objects (`--no-hooks`).
    pub skip_hooks: bool,
    /// `skipTests`: leave out test hooks (`--skip-tests`).
    pub skip_tests: bool,
    /// `apiVersions`: `--api-versions`.
    pub api_versions: Vec<String>,
    /// `kubeVersion`: `--kube-version`.
    pub kube_version: Option<String>,
    /// `nameTemplate`: `--name-template`, a template that makes the release name.
    pub name_template: Option<String>,
    /// `debug`: `--debug` (kiln's engine prints nothing more).
    pub debug: bool,
    /// A `valuesMerge` that is none of kustomize's three: the plugin
    /// refuses it when kustomize configures it (see [`HelmChart::values_merge`]).
    pub bad_values_merge: Option<String>,
}

/// How `valuesInline` combines with the values file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ValuesMerge {
    /// Inline values win over the file's.
    #[default]
    Override,
    /// The file's values win; inline values fill what the file lacks.
    Merge,
    /// Only the inline values are used.
    Replace,
}

/// `helmGlobals`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HelmGlobals {
    /// `chartHome`, relative to the kustomization (default `charts`).
    pub chart_home: Option<String>,
    /// `configHome`: Helm's configuration directory (kiln's engine reads none).
    pub config_home: Option<String>,
}

impl Fields<'_> {
    /// One `helmCharts` entry (kustomize decodes it strictly: unknown fields are errors).
    pub(super) fn helm_chart(&self, v: &Value, ctx: &str) -> Result<HelmChart, Error> {
        let m = self.map(v, ctx)?;
        let flag = |key: &str| -> Result<bool, Error> {
            Ok(self.bool(m.get(key), &format!("{ctx}.{key}"))?.unwrap_or(false))
        };
        let list = |key: &str| -> Result<Vec<String>, Error> {
            m.get(key).map_or(Ok(Vec::new()), |v| self.strings(v, &format!("{ctx}.{key}")))
        };
        let values_inline = match m.get("valuesInline") {
            None | Some(Value::Null) => Map::new(),
            Some(v) => self.map(v, &format!("{ctx}.valuesInline"))?.clone(),
        };
        Ok(HelmChart {
            name: self.opt_string(m, "name", ctx)?.unwrap_or_default(),
            version: self.opt_string(m, "version", ctx)?.filter(|s| !s.is_empty()),
            repo: self.opt_string(m, "repo", ctx)?.filter(|s| !s.is_empty()),
            release_name: self.opt_string(m, "releaseName", ctx)?.filter(|s| !s.is_empty()),
            namespace: self.opt_string(m, "namespace", ctx)?.filter(|s| !s.is_empty()),
            values_file: self.opt_string(m, "valuesFile", ctx)?.filter(|s| !s.is_empty()),
            additional_values_files: list("additionalValuesFiles")?,
            values_inline,
            values_merge: self.values_merge(m, ctx)?.0,
            bad_values_merge: self.values_merge(m, ctx)?.1,
            debug: flag("debug")?,
            include_crds: flag("includeCRDs")?,
            skip_hooks: flag("skipHooks")?,
            skip_tests: flag("skipTests")?,
            api_versions: list("apiVersions")?,
            kube_version: self.opt_string(m, "kubeVersion", ctx)?.filter(|s| !s.is_empty()),
            name_template: self.opt_string(m, "nameTemplate", ctx)?.filter(|s| !s.is_empty()),
        })
    }

    /// `valuesMerge`, and the text when it is none of the three (kustomize
    /// refuses it only when it configures the chart's plugin).
    fn values_merge(&self, m: &Map, ctx: &str) -> Result<(ValuesMerge, Option<String>), Error> {
        Ok(match self.opt_string(m, "valuesMerge", ctx)?.as_deref() {
            None | Some("") | Some("override") => (ValuesMerge::Override, None),
            Some("merge") => (ValuesMerge::Merge, None),
            Some("replace") => (ValuesMerge::Replace, None),
            Some(other) => (ValuesMerge::Override, Some(other.to_string())),
        })
    }

    /// `helmGlobals`.
    pub(super) fn helm_globals(&self, v: &Value, ctx: &str) -> Result<HelmGlobals, Error> {
        let m = self.map(v, ctx)?;
        Ok(HelmGlobals {
            chart_home: self.opt_string(m, "chartHome", ctx)?.filter(|s| !s.is_empty()),
            config_home: self.opt_string(m, "configHome", ctx)?.filter(|s| !s.is_empty()),
        })
    }

    /// One entry of the deprecated `helmChartInflationGenerator` field, as
    /// kustomize converts it: the chart, and its `chartHome` (the last
    /// non-empty one of the list wins). `releaseNamespace`, `helmBin`,
    /// `chartRepoName` and `extraArgs` are read and, as in kustomize, unused.
    pub(super) fn legacy_helm_chart(
        &self,
        v: &Value,
        ctx: &str,
    ) -> Result<(HelmChart, Option<String>), Error> {
        let m = self.map(v, ctx)?;
        let values_inline = match m.get("valuesLocal") {
            None | Some(Value::Null) => Map::new(),
            Some(v) => self.map(v, &format!("{ctx}.valuesLocal"))?.clone(),
        };
        let chart = HelmChart {
            name: self.opt_string(m, "chartName", ctx)?.unwrap_or_default(),
            version: self.opt_string(m, "chartVersion", ctx)?.filter(|s| !s.is_empty()),
            repo: self.opt_string(m, "chartRepoUrl", ctx)?.filter(|s| !s.is_empty()),
            release_name: self.opt_string(m, "releaseName", ctx)?.filter(|s| !s.is_empty()),
            values_file: self.opt_string(m, "values", ctx)?.filter(|s| !s.is_empty()),
            values_inline,
            values_merge: self.values_merge(m, ctx)?.0,
            bad_values_merge: self.values_merge(m, ctx)?.1,
            ..HelmChart::default()
        };
        let home = self.opt_string(m, "chartHome", ctx)?.filter(|s| !s.is_empty());
        Ok((chart, home))
    }
}
