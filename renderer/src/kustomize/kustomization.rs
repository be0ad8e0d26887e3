//! The kustomization file: reading `kustomization.yaml` into typed fields.

use super::Error;
use super::go_decode;
use super::transform::replacements::Replacement;
use super::transform::value_add::ValueAdd;
use super::transform::vars::Var;
use crate::value::{Map, Value};

mod helm_chart;
pub use helm_chart::{DEFAULT_CHART_HOME, HelmChart, HelmGlobals, ValuesMerge};

/// The names kustomize looks for, in its order of preference.
pub const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// A target selector of `patches` and `replacements`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selector {
    /// API group.
    pub group: Option<String>,
    /// API version.
    pub version: Option<String>,
    /// Kind (a regular expression).
    pub kind: Option<String>,
    /// Name (a regular expression).
    pub name: Option<String>,
    /// Namespace (a regular expression).
    pub namespace: Option<String>,
    /// A Kubernetes label selector.
    pub label_selector: Option<String>,
    /// A label selector applied to annotations.
    pub annotation_selector: Option<String>,
}

/// One entry of `patches`, `patchesStrategicMerge` or `patchesJson6902`.
#[derive(Debug, Clone, PartialEq)]
pub struct Patch {
    /// A file with the patch, relative to the kustomization.
    pub path: Option<String>,
    /// The patch itself, inline.
    pub patch: Option<String>,
    /// Which objects it applies to; `None` means the patch names its target.
    pub target: Option<Selector>,
    /// `options.allowNameChange`.
    pub allow_name_change: bool,
    /// `options.allowKindChange`.
    pub allow_kind_change: bool,
    /// From `patchesJson6902`: the patch must be a JSON 6902 patch.
    pub json6902_only: bool,
    /// From `patchesStrategicMerge`: the patch is loaded as an object first.
    pub legacy_strategic_merge: bool,
}

impl Selector {
    /// The selector as kustomize writes it: its set fields, keys sorted.
    fn to_value(&self) -> Value {
        let mut m = Map::new();
        let fields = [
            ("annotationSelector", &self.annotation_selector),
            ("group", &self.group),
            ("kind", &self.kind),
            ("labelSelector", &self.label_selector),
            ("name", &self.name),
            ("namespace", &self.namespace),
            ("version", &self.version),
        ];
        for (key, v) in fields {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                m.insert(key.into(), Value::String(v.clone()));
            }
        }
        Value::Map(m)
    }
}

impl Patch {
    /// The configuration kustomize gives its builtin `PatchTransformer` for
    /// this `patches` entry, as YAML with sorted keys, the way it shows it
    /// in errors.
    pub fn config_yaml(&self) -> String {
        self.transformer_config("patch", true)
    }

    /// The configuration kustomize gives its builtin
    /// `PatchJson6902Transformer` for this `patchesJson6902` entry, the
    /// same way.
    pub fn json6902_config_yaml(&self) -> String {
        self.transformer_config("jsonOp", false)
    }

    /// The patch's fields under kustomize's names for one transformer: the
    /// inline patch under `patch_key`, its options when the transformer
    /// has them.
    fn transformer_config(&self, patch_key: &str, with_options: bool) -> String {
        let mut m = Map::new();
        let mut options = Map::new();
        if self.allow_kind_change {
            options.insert("allowKindChange".into(), Value::Bool(true));
        }
        if self.allow_name_change {
            options.insert("allowNameChange".into(), Value::Bool(true));
        }
        if with_options && !options.is_empty() {
            m.insert("options".into(), Value::Map(options));
        }
        if let Some(patch) = &self.patch {
            m.insert(patch_key.into(), Value::String(patch.clone()));
        }
        if let Some(path) = &self.path {
            m.insert("path".into(), Value::String(path.clone()));
        }
        if let Some(target) = &self.target {
            m.insert("target".into(), target.to_value());
        }
        if m.is_empty() { "{}\n".to_string() } else { crate::yaml::to_string(&Value::Map(m)) }
    }

    /// How kustomize's `PatchTransformer` names the patch in errors:
    /// `[path: "..."]` or `[patch: "..."]` (trimmed), Go-quoted.
    pub fn go_name(&self) -> String {
        match (&self.path, &self.patch) {
            (Some(path), _) => format!("[path: {}]", super::build::go_quote(path)),
            (None, Some(patch)) => format!("[patch: {}]", super::build::go_quote(patch.trim())),
            (None, None) => "[]".to_string(),
        }
    }
}

/// An error of a builtin transformer's configuration, as kustomize wraps it.
pub fn trouble_configuring(builtin: &str, config: &str, message: &str) -> String {
    format!("trouble configuring builtin {builtin} with config: `\n{config}`: {message}")
}

/// An `images` entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Image {
    /// The image name to match, without tag or digest.
    pub name: String,
    /// A replacement name.
    pub new_name: Option<String>,
    /// A replacement tag.
    pub new_tag: Option<String>,
    /// A digest.
    pub digest: Option<String>,
    /// `tagSuffix`: appended to the tag when neither a tag nor a digest is set.
    pub tag_suffix: Option<String>,
}

/// A `replicas` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Replica {
    /// The workload's name.
    pub name: String,
    /// The replica count.
    pub count: i64,
}

/// A field spec written in a kustomization (`labels[].fields`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserFieldSpec {
    /// API group to match.
    pub group: Option<String>,
    /// API version to match.
    pub version: Option<String>,
    /// Kind to match.
    pub kind: Option<String>,
    /// `/`-separated path.
    pub path: String,
    /// Create missing fields.
    pub create: bool,
}

