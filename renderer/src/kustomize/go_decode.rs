//! Go's `encoding/json` decoding of a value into the Go types kustomize reads its files into (the kustomization, builtin plugin configs, transformer configurations, CRD schemas): the first error, in Go's words, and the field names Go matches.
//!
//! Go's decoder goes on after a value of the wrong type and reports the
//! first such error once it is done (`json: cannot unmarshal string into Go
//! struct field FieldSpec.images.create of type bool`): the innermost struct
//! type, the path of JSON field names from the root (list items add
//! nothing) and the Go type. A field matches its name whatever the case;
//! with unknown fields refused, a key no field has is an error too. A value
//! decoded from YAML (sigs.k8s.io/yaml) went through a Go map first, so its
//! keys come in sorted order; JSON decoded as it is keeps its order. The
//! structs themselves are described once, in [`structs`].

use crate::value::Value;

mod field_names;
mod structs;
pub(crate) use field_names::{canonical, replacements_in_file, stringify};
pub(crate) use structs::{
    KUSTOMIZATION, NAME_TO_API_MAP, REPLACEMENT, REPLACEMENT_FIELD, REPLACEMENTS,
    TRANSFORMER_CONFIG, VALUE_ADD, builtin_plugin, yaml_v2_plugin,
};

/// A Go type as the decoder sees it.
pub(crate) enum GoType {
    /// `string`.
    Str,
    /// A named string type (`types.SortOrder`): its Go name.
    NamedStr(&'static str),
    /// `bool`.
    Bool,
    /// An integer type (`int`, `int64`), decoded as [`json_int`] says.
    Int(&'static str),
    /// A struct read (and checked field by field) by its own reader later:
    /// here only an object or null is accepted. Its Go type name.
    Opaque(&'static str),
    /// A pointer: decoded as what it points to.
    Ptr(&'static GoType),
    /// A field promoted from an embedded struct (the `resid.Gvk` of a
    /// `types.FieldSpec`): decoded as its type, but sigs.k8s.io/yaml finds
    /// it only through the embedded struct and so converts nothing beneath
    /// it (see [`Source::Yaml`]).
    Promoted(&'static GoType),
    /// A slice: its Go type name and its element.
    Slice(&'static str, &'static GoType),
    /// A map of strings to the element: its Go type name.
    Map(&'static str, &'static GoType),
    /// A struct: its name (`FieldSpec`), its Go type name (`types.FieldSpec`)
    /// and its fields by JSON name.
    Struct(&'static str, &'static str, &'static [(&'static str, GoType)]),
}

impl GoType {
    /// The name Go's errors give the type.
    pub(crate) fn go_name(&self) -> &'static str {
        match self {
            GoType::Str => "string",
            GoType::Bool => "bool",
            GoType::NamedStr(n) | GoType::Int(n) | GoType::Opaque(n) => n,
            GoType::Ptr(inner) | GoType::Promoted(inner) => inner.go_name(),
            GoType::Slice(n, _) | GoType::Map(n, _) | GoType::Struct(_, n, _) => n,
        }
    }

    /// The fields of the struct this type holds: its own, a pointed-to
    /// struct's, or its elements' (a slice of structs).
    pub(crate) fn fields(&'static self) -> Option<&'static [(&'static str, GoType)]> {
        match self {
            GoType::Struct(_, _, fields) => Some(fields),
            GoType::Ptr(inner) | GoType::Promoted(inner) | GoType::Slice(_, inner) => {
                inner.fields()
            }
            _ => None,
        }
    }
}

/// The field of `fields` a JSON key decodes into: the exact name, else the
/// first one equal ignoring ASCII case, as Go's decoder matches them.
pub(crate) fn field<'a>(
    fields: &'a [(&'static str, GoType)],
    key: &str,
) -> Option<&'a (&'static str, GoType)> {
    fields
        .iter()
        .find(|(name, _)| *name == key)
        .or_else(|| fields.iter().find(|(name, _)| name.eq_ignore_ascii_case(key)))
}

/// How the value came to the decoder.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// JSON text decoded as it is: keys in the text's order.
    Json,
    /// YAML read by sigs.k8s.io/yaml's `Unmarshal` into the Go value: keys
    /// sorted (the YAML goes through a Go map), and a YAML number or bool
    /// written where a string field is due turned into its text first, for
    /// the fields sigs.k8s.io/yaml finds by their tag (not beneath a
    /// [`GoType::Promoted`] field).
    Yaml,
    /// YAML turned into JSON by sigs.k8s.io/yaml's `YAMLToJSON`, which does
    /// not know the target type, then decoded (a kustomization): keys
    /// sorted, a YAML number stays one.
    YamlToJson,
}

/// The first error Go's decoder reports for `value` decoded into `ty`
/// (`strict`: unknown fields refused), or `None`.
pub(crate) fn first_error(
    value: &Value,
    ty: &GoType,
    source: Source,
    strict: bool,
) -> Option<String> {
    let typed = source == Source::Yaml;
    let mut walk = Walk { source, strict, typed, structure: None, fields: Vec::new() };
    walk.value(value, ty)
}

