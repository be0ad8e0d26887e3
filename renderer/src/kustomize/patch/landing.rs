//! Where a strategic merge put the nodes of the target and of the patch, so that what kiln keeps about a node (its written text, its quotes) can follow it.
//!
//! kyaml's merge moves nodes: an item of a list merged by key goes where
//! the merge puts it, carrying its text and style, and an item the merge
//! drops takes them along. Items cannot be found again by their values
//! afterwards: `1_0`, `0xA` and `10` are three items to kyaml, one value to
//! kiln. So the merge records, list by list, which item of the target's
//! list and which of the patch's each item of the result was made from.

use crate::resource::Step;
use crate::value::Value;
use std::collections::HashMap;

/// One of the two documents a strategic merge reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The object patched.
    Target,
    /// The patch.
    Patch,
}

/// Where the nodes of one node of a merge's result came from.
#[derive(Debug, Clone, Default)]
pub enum Landing {
    /// No list below: a node is where it was in each document, and a
    /// scalar both wrote is the patch's.
    #[default]
    Merged,
    /// The node of one document as it was, everything below it in place.
    Only(Side),
    /// The patch's node merged with itself, as kyaml adds a node the
    /// target lacks or the patch replaces (`$patch: replace`): nothing of
    /// the target's is below.
    Added(Box<Landing>),
    /// A map whose fields landed as given, by key (a map of many fields
    /// is looked up once per node below it); the others are
    /// [`Landing::Merged`].
    Map(HashMap<String, Landing>),
    /// A list, item by item.
    Seq(Items),
}

/// The items of a list of a merge's result, with a way back from the
/// documents' items.
#[derive(Debug, Clone)]
pub struct Items {
    landed: Vec<Landed>,
    /// The first item of the result made from each item of the target's
    /// list, and of the patch's.
    from_target: HashMap<usize, usize>,
    from_patch: HashMap<usize, usize>,
}

/// One item of a list of a merge's result: the index of the item of the
/// target's list and of the patch's list it was made from, and where the
/// nodes below it landed.
#[derive(Debug, Clone)]
pub(crate) struct Landed {
    pub(crate) target: Option<usize>,
    pub(crate) patch: Option<usize>,
    pub(crate) below: Landing,
}

impl Landed {
    /// Item `i` of a list of `side`, as it was.
    pub(crate) fn item(side: Side, i: usize) -> Landed {
        let (target, patch) = match side {
            Side::Target => (Some(i), None),
            Side::Patch => (None, Some(i)),
        };
        Landed { target, patch, below: Landing::Only(side) }
    }

    /// The document whose node the item is, as the merge reads it: the
    /// target's when the target has it.
    pub(crate) fn side(&self) -> Side {
        if self.target.is_some() { Side::Target } else { Side::Patch }
    }

    /// The item `dest` (of the list the merge writes into) merged with
    /// `patch`, below as `below`.
    pub(crate) fn merged(dest: Option<&Landed>, patch: Option<&Landed>, below: Landing) -> Landed {
        let target = dest.and_then(|d| d.target).or(patch.and_then(|p| p.target));
        let patch = patch.and_then(|p| p.patch).or(dest.and_then(|d| d.patch));
        Landed { target, patch, below }
    }
}

impl Landing {
    /// A list made of these items, in order.
    pub(crate) fn seq(landed: Vec<Landed>) -> Landing {
        let (mut from_target, mut from_patch) = (HashMap::new(), HashMap::new());
        for (j, l) in landed.iter().enumerate() {
            if let Some(i) = l.target {
                from_target.entry(i).or_insert(j);
            }
            if let Some(i) = l.patch {
                from_patch.entry(i).or_insert(j);
            }
        }
        Landing::Seq(Items { landed, from_target, from_patch })
    }

    /// A map whose fields landed as given; `Merged` ones need no record.
    pub(crate) fn map(fields: Vec<(String, Landing)>) -> Landing {
        let fields: HashMap<_, _> =
            fields.into_iter().filter(|(_, l)| !matches!(l, Landing::Merged)).collect();
        if fields.is_empty() { Landing::Merged } else { Landing::Map(fields) }
    }

    /// The landing of field `key` of a map. Below a node of one document
    /// (`Only`, `Added`), every node is that document's as well.
    fn field(&self, key: &str) -> &Landing {
        match self {
            Landing::Map(fields) => fields.get(key).unwrap_or(&Landing::Merged),
            Landing::Only(_) | Landing::Added(_) => self,
            Landing::Merged | Landing::Seq(_) => &Landing::Merged,
        }
    }

