//! Helm's `fromToml`: TOML read as BurntSushi/toml reads it into a `map[string]interface{}`, errors worded alike.
//!
//! Helm decodes with BurntSushi/toml, which enables TOML 1.1 (newlines and a
//! trailing comma in inline tables, `\e` and `\xHH` escapes, times without
//! seconds) and has quirks of its own: a key first made a table by a dotted
//! key may be assigned once more and keeps the table. Its errors read
//! `toml: line N (last key "k"): ...`, and Helm returns them under an
//! `Error` key. The `toml` crate implements TOML 1.0 with other error texts,
//! so this reader follows BurntSushi's lexer states and parser bookkeeping.

mod lex;
mod value;

use std::collections::{BTreeMap, HashSet};

use lex::{Item, Tok};

use crate::gotmpl::Value;

/// Why reading failed: a TOML error (Helm puts it under `Error`) or a
/// panic of the decoder that the template call reports.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    /// `toml: line N ...`.
    Parse(String),
    /// A Go runtime panic inside the decoder.
    Panic(String),
}

/// The decoded document, as Helm's `fromToml` receives it.
pub(crate) fn decode(text: &str) -> Result<Value, Failure> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.bytes().take(6).any(|b| b == 0) {
        return Err(Failure::Parse(
            "toml: line 1: files cannot contain NULL bytes; probably using UTF-16; TOML files must be UTF-8"
                .to_string(),
        ));
    }
    let mut p = Parser {
        items: lex::lex(text).into_iter(),
        root: BTreeMap::new(),
        context: Vec::new(),
        current_key: String::new(),
        line: 1,
        implicits: HashSet::new(),
        arrays: HashSet::new(),
    };
    loop {
        let item = p.next()?;
        if item.tok == Tok::Eof {
            break;
        }
        p.top_level(item)?;
    }
    Ok(table_value(p.root))
}

/// A node of the decoded tree: a table, an array of tables (`[[t]]`), or a value.
enum Node {
    Table(Table),
    Tables(Vec<Table>),
    Leaf(Value),
}

type Table = BTreeMap<String, Node>;

fn table_value(t: Table) -> Value {
    Value::map(t.into_iter().map(|(k, n)| (k, node_value(n))).collect())
}

fn node_value(n: Node) -> Value {
    match n {
        Node::Table(t) => table_value(t),
        Node::Tables(ts) => Value::list(ts.into_iter().map(table_value).collect()),
        Node::Leaf(v) => v,
    }
}

/// The table at `path` below `root`: `Err(i)` when `path[i]` is missing or not a table.
fn walk<'m>(root: &'m mut Table, path: &[String]) -> Result<&'m mut Table, usize> {
    let mut hash = root;
    for (i, k) in path.iter().enumerate() {
        hash = match hash.get_mut(k) {
            Some(Node::Table(m)) => m,
            Some(Node::Tables(v)) => v.last_mut().ok_or(i)?,
            _ => return Err(i),
        };
    }
    Ok(hash)
}

/// A key as BurntSushi prints it: parts joined by dots, quoted unless bare.
fn key_string(key: &[String]) -> String {
    let part = |k: &String| {
        if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return k.clone();
        }
        quote(k)
    };
    key.iter().map(part).collect::<Vec<_>>().join(".")
}

/// A TOML basic string as BurntSushi writes one (its encoder and its key
/// names in errors share the escaping): `\b \t \n \f \r \" \\`, other
/// control characters as `\u` and four lower-case hex digits.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x08' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\x0c' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if c <= '\x1f' || c == '\x7f' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Parser {
    items: std::vec::IntoIter<Item>,
    root: Table,
    /// The table that keys go to (`[a.b]` and dotted key parents).
    context: Vec<String>,
    /// The last part of the key being read.
    current_key: String,
    /// The line of the last key or table name read, for semantic errors.
    line: usize,
    /// Tables made implicitly (`[a.b]` makes `a`, `a.b = 1` makes `a`).
    implicits: HashSet<Vec<String>>,
    /// Keys whose value is an array.
    arrays: HashSet<Vec<String>>,
}

impl Parser {
    /// The "last key" of an error: the context and the current key.
    fn current(&self) -> String {
        if self.current_key.is_empty() {
            key_string(&self.context)
        } else if self.context.is_empty() {
            self.current_key.clone()
        } else {
            format!("{}.{}", key_string(&self.context), self.current_key)
        }
    }

    fn fail_at(&self, line: usize, message: &str) -> Failure {
        let last = self.current();
        Failure::Parse(if last.is_empty() {
            format!("toml: line {line}: {message}")
        } else {
            format!("toml: line {line} (last key {}): {message}", crate::gotmpl::fmt::quote(&last))
        })
    }

    fn fail(&self, message: &str) -> Failure {
        self.fail_at(self.line, message)
    }

