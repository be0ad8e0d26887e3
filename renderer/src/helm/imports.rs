//! `import-values`: children's tables copied into their parents, with the sharing Go's maps give them.
//!
//! Helm builds the imported values from tables of the parent's merged values
//! without copying them: a Go map is a reference. When a later import lands
//! on a key an earlier one filled, Helm merges into the earlier table itself,
//! so the child's own values (and every other key that table was imported to)
//! change too. Two children imported under one parent key thus show each
//! other's keys in both places. This module reproduces that by merging on a
//! tree whose maps are shared ([`Node`]), then turns it back into values.

use std::cell::RefCell;
use std::rc::Rc;

use indexmap::IndexMap;

use super::Error;
use super::chart::Chart;
use super::values::{coalesce_tables, merge_with_defaults};
use crate::value::{Map, Value};

/// Deeper than this, the shared tree is taken to hold a cycle (Helm itself
/// recurses without end and crashes on such imports).
const MAX_DEPTH: usize = 1000;

/// A shared map, as a Go `map[string]interface{}` is shared.
type Table = Rc<RefCell<IndexMap<String, Node>>>;

/// A value whose maps are shared.
#[derive(Clone)]
enum Node {
    Table(Table),
    Leaf(Value),
}

fn share(v: Value) -> Node {
    match v {
        Value::Map(m) => Node::Table(share_map(m)),
        other => Node::Leaf(other),
    }
}

fn share_map(m: Map) -> Table {
    Rc::new(RefCell::new(m.into_iter().map(|(k, v)| (k, share(v))).collect()))
}

/// The plain values of a shared table; `None` if it contains itself.
fn unshare(t: &Table, depth: usize) -> Option<Map> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mut out = Map::new();
    for (k, v) in t.borrow().iter() {
        let v = match v {
            Node::Table(t) => Value::Map(unshare(t, depth + 1)?),
            Node::Leaf(v) => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    Some(out)
}

/// The table at a dotted `path`, shared, if every step is a map. Helm
/// splits at every dot: an empty segment (`a..b`, `.a`) looks up the key "".
fn table(root: &Table, path: &str) -> Option<Table> {
    let mut cur = root.clone();
    for seg in path.split('.') {
        let next = match cur.borrow().get(seg) {
            Some(Node::Table(t)) => t.clone(),
            _ => return None,
        };
        cur = next;
    }
    Some(cur)
}

/// `a.b` and a table as `{a: {b: table}}`; `.` as the table itself. Other
/// empty segments are keys "", as Helm makes them (`""` gives `{"": table}`).
fn path_to_map(path: &str, data: Table) -> Table {
    if path == "." {
        return data;
    }
    let mut cur = data;
    for seg in path.split('.').collect::<Vec<_>>().into_iter().rev() {
        let mut m = IndexMap::new();
        m.insert(seg.to_string(), Node::Table(cur));
        cur = Rc::new(RefCell::new(m));
    }
    cur
}

/// Helm's `MergeTables(dst, src)` on shared maps: `dst` wins; a key `dst`
/// lacks takes `src`'s value itself (not a copy); a null in `dst` is first
/// written into `src`, as Helm does. `Err` on a cycle.
fn merge(dst: &Table, src: &Table, depth: usize) -> Result<(), ()> {
    if Rc::ptr_eq(dst, src) {
        return Ok(());
    }
    if depth > MAX_DEPTH {
        return Err(());
    }
    let nulls: Vec<String> = dst
        .borrow()
        .iter()
        .filter(|(_, v)| matches!(v, Node::Leaf(Value::Null)))
        .map(|(k, _)| k.clone())
        .collect();
    for k in nulls {
        src.borrow_mut().insert(k, Node::Leaf(Value::Null));
    }
    let entries: Vec<(String, Node)> =
        src.borrow().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    for (k, v) in entries {
        let dv = dst.borrow().get(&k).cloned();
        match (dv, v) {
            (None, v) => {
                dst.borrow_mut().insert(k, v);
            }
            (Some(Node::Table(d)), Node::Table(s)) => merge(&d, &s, depth + 1)?,
            _ => {}
        }
    }
    Ok(())
}

/// Copies `import-values` from children into parents (children first); the parent's own values win.
pub fn import_values(chart: &mut Chart) -> Result<(), Error> {
    for sub in &mut chart.dependencies {
        import_values(sub)?;
    }
    if chart.requirements.is_empty() {
        return Ok(());
    }
    let cycle = || Error::Chart {
        path: chart.name.clone(),
        message: "import-values make the values contain themselves".into(),
    };
    let cvals = share_map(merge_with_defaults(chart, Map::new())?);
    let imported: Table = Rc::default();
    for r in &chart.requirements {
        let Some(Value::Seq(ivs)) = r.get_path(&["import-values"]) else { continue };
        // The requirement's name: its alias once dependencies were enabled.
        let name = r.get_path(&["name"]).and_then(Value::as_str).unwrap_or_default();
        for iv in ivs {
            let (child, parent) = match iv {
                Value::String(s) => (format!("exports.{s}"), ".".to_string()),
                Value::Map(m) => (
                    m.get("child").map(scalar).unwrap_or_default(),
                    m.get("parent").map(scalar).unwrap_or_default(),
                ),
                _ => continue,
            };
            let Some(t) = table(&cvals, &format!("{name}.{child}")) else { continue };
            // Helm's `Values.AsMap` hands out a new map for an empty table,
            // so an empty child table is imported unshared.
            let t = if t.borrow().is_empty() { Table::default() } else { t };
            merge(&imported, &path_to_map(&parent, t), 0).map_err(|()| cycle())?;
        }
    }
    // Helm replaces the chart's values by the merged defaults of the chart
    // and its subcharts (globals copied into each subchart's section)
    // before adding the imports, which fill only what those leave unset.
    // A user's `null` for a global thus no longer reaches the subcharts.
    let mut values = unshare(&cvals, 0).ok_or_else(cycle)?;
    coalesce_tables(&mut values, unshare(&imported, 0).ok_or_else(cycle)?, true);
    chart.values = values;
    Ok(())
}

/// An `import-values` field as Go's `%v` prints it.
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".into(),
        other => crate::yaml::helm_to_yaml(other),
    }
}
