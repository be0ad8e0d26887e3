//! Sprig's defaults and type functions: default, empty, coalesce, all, any, ternary, typeOf, kindOf, deepEqual.

use super::{deep_equal, def, is_empty, s};
use crate::gotmpl::{Funcs, Param, Value};

use Param::{Any, Bool, String as Str};

pub(super) fn register(f: &mut Funcs) {
    def(f, "default", &[Any], Some(Any), |a| {
        Ok(match a.get(1) {
            Some(given) if !is_empty(given) => given.clone(),
            _ => a[0].clone(),
        })
    });
    def(f, "empty", &[Any], None, |a| Ok(is_empty(&a[0]).into()));
    def(f, "coalesce", &[], Some(Any), |a| {
        Ok(a.iter().find(|v| !is_empty(v)).cloned().unwrap_or(Value::Nil))
    });
    def(f, "all", &[], Some(Any), |a| Ok(a.iter().all(|v| !is_empty(v)).into()));
    def(f, "any", &[], Some(Any), |a| Ok(a.iter().any(|v| !is_empty(v)).into()));
    def(f, "ternary", &[Any, Any, Bool], None, |a| {
        Ok(if a[2].is_true() { a[0].clone() } else { a[1].clone() })
    });
    def(f, "typeOf", &[Any], None, |a| Ok(a[0].type_name().into()));
    def(f, "typeIs", &[Str, Any], None, |a| Ok((s(&a[0]) == a[1].type_name()).into()));
    def(f, "typeIsLike", &[Str, Any], None, |a| {
        let t = a[1].type_name();
        Ok((s(&a[0]) == t || format!("*{}", s(&a[0])) == t).into())
    });
    def(f, "kindOf", &[Any], None, |a| Ok(a[0].kind_name().into()));
    def(f, "kindIs", &[Str, Any], None, |a| Ok((s(&a[0]) == a[1].kind_name()).into()));
    def(f, "deepEqual", &[Any, Any], None, |a| Ok(deep_equal(&a[0], &a[1]).into()));
    def(f, "fail", &[Str], None, |a| Err(s(&a[0]).to_string()));
    def(f, "hello", &[], None, |_| Ok("Hello!".into()));
}
