//! Type constraints of `variable` blocks and the conversion Terraform applies
//! to a value given for one (from a `tfvars` file, a default or a module argument).
//!
//! Terraform's documented rules: a number or bool converts to a string
//! (`2.50` is `"2.5"`, `true` is `"true"`); a string converts to a number
//! when it holds a decimal number (`"2.50"` is `2.5`) and to a bool when it
//! is `"true"` or `"false"` (or `"1"`, `"0"`, as cty reads them); a list,
//! set or tuple converts element by element to `list(T)`, `set(T)` or a
//! tuple type; a map or object converts to `map(T)` value by value, and to
//! an `object({...})` when it has every attribute that is not
//! `optional(...)` (an optional one it lacks takes the default given, else
//! null; attributes the type does not name are dropped); `any` keeps the
//! value, and the elements of `list(any)` or `map(any)` are unified to one
//! type (strings, when strings are among primitives). A null stays null.
//! Anything else fails, with the words of Terraform's conversion functions
//! where its documentation gives them.

use hcl::eval::{Context, Evaluate};
use hcl::expr::{Expression, ObjectKey};
use hcl::{Map, Value};

/// A type constraint.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// `any`: the value as given.
    Any,
    /// `string`.
    String,
    /// `number`.
    Number,
    /// `bool`.
    Bool,
    /// `list(T)`.
    List(Box<Type>),
    /// `set(T)`.
    Set(Box<Type>),
    /// `map(T)`.
    Map(Box<Type>),
    /// `object({...})`: attributes in name order.
    Object(Vec<Attribute>),
    /// `tuple([...])`.
    Tuple(Vec<Type>),
}

/// An attribute of an object type.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// The attribute's name.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// Whether `optional(...)` wraps it.
    pub optional: bool,
    /// The default `optional(T, default)` gives.
    pub default: Option<Value>,
}

/// Parses a `type = ...` expression: the keywords and constructors of
/// Terraform 0.12 and later, and the quoted `"string"`, `"list"`, `"map"`
/// of Terraform 0.11 (bare `list` and `map` are `list(any)`, `map(any)`).
pub fn parse(expr: &Expression) -> Result<Type, String> {
    match expr {
        Expression::String(s) => match s.as_str() {
            "string" => Ok(Type::String),
            "list" => Ok(Type::List(Box::new(Type::Any))),
            "map" => Ok(Type::Map(Box::new(Type::Any))),
            other => Err(format!(
                "{other:?} is not a type: the quoted types are \"string\", \"list\" and \"map\""
            )),
        },
        Expression::Variable(v) => match v.as_str() {
            "any" => Ok(Type::Any),
            "string" => Ok(Type::String),
            "number" => Ok(Type::Number),
            "bool" => Ok(Type::Bool),
            "list" => Ok(Type::List(Box::new(Type::Any))),
            "map" => Ok(Type::Map(Box::new(Type::Any))),
            "set" => Ok(Type::Set(Box::new(Type::Any))),
            other => Err(format!("the keyword {other:?} is not a type")),
        },
        Expression::Parenthesis(inner) => parse(inner),
        Expression::FuncCall(call) if call.name.namespace.is_empty() => {
            let name = call.name.name.as_str();
            let [arg] = call.args.as_slice() else {
                return Err(format!("{name}(...) takes one argument"));
            };
            match name {
                "list" => Ok(Type::List(Box::new(parse(arg)?))),
                "set" => Ok(Type::Set(Box::new(parse(arg)?))),
                "map" => Ok(Type::Map(Box::new(parse(arg)?))),
                "tuple" => match arg {
                    Expression::Array(items) => {
                        Ok(Type::Tuple(items.iter().map(parse).collect::<Result<Vec<_>, _>>()?))
                    }
                    _ => Err("tuple(...) takes a list of types".to_string()),
                },
                "object" => object(arg),
                "optional" => Err("optional(...) is allowed only for an object's attribute".into()),
                other => Err(format!("{other}(...) is not a type constructor")),
            }
        }
        _ => Err("not a type constraint".to_string()),
    }
}

fn object(arg: &Expression) -> Result<Type, String> {
    let Expression::Object(o) = arg else {
        return Err("object(...) takes a map of attribute types".to_string());
    };
    let mut attrs = Vec::with_capacity(o.len());
    for (k, v) in o.iter() {
        let name = match k {
            ObjectKey::Identifier(id) => id.as_str().to_string(),
            ObjectKey::Expression(Expression::String(s)) => s.clone(),
            _ => return Err("an object attribute's name must be a name or a string".to_string()),
        };
        let (ty, optional, default) = match v {
            Expression::FuncCall(call)
                if call.name.namespace.is_empty() && call.name.name.as_str() == "optional" =>
            {
                let (ty, default) = match call.args.as_slice() {
                    [ty] => (parse(ty)?, None),
                    [ty, default] => {
                        let d = default
                            .evaluate(&Context::new())
                            .map_err(|e| format!("attribute {name:?}: the default: {e}"))?;
                        (parse(ty)?, Some(d))
                    }
                    _ => return Err("optional(...) takes a type and a default".to_string()),
                };
                let default = match default {
                    Some(d) => Some(
                        convert(&d, &ty)
                            .map_err(|e| format!("attribute {name:?}: the default: {e}"))?,
                    ),
                    None => None,
                };
                (ty, true, default)
            }
            ty => (parse(ty)?, false, None),
        };
        attrs.push(Attribute { name, ty, optional, default });
    }
    attrs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Type::Object(attrs))
}

