//! Name references: after renames, point every reference at the new name.
//!
//! The table follows kustomize's built-in `nameReference` configuration: for
//! each referenced kind, the fields of other kinds that hold its name. A
//! field may hold the name itself, a list of names, or a map with `name`
//! (and `namespace`) fields, as role binding subjects and webhook services do.
//! The choice of the object a reference means follows kustomize's rules: the
//! candidates are the objects the referrer can see (its namespace, cluster
//! scope, the namespaces of a role binding's service accounts), whose earlier
//! names include the reference, narrowed by kind, namespace and finally by
//! the prefixes and suffixes they share with the referrer.

use crate::kustomize::build::go_quote;
use crate::kustomize::fieldspec;
use crate::kustomize::kustomization::UserFieldSpec;
use crate::kustomize::{Error, build_annotations};
use crate::resource::{Gvk, ResId, Resource, SchemaScopes, Step, scalar_text, written_text};
use crate::value::Value;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

/// The kind a reference points to, as kustomize selects it.
#[derive(Debug, Clone)]
struct TargetSel {
    kind: Option<String>,
    group: Option<String>,
    version: Option<String>,
}

impl TargetSel {
    /// kustomize's `Gvk.IsSelected`: each of the entry's group, version
    /// and kind that is set must be equal.
    fn selects(&self, gvk: &Gvk) -> bool {
        self.kind.as_ref().is_none_or(|k| *k == gvk.kind)
            && self.group.as_ref().is_none_or(|g| *g == gvk.group)
            && self.version.as_ref().is_none_or(|v| *v == gvk.version)
    }
}

/// One table entry: which kind is referred to, and where.
#[derive(Debug, Clone)]
struct Entry {
    target: TargetSel,
    referrer: UserFieldSpec,
    /// The referrer's path split once, as walked ([`fieldspec::marked_segments`]).
    segs: Vec<(String, bool)>,
    /// ... and as [`fieldspec::blocked_by_scalar`] reads it.
    names: Vec<String>,
}

impl Entry {
    fn new(target: TargetSel, referrer: UserFieldSpec) -> Entry {
        let segs = fieldspec::marked_segments(&referrer.path);
        let names = fieldspec::segments(&referrer.path);
        Entry { target, referrer, segs, names }
    }
}

/// The table: kustomize's merged `nameReference` list (its defaults, the
/// `configurations:` and `crds:` reached), in its order: kustomize resolves
/// an object's references in that order, so which of two bad references
/// fails first, and what the message shows of the object then, depend on it.
fn table(refs: &[(TargetGvk, Vec<UserFieldSpec>)]) -> Vec<Entry> {
    let mut out = Vec::new();
    for (target, referrers) in refs {
        let sel = TargetSel {
            kind: target.kind.clone(),
            group: target.group.clone(),
            version: target.version.clone(),
        };
        out.extend(referrers.iter().map(|r| Entry::new(sel.clone(), r.clone())));
    }
    out
}

/// The group, version and kind a name reference entry is about, as written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetGvk {
    /// API group, unset when not written.
    pub group: Option<String>,
    /// API version, unset when not written.
    pub version: Option<String>,
    /// Kind, unset when not written.
    pub kind: Option<String>,
}

/// What name references need to know about one object.
struct Info {
    /// Its place among the objects.
    index: usize,
    gvk: Gvk,
    name: String,
    namespace: String,
    /// Earlier identities, each with the current group and version; empty
    /// when never renamed, moved or changed in kind.
    prev: Vec<ResId>,
    cluster: bool,
    /// The non-empty prefixes and suffixes that renamed it, oldest first.
    prefixes: Vec<String>,
    suffixes: Vec<String>,
}

impl Info {
    fn of(index: usize, r: &Resource, scopes: &SchemaScopes) -> Info {
        let gvk = r.gvk();
        let (prefixes, suffixes) = r.affixes.clone();
        Info {
            index,
            cluster: gvk.is_cluster_scoped_in_kustomize(scopes),
            gvk,
            name: r.name().to_string(),
            namespace: r.namespace().to_string(),
            prev: r.prev_res_ids().collect(),
            prefixes,
            suffixes,
        }
    }

