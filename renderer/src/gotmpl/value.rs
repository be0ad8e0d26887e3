//! Go values as templates see them: nil, bool, integers, float64, string, slices, maps, structs, functions.
//!
//! Values keep the Go type that `%T`, `typeOf` and `kindOf` report and that
//! typed parameters check: `int` (constants, `len`), `int64` (Sprig's
//! arithmetic, Helm's `--set` numbers), `uint64` (semver fields), and slices
//! of `interface{}`, `string` or `int`.
//!
//! Maps are shared references, as Go maps are: a function that sets a key
//! (Sprig's `set`) changes the map every holder sees. Lists are shared and
//! immutable, except that a `[]string` can be sorted in place, which every
//! holder sees (Sprig's `sortAlpha`). Structs carry fields in declaration order and methods, so a host
//! such as Helm can expose objects like `.Files` or `.Capabilities`.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, LazyLock, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::funcs::Function;

/// The most nodes a value may have for a deep walk (copy, comparison,
/// conversion, JSON); more means a map contains itself or a runaway template.
pub const MAX_NODES: usize = 1 << 22;

/// The deepest nesting a deep walk follows.
pub const MAX_NESTING: usize = 10_000;

/// A Go value.
#[derive(Clone, Default)]
pub enum Value {
    /// Go's invalid `reflect.Value`: a missing map key. Prints as `<no value>`;
    /// functions receive it as [`Value::Nil`].
    #[default]
    Missing,
    /// A nil `interface{}`.
    Nil,
    /// A bool.
    Bool(bool),
    /// An `int` (Go's 64-bit int; constants, `len` and counters are ints).
    Int(i64),
    /// An `int64` (Sprig's arithmetic and `int64`, Helm's `--set` numbers).
    Int64(i64),
    /// A `uint64` (the fields of a parsed semantic version).
    Uint64(u64),
    /// A `uint8`: a byte of a `[]byte` (Helm's `.Files.GetBytes`).
    Uint8(u8),
    /// A float64 (every number in YAML or JSON data).
    Float(f64),
    /// A complex128 (a constant such as `1+2i`): real and imaginary parts.
    Complex(f64, f64),
    /// An integer of a named Go type with methods (`time.Duration`,
    /// `time.Month`, `time.Weekday`).
    Named(Named),
    /// A string.
    String(Arc<str>),
    /// A slice: `[]interface{}`, or a slice of another element type.
    List(List),
    /// A `map[string]interface{}`, iterated in sorted key order.
    Map(MapRef),
    /// A struct value with fields and methods.
    Struct(Arc<Struct>),
    /// A function value, for `call`.
    Func(Function),
}

/// A Go type defined on an integer type, with a `String` method and others
/// (`time.Duration` on `int64`, `time.Month` on `int`).
pub struct NamedType {
    /// The type as `%T` prints it, e.g. `time.Month`.
    pub name: &'static str,
    /// The underlying integer type, as `kindOf` prints it: `int` or `int64`.
    pub kind: &'static str,
    /// Its `String` method: what `%v`, `%s` and template output print.
    pub string: fn(i64) -> String,
    /// Its methods by name (`String` included), bound to a receiver.
    pub method: fn(i64, &str) -> Option<Function>,
}

impl PartialEq for NamedType {
    fn eq(&self, other: &NamedType) -> bool {
        self.name == other.name
    }
}

impl Eq for NamedType {}

impl fmt::Debug for NamedType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// An integer of a [`NamedType`]. As in Go it is an integer wherever a
/// kind is asked for (comparisons, `%d`, JSON, conversions, truth) and
/// prints by its `String` method where a `fmt.Stringer` does.
#[derive(Clone, Copy)]
pub struct Named {
    /// Its type.
    pub ty: &'static NamedType,
    /// Its number.
    pub value: i64,
}

impl Named {
    /// What its `String` method returns.
    pub fn string(&self) -> String {
        (self.ty.string)(self.value)
    }

    /// Its method `name`, bound to it.
    pub fn method(&self, name: &str) -> Option<Function> {
        (self.ty.method)(self.value, name)
    }

