//! The Sprig function library (Masterminds/sprig v3, as Helm exposes it) as an optional function set.
//!
//! [`funcs`] returns the functions to add to a [`Funcs`] registry. Each group
//! lives in its own module; the conversions every group shares (Sprig's
//! `strval`, `cast.ToInt64`, `cast.ToFloat64`, `strslice`, `empty`) are here.
//! Where Sprig panics, the function returns an error, which Go's template
//! package also reports as `error calling NAME: ...`.

mod asn1;
mod certs;
mod crypto;
mod date;
pub(crate) use date::go_date_syntax;
pub(crate) use date::{check_time, civil_nanos, time_json, time_marshal_error, zoned_time};
pub use encoding::{
    GoRune, carried_text, from_go_bytes, go_bytes, go_chars, go_lossy, go_runes, has_broken_utf8,
    is_raw_byte, json_text, plain_text, push_char, raw_byte, rejoin_bytes, with_real_chars_apart,
};
pub(crate) use strings::is_go_space;
mod defaults;
mod dicts;
mod dsa;
mod durations;
pub(crate) mod encoding;
mod floatmath;
mod gotime;
pub(crate) mod json;
pub(crate) mod json_decode;
mod keys;
mod lists;
mod math;
pub(crate) mod path;
mod random;
pub(crate) mod regex;
mod rsa_key;
pub(crate) mod semver;
mod strings;
mod url;
mod wordcase;
mod x509_check;

use super::fmt::display;
use super::{Elem, Funcs, Function, List, Param, Value};

/// Go's `encoding/json` syntax error for `text` in the words of Go 1.23's
/// JSON v1 engine (kustomize's), None when it is JSON.
pub(crate) fn go_json_syntax_error(text: &str) -> Option<String> {
    json_decode::go_v1_syntax_error(text)
}

/// All Sprig functions implemented here.
pub fn funcs() -> Funcs {
    let mut f = Funcs::new();
    strings::register(&mut f);
    crypto::register(&mut f);
    certs::register(&mut f);
    wordcase::register(&mut f);
    url::register(&mut f);
    defaults::register(&mut f);
    date::register(&mut f);
    durations::register(&mut f);
    lists::register(&mut f);
    dicts::register(&mut f);
    math::register(&mut f);
    path::register(&mut f);
    random::register(&mut f);
    encoding::register(&mut f);
    floatmath::register(&mut f);
    json::register(&mut f);
    regex::register(&mut f);
    semver::register(&mut f);
    // Sprig's deprecated snake-case names and its `os*` paths, which on a
    // slash-separated system are the plain path functions.
    for (alias, name) in [
        ("date_in_zone", "dateInZone"),
        ("date_modify", "dateModify"),
        ("must_date_modify", "mustDateModify"),
        ("trimall", "trimAll"),
        ("osBase", "base"),
        ("osClean", "clean"),
        ("osDir", "dir"),
        ("osExt", "ext"),
        ("osIsAbs", "isAbs"),
    ] {
        if let Some(func) = f.get(name).cloned() {
            f.insert(alias, func);
        }
    }
    f
}

/// Standard padded base64, as Go's `base64.StdEncoding` writes it.
pub fn base64_encode(bytes: &[u8]) -> String {
    encoding::base64_encode(bytes)
}

/// Registers a function of typed parameters whose body needs only the arguments.
fn def(
    f: &mut Funcs,
    name: &str,
    params: &[Param],
    variadic: Option<Param>,
    body: impl Fn(&[Value]) -> Result<Value, String> + Send + Sync + 'static,
) {
    f.insert(name, Function::new(move |_, args| body(args)).params(params, variadic));
}

/// Sprig's `strval`: strings as they are, anything else as `%v` prints it.
fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Missing | Value::Nil => "<nil>".to_string(),
        Value::Struct(st) if st.string.is_some() && !st.pointer_string => {
            st.string.clone().unwrap_or_default()
        }
        Value::Named(n) => n.string(),
        // A `[]byte` is its text.
        Value::List(l) if let Some(b) = l.as_bytes() => from_go_bytes(&b),
        other => display(other),
    }
}

