//! `values.schema.json` validation of each chart's values, as Helm does before rendering.

use super::Error;
use super::chart::Chart;
use crate::value::{Map, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

mod unevaluated;

/// Validates `values` against the chart's schema and each subchart's values against its own.
pub fn validate(chart: &Chart, values: &Map) -> Result<(), Error> {
    let mut report = String::new();
    check(chart, values, &mut report)?;
    if report.is_empty() { Ok(()) } else { Err(Error::Schema { message: report }) }
}

fn check(chart: &Chart, values: &Map, report: &mut String) -> Result<(), Error> {
    if let Some(raw_schema) = &chart.schema {
        report.push_str(&check_one(chart, raw_schema, values)?);
    }
    for sub in &chart.dependencies {
        let empty = Map::new();
        let sub_values = values.get(&sub.name).and_then(Value::as_map).unwrap_or(&empty);
        check(sub, sub_values, report)?;
    }
    Ok(())
}

/// A chart's schema made ready for its values: everything that depends on
/// the schema alone, which renders of the same schema share.
enum Prepared {
    /// Not JSON, or a schema the validator cannot build: the reason.
    Broken(String),
    /// What Helm reports whatever the values, below the chart's name: the
    /// schema breaks its metaschema, or refers to a file Helm cannot open.
    Report(String),
    /// A compiled schema.
    Ready {
        schema: serde_json::Value,
        validator: jsonschema::Validator,
        /// Whether the validator reaches the schema through a `$ref` (its
        /// error paths then start with it).
        wrapped: bool,
        /// Whether the schema has a `$ref` cycle the values may reach.
        cycles: bool,
    },
}

/// How many schemas [`prepared`] keeps.
const PREPARED_KEPT: usize = 32;

/// The schema `raw` made ready, shared by every render of the same bytes:
/// parsing, the metaschema check and compiling cost as much as the
/// schema is big, and a chart's schema does not change between renders.
fn prepared(raw: &[u8]) -> Arc<Prepared> {
    type Kept = Vec<(Vec<u8>, Arc<Prepared>)>;
    static KEPT: Mutex<Kept> = Mutex::new(Vec::new());
    let lock = || KEPT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, p)) = lock().iter().find(|(bytes, _)| bytes.as_slice() == raw) {
        return Arc::clone(p);
    }
    let p = Arc::new(prepare(raw));
    let mut kept = lock();
    if kept.len() >= PREPARED_KEPT {
        kept.remove(0);
    }
    kept.push((raw.to_vec(), Arc::clone(&p)));
    p
}

fn prepare(raw: &[u8]) -> Prepared {
    let mut schema: serde_json::Value = match serde_json::from_slice(raw) {
        Ok(v) => v,
        Err(e) => {
            return match go_json_error(raw) {
                Some(report) => Prepared::Report(report),
                None => Prepared::Broken(e.to_string()),
            };
        }
    };
    if let Some(report) = unloadable_meta_schema(&schema) {
        return Prepared::Report(report);
    }
    // Helm then checks the schema against its draft's metaschema.
    if let Some(failure) = super::metaschema::check(&schema) {
        return Prepared::Report(failure);
    }
    normalize_meta_schema(&mut schema);
    accept_unfetched_refs(&mut schema);
    encode_refs(&mut schema);
    localize_own_refs(&mut schema);
    let not_built = |e: jsonschema::ValidationError<'_>| match first_relative_ref(&schema) {
        // Helm resolves a relative `$ref` against `file:///` and fails
        // to open it: its report names the file, as this one does.
        Some(file) => Prepared::Report(format!(
            "failing loading \"file:///{file}\": open /{file}: no such file or directory"
        )),
        None => match missing_target(&schema, &e.to_string()) {
            Some(report) => Prepared::Report(report),
            None => Prepared::Broken(e.to_string()),
        },
    };
    // The Rust validator checks a schema it builds against its own
    // metaschemas, which differ from Helm's (its `format`s): a schema that
    // Helm's check passed but it refuses is built as the resource a `$ref`
    // reaches, which it does not check; its error paths then start there.
    let (validator, wrapped) = match options().build(&schema) {
        Ok(v) => (v, false),
        Err(e) if first_relative_ref(&schema).is_some() => return not_built(e),
        Err(_) => match wrapped_validator(&schema) {
            Ok(v) => (v, true),
            Err(e) => return not_built(e),
        },
    };
    let cycles = super::refcycle::has_cycle(&schema);
    Prepared::Ready { schema, validator, wrapped, cycles }
}

/// What Helm reports for a `values.schema.json` that is not JSON: the
/// validator reads it with a `json.Decoder` (its first value, Go's syntax
/// error text) and then wants nothing but white space after it. `None`
/// when Go would read the text (serde refused it for another reason).
fn go_json_error(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    if text.trim_start_matches([' ', '\t', '\r', '\n']).is_empty() {
        // A `json.Decoder` with nothing to read says only this.
        return Some("EOF".to_string());
    }
    match crate::gotmpl::sprig::json_decode::decode_first(&text) {
        // The validator keeps numbers as `json.Number`: one beyond float64
        // is no error there.
        Err(e) if e.starts_with("json: cannot unmarshal number") => None,
        Err(e) => Some(e),
        Ok((_, end)) if !text[end..].trim_start_matches([' ', '\t', '\r', '\n']).is_empty() => {
            Some("invalid character after top-level value".to_string())
        }
        Ok(_) => None,
    }
}

/// One chart's own report: empty when its values meet its schema.
fn check_one(chart: &Chart, raw_schema: &[u8], values: &Map) -> Result<String, Error> {
    let prepared = prepared(raw_schema);
    let (schema, validator, wrapped, cycles) = match prepared.as_ref() {
        Prepared::Broken(message) => {
            return Err(Error::Chart {
                path: format!("{}/values.schema.json", chart.name),
                message: message.clone(),
            });
        }
        Prepared::Report(report) => return Ok(format!("{}:\n{report}", chart.name)),
        Prepared::Ready { schema, validator, wrapped, cycles } => {
            (schema, validator, *wrapped, *cycles)
        }
    };
    let instance = map_to_json(values);
    let cycles = if cycles { super::refcycle::find(schema, &instance) } else { Vec::new() };
    if cycles.is_empty() && validator.is_valid(&instance) {
        return Ok(String::new());
    }
    let raw = String::from_utf8_lossy(raw_schema);
    let ctx = Ctx::new(schema, &raw, &instance);
    let lines = ctx.report(validator.iter_errors(&instance), wrapped, cycles);
    // Some failures of the Rust validator are none of Helm's (content keywords).
    if lines.is_empty() {
        return Ok(String::new());
    }
    Ok(format!("{}:\n{}\n", chart.name, lines.join("\n")))
}

/// The validator's options: Helm's `format` checks replace the crate's.
pub(super) fn options() -> jsonschema::ValidationOptions {
    let mut options = jsonschema::options();
    for name in super::formats::NAMES {
        options = options.with_format(*name, move |s: &str| {
            super::formats::check(name, s).is_none_or(|r| r.is_ok())
        });
    }
    options
}

/// A validator of `schema` reached through a `$ref` to it (see [`BASE`]).
fn wrapped_validator(
    schema: &serde_json::Value,
) -> Result<jsonschema::Validator, jsonschema::ValidationError<'static>> {
    let draft = super::metaschema::draft_of(schema);
    let resource = draft.create_resource(schema.clone());
    options()
        .with_draft(draft)
        .with_resource(BASE, resource)
        .build(&serde_json::json!({ "$ref": BASE }))
}

/// The URI Helm gives the chart's schema; sub-validations reach into it by pointer.
const BASE: &str = "file:///values.schema.json";

