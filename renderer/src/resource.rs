//! Kubernetes objects as kustomize sees them: identity (group, version, kind,
//! namespace, name) plus the object's data and where it came from.

use crate::value::{Map, Value};
use std::fmt;

/// Group, version and kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Gvk {
    /// API group, `""` for the core group.
    pub group: String,
    /// API version.
    pub version: String,
    /// Kind.
    pub kind: String,
}

/// [`Gvk::kustomize_string`] of a group, version and kind.
pub fn kustomize_gvk_string(group: &str, version: &str, kind: &str) -> String {
    fn or<'a>(s: &'a str, blank: &'a str) -> &'a str {
        if s.is_empty() { blank } else { s }
    }
    format!("{}_{}_{}", or(group, "~G"), or(version, "~V"), or(kind, "~K"))
}

impl Gvk {
    /// Splits an `apiVersion` and a kind into a Gvk.
    pub fn from_api_version(api_version: &str, kind: &str) -> Gvk {
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), api_version.to_string()),
        };
        Gvk { group, version, kind: kind.to_string() }
    }

    /// The `apiVersion` string.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// kustomize's string form `group_version_kind`, with `~G`, `~V`, `~K` for blanks.
    pub fn kustomize_string(&self) -> String {
        kustomize_gvk_string(&self.group, &self.version, &self.kind)
    }

    /// Whether objects of this kind live outside namespaces.
    pub fn is_cluster_scoped(&self) -> bool {
        is_cluster_scoped_kind(&self.group, &self.kind)
    }

    /// Whether kustomize takes objects of this kind to live outside
    /// namespaces: its built-in schema (Kubernetes v1.21) says so for the
    /// group, kind and version. Any other version, a kind not in the schema
    /// and one only created, never read (reviews), counts as namespaced.
    ///
    /// A build whose `openapi:` schema file lists paths for kinds it does
    /// not know takes their scope from there (`scopes`, empty without one).
    pub fn is_cluster_scoped_in_kustomize(&self, scopes: &SchemaScopes) -> bool {
        if self.is_builtin_cluster_scoped() {
            return true;
        }
        // kyaml answers from its precomputed table first, then from the
        // paths of the schema in use (`IsNamespaceScoped`).
        !self.is_precomputed_namespaced() && {
            let key = (self.group.clone(), self.version.clone(), self.kind.clone());
            scopes.get(&key) == Some(&false)
        }
    }

    /// Whether kyaml's precomputed scopes list the kind as namespaced.
    fn is_precomputed_namespaced(&self) -> bool {
        let v = self.version.as_str();
        let (v1, v1_or_beta) = (v == "v1", v == "v1" || v == "v1beta1");
        match (self.group.as_str(), self.kind.as_str()) {
            (
                "",
                "ConfigMap"
                | "Endpoints"
                | "Event"
                | "LimitRange"
                | "PersistentVolumeClaim"
                | "Pod"
                | "PodAttachOptions"
                | "PodExecOptions"
                | "PodPortForwardOptions"
                | "PodProxyOptions"
                | "PodTemplate"
                | "ReplicationController"
                | "ResourceQuota"
                | "Secret"
                | "Service"
                | "ServiceAccount"
                | "ServiceProxyOptions",
            )
            | (
                "apps",
                "ControllerRevision" | "DaemonSet" | "Deployment" | "ReplicaSet" | "StatefulSet",
            )
            | ("networking.k8s.io", "NetworkPolicy") => v1,
            ("autoscaling", "HorizontalPodAutoscaler") => {
                matches!(v, "v1" | "v2beta1" | "v2beta2")
            }
            ("autoscaling", "Scale") | ("batch", "Job") => v1,
            ("batch", "CronJob")
            | ("coordination.k8s.io", "Lease")
            | ("discovery.k8s.io", "EndpointSlice")
            | ("events.k8s.io", "Event")
            | ("networking.k8s.io", "Ingress")
            | ("policy", "PodDisruptionBudget")
            | ("rbac.authorization.k8s.io", "Role" | "RoleBinding") => v1_or_beta,
            ("extensions", "Ingress") | ("storage.k8s.io", "CSIStorageCapacity") => v == "v1beta1",
            _ => false,
        }
    }

    /// kyaml's precomputed cluster-scoped kinds.
    fn is_builtin_cluster_scoped(&self) -> bool {
        let v = self.version.as_str();
        let v1_or_beta = v == "v1" || v == "v1beta1";
        match (self.group.as_str(), self.kind.as_str()) {
            (
                "",
                "Namespace" | "Node" | "PersistentVolume" | "ComponentStatus" | "NodeProxyOptions",
            ) => v == "v1",
            ("flowcontrol.apiserver.k8s.io", "FlowSchema" | "PriorityLevelConfiguration")
            | ("policy", "PodSecurityPolicy") => v == "v1beta1",
            ("admissionregistration.k8s.io", "MutatingWebhookConfiguration")
            | ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration")
            | ("apiextensions.k8s.io", "CustomResourceDefinition")
            | ("apiregistration.k8s.io", "APIService")
            | ("certificates.k8s.io", "CertificateSigningRequest")
            | ("networking.k8s.io", "IngressClass")
            | ("node.k8s.io", "RuntimeClass")
            | ("rbac.authorization.k8s.io", "ClusterRole" | "ClusterRoleBinding")
            | ("scheduling.k8s.io", "PriorityClass")
            | ("storage.k8s.io", "StorageClass" | "CSIDriver" | "CSINode" | "VolumeAttachment") => {
                v1_or_beta
            }
            _ => false,
        }
    }
}

/// Scope of each group, version and kind (`true` for namespaced) that the
/// paths of a build's `openapi:` schema file give. The build passes them
/// wherever kustomize asks kyaml whether a kind is namespaced.
pub type SchemaScopes = std::collections::HashMap<(String, String, String), bool>;

/// kustomize's built-in list of cluster-scoped kinds (the Kubernetes API's
/// non-namespaced types).
pub fn is_cluster_scoped_kind(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        ("", "Namespace" | "Node" | "PersistentVolume" | "ComponentStatus")
            | ("apiextensions.k8s.io", "CustomResourceDefinition")
            | ("apiregistration.k8s.io", "APIService")
            | (
                "admissionregistration.k8s.io",
                "MutatingWebhookConfiguration"
                    | "ValidatingWebhookConfiguration"
                    | "ValidatingAdmissionPolicy"
                    | "ValidatingAdmissionPolicyBinding"
            )
            | ("rbac.authorization.k8s.io", "ClusterRole" | "ClusterRoleBinding")
            | ("storage.k8s.io", "StorageClass" | "CSIDriver" | "CSINode" | "VolumeAttachment")
            | ("scheduling.k8s.io", "PriorityClass")
            | ("policy", "PodSecurityPolicy")
            | ("node.k8s.io", "RuntimeClass")
            | ("certificates.k8s.io", "CertificateSigningRequest")
            | ("networking.k8s.io", "IngressClass")
            | ("flowcontrol.apiserver.k8s.io", "FlowSchema" | "PriorityLevelConfiguration")
            | ("authentication.k8s.io", "TokenReview" | "SelfSubjectReview")
            | (
                "authorization.k8s.io",
                "SelfSubjectAccessReview" | "SelfSubjectRulesReview" | "SubjectAccessReview"
            )
    ) || (group.is_empty() && kind == "Namespace")
}

