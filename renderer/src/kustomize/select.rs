//! Choosing objects: patch targets (regular expressions on identity, label and annotation selectors).

use super::kustomization::Selector;
use crate::resource::Resource;
use regex::Regex;

/// One requirement of a Kubernetes label selector.
#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector (`a=b,c!=d,e in (x,y),!f`).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelSelector(Vec<Requirement>);

impl LabelSelector {
    /// Parses the string form of a label selector.
    pub fn parse(s: &str) -> Result<LabelSelector, String> {
        let mut reqs = Vec::new();
        let mut parts = Vec::new();
        let (mut depth, mut start) = (0, 0);
        for (i, c) in s.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(&s[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&s[start..]);
        for part in parts.into_iter().map(str::trim).filter(|p| !p.is_empty()) {
            let set = |rest: &str| -> Result<Vec<String>, String> {
                let inner = rest.trim().strip_prefix('(').and_then(|r| r.strip_suffix(')'));
                let inner = inner
                    .ok_or_else(|| format!("invalid label selector {s:?}: unable to parse requirement: expected (values)"))?;
                Ok(inner
                    .split(',')
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .collect())
            };
            let req = if let Some(k) = part.strip_prefix('!') {
                Requirement::NotExists(k.trim().to_string())
            } else if let Some((k, v)) = part.split_once("!=") {
                Requirement::NotEquals(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = part.split_once("==") {
                Requirement::Equals(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = part.split_once('=') {
                Requirement::Equals(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, rest)) = part.split_once(" notin ") {
                Requirement::NotIn(k.trim().to_string(), set(rest)?)
            } else if let Some((k, rest)) = part.split_once(" in ") {
                Requirement::In(k.trim().to_string(), set(rest)?)
            } else if part.chars().all(|c| c.is_alphanumeric() || "-_./".contains(c)) {
                Requirement::Exists(part.to_string())
            } else {
                return Err(format!("invalid label selector {s:?}"));
            };
            reqs.push(req);
        }
        Ok(LabelSelector(reqs))
    }

    /// Whether a set of labels satisfies every requirement.
    pub fn matches(&self, labels: &[(String, String)]) -> bool {
        let get = |k: &str| labels.iter().find(|(lk, _)| lk == k).map(|(_, v)| v.as_str());
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v),
            Requirement::NotEquals(k, v) => get(k) != Some(v),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
        })
    }
}

/// A compiled [`Selector`].
pub struct Matcher {
    group: Option<Regex>,
    version: Option<Regex>,
    kind: Option<Regex>,
    name: Option<Regex>,
    namespace: Option<Regex>,
    labels: Option<LabelSelector>,
    annotations: Option<LabelSelector>,
}

fn anchored(pattern: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{pattern})$"))
        .map_err(|e| format!("error parsing regexp {pattern:?}: {e}"))
}

impl Matcher {
    /// Compiles a selector. An empty field selects everything, as an unset
    /// one does (kustomize cannot tell them apart).
    pub fn new(s: &Selector) -> Result<Matcher, String> {
        let set = |f: &Option<String>| f.clone().filter(|v| !v.is_empty());
        let regex = |f: &Option<String>| set(f).as_deref().map(anchored).transpose();
        let labels = |f: &Option<String>| set(f).as_deref().map(LabelSelector::parse).transpose();
        Ok(Matcher {
            group: regex(&s.group)?,
            version: regex(&s.version)?,
            kind: regex(&s.kind)?,
            name: regex(&s.name)?,
            namespace: regex(&s.namespace)?,
            labels: labels(&s.label_selector)?,
            annotations: labels(&s.annotation_selector)?,
        })
    }

    /// Whether the object is selected. Names match the current name or any
    /// earlier one, as kustomize matches by original and current identity.
    pub fn matches(&self, r: &Resource) -> bool {
        let gvk = r.gvk();
        if self.group.as_ref().is_some_and(|g| !g.is_match(&gvk.group))
            || self.version.as_ref().is_some_and(|v| !v.is_match(&gvk.version))
            || self.kind.as_ref().is_some_and(|k| !k.is_match(&gvk.kind))
        {
            return false;
        }
        if let Some(re) = &self.name {
            let any = re.is_match(r.name()) || re.is_match(&r.orig_id.name);
            if !any {
                return false;
            }
        }
        if let Some(re) = &self.namespace {
            // kustomize matches the effective namespace: `default` for an
            // object without one, and a name no selector writes for
            // cluster-scoped kinds.
            let cluster = gvk.is_cluster_scoped_in_kustomize();
            let effective = |ns: &'_ str| -> String {
                match ns {
                    _ if cluster => "_non_namespaceable_".to_string(),
                    "" => "default".to_string(),
                    ns => ns.to_string(),
                }
            };
            if !re.is_match(&effective(r.namespace()))
                && !re.is_match(&effective(&r.orig_id.namespace))
            {
                return false;
            }
        }
        if let Some(l) = &self.labels {
            if !l.matches(&r.string_map("labels")) {
                return false;
            }
        }
        if let Some(a) = &self.annotations {
            if !a.matches(&r.string_map("annotations")) {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_selectors() {
        let labels =
            vec![("app".to_string(), "web".to_string()), ("tier".to_string(), "fe".to_string())];
        let cases = [
            ("app=web", true),
            ("app==web,tier=fe", true),
            ("app!=web", false),
            ("app in (web, api)", true),
            ("app notin (web)", false),
            ("tier", true),
            ("!tier", false),
            ("!missing", true),
            ("app=web,tier in (be)", false),
        ];
        for (sel, want) in cases {
            assert_eq!(LabelSelector::parse(sel).unwrap().matches(&labels), want, "{sel}");
        }
    }
}
