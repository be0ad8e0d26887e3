//! The properties `unevaluatedProperties` applies to, as Helm's validator finds them.
//!
//! Helm's validator (santhosh-tekuri/jsonschema v6) counts a property as
//! evaluated by an in-place subschema (`$ref`, `allOf`, `anyOf`, `oneOf`,
//! `if`/`then`/`else`, `dependentSchemas`, `not`) only when that subschema
//! passes, as the specification drops the annotations of failing
//! subschemas. The Rust validator keeps them, so a property that failed
//! inside a `$ref` is unevaluated for Helm (and fails
//! `unevaluatedProperties: false`) but not for the Rust validator.

use super::{Ctx, Flat, escape_token, real_pointer, walked};
use std::collections::HashSet;

/// How deep in-place subschemas are followed (a `$ref` cycle stops here).
const MAX_DEPTH: usize = 64;

impl Ctx<'_> {
    /// The names of `object`'s properties that the schema at `pointer`
    /// leaves unevaluated, in the object's order; `None` when a `$ref` on
    /// the way cannot be followed (another document, an anchor).
    pub(super) fn unevaluated_names(
        &self,
        pointer: &str,
        object: &serde_json::Value,
    ) -> Option<Vec<String>> {
        let map = object.as_object()?;
        let mut evaluated = HashSet::new();
        self.evaluate(pointer, object, true, 0, &mut evaluated)?;
        Some(map.keys().filter(|k| !evaluated.contains(*k)).cloned().collect())
    }

    /// Adds the properties the schema at `pointer` evaluates. `top`: the
    /// schema whose `unevaluatedProperties` is checked (a nested one that
    /// passes with its own `unevaluatedProperties` evaluates everything).
    fn evaluate(
        &self,
        pointer: &str,
        object: &serde_json::Value,
        top: bool,
        depth: usize,
        out: &mut HashSet<String>,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let map = object.as_object()?;
        // A boolean schema evaluates nothing.
        let Some(node) = self.root.pointer(pointer)?.as_object() else { return Some(()) };
        if !top && node.contains_key("unevaluatedProperties") {
            out.extend(map.keys().cloned());
            return Some(());
        }
        let properties = node.get("properties").and_then(serde_json::Value::as_object);
        let patterns: Vec<regex::Regex> = node
            .get("patternProperties")
            .and_then(serde_json::Value::as_object)
            .map(|m| m.keys().filter_map(|p| regex::Regex::new(p).ok()).collect())
            .unwrap_or_default();
        let additional = node.contains_key("additionalProperties");
        for name in map.keys() {
            if additional
                || properties.is_some_and(|p| p.contains_key(name))
                || patterns.iter().any(|re| re.is_match(name))
            {
                out.insert(name.clone());
            }
        }
        let mut in_place: Vec<String> = Vec::new();
        if let Some(reference) = node.get("$ref").and_then(serde_json::Value::as_str) {
            let target =
                reference.strip_prefix('#').filter(|t| t.is_empty() || t.starts_with('/'))?;
            in_place.push(target.to_string());
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
            let branch = if self.passes(&condition, object) {
                in_place.push(condition);
                "then"
            } else {
                "else"
            };
            if node.contains_key(branch) {
                in_place.push(format!("{pointer}/{branch}"));
            }
        }
        if let Some(dependent) = node.get("dependentSchemas").and_then(serde_json::Value::as_object)
        {
            in_place.extend(
                dependent
                    .keys()
                    .filter(|name| map.contains_key(*name))
                    .map(|name| format!("{pointer}/dependentSchemas/{}", escape_token(name))),
            );
        }
        for sub in in_place {
            if self.passes(&sub, object) {
                self.evaluate(&sub, object, false, depth + 1, out)?;
            }
        }
        Some(())
    }

    /// Whether `value` meets the subschema at `pointer`.
    fn passes(&self, pointer: &str, value: &serde_json::Value) -> bool {
        match self.root.pointer(pointer) {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(_) => self.validator_at(pointer).is_some_and(|v| v.is_valid(value)),
            None => false,
        }
    }

    /// The `unevaluatedProperties` failures the Rust validator did not
    /// report: an object whose schema has the keyword and one of whose
    /// in-place subschemas failed, so that what the subschema evaluated is
    /// unevaluated for Helm. Found from the keyword paths of the failures.
    pub(super) fn missed_unevaluated(&self, flats: &[Flat]) -> Vec<Flat> {
        if !self.since_2019() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for f in flats {
            for end in 0..f.schema.len() {
                let prefix = &f.schema[..end];
                let Some(node) = real_pointer(self.root, prefix) else { continue };
                if self.root.pointer(&node).and_then(|n| n.get("unevaluatedProperties")).is_none() {
                    continue;
                }
                let Some(walk) = walked(prefix, &f.instance) else { continue };
                let Some(at) = f.instance.get(..walk) else { continue };
                let mut keyword = prefix.to_vec();
                keyword.push("unevaluatedProperties".into());
                if !self.uneval_done.borrow_mut().insert((keyword.clone(), at.to_vec())) {
                    continue;
                }
                let Some(object) = self.value_at(at).filter(|v| v.is_object()) else { continue };
                let Some(names) = self.unevaluated_names(&node, object) else { continue };
                let sub = format!("{node}/unevaluatedProperties");
                for name in names {
                    let Some(value) = object.get(&name) else { continue };
                    let mut item = at.to_vec();
                    item.push(name);
                    out.extend(self.sub_errors(&sub, value, &keyword, &item));
                }
            }
        }
        out
    }
}
