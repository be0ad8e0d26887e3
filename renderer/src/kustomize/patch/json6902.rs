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
use crate::value::Value;

/// Applies a sequence of operations (`{op, path, value, from}` maps, parsed
/// from YAML or JSON) to `target`. On error `target` is left unchanged and
/// the error names the operation's index, op and path.
pub fn apply(target: &mut Value, ops: &Value) -> Result<(), Error> {
    let Value::Seq(ops) = ops else { return Err(Error::OpsNotSeq { got: ops.type_name() }) };
    let mut doc = target.clone();
    for (index, op) in ops.iter().enumerate() {
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
        let from = || -> Result<Vec<String>, Error> {
            let from = fields
                .get("from")
                .and_then(Value::as_str)
                .ok_or_else(|| fail(name, path, "missing from".into()))?;
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
                Problem::BadIndex(e) if what == "add" => {
                    format!("error in {what} for path: '{path}': {}", e.add_words())
                }
                Problem::BadIndex(e) => format!("error in {what} for path: '{path}': {e}"),
            }
        };
        // move and copy name the place they write to otherwise.
        let to_destination = |what: &'static str| {
            move |problem: Problem| match problem {
                Problem::NoParent => format!(
                    "{what} operation does not apply: doc is missing destination path: {path}: missing value"
                ),
                Problem::BadIndex(e) if what == "copy" => {
                    format!("error while adding value during copy: {}", e.add_words())
                }
                Problem::BadIndex(e) => {
                    format!("error in {what} for path: '{}': {}", e.token, e.add_words())
                }
                other => no_path(what)(other),
            }
        };
        let result = match name {
            "add" => put(&mut doc, &pointer, value, true).map_err(no_path("add")),
            "remove" => remove(&mut doc, &pointer).map(drop).map_err(no_path("remove")),
            // The library quotes the path for add and remove, not for replace.
            "replace" => put(&mut doc, &pointer, value, false).map_err(|problem| match problem {
                Problem::NoParent => format!(
                    "replace operation does not apply: doc is missing path: {path}: missing value"
                ),
                // The library looks the element up first and finds none.
                Problem::BadIndex(_) => format!(
                    "replace operation does not apply: doc is missing key: {path}: missing value"
                ),
                other => no_path("replace")(other),
            }),
            "move" => {
                let from_text = fields.get("from").and_then(Value::as_str).unwrap_or("");
                let from = from()?;
                remove(&mut doc, &from)
                    .map_err(|problem| match problem {
                        Problem::NoParent => format!(
                            "move operation does not apply: doc is missing from path: {from_text}: missing value"
                        ),
                        Problem::Other(m) => m,
                        Problem::NoKey(key) => format!(
                            "error in move for path: '{key}': Unable to remove nonexistent key: {key}: missing value"
                        ),
                        Problem::BadIndex(e) => format!("error in move for path: '{}': {e}", e.token),
                    })
                    .and_then(|v| put(&mut doc, &pointer, v, true).map_err(to_destination("move")))
            }
            "copy" => {
                let from_text = fields.get("from").and_then(Value::as_str).unwrap_or("");
                let from = from()?;
                // The library looks up the container of `from` first (the
                // empty path has none); a missing key in it copies a null.
                let parent_found = from.split_last().is_some_and(|(_, parent)| {
                    matches!(get(&doc, parent), Some(Value::Map(_) | Value::Seq(_)))
                });
                if parent_found {
                    let v = get(&doc, &from).cloned().unwrap_or(Value::Null);
                    put(&mut doc, &pointer, v, true).map_err(to_destination("copy"))
                } else {
                    Err(format!(
                        "copy operation does not apply: doc is missing from path: {from_text}: missing value"
                    ))
                }
            }
            "test" => {
                let want = fields.get("value").unwrap_or(&Value::Null);
                let tested = match pointer.split_last() {
                    None => Ok(()),
                    Some((token, init)) => match get(&doc, init) {
                        Some(Value::Map(_)) => Ok(()),
                        // The library reads a list position with Go's
                        // strconv.Atoi and refuses one past the end.
                        Some(Value::Seq(items)) => match token.parse::<i64>() {
                            Err(_) => Err(format!(
                                "error in test for path: '{path}': strconv.Atoi: parsing {}: invalid syntax",
                                crate::kustomize::build::go_quote(token)
                            )),
                            Ok(i) if self::index(token, items.len(), false).is_err() => {
                                Err(format!(
                                    "error in test for path: '{path}': Unable to access invalid index: {i}: invalid index referenced"
                                ))
                            }
                            Ok(_) => Ok(()),
                        },
                        _ => Err(format!(
                            "test operation does not apply: is missing path: {path}: missing value"
                        )),
                    },
                };
                tested.and_then(|()| match get(&doc, &pointer) {
                    Some(have) if equal(have, want) => Ok(()),
                    None if want.is_null() => Ok(()),
                    _ => Err(format!("testing value {path} failed: test failed")),
                })
            }
            other => Err(format!("Unexpected kind: {other}")),
        };
        result.map_err(|r| fail(name, path, r))?;
    }
    *target = doc;
    Ok(())
}

