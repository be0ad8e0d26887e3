//! Helm's strvals syntax of `--set`, `--set-string`, `--set-json`, `--set-file` and `--set-literal` (`a.b[0]=x,c={1,2}`), read as Helm reads it.
//!
//! The rules follow Helm's documented behaviour and its parser tests:
//! `key=value` pairs separated by commas; `.` nests maps and `[i]` indexes
//! lists (created as needed, gaps filled with null, at most index 65536,
//! never negative, maps at most 30 levels deep); `\` takes the next
//! character literally in keys and values; `{a,b}` is a list value; an empty
//! value is `""` (for `--set-json`, null); a key without `=` at the end of a
//! list index (`a[0]`) sets nothing more, elsewhere it is an error; a key
//! that is empty is skipped. `--set-json` reads one JSON value after each
//! `=` as Go's `json.Decoder` does (it ends where the value's syntax ends,
//! `truex` is `true` followed by more input) and then an optional comma.
//! `--set-file` reads each value (also each item of `{a,b}`) as a file
//! name. `--set-literal` has one key, no escapes, and the rest of the text
//! after `=` is its value. Setting index `i` of a list makes it at least
//! `i + 1` long (null-filled) and leaves a longer one's length. A path
//! through a value of another type fails as Go's failed type assertion does.

use crate::value::{Map, Value};

/// Helm's `MaxIndex`.
const MAX_INDEX: i64 = 65536;

/// Helm's `MaxNestedNameLevel`.
const MAX_NESTING: usize = 30;

/// The most list indexes in a row (`a[0][0]...`). Helm sets no bound and
/// recurses until Go's stack limit kills the process; kiln stops with an
/// error well before its own stack would run out.
const MAX_INDEX_NESTING: usize = 100;

/// How values are read.
pub(super) enum Reader<'a> {
    /// Each value text through this function (`--set`, `--set-string`, `--set-file`).
    Text(&'a dyn Fn(&str) -> Result<Value, String>),
    /// JSON values (`--set-json`).
    Json,
    /// The rest of the text as a string, no escapes, no commas (`--set-literal`).
    Literal,
}

/// Why reading stopped: the end of the input (not an error), or an error.
enum Halt {
    End,
    Fail(String),
}

type Step<T = ()> = Result<T, Halt>;

/// Parses `text` into `values`, or fails with Helm's message.
///
/// `exact` holds the paths (keys and indexes from the top) of the lists
/// whose Go capacity is their length: strvals' `setIndex` grows a list by
/// making a new one of exactly `i + 1` items, where lists decoded from
/// YAML or JSON have the capacity `append` gave them. Lists this text
/// grows are added; paths whose value it replaces are dropped.
pub(super) fn parse_into(
    values: &mut Map,
    text: &str,
    reader: Reader<'_>,
    exact: &mut Vec<Vec<String>>,
) -> Result<(), String> {
    let mut p = Parser { chars: text.chars().collect(), at: 0, reader, path: Vec::new(), exact };
    loop {
        match p.key(values, 0) {
            Ok(()) => {}
            Err(Halt::End) => return Ok(()),
            Err(Halt::Fail(message)) => return Err(message),
        }
    }
}

/// Drops the marks at and below `path` (its value was replaced).
pub(super) fn forget(exact: &mut Vec<Vec<String>>, path: &[String]) {
    exact.retain(|m| !m.starts_with(path));
}

struct Parser<'a, 'm> {
    chars: Vec<char>,
    at: usize,
    reader: Reader<'a>,
    /// The path of the map or list being filled.
    path: Vec<String>,
    exact: &'m mut Vec<Vec<String>>,
}

fn fail<T>(message: String) -> Step<T> {
    Err(Halt::Fail(message))
}

/// Go's `%q` of a key.
fn q(s: &str) -> String {
    crate::gotmpl::fmt::quote(s)
}

/// Go's type name of a decoded value, as a failed type assertion names it.
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "nil",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int64",
        Value::Uint(_) => "uint64",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::Seq(_) => "[]interface {}",
        Value::Map(_) => "map[string]interface {}",
    }
}

fn not_a(v: &Value, want: &str) -> Halt {
    Halt::Fail(format!(
        "unable to parse key: interface conversion: interface {{}} is {}, not {want}",
        go_type(v)
    ))
}

