//! The Go types of Chart.yaml's fields, and the first value that does not fit them, as `encoding/json` reports it.

use crate::value::{Map, Value};

/// A field's Go type in Helm's chart metadata.
#[derive(Clone, Copy)]
enum GoType {
    /// A `string`: any scalar fits (Helm's loader writes it as text).
    Text,
    Bool,
    TextList,
    TextMap,
    Maintainers,
    Dependencies,
    /// `interface{}`: anything fits.
    Any,
}

impl GoType {
    fn name(self) -> &'static str {
        match self {
            GoType::Text => "string",
            GoType::Bool => "bool",
            GoType::TextList => "[]string",
            GoType::TextMap => "map[string]string",
            GoType::Maintainers => "[]*v2.Maintainer",
            GoType::Dependencies => "[]*v2.Dependency",
            GoType::Any => "interface {}",
        }
    }
}

fn metadata_field(name: &str) -> Option<GoType> {
    Some(match name {
        "name" | "home" | "version" | "description" | "icon" | "apiVersion" | "condition"
        | "tags" | "appVersion" | "kubeVersion" | "type" => GoType::Text,
        "sources" | "keywords" => GoType::TextList,
        "maintainers" => GoType::Maintainers,
        "deprecated" => GoType::Bool,
        "annotations" => GoType::TextMap,
        "dependencies" => GoType::Dependencies,
        _ => return None,
    })
}

fn maintainer_field(name: &str) -> Option<GoType> {
    matches!(name, "name" | "email" | "url").then_some(GoType::Text)
}

fn dependency_field(name: &str) -> Option<GoType> {
    Some(match name {
        "name" | "version" | "repository" | "condition" | "alias" => GoType::Text,
        "tags" => GoType::TextList,
        "enabled" => GoType::Bool,
        "import-values" => GoType::Any,
        _ => return None,
    })
}

/// The first value of Chart.yaml (in the sorted key order of the JSON that
/// sigs.k8s.io/yaml makes of it) whose kind its field's type cannot hold:
/// `cannot unmarshal array into Go struct field .version of type string`.
pub(super) fn check(meta: &Map) -> Option<String> {
    object(meta, metadata_field, METADATA_FIELDS, "")
}

/// The fields of Helm's `Metadata`, `Maintainer` and `Dependency` structs by their JSON names.
const METADATA_FIELDS: &[&str] = &[
    "name",
    "home",
    "sources",
    "version",
    "description",
    "keywords",
    "maintainers",
    "icon",
    "apiVersion",
    "condition",
    "tags",
    "appVersion",
    "deprecated",
    "annotations",
    "kubeVersion",
    "dependencies",
    "type",
];
const MAINTAINER_FIELDS: &[&str] = &["name", "email", "url"];
const DEPENDENCY_FIELDS: &[&str] =
    &["name", "version", "repository", "condition", "tags", "enabled", "import-values", "alias"];

