//! The functions Helm adds to Sprig: include, tpl, required, fail, toYaml, fromYaml, toJson, fromJson, toToml, lookup and friends.

use std::collections::BTreeMap;

use crate::gotmpl::sprig::json;
use crate::gotmpl::{Funcs, Function, Param, Value};
use crate::value::{Map, Value as Data};

/// How many includes of one template may be in progress when another starts (Helm's `recursionMaxNums`).
const MAX_INCLUDES: usize = 1000;

/// Sprig's functions as Helm exposes them (without `env` and `expandenv`) plus Helm's own.
pub fn helm_funcs() -> Funcs {
    let mut f = crate::gotmpl::sprig::funcs();
    let one = |f: &mut Funcs, name: &str, p: Param, body: fn(&Value) -> Result<Value, String>| {
        f.insert(name, Function::new(move |_, a| body(&a[0])).params(&[p], None));
    };
    // Helm's `toYaml` prints nothing for a value it cannot encode (a map
    // that contains itself); `mustToYaml` fails with the JSON encoder's error.
    one(&mut f, "toYaml", Param::Any, |v| {
        let d = v.to_data().filter(|_| json::marshal_refusal(v).is_none());
        Ok(Value::from(d.map(|d| to_yaml(&json_coerced(d))).unwrap_or_default()))
    });
    one(&mut f, "mustToYaml", Param::Any, |v| {
        let d = v.to_data().ok_or_else(|| json::CYCLE.to_string());
        let d = d
            .and_then(|d| json::marshal_refusal(v).map_or(Ok(d), Err))
            .map_err(|e| format!("error marshaling into JSON: {e}"))?;
        crate::yaml::validate(&d).map_err(|e| e.to_string())?;
        Ok(Value::from(to_yaml(&json_coerced(d))))
    });
    one(&mut f, "toYamlPretty", Param::Any, |v| {
        Ok(Value::from(crate::yaml::helm_to_yaml_pretty(&data(v)?)))
    });
    one(&mut f, "mustToToml", Param::Any, |v| Ok(Value::from(encode_toml(v)??)));
    one(&mut f, "fromToml", Param::String, |v| from_toml(v.as_str().unwrap_or_default()));
    // Helm links a newer Masterminds/semver than Sprig's own release.
    crate::gotmpl::sprig::semver::register_newer(&mut f);
    // `helm template` resolves no host names.
    one(&mut f, "getHostByName", Param::String, |_| Ok(Value::from("")));
    one(&mut f, "fromYaml", Param::String, |v| Ok(from_yaml(v.as_str().unwrap_or_default())));
    one(&mut f, "fromJsonArray", Param::String, |v| {
        Ok(crate::gotmpl::sprig::json::from_json_array(v.as_str().unwrap_or_default()))
    });
    one(&mut f, "fromYamlArray", Param::String, |v| {
        Ok(from_yaml_array(v.as_str().unwrap_or_default()))
    });
    // Helm's `toToml` prints the encoder's error instead of the document.
    one(&mut f, "toToml", Param::Any, |v| Ok(Value::from(encode_toml(v)?.unwrap_or_else(|e| e))));
    f.insert(
        "include",
        Function::new(|call, a| {
            let name = a[0].as_str().unwrap_or_default();
            // Helm counts the includes of each name in progress (`tpl` shares
            // the count) and refuses one more past 1000.
            if call.active(name) > MAX_INCLUDES {
                return Err(format!(
                    "rendering template has a nested reference name: {name}: unable to execute template"
                ));
            }
            call.execute_template(name, a[1].clone()).map(Value::from)
        })
        .params(&[Param::String, Param::Any], None),
    );
    f.insert(
        "tpl",
        Function::new(|call, a| {
            // Helm 4 parses and runs the text as a template named "gotpl";
            // `.Template.Name` still comes from the data.
            let name = "gotpl";
            let text = a[0].as_str().unwrap_or_default();
            let out = call
                .execute_text(name, text, a[1].clone())
                .map_err(|e| tpl_error(name, text, e))?;
            Ok(Value::from(out.replace("<no value>", "")))
        })
        .params(&[Param::String, Param::Any], None),
    );
    f.insert(
        "required",
        Function::new(|_, a| match &a[1] {
            v if v.is_nil() => Err(super::render::warn_wrap(a[0].as_str().unwrap_or_default())),
            Value::String(s) if s.is_empty() => {
                Err(super::render::warn_wrap(a[0].as_str().unwrap_or_default()))
            }
            v => Ok(v.clone()),
        })
        .params(&[Param::String, Param::Any], None),
    );
    f.insert(
        "fail",
        Function::new(|_, a| Err(super::render::warn_wrap(a[0].as_str().unwrap_or_default())))
            .params(&[Param::String], None),
    );
    f.insert(
        "lookup",
        Function::new(|_, _| Ok(Value::map(BTreeMap::new())))
            .params(&[Param::String, Param::String, Param::String, Param::String], None),
    );
    f
}