/// One chart's schema while its failures are turned into Helm's report:
/// the parsed schema, its text (for literals as written), and validators
/// of its subschemas, for keywords whose failures Helm reports item by item
/// (`contains`, `unevaluatedProperties`, `unevaluatedItems`).
pub(super) struct Ctx<'a> {
    root: &'a serde_json::Value,
    raw: &'a str,
    /// The values validated, which every instance location starts from.
    values: &'a serde_json::Value,
    draft: jsonschema::Draft,
    subs: RefCell<HashMap<String, Option<Rc<jsonschema::Validator>>>>,
    /// The objects whose `additionalProperties: false` failure is reported
    /// (the Rust validator may fail one object once per property).
    closed: RefCell<std::collections::HashSet<(Vec<String>, Vec<String>)>>,
    /// The `unevaluatedProperties` keywords (keyword path, instance location)
    /// whose failures are reported.
    uneval_done: RefCell<std::collections::HashSet<(Vec<String>, Vec<String>)>>,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(
        root: &'a serde_json::Value,
        raw: &'a str,
        values: &'a serde_json::Value,
    ) -> Ctx<'a> {
        Ctx {
            root,
            raw,
            values,
            draft: super::metaschema::draft_of(root),
            subs: RefCell::new(HashMap::new()),
            closed: RefCell::new(std::collections::HashSet::new()),
            uneval_done: RefCell::new(std::collections::HashSet::new()),
        }
    }

    /// The lines Helm prints for the validator's failures of the values.
    pub(super) fn report<'e>(
        &self,
        errors: impl Iterator<Item = jsonschema::ValidationError<'e>>,
        wrapped: bool,
        cycles: Vec<super::refcycle::Cycle>,
    ) -> Vec<String> {
        let mut flats: Vec<Flat> = errors.flat_map(|e| self.flat(&e, &[], &[], wrapped)).collect();
        let missed = self.missed_unevaluated(&flats);
        flats.extend(missed);
        flats.extend(cycles.into_iter().map(|c| Flat {
            instance: c.instance,
            schema: c.schema,
            what: What::Message(c.message),
        }));
        let mut lines = Vec::new();
        for node in report_roots(build(flats, 0, Vec::new())) {
            node.print(1, &mut lines);
        }
        lines
    }

    /// The value at an instance location.
    fn value_at(&self, instance: &[String]) -> Option<&'a serde_json::Value> {
        let pointer: String = instance.iter().map(|t| format!("/{}", escape_token(t))).collect();
        self.values.pointer(&pointer)
    }

    /// Whether the schema's draft has `minContains` and the unevaluated keywords.
    fn since_2019(&self) -> bool {
        matches!(self.draft, jsonschema::Draft::Draft201909 | jsonschema::Draft::Draft202012)
    }

    /// A validator of the subschema at `pointer` (built once per pointer).
    fn validator_at(&self, pointer: &str) -> Option<Rc<jsonschema::Validator>> {
        self.subs
            .borrow_mut()
            .entry(pointer.to_string())
            .or_insert_with(|| {
                let wrapper =
                    serde_json::json!({ "$ref": format!("{BASE}#{}", fragment(pointer)) });
                let resource = jsonschema::Resource::from_contents(self.root.clone());
                options()
                    .with_draft(self.draft)
                    .with_resource(BASE, resource)
                    .build(&wrapper)
                    .ok()
                    .map(Rc::new)
            })
            .clone()
    }

    /// The failures of `instance` against the subschema at `pointer`,
    /// located below `schema_at` (keyword path) and `instance_at`.
    fn sub_errors(
        &self,
        pointer: &str,
        instance: &serde_json::Value,
        schema_at: &[String],
        instance_at: &[String],
    ) -> Vec<Flat> {
        if let Some(false) = self.root.pointer(pointer).and_then(serde_json::Value::as_bool) {
            let what = What::Message("false schema".into());
            return vec![Flat { instance: instance_at.to_vec(), schema: schema_at.to_vec(), what }];
        }
        let validator = self.validator_at(pointer);
        let Some(validator) = validator else { return Vec::new() };
        let errors: Vec<jsonschema::ValidationError<'_>> =
            validator.iter_errors(instance).collect();
        errors.iter().flat_map(|e| self.flat(e, schema_at, instance_at, true)).collect()
    }
}

