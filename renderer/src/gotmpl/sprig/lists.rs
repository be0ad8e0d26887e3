//! Sprig's list functions: list, first/last/rest/initial, append/prepend/concat, uniq, without, has, slice, sortAlpha, until, seq.

use super::{
    deep_equal, def, i, is_empty, kind_for_error, list_of, str_list, strslice_list, to_int64,
};
use crate::gotmpl::{Elem, Funcs, List, Param, Value};

use Param::{Any, Int};

/// The most elements `until`, `untilStep` and `seq` produce; more is a runaway template.
const MAX_RANGE: i64 = 1 << 22;

/// Registers a list function and its `must` variant, which Sprig gives the same behaviour here.
fn both(
    f: &mut Funcs,
    name: &str,
    params: &[Param],
    variadic: Option<Param>,
    body: impl Fn(&[Value]) -> Result<Value, String> + Send + Sync + Clone + 'static,
) {
    def(f, name, params, variadic, body.clone());
    let must = format!("must{}{}", name[..1].to_uppercase(), &name[1..]);
    def(f, &must, params, variadic, body);
}

pub(super) fn register(f: &mut Funcs) {
    def(f, "list", &[], Some(Any), |a| Ok(Value::list(a.to_vec())));
    def(f, "tuple", &[], Some(Any), |a| Ok(Value::list(a.to_vec())));
    both(f, "first", &[Any], None, |a| {
        Ok(list_of(&a[0], "find first")?.first().cloned().unwrap_or(Value::Nil))
    });
    both(f, "last", &[Any], None, |a| {
        Ok(list_of(&a[0], "find last")?.last().cloned().unwrap_or(Value::Nil))
    });
    both(f, "rest", &[Any], None, |a| {
        let l = list_of(&a[0], "find rest")?;
        Ok(copy_or_nil(l, l.get(1..)))
    });
    both(f, "initial", &[Any], None, |a| {
        let l = list_of(&a[0], "find initial")?;
        Ok(copy_or_nil(l, l.get(..l.len().saturating_sub(1))))
    });
    // Sprig copies the list into one of its length, then appends: Go grows
    // the copy.
    let push = |a: &[Value]| {
        let mut l = list_of(&a[0], "push")?.to_vec();
        l.push(a[1].clone());
        let cap = crate::gotmpl::growth::grown_cap(l.len() - 1, l.len(), Elem::Any);
        Ok(Value::List(List::with_cap(Elem::Any, l, cap)))
    };
    both(f, "append", &[Any, Any], None, push);
    both(f, "push", &[Any, Any], None, push);
    both(f, "prepend", &[Any, Any], None, |a| {
        let mut l = vec![a[1].clone()];
        l.extend(list_of(&a[0], "prepend")?.iter().cloned());
        let cap = crate::gotmpl::growth::grown_cap(1, l.len(), Elem::Any);
        Ok(Value::List(List::with_cap(Elem::Any, l, cap)))
    });
    def(f, "concat", &[], Some(Any), |a| {
        let mut out = Vec::new();
        for l in a {
            match l {
                Value::List(items) => out.extend(items.iter().cloned()),
                Value::Nil | Value::Missing => return Err(super::NIL_KIND.to_string()),
                other => {
                    return Err(format!("Cannot concat type {} as list", kind_for_error(other)));
                }
            }
        }
        // Sprig appends to a nil slice, which stays nil when no list has items.
        if out.is_empty() {
            return Ok(Value::List(List::nil(Elem::Any)));
        }
        Ok(Value::List(List::appended(Elem::Any, out)))
    });
    both(f, "reverse", &[Any], None, |a| {
        Ok(Value::list(list_of(&a[0], "find reverse")?.iter().rev().cloned().collect()))
    });
    both(f, "uniq", &[Any], None, |a| {
        let mut out: Vec<Value> = Vec::new();
        for v in list_of(&a[0], "find uniq")? {
            if !out.iter().any(|o| deep_equal(o, v)) {
                out.push(v.clone());
            }
        }
        Ok(Value::List(List::appended(Elem::Any, out)))
    });
    both(f, "without", &[Any], Some(Any), |a| {
        let omit = &a[1..];
        let l = list_of(&a[0], "find without")?;
        // Sprig appends what it keeps to an empty slice: Go's growth sets the capacity.
        let kept = l.iter().filter(|v| !omit.iter().any(|o| deep_equal(o, v))).cloned().collect();
        Ok(Value::List(List::appended(Elem::Any, kept)))
    });
    both(f, "has", &[Any, Any], None, |a| {
        if a[1].is_nil() {
            return Ok(false.into());
        }
        let l = list_of(&a[1], "find has")?;
        Ok(l.iter().any(|v| deep_equal(v, &a[0])).into())
    });
    both(f, "compact", &[Any], None, |a| {
        let l = list_of(&a[0], "compact")?;
        let kept = l.iter().filter(|v| !is_empty(v)).cloned().collect();
        Ok(Value::List(List::appended(Elem::Any, kept)))
    });
    both(f, "slice", &[Any], Some(Any), |a| {
        if a[0].is_nil() {
            return Err(super::NIL_KIND.to_string());
        }
        let Value::List(l) = &a[0] else {
            return Err(format!(
                "list should be type of slice or array but {}",
                kind_for_error(&a[0])
            ));
        };
        if l.is_empty() {
            return Ok(Value::Nil);
        }
        let start = a.get(1).map_or(0, to_int64);
        let end = a.get(2).map_or(l.len() as i64, to_int64);
        // reflect's Slice checks against the capacity, so the spare
        // elements past the length are reachable.
        if start < 0 || end < start || end > l.cap() as i64 {
            return Err("reflect.Value.Slice: slice index out of bounds".to_string());
        }
        // Go's reflect slicing keeps the slice type.
        Ok(Value::List(l.subslice(start as usize, end as usize, l.cap())))
    });
    def(f, "sortAlpha", &[Any], None, |a| {
        match &a[0] {
            // strslice hands a `[]string` back as it is, so the sort reorders
            // the caller's slice in place.
            Value::List(l) if l.elem() == Elem::String => {
                l.sort_in_place(|x, y| x.as_str().cmp(&y.as_str()));
                Ok(a[0].clone())
            }
            Value::List(_) => Ok(strslice_list(&a[0], true)),
            Value::Struct(st) if st.as_list().is_some() => Ok(strslice_list(&a[0], true)),
            other => Ok(str_list(vec![super::strval(other)])),
        }
    });
    both(f, "chunk", &[Int, Any], None, |a| {
        let size = i(&a[0]);
        let l = match &a[1] {
            Value::List(_) | Value::Nil | Value::Missing => list_of(&a[1], "chunk")?,
            other => return Err(format!("Cannot chunk type {}", super::kind_for_error(other))),
        };
        // Sprig makes floor((len-1)/size)+1 chunks, the last of len mod size
        // items (size when that is 0). A zero size gives no count Go's make
        // takes; a size below -1 gives one chunk of the one item of a list of
        // one, a negative size no chunk for a list of 2 to 1-size items, and
        // else a negative count or chunk length, which make refuses.
        let refused = || Err("runtime error: makeslice: len out of range".to_string());
        let chunks = match (size, l.len() as i64) {
            (1.., _) => l.chunks(size as usize).map(|c| Value::list(c.to_vec())).collect(),
            (..=-2, 1) => vec![Value::list(l.to_vec())],
            (..=-1, n) if n >= 2 && n <= 1i64.saturating_sub(size) => Vec::new(),
            _ => return refused(),
        };
        Ok(Value::List(List::typed(Elem::AnyList, chunks)))
    });
    def(f, "until", &[Int], None, |a| {
        let n = i(&a[0]);
        ints(until_step(0, n, if n < 0 { -1 } else { 1 })?)
    });
    def(f, "untilStep", &[Int, Int, Int], None, |a| {
        ints(until_step(i(&a[0]), i(&a[1]), i(&a[2]))?)
    });
    def(f, "seq", &[], Some(Int), |a| {
        let p: Vec<i64> = a.iter().map(i).collect();
        let nums = match p.as_slice() {
            [end] => {
                let inc = if *end < 1 { -1 } else { 1 };
                until_step(1, end.saturating_add(inc), inc)?
            }
            [start, end] => {
                let step = if end < start { -1 } else { 1 };
                until_step(*start, end.saturating_add(step), step)?
            }
            [start, step, end] => {
                let inc = if end < start { -1 } else { 1 };
                if end < start && *step > 0 {
                    Vec::new()
                } else {
                    until_step(*start, end.saturating_add(inc), *step)?
                }
            }
            _ => Vec::new(),
        };
        let text: Vec<String> = nums.iter().map(i64::to_string).collect();
        Ok(text.join(" ").into())
    });
}

