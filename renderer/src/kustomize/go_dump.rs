//! Go's `%#v` of an object as kyaml decodes it (yaml.v3 into `map[string]interface {}`), which kustomize prints where it cannot turn an object into JSON.
//!
//! Maps are `map[string]interface {}` with their keys sorted, lists
//! `[]interface {}`, null `interface {}(nil)`. A map holding a key that a
//! transformer wrote as a plain scalar YAML reads as something else (`true`,
//! `1`, `~`, a timestamp), or that its file wrote so, decodes as
//! `map[interface {}]interface {}` with that key typed; Go's fmt sorts such
//! keys nil first, then by their type (as kubectl's binary orders the
//! types: string, int, float64, bool, time.Time, recorded from kubectl),
//! then by value.

use crate::resource::Step;
use crate::value::Value;
use crate::yaml::resolve::{Timestamp, parse_timestamp, resolve_plain};
use std::cmp::Ordering;

/// `%#v` of `value`, whose maps at the paths of `plain_keys` hold those
/// keys typed as YAML reads them. With `quoted` (the paths where the file
/// wrote strings in quotes, see [`crate::resource::Resource::quoted`]), a
/// string the YAML reader made of a plain timestamp is the `time.Time`
/// yaml.v3 decodes there.
pub(crate) fn object(
    value: &Value,
    plain_keys: &[(Vec<Step>, String)],
    quoted: Option<&[Vec<Step>]>,
) -> String {
    let mut out = String::new();
    let mut path = Vec::new();
    write(&mut out, value, &mut path, &Typed { plain: plain_keys, quoted });
    out
}

/// What tells the types of an object's scalars apart.
struct Typed<'a> {
    plain: &'a [(Vec<Step>, String)],
    quoted: Option<&'a [Vec<Step>]>,
}

impl Typed<'_> {
    /// Go's `%#v` of the time a plain timestamp at `path` decodes to, if
    /// `s` is the RFC 3339 text kiln's reader made of one. Annotations are
    /// strings: kustomize writes them back as such at the end of the build;
    /// labels keep their nodes, tags too.
    fn time(&self, s: &str, path: &[Step]) -> Option<String> {
        let quoted = self.quoted?;
        let annotations = matches!(
            path,
            [Step::Key(m), Step::Key(f), ..] if m == "metadata" && f == "annotations"
        );
        if annotations || quoted.iter().any(|q| q[..] == path[..]) {
            return None;
        }
        let t = crate::yaml::resolve::parse_timestamp(s).filter(|t| t.rfc3339() == s)?;
        Some(t.go_string())
    }
}

fn write(out: &mut String, v: &Value, path: &mut Vec<Step>, typed: &Typed) {
    crate::stack::grow(|| write_here(out, v, path, typed));
}

fn write_here(out: &mut String, v: &Value, path: &mut Vec<Step>, typed: &Typed) {
    let plain = typed.plain;
    match v {
        Value::String(s) if let Some(time) = typed.time(s, path) => out.push_str(&time),
        Value::Null => out.push_str("interface {}(nil)"),
        Value::Seq(items) => {
            out.push_str("[]interface {}{");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                path.push(Step::Index(i));
                write(out, item, path, typed);
                path.pop();
            }
            out.push('}');
        }
        Value::Map(m) => {
            let typed_key = |k: &String| {
                let plain = plain.iter().any(|(at, key)| at[..] == path[..] && key == k);
                if plain { Key::of_plain(k) } else { Key::Value(Value::String(k.clone())) }
            };
            let mut keys: Vec<(Key, &String)> = m.keys().map(|k| (typed_key(k), k)).collect();
            let interface = keys.iter().any(|(k, _)| !matches!(k, Key::Value(Value::String(_))));
            keys.sort_by(|a, b| a.0.order(&b.0));
            out.push_str(if interface {
                "map[interface {}]interface {}{"
            } else {
                "map[string]interface {}{"
            });
            for (i, (key, name)) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                match &key {
                    Key::Value(v) => scalar(out, v),
                    Key::Time(t) => out.push_str(&t.go_string()),
                }
                out.push(':');
                path.push(Step::Key(name.clone()));
                write(out, &m[name.as_str()], path, typed);
                path.pop();
            }
            out.push('}');
        }
        other => scalar(out, other),
    }
}