    /// kustomize's effective namespace: `default` for none, nothing for
    /// cluster-scoped objects.
    fn effective_ns(&self) -> Option<&str> {
        effective(self.cluster, &self.namespace)
    }

    fn original_effective_ns(&self) -> Option<&str> {
        let ns = self.prev.first().map_or(self.namespace.as_str(), |p| p.namespace.as_str());
        effective(self.cluster, ns)
    }
}

fn effective(cluster: bool, ns: &str) -> Option<&str> {
    match (cluster, ns) {
        (true, _) => None,
        (false, "") => Some("default"),
        (false, ns) => Some(ns),
    }
}

/// kustomize's test of whether two objects were renamed alike: their
/// lists of prefixes (or suffixes) end the same way, the shorter being the
/// tail of the longer. `loose`: a list that is empty on either side
/// matches too (kustomize sieves loosely first, then strictly, where an
/// empty list matches only an empty one).
fn ends_like(a: &[String], b: &[String], loose: bool) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() { loose || long.is_empty() } else { long.ends_with(short) }
}

/// The objects one referrer can see (its namespace, cluster scope, the
/// namespaces of a role binding's service accounts), found through the
/// names they once had, so that a reference looks at the few objects that
/// had its name rather than at every object of the build.
struct Visible<'a> {
    infos: &'a [Info],
    /// Each earlier name, with the places of the objects that had it, in
    /// the order of the build.
    by_name: &'a HashMap<&'a str, Vec<usize>>,
    me: &'a Info,
    sa_namespaces: HashSet<String>,
    /// Every visible object, in the order of the build, gathered when a
    /// map reference first needs them.
    all: std::cell::OnceCell<Vec<&'a Info>>,
}

impl<'a> Visible<'a> {
    fn sees(&self, t: &Info) -> bool {
        self.me.cluster
            || t.cluster
            || t.effective_ns() == self.me.effective_ns()
            || self.sa_namespaces.contains(&t.namespace)
    }

    /// The visible objects once named `name`, in the order of the build:
    /// the only ones [`select`] can pick for a reference to `name`.
    fn named(&self, name: &str) -> Vec<&'a Info> {
        self.by_name.get(name).map_or_else(Vec::new, |places| {
            places.iter().map(|&i| &self.infos[i]).filter(|t| self.sees(t)).collect()
        })
    }

    /// Every visible object, in the order of the build.
    fn all(&self) -> &[&'a Info] {
        self.all.get_or_init(|| self.infos.iter().filter(|t| self.sees(t)).collect())
    }
}

/// The referrer as the selection rules see it.
struct Referrer<'a> {
    info: &'a Info,
    /// The `roleRef` group and kind, when the field is `roleRef/name`.
    role_ref: Option<(String, String)>,
}

/// kustomize's error for a referrer `r` whose field at `entry` its walk
/// cannot follow: a scalar stands where a map or list must be (an item of a
/// list on the way too, which adds the list's words).
fn blocked(r: &Resource, entry: &Entry) -> Option<Error> {
    let at = fieldspec::blocked_by_scalar(&r.value, &entry.names)?;
    Some(blocked_error(
        r,
        &entry.referrer.path,
        &fieldspec::traversal_wraps(&entry.referrer.path, &at),
    ))
}

/// A reference kustomize cannot read: a map without a `name` field.
const NO_NAME: &str = "path config error; no 'name' field in node";
/// A reference kustomize cannot read: a list in a list (kustomize shows its
/// node in Go's words, a heap address among them, before these).
const NESTED_LIST: &str = "a list item there is expected to be either a string or a map of string";

/// kustomize's error for a reference at `at` (a place the walk of `path`
/// found in `r`) that it cannot read (`problem`), which it meets whether or
/// not anything was renamed. An item of a list at the end of the path is
/// the setter's, not the walk's: that list adds no words.
fn unreadable_error(r: &Resource, path: &str, at: &[Step], problem: &str) -> Error {
    Error::Invalid { file: r.source.clone(), message: reference_error(r, path, at, problem) }
}

