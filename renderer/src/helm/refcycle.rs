//! `$ref` cycles of `values.schema.json` as Helm's validator reports them: a schema reached again, in place, at the same values location.
//!
//! Helm 4's validator (santhosh-tekuri/jsonschema v6) fails a value when,
//! applying a schema to it, it comes back to a schema it is already applying
//! to that same value (`{"$ref": "#/definitions/a"}` where `a` refers to
//! `b` and `b` to `a`): `both /properties/v/$ref/$ref/$ref and
//! /properties/v/$ref resolve to "file:///values.schema.json#/definitions/a"
//! causing reference cycle`. A cycle that no value reaches is no failure.
//! The Rust validator accepts such schemas silently, so they are found here:
//! first without the values, whether the schema has an in-place cycle at
//! all (most have none, and then nothing more is done), then by walking the
//! values through the schema.

use std::collections::HashMap;

use serde_json::Value;

/// A cycle reached by the values: where in the values, the keyword path of
/// the reference that closes it, and Helm's message.
pub(super) struct Cycle {
    pub instance: Vec<String>,
    pub schema: Vec<String>,
    pub message: String,
}

/// Steps the walk of the values may take before it gives up.
const BUDGET: usize = 200_000;

/// The cycles that validating `values` against `root` runs into (none
/// unless [`has_cycle`]).
pub(super) fn find(root: &Value, values: &Value) -> Vec<Cycle> {
    let mut walk = Walk { root, found: Vec::new(), budget: BUDGET };
    walk.apply(String::new(), root, values, &mut Vec::new(), Vec::new(), &mut Vec::new());
    walk.found
}

/// The schemas a schema applies to the same value: `$ref` (local
/// pointers), the branches of `allOf`/`anyOf`/`oneOf`, `not`, `if`,
/// `then`, `else`, and `dependentSchemas`/`dependencies` entries; each with
/// the keyword tokens that lead to it and its JSON pointer.
fn in_place<'a>(
    root: &'a Value,
    pointer: &str,
    node: &'a Value,
) -> Vec<(Vec<String>, String, &'a Value)> {
    let mut out = Vec::new();
    let Some(obj) = node.as_object() else { return out };
    if let Some(target) =
        obj.get("$ref").and_then(Value::as_str).and_then(|r| local_pointer(root, r))
        && let Some(child) = root.pointer(&target)
    {
        out.push((vec!["$ref".to_string()], target, child));
    }
    for keyword in ["allOf", "anyOf", "oneOf"] {
        for (i, child) in
            obj.get(keyword).and_then(Value::as_array).into_iter().flatten().enumerate()
        {
            let p = format!("{pointer}/{keyword}/{i}");
            out.push((vec![keyword.to_string(), i.to_string()], p, child));
        }
    }
    for keyword in ["not", "if", "then", "else"] {
        if let Some(child) = obj.get(keyword) {
            out.push((vec![keyword.to_string()], format!("{pointer}/{keyword}"), child));
        }
    }
    for keyword in ["dependentSchemas", "dependencies"] {
        for (name, child) in obj.get(keyword).and_then(Value::as_object).into_iter().flatten() {
            if child.is_object() {
                let p = format!("{pointer}/{keyword}/{}", escape(name));
                out.push((vec![keyword.to_string(), name.clone()], p, child));
            }
        }
    }
    out
}

/// A `$ref` to a JSON pointer in the same document (`#`, `#/definitions/a`,
/// or the document's own URI before the `#`: its `$id`, or Helm's
/// `file:///values.schema.json` without one, also written relative to it),
/// as the pointer, percent-escapes decoded.
pub(super) fn local_pointer(root: &Value, reference: &str) -> Option<String> {
    let (document, fragment) = reference.split_once('#').unwrap_or((reference, ""));
    if !document.is_empty() && !is_own_uri(root, document) {
        return None;
    }
    if !(fragment.is_empty() || fragment.starts_with('/')) {
        return None;
    }
    percent_decoded(fragment)
}