/// Helm 4's words for a text that `tpl` cannot parse: the text is parsed as
/// a template named `gotpl`. Execution errors pass unchanged.
fn tpl_error(name: &str, text: &str, e: String) -> String {
    if e.len() > crate::gotmpl::MAX_ERROR_CHAIN {
        return e;
    }
    let parse = e.strip_prefix(&format!("template: {name}:")).and_then(|rest| {
        let (line, message) = rest.split_once(": ")?;
        line.bytes().all(|b| b.is_ascii_digit()).then_some((line, message))
    });
    let quoted = crate::gotmpl::fmt::quote(text);
    match parse {
        Some((line, message)) => {
            format!("cannot parse template {quoted}: template: gotpl:{line}: {message}")
        }
        // `fail` and `required` messages pass through unwrapped.
        None if e.contains(super::render::WARN_START) => e,
        None => format!("error during tpl function execution for {quoted}: {e}"),
    }
}

/// Helm's `fromToml`: a map, or a map with an `Error` key; a panic of
/// the decoder fails the call.
fn from_toml(text: &str) -> Result<Value, String> {
    match super::toml::decode(text) {
        Ok(v) => Ok(v),
        Err(super::toml::Failure::Parse(message)) => Ok(error_map(message)),
        Err(super::toml::Failure::Panic(message)) => Err(message),
    }
}

/// The most levels of collections Go's JSON reader nests, which
/// sigs.k8s.io/yaml's conversion of a document to JSON meets.
const JSON_MAX_DEPTH: usize = 10_000;

/// The error `sigs.k8s.io/yaml` reports for a document JSON cannot hold:
/// collections nested deeper than Go's JSON reader allows, or an infinite
/// or NaN float.
pub(super) fn json_unsupported(d: &Data) -> Option<String> {
    if d.deeper_than(JSON_MAX_DEPTH) {
        return Some("error converting YAML to JSON: exceeded max depth".to_string());
    }
    unsupported_float(d)
}

/// The error for the first infinite or NaN float of `d`, in JSON's order.
fn unsupported_float(d: &Data) -> Option<String> {
    match d {
        Data::Float(f) if !f.is_finite() => Some(format!(
            "error converting YAML to JSON: {}",
            crate::gotmpl::sprig::json::unsupported_float(*f)
        )),
        Data::Seq(items) => crate::stack::grow(|| items.iter().find_map(unsupported_float)),
        // JSON writes a map's keys in order.
        Data::Map(m) => crate::stack::grow(|| {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            keys.into_iter().find_map(|k| m.get(k).and_then(unsupported_float))
        }),
        _ => None,
    }
}

/// Helm's `fromYaml`: a map, or a map with an `Error` key.
fn from_yaml(text: &str) -> Value {
    match first_document(text, "fromYaml") {
        Ok(docs) => match docs.into_iter().next() {
            Some(d) if let Some(e) = json_unsupported(&d) => error_map(e),
            Some(mut d @ Data::Map(_)) => {
                d.ints_to_floats();
                Value::from(&d)
            }
            None | Some(Data::Null) => Value::map(BTreeMap::new()),
            Some(other) => error_map(format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(&other)
            )),
        },
        Err(e) => error_map(format!("error converting YAML to JSON: {}", go_yaml_error(&e))),
    }
}

