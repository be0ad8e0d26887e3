//! JSON 6902 patches (add, remove, replace, move, copy, test) with the
//! behaviour of the JSON patch library kustomize v5.5 uses.
//!
//! Written here rather than through the `json-patch` crate: that crate works
//! on `serde_json::Value`, so every patch would convert the object there and
//! back, and its strict RFC behaviour differs from kustomize's in ways that
//! show in output: kustomize's `replace` of a missing map key adds it, a
//! `test` of a missing path against `null` passes, a missing `value` is
//! `null`, `copy` from a missing path copies `null`, a path without a leading
//! `/` loses its first token, and negative array indexes count from the end.

use super::Error;
use crate::resource::Step;
use crate::value::Value;

/// Applies a sequence of operations (`{op, path, value, from}` maps, parsed
/// from YAML or JSON) to `target`. On error `target` is left unchanged and
/// the error names the operation's index, op and path. `overflows` holds
/// the [`overflow_marks`] of a patch written as JSON.
pub fn apply(target: &mut Value, ops: &Value, overflows: Option<&Value>) -> Result<(), Error> {
    let Value::Seq(ops) = ops else { return Err(Error::OpsNotSeq { got: ops.type_name() }) };
    let mut doc = target.clone();
    for (index, op) in ops.iter().enumerate() {
        operate(&mut doc, index, op)?;
    }
    // kustomize reads the patched JSON back into an object: a list (what
    // replacing the whole document with one leaves) is no object.
    if matches!(doc, Value::Seq(_)) {
        return Err(Error::DocumentIsList);
    }
    if let Some(number) = overflows.and_then(|marks| first_overflow(target, marks)) {
        return Err(Error::NumberOutOfRange { number });
    }
    *target = doc;
    Ok(())
}