/// `sortOptions`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SortOptions {
    /// `fifo` keeps the order of accumulation.
    pub fifo: bool,
    /// Kinds to put first (legacy order).
    pub order_first: Option<Vec<String>>,
    /// Kinds to put last (legacy order).
    pub order_last: Option<Vec<String>>,
    /// Why the options are invalid; kustomize checks them only where it
    /// uses them, at the top of a build.
    pub problem: Option<String>,
}

/// A `labels` entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSet {
    /// The labels.
    pub pairs: Vec<(String, String)>,
    /// Also write them into selectors (and templates).
    pub include_selectors: bool,
    /// Also write them into pod templates.
    pub include_templates: bool,
    /// Further places to write them.
    pub fields: Vec<UserFieldSpec>,
    /// Write only at `fields` (a built-in plugin config's `fieldSpecs`),
    /// not into metadata and the default places.
    pub fields_only: bool,
}

/// `generatorOptions`, or the `options` of one generator.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GeneratorOptions {
    /// Labels added to generated objects.
    pub labels: Vec<(String, String)>,
    /// Annotations added to generated objects.
    pub annotations: Vec<(String, String)>,
    /// Leave the content hash out of the name.
    pub disable_name_suffix_hash: Option<bool>,
    /// Mark the object immutable.
    pub immutable: Option<bool>,
}

/// A `configMapGenerator` or `secretGenerator` entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Generator {
    /// Name of the generated object.
    pub name: String,
    /// Namespace of the generated object.
    pub namespace: Option<String>,
    /// `create`, `merge` or `replace`.
    pub behavior: String,
    /// Whether the entry wrote its behavior (kustomize notes a written
    /// `create` in a build annotation, and nothing as `unspecified`).
    pub behavior_given: bool,
    /// `key=value` entries.
    pub literals: Vec<String>,
    /// `[key=]path` entries.
    pub files: Vec<String>,
    /// Env files.
    pub envs: Vec<String>,
    /// Secret type.
    pub secret_type: Option<String>,
    /// Per-generator options.
    pub options: GeneratorOptions,
}

/// A `replacements` entry.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplacementEntry {
    /// Written in the kustomization.
    Inline(Box<Replacement>),
    /// A file holding one replacement or a list of them.
    Path {
        /// The file, relative to the kustomization.
        file: String,
        /// The entry also gives a source or targets, which kustomize refuses
        /// as it configures its transformer (before reading the file).
        inline_too: bool,
    },
}

/// A parsed kustomization file.
#[derive(Debug, Clone, Default)]
pub struct Kustomization {
    /// The file it was read from.
    pub file: String,
    /// When it stands for a builtin plugin's config (`transformers:`,
    /// `generators:`), the config's identity as kustomize names it in
    /// errors (`PatchTransformer.builtin.[noGrp]/name.[noNs]`).
    pub plugin: Option<String>,
    /// `kind: Component`.
    pub is_component: bool,
    /// `resources` (and the legacy `bases`).
    pub resources: Vec<String>,
    /// `components`.
    pub components: Vec<String>,
    /// `namespace`.
    pub namespace: Option<String>,
    /// `namePrefix`.
    pub name_prefix: Option<String>,
    /// `nameSuffix`.
    pub name_suffix: Option<String>,
    /// `commonLabels`.
    pub common_labels: Vec<(String, String)>,
    /// `labels`.
    pub labels: Vec<LabelSet>,
    /// `commonAnnotations`.
    pub common_annotations: Vec<(String, String)>,
    /// `patches`, then the legacy fields, in kustomize's order of application.
    pub patches_strategic_merge: Vec<Patch>,
    /// `patches`.
    pub patches: Vec<Patch>,
    /// `patchesJson6902`.
    pub patches_json6902: Vec<Patch>,
    /// `images`.
    pub images: Vec<Image>,
    /// `replicas`.
    pub replicas: Vec<Replica>,
    /// `configMapGenerator`.
    pub config_maps: Vec<Generator>,
    /// `secretGenerator`.
    pub secrets: Vec<Generator>,
    /// `generatorOptions`.
    pub generator_options: GeneratorOptions,
    /// `replacements`.
    pub replacements: Vec<ReplacementEntry>,
    /// `vars`.
    pub vars: Vec<Var>,
    /// `buildMetadata: [originAnnotations]`.
    pub origin_annotations: bool,
    /// `buildMetadata: [transformerAnnotations]`.
    pub transformer_annotations: bool,
    /// `buildMetadata: [managedByLabel]`.
    pub managed_by_label: bool,
    /// Whether `buildMetadata` lists anything, known or not: kustomize then
    /// keeps origin and transformer annotations on the objects while it
    /// builds (and drops those not asked for at the end).
    pub build_metadata_set: bool,
    /// `configurations`: transformer configuration files.
    pub configurations: Vec<String>,
    /// `openapi.path`: a schema file whose merge keys replace the built-in
    /// ones (honoured only at the top of a build, as in kustomize).
    pub openapi_path: Option<String>,
    /// `openapi.version`: the built-in schema's Kubernetes version (empty:
    /// the default schema, which leaves the choice to a base).
    pub openapi_version: Option<String>,
    /// `crds`: OpenAPI definition files of custom resources.
    pub crds: Vec<String>,
    /// `transformers`: files or inline built-in plugin configs.
    pub transformers: Vec<String>,
    /// `generators`: files or inline built-in plugin configs.
    pub generators: Vec<String>,
    /// `sortOptions` (honoured only at the top of a build, as in kustomize).
    pub sort_options: Option<SortOptions>,
    /// `helmCharts`, then the charts of the legacy `helmChartInflationGenerator`.
    pub helm_charts: Vec<HelmChart>,
    /// `helmGlobals`.
    pub helm_globals: HelmGlobals,
    /// NamespaceTransformer `unsetOnly`: only objects without a namespace get one.
    pub namespace_unset_only: bool,
    /// NamespaceTransformer `setRoleBindingSubjects`.
    pub role_binding_subjects: SubjectNamespaces,
    /// ReplicaCountTransformer `fieldSpecs`: where its count goes instead of
    /// the built-in places.
    pub replica_fields: Option<Vec<UserFieldSpec>>,
    /// PrefixSuffixTransformer `fieldSpecs`: which objects' names (and which
    /// other fields) the prefix and suffix go to, instead of every name.
    pub prefix_fields: Option<Vec<UserFieldSpec>>,
    /// ImageTagTransformer `fieldSpecs`: the image fields a plugin config
    /// writes besides containers, instead of kustomize's built-in image
    /// fields and those of `configurations`.
    pub image_fields: Option<Vec<UserFieldSpec>>,
    /// NamespaceTransformer `fieldSpecs`: where a plugin config writes the
    /// namespace besides `metadata/namespace` and role binding subjects,
    /// instead of the merged transformer configuration's namespace fields.
    pub namespace_fields: Option<Vec<UserFieldSpec>>,
    /// HashTransformer: generated objects get their hash suffix now.
    pub hash_names: bool,
    /// ValueAddTransformer: its value (trimmed; empty stands for the name of
    /// the kustomization's directory) and inline targets.
    pub value_add: Option<ValueAdd>,
    /// ValueAddTransformer `targetFilePath`: a file of more targets.
    pub value_add_targets_file: Option<String>,
    /// `validators`: plugin configs run as transformers that must not change anything.
    pub validators: Vec<String>,
}