struct Walk {
    source: Source,
    strict: bool,
    /// Whether sigs.k8s.io/yaml knew the field's type here (see
    /// [`Source::Yaml`]).
    typed: bool,
    /// The innermost struct being decoded.
    structure: Option<&'static str>,
    /// The JSON names of the fields from the root.
    fields: Vec<&'static str>,
}

impl Walk {
    fn value(&mut self, v: &Value, ty: &GoType) -> Option<String> {
        if v.is_null() {
            return None;
        }
        match (ty, v) {
            (GoType::Ptr(inner), v) => self.value(v, inner),
            (GoType::Promoted(inner), v) => {
                let typed = std::mem::replace(&mut self.typed, false);
                let found = self.value(v, inner);
                self.typed = typed;
                found
            }
            (GoType::Str | GoType::NamedStr(_), Value::String(_))
            | (GoType::Bool, Value::Bool(_))
            | (GoType::Opaque(_), Value::Map(_)) => None,
            (GoType::Int(_), v) => match json_int(v) {
                Ok(_) => None,
                Err(found) => Some(self.mismatch_as(&found, ty)),
            },
            (
                GoType::Str | GoType::NamedStr(_),
                Value::Bool(_) | Value::Int(_) | Value::Uint(_) | Value::Float(_),
            ) if self.typed => None,
            (GoType::Slice(_, elem), Value::Seq(items)) => {
                items.iter().find_map(|item| self.value(item, elem))
            }
            (GoType::Map(_, elem), Value::Map(m)) => {
                let mut entries: Vec<(&String, &Value)> = m.iter().collect();
                if self.source != Source::Json {
                    entries.sort_by(|a, b| a.0.cmp(b.0));
                }
                // Map entries add no field name and leave the struct as it
                // was: an error inside one names the map's field.
                entries.into_iter().find_map(|(_, item)| self.value(item, elem))
            }
            (GoType::Struct(name, _, fields), Value::Map(m)) => {
                let mut entries: Vec<(&String, &Value)> = m.iter().collect();
                if self.source != Source::Json {
                    entries.sort_by(|a, b| a.0.cmp(b.0));
                }
                for (key, item) in entries {
                    let Some((field, fty)) = field(fields, key) else {
                        if self.strict {
                            return Some(format!(
                                "json: unknown field {}",
                                crate::gotmpl::fmt::quote(key)
                            ));
                        }
                        continue;
                    };
                    let outer = self.structure.replace(name);
                    self.fields.push(field);
                    let found = self.value(item, fty);
                    self.fields.pop();
                    self.structure = outer;
                    if found.is_some() {
                        return found;
                    }
                }
                None
            }
            _ => Some(self.mismatch(v, ty)),
        }
    }

    /// Go's `UnmarshalTypeError` for `v` where `ty` was wanted.
    fn mismatch(&self, v: &Value, ty: &GoType) -> String {
        let what = match v {
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::Uint(_) | Value::Float(_) => "number",
            Value::String(_) => "string",
            Value::Seq(_) => "array",
            _ => "object",
        };
        self.mismatch_as(what, ty)
    }

    /// [`Walk::mismatch`] where Go says what it found (`number 1.5`).
    fn mismatch_as(&self, what: &str, ty: &GoType) -> String {
        let type_name = ty.go_name();
        match self.structure {
            Some(s) => format!(
                "json: cannot unmarshal {what} into Go struct field {s}.{} of type {type_name}",
                self.fields.join(".")
            ),
            None => format!("json: cannot unmarshal {what} into Go value of type {type_name}"),
        }
    }
}