/// kustomize's words for a problem with the reference at `at` (a place the
/// field spec `path` reached in `r`): the field and the object, and the
/// words of each list the walk went through; a list at the end of the path
/// is the name reference filter's own, not the walk's.
fn reference_error(r: &Resource, path: &str, at: &[Step], problem: &str) -> String {
    let walked = match at.split_last() {
        Some((Step::Index(_), before)) => before,
        _ => at,
    };
    format!(
        "updating name reference in '{path}' field of '{0}': considering field '{path}' of object {0}: {1}{problem}",
        r.id().kustomize_form(),
        fieldspec::traversal_wraps(path, walked),
    )
}

/// The first reference where `entry` points in `r` that kustomize cannot
/// read (see [`unreadable_error`]).
fn unreadable(r: &mut Resource, entry: &Entry) -> Result<Option<Error>, Error> {
    let found = slots(r, entry)?;
    let first = found.into_iter().find_map(|at| {
        let problem = match crate::resource::value_at(&r.value, &at)? {
            Value::Map(m) if !m.contains_key("name") => NO_NAME,
            Value::Seq(_) => NESTED_LIST,
            _ => return None,
        };
        Some((at, problem))
    });
    Ok(first.map(|(at, problem)| unreadable_error(r, &entry.referrer.path, &at, problem)))
}

/// [`blocked`]'s error, with the words `wraps` of the lists on the way.
fn blocked_error(r: &Resource, path: &str, wraps: &str) -> Error {
    Error::Invalid {
        file: r.source.clone(),
        message: format!(
            "updating name reference in '{path}' field of '{0}': considering field '{path}' of object {0}: {wraps}expected sequence or mapping node",
            r.id().kustomize_form(),
        ),
    }
}

/// The places `entry` names in `r`, found in one walk before anything is
/// written, or kustomize's error when a scalar is in the way.
fn slots(r: &mut Resource, entry: &Entry) -> Result<Vec<Vec<Step>>, Error> {
    let path = &entry.referrer.path;
    let mut found = Vec::new();
    let walked = fieldspec::visit_checked_split(&mut r.value, path, &entry.segs, &mut |at, _| {
        found.push(at.to_vec())
    });
    match walked {
        Ok(()) => Ok(found),
        // The check reads a path without its empty segments, where the
        // walk stops.
        Err(_) if entry.segs.iter().any(|(s, _)| s.is_empty()) => {
            blocked(r, entry).map_or(Ok(found), Err)
        }
        Err(f) => Err(blocked_error(r, path, &f.wraps)),
    }
}