/// The string of a `string` parameter (the executor has checked the type).
fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// The integer of an `int` parameter (the executor has checked the type).
fn i(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        _ => 0,
    }
}

/// `cast.ToInt64`: numbers truncated, numeric strings parsed (Go base
/// prefixes allowed, a decimal fraction cut off), bools 0/1, else 0.
fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Uint64(u) => *u as i64,
        Value::Uint8(u) => i64::from(*u),
        // Helm 4's cast converts any integer kind (`time.Duration` too).
        Value::Named(n) => n.value,
        Value::Float(f) => float_to_int64(*f),
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => super::strconv::parse_int(trim_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

/// `cast.ToFloat64`: strings parsed as Go's `strconv.ParseFloat` parses
/// them, 0 where it fails (out of range included).
fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i as f64,
        Value::Uint64(u) => *u as f64,
        Value::Uint8(u) => f64::from(*u),
        Value::Named(n) => n.value as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => super::strconv::parse_float(s).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Go's `int64(f)` on amd64: truncation, and the "integer indefinite" value
/// `math.MinInt64` for NaN and values out of range (Rust's `as` saturates).
fn float_to_int64(f: f64) -> i64 {
    // 2^63 is exactly representable; every float below it and at or above -2^63 fits.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() || !(-TWO_63..TWO_63).contains(&f) { i64::MIN } else { f as i64 }
}

/// cast's `trimDecimal`: `"12.75"` is `"12"`, when the part before the dot
/// is an optionally signed run of digits and the part after only digits.
fn trim_decimal(s: &str) -> &str {
    match s.split_once('.') {
        Some((int, frac))
            if int.strip_prefix(['+', '-']).unwrap_or(int).bytes().all(|b| b.is_ascii_digit())
                && !int.strip_prefix(['+', '-']).unwrap_or(int).is_empty()
                && frac.bytes().all(|b| b.is_ascii_digit()) =>
        {
            int
        }
        _ => s,
    }
}

/// Go's `strconv.Atoi` as Sprig's `atoi` uses it: an optionally signed
/// decimal, clamped to int64 when too large, 0 when not a number.
fn atoi(s: &str) -> i64 {
    use crate::gotmpl::strconv::AtoiError;
    match crate::gotmpl::strconv::atoi(s) {
        Ok(n) => n,
        Err(AtoiError::Range) if s.starts_with('-') => i64::MIN,
        Err(AtoiError::Range) => i64::MAX,
        Err(AtoiError::Syntax) => 0,
    }
}

/// Go's `unicode.ToUpper`: the simple, one-rune case mapping, so a rune
/// whose upper case is several runes (`ß`, ligatures) stays as it is.
fn go_upper(c: char) -> char {
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Go's `unicode.ToTitle`: as [`go_upper`], except that the four Latin
/// digraphs have a title case of their own (`ǆ` is `ǅ`).
fn go_title(c: char) -> char {
    match c {
        '\u{1C4}'..='\u{1C6}' => '\u{1C5}',
        '\u{1C7}'..='\u{1C9}' => '\u{1C8}',
        '\u{1CA}'..='\u{1CC}' => '\u{1CB}',
        '\u{1F1}'..='\u{1F3}' => '\u{1F2}',
        c => go_upper(c),
    }
}

/// Whether `c` is one of the Latin title-case digraphs (`ǅ`), which Go's
/// `unicode.IsTitle` reports and goutils' `SwapCase` lower-cases.
fn is_title_digraph(c: char) -> bool {
    matches!(c, '\u{1C5}' | '\u{1C8}' | '\u{1CB}' | '\u{1F2}')
}

/// Go's `unicode.ToLower`: the simple case mapping (`İ` is `i`, and a final
/// sigma is `σ` like any other).
fn go_lower(c: char) -> char {
    if c == '\u{130}' {
        return 'i';
    }
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Sprig's `strslice`: the strings of a list (nils dropped), or the value as a one-string list.
fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::Nil | Value::Missing => Vec::new(),
        other => match list_of(other, "") {
            Ok(l) => l.iter().filter(|v| !v.is_nil()).map(strval).collect(),
            Err(_) => vec![strval(other)],
        },
    }
}

/// Sprig's `strslice` as a `[]string` value, `sorted` when `sortAlpha`
/// sorts it. A list's strings go into a slice made with the list's length as
/// capacity, so the nils it drops leave empty strings past the length.
fn strslice_list(v: &Value, sorted: bool) -> Value {
    let mut items = strslice(v);
    if sorted {
        items.sort();
    }
    let cap = match v {
        Value::List(l) => l.len(),
        Value::Struct(st) => st.as_list().map_or(items.len(), |l| l.len()),
        _ => items.len(),
    };
    let items = items.into_iter().map(Value::from).collect();
    Value::List(List::with_cap(Elem::String, items, cap))
}

/// Sprig's `empty`: nil, false, zero and empty collections are empty; structs never are.
fn is_empty(v: &Value) -> bool {
    !matches!(v, Value::Struct(_)) && !v.is_true()
}

/// A list from a value that must be a slice, or Sprig's error naming `what`.
fn list_of<'a>(v: &'a Value, what: &str) -> Result<&'a [Value], String> {
    match v {
        Value::List(l) => Ok(l),
        // A slice type with methods (Helm's `common.VersionSet`).
        Value::Struct(st) if let Some(l) = st.as_list() => Ok(l),
        Value::Nil | Value::Missing => Err(NIL_KIND.to_string()),
        other => Err(format!("Cannot {what} on type {}", kind_for_error(other))),
    }
}