    fn next(&mut self) -> Result<Item, Failure> {
        let item = self.items.next().unwrap_or(Item { tok: Tok::Eof, val: String::new(), line: 0 });
        if item.tok == Tok::Error {
            return Err(self.fail_at(item.line, &item.val));
        }
        Ok(item)
    }

    fn next_pos(&mut self) -> Result<Item, Failure> {
        let item = self.next()?;
        self.line = item.line;
        Ok(item)
    }

    /// The parts of a key or table name up to `end`, starting with `first`.
    fn key_parts(&mut self, mut item: Item, end: Tok) -> Result<Vec<String>, Failure> {
        let mut key = Vec::new();
        while item.tok != end && item.tok != Tok::Eof {
            key.push(self.key_part(&item)?);
            item = self.next()?;
        }
        Ok(key)
    }

    fn key_part(&mut self, item: &Item) -> Result<String, Failure> {
        match item.tok {
            Tok::Text => Ok(item.val.clone()),
            _ => match self.value(item.clone(), false)?.0 {
                Value::String(s) => Ok(s.to_string()),
                _ => Err(Failure::Panic(format!("BUG: Unexpected key type: {:?}", item.tok))),
            },
        }
    }

    fn top_level(&mut self, item: Item) -> Result<(), Failure> {
        match item.tok {
            Tok::TableStart | Tok::ArrayTableStart => {
                let array = item.tok == Tok::ArrayTableStart;
                let end = if array { Tok::ArrayTableEnd } else { Tok::TableEnd };
                let first = self.next_pos()?;
                let key = self.key_parts(first, end)?;
                self.add_context(key, array)?;
                self.set_type("", false);
            }
            Tok::KeyStart => {
                let outer = self.context.clone();
                self.key_value()?;
                self.context = outer;
                self.current_key.clear();
            }
            _ => {
                return Err(Failure::Panic(format!(
                    "BUG: Unexpected type at top level: {:?}",
                    item.tok
                )));
            }
        }
        Ok(())
    }

    /// Reads `key = value` after its key-start token and sets it in the
    /// current table; returns the key's parts and the value.
    fn key_value(&mut self) -> Result<(Vec<String>, Value), Failure> {
        let first = self.next_pos()?;
        let key = self.key_parts(first, Tok::KeyEnd)?;
        self.set_dotted_key(&key)?;
        let v = self.next()?;
        let (val, is_array) = self.value(v, false)?;
        let last = self.current_key.clone();
        self.set_value(&last, Node::Leaf(val.clone()))?;
        self.set_type(&last, is_array);
        Ok((key, val))
    }

    /// Makes the key's last part current and its other parts implicit tables.
    fn set_dotted_key(&mut self, key: &[String]) -> Result<(), Failure> {
        self.current_key = key.last().cloned().unwrap_or_default();
        for part in &key[..key.len().saturating_sub(1)] {
            let mut path = self.context.clone();
            path.push(part.clone());
            self.implicits.insert(path.clone());
            self.add_context(path, false)?;
        }
        Ok(())
    }

    /// Enters the table (or a new element of the array of tables) `key`,
    /// making its parents as implicit tables.
    fn add_context(&mut self, key: Vec<String>, array: bool) -> Result<(), Failure> {
        let Some((last, parents)) = key.split_last() else { return Ok(()) };
        let mut path: Vec<String> = Vec::new();
        for k in parents {
            path.push(k.clone());
            let Ok(hash) = walk(&mut self.root, &path[..path.len() - 1]) else {
                return Err(self
                    .fail(&format!("Key '{}' was already created as a hash.", key_string(&path))));
            };
            if !hash.contains_key(k) {
                hash.insert(k.clone(), Node::Table(Table::new()));
                self.implicits.insert(path.clone());
            }
            if matches!(hash.get(k), Some(Node::Leaf(_))) {
                return Err(self
                    .fail(&format!("Key '{}' was already created as a hash.", key_string(&path))));
            }
        }
        self.context = path;
        if array {
            let hash = walk(&mut self.root, &self.context).map_err(|_| {
                Failure::Panic("BUG: context for an array of tables is not a table".to_string())
            })?;
            match hash.entry(last.clone()).or_insert_with(|| Node::Tables(Vec::new())) {
                Node::Tables(v) => v.push(Table::new()),
                _ => {
                    return Err(self.fail(&format!(
                        "Key '{}' was already created and cannot be used as an array.",
                        key_string(&key)
                    )));
                }
            }
        } else {
            self.set_value(last, Node::Table(Table::new()))?;
        }
        self.context.push(last.clone());
        Ok(())
    }