/// A JSON pointer as a URI fragment: bytes outside the unreserved set and
/// the pointer's own separators percent-encoded.
pub(super) fn fragment(pointer: &str) -> String {
    let mut out = String::new();
    for b in pointer.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The JSON pointer into `root` of the schema a keyword path reaches,
/// following local `$ref`s (`#/definitions/x`); `None` through a `$ref`
/// to another document or an anchor.
fn real_pointer(root: &serde_json::Value, path: &[String]) -> Option<String> {
    let mut pointer = String::new();
    let mut here = root;
    for token in path {
        if token == "$ref" {
            pointer = super::refcycle::local_pointer(root, here.get("$ref")?.as_str()?)?;
            here = root.pointer(&pointer)?;
            continue;
        }
        here = match here {
            serde_json::Value::Object(m) => m.get(token)?,
            serde_json::Value::Array(a) => a.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
        pointer.push('/');
        pointer.push_str(&escape_token(token));
    }
    Some(pointer)
}

/// The file the first `$ref` naming another document by a relative path
/// points to, as a path below `/` (`./a/../b.json#/x` is `b.json`); `None`
/// without such a `$ref` (below a nested `$id` a reference resolves against it).
fn first_relative_ref(schema: &serde_json::Value) -> Option<String> {
    let objects = super::refcycle::schema_objects(schema);
    let scoped = below_nested_id(&objects);
    objects.iter().find_map(|(pointer, node)| {
        if scoped(pointer) {
            // It resolves against that `$id`, not against Helm's file.
            return None;
        }
        let r = node.get("$ref")?.as_str()?;
        let file = r.split('#').next().unwrap_or_default();
        if file.is_empty() || url_scheme(file).is_some() || file.starts_with("//") {
            return None;
        }
        let mut parts: Vec<&str> = Vec::new();
        for seg in file.split('/') {
            match seg {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                s => parts.push(s),
            }
        }
        Some(parts.join("/"))
    })
}

/// One violation as the Rust validator reports it, reduced to what the
/// Go validator's error tree needs: where in the instance, which keyword
/// path in the schema, and the message (or the nested failures of the
/// `anyOf`/`oneOf` branches).
struct Flat {
    instance: Vec<String>,
    schema: Vec<String>,
    what: What,
}

/// What a violation says.
enum What {
    /// A keyword's own message.
    Message(String),
    /// A missing required property (Go joins all of one `required` in one line).
    Required(String),
    /// A property that `dependencies` (or `dependentRequired`) asks for
    /// because the first one is present.
    Dependent(String, String),
    /// `anyOf` failed: the failures of each branch.
    AnyOf(Vec<Vec<Flat>>),
    /// `oneOf` matched no branch: the failures of each branch.
    OneOfNone(Vec<Vec<Flat>>),
    /// `oneOf` matched several branches (the indexes of the first two).
    OneOfMany(usize, usize),
    /// `contains` (with `minContains`, `maxContains`) failed: the message
    /// and the failures of each item that did not match, by index.
    Contains(String, Vec<(String, Vec<Flat>)>),
    /// A property name failed `propertyNames`: the name and its failures,
    /// which Helm locates at `''`.
    PropertyName(String, Vec<Flat>),
}

fn tokens(location: &jsonschema::paths::Location) -> Vec<String> {
    location.into_iter().map(|segment| segment.to_string()).collect()
}

impl Ctx<'_> {
    /// One error of the validator as the failures Helm reports for it
    /// (none for keywords Helm does not assert, several where Helm reports
    /// each item), its paths continuing `schema_at` and `instance_at`.
    /// `wrapped`: the error is a sub-validation's, whose paths start with
    /// the `$ref` of the wrapper that reaches the subschema.
    fn flat(
        &self,
        e: &jsonschema::ValidationError<'_>,
        schema_at: &[String],
        instance_at: &[String],
        wrapped: bool,
    ) -> Vec<Flat> {
        use jsonschema::error::ValidationErrorKind as K;
        let mut schema_path = schema_at.to_vec();
        schema_path.extend(tokens(e.schema_path()).into_iter().skip(usize::from(wrapped)));
        let mut instance = instance_at.to_vec();
        instance.extend(tokens(e.instance_path()));
        // A `false` subschema fails below its keyword (the property or item
        // it applies to); every other failure is its keyword's own, here.
        let own = !matches!(e.kind(), K::FalseSchema);
        let schema_path = refit(self.root, schema_path, &instance, own);
        let branches = |context: &Vec<Vec<jsonschema::ValidationError<'static>>>| {
            context
                .iter()
                .map(|errors| {
                    errors
                        .iter()
                        .flat_map(|e| self.flat(e, schema_at, instance_at, wrapped))
                        .collect()
                })
                .collect()
        };
        let one =
            |what| vec![Flat { instance: instance.clone(), schema: schema_path.clone(), what }];
        let what = match e.kind() {
            // Helm's validator does not assert content (it never enables that).
            K::ContentEncoding { .. } | K::ContentMediaType { .. } => return Vec::new(),
            K::Contains => return self.contains(e.instance(), &schema_path, &instance),
            K::PropertyNames { error } => {
                let name = error.instance().as_str().unwrap_or_default().to_string();
                let mut inner = self.flat(error, schema_at, instance_at, wrapped);
                for f in &mut inner {
                    relocate(f, instance.len(), &[]);
                }
                What::PropertyName(name, inner)
            }
            // `additionalProperties: false` beside a `$ref` (2019-09 on): the
            // Rust validator fails the object, Helm names the properties.
            K::FalseSchema
                if schema_path.last().is_some_and(|t| t == "additionalProperties")
                    && self.value_at(&instance).is_some_and(serde_json::Value::is_object) =>
            {
                let object = self.value_at(&instance).and_then(serde_json::Value::as_object);
                if !self.closed.borrow_mut().insert((schema_path.clone(), instance.clone())) {
                    return Vec::new();
                }
                let parent = real_pointer(self.root, &schema_path[..schema_path.len() - 1]);
                let node = parent.as_deref().and_then(|p| self.root.pointer(p));
                let declared = |name: &str| {
                    node.and_then(|n| n.get("properties")?.get(name)).is_some()
                        || node.and_then(|n| n.get("patternProperties")?.as_object()).is_some_and(
                            |m| {
                                m.keys()
                                    .any(|p| regex::Regex::new(p).is_ok_and(|re| re.is_match(name)))
                            },
                        )
                };
                let extra: Vec<String> = object
                    .map(|o| o.keys().filter(|k| !declared(k)).map(|k| go_quote(k)).collect())
                    .unwrap_or_default();
                What::Message(format!("additional properties {} not allowed", extra.join(", ")))
            }
            // `propertyNames: false`: every name fails.
            K::FalseSchema if schema_path.last().is_some_and(|t| t == "propertyNames") => {
                let names = e.instance().as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
                return names
                    .unwrap_or_default()
                    .into_iter()
                    .map(|name| {
                        let inner = Flat {
                            instance: Vec::new(),
                            schema: schema_path.clone(),
                            what: What::Message("false schema".into()),
                        };
                        Flat {
                            instance: instance.clone(),
                            schema: schema_path.clone(),
                            what: What::PropertyName(name, vec![inner]),
                        }
                    })
                    .collect();
            }
            K::UnevaluatedProperties { unexpected } => {
                let Some(pointer) = real_pointer(self.root, &schema_path) else {
                    return one(What::Message(e.to_string()));
                };
                let object = e.instance().as_object();
                self.uneval_done.borrow_mut().insert((schema_path.clone(), instance.clone()));
                // Helm's validator leaves unevaluated what only a failing
                // subschema evaluated; the Rust validator does not.
                let names = real_pointer(self.root, &schema_path[..schema_path.len() - 1])
                    .and_then(|node| self.unevaluated_names(&node, e.instance()))
                    .unwrap_or_else(|| unexpected.clone());
                let mut out = Vec::new();
                for name in &names {
                    let Some(value) = object.and_then(|o| o.get(name)) else { continue };
                    let mut at = instance.clone();
                    at.push(name.clone());
                    out.extend(self.sub_errors(&pointer, value, &schema_path, &at));
                }
                return out;
            }
            K::UnevaluatedItems { unexpected } => {
                let Some(pointer) = real_pointer(self.root, &schema_path) else {
                    return one(What::Message(e.to_string()));
                };
                let items = e.instance().as_array().map_or(&[][..], Vec::as_slice);
                self.uneval_done.borrow_mut().insert((schema_path.clone(), instance.clone()));
                // Helm's validator leaves unevaluated what only a failing
                // subschema evaluated; the Rust validator does not.
                let indexes = real_pointer(self.root, &schema_path[..schema_path.len() - 1])
                    .and_then(|node| self.unevaluated_items(&node, e.instance()))
                    .unwrap_or_else(|| {
                        // The validator names unevaluated items by their JSON
                        // text, in order: find their indexes.
                        let mut next = 0;
                        let mut found = Vec::new();
                        for text in unexpected {
                            let Ok(item) = serde_json::from_str::<serde_json::Value>(text) else {
                                continue;
                            };
                            if let Some(i) = (next..items.len()).find(|&i| items[i] == item) {
                                next = i + 1;
                                found.push(i);
                            }
                        }
                        found
                    });
                let mut out = Vec::new();
                for i in indexes {
                    let Some(item) = items.get(i) else { continue };
                    let mut at = instance.clone();
                    at.push(i.to_string());
                    out.extend(self.sub_errors(&pointer, item, &schema_path, &at));
                }
                return out;
            }
            K::Required { property } => {
                let name = property.as_str().map_or_else(|| property.to_string(), str::to_string);
                // Under `dependencies`, the property whose presence asks for
                // this one: the first present one that lists it.
                let because = ["dependencies", "dependentRequired"]
                    .iter()
                    .find(|k| schema_path.last().is_some_and(|t| t == *k))
                    .and_then(|_| real_pointer(self.root, &schema_path))
                    .and_then(|p| self.root.pointer(&p)?.as_object())
                    .and_then(|deps| {
                        let present = e.instance().as_object()?;
                        deps.iter()
                            .find(|(k, v)| {
                                present.contains_key(*k)
                                    && v.as_array().is_some_and(|a| a.iter().any(|n| n == property))
                            })
                            .map(|(k, _)| k.clone())
                    });
                match because {
                    Some(prop) => What::Dependent(prop, name),
                    None => What::Required(name),
                }
            }
            K::AnyOf { context } => What::AnyOf(branches(context)),
            K::OneOfNotValid { context } => What::OneOfNone(branches(context)),
            K::OneOfMultipleValid { context } => {
                let mut valid = context.iter().enumerate().filter(|(_, errors)| errors.is_empty());
                let first = valid.next().map_or(0, |(i, _)| i);
                let second = valid.next().map_or(first + 1, |(i, _)| i);
                What::OneOfMany(first, second)
            }
            _ => What::Message(self.go_message(e, &schema_path)),
        };
        one(what)
    }

    /// `contains` as Helm checks it: each item against the subschema, then
    /// `minContains` (2019-09 on) or at least one match, then `maxContains`.
    fn contains(
        &self,
        array: &serde_json::Value,
        schema_path: &[String],
        instance: &[String],
    ) -> Vec<Flat> {
        let parent_path = &schema_path[..schema_path.len().saturating_sub(1)];
        let Some(parent) = real_pointer(self.root, parent_path) else { return Vec::new() };
        let Some(node) = self.root.pointer(&parent) else { return Vec::new() };
        let mut keyword_path = parent_path.to_vec();
        keyword_path.push("contains".into());
        let items = array.as_array().map_or(&[][..], Vec::as_slice);
        let (mut matched, mut failing) = (Vec::new(), Vec::new());
        for (i, item) in items.iter().enumerate() {
            let mut at = instance.to_vec();
            at.push(i.to_string());
            let errors = self.sub_errors(&format!("{parent}/contains"), item, &keyword_path, &at);
            if errors.is_empty() {
                matched.push(i);
            } else {
                failing.push((i.to_string(), errors));
            }
        }
        let limit = |k: &str| {
            self.since_2019().then(|| node.get(k)?.as_u64()).flatten().map(|n| n as usize)
        };
        let at_list = || matched.iter().map(usize::to_string).collect::<Vec<_>>().join(" ");
        let mut out = Vec::new();
        let mut push = |message: String, items| {
            let what = What::Contains(message, items);
            out.push(Flat { instance: instance.to_vec(), schema: keyword_path.clone(), what });
        };
        match limit("minContains") {
            Some(min) if matched.len() < min => {
                let message = if matched.is_empty() {
                    format!("min {min} items required to match contains schema, but none matched")
                } else {
                    format!(
                        "min {min} items required to match contains schema, but matched {} items at {}",
                        matched.len(),
                        at_list()
                    )
                };
                push(message, failing);
            }
            Some(_) => {}
            None if matched.is_empty() => push("no items match contains schema".into(), failing),
            None => {}
        }
        if let Some(max) = limit("maxContains").filter(|max| matched.len() > *max) {
            let message = format!(
                "max {max} items required to match contains schema, but matched {} items at {}",
                matched.len(),
                at_list()
            );
            push(message, Vec::new());
        }
        out
    }
}