/// Updates references to renamed objects, at the fields of `refs`:
/// kustomize's merged `nameReference` list of the top kustomization.
pub fn apply(
    resources: &mut [Resource],
    refs: &[(TargetGvk, Vec<UserFieldSpec>)],
    scopes: &SchemaScopes,
) -> Result<(), Error> {
    let entries = table(refs);
    // The entries whose referrer selects each kind, found once per kind.
    let mut by_kind: HashMap<Gvk, Vec<usize>> = HashMap::new();
    let mut entries_of = |gvk: &Gvk| -> Vec<usize> {
        by_kind
            .entry(gvk.clone())
            .or_insert_with(|| {
                (0..entries.len()).filter(|&i| entries[i].referrer.matches(gvk)).collect()
            })
            .clone()
    };
    for r in resources.iter().filter(|r| r.gvk().kind == "RoleBinding") {
        let gvk = r.gvk();
        if entries.iter().any(|e| e.referrer.matches(&gvk)) {
            check_subject_namespaces(r)?;
        }
    }
    if resources.iter().all(|r| r.prev_ids.is_empty()) {
        // Nothing was renamed, but kustomize walks every referrer's fields
        // all the same, and a scalar where the walk goes on stops it.
        // A reference it cannot read fails it too.
        for r in resources.iter_mut() {
            for i in entries_of(&r.orig_id.gvk) {
                if let Some(e) = blocked(r, &entries[i]) {
                    return Err(e);
                }
                if let Some(e) = unreadable(r, &entries[i])? {
                    return Err(e);
                }
            }
        }
        return Ok(());
    }
    let infos: Vec<Info> =
        resources.iter().enumerate().map(|(i, r)| Info::of(i, r, scopes)).collect();
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for t in &infos {
        for p in &t.prev {
            let places = by_name.entry(p.name.as_str()).or_default();
            if places.last() != Some(&t.index) {
                places.push(t.index);
            }
        }
    }
    for idx in 0..resources.len() {
        let me = &infos[idx];
        // The objects this one's references were resolved to, in order:
        // kustomize notes the referrer on each (its `refBy`).
        let mut referrals: Vec<usize> = Vec::new();
        let mut ambiguous: Option<(String, Vec<Step>, Ambiguous)> = None;
        let res = &mut resources[idx];
        // kustomize picks a referrer's fields by the kind it was loaded as
        // (a patch that changed its kind does not change its fields).
        let mine: Vec<&Entry> =
            entries_of(&res.orig_id.gvk).into_iter().map(|i| &entries[i]).collect();
        if mine.is_empty() {
            continue;
        }
        // The objects this one can refer to at all.
        let sa_namespaces: HashSet<String> = if me.gvk.kind == "RoleBinding" {
            subject_namespaces(&res.value)
        } else {
            HashSet::new()
        };
        let visible = Visible {
            infos: &infos,
            by_name: &by_name,
            me,
            sa_namespaces,
            all: std::cell::OnceCell::new(),
        };
        let role_ref = role_ref_of(&res.value);
        let mut error: Option<Error> = None;
        for entry in mine {
            let referrer = Referrer {
                info: me,
                role_ref: entry
                    .referrer
                    .path
                    .ends_with("roleRef/name")
                    .then(|| role_ref.clone())
                    .flatten(),
            };
            let path = &entry.referrer.path;
            let mut unreadable = None;
            for at in slots(res, entry)? {
                if error.is_some() || ambiguous.is_some() || unreadable.is_some() {
                    break;
                }
                let Some(slot) = crate::resource::value_at_mut(&mut res.value, &at) else {
                    continue;
                };
                // kustomize reads a name written as a number, bool or plain
                // timestamp as its text (`0x1F`, `2001-12-14` as written); an
                // unchanged one stays as written.
                let written = match slot {
                    Value::String(_) => written_text(slot, &at, &res.scalar_texts),
                    Value::Bool(_) | Value::Int(_) | Value::Uint(_) | Value::Float(_) => {
                        Some(scalar_text(slot, &at, &res.scalar_texts).unwrap_or_default())
                    }
                    _ => None,
                };
                let outcome = match slot {
                    _ if let Some(text) = written => {
                        let mut named = Value::String(text.clone());
                        let outcome = set_scalar(&mut named, &visible, &entry.target, &referrer);
                        if named.as_str() != Some(text.as_str()) {
                            *slot = named;
                        }
                        outcome
                    }
                    Value::String(_) => set_scalar(slot, &visible, &entry.target, &referrer),
                    Value::Map(m) if !m.contains_key("name") => {
                        unreadable = Some((at, NO_NAME));
                        continue;
                    }
                    Value::Map(m) => {
                        // Its name is read as its text too.
                        let name_at = [&at[..], &[Step::Key("name".into())]].concat();
                        let name = m.get("name").and_then(|v| match v {
                            Value::String(s) => {
                                let text = written_text(v, &name_at, &res.scalar_texts);
                                Some(text.unwrap_or_else(|| s.clone()))
                            }
                            _ => scalar_text(v, &name_at, &res.scalar_texts),
                        });
                        match name {
                            Some(name) => set_mapping(m, &name, &visible, &entry.target, &referrer),
                            None => Ok(None),
                        }
                    }
                    Value::Seq(_) => {
                        unreadable = Some((at, NESTED_LIST));
                        continue;
                    }
                    _ => Ok(None),
                };
                match outcome {
                    Ok(Some(chosen)) => referrals.push(chosen),
                    Ok(None) => {}
                    Err(a) => ambiguous = Some((path.clone(), at, a)),
                }
            }
            if let Some((at, problem)) = unreadable {
                error = Some(unreadable_error(res, path, &at, problem));
            }
        }
        if !referrals.is_empty() {
            let referrer_id = res.id().kustomize_form();
            for chosen in referrals {
                resources[chosen].ref_by.push(referrer_id.clone());
            }
        }
        if let Some((path, at, a)) = ambiguous {
            return Err(too_many_referrals(resources, idx, &path, &at, a, scopes));
        }
        if let Some(e) = error {
            return Err(e);
        }
    }
    Ok(())
}

