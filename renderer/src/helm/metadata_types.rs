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
    object(meta, metadata_field, "")
}

fn object(m: &Map, field: fn(&str) -> Option<GoType>, path: &str) -> Option<String> {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    keys.into_iter().find_map(|k| {
        let ty = field(k)?;
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
                    (GoType::Maintainers, Value::Map(m)) => object(m, maintainer_field, &at),
                    (GoType::Dependencies, Value::Map(m)) => object(m, dependency_field, &at),
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
    use super::check;
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
