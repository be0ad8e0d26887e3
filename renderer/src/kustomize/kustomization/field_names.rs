//! Field names as Go's JSON decoder matches them: exactly, else ignoring ASCII case.
//!
//! kustomize decodes a kustomization (and a plugin config) into Go structs
//! through JSON, and Go's decoder takes `nameprefix` or `NAMEPREFIX` for the
//! field `namePrefix` when no key matches exactly. When two keys land on the
//! same field the later one wins. A kustomization is decoded strictly (an
//! unknown field is an error), a plugin config leniently (it is dropped).

use crate::value::{Map, Value};

/// The fields of one Go struct, each with the shape of its value when that
/// value is itself a struct or a list of structs (`None`: opaque, e.g. a map
/// of labels whose keys are data).
pub(crate) struct Shape(pub(crate) &'static [(&'static str, Option<&'static Shape>)]);

/// A field spec (`fieldSpecs`, `labels[].fields`, `configurations`).
pub(crate) const FIELD_SPEC: Shape =
    Shape(&[("group", None), ("version", None), ("kind", None), ("path", None), ("create", None)]);

/// A target selector of patches and replacements.
pub(crate) const SELECTOR: Shape = Shape(&[
    ("group", None),
    ("version", None),
    ("kind", None),
    ("name", None),
    ("namespace", None),
    ("labelSelector", None),
    ("annotationSelector", None),
]);

/// A `patches` (or `patchesJson6902`) entry.
pub(crate) const PATCH: Shape =
    Shape(&[("path", None), ("patch", None), ("target", Some(&SELECTOR)), ("options", None)]);

/// An `images` entry.
pub(crate) const IMAGE: Shape = Shape(&[
    ("name", None),
    ("newName", None),
    ("newTag", None),
    ("digest", None),
    ("tagSuffix", None),
]);

/// A `replicas` entry.
pub(crate) const REPLICA: Shape = Shape(&[("name", None), ("count", None)]);

const GENERATOR_OPTIONS: Shape = Shape(&[
    ("labels", None),
    ("annotations", None),
    ("disableNameSuffixHash", None),
    ("immutable", None),
]);

/// A `configMapGenerator` entry.
pub(crate) const GENERATOR: Shape = Shape(&[
    ("name", None),
    ("namespace", None),
    ("behavior", None),
    ("literals", None),
    ("files", None),
    ("envs", None),
    ("env", None),
    ("options", Some(&GENERATOR_OPTIONS)),
    ("kvSources", None),
]);

/// A `secretGenerator` entry.
const SECRET_GENERATOR: Shape = Shape(&[
    ("name", None),
    ("namespace", None),
    ("behavior", None),
    ("literals", None),
    ("files", None),
    ("envs", None),
    ("env", None),
    ("options", Some(&GENERATOR_OPTIONS)),
    ("kvSources", None),
    ("type", None),
]);

const LABEL_SET: Shape = Shape(&[
    ("pairs", None),
    ("includeSelectors", None),
    ("includeTemplates", None),
    ("fields", Some(&FIELD_SPEC)),
]);

const REPLACEMENT_OPTIONS: Shape =
    Shape(&[("delimiter", None), ("index", None), ("encoding", None), ("create", None)]);

const SOURCE: Shape = Shape(&[
    ("group", None),
    ("version", None),
    ("kind", None),
    ("name", None),
    ("namespace", None),
    ("fieldPath", None),
    ("options", Some(&REPLACEMENT_OPTIONS)),
]);

const TARGET: Shape = Shape(&[
    ("select", Some(&SELECTOR)),
    ("reject", Some(&SELECTOR)),
    ("fieldPaths", None),
    ("options", Some(&REPLACEMENT_OPTIONS)),
]);

/// A replacement in a file that a `replacements` entry names.
const REPLACEMENT_IN_FILE: Shape = Shape(&[("source", Some(&SOURCE)), ("targets", Some(&TARGET))]);

/// A replacement file's content as kustomize's lenient decoder reads it:
/// one replacement or a list of them, field names matched ignoring case
/// and fields it does not know dropped.
pub(crate) fn replacements_in_file(v: &Value) -> Value {
    let one = |r: &Value| match canonical(r, &REPLACEMENT_IN_FILE, false) {
        Value::Map(m) => Value::Map(
            m.into_iter().filter(|(k, _)| REPLACEMENT_IN_FILE.field(k).is_some()).collect(),
        ),
        other => other,
    };
    match v {
        Value::Seq(items) => Value::Seq(items.iter().map(one).collect()),
        other => one(other),
    }
}

/// A `replacements` entry (inline, or a `path:` to a file of them).
pub(crate) const REPLACEMENT: Shape =
    Shape(&[("path", None), ("source", Some(&SOURCE)), ("targets", Some(&TARGET))]);

const OBJ_REF: Shape = Shape(&[
    ("apiVersion", None),
    ("group", None),
    ("version", None),
    ("kind", None),
    ("name", None),
    ("namespace", None),
]);

const VAR: Shape = Shape(&[
    ("name", None),
    ("objref", Some(&OBJ_REF)),
    ("fieldref", Some(&Shape(&[("fieldpath", None)]))),
]);

const SORT_OPTIONS: Shape = Shape(&[
    ("order", None),
    ("legacySortOptions", Some(&Shape(&[("orderFirst", None), ("orderLast", None)]))),
]);

/// The kustomization's own `metadata`.
const OBJECT_META: Shape =
    Shape(&[("name", None), ("namespace", None), ("labels", None), ("annotations", None)]);

/// A kustomization file (helm chart entries keep their own strict reading).
pub(crate) const KUSTOMIZATION: Shape = Shape(&[
    ("apiVersion", None),
    ("kind", None),
    ("metadata", Some(&OBJECT_META)),
    ("openapi", None),
    ("namePrefix", None),
    ("nameSuffix", None),
    ("namespace", None),
    ("commonLabels", None),
    ("labels", Some(&LABEL_SET)),
    ("commonAnnotations", None),
    ("patchesStrategicMerge", None),
    ("patchesJson6902", Some(&PATCH)),
    ("patches", Some(&PATCH)),
    ("images", Some(&IMAGE)),
    ("imageTags", Some(&IMAGE)),
    ("replacements", Some(&REPLACEMENT)),
    ("replicas", Some(&REPLICA)),
    ("vars", Some(&VAR)),
    ("sortOptions", Some(&SORT_OPTIONS)),
    ("resources", None),
    ("components", None),
    ("crds", None),
    ("bases", None),
    ("configMapGenerator", Some(&GENERATOR)),
    ("secretGenerator", Some(&SECRET_GENERATOR)),
    ("helmGlobals", Some(&Shape(&[("chartHome", None), ("configHome", None)]))),
    ("helmCharts", None),
    ("helmChartInflationGenerator", None),
    ("generatorOptions", Some(&GENERATOR_OPTIONS)),
    ("configurations", None),
    ("generators", None),
    ("transformers", None),
    ("validators", None),
    ("buildMetadata", None),
]);

const PLUGIN_LABELS: Shape =
    Shape(&[("labels", None), ("annotations", None), ("fieldSpecs", Some(&FIELD_SPEC))]);

const PLUGIN_NAMESPACE: Shape = Shape(&[
    ("metadata", Some(&OBJECT_META)),
    ("fieldSpecs", Some(&FIELD_SPEC)),
    ("unsetOnly", None),
    ("setRoleBindingSubjects", None),
]);

const PLUGIN_IMAGE_TAG: Shape =
    Shape(&[("imageTag", Some(&IMAGE)), ("fieldSpecs", Some(&FIELD_SPEC))]);

const PLUGIN_REPLICA_COUNT: Shape =
    Shape(&[("replica", Some(&REPLICA)), ("fieldSpecs", Some(&FIELD_SPEC))]);

const PLUGIN_PATCH: Shape =
    Shape(&[("path", None), ("patch", None), ("target", Some(&SELECTOR)), ("options", None)]);

const PLUGIN_PATCH_SMP: Shape = Shape(&[("paths", None), ("patches", None)]);

const PLUGIN_PATCH_JSON: Shape =
    Shape(&[("target", Some(&SELECTOR)), ("path", None), ("jsonOp", None)]);

const PLUGIN_REPLACEMENT: Shape = Shape(&[("replacements", Some(&REPLACEMENT))]);

/// A ConfigMapGenerator plugin config: its `metadata`, then a
/// kustomization's generator arguments.
const PLUGIN_CONFIG_MAP: Shape = Shape(&[
    ("metadata", Some(&OBJECT_META)),
    ("name", None),
    ("namespace", None),
    ("behavior", None),
    ("literals", None),
    ("files", None),
    ("envs", None),
    ("env", None),
    ("options", Some(&GENERATOR_OPTIONS)),
    ("kvSources", None),
]);

/// A SecretGenerator plugin config.
const PLUGIN_SECRET: Shape = Shape(&[
    ("metadata", Some(&OBJECT_META)),
    ("name", None),
    ("namespace", None),
    ("behavior", None),
    ("literals", None),
    ("files", None),
    ("envs", None),
    ("env", None),
    ("options", Some(&GENERATOR_OPTIONS)),
    ("kvSources", None),
    ("type", None),
]);

const VALUE_ADD_TARGET: Shape =
    Shape(&[("selector", Some(&SELECTOR)), ("fieldPath", None), ("filePathPosition", None)]);

/// The targets file a ValueAddTransformer's `targetFilePath` names.
pub(crate) const VALUE_ADD_TARGETS: Shape = Shape(&[("targets", Some(&VALUE_ADD_TARGET))]);

const PLUGIN_VALUE_ADD: Shape =
    Shape(&[("value", None), ("targets", Some(&VALUE_ADD_TARGET)), ("targetFilePath", None)]);

const PLUGIN_NOTHING: Shape = Shape(&[]);

/// The fields of a built-in plugin's config, by the plugin's kind (`None`
/// for the Helm generator, which is read strictly, for the prefix and suffix
/// transformers, which goyaml.v2 decodes matching names exactly, and for
/// unknown kinds).
pub(crate) fn plugin(kind: &str) -> Option<&'static Shape> {
    Some(match kind {
        "LabelTransformer" | "AnnotationsTransformer" => &PLUGIN_LABELS,
        "NamespaceTransformer" => &PLUGIN_NAMESPACE,
        "ImageTagTransformer" => &PLUGIN_IMAGE_TAG,
        "ReplicaCountTransformer" => &PLUGIN_REPLICA_COUNT,
        "PatchTransformer" => &PLUGIN_PATCH,
        "PatchStrategicMergeTransformer" => &PLUGIN_PATCH_SMP,
        "PatchJson6902Transformer" => &PLUGIN_PATCH_JSON,
        "ReplacementTransformer" => &PLUGIN_REPLACEMENT,
        "ConfigMapGenerator" => &PLUGIN_CONFIG_MAP,
        "SecretGenerator" => &PLUGIN_SECRET,
        "ValueAddTransformer" => &PLUGIN_VALUE_ADD,
        "HashTransformer" => &PLUGIN_NOTHING,
        _ => return None,
    })
}