    /// Sets `key` in the current table, refusing a key defined before
    /// unless that was implicit (then the earlier table stays).
    fn set_value(&mut self, key: &str, value: Node) -> Result<(), Failure> {
        let mut path = self.context.clone();
        let hash = match walk(&mut self.root, &self.context) {
            Ok(h) => h,
            Err(i) => {
                path.truncate(i + 1);
                let message = format!("Key '{}' has already been defined.", key_string(&path));
                return Err(self.fail(&message));
            }
        };
        path.push(key.to_string());
        if hash.contains_key(key) {
            if self.arrays.contains(&path) {
                if !self.implicits.remove(&path) {
                    let message = format!("Key '{}' has already been defined.", key_string(&path));
                    return Err(self.fail(&message));
                }
                hash.insert(key.to_string(), value);
                return Ok(());
            }
            if self.implicits.remove(&path) {
                return Ok(());
            }
            let message = format!("Key '{}' has already been defined.", key_string(&path));
            return Err(self.fail(&message));
        }
        hash.insert(key.to_string(), value);
        Ok(())
    }

    fn set_type(&mut self, key: &str, is_array: bool) {
        let mut path = self.context.clone();
        if !key.is_empty() {
            path.push(key.to_string());
        }
        if is_array {
            self.arrays.insert(path);
        } else {
            self.arrays.remove(&path);
        }
    }

    /// A value token as a Go value; `true` for arrays.
    fn value(&mut self, item: Item, parent_is_array: bool) -> Result<(Value, bool), Failure> {
        let text = |r: Result<String, String>| r.map(Value::from);
        let v = match item.tok {
            Tok::Str => text(value::escapes(&item.val)),
            Tok::MultiStr => text(value::escapes(&value::strip_escaped_newlines(
                value::strip_first_newline(&item.val),
            ))),
            Tok::RawStr => Ok(Value::from(item.val.as_str())),
            Tok::RawMultiStr => Ok(Value::from(value::strip_first_newline(&item.val))),
            Tok::Bool => Ok(Value::Bool(item.val == "true")),
            Tok::Int => value::integer(&item.val),
            Tok::Float => value::float(&item.val),
            Tok::Datetime => value::datetime(&item.val),
            Tok::Array => return self.array(),
            Tok::InlineStart => return self.inline_table(parent_is_array),
            _ => return Err(Failure::Panic(format!("BUG: Unexpected value type: {:?}", item.tok))),
        };
        v.map(|v| (v, false)).map_err(|m| self.fail_at(item.line, &m))
    }

    fn array(&mut self) -> Result<(Value, bool), Failure> {
        let key = self.current_key.clone();
        self.set_type(&key, true);
        let mut items = Vec::new();
        loop {
            let item = self.next()?;
            if item.tok == Tok::ArrayEnd {
                break;
            }
            items.push(self.value(item, true)?.0);
        }
        Ok((Value::list(items), true))
    }

    fn inline_table(&mut self, parent_is_array: bool) -> Result<(Value, bool), Failure> {
        let outer_context = self.context.clone();
        let outer_key = std::mem::take(&mut self.current_key);
        self.context.push(outer_key.clone());
        let inner = self.context.clone();
        self.implicits.insert(inner.clone());
        self.add_context(inner.clone(), parent_is_array)?;
        let mut top = Inline::default();
        loop {
            let item = self.next()?;
            if item.tok == Tok::InlineEnd {
                break;
            }
            let (key, val) = self.key_value()?;
            if !top.insert(&key, val) {
                let message =
                    format!("{} is not a table", crate::gotmpl::fmt::quote(&key_string(&inner)));
                return Err(self.fail(&message));
            }
            self.context = inner.clone();
        }
        self.context = outer_context;
        self.current_key = outer_key;
        Ok((top.into_value(), false))
    }
}

/// The map an inline table decodes to, built beside the tree as Go builds it.
#[derive(Default)]
struct Inline(BTreeMap<String, InlineNode>);

enum InlineNode {
    Map(Inline),
    Val(Value),
}

impl Inline {
    /// Sets a dotted key; false when a parent is not a table.
    fn insert(&mut self, key: &[String], val: Value) -> bool {
        let Some((last, parents)) = key.split_last() else { return true };
        let mut hash = self;
        for p in parents {
            let node =
                hash.0.entry(p.clone()).or_insert_with(|| InlineNode::Map(Inline::default()));
            hash = match node {
                InlineNode::Map(m) => m,
                InlineNode::Val(_) => return false,
            };
        }
        hash.0.insert(last.clone(), InlineNode::Val(val));
        true
    }

    fn into_value(self) -> Value {
        Value::map(
            self.0
                .into_iter()
                .map(|(k, n)| {
                    let v = match n {
                        InlineNode::Map(m) => m.into_value(),
                        InlineNode::Val(v) => v,
                    };
                    (k, v)
                })
                .collect(),
        )
    }
}