/// Sets `key` unless it is empty, as Helm does.
fn set(data: &mut Map, key: &str, value: Value) {
    if !key.is_empty() {
        data.insert(key.to_string(), value);
    }
}

/// `setIndex`; the flag tells whether the list grew (a new one of exactly
/// `index + 1` items).
fn set_index(mut list: Vec<Value>, index: i64, value: Value) -> Step<(Vec<Value>, bool)> {
    if index < 0 {
        return fail(format!("negative {index} index not allowed"));
    }
    if index > MAX_INDEX {
        return fail(format!(
            "index of {index} is greater than maximum supported index of {MAX_INDEX}"
        ));
    }
    let i = usize::try_from(index).unwrap_or(0);
    let grew = list.len() <= i;
    if grew {
        list.resize(i + 1, Value::Null);
    }
    list[i] = value;
    Ok((list, grew))
}

impl Parser<'_, '_> {
    fn next(&mut self) -> Option<char> {
        let c = self.chars.get(self.at).copied();
        if c.is_some() {
            self.at += 1;
        }
        c
    }

    /// The text up to one of `stop` (consumed) or the end (`None`), with `\` escapes taken literally.
    fn until(&mut self, stop: &[char]) -> (String, Option<char>) {
        let mut out = String::new();
        let escapes = !matches!(self.reader, Reader::Literal);
        while let Some(c) = self.next() {
            if stop.contains(&c) {
                return (out, Some(c));
            }
            if c == '\\' && escapes {
                match self.next() {
                    Some(n) => out.push(n),
                    None => return (out, None),
                }
            } else {
                out.push(c);
            }
        }
        (out, None)
    }