/// The identity of an object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ResId {
    /// Group, version, kind.
    pub gvk: Gvk,
    /// Namespace, `""` when unset or cluster-scoped.
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// The namespace kustomize matches and compares for an object of `gvk`
/// written in `namespace` (`EffectiveNamespace`): `_non_namespaceable_` for
/// a kind outside namespaces, `default` for none.
pub fn effective_namespace<'a>(gvk: &Gvk, namespace: &'a str, scopes: &SchemaScopes) -> &'a str {
    if gvk.is_cluster_scoped_in_kustomize(scopes) {
        "_non_namespaceable_"
    } else if namespace.is_empty() {
        "default"
    } else {
        namespace
    }
}

impl ResId {
    /// The identity with `default` read as no namespace, and any namespace
    /// of a kind outside namespaces dropped: kustomize compares identities
    /// by their effective namespace (`ResId.Equals`), so a ClusterRole
    /// written with a namespace is the one written without.
    pub fn key(&self, scopes: &SchemaScopes) -> ResId {
        let namespace =
            if self.namespace == "default" || self.gvk.is_cluster_scoped_in_kustomize(scopes) {
                String::new()
            } else {
                self.namespace.clone()
            };
        ResId { gvk: self.gvk.clone(), namespace, name: self.name.clone() }
    }

    /// kustomize's namespace of an identity where it compares or notes one
    /// (`EffectiveNamespace`): `_non_namespaceable_` for a kind outside
    /// namespaces, `default` for none.
    pub fn effective_namespace(&self, scopes: &SchemaScopes) -> &str {
        effective_namespace(&self.gvk, &self.namespace, scopes)
    }

    /// Whether two identities are one to kustomize (`ResId.Equals`): the
    /// same group, version, kind and name in the same effective namespace.
    pub fn same_as(&self, other: &ResId, scopes: &SchemaScopes) -> bool {
        self.gvk == other.gvk
            && self.name == other.name
            && self.effective_namespace(scopes) == other.effective_namespace(scopes)
    }

    /// kustomize's printed form of an identity in messages,
    /// `Kind.version.group/name.namespace`, with `[noKind]`, `[noVer]`,
    /// `[noGrp]`, `[noName]`, `[noNs]` for blanks.
    pub fn kustomize_form(&self) -> String {
        let or = |s: &str, none: &'static str| if s.is_empty() { none } else { s }.to_string();
        format!(
            "{}.{}.{}/{}.{}",
            or(&self.gvk.kind, "[noKind]"),
            or(&self.gvk.version, "[noVer]"),
            or(&self.gvk.group, "[noGrp]"),
            or(&self.name, "[noName]"),
            or(&self.namespace, "[noNs]"),
        )
    }
}

impl fmt::Display for ResId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = if self.namespace.is_empty() { "~X" } else { &self.namespace };
        let name = if self.name.is_empty() { "~N" } else { &self.name };
        write!(f, "{}|{}|{}", self.gvk.kustomize_string(), ns, name)
    }
}

/// One object and what kustomize remembers about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// The object; always a map.
    pub value: Value,
    /// The file it was read from or the generator that made it.
    pub source: String,
    /// Its identity when it was first loaded, before any renames.
    pub orig_id: ResId,
    /// Earlier identities, oldest first, so references written against a
    /// name or kind from before a rename or kind change can still be found.
    pub prev_ids: Vec<PrevId>,
    /// The prefixes and the suffixes `namePrefix`/`nameSuffix` (or their
    /// builtin transformer) gave its name, oldest first, as kustomize notes
    /// them in its build annotations; a rename by a patch adds none.
    pub affixes: (Vec<String>, Vec<String>),
    /// Whether a hash suffix of its content will be appended to the name
    /// (generated ConfigMaps and Secrets).
    pub needs_hash: bool,
    /// The renames and kind changes patches were allowed to make
    /// (`allowNameChange`, `allowKindChange`), which kustomize notes in
    /// build annotations.
    pub allowed_changes: (bool, bool),
    /// The `generatorBehavior` build annotation kustomize holds on this
    /// object: the behavior its generator wrote (`create`, `merge`,
    /// `replace`, else `unspecified`); `None` for an object no generator
    /// made, or whose annotations a patch or replacement replaced without it.
    pub generator_behavior: Option<String>,
    /// Fields that are one value in kustomize (see [`SharedScalar`]).
    pub shared: Vec<SharedScalar>,
    /// The source text of some scalars of its file, by path, as
    /// [`crate::yaml::Document::scalar_texts`] reports them: kustomize keeps
    /// the YAML text, reads annotations as their text, and its strategic
    /// merge drops a field written as nothing (after the first strategic
    /// merge patch, no entry has an empty text).
    pub scalar_texts: Vec<(Vec<Step>, String)>,
    /// Where its file wrote strings in quotes
    /// ([`crate::yaml::Document::quoted`]): a strategic merge patch that
    /// puts a number or bool there keeps the quotes, so it becomes the
    /// patch's text.
    pub quoted: Vec<Vec<Step>>,
    /// Where its nodes have the tagged style: its file wrote a tag there
    /// ([`crate::yaml::Document::tagged`]) or a strategic merge patch added
    /// a node it wrote so. Setters keep the style, and yaml.v3's encoder
    /// writes the node's tag, so such a node never needs quotes.
    pub tagged: Vec<Vec<Step>>,
    /// Where a label, annotation, image or replica transformer of the build wrote a value
    /// that no later step has written over with text from a file. Such a
    /// value is a YAML node without a source position in kustomize, which a
    /// validator may write again with the same value (see
    /// [`crate::kustomize::validators`]). Steps that might put a file's node
    /// there (patches, generator merges) empty the list; a replacement
    /// takes out the fields it writes.
    pub written: Vec<Vec<Step>>,
    /// A key of a nested mapping that is not a string (`1:`): kustomize
    /// reads the object and fails only where a step turns it into JSON.
    pub non_string_key: Option<Box<crate::yaml::NonStringKey>>,
    /// The object as the last JSON patch left it, with the annotations it
    /// then had: kustomize rebuilt it from that JSON, and the hash of a
    /// generated object of another kind depends on that text (see
    /// [`crate::kustomize`]'s `ynode`).
    pub json_rebuilt: Option<Box<Value>>,
    /// On an object due a hash suffix: the object as kustomize first made
    /// its node tree (a generator's output, or the document of
    /// [`Resource::text`] as read), while kustomize still holds that tree
    /// (no JSON patch rebuilt it). The hash of an object of another kind
    /// than ConfigMap or Secret depends on the tree (see
    /// [`crate::kustomize`]'s `ynode`).
    pub first_tree: Option<Box<Value>>,
    /// On a generated object that took the place of an earlier one
    /// (`behavior: merge` or `replace`): what the merge set over the nodes
    /// of the new object, whose generator output [`Resource::first_tree`]
    /// then is.
    pub generator_merge: Option<Box<GeneratorMerge>>,
    /// The `data` entries a generator (or a merge of generators) wrote as
    /// literal blocks that start with a tab, by key and text: kyaml's
    /// encoder writes no indentation indicator for them, so kustomize fails
    /// wherever it decodes the object from its text while such a node is
    /// still there (see [`crate::kustomize::generate::tab_block_error`]).
    pub tab_blocks: Vec<(String, String)>,
    /// While kiln follows the node tree (see [`Resource::generated`] and
    /// [`Resource::json_rebuilt`]): the scalars a replacement gave new text,
    /// each with the number of [`Resource::merged_patches`] then. kyaml
    /// changes only such a node's text, keeping its tag, style and place.
    pub kept_nodes: Vec<(usize, Vec<Step>)>,
    /// Of [`Resource::kept_nodes`], the annotations, each with the text its
    /// node held before a replacement first changed it: the setter that
    /// made the node chose its style for that text.
    pub kept_note_texts: Vec<(String, String)>,
    /// The annotations added since kustomize last set the map anew (see
    /// [`Resource::notes_sorted`]), build annotations included, in the
    /// order they came (kyaml appends each to the end of the map).
    pub notes_added: Vec<String>,
    /// Whether kustomize last set the annotations map anew (a JSON patch, a
    /// generator, a generator's merge: kyaml's `SetAnnotations`): the keys
    /// it held then are in sorted order, each value a new string node.
    pub notes_sorted: bool,
    /// Annotations whose value a targeted strategic merge patch (or one
    /// allowed to rename) gave: kustomize set that patch's annotations
    /// anew, so each is a new string node, not in its text's style.
    pub notes_restyled: Vec<String>,
    /// Where in `metadata` kustomize made the annotations map, when its
    /// first build annotation came to an object without annotations (the
    /// number of fields before it); `None` keeps the object's own place.
    pub notes_at: Option<usize>,
    /// While the build tracks origins (`buildMetadata`): the index, among
    /// the transformers of the kustomization now running, of the last one
    /// whose patch replaced or removed the object's annotations, and with
    /// them the origin and transformations kustomize keeps there.
    pub annotations_wiped_by: Option<usize>,
    /// The origin kustomize gives an object whose origin annotation a
    /// transformer dropped: that transformer (the `configuredIn` and
    /// `configuredBy` text); `None` keeps the file or generator it came from.
    pub origin_by: Option<String>,
    /// While the build tracks origins (any `buildMetadata`): the origin
    /// kustomize stamped in the object's annotations when the object came
    /// into the build (its file or generator), which its messages print
    /// mid-build whether or not the output keeps it.
    pub origin_held: Option<String>,
    /// While the build tracks origins but does not write transformer
    /// annotations into the objects: the transformations annotation
    /// kustomize holds on the object until the end of the build.
    pub transformations_held: String,
    /// Scalars a replacement gave text their type does not allow (a word in
    /// an int field): the field path, the text and the error. kustomize
    /// keeps the node's tag and fails when it next reads the object as
    /// data, unless a later step wrote the field again.
    pub mistyped: Vec<(String, String, String)>,
    /// Scalars its file gave a tag their text does not fit (`!!int abc`),
    /// by path, with their text and yaml.v3's error: kustomize holds the
    /// nodes and fails alike when it next reads the object as data, unless
    /// a step wrote the field again.
    pub undecodable: Vec<(Vec<Step>, String, String)>,
    /// Where a replacement created a field (the path in the object, not
    /// the path text that reached it), or a transformer set a scalar's text
    /// through kyaml's `SetScalar` (a prefix, an image, a ValueAdd): kyaml's
    /// node there has no tag, so any later text is read by its looks, and
    /// vars take it for a string.
    pub untagged: Vec<Vec<Step>>,
    /// Strings whose kyaml node has another tag (see [`Retyped`]).
    pub retyped: Vec<Retyped>,
    /// Whether kustomize holds the object as it read it back from JSON text
    /// (an item of a `...List`, until a JSON patch rebuilds it): every
    /// collection of that tree is in flow style, as the whole object is
    /// when its file wrote it `{...}`.
    pub from_json: bool,
    /// The strategic merge patches merged into a generated object since the
    /// last JSON patch, whose nodes its hash depends on.
    pub merged_patches: Vec<MergedPatch>,
    /// The vars declared on this object: kustomize ties a var to the
    /// object it named when declared, whatever later steps rename it to.
    pub ref_vars: Vec<String>,
    /// The objects whose references the name reference transformer
    /// pointed at this one, oldest first, each in kustomize's printed form
    /// of an identity (its `refBy` build annotation).
    pub ref_by: Vec<String>,
    /// Keys a label or annotation transformer wrote, with the map they are
    /// in, that YAML reads back as something other than a string (`true`,
    /// `1`, `~`): kustomize writes them as plain scalars and keeps the
    /// object, which fails where it is turned into JSON (see
    /// [`Resource::has_plain_key`]).
    pub plain_keys: Vec<(Vec<Step>, String)>,
    /// The text its file wrote it in, while kustomize still holds the
    /// nodes it read from there (until it rebuilds the object from JSON):
    /// a message that shows one of its nodes keeps their styles (see
    /// [`Resource::styles`]).
    pub text: Option<SourceText>,
    /// The documents of the strategic merge patches merged into it since
    /// it was read, in order, whose nodes kyaml merged into the file's.
    pub patched_by: Vec<SourceText>,
    /// Keys its file gave twice: kustomize holds the nodes and fails only
    /// when it turns the object into a Go map (a JSON patch, the output),
    /// counting the lines of the object as it is then.
    pub duplicates: Option<Box<Duplicates>>,
}