/// How many instance tokens a keyword path walks down (`properties/x`,
/// `items`, ...), or `None` when a `properties` name is not the instance's.
fn walked(path: &[String], instance: &[String]) -> Option<usize> {
    let (mut t, mut i) = (0, 0);
    while let Some(keyword) = path.get(t) {
        let next = path.get(t + 1);
        let index = next.is_some_and(|n| n.parse::<usize>().is_ok());
        match keyword.as_str() {
            "properties" | "prefixItems" => {
                if next? != instance.get(i)? {
                    return None;
                }
                (t, i) = (t + 2, i + 1);
            }
            "items" if index => {
                if next? != instance.get(i)? {
                    return None;
                }
                (t, i) = (t + 2, i + 1);
            }
            "patternProperties" => (t, i) = (t + 2, i + 1),
            "items"
            | "additionalProperties"
            | "additionalItems"
            | "unevaluatedProperties"
            | "unevaluatedItems"
            | "contains"
                if t + 1 < path.len() || i < instance.len() =>
            {
                (t, i) = (t + 1, i + 1)
            }
            "allOf" | "anyOf" | "oneOf" | "dependencies" | "dependentSchemas" => t += 2,
            "not" | "if" | "then" | "else" | "$ref" | "$dynamicRef" | "$recursiveRef"
            | "propertyNames" => t += 1,
            _ => break,
        }
    }
    Some(i)
}

/// A keyword path that fits the instance location. For a definition that
/// `$ref`s reach from several places, the Rust validator reports the path
/// of the first place; Helm's tree follows the place actually walked, so
/// the path up to the last `$ref` is found again from the instance location.
/// `own`: the failure is the last keyword's own (`additionalProperties`
/// failing its object), not a `false` subschema's below it, so a trailing
/// keyword that applies to members walks no instance token.
fn refit(
    root: &serde_json::Value,
    path: Vec<String>,
    instance: &[String],
    own: bool,
) -> Vec<String> {
    if walked(&path, instance) == Some(instance.len()) || !path.iter().any(|t| t == "$ref") {
        return path;
    }
    let Some(last) = path.iter().rposition(|t| t == "$ref") else { return path };
    let suffix = &path[last + 1..];
    let Some(target) = real_pointer(root, &path[..=last]) else { return path };
    // Where the suffix starts in the instance: a trailing keyword such as
    // `additionalProperties` walks one token for a `false` subschema's
    // failure and none for its own, so both are candidates, the likelier first.
    let mut starts: Vec<usize> = (0..=instance.len())
        .filter(|&k| walked(suffix, &instance[k..]) == Some(instance.len() - k))
        .collect();
    if own {
        starts.reverse();
    }
    for below in starts {
        let mut search = Search { root, target: target.clone(), path: Vec::new(), budget: 10_000 };
        if let Some(mut prefix) = search.find(root, &instance[..below], 0) {
            prefix.extend_from_slice(suffix);
            return prefix;
        }
    }
    path
}

/// A search of the schema for a keyword path that walks a given instance
/// location and ends at a `$ref` to `target`, within a bounded number of steps.
struct Search<'a> {
    root: &'a serde_json::Value,
    target: String,
    path: Vec<String>,
    budget: usize,
}

impl Search<'_> {
    fn find(
        &mut self,
        node: &serde_json::Value,
        rest: &[String],
        depth: usize,
    ) -> Option<Vec<String>> {
        if self.budget == 0 || depth > 64 {
            return None;
        }
        self.budget -= 1;
        let obj = node.as_object()?;
        if let Some(pointer) = obj
            .get("$ref")
            .and_then(serde_json::Value::as_str)
            .and_then(|r| super::refcycle::local_pointer(self.root, r))
        {
            if rest.is_empty() && pointer == self.target {
                let mut hit = self.path.clone();
                hit.push("$ref".into());
                return Some(hit);
            }
            let root = self.root;
            if let Some(child) = root.pointer(&pointer)
                && let Some(hit) = self.step(&["$ref"], child, rest, depth)
            {
                return Some(hit);
            }
        }
        for keyword in ["allOf", "anyOf", "oneOf"] {
            for (j, child) in
                obj.get(keyword).and_then(|v| v.as_array()).into_iter().flatten().enumerate()
            {
                if let Some(hit) = self.step(&[keyword, &j.to_string()], child, rest, depth) {
                    return Some(hit);
                }
            }
        }
        for keyword in ["not", "if", "then", "else"] {
            if let Some(child) = obj.get(keyword)
                && let Some(hit) = self.step(&[keyword], child, rest, depth)
            {
                return Some(hit);
            }
        }
        for keyword in ["dependencies", "dependentSchemas"] {
            for (k, child) in obj.get(keyword).and_then(|v| v.as_object()).into_iter().flatten() {
                if let Some(hit) = self.step(&[keyword, k], child, rest, depth) {
                    return Some(hit);
                }
            }
        }
        let (token, rest) = rest.split_first()?;
        let mut children: Vec<(Vec<String>, &serde_json::Value)> = Vec::new();
        if let Some(child) = obj.get("properties").and_then(|p| p.get(token)) {
            children.push((vec!["properties".into(), token.clone()], child));
        }
        for (pattern, child) in
            obj.get("patternProperties").and_then(|v| v.as_object()).into_iter().flatten()
        {
            if regex::Regex::new(pattern).is_ok_and(|re| re.is_match(token)) {
                children.push((vec!["patternProperties".into(), pattern.clone()], child));
            }
        }
        for keyword in [
            "additionalProperties",
            "additionalItems",
            "unevaluatedProperties",
            "unevaluatedItems",
            "contains",
        ] {
            if let Some(child) = obj.get(keyword) {
                children.push((vec![keyword.into()], child));
            }
        }
        let index = token.parse::<usize>().ok();
        match obj.get("items") {
            Some(serde_json::Value::Array(items)) => {
                if let Some(child) = index.and_then(|i| items.get(i)) {
                    children.push((vec!["items".into(), token.clone()], child));
                }
            }
            Some(child) => children.push((vec!["items".into()], child)),
            None => {}
        }
        if let Some(child) = obj.get("prefixItems").and_then(|p| p.get(index?)) {
            children.push((vec!["prefixItems".into(), token.clone()], child));
        }
        for (keys, child) in children {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            if let Some(hit) = self.step(&keys, child, rest, depth) {
                return Some(hit);
            }
        }
        None
    }

    fn step(
        &mut self,
        keys: &[&str],
        child: &serde_json::Value,
        rest: &[String],
        depth: usize,
    ) -> Option<Vec<String>> {
        let n = self.path.len();
        self.path.extend(keys.iter().map(|k| k.to_string()));
        let hit = self.find(child, rest, depth + 1);
        self.path.truncate(n);
        hit
    }
}

/// Moves a failure found below instance location `from` (its first `from`
/// tokens) to `to`.
fn relocate(f: &mut Flat, from: usize, to: &[String]) {
    let rest = f.instance.split_off(from.min(f.instance.len()));
    f.instance = to.iter().cloned().chain(rest).collect();
    match &mut f.what {
        What::AnyOf(branches) | What::OneOfNone(branches) => {
            branches.iter_mut().flatten().for_each(|b| relocate(b, from, to))
        }
        _ => {}
    }
}

/// A node of the Go validator's error tree (santhosh-tekuri/jsonschema v6):
/// a message at an instance location, with nested causes.
struct Node {
    instance: Vec<String>,
    message: String,
    causes: Vec<Node>,
    /// A `$ref` failure with a single cause is not printed itself; its cause is.
    skip: bool,
    /// A group of several failures of one schema at one location.
    group: bool,
}

impl Node {
    fn leaf(instance: Vec<String>, message: String, causes: Vec<Node>) -> Node {
        Node { instance, message, causes, skip: false, group: false }
    }

    fn print(&self, indent: usize, lines: &mut Vec<String>) {
        let mut inner = indent;
        if !self.skip {
            let at: String =
                self.instance.iter().map(|t| format!("/{}", escape_token(t))).collect();
            let pad = "  ".repeat(indent.saturating_sub(1));
            lines.push(format!("{pad}- at {}: {}", go_quote(&at), self.message));
            inner += 1;
        }
        for cause in &self.causes {
            cause.print(inner, lines);
        }
    }
}

/// A JSON pointer token escaped as RFC 6901 writes it.
fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A string in single quotes as the Go validator quotes it: Go's `%q`
/// escapes, with double quotes left bare and single quotes escaped.
fn go_quote(s: &str) -> String {
    let go = crate::gotmpl::fmt::quote(s).replace("\\\"", "\"").replace('\'', "\\'");
    let inner = go.strip_prefix('"').and_then(|g| g.strip_suffix('"')).unwrap_or(&go);
    format!("'{inner}'")
}

/// The failures printed under the chart's name: the causes of the root
/// schema's failure, as Helm prints them without the first line.
fn report_roots(root: Option<Node>) -> Vec<Node> {
    match root {
        Some(node) if node.group => node.causes,
        Some(node) => vec![node],
        None => Vec::new(),
    }
}