/// Which role binding subjects the namespace transformer moves too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SubjectNamespaces {
    /// Subjects named `default` (kustomize's default).
    #[default]
    DefaultOnly,
    /// No subject.
    None,
    /// Every ServiceAccount subject.
    AllServiceAccounts,
}

struct Fields<'a> {
    file: &'a str,
}

/// The JSON type of a value, as Go's decoder names it in errors.
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Uint(_) | Value::Float(_) => "number",
        Value::String(_) => "string",
        Value::Seq(_) => "array",
        Value::Map(_) => "object",
    }
}

/// The kustomization's fields that are structs (or lists of structs), by
/// their JSON path, with the Go type's name.
const GO_STRUCTS: &[(&str, &str)] = &[
    ("metadata", "ObjectMeta"),
    ("labels", "Label"),
    ("labels.fields", "FieldSpec"),
    ("replicas", "Replica"),
    ("images", "Image"),
    ("patches", "Patch"),
    ("patches.target", "Selector"),
    ("patchesJson6902", "Patch"),
    ("patchesJson6902.target", "Selector"),
    ("configMapGenerator", "ConfigMapArgs"),
    ("secretGenerator", "SecretArgs"),
    ("generatorOptions", "GeneratorOptions"),
    ("helmCharts", "HelmChart"),
    ("sortOptions", "SortOptions"),
    ("replacements", "ReplacementField"),
    ("imageTags", "Image"),
    ("configMapGenerator.options", "GeneratorOptions"),
    ("secretGenerator.options", "GeneratorOptions"),
    ("sortOptions.legacySortOptions", "LegacySortOptions"),
    ("vars", "Var"),
    ("helmGlobals", "HelmGlobals"),
    ("helmChartInflationGenerator", "HelmChartArgs"),
];

/// The kustomization's lists of a named Go type that is not a struct, by
/// JSON path.
const GO_NAMED_LISTS: &[(&str, &str)] = &[("patchesStrategicMerge", "PatchStrategicMerge")];

/// What Go's decoder leaves for a JSON null in a struct, a pointer to one
/// or a map: the zero value, which reads as an empty map.
static EMPTY: std::sync::LazyLock<Map> = std::sync::LazyLock::new(Map::new);

/// The kustomization's fields that are maps: what follows them in a path
/// is a key, which Go's decoder does not name.
const GO_MAPS: &[&str] = &[
    "commonLabels",
    "commonAnnotations",
    "metadata.labels",
    "metadata.annotations",
    "labels.pairs",
    "generatorOptions.labels",
    "generatorOptions.annotations",
    "configMapGenerator.options.labels",
    "configMapGenerator.options.annotations",
    "secretGenerator.options.labels",
    "secretGenerator.options.annotations",
    "patches.options",
    "patchesJson6902.options",
    "openapi",
];

/// A field path as kiln writes it (`labels[0].includeSelectors`,
/// `commonLabels.app`) as Go's JSON path: list positions and map keys left out.
fn go_path(field: &str) -> String {
    let mut path: Vec<&str> = Vec::new();
    for seg in field.split('.') {
        let name = seg.split('[').next().unwrap_or(seg);
        path.push(name);
        if GO_MAPS.contains(&path.join(".").as_str()) {
            break;
        }
    }
    path.join(".")
}

/// The Go struct type a kustomization field path names, if it is one.
fn go_struct(field: &str) -> Option<&'static str> {
    let path = go_path(field);
    GO_STRUCTS.iter().find(|(p, _)| *p == path).map(|(_, s)| *s)
}

/// How Go's decoder names a struct field: the innermost struct type, then
/// the JSON path from the kustomization (`Label.labels.includeSelectors`).
fn go_field(field: &str) -> String {
    let path = go_path(field);
    let mut structure = "Kustomization";
    let mut prefix = String::new();
    for seg in path.split('.') {
        if let Some(s) = GO_STRUCTS.iter().find(|(p, _)| *p == prefix).map(|(_, s)| *s) {
            structure = s;
        }
        prefix = if prefix.is_empty() { seg.to_string() } else { format!("{prefix}.{seg}") };
    }
    format!("{structure}.{path}")
}