/// A scalar kustomize prints as a string while its node has another tag.
/// kyaml's strategic merge gives the patch's scalar node the style of the
/// node it replaces: a number, bool or timestamp written over a quoted
/// string keeps the quotes but takes the patch node's tag. yaml.v3's
/// encoder leaves out a tag the text reads as anyway, so the object prints
/// the text as a string; a replacement changes only the node's text and
/// keeps the tag, which the new text must fit (a float takes an integer's
/// text and prints as a number), and vars read the node by its tag.
#[derive(Debug, Clone, PartialEq)]
pub struct Retyped {
    /// Where the node is.
    pub path: Vec<Step>,
    /// Its tag as yaml.v3 names it: `int`, `float`, `bool` or `timestamp`.
    pub tag: &'static str,
    /// The value kiln holds there while the node is unchanged; another
    /// value means a later step replaced the node.
    pub value: Value,
}

impl Retyped {
    /// The tag of the node at `at` among `nodes` if it is one still
    /// holding `value`.
    pub fn tag_at(nodes: &[Retyped], at: &[Step], value: &Value) -> Option<&'static str> {
        nodes.iter().find(|n| n.path[..] == at[..] && n.value == *value).map(|n| n.tag)
    }
}

/// What kiln knows of the scalars below one node of an object, by path
/// from that node: their texts ([`Resource::scalar_texts`]), quoted and
/// tagged places ([`Resource::quoted`], [`Resource::tagged`]) and retyped
/// nodes ([`Resource::retyped`]). kyaml copies a node whole, so a
/// replacement copying a map or a list carries them along.
#[derive(Debug, Clone, Default)]
pub struct NodeNotes {
    texts: Vec<(Vec<Step>, String)>,
    quoted: Vec<Vec<Step>>,
    tagged: Vec<Vec<Step>>,
    retyped: Vec<Retyped>,
}

impl NodeNotes {
    /// The notes of `r` below `at`.
    pub fn below(r: &Resource, at: &[Step]) -> NodeNotes {
        let rel =
            |p: &[Step]| p.strip_prefix(at).filter(|rest| !rest.is_empty()).map(<[Step]>::to_vec);
        NodeNotes {
            texts: r.scalar_texts.iter().filter_map(|(p, t)| Some((rel(p)?, t.clone()))).collect(),
            quoted: r.quoted.iter().filter_map(|p| rel(p)).collect(),
            tagged: r.tagged.iter().filter_map(|p| rel(p)).collect(),
            retyped: r
                .retyped
                .iter()
                .filter_map(|n| Some(Retyped { path: rel(&n.path)?, ..n.clone() }))
                .collect(),
        }
    }