    /// Whether it is of type `ty`.
    pub fn is(&self, ty: &NamedType) -> bool {
        self.ty == ty
    }
}

/// A shared, mutable `map[string]interface{}`.
///
/// A handle may carry a Go type defined on that map type (Helm's
/// `common.Values`): `%T` and `typeOf` print its name, its methods shadow
/// keys of the same name in field access, and a function asserting a plain
/// `map[string]interface{}` (Sprig's `dig`) refuses it. Handles of the same
/// map may carry different types, as a Go map converted to another map type
/// still shares its entries.
#[derive(Clone, Default)]
pub struct MapRef(Arc<RwLock<BTreeMap<String, Value>>>, Option<Arc<MapType>>);

/// A [`Struct::native`] map built on first use: a host whose map is costly
/// to build (Helm's `.Files`, one `[]byte` per file) and seldom ranged over
/// pays for it only when a template reads it as a map.
pub struct LazyMap {
    map: OnceLock<MapRef>,
    build: Box<dyn Fn() -> MapRef + Send + Sync>,
}

impl LazyMap {
    /// A map that `build` makes when it is first read.
    pub fn new(build: impl Fn() -> MapRef + Send + Sync + 'static) -> LazyMap {
        LazyMap { map: OnceLock::new(), build: Box::new(build) }
    }

    /// The map, built now if it was not yet.
    pub fn get(&self) -> &MapRef {
        self.map.get_or_init(|| (self.build)())
    }
}

/// A Go map type other than `map[string]interface{}`: a named type defined
/// on it (Helm's `common.Values`), or another map type (`map[string]string`).
pub struct MapType {
    /// The type as `%T` prints it, e.g. `common.Values`.
    pub name: String,
    /// Methods by name; a method receives the receiver map first, then the
    /// call's arguments.
    pub methods: BTreeMap<String, Function>,
    /// Whether the underlying type is `map[string]interface{}`, so that a
    /// function's map parameter accepts the map.
    pub convertible: bool,
    /// Whether handles of this type stand for Go's nil map of it: empty, and
    /// `null` when encoded.
    pub is_nil: bool,
    /// The zero value of the element type, which a missing key yields.
    pub elem_zero: Value,
}

/// Go's `map[string]string` type, and its nil map.
static STRING_MAP: LazyLock<[Arc<MapType>; 2]> = LazyLock::new(|| {
    [false, true].map(|is_nil| {
        Arc::new(MapType {
            name: "map[string]string".to_string(),
            methods: BTreeMap::new(),
            convertible: false,
            is_nil,
            elem_zero: Value::from(""),
        })
    })
});

impl MapType {
    /// Go's `map[string]string`, or for `is_nil` that type's nil map.
    pub fn string_map(is_nil: bool) -> Arc<MapType> {
        STRING_MAP[usize::from(is_nil)].clone()
    }
}

impl MapRef {
    /// What a missing key of this map yields: the zero value of its element
    /// type (nil for `map[string]interface{}`).
    pub fn elem_zero(&self) -> Value {
        self.1.as_ref().map_or(Value::Nil, |t| t.elem_zero.clone())
    }

    /// Whether the element type is `interface {}` (a `map[string]interface{}`
    /// or a named type on it), not a concrete type as `map[string]string`'s.
    pub fn holds_interface(&self) -> bool {
        self.1.as_ref().is_none_or(|t| t.convertible)
    }
}

impl MapRef {
    /// A new map holding `entries`.
    pub fn new(entries: BTreeMap<String, Value>) -> Self {
        MapRef(Arc::new(RwLock::new(entries)), None)
    }

    /// A handle to the same map whose Go type is `map_type`.
    pub fn with_type(&self, map_type: Arc<MapType>) -> MapRef {
        MapRef(self.0.clone(), Some(map_type))
    }

    /// A handle to the same map as a plain `map[string]interface{}`, which
    /// is what a function with a map parameter receives.
    pub fn plain(&self) -> MapRef {
        MapRef(self.0.clone(), None)
    }

    /// The map's named Go type, if it has one.
    pub fn map_type(&self) -> Option<&Arc<MapType>> {
        self.1.as_ref()
    }