/// The rank of a keyword in the order the Go validator checks an instance:
/// type, const, enum, format and `$ref` first, then the keywords of the
/// instance's type, then the applicators.
fn rank(keyword: &str) -> u32 {
    match keyword {
        "type" => 0,
        "const" => 1,
        "enum" => 2,
        "format" => 3,
        "$ref" => 4,
        "minProperties" => 10,
        "maxProperties" => 11,
        "required" => 12,
        "dependencies" => 13,
        "properties" | "patternProperties" => 14,
        "additionalProperties" => 15,
        "propertyNames" => 16,
        "dependentSchemas" => 17,
        "dependentRequired" => 18,
        "minItems" => 20,
        "maxItems" => 21,
        "uniqueItems" => 22,
        "prefixItems" => 23,
        "items" => 24,
        "additionalItems" => 25,
        "contains" | "minContains" | "maxContains" => 26,
        "minLength" => 30,
        "maxLength" => 31,
        "pattern" => 32,
        "contentEncoding" | "contentMediaType" | "contentSchema" => 33,
        "minimum" => 40,
        "maximum" => 41,
        "exclusiveMinimum" => 42,
        "exclusiveMaximum" => 43,
        "multipleOf" => 44,
        "$recursiveRef" | "$dynamicRef" => 45,
        "not" => 50,
        "allOf" => 51,
        "anyOf" => 52,
        "oneOf" => 53,
        "if" | "then" | "else" => 54,
        "unevaluatedProperties" | "unevaluatedItems" => 60,
        _ => 70,
    }
}

/// The key under which failures of one subschema are gathered, and how many
/// keyword-path tokens lead into that subschema; None for a keyword's own failure.
fn child_key(e: &Flat, depth: usize, at: &[String]) -> Option<(String, usize, Vec<String>)> {
    let keyword = e.schema.get(depth)?.as_str();
    let token = e.instance.get(at.len()).cloned();
    let per_item = matches!(
        keyword,
        "items"
            | "additionalProperties"
            | "additionalItems"
            | "unevaluatedProperties"
            | "unevaluatedItems"
            | "contains"
    );
    if e.schema.len() == depth + 1 {
        // A subschema that is `false` fails the item itself, below here.
        return match token {
            Some(name) if per_item => {
                let mut child = at.to_vec();
                child.push(name.clone());
                Some((format!("{keyword}//{name}"), 1, child))
            }
            _ => None,
        };
    }
    let below = |token: Option<String>| {
        let mut child = at.to_vec();
        child.extend(token);
        child
    };
    let next = e.schema.get(depth + 1).map_or("", String::as_str);
    let name = token.clone().unwrap_or_default();
    match keyword {
        "properties" | "patternProperties" | "prefixItems" => {
            Some((format!("{keyword}/{next}/{name}"), 2, below(token)))
        }
        "items" if next.parse::<usize>().is_ok() && token.is_some() => {
            Some((format!("items/{next}/{name}"), 2, below(token)))
        }
        "dependentSchemas" | "dependencies" | "allOf" => {
            Some((format!("{keyword}/{next}"), 2, at.to_vec()))
        }
        "items"
        | "additionalProperties"
        | "additionalItems"
        | "unevaluatedProperties"
        | "unevaluatedItems"
        | "contains" => Some((format!("{keyword}//{name}"), 1, below(token))),
        "$ref" | "$dynamicRef" | "$recursiveRef" | "then" | "else" => {
            Some((keyword.to_string(), 1, at.to_vec()))
        }
        _ => None,
    }
}

/// The failures of one subschema (a property's, an item's, a branch's),
/// gathered before they are built into a node.
struct Child {
    key: String,
    rank: u32,
    order: usize,
    depth: usize,
    at: Vec<String>,
    errors: Vec<Flat>,
}

/// Builds the Go validator's result for the schema reached by `depth`
/// keyword-path tokens, applied to one instance location: nothing, one
/// failure, or a group of failures.
fn build(errors: Vec<Flat>, depth: usize, at: Vec<String>) -> Option<Node> {
    // (rank, order, node); the failures of one subschema are gathered by key.
    let mut entries: Vec<(u32, usize, Node)> = Vec::new();
    let mut children: Vec<Child> = Vec::new();
    let mut required: Option<(usize, Vec<String>)> = None;
    let mut dependent: Vec<(usize, String, Vec<String>)> = Vec::new();
    let mut names: Vec<(usize, String, Vec<Flat>)> = Vec::new();
    for (order, e) in errors.into_iter().enumerate() {
        // A failure with no keyword left is a `false` subschema's.
        let keyword = e.schema.get(depth).map_or("", String::as_str);
        let r = rank(keyword);
        if let Some((key, skip, child_at)) = child_key(&e, depth, &at) {
            match children.iter_mut().find(|c| c.key == key) {
                Some(c) => c.errors.push(e),
                None => children.push(Child {
                    key,
                    rank: r,
                    order,
                    depth: depth + skip,
                    at: child_at,
                    errors: vec![e],
                }),
            }
            continue;
        }
        let here = at.clone();
        match e.what {
            What::Message(m) => entries.push((r, order, Node::leaf(here, m, Vec::new()))),
            What::Required(name) => match &mut required {
                Some((_, names)) => names.push(name),
                None => required = Some((order, vec![name])),
            },
            What::Dependent(prop, name) => match dependent.iter_mut().find(|d| d.1 == prop) {
                Some((_, _, names)) => names.push(name),
                None => dependent.push((order, prop, vec![name])),
            },
            What::AnyOf(branches) => {
                let causes =
                    branches.into_iter().filter_map(|b| build(b, depth + 2, at.clone())).collect();
                entries.push((r, order, Node::leaf(here, "'anyOf' failed".into(), causes)));
            }
            What::OneOfNone(branches) => {
                let causes =
                    branches.into_iter().filter_map(|b| build(b, depth + 2, at.clone())).collect();
                let message = "'oneOf' failed, none matched".to_string();
                entries.push((r, order, Node::leaf(here, message, causes)));
            }
            What::Contains(message, items) => {
                let causes = items
                    .into_iter()
                    .filter_map(|(i, flats)| {
                        let mut item_at = at.clone();
                        item_at.push(i);
                        build(flats, depth + 1, item_at)
                    })
                    .collect();
                entries.push((r, order, Node::leaf(here, message, causes)));
            }
            What::PropertyName(name, inner) => match names.iter_mut().find(|n| n.1 == name) {
                Some((_, _, flats)) => flats.extend(inner),
                None => names.push((order, name, inner)),
            },
            What::OneOfMany(a, b) => {
                let message = format!("'oneOf' failed, subschemas {a}, {b} matched");
                entries.push((r, order, Node::leaf(here, message, Vec::new())));
            }
        }
    }
    if let Some((order, names)) = required {
        let quoted: Vec<String> = names.iter().map(|n| go_quote(n)).collect();
        let message = match quoted.as_slice() {
            [one] => format!("missing property {one}"),
            many => format!("missing properties {}", many.join(", ")),
        };
        entries.push((rank("required"), order, Node::leaf(at.clone(), message, Vec::new())));
    }
    for (order, prop, names) in dependent {
        let quoted: Vec<String> = names.iter().map(|n| go_quote(n)).collect();
        let message =
            format!("properties {} required, if {} exists", quoted.join(", "), go_quote(&prop));
        entries.push((rank("dependencies"), order, Node::leaf(at.clone(), message, Vec::new())));
    }
    for (order, name, inner) in names {
        let causes = match build(inner, depth + 1, Vec::new()) {
            Some(node) if node.group => node.causes,
            Some(node) => vec![node],
            None => Vec::new(),
        };
        let message = format!("invalid propertyName {}", go_quote(&name));
        entries.push((rank("propertyNames"), order, Node::leaf(at.clone(), message, causes)));
    }
    // A failed type, const, enum or format ends the checks of this schema.
    let stop = entries.iter().filter(|e| e.0 <= 3).min_by_key(|e| (e.0, e.1)).map(|e| e.1);
    if let Some(stop) = stop {
        entries.retain(|e| e.1 == stop);
        children.clear();
    }
    let mut all_of: Vec<(usize, Node)> = Vec::new();
    for Child { key, rank: r, order, depth: child_depth, at: child_at, errors: errs } in children {
        let Some(result) = build(errs, child_depth, child_at) else { continue };
        if key.starts_with("allOf/") {
            all_of.push((order, result));
        } else if key.starts_with('$') {
            let causes = if result.group { result.causes } else { vec![result] };
            let skip = causes.len() == 1;
            let message = "validation failed".to_string();
            let node = Node { instance: at.clone(), message, causes, skip, group: false };
            entries.push((r, order, node));
        } else {
            entries.push((r, order, result));
        }
    }
    if let Some(order) = all_of.first().map(|a| a.0) {
        let causes = all_of.into_iter().map(|a| a.1).collect();
        let node = Node::leaf(at.clone(), "'allOf' failed".into(), causes);
        entries.push((rank("allOf"), order, node));
    }
    entries.sort_by_key(|e| (e.0, e.1));
    let mut nodes: Vec<Node> = entries.into_iter().map(|e| e.2).collect();
    match nodes.len() {
        0 => None,
        1 => nodes.pop(),
        _ => {
            let message = "validation failed".to_string();
            Some(Node { instance: at, message, causes: nodes, skip: false, group: true })
        }
    }
}