/// A URI fragment's `%XX` escapes decoded; `None` for a malformed escape
/// (which the metaschema's `uri-reference` format refuses before) or
/// bytes that are not UTF-8 (no JSON pointer can name them).
pub(super) fn percent_decoded(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// What a keyword of a schema object holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Holds {
    /// Data (`const`, `enum`, `default`, `examples`): never a schema, even
    /// when it looks like one.
    Data,
    /// Schemas by name (`properties`, `$defs`, ...): each member is one.
    NamedSchemas,
    /// A schema or a list of schemas (`items`, `allOf`, `not`, ...), and
    /// any keyword no draft defines, which a `$ref` may still point into.
    Schemas,
}

fn holds(keyword: &str) -> Holds {
    match keyword {
        "const" | "enum" | "default" | "examples" => Holds::Data,
        "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas"
        | "dependencies" => Holds::NamedSchemas,
        _ => Holds::Schemas,
    }
}

/// Every schema object of a schema document with its JSON pointer, depth
/// first in document order: the root and what its keywords hold as
/// schemas, never the data of `const`, `enum`, `default` or `examples`.
pub(super) fn schema_objects(root: &Value) -> Vec<(String, &Value)> {
    fn schema<'a>(pointer: String, node: &'a Value, out: &mut Vec<(String, &'a Value)>) {
        let Some(obj) = node.as_object() else { return };
        out.push((pointer.clone(), node));
        for (keyword, held) in obj {
            let at = format!("{pointer}/{}", escape(keyword));
            match (holds(keyword), held) {
                (Holds::Data, _) => {}
                (Holds::NamedSchemas, Value::Object(named)) => {
                    for (name, child) in named {
                        schema(format!("{at}/{}", escape(name)), child, out);
                    }
                }
                (_, Value::Array(items)) => {
                    for (i, child) in items.iter().enumerate() {
                        schema(format!("{at}/{i}"), child, out);
                    }
                }
                (_, child) => schema(at, child, out),
            }
        }
    }
    let mut out = Vec::new();
    schema(String::new(), root, &mut out);
    out
}

/// A JSON pointer token escaped.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Whether any schema of the document reaches itself through in-place
/// applicators alone.
pub(super) fn has_cycle(root: &Value) -> bool {
    // Every schema of the document by pointer.
    let nodes = schema_objects(root);
    if !nodes.iter().any(|(_, n)| n.get("$ref").is_some()) {
        return false;
    }
    // Depth-first search with colours: 1 on the path, 2 done.
    let mut colour: HashMap<String, u8> = HashMap::new();
    for (start, node) in &nodes {
        if colour.contains_key(start) {
            continue;
        }
        let mut stack = vec![(start.clone(), *node, 0usize)];
        colour.insert(start.clone(), 1);
        while let Some((pointer, node, next)) = stack.pop() {
            let edges = in_place(root, &pointer, node);
            match edges.get(next) {
                None => {
                    colour.insert(pointer, 2);
                }
                Some((_, target, child)) => {
                    let (target, child) = (target.clone(), *child);
                    stack.push((pointer, node, next + 1));
                    match colour.get(&target) {
                        Some(1) => return true,
                        Some(_) => {}
                        None => {
                            colour.insert(target.clone(), 1);
                            stack.push((target, child, 0));
                        }
                    }
                }
            }
        }
    }
    false
}

/// The walk of the values through the schema, as the validator applies it.
struct Walk<'a> {
    root: &'a Value,
    found: Vec<Cycle>,
    budget: usize,
}