/// The first document of `text` as `sigs.k8s.io/yaml` reads it: yaml.v2
/// decodes the first document only, so what follows it does not count. A
/// template's string may carry bytes that are not UTF-8.
fn first_document(text: &str, file: &str) -> Result<Vec<Data>, crate::yaml::ParseError> {
    Ok(crate::yaml::parse_go_first_document_helm(text, file)?.into_iter().collect())
}

fn from_yaml_array(text: &str) -> Value {
    match first_document(text, "fromYamlArray") {
        Ok(docs) => match docs.into_iter().next() {
            Some(d) if let Some(e) = json_unsupported(&d) => Value::list(vec![Value::from(e)]),
            Some(mut d @ Data::Seq(_)) => {
                d.ints_to_floats();
                Value::from(&d)
            }
            None | Some(Data::Null) => Value::list(Vec::new()),
            Some(other) => Value::list(vec![Value::from(format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
                json_kind(&other)
            ))]),
        },
        Err(e) => Value::list(vec![Value::from(format!(
            "error converting YAML to JSON: {}",
            go_yaml_error(&e)
        ))]),
    }
}

/// A parse error as Go's yaml package words it: `yaml: line N: problem`.
pub(super) fn go_yaml_error(e: &crate::yaml::ParseError) -> String {
    e.go_message()
}

/// The JSON kind of a value, as Go's type errors name it.
pub(super) fn json_kind(v: &Data) -> &'static str {
    match v {
        Data::Null => "null",
        Data::Bool(_) => "bool",
        Data::Int(_) | Data::Uint(_) | Data::Float(_) => "number",
        Data::String(_) => "string",
        Data::Seq(_) => "array",
        Data::Map(_) => "object",
    }
}

fn error_map(message: String) -> Value {
    let mut m = BTreeMap::new();
    m.insert("Error".to_string(), Value::from(message));
    Value::map(m)
}

/// `v` as BurntSushi/toml encodes it: the document or the encoder's error;
/// nil makes the encoder panic, which the call of `toToml` or `mustToToml`
/// reports (the outer error).
fn encode_toml(v: &Value) -> Result<Result<String, String>, String> {
    let d = v
        .to_data_toml()
        .ok_or_else(|| "value contains itself or is too large to encode".to_string())?;
    match d {
        Data::Null => Err("reflect: call of reflect.Value.Type on zero Value".to_string()),
        d => Ok(to_toml(&d, toml_times(v).as_ref())),
    }
}

/// BurntSushi/toml's encoding of a map: plain keys first, then tables (each
/// indented two spaces per level, top-level ones after a blank line), arrays of
/// maps as `[[table]]` arrays, other arrays inline.
/// A value that is neither a map nor an array of maps is written inline,
/// without a newline. A nil element in an array is BurntSushi/toml's error
/// (nil map values are left out instead).
/// `times` marks where the value held a `time.Time` (see [`toml_times`]).
fn to_toml(v: &Data, times: Option<&Times>) -> Result<String, String> {
    if toml_nil_element(v) {
        return Err("toml: cannot encode array with nil element".to_string());
    }
    if matches!(v, Data::Seq(_)) && toml_is_table(v) {
        return Err("toml: top-level values must be Go maps or structs".to_string());
    }
    let Data::Map(m) = v else { return Ok(toml_value(v, times)) };
    let mut out = String::new();
    toml_table(&mut out, m, &[], times);
    Ok(out)
}

/// Where a template value holds a `time.Time`, which BurntSushi/toml writes
/// as a bare RFC 3339 datetime (`t = 2020-01-01T00:00:00Z`) where the plain
/// data has the quoted string its JSON form is: the same shape as that data,
/// present only along the paths that reach a time.
enum Times {
    Here,
    Map(BTreeMap<String, Times>),
    /// A Go struct: the encoder writes its fields in declaration order
    /// (a map's keys it sorts); the marks of its fields and each exported
    /// field's index among all the struct's fields.
    Struct(BTreeMap<String, Times>, BTreeMap<String, usize>),
    Seq(Vec<Option<Times>>),
}