/// The name Terraform gives a value's type in messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "tuple",
        Value::Object(_) => "object",
    }
}

/// Converts `v` to `ty` as Terraform converts a variable's value.
pub fn convert(v: &Value, ty: &Type) -> Result<Value, String> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    match (ty, v) {
        (Type::Any, v) => Ok(v.clone()),
        (Type::String, Value::String(_)) => Ok(v.clone()),
        (Type::String, Value::Number(_) | Value::Bool(_)) => {
            super::funcs::text(v).map(Value::String)
        }
        (Type::Number, Value::Number(_)) => Ok(v.clone()),
        (Type::Number, Value::String(s)) => number(s).ok_or_else(|| {
            format!("cannot convert {s:?} to number: string must be a decimal representation of a number")
        }),
        (Type::Bool, Value::Bool(_)) => Ok(v.clone()),
        // Terraform's conversion (cty) also reads "1" and "0" as bools.
        (Type::Bool, Value::String(s)) => match s.as_str() {
            "true" | "1" => Ok(Value::Bool(true)),
            "false" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!(
                "cannot convert {s:?} to bool: only the strings \"true\" or \"false\" are allowed"
            )),
        },
        (Type::String | Type::Number | Type::Bool, v) => {
            Err(format!("cannot convert {} to {}", kind(v), name(ty)))
        }
        (Type::List(elem) | Type::Set(elem), Value::Array(items)) => {
            let mut out = items
                .iter()
                .enumerate()
                .map(|(i, item)| convert(item, elem).map_err(|e| format!("element {i}: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            if **elem == Type::Any {
                out = unify(out);
            }
            if matches!(ty, Type::Set(_)) {
                // A set holds each value once; Terraform orders a set of
                // strings lexically.
                let mut set: Vec<Value> = Vec::with_capacity(out.len());
                for v in out {
                    if !set.contains(&v) {
                        set.push(v);
                    }
                }
                if set.iter().all(|v| matches!(v, Value::String(_))) {
                    set.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                }
                out = set;
            }
            Ok(Value::Array(out))
        }
        (Type::Map(elem), Value::Object(m)) => {
            let mut out = Map::new();
            for (k, item) in m {
                out.insert(k.clone(), convert(item, elem).map_err(|e| format!("element {k:?}: {e}"))?);
            }
            if **elem == Type::Any {
                let keys: Vec<String> = out.keys().cloned().collect();
                let values = unify(out.into_values().collect());
                out = keys.into_iter().zip(values).collect();
            }
            Ok(Value::Object(out))
        }
        (Type::Object(attrs), Value::Object(m)) => {
            let mut out = Map::new();
            for a in attrs {
                let value = match m.get(&a.name) {
                    Some(item) => convert(item, &a.ty)
                        .map_err(|e| format!("attribute {:?}: {e}", a.name))?,
                    None if a.optional => a.default.clone().unwrap_or(Value::Null),
                    None => return Err(format!("attribute {:?} is required", a.name)),
                };
                out.insert(a.name.clone(), value);
            }
            Ok(Value::Object(out))
        }
        (Type::Tuple(types), Value::Array(items)) => {
            if types.len() != items.len() {
                return Err(format!("tuple required of {} elements, got {}", types.len(), items.len()));
            }
            items
                .iter()
                .zip(types)
                .enumerate()
                .map(|(i, (item, t))| convert(item, t).map_err(|e| format!("element {i}: {e}")))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        (ty, v) => Err(format!("{} required, got {}", name(ty), kind(v))),
    }
}

/// A type's name in messages.
fn name(ty: &Type) -> String {
    match ty {
        Type::Any => "any".to_string(),
        Type::String => "string".to_string(),
        Type::Number => "number".to_string(),
        Type::Bool => "bool".to_string(),
        Type::List(e) => format!("list of {}", name(e)),
        Type::Set(e) => format!("set of {}", name(e)),
        Type::Map(e) => format!("map of {}", name(e)),
        Type::Object(_) => "object".to_string(),
        Type::Tuple(_) => "tuple".to_string(),
    }
}

/// A string's number, when it holds a decimal one: whole numbers stay whole.
fn number(s: &str) -> Option<Value> {
    let f: f64 = s.parse().ok().filter(|f: &f64| f.is_finite())?;
    // Terraform reads decimal numbers only: no "inf", "nan" or hex.
    if !s.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')) {
        return None;
    }
    match s.parse::<i64>() {
        Ok(i) => Some(Value::from(i)),
        Err(_) => Some(super::funcs::float(f)).filter(|v| !v.is_null()),
    }
}

