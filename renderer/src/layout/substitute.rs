//! Flux's post-build variable substitution (`spec.postBuild`): `${var}` forms in rendered objects.
//!
//! Flux's documented behaviour (fluxcd.io, Kustomization API, "Post build
//! variable substitution"): after the kustomize build, every object's YAML is
//! run through an envsubst that replaces `${var}`, `${var:=default}` and
//! `${var:-default}`; `$var` without braces is left alone, and `$${var}`
//! prints a literal `${var}`. Values come from `substituteFrom` ConfigMaps and
//! Secrets in order, then `substitute` (which wins). An object annotated or
//! labelled `kustomize.toolkit.fluxcd.io/substitute: disabled` is left as is.
//! Because the substitution works on the text, `replicas: ${N}` with
//! `N: "3"` becomes the integer 3, as in Flux.
//!
//! kiln runs the substitution strictly (Flux's `StrictPostBuildSubstitutions`
//! feature gate): a variable that is neither set nor given a default is an
//! error, since an empty string silently applied is the worse outcome.

use crate::value::Value;
use crate::yaml;
use indexmap::IndexMap;

/// The annotation or label that opts an object out.
pub const DISABLE_KEY: &str = "kustomize.toolkit.fluxcd.io/substitute";

/// Variables, by name.
pub type Vars = IndexMap<String, String>;

/// A substitution that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// `${name}` without a default and no value for it.
    #[error("variable {name:?} is not set and has no default")]
    Undefined {
        /// The variable.
        name: String,
    },
    /// `${` without its closing brace.
    #[error("unterminated ${{ at byte {offset}")]
    Unterminated {
        /// Where it starts.
        offset: usize,
    },
    /// A variable name in `substitute` or `substituteFrom` that Flux refuses.
    #[error(
        "invalid variable name {name:?}: expected letters, digits and underscores, not starting with a digit"
    )]
    BadName {
        /// The name.
        name: String,
    },
    /// The substituted text is no longer one YAML object.
    #[error("object {object} is not valid YAML after substitution: {message}")]
    Reparse {
        /// `kind/name` of the object.
        object: String,
        /// Why.
        message: String,
    },
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Checks that every variable name is one Flux accepts.
pub fn check_names(vars: &Vars) -> Result<(), Error> {
    match vars.keys().find(|k| !is_name(k)) {
        Some(name) => Err(Error::BadName { name: name.clone() }),
        None => Ok(()),
    }
}

/// Substitutes the `${...}` forms in `text`.
pub fn substitute_text(text: &str, vars: &Vars) -> Result<String, Error> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut offset = 0;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(escaped) = after.strip_prefix("${") {
            // `$${var}` is the escape for a literal `${var}`.
            out.push_str("${");
            offset += i + 3;
            rest = escaped;
            continue;
        }
        let Some(body) = after.strip_prefix('{') else {
            out.push('$');
            offset += i + 1;
            rest = after;
            continue;
        };
        let Some(end) = body.find('}') else {
            return Err(Error::Unterminated { offset: offset + i });
        };
        let expr = &body[..end];
        match expand(expr, vars)? {
            Some(value) => out.push_str(&value),
            // Not a variable form (`${1}`, `${ x }`): kept as written.
            None => {
                out.push_str("${");
                out.push_str(expr);
                out.push('}');
            }
        }
        offset += i + 2 + end + 1;
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The value of one `${...}` body, or `None` when it is not a variable form.
fn expand(expr: &str, vars: &Vars) -> Result<Option<String>, Error> {
    let name_end =
        expr.find(|c: char| !(c == '_' || c.is_ascii_alphanumeric())).unwrap_or(expr.len());
    let (name, op) = expr.split_at(name_end);
    if !is_name(name) {
        return Ok(None);
    }
    let value = vars.get(name);
    let default = |d: &str, if_empty: bool| match value {
        Some(v) if !(if_empty && v.is_empty()) => v.clone(),
        _ => d.to_string(),
    };
    Ok(Some(if op.is_empty() {
        value.cloned().ok_or_else(|| Error::Undefined { name: name.to_string() })?
    } else if let Some(d) = op.strip_prefix(":=").or_else(|| op.strip_prefix(":-")) {
        default(d, true)
    } else if let Some(d) = op.strip_prefix('=').or_else(|| op.strip_prefix('-')) {
        default(d, false)
    } else {
        return Ok(None);
    }))
}

/// Whether an object opted out of substitution.
pub fn is_disabled(object: &Value) -> bool {
    ["annotations", "labels"].iter().any(|field| {
        object.get_path(&["metadata", field, DISABLE_KEY]).and_then(Value::as_str)
            == Some("disabled")
    })
}

