//! Transformer configurations: field specs added by `configurations:` files and `crds:` schemas.

use super::kustomization::{LabelSet, UserFieldSpec};
use super::transform::name_reference::TargetGvk;
use super::{Error, default_config, go_decode, go_sort};
use crate::resource::Gvk;
use crate::value::{Map, Value};
use std::collections::HashMap;

/// Field specs that extend the built-in tables of the transformers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// The `nameReference` entries of `configurations` as written (the
    /// referenced group, version and kind, and the referrers), in order:
    /// what kustomize merges into its table.
    pub name_back_refs: Vec<(TargetGvk, Vec<UserFieldSpec>)>,
    /// Extra places for `commonLabels` (and `labels` with `includeSelectors`).
    pub common_labels: Vec<UserFieldSpec>,
    /// Extra places for `commonAnnotations`.
    pub common_annotations: Vec<UserFieldSpec>,
    /// Extra image fields for `images`.
    pub images: Vec<UserFieldSpec>,
    /// Extra fields where vars are expanded.
    pub var_reference: Vec<UserFieldSpec>,
    /// Extra fields that `namePrefix` prefixes.
    pub name_prefix: Vec<UserFieldSpec>,
    /// Extra fields that `nameSuffix` suffixes.
    pub name_suffix: Vec<UserFieldSpec>,
    /// Extra fields that `namespace` sets.
    pub namespace: Vec<UserFieldSpec>,
    /// Extra places for `labels` with `includeTemplates` (not selectors).
    pub template_labels: Vec<UserFieldSpec>,
    /// Extra places for every `labels` entry, whatever its include flags
    /// (never `commonLabels`).
    pub labels: Vec<UserFieldSpec>,
    /// Extra fields that `replicas` sets.
    pub replicas: Vec<UserFieldSpec>,
}

impl UserFieldSpec {
    /// Whether the spec applies to objects of this kind: each of its group,
    /// version and kind that is set and not empty must be equal.
    pub fn matches(&self, gvk: &Gvk) -> bool {
        let eq = |want: &Option<String>, have: &str| {
            want.as_deref().is_none_or(|w| w.is_empty() || w == have)
        };
        eq(&self.group, &gvk.group) && eq(&self.version, &gvk.version) && eq(&self.kind, &gvk.kind)
    }
}

/// A field spec of a built-in table: group, version and kind (empty when
/// unset), path, create.
pub(super) type TableSpec = (&'static str, &'static str, &'static str, &'static str, bool);

/// A name reference entry of a built-in table: the referenced group,
/// version and kind (empty when unset), and the fields that name it.
pub(super) type TableRef = ((&'static str, &'static str, &'static str), &'static [TableSpec]);

fn err(file: &str, message: String) -> Error {
    Error::Invalid { file: file.to_string(), message }
}

fn str_field(m: &Map, key: &str) -> Option<String> {
    m.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Reads a list of field specs (`fieldSpecs:` of a configuration or plugin).
pub(crate) fn specs(v: Option<&Value>, file: &str, ctx: &str) -> Result<Vec<UserFieldSpec>, Error> {
    read_specs(v, file, ctx, false)
}

/// Reads a list of field specs. `path_text`: the list is a
/// `configurations:` file's, which sigs.k8s.io/yaml decodes into its Go
/// type, writing a number or bool where a spec's path is due as its text.
fn read_specs(
    v: Option<&Value>,
    file: &str,
    ctx: &str,
    path_text: bool,
) -> Result<Vec<UserFieldSpec>, Error> {
    let items = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Seq(items)) => items,
        Some(other) => {
            return Err(err(
                file,
                format!("{ctx}: expected a list, found a {}", other.type_name()),
            ));
        }
    };
    // Go decodes a null item into the zero field spec: an empty path, on
    // objects of every kind.
    let zero = Map::new();
    items
        .iter()
        .map(|item| {
            let m = match item {
                Value::Null => &zero,
                _ => item.as_map().ok_or_else(|| {
                    err(
                        file,
                        format!("{ctx}: expected a field spec map, found a {}", item.type_name()),
                    )
                })?,
            };
            let path =
                match m.get("path") {
                    Some(
                        v @ (Value::Bool(_) | Value::Int(_) | Value::Uint(_) | Value::Float(_)),
                    ) if path_text => crate::resource::scalar_text(v, &[], &[]).unwrap_or_default(),
                    _ => str_field(m, "path").unwrap_or_default(),
                };
            Ok(UserFieldSpec {
                group: str_field(m, "group"),
                version: str_field(m, "version"),
                kind: str_field(m, "kind"),
                path,
                create: matches!(m.get("create"), Some(Value::Bool(true))),
            })
        })
        .collect()
}