    /// Puts these notes below `at` in `r`, in place of the notes of the
    /// node that was there.
    pub fn put(&self, r: &mut Resource, at: &[Step]) {
        let under = |p: &[Step]| p.starts_with(at);
        let join = |rel: &[Step]| [at, rel].concat();
        r.scalar_texts.retain(|(p, _)| !under(p));
        r.scalar_texts.extend(self.texts.iter().map(|(p, t)| (join(p), t.clone())));
        r.quoted.retain(|p| !under(p));
        r.quoted.extend(self.quoted.iter().map(|p| join(p)));
        r.tagged.retain(|p| !under(p));
        r.tagged.extend(self.tagged.iter().map(|p| join(p)));
        r.retyped.retain(|n| !under(&n.path));
        r.retyped.extend(self.retyped.iter().map(|n| Retyped { path: join(&n.path), ..n.clone() }));
    }
}

/// The keys a resource's file gave again (see [`Resource::duplicates`]).
/// kiln's value holds the first of each, kyaml's node tree holds them all:
/// kyaml's steps find and set the first, one that removes it leaves the
/// next in its place, and a map replaced whole takes them along (see
/// [`Resource::settle_shadows`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Duplicates {
    /// yaml.v3's error for the object as read, on the lines of kyaml's
    /// encoding of it.
    pub error: crate::yaml::ParseError,
    /// The object as read.
    pub read: Value,
    /// Each key given again that kyaml still holds, with its value.
    pub shadows: Vec<crate::yaml::Shadow>,
    /// Whether a step removed or moved up any of them since it was read.
    pub changed: bool,
}

impl Duplicates {
    /// Gives the keys given again in the labels and annotations of `value`
    /// (a patch whose copy kustomize merges, those maps read as strings
    /// and set again) their last values, as kyaml's `getMapFromMeta`
    /// reads them, and forgets them.
    pub fn settle_meta_maps(&mut self, value: &mut Value) {
        self.shadows.retain(|s| {
            let meta_map = matches!(&s.map[..], [Step::Key(m), Step::Key(f)]
                if m == "metadata" && (f == "labels" || f == "annotations"));
            if !meta_map {
                return true;
            }
            if let Some(Value::Map(m)) = value_at_mut(value, &s.map) {
                m.insert(s.key.clone(), s.value.clone());
            }
            false
        });
        // A labels or annotations map given twice: kyaml's setter clears
        // the first field, finds the second and sets the entries read from
        // the first into it (sorted by key); a null second field takes
        // none and stays null. A third stays a key given again.
        for field in ["labels", "annotations"] {
            let again = self.shadows.iter().position(|s| {
                s.key == field && matches!(&s.map[..], [Step::Key(m)] if m == "metadata")
            });
            let Some(again) = again.map(|i| self.shadows.remove(i)) else {
                continue;
            };
            let Some(Value::Map(meta)) = value.get_path_mut(&["metadata"]) else {
                continue;
            };
            let read = match meta.shift_remove(field) {
                Some(Value::Map(read)) => read,
                _ => Map::new(),
            };
            let mut second = again.value;
            if let Value::Map(m) = &mut second {
                let mut keys: Vec<&String> = read.keys().collect();
                keys.sort();
                for k in keys {
                    m.insert(k.clone(), read[k].clone());
                }
            }
            meta.insert(field.to_string(), second);
        }
    }

    /// The keys given again in a document read as `read`, with yaml.v3's
    /// `error` for them; `None` when there are none.
    pub fn of(
        error: Option<Box<crate::yaml::ParseError>>,
        shadows: Vec<crate::yaml::Shadow>,
        read: &Value,
    ) -> Option<Box<Duplicates>> {
        let error = *error?;
        Some(Box::new(Duplicates { error, read: read.clone(), shadows, changed: false }))
    }
}

/// A piece of a file's text: the document a resource was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceText {
    /// The whole file, shared by its documents.
    pub file: std::sync::Arc<str>,
    /// Where the document is in it.
    pub range: std::ops::Range<usize>,
    /// Where the object is in the document: nowhere for a document that is
    /// the object, `items[i]` for an item of a `...List`, whose node
    /// kustomize keeps as the list's text wrote it.
    pub within: Vec<Step>,
}

/// A strategic merge patch as kustomize merged it into an object's node
/// tree (see [`crate::kustomize`]'s `ynode`).
#[derive(Debug, Clone, PartialEq)]
pub struct MergedPatch {
    /// The object just before the merge.
    pub before: Value,
    /// The annotations kustomize held then: the object's own and its build
    /// annotations.
    pub notes: Vec<(String, String)>,
    /// Whether kustomize rebuilt the annotations just before (it does when
    /// it stores the identity before a patch that may rename).
    pub notes_rebuilt: bool,
    /// While the build tracks origins: the annotations kustomize set anew
    /// when the transformer before this patch noted itself (or when it
    /// stamped the generated object's origin), before the patch stored the
    /// identity; `None` where it never set them anew (see
    /// `build_annotations::set_anew_by_origins`).
    pub notes_set_anew: Option<Vec<(String, String)>>,
    /// The patch's text, when it is one document whose nodes can be
    /// placed (no comments, no document markers); `None` otherwise.
    pub text: Option<String>,
    /// Whether the patch had a target (kustomize then copies the target's
    /// identity into a copy of the patch before merging it).
    pub targeted: bool,
    /// `allowNameChange` and `allowKindChange`.
    pub allowed: (bool, bool),
    /// Whether the object's kind has a schema (whose lists kustomize may
    /// merge by key).
    pub by_schema: bool,
    /// The object after the merge.
    pub after: Value,
}

/// What kustomize sets over the nodes of a generated object that takes the
/// place of an earlier one: the earlier object's labels and annotations
/// under the new one's, its name and namespace, and for `behavior: merge`
/// the merged `data` and `binaryData`.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorMerge {
    /// The object as the merge left it.
    pub merged: Value,
    /// The build annotations the new object was generated with.
    pub generated_notes: Vec<(String, String)>,
    /// The build annotations the merged object holds: the earlier
    /// object's.
    pub notes: Vec<(String, String)>,
    /// Whether the data maps were merged (`behavior: merge`).
    pub data: bool,
}

/// An identity an object had before a rename, a namespace move or a kind
/// change, as kustomize notes it in its build annotations (previousKinds,
/// previousNames, previousNamespaces); the group and version are always
/// the current ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrevId {
    /// The kind then.
    pub kind: String,
    /// The namespace then, empty for none.
    pub namespace: String,
    /// The name then.
    pub name: String,
}

/// One step of a concrete path into an object. The order is the order in
/// which a walk along one field path meets places (keys there are equal
/// at equal depths; indexes tell them apart).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// A map key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// Several fields of one object that hold one value.
///
/// kustomize writes a label or annotation that a transformer adds to several
/// fields of an object (metadata, selectors, templates) as one YAML node
/// shared by all of them, and later writers change that node in place: a
/// later label transformer, a strategic merge patch or a replacement that
/// sets any of the fields sets them all. A JSON patch rebuilds the object
/// and ends the sharing. kiln keeps the fields' paths and the value they
/// share, and after each such writer copies a change to the others.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedScalar {
    /// Where the fields are.
    pub paths: Vec<Vec<Step>>,
    /// The value they hold.
    pub value: Value,
}