/// Applies one operation, the `index`th of its patch, to `doc`.
fn operate(doc: &mut Value, index: usize, op: &Value) -> Result<(), Error> {
    let fail = |op: &str, path: &str, reason: String| Error::Operation {
        index,
        op: op.to_string(),
        path: path.to_string(),
        reason,
    };
    let Value::Map(fields) = op else {
        return Err(fail("?", "", format!("operation is a {}, not a map", op.type_name())));
    };
    let name = fields.get("op").and_then(Value::as_str).unwrap_or("unknown");
    let path = match (name, fields.get("path").and_then(Value::as_str)) {
        (_, Some(path)) => path,
        ("add" | "remove" | "replace" | "move" | "copy" | "test", None) => {
            return Err(fail(name, "", "missing path".into()));
        }
        (other, None) => return Err(fail(other, "", format!("Unexpected kind: {other}"))),
    };
    let pointer = parse_pointer(path);
    let value = fields.get("value").cloned().unwrap_or(Value::Null);
    // The library decodes `from` into a Go string: null leaves it empty.
    let from = || -> Result<Vec<String>, Error> {
        let decode = |why: String| {
            fail(name, path, format!("{name} operation failed to decode from: {why}"))
        };
        let from = match fields.get("from") {
            None => return Err(decode("operation, missing from field: missing value".into())),
            Some(Value::String(s)) => s.as_str(),
            Some(Value::Null) => "",
            Some(other) => {
                let json = match other {
                    Value::Bool(_) => "bool",
                    Value::Seq(_) => "array",
                    Value::Map(_) => "object",
                    _ => "number",
                };
                return Err(decode(format!(
                    "json: cannot unmarshal {json} into Go value of type string"
                )));
            }
        };
        Ok(parse_pointer(from))
    };
    // The library's words: which operation, and the path as written.
    let no_path = |what: &'static str| {
        move |problem: Problem| match problem {
            Problem::NoParent => {
                format!(
                    "{what} operation does not apply: doc is missing path: \"{path}\": missing value"
                )
            }
            Problem::Other(m) => m,
            Problem::NoKey(key) => format!(
                "error in {what} for path: '{path}': Unable to remove nonexistent key: {key}: missing value"
            ),
            Problem::Index { why, .. } => format!("error in {what} for path: '{path}': {why}"),
        }
    };
    // move and copy name the place they write to otherwise.
    let to_destination = |what: &'static str| {
        move |problem: Problem| match problem {
            Problem::NoParent => format!(
                "{what} operation does not apply: doc is missing destination path: {path}: missing value"
            ),
            other => no_path(what)(other),
        }
    };
    let result = match name {
        "add" => put(doc, &pointer, value, true).map_err(no_path("add")),
        "remove" => remove(doc, &pointer).map(drop).map_err(no_path("remove")),
        // The library replaces the whole document only with an object
        // or an array; any other value leaves it as it is, unreported.
        "replace" if pointer.is_empty() && !matches!(value, Value::Map(_) | Value::Seq(_)) => {
            Ok(())
        }
        // The library quotes the path for add and remove, not for replace.
        "replace" => put(doc, &pointer, value, false).map_err(|problem| match problem {
            Problem::Index { .. } => format!(
                "replace operation does not apply: doc is missing key: {path}: missing value"
            ),
            Problem::NoParent => format!(
                "replace operation does not apply: doc is missing path: {path}: missing value"
            ),
            other => no_path("replace")(other),
        }),
        "move" => {
            let from_text = fields.get("from").and_then(Value::as_str).unwrap_or("");
            let from = from()?;
            remove(doc, &from)
                .map_err(|problem| match problem {
                    Problem::NoParent => format!(
                        "move operation does not apply: doc is missing from path: {from_text}: missing value"
                    ),
                    Problem::Other(m) => m,
                    Problem::NoKey(key) => format!(
                        "error in move for path: '{key}': Unable to remove nonexistent key: {key}: missing value"
                    ),
                    Problem::Index { token, why } => {
                        format!("error in move for path: '{token}': {why}")
                    }
                })
                .and_then(|v| put(doc, &pointer, v, true).map_err(to_destination("move")))
        }
        "copy" => {
            let from_text = fields.get("from").and_then(Value::as_str).unwrap_or("");
            let from = from()?;
            // The library looks up the container of `from` first (the
            // empty path has none); a missing key in it copies a null.
            // A list position must name an element.
            let found = match from.split_last().map(|(last, parent)| (last, get(doc, parent))) {
                Some((token, Some(Value::Map(m)))) => Ok(m.get(token.as_str()).cloned()),
                Some((token, Some(Value::Seq(items)))) => self::index(token, items.len(), false)
                    .map(|i| items.get(i).cloned())
                    .map_err(|bad| {
                        format!("error in copy for from: '{from_text}': {}", bad.why(token, false))
                    }),
                _ => Err(format!(
                    "copy operation does not apply: doc is missing from path: {from_text}: missing value"
                )),
            };
            found.and_then(|v| {
                let v = v.unwrap_or(Value::Null);
                put(doc, &pointer, v, true).map_err(|problem| match problem {
                    Problem::Index { why, .. } => {
                        format!("error while adding value during copy: {why}")
                    }
                    other => to_destination("copy")(other),
                })
            })
        }
        "test" => {
            let want = fields.get("value").unwrap_or(&Value::Null);
            let tested = match pointer.split_last() {
                None => Ok(()),
                Some((token, init)) => match get(doc, init) {
                    Some(Value::Map(_)) => Ok(()),
                    // The library reads a list position with Go's
                    // strconv.Atoi and refuses one past the end.
                    Some(Value::Seq(items)) => {
                        self::index(token, items.len(), false).map(drop).map_err(|bad| {
                            format!("error in test for path: '{path}': {}", bad.why(token, false))
                        })
                    }
                    _ => Err(format!(
                        "test operation does not apply: is missing path: {path}: missing value"
                    )),
                },
            };
            tested.and_then(|()| match get(doc, &pointer) {
                Some(have) if equal(have, want) => Ok(()),
                None if want.is_null() => Ok(()),
                _ => Err(format!("testing value {path} failed: test failed")),
            })
        }
        other => Err(format!("Unexpected kind: {other}")),
    };
    result.map_err(|r| fail(name, path, r))
}

