//! The `.Files` object of Helm templates: Get, GetBytes, Glob, Lines, AsConfig, AsSecrets.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::gotmpl::sprig::regex::compile_native;
use crate::gotmpl::{Function, LazyMap, List, MapRef, MapType, Param, Struct, Value};

/// Translates a gobwas-style glob (as `.Files.Glob` uses) to an anchored
/// regex: `*` and `?` stay inside one path segment, `**` crosses segments,
/// `{a,b}` is an alternative and `[...]` a class.
pub fn glob_regex(pattern: &str) -> String {
    let mut re = String::from("^");
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    let mut in_alt = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                re.push_str(".*");
                i += 1;
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '{' => {
                in_alt += 1;
                re.push_str("(?:");
            }
            '}' if in_alt > 0 => {
                in_alt -= 1;
                re.push(')');
            }
            ',' if in_alt > 0 => re.push('|'),
            '[' => match class_at(&chars, i) {
                Some((class, close)) => {
                    re.push_str(&class);
                    i = close;
                }
                None => re.push_str("\\["),
            },
            '\\' if i + 1 < chars.len() => {
                i += 1;
                re.push_str(&regex::escape(&chars[i].to_string()));
            }
            _ => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    re.push('$');
    re
}

/// Whether gobwas/glob compiles `pattern`: every `[` class one it reads
/// (see [`class_at`]), every `{` closed, no trailing `\`.
fn gobwas_compiles(pattern: &str) -> bool {
    let chars: Vec<char> = pattern.chars().collect();
    let (mut i, mut alternatives) = (0, 0usize);
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 == chars.len() => return false,
            '\\' => i += 1,
            '{' => alternatives += 1,
            '}' => alternatives = alternatives.saturating_sub(1),
            '[' => match class_at(&chars, i) {
                Some((_, close)) => i = close,
                None => return false,
            },
            _ => {}
        }
        i += 1;
    }
    alternatives == 0
}

/// The class that starts at `chars[open]` (a `[`) as gobwas/glob's lexer
/// reads it, as a regex class, with the index of its closing `]`; `None`
/// where gobwas refuses it. A class is either one range `lo-hi` (any `lo`,
/// `]` included, and `hi` not below it) or a list of characters up to the
/// first unescaped `]`, in which `-` is itself and `\` escapes; a leading
/// `!` negates either. An empty list is refused.
fn class_at(chars: &[char], open: usize) -> Option<(String, usize)> {
    let one = |c: char| {
        let mut s = String::new();
        if matches!(c, '\\' | '[' | ']' | '^' | '-' | '&' | '~') {
            s.push('\\');
        }
        s.push(c);
        s
    };
    let mut j = open + 1;
    let negated = chars.get(j) == Some(&'!');
    if negated {
        j += 1;
    }
    let mut class = String::from(if negated { "[^" } else { "[" });
    let first = *chars.get(j)?;
    if chars.get(j + 1) == Some(&'-') {
        let hi = *chars.get(j + 2)?;
        if chars.get(j + 3) != Some(&']') || hi < first {
            return None;
        }
        class.push_str(&format!("{}-{}]", one(first), one(hi)));
        return Some((class, j + 3));
    }
    let mut listed = 0;
    while j < chars.len() && chars[j] != ']' {
        if chars[j] == '\\' {
            j += 1;
        }
        class.push_str(&one(*chars.get(j)?));
        listed += 1;
        j += 1;
    }
    if j == chars.len() || listed == 0 {
        return None;
    }
    class.push(']');
    Some((class, j))
}