impl Fields<'_> {
    fn err(&self, message: impl Into<String>) -> Error {
        Error::Invalid { file: self.file.to_string(), message: message.into() }
    }

    /// A value of the wrong type for `field`, in the words of Go's JSON
    /// decoder, which kustomize reads kustomizations with.
    fn mismatch(&self, found: &Value, field: &str, go_type: &str) -> Error {
        self.mismatch_as(json_kind(found), field, go_type)
    }

    /// [`Fields::mismatch`] where Go says what it found (`number 1.5`).
    fn mismatch_as(&self, found: &str, field: &str, go_type: &str) -> Error {
        self.err(format!(
            "invalid Kustomization: json: cannot unmarshal {found} into Go struct field {} of type {go_type}",
            go_field(field)
        ))
    }

    /// An `int64` field (null is 0), as Go decodes it (see [`go_decode::json_int`]).
    fn int64(&self, v: Option<&Value>, field: &str) -> Result<i64, Error> {
        match v {
            None | Some(Value::Null) => Ok(0),
            Some(v) => {
                go_decode::json_int(v).map_err(|found| self.mismatch_as(&found, field, "int64"))
            }
        }
    }

    /// A string field: kustomize decodes kustomization files into Go structs,
    /// so numbers and booleans (YAML 1.1 ones included) are errors there, and
    /// a null leaves the empty string.
    fn string(&self, v: &Value, field: &str) -> Result<String, Error> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Null => Ok(String::new()),
            other => Err(self.mismatch(other, field, "string")),
        }
    }

    fn opt_string(&self, m: &Map, key: &str, ctx: &str) -> Result<Option<String>, Error> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => self.string(v, &format!("{ctx}.{key}")).map(Some),
        }
    }

    fn strings(&self, v: &Value, field: &str) -> Result<Vec<String>, Error> {
        match v {
            Value::Null => Ok(Vec::new()),
            Value::Seq(items) => items.iter().map(|i| self.string(i, field)).collect(),
            other => Err(self.mismatch(other, field, "[]string")),
        }
    }

    fn string_map(&self, v: &Value, field: &str) -> Result<Vec<(String, String)>, Error> {
        match v {
            Value::Null => Ok(Vec::new()),
            Value::Map(m) => m
                .iter()
                .map(|(k, v)| Ok((k.clone(), self.string(v, &format!("{field}.{k}"))?)))
                .collect(),
            other => Err(self.mismatch(other, field, "map[string]string")),
        }
    }

    fn bool(&self, v: Option<&Value>, field: &str) -> Result<Option<bool>, Error> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.mismatch(other, field, "bool")),
        }
    }

    /// A struct (or a map of data): a null is Go's zero value, empty.
    fn map<'v>(&self, v: &'v Value, field: &str) -> Result<&'v Map, Error> {
        if v.is_null() {
            return Ok(&EMPTY);
        }
        v.as_map().ok_or_else(|| {
            let go_type = match go_struct(field) {
                Some(s) => format!("types.{s}"),
                None => "map[string]interface {}".to_string(),
            };
            self.mismatch(v, field, &go_type)
        })
    }

    fn list<'v>(&self, v: &'v Value, field: &str) -> Result<&'v [Value], Error> {
        match v {
            Value::Null => Ok(&[]),
            Value::Seq(items) => Ok(items),
            other => {
                let path = go_path(field);
                let named = GO_NAMED_LISTS.iter().find(|(p, _)| *p == path).map(|(_, s)| *s);
                let go_type = match go_struct(field).or(named) {
                    Some(s) => format!("[]types.{s}"),
                    None => "[]interface {}".to_string(),
                };
                Err(self.mismatch(other, field, &go_type))
            }
        }
    }

    /// Go's JSON decoder reads a struct's fields in the order the JSON
    /// holds them (sorted, as kustomize converts YAML to JSON), lists item
    /// by item, and reports the first field it cannot read: one it does not
    /// know, or a value of the wrong type. Checks the kustomization `doc`
    /// (its keys already named as Go's fields) so, before any reader looks
    /// at its fields in its own order.
    fn decode(&self, doc: &Value) -> Result<(), Error> {
        let source = go_decode::Source::YamlToJson;
        match go_decode::first_error(doc, &go_decode::KUSTOMIZATION, source, true) {
            Some(e) => Err(self.err(format!("invalid Kustomization: {e}"))),
            None => Ok(()),
        }
    }

    fn selector(&self, v: &Value, ctx: &str) -> Result<Selector, Error> {
        let m = self.map(v, ctx)?;
        Ok(Selector {
            group: self.opt_string(m, "group", ctx)?,
            version: self.opt_string(m, "version", ctx)?,
            kind: self.opt_string(m, "kind", ctx)?,
            name: self.opt_string(m, "name", ctx)?,
            namespace: self.opt_string(m, "namespace", ctx)?,
            label_selector: self.opt_string(m, "labelSelector", ctx)?,
            annotation_selector: self.opt_string(m, "annotationSelector", ctx)?,
        })
    }

    /// An `images` (or legacy `imageTags`) list.
    fn images(&self, v: &Value, field: &str) -> Result<Vec<Image>, Error> {
        let mut images = Vec::new();
        for (i, item) in self.list(v, field)?.iter().enumerate() {
            let ctx = format!("{field}[{i}]");
            let im = self.map(item, &ctx)?;
            images.push(Image {
                name: self.opt_string(im, "name", &ctx)?.unwrap_or_default(),
                new_name: self.opt_string(im, "newName", &ctx)?,
                new_tag: self.opt_string(im, "newTag", &ctx)?,
                digest: self.opt_string(im, "digest", &ctx)?,
                tag_suffix: self.opt_string(im, "tagSuffix", &ctx)?,
            });
        }
        Ok(images)
    }

    fn patch(&self, v: &Value, ctx: &str, json6902_only: bool) -> Result<Patch, Error> {
        let m = self.map(v, ctx)?;
        let (mut allow_name_change, mut allow_kind_change) = (false, false);
        if let Some(o) = m.get("options").filter(|o| !o.is_null()) {
            let o = self.map(o, &format!("{ctx}.options"))?;
            allow_name_change =
                self.bool(o.get("allowNameChange"), "options.allowNameChange")?.unwrap_or(false);
            allow_kind_change =
                self.bool(o.get("allowKindChange"), "options.allowKindChange")?.unwrap_or(false);
        }
        // An empty path or patch counts as none, as in kustomize.
        let p = Patch {
            path: self.opt_string(m, "path", ctx)?.filter(|s| !s.is_empty()),
            patch: self.opt_string(m, "patch", ctx)?.filter(|s| !s.is_empty()),
            target: match m.get("target") {
                None | Some(Value::Null) => None,
                Some(t) => Some(self.selector(t, &format!("{ctx}.target"))?),
            },
            allow_name_change,
            allow_kind_change,
            json6902_only,
            legacy_strategic_merge: false,
        };
        // kustomize's builtin transformer refuses these when configured.
        let config = p.config_yaml();
        let refuse = |problem: &str| {
            let message = format!("{problem}\n{config}");
            if json6902_only {
                self.err(format!("{ctx}: {problem}"))
            } else {
                self.err(trouble_configuring("PatchTransformer", &config, &message))
            }
        };
        // The `patches` transformer trims the inline text before it checks
        // it (a path then wins over blank text); patchesJson6902 does not.
        if json6902_only {
            // Checked as kustomize configures the transformer (see
            // [`json6902_config_problem`]).
            return Ok(p);
        }
        let patch = p.patch.as_deref().filter(|s| !s.trim().is_empty());
        match (&p.path, patch) {
            (None, None) => Err(refuse("must specify one of patch and path in")),
            (Some(_), Some(_)) => Err(refuse("patch and path can't be set at the same time")),
            _ => Ok(p),
        }
    }

    fn generator_options(&self, v: &Value, ctx: &str) -> Result<GeneratorOptions, Error> {
        let m = self.map(v, ctx)?;
        Ok(GeneratorOptions {
            labels: self.string_map(m.get("labels").unwrap_or(&Value::Null), "labels")?,
            annotations: self
                .string_map(m.get("annotations").unwrap_or(&Value::Null), "annotations")?,
            disable_name_suffix_hash: self
                .bool(m.get("disableNameSuffixHash"), "disableNameSuffixHash")?,
            immutable: self.bool(m.get("immutable"), "immutable")?,
        })
    }

    fn generator(&self, v: &Value, ctx: &str, secret: bool) -> Result<Generator, Error> {
        let m = self.map(v, ctx)?;
        let mut allowed = vec![
            "name",
            "namespace",
            "behavior",
            "literals",
            "files",
            "envs",
            "env",
            "options",
            "kvSources",
        ];
        if secret {
            allowed.push("type");
        }
        if m.contains_key("kvSources") {
            return Err(Error::Unsupported {
                file: self.file.to_string(),
                field: format!("{ctx}.kvSources"),
            });
        }
        // kustomize appends the deprecated `env`, when not empty, to `envs`.
        let mut envs = self.strings(m.get("envs").unwrap_or(&Value::Null), "envs")?;
        envs.extend(self.opt_string(m, "env", ctx)?.filter(|e| !e.is_empty()));
        // kustomize treats an unknown behavior as unspecified, that is, create.
        let given = self.opt_string(m, "behavior", ctx)?;
        let behavior_given = given.is_some();
        let behavior = given.unwrap_or_else(|| "create".into());
        Ok(Generator {
            name: self.opt_string(m, "name", ctx)?.unwrap_or_default(),
            namespace: self.opt_string(m, "namespace", ctx)?,
            behavior,
            behavior_given,
            literals: self.strings(m.get("literals").unwrap_or(&Value::Null), "literals")?,
            files: self.strings(m.get("files").unwrap_or(&Value::Null), "files")?,
            envs,
            secret_type: if secret { self.opt_string(m, "type", ctx)? } else { None },
            options: match m.get("options") {
                None | Some(Value::Null) => GeneratorOptions::default(),
                Some(o) => self.generator_options(o, &format!("{ctx}.options"))?,
            },
        })
    }
}

