//! Field names as Go's JSON decoder matches them: exactly, else ignoring ASCII case.
//!
//! kustomize decodes a kustomization (and a plugin config, a
//! `configurations:` file) into Go structs through JSON, and Go's decoder
//! takes `nameprefix` or `NAMEPREFIX` for the field `namePrefix` when no key
//! matches exactly. When two keys land on the same field the later one
//! wins. A kustomization is decoded strictly (an unknown field is an
//! error), a plugin config leniently (it is dropped). The fields are those
//! of the [`GoType`] the file is decoded into.

use super::{GoType, field, structs};
use crate::value::{Map, Value};

/// The keys every object keeps: a plugin config's Go struct may not have
/// them, but its id is read from them.
const TYPE_AND_METADATA: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// `v` with every key of the structs `ty` holds renamed to its field. A key
/// that matches no field is kept when `strict` (the decoder reports it) and
/// dropped otherwise.
pub(crate) fn canonical(v: &Value, ty: &'static GoType, strict: bool) -> Value {
    match ty.fields() {
        Some(fields) => canonical_struct(v, fields, strict),
        None => v.clone(),
    }
}

fn canonical_struct(v: &Value, fields: &'static [(&'static str, GoType)], strict: bool) -> Value {
    let Value::Map(m) = v else {
        return v.clone();
    };
    // kustomize's YAML reaches Go's decoder as JSON with sorted keys, so of
    // two keys naming one field the later in byte order is decoded last
    // (each field keeps the place of its first key here).
    let mut order: Vec<&String> = m.keys().collect();
    order.sort();
    let mut out = Map::new();
    for key in m.keys() {
        if let Some((name, _)) = field(fields, key) {
            out.entry(name.to_string()).or_insert(Value::Null);
        }
    }
    let mut decoded = std::collections::HashSet::new();
    for key in order {
        let value = &m[key];
        match field(fields, key) {
            Some((name, ty)) => {
                let name: &'static str = name;
                let value = match ty.fields() {
                    Some(inner) => canonical_items(value, inner, strict),
                    None => value.clone(),
                };
                match out.get_mut(name) {
                    Some(earlier) if !decoded.insert(name) => decode_again(earlier, value),
                    Some(slot) => *slot = value,
                    None => {
                        out.insert(name.to_string(), value);
                    }
                }
            }
            // Every object keeps its type and metadata; the Go structs of
            // plugin configs list only their own fields.
            None if strict || TYPE_AND_METADATA.contains(&key.as_str()) => {
                out.insert(key.clone(), value.clone());
            }
            None => {}
        }
    }
    Value::Map(out)
}

/// A field decoded a second time (two keys naming it): Go's decoder fills
/// the maps and structs it already holds, so their entries add up, and
/// replaces anything else.
fn decode_again(earlier: &mut Value, later: Value) {
    match (earlier, later) {
        (Value::Map(old), Value::Map(new)) => {
            for (k, v) in new {
                match old.get_mut(&k) {
                    Some(slot) => decode_again(slot, v),
                    None => {
                        old.insert(k, v);
                    }
                }
            }
        }
        (slot, later) => *slot = later,
    }
}

/// A struct-valued field, or a list of structs (each item a struct, also
/// where one struct is due: the decoder reports that).
fn canonical_items(v: &Value, fields: &'static [(&'static str, GoType)], strict: bool) -> Value {
    match v {
        Value::Seq(items) => {
            Value::Seq(items.iter().map(|i| canonical_struct(i, fields, strict)).collect())
        }
        other => canonical_struct(other, fields, strict),
    }
}

