//! The properties and items `unevaluatedProperties` and `unevaluatedItems`
//! apply to, as Helm's validator finds them.
//!
//! Helm's validator (santhosh-tekuri/jsonschema v6) counts a property or an
//! item as evaluated by an in-place subschema (`$ref`, `allOf`, `anyOf`,
//! `oneOf`, `if`/`then`/`else`, `dependentSchemas`, `not`) only when that
//! subschema passes, as the specification drops the annotations of failing
//! subschemas. The Rust validator keeps them, so a property that failed
//! inside a `$ref` is unevaluated for Helm (and fails
//! `unevaluatedProperties: false`) but not for the Rust validator.

use super::{Ctx, Flat, escape_token, real_pointer, walked};
use std::collections::HashSet;

/// How deep in-place subschemas are followed (a `$ref` cycle stops here).
const MAX_DEPTH: usize = 64;

/// The two keywords, by what they apply to.
#[derive(Clone, Copy)]
enum Members {
    Properties,
    Items,
}

impl Members {
    fn keyword(self) -> &'static str {
        match self {
            Members::Properties => "unevaluatedProperties",
            Members::Items => "unevaluatedItems",
        }
    }

    /// The members of `value` (names or indexes), in order; None when it
    /// is not an object (an array).
    fn all(self, value: &serde_json::Value) -> Option<Vec<String>> {
        match self {
            Members::Properties => Some(value.as_object()?.keys().cloned().collect()),
            Members::Items => Some((0..value.as_array()?.len()).map(|i| i.to_string()).collect()),
        }
    }
}