impl Config {
    /// Reads a `configurations:` file's first document: kustomize decodes
    /// it with sigs.k8s.io/yaml into its Go struct, strictly, and fails
    /// with the decoder's first error.
    pub fn parse(doc: &Value, file: &str) -> Result<Config, Error> {
        let ty = &go_decode::TRANSFORMER_CONFIG;
        if let Some(e) = go_decode::first_error(doc, ty, go_decode::Source::Yaml, true) {
            return Err(err(file, format!("error unmarshaling JSON: while decoding JSON: {e}")));
        }
        let doc = go_decode::canonical(doc, ty, true);
        let Value::Map(m) = &doc else {
            return Ok(Config::default());
        };
        let list = |key: &str| read_specs(m.get(key), file, key, true);
        let mut c = Config {
            common_labels: list("commonLabels")?,
            common_annotations: list("commonAnnotations")?,
            images: list("images")?,
            var_reference: list("varReference")?,
            name_prefix: list("namePrefix")?,
            name_suffix: list("nameSuffix")?,
            namespace: list("namespace")?,
            template_labels: list("templateLabels")?,
            labels: list("labels")?,
            replicas: list("replicas")?,
            ..Config::default()
        };
        match m.get("nameReference") {
            None | Some(Value::Null) => {}
            Some(Value::Seq(refs)) => {
                for r in refs {
                    let Some(rm) = r.as_map() else { continue };
                    let ctx = "nameReference.fieldSpecs";
                    let referrers = read_specs(rm.get("fieldSpecs"), file, ctx, true)?;
                    let target = TargetGvk {
                        group: str_field(rm, "group"),
                        version: str_field(rm, "version"),
                        kind: str_field(rm, "kind"),
                    };
                    c.name_back_refs.push((target, referrers));
                }
            }
            Some(other) => {
                return Err(err(
                    file,
                    format!("nameReference: expected a list, found a {}", other.type_name()),
                ));
            }
        }
        Ok(c)
    }

    /// Reads the OpenAPI definitions of a `crds:` file: the object
    /// references, label selectors, annotation maps and identities its
    /// properties mark (see [`walk`]).
    pub fn from_crd_schema(doc: &Value, file: &str) -> Result<Config, Error> {
        let Some(defs) = doc.as_map() else {
            return Err(err(file, "expected a map of OpenAPI definitions".into()));
        };
        let mut c = Config::default();
        for (name, def) in defs {
            if !matches!(def, Value::Map(_) | Value::Null) {
                return Err(err(
                    file,
                    format!(
                        "OpenAPI definition {name:?}: expected a map, found a {}",
                        def.type_name()
                    ),
                ));
            }
            let Some(props) = def.get_path(&["Schema", "properties"]).and_then(Value::as_map)
            else {
                continue;
            };
            // kustomize reads only the definitions that look like a
            // Kubernetes type.
            if !["kind", "apiVersion", "metadata"].iter().all(|p| props.contains_key(*p)) {
                continue;
            }
            let kind = name.rsplit('.').next().unwrap_or(name).to_string();
            let mut seen = Vec::new();
            walk(defs, props, &kind, "", &mut c, &mut seen);
        }
        Ok(c)
    }

