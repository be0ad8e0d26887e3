//! The Go structs kustomize decodes its files into (the kustomization, builtin plugin configs, transformer configurations, CRD schemas), described once for the decoder, the field-name folding and goyaml.v2.
//!
//! Each struct lists its fields by JSON name, the fields of an embedded
//! struct among them as [`GoType::Promoted`]. Where sigs.k8s.io/yaml turns
//! a YAML number into a string field's text depends on how the file is
//! read ([`super::Source`]), not on the struct, so one description serves
//! a kustomization and a plugin config alike.

use super::GoType;

/// `string`.
const STR: GoType = GoType::Str;
/// A string field of an embedded struct.
const EMBEDDED_STR: GoType = GoType::Promoted(&STR);
/// `[]string`.
const STRINGS: GoType = GoType::Slice("[]string", &STR);
/// `map[string]string`.
const STRING_MAP: GoType = GoType::Map("map[string]string", &STR);

/// kustomize's `types.FieldSpec`: the group, version and kind of an
/// embedded `resid.Gvk`, then the path and `create`.
const FIELD_SPEC: GoType = GoType::Struct(
    "FieldSpec",
    "types.FieldSpec",
    &[
        ("group", EMBEDDED_STR),
        ("version", EMBEDDED_STR),
        ("kind", EMBEDDED_STR),
        ("path", STR),
        ("create", GoType::Bool),
    ],
);

/// `[]types.FieldSpec`.
const FIELD_SPECS: GoType = GoType::Slice("[]types.FieldSpec", &FIELD_SPEC);

/// `types.FsSlice`, the same under its own name.
const FS_SLICE: GoType = GoType::Slice("types.FsSlice", &FIELD_SPEC);

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

/// kustomize's `types.ObjectMeta`: a kustomization's, a generator plugin's
/// or the namespace transformer's `metadata`.
const OBJECT_META: GoType = GoType::Struct(
    "ObjectMeta",
    "types.ObjectMeta",
    &[("name", STR), ("namespace", STR), ("labels", STRING_MAP), ("annotations", STRING_MAP)],
);

/// The fields of `types.Patch`, which the patch transformer's config has too.
const PATCH_FIELDS: &[(&str, GoType)] = &[
    ("path", STR),
    ("patch", STR),
    ("target", GoType::Ptr(&SELECTOR)),
    ("options", GoType::Map("map[string]bool", &GoType::Bool)),
];

/// `types.Patch`.
const PATCH: GoType = GoType::Struct("Patch", "types.Patch", PATCH_FIELDS);

/// `[]types.PatchStrategicMerge`.
const STRATEGIC_MERGE_PATCHES: GoType =
    GoType::Slice("[]types.PatchStrategicMerge", &GoType::NamedStr("types.PatchStrategicMerge"));

/// `types.Image`.
const IMAGE: GoType = GoType::Struct(
    "Image",
    "types.Image",
    &[("name", STR), ("newName", STR), ("newTag", STR), ("digest", STR), ("tagSuffix", STR)],
);

/// `types.Replica`.
const REPLICA: GoType =
    GoType::Struct("Replica", "types.Replica", &[("name", STR), ("count", GoType::Int("int64"))]);

/// `types.FieldOptions` of a replacement's source or target.
const FIELD_OPTIONS: GoType = GoType::Struct(
    "FieldOptions",
    "types.FieldOptions",
    &[
        ("delimiter", STR),
        ("index", GoType::Int("int")),
        ("encoding", STR),
        ("create", GoType::Bool),
    ],
);

/// `types.SourceSelector`: an embedded `resid.ResId`, the field path and
/// its options.
const SOURCE_SELECTOR: GoType = GoType::Struct(
    "SourceSelector",
    "types.SourceSelector",
    &[
        ("group", EMBEDDED_STR),
        ("version", EMBEDDED_STR),
        ("kind", EMBEDDED_STR),
        ("name", EMBEDDED_STR),
        ("namespace", EMBEDDED_STR),
        ("fieldPath", STR),
        ("options", GoType::Ptr(&FIELD_OPTIONS)),
    ],
);

/// `types.TargetSelector`.
const TARGET_SELECTOR: GoType = GoType::Struct(
    "TargetSelector",
    "types.TargetSelector",
    &[
        ("select", GoType::Ptr(&SELECTOR)),
        ("reject", GoType::Slice("[]*types.Selector", &SELECTOR)),
        ("fieldPaths", STRINGS),
        ("options", GoType::Ptr(&FIELD_OPTIONS)),
    ],
);

/// `*types.SourceSelector`.
const SOURCE: GoType = GoType::Ptr(&SOURCE_SELECTOR);
/// `[]*types.TargetSelector`.
const TARGETS: GoType = GoType::Slice("[]*types.TargetSelector", &TARGET_SELECTOR);