/// The operations of a patch written as JSON (its text starts with `[`),
/// each `value` reduced to the numbers in it that float64 cannot hold
/// (`1e400`, kept as their text; every other scalar null), for [`apply`].
/// kustomize's library copies such a number's text into the object's JSON,
/// and Go's decoder refuses it when kustomize reads the object back, so it
/// fails only if it is still there then. `None` when there is none. kiln
/// reads such a number as a string: the text's quoted strings tell the two
/// apart.
pub fn overflow_marks(ops: &Value, text: &str, source: &str) -> Option<Value> {
    let Value::Seq(list) = ops else { return None };
    let holds =
        |op: &Value| op.as_map().and_then(|m| m.get("value")).is_some_and(holds_beyond_float64);
    if !list.iter().any(holds) {
        return None;
    }
    let read = crate::yaml::parse_kustomize_documents(text, source, Default::default()).ok()?;
    let quoted = &read.first()?.quoted;
    let mut found = false;
    let marked = list
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let mut op = op.clone();
            if let Some(value) = op.as_map_mut().and_then(|m| m.get_mut("value")) {
                let mut at = vec![Step::Index(i), Step::Key("value".to_string())];
                *value = mark(value, &mut at, quoted, &mut found);
            }
            op
        })
        .collect();
    found.then_some(Value::Seq(marked))
}

/// Whether `text` is a number beyond float64's range, as Go's
/// `strconv.ParseFloat` finds it (which rounds as Rust does).
fn beyond_float64(text: &str) -> bool {
    text.strip_prefix('-').unwrap_or(text).starts_with(|c: char| c.is_ascii_digit())
        && text.parse::<f64>().is_ok_and(f64::is_infinite)
}

fn holds_beyond_float64(value: &Value) -> bool {
    crate::stack::grow(|| match value {
        Value::String(s) => beyond_float64(s),
        Value::Map(m) => m.values().any(holds_beyond_float64),
        Value::Seq(s) => s.iter().any(holds_beyond_float64),
        _ => false,
    })
}

/// `value` (at `at` in the patch) with the numbers beyond float64 kept and
/// every other scalar null.
fn mark(value: &Value, at: &mut Vec<Step>, quoted: &[Vec<Step>], found: &mut bool) -> Value {
    crate::stack::grow(|| match value {
        Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, v)| {
                    at.push(Step::Key(k.clone()));
                    let v = mark(v, at, quoted, found);
                    at.pop();
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Seq(s) => Value::Seq(
            s.iter()
                .enumerate()
                .map(|(i, v)| {
                    at.push(Step::Index(i));
                    let v = mark(v, at, quoted, found);
                    at.pop();
                    v
                })
                .collect(),
        ),
        Value::String(s) if beyond_float64(s) && !quoted.contains(at) => {
            *found = true;
            value.clone()
        }
        _ => Value::Null,
    })
}

/// The first number of `marks` ([`overflow_marks`]) that `target` patched
/// still holds, in the order Go's decoder reads the patched JSON. The
/// library gets the object's JSON with every map's keys sorted, keeps an
/// operation's value as its text until an operation looks inside one of its
/// maps (on the way to the place it reads or writes, or comparing with
/// `test`), and writes a map it looked inside with sorted keys. The
/// operations are replayed on the object's shape, each map in that order.
fn first_overflow(target: &Value, marks: &Value) -> Option<String> {
    let Value::Seq(ops) = marks else { return None };
    let mut doc = shape(target);
    for (index, op) in ops.iter().enumerate() {
        let fields = op.as_map()?;
        let pointer = |field: &str| fields.get(field).and_then(Value::as_str).map(parse_pointer);
        let path = pointer("path").unwrap_or_default();
        match fields.get("op").and_then(Value::as_str) {
            Some("test") => {
                sort_along(&mut doc, &path);
                if let Some(tested) = get_mut(&mut doc, &path) {
                    sort_all(tested);
                }
                continue;
            }
            Some("move" | "copy") => sort_along(&mut doc, &pointer("from").unwrap_or_default()),
            _ => {}
        }
        operate(&mut doc, index, op).ok()?;
        sort_along(&mut doc, &path);
    }
    first_string(&doc)
}