/// Why an operation could not reach its place.
enum Problem {
    /// The container of the last token is missing.
    NoParent,
    /// A map key to remove is missing.
    NoKey(String),
    /// A list position that is not a number or not in the list.
    BadIndex(BadIndex),
    /// Anything else, already in words.
    Other(String),
}

impl From<String> for Problem {
    fn from(m: String) -> Problem {
        Problem::Other(m)
    }
}

impl From<BadIndex> for Problem {
    fn from(e: BadIndex) -> Problem {
        Problem::BadIndex(e)
    }
}

/// A list position the library refuses: it reads the token with Go's
/// `strconv.Atoi`, then checks the number against the list.
#[derive(Debug)]
struct BadIndex {
    token: String,
    /// The number read, when the token is one.
    number: Option<i64>,
}

impl BadIndex {
    /// The words of the library's insertion, which names a token that is
    /// no number first.
    fn add_words(&self) -> String {
        match self.number {
            Some(_) => self.to_string(),
            None => format!("value was not a proper array index: '{}': {self}", self.token),
        }
    }
}

impl std::fmt::Display for BadIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.number {
            Some(i) => write!(f, "Unable to access invalid index: {i}: invalid index referenced"),
            None => write!(
                f,
                "strconv.Atoi: parsing {}: invalid syntax",
                crate::kustomize::build::go_quote(&self.token)
            ),
        }
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
    let number = token.parse::<i64>().ok();
    let invalid = || BadIndex { token: token.to_string(), number };
    let i = number.ok_or_else(invalid)?;
    let slots = i64::try_from(len).map_err(|_| invalid())? + i64::from(insert);
    let i = if i < 0 { i + slots } else { i };
    let max = slots - 1;
    if i < 0 || i > max {
        return Err(invalid());
    }
    usize::try_from(i).map_err(|_| invalid())
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
            let i = index(token, s.len(), true)?;
            s.insert(i, value);
        }
        (Value::Seq(s), token) => {
            let i = index(token, s.len(), false)?;
            s[i] = value;
        }
        (other, _) => {
            return Err(Problem::Other(format!("cannot set a field of a {}", other.type_name())));
        }
    }
    Ok(())
}

fn remove(doc: &mut Value, pointer: &[String]) -> Result<Value, Problem> {
    match parent(doc, pointer)? {
        (Value::Map(m), key) => m.shift_remove(key).ok_or_else(|| Problem::NoKey(key.to_string())),
        (Value::Seq(s), token) => {
            let i = index(token, s.len(), false)?;
            Ok(s.remove(i))
        }
        (other, _) => Err(Problem::Other(format!("cannot remove from a {}", other.type_name()))),
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
            apply(&mut got, &yaml(ops)).unwrap_or_else(|e| panic!("{ops}: {e}"));
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
            match apply(&mut got, &yaml(ops)) {
                Err(Error::Operation { index: i, path: p, .. }) => {
                    assert_eq!((i, p.as_str()), (*index, *path), "{ops}");
                    assert_eq!(got, yaml(doc), "{ops}: target changed on error");
                }
                other => panic!("{ops}: expected an operation error, got {other:?}"),
            }
        }
        assert!(matches!(apply(&mut yaml(doc), &yaml("{op: add}")), Err(Error::OpsNotSeq { .. })));
    }
}
