//! Template functions: the caller-extensible registry and Go's built-in functions.
//!
//! A function is a Rust closure over the call context and its arguments. The
//! built-ins (`len`, `index`, `printf`, `eq`, ...) follow the rules of Go's
//! `text/template/funcs.go`; `and` and `or` short-circuit and live in the
//! executor because they evaluate their arguments lazily.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::exec::Call;
use super::fmt::{sprint, sprintf, sprintln};
use super::value::{NamedType, Value};

type FuncImpl = dyn Fn(&Call<'_>, &[Value]) -> Result<Value, String> + Send + Sync;

/// The Go type of a function parameter. Go checks arguments against it
/// before the call: a float64 from the data does not fit an `int` parameter,
/// a missing value fits no `string`. `Any` is `interface{}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    /// `interface{}`: any value; a missing value arrives as nil.
    Any,
    /// `string`.
    String,
    /// `int`.
    Int,
    /// `uint32` (Sprig's `derivePassword` counter): only an unsigned
    /// constant fits, since no template value has that type.
    Uint32,
    /// `float64`.
    Float,
    /// `bool`.
    Bool,
    /// `[]interface{}`.
    List,
    /// `[]string`: only a list of strings fits (not a `[]interface{}` of
    /// strings).
    StringList,
    /// `map[string]interface{}`.
    Map,
    /// A struct type of that name, such as `time.Time`, or a pointer to one
    /// (`*semver.Version`), which may be nil.
    Struct(&'static str),
    /// A named integer type, such as `time.Duration`: an integer constant
    /// converts to it, a value must have it.
    Named(&'static NamedType),
}

impl Param {
    /// Whether Go's `canBeNil` holds for the type, so that `nil` or a
    /// missing value passes as the type's nil (a slice, a map, a pointer
    /// such as `*semver.Version`).
    pub fn can_be_nil(self) -> bool {
        match self {
            Param::List | Param::StringList | Param::Map => true,
            Param::Struct(name) => name.starts_with('*'),
            _ => false,
        }
    }

    /// The type as Go prints it.
    pub fn go_name(self) -> &'static str {
        match self {
            Param::Any => "interface {}",
            Param::String => "string",
            Param::Int => "int",
            Param::Uint32 => "uint32",
            Param::Float => "float64",
            Param::Bool => "bool",
            Param::List => "[]interface {}",
            Param::StringList => "[]string",
            Param::Map => "map[string]interface {}",
            Param::Struct(name) => name,
            Param::Named(ty) => ty.name,
        }
    }
}

/// A template function: a closure with the number and types of arguments it takes.
#[derive(Clone)]
pub struct Function {
    imp: Arc<FuncImpl>,
    min_args: usize,
    max_args: Option<usize>,
    params: Vec<Param>,
    variadic: Option<Param>,
    /// Why Go's template refuses to call it (a method whose results do not
    /// fit a template call, such as `time.Time.Zone`), with Go's text.
    refused: Option<Arc<str>>,
}

impl Function {
    /// A function of any number of arguments.
    pub fn new(
        f: impl Fn(&Call<'_>, &[Value]) -> Result<Value, String> + Send + Sync + 'static,
    ) -> Self {
        Function {
            imp: Arc::new(f),
            min_args: 0,
            max_args: None,
            params: Vec::new(),
            variadic: None,
            refused: None,
        }
    }

    /// A method that templates cannot call, by its result types: calling it
    /// fails with `why` (Go's `goodFunc` text) once the argument count is right.
    pub fn refused(why: impl Into<Arc<str>>, params: &[Param]) -> Self {
        Function {
            refused: Some(why.into()),
            ..Function::new(|_, _| Err(String::new())).params(params, None)
        }
    }

    /// Go's reason for refusing the call, if it refuses it.
    pub(crate) fn refusal(&self) -> Option<&str> {
        self.refused.as_deref()
    }

    /// The same function with Go parameter types: `params` fixed ones, then
    /// any number of `variadic` ones if given. Sets the arity to match.
    pub fn params(mut self, params: &[Param], variadic: Option<Param>) -> Self {
        self.params = params.to_vec();
        self.variadic = variadic;
        self.min_args = params.len();
        self.max_args = if variadic.is_some() { None } else { Some(params.len()) };
        self
    }

    /// The type of the parameter at `i`.
    pub(crate) fn param(&self, i: usize) -> Param {
        self.params.get(i).copied().or(self.variadic).unwrap_or(Param::Any)
    }

    /// The same function, declaring that it takes `min` to `max` arguments
    /// (`None`: variadic); the executor reports other counts as Go does.
    pub fn arity(mut self, min: usize, max: Option<usize>) -> Self {
        self.min_args = min;
        self.max_args = max;
        self
    }

    /// Checks the argument count: `Err` has Go's "wrong number of args" text.
    pub(crate) fn check_arity(&self, name: &str, n: usize) -> Result<(), String> {
        match self.max_args {
            Some(max) if n < self.min_args || n > max => {
                Err(format!("wrong number of args for {name}: want {max} got {n}"))
            }
            None if n < self.min_args => Err(format!(
                "wrong number of args for {name}: want at least {} got {n}",
                self.min_args
            )),
            _ => Ok(()),
        }
    }

    /// The same function with its errors rewritten by `f` (arity and
    /// parameter types kept).
    pub fn map_err(self, f: fn(String) -> String) -> Self {
        let inner = self.imp.clone();
        Function {
            imp: Arc::new(move |ctx: &Call<'_>, args: &[Value]| inner(ctx, args).map_err(f)),
            ..self
        }
    }

    /// Calls the function.
    pub fn call(&self, ctx: &Call<'_>, args: &[Value]) -> Result<Value, String> {
        (self.imp)(ctx, args)
    }
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Function")
    }
}

/// The functions a template may call besides the built-ins, by name.
#[derive(Clone, Default, Debug)]
pub struct Funcs {
    map: HashMap<String, Function>,
}

impl Funcs {
    /// No functions besides the built-ins.
    pub fn new() -> Self {
        Funcs::default()
    }

    /// Adds or replaces a function.
    pub fn insert(&mut self, name: impl Into<String>, f: Function) -> &mut Self {
        self.map.insert(name.into(), f);
        self
    }

    /// Adds every function of `other`, replacing those of the same name.
    pub fn extend(&mut self, other: &Funcs) -> &mut Self {
        for (k, v) in &other.map {
            self.map.insert(k.clone(), v.clone());
        }
        self
    }

    /// The added function called `name`.
    pub fn get(&self, name: &str) -> Option<&Function> {
        self.map.get(name)
    }

    /// The names of the added functions, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.map.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Whether `name` is an added or a built-in function.
    pub fn has(&self, name: &str) -> bool {
        self.map.contains_key(name) || is_builtin(name)
    }
}

/// The names of Go's built-in template functions.
const BUILTINS: &[&str] = &[
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
    "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
];

/// Whether `name` is one of Go's built-in template functions.
pub(crate) fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(&name)
}

/// The argument counts of the built-ins: (min, max).
pub(crate) fn builtin_arity(name: &str) -> (usize, Option<usize>) {
    match name {
        "len" | "not" => (1, Some(1)),
        "ne" | "lt" | "le" | "gt" | "ge" => (2, Some(2)),
        "and" | "or" | "call" | "index" | "slice" | "printf" | "eq" => (1, None),
        _ => (0, None),
    }
}

/// Runs the built-in `name` (other than `and` and `or`).
pub(crate) fn call_builtin(ctx: &Call<'_>, name: &str, args: &[Value]) -> Result<Value, String> {
    match name {
        "not" => Ok(Value::Bool(!args[0].is_true())),
        "len" => length(&args[0]).map(Value::Int),
        "index" => index(&args[0], &args[1..]),
        "slice" => slice(&args[0], &args[1..]),
        "print" => Ok(Value::from(sprint(args))),
        "println" => Ok(Value::from(sprintln(args))),
        "printf" => match &args[0] {
            Value::String(f) => Ok(Value::from(sprintf(f, &args[1..]))),
            other => {
                Err(format!("wrong type for value; expected string; got {}", other.type_name()))
            }
        },
        "html" => Ok(Value::from(html_escape(&eval_args(args)))),
        "js" => Ok(Value::from(js_escape(&eval_args(args)))),
        "urlquery" => Ok(Value::from(query_escape(&eval_args(args)))),
        "call" => match &args[0] {
            Value::Func(f) => f.call(ctx, &args[1..]),
            Value::Nil | Value::Missing => Err("call of nil".to_string()),
            other => Err(format!("non-function of type {}", other.type_name())),
        },
        "eq" => eq(&args[0], &args[1..]).map(Value::Bool),
        "ne" => eq(&args[0], &args[1..2]).map(|b| Value::Bool(!b)),
        "lt" => less(&args[0], &args[1]).map(Value::Bool),
        "le" => Ok(Value::Bool(less(&args[0], &args[1])? || eq(&args[0], &args[1..2])?)),
        "gt" => Ok(Value::Bool(!(less(&args[0], &args[1])? || eq(&args[0], &args[1..2])?))),
        "ge" => less(&args[0], &args[1]).map(|b| Value::Bool(!b)),
        _ => Err(format!("{} is not a defined function", super::fmt::quote(name))),
    }
}

/// Go's `evalArgs`: a single string argument as is, otherwise `fmt.Sprint` of all.
/// Missing and nil arguments print `<no value>` there, as Go's `printableValue` makes them.
fn eval_args(args: &[Value]) -> String {
    if let [Value::String(s)] = args {
        return s.to_string();
    }
    let args: Vec<Value> = args
        .iter()
        .map(|a| if a.is_nil() { Value::from("<no value>") } else { a.clone() })
        .collect();
    sprint(&args)
}

fn length(v: &Value) -> Result<i64, String> {
    let n = match &v.clone().unwrap_map_type() {
        // Go counts bytes, including those a string carries that are not UTF-8.
        Value::String(s) => super::sprig::go_bytes(s).len(),
        Value::List(l) => l.len(),
        Value::Map(m) => m.len(),
        Value::Nil => return Err("len of nil pointer".to_string()),
        Value::Missing => {
            return Err("reflect: call of reflect.Value.Type on zero Value".to_string());
        }
        other => return Err(format!("len of type {}", other.type_name())),
    };
    Ok(n as i64)
}

/// An integer index operand, as Go's `indexArg` accepts it: any integer type.
fn index_arg(i: &Value, cap: usize) -> Result<usize, String> {
    let x = match i {
        Value::Nil | Value::Missing => return Err("cannot index slice/array with nil".into()),
        other => match other.as_integer() {
            Some(x) => x,
            None => {
                return Err(format!("cannot index slice/array with type {}", other.type_name()));
            }
        },
    };
    if x < 0 || x > cap as i128 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn index(item: &Value, indexes: &[Value]) -> Result<Value, String> {
    if item.is_nil() {
        return Err("index of untyped nil".to_string());
    }
    let mut item = item.clone();
    for i in indexes {
        item = match &item.unwrap_map_type() {
            Value::Nil | Value::Missing => return Err("index of nil pointer".to_string()),
            Value::List(l) => {
                let x = index_arg(i, l.len())?;
                match l.get(x) {
                    Some(v) => v.clone(),
                    None => return Err("reflect: slice index out of range".to_string()),
                }
            }
            Value::String(s) => {
                let bytes = super::sprig::go_bytes(s);
                let x = index_arg(i, bytes.len())?;
                match bytes.get(x) {
                    // Indexing a Go string gives a byte (`uint8`).
                    Some(b) => Value::Uint8(*b),
                    None => return Err("reflect: string index out of range".to_string()),
                }
            }
            Value::Map(m) => match i {
                Value::String(k) => m.get(k).unwrap_or_else(|| m.elem_zero()),
                Value::Nil | Value::Missing => {
                    return Err("value is nil; should be of type string".to_string());
                }
                other => {
                    return Err(format!("value has type {}; should be string", other.type_name()));
                }
            },
            other => return Err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(item)
}

fn slice(item: &Value, indexes: &[Value]) -> Result<Value, String> {
    if item.is_nil() {
        return Err("slice of untyped nil".to_string());
    }
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    // Go checks the indexes against the capacity: a list's spare elements
    // past its length are reachable.
    let (len, cap) = match item {
        Value::String(s) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".to_string());
            }
            let n = super::sprig::go_bytes(s).len();
            (n, n)
        }
        Value::List(l) => (l.len(), l.cap()),
        other => return Err(format!("can't slice item of type {}", other.type_name())),
    };
    let mut idx = [0, len, cap];
    for (i, v) in indexes.iter().enumerate() {
        idx[i] = index_arg(v, cap)?;
    }
    if indexes.len() < 3 {
        idx[2] = cap;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]));
    }
    if idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]));
    }
    match item {
        // Go slices a string's bytes; a cut through a character leaves bytes.
        Value::String(s) => {
            Ok(Value::from(super::sprig::from_go_bytes(&super::sprig::go_bytes(s)[idx[0]..idx[1]])))
        }
        // A slice of a slice keeps its element type and shares the
        // elements up to the capacity.
        Value::List(l) => Ok(Value::List(l.subslice(idx[0], idx[1], idx[2]))),
        _ => Err(format!("can't slice item of type {}", item.type_name())),
    }
}

