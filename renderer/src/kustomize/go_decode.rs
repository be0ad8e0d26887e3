//! Go's `encoding/json` decoding of a value into the Go types kustomize reads its files into (the kustomization, transformer configurations, CRD schemas): the first error, in Go's words.
//!
//! Go's decoder goes on after a value of the wrong type and reports the
//! first such error once it is done (`json: cannot unmarshal string into Go
//! struct field FieldSpec.images.create of type bool`): the innermost struct
//! type, the path of JSON field names from the root (list items add
//! nothing) and the Go type. A field matches its name whatever the case;
//! with unknown fields refused, a key no field has is an error too. A value
//! decoded from YAML (sigs.k8s.io/yaml) went through a Go map first, so its
//! keys come in sorted order; JSON decoded as it is keeps its order.

use crate::value::Value;

/// A Go type as the decoder sees it.
pub(crate) enum GoType {
    /// `string`. `lenient`: sigs.k8s.io/yaml turns a YAML number or bool
    /// into its text for this field before decoding (it does for fields
    /// it can find by their tag, not for those of embedded structs).
    Str { lenient: bool },
    /// A named string type (`types.SortOrder`), its Go name; `lenient` as
    /// for [`GoType::Str`] (sigs.k8s.io/yaml goes by the field's kind, so a
    /// named string is filled from a YAML number where a `string` would be).
    NamedStr { name: &'static str, lenient: bool },
    /// `bool`.
    Bool,
    /// An integer type (`int`, `int64`), decoded as [`json_int`] says.
    Int(&'static str),
    /// A struct read (and checked field by field) by its own reader later:
    /// here only an object or null is accepted. Its Go type name.
    Opaque(&'static str),
    /// A pointer (or a struct named by a static): decoded as what it
    /// points to.
    Ptr(&'static GoType),
    /// A slice: its Go type name and its element.
    Slice(&'static str, &'static GoType),
    /// A map of strings to the element: its Go type name.
    Map(&'static str, &'static GoType),
    /// A struct: its name (`FieldSpec`), its Go type name (`types.FieldSpec`)
    /// and its fields by JSON name.
    Struct(&'static str, &'static str, &'static [(&'static str, GoType)]),
}

/// How the value came to the decoder.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// JSON text decoded as it is: keys in the text's order.
    Json,
    /// YAML converted to JSON by sigs.k8s.io/yaml: keys sorted.
    Yaml,
}

/// The first error Go's decoder reports for `value` decoded into `ty`
/// (`strict`: unknown fields refused), or `None`.
pub(crate) fn first_error(
    value: &Value,
    ty: &GoType,
    source: Source,
    strict: bool,
) -> Option<String> {
    let mut walk = Walk { source, strict, structure: None, fields: Vec::new() };
    walk.value(value, ty)
}

struct Walk {
    source: Source,
    strict: bool,
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
            (GoType::Str { .. } | GoType::NamedStr { .. }, Value::String(_))
            | (GoType::Bool, Value::Bool(_))
            | (GoType::Opaque(_), Value::Map(_)) => None,
            (GoType::Int(_), v) => match json_int(v) {
                Ok(_) => None,
                Err(found) => Some(self.mismatch_as(&found, ty)),
            },
            (
                GoType::Str { lenient: true } | GoType::NamedStr { lenient: true, .. },
                Value::Bool(_) | Value::Int(_) | Value::Uint(_) | Value::Float(_),
            ) if self.source == Source::Yaml => None,
            (GoType::Slice(_, elem), Value::Seq(items)) => {
                items.iter().find_map(|item| self.value(item, elem))
            }
            (GoType::Map(_, elem), Value::Map(m)) => {
                let mut entries: Vec<(&String, &Value)> = m.iter().collect();
                if self.source == Source::Yaml {
                    entries.sort_by(|a, b| a.0.cmp(b.0));
                }
                // Map entries add no field name and leave the struct as it
                // was: an error inside one names the map's field.
                entries.into_iter().find_map(|(_, item)| self.value(item, elem))
            }
            (GoType::Struct(name, _, fields), Value::Map(m)) => {
                let mut entries: Vec<(&String, &Value)> = m.iter().collect();
                if self.source == Source::Yaml {
                    entries.sort_by(|a, b| a.0.cmp(b.0));
                }
                for (key, item) in entries {
                    let Some((field, fty)) =
                        fields.iter().find(|(f, _)| f.eq_ignore_ascii_case(key))
                    else {
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
        let type_name = match ty {
            GoType::Str { .. } => "string",
            GoType::Bool => "bool",
            GoType::NamedStr { name: n, .. } | GoType::Int(n) | GoType::Opaque(n) => n,
            GoType::Ptr(inner) => return self.mismatch_as(what, inner),
            GoType::Slice(n, _) | GoType::Map(n, _) | GoType::Struct(_, n, _) => n,
        };
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

/// kustomize's `types.FieldSpec`: the group, version and kind of an
/// embedded `resid.Gvk`, then the path and `create`.
const FIELD_SPEC: GoType = GoType::Struct(
    "FieldSpec",
    "types.FieldSpec",
    &[
        ("group", GoType::Str { lenient: false }),
        ("version", GoType::Str { lenient: false }),
        ("kind", GoType::Str { lenient: false }),
        ("path", GoType::Str { lenient: true }),
        ("create", GoType::Bool),
    ],
);

/// A string field sigs.k8s.io/yaml finds by its tag (see [`GoType::Str`]).
const STR: GoType = GoType::Str { lenient: true };
/// A string field of an embedded struct.
const EMBEDDED_STR: GoType = GoType::Str { lenient: false };
/// `map[string]string`.
const STRING_MAP: GoType = GoType::Map("map[string]string", &STR);
/// `[]types.FieldSpec`, a builtin plugin's `fieldSpecs`.
const FIELD_SPECS: GoType = GoType::Slice("[]types.FieldSpec", &FIELD_SPEC);

/// kustomize's `types.Selector`: an embedded `resid.ResId` (its `resid.Gvk`
/// embedded too), then the label and annotation selectors.
const SELECTOR: GoType = GoType::Struct(
    "Selector",
    "types.Selector",
    &[
        ("group", EMBEDDED_STR),
        ("version", EMBEDDED_STR),
        ("kind", EMBEDDED_STR),
        ("name", EMBEDDED_STR),
        ("namespace", EMBEDDED_STR),
        ("annotationSelector", STR),
        ("labelSelector", STR),
    ],
);

/// kustomize's `types.ObjectMeta`, a generator's or the namespace
/// transformer's `metadata`.
const OBJECT_META: GoType = GoType::Struct(
    "ObjectMeta",
    "types.ObjectMeta",
    &[("name", STR), ("namespace", STR), ("labels", STRING_MAP), ("annotations", STRING_MAP)],
);

/// The fields of kustomize's `types.GeneratorArgs` and `types.KvPairSources`,
/// embedded in a generator plugin, with its `metadata` and, for secrets,
/// `type`.
macro_rules! generator_plugin {
    ($name:literal, $go:literal $(, $extra:expr)?) => {
        GoType::Struct(
            $name,
            $go,
            &[
                ("metadata", OBJECT_META),
                ("namespace", EMBEDDED_STR),
                ("name", EMBEDDED_STR),
                ("behavior", EMBEDDED_STR),
                ("literals", GoType::Slice("[]string", &EMBEDDED_STR)),
                ("files", GoType::Slice("[]string", &EMBEDDED_STR)),
                ("envs", GoType::Slice("[]string", &EMBEDDED_STR)),
                ("env", EMBEDDED_STR),
                // A field of an embedded struct: sigs.k8s.io/yaml converts
                // nothing beneath it.
                ("options", GoType::Struct("GeneratorOptions", "types.GeneratorOptions", &[
                    ("labels", GoType::Map("map[string]string", &EMBEDDED_STR)),
                    ("annotations", GoType::Map("map[string]string", &EMBEDDED_STR)),
                    ("disableNameSuffixHash", GoType::Bool),
                    ("immutable", GoType::Bool),
                ])),
                $($extra,)?
            ],
        )
    };
}

/// The Go type a builtin plugin decodes its config into with
/// sigs.k8s.io/yaml (`None` for the plugins that decode otherwise).
pub(crate) fn builtin_plugin(kind: &str) -> Option<&'static GoType> {
    static LABELS: GoType = GoType::Struct(
        "LabelTransformerPlugin",
        "builtins.LabelTransformerPlugin",
        &[("labels", STRING_MAP), ("fieldSpecs", FIELD_SPECS)],
    );
    static ANNOTATIONS: GoType = GoType::Struct(
        "AnnotationsTransformerPlugin",
        "builtins.AnnotationsTransformerPlugin",
        &[("annotations", STRING_MAP), ("fieldSpecs", FIELD_SPECS)],
    );
    static IMAGE_TAG: GoType = GoType::Struct(
        "ImageTagTransformerPlugin",
        "builtins.ImageTagTransformerPlugin",
        &[
            (
                "imageTag",
                GoType::Struct(
                    "Image",
                    "types.Image",
                    &[
                        ("name", STR),
                        ("newName", STR),
                        ("tagSuffix", STR),
                        ("newTag", STR),
                        ("digest", STR),
                    ],
                ),
            ),
            ("fieldSpecs", FIELD_SPECS),
        ],
    );
    static REPLICA_COUNT: GoType = GoType::Struct(
        "ReplicaCountTransformerPlugin",
        "builtins.ReplicaCountTransformerPlugin",
        &[
            (
                "replica",
                GoType::Struct(
                    "Replica",
                    "types.Replica",
                    &[("name", STR), ("count", GoType::Int("int64"))],
                ),
            ),
            ("fieldSpecs", FIELD_SPECS),
        ],
    );
    static PATCH: GoType = GoType::Struct(
        "PatchTransformerPlugin",
        "builtins.PatchTransformerPlugin",
        &[
            ("path", STR),
            ("patch", STR),
            ("target", SELECTOR),
            ("options", GoType::Map("map[string]bool", &GoType::Bool)),
        ],
    );
    static PATCH_SM: GoType = GoType::Struct(
        "PatchStrategicMergeTransformerPlugin",
        "builtins.PatchStrategicMergeTransformerPlugin",
        &[
            (
                "paths",
                GoType::Slice(
                    "[]types.PatchStrategicMerge",
                    &GoType::NamedStr { name: "types.PatchStrategicMerge", lenient: true },
                ),
            ),
            ("patches", STR),
        ],
    );
    static PATCH_JSON6902: GoType = GoType::Struct(
        "PatchJson6902TransformerPlugin",
        "builtins.PatchJson6902TransformerPlugin",
        &[("target", SELECTOR), ("path", STR), ("jsonOp", STR)],
    );
    static REPLACEMENT: GoType = GoType::Struct(
        "ReplacementTransformerPlugin",
        "builtins.ReplacementTransformerPlugin",
        &[("replacements", GoType::Slice("[]types.ReplacementField", &REPLACEMENT_FIELD))],
    );
    static VALUE_ADD: GoType = GoType::Struct(
        "ValueAddTransformerPlugin",
        "builtins.ValueAddTransformerPlugin",
        &[
            ("value", STR),
            (
                "targets",
                GoType::Slice(
                    "[]builtins.Target",
                    &GoType::Struct(
                        "Target",
                        "builtins.Target",
                        &[
                            ("selector", SELECTOR),
                            ("fieldPath", STR),
                            ("filePathPosition", GoType::Int("int")),
                        ],
                    ),
                ),
            ),
            ("targetFilePath", STR),
        ],
    );
    static NAMESPACE: GoType = GoType::Struct(
        "NamespaceTransformerPlugin",
        "builtins.NamespaceTransformerPlugin",
        &[
            ("metadata", OBJECT_META),
            ("fieldSpecs", FIELD_SPECS),
            ("unsetOnly", GoType::Bool),
            (
                "setRoleBindingSubjects",
                GoType::NamedStr { name: "namespace.RoleBindingSubjectMode", lenient: true },
            ),
        ],
    );
    static CONFIG_MAP: GoType =
        generator_plugin!("ConfigMapGeneratorPlugin", "builtins.ConfigMapGeneratorPlugin");
    static SECRET: GoType = generator_plugin!(
        "SecretGeneratorPlugin",
        "builtins.SecretGeneratorPlugin",
        ("type", EMBEDDED_STR)
    );
    Some(match kind {
        "LabelTransformer" => &LABELS,
        "AnnotationsTransformer" => &ANNOTATIONS,
        "ImageTagTransformer" => &IMAGE_TAG,
        "ReplicaCountTransformer" => &REPLICA_COUNT,
        "PatchTransformer" => &PATCH,
        "PatchStrategicMergeTransformer" => &PATCH_SM,
        "PatchJson6902Transformer" => &PATCH_JSON6902,
        "ReplacementTransformer" => &REPLACEMENT,
        "ValueAddTransformer" => &VALUE_ADD,
        "NamespaceTransformer" => &NAMESPACE,
        "ConfigMapGenerator" => &CONFIG_MAP,
        "SecretGenerator" => &SECRET,
        _ => return None,
    })
}

/// `builtinconfig.NameBackReferences`.
static NAME_BACK_REFERENCES: GoType = GoType::Struct(
    "NameBackReferences",
    "builtinconfig.NameBackReferences",
    &[
        ("group", GoType::Str { lenient: false }),
        ("version", GoType::Str { lenient: false }),
        ("kind", GoType::Str { lenient: false }),
        ("fieldSpecs", GoType::Slice("types.FsSlice", &FIELD_SPEC)),
    ],
);

/// kustomize's `builtinconfig.TransformerConfig`, what a `configurations:`
/// file is read into.
pub(crate) static TRANSFORMER_CONFIG: GoType = GoType::Struct(
    "TransformerConfig",
    "builtinconfig.TransformerConfig",
    &[
        ("namePrefix", GoType::Slice("types.FsSlice", &FIELD_SPEC)),
        ("nameSuffix", GoType::Slice("types.FsSlice", &FIELD_SPEC)),
        ("namespace", GoType::Slice("types.FsSlice", &FIELD_SPEC)),
        ("commonLabels", GoType::Slice("types.FsSlice", &FIELD_SPEC)),
        ("labels", GoType::Slice("types.FsSlice", &FIELD_SPEC)),
        ("templateLabels", GoType::Slice("types.FsSlice", &FIELD_SPEC)),
        ("commonAnnotations", GoType::Slice("types.FsSlice", &FIELD_SPEC)),
        ("nameReference", GoType::Slice("builtinconfig.nbrSlice", &NAME_BACK_REFERENCES)),
        ("varReference", GoType::Slice("types.FsSlice", &FIELD_SPEC)),
        ("images", GoType::Slice("types.FsSlice", &FIELD_SPEC)),
        ("replicas", GoType::Slice("types.FsSlice", &FIELD_SPEC)),
    ],
);

/// kustomize's `accumulator.OpenAPIDefinition` (one definition of a `crds:`
/// file). Its schema is go-openapi's `spec.Schema`, which decodes itself
/// with errors of its own; kiln checks only that it is a map where it reads
/// it.
static OPENAPI_DEFINITION: GoType = GoType::Struct(
    "OpenAPIDefinition",
    "accumulator.OpenAPIDefinition",
    &[("Dependencies", GoType::Slice("[]string", &GoType::Str { lenient: true }))],
);

/// What a `crds:` file is read into: `accumulator.nameToApiMap`.
pub(crate) static NAME_TO_API_MAP: GoType =
    GoType::Map("accumulator.nameToApiMap", &OPENAPI_DEFINITION);

/// A string field of a kustomization: `sigs.k8s.io/yaml` turns the file
/// into JSON without knowing the target type, so a YAML number stays one.
const UNTYPED_STR: GoType = GoType::Str { lenient: false };

/// `[]string`.
const UNTYPED_STRINGS: GoType = GoType::Slice("[]string", &UNTYPED_STR);

/// `map[string]string`.
const UNTYPED_STRING_MAP: GoType = GoType::Map("map[string]string", &UNTYPED_STR);

/// kustomize's `types.FieldSpec` in a kustomization.
static KUSTOMIZATION_FIELD_SPEC: GoType = GoType::Struct(
    "FieldSpec",
    "types.FieldSpec",
    &[
        ("group", UNTYPED_STR),
        ("version", UNTYPED_STR),
        ("kind", UNTYPED_STR),
        ("path", UNTYPED_STR),
        ("create", GoType::Bool),
    ],
);

/// `types.Selector`: an embedded `resid.ResId`, then the label selectors.
static KUSTOMIZATION_SELECTOR: GoType = GoType::Struct(
    "Selector",
    "types.Selector",
    &[
        ("group", UNTYPED_STR),
        ("version", UNTYPED_STR),
        ("kind", UNTYPED_STR),
        ("name", UNTYPED_STR),
        ("namespace", UNTYPED_STR),
        ("annotationSelector", UNTYPED_STR),
        ("labelSelector", UNTYPED_STR),
    ],
);

/// `types.Patch`.
static PATCH: GoType = GoType::Struct(
    "Patch",
    "types.Patch",
    &[
        ("path", UNTYPED_STR),
        ("patch", UNTYPED_STR),
        ("target", GoType::Ptr(&KUSTOMIZATION_SELECTOR)),
        ("options", GoType::Map("map[string]bool", &GoType::Bool)),
    ],
);

/// `types.Image`.
static IMAGE: GoType = GoType::Struct(
    "Image",
    "types.Image",
    &[
        ("name", UNTYPED_STR),
        ("newName", UNTYPED_STR),
        ("newTag", UNTYPED_STR),
        ("digest", UNTYPED_STR),
        ("tagSuffix", UNTYPED_STR),
    ],
);

/// `types.FieldOptions` of a replacement's source or target.
static FIELD_OPTIONS: GoType = GoType::Struct(
    "FieldOptions",
    "types.FieldOptions",
    &[
        ("delimiter", UNTYPED_STR),
        ("index", GoType::Int("int")),
        ("encoding", UNTYPED_STR),
        ("create", GoType::Bool),
    ],
);

/// `types.SourceSelector`: an embedded `resid.ResId`, the field path and
/// its options.
static SOURCE_SELECTOR: GoType = GoType::Struct(
    "SourceSelector",
    "types.SourceSelector",
    &[
        ("group", UNTYPED_STR),
        ("version", UNTYPED_STR),
        ("kind", UNTYPED_STR),
        ("name", UNTYPED_STR),
        ("namespace", UNTYPED_STR),
        ("fieldPath", UNTYPED_STR),
        ("options", GoType::Ptr(&FIELD_OPTIONS)),
    ],
);

/// `types.TargetSelector`.
static TARGET_SELECTOR: GoType = GoType::Struct(
    "TargetSelector",
    "types.TargetSelector",
    &[
        ("select", GoType::Ptr(&KUSTOMIZATION_SELECTOR)),
        ("reject", GoType::Slice("[]*types.Selector", &KUSTOMIZATION_SELECTOR)),
        ("fieldPaths", UNTYPED_STRINGS),
        ("options", GoType::Ptr(&FIELD_OPTIONS)),
    ],
);

/// `types.ReplacementField`: an embedded `types.Replacement`, or a path.
static REPLACEMENT_FIELD: GoType = GoType::Struct(
    "ReplacementField",
    "types.ReplacementField",
    &[
        ("source", GoType::Ptr(&SOURCE_SELECTOR)),
        ("targets", GoType::Slice("[]*types.TargetSelector", &TARGET_SELECTOR)),
        ("path", UNTYPED_STR),
    ],
);

/// `types.Var`: its object reference is a `types.Target` (an embedded
/// `resid.Gvk`, the apiVersion, name and namespace).
static VAR: GoType = GoType::Struct(
    "Var",
    "types.Var",
    &[
        ("name", UNTYPED_STR),
        (
            "objref",
            GoType::Struct(
                "Target",
                "types.Target",
                &[
                    ("group", UNTYPED_STR),
                    ("version", UNTYPED_STR),
                    ("kind", UNTYPED_STR),
                    ("apiVersion", UNTYPED_STR),
                    ("name", UNTYPED_STR),
                    ("namespace", UNTYPED_STR),
                ],
            ),
        ),
        (
            "fieldref",
            GoType::Struct("FieldSelector", "types.FieldSelector", &[("fieldPath", UNTYPED_STR)]),
        ),
    ],
);

/// `types.GeneratorOptions`.
static GENERATOR_OPTIONS: GoType = GoType::Struct(
    "GeneratorOptions",
    "types.GeneratorOptions",
    &[
        ("labels", UNTYPED_STRING_MAP),
        ("annotations", UNTYPED_STRING_MAP),
        ("disableNameSuffixHash", GoType::Bool),
        ("immutable", GoType::Bool),
    ],
);

/// The fields of `types.GeneratorArgs` (with its embedded `KvPairSources`),
/// which `ConfigMapArgs` embeds and `SecretArgs` embeds beside `type`.
macro_rules! generator_args {
    ($($more:expr),*) => {
        &[
            ("namespace", UNTYPED_STR),
            ("name", UNTYPED_STR),
            ("behavior", UNTYPED_STR),
            ("literals", UNTYPED_STRINGS),
            ("files", UNTYPED_STRINGS),
            ("envs", UNTYPED_STRINGS),
            ("env", UNTYPED_STR),
            ("kvSources", GoType::Slice("[]types.KVSource", &GoType::Opaque("types.KVSource"))),
            ("options", GoType::Ptr(&GENERATOR_OPTIONS)),
            $($more),*
        ]
    };
}

/// `types.ConfigMapArgs`.
static CONFIG_MAP_ARGS: GoType =
    GoType::Struct("ConfigMapArgs", "types.ConfigMapArgs", generator_args!());

/// `types.SecretArgs`.
static SECRET_ARGS: GoType =
    GoType::Struct("SecretArgs", "types.SecretArgs", generator_args!(("type", UNTYPED_STR)));

/// `types.Label`.
static LABEL: GoType = GoType::Struct(
    "Label",
    "types.Label",
    &[
        ("pairs", UNTYPED_STRING_MAP),
        ("includeSelectors", GoType::Bool),
        ("includeTemplates", GoType::Bool),
        ("fields", GoType::Slice("[]types.FieldSpec", &KUSTOMIZATION_FIELD_SPEC)),
    ],
);

/// `types.SortOptions`.
static SORT_OPTIONS: GoType = GoType::Struct(
    "SortOptions",
    "types.SortOptions",
    &[
        ("order", GoType::NamedStr { name: "types.SortOrder", lenient: false }),
        (
            "legacySortOptions",
            GoType::Struct(
                "LegacySortOptions",
                "types.LegacySortOptions",
                &[("orderFirst", UNTYPED_STRINGS), ("orderLast", UNTYPED_STRINGS)],
            ),
        ),
    ],
);

/// kustomize's `types.Kustomization`, what a kustomization file is read
/// into (the Helm chart entries are read, strictly, by their own reader).
pub(crate) static KUSTOMIZATION: GoType = GoType::Struct(
    "Kustomization",
    "types.Kustomization",
    &[
        ("apiVersion", UNTYPED_STR),
        ("kind", UNTYPED_STR),
        (
            "metadata",
            GoType::Struct(
                "ObjectMeta",
                "types.ObjectMeta",
                &[
                    ("name", UNTYPED_STR),
                    ("namespace", UNTYPED_STR),
                    ("labels", UNTYPED_STRING_MAP),
                    ("annotations", UNTYPED_STRING_MAP),
                ],
            ),
        ),
        ("openapi", UNTYPED_STRING_MAP),
        ("namePrefix", UNTYPED_STR),
        ("nameSuffix", UNTYPED_STR),
        ("namespace", UNTYPED_STR),
        ("commonLabels", UNTYPED_STRING_MAP),
        ("labels", GoType::Slice("[]types.Label", &LABEL)),
        ("commonAnnotations", UNTYPED_STRING_MAP),
        (
            "patchesStrategicMerge",
            GoType::Slice(
                "[]types.PatchStrategicMerge",
                &GoType::NamedStr { name: "types.PatchStrategicMerge", lenient: false },
            ),
        ),
        ("patchesJson6902", GoType::Slice("[]types.Patch", &PATCH)),
        ("patches", GoType::Slice("[]types.Patch", &PATCH)),
        ("images", GoType::Slice("[]types.Image", &IMAGE)),
        ("imageTags", GoType::Slice("[]types.Image", &IMAGE)),
        ("replacements", GoType::Slice("[]types.ReplacementField", &REPLACEMENT_FIELD)),
        (
            "replicas",
            GoType::Slice(
                "[]types.Replica",
                &GoType::Struct(
                    "Replica",
                    "types.Replica",
                    &[("name", UNTYPED_STR), ("count", GoType::Int("int64"))],
                ),
            ),
        ),
        ("vars", GoType::Slice("[]types.Var", &VAR)),
        ("sortOptions", GoType::Ptr(&SORT_OPTIONS)),
        ("resources", UNTYPED_STRINGS),
        ("components", UNTYPED_STRINGS),
        ("crds", UNTYPED_STRINGS),
        ("bases", UNTYPED_STRINGS),
        ("configMapGenerator", GoType::Slice("[]types.ConfigMapArgs", &CONFIG_MAP_ARGS)),
        ("secretGenerator", GoType::Slice("[]types.SecretArgs", &SECRET_ARGS)),
        (
            "helmGlobals",
            GoType::Struct(
                "HelmGlobals",
                "types.HelmGlobals",
                &[("chartHome", UNTYPED_STR), ("configHome", UNTYPED_STR)],
            ),
        ),
        ("helmCharts", GoType::Slice("[]types.HelmChart", &GoType::Opaque("types.HelmChart"))),
        (
            "helmChartInflationGenerator",
            GoType::Slice("[]types.HelmChartArgs", &GoType::Opaque("types.HelmChartArgs")),
        ),
        ("generatorOptions", GoType::Ptr(&GENERATOR_OPTIONS)),
        ("configurations", UNTYPED_STRINGS),
        ("generators", UNTYPED_STRINGS),
        ("transformers", UNTYPED_STRINGS),
        ("validators", UNTYPED_STRINGS),
        ("buildMetadata", UNTYPED_STRINGS),
    ],
);

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