impl<'a> Walk<'a> {
    /// Applies the schema at `pointer` (reached by keyword path `keywords`)
    /// to `value` at `instance`; `entered` holds the schemas being applied
    /// to this value, with the keyword paths that reached them.
    fn apply(
        &mut self,
        pointer: String,
        node: &'a Value,
        value: &Value,
        instance: &mut Vec<String>,
        keywords: Vec<String>,
        entered: &mut Vec<(String, Vec<String>)>,
    ) {
        if self.budget == 0 {
            return;
        }
        self.budget -= 1;
        if let Some((_, before)) = entered.iter().find(|(p, _)| *p == pointer) {
            let message = format!(
                "both {} and {} resolve to \"file:///values.schema.json#{}\" causing reference cycle",
                keyword_path(&keywords),
                keyword_path(before),
                super::schema::fragment(&pointer)
            );
            self.found.push(Cycle { instance: instance.clone(), schema: keywords, message });
            return;
        }
        let Some(obj) = node.as_object() else { return };
        entered.push((pointer.clone(), keywords.clone()));
        for (tokens, target, child) in in_place(self.root, &pointer, node) {
            // `dependentSchemas` apply only when their property is present.
            if matches!(tokens[0].as_str(), "dependentSchemas" | "dependencies")
                && value.get(&tokens[1]).is_none()
            {
                continue;
            }
            let mut path = keywords.clone();
            path.extend(tokens);
            self.apply(target, child, value, instance, path, entered);
        }
        entered.pop();
        // Below this value a new location starts, with nothing entered.
        match value {
            Value::Object(map) => {
                let properties = obj.get("properties").and_then(Value::as_object);
                let patterns: Vec<(&String, &Value, Option<regex::Regex>)> = obj
                    .get("patternProperties")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(p, s)| (p, s, regex::Regex::new(p).ok()))
                    .collect();
                for (key, item) in map {
                    instance.push(key.clone());
                    let mut matched = false;
                    if let Some(schema) = properties.and_then(|p| p.get(key)) {
                        matched = true;
                        let keys = ["properties", key.as_str()];
                        self.below(&pointer, &keywords, &keys, schema, item, instance);
                    }
                    for (pattern, schema, re) in &patterns {
                        if re.as_ref().is_some_and(|re| re.is_match(key)) {
                            matched = true;
                            let keys = ["patternProperties", pattern.as_str()];
                            self.below(&pointer, &keywords, &keys, schema, item, instance);
                        }
                    }
                    if !matched && let Some(schema) = obj.get("additionalProperties") {
                        let keys = ["additionalProperties"];
                        self.below(&pointer, &keywords, &keys, schema, item, instance);
                    }
                    instance.pop();
                }
            }
            Value::Array(items) => {
                let prefix = obj
                    .get("prefixItems")
                    .map(|p| ("prefixItems", p))
                    .or_else(|| obj.get("items").filter(|i| i.is_array()).map(|i| ("items", i)));
                let prefix_len = prefix.and_then(|(_, p)| p.as_array()).map_or(0, Vec::len);
                let rest = match prefix {
                    Some(("items", _)) => {
                        obj.get("additionalItems").map(|s| ("additionalItems", s))
                    }
                    _ => obj.get("items").filter(|i| !i.is_array()).map(|s| ("items", s)),
                };
                for (i, item) in items.iter().enumerate() {
                    instance.push(i.to_string());
                    let index = i.to_string();
                    if let Some((keyword, list)) = prefix
                        && let Some(schema) = list.get(i)
                    {
                        let keys = [keyword, index.as_str()];
                        self.below(&pointer, &keywords, &keys, schema, item, instance);
                    } else if let Some((keyword, schema)) = rest.filter(|_| i >= prefix_len) {
                        let keys = [keyword];
                        self.below(&pointer, &keywords, &keys, schema, item, instance);
                    }
                    if let Some(schema) = obj.get("contains") {
                        let keys = ["contains"];
                        self.below(&pointer, &keywords, &keys, schema, item, instance);
                    }
                    instance.pop();
                }
            }
            _ => {}
        }
    }
}