/// The comparison class of a value, as Go's `basicKind` sorts them.
#[derive(PartialEq, Clone, Copy)]
enum Kind {
    Bool,
    Int,
    Uint,
    Float,
    Complex,
    String,
    Other,
    Invalid,
}

fn basic_kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) | Value::Int64(_) | Value::Named(_) => Kind::Int,
        Value::Uint64(_) | Value::Uint8(_) => Kind::Uint,
        Value::Float(_) => Kind::Float,
        Value::Complex(..) => Kind::Complex,
        Value::String(_) => Kind::String,
        Value::Nil | Value::Missing => Kind::Invalid,
        _ => Kind::Other,
    }
}

/// The error of comparing values of two kinds, naming their Go types as Go 1.22+ does.
fn incompatible(a: &Value, b: &Value) -> String {
    format!("incompatible types for comparison: {} and {}", a.type_name(), b.type_name())
}
const BAD_COMPARISON_TYPE: &str = "invalid type for comparison";

/// Go's `eq`: whether `a` equals any of `bs`.
pub(crate) fn eq(a: &Value, bs: &[Value]) -> Result<bool, String> {
    if bs.is_empty() {
        return Err("missing argument for comparison".to_string());
    }
    let k1 = basic_kind(a);
    for b in bs {
        let k2 = basic_kind(b);
        let truth = if k1 != k2 {
            // Integers compare across signedness; other kinds never equal.
            match (a.as_integer(), b.as_integer()) {
                (Some(x), Some(y)) => x == y,
                _ if !a.is_nil() && !b.is_nil() => return Err(incompatible(a, b)),
                _ => false,
            }
        } else {
            match (a, b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                _ if k1 == Kind::Int || k1 == Kind::Uint => a.as_integer() == b.as_integer(),
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::Complex(a, b), Value::Complex(c, d)) => a == c && b == d,
                (Value::String(x), Value::String(y)) => x == y,
                _ if a.is_nil() && b.is_nil() => true,
                (Value::List(_) | Value::Map(_) | Value::Func(_), _)
                | (_, Value::List(_) | Value::Map(_)) => {
                    let shown =
                        |f: &str, v: &Value| super::fmt::sprintf(f, std::slice::from_ref(v));
                    let (ta, tb) = (a.type_name(), b.type_name());
                    // Values of two types cannot be compared at all; of one
                    // type, that type is not comparable. Go prints the first
                    // value with %s and the second with %v.
                    return Err(if ta != tb {
                        format!(
                            "non-comparable types {}: {ta}, {tb}: {}",
                            shown("%s", a),
                            shown("%v", b)
                        )
                    } else {
                        format!("non-comparable type {}: {tb}", shown("%s", b))
                    });
                }
                (Value::Struct(x), Value::Struct(y)) => {
                    Arc::ptr_eq(x, y)
                        || (x.type_name == y.type_name
                            && x.eq_key.is_some()
                            && x.eq_key == y.eq_key)
                }
                _ => false,
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Go's `lt`.
pub(crate) fn less(a: &Value, b: &Value) -> Result<bool, String> {
    let k1 = basic_kind(a);
    let k2 = basic_kind(b);
    if matches!(k1, Kind::Other | Kind::Invalid) || matches!(k2, Kind::Other | Kind::Invalid) {
        return Err(BAD_COMPARISON_TYPE.to_string());
    }
    // Integers compare across signedness.
    if let (Some(x), Some(y)) = (a.as_integer(), b.as_integer()) {
        return Ok(x < y);
    }
    if k1 != k2 {
        return Err(incompatible(a, b));
    }
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => Ok(x < y),
        (Value::String(x), Value::String(y)) => Ok(x < y),
        _ => Err(BAD_COMPARISON_TYPE.to_string()),
    }
}

/// Go's `template.HTMLEscapeString`.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Go's `template.JSEscapeString`.
pub fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for r in super::sprig::go_runes(s) {
        let c = match r {
            // Go writes a byte that is not UTF-8 as it is.
            super::sprig::GoRune::Byte(b) => {
                out.push_str(&super::sprig::from_go_bytes(&[b]));
                continue;
            }
            super::sprig::GoRune::Char(c) => c,
        };
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if (c as u32) >= 0x80 && !super::fmt::is_print(c) => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => super::sprig::push_char(&mut out, c),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in super::sprig::go_bytes(s).iter() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