/// `types.Replacement`, what a file a `replacements` entry names holds (one
/// or a list of them).
pub(crate) static REPLACEMENT: GoType =
    GoType::Struct("Replacement", "types.Replacement", &[("source", SOURCE), ("targets", TARGETS)]);

/// `[]types.Replacement`, what a file of several replacements is read into.
pub(crate) static REPLACEMENTS: GoType = GoType::Slice("[]types.Replacement", &REPLACEMENT);

/// `types.ReplacementField`: an embedded `types.Replacement`, or a path.
pub(crate) static REPLACEMENT_FIELD: GoType = GoType::Struct(
    "ReplacementField",
    "types.ReplacementField",
    &[
        ("source", GoType::Promoted(&SOURCE)),
        ("targets", GoType::Promoted(&TARGETS)),
        ("path", STR),
    ],
);

/// `[]types.ReplacementField`.
const REPLACEMENT_FIELDS: GoType = GoType::Slice("[]types.ReplacementField", &REPLACEMENT_FIELD);

/// `types.Var`: its object reference is a `types.Target` (an embedded
/// `resid.Gvk`, the apiVersion, name and namespace).
const VAR: GoType = GoType::Struct(
    "Var",
    "types.Var",
    &[
        ("name", STR),
        (
            "objref",
            GoType::Struct(
                "Target",
                "types.Target",
                &[
                    ("group", EMBEDDED_STR),
                    ("version", EMBEDDED_STR),
                    ("kind", EMBEDDED_STR),
                    ("apiVersion", STR),
                    ("name", STR),
                    ("namespace", STR),
                ],
            ),
        ),
        ("fieldref", GoType::Struct("FieldSelector", "types.FieldSelector", &[("fieldPath", STR)])),
    ],
);

/// `types.GeneratorOptions`.
const GENERATOR_OPTIONS: GoType = GoType::Struct(
    "GeneratorOptions",
    "types.GeneratorOptions",
    &[
        ("labels", STRING_MAP),
        ("annotations", STRING_MAP),
        ("disableNameSuffixHash", GoType::Bool),
        ("immutable", GoType::Bool),
    ],
);

/// The fields of an embedded `types.GeneratorArgs` (with its embedded
/// `KvPairSources`), which `ConfigMapArgs` and `SecretArgs` embed and the
/// generator plugins embed through them, and the fields beside it.
macro_rules! generator_args {
    ($($more:expr),*) => {
        &[
            ("namespace", EMBEDDED_STR),
            ("name", EMBEDDED_STR),
            ("behavior", EMBEDDED_STR),
            ("literals", GoType::Promoted(&STRINGS)),
            ("files", GoType::Promoted(&STRINGS)),
            ("envs", GoType::Promoted(&STRINGS)),
            ("env", EMBEDDED_STR),
            ("options", GoType::Promoted(&GoType::Ptr(&GENERATOR_OPTIONS))),
            $($more),*
        ]
    };
}

/// A generator's `kvSources`, read by its own reader.
const KV_SOURCES: (&str, GoType) = (
    "kvSources",
    GoType::Promoted(&GoType::Slice("[]types.KVSource", &GoType::Opaque("types.KVSource"))),
);

/// `types.ConfigMapArgs`.
const CONFIG_MAP_ARGS: GoType =
    GoType::Struct("ConfigMapArgs", "types.ConfigMapArgs", generator_args!(KV_SOURCES));

/// `types.SecretArgs`.
const SECRET_ARGS: GoType =
    GoType::Struct("SecretArgs", "types.SecretArgs", generator_args!(KV_SOURCES, ("type", STR)));

/// `types.Label`.
const LABEL: GoType = GoType::Struct(
    "Label",
    "types.Label",
    &[
        ("pairs", STRING_MAP),
        ("includeSelectors", GoType::Bool),
        ("includeTemplates", GoType::Bool),
        ("fields", FIELD_SPECS),
    ],
);

/// `types.SortOptions`.
const SORT_OPTIONS: GoType = GoType::Struct(
    "SortOptions",
    "types.SortOptions",
    &[
        ("order", GoType::NamedStr("types.SortOrder")),
        (
            "legacySortOptions",
            GoType::Struct(
                "LegacySortOptions",
                "types.LegacySortOptions",
                &[("orderFirst", STRINGS), ("orderLast", STRINGS)],
            ),
        ),
    ],
);

/// `map[string]interface {}`: any object.
const ANY_MAP: GoType = GoType::Opaque("map[string]interface {}");