    /// Adds another configuration's specs.
    ///
    /// A spec already present is not added again, as kustomize's `MergeAll`
    /// skips a spec whose path equals an earlier one's and whose group,
    /// version and kind select it: the same `configurations:` file reached
    /// from a base and its overlay applies once.
    pub fn merge(&mut self, other: Config) {
        for (target, referrers) in other.name_back_refs {
            // Entries stay apart ([`Config::check_conflicts`] folds them as
            // kustomize does); only referrers an entry about the same target
            // already holds are left out.
            let new: Vec<UserFieldSpec> = referrers
                .into_iter()
                .filter(|r| {
                    !self
                        .name_back_refs
                        .iter()
                        .any(|(t, have)| *t == target && have.iter().any(|h| present(h, r)))
                })
                .collect();
            if !new.is_empty() {
                self.name_back_refs.push((target, new));
            }
        }
        extend_specs(&mut self.common_labels, other.common_labels);
        extend_specs(&mut self.common_annotations, other.common_annotations);
        extend_specs(&mut self.images, other.images);
        extend_specs(&mut self.var_reference, other.var_reference);
        extend_specs(&mut self.name_prefix, other.name_prefix);
        extend_specs(&mut self.name_suffix, other.name_suffix);
        extend_specs(&mut self.namespace, other.namespace);
        extend_specs(&mut self.template_labels, other.template_labels);
        extend_specs(&mut self.labels, other.labels);
        extend_specs(&mut self.replicas, other.replicas);
    }
}

impl Config {
    /// Go's `%v` of kustomize's `TransformerConfig` holding these specs
    /// (without the `&` of the pointer kustomize prints): its eleven lists
    /// in its field order, each in the order it holds, a field spec as
    /// `Kind.Version.Group:create:path`, a name reference entry as its
    /// referenced kind and its referrers on lines of their own.
    pub fn go_v(&self) -> String {
        fn list(specs: &[UserFieldSpec]) -> String {
            let items: Vec<String> = specs.iter().map(go_field_spec).collect();
            format!("[{}]", items.join(" "))
        }
        let refs: Vec<String> = self
            .name_back_refs
            .iter()
            .map(|(t, referrers)| {
                let lines: Vec<String> = referrers.iter().map(go_field_spec).collect();
                format!(
                    "{}:  (\n{}\n)",
                    go_gvk(t.group.as_deref(), t.version.as_deref(), t.kind.as_deref()),
                    lines.join("\n")
                )
            })
            .collect();
        let fields = [
            list(&self.name_prefix),
            list(&self.name_suffix),
            list(&self.namespace),
            list(&self.common_labels),
            list(&self.labels),
            list(&self.template_labels),
            list(&self.common_annotations),
            format!("[{}]", refs.join(" ")),
            list(&self.var_reference),
            list(&self.images),
            list(&self.replicas),
        ];
        format!("{{{}}}", fields.join(" "))
    }

    /// [`Config::go_v`] of the configuration a kustomization's `crds:` give,
    /// its lists sorted by group, version and kind (stably) and the name
    /// reference entries about one group, version and kind folded into one.
    pub fn crds_go_v(&self) -> String {
        let mut c = self.clone();
        for list in c.fs_slices_mut() {
            list.sort_by_cached_key(|s| {
                gvk_order(s.group.as_deref(), s.version.as_deref(), s.kind.as_deref())
            });
        }
        let mut refs: Vec<(TargetGvk, Vec<UserFieldSpec>)> = Vec::new();
        for (target, referrers) in c.name_back_refs {
            match refs.iter_mut().find(|(t, _)| *t == target) {
                Some((_, have)) => {
                    for r in referrers {
                        if !have.contains(&r) {
                            have.push(r);
                        }
                    }
                }
                None => refs.push((target, referrers)),
            }
        }
        refs.sort_by_cached_key(|(t, _)| {
            gvk_order(t.group.as_deref(), t.version.as_deref(), t.kind.as_deref())
        });
        c.name_back_refs = refs;
        c.go_v()
    }

    /// The ten field spec lists (all but the name references), in the order
    /// kustomize's `Merge` merges them, each with the name its errors give.
    fn fs_slices_mut(&mut self) -> [&mut Vec<UserFieldSpec>; 10] {
        [
            &mut self.name_prefix,
            &mut self.name_suffix,
            &mut self.namespace,
            &mut self.common_annotations,
            &mut self.common_labels,
            &mut self.labels,
            &mut self.template_labels,
            &mut self.var_reference,
            &mut self.images,
            &mut self.replicas,
        ]
    }