/// The field a key names as `encoding/json` matches it: the field of that
/// JSON name, else one whose name equals it but for case (`Name`, `APIVersION`).
fn field_name(key: &str, fields: &[&'static str]) -> Option<&'static str> {
    fields
        .iter()
        .find(|f| **f == key)
        .or_else(|| fields.iter().find(|f| f.eq_ignore_ascii_case(key)))
        .copied()
}

/// Whether `key` is the JSON name of a field of Helm's chart metadata.
pub(super) fn is_field(key: &str) -> bool {
    METADATA_FIELDS.contains(&key)
}

/// Whether `encoding/json` sets the field `key` to nil for a JSON `null`:
/// it does for slices and maps (`keywords`, `annotations`, ...), and leaves
/// text and bool fields as they were.
pub(super) fn null_clears(key: &str) -> bool {
    matches!(
        metadata_field(key),
        Some(GoType::TextList | GoType::TextMap | GoType::Maintainers | GoType::Dependencies)
    )
}

/// Chart.yaml (or requirements.yaml) with its keys as the fields of Helm's
/// chart metadata they decode into: sigs.k8s.io/yaml hands `encoding/json`
/// the keys in sorted order and it matches them regardless of case, so of
/// two keys of one field (`Name` and `name`) the later in that order wins.
/// Maintainers and dependencies are read the same way; other keys stay.
pub(super) fn canonical(meta: &Map) -> Map {
    canonical_object(meta, METADATA_FIELDS)
}

fn canonical_object(m: &Map, fields: &[&'static str]) -> Map {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    let mut out = Map::new();
    for key in keys {
        let v = &m[key.as_str()];
        let Some(name) = field_name(key, fields) else {
            out.entry(key.clone()).or_insert_with(|| v.clone());
            continue;
        };
        let nested = match name {
            "maintainers" if std::ptr::eq(fields, METADATA_FIELDS) => Some(MAINTAINER_FIELDS),
            "dependencies" if std::ptr::eq(fields, METADATA_FIELDS) => Some(DEPENDENCY_FIELDS),
            _ => None,
        };
        let v = match (nested, v) {
            (Some(inner), Value::Seq(items)) => Value::Seq(
                items
                    .iter()
                    .map(|item| match item {
                        Value::Map(e) => Value::Map(canonical_object(e, inner)),
                        other => other.clone(),
                    })
                    .collect(),
            ),
            _ => v.clone(),
        };
        out.insert(name.to_string(), v);
    }
    out
}

fn object(
    m: &Map,
    field: fn(&str) -> Option<GoType>,
    fields: &[&'static str],
    path: &str,
) -> Option<String> {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    keys.into_iter().find_map(|k| {
        let ty = field(field_name(k, fields)?)?;
        value(&m[k.as_str()], ty, &format!("{path}.{k}"), true)
    })
}

/// Checks `v` against `ty`; `named` tells whether the last step of `path`
/// is a field or map key (Go says `Go struct field`) or a list index.
fn value(v: &Value, ty: GoType, path: &str, named: bool) -> Option<String> {
    let fits = match (ty, v) {
        (GoType::Any, _) | (_, Value::Null) => true,
        (GoType::Text, v) => !matches!(v, Value::Seq(_) | Value::Map(_)),
        (GoType::Bool, v) => matches!(v, Value::Bool(_)),
        (GoType::TextMap, Value::Map(m)) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            return keys
                .into_iter()
                .find_map(|k| value(&m[k.as_str()], GoType::Text, &format!("{path}.{k}"), true));
        }
        (GoType::TextList | GoType::Maintainers | GoType::Dependencies, Value::Seq(items)) => {
            return items.iter().enumerate().find_map(|(i, item)| {
                let at = format!("{path}.{i}");
                match (ty, item) {
                    (GoType::TextList, item) => value(item, GoType::Text, &at, false),
                    (_, Value::Null) => None,
                    (GoType::Maintainers, Value::Map(m)) => {
                        object(m, maintainer_field, MAINTAINER_FIELDS, &at)
                    }
                    (GoType::Dependencies, Value::Map(m)) => {
                        object(m, dependency_field, DEPENDENCY_FIELDS, &at)
                    }
                    (GoType::Maintainers, other) => {
                        Some(mismatch(other, "v2.Maintainer", &at, false))
                    }
                    (_, other) => Some(mismatch(other, "v2.Dependency", &at, false)),
                }
            });
        }
        _ => false,
    };
    (!fits).then(|| mismatch(v, ty.name(), path, named))
}

fn mismatch(v: &Value, ty: &str, path: &str, named: bool) -> String {
    let place = if named { format!("Go struct field {path}") } else { path.to_string() };
    format!("cannot unmarshal {} into {place} of type {ty}", super::funcs::json_kind(v))
}

#[cfg(test)]
mod tests {
    use super::{canonical, check};

    /// Keys as Helm 4 decodes them (helm-template oracle, cases hg2-chartkeys-*).
    #[test]
    fn keys_match_fields_regardless_of_case() {
        let doc = parse_documents_helm(
            "APIVersion: v2\nNAME: xx\nname: yy\nVersion: 1.0.0\nDependencies:\n- Name: a\n  Alias: b\nother: 1\n",
            "Chart.yaml",
        )
        .expect("YAML")
        .remove(0);
        let crate::value::Value::Map(m) = doc else { panic!("a map") };
        let c = canonical(&m);
        let text = |k: &str| c.get(k).and_then(crate::value::Value::as_str).map(str::to_string);
        assert_eq!(text("apiVersion").as_deref(), Some("v2"));
        // `NAME` sorts before `name`, which wins.
        assert_eq!(text("name").as_deref(), Some("yy"));
        assert_eq!(text("version").as_deref(), Some("1.0.0"));
        assert!(c.get("other").is_some());
        let deps = c.get("dependencies").and_then(crate::value::Value::as_seq).expect("list");
        let dep = deps[0].as_map().expect("a map");
        assert_eq!(dep.get("alias").and_then(crate::value::Value::as_str), Some("b"));
    }
    use crate::yaml::parse_documents_helm;

    /// Texts as Helm 4 reports them (helm-template oracle).
    #[test]
    fn first_misfit_reads_as_helm4() {
        for (yaml, want) in [
            (
                "version: {a: 1}",
                Some("cannot unmarshal object into Go struct field .version of type string"),
            ),
            (
                "keywords: x",
                Some("cannot unmarshal string into Go struct field .keywords of type []string"),
            ),
            ("keywords: [[1]]", Some("cannot unmarshal array into .keywords.0 of type string")),
            (
                "annotations: {a: [1]}",
                Some("cannot unmarshal array into Go struct field .annotations.a of type string"),
            ),
            (
                "maintainers: [x]",
                Some("cannot unmarshal string into .maintainers.0 of type v2.Maintainer"),
            ),
            (
                "deprecated: x",
                Some("cannot unmarshal string into Go struct field .deprecated of type bool"),
            ),
            ("version: 1.5\nhome: ~\nkeywords: [1, true]\nother: [1]", None),
        ] {
            let doc = parse_documents_helm(yaml, "Chart.yaml").expect("YAML").remove(0);
            let crate::value::Value::Map(m) = doc else { panic!("a map") };
            assert_eq!(check(&m).as_deref(), want, "{yaml}");
        }
    }
}