    /// Read access to the entries.
    pub fn read(&self) -> RwLockReadGuard<'_, BTreeMap<String, Value>> {
        // A poisoned lock only means another thread panicked while holding it;
        // the map itself is still a valid map.
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Write access to the entries.
    pub fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<String, Value>> {
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The value under `key`, if present.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.read().get(key).cloned()
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// A snapshot of the entries in key order.
    pub fn entries(&self) -> Vec<(String, Value)> {
        self.read().iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// Whether two handles refer to the same map.
    pub fn same(&self, other: &MapRef) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// An identity shared by every handle of this map (its address), as Go
    /// tells maps apart when it looks for cycles.
    pub fn identity(&self) -> usize {
        Arc::as_ptr(&self.0).cast::<()>() as usize
    }
}

/// The element type of a Go slice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem {
    /// `interface{}`: any value (lists built by templates, YAML and JSON data).
    Any,
    /// `string` (`splitList`, `keys`, `regexFindAll` ...).
    String,
    /// `int` (`until`, `untilStep`).
    Int,
    /// `[]interface{}` (Sprig's `chunk`).
    AnyList,
    /// `uint8`: a `[]byte`, which prints as text with `%s` and encodes as base64.
    Uint8,
}

impl Elem {
    /// The zero value of the element type.
    pub fn zero(self) -> Value {
        match self {
            Elem::Any => Value::Nil,
            Elem::String => Value::from(""),
            Elem::Int => Value::Int(0),
            Elem::AnyList => Value::List(List::nil(Elem::Any)),
            Elem::Uint8 => Value::Uint8(0),
        }
    }

    /// The element type as Go prints it.
    pub fn go_name(self) -> &'static str {
        match self {
            Elem::Any => "interface {}",
            Elem::String => "string",
            Elem::Int => "int",
            Elem::AnyList => "[]interface {}",
            Elem::Uint8 => "uint8",
        }
    }
}

/// A shared Go slice: its items and element type. Dereferences to the items.
#[derive(Clone)]
pub struct List(Arc<ListData>);

struct ListData {
    items: Vec<Value>,
    elem: Elem,
    /// Whether this is Go's nil slice, which JSON encodes as `null` and
    /// `deepEqual` tells from an empty one.
    nil: bool,
    /// The elements between the length and the capacity: Go's `slice`
    /// builtin may reach them (zero values where `append` grew the backing
    /// array, the original's items for a slice of a slice).
    spare: Vec<Value>,
    /// The items after an in-place sort. Go's sort rewrites the backing array
    /// that every holder of the slice shares; sorting is the only change a
    /// template can make to a slice, so the sorted order is set once.
    sorted: OnceLock<Vec<Value>>,
}

impl List {
    /// A slice of `elem` holding `items`, which must be of that type.
    pub fn typed(elem: Elem, items: Vec<Value>) -> List {
        List(Arc::new(ListData {
            items,
            elem,
            nil: false,
            spare: Vec::new(),
            sorted: OnceLock::new(),
        }))
    }

    /// A `[]interface{}` holding `items`.
    pub fn new(items: Vec<Value>) -> List {
        List::typed(Elem::Any, items)
    }

    /// A `[]byte` holding `bytes`.
    pub fn bytes(bytes: &[u8]) -> List {
        List::typed(Elem::Uint8, bytes.iter().map(|b| Value::Uint8(*b)).collect())
    }

    /// The bytes of a `[]byte`; `None` for other slices.
    pub fn as_bytes(&self) -> Option<Vec<u8>> {
        (self.elem() == Elem::Uint8)
            .then(|| self.iter().filter_map(|v| v.as_integer().map(|b| b as u8)).collect())
    }

    /// Go's nil slice of `elem`.
    pub fn nil(elem: Elem) -> List {
        List(Arc::new(ListData {
            items: Vec::new(),
            elem,
            nil: true,
            spare: Vec::new(),
            sorted: OnceLock::new(),
        }))
    }

    /// A slice of `elem` holding `items` whose capacity is `cap` (at least
    /// the length): the spare elements are zero values.
    pub fn with_cap(elem: Elem, items: Vec<Value>, cap: usize) -> List {
        let spare = vec![elem.zero(); cap.saturating_sub(items.len())];
        List::with_spare(elem, items, spare)
    }