/// A reference that more than one object could mean.
struct Ambiguous {
    /// The candidates, in the order of the build.
    candidates: Vec<usize>,
}

/// kustomize's message for a reference of the object at `referrer` (at
/// `at`, reached by field `path`) that several objects could mean: their
/// identities, then the referrer and each candidate as YAML with their
/// build annotations.
fn too_many_referrals(
    resources: &[Resource],
    referrer: usize,
    path: &str,
    at: &[Step],
    a: Ambiguous,
    scopes: &SchemaScopes,
) -> Error {
    let me = &resources[referrer];
    let ids: Vec<String> =
        a.candidates.iter().map(|&i| resources[i].id().kustomize_form()).collect();
    let problem = format!("found multiple possible referrals: {}", ids.join(", "));
    let mut message = format!(
        "{}\n\n**** Too many possible referral targets to referrer:\n{}\n",
        reference_error(me, path, at, &problem),
        build_annotations::yaml(me, scopes)
    );
    for (n, &i) in a.candidates.iter().enumerate() {
        let _ = write!(
            message,
            "--- possible referral {n}:\n{}\n",
            build_annotations::yaml(&resources[i], scopes)
        );
    }
    Error::Invalid { file: me.source.clone(), message }
}

/// kustomize looks at the namespaces of a role binding's ServiceAccount
/// subjects whenever it resolves references, and fails on one that is there
/// but not a string (`namespace:` left blank), renamed objects or not.
fn check_subject_namespaces(r: &Resource) -> Result<(), Error> {
    let Some(Value::Seq(subjects)) = r.value.get_path(&["subjects"]) else { return Ok(()) };
    let blank = subjects.iter().any(|s| {
        s.get_path(&["kind"]).and_then(Value::as_str) == Some("ServiceAccount")
            && s.get_path(&["namespace"]).is_some_and(|ns| ns.as_str().is_none())
    });
    if blank {
        return Err(Error::Invalid {
            file: r.source.clone(),
            // kustomize's words, with its current identity quoted by Go's `%q`.
            message: format!(
                "Invalid Input: namespace is blank for resource {}",
                go_quote(&r.id().kustomize_form())
            ),
        });
    }
    Ok(())
}