    /// [`Config::fs_slices_mut`], read only.
    fn fs_slices(&self) -> [&Vec<UserFieldSpec>; 10] {
        [
            &self.name_prefix,
            &self.name_suffix,
            &self.namespace,
            &self.common_annotations,
            &self.common_labels,
            &self.labels,
            &self.template_labels,
            &self.var_reference,
            &self.images,
            &self.replicas,
        ]
    }

    /// kustomize's default transformer configuration, as its
    /// `MakeDefaultConfig` gives it: the built-in field specs of
    /// `default_config.yaml`, each list sorted ([`Config::go_sorted`]).
    /// Built from the table generated from that file (`default_config.rs`),
    /// so no process parses and sorts it.
    pub(crate) fn go_default() -> Config {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let spec = |&(group, version, kind, path, create): &TableSpec| UserFieldSpec {
            group: some(group),
            version: some(version),
            kind: some(kind),
            path: path.to_string(),
            create,
        };
        let mut c = Config::default();
        for (list, (_, table)) in c.fs_slices_mut().into_iter().zip(default_config::LISTS) {
            *list = table.iter().map(spec).collect();
        }
        c.name_back_refs = default_config::NAME_REFERENCE
            .iter()
            .map(|&((group, version, kind), referrers)| {
                let target =
                    TargetGvk { group: some(group), version: some(version), kind: some(kind) };
                (target, referrers.iter().map(spec).collect())
            })
            .collect();
        c
    }

    /// kustomize's `sortFields`: each list sorted by group, version and kind
    /// with Go's unstable `sort.Sort`, as a configuration file is once read
    /// and a merge's result always is.
    pub(crate) fn go_sorted(mut self) -> Config {
        for list in self.fs_slices_mut() {
            sort_by_gvk(list, |s| (&s.group, &s.version, &s.kind));
        }
        sort_by_gvk(&mut self.name_back_refs, |(t, _)| (&t.group, &t.version, &t.kind));
        self
    }

    /// kustomize's `TransformerConfig.Merge`: each spec of `other` joins the
    /// list unless a spec for its path that its group, version and kind
    /// select is there already (the first such decides), which must then
    /// agree on `create`; a name reference entry joins every entry about
    /// the same group, version and kind, referrer by referrer, or is added.
    /// The result is sorted ([`Config::go_sorted`]). On a conflict, the
    /// error kustomize gives, naming the list.
    pub(crate) fn go_merge(self, other: &Config) -> Result<Config, String> {
        let conflict =
            |name: &str| format!("failed to merge {name} fieldSpec: conflicting fieldspecs");
        let mut merged = self;
        const NAMES: [&str; 10] = [
            "NamePrefix",
            "NameSuffix",
            "NameSpace",
            "CommonAnnotations",
            "CommonLabels",
            "Labels",
            "TemplateLabels",
            "VarReference",
            "Images",
            "Replicas",
        ];
        // kustomize merges the name references between the var references
        // and the images.
        let merge_lists = |merged: &mut Config, range: std::ops::Range<usize>| {
            let lists = merged.fs_slices_mut().into_iter().zip(other.fs_slices());
            for (i, (have, add)) in lists.enumerate().filter(|(i, _)| range.contains(i)) {
                if !merge_all(have, add) {
                    return Err(conflict(NAMES[i]));
                }
            }
            Ok(())
        };
        merge_lists(&mut merged, 0..8)?;
        for (target, referrers) in &other.name_back_refs {
            let mut found = false;
            for (_, have) in merged.name_back_refs.iter_mut().filter(|(t, _)| t == target) {
                found = true;
                if !merge_all(have, referrers) {
                    return Err(conflict("NameReference"));
                }
            }
            if !found {
                merged.name_back_refs.push((target.clone(), referrers.clone()));
            }
        }
        merge_lists(&mut merged, 8..10)?;
        Ok(merged.go_sorted())
    }