    /// A slice of `elem` holding `items`, with `spare` past its length.
    pub fn with_spare(elem: Elem, items: Vec<Value>, spare: Vec<Value>) -> List {
        List(Arc::new(ListData { items, elem, nil: false, spare, sorted: OnceLock::new() }))
    }

    /// A `[]interface{}` built by appending `items` one by one to an empty
    /// slice, as `encoding/json` decodes an array and Sprig builds most
    /// lists: its capacity is what Go's append growth gives.
    pub fn appended(elem: Elem, items: Vec<Value>) -> List {
        let cap = super::growth::appended_cap(items.len(), elem);
        List::with_cap(elem, items, cap)
    }

    /// Go's `cap`.
    pub fn cap(&self) -> usize {
        self.len() + self.0.spare.len()
    }

    /// The elements past the length, up to the capacity.
    pub fn spare(&self) -> &[Value] {
        &self.0.spare
    }

    /// Go's `l[lo:hi:max]` (`max` at most the capacity, `lo <= hi <= max`):
    /// the elements past the length up to `hi` are the spare ones.
    pub fn subslice(&self, lo: usize, hi: usize, max: usize) -> List {
        let all: Vec<&Value> = self.iter().chain(self.spare()).collect();
        let part = |r: std::ops::Range<usize>| -> Vec<Value> {
            all.get(r).unwrap_or_default().iter().map(|v| (*v).clone()).collect()
        };
        List::with_spare(self.elem(), part(lo..hi), part(hi..max))
    }

    /// The element type.
    pub fn elem(&self) -> Elem {
        self.0.elem
    }

    /// An identity shared by every holder of this slice (its address), as
    /// Go tells slices apart when it looks for cycles.
    pub fn identity(&self) -> usize {
        Arc::as_ptr(&self.0).cast::<()>() as usize
    }

    /// Whether this is a nil slice.
    pub fn is_nil(&self) -> bool {
        self.0.nil
    }

    /// The slice type as Go prints it, e.g. `[]string`.
    pub fn type_name(&self) -> String {
        format!("[]{}", self.elem().go_name())
    }

    /// Sorts the items in place by `less`: every holder of this slice sees
    /// the new order, as with Go's `sort.Strings` on a shared slice.
    pub fn sort_in_place(&self, less: impl Fn(&Value, &Value) -> std::cmp::Ordering) {
        let mut items = self.to_vec();
        items.sort_by(less);
        // A second sort of the same slice finds it sorted already, so the
        // first sorted order stands.
        let _ = self.0.sorted.set(items);
    }
}

impl Deref for List {
    type Target = [Value];

    fn deref(&self) -> &[Value] {
        self.0.sorted.get().unwrap_or(&self.0.items)
    }
}

/// A struct: a Go type name, fields in declaration order, and methods.
///
/// Build one with struct update syntax over [`Struct::default`], setting only
/// what the type has: `Struct { type_name, fields, ..Struct::default() }`.
#[derive(Default)]
pub struct Struct {
    /// The type as `%T` prints it, e.g. `*chart.Metadata`.
    pub type_name: String,
    /// The fields, in declaration order.
    pub fields: Vec<(String, Value)>,
    /// Methods by name; a method receives the arguments after the receiver.
    pub methods: BTreeMap<String, Function>,
    /// What its `String()` method returns, for a type that is a `fmt.Stringer`:
    /// `%v`, `%s` and template output print this instead of the fields.
    pub string: Option<String>,
    /// Whether that `String()` has a pointer receiver: Go's template output
    /// then calls it for a field reached through a pointer (addressable), while
    /// a copy passed to a function (`print`, `printf`, `toString`, `quote`)
    /// prints the fields.
    pub pointer_string: bool,
    /// What its `GoString()` method returns, for a type that is a
    /// `fmt.GoStringer` (`time.Time`): `%#v` prints this.
    pub go_syntax: Option<String>,
    /// The host's own value behind the struct (a timestamp, a file set), for
    /// the host's functions to read back.
    pub native: Option<Arc<dyn std::any::Any + Send + Sync>>,
    /// The Go `json` tags of the fields, in the order of `fields`
    /// (`"version"`, `"git_commit,omitempty"`, `"-"`); a field without one
    /// (or past the end) keeps its name in `toJson` and `toYaml`.
    pub json_tags: Vec<&'static str>,
    /// For a comparable struct that Go passes by value (`time.Time`), what
    /// Go's `==` compares, as text: `eq` finds two such structs of one type
    /// equal when these are. None compares by identity, as Go compares the
    /// pointers most host values are.
    pub eq_key: Option<String>,
}