/// Namespaces of the ServiceAccount subjects of a role binding.
fn subject_namespaces(v: &Value) -> HashSet<String> {
    let Some(Value::Seq(subjects)) = v.get_path(&["subjects"]) else { return HashSet::new() };
    subjects
        .iter()
        .filter(|s| s.get_path(&["kind"]).and_then(Value::as_str) == Some("ServiceAccount"))
        .filter_map(|s| s.get_path(&["namespace"]).and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// `roleRef`'s group and kind, when both are there.
fn role_ref_of(v: &Value) -> Option<(String, String)> {
    let group = v.get_path(&["roleRef", "apiGroup"])?.as_str()?.to_string();
    let kind = v.get_path(&["roleRef", "kind"])?.as_str()?.to_string();
    Some((group, kind))
}

/// Points the name in `slot` at the object it means; returns that object's
/// place, if one was chosen.
fn set_scalar(
    slot: &mut Value,
    visible: &Visible<'_>,
    target: &TargetSel,
    referrer: &Referrer<'_>,
) -> Result<Option<usize>, Ambiguous> {
    let Value::String(current) = slot else { return Ok(None) };
    let chosen = select(current, &visible.named(current), target, referrer, false)?;
    if let Some(t) = chosen {
        if t.name != *current {
            *current = t.name.clone();
        }
    }
    Ok(chosen.map(|t| t.index))
}

/// Points the `name` (and `namespace`) of the map in `slot` at the object
/// they mean; returns that object's place, if one was chosen.
fn set_mapping(
    m: &mut crate::value::Map,
    old: &str,
    visible: &Visible<'_>,
    target: &TargetSel,
    referrer: &Referrer<'_>,
) -> Result<Option<usize>, Ambiguous> {
    // A namespace in the map narrows the candidates: to those first seen in
    // it if there are any such objects, else to those now in it.
    let narrowed: Vec<&Info> = match m.get("namespace") {
        None => visible.named(old),
        Some(ns) => {
            let ns = ns.as_str().unwrap_or("");
            let all = visible.all();
            let original: Vec<&Info> =
                all.iter().copied().filter(|t| t.original_effective_ns() == Some(ns)).collect();
            if original.is_empty() {
                all.iter().copied().filter(|t| t.effective_ns() == Some(ns)).collect()
            } else {
                original
            }
        }
    };
    let Some(t) = select(old, &narrowed, target, referrer, true)? else { return Ok(None) };
    if t.name == old && t.namespace.is_empty() {
        return Ok(Some(t.index));
    }
    // An unchanged name keeps its node (a number or timestamp as written).
    if t.name != old {
        m.insert("name".into(), Value::String(t.name.clone()));
    }
    if !t.namespace.is_empty() {
        m.insert("namespace".into(), Value::String(t.namespace.clone()));
    }
    Ok(Some(t.index))
}

/// Picks the object a reference `old` means among `candidates`, or none;
/// several that differ is an error. `with_namespace`: candidates are the same
/// only if their namespaces are too.
fn select<'a>(
    old: &str,
    candidates: &[&'a Info],
    target: &TargetSel,
    referrer: &Referrer<'_>,
    with_namespace: bool,
) -> Result<Option<&'a Info>, Ambiguous> {
    let me = referrer.info;
    let found: Vec<&Info> = candidates
        .iter()
        .copied()
        .filter(|t| t.prev.iter().any(|p| p.name == old))
        .filter(|t| t.prev.iter().any(|p| target.selects(&p.gvk)))
        .filter(|t| {
            referrer.role_ref.as_ref().is_none_or(|(group, kind)| {
                t.prev
                    .iter()
                    .any(|p| p.gvk.kind == *kind && (group.is_empty() || p.gvk.group == *group))
            })
        })
        .filter(|t| {
            me.cluster
                || t.cluster
                || t.gvk.kind == "ServiceAccount"
                || t.effective_ns() == me.effective_ns()
        })
        .collect();
    if found.len() == 1 {
        return Ok(Some(found[0]));
    }
    let alike = |t: &Info, loose: bool| {
        ends_like(&t.prefixes, &me.prefixes, loose) && ends_like(&t.suffixes, &me.suffixes, loose)
    };
    let loosely: Vec<&Info> = found.into_iter().filter(|t| alike(t, true)).collect();
    if loosely.len() == 1 {
        return Ok(Some(loosely[0]));
    }
    let same: Vec<&Info> = loosely.into_iter().filter(|t| alike(t, false)).collect();
    match same.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        [first, rest @ ..] => {
            let identical = rest.iter().all(|t| {
                t.name == first.name && (!with_namespace || t.namespace == first.namespace)
            });
            if identical {
                return Ok(Some(first));
            }
            // kustomize lists the candidates in the order of the build.
            Err(Ambiguous { candidates: same.iter().map(|t| t.index).collect() })
        }
    }
}
