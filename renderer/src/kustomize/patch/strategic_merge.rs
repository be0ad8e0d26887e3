//! Strategic merge patch (interim: maps merge, `null` deletes, lists of
//! named maps merge by `name`, other lists replace; the full schema-driven
//! implementation replaces this module).

use super::Error;
use crate::resource::Gvk;
use crate::value::Value;

/// Applies `patch` to `target`; `None` when the patch deletes the object.
pub fn apply(target: &Value, patch: &Value, _gvk: &Gvk) -> Result<Option<Value>, Error> {
    if patch.get_path(&["$patch"]).and_then(Value::as_str) == Some("delete") {
        return Ok(None);
    }
    let mut out = target.clone();
    merge(&mut out, patch);
    Ok(Some(out))
}

fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Map(t), Value::Map(p)) => {
            for (k, v) in p {
                if k.starts_with('$') {
                    continue;
                }
                if v.is_null() {
                    t.shift_remove(k);
                } else if let Some(existing) = t.get_mut(k) {
                    merge(existing, v);
                } else {
                    t.insert(k.clone(), v.clone());
                }
            }
        }
        (Value::Seq(t), Value::Seq(p))
            if p.iter().all(|i| i.get_path(&["name"]).is_some()) && !p.is_empty() =>
        {
            for item in p {
                let name = item.get_path(&["name"]);
                match t.iter_mut().find(|e| e.get_path(&["name"]) == name) {
                    Some(existing) => merge(existing, item),
                    None => t.push(item.clone()),
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}