    /// The places one `labels` entry writes, as kustomize's configurator
    /// merges them into the entry's `fields`: with `includeSelectors`, the
    /// `commonLabels` list, then the `labels` list; else the `labels` list,
    /// with `includeTemplates` the `templateLabels` list, then
    /// `metadata/labels`. A built-in plugin config writes only at its own
    /// field specs. Each merge skips a spec an earlier one for its path
    /// covers, so a `configurations:` spec for one kind's `metadata/labels`
    /// takes the place of the default spec of every kind. On a conflict,
    /// kustomize's message.
    pub fn label_set_specs(&self, set: &LabelSet) -> Result<Vec<UserFieldSpec>, String> {
        const LABELS: &str = "failed to merge labels: conflicting fieldspecs";
        if set.fields_only {
            return Ok(set.fields.clone());
        }
        let meta =
            UserFieldSpec { path: "metadata/labels".into(), create: true, ..Default::default() };
        let mut merged: Vec<&UserFieldSpec> = set.fields.iter().collect();
        if set.include_selectors {
            let all = self.common_labels.iter().chain(self.labels.iter());
            if !merge_specs(&mut merged, all, false) {
                return Err(LABELS.to_string());
            }
        } else {
            if !merge_specs(&mut merged, self.labels.iter(), false) {
                return Err(LABELS.to_string());
            }
            if set.include_templates
                && !merge_specs(&mut merged, self.template_labels.iter(), false)
            {
                return Err("failed to merge template fieldSpec: conflicting fieldspecs".into());
            }
            if !merge_specs(&mut merged, std::iter::once(&meta), false) {
                return Err(LABELS.to_string());
            }
        }
        Ok(merged.into_iter().cloned().collect())
    }
}

/// kustomize's `Gvk.String`: `Kind.Version.Group`, blanks as `[noKind]`,
/// `[noVer]`, `[noGrp]`.
fn go_gvk(group: Option<&str>, version: Option<&str>, kind: Option<&str>) -> String {
    let or = |s: Option<&str>, none: &'static str| {
        s.filter(|s| !s.is_empty()).unwrap_or(none).to_string()
    };
    format!("{}.{}.{}", or(kind, "[noKind]"), or(version, "[noVer]"), or(group, "[noGrp]"))
}

/// kustomize's `FieldSpec.String`.
fn go_field_spec(s: &UserFieldSpec) -> String {
    let gvk = go_gvk(s.group.as_deref(), s.version.as_deref(), s.kind.as_deref());
    format!("{gvk}:{}:{}", s.create, s.path)
}

/// The order of `Gvk.IsLessThan`: the kind's place in kustomize's legacy
/// order, then `group_version_kind` with blanks as `~G`, `~V`, `~K`.
pub(crate) fn gvk_order(
    group: Option<&str>,
    version: Option<&str>,
    kind: Option<&str>,
) -> (i64, String) {
    let (group, version, kind) =
        (group.unwrap_or_default(), version.unwrap_or_default(), kind.unwrap_or_default());
    (super::order::kind_rank(kind), crate::resource::kustomize_gvk_string(group, version, kind))
}

/// Adds specs to `merged` as kustomize's `FsSlice.MergeAll` does: a spec
/// for a path an earlier one of the kinds it selects (or, `both_ways`, of
/// kinds that select it) already has is dropped, unless their `create`
/// differ, which is a conflict (false).
fn merge_specs<'a>(
    merged: &mut Vec<&'a UserFieldSpec>,
    add: impl Iterator<Item = &'a UserFieldSpec>,
    both_ways: bool,
) -> bool {
    for x in add {
        let overlap = |s: &&UserFieldSpec| selects(x, s) || (both_ways && selects(s, x));
        match merged.iter().find(|s| s.path == x.path && overlap(s)) {
            Some(s) if s.create != x.create => return false,
            Some(_) => {}
            None => merged.push(x),
        }
    }
    true
}

/// kustomize's `FsSlice.MergeAll` on owned lists (see [`merge_specs`]),
/// finding the specs of a path through an index.
fn merge_all(have: &mut Vec<UserFieldSpec>, add: &[UserFieldSpec]) -> bool {
    let mut by_path: HashMap<&str, Vec<&UserFieldSpec>> = HashMap::new();
    for s in have.iter() {
        by_path.entry(&s.path).or_default().push(s);
    }
    let mut new = Vec::new();
    for x in add {
        let same = by_path.entry(&x.path).or_default();
        match same.iter().find(|s| selects(x, s)) {
            Some(s) if s.create != x.create => return false,
            Some(_) => {}
            None => {
                same.push(x);
                new.push(x.clone());
            }
        }
    }
    have.extend(new);
    true
}