/// `value` with its maps' keys sorted and every scalar null.
fn shape(value: &Value) -> Value {
    crate::stack::grow(|| match value {
        Value::Map(m) => {
            let mut m: crate::value::Map = m.iter().map(|(k, v)| (k.clone(), shape(v))).collect();
            m.sort_keys();
            Value::Map(m)
        }
        Value::Seq(s) => Value::Seq(s.iter().map(shape).collect()),
        _ => Value::Null,
    })
}

/// Sorts the keys of the document's map and of each map on the way to the
/// last token of `pointer`.
fn sort_along(doc: &mut Value, pointer: &[String]) {
    let on_the_way = pointer.split_last().map_or(&[][..], |(_, init)| init);
    let mut cur = doc;
    for n in 0..=on_the_way.len() {
        if let Value::Map(m) = cur {
            m.sort_keys();
        }
        let Some(token) = on_the_way.get(n) else { return };
        let next = match cur {
            Value::Map(m) => m.get_mut(token),
            Value::Seq(s) => index(token, s.len(), false).ok().and_then(|i| s.get_mut(i)),
            _ => None,
        };
        let Some(next) = next else { return };
        cur = next;
    }
}

fn sort_all(value: &mut Value) {
    crate::stack::grow(|| match value {
        Value::Map(m) => {
            m.sort_keys();
            m.values_mut().for_each(sort_all);
        }
        Value::Seq(s) => s.iter_mut().for_each(sort_all),
        _ => {}
    })
}

fn first_string(value: &Value) -> Option<String> {
    crate::stack::grow(|| match value {
        Value::String(s) => Some(s.clone()),
        Value::Map(m) => m.values().find_map(first_string),
        Value::Seq(s) => s.iter().find_map(first_string),
        _ => None,
    })
}

/// Why an operation could not reach its place.
enum Problem {
    /// The container of the last token is missing.
    NoParent,
    /// A map key to remove is missing.
    NoKey(String),
    /// Anything else, already in words.
    Other(String),
    /// A list position that names no element (no slot, for an insertion):
    /// the token and the library's words for it.
    Index { token: String, why: String },
}

/// Why a token names no place in a list, as the library reads it with Go's
/// `strconv.Atoi`.
enum BadIndex {
    /// No integer: Atoi's error.
    Atoi(String),
    /// An integer past either end.
    Range(i64),
}

impl BadIndex {
    /// The library's words; an insertion says that the token is no index
    /// before Atoi's error.
    fn why(&self, token: &str, insert: bool) -> String {
        match self {
            BadIndex::Atoi(e) if insert => {
                format!("value was not a proper array index: '{token}': {e}")
            }
            BadIndex::Atoi(e) => e.clone(),
            BadIndex::Range(i) => {
                format!("Unable to access invalid index: {i}: invalid index referenced")
            }
        }
    }

    fn problem(&self, token: &str, insert: bool) -> Problem {
        Problem::Index { token: token.to_string(), why: self.why(token, insert) }
    }
}

impl From<String> for Problem {
    fn from(m: String) -> Problem {
        Problem::Other(m)
    }
}

/// Splits a JSON pointer into unescaped tokens (`~1` is `/`, `~0` is `~`).
/// Like kustomize's library, the text before the first `/` is dropped
/// whatever it is, so `spec/paused` names `/paused`.
fn parse_pointer(path: &str) -> Vec<String> {
    path.split('/').skip(1).map(|t| t.replace("~1", "/").replace("~0", "~")).collect()
}

