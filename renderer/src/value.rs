//! The data model of rendered objects: JSON-compatible values with ordered maps.
//!
//! kustomize and Helm both move objects through Go's `map[string]interface{}`
//! and JSON, so a value here has exactly JSON's shapes. Maps keep insertion
//! order (useful for patches and diagnostics); output sorts keys the way the
//! reference tools do.

use indexmap::IndexMap;

/// A map with string keys, in insertion order.
pub type Map = IndexMap<String, Value>;

/// A JSON-compatible value.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `null`, `~` or an empty scalar.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A 64-bit signed integer.
    Int(i64),
    /// A whole number above `i64::MAX` that fits 64 bits: Go's YAML and
    /// JSON decoders make these `uint64`, which prints as written. Smaller
    /// values are always [`Value::Int`]; build one with [`Value::from_u64`].
    Uint(u64),
    /// A 64-bit float.
    Float(f64),
    /// A string.
    String(String),
    /// A sequence.
    Seq(Vec<Value>),
    /// A mapping with string keys.
    Map(Map),
}

impl Value {
    /// Whether collections nest in this value more than `levels` deep, the
    /// value itself being the first level: Go's JSON reader and libyaml's
    /// flow collections allow 10,000. Walks without recursion.
    pub fn deeper_than(&self, levels: usize) -> bool {
        let mut pending = vec![(self, 1usize)];
        while let Some((v, depth)) = pending.pop() {
            match v {
                Value::Seq(_) | Value::Map(_) if depth > levels => return true,
                Value::Seq(items) => pending.extend(items.iter().map(|c| (c, depth + 1))),
                Value::Map(m) => pending.extend(m.values().map(|c| (c, depth + 1))),
                _ => {}
            }
        }
        false
    }

    /// The map inside, if this is a map.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The map inside, mutably, if this is a map.
    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The sequence inside, if this is a sequence.
    pub fn as_seq(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The sequence inside, mutably, if this is a sequence.
    pub fn as_seq_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Follows a path of map keys; `None` when a step is missing or not a map.
    pub fn get_path(&self, path: &[&str]) -> Option<&Value> {
        let mut cur = self;
        for key in path {
            cur = cur.as_map()?.get(*key)?;
        }
        Some(cur)
    }

    /// Follows a path of map keys, mutably.
    pub fn get_path_mut(&mut self, path: &[&str]) -> Option<&mut Value> {
        let mut cur = self;
        for key in path {
            cur = cur.as_map_mut()?.get_mut(*key)?;
        }
        Some(cur)
    }

    /// Follows a path of map keys, creating empty maps where a step is
    /// missing or null. Returns `None` when a step exists and is not a map.
    pub fn ensure_path(&mut self, path: &[&str]) -> Option<&mut Value> {
        let mut cur = self;
        for key in path {
            if cur.is_null() {
                *cur = Value::Map(Map::new());
            }
            cur = cur.as_map_mut()?.entry((*key).to_string()).or_insert(Value::Null);
        }
        if cur.is_null() {
            *cur = Value::Map(Map::new());
        }
        Some(cur)
    }

    /// An unsigned integer: [`Value::Int`] when it fits, else [`Value::Uint`].
    pub fn from_u64(u: u64) -> Value {
        i64::try_from(u).map_or(Value::Uint(u), Value::Int)
    }

    /// Turns every integer inside into a float64, as a round trip through
    /// Go's `encoding/json` into `interface{}` does.
    pub fn ints_to_floats(&mut self) {
        match self {
            Value::Int(i) => *self = Value::Float(*i as f64),
            Value::Uint(u) => *self = Value::Float(*u as f64),
            Value::Seq(items) => items.iter_mut().for_each(Value::ints_to_floats),
            Value::Map(m) => m.values_mut().for_each(Value::ints_to_floats),
            _ => {}
        }
    }

    /// A short name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::Uint(_) | Value::Float(_) => "number",
            Value::String(_) => "string",
            Value::Seq(_) => "sequence",
            Value::Map(_) => "map",
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Map(m)
    }
}