/// kustomize v5.5's `types.HelmChart`, a `helmCharts` entry.
const HELM_CHART: GoType = GoType::Struct(
    "HelmChart",
    "types.HelmChart",
    &[
        ("name", STR),
        ("version", STR),
        ("repo", STR),
        ("releaseName", STR),
        ("namespace", STR),
        ("additionalValuesFiles", STRINGS),
        ("valuesFile", STR),
        ("valuesInline", ANY_MAP),
        ("valuesMerge", STR),
        ("includeCRDs", GoType::Bool),
        ("skipHooks", GoType::Bool),
        ("apiVersions", STRINGS),
        ("kubeVersion", STR),
        ("nameTemplate", STR),
        ("skipTests", GoType::Bool),
        ("debug", GoType::Bool),
    ],
);

/// kustomize's deprecated `types.HelmChartArgs`, a
/// `helmChartInflationGenerator` entry.
const HELM_CHART_ARGS: GoType = GoType::Struct(
    "HelmChartArgs",
    "types.HelmChartArgs",
    &[
        ("chartName", STR),
        ("chartVersion", STR),
        ("chartRepoUrl", STR),
        ("chartHome", STR),
        ("chartRepoName", STR),
        ("helmBin", STR),
        ("helmHome", STR),
        ("values", STR),
        ("valuesLocal", ANY_MAP),
        ("valuesMerge", STR),
        ("releaseName", STR),
        ("releaseNamespace", STR),
        ("extraArgs", STRINGS),
    ],
);

/// kustomize's `types.Kustomization`, what a kustomization file is read
/// into.
pub(crate) static KUSTOMIZATION: GoType = GoType::Struct(
    "Kustomization",
    "types.Kustomization",
    &[
        ("apiVersion", STR),
        ("kind", STR),
        ("metadata", OBJECT_META),
        ("openapi", STRING_MAP),
        ("namePrefix", STR),
        ("nameSuffix", STR),
        ("namespace", STR),
        ("commonLabels", STRING_MAP),
        ("labels", GoType::Slice("[]types.Label", &LABEL)),
        ("commonAnnotations", STRING_MAP),
        ("patchesStrategicMerge", STRATEGIC_MERGE_PATCHES),
        ("patchesJson6902", GoType::Slice("[]types.Patch", &PATCH)),
        ("patches", GoType::Slice("[]types.Patch", &PATCH)),
        ("images", GoType::Slice("[]types.Image", &IMAGE)),
        ("imageTags", GoType::Slice("[]types.Image", &IMAGE)),
        ("replacements", REPLACEMENT_FIELDS),
        ("replicas", GoType::Slice("[]types.Replica", &REPLICA)),
        ("vars", GoType::Slice("[]types.Var", &VAR)),
        ("sortOptions", GoType::Ptr(&SORT_OPTIONS)),
        ("resources", STRINGS),
        ("components", STRINGS),
        ("crds", STRINGS),
        ("bases", STRINGS),
        ("configMapGenerator", GoType::Slice("[]types.ConfigMapArgs", &CONFIG_MAP_ARGS)),
        ("secretGenerator", GoType::Slice("[]types.SecretArgs", &SECRET_ARGS)),
        (
            "helmGlobals",
            GoType::Struct(
                "HelmGlobals",
                "types.HelmGlobals",
                &[("chartHome", STR), ("configHome", STR)],
            ),
        ),
        ("helmCharts", GoType::Slice("[]types.HelmChart", &HELM_CHART)),
        ("helmChartInflationGenerator", GoType::Slice("[]types.HelmChartArgs", &HELM_CHART_ARGS)),
        ("generatorOptions", GoType::Ptr(&GENERATOR_OPTIONS)),
        ("configurations", STRINGS),
        ("generators", STRINGS),
        ("transformers", STRINGS),
        ("validators", STRINGS),
        ("buildMetadata", STRINGS),
    ],
);

