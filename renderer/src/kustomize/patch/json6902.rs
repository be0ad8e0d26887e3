//! JSON 6902 patches (interim: add, remove, replace; the full implementation replaces this module).

use super::Error;
use crate::value::Value;

/// Applies a list of operations to `target`.
pub fn apply(target: &mut Value, ops: &Value) -> Result<(), Error> {
    let Value::Seq(ops) = ops else {
        return Err(Error::Invalid("expected a list of operations".into()));
    };
    for (index, op) in ops.iter().enumerate() {
        let name = op.get_path(&["op"]).and_then(Value::as_str).unwrap_or("").to_string();
        let path = op.get_path(&["path"]).and_then(Value::as_str).unwrap_or("").to_string();
        let fail = |m: &str| Error::Operation {
            index,
            op: name.clone(),
            path: path.clone(),
            message: m.to_string(),
        };
        let segs: Vec<String> =
            path.split('/').skip(1).map(|s| s.replace("~1", "/").replace("~0", "~")).collect();
        let Some((last, parents)) = segs.split_last() else { return Err(fail("empty path")) };
        let mut cur = &mut *target;
        for s in parents {
            cur = match cur {
                Value::Map(m) => m.get_mut(s).ok_or_else(|| fail("path does not exist"))?,
                Value::Seq(v) => {
                    let i: usize = s.parse().map_err(|_| fail("bad index"))?;
                    v.get_mut(i).ok_or_else(|| fail("index out of range"))?
                }
                _ => return Err(fail("path does not exist")),
            };
        }
        let value = op.get_path(&["value"]).cloned().unwrap_or(Value::Null);
        match (name.as_str(), cur) {
            ("add" | "replace", Value::Map(m)) => {
                m.insert(last.clone(), value);
            }
            ("add", Value::Seq(v)) => {
                let i = if last == "-" {
                    v.len()
                } else {
                    last.parse().map_err(|_| fail("bad index"))?
                };
                if i > v.len() {
                    return Err(fail("index out of range"));
                }
                v.insert(i, value);
            }
            ("replace", Value::Seq(v)) => {
                let i: usize = last.parse().map_err(|_| fail("bad index"))?;
                *v.get_mut(i).ok_or_else(|| fail("index out of range"))? = value;
            }
            ("remove", Value::Map(m)) => {
                m.shift_remove(last).ok_or_else(|| fail("path does not exist"))?;
            }
            ("remove", Value::Seq(v)) => {
                let i: usize = last.parse().map_err(|_| fail("bad index"))?;
                if i >= v.len() {
                    return Err(fail("index out of range"));
                }
                v.remove(i);
            }
            _ => return Err(fail("unsupported operation")),
        }
    }
    Ok(())
}