/// The order in which kyaml's walker reaches two fields: map keys sorted,
/// list items by position.
fn walk_order(a: &[Step], b: &[Step]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (Step::Key(x), Step::Key(y)) => x.cmp(y),
            (Step::Index(x), Step::Index(y)) => x.cmp(y),
            (Step::Key(_), Step::Index(_)) => std::cmp::Ordering::Less,
            (Step::Index(_), Step::Key(_)) => std::cmp::Ordering::Greater,
        };
        if o.is_ne() {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// Turns the values of `metadata.<field>` of `value` that are not strings
/// into strings, as kustomize reads labels and annotations (kyaml's
/// `GetLabels`, the text of each value node): the text the file wrote,
/// from `texts` (see [`Resource::scalar_texts`]), unless the value has
/// changed since, else the value's own text. A plain timestamp keeps the
/// text written (`2020-01-01`), as `1.50` does; a list or a map has no
/// text and reads as an empty string.
pub fn stringify_meta_field(value: &mut Value, field: &str, texts: &[(Vec<Step>, String)]) {
    let Some(Value::Map(entries)) = value.get_path_mut(&["metadata", field]) else {
        return;
    };
    for (key, v) in entries.iter_mut() {
        let path = [Step::Key("metadata".into()), Step::Key(field.into()), Step::Key(key.clone())];
        if matches!(v, Value::Seq(_) | Value::Map(_)) {
            *v = Value::String(String::new());
        } else if let Some(text) =
            scalar_text(v, &path, texts).or_else(|| decoded_text(v, &path, texts))
        {
            *v = Value::String(text);
        }
    }
}

/// The labels and annotations of a strategic merge patch as kustomize
/// merges it into each object it selects: a copy whose maps were read as
/// strings and set again (`CopyMergeMetaDataFieldsFrom`), so `x: null`
/// becomes the string `"null"` and `1` the string `"1"`, and a field that
/// holds no entries (`labels: {}`, or no map at all) is removed.
pub fn rebuild_meta_maps(value: &mut Value, texts: &[(Vec<Step>, String)]) {
    for field in ["labels", "annotations"] {
        stringify_meta_field(value, field, texts);
        if let Some(Value::Map(meta)) = value.get_path_mut(&["metadata"]) {
            if meta.get(field).is_some_and(|m| !matches!(m, Value::Map(e) if !e.is_empty())) {
                meta.shift_remove(field);
            }
        }
    }
}

/// Turns the `metadata.name` of `value`, if it is a number or bool, into
/// the text it was written with (from `texts`, else its own text).
pub fn stringify_name(value: &mut Value, texts: &[(Vec<Step>, String)]) {
    let path = [Step::Key("metadata".into()), Step::Key("name".into())];
    if let Some(v) = value_at_mut(value, &path) {
        let text = scalar_text(v, &path, texts).filter(|_| !v.is_null());
        if let Some(text) = text.or_else(|| timestamp_text(v, &path, texts)) {
            *v = Value::String(text);
        }
    }
}

/// The text a plain timestamp was written with at `path` (`2020-01-01`),
/// if `v` is still the string the YAML reader made of it (its RFC 3339
/// form): kustomize reads names and annotations as the text written.
pub(crate) fn timestamp_text(
    v: &Value,
    path: &[Step],
    texts: &[(Vec<Step>, String)],
) -> Option<String> {
    let Value::String(s) = v else { return None };
    let (_, text) = texts.iter().find(|(p, _)| p[..] == path[..])?;
    crate::yaml::resolve::parse_timestamp(text)
        .is_some_and(|t| t.rfc3339() == *s)
        .then(|| text.clone())
}

/// The text a string the YAML reader decoded was written with at `path`:
/// a plain timestamp (see [`timestamp_text`]) or a `!!binary` scalar (its
/// base64 text, `aGk=` for `hi`). kyaml keeps that text in the node, and
/// kustomize's vars, replacements and annotations read it; a name keeps
/// only a timestamp's text (kubectl prints a `!!binary` name decoded).
fn decoded_text(v: &Value, path: &[Step], texts: &[(Vec<Step>, String)]) -> Option<String> {
    timestamp_text(v, path, texts).or_else(|| {
        let Value::String(s) = v else { return None };
        let (_, text) = texts.iter().find(|(p, _)| p[..] == path[..])?;
        (s != text && crate::yaml::binary_string(text).as_ref() == Some(s)).then(|| text.clone())
    })
}

/// The text the file wrote for the scalar `v` at `path` (from `texts`),
/// if `v` still reads as that text: a number or bool written in another
/// form (`1.50`, `0x1F`), or a plain timestamp the YAML reader turned into
/// its RFC 3339 string. kyaml keeps that text in the node.
pub fn written_text(v: &Value, path: &[Step], texts: &[(Vec<Step>, String)]) -> Option<String> {
    match v {
        Value::String(_) => decoded_text(v, path, texts),
        Value::Seq(_) | Value::Map(_) => None,
        _ => {
            let (_, text) = texts.iter().find(|(p, _)| p[..] == path[..])?;
            (!text.is_empty() && crate::yaml::resolve::resolve_plain(text) == *v)
                .then(|| text.clone())
        }
    }
}

/// The text of a scalar that is not a string, as kustomize reads it: the
/// text the file wrote at `path` (from `texts`, see
/// [`Resource::scalar_texts`]) if the value still reads as that text, else
/// the value's own text. `None` for strings, sequences and maps.
pub fn scalar_text(v: &Value, path: &[Step], texts: &[(Vec<Step>, String)]) -> Option<String> {
    let own = match v {
        Value::String(_) | Value::Seq(_) | Value::Map(_) => return None,
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        // A float with no text of its own is one Go made (every number of
        // an object rebuilt from JSON): yaml.v3 writes it in `%g` form.
        Value::Float(f) => crate::yaml::go_format_float_g(*f),
    };
    let written = texts
        .iter()
        .find(|(p, _)| p[..] == path[..])
        .map(|(_, t)| t.as_str())
        .filter(|t| reads_as(t, v) || (t.is_empty() && v.is_null()));
    Some(written.map_or(own, str::to_string))
}

/// Adds `at` to a list of paths, once.
pub fn record_path(paths: &mut Vec<Vec<Step>>, at: &[Step]) {
    if !paths.iter().any(|p| p[..] == at[..]) {
        paths.push(at.to_vec());
    }
}

/// How an object's scalars were written, as far as kiln knows: for a
/// transformer that reads a scalar node's text and sets new text in its
/// place, as kyaml's filters do (`SetScalar`: the old node's style, no tag).
#[derive(Debug, Clone, Copy)]
pub struct NodeTexts<'a> {
    /// [`Resource::scalar_texts`].
    pub texts: &'a [(Vec<Step>, String)],
    /// [`Resource::quoted`].
    pub quoted: &'a [Vec<Step>],
    /// Whether kustomize rebuilt the object from JSON
    /// ([`Resource::json_rebuilt`]).
    pub rebuilt: bool,
}

impl NodeTexts<'_> {
    /// The text of the scalar `v` at `at` (a number, bool or timestamp as
    /// written, `~` for a null written so), and whether its node is in
    /// quotes (or a block scalar); `None` for a sequence or a map.
    pub fn text(&self, v: &Value, at: &[Step]) -> Option<(String, bool)> {
        match v {
            Value::String(s) => {
                let text = timestamp_text(v, at, self.texts).unwrap_or_else(|| s.clone());
                Some((text, self.quoted_string(at, s)))
            }
            Value::Seq(_) | Value::Map(_) => None,
            other => Some((scalar_text(other, at, self.texts).unwrap_or_default(), false)),
        }
    }

    /// Whether the string `s` at `at` is a node in quotes, so that new text
    /// set there stays a string: the file wrote it so (a plain `!!str 12`
    /// is not), or, in an object rebuilt from JSON, yaml.v3's encoder
    /// did not write it plain: it quotes every string that would read as
    /// another type plain (`"12"`, `"true"`) and every one plain YAML
    /// cannot hold (`'@at'`, `'a: b'`).
    pub fn quoted_string(&self, at: &[Step], s: &str) -> bool {
        self.quoted.iter().any(|q| q[..] == at[..])
            || (self.rebuilt && crate::yaml::v3_value_not_plain(s))
    }
}