/// Go's decoding of a JSON number into an `int`/`int64` field, for a value
/// that sigs.k8s.io/yaml turned into JSON: a YAML float is written as
/// `encoding/json` writes a float64 (`2.0` and `1e3` become `2` and `1000`,
/// which decode), and a number that does not parse as an integer in range
/// fails naming its JSON text (`number 1.5`, `number 1e+21`). `Err` holds
/// what Go's `UnmarshalTypeError` says was found; null is the caller's.
pub(crate) fn json_int(v: &Value) -> Result<i64, String> {
    let text = match v {
        Value::Int(i) => return Ok(*i),
        Value::Uint(u) => u.to_string(),
        Value::Float(f) => crate::gotmpl::sprig::json::json_float(*f).unwrap_or_default(),
        Value::Bool(_) => return Err("bool".into()),
        Value::String(_) => return Err("string".into()),
        Value::Seq(_) => return Err("array".into()),
        Value::Null | Value::Map(_) => return Err("object".into()),
    };
    text.parse::<i64>().map_err(|_| format!("number {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    fn check(text: &str, ty: &GoType, source: Source) -> Option<String> {
        let v = yaml::parse_documents_yaml11(text, "t").unwrap().into_iter().next().unwrap();
        // Configurations are read strictly, CRD schemas are not.
        let strict = std::ptr::eq(ty, &TRANSFORMER_CONFIG);
        first_error(&v, ty, source, strict)
    }

    /// Recorded from kubectl (a `configurations:` file).
    #[test]
    fn transformer_config_errors_read_as_go() {
        for (text, want) in [
            (
                "- a",
                "json: cannot unmarshal array into Go value of type builtinconfig.TransformerConfig",
            ),
            (
                "commonLabels: x",
                "json: cannot unmarshal string into Go struct field TransformerConfig.commonLabels of type types.FsSlice",
            ),
            (
                "commonLabels: [x]",
                "json: cannot unmarshal string into Go struct field TransformerConfig.commonLabels of type types.FieldSpec",
            ),
            (
                "commonLabels: [{kind: 5, path: true}]",
                "json: cannot unmarshal number into Go struct field FieldSpec.commonLabels.kind of type string",
            ),
            (
                "commonLabels: [{create: 1}]",
                "json: cannot unmarshal number into Go struct field FieldSpec.commonLabels.create of type bool",
            ),
            (
                "nameReference: [{kind: A, fieldSpecs: [{path: {}}]}]",
                "json: cannot unmarshal object into Go struct field FieldSpec.nameReference.fieldSpecs.path of type string",
            ),
            (
                "nameReference: x",
                "json: cannot unmarshal string into Go struct field TransformerConfig.nameReference of type builtinconfig.nbrSlice",
            ),
            ("commonLabels: [{create: 'x', bogus: 1}]", "json: unknown field \"bogus\""),
            ("images: [{bogus2: 1}]\nBogus3: 1", "json: unknown field \"Bogus3\""),
            (
                "images: [{kind: b, KIND: 1}]",
                "json: cannot unmarshal number into Go struct field FieldSpec.images.kind of type string",
            ),
            (
                "namePrefix: [{kind: on}]",
                "json: cannot unmarshal bool into Go struct field FieldSpec.namePrefix.kind of type string",
            ),
        ] {
            assert_eq!(
                check(text, &TRANSFORMER_CONFIG, Source::Yaml).as_deref(),
                Some(want),
                "{text}"
            );
        }
        assert_eq!(
            check("commonLabels: [{path: 5, create: yes}]", &TRANSFORMER_CONFIG, Source::Yaml),
            None
        );
    }

    /// Recorded from kubectl (`replicas[].count`, cases 3044-3049).
    #[test]
    fn json_numbers_decode_into_int64_as_go() {
        let read = |text: &str| yaml::parse_documents_yaml11(text, "t").unwrap().remove(0);
        for (text, want) in [
            ("2.0", Ok(2)),
            ("1e3", Ok(1000)),
            ("0x10", Ok(16)),
            ("-0.0", Ok(0)),
            ("1.5", Err("number 1.5")),
            ("-1.25e1", Err("number -12.5")),
            ("99999999999999999999", Err("number 100000000000000000000")),
            ("1e21", Err("number 1e+21")),
            ("1.0e-7", Err("number 1e-7")),
            ("9223372036854775808", Err("number 9223372036854775808")),
            ("true", Err("bool")),
            ("'3'", Err("string")),
        ] {
            assert_eq!(json_int(&read(text)), want.map_err(str::to_string), "{text}");
        }
    }

    /// Recorded from kubectl (a `crds:` file).
    #[test]
    fn openapi_definition_errors_read_as_go() {
        for (text, source, want) in [
            (
                "- x",
                Source::Yaml,
                "json: cannot unmarshal array into Go value of type accumulator.nameToApiMap",
            ),
            (
                "a: [1]",
                Source::Yaml,
                "json: cannot unmarshal array into Go value of type accumulator.OpenAPIDefinition",
            ),
            (
                "a: {Dependencies: x}",
                Source::Yaml,
                "json: cannot unmarshal string into Go struct field OpenAPIDefinition.Dependencies of type []string",
            ),
            (
                "{\"a\": {\"Dependencies\": [1]}}",
                Source::Json,
                "json: cannot unmarshal number into Go struct field OpenAPIDefinition.Dependencies of type string",
            ),
            (
                "{\"a\": {\"dependencies\": {}}}",
                Source::Json,
                "json: cannot unmarshal object into Go struct field OpenAPIDefinition.Dependencies of type []string",
            ),
            (
                "{\"b\": 1, \"a\": \"x\"}",
                Source::Json,
                "json: cannot unmarshal number into Go value of type accumulator.OpenAPIDefinition",
            ),
            (
                "b: 1\na: x",
                Source::Yaml,
                "json: cannot unmarshal string into Go value of type accumulator.OpenAPIDefinition",
            ),
        ] {
            assert_eq!(check(text, &NAME_TO_API_MAP, source).as_deref(), Some(want), "{text}");
        }
        for text in ["a: {Dependencies: [1]}", "a: {Other: {}}", "a: null"] {
            assert_eq!(check(text, &NAME_TO_API_MAP, Source::Yaml), None, "{text}");
        }
    }
}