/// Sorts `list` with Go's unstable sort by the [`gvk_order`] of each
/// item's group, version and kind, each key made once (the sort compares
/// keys many times over; the order is the same as comparing them afresh).
fn sort_by_gvk<T>(
    list: &mut Vec<T>,
    gvk: impl Fn(&T) -> (&Option<String>, &Option<String>, &Option<String>),
) {
    let mut keyed: Vec<((i64, String), T)> = std::mem::take(list)
        .into_iter()
        .map(|item| {
            let (g, v, k) = gvk(&item);
            (gvk_order(g.as_deref(), v.as_deref(), k.as_deref()), item)
        })
        .collect();
    go_sort::sort(&mut keyed, &|a, b| a.0 < b.0);
    *list = keyed.into_iter().map(|(_, item)| item).collect();
}

/// Whether `spec` adds nothing to a list holding `had`: the same path and
/// `create`, with `spec` selecting `had`'s kinds (kustomize's
/// `effectivelyEquals`; a differing `create` is a conflict, reported by
/// [`Config::check_conflicts`]).
fn present(had: &UserFieldSpec, spec: &UserFieldSpec) -> bool {
    had.path == spec.path && had.create == spec.create && selects(spec, had)
}

/// Appends the specs of `more` that `specs` does not hold yet.
fn extend_specs(specs: &mut Vec<UserFieldSpec>, more: Vec<UserFieldSpec>) {
    for spec in more {
        if !specs.iter().any(|had| present(had, &spec)) {
            specs.push(spec);
        }
    }
}

/// Whether `selector`'s group, version and kind select `spec`'s (kustomize's
/// `Gvk.IsSelected`: each field the selector sets must be equal).
fn selects(selector: &UserFieldSpec, spec: &UserFieldSpec) -> bool {
    let eq = |sel: &Option<String>, have: &Option<String>| {
        sel.as_deref().is_none_or(|s| s.is_empty() || Some(s) == have.as_deref())
    };
    eq(&selector.group, &spec.group)
        && eq(&selector.version, &spec.version)
        && eq(&selector.kind, &spec.kind)
}