/// A JSON value as Helm's validator quotes it in messages: strings quoted,
/// arrays and objects as `value`, the rest as Go's `%v` prints them (`null`
/// is Go's nil, `<nil>`).
fn quoted(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => go_quote(s),
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => "value".to_string(),
        serde_json::Value::Null => "<nil>".to_string(),
        other => other.to_string(),
    }
}

/// The JSON type name of a value, as Helm's validator reports it.
fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

impl Ctx<'_> {
    /// The message Helm 4's validator (santhosh-tekuri/jsonschema v6) prints
    /// for the common keywords; others keep the validator's own words.
    fn go_message(&self, e: &jsonschema::ValidationError<'_>, schema_path: &[String]) -> String {
        use jsonschema::error::{TypeKind, ValidationErrorKind as K};
        let pointer = real_pointer(self.root, schema_path);
        // A value of the schema as the schema's text writes it: numbers keep
        // their digits (`2.50`, `1e3`), as Go's json.Number prints them.
        let literal = |v: &serde_json::Value, raw: Option<&str>| match (v, raw) {
            (serde_json::Value::Number(_), Some(raw)) => raw.to_string(),
            _ => quoted(v),
        };
        let raw = pointer.as_deref().and_then(|p| super::json_literal::at(self.raw, p));
        let got = e.instance();
        let limit = |name: &str, got: String, want: String| {
            format!("{name}: got {}, want {}", grouped(&got), grouped(&want))
        };
        let number = |n: &dyn std::fmt::Display| {
            n.to_string().parse::<f64>().map_or(n.to_string(), crate::yaml::go_format_float_g)
        };
        let count = || match got.as_ref() {
            serde_json::Value::String(s) => s.chars().count(),
            serde_json::Value::Array(a) => a.len(),
            serde_json::Value::Object(o) => o.len(),
            _ => 0,
        };
        match e.kind() {
            K::Required { property } => {
                format!("missing property {}", quoted(property))
            }
            K::Type { kind } => {
                let want = match kind {
                    TypeKind::Single(t) => t.to_string(),
                    TypeKind::Multiple(ts) => {
                        // The Go validator lists the wanted types in its own
                        // fixed order, whatever order the schema gives them.
                        const ORDER: [&str; 7] =
                            ["null", "boolean", "number", "integer", "string", "array", "object"];
                        let mut names: Vec<String> = ts.iter().map(|t| t.to_string()).collect();
                        names.sort_by_key(|n| ORDER.iter().position(|o| o == n));
                        names.join(" or ")
                    }
                };
                format!("got {}, want {want}", json_type(got))
            }
            K::Minimum { limit: l } => limit("minimum", number(got), number(l)),
            K::Maximum { limit: l } => limit("maximum", number(got), number(l)),
            K::ExclusiveMinimum { limit: l } => limit("exclusiveMinimum", number(got), number(l)),
            K::ExclusiveMaximum { limit: l } => limit("exclusiveMaximum", number(got), number(l)),
            K::MinLength { limit: l } => limit("minLength", count().to_string(), l.to_string()),
            K::MaxLength { limit: l } => limit("maxLength", count().to_string(), l.to_string()),
            K::MinItems { limit: l } => limit("minItems", count().to_string(), l.to_string()),
            K::MaxItems { limit: l } => limit("maxItems", count().to_string(), l.to_string()),
            K::MinProperties { limit: l } => {
                limit("minProperties", count().to_string(), l.to_string())
            }
            K::MaxProperties { limit: l } => {
                limit("maxProperties", count().to_string(), l.to_string())
            }
            K::Pattern { pattern } => {
                // The pattern as the schema writes it (the validator may have
                // rewritten classes such as `\d` for its regex engine).
                let written = pointer.as_deref().and_then(|p| self.root.pointer(p)?.as_str());
                format!(
                    "{} does not match pattern {}",
                    quoted(got),
                    go_quote(written.unwrap_or(pattern))
                )
            }
            K::Format { format } => {
                let text = got.as_str().unwrap_or_default();
                match super::formats::check(format, text) {
                    Some(Err(reason)) => {
                        format!("{} is not valid {format}: {reason}", go_quote(text))
                    }
                    _ => e.to_string(),
                }
            }
            K::AdditionalItems { limit } => {
                format!("last {} additionalItem(s) not allowed", count().saturating_sub(*limit))
            }
            K::Enum { options } => {
                let raws = raw.and_then(super::json_literal::items).unwrap_or_default();
                match options {
                    serde_json::Value::Array(items) if items.iter().any(is_composite) => {
                        "'enum' failed".to_string()
                    }
                    serde_json::Value::Array(items) if items.len() == 1 => {
                        format!("value must be {}", literal(&items[0], raws.first().copied()))
                    }
                    serde_json::Value::Array(items) => format!(
                        "value must be one of {}",
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, v)| literal(v, raws.get(i).copied()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    other => format!("value must be one of {}", quoted(other)),
                }
            }
            K::Constant { expected_value } if is_composite(expected_value) => {
                "'const' failed".to_string()
            }
            K::Constant { expected_value } => {
                format!("value must be {}", literal(expected_value, raw))
            }
            K::Not { .. } => "'not' failed".to_string(),
            K::MultipleOf { multiple_of } => limit("multipleOf", number(got), number(multiple_of)),
            K::UniqueItems => unique_items(got),
            K::FalseSchema => "false schema".to_string(),
            K::AdditionalProperties { unexpected } => format!(
                "additional properties {} not allowed",
                unexpected.iter().map(|u| go_quote(u)).collect::<Vec<_>>().join(", ")
            ),
            _ => e.to_string(),
        }
    }
}

/// An array or object: the validator names such values only as a whole.
fn is_composite(v: &serde_json::Value) -> bool {
    matches!(v, serde_json::Value::Array(_) | serde_json::Value::Object(_))
}

/// The message of a failed `uniqueItems`: the first pair of equal items.
fn unique_items(got: &serde_json::Value) -> String {
    let items = got.as_array().map_or(&[][..], Vec::as_slice);
    for (j, b) in items.iter().enumerate() {
        if let Some(i) = items[..j].iter().position(|a| same_json(a, b)) {
            return format!("items at {i} and {j} are equal");
        }
    }
    "items are not unique".to_string()
}