fn toml_times(v: &Value) -> Option<Times> {
    match v {
        Value::Struct(st) if st.type_name == "time.Time" => Some(Times::Here),
        Value::Struct(st) if st.json_string().is_some() => None,
        Value::Struct(st) => match st.underlying() {
            Some(u) => toml_times(&u),
            None => Some(Times::Struct(
                st.fields.iter().filter_map(|(k, v)| Some((k.clone(), toml_times(v)?))).collect(),
                st.fields.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect(),
            )),
        },
        Value::Map(m) => {
            let found: BTreeMap<String, Times> =
                m.entries().into_iter().filter_map(|(k, v)| Some((k, toml_times(&v)?))).collect();
            (!found.is_empty()).then_some(Times::Map(found))
        }
        Value::List(l) if !l.is_nil() && l.as_bytes().is_none() => {
            let items: Vec<Option<Times>> = l.iter().map(toml_times).collect();
            items.iter().any(Option::is_some).then_some(Times::Seq(items))
        }
        _ => None,
    }
}

/// The marks under `key` of a map's marks.
fn times_at<'a>(times: Option<&'a Times>, key: &str) -> Option<&'a Times> {
    match times {
        Some(Times::Map(m) | Times::Struct(m, _)) => m.get(key),
        _ => None,
    }
}

/// The marks of item `i` of a list's marks.
fn times_item(times: Option<&Times>, i: usize) -> Option<&Times> {
    match times {
        Some(Times::Seq(items)) => items.get(i).and_then(Option::as_ref),
        _ => None,
    }
}

/// Whether an array inside `v` (where the encoder writes it) holds a nil.
fn toml_nil_element(v: &Data) -> bool {
    match v {
        Data::Map(m) => m.values().any(toml_nil_element),
        Data::Seq(items) => items.iter().any(|i| i.is_null() || toml_nil_element(i)),
        _ => false,
    }
}

/// Whether a value is written as a table or an array of tables.
fn toml_is_table(v: &Data) -> bool {
    match v {
        Data::Map(_) => true,
        Data::Seq(items) => !items.is_empty() && items.iter().all(|i| matches!(i, Data::Map(_))),
        _ => false,
    }
}

fn toml_newline(out: &mut String) {
    if !out.is_empty() {
        out.push('\n');
    }
}

/// The keys of a map in the order the encoder writes them: a struct's
/// fields as declared, a map's keys sorted.
fn toml_keys<'a>(m: &'a Map, times: Option<&Times>) -> Vec<&'a String> {
    let mut keys: Vec<&String> = m.keys().collect();
    if !matches!(times, Some(Times::Struct(..))) {
        keys.sort();
    }
    keys
}

fn toml_table(out: &mut String, m: &Map, path: &[String], times: Option<&Times>) {
    let keys = toml_keys(m, times);
    let indent = "  ".repeat(path.len());
    for k in &keys {
        let v = &m[*k];
        if v.is_null() || toml_is_table(v) {
            continue;
        }
        let value = toml_value(v, times_at(times, k));
        out.push_str(&format!("{indent}{} = {value}\n", toml_key(k)));
    }
    for k in &keys {
        let mut full: Vec<String> = path.to_vec();
        full.push(toml_key(k));
        let header = full.join(".");
        let head_indent = "  ".repeat(full.len() - 1);
        match &m[*k] {
            Data::Map(sub) => {
                if full.len() == 1 {
                    toml_newline(out);
                }
                out.push_str(&format!("{head_indent}[{header}]\n"));
                toml_table(out, sub, &full, times_at(times, k));
            }
            Data::Seq(items) if toml_is_table(&m[*k]) => {
                for (i, item) in items.iter().enumerate() {
                    if let Data::Map(sub) = item {
                        toml_newline(out);
                        out.push_str(&format!("{head_indent}[[{header}]]\n"));
                        toml_table(out, sub, &full, times_item(times_at(times, k), i));
                    }
                }
            }
            _ => {}
        }
    }
}