/// The paths of the strings in `v` that goyaml.v3's encoder does not write
/// plain (see [`crate::yaml::v3_value_not_plain`]).
fn not_plain_strings(v: &Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    strings_where(v, at, out, &crate::yaml::v3_value_not_plain);
}

/// The paths of the strings in `v` that YAML 1.1 reads as another type
/// (see [`crate::yaml::resolve::yaml11_non_string`]).
pub(crate) fn yaml11_non_strings(v: &Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    strings_where(v, at, out, &crate::yaml::resolve::yaml11_non_string);
}

/// The paths of the strings in `v` for which `test` holds.
fn strings_where(
    v: &Value,
    at: &mut Vec<Step>,
    out: &mut Vec<Vec<Step>>,
    test: &dyn Fn(&str) -> bool,
) {
    crate::stack::grow(|| match v {
        Value::String(s) if test(s) => out.push(at.clone()),
        Value::Map(m) => {
            for (k, v) in m {
                at.push(Step::Key(k.clone()));
                strings_where(v, at, out, test);
                at.pop();
            }
        }
        Value::Seq(items) => {
            for (i, v) in items.iter().enumerate() {
                at.push(Step::Index(i));
                strings_where(v, at, out, test);
                at.pop();
            }
        }
        _ => {}
    })
}

/// The value of a scalar node given new `text` and no tag: a string in a
/// node in quotes, else what the text reads as (`12` a number).
pub fn retext(text: String, quotes: bool) -> Value {
    if quotes { Value::String(text) } else { crate::yaml::resolve::resolve_plain(&text) }
}

/// Whether the plain scalar `text` reads as the value `v`. A NaN
/// (`.nan`, `.NaN`) reads as the NaN it was read into, though the two
/// are not equal as numbers.
pub fn reads_as(text: &str, v: &Value) -> bool {
    match (crate::yaml::resolve::resolve_plain(text), v) {
        (Value::Float(a), Value::Float(b)) if a.is_nan() => b.is_nan(),
        (read, v) => read == *v,
    }
}

/// Whether a map of `patch` on the way to `path` (as far as the path's
/// keys lead) says `$patch: replace`: its nodes then stand for the object's.
pub fn replaced_by(patch: &Value, path: &[Step]) -> bool {
    let mut at = patch;
    for step in path {
        if at.get_path(&["$patch"]).and_then(Value::as_str) == Some("replace") {
            return true;
        }
        match (step, at) {
            (Step::Key(k), Value::Map(m)) => match m.get(k) {
                Some(next) => at = next,
                None => return false,
            },
            _ => return false,
        }
    }
    false
}

/// The value at `path` in `v`, if there is one.
pub fn value_at<'a>(v: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, step| match (step, v) {
        (Step::Key(k), Value::Map(m)) => m.get(k),
        (Step::Index(i), Value::Seq(items)) => items.get(*i),
        _ => None,
    })
}

/// The value at `path` in `v`, mutably, if there is one.
pub fn value_at_mut<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, step| match (step, v) {
        (Step::Key(k), Value::Map(m)) => m.get_mut(k),
        (Step::Index(i), Value::Seq(items)) => items.get_mut(*i),
        _ => None,
    })
}

impl Resource {
    /// Wraps a parsed document, which must be a map with `kind` and `metadata.name`
    /// (checked by the loader).
    pub fn new(value: Value, source: impl Into<String>) -> Resource {
        let mut r = Resource {
            ref_vars: Vec::new(),
            ref_by: Vec::new(),
            plain_keys: Vec::new(),
            value,
            source: source.into(),
            orig_id: ResId::default(),
            prev_ids: Vec::new(),
            affixes: (Vec::new(), Vec::new()),
            needs_hash: false,
            allowed_changes: (false, false),
            generator_behavior: None,
            shared: Vec::new(),
            scalar_texts: Vec::new(),
            quoted: Vec::new(),
            tagged: Vec::new(),
            written: Vec::new(),
            non_string_key: None,
            json_rebuilt: None,
            first_tree: None,
            generator_merge: None,
            kept_nodes: Vec::new(),
            kept_note_texts: Vec::new(),
            tab_blocks: Vec::new(),
            notes_added: Vec::new(),
            notes_sorted: false,
            notes_restyled: Vec::new(),
            notes_at: None,
            annotations_wiped_by: None,
            origin_by: None,
            origin_held: None,
            transformations_held: String::new(),
            mistyped: Vec::new(),
            undecodable: Vec::new(),
            untagged: Vec::new(),
            retyped: Vec::new(),
            from_json: false,
            merged_patches: Vec::new(),
            text: None,
            patched_by: Vec::new(),
            duplicates: None,
        };
        r.orig_id = r.id();
        r
    }

    /// The styles its text wrote its nodes in, for a message that shows a
    /// node as kyaml prints it; `None` when kiln has no text for it.
    pub(crate) fn styles(&self) -> Option<crate::yaml::Styled> {
        let read = |t: &SourceText| {
            let doc = crate::kustomize::ynode::styles_with_comments(t.file.get(t.range.clone())?)?;
            if t.within.is_empty() { Some(doc) } else { doc.at(&t.within).cloned() }
        };
        let mut styles = read(self.text.as_ref()?)?;
        for patch in &self.patched_by {
            styles.merge(&read(patch)?);
        }
        Some(styles)
    }

    /// A node of the object (`node`, at `path`) as kyaml prints it in an
    /// error, in the styles its text wrote it in.
    pub fn node_dump(&self, path: &[Step], node: &Value) -> String {
        let styles = self.styles();
        if let Some((node, styles)) =
            crate::kustomize::build_annotations::held_node(self, path, node, styles.as_ref())
        {
            return crate::yaml::node_to_string_styled(&node, Some(&styles));
        }
        crate::yaml::node_to_string_styled(node, styles.as_ref().and_then(|s| s.at(path)))
    }

    fn str_at(&self, path: &[&str]) -> &str {
        self.value.get_path(path).and_then(Value::as_str).unwrap_or("")
    }

    /// Group, version and kind.
    pub fn gvk(&self) -> Gvk {
        Gvk::from_api_version(self.str_at(&["apiVersion"]), self.str_at(&["kind"]))
    }

    /// `kind`.
    pub fn kind(&self) -> &str {
        self.str_at(&["kind"])
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.str_at(&["metadata", "name"])
    }

    /// `metadata.namespace`.
    pub fn namespace(&self) -> &str {
        self.str_at(&["metadata", "namespace"])
    }

    /// The current identity.
    pub fn id(&self) -> ResId {
        ResId {
            gvk: self.gvk(),
            namespace: self.namespace().to_string(),
            name: self.name().to_string(),
        }
    }

    /// Whether `id` is this object's current, original or an earlier
    /// identity, every part equal (an unset namespace is the default one):
    /// how kustomize finds the object a patch without target or a generator
    /// names.
    pub fn answers_to(&self, id: &ResId, scopes: &SchemaScopes) -> bool {
        // kustomize compares effective namespaces (`ResId.Equals`): none is
        // `default`, and a kind outside namespaces has one whatever is written.
        let same = |gvk: &Gvk, namespace: &str| {
            effective_namespace(gvk, namespace, scopes)
                == effective_namespace(gvk, &id.namespace, scopes)
        };
        let gvk = self.gvk();
        (gvk == id.gvk && self.name() == id.name && same(&gvk, self.namespace()))
            || (self.orig_id.gvk == id.gvk
                && self.orig_id.name == id.name
                && same(&id.gvk, &self.orig_id.namespace))
            || self
                .prev_res_ids()
                .any(|p| p.gvk == id.gvk && p.name == id.name && same(&id.gvk, &p.namespace))
    }