/// The array position a token names; negative positions count from the end
/// (for an insertion, `-1` is the end itself).
fn index(token: &str, len: usize, insert: bool) -> Result<usize, BadIndex> {
    let written: i64 = token.parse().map_err(|_| {
        let digits = token.strip_prefix(['+', '-']).unwrap_or(token);
        let why = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            "value out of range"
        } else {
            "invalid syntax"
        };
        BadIndex::Atoi(format!(
            "strconv.Atoi: parsing {}: {why}",
            crate::kustomize::build::go_quote(token)
        ))
    })?;
    let slots = i64::try_from(len).unwrap_or(i64::MAX).saturating_add(i64::from(insert));
    let i = if written < 0 { written.saturating_add(slots) } else { written };
    if i < 0 || i >= slots {
        return Err(BadIndex::Range(written));
    }
    usize::try_from(i).map_err(|_| BadIndex::Range(written))
}

fn get<'a>(doc: &'a Value, pointer: &[String]) -> Option<&'a Value> {
    pointer.iter().try_fold(doc, |cur, token| match cur {
        Value::Map(m) => m.get(token),
        Value::Seq(s) => index(token, s.len(), false).ok().and_then(|i| s.get(i)),
        _ => None,
    })
}

fn get_mut<'a>(doc: &'a mut Value, pointer: &[String]) -> Option<&'a mut Value> {
    pointer.iter().try_fold(doc, |cur, token| match cur {
        Value::Map(m) => m.get_mut(token),
        Value::Seq(s) => {
            let i = index(token, s.len(), false).ok()?;
            s.get_mut(i)
        }
        _ => None,
    })
}

/// The container that holds the last token of `pointer`, and that token.
fn parent<'a, 'p>(
    doc: &'a mut Value,
    pointer: &'p [String],
) -> Result<(&'a mut Value, &'p str), Problem> {
    let Some((last, init)) = pointer.split_last() else {
        return Err(Problem::NoParent);
    };
    let parent = get_mut(doc, init).ok_or(Problem::NoParent)?;
    Ok((parent, last.as_str()))
}

/// Sets the value at `pointer`. `add` inserts into sequences (`-` appends);
/// otherwise (`replace`) the element must exist. On maps both set the key:
/// kustomize's `replace` of a missing key adds it.
fn put(doc: &mut Value, pointer: &[String], value: Value, add: bool) -> Result<(), Problem> {
    if pointer.is_empty() {
        // The library's replace takes the whole document for the empty
        // path; add (and so move and copy) finds no container there.
        if add {
            return Err(Problem::NoParent);
        }
        *doc = value;
        return Ok(());
    }
    match parent(doc, pointer)? {
        (Value::Map(m), key) => {
            m.insert(key.to_string(), value);
        }
        (Value::Seq(s), "-") if add => s.push(value),
        (Value::Seq(s), token) if add => {
            let i = index(token, s.len(), true).map_err(|bad| bad.problem(token, true))?;
            s.insert(i, value);
        }
        (Value::Seq(s), token) => {
            let i = index(token, s.len(), false).map_err(|bad| bad.problem(token, false))?;
            s[i] = value;
        }
        // The library finds no container below a scalar.
        _ => return Err(Problem::NoParent),
    }
    Ok(())
}

fn remove(doc: &mut Value, pointer: &[String]) -> Result<Value, Problem> {
    match parent(doc, pointer)? {
        (Value::Map(m), key) => m.shift_remove(key).ok_or_else(|| Problem::NoKey(key.to_string())),
        (Value::Seq(s), token) => {
            let i = index(token, s.len(), false).map_err(|bad| bad.problem(token, false))?;
            Ok(s.remove(i))
        }
        _ => Err(Problem::NoParent),
    }
}