/// `v`, its field names folded (see [`canonical`]), as it reaches Go's
/// decoder when sigs.k8s.io/yaml reads it into `ty`: a YAML number or bool
/// where a string is due becomes its Go text, except beneath a field of an
/// embedded struct ([`GoType::Promoted`]), which sigs.k8s.io/yaml does not
/// find by its tag. `embedded`: those too (goyaml.v2, which decodes
/// embedded structs' fields as the struct's own).
pub(crate) fn stringify(v: &mut Value, ty: &GoType, embedded: bool) {
    match (ty, v) {
        (GoType::Ptr(inner), v) => stringify(v, inner, embedded),
        (GoType::Promoted(inner), v) if embedded => stringify(v, inner, embedded),
        (
            GoType::Str | GoType::NamedStr(_),
            v @ (Value::Bool(_) | Value::Int(_) | Value::Uint(_) | Value::Float(_)),
        ) => *v = Value::String(crate::helm::chart::go_string(v)),
        (GoType::Slice(_, elem), Value::Seq(items)) => {
            items.iter_mut().for_each(|item| stringify(item, elem, embedded));
        }
        (GoType::Map(_, elem), Value::Map(m)) => {
            m.values_mut().for_each(|item| stringify(item, elem, embedded));
        }
        (GoType::Struct(_, _, fields), Value::Map(m)) => {
            for (key, item) in m.iter_mut() {
                if let Some((_, ty)) = fields.iter().find(|(name, _)| name == key) {
                    stringify(item, ty, embedded);
                }
            }
        }
        _ => {}
    }
}

/// A replacement file's content as kustomize's lenient decoder reads it:
/// one `types.Replacement` or a list of them, field names matched ignoring
/// case and fields it does not know dropped.
pub(crate) fn replacements_in_file(v: &Value) -> Value {
    let Some(fields) = structs::REPLACEMENT.fields() else {
        return v.clone();
    };
    let one = |r: &Value| match canonical_struct(r, fields, false) {
        Value::Map(m) => {
            Value::Map(m.into_iter().filter(|(k, _)| field(fields, k).is_some()).collect())
        }
        other => other,
    };
    match v {
        Value::Seq(items) => Value::Seq(items.iter().map(one).collect()),
        other => one(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    #[test]
    fn keys_fold_as_go_json_does() {
        let cases = [
            // exact and case-insensitive names; the later key wins
            ("nameprefix: a-\nNAMESUFFIX: -b\n", true, "nameSuffix: -b\nnamePrefix: a-\n"),
            ("namePrefix: a-\nnameprefix: b-\n", true, "namePrefix: b-\n"),
            // maps (and structs) decoded twice add up
            (
                "commonLabels: {a: x}\ncommonlabels: {b: y, a: z}\n",
                true,
                "commonLabels: {a: z, b: y}\n",
            ),
            // ... in the byte order of the keys, not the order written
            (
                "commonlabels: {a: z}\nCommonLabels: {a: x, b: y}\n",
                true,
                "commonLabels: {a: z, b: y}\n",
            ),
            // nested structs fold, maps of data do not
            (
                "images:\n- Name: x\n  NEWTAG: v\ncommonLabels:\n  Team: a\n",
                true,
                "commonLabels:\n  Team: a\nimages:\n- name: x\n  newTag: v\n",
            ),
            // unknown keys stay for a strict reader, go for a lenient one
            ("bogus: 1\nnamespace: n\n", true, "bogus: 1\nnamespace: n\n"),
            ("bogus: 1\nnamespace: n\n", false, "namespace: n\n"),
        ];
        for (input, strict, want) in cases {
            let doc = yaml::parse_documents(input, "k").unwrap().remove(0);
            let got = canonical(&doc, &structs::KUSTOMIZATION, strict);
            let want = yaml::parse_documents(want, "w").unwrap().remove(0);
            let sorted = |v: &Value| yaml::to_string(v);
            assert_eq!(sorted(&got), sorted(&want), "{input}");
        }
        let doc =
            yaml::parse_documents("images:\n- Name: x\n  NEWTAG: v\n", "i").unwrap().remove(0);
        let got = canonical(&doc, &structs::KUSTOMIZATION, true);
        let image = got.get_path(&["images"]).and_then(|i| i.as_seq()).map(|i| &i[0]);
        let keys: Vec<&String> = image.and_then(Value::as_map).unwrap().keys().collect();
        assert_eq!(keys, ["name", "newTag"]);
    }
}