const TYPE_AND_METADATA: [&str; 3] = ["apiVersion", "kind", "metadata"];

impl Shape {
    /// The field a key decodes into: the exact name, else the first one equal
    /// ignoring ASCII case.
    pub(super) fn field(&self, key: &str) -> Option<(&'static str, Option<&'static Shape>)> {
        self.0
            .iter()
            .find(|(name, _)| *name == key)
            .or_else(|| self.0.iter().find(|(name, _)| name.eq_ignore_ascii_case(key)))
            .copied()
    }
}

/// `v` with every key of the structs `shape` describes renamed to its field.
/// A key that matches no field is kept when `strict` (the reader reports it)
/// and dropped otherwise.
pub(crate) fn canonical(v: &Value, shape: &Shape, strict: bool) -> Value {
    let Value::Map(m) = v else {
        return v.clone();
    };
    // kustomize's YAML reaches Go's decoder as JSON with sorted keys, so of
    // two keys naming one field the later in byte order is decoded last
    // (each field keeps the place of its first key here).
    let mut order: Vec<&String> = m.keys().collect();
    order.sort();
    let mut out = Map::new();
    for key in m.keys() {
        if let Some((name, _)) = shape.field(key) {
            out.entry(name.to_string()).or_insert(Value::Null);
        }
    }
    let mut decoded = std::collections::HashSet::new();
    for key in order {
        let value = &m[key];
        match shape.field(key) {
            Some((name, child)) => {
                let value = match child {
                    Some(inner) => canonical_items(value, inner, strict),
                    None => value.clone(),
                };
                match out.get_mut(name) {
                    Some(earlier) if !decoded.insert(name) => decode_again(earlier, value),
                    Some(slot) => *slot = value,
                    None => {
                        out.insert(name.to_string(), value);
                    }
                }
            }
            // Every object keeps its type and metadata; the shapes of plugin
            // configs list only their own fields.
            None if strict || TYPE_AND_METADATA.contains(&key.as_str()) => {
                out.insert(key.clone(), value.clone());
            }
            None => {}
        }
    }
    Value::Map(out)
}