/// Equality as JSON sees it: `1` and `1.0` are the same number.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(i), Value::Float(f)) | (Value::Float(f), Value::Int(i)) => (*i as f64) == *f,
        (Value::Uint(u), Value::Float(f)) | (Value::Float(f), Value::Uint(u)) => (*u as f64) == *f,
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    fn yaml(text: &str) -> Value {
        parse_documents(text, "test").expect("test YAML parses").remove(0)
    }

    #[test]
    fn operations() {
        let doc = "a:\n  x/y: 1\n  t~u: 2\nl: [1, 2, 3]\n";
        let cases: &[(&str, &str)] = &[
            ("[{op: add, path: /a/x~1y, value: 9}]", "a: {x/y: 9, t~u: 2}\nl: [1, 2, 3]"),
            ("[{op: remove, path: /a/t~0u}]", "a: {x/y: 1}\nl: [1, 2, 3]"),
            ("[{op: add, path: /l/-, value: 4}]", "a: {x/y: 1, t~u: 2}\nl: [1, 2, 3, 4]"),
            ("[{op: add, path: /l/-1, value: 4}]", "a: {x/y: 1, t~u: 2}\nl: [1, 2, 3, 4]"),
            ("[{op: remove, path: /l/-1}]", "a: {x/y: 1, t~u: 2}\nl: [1, 2]"),
            ("[{op: add, path: /l/0, value: 0}]", "a: {x/y: 1, t~u: 2}\nl: [0, 1, 2, 3]"),
            ("[{op: replace, path: /l/1, value: b}]", "a: {x/y: 1, t~u: 2}\nl: [1, b, 3]"),
            ("[{op: replace, path: /new, value: n}]", "a: {x/y: 1, t~u: 2}\nl: [1, 2, 3]\nnew: n"),
            ("[{op: move, from: /l, path: /a/l}]", "a: {x/y: 1, t~u: 2, l: [1, 2, 3]}"),
            ("[{op: copy, from: /l/2, path: /c}]", "a: {x/y: 1, t~u: 2}\nl: [1, 2, 3]\nc: 3"),
            ("[{op: test, path: /l/0, value: 1.0}, {op: test, path: /nope}]", doc),
            // replace takes the whole document for the empty path (add
            // fails there: case 3821).
            ("[{op: replace, path: '', value: {z: 1}}]", "z: 1"),
        ];
        for (ops, want) in cases {
            let mut got = yaml(doc);
            apply(&mut got, &yaml(ops), None).unwrap_or_else(|e| panic!("{ops}: {e}"));
            assert_eq!(got, yaml(want), "{ops}");
        }
    }

    #[test]
    fn errors_name_the_operation() {
        let doc = "a: {b: 1}\nl: [1]\n";
        let cases: &[(&str, usize, &str)] = &[
            ("[{op: test, path: /a/b, value: 1}, {op: test, path: /a/b, value: 2}]", 1, "/a/b"),
            ("[{op: remove, path: /a/c}]", 0, "/a/c"),
            ("[{op: add, path: /x/y, value: 1}]", 0, "/x/y"),
            ("[{op: add, path: /l/5, value: 1}]", 0, "/l/5"),
            ("[{op: replace, path: /l/1, value: 1}]", 0, "/l/1"),
            ("[{op: move, from: /nope, path: /a/d}]", 0, "/a/d"),
            ("[{op: add, path: /a/b/c, value: 1}]", 0, "/a/b/c"),
            ("[{op: frobnicate, path: /a}]", 0, "/a"),
        ];
        for (ops, index, path) in cases {
            let mut got = yaml(doc);
            match apply(&mut got, &yaml(ops), None) {
                Err(Error::Operation { index: i, path: p, .. }) => {
                    assert_eq!((i, p.as_str()), (*index, *path), "{ops}");
                    assert_eq!(got, yaml(doc), "{ops}: target changed on error");
                }
                other => panic!("{ops}: expected an operation error, got {other:?}"),
            }
        }
        assert!(matches!(
            apply(&mut yaml(doc), &yaml("{op: add}"), None),
            Err(Error::OpsNotSeq { .. })
        ));
    }
}