/// A `.Files` value over `files` (path, bytes), with Helm's methods.
pub fn files_value(files: Arc<Vec<(String, Vec<u8>)>>) -> Value {
    let mut methods = BTreeMap::new();
    let f = files.clone();
    methods.insert(
        "Get".to_string(),
        Function::new(move |_, a| {
            Ok(Value::from(
                get(&f, a[0].as_str().unwrap_or_default())
                    .map(crate::gotmpl::sprig::from_go_bytes)
                    .unwrap_or_default(),
            ))
        })
        .params(&[Param::String], None),
    );
    let f = files.clone();
    methods.insert(
        "GetBytes".to_string(),
        Function::new(move |_, a| {
            let bytes = get(&f, a[0].as_str().unwrap_or_default()).unwrap_or_default();
            Ok(Value::List(List::bytes(bytes)))
        })
        .params(&[Param::String], None),
    );
    let f = files.clone();
    methods.insert(
        "Glob".to_string(),
        Function::new(move |_, a| {
            let pattern = a[0].as_str().unwrap_or_default();
            // Helm matches every file when gobwas/glob refuses the pattern.
            let pattern = if gobwas_compiles(pattern) { pattern } else { "**" };
            let re = compile_native(&glob_regex(pattern))
                .map_err(|e| format!("syntax error in pattern: {e}"))?;
            let picked: Vec<(String, Vec<u8>)> =
                f.iter().filter(|(p, _)| re.is_match(p)).cloned().collect();
            Ok(files_value(Arc::new(picked)))
        })
        .params(&[Param::String], None),
    );
    let f = files.clone();
    methods.insert(
        "Lines".to_string(),
        Function::new(move |_, a| {
            // An empty file has no lines in Helm, as a missing one.
            let Some(bytes) = get(&f, a[0].as_str().unwrap_or_default()).filter(|b| !b.is_empty())
            else {
                return Ok(Value::string_list(Vec::<String>::new()));
            };
            let mut s = String::from_utf8_lossy(bytes).into_owned();
            if s.ends_with('\n') {
                s.pop();
            }
            Ok(Value::string_list(s.split('\n')))
        })
        .params(&[Param::String], None),
    );
    let f = files.clone();
    methods.insert(
        "AsConfig".to_string(),
        Function::new(move |_, _| Ok(Value::from(as_map(&f, crate::gotmpl::sprig::go_lossy))))
            .params(&[], None),
    );
    let f = files.clone();
    methods.insert(
        "AsSecrets".to_string(),
        Function::new(move |_, _| Ok(Value::from(as_map(&f, base64)))).params(&[], None),
    );
    Value::Struct(Arc::new(Struct {
        type_name: "engine.files".into(),
        methods,
        // Helm 4's engine.files is a map[string][]byte: range, len and index
        // see the files; a missing name yields the element type's zero, an
        // empty []byte.
        // Built on first use: most charts never range over .Files, and one
        // []byte element per byte of every file is costly.
        native: Some(Arc::new(LazyMap::new(move || {
            MapRef::new(
                files.iter().map(|(p, b)| (p.clone(), Value::List(List::bytes(b)))).collect(),
            )
            .with_type(Arc::new(MapType {
                name: "engine.files".into(),
                methods: BTreeMap::new(),
                convertible: false,
                is_nil: false,
                elem_zero: Value::List(List::bytes(&[])),
            }))
        }))),
        ..Struct::default()
    }))
}

fn get<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    files.iter().find(|(p, _)| p == name).map(|(_, b)| b.as_slice())
}

/// The files as a YAML map from base name to `conv(bytes)`, as Helm's toYAML prints it.
fn as_map(files: &[(String, Vec<u8>)], conv: impl Fn(&[u8]) -> String) -> String {
    // No files print as the empty map `{}`, as Helm 4 prints them.
    let mut m = crate::value::Map::new();
    for (p, b) in files {
        let base = p.rsplit('/').next().unwrap_or(p);
        m.insert(base.to_string(), crate::Value::String(conv(b)));
    }
    m.sort_keys();
    crate::yaml::helm_to_yaml(&crate::Value::Map(m))
}

/// Standard padded base64.
pub fn base64(bytes: &[u8]) -> String {
    crate::gotmpl::sprig::base64_encode(bytes)
}