    /// Whether a key of [`Resource::plain_keys`] is still in its map.
    pub fn has_plain_key(&self) -> bool {
        self.plain_keys.iter().any(|(map, key)| {
            value_at(&self.value, map).and_then(Value::as_map).is_some_and(|m| m.contains_key(key))
        })
    }

    /// Notes that kustomize set its annotations map anew, sorted (see
    /// [`Resource::notes_sorted`]).
    pub fn notes_set_anew(&mut self) {
        self.notes_added.clear();
        self.notes_restyled.clear();
        self.notes_sorted = true;
    }

    /// Notes that annotation `key` was added (see
    /// [`Resource::notes_added`]). kyaml clears an empty annotations map
    /// before it sets one, and makes the map at the end of `metadata` where
    /// there is none (see [`Resource::notes_at`]).
    pub fn note_added(&mut self, key: &str) {
        if self.notes_added.iter().any(|k| k == key) {
            return;
        }
        let meta = self.value.get_path(&["metadata"]).and_then(Value::as_map);
        let notes = meta.and_then(|m| m.get("annotations"));
        // A generated object has its map from the generator.
        let made = self.generator_behavior.is_some();
        if self.notes_at.is_none()
            && !made
            && !matches!(notes, Some(Value::Map(m)) if !m.is_empty())
        {
            self.notes_at = Some(meta.map_or(0, |m| m.len() - usize::from(notes.is_some())));
        }
        self.notes_added.push(key.to_string());
    }

    /// The identity the object has now, as an earlier one.
    pub fn current_prev_id(&self) -> PrevId {
        PrevId {
            kind: self.kind().to_string(),
            namespace: self.namespace().to_string(),
            name: self.name().to_string(),
        }
    }