impl Struct {
    /// The entries of a Go map type with methods (Helm's `files.Files` is a
    /// `map[string][]byte`): a host sets [`Struct::native`] to a [`MapRef`],
    /// and `range`, `len`, `index` and truth then treat the struct as that map.
    pub fn as_map(&self) -> Option<&MapRef> {
        let native = self.native.as_ref()?;
        native
            .downcast_ref::<MapRef>()
            .or_else(|| native.downcast_ref::<LazyMap>().map(LazyMap::get))
    }

    /// The items of a Go slice type with methods (Helm's
    /// `common.VersionSet` is a `[]string`): a host sets [`Struct::native`]
    /// to a [`List`], and `range`, `len`, `index`, truth and
    /// printing then treat the struct as that list.
    pub fn as_list(&self) -> Option<&List> {
        self.native.as_ref()?.downcast_ref::<List>()
    }

    /// The fields as `encoding/json` writes them: the exported ones, named by
    /// their tags, without `-` ones and without empty `omitempty` ones.
    pub(crate) fn json_fields(&self) -> Vec<(&str, &Value)> {
        let mut out = Vec::with_capacity(self.fields.len());
        for (i, (name, v)) in self.fields.iter().enumerate() {
            if name.starts_with(|c: char| !c.is_uppercase()) {
                // encoding/json leaves unexported fields out.
                continue;
            }
            let tag = self.json_tags.get(i).copied().unwrap_or("");
            let (tag_name, options) = tag.split_once(',').unwrap_or((tag, ""));
            if tag_name == "-" && options.is_empty() {
                continue;
            }
            if options.split(',').any(|o| o == "omitempty") && v.is_json_empty() {
                continue;
            }
            out.push((if tag_name.is_empty() { name.as_str() } else { tag_name }, v));
        }
        out
    }

    /// The map or list a map- or slice-typed struct stands for.
    pub(crate) fn underlying(&self) -> Option<Value> {
        match (self.as_map(), self.as_list()) {
            (Some(m), _) => Some(Value::Map(m.clone())),
            (_, Some(l)) => Some(Value::List(l.clone())),
            _ => None,
        }
    }

    /// The string `json.Marshal` writes for a type that marshals itself as
    /// one (`*semver.Version`, `time.Time`), which `toJson` and `toYaml` print
    /// instead of the fields; `None` for other structs.
    pub fn json_string(&self) -> Option<String> {
        match self.type_name.as_str() {
            "*semver.Version" | "semver.Version" => self.string.clone(),
            "time.Time" => super::sprig::time_json(self),
            _ => None,
        }
    }
}

impl Value {
    /// Whether `encoding/json`'s `omitempty` leaves the value out: false, 0,
    /// "", nil, and empty lists and maps.
    fn is_json_empty(&self) -> bool {
        match self {
            Value::Struct(st) => st.underlying().is_some_and(|v| v.is_json_empty()),
            Value::Func(_) => false,
            v => !v.is_true(),
        }
    }

    /// A string value.
    pub fn string(s: impl Into<Arc<str>>) -> Value {
        Value::String(s.into())
    }