impl Ctx<'_> {
    /// The names of `object`'s properties that the schema at `pointer`
    /// leaves unevaluated, in the object's order; `None` when a `$ref` on
    /// the way cannot be followed (another document, an anchor).
    pub(super) fn unevaluated_names(
        &self,
        pointer: &str,
        object: &serde_json::Value,
    ) -> Option<Vec<String>> {
        self.unevaluated(Members::Properties, pointer, object)
    }

    /// The indexes of `array`'s items that the schema at `pointer` leaves
    /// unevaluated, in order; `None` as for [`Ctx::unevaluated_names`].
    pub(super) fn unevaluated_items(
        &self,
        pointer: &str,
        array: &serde_json::Value,
    ) -> Option<Vec<usize>> {
        let names = self.unevaluated(Members::Items, pointer, array)?;
        Some(names.iter().filter_map(|n| n.parse().ok()).collect())
    }

    fn unevaluated(
        &self,
        members: Members,
        pointer: &str,
        value: &serde_json::Value,
    ) -> Option<Vec<String>> {
        let all = members.all(value)?;
        let mut evaluated = HashSet::new();
        self.evaluate(members, pointer, value, true, 0, &mut evaluated)?;
        Some(all.into_iter().filter(|k| !evaluated.contains(k)).collect())
    }

    /// Adds the members the schema at `pointer` evaluates. `top`: the
    /// schema whose keyword is checked (a nested one that passes with its
    /// own keyword evaluates everything).
    fn evaluate(
        &self,
        members: Members,
        pointer: &str,
        value: &serde_json::Value,
        top: bool,
        depth: usize,
        out: &mut HashSet<String>,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let all = members.all(value)?;
        // A boolean schema evaluates nothing.
        let Some(node) = self.root.pointer(pointer)?.as_object() else { return Some(()) };
        if !top && node.contains_key(members.keyword()) {
            out.extend(all);
            return Some(());
        }
        match members {
            Members::Properties => self.own_properties(node, &all, out),
            Members::Items => self.own_items(node, pointer, value, out),
        }
        let mut in_place: Vec<String> = Vec::new();
        if let Some(reference) = node.get("$ref").and_then(serde_json::Value::as_str) {
            in_place.push(crate::helm::refcycle::local_pointer(self.root, reference)?);
        }
        for keyword in ["allOf", "anyOf", "oneOf"] {
            let count = node.get(keyword).and_then(serde_json::Value::as_array).map_or(0, Vec::len);
            in_place.extend((0..count).map(|i| format!("{pointer}/{keyword}/{i}")));
        }
        if node.contains_key("not") {
            in_place.push(format!("{pointer}/not"));
        }
        if node.contains_key("if") {
            let condition = format!("{pointer}/if");
            let branch = if self.passes(&condition, value) {
                in_place.push(condition);
                "then"
            } else {
                "else"
            };
            if node.contains_key(branch) {
                in_place.push(format!("{pointer}/{branch}"));
            }
        }
        if let (Some(dependent), Some(object)) =
            (node.get("dependentSchemas").and_then(serde_json::Value::as_object), value.as_object())
        {
            in_place.extend(
                dependent
                    .keys()
                    .filter(|name| object.contains_key(*name))
                    .map(|name| format!("{pointer}/dependentSchemas/{}", escape_token(name))),
            );
        }
        for sub in in_place {
            if self.passes(&sub, value) {
                self.evaluate(members, &sub, value, false, depth + 1, out)?;
            }
        }
        Some(())
    }

    /// The properties a schema's own keywords evaluate: those `properties`
    /// or `patternProperties` name, every one beside `additionalProperties`.
    fn own_properties(
        &self,
        node: &serde_json::Map<String, serde_json::Value>,
        names: &[String],
        out: &mut HashSet<String>,
    ) {
        let properties = node.get("properties").and_then(serde_json::Value::as_object);
        let patterns: Vec<regex::Regex> = node
            .get("patternProperties")
            .and_then(serde_json::Value::as_object)
            .map(|m| m.keys().filter_map(|p| regex::Regex::new(p).ok()).collect())
            .unwrap_or_default();
        let additional = node.contains_key("additionalProperties");
        for name in names {
            if additional
                || properties.is_some_and(|p| p.contains_key(name))
                || patterns.iter().any(|re| re.is_match(name))
            {
                out.insert(name.clone());
            }
        }
    }

    /// The items a schema's own keywords evaluate: the first ones
    /// `prefixItems` (or an array of `items` before 2020-12) covers, every
    /// one beside an `items` schema (or `additionalItems`), and in 2020-12
    /// those that match `contains`.
    fn own_items(
        &self,
        node: &serde_json::Map<String, serde_json::Value>,
        pointer: &str,
        array: &serde_json::Value,
        out: &mut HashSet<String>,
    ) {
        let Some(items) = array.as_array() else { return };
        let draft_2020 = matches!(self.draft, jsonschema::Draft::Draft202012);
        let (prefix, rest) = if draft_2020 {
            let prefix = node.get("prefixItems").and_then(serde_json::Value::as_array);
            (prefix.map_or(0, Vec::len), node.contains_key("items"))
        } else {
            match node.get("items") {
                Some(serde_json::Value::Array(list)) => {
                    (list.len(), node.contains_key("additionalItems"))
                }
                Some(_) => (0, true),
                None => (0, false),
            }
        };
        let covered = if rest { items.len() } else { prefix.min(items.len()) };
        out.extend((0..covered).map(|i| i.to_string()));
        if draft_2020 && node.contains_key("contains") {
            let contains = format!("{pointer}/contains");
            for (i, item) in items.iter().enumerate() {
                if self.passes(&contains, item) {
                    out.insert(i.to_string());
                }
            }
        }
    }

    /// Whether `value` meets the subschema at `pointer`.
    fn passes(&self, pointer: &str, value: &serde_json::Value) -> bool {
        match self.root.pointer(pointer) {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(_) => self.validator_at(pointer).is_some_and(|v| v.is_valid(value)),
            None => false,
        }
    }

    /// The `unevaluatedProperties` and `unevaluatedItems` failures the Rust
    /// validator did not report: an object or array whose schema has the
    /// keyword and one of whose in-place subschemas failed, so that what the
    /// subschema evaluated is unevaluated for Helm. Found from the keyword
    /// paths of the failures.
    pub(super) fn missed_unevaluated(&self, flats: &[Flat]) -> Vec<Flat> {
        if !self.since_2019() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for f in flats {
            for end in 0..f.schema.len() {
                let prefix = &f.schema[..end];
                let Some(node) = real_pointer(self.root, prefix) else { continue };
                for members in [Members::Properties, Members::Items] {
                    out.extend(self.missed_at(members, &node, prefix, f));
                }
            }
        }
        out
    }

    /// The failures of one keyword at the schema `node` (reached by the
    /// keyword path `prefix`) on the value where `f`'s path passes it.
    fn missed_at(&self, members: Members, node: &str, prefix: &[String], f: &Flat) -> Vec<Flat> {
        let keyword = members.keyword();
        if self.root.pointer(node).and_then(|n| n.get(keyword)).is_none() {
            return Vec::new();
        }
        let Some(at) = walked(prefix, &f.instance).and_then(|walk| f.instance.get(..walk)) else {
            return Vec::new();
        };
        let mut path = prefix.to_vec();
        path.push(keyword.into());
        if !self.uneval_done.borrow_mut().insert((path.clone(), at.to_vec())) {
            return Vec::new();
        }
        let Some(value) = self.value_at(at) else { return Vec::new() };
        let Some(missed) = self.unevaluated(members, node, value) else { return Vec::new() };
        let sub = format!("{node}/{keyword}");
        let mut out = Vec::new();
        for member in missed {
            let item = match members {
                Members::Properties => value.get(&member),
                Members::Items => member.parse::<usize>().ok().and_then(|i| value.get(i)),
            };
            let Some(item) = item else { continue };
            let mut location = at.to_vec();
            location.push(member);
            out.extend(self.sub_errors(&sub, item, &path, &location));
        }
        out
    }
}