/// The elements of a collection of `any` converted to one type: when
/// strings are among primitive elements, all become strings (Terraform
/// unifies `["a", 1, true]` as a list of strings).
fn unify(items: Vec<Value>) -> Vec<Value> {
    let primitive = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    let mixed = items.iter().any(|v| matches!(v, Value::String(_)))
        && items.iter().all(|v| primitive(v) || v.is_null())
        && items.iter().any(|v| matches!(v, Value::Number(_) | Value::Bool(_)));
    if !mixed {
        return items;
    }
    items
        .into_iter()
        .map(|v| {
            if v.is_null() { v } else { super::funcs::text(&v).map_or(Value::Null, Value::String) }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn ty(src: &str) -> Type {
        parse(&Expression::from_str(src).unwrap()).unwrap()
    }

    fn val(src: &str) -> Value {
        Expression::from_str(src).unwrap().evaluate(&Context::new()).unwrap()
    }

    #[test]
    fn values_convert_as_terraform_converts_them() {
        let cases: &[(&str, &str, &str)] = &[
            // Numbers and bools to strings; the number's own text.
            ("string", "2.50", r#""2.5""#),
            ("string", "3", r#""3""#),
            ("string", "true", r#""true""#),
            (r#""string""#, "false", r#""false""#),
            ("string", r#""2.50""#, r#""2.50""#),
            // Strings holding numbers and bools.
            ("number", r#""2.50""#, "2.5"),
            ("number", r#""3""#, "3"),
            ("number", r#""-1e3""#, "-1000"),
            ("bool", r#""true""#, "true"),
            ("bool", r#""false""#, "false"),
            ("bool", r#""1""#, "true"),
            ("bool", r#""0""#, "false"),
            ("list(bool)", r#"["1", "0", true]"#, "[true,false,true]"),
            ("number", "null", "null"),
            ("any", "2.50", "2.5"),
            // Collections, element by element.
            ("list(string)", "[1, true, \"x\"]", r#"["1","true","x"]"#),
            ("list(number)", r#"["1", 2]"#, "[1,2]"),
            ("set(string)", r#"["b", "a", "b"]"#, r#"["a","b"]"#),
            ("map(number)", r#"{a = "1", b = 2}"#, r#"{"a":1,"b":2}"#),
            ("list", r#"["a", 1]"#, r#"["a","1"]"#),
            ("map(any)", r#"{a = "x", b = true}"#, r#"{"a":"x","b":"true"}"#),
            ("list(any)", "[1, 2]", "[1,2]"),
            ("tuple([string, number])", r#"[1, "2"]"#, r#"["1",2]"#),
            // Objects: extra attributes dropped, optional ones defaulted.
            (
                "object({name = string, port = optional(number, 80), tls = optional(bool)})",
                r#"{name = "api", extra = 1}"#,
                r#"{"name":"api","port":80,"tls":null}"#,
            ),
            ("map(object({n = number}))", r#"{a = {n = "2"}}"#, r#"{"a":{"n":2}}"#),
        ];
        for (t, v, want) in cases {
            let got = convert(&val(v), &ty(t)).unwrap_or_else(|e| panic!("{t} {v}: {e}"));
            assert_eq!(serde_json::to_string(&got).unwrap(), *want, "{t} {v}");
        }
    }

    #[test]
    fn values_that_do_not_convert_fail_with_terraform_words() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "number",
                r#""no""#,
                r#"cannot convert "no" to number: string must be a decimal representation of a number"#,
            ),
            ("number", r#""0x10""#, "cannot convert \"0x10\" to number"),
            ("number", r#""inf""#, "cannot convert \"inf\" to number"),
            (
                "bool",
                r#""yes""#,
                r#"cannot convert "yes" to bool: only the strings "true" or "false" are allowed"#,
            ),
            ("bool", "1", "cannot convert number to bool"),
            ("string", "[1]", "cannot convert tuple to string"),
            ("number", "true", "cannot convert bool to number"),
            ("list(number)", r#"[1, "x"]"#, "element 1: cannot convert \"x\" to number"),
            ("map(string)", "[1]", "map of string required, got tuple"),
            ("list(string)", "{a = 1}", "list of string required, got object"),
            ("object({name = string})", "{other = 1}", r#"attribute "name" is required"#),
            ("tuple([string])", "[1, 2]", "tuple required of 1 elements, got 2"),
        ];
        for (t, v, want) in cases {
            let err = convert(&val(v), &ty(t)).unwrap_err();
            assert!(err.starts_with(want), "{t} {v}: {err}");
        }
    }

    #[test]
    fn type_expressions_parse() {
        assert_eq!(ty(r#""map""#), Type::Map(Box::new(Type::Any)));
        assert_eq!(ty("list"), Type::List(Box::new(Type::Any)));
        assert_eq!(ty("set(number)"), Type::Set(Box::new(Type::Number)));
        for bad in ["strin", "optional(string)", "list(string, number)", r#""number""#] {
            assert!(parse(&Expression::from_str(bad).unwrap()).is_err(), "{bad}");
        }
    }
}