    /// Where the target's node at `path` is in `after`, the merge's result,
    /// with the path of the patch's node merged with it if `patch` has one
    /// there; `None` when the node is gone.
    pub fn of_target(
        &self,
        after: &Value,
        patch: &Value,
        path: &[Step],
    ) -> Option<(Vec<Step>, Option<Vec<Step>>)> {
        let (mut land, mut a, mut p) = (self, after, Some(patch));
        let mut out = Vec::with_capacity(path.len());
        let mut in_patch = Vec::with_capacity(path.len());
        for step in path {
            match land {
                Landing::Only(Side::Patch) | Landing::Added(_) => return None,
                Landing::Only(Side::Target) => p = None,
                _ => {}
            }
            match step {
                Step::Key(k) => {
                    a = a.as_map()?.get(k)?;
                    p = p.and_then(Value::as_map).and_then(|m| m.get(k));
                    land = land.field(k);
                    out.push(step.clone());
                    in_patch.push(step.clone());
                }
                Step::Index(i) => {
                    let Value::Seq(xs) = a else { return None };
                    let (j, landed) = match land {
                        Landing::Only(Side::Target) => (*i, None),
                        Landing::Seq(items) => {
                            let j = *items.from_target.get(i)?;
                            (j, Some(items.landed.get(j)?))
                        }
                        _ => return None,
                    };
                    a = xs.get(j)?;
                    let k = landed.and_then(|l| l.patch);
                    p = p.zip(k).and_then(|(p, k)| match p {
                        Value::Seq(ps) => ps.get(k),
                        _ => None,
                    });
                    in_patch.extend(k.map(Step::Index));
                    land = landed.map_or(land, |l| &l.below);
                    out.push(Step::Index(j));
                }
            }
        }
        // A node the patch replaced whole is the patch's.
        if matches!(land, Landing::Only(Side::Patch) | Landing::Added(_)) {
            return None;
        }
        Some((out, p.map(|_| in_patch)))
    }

    /// Where the patch's node at `path` is in `after`, the merge's result;
    /// `None` when the merge did not keep it.
    pub fn of_patch(&self, after: &Value, path: &[Step]) -> Option<Vec<Step>> {
        let (mut land, mut a) = (self, after);
        let mut out = Vec::with_capacity(path.len());
        for step in path {
            if let Landing::Added(inner) = land {
                land = inner;
            }
            if matches!(land, Landing::Only(Side::Target)) {
                return None;
            }
            match step {
                Step::Key(k) => {
                    a = a.as_map()?.get(k)?;
                    land = land.field(k);
                    out.push(step.clone());
                }
                Step::Index(i) => {
                    let Value::Seq(xs) = a else { return None };
                    let j = match land {
                        Landing::Only(Side::Patch) => *i,
                        Landing::Seq(items) => {
                            let j = *items.from_patch.get(i)?;
                            land = &items.landed.get(j)?.below;
                            j
                        }
                        _ => return None,
                    };
                    a = xs.get(j)?;
                    out.push(Step::Index(j));
                }
            }
        }
        Some(out)
    }

    /// Whether the merge's result holds the patch's own node at `path` (a
    /// map), as kyaml puts it where the target has no node (there or
    /// above) and then only merges the patch's fields into it: what else
    /// that node holds (keys the patch gives again) stays. `before` is the
    /// target.
    pub fn holds_patch_node(&self, before: &Value, path: &[Step]) -> bool {
        let (mut land, mut b) = (self, Some(before));
        for step in path {
            let Some(here) =
                b.filter(|_| !matches!(land, Landing::Only(Side::Patch) | Landing::Added(_)))
            else {
                return true;
            };
            match step {
                Step::Key(k) => {
                    b = here.as_map().and_then(|m| m.get(k));
                    land = land.field(k);
                }
                Step::Index(i) => {
                    let Landing::Seq(items) = land else { return false };
                    let Some(landed) = items.from_patch.get(i).and_then(|&j| items.landed.get(j))
                    else {
                        return false;
                    };
                    b = landed.target.and_then(|t| match here {
                        Value::Seq(xs) => xs.get(t),
                        _ => None,
                    });
                    land = &landed.below;
                }
            }
        }
        b.is_none() || matches!(land, Landing::Only(Side::Patch) | Landing::Added(_))
    }

    /// The strings of `patch` that are new nodes of `after`, the result of
    /// merging it into `before` (`None`: the target had no node there, or
    /// the patch replaced it): their paths in the patch and in `after`.
    /// Only the items of lists merged item by item are entered; a list the
    /// patch replaced is its own, which a later patch replaces again.
    pub fn added_strings(
        &self,
        before: Option<&Value>,
        after: &Value,
        patch: &Value,
    ) -> Vec<(Vec<Step>, Vec<Step>)> {
        let mut out = Vec::new();
        let mut walk = Walk { at_patch: Vec::new(), at_after: Vec::new(), out: &mut out };
        walk.strings(self, before, after, patch);
        out
    }
}

/// A walk of [`Landing::added_strings`].
struct Walk<'o> {
    at_patch: Vec<Step>,
    at_after: Vec<Step>,
    out: &'o mut Vec<(Vec<Step>, Vec<Step>)>,
}