/// What Go says when Sprig asks a nil interface for its kind (`reflect.TypeOf(nil).Kind()`).
const NIL_KIND: &str = "runtime error: invalid memory address or nil pointer dereference";

/// The kind Sprig names in its errors (`reflect.Kind` of the value).
fn kind_for_error(v: &Value) -> &'static str {
    v.kind_name()
}

/// Go's `reflect.DeepEqual` on template values: types must match too.
/// Values that contain themselves compare equal only to themselves.
fn deep_equal(a: &Value, b: &Value) -> bool {
    use super::value::{MAX_NESTING, MAX_NODES};
    if !a.is_bounded(MAX_NODES, MAX_NESTING) || !b.is_bounded(MAX_NODES, MAX_NESTING) {
        return matches!((a, b), (Value::Map(x), Value::Map(y)) if x.same(y));
    }
    deep_equal_bounded(a, b)
}

fn deep_equal_bounded(a: &Value, b: &Value) -> bool {
    let deep_equal = deep_equal_bounded;
    match (a, b) {
        (Value::Missing | Value::Nil, Value::Missing | Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) | (Value::Int64(x), Value::Int64(y)) => x == y,
        (Value::Uint64(x), Value::Uint64(y)) => x == y,
        (Value::Uint8(x), Value::Uint8(y)) => x == y,
        (Value::Named(x), Value::Named(y)) => x.is(y.ty) && x.value == y.value,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Complex(a, b), Value::Complex(c, d)) => a == c && b == d,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.elem() == y.elem()
                && x.is_nil() == y.is_nil()
                && x.len() == y.len()
                && x.iter().zip(y.iter()).all(|(p, q)| deep_equal(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            if x.same(y) {
                return true;
            }
            // Maps of different Go types (`map[string]string`) never equal.
            if x.map_type().map(|t| &t.name) != y.map_type().map(|t| &t.name) {
                return false;
            }
            let (x, y) = (x.entries(), y.entries());
            x.len() == y.len()
                && x.iter().zip(y.iter()).all(|((k1, v1), (k2, v2))| k1 == k2 && deep_equal(v1, v2))
        }
        (Value::Struct(x), Value::Struct(y)) => std::sync::Arc::ptr_eq(x, y),
        _ => false,
    }
}

/// Strings as a `[]string` value.
fn str_list(items: Vec<String>) -> Value {
    Value::string_list(items)
}