/// A float as BurntSushi/toml writes it: Go's shortest `%g` digits (an
/// exponent from 1e+06 up and below 1e-04), with `.0` added when that has
/// neither a point nor an exponent; `nan`, `inf` and `-inf` for the others.
fn toml_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let text = crate::yaml::go_format_float_g(f);
    if text.contains(['.', 'e']) { text } else { text + ".0" }
}

fn toml_key(k: &str) -> String {
    if !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        k.to_string()
    } else {
        super::toml::quote(k)
    }
}

fn toml_value(v: &Data, times: Option<&Times>) -> String {
    match v {
        Data::Null => String::new(),
        Data::Bool(b) => b.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Uint(u) => u.to_string(),
        Data::Float(f) => toml_float(*f),
        Data::String(s) if matches!(times, Some(Times::Here)) => s.clone(),
        Data::String(s) => super::toml::quote(s),
        Data::Seq(items) => {
            let items: Vec<String> = items
                .iter()
                .enumerate()
                .map(|(i, item)| toml_value(item, times_item(times, i)))
                .collect();
            format!("[{}]", items.join(", "))
        }
        Data::Map(m) => {
            // An inline table: keys that are not tables, then tables, each
            // group sorted (a struct's fields in declaration order). The
            // encoder skips a null value but writes ", " after an entry
            // unless it is the group's last key, null or not; a map's
            // non-table group also before its tables. A struct's field is
            // last when its index among all the struct's fields is the
            // group's length less one, so a struct with unexported fields
            // gets a separator too many or too few.
            let keys = toml_keys(m, times);
            let (direct, tables): (Vec<&String>, Vec<&String>) =
                keys.into_iter().partition(|k| !toml_is_table(&m[*k]));
            let before_tables = !tables.is_empty();
            let mut out = String::from("{");
            for (group, trail) in [(direct, before_tables), (tables, false)] {
                for (i, k) in group.iter().enumerate() {
                    if m[*k].is_null() {
                        continue;
                    }
                    out.push_str(&format!(
                        "{} = {}",
                        toml_key(k),
                        toml_value(&m[*k], times_at(times, k))
                    ));
                    let last = match times {
                        Some(Times::Struct(_, index)) => index.get(*k) == Some(&(group.len() - 1)),
                        _ => !trail && i + 1 == group.len(),
                    };
                    if !last {
                        out.push_str(", ");
                    }
                }
            }
            out.push('}');
            out
        }
    }
}

/// A template value as plain data; a value that contains itself (or is too
/// large to walk) cannot be encoded, as Go's encoders refuse cycles.
/// Helm's `toYaml` text of plain data, as a Go string (a character of the
/// carriers' range carried, should the emitter write one as it is).
fn to_yaml(d: &Data) -> String {
    let out = crate::yaml::helm_to_yaml(d);
    crate::gotmpl::sprig::carried_text(&out).unwrap_or(out)
}

/// A value as `sigs.k8s.io/yaml` sees it after its JSON round trip: the
/// bytes strings carry that are not UTF-8 are U+FFFD, so every carried
/// character (see [`crate::gotmpl::sprig::from_go_bytes`]) is itself again
/// for the YAML emitter.
fn json_coerced(d: Data) -> Data {
    use crate::gotmpl::sprig::plain_text as json_text;
    match d {
        Data::String(s) => Data::String(json_text(&s).into_owned()),
        Data::Seq(items) => Data::Seq(items.into_iter().map(json_coerced).collect()),
        Data::Map(m) => Data::Map(
            m.into_iter().map(|(k, v)| (json_text(&k).into_owned(), json_coerced(v))).collect(),
        ),
        other => other,
    }
}

fn data(v: &Value) -> Result<crate::value::Value, String> {
    v.to_data().ok_or_else(|| "value contains itself or is too large to encode".to_string())
}