/// Whether two JSON values are equal as the Go validator compares them:
/// numbers by value (`1` equals `1.0`), at any depth.
fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_json(a, b))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// A number as the validator's English message printer writes it: digits
/// of the whole part grouped by threes with commas (`70,000`), and Go's
/// exponent form with a superscript power of ten (`1e-07` is `1×10⁻⁰⁷`).
fn grouped(number: &str) -> String {
    if let Some((mantissa, exponent)) = number.split_once(['e', 'E']) {
        const SUPERSCRIPTS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
        let mut out = format!("{mantissa}×10");
        for c in exponent.chars() {
            match c {
                '-' => out.push('⁻'),
                '+' => {}
                d => out.push(d.to_digit(10).map_or(d, |d| SUPERSCRIPTS[d as usize])),
            }
        }
        return out;
    }
    let (sign, rest) = number.strip_prefix('-').map_or(("", number), |r| ("-", r));
    let (whole, frac) = rest.split_once('.').map_or((rest, None), |(w, f)| (w, Some(f)));
    let mut out = String::from(sign);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// Helm's report for a `$schema` its validator loads as a metaschema and
/// kiln cannot: one that names no draft (without its fragment), unless it
/// is a `urn:`, which Helm passes over. Helm has no loader for a URL
/// without a scheme (or an empty one) or with a scheme other than `file`,
/// `http` and `https`; for those it reads the file or fetches the URL,
/// which kiln does not (it renders alike everywhere and reads only the
/// chart), so it says so where Helm names the loading failure, as for a
/// `$ref` (see [`missing_target`]).
fn unloadable_meta_schema(schema: &serde_json::Value) -> Option<String> {
    let named = schema.get("$schema")?.as_str()?;
    let url = named.split('#').next().unwrap_or_default();
    if super::metaschema::names_draft(named) || super::metaschema::names_draft(url) {
        return None;
    }
    let scheme = url_scheme(url).map(str::to_ascii_lowercase);
    let quoted = crate::gotmpl::fmt::quote(url);
    let why = match scheme.as_deref() {
        Some("urn") => return None,
        Some("http" | "https") => "kiln loads no schema over the network".to_string(),
        Some("file") => "kiln reads no file outside the chart".to_string(),
        _ => format!("no URLLoader registered for {quoted}"),
    };
    Some(format!("failing loading {quoted}: {why}"))
}

/// The scheme of an absolute URL (`http` of `http://x`), `None` for a relative reference.
fn url_scheme(url: &str) -> Option<&str> {
    let (scheme, _) = url.split_once(':')?;
    let valid = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    valid.then_some(scheme)
}

/// Percent-encodes the characters a URI reference may not hold (a space,
/// `"`, `<`, `>`, `\`, `^`, `` ` ``, `{`, `|`, `}`) in every `$ref` of the
/// schema (not in `const`/`enum`/`default`/`examples` data): Go's URL
/// parser lets them through and its JSON pointers decode them, while the
/// Rust validator refuses such a reference.
fn encode_refs(schema: &mut serde_json::Value) {
    const UNSAFE: &str = " \"<>\\^`{|}";
    let unsafe_refs: Vec<String> = super::refcycle::schema_objects(schema)
        .into_iter()
        .filter(|(_, node)| {
            node.get("$ref")
                .and_then(serde_json::Value::as_str)
                .is_some_and(|r| r.contains(|c: char| UNSAFE.contains(c)))
        })
        .map(|(pointer, _)| pointer)
        .collect();
    for pointer in unsafe_refs {
        if let Some(serde_json::Value::String(r)) =
            schema.pointer_mut(&pointer).and_then(|node| node.get_mut("$ref"))
        {
            let mut out = String::with_capacity(r.len() + 8);
            for c in r.chars() {
                if UNSAFE.contains(c) {
                    out.push_str(&format!("%{:02X}", c as u32));
                } else {
                    out.push(c);
                }
            }
            *r = out;
        }
    }
}

/// Takes every `$ref` to an `http(s)` document as a schema that accepts
/// any value. Helm downloads such a document (app-template v3's whole
/// schema is a `$ref` to the common library's on GitHub; other charts
/// point at Kubernetes' published definitions) and validates against it;
/// kiln renders alike everywhere and fetches nothing, so it renders what
/// Helm renders for values the remote schema accepts, and does not check
/// them against it. A document the schema names by an `$id`, and the
/// drafts' own documents (which Helm and the validator carry), are not
/// remote. Where a `$ref` hides its siblings (drafts 4 to 7) the whole
/// subschema accepts any value; from 2019-09 its siblings still apply.
fn accept_unfetched_refs(schema: &mut serde_json::Value) {
    let objects = super::refcycle::schema_objects(schema);
    let document = |uri: &str| uri.split('#').next().unwrap_or_default().to_string();
    // Each `$id` as the absolute URI it names: a nested relative one
    // resolves against the root's.
    let root_id = objects.first().and_then(|(_, node)| own_id(node)).map(document);
    let ids: Vec<(&str, String)> = objects
        .iter()
        .filter_map(|(pointer, node)| {
            let id = document(own_id(node)?);
            Some((pointer.as_str(), resolve_uri(root_id.as_deref(), &id)))
        })
        .collect();
    // A `$ref` resolves against the nearest `$id` at or above it.
    let base = |pointer: &str| {
        ids.iter()
            .filter(|(at, _)| {
                pointer.strip_prefix(at).is_some_and(|r| r.is_empty() || r.starts_with('/'))
            })
            .max_by_key(|(at, _)| at.len())
            .map(|(_, id)| id.as_str())
    };
    let remote: Vec<String> = objects
        .iter()
        .filter(|(pointer, node)| {
            node.get("$ref").and_then(serde_json::Value::as_str).is_some_and(|r| {
                let doc = document(r);
                let doc = if doc.is_empty() { doc } else { resolve_uri(base(pointer), &doc) };
                let host = doc
                    .split_once("://")
                    .map_or("", |(_, rest)| rest.split(['/', '?']).next().unwrap_or_default());
                matches!(
                    url_scheme(&doc).map(str::to_ascii_lowercase).as_deref(),
                    Some("http" | "https")
                ) && !host.eq_ignore_ascii_case("json-schema.org")
                    && !ids.iter().any(|(_, id)| *id == doc)
            })
        })
        .map(|(pointer, _)| pointer.clone())
        .collect();
    drop(objects);
    let hides_siblings = matches!(
        super::metaschema::draft_of(schema),
        jsonschema::Draft::Draft4 | jsonschema::Draft::Draft6 | jsonschema::Draft::Draft7
    );
    for pointer in remote {
        if let Some(node) = schema.pointer_mut(&pointer).and_then(serde_json::Value::as_object_mut)
        {
            if hides_siblings {
                node.clear();
            } else {
                node.remove("$ref");
            }
        }
    }
}

/// The `$id` a schema object gives itself (`id` in draft 4).
fn own_id(node: &serde_json::Value) -> Option<&str> {
    node.get("$id").or_else(|| node.get("id"))?.as_str()
}

/// `reference` resolved against the absolute URI `base` as RFC 3986 does
/// (`x.json`, `../x.json`, `/x.json`, `//host/x.json`); unchanged when it
/// is absolute itself or there is no absolute base.
pub(super) fn resolve_uri(base: Option<&str>, reference: &str) -> String {
    let Some(base) = base.filter(|b| url_scheme(b).is_some() && url_scheme(reference).is_none())
    else {
        return reference.to_string();
    };
    let (scheme, rest) = base.split_once(':').expect("url_scheme found a ':'");
    if let Some(authority_path) = reference.strip_prefix("//") {
        return format!("{scheme}://{authority_path}");
    }
    let (authority, path) = match rest.strip_prefix("//") {
        Some(r) => r.find('/').map_or((r, ""), |i| r.split_at(i)),
        None => ("", rest),
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let merged = if reference.starts_with('/') {
        reference.to_string()
    } else {
        format!("{}{reference}", &path[..path.rfind('/').map_or(0, |i| i + 1)])
    };
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = merged.split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        match *segment {
            "." => {}
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
            }
            other => out.push(other),
        }
        if matches!(*segment, "." | "..") && i + 1 == segments.len() {
            out.push("");
        }
    }
    let path = out.join("/");
    let slash = if !authority.is_empty() && !path.starts_with('/') { "/" } else { "" };
    let authority = if rest.starts_with("//") { format!("//{authority}") } else { String::new() };
    format!("{scheme}:{authority}{slash}{path}")
}