    /// Its earlier identities, each with the current group and version.
    pub fn prev_res_ids(&self) -> impl Iterator<Item = ResId> + '_ {
        let gvk = self.gvk();
        self.prev_ids.iter().map(move |p| ResId {
            gvk: Gvk { kind: p.kind.clone(), ..gvk.clone() },
            namespace: p.namespace.clone(),
            name: p.name.clone(),
        })
    }

    /// `metadata`, created if missing.
    pub fn metadata_mut(&mut self) -> &mut Map {
        self.value
            .ensure_path(&["metadata"])
            .and_then(Value::as_map_mut)
            .expect("loader guarantees metadata is a map")
    }

    /// Sets `metadata.name`, remembering the old identity as kustomize's
    /// renaming transformers (prefix, suffix, hash) do: every time, even
    /// when the last one remembered is the same.
    pub fn set_name(&mut self, name: String) {
        self.remember(self.current_prev_id());
        self.rename(name);
    }

    /// Sets `metadata.name` without remembering the old one (a step that
    /// remembered the identity itself).
    pub fn rename(&mut self, name: String) {
        self.metadata_mut().insert("name".into(), Value::String(name));
    }

    /// Makes the fields at `paths`, which all hold `value`, one shared value.
    pub fn share(&mut self, paths: Vec<Vec<Step>>, value: Value) {
        if paths.len() > 1 {
            self.shared.push(SharedScalar { paths, value });
        }
    }

    /// [`Resource::sync_shared`] after a strategic merge `patch`: kyaml's
    /// merge writes the shared node once for each field the patch sets,
    /// walking map keys in sorted order, so the last such field in that
    /// order gives the value all of them hold.
    pub fn sync_shared_after_patch(&mut self, patch: &Value) {
        for g in &mut self.shared {
            // A map the patch replaces (`$patch: replace`) holds the patch's
            // nodes now: its fields no longer share the value.
            g.paths.retain(|p| !replaced_by(patch, p));
            let last = g
                .paths
                .iter()
                // A list item of the patch need not be the object's item
                // at the same place: only fields outside lists are known.
                .filter(|p| {
                    p.iter().all(|s| matches!(s, Step::Key(_)))
                        && value_at(patch, p)
                            .is_some_and(|v| !matches!(v, Value::Map(_) | Value::Seq(_)))
                })
                .max_by(|a, b| walk_order(a, b));
            let Some(new) = last.and_then(|p| value_at(&self.value, p)).cloned() else {
                continue;
            };
            for p in &g.paths {
                if let Some(slot) = value_at_mut(&mut self.value, p) {
                    if !matches!(slot, Value::Map(_) | Value::Seq(_)) {
                        *slot = new.clone();
                    }
                }
            }
            g.value = new;
        }
        self.sync_shared();
    }

    /// Copies a change made to one field of a shared value to the others;
    /// fields that are gone leave the group.
    pub fn sync_shared(&mut self) {
        let mut groups = std::mem::take(&mut self.shared);
        for g in &mut groups {
            g.paths.retain(|p| {
                value_at(&self.value, p)
                    .is_some_and(|v| !matches!(v, Value::Map(_) | Value::Seq(_)))
            });
            let changed = g
                .paths
                .iter()
                .filter_map(|p| value_at(&self.value, p))
                .find(|v| **v != g.value)
                .cloned();
            if let Some(new) = changed {
                for p in &g.paths {
                    if let Some(slot) = value_at_mut(&mut self.value, p) {
                        *slot = new.clone();
                    }
                }
                g.value = new;
            }
        }
        groups.retain(|g| g.paths.len() > 1);
        self.shared = groups;
    }

    /// Remembers the current identity as an earlier one even though it may
    /// not change, as kustomize does for every object its namespace
    /// transformer visits and before each JSON patch or renaming strategic
    /// merge patch: every time, so its build annotations repeat an identity
    /// remembered twice, and references may follow the object.
    pub fn store_previous_id(&mut self) {
        self.remember(self.current_prev_id());
    }

    /// Remembers an earlier identity; kustomize appends its build
    /// annotations in this order when they are new (see
    /// [`Resource::notes_added`]).
    fn remember(&mut self, id: PrevId) {
        let first = self.prev_ids.is_empty();
        self.prev_ids.push(id);
        if first {
            for key in ["previousNames", "previousNamespaces", "previousKinds"] {
                self.note_added(&format!("internal.config.kubernetes.io/{key}"));
            }
        }
    }

    /// Sets `metadata.namespace`, remembering the old one.
    pub fn set_namespace(&mut self, ns: String) {
        let old = self.current_prev_id();
        if old.namespace != ns && self.prev_ids.last() != Some(&old) {
            self.remember(old);
        }
        self.metadata_mut().insert("namespace".into(), Value::String(ns));
    }

    /// Whether the file wrote the field at `path` as nothing (`key:`), as
    /// [`Resource::scalar_texts`] records it.
    pub fn written_empty(&self, path: &[Step]) -> bool {
        self.scalar_texts.iter().any(|(p, t)| p[..] == path[..] && t.is_empty())
    }

    /// Settles the keys given again (see [`Duplicates`]) after a step that
    /// may have removed fields: a key whose map is gone goes with it, and
    /// where the map no longer has the key, kyaml removed the first node of
    /// it (its field clearer takes one) and the next one given is the field
    /// now, in its place.
    pub fn settle_shadows(&mut self) {
        let Some(d) = self.duplicates.as_deref_mut() else { return };
        let mut kept = Vec::with_capacity(d.shadows.len());
        let before = d.shadows.len();
        let mut left = std::mem::take(&mut d.shadows).into_iter();
        while let Some(s) = left.next() {
            let Some(Value::Map(m)) = value_at_mut(&mut self.value, &s.map) else { continue };
            if m.contains_key(&s.key) {
                kept.push(s);
                continue;
            }
            let at = s.at.min(m.len());
            let field = [s.map.as_slice(), &[Step::Key(s.key.clone())]].concat();
            m.shift_insert(at, s.key, s.value);
            // What the value gives again is the field's now.
            let inner = s.inner.into_iter().map(|mut i| {
                i.map.splice(..0, field.iter().cloned());
                i
            });
            let rest: Vec<_> = inner.chain(left).collect();
            left = rest.into_iter();
            d.changed = true;
        }
        d.changed |= kept.len() != before;
        d.shadows = kept;
        self.forget_settled();
    }

    /// Drops the keys given again in the maps at or below `path`, which a
    /// step replaced with nodes of its own.
    pub fn drop_shadows_under(&mut self, path: &[Step]) {
        if let Some(d) = self.duplicates.as_deref_mut() {
            let before = d.shadows.len();
            d.shadows.retain(|s| !s.map.starts_with(path));
            d.changed |= d.shadows.len() != before;
        }
        self.forget_settled();
    }

    /// Rebuilds the map at `path` (labels, annotations) as kyaml's
    /// `getMapFromMeta` reads it and its setter writes it back: a key given
    /// again takes its last value, and the map holds it once.
    pub fn rebuild_string_map(&mut self, path: &[Step]) {
        let Some(d) = self.duplicates.as_deref_mut() else { return };
        let (at, rest): (Vec<_>, Vec<_>) =
            std::mem::take(&mut d.shadows).into_iter().partition(|s| s.map == path);
        d.shadows = rest;
        d.changed |= !at.is_empty();
        if let Some(Value::Map(m)) = value_at_mut(&mut self.value, path) {
            for s in at {
                m.insert(s.key, s.value);
            }
        }
        self.forget_settled();
    }

    /// The annotations as kustomize writes them back at the end of a build
    /// (to take its own out): kyaml's `SetAnnotations` clears the first
    /// `annotations` field and, if there are entries to write (the first
    /// map's, a key given again there taking its last value), sets them
    /// into the next `annotations` field the metadata gives, else a new
    /// map. kustomize does that twice for every object, and once more
    /// before when the object has annotations then (its own or kustomize's,
    /// `build_notes`): recorded from `kubectl kustomize`, an empty first
    /// field and then another is the other, four empty ones leave two.
    pub fn rewrite_annotations(&mut self, build_notes: bool) {
        let notes = [Step::Key("metadata".into()), Step::Key("annotations".into())];
        let first_full =
            matches!(value_at(&self.value, &notes), Some(Value::Map(m)) if !m.is_empty());
        for _ in 0..2 + usize::from(build_notes || first_full) {
            self.set_annotations_again();
        }
    }

    /// One `SetAnnotations` of [`Resource::rewrite_annotations`].
    fn set_annotations_again(&mut self) {
        let notes = [Step::Key("metadata".into()), Step::Key("annotations".into())];
        self.rebuild_string_map(&notes);
        let Some(d) = self.duplicates.as_deref_mut() else { return };
        let again = d.shadows.iter().position(|s| s.map == notes[..1] && s.key == "annotations");
        let Some(i) = again else { return };
        let first = match value_at(&self.value, &notes) {
            Some(Value::Map(m)) if !m.is_empty() => m.clone(),
            // Nothing to write: the field is cleared and the next one is
            // the field now.
            _ => {
                if let Some(Value::Map(meta)) = value_at_mut(&mut self.value, &notes[..1]) {
                    meta.shift_remove("annotations");
                }
                self.settle_shadows();
                return;
            }
        };
        let next = d.shadows.remove(i);
        d.changed = true;
        let Value::Map(mut into) = next.value else { return };
        for (k, v) in first {
            into.insert(k, v);
        }
        d.shadows.extend(next.inner.into_iter().map(|mut s| {
            s.map.splice(..0, notes.iter().cloned());
            s
        }));
        if let Some(v) = value_at_mut(&mut self.value, &notes) {
            *v = Value::Map(into);
        }
        self.forget_settled();
    }

    /// Forgets the keys given twice once kyaml holds none of them again;
    /// keys kiln's value holds apart stay (see `DuplicateKey::apart`).
    fn forget_settled(&mut self) {
        let settled = |d: &Duplicates| {
            d.shadows.is_empty() && d.error.duplicate_keys.iter().all(|k| !k.apart)
        };
        if self.duplicates.as_deref().is_some_and(settled) {
            self.duplicates = None;
        }
    }

    /// Turns the values of `metadata.annotations` that are not strings into
    /// strings, as kustomize does when it rewrites the annotations at the end
    /// of a build: the text the file wrote (`1.50`, `~`, nothing), unless a
    /// later step changed the value, else the value's own text. A list or a
    /// map there has no text: kustomize writes it as an empty string.
    pub fn stringify_annotations(&mut self) {
        stringify_meta_field(&mut self.value, "annotations", &self.scalar_texts);
    }

    /// Turns a `metadata.name` written as a number or bool (`name: 123`,
    /// `name: 0x1F`) into its text, which kustomize reads as the name
    /// (see [`Resource::restore_written_name`]).
    pub fn stringify_name(&mut self) {
        stringify_name(&mut self.value, &self.scalar_texts);
    }

    /// Gives back a `metadata.name` that [`Resource::stringify_name`] made a
    /// string, and that nothing changed since, the value it was written as:
    /// kustomize prints a name no step touched as that value (`123`, `31`
    /// for `0x1F`), and one a step rewrote (a prefix) as the new text.
    pub fn restore_written_name(&mut self) {
        let path = [Step::Key("metadata".into()), Step::Key("name".into())];
        let Some((_, text)) = self.scalar_texts.iter().find(|(p, _)| p[..] == path[..]) else {
            return;
        };
        let written = crate::yaml::resolve::resolve_plain(text);
        if let Some(v) = value_at_mut(&mut self.value, &path) {
            // A timestamp reads back as a string of another text.
            let retold = matches!(&written, Value::String(w) if w != text);
            if v.as_str() == Some(text.as_str())
                && (retold || !matches!(written, Value::String(_) | Value::Null))
            {
                *v = written;
            }
        }
    }

    /// Notes that a transformer set new text at `at` as kyaml's
    /// `SetScalar` does: a new node ([`Resource::written`]) without a tag
    /// ([`Resource::untagged`]).
    pub fn note_set_scalar(&mut self, at: &[Step]) {
        record_path(&mut self.written, at);
        record_path(&mut self.untagged, at);
    }

    /// Forgets how its file wrote its scalars, as kustomize does when it
    /// rebuilds an object from JSON (after a JSON patch): a name written as
    /// a number or bool is that number now, read as the number's text.
    pub fn forget_written_texts(&mut self) {
        self.restore_written_name();
        self.scalar_texts.clear();
        // Its strings are the nodes yaml.v3's encoder made of them: in
        // quotes where plain YAML cannot hold them (`'@at'`), which a
        // strategic merge patch then keeps.
        self.quoted.clear();
        not_plain_strings(&self.value, &mut Vec::new(), &mut self.quoted);
        self.tagged.clear();
        self.untagged.clear();
        self.retyped.clear();
        self.from_json = false;
        self.text = None;
        self.patched_by.clear();
        let path = vec![Step::Key("metadata".into()), Step::Key("name".into())];
        if let Some(text) = value_at(&self.value, &path).and_then(|v| scalar_text(v, &path, &[])) {
            self.scalar_texts.push((path, text));
            self.stringify_name();
        }
    }

    /// `metadata.labels` or `metadata.annotations` as a string map.
    pub fn string_map(&self, field: &str) -> Vec<(String, String)> {
        match self.value.get_path(&["metadata", field]) {
            Some(Value::Map(m)) => m
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_default()))
                .collect(),
            _ => Vec::new(),
        }
    }
}