fn sort_options(f: &Fields<'_>, v: &Value) -> Result<SortOptions, Error> {
    let sm = f.map(v, "sortOptions")?;
    let mut so = SortOptions::default();
    match sm.get("order").and_then(Value::as_str) {
        Some("fifo") => so.fifo = true,
        Some("legacy") => {}
        _ => {
            so.problem = Some("the field 'sortOptions.order' must be one of [fifo, legacy]".into())
        }
    }
    if let Some(l) = sm.get("legacySortOptions").filter(|l| !l.is_null()) {
        if so.fifo {
            so.problem = Some(
                "the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'"
                    .into(),
            );
        }
        let lm = f.map(l, "sortOptions.legacySortOptions")?;
        so.order_first =
            Some(f.strings(lm.get("orderFirst").unwrap_or(&Value::Null), "orderFirst")?);
        so.order_last = Some(f.strings(lm.get("orderLast").unwrap_or(&Value::Null), "orderLast")?);
    }
    Ok(so)
}

/// What kustomize's `PatchJson6902Transformer` refuses as it is configured
/// with a target named `target_name` (a target is there: without one Go
/// dereferences a nil pointer first), a file `path` and inline operations
/// `op`, in its order; empty texts count as none.
pub fn json6902_config_problem(
    target_name: Option<&str>,
    path: Option<&str>,
    op: Option<&str>,
) -> Option<&'static str> {
    let given = |s: Option<&str>| s.is_some_and(|s| !s.is_empty());
    if !given(target_name) {
        return Some("must specify the target name");
    }
    match (given(path), given(op)) {
        (false, false) => Some("empty file path and empty jsonOp"),
        (true, true) => Some("must specify a file path or jsonOp, not both"),
        _ => None,
    }
}