/// A `[]interface{}` copy of `part` of `list`; Sprig answers a nil slice for an empty `list`.
fn copy_or_nil(list: &[Value], part: Option<&[Value]>) -> Value {
    if list.is_empty() {
        return Value::List(List::nil(Elem::Any));
    }
    Value::list(part.unwrap_or_default().to_vec())
}

/// A `[]int`, as `until` and `untilStep` return.
fn ints(v: Vec<i64>) -> Result<Value, String> {
    Ok(Value::List(List::appended(Elem::Int, v.into_iter().map(Value::Int).collect())))
}

/// Sprig's `untilStep`, bounded.
fn until_step(start: i64, stop: i64, step: i64) -> Result<Vec<i64>, String> {
    let mut v = Vec::new();
    if (stop < start && step >= 0) || (stop >= start && step <= 0) {
        return Ok(v);
    }
    let span = (i128::from(stop) - i128::from(start)).unsigned_abs();
    if span / step.unsigned_abs() as u128 > MAX_RANGE as u128 {
        return Err(format!("more than {MAX_RANGE} elements"));
    }
    let mut x = start;
    while (step > 0 && x < stop) || (step < 0 && x > stop) {
        if v.len() as i64 >= MAX_RANGE {
            return Err(format!("more than {MAX_RANGE} elements"));
        }
        v.push(x);
        x = match x.checked_add(step) {
            Some(n) => n,
            None => break,
        };
    }
    Ok(v)
}