impl<'a> Walk<'a> {
    /// Applies the subschema `keys` below the schema at `pointer` (reached
    /// by `keywords`) to `item`, a new values location where nothing is
    /// entered yet.
    fn below(
        &mut self,
        pointer: &str,
        keywords: &[String],
        keys: &[&str],
        schema: &'a Value,
        item: &Value,
        instance: &mut Vec<String>,
    ) {
        let mut child = pointer.to_string();
        for k in keys {
            child.push('/');
            child.push_str(&escape(k));
        }
        let mut path = keywords.to_vec();
        path.extend(keys.iter().map(|k| k.to_string()));
        self.apply(child, schema, item, instance, path, &mut Vec::new());
    }
}

/// A keyword path as the validator prints it: `/properties/v/$ref`.
fn keyword_path(tokens: &[String]) -> String {
    tokens.iter().map(|t| format!("/{}", escape(t))).collect()
}

/// Whether `document` (a `$ref`'s part before `#`) names the schema itself:
/// its `$id` (or Helm's URI for it), absolute or resolved against it
/// (`./values.schema.json`, `../values.schema.json` and `sub/../values.schema.json`
/// name it too).
pub(super) fn is_own_uri(root: &Value, document: &str) -> bool {
    let base = root.get("$id").and_then(Value::as_str).unwrap_or("file:///values.schema.json");
    let base = base.split('#').next().unwrap_or_default();
    if document.contains("://") {
        // Helm loads the schema from its own URI, which names it too.
        return document == base || document == "file:///values.schema.json";
    }
    // A relative reference resolves against the base; `//` starts another
    // authority.
    base.contains("://")
        && !document.starts_with("//")
        && super::schema::resolve_uri(Some(base), document) == base
}

#[cfg(test)]
mod tests {
    use super::{find, has_cycle, local_pointer};
    use serde_json::json;

    #[test]
    fn references_to_the_schema_itself_are_local() {
        let with_id = json!({"$id": "https://example.com/charts/values.schema.json"});
        let without = json!({});
        let cases: &[(&serde_json::Value, &str, Option<&str>)] = &[
            (&without, "#/definitions/a", Some("/definitions/a")),
            (&without, "#", Some("")),
            (&without, "#/definitions/a%20b", Some("/definitions/a b")),
            (&without, "#anchor", None),
            (&without, "file:///values.schema.json#/x", Some("/x")),
            (&without, "values.schema.json#/x", Some("/x")),
            (&without, "other.json#/x", None),
            (&without, "./values.schema.json#/x", Some("/x")),
            (&without, "../values.schema.json#/x", Some("/x")),
            (&without, "sub/../values.schema.json#/x", Some("/x")),
            (&without, "/values.schema.json#/x", Some("/x")),
            (&without, "//host/values.schema.json#/x", None),
            (&without, "sub/values.schema.json#/x", None),
            (&with_id, "https://example.com/charts/values.schema.json#/x", Some("/x")),
            (&with_id, "values.schema.json#/x", Some("/x")),
            (&with_id, "/charts/values.schema.json#/x", Some("/x")),
            (&with_id, "https://example.com/other.json#/x", None),
            (&with_id, "file:///values.schema.json#/x", Some("/x")),
        ];
        for (root, reference, want) in cases {
            assert_eq!(local_pointer(root, reference).as_deref(), *want, "{reference}");
        }
    }

    #[test]
    fn cycles_are_found_only_where_the_values_reach_them() {
        let schema = json!({
            "definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}},
            "properties": {"v": {"$ref": "#/definitions/a"}, "w": {"type": "string"}}
        });
        assert!(has_cycle(&schema));
        assert!(find(&schema, &json!({"w": "x"})).is_empty());
        let found = find(&schema, &json!({"v": 1}));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].instance, vec!["v"]);
        assert_eq!(
            found[0].message,
            "both /properties/v/$ref/$ref/$ref and /properties/v/$ref resolve to \"file:///values.schema.json#/definitions/a\" causing reference cycle"
        );
    }

    #[test]
    fn recursion_through_a_child_location_is_no_cycle() {
        let tree = json!({
            "definitions": {"node": {"properties": {"kids": {"items": {"$ref": "#/definitions/node"}}}}},
            "$ref": "#/definitions/node"
        });
        assert!(!has_cycle(&tree));
    }
}