/// The configuration kustomize gives its builtin `ReplacementTransformer`
/// for the `replacements` field of the kustomization document `doc`, as it
/// shows it in errors: Go's `types.ReplacementField` structs marshalled as
/// YAML, keys sorted, only the fields Go knows, zero values left out (an
/// empty struct a pointer holds stays `{}`) except a target's `select`,
/// whose tag lacks `omitempty` (a target without one shows `select: null`).
pub fn replacements_config(doc: &Value) -> String {
    fn go_struct(v: &Value, fields: &'static [(&'static str, go_decode::GoType)]) -> Value {
        // Of these structs only `types.TargetSelector` has a `select` field,
        // the last of its fields in key order.
        const NOT_OMITTED: &str = "select";
        match v {
            Value::Map(m) => {
                let mut out: Map = m
                    .iter()
                    .filter_map(|(k, v)| {
                        let (name, ty) = go_decode::field(fields, k)?;
                        let v = match ty.fields() {
                            Some(inner) => go_struct(v, inner),
                            None => go_leaf(v),
                        };
                        let zero = match &v {
                            Value::Null | Value::Bool(false) | Value::Int(0) | Value::Uint(0) => {
                                true
                            }
                            Value::Float(f) => *f == 0.0,
                            Value::String(s) => s.is_empty(),
                            Value::Seq(items) => items.is_empty(),
                            _ => false,
                        };
                        (!zero).then(|| (name.to_string(), v))
                    })
                    .collect();
                if fields.iter().any(|(name, _)| *name == NOT_OMITTED) {
                    out.entry(NOT_OMITTED.to_string()).or_insert(Value::Null);
                }
                Value::Map(out)
            }
            Value::Seq(items) => Value::Seq(items.iter().map(|i| go_struct(i, fields)).collect()),
            other => go_leaf(other),
        }
    }
    /// A number Go decoded into an int field comes back without a fraction.
    fn go_leaf(v: &Value) -> Value {
        match v {
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::Int(*f as i64),
            other => other.clone(),
        }
    }
    let doc = go_decode::canonical(doc, &go_decode::KUSTOMIZATION, true);
    let replacements = doc.as_map().and_then(|m| m.get("replacements")).unwrap_or(&Value::Null);
    let mut m = Map::new();
    let fields = go_decode::REPLACEMENT_FIELD.fields().unwrap_or_default();
    m.insert("Replacements".into(), go_struct(replacements, fields));
    crate::yaml::to_string(&Value::Map(m))
}

/// The entries of a list of plugin files that name one.
fn non_empty(entries: Vec<String>) -> Vec<String> {
    entries.into_iter().filter(|e| !e.is_empty()).collect()
}

impl Kustomization {
    /// Reads a kustomization file from its parsed document: as
    /// [`Kustomization::from_value`], refusing one that says nothing.
    pub fn from_file_value(doc: &Value, file: &str) -> Result<Kustomization, Error> {
        let f = Fields { file };
        let canonical_doc = go_decode::canonical(doc, &go_decode::KUSTOMIZATION, true);
        if let Value::Map(m) = &canonical_doc {
            // kustomize's words, whatever the file is called. It compares the
            // decoded kustomization, its deprecated lists already moved, with
            // an empty one: its own metadata and type do not count, nor does a
            // field that decodes to Go's zero value (null, an empty string),
            // nor an empty list that is appended elsewhere; `[]` and `{}` in
            // any other field do.
            let counts = |(key, value): (&String, &Value)| match (key.as_str(), value) {
                ("apiVersion" | "kind" | "metadata", _) | (_, Value::Null) => false,
                ("namespace" | "namePrefix" | "nameSuffix", Value::String(text)) => {
                    !text.is_empty()
                }
                ("bases" | "imageTags" | "helmChartInflationGenerator", Value::Seq(items)) => {
                    !items.is_empty()
                }
                _ => true,
            };
            if !m.iter().any(counts) {
                // Decoding comes first: a field of the wrong type fails it.
                f.decode(&canonical_doc)?;
                return Err(f.err("kustomization.yaml is empty"));
            }
        }
        Kustomization::from_value(doc, file)
    }