fn scalar(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("interface {}(nil)"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        // `%#v` prints unsigned integers in hexadecimal.
        Value::Uint(u) => out.push_str(&format!("{u:#x}")),
        Value::Float(f) => out.push_str(&crate::yaml::go_format_float_g(*f)),
        Value::String(s) => out.push_str(&crate::gotmpl::fmt::quote(s)),
        Value::Seq(_) | Value::Map(_) => {}
    }
}

/// A map key as yaml.v3 decodes it.
enum Key {
    Value(Value),
    Time(Timestamp),
}

impl Key {
    /// The key a plain scalar `text` decodes to.
    fn of_plain(text: &str) -> Key {
        match resolve_plain(text) {
            Value::String(_) => match parse_timestamp(text) {
                Some(t) => Key::Time(t),
                None => Key::Value(Value::String(text.to_string())),
            },
            v => Key::Value(v),
        }
    }

    /// fmt's order of interface keys: nil, then by type, then by value (a
    /// `time.Time` by its fields: nanoseconds, then seconds).
    fn order(&self, other: &Key) -> Ordering {
        fn rank(k: &Key) -> u8 {
            match k {
                Key::Value(Value::Null) => 0,
                Key::Value(Value::String(_)) => 1,
                Key::Value(Value::Int(_)) => 2,
                Key::Value(Value::Uint(_)) => 3,
                Key::Value(Value::Float(_)) => 4,
                Key::Value(Value::Bool(_)) => 5,
                Key::Time(_) => 6,
                Key::Value(Value::Seq(_) | Value::Map(_)) => 7,
            }
        }
        rank(self).cmp(&rank(other)).then_with(|| match (self, other) {
            (Key::Value(Value::String(x)), Key::Value(Value::String(y))) => x.cmp(y),
            (Key::Value(Value::Int(x)), Key::Value(Value::Int(y))) => x.cmp(y),
            (Key::Value(Value::Uint(x)), Key::Value(Value::Uint(y))) => x.cmp(y),
            (Key::Value(Value::Float(x)), Key::Value(Value::Float(y))) => x.total_cmp(y),
            (Key::Value(Value::Bool(x)), Key::Value(Value::Bool(y))) => x.cmp(y),
            (Key::Time(x), Key::Time(y)) => x.go_fields().cmp(&y.go_fields()),
            _ => Ordering::Equal,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    /// Recorded from kubectl: a LabelTransformer writing `"true"`, `"0x1F"`,
    /// `"~"`, `"1.5"` and `b` to a Service's labels and selector.
    #[test]
    fn typed_keys_sort_as_kubectl_prints_them() {
        let v = yaml::parse_documents(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  labels: {'true': t, '0x1F': h, '~': n, '1.5': f, b: s}\nspec:\n  ports:\n  - {port: 80, x: 1.5, n: null}\n  replicas: 2\n",
            "s.yaml",
        )
        .unwrap()
        .remove(0);
        let labels = vec![Step::Key("metadata".into()), Step::Key("labels".into())];
        let plain: Vec<(Vec<Step>, String)> =
            ["true", "0x1F", "~", "1.5"].iter().map(|k| (labels.clone(), k.to_string())).collect();
        assert_eq!(
            object(&v, &plain, None),
            concat!(
                r#"map[string]interface {}{"apiVersion":"v1", "kind":"Service", "metadata":map[string]interface {}{"#,
                r#""labels":map[interface {}]interface {}{interface {}(nil):"n", "b":"s", 31:"h", 1.5:"f", true:"t"}, "name":"s"}, "#,
                r#""spec":map[string]interface {}{"ports":[]interface {}{map[string]interface {}{"n":interface {}(nil), "port":80, "x":1.5}}, "replicas":2}}"#
            )
        );
    }
}