impl Walk<'_> {
    fn strings(&mut self, land: &Landing, before: Option<&Value>, after: &Value, patch: &Value) {
        if let Landing::Added(inner) = land {
            return self.strings(inner, None, after, patch);
        }
        match (patch, after, land) {
            (Value::Map(m), Value::Map(after), _) => {
                for (k, pv) in m {
                    let (Some(av), false) = (after.get(k), k.starts_with('$')) else { continue };
                    let bv = before.and_then(Value::as_map).and_then(|b| b.get(k));
                    self.at_patch.push(Step::Key(k.clone()));
                    self.at_after.push(Step::Key(k.clone()));
                    self.strings(land.field(k), bv, av, pv);
                    self.at_patch.pop();
                    self.at_after.pop();
                }
            }
            (Value::Seq(ps), Value::Seq(after), Landing::Seq(items)) => {
                for (j, l) in items.landed.iter().enumerate() {
                    let (Some(item), Some(av)) = (l.patch.and_then(|i| ps.get(i)), after.get(j))
                    else {
                        continue;
                    };
                    if item.as_map().is_none_or(|m| m.keys().any(|k| k.starts_with('$'))) {
                        continue;
                    }
                    let had = match before {
                        Some(Value::Seq(b)) => l.target.and_then(|t| b.get(t)),
                        _ => None,
                    };
                    self.at_patch.push(Step::Index(l.patch.unwrap_or_default()));
                    self.at_after.push(Step::Index(j));
                    self.strings(&l.below, had, av, item);
                    self.at_patch.pop();
                    self.at_after.pop();
                }
            }
            (Value::String(_), Value::String(_), _) if before.is_none() => {
                self.out.push((self.at_patch.clone(), self.at_after.clone()));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kustomize::patch::OpenApi;
    use crate::kustomize::patch::strategic_merge::{Written, apply_verbatim_with};
    use crate::resource::Gvk;
    use crate::yaml::parse_documents;

    fn yaml(text: &str) -> Value {
        parse_documents(text, "test").expect("test YAML parses").remove(0)
    }

    fn path(text: &str) -> Vec<Step> {
        let step = |s: &str| s.parse().map_or_else(|_| Step::Key(s.to_string()), Step::Index);
        text.split('.').map(step).collect()
    }

    /// Where a target's node is after the merge, and the patch's node there.
    type Followed = Option<(&'static str, Option<&'static str>)>;

    #[test]
    fn follows_items_where_the_merge_put_them() {
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n";
        let target = yaml(&format!(
            "{pod}spec: {{containers: [{{name: a, ports: [{{containerPort: 1}}, {{containerPort: 2}}]}}, {{name: b}}, {{name: b, image: x}}], volumes: [{{name: v}}]}}"
        ));
        let patch = yaml(&format!(
            "{pod}spec: {{containers: [{{name: c}}, {{name: a, ports: [{{containerPort: 3}}, {{containerPort: 2, hostPort: 9}}]}}], volumes: [{{name: w}}, {{$patch: replace}}]}}"
        ));
        let gvk = Gvk::from_api_version("v1", "Pod");
        let merged =
            apply_verbatim_with(&target, &patch, &gvk, OpenApi::builtin(), &[], Written::default());
        let Ok(Some((after, landing))) = merged else { panic!("merge fails: {merged:?}") };
        // (target path, where it is now, the patch's node there)
        let of_target: &[(&str, Followed)] = &[
            (
                "spec.containers.0.name",
                Some(("spec.containers.1.name", Some("spec.containers.1.name"))),
            ),
            (
                "spec.containers.0.ports.0.containerPort",
                Some(("spec.containers.1.ports.2.containerPort", None)),
            ),
            (
                "spec.containers.0.ports.1.containerPort",
                Some((
                    "spec.containers.1.ports.1.containerPort",
                    Some("spec.containers.1.ports.1.containerPort"),
                )),
            ),
            // The two b collapse into the last one.
            ("spec.containers.1.name", None),
            ("spec.containers.2.image", Some(("spec.containers.2.image", None))),
            ("spec.volumes.0.name", None),
        ];
        for (at, want) in of_target {
            let got = landing.of_target(&after, &patch, &path(at));
            let want = want.map(|(now, p)| (path(now), p.map(path)));
            assert_eq!(got, want, "{at}");
        }
        let of_patch: &[(&str, Option<&str>)] = &[
            ("spec.containers.0.name", Some("spec.containers.0.name")),
            (
                "spec.containers.1.ports.0.containerPort",
                Some("spec.containers.1.ports.0.containerPort"),
            ),
            ("spec.containers.1.ports.1.hostPort", Some("spec.containers.1.ports.1.hostPort")),
            ("spec.volumes.0.name", Some("spec.volumes.0.name")),
        ];
        for (at, want) in of_patch {
            assert_eq!(landing.of_patch(&after, &path(at)), want.map(path), "{at}");
        }
    }
}