    /// A `[]interface{}` value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(List::new(items))
    }

    /// A `[]string` value.
    pub fn string_list(items: impl IntoIterator<Item = impl Into<Arc<str>>>) -> Value {
        Value::List(List::typed(Elem::String, items.into_iter().map(Value::string).collect()))
    }

    /// A map value.
    pub fn map(entries: BTreeMap<String, Value>) -> Value {
        Value::Map(MapRef::new(entries))
    }

    /// A `map[string]string` value; its values must be strings.
    pub fn string_map(entries: BTreeMap<String, Value>) -> Value {
        Value::Map(MapRef::new(entries).with_type(MapType::string_map(false)))
    }

    /// An integer `value` of the named type `ty`.
    pub fn named(ty: &'static NamedType, value: i64) -> Value {
        Value::Named(Named { ty, value })
    }

    /// Whether this is nil or missing.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil | Value::Missing)
    }

    /// The number of an integer of any Go integer type (`int`, `int64`, `uint64`).
    pub fn as_integer(&self) -> Option<i128> {
        match self {
            Value::Int(i) | Value::Int64(i) => Some(i128::from(*i)),
            Value::Uint64(u) => Some(i128::from(*u)),
            Value::Uint8(u) => Some(i128::from(*u)),
            Value::Named(n) => Some(i128::from(n.value)),
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

    /// Go's truth: false, 0, nil, and empty strings, lists and maps are false.
    pub fn is_true(&self) -> bool {
        match self {
            Value::Missing | Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) | Value::Int64(i) => *i != 0,
            Value::Uint64(u) => *u != 0,
            Value::Uint8(u) => *u != 0,
            Value::Named(n) => n.value != 0,
            Value::Float(f) => *f != 0.0,
            Value::Complex(re, im) => *re != 0.0 || *im != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Struct(s) => s.underlying().is_none_or(|v| v.is_true()),
            Value::Func(_) => true,
        }
    }

    /// The map or list a map- or slice-typed struct stands for (see
    /// [`Struct::as_map`], [`Struct::as_list`]); any other value unchanged.
    pub fn unwrap_map_type(self) -> Value {
        match &self {
            Value::Struct(s) => s.underlying().unwrap_or(self),
            _ => self,
        }
    }

    /// The type as Go's `%T` prints it.
    pub fn type_name(&self) -> String {
        match self {
            Value::Missing | Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Int64(_) => "int64".into(),
            Value::Uint64(_) => "uint64".into(),
            Value::Uint8(_) => "uint8".into(),
            Value::Named(n) => n.ty.name.into(),
            Value::Float(_) => "float64".into(),
            Value::Complex(..) => "complex128".into(),
            Value::String(_) => "string".into(),
            Value::List(l) => l.type_name(),
            Value::Map(m) => match m.map_type() {
                Some(t) => t.name.clone(),
                None => "map[string]interface {}".into(),
            },
            Value::Struct(s) => s.type_name.clone(),
            Value::Func(_) => "func(...interface {}) (interface {}, error)".into(),
        }
    }

    /// Go's `reflect.Kind` name of the value (`int`, `map`, `slice`, `ptr` ...).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Missing | Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Int64(_) => "int64",
            Value::Uint64(_) => "uint64",
            Value::Uint8(_) => "uint8",
            Value::Named(n) => n.ty.kind,
            Value::Float(_) => "float64",
            Value::Complex(..) => "complex128",
            Value::String(_) => "string",
            Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Struct(s) => match s.underlying() {
                Some(v) => v.kind_name(),
                None if s.type_name.starts_with('*') => "ptr",
                None => "struct",
            },
            Value::Func(_) => "func",
        }
    }

    /// Whether the value has at most `nodes` nodes, with lists, maps and
    /// structs nested at most `depth` deep. A map that contains itself has neither bound; checking one visits
    /// at most `nodes` nodes, so deep walks check it first.
    pub fn is_bounded(&self, nodes: usize, depth: usize) -> bool {
        // An explicit stack of (value, depth left): a map that contains
        // itself is walked down to the bound, which must not cost recursion.
        let mut budget = nodes;
        let mut todo: Vec<(Value, usize)> = vec![(self.clone(), depth)];
        while let Some((v, left)) = todo.pop() {
            if budget == 0 {
                return false;
            }
            budget -= 1;
            let children: Vec<Value> = match &v {
                Value::List(l) => l.iter().cloned().collect(),
                Value::Map(m) => m.read().values().cloned().collect(),
                Value::Struct(st) => st.fields.iter().map(|(_, x)| x.clone()).collect(),
                _ => continue,
            };
            if left == 0 {
                return false;
            }
            todo.extend(children.into_iter().map(|c| (c, left - 1)));
        }
        true
    }

    /// The value as plain data, the way Helm's `toYaml` sees it after its JSON
    /// round trip: nil and functions become null, structs maps of their fields.
    /// `None` for a value that contains itself or exceeds [`MAX_NODES`] nodes.
    pub fn to_data(&self) -> Option<crate::value::Value> {
        self.is_bounded(MAX_NODES, MAX_NESTING).then(|| self.to_data_unchecked(false))
    }

    /// The value as plain data the way BurntSushi/toml reads it (Helm's
    /// `toToml`): as [`Value::to_data`], but a struct's exported fields keep
    /// their Go names, with no `json` tag or `omitempty` applied (the
    /// encoder reads only `toml` tags, which Helm's structs have none of).
    pub fn to_data_toml(&self) -> Option<crate::value::Value> {
        self.is_bounded(MAX_NODES, MAX_NESTING).then(|| self.to_data_unchecked(true))
    }

    fn to_data_unchecked(&self, toml: bool) -> crate::value::Value {
        use crate::value::Value as V;
        match self {
            // Go's encoding/json refuses both; plain data has no such value.
            Value::Missing | Value::Nil | Value::Func(_) | Value::Complex(..) => V::Null,
            Value::Bool(b) => V::Bool(*b),
            Value::Int(i) | Value::Int64(i) => V::Int(*i),
            // A uint64 above the int64 range is a float in the plain data model.
            Value::Uint64(u) => V::from_u64(*u),
            Value::Uint8(u) => V::Int(i64::from(*u)),
            Value::Named(n) => V::Int(n.value),
            Value::Float(f) => V::Float(*f),
            Value::String(s) => V::String(s.to_string()),
            Value::List(l) if l.is_nil() => V::Null,
            // JSON encodes a `[]byte` as base64 text.
            Value::List(l) if let Some(b) = l.as_bytes() => {
                V::String(super::sprig::base64_encode(&b))
            }
            Value::List(l) => V::Seq(l.iter().map(|v| v.to_data_unchecked(toml)).collect()),
            Value::Map(m) if m.map_type().is_some_and(|t| t.is_nil) => V::Null,
            Value::Map(m) => V::Map(
                m.entries().into_iter().map(|(k, v)| (k, v.to_data_unchecked(toml))).collect(),
            ),
            Value::Struct(st) => match (st.json_string(), st.underlying()) {
                (Some(s), _) => V::String(s),
                (None, Some(u)) => u.to_data_unchecked(toml),
                (None, None) if toml => V::Map(
                    st.fields
                        .iter()
                        .filter(|(k, _)| k.starts_with(char::is_uppercase))
                        .map(|(k, v)| (k.clone(), v.to_data_unchecked(toml)))
                        .collect(),
                ),
                (None, None) => V::Map(
                    st.json_fields()
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v.to_data_unchecked(toml)))
                        .collect(),
                ),
            },
        }
    }

    /// Converts missing to nil: what a function receives for a missing value.
    pub(crate) fn into_arg(self) -> Value {
        match self {
            Value::Missing => Value::Nil,
            v => v,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Missing => f.write_str("Missing"),
            Value::Nil => f.write_str("Nil"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Int(i) => write!(f, "Int({i})"),
            Value::Int64(i) => write!(f, "Int64({i})"),
            Value::Uint64(u) => write!(f, "Uint64({u})"),
            Value::Uint8(u) => write!(f, "Uint8({u})"),
            Value::Named(n) => write!(f, "{}({})", n.ty.name, n.value),
            Value::Float(x) => write!(f, "Float({x})"),
            Value::Complex(re, im) => write!(f, "Complex({re}, {im})"),
            Value::String(s) => write!(f, "String({s:?})"),
            Value::List(l) => f.debug_list().entries(l.iter()).finish(),
            Value::Map(m) => f.debug_map().entries(m.entries()).finish(),
            Value::Struct(s) => write!(f, "Struct({})", s.type_name),
            Value::Func(_) => f.write_str("Func"),
        }
    }
}