/// Substitutes one object through its YAML text, as Flux does.
pub fn substitute_object(object: &Value, vars: &Vars) -> Result<Value, Error> {
    if is_disabled(object) {
        return Ok(object.clone());
    }
    let text = yaml::to_string(object);
    if !text.contains('$') {
        return Ok(object.clone());
    }
    let replaced = substitute_text(&text, vars)?;
    let id = || {
        format!(
            "{}/{}",
            object.get_path(&["kind"]).and_then(Value::as_str).unwrap_or(""),
            object.get_path(&["metadata", "name"]).and_then(Value::as_str).unwrap_or("")
        )
    };
    let mut docs = yaml::parse_documents(&replaced, "substituted object")
        .map_err(|e| Error::Reparse { object: id(), message: e.to_string() })?;
    match (docs.len(), docs.pop()) {
        (1, Some(doc @ Value::Map(_))) => Ok(doc),
        _ => Err(Error::Reparse { object: id(), message: "expected one mapping".into() }),
    }
}

/// Decodes standard base64 (Secret `data`); `None` when it is not base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let clean: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let body = clean.strip_suffix(b"==").or_else(|| clean.strip_suffix(b"=")).unwrap_or(&clean);
    if !clean.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= digit(c)? << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len() - 1]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// The forms of Flux's documented envsubst (fluxcd.io Kustomization API,
    /// "Post build variable substitution"): `${var}`, `${var:=default}`,
    /// `${var:-default}`, `$var` untouched, `$${var}` as the escape.
    #[test]
    fn substitutes_the_flux_forms() {
        let v = vars(&[("cluster", "prod"), ("empty", ""), ("region", "eu-1")]);
        let cases: &[(&str, Result<&str, Error>)] = &[
            ("name: ${cluster}", Ok("name: prod")),
            ("a-${cluster}-${region}", Ok("a-prod-eu-1")),
            ("${missing:=fallback}", Ok("fallback")),
            ("${missing:-fallback}", Ok("fallback")),
            ("${cluster:=fallback}", Ok("prod")),
            ("${empty:=fallback}", Ok("fallback")),
            ("${empty=fallback}", Ok("")),
            ("${missing-x}", Ok("x")),
            ("${missing:=}", Ok("")),
            ("echo $HOME and $cluster", Ok("echo $HOME and $cluster")),
            ("$${cluster} stays", Ok("${cluster} stays")),
            ("cost: 5$", Ok("cost: 5$")),
            ("${1} and ${ x }", Ok("${1} and ${ x }")),
            ("${missing}", Err(Error::Undefined { name: "missing".into() })),
            ("ab ${cluster", Err(Error::Unterminated { offset: 3 })),
        ];
        for (text, want) in cases {
            let got = substitute_text(text, &v);
            assert_eq!(got.as_deref().map_err(Clone::clone), want.clone(), "{text}");
        }
    }

    #[test]
    fn substitutes_objects_through_their_text() {
        let v = vars(&[("replicas", "3"), ("env", "prod")]);
        let cases: &[(&str, &str)] = &[
            (
                "kind: Deployment\nmetadata:\n  name: app-${env}\nspec:\n  replicas: ${replicas}\n",
                "kind: Deployment\nmetadata:\n  name: app-prod\nspec:\n  replicas: 3\n",
            ),
            (
                "kind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\ndata:\n  x: ${nothing}\n",
                "kind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\ndata:\n  x: ${nothing}\n",
            ),
            (
                "kind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\ndata:\n  x: ${nothing}\n",
                "kind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\ndata:\n  x: ${nothing}\n",
            ),
        ];
        for (input, want) in cases {
            let obj = yaml::parse_documents(input, "t").unwrap().remove(0);
            let got = substitute_object(&obj, &v).unwrap();
            assert_eq!(
                yaml::to_string(&got),
                yaml::to_string(&yaml::parse_documents(want, "w").unwrap()[0])
            );
        }
        let obj =
            yaml::parse_documents("kind: A\nmetadata:\n  name: ${x}\n", "t").unwrap().remove(0);
        assert_eq!(substitute_object(&obj, &v), Err(Error::Undefined { name: "x".into() }));
    }

    #[test]
    fn checks_variable_names() {
        assert!(check_names(&vars(&[("ok_1", ""), ("_x", "")])).is_ok());
        for bad in ["1abc", "a-b", "", "a.b"] {
            assert_eq!(check_names(&vars(&[(bad, "")])), Err(Error::BadName { name: bad.into() }));
        }
    }

    #[test]
    fn decodes_base64() {
        let cases: &[(&str, Option<&[u8]>)] = &[
            ("", Some(b"")),
            ("YQ==", Some(b"a")),
            ("YWI=", Some(b"ab")),
            ("YWJj", Some(b"abc")),
            ("cHJv\nZA==", Some(b"prod")),
            ("YW", None),
            ("Y!==", None),
        ];
        for (text, want) in cases {
            assert_eq!(base64_decode(text).as_deref(), *want, "{text}");
        }
    }
}