    /// Reads a kustomization from its parsed document.
    pub fn from_value(doc: &Value, file: &str) -> Result<Kustomization, Error> {
        let f = Fields { file };
        let doc = &go_decode::canonical(doc, &go_decode::KUSTOMIZATION, true);
        let m = match doc {
            Value::Null => return Err(f.err("kustomization.yaml is empty")),
            Value::Map(m) => m,
            // Go's JSON decoder refuses a document that is not a map.
            other => {
                return Err(f.err(format!(
                    "invalid Kustomization: json: cannot unmarshal {} into Go value of type types.Kustomization",
                    json_kind(other)
                )));
            }
        };
        let mut k = Kustomization { file: file.to_string(), ..Default::default() };
        let (mut globals, mut legacy_charts, mut legacy_home) = (None, Vec::new(), None);
        let (mut bases, mut image_tags) = (Vec::new(), Vec::new());
        let mut wrong_kind = false;
        // kustomize's YAML reaches Go's decoder as JSON with sorted keys, and
        // the decoder reports the first field it cannot read in that order.
        f.decode(doc)?;
        let mut keys: Vec<&String> = m.keys().collect();
        keys.sort();
        for key in keys {
            let v = &m[key];
            match key.as_str() {
                "apiVersion" => {}
                // kustomize decodes the kustomization's own metadata, strictly,
                // into a struct of four string fields.
                "metadata" if !v.is_null() => {
                    let mm = f.map(v, key)?;
                    f.opt_string(mm, "name", key)?;
                    f.opt_string(mm, "namespace", key)?;
                    for field in ["labels", "annotations"] {
                        if let Some(pairs) = mm.get(field) {
                            f.string_map(pairs, &format!("{key}.{field}"))?;
                        }
                    }
                }
                "metadata" => {}
                "kind" => match v.as_str() {
                    Some("Component") => k.is_component = true,
                    Some("Kustomization" | "") | None => {}
                    Some(_) => wrong_kind = true,
                },
                "resources" => k.resources = f.strings(v, key)?,
                // kustomize appends the deprecated bases after the resources.
                "bases" => bases = f.strings(v, key)?,
                "components" => k.components = f.strings(v, key)?,
                "namespace" => k.namespace = Some(f.string(v, key)?).filter(|s| !s.is_empty()),
                "namePrefix" => k.name_prefix = Some(f.string(v, key)?),
                "nameSuffix" => k.name_suffix = Some(f.string(v, key)?),
                "commonLabels" => k.common_labels = f.string_map(v, key)?,
                "commonAnnotations" => k.common_annotations = f.string_map(v, key)?,
                "labels" => {
                    for (i, item) in f.list(v, key)?.iter().enumerate() {
                        let ctx = format!("labels[{i}]");
                        let lm = f.map(item, &ctx)?;
                        let mut fields = Vec::new();
                        let specs = f.list(lm.get("fields").unwrap_or(&Value::Null), &ctx)?;
                        for (j, fsv) in specs.iter().enumerate() {
                            let fctx = format!("{ctx}.fields[{j}]");
                            let fm = f.map(fsv, &fctx)?;
                            fields.push(UserFieldSpec {
                                group: f.opt_string(fm, "group", &fctx)?,
                                version: f.opt_string(fm, "version", &fctx)?,
                                kind: f.opt_string(fm, "kind", &fctx)?,
                                path: f.opt_string(fm, "path", &fctx)?.unwrap_or_default(),
                                create: f.bool(fm.get("create"), "create")?.unwrap_or(false),
                            });
                        }
                        k.labels.push(LabelSet {
                            pairs: f.string_map(
                                lm.get("pairs").unwrap_or(&Value::Null),
                                &format!("{ctx}.pairs"),
                            )?,
                            include_selectors: f
                                .bool(
                                    lm.get("includeSelectors"),
                                    &format!("{ctx}.includeSelectors"),
                                )?
                                .unwrap_or(false),
                            include_templates: f
                                .bool(
                                    lm.get("includeTemplates"),
                                    &format!("{ctx}.includeTemplates"),
                                )?
                                .unwrap_or(false),
                            fields,
                            fields_only: false,
                        });
                    }
                }
                "patches" => {
                    for (i, item) in f.list(v, key)?.iter().enumerate() {
                        k.patches.push(f.patch(item, &format!("patches[{i}]"), false)?);
                    }
                }
                "patchesStrategicMerge" => {
                    for (i, item) in f.list(v, key)?.iter().enumerate() {
                        let s = match item {
                            Value::String(s) => s.clone(),
                            Value::Null => String::new(),
                            other => {
                                let at = format!("patchesStrategicMerge[{i}]");
                                return Err(f.mismatch(other, &at, "types.PatchStrategicMerge"));
                            }
                        };
                        // An entry is an inline patch when it reads as objects, else
                        // a file path.
                        let inline = super::build::reads_as_objects(&s);
                        k.patches_strategic_merge.push(Patch {
                            path: (!inline).then(|| s.clone()),
                            patch: inline.then_some(s),
                            target: None,
                            allow_name_change: false,
                            allow_kind_change: false,
                            json6902_only: false,
                            legacy_strategic_merge: true,
                        });
                    }
                }
                "patchesJson6902" => {
                    for (i, item) in f.list(v, key)?.iter().enumerate() {
                        k.patches_json6902.push(f.patch(
                            item,
                            &format!("patchesJson6902[{i}]"),
                            true,
                        )?);
                    }
                }
                // kustomize appends the deprecated imageTags after the images.
                "images" => k.images = f.images(v, key)?,
                "imageTags" => image_tags = f.images(v, key)?,
                "replicas" => {
                    for (i, item) in f.list(v, key)?.iter().enumerate() {
                        let ctx = format!("replicas[{i}]");
                        let rm = f.map(item, &ctx)?;
                        let count = f.int64(rm.get("count"), &format!("{ctx}.count"))?;
                        k.replicas.push(Replica {
                            name: f.opt_string(rm, "name", &ctx)?.unwrap_or_default(),
                            count,
                        });
                    }
                }
                "configMapGenerator" => {
                    for (i, item) in f.list(v, key)?.iter().enumerate() {
                        k.config_maps.push(f.generator(
                            item,
                            &format!("configMapGenerator[{i}]"),
                            false,
                        )?);
                    }
                }
                "secretGenerator" => {
                    for (i, item) in f.list(v, key)?.iter().enumerate() {
                        k.secrets.push(f.generator(
                            item,
                            &format!("secretGenerator[{i}]"),
                            true,
                        )?);
                    }
                }
                "generatorOptions" => k.generator_options = f.generator_options(v, key)?,
                "replacements" => {
                    for (i, item) in f.list(v, key)?.iter().enumerate() {
                        let ctx = format!("replacements[{i}]");
                        // A null item is Go's zero struct.
                        let pm = f.map(item, &ctx)?;
                        // kustomize reads the file a path names, and the
                        // entry itself when the path is empty.
                        let path = f.opt_string(pm, "path", &ctx)?.filter(|p| !p.is_empty());
                        let entry = match path {
                            // Go's decoder leaves a null source nil and a
                            // null or empty list of targets empty.
                            Some(file) => ReplacementEntry::Path {
                                file,
                                inline_too: pm.get("source").is_some_and(|v| !v.is_null())
                                    || matches!(pm.get("targets"), Some(Value::Seq(t)) if !t.is_empty()),
                            },
                            None => {
                                let mut inline = pm.clone();
                                inline.shift_remove("path");
                                ReplacementEntry::Inline(Box::new(
                                    Replacement::parse(&Value::Map(inline), &ctx)
                                        .map_err(|m| f.err(m))?,
                                ))
                            }
                        };
                        k.replacements.push(entry);
                    }
                }
                "buildMetadata" => {
                    // kustomize looks for the options it knows and ignores
                    // anything else.
                    let items = f.strings(v, key)?;
                    k.build_metadata_set = !items.is_empty();
                    for item in items {
                        match item.as_str() {
                            "originAnnotations" => k.origin_annotations = true,
                            "managedByLabel" => k.managed_by_label = true,
                            "transformerAnnotations" => k.transformer_annotations = true,
                            _ => {}
                        }
                    }
                }
                "configurations" => k.configurations = f.strings(v, key)?,
                "crds" => k.crds = f.strings(v, key)?,
                "openapi" => {
                    // Go decodes the field into a map of strings: a key
                    // given a null is there, holding the empty string.
                    let om = f.map(v, key)?;
                    let entry = |name: &str| match om.get(name) {
                        None => Ok(None),
                        Some(Value::Null) => Ok(Some(String::new())),
                        Some(v) => f.string(v, &format!("{key}.{name}")).map(Some),
                    };
                    k.openapi_path = entry("path")?;
                    k.openapi_version = entry("version")?;
                }
                // An empty entry (a null item) adds no plugin, as kubectl
                // shows.
                "transformers" => k.transformers = non_empty(f.strings(v, key)?),
                "validators" => k.validators = non_empty(f.strings(v, key)?),
                "generators" => k.generators = non_empty(f.strings(v, key)?),
                "vars" => {
                    for (i, item) in f.list(v, key)?.iter().enumerate() {
                        let ctx = format!("vars[{i}]");
                        let vm = Value::Map(f.map(item, &ctx)?.clone());
                        k.vars.push(Var::parse(&vm, &ctx).map_err(|m| f.err(m))?);
                    }
                }
                "sortOptions" if v.is_null() => k.sort_options = None,
                "sortOptions" => k.sort_options = Some(sort_options(&f, v)?),
                "helmCharts" => {
                    for (i, item) in f.list(v, key)?.iter().enumerate() {
                        k.helm_charts.push(f.helm_chart(item, &format!("helmCharts[{i}]"))?);
                    }
                }
                "helmGlobals" => globals = Some(f.helm_globals(v, key)?),
                "helmChartInflationGenerator" => {
                    for (i, item) in f.list(v, key)?.iter().enumerate() {
                        let ctx = format!("helmChartInflationGenerator[{i}]");
                        let (chart, home) = f.legacy_helm_chart(item, &ctx)?;
                        legacy_charts.push(chart);
                        legacy_home = home.or(legacy_home);
                    }
                }
                other => {
                    return Err(
                        f.err(format!("invalid Kustomization: json: unknown field {other:?}"))
                    );
                }
            }
        }
        // As kustomize fixes up a loaded kustomization: the legacy generator's
        // charts come after helmCharts, and its chartHome counts only when
        // there is no helmGlobals.
        k.resources.append(&mut bases);
        k.images.append(&mut image_tags);
        k.helm_charts.append(&mut legacy_charts);
        k.helm_globals =
            globals.unwrap_or(HelmGlobals { chart_home: legacy_home, config_home: None });
        // kustomize checks the type once the kustomization is read and
        // reports every problem, under the kustomization's directory.
        let mut problems = Vec::new();
        if wrong_kind {
            problems.push("kind should be Kustomization or Component".to_string());
        }
        if let Some(api) = m.get("apiVersion").and_then(Value::as_str).filter(|a| !a.is_empty()) {
            let want = if k.is_component {
                "kustomize.config.k8s.io/v1alpha1"
            } else {
                "kustomize.config.k8s.io/v1beta1"
            };
            if api != want {
                let kind = m.get("kind").and_then(Value::as_str).filter(|s| !s.is_empty());
                problems.push(format!(
                    "apiVersion for {} should be {want}",
                    kind.unwrap_or("Kustomization")
                ));
            }
        }
        if !problems.is_empty() {
            let dir = match file.rsplit_once('/') {
                Some((dir, _)) => dir,
                None => ".",
            };
            return Err(f.err(format!(
                "Failed to read kustomization file under {dir}:\n{}",
                problems.join("\n")
            )));
        }
        Ok(k)
    }
}