/// Writes a `$ref` that names the schema's own document by another URI
/// (`./values.schema.json#/x`, `values.schema.json`, its `$id`) as the
/// fragment alone, which the Rust validator resolves as Helm resolves the
/// URI: to the same document. A `$ref` below a nested `$id` is left alone
/// (it resolves against that `$id`).
fn localize_own_refs(schema: &mut serde_json::Value) {
    let mut local: Vec<(String, String)> = Vec::new();
    let objects = super::refcycle::schema_objects(schema);
    let scoped = below_nested_id(&objects);
    for (pointer, node) in &objects {
        let Some(reference) = node.get("$ref").and_then(serde_json::Value::as_str) else {
            continue;
        };
        let (document, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        if !document.is_empty() && !scoped(pointer) && super::refcycle::is_own_uri(schema, document)
        {
            local.push((pointer.clone(), format!("#{fragment}")));
        }
    }
    drop(scoped);
    drop(objects);
    for (pointer, reference) in local {
        if let Some(node) = schema.pointer_mut(&pointer).and_then(serde_json::Value::as_object_mut)
        {
            node.insert("$ref".into(), reference.into());
        }
    }
}

/// Whether a schema object (by pointer) stands at or below a subschema
/// with its own `$id`, against which its references resolve.
fn below_nested_id<'a>(objects: &'a [(String, &serde_json::Value)]) -> impl Fn(&str) -> bool + 'a {
    let scopes: Vec<&'a str> = objects
        .iter()
        .filter(|(pointer, node)| !pointer.is_empty() && node.get("$id").is_some())
        .map(|(pointer, _)| pointer.as_str())
        .collect();
    move |pointer: &str| {
        scopes.iter().any(|s| {
            pointer.strip_prefix(s).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }
}

/// Helm's report for a `$ref` whose target is missing, from the Rust
/// validator's error text: a pointer or anchor of the schema's own document
/// (`Pointer '/x' does not exist`, `Anchor 'x' does not exist`), or a
/// document Helm would fetch over HTTP or read from the machine's disk,
/// which kiln does not (it renders alike everywhere and reads only the
/// tree), so it says so where Helm names the loading failure.
fn missing_target(schema: &serde_json::Value, error: &str) -> Option<String> {
    if let Some(rest) = error.strip_prefix("Resource '")
        && let Some((url, _)) = rest.split_once("' is not present in a registry")
    {
        let why = if url.starts_with("file:") {
            "kiln reads no file outside the chart"
        } else {
            "kiln loads no schema over the network"
        };
        return Some(format!("failing loading {}: {why}", crate::gotmpl::fmt::quote(url)));
    }
    // A pointer whose escapes are not UTF-8 names nothing in Helm either.
    if let Some(rest) = error.strip_prefix("Invalid percent encoding in pointer '")
        && let Some((pointer, _)) = rest.split_once("': ")
    {
        let reference = local_ref(schema, &|fragment| fragment == pointer)?;
        return Some(format!("json-pointer in \"{BASE}{reference}\" not found"));
    }
    let quoted = |prefix: &str| {
        error.strip_prefix(prefix)?.strip_suffix("' does not exist").map(str::to_string)
    };
    if let Some(pointer) = quoted("Pointer '") {
        let reference = local_ref(schema, &|fragment| {
            fragment.starts_with('/')
                && super::refcycle::percent_decoded(fragment).as_deref() == Some(pointer.as_str())
        })?;
        return Some(format!("json-pointer in \"{BASE}{reference}\" not found"));
    }
    let anchor = quoted("Anchor '")?;
    let reference = local_ref(schema, &|fragment| fragment == anchor)?;
    Some(format!("anchor in \"{BASE}{reference}\" not found in schema \"{BASE}\""))
}

/// The first `$ref` to the schema's own document (`#...`) whose fragment `wanted` accepts.
fn local_ref(schema: &serde_json::Value, wanted: &dyn Fn(&str) -> bool) -> Option<String> {
    super::refcycle::schema_objects(schema).into_iter().find_map(|(_, node)| {
        let r = node.get("$ref")?.as_str()?;
        wanted(r.strip_prefix('#')?).then(|| r.to_string())
    })
}

/// Writes a `$schema` as the URL of the draft Helm's validator reads from
/// it (see [`super::metaschema::draft_of`]): a draft's URL with a fragment
/// or without its scheme names that draft, any other (charts often write
/// `http://json-schema.org/schema#`, or a `urn:`) the default, 2020-12.
fn normalize_meta_schema(schema: &mut serde_json::Value) {
    let draft = super::metaschema::draft_of(schema);
    if let Some(obj) = schema.as_object_mut()
        && obj.contains_key("$schema")
    {
        obj.insert("$schema".into(), super::metaschema::url_of(draft).into());
    }
}

/// A map of values as a JSON object (see [`to_json`]).
fn map_to_json(m: &Map) -> serde_json::Value {
    serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
}

/// Values as JSON; integral floats become integers so that `"type": "integer"` accepts them, as Go's validator does.
fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::Uint(u) => serde_json::Value::from(*u),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
            serde_json::Value::from(*f as i64)
        }
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Seq(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Map(m) => map_to_json(m),
    }
}

#[cfg(test)]
mod tests {
    use super::{Prepared, grouped, prepare, prepared};

    /// Documents Helm would read from the machine: its report names the
    /// loading failure (whose text depends on the machine: the file's
    /// content), so kiln names its own reason there instead of building
    /// nothing.
    #[test]
    fn a_ref_kiln_cannot_load_is_reported_as_helm_reports_a_failed_load() {
        let cases = [(
            r#"{"properties": {"a": {"$ref": "file:///etc/s.json#/x"}}}"#,
            r#"failing loading "file:///etc/s.json": kiln reads no file outside the chart"#,
        )];
        for (schema, want) in cases {
            match prepare(schema.as_bytes()) {
                Prepared::Report(report) => assert_eq!(report, want, "{schema}"),
                Prepared::Broken(e) => panic!("{schema}: not reported: {e}"),
                Prepared::Ready { .. } => panic!("{schema}: built"),
            }
        }
    }

    /// A document Helm downloads is one kiln does not fetch: it accepts
    /// any value there, and the rest of the schema still applies (drafts 4
    /// to 7 hide a `$ref`'s siblings, later drafts do not).
    #[test]
    fn a_remote_ref_accepts_any_value_and_the_rest_still_applies() {
        let valid = |schema: &str, values: serde_json::Value| match prepare(schema.as_bytes()) {
            Prepared::Ready { validator, .. } => validator.is_valid(&values),
            _ => panic!("{schema}: not built"),
        };
        let app_template = r#"{"$ref": "https://example.com/common/values.schema.json"}"#;
        assert!(valid(app_template, serde_json::json!({"anything": [1, "x"]})));
        let draft7 = r#"{"$schema": "http://json-schema.org/draft-07/schema#", "properties": {
            "c": {"$ref": "https://example.com/defs.json#/definitions/Container", "type": "string"},
            "n": {"type": "integer"}}}"#;
        assert!(valid(draft7, serde_json::json!({"c": {"image": "x"}, "n": 1})));
        assert!(!valid(draft7, serde_json::json!({"c": {}, "n": "one"})));
        let later =
            r#"{"properties": {"c": {"$ref": "http://example.com/d.json", "type": "string"}}}"#;
        assert!(valid(later, serde_json::json!({"c": "x"})));
        assert!(!valid(later, serde_json::json!({"c": 1})));
        // The schema's own `$id` and the drafts' documents are not remote.
        let own = r#"{"$id": "https://example.com/s.json", "definitions": {"p": {"type": "string"}},
            "properties": {"a": {"$ref": "https://example.com/s.json#/definitions/p"}}}"#;
        assert!(!valid(own, serde_json::json!({"a": 1})));
        let draft =
            r#"{"properties": {"a": {"$ref": "https://json-schema.org/draft/2020-12/schema"}}}"#;
        assert!(!valid(draft, serde_json::json!({"a": 1})));
    }

    #[test]
    fn references_resolve_against_the_base_as_rfc_3986_does() {
        let base = Some("http://h:1/a/b/root.json");
        let cases = [
            (base, "x.json", "http://h:1/a/b/x.json"),
            (base, "./x.json", "http://h:1/a/b/x.json"),
            (base, "../x.json", "http://h:1/a/x.json"),
            (base, "../../../x.json", "http://h:1/x.json"),
            (base, "/x.json", "http://h:1/x.json"),
            (base, "//other/x.json", "http://other/x.json"),
            (base, "https://o/x.json", "https://o/x.json"),
            (Some("http://h"), "x.json", "http://h/x.json"),
            (Some("urn:a"), "x.json", "urn:x.json"),
            (None, "x.json", "x.json"),
            (Some("dir/root.json"), "x.json", "x.json"),
        ];
        for (base, reference, want) in cases {
            assert_eq!(super::resolve_uri(base, reference), want, "{base:?} {reference}");
        }
    }

    #[test]
    fn a_schema_is_prepared_once_for_every_render() {
        let raw = br#"{"properties": {"kiln-prepared-once": {"type": "string"}}}"#;
        let first = prepared(raw);
        assert!(matches!(first.as_ref(), Prepared::Ready { .. }));
        assert!(std::sync::Arc::ptr_eq(&first, &prepared(raw)));
        // A schema that is no JSON is reported in Go's decoder words, once too.
        let broken = prepared(b"{");
        match broken.as_ref() {
            Prepared::Report(report) => {
                assert!(report.contains("unexpected EOF"), "{report}")
            }
            _ => panic!("a schema that is no JSON is not reported"),
        }
        assert!(std::sync::Arc::ptr_eq(&broken, &prepared(b"{")));
    }

    #[test]
    fn numbers_are_grouped_as_the_validator_prints_them() {
        let cases = [
            ("0", "0"),
            ("999", "999"),
            ("1000", "1,000"),
            ("65535", "65,535"),
            ("-1234567", "-1,234,567"),
            ("1234.5", "1,234.5"),
            ("0.25", "0.25"),
            ("1e+21", "1×10²¹"),
            ("-1.5e+21", "-1.5×10²¹"),
            ("1e-07", "1×10⁻⁰⁷"),
        ];
        for (input, want) in cases {
            assert_eq!(grouped(input), want, "{input}");
        }
    }
}