/// Plain data as template data. Its integers are int64, as the decoders
/// that give a template integers make them (Helm's `--set`, TOML).
impl From<&crate::value::Value> for Value {
    fn from(v: &crate::value::Value) -> Self {
        use crate::value::Value as V;
        match v {
            V::Null => Value::Nil,
            V::Bool(b) => Value::Bool(*b),
            V::Int(i) => Value::Int64(*i),
            V::Uint(u) => Value::Uint64(*u),
            V::Float(f) => Value::Float(*f),
            V::String(s) => Value::string(s.as_str()),
            // encoding/json appends an array's elements one by one.
            V::Seq(items) => {
                Value::List(List::appended(Elem::Any, items.iter().map(Value::from).collect()))
            }
            V::Map(m) => Value::map(m.iter().map(|(k, v)| (k.clone(), Value::from(v))).collect()),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::string(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::string(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_round_trip() {
        use crate::value::Value as V;
        let data = V::Map(
            [
                ("i".to_string(), V::Int(1)),
                ("f".to_string(), V::Float(1e6)),
                ("n".to_string(), V::Null),
                ("l".to_string(), V::Seq(vec![V::Bool(true), V::String("s".into())])),
            ]
            .into_iter()
            .collect(),
        );
        let v = Value::from(&data);
        assert!(matches!(v.clone(), Value::Map(m) if m.len() == 4));
        // Keys come back sorted, as Go maps iterate.
        let back = v.to_data().unwrap();
        let keys: Vec<&String> = back.as_map().unwrap().keys().collect();
        assert_eq!(keys, ["f", "i", "l", "n"]);
        assert_eq!(back.as_map().unwrap()["f"], V::Float(1e6));
        assert_eq!(back.as_map().unwrap()["l"], data.as_map().unwrap()["l"]);
        // A map that contains itself is refused, not walked forever.
        if let Value::Map(m) = &v {
            m.write().insert("self".into(), v.clone());
        }
        assert!(v.to_data().is_none());
    }

    #[test]
    fn go_types() {
        use crate::value::Value as V;
        // (value, %T, kind, truth)
        let cases = [
            (Value::Int(2), "int", "int", true),
            (Value::Int64(0), "int64", "int64", false),
            (Value::Uint64(3), "uint64", "uint64", true),
            (Value::from(&V::Int(7)), "int64", "int64", true),
            (Value::list(vec![]), "[]interface {}", "slice", false),
            (Value::string_list(["a"]), "[]string", "slice", true),
            (Value::List(List::typed(Elem::Int, vec![Value::Int(1)])), "[]int", "slice", true),
            (Value::List(List::nil(Elem::String)), "[]string", "slice", false),
            (Value::string_map(BTreeMap::new()), "map[string]string", "map", false),
        ];
        for (v, type_name, kind, truth) in cases {
            assert_eq!(v.type_name(), type_name, "{v:?}");
            assert_eq!(v.kind_name(), kind, "{v:?}");
            assert_eq!(v.is_true(), truth, "{v:?}");
        }
        // Typed integers are plain integers as data; a nil slice is null.
        assert_eq!(Value::Uint64(5).to_data(), Some(V::Int(5)));
        assert_eq!(Value::Int64(-5).to_data(), Some(V::Int(-5)));
        assert_eq!(Value::List(List::nil(Elem::Any)).to_data(), Some(V::Null));
    }

    #[test]
    fn sort_in_place_is_shared() {
        let list = List::typed(Elem::String, vec![Value::from("b"), Value::from("a")]);
        let holder = Value::List(list.clone());
        list.sort_in_place(|x, y| x.as_str().cmp(&y.as_str()));
        let Value::List(seen) = holder else { unreachable!() };
        assert_eq!(seen.iter().map(|v| v.as_str().unwrap()).collect::<Vec<_>>(), ["a", "b"]);
        // A copy made before the sort keeps the old order.
        let copy = List::typed(Elem::String, vec![Value::from("b"), Value::from("a")]);
        let before = copy.to_vec();
        copy.sort_in_place(|x, y| x.as_str().cmp(&y.as_str()));
        assert_eq!(before[0].as_str(), Some("b"));
    }
}