/// Follows properties (and `$ref`s, each once per path) to find the
/// places kustomize reads from the extensions of a `crds:` schema: an
/// object reference (`x-kubernetes-object-ref-api-version` and
/// `-kind`, its name in the `x-kubernetes-object-ref-name-key` field,
/// `name` by default), a label selector (`commonLabels`), an annotation
/// map (`commonAnnotations`) and an identity (`namePrefix`). Each
/// extension counts only when its value is a string.
fn walk(defs: &Map, props: &Map, kind: &str, prefix: &str, c: &mut Config, seen: &mut Vec<String>) {
    for (field, schema) in props {
        let path = if prefix.is_empty() { field.clone() } else { format!("{prefix}/{field}") };
        let ext = |name: &str| schema.get_path(&[name]).and_then(Value::as_str);
        let spec = |path: String| UserFieldSpec {
            kind: Some(kind.to_string()),
            path,
            ..Default::default()
        };
        if ext("x-kubernetes-annotation").is_some() {
            c.common_annotations.push(spec(path.clone()));
        }
        if ext("x-kubernetes-label-selector").is_some() {
            c.common_labels.push(spec(path.clone()));
        }
        if ext("x-kubernetes-identity").is_some() {
            c.name_prefix.push(spec(path.clone()));
        }
        if let (Some(version), Some(ref_kind)) =
            (ext("x-kubernetes-object-ref-api-version"), ext("x-kubernetes-object-ref-kind"))
        {
            let key = ext("x-kubernetes-object-ref-name-key").unwrap_or("name");
            let referrer = spec(format!("{path}/{key}"));
            // kustomize takes the API version for the referenced object's
            // version: one with a group (`apps/v1`) selects nothing.
            let target = TargetGvk {
                group: None,
                version: Some(version.to_string()),
                kind: Some(ref_kind.to_string()),
            };
            c.name_back_refs.push((target, vec![referrer]));
        }
        let Some(target) = schema.get_path(&["$ref"]).and_then(Value::as_str) else { continue };
        if seen.iter().any(|s| s == target) {
            continue;
        }
        if let Some(inner) = defs
            .get(target)
            .and_then(|d| d.get_path(&["Schema", "properties"]))
            .and_then(Value::as_map)
        {
            seen.push(target.to_string());
            walk(defs, inner, kind, &path, c, seen);
            seen.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    #[test]
    fn reads_configurations() {
        let text = "nameReference:\n- kind: ConfigMap\n  fieldSpecs:\n  - kind: Widget\n    path: spec/ref\nimages:\n- kind: Widget\n  path: spec/image\n";
        let doc = yaml::parse_documents(text, "c.yaml").unwrap().remove(0);
        let c = Config::parse(&doc, "c.yaml").unwrap();
        assert_eq!(c.name_back_refs.len(), 1);
        assert_eq!(c.name_back_refs[0].0.kind.as_deref(), Some("ConfigMap"));
        assert_eq!(c.images[0].path, "spec/image");
        assert!(Config::parse(&Value::Int(1), "c").is_err());
    }

    /// `default_config.rs` is `default_config.yaml` read as kustomize reads a
    /// configuration file and sorted; `KILN_BLESS=1` rewrites it (then run
    /// `cargo fmt`).
    #[test]
    fn default_table_is_current() {
        let text = include_str!("default_config.yaml");
        let doc = yaml::parse_documents(text, "default_config.yaml").unwrap().remove(0);
        let mut want = Config::parse(&doc, "default_config.yaml").unwrap().go_sorted();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/kustomize/default_config.rs");
        if std::env::var_os("KILN_BLESS").is_some() {
            std::fs::write(path, table_source(&mut want)).unwrap();
        } else {
            assert!(Config::go_default() == want, "{path} is stale: run with KILN_BLESS=1");
        }
    }

    fn table_source(c: &mut Config) -> String {
        let q = |s: &Option<String>| format!("{:?}", s.as_deref().unwrap_or(""));
        let spec = |s: &UserFieldSpec| {
            let (g, v, k) = (q(&s.group), q(&s.version), q(&s.kind));
            format!("({g}, {v}, {k}, {:?}, {})", s.path, s.create)
        };
        let mut out = String::from(
            "//! kustomize's default transformer configuration (`default_config.yaml`),\n\
             //! each list sorted as kustomize sorts it. Generated by the test\n\
             //! `config::tests::default_table_is_current` (`KILN_BLESS=1`, then\n\
             //! `cargo fmt`); do not edit.\n\n\
             use super::config::{TableRef, TableSpec};\n\n\
             /// The field spec lists, in `Config::fs_slices_mut` order.\n\
             pub(super) const LISTS: [(&str, &[TableSpec]); 10] = [\n",
        );
        let names = [
            "namePrefix",
            "nameSuffix",
            "namespace",
            "commonAnnotations",
            "commonLabels",
            "labels",
            "templateLabels",
            "varReference",
            "images",
            "replicas",
        ];
        for (name, list) in names.iter().zip(c.fs_slices_mut()) {
            out += &format!("    (\n        {name:?},\n        &[\n");
            for s in list.iter() {
                out += &format!("            {},\n", spec(s));
            }
            out += "        ],\n    ),\n";
        }
        out += "];\n\n/// The name references: the referenced group, version and kind, and the\n\
                /// fields that name it.\n\
                pub(super) const NAME_REFERENCE: &[TableRef] = &[\n";
        for (t, referrers) in &c.name_back_refs {
            let (g, v, k) = (q(&t.group), q(&t.version), q(&t.kind));
            out += &format!("    (\n        ({g}, {v}, {k}),\n        &[\n");
            for s in referrers {
                out += &format!("            {},\n", spec(s));
            }
            out += "        ],\n    ),\n";
        }
        out + "];\n"
    }
}