/// The Go type a builtin plugin decodes its config into with
/// sigs.k8s.io/yaml (`None` for the plugins that decode otherwise: see
/// [`yaml_v2_plugin`] for the prefix and suffix transformers).
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
        &[("imageTag", IMAGE), ("fieldSpecs", FIELD_SPECS)],
    );
    static REPLICA_COUNT: GoType = GoType::Struct(
        "ReplicaCountTransformerPlugin",
        "builtins.ReplicaCountTransformerPlugin",
        &[("replica", REPLICA), ("fieldSpecs", FIELD_SPECS)],
    );
    static PATCH: GoType =
        GoType::Struct("PatchTransformerPlugin", "builtins.PatchTransformerPlugin", PATCH_FIELDS);
    static PATCH_SM: GoType = GoType::Struct(
        "PatchStrategicMergeTransformerPlugin",
        "builtins.PatchStrategicMergeTransformerPlugin",
        &[("paths", STRATEGIC_MERGE_PATCHES), ("patches", STR)],
    );
    static PATCH_JSON6902: GoType = GoType::Struct(
        "PatchJson6902TransformerPlugin",
        "builtins.PatchJson6902TransformerPlugin",
        &[("target", GoType::Ptr(&SELECTOR)), ("path", STR), ("jsonOp", STR)],
    );
    static REPLACEMENT: GoType = GoType::Struct(
        "ReplacementTransformerPlugin",
        "builtins.ReplacementTransformerPlugin",
        &[("replacements", REPLACEMENT_FIELDS)],
    );
    static NAMESPACE: GoType = GoType::Struct(
        "NamespaceTransformerPlugin",
        "builtins.NamespaceTransformerPlugin",
        &[
            ("metadata", OBJECT_META),
            ("fieldSpecs", FIELD_SPECS),
            ("unsetOnly", GoType::Bool),
            ("setRoleBindingSubjects", GoType::NamedStr("namespace.RoleBindingSubjectMode")),
        ],
    );
    static CONFIG_MAP: GoType = GoType::Struct(
        "ConfigMapGeneratorPlugin",
        "builtins.ConfigMapGeneratorPlugin",
        generator_args!(("metadata", OBJECT_META)),
    );
    static SECRET: GoType = GoType::Struct(
        "SecretGeneratorPlugin",
        "builtins.SecretGeneratorPlugin",
        generator_args!(("metadata", OBJECT_META), ("type", EMBEDDED_STR)),
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

/// The value-add transformer's config; the file its `targetFilePath`
/// names is read into it too (only its `targets` count there).
pub(crate) static VALUE_ADD: GoType = GoType::Struct(
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
                        ("selector", GoType::Ptr(&SELECTOR)),
                        ("fieldPath", STR),
                        ("filePathPosition", GoType::Int("int")),
                    ],
                ),
            ),
        ),
        ("targetFilePath", STR),
    ],
);

/// The Go structs a plugin that decodes its config with goyaml.v2 reads it
/// into, one after the other: the prefix and suffix transformer configures
/// a prefix transformer, then (when that went well) a suffix transformer,
/// from the same text.
pub(crate) fn yaml_v2_plugin(kind: &str) -> Option<&'static [&'static GoType]> {
    const PREFIX: GoType = GoType::Struct(
        "PrefixTransformerPlugin",
        "builtins.PrefixTransformerPlugin",
        &[("prefix", STR), ("fieldSpecs", FS_SLICE)],
    );
    const SUFFIX: GoType = GoType::Struct(
        "SuffixTransformerPlugin",
        "builtins.SuffixTransformerPlugin",
        &[("suffix", STR), ("fieldSpecs", FS_SLICE)],
    );
    Some(match kind {
        "PrefixSuffixTransformer" => &[&PREFIX, &SUFFIX],
        "PrefixTransformer" => &[&PREFIX],
        "SuffixTransformer" => &[&SUFFIX],
        _ => return None,
    })
}

/// `builtinconfig.NameBackReferences`: an embedded `resid.Gvk` and the
/// fields that refer to objects of that kind.
const NAME_BACK_REFERENCES: GoType = GoType::Struct(
    "NameBackReferences",
    "builtinconfig.NameBackReferences",
    &[
        ("group", EMBEDDED_STR),
        ("version", EMBEDDED_STR),
        ("kind", EMBEDDED_STR),
        ("fieldSpecs", FS_SLICE),
    ],
);

/// kustomize's `builtinconfig.TransformerConfig`, what a `configurations:`
/// file is read into.
pub(crate) static TRANSFORMER_CONFIG: GoType = GoType::Struct(
    "TransformerConfig",
    "builtinconfig.TransformerConfig",
    &[
        ("namePrefix", FS_SLICE),
        ("nameSuffix", FS_SLICE),
        ("namespace", FS_SLICE),
        ("commonLabels", FS_SLICE),
        ("labels", FS_SLICE),
        ("templateLabels", FS_SLICE),
        ("commonAnnotations", FS_SLICE),
        ("nameReference", GoType::Slice("builtinconfig.nbrSlice", &NAME_BACK_REFERENCES)),
        ("varReference", FS_SLICE),
        ("images", FS_SLICE),
        ("replicas", FS_SLICE),
    ],
);

/// kustomize's `accumulator.OpenAPIDefinition` (one definition of a `crds:`
/// file). Its schema is go-openapi's `spec.Schema`, which decodes itself
/// with errors of its own; kiln checks only that it is a map where it reads
/// it.
const OPENAPI_DEFINITION: GoType = GoType::Struct(
    "OpenAPIDefinition",
    "accumulator.OpenAPIDefinition",
    &[("Dependencies", STRINGS)],
);

/// What a `crds:` file is read into: `accumulator.nameToApiMap`.
pub(crate) static NAME_TO_API_MAP: GoType =
    GoType::Map("accumulator.nameToApiMap", &OPENAPI_DEFINITION);