/// A field decoded a second time (two keys naming it): Go's decoder fills
/// the maps and structs it already holds, so their entries add up, and
/// replaces anything else.
fn decode_again(earlier: &mut Value, later: Value) {
    match (earlier, later) {
        (Value::Map(old), Value::Map(new)) => {
            for (k, v) in new {
                match old.get_mut(&k) {
                    Some(slot) => decode_again(slot, v),
                    None => {
                        old.insert(k, v);
                    }
                }
            }
        }
        (slot, later) => *slot = later,
    }
}

/// A struct-valued field, or a list of structs.
fn canonical_items(v: &Value, shape: &Shape, strict: bool) -> Value {
    match v {
        Value::Seq(items) => {
            Value::Seq(items.iter().map(|i| canonical(i, shape, strict)).collect())
        }
        other => canonical(other, shape, strict),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    #[test]
    fn keys_fold_as_go_json_does() {
        let cases = [
            // exact and case-insensitive names; the later key wins
            ("nameprefix: a-\nNAMESUFFIX: -b\n", true, "nameSuffix: -b\nnamePrefix: a-\n"),
            ("namePrefix: a-\nnameprefix: b-\n", true, "namePrefix: b-\n"),
            // maps (and structs) decoded twice add up
            (
                "commonLabels: {a: x}\ncommonlabels: {b: y, a: z}\n",
                true,
                "commonLabels: {a: z, b: y}\n",
            ),
            // ... in the byte order of the keys, not the order written
            (
                "commonlabels: {a: z}\nCommonLabels: {a: x, b: y}\n",
                true,
                "commonLabels: {a: z, b: y}\n",
            ),
            // nested structs fold, maps of data do not
            (
                "images:\n- Name: x\n  NEWTAG: v\ncommonLabels:\n  Team: a\n",
                true,
                "commonLabels:\n  Team: a\nimages:\n- name: x\n  newTag: v\n",
            ),
            // unknown keys stay for a strict reader, go for a lenient one
            ("bogus: 1\nnamespace: n\n", true, "bogus: 1\nnamespace: n\n"),
            ("bogus: 1\nnamespace: n\n", false, "namespace: n\n"),
        ];
        for (input, strict, want) in cases {
            let doc = yaml::parse_documents(input, "k").unwrap().remove(0);
            let got = canonical(&doc, &KUSTOMIZATION, strict);
            let want = yaml::parse_documents(want, "w").unwrap().remove(0);
            let sorted = |v: &Value| yaml::to_string(v);
            assert_eq!(sorted(&got), sorted(&want), "{input}");
        }
        let image = yaml::parse_documents("Name: x\nNEWTAG: v\n", "i").unwrap().remove(0);
        let got = canonical(&image, &IMAGE, true);
        assert_eq!(got.as_map().unwrap().keys().collect::<Vec<_>>(), ["name", "newTag"]);
    }
}