    fn key(&mut self, data: &mut Map, level: usize) -> Step {
        let stop: &[char] = if matches!(self.reader, Reader::Literal) {
            &['=', '[', '.']
        } else {
            &['=', '[', ',', '.']
        };
        let (k, last) = self.until(stop);
        match last {
            None if k.is_empty() => Err(Halt::End),
            None => fail(format!("key {} has no value", q(&k))),
            Some('[') => {
                let i = self.index()?;
                let list = match data.get(&k) {
                    None => Vec::new(),
                    Some(Value::Seq(l)) => l.clone(),
                    Some(other) => return Err(not_a(other, "[]interface {}")),
                };
                self.path.push(k.clone());
                let (list, result) = self.list_item(list, i, level, 1);
                self.path.pop();
                set(data, &k, Value::Seq(list));
                result
            }
            Some('=') => {
                let value = self.value()?;
                let end = value.is_none();
                self.replaced(&k);
                set(data, &k, value.unwrap_or(Value::String(String::new())));
                if end { Err(Halt::End) } else { Ok(()) }
            }
            Some(',') => {
                self.replaced(&k);
                set(data, &k, Value::String(String::new()));
                fail(format!("key {} has no value (cannot end with ,)", q(&k)))
            }
            _ => {
                let level = level + 1;
                if level > MAX_NESTING {
                    return fail(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTING}"
                    ));
                }
                let mut inner = match data.get(&k) {
                    None => Map::new(),
                    Some(Value::Map(m)) => m.clone(),
                    Some(other) => return Err(not_a(other, "map[string]interface {}")),
                };
                self.path.push(k.clone());
                let result = self.key(&mut inner, level);
                self.path.pop();
                if result.is_ok() && inner.is_empty() {
                    return fail(format!("key map {} has no value", q(&k)));
                }
                if !inner.is_empty() {
                    set(data, &k, Value::Map(inner));
                }
                result
            }
        }
    }

    /// The value after `=`; `None` when the input ended right after it
    /// (the key then gets `""`).
    fn value(&mut self) -> Step<Option<Value>> {
        match self.reader {
            Reader::Json => return self.json().map(Some),
            Reader::Literal => {
                let rest: String = self.chars[self.at..].iter().collect();
                self.at = self.chars.len();
                return Ok(Some(Value::String(rest)));
            }
            Reader::Text(_) => {}
        }
        match self.chars.get(self.at) {
            None => Ok(None),
            Some('{') => {
                self.at += 1;
                self.list().map(|l| Some(Value::Seq(l)))
            }
            Some(_) => {
                let (text, _) = self.until(&[',']);
                self.read(&text).map(Some)
            }
        }
    }

    fn read(&self, text: &str) -> Step<Value> {
        match &self.reader {
            Reader::Text(f) => f(text).map_err(Halt::Fail),
            Reader::Json | Reader::Literal => Ok(Value::String(text.to_string())),
        }
    }

    /// A `{a,b}` list after its `{`.
    fn list(&mut self) -> Step<Vec<Value>> {
        let mut items = Vec::new();
        loop {
            match self.until(&[',', '}']) {
                (_, None) => return fail("list must terminate with '}'".into()),
                (text, Some('}')) => {
                    if self.chars.get(self.at) == Some(&',') {
                        self.at += 1;
                    }
                    items.push(self.read(&text)?);
                    return Ok(items);
                }
                (text, _) => items.push(self.read(&text)?),
            }
        }
    }

    /// An index up to `]`, as Go's `strconv.Atoi` reads it.
    fn index(&mut self) -> Step<i64> {
        let (text, last) = self.until(&[']']);
        if last.is_none() {
            return fail("error parsing index: EOF".into());
        }
        crate::gotmpl::strconv::atoi(&text).map_err(|e| {
            let why = match e {
                crate::gotmpl::strconv::AtoiError::Syntax => "invalid syntax",
                crate::gotmpl::strconv::AtoiError::Range => "value out of range",
            };
            Halt::Fail(format!("error parsing index: strconv.Atoi: parsing {}: {why}", q(&text)))
        })
    }

    /// What follows `[i]`: `=value`, another index, or `.key`.
    fn list_item(
        &mut self,
        list: Vec<Value>,
        i: i64,
        level: usize,
        indexes: usize,
    ) -> (Vec<Value>, Step) {
        if indexes > MAX_INDEX_NESTING {
            return (
                list,
                fail(format!(
                    "more than {MAX_INDEX_NESTING} list indexes in a row in a value name"
                )),
            );
        }
        if i < 0 {
            return (list, fail(format!("negative {i} index not allowed")));
        }
        let (k, last) = self.until(&['[', '.', '=']);
        if !k.is_empty() {
            // Go prints the runes read with `%q`: `['n' 'a' 'm' 'e']`.
            let runes: Vec<String> =
                k.chars().map(|c| crate::gotmpl::fmt::quote_char(c, false)).collect();
            let message = format!("unexpected data at end of array index: [{}]", runes.join(" "));
            return (list, fail(message));
        }
        let at = usize::try_from(i).unwrap_or(usize::MAX);
        let result = match last {
            None => return (list, Err(Halt::End)),
            Some('=') => match self.value() {
                Ok(v) => {
                    self.replaced(&i.to_string());
                    set_index(list.clone(), i, v.unwrap_or(Value::String(String::new())))
                }
                Err(e) => return (list, Err(e)),
            },
            Some('[') => {
                let next = match self.index() {
                    Ok(n) => n,
                    Err(e) => return (list, Err(e)),
                };
                let inner = match list.get(at) {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Seq(l)) => l.clone(),
                    Some(other) => {
                        let e = not_a(other, "[]interface {}");
                        return (list, Err(e));
                    }
                };
                self.path.push(i.to_string());
                let (inner, result) = self.list_item(inner, next, level, indexes + 1);
                self.path.pop();
                match result {
                    Ok(()) => set_index(list.clone(), i, Value::Seq(inner)),
                    e => return (list, e),
                }
            }
            _ => {
                let mut inner = match list.get(at) {
                    Some(Value::Map(m)) => m.clone(),
                    _ => {
                        self.replaced(&i.to_string());
                        Map::new()
                    }
                };
                self.path.push(i.to_string());
                let result = self.key(&mut inner, level);
                self.path.pop();
                match result {
                    Ok(()) => set_index(list.clone(), i, Value::Map(inner)),
                    e => return (list, e),
                }
            }
        };
        match result {
            Ok((list, grew)) => {
                if grew && !self.exact.contains(&self.path) {
                    self.exact.push(self.path.clone());
                }
                (list, Ok(()))
            }
            Err(e) => (list, Err(e)),
        }
    }

    /// The value at `key` below the current path is replaced by a new one.
    fn replaced(&mut self, key: &str) {
        let mut at = self.path.clone();
        at.push(key.to_string());
        forget(self.exact, &at);
    }

    /// Skips spaces and one comma; whether the value is empty there.
    fn empty_value(&mut self) -> bool {
        while let Some(&c) = self.chars.get(self.at) {
            if c == ',' {
                self.at += 1;
                return true;
            }
            if !c.is_whitespace() {
                return false;
            }
            self.at += 1;
        }
        true
    }

    /// One JSON value (null when empty), then spaces and a comma.
    fn json(&mut self) -> Step<Value> {
        if self.empty_value() {
            return Ok(Value::Null);
        }
        let rest: String = self.chars[self.at..].iter().collect();
        let (value, end) =
            crate::gotmpl::sprig::json_decode::decode_first(&rest).map_err(Halt::Fail)?;
        self.at += rest[..end].chars().count();
        self.empty_value();
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::{Reader, parse_into};
    use crate::value::{Map, Value};

    fn typed(s: &str) -> Result<Value, String> {
        Ok(super::super::values::typed(s, super::super::values::SetKind::Typed))
    }

    fn run(text: &str, reader: Reader<'_>) -> Result<String, String> {
        let mut m = Map::new();
        parse_into(&mut m, text, reader, &mut Vec::new())?;
        Ok(crate::yaml::to_string(&Value::Map(m)))
    }

    /// Helm's documented strvals behaviour (its parser tests describe these inputs).
    #[test]
    fn set_reads_as_helm() {
        for (text, want) in [
            ("name1=null,f=false,t=true", Ok("f: false\nname1: null\nt: true\n")),
            ("name1=value1,name2=value2,", Ok("name1: value1\nname2: value2\n")),
            ("name1=value1,,,,name2=value2,", Err("key \"\" has no value (cannot end with ,)")),
            ("name1=,name2=value2", Ok("name1: \"\"\nname2: value2\n")),
            ("leading_zeros=00009,zero=0", Ok("leading_zeros: \"00009\"\nzero: 0\n")),
            ("name1,name2=", Err("key \"name1\" has no value (cannot end with ,)")),
            ("name1", Err("key \"name1\" has no value")),
            ("name1=one\\,two,name2=three\\=four", Ok("name1: one,two\nname2: three=four\n")),
            (
                "outer.inner1=value,outer.middle.inner=x",
                Ok("outer:\n  inner1: value\n  middle:\n    inner: x\n"),
            ),
            ("name1.name2", Err("key \"name2\" has no value")),
            ("name1.=name2", Err("key map \"name1\" has no value")),
            ("name1.name2=", Ok("name1:\n  name2: \"\"\n")),
            (
                "name1={value1,value2},nums={1021,902}",
                Ok("name1:\n- value1\n- value2\nnums:\n- 1021\n- 902\n"),
            ),
            ("name1={1021,902", Err("list must terminate with '}'")),
            ("list[0].foo=bar,list[0].hello=world", Ok("list:\n- foo: bar\n  hello: world\n")),
            ("list[0]=foo,list[3]=bar", Ok("list:\n- foo\n- null\n- null\n- bar\n")),
            ("list[0]=foo,list[-20]=bar", Err("negative -20 index not allowed")),
            (
                "illegal[0]name.foo=bar",
                Err("unexpected data at end of array index: ['n' 'a' 'm' 'e']"),
            ),
            ("noval[0]", Ok("noval: []\n")),
            ("noval[0]=", Ok("noval:\n- \"\"\n")),
            ("nested[1][1]=1", Ok("nested:\n- null\n- - null\n  - 1\n")),
            ("m.l[1].foo=bar,m.l[0].foo=baz", Ok("m:\n  l:\n  - foo: baz\n  - foo: bar\n")),
            (
                "big[65537]=x",
                Err("index of 65537 is greater than maximum supported index of 65536"),
            ),
            ("bad[x]=1", Err("error parsing index: strconv.Atoi: parsing \"x\": invalid syntax")),
            (
                "a=x,a.b=1",
                Err(
                    "unable to parse key: interface conversion: interface {} is string, not map[string]interface {}",
                ),
            ),
            (
                "a=x,a[0]=1",
                Err(
                    "unable to parse key: interface conversion: interface {} is string, not []interface {}",
                ),
            ),
            ("=ignored,b=1", Ok("b: 1\n")),
            ("a b=c d", Ok("a b: c d\n")),
        ] {
            assert_eq!(
                run(text, Reader::Text(&typed)),
                want.map(String::from).map_err(String::from),
                "{text}"
            );
        }
        let deep = format!("{}=1", vec!["k"; 32].join("."));
        assert!(run(&deep, Reader::Text(&typed)).unwrap_err().contains("nested level"));
        // Indexes in a row are bounded too, without exhausting the stack.
        let indexes = format!("a{}=1", "[0]".repeat(50_000));
        assert!(run(&indexes, Reader::Text(&typed)).unwrap_err().contains("list indexes in a row"));
        let most = format!("a{}=1", "[0]".repeat(100));
        assert!(run(&most, Reader::Text(&typed)).is_ok());
        let fine = format!("a{}=1", "[0]".repeat(5));
        assert_eq!(run(&fine, Reader::Text(&typed)).as_deref(), Ok("a:\n- - - - - 1\n"));
    }

    /// `--set-json`: comma-separated pairs, each value one JSON text; an empty value is null.
    #[test]
    fn set_json_reads_as_helm() {
        for (text, want) in [
            ("a=\"1\",b=3,c=true,d=\"true\"", Ok("a: \"1\"\nb: 3\nc: true\nd: \"true\"\n")),
            (
                "o={\"a\":\"1\",\"c\":[1,2]},l=[{\"A\":1}]",
                Ok("l:\n- A: 1\no:\n  a: \"1\"\n  c:\n  - 1\n  - 2\n"),
            ),
            (
                "a=,b={\"cc\":[1,2,3]},b.cc[1]=null",
                Ok("a: null\nb:\n  cc:\n  - 1\n  - null\n  - 3\n"),
            ),
            ("a={\"x\":1", Err("unexpected EOF")),
        ] {
            assert_eq!(
                run(text, Reader::Json),
                want.map(String::from).map_err(String::from),
                "{text}"
            );
        }
    }

    /// `text` applied to the values `before` (YAML), as YAML.
    fn run_on(before: &str, text: &str, reader: Reader<'_>) -> Result<String, String> {
        let mut m = match crate::yaml::parse_documents(before, "before")
            .ok()
            .and_then(|d| d.into_iter().next())
        {
            Some(Value::Map(m)) => m,
            _ => Map::new(),
        };
        parse_into(&mut m, text, reader, &mut Vec::new())?;
        Ok(crate::yaml::to_string(&Value::Map(m)))
    }

    /// Setting index `i` makes a list at least `i + 1` long, null-filled;
    /// a longer list keeps its length and its other items, at every depth.
    #[test]
    fn list_indexes_grow_lists_as_helm() {
        for (before, text, want) in [
            ("", "a[3]=x", Ok("a:\n- null\n- null\n- null\n- x\n")),
            ("", "a[3]=x,a[1]=v", Ok("a:\n- null\n- v\n- null\n- x\n")),
            ("a: [p, q, r, s, t]", "a[1]=v", Ok("a:\n- p\n- v\n- r\n- s\n- t\n")),
            ("a: [p]", "a[2]=v", Ok("a:\n- p\n- null\n- v\n")),
            ("a: [[p, q, r]]", "a[0][1]=x", Ok("a:\n- - p\n  - x\n  - r\n")),
            ("a: [p, null]", "a[1][2]=x", Ok("a:\n- p\n- - null\n  - null\n  - x\n")),
            ("", "a[1].b=1,a[0].c=2", Ok("a:\n- c: 2\n- b: 1\n")),
            ("a: [{b: 1, c: 2}, z]", "a[0].b=3,a[1].d=4", Ok("a:\n- b: 3\n  c: 2\n- d: 4\n")),
            ("a: [p]", "a[0]", Ok("a:\n- p\n")),
            ("a: [p]", "a[5].", Ok("a:\n- p\n")),
            (
                "a: [p, q]",
                "a[1][0]=x",
                Err(
                    "unable to parse key: interface conversion: interface {} is string, not []interface {}",
                ),
            ),
            (
                "a: null",
                "a[0]=x",
                Err(
                    "unable to parse key: interface conversion: interface {} is nil, not []interface {}",
                ),
            ),
            ("", "a[0][-1]=x", Err("negative -1 index not allowed")),
            ("", "a[0]{", Err("unexpected data at end of array index: ['{']")),
        ] {
            assert_eq!(
                run_on(before, text, Reader::Text(&typed)),
                want.map(String::from).map_err(String::from),
                "{before} / {text}"
            );
        }
    }

    /// The lists left with their length as capacity: those `setIndex`
    /// grew, until a new value replaces them.
    #[test]
    fn grown_lists_are_marked_until_replaced() {
        let marks = |steps: &[&str]| {
            let mut m = Map::new();
            let mut exact = Vec::new();
            for text in steps {
                parse_into(&mut m, text, Reader::Text(&typed), &mut exact).unwrap();
            }
            let mut got: Vec<String> = exact.iter().map(|p| p.join(".")).collect();
            got.sort();
            got
        };
        assert_eq!(marks(&["a[1]=x"]), ["a"]);
        assert_eq!(marks(&["a={p,q}"]), Vec::<String>::new());
        assert_eq!(marks(&["a={p,q}", "a[1]=x"]), Vec::<String>::new());
        assert_eq!(marks(&["a={p,q}", "a[2]=x"]), ["a"]);
        assert_eq!(marks(&["m.l[0][2]=x"]), ["m.l", "m.l.0"]);
        assert_eq!(marks(&["m.l[0][2]=x", "m.l[1]=y"]), ["m.l", "m.l.0"]);
        assert_eq!(marks(&["m.l[0][2]=x", "m.l[0]=y"]), ["m.l"]);
        assert_eq!(marks(&["m.l[0][2]=x", "m.l[0].k=y"]), ["m.l"]);
        assert_eq!(marks(&["m.l[0][2]=x", "m=z"]), Vec::<String>::new());
        assert_eq!(marks(&["a[0].b[3]=x"]), ["a", "a.0.b"]);
    }

    /// `--set-json` reads each value as Go's `json.Decoder` does: the value
    /// ends where its syntax does.
    #[test]
    fn set_json_values_end_as_gos_decoder_reads_them() {
        for (text, want) in [
            ("a=truex=1", Ok("a: true\nx: 1\n")),
            ("a=[1,2] ,b=\"x\"", Ok("a:\n- 1\n- 2\nb: x\n")),
            ("a[2]={\"k\":null}", Ok("a:\n- null\n- null\n- k: null\n")),
            ("a=01", Err("key \"1\" has no value")),
            ("a=xyz", Err("invalid character 'x' looking for beginning of value")),
            ("a=tru", Err("unexpected EOF")),
            ("a=1e400", Err("json: cannot unmarshal number 1e400 into Go value of type float64")),
        ] {
            assert_eq!(
                run(text, Reader::Json),
                want.map(String::from).map_err(String::from),
                "{text}"
            );
        }
    }

    /// `--set-literal`: one key (commas are part of it), no escapes, the
    /// rest of the text its value.
    #[test]
    fn set_literal_reads_as_helm() {
        for (text, want) in [
            ("a.b[1]=x,y=z\\", Ok("a:\n  b:\n  - null\n  - x,y=z\\\n")),
            ("a,b=c", Ok("a,b: c\n")),
            ("a\\.b=c", Ok("a\\:\n  b: c\n")),
            ("a=", Ok("a: \"\"\n")),
            ("a=true", Ok("a: \"true\"\n")),
            ("a", Err("key \"a\" has no value")),
        ] {
            assert_eq!(
                run(text, Reader::Literal),
                want.map(String::from).map_err(String::from),
                "{text}"
            );
        }
    }

    /// `--set-file`: every value is a file name, list items too; an empty
    /// value reads no file.
    #[test]
    fn set_file_reads_each_value_as_a_file() {
        let read = |name: &str| match name {
            "p1" | "p2" => Ok(Value::String(format!("<{name}>"))),
            _ => Err(format!("open {name}: no such file or directory")),
        };
        assert_eq!(
            run("a=p1,b={p1,p2},c[1]=p2,d=", Reader::Text(&read)).as_deref(),
            Ok("a: <p1>\nb:\n- <p1>\n- <p2>\nc:\n- null\n- <p2>\nd: \"\"\n")
        );
        assert_eq!(
            run("a={p1,nope}", Reader::Text(&read)),
            Err("open nope: no such file or directory".to_string())
        );
    }
}
